"""Named, seeded random streams: the only source of randomness in gridsim.

Each stream is derived from the run seed and the stream's name (not from the order
streams are created in), so adding a stream or changing a fleet size never changes the
draws of another stream. Two scenario variants run with the same seed therefore share
their incidents (common random numbers).
"""

from __future__ import annotations

import zlib
from collections.abc import Callable
from functools import partial
from itertools import chain

import numpy as np


def stream(seed: int, name: str) -> np.random.Generator:
    """Return the generator for stream ``name`` under root ``seed``."""
    key = zlib.crc32(name.encode("utf-8"))
    return np.random.default_rng(np.random.SeedSequence(entropy=seed, spawn_key=(key,)))


class DrawBuffer:
    """Draws from one distribution, generated in blocks so one at a time costs little.

    The sequence handed out depends only on the stream, so a run stays deterministic: a
    block is drawn when the first value of it is taken, as one at a time would.
    """

    def __init__(self, draw: Callable[[int], np.ndarray], block: int = 8192) -> None:
        """Wrap ``draw(n) -> n draws``; refill ``block`` draws at a time."""
        blocks = iter(lambda: draw(block).tolist(), None)  # endless, drawn when reached
        # ``take_one()`` returns the next draw: ``next`` on a chain of the blocks, all in
        # C (a Python method here cost several times as much per draw)
        self.take_one: Callable[[], float] = partial(next, chain.from_iterable(blocks))


class DrawArray:
    """Draws from one distribution in an array that compiled code reads ahead in.

    ``ensure(n)`` makes at least ``n`` unread draws available from ``index`` on; the
    reader advances ``index`` past what it used. Topping up appends fresh draws to the
    unread ones, and numpy's generators draw element by element, so the sequence read is
    the stream's sequence however the top-ups fall (as ``DrawBuffer``'s).
    """

    def __init__(self, draw: Callable[[int], np.ndarray], block: int = 65_536) -> None:
        """Wrap ``draw(n) -> n float64 draws``; top up ``block`` draws beyond the need."""
        self._draw = draw
        self._block = block
        self.values = np.zeros(0)
        self.index = 0

    def ensure(self, count: int) -> None:
        """Make at least ``count`` unread draws available."""
        if self.values.shape[0] - self.index < count:
            fresh = self._draw(count + self._block)
            self.values = np.concatenate((self.values[self.index:], fresh))
            self.index = 0

    def take_one(self) -> float:
        """Return the next draw."""
        self.ensure(1)
        self.index += 1
        return float(self.values[self.index - 1])
