"""The synthetic city: connected, metric, river crossed only by bridges, zones nested."""

from __future__ import annotations

import networkx as nx
import numpy as np
import pytest
from scipy.sparse import csgraph

from gridsim import World, build_world, load_scenario
from gridsim.city.reach import reach_within
from gridsim.city.synthetic import largest_remainder


def test_network_is_connected_and_symmetric(small_world: World) -> None:
    graph = small_world.network.graph()
    count, _ = csgraph.connected_components(graph, directed=False)
    assert count == 1
    assert (graph != graph.T).nnz == 0


def test_every_edge_is_at_least_its_straight_line(small_world: World) -> None:
    net = small_world.network
    rows = np.repeat(np.arange(net.node_count), np.diff(net.indptr))
    straight = np.hypot(*(net.xy_m[rows] - net.xy_m[net.indices]).T)
    assert np.all(net.length_m >= straight - 1e-9)
    assert np.all(net.car_s > 0)


def test_every_district_has_nodes(small_world: World) -> None:
    counts = np.bincount(small_world.node_district, minlength=len(small_world.district_names))
    assert np.all(counts > 0)


def test_river_is_crossed_only_at_the_bridges(small_world: World) -> None:
    scenario = small_world.scenario
    net = small_world.network
    banks = np.array([d.bank == "north" for d in scenario.city.districts])
    north = banks[small_world.node_district]
    rows = np.repeat(np.arange(net.node_count), np.diff(net.indptr))
    crossing = north[rows] != north[net.indices]
    assert crossing.sum() // 2 == scenario.city.bridges


def test_zones_nest(small_world: World) -> None:
    zones = small_world.zones
    # every node's grid belongs to the node's station, every micro-grid to the node's grid
    assert np.array_equal(zones.grid_station[zones.node_grid], zones.node_station)
    assert np.array_equal(zones.micro_grid_grid[zones.node_micro_grid], zones.node_grid)
    # every zone's centre node lies in the zone
    assert np.array_equal(zones.node_station[zones.station_node], np.arange(zones.station_count))
    assert np.array_equal(zones.node_grid[zones.grid_node], np.arange(zones.grid_node.shape[0]))
    # stations stay inside one district
    assert np.array_equal(
        small_world.node_district[zones.station_node], zones.station_district
    )


def test_station_counts_follow_the_scenario(small_world: World) -> None:
    zones = small_world.zones
    cfg = small_world.scenario.zones
    assert zones.station_count == cfg.household_stations + cfg.street_stations
    assert zones.station_is_street.sum() == cfg.street_stations


def test_default_city_has_157_stations_and_nanjing_districts() -> None:
    scenario = load_scenario(None, ["city.scale=0.05", "zones.grids=600"])
    world = build_world(scenario)
    assert world.zones.station_count == 157
    assert world.zones.station_is_street.sum() == 17
    assert len(world.district_names) == 11
    # the dense core: more nodes per km2 in Gulou than in Luhe
    area = {d.name: d.area_km2 for d in scenario.city.districts}
    counts = dict(zip(world.district_names, np.bincount(world.node_district), strict=True))
    assert counts["Gulou"] / area["Gulou"] > 5 * counts["Luhe"] / area["Luhe"]


def test_world_is_deterministic_in_the_city_seed(small_scenario) -> None:  # type: ignore[no-untyped-def]
    a, b = build_world(small_scenario), build_world(small_scenario)
    assert a.network.digest() == b.network.digest()
    assert np.array_equal(a.fleets.volunteers.base_node, b.fleets.volunteers.base_node)


def test_reach_within_matches_networkx_dijkstra(small_world: World) -> None:
    net = small_world.network
    graph = nx.Graph()
    rows = np.repeat(np.arange(net.node_count), np.diff(net.indptr))
    graph.add_weighted_edges_from(zip(rows.tolist(), net.indices.tolist(), net.length_m.tolist(),
                                      strict=True))
    rng = np.random.default_rng(0)
    sources = rng.choice(net.node_count, 40, replace=False)
    radii = rng.choice([0.0, 300.0, 1500.0], 40)
    reach = reach_within(net, sources, radii)
    for row, (node, radius) in enumerate(zip(sources.tolist(), radii.tolist(), strict=True)):
        nodes, dist = reach.row(row)
        expected = nx.single_source_dijkstra_path_length(graph, node, cutoff=radius)
        assert sorted(nodes.tolist()) == sorted(expected)
        assert np.allclose(dist, [expected[n] for n in nodes.tolist()], rtol=1e-6)
        # nearest first, ties by node id
        assert all((a, x) <= (b, y) for a, b, x, y in
                   zip(dist[:-1], dist[1:], nodes[:-1], nodes[1:], strict=True))


@pytest.mark.parametrize(
    ("weights", "total", "minimum"),
    [([1, 1, 1], 10, 0), ([5, 0, 1], 7, 1), ([0.2, 0.3, 0.5], 100, 2), ([0, 0], 4, 0)],
)
def test_largest_remainder_sums_and_respects_minimum(weights, total, minimum) -> None:  # type: ignore[no-untyped-def]
    counts = largest_remainder(np.array(weights, dtype=float), total, minimum)
    assert counts.sum() == total
    assert np.all(counts >= minimum)
