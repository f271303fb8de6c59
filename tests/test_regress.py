"""The regression gate: passes an unchanged engine, fails a worse one, rejects bad baselines."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest

from gridsim import World, load_scenario
from gridsim.api import scenario_digest
from gridsim.cli.main import main
from gridsim.core.errors import InputError
from gridsim.studies.experiment import replicate
from gridsim.studies.regress import GATED_METRICS, compare, make_baseline
from tests.conftest import SMALL

BASE_REPS, REPS = 40, 8  # runs stored in the test baseline, runs of one check


@pytest.fixture(scope="module")
def baseline(small_world: World) -> dict[str, Any]:
    scenario = small_world.scenario
    summaries = replicate(scenario, BASE_REPS, root_seed=1, world=small_world)
    return make_baseline(summaries, scenario_digest(scenario), scenario.name, 1, [],
                         check_replications=REPS)


def test_same_seed_reproduces_the_baseline(baseline, small_world) -> None:  # type: ignore[no-untyped-def]
    # the check's runs are the baseline's first REPS runs, repeated value for value
    verdicts = compare(baseline, replicate(small_world.scenario, REPS, 1, world=small_world))
    assert [v.verdict for v in verdicts] == ["same"] * len(GATED_METRICS)
    assert all(v.reproduced and v.p_worse == 1.0 for v in verdicts)
    full = compare(baseline, replicate(small_world.scenario, BASE_REPS, 1, world=small_world))
    assert all(v.reproduced and v.change == 0.0 for v in full)


def test_a_changed_run_is_not_taken_for_a_reproduction(baseline, small_world) -> None:  # type: ignore[no-untyped-def]
    summaries = replicate(small_world.scenario, REPS, 1, world=small_world)
    first = summaries[0]["first_arrival_s"]
    summaries[0] = {**summaries[0], "first_arrival_s": {**first, "p50": first["p50"] + 0.5}}
    verdicts = {v.metric: v for v in compare(baseline, summaries)}
    assert not verdicts["first_arrival_s.p50"].reproduced
    assert verdicts["first_arrival_s.p90"].reproduced


def test_false_alarms_stay_rare_across_seeds(baseline, small_world) -> None:  # type: ignore[no-untyped-def]
    # the unchanged engine, run with 12 other root seeds: at a 5% false-alarm rate the
    # chance of 3 or more failing runs is under 2%
    failures = 0
    for seed in range(100, 112):
        verdicts = compare(baseline, replicate(small_world.scenario, REPS, seed,
                                               world=small_world))
        failures += any(v.verdict == "worse" for v in verdicts)
    assert failures <= 2


def test_fewer_police_and_no_volunteers_fail_the_gate(baseline) -> None:  # type: ignore[no-untyped-def]
    worse = load_scenario(SMALL, ["police.patrol_units=8", "volunteers.count=0"])
    verdicts = {v.metric: v for v in compare(baseline, replicate(worse, REPS, 1))}
    assert verdicts["police_arrival_s.p90"].verdict == "worse"
    # volunteers now go to fewer calls (activation, no assaults), so their clearest mark
    # is how often someone local beats the police: 37% with them, 17% without
    assert verdicts["local_before_police_share"].verdict == "worse"


def _cli(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = main(args)
    out, err = capsys.readouterr()
    return code, out, err


def test_cli_update_then_gate_then_halved_patrols(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "small.json"
    base_args = ["regress", str(SMALL), "--baseline", str(path)]
    code, out, _ = _cli([*base_args, "--update", "--replications", "24"], capsys)
    assert code == 0 and "24 replications (a check runs 10)" in out
    written = json.loads(path.read_text())
    assert (written["replications"], written["check_replications"]) == (24, 10)
    code, out, _ = _cli([*base_args, "--junit", str(tmp_path / "ok.xml")], capsys)
    assert code == 0 and "no metric got worse" in out
    assert "the 10 runs reproduce the baseline's first 10 exactly" in out
    code, out, _ = _cli([*base_args, "--seed", "5", "--replications", "6"], capsys)
    assert code == 0 and "seed 5, 6 replications vs 24" in out
    junit = tmp_path / "bad.xml"
    code, out, _ = _cli([*base_args, "--set", "police.patrol_units=12", "--junit", str(junit)],
                        capsys)
    assert code == 1
    assert "police_arrival_s" in out.splitlines()[-1]
    suite = ET.parse(junit).getroot()
    assert suite.get("tests") == str(len(GATED_METRICS))
    failed = [c.get("name") for c in suite.iter("testcase") if c.find("failure") is not None]
    assert failed and all(name in GATED_METRICS for name in failed)


@pytest.mark.parametrize(
    ("breakage", "expected"),
    [
        (lambda doc: "{not json", "not a readable JSON baseline"),
        (lambda doc: json.dumps({**doc, "scenario_sha256": "0" * 64}), "another scenario"),
        (lambda doc: json.dumps({**doc, "metrics": {
            k: v for k, v in doc["metrics"].items() if k != "first_arrival_s.p90"}}),
         "metrics.first_arrival_s.p90"),
        (lambda doc: json.dumps({**doc, "format": "other"}), "format"),
        (lambda doc: json.dumps({**doc, "format": "gridsim-baseline/1"}), "format"),
        (lambda doc: json.dumps({**doc, "seed": "one"}), "seed"),
        (lambda doc: json.dumps({k: v for k, v in doc.items() if k != "check_replications"}),
         "check_replications: missing or not a int"),
        (lambda doc: json.dumps({**doc, "check_replications": "ten"}), "check_replications"),
        (lambda doc: json.dumps({**doc, "check_replications": True}), "check_replications"),
        (lambda doc: json.dumps({**doc, "check_replications": 1}),
         "check_replications: must lie between 2 and replications"),
        (lambda doc: json.dumps({**doc, "check_replications": BASE_REPS + 1}),
         "check_replications: must lie between 2 and replications"),
    ],
)
def test_bad_baselines_give_one_line_and_exit_2(  # type: ignore[no-untyped-def]
    tmp_path: Path, capsys: pytest.CaptureFixture[str], baseline, breakage, expected
) -> None:
    path = tmp_path / "broken.json"
    path.write_text(breakage(baseline))
    code, _, err = _cli(["regress", str(SMALL), "--baseline", str(path)], capsys)
    assert code == 2
    assert err.count("\n") == 1 and err.startswith("gridsim: error: ")
    assert expected in err and "Traceback" not in err


def test_missing_baseline_says_how_to_make_one(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = _cli(["regress", str(SMALL), "--baseline", str(tmp_path / "no.json")],
                        capsys)
    assert code == 2 and "--update" in err


@pytest.mark.parametrize("name", ["small", "nanjing"])
def test_committed_baselines_match_their_scenarios(name: str) -> None:
    """A schema or scenario change that orphans a baseline fails here, not in the CI gate."""
    from gridsim.studies.regress import check_scenario, load_baseline

    root = SMALL.parents[1]
    path = root / "baselines" / f"{name}.json"
    baseline = load_baseline(path)
    scenario = load_scenario(root / "scenarios" / f"{name}.toml", baseline["overrides"])
    check_scenario(baseline, scenario_digest(scenario), path)
    # a precise mean, so the false-alarm rate holds for this baseline (regress.py; measured
    # in test_gate_false_alarms.py)
    assert baseline["replications"] >= 40 * baseline["check_replications"]
    assert baseline["check_replications"] == 10


def test_no_volunteers_fail_the_committed_small_gate(capsys: pytest.CaptureFixture[str]) -> None:
    path = SMALL.parents[1] / "baselines" / "small.json"
    code, out, _ = _cli(["regress", str(SMALL), "--baseline", str(path),
                         "--set", "volunteers.count=0"], capsys)
    assert code == 1 and "first_arrival_s.p50" in out.splitlines()[-1]


def test_make_baseline_checks_the_check_count(small_world: World) -> None:
    summaries = replicate(small_world.scenario, 3, root_seed=1, world=small_world)
    with pytest.raises(InputError, match="check_replications"):
        make_baseline(summaries, "0" * 64, "small", 1, [], check_replications=4)
