"""Global sensitivity: which settings move the headline metrics, and by how much.

Two methods, both from SALib (Herman and Usher 2017; Iwanaga, Usher and Herman 2022):

- **Morris screening** (elementary effects; Morris 1991, with mu* from Campolongo,
  Cariboni and Saltelli 2007) for many settings at little cost: N trajectories of D + 1
  points on a 4-level grid over each range, each step moving one setting by 2/3 of its
  range. mu* (the mean absolute effect, in the metric's units per full range of the
  setting) ranks the settings, with a bootstrap CI; sigma (the spread of the effects)
  flags interactions and non-linearity.
- **Sobol' indices** (Saltelli et al. 2010: Saltelli's sampling on a scrambled Sobol'
  sequence, and their estimators) for a few settings: S1 (the share of the metric's
  variance due to the setting alone) and ST (with all its interactions), with bootstrap
  CIs; N base samples cost N (D + 2) points.

Whole-number settings (counts) are rounded before they go into the scenario: Morris
levels round to the nearest whole number; Sobol' draws over [LOW - 0.5, HIGH + 0.5] and
rounds, so every whole number of the range is equally likely. Every point runs the same
replication seeds (common random numbers), and a point's metric is the mean over its
replications. As in a sweep, each run is saved in ``runs/`` as it finishes, so rerunning
the same command resumes, and the tables do not depend on the executor.
"""

from __future__ import annotations

import copy
import hashlib
import json
import math
import re
import tomllib
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
from pydantic import ValidationError

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
from gridsim.scenario.guard import check_resources
from gridsim.scenario.load import apply_override, parse_scenario, read_scenario_text
from gridsim.scenario.schema import Scenario
from gridsim.studies.experiment import run_seeds
from gridsim.world.build import WORLDS

# the headline metrics (gridsim.analysis.metrics.summary_value paths); counts are per year, so
# they compare across durations
SENSITIVITY_METRICS = (
    "first_arrival_s.p90", "police_arrival_s.p90", "outcomes.per_year.rescued",
    "outcomes.per_year.assisted_by_volunteers", "mediation.settled_per_year",
)
METHODS = ("morris", "sobol")
DEFAULT_TRAJECTORIES = 10  # Morris
DEFAULT_SAMPLES = 64  # Sobol' base samples (a power of two)
MORRIS_LEVELS = 4
CI_LEVEL = 0.95
BOOTSTRAP_RESAMPLES = 1000
INDICES = {"morris": ("mu_star", "mu", "sigma"), "sobol": ("S1", "ST")}
IMPORTANCE = {"morris": "mu_star", "sobol": "ST"}  # what ranks the settings
NON_NEGATIVE = ("mu_star",)  # a mean of absolute values: its CI is cut at 0
SENSITIVITY_FILES = ["manifest.json", "runs", "samples.parquet", "indices.parquet",
                     "sensitivity.png"]
_VARY = re.compile(r"^\s*([^=\s]+)\s*=\s*([^:]+):(.+)$")
_RESERVED = ("point", "block", "replication", "seed")  # columns of samples.parquet


@dataclass(frozen=True)
class Factor:
    """A setting varied over ``[low, high]``; ``integer`` for whole-number settings."""

    key: str
    low: float
    high: float
    integer: bool

    def bounds(self, method: str) -> list[float]:
        """Return the range SALib samples (whole numbers: widened by 0.5 for Sobol')."""
        if self.integer and method == "sobol":
            return [self.low - 0.5, self.high + 0.5]
        return [self.low, self.high]

    def value(self, x: float) -> int | float:
        """Return the sampled ``x`` as the setting's value (whole numbers rounded)."""
        if self.integer:
            return int(min(max(math.floor(x + 0.5), self.low), self.high))
        return float(x)


@dataclass(frozen=True)
class PointJob:
    """One run of a sensitivity design: a point's settings and one replication's seed."""

    point: int
    replication: int
    seed: int
    overrides: tuple[str, ...]
    scenario_text: str
    source: str
    metrics: tuple[str, ...]


@dataclass(frozen=True, eq=False)
class SensitivityResult:
    """A finished analysis: the runs (``samples``) and the indices with their CIs."""

    method: str
    factors: tuple[Factor, ...]
    metrics: tuple[str, ...]
    samples: pa.Table  # one row per point x replication: settings, then metrics
    indices: pa.Table  # metric x parameter x index: value, conf, ci_low, ci_high, rank, n
    blocks: int  # Morris trajectories or Sobol' base samples in the design
    folder: Path | None


def parse_factor(text: str, scenario: Scenario) -> Factor:
    """Return ``KEY=LOW:HIGH`` as a Factor; the key must name a number in ``scenario``."""
    match = _VARY.match(text)
    if match is None:
        raise InputError(f"--vary {text!r}: expected KEY=LOW:HIGH, e.g. "
                         "police.patrol_units=12:36")
    key, low_text, high_text = match.groups()
    try:
        low, high = float(low_text), float(high_text)
    except ValueError:
        raise InputError(f"--vary {text!r}: LOW and HIGH must be numbers, e.g. "
                         "police.patrol_units=12:36") from None
    if key in _RESERVED:
        raise InputError(f"--vary {text!r}: {key} is not a setting to vary (run seeds come "
                         "from --seed)")
    value = _setting(scenario, key, text)
    if isinstance(value, dict):
        inside = [k for k, v in value.items() if _is_number(v)]
        example = f", e.g. {key}.{inside[0]}" if inside else ""
        raise InputError(f"--vary {text!r}: {key} is a table; name a number in it{example}")
    if not _is_number(value):
        raise InputError(f"--vary {text!r}: {key} is not a number (it is "
                         f"{json.dumps(value, default=str)}); vary numeric settings")
    if not (math.isfinite(low) and math.isfinite(high)) or low >= high:
        raise InputError(f"--vary {text!r}: need LOW < HIGH, both finite")
    integer = isinstance(value, int)
    if integer and not (low.is_integer() and high.is_integer()):
        raise InputError(f"--vary {text!r}: {key} is a whole number; give whole LOW:HIGH")
    return Factor(key, low, high, integer)


def parse_factors(texts: Sequence[str], scenario: Scenario) -> tuple[Factor, ...]:
    """Return every ``--vary`` as a Factor; at least one, each key once."""
    factors = tuple(parse_factor(text, scenario) for text in texts)
    if not factors:
        raise InputError("sensitivity: give at least one --vary KEY=LOW:HIGH")
    keys = [f.key for f in factors]
    twice = sorted({k for k in keys if keys.count(k) > 1})
    if twice:
        raise InputError(f"--vary {twice[0]}: given twice; vary each setting once")
    return factors


def _setting(scenario: Scenario, key: str, text: str) -> Any:
    """Return the value at ``key`` in ``scenario`` (defaults included), or InputError."""
    value: Any = scenario.model_dump()
    parts = key.split(".")
    for depth, part in enumerate(parts):
        where = ".".join(parts[:depth])
        if value is None:
            raise InputError(f"--vary {text!r}: {where} is off in this scenario; add its "
                             "section to the scenario first")
        if not isinstance(value, dict) or part not in value:
            has = (f"; {where or 'the top level'} has {', '.join(sorted(value))}"
                   if isinstance(value, dict) and value else "")
            raise InputError(f"--vary {text!r}: {key} is not a setting of this scenario{has}")
        value = value[part]
    return value


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def design_size(method: str, trajectories: int | None, samples: int | None) -> int:
    """Return the design's size (Morris trajectories or Sobol' base samples), checked."""
    if method not in METHODS:
        raise InputError(f"--method {method!r}: choose one of {', '.join(METHODS)}")
    if method == "morris":
        if samples is not None:
            raise InputError("--samples is for --method sobol; Morris takes --trajectories")
        size = DEFAULT_TRAJECTORIES if trajectories is None else trajectories
        if size < 2:
            raise InputError(f"--trajectories {size}: need at least 2 (for sigma and the CIs)")
        return size
    if trajectories is not None:
        raise InputError("--trajectories is for --method morris; Sobol' takes --samples")
    size = DEFAULT_SAMPLES if samples is None else samples
    if size < 2 or size & (size - 1):
        raise InputError(f"--samples {size}: Sobol' sampling needs a power of two (at least "
                         "2), e.g. 64 or 128")
    return size


def sample_matrix(factors: Sequence[Factor], method: str, size: int, seed: int) -> np.ndarray:
    """Return SALib's design: one row per point, one column per factor (float64)."""
    problem = _problem(factors, method)
    if method == "morris":
        from SALib.sample import morris

        return np.asarray(morris.sample(problem, size, num_levels=MORRIS_LEVELS, seed=seed),
                          dtype=float)
    from SALib.sample import sobol

    return np.asarray(sobol.sample(problem, size, calc_second_order=False, seed=seed),
                      dtype=float)


def _problem(factors: Sequence[Factor], method: str) -> dict[str, Any]:
    return {"num_vars": len(factors), "names": [f.key for f in factors],
            "bounds": [f.bounds(method) for f in factors]}


def block_size(method: str, factors: int) -> int:
    """Return the points per Morris trajectory (D + 1) or per Sobol' base sample (D + 2)."""
    return factors + 1 if method == "morris" else factors + 2


def point_overrides(factors: Sequence[Factor], values: Sequence[int | float]) -> list[str]:
    """Return a point's settings as ``--set`` overrides (floats exactly, by repr)."""
    return [f"{f.key}={v!r}" for f, v in zip(factors, values, strict=True)]


def check_points(scenario_text: str, source: str, base_overrides: Sequence[str],
                 factors: Sequence[Factor], points: list[list[int | float]]) -> None:
    """Raise ``InputError`` unless every point is a valid scenario that fits this machine."""
    try:
        data = tomllib.loads(scenario_text)
    except tomllib.TOMLDecodeError:
        data = None  # parse_scenario says what is wrong below
    for values in points:
        overrides = [*base_overrides, *point_overrides(factors, values)]
        try:
            if data is None:
                raise ValueError
            raw = copy.deepcopy(data)
            for override in overrides:
                apply_override(raw, override)
            scenario = Scenario.model_validate(raw)
        except (ValueError, ValidationError):  # the same check again, for its one line
            try:
                scenario = parse_scenario(scenario_text, source, overrides)
            except InputError as exc:
                at = ", ".join(f"{f.key}={v}" for f, v in zip(factors, values, strict=True))
                raise InputError(f"--vary: the point {at} is not a valid scenario ({exc}); "
                                 "narrow the range") from None
        check_resources(scenario)


def run_point(job: PointJob) -> dict[str, float]:
    """Return the metrics of one run (a top-level function, so workers can run it)."""
    scenario = parse_scenario(job.scenario_text, job.source, job.overrides)
    summary = run(scenario, seed=job.seed, world=WORLDS.get(scenario)).summary
    return {metric: _metric(summary, metric) for metric in job.metrics}


def _metric(summary: dict[str, Any], metric: str) -> float:
    """Return a summary value; nan when this run has none (e.g. a priority never drawn)."""
    try:
        return summary_value(summary, metric)
    except (KeyError, TypeError, ValueError):
        return math.nan


def check_metrics(scenario_text: str, source: str, base_overrides: Sequence[str],
                  metrics: Sequence[str], seed: int) -> None:
    """Raise ``InputError`` for a metric that is not a number of a run's summary.

    Metrics other than the defaults are looked up in a short run (at most a day) of the
    base scenario, before anything is written.
    """
    unknown = [m for m in metrics if m not in SENSITIVITY_METRICS]
    if not unknown:
        return
    base = parse_scenario(scenario_text, source, base_overrides)
    probe = parse_scenario(scenario_text, source, [
        *base_overrides, f"duration_days={min(base.duration_days, 1.0)!r}", "warmup_hours=0"])
    summary = run(probe, seed=seed, world=WORLDS.get(probe)).summary
    for metric in unknown:
        try:
            summary_value(summary, metric)
        except KeyError:
            if metric.startswith("by_priority."):  # a priority shows only once drawn
                continue
            raise InputError(f"--metric {metric}: not in a run's summary (see summary.json "
                             f"of gridsim run); e.g. {', '.join(SENSITIVITY_METRICS[:3])}"
                             ) from None
        except (TypeError, ValueError):
            raise InputError(f"--metric {metric}: names a table, not a number; e.g. "
                             f"{metric}.p90 or {metric}.mean") from None


def sensitivity(
    scenario_text: str,
    source: str,
    base_overrides: list[str],
    factors: Sequence[Factor],
    method: str,
    size: int,
    metrics: Sequence[str],
    replications: int,
    root_seed: int,
    executor: RunExecutor,
    folder: Path | None = None,
    on_progress: Callable[[int, int], None] | None = None,
    on_warning: Callable[[str], None] | None = None,
) -> SensitivityResult:
    """Run every point x replication not already saved in ``folder``; return the tables.

    ``on_warning`` hears of files in ``folder/runs`` that are damaged (run again) or
    not this analysis's (left alone); by default they are Python warnings.
    """
    factors, metrics = tuple(factors), tuple(metrics)
    base = parse_scenario(scenario_text, source, base_overrides)  # its own errors first
    size = design_size(method, size if method == "morris" else None,
                       size if method == "sobol" else None)
    if replications < 1:
        raise InputError(f"--replications {replications}: need at least 1")
    if not metrics or len(set(metrics)) != len(metrics):
        raise InputError("--metric: give each metric once")
    clash = sorted({f.key for f in factors} & set(metrics))
    if clash:
        raise InputError(f"--metric {clash[0]}: also a --vary key; its column would clash")
    x = sample_matrix(factors, method, size, root_seed)
    points = [[f.value(v) for f, v in zip(factors, row, strict=True)] for row in x]
    check_points(scenario_text, source, base_overrides, factors, points)
    check_metrics(scenario_text, source, base_overrides, metrics, root_seed)
    seeds = run_seeds(base, root_seed, replications)
    manifest = {
        "scenario_source": source, "scenario_text": scenario_text,
        "base_overrides": base_overrides, "method": method, "size": size,
        "factors": [[f.key, f.low, f.high, "integer" if f.integer else "float"]
                    for f in factors],
        "replications": replications, "root_seed": root_seed, "metrics": metrics,
        "samples_sha256": hashlib.sha256(np.ascontiguousarray(x).tobytes()).hexdigest(),
    }
    expected = {(p, rep) for p in range(len(points)) for rep in range(replications)}
    done = (_open_folder(folder, manifest, expected, metrics, on_warning)
            if folder is not None else {})
    jobs = [
        PointJob(p, rep, seeds[rep], (*base_overrides, *point_overrides(factors, values)),
                 scenario_text, source, metrics)
        for p, values in enumerate(points) for rep in range(replications)
        if (p, rep) not in done
    ]
    run_and_save(executor, run_point, jobs, lambda job: (job.point, job.replication), done,
                 len(points) * replications, folder, run_name, on_progress)
    means = {m: _point_means(done, m, len(points), replications) for m in metrics}
    indices = analyse(method, factors, x, means, root_seed)
    samples = _samples_table(method, factors, points, seeds, metrics, done)
    if folder is not None:
        write_bytes_atomic(folder / "samples.parquet", parquet_bytes(samples))
        write_bytes_atomic(folder / "indices.parquet", parquet_bytes(indices))
    return SensitivityResult(method=method, factors=factors, metrics=metrics, samples=samples,
                             indices=indices, blocks=len(points) // block_size(
                                 method, len(factors)), folder=folder)


def _point_means(done: dict[tuple[int, int], dict[str, float]], metric: str, points: int,
                 replications: int) -> np.ndarray:
    """Return each point's mean of ``metric`` over its replications (nan: none had one)."""
    values = np.array([[done[(p, r)][metric] for r in range(replications)]
                       for p in range(points)], dtype=float).reshape(points, replications)
    finite = np.isfinite(values)
    count = finite.sum(axis=1)
    total = np.where(finite, values, 0.0).sum(axis=1)
    return np.where(count > 0, total / np.maximum(count, 1), np.nan)


def analyse(method: str, factors: Sequence[Factor], x: np.ndarray,
            means: dict[str, np.ndarray], seed: int) -> pa.Table:
    """Return the indices of each metric: one row per metric x parameter x index.

    ``conf`` is SALib's bootstrap half-width and the CI is value -/+ conf, except that
    mu*'s is cut at 0. A Morris trajectory or Sobol' base sample with a point where the
    metric has no value (no run had one) is left out; ``n`` says how many were used.
    """
    problem = _problem(factors, method)
    block = block_size(method, len(factors))
    names = INDICES[method]
    columns: dict[str, list[Any]] = {k: [] for k in (
        "metric", "parameter", "index", "value", "conf", "ci_low", "ci_high", "rank", "n")}
    for metric, y in means.items():
        per_block = y.reshape(-1, block)
        keep = np.isfinite(per_block).all(axis=1)
        n = int(keep.sum())
        found = _salib_indices(method, problem, x.reshape(-1, block, len(factors))[keep],
                               per_block[keep], seed) if n >= 2 else {}
        nan = np.full(len(factors), np.nan)
        value = {name: found.get(name, nan) for name in names}
        conf = {name: found.get(f"{name}_conf") for name in names}
        ranks = _ranks(value[IMPORTANCE[method]])
        for i in sorted(range(len(factors)), key=lambda i: (ranks[i], i)):
            rank = ranks[i]
            for name in names:
                v, spread = float(value[name][i]), conf[name]
                half = None if spread is None else float(spread[i])
                columns["metric"].append(metric)
                columns["parameter"].append(factors[i].key)
                columns["index"].append(name)
                columns["value"].append(v)
                columns["conf"].append(half)
                low = None if half is None else v - half
                if low is not None and name in NON_NEGATIVE:
                    low = max(low, 0.0)
                columns["ci_low"].append(low)
                columns["ci_high"].append(None if half is None else v + half)
                columns["rank"].append(rank)
                columns["n"].append(n)
    types = {"metric": pa.string(), "parameter": pa.string(), "index": pa.string(),
             "rank": pa.int64(), "n": pa.int64()}
    return pa.table({name: pa.array(values, type=types.get(name, pa.float64()))
                     for name, values in columns.items()})


def _ranks(importance: np.ndarray) -> list[int]:
    """Return 1 for the largest, ties sharing the better rank; nan ranks last."""
    finite = np.where(np.isfinite(importance), importance, -np.inf)
    return [1 + int((finite > v).sum()) if np.isfinite(v) else 1 + int(np.isfinite(finite).sum())
            for v in finite]


def _salib_indices(method: str, problem: dict[str, Any], x: np.ndarray, y: np.ndarray,
                   seed: int) -> dict[str, np.ndarray]:
    """Return SALib's indices (and ``*_conf`` half-widths) as float arrays."""
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")  # a constant metric divides by a zero variance
        if method == "morris":
            from SALib.analyze import morris

            found = morris.analyze(problem, x.reshape(-1, x.shape[-1]), y.ravel(),
                                   num_resamples=BOOTSTRAP_RESAMPLES, conf_level=CI_LEVEL,
                                   num_levels=MORRIS_LEVELS, seed=seed)
        else:
            from SALib.analyze import sobol

            found = sobol.analyze(problem, y.ravel(), calc_second_order=False,
                                  num_resamples=BOOTSTRAP_RESAMPLES, conf_level=CI_LEVEL,
                                  seed=seed)
    return {name: np.asarray(np.ma.filled(np.ma.asarray(found[name], dtype=float), np.nan),
                             dtype=float)
            for name in found if name != "names"}


def _samples_table(method: str, factors: Sequence[Factor], points: list[list[int | float]],
                   seeds: list[int], metrics: Sequence[str],
                   done: dict[tuple[int, int], dict[str, float]]) -> pa.Table:
    """Return one row per point x replication: the settings (typed), then the metrics."""
    block = block_size(method, len(factors))
    keys = sorted(done)
    columns: dict[str, pa.Array] = {
        "point": pa.array([p for p, _ in keys], type=pa.int64()),
        "block": pa.array([p // block for p, _ in keys], type=pa.int64()),
        "replication": pa.array([r for _, r in keys], type=pa.int64()),
        "seed": pa.array([seeds[r] for _, r in keys], type=pa.int64()),
    }
    for i, f in enumerate(factors):
        columns[f.key] = pa.array([points[p][i] for p, _ in keys],
                                  type=pa.int64() if f.integer else pa.float64())
    for metric in metrics:
        columns[metric] = pa.array([float(done[k][metric]) for k in keys], type=pa.float64())
    return pa.table(columns)


def run_name(point: int, replication: int) -> str:
    """Return the file name (in ``runs/``) of one run of a sensitivity analysis."""
    return f"point{point:06d}-rep{replication:04d}.json"


def _open_folder(folder: Path, manifest: dict[str, Any], expected: set[tuple[int, int]],
                 metrics: Sequence[str], on_warning: Callable[[str], None] | None
                 ) -> dict[tuple[int, int], Any]:
    """Return the runs already saved in ``folder`` for this very analysis."""
    open_resumable_folder(folder, "sensitivity", "sensitivity analysis", SENSITIVITY_FILES,
                          json.dumps(manifest, indent=2, default=list),
                          "scenario, --vary, method, size, metrics, replications or seed")
    saved = read_saved_runs(folder / "runs", run_name, expected, metrics,
                            "sensitivity analysis")
    for line in saved.warnings:
        if on_warning is None:
            warnings.warn(line, stacklevel=3)
        else:
            on_warning(line)
    return dict(saved.runs)


def run_sensitivity(
    scenario: str | Path | None,
    vary: dict[str, tuple[float, float]],
    method: str = "morris",
    trajectories: int | None = None,
    samples: int | None = None,
    metrics: Sequence[str] | None = None,
    replications: int = 1,
    seed: int | None = None,
    overrides: list[str] | None = None,
    executor: RunExecutor | None = None,
    out: str | Path | None = None,
) -> SensitivityResult:
    """Return a Morris or Sobol' analysis of ``scenario`` (a TOML path; None: the default).

    ``vary`` maps key paths to ranges, e.g. ``{"police.patrol_units": (12, 36),
    "volunteers.acceptance_prob": (0.2, 0.7)}``; ``trajectories`` (Morris, default 10) or
    ``samples`` (Sobol' base samples, a power of two, default 64) sizes the design.
    Runs in this process unless an executor is given; runs and tables are saved in ``out``.
    """
    text, source = read_scenario_text(scenario)
    base = list(overrides or [])
    parsed = parse_scenario(text, source, base)
    factors = parse_factors([f"{key}={low}:{high}" for key, (low, high) in vary.items()],
                            parsed)
    size = design_size(method, trajectories, samples)
    root = seed if seed is not None else parsed.seed
    own = executor is None
    runner = SerialExecutor() if executor is None else executor
    try:
        return sensitivity(text, source, base, factors, method, size,
                           tuple(metrics or SENSITIVITY_METRICS), replications, root, runner,
                           None if out is None else Path(out))
    finally:
        if own:
            runner.close()
