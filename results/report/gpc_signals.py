"""Stop signals and stdout errors for the report/compare scripts (issue 15, item 10).

`gpcbench report|compare` starts the script with SIGINT and SIGTERM blocked
(harness/matrix/python_tool.cpp) and forwards one stop signal to it. hold() installs the
handlers and keeps the signals blocked while the heavy imports run; run() unblocks them inside
a try, so a signal that arrived at any time becomes the exception Interrupted at a point
where the `with` blocks of gpc_output remove their temporary files. The script then prints one
line and exits 128 + the signal number (130 for SIGINT, 143 for SIGTERM): no
KeyboardInterrupt traceback. The same holds when the script is run by hand.
"""
import os
import signal
import sys

STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)


class Interrupted(BaseException):
    """A stop signal arrived. BaseException: no `except Exception` in the tools swallows it."""

    def __init__(self, signum):
        super().__init__(signum)
        self.signum = signum


def _on_stop(signum, _frame):
    for sig in STOP_SIGNALS:  # once: a second Ctrl-C must not interrupt the cleanup
        signal.signal(sig, signal.SIG_IGN)
    raise Interrupted(signum)


def hold():
    """Call before the heavy imports: handlers installed, stop signals held pending."""
    signal.pthread_sigmask(signal.SIG_BLOCK, set(STOP_SIGNALS))
    for sig in STOP_SIGNALS:
        signal.signal(sig, _on_stop)


class StdoutError(OSError):
    """Writing the printout failed (a full disk behind a redirect, a closed pipe)."""


class _GuardedStdout:
    """sys.stdout whose write errors are StdoutError, told apart from the tools' file errors."""

    def __init__(self, stream):
        self._stream = stream

    def write(self, text):
        try:
            return self._stream.write(text)
        except OSError as e:
            raise StdoutError(e.errno, e.strerror) from e

    def flush(self):
        try:
            self._stream.flush()
        except OSError as e:
            raise StdoutError(e.errno, e.strerror) from e

    def __getattr__(self, name):
        return getattr(self._stream, name)


def _stdout_failed(prog, e):
    """Reports a lost printout; stdout then points at /dev/null so the exit flush is quiet."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.__stdout__.fileno())
    os.close(devnull)
    print(f"{prog}: cannot write the output to stdout ({e.strerror}); the verdict was lost: redirect it "
          f"to a file on a filesystem with space, or to a reader that stays", file=sys.stderr)
    return 2


def run(prog, main, argv):
    """Runs main(argv) with stop signals delivered; returns the exit code for sys.exit."""
    sys.stdout = _GuardedStdout(sys.stdout)
    try:
        signal.pthread_sigmask(signal.SIG_UNBLOCK, set(STOP_SIGNALS))
        try:
            code = main(argv)
            sys.stdout.flush()
        finally:  # the work is done or abandoned: a later signal waits, it cannot cut the exit short
            signal.pthread_sigmask(signal.SIG_BLOCK, set(STOP_SIGNALS))
    except Interrupted as e:
        print(f"{prog}: interrupted by {signal.Signals(e.signum).name}; no partial output was left",
              file=sys.stderr)
        return 128 + e.signum
    except StdoutError as e:
        return _stdout_failed(prog, e)
    return code
