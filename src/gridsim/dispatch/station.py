"""Station-based units (patrol cars, community police, mediators): nearest free unit by car.

Free units wait at their station, so the travel time of any unit of station s to node v
is the precomputed ``node_station_car_s[v, s]``; choosing the nearest free unit is an
argmin over stations that have one. A call that finds no free unit waits in a priority
queue (priority, then call time) until a unit frees or comes on duty.
"""

from __future__ import annotations

import heapq
from collections.abc import Sequence
from functools import partial

import numpy as np
import simpy

from gridsim.fleets import Fleet
from gridsim.incidents import Incidents
from gridsim.log import DispatchLog

NO_STATION = -1


class StationPool:
    """Which units of one fleet are free, by station; lowest id first within a station."""

    def __init__(
        self, fleet: Fleet, kind_code: int, station_count: int, own_station_only: bool
    ) -> None:
        """Start with every unit off duty; ``on_roster`` brings them on."""
        self.fleet = fleet
        self.kind_code = kind_code
        self.own_station_only = own_station_only
        self.free: list[list[int]] = [[] for _ in range(station_count)]  # heaps of unit ids
        # 0 where a station has a free unit, inf where not: added to a travel row, its
        # argmin is the nearest station with a free unit
        self._closed = np.full(station_count, np.inf, dtype=np.float32)
        self._open_stations = 0  # stations with a free unit
        self._unit_station: list[int] = fleet.station.tolist()
        self.on_duty = np.zeros(fleet.size, dtype=bool)
        self.busy = np.zeros(fleet.size, dtype=bool)
        self.duty_unit_s = 0.0
        self._last_roster_s = 0.0

    def nearest(self, home_station: int, travel_s: np.ndarray) -> tuple[int, float]:
        """Return (station, car seconds) of the nearest station with a free unit, or -1."""
        if self.own_station_only:
            if self.free[home_station]:
                return home_station, float(travel_s[home_station])
            return NO_STATION, np.inf
        if self._open_stations == 0:
            return NO_STATION, np.inf
        total = travel_s + self._closed
        station = int(total.argmin())
        best_s = float(total[station])
        if best_s == np.inf:
            return NO_STATION, np.inf
        return station, best_s

    def take(self, station: int) -> int:
        """Return the lowest-id free unit of ``station``, now busy."""
        waiting = self.free[station]
        unit = heapq.heappop(waiting)
        if not waiting:
            self._closed[station] = np.inf
            self._open_stations -= 1
        self.busy[unit] = True
        return unit

    def release(self, unit: int) -> None:
        """Mark ``unit`` no longer busy; it waits at its station if on duty."""
        self.busy[unit] = False
        if self.on_duty[unit]:
            station = self._unit_station[unit]
            waiting = self.free[station]
            if not waiting:
                self._closed[station] = 0.0
                self._open_stations += 1
            heapq.heappush(waiting, unit)

    def claim(self, unit: int) -> None:
        """Mark an idle unit that is not waiting in a station list as busy."""
        self.busy[unit] = True

    def roster(self, now_s: float) -> np.ndarray:
        """Apply the shifts at ``now_s``; return the idle units that just came on duty.

        The returned units are on duty but in no free list yet: the caller either gives
        them a waiting call (``claim``) or lets them wait at their station (``release``).
        """
        self.duty_unit_s += float(self.on_duty.sum()) * (now_s - self._last_roster_s)
        self._last_roster_s = now_s
        duty = self.fleet.on_duty(now_s)
        leaving = np.flatnonzero(self.on_duty & ~duty & ~self.busy)
        arriving = np.flatnonzero(duty & ~self.on_duty & ~self.busy)
        self.on_duty = duty
        for station in np.unique(self.fleet.station[leaving]).tolist():
            keep = [u for u in self.free[station] if duty[u]]
            heapq.heapify(keep)
            self.free[station] = keep
            self._closed[station] = 0.0 if keep else np.inf
        self._open_stations = int(np.isfinite(self._closed).sum())
        return arriving


class StationDispatch:
    """Sends the nearest free unit among station pools; queues the call when none is free."""

    def __init__(
        self,
        env: simpy.Environment,
        pools: Sequence[StationPool],
        node_station: np.ndarray,
        node_station_car_s: np.ndarray,
        incidents: Incidents,
        log: DispatchLog,
        dispatch_delay_s: float,
        return_to_base: bool,
    ) -> None:
        """Serve ``incidents`` with units from ``pools`` (earlier pools win ties)."""
        self._env = env
        self._pools = list(pools)
        self._node_station = node_station
        self._travel = node_station_car_s
        self._incidents = incidents
        self._log = log
        self._delay_s = dispatch_delay_s
        self._return_to_base = return_to_base
        self._queue: list[tuple[int, float, int]] = []  # (priority, call time, incident)

    def respond(self, incident: int, now_s: float) -> None:
        """Send the nearest free unit to ``incident``, or queue it."""
        node = int(self._incidents.node[incident])
        travel = self._travel[node]
        home = int(self._node_station[node])
        best_pool, best_station, best_s = -1, NO_STATION, np.inf
        for index, pool in enumerate(self._pools):
            station, travel_s = pool.nearest(home, travel)
            if travel_s < best_s:
                best_pool, best_station, best_s = index, station, travel_s
        if best_station == NO_STATION:
            heapq.heappush(
                self._queue,
                (int(self._incidents.priority[incident]), now_s, incident),
            )
            return
        pool = self._pools[best_pool]
        self._send(best_pool, pool.take(best_station), incident, now_s + self._delay_s)

    def shift_boundaries_h(self) -> list[float]:
        """Return the hours of day at which a unit's shift starts or ends."""
        hours: set[float] = set()
        for pool in self._pools:
            starts = pool.fleet.shift_start_h
            hours.update(starts.tolist())
            hours.update(((starts + pool.fleet.shift_length_h) % 24.0).tolist())
        return sorted(hours)

    def on_roster(self, now_s: float) -> None:
        """Apply shifts; units coming on duty take waiting calls first."""
        for index, pool in enumerate(self._pools):
            for unit in pool.roster(now_s).tolist():
                if self._queue and not pool.own_station_only:
                    pool.claim(unit)
                    self._serve_queue(index, unit)
                else:
                    pool.release(unit)

    def duty_unit_s(self) -> dict[int, float]:
        """Return the unit-seconds on duty so far, by responder kind code."""
        return {pool.kind_code: pool.duty_unit_s for pool in self._pools}

    def _send(self, pool_index: int, unit: int, incident: int, t_dispatch_s: float) -> None:
        pool = self._pools[pool_index]
        node = int(self._incidents.node[incident])
        travel_s = float(self._travel[node, pool.fleet.station[unit]])
        t_arrive = t_dispatch_s + travel_s
        t_free = t_arrive + float(self._incidents.on_scene_s[incident])
        if self._return_to_base:
            t_free += travel_s
        self._log.add(incident, pool.kind_code, unit, t_dispatch_s, t_arrive, t_free)
        freed = self._env.timeout(t_free - self._env.now)
        freed.callbacks.append(partial(self._on_free, pool_index, unit))

    def _on_free(self, pool_index: int, unit: int, _event: simpy.Event) -> None:
        pool = self._pools[pool_index]
        if self._queue and pool.on_duty[unit] and not pool.own_station_only:
            self._serve_queue(pool_index, unit)
        else:
            pool.release(unit)

    def _serve_queue(self, pool_index: int, unit: int) -> None:
        _, t_call, incident = heapq.heappop(self._queue)
        self._send(pool_index, unit, incident, max(self._env.now, t_call + self._delay_s))
