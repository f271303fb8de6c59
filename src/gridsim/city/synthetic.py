"""A synthetic Nanjing-like road network generated from the scenario's districts.

Nodes are scattered in a disc per district (area from the census, denser towards the
centre), labelled with the district whose scaled centroid distance is smallest on the
same bank of the river, and joined by a thinned Delaunay triangulation: its minimum
spanning tree (so the network is connected) plus a share of the other short edges. No
edge crosses the river except at ``bridges`` crossings, which is what makes Pukou and Luhe
far from the core by road.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import sparse
from scipy.sparse import csgraph
from scipy.spatial import Delaunay

from gridsim.city.network import RoadNetwork, from_edges
from gridsim.core.errors import InputError
from gridsim.core.geo import mean_origin, north_of, project
from gridsim.core.rng import stream
from gridsim.scenario.schema import City

EXTRA_EDGE_MAX_RATIO = 2.5  # extra edges longer than this x local tree-edge length are dropped
BRIDGE_SPAN = (0.25, 0.75)  # bridges spread along this part of the river segment


@dataclass(frozen=True, eq=False)
class CityMap:
    """A road network and the district of every node."""

    network: RoadNetwork
    node_district: np.ndarray  # (N,) int16 index into City.districts
    origin_lat_lon: tuple[float, float]


def generate_city(city: City) -> CityMap:
    """Return a connected synthetic road network for ``city`` (deterministic in its seed)."""
    rng = stream(city.seed, "city.nodes")
    origin = city_origin(city)
    centres = project(np.array([d.lat for d in city.districts]),
                      np.array([d.lon for d in city.districts]), origin)
    radii = np.sqrt(np.array([d.area_km2 for d in city.districts]) * 1e6 / np.pi)
    north = np.array([d.bank == "north" for d in city.districts])
    river = river_xy_m(city)

    counts = _node_counts(city)
    xy = np.concatenate(
        [
            _scatter(rng, centres[d], radii[d], north[d], river, counts[d])
            for d in range(len(counts))
        ]
    )
    on_north = north_of(xy, river)
    district = _label_districts(xy, on_north, centres, radii, north)
    empty = np.flatnonzero(np.bincount(district, minlength=len(counts)) == 0)
    if empty.shape[0]:
        raise InputError(
            f"city.districts[{int(empty[0])}] ({city.districts[int(empty[0])].name}): its disc "
            "lies inside another district's, so it gets no road nodes; move its lat/lon "
            "or change the districts' area_km2"
        )

    u, v = _road_edges(xy, on_north, city.extra_edge_prob, stream(city.seed, "city.edges"))
    length = np.hypot(*(xy[u] - xy[v]).T) * city.circuity
    if north.any() and (~north).any():
        bu, bv = _bridges(xy, on_north, river, city.bridges)
        u, v = np.concatenate([u, bu]), np.concatenate([v, bv])
        length = np.concatenate([length, np.hypot(*(xy[bu] - xy[bv]).T)])

    keep = _largest_component(xy.shape[0], u, v)
    new_id = np.cumsum(keep) - 1
    edge_ok = keep[u] & keep[v]
    u, v, length = new_id[u[edge_ok]], new_id[v[edge_ok]], length[edge_ok]
    xy, district = xy[keep], district[keep]

    speed = np.array([getattr(city.car_speed_mps, d.character) for d in city.districts])
    edge_speed = 0.5 * (speed[district[u]] + speed[district[v]])
    network = from_edges(xy, u.astype(np.int32), v.astype(np.int32), length, length / edge_speed)
    return CityMap(network=network, node_district=district.astype(np.int16),
                         origin_lat_lon=origin)


def city_origin(city: City) -> tuple[float, float]:
    """Return the (lat, lon) the city's local metres are measured from: the mean centroid."""
    return mean_origin([d.lat for d in city.districts], [d.lon for d in city.districts])


def river_xy_m(city: City) -> np.ndarray:
    """Return the river's two end points in the city's local metres, (2, 2)."""
    return project(np.array([p[0] for p in city.river_lat_lon]),
                   np.array([p[1] for p in city.river_lat_lon]), city_origin(city))


def _node_counts(city: City) -> np.ndarray:
    """Return nodes per district: half by population share, half by area share."""
    pop = np.array([d.population for d in city.districts], dtype=float)
    area = np.array([d.area_km2 for d in city.districts], dtype=float)
    share = 0.5 * pop / pop.sum() + 0.5 * area / area.sum()
    return largest_remainder(share, city.node_count, minimum=5)


def largest_remainder(weights: np.ndarray, total: int, minimum: int = 0) -> np.ndarray:
    """Return integers proportional to ``weights`` that sum to ``total`` (each >= minimum)."""
    weights = np.asarray(weights, dtype=float)
    n = weights.shape[0]
    if total < minimum * n:
        raise ValueError(f"cannot give {n} parts at least {minimum} each out of {total}")
    spare = total - minimum * n
    if weights.sum() <= 0.0:
        weights = np.ones(n)
    exact = weights / weights.sum() * spare
    counts = np.floor(exact).astype(np.int64)
    order = np.argsort(-(exact - counts), kind="stable")
    counts[order[: spare - counts.sum()]] += 1
    return counts + minimum


def _scatter(
    rng: np.random.Generator,
    centre: np.ndarray,
    radius: float,
    north: bool,
    river: np.ndarray,
    count: int,
) -> np.ndarray:
    """Return ``count`` points in the district's disc on its own bank, denser at the centre."""
    points: list[np.ndarray] = []
    have = 0
    while have < count:
        batch = 2 * (count - have) + 16
        r = radius * rng.random(batch) ** 0.6
        theta = rng.random(batch) * 2.0 * np.pi
        xy = centre + np.column_stack([r * np.cos(theta), r * np.sin(theta)])
        xy = xy[north_of(xy, river) == north]
        points.append(xy[: count - have])
        have += points[-1].shape[0]
    return np.concatenate(points)


def _label_districts(
    xy: np.ndarray, on_north: np.ndarray, centres: np.ndarray, radii: np.ndarray,
    north: np.ndarray,
) -> np.ndarray:
    """Return the district of each point: smallest distance/radius on the same bank."""
    scaled = np.hypot(
        xy[:, None, 0] - centres[None, :, 0], xy[:, None, 1] - centres[None, :, 1]
    ) / radii[None, :]
    scaled[on_north[:, None] != north[None, :]] = np.inf
    return np.argmin(scaled, axis=1)


def _road_edges(
    xy: np.ndarray, on_north: np.ndarray, extra_prob: float, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """Return the road edges: Delaunay MST plus a share of the short remaining edges."""
    simplices = Delaunay(xy).simplices
    pairs = np.concatenate([simplices[:, [0, 1]], simplices[:, [1, 2]], simplices[:, [0, 2]]])
    pairs = np.unique(np.sort(pairs, axis=1), axis=0)
    pairs = pairs[on_north[pairs[:, 0]] == on_north[pairs[:, 1]]]  # no edge over the river
    length = np.hypot(*(xy[pairs[:, 0]] - xy[pairs[:, 1]]).T)
    n = xy.shape[0]
    full = sparse.coo_matrix((length, (pairs[:, 0], pairs[:, 1])), shape=(n, n)).tocsr()
    tree = csgraph.minimum_spanning_tree(full).tocoo()
    tree_u, tree_v = tree.row, tree.col
    # local scale: the longest tree edge at each node
    local = np.zeros(n)
    np.maximum.at(local, tree_u, tree.data)
    np.maximum.at(local, tree_v, tree.data)
    in_tree = np.zeros(pairs.shape[0], dtype=bool)
    tree_keys = np.sort(np.column_stack([tree_u, tree_v]), axis=1)
    key = pairs[:, 0].astype(np.int64) * n + pairs[:, 1]
    in_tree[np.isin(key, tree_keys[:, 0].astype(np.int64) * n + tree_keys[:, 1])] = True
    short = length <= EXTRA_EDGE_MAX_RATIO * np.minimum(local[pairs[:, 0]], local[pairs[:, 1]])
    extra = ~in_tree & short & (rng.random(pairs.shape[0]) < extra_prob)
    chosen = pairs[in_tree | extra]
    return chosen[:, 0], chosen[:, 1]


def _bridges(
    xy: np.ndarray, on_north: np.ndarray, river: np.ndarray, count: int
) -> tuple[np.ndarray, np.ndarray]:
    """Return ``count`` river crossings, each joining the nearest node on either bank."""
    a, b = river
    ends_u, ends_v = [], []
    north_ids, south_ids = np.flatnonzero(on_north), np.flatnonzero(~on_north)
    for t in np.linspace(*BRIDGE_SPAN, count):
        point = a + t * (b - a)
        ends_u.append(north_ids[np.argmin(np.hypot(*(xy[north_ids] - point).T))])
        ends_v.append(south_ids[np.argmin(np.hypot(*(xy[south_ids] - point).T))])
    return np.array(ends_u), np.array(ends_v)


def _largest_component(n: int, u: np.ndarray, v: np.ndarray) -> np.ndarray:
    """Return a mask of the nodes in the largest connected component."""
    adjacency = sparse.coo_matrix((np.ones(u.shape[0]), (u, v)), shape=(n, n))
    _, labels = csgraph.connected_components(adjacency, directed=False)
    return labels == np.argmax(np.bincount(labels))
