"""Mediation as it works: street mediators on scene, then the stations' mediation rooms.

The rooms are checked against queueing theory: Little's law (L = lambda W) over
replications with the default rosters, and Erlang C's mean wait in the M/M/c case.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from scipy import stats

from gridsim import World, build_world, load_scenario
from gridsim.api import result_files, run
from gridsim.demand.incidents import generate_incidents
from gridsim.scenario import Scenario
from gridsim.sim.dispatch import mediation as med
from gridsim.sim.engine import simulate
from gridsim.sim.records import KIND_CODE, SimulationRecords
from gridsim.validation.analytic.erlang import erlang_c
from gridsim.world.fleets import shift_covers

from .conftest import SMALL

CI = 0.99
# ten days with two of warm-up, both at midnight, and enough disputes to queue overnight
LITTLE = ["duration_days=10", "warmup_hours=48", "volunteers.count=0",
          "incidents.dispute.rate_per_day=300", "mediators.count=60"]


def _records(scenario: Scenario, world: World, seed: int) -> SimulationRecords:
    return simulate(world, generate_incidents(scenario, world.node_district, seed), seed)


def _window_cases(records: SimulationRecords, start_s: float, end_s: float
                  ) -> dict[str, np.ndarray]:
    cases = records.mediation_cases
    rows = (cases["t_arrive_room_s"] >= start_s) & (cases["t_arrive_room_s"] < end_s)
    return {name: column[rows] for name, column in cases.items()}


@pytest.fixture(scope="module")
def little() -> tuple[Scenario, World, list[SimulationRecords]]:
    scenario = load_scenario(SMALL, LITTLE)
    world = build_world(scenario)
    return scenario, world, [_records(scenario, world, seed) for seed in range(1, 9)]


def _within_ci(diff: np.ndarray) -> tuple[float, float]:
    """Return |mean| and the CI half-width of the mean of ``diff`` over replications."""
    half = stats.t.ppf(0.5 + CI / 2, diff.shape[0] - 1) * diff.std(ddof=1) / np.sqrt(
        diff.shape[0])
    return abs(float(diff.mean())), float(half)


def test_littles_law_holds_in_the_rooms(little) -> None:  # type: ignore[no-untyped-def]
    """Time-average cases in the rooms (the rooms' own tally) = arrival rate x mean stay."""
    scenario, _, runs = little
    start_s, end_s = scenario.warmup_hours * 3600.0, scenario.duration_s
    rows = []
    for records in runs:
        room = records.mediation_room
        span = room["window_s"]
        assert span == end_s - start_s
        cases = _window_cases(records, start_s, end_s)
        assert np.all(cases["outcome"] != med.OPEN)  # the drain served every case
        rate = cases["incident"].shape[0] / span
        stay = cases["t_end_s"] - cases["t_arrive_room_s"]
        wait = cases["t_start_s"] - cases["t_arrive_room_s"]
        rows.append((room["in_system_s"] / span, rate * stay.mean(),
                     room["in_queue_s"] / span, rate * wait.mean()))
    table = np.array(rows)
    for l_col, lw_col in ((0, 1), (2, 3)):  # L = lambda W, Lq = lambda Wq
        diff = table[:, l_col] - table[:, lw_col]
        gap, half = _within_ci(diff)
        assert half > 0.0
        assert gap <= half, (table[:, l_col].mean(), table[:, lw_col].mean(), half)
        assert gap < 0.1 * table[:, l_col].mean()
    # the rooms queue: most of the time in the system is waiting for a mediator at night
    assert table[:, 2].mean() > 0.2 * table[:, 0].mean()


def test_rooms_serve_first_come_first_served_without_idling(little) -> None:  # type: ignore[no-untyped-def]
    scenario, world, runs = little
    records = runs[0]
    cases = records.mediation_cases
    fleets = world.fleets
    station = np.concatenate([fleets.resident_mediators.station,
                              fleets.part_time_mediators.station])
    start_h = np.concatenate([fleets.resident_mediators.shift_start_h,
                              fleets.part_time_mediators.shift_start_h])
    length_h = np.concatenate([fleets.resident_mediators.shift_length_h,
                               fleets.part_time_mediators.shift_length_h])
    m = cases["mediator"]
    assert np.all(m >= 0)
    assert np.all(cases["t_start_s"] >= cases["t_arrive_room_s"])
    assert np.all(cases["t_end_s"] > cases["t_start_s"])
    assert np.array_equal(station[m], cases["station"])
    assert all(shift_covers(start_h[k], length_h[k], t) for k, t in
               zip(m.tolist(), cases["t_start_s"].tolist(), strict=True))
    for k in np.unique(m).tolist():  # one case at a time per mediator
        mine = np.flatnonzero(m == k)
        order = np.argsort(cases["t_start_s"][mine])
        assert np.all(cases["t_start_s"][mine][order][1:] >= cases["t_end_s"][mine][order][:-1])
    shift_starts_s = {day * 86_400.0 + h * 3600.0 for day in range(12)
                      for h in set(start_h.tolist())}
    for s in np.unique(cases["station"]).tolist():
        mine = cases["station"] == s
        arrive, begin = cases["t_arrive_room_s"][mine], cases["t_start_s"][mine]
        assert np.all(np.diff(begin[np.argsort(arrive, kind="stable")]) >= 0)  # FIFO
        # a case that waited started when a case there ended or a shift began
        ends = set(cases["t_end_s"][mine].tolist())
        waited = begin > arrive
        assert all(t in ends or t in shift_starts_s for t in begin[waited].tolist())


def test_cases_reach_the_room_when_the_street_mediator_is_free(little) -> None:  # type: ignore[no-untyped-def]
    scenario, world, runs = little
    records = runs[1]
    d = records.dispatches
    rows = np.flatnonzero(d["kind"] == KIND_CODE["mediator"])
    first = rows[np.unique(d["incident"][rows], return_index=True)[1]]
    free_at = dict(zip(d["incident"][first].tolist(), d["t_free_s"][first].tolist(),
                       strict=True))
    cases = records.mediation_cases
    assert [free_at[i] for i in cases["incident"].tolist()] == cases["t_arrive_room_s"].tolist()
    node_station = world.zones.node_station[records.incidents.node]
    assert np.array_equal(cases["station"], node_station[cases["incident"]])
    path = records.mediation_path
    assert set(np.flatnonzero(path == med.PATH_ROOM).tolist()) == set(
        cases["incident"].tolist())
    assert np.array_equal(np.flatnonzero(path != med.PATH_NONE), np.unique(d["incident"][rows]))
    # settled on scene with settle_on_scene_prob: a binomial check over all replications
    paths = np.concatenate([r.mediation_path for r in runs])
    street = paths[paths != med.PATH_NONE]
    p = scenario.mediators.settle_on_scene_prob
    share = float((street == med.PATH_ON_SCENE).mean())
    assert abs(share - p) < 4 * np.sqrt(p * (1 - p) / street.shape[0])


def _mmc(servers: int, arrivals_per_h: float, service_mean_s: float, days: float,
         settle_on_scene: float = 0.5) -> Scenario:
    """Return a one-station city whose room is M/M/c: Poisson cases, exponential service.

    Street mediators never queue (many, always on duty), so the cases they bring back
    leave an M/G/infinity system and reach the room as a Poisson stream.
    """
    data: dict[str, Any] = {
        "name": "room-mmc",
        "duration_days": days,
        "warmup_hours": 48,
        "city": {
            "circuity": 1.0,
            "districts": [{"name": "one", "population": 1000, "area_km2": 1.0, "lat": 0.0,
                           "lon": 0.0, "character": "urban_core"}],
            "explicit": {"nodes_xy_m": [[0.0, 0.0], [100.0, 0.0]],
                         "node_district": ["one", "one"], "edges": [[0, 1]],
                         "station_nodes": [0]},
        },
        "police": {"patrol_units": 0, "community_police": 0},
        "mediators": {"count": 80, "shifts": [{"start_h": 0, "length_h": 24}],
                      "dispatch_delay_s": 0.0, "settle_on_scene_prob": settle_on_scene},
        "mediation_room": {
            "full_time": servers, "part_time": 0,
            "full_time_shifts": [{"start_h": 0, "length_h": 24}],
            "service_s": {"dist": "exponential", "mean_s": service_mean_s},
        },
        "grid_workers": {"per_grid": 0, "per_micro_grid": 0},
        "volunteers": {"count": 0},
        "watch_points": {"count": 0},
        "dispatch": {"mediation_types": ["dispute"]},
        "incidents": {"dispute": {
            "rate_per_day": arrivals_per_h * 24.0 / (1.0 - settle_on_scene),
            "hourly_profile": [1.0] * 24,
            "priority": 4,
            "on_scene_s": {"dist": "exponential", "mean_s": 1800.0},
            "responders": ["watch_points"],
        }},
    }
    return Scenario.model_validate(data)


def test_mmc_room_matches_erlang_c() -> None:
    servers, per_h, service_s = 2, 1.2, 3600.0  # utilisation 0.6
    scenario = _mmc(servers, per_h, service_s, days=100.0)
    world = build_world(scenario)
    start_s, end_s = scenario.warmup_hours * 3600.0, scenario.duration_s
    waits, busy, stays, outcomes = [], [], [], []
    for seed in range(1, 11):
        records = _records(scenario, world, seed)
        cases = _window_cases(records, start_s, end_s)
        waits.append((cases["t_start_s"] - cases["t_arrive_room_s"]).mean())
        stays.append((cases["t_end_s"] - cases["t_arrive_room_s"]).mean())
        room = records.mediation_room
        busy.append(room["busy_s"] / room["on_duty_s"])
        outcomes.append(cases["outcome"])
    theory = erlang_c(per_h / 3600.0, 1.0 / service_s, servers)
    for sample, exact in ((np.array(waits), theory.mean_wait),
                          (np.array(stays), theory.mean_response),
                          (np.array(busy), theory.utilisation)):
        gap, half = _within_ci(sample - exact)
        assert gap <= half, (sample.mean(), exact, half)
        assert half < 0.15 * exact  # a CI narrow enough to catch a real difference
    # each case ends settled / referred / escalated with the room's probabilities
    every = np.concatenate(outcomes)
    cfg = scenario.mediation_room
    for code, p in enumerate((cfg.settle_prob, cfg.refer_prob, cfg.escalate_prob)):
        share = float((every == code).mean())
        assert abs(share - p) < 4 * np.sqrt(p * (1 - p) / every.shape[0])


def test_a_room_without_staff_leaves_its_cases_open() -> None:
    scenario = _mmc(1, 1.0, 3600.0, days=3.0).model_copy(
        update={"mediation_room": _mmc(1, 1.0, 3600.0, 3.0).mediation_room.model_copy(
            update={"full_time": 0})})
    world = build_world(scenario)
    records = _records(scenario, world, 1)
    cases = records.mediation_cases
    assert cases["incident"].shape[0] > 0
    assert np.all(cases["outcome"] == med.OPEN) and np.all(np.isnan(cases["t_start_s"]))
    summary = run(scenario, seed=1, world=world).summary["mediation"]
    assert summary["room_open"] == summary["to_room"] and summary["room_wait_s"]["n"] == 0
    assert summary["room_utilisation"] is None


def test_summary_section_and_results_file(small_world: World) -> None:
    scenario = small_world.scenario
    result = run(scenario, seed=3, world=small_world)
    section = result.summary["mediation"]
    records = result.records
    assert section["cases_on_scene"] == section["settled_on_scene"] + section["to_room"]
    room = section["room_settled"] + section["room_referred"] + section["room_escalated"]
    assert room + section["room_open"] == section["to_room"]
    assert section["room_wait_s"]["n"] == section["to_room"] - section["room_open"]
    per_year = 365.0 / scenario.duration_days
    assert section["settled_per_year"] == round(
        (section["settled_on_scene"] + section["room_settled"]) * per_year, 0)
    d = records.dispatches
    street = d["kind"] == KIND_CODE["mediator"]
    busy_h = float((d["t_free_s"][street] - d["t_dispatch_s"][street]).sum()) / 3600.0
    escalated_h = section["room_escalated"] * scenario.mediation_room.escalation_police_s / 3600
    assert section["officer_hours_saved"] == round(busy_h - escalated_h, 1)
    assert "mediation.parquet" in result_files(result)


def test_mediation_parquet_has_a_row_per_room_case(small_world: World, tmp_path) -> None:  # type: ignore[no-untyped-def]
    from pyarrow import parquet

    from gridsim.api import write_results

    result = run(small_world.scenario, seed=3, world=small_world)
    folder = write_results(result, tmp_path / "out")
    table = parquet.read_table(folder / "mediation.parquet").to_pydict()
    cases = result.records.mediation_cases
    assert list(table) == ["incident", "station", "mediator", "t_arrive_room_s", "t_start_s",
                           "t_end_s", "outcome"]
    assert table["incident"] == cases["incident"].tolist()
    names = [*med.OUTCOMES, "open"]
    assert table["outcome"] == [names[c] for c in cases["outcome"].tolist()]
    again = write_results(run(small_world.scenario, seed=3, world=small_world), tmp_path / "b")
    assert (folder / "mediation.parquet").read_bytes() == (again / "mediation.parquet").read_bytes()


def test_resident_mediators_are_stations_fleets(small_world: World) -> None:
    scenario, fleets = small_world.scenario, small_world.fleets
    room = scenario.mediation_room
    assert fleets.resident_mediators.size == room.full_time
    assert fleets.part_time_mediators.size == room.part_time
    stations = small_world.zones.station_count
    assert np.unique(fleets.resident_mediators.station).shape[0] == stations
    assert np.all(fleets.part_time_mediators.shift_length_h < fleets.resident_mediators
                  .shift_length_h.min())
    # one more full-timer adds one row and moves nobody
    more = build_world(load_scenario(SMALL, [f"mediation_room.full_time={room.full_time + 1}"]))
    assert np.array_equal(more.fleets.resident_mediators.station[:-1],
                          fleets.resident_mediators.station)


def test_same_seed_same_room(little) -> None:  # type: ignore[no-untyped-def]
    scenario, world, runs = little
    again = _records(scenario, world, 1)
    for name, column in runs[0].mediation_cases.items():
        np.testing.assert_array_equal(again.mediation_cases[name], column)
    assert again.mediation_room == runs[0].mediation_room
    assert np.array_equal(again.mediation_path, runs[0].mediation_path)
