"""Layers of people already near the incident: grid push, volunteer broadcast, watch points.

None of them has a simpy process or event: a responder's state is one ``busy_until_s``
number, compared with the clock when the next call comes.
"""

from __future__ import annotations

import numpy as np

from gridsim.dispatch.base import Neighbourhood
from gridsim.fleets import Fleet
from gridsim.incidents import Incidents
from gridsim.log import KIND_CODE, DispatchLog
from gridsim.scenario.schema import Duration


class LocalResponders:
    """Sends the first ``max_sent`` willing, free responders by arrival time (ties: id)."""

    def __init__(
        self,
        fleet: Fleet,
        incidents: Incidents,
        log: DispatchLog,
        rng: np.random.Generator,
        speed_mps: float,
        reaction_s: float,
        on_scene: Duration,
        max_sent: int,
    ) -> None:
        """Prepare the busy clock of every responder of ``fleet``."""
        self.fleet = fleet
        self._incidents = incidents
        self._log = log
        self._rng = rng
        self._speed_mps = speed_mps
        self._reaction_s = reaction_s
        self._on_scene = on_scene
        self._max_sent = max_sent
        self._kind = KIND_CODE[fleet.kind]
        self.busy_until_s = np.zeros(fleet.size)

    def send(
        self, incident: int, now_s: float, ids: np.ndarray, dist_m: np.ndarray,
        willing_prob: float,
    ) -> None:
        """Ask candidates ``ids`` (ascending) at road ``dist_m``; send the first who accept."""
        if ids.shape[0] == 0:
            return
        willing = self._rng.random(ids.shape[0]) < willing_prob
        ids, dist_m = ids[willing], dist_m[willing]
        if ids.shape[0] == 0:
            return
        travel_s = dist_m / self._speed_mps
        t_arrive = now_s + self._reaction_s + travel_s
        first = np.lexsort((ids, t_arrive))[: self._max_sent]
        t_free = t_arrive[first] + self._on_scene.sample(self._rng, first.shape[0])
        t_free += travel_s[first]  # and back home
        self.busy_until_s[ids[first]] = t_free
        self._log.add_many(incident, self._kind, ids[first], now_s, t_arrive[first], t_free)


class GridPush:
    """The station pushes the incident to the on-duty workers of the incident's grid."""

    def __init__(
        self, responders: LocalResponders, incident_node: np.ndarray, node_grid: np.ndarray,
        grid_count: int, radius_m: float, response_prob: float,
    ) -> None:
        """Index workers by grid (the fleet is sorted by grid)."""
        self.radius_m = radius_m
        self._responders = responders
        self._incident_node = incident_node
        self._node_grid = node_grid
        self._grid_start = np.searchsorted(responders.fleet.grid, np.arange(grid_count + 1))
        self._response_prob = response_prob

    def respond(self, incident: int, now_s: float, near: Neighbourhood) -> None:
        """Send the nearest willing, free, on-duty worker(s) of the grid within the radius."""
        fleet = self._responders.fleet
        grid = self._node_grid[self._incident_node[incident]]
        ids = np.arange(self._grid_start[grid], self._grid_start[grid + 1])
        ready = (self._responders.busy_until_s[ids] <= now_s) & fleet.on_duty(now_s, ids)
        ids = ids[ready]
        dist_m = near.distance_to(fleet.base_node[ids])
        reachable = dist_m <= self.radius_m
        self._responders.send(
            incident, now_s, ids[reachable], dist_m[reachable], self._response_prob
        )


class VolunteerBroadcast:
    """Alerts every free volunteer living within the radius; each accepts with a probability."""

    def __init__(
        self, responders: LocalResponders, node_count: int, radius_m: float,
        availability_by_hour: list[float], acceptance_prob: float,
    ) -> None:
        """Index volunteers by home node (the fleet is sorted by node)."""
        self.radius_m = radius_m
        self._responders = responders
        self._node_start = np.searchsorted(responders.fleet.base_node, np.arange(node_count + 1))
        self._willing_by_hour = np.asarray(availability_by_hour) * acceptance_prob
        self.alerts = np.zeros(responders.fleet.size, dtype=np.int32)

    def respond(self, incident: int, now_s: float, near: Neighbourhood) -> None:
        """Alert the free volunteers in the radius and send the first who accept."""
        inside = near.dist_m <= self.radius_m
        nodes, dist = near.nodes[inside], near.dist_m[inside]
        starts, ends = self._node_start[nodes], self._node_start[nodes + 1]
        counts = ends - starts
        total = int(counts.sum())
        if total == 0:
            return
        ids = np.repeat(starts - np.cumsum(counts) + counts, counts) + np.arange(total)
        dist_m = np.repeat(dist, counts)
        free = self._responders.busy_until_s[ids] <= now_s
        ids, dist_m = ids[free], dist_m[free]
        self.alerts[ids] += 1
        hour = int(now_s // 3600.0) % 24
        self._responders.send(incident, now_s, ids, dist_m, self._willing_by_hour[hour])


class WatchPointHelp:
    """The nearest watch point within the radius helps at once: its staff walk over."""

    def __init__(
        self, watch_point_node: np.ndarray, incidents: Incidents, log: DispatchLog,
        radius_m: float, walk_speed_mps: float, on_scene: Duration, rng: np.random.Generator,
    ) -> None:
        """Index watch points by node (``watch_point_node`` is sorted, one per node)."""
        self.radius_m = radius_m
        self._watch_point_node = watch_point_node
        self._log = log
        self._walk_speed_mps = walk_speed_mps
        self._on_scene = on_scene
        self._rng = rng
        self._kind = KIND_CODE["watch_point"]

    def respond(self, incident: int, now_s: float, near: Neighbourhood) -> None:
        """Log help from the nearest watch point within the radius, if there is one."""
        if self._watch_point_node.shape[0] == 0 or near.nodes.shape[0] == 0:
            return
        idx = np.minimum(
            np.searchsorted(self._watch_point_node, near.nodes), self._watch_point_node.shape[0] - 1
        )
        here = (self._watch_point_node[idx] == near.nodes) & (near.dist_m <= self.radius_m)
        if not here.any():
            return
        candidates = np.flatnonzero(here)
        best = candidates[np.argmin(near.dist_m[candidates])]  # ties: lowest node id
        t_arrive = now_s + float(near.dist_m[best]) / self._walk_speed_mps
        t_free = t_arrive + float(self._on_scene.sample(self._rng, 1)[0])
        self._log.add(incident, self._kind, int(idx[best]), now_s, t_arrive, t_free)
