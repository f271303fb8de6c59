"""A road network given node by node in the scenario (``city.explicit``)."""

from __future__ import annotations

import numpy as np

from gridsim.city.network import from_edges
from gridsim.city.synthetic import CityMap
from gridsim.city.zones import ZoneMap
from gridsim.scenario.schema import City, ExplicitNetwork


def explicit_city(city: City, explicit: ExplicitNetwork) -> CityMap:
    """Return the network of ``explicit``: straight edges times ``city.circuity``."""
    xy = np.array(explicit.nodes_xy_m, dtype=float).reshape(-1, 2)
    names = [d.name for d in city.districts]
    district = np.array([names.index(n) for n in explicit.node_district], dtype=np.int16)
    ends = np.array(explicit.edges, dtype=np.int32).reshape(-1, 2)
    u, v = ends[:, 0], ends[:, 1]
    length = np.hypot(*(xy[u] - xy[v]).T) * city.circuity
    speed = np.array([getattr(city.car_speed_mps, d.character) for d in city.districts])
    edge_speed = 0.5 * (speed[district[u]] + speed[district[v]])
    return CityMap(
        network=from_edges(xy, u, v, length, length / edge_speed),
        node_district=district,
        origin_lat_lon=(0.0, 0.0),
    )


def explicit_zones(
    explicit: ExplicitNetwork, node_district: np.ndarray, station_car_s: np.ndarray
) -> ZoneMap:
    """Return zones where each node belongs to its nearest station by car (ties: first).

    ``station_car_s`` is the (S, N) car-time matrix from the stations. Each station area
    is also one grid and one micro-grid.
    """
    stations = np.array(explicit.station_nodes, dtype=np.int32)
    node_station = np.argmin(station_car_s, axis=0).astype(np.int32)
    node_station[stations] = np.arange(stations.shape[0], dtype=np.int32)
    identity = np.arange(stations.shape[0], dtype=np.int32)
    return ZoneMap(
        node_station=node_station,
        node_grid=node_station.copy(),
        node_micro_grid=node_station.copy(),
        station_node=stations,
        station_district=node_district[stations].astype(np.int32),
        station_is_street=np.zeros(stations.shape[0], dtype=bool),
        grid_node=stations,
        grid_station=identity,
        micro_grid_node=stations,
        micro_grid_grid=identity,
    )
