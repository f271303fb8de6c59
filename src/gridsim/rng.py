"""Named, seeded random streams: the only source of randomness in gridsim.

Each stream is derived from the run seed and the stream's name (not from the order
streams are created in), so adding a stream or changing a fleet size never changes the
draws of another stream. Two scenario variants run with the same seed therefore share
their incidents (common random numbers).
"""

from __future__ import annotations

import zlib

import numpy as np


def stream(seed: int, name: str) -> np.random.Generator:
    """Return the generator for stream ``name`` under root ``seed``."""
    key = zlib.crc32(name.encode("utf-8"))
    return np.random.default_rng(np.random.SeedSequence(entropy=seed, spawn_key=(key,)))
