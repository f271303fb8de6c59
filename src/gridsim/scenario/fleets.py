"""The ``[fleets]`` and ``[unit_dispatch]`` sections: unit-based response as a city runs it.

A fleet is one unit type (engine, medic, patrol car, ...) with its units, each based at a
station of the city's stations layer or with no home station, and its own time
distributions: turnout (dispatched -> en route) and time on scene (on scene -> available
again, so a medic's hospital transport keeps that medic busy, not the engine). The
dispatch centre takes a call, waits its handling time (by priority) and sends the units of
a response plan drawn for the call's incident type and priority. A unit with a home station
drives the routed road time from it times a travel factor drawn by priority (emergency
driving differs from non-emergency); a unit with no home station (an ambulance posted
wherever it last was) takes a travel time drawn by priority. ``gridsim calls fit`` fits
every one of these from a CAD log.
"""

from __future__ import annotations

from typing import Annotated, Any

import numpy as np
from pydantic import Field, model_validator

from gridsim.scenario.types import (
    AtLeastOne,
    Count,
    Duration,
    Model,
    Probability,
    Weight,
    check_quantile_table,
)

PriorityKey = Annotated[str, Field(pattern=r"^([1-5]|any)$")]
MAX_FACTOR = 1000.0


class Spread(Model):
    """A dimensionless random factor: quantiles ``values`` at probabilities ``p`` (0 to 1).

    Draws interpolate linearly between the quantiles, as an empirical ``Duration`` does.
    """

    p: Annotated[list[Probability], Field(min_length=2)]
    values: Annotated[list[Annotated[float, Field(ge=0.0, le=MAX_FACTOR)]],
                      Field(min_length=2)]

    @model_validator(mode="after")
    def _check(self) -> Spread:
        if len(self.p) != len(self.values):
            raise ValueError("values: needs as many entries as p")
        check_quantile_table(self.p, self.values, "values")
        return self

    def sample(self, rng: np.random.Generator, n: int) -> np.ndarray:
        """Return ``n`` draws of the factor."""
        return np.interp(rng.random(n), self.p, self.values)


class RoutedTravel(Model):
    """A unit's drive from its station: ``(overhead_s + factor x routed_s) x residual``.

    ``routed_s`` is the free-flow road time from the station (the city's speeds); the
    overhead is what does not grow with the route (leaving the station, the last block,
    finding the door) and the residual (median 1) the spread around the fitted line, as
    in Budge, Ingolfsson and Zerom (2010), "Empirically modeling ambulance travel times".
    """

    overhead_s: Annotated[float, Field(ge=0.0, le=1e5)] = 0.0
    factor: Annotated[float, Field(gt=0.0, le=MAX_FACTOR)] = 1.0
    residual: Spread | None = None  # none: no spread

    def sample(self, routed_s: float, rng: np.random.Generator) -> float:
        """Return one travel time in seconds for a route of ``routed_s`` free-flow seconds."""
        travel_s = self.overhead_s + self.factor * routed_s
        if self.residual is not None:
            travel_s *= float(self.residual.sample(rng, 1)[0])
        return travel_s


class UnitFleet(Model):
    """One unit type: its units by home station, its turnout and its time on scene."""

    # station name (the stations layer's name column) -> units based there
    units_by_station: dict[str, Count] = Field(default_factory=dict)
    units_without_station: Count = 0  # units with no home station: travel is drawn
    turnout_s: Duration  # dispatched -> en route
    on_scene_s: Duration  # on scene -> available again (transport included)
    # travel of a unit with no home station, by call priority ("1".."5" or "any")
    travel_s_by_priority: dict[PriorityKey, Duration] = Field(default_factory=dict)
    # the call's first dispatch -> this unit's (a unit added later, e.g. a medic after an
    # engine's assessment); none: sent with the first
    dispatch_lag_s: Duration | None = None

    @model_validator(mode="after")
    def _check(self) -> UnitFleet:
        if self.units_without_station and not self.travel_s_by_priority:
            raise ValueError("travel_s_by_priority: units without a station need a drawn "
                             "travel time; give it (e.g. from gridsim calls fit)")
        if not self.units_by_station and not self.units_without_station:
            raise ValueError("units_by_station: the fleet has no unit; give units by station "
                             "or units_without_station")
        return self

    @property
    def size(self) -> int:
        """Return the number of units."""
        return sum(self.units_by_station.values()) + self.units_without_station

    def travel_for(self, priority: int) -> Duration | None:
        """Return the drawn travel time of a call of ``priority`` (None: none given).

        A priority not listed takes "any", else the most urgent listed.
        """
        if not self.travel_s_by_priority:
            return None
        found: Duration = _by_priority(self.travel_s_by_priority, priority,
                                       "travel_s_by_priority")
        return found


class ResponsePlan(Model):
    """Which units a call gets: units per fleet, and how often this plan is the one sent."""

    units: Annotated[dict[str, AtLeastOne], Field(min_length=1)]
    share: Weight = 1.0
    priority: Annotated[int, Field(ge=1, le=5)] | None = None  # only calls of this priority


class UnitDispatch(Model):
    """The dispatch centre of unit fleets: handling, travel factors and response plans."""

    # received -> first unit dispatched, by call priority ("1".."5" or "any")
    handling_s_by_priority: Annotated[dict[PriorityKey, Duration], Field(min_length=1)]
    # a stationed unit's drive by call priority (emergency driving differs)
    travel_by_priority: Annotated[dict[PriorityKey, RoutedTravel], Field(min_length=1)]
    # incident type -> the plans it is sent (drawn by share among those of the call's
    # priority; plans without a priority serve calls no other plan names)
    plans: dict[str, Annotated[list[ResponsePlan], Field(min_length=1)]] = Field(
        default_factory=dict)

    def handling_for(self, priority: int) -> Duration:
        """Return the handling time of a call of ``priority``."""
        return _by_priority(self.handling_s_by_priority, priority, "handling_s_by_priority")

    def travel_for(self, priority: int) -> RoutedTravel:
        """Return the drive model of a call of ``priority``."""
        return _by_priority(self.travel_by_priority, priority, "travel_by_priority")

    def plans_for(self, incident_type: str, priority: int) -> list[ResponsePlan]:
        """Return the plans a call of ``incident_type`` and ``priority`` is drawn from."""
        plans = self.plans.get(incident_type, [])
        own = [p for p in plans if p.priority == priority]
        return own or [p for p in plans if p.priority is None] or plans


def _by_priority(table: dict[str, Any], priority: int, key: str) -> Any:
    """Return ``table``'s entry for ``priority``, else "any", else the most urgent given."""
    if str(priority) in table:
        return table[str(priority)]
    if "any" in table:
        return table["any"]
    return table[min(table)]  # the most urgent given: validated non-empty


def check_fleets(fleets: dict[str, UnitFleet], dispatch: UnitDispatch | None,
                 incident_types: dict[str, Any]) -> None:
    """Raise ``ValueError("key.path: ...")`` unless the plans and fleets name each other."""
    uses_units = [name for name, kind in incident_types.items() if "units" in kind.responders]
    if dispatch is None:
        if uses_units:
            raise ValueError(f"unit_dispatch: incident type {uses_units[0]!r} sends units; "
                             "add [unit_dispatch] (gridsim calls fit writes it)")
        return
    for name in uses_units:
        if name not in dispatch.plans:
            raise ValueError(f"unit_dispatch.plans: incident type {name!r} sends units but "
                             "has no response plan; add one")
    for name, plans in dispatch.plans.items():
        if name not in incident_types:
            raise ValueError(f"unit_dispatch.plans.{name}: not an incident type; remove it "
                             f"or add [incidents.{name}]")
        for k, plan in enumerate(plans):
            for fleet in plan.units:
                if fleet not in fleets:
                    raise ValueError(f"unit_dispatch.plans.{name}[{k}].units: unknown fleet "
                                     f"{fleet!r}; fleets: {', '.join(sorted(fleets)) or 'none'}")
            if all(p.share == 0.0 for p in plans):
                raise ValueError(f"unit_dispatch.plans.{name}: every share is 0")
