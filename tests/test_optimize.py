"""The staffing search: target parsing, bisection on a monotone metric, a real search."""

from __future__ import annotations

import numpy as np
import pytest

import gridsim
from gridsim import load_scenario
from gridsim.errors import InputError
from gridsim.staffing import Point, Target, _smallest_meeting, parse_target, parse_vary
from tests.conftest import SMALL


def test_target_forms() -> None:
    assert parse_target("p90_first_arrival_s<=300") == Target("first_arrival_s.p90", True, 300)
    assert parse_target("answered_share >= 0.99") == Target("answered_share", False, 0.99)
    for bad in ("p90_first_arrival_s<300", "nonsense<=1", "first_arrival_s.p90<=x"):
        with pytest.raises(InputError):
            parse_target(bad)


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


@pytest.mark.parametrize("threshold", [0, 1, 17, 63, 64, 100])
def test_bisection_finds_the_smallest_level_of_a_monotone_metric(threshold: int) -> None:
    calls: list[int] = []

    def evaluate(level: int) -> Point:
        calls.append(level)
        return Point((level,), float(level), 0.0, 0.0, level >= threshold)

    found = _smallest_meeting(evaluate, 0, 100)
    assert found is not None
    # resolution: 1/64 of the range (2 here): the answer meets, two below does not
    assert threshold <= found.levels[0] <= threshold + 1
    assert len(calls) <= 9


def test_unreachable_target_gives_none() -> None:
    assert _smallest_meeting(lambda lv: Point((lv,), 0.0, 0.0, 0.0, False), 0, 50) is None


def test_search_on_the_small_scenario_is_cheaper_than_the_grid() -> None:
    result = gridsim.optimize(SMALL, "p90_police_arrival_s<=1800",
                              ["police.patrol_units=4:60"], replications=4, seed=2)
    assert result.best is not None and result.best.met
    assert result.evaluations < result.full_grid_evaluations
    # one patrol unit fewer than the answer's resolution step does not meet the target
    lower = gridsim.optimize(SMALL, "p90_police_arrival_s<=1800",
                             [f"police.patrol_units=4:{result.best.levels[0] - 1}"],
                             replications=4, seed=2)
    assert lower.best is None or lower.best.levels[0] >= result.best.levels[0] - 1
