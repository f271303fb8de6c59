"""The disk cache: a warm world equals a cold one; damaged entries are recomputed."""

from __future__ import annotations

from dataclasses import fields
from pathlib import Path

import numpy as np

from gridsim.city.network import RoadNetwork
from gridsim.core.cache import ArrayCache, cache_key, default_cache_dir
from gridsim.scenario import Scenario
from gridsim.world.build import build_world


def test_warm_world_equals_cold_world(tmp_path: Path, small_scenario: Scenario) -> None:
    cache = ArrayCache(tmp_path)
    cold = build_world(small_scenario, cache)
    assert cache.misses > 0 and cache.hits == 0
    warm = build_world(small_scenario, cache)
    assert cache.hits == cache.misses
    for f in fields(RoadNetwork):
        assert np.array_equal(getattr(cold.network, f.name), getattr(warm.network, f.name))
    assert np.array_equal(cold.node_station_car_s, warm.node_station_car_s)
    assert np.array_equal(cold.catchments.volunteers.item, warm.catchments.volunteers.item)
    assert np.array_equal(cold.catchments.grid_workers.dist_m,
                          warm.catchments.grid_workers.dist_m)


def test_uncached_world_equals_cached_world(tmp_path: Path, small_scenario: Scenario) -> None:
    cached = build_world(small_scenario, ArrayCache(tmp_path))
    uncached = build_world(small_scenario, ArrayCache(None))
    assert cached.network.digest() == uncached.network.digest()


def test_damaged_entry_is_recomputed(tmp_path: Path) -> None:
    cache = ArrayCache(tmp_path)
    key = cache_key("test", 1)
    first = cache.get("t", key, lambda: {"a": np.arange(5)})
    for entry in tmp_path.glob("t-*.npz"):
        entry.write_bytes(b"not an npz file")
    again = cache.get("t", key, lambda: {"a": np.arange(5)})
    assert np.array_equal(first["a"], again["a"]) and cache.misses == 2


def test_cache_key_depends_on_every_part() -> None:
    assert cache_key("a", {"r": 500}) != cache_key("a", {"r": 1000})
    assert cache_key("a", {"r": 500}) == cache_key("a", {"r": 500})


def test_cache_can_be_turned_off(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("GRIDSIM_CACHE_DIR", "off")
    assert default_cache_dir() is None
    monkeypatch.setenv("GRIDSIM_CACHE_DIR", "/some/where")
    assert default_cache_dir() == Path("/some/where")
