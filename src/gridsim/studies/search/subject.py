"""The missing person: where he goes, when he moves, and when he comes to harm.

This is the study's truth, drawn from a different model than the planner's prior (the
ISRID distance rings in ``priors.py``). He leaves the last known point (LKP) walking the
roads: at each junction he takes a road by its turn from his heading, with
``persistence`` (a von Mises weight exp(persistence cos(turn)); 0 is a random walk),
never straight back the way he came but at a dead end, for ``walk_time_s``. Then he
follows one rule, drawn by the category's shares:

- ``stay``: he rests where he is, off the road, for good;
- ``wander``: rests of ``pause_s`` alternate with walks of ``wander_walk_s``;
- ``attractor``: instead of the walk, he goes by the shortest road to an attracting place
  within ``attractor_reach_m`` (chosen by the category's attraction weights) and stays;
- ``return_home``: he rests ``dwell_s``, then walks home to the LKP (the search ends).

At rest he sits up to ``offroad_m`` off the road. His harm time has a hazard of
1 / ``critical_time_h`` at an ordinary place by day, times the place's
``critical_place_factor`` (a river bank, a bridge) and ``critical_night_factor`` at night.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from gridsim.city.places import PLACE_NAMES
from gridsim.core.units import SECONDS_PER_HOUR
from gridsim.scenario.schema import Behaviour, MissingPerson
from gridsim.studies.search.area import SearchArea

RULES = ("stay", "wander", "attractor", "return_home")
HAZARD_STEP_S = 300.0  # the harm hazard is integrated on this time step


@dataclass(frozen=True)
class Subject:
    """One subject's path: breakpoints (time since last seen, position, node) and outcome."""

    t_s: np.ndarray  # (K,) increasing
    xy_m: np.ndarray  # (K, 2) position at each breakpoint (linear in between)
    node: np.ndarray  # (K,) local node at or nearest each breakpoint
    rule: str
    settled_s: float  # end of the first walk (the "find place" of ISRID statistics)
    settled_node: int
    home_s: float  # when he is back home (inf: never)
    harm_s: float  # when he comes to harm (inf: not within the horizon)

    def position(self, t_s: np.ndarray) -> np.ndarray:
        """Return his (n, 2) positions at times ``t_s``."""
        return np.column_stack([np.interp(t_s, self.t_s, self.xy_m[:, 0]),
                                np.interp(t_s, self.t_s, self.xy_m[:, 1])])

    def node_at(self, t_s: np.ndarray) -> np.ndarray:
        """Return the local node he is at (or last passed) at times ``t_s``."""
        step = np.searchsorted(self.t_s, t_s, side="right") - 1
        return self.node[np.clip(step, 0, self.node.shape[0] - 1)]


class _Path:
    """Breakpoints appended as the subject moves."""

    def __init__(self, area: SearchArea, node: int) -> None:
        self.area = area
        self.t: list[float] = [0.0]
        self.xy: list[np.ndarray] = [area.xy_m[node]]
        self.node: list[int] = [node]

    @property
    def now(self) -> float:
        return self.t[-1]

    def walk_to(self, node: int, speed_mps: float) -> None:
        step = float(np.hypot(*(self.area.xy_m[node] - self.xy[-1])))
        self.t.append(self.now + step / speed_mps)
        self.xy.append(self.area.xy_m[node])
        self.node.append(node)

    def rest(self, until_s: float, offroad_m: float, speed_mps: float,
             rng: np.random.Generator) -> None:
        """Step off the road near the current node and rest there until ``until_s``."""
        node = self.node[-1]
        angle, reach = rng.random() * 2.0 * np.pi, offroad_m * np.sqrt(rng.random())
        spot = self.area.xy_m[node] + reach * np.array([np.cos(angle), np.sin(angle)])
        arrive = self.now + reach / speed_mps
        self.t += [arrive, max(arrive, until_s)]
        self.xy += [spot, spot]
        self.node += [node, node]

    def leave_rest(self, speed_mps: float) -> None:
        """Walk back to the road from a resting spot."""
        self.walk_to(self.node[-1], speed_mps)


def draw_subject(area: SearchArea, spec: MissingPerson, behaviour: Behaviour,
                 end_s: float, rng: np.random.Generator, settle_only: bool = False
                 ) -> Subject:
    """Return a subject drawn from ``behaviour``'s movement rules, up to ``end_s``.

    ``settle_only``: stop where his first walk ends (his path and harm time after that
    are not drawn: enough for scoring a map on where he settles).
    """
    shares = np.array([behaviour.rules.get(r, 0.0) for r in RULES])  # type: ignore[call-overload]
    rule = RULES[int(rng.choice(len(RULES), p=shares / shares.sum()))]
    speed = behaviour.walk_speed_mps
    path = _Path(area, area.lkp)
    heading = rng.random() * 2.0 * np.pi
    if rule == "attractor" and (target := _attractor(area, behaviour, rng)) >= 0:
        for node in reversed(area.path_to_lkp(target)[:-1]):
            path.walk_to(node, speed)
    else:
        walk_s = float(behaviour.walk_time_s.sample(rng, 1)[0])
        heading = _walk(path, area, behaviour, heading, path.now + walk_s, rng)
    settled_s, settled_node = path.now, path.node[-1]
    home_s = np.inf
    if settle_only:
        t, xy, nodes = np.array(path.t), np.array(path.xy), np.array(path.node)
        return Subject(t_s=t, xy_m=xy, node=nodes, rule=rule, settled_s=settled_s,
                       settled_node=settled_node, home_s=home_s, harm_s=float("nan"))
    if rule == "wander":
        while path.now < end_s:
            path.rest(path.now + float(behaviour.pause_s.sample(rng, 1)[0]),
                      behaviour.offroad_m, speed, rng)
            path.leave_rest(speed)
            walk_s = float(behaviour.wander_walk_s.sample(rng, 1)[0])
            heading = _walk(path, area, behaviour, heading, path.now + walk_s, rng)
    elif rule == "return_home":
        path.rest(path.now + float(behaviour.dwell_s.sample(rng, 1)[0]), behaviour.offroad_m,
                  speed, rng)
        if path.now < end_s:
            path.leave_rest(speed)
            for node in area.path_to_lkp(path.node[-1])[1:]:
                path.walk_to(node, speed)
            home_s = path.now
    if path.now < end_s:
        path.rest(end_s, 0.0 if rule == "return_home" else behaviour.offroad_m, speed, rng)
    t, xy, nodes = np.array(path.t), np.array(path.xy), np.array(path.node)
    harm_s = _harm_time(area, spec, behaviour, t, nodes, end_s, rng)
    return Subject(t_s=t, xy_m=xy, node=nodes, rule=rule, settled_s=settled_s,
                   settled_node=settled_node, home_s=home_s, harm_s=harm_s)


def attraction_of_nodes(area: SearchArea, attraction: Mapping[Any, float]) -> np.ndarray:
    """Return each area node's attraction weight (1: an ordinary place)."""
    weights = np.ones(area.node_id.shape[0])
    for code, name in enumerate(PLACE_NAMES):
        if name in attraction:
            weights[area.place == code] = attraction[name]
    return weights


def _attractor(area: SearchArea, behaviour: Behaviour, rng: np.random.Generator) -> int:
    """Return an attracting node within reach, by weight (-1: none)."""
    weights = attraction_of_nodes(area, behaviour.attraction)
    pull = (weights > 1.0) & (area.road_from_lkp_m <= behaviour.attractor_reach_m)
    candidates = np.flatnonzero(pull)
    if candidates.shape[0] == 0:
        return -1
    w = weights[candidates]
    return int(candidates[rng.choice(candidates.shape[0], p=w / w.sum())])


def _walk(path: _Path, area: SearchArea, behaviour: Behaviour, heading: float,
          until_s: float, rng: np.random.Generator) -> float:
    """Walk the roads keeping to ``heading`` until ``until_s``; return the last heading."""
    previous = -1
    while path.now < until_s:
        here = path.node[-1]
        options = area.indices[area.indptr[here]:area.indptr[here + 1]]
        if options.shape[0] > 1 and previous >= 0:
            options = options[options != previous]  # no turning back but at a dead end
        step = area.xy_m[options] - area.xy_m[here]
        turn = np.arctan2(step[:, 1], step[:, 0]) - heading
        closeness = np.cos(turn)
        weight = np.exp(behaviour.persistence * (closeness - closeness.max()))
        cumulative = np.cumsum(weight)
        pick = int(np.searchsorted(cumulative, rng.random() * cumulative[-1], side="right"))
        nxt = int(options[min(pick, options.shape[0] - 1)])
        heading = float(np.arctan2(*(area.xy_m[nxt] - area.xy_m[here])[::-1]))
        previous = here
        path.walk_to(nxt, behaviour.walk_speed_mps)
    return heading


def _harm_time(area: SearchArea, spec: MissingPerson, behaviour: Behaviour, t: np.ndarray,
               node: np.ndarray, end_s: float, rng: np.random.Generator) -> float:
    """Return when the subject comes to harm (inf: not before ``end_s``)."""
    grid = np.arange(0.0, end_s, HAZARD_STEP_S)
    at = node[np.clip(np.searchsorted(t, grid, side="right") - 1, 0, node.shape[0] - 1)]
    factor = np.ones(PLACE_NAMES.__len__())
    for code, name in enumerate(PLACE_NAMES):
        factor[code] = spec.critical_place_factor.get(name, 1.0)  # type: ignore[call-overload]
    hazard = factor[area.place[at]] / (behaviour.critical_time_h * SECONDS_PER_HOUR)
    night = np.array([is_night(spec, g) for g in grid])
    hazard = np.where(night, hazard * spec.critical_night_factor, hazard)
    cumulative = np.cumsum(hazard * HAZARD_STEP_S)
    crossed = np.flatnonzero(cumulative >= rng.exponential())
    return float(grid[crossed[0]] + HAZARD_STEP_S) if crossed.shape[0] else float("inf")


def is_night(spec: MissingPerson, t_s: float) -> bool:
    """Return whether ``t_s`` seconds after the last sighting falls in ``night_hours``."""
    hour = (spec.last_seen_hour + t_s / SECONDS_PER_HOUR) % 24.0
    start, end = spec.night_hours
    return hour >= start or hour < end if start > end else start <= hour < end
