"""The scenario schema: frozen pydantic models, unknown keys rejected by name.

Every figure that the source article does not give is an assumption; it lives in the
scenario file (with a comment there saying so), and the defaults here only mirror the
default scenario so that a short file stays valid.
"""

from __future__ import annotations

import string
from pathlib import PurePath
from typing import Annotated, Any, Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, model_validator
from scipy import sparse
from scipy.sparse import csgraph

MAX_COUNT = 10**15  # every whole number below this is exact as a float64 and an int64
Probability = Annotated[float, Field(ge=0.0, le=1.0)]
Count = Annotated[int, Field(ge=0, le=MAX_COUNT)]
AtLeastOne = Annotated[int, Field(ge=1, le=MAX_COUNT)]
PositiveFloat = Annotated[float, Field(gt=0.0)]
NonNegativeFloat = Annotated[float, Field(ge=0.0)]
HourOfDay = Annotated[float, Field(ge=0.0, lt=24.0)]
# Bounds found by fuzzing (tests/test_fuzz.py): finite values beyond them overflowed later.
MAX_WEIGHT = 1e12  # relative weights: any scale up to this keeps their sums and products finite
Weight = Annotated[float, Field(ge=0.0, le=MAX_WEIGHT)]
Speed = Annotated[float, Field(ge=0.01, le=1000.0)]  # m/s: a crawl to faster than sound
MAX_MEAN_S = 1e9  # about 32 years
MAX_CV = 10.0
Seed = Annotated[int, Field(ge=0, le=2**63 - 1)]
Character = Literal["urban_core", "inner_suburb", "suburb", "rural"]
CHARACTERS: tuple[Character, ...] = ("urban_core", "inner_suburb", "suburb", "rural")
TravelMode = Literal["car", "ebike", "walk"]
ResponderLayer = Literal["police", "traffic_police", "grid", "volunteers", "watch_points"]
PushedLayer = Literal["grid", "volunteers"]
HOURS_PER_DAY = 24
MAX_BRIDGES = 1000  # each bridge is a search over every node; real rivers have a few dozen


class Model(BaseModel):
    """Base for every scenario section: frozen, unknown keys and NaN/inf are errors.

    Validators raise ``ValueError("key.path: problem; fix")`` with the path relative to
    the model, so the loader can report the full key path.
    """

    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)


class Duration(Model):
    """A random duration in seconds: fixed, exponential, log-normal or empirical.

    ``empirical`` gives quantiles ``quantiles_s`` at probabilities ``p`` (from 0 to 1,
    increasing) and draws by linear interpolation between them (a fitted call log's
    durations where no log-normal fits); its ``mean_s`` is that distribution's mean.
    """

    dist: Literal["fixed", "exponential", "lognormal", "empirical"] = "lognormal"
    mean_s: Annotated[float, Field(gt=0.0, le=MAX_MEAN_S)]
    cv: Annotated[float, Field(ge=0.0, le=MAX_CV)] = 0.5
    p: list[Probability] | None = None
    quantiles_s: list[Annotated[float, Field(ge=0.0, le=MAX_MEAN_S)]] | None = None

    @model_validator(mode="before")
    @classmethod
    def _empirical_mean(cls, data: Any) -> Any:
        """Give an empirical distribution its mean (the piecewise-linear one's, always)."""
        if (isinstance(data, dict) and data.get("dist") == "empirical"
                and isinstance(data.get("p"), list)
                and isinstance(data.get("quantiles_s"), list)
                and len(data["p"]) == len(data["quantiles_s"]) >= 2):
            try:
                p = np.asarray(data["p"], dtype=float)
                q = np.asarray(data["quantiles_s"], dtype=float)
                data = {**data, "mean_s": float(np.sum(np.diff(p) * (q[1:] + q[:-1]) / 2.0))}
            except (TypeError, ValueError):
                pass  # the field checks below say what is wrong
        return data

    @model_validator(mode="after")
    def _check_empirical(self) -> Duration:
        if self.dist != "empirical":
            if self.p is not None or self.quantiles_s is not None:
                raise ValueError("p, quantiles_s: only for dist = \"empirical\"")
            return self
        if self.p is None or self.quantiles_s is None or len(self.p) != len(
                self.quantiles_s) or len(self.p) < 2:
            raise ValueError("quantiles_s: an empirical duration needs p and quantiles_s of "
                             "the same length, at least 2")
        if self.p[0] != 0.0 or self.p[-1] != 1.0 or any(
                b <= a for a, b in zip(self.p, self.p[1:], strict=False)):
            raise ValueError("p: must rise strictly from 0 to 1")
        if any(b < a for a, b in zip(self.quantiles_s, self.quantiles_s[1:], strict=False)):
            raise ValueError("quantiles_s: must not decrease")
        return self

    def sample(self, rng: np.random.Generator, n: int) -> np.ndarray:
        """Return ``n`` draws in seconds (float64)."""
        if self.dist == "fixed":
            return np.full(n, self.mean_s)
        if self.dist == "exponential":
            return rng.exponential(self.mean_s, n)
        if self.dist == "empirical":
            assert self.p is not None and self.quantiles_s is not None
            return np.interp(rng.random(n), self.p, self.quantiles_s)
        sigma2 = np.log1p(self.cv**2)
        return rng.lognormal(np.log(self.mean_s) - sigma2 / 2.0, np.sqrt(sigma2), n)


class Shift(Model):
    """A daily duty window: starts at ``start_h`` and lasts ``length_h`` hours."""

    start_h: HourOfDay
    length_h: Annotated[float, Field(gt=0.0, le=24.0)]
    share: Annotated[float, Field(gt=0.0, le=1e6)] = 1.0  # relative units on it (rosters)


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
        # the generator's own geometry (imported here: the city package imports this one)
        from gridsim.city.synthetic import _north_of, city_origin, project, river_xy_m

        lat = np.array([d.lat for d in self.districts])
        lon = np.array([d.lon for d in self.districts])
        on_north = _north_of(project(lat, lon, city_origin(self)), river_xy_m(self))
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


def _default_patrol_shifts() -> list[Shift]:
    return [Shift(start_h=0, length_h=8), Shift(start_h=8, length_h=8),
            Shift(start_h=16, length_h=8)]


class Police(Model):
    """Patrol units (by station, in rotating shifts) and community police."""

    patrol_units: Count = 900
    patrol_shifts: Annotated[list[Shift], Field(min_length=1)] = Field(
        default_factory=_default_patrol_shifts
    )
    community_police: Count = 1300
    community_shift: Shift = Shift(start_h=8, length_h=10)
    # patrol points per station area: idle patrol units wait at one (drawn afresh each
    # time they free), community police at a fixed one; 0 = everyone waits at the station
    patrol_points: Annotated[int, Field(ge=0, le=64)] = 0
    dispatch_delay_s: NonNegativeFloat = 90.0
    # handling delay by priority 1..5; when given it replaces dispatch_delay_s
    dispatch_delay_s_by_priority: Annotated[
        list[NonNegativeFloat], Field(min_length=5, max_length=5)] | None = None
    return_to_base: bool = True
    # street posts: units per street station, at the post (no patrol), sent only within
    # their quick-response ring (car seconds) or their own area; they work patrol_shifts
    street_post_units: Count = 0
    street_post_ring_s: PositiveFloat = 180.0
    # preemption: a call of priority <= preempt_priority_max (0: never) that finds no free
    # unit takes the nearest unit driving back from a call or busy on one of priority >=
    # preempt_victim_min, searched up to preempt_search_s of free-flow car time
    preempt_priority_max: Annotated[int, Field(ge=0, le=5)] = 0
    preempt_victim_min: Annotated[int, Field(ge=1, le=5)] = 3
    preempt_search_s: PositiveFloat = 1800.0
    # "1-3-5 minute" quick response: share of police-attended calls reached within each
    quick_response_s: Annotated[list[PositiveFloat], Field(min_length=1, max_length=10)] = (
        Field(default_factory=lambda: [60.0, 180.0, 300.0]))

    def delay_by_priority_s(self) -> np.ndarray:
        """Return the handling delay indexed by priority (index 0 unused), seconds."""
        delays = self.dispatch_delay_s_by_priority or [self.dispatch_delay_s] * 5
        return np.array([0.0, *delays])


class TrafficPolice(Model):
    """A separate traffic-police fleet for the incident types that name it."""

    units: Count = 0
    shifts: Annotated[list[Shift], Field(min_length=1)] = Field(
        default_factory=_default_patrol_shifts)
    # handling delay by priority 1..5 (none: the police's)
    dispatch_delay_s_by_priority: Annotated[
        list[NonNegativeFloat], Field(min_length=5, max_length=5)] | None = None


def _default_mediator_shifts() -> list[Shift]:
    return [Shift(start_h=8, length_h=12), Shift(start_h=8, length_h=12),
            Shift(start_h=20, length_h=12)]


class Mediators(Model):
    """Street mediators who take non-police calls at the front end and settle on scene."""

    count: Count = 1500
    shifts: Annotated[list[Shift], Field(min_length=1)] = Field(
        default_factory=_default_mediator_shifts
    )
    dispatch_delay_s: NonNegativeFloat = 120.0
    # chance a case is settled on scene; else it is brought to the station's mediation room
    settle_on_scene_prob: Probability = 0.7


def _default_full_time_shifts() -> list[Shift]:
    return [Shift(start_h=8.5, length_h=9.0)]


def _default_part_time_shifts() -> list[Shift]:
    return [Shift(start_h=9.0, length_h=4.0), Shift(start_h=14.0, length_h=4.0),
            Shift(start_h=18.0, length_h=4.0)]


class MediationRoom(Model):
    """Each station's mediation room: resident mediators settle the cases brought back.

    Cases queue first come, first served; a mediator on duty and free takes the next
    one and finishes it even past the end of the shift. Each case ends settled, referred
    (to another body) or escalated (to the police, charged ``escalation_police_s``).
    """

    full_time: Count = 500
    part_time: Count = 1000
    full_time_shifts: Annotated[list[Shift], Field(min_length=1)] = Field(
        default_factory=_default_full_time_shifts
    )
    part_time_shifts: Annotated[list[Shift], Field(min_length=1)] = Field(
        default_factory=_default_part_time_shifts
    )
    service_s: Duration = Duration(dist="lognormal", mean_s=5400.0, cv=0.8)
    settle_prob: Probability = 0.8
    refer_prob: Probability = 0.15
    escalate_prob: Probability = 0.05
    escalation_police_s: NonNegativeFloat = 3600.0  # officer time an escalated case takes

    @model_validator(mode="after")
    def _check(self) -> MediationRoom:
        total = self.settle_prob + self.refer_prob + self.escalate_prob
        if abs(total - 1.0) > 1e-9:
            raise ValueError(
                f"settle_prob: settle_prob + refer_prob + escalate_prob is {total:g}; the "
                "three outcomes of a case must add up to 1"
            )
        return self


class GridWorkers(Model):
    """Grid and micro-grid workers, pushed incidents in their own grid."""

    per_grid: Count = 1
    per_micro_grid: Count = 1
    shift: Shift = Shift(start_h=8, length_h=10)
    response_prob: Probability = 0.7
    reaction_s: NonNegativeFloat = 120.0
    mode: TravelMode = "ebike"
    on_scene_s: Duration = Duration(dist="lognormal", mean_s=1200.0, cv=0.5)
    max_dispatched: AtLeastOne = 1


def _default_availability() -> list[float]:
    return [0.04] * 6 + [0.10, 0.18] + [0.25] * 10 + [0.20] * 4 + [0.10, 0.06]


class ModeSpeed(Model):
    """One way volunteers travel: its share of the pool and a log-normal speed (road m/s)."""

    share: Weight
    median_mps: Speed
    cv: Annotated[float, Field(ge=0.0, le=5.0)] = 0.3


class VolunteerTravel(Model):
    """How volunteers get to an incident: each draws a mode by share, then its own speed."""

    walk: ModeSpeed = ModeSpeed(share=0.50, median_mps=1.4, cv=0.3)
    ebike: ModeSpeed = ModeSpeed(share=0.35, median_mps=3.5, cv=0.3)
    car: ModeSpeed = ModeSpeed(share=0.15, median_mps=6.0, cv=0.4)

    @model_validator(mode="after")
    def _check(self) -> VolunteerTravel:
        if self.walk.share + self.ebike.share + self.car.share <= 0.0:
            raise ValueError("share: give at least one of walk, ebike, car a positive share")
        return self


class Alerting(Model):
    """How the app alerts: rounds of the nearest free volunteers, widening until enough accept.

    Round k (0, 1, ...) alerts up to ``round_size`` volunteers within
    ``dispatch.volunteer_radius_m * radius_growth**k``; a round goes out
    ``round_interval_s`` after the last one only while fewer than
    ``dispatch.volunteer_max_dispatched`` have accepted.
    """

    round_size: AtLeastOne = 3
    round_interval_s: PositiveFloat = 60.0
    radius_growth: Annotated[float, Field(ge=1.0, le=10.0)] = 2.0
    max_rounds: Annotated[int, Field(ge=1, le=20)] = 2
    # [start_h, end_h]: no alerts from start to end (may wrap midnight); [] for none
    quiet_hours: Annotated[list[HourOfDay], Field(max_length=2)] = Field(default_factory=list)
    max_alerts_per_week: AtLeastOne | None = None  # per volunteer, days 0-6, 7-13, ... of the run

    @model_validator(mode="after")
    def _check(self) -> Alerting:
        if len(self.quiet_hours) == 1 or (
            len(self.quiet_hours) == 2 and self.quiet_hours[0] == self.quiet_hours[1]
        ):
            raise ValueError("quiet_hours: give [start_h, end_h] with start != end, or [] "
                             "for none")
        return self

    def radius_m(self, first_m: float, round_index: int) -> float:
        """Return the search radius of round ``round_index`` (0 first), road metres."""
        return first_m * self.radius_growth ** round_index

    def largest_radius_m(self, first_m: float) -> float:
        """Return the radius of the last round: what the volunteer catchments must cover."""
        return self.radius_m(first_m, self.max_rounds - 1)


VolunteerWhere = Literal["home", "post", "roaming"]
WorkStart = Annotated[int, Field(ge=0, le=23)]
WorkEnd = Annotated[int, Field(ge=0, le=24)]


DEFAULT_ROAM_BLOCK_H = 2


class VolunteerKind(Model):
    """One kind of organised volunteer: its share, where it is by hour, availability, travel.

    ``where``: "home" (always at home); "post" (at one fixed post node in ``work_hours``,
    home otherwise); "roaming" (in ``work_hours`` at one node per ``roam_block_h`` hours,
    home otherwise). Posts and roaming nodes are drawn by population in the home's
    ``area`` (its police-station area or district). ``availability_by_hour`` and ``travel``
    default to the pool's.
    """

    share: Probability
    where: VolunteerWhere = "home"
    # [start_h, end_h): whole hours of the day, may wrap midnight ([20, 8]); [0, 24] all day
    work_hours: tuple[WorkStart, WorkEnd] | None = None
    # roaming only (ASSUMPTION by default: a new place every 2 hours)
    roam_block_h: Annotated[int, Field(ge=1, le=24)] = DEFAULT_ROAM_BLOCK_H
    area: Literal["station", "district"] = "station"
    availability_by_hour: Annotated[
        list[Probability], Field(min_length=HOURS_PER_DAY, max_length=HOURS_PER_DAY)
    ] | None = None
    travel: VolunteerTravel | None = None

    @model_validator(mode="after")
    def _check(self) -> VolunteerKind:
        if self.where == "home":
            if self.work_hours is not None:
                raise ValueError('work_hours: only for where = "post" or "roaming" (a "home" '
                                 "volunteer is always at home); remove it")
        elif self.work_hours is None:
            raise ValueError(f'work_hours: required for where = "{self.where}"; give '
                             "[start_h, end_h], e.g. [8, 20]")
        elif self.work_hours[0] == self.work_hours[1]:
            raise ValueError(f"work_hours: start and end are the same hour (got "
                             f"{list(self.work_hours)}); give [0, 24] for all day")
        # a value, not whether the key was given: a results folder's scenario.json
        # repeats every default and must read back
        if self.where != "roaming" and self.roam_block_h != DEFAULT_ROAM_BLOCK_H:
            raise ValueError('roam_block_h: only for where = "roaming"; remove it')
        return self

    def work_mask(self) -> int:
        """Return the work hours as a 24-bit mask (bit h: hour h of the day); 0 for home."""
        if self.work_hours is None:
            return 0
        start, end = self.work_hours
        length = end - start if end > start else end + HOURS_PER_DAY - start
        return sum(1 << ((start + k) % HOURS_PER_DAY) for k in range(length))


class Volunteers(Model):
    """Safety volunteers: alerted in rounds, accept by distance and fatigue, may leave."""

    count: Count = 73_000
    # share of volunteers near home with the app on, by hour: only they are alerted
    availability_by_hour: Annotated[
        list[Probability], Field(min_length=HOURS_PER_DAY, max_length=HOURS_PER_DAY)
    ] = Field(default_factory=_default_availability)
    # p(accept) = acceptance_prob * exp(-road metres / acceptance_decay_m) * fatigue factor
    acceptance_prob: Probability = 0.47
    acceptance_decay_m: Annotated[float, Field(ge=1.0)] = 1000.0
    time_to_accept_s: Duration = Duration(dist="lognormal", mean_s=60.0, cv=1.0)
    no_show_prob: Probability = 0.1  # accepted and counted as coming, never arrives
    reaction_s: NonNegativeFloat = 30.0  # from accepting to setting off
    on_scene_s: Duration = Duration(dist="lognormal", mean_s=900.0, cv=0.5)
    travel: VolunteerTravel = VolunteerTravel()
    alerting: Alerting = Alerting()
    # fatigue factor 1 / (1 + load / fatigue_alerts), load = alerts received, each decaying
    # with this half-life
    fatigue_half_life_days: Annotated[float, Field(ge=0.001)] = 7.0  # 86 s or more
    fatigue_alerts: Annotated[float, Field(ge=0.001)] = 5.0
    churn_per_day: Probability = 0.000548  # share of active volunteers leaving each day
    churn_per_alert: Probability = 0.002  # chance an alert makes its volunteer leave
    # recruits a day as a share of ``count``; they take the seats (homes) of those who left
    recruit_per_day: Probability = 0.000548
    # kinds of volunteer (door guards, riders, ...), shares adding up to 1; none: everyone
    # at home, with the pool's availability and travel
    kinds: dict[str, VolunteerKind] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _check(self) -> Volunteers:
        total = sum(kind.share for kind in self.kinds.values())
        if self.kinds and abs(total - 1.0) > 1e-6:
            raise ValueError(f"kinds: the shares add up to {total:.6g}; they must add up to 1")
        return self


class PlatformTask(Model):
    """A task push for one incident type: to members within a road radius, after a delay."""

    radius_m: PositiveFloat
    delay_s: NonNegativeFloat = 0.0  # from the call to the push
    engagement: Probability  # chance a member reached takes the task up


class Platform(Model):
    """The social mobilisation platform: a large, low-engagement pool that gets task pushes.

    Members live as residents do (by population), so a push within ``radius_m`` reaches
    a binomial number of them given the population there; each takes the task up with the
    task's ``engagement`` times the hour's factor. Not an emergency dispatch.
    """

    count: Count = 600_000
    engagement_by_hour: Annotated[
        list[Probability], Field(min_length=HOURS_PER_DAY, max_length=HOURS_PER_DAY)
    ] = Field(default_factory=lambda: [1.0] * HOURS_PER_DAY)
    time_to_respond_s: Duration = Duration(dist="lognormal", mean_s=600.0, cv=1.0)
    speed_mps: Speed = 1.4  # members reached on foot
    tasks: Annotated[dict[str, PlatformTask], Field(min_length=1)]

    def largest_radius_m(self) -> float:
        """Return the widest task radius: what the platform's node reach must cover."""
        return max(task.radius_m for task in self.tasks.values())


class WatchPointKind(Model):
    """One kind of watch point: its share, staff on hand, whether they may leave the site."""

    share: Weight
    staff: Annotated[int, Field(ge=1, le=1000)] = 1  # on hand at once
    may_leave: bool = True  # False: helps only incidents at its own node (the shop door)


def _default_watch_point_kinds() -> dict[str, WatchPointKind]:
    return {
        "supermarket": WatchPointKind(share=0.3, staff=2, may_leave=True),
        "shop": WatchPointKind(share=0.5, staff=1, may_leave=False),
        "community": WatchPointKind(share=0.2, staff=2, may_leave=True),
    }


DEFAULT_SHELTER_TYPES = ("person_in_need", "assault")


class WatchPoints(Model):
    """Peace watch points: fixed, open 24 h; staff help incidents next to them, as they can.

    Each point is of one kind (drawn by share from ``city.seed``): at most ``staff``
    incidents at once, each able to help with ``help_prob``; a person in need of a
    ``shelter_types`` incident within ``shelter_radius_m`` of a point with someone on
    hand takes refuge there. Alarm: an incident within ``alarm_radius_m`` of a point is,
    with ``alarm_prob``, reported by its staff after ``alarm_report_s`` when that is
    sooner than the type's ``report_delay_s``.
    """

    count: Count = 2000
    radius_m: NonNegativeFloat = 150.0
    reaction_s: NonNegativeFloat = 60.0
    on_scene_s: Duration = Duration(dist="fixed", mean_s=600.0)
    help_prob: Probability = 0.8
    kinds: Annotated[dict[str, WatchPointKind], Field(min_length=1)] = Field(
        default_factory=_default_watch_point_kinds
    )
    # the default names the Nanjing types: those of them the scenario has apply
    shelter_types: list[str] = Field(default_factory=lambda: list(DEFAULT_SHELTER_TYPES))
    shelter_radius_m: NonNegativeFloat = 50.0
    alarm_radius_m: NonNegativeFloat = 0.0  # 0: points raise no alarm
    alarm_prob: Probability = 0.0
    alarm_report_s: Duration = Duration(dist="fixed", mean_s=30.0)
    # more points at given places: a CSV (lat, lon columns) or GeoJSON of points, each
    # put on its nearest road node within extra_sites_snap_max_m (gridsim place writes one)
    extra_sites: str | None = None
    extra_sites_snap_max_m: Annotated[float, Field(gt=0.0, le=100_000.0)] = 500.0

    @model_validator(mode="after")
    def _check(self) -> WatchPoints:
        if sum(kind.share for kind in self.kinds.values()) <= 0.0:
            raise ValueError("kinds: give at least one kind a positive share")
        if self.alarm_radius_m > self.radius_m:
            raise ValueError(
                f"alarm_radius_m: is {self.alarm_radius_m:g} but points see only as far as "
                f"radius_m = {self.radius_m:g}; lower it or raise radius_m")
        return self


class Dispatch(Model):
    """Dispatch policy parameters shared by all incident types."""

    volunteer_radius_m: NonNegativeFloat = 500.0  # first alert round (volunteers.alerting)
    volunteer_max_dispatched: AtLeastOne = 3  # wanted: alerting stops once this many accept
    grid_radius_m: NonNegativeFloat = 3000.0
    mediation_types: list[str] = Field(default_factory=lambda: ["dispute"])
    # station units: "own_area_first" (the call's station area, then the nearest free unit
    # anywhere; a freed unit serves its own area's waiting calls first) or "nearest"
    jurisdiction: Literal["own_area_first", "nearest"] = "nearest"
    # with own_area_first: a freed unit then serves the waiting calls of this many nearest
    # station areas before the oldest call anywhere
    neighbour_stations: Annotated[int, Field(ge=0, le=1000)] = 6
    # multiplies every incident type's volunteer activation_prob (capped at 1): one knob
    # for how much the 110 centre uses the volunteer app at all (calibrated as a whole)
    volunteer_activation_scale: Annotated[float, Field(ge=0.0, le=1000.0)] = 1.0


class IncidentType(Model):
    """One kind of incident: how often, when, where, how long and who responds."""

    rate_per_day: NonNegativeFloat
    hourly_profile: Annotated[
        list[Weight], Field(min_length=HOURS_PER_DAY, max_length=HOURS_PER_DAY)
    ]
    district_weights: dict[str, Weight] | None = None
    # relative rate Monday..Sunday (none: every day alike); day 0 is Scenario.start_weekday
    day_of_week: Annotated[list[Weight], Field(min_length=7, max_length=7)] | None = None
    priority: Annotated[int, Field(ge=1, le=5)] = 3
    units: Annotated[int, Field(ge=1, le=10)] = 1  # station units sent (police or mediators)
    # the 110 centre pushes the call to the grid and volunteer layers it lists, each with
    # its probability (a layer left out: 1), after this handling delay; watch points are
    # on the spot and need no push
    activation_prob: dict[PushedLayer, Probability] = Field(default_factory=dict)
    activation_delay_s: NonNegativeFloat = 0.0
    # chance that a grid worker or volunteer arriving before police resolves the incident,
    # so the police unit is stood down (recalled) and drives back
    local_resolves_prob: Probability = 0.0
    # from the incident to the 110 call (none: the call comes as it happens); a watch
    # point near it may report it sooner (watch_points.alarm_*)
    report_delay_s: Duration | None = None
    # a person in need is "rescued" when help arrives within this time after the
    # incident (after the call when there is no report delay)
    harm_threshold_s: Duration | None = None
    on_scene_s: Duration
    responders: Annotated[list[ResponderLayer], Field(min_length=1)]

    @model_validator(mode="after")
    def _check(self) -> IncidentType:
        if sum(self.hourly_profile) <= 0.0:
            raise ValueError("hourly_profile: needs at least one positive weight")
        if self.district_weights is not None and sum(self.district_weights.values()) <= 0.0:
            raise ValueError("district_weights: give at least one district a positive weight")
        if self.day_of_week is not None and sum(self.day_of_week) <= 0.0:
            raise ValueError("day_of_week: needs at least one positive weight")
        if len(set(self.responders)) != len(self.responders):
            raise ValueError("responders: must not repeat a layer")
        return self


PlaceType = Literal["water_edge", "bridge", "park", "transport_hub"]
SubjectRule = Literal["stay", "wander", "attractor", "return_home"]


class Behaviour(Model):
    """A category of missing person: the prior's distance rings, and how he really moves.

    The prior (``distance_km_quartiles``, ``distance_km_p95``, ``attraction``) is the
    planner's: ISRID-style rings of straight-line distance from the last known point
    (25/50/75/95%), with attraction weights on places. The subject is drawn from a
    different model: he walks the roads for ``walk_time_s`` keeping his heading with
    ``persistence``, then follows one of the ``rules`` (shares): stay where he is, wander
    on (walks of ``wander_walk_s`` between rests of ``pause_s``), head for an attracting
    place within ``attractor_reach_m`` by road, or go home after ``dwell_s``. At rest he
    is up to ``offroad_m`` off the road. ``critical_time_h`` is the mean time to harm at
    an ordinary place by day (the hazard, 1 / it, grows with place and night factors).
    """

    distance_km_quartiles: tuple[PositiveFloat, PositiveFloat, PositiveFloat]
    distance_km_p95: PositiveFloat
    attraction: dict[PlaceType, Weight] = Field(default_factory=dict)
    walk_speed_mps: Speed
    walk_time_s: Duration
    persistence: Annotated[float, Field(ge=0.0, le=50.0)] = 2.0
    rules: dict[SubjectRule, Weight]
    attractor_reach_m: PositiveFloat = 2000.0
    wander_walk_s: Duration = Duration(dist="exponential", mean_s=900.0)
    pause_s: Duration = Duration(dist="exponential", mean_s=3600.0)
    dwell_s: Duration = Duration(dist="exponential", mean_s=7200.0)
    offroad_m: NonNegativeFloat = 30.0
    critical_time_h: PositiveFloat = 24.0

    @model_validator(mode="after")
    def _check(self) -> Behaviour:
        q1, q2, q3 = self.distance_km_quartiles
        if not q1 < q2 < q3 < self.distance_km_p95:
            raise ValueError("distance_km_quartiles: the 25%, 50%, 75% distances and "
                             "distance_km_p95 must increase")
        if sum(self.rules.values()) <= 0.0:
            raise ValueError("rules: give at least one rule a positive share")
        return self


class SweepWidths(Model):
    """Effective sweep width (m) by terrain class of the road swept."""

    street: PositiveFloat
    park: PositiveFloat
    waterside: PositiveFloat


class SearcherKind(Model):
    """One kind of searcher: when it sets off, how fast it sweeps, how wide it sees.

    A searcher travels by road at its mode's speed (police: the district's car speed;
    grid workers: ``grid_workers.mode``; volunteers: their own mode and speed), then
    sweeps every road of a search segment at ``sweep_speed_mps``, covering
    ``sweep_path_factor`` metres per metre of road (turning back at dead ends). While
    travelling it still sees, with ``transit_sweep_share`` of its sweep width.
    """

    start_delay_s: NonNegativeFloat
    sweep_speed_mps: Speed
    sweep_path_factor: Annotated[float, Field(ge=1.0, le=10.0)] = 1.5
    transit_sweep_share: Probability = 0.5
    max_search_h: PositiveFloat = 24.0  # one searcher keeps at it this long at most
    sweep_width_day_m: SweepWidths
    sweep_width_night_m: SweepWidths


class Observers(Model):
    """A sighting channel of fixed observers: who sees a subject pass, reports, and errs.

    A subject passing within ``range_m`` of an observer is seen with ``pass_prob_day`` /
    ``pass_prob_night``; one resting within range is noticed at ``linger_per_h`` an hour.
    Reports reach the search ``report_delay_s`` later, placing him within
    ``location_error_m``. Each observer makes false reports at
    ``false_reports_per_observer_h``; the planner takes a report as true with ``trust``.
    """

    range_m: PositiveFloat
    pass_prob_day: Probability
    pass_prob_night: Probability
    linger_per_h: NonNegativeFloat = 0.0
    report_delay_s: Duration
    location_error_m: PositiveFloat = 100.0
    false_reports_per_observer_h: NonNegativeFloat = 0.0
    trust: Annotated[float, Field(gt=0.0, le=1.0)] = 0.5


class WatchPointChannel(Observers):
    """Watch-point staff: they look out once the description reaches them."""

    start_delay_s: NonNegativeFloat = 600.0  # from the report


class PlatformChannel(Observers):
    """Platform members pushed the description: observers at their homes by population.

    Members within ``push_radius_m`` by road of the last known point get the push; how
    many there are, and who takes it up, follow ``[platform]`` (count, the
    ``missing_person`` task's ``engagement`` and ``delay_s``, ``engagement_by_hour``).
    """

    push_radius_m: PositiveFloat = 3000.0


def _default_camera_places() -> list[PlaceType]:
    return ["transport_hub", "bridge"]


class CctvChannel(Observers):
    """Cameras at the marked places and at a share of the busiest junctions.

    Footage is searched from ``review_start_s`` after the report; a capture is reported
    ``report_delay_s`` after that or after the capture, whichever is later.
    """

    places: list[PlaceType] = Field(default_factory=_default_camera_places)
    junction_share: Probability = 0.1
    review_start_s: NonNegativeFloat = 1800.0


class PhoneChannel(Model):
    """Phone location: a coarse area from the carrier, after a request delay, repeated."""

    phone_on_prob: Probability
    request_delay_s: NonNegativeFloat
    repeat_s: PositiveFloat = 3600.0
    accuracy_m: PositiveFloat = 1000.0
    trust: Annotated[float, Field(gt=0.0, le=1.0)] = 0.9


class Channels(Model):
    """The sighting channels of the study's channel arms."""

    watch_points: WatchPointChannel
    platform: PlatformChannel
    cctv: CctvChannel
    phone: PhoneChannel


class MissingPerson(Model):
    """A missing-person search study: one subject, replayed under several strategies."""

    district: str
    category: str
    last_seen_hour: HourOfDay = 22.0
    report_delay_h: NonNegativeFloat = 1.5
    horizon_h: PositiveFloat = 12.0
    replications: Annotated[int, Field(ge=2, le=MAX_COUNT)] = 200
    search_radius_m: PositiveFloat = 6000.0
    segment_m: Annotated[float, Field(ge=50.0, le=5000.0)] = 500.0
    night_hours: tuple[HourOfDay, HourOfDay] = (19.0, 6.0)
    police_units: Count = 4
    volunteer_radius_m: PositiveFloat = 1500.0  # by road from the last known point
    grid_callout_prob: Probability = 0.0  # off-shift grid workers who answer a call-out
    grid_callout_delay_s: NonNegativeFloat = 1800.0
    belief_spread_per_h: Probability = 0.2  # map mass moving to neighbour segments an hour
    # the planner's POD spreads effort over the strip this close to a segment's roads
    # (0: the whole segment), as lost people are mostly found near linear features
    track_offset_m: NonNegativeFloat = 0.0
    wrong_prior_category: str
    wrong_prior_attraction: bool = False
    # the wrong prior's rings are centred this far from the LKP, on this compass bearing
    wrong_prior_lkp_offset_m: NonNegativeFloat = 0.0
    wrong_prior_bearing_deg: Annotated[float, Field(ge=0.0, lt=360.0)] = 90.0
    mapscore_subjects: Annotated[int, Field(ge=10, le=100_000)] = 500
    critical_place_factor: dict[PlaceType, Annotated[float, Field(gt=0.0, le=1000.0)]] = (
        Field(default_factory=dict))
    critical_night_factor: Annotated[float, Field(gt=0.0, le=1000.0)] = 1.0
    behaviours: dict[str, Behaviour]
    police: SearcherKind
    grid: SearcherKind
    volunteer: SearcherKind
    channels: Channels

    @model_validator(mode="after")
    def _check(self) -> MissingPerson:
        for key in ("category", "wrong_prior_category"):
            name = getattr(self, key)
            if name not in self.behaviours:
                raise ValueError(f"{key}: unknown category {name!r}; allowed: "
                                 f"{', '.join(sorted(self.behaviours))}")
        if self.segment_m * 2.0 > self.search_radius_m:
            raise ValueError(f"segment_m: is {self.segment_m:g} but the search area's "
                             f"radius is {self.search_radius_m:g}; use segments at most "
                             "half the radius")
        return self


FraudChannel = Literal["branch", "app", "atm"]
FRAUD_CHANNELS: tuple[FraudChannel, ...] = ("branch", "app", "atm")
MAX_YUAN = 1e12


class Money(Model):
    """A random sum of money in yuan: log-normal with mean ``mean_yuan`` and CV ``cv``."""

    mean_yuan: Annotated[float, Field(gt=0.0, le=MAX_YUAN)]
    cv: Annotated[float, Field(ge=0.0, le=MAX_CV)] = 1.0

    def sample(self, rng: np.random.Generator, n: int) -> np.ndarray:
        """Return ``n`` draws in yuan (float64)."""
        sigma2 = np.log1p(self.cv**2)
        return rng.lognormal(np.log(self.mean_yuan) - sigma2 / 2.0, np.sqrt(sigma2), n)


class FraudChannelSpec(Model):
    """How victims pay through one channel, and how the bank watches it."""

    share: Weight  # relative share of victims who pay this way
    # chance the bank's risk system or staff flag one transfer as a likely fraud
    detect_prob: Probability
    # a flagged transfer is held this long (staff stall the customer, the risk system
    # delays the payment); it goes through after unless the victim is stopped first
    hold_s: NonNegativeFloat = 0.0
    # police go to the victim at once on a bank warning (the UK Banking Protocol: branch
    # staff call police, who come to the branch) instead of calling back first
    visit_first: bool = False


class FraudWarning(Model):
    """A warning source outside the bank: it warns with ``prob``, ``delay_s`` after its start."""

    prob: Probability
    delay_s: Duration


class FraudSweep(Model):
    """One setting of ``[fraud]`` varied one value at a time (common random numbers)."""

    key: Annotated[str, Field(min_length=1)]  # a dotted path inside [fraud]
    values: Annotated[list[Annotated[float, Field(allow_inf_nan=False)]],
                      Field(min_length=2, max_length=50)]
    replications: Annotated[int, Field(ge=2, le=100_000)] | None = None  # none: the study's


class Fraud(Model):
    """The police-bank anti-fraud study: fraud contacts, transfers, warnings, interventions.

    Victims are contacted by fraudsters and move money in transfers; warnings come from the
    bank (per transfer and channel), a police early-warning ``feed`` (from the contact) or
    the ``victim`` (from the first transfer); the anti-fraud centre calls back, police visit,
    and payments are stopped and mule accounts frozen, each after its delay.
    """

    days: Annotated[float, Field(gt=0.0, le=366.0)] = 1.0
    replications: Annotated[int, Field(ge=2, le=100_000)] = 40
    cases_per_day: Annotated[float, Field(ge=0.0, le=1e6)]
    hourly_profile: Annotated[
        list[Weight], Field(min_length=HOURS_PER_DAY, max_length=HOURS_PER_DAY)]
    amount: Money  # a case's whole sum, split over its transfers
    # transfers per case: 1 + Poisson(extra_transfers_mean), at most max_transfers
    extra_transfers_mean: Annotated[float, Field(ge=0.0, le=100.0)] = 1.0
    max_transfers: Annotated[int, Field(ge=1, le=100)] = 10
    first_transfer_s: Duration  # contact to the first transfer attempt
    transfer_gap_s: Duration  # one transfer made to the next attempt
    channels: dict[FraudChannel, FraudChannelSpec]
    bank_report_delay_s: Duration  # a flagged transfer to the police being told
    feed: FraudWarning  # the police early-warning feed, timed from the contact
    victim: FraudWarning  # the victim (or family) reports, timed from the first transfer
    call_takers: Annotated[int, Field(ge=1, le=100_000)] = 4  # anti-fraud centre call-backs
    callback_s: Duration  # a call-taker is free to the end of the call-back
    callback_success_prob: Probability  # the call-back convinces the victim to stop
    # anti-fraud officers on duty at each station (0: no visits)
    officers_per_station: Annotated[int, Field(ge=0, le=10_000)] = 1
    visit_on_scene_s: Duration
    visit_success_prob: Probability  # an officer on the spot stops the victim
    stop_payment_delay_s: Duration  # warning to the stop-payment request taking effect
    stop_payment_success_prob: Probability
    mule_layers: Annotated[int, Field(ge=1, le=50)] = 3  # hops before the money is cashed out
    mule_hop_s: Duration  # the time money rests in each mule account
    freeze_delay_s: Duration  # warning to the mule accounts being frozen
    freeze_success_prob: Probability
    sweeps: list[FraudSweep] = Field(default_factory=list, max_length=10)

    @model_validator(mode="after")
    def _check(self) -> Fraud:
        if sum(self.hourly_profile) <= 0.0:
            raise ValueError("hourly_profile: needs at least one positive weight")
        if not self.channels or sum(c.share for c in self.channels.values()) <= 0.0:
            raise ValueError("channels: give at least one channel (branch, app, atm) a "
                             "positive share")
        for k, sweep in enumerate(self.sweeps):
            for value in sweep.values:
                try:
                    self.with_value(sweep.key, value)
                except (KeyError, TypeError):
                    raise ValueError(
                        f"sweeps[{k}].key: {sweep.key!r} is not a number of [fraud]; give a "
                        "dotted path such as 'bank_report_delay_s.mean_s' or "
                        "'call_takers'") from None
                except ValueError as exc:
                    first = str(exc).splitlines()
                    detail = (first[2] if len(first) > 2 else str(exc)).split(" [type=")[0].strip()
                    raise ValueError(f"sweeps[{k}].values: {value:g} is not allowed for "
                                     f"{sweep.key}: {detail}") from None
        return self

    def with_value(self, key: str, value: float) -> Fraud:
        """Return this study with the number at dotted ``key`` set to ``value`` (no sweeps).

        Raises KeyError for a path that names no number, ValueError for a bad value.
        """
        data = self.model_dump(mode="python", exclude={"sweeps"})
        *parents, last = key.split(".")
        node: Any = data
        for part in parents:
            node = node[part]
        if not isinstance(node, dict) or last not in node or isinstance(node[last], bool) \
                or not isinstance(node[last], int | float):
            raise KeyError(key)
        node[last] = int(value) if isinstance(node[last], int) and value == int(value) \
            else value
        return Fraud.model_validate(data)


PostStaff = Literal["none", "police", "auxiliary", "grid_workers", "volunteers"]


class SchoolWindow(Model):
    """A school-run window: from ``start_h`` for ``length_h`` hours, within one day."""

    start_h: HourOfDay
    length_h: Annotated[float, Field(gt=0.0, le=24.0)]

    @model_validator(mode="after")
    def _check(self) -> SchoolWindow:
        if self.start_h + self.length_h > 24.0:
            raise ValueError(f"length_h: the window from {self.start_h:g} h runs past "
                             "midnight; end it by 24 h")
        return self


class Schools(Model):
    """School-run posts ("one school, one policy"): windows, posts, congestion, incidents.

    Schools are the imported city's schools layer, else ``count`` nodes drawn by
    population. In each window every school's post holds ``staff_per_post`` of
    ``post_staff`` (patrol units or auxiliary police (street mediators) of the school's
    station, grid workers or volunteers nearest it), who are then not free for calls;
    car trips to nodes within ``congestion_radius_m`` of a school take
    ``congestion_factor`` times longer in the windows; ``incident_type`` is drawn at
    schools in the windows, at a rate per school and window that depends on staffing.
    """

    count: Count = 0
    windows: Annotated[list[SchoolWindow], Field(min_length=1, max_length=8)]
    post_staff: PostStaff = "police"
    staff_per_post: Annotated[int, Field(ge=1, le=100)] = 1
    congestion_factor: Annotated[float, Field(ge=1.0, le=10.0)] = 1.0
    congestion_radius_m: Annotated[float, Field(gt=0.0, le=10_000.0)] = 500.0
    incident_type: str | None = None
    incidents_per_window_staffed: Annotated[float, Field(ge=0.0, le=100.0)] = 0.0
    incidents_per_window_unstaffed: Annotated[float, Field(ge=0.0, le=100.0)] = 0.0

    @model_validator(mode="after")
    def _check(self) -> Schools:
        spans = sorted((w.start_h, w.start_h + w.length_h) for w in self.windows)
        for (_, end), (start, _) in zip(spans, spans[1:], strict=False):
            if start < end:
                raise ValueError("windows: two windows overlap; give each school-run "
                                 "window its own hours")
        return self


class Costs(Model):
    """Yearly cost of one responder of each kind: what ``gridsim optimize`` minimises.

    ``patrol_unit`` is the yearly cost of one patrol car crewed around the clock (24
    crew-hours a day: the car and every shift's crew). A scenario's
    ``police.patrol_units`` are car-shift positions, not cars: each unit works one of the
    ``patrol_shifts`` (three 8-hour shifts: three units keep one car on the road all
    day). So each unit is charged once, for its hours: ``patrol_unit * length_h / 24``
    (133,333 yuan for an 8-hour shift at 400,000; the length is averaged over the shifts
    by their ``share``), never the round-the-clock cost per shift slot. Every other kind
    is charged per person, once, whatever its shift.
    """

    patrol_unit: NonNegativeFloat = 400_000.0
    community_police: NonNegativeFloat = 250_000.0
    mediator: NonNegativeFloat = 120_000.0
    grid_worker: NonNegativeFloat = 80_000.0
    volunteer: NonNegativeFloat = 2_000.0


class Output(Model):
    """Where results go; ``{name}`` and ``{seed}`` are filled in."""

    dir: str = "results/{name}-seed{seed}"

    @model_validator(mode="after")
    def _check(self) -> Output:
        try:
            fields = [(f, c, s) for _, f, s, c in string.Formatter().parse(self.dir)
                      if f is not None]
        except ValueError as exc:  # an unmatched brace
            raise ValueError(f"dir: {exc} (got {self.dir!r}); write {{{{ and }}}} for a "
                             "literal brace") from None
        for field, conversion, spec in fields:
            if field not in ("name", "seed") or conversion or spec:
                written = field + (f"!{conversion}" if conversion else "") + (
                    f":{spec}" if spec else "")
                raise ValueError(f"dir: unknown placeholder {{{written}}} (got {self.dir!r}); "
                                 "use {name} and {seed}, and {{ and }} for a literal brace")
        folder = self.dir.format(name="name", seed=1)
        if "\x00" in folder or PurePath(folder).name in ("", ".", ".."):
            raise ValueError(f"dir: names no results folder (got {self.dir!r}); give one "
                             "such as 'results/{name}-seed{seed}'")
        return self


# the keys of [replay] that name files (paths relative to the scenario file)
REPLAY_FILE_KEYS = ("log", "mapping")


class Coverage(Model):
    """How coverage and equity are reported by cell (``gridsim.coverage``)."""

    # the cells: the scenario's grids (H3 cells or squares on an imported city) or the
    # police stations' areas
    cells: Literal["grids", "stations"] = "grids"
    # the "1-3-5 minute" quick-response circles of the Nanjing police (2022)
    rings_s: Annotated[list[Annotated[float, Field(gt=0.0, le=86_400.0)]],
                       Field(min_length=1, max_length=6)] = [60.0, 180.0, 300.0]
    # a cell's percentiles need this many incidents (fewer: reported as missing)
    min_incidents: Annotated[int, Field(ge=5, le=100_000)] = 10
    worst_share: Annotated[float, Field(gt=0.0, le=0.5)] = 0.10  # the "worst cells" cut

    @model_validator(mode="after")
    def _check(self) -> Coverage:
        if sorted(set(self.rings_s)) != list(self.rings_s):
            raise ValueError(f"rings_s: must be increasing with no repeats (got "
                             f"{self.rings_s}); for example [60, 180, 300]")
        return self


class Replay(Model):
    """Incidents taken from a call log instead of the Poisson process (``gridsim.calls``).

    ``log`` is a CAD export read through ``mapping`` (the ``gridsim calls fit`` mapping
    file); both paths are relative to the scenario file. A call farther than
    ``snap_max_m`` from the nearest road node is left out (and counted).
    """

    log: Annotated[str, Field(min_length=1)]
    mapping: Annotated[str, Field(min_length=1)]
    snap_max_m: Annotated[float, Field(gt=0.0, le=100_000.0)] = 500.0


class Scenario(Model):
    """A complete, validated scenario: the input of every later stage."""

    name: Annotated[str, Field(min_length=1, pattern=r"^[A-Za-z0-9_.-]+$")]
    description: str = ""
    seed: Seed = 1
    duration_days: Annotated[float, Field(gt=0.0, le=366.0)] = 1.0
    warmup_hours: NonNegativeFloat = 0.0  # calls before this are simulated but not counted
    # the weekday of the run's first day (read only by incident types with day_of_week)
    start_weekday: Literal["monday", "tuesday", "wednesday", "thursday", "friday",
                           "saturday", "sunday"] = "monday"
    city: City
    zones: Zones = Zones()
    police: Police = Police()
    traffic_police: TrafficPolice = TrafficPolice()
    mediators: Mediators = Mediators()
    mediation_room: MediationRoom = MediationRoom()
    grid_workers: GridWorkers = GridWorkers()
    volunteers: Volunteers = Volunteers()
    platform: Platform | None = None  # task pushes to the mobilisation platform (none: off)
    watch_points: WatchPoints = WatchPoints()
    dispatch: Dispatch = Dispatch()
    incidents: Annotated[dict[str, IncidentType], Field(min_length=1)]
    costs: Costs = Costs()
    coverage: Coverage = Coverage()
    missing_person: MissingPerson | None = None
    fraud: Fraud | None = None  # the anti-fraud study instead of an incident day
    schools: Schools | None = None  # school-run posts, congestion and incidents (none: off)
    replay: Replay | None = None  # incidents from a call log (none: the Poisson process)
    output: Output = Output()

    @model_validator(mode="after")
    def _check_references(self) -> Scenario:
        if self.missing_person is not None and self.replay is not None:
            raise ValueError("replay: a missing-person study draws no incidents, so there "
                             "is nothing to replay; remove [replay] or [missing_person]")
        if self.fraud is not None and (self.missing_person is not None
                                       or self.replay is not None):
            raise ValueError("fraud: the anti-fraud study runs on its own; remove "
                             "[missing_person] or [replay], or [fraud]")
        if self.missing_person is not None:
            names = {d.name for d in self.city.districts}
            if self.missing_person.district not in names:
                raise ValueError(f"missing_person.district: unknown district "
                                 f"{self.missing_person.district!r}; allowed: "
                                 f"{', '.join(sorted(names))}")
            if self.platform is None or "missing_person" not in self.platform.tasks:
                raise ValueError("missing_person.channels.platform: the platform channel "
                                 "reaches the [platform] pool as its missing_person task "
                                 "does; add [platform] with [platform.tasks.missing_person]")
        n_districts = len(self.city.districts)
        placed = self.city.explicit is None and self.city.osm is None  # stations generated
        if placed and self.zones.household_stations < n_districts:
            raise ValueError(
                f"zones.household_stations: is {self.zones.household_stations} but every one "
                f"of the {n_districts} districts needs a station; set it to {n_districts} or "
                "more"
            )
        if self.warmup_hours >= self.duration_days * 24.0:
            raise ValueError("warmup_hours: must be shorter than the run (duration_days * 24)")
        districts = {d.name for d in self.city.districts}
        for type_name, kind in self.incidents.items():
            unknown = sorted(set(kind.district_weights or {}) - districts)
            if unknown:
                raise ValueError(
                    f"incidents.{type_name}.district_weights: unknown district "
                    f"{unknown[0]!r}; allowed: {', '.join(sorted(districts))}"
                )
        for type_name in self.dispatch.mediation_types:
            if type_name not in self.incidents:
                raise ValueError(
                    f"dispatch.mediation_types: unknown incident type {type_name!r}; "
                    f"allowed: {', '.join(sorted(self.incidents))}"
                )
            if "police" in self.incidents[type_name].responders:
                raise ValueError(
                    f"incidents.{type_name}.responders: lists 'police' but the type goes to "
                    "mediators (dispatch.mediation_types); remove one of the two"
                )
        for type_name, kind in self.incidents.items():
            if "traffic_police" in kind.responders and "police" in kind.responders:
                raise ValueError(
                    f"incidents.{type_name}.responders: lists both 'police' and "
                    "'traffic_police'; a type goes to one police fleet, remove one")
            if "traffic_police" in kind.responders and self.traffic_police.units == 0:
                raise ValueError(
                    f"incidents.{type_name}.responders: lists 'traffic_police' but "
                    "traffic_police.units is 0; give the fleet units or list 'police'")
        # the default names the Nanjing types; other scenarios need not have them
        # the default names the Nanjing types; other scenarios need not have them (a check
        # on whether the key was given would reject a results folder's scenario.json)
        listed = self.watch_points.shelter_types
        for type_name in listed if listed != list(DEFAULT_SHELTER_TYPES) else ():
            if type_name not in self.incidents:
                raise ValueError(
                    f"watch_points.shelter_types: unknown incident type {type_name!r}; "
                    f"allowed: {', '.join(sorted(self.incidents))}"
                )
        school_type = self.schools.incident_type if self.schools is not None else None
        if school_type is not None and school_type not in self.incidents:
            raise ValueError(
                f"schools.incident_type: unknown incident type {school_type!r}; allowed: "
                f"{', '.join(sorted(self.incidents))}")
        for type_name in self.platform.tasks if self.platform is not None else ():
            if type_name not in self.incidents:
                raise ValueError(
                    f"platform.tasks: unknown incident type {type_name!r}; allowed: "
                    f"{', '.join(sorted(self.incidents))}"
                )
        return self

    @property
    def duration_s(self) -> float:
        """Return the simulated span in seconds."""
        return self.duration_days * 86_400.0
