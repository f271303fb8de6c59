"""Shared fixtures: the small scenario and its world, built once per session."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from gridsim import World, build_world, load_scenario
from gridsim.scenario import Scenario

ROOT = Path(__file__).resolve().parents[1]
SMALL = ROOT / "scenarios" / "small.toml"


@pytest.fixture(scope="session", autouse=True)
def private_cache(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """Give the test session its own, initially empty, disk cache."""
    folder = tmp_path_factory.mktemp("gridsim-cache")
    before = os.environ.get("GRIDSIM_CACHE_DIR")
    os.environ["GRIDSIM_CACHE_DIR"] = str(folder)
    yield folder
    if before is None:
        del os.environ["GRIDSIM_CACHE_DIR"]
    else:
        os.environ["GRIDSIM_CACHE_DIR"] = before


@pytest.fixture(scope="session")
def small_scenario() -> Scenario:
    return load_scenario(SMALL)


@pytest.fixture(scope="session")
def small_world(small_scenario: Scenario) -> World:
    return build_world(small_scenario)
