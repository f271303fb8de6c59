"""Where a point is: the nearest road node of a city and the district it lies in."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.spatial import cKDTree

from gridsim.city.synthetic import city_origin, generate_city
from gridsim.core.errors import InputError
from gridsim.core.geo import project
from gridsim.scenario.schema import Scenario


@dataclass(frozen=True, eq=False)
class DistrictLocator:
    """The road nodes of a scenario's city, to give a call the district of its nearest."""

    names: tuple[str, ...]
    origin: tuple[float, float]  # (lat, lon) the local metres are measured from
    tree: cKDTree
    node_district: np.ndarray

    @classmethod
    def of_synthetic(cls, scenario: Scenario, what: str) -> DistrictLocator:
        """Return the locator of a synthetic city (``what`` names the caller in errors)."""
        if scenario.city.explicit is not None:
            raise _no_coordinates(what)
        # the same nodes as build_world's network (a synthetic city is a function of
        # city.seed), without the catchments a full world costs
        city = generate_city(scenario.city)
        return cls(tuple(d.name for d in scenario.city.districts),
                   city_origin(scenario.city), cKDTree(city.network.xy_m),
                   city.node_district)

    @classmethod
    def of_nodes(cls, scenario: Scenario, node_xy_m: np.ndarray,
                 node_lat_lon: np.ndarray | None, node_district: np.ndarray, what: str
                 ) -> DistrictLocator:
        """Return the locator of a city's road nodes (an imported city's have lat/lon)."""
        city = scenario.city
        names = tuple(d.name for d in city.districts)
        if node_lat_lon is not None:  # an imported city: its nodes' own coordinates
            origin = (float(np.median(node_lat_lon[:, 0])),
                      float(np.median(node_lat_lon[:, 1])))
            nodes_xy = project(node_lat_lon[:, 0], node_lat_lon[:, 1], origin)
        elif city.explicit is None:  # a synthetic city: metres from its origin
            origin, nodes_xy = city_origin(city), node_xy_m
        else:
            raise _no_coordinates(what)
        return cls(names, origin, cKDTree(nodes_xy), node_district)

    def nearest(self, lat: np.ndarray, lon: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Return each point's nearest road node and its distance to it (m)."""
        if lat.shape[0] == 0:
            return np.zeros(0, dtype=np.int64), np.zeros(0)
        distance_m, node = self.tree.query(project(lat, lon, self.origin))
        return np.asarray(node, dtype=np.int64), np.asarray(distance_m, dtype=float)

    def locate(self, lat: np.ndarray, lon: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Return each point's district index and its distance to the nearest node (m)."""
        node, distance_m = self.nearest(lat, lon)
        return np.asarray(self.node_district[node], dtype=np.int64), distance_m


def _no_coordinates(what: str) -> InputError:
    return InputError(f"{what}: the scenario's city is given node by node (city.explicit), "
                      "without coordinates; use a synthetic or [city.osm] city")
