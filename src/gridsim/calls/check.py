"""Recorded against simulated: replay a log's calls through a scenario and compare.

Each call of the log (its own time, place, type and priority) is replayed through the
scenario, and four intervals are set side by side, recorded and simulated: response
(received -> first unit on scene), handling (received -> first dispatch), and the first
unit on scene's turnout (dispatched -> en route) and travel (en route -> on scene). Each
gets its p50 and p90 with distribution-free 95% CIs, the ratio simulated / recorded with
a bootstrap 95% CI, overall, by priority, by the first unit's type, by hour of day and by
station area.

The recorded figures are computed as a planner would: per call, the first unit on scene;
a call with no unit on scene is counted (and left out of the response figures, in both
columns). A log to the minute is compared to the minute: each simulated call is given a
random second within its logged minute and its simulated times are cut to the minute as
the log's clock would have cut them. Quantiles of whole minutes jump a minute at a time
(a p50 of 6 against 7 is a ratio of 1.17 from a shift of a few calls), so both columns
then get the same continuity correction before their quantiles are taken: a uniform
draw within the minute added to each interval, as for quantiles of counts (Machado and
Santos Silva, 2005, "Quantiles for counts", JASA 100:1226-1237).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from gridsim.calls.fleet_fit import minute_resolution
from gridsim.calls.mapping import Mapping
from gridsim.calls.read import CallLog, local_seconds, read_calls
from gridsim.calls.replay import replay_calls
from gridsim.core.errors import InputError
from gridsim.core.rng import stream
from gridsim.core.stats import quantile_ci
from gridsim.core.units import SECONDS_PER_DAY, SECONDS_PER_HOUR, SECONDS_PER_MINUTE
from gridsim.scenario.schema import Replay, Scenario
from gridsim.sim.engine import simulate
from gridsim.sim.records import SimulationRecords
from gridsim.world.build import build_world

MEASURES = ("response_s", "handling_s", "turnout_s", "travel_s")
BOOTSTRAP = 400  # resamples of each ratio's CI
MIN_GROUP = 30  # smaller groups (an hour, an area) are listed without figures
MAX_DAYS = 366  # the longest run a scenario allows
QQ_P = np.round(np.arange(1, 100) / 100.0, 2)  # the quantiles kept for the QQ figure


@dataclass(frozen=True, eq=False)
class CallTimes:
    """Per call, the four intervals (seconds, NaN: not there) and who was on scene first."""

    response_s: np.ndarray
    handling_s: np.ndarray
    turnout_s: np.ndarray
    travel_s: np.ndarray
    first_type: np.ndarray  # (n,) str (object): the first unit on scene's type or fleet

    def measure(self, name: str) -> np.ndarray:
        """Return the intervals of ``name`` (one of ``MEASURES``)."""
        return np.asarray(getattr(self, name))


def first_rows(group: np.ndarray, time_s: np.ndarray, rows: np.ndarray) -> np.ndarray:
    """Return, of ``rows``, each group's row with the smallest time (ties: the lower row)."""
    order = rows[np.lexsort((rows, time_s[rows], group[rows]))]
    if not order.size:
        return order
    return order[np.r_[True, group[order][1:] != group[order][:-1]]]


def recorded_times(log: CallLog, calls: np.ndarray) -> CallTimes:
    """Return the recorded intervals of the log's ``calls`` (the first unit on scene's)."""
    received = log.received_s[calls]
    n = calls.shape[0]
    turnout, travel = np.full(n, np.nan), np.full(n, np.nan)
    first_type = np.full(n, None, dtype=object)
    units = log.units
    if units is not None:
        position = np.full(log.calls, -1, dtype=np.int64)
        position[calls] = np.arange(n)
        rows = np.flatnonzero((position[units.call] >= 0) & np.isfinite(units.on_scene_s))
        first = first_rows(units.call, units.on_scene_s, rows)  # first unit on scene
        at = position[units.call[first]]
        turnout[at] = units.en_route_s[first] - units.dispatched_s[first]
        travel[at] = units.on_scene_s[first] - units.en_route_s[first]
        first_type[at] = units.unit_type[first]
    return CallTimes(log.on_scene_s[calls] - received, log.dispatched_s[calls] - received,
                     turnout, travel, first_type)


def simulated_times(records: SimulationRecords, fleet_names: tuple[str, ...],
                    minute: bool, seed: int) -> CallTimes:
    """Return the simulated intervals per incident, cut to the minute when ``minute``."""
    incidents, d = records.incidents, records.dispatches
    n = incidents.count
    t_call = incidents.t_call_s
    first = first_rows(d["incident"], d["t_arrive_s"],
                       np.flatnonzero(np.isfinite(d["t_arrive_s"])))  # first on scene
    first_row = np.full(n, -1, dtype=np.int64)
    first_row[d["incident"][first]] = first
    best = np.full(n, np.inf)
    best[d["incident"][first]] = d["t_arrive_s"][first]
    dispatch = np.full(n, np.inf)
    np.minimum.at(dispatch, d["incident"], d["t_dispatch_s"])
    en_route = np.full(d["incident"].shape[0], np.nan)
    fleet_of_row = np.full(d["incident"].shape[0], -1, dtype=np.int64)
    if records.unit_rows:
        en_route[records.unit_rows["row"]] = records.unit_rows["t_en_route_s"]
        fleet_of_row[records.unit_rows["row"]] = records.unit_rows["fleet"]
    has = first_row >= 0
    first_dispatch = np.where(has, d["t_dispatch_s"][np.maximum(first_row, 0)], np.nan)
    first_en_route = np.where(has, en_route[np.maximum(first_row, 0)], np.nan)
    on_scene = np.where(has, best, np.nan)
    if minute:  # as the log's clock would have written them: a random second, then cut
        phase = stream(seed, "calls.check.phase").random(n) * SECONDS_PER_MINUTE

        def cut(t_s: np.ndarray) -> np.ndarray:
            return np.floor((phase + t_s - t_call) / SECONDS_PER_MINUTE) * SECONDS_PER_MINUTE

        received_cut = np.zeros(n)
        on_scene, first_dispatch = cut(on_scene), cut(first_dispatch)
        first_en_route = cut(first_en_route)
        dispatch = cut(np.where(np.isfinite(dispatch), dispatch, np.nan))
    else:
        received_cut = t_call
        dispatch = np.where(np.isfinite(dispatch), dispatch, np.nan)
    fleet = fleet_of_row[np.maximum(first_row, 0)]
    first_type = np.array([fleet_names[f] if h and f >= 0 else None
                           for f, h in zip(fleet.tolist(), has.tolist(), strict=True)],
                          dtype=object)
    return CallTimes(on_scene - received_cut, dispatch - received_cut,
                     first_en_route - first_dispatch, on_scene - first_en_route, first_type)


def compare_times(recorded: CallTimes, simulated: CallTimes, priority: np.ndarray,
                  hour: np.ndarray, area: np.ndarray, area_names: tuple[str, ...],
                  seed: int) -> dict[str, Any]:
    """Return every figure of ``check.json``: overall and by group, for each measure."""
    rng = stream(seed, "calls.check.bootstrap")
    out: dict[str, Any] = {}
    for measure in MEASURES:
        rec, sim = recorded.measure(measure), simulated.measure(measure)
        groups: dict[str, Any] = {"overall": _pair(rec, sim, rng)}
        groups["by_priority"] = {str(p): _pair(rec[priority == p], sim[priority == p], rng)
                                 for p in sorted(set(priority.tolist()))}
        groups["by_hour"] = {str(h): _pair(rec[hour == h], sim[hour == h], None)
                             for h in range(24)}
        groups["by_area"] = {area_names[a]: _pair(rec[area == a], sim[area == a], None)
                             for a in sorted(set(area.tolist()))}
        kinds = sorted({str(t) for t in recorded.first_type if t is not None}
                       | {str(t) for t in simulated.first_type if t is not None})
        groups["by_first_unit_type"] = {
            kind: _pair(rec[recorded.first_type == kind], sim[simulated.first_type == kind],
                        rng) for kind in kinds}
        out[measure] = groups
    return out


def _pair(recorded: np.ndarray, simulated: np.ndarray, rng: np.random.Generator | None
          ) -> dict[str, Any]:
    """Return p50 and p90 of both samples with CIs, and the ratios (bootstrap CIs: ``rng``)."""
    rec = np.sort(recorded[np.isfinite(recorded) & (recorded >= 0.0)])
    sim = np.sort(simulated[np.isfinite(simulated) & (simulated >= 0.0)])
    result: dict[str, Any] = {"n_recorded": int(rec.size), "n_simulated": int(sim.size)}
    if min(rec.size, sim.size) < MIN_GROUP:
        return result
    for label, q in (("p50", 0.5), ("p90", 0.9)):
        r, s = float(np.quantile(rec, q)), float(np.quantile(sim, q))
        boot = [] if rng is None else [
            _ratio(np.quantile(rng.choice(sim, sim.size), q),
                   np.quantile(rng.choice(rec, rec.size), q)) for _ in range(BOOTSTRAP)]
        finite = np.array([b for b in boot if math.isfinite(b)])
        ratio = _ratio(s, r)
        result[label] = {
            "recorded": round(r, 1), "recorded_ci": [round(v, 1) for v in quantile_ci(rec, q)],
            "simulated": round(s, 1),
            "simulated_ci": [round(v, 1) for v in quantile_ci(sim, q)],
            "ratio": round(ratio, 3) if math.isfinite(ratio) else None,
            "ratio_ci": ([round(float(v), 3) for v in np.quantile(finite, [0.025, 0.975])]
                         if finite.size else None),
        }
    return result


def _ratio(simulated: float, recorded: float) -> float:
    return simulated / recorded if recorded > 0 else math.nan


def call_hours(log: CallLog, calls: np.ndarray) -> np.ndarray:
    """Return the local hour of day each of the log's ``calls`` was received."""
    local = local_seconds(log.received_s[calls], log.timezone)
    return (np.floor(np.mod(local, SECONDS_PER_DAY) / SECONDS_PER_HOUR)).astype(np.int64)


def log_is_to_the_minute(log: CallLog) -> bool:
    """Return whether the log's times are whole minutes (compared to the minute)."""
    return minute_resolution(log.received_s, log.dispatched_s, log.on_scene_s)


def run_check(scenario: Scenario, log_path: Path, mapping_path: Path, mapping: Mapping
              ) -> dict[str, Any]:
    """Return ``check.json``: the log's calls replayed through ``scenario``, compared.

    The run covers the mapping's period (else the log's days), replays every call at its
    logged time (the scenario's own seed: exact replay) and compares call by call.
    """
    log = read_calls(log_path, mapping, str(mapping_path))
    for log_type, name in mapping.types.items():
        if name not in scenario.incidents:
            raise InputError(f"{mapping_path}: types maps {log_type!r} to {name!r}, which is "
                             f"not an incident type of {scenario.name}; use the scenario "
                             "gridsim calls fit wrote with this mapping")
    if log.calls == 0:
        raise InputError(f"{log_path}: no usable call in the period; check --period")
    if mapping.period is not None:
        days = (mapping.period.end - mapping.period.start).days
    else:
        local_day = np.floor(local_seconds(log.received_s, log.timezone) / SECONDS_PER_DAY)
        days = int(local_day.max() - local_day.min()) + 1
    if days > MAX_DAYS:
        raise InputError(f"the log spans {days} days; check at most {MAX_DAYS} at a time "
                         "(give --period START..END)")
    scenario = scenario.model_copy(update={
        "replay": Replay(log=str(log_path), mapping=str(mapping_path)),
        "duration_days": float(days), "warmup_hours": 0.0})
    world = build_world(scenario)
    replayed = replay_calls(scenario, world, scenario.seed, (mapping, log))
    records = simulate(world, replayed.incidents, scenario.seed)
    calls = replayed.call
    used = replayed.log
    minute = log_is_to_the_minute(used)
    recorded = recorded_times(used, calls)
    simulated = simulated_times(records, tuple(scenario.fleets), minute, scenario.seed)
    if minute:  # quantiles of whole minutes: the same continuity correction on both sides
        jitter = stream(scenario.seed, "calls.check.jitter")
        recorded, simulated = (_jittered(times, jitter) for times in (recorded, simulated))
    figures = compare_times(
        recorded, simulated, used.priority[calls], call_hours(used, calls),
        world.zones.node_station[replayed.incidents.node].astype(np.int64),
        world.station_names, scenario.seed)
    return {
        "scenario": scenario.name,
        "log": str(log_path),
        "period": ({"start": mapping.period.start.isoformat(),
                    "end": mapping.period.end.isoformat(), "days": days}
                   if mapping.period is not None else {"days": days}),
        "calls": {
            "replayed": int(calls.shape[0]),
            "recorded_without_unit_on_scene": int(np.isnan(recorded.response_s).sum()),
            "simulated_without_unit_on_scene": int(np.isnan(simulated.response_s).sum()),
            "left_out": {reason: rows.n for reason, rows in used.dropped.items()},
        },
        "compared_to_the_minute": minute,
        "figures": figures,
        "quantiles": {measure: {
            "p": QQ_P.tolist(),
            "recorded": _quantiles(recorded.measure(measure)),
            "simulated": _quantiles(simulated.measure(measure))} for measure in MEASURES},
    }


def _jittered(times: CallTimes, rng: np.random.Generator) -> CallTimes:
    """Return ``times`` with a uniform draw within the minute added to each interval."""
    def spread(values: np.ndarray) -> np.ndarray:
        return values + rng.random(values.shape[0]) * SECONDS_PER_MINUTE

    return CallTimes(spread(times.response_s), spread(times.handling_s),
                     spread(times.turnout_s), spread(times.travel_s), times.first_type)


def _quantiles(values: np.ndarray) -> list[float] | None:
    """Return the 1st..99th percentiles of the finite, non-negative ``values`` (s)."""
    kept = values[np.isfinite(values) & (values >= 0.0)]
    return np.round(np.quantile(kept, QQ_P), 1).tolist() if kept.size else None
