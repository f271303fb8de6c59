"""Where a missing person goes: a distance from the published statistics, a place, a path.

Published lost-person figures give the straight-line distance from the last known point
at which subjects are found, by behaviour category: for people with dementia a median
of 0.8 km (Koester & Stooksbury 1995, Virginia lost-subject database, 0.88 km mean);
other categories come from the scenario, marked as assumptions where no figure is cited.
A log-normal is fitted to each category's quartiles. The subject heads for a node at
about that distance, drawn with weights for attracting places (water edges and bridges
for despondent subjects, and so on), walks there along the shortest road path at the
category's speed, and stays.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import stats

from gridsim.city.network import RoadNetwork
from gridsim.city.places import PLACE_NAMES
from gridsim.scenario.schema import Behaviour

RING = (0.85, 1.15)  # destinations are drawn among nodes at 85-115% of the drawn distance
Z_QUARTILE = float(stats.norm.ppf(0.75))


@dataclass(frozen=True, eq=False)
class Area:
    """The nodes around the last known point, with what the movement model needs."""

    lkp: int  # last known point (node id)
    nodes: np.ndarray  # (A,) node ids within the search radius
    xy_m: np.ndarray  # (A, 2)
    straight_m: np.ndarray  # (A,) straight-line distance from the LKP
    road_m: np.ndarray  # (A,) road distance from the LKP (inf if unreachable)
    predecessor: np.ndarray  # (N,) shortest-path tree from the LKP (scipy convention)
    place: np.ndarray  # (A,) place type
    grid: np.ndarray  # (A,) grid of each node


@dataclass(frozen=True)
class Trajectory:
    """A subject's walk: the nodes of the path and when each is reached (s after LKP)."""

    nodes: np.ndarray
    t_s: np.ndarray

    @property
    def destination(self) -> int:
        """Return the node where the subject stops."""
        return int(self.nodes[-1])


def lognormal_of(behaviour: Behaviour) -> tuple[float, float]:
    """Return (mu, sigma) of the log-normal fitted to the distance quartiles (metres)."""
    q1, q2, q3 = (1000.0 * q for q in behaviour.distance_km_quartiles)
    sigma = (np.log(q3) - np.log(q1)) / (2.0 * Z_QUARTILE)
    return float(np.log(q2)), float(sigma)


def place_weights(area: Area, behaviour: Behaviour) -> np.ndarray:
    """Return each area node's attraction weight for ``behaviour`` (1 = no pull)."""
    weights = np.ones(area.nodes.shape[0])
    for code, name in enumerate(PLACE_NAMES):
        pull = behaviour.attraction.get(name)  # type: ignore[call-overload]
        if pull is not None:
            weights[area.place == code] = pull
    return weights


def draw_destination(area: Area, behaviour: Behaviour, weights: np.ndarray,
                     rng: np.random.Generator) -> int:
    """Return the index (into ``area.nodes``) of where the subject heads."""
    mu, sigma = lognormal_of(behaviour)
    distance = rng.lognormal(mu, sigma)
    reachable = np.isfinite(area.road_m)
    ring = reachable & (area.straight_m >= RING[0] * distance) & (
        area.straight_m <= RING[1] * distance)
    if not ring.any():  # beyond the area, or no node at that distance: the nearest one
        candidates = np.flatnonzero(reachable)
        return int(candidates[np.argmin(np.abs(area.straight_m[candidates] - distance))])
    candidates = np.flatnonzero(ring)
    w = weights[candidates]
    return int(candidates[rng.choice(candidates.shape[0], p=w / w.sum())])


def trajectory_to(area: Area, index: int, network: RoadNetwork, speed_mps: float
                  ) -> Trajectory:
    """Return the walk from the LKP to area node ``index`` along the shortest road path."""
    path = [int(area.nodes[index])]
    while path[-1] != area.lkp:
        path.append(int(area.predecessor[path[-1]]))
    path.reverse()
    lengths = [edge_length_m(network, a, b) for a, b in zip(path[:-1], path[1:], strict=True)]
    times = np.concatenate([[0.0], np.cumsum(lengths) / speed_mps])
    return Trajectory(nodes=np.array(path), t_s=times)


def edge_length_m(network: RoadNetwork, a: int, b: int) -> float:
    """Return the length of the road from node ``a`` to neighbour ``b``."""
    start, end = network.indptr[a], network.indptr[a + 1]
    position = start + int(np.flatnonzero(network.indices[start:end] == b)[0])
    return float(network.length_m[position])
