"""Mediation as it works: street mediators settle on scene, the rest go to the station's room.

(a) A dispute (``dispatch.mediation_types``) gets a street mediator from the station pool
(``gridsim.sim.dispatch.station``). When the mediator's dispatch is logged, the case is
settled on scene with ``mediators.settle_on_scene_prob``; else (b) the mediator brings it
back to the mediation room of the incident's station area, where it arrives when the
mediator is free (on scene, then the drive back).

Each station's room is a first-come, first-served queue served by its resident mediators
(full-time and part-time, ``[mediation_room]``) on their rosters: a mediator on duty and
free takes the next case, for a service time drawn from ``service_s``, and finishes it
even past the end of the shift; the case then ends settled, referred or escalated.
Cases are simpy events (an arrival, an end of service) and the rosters one simpy
process. After the run the room works on until its queue is empty (at most
``MAX_DRAIN_DAYS``), so late cases get their waits; cases still waiting then stay open.
"""

from __future__ import annotations

import heapq
import math
from collections import deque
from collections.abc import Generator
from functools import partial
from typing import Any

import numpy as np
import simpy

from gridsim.core.rng import DrawBuffer, stream
from gridsim.core.units import SECONDS_PER_DAY, SECONDS_PER_HOUR
from gridsim.demand.incidents import Incidents
from gridsim.scenario.schema import MediationRoom
from gridsim.sim.records import KIND_CODE, DispatchLog
from gridsim.world.fleets import Fleet

PATH_NONE = -1  # no street mediator reached the incident (or not a mediation type)
PATH_ON_SCENE = 0  # settled on scene by the street mediator
PATH_ROOM = 1  # brought back to the station's mediation room
OUTCOMES = ("settled", "referred", "escalated")  # outcome codes 0, 1, 2 of a room case
OPEN = -1  # a room case never started (no resident mediator before the drain ended)
MAX_DRAIN_DAYS = 30.0
class MediationRooms:
    """Every station's mediation room: its case queue, its resident mediators, their rosters."""

    def __init__(
        self, env: simpy.Environment, cfg: MediationRoom, full_time: Fleet, part_time: Fleet,
        station_count: int, seed: int, window_s: tuple[float, float],
    ) -> None:
        """Start the rosters; ``window_s`` (warm-up end, run end) is what the tallies cover."""
        self._env = env
        self._fleets = (full_time, part_time)
        station = np.concatenate([full_time.station, part_time.station]).astype(np.int64)
        self._mediator_station: list[int] = station.tolist()
        self._staffed: list[bool] = (np.bincount(station, minlength=station_count) > 0).tolist()
        self._on_duty = np.zeros(station.shape[0], dtype=bool)
        self._busy = [False] * station.shape[0]
        self._free: list[list[int]] = [[] for _ in range(station_count)]  # heaps of ids
        self._queue: list[deque[int]] = [deque() for _ in range(station_count)]
        hours: set[float] = set()
        for fleet in self._fleets:
            hours.update(fleet.shift_start_h.tolist())
            hours.update(((fleet.shift_start_h + fleet.shift_length_h) % 24.0).tolist())
        self._boundaries_h = sorted(hours)
        service_rng = stream(seed, "dispatch.mediation.room.service")
        self._service = DrawBuffer(lambda n: cfg.service_s.sample(service_rng, n))
        self._outcome_draw = DrawBuffer(stream(seed, "dispatch.mediation.room.outcome").random)
        self._settle_below = cfg.settle_prob
        self._refer_below = cfg.settle_prob + cfg.refer_prob
        # the case table, one entry per case in order of arrival at the room
        self._incident: list[int] = []
        self._station: list[int] = []
        self._mediator: list[int] = []
        self._t_arrive: list[float] = []
        self._t_start: list[float] = []
        self._t_end: list[float] = []
        self._outcome: list[int] = []
        # state counts, and their integrals over the window (case- or mediator-seconds)
        self._pending = 0  # cases on their way to a room
        self._in_system = 0
        self._queued = 0
        self._queued_staffed = 0  # waiting at a station that has resident mediators
        self._busy_count = 0
        self._on_duty_count = 0
        self._window_start_s, self._end_s = window_s
        self._last_s = 0.0
        self._area = [0.0, 0.0, 0.0, 0.0]  # in system, in queue, busy, on duty
        self._rostering = True
        self._apply_roster(env.now)
        env.process(self._roster_from(env.now))

    def expect(self, incident: int, station: int, t_arrive_s: float) -> None:
        """Schedule a case of ``incident`` to reach ``station``'s room at ``t_arrive_s``."""
        self._pending += 1
        event = self._env.timeout(max(t_arrive_s - self._env.now, 0.0))
        event.callbacks.append(partial(self._arrive, incident, station, t_arrive_s))

    def cases(self) -> dict[str, np.ndarray]:
        """Return the case table: one row per room case, as numpy columns."""
        return {
            "incident": np.array(self._incident, dtype=np.int32),
            "station": np.array(self._station, dtype=np.int32),
            "mediator": np.array(self._mediator, dtype=np.int32),
            "t_arrive_room_s": np.array(self._t_arrive, dtype=np.float64),
            "t_start_s": np.array(self._t_start, dtype=np.float64),
            "t_end_s": np.array(self._t_end, dtype=np.float64),
            "outcome": np.array(self._outcome, dtype=np.int8),
        }

    @staticmethod
    def no_cases() -> dict[str, np.ndarray]:
        """Return an empty case table with the columns of ``cases``."""
        ints = np.zeros(0, dtype=np.int32)
        times = np.zeros(0, dtype=np.float64)
        return {"incident": ints, "station": ints, "mediator": ints, "t_arrive_room_s": times,
                "t_start_s": times, "t_end_s": times, "outcome": np.zeros(0, dtype=np.int8)}

    def window(self) -> dict[str, float]:
        """Return the window's span and the time integrals of the room's state over it.

        ``in_system_s`` / ``window_s`` is the time-average number of cases in the rooms
        (waiting or in service), ``in_queue_s`` of those waiting; ``busy_s`` and
        ``on_duty_s`` are resident-mediator seconds busy and on duty.
        """
        system, queue, busy, duty = self._area
        return {"window_s": self._end_s - self._window_start_s, "in_system_s": system,
                "in_queue_s": queue, "busy_s": busy, "on_duty_s": duty}

    def _advance(self, t_s: float) -> None:
        """Add the state since the last change, clipped to the window, to the integrals."""
        lo = max(self._last_s, self._window_start_s)
        hi = min(t_s, self._end_s)
        if hi > lo:
            dt = hi - lo
            area = self._area
            area[0] += self._in_system * dt
            area[1] += self._queued * dt
            area[2] += self._busy_count * dt
            area[3] += self._on_duty_count * dt
        self._last_s = max(self._last_s, t_s)

    def _arrive(self, incident: int, station: int, t_s: float, _event: simpy.Event) -> None:
        """A case reaches its room: a free mediator on duty takes it, else it queues."""
        self._pending -= 1
        self._advance(t_s)
        if not self._rostering:  # the rosters stopped after the run: bring them back
            self._rostering = True
            self._apply_roster(t_s)
            self._env.process(self._roster_from(t_s))
        case = len(self._incident)
        self._incident.append(incident)
        self._station.append(station)
        self._mediator.append(-1)
        self._t_arrive.append(t_s)
        self._t_start.append(math.nan)
        self._t_end.append(math.nan)
        self._outcome.append(OPEN)
        self._in_system += 1
        free = self._free[station]
        if free:
            self._start(case, heapq.heappop(free), t_s)
        else:
            self._queue[station].append(case)
            self._queued += 1
            if self._staffed[station]:
                self._queued_staffed += 1

    def _start(self, case: int, mediator: int, t_s: float) -> None:
        """Mediator ``mediator`` takes ``case`` at ``t_s``; its end is scheduled."""
        self._advance(t_s)
        self._busy[mediator] = True
        self._busy_count += 1
        self._mediator[case] = mediator
        self._t_start[case] = t_s
        t_end = t_s + self._service.take_one()
        event = self._env.timeout(max(t_end - self._env.now, 0.0))
        event.callbacks.append(partial(self._finish, case, mediator, t_end))

    def _finish(self, case: int, mediator: int, t_s: float, _event: simpy.Event) -> None:
        """A case ends with its outcome; the mediator takes the next one if still on duty."""
        self._advance(t_s)
        u = self._outcome_draw.take_one()
        self._outcome[case] = 0 if u < self._settle_below else 1 if u < self._refer_below else 2
        self._t_end[case] = t_s
        self._in_system -= 1
        self._busy_count -= 1
        self._busy[mediator] = False
        if self._on_duty[mediator]:
            self._take_next(mediator, t_s)

    def _take_next(self, mediator: int, t_s: float) -> None:
        """An idle mediator on duty takes the oldest waiting case, or waits for one."""
        station = self._mediator_station[mediator]
        queue = self._queue[station]
        if queue:
            self._queued -= 1
            self._queued_staffed -= 1
            self._start(queue.popleft(), mediator, t_s)
        else:
            heapq.heappush(self._free[station], mediator)

    def _apply_roster(self, t_s: float) -> None:
        """Bring mediators on or off duty at ``t_s``; those coming on take waiting cases."""
        self._advance(t_s)
        duty = np.concatenate([fleet.on_duty(t_s) for fleet in self._fleets])
        changed = np.flatnonzero(duty != self._on_duty).tolist()
        self._on_duty = duty
        self._on_duty_count = int(duty.sum())
        for mediator in changed:
            if self._busy[mediator]:
                continue  # decides when its case ends
            if duty[mediator]:
                self._take_next(mediator, t_s)
            else:
                free = self._free[self._mediator_station[mediator]]
                free.remove(mediator)
                heapq.heapify(free)

    def _idle(self) -> bool:
        """Return whether no case is on its way, in service, or waiting for a mediator."""
        return self._pending == 0 and self._busy_count == 0 and self._queued_staffed == 0

    def _roster_from(self, t0_s: float) -> Generator[simpy.Event, None, None]:
        """Apply every shift boundary after ``t0_s``; after the run, stop once idle."""
        for t in self._boundary_times(t0_s):
            if t > self._env.now:
                yield self._env.timeout(t - self._env.now)
            self._apply_roster(t)
            if t >= self._end_s and self._idle():
                break
        self._rostering = False

    def _boundary_times(self, t0_s: float) -> Generator[float, None, None]:
        """Yield the shift boundaries and the run's end after ``t0_s``, up to the drain limit."""
        last_s = self._end_s + MAX_DRAIN_DAYS * SECONDS_PER_DAY
        day = int(t0_s // SECONDS_PER_DAY)
        while day * SECONDS_PER_DAY <= last_s:
            day_s = day * SECONDS_PER_DAY
            times = {day_s + h * SECONDS_PER_HOUR for h in self._boundaries_h}
            if day_s <= self._end_s < day_s + SECONDS_PER_DAY:
                times.add(self._end_s)
            for t in sorted(times):
                if t0_s < t <= last_s:
                    yield t
            day += 1


class StreetCases:
    """The street mediators' dispatch log, watched: each case settles on scene or goes to a room.

    Stands in for the ``DispatchLog`` of the mediators' station dispatch: every row goes
    to the real log, and the first mediator row of an incident decides its path.
    """

    def __init__(
        self, log: DispatchLog, rooms: MediationRooms, incidents: Incidents,
        node_station: np.ndarray, settle_on_scene_prob: float, rng: np.random.Generator,
    ) -> None:
        """Watch rows bound for ``log``; rooms are those of each incident's station area."""
        self._log = log
        self._rooms = rooms
        self._incident_station = node_station[incidents.node]
        self._settle_prob = settle_on_scene_prob
        self._settle = DrawBuffer(rng.random)
        self._kind = KIND_CODE["mediator"]
        self.path = np.full(incidents.count, PATH_NONE, dtype=np.int8)

    def add(
        self, incident: int, kind: int, responder: int,
        t_dispatch_s: float, t_arrive_s: float, t_free_s: float,
    ) -> None:
        """Log the row; a street mediator's first case of an incident settles or goes back."""
        self._log.add(incident, kind, responder, t_dispatch_s, t_arrive_s, t_free_s)
        if kind != self._kind or self.path[incident] != PATH_NONE or not math.isfinite(
                t_arrive_s):
            return
        if self._settle.take_one() < self._settle_prob:
            self.path[incident] = PATH_ON_SCENE
            return
        self.path[incident] = PATH_ROOM
        self._rooms.expect(incident, int(self._incident_station[incident]), t_free_s)

    def __getattr__(self, name: str) -> Any:
        """Hand everything else (queries of the log) to the real log."""
        return getattr(self._log, name)
