"""The engine's invariants, on small random scenarios (hypothesis) and on exact traces."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from scipy.sparse import csgraph

from gridsim import build_world, load_scenario, run
from gridsim.api import RunResult
from gridsim.demand.incidents import Incidents, generate_incidents
from gridsim.sim.dispatch.volunteers import volunteer_travel
from gridsim.sim.engine import roster_times_s, simulate
from gridsim.sim.records import KIND_CODE, POLICE_KINDS
from tests.conftest import SMALL

STATION_KINDS = {KIND_CODE[k] for k in (*POLICE_KINDS, "mediator")}
LOCAL_KINDS = {KIND_CODE["grid_worker"], KIND_CODE["volunteer"]}

overrides = st.builds(
    lambda nodes, patrol, community, mediators, volunteers, radius, k, grid_r, days, seed: [
        f"city.nodes={nodes}",
        f"city.seed={seed}",
        f"police.patrol_units={patrol}",
        f"police.community_police={community}",
        f"mediators.count={mediators}",
        f"volunteers.count={volunteers}",
        f"dispatch.volunteer_radius_m={radius}",
        f"dispatch.volunteer_max_dispatched={k}",
        f"dispatch.grid_radius_m={grid_r}",
        f"duration_days={days}",
        "zones.grids=40",
    ],
    nodes=st.integers(200, 700),
    patrol=st.integers(0, 12),
    community=st.integers(0, 6),
    mediators=st.integers(0, 6),
    volunteers=st.integers(0, 600),
    radius=st.sampled_from([0.0, 250.0, 800.0]),
    k=st.integers(1, 4),
    grid_r=st.sampled_from([0.0, 1000.0, 5000.0]),
    days=st.sampled_from([0.25, 0.5, 1.0]),
    seed=st.integers(0, 50),
)


def _check_invariants(result: RunResult) -> None:
    scenario, world, records = result.scenario, result.world, result.records
    inc = records.incidents
    d = records.dispatches
    # every generated incident is in the log exactly once, as generated
    again = generate_incidents(scenario, world.node_district, result.seed)
    assert inc.count == again.count == result.summary["incidents"]
    assert np.array_equal(inc.t_call_s, again.t_call_s)
    assert np.all((d["incident"] >= 0) & (d["incident"] < inc.count))

    t_call = inc.t_call_s[d["incident"]]
    node = inc.node[d["incident"]]
    assert np.all(d["t_dispatch_s"] >= t_call)
    assert np.all(d["t_arrive_s"] >= d["t_dispatch_s"])
    arrived = np.isfinite(d["t_arrive_s"])  # inf: a unit stood down before it arrived
    assert np.all(d["t_free_s"][arrived] >= d["t_arrive_s"][arrived])

    # station units (free flow, parked at stations): arrival = dispatch + car time from
    # their station, computed afresh
    car = world.network.graph("car_s")
    fleets = {
        KIND_CODE["patrol"]: world.fleets.patrol,
        KIND_CODE["community_police"]: world.fleets.community_police,
        KIND_CODE["mediator"]: world.fleets.mediators,
        KIND_CODE["grid_worker"]: world.fleets.grid_workers,
        KIND_CODE["volunteer"]: world.fleets.volunteers,
    }
    for kind, fleet in fleets.items():
        rows = np.flatnonzero(d["kind"] == kind)
        if rows.shape[0] == 0:
            continue
        base = fleet.base_node[d["responder"][rows]]
        if kind in STATION_KINDS:
            travel = csgraph.dijkstra(car, indices=base)[np.arange(rows.shape[0]), node[rows]]
            came = np.isfinite(d["t_arrive_s"][rows])  # a stood-down unit never arrives
            assert np.allclose((d["t_arrive_s"][rows] - d["t_dispatch_s"][rows])[came],
                               travel[came], atol=1e-2)
        else:
            road_m = csgraph.dijkstra(world.network.graph(), indices=base)[
                np.arange(rows.shape[0]), node[rows]
            ]
            if kind == KIND_CODE["grid_worker"]:
                cfg = scenario.grid_workers
                speed = scenario.city.speed_mps(cfg.mode)
                expected = cfg.reaction_s + road_m / speed
            else:  # each volunteer at their own speed, from accepting (t_dispatch_s)
                speed = volunteer_travel(scenario.volunteers, fleet.size, scenario.city.seed)[1]
                expected = scenario.volunteers.reaction_s + road_m / speed[d["responder"][rows]]
            assert np.allclose(d["t_arrive_s"][rows] - d["t_dispatch_s"][rows], expected,
                               atol=1e-6)

    # no responder is on two incidents at once (watch points serve everyone)
    for kind in STATION_KINDS | LOCAL_KINDS:
        rows = np.flatnonzero(d["kind"] == kind)
        order = rows[np.lexsort((d["t_dispatch_s"][rows], d["responder"][rows]))]
        same = d["responder"][order][1:] == d["responder"][order][:-1]
        assert np.all(d["t_dispatch_s"][order][1:][same] >= d["t_free_s"][order][:-1][same] - 1e-9)

    # each incident gets at most its type's police units and K volunteers
    police = np.isin(d["kind"], [KIND_CODE[k] for k in POLICE_KINDS])
    units = np.array([scenario.incidents[n].units for n in inc.type_names])[inc.type_id]
    assert np.all(np.bincount(d["incident"][police], minlength=inc.count) <= units)
    volunteers = d["kind"] == KIND_CODE["volunteer"]
    assert np.bincount(d["incident"][volunteers], minlength=inc.count).max(initial=0) <= (
        scenario.dispatch.volunteer_max_dispatched
    )
    # community police serve only their own station area
    community = np.flatnonzero(d["kind"] == KIND_CODE["community_police"])
    assert np.array_equal(
        world.fleets.community_police.station[d["responder"][community]],
        world.zones.node_station[node[community]],
    )
    # with a unit on every shift, every police call is answered in the end
    if scenario.police.patrol_units >= len(scenario.police.patrol_shifts):
        wants_police = np.array(
            ["police" in scenario.incidents[n].responders for n in inc.type_names]
        )[inc.type_id]
        sent = np.bincount(d["incident"][police], minlength=inc.count)
        assert np.array_equal(sent[wants_police], units[wants_police])
        assert np.all(sent[~wants_police] == 0)


# travel exactly as the matrix says: no per-trip spread, cars parked at their stations
FREE_FLOW = ["city.congestion.trip_cv=0", "police.patrol_points=0"]


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(overrides=overrides, seed=st.integers(0, 10_000))
@example(  # found by hypothesis: env.now fell one ulp short of the call time
    overrides=["city.nodes=200", "city.seed=1", "police.patrol_units=0",
               "police.community_police=0", "mediators.count=0", "volunteers.count=0",
               "dispatch.grid_radius_m=0.0", "duration_days=0.25", "zones.grids=40"],
    seed=8699,
)
def test_invariants_hold_on_random_small_scenarios(overrides: list[str], seed: int) -> None:
    scenario = load_scenario(SMALL, [*FREE_FLOW, *overrides])
    _check_invariants(run(scenario, seed=seed))


def test_invariants_hold_on_the_small_scenario() -> None:
    _check_invariants(run(load_scenario(SMALL, FREE_FLOW), seed=2))


def test_same_seed_same_records(small_scenario, small_world) -> None:  # type: ignore[no-untyped-def]
    a = run(small_scenario, seed=4, world=small_world).records.dispatches
    b = run(small_scenario, seed=4, world=small_world).records.dispatches
    for name in a:
        assert np.array_equal(a[name], b[name]), name


def _one_unit_world():  # type: ignore[no-untyped-def]
    scenario = load_scenario(SMALL, [
        "police.patrol_units=1",
        "police.patrol_shifts=[{ start_h = 0, length_h = 24 }]",
        "police.community_police=0",
        "police.dispatch_delay_s_by_priority=[90, 90, 90, 90, 90]",
        "incidents.traffic.local_resolves_prob=0",
        *FREE_FLOW,
    ])
    return build_world(scenario)


def _incidents(times: list[float], priorities: list[int], node: int) -> Incidents:
    n = len(times)
    return Incidents(
        type_names=("traffic",),
        t_call_s=np.array(times),
        type_id=np.zeros(n, dtype=np.int16),
        node=np.full(n, node, dtype=np.int32),
        priority=np.array(priorities, dtype=np.int8),
        on_scene_s=np.full(n, 1000.0),
    )


def test_trace_queue_serves_priority_then_call_time() -> None:
    world = _one_unit_world()
    unit_station = int(world.fleets.patrol.station[0])
    node = int(np.argmax(world.zones.node_station == (unit_station + 1) % 12))
    travel = float(world.node_station_car_s[node, unit_station])
    incidents = _incidents([10.0, 20.0, 30.0, 40.0], [3, 2, 1, 2], node)
    records = simulate(world, incidents, seed=1)
    d = records.dispatches
    police = d["kind"] == KIND_CODE["patrol"]
    # one unit: first come at 10 s; then by priority (1 before 2), then by call time
    assert d["incident"][police].tolist() == [0, 2, 1, 3]
    t0 = 10.0 + 90.0
    free0 = t0 + travel + 1000.0 + travel
    free2 = free0 + travel + 1000.0 + travel
    assert d["t_dispatch_s"][police].tolist() == pytest.approx(
        [t0, free0, free2, free2 + 2 * travel + 1000.0]
    )
    assert d["t_arrive_s"][police][0] == pytest.approx(t0 + travel)


def test_units_off_shift_are_not_sent() -> None:
    scenario = load_scenario(SMALL, [
        "police.patrol_units=2",
        "police.patrol_shifts=[{ start_h = 8, length_h = 4 }]",
        "police.community_police=0",
    ])
    world = build_world(scenario)
    incidents = _incidents([3600.0, 9 * 3600.0], [3, 3], int(world.zones.station_node[0]))
    d = simulate(world, incidents, seed=1)
    rows = d.dispatches["kind"] == KIND_CODE["patrol"]
    # the 01:00 call waits until the shift starts at 08:00
    expected = [8 * 3600.0, 9 * 3600 + 90.0]
    assert d.dispatches["t_dispatch_s"][rows].tolist() == pytest.approx(expected)


def test_roster_times_cover_the_run() -> None:
    times = roster_times_s({0.0, 8.0, 16.0}, 1.5 * 86_400)
    assert times[0] == 0.0 and times[-1] == 1.5 * 86_400
    assert times == sorted(set(times))
    assert len(times) == 6  # 0, 8, 16, 24, 32 h and the end at 36 h


def test_volunteers_raise_coverage(small_scenario, small_world) -> None:  # type: ignore[no-untyped-def]
    with_volunteers = run(small_scenario, seed=3, world=small_world).summary
    without = run(load_scenario(SMALL, ["volunteers.count=0"]), seed=3).summary
    assert without["by_responder_kind"]["volunteer"]["dispatches"] == 0
    assert with_volunteers["by_responder_kind"]["volunteer"]["dispatches"] > 0
    assert without["first_arrival_s"]["p50"] > with_volunteers["first_arrival_s"]["p50"]
