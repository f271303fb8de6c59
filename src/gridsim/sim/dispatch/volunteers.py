"""Volunteer alerting as citizen-responder apps do it: rounds, fatigue and churn.

Sources (docs/evidence.md, "Citizen-responder systems"): GoodSAM alerts the 3 closest
within 500 m (1 km rural) and searches further on decline; acceptance per alert is
17-47% (Khalemsky et al. 2023); alarm fatigue is the strongest predictor of leaving
(Prytz et al. 2023); lay responders' median speed is 2.3 m/s (Resuscitation 2020).

A call alerts the volunteers of its node's catchment (nearest first) in rounds. Round k
goes out at the call time plus k round intervals (at once after a round that found
nobody new) to the next ``round_size`` volunteers within ``radius_m * growth**k`` who are
available this hour (each independently, ``availability_by_hour``), free
(``busy_until_s <= t``), still in the pool, and under the weekly cap; no round goes out
in quiet hours, nor once ``wanted`` volunteers have accepted. An alerted volunteer
accepts with probability ``acceptance_prob * exp(-d / acceptance_decay_m) * fatigue``
after a time-to-accept draw; the first ``wanted`` to accept go (a share ``no_show_prob``
never arrives), the rest are stood down.

Kinds (``volunteers.kinds``: door guards at posts, riders on the move, ...) are served by
``gridsim.sim.dispatch.kind_alerts``, which finds the volunteers near a call by node at the
call's hour and alerts them as here.

Rounds are worked out arithmetically when the call comes, not by simpy events: every
volunteer's state is known then. The one approximation: a later round sees the busy
clocks as they were at the call, so another call's alerts in between (they would mark
volunteers busy a little earlier or later) are not seen in order. Availability draws use
the hour of the call for every round.

Fatigue: each volunteer carries a load, the alerts received, each decaying with
half-life ``fatigue_half_life_days``; willingness is multiplied by
``1 / (1 + load / fatigue_alerts)``. Churn: each alert makes its volunteer leave with
``churn_per_alert`` (the alert is then not answered), and each day a share
``churn_per_day`` of the active ones leave; each day ``recruit_per_day * count``
recruits (Poisson) take the seats, homes and travel of those who left, fresh. Day
boundaries are applied at the first call at or after them, and at the end of the run.

Counted over the run (``tally``): alerts, alerted incidents, rounds, accepts (every
acceptance), stand-downs (accepted after the ``wanted``-th and told not to come),
no-shows (a no-show is not kept busy), leavers after an alert, base leavers, recruits.

Per call the work is O(alerted volunteers + the busy or departed ones passed over):
rather than a draw per candidate, the gap to the next available one is drawn
(geometric). The rounds themselves run compiled (``gridsim.sim.dispatch.alert_rounds``) over
per-volunteer state in numpy arrays; this class keeps the Python side: which row a call
reads, the day boundaries, sending who accepted, and the counts.
"""

from __future__ import annotations

import math

import numpy as np

from gridsim.city.reach import Reach
from gridsim.core.rng import DrawArray, DrawBuffer, stream
from gridsim.core.units import SECONDS_PER_DAY, SECONDS_PER_HOUR
from gridsim.scenario.schema import Volunteers
from gridsim.sim.dispatch import alert_rounds as kernel
from gridsim.sim.records import KIND_CODE, DispatchLog

TRAVEL_MODES = ("walk", "ebike", "car")
TALLY_KEYS = (
    "alerts", "alerted_incidents", "rounds", "accepts", "stand_downs", "no_shows",
    "left_after_alert", "left_base", "recruited",
)


def volunteer_travel(config: Volunteers, count: int, city_seed: int,
                     kind: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Return each volunteer's travel mode (index into ``TRAVEL_MODES``) and speed (m/s).

    Drawn once per world from the city seed (streams ``volunteers.travel.mode`` and
    ``.speed``): a mode by the shares, then a log-normal speed of the mode's median and CV.
    With ``kind`` (each volunteer's index into ``config.kinds``), each kind's own mix,
    where it gives one, from the same draws.
    """
    u = stream(city_seed, "volunteers.travel.mode").random(count)
    z = stream(city_seed, "volunteers.travel.speed").standard_normal(count)
    mode = np.zeros(count, dtype=np.int8)
    median, sigma = np.zeros(count), np.zeros(count)
    mixes = [config.travel]
    which = np.zeros(count, dtype=np.int64)
    if kind is not None and config.kinds:
        mixes += [k.travel or config.travel for k in config.kinds.values()]
        which = np.asarray(kind, dtype=np.int64) + 1
    for index, travel in enumerate(mixes):
        rows = which == index
        modes = [getattr(travel, name) for name in TRAVEL_MODES]
        share = np.array([m.share for m in modes])
        mode[rows] = np.minimum(np.searchsorted(np.cumsum(share) / share.sum(), u[rows],
                                                side="right"), len(modes) - 1)
        median[rows] = np.array([m.median_mps for m in modes])[mode[rows]]
        sigma[rows] = np.sqrt(np.log1p(np.array([m.cv for m in modes]) ** 2))[mode[rows]]
    return mode, median * np.exp(sigma * z)


def in_window(t_s: float, window_h: tuple[float, float]) -> bool:
    """Return whether run time ``t_s`` falls in the daily window [start_h, end_h)."""
    start, end = window_h
    return ((t_s / SECONDS_PER_HOUR) % 24.0 - start) % 24.0 < (end - start) % 24.0


class VolunteerAlerts:
    """The volunteer layer: alert rounds, acceptance, fatigue and churn, as array rows."""

    def __init__(
        self, config: Volunteers, radius_m: float, wanted: int, near: Reach,
        incident_node: np.ndarray, log: DispatchLog, seed: int, speed_mps: np.ndarray,
    ) -> None:
        """Serve calls at ``incident_node`` from the volunteer catchment ``near``.

        ``radius_m`` is the first round's radius, ``wanted`` the volunteers sought per
        call, ``speed_mps`` each volunteer's travel speed (``volunteer_travel``).
        """
        alerting = config.alerting
        n = int(speed_mps.shape[0])
        self.count = n
        self._config = config
        # memoryviews: indexing one gives a Python number at a third of numpy's cost
        self._node = np.ascontiguousarray(incident_node, dtype=np.int64).data
        self._start = np.ascontiguousarray(near.start, dtype=np.int64).data
        self._log = log
        self._kind = KIND_CODE["volunteer"]
        self._wanted = wanted
        self._quiet: tuple[float, float] | None = (
            (alerting.quiet_hours[0], alerting.quiet_hours[1]) if alerting.quiet_hours
            else None)
        self._log_stay = [math.log1p(-a) if a < 1.0 else -math.inf
                          for a in map(float, config.availability_by_hour)]
        self._no_show = config.no_show_prob
        self._reaction_s = config.reaction_s
        uniform_rng = stream(seed, "dispatch.volunteers")
        self._uniform = DrawArray(uniform_rng.random)
        accept_rng = stream(seed, "dispatch.volunteers.accept_time")
        self._accept_s = DrawArray(lambda k: config.time_to_accept_s.sample(accept_rng, k))
        scene_rng = stream(seed, "dispatch.volunteers.on_scene")
        self._on_scene = DrawBuffer(lambda k: config.on_scene_s.sample(scene_rng, k))
        self._churn_rng = stream(seed, "dispatch.volunteers.churn")
        self._speed_mps = speed_mps.astype(float).tolist()
        # per-volunteer state, read by the compiled rounds (``alert_rounds``), a row each: busy
        # clock, fatigue load and its time; alerts, week and alerts that week; in the pool
        self._clock = np.zeros((n, 3))
        self._counts = np.zeros((n, 3), dtype=np.int64)
        self._active = np.ones(n, dtype=np.uint8)
        self.busy_until_s = self._clock[:, kernel.BUSY_UNTIL_S]  # a view: school posts hold it
        # the rounds' arguments that do not change between calls
        self._radius = np.array(
            [alerting.radius_m(radius_m, k) for k in range(alerting.max_rounds)])
        quiet = alerting.quiet_hours
        self._params = np.zeros(kernel.PARAM_COUNT)
        self._params[[kernel.INTERVAL_S, kernel.DECAY_PER_S, kernel.INV_FATIGUE,
                      kernel.ACCEPT_SCALE, kernel.INV_DECAY_M, kernel.CHURN,
                      kernel.QUIET_START_H, kernel.QUIET_END_H]] = [
            alerting.round_interval_s,
            math.log(2.0) / (config.fatigue_half_life_days * SECONDS_PER_DAY),
            1.0 / config.fatigue_alerts,
            (1.0 - config.churn_per_alert) * config.acceptance_prob,
            1.0 / config.acceptance_decay_m, config.churn_per_alert,
            quiet[0] if quiet else 0.0, quiet[1] if quiet else 0.0]
        cap = alerting.max_alerts_per_week
        self._settings = np.zeros(kernel.SETTING_COUNT, dtype=np.int64)
        self._settings[[kernel.ROUND_SIZE, kernel.WANTED, kernel.CAP, kernel.QUIET]] = [
            alerting.round_size, wanted, -1 if cap is None else cap, 1 if quiet else 0]
        self._accepted = np.zeros((0, 3))
        # the home catchment as the rounds' tables: every entry one volunteer
        self._catchment_tables = (
            np.ascontiguousarray(near.item, dtype=np.int32),
            np.ascontiguousarray(near.dist_m, dtype=np.float32),
            np.ones(n, dtype=np.int32), np.arange(n + 1, dtype=np.int32),
            np.arange(n, dtype=np.int32), np.ones(1), np.zeros(n, dtype=np.int16))
        self._tally = dict.fromkeys(TALLY_KEYS, 0)
        self._daily = config.churn_per_day > 0.0 or config.recruit_per_day > 0.0
        self._next_day_s = SECONDS_PER_DAY if self._daily else math.inf

    def respond(self, incident: int, now_s: float) -> None:
        """Alert volunteers near ``incident`` in rounds; send the first ``wanted`` who accept."""
        if now_s >= self._next_day_s:
            self._new_days(now_s)
        quiet = self._quiet
        if quiet is not None and in_window(now_s, quiet):
            return
        node = self._node[incident]
        pos, end = self._start[node] - 1, self._start[node + 1]
        if pos + 1 == end:
            return
        log_stay = self._log_stay[int(now_s // SECONDS_PER_HOUR) % 24]
        if log_stay == 0.0:  # nobody available this hour
            return
        self._rounds(incident, now_s, pos, end, log_stay)

    def _rounds(self, incident: int, now_s: float, pos: int, end: int, log_stay: float
                ) -> None:
        """Run the alert rounds over catchment entries ``pos+1 .. end-1``."""
        self._alert(incident, now_s, log_stay, pos + 1, end - pos - 1, self._catchment_tables)

    def _alert(self, incident: int, now_s: float, log_stay: float, first: int,
               remaining: int, tables: tuple[np.ndarray, ...]) -> None:
        """Run the compiled rounds from reach entry ``first`` over ``remaining`` volunteers.

        ``tables``: the reach row's entries and metres, then per entry how many
        volunteers it holds, where their run starts and the volunteers, then each kind's
        share kept and each volunteer's kind (``alert_rounds``).
        """
        self._uniform.ensure(kernel.draws_needed(remaining))
        self._accept_s.ensure(remaining)
        if self._accepted.shape[0] < remaining:
            self._accepted = np.zeros((remaining, 3))
        params, settings = self._params, self._settings
        params[kernel.NOW_S], params[kernel.LOG_STAY] = now_s, log_stay
        settings[kernel.FIRST_ENTRY], settings[kernel.REMAINING] = first, remaining
        alerted, rounds, left, accepted, self._uniform.index, self._accept_s.index = (
            kernel.alert_rounds(*tables, self._radius, params, settings, self._clock,
                                self._counts, self._active, self._uniform.values,
                                self._uniform.index, self._accept_s.values,
                                self._accept_s.index, self._accepted))
        if not alerted:
            return
        tally = self._tally
        tally["alerts"] += alerted
        tally["alerted_incidents"] += 1
        tally["rounds"] += rounds
        tally["left_after_alert"] += left
        if accepted:
            self._send(incident, [(t, int(v), d) for t, v, d
                                  in self._accepted[:accepted].tolist()])

    def _send(self, incident: int, accepts: list[tuple[float, int, float]]) -> None:
        """Send the first ``wanted`` to accept (less no-shows); stand the rest down."""
        accepts.sort()
        tally = self._tally
        tally["accepts"] += len(accepts)
        tally["stand_downs"] += max(0, len(accepts) - self._wanted)
        for t_accept, v, d in accepts[: self._wanted]:
            if self._no_show and self._uniform.take_one() < self._no_show:
                tally["no_shows"] += 1
                continue
            travel_s = d / self._speed_mps[v]
            t_arrive = t_accept + self._reaction_s + travel_s
            t_free = t_arrive + self._on_scene.take_one() + travel_s  # on scene, then home
            self.busy_until_s[v] = t_free
            self._log.add(incident, self._kind, v, t_accept, t_arrive, t_free)

    def fatigue_factor(self, volunteer: int, t_s: float) -> float:
        """Return the factor on ``volunteer``'s willingness at ``t_s`` (1 when rested)."""
        load, load_t_s = self._clock[volunteer, [kernel.LOAD, kernel.LOAD_T_S]].tolist()
        if load > 0.0:
            load *= math.exp(-self._params[kernel.DECAY_PER_S] * (t_s - load_t_s))
        return 1.0 / (1.0 + load * self._params[kernel.INV_FATIGUE])

    def _new_days(self, now_s: float) -> None:
        """Apply each day boundary up to ``now_s``: base churn, then recruits."""
        config, rng = self._config, self._churn_rng
        active = self._active
        while self._next_day_s <= now_s:
            if config.churn_per_day > 0.0:
                leave = (rng.random(self.count) < config.churn_per_day) & (active == 1)
                self._tally["left_base"] += int(leave.sum())
                active[leave] = 0
            if config.recruit_per_day > 0.0:
                seats = np.flatnonzero(active == 0)
                k = min(int(rng.poisson(config.recruit_per_day * self.count)), seats.shape[0])
                fresh = rng.choice(seats, size=k, replace=False)
                active[fresh] = 1
                self._clock[fresh, kernel.LOAD] = 0.0
                self._counts[fresh, kernel.WEEK_ALERTS] = 0
                self._tally["recruited"] += k
            self._next_day_s += SECONDS_PER_DAY

    def active_at(self, end_s: float) -> np.ndarray:
        """Return who is in the pool at ``end_s`` (bool), after the day boundaries up to it."""
        if end_s >= self._next_day_s:
            self._new_days(end_s)
        return self._active.astype(bool)

    def alerts_per_volunteer(self) -> np.ndarray:
        """Return how many alerts each volunteer has received so far (int64)."""
        return self._counts[:, kernel.ALERTS].copy()

    def tally(self) -> dict[str, int]:
        """Return the run's alerting counts so far, keys ``TALLY_KEYS``."""
        return dict(self._tally)
