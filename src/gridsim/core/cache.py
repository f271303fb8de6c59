"""An on-disk cache of numpy arrays, keyed by what they were computed from.

Entries are ``.npz`` files named by the SHA-256 of their key (a JSON-able value that
includes ``CACHE_VERSION``), written atomically. The cache lives in ``$GRIDSIM_CACHE_DIR``
or ``~/.cache/gridsim``; ``GRIDSIM_CACHE_DIR=off`` turns it off.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

CACHE_VERSION = 1  # bump when a cached computation changes
Arrays = dict[str, np.ndarray]


def default_cache_dir() -> Path | None:
    """Return the cache folder from the environment (None: caching is off)."""
    configured = os.environ.get("GRIDSIM_CACHE_DIR")
    if configured is not None:
        return None if configured.strip().lower() in ("", "off", "0", "none") else Path(
            configured
        )
    return Path.home() / ".cache" / "gridsim"


def cache_key(*parts: Any) -> str:
    """Return the hex key of ``parts`` (JSON-able values)."""
    text = json.dumps([CACHE_VERSION, *parts], sort_keys=True, default=str)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


class ArrayCache:
    """Arrays computed once per key and kept on disk (or nowhere, when ``folder`` is None)."""

    def __init__(self, folder: Path | None) -> None:
        """Use ``folder`` (created on first write); None disables the cache."""
        self.folder = folder
        self.hits = 0
        self.misses = 0

    def get(self, kind: str, key: str, compute: Callable[[], Arrays]) -> Arrays:
        """Return the arrays stored under ``kind``/``key``, computing and storing on a miss."""
        if self.folder is None:
            self.misses += 1
            return compute()
        path = self.folder / f"{kind}-{key[:32]}.npz"
        if path.exists():
            try:
                with np.load(path, allow_pickle=False) as data:
                    arrays = {name: data[name] for name in data.files}
                self.hits += 1
                return arrays
            except (OSError, ValueError):
                path.unlink(missing_ok=True)  # a damaged entry: recompute it
        self.misses += 1
        arrays = compute()
        self._store(path, arrays)
        return arrays

    def _store(self, path: Path, arrays: Arrays) -> None:
        """Write ``arrays`` atomically; a cache that cannot be written is not an error."""
        tmp: str | None = None
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(prefix=f".{path.stem}.", suffix=".npz", dir=path.parent)
            with os.fdopen(fd, "wb") as handle:
                np.savez(handle, allow_pickle=False, **arrays)
            os.replace(tmp, path)
        except OSError:
            if tmp is not None:
                Path(tmp).unlink(missing_ok=True)
