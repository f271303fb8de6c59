"""Exact car times between nodes a short drive apart, without a city-wide search.

A bounded Dijkstra with scipy costs O(N) per call however small its bound (scipy sets
up every node), about 0.4 ms on the 100,000-node default, where a two-minute drive
reaches about 70 nodes. So the search here is a plain heap Dijkstra over the network's
CSR arrays that touches only the nodes within the bound and stops once every source
asked about is settled. Dijkstra's times are the fixed point t(v) = min over the roads
(u, v) of t(u) + w(u, v), whatever the order nodes are settled in, so they are scipy's
to the bit (tested against a city-wide scipy search).

Most calls need no search at all: a source can be within ``limit_s`` of a node of
station area A only if it lies in A's neighbourhood (car time from A's station at most
the area's farthest node's plus the bound: a node w on such a path from v has
t(station, w) <= t(station, v) + t(v, w)), and only if the landmark bound over the node x
station matrix (|t(s, u) - t(s, v)| <= t(u, v)) allows it. With one-way streets (an
imported city) the neighbourhood argument fails and the bound is one-sided; the search
then runs backwards, from the node over reversed roads.

Beyond the search, ``within`` gives the best route through a station (an upper bound);
sources whose landmark bound already passes its cap it drops before either.
"""

from __future__ import annotations

import heapq
import math

import numpy as np

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
        graph = network.graph("car_s").tocsr()
        self._one_way = network.car_one_way
        if self._one_way:  # search backwards from the node: times from others to it
            graph = graph.T.tocsr()
        # the roads as memoryviews: one value at a time, Python numbers
        self._road_start = np.ascontiguousarray(graph.indptr, dtype=np.int64).data
        self._road_to = np.ascontiguousarray(graph.indices, dtype=np.int64).data
        self._road_s = np.ascontiguousarray(graph.data, dtype=np.float64).data
        self._node_station = node_station
        self._node_station_car_s = node_station_car_s
        self._limit_s = float(limit_s)
        own_s = node_station_car_s[np.arange(node_station.shape[0]), node_station]
        farthest_s = np.zeros(node_station_car_s.shape[1])
        np.maximum.at(farthest_s, node_station, own_s)
        # an area's neighbourhood: the nodes within this car time of its station
        self._reach_s = farthest_s + self._limit_s + ROUNDING_SLACK_S

    def to(self, node: int, sources: np.ndarray) -> np.ndarray:
        """Return car seconds from each of ``sources`` to ``node``; inf beyond the limit.

        Sources outside the neighbourhood, or whose landmark bound already exceeds the
        limit, are inf without a search (most calls end there). The bound: for every
        station s, t(u, v) >= t(s, v) - t(s, u), and on two-way roads also
        t(s, u) - t(s, v).
        """
        rows = self._node_station_car_s
        if self._one_way:
            near = np.ones(sources.shape[0], dtype=bool)
        else:  # in the neighbourhood of the node's area
            station = int(self._node_station[node])
            near = rows[sources, station] <= self._reach_s[station]
        if near.any():
            gap_s = rows[node] - rows[sources[near]]
            bound_s = (gap_s if self._one_way else np.abs(gap_s)).max(axis=1)
            near[near] = bound_s <= self._limit_s + ROUNDING_SLACK_S
        car_s = np.full(sources.shape[0], np.inf)
        if near.any():
            found = self._search(node, sources[near].tolist())
            car_s[near] = [found.get(source, math.inf) for source in sources[near].tolist()]
        return car_s

    def within(self, node: int, sources: np.ndarray, max_s: float) -> np.ndarray:
        """Return car seconds from each of ``sources`` to ``node``; inf beyond ``max_s``.

        Exact within the search limit (``to``); beyond it the best route through a
        station, t(s, u) + t(s, node) over the stations s, an upper bound. On two-way
        roads a source whose landmark bound over the node's own station exceeds ``max_s``
        is more than ``max_s`` away by any route (t(u, node) >= |t(s, u) - t(s, node)|),
        so it is inf without either.
        """
        rows = self._node_station_car_s
        car_s = np.full(sources.shape[0], np.inf)
        if self._one_way:
            kept = np.arange(sources.shape[0])
        else:
            station = int(self._node_station[node])
            gap_s = np.abs(rows[sources, station] - rows[node, station])
            kept = np.flatnonzero(gap_s <= max_s + ROUNDING_SLACK_S)
        if kept.shape[0]:
            near = sources[kept]
            kept_s = self.to(node, near)
            far = kept_s == math.inf
            kept_s[far] = (rows[near[far]] + rows[node]).min(axis=1)
            kept_s[kept_s > max_s] = math.inf
            car_s[kept] = kept_s
        return car_s

    def _search(self, node: int, targets: list[int]) -> dict[int, float]:
        """Return the car seconds from ``node`` of the ``targets`` within the limit.

        A Dijkstra that keeps only times within the limit (as scipy's ``limit``) and stops
        once every target is settled.
        """
        road_start, road_to, road_s, limit_s = (
            self._road_start, self._road_to, self._road_s, self._limit_s)
        wanted = set(targets)
        found: dict[int, float] = {}
        best_s = {node: 0.0}
        settled: set[int] = set()
        heap = [(0.0, node)]
        while heap:
            t_s, u = heapq.heappop(heap)
            if u in settled:
                continue
            settled.add(u)
            if u in wanted:
                found[u] = t_s
                if len(found) == len(wanted):
                    break
            for road in range(road_start[u], road_start[u + 1]):
                v = road_to[road]
                via_s = t_s + road_s[road]
                if via_s <= limit_s and via_s < best_s.get(v, math.inf):
                    best_s[v] = via_s
                    heapq.heappush(heap, (via_s, v))
        return found
