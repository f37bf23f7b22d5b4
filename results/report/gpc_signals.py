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


def _flush_stdout(prog):
    """A write error on stdout (a full disk, a closed pipe) is an error, not a lost verdict."""
    try:
        sys.stdout.flush()
        return None
    except OSError as e:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())  # so the interpreter's exit flush does not fail again
        os.close(devnull)
        print(f"{prog}: cannot write the output to stdout ({e.strerror}); nothing is lost but the printout: "
              f"redirect it to a file with space", file=sys.stderr)
        return 2


def run(prog, main, argv):
    """Runs main(argv) with stop signals delivered; returns the exit code for sys.exit."""
    try:
        signal.pthread_sigmask(signal.SIG_UNBLOCK, set(STOP_SIGNALS))
        try:
            code = main(argv)
        finally:  # the work is done or abandoned: a later signal waits, it cannot cut the exit short
            signal.pthread_sigmask(signal.SIG_BLOCK, set(STOP_SIGNALS))
    except Interrupted as e:
        print(f"{prog}: interrupted by {signal.Signals(e.signum).name}; no partial output was left",
              file=sys.stderr)
        return 128 + e.signum
    except BrokenPipeError:
        code = 2
        print(f"{prog}: the reader of stdout went away (broken pipe)", file=sys.stderr)
    failed = _flush_stdout(prog)
    return failed if failed and code == 0 else code
