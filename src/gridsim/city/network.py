"""The road network as CSR arrays: what the engine reads on its hot path."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from functools import cached_property

import numpy as np
from scipy import sparse
from scipy.sparse import csgraph


@dataclass(frozen=True, eq=False)
class RoadNetwork:
    """A road graph in CSR form with per-edge length and car time.

    The CSR holds both directions of every road. Walking and cycling use it undirected
    (``length_m`` is the same both ways); cars may not: a one-way street's reverse
    direction has ``car_s`` inf (imported cities; synthetic ones are two-way).

    Invariant: every edge's ``length_m`` is at least the straight-line distance between
    its end nodes, so all nodes within road distance R of a node lie within the
    straight-line disc of radius R around it (``LocalSearch`` relies on this).
    """

    xy_m: np.ndarray  # (N, 2) float64, metres east/north of the city origin
    indptr: np.ndarray  # (N + 1,) int64, CSR row pointers
    indices: np.ndarray  # (E,) int32, neighbour of each directed edge
    length_m: np.ndarray  # (E,) float64
    car_s: np.ndarray  # (E,) float64, free-flow car travel time

    @property
    def node_count(self) -> int:
        """Return the number of nodes."""
        return int(self.xy_m.shape[0])

    def graph(self, weight: str = "length_m") -> sparse.csr_matrix:
        """Return the CSR matrix weighted by ``length_m`` or ``car_s``."""
        data = self.length_m if weight == "length_m" else self.car_s
        n = self.node_count
        return sparse.csr_matrix((data, self.indices, self.indptr), shape=(n, n))

    @cached_property
    def car_one_way(self) -> bool:
        """Return whether some road can be driven one way only (car times asymmetric)."""
        graph = self.graph("car_s")
        return bool((graph != graph.T).nnz)

    def digest(self) -> str:
        """Return a SHA-256 of the arrays: the key of on-disk caches."""
        sha = hashlib.sha256()
        for array in (self.xy_m, self.indptr, self.indices, self.length_m, self.car_s):
            sha.update(np.ascontiguousarray(array).tobytes())
        return sha.hexdigest()

    def car_times_from(self, sources: np.ndarray) -> np.ndarray:
        """Return car travel seconds from each source node to every node, (S, N) float32."""
        times = csgraph.dijkstra(self.graph("car_s"), directed=self.car_one_way,
                                 indices=sources)
        return np.atleast_2d(times).astype(np.float32)


def from_edges(
    xy_m: np.ndarray, u: np.ndarray, v: np.ndarray, length_m: np.ndarray, car_s: np.ndarray,
    car_s_back: np.ndarray | None = None,
) -> RoadNetwork:
    """Return the network for roads ``(u[i], v[i])`` over nodes ``xy_m``.

    ``car_s`` is the drive from u to v; ``car_s_back`` from v to u (default: the same;
    inf: one way).
    """
    n = xy_m.shape[0]
    rows = np.concatenate([u, v])
    cols = np.concatenate([v, u])
    order = np.lexsort((cols, rows))
    rows, cols = rows[order], cols[order]
    indptr = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(np.bincount(rows, minlength=n), out=indptr[1:])
    return RoadNetwork(
        xy_m=np.ascontiguousarray(xy_m, dtype=np.float64),
        indptr=indptr,
        indices=cols.astype(np.int32),
        length_m=np.concatenate([length_m, length_m])[order],
        car_s=np.concatenate([car_s, car_s if car_s_back is None else car_s_back])[order],
    )
