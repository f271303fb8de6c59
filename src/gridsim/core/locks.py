"""One writer at a time in an output folder: an operating-system lock on a file in it.

The lock (``flock`` on POSIX, ``msvcrt.locking`` on Windows) belongs to the open file,
so the operating system releases it however the process ends (Ctrl-C, kill -9, a
crash): a lock file left behind holds no lock. The file is never deleted, since a
process could then lock a new file of that name while another still holds the old one.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from gridsim.core.errors import InputError

if sys.platform == "win32":
    import msvcrt

    def _try_lock(fd: int) -> bool:
        try:
            msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)
        except OSError:
            return False
        return True
else:
    import fcntl

    def _try_lock(fd: int) -> bool:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return False
        return True

_PID_BYTES = 32  # the holder's process id, written into the lock file


@contextmanager
def folder_lock(path: Path, command: str) -> Iterator[None]:
    """Hold an exclusive lock on the file ``path`` (created if need be) while in the block.

    Raises ``InputError`` (one line naming the holder's process id) when another process
    holds it, so a second ``command`` writing the same folder is refused at once.
    """
    try:
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o666)
    except OSError as exc:
        raise InputError(f"{path}: cannot create the lock file ({exc.strerror}); choose "
                         "another --out") from None
    try:
        try:
            locked = _try_lock(fd)
        except OSError as exc:  # a file system without locks (some network mounts)
            raise InputError(f"{path}: cannot lock the folder ({exc.strerror}); choose an "
                             "--out on a local disk") from None
        if not locked:
            raise InputError(f"--out {path.parent}: another 'gridsim {command}'"
                             f"{_holder(fd)} is writing into this folder; wait for it to "
                             "finish or choose another --out")
        try:
            os.ftruncate(fd, 0)
            os.lseek(fd, 0, os.SEEK_SET)
            os.write(fd, f"{os.getpid()}\n".encode())
        except OSError:
            pass  # the process id is only shown to a process that is refused
        yield
    finally:
        os.close(fd)  # releases the lock


def _holder(fd: int) -> str:
    """Return " (process N)" for the process holding the lock, or "" if unknown."""
    try:
        os.lseek(fd, 0, os.SEEK_SET)
        text = os.read(fd, _PID_BYTES).decode("ascii").strip()
    except (OSError, UnicodeDecodeError):
        return ""
    return f" (process {text})" if text.isdigit() else ""
