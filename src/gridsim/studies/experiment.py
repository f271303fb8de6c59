"""Replications: independent runs of one scenario, seeds spawned from one root seed."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from gridsim.api import run
from gridsim.scenario.schema import Scenario
from gridsim.world.build import World, build_world


def replication_seeds(root_seed: int, replications: int) -> list[int]:
    """Return ``replications`` independent run seeds spawned from ``root_seed``.

    Seed r depends only on the root and r, not on how many replications there are or
    in what order they run.
    """
    children = np.random.SeedSequence(root_seed).spawn(replications)
    return [int(child.generate_state(1)[0]) for child in children]


def run_seeds(scenario: Scenario, root_seed: int, replications: int) -> list[int]:
    """Return the run seeds of ``replications`` replications of ``scenario``.

    These are ``replication_seeds``, except that a ``[replay]`` scenario's first seed is
    its own ``seed``: replication 0 replays the log exactly, the others resample its days.
    """
    seeds = replication_seeds(root_seed, replications)
    if scenario.replay is not None and seeds:
        seeds[0] = scenario.seed
    return seeds


def replicate(
    scenario: Scenario, replications: int, root_seed: int, world: World | None = None,
    on_done: Callable[[int], None] | None = None,
) -> list[dict[str, Any]]:
    """Return the summary of each of ``replications`` runs of ``scenario``."""
    world = build_world(scenario) if world is None else world
    summaries = []
    for index, seed in enumerate(run_seeds(scenario, root_seed, replications)):
        summaries.append(run(scenario, seed=seed, world=world).summary)
        if on_done is not None:
            on_done(index + 1)
    return summaries
