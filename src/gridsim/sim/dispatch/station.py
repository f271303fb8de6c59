"""Station-based units (patrol cars, community police, mediators), as a 110 centre sends them.

Free units wait at their station, so the free-flow travel time of any unit of station s
to node v is the precomputed ``node_station_car_s[v, s]``. A call first gets the free
units of its own station area (jurisdiction first), else the nearest free unit anywhere
(an argmin over stations that have one). An incident type may need several units
(backup); a request that finds no free unit waits, by priority then call time, at its
station: a freed unit serves its own station's waiting calls first, then the oldest most
urgent call anywhere. Actual trips take the free-flow time times the congestion factor
of the hour and the destination's district character, times a per-trip spread.

A pool may be limited to a quick-response ring (street posts): it sends units only to
calls within ``ring_s`` car seconds of its stations or in their own areas, and its freed
units serve only their own area's waiting calls.

Preemption (``StationRules.preempt_priority_max`` > 0): a call of that priority or more
urgent that finds no free unit takes the nearest unit that is driving back from a call,
or busy on a call of priority ``preempt_victim_min`` or less urgent. The unit is taken
where its call is (en route it is counted from its destination, an approximation), by
road: exactly within a few minutes' drive, else by the best route through a station (an
upper bound); the call it leaves is queued again with its remaining on-scene time, and its
dispatch row ends now (never arrived, if it had not).
"""

from __future__ import annotations

import heapq
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import partial
from typing import Any

import numpy as np
import simpy

from gridsim.core.rng import DrawBuffer, stream
from gridsim.core.units import SECONDS_PER_HOUR
from gridsim.demand.incidents import Incidents
from gridsim.sim.records import DispatchLog
from gridsim.world.fleets import Fleet
from gridsim.world.patrol import NO_POINT, PatrolPoints

NO_STATION = -1


class StationPool:
    """Which units of one fleet are free, by station; lowest id first within a station."""

    def __init__(
        self, fleet: Fleet, kind_code: int, station_count: int, own_station_only: bool,
        points: PatrolPoints | None = None, fixed_points: bool = False,
        seed: int | None = None, stream_name: str = "", ring_s: float = math.inf,
    ) -> None:
        """Start with every unit off duty; ``on_roster`` brings them on.

        With ``points`` (K > 0), an idle unit waits at a patrol point of its station: a
        fixed one per unit (``fixed_points``: community police), else one drawn each time
        it becomes free from the unit's own stream (``stream_name`` + unit id under
        ``seed``), so adding a unit never changes another's draws; without, it waits at
        the station. A finite ``ring_s`` limits the pool to its quick-response rings.
        """
        self.fleet = fleet
        self.ring_s = ring_s
        self.points = points if points is not None and points.per_station > 0 else None
        self._per_station = self.points.per_station if self.points is not None else 0
        self._fixed_points = fixed_points
        self._seed = seed
        self._stream_name = stream_name
        self._point_draws: list[DrawBuffer | None] = [None] * fleet.size  # made on first use
        self.position = [NO_POINT] * fleet.size  # patrol point of each idle unit
        self.kind_code = kind_code
        self.own_station_only = own_station_only
        # whether freed units take only their own area's waiting calls
        self.serves_own_area_only = own_station_only or ring_s < math.inf
        self.free: list[list[int]] = [[] for _ in range(station_count)]  # heaps of unit ids
        # 0 where a station has a free unit, inf where not: added to a travel row, its
        # argmin is the nearest station with a free unit
        self._closed = np.full(station_count, np.inf, dtype=np.float32)
        self._open_stations = 0  # stations with a free unit
        self.unit_station: list[int] = fleet.station.tolist()  # of each unit
        self.on_duty = np.zeros(fleet.size, dtype=bool)
        self.busy = np.zeros(fleet.size, dtype=bool)
        # the same arrays as memoryviews: one unit at a time, far cheaper than numpy's
        self._closed_of = _writable_view(self._closed)
        self.on_duty_of = self.on_duty.data
        self._busy_of = self.busy.data
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
        if best_s == np.inf or best_s > self.ring_s:
            return NO_STATION, np.inf
        return station, best_s

    def take(self, station: int, unit: int | None = None) -> int:
        """Return ``unit`` (default: the lowest-id free unit) of ``station``, now busy."""
        waiting = self.free[station]
        if unit is None or unit == waiting[0]:
            unit = heapq.heappop(waiting)
        else:
            waiting.remove(unit)
            heapq.heapify(waiting)
        if not waiting:
            self._closed_of[station] = math.inf
            self._open_stations -= 1
        self._busy_of[unit] = True
        return unit

    def release(self, unit: int) -> None:
        """Mark ``unit`` no longer busy; it waits at its station if on duty."""
        self._busy_of[unit] = False
        if self.on_duty_of[unit]:
            self._wait(unit)

    def release_arrived(self, units: list[int]) -> None:
        """Let ``units``, idle and just come on duty, wait: ``release`` of each, in order."""
        busy, wait = self._busy_of, self._wait
        for unit in units:
            busy[unit] = False
            wait(unit)

    def _wait(self, unit: int) -> None:
        """Put an on-duty idle unit at its patrol point and in its station's free list."""
        station = self.unit_station[unit]
        self._place(unit, station)
        waiting = self.free[station]
        if not waiting:
            self._closed_of[station] = 0.0
            self._open_stations += 1
        heapq.heappush(waiting, unit)

    def _place(self, unit: int, station: int) -> None:
        """Put an idle unit at its patrol point (fixed, or drawn afresh)."""
        if self.points is None:
            return
        k = self._per_station
        if self._fixed_points or self._seed is None:
            self.position[unit] = station * k + unit % k
            return
        draws = self._point_draws[unit]
        if draws is None:
            rng = stream(self._seed, f"{self._stream_name}.{unit}")
            draws = self._point_draws[unit] = DrawBuffer(rng.random, block=64)
        self.position[unit] = station * k + int(draws.take_one() * k)

    def travel_s(self, unit: int, node: int, car_s: memoryview) -> float:
        """Return car seconds from where idle ``unit`` waits to ``node`` (free flow).

        ``car_s`` is the node x station car-time matrix as a 2-D memoryview.
        """
        station = self.unit_station[unit]
        point = self.position[unit]
        if self.points is None or point == NO_POINT:
            return car_s[node, station]
        return self.points.travel_s(point, node, car_s[node, station])

    def nearest_free_unit(self, station: int, node: int, station_s: float) -> int:
        """Return the free unit of ``station`` nearest to ``node`` (ties: lowest id).

        ``station_s`` is the car time from the station to the node.
        """
        waiting = self.free[station]
        if self.points is None or len(waiting) == 1:
            return waiting[0]
        # units at the same point are equally near: each point is looked up once
        point_travel_s, position = self.points.travel_s, self.position
        point_s: dict[int, float] = {}
        best_unit, best_s = -1, math.inf
        for unit in waiting:
            point = position[unit]
            unit_s = point_s.get(point)
            if unit_s is None:
                unit_s = point_s[point] = (station_s if point == NO_POINT else
                                           point_travel_s(point, node, station_s))
            if best_unit < 0 or unit_s < best_s or (unit_s == best_s and unit < best_unit):
                best_unit, best_s = unit, unit_s
        return best_unit

    def claim(self, unit: int) -> None:
        """Mark an idle unit that is not waiting in a station list as busy."""
        self._busy_of[unit] = True

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
        self.on_duty_of = duty.data
        for station in np.unique(self.fleet.station[leaving]).tolist():
            keep = [u for u in self.free[station] if duty[u]]
            heapq.heapify(keep)
            self.free[station] = keep
            self._closed[station] = 0.0 if keep else np.inf
        self._open_stations = int(np.isfinite(self._closed).sum())
        return arriving


@dataclass(frozen=True)
class StationRules:
    """How a 110 centre dispatches station units: the scenario's rules as arrays."""

    delay_by_priority_s: np.ndarray  # (6,) handling delay, index = priority (0 unused)
    units_by_type: np.ndarray  # (types,) units sent per incident type
    jurisdiction_first: bool  # own station area's free units before nearer ones elsewhere
    # (stations, k) the k stations nearest to each by car: a freed unit serves their
    # waiting calls after its own area's and before any other
    neighbours: np.ndarray
    return_to_base: bool
    node_character: np.ndarray  # (N,) int8 district character of each node
    congestion: np.ndarray  # (24, characters) travel-time factor by hour of day
    # per incident (so staffing changes never shift another incident's draws): the
    # travel-time spread factor (mean 1) of the trips to it, and a uniform that decides
    # a stand-down against the type's chance that a local responder resolves it
    trip_factor: np.ndarray
    stand_down_u: np.ndarray
    stand_down_prob_by_type: np.ndarray  # (types,)
    # preemption: calls of priority <= preempt_priority_max (0: none) may take a unit
    # busy on a call of priority >= preempt_victim_min, or driving back; car_s_near(node,
    # sources, max_s) gives free-flow car seconds from each source to node, inf beyond
    # max_s (gridsim.city.nearby.NearbyCarTimes.within)
    preempt_priority_max: int = 0
    preempt_victim_min: int = 6
    preempt_search_s: float = math.inf
    car_s_near: Callable[[int, np.ndarray, float], np.ndarray] | None = None


class _Jobs:
    """What each unit of one pool is doing, as arrays: the basis of preemption."""

    def __init__(self, units: int) -> None:
        """Start with every unit on no job."""
        self.incident = np.full(units, -1, dtype=np.int64)  # -1: none
        self.row = np.zeros(units, dtype=np.int64)  # its dispatch row
        self.t_arrive_s = np.zeros(units)  # inf: stood down
        self.t_scene_end_s = np.zeros(units)  # when it leaves the scene (then drives back)
        # from when a priority call may take the unit: never (inf) without a job or when
        # stood down, always (-inf) on a call not urgent enough to keep it, else once it
        # drives back from the scene
        self.takeable_from_s = np.full(units, np.inf)
        # memoryviews of the same arrays, to set one unit's job at a time cheaply
        self.incident_of, self.row_of = self.incident.data, self.row.data
        self.t_arrive_s_of = _writable_view(self.t_arrive_s)
        self.t_scene_end_s_of = _writable_view(self.t_scene_end_s)
        self.takeable_from_s_of = _writable_view(self.takeable_from_s)

    def end(self, unit: int) -> None:
        """Mark ``unit`` on no job."""
        self.incident_of[unit] = -1
        self.takeable_from_s_of[unit] = math.inf


class StationDispatch:
    """Sends free units among station pools by the rules; queues requests none can take."""

    def __init__(
        self,
        env: simpy.Environment,
        pools: Sequence[StationPool],
        node_station: np.ndarray,
        node_station_car_s: np.ndarray,
        incidents: Incidents,
        log: DispatchLog,
        rules: StationRules,
    ) -> None:
        """Serve ``incidents`` with units from ``pools`` (earlier pools win ties)."""
        self._env = env
        self._pools = list(pools)
        self._node_station = node_station
        self._travel = node_station_car_s
        self._car_s = np.ascontiguousarray(node_station_car_s).data  # [node, station]
        self._home_of = _view(node_station, np.int64)  # each node's station area
        self._jurisdiction_first = rules.jurisdiction_first
        self._free_by_pool = [pool.free for pool in self._pools]  # station -> free units
        self._neighbours: list[list[int]] = rules.neighbours.tolist()
        self._first_local_s = log.first_local_s.get  # (incident, default) -> first arrival
        self._return_to_base = rules.return_to_base
        self._incidents = incidents
        self._log = log
        self._rules = rules
        self._units = rules.units_by_type[incidents.type_id].tolist()  # small ints: shared
        # per-incident and per-node columns read one value at a time on the hot path:
        # memoryviews give Python scalars at a fraction of numpy's indexing cost, and
        # take 8 bytes an incident where a list of floats takes 32
        self._delay_s = _view(rules.delay_by_priority_s[incidents.priority], np.float64)
        self._node_of = _view(incidents.node, np.int32)
        self._on_scene_of = _view(incidents.on_scene_s, np.float64)
        self._trip_factor_of = _view(rules.trip_factor, np.float64)
        self._stand_down_u_of = _view(rules.stand_down_u, np.float64)
        self._stand_down_prob_of = _view(
            rules.stand_down_prob_by_type[incidents.type_id], np.float64)
        self._character_of = _view(rules.node_character, np.int8)
        self._congestion = rules.congestion.astype(np.float64).tolist()  # [hour][character]
        # waiting requests: (priority, call time, request) at the incident's station and
        # city-wide; a request served through one heap is skipped (lazily) in the other
        self._waiting_at: list[list[tuple[int, float, int]]] = [
            [] for _ in range(node_station_car_s.shape[1])
        ]
        self._waiting: list[tuple[int, float, int]] = []
        self._request_incident: list[int] = []
        self._served: list[bool] = []
        self._request_on_scene_s: dict[int, float] = {}  # a preempted call's remaining time
        self.saved_unit_s = 0.0  # unit-seconds saved by stand-downs
        self._preempting = rules.preempt_priority_max > 0
        self._may_preempt = ((incidents.priority <= rules.preempt_priority_max).tolist()
                             if self._preempting else [False] * incidents.count)
        self._victim = ((incidents.priority >= rules.preempt_victim_min).tolist()
                        if self._preempting else [])
        self._lending = [index for index, pool in enumerate(self._pools)
                         if not pool.serves_own_area_only]  # pools preemption takes from
        # per pool: the job of each busy unit (kept only when preemption is on), and a
        # generation per unit that makes the free-event of a preempted job a no-op
        self._jobs = [_Jobs(pool.fleet.size if self._preempting else 0)
                      for pool in self._pools]
        self._generation: list[list[int]] = [[0] * pool.fleet.size for pool in self._pools]
        self.preemptions = 0  # units taken from a call or their drive back
        self.requeued = 0  # calls left by a preempted unit and queued again

    def respond(self, incident: int, now_s: float) -> None:
        """Send the units ``incident`` needs, each the best free one by the rules, or queue."""
        node = self._node_of[incident]
        home = self._home_of[node]
        for _ in range(self._units[incident]):
            pool_index, station = self._best_free(home, node)
            if station == NO_STATION:
                if not (self._may_preempt[incident] and self._preempt(incident, now_s)):
                    self._enqueue(incident, home, now_s)
                continue
            pool = self._pools[pool_index]
            unit = pool.take(station, pool.nearest_free_unit(station, node,
                                                             self._car_s[node, station]))
            self._send(pool_index, unit, incident, now_s + self._delay_s[incident])

    def _best_free(self, home: int, node: int) -> tuple[int, int]:
        """Return (pool, station) of the unit to send: own area first if the rules say so."""
        if self._jurisdiction_first:
            for index, free in enumerate(self._free_by_pool):
                if free[home]:
                    return index, home
        travel = self._travel[node]
        best_pool, best_station, best_s = -1, NO_STATION, np.inf
        for index, pool in enumerate(self._pools):
            station, travel_s = pool.nearest(home, travel)
            if travel_s < best_s:
                best_pool, best_station, best_s = index, station, travel_s
        return best_pool, best_station

    def _preempt(self, incident: int, now_s: float) -> bool:
        """Send ``incident`` the nearest unit it may take from another job; False if none."""
        priority = self._incidents.priority
        pools, units, on_incident = [], [], []
        for pool_index in self._lending:
            jobs = self._jobs[pool_index]
            # takeable now (driving back from its call, or on one not urgent enough to
            # keep it; not stood down) and not on this call
            found = np.flatnonzero((jobs.takeable_from_s <= now_s)
                                   & (jobs.incident != incident))
            if found.shape[0]:
                pools.append(np.full(found.shape[0], pool_index))
                units.append(found)
                on_incident.append(jobs.incident[found])
        if not units:
            return False
        if len(units) == 1:
            pool_of, unit_of, job_incident = pools[0], units[0], on_incident[0]
        else:
            pool_of, unit_of = np.concatenate(pools), np.concatenate(units)
            job_incident = np.concatenate(on_incident)
        away_s = self._car_s_to(int(self._incidents.node[incident]),
                                self._incidents.node[job_incident])
        # the nearest; among equals, the least urgent job, then the lowest pool and unit
        nearest_s = away_s.min()
        if nearest_s == math.inf:
            return False
        tied = np.flatnonzero(away_s == nearest_s)
        best = int(tied[0]) if tied.shape[0] == 1 else int(tied[np.lexsort((
            unit_of[tied], pool_of[tied], -priority[job_incident[tied]].astype(np.int64)))[0]])
        pool_index, unit = int(pool_of[best]), int(unit_of[best])
        self._leave_job(pool_index, unit, now_s)
        self.preemptions += 1
        self._send(pool_index, unit, incident, now_s + self._delay_s[incident],
                   free_flow_s=float(away_s[best]))
        return True

    def _car_s_to(self, node: int, sources: np.ndarray) -> np.ndarray:
        """Return free-flow car seconds from each of ``sources`` to ``node`` (inf: too far).

        Exact within ``car_s_near``'s search (a bounded Dijkstra from ``node``); beyond it,
        the best route through a station, an upper bound; inf beyond ``preempt_search_s``.
        """
        assert self._rules.car_s_near is not None
        return self._rules.car_s_near(node, sources, self._rules.preempt_search_s)

    def _leave_job(self, pool_index: int, unit: int, now_s: float) -> None:
        """End ``unit``'s job now; queue its call again with the on-scene time left."""
        self._generation[pool_index][unit] += 1  # its free-event is now stale
        jobs = self._jobs[pool_index]
        incident = int(jobs.incident[unit])
        t_arrive_s = float(jobs.t_arrive_s[unit])
        t_scene_end_s = float(jobs.t_scene_end_s[unit])
        jobs.end(unit)
        arrived = t_arrive_s <= now_s
        self._log.amend(int(jobs.row[unit]), t_arrive_s if arrived else math.inf, now_s)
        if now_s >= t_scene_end_s:
            return  # it was driving back: nothing left to do at the call
        # on scene: what is left of it; en route: all of it
        left_s = t_scene_end_s - (now_s if arrived else t_arrive_s)
        self.requeued += 1
        self._enqueue(incident, int(self._node_station[self._incidents.node[incident]]),
                      float(self._incidents.t_call_s[incident]), on_scene_s=left_s)

    def _enqueue(self, incident: int, station: int, t_call_s: float,
                 on_scene_s: float | None = None) -> None:
        request = len(self._request_incident)
        self._request_incident.append(incident)
        self._served.append(False)
        if on_scene_s is not None:
            self._request_on_scene_s[request] = on_scene_s
        entry = (int(self._incidents.priority[incident]), t_call_s, request)
        heapq.heappush(self._waiting_at[station], entry)
        heapq.heappush(self._waiting, entry)

    def _next_request(self, station: int, own_station_only: bool) -> int:
        """Return the waiting request a unit of ``station`` should take next, or -1."""
        if not self._live_head(self._waiting):  # every request is in it: none waits
            return -1
        own_first = own_station_only or self._jurisdiction_first
        heaps = [self._waiting_at[station]] if own_first else []
        if not own_station_only:
            if self._jurisdiction_first:  # then the neighbours' most urgent, oldest
                first: list[tuple[int, float, int]] = []  # (the first such, on a tie)
                for n in self._neighbours[station]:
                    heap = self._live_head(self._waiting_at[n])
                    if heap and (not first or heap[0] < first[0]):
                        first = heap
                if first:
                    heaps.append(first)
            heaps.append(self._waiting)
        for heap in heaps:
            if self._live_head(heap):
                request = heapq.heappop(heap)[2]
                self._served[request] = True
                return request
        return -1

    def _live_head(self, heap: list[tuple[int, float, int]]) -> list[tuple[int, float, int]]:
        """Drop requests already served from the top of ``heap``; return it."""
        while heap and self._served[heap[0][2]]:
            heapq.heappop(heap)
        return heap

    def hold(self, pool_index: int, node: int, count: int) -> list[int]:
        """Take up to ``count`` free units off dispatch for a post at ``node``; return them.

        Units of the node's own station area first, then the nearest station's.
        """
        pool = self._pools[pool_index]
        home = int(self._node_station[node])
        held: list[int] = []
        while len(held) < count:
            station = home if pool.free[home] else pool.nearest(home, self._travel[node])[0]
            if station == NO_STATION:
                break
            held.append(pool.take(station))
        return held

    def give_back(self, pool_index: int, unit: int) -> None:
        """Return a held unit to dispatch: it takes a waiting call, or waits free."""
        pool = self._pools[pool_index]
        if not (pool.on_duty[unit] and self._serve_waiting(pool_index, unit)):
            pool.release(unit)

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
            arrived = pool.roster(now_s).tolist()
            if not self._live_head(self._waiting):  # no call waits: they all wait
                pool.release_arrived(arrived)
                continue
            for unit in arrived:
                if not self._serve_waiting(index, unit):
                    pool.release(unit)

    def duty_unit_s(self) -> dict[int, float]:
        """Return the unit-seconds on duty so far, by responder kind code."""
        return {pool.kind_code: pool.duty_unit_s for pool in self._pools}

    def _send(self, pool_index: int, unit: int, incident: int, t_dispatch_s: float,
              free_flow_s: float | None = None, on_scene_s: float | None = None) -> None:
        """Send ``unit`` (from where it waits, or ``free_flow_s`` away) and log the row."""
        pool = self._pools[pool_index]
        node = self._node_of[incident]
        hour = int(t_dispatch_s // SECONDS_PER_HOUR) % 24
        factor = self._congestion[hour][self._character_of[node]]
        if free_flow_s is None:
            free_flow_s = pool.travel_s(unit, node, self._car_s)
        travel_s = free_flow_s * factor * self._trip_factor_of[incident]
        t_arrive = t_dispatch_s + travel_s
        if on_scene_s is None:
            on_scene_s = self._on_scene_of[incident]
        t_free = t_scene_end = t_arrive + on_scene_s
        if self._return_to_base:
            t_free += travel_s
        t_local = self._first_local_s(incident, math.inf)
        if t_local < t_arrive and (self._stand_down_u_of[incident]
                                   < self._stand_down_prob_of[incident]):
            # recalled when the local responder reports; drives back as far as it came
            recalled = max(t_local, t_dispatch_s)
            planned_free, t_free = t_free, recalled + (recalled - t_dispatch_s)
            self.saved_unit_s += planned_free - t_free
            t_arrive = math.inf  # never arrived
        if self._preempting:
            jobs = self._jobs[pool_index]
            jobs.incident_of[unit] = incident
            jobs.row_of[unit] = len(self._log)
            jobs.t_arrive_s_of[unit] = t_arrive
            jobs.t_scene_end_s_of[unit] = t_scene_end
            jobs.takeable_from_s_of[unit] = (
                math.inf if t_arrive == math.inf else -math.inf if self._victim[incident]
                else t_scene_end)
        self._log.add(incident, pool.kind_code, unit, t_dispatch_s, t_arrive, t_free)
        freed = self._env.timeout(t_free - self._env.now)
        freed.callbacks.append(
            partial(self._on_free, pool_index, unit, self._generation[pool_index][unit]))

    def _on_free(self, pool_index: int, unit: int, generation: int,
                 _event: simpy.Event) -> None:
        if generation != self._generation[pool_index][unit]:
            return  # the job was preempted; the unit is already on another
        if self._preempting:
            self._jobs[pool_index].end(unit)
        pool = self._pools[pool_index]
        if not (pool.on_duty_of[unit] and self._serve_waiting(pool_index, unit)):
            pool.release(unit)

    def _serve_waiting(self, pool_index: int, unit: int) -> bool:
        """Give idle ``unit`` the request it should take next; False when none waits."""
        pool = self._pools[pool_index]
        request = self._next_request(pool.unit_station[unit], pool.serves_own_area_only)
        if request < 0:
            return False
        pool.claim(unit)
        incident = self._request_incident[request]
        t_call = float(self._incidents.t_call_s[incident])
        self._send(pool_index, unit, incident,
                   max(self._env.now, t_call + self._delay_s[incident]),
                   on_scene_s=self._request_on_scene_s.pop(request, None))
        return True


def _writable_view(values: np.ndarray) -> Any:
    """Return a memoryview of ``values`` to set one item at a time.

    Typed Any: typeshed lets a memoryview item take only an int; a float one takes floats.
    """
    return values.data


def _view(values: np.ndarray, dtype: type) -> memoryview:
    """Return a read-only memoryview of ``values`` as ``dtype`` (indexing gives Python scalars)."""
    return np.ascontiguousarray(values, dtype=dtype).data.toreadonly()
