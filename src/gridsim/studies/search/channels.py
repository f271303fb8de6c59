"""Sighting channels: watch points, platform members, CCTV, phone location.

Each channel turns the subject's path into reports (when seen, when reported, where,
how far to trust it), drawn before the search so every arm with the channel gets the
same reports. Fixed observers (watch-point staff, platform members at home, cameras)
see him when he passes within ``range_m`` of them (a chance per pass, by light) or
notice him resting in range (a rate per hour); their reports come after a delay, placed
within ``location_error_m``; each observer makes false reports at a rate an hour. Phone
location gives a disc of ``accuracy_m`` around him after the carrier's request delay,
then every ``repeat_s``, if his phone is on. The planner folds each report into the map
by Bayes' rule (``detection.report_likelihood``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.spatial import cKDTree

from gridsim.core.units import SECONDS_PER_HOUR
from gridsim.scenario.schema import MissingPerson, Observers, PhoneChannel
from gridsim.studies.search.subject import Subject, is_night


@dataclass(frozen=True)
class Report:
    """A sighting as the search receives it."""

    seen_s: float
    report_s: float
    xy_m: tuple[float, float]
    radius_m: float  # the planner's disc: location error (plus walking, added later)
    trust: float
    channel: str
    true: bool


@dataclass(frozen=True, eq=False)
class ObserverSet:
    """Where a channel's observers are and from when they look (s after last seen)."""

    name: str
    xy_m: np.ndarray  # (O, 2)
    active_s: float  # when they start looking (cameras: from the start)
    review_s: float  # reports are not made before this (footage searched from then)


def observer_reports(observers: ObserverSet, spec: Observers, mp: MissingPerson,
                     subject: Subject, end_s: float, rng: np.random.Generator
                     ) -> list[Report]:
    """Return the true and false reports of one channel of fixed observers."""
    out: list[Report] = []
    if observers.xy_m.shape[0] == 0:
        return out
    tree = cKDTree(observers.xy_m)
    t, xy = subject.t_s, subject.xy_m
    resting = np.flatnonzero((np.diff(t) > 0.0) & np.all(xy[1:] == xy[:-1], axis=1))
    passing = t >= observers.active_s  # passes: every breakpoint he walks through
    passing[resting] = False
    passing[resting + 1] = False
    at = np.flatnonzero(passing)
    in_range = tree.query_ball_point(xy[at], spec.range_m, return_length=True)
    p = np.array([spec.pass_prob_night if is_night(mp, float(t[k])) else spec.pass_prob_day
                  for k in at.tolist()])
    seen = rng.random(at.shape[0]) < 1.0 - (1.0 - p) ** in_range  # any observer in range
    for k in at[seen].tolist():
        out.append(_report(float(t[k]), xy[k], spec, observers, rng, True))
    if spec.linger_per_h > 0.0 and resting.shape[0]:
        near = tree.query_ball_point(xy[resting], spec.range_m, return_length=True)
        waits = rng.exponential(1.0, resting.shape[0])
        for k, count, wait in zip(resting.tolist(), near.tolist(), waits.tolist(),
                                  strict=True):  # rests: noticed at a rate per observer
            start, stop = max(float(t[k]), observers.active_s), float(t[k + 1])
            if count and stop > start and start + wait * SECONDS_PER_HOUR / (
                    spec.linger_per_h * count) < stop:
                seen_s = start + wait * SECONDS_PER_HOUR / (spec.linger_per_h * count)
                out.append(_report(seen_s, xy[k], spec, observers, rng, True))
    span_h = max(0.0, end_s - observers.active_s) / SECONDS_PER_HOUR
    false_rate = spec.false_reports_per_observer_h * observers.xy_m.shape[0]
    for _ in range(int(rng.poisson(false_rate * span_h))):
        seen_s = observers.active_s + rng.random() * span_h * SECONDS_PER_HOUR
        where = observers.xy_m[int(rng.integers(observers.xy_m.shape[0]))]
        out.append(_report(seen_s, where, spec, observers, rng, False))
    return [r for r in out if r.report_s < end_s]


def _report(seen_s: float, xy: np.ndarray, spec: Observers, observers: ObserverSet,
            rng: np.random.Generator, true: bool) -> Report:
    delay = float(spec.report_delay_s.sample(rng, 1)[0])
    angle = rng.random() * 2.0 * np.pi
    error = spec.location_error_m * np.sqrt(rng.random())
    placed = xy + error * np.array([np.cos(angle), np.sin(angle)])
    return Report(seen_s=seen_s, report_s=max(seen_s, observers.review_s) + delay,
                  xy_m=(float(placed[0]), float(placed[1])), radius_m=spec.location_error_m,
                  trust=spec.trust, channel=observers.name, true=true)


def phone_reports(spec: PhoneChannel, subject: Subject, report_s: float, end_s: float,
                  rng: np.random.Generator) -> list[Report]:
    """Return the carrier's location fixes (none when his phone is off)."""
    if rng.random() >= spec.phone_on_prob:
        return []
    times = np.arange(report_s + spec.request_delay_s, end_s, spec.repeat_s)
    out = []
    for t in times.tolist():
        here = subject.position(np.array([t]))[0]
        angle = rng.random() * 2.0 * np.pi
        error = spec.accuracy_m * np.sqrt(rng.random())
        centre = here + error * np.array([np.cos(angle), np.sin(angle)])
        out.append(Report(seen_s=t, report_s=t, xy_m=(float(centre[0]), float(centre[1])),
                          radius_m=spec.accuracy_m, trust=spec.trust, channel="phone",
                          true=True))
    return out
