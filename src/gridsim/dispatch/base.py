"""What every dispatch layer has in common: the protocols the engine calls."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol, runtime_checkable

import numpy as np


@dataclass(frozen=True, eq=False)
class Neighbourhood:
    """Nodes within the incident's search radius and their road distance, by node id."""

    nodes: np.ndarray  # (k,) int64, ascending
    dist_m: np.ndarray  # (k,) float64

    def distance_to(self, nodes: np.ndarray) -> np.ndarray:
        """Return the road metres to each of ``nodes`` (inf when outside the radius)."""
        if self.nodes.shape[0] == 0:
            return np.full(nodes.shape[0], np.inf)
        idx = np.minimum(np.searchsorted(self.nodes, nodes), self.nodes.shape[0] - 1)
        return np.where(self.nodes[idx] == nodes, self.dist_m[idx], np.inf)


EMPTY_NEIGHBOURHOOD = Neighbourhood(np.empty(0, dtype=np.int64), np.empty(0))


class Layer(Protocol):
    """One response layer (police, grid push, volunteers, ...): reacts to a call."""

    radius_m: float  # road radius this layer looks at around the incident (0: none)

    def respond(self, incident: int, now_s: float, near: Neighbourhood) -> None:
        """Send whatever this layer sends to ``incident``, called at its call time."""


@runtime_checkable
class Rostered(Protocol):
    """A layer whose responders work shifts: told at every shift boundary."""

    def shift_boundaries_h(self) -> list[float]:
        """Return the hours of day at which someone's shift starts or ends."""

    def on_roster(self, now_s: float) -> None:
        """Bring units on or off duty at run time ``now_s``."""

    def duty_unit_s(self) -> dict[int, float]:
        """Return the unit-seconds on duty so far, by responder kind code."""
