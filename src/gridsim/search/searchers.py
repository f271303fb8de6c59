"""Searchers on the road network, as simpy processes, and the probability map they share.

A searcher visits nodes one after another (straight-line distance times a road factor,
at its search speed, then ``inspect_s`` on the spot). When it is at the node where the
subject is, it finds him with its probability of detection (lower at night). Naive
searchers sweep their own area in a fixed order; Bayesian ones go to the node with the
highest probability (discounted by travel time) that nobody is on, and every
unsuccessful search lowers that node's probability by Bayes' rule.
"""

from __future__ import annotations

from collections.abc import Callable, Generator
from dataclasses import dataclass, field

import numpy as np
import simpy

ROAD_FACTOR = 1.3  # road distance over straight-line distance, for planning travel
TRAVEL_DISCOUNT_S = 600.0  # a node ten minutes away counts half as much as one here


def bayes_update(prior: np.ndarray, searched: int, pod: float) -> np.ndarray:
    """Return the map after an unsuccessful search of cell ``searched`` with ``pod``.

    P(there | not found) = p (1 - pod) / (1 - p pod); every other cell is scaled by
    1 / (1 - p pod), so the map still sums to one.
    """
    posterior = prior / (1.0 - prior[searched] * pod)
    posterior[searched] = prior[searched] * (1.0 - pod) / (1.0 - prior[searched] * pod)
    return posterior


@dataclass
class SearchState:
    """What the searchers share in one run: the clock of the find and the map."""

    subject_at: Callable[[float], int]  # area index of the subject at time t
    is_night: Callable[[float], bool]
    probability: np.ndarray  # over area nodes (Bayesian allocation only)
    xy_m: np.ndarray  # area node coordinates
    distance_m: np.ndarray  # (A, A) float32 straight-line distances between area nodes
    found_at_s: float | None = None
    found_by: str = ""
    claimed: set[int] = field(default_factory=set)

    def visit(self, index: int, t_s: float, pod_day: float, pod_night: float,
              draw: float, who: str) -> bool:
        """Search area node ``index`` at ``t_s``; return whether the subject is found."""
        pod = pod_night if self.is_night(t_s) else pod_day
        if self.subject_at(t_s) == index and draw < pod:
            if self.found_at_s is None or t_s < self.found_at_s:
                self.found_at_s, self.found_by = t_s, who
            return True
        return False


@dataclass(frozen=True)
class Searcher:
    """One searcher: where and when it starts, how it moves and sees, its own draws."""

    name: str
    start_index: int  # area node it sets off from
    start_s: float  # run time it starts searching
    speed_mps: float
    inspect_s: float
    pod_day: float
    pod_night: float
    route: tuple[int, ...]  # naive: the area nodes it sweeps, in order
    reach_m: float  # Bayesian: how far from where it is it will go next
    rng: np.random.Generator


def naive_searcher(env: simpy.Environment, s: Searcher, state: SearchState
                   ) -> Generator[simpy.Event, None, None]:
    """Sweep ``s.route`` in order until the subject is found or the route ends."""
    yield env.timeout(max(0.0, s.start_s - env.now))
    here = s.start_index
    for target in s.route:
        if state.found_at_s is not None:
            return
        yield env.timeout(_travel_s(state, here, target, s.speed_mps) + s.inspect_s)
        here = target
        state.visit(target, env.now, s.pod_day, s.pod_night, s.rng.random(), s.name)


def bayesian_searcher(env: simpy.Environment, s: Searcher, state: SearchState
                      ) -> Generator[simpy.Event, None, None]:
    """Repeatedly search the best unclaimed node within reach; update the map after."""
    yield env.timeout(max(0.0, s.start_s - env.now))
    here = s.start_index
    while state.found_at_s is None:
        dist = state.distance_m[here]
        score = state.probability / (1.0 + dist * (ROAD_FACTOR / s.speed_mps
                                                   / TRAVEL_DISCOUNT_S))
        score[dist > s.reach_m] = -1.0
        if state.claimed:
            score[list(state.claimed)] = -1.0
        target = int(np.argmax(score))
        if score[target] <= 0.0:
            return
        state.claimed.add(target)
        yield env.timeout(_travel_s(state, here, target, s.speed_mps) + s.inspect_s)
        state.claimed.discard(target)
        here = target
        pod = s.pod_night if state.is_night(env.now) else s.pod_day
        if state.visit(target, env.now, s.pod_day, s.pod_night, s.rng.random(), s.name):
            return
        state.probability = bayes_update(state.probability, target, pod)


def _travel_s(state: SearchState, here: int, there: int, speed_mps: float) -> float:
    return float(state.distance_m[here, there]) * ROAD_FACTOR / speed_mps


def pairwise_distance_m(xy_m: np.ndarray) -> np.ndarray:
    """Return the (A, A) float32 straight-line distances between points."""
    diff = xy_m[:, None, :] - xy_m[None, :, :]
    return np.hypot(diff[..., 0], diff[..., 1]).astype(np.float32)
