"""gridsim calibrate: ABC-SMC recovers parameters a run was made with, and says what it
cannot identify."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

import gridsim
from gridsim.core.errors import InputError
from gridsim.core.executors import SerialExecutor
from gridsim.report.calibration_figure import predictive_png
from gridsim.scenario.load import read_scenario_text
from gridsim.studies.calibrate import calibrate, calibrated_scenario_text, weighted_quantiles
from gridsim.studies.experiment import replication_seeds
from gridsim.studies.targets import Targets, load_targets
from tests.conftest import SMALL

TRUE_RATE, DAYS = 50.0, 3


def _observed(metric: str, seeds: int = 12) -> tuple[float, float]:
    """Return the mean and SD of ``metric`` over runs at the true parameters."""
    scenario = gridsim.load_scenario(SMALL, [f"duration_days={DAYS}"])
    values = [gridsim.run(scenario, seed=s).summary["mediation"][metric]
              for s in replication_seeds(991, seeds)]
    return float(np.mean(values)), float(np.std(values, ddof=1))


def _targets(extra_parameter: bool, population: int, generations: int,
             replications: int = 2) -> Targets:
    cases, cases_sd = _observed("cases_on_scene")
    parameters = {"incidents.dispute.rate_per_day": {"low": 10, "high": 250, "scale": "log"}}
    if extra_parameter:  # no target depends on it
        parameters["volunteers.reaction_s"] = {"low": 10, "high": 120}
    return Targets.model_validate({
        "run": {"days": DAYS, "replications": replications, "population": population,
                "generations": generations, "predictive_draws": 6},
        "targets": {"cases": {"metric": "mediation.cases_on_scene", "value": cases,
                              "sd": cases_sd}},
        "parameters": parameters,
    })


def _calibrate(targets: Targets, folder: Path) -> dict:  # type: ignore[type-arg]
    text, source = read_scenario_text(SMALL)
    return calibrate(text, source, targets, 5, SerialExecutor(), folder,
                     predictive_png=predictive_png).report


def test_recovers_the_rate_a_run_was_made_with_and_flags_what_no_target_sees(
        tmp_path: Path) -> None:
    # one run per point (the kernel's sd is that of one run): 290 runs instead of 450,
    # with as wide a margin on every check below (on root seeds 5-12, 50 was inside the
    # interval each time, its share of the prior at most 0.11 and reaction_s flagged 7 times
    # in 8; with two runs a point, 2 times in 3 on seeds 5-7)
    targets = _targets(True, population=24, generations=3, replications=1)
    report = _calibrate(targets, tmp_path / "cal")
    rate = report["parameters"]["incidents.dispute.rate_per_day"]
    low, high = rate["interval"]
    assert low <= TRUE_RATE <= high
    assert rate["interval_share_of_prior"] < 0.5  # identified: the prior was 10..250
    assert report["parameters"]["volunteers.reaction_s"]["interval_share_of_prior"] > 0.6
    assert any(w.startswith("volunteers.reaction_s is not identified")
               for w in report["warnings"])
    assert report["targets"]["cases"]["ok"]
    files = {p.name for p in (tmp_path / "cal").iterdir()}
    assert {"posterior.parquet", "predictive.png", "calibrated.toml",
            "calibration.json"} <= files
    # the calibrated scenario is a valid scenario holding the posterior median
    calibrated = gridsim.load_scenario(tmp_path / "cal" / "calibrated.toml")
    median = report["parameters"]["incidents.dispute.rate_per_day"]["median"]
    assert calibrated.incidents["dispute"].rate_per_day == pytest.approx(median, rel=1e-3)
    # rerunning the finished calibration resumes it: nothing is simulated again
    again = _calibrate(targets, tmp_path / "cal")
    assert again["parameters"] == report["parameters"]


def test_a_target_metric_that_does_not_exist_is_one_line(tmp_path: Path) -> None:
    targets = Targets.model_validate({
        "run": {"days": 1}, "targets": {"x": {"metric": "no.such.value", "value": 1,
                                              "sd": 1}},
        "parameters": {"incidents.dispute.rate_per_day": {"low": 10, "high": 20}}})
    with pytest.raises(InputError, match="targets.x.metric: 'no.such.value' is not a value"):
        _calibrate(targets, tmp_path / "bad")
    assert not (tmp_path / "bad").exists()


def test_bad_targets_files_are_refused(tmp_path: Path) -> None:
    path = tmp_path / "t.toml"
    path.write_text('[targets.a]\nmetric = "x"\nvalue = 1\nsd = 0\n'
                    '[parameters."a.b"]\nlow = 1\nhigh = 2\n')
    with pytest.raises(InputError, match="sd"):
        load_targets(path)
    path.write_text('[targets.a]\nmetric = "x"\nvalue = 1\nsd = 1\n'
                    '[parameters."a.b"]\nlow = 2\nhigh = 1\n')
    with pytest.raises(InputError, match="low"):
        load_targets(path)


def test_weighted_quantiles_match_repeated_values() -> None:
    values = np.array([1.0, 2.0, 3.0])
    weights = np.array([1.0, 2.0, 1.0])
    repeated = np.array([1.0, 2.0, 2.0, 3.0])
    assert weighted_quantiles(values, weights, (0.5,))[0] == pytest.approx(
        float(np.median(repeated)))


def test_calibrated_values_are_written_with_their_interval() -> None:
    text = ('[police]\npatrol_units = 10  # ASSUMPTION\n'
            '[incidents.a]\nactivation_prob = { grid = 0.5 }\n')
    out = calibrated_scenario_text(text, {
        "police.patrol_units": {"median": 12.4, "interval": [11.0, 14.0], "integer": True},
        "incidents.a.activation_prob.grid": {"median": 0.123456, "interval": [0.1, 0.2],
                                             "integer": False}})
    assert "patrol_units = 12" in out and "CALIBRATED" in out
    assert "grid = 0.1235" in out
    assert json.dumps(out)  # plain text
