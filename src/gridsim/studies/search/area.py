"""The search area: the roads around the last known point, cut into search segments.

The area is every road node within ``search_radius_m`` (straight line) of the last known
point (LKP) that can be reached on the roads inside that disc. It is cut into square
search segments of ``segment_m`` (the cells of the probability map); a segment is the
land nearer to its nodes than to any other node (so segments tile the disc: land far
from roads belongs to the segment of the nearest road). A segment's area is counted on
a raster of ``RASTER_M`` squares; its roads are the edges whose midpoint lies in it.
Everyone moves on these roads: road distances and shortest paths come from Dijkstra on
the area's sub-network, from each segment's entry node (the node nearest its centre).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import sparse
from scipy.sparse import csgraph
from scipy.spatial import cKDTree

from gridsim.city.network import RoadNetwork
from gridsim.city.places import BRIDGE, PARK, WATER_EDGE

RASTER_M = 50.0  # side of the raster squares that measure segment areas and the prior
STREET, PARK_TERRAIN, WATERSIDE = 0, 1, 2
TERRAINS = ("street", "park", "waterside")


@dataclass(frozen=True, eq=False)
class SearchArea:
    """The area's nodes, roads and segments (local indices: 0..A-1 nodes, 0..S-1 segments)."""

    lkp: int  # local index of the last known point
    node_id: np.ndarray  # (A,) network node ids, sorted
    xy_m: np.ndarray  # (A, 2)
    place: np.ndarray  # (A,) place code (gridsim.city.places)
    indptr: np.ndarray  # (A + 1,) local CSR of the roads inside the area
    indices: np.ndarray  # (2E,) neighbour (local index)
    length_m: np.ndarray  # (2E,) road length
    road_from_lkp_m: np.ndarray  # (A,)
    lkp_pred: np.ndarray  # (A,) next node towards the LKP (-9999 at the LKP)
    edge_a: np.ndarray  # (E,) undirected edges, local end nodes
    edge_b: np.ndarray
    edge_length_m: np.ndarray  # (E,)
    edge_terrain: np.ndarray  # (E,) STREET, PARK_TERRAIN or WATERSIDE
    node_segment: np.ndarray  # (A,) segment of each node
    segment_edges: tuple[np.ndarray, ...]  # (S,) edges swept in each segment
    segment_area_m2: np.ndarray  # (S,)
    segment_centre_xy: np.ndarray  # (S, 2) centroid of the segment's land
    segment_road_m: np.ndarray  # (S, 3) road length per terrain class
    segment_entry: np.ndarray  # (S,) local node where a sweep starts and ends
    entry_road_m: np.ndarray  # (S, A) float32 road distance between entry s and node
    node_entry_road_m: np.ndarray  # (A, S) the same, by node (contiguous rows)
    entry_pred: np.ndarray  # (S, A) int32 next node from node towards entry s
    segment_neighbours: sparse.csr_matrix  # (S, S) column-stochastic spread to neighbours
    raster_xy_m: np.ndarray  # (R, 2) raster centres over the disc
    raster_segment: np.ndarray  # (R,) segment of each raster square
    raster_node: np.ndarray  # (R,) nearest node of each raster square

    @property
    def segment_count(self) -> int:
        """Return the number of segments S."""
        return int(self.segment_area_m2.shape[0])

    @property
    def total_area_m2(self) -> float:
        """Return the area of the disc the segments tile."""
        return float(self.segment_area_m2.sum())

    def path_to_entry(self, node: int, segment: int) -> list[int]:
        """Return the local nodes from ``node`` to segment's entry along the shortest road."""
        row = self.entry_pred[segment]
        path = [node]
        entry = int(self.segment_entry[segment])
        while path[-1] != entry:
            path.append(int(row[path[-1]]))
        return path

    def path_to_lkp(self, node: int) -> list[int]:
        """Return the local nodes from ``node`` to the LKP along the shortest road."""
        path = [node]
        while path[-1] != self.lkp:
            path.append(int(self.lkp_pred[path[-1]]))
        return path


def terrain_of_place(place: np.ndarray) -> np.ndarray:
    """Return the terrain class of nodes by their place (water edge and bridge: waterside)."""
    terrain = np.full(place.shape[0], STREET, dtype=np.int8)
    terrain[place == PARK] = PARK_TERRAIN
    terrain[(place == WATER_EDGE) | (place == BRIDGE)] = WATERSIDE
    return terrain


def build_area(network: RoadNetwork, lkp_node: int, radius_m: float, segment_m: float,
               place: np.ndarray) -> SearchArea:
    """Return the search area around network node ``lkp_node``."""
    centre = network.xy_m[lkp_node]
    inside = np.flatnonzero(np.hypot(*(network.xy_m - centre).T) <= radius_m)
    graph = network.graph()[inside][:, inside]
    lkp_local = int(np.searchsorted(inside, lkp_node))
    road, pred = csgraph.dijkstra(graph, directed=False, indices=lkp_local,
                                  return_predecessors=True)
    reach = np.isfinite(road)
    keep = inside[reach]
    graph = graph[reach][:, reach].tocsr()
    graph.sort_indices()
    lkp = int(np.searchsorted(keep, lkp_node))
    road, pred = csgraph.dijkstra(graph, directed=False, indices=lkp,
                                  return_predecessors=True)
    xy = network.xy_m[keep]
    node_place = place[keep]
    upper = sparse.triu(graph, k=1).tocoo()
    edge_a, edge_b, edge_len = upper.row, upper.col, upper.data
    terrain = terrain_of_place(node_place)
    edge_terrain = np.maximum(terrain[edge_a], terrain[edge_b])

    # square cells anchored at the LKP; a segment is the land nearest its nodes
    cell = np.floor((xy - centre) / segment_m).astype(np.int64)
    cell_key = cell[:, 0] * 1_000_003 + cell[:, 1]
    keys, node_segment = np.unique(cell_key, return_inverse=True)
    segments = keys.shape[0]
    steps = np.arange(-radius_m + RASTER_M / 2, radius_m, RASTER_M)
    gx, gy = np.meshgrid(steps, steps)
    raster = np.column_stack([gx.ravel(), gy.ravel()])
    raster = raster[np.hypot(raster[:, 0], raster[:, 1]) <= radius_m] + centre
    raster_node = cKDTree(xy).query(raster)[1]
    raster_segment = node_segment[raster_node]
    counts = np.bincount(raster_segment, minlength=segments).astype(float)
    area_m2 = np.maximum(counts, 1.0) * RASTER_M ** 2
    centre_xy = np.column_stack([
        np.bincount(raster_segment, weights=raster[:, k], minlength=segments)
        / np.maximum(counts, 1.0) for k in range(2)])
    empty = counts == 0  # a segment whose land all lies nearer other nodes' (rare)
    for s in np.flatnonzero(empty).tolist():
        centre_xy[s] = xy[node_segment == s].mean(axis=0)

    midpoint_segment = node_segment[edge_a]  # edges between segments: the a end's
    mid = (xy[edge_a] + xy[edge_b]) / 2.0
    mid_cell = np.floor((mid - centre) / segment_m).astype(np.int64)
    mid_key = mid_cell[:, 0] * 1_000_003 + mid_cell[:, 1]
    at = np.searchsorted(keys, mid_key)
    known = (at < segments) & (keys[np.minimum(at, segments - 1)] == mid_key)
    midpoint_segment = np.where(known, np.minimum(at, segments - 1), midpoint_segment)
    order = np.argsort(midpoint_segment, kind="stable")
    bounds = np.searchsorted(midpoint_segment[order], np.arange(segments + 1))
    segment_edges = tuple(order[bounds[s]:bounds[s + 1]] for s in range(segments))
    road_m = np.zeros((segments, len(TERRAINS)))
    np.add.at(road_m, (midpoint_segment, edge_terrain), edge_len)

    entry = np.empty(segments, dtype=np.int64)
    for s in range(segments):
        members = np.flatnonzero(node_segment == s)
        entry[s] = members[np.argmin(np.hypot(*(xy[members] - centre_xy[s]).T))]
    entry_road, entry_pred = csgraph.dijkstra(graph, directed=False, indices=entry,
                                              return_predecessors=True)
    between = node_segment[edge_a] != node_segment[edge_b]
    a, b = node_segment[edge_a][between], node_segment[edge_b][between]
    touch = sparse.coo_matrix((np.ones(2 * a.shape[0]), (np.r_[a, b], np.r_[b, a])),
                              shape=(segments, segments)).tocsr()
    touch.data[:] = 1.0
    isolated = np.asarray(touch.sum(axis=0)).ravel() == 0  # keeps its own mass
    touch = (touch + sparse.diags(isolated.astype(float))).tocsr()
    degree = np.asarray(touch.sum(axis=0)).ravel()
    spread = (touch @ sparse.diags(1.0 / np.maximum(degree, 1.0))).tocsr()
    return SearchArea(
        lkp=lkp, node_id=keep, xy_m=xy, place=node_place, indptr=graph.indptr,
        indices=graph.indices, length_m=graph.data, road_from_lkp_m=road,
        lkp_pred=pred.astype(np.int64), edge_a=edge_a.astype(np.int64),
        edge_b=edge_b.astype(np.int64), edge_length_m=edge_len, edge_terrain=edge_terrain,
        node_segment=node_segment, segment_edges=segment_edges, segment_area_m2=area_m2,
        segment_centre_xy=centre_xy, segment_road_m=road_m, segment_entry=entry,
        entry_road_m=entry_road.astype(np.float32),
        node_entry_road_m=np.ascontiguousarray(entry_road.T),
        entry_pred=entry_pred.astype(np.int32),
        segment_neighbours=spread, raster_xy_m=raster, raster_segment=raster_segment,
        raster_node=raster_node,
    )
