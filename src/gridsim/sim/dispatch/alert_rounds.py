"""The alert rounds of one call, compiled: the volunteer layer's hot loop.

``alert_rounds`` walks a call's reach row nearest first and alerts available, free,
active volunteers under the weekly cap in rounds, drawing fatigue, churn and acceptance
for each (the model is ``gridsim.sim.dispatch.volunteers``'s docstring). It is one function
for both volunteer layers: a row entry is a node holding ``entry_count[node]``
volunteers, ``entry_volunteer[entry_start[node + 1] - k]`` being its k-th from last; the
home catchment is the case where every entry is one volunteer (identity tables).

It is compiled with numba (``cache=True``: once per machine, then loaded from disk),
because one alert costs about forty interpreted steps; called from Python it costs a
few microseconds of argument passing instead of about 25 per call. The same function
runs uncompiled as ``alert_rounds_python`` (the tests check both give the same runs):
every value it reads is converted to a Python float or int first, so the arithmetic is
the same IEEE double arithmetic either way.

Draws come from buffers the caller has topped up (``DrawArray.ensure``): at least
``draws_needed(remaining)`` uniforms, as each candidate takes at most three (the gap to
it, the kind thinning, acceptance), and ``remaining`` accept times, one at most each.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
from numba import njit

from gridsim.core.units import SECONDS_PER_DAY, SECONDS_PER_HOUR

SECONDS_PER_WEEK = 7 * SECONDS_PER_DAY
# the fields of ``params`` (float64): the call and the volunteers' behaviour
PARAM_COUNT = 10
NOW_S, LOG_STAY, INTERVAL_S, DECAY_PER_S, INV_FATIGUE, ACCEPT_SCALE, INV_DECAY_M, CHURN, \
    QUIET_START_H, QUIET_END_H = range(PARAM_COUNT)
# the fields of ``settings`` (int64): where the row starts, how many, the rules (-1: off)
SETTING_COUNT = 6
FIRST_ENTRY, REMAINING, ROUND_SIZE, WANTED, CAP, QUIET = range(SETTING_COUNT)
# per-volunteer state columns: ``clock`` (float64) and ``counts`` (int64), a row each
BUSY_UNTIL_S, LOAD, LOAD_T_S = range(3)
ALERTS, WEEK, WEEK_ALERTS = range(3)


def draws_needed(remaining: int) -> int:
    """Return how many uniform (and accept-time) draws a call over ``remaining`` may take."""
    return 3 * remaining + 1


# the one signature, compiled (or loaded from numba's cache) when this module is imported,
# not inside the first run; other argument types are refused, not compiled again
SIGNATURE = (
    "UniTuple(int64, 6)(int32[::1], float32[::1], int32[::1], int32[::1], int32[::1], "
    "float64[::1], int16[::1], float64[::1], float64[::1], int64[::1], float64[:, ::1], "
    "int64[:, ::1], uint8[::1], float64[::1], int64, float64[::1], int64, float64[:, ::1])"
)


def alert_rounds_python(
    entry_node: np.ndarray, entry_m: np.ndarray, entry_count: np.ndarray,
    entry_start: np.ndarray, entry_volunteer: np.ndarray, keep_by_kind: np.ndarray,
    volunteer_kind: np.ndarray, radius_m: np.ndarray, params: np.ndarray,
    settings: np.ndarray, clock: np.ndarray, counts: np.ndarray, active: np.ndarray,
    uniform: np.ndarray, uniform_index: int, accept_s: np.ndarray, accept_index: int,
    accepted: np.ndarray,
) -> tuple[int, int, int, int, int, int]:
    """Alert one call's volunteers in rounds; return the call's tally.

    The tally: volunteers alerted, rounds sent, volunteers who left, acceptances written,
    and the next unread index of ``uniform`` and of ``accept_s``.

    Mutates the volunteers' ``clock`` (load, load time), ``counts`` (alerts, weekly
    counts) and ``active`` (churn); writes each acceptance to a row of ``accepted``
    (accept time, volunteer, road metres) in the order they were drawn.
    """
    ui, ai = uniform_index, accept_index
    now_s = float(params[NOW_S])
    log_stay = float(params[LOG_STAY])
    interval_s = float(params[INTERVAL_S])
    decay_per_s, inv_fatigue = float(params[DECAY_PER_S]), float(params[INV_FATIGUE])
    accept_scale, inv_decay_m = float(params[ACCEPT_SCALE]), float(params[INV_DECAY_M])
    churn = float(params[CHURN])
    quiet_start, quiet_end = float(params[QUIET_START_H]), float(params[QUIET_END_H])
    remaining = int(settings[REMAINING])
    round_size, wanted = int(settings[ROUND_SIZE]), int(settings[WANTED])
    cap, quiet = int(settings[CAP]), int(settings[QUIET]) == 1
    everyone = log_stay == -math.inf  # all available this hour: no gaps to draw
    e = int(settings[FIRST_ENTRY])  # the entry being walked, and how many of its
    unpassed = int(entry_count[entry_node[e]])  # volunteers are not passed yet
    n_accepted = 0
    pending = -1  # an available candidate beyond the last round's radius, at pending_m
    pending_m = 0.0
    alerted_here = rounds = left = 0
    t_round = now_s
    for k in range(radius_m.shape[0]):
        radius = float(radius_m[k])
        if rounds:  # a later round: only in waking hours and while too few accepted
            if quiet and ((t_round / SECONDS_PER_HOUR) % 24.0 - quiet_start) % 24.0 < (
                    quiet_end - quiet_start) % 24.0:
                break
            if n_accepted >= wanted:
                arrived = 0
                for a in range(n_accepted):
                    if accepted[a, 0] <= t_round:
                        arrived += 1
                if arrived >= wanted:
                    break
        alerted = 0
        exhausted = False
        while alerted < round_size:
            if pending < 0:
                gap = 0.0
                if not everyone:
                    gap = math.log1p(-float(uniform[ui])) / log_stay
                    ui += 1
                if gap >= remaining:  # (a float: huge when hardly anyone is available)
                    exhausted = True
                    break
                skip = int(gap)
                remaining -= skip + 1
                while skip >= unpassed:  # walk on to the entry holding the candidate
                    skip -= unpassed
                    e += 1
                    unpassed = int(entry_count[entry_node[e]])
                pending = int(entry_volunteer[entry_start[entry_node[e] + 1] - unpassed + skip])
                pending_m = float(entry_m[e])
                unpassed -= skip + 1
                share = float(keep_by_kind[volunteer_kind[pending]])
                if share < 1.0:  # a less available kind: kept with the ratio
                    ui += 1
                    if float(uniform[ui - 1]) >= share:
                        pending = -1
                        continue
            d = pending_m
            if d > radius:
                break
            v = pending
            pending = -1
            if float(clock[v, BUSY_UNTIL_S]) > t_round or active[v] == 0:
                continue
            if cap >= 0:  # the weekly cap: counted when the alert goes out
                week = int(t_round // SECONDS_PER_WEEK)
                if counts[v, WEEK] != week:
                    counts[v, WEEK] = week
                    counts[v, WEEK_ALERTS] = 0
                if counts[v, WEEK_ALERTS] >= cap:
                    continue
                counts[v, WEEK_ALERTS] += 1
            alerted += 1
            # the alert: counted; fatigue is the load before it
            counts[v, ALERTS] += 1
            fatigue = float(clock[v, LOAD])
            if fatigue > 0.0:
                fatigue *= math.exp(-decay_per_s * (t_round - float(clock[v, LOAD_T_S])))
            clock[v, LOAD] = fatigue + 1.0
            clock[v, LOAD_T_S] = t_round
            x = float(uniform[ui])  # one draw: below churn the volunteer leaves, else may accept
            ui += 1
            if x < churn:
                active[v] = 0
                left += 1
            elif x - churn < accept_scale * math.exp(-d * inv_decay_m) / (
                    1.0 + fatigue * inv_fatigue):
                accepted[n_accepted, 0] = t_round + float(accept_s[ai])
                accepted[n_accepted, 1] = v
                accepted[n_accepted, 2] = d
                ai += 1
                n_accepted += 1
        if alerted:
            rounds += 1
            alerted_here += alerted
            t_round += interval_s
        if exhausted:
            break
    return alerted_here, rounds, left, n_accepted, ui, ai


alert_rounds: Callable[..., tuple[int, int, int, int, int, int]] = njit(
    SIGNATURE, cache=True, nogil=True)(alert_rounds_python)
