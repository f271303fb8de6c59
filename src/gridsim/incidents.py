"""Incidents: a non-homogeneous Poisson process by hour of day and district.

The intensity of each incident type is piecewise constant over the hours of the day
(``rate_per_day`` shared out by ``hourly_profile``), so counts per hour are Poisson and
times within an hour are uniform: an exact NHPP draw. Locations pick a district by
``district_weights`` (default: population), then a node of it uniformly. Incidents come
only from the ``incidents.*`` streams, so fleets never change them.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from gridsim.rng import stream
from gridsim.scenario.schema import HOURS_PER_DAY, Scenario

SECONDS_PER_HOUR = 3600.0


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
        )


def generate_incidents(
    scenario: Scenario, node_district: np.ndarray, seed: int
) -> Incidents:
    """Return the incidents of ``scenario`` over its duration, drawn from ``seed``."""
    names = tuple(scenario.incidents)
    district_names = [d.name for d in scenario.city.districts]
    population = np.array([d.population for d in scenario.city.districts], dtype=float)
    order = np.argsort(node_district, kind="stable")
    bounds = np.searchsorted(node_district[order], np.arange(len(district_names) + 1))
    hours = int(np.ceil(scenario.duration_days * HOURS_PER_DAY))

    parts: list[tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]] = []
    for type_index, name in enumerate(names):
        kind = scenario.incidents[name]
        arrivals = stream(seed, f"incidents.{name}.arrivals")
        places = stream(seed, f"incidents.{name}.locations")
        durations = stream(seed, f"incidents.{name}.on_scene")
        profile = np.asarray(kind.hourly_profile, dtype=float)
        per_hour = kind.rate_per_day * profile / profile.sum()
        hour_of_run = np.arange(hours)
        span_h = np.minimum(1.0, scenario.duration_days * HOURS_PER_DAY - hour_of_run)
        counts = arrivals.poisson(per_hour[hour_of_run % HOURS_PER_DAY] * span_h)
        start_h = np.repeat(hour_of_run, counts)
        t = (start_h + arrivals.random(start_h.shape[0]) * np.repeat(span_h, counts))
        t_call = np.sort(t * SECONDS_PER_HOUR)
        n = t_call.shape[0]

        weights = _district_weights(kind.district_weights, district_names, population)
        weights[bounds[1:] == bounds[:-1]] = 0.0  # a district with no nodes gets nothing
        district = places.choice(len(district_names), size=n, p=weights / weights.sum())
        offset = (places.random(n) * (bounds[district + 1] - bounds[district])).astype(np.int64)
        node = order[bounds[district] + offset]
        harm = np.full(n, np.nan) if kind.harm_threshold_s is None else (
            kind.harm_threshold_s.sample(stream(seed, f"incidents.{name}.harm"), n))
        parts.append((t_call, np.full(n, type_index), node, kind.on_scene_s.sample(durations, n),
                      harm))

    t_all = np.concatenate([p[0] for p in parts])
    type_all = np.concatenate([p[1] for p in parts])
    by_time = np.lexsort((type_all, t_all))  # ties broken by type, then draw order
    type_id = type_all[by_time].astype(np.int16)
    priorities = np.array([scenario.incidents[n].priority for n in names], dtype=np.int8)
    return Incidents(
        type_names=names,
        t_call_s=t_all[by_time],
        type_id=type_id,
        node=np.concatenate([p[2] for p in parts])[by_time].astype(np.int32),
        priority=priorities[type_id],
        on_scene_s=np.concatenate([p[3] for p in parts])[by_time],
        harm_threshold_s=np.concatenate([p[4] for p in parts])[by_time],
    )


def _district_weights(
    given: dict[str, float] | None, names: list[str], population: np.ndarray
) -> np.ndarray:
    """Return the weight of each district: as given (others 0), else population."""
    if given is None:
        return population.copy()
    return np.array([given.get(name, 0.0) for name in names], dtype=float)
