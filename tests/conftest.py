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
    """Give the test run its own, initially empty, disk cache.

    The xdist workers of one run share it (their temporary folders sit side by side in the
    run's own), so each world is built once per run, not once per worker; the cache's
    writes are atomic, so two workers building the same world at once are safe.
    """
    base = tmp_path_factory.getbasetemp()
    folder = (base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base) / "gridsim-cache"
    folder.mkdir(exist_ok=True)
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
