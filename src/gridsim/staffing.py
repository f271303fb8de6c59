"""Staffing search: the cheapest staffing that meets a response target with confidence.

More responders never make responses slower (on common random numbers), so the target
metric is monotone in each staffing level. With one varied level the search is a
bisection; with two, a bisection on the second level for each of a few values of the
first, which traces the trade-off curve. Every evaluation runs the same replication
seeds (common random numbers), and a level *meets* the target when the one-sided 95%
confidence bound of the metric's mean across replications does.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from scipy import stats

from gridsim.errors import InputError
from gridsim.executors import RunExecutor, SerialExecutor
from gridsim.experiment import replication_seeds
from gridsim.scenario.load import parse_scenario, read_scenario_text
from gridsim.scenario.schema import Scenario
from gridsim.sweeps import SWEEP_METRICS, Job, run_job

CONFIDENCE = 0.95
LEVELS_OF_FIRST = 5  # values of the first of two varied keys on the trade-off curve
RESOLUTION_STEPS = 64  # bisection stops within 1/64 of the range
# --vary key: (cost kind, responders per unit of the key, given the scenario)
STAFF_KEYS: dict[str, tuple[str, Callable[[Scenario], float]]] = {
    "police.patrol_units": ("patrol_unit", lambda s: 1.0),
    "police.community_police": ("community_police", lambda s: 1.0),
    "mediators.count": ("mediator", lambda s: 1.0),
    "volunteers.count": ("volunteer", lambda s: 1.0),
    "grid_workers.per_grid": ("grid_worker", lambda s: float(s.zones.grids)),
    "grid_workers.per_micro_grid": (
        "grid_worker", lambda s: float(s.zones.grids * s.zones.micro_grids_per_grid)),
}
_TARGET = re.compile(r"^\s*([A-Za-z0-9_.]+)\s*(<=|>=)\s*([0-9.eE+-]+)\s*$")
_PERCENTILE_NAME = re.compile(r"^(p\d+)_(.+)$")


@dataclass(frozen=True)
class Target:
    """A bound on one sweep metric, e.g. first_arrival_s.p90 <= 300."""

    metric: str
    upper: bool  # True for <=
    bound: float

    def met(self, values: np.ndarray) -> tuple[bool, float, float]:
        """Return (met with confidence, mean, the confidence bound) for replications."""
        values = values[np.isfinite(values)]
        n = values.shape[0]
        mean = float(values.mean()) if n else float("nan")
        spread = (float(stats.t.ppf(CONFIDENCE, n - 1) * values.std(ddof=1) / np.sqrt(n))
                  if n > 1 else float("inf"))
        if self.upper:
            return mean + spread <= self.bound, mean, mean + spread
        return mean - spread >= self.bound, mean, mean - spread


@dataclass(frozen=True)
class Vary:
    """A staffing level to search, between ``low`` and ``high`` inclusive."""

    key: str
    low: int
    high: int


@dataclass(frozen=True)
class Point:
    """One evaluated staffing: its levels, cost, metric mean and confidence bound."""

    levels: tuple[int, ...]
    cost: float
    mean: float
    bound: float
    met: bool


@dataclass(frozen=True)
class OptimizeResult:
    """The trade-off curve (cheapest level of the last key per level of the first)."""

    keys: tuple[str, ...]
    curve: list[Point]
    best: Point | None
    evaluations: int
    full_grid_evaluations: int


def parse_target(text: str) -> Target:
    """Return ``"first_arrival_s.p90<=300"`` (or ``"p90_first_arrival_s<=300"``) as a Target."""
    match = _TARGET.match(text)
    if match is None:
        raise InputError(f"--target {text!r}: expected METRIC<=NUMBER or METRIC>=NUMBER, "
                         "e.g. p90_first_arrival_s<=300")
    name, op, number = match.groups()
    percentile = _PERCENTILE_NAME.match(name)
    metric = f"{percentile.group(2)}.{percentile.group(1)}" if percentile else name
    if metric not in SWEEP_METRICS:
        raise InputError(f"--target {text!r}: unknown metric {name!r}; allowed: "
                         f"{', '.join(SWEEP_METRICS)}")
    return Target(metric=metric, upper=op == "<=", bound=float(number))


def parse_vary(text: str, scenario: Scenario) -> Vary:
    """Return ``key`` or ``key=low:high`` as a Vary (default range: 0 to twice today's)."""
    key, _, span = text.partition("=")
    key = key.strip()
    if key not in STAFF_KEYS:
        raise InputError(f"--vary {text!r}: cannot vary {key!r}; allowed: "
                         f"{', '.join(STAFF_KEYS)}")
    if span:
        low_text, _, high_text = span.partition(":")
        try:
            low, high = int(low_text), int(high_text)
        except ValueError:
            raise InputError(f"--vary {text!r}: expected key=low:high with whole numbers"
                             ) from None
    else:
        value: Any = scenario
        for part in key.split("."):
            value = getattr(value, part)
        low, high = 0, max(2 * int(value), 1)
    if not 0 <= low < high:
        raise InputError(f"--vary {text!r}: need 0 <= low < high")
    return Vary(key, low, high)


def optimize(
    scenario_text: str, source: str, target: Target, varies: list[Vary], replications: int,
    root_seed: int, executor: RunExecutor, base_overrides: list[str] | None = None,
    on_evaluation: Callable[[Point], None] | None = None,
) -> OptimizeResult:
    """Return the cheapest staffing meeting ``target`` and the trade-off curve."""
    if not 1 <= len(varies) <= 2:
        raise InputError("optimize: give one or two --vary keys")
    base = list(base_overrides or [])
    scenario = parse_scenario(scenario_text, source, base)
    seeds = replication_seeds(root_seed, replications)
    evaluations = 0

    def evaluate(levels: tuple[int, ...]) -> Point:
        nonlocal evaluations
        overrides = (*base, *(f"{v.key}={level}" for v, level in zip(varies, levels,
                                                                     strict=True)))
        jobs = [Job(0, rep, seed, overrides, scenario_text, source)
                for rep, seed in enumerate(seeds)]
        values = np.array([metrics[target.metric]
                           for _, metrics in sorted(executor.map_unordered(run_job, jobs),
                                                    key=lambda pair: pair[0].replication)])
        met, mean, bound = target.met(values)
        evaluations += 1
        point = Point(levels, cost_of(scenario, varies, levels), mean, bound, met)
        if on_evaluation is not None:
            on_evaluation(point)
        return point

    last = varies[-1]
    firsts = ([()] if len(varies) == 1 else
              [(int(x),) for x in np.unique(np.linspace(varies[0].low, varies[0].high,
                                                        LEVELS_OF_FIRST).round())])
    curve = []
    for first in firsts:

        def along_last(level: int, first: tuple[int, ...] = first) -> Point:
            return evaluate((*first, level))

        point = _smallest_meeting(along_last, last.low, last.high)
        if point is not None:
            curve.append(point)
    best = min(curve, key=lambda p: (p.cost, p.levels)) if curve else None
    step = max(1, -(-(last.high - last.low) // RESOLUTION_STEPS))
    grid = len(firsts) * ((last.high - last.low) // step + 1)  # same resolution, every point
    return OptimizeResult(tuple(v.key for v in varies), curve, best, evaluations, grid)


def cost_of(scenario: Scenario, varies: list[Vary], levels: tuple[int, ...]) -> float:
    """Return the yearly cost of the varied responders at ``levels``."""
    total = 0.0
    for vary, level in zip(varies, levels, strict=True):
        kind, per_unit = STAFF_KEYS[vary.key]
        total += getattr(scenario.costs, kind) * per_unit(scenario) * level
    return total


def _smallest_meeting(evaluate: Callable[[int], Point], low: int, high: int) -> Point | None:
    """Return the point at (about) the smallest level in [low, high] meeting the target.

    Bisection to a resolution of 1/``RESOLUTION_STEPS`` of the range (at least 1): the
    level returned meets the target, and one a resolution step lower does not.
    """
    best = evaluate(high)
    if not best.met:
        return None
    step = max(1, -(-(high - low) // RESOLUTION_STEPS))
    failing, meeting = low - 1, high  # low - 1: a level below the range, taken as failing
    while meeting - failing > step:
        middle = (failing + meeting) // 2
        point = evaluate(middle)
        if point.met:
            best, meeting = point, middle
        else:
            failing = middle
    return best


def run_optimize(
    scenario: str | Path | None, target: str, vary: list[str], replications: int = 10,
    seed: int | None = None, executor: RunExecutor | None = None,
    overrides: list[str] | None = None,
) -> OptimizeResult:
    """Return the staffing search of ``scenario`` (a TOML path; None: the default).

    ``target`` and ``vary`` take the command line's forms, e.g.
    ``"p90_first_arrival_s<=300"`` and ``["volunteers.count", "police.patrol_units=300:1200"]``.
    """
    text, source = read_scenario_text(scenario)
    base = list(overrides or [])
    parsed = parse_scenario(text, source, base)
    runner = SerialExecutor() if executor is None else executor
    try:
        return optimize(text, source, parse_target(target),
                        [parse_vary(v, parsed) for v in vary], replications,
                        parsed.seed if seed is None else seed, runner, base)
    finally:
        if executor is None:
            runner.close()
