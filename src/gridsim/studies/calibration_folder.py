"""A calibration's output folder: one writer at a time, the checkpoint, pyabc's database.

One process at a time writes a calibration's folder: an operating-system lock on
``calibrate.lock``, which the system releases however the process ends; a second
process is refused in one line. Each finished sampling task is appended to
``checkpoint.jsonl`` as it arrives (:class:`gridsim.studies.abc_sampler.TaskJournal`),
and a rerun replays the calibration from the start, reading those tasks back instead of
simulating them, so an interrupted calibration, however it ended (Ctrl-C, kill -9, a full
disk), finishes with the files an uninterrupted one writes. pyabc's database is built
anew in ``.abc.db.partial`` on every run and becomes ``abc.db`` when the calibration is
done, so a crash never leaves a database to repair.
"""

from __future__ import annotations

import errno
import json
import os
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from gridsim.core.errors import InputError
from gridsim.core.locks import folder_lock
from gridsim.core.output import (
    check_output_folder,
    mark_folder,
    open_resumable_folder,
    read_manifest,
)

DATABASE, WORKING_DATABASE = "abc.db", ".abc.db.partial"  # done, being built
CHECKPOINT, LOCK = "checkpoint.jsonl", "calibrate.lock"
SQLITE_SIDECARS = ("-journal", "-wal", "-shm")  # SQLite's files beside a database
CALIBRATE_FILES = ["manifest.json", CHECKPOINT, LOCK, "posterior.parquet",
                   "predictive.parquet", "calibration.json", "calibrated.toml",
                   "predictive.png", *(db + suffix for db in (DATABASE, WORKING_DATABASE)
                                       for suffix in ("", *SQLITE_SIDECARS))]
DISK_FULL = (errno.ENOSPC, errno.EDQUOT, errno.EFBIG)  # no room (or quota) left to write


@contextmanager
def own_folder(folder: Path, manifest: dict[str, Any]) -> Iterator[bool]:
    """Hold ``folder`` for this calibration; yield whether it already holds this one.

    The folder must be new, empty, or a calibration's; another command's output, another
    calibration, or a folder another process is writing is refused with one
    ``InputError`` line. The lock is taken before the folder's manifest is compared or
    written, so two calibrations started at once cannot both go on.
    """
    check_output_folder(folder)
    owner = read_manifest(folder)
    if owner is not None and owner.get("command") != "calibrate":
        raise InputError(f"--out {folder}: holds the output of 'gridsim {owner.get('command')}'"
                         ", not a calibration; choose another folder")
    mark_folder(folder, "calibrate", CALIBRATE_FILES)  # the lock file is gridsim's
    with folder_lock(folder / LOCK, "calibrate"):
        yield open_resumable_folder(folder, "calibrate", "calibration", CALIBRATE_FILES,
                                    json.dumps(manifest, indent=2, sort_keys=True),
                                    "scenario, targets or seed")


def fresh_database(folder: Path) -> Path:
    """Return the path pyabc's database is built at, after deleting what a crash left."""
    path = folder / WORKING_DATABASE
    _remove_database(path, also_itself=True)
    return path


def install_database(folder: Path) -> None:
    """Make the finished working database ``abc.db`` (replacing the previous one)."""
    _remove_database(folder / DATABASE, also_itself=False)  # a stale journal of the old one
    os.replace(folder / WORKING_DATABASE, folder / DATABASE)


def _remove_database(path: Path, also_itself: bool) -> None:
    """Delete the files SQLite keeps beside the database at ``path`` (and it, if asked)."""
    for suffix in ("", *SQLITE_SIDECARS) if also_itself else SQLITE_SIDECARS:
        path.with_name(path.name + suffix).unlink(missing_ok=True)


def write_error(path: Path, exc: OSError) -> InputError:
    """Return the one-line error for a failed write into a calibration's folder."""
    full = exc.errno in DISK_FULL
    return InputError(f"{path}: cannot write ({exc.strerror}); "
                      f"{'free some disk space' if full else 'fix the folder'} and rerun the "
                      "same command to go on (the finished simulations are kept)")


def database_error(path: Path, exc: BaseException) -> InputError:
    """Return the one-line error for a failure of pyabc's database at ``path``."""
    reason: BaseException | None = exc
    while reason is not None and not isinstance(reason, sqlite3.Error):
        reason = reason.__cause__ or reason.__context__
    text = (str(reason if reason is not None else exc).splitlines() or ["failed"])[0]
    return InputError(f"{path}: {text}; {'free some disk space and ' if 'full' in text else ''}"
                      "rerun the same command to go on (the finished simulations are kept)")
