"""Who can reach each node, and how far by road: computed once per world, not per call.

For every node v: the volunteers living within the radius of the last alert round (the
first round's radius times the growth per round; ``gridsim.sim.dispatch.volunteers``) or,
with volunteer kinds (who are at posts or on the move by hour, ``gridsim.world.volunteer_kinds``),
the nodes within it; the workers of v's grid within the grid radius (both nearest first,
ties by id), the nearest watch point within its radius, and, with a mobilisation
platform, the population within each task radius. A call at v then costs a slice, not a
graph search.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

import numpy as np
from scipy import sparse
from scipy.sparse import csgraph

from gridsim.city.network import RoadNetwork
from gridsim.city.reach import Reach, reach_within
from gridsim.city.zones import ZoneMap
from gridsim.core.cache import ArrayCache, cache_key
from gridsim.scenario.schema import Scenario
from gridsim.world.fleets import Fleet, Fleets
from gridsim.world.volunteer_kinds import VolunteerPositions, home_positions

# a first search radius of this many times the straight-line extent of a worker's grid
# finds almost every road distance inside the grid; the rest get the full radius
GRID_SEARCH_STRETCH = 2.5
NO_WATCH_POINT = -1


@dataclass(frozen=True, eq=False)
class Catchments:
    """Per-node lists of responders who could come, nearest first."""

    volunteers: Reach  # row v: volunteers at home within the last round's radius (no kinds)
    grid_workers: Reach  # row v: ids of the workers of v's grid within the grid radius
    watch_point: np.ndarray  # (N,) int32 nearest watch point within its radius, or -1
    watch_point_m: np.ndarray  # (N,) float32 road metres to it
    # with volunteer kinds: row v, the nodes within the last round's radius (None: no kinds;
    # ``volunteers`` has empty rows then), and per class of hours c the volunteers there (C, N)
    volunteer_nodes: Reach | None = None
    volunteers_within: np.ndarray = field(default_factory=lambda: np.zeros((0, 0), np.int32))
    # with a platform: its task radii (R,) and the people living within each of node v
    # by road (R, N); empty without a platform
    platform_radius_m: np.ndarray = field(default_factory=lambda: np.zeros(0))
    platform_pop: np.ndarray = field(default_factory=lambda: np.zeros((0, 0)))


def build_catchments(
    scenario: Scenario, network: RoadNetwork, zones: ZoneMap, fleets: Fleets,
    cache: ArrayCache, world_key: str, positions: VolunteerPositions | None = None,
    node_population: np.ndarray | None = None,
) -> Catchments:
    """Return the catchments of every node (node-level searches come from ``cache``).

    ``positions`` default to the volunteers' homes; ``node_population`` (people per node)
    is needed only with a platform.
    """
    radius_m = scenario.volunteers.alerting.largest_radius_m(scenario.dispatch.volunteer_radius_m)

    def nodes_within(radius: float) -> Reach:
        return Reach(**cache.get(
            "reach", cache_key(world_key, "nodes", radius),
            lambda: asdict(reach_within(network, np.arange(network.node_count), radius)),
        ))

    nodes_near = nodes_within(radius_m)
    if positions is None:
        positions = home_positions(fleets.volunteers.base_node)
    platform_radius_m, platform_pop = np.zeros(0), np.zeros((0, 0))
    if scenario.platform is not None:
        if node_population is None:
            raise ValueError("build_catchments: a platform needs node_population")
        weight = node_population
        platform_radius_m = np.unique([t.radius_m for t in scenario.platform.tasks.values()])
        widest = float(platform_radius_m[-1])
        platform_pop = cache.get(
            "platform-pop", cache_key(world_key, "platform-pop", platform_radius_m.tolist()),
            lambda: {"pop": population_within(
                nodes_near if widest <= radius_m else nodes_within(widest), weight,
                platform_radius_m)},
        )["pop"]
    grid_radius_m = scenario.dispatch.grid_radius_m
    grid = scenario.grid_workers
    grid_workers = Reach(**cache.get(
        "grid-reach", cache_key(world_key, "grid", grid_radius_m, grid.per_grid,
                                grid.per_micro_grid),
        lambda: asdict(_grid_reach(network, zones, fleets.grid_workers, grid_radius_m)),
    ))
    watch_point, watch_point_m = _nearest_watch_point(
        network, fleets.watch_point_node, scenario.watch_points.radius_m
    )
    kinds = bool(positions.kind_names)
    no_entries = Reach(np.zeros(network.node_count + 1, dtype=np.int64), np.empty(0, np.int32),
                       np.empty(0, np.float32))
    return Catchments(
        volunteers=no_entries if kinds else members_near(nodes_near, positions.node),
        volunteer_nodes=nodes_near if kinds else None,
        volunteers_within=class_totals(nodes_near, positions.class_node_start) if kinds
        else np.zeros((0, 0), np.int32),
        grid_workers=grid_workers,
        watch_point=watch_point,
        watch_point_m=watch_point_m,
        platform_radius_m=platform_radius_m,
        platform_pop=platform_pop,
    )


def members_near(nodes_near: Reach, member_node: np.ndarray) -> Reach:
    """Return, per row, the members at the row's nodes (``member_node`` sorted), nearest first.

    Members at one node come in id order.
    """
    node_count = nodes_near.rows
    member_start = np.searchsorted(member_node, np.arange(node_count + 1))
    per_node = np.diff(member_start)
    counts = per_node[nodes_near.item]
    total = int(counts.sum())
    first = member_start[nodes_near.item]
    ids = np.repeat(first - np.cumsum(counts) + counts, counts) + np.arange(total)
    row = np.repeat(np.arange(node_count), np.diff(nodes_near.start))
    per_row = np.bincount(row, weights=counts, minlength=node_count).astype(np.int64)
    start = np.zeros(node_count + 1, dtype=np.int64)
    np.cumsum(per_row, out=start[1:])
    return Reach(
        start=start, item=ids.astype(np.int32), dist_m=np.repeat(nodes_near.dist_m, counts)
    )


def class_totals(nodes_near: Reach, class_node_start: np.ndarray) -> np.ndarray:
    """Return (classes, rows): the volunteers of each class of hours within each row."""
    per_node = np.diff(class_node_start, axis=1).T.astype(np.int32)  # (N, C)
    rows = sparse.csr_matrix(
        (np.ones(nodes_near.item.shape[0], dtype=np.int32), nodes_near.item, nodes_near.start),
        shape=(nodes_near.rows, per_node.shape[0]))
    return np.ascontiguousarray(np.asarray(rows @ per_node).T, dtype=np.int32)


def population_within(nodes_near: Reach, node_population: np.ndarray, radii_m: np.ndarray
                      ) -> np.ndarray:
    """Return (radii, rows): the people living within each radius of each row's node by road."""
    row = np.repeat(np.arange(nodes_near.rows), np.diff(nodes_near.start))
    people = node_population[nodes_near.item]
    return np.stack([
        np.bincount(row, weights=np.where(nodes_near.dist_m <= r, people, 0.0),
                    minlength=nodes_near.rows)
        for r in radii_m.tolist()
    ]) if radii_m.shape[0] else np.zeros((0, nodes_near.rows))


def _grid_reach(
    network: RoadNetwork, zones: ZoneMap, workers: Fleet, radius_m: float
) -> Reach:
    """Return, per node, the workers of its grid within ``radius_m`` by road, nearest first."""
    n = network.node_count
    if workers.size == 0:
        return Reach(np.zeros(n + 1, dtype=np.int64), np.empty(0, np.int32),
                     np.empty(0, np.float32))
    # every (worker, node of the worker's grid) pair, via the grid-sorted fleet
    node_order = np.argsort(zones.node_grid, kind="stable")
    grid_count = zones.grid_node.shape[0]
    node_start = np.searchsorted(zones.node_grid[node_order], np.arange(grid_count + 1))
    per_worker = np.diff(node_start)[workers.grid]
    pair_worker = np.repeat(np.arange(workers.size), per_worker)
    offsets = np.repeat(node_start[workers.grid] - np.cumsum(per_worker) + per_worker,
                        per_worker)
    pair_node = node_order[offsets + np.arange(per_worker.sum())]
    base_xy = network.xy_m[workers.base_node[pair_worker]]
    straight = np.hypot(*(network.xy_m[pair_node] - base_xy).T)
    extent = np.zeros(workers.size)
    np.maximum.at(extent, pair_worker, straight)
    first_radius = np.minimum(radius_m, GRID_SEARCH_STRETCH * extent + 1.0)

    dist = _pair_distances(network, workers.base_node, pair_worker, pair_node, first_radius)
    # pairs not reached within a first radius shorter than the full one: search again
    retry = np.unique(pair_worker[np.isinf(dist) & (first_radius[pair_worker] < radius_m)])
    if retry.shape[0]:
        again = np.isin(pair_worker, retry)
        full = np.full(workers.size, radius_m)
        dist[again] = _pair_distances(
            network, workers.base_node, pair_worker[again], pair_node[again], full
        )
    ok = dist <= radius_m
    worker, node, dist = pair_worker[ok], pair_node[ok], dist[ok]
    order = np.lexsort((worker, dist, node))
    start = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(np.bincount(node, minlength=n), out=start[1:])
    return Reach(start=start, item=worker[order].astype(np.int32),
                 dist_m=dist[order].astype(np.float32))


def _pair_distances(
    network: RoadNetwork, base_node: np.ndarray, pair_worker: np.ndarray,
    pair_node: np.ndarray, radius_m: np.ndarray,
) -> np.ndarray:
    """Return the road metres of each (worker, node) pair; inf beyond the worker's radius."""
    workers = np.unique(pair_worker)
    reach = reach_within(network, base_node[workers], radius_m[workers])
    row = np.repeat(np.arange(workers.shape[0]), np.diff(reach.start))
    found_key = workers[row].astype(np.int64) * network.node_count + reach.item
    order = np.argsort(found_key)
    pair_key = pair_worker.astype(np.int64) * network.node_count + pair_node
    if order.shape[0] == 0:
        return np.full(pair_key.shape[0], np.inf)
    pos = np.minimum(np.searchsorted(found_key[order], pair_key), order.shape[0] - 1)
    hit = found_key[order][pos] == pair_key
    return np.where(hit, reach.dist_m[order][pos].astype(float), np.inf)


def _nearest_watch_point(
    network: RoadNetwork, watch_point_node: np.ndarray, radius_m: float
) -> tuple[np.ndarray, np.ndarray]:
    """Return, per node, the nearest watch point within ``radius_m`` and its road metres."""
    n = network.node_count
    if watch_point_node.shape[0] == 0:
        return np.full(n, NO_WATCH_POINT, dtype=np.int32), np.full(n, np.inf, np.float32)
    dist, _, source = csgraph.dijkstra(
        network.graph(), directed=False, indices=watch_point_node, limit=radius_m,
        min_only=True, return_predecessors=True,
    )
    reached = np.isfinite(dist) & (source >= 0)
    point = np.full(n, NO_WATCH_POINT, dtype=np.int32)
    point[reached] = np.searchsorted(watch_point_node, source[reached])
    return point, np.where(reached, dist, np.inf).astype(np.float32)
