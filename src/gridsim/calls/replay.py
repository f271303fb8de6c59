"""Replay a call log as a run's incidents: the logged time, place and type of every call.

The exact replay (a run whose seed is the scenario's own ``seed``) puts each usable call
at its logged local time, counted from local midnight of the log's first day, on the road
node nearest its logged place. Any other seed resamples whole days: each day of the run
takes the calls of a log day drawn with replacement (stream ``replay.days``), each call
keeping its time of day. Priority, responders, activation and report delay come from the
scenario's incident type of the call's type; the on-scene time comes from the log (first
unit on scene to last unit cleared) where it gives both, else from the type's distribution.
"""

from __future__ import annotations

import datetime
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from gridsim.calls.fit import locator_of, world_locator
from gridsim.calls.mapping import Mapping, load_mapping
from gridsim.calls.read import CallLog, Rows, local_seconds, read_calls
from gridsim.calls.validate import FAR_OFF, far_off_warning
from gridsim.city.locate import DistrictLocator
from gridsim.core.errors import InputError
from gridsim.core.rng import stream
from gridsim.core.units import SECONDS_PER_DAY
from gridsim.demand.incidents import Incidents
from gridsim.scenario.schema import Replay, Scenario
from gridsim.world.build import World

_EPOCH_ORDINAL = datetime.date(1970, 1, 1).toordinal()  # local days count from 1970-01-01
EXACT, RESAMPLED = "exact", "resampled days"


@dataclass(frozen=True, eq=False)
class ReplayedCalls:
    """A replayed log: the run's incidents and, row for row, the logged call behind each."""

    incidents: Incidents
    log: CallLog  # the usable calls (after snapping); ``call`` indexes it
    call: np.ndarray  # (n,) int64: the call of ``log`` behind incident i
    log_day: np.ndarray  # (n,) int64: the log day it came from (0 = the log's first)
    snap_m: np.ndarray  # (n,) float64: metres from the logged place to its node
    on_scene_logged: np.ndarray  # (n,) bool: the on-scene time is the log's
    facts: dict[str, Any]  # summary.json's "replay" counts (the comparison is added later)


def replay_calls(scenario: Scenario, world: World, seed: int,
                 given: tuple[Mapping, CallLog] | None = None) -> ReplayedCalls:
    """Return the incidents of ``scenario``'s ``[replay]`` log for a run with ``seed``.

    ``given``: the mapping and the log already read (``gridsim calls check``, whose
    ``--period`` is the mapping's); else both are read from ``[replay]``.
    """
    config = scenario.replay
    if config is None:
        raise ValueError("the scenario has no [replay] section")
    mapping, log, calls_read, node, distance_m = _snapped_calls(
        scenario, world_locator(world, "replay"), given)
    local = local_seconds(log.received_s, log.timezone)  # wall clock: hours as logged
    day_abs = np.floor(local / SECONDS_PER_DAY).astype(np.int64)
    if mapping.period is not None:
        first_day = mapping.period.start.toordinal() - _EPOCH_ORDINAL
        log_days = (mapping.period.end - mapping.period.start).days
    else:
        first_day = int(day_abs.min())
        log_days = int(day_abs.max()) - first_day + 1
    day = day_abs - first_day
    time_of_day_s = local - day_abs * SECONDS_PER_DAY

    exact = seed == scenario.seed
    run_days = math.ceil(scenario.duration_days)
    if exact:
        drawn = None
        pick, run_day = np.arange(log.calls), day
    else:
        drawn = stream(seed, "replay.days").integers(0, log_days, size=run_days)
        pick, run_day = _calls_of_days(day, log_days, drawn)
    t_call = run_day * SECONDS_PER_DAY + time_of_day_s[pick]
    inside = t_call < scenario.duration_s
    beyond = int((~inside).sum())
    pick, t_call = pick[inside], t_call[inside]
    type_map = np.array([list(scenario.incidents).index(name) for name in log.type_names],
                        dtype=np.int16)
    type_id = type_map[log.type_index[pick]]
    order = np.lexsort((pick, type_id, t_call))  # ties: by type, then in log order
    pick, t_call, type_id = pick[order], t_call[order], type_id[order]

    incidents, logged = _incidents(scenario, seed, log, pick, t_call, type_id,
                                   node[pick].astype(np.int32))
    snap_m = distance_m[pick]
    facts = {
        "log": config.log,
        "mapping": config.mapping,
        "mode": EXACT if exact else RESAMPLED,
        "timezone": log.timezone,
        "first_day": datetime.date.fromordinal(first_day + _EPOCH_ORDINAL).isoformat(),
        "log_days": log_days,
        "days_drawn": None if drawn is None else [int(d) for d in drawn],
        "rows_read": log.rows_read,
        "rows_used": log.rows_used,
        "rows_left_out": _rows_json(log.dropped),
        "rows_incomplete": _rows_json(log.incomplete),
        "calls_read": calls_read,
        "calls_too_far": calls_read - log.calls,
        "calls_beyond_run": beyond,
        "calls_used": incidents.count,
        "on_scene_from_log": int(logged.sum()),
        "on_scene_drawn": int((~logged).sum()),
        "snap_m": {"p50": _round(np.median(snap_m)) if snap_m.size else None,
                   "p90": _round(np.quantile(snap_m, 0.9)) if snap_m.size else None,
                   "max": _round(snap_m.max()) if snap_m.size else None},
    }
    warnings = replay_warnings(log)
    if warnings:  # (only then: a clean log's summary is as before)
        facts["warnings"] = warnings
    return ReplayedCalls(incidents=incidents, log=log, call=pick, log_day=day[pick],
                         snap_m=snap_m, on_scene_logged=logged, facts=facts)


def check_replay(scenario: Scenario) -> tuple[str, list[str]]:
    """Return what ``scenario``'s replay log gives on its city and its warnings (validate).

    The checks are the run's: a log none of whose calls can be replayed is an error. The
    calls are snapped to the city's road nodes (no catchments are built).
    """
    config = scenario.replay
    if config is None:
        return "", []
    log = _snapped_calls(scenario, locator_of(scenario, "replay"))[1]
    left_out = sum(rows.n for rows in log.dropped.values())
    return (f"{log.calls:,} calls to replay from {Path(config.log).name} "
            f"({left_out:,} rows left out)"), replay_warnings(log)


def replay_warnings(log: CallLog) -> list[str]:
    """Return a warning for each thing in the replayed ``log`` a user should look at."""
    far = log.dropped.get(FAR_OFF)
    return [] if far is None else [
        f"replay.log: {log.source}: {far_off_warning(far.n, far.first, log.row_label)}"]


def _snapped_calls(scenario: Scenario, locator: DistrictLocator,
                   given: tuple[Mapping, CallLog] | None = None
                   ) -> tuple[Mapping, CallLog, int, np.ndarray, np.ndarray]:
    """Return the mapping, the calls near the roads, the calls read, nodes and distances.

    Each call kept has its nearest road node and the distance to it (m). A log with no
    call to replay is one error line. ``given``: the mapping and log already read.
    """
    config = scenario.replay
    assert config is not None
    if given is None:
        mapping = _mapping(config, scenario)
        log = read_calls(_existing(config.log, "log", "the CAD export"), mapping,
                         config.mapping)
    else:
        mapping, log = given
    if log.calls == 0:
        raise InputError(f"replay.log: {config.log}: no usable call (rows left out: "
                         f"{_reasons(log.dropped)}); check the log and replay.mapping")
    calls_read = log.calls
    node, distance_m = locator.nearest(log.lat, log.lon)
    far = distance_m > config.snap_max_m
    log = log.drop(far, f"farther than replay.snap_max_m ({config.snap_max_m:g} m) from a "
                        "road node")
    if log.calls == 0:
        raise InputError(f"replay.log: {config.log}: no call lies within replay.snap_max_m "
                         f"({config.snap_max_m:g} m) of {scenario.name}'s roads; check the "
                         "location columns, or raise replay.snap_max_m")
    return mapping, log, calls_read, node[~far], distance_m[~far]


def _mapping(config: Replay, scenario: Scenario) -> Mapping:
    """Return the mapping, checked to name only incident types the scenario has."""
    mapping = load_mapping(_existing(config.mapping, "mapping", "the mapping file"))
    for log_type, name in mapping.types.items():
        if name not in scenario.incidents:
            raise InputError(
                f"replay.mapping: {config.mapping}: types maps {log_type!r} to {name!r}, "
                f"which is not an incident type of {scenario.name}; add [incidents.{name}] "
                f"or map it to one of {', '.join(sorted(scenario.incidents))}")
    return mapping


def _existing(path: str, key: str, what: str) -> Path:
    """Return ``path`` if it is a file; else one ``InputError`` line naming ``replay.key``."""
    file = Path(path)
    if not file.is_file():
        problem = "file not found" if not file.exists() else "is not a file"
        raise InputError(f"replay.{key}: {path}: {problem}; give the path of {what}, "
                         "relative to the scenario file")
    return file


def _calls_of_days(day: np.ndarray, log_days: int, drawn: np.ndarray
                   ) -> tuple[np.ndarray, np.ndarray]:
    """Return the calls of each drawn log day (in log order) and the run day each lands on."""
    order = np.argsort(day, kind="stable")
    bounds = np.searchsorted(day[order], np.arange(log_days + 1))
    pick = np.concatenate([order[bounds[d]:bounds[d + 1]] for d in drawn]) if len(drawn) else (
        order[:0])
    counts = bounds[drawn + 1] - bounds[drawn]
    return pick.astype(np.int64), np.repeat(np.arange(len(drawn)), counts)


def _incidents(scenario: Scenario, seed: int, log: CallLog, pick: np.ndarray,
               t_call: np.ndarray, type_id: np.ndarray, node: np.ndarray
               ) -> tuple[Incidents, np.ndarray]:
    """Return the incidents and where their on-scene times are the log's (else drawn)."""
    names = tuple(scenario.incidents)
    n = t_call.shape[0]
    start, end = log.on_scene_s[pick], log.cleared_s[pick]
    logged = np.isfinite(start) & np.isfinite(end) & (end >= start)
    on_scene = np.where(logged, end - start, np.nan)
    harm = np.full(n, np.nan)
    report = np.zeros(n)
    delayed = any(kind.report_delay_s is not None for kind in scenario.incidents.values())
    for index, name in enumerate(names):
        kind = scenario.incidents[name]
        rows = type_id == index
        drawn = rows & ~logged
        on_scene[drawn] = kind.on_scene_s.sample(stream(seed, f"replay.{name}.on_scene"),
                                                 int(drawn.sum()))
        if kind.harm_threshold_s is not None:
            harm[rows] = kind.harm_threshold_s.sample(stream(seed, f"replay.{name}.harm"),
                                                      int(rows.sum()))
        if kind.report_delay_s is not None:  # the call is logged: the incident was earlier
            report[rows] = kind.report_delay_s.sample(stream(seed, f"replay.{name}.report"),
                                                      int(rows.sum()))
    priorities = np.array([scenario.incidents[name].priority for name in names], dtype=np.int8)
    priority = priorities[type_id]
    assert scenario.replay is not None
    if scenario.replay.priority_from == "call":  # the call's own, where the log gives one
        logged_priority = log.priority[pick]
        priority = np.where(logged_priority > 0, logged_priority, priority).astype(np.int8)
    incidents = Incidents(
        type_names=names, t_call_s=t_call, type_id=type_id.astype(np.int16), node=node,
        priority=priority, on_scene_s=on_scene, harm_threshold_s=harm,
        t_occur_s=t_call - report if delayed else None,
        alarmed=np.zeros(n, dtype=bool) if delayed else None,
    )
    return incidents, logged


def _rows_json(rows: dict[str, Rows]) -> dict[str, Any]:
    return {reason: {"rows": r.n, "first": list(r.first)} for reason, r in rows.items()}


def _reasons(dropped: dict[str, Rows]) -> str:
    if not dropped:
        return "none"
    return ", ".join(f"{reason}: {r.n}" for reason, r in dropped.items())


def _round(value: float) -> float:
    return round(float(value), 1)
