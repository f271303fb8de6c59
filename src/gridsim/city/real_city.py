"""The world arrays of an imported city: roads from OSM, zones from layers or derived.

What a planner gives is used; what is missing is derived, and ``source`` says which:

- districts: the boundary polygons (a node takes the polygon it lies in, else the
  nearest), or one district;
- people: a population layer (points snapped to their nearest node; each district's
  total then scaled to the scenario's census figure), or spread evenly over the nodes;
- stations: a layer (kind ``household`` or ``street``), or a greedy p-median over the
  people by straight-line distance: a placeholder, not a plan;
- station areas: jurisdiction polygons (one per named station), and road-travel-time
  Voronoi cells (each node to the station that reaches it first by car) for the nodes
  outside them or when none are given;
- grids and micro-grids: H3 cells (resolution r and r + 1) or squares (``grid_cell_m``
  and half of it), cut by station areas so zones stay nested;
- watch points and schools: a layer, or (watch points) placed by population as on the
  synthetic city;
- places for the missing-person study: always from the road file's tags
  (``gridsim.city.osm_places``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from gridsim.city.layers import column_numbers, read_points, read_polygons, snap
from gridsim.city.osm import ImportedRoads, import_roads, require
from gridsim.city.osm_places import osm_places
from gridsim.city.places import BRIDGE, PARK, PLACE_NAMES, WATER_EDGE
from gridsim.city.zones import ZoneMap
from gridsim.core.cache import Arrays
from gridsim.core.errors import InputError
from gridsim.core.rng import stream
from gridsim.scenario.schema import OsmCity, Scenario

# part of the world's cache key: raise it when the arrays an import makes change
IMPORT_VERSION = 3
PMEDIAN_CANDIDATES = 600  # candidate sites drawn by population
PMEDIAN_DEMAND_CELLS = 4000  # demand aggregated to about this many squares


def osm_city_arrays(scenario: Scenario) -> Arrays:
    """Return the world arrays (as ``world._city_arrays``) of an OSM scenario."""
    osm = scenario.city.osm
    assert osm is not None
    roads = import_roads(osm)
    network = roads.network
    n = network.node_count
    names = [d.name for d in scenario.city.districts]
    node_district, outside = _districts(osm, roads, names)
    census = np.array([d.population for d in scenario.city.districts], dtype=float)
    node_population = _population(osm, roads, node_district, census)
    station_node, is_street, station_names = _stations(osm, roads, node_population, scenario)
    station_car_s = network.car_times_from(station_node)  # (S, N)
    node_station = np.argmin(station_car_s, axis=0).astype(np.int32)
    in_polygons = 0
    if osm.jurisdictions is not None:
        node_station, in_polygons = _jurisdictions(osm, roads, node_station, station_names)
    node_station[station_node] = np.arange(station_node.shape[0], dtype=np.int32)
    node_grid, grid_station = _cells(osm, roads, node_station, osm.grid_h3_resolution,
                                     osm.grid_cell_m)
    node_micro, micro_grid = _cells(osm, roads, node_grid, osm.grid_h3_resolution + 1,
                                    osm.grid_cell_m / 2.0)
    zones = ZoneMap(
        node_station=node_station,
        node_grid=node_grid,
        node_micro_grid=node_micro,
        station_node=station_node,
        station_district=node_district[station_node].astype(np.int32),
        station_is_street=is_street,
        grid_node=_centres(network.xy_m, node_grid, grid_station.shape[0]),
        grid_station=grid_station,
        micro_grid_node=_centres(network.xy_m, node_micro, micro_grid.shape[0]),
        micro_grid_grid=micro_grid,
    )
    node_place = osm_places(Path(osm.path), roads, station_node,
                            scenario.city.places.shore_band_m)
    arrays: Arrays = {
        "node_place": node_place,
        "node_district": node_district,
        "node_station_car_s": np.ascontiguousarray(station_car_s.T),
        "node_population": node_population,
        "node_lat_lon": roads.lat_lon,
        "osm.counts": np.array([roads.nodes_read, roads.nodes_connected, n, outside,
                                in_polygons], dtype=np.int64),
        "osm.one_way_share": np.array(roads.one_way_share),
    }
    for key, path in (("watch_point_node", osm.watch_points), ("school_node", osm.schools)):
        if path is not None:
            layer = read_points(path)
            nodes = snap(layer, roads.project(layer.lat, layer.lon), network.xy_m,
                         osm.snap_max_m, roads.lat_lon)
            arrays[key] = np.unique(nodes).astype(np.int32)
    arrays.update({f"network.{k}": getattr(network, k)
                   for k in ("xy_m", "indptr", "indices", "length_m", "car_s")})
    arrays.update({f"zones.{k}": getattr(zones, k) for k in ZoneMap.__dataclass_fields__})
    return arrays


def city_source(osm: OsmCity, arrays: Arrays, watch_points: int) -> dict[str, Any]:
    """Return how each part of an imported city was made (the summary's ``city``)."""
    read, connected, nodes, outside, in_polygons = (int(v) for v in arrays["osm.counts"])
    stations = int(arrays["zones.station_node"].shape[0])
    counts = np.bincount(arrays["node_place"], minlength=len(PLACE_NAMES))
    grid = (f"H3 cells of resolution {osm.grid_h3_resolution} (micro-grids "
            f"{osm.grid_h3_resolution + 1}) cut by station areas" if osm.grid == "h3" else
            f"squares of {osm.grid_cell_m:g} m (micro-grids {osm.grid_cell_m / 2:g} m) "
            "cut by station areas")
    return {
        "source": "openstreetmap",
        "file": osm.path,
        "nodes": nodes,  # junctions and dead ends after simplification
        "drivable_osm_nodes": read,
        # drivable nodes outside the largest strongly connected part (dropped)
        "dropped_share": round(1.0 - connected / read, 4) if read else 0.0,
        "one_way_share": float(arrays["osm.one_way_share"]),
        "districts": (f"from {osm.boundaries} ({outside} nodes outside every polygon "
                      "joined the nearest)" if osm.boundaries else "one district"),
        "population": (f"from {osm.population}, district totals scaled to the scenario"
                       if osm.population else "spread evenly over each district's nodes"),
        "stations": (f"{stations} from {osm.stations}" if osm.stations else
                     f"{stations} placed by a greedy p-median over population "
                     "(a placeholder: give a stations layer)"),
        "station_areas": (f"from {osm.jurisdictions} ({in_polygons} of {nodes} nodes; the "
                          "rest road-travel-time Voronoi cells)" if osm.jurisdictions else
                          "road-travel-time Voronoi cells of the stations"),
        "grids": grid,
        "watch_points": (f"from {osm.watch_points}" if osm.watch_points else
                         f"{watch_points} placed by population"),
        "places": (f"from the file's tags: {counts[WATER_EDGE]} water-edge, {counts[PARK]} "
                   f"park and {counts[BRIDGE]} bridge nodes (missing-person study)"),
        "schools": (f"{int(arrays['school_node'].shape[0])} road nodes from {osm.schools}"
                    if osm.schools else "none given"),
    }


def _districts(osm: OsmCity, roads: ImportedRoads, names: list[str]
               ) -> tuple[np.ndarray, int]:
    """Return each node's district and how many nodes lay outside every polygon."""
    n = roads.network.node_count
    if osm.boundaries is None:
        return np.zeros(n, dtype=np.int16), 0
    shapely = require("shapely")
    polygons = read_polygons(osm.boundaries, osm.district_property)
    unknown = sorted({name for name, _ in polygons} - set(names))
    if unknown:
        raise InputError(f"{osm.boundaries}: district {unknown[0]!r} is not in "
                         f"city.districts; allowed: {', '.join(names)}")
    lat, lon = roads.lat_lon[:, 0], roads.lat_lon[:, 1]
    district = np.full(n, -1, dtype=np.int16)
    for name, polygon in polygons:
        inside = shapely.contains_xy(polygon, lon, lat) & (district < 0)
        district[inside] = names.index(name)
    outside = np.flatnonzero(district < 0)
    if outside.shape[0]:
        points = shapely.points(lon[outside], lat[outside])
        gaps = np.column_stack([shapely.distance(polygon, points) for _, polygon in polygons])
        district[outside] = [names.index(polygons[i][0]) for i in gaps.argmin(axis=1)]
    empty = [name for code, name in enumerate(names) if not (district == code).any()]
    if empty:
        raise InputError(f"{osm.boundaries}: district {empty[0]!r} holds no road node of "
                         f"{osm.path}; give its polygon or drop it from city.districts")
    return district, int(outside.shape[0])


def _population(osm: OsmCity, roads: ImportedRoads, node_district: np.ndarray,
                census: np.ndarray) -> np.ndarray:
    """Return residents per node: the layer scaled to each district's census, or even."""
    n = roads.network.node_count
    districts = census.shape[0]
    counted = np.bincount(node_district, minlength=districts).astype(float)
    even = (census / np.maximum(counted, 1.0))[node_district]
    if osm.population is None:
        return even
    layer = read_points(osm.population, needed=("population",))
    people = column_numbers(layer, "population")
    bad = np.flatnonzero(~np.isfinite(people) | (people < 0.0))
    if bad.shape[0]:
        raise InputError(f"{layer.path}: {bad.shape[0]} rows have no population >= 0, "
                         f"first {layer.ids[int(bad[0])]}")
    nodes = snap(layer, roads.project(layer.lat, layer.lon), roads.network.xy_m,
                 osm.snap_max_m, roads.lat_lon)
    raw = np.bincount(nodes, weights=people, minlength=n)
    per_district = np.bincount(node_district, weights=raw, minlength=districts)
    scale = np.divide(census, per_district, out=np.zeros(districts), where=per_district > 0)
    # a district the layer leaves empty keeps the even spread of its census
    return np.where(per_district[node_district] > 0, raw * scale[node_district], even)


def _stations(osm: OsmCity, roads: ImportedRoads, weight: np.ndarray, scenario: Scenario
              ) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """Return station nodes, whether each is a street (patrol) station, and names."""
    network = roads.network
    if osm.stations is None:
        count = min(scenario.zones.stations, network.node_count)
        nodes = greedy_p_median(network.xy_m, weight, count,
                                stream(scenario.city.seed, "osm.station_sites"))
        return nodes, np.zeros(nodes.shape[0], dtype=bool), []
    layer = read_points(osm.stations)
    nodes = snap(layer, roads.project(layer.lat, layer.lon), network.xy_m, osm.snap_max_m,
                 roads.lat_lon)
    first: dict[int, int] = {}
    for index, node in enumerate(nodes.tolist()):
        if node in first:
            raise InputError(f"{layer.path}: stations {layer.ids[first[node]]} and "
                             f"{layer.ids[index]} snap to the same road node; merge them")
        first[node] = index
    kinds = layer.columns.get("kind", ["household"] * layer.count)
    wrong = [k for k in kinds if k not in ("household", "street", "")]
    if wrong:
        raise InputError(f"{layer.path}: kind {wrong[0]!r}; allowed: household, street")
    return (nodes, np.array([k == "street" for k in kinds], dtype=bool),
            layer.columns.get("name", []))


def _jurisdictions(osm: OsmCity, roads: ImportedRoads, node_station: np.ndarray,
                   names: list[str]) -> tuple[np.ndarray, int]:
    """Return each node's station by the polygons (else as given) and how many lay in one."""
    assert osm.jurisdictions is not None
    shapely = require("shapely")
    if not names:
        raise InputError(f"{osm.stations}: needs a name column to match the polygons of "
                         f"{osm.jurisdictions}")
    lat, lon = roads.lat_lon[:, 0], roads.lat_lon[:, 1]
    assigned = node_station.copy()
    inside_any = np.zeros(lat.shape[0], dtype=bool)
    for name, polygon in read_polygons(osm.jurisdictions, osm.station_property):
        if name not in names:
            raise InputError(f"{osm.jurisdictions}: station {name!r} is not in {osm.stations}; "
                             f"names there: {', '.join(names[:5])}")
        inside = shapely.contains_xy(polygon, lon, lat) & ~inside_any
        assigned[inside] = names.index(name)
        inside_any |= inside
    return assigned, int(inside_any.sum())


def greedy_p_median(xy_m: np.ndarray, weight: np.ndarray, count: int,
                    rng: np.random.Generator) -> np.ndarray:
    """Return ``count`` sites (node ids) that greedily minimise weighted distance.

    Demand is aggregated to about ``PMEDIAN_DEMAND_CELLS`` squares; candidates are
    ``PMEDIAN_CANDIDATES`` nodes drawn by weight (plus uniform ones when weight is
    scarce). Straight-line distances: a placeholder for a planner's own stations.
    """
    n = xy_m.shape[0]
    span = np.ptp(xy_m, axis=0).max()
    cell = max(span / np.sqrt(PMEDIAN_DEMAND_CELLS), 1.0)
    keys, cell_of = np.unique(np.floor(xy_m / cell).astype(np.int64), axis=0,
                              return_inverse=True)
    cell_of = cell_of.ravel()
    demand_w = np.bincount(cell_of, weights=weight + 1e-9, minlength=keys.shape[0])
    demand_xy = np.column_stack([np.bincount(cell_of, weights=(weight + 1e-9) * xy_m[:, k],
                                             minlength=keys.shape[0]) for k in (0, 1)]
                                ) / demand_w[:, None]
    picks = min(n, max(PMEDIAN_CANDIDATES, count))
    p = (weight + 1e-9) / (weight + 1e-9).sum()
    candidates = np.sort(rng.choice(n, size=picks, replace=False, p=p))
    dist = np.hypot(*(xy_m[candidates][:, None, :] - demand_xy[None, :, :]).transpose(2, 0, 1))
    best = np.full(demand_w.shape[0], np.inf)
    chosen: list[int] = []
    for _ in range(count):
        cost = (np.minimum(dist, best[None, :]) * demand_w[None, :]).sum(axis=1)
        cost[chosen] = np.inf
        pick = int(np.argmin(cost))
        chosen.append(pick)
        best = np.minimum(best, dist[pick])
    return np.sort(candidates[chosen]).astype(np.int32)


def _cells(osm: OsmCity, roads: ImportedRoads, node_parent: np.ndarray, resolution: int,
           cell_m: float) -> tuple[np.ndarray, np.ndarray]:
    """Return each node's cell (an H3 cell or square within its parent) and cell parents."""
    if osm.grid == "h3":
        h3 = require("h3")
        lat, lon = roads.lat_lon[:, 0], roads.lat_lon[:, 1]
        labels = np.array([h3.str_to_int(h3.latlng_to_cell(a, b, resolution))
                           for a, b in zip(lat.tolist(), lon.tolist(), strict=True)],
                          dtype=np.uint64).view(np.int64)
        cell = np.column_stack([labels, np.zeros_like(labels)])
    else:
        cell = np.floor(roads.network.xy_m / cell_m).astype(np.int64)
    keyed = np.column_stack([node_parent.astype(np.int64), cell])
    unique, node_cell = np.unique(keyed, axis=0, return_inverse=True)
    return node_cell.ravel().astype(np.int32), unique[:, 0].astype(np.int32)


def _centres(xy_m: np.ndarray, node_zone: np.ndarray, zones: int) -> np.ndarray:
    """Return, per zone, its member node nearest the members' centroid."""
    counts = np.bincount(node_zone, minlength=zones).astype(float)
    centroid = np.column_stack([np.bincount(node_zone, weights=xy_m[:, k], minlength=zones)
                                for k in (0, 1)]) / counts[:, None]
    gap = np.hypot(*(xy_m - centroid[node_zone]).T)
    order = np.lexsort((gap, node_zone))
    first = np.searchsorted(node_zone[order], np.arange(zones))
    return order[first].astype(np.int32)
