"""Volunteer alerts with kinds: who is near a call depends on the hour (posts, riders).

With ``volunteers.kinds`` a volunteer is at home, at a post or on the move depending on
the hour (``gridsim.world.volunteer_kinds``). A call walks the nodes within the last round's
radius, nearest first (ties by node id: the world's node reach), and at each node takes
the volunteers there in the call hour's class (by id). Rounds, acceptance, fatigue,
churn and the weekly cap are ``VolunteerAlerts``'s; so is the geometric gap over the
candidates: it is drawn for the most available kind this hour, and a candidate of a
less available kind is kept with the ratio of the two availabilities (thinning), so
each volunteer is available with its own kind's figure, independently per call.

Per call the work is the nodes walked past plus the candidates drawn: it does not grow
with the number of positions (a rider has one per block of hours), and positions not
held at the call's hour are never looked at. Memory is the node reach plus, per class,
how many volunteers each node holds and where their run starts (int32, 400 KB each a
class on the default): the walk steps by those counts and looks up where a node's run
starts only for a candidate. A catchment per class would take ten times the home
catchment on the default (525 MB) and was no faster (docs/performance.md). The walk
passes about three nodes per candidate (most nodes hold no volunteer, or one); it runs
compiled, in ``gridsim.sim.dispatch.alert_rounds``.
"""

from __future__ import annotations

import math

import numpy as np

from gridsim.city.reach import Reach
from gridsim.core.units import HOURS_PER_DAY, SECONDS_PER_HOUR
from gridsim.scenario.schema import Volunteers
from gridsim.sim.dispatch.volunteers import VolunteerAlerts
from gridsim.sim.records import DispatchLog
from gridsim.world.volunteer_kinds import VolunteerPositions, kind_availability


class KindAlerts(VolunteerAlerts):
    """The volunteer layer when volunteers have kinds: candidates found by node and hour."""

    def __init__(
        self, config: Volunteers, radius_m: float, wanted: int, nodes_near: Reach,
        incident_node: np.ndarray, log: DispatchLog, seed: int, speed_mps: np.ndarray,
        positions: VolunteerPositions, volunteers_within: np.ndarray,
    ) -> None:
        """Serve calls from ``nodes_near`` (nodes within the last round's radius, by node).

        ``positions`` give each volunteer's kind and, per class of hours, its node;
        ``volunteers_within`` (classes, nodes) how many volunteers each row holds.
        """
        super().__init__(config, radius_m, wanted, nodes_near, incident_node, log, seed,
                         speed_mps)
        self._class_of_hour = positions.class_of_hour.tolist()
        # the rounds' tables (``alert_rounds``): the node reach row, then per class of
        # hours the volunteers at each node, where their run starts and the volunteers
        self._reach = (np.ascontiguousarray(nodes_near.item, dtype=np.int32),
                       np.ascontiguousarray(nodes_near.dist_m, dtype=np.float32))
        self._by_class = [(np.diff(start).astype(np.int32),
                           np.ascontiguousarray(start, dtype=np.int32),
                           np.ascontiguousarray(volunteer, dtype=np.int32))
                          for start, volunteer in zip(positions.class_node_start,
                                                      positions.class_volunteer, strict=True)]
        self._within = [np.ascontiguousarray(row, dtype=np.int32).data
                        for row in volunteers_within]
        self._volunteer_kind = np.ascontiguousarray(positions.kind, dtype=np.int16)
        by_kind = kind_availability(config)
        top = [max(k[h] for k in by_kind) for h in range(HOURS_PER_DAY)]
        self._log_stay = [math.log1p(-a) if a < 1.0 else -math.inf for a in top]
        self._keep = [np.array([k[h] / top[h] if top[h] > 0.0 else 0.0 for k in by_kind])
                      for h in range(HOURS_PER_DAY)]

    def _rounds(self, incident: int, now_s: float, pos: int, end: int, log_stay: float
                ) -> None:
        """Run the alert rounds over node-reach entries ``pos+1 .. end-1`` (node by node)."""
        hour = int(now_s // SECONDS_PER_HOUR) % HOURS_PER_DAY
        cls = self._class_of_hour[hour]
        remaining = self._within[cls][self._node[incident]]  # volunteers from pos+1 on
        if remaining == 0:
            return
        self._alert(incident, now_s, log_stay, pos + 1, remaining,
                    (*self._reach, *self._by_class[cls], self._keep[hour],
                     self._volunteer_kind))
