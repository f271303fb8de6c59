"""Places a missing person is drawn to on an imported city, read from the OSM file's tags.

A road node is a water edge within ``places.shore_band_m`` of a water way's outline
(``natural=water``, ``waterway=*``, ``landuse=reservoir|basin``), a park within the same
band of a park's outline (``leisure=park|garden|nature_reserve``), and a bridge at the
ends of a road tagged ``bridge``; station nodes are transport hubs, as on the synthetic
city. A GraphML file carries no such tags: it gets the hubs only.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
from scipy.spatial import cKDTree

from gridsim.city.osm import ImportedRoads, require
from gridsim.city.places import BRIDGE, NO_PLACE, PARK, TRANSPORT_HUB, WATER_EDGE

WATER = {"natural": {"water"}, "landuse": {"reservoir", "basin"}}
PARKS = {"leisure": {"park", "garden", "nature_reserve"}}
BRIDGE_SNAP_M = 30.0  # a bridge's end node is the road node this close to it


def osm_places(path: Path, roads: ImportedRoads, station_node: np.ndarray,
               shore_band_m: float) -> np.ndarray:
    """Return the place type of every road node (int8) from the tags of ``path``."""
    place = np.full(roads.network.node_count, NO_PLACE, dtype=np.int8)
    if not path.name.lower().endswith(".graphml"):
        water, parks, bridges = _tagged_points(path)
        tree = cKDTree(roads.network.xy_m)
        for points, kind, radius_m in ((water, WATER_EDGE, shore_band_m),
                                       (parks, PARK, shore_band_m)):
            if points:
                xy = roads.project(*np.array(points).T)
                near = tree.query_ball_point(xy, radius_m)
                hit = np.unique(np.concatenate([np.asarray(n, dtype=np.int64) for n in near]))
                place[hit[place[hit] == NO_PLACE]] = kind
        place[station_node] = TRANSPORT_HUB
        if bridges:
            dist_m, node = tree.query(roads.project(*np.array(bridges).T))
            place[node[dist_m <= BRIDGE_SNAP_M]] = BRIDGE
        return place
    place[station_node] = TRANSPORT_HUB
    return place


def _tagged_points(path: Path) -> tuple[list[tuple[float, float]], ...]:
    """Return (lat, lon) of the nodes of water ways, park ways and bridge roads."""
    osmium = require("osmium")
    water: list[tuple[float, float]] = []
    parks: list[tuple[float, float]] = []
    bridges: list[tuple[float, float]] = []
    for way in osmium.FileProcessor(str(path), osmium.osm.NODE | osmium.osm.WAY
                                    ).with_locations():
        if not way.is_way():
            continue
        tags = way.tags
        if "waterway" in tags or _matches(tags, WATER):
            target = water
        elif _matches(tags, PARKS):
            target = parks
        elif "highway" in tags and tags.get("bridge", "no") != "no":
            target = bridges
        else:
            continue
        target.extend((n.location.lat, n.location.lon) for n in way.nodes
                      if n.location.valid())
    return water, parks, bridges


def _matches(tags: Any, wanted: dict[str, set[str]]) -> bool:
    return any(tags.get(key) in values for key, values in wanted.items())
