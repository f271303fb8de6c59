"""Staffing search: the cheapest staffing that meets a response target with confidence.

Nothing assumes that more staff means faster responses: on the small town it does not
always (which units sit where, and which random draws they get, shift as the count
changes). One varied level is searched on a coarse grid over its range; then the gap
below the cheapest level that meets the target is refined with finer grids down to the
resolution (1/200 of the range, at least 1), the three resolution steps below that level
and one above it are evaluated too, and refinement repeats if any of them is cheaper and
meets the target. With two varied levels the same search runs along the second for a few
values of the first, which traces the trade-off curve. Every evaluation runs the same
replication seeds (common random numbers), a level *meets* the target when the one-sided
95% confidence bound of the metric's mean across replications does, and the answer is the
cheapest evaluated level that meets it: nothing is inferred about levels not evaluated.

Wherever a larger evaluated level has a worse mean than the next smaller one by more than
the paired standard error (differences per replication, the runs sharing seeds), the step
is recorded as a :class:`Violation`.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
from scipy import stats

from gridsim.analysis.metrics import summary_value
from gridsim.api import run
from gridsim.core.errors import InputError
from gridsim.core.executors import RunExecutor, SerialExecutor
from gridsim.core.units import HOURS_PER_DAY
from gridsim.scenario.guard import check_resources
from gridsim.scenario.load import parse_scenario, read_scenario_text
from gridsim.scenario.schema import Scenario
from gridsim.studies.experiment import run_seeds
from gridsim.studies.sweeps import SWEEP_METRICS

CONFIDENCE = 0.95
COARSE_LEVELS = 9  # levels of the first grid over a --vary range (ends included)
REFINE_LEVELS = 4  # levels tried inside a gap in each refinement round
RESOLUTION_STEPS = 200  # refinement stops at 1/200 of a --vary range (at least 1)
CHECK_BELOW = 3  # resolution steps below the cheapest level meeting the target, all evaluated
LEVELS_OF_FIRST = 5  # values of the first of two varied keys on the trade-off curve
VIOLATION_SE = 1.0  # a step is non-monotone when it is worse by more than this many paired SEs
Levels = tuple[int, ...]
# Returns the target metric of each replication (in seed order) for each staffing asked
Evaluator = Callable[[list[Levels]], list[np.ndarray]]


def _patrol_cost(scenario: Scenario, units: int) -> float:
    """Return the cost of ``units`` car-shift positions (see ``Costs.patrol_unit``).

    Each unit works one of the patrol shifts, so it costs its hours' share of a car
    crewed around the clock: ``patrol_unit * length_h / 24``, with the length averaged
    over the shifts as units are spread over them (by their ``share``, equal by default).
    """
    shifts = scenario.police.patrol_shifts
    hours = sum(shift.share * shift.length_h for shift in shifts) / sum(
        shift.share for shift in shifts)
    return scenario.costs.patrol_unit * hours / HOURS_PER_DAY * units


# --vary key: yearly cost of ``level`` of it, given the scenario
STAFF_KEYS: dict[str, Callable[[Scenario, int], float]] = {
    "police.patrol_units": _patrol_cost,
    "police.community_police": lambda s, n: s.costs.community_police * n,
    "mediators.count": lambda s, n: s.costs.mediator * n,
    "volunteers.count": lambda s, n: s.costs.volunteer * n,
    "grid_workers.per_grid": lambda s, n: s.costs.grid_worker * s.zones.grids * n,
    "grid_workers.per_micro_grid": lambda s, n: (
        s.costs.grid_worker * s.zones.grids * s.zones.micro_grids_per_grid * n),
}
_TARGET = re.compile(r"^\s*([A-Za-z0-9_.]+)\s*(<=|>=)\s*([0-9.eE+-]+)\s*$")
_STAT = "(p50|p90|p95|mean)"
_ARRIVAL = "(first|police)_arrival_s"
_NAMED = re.compile(rf"^{_STAT}_{_ARRIVAL}(?:_priority(\d+))?$")  # p90_police_arrival_s_priority1
_DOTTED = re.compile(rf"^(?:by_priority\.(\d+)\.)?{_ARRIVAL}\.{_STAT}$")  # police_arrival_s.p90
TARGET_FORMS = ("p50|p90|p95|mean _ first|police _arrival_s [_priorityN]",
                *(m for m in SWEEP_METRICS if "arrival" not in m))


@dataclass(frozen=True)
class Target:
    """A bound on one run-summary metric, e.g. first_arrival_s.p90 <= 300."""

    metric: str  # path in the run summary, e.g. by_priority.1.police_arrival_s.p90
    upper: bool  # True for <=
    bound: float
    name: str = field(default="", compare=False)  # as written, e.g. p90_police_arrival_s

    @property
    def label(self) -> str:
        """Return the metric's name as the user wrote it (its summary path if none)."""
        return self.name or self.metric

    @property
    def seconds(self) -> bool:
        """Return whether the metric is a time in seconds."""
        return "arrival_s" in self.metric

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

    levels: Levels
    cost: float
    mean: float
    bound: float
    met: bool
    values: tuple[float, ...] = field(default=(), repr=False)  # per replication, seed order


@dataclass(frozen=True)
class Violation:
    """A non-monotone step: more of ``key`` gave a worse mean, beyond the paired SE."""

    key: str
    lower: int
    higher: int
    others: tuple[tuple[str, int], ...]  # the other varied keys' levels, held fixed
    metric: str
    seconds: bool
    mean_lower: float
    mean_higher: float
    change: float  # mean paired difference, higher minus lower
    paired_se: float
    pairs: int

    def describe(self) -> str:
        """Return one line, e.g. ``police.patrol_units 21→22: p90_... 3,797 → 3,931 s``."""
        def number(value: float) -> str:
            return f"{value:,.0f} s" if self.seconds else f"{value:.4g}"

        relative = (f"{(self.mean_higher - self.mean_lower) / abs(self.mean_lower):+.1%}; "
                    if self.mean_lower else "")
        fixed = "".join(f" at {key}={level:,}" for key, level in self.others)
        change = ("+" if self.change > 0 else "") + number(self.change)
        return (f"{self.key} {self.lower:,}→{self.higher:,}{fixed}: {self.metric} mean "
                f"{number(self.mean_lower).removesuffix(' s')} → {number(self.mean_higher)} "
                f"({relative}paired difference {change}, SE {number(self.paired_se)})")


@dataclass(frozen=True)
class OptimizeResult:
    """A staffing search: every evaluated point, the curve, the cheapest and violations."""

    keys: tuple[str, ...]
    target: Target
    points: list[Point]  # every evaluated staffing, by levels
    curve: list[Point]  # cheapest evaluated level of the last key meeting the target, per first
    best: Point | None  # the cheapest evaluated staffing that meets the target
    violations: list[Violation]
    evaluations: int
    full_grid_evaluations: int  # the last key at every resolution step (per first value)
    seeds: tuple[int, ...] = ()

    def failing_above_best(self) -> list[Point]:
        """Return evaluated points with more of the last key than the best that fail."""
        if self.best is None:
            return []
        prefix, level = self.best.levels[:-1], self.best.levels[-1]
        return [p for p in self.points
                if p.levels[:-1] == prefix and p.levels[-1] > level and not p.met]

    def table(self) -> pa.Table:
        """Return the evaluated points as a table: one column per key, then the figures."""
        columns: dict[str, Any] = {
            key: [p.levels[i] for p in self.points] for i, key in enumerate(self.keys)}
        columns.update({
            "cost": [p.cost for p in self.points], "mean": [p.mean for p in self.points],
            "bound": [p.bound for p in self.points], "met": [p.met for p in self.points],
            "best": [p is self.best for p in self.points],
        })
        return pa.table(columns)


def parse_target(text: str, scenario: Scenario | None = None) -> Target:
    """Return ``"p90_police_arrival_s_priority1<=600"`` and the like as a Target.

    Arrival targets are ``STAT_KIND_arrival_s`` (STAT: p50, p90, p95 or mean; KIND: first,
    whoever came first, or police), optionally ``_priorityN`` for incidents of priority N
    only; also written ``police_arrival_s.p90``. With ``scenario``, the priority must be
    one of its incident types'.
    """
    match = _TARGET.match(text)
    if match is None:
        raise InputError(f"--target {text!r}: expected METRIC<=NUMBER or METRIC>=NUMBER, "
                         "e.g. p90_police_arrival_s<=900")
    name, op, number = match.groups()
    named, dotted = _NAMED.match(name), _DOTTED.match(name)
    priority: str | None = None
    if named is not None:
        stat, kind, priority = named.groups()
    elif dotted is not None:
        priority, kind, stat = dotted.groups()
    elif name in SWEEP_METRICS:
        return Target(metric=name, upper=op == "<=", bound=_number(text, number), name=name)
    else:
        raise InputError(f"--target {text!r}: unknown metric {name!r}; allowed: "
                         f"{'; '.join(TARGET_FORMS)}")
    metric = f"{kind}_arrival_s.{stat}"
    label = f"{stat}_{kind}_arrival_s"
    if priority is not None:
        metric, label = f"by_priority.{int(priority)}.{metric}", f"{label}_priority{priority}"
        present = sorted({t.priority for t in scenario.incidents.values()}) if scenario else []
        if scenario is not None and int(priority) not in present:
            raise InputError(f"--target {text!r}: no incident type has priority {priority}; "
                             f"the scenario's priorities: {', '.join(map(str, present))}")
    return Target(metric=metric, upper=op == "<=", bound=_number(text, number), name=label)


def _number(text: str, number: str) -> float:
    try:
        value = float(number)
    except ValueError:
        raise InputError(f"--target {text!r}: {number!r} is not a number") from None
    if not math.isfinite(value):
        raise InputError(f"--target {text!r}: the bound must be a finite number")
    return value


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


@dataclass(frozen=True)
class MetricJob:
    """One run of an evaluation: the staffing's overrides, a seed and the metric to read."""

    replication: int
    seed: int
    overrides: tuple[str, ...]
    scenario_text: str
    source: str
    metric: str


def run_metric(job: MetricJob) -> float:
    """Return the job's metric from one run (nan when the run has none, e.g. no priority 1)."""
    scenario = parse_scenario(job.scenario_text, job.source, job.overrides)
    summary = run(scenario, seed=job.seed).summary
    try:
        return summary_value(summary, job.metric)
    except KeyError:
        return math.nan


def optimize(
    scenario_text: str, source: str, target: Target, varies: list[Vary], replications: int,
    root_seed: int, executor: RunExecutor, base_overrides: list[str] | None = None,
    on_evaluation: Callable[[Point], None] | None = None,
) -> OptimizeResult:
    """Return the staffing search of ``target`` by simulation (see the module docstring)."""
    if not 1 <= len(varies) <= 2:
        raise InputError("optimize: give one or two --vary keys")
    if len({v.key for v in varies}) != len(varies):
        raise InputError("optimize: the two --vary keys must differ")
    if replications < 2:
        raise InputError(f"--replications {replications}: the confidence bound needs at "
                         "least 2")
    base = list(base_overrides or [])
    scenario = parse_scenario(scenario_text, source, base)
    check_resources(parse_scenario(scenario_text, source,
                                   [*base, *(f"{v.key}={v.high}" for v in varies)]))
    seeds = run_seeds(scenario, root_seed, replications)

    def evaluate(batch: list[Levels]) -> list[np.ndarray]:
        jobs = [
            MetricJob(replication, seed, (*base, *(f"{v.key}={level}" for v, level in
                                                   zip(varies, levels, strict=True))),
                      scenario_text, source, target.metric)
            for levels in batch for replication, seed in enumerate(seeds)
        ]
        values = np.full((len(batch), replications), np.nan)
        index = {job: i // replications for i, job in enumerate(jobs)}
        for job, value in executor.map_unordered(run_metric, jobs):
            values[index[job], job.replication] = value
        return list(values)

    result = search(target, varies, evaluate, lambda levels: cost_of(scenario, varies, levels),
                    on_evaluation)
    return replace(result, seeds=tuple(seeds))


def search(
    target: Target, varies: Sequence[Vary], evaluate: Evaluator,
    cost: Callable[[Levels], float], on_evaluation: Callable[[Point], None] | None = None,
) -> OptimizeResult:
    """Return the search of ``target`` over ``varies`` with any ``evaluate`` (e.g. a fake)."""
    last = varies[-1]
    points: dict[Levels, Point] = {}

    def run_batch(batch: list[Levels]) -> None:
        batch = sorted(set(batch) - points.keys())
        for levels, values in zip(batch, evaluate(batch), strict=True):
            met, mean, bound = target.met(np.asarray(values, dtype=float))
            point = Point(levels, cost(levels), mean, bound, met,
                          tuple(float(v) for v in values))
            points[levels] = point
            if on_evaluation is not None:
                on_evaluation(point)

    firsts: list[Levels] = ([()] if len(varies) == 1 else
                            [(level,) for level in _spread(varies[0].low, varies[0].high,
                                                           LEVELS_OF_FIRST)])
    run_batch([(*first, level) for first in firsts
               for level in _spread(last.low, last.high, COARSE_LEVELS)])
    while True:
        wanted = [(*first, level) for first in firsts
                  for level in _next_levels(first, last, points, cost)]
        if not wanted:
            break
        run_batch(wanted)
    curve = [p for p in (_cheapest_along(first, points, cost) for first in firsts)
             if p is not None]
    best = min(curve, key=lambda p: (p.cost, p.levels)) if curve else None
    ordered = [points[levels] for levels in sorted(points)]
    return OptimizeResult(
        keys=tuple(v.key for v in varies), target=target, points=ordered, curve=curve,
        best=best, violations=_violations(target, varies, firsts, points),
        evaluations=len(points),
        full_grid_evaluations=len(firsts) * ((last.high - last.low) // resolution(last) + 1),
    )


def _next_levels(first: Levels, last: Vary, points: dict[Levels, Point],
                 cost: Callable[[Levels], float]) -> list[int]:
    """Return the levels of the last key to evaluate next along ``first`` (none: done).

    Inside the gap below the cheapest level meeting the target, finer grids until the gap
    is one resolution step; then the ``CHECK_BELOW`` steps below that level (a cheaper
    level may meet the target even though its neighbour does not), then one step above.
    """
    best = _cheapest_along(first, points, cost)
    if best is None:
        return []
    step, level = resolution(last), best.levels[-1]
    evaluated = {p.levels[-1] for p in points.values() if p.levels[:-1] == first}
    below = [other for other in evaluated if other < level]
    if below and level - max(below) > step:
        return _inside(max(below), level, REFINE_LEVELS)
    window = [level - k * step for k in range(1, CHECK_BELOW + 1)] + [level + step]
    return [other for other in window
            if last.low <= other <= last.high and other not in evaluated]


def resolution(vary: Vary) -> int:
    """Return the step the search refines a --vary range to: 1/RESOLUTION_STEPS, at least 1."""
    return max(1, (vary.high - vary.low) // RESOLUTION_STEPS)


def _cheapest_along(first: Levels, points: dict[Levels, Point],
                    cost: Callable[[Levels], float]) -> Point | None:
    meeting = [p for p in points.values() if p.levels[:-1] == first and p.met]
    return min(meeting, key=lambda p: (p.cost, p.levels)) if meeting else None


def _violations(target: Target, varies: Sequence[Vary], firsts: list[Levels],
                points: dict[Levels, Point]) -> list[Violation]:
    """Return each step between neighbouring evaluated levels where more staff did worse."""
    found = []
    keys = [v.key for v in varies]
    for first in firsts:  # along the last key, at each value of the first
        levels = sorted(p.levels[-1] for p in points.values() if p.levels[:-1] == first)
        for low, high in zip(levels, levels[1:], strict=False):
            step = _worse(target, keys[-1], points[(*first, low)], points[(*first, high)],
                          tuple(zip(keys[:-1], first, strict=True)))
            if step is not None:
                found.append(step)
    for low_first, high_first in zip(firsts, firsts[1:], strict=False):  # along the first
        shared = sorted({p.levels[-1] for p in points.values() if p.levels[:-1] == low_first}
                        & {p.levels[-1] for p in points.values()
                           if p.levels[:-1] == high_first})
        for level in shared:
            step = _worse(target, keys[0], points[(*low_first, level)],
                          points[(*high_first, level)], ((keys[-1], level),))
            if step is not None:
                found.append(step)
    return found


def _worse(target: Target, key: str, low: Point, high: Point,
           others: tuple[tuple[str, int], ...]) -> Violation | None:
    """Return the step low → high when high's mean is worse by more than the paired SE."""
    a, b = np.asarray(low.values), np.asarray(high.values)
    both = np.isfinite(a) & np.isfinite(b)
    difference = (b - a)[both]
    pairs = int(difference.shape[0])
    if pairs < 2:
        return None
    worse = difference if target.upper else -difference  # positive: worse
    se = float(worse.std(ddof=1) / np.sqrt(pairs))
    tolerance = 1e-9 * max(abs(low.mean), abs(high.mean))  # rounding, not a change
    if not worse.mean() > max(se * VIOLATION_SE, tolerance):
        return None
    changed = [i for i, (x, y) in enumerate(zip(low.levels, high.levels, strict=True)) if x != y]
    return Violation(
        key=key, lower=low.levels[changed[0]], higher=high.levels[changed[0]], others=others,
        metric=target.label, seconds=target.seconds, mean_lower=low.mean,
        mean_higher=high.mean, change=float(difference.mean()), paired_se=se, pairs=pairs,
    )


def _spread(low: int, high: int, count: int) -> list[int]:
    """Return ``count`` (or fewer) whole numbers evenly spread from low to high inclusive."""
    return sorted({int(v) for v in np.linspace(low, high, count).round()})


def _inside(low: int, high: int, count: int) -> list[int]:
    """Return up to ``count`` whole numbers evenly spread strictly between low and high."""
    if high - low - 1 <= count:
        return list(range(low + 1, high))
    return sorted({int(v) for v in np.linspace(low, high, count + 2).round()[1:-1]})


def cost_of(scenario: Scenario, varies: Sequence[Vary], levels: Levels) -> float:
    """Return the yearly cost of the varied responders at ``levels`` (see ``Costs``)."""
    return sum(STAFF_KEYS[vary.key](scenario, level)
               for vary, level in zip(varies, levels, strict=True))


def run_optimize(
    scenario: str | Path | None, target: str, vary: list[str], replications: int = 10,
    seed: int | None = None, executor: RunExecutor | None = None,
    overrides: list[str] | None = None,
) -> OptimizeResult:
    """Return the staffing search of ``scenario`` (a TOML path; None: the default).

    ``target`` and ``vary`` take the command line's forms, e.g.
    ``"p90_police_arrival_s_priority1<=600"`` and
    ``["police.patrol_units=6:48", "volunteers.count=0:6000"]``.
    """
    text, source = read_scenario_text(scenario)
    base = list(overrides or [])
    parsed = parse_scenario(text, source, base)
    runner = SerialExecutor() if executor is None else executor
    try:
        return optimize(text, source, parse_target(target, parsed),
                        [parse_vary(v, parsed) for v in vary], replications,
                        parsed.seed if seed is None else seed, runner, base)
    finally:
        if executor is None:
            runner.close()
