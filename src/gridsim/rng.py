"""Named, seeded random streams: the only source of randomness in gridsim.

Each stream is derived from the run seed and the stream's name (not from the order
streams are created in), so adding a stream or changing a fleet size never changes the
draws of another stream. Two scenario variants run with the same seed therefore share
their incidents (common random numbers).
"""

from __future__ import annotations

import zlib
from collections.abc import Callable

import numpy as np


def stream(seed: int, name: str) -> np.random.Generator:
    """Return the generator for stream ``name`` under root ``seed``."""
    key = zlib.crc32(name.encode("utf-8"))
    return np.random.default_rng(np.random.SeedSequence(entropy=seed, spawn_key=(key,)))


class DrawBuffer:
    """Draws from one distribution, generated in blocks so one at a time costs little.

    The sequence handed out depends only on the stream, so a run stays deterministic.
    """

    def __init__(self, draw: Callable[[int], np.ndarray], block: int = 8192) -> None:
        """Wrap ``draw(n) -> n draws``; refill ``block`` draws at a time."""
        self._draw = draw
        self._block = block
        self._values: list[float] = []
        self._next = 0

    def take_one(self) -> float:
        """Return the next draw."""
        if self._next >= len(self._values):
            self._values = self._draw(self._block).tolist()
            self._next = 0
        value = self._values[self._next]
        self._next += 1
        return value
