"""Sweeps: a scenario run over the cartesian product of settings, with replications.

Every arm runs the same replication seeds (spawned from one root seed), so the arms see
the same incidents (common random numbers) and differ only by their settings. Each run
is saved as it finishes (``runs/`` in the output folder), so an interrupted sweep loses
only the runs in flight and rerunning the same command resumes it. The final tables are
sorted by arm, replication and metric: they do not depend on the executor.
"""

from __future__ import annotations

import itertools
import json
import math
import re
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa

from gridsim.analysis.metrics import summary_value
from gridsim.api import run
from gridsim.core.errors import InputError
from gridsim.core.executors import RunExecutor, SerialExecutor
from gridsim.core.output import (
    open_resumable_folder,
    parquet_bytes,
    write_bytes_atomic,
)
from gridsim.core.runs import read_saved_runs, run_and_save
from gridsim.core.stats import mean_ci
from gridsim.scenario.guard import check_resources
from gridsim.scenario.load import parse_override_value, parse_scenario, read_scenario_text
from gridsim.studies.experiment import run_seeds
from gridsim.world.build import WORLDS

SWEEP_METRICS = (
    "first_arrival_s.p50", "first_arrival_s.p90", "police_arrival_s.p50",
    "police_arrival_s.p90", "answered_share", "local_before_police_share",
    "patrol_utilisation", "community_police_utilisation",
    "volunteer_alerts_per_volunteer.mean",
)
CI_LEVEL = 0.95
_SPLIT_VALUES = re.compile(r",(?![^\[]*\])")  # commas not inside [ ... ]
SWEEP_FILES = ["manifest.json", "runs", "sweep.parquet", "summary.parquet", "sweep.png"]
MAX_ARMS = 10_000  # an arm takes about 2 ms to check: 20 s; beyond, a sensitivity study
CHECK_REPORT_EVERY = 100  # arms checked between progress reports


@dataclass(frozen=True)
class Job:
    """One run of a sweep: an arm's settings and one replication's seed."""

    arm: int
    replication: int
    seed: int
    overrides: tuple[str, ...]
    scenario_text: str
    source: str


@dataclass(frozen=True, eq=False)
class SweepResult:
    """A finished sweep: the tidy table (arm x replication x metric) and its summary."""

    table: pa.Table
    summary: pa.Table
    folder: Path | None


def parse_sweeps(specs: list[str]) -> list[tuple[str, list[str]]]:
    """Return ``key=v1,v2,...`` specs as (key, [TOML value texts]), in order."""
    sweeps = []
    for spec in specs:
        key, sep, values = spec.partition("=")
        texts = [v.strip() for v in _SPLIT_VALUES.split(values)] if sep else []
        if not key.strip() or not texts or not all(texts):
            raise InputError(f"--set {spec!r}: expected key.path=value1,value2,... e.g. "
                             "volunteers.count=0,20000,73000")
        sweeps.append((key.strip(), texts))
    return sweeps


def expand(sweeps: list[tuple[str, list[str]]]) -> list[tuple[tuple[str, str], ...]]:
    """Return every arm: the cartesian product of the swept values, first key slowest."""
    keys = [key for key, _ in sweeps]
    return [tuple(zip(keys, combo, strict=True))
            for combo in itertools.product(*(values for _, values in sweeps))]


def run_job(job: Job) -> dict[str, float]:
    """Return the sweep metrics of one run (a top-level function, so workers can run it)."""
    scenario = parse_scenario(job.scenario_text, job.source, job.overrides)
    summary = run(scenario, seed=job.seed, world=WORLDS.get(scenario)).summary
    return {metric: summary_value(summary, metric) for metric in SWEEP_METRICS}


def sweep(
    scenario_text: str,
    source: str,
    base_overrides: list[str],
    sweeps: list[tuple[str, list[str]]],
    replications: int,
    root_seed: int,
    executor: RunExecutor,
    folder: Path | None = None,
    on_progress: Callable[[int, int], None] | None = None,
    on_warning: Callable[[str], None] | None = None,
    on_check: Callable[[int, int], None] | None = None,
) -> SweepResult:
    """Run every arm x replication not already saved in ``folder``; return the tables.

    ``on_warning`` hears of files in ``folder/runs`` that are damaged (run again) or
    not this sweep's (left alone); by default they are Python warnings. ``on_check``
    hears (arms checked, arms) while the arms are checked, before any run.
    """
    count = math.prod(len(values) for _, values in sweeps)
    if count > MAX_ARMS:
        raise InputError(
            f"--set: {' x '.join(f'{len(v):,}' for _, v in sweeps)} = {count:,} arms, more "
            f"than {MAX_ARMS:,} (each checked before any run, {replications:,} runs each); "
            "sweep fewer values at a time (several sweeps, each into its own --out), or rank "
            "many settings with gridsim sensitivity")
    arms = expand(sweeps)
    for k, settings in enumerate(arms):  # each arm a valid scenario that fits, before any run
        check_resources(parse_scenario(scenario_text, source,
                                       [*base_overrides, *_overrides(settings)]))
        if on_check is not None and (k + 1) % CHECK_REPORT_EVERY == 0:
            on_check(k + 1, len(arms))
    seeds = run_seeds(parse_scenario(scenario_text, source, base_overrides), root_seed,
                      replications)
    manifest = {
        "scenario_source": source, "scenario_text": scenario_text,
        "base_overrides": base_overrides, "sweeps": sweeps,
        "replications": replications, "root_seed": root_seed, "metrics": SWEEP_METRICS,
    }
    expected = {(arm, rep) for arm in range(len(arms)) for rep in range(replications)}
    done = _open_folder(folder, manifest, expected, on_warning) if folder is not None else {}
    jobs = [
        Job(arm, rep, seeds[rep], (*base_overrides, *_overrides(settings)), scenario_text,
            source)
        for arm, settings in enumerate(arms) for rep in range(replications)
        if (arm, rep) not in done
    ]
    run_and_save(executor, run_job, jobs, lambda job: (job.arm, job.replication), done,
                 len(arms) * replications, folder, run_name, on_progress)
    table = _tidy_table(arms, seeds, done)
    summary = summarize_sweep(table, [key for key, _ in sweeps])
    if folder is not None:
        write_bytes_atomic(folder / "sweep.parquet", parquet_bytes(table))
        write_bytes_atomic(folder / "summary.parquet", parquet_bytes(summary))
    return SweepResult(table=table, summary=summary, folder=folder)


def summarize_sweep(table: pa.Table, keys: list[str]) -> pa.Table:
    """Return one row per arm x metric: n, mean and a 95% t interval over replications."""
    arm = table.column("arm").to_numpy()
    metric = np.array(table.column("metric").to_pylist())
    value = table.column("value").to_numpy()
    rows: dict[str, list[Any]] = {"arm": [], **{k: [] for k in keys}, "metric": [],
                                  "n": [], "mean": [], "ci_low": [], "ci_high": []}
    settings = {k: table.column(k).to_pylist() for k in keys}
    for a in np.unique(arm):
        first = int(np.flatnonzero(arm == a)[0])
        for m in SWEEP_METRICS:
            sample = value[(arm == a) & (metric == m)]
            sample = sample[np.isfinite(sample)]
            n = sample.shape[0]
            mean, half = mean_ci(sample, CI_LEVEL)
            rows["arm"].append(int(a))
            for k in keys:
                rows[k].append(settings[k][first])
            rows["metric"].append(m)
            rows["n"].append(n)
            rows["mean"].append(mean)
            rows["ci_low"].append(mean - half)
            rows["ci_high"].append(mean + half)
    types = {k: table.schema.field(k).type for k in keys}  # the settings keep their types
    return pa.table({name: pa.array(values, type=types.get(name))
                     for name, values in rows.items()})


def replications_needed(n: int, half_width: float, wanted_half_width: float) -> int:
    """Return about how many replications bring a CI half-width down to the wanted one."""
    if not np.isfinite(half_width) or wanted_half_width <= 0:
        return n
    return max(n, int(np.ceil(n * (half_width / wanted_half_width) ** 2)))


def _overrides(settings: tuple[tuple[str, str], ...]) -> list[str]:
    return [f"{key}={value}" for key, value in settings]


def run_name(arm: int, replication: int) -> str:
    """Return the file name (in ``runs/``) of one run of a sweep."""
    return f"arm{arm:04d}-rep{replication:04d}.json"


def _open_folder(folder: Path, manifest: dict[str, Any], expected: set[tuple[int, int]],
                 on_warning: Callable[[str], None] | None) -> dict[tuple[int, int], Any]:
    """Return the runs already saved in ``folder`` for this very sweep."""
    open_resumable_folder(folder, "sweep", "sweep", SWEEP_FILES,
                          json.dumps(manifest, indent=2, default=list),
                          "scenario, settings, replications or seed")
    saved = read_saved_runs(folder / "runs", run_name, expected, SWEEP_METRICS, "sweep")
    for line in saved.warnings:
        if on_warning is None:
            warnings.warn(line, stacklevel=3)
        else:
            on_warning(line)
    return dict(saved.runs)


def _tidy_table(
    arms: list[tuple[tuple[str, str], ...]], seeds: list[int],
    done: dict[tuple[int, int], dict[str, float]],
) -> pa.Table:
    columns: dict[str, list[Any]] = {"arm": [], "replication": [], "seed": []}
    keys = [key for key, _ in arms[0]] if arms else []
    # each setting column typed from all of its swept values (the same type for any runs)
    typed = [setting_values([arm[i][1] for arm in arms]) for i in range(len(keys))]
    columns.update({key: [] for key in keys})
    columns.update({"metric": [], "value": []})
    for (arm, rep) in sorted(done):
        for metric in SWEEP_METRICS:
            columns["arm"].append(arm)
            columns["replication"].append(rep)
            columns["seed"].append(seeds[rep])
            for key, (_, values) in zip(keys, typed, strict=True):
                columns[key].append(values[arm])
            columns["metric"].append(metric)
            columns["value"].append(float(done[(arm, rep)][metric]))
    types = {key: kind for key, (kind, _) in zip(keys, typed, strict=True)}
    types.update({"arm": pa.int64(), "replication": pa.int64(), "seed": pa.int64(),
                  "metric": pa.string(), "value": pa.float64()})
    return pa.table({name: pa.array(values, type=types[name])
                     for name, values in columns.items()})


def setting_values(texts: list[str]) -> tuple[pa.DataType, list[Any]]:
    """Return swept values (TOML value texts) as a column type and typed values.

    All whole numbers: int64; all numbers: float64; all booleans: bool; otherwise the
    texts themselves as strings (arrays, tables, text).
    """
    values = [parse_override_value(text) for text in texts]
    if values and all(isinstance(v, bool) for v in values):
        return pa.bool_(), values
    if values and not any(isinstance(v, bool) for v in values):
        if all(isinstance(v, int) for v in values):
            return pa.int64(), values
        if all(isinstance(v, int | float) for v in values):
            return pa.float64(), [float(v) for v in values]
    return pa.string(), list(texts)


def run_sweep(
    scenario: str | Path | None,
    settings: dict[str, list[Any]],
    replications: int = 10,
    seed: int | None = None,
    overrides: list[str] | None = None,
    executor: RunExecutor | None = None,
    out: str | Path | None = None,
) -> SweepResult:
    """Return a sweep of ``scenario`` (a TOML path; None: the default) over ``settings``.

    ``settings`` maps key paths to lists of values, e.g.
    ``{"volunteers.count": [0, 20000], "dispatch.volunteer_radius_m": [300, 500]}``.
    Runs in this process unless an executor is given; results are saved in ``out``.
    """
    text, source = read_scenario_text(scenario)
    base = list(overrides or [])
    root = seed if seed is not None else parse_scenario(text, source, base).seed
    sweeps = [(key, [json.dumps(v) for v in values]) for key, values in settings.items()]
    own = executor is None
    runner = SerialExecutor() if executor is None else executor
    try:
        return sweep(text, source, base, sweeps, replications, root, runner,
                     None if out is None else Path(out))
    finally:
        if own:
            runner.close()
