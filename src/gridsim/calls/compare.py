"""Recorded vs simulated: each replayed call's logged response beside the run's.

Per call, from the call: the response (recorded: received to the first unit on scene;
simulated: to the first station unit's arrival: police, or a street mediator for a
mediation type, the units a CAD log records), the travel (recorded: first en route to
first on scene; simulated: that unit's dispatch to its arrival) and the handling (received
to the first unit dispatched); a logged end before its start is left out and counted.
Summary figures, overall and by type, district and hour of the call: n, recorded and
simulated median and p90, their ratios (simulated / recorded), and the median (absolute)
difference per call.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from gridsim.calls.replay import ReplayedCalls
from gridsim.core.units import HOURS_PER_DAY, SECONDS_PER_HOUR
from gridsim.sim.records import KIND_CODE, POLICE_KINDS, SimulationRecords

STATION_KINDS = (*POLICE_KINDS, "mediator")  # the units a 110 centre sends
MEASURES = ("response_s", "travel_s", "handling_s")
@dataclass(frozen=True, eq=False)
class Comparison:
    """Per-call columns (replay.parquet) and the summary figures (summary.json)."""

    columns: dict[str, np.ndarray]  # recorded_X and simulated_X per measure, by incident
    summary: dict[str, Any] | None  # None: the log has no on-scene times


def compare_calls(replayed: ReplayedCalls, records: SimulationRecords,
                  node_district: np.ndarray, district_names: tuple[str, ...],
                  warmup_s: float = 0.0) -> Comparison:
    """Return the recorded and simulated times of each replayed call, and their summary.

    The summary counts the calls from ``warmup_s`` on, as summary.json's other figures.
    """
    inc = records.incidents
    log, call = replayed.log, replayed.call
    spans = {"response_s": (log.received_s, log.on_scene_s),
             "travel_s": (log.en_route_s, log.on_scene_s),
             "handling_s": (log.received_s, log.dispatched_s)}
    raw = {measure: end[call] - start[call] for measure, (start, end) in spans.items()}
    backwards = {measure: span < 0.0 for measure, span in raw.items()}  # faults in the log
    columns: dict[str, np.ndarray] = {
        **{f"recorded_{m}": np.where(span >= 0.0, span, np.nan) for m, span in raw.items()},
        **simulated_times(records),
    }
    if not np.isfinite(log.on_scene_s).any():
        return Comparison(columns, None)
    counted = inc.t_call_s >= warmup_s
    groups = {
        "by_type": (inc.type_id, inc.type_names),
        "by_district": (node_district[inc.node], district_names),
        "by_hour": (hour_of_call(inc.t_call_s), tuple(str(h) for h in range(HOURS_PER_DAY))),
    }
    summary: dict[str, Any] = {"calls": int(counted.sum())}
    for measure in MEASURES:
        recorded = columns[f"recorded_{measure}"][counted]
        simulated = columns[f"simulated_{measure}"][counted]
        part: dict[str, Any] = {
            "overall": paired_figures(recorded, simulated),
            "recorded_only": int((np.isfinite(recorded) & ~np.isfinite(simulated)).sum()),
            "simulated_only": int((~np.isfinite(recorded) & np.isfinite(simulated)).sum()),
            "recorded_out_of_order": int(backwards[measure][counted].sum()),
        }
        for key, (codes, names) in groups.items():
            codes = codes[counted]
            part[key] = {name: paired_figures(recorded[codes == k], simulated[codes == k])
                         for k, name in enumerate(names) if (codes == k).any()}
        summary[measure] = part
    return Comparison(columns, summary)


def simulated_times(records: SimulationRecords) -> dict[str, np.ndarray]:
    """Return each incident's simulated response, travel and handling (s; nan: none).

    Response and travel are the first station unit to arrive (its arrival after the call,
    and after its own dispatch); handling is the call to the first station unit sent.
    """
    n = records.incidents.count
    d = records.dispatches
    station = np.isin(d["kind"], [KIND_CODE[k] for k in STATION_KINDS])
    incident, t_dispatch, t_arrive = (d["incident"][station], d["t_dispatch_s"][station],
                                      d["t_arrive_s"][station])
    t_call = records.incidents.t_call_s
    response, travel, handling = np.full(n, np.nan), np.full(n, np.nan), np.full(n, np.nan)
    first_sent = np.full(n, np.inf)
    np.minimum.at(first_sent, incident, t_dispatch)
    sent = np.isfinite(first_sent)
    handling[sent] = first_sent[sent] - t_call[sent]
    arrived = np.isfinite(t_arrive)  # a unit stood down never arrives
    rows = np.flatnonzero(arrived)
    # the earliest arrival of each incident; ties go to the row logged first
    order = rows[np.lexsort((rows, t_arrive[rows], incident[rows]))]
    head = np.ones(order.shape[0], dtype=bool)
    head[1:] = incident[order][1:] != incident[order][:-1]
    first = order[head]
    response[incident[first]] = t_arrive[first] - t_call[incident[first]]
    travel[incident[first]] = t_arrive[first] - t_dispatch[first]
    return {"simulated_response_s": response, "simulated_travel_s": travel,
            "simulated_handling_s": handling}


def paired_figures(recorded: np.ndarray, simulated: np.ndarray) -> dict[str, Any]:
    """Return n, both medians and p90s, their ratios and the per-call median differences.

    Only calls with both times count (n); a ratio is simulated / recorded.
    """
    both = np.isfinite(recorded) & np.isfinite(simulated)
    rec, sim = recorded[both], simulated[both]
    n = int(both.sum())
    if n == 0:
        return {"n": 0, "recorded": None, "simulated": None, "ratio": None,
                "median_abs_error_s": None, "median_error_s": None}
    rec_q = {"p50": float(np.quantile(rec, 0.5)), "p90": float(np.quantile(rec, 0.9))}
    sim_q = {"p50": float(np.quantile(sim, 0.5)), "p90": float(np.quantile(sim, 0.9))}
    return {
        "n": n,
        "recorded": {k: _round(v) for k, v in rec_q.items()},
        "simulated": {k: _round(v) for k, v in sim_q.items()},
        "ratio": {k: round(sim_q[k] / rec_q[k], 3) if rec_q[k] > 0 else None for k in rec_q},
        "median_abs_error_s": _round(np.median(np.abs(sim - rec))),
        "median_error_s": _round(np.median(sim - rec)),  # > 0: the model is slower
    }


def hour_of_call(t_call_s: np.ndarray) -> np.ndarray:
    """Return each call's hour of the day (t = 0 is a midnight)."""
    return (np.floor(t_call_s / SECONDS_PER_HOUR) % HOURS_PER_DAY).astype(np.int64)


def _round(value: float) -> float:
    return round(float(value), 1)
