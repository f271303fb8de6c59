"""Incidents: a non-homogeneous Poisson process by hour of day and district.

The intensity of each incident type is piecewise constant over the hours of the day
(``rate_per_day`` shared out by ``hourly_profile``), so counts per hour are Poisson and
times within an hour are uniform: an exact NHPP draw. Locations pick a district by
``district_weights`` (default: population), then a node of it uniformly. Incidents come
only from the ``incidents.*`` streams, so fleets never change them.

The process draws when incidents happen. A type with a ``report_delay_s`` is called in
that long after; a watch point within ``watch_points.alarm_radius_m`` raises the alarm
with ``alarm_prob`` after ``alarm_report_s``, when that is sooner. Incidents are ordered
by call time, and those called after the run's end are left out.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from gridsim.core.rng import stream
from gridsim.core.units import HOURS_PER_DAY, SECONDS_PER_HOUR
from gridsim.scenario.schema import Scenario


@dataclass(frozen=True, eq=False)
class Incidents:
    """All incidents of a run, sorted by call time (row i is incident i)."""

    type_names: tuple[str, ...]
    t_call_s: np.ndarray  # (n,) float64, seconds from the start of the run
    type_id: np.ndarray  # (n,) int16 index into type_names
    node: np.ndarray  # (n,) int32 road node where it happens
    priority: np.ndarray  # (n,) int8, 1 = most urgent
    on_scene_s: np.ndarray  # (n,) float64, time a police unit or mediator spends there
    # (n,) float64 seconds after the call by which help must arrive (a person in need),
    # nan where the type has no harm threshold; None: no type has one
    harm_threshold_s: np.ndarray | None = None
    # (n,) float64 when each happened, and bool whether a watch point reported it; None
    # when no type has a report delay (each is called as it happens)
    t_occur_s: np.ndarray | None = None
    alarmed: np.ndarray | None = None

    def report_delay_s(self) -> np.ndarray:
        """Return the time from each incident to its call (zeros without report delays)."""
        if self.t_occur_s is None:
            return np.zeros(self.count)
        return self.t_call_s - self.t_occur_s

    @property
    def count(self) -> int:
        """Return the number of incidents."""
        return int(self.t_call_s.shape[0])

    def subset(self, rows: np.ndarray) -> Incidents:
        """Return the incidents at ascending ``rows``, renumbered from 0."""
        return Incidents(
            type_names=self.type_names,
            t_call_s=self.t_call_s[rows],
            type_id=self.type_id[rows],
            node=self.node[rows],
            priority=self.priority[rows],
            on_scene_s=self.on_scene_s[rows],
            harm_threshold_s=None if self.harm_threshold_s is None
            else self.harm_threshold_s[rows],
            t_occur_s=None if self.t_occur_s is None else self.t_occur_s[rows],
            alarmed=None if self.alarmed is None else self.alarmed[rows],
        )


WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")


def generate_incidents(
    scenario: Scenario, node_district: np.ndarray, seed: int,
    watch_point_m: np.ndarray | None = None, node_weight: np.ndarray | None = None,
) -> Incidents:
    """Return the incidents of ``scenario`` over its duration, drawn from ``seed``.

    ``watch_point_m`` (per node, road metres to the nearest watch point; inf: none near)
    enables the points' alarm; without it no incident is reported by a point. Within a
    district an incident's node is uniform, or drawn by ``node_weight`` (residents, from
    a population layer) when given.
    """
    names = tuple(scenario.incidents)
    district_names = [d.name for d in scenario.city.districts]
    population = np.array([d.population for d in scenario.city.districts], dtype=float)
    order = np.argsort(node_district, kind="stable")
    bounds = np.searchsorted(node_district[order], np.arange(len(district_names) + 1))
    hours = int(np.ceil(scenario.duration_days * HOURS_PER_DAY))

    cumulative = None if node_weight is None else np.cumsum(node_weight[order])
    delayed = any(kind.report_delay_s is not None for kind in scenario.incidents.values())
    parts: list[tuple[np.ndarray, ...]] = []
    for type_index, name in enumerate(names):
        kind = scenario.incidents[name]
        arrivals = stream(seed, f"incidents.{name}.arrivals")
        places = stream(seed, f"incidents.{name}.locations")
        durations = stream(seed, f"incidents.{name}.on_scene")
        profile = np.asarray(kind.hourly_profile, dtype=float)
        per_hour = kind.rate_per_day * profile / profile.sum()
        hour_of_run = np.arange(hours)
        span_h = np.minimum(1.0, scenario.duration_days * HOURS_PER_DAY - hour_of_run)
        expected = per_hour[hour_of_run % HOURS_PER_DAY] * span_h
        if kind.day_of_week is not None:  # weekday factors, mean 1 over the week
            week = np.asarray(kind.day_of_week, dtype=float)
            weekday = (WEEKDAYS.index(scenario.start_weekday) + hour_of_run // HOURS_PER_DAY) % 7
            expected = expected * week[weekday] / week.mean()
        counts = arrivals.poisson(expected)
        start_h = np.repeat(hour_of_run, counts)
        t = (start_h + arrivals.random(start_h.shape[0]) * np.repeat(span_h, counts))
        t_occur = np.sort(t * SECONDS_PER_HOUR)  # when they happen
        n = t_occur.shape[0]

        weights = _district_weights(kind.district_weights, district_names, population)
        weights[bounds[1:] == bounds[:-1]] = 0.0  # a district with no nodes gets nothing
        district = places.choice(len(district_names), size=n, p=weights / weights.sum())
        if node_weight is None:
            offset = (places.random(n) * (bounds[district + 1] - bounds[district])
                      ).astype(np.int64)
            node = order[bounds[district] + offset]
        else:  # the same uniform draw, read off the district's cumulative weights
            u = np.asarray(places.random(n))
            node = order[_weighted_pick(cumulative, bounds, np.asarray(district), u)]
        harm = np.full(n, np.nan) if kind.harm_threshold_s is None else (
            kind.harm_threshold_s.sample(stream(seed, f"incidents.{name}.harm"), n))
        on_scene = kind.on_scene_s.sample(durations, n)
        report_s, alarmed = _report_delays(scenario, name, node, seed, watch_point_m)
        t_call = t_occur + report_s
        parts.append((t_call, np.full(n, type_index), node, on_scene, harm, t_occur, alarmed))

    t_all = np.concatenate([p[0] for p in parts])
    type_all = np.concatenate([p[1] for p in parts])
    by_time = np.lexsort((type_all, t_all))  # ties broken by type, then draw order
    by_time = by_time[t_all[by_time] < scenario.duration_s]  # called within the run

    def column(k: int) -> np.ndarray:
        return np.concatenate([p[k] for p in parts])[by_time]

    type_id = type_all[by_time].astype(np.int16)
    priorities = np.array([scenario.incidents[n].priority for n in names], dtype=np.int8)
    priority = priorities[type_id]
    for type_index, name in enumerate(names):  # a type with a mix: each call's own draw
        shares = scenario.incidents[name].priority_shares
        rows = np.flatnonzero(type_id == type_index)
        if shares and rows.size:
            levels = np.array([int(p) for p in shares], dtype=np.int8)
            weight = np.array(list(shares.values()), dtype=float)
            priority[rows] = stream(seed, f"incidents.{name}.priority").choice(
                levels, size=rows.size, p=weight / weight.sum())
    return Incidents(
        type_names=names,
        t_call_s=t_all[by_time],
        type_id=type_id,
        node=column(2).astype(np.int32),
        priority=priority,
        on_scene_s=column(3),
        harm_threshold_s=column(4),
        t_occur_s=column(5) if delayed else None,
        alarmed=column(6) if delayed else None,
    )


def _weighted_pick(cumulative: np.ndarray | None, bounds: np.ndarray, district: np.ndarray,
                   u: np.ndarray) -> np.ndarray:
    """Return positions (in district order) drawn by weight within each ``district``."""
    assert cumulative is not None
    padded = np.concatenate([[0.0], cumulative])
    low, high = padded[bounds[district]], padded[bounds[district + 1]]
    at = np.searchsorted(cumulative, low + u * (high - low), side="right")
    # a zero-weight district (or rounding at its end) stays within its own nodes
    return np.clip(at, bounds[district], bounds[district + 1] - 1)


def _report_delays(scenario: Scenario, name: str, node: np.ndarray, seed: int,
                   watch_point_m: np.ndarray | None) -> tuple[np.ndarray, np.ndarray]:
    """Return each incident's time to the call and whether a watch point reported it."""
    n = node.shape[0]
    kind, points = scenario.incidents[name], scenario.watch_points
    if kind.report_delay_s is None:
        return np.zeros(n), np.zeros(n, dtype=bool)
    report_s = kind.report_delay_s.sample(stream(seed, f"incidents.{name}.report"), n)
    if watch_point_m is None or points.alarm_prob == 0.0 or points.alarm_radius_m == 0.0:
        return report_s, np.zeros(n, dtype=bool)
    alarm = stream(seed, f"incidents.{name}.alarm")
    raised = (watch_point_m[node] <= points.alarm_radius_m) & (
        alarm.random(n) < points.alarm_prob)
    alarm_s = points.alarm_report_s.sample(alarm, n)
    alarmed = raised & (alarm_s < report_s)
    return np.where(alarmed, alarm_s, report_s), alarmed


def _district_weights(
    given: dict[str, float] | None, names: list[str], population: np.ndarray
) -> np.ndarray:
    """Return the weight of each district: as given (others 0), else population."""
    if given is None:
        return population.copy()
    return np.array([given.get(name, 0.0) for name in names], dtype=float)
