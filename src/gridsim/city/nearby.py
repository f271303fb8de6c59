"""Exact car times between nodes a short drive apart, without a city-wide search.

A bounded Dijkstra on the whole network costs O(N) per call however small its bound
(scipy sets up every node), about 0.4 ms on the 100,000-node default. Here each search
runs on its station area's neighbourhood instead: the nodes whose car time from the
area's station is at most the area's farthest node's plus the bound. That subgraph
holds every path of at most ``limit_s`` from any node of the area (a node w on such a
path from v has t(station, w) <= t(station, v) + t(v, w)), so the times are exact, not
approximate. Subgraphs are built when an area first needs one and kept.

With one-way streets (an imported city) that neighbourhood argument fails, so the
search runs backwards over the whole network; the landmark bound still skips most.
"""

from __future__ import annotations

import numpy as np
from scipy import sparse
from scipy.sparse import csgraph

from gridsim.city.network import RoadNetwork

# the node x station matrix is float32: widen each bound by this much so its rounding
# can only keep a node, never drop one a path needs
ROUNDING_SLACK_S = 1.0


class NearbyCarTimes:
    """Free-flow car seconds to a node from nodes within ``limit_s`` of it (else inf)."""

    def __init__(
        self, network: RoadNetwork, node_station: np.ndarray, node_station_car_s: np.ndarray,
        limit_s: float,
    ) -> None:
        """Search ``network`` within ``limit_s``; areas from ``node_station`` (N,)."""
        self._graph = network.graph("car_s")
        self._one_way = network.car_one_way
        if self._one_way:  # search backwards from the node: times from others to it
            self._graph = self._graph.T.tocsr()
        self._node_station = node_station
        self._node_station_car_s = node_station_car_s
        self._limit_s = float(limit_s)
        own_s = node_station_car_s[np.arange(node_station.shape[0]), node_station]
        self._farthest_s = np.zeros(node_station_car_s.shape[1])
        np.maximum.at(self._farthest_s, node_station, own_s)
        # station -> (its neighbourhood's nodes, ascending; their subgraph)
        self._areas: dict[int, tuple[np.ndarray, sparse.csr_matrix]] = {}

    def to(self, node: int, sources: np.ndarray) -> np.ndarray:
        """Return car seconds from each of ``sources`` to ``node``; inf beyond the limit.

        Sources outside the neighbourhood, or whose landmark bound already exceeds the
        limit, are inf without a search (most calls end there). The bound: for every
        station s, t(u, v) >= t(s, v) - t(s, u), and on two-way roads also
        t(s, u) - t(s, v).
        """
        if self._one_way:
            members, graph = np.arange(self._node_station.shape[0]), self._graph
        else:
            members, graph = self._area(int(self._node_station[node]))
        at = np.minimum(np.searchsorted(members, sources), members.shape[0] - 1)
        near = members[at] == sources
        if near.any():
            rows = self._node_station_car_s
            gap_s = rows[node] - rows[sources[near]]
            bound_s = (gap_s if self._one_way else np.abs(gap_s)).max(axis=1)
            near[near] = bound_s <= self._limit_s + ROUNDING_SLACK_S
        car_s = np.full(sources.shape[0], np.inf)
        if near.any():
            local = int(np.searchsorted(members, node))
            times = csgraph.dijkstra(graph, directed=True, indices=local, limit=self._limit_s)
            car_s[near] = times[at[near]]
        return car_s

    def _area(self, station: int) -> tuple[np.ndarray, sparse.csr_matrix]:
        area = self._areas.get(station)
        if area is None:
            bound_s = self._farthest_s[station] + self._limit_s + ROUNDING_SLACK_S
            members = np.flatnonzero(self._node_station_car_s[:, station] <= bound_s)
            area = self._areas[station] = (members, self._graph[members][:, members].tocsr())
        return area
