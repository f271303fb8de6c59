"""Incident generation: a non-homogeneous Poisson process by hour and district."""

from __future__ import annotations

import numpy as np
from scipy import stats

from gridsim import World, load_scenario
from gridsim.demand.incidents import generate_incidents
from gridsim.scenario import Scenario
from tests.conftest import SMALL


def _long(scenario: Scenario, days: float) -> Scenario:
    return scenario.model_copy(update={"duration_days": days})


def test_calls_are_sorted_within_the_run(small_scenario: Scenario, small_world: World) -> None:
    incidents = generate_incidents(small_scenario, small_world.node_district, seed=3)
    assert np.all(np.diff(incidents.t_call_s) >= 0)
    assert incidents.t_call_s[0] >= 0 and incidents.t_call_s[-1] < small_scenario.duration_s


def test_count_per_type_matches_the_rate(small_scenario: Scenario, small_world: World) -> None:
    days = 40.0
    incidents = generate_incidents(_long(small_scenario, days), small_world.node_district, seed=5)
    for code, name in enumerate(incidents.type_names):
        expected = small_scenario.incidents[name].rate_per_day * days
        observed = int((incidents.type_id == code).sum())
        # Poisson: the two-sided 99.9% interval; a wrong rate or unit fails this
        lo, hi = stats.poisson.ppf([0.0005, 0.9995], expected)
        assert lo <= observed <= hi, (name, observed, expected)


def test_hourly_profile_is_followed(small_scenario: Scenario, small_world: World) -> None:
    days = 60.0
    incidents = generate_incidents(_long(small_scenario, days), small_world.node_district, seed=6)
    code = incidents.type_names.index("traffic")
    hours = (incidents.t_call_s[incidents.type_id == code] // 3600).astype(int) % 24
    observed = np.bincount(hours, minlength=24)
    profile = np.array(small_scenario.incidents["traffic"].hourly_profile, dtype=float)
    expected = profile / profile.sum() * observed.sum()
    assert stats.chisquare(observed, expected).pvalue > 0.001


def test_district_weights_are_followed(small_world: World) -> None:
    scenario = load_scenario(
        SMALL,
        ["duration_days=30", 'incidents.theft.district_weights={ "Old Town" = 3.0, Hills = 1.0 }'],
    )
    incidents = generate_incidents(scenario, small_world.node_district, seed=8)
    theft = incidents.type_id == incidents.type_names.index("theft")
    names = np.array(small_world.district_names)[small_world.node_district[incidents.node[theft]]]
    assert set(names) == {"Old Town", "Hills"}
    share = float((names == "Old Town").mean())
    n = names.shape[0]
    assert abs(share - 0.75) < 4 * np.sqrt(0.75 * 0.25 / n)


def test_incidents_do_not_depend_on_fleets(small_world: World) -> None:
    base = load_scenario(SMALL)
    other = load_scenario(SMALL, ["volunteers.count=10", "police.patrol_units=3"])
    a = generate_incidents(base, small_world.node_district, seed=11)
    b = generate_incidents(other, small_world.node_district, seed=11)
    assert np.array_equal(a.t_call_s, b.t_call_s)
    assert np.array_equal(a.node, b.node)
    assert np.array_equal(a.on_scene_s, b.on_scene_s)


def test_other_seed_other_incidents(small_scenario: Scenario, small_world: World) -> None:
    a = generate_incidents(small_scenario, small_world.node_district, seed=1)
    b = generate_incidents(small_scenario, small_world.node_district, seed=2)
    assert a.count != b.count or not np.array_equal(a.t_call_s, b.t_call_s)


def test_on_scene_mean_matches_the_distribution(small_world: World) -> None:
    scenario = load_scenario(SMALL, ["duration_days=60"])
    incidents = generate_incidents(scenario, small_world.node_district, seed=9)
    code = incidents.type_names.index("dispute")
    draws = incidents.on_scene_s[incidents.type_id == code]
    spec = scenario.incidents["dispute"].on_scene_s
    sd = spec.mean_s * spec.cv
    assert abs(draws.mean() - spec.mean_s) < 4 * sd / np.sqrt(draws.shape[0])


def test_day_of_week_factors_shape_daily_counts(small_world: World) -> None:
    # Sundays at three times a weekday's rate; the run starts on a Saturday, so its days
    # 1, 8, 15, ... are Sundays; 56 days give 8 Sundays and 48 other days
    week = "[1, 1, 1, 1, 1, 1, 3]"
    scenario = load_scenario(SMALL, ["duration_days=56", "start_weekday=\"saturday\"",
                                     f"incidents.theft.day_of_week={week}"])
    incidents = generate_incidents(scenario, small_world.node_district, 4)
    theft = incidents.type_id == incidents.type_names.index("theft")
    per_day = np.bincount((incidents.t_call_s[theft] // 86_400).astype(int), minlength=56)
    sunday = np.arange(56) % 7 == 1
    rate = scenario.incidents["theft"].rate_per_day
    mean_factor = 9 / 7  # factors are relative to their mean
    for days, factor in ((sunday, 3 / mean_factor), (~sunday, 1 / mean_factor)):
        expected = rate * factor * days.sum()
        low, high = stats.poisson.ppf([0.0005, 0.9995], expected)
        assert low <= per_day[days].sum() <= high
    unchanged = generate_incidents(load_scenario(SMALL, ["duration_days=56"]),
                                   small_world.node_district, 4)
    assert abs(unchanged.count - incidents.count) < 0.2 * unchanged.count
