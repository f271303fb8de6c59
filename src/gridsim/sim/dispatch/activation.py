"""Dispatcher activation: the 110 centre, not the call, pushes an incident to local layers.

Per incident type, the centre activates the grid push and the volunteer alert with a
probability (a Danish dispatcher activated its citizen-responder system in 57.5% of
eligible calls; docs/evidence.md) and after a handling delay; the layer then acts at
that later time.
"""

from __future__ import annotations

import numpy as np

from gridsim.core.rng import DrawBuffer
from gridsim.sim.dispatch.base import Layer


class Activated:
    """A layer reached only through the dispatcher: with a probability, after a delay."""

    def __init__(
        self, layer: Layer, type_id: np.ndarray, prob_by_type: np.ndarray,
        delay_by_type_s: np.ndarray, rng: np.random.Generator,
    ) -> None:
        """Wrap ``layer``; ``type_id`` gives each incident's type."""
        self._layer = layer
        # per incident, as memoryviews: a Python float a read, 8 bytes an incident
        self._prob = np.ascontiguousarray(prob_by_type[type_id], dtype=np.float64).data
        self._delay_s = np.ascontiguousarray(delay_by_type_s[type_id], dtype=np.float64).data
        self._uniform = DrawBuffer(rng.random)
        self.activations = 0

    def respond(self, incident: int, now_s: float) -> None:
        """Push the incident to the layer, if the dispatcher activates it, after the delay."""
        prob = self._prob[incident]
        if prob < 1.0 and self._uniform.take_one() >= prob:
            return
        self.activations += 1
        self._layer.respond(incident, now_s + self._delay_s[incident])
