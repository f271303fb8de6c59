"""Layers of people already near the incident: the grid push.

It has no simpy process or event: a responder's state is one ``busy_until_s``
number, compared with the clock when the next call comes. Who could come to a node is
precomputed (``gridsim.world.catchments``), nearest first, so a call costs a few array slices.
Volunteers, alerted in rounds with fatigue and churn, are ``gridsim.sim.dispatch.volunteers``;
watch points, with their staff and refuge, ``gridsim.sim.dispatch.watch_points``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from gridsim.city.reach import Reach
from gridsim.core.rng import DrawBuffer
from gridsim.scenario.schema import Duration
from gridsim.sim.records import KIND_CODE, DispatchLog
from gridsim.world.fleets import Fleet, shift_covers


class LocalResponders:
    """Sends the first ``max_sent`` willing candidates; candidates come nearest first."""

    def __init__(
        self,
        fleet: Fleet,
        log: DispatchLog,
        rng: np.random.Generator,
        speed_mps: float,
        reaction_s: float,
        on_scene: Duration,
        max_sent: int,
    ) -> None:
        """Prepare the busy clock of every responder of ``fleet``."""
        self.fleet = fleet
        self._log = log
        self._uniform = DrawBuffer(rng.random)
        self._on_scene = DrawBuffer(lambda n: on_scene.sample(rng, n))
        self._speed_mps = speed_mps
        self._reaction_s = reaction_s
        self._max_sent = max_sent
        self._kind = KIND_CODE[fleet.kind]
        self.busy_until_s = [0.0] * fleet.size  # a list: read one at a time, fastest

    def send(
        self, incident: int, now_s: float, ids: Sequence[int], dist_m: Sequence[float],
        willing_prob: float,
    ) -> None:
        """Ask candidates ``ids`` (nearest first, at road ``dist_m``); send the first willing.

        Each free candidate is willing with ``willing_prob``, independently. Rather than a
        draw per candidate, the gap to the next willing one is drawn (geometric), so a
        call costs O(max_sent) however many candidates there are; a busy candidate the
        gap lands on is passed over, which leaves each free one's chance unchanged.
        """
        n = len(ids)
        if n == 0 or willing_prob <= 0.0:
            return
        log_stay = math.log1p(-willing_prob) if willing_prob < 1.0 else -math.inf
        busy_until_s = self.busy_until_s
        sent = 0
        position = -1
        while sent < self._max_sent:
            u = self._uniform.take_one()  # in [0, 1)
            position += 1 if log_stay == -math.inf else 1 + int(math.log1p(-u) / log_stay)
            if position >= n:
                return
            responder = ids[position]
            if busy_until_s[responder] > now_s:
                continue
            travel_s = dist_m[position] / self._speed_mps
            t_arrive = now_s + self._reaction_s + travel_s
            t_free = t_arrive + self._on_scene.take_one() + travel_s  # on scene, then home
            busy_until_s[responder] = t_free
            self._log.add(incident, self._kind, responder, now_s, t_arrive, t_free)
            sent += 1


class GridPush:
    """The station pushes the incident to the on-duty workers of the incident's grid."""

    def __init__(
        self, responders: LocalResponders, incident_node: np.ndarray, near: Reach,
        response_prob: float,
    ) -> None:
        """Serve calls at ``incident_node`` from the grid catchment ``near``."""
        self._responders = responders
        # memoryviews: indexing and slicing give Python numbers, without numpy's overhead
        self._incident_node = np.ascontiguousarray(incident_node, dtype=np.int64).data
        self._start = np.ascontiguousarray(near.start, dtype=np.int64).data
        self._item = np.ascontiguousarray(near.item, dtype=np.int32).data
        self._dist_m = np.ascontiguousarray(near.dist_m).data
        self._response_prob = response_prob
        self._common_shift = responders.fleet.common_shift()

    def respond(self, incident: int, now_s: float) -> None:
        """Send the nearest willing, free, on-duty worker(s) of the grid within the radius."""
        shift = self._common_shift
        if shift is not None and not shift_covers(shift[0], shift[1], now_s):
            return  # the whole fleet is off duty
        node = self._incident_node[incident]
        s, e = self._start[node], self._start[node + 1]
        if s == e:
            return
        ids, dist_m = self._item[s:e], self._dist_m[s:e]
        if shift is None:  # workers on different shifts: keep those on duty now
            on_duty = self._responders.fleet.on_duty(now_s, np.asarray(ids))
            ids = np.asarray(ids)[on_duty].tolist()
            dist_m = np.asarray(dist_m)[on_duty].tolist()
        self._responders.send(incident, now_s, ids, dist_m, self._response_prob)
