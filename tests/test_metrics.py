"""Metrics: percentiles, their confidence intervals and per-incident outcomes."""

from __future__ import annotations

import numpy as np
import pytest

from gridsim.analysis.metrics import duty_by_hour, incident_outcomes, utilisation_by_hour
from gridsim.core.stats import describe, quantile_ci
from gridsim.demand.incidents import Incidents
from gridsim.sim.records import KIND_CODE, SimulationRecords
from gridsim.world.fleets import Fleet, Fleets


def test_describe_on_known_values() -> None:
    stats = describe(np.array([np.nan, *range(1, 101)], dtype=float))
    assert stats["n"] == 100
    assert stats["p50"] == pytest.approx(50.5)
    assert stats["p90"] == pytest.approx(90.1)
    assert stats["p50_ci"][0] <= 50.5 <= stats["p50_ci"][1]


def test_describe_of_nothing_is_empty() -> None:
    assert describe(np.array([np.nan]))["p50"] is None


@pytest.mark.parametrize("q", [0.5, 0.9])
def test_quantile_ci_covers_the_true_quantile_95_percent_of_the_time(q: float) -> None:
    rng = np.random.default_rng(12)
    true = -np.log(1 - q)  # exponential(1) quantile
    trials = 600
    hits = 0
    for _ in range(trials):
        lo, hi = quantile_ci(np.sort(rng.exponential(1.0, 200)), q)
        hits += lo <= true <= hi
    # a 95% interval: coverage between 92% and 99% (binomial sd ~0.9% at 600 trials)
    assert 0.92 <= hits / trials <= 0.99


def test_incident_outcomes_pick_the_earliest_arrivals() -> None:
    incidents = Incidents(
        type_names=("theft",),
        t_call_s=np.array([0.0, 100.0, 200.0]),
        type_id=np.zeros(3, dtype=np.int16),
        node=np.zeros(3, dtype=np.int32),
        priority=np.full(3, 3, dtype=np.int8),
        on_scene_s=np.full(3, 60.0),
    )
    kinds = [KIND_CODE[k] for k in ("patrol", "volunteer", "volunteer", "patrol")]
    records = SimulationRecords(
        incidents=incidents,
        dispatches={
            "incident": np.array([0, 0, 1, 1], dtype=np.int32),
            "kind": np.array(kinds, dtype=np.int8),
            "responder": np.zeros(4, dtype=np.int32),
            "t_dispatch_s": np.array([0.0, 0.0, 100.0, 100.0]),
            "t_arrive_s": np.array([300.0, 120.0, 400.0, 250.0]),
            "t_free_s": np.array([900.0, 900.0, 900.0, 900.0]),
        },
        duration_s=1000.0,
        duty_unit_s={},
        volunteer_alerts=np.zeros(0, dtype=np.int32),
    )
    out = incident_outcomes(records)
    assert out["first_arrival_s"][:2].tolist() == [120.0, 150.0]
    assert np.isnan(out["first_arrival_s"][2])
    assert out["police_arrival_s"][:2].tolist() == [300.0, 150.0]
    assert out["first_kind"].tolist() == [KIND_CODE["volunteer"], KIND_CODE["patrol"], -1]
    assert out["local_before_police"].tolist() == [True, False, False]


def test_by_priority_splits_the_counted_incidents(small_scenario, small_world) -> None:  # type: ignore[no-untyped-def]
    from gridsim import run

    result = run(small_scenario, seed=4, world=small_world)
    summary, records = result.summary, result.records
    by_priority = summary["by_priority"]
    assert set(by_priority) == {str(p) for p in np.unique(records.incidents.priority)}
    assert sum(g["incidents"] for g in by_priority.values()) == summary["incidents"]
    police = incident_outcomes(records)["police_arrival_s"]
    first_priority = records.incidents.priority == 1
    assert by_priority["1"]["police_arrival_s"] == describe(police[first_priority])
    assert by_priority["1"]["incidents"] == int(first_priority.sum())


def test_duty_by_hour_follows_the_shifts() -> None:
    # one unit 22:00-06:00 and one 07:30-08:30, over two days
    duty = duty_by_hour(np.array([22.0, 7.5]), np.array([8.0, 1.0]), 2 * 86400.0)
    expected = np.zeros(24)
    expected[[22, 23, 0, 1, 2, 3, 4, 5]] = 2 * 3600.0
    expected[[7, 8]] = 2 * 1800.0
    assert duty == pytest.approx(expected)
    # a run ending mid-shift counts only the time simulated: 0-6 h and then 22-23.5 h
    part = duty_by_hour(np.array([22.0]), np.array([8.0]), 23.5 * 3600.0)
    assert part.sum() == pytest.approx(7.5 * 3600.0)
    assert part[23] == pytest.approx(1800.0)


def test_utilisation_by_hour_matches_the_run_totals(small_scenario, small_world) -> None:  # type: ignore[no-untyped-def]
    from gridsim import run

    result = run(small_scenario, seed=4, world=small_world)
    records, fleets = result.records, small_world.fleets
    by_hour = result.summary["utilisation_by_hour"]
    assert set(by_hour) == {"patrol", "community_police", "mediator"}
    for fleet in (fleets.patrol, fleets.community_police, fleets.mediators):
        duty = duty_by_hour(fleet.shift_start_h, fleet.shift_length_h, records.duration_s)
        assert duty.sum() == pytest.approx(records.duty_unit_s[fleet.kind])  # as the engine
        assert len(by_hour[fleet.kind]) == 24
        for hour in np.flatnonzero(duty == 0):
            assert by_hour[fleet.kind][hour] is None
        # hours weighted by their duty give back the run's utilisation, less the busy
        # time in hours when nobody of the fleet is on duty (jobs run past a shift's end)
        busy = sum(u * d for u, d in zip(by_hour[fleet.kind], duty, strict=True) if u is not None)
        overall = result.summary["by_responder_kind"][fleet.kind]["utilisation"]
        if np.all(duty > 0):
            assert busy / duty.sum() == pytest.approx(overall, abs=1e-3)
        else:
            assert busy / duty.sum() <= overall + 1e-3
    community = by_hour["community_police"]
    shift = small_scenario.police.community_shift
    assert all(community[h] is None for h in range(24)
               if (h - shift.start_h) % 24 >= shift.length_h)


def test_utilisation_by_hour_splits_busy_time_across_hours() -> None:
    incidents = Incidents(type_names=("theft",), t_call_s=np.array([0.0]),
                          type_id=np.zeros(1, dtype=np.int16), node=np.zeros(1, dtype=np.int32),
                          priority=np.ones(1, dtype=np.int8), on_scene_s=np.full(1, 60.0))
    records = SimulationRecords(
        incidents=incidents,
        dispatches={
            "incident": np.zeros(1, dtype=np.int32),
            "kind": np.array([KIND_CODE["patrol"]], dtype=np.int8),
            "responder": np.zeros(1, dtype=np.int32),
            "t_dispatch_s": np.array([3000.0]),  # 00:50 to 02:10
            "t_arrive_s": np.array([3600.0]),
            "t_free_s": np.array([7800.0]),
        },
        duration_s=86400.0, duty_unit_s={}, volunteer_alerts=np.zeros(0, dtype=np.int32),
    )

    def fleet(kind: str, units: int) -> Fleet:
        return Fleet(kind=kind, base_node=np.zeros(units, dtype=np.int32),
                     station=np.zeros(units, dtype=np.int32),
                     grid=np.full(units, -1, dtype=np.int32),
                     shift_start_h=np.zeros(units), shift_length_h=np.full(units, 24.0))

    fleets = Fleets(patrol=fleet("patrol", 2), community_police=fleet("community_police", 0),
                    mediators=fleet("mediator", 1), grid_workers=fleet("grid_worker", 0),
                    volunteers=fleet("volunteer", 0),
                    watch_point_node=np.zeros(0, dtype=np.int32))
    by_hour = utilisation_by_hour(records, fleets)
    # 600 s busy of 7200 unit-seconds on duty from 00:00, all of 01:00, 600 s from 02:00
    assert by_hour["patrol"][:4] == pytest.approx([600 / 7200, 0.5, 600 / 7200, 0.0], abs=1e-4)
    assert by_hour["community_police"] == [None] * 24  # nobody on duty
    assert by_hour["mediator"] == [0.0] * 24
