"""Replaying a call log (``[replay]``) and comparing recorded with simulated response.

The example CAD export (examples/cad/) is replayed on a quarter-scale Nanjing for two
days (scenarios/replay-example.toml with --set), so the world builds in a few seconds.
The checks read the CSV with the standard library, not with gridsim's reader.
"""

from __future__ import annotations

import csv
import datetime
import json
import re
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq
import pytest

from gridsim.api import RunResult, run
from gridsim.calls.compare import paired_figures
from gridsim.city.synthetic import city_origin
from gridsim.cli.main import main
from gridsim.core.geo import project
from gridsim.scenario import Scenario, load_scenario
from gridsim.studies.experiment import replicate, replication_seeds, run_seeds
from gridsim.world.build import World, build_world
from tests.conftest import ROOT

EXAMPLE = ROOT / "scenarios" / "replay-example.toml"
CAD = ROOT / "examples" / "cad"
QUICK = ["duration_days=2", "city.scale=0.25"]  # two of the log's 14 days, a small city
FIRST_DAY = datetime.datetime(2024, 3, 4)  # local midnight of the log's first day
TYPES = {"TRAFFIC ACCIDENT": "traffic", "THEFT": "theft", "BURGLARY": "theft",
         "DISPUTE": "dispute", "ASSIST CITIZEN": "person_in_need", "ASSAULT": "assault"}
DOUBLED = "police.dispatch_delay_s_by_priority=[120, 180, 180, 240, 240]"  # was 60, 90, 90, 120
ADDED_S = {"assault": 60.0, "person_in_need": 90.0, "traffic": 90.0, "theft": 90.0}  # by priority
WKT = re.compile(r"POINT \(([-\d.]+) ([-\d.]+)\)")
LAT_LON = re.compile(r"\(([-\d.]+), ([-\d.]+)\)")


class LoggedCall:
    """A call as the CSV gives it: local seconds from the first day, type, (lat, lon)."""

    def __init__(self, t_s: float, kind: str, place: tuple[float, float] | None) -> None:
        """Keep the fields."""
        self.t_s, self.kind, self.place = t_s, kind, place


@pytest.fixture(scope="module")
def logged() -> dict[str, LoggedCall]:
    """Return the example's calls by id, read with csv and strptime (first good row)."""
    calls: dict[str, LoggedCall] = {}
    with (CAD / "calls.csv").open(encoding="utf-8", newline="") as handle:
        rows = csv.reader(handle)
        header = next(rows)
        for row in rows:
            if len(row) != len(header):
                continue
            field = dict(zip(header, row, strict=True))
            try:
                stamp = datetime.datetime.strptime(field["CallReceived"], "%m/%d/%Y %I:%M:%S %p")
            except ValueError:
                continue
            kind = TYPES.get(" ".join(field["CallType"].split()).upper())
            if not field["IncidentNumber"] or kind is None:
                continue
            wkt, pair = WKT.search(field["Location"]), LAT_LON.search(field["Location"])
            place = ((float(wkt[2]), float(wkt[1])) if wkt else
                     (float(pair[1]), float(pair[2])) if pair else None)
            known = calls.get(field["IncidentNumber"])
            if known is None or (known.place is None and place is not None):
                calls[field["IncidentNumber"]] = LoggedCall(
                    (stamp - FIRST_DAY).total_seconds(), kind, place)
    return calls


@pytest.fixture(scope="module")
def scenario() -> Scenario:
    return load_scenario(EXAMPLE, QUICK)


@pytest.fixture(scope="module")
def world(scenario: Scenario) -> World:
    return build_world(scenario)


@pytest.fixture(scope="module")
def exact(scenario: Scenario, world: World) -> RunResult:
    return run(scenario, world=world)


def _calls(result: RunResult) -> dict[str, np.ndarray]:
    """Return replay.parquet's columns of ``result`` (incident order)."""
    assert result.replay is not None and result.comparison is not None
    log = result.replay.log
    return {"call_id": log.call_id[result.replay.call].astype(str),
            "log_day": result.replay.log_day, **result.comparison.columns}


def test_paths_are_relative_to_the_scenario_file(scenario: Scenario) -> None:
    assert scenario.replay is not None
    assert Path(scenario.replay.log).resolve() == (CAD / "calls.csv").resolve()
    assert Path(scenario.replay.mapping).resolve() == (CAD / "mapping.toml").resolve()


def test_exact_replay_puts_each_call_at_its_logged_time_place_and_type(
        exact: RunResult, world: World, logged: dict[str, LoggedCall]) -> None:
    inc, facts = exact.records.incidents, exact.summary["replay"]
    ids = _calls(exact)["call_id"]
    assert facts["mode"] == "exact" and inc.count == facts["calls_used"] > 500
    assert len(set(ids)) == inc.count  # each call once
    for k, call_id in enumerate(ids):
        call = logged[call_id]
        assert inc.t_call_s[k] == call.t_s  # to the second
        assert inc.type_names[inc.type_id[k]] == call.kind
        distance = _distances_m(world, call.place)  # on the nearest node
        assert distance[inc.node[k]] == pytest.approx(distance.min(), abs=1e-9)
    # nothing lost: the calls of the two days, within reach of the roads, are all there
    in_run = {i for i, c in logged.items() if c.t_s < 2 * 86_400.0}
    assert set(ids) <= in_run
    assert len(in_run) - inc.count <= facts["calls_too_far"] + 20  # + calls the reader drops
    assert facts["calls_read"] == (facts["calls_used"] + facts["calls_too_far"]
                                   + facts["calls_beyond_run"])


def test_logged_on_scene_times_are_used(exact: RunResult) -> None:
    replayed = exact.replay
    assert replayed is not None
    log, call = replayed.log, replayed.call
    from_log = replayed.on_scene_logged
    assert from_log.mean() > 0.95
    np.testing.assert_array_equal(exact.records.incidents.on_scene_s[from_log],
                                  (log.cleared_s - log.on_scene_s)[call][from_log])


def test_scenario_seed_runs_are_byte_identical(tmp_path: Path) -> None:
    sets = [f"--set={o}" for o in QUICK]
    for name in ("A", "B"):
        assert main(["run", str(EXAMPLE), "--quiet", "--out", str(tmp_path / name), *sets]) == 0
    files = sorted(p.name for p in (tmp_path / "A").iterdir())
    assert "replay.parquet" in files
    for name in files:
        assert (tmp_path / "A" / name).read_bytes() == (tmp_path / "B" / name).read_bytes(), name


def test_another_seed_resamples_whole_days(scenario: Scenario, world: World, exact: RunResult,
                                           logged: dict[str, LoggedCall]) -> None:
    other = run(scenario, seed=7, world=world)
    facts = other.summary["replay"]
    assert facts["mode"] == "resampled days"
    drawn = facts["days_drawn"]
    assert len(drawn) == 2 and drawn != [0, 1]
    inc, calls = other.records.incidents, _calls(other)
    run_day = np.floor(inc.t_call_s / 86_400.0).astype(int)
    exact_ids = _calls(exact)["call_id"]
    exact_day = np.floor(exact.records.incidents.t_call_s / 86_400.0).astype(int)
    for k, call_id in enumerate(calls["call_id"]):
        call = logged[call_id]  # a logged call: its time of day, type and node
        assert inc.t_call_s[k] % 86_400.0 == call.t_s % 86_400.0
        assert int(call.t_s // 86_400.0) == drawn[run_day[k]] == calls["log_day"][k]
        assert inc.type_names[inc.type_id[k]] == call.kind
        distance = _distances_m(world, call.place)
        assert distance[inc.node[k]] == pytest.approx(distance.min(), abs=1e-9)
    for day, log_day in enumerate(drawn):  # the whole day: all its usable calls
        wanted = {i for i, c in logged.items() if c.t_s // 86_400.0 == log_day}
        got = set(calls["call_id"][run_day == day])
        assert got <= wanted and len(wanted) - len(got) <= 12  # calls the reader drops
        if log_day < 2:  # a day the exact replay has too: the very same calls
            assert got == set(exact_ids[exact_day == log_day])
    counts = np.bincount(run_day, minlength=2)
    assert counts.tolist() != np.bincount(exact_day, minlength=2).tolist()


def _distances_m(world: World, place: tuple[float, float] | None) -> np.ndarray:
    """Return the distance from the logged ``place`` to every road node (brute force)."""
    assert place is not None
    origin = city_origin(world.scenario.city)
    point = project(np.array([place[0]]), np.array([place[1]]), origin)[0]
    return np.asarray(np.hypot(*(world.network.xy_m - point).T))


def test_replication_zero_is_the_exact_replay(scenario: Scenario, world: World) -> None:
    small = load_scenario(ROOT / "scenarios" / "small.toml")
    assert run_seeds(small, 5, 4) == replication_seeds(5, 4)  # non-replay: as before
    seeds = run_seeds(scenario, 5, 4)
    assert seeds[0] == scenario.seed and seeds[1:] == replication_seeds(5, 4)[1:]
    modes = [s["replay"]["mode"] for s in replicate(scenario, 2, 5, world=world)]
    assert modes == ["exact", "resampled days"]


def test_doubled_handling_delay_shows_as_a_bias(exact: RunResult) -> None:
    slow = load_scenario(EXAMPLE, [*QUICK, DOUBLED])
    doubled = run(slow, world=build_world(slow)).summary["replay"]["comparison"]
    before = exact.summary["replay"]["comparison"]
    for name, added_s in ADDED_S.items():
        was, now = before["response_s"]["by_type"][name], doubled["response_s"]["by_type"][name]
        assert min(was["n"], now["n"]) > 30  # (stand-downs may change a few)
        # the simulated median rises by the added delay, and so the median ratio by it
        # over the recorded median, within a quarter
        rise_s = now["simulated"]["p50"] - was["simulated"]["p50"]
        assert rise_s == pytest.approx(added_s, rel=0.25), name
        assert now["ratio"]["p50"] - was["ratio"]["p50"] == pytest.approx(
            added_s / was["recorded"]["p50"], rel=0.25), name
    assert (doubled["handling_s"]["overall"]["simulated"]["p50"]
            == 2 * before["handling_s"]["overall"]["simulated"]["p50"])
    # disputes go to street mediators, whose delay did not change
    assert (doubled["response_s"]["by_type"]["dispute"]
            == before["response_s"]["by_type"]["dispute"])
    assert doubled["response_s"]["overall"]["ratio"]["p50"] > (
        before["response_s"]["overall"]["ratio"]["p50"] + 0.1)


def test_paired_figures() -> None:
    recorded = np.array([100.0, 200.0, 300.0, np.nan, 400.0])
    simulated = np.array([150.0, 250.0, 250.0, 50.0, np.nan])
    got = paired_figures(recorded, simulated)
    assert got["n"] == 3
    assert got["recorded"]["p50"] == 200.0 and got["simulated"]["p50"] == 250.0
    assert got["ratio"]["p50"] == 1.25
    assert got["median_abs_error_s"] == 50.0 and got["median_error_s"] == 50.0
    assert paired_figures(recorded[3:4], simulated[3:4])["ratio"] is None


def test_report_shows_recorded_vs_simulated(tmp_path: Path) -> None:
    out = tmp_path / "R"
    assert main(["run", str(EXAMPLE), "--quiet", "--report", "--out", str(out),
                 "--seed", "3", *(f"--set={o}" for o in QUICK)]) == 0
    summary = json.loads((out / "summary.json").read_text())
    comparison = summary["replay"]["comparison"]
    assert comparison["response_s"]["overall"]["n"] > 400
    assert set(comparison["response_s"]["by_type"]) == set(ADDED_S) | {"dispute"}
    table = pq.read_table(out / "replay.parquet")
    assert table.num_rows == summary["incidents"] == summary["replay"]["calls_used"]
    page = (out / "report.html").read_text()
    assert "Recorded vs simulated (call-log replay)" in page
    assert "alt='Recorded vs simulated response: QQ plot and each call'" in page
    assert "resampled" in page


@pytest.mark.parametrize(("override", "expected"), [
    ("replay.log=nowhere.csv", "replay.log: "),
    ("replay.mapping=nowhere.toml", "replay.mapping: "),
])
def test_a_missing_file_is_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                    override: str, expected: str) -> None:
    code = main(["run", str(EXAMPLE), "--quiet", "--out", str(tmp_path / "X"),
                 *(f"--set={o}" for o in QUICK), "--set", override])
    err = capsys.readouterr().err
    assert code == 2 and err.count("\n") == 1
    assert err.startswith(f"gridsim: error: {expected}") and "file not found" in err
    assert not (tmp_path / "X").exists()


def test_a_mapping_type_the_scenario_lacks_is_one_line(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    mapping = tmp_path / "mapping.toml"
    mapping.write_text((CAD / "mapping.toml").read_text().replace(
        '"ASSAULT" = "assault"', '"ASSAULT" = "robbery"'))
    code = main(["run", str(EXAMPLE), "--quiet", "--out", str(tmp_path / "X"),
                 *(f"--set={o}" for o in QUICK), "--set", f"replay.mapping={mapping}"])
    err = capsys.readouterr().err
    assert code == 2 and err.count("\n") == 1
    assert "replay.mapping" in err and "'robbery'" in err and "[incidents.robbery]" in err


def test_validate_reads_the_log_and_names_a_bad_mapping(capsys: pytest.CaptureFixture[str]
                                                        ) -> None:
    assert main(["validate", str(EXAMPLE)]) == 0
    # 4,186 calls read, 3 of them farther than replay.snap_max_m from the roads (as in run)
    assert re.search(r"4,183 calls to replay from calls\.csv \(\d+ rows left out\)",
                     capsys.readouterr().out)
    assert main(["validate", str(EXAMPLE), "--set", 'replay.mapping="nope.toml"']) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "replay.mapping" in err[0] and "file not found" in err[0]
