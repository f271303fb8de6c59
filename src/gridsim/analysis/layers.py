"""Summaries of the local layers after a run: volunteers, mediation, watch points, platform."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from gridsim.core.stats import (
    describe,
    round_to,
    rounded_ratio,
    rounded_share,
)
from gridsim.core.units import SECONDS_PER_HOUR, SECONDS_PER_YEAR
from gridsim.sim.dispatch import mediation as med
from gridsim.sim.dispatch import watch_points as wp
from gridsim.sim.records import (
    KIND_CODE,
    SimulationRecords,
)

if TYPE_CHECKING:
    pass


def describe_counts(counts: np.ndarray) -> dict[str, Any]:
    """Return the volunteers, mean, p50/p90/p99, maximum and alerted share of alert counts."""
    if counts.shape[0] == 0:
        return {"volunteers": 0, "mean": None, "p50": None, "p90": None, "p99": None,
                "max": None, "alerted_share": None}
    return {
        "volunteers": int(counts.shape[0]),
        "mean": round_to(counts.mean(), 3),
        "p50": round_to(np.quantile(counts, 0.5)),
        "p90": round_to(np.quantile(counts, 0.9)),
        "p99": round_to(np.quantile(counts, 0.99)),
        "max": int(counts.max()),
        "alerted_share": round_to((counts > 0).mean(), 4),
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
    per_year = alerts * (SECONDS_PER_YEAR / records.duration_s)
    alerted = tally.get("alerted_incidents", 0)
    empty = alerts.shape[0] == 0
    section: dict[str, Any] = {
        "pool": int(alerts.shape[0]),
        "active_share_end": None if empty or records.volunteer_active.shape[0] == 0
        else round_to(records.volunteer_active.mean(), 4),
        "alerts": tally.get("alerts", int(alerts.sum())),
        "alerted_incidents": alerted,
        "rounds_per_alerted_incident": rounded_ratio(tally.get("rounds", 0), alerted),
        "alerts_per_volunteer_year": {
            "mean": None if empty else round_to(per_year.mean()),
            **{label: None if empty else round_to(np.quantile(per_year, q))
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
                else round_to(per_year[ids].mean()),
                "arrivals": int(np.isin(sent, ids).sum()),
            }
            for name, ids in records.volunteer_kinds.items()
        }
    return section


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
    saved_h = (street_s - room["escalated"] * escalation_s) / SECONDS_PER_HOUR
    per_year = SECONDS_PER_YEAR / (records.duration_s - warmup_s)
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
        "settled_per_year": round_to((settled_on_scene + room["settled"]) * per_year, 0),
        "room_wait_s": describe(wait),
        "room_utilisation": rounded_ratio(records.mediation_room.get("busy_s", 0.0), duty_s),
        "officer_hours_saved": round_to(saved_h),
        "officer_hours_saved_per_year": round_to(saved_h * per_year, 0),
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
    per_year = SECONDS_PER_YEAR / (records.duration_s - warmup_s)
    type_id = inc.type_id[pushed]

    def spread(values: np.ndarray) -> dict[str, float | None]:
        if values.shape[0] == 0:
            return {"mean": None, "p50": None, "p90": None}
        return {"mean": round_to(values.mean(), 2), "p50": round_to(np.quantile(values, 0.5)),
                "p90": round_to(np.quantile(values, 0.9))}

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
        "per_year": {"task_pushes": round_to(pushed.sum() * per_year, 0),
                     "responders": round_to(responders.sum() * per_year, 0)},
    }


def fleet_summary(records: SimulationRecords, counted: np.ndarray) -> dict[str, Any]:
    """Return per unit fleet: dispatches, first-on-scene share, arrival and busy share."""
    rows, d = records.unit_rows, records.dispatches
    incidents = records.incidents
    arrive = d["t_arrive_s"][rows["row"]]
    incident = d["incident"][rows["row"]]
    first = np.full(incidents.count, np.inf)
    np.minimum.at(first, incident, arrive)
    reached = counted & np.isfinite(first)
    out: dict[str, Any] = {}
    for f, name in enumerate(rows["fleet_names"].tolist()):
        mine = (rows["fleet"] == f) & counted[incident]
        first_here = np.zeros(incidents.count, dtype=bool)
        first_here[incident[mine & (arrive == first[incident])]] = True
        busy_s = float((d["t_free_s"][rows["row"][mine]] - d["t_dispatch_s"][rows["row"][mine]]
                        ).sum())
        units = int(rows["fleet_units"][f])
        out[name] = {
            "units": units,
            "dispatches": int(mine.sum()),
            "first_on_scene_share": rounded_share(first_here[reached]),
            "arrival_s": describe(arrive[mine] - incidents.t_call_s[incident[mine]]),
            "busy_share": rounded_ratio(busy_s, units * records.duration_s),
        }
    return out
