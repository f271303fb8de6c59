"""Results folders, written atomically: a crash never leaves a half-written file or folder."""

from __future__ import annotations

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

from gridsim.errors import InputError

Writer = Callable[[Path], None]


def write_folder(out_dir: Path, files: dict[str, Writer]) -> None:
    """Write every file into a fresh temporary folder, then swap it in for ``out_dir``."""
    out_dir = out_dir.resolve()
    try:
        out_dir.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise InputError(f"--out {out_dir}: cannot create the parent folder ({exc})") from None
    if out_dir.exists() and not out_dir.is_dir():
        raise InputError(f"--out {out_dir}: exists and is not a folder; choose another path")
    staging = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.", dir=out_dir.parent))
    os.chmod(staging, _permissions(0o777))  # mkdtemp makes it private; results are not
    try:
        for name, write in files.items():
            write(staging / name)
        old = None
        if out_dir.exists():
            old = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.old.", dir=out_dir.parent))
            os.replace(out_dir, old / "previous")
        os.replace(staging, out_dir)
        if old is not None:
            shutil.rmtree(old)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise


def write_text_atomic(path: Path, text: str) -> None:
    """Write ``text`` (UTF-8) to ``path`` through a temporary file and a rename."""
    write_bytes_atomic(path, text.encode("utf-8"))


def write_bytes_atomic(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` through a temporary file and a rename."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    except OSError as exc:
        raise InputError(f"{path}: cannot write here ({exc}); choose another path") from None
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.chmod(tmp, _permissions(0o666))  # mkstemp makes it private
        os.replace(tmp, path)
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


def categorical(codes: np.ndarray, labels: tuple[str, ...] | list[str]) -> pa.DictionaryArray:
    """Return integer ``codes`` as a dictionary column of ``labels`` (negative: null)."""
    codes = np.asarray(codes, dtype=np.int32)
    return pa.DictionaryArray.from_arrays(
        pa.array(codes, mask=codes < 0), pa.array(list(labels), type=pa.string())
    )


def _permissions(base: int) -> int:
    """Return ``base`` less the process umask: the mode a plain ``open`` would give."""
    umask = os.umask(0)
    os.umask(umask)
    return base & ~umask
