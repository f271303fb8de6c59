"""Places a missing person is drawn to: water edges, bridges, parks, transport hubs.

The synthetic city marks them on its nodes: the Yangtze bank and the shores of a few
lakes per district (water edge), the river crossings (bridge), small parks, and the
nodes of police-station areas' centres, which in Nanjing sit at bus and metro hubs
(transport hub). Counts per area are scenario assumptions.
"""

from __future__ import annotations

import numpy as np
from scipy.spatial import cKDTree

from gridsim.city.network import RoadNetwork
from gridsim.scenario.schema import Places

NO_PLACE, WATER_EDGE, BRIDGE, PARK, TRANSPORT_HUB = 0, 1, 2, 3, 4
PLACE_NAMES = ("none", "water_edge", "bridge", "park", "transport_hub")


def mark_places(
    network: RoadNetwork, station_nodes: np.ndarray, river_xy_m: np.ndarray | None,
    bridge_nodes: np.ndarray, places: Places, rng: np.random.Generator,
) -> np.ndarray:
    """Return the place type of every node (int8, ``NO_PLACE`` for most)."""
    xy = network.xy_m
    n = network.node_count
    tree = cKDTree(xy)
    place = np.zeros(n, dtype=np.int8)
    cells = np.unique(np.floor(xy / 1000.0).astype(np.int64), axis=0)  # 1 km cells in use
    area_km2 = float(cells.shape[0])
    for count, radius_m, kind in (
        (places.lakes_per_100_km2 * area_km2 / 100.0, places.lake_radius_m, WATER_EDGE),
        (places.parks_per_10_km2 * area_km2 / 10.0, places.park_radius_m, PARK),
    ):
        # spread evenly over the land, not over the nodes (which crowd in the core)
        chosen = cells[rng.choice(cells.shape[0], size=max(1, int(round(count))),
                                  replace=False)]
        spots = (chosen + rng.random(chosen.shape)) * 1000.0
        for centre in tree.query(spots)[1].tolist():
            inside = np.array(tree.query_ball_point(xy[centre], radius_m), dtype=np.int64)
            if kind == WATER_EDGE:  # the shore: the outer band of the lake's disc
                dist = np.hypot(*(xy[inside] - xy[centre]).T)
                inside = inside[dist >= radius_m - places.shore_band_m]
            place[inside] = kind
    if river_xy_m is not None:
        a, b = river_xy_m
        direction = (b - a) / np.hypot(*(b - a))
        offset = xy - a
        across = np.abs(offset[:, 0] * direction[1] - offset[:, 1] * direction[0])
        place[across <= places.shore_band_m] = WATER_EDGE
    place[station_nodes] = TRANSPORT_HUB
    place[bridge_nodes] = BRIDGE
    return place
