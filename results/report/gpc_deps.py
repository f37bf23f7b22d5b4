"""Imports the Debian Python packages report/compare need, or exits 2 naming the package."""
import importlib
import sys

PACKAGES = {"numpy": "python3-numpy", "scipy": "python3-scipy", "matplotlib": "python3-matplotlib"}


def require(*modules):
    for module in modules:
        try:
            importlib.import_module(module)
        except ImportError:
            print(f"gpcbench: the Python module '{module}' is missing: install the Debian package "
                  f"{PACKAGES.get(module, 'python3-' + module)} (ci/install-deps installs it). gpcbench runs "
                  f"/usr/bin/python3, which sees Debian's packages; interpreter used: {sys.executable}",
                  file=sys.stderr)
            sys.exit(2)
