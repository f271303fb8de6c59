"""The ``[city]`` and ``[zones]`` sections: districts, roads, congestion, imported maps."""

from __future__ import annotations

from typing import Annotated, Literal

import numpy as np
from pydantic import Field, model_validator
from scipy import sparse
from scipy.sparse import csgraph

from gridsim.core.geo import mean_origin, north_of, project
from gridsim.core.units import HOURS_PER_DAY
from gridsim.scenario.types import (
    CHARACTERS,
    MAX_BRIDGES,
    MAX_COUNT,
    AtLeastOne,
    Character,
    Count,
    Model,
    PositiveFloat,
    Probability,
    Seed,
    Speed,
    TravelMode,
)


class District(Model):
    """One district: name, census population, area and approximate centroid."""

    name: str
    population: AtLeastOne
    area_km2: PositiveFloat
    lat: Annotated[float, Field(ge=-90.0, le=90.0)]
    lon: Annotated[float, Field(ge=-180.0, le=180.0)]
    bank: Literal["north", "south"] = "south"
    character: Character = "suburb"


class CarSpeeds(Model):
    """Mean car speed on a road by the character of its district (m/s)."""

    urban_core: Speed = 7.0
    inner_suburb: Speed = 9.0
    suburb: Speed = 11.0
    rural: Speed = 14.0


def _free_flow() -> list[float]:
    return [1.0] * HOURS_PER_DAY


HourlyFactors = Annotated[
    list[Annotated[float, Field(gt=0.0, le=20.0)]],
    Field(min_length=HOURS_PER_DAY, max_length=HOURS_PER_DAY),
]


class Congestion(Model):
    """Car travel-time factors by hour of day and district character, and trip spread.

    A trip takes the free-flow time times the factor of the hour it starts and of the
    destination's district character, times a log-normal spread of mean 1 and CV
    ``trip_cv``. The defaults (all 1, no spread) are free flow.
    """

    urban_core: HourlyFactors = Field(default_factory=_free_flow)
    inner_suburb: HourlyFactors = Field(default_factory=_free_flow)
    suburb: HourlyFactors = Field(default_factory=_free_flow)
    rural: HourlyFactors = Field(default_factory=_free_flow)
    trip_cv: Annotated[float, Field(ge=0.0, le=2.0)] = 0.0

    def table(self) -> np.ndarray:
        """Return the factors as a (24, characters) array, columns in ``CHARACTERS`` order."""
        return np.array([getattr(self, c) for c in CHARACTERS], dtype=float).T


class Places(Model):
    """How many attracting places the synthetic city marks (all ASSUMPTIONS)."""

    # at most one lake or park per 1 km2 cell of land: they are drawn from distinct cells
    lakes_per_100_km2: Annotated[float, Field(ge=0.0, le=100.0)] = 2.0
    lake_radius_m: PositiveFloat = 800.0
    shore_band_m: PositiveFloat = 150.0
    parks_per_10_km2: Annotated[float, Field(ge=0.0, le=10.0)] = 0.5
    park_radius_m: PositiveFloat = 200.0


class ExplicitNetwork(Model):
    """A road network given node by node (small validation cities, imported networks).

    Edge lengths are the straight line between the end nodes times ``city.circuity``;
    each station's area is the set of nodes nearest to it by car, and is also its one
    grid and micro-grid.
    """

    nodes_xy_m: Annotated[list[tuple[float, float]], Field(min_length=1)]
    node_district: Annotated[list[str], Field(min_length=1)]
    edges: list[tuple[Annotated[int, Field(ge=0)], Annotated[int, Field(ge=0)]]] = Field(
        default_factory=list
    )
    station_nodes: Annotated[list[Annotated[int, Field(ge=0)]], Field(min_length=1)]

    @model_validator(mode="after")
    def _check(self) -> ExplicitNetwork:
        n = len(self.nodes_xy_m)
        if len(self.node_district) != n:
            raise ValueError(
                f"node_district: has {len(self.node_district)} entries for {n} nodes; "
                "give one district name per node"
            )
        for u, v in self.edges:
            if max(u, v) >= n or u == v:
                raise ValueError(f"edges: [{u}, {v}] must join two different nodes in 0..{n - 1}")
        if max(self.station_nodes) >= n or len(set(self.station_nodes)) != len(
            self.station_nodes
        ):
            raise ValueError(f"station_nodes: must be distinct nodes in 0..{n - 1}")
        ends = np.array(self.edges, dtype=np.int64).reshape(-1, 2)
        graph = sparse.coo_matrix((np.ones(ends.shape[0]), (ends[:, 0], ends[:, 1])), (n, n))
        parts, label = csgraph.connected_components(graph, directed=False)
        if parts > 1:
            stray = int(np.flatnonzero(label != label[0])[0])
            raise ValueError(
                f"edges: the network is not connected (node {stray} cannot be reached from "
                "node 0); add edges"
            )
        return self


# the keys of [city.osm] that name files (paths relative to the scenario file)
OSM_FILE_KEYS = ("path", "boundaries", "population", "stations", "jurisdictions",
                 "watch_points", "schools")


def _default_speeds_kmh() -> dict[str, float]:
    # ASSUMPTION: posted limits by OSM highway class where no maxspeed is tagged, after
    # the PRC Road Traffic Safety Law regulations (art. 45: urban roads 30 km/h without
    # a centre line, 50 km/h with one lane each way) and 80-100 km/h urban expressways
    return {
        "motorway": 100.0, "motorway_link": 60.0, "trunk": 80.0, "trunk_link": 50.0,
        "primary": 60.0, "primary_link": 40.0, "secondary": 50.0, "secondary_link": 40.0,
        "tertiary": 40.0, "tertiary_link": 30.0, "unclassified": 30.0,
        "residential": 30.0, "living_street": 15.0, "service": 20.0, "road": 30.0,
    }


class OsmCity(Model):
    """A real city: roads from an OpenStreetMap file, optional layers from CSV/GeoJSON.

    Paths are relative to the scenario file. Layers a planner does not give are derived
    (one district, p-median stations, H3 or square grids) and the run's summary says so.
    """

    path: Annotated[str, Field(min_length=1)]  # .osm, .osm.bz2, .osm.pbf or .graphml
    # km/h by OSM highway class for ways with no maxspeed; a class not listed is not
    # driven (footways, paths, tracks)
    speed_kmh_by_highway: dict[str, Annotated[float, Field(gt=0.0, le=200.0)]] = Field(
        default_factory=_default_speeds_kmh)
    # ASSUMPTION: cars average this share of the limit between junctions at free flow
    # (the hour-of-day congestion in city.congestion comes on top)
    free_flow_share: Annotated[float, Field(gt=0.0, le=1.0)] = 0.7
    # join the segments between junctions into one edge (osmnx); false keeps every node
    simplify: bool = True
    boundaries: str | None = None  # GeoJSON polygons, one per district
    district_property: str = "name"  # the feature property that names the district
    population: str | None = None  # CSV lat, lon, population (or GeoJSON points)
    stations: str | None = None  # CSV lat, lon, optional name and kind (household|street)
    # GeoJSON polygons, one per station, named as in the stations layer's name column
    # (property station_property); nodes outside every polygon go to the nearest by car
    jurisdictions: str | None = None
    station_property: str = "name"
    watch_points: str | None = None  # CSV lat, lon
    schools: str | None = None  # CSV lat, lon
    snap_max_m: Annotated[float, Field(gt=0.0, le=100_000.0)] = 300.0
    grid: Literal["h3", "square"] = "h3"
    grid_h3_resolution: Annotated[int, Field(ge=0, le=14)] = 8  # about 0.74 km2 a cell
    grid_cell_m: Annotated[float, Field(ge=10.0, le=100_000.0)] = 800.0  # square cells

    def files(self) -> dict[str, str]:
        """Return the files this section names, by key (the road file first)."""
        return {k: getattr(self, k) for k in OSM_FILE_KEYS if getattr(self, k) is not None}


class City(Model):
    """The road network (synthetic unless ``explicit`` or ``osm`` is given), districts."""

    seed: Seed = 1
    nodes: Annotated[int, Field(ge=50, le=MAX_COUNT)] = 100_000
    scale: Annotated[float, Field(gt=0.0, le=4.0)] = 1.0
    circuity: Annotated[float, Field(ge=1.0, le=3.0)] = 1.05
    extra_edge_prob: Probability = 0.45
    bridges: Annotated[int, Field(ge=0, le=MAX_BRIDGES)] = 6
    river_lat_lon: tuple[tuple[float, float], tuple[float, float]] = (
        (31.95, 118.55),
        (32.25, 118.95),
    )
    car_speed_mps: CarSpeeds = CarSpeeds()
    congestion: Congestion = Congestion()
    places: Places = Places()
    ebike_speed_mps: Speed = 4.5
    walk_speed_mps: Speed = 1.3
    districts: Annotated[list[District], Field(min_length=1)]
    explicit: ExplicitNetwork | None = None
    osm: OsmCity | None = None

    @model_validator(mode="after")
    def _check(self) -> City:
        names = [d.name for d in self.districts]
        dupes = sorted({n for n in names if names.count(n) > 1})
        if dupes:
            raise ValueError(
                f"districts: names must be unique; repeated: {', '.join(map(repr, dupes))}"
            )
        if self.osm is not None:
            if self.explicit is not None:
                raise ValueError("osm: a city is either imported (osm) or explicit, not both; "
                                 "remove one of the two sections")
            if self.osm.jurisdictions is not None and self.osm.stations is None:
                raise ValueError("osm.jurisdictions: needs a stations layer whose name "
                                 "column names the polygons; set osm.stations")
            if self.osm.boundaries is None and len(self.districts) > 1:
                raise ValueError(
                    f"osm.boundaries: not given, so the city is one district, but "
                    f"{len(self.districts)} districts are listed; list one or give a GeoJSON "
                    "of their boundaries")
            return self
        if self.explicit is not None:
            unknown = sorted(set(self.explicit.node_district) - set(names))
            if unknown:
                raise ValueError(
                    f"explicit.node_district: unknown district {unknown[0]!r}; "
                    f"allowed: {', '.join(names)}"
                )
            return self
        if self.river_lat_lon[0] == self.river_lat_lon[1]:
            raise ValueError("river_lat_lon: both ends are the same point; give the river two "
                             "different (lat, lon) ends")
        banks = {d.bank for d in self.districts}
        if len(banks) == 2 and self.bridges == 0:
            raise ValueError(
                "bridges: is 0 but districts lie on both river banks; set bridges >= 1"
            )
        if self.node_count < 5 * len(self.districts):
            raise ValueError(
                f"nodes: nodes * scale = {self.node_count} is too few for "
                f"{len(self.districts)} districts; raise city.nodes or city.scale"
            )
        self._check_banks()
        return self

    def _check_banks(self) -> None:
        """Raise unless every district's centroid lies on its own bank of the river line.

        The generator scatters a district's nodes in its disc on its own bank; a disc on
        the other bank would never get any (the run would hang).
        """
        origin = mean_origin([d.lat for d in self.districts], [d.lon for d in self.districts])
        lat = np.array([d.lat for d in self.districts])
        lon = np.array([d.lon for d in self.districts])
        river = project(np.array([p[0] for p in self.river_lat_lon]),
                        np.array([p[1] for p in self.river_lat_lon]), origin)
        on_north = north_of(project(lat, lon, origin), river)
        for k, district in enumerate(self.districts):
            if bool(on_north[k]) != (district.bank == "north"):
                where = "lies north of" if on_north[k] else "does not lie north of"
                raise ValueError(
                    f"districts[{k}].bank: is {district.bank!r} but the centroid "
                    f"({district.lat:g}, {district.lon:g}) {where} the river line "
                    "city.river_lat_lon; fix bank, lat/lon or the river"
                )

    @property
    def node_count(self) -> int:
        """Return the number of road nodes to generate (``nodes`` times ``scale``)."""
        return int(round(self.nodes * self.scale))

    def speed_mps(self, mode: TravelMode) -> float:
        """Return the speed of a non-car mode (m/s); car speed depends on the district."""
        if mode == "ebike":
            return self.ebike_speed_mps
        if mode == "walk":
            return self.walk_speed_mps
        raise ValueError("car speed depends on the district; use car_speed_mps")


class Zones(Model):
    """Nested zones: district > police-station area > grid > micro-grid."""

    household_stations: AtLeastOne = 140
    street_stations: Count = 17
    grids: AtLeastOne = 6000
    micro_grids_per_grid: AtLeastOne = 4

    @property
    def stations(self) -> int:
        """Return the total number of police-station areas."""
        return self.household_stations + self.street_stations


