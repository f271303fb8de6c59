"""The staffing search: targets, costs, and a search that assumes no monotonicity."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest
from scipy import stats

import gridsim
from gridsim import load_scenario
from gridsim.core.errors import InputError
from gridsim.studies.experiment import replication_seeds
from gridsim.studies.staffing import (
    OptimizeResult,
    Target,
    Vary,
    cost_of,
    parse_target,
    parse_vary,
    search,
)
from tests.conftest import SMALL

Levels = tuple[int, ...]


def test_target_forms() -> None:
    assert parse_target("p90_first_arrival_s<=300") == Target("first_arrival_s.p90", True, 300)
    assert parse_target("first_arrival_s.p90<=300") == Target("first_arrival_s.p90", True, 300)
    assert parse_target("p50_police_arrival_s <= 600") == Target(
        "police_arrival_s.p50", True, 600)
    assert parse_target("answered_share >= 0.99") == Target("answered_share", False, 0.99)
    priority = parse_target("p90_police_arrival_s_priority1<=900")
    assert priority == Target("by_priority.1.police_arrival_s.p90", True, 900)
    assert priority.label == "p90_police_arrival_s_priority1"
    assert parse_target("by_priority.2.first_arrival_s.mean<=5") == Target(
        "by_priority.2.first_arrival_s.mean", True, 5)
    for bad in ("p90_first_arrival_s<300", "nonsense<=1", "first_arrival_s.p90<=x",
                "p90_volunteer_arrival_s<=1", "p90_police_arrival_s_priority<=1",
                "p90_first_arrival_s<=inf"):
        with pytest.raises(InputError):
            parse_target(bad)


def test_a_priority_the_scenario_lacks_is_refused() -> None:
    scenario = load_scenario(SMALL)  # priorities 1 to 4
    assert parse_target("p90_police_arrival_s_priority4<=1", scenario).metric.startswith(
        "by_priority.4.")
    with pytest.raises(InputError, match="priorities: 1, 2, 3, 4"):
        parse_target("p90_police_arrival_s_priority7<=1", scenario)


def test_vary_ranges() -> None:
    scenario = load_scenario(SMALL)
    assert parse_vary("volunteers.count", scenario).high == 2 * scenario.volunteers.count
    assert parse_vary("police.patrol_units=3:40", scenario).low == 3
    with pytest.raises(InputError):
        parse_vary("city.nodes", scenario)
    with pytest.raises(InputError):
        parse_vary("volunteers.count=9:2", scenario)


def test_target_needs_the_confidence_bound_not_just_the_mean() -> None:
    target = Target("first_arrival_s.p90", True, 100.0)
    assert target.met(np.array([90.0, 91.0, 89.0, 90.5]))[0]
    assert not target.met(np.array([60.0, 140.0, 70.0, 90.0]))[0]  # mean 90, too noisy


def test_a_patrol_unit_is_charged_once_for_its_share_of_a_round_the_clock_car() -> None:
    patrol = [Vary("police.patrol_units", 0, 100)]
    default = load_scenario(SMALL)  # three 8-hour shifts
    car = default.costs.patrol_unit  # a car crewed around the clock, for a year
    assert cost_of(default, patrol, (3,)) == pytest.approx(car)  # three units: one car
    assert cost_of(default, patrol, (1,)) == pytest.approx(car / 3)
    assert cost_of(default, patrol, (24,)) == pytest.approx(8 * car)
    # not per unit per shift: six 4-hour shifts cost what three 8-hour shifts cost
    four_hours = load_scenario(SMALL, ["police.patrol_shifts=[" + ",".join(
        f"{{start_h={4 * k},length_h=4}}" for k in range(6)) + "]"])
    assert cost_of(four_hours, patrol, (24,)) == pytest.approx(4 * car)  # 6 units: one car
    around_the_clock = load_scenario(SMALL, ["police.patrol_shifts=[{start_h=0,length_h=24}]"])
    assert cost_of(around_the_clock, patrol, (24,)) == pytest.approx(24 * car)
    both = [*patrol, Vary("volunteers.count", 0, 10)]
    assert cost_of(default, both, (3, 10)) == pytest.approx(car + 10 * default.costs.volunteer)


# --- the search on injected response curves (no simulation) ---------------------------


def fake(curve: Callable[[Levels], float], replications: int = 6, noise: float = 5.0,
         own_noise: float = 0.0,
         ) -> tuple[Callable[[list[Levels]], list[np.ndarray]], list[Levels]]:
    """Return an evaluator of ``curve`` and the levels it was asked for.

    Each replication's noise is shared by every level (common random numbers), plus
    ``own_noise`` drawn afresh for each level.
    """
    shared = np.random.default_rng(1).normal(0.0, noise, replications)
    calls: list[Levels] = []

    def evaluate(batch: list[Levels]) -> list[np.ndarray]:
        calls.extend(batch)
        return [curve(levels) + shared + np.random.default_rng(list(levels)).normal(
            0.0, own_noise, replications) for levels in batch]

    return evaluate, calls


def linear_cost(levels: Levels) -> float:
    return float(sum((k + 1) * 10.0 * level for k, level in enumerate(levels)))


def independent_steps(result: OptimizeResult, upper: bool = True) -> set[tuple[int, int]]:
    """Return the neighbouring evaluated levels (1 key) where more did worse beyond the SE."""
    points = sorted(result.points, key=lambda p: p.levels)
    found = set()
    for low, high in zip(points, points[1:], strict=False):
        d = np.array(high.values) - np.array(low.values)
        d = d if upper else -d
        if d.mean() > 0 and d.mean() > d.std(ddof=1) / np.sqrt(d.shape[0]):
            found.add((low.levels[0], high.levels[0]))
    return found


@pytest.mark.parametrize("threshold", [0, 1, 17, 63, 64, 100])
def test_a_monotone_curve_gives_its_exact_threshold_in_few_evaluations(threshold: int) -> None:
    evaluate, calls = fake(lambda lv: 1000.0 if lv[0] < threshold else 100.0)
    result = search(Target("m", True, 500.0), [Vary("k", 0, 100)], evaluate, linear_cost)
    assert result.best is not None and result.best.levels == (threshold,)
    assert len(calls) == len(set(calls)) == result.evaluations <= 20
    assert result.full_grid_evaluations == 101
    assert result.violations == []  # the step down is not a violation
    # the chosen level's neighbours were evaluated on the same seeds
    assert {threshold - 1, threshold + 1} & set(range(101)) <= {lv for (lv,) in calls}


def test_a_non_monotone_curve_is_reported_and_the_cheapest_evaluated_level_chosen() -> None:
    def curve(levels: Levels) -> float:
        level = levels[0]
        bump = 300.0 if 45 <= level <= 55 else 0.0  # more staff, slower: e.g. a reshuffle
        pocket = -400.0 if 30 <= level <= 33 else 0.0  # a cheap level that meets the target
        return 1000.0 - 8.0 * level + bump + pocket

    evaluate, _ = fake(curve, own_noise=2.0)
    target = Target("police_arrival_s.p90", True, 500.0, name="p90_police_arrival_s")
    result = search(target, [Vary("police.patrol_units", 0, 100)], evaluate, linear_cost)
    steps = {(v.lower, v.higher) for v in result.violations}
    assert steps == independent_steps(result)
    assert any(low < 45 <= high for low, high in steps)  # the bump is reported
    for v in result.violations:
        low = next(p for p in result.points if p.levels == (v.lower,))
        high = next(p for p in result.points if p.levels == (v.higher,))
        assert (v.mean_lower, v.mean_higher) == (low.mean, high.mean)
        assert v.change == pytest.approx(np.mean(np.subtract(high.values, low.values)))
        text = v.describe()
        assert text.startswith(f"police.patrol_units {v.lower:,}→{v.higher:,}: "
                               "p90_police_arrival_s mean ") and ", SE " in text
    meeting = [p for p in result.points if p.met]
    assert result.best == min(meeting, key=lambda p: p.cost)  # cheapest evaluated, no inference
    assert all(not p.met for p in result.points if p.levels[0] < result.best.levels[0])
    assert result.evaluations < result.full_grid_evaluations / 3


def test_a_level_meeting_the_target_below_a_failing_neighbour_is_found() -> None:
    # 34 meets, 35 does not, 36 and up do (as on the small town with patrol points)
    evaluate, calls = fake(lambda lv: 100.0 if lv[0] >= 34 and lv[0] != 35 else 1000.0)
    result = search(Target("m", True, 500.0), [Vary("k", 20, 40)], evaluate, linear_cost)
    assert result.best is not None and result.best.levels == (34,)
    assert {31, 32, 33} <= {lv for (lv,) in calls}  # three below the answer, all failing


def test_a_failing_level_above_the_cheapest_is_listed() -> None:
    evaluate, _ = fake(lambda lv: 100.0 if lv[0] >= 20 and lv[0] != 21 else 1000.0)
    result = search(Target("m", True, 500.0), [Vary("k", 0, 40)], evaluate, linear_cost)
    assert result.best is not None and result.best.levels == (20,)
    assert [p.levels for p in result.failing_above_best()] == [(21,)]
    assert (20, 21) in {(v.lower, v.higher) for v in result.violations}


def test_a_higher_is_better_target_counts_a_drop_as_a_violation() -> None:
    evaluate, _ = fake(lambda lv: 0.5 + 0.004 * lv[0] - (0.2 if lv[0] == 50 else 0.0),
                       noise=0.001)
    result = search(Target("answered_share", False, 0.8), [Vary("k", 0, 100)], evaluate,
                    linear_cost)
    assert {(v.lower, v.higher) for v in result.violations} == independent_steps(
        result, upper=False) == {(38, 50)}
    assert result.best is not None and result.best.levels == (76,)  # 75: mean 0.8, bound below


def test_two_keys_trace_the_cheapest_feasible_second_level_per_first() -> None:
    def curve(levels: Levels) -> float:
        first, second = levels
        worse = 150.0 if first == 20 else 0.0  # more of the first key, slower
        return 1000.0 - 10.0 * first - second / 10.0 + worse

    evaluate, _ = fake(curve)
    varies = [Vary("police.patrol_units", 0, 40), Vary("volunteers.count", 0, 6000)]
    result = search(Target("m", True, 700.0), varies, evaluate, linear_cost)
    assert [p.levels[0] for p in result.curve] == [0, 10, 20, 30, 40]
    for point in result.curve:
        same_first = [p for p in result.points if p.levels[0] == point.levels[0] and p.met]
        assert point == min(same_first, key=lambda p: p.cost)
    assert result.best == min(result.curve, key=lambda p: p.cost)
    along_first = [v for v in result.violations if v.key == "police.patrol_units"]
    assert along_first and all((v.lower, v.higher) == (10, 20) for v in along_first)
    assert all(v.others[0][0] == "volunteers.count" for v in along_first)
    assert result.full_grid_evaluations == 5 * 201  # volunteers to 1/200 of the range: 30
    for point in result.curve:  # within one resolution step of the exact threshold
        exact = max(0.0, (1000.0 - 10.0 * point.levels[0] + (150.0 if point.levels[0] == 20
                                                             else 0.0) - 700.0) * 10.0)
        assert exact <= point.levels[1] <= exact + 100  # the bound adds ~40, a step 30


# --- the search by simulation ------------------------------------------------------------


def police_p90(levels: list[int], seeds: list[int]) -> dict[int, np.ndarray]:
    """Return the police p90 of each run at each patrol level, computed without staffing."""
    return {
        level: np.array([gridsim.run(scenario, seed=seed).summary["police_arrival_s"]["p90"]
                         for seed in seeds], dtype=float)
        for level in levels
        for scenario in [load_scenario(SMALL, [f"police.patrol_units={level}"])]
    }


def test_small_town_steps_are_non_increasing_or_reported_on_the_same_seeds() -> None:
    replications, root = 4, 11
    result = gridsim.optimize(SMALL, "p90_police_arrival_s<=1500",
                              ["police.patrol_units=20:40"], replications=replications,
                              seed=root)
    seeds = replication_seeds(root, replications)
    assert result.seeds == tuple(seeds)
    evaluated = [p.levels[0] for p in result.points]
    assert evaluated == sorted(evaluated) and evaluated[0] == 20 and evaluated[-1] == 40
    values = police_p90(evaluated, seeds)
    for point in result.points:
        assert point.mean == pytest.approx(values[point.levels[0]].mean())
    expected = {}
    for low, high in zip(evaluated, evaluated[1:], strict=False):
        d = values[high] - values[low]
        se = d.std(ddof=1) / np.sqrt(replications)
        if d.mean() > 0 and d.mean() > se:
            expected[(low, high)] = (values[low].mean(), values[high].mean(), se)
    reported = {(v.lower, v.higher): (v.mean_lower, v.mean_higher, v.paired_se)
                for v in result.violations}
    assert reported.keys() == expected.keys()
    for step, numbers in expected.items():
        assert reported[step] == pytest.approx(numbers)
    t = stats.t.ppf(0.95, replications - 1)
    meeting = [lv for lv in evaluated
               if values[lv].mean() + t * values[lv].std(ddof=1) / np.sqrt(replications) <= 1500]
    if meeting:
        assert result.best is not None and result.best.levels == (min(meeting),)
        assert min(meeting) - 1 in evaluated or min(meeting) == 20  # neighbours re-checked
    else:
        assert result.best is None
    assert result.evaluations == len(evaluated) < 21


def test_a_per_priority_target_reads_that_priority_only() -> None:
    replications, root = 3, 5
    result = gridsim.optimize(SMALL, "p90_police_arrival_s_priority1<=1800",
                              ["police.patrol_units=16:24"], replications=replications,
                              seed=root)
    assert result.target.metric == "by_priority.1.police_arrival_s.p90"
    seeds = replication_seeds(root, replications)
    for point in result.points[:3]:
        scenario = load_scenario(SMALL, [f"police.patrol_units={point.levels[0]}"])
        priority1 = []
        for seed in seeds:
            run = gridsim.run(scenario, seed=seed)
            priority = run.records.incidents.priority
            police = run.summary["by_priority"]["1"]["police_arrival_s"]
            assert police["n"] <= int((priority == 1).sum()) < run.summary["incidents"]
            priority1.append(np.nan if police["p90"] is None else police["p90"])
        assert point.values == pytest.approx(tuple(priority1), nan_ok=True)


def test_one_replication_is_refused() -> None:
    with pytest.raises(InputError, match="at least 2"):
        gridsim.optimize(SMALL, "p90_first_arrival_s<=900", ["police.patrol_units=6:8"],
                         replications=1)


@pytest.mark.slow
def test_small_town_every_step_from_20_to_40_patrol_units_with_8_seeds() -> None:
    """Every level evaluated: each rise beyond the paired SE is a reported violation."""
    from gridsim.studies import staffing
    seeds = replication_seeds(1, 8)
    before = staffing.COARSE_LEVELS
    staffing.COARSE_LEVELS = 21
    try:
        result = gridsim.optimize(SMALL, "p90_police_arrival_s<=900",
                                  ["police.patrol_units=20:40"], replications=8, seed=1)
    finally:
        staffing.COARSE_LEVELS = before
    assert [p.levels[0] for p in result.points] == list(range(20, 41))
    values = police_p90(list(range(20, 41)), seeds)
    rises = set()
    for level in range(20, 40):
        d = values[level + 1] - values[level]
        if d.mean() > 0 and d.mean() > d.std(ddof=1) / np.sqrt(8):
            rises.add((level, level + 1))
    assert {(v.lower, v.higher) for v in result.violations} == rises
