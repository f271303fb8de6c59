"""Input files opened safely: regular files only, never a device, FIFO or folder.

Reading ``/dev/zero`` would never end and opening a FIFO waits for a writer, so a path is
checked before it is opened (opening some devices has effects of its own) and the open
descriptor again (the path may have changed in between). A file larger than its kind
ever needs is refused before it is read.
"""

from __future__ import annotations

import os
import stat
import tomllib
from pathlib import Path
from typing import Any, BinaryIO

from gridsim.core.errors import InputError

_KINDS = ((stat.S_ISDIR, "a folder"), (stat.S_ISFIFO, "a FIFO (named pipe)"),
          (stat.S_ISCHR, "a character device"), (stat.S_ISBLK, "a block device"),
          (stat.S_ISSOCK, "a socket"))


def check_regular(path: str | Path, missing: str) -> int:
    """Return the size in bytes of the regular file at ``path``; raise ``InputError`` else.

    ``missing`` ends the message when there is no such file (e.g. "check city.osm.path").
    """
    try:
        info = os.stat(path)
    except FileNotFoundError:
        raise InputError(f"{path}: file not found; {missing}") from None
    except OSError as exc:
        raise InputError(f"{path}: cannot read ({_reason(exc)}); {missing}") from None
    _require_regular(path, info.st_mode, missing)
    return int(info.st_size)


def open_regular(path: str | Path, missing: str, max_bytes: float | None = None) -> BinaryIO:
    """Return the regular file at ``path`` open for binary reading; raise ``InputError`` else.

    Refused: a missing path, a folder, device, FIFO or socket, or (given ``max_bytes``) a
    file larger than that.
    """
    size = check_regular(path, missing)
    _check_size(path, size, max_bytes)
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0)
    try:
        fd = os.open(path, flags)
    except OSError as exc:
        raise InputError(f"{path}: cannot read ({_reason(exc)}); {missing}") from None
    try:
        info = os.fstat(fd)
        _require_regular(path, info.st_mode, missing)  # swapped since the check above
        _check_size(path, info.st_size, max_bytes)
        os.set_blocking(fd, True)
        return os.fdopen(fd, "rb")
    except BaseException:
        os.close(fd)
        raise


def read_regular(path: str | Path, missing: str, max_bytes: float) -> bytes:
    """Return the bytes of the regular file at ``path`` (at most ``max_bytes`` of them)."""
    with open_regular(path, missing, max_bytes) as handle:
        try:
            return handle.read()
        except OSError as exc:
            raise InputError(f"{path}: cannot read ({_reason(exc)}); {missing}") from None



def read_text(path: str | Path, missing: str, max_bytes: float) -> str:
    """Return the UTF-8 text of the regular file at ``path``; raise ``InputError`` else."""
    data = read_regular(path, missing, max_bytes)  # never a device or FIFO: never blocks
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InputError(f"{path}: cannot read file ({exc})") from None


def read_toml(path: str | Path, missing: str, max_bytes: float) -> dict[str, Any]:
    """Return the TOML table of the regular file at ``path``; raise ``InputError`` else."""
    try:
        return tomllib.loads(read_text(path, missing, max_bytes))
    except tomllib.TOMLDecodeError as exc:
        raise InputError(f"{path}: invalid TOML: {exc}") from None
    except RecursionError:
        raise InputError(f"{path}: invalid TOML: nested too deeply; flatten it") from None

def _require_regular(path: str | Path, mode: int, missing: str) -> None:
    if stat.S_ISREG(mode):
        return
    kind = next((name for test, name in _KINDS if test(mode)), "not a file")
    raise InputError(f"{path}: is {kind}, not a regular file; {missing}")


def _check_size(path: str | Path, size: int, max_bytes: float | None) -> None:
    if max_bytes is not None and size > max_bytes:
        raise InputError(f"{path}: {size / 1e6:,.0f} MB, larger than such a file can be "
                         f"({max_bytes / 1e6:,.0f} MB at most); is it the right file?")


def _reason(exc: OSError) -> str:
    return exc.strerror or type(exc).__name__
