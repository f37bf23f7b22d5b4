"""Writing the files of report and compare so that a failure leaves nothing half-written
(issue 15, items 2 and 17).

Each output is written to a temporary file in its own directory (".NAME.XXXX.tmp"), flushed
to disk, and renamed over NAME only when every file of the batch was written: a full disk,
an unwritable directory or a stop signal leaves the previous report as it was and no temporary
behind. A path that exists and is not a regular file (a directory, device, FIFO or symlink) is
never replaced: renaming over /dev/null as root would turn the device into a file.
"""
import os
import signal
import stat
import tempfile

STOP_SIGNALS = {signal.SIGINT, signal.SIGTERM}


class OutputError(Exception):
    """An output cannot be written; the message names the path, the problem and the fix."""


def _what(mode):
    if stat.S_ISDIR(mode):
        return "a directory"
    if stat.S_ISLNK(mode):
        return "a symbolic link"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    if stat.S_ISFIFO(mode):
        return "a FIFO"
    if stat.S_ISSOCK(mode):
        return "a socket"
    return "not a regular file"


def check_target(path, option="the output"):
    """Refuses, before any work, a path that cannot be written or must not be replaced."""
    if not path:
        raise OutputError(f"{option} is an empty path; give a file name")
    parent = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(parent):
        why = "does not exist" if not os.path.lexists(parent) else "is not a directory"
        raise OutputError(f"{option} {path}: the directory {parent} {why}; create it or choose another path")
    if not os.access(parent, os.W_OK | os.X_OK):
        raise OutputError(f"{option} {path}: cannot create files in {parent} (permission denied); choose a "
                          f"writable directory")
    try:
        mode = os.lstat(path).st_mode
    except FileNotFoundError:
        return
    except OSError as e:
        raise OutputError(f"{option} {path}: {e.strerror}") from e
    if not stat.S_ISREG(mode):
        raise OutputError(f"{option} {path} is {_what(mode)}; refusing to replace it: give a regular file path")


def _umask():
    mask = os.umask(0)
    os.umask(mask)
    return mask


def _error(path, e):
    name = {28: "ENOSPC", 27: "EFBIG", 13: "EACCES", 30: "EROFS", 122: "EDQUOT"}.get(e.errno, "")
    hint = "free space on that filesystem" if e.errno in (28, 27, 122) else "fix the directory"
    return OutputError(f"cannot write {path}: {e.strerror}{f' ({name})' if name else ''}; nothing was "
                       f"replaced: {hint} and run again")


class Batch:
    """Files replaced together: add() writes temporaries, commit() renames them all.
    Used as a context manager, any exception (also a stop signal) removes the temporaries."""

    def __init__(self):
        self._pending = []  # (temporary path, final path)
        self.committed = []

    def add(self, path, data):
        check_target(path)
        if isinstance(data, str):
            data = data.encode("utf-8")
        directory = os.path.dirname(os.path.abspath(path))
        try:
            fd, tmp = tempfile.mkstemp(dir=directory, prefix=f".{os.path.basename(path)}.", suffix=".tmp")
        except OSError as e:
            raise _error(path, e) from e
        self._pending.append((tmp, path))
        try:
            with os.fdopen(fd, "wb") as f:
                f.write(data)
                f.flush()
                os.fchmod(f.fileno(), 0o666 & ~_umask())
                os.fsync(f.fileno())  # a full disk may only say so here (delayed allocation)
        except OSError as e:
            raise _error(path, e) from e

    def commit(self):
        # No stop signal between the renames: the batch lands whole or (on error) not at all.
        old = signal.pthread_sigmask(signal.SIG_BLOCK, STOP_SIGNALS)
        try:
            for tmp, path in self._pending:
                check_target(path)  # it may have changed while we rendered
            for tmp, path in self._pending:
                try:
                    os.replace(tmp, path)
                except OSError as e:
                    raise _error(path, e) from e
                self.committed.append(path)
            self._pending = []
        finally:
            signal.pthread_sigmask(signal.SIG_SETMASK, old)

    def discard(self):
        for tmp, _ in self._pending:
            try:
                os.unlink(tmp)
            except OSError:  # already gone, or the directory turned read-only: nothing more to do
                pass
        self._pending = []

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.discard()
        return False
