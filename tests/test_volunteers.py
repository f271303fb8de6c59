"""Volunteer alerting (issue 14): rounds, stand-down, quiet hours, fatigue, churn, travel.

Most cases drive ``VolunteerAlerts`` on a hand-built catchment: one node whose
volunteers sit at given road distances, everyone available, acceptance 1 unless a test
says otherwise, so each outcome is known exactly.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import gridsim
from gridsim.city.reach import Reach
from gridsim.scenario import Scenario, load_scenario
from gridsim.scenario.guard import estimate
from gridsim.scenario.schema import Volunteers
from gridsim.sim.dispatch.volunteers import VolunteerAlerts, in_window, volunteer_travel
from gridsim.sim.records import KIND_CODE, DispatchLog
from gridsim.world.build import World
from tests.conftest import SMALL

DAY = 86_400.0
HOUR = 3600.0
VOLUNTEER = KIND_CODE["volunteer"]


def make_layer(
    dists: list[float], radius_m: float = 500.0, wanted: int = 3, seed: int = 1,
    speed_mps: float = 2.0, **config: Any,
) -> tuple[VolunteerAlerts, DispatchLog]:
    """Return a layer whose only node has volunteers 0..n-1 at ``dists`` road metres."""
    base: dict[str, Any] = {
        "count": len(dists),
        "availability_by_hour": [1.0] * 24,
        "acceptance_prob": 1.0,
        "acceptance_decay_m": 1e12,  # no fall with distance
        "time_to_accept_s": {"dist": "fixed", "mean_s": 10.0},
        "no_show_prob": 0.0,
        "reaction_s": 0.0,
        "on_scene_s": {"dist": "fixed", "mean_s": 600.0},
        "fatigue_alerts": 1e12,  # no fatigue
        "churn_per_day": 0.0,
        "churn_per_alert": 0.0,
        "recruit_per_day": 0.0,
    }
    alerting = {"round_size": 3, "round_interval_s": 60.0, "radius_growth": 2.0,
                "max_rounds": 2, **config.pop("alerting", {})}
    cfg = Volunteers.model_validate({**base, **config, "alerting": alerting})
    n = len(dists)
    near = Reach(start=np.array([0, n], dtype=np.int64), item=np.arange(n, dtype=np.int32),
                 dist_m=np.array(dists, dtype=np.float32))
    log = DispatchLog()
    layer = VolunteerAlerts(cfg, radius_m, wanted, near, np.zeros(100_000, dtype=np.int32),
                            log, seed, np.full(n, speed_mps))
    return layer, log


def sent(log: DispatchLog) -> list[int]:
    """Return the volunteers the log sends, in log order."""
    return log.columns()["responder"].tolist()


# --- who is alerted ----------------------------------------------------------------------


def test_busy_volunteers_are_not_alerted() -> None:
    layer, log = make_layer([100.0, 200.0, 300.0, 400.0])
    layer.busy_until_s[1] = 5_000.0
    layer.respond(0, 1_000.0)
    alerts = layer.alerts_per_volunteer().tolist()
    assert alerts == [1, 0, 1, 1]
    assert sorted(sent(log)) == [0, 2, 3]
    # once free again, it is the nearest free one
    layer.respond(1, 5_000.0)
    assert layer.alerts_per_volunteer()[1] == 1


def test_volunteers_sent_are_busy_for_the_next_call() -> None:
    layer, log = make_layer([100.0, 200.0, 300.0, 400.0, 450.0, 480.0])
    layer.respond(0, 0.0)
    layer.respond(1, 30.0)  # the first three are on their way
    assert sent(log) == [0, 1, 2, 3, 4, 5]
    assert layer.alerts_per_volunteer().tolist() == [1] * 6


def test_quiet_hours_send_no_alerts() -> None:
    layer, log = make_layer([100.0, 200.0, 300.0], alerting={"quiet_hours": [23, 7]})
    for t in (23.5 * HOUR, 2 * HOUR, 6.99 * HOUR, DAY + 23 * HOUR):
        layer.respond(0, t)
    assert layer.alerts_per_volunteer().sum() == 0 and sent(log) == []
    layer.respond(1, 7 * HOUR)
    assert layer.alerts_per_volunteer().sum() == 3


def test_a_later_round_falling_in_quiet_hours_does_not_go_out() -> None:
    # nobody accepts, so a second round is due 60 s later, at 23:00:30: quiet
    layer, _ = make_layer([100.0, 200.0, 300.0, 400.0, 600.0], acceptance_prob=0.0,
                          alerting={"quiet_hours": [23, 7]})
    layer.respond(0, 23 * HOUR - 30.0)
    assert layer.alerts_per_volunteer().tolist() == [1, 1, 1, 0, 0]
    assert layer.tally()["rounds"] == 1


def test_quiet_window_wraps_midnight() -> None:
    assert in_window(23.5 * HOUR, (23.0, 7.0)) and in_window(DAY + 3 * HOUR, (23.0, 7.0))
    assert not in_window(7 * HOUR, (23.0, 7.0)) and not in_window(12 * HOUR, (23.0, 7.0))
    assert in_window(13 * HOUR, (12.0, 14.0)) and not in_window(14 * HOUR, (12.0, 14.0))


# --- rounds and stand-down ---------------------------------------------------------------


def test_at_most_wanted_go_and_the_rest_are_stood_down() -> None:
    layer, log = make_layer([50.0 * k for k in range(1, 11)], wanted=2,
                            time_to_accept_s={"dist": "lognormal", "mean_s": 60.0, "cv": 1.0},
                            alerting={"round_size": 10})
    layer.respond(0, 0.0)
    tally = layer.tally()
    assert tally["alerts"] == 10 and tally["accepts"] == 10
    assert len(sent(log)) == 2 and tally["stand_downs"] == 8
    # the two sent are the first two to accept: nobody sent accepted after a stood-down one
    assert tally["rounds"] == 1


def test_rounds_widen_only_when_too_few_accept() -> None:
    dists = [100.0, 200.0, 300.0, 600.0, 700.0, 800.0, 1500.0]
    # everyone accepts within 10 s: one round is enough
    layer, log = make_layer(dists)
    layer.respond(0, 0.0)
    assert layer.alerts_per_volunteer().tolist() == [1, 1, 1, 0, 0, 0, 0]
    assert layer.tally()["rounds"] == 1 and sent(log) == [0, 1, 2]
    # nobody accepts: the second round widens to 1 km, never to the volunteer at 1.5 km
    layer, log = make_layer(dists, acceptance_prob=0.0)
    layer.respond(0, 0.0)
    assert layer.alerts_per_volunteer().tolist() == [1, 1, 1, 1, 1, 1, 0]
    assert layer.tally()["rounds"] == 2 and sent(log) == []


def test_a_round_goes_out_when_acceptances_come_too_late() -> None:
    # all accept, but only after 120 s: at the second round (60 s) none has, so it goes out
    layer, log = make_layer([100.0, 200.0, 300.0, 600.0, 700.0, 800.0],
                            time_to_accept_s={"dist": "fixed", "mean_s": 120.0})
    layer.respond(0, 0.0)
    tally = layer.tally()
    assert tally["rounds"] == 2 and tally["accepts"] == 6 and tally["stand_downs"] == 3
    assert sent(log) == [0, 1, 2]
    assert log.columns()["t_dispatch_s"].tolist() == [120.0] * 3


def test_one_acceptance_short_sends_one_more_round() -> None:
    # wanted 3, the first round has two volunteers within 500 m; both accept in 10 s
    layer, log = make_layer([100.0, 200.0, 600.0, 700.0, 800.0, 900.0])
    layer.respond(0, 0.0)
    assert layer.alerts_per_volunteer().tolist() == [1, 1, 1, 1, 1, 0]
    assert sent(log) == [0, 1, 2]
    # the third accepted 10 s after the second round, which went out at 60 s
    assert log.columns()["t_dispatch_s"].tolist() == [10.0, 10.0, 70.0]


def test_an_empty_first_round_widens_at_once() -> None:
    layer, log = make_layer([700.0, 800.0])
    layer.respond(0, 100.0)
    assert sent(log) == [0, 1]
    assert log.columns()["t_dispatch_s"].tolist() == [110.0, 110.0]
    assert layer.tally()["rounds"] == 1


def test_arrival_is_acceptance_reaction_and_travel_at_own_speed() -> None:
    layer, log = make_layer([300.0], wanted=1, speed_mps=1.5, reaction_s=20.0)
    layer.respond(0, 1_000.0)
    cols = log.columns()
    assert cols["t_dispatch_s"][0] == 1_010.0
    assert cols["t_arrive_s"][0] == pytest.approx(1_010.0 + 20.0 + 300.0 / 1.5)
    assert cols["t_free_s"][0] == pytest.approx(cols["t_arrive_s"][0] + 600.0 + 200.0)


def test_no_shows_accept_but_never_arrive() -> None:
    layer, log = make_layer([100.0, 200.0, 300.0, 400.0], no_show_prob=1.0)
    layer.respond(0, 0.0)
    assert sent(log) == [] and layer.tally()["no_shows"] == 3
    assert layer.busy_until_s.tolist() == [0.0] * 4  # a no-show is not kept busy


@settings(max_examples=40, deadline=None)
@given(n=st.integers(0, 40), wanted=st.integers(1, 5), round_size=st.integers(1, 6),
       max_rounds=st.integers(1, 4), accept=st.floats(0.0, 1.0),
       available=st.floats(0.0, 1.0), seed=st.integers(0, 1000))
def test_limits_hold_on_random_cases(n: int, wanted: int, round_size: int, max_rounds: int,
                                     accept: float, available: float, seed: int) -> None:
    rng = np.random.default_rng(seed)
    dists = np.sort(rng.uniform(0.0, 2_500.0, n)).tolist()
    layer, log = make_layer(
        dists, wanted=wanted, seed=seed, acceptance_prob=accept, no_show_prob=0.2,
        availability_by_hour=[available] * 24,
        time_to_accept_s={"dist": "exponential", "mean_s": 50.0},
        alerting={"round_size": round_size, "max_rounds": max_rounds, "radius_growth": 1.5},
    )
    busy = set(rng.choice(n, size=n // 3, replace=False).tolist()) if n else set()
    for v in busy:
        layer.busy_until_s[v] = 1e9
    layer.respond(0, 0.0)
    alerts = layer.alerts_per_volunteer()
    tally = layer.tally()
    assert all(alerts[v] == 0 for v in busy)
    assert alerts.sum() == tally["alerts"] <= round_size * max_rounds
    assert tally["rounds"] <= max_rounds
    beyond = np.array(dists) > 500.0 * 1.5 ** (max_rounds - 1)
    assert alerts[beyond].sum() == 0 if n else True
    went = sent(log)
    assert len(went) <= wanted and set(went) <= set(np.flatnonzero(alerts).tolist())
    assert tally["accepts"] - tally["stand_downs"] - tally["no_shows"] == len(went)


# --- acceptance, fatigue and churn -------------------------------------------------------


def test_acceptance_falls_with_distance() -> None:
    # one volunteer at 1 km, decay 500 m: p = exp(-2) = 0.135; no-shows keep it free
    layer, _ = make_layer([1_000.0], wanted=1, acceptance_decay_m=500.0, no_show_prob=1.0)
    for i in range(3_000):
        layer.respond(i, 100.0 * i)
    rate = layer.tally()["accepts"] / layer.tally()["alerts"]
    assert layer.tally()["alerts"] == 3_000
    assert rate == pytest.approx(np.exp(-2.0), abs=0.02)


def test_willingness_falls_after_many_alerts_and_recovers() -> None:
    half_life_days = 2.0
    layer, _ = make_layer([100.0], wanted=1, no_show_prob=1.0, fatigue_alerts=1.0,
                          fatigue_half_life_days=half_life_days)
    assert layer.fatigue_factor(0, 0.0) == 1.0
    for i in range(200):  # 200 alerts, a minute apart
        layer.respond(i, 60.0 * i)
    t_end = 60.0 * 199
    # each alert weighs a little less than 1 by now: the load is just under 200
    assert 1.0 / 201.0 < layer.fatigue_factor(0, t_end) < 1.0 / 190.0
    # accepting with p = 1 / (1 + load): about ln(200) + 0.58 = 5.9 of 200 alerts
    assert 1 <= layer.tally()["accepts"] <= 20
    # after one half-life the load has halved, after 20 it is gone
    half = layer.fatigue_factor(0, t_end + half_life_days * DAY)
    assert 1.0 / (1.0 + 100.0) <= half <= 1.0 / (1.0 + 95.0)
    assert layer.fatigue_factor(0, t_end + 20 * half_life_days * DAY) > 0.999
    accepts = layer.tally()["accepts"]
    rested = t_end + 20 * half_life_days * DAY
    for i in range(5):
        layer.respond(1_000 + i, rested + 3_600.0 * 24 * 30 * i)  # a month apart
    assert layer.tally()["accepts"] - accepts == 5


def test_volunteers_who_left_get_no_alerts() -> None:
    # every alert makes its volunteer leave: nobody is alerted twice
    layer, log = make_layer([10.0 * k for k in range(1, 31)], churn_per_alert=1.0)
    for i in range(20):
        layer.respond(i, 1_000.0 * i)
    alerts = layer.alerts_per_volunteer()
    assert alerts.max() == 1 and alerts.sum() == 30
    assert sent(log) == [] and layer.tally()["left_after_alert"] == 30
    assert not layer.active_at(20_000.0).any()


def test_base_churn_empties_the_pool_and_stops_alerts() -> None:
    layer, log = make_layer([100.0, 200.0, 300.0], churn_per_day=1.0)
    layer.respond(0, DAY - 1.0)
    assert layer.alerts_per_volunteer().sum() == 3
    layer.respond(1, DAY + 10_000.0)  # everyone left at the day boundary
    assert layer.alerts_per_volunteer().sum() == 3
    assert layer.tally()["left_base"] == 3 and not layer.active_at(2 * DAY).any()


def test_churn_and_recruitment_rates() -> None:
    # 20,000 seats, nobody alerted: 10 days of 10% leaving a day leaves 0.9^10 = 34.9%
    layer, _ = make_layer([1e6] * 20_000, churn_per_day=0.1)
    assert layer.active_at(10 * DAY).mean() == pytest.approx(0.9**10, abs=0.01)
    # recruits fill the empty seats at 5% of the pool a day
    layer, _ = make_layer([1e6] * 20_000, churn_per_day=0.1, recruit_per_day=0.05)
    share = 1.0
    for _ in range(10):
        share = min(1.0, share * 0.9 + 0.05)
    assert layer.active_at(10 * DAY).mean() == pytest.approx(share, abs=0.01)


def test_recruits_come_rested() -> None:
    layer, _ = make_layer([100.0], wanted=1, no_show_prob=1.0, fatigue_alerts=1.0,
                          fatigue_half_life_days=1000.0, churn_per_alert=1.0,
                          recruit_per_day=1.0)
    layer.respond(0, 0.0)
    assert layer.fatigue_factor(0, 10.0) == pytest.approx(0.5)
    assert not layer.active_at(10.0)[0]
    assert layer.active_at(DAY)[0]  # a recruit took the seat
    assert layer.fatigue_factor(0, DAY) == 1.0


def test_weekly_cap() -> None:
    layer, _ = make_layer([100.0], wanted=1, no_show_prob=1.0,
                          alerting={"max_alerts_per_week": 2})
    for i in range(5):
        layer.respond(i, DAY * i)  # days 0-4: week 0
    assert layer.alerts_per_volunteer()[0] == 2
    for i in range(5):
        layer.respond(10 + i, 7 * DAY + HOUR * i)  # week 1
    assert layer.alerts_per_volunteer()[0] == 4


# --- determinism, travel, catchments, the run summary ---------------------------------


def test_same_seed_same_log_and_tally() -> None:
    def trace(seed: int) -> tuple[dict[str, list[float]], dict[str, int], list[int]]:
        layer, log = make_layer(
            np.linspace(20.0, 1_200.0, 60).tolist(), seed=seed, acceptance_prob=0.4,
            availability_by_hour=[0.5] * 24, no_show_prob=0.2, churn_per_alert=0.05,
            churn_per_day=0.1, recruit_per_day=0.1, fatigue_alerts=3.0,
            time_to_accept_s={"dist": "lognormal", "mean_s": 60.0, "cv": 1.0})
        for i in range(300):
            layer.respond(i, 600.0 * i)
        cols = {k: v.tolist() for k, v in log.columns().items()}
        return cols, layer.tally(), layer.alerts_per_volunteer().tolist()

    assert trace(5) == trace(5)
    assert trace(5) != trace(6)


def test_travel_mix_matches_the_gps_study() -> None:
    config = load_scenario(None).volunteers
    mode, speed = volunteer_travel(config, 73_000, 1)
    q25, q50, q75 = np.percentile(speed, [25, 50, 75])
    # median 2.3 m/s, IQR 1.4-4.0 (Resuscitation 2020)
    assert q50 == pytest.approx(2.3, abs=0.1)
    assert q25 == pytest.approx(1.4, abs=0.1) and q75 == pytest.approx(4.0, abs=0.2)
    assert np.bincount(mode, minlength=3) / 73_000 == pytest.approx([0.5, 0.35, 0.15], abs=0.01)
    again_mode, again_speed = volunteer_travel(config, 73_000, 1)
    assert np.array_equal(mode, again_mode) and np.array_equal(speed, again_speed)
    assert not np.array_equal(speed, volunteer_travel(config, 73_000, 2)[1])


def test_catchment_covers_the_last_round(small_world: World) -> None:
    scenario = small_world.scenario
    first = scenario.dispatch.volunteer_radius_m
    last = scenario.volunteers.alerting.largest_radius_m(first)
    assert last == first * 2  # the small scenario: two rounds, doubling
    dist = small_world.catchments.volunteers.dist_m
    assert dist.max() <= last + 1e-3 and dist.max() > first


def test_guard_counts_the_last_round() -> None:
    one = load_scenario(SMALL, ["volunteers.alerting.max_rounds=1"])
    three = load_scenario(SMALL, ["volunteers.alerting.max_rounds=3"])

    def catchment_bytes(s: Scenario) -> float:
        return next(p.bytes for p in estimate(s) if p.what == "volunteer catchments")

    assert catchment_bytes(three) > 10 * catchment_bytes(one)


def test_run_summary_volunteer_section(small_scenario: Scenario, small_world: World) -> None:
    result = gridsim.run(small_scenario, seed=3, world=small_world)
    v = result.summary["volunteers"]
    records = result.records
    assert v["pool"] == small_scenario.volunteers.count
    assert v["alerts"] == int(records.volunteer_alerts.sum()) > 0
    assert v["arrivals"] == result.summary["by_responder_kind"]["volunteer"]["dispatches"]
    assert v["accepts"] - v["stand_downs"] - v["no_shows"] == v["arrivals"]
    assert v["redundant_arrivals"] == v["arrivals"] - v["incidents_reached"]
    assert 1.0 <= v["rounds_per_alerted_incident"] <= small_scenario.volunteers.alerting.max_rounds
    per_year = records.volunteer_alerts * 365.0
    assert v["alerts_per_volunteer_year"]["p99"] == pytest.approx(np.quantile(per_year, 0.99))
    assert 0.99 <= v["active_share_end"] <= 1.0
    # alerts go only to nearby volunteers: far fewer than everyone in the radius
    assert v["alerts"] <= v["alerted_incidents"] * 3 * 2
