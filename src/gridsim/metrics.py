"""Summaries computed from the records after a run: response times, shares, loads.

Percentiles come with distribution-free 95% confidence intervals from order statistics
(the rank of the q-quantile among n draws is Binomial(n, q)).
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

import numpy as np
from scipy import stats

from gridsim.dispatch import mediation as med
from gridsim.dispatch import watch_points as wp
from gridsim.engine import SimulationRecords
from gridsim.log import KIND_CODE, LOCAL_KINDS, POLICE_KINDS, RESPONDER_KINDS

if TYPE_CHECKING:
    from gridsim.fleets import Fleets

QUANTILES = {"p50": 0.50, "p90": 0.90, "p95": 0.95}
CI_LEVEL = 0.95
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
        "volunteer_alerts_per_volunteer": _describe_counts(alerts),
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
    per_year = 365.0 * 86_400.0 / (records.duration_s - warmup_s)
    return {
        **counts,
        "police_hours_saved": _round(records.police_saved_unit_s / 3600.0),
        "local_activations": dict(records.activations),
        "per_year": {key: _round(value * per_year, 0) for key, value in counts.items()},
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
    if summary["incidents"] == 0:
        return ["the run drew no incidents, so there are no response times; raise "
                "incidents.*.rate_per_day or duration_days"]
    if summary["answered"] == 0:
        return [f"no responder reached any of the {summary['incidents']:,} incidents; check "
                "the responder counts and shifts and each incident type's responders"]
    return []


def summary_value(summary: dict[str, Any], metric: str) -> float:
    """Return one number from a run summary: a dotted path, or ``answered_share``."""
    if metric == "answered_share":
        return summary["answered"] / max(summary["incidents"], 1)
    value: Any = summary
    for part in metric.split("."):
        value = value[part]
    return math.nan if value is None else float(value)


def describe(values: np.ndarray) -> dict[str, Any]:
    """Return n, mean and p50/p90/p95 with 95% CIs of the finite ``values``."""
    finite = np.sort(values[np.isfinite(values)])
    n = int(finite.shape[0])
    result: dict[str, Any] = {"n": n, "mean": _round(finite.mean()) if n else None}
    for label, q in QUANTILES.items():
        if n == 0:
            result[label] = None
            result[f"{label}_ci"] = None
            continue
        result[label] = _round(np.quantile(finite, q))
        result[f"{label}_ci"] = [_round(v) for v in quantile_ci(finite, q)]
    return result


def quantile_ci(sorted_values: np.ndarray, q: float) -> tuple[float, float]:
    """Return a distribution-free ~95% CI of the q-quantile from sorted values."""
    n = sorted_values.shape[0]
    alpha = (1.0 - CI_LEVEL) / 2.0
    lo = int(stats.binom.ppf(alpha, n, q)) - 1
    hi = int(stats.binom.ppf(1.0 - alpha, n, q))
    return float(sorted_values[max(lo, 0)]), float(sorted_values[min(hi, n - 1)])


def wilson_interval(successes: int, n: int) -> tuple[float, float, float]:
    """Return a share and its 95% Wilson score interval (all nan when ``n`` is 0)."""
    if n == 0:
        return math.nan, math.nan, math.nan
    z = float(stats.norm.ppf(0.5 + CI_LEVEL / 2.0))
    p = successes / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * np.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return p, float(centre - half), float(centre + half)


def mean_ci(sample: np.ndarray, level: float) -> tuple[float, float]:
    """Return the mean of ``sample`` and the half-width of its two-sided t interval.

    The half-width is nan with fewer than two values; the mean is nan with none.
    """
    n = sample.shape[0]
    mean = float(sample.mean()) if n else float("nan")
    if n < 2:
        return mean, float("nan")
    t = float(stats.t.ppf(0.5 + level / 2.0, n - 1))
    return mean, t * float(sample.std(ddof=1)) / float(np.sqrt(n))


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
    days = np.arange(-1, math.ceil(duration_s / 86400.0) + 1, dtype=float)
    starts = ((days[None, :] * 24.0 + shifts[:, :1]) * 3600.0).ravel()
    ends = starts + np.repeat(shifts[:, 1] * 3600.0, days.shape[0])
    return _by_hour_of_day(starts, ends, duration_s,
                           np.repeat(units.astype(float), days.shape[0]))


def _by_hour_of_day(starts: np.ndarray, ends: np.ndarray, duration_s: float,
                    weight: np.ndarray | None = None) -> np.ndarray:
    """Return the (weighted) time the intervals cover in [0, duration_s], by hour of day."""
    hours = max(math.ceil(duration_s / 3600.0), 1)
    edges = np.minimum(np.arange(hours + 1) * 3600.0, duration_s)
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
    hour = (t_call_s // 3600.0).astype(np.int64) % 24
    p50: list[float | None] = []
    for h in range(24):
        values = first[(hour == h) & np.isfinite(first)]
        p50.append(_round(np.median(values)) if values.shape[0] else None)
    return {"incidents": np.bincount(hour, minlength=24).tolist(), "first_arrival_p50_s": p50}


def _utilisation(records: SimulationRecords, kinds: tuple[str, ...]) -> float | None:
    """Return busy over on-duty unit-seconds of ``kinds``, both within the run's span."""
    d = records.dispatches
    rows = np.isin(d["kind"], [KIND_CODE[k] for k in kinds])
    duty = sum(records.duty_unit_s.get(k, 0.0) for k in kinds)
    return rounded_ratio(busy_unit_s(d, rows, 0.0, records.duration_s), duty)


def _describe_counts(counts: np.ndarray) -> dict[str, Any]:
    if counts.shape[0] == 0:
        return {"volunteers": 0, "mean": None, "p50": None, "p90": None, "p99": None,
                "max": None, "alerted_share": None}
    return {
        "volunteers": int(counts.shape[0]),
        "mean": _round(counts.mean(), 3),
        "p50": _round(np.quantile(counts, 0.5)),
        "p90": _round(np.quantile(counts, 0.9)),
        "p99": _round(np.quantile(counts, 0.99)),
        "max": int(counts.max()),
        "alerted_share": _round((counts > 0).mean(), 4),
    }


def volunteer_summary(records: SimulationRecords) -> dict[str, Any]:
    """Return the volunteer section: alert load per volunteer-year, pool kept, alert outcomes.

    Over the whole run, warm-up included (like the alerts). Alerts per volunteer are
    scaled to a year (x 365 / duration_days) over every seat of the pool; a redundant
    arrival is a volunteer arriving at an incident after its first volunteer.
    """
    alerts = records.volunteer_alerts
    tally = records.volunteer_tally
    d = records.dispatches
    rows = d["kind"] == KIND_CODE["volunteer"]
    arrivals = np.bincount(d["incident"][rows], minlength=records.incidents.count)
    per_year = alerts * (365.0 * 86_400.0 / records.duration_s)
    alerted = tally.get("alerted_incidents", 0)
    empty = alerts.shape[0] == 0
    section: dict[str, Any] = {
        "pool": int(alerts.shape[0]),
        "active_share_end": None if empty or records.volunteer_active.shape[0] == 0
        else _round(records.volunteer_active.mean(), 4),
        "alerts": tally.get("alerts", int(alerts.sum())),
        "alerted_incidents": alerted,
        "rounds_per_alerted_incident": rounded_ratio(tally.get("rounds", 0), alerted),
        "alerts_per_volunteer_year": {
            "mean": None if empty else _round(per_year.mean()),
            **{label: None if empty else _round(np.quantile(per_year, q))
               for label, q in (("p50", 0.5), ("p90", 0.9), ("p99", 0.99))},
        },
        "accepts": tally.get("accepts", 0),
        "stand_downs": tally.get("stand_downs", 0),
        "no_shows": tally.get("no_shows", 0),
        "arrivals": int(rows.sum()),
        "incidents_reached": int((arrivals > 0).sum()),
        "redundant_arrivals": int(np.maximum(arrivals - 1, 0).sum()),
        "left_after_alert": tally.get("left_after_alert", 0),
        "left_base": tally.get("left_base", 0),
        "recruited": tally.get("recruited", 0),
    }
    if records.volunteer_kinds:  # per kind: pool, alerts a volunteer-year, arrivals
        sent = d["responder"][rows]
        section["by_kind"] = {
            name: {
                "pool": int(ids.shape[0]),
                "alerts": int(alerts[ids].sum()),
                "alerts_per_volunteer_year_mean": None if ids.shape[0] == 0
                else _round(per_year[ids].mean()),
                "arrivals": int(np.isin(sent, ids).sum()),
            }
            for name, ids in records.volunteer_kinds.items()
        }
    return section


def _min_by_incident(n: int, incident: np.ndarray, values: np.ndarray) -> np.ndarray:
    out = np.full(n, np.inf)
    np.minimum.at(out, incident, values)
    out[np.isinf(out)] = np.nan
    return out


def rounded_share(mask: np.ndarray) -> float | None:
    """Return the share of True in ``mask`` to 4 decimals (None when empty)."""
    return _round(mask.mean(), 4) if mask.shape[0] else None


def rounded_ratio(numerator: float, denominator: float) -> float | None:
    """Return the ratio to 4 decimals (None when the denominator is not positive)."""
    return _round(numerator / denominator, 4) if denominator > 0 else None


def _round(value: float, digits: int = 1) -> float:
    return round(float(value), digits)


def mediation_summary(records: SimulationRecords, counted: np.ndarray, warmup_s: float
                      ) -> dict[str, Any]:
    """Return the mediation section: street cases, the rooms' cases, waits, load, time saved.

    Cases of the ``counted`` calls (from ``warmup_s`` on), whenever they end. Officer
    hours saved: each dispute a street mediator took would otherwise have taken a police
    unit for as long (the same trip and on-scene time), less ``escalation_police_s`` for
    each room case escalated to the police. Room utilisation is resident-mediator time
    busy over time on duty within the counted window (a case run past a shift counts as
    busy but not on duty). Settled per year: on scene and in the rooms, scaled to 365 days.
    """
    inc, d = records.incidents, records.dispatches
    path = records.mediation_path
    if path.shape[0] != inc.count:
        path = np.full(inc.count, med.PATH_NONE, dtype=np.int8)
    path = path[counted]
    cases = records.mediation_cases
    empty = np.zeros(0)
    rows = counted[cases["incident"]] if cases else np.zeros(0, dtype=bool)
    outcome = cases["outcome"][rows] if cases else np.zeros(0, dtype=np.int8)
    wait = (cases["t_start_s"] - cases["t_arrive_room_s"])[rows] if cases else empty
    room = {name: int((outcome == code).sum()) for code, name in enumerate(med.OUTCOMES)}
    street = (d["kind"] == KIND_CODE["mediator"]) & counted[d["incident"]]
    street_s = float((d["t_free_s"][street] - d["t_dispatch_s"][street]).sum())
    escalation_s = records.mediation_room.get("escalation_police_s", 0.0)
    saved_h = (street_s - room["escalated"] * escalation_s) / 3600.0
    per_year = 365.0 * 86_400.0 / (records.duration_s - warmup_s)
    settled_on_scene = int((path == med.PATH_ON_SCENE).sum())
    duty_s = records.mediation_room.get("on_duty_s", 0.0)
    return {
        "cases_on_scene": int((path != med.PATH_NONE).sum()),
        "settled_on_scene": settled_on_scene,
        "to_room": int((path == med.PATH_ROOM).sum()),
        "room_settled": room["settled"],
        "room_referred": room["referred"],
        "room_escalated": room["escalated"],
        "room_open": int((outcome == med.OPEN).sum()),
        "settled_per_year": _round((settled_on_scene + room["settled"]) * per_year, 0),
        "room_wait_s": describe(wait),
        "room_utilisation": rounded_ratio(records.mediation_room.get("busy_s", 0.0), duty_s),
        "officer_hours_saved": _round(saved_h),
        "officer_hours_saved_per_year": _round(saved_h * per_year, 0),
    }


def watch_point_summary(records: SimulationRecords, counted: np.ndarray) -> dict[str, Any]:
    """Return the watch-point section: calls asked, helped, refused for capacity, sheltered.

    Of the ``counted`` calls whose type lists watch points: ``in_reach`` had a point
    within the radius; of those, ``stays_at_site`` were elsewhere than a point whose
    staff may not leave, ``unable`` not helped this time, ``refused_for_capacity`` found
    every staff member out, ``helped`` got one. ``sheltered``: persons in need who took
    refuge at a point. ``alarms``: incidents a point reported sooner than anyone else.
    """
    inc = records.incidents
    outcome = records.watch_point_outcome
    if outcome.shape[0] != inc.count:
        outcome = np.zeros(inc.count, dtype=np.int8)
    outcome = outcome[counted]
    counts = np.bincount(outcome, minlength=len(wp.OUTCOME_NAMES))
    sheltered = records.sheltered
    return {
        "calls": int(outcome.shape[0] - counts[wp.NOT_ASKED]),
        "in_reach": int(outcome.shape[0] - counts[wp.NOT_ASKED] - counts[wp.NONE_IN_REACH]),
        "stays_at_site": int(counts[wp.STAYS_AT_SITE]),
        "unable": int(counts[wp.UNABLE]),
        "refused_for_capacity": int(counts[wp.REFUSED_CAPACITY]),
        "helped": int(counts[wp.HELPED]),
        "sheltered": int(sheltered[counted].sum()) if sheltered.shape[0] == inc.count else 0,
        "alarms": int(inc.alarmed[counted].sum()) if inc.alarmed is not None else 0,
    }


def platform_summary(records: SimulationRecords, counted: np.ndarray, warmup_s: float
                     ) -> dict[str, Any]:
    """Return the platform section: task pushes, members reached, responders, first helper.

    Of the ``counted`` calls (from ``warmup_s`` on) pushed as tasks; members reached and
    responders per task are over every push (0 counts included); the first helper's time
    (s after the call) over the pushes somebody took up; ``per_year`` scales to 365 days.
    """
    inc, platform = records.incidents, records.platform
    pushed = platform["pushed"] & counted
    reached = platform["members_reached"][pushed]
    responders = platform["responders"][pushed]
    per_year = 365.0 * 86_400.0 / (records.duration_s - warmup_s)
    type_id = inc.type_id[pushed]

    def spread(values: np.ndarray) -> dict[str, float | None]:
        if values.shape[0] == 0:
            return {"mean": None, "p50": None, "p90": None}
        return {"mean": _round(values.mean(), 2), "p50": _round(np.quantile(values, 0.5)),
                "p90": _round(np.quantile(values, 0.9))}

    return {
        "task_pushes": int(pushed.sum()),
        "members_reached": spread(reached),
        "responders_per_task": spread(responders),
        "taken_up_share": rounded_share(responders > 0),
        "first_helper_s": describe(platform["first_helper_s"][pushed]),
        "by_type": {
            inc.type_names[code]: {"task_pushes": int((type_id == code).sum()),
                                   "members_reached": spread(reached[type_id == code]),
                                   "responders_per_task": spread(responders[type_id == code])}
            for code in platform["task_types"].tolist()
        },
        "per_year": {"task_pushes": _round(pushed.sum() * per_year, 0),
                     "responders": _round(responders.sum() * per_year, 0)},
    }
