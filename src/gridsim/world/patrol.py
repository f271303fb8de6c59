"""Patrol points: where idle police units wait inside their beat, and car times from there.

Larson's patrol model places an idle unit anywhere in its beat; gridsim discretises the
beat into ``K`` points per station area (nodes drawn by population, fixed per world). An
idle patrol unit waits at one of its station's points, drawn afresh each time it becomes
free; a community officer is based at one fixed point (its community). Car times from a
point are exact to every node within twice its area's farthest station time (a bounded
Dijkstra from every point, once per world, kept sparse); beyond that the unit drives via
its station, an upper bound.

Most trips start in the unit's own area, so the times to the area's own nodes are also
kept as a dense table (one row per point, a column per node of its area): a lookup is
an index, not a search. Its values are the sparse rows' own, so either way gives the
same time to the bit.
"""

from __future__ import annotations

from bisect import bisect_left
from dataclasses import dataclass
from functools import cached_property
from typing import Any

import numpy as np
from scipy.sparse import csgraph

from gridsim.city.network import RoadNetwork
from gridsim.city.zones import ZoneMap
from gridsim.core.cache import ArrayCache, cache_key
from gridsim.core.rng import stream

NO_POINT = -1
NOT_NEAR = -1.0  # in the dense table: the node is beyond the point's search
SEARCH_STRETCH = 2.0  # bound each point's search at twice its area's farthest station time
SOURCE_BATCH = 64


@dataclass(frozen=True, eq=False)
class PatrolPoints:
    """K points per station area and car seconds from each; empty when K is 0."""

    node: np.ndarray  # (S, K) int32 node of each point
    to_station_s: np.ndarray  # (S, K) float32 car seconds from the point to its station
    near_start: np.ndarray  # (S * K + 1,) int64 row pointers of the nodes near each point
    near_node: np.ndarray  # int32, ascending within a row
    near_car_s: np.ndarray  # float32 car seconds from the row's point to near_node
    # the dense table of the same times to the point's own area: the station area of each
    # node (N,) and its rank there (by node id, (N,)); row p of own_car_s starts at
    # own_start[p] and holds, for each node of p's area by rank, near_car_s or NOT_NEAR
    node_station: np.ndarray
    area_rank: np.ndarray
    own_start: np.ndarray
    own_car_s: np.ndarray

    @property
    def per_station(self) -> int:
        """Return K, the number of points per station area."""
        return int(self.node.shape[1])

    def travel_s(self, point: int, node: int, station_car_s: float) -> float:
        """Return car seconds from ``point`` to ``node`` (via its station outside its area).

        ``station_car_s`` is the car time from the point's station to the node.
        """
        (per_station, node_station, area_rank, own_start, own_car_s, near_start, near_node,
         near_car_s, to_station_s) = self._views
        if node_station[node] == point // per_station:  # in the point's own area
            car_s = own_car_s[own_start[point] + area_rank[node]]
            if car_s != NOT_NEAR:
                return car_s
        else:
            start, end = near_start[point], near_start[point + 1]
            at = bisect_left(near_node, node, start, end)
            if at < end and near_node[at] == node:
                return near_car_s[at]
        return to_station_s[point] + station_car_s

    @cached_property
    def _views(self) -> tuple[Any, ...]:
        """Return K and the arrays as memoryviews: Python scalars, fast one at a time."""
        return (self.per_station,
                np.ascontiguousarray(self.node_station, dtype=np.int32).data,
                np.ascontiguousarray(self.area_rank, dtype=np.int32).data,
                np.ascontiguousarray(self.own_start, dtype=np.int64).data,
                np.ascontiguousarray(self.own_car_s, dtype=np.float32).data,
                np.ascontiguousarray(self.near_start, dtype=np.int64).data,
                np.ascontiguousarray(self.near_node, dtype=np.int32).data,
                np.ascontiguousarray(self.near_car_s, dtype=np.float32).data,
                np.ascontiguousarray(self.to_station_s, dtype=np.float32).ravel().data)


def build_patrol_points(
    network: RoadNetwork, zones: ZoneMap, node_weight: np.ndarray, node_station_car_s:
    np.ndarray, per_station: int, seed: int, cache: ArrayCache, world_key: str,
) -> PatrolPoints:
    """Return ``per_station`` patrol points for every station area (cached by world)."""
    sparse = cache.get("patrol", cache_key(world_key, "patrol-sparse", per_station), lambda: (
        _points(network, zones, node_weight, node_station_car_s, per_station, seed)))
    return PatrolPoints(**sparse, **own_area_table(sparse, zones.node_station))


def own_area_table(sparse: dict[str, np.ndarray], node_station: np.ndarray
                   ) -> dict[str, np.ndarray]:
    """Return the dense table of each point's times to its own area (``PatrolPoints``).

    ``sparse`` holds the points' ``node`` and sparse rows (``near_start``, ``near_node``,
    ``near_car_s``); ``node_station`` (N,) the station area of each node.
    """
    stations, per_station = sparse["node"].shape
    order = np.argsort(node_station, kind="stable")  # by area, then node id
    area_start = np.searchsorted(node_station[order], np.arange(stations + 1))
    area_rank = np.empty(node_station.shape[0], dtype=np.int32)
    area_rank[order] = np.arange(order.shape[0]) - np.repeat(area_start[:-1],
                                                            np.diff(area_start))
    point_station = np.repeat(np.arange(stations), per_station)
    own_start = np.zeros(point_station.shape[0] + 1, dtype=np.int64)
    np.cumsum(np.diff(area_start)[point_station], out=own_start[1:])
    own_car_s = np.full(int(own_start[-1]), NOT_NEAR, dtype=np.float32)
    near_start, near_node = sparse["near_start"], sparse["near_node"]
    for point, s in enumerate(point_station.tolist()):
        row = slice(int(near_start[point]), int(near_start[point + 1]))
        own = node_station[near_node[row]] == s
        own_car_s[own_start[point] + area_rank[near_node[row][own]]] = (
            sparse["near_car_s"][row][own])
    return {"node_station": node_station.astype(np.int32), "area_rank": area_rank,
            "own_start": own_start, "own_car_s": own_car_s}


def _points(
    network: RoadNetwork, zones: ZoneMap, node_weight: np.ndarray,
    node_station_car_s: np.ndarray, per_station: int, seed: int,
) -> dict[str, np.ndarray]:
    stations = zones.station_count
    order = np.argsort(zones.node_station, kind="stable")
    area_start = np.searchsorted(zones.node_station[order], np.arange(stations + 1))
    point_node = np.zeros((stations, per_station), dtype=np.int32)
    rng = stream(seed, "patrol.points")
    for s in range(stations):
        members = order[area_start[s]:area_start[s + 1]]
        if per_station == 0 or members.shape[0] == 0:
            continue
        weight = node_weight[members] + 1e-12
        replace = members.shape[0] < per_station
        point_node[s] = rng.choice(members, per_station, replace=replace,
                                   p=weight / weight.sum())
    flat = point_node.ravel()
    point_station = np.repeat(np.arange(stations), per_station)
    to_station = node_station_car_s[flat, point_station].reshape(stations, per_station)
    farthest_s = np.array([
        node_station_car_s[order[area_start[s]:area_start[s + 1]], s].max(initial=0.0)
        for s in range(stations)])
    graph = network.graph("car_s")
    rows: list[np.ndarray] = []
    times_kept: list[np.ndarray] = []
    for first in range(0, flat.shape[0], SOURCE_BATCH):
        batch = np.arange(first, min(first + SOURCE_BATCH, flat.shape[0]))
        limits = SEARCH_STRETCH * farthest_s[point_station[batch]]
        times = np.atleast_2d(csgraph.dijkstra(graph, directed=network.car_one_way,
                                               indices=flat[batch],
                                               limit=float(limits.max())))
        for row in range(batch.shape[0]):
            near = np.flatnonzero(times[row] <= limits[row])  # ascending node ids
            rows.append(near.astype(np.int32))
            times_kept.append(times[row, near].astype(np.float32))
    start = np.zeros(flat.shape[0] + 1, dtype=np.int64)
    np.cumsum([r.shape[0] for r in rows], out=start[1:])
    return {
        "node": point_node, "to_station_s": to_station.astype(np.float32), "near_start": start,
        "near_node": np.concatenate(rows) if rows else np.empty(0, np.int32),
        "near_car_s": np.concatenate(times_kept) if rows else np.empty(0, np.float32),
    }
