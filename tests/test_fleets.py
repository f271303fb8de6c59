"""Unit fleets: the dispatch layer against queueing theory, the fit against truth and the
recorded figures against an independent pandas computation on the shipped log."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from gridsim.calls.check import recorded_times
from gridsim.calls.fleet_fit import deconvolved, derounded
from gridsim.calls.mapping import load_mapping
from gridsim.calls.read import read_calls
from gridsim.cli.calls import calls_check, calls_fit
from gridsim.demand.incidents import generate_incidents
from gridsim.scenario.schema import Scenario
from gridsim.sim.engine import simulate
from gridsim.studies.experiment import replication_seeds
from gridsim.validation.analytic import erlang_c
from gridsim.validation.verify import mmc_case
from gridsim.world.build import build_world

ROOT = Path(__file__).resolve().parents[1]
SF = ROOT / "scenarios" / "data" / "sf"
LOG = SF / "sffd-calls-2018-ne-neighbourhoods.csv.gz"
MAPPING = SF / "mapping.toml"
CITY = ROOT / "scenarios" / "san-francisco-city.toml"


def _unit_mmc(servers: int, utilisation: float) -> tuple[Scenario, float]:
    """Return an M/M/c queue served by a unit fleet (no travel) and Erlang C's mean wait."""
    case = mmc_case(servers, utilisation, arrivals=8000)
    data = case.scenario.model_dump(mode="json")
    service = data["incidents"]["call"]["on_scene_s"]
    data["police"]["patrol_units"] = 0
    data["mediation_room"] = {"full_time": 0, "part_time": 0}
    data["incidents"]["call"]["responders"] = ["units"]
    tiny = {"dist": "fixed", "mean_s": 1e-6}
    data["fleets"] = {"car": {"units_by_station": {"0": servers}, "turnout_s": tiny,
                              "on_scene_s": service}}
    data["unit_dispatch"] = {
        "handling_s_by_priority": {"any": tiny},
        "travel_by_priority": {"any": {"overhead_s": 0.0, "factor": 1.0}},
        "plans": {"call": [{"units": {"car": 1}}]},
    }
    scenario = Scenario.model_validate(data)
    return scenario, case.analytic["mean_wait_s"]


def _mean_waits(scenario: Scenario) -> np.ndarray:
    """Return each replication's mean wait for a unit (s), the first tenth left out."""
    world = build_world(scenario)
    means = []
    for seed in replication_seeds(11, 8):
        records = simulate(world, generate_incidents(scenario, world.node_district, seed), seed)
        d = records.dispatches
        t_call = records.incidents.t_call_s[d["incident"]]
        counted = t_call >= 0.1 * scenario.duration_s
        means.append(float((d["t_dispatch_s"] - t_call)[counted].mean()))
    return np.array(means)


def _agrees(sample: np.ndarray, theory_s: float) -> bool:
    half = 3.5 * sample.std(ddof=1) / np.sqrt(sample.size)  # t(7) at 99.5%
    return bool(abs(sample.mean() - theory_s) < half + 0.02 * theory_s)


@pytest.mark.parametrize("servers,utilisation", [(1, 0.5), (3, 0.8)])
def test_a_unit_fleet_queues_as_erlang_c_says(servers: int, utilisation: float) -> None:
    scenario, theory_s = _unit_mmc(servers, utilisation)
    sample = _mean_waits(scenario)
    assert _agrees(sample, theory_s), (sample.mean(), theory_s)


def test_a_fleet_one_unit_short_is_caught() -> None:
    scenario, _ = _unit_mmc(3, 0.8)
    sample = _mean_waits(scenario)
    mu = 1.0 / scenario.fleets["car"].on_scene_s.mean_s
    lam = 0.8 * 3 * mu
    assert not _agrees(sample, erlang_c(lam, mu, 4).mean_wait)  # theory of 4 units


@pytest.mark.parametrize("shape,scale_s", [(3.0, 45.0), (8.0, 30.0), (2.0, 30.0)])
def test_deconvolution_comes_near_the_truth_and_gives_the_log_back(shape: float,
                                                                   scale_s: float) -> None:
    rng = np.random.default_rng(3)
    true_s = rng.gamma(shape, scale_s, 40_000)  # handling- and turnout-like times

    def logged(x_s: np.ndarray) -> np.ndarray:  # a clock to the minute
        return np.floor(rng.random(x_s.size) + x_s / 60.0)

    def jittered(minutes: np.ndarray) -> np.ndarray:
        return np.quantile(minutes + rng.random(minutes.size), [0.5, 0.9])

    log_min = logged(true_s)
    fitted = deconvolved(log_min)
    fitted_q = np.interp([0.5, 0.9], fitted["p"], fitted["quantiles_s"])
    np.testing.assert_allclose(fitted_q, np.quantile(true_s, [0.5, 0.9]), rtol=0.08)
    redrawn = np.interp(rng.random(40_000), fitted["p"], fitted["quantiles_s"])
    again, wanted = jittered(logged(redrawn)), jittered(log_min)
    np.testing.assert_allclose(again, wanted, rtol=0.03)
    blurred = jittered(logged(derounded(log_min * 60.0, rng)))  # the posterior draw
    assert abs(blurred[1] - wanted[1]) > abs(again[1] - wanted[1])


@pytest.fixture(scope="module")
def sf_log():  # type: ignore[no-untyped-def]
    return read_calls(LOG, load_mapping(MAPPING), str(MAPPING))


def test_recorded_response_matches_an_independent_pandas_computation(sf_log) -> None:  # type: ignore[no-untyped-def]
    frame = pd.read_csv(LOG, low_memory=False)
    frame = frame[frame["Location"].notna()]
    lat_lon = frame["Location"].str.strip("()").str.split(",", expand=True).astype(float)
    inside = lat_lon[0].between(37.773, 37.832) & lat_lon[1].between(-122.493, -122.392)
    frame = frame[inside]
    stamp = {c: pd.to_datetime(frame[c], format="%m/%d/%y %H:%M")
             for c in ("Received DtTm", "On Scene DtTm")}
    per_call = pd.DataFrame({"call": frame["Call Number"], "received": stamp["Received DtTm"],
                             "on_scene": stamp["On Scene DtTm"],
                             "priority": frame["Final Priority"]}).groupby("call").agg(
        received=("received", "min"), first_on_scene=("on_scene", "min"),
        priority=("priority", "first"))
    response_min = (per_call["first_on_scene"] - per_call["received"]).dt.total_seconds() / 60
    ours = recorded_times(sf_log, np.arange(sf_log.calls))
    assert sf_log.calls == len(per_call)
    assert int(np.isnan(ours.response_s).sum()) == int(response_min.isna().sum())
    for code, priority in (("3", 1), ("2", 2)):
        theirs = np.sort(response_min[per_call["priority"].astype(str) == code].dropna())
        mine = np.sort(ours.response_s[(sf_log.priority == priority)
                                       & ~np.isnan(ours.response_s)] / 60.0)
        np.testing.assert_array_equal(mine, theirs)


def test_fit_then_check_reproduces_a_held_out_month(tmp_path: Path,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    assert calls_fit(LOG, MAPPING, tmp_path / "fit", str(CITY),
                     "2018-01-01..2018-03-01") == 0
    elsewhere = tmp_path / "elsewhere"  # the written scenario's paths resolve from anywhere
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    assert calls_check(str(tmp_path / "fit" / "scenario.toml"), LOG, MAPPING,
                       "2018-09-01..2018-10-01", tmp_path / "check") == 0
    check = json.loads((tmp_path / "check" / "check.json").read_text())
    assert check["calls"]["recorded_without_unit_on_scene"] > 0  # counted, not dropped
    figures = check["figures"]
    for measure, band in (("response_s", 0.15), ("travel_s", 0.2)):
        for label in ("p50", "p90"):
            ratio = figures[measure]["overall"][label]["ratio"]
            assert abs(ratio - 1.0) <= band, (measure, label, ratio)


def test_a_bad_period_is_one_line_and_exit_2(tmp_path: Path) -> None:
    cmd = [sys.executable, "-m", "gridsim", "calls", "fit", str(LOG), "--mapping",
           str(MAPPING), "--scenario", str(CITY), "--period", "2018-07-01", "--out",
           str(tmp_path / "x")]
    done = subprocess.run(cmd, capture_output=True, text=True, check=False)
    assert done.returncode == 2
    assert done.stderr.count("\n") == 1 and "--period" in done.stderr


def test_a_log_off_the_scenarios_roads_fits_what_needs_no_map(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert calls_fit(LOG, MAPPING, tmp_path / "fit", None, "2018-01-01..2018-02-01") == 0
    payload = json.loads((tmp_path / "fit" / "fit.json").read_text())
    assert payload["needs_the_map"] and payload["fleets"]["needs_the_map"]
    assert payload["types"]["medical"]["rate_per_day"]["value"] > 10  # rates need no map
    assert not (tmp_path / "fit" / "scenario.toml").exists()
    assert "district_weights = " not in (tmp_path / "fit" / "incidents.toml").read_text()
    assert "fitted without the city's map" in capsys.readouterr().err
