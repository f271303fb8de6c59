"""The default Nanjing reproduces the source article's counts (scenarios/nanjing-targets.toml).

Two fortnights of the default city, scaled to a year, against each target: the gap must
be within three combined standard errors (the target's own and the simulation's Poisson
noise). The uncalibrated default missed by two to three orders of magnitude.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import gridsim
from gridsim.analysis.metrics import summary_value
from gridsim.studies.targets import load_targets
from gridsim.world.build import WORLDS

TARGETS = Path(__file__).resolve().parents[1] / "scenarios" / "nanjing-targets.toml"
DAYS, SEEDS = 14, (101, 102)


@pytest.fixture(scope="module")
def yearly() -> dict[str, float]:
    scenario = gridsim.load_scenario(None, [f"duration_days={DAYS}"])
    world = WORLDS.get(scenario)
    targets = load_targets(TARGETS).targets
    totals = dict.fromkeys(targets, 0.0)
    for seed in SEEDS:
        summary = gridsim.run(scenario, seed=seed, world=world).summary
        for name, target in targets.items():
            totals[name] += summary_value(summary, target.metric) / len(SEEDS)
    return totals


@pytest.mark.parametrize("name", list(load_targets(TARGETS).targets))
def test_the_default_reproduces_the_article(yearly: dict[str, float], name: str) -> None:
    target = load_targets(TARGETS).targets[name]
    simulated = yearly[name]
    # a yearly count from N simulated days is a Poisson count times 365 / N
    days = DAYS * len(SEEDS)
    noise = np.sqrt(max(simulated, target.value) * 365.0 / days)
    assert abs(simulated - target.value) <= 3.0 * np.hypot(target.sd, noise), (
        f"{name}: simulated {simulated:,.0f} a year, the article {target.value:,.0f}")
