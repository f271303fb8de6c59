"""Unit fleets dispatched as a CAD centre does: plan, handling, turnout, travel, on scene.

For each call the centre draws a response plan (units per fleet) for its incident type
and priority and a handling time for its priority. Each unit of the plan is the free unit
of its fleet nearest the call by routed road time from its home station (a unit with no
station: any free one), reserved at once and dispatched when handling ends (plus the
fleet's lag for a unit added later). It is en route after its fleet's turnout, on scene
after its travel (the routed free-flow time through the drive model of the call's
priority, or a drawn time for a unit with no station) and available again after its
fleet's time on scene. A call none of a fleet's units can take waits, most urgent and then
oldest first,
for the next unit of that fleet to come free. A freed unit is back at its station.

Every draw comes from a named stream of the run's seed (``units.*``): a call's plan and
handling time are drawn up front, so a staffing change never shifts another call's; each
fleet's turnout, time on scene, lag and drawn travel, and each priority's drive residual,
come from a stream of their own in blocks.
"""

from __future__ import annotations

import heapq
import math
from array import array
from collections.abc import Callable
from functools import partial

import numpy as np
import simpy

from gridsim.core.errors import InputError
from gridsim.core.rng import DrawBuffer, stream
from gridsim.demand.incidents import Incidents
from gridsim.scenario.fleets import Spread, UnitDispatch, UnitFleet
from gridsim.scenario.types import Duration
from gridsim.sim.records import KIND_CODE, DispatchLog
from gridsim.world.build import World

NO_STATION = -1
UNIT_KIND = KIND_CODE["patrol"]  # units are logged as the police fleet's (their mechanics)


class FleetUnits:
    """One fleet's units: home stations, who is free, and the calls waiting for one."""

    def __init__(self, name: str, spec: UnitFleet, station_names: tuple[str, ...],
                 first_unit: int, seed: int) -> None:
        """Place ``spec``'s units at their stations; unit ids start at ``first_unit``."""
        index = {station: k for k, station in enumerate(station_names)}
        home: list[int] = []
        for station_name, count in spec.units_by_station.items():
            if station_name not in index:
                raise InputError(f"fleets.{name}.units_by_station: unknown station "
                                 f"{station_name!r}; stations: {', '.join(station_names[:8])}")
            home += [index[station_name]] * count
        home += [NO_STATION] * spec.units_without_station
        self.name, self.spec, self.first_unit = name, spec, first_unit
        self.home = home
        self.free_at: dict[int, list[int]] = {}  # station -> free units (stack)
        for unit, station in enumerate(home):
            self.free_at.setdefault(station, []).append(unit)
        for units in self.free_at.values():
            units.reverse()  # the lowest id is taken first
        # calls waiting for a unit: (priority, dispatch time, arrival order, incident)
        self.waiting: list[tuple[int, float, int, int]] = []
        self.turnout = _draws(spec.turnout_s, seed, f"units.turnout.{name}")
        self.on_scene = _draws(spec.on_scene_s, seed, f"units.on_scene.{name}")
        lag = spec.dispatch_lag_s
        self.lag = None if lag is None else _draws(lag, seed, f"units.lag.{name}")
        drawn = {p: spec.travel_for(p) for p in range(1, 6)}
        self.travel = {p: _draws(travel, seed, f"units.travel.{name}.{p}")
                       for p, travel in drawn.items() if travel is not None}

    def take_nearest(self, car_s_row: np.ndarray) -> int:
        """Return the free unit nearest by its station's car time (-1: none is free)."""
        best: int | None = None
        best_s = math.inf
        for station, units in self.free_at.items():
            if units and station != NO_STATION and car_s_row[station] < best_s:
                best, best_s = station, float(car_s_row[station])
        if best is None:  # no stationed unit free: any unit without a station
            roaming = self.free_at.get(NO_STATION)
            return roaming.pop() if roaming else -1
        return self.free_at[best].pop()

    def release(self, unit: int) -> None:
        """Put ``unit`` back at its station, free."""
        self.free_at.setdefault(self.home[unit], []).append(unit)


class UnitDispatchLayer:
    """The unit fleets of a scenario, answering the calls whose type sends ``units``."""

    def __init__(self, world: World, incidents: Incidents, env: simpy.Environment,
                 log: DispatchLog, seed: int) -> None:
        """Place the fleets and draw each call's plan and handling time."""
        scenario = world.scenario
        spec = scenario.unit_dispatch
        assert spec is not None
        self._env, self._log, self._incidents = env, log, incidents
        self._car_s = world.node_station_car_s  # [node, station] free-flow car seconds
        self._spec: UnitDispatch = spec
        self._fleets: list[FleetUnits] = []
        self._fleet_index: dict[str, int] = {}
        first = 0
        for name, fleet in scenario.fleets.items():
            self._fleet_index[name] = len(self._fleets)
            self._fleets.append(FleetUnits(name, fleet, world.station_names, first, seed))
            first += fleet.size
        self._plan_units = self._draw_plans(seed)
        self._handling_s = np.zeros(incidents.count)
        rng = stream(seed, "units.handling")
        for priority in range(1, 6):
            rows = np.flatnonzero(incidents.priority == priority)
            if rows.size:
                self._handling_s[rows] = spec.handling_for(priority).sample(rng, rows.size)
        self._drives = {p: spec.travel_for(p) for p in range(1, 6)}
        self._residual = {p: _residual_draws(self._drives[p].residual, seed,
                                             f"units.travel_residual.{p}")
                          for p in range(1, 6)}
        self._seq = 0
        # one entry per unit sent: its dispatch log row, fleet and en-route time
        self.row, self.fleet = array("q"), array("h")
        self.t_en_route_s = array("d")

    def _draw_plans(self, seed: int) -> list[list[tuple[int, int]]]:
        """Return each call's plan as (fleet, units) pairs, drawn by the plans' shares."""
        incidents, spec = self._incidents, self._spec
        u = stream(seed, "units.plan").random(incidents.count)
        plans: list[list[tuple[int, int]]] = []
        for k in range(incidents.count):
            name = incidents.type_names[int(incidents.type_id[k])]
            options = spec.plans_for(name, int(incidents.priority[k]))
            if not options:
                plans.append([])
                continue
            shares = np.cumsum([p.share for p in options])
            pick = min(int(np.searchsorted(shares, u[k] * shares[-1], side="right")),
                       len(options) - 1)
            plans.append([(self._fleet_index[f], n) for f, n in options[pick].units.items()])
        return plans

    def respond(self, incident: int, now_s: float) -> None:
        """Reserve the plan's units for ``incident`` (or queue it) and dispatch them.

        Each unit's fleet lag is drawn, and the lags are shifted so that the earliest is
        zero: the call's first dispatch is when handling ends, later units follow.
        """
        t_first = now_s + self._handling_s[incident]
        sends: list[tuple[int, float]] = []
        for fleet_index, count in self._plan_units[incident]:
            lag = self._fleets[fleet_index].lag
            for _ in range(count):
                sends.append((fleet_index, lag() if lag is not None else 0.0))
        shift = min((lag_s for _, lag_s in sends), default=0.0)
        node = self._incidents.node[incident]
        for fleet_index, lag_s in sends:
            fleet = self._fleets[fleet_index]
            t_dispatch = t_first + lag_s - shift
            unit = fleet.take_nearest(self._car_s[node])
            if unit < 0:
                heapq.heappush(fleet.waiting, (int(self._incidents.priority[incident]),
                                               t_dispatch, self._seq, incident))
                self._seq += 1
                continue
            self._send(fleet_index, unit, incident, t_dispatch)

    def _send(self, fleet_index: int, unit: int, incident: int, t_dispatch_s: float) -> None:
        """Send ``unit`` from its station to ``incident`` at ``t_dispatch_s`` and log it."""
        fleet = self._fleets[fleet_index]
        priority = int(self._incidents.priority[incident])
        station = fleet.home[unit]
        if station == NO_STATION:
            travel_s = fleet.travel[priority]()  # validated: units without a station have it
        else:
            routed_s = float(self._car_s[self._incidents.node[incident], station])
            drive = self._drives[priority]
            travel_s = (drive.overhead_s + drive.factor * routed_s) * self._residual[priority]()
        t_en_route = t_dispatch_s + fleet.turnout()
        t_arrive = t_en_route + travel_s
        t_free = t_arrive + fleet.on_scene()
        self.row.append(len(self._log))
        self.fleet.append(fleet_index)
        self.t_en_route_s.append(t_en_route)
        self._log.add(incident, UNIT_KIND, fleet.first_unit + unit, t_dispatch_s, t_arrive,
                      t_free)
        freed = self._env.timeout(max(t_free - self._env.now, 0.0))
        freed.callbacks.append(partial(self._on_free, fleet_index, unit))

    def _on_free(self, fleet_index: int, unit: int, _event: simpy.Event) -> None:
        fleet = self._fleets[fleet_index]
        if fleet.waiting:
            _, t_dispatch, _, incident = heapq.heappop(fleet.waiting)
            self._send(fleet_index, unit, incident, max(self._env.now, t_dispatch))
            return
        fleet.release(unit)

    @property
    def fleet_names(self) -> tuple[str, ...]:
        """Return the fleets in index order."""
        return tuple(f.name for f in self._fleets)

    def rows(self) -> dict[str, np.ndarray]:
        """Return the units' rows (dispatch log row, fleet index, en-route time) and fleets."""
        return {"fleet_names": np.array(self.fleet_names, dtype=object),
                "fleet_units": np.array([f.spec.size for f in self._fleets], dtype=np.int64),
                "row": np.frombuffer(self.row, dtype=np.int64).copy() if self.row
                else np.zeros(0, dtype=np.int64),
                "fleet": np.frombuffer(self.fleet, dtype=np.int16).copy() if self.fleet
                else np.zeros(0, dtype=np.int16),
                "t_en_route_s": np.frombuffer(self.t_en_route_s, dtype=np.float64).copy()
                if self.t_en_route_s else np.zeros(0)}


def _draws(duration: Duration, seed: int, name: str) -> Callable[[], float]:
    """Return a function giving one draw of ``duration`` at a time, from stream ``name``."""
    return DrawBuffer(partial(duration.sample, stream(seed, name)), block=1024).take_one


def _residual_draws(spread: Spread | None, seed: int, name: str) -> Callable[[], float]:
    """Return a function giving one draw of the drive's residual (1.0 without one)."""
    if spread is None:
        return lambda: 1.0
    return DrawBuffer(partial(spread.sample, stream(seed, name)), block=1024).take_one
