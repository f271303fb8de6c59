"""Outputs, written atomically and never over what gridsim did not write.

A results folder is staged in a temporary folder and swapped in, so a crash never leaves
it half-written. Every folder gridsim writes carries a manifest (``gridsim-output.json``)
naming the command and the files; an existing folder is replaced only when it is empty
or such a folder holding nothing else. A single output file (a report, a JSON table, a
figure) replaces an existing file only when that file carries gridsim's mark.
"""

from __future__ import annotations

import errno
import json
import os
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from gridsim.core.errors import InputError, OutputError
from gridsim.core.files import open_regular
from gridsim.core.version import __version__

Writer = Callable[[Path], None]
MANIFEST = "gridsim-output.json"
GENERATOR = f"gridsim {__version__}"
# what marks a single file as gridsim's, by format (JSON, HTML, PNG, JUnit XML)
_FILE_MARKS = (b'"generator": "gridsim', b'<meta name="generator" content="gridsim',
               b"Software\x00gridsim", b'<property name="generator" value="gridsim',
               b'"format": "gridsim-')
_MARK_SEARCH_BYTES = 65_536
_NAME_MAX_BYTES = 255  # the longest file name Linux, macOS and Windows file systems take
_STAGING_EXTRA_BYTES = 20  # ".NAME.old.XXXXXXXX" around a staged or replaced name


def check_output_folder(out_dir: Path, flag: str = "--out") -> None:
    """Raise ``InputError`` unless gridsim may (re)place ``out_dir`` and can write there.

    Allowed: a path that does not exist yet, an empty folder, or a folder gridsim wrote
    (its manifest names every entry). Checked before any simulation starts.
    """
    _check_usable(out_dir, flag)
    if out_dir.exists() or out_dir.is_symlink():
        if not out_dir.is_dir():
            raise InputError(f"{flag} {out_dir}: exists and is not a folder; choose another "
                             "path")
        foreign = _foreign_entries(out_dir)
        if foreign:
            raise InputError(
                f"{flag} {out_dir}: holds files gridsim did not write (e.g. {foreign[0]!r}) "
                "and would be replaced; choose a new or empty folder"
            )
    _check_writable(out_dir, flag)


def check_output_file(path: Path, flag: str) -> None:
    """Raise ``InputError`` unless gridsim may write ``path``: new, or a file gridsim wrote."""
    _check_usable(path, flag)
    if path.is_dir():
        raise InputError(f"{flag} {path}: is a folder; name a file instead")
    check_replaceable(path, "choose another file name", f"{flag} ")
    _check_writable(path, flag)


def check_replaceable(path: Path, fix: str, flag: str = "") -> None:
    """Raise ``InputError`` when ``path`` holds something gridsim did not write.

    Replaceable: nothing there, or a file carrying gridsim's mark. A folder, a link to
    nothing, or an unmarked file (the user's, or one the user edited) is refused.
    """
    if not (path.exists() or path.is_symlink()):
        return
    if path.is_dir():
        raise InputError(f"{flag}{path}: is a folder; {fix}")
    if not written_by_gridsim(path):
        raise InputError(f"{flag}{path}: exists and was not written by gridsim; {fix}")


def write_marked(path: Path, data: bytes, fix: str = "move it away, then run again") -> None:
    """Write ``data`` (a file carrying gridsim's mark) to ``path`` atomically.

    The one writer for a single file beside files a user may own: a file already at
    ``path`` is replaced only when it carries gridsim's mark (see ``check_replaceable``).
    """
    check_replaceable(path, fix)
    write_bytes_atomic(path, data)


def written_by_gridsim(path: Path) -> bool:
    """Return whether the file at ``path`` carries gridsim's mark near its start."""
    try:  # a FIFO or device named like an output is not gridsim's, and is not read
        with open_regular(path, "") as handle:
            head = handle.read(_MARK_SEARCH_BYTES)
    except (OSError, InputError):
        return False
    return any(mark in head for mark in _FILE_MARKS)


def read_manifest(folder: Path) -> dict[str, Any] | None:
    """Return the manifest of a folder gridsim wrote, or None when it has none."""
    try:
        manifest = json.loads((folder / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError):
        return None
    if (not isinstance(manifest, dict) or not str(manifest.get("generator", "")).startswith(
            "gridsim") or not isinstance(manifest.get("files"), list)):
        return None
    return manifest


def mark_folder(folder: Path, command: str, files: list[str]) -> None:
    """Create ``folder`` if needed and write its manifest: gridsim owns these ``files``."""
    write_text_atomic(folder / MANIFEST, _manifest_text(command, files))


def _manifest_text(command: str, files: list[str]) -> str:
    manifest = {"generator": GENERATOR, "command": command, "files": sorted(files)}
    return json.dumps(manifest, indent=2) + "\n"


def open_resumable_folder(folder: Path, command: str, noun: str, files: list[str],
                          manifest_text: str, what_differs: str) -> bool:
    """Prepare ``folder`` for a ``command`` that saves as it goes; True: it holds this job.

    The folder must be new, empty, or one ``command`` wrote holding nothing else; one
    holding another command's output, or a different job (its manifest text differs:
    ``what_differs`` says how), is refused with one ``InputError`` line.
    """
    check_output_folder(folder)
    owner = read_manifest(folder)
    if owner is not None and owner.get("command") != command:
        raise InputError(f"--out {folder}: holds the output of 'gridsim {owner.get('command')}'"
                         f", not a {noun}; choose another folder")
    mark_folder(folder, command, files)
    path = folder / "manifest.json"
    if path.exists():
        if path.read_text(encoding="utf-8") != manifest_text:
            raise InputError(f"{folder}: holds a different {noun} ({what_differs} differ); "
                             "use another --out or delete it")
        return True
    write_text_atomic(path, manifest_text)
    return False


def add_to_manifest(folder: Path, name: str) -> None:
    """Record that gridsim wrote ``name`` into ``folder`` (a folder with a manifest)."""
    manifest = read_manifest(folder)
    if manifest is None or name in manifest["files"]:
        return
    mark_folder(folder, str(manifest.get("command", "")), [*manifest["files"], name])


def write_folder(out_dir: Path, files: dict[str, Writer], command: str) -> None:
    """Write every file into a fresh temporary folder, then swap it in for ``out_dir``.

    ``command`` (e.g. ``"run"``) goes into the folder's manifest.
    """
    out_dir = out_dir.absolute()
    if out_dir.is_symlink() and out_dir.is_dir():  # the user's link stays: its folder is
        out_dir = out_dir.resolve()  # the one replaced
    check_output_folder(out_dir)
    try:
        out_dir.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise InputError(f"--out {out_dir}: cannot create the parent folder ({exc})") from None
    kept = ("the previous results are kept" if out_dir.exists() else "nothing was written")
    try:
        staging = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.", dir=out_dir.parent))
        os.chmod(staging, _permissions(0o777))  # mkdtemp makes it private; results are not
    except OSError as exc:
        raise not_written(out_dir, exc, kept) from None
    name = ""
    try:
        for name, write in files.items():
            write(staging / name)
        name = MANIFEST  # the staging folder is private: no need of a temporary twin
        (staging / MANIFEST).write_text(_manifest_text(command, list(files)), encoding="utf-8")
        name = ""
        _swap_in(staging, out_dir)
    except OSError as exc:
        shutil.rmtree(staging, ignore_errors=True)
        raise not_written(out_dir, exc, kept, name) from None
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise


def _swap_in(staging: Path, out_dir: Path) -> None:
    """Put the finished ``staging`` folder at ``out_dir`` (the old one back if that fails)."""
    old = None
    if out_dir.exists():
        old = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.old.", dir=out_dir.parent))
        os.replace(out_dir, old / "previous")
    try:
        os.replace(staging, out_dir)
    except BaseException:
        if old is not None:
            os.replace(old / "previous", out_dir)
            old.rmdir()
        raise
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


def not_written(path: Path, exc: OSError, kept: str, inner: str = "") -> OutputError:
    """Return the one-line error of an output the system refused (disk full, read-only...).

    ``kept`` says what is left as it was; ``inner`` names the file being written inside
    ``path`` when it failed.
    """
    code = exc.errno
    reason = (os.strerror(code) if code else "") or exc.strerror or str(exc).split(". ")[0]
    where = f" writing {inner}" if inner else ""
    if code in (errno.ENOSPC, getattr(errno, "EDQUOT", errno.ENOSPC), errno.EFBIG):
        fix = "free some space (or choose another path), then run again"
    elif code in (errno.EROFS, errno.EACCES, errno.EPERM):
        fix = "choose a path you can write, then run again"
    else:
        fix = "check the disk and the path, then run again"
    return OutputError(f"{path}: not written ({reason}{where}); {kept}; {fix}")


def write_text_atomic(path: Path, text: str) -> None:
    """Write ``text`` (UTF-8) to ``path`` through a temporary file and a rename."""
    write_bytes_atomic(path, text.encode("utf-8"))


def write_bytes_atomic(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` through a temporary file and a rename."""
    kept = ("the file there before is kept" if path.exists() else
            "no partial file was left")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    except OSError as exc:
        raise not_written(path, exc, kept) from None
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.chmod(tmp, _permissions(0o666))  # mkstemp makes it private
        os.replace(tmp, path)
    except OSError as exc:
        Path(tmp).unlink(missing_ok=True)
        raise not_written(path, exc, kept) from None
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def json_writer(payload: Any) -> Writer:
    """Return a writer of ``payload`` as indented JSON (key order as given)."""
    text = json.dumps(payload, indent=2, allow_nan=False) + "\n"

    def write(path: Path) -> None:
        path.write_text(text, encoding="utf-8")

    return write


def bytes_writer(data: bytes) -> Writer:
    """Return a writer of ``data`` as it is (a PNG, say)."""

    def write(path: Path) -> None:
        path.write_bytes(data)

    return write


def parquet_writer(columns: dict[str, Any]) -> Writer:
    """Return a writer of ``columns`` (numpy arrays or pyarrow arrays) as one Parquet file."""
    table = pa.table({
        name: value if isinstance(value, pa.Array) else pa.array(np.asarray(value))
        for name, value in columns.items()
    })
    return lambda path: pq.write_table(table, path, compression="zstd")


def parquet_bytes(table: pa.Table) -> bytes:
    """Return ``table`` as the bytes of one zstd-compressed Parquet file."""
    sink = pa.BufferOutputStream()
    pq.write_table(table, sink, compression="zstd")
    return bytes(sink.getvalue().to_pybytes())


def categorical(codes: np.ndarray, labels: tuple[str, ...] | list[str]) -> pa.DictionaryArray:
    """Return integer ``codes`` as a dictionary column of ``labels`` (negative: null)."""
    codes = np.asarray(codes, dtype=np.int32)
    return pa.DictionaryArray.from_arrays(
        pa.array(codes, mask=codes < 0), pa.array(list(labels), type=pa.string())
    )


def _foreign_entries(folder: Path) -> list[str]:
    """Return the entries of ``folder`` that no gridsim manifest there accounts for."""
    try:
        entries = sorted(entry.name for entry in folder.iterdir())
    except OSError as exc:
        raise InputError(f"--out {folder}: cannot list the folder ({exc}); choose another "
                         "path") from None
    manifest = read_manifest(folder)
    own = {MANIFEST, *manifest["files"]} if manifest is not None else set()
    # a crash may leave the temporary twin of an own file (".NAME.random"): also ours
    return [name for name in entries
            if name not in own and not any(name.startswith(f".{o}.") for o in own)]


def _check_usable(path: Path, flag: str) -> None:
    """Raise ``InputError`` when a name in ``path`` is too long to stage the output beside.

    Staging adds a dot and a random suffix to the last name (``_STAGING_EXTRA_BYTES``).
    """
    for part in path.absolute().parts:
        if len(os.fsencode(part)) > _NAME_MAX_BYTES - _STAGING_EXTRA_BYTES:
            raise InputError(f"{flag} {str(path)[:60]}...: a name in the path is over "
                             f"{_NAME_MAX_BYTES - _STAGING_EXTRA_BYTES} bytes; choose a "
                             "shorter one")


def _check_writable(path: Path, flag: str) -> None:
    """Raise ``InputError`` unless a file can be created beside ``path`` (tried for real)."""
    if path.is_dir() and not os.access(path, os.W_OK | os.X_OK):
        raise InputError(f"{flag} {path}: the folder is read-only; choose another path")
    parent = path.absolute().parent
    while not parent.exists() and parent != parent.parent:
        parent = parent.parent
    try:
        probe = tempfile.mkdtemp(prefix=".gridsim-probe.", dir=parent)
        os.rmdir(probe)
    except OSError as exc:
        reason = exc.strerror or type(exc).__name__
        raise InputError(f"{flag} {path}: cannot write in {parent} ({reason}); choose "
                         "another path") from None


def _permissions(base: int) -> int:
    """Return ``base`` less the process umask: the mode a plain ``open`` would give."""
    umask = os.umask(0)
    os.umask(umask)
    return base & ~umask
