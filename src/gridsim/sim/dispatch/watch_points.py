"""Peace watch points as they work: a few staff on hand, who may or may not leave, and refuge.

Each watch point is of one kind (supermarket, shop, community site: ``watch_points.kinds``),
which sets its ``staff`` and whether they ``may_leave`` the site. A call gets help from
the nearest point within ``watch_points.radius_m`` (the world's catchment) when:

- the point's staff may leave, or the incident is at the point's own node;
- they are able to help this time (``help_prob``);
- one of its ``staff`` is free: each staff member is busy from the call until back at
  the point (reaction, walk there, on scene, walk back), so no point ever handles more
  than ``staff`` incidents at once.

Refuge: a person in need (an incident of a ``shelter_types`` type) within
``shelter_radius_m`` of a point with someone on hand at the call is sheltered there.
The alarm role (reporting an incident earlier) is not modelled: incidents have call
times only. No simpy event: each staff slot is one busy-until number.
"""

from __future__ import annotations

import numpy as np

from gridsim.core.rng import DrawBuffer, stream
from gridsim.demand.incidents import Incidents
from gridsim.scenario.schema import WatchPoints
from gridsim.sim.records import KIND_CODE, DispatchLog
from gridsim.world.catchments import NO_WATCH_POINT

# what a watch point did for a call of a type that lists watch points (per incident)
NOT_ASKED = 0  # the type does not list watch points
NONE_IN_REACH = 1  # no point within the radius
STAYS_AT_SITE = 2  # the nearest point's staff may not leave, and the incident is elsewhere
UNABLE = 3  # not able to help this time (help_prob)
REFUSED_CAPACITY = 4  # every staff member already out on another incident
HELPED = 5
OUTCOME_NAMES = ("not_asked", "none_in_reach", "stays_at_site", "unable",
                 "refused_capacity", "helped")


def watch_point_sites(cfg: WatchPoints, added: np.ndarray, city_seed: int
                      ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Return each point's kind (index into ``cfg.kinds``), staff and may-leave flag.

    Kinds are drawn by share from the city's seed, so every run of a world sees the same
    points; the k-th of the city's own points has the same kind whatever points are
    ``added`` (``watch_points.extra_sites``, drawn from a stream of their own).
    """
    kinds = list(cfg.kinds.values())
    share = np.array([kind.share for kind in kinds], dtype=float)
    bounds = np.cumsum(share / share.sum())
    u = np.empty(added.shape[0])
    u[~added] = stream(city_seed, "watch_points.kinds").random(int((~added).sum()))
    u[added] = stream(city_seed, "watch_points.kinds.extra_sites").random(int(added.sum()))
    kind = np.minimum(np.searchsorted(bounds, u, side="right"), len(kinds) - 1)
    staff = np.array([k.staff for k in kinds], dtype=np.int64)[kind]
    may_leave = np.array([k.may_leave for k in kinds], dtype=bool)[kind]
    return kind.astype(np.int16), staff, may_leave


class WatchPointStaff:
    """The watch points of a run: who helps which call, within each point's staff."""

    def __init__(
        self, cfg: WatchPoints, incidents: Incidents, watch_point: np.ndarray,
        watch_point_m: np.ndarray, point_node: np.ndarray, point_added: np.ndarray,
        log: DispatchLog, walk_speed_mps: float, seed: int, city_seed: int,
    ) -> None:
        """Serve ``incidents`` from each node's nearest point (``watch_point``, road metres)."""
        _, staff, may_leave = watch_point_sites(cfg, point_added, city_seed)
        # per incident and per node, read one value at a time: memoryviews (Python numbers)
        self._incident_node = np.ascontiguousarray(incidents.node, dtype=np.int64).data
        self._incident_type = np.ascontiguousarray(incidents.type_id, dtype=np.int64).data
        self._shelters = [name in cfg.shelter_types for name in incidents.type_names]
        self._watch_point = np.ascontiguousarray(watch_point, dtype=np.int64).data
        self._watch_point_m = np.ascontiguousarray(watch_point_m).data
        self._point_node = point_node.tolist()
        self._may_leave = may_leave.tolist()
        self._free_at: list[list[float]] = [[0.0] * n for n in staff.tolist()]
        self._log = log
        self._walk_speed_mps = walk_speed_mps
        self._reaction_s = cfg.reaction_s
        self._help_prob = cfg.help_prob
        self._shelter_radius_m = cfg.shelter_radius_m
        on_scene_rng = stream(seed, "dispatch.watch_points")
        self._on_scene = DrawBuffer(lambda n: cfg.on_scene_s.sample(on_scene_rng, n))
        self._able = DrawBuffer(stream(seed, "dispatch.watch_points.help").random)
        self._kind = KIND_CODE["watch_point"]
        self.outcome = np.zeros(incidents.count, dtype=np.int8)  # NOT_ASKED ... HELPED
        self.sheltered = np.zeros(incidents.count, dtype=bool)
        self._outcome_of, self._sheltered_of = self.outcome.data, self.sheltered.data

    def respond(self, incident: int, now_s: float) -> None:
        """Send a free staff member of the nearest point, if it can help; note refuge."""
        outcome = self._outcome_of
        node = self._incident_node[incident]
        point = self._watch_point[node]
        if point == NO_WATCH_POINT:
            outcome[incident] = NONE_IN_REACH
            return
        dist_m = self._watch_point_m[node]
        free_at = self._free_at[point]
        slot = -1
        for k, t in enumerate(free_at):
            if t <= now_s:
                slot = k
                break
        if slot >= 0 and dist_m <= self._shelter_radius_m and self._shelters[
                self._incident_type[incident]]:
            self._sheltered_of[incident] = True
        if not self._may_leave[point] and node != self._point_node[point]:
            outcome[incident] = STAYS_AT_SITE
            return
        if self._able.take_one() >= self._help_prob:
            outcome[incident] = UNABLE
            return
        if slot < 0:
            outcome[incident] = REFUSED_CAPACITY
            return
        walk_s = dist_m / self._walk_speed_mps
        t_arrive = now_s + self._reaction_s + walk_s
        t_free = t_arrive + self._on_scene.take_one() + walk_s  # on scene, then back
        free_at[slot] = t_free
        self._log.add(incident, self._kind, point, now_s, t_arrive, t_free)
        outcome[incident] = HELPED
