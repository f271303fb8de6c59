"""The world: everything about a city that does not change during a run."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from gridsim.city.explicit import explicit_city, explicit_zones
from gridsim.city.network import RoadNetwork
from gridsim.city.synthetic import generate_city
from gridsim.city.zones import ZoneMap, build_zones
from gridsim.fleets import Fleets, build_fleets
from gridsim.rng import stream
from gridsim.scenario.schema import Scenario


@dataclass(frozen=True, eq=False)
class World:
    """Road network, zones, fleets and the station travel-time matrix of a scenario."""

    scenario: Scenario
    network: RoadNetwork
    node_district: np.ndarray  # (N,) int16
    node_population: np.ndarray  # (N,) float64 residents per node
    zones: ZoneMap
    fleets: Fleets
    node_station_car_s: np.ndarray  # (N, S) float32 car seconds between node and station

    @property
    def district_names(self) -> tuple[str, ...]:
        """Return the district names in index order."""
        return tuple(d.name for d in self.scenario.city.districts)


def build_world(scenario: Scenario) -> World:
    """Return the world of ``scenario`` (deterministic in ``scenario.city.seed``)."""
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
    network = city.network
    population = np.array([d.population for d in scenario.city.districts], dtype=float)
    nodes_per_district = np.bincount(city.node_district, minlength=population.shape[0])
    node_population = (population / np.maximum(nodes_per_district, 1))[city.node_district]
    fleets = build_fleets(scenario, zones, node_population)
    return World(
        scenario=scenario,
        network=network,
        node_district=city.node_district,
        node_population=node_population,
        zones=zones,
        fleets=fleets,
        node_station_car_s=np.ascontiguousarray(station_car_s.T),
    )
