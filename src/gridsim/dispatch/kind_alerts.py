"""Volunteer alerts with kinds: who is near a call depends on the hour (posts, riders).

With ``volunteers.kinds`` a volunteer is at home, at a post or on the move depending on
the hour (``gridsim.volunteer_kinds``). A call walks the nodes within the last round's
radius, nearest first (ties by node id: the world's node reach), and at each node takes
the volunteers there in the call hour's class (by id). Rounds, acceptance, fatigue,
churn and the weekly cap are ``VolunteerAlerts``'s; so is the geometric gap over the
candidates: it is drawn for the most available kind this hour, and a candidate of a
less available kind is kept with the ratio of the two availabilities (thinning), so
each volunteer is available with its own kind's figure, independently per call.

Per call the work is the nodes walked past plus the candidates drawn: it does not grow
with the number of positions (a rider has one per block of hours), and positions not
held at the call's hour are never looked at. Memory is the node reach plus, per class,
how many volunteers each node holds (uint16, 200 KB a class on the default): the walk
steps by those counts and looks up where a node's run starts only for a candidate. A
catchment per class would take ten times the home catchment on the default (525 MB) and
was no faster (docs/performance.md). The walk passes about three nodes per candidate
(most nodes hold no volunteer, or one).
"""

from __future__ import annotations

import math

import numpy as np

from gridsim.city.reach import Reach
from gridsim.dispatch.volunteers import UNIFORM_BLOCK, VolunteerAlerts, in_window
from gridsim.log import DispatchLog
from gridsim.scenario.schema import Volunteers
from gridsim.volunteer_kinds import VolunteerPositions, kind_availability

HOURS_PER_DAY = 24


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
        self._class_volunteer = [np.ascontiguousarray(row, dtype=np.int32).data
                                 for row in positions.class_volunteer]
        self._class_start = [np.ascontiguousarray(row, dtype=np.int32).data
                             for row in positions.class_node_start]
        # per class, the volunteers at each node: the walk reads these, a small array
        # (cache-friendly), and looks up where a node's run starts only for a candidate
        self._class_count = [_small_counts(np.diff(row))
                             for row in positions.class_node_start]
        self._within = [np.ascontiguousarray(row, dtype=np.int32).data
                        for row in volunteers_within]
        self._volunteer_kind = positions.kind.tolist()
        by_kind = kind_availability(config)
        top = [max(k[h] for k in by_kind) for h in range(HOURS_PER_DAY)]
        self._log_stay = [math.log1p(-a) if a < 1.0 else -math.inf for a in top]
        self._keep = [[k[h] / top[h] if top[h] > 0.0 else 0.0 for k in by_kind]
                      for h in range(HOURS_PER_DAY)]

    def _rounds(self, incident: int, now_s: float, pos: int, end: int, log_stay: float
                ) -> None:
        """Run the alert rounds over node-reach entries ``pos+1 .. end-1`` (node by node)."""
        u, ui = self._u, self._ui  # uniform draws, inlined as in VolunteerAlerts._rounds
        hour = int(now_s // 3600.0) % HOURS_PER_DAY
        cls = self._class_of_hour[hour]
        volunteers, node_start = self._class_volunteer[cls], self._class_start[cls]
        count = self._class_count[cls]
        remaining = self._within[cls][self._node[incident]]  # volunteers from j to the row end
        if remaining == 0:
            return
        keep, kind = self._keep[hour], self._volunteer_kind
        nodes, dist_m = self._item, self._dist_m
        busy, active, alerts, cap = self.busy_until_s, self._active, self._alerts, self._cap
        load, load_t_s = self._load, self._load_t_s
        decay_per_s, inv_fatigue = self._decay_per_s, self._inv_fatigue
        accept0, inv_decay_m, churn = self._accept0, self._inv_decay_m, self._churn_alert
        accept_scale = (1.0 - churn) * accept0  # the acceptance test's first factors
        exp, log1p = math.exp, math.log1p  # locals: read fastest
        everyone = -math.inf  # log_stay when everyone is available
        wanted, round_size, quiet = self._wanted, self._round_size, self._quiet
        e = pos + 1  # the node entry being walked, and how many of its volunteers are
        unpassed = count[nodes[e]]  # not passed yet (the last ones of its run)
        accepts: list[tuple[float, int, float]] = []  # (accept time, volunteer, road m)
        pending = -1  # an available candidate beyond the last round's radius, at pending_m
        pending_m = 0.0
        alerted_here = rounds = left = 0
        t_round = now_s
        for radius in self._radius_m:
            if rounds:  # a later round: only in waking hours and while too few accepted
                if quiet is not None and in_window(t_round, quiet):
                    break
                if len(accepts) >= wanted and sum(a[0] <= t_round for a in accepts) >= wanted:
                    break
            alerted = 0
            exhausted = False
            while alerted < round_size:
                if pending < 0:
                    if log_stay == everyone:
                        gap = 0.0
                    else:
                        if ui == UNIFORM_BLOCK:
                            u, ui = self._refill(), 0
                        gap = log1p(-u[ui]) / log_stay
                        ui += 1
                    if gap >= remaining:  # (a float: huge when hardly anyone is available)
                        exhausted = True
                        break
                    skip = int(gap)
                    remaining -= skip + 1
                    while skip >= unpassed:  # walk on to the node holding the candidate
                        skip -= unpassed
                        e += 1
                        unpassed = count[nodes[e]]
                    pending = volunteers[node_start[nodes[e] + 1] - unpassed + skip]
                    pending_m = dist_m[e]
                    unpassed -= skip + 1
                    share = keep[kind[pending]]
                    if share < 1.0:  # a less available kind: kept with the ratio
                        if ui == UNIFORM_BLOCK:
                            u, ui = self._refill(), 0
                        ui += 1
                        if u[ui - 1] >= share:
                            pending = -1
                            continue
                d = pending_m
                if d > radius:
                    break
                v = pending
                pending = -1
                if busy[v] > t_round or not active[v]:
                    continue
                if cap is not None and not self._under_cap(v, t_round, cap):
                    continue
                alerted += 1
                # the alert, as in VolunteerAlerts._rounds: counted; fatigue is the load before it
                alerts[v] += 1
                fatigue = load[v]
                if fatigue > 0.0:
                    fatigue *= exp(-decay_per_s * (t_round - load_t_s[v]))
                load[v], load_t_s[v] = fatigue + 1.0, t_round
                if ui == UNIFORM_BLOCK:
                    u, ui = self._refill(), 0
                x = u[ui]  # one draw: below churn the volunteer leaves, else may accept
                ui += 1
                if x < churn:
                    active[v] = 0
                    left += 1
                elif x - churn < accept_scale * exp(-d * inv_decay_m) / (
                        1.0 + fatigue * inv_fatigue):
                    accepts.append((t_round + self._accept_s.take_one(), v, d))
            if alerted:
                rounds += 1
                alerted_here += alerted
                t_round += self._interval_s
            if exhausted:
                break
        self._u, self._ui = u, ui
        self._close_call(incident, alerted_here, rounds, left, accepts)


def _small_counts(counts: np.ndarray) -> memoryview:
    """Return ``counts`` as a memoryview of the narrowest of uint16 and int64 that holds them."""
    dtype = np.uint16 if counts.max(initial=0) <= np.iinfo(np.uint16).max else np.int64
    return np.ascontiguousarray(counts, dtype=dtype).data
