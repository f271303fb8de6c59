"""The run-level sections: incident types, costs, outputs, coverage and call replay."""

from __future__ import annotations

import string
from pathlib import PurePath
from typing import Annotated, Literal

from pydantic import Field, model_validator

from gridsim.core.units import HOURS_PER_DAY, SECONDS_PER_DAY
from gridsim.scenario.types import (
    Duration,
    Model,
    NonNegativeFloat,
    Probability,
    PushedLayer,
    ResponderLayer,
    Weight,
)


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
    # each call's priority drawn by these shares ("1".."5"; none: every call ``priority``)
    priority_shares: dict[Annotated[str, Field(pattern=r"^[1-5]$")], Weight] | None = None
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
    """How coverage and equity are reported by cell (``gridsim.analysis.coverage``)."""

    # the cells: the scenario's grids (H3 cells or squares on an imported city) or the
    # police stations' areas
    cells: Literal["grids", "stations"] = "grids"
    # the "1-3-5 minute" quick-response circles of the Nanjing police (2022)
    rings_s: Annotated[list[Annotated[float, Field(gt=0.0, le=SECONDS_PER_DAY)]],
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
    # a call's priority: the log's ("call"; the incident type's where the log gives none)
    # or always the incident type's ("type")
    priority_from: Literal["call", "type"] = "call"


