"""Write a road network out as OpenStreetMap (PBF or XML, pyosmium; the ``osm`` extra).

Used to test and time the importer at scale without the internet: the synthetic city
written out and read back with ``gridsim.city.osm.import_roads``. Node ``i`` becomes OSM
node ``i + 1`` at the lat/lon whose azimuthal-equidistant position around
``origin_lat_lon`` is ``xy_m[i]`` (the inverse of ``osm.project_lat_lon``); each road
becomes one two-node way. OSM has no road lengths: an importer measures them between the
nodes, so circuity written into ``length_m`` does not survive the trip.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from gridsim.city.network import RoadNetwork
from gridsim.city.osm import require


def lat_lon_of(xy_m: np.ndarray, origin_lat_lon: tuple[float, float]) -> np.ndarray:
    """Return (N, 2) lat/lon of points ``xy_m`` metres east/north of the origin (aeqd)."""
    pyproj = require("pyproj")
    lat0, lon0 = origin_lat_lon
    transformer = pyproj.Transformer.from_crs(
        f"+proj=aeqd +lat_0={lat0} +lon_0={lon0} +datum=WGS84 +units=m", "EPSG:4326",
        always_xy=True)
    lon, lat = transformer.transform(xy_m[:, 0], xy_m[:, 1])
    return np.column_stack([lat, lon])


def write_osm(network: RoadNetwork, origin_lat_lon: tuple[float, float], path: Path | str,
              highway: str = "residential") -> int:
    """Write ``network`` to ``path`` (PBF if it ends .pbf, else XML); return the ways.

    One way per road tagged ``highway``; a road a car may drive one way only gets
    ``oneway=yes`` with its nodes in the driving direction. Overwrites ``path``.
    """
    osmium = require("osmium")
    mutable = osmium.osm.mutable
    n = network.node_count
    u = np.repeat(np.arange(n), np.diff(network.indptr))
    v = network.indices.astype(np.int64)
    forward = network.car_s
    # the reverse of each directed edge, found by sorting (v, u) keys against (u, v) ones
    key = u * n + v
    order = np.argsort(key)
    back = forward[order[np.searchsorted(key, v * n + u, sorter=order)]]
    first = u < v
    road_u, road_v = u[first], v[first]
    ahead, behind = np.isfinite(forward[first]), np.isfinite(back[first])
    if not (ahead | behind).all():
        raise ValueError("write_osm: a road no car may drive either way; OSM needs a "
                         "direction or none")
    lat_lon = lat_lon_of(network.xy_m, origin_lat_lon)
    writer = osmium.SimpleWriter(str(path), overwrite=True)
    try:
        for i, (lat, lon) in enumerate(lat_lon.tolist()):
            writer.add_node(mutable.Node(id=i + 1, location=(lon, lat), version=1))
        for j, (a, b, fwd, bwd) in enumerate(zip(road_u.tolist(), road_v.tolist(),
                                                 ahead.tolist(), behind.tolist(),
                                                 strict=True)):
            tags = {"highway": highway}
            if fwd != bwd:
                tags["oneway"] = "yes"
            nodes = [a + 1, b + 1] if fwd else [b + 1, a + 1]
            writer.add_way(mutable.Way(id=j + 1, nodes=nodes, tags=tags, version=1))
    finally:
        writer.close()
    return int(road_u.shape[0])
