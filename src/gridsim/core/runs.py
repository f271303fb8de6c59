"""The runs a resumable study (a sweep, a sensitivity analysis) saved in its ``runs/`` folder.

A study writes one small JSON file per finished run, named after its two numbers (e.g.
``arm0003-rep0007.json``), and on a rerun reads them back to skip those runs. What else
a ``runs/`` folder may hold after a crash or a user's hands is sorted out here:

- a run file of this study that is damaged (cut short, not JSON, a metric missing or not
  a number, too large): gridsim's own output, so the run is done again and replaces it;
- a file named like a run of a point this study does not have, or not named like a run
  at all (``arm0000-rep0000 (2).json``, notes): left as it is, with a warning;
- a crash's temporary twin of a run file (``.NAME.random``): ignored.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from gridsim.core.errors import InputError
from gridsim.core.executors import RunExecutor
from gridsim.core.files import read_regular
from gridsim.core.output import write_text_atomic

MAX_RUN_FILE_BYTES = 1e6  # a run file holds a few numbers: a few hundred bytes
SHOWN = 3  # file names quoted in a warning


@dataclass(frozen=True)
class SavedRuns:
    """The usable runs by their two numbers, and one warning line per kind of problem."""

    runs: dict[tuple[int, int], dict[str, float]]
    warnings: list[str] = field(default_factory=list)


def read_saved_runs(
    folder: Path, name_of: Callable[[int, int], str], expected: Collection[tuple[int, int]],
    metrics: Sequence[str], noun: str,
) -> SavedRuns:
    """Return the runs saved in ``folder`` (a study's ``runs/``) that can be used again.

    ``name_of(a, b)`` is the file name of run (a, b); ``expected`` the runs this study
    has; each file must give a number (or nan) for every one of ``metrics``. ``noun``
    names the study in warnings ("sweep"). A folder or device at a run's name is refused
    in one line: writing the run would fail on it.
    """
    runs: dict[tuple[int, int], dict[str, float]] = {}
    damaged: list[str] = []
    foreign: list[str] = []
    try:
        entries = sorted(folder.iterdir()) if folder.is_dir() else []
    except OSError as exc:
        raise InputError(f"{folder}: cannot list the folder ({exc.strerror}); check its "
                         "permissions") from None
    for path in entries:
        key = _run_key(path.name, name_of)
        if key is None or key not in expected:
            if not (path.name.startswith(".") and _run_key(_twin_of(path.name), name_of)):
                foreign.append(path.name)
            continue
        if path.is_dir() or (path.exists() and not path.is_file()):
            raise InputError(f"{path}: is not a file, and the {noun}'s run would be saved "
                             "there; move it away, then rerun")
        values = _read_run(path, metrics)
        if values is None:
            damaged.append(path.name)
        else:
            runs[key] = values
    warnings = []
    if damaged:
        warnings.append(f"{folder}: {len(damaged)} saved run file(s) are damaged "
                        f"({_names(damaged)}); running them again")
    if foreign:
        warnings.append(f"{folder}: {len(foreign)} file(s) are not runs of this {noun} "
                        f"({_names(foreign)}); left as they are")
    return SavedRuns(runs=runs, warnings=warnings)


def _run_key(name: str, name_of: Callable[[int, int], str]) -> tuple[int, int] | None:
    """Return the two numbers of a run file's name; None unless it is exactly such a name."""
    numbers = re.findall(r"\d+", name)
    if len(numbers) != 2:
        return None
    key = (int(numbers[0]), int(numbers[1]))
    return key if name_of(*key) == name else None


def _twin_of(name: str) -> str:
    """Return the name whose temporary twin ``name`` would be (``.NAME.random``)."""
    return name[1:].rpartition(".")[0]


def _read_run(path: Path, metrics: Sequence[str]) -> dict[str, float] | None:
    """Return a run file's metrics; None when it is damaged in any way."""
    try:
        data = json.loads(read_regular(path, "", MAX_RUN_FILE_BYTES))
    except (InputError, ValueError, RecursionError):
        return None
    if not isinstance(data, dict):
        return None
    values = {}
    for metric in metrics:
        value = data.get(metric)
        if isinstance(value, bool) or not isinstance(value, int | float):
            return None
        try:
            values[metric] = float(value)
        except OverflowError:  # a whole number beyond any float
            return None
    return values


def _names(names: list[str]) -> str:
    shown = ", ".join(repr(n) for n in names[:SHOWN])
    return shown + (", ..." if len(names) > SHOWN else "")


RunKey = tuple[int, int]  # (arm or point, replication)


def run_and_save(executor: RunExecutor, task: Callable[[Any], dict[str, float]],
                 jobs: Sequence[Any], key: Callable[[Any], RunKey],
                 done: dict[RunKey, dict[str, float]], total: int, folder: Path | None,
                 name_of: Callable[[int, int], str],
                 on_progress: Callable[[int, int], None] | None) -> None:
    """Run ``jobs`` on ``executor``, adding each result to ``done`` as it finishes.

    Each finished run is saved at once as ``folder/runs/name_of(*key(job))`` (no folder:
    nothing saved), so an interrupted study resumes where it stopped; ``on_progress``
    is told (runs done, ``total``) before the first and after each.
    """
    if on_progress is not None:
        on_progress(len(done), total)
    for job, values in executor.map_unordered(task, jobs):
        done[key(job)] = values
        if folder is not None:
            write_text_atomic(folder / "runs" / name_of(*key(job)), json.dumps(values))
        if on_progress is not None:
            on_progress(len(done), total)
