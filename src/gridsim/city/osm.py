"""Road networks from OpenStreetMap files, offline (the ``osm`` extra).

osmnx builds the graph (.osm, .osm.bz2 and .graphml directly; .osm.pbf through a
pyosmium copy of its highway ways to OSM XML), gridsim measures each segment on the WGS84
ellipsoid (pyproj), keeps the ways a car may use (a highway class in the
scenario's speed table, not ``access=no|private``), takes the largest strongly connected
part of that directed graph, simplifies it (osmnx: one edge between junctions, lengths
and times summed) and projects it with pyproj to metres on a local azimuthal-equidistant
plane around the network's median point. Cars respect one-way streets; walkers and
cyclists use the same streets both ways.
"""

from __future__ import annotations

import importlib
import math
import re
import tempfile
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np

from gridsim.city.network import RoadNetwork, from_edges
from gridsim.core.errors import InputError
from gridsim.core.files import check_regular
from gridsim.scenario.schema import OsmCity

XML_SUFFIXES = (".osm", ".osm.bz2", ".osm.xml", ".xml")
MPH_TO_KMH = 1.609344
NUMBER = re.compile(r"(\d+(?:\.\d+)?)\s*(mph)?", re.IGNORECASE)
CLOSED_ACCESS = {"no", "private"}


def require(module: str) -> ModuleType:
    """Return ``module``, or raise one line telling how to install the osm extra."""
    try:
        return importlib.import_module(module)
    except ImportError:
        raise InputError(
            f"city.osm: needs the {module} package; install the extra: "
            "pip install -e '.[osm]'") from None


@dataclass(frozen=True, eq=False)
class ImportedRoads:
    """An imported road network and how to place lat/lon points on it."""

    network: RoadNetwork
    lat_lon: np.ndarray  # (N, 2) float64 of every node
    origin_lat_lon: tuple[float, float]  # centre of the projection
    nodes_read: int  # drivable OSM nodes (before simplification)
    nodes_connected: int  # of those, in the largest strongly connected part
    one_way_share: float  # share of roads a car may drive one way only

    def project(self, lat: np.ndarray, lon: np.ndarray) -> np.ndarray:
        """Return (x, y) metres of points on this network's plane."""
        return project_lat_lon(lat, lon, self.origin_lat_lon)


def project_lat_lon(lat: np.ndarray, lon: np.ndarray, origin: tuple[float, float]
                    ) -> np.ndarray:
    """Return (N, 2) metres east/north of ``origin`` (pyproj, azimuthal equidistant)."""
    pyproj = require("pyproj")
    lat0, lon0 = origin
    transformer = pyproj.Transformer.from_crs(
        "EPSG:4326", f"+proj=aeqd +lat_0={lat0} +lon_0={lon0} +datum=WGS84 +units=m",
        always_xy=True)
    x, y = transformer.transform(np.asarray(lon, dtype=float), np.asarray(lat, dtype=float))
    return np.column_stack([x, y])


def import_roads(osm: OsmCity) -> ImportedRoads:
    """Return the drivable network of ``osm.path`` (one line and exit 2 on bad files)."""
    ox = require("osmnx")
    path = Path(osm.path)
    drive = read_graph(path)
    check_graph(path, drive)
    drive.remove_edges_from(
        [(u, v, k) for u, v, k, data in drive.edges(keys=True, data=True)
         if not _drivable(data, osm.speed_kmh_by_highway)])
    if drive.number_of_edges() == 0:
        raise InputError(
            f"{path}: no drivable roads (no way with a highway class of "
            "city.osm.speed_kmh_by_highway); is this a road extract?")
    drive.remove_nodes_from([node for node, degree in drive.degree() if degree == 0])
    if not drive.graph.get("simplified", False):  # a simplified GraphML keeps its curves
        _geodesic_lengths(drive)
    for _, _, data in drive.edges(data=True):
        speed_mps = _speed_kmh(data, osm.speed_kmh_by_highway) / 3.6 * osm.free_flow_share
        data["car_s"] = float(data["length"]) / speed_mps
    nodes_read = drive.number_of_nodes()
    drive = ox.truncate.largest_component(drive, strongly=True)
    if drive.number_of_nodes() < 2:
        raise InputError(f"{path}: the drivable roads form no connected network; "
                         "is this a road extract?")
    nodes_connected = drive.number_of_nodes()
    if osm.simplify and not drive.graph.get("simplified", False):
        drive = ox.simplify_graph(drive, edge_attr_aggs={"length": sum, "car_s": sum})
    return _to_network(drive, nodes_read, nodes_connected)


def _geodesic_lengths(graph: Any) -> None:
    """Set each edge's ``length`` to the WGS84 geodesic between its ends (pyproj).

    osmnx measures on a sphere, up to 0.3% off the ellipsoid the projection uses; with
    the geodesic, a network written out and read back keeps its lengths within 2 cm.
    """
    pyproj = require("pyproj")
    ends = list(graph.edges(keys=True))
    if not ends:
        return
    x = {node: float(data["x"]) for node, data in graph.nodes(data=True)}
    y = {node: float(data["y"]) for node, data in graph.nodes(data=True)}
    u = [e[0] for e in ends]
    v = [e[1] for e in ends]
    _, _, length_m = pyproj.Geod(ellps="WGS84").inv(
        np.array([x[n] for n in u]), np.array([y[n] for n in u]),
        np.array([x[n] for n in v]), np.array([y[n] for n in v]))
    for (a, b, key), metres in zip(ends, np.asarray(length_m).tolist(), strict=True):
        graph.edges[a, b, key]["length"] = metres


def read_graph(path: Path) -> Any:
    """Return the osmnx MultiDiGraph of an OSM XML, PBF or GraphML file."""
    ox = require("osmnx")
    name = path.name.lower()
    check_regular(path, "check city.osm.path")  # never a device or FIFO: it would not end
    if not (name.endswith(XML_SUFFIXES) or name.endswith((".pbf", ".graphml"))):
        raise InputError(f"{path}: unknown road file type; use .osm, .osm.bz2, .osm.pbf "
                         "or .graphml")
    try:
        if name.endswith(".graphml"):
            return ox.load_graphml(path)
        if name.endswith(".pbf"):
            with tempfile.TemporaryDirectory(prefix="gridsim-osm-") as folder:
                xml = Path(folder) / "roads.osm"
                _pbf_to_xml(path, xml)
                return ox.graph_from_xml(xml, simplify=False, retain_all=True)
        return ox.graph_from_xml(path, simplify=False, retain_all=True)
    except InputError:
        raise
    except Exception as exc:  # osmnx, expat, bz2 and osmium raise many kinds
        detail = str(exc).splitlines()[0][:160] if str(exc) else type(exc).__name__
        raise InputError(f"{path}: cannot read as OpenStreetMap ({detail}); is the file "
                         "complete and of the type its name says?") from None


def check_graph(path: Path, graph: Any) -> None:
    """Raise ``InputError`` unless the nodes have lon/lat and a simplified graph's roads lengths.

    A GraphML may lack them: every node needs ``x`` and ``y`` in degrees, and every edge
    of a graph marked simplified its ``length`` in metres.
    """
    bad = [node for node, data in graph.nodes(data=True)
           if not (_degrees(data.get("x"), 180.0) and _degrees(data.get("y"), 90.0))]
    if bad:
        raise InputError(f"{path}: {len(bad):,} of {graph.number_of_nodes():,} nodes have no "
                         f"x/y (longitude/latitude degrees), e.g. node {str(bad[0])[:40]}; "
                         "is it a GraphML written by osmnx from OpenStreetMap?")
    if not graph.graph.get("simplified", False):
        return  # lengths are measured from the nodes
    lengths = [data.get("length") for _, _, data in graph.edges(data=True)]
    if not all(_degrees(length, math.inf) and length >= 0.0 for length in lengths):
        raise InputError(f"{path}: a road of this simplified graph has no length in metres; "
                         "is it a GraphML written by osmnx?")


def _degrees(value: Any, limit: float) -> bool:
    """Return whether ``value`` is a finite number within [-limit, limit]."""
    return (isinstance(value, int | float) and not isinstance(value, bool)
            and math.isfinite(value) and abs(value) <= limit)


def _pbf_to_xml(pbf: Path, xml: Path) -> None:
    """Copy the nodes and the highway ways of a PBF file to OSM XML (pyosmium).

    Other ways (buildings, land use) would become graph edges in osmnx only to be
    dropped as not drivable: leaving them out saves their parse and their memory.
    """
    osmium = require("osmium")
    writer = osmium.SimpleWriter(str(xml))
    try:
        for obj in osmium.FileProcessor(str(pbf), osmium.osm.NODE | osmium.osm.WAY):
            if obj.is_node() or "highway" in obj.tags:
                writer.add(obj)
    finally:
        writer.close()


def _classes(data: dict[str, Any]) -> list[str]:
    value = data.get("highway")
    return [str(v) for v in value] if isinstance(value, list) else [str(value)]


def _drivable(data: dict[str, Any], speeds: dict[str, float]) -> bool:
    access = data.get("access")
    closed = any(str(a) in CLOSED_ACCESS for a in (access if isinstance(access, list)
                                                   else [access]))
    return not closed and any(c in speeds for c in _classes(data))


def _speed_kmh(data: dict[str, Any], speeds: dict[str, float]) -> float:
    """Return the tagged maxspeed (lowest of several), else the class's table speed."""
    tagged = data.get("maxspeed")
    found = []
    for value in tagged if isinstance(tagged, list) else [tagged]:
        for number, mph in NUMBER.findall(str(value)) if value is not None else []:
            kmh = float(number) * (MPH_TO_KMH if mph else 1.0)
            if kmh > 0.0:
                found.append(kmh)
    if found:
        return min(found)
    return min(speeds[c] for c in _classes(data) if c in speeds)


def _to_network(drive: Any, nodes_read: int, nodes_connected: int) -> ImportedRoads:
    """Return the network of an osmnx graph (lat/lon): nodes projected, roads both ways."""
    ids = np.array(sorted(drive.nodes), dtype=np.int64)
    lat = np.array([float(drive.nodes[i]["y"]) for i in ids.tolist()])
    lon = np.array([float(drive.nodes[i]["x"]) for i in ids.tolist()])
    origin = (float(np.median(lat)), float(np.median(lon)))
    xy = project_lat_lon(lat, lon, origin)
    arcs = [(u, v, float(d["length"]), float(d["car_s"]))
            for u, v, d in drive.edges(data=True) if u != v]
    u = np.searchsorted(ids, np.array([a[0] for a in arcs], dtype=np.int64))
    v = np.searchsorted(ids, np.array([a[1] for a in arcs], dtype=np.int64))
    length = np.array([a[2] for a in arcs])
    car = np.array([a[3] for a in arcs])
    low, high = np.minimum(u, v), np.maximum(u, v)
    pairs, pair = np.unique(low * ids.shape[0] + high, return_inverse=True)
    a, b = pairs // ids.shape[0], pairs % ids.shape[0]
    pair_m = np.full(pairs.shape[0], np.inf)
    np.minimum.at(pair_m, pair, length)
    # the invariant RoadNetwork needs: no road shorter than the straight line
    pair_m = np.maximum(pair_m, np.hypot(*(xy[a] - xy[b]).T))
    forward, back = np.full(pairs.shape[0], np.inf), np.full(pairs.shape[0], np.inf)
    np.minimum.at(forward, pair[u < v], car[u < v])
    np.minimum.at(back, pair[u > v], car[u > v])
    one_way = float(np.mean(~np.isfinite(forward) | ~np.isfinite(back)))
    network = from_edges(xy, a.astype(np.int32), b.astype(np.int32), pair_m, forward,
                         car_s_back=back)
    return ImportedRoads(network=network, lat_lon=np.column_stack([lat, lon]),
                         origin_lat_lon=origin, nodes_read=nodes_read,
                         nodes_connected=nodes_connected,
                         one_way_share=round(one_way, 4))

