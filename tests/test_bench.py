"""The benchmark: its figures and goals; the full quick run only with ``-m slow``."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from gridsim import World
from gridsim.cli.calls import calls_fit
from gridsim.cli.main import main
from gridsim.demand.incidents import generate_incidents
from gridsim.validation.bench import (
    BENCH_KEYS,
    check_goals,
    city_year,
    simpy_us_per_event,
    timed_real_city,
)
from gridsim.validation.naive import naive_seconds, road_graph


def test_simpy_floor_is_positive_and_small() -> None:
    assert 0.0 < simpy_us_per_event(20_000) < 100.0


def test_naive_design_runs_the_small_scenario(small_world: World) -> None:
    incidents = generate_incidents(small_world.scenario, small_world.node_district, seed=1)
    assert naive_seconds(small_world, incidents, road_graph(small_world), seed=1) > 0.0


def test_goals_are_judged_on_the_right_side() -> None:
    figures = {
        "overhead_vs_simpy": 99.0, "speedup_vs_naive": 101.0, "peak_rss_mb": 1999.0,
        "scale_2x_ratio": 2.3, "volunteer_2x_ratio": 1.0, "setup_s": {"cold": 30, "warm": 6},
        "city_year_s": 80.0, "osm_import_s": {"cold": 181.0, "warm": 4.0},
        "osm_import_peak_rss_mb": 3999.0, "calls_fit_s": 61.0, "calls_fit_peak_rss_mb": 1000.0,
        "real_city": {"calls_fit_s": 19.0, "point_ratio": 2.1},
    }
    verdicts = check_goals(figures)
    assert verdicts["overhead_vs_simpy"] and verdicts["speedup_vs_naive"]
    assert not verdicts["scale_2x_ratio"] and not verdicts["setup_s.warm"]
    assert not verdicts["osm_import_s.cold"] and verdicts["osm_import_s.warm"]
    assert verdicts["osm_import_peak_rss_mb"]
    assert not verdicts["calls_fit_s"] and verdicts["calls_fit_peak_rss_mb"]
    assert verdicts["real_city.calls_fit_s"] and not verdicts["real_city.point_ratio"]


@pytest.mark.slow
def test_a_calibration_point_on_the_real_city_costs_no_more_than_a_run(tmp_path: Path) -> None:
    figures = timed_real_city(calls_fit, str(tmp_path))
    assert figures["calls_fit_s"] <= 20.0
    assert figures["point_ratio"] <= 2.0


def test_a_short_year_counts_the_per_run_cost_once() -> None:
    # 2 s fixed + 0.25 s a day: one day takes 2.25 s, 14 days 5.5 s, a year 93.25 s;
    # scaling the 14 days alone by 365 / 14 would say 143.4 s
    assert city_year(2.25, 5.5, 14) == pytest.approx(2.0 + 0.25 * 365)
    assert city_year(2.25, 5.5, 14) < 5.5 * 365 / 14


@pytest.mark.slow
def test_quick_bench_writes_exactly_the_keys(tmp_path: Path) -> None:
    out = tmp_path / "bench.json"
    code = main(["bench", "--quick", "--json", str(out)])
    figures = json.loads(out.read_text())
    assert tuple(figures) == BENCH_KEYS
    assert set(figures["setup_s"]) == set(figures["osm_import_s"]) == {"cold", "warm"}
    assert code == (0 if all(check_goals(figures).values()) else 1)
