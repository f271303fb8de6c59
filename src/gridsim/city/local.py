"""Exact road distances from one node to every node within a radius, without a global search.

A path of road length <= R from node v never leaves the straight-line disc of radius R
around v, because every edge is at least as long as the straight line between its ends
(the ``RoadNetwork`` invariant). So Dijkstra on the subgraph induced by the disc's nodes
(found with a k-d tree) gives exact road distances for every node within R, at a cost
set by the disc, not by the size of the city.
"""

from __future__ import annotations

import numpy as np
from scipy import sparse
from scipy.sparse import csgraph
from scipy.spatial import cKDTree

from gridsim.city.network import RoadNetwork


class LocalSearch:
    """Bounded road-distance queries on one network (holds a reusable scratch index)."""

    def __init__(self, network: RoadNetwork) -> None:
        """Index ``network``'s nodes for disc queries."""
        self._network = network
        self._tree = cKDTree(network.xy_m)
        self._position = np.full(network.node_count, -1, dtype=np.int64)  # scratch, kept -1

    def within(self, node: int, radius_m: float) -> tuple[np.ndarray, np.ndarray]:
        """Return (nodes, road metres) of every node within ``radius_m`` of ``node``, by id."""
        net = self._network
        disc = np.asarray(
            self._tree.query_ball_point(net.xy_m[node], radius_m, return_sorted=True),
            dtype=np.int64,
        )
        if disc.shape[0] <= 1:
            return np.array([node], dtype=np.int64), np.zeros(1)
        starts, ends = net.indptr[disc], net.indptr[disc + 1]
        degree = ends - starts
        edge = np.repeat(starts - np.cumsum(degree) + degree, degree) + np.arange(degree.sum())
        self._position[disc] = np.arange(disc.shape[0])
        try:
            target = self._position[net.indices[edge]]
            row = np.repeat(np.arange(disc.shape[0]), degree)
            inside = target >= 0
            sub = sparse.csr_matrix(
                (net.length_m[edge][inside], (row[inside], target[inside])),
                shape=(disc.shape[0], disc.shape[0]),
            )
            origin = int(self._position[node])
        finally:
            self._position[disc] = -1
        dist = csgraph.dijkstra(sub, directed=True, indices=origin, limit=radius_m)
        reached = np.isfinite(dist)
        return disc[reached], dist[reached]
