"""The scenario schema: frozen pydantic models, unknown keys rejected by name.

Every figure that the source article does not give is an assumption; it lives in the
scenario file (with a comment there saying so), and the defaults here only mirror the
default scenario so that a short file stays valid.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, model_validator

from gridsim.core.units import SECONDS_PER_DAY
from gridsim.scenario.city import (
    OSM_FILE_KEYS,
    CarSpeeds,
    City,
    Congestion,
    District,
    ExplicitNetwork,
    HourlyFactors,
    OsmCity,
    Places,
    Zones,
)
from gridsim.scenario.fleets import (
    ResponsePlan,
    RoutedTravel,
    Spread,
    UnitDispatch,
    UnitFleet,
    check_fleets,
)
from gridsim.scenario.outputs import REPLAY_FILE_KEYS, Costs, Coverage, IncidentType, Output, Replay
from gridsim.scenario.responders import (
    DEFAULT_ROAM_BLOCK_H,
    DEFAULT_SHELTER_TYPES,
    Alerting,
    Dispatch,
    GridWorkers,
    MediationRoom,
    Mediators,
    ModeSpeed,
    Platform,
    PlatformTask,
    Police,
    TrafficPolice,
    VolunteerKind,
    Volunteers,
    VolunteerTravel,
    VolunteerWhere,
    WatchPointKind,
    WatchPoints,
    WorkEnd,
    WorkStart,
)
from gridsim.scenario.studies import (
    FRAUD_CHANNELS,
    MAX_YUAN,
    Behaviour,
    CctvChannel,
    Channels,
    Fraud,
    FraudChannel,
    FraudChannelSpec,
    FraudSweep,
    FraudWarning,
    MissingPerson,
    Money,
    Observers,
    PhoneChannel,
    PlaceType,
    PlatformChannel,
    PostStaff,
    Schools,
    SchoolWindow,
    SearcherKind,
    SubjectRule,
    SweepWidths,
    WatchPointChannel,
)
from gridsim.scenario.types import (
    CHARACTERS,
    MAX_BRIDGES,
    MAX_COUNT,
    MAX_CV,
    MAX_MEAN_S,
    MAX_WEIGHT,
    AtLeastOne,
    Character,
    Count,
    Duration,
    HourOfDay,
    Model,
    NonNegativeFloat,
    PositiveFloat,
    Probability,
    PushedLayer,
    ResponderLayer,
    Seed,
    Shift,
    Speed,
    TravelMode,
    Weight,
)


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
    # unit fleets by type (engine, medic, ...) and their dispatch centre: incident types
    # whose responders include "units" get them (gridsim calls fit writes both)
    fleets: dict[str, UnitFleet] = Field(default_factory=dict)
    unit_dispatch: UnitDispatch | None = None
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
        check_fleets(self.fleets, self.unit_dispatch, self.incidents)
        return self

    @property
    def duration_s(self) -> float:
        """Return the simulated span in seconds."""
        return self.duration_days * SECONDS_PER_DAY


__all__ = [
    "RoutedTravel",
    "check_fleets",
    "UnitFleet",
    "UnitDispatch",
    "Spread",
    "ResponsePlan",
    "Alerting",
    "AtLeastOne",
    "Behaviour",
    "CHARACTERS",
    "CarSpeeds",
    "CctvChannel",
    "Channels",
    "Character",
    "City",
    "Congestion",
    "Costs",
    "Count",
    "Coverage",
    "DEFAULT_ROAM_BLOCK_H",
    "DEFAULT_SHELTER_TYPES",
    "Dispatch",
    "District",
    "Duration",
    "ExplicitNetwork",
    "FRAUD_CHANNELS",
    "Fraud",
    "FraudChannel",
    "FraudChannelSpec",
    "FraudSweep",
    "FraudWarning",
    "GridWorkers",
    "HourOfDay",
    "HourlyFactors",
    "IncidentType",
    "MAX_BRIDGES",
    "MAX_COUNT",
    "MAX_CV",
    "MAX_MEAN_S",
    "MAX_WEIGHT",
    "MAX_YUAN",
    "MediationRoom",
    "Mediators",
    "MissingPerson",
    "ModeSpeed",
    "Model",
    "Money",
    "NonNegativeFloat",
    "OSM_FILE_KEYS",
    "Observers",
    "OsmCity",
    "Output",
    "PhoneChannel",
    "PlaceType",
    "Places",
    "Platform",
    "PlatformChannel",
    "PlatformTask",
    "Police",
    "PositiveFloat",
    "PostStaff",
    "Probability",
    "PushedLayer",
    "REPLAY_FILE_KEYS",
    "Replay",
    "ResponderLayer",
    "Scenario",
    "SchoolWindow",
    "Schools",
    "SearcherKind",
    "Seed",
    "Shift",
    "Speed",
    "SubjectRule",
    "SweepWidths",
    "TrafficPolice",
    "TravelMode",
    "VolunteerKind",
    "VolunteerTravel",
    "VolunteerWhere",
    "Volunteers",
    "WatchPointChannel",
    "WatchPointKind",
    "WatchPoints",
    "Weight",
    "WorkEnd",
    "WorkStart",
    "Zones",
]
