"""The world: everything about a city that does not change during a run.

The network, zones and station travel-time matrix depend only on the ``city`` and
``zones`` sections, and node catchments only on those and the dispatch radii, so they are
cached on disk (see ``gridsim.core.cache``); fleets are placed afresh, which is fast. Within a
process, ``WORLDS`` (a ``WorldMemo``) keeps the last world, so runs that change only
incidents, seeds or durations reuse it.
"""

from __future__ import annotations

import hashlib
from dataclasses import asdict, dataclass, field, fields, replace
from typing import Any

import numpy as np

from gridsim.city.explicit import explicit_city, explicit_zones
from gridsim.city.layers import read_points
from gridsim.city.locate import DistrictLocator
from gridsim.city.network import RoadNetwork
from gridsim.city.real_city import IMPORT_VERSION, city_source, osm_city_arrays
from gridsim.city.synthetic import generate_city
from gridsim.city.zones import ZoneMap, build_zones
from gridsim.core.cache import ArrayCache, Arrays, cache_key, default_cache_dir
from gridsim.core.errors import InputError
from gridsim.core.files import open_regular
from gridsim.core.rng import stream
from gridsim.scenario.schema import Scenario
from gridsim.world.catchments import Catchments, build_catchments
from gridsim.world.fleets import Fleets, build_fleets
from gridsim.world.patrol import PatrolPoints, build_patrol_points
from gridsim.world.volunteer_kinds import VolunteerPositions, place_volunteers


@dataclass(frozen=True, eq=False)
class World:
    """Road network, zones, fleets, travel times and catchments of a scenario."""

    scenario: Scenario
    network: RoadNetwork
    node_district: np.ndarray  # (N,) int16
    node_population: np.ndarray  # (N,) float64 residents per node
    zones: ZoneMap
    fleets: Fleets
    node_station_car_s: np.ndarray  # (N, S) float32 car seconds between node and station
    catchments: Catchments
    patrol_points: PatrolPoints  # where idle police wait in their beats (K = 0: stations)
    volunteer_positions: VolunteerPositions  # volunteers' kinds and places by hour of day
    # an imported city: how each part was made (summary.json's "city"), and where people
    # live within a district when a population layer gave it (incidents follow it)
    city_source: dict[str, Any] = field(default_factory=dict)
    incident_node_weight: np.ndarray | None = None
    node_lat_lon: np.ndarray | None = None  # (N, 2) of an imported city's nodes
    node_place: np.ndarray | None = None  # an imported city's places from OSM tags (int8)
    school_node: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int32))
    # each station's name: the stations layer's name column, else its index as text
    station_names: tuple[str, ...] = ()

    @property
    def district_names(self) -> tuple[str, ...]:
        """Return the district names in index order."""
        return tuple(d.name for d in self.scenario.city.districts)


def build_world(scenario: Scenario, cache: ArrayCache | None = None) -> World:
    """Return the world of ``scenario`` (deterministic in ``scenario.city.seed``)."""
    cache = ArrayCache(default_cache_dir()) if cache is None else cache
    osm = scenario.city.osm
    city_key = scenario.city.model_dump(mode="json")
    if osm is not None:  # an imported city is keyed by its files' contents, not their paths
        city_key["osm"].update(_file_digests(osm.files()), importer=IMPORT_VERSION)
    world_key = cache_key("world", city_key, scenario.zones.model_dump(mode="json"))
    arrays = cache.get("world", world_key, lambda: _city_arrays(scenario))
    network = RoadNetwork(**{f.name: arrays[f"network.{f.name}"] for f in fields(RoadNetwork)})
    zones = ZoneMap(**{f.name: arrays[f"zones.{f.name}"] for f in fields(ZoneMap)})
    node_district = arrays["node_district"]
    population = np.array([d.population for d in scenario.city.districts], dtype=float)
    nodes_per_district = np.bincount(node_district, minlength=population.shape[0])
    node_population = arrays.get("node_population")
    if node_population is None:
        node_population = (population / np.maximum(nodes_per_district, 1))[node_district]
    fleets = build_fleets(scenario, zones, node_population, arrays.get("watch_point_node"))
    positions = place_volunteers(scenario, fleets.volunteers.base_node, zones.node_station,
                                 node_district, node_population)
    extra = scenario.watch_points.extra_sites
    if extra is not None:
        fleets = fleets.with_watch_points(extra_site_nodes(
            scenario, network, arrays.get("node_lat_lon"), node_district, extra))
    return World(
        scenario=scenario,
        network=network,
        node_district=node_district,
        node_population=node_population,
        zones=zones,
        fleets=fleets,
        node_station_car_s=arrays["node_station_car_s"],
        catchments=build_catchments(scenario, network, zones, fleets, cache, world_key,
                                    positions, node_population),
        patrol_points=build_patrol_points(
            network, zones, node_population, arrays["node_station_car_s"],
            scenario.police.patrol_points, scenario.city.seed, cache, world_key),
        volunteer_positions=positions,
        city_source=(city_source(osm, arrays, fleets.watch_point_node.shape[0])
                     if osm is not None else {}),
        incident_node_weight=(node_population if osm is not None and osm.population
                              else None),
        school_node=arrays.get("school_node", np.zeros(0, dtype=np.int32)),
        node_lat_lon=arrays.get("node_lat_lon"),
        node_place=arrays.get("node_place"),
        station_names=_station_names(scenario, int(zones.station_node.shape[0])),
    )


def _station_names(scenario: Scenario, stations: int) -> tuple[str, ...]:
    """Return the stations' names: the stations layer's name column, else "0", "1", ..."""
    osm = scenario.city.osm
    if osm is not None and osm.stations is not None:
        names = read_points(osm.stations).columns.get("name", [])
        if len(names) == stations and all(names):
            return tuple(names)
    return tuple(str(k) for k in range(stations))


def extra_site_nodes(scenario: Scenario, network: RoadNetwork, node_lat_lon: np.ndarray | None,
                     node_district: np.ndarray, path: str) -> np.ndarray:
    """Return the road node nearest each point of the layer file at ``path``.

    Raises ``InputError`` for a point farther than ``extra_sites_snap_max_m`` from a road.
    """
    layer = read_points(path)
    what = "watch_points.extra_sites"
    locator = DistrictLocator.of_nodes(scenario, network.xy_m, node_lat_lon, node_district,
                                       what)
    node, distance_m = locator.nearest(layer.lat, layer.lon)
    limit_m = scenario.watch_points.extra_sites_snap_max_m
    far = np.flatnonzero(distance_m > limit_m)
    if far.shape[0]:
        raise InputError(
            f"{path}: {far.shape[0]} of {layer.count} points lie more than {limit_m:g} m "
            f"from the nearest road (first: {layer.ids[int(far[0])]} at "
            f"{distance_m[far[0]]:,.0f} m); move them onto the city or raise "
            f"{what}_snap_max_m")
    return node.astype(np.int32)


def _file_digests(files: dict[str, str]) -> dict[str, str]:
    """Return the SHA-256 of each file by key ("unreadable": the importer names it)."""
    digests = {}
    for key, path in files.items():
        sha = hashlib.sha256()
        try:  # never a device or FIFO: hashing /dev/zero would not end
            with open_regular(path, "") as handle:
                for block in iter(lambda: handle.read(1 << 20), b""):
                    sha.update(block)
        except (OSError, InputError):
            digests[key] = "unreadable"
            continue
        digests[key] = sha.hexdigest()
    return digests


# Top-level scenario keys that building a world never reads. Checked with grep over
# world.py, fleets.py, catchments.py, patrol.py, volunteer_kinds.py and city/*.py: they
# read only city, zones, police, traffic_police, mediators, mediation_room, grid_workers,
# volunteers, platform, watch_points and dispatch. Keep this list in step with them; a
# key not listed here (including any new one) counts as part of the world.
WORLD_INDEPENDENT_KEYS = frozenset({
    "name", "description", "seed", "duration_days", "warmup_hours", "incidents", "costs",
    "missing_person", "fraud", "schools", "output", "coverage", "replay",
    # unit fleets are placed at run time (their stations are the world's)
    "fleets", "unit_dispatch",
    # of dispatch, only the radii are read (catchments.py): the rest is run behaviour
    "dispatch.volunteer_max_dispatched", "dispatch.mediation_types", "dispatch.jurisdiction",
    "dispatch.neighbour_stations", "dispatch.volunteer_activation_scale",
})


def same_world(a: Scenario, b: Scenario) -> bool:
    """Return whether ``a`` and ``b`` differ only in keys a world is not built from."""
    for key in type(a).model_fields:
        if key in WORLD_INDEPENDENT_KEYS:
            continue
        inner = {k.partition(".")[2] for k in WORLD_INDEPENDENT_KEYS
                 if k.startswith(f"{key}.")}
        first, second = getattr(a, key), getattr(b, key)
        if inner:
            first, second = (v.model_dump(exclude=inner) for v in (first, second))
        if first != second:
            return False
    return True


class WorldMemo:
    """The last world built in this process, reused while the city stays the same.

    ``get(scenario)`` returns the previous world, its scenario replaced by ``scenario``
    (``dataclasses.replace``), when the two scenarios differ only in
    ``WORLD_INDEPENDENT_KEYS`` (the run's incidents, seed, length, costs, studies and
    outputs; the constant is the list); otherwise it builds a new world and keeps that
    one. Runs never change a world, so sharing it is safe. One world is held at a
    time, so a sweep that alternates between cities rebuilds (from the disk cache).
    """

    def __init__(self) -> None:
        """Start empty."""
        self._world: World | None = None

    def get(self, scenario: Scenario) -> World:
        """Return the world of ``scenario``, the last one when only run keys differ."""
        world = self._world
        if world is None or not same_world(world.scenario, scenario):
            world = build_world(scenario)
        elif world.scenario != scenario:
            world = replace(world, scenario=scenario)
        self._world = world
        return world

    def clear(self) -> None:
        """Forget the last world (frees its memory)."""
        self._world = None


# The per-process memo that sweeps and sensitivity runs use (gridsim.studies.sweeps.run_job,
# gridsim.studies.sensitivities.run_point): each worker process of a pool, and this process,
# keeps its own last world, so runs of one city in a row build it once per process.
WORLDS = WorldMemo()


def _city_arrays(scenario: Scenario) -> Arrays:
    """Return the network, zones and station matrix of ``scenario`` as named arrays."""
    if scenario.city.osm is not None:
        return osm_city_arrays(scenario)
    explicit = scenario.city.explicit
    if explicit is None:
        city = generate_city(scenario.city)
        zones = build_zones(
            city.network.xy_m, city.node_district, scenario.city, scenario.zones,
            stream(scenario.city.seed, "city.zones"),
        )
        station_car_s = city.network.car_times_from(zones.station_node)
    else:
        city = explicit_city(scenario.city, explicit)
        station_car_s = city.network.car_times_from(np.array(explicit.station_nodes))
        zones = explicit_zones(explicit, city.node_district, station_car_s)
    arrays: Arrays = {
        "node_district": city.node_district,
        "node_station_car_s": np.ascontiguousarray(station_car_s.T),
    }
    arrays.update({f"network.{k}": v for k, v in asdict(city.network).items()})
    arrays.update({f"zones.{k}": v for k, v in asdict(zones).items()})
    return arrays
