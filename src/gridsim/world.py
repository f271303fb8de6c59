"""The world: everything about a city that does not change during a run.

The network, zones and station travel-time matrix depend only on the ``city`` and
``zones`` sections, and node catchments only on those and the dispatch radii, so they are
cached on disk (see ``gridsim.cache``); fleets are placed afresh, which is fast.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields

import numpy as np

from gridsim.cache import ArrayCache, Arrays, cache_key, default_cache_dir
from gridsim.catchments import Catchments, build_catchments
from gridsim.city.explicit import explicit_city, explicit_zones
from gridsim.city.network import RoadNetwork
from gridsim.city.synthetic import generate_city
from gridsim.city.zones import ZoneMap, build_zones
from gridsim.fleets import Fleets, build_fleets
from gridsim.patrol import PatrolPoints, build_patrol_points
from gridsim.rng import stream
from gridsim.scenario.schema import Scenario


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

    @property
    def district_names(self) -> tuple[str, ...]:
        """Return the district names in index order."""
        return tuple(d.name for d in self.scenario.city.districts)


def build_world(scenario: Scenario, cache: ArrayCache | None = None) -> World:
    """Return the world of ``scenario`` (deterministic in ``scenario.city.seed``)."""
    cache = ArrayCache(default_cache_dir()) if cache is None else cache
    world_key = cache_key(
        "world", scenario.city.model_dump(mode="json"), scenario.zones.model_dump(mode="json")
    )
    arrays = cache.get("world", world_key, lambda: _city_arrays(scenario))
    network = RoadNetwork(**{f.name: arrays[f"network.{f.name}"] for f in fields(RoadNetwork)})
    zones = ZoneMap(**{f.name: arrays[f"zones.{f.name}"] for f in fields(ZoneMap)})
    node_district = arrays["node_district"]
    population = np.array([d.population for d in scenario.city.districts], dtype=float)
    nodes_per_district = np.bincount(node_district, minlength=population.shape[0])
    node_population = (population / np.maximum(nodes_per_district, 1))[node_district]
    fleets = build_fleets(scenario, zones, node_population)
    return World(
        scenario=scenario,
        network=network,
        node_district=node_district,
        node_population=node_population,
        zones=zones,
        fleets=fleets,
        node_station_car_s=arrays["node_station_car_s"],
        catchments=build_catchments(scenario, network, zones, fleets, cache, world_key),
        patrol_points=build_patrol_points(
            network, zones, node_population, arrays["node_station_car_s"],
            scenario.police.patrol_points, scenario.city.seed, cache, world_key),
    )


def _city_arrays(scenario: Scenario) -> Arrays:
    """Return the network, zones and station matrix of ``scenario`` as named arrays."""
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
