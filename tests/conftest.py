"""Shared fixtures: the small scenario and its world, built once per session."""

from __future__ import annotations

from pathlib import Path

import pytest

from gridsim import World, build_world, load_scenario
from gridsim.scenario import Scenario

ROOT = Path(__file__).resolve().parents[1]
SMALL = ROOT / "scenarios" / "small.toml"


@pytest.fixture(scope="session")
def small_scenario() -> Scenario:
    return load_scenario(SMALL)


@pytest.fixture(scope="session")
def small_world(small_scenario: Scenario) -> World:
    return build_world(small_scenario)
