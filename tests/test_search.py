"""Missing-person search: movement calibration, detection, Bayes' rule, more searchers help."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import simpy
from hypothesis import given, settings
from hypothesis import strategies as st

from gridsim import build_world, load_scenario
from gridsim.cli import main
from gridsim.rng import stream
from gridsim.search.movement import draw_destination, lognormal_of
from gridsim.search.searchers import (
    Searcher,
    SearchState,
    bayes_update,
    naive_searcher,
    pairwise_distance_m,
)
from gridsim.search.study import STRATEGIES, Study, build_study, mapscore, run_study

SCENARIO = Path(__file__).resolve().parent / "data" / "small-missing-person.toml"


@pytest.fixture(scope="module")
def study() -> Study:
    return build_study(build_world(load_scenario(SCENARIO)))


def test_bayes_update_matches_a_hand_computed_two_cell_case() -> None:
    # prior 0.6 / 0.4; search cell 0 with pod 0.5 and miss:
    # P(cell 0 | miss) = 0.6 * 0.5 / (1 - 0.6 * 0.5) = 0.3 / 0.7
    posterior = bayes_update(np.array([0.6, 0.4]), 0, 0.5)
    assert posterior == pytest.approx([0.3 / 0.7, 0.4 / 0.7])
    assert posterior.sum() == pytest.approx(1.0)


def _state(subject_index: int, xy: np.ndarray) -> SearchState:
    return SearchState(subject_at=lambda t: subject_index, is_night=lambda t: False,
                       probability=np.full(xy.shape[0], 1.0 / xy.shape[0]), xy_m=xy,
                       distance_m=pairwise_distance_m(xy))


def _searcher(route: tuple[int, ...], pod: float = 1.0, start_s: float = 0.0,
              name: str = "s") -> Searcher:
    return Searcher(name=name, start_index=0, start_s=start_s, speed_mps=1.0, inspect_s=10.0,
                    pod_day=pod, pod_night=pod, route=route, reach_m=np.inf,
                    rng=np.random.default_rng(0))


def test_a_still_subject_is_found_by_the_searcher_who_visits_his_node() -> None:
    xy = np.array([[0.0, 0.0], [100.0, 0.0], [200.0, 0.0]])
    state = _state(subject_index=2, xy=xy)
    env = simpy.Environment()
    env.process(naive_searcher(env, _searcher((1, 2)), state))
    env.run()
    # 100 m at 1 m/s with the road factor 1.3, plus 10 s looking, twice
    assert state.found_at_s == pytest.approx(2 * (130.0 + 10.0))


@settings(max_examples=40, deadline=None)
@given(
    subject=st.integers(0, 11),
    routes=st.lists(st.lists(st.integers(0, 11), min_size=1, max_size=8), min_size=1,
                    max_size=4),
    extra=st.lists(st.integers(0, 11), min_size=1, max_size=8),
    pod=st.floats(0.1, 1.0),
)
def test_adding_a_searcher_never_delays_the_find(subject, routes, extra, pod) -> None:  # type: ignore[no-untyped-def]
    """Naive searchers with their own random streams: one more can only help."""
    xy = np.column_stack([np.arange(12) * 50.0, np.zeros(12)])

    def find_time(all_routes: list[list[int]]) -> float:
        state = _state(subject, xy)
        env = simpy.Environment()
        for k, route in enumerate(all_routes):
            s = _searcher(tuple(route), pod, name=f"s{k}")
            s = Searcher(**{**s.__dict__, "rng": stream(k, "detect")})
            env.process(naive_searcher(env, s, state))
        env.run()
        return np.inf if state.found_at_s is None else state.found_at_s

    assert find_time([*routes, extra]) <= find_time(routes)


def test_dementia_distance_matches_the_virginia_median(study: Study) -> None:
    behaviour = study.spec.behaviours["dementia"]
    mu, _ = lognormal_of(behaviour)
    assert np.exp(mu) == pytest.approx(800.0)
    rng = np.random.default_rng(4)
    ends = [draw_destination(study.area, behaviour, np.ones(study.area.nodes.shape[0]), rng)
            for _ in range(1500)]
    median_km = float(np.median(study.area.straight_m[ends])) / 1000.0
    assert 0.72 <= median_km <= 0.88  # Koester & Stooksbury (1995): 0.8 km


def test_mapscore_is_zero_for_a_flat_map_and_one_for_the_right_peak() -> None:
    flat = np.full(11, 1 / 11)
    assert mapscore(flat, 3) == pytest.approx(0.0)
    peaked = np.full(11, 0.05)
    peaked[3] = 0.5
    assert mapscore(peaked, 3) == pytest.approx(1.0)


def test_study_runs_every_strategy_on_the_same_subjects(study: Study) -> None:
    rows = run_study(study.world, replications=4, seed=3)
    assert len(rows) == 4 * len(STRATEGIES)
    for rep in range(4):
        ends = {r["destination_node"] for r in rows if r["replication"] == rep}
        assert len(ends) == 1  # common random numbers: one subject per replication
    for r in rows:
        assert (r["time_to_find_s"] == np.inf) != r["found"]


def test_cli_runs_the_study_and_writes_the_figure(tmp_path: Path) -> None:
    assert main(["run", str(SCENARIO), "--quiet", "--out", str(tmp_path / "s")]) == 0
    assert {p.name for p in (tmp_path / "s").iterdir()} == {"gridsim-output.json",
        "summary.json", "scenario.json", "search.parquet", "time_to_find_cdf.png"}
