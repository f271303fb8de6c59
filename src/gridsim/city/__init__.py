"""The city: road network (CSR arrays), synthetic generator and nested zones."""

from gridsim.city.network import RoadNetwork
from gridsim.city.synthetic import CityMap, generate_city
from gridsim.city.zones import ZoneMap, build_zones

__all__ = ["RoadNetwork", "CityMap", "ZoneMap", "build_zones", "generate_city"]
