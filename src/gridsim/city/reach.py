"""Bounded road distances in bulk: for many sources, every node within a radius.

The exactness argument is ``LocalSearch``'s (a path of road length <= r from s stays in
the straight-line disc of radius r around s). Here the discs of a batch of sources are
laid side by side as one block-diagonal graph, so one scipy Dijkstra call serves the
whole batch; each source only ever reaches its own block.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import sparse
from scipy.sparse import csgraph
from scipy.spatial import cKDTree

from gridsim.city.network import RoadNetwork

BATCH_ENTRIES = 400_000  # dense (batch x block nodes) distance entries per Dijkstra call


@dataclass(frozen=True, eq=False)
class Reach:
    """For each source row r: ``item[start[r]:start[r+1]]`` at ``dist_m``, nearest first."""

    start: np.ndarray  # (rows + 1,) int64
    item: np.ndarray  # (entries,) int32: node ids (or responder ids, once mapped)
    dist_m: np.ndarray  # (entries,) float32

    @property
    def rows(self) -> int:
        """Return the number of source rows."""
        return int(self.start.shape[0] - 1)

    def row(self, r: int) -> tuple[np.ndarray, np.ndarray]:
        """Return (items, road metres) of row ``r``."""
        s, e = self.start[r], self.start[r + 1]
        return self.item[s:e], self.dist_m[s:e]


def reach_within(
    network: RoadNetwork, sources: np.ndarray, radius_m: np.ndarray | float
) -> Reach:
    """Return, for each source node, the nodes within its radius by road, nearest first.

    Ties in distance are broken by node id, so the order is deterministic.
    """
    sources = np.asarray(sources, dtype=np.int64)
    radius = np.broadcast_to(np.asarray(radius_m, dtype=float), sources.shape)
    tree = cKDTree(network.xy_m)
    discs = tree.query_ball_point(network.xy_m[sources], radius, return_length=True)
    starts = [np.zeros(1, dtype=np.int64)]
    items: list[np.ndarray] = []
    dists: list[np.ndarray] = []
    total = 0
    lo = 0
    while lo < sources.shape[0]:
        # grow the batch while batch size x block size stays within BATCH_ENTRIES
        hi, block = lo, 0
        while hi < sources.shape[0] and (hi - lo + 1) * (block + discs[hi]) <= BATCH_ENTRIES:
            block += int(discs[hi])
            hi += 1
        hi = max(hi, lo + 1)
        nodes, dist, counts = _batch(network, tree, sources[lo:hi], radius[lo:hi])
        items.append(nodes)
        dists.append(dist)
        total_counts = np.cumsum(counts) + total
        starts.append(total_counts)
        total = int(total_counts[-1]) if total_counts.shape[0] else total
        lo = hi
    return Reach(
        start=np.concatenate(starts).astype(np.int64),
        item=np.concatenate(items).astype(np.int32) if items else np.empty(0, np.int32),
        dist_m=np.concatenate(dists).astype(np.float32) if dists else np.empty(0, np.float32),
    )


def _batch(
    network: RoadNetwork, tree: cKDTree, sources: np.ndarray, radius: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Return (nodes, dist, count per source) for one batch, each source's nearest first."""
    n = network.node_count
    discs = tree.query_ball_point(network.xy_m[sources], radius)
    sizes = np.array([len(d) for d in discs], dtype=np.int64)
    members = np.concatenate([np.asarray(d, dtype=np.int64) for d in discs])
    block = np.repeat(np.arange(sources.shape[0], dtype=np.int64), sizes)
    key = block * n + members
    order = np.argsort(key, kind="stable")
    sorted_key = key[order]

    degree = network.indptr[members + 1] - network.indptr[members]
    first = network.indptr[members]
    edge = np.repeat(first - np.cumsum(degree) + degree, degree) + np.arange(degree.sum())
    row = np.repeat(np.arange(members.shape[0]), degree)
    target_key = np.repeat(block, degree) * n + network.indices[edge]
    pos = np.minimum(np.searchsorted(sorted_key, target_key), sorted_key.shape[0] - 1)
    inside = sorted_key[pos] == target_key
    m = members.shape[0]
    graph = sparse.csr_matrix(
        (network.length_m[edge][inside], (row[inside], order[pos[inside]])), shape=(m, m)
    )
    origin = order[np.searchsorted(sorted_key, np.arange(sources.shape[0]) * n + sources)]
    dist = np.atleast_2d(
        csgraph.dijkstra(graph, directed=True, indices=origin, limit=float(radius.max()))
    )
    own = dist[block, np.arange(m)]  # each member's distance from its own block's source
    ok = own <= radius[block]
    keep = np.lexsort((members[ok], own[ok], block[ok]))
    counts = np.bincount(block[ok], minlength=sources.shape[0])
    return members[ok][keep], own[ok][keep], counts
