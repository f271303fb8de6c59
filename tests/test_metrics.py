"""Metrics: percentiles, their confidence intervals and per-incident outcomes."""

from __future__ import annotations

import numpy as np
import pytest

from gridsim.engine import SimulationRecords
from gridsim.incidents import Incidents
from gridsim.log import KIND_CODE
from gridsim.metrics import describe, incident_outcomes, quantile_ci


def test_describe_on_known_values() -> None:
    stats = describe(np.array([np.nan, *range(1, 101)], dtype=float))
    assert stats["n"] == 100
    assert stats["p50"] == pytest.approx(50.5)
    assert stats["p90"] == pytest.approx(90.1)
    assert stats["p50_ci"][0] <= 50.5 <= stats["p50_ci"][1]


def test_describe_of_nothing_is_empty() -> None:
    assert describe(np.array([np.nan]))["p50"] is None


@pytest.mark.parametrize("q", [0.5, 0.9])
def test_quantile_ci_covers_the_true_quantile_95_percent_of_the_time(q: float) -> None:
    rng = np.random.default_rng(12)
    true = -np.log(1 - q)  # exponential(1) quantile
    trials = 600
    hits = 0
    for _ in range(trials):
        lo, hi = quantile_ci(np.sort(rng.exponential(1.0, 200)), q)
        hits += lo <= true <= hi
    # a 95% interval: coverage between 92% and 99% (binomial sd ~0.9% at 600 trials)
    assert 0.92 <= hits / trials <= 0.99


def test_incident_outcomes_pick_the_earliest_arrivals() -> None:
    incidents = Incidents(
        type_names=("theft",),
        t_call_s=np.array([0.0, 100.0, 200.0]),
        type_id=np.zeros(3, dtype=np.int16),
        node=np.zeros(3, dtype=np.int32),
        priority=np.full(3, 3, dtype=np.int8),
        on_scene_s=np.full(3, 60.0),
    )
    kinds = [KIND_CODE[k] for k in ("patrol", "volunteer", "volunteer", "patrol")]
    records = SimulationRecords(
        incidents=incidents,
        dispatches={
            "incident": np.array([0, 0, 1, 1], dtype=np.int32),
            "kind": np.array(kinds, dtype=np.int8),
            "responder": np.zeros(4, dtype=np.int32),
            "t_dispatch_s": np.array([0.0, 0.0, 100.0, 100.0]),
            "t_arrive_s": np.array([300.0, 120.0, 400.0, 250.0]),
            "t_free_s": np.array([900.0, 900.0, 900.0, 900.0]),
        },
        duration_s=1000.0,
        duty_unit_s={},
        volunteer_alerts=np.zeros(0, dtype=np.int32),
    )
    out = incident_outcomes(records)
    assert out["first_arrival_s"][:2].tolist() == [120.0, 150.0]
    assert np.isnan(out["first_arrival_s"][2])
    assert out["police_arrival_s"][:2].tolist() == [300.0, 150.0]
    assert out["first_kind"].tolist() == [KIND_CODE["volunteer"], KIND_CODE["patrol"], -1]
    assert out["local_before_police"].tolist() == [True, False, False]
