"""Police operations (issue 15): stable units, jurisdiction first, backup, delays, congestion."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.sparse.csgraph import dijkstra

import gridsim
from gridsim.scenario import Scenario
from gridsim.scenario.schema import CHARACTERS
from gridsim.sim.records import KIND_CODE
from gridsim.world.build import World
from gridsim.world.fleets import shift_seats, station_seats
from tests.conftest import SMALL

PATROL = KIND_CODE["patrol"]


@settings(max_examples=60, deadline=None)
@given(weights=st.lists(st.floats(0.01, 100.0), min_size=1, max_size=12),
       count=st.integers(0, 60), shares=st.lists(st.floats(0.1, 5.0), min_size=1, max_size=4))
def test_adding_a_unit_never_moves_another(weights: list[float], count: int,
                                           shares: list[float]) -> None:
    w = np.array(weights)
    fewer, more = station_seats(w, count), station_seats(w, count + 1)
    assert np.array_equal(more[:count], fewer)
    assert np.array_equal(shift_seats(more, w.shape[0], shares)[:count],
                          shift_seats(fewer, w.shape[0], shares))
    if count + 1 >= w.shape[0]:  # enough to go round: every station has a unit
        assert set(more.tolist()) == set(range(w.shape[0]))


def test_shift_shares_set_how_many_units_work_each_shift() -> None:
    stations = station_seats(np.ones(10), 900)
    shift = shift_seats(stations, 10, [0.25, 0.40, 0.35])
    assert np.allclose(np.bincount(shift) / 900, [0.25, 0.40, 0.35], atol=0.02)


@pytest.fixture(scope="module")
def run(small_scenario: Scenario, small_world: World) -> gridsim.RunResult:
    return gridsim.run(small_scenario, seed=11, world=small_world)


def _police_rows(result: gridsim.RunResult) -> np.ndarray:
    kind = result.records.dispatches["kind"]
    return np.flatnonzero((kind == PATROL) | (kind == KIND_CODE["community_police"]))


def test_priority_one_calls_get_two_units(run: gridsim.RunResult) -> None:
    inc = run.records.incidents
    units = np.bincount(run.records.dispatches["incident"][_police_rows(run)],
                        minlength=inc.count)
    assault = inc.type_id == inc.type_names.index("assault")
    settled = inc.t_call_s < run.scenario.duration_s - 6 * 3600.0  # served before the end
    assert assault.any() and np.all(units[assault & settled] == 2)
    theft = inc.type_id == inc.type_names.index("theft")
    assert np.all(units[theft & settled] == 1)


def test_handling_delay_depends_on_priority(run: gridsim.RunResult) -> None:
    d, inc = run.records.dispatches, run.records.incidents
    rows = _police_rows(run)
    waited = d["t_dispatch_s"][rows] - inc.t_call_s[d["incident"][rows]]
    expected = run.scenario.police.delay_by_priority_s()[inc.priority[d["incident"][rows]]]
    # a request that queued is dispatched later; one that did not, exactly after its delay
    assert np.all(waited >= expected - 1e-9)
    priority = inc.priority[d["incident"][rows]]
    delays = run.scenario.police.delay_by_priority_s()
    for p in np.unique(priority).tolist():
        assert waited[priority == p].min() == pytest.approx(delays[p])
    assert len(set(delays[np.unique(priority)].tolist())) > 1  # the test can tell them apart


def test_trips_take_the_congested_time_of_their_hour_and_district(
    small_world: World,
) -> None:
    factors = {c: [1.0 + 0.1 * i + 0.02 * h for h in range(24)]
               for i, c in enumerate(CHARACTERS)}
    sets = [f"city.congestion.{c}={v}" for c, v in factors.items()]
    scenario = gridsim.load_scenario(SMALL, [*sets, "city.congestion.trip_cv=0",
                                             "police.patrol_points=0"])
    result = gridsim.run(scenario, seed=5)
    d, inc, world = result.records.dispatches, result.records.incidents, result.world
    rows = np.flatnonzero((d["kind"] == PATROL) & np.isfinite(d["t_arrive_s"]))  # arrived
    node = inc.node[d["incident"][rows]]
    station = world.fleets.patrol.station[d["responder"][rows]]
    hour = (d["t_dispatch_s"][rows] // 3600).astype(int) % 24
    character = [scenario.city.districts[k].character for k in world.node_district[node]]
    factor = np.array([factors[c][h] for c, h in zip(character, hour, strict=True)])
    free_flow = world.node_station_car_s[node, station].astype(float)
    assert np.allclose(d["t_arrive_s"][rows] - d["t_dispatch_s"][rows], free_flow * factor)


def test_a_unit_from_another_area_goes_only_when_the_own_area_has_none_free(
    run: gridsim.RunResult,
) -> None:
    d, inc, fleet = run.records.dispatches, run.records.incidents, run.world.fleets.patrol
    zones = run.world.zones
    rows = np.flatnonzero(d["kind"] == PATROL)
    home = zones.node_station[inc.node[d["incident"][rows]]]
    sent_from = fleet.station[d["responder"][rows]]
    t_call = inc.t_call_s[d["incident"][rows]]
    busy_from = inc.t_call_s[d["incident"][rows]]  # a unit is taken at the call
    busy_to = d["t_free_s"][rows]
    unit = d["responder"][rows]
    cross = np.flatnonzero(sent_from != home)
    assert cross.shape[0] > 0
    checked = 0
    for r in cross.tolist():
        if d["t_dispatch_s"][rows][r] > t_call[r] + 120.0 + 1e-9:
            continue  # it queued: sent when a unit freed, not at the call
        own = np.flatnonzero((fleet.station == home[r]) & fleet.on_duty(t_call[r]))
        for u in own.tolist():
            mine = unit == u
            busy = np.any((busy_from[mine] <= t_call[r]) & (t_call[r] < busy_to[mine]))
            assert busy, f"unit {u} of station {home[r]} was free at {t_call[r]:.0f} s"
        checked += 1
    assert checked > 0


def test_patrol_point_times_are_exact_nearby_and_an_upper_bound_beyond(
    small_world: World,
) -> None:
    scenario = gridsim.load_scenario(SMALL, ["police.patrol_points=3"])
    world = gridsim.build_world(scenario)
    points = world.patrol_points
    graph = world.network.graph("car_s")
    rng = np.random.default_rng(0)
    for point in rng.choice(points.node.size, 6, replace=False).tolist():
        exact = dijkstra(graph, directed=False, indices=int(points.node.flat[point]))
        station = point // points.per_station
        targets = rng.choice(world.network.node_count, 200, replace=False)
        got = np.array([points.travel_s(point, int(v), float(world.node_station_car_s[v,
                        station])) for v in targets])
        near = np.isin(targets, points.near_node[
            points.near_start[point]:points.near_start[point + 1]])
        assert near.any() and (~near).any()
        assert np.allclose(got[near], exact[targets[near]], rtol=1e-5)
        assert np.all(got[~near] >= exact[targets[~near]] * (1 - 1e-5))


def test_patrol_points_dense_own_area_table_matches_the_sparse_rows() -> None:
    # the dense table (own area) must give, for every point and every node, the time the
    # sparse rows give: the same float where the row holds the node, via the station not
    scenario = gridsim.load_scenario(SMALL, ["police.patrol_points=3"])
    world = gridsim.build_world(scenario)
    points = world.patrol_points
    via = 1e6  # a station time no row holds: picks out the fallback
    checked_own = 0
    for point in range(points.node.size):
        start, end = points.near_start[point], points.near_start[point + 1]
        expected = np.full(world.network.node_count, float(points.to_station_s.flat[point]) + via)
        expected[points.near_node[start:end]] = points.near_car_s[start:end]
        got = np.array([points.travel_s(point, v, via)
                        for v in range(world.network.node_count)])
        assert np.array_equal(got, expected)
        own = world.zones.node_station == point // points.per_station
        checked_own += int((own & (got < via)).sum())
    assert checked_own > 0.5 * points.node.size * world.network.node_count / points.node.shape[0]


def test_idle_patrol_units_set_off_from_a_patrol_point_of_their_station() -> None:
    scenario = gridsim.load_scenario(SMALL, ["police.patrol_points=3",
                                             "city.congestion.trip_cv=0"])
    result = gridsim.run(scenario, seed=4)
    d, inc, world = result.records.dispatches, result.records.incidents, result.world
    points = world.patrol_points
    rows = np.flatnonzero((d["kind"] == PATROL) & np.isfinite(d["t_arrive_s"]))
    queued = d["t_dispatch_s"][rows] > inc.t_call_s[d["incident"][rows]] + 120.0 + 1e-9
    # congestion is all ones in small.toml and the spread is off: trips are free flow
    checked = 0
    for r in np.flatnonzero(~queued).tolist():
        row = rows[r]
        unit, node = int(d["responder"][row]), int(inc.node[d["incident"][row]])
        station = int(world.fleets.patrol.station[unit])
        options = [points.travel_s(station * 3 + k, node,
                                   float(world.node_station_car_s[node, station]))
                   for k in range(3)]
        took = d["t_arrive_s"][row] - d["t_dispatch_s"][row]
        assert np.isclose(options, took, rtol=1e-5).any()
        checked += 1
    assert checked > 20


def _queued_travel_s(neighbours: int, seed: int) -> float:
    scenario = gridsim.load_scenario(SMALL, [f"dispatch.neighbour_stations={neighbours}",
                                             "duration_days=3"])
    result = gridsim.run(scenario, seed=seed)
    d, inc = result.records.dispatches, result.records.incidents
    rows = np.flatnonzero((d["kind"] == PATROL) & np.isfinite(d["t_arrive_s"]))
    delay = scenario.police.delay_by_priority_s()[inc.priority[d["incident"][rows]]]
    queued = d["t_dispatch_s"][rows] > inc.t_call_s[d["incident"][rows]] + delay + 1e-6
    return float((d["t_arrive_s"] - d["t_dispatch_s"])[rows][queued].mean())


def test_freed_units_take_waiting_calls_nearby_before_calls_across_the_city() -> None:
    # small.toml is loaded (about a fifth of police requests wait): a freed car that
    # looks at the neighbouring areas first drives less far to the calls it takes
    for seed in (1, 2, 3):
        assert _queued_travel_s(3, seed) < _queued_travel_s(0, seed)


def _loaded(*overrides: str, seed: int = 3) -> gridsim.RunResult:
    scenario = gridsim.load_scenario(SMALL, ["police.patrol_units=12", "duration_days=3",
                                             *overrides])
    return gridsim.run(scenario, seed=seed)


def _never_double_booked(result: gridsim.RunResult, kind: int) -> None:
    d = result.records.dispatches
    rows = d["kind"] == kind
    order = np.lexsort((d["t_dispatch_s"][rows], d["responder"][rows]))
    unit = d["responder"][rows][order]
    start, end = d["t_dispatch_s"][rows][order], d["t_free_s"][rows][order]
    same = unit[1:] == unit[:-1]
    assert np.all(start[1:][same] >= end[:-1][same] - 1e-6)


@pytest.mark.parametrize("seed", [3, 4])
def test_preemption_speeds_priority_one_and_requeues_what_it_interrupts(seed: int) -> None:
    off = _loaded(seed=seed)
    on = _loaded("police.preempt_priority_max=1", seed=seed)
    police = on.summary["police"]
    assert police["preemptions"] > 0 and off.summary["police"]["preemptions"] == 0
    assert (on.summary["by_priority"]["1"]["police_arrival_s"]["mean"]
            < off.summary["by_priority"]["1"]["police_arrival_s"]["mean"])
    _never_double_booked(on, PATROL)
    d, inc = on.records.dispatches, on.records.incidents
    rows = np.isin(d["kind"], [PATROL, KIND_CODE["community_police"]])
    per_incident = np.bincount(d["incident"][rows], minlength=inc.count)
    extra = per_incident - on.scenario.incidents["assault"].units * (
        inc.type_id == inc.type_names.index("assault")) - (
        inc.type_id != inc.type_names.index("assault"))
    # every call a preempted unit left got another unit (unless the run ended first)
    assert 0 < int(np.maximum(extra, 0).sum()) <= police["requeued"]


def test_street_post_units_wait_at_posts_and_go_only_within_their_ring() -> None:
    ring_s = 150.0
    result = _loaded("police.street_post_units=2", f"police.street_post_ring_s={ring_s}")
    world, d, inc = result.world, result.records.dispatches, result.records.incidents
    posts = np.flatnonzero(world.zones.station_is_street)
    fleet = world.fleets.street_posts
    assert fleet.size == 2 * posts.shape[0] and set(fleet.station.tolist()) == set(posts.tolist())
    rows = np.flatnonzero(d["kind"] == KIND_CODE["street_post"])
    assert rows.shape[0] > 0
    node = inc.node[d["incident"][rows]]
    station = fleet.station[d["responder"][rows]]
    own_area = world.zones.node_station[node] == station
    in_ring = world.node_station_car_s[node, station] <= ring_s * (1 + 1e-6)
    assert np.all(own_area | in_ring)
    share = result.summary["police"]["street_post_ring_population_share"]
    assert 0.0 < share < 1.0
    assert "street_post" in result.summary["utilisation_by_hour"]


def test_traffic_accidents_can_go_to_a_traffic_police_fleet() -> None:
    result = _loaded("traffic_police.units=6",
                     'incidents.traffic.responders=["traffic_police", "volunteers"]')
    d, inc = result.records.dispatches, result.records.incidents
    traffic = inc.type_id[d["incident"]] == inc.type_names.index("traffic")
    assert not (traffic & np.isin(d["kind"], [PATROL, KIND_CODE["community_police"]])).any()
    assert (traffic & (d["kind"] == KIND_CODE["traffic_police"])).sum() > 0
    assert not (~traffic & (d["kind"] == KIND_CODE["traffic_police"])).any()
    _never_double_booked(result, KIND_CODE["traffic_police"])


def test_a_type_sent_to_an_empty_traffic_police_fleet_is_refused() -> None:
    with pytest.raises(gridsim.InputError, match="traffic_police.units is 0"):
        gridsim.load_scenario(SMALL, ['incidents.traffic.responders=["traffic_police"]'])


@pytest.mark.parametrize("limit_s", [45.0, 120.0, 400.0])
def test_nearby_car_times_equal_a_city_wide_bounded_dijkstra(small_world: World,
                                                             limit_s: float) -> None:
    # preemption's search runs on a station neighbourhood with a landmark filter; it
    # must give exactly what a bounded search of the whole network gives
    from gridsim.city.nearby import NearbyCarTimes

    net = small_world.network
    nearby = NearbyCarTimes(net, small_world.zones.node_station,
                            small_world.node_station_car_s, limit_s)
    every = np.arange(net.node_count)
    rng = np.random.default_rng(3)
    reached = 0
    for node in rng.choice(net.node_count, 40, replace=False).tolist():
        full = dijkstra(net.graph("car_s"), directed=False, indices=node, limit=limit_s)
        got = nearby.to(node, every)
        assert np.array_equal(got, full)
        reached += int(np.isfinite(got).sum())
    assert reached > 2 * 40  # the searches reach past their own node


def test_nearby_within_equals_exact_times_then_the_best_route_via_a_station(
    small_world: World,
) -> None:
    # preemption's distances: exact within the search, else via the best station, inf
    # beyond max_s; the search stops early (few sources) and skips sources by landmark
    # bound, and must still give what the plain computation over every source gives
    # (caps near the sources' own via times: a bound that skipped too much would show)
    from gridsim.city.nearby import NearbyCarTimes

    net, rows = small_world.network, small_world.node_station_car_s
    nearby = NearbyCarTimes(net, small_world.zones.node_station, rows, 120.0)
    graph = net.graph("car_s")
    rng = np.random.default_rng(5)
    finite = searched = 0
    for node in rng.choice(net.node_count, 30, replace=False).tolist():
        reach = dijkstra(graph, directed=False, indices=node, limit=120.0)
        close = np.flatnonzero(np.isfinite(reach))
        sources = np.concatenate([rng.choice(net.node_count, 40, replace=False),
                                  rng.choice(close, min(5, close.shape[0]), replace=False)])
        exact = reach[sources]
        searched += int(np.isfinite(exact).sum())
        via = (rows[sources] + rows[node]).min(axis=1).astype(float)
        for max_s in [60.0, *np.quantile(via, [0.1, 0.3, 0.5]).tolist()]:
            expected = np.where(np.isfinite(exact), exact, via)
            expected[expected > max_s] = np.inf
            got = nearby.within(node, sources, max_s)
            assert np.array_equal(got, expected)
            finite += int(np.isfinite(got).sum())
    assert searched > 30 and finite > 0


def test_nearby_car_times_on_one_way_roads_equal_a_backward_scipy_search(
    small_world: World,
) -> None:
    # with one-way roads the search runs backwards from the node over reversed roads;
    # some roads made slower one way must still give scipy's times to the node exactly
    from dataclasses import replace

    from gridsim.city.nearby import NearbyCarTimes

    net = small_world.network
    rng = np.random.default_rng(11)
    car_s = net.car_s * np.where(rng.random(net.car_s.shape[0]) < 0.3, 1.7, 1.0)
    one_way = replace(net, car_s=car_s)
    assert one_way.car_one_way
    station_car_s = np.ascontiguousarray(
        one_way.car_times_from(small_world.zones.station_node).T)  # from each station
    nearby = NearbyCarTimes(one_way, small_world.zones.node_station, station_car_s, 120.0)
    reversed_roads = one_way.graph("car_s").T.tocsr()
    every = np.arange(net.node_count)
    reached = 0
    for node in rng.choice(net.node_count, 20, replace=False).tolist():
        to_node = dijkstra(reversed_roads, directed=True, indices=node, limit=120.0)
        sources = rng.choice(net.node_count, 30, replace=False)
        assert np.array_equal(nearby.to(node, every), to_node)
        assert np.array_equal(nearby.to(node, sources), to_node[sources])
        reached += int(np.isfinite(to_node).sum())
    assert reached > 2 * 20
