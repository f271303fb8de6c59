"""Summaries computed from the records after a run: response times, shares, loads.

Percentiles come with distribution-free 95% confidence intervals from order statistics
(the rank of the q-quantile among n draws is Binomial(n, q)).
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

import numpy as np

from gridsim.analysis.layers import (
    describe_counts,
    fleet_summary,
    mediation_summary,
    platform_summary,
    volunteer_summary,
    watch_point_summary,
)
from gridsim.core.stats import (
    describe,
    round_to,
    rounded_ratio,
    rounded_share,
)
from gridsim.core.units import SECONDS_PER_DAY, SECONDS_PER_HOUR, SECONDS_PER_YEAR
from gridsim.sim.records import (
    KIND_CODE,
    LOCAL_KINDS,
    POLICE_KINDS,
    RESPONDER_KINDS,
    SimulationRecords,
)

if TYPE_CHECKING:
    from gridsim.world.fleets import Fleets

NO_KIND = -1


def incident_outcomes(records: SimulationRecords) -> dict[str, np.ndarray]:
    """Return per-incident outcome columns: first and police arrival (s after the call)."""
    n = records.incidents.count
    d = records.dispatches
    t_call = records.incidents.t_call_s
    delay = d["t_arrive_s"] - t_call[d["incident"]]
    first = _min_by_incident(n, d["incident"], delay)
    police_rows = np.isin(d["kind"], [KIND_CODE[k] for k in POLICE_KINDS])
    police = _min_by_incident(n, d["incident"][police_rows], delay[police_rows])
    local_rows = np.isin(d["kind"], [KIND_CODE[k] for k in LOCAL_KINDS])
    local = _min_by_incident(n, d["incident"][local_rows], delay[local_rows])
    first_kind = np.full(n, NO_KIND, dtype=np.int8)
    # the earliest row of each incident wins; ties go to the row logged first
    order = np.lexsort((np.arange(delay.shape[0]), delay, d["incident"]))
    incident_sorted = d["incident"][order]
    head = np.ones(order.shape[0], dtype=bool)
    head[1:] = incident_sorted[1:] != incident_sorted[:-1]
    first_kind[incident_sorted[head]] = d["kind"][order[head]]
    police_sent = np.bincount(d["incident"][police_rows], minlength=n) > 0
    # a unit stood down never arrives (police nan): the local responder was first
    return {
        "first_arrival_s": first,
        "first_kind": first_kind,
        "police_arrival_s": police,
        "police_sent": police_sent,
        "local_before_police": local < np.where(np.isnan(police), np.inf, police),
    }


def summarize(records: SimulationRecords, district_names: tuple[str, ...],
              node_district: np.ndarray, warmup_s: float = 0.0,
              fleets: Fleets | None = None) -> dict[str, Any]:
    """Return the JSON-ready summary of one run, counting calls from ``warmup_s`` on.

    Utilisation and alerts cover the whole run, warm-up included; utilisation by hour of
    day needs the world's ``fleets`` (their shifts) and is left out without them.
    """
    inc = records.incidents
    counted = inc.t_call_s >= warmup_s
    out = {name: column[counted] for name, column in incident_outcomes(records).items()}
    first, police = out["first_arrival_s"], out["police_arrival_s"]
    district = node_district[inc.node][counted]
    type_id = inc.type_id[counted]
    priority = inc.priority[counted]
    has_police = out["police_sent"]
    alerts = records.volunteer_alerts
    summary: dict[str, Any] = {
        "incidents": int(counted.sum()),
        "answered": int(np.isfinite(first).sum()),
        "first_arrival_s": describe(first),
        "police_arrival_s": describe(police),
        "local_before_police_share": rounded_share(out["local_before_police"][has_police]),
        "patrol_utilisation": _utilisation(records, ("patrol",)),
        "community_police_utilisation": _utilisation(records, ("community_police",)),
        "mediator_utilisation": _utilisation(records, ("mediator",)),
        "volunteer_alerts_per_volunteer": describe_counts(alerts),
        "volunteers": volunteer_summary(records),
        "outcomes": outcome_summary(records, out, counted, warmup_s),
        "police": police_summary(records, police[has_police], priority[has_police]),
        "mediation": mediation_summary(records, counted, warmup_s),
        "watch_points": watch_point_summary(records, counted),
        "by_type": {
            name: _group(first, police, type_id == code)
            for code, name in enumerate(inc.type_names)
        },
        "by_district": {
            name: _group(first, police, district == code)
            for code, name in enumerate(district_names)
        },
        "by_priority": {
            str(level): _group(first, police, priority == level)
            for level in np.unique(priority).tolist()
        },
        "by_responder_kind": {
            kind: _kind_summary(records, out["first_kind"], code, counted)
            for code, kind in enumerate(RESPONDER_KINDS)
        },
        "by_hour": _by_hour(inc.t_call_s[counted], first),
    }
    if inc.t_occur_s is not None:  # times from the incident itself, report delay included
        report_s = inc.report_delay_s()[counted]
        summary["report_delay_s"] = describe(report_s)
        summary["first_arrival_from_incident_s"] = describe(first + report_s)
    if fleets is not None:
        summary["utilisation_by_hour"] = utilisation_by_hour(records, fleets)
    if records.platform:
        summary["platform"] = platform_summary(records, counted, warmup_s)
    if records.unit_rows:
        summary["fleets"] = fleet_summary(records, counted)
    return summary


def outcome_summary(records: SimulationRecords, outcomes: dict[str, np.ndarray],
                    counted: np.ndarray, warmup_s: float) -> dict[str, Any]:
    """Return what the layers achieved: help, rescues, stand-downs, redundancy (and a year).

    ``outcomes`` are ``incident_outcomes`` columns already restricted to ``counted``, the
    calls from ``warmup_s`` on; ``per_year`` scales the counts to 365 days.
    """
    inc, d = records.incidents, records.dispatches
    counted_rows = counted[d["incident"]]
    arrived = counted_rows & np.isfinite(d["t_arrive_s"])
    volunteer = d["kind"] == KIND_CODE["volunteer"]
    police = np.isin(d["kind"], [KIND_CODE[k] for k in POLICE_KINDS])
    assisted = np.unique(d["incident"][arrived & volunteer]).shape[0]
    stood_down = int((counted_rows & police & ~np.isfinite(d["t_arrive_s"])).sum())
    local = np.isin(d["kind"], [KIND_CODE[k] for k in (*LOCAL_KINDS, "watch_point")])
    local_arrivals = np.bincount(d["incident"][arrived & local], minlength=inc.count)
    redundant = int(np.maximum(local_arrivals - 1, 0).sum())
    # the harm threshold runs from the incident; response times run from the call
    threshold = (np.full(inc.count, np.nan) if inc.harm_threshold_s is None
                 else inc.harm_threshold_s - inc.report_delay_s())[counted]
    at_risk = np.isfinite(threshold)
    first = outcomes["first_arrival_s"]
    rescued = at_risk & np.isfinite(first) & (first <= np.where(at_risk, threshold, 0.0))
    by_volunteer = rescued & (outcomes["first_kind"] == KIND_CODE["volunteer"])
    counts = {
        "assisted_by_volunteers": int(assisted),
        "persons_at_risk": int(at_risk.sum()),
        "rescued": int(rescued.sum()),
        "rescued_by_volunteers": int(by_volunteer.sum()),
        "police_stood_down": stood_down,
        "redundant_arrivals": redundant,
    }
    per_year = SECONDS_PER_YEAR / (records.duration_s - warmup_s)
    return {
        **counts,
        "police_hours_saved": round_to(records.police_saved_unit_s / SECONDS_PER_HOUR),
        "local_activations": dict(records.activations),
        "per_year": {key: round_to(value * per_year, 0) for key, value in counts.items()},
    }


def police_summary(records: SimulationRecords, police_arrival_s: np.ndarray,
                   priority: np.ndarray) -> dict[str, Any]:
    """Return the police section: preemptions, street-post rings, quick-response shares.

    ``police_arrival_s`` (s after the call) and ``priority`` are of the counted calls police
    were sent to; a share within t is of those police reached (stood-down calls are out).
    """
    ops = dict(records.police_ops)
    within_s = ops.pop("quick_response_s", [60.0, 180.0, 300.0])
    reached = np.isfinite(police_arrival_s)

    def shares(mask: np.ndarray) -> list[float | None]:
        arrival = police_arrival_s[mask & reached]
        return [rounded_share(arrival <= t) for t in within_s]

    return {
        **ops,
        "quick_response": {
            "within_s": within_s,
            "share": shares(np.ones(reached.shape[0], dtype=bool)),
            "by_priority": {str(p): shares(priority == p)
                            for p in np.unique(priority).tolist()},
        },
    }


def run_warnings(summary: dict[str, Any]) -> list[str]:
    """Return one line for each way a run's summary says nothing useful (else none)."""
    inputs = list((summary.get("replay") or {}).get("warnings", []))  # a replayed log's
    if summary["incidents"] == 0:
        return [*inputs, "the run drew no incidents, so there are no response times; raise "
                "incidents.*.rate_per_day or duration_days"]
    if summary["answered"] == 0:
        return [*inputs, f"no responder reached any of the {summary['incidents']:,} "
                "incidents; check the responder counts and shifts and each incident type's "
                "responders"]
    return inputs


def summary_value(summary: dict[str, Any], metric: str) -> float:
    """Return one number from a run summary: a dotted path, or ``answered_share``."""
    if metric == "answered_share":
        return summary["answered"] / max(summary["incidents"], 1)
    value: Any = summary
    for part in metric.split("."):
        value = value[part]
    return math.nan if value is None else float(value)


def busy_unit_s(
    dispatches: dict[str, np.ndarray], rows: np.ndarray, start_s: float, end_s: float
) -> float:
    """Return the unit-seconds the dispatch ``rows`` keep units busy within [start, end]."""
    begin = np.clip(dispatches["t_dispatch_s"][rows], start_s, end_s)
    finish = np.clip(dispatches["t_free_s"][rows], start_s, end_s)
    return float((finish - begin).sum())


def utilisation_by_hour(records: SimulationRecords, fleets: Fleets
                        ) -> dict[str, list[float | None]]:
    """Return, per station fleet, busy over on-duty unit-seconds in each hour of the day.

    Hour h pools that hour of every simulated day. Busy time is each dispatch's
    dispatch-to-free span; on-duty time follows each unit's shift. A unit finishing a job
    after its shift has ended is busy but not on duty, so an hour can exceed 1 (rarely).
    """
    d = records.dispatches
    out: dict[str, list[float | None]] = {}
    for fleet in fleets.station_fleets():
        rows = d["kind"] == KIND_CODE[fleet.kind]
        busy = _by_hour_of_day(d["t_dispatch_s"][rows], d["t_free_s"][rows],
                               records.duration_s)
        duty = duty_by_hour(fleet.shift_start_h, fleet.shift_length_h, records.duration_s)
        out[fleet.kind] = [rounded_ratio(float(b), float(u))
                           for b, u in zip(busy, duty, strict=True)]
    return out


def duty_by_hour(shift_start_h: np.ndarray, shift_length_h: np.ndarray, duration_s: float
                 ) -> np.ndarray:
    """Return the on-duty unit-seconds in each hour of the day over [0, duration_s]."""
    pairs = np.stack([shift_start_h, shift_length_h], axis=1).astype(float)
    shifts, units = np.unique(pairs, axis=0, return_counts=True)
    days = np.arange(-1, math.ceil(duration_s / SECONDS_PER_DAY) + 1, dtype=float)
    starts = ((days[None, :] * 24.0 + shifts[:, :1]) * SECONDS_PER_HOUR).ravel()
    ends = starts + np.repeat(shifts[:, 1] * SECONDS_PER_HOUR, days.shape[0])
    return _by_hour_of_day(starts, ends, duration_s,
                           np.repeat(units.astype(float), days.shape[0]))


def _by_hour_of_day(starts: np.ndarray, ends: np.ndarray, duration_s: float,
                    weight: np.ndarray | None = None) -> np.ndarray:
    """Return the (weighted) time the intervals cover in [0, duration_s], by hour of day."""
    hours = max(math.ceil(duration_s / SECONDS_PER_HOUR), 1)
    edges = np.minimum(np.arange(hours + 1) * SECONDS_PER_HOUR, duration_s)
    starts, ends = np.clip(starts, 0.0, duration_s), np.clip(ends, 0.0, duration_s)  # no inf
    inside = np.diff(_time_inside(starts, ends, edges, weight))
    return np.bincount(np.arange(hours) % 24, weights=inside, minlength=24)


def _time_inside(starts: np.ndarray, ends: np.ndarray, t: np.ndarray,
                 weight: np.ndarray | None = None) -> np.ndarray:
    """Return, for each time in ``t``, the (weighted) length of the intervals before it."""
    return _ramp(starts, t, weight) - _ramp(ends, t, weight)


def _ramp(x: np.ndarray, t: np.ndarray, weight: np.ndarray | None) -> np.ndarray:
    """Return sum_i weight_i * max(0, t - x_i) for each time in ``t``."""
    w = np.ones(x.shape[0]) if weight is None else weight
    order = np.argsort(x, kind="stable")
    x, w = x[order], w[order]
    weights = np.concatenate([[0.0], np.cumsum(w)])
    moments = np.concatenate([[0.0], np.cumsum(w * x)])
    k = np.searchsorted(x, t, side="right")
    return np.asarray(weights[k] * t - moments[k])


def _group(first: np.ndarray, police: np.ndarray, mask: np.ndarray) -> dict[str, Any]:
    return {
        "incidents": int(mask.sum()),
        "first_arrival_s": describe(first[mask]),
        "police_arrival_s": describe(police[mask]),
    }


def _kind_summary(
    records: SimulationRecords, first_kind: np.ndarray, code: int, counted: np.ndarray
) -> dict[str, Any]:
    d = records.dispatches
    rows = (d["kind"] == code) & counted[d["incident"]]
    arrival = d["t_arrive_s"][rows] - records.incidents.t_call_s[d["incident"][rows]]
    kind = RESPONDER_KINDS[code]
    return {
        "dispatches": int(rows.sum()),
        "incidents_reached": int(np.unique(d["incident"][rows]).shape[0]),
        "arrival_s": describe(arrival),
        "first_on_scene_share": rounded_share(first_kind == code),
        "utilisation": _utilisation(records, (kind,)) if kind in records.duty_unit_s else None,
    }


def _by_hour(t_call_s: np.ndarray, first: np.ndarray) -> dict[str, list[Any]]:
    hour = (t_call_s // SECONDS_PER_HOUR).astype(np.int64) % 24
    p50: list[float | None] = []
    for h in range(24):
        values = first[(hour == h) & np.isfinite(first)]
        p50.append(round_to(np.median(values)) if values.shape[0] else None)
    return {"incidents": np.bincount(hour, minlength=24).tolist(), "first_arrival_p50_s": p50}


def _utilisation(records: SimulationRecords, kinds: tuple[str, ...]) -> float | None:
    """Return busy over on-duty unit-seconds of ``kinds``, both within the run's span."""
    d = records.dispatches
    rows = np.isin(d["kind"], [KIND_CODE[k] for k in kinds])
    duty = sum(records.duty_unit_s.get(k, 0.0) for k in kinds)
    return rounded_ratio(busy_unit_s(d, rows, 0.0, records.duration_s), duty)


def _min_by_incident(n: int, incident: np.ndarray, values: np.ndarray) -> np.ndarray:
    out = np.full(n, np.inf)
    np.minimum.at(out, incident, values)
    out[np.isinf(out)] = np.nan
    return out
