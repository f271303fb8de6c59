"""pyabc's MappingSampler over a gridsim executor, with reproducible task seeds.

pyabc's own MappingSampler reseeds every task from the operating system, so parallel
runs cannot be repeated. Here task k of call c in generation t is seeded from (root
seed, t, c, k) and results are put back in task order, so the particles depend neither
on the executor nor on an interruption. A module of its own: importing pyabc is slow,
and the worker processes must be able to import the class.
"""

from __future__ import annotations

import functools
import random
from typing import Any

import numpy as np
from pyabc.sampler import MappingSampler

from gridsim.core.executors import RunExecutor


class SeededMappingSampler(MappingSampler):  # type: ignore[misc]
    """Samples particles on ``executor``; task seeds come from ``root_seed``."""

    def __init__(self, executor: RunExecutor, root_seed: int) -> None:
        """Run tasks on ``executor`` (which is not pickled to the workers)."""
        super().__init__(map_=map)
        self._executor = executor
        self._root_seed = root_seed
        self._calls: dict[int, int] = {}

    def map_function(self, simulate_one: Any, task: tuple[int, int]) -> Any:
        """Return the particles sampled until one is accepted, and how many it took."""
        simulate_one = self.unpickle(simulate_one)
        np.random.seed(task[1])
        random.seed(task[1])
        evaluations = 0
        sample = self._create_empty_sample()
        while True:
            particle = simulate_one()
            evaluations += 1
            sample.append(particle)
            if particle.accepted:
                return sample, evaluations

    def sample_until_n_accepted(self, n: int, simulate_one: Any, t: int, **_: Any) -> Any:
        """Return a sample with ``n`` accepted particles, drawn in seeded tasks."""
        call = self._calls.get(t, 0)
        self._calls[t] = call + 1
        entropy = [self._root_seed, t + 2, call]  # t is -1 for pyabc's calibration sample
        seeds = np.random.SeedSequence(entropy).generate_state(n).tolist()
        task = functools.partial(self.map_function, self.pickle(simulate_one))
        done = dict(self._executor.map_unordered(task, list(enumerate(seeds))))
        results = [done[(k, seed)] for k, seed in enumerate(seeds)]
        self.nr_evaluations_ = sum(evaluations for _, evaluations in results)
        sample = self._create_empty_sample()
        for part, _ in results:
            sample += part
        return sample
