"""Real call logs: reading CAD exports through a mapping, and fitting scenario inputs.

The example export (examples/cad/, written by scripts/make_example_cad.py from the
parameters in truth.json) must give back those parameters within their confidence
intervals, and the same comparison must fail against a wrong truth.
"""

from __future__ import annotations

import copy
import csv
import gzip
import json
import math
import subprocess
import sys
import time
import tomllib
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from pydantic import ValidationError
from scipy import stats

from gridsim.calls.fit import CallFit, fit_calls, locator_of
from gridsim.calls.mapping import Mapping, load_mapping
from gridsim.calls.read import CallLog, read_calls
from gridsim.city.locate import DistrictLocator
from gridsim.cli.main import main
from gridsim.core.errors import InputError
from gridsim.scenario import Scenario, load_scenario
from gridsim.scenario.load import default_scenario_text
from gridsim.world.build import World, build_world
from tests.conftest import ROOT

EXAMPLE = ROOT / "examples" / "cad"
SCRIPT = ROOT / "scripts" / "make_example_cad.py"
MORNING_S = 1_709_510_400.0  # 2024-03-04 08:00 in Shanghai, 00:00 UTC
DROP_REASONS = {  # truth.json's fault -> the reason the reader or the fit gives
    "duplicate": "duplicate row (the same in every mapped column)",
    "malformed": "malformed line (wrong number of fields)",
    "no_call_id": "no call id",
    "no_received": "no received time",
    "bad_received": "unreadable received time",
    "unknown_type": "unknown call type (not in [types])",
    "ignored_type": "call type in ignore_types",
    "no_type": "no call type",
    "no_location": "no location",
    "bad_location": "unreadable location",
    "outside_area": "outside the study area ([area])",
}


# ---------------------------------------------------------------- fixtures


@pytest.fixture(scope="module")
def truth() -> dict[str, Any]:
    return json.loads((EXAMPLE / "truth.json").read_text())


@pytest.fixture(scope="module")
def nanjing() -> Scenario:
    return load_scenario()


@pytest.fixture(scope="module")
def locator(nanjing: Scenario) -> DistrictLocator:
    return locator_of(nanjing)


@pytest.fixture(scope="module")
def example_mapping() -> Mapping:
    return load_mapping(EXAMPLE / "mapping.toml")


@pytest.fixture(scope="module")
def example_log(example_mapping: Mapping) -> CallLog:
    return read_calls(EXAMPLE / "calls.csv", example_mapping)


def _comparisons(truth: dict[str, Any]) -> int:
    """Return how many values the truth check compares (for a Bonferroni level)."""
    per_type = sum(1 + 24 + 7 + 2 + len(t["district_weights"]) for t in truth["types"].values())
    return per_type + 2 * len(truth["handling_delay_s"])


@pytest.fixture(scope="module")
def family_fit(example_log: CallLog, example_mapping: Mapping, nanjing: Scenario,
               locator: DistrictLocator, truth: dict[str, Any]) -> CallFit:
    """The example fitted with simultaneous CIs: each at 1 - 0.05 / comparisons."""
    level = 1.0 - 0.05 / _comparisons(truth)
    return fit_calls(example_log, example_mapping, nanjing, locator, confidence=level)


# ---------------------------------------------------------------- helpers


def _mapping(**changes: Any) -> Mapping:
    """Return a small mapping (ISO times, lat/lon columns) with ``changes`` merged in."""
    data: dict[str, Any] = {
        "timezone": "Asia/Shanghai", "time_format": "iso",
        "columns": {"call_id": "id", "received": "rec", "type": "type", "lat": "lat",
                    "lon": "lon"},
        "types": {"THEFT": "theft", "TRAFFIC": "traffic"},
    }
    for key, value in changes.items():
        if isinstance(value, dict) and isinstance(data.get(key), dict):
            data[key] = {**data[key], **value}
        else:
            data[key] = value
    return Mapping.model_validate(data)


def _csv(path: Path, header: list[str], rows: list[list[str]]) -> Path:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows(rows)
    return path


def _inside(value: float, ci: list[float] | None) -> bool:
    return ci is not None and ci[0] <= value <= ci[1]


def misses(payload: dict[str, Any], truth: dict[str, Any]) -> list[str]:
    """Return every true value that lies outside its fitted CI (empty: all recovered)."""
    out = []
    for name, true in truth["types"].items():
        fit = payload["types"][name]
        rate = fit["rate_per_day"]
        if not _inside(true["rate_per_day"], rate["ci"]):
            out.append(f"{name} rate {true['rate_per_day']} not in {rate['ci']}")
        profile = np.asarray(true["hourly_profile"], dtype=float)
        profile = profile * 24 / profile.sum()
        hourly = fit["hourly_profile"]
        for h in range(24):
            if not hourly["ci_low"][h] <= profile[h] <= hourly["ci_high"][h]:
                out.append(f"{name} hour {h}: {profile[h]:.3f} not in "
                           f"[{hourly['ci_low'][h]:.3f}, {hourly['ci_high'][h]:.3f}]")
        for day, factor in zip(("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"),
                               true["day_of_week"], strict=True):
            if not _inside(factor, fit["day_of_week"]["ci"][day]):
                out.append(f"{name} {day} factor {factor} not in {fit['day_of_week']['ci'][day]}")
        weights = fit["district_weights"]
        share = {d: w / sum(true["district_weights"].values())
                 for d, w in true["district_weights"].items()}
        for district, value in weights["value"].items():
            if district not in share and value != 0.0:
                out.append(f"{name} has calls in {district}, which the truth does not")
        for district, value in share.items():
            if not _inside(value, weights["ci"][district]):
                out.append(f"{name} {district} share {value:.3f} not in "
                           f"{weights['ci'][district]}")
        lognormal = fit["on_scene_s"]["lognormal"]
        for key in ("mean_s", "cv"):
            if not _inside(true["on_scene_s"][key], lognormal[key]["ci"]):
                out.append(f"{name} on-scene {key} {true['on_scene_s'][key]} not in "
                           f"{lognormal[key]['ci']}")
        top = max(true["priorities"], key=true["priorities"].get)
        if fit["priority"]["value"] != int(top):
            out.append(f"{name} priority {fit['priority']['value']} is not {top}")
    for priority, true in truth["handling_delay_s"].items():
        lognormal = payload["handling_delay_s"][priority]["lognormal"]
        for key in ("mean_s", "cv"):
            if not _inside(true[key], lognormal[key]["ci"]):
                out.append(f"priority {priority} handling {key} {true[key]} not in "
                           f"{lognormal[key]['ci']}")
    return out


# ---------------------------------------------------------------- the example


def test_the_example_is_what_the_script_writes(tmp_path: Path) -> None:
    subprocess.run([sys.executable, str(SCRIPT), "--out", str(tmp_path)], check=True,
                   capture_output=True)
    for name in ("calls.csv", "mapping.toml", "truth.json"):
        assert (tmp_path / name).read_bytes() == (EXAMPLE / name).read_bytes(), name


def test_fit_recovers_the_generating_parameters(family_fit: CallFit,
                                                truth: dict[str, Any]) -> None:
    assert misses(family_fit.payload, truth) == []
    # and the intervals are narrow enough for that to mean something
    for name, fit in family_fit.payload["types"].items():
        low, high = fit["rate_per_day"]["ci"]
        assert (high - low) / fit["rate_per_day"]["value"] < 0.5, name
        low, high = fit["on_scene_s"]["lognormal"]["mean_s"]["ci"]
        assert (high - low) / fit["on_scene_s"]["lognormal"]["mean_s"]["value"] < 0.3, name
        assert fit["on_scene_s"]["lognormal_fits"], name


def test_hourly_counts_follow_the_true_profile(family_fit: CallFit,
                                               truth: dict[str, Any]) -> None:
    """A chi-square test of each type's calls by hour against the generating profile."""
    types = truth["types"]
    for name, true in types.items():
        counts = np.asarray(family_fit.payload["types"][name]["hourly_profile"]["counts"])
        expected = counts.sum() * np.asarray(true["hourly_profile"]) / sum(true["hourly_profile"])
        p = stats.chisquare(counts, expected).pvalue
        assert p > 0.01 / len(types), (name, p)
        shifted = counts.sum() * np.roll(expected / counts.sum(), 8)  # hours read as UTC
        assert stats.chisquare(counts, shifted).pvalue < 1e-6, name


@pytest.mark.parametrize("wrong", ["rate", "on_scene_mean", "on_scene_cv", "hour",
                                   "district", "handling", "weekday"])
def test_the_truth_check_can_fail(family_fit: CallFit, truth: dict[str, Any],
                                  wrong: str) -> None:
    bad = copy.deepcopy(truth)
    traffic = bad["types"]["traffic"]
    if wrong == "rate":
        traffic["rate_per_day"] *= 1.15
    elif wrong == "on_scene_mean":
        traffic["on_scene_s"]["mean_s"] *= 1.15
    elif wrong == "on_scene_cv":
        traffic["on_scene_s"]["cv"] *= 1.3
    elif wrong == "hour":
        traffic["hourly_profile"] = np.roll(traffic["hourly_profile"], 3).tolist()
    elif wrong == "district":
        weights = traffic["district_weights"]
        weights["Xuanwu"], weights["Jianye"] = weights["Jianye"], weights["Xuanwu"]
    elif wrong == "handling":
        bad["handling_delay_s"]["3"]["mean_s"] *= 1.15
    else:
        bad["types"]["dispute"]["day_of_week"] = [1.3, 1.3, 0.8, 0.8, 0.8, 1.0, 1.0]
    assert misses(family_fit.payload, bad) != []


def test_every_fault_in_the_example_is_counted(example_log: CallLog, family_fit: CallFit,
                                               truth: dict[str, Any]) -> None:
    faults = truth["faults"]
    counted = {reason: rows.n for reason, rows in family_fit.log.dropped.items()}
    expected = {DROP_REASONS[k]: faults[k] for k in DROP_REASONS}
    far = [r for r in counted if r.startswith("far from the scenario's roads")]
    assert len(far) == 1
    expected[far[0]] = faults["far_from_roads"]
    assert counted == expected
    assert {k: v.n for k, v in example_log.incomplete.items()} == {
        "unreadable on_scene time (left blank)": faults["bad_on_scene"],
        "no priority": faults["no_priority"]}
    assert example_log.unknown_types == {"NOISE COMPLAINT": faults["unknown_type"]}
    # nothing silent: every row read is used or dropped for a reason
    log = family_fit.log
    assert log.rows_read == truth["rows"]
    assert log.rows_read == log.rows_used + sum(r.n for r in log.dropped.values())
    assert log.calls == truth["calls"]
    excluded: dict[str, int] = {}
    for fit in family_fit.payload["types"].values():
        for reason, n in fit["on_scene_s"]["excluded"].items():
            excluded[reason] = excluded.get(reason, 0) + n
    assert excluded == {"no cleared time": faults["no_cleared"],
                        "cleared before on_scene": faults["backwards"],
                        "no on_scene time": faults["bad_on_scene"]}
    handling = sum(f.get("excluded", {}).get("no dispatched time", 0)
                   for f in family_fit.payload["handling_delay_s"].values())
    assert handling == faults["no_dispatched"]


def test_reported_line_numbers_point_at_the_faulty_lines(example_log: CallLog) -> None:
    lines = (EXAMPLE / "calls.csv").read_text().split("\n")
    fields = {n: next(csv.reader([lines[n - 1]])) for n in range(2, len(lines) + 1)
              if lines[n - 1]}
    dropped = example_log.dropped
    for n in dropped["malformed line (wrong number of fields)"].first:
        assert len(fields[n]) < 11
    for n in dropped["no call id"].first:
        assert fields[n][0] == ""
    for n in dropped["duplicate row (the same in every mapped column)"].first:
        assert fields[n] == fields[n - 1]
    for n in dropped["call type in ignore_types"].first:
        assert fields[n][6] == "TEST CALL"
    for n in dropped["outside the study area ([area])"].first:
        assert fields[n][9] in ("(31.23040, 121.47370)", "POINT (121.47370 31.23040)",
                                "(0.00000, 0.00000)", "POINT (0.00000 0.00000)")
    for n in example_log.incomplete["unreadable on_scene time (left blank)"].first:
        assert fields[n][4].startswith("00/00/0000")


def test_the_locator_finds_the_worlds_nodes(small_scenario: Scenario,
                                            small_world: World) -> None:
    located = locator_of(small_scenario)
    assert np.array_equal(located.node_district, small_world.node_district)
    assert np.array_equal(located.tree.data, small_world.network.xy_m)


def test_the_locator_of_an_imported_city() -> None:
    pytest.importorskip("osmnx")
    scenario = load_scenario(ROOT / "scenarios" / "aguascalientes.toml")
    located = locator_of(scenario)
    world = build_world(scenario)
    assert world.node_lat_lon is not None
    district, distance_m = located.locate(world.node_lat_lon[:, 0], world.node_lat_lon[:, 1])
    assert np.array_equal(district, world.node_district) and distance_m.max() < 1e-6


# ---------------------------------------------------------------- the command


def test_calls_fit_writes_a_folder_a_scenario_can_use(tmp_path: Path,
                                                      capsys: pytest.CaptureFixture[str]
                                                      ) -> None:
    out = tmp_path / "fit"
    args = ["calls", "fit", str(EXAMPLE / "calls.csv"), "--mapping",
            str(EXAMPLE / "mapping.toml"), "--out", str(out)]
    assert main(args) == 0
    printed = capsys.readouterr().out
    assert "unknown call type" in printed and "lines 105" in printed
    manifest = json.loads((out / "gridsim-output.json").read_text())
    assert manifest["command"] == "calls fit"
    assert sorted(manifest["files"]) == sorted(
        ["incidents.toml", "scenario.toml", "fit.json", "calls_by_hour.png",
         "on_scene_qq.png", "handling_delay_qq.png"])
    runnable = load_scenario(out / "scenario.toml")  # the merged scenario loads as it is
    assert runnable.police.dispatch_delay_s_by_priority is not None
    payload = json.loads((out / "fit.json").read_text())
    assert payload["generator"].startswith("gridsim")
    assert payload["period"] == {
        "start": "2024-03-04", "end": "2024-03-18", "days": 14,
        "from": "the log: the first to the last call's day",
        "weekdays": dict.fromkeys(("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"), 2)}
    # incidents.toml pasted into the default scenario gives a valid scenario
    fitted = tomllib.loads((out / "incidents.toml").read_text())
    base = tomllib.loads(default_scenario_text())
    base["incidents"].update(fitted["incidents"])
    base["police"].update(fitted["police"])
    merged = Scenario.model_validate(base)
    assert merged.incidents["traffic"].rate_per_day == pytest.approx(
        payload["types"]["traffic"]["rate_per_day"]["value"], rel=1e-3)
    assert merged.incidents["assault"].units == 2  # copied from the scenario
    # a rerun replaces its own folder; a folder of the user's is refused
    assert main(args) == 0
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "notes.txt").write_text("keep")
    capsys.readouterr()
    assert main([*args[:-1], str(mine)]) == 2
    assert capsys.readouterr().err.count("\n") == 1
    assert (mine / "notes.txt").read_text() == "keep"


def test_a_bare_log_keeps_the_scenarios_other_inputs(tmp_path: Path,
                                                    capsys: pytest.CaptureFixture[str]) -> None:
    """Only call id, time, type and place: durations, priorities come from the scenario."""
    rows = [[str(k), f"2024-03-04T{k % 24:02d}:15:00", "NOISE" if k % 2 else "THEFT",
             "32.05", "118.78"] for k in range(40)]
    log = _csv(tmp_path / "bare.csv", ["id", "rec", "type", "lat", "lon"], rows)
    mapping = tmp_path / "map.toml"
    mapping.write_text("timezone = 'Asia/Shanghai'\n[columns]\ncall_id = 'id'\n"
                       "received = 'rec'\ntype = 'type'\nlat = 'lat'\nlon = 'lon'\n"
                       "[types]\nTHEFT = 'theft'\nNOISE = 'noise'\n")
    out = tmp_path / "fit"
    assert main(["calls", "fit", str(log), "--mapping", str(mapping), "--out", str(out)]) == 0
    err = capsys.readouterr().err
    assert "fewer than 30 calls behind theft (20), noise (20)" in err
    fitted = tomllib.loads((out / "incidents.toml").read_text())
    nanjing = load_scenario()
    assert fitted["incidents"]["theft"]["on_scene_s"] == nanjing.incidents[
        "theft"].on_scene_s.model_dump(mode="json", exclude_none=True)
    assert fitted["incidents"]["theft"]["priority"] == nanjing.incidents["theft"].priority
    assert fitted["incidents"]["noise"]["responders"] == ["police"]  # not in the scenario
    assert fitted["police"]["dispatch_delay_s_by_priority"] == [60, 90, 90, 120, 120]
    base = tomllib.loads(default_scenario_text())
    base["incidents"].update(fitted["incidents"])
    Scenario.model_validate(base)


GOOD_MAPPING = ("timezone = 'Asia/Shanghai'\n[columns]\ncall_id = 'id'\nreceived = 'rec'\n"
                "type = 'type'\nlocation = 'loc'\n[types]\nTHEFT = 'theft'\n")


@pytest.mark.parametrize(("old", "new", "expected"), [
    ("received = 'rec'\n", "", "columns.received: required key is missing"),
    ("'Asia/Shanghai'", "'Mars/Base'", "timezone: unknown time zone 'Mars/Base'"),
    ("timezone", "colour = 1\ntimezone", "unknown key 'colour'; allowed keys here: area, "
                                         "columns, csv"),
    ("[types]", "[csv]\nsep = ';'\n[types]", "csv.sep: unknown key 'sep'; allowed keys "
                                            "here: delimiter, encoding, skip_rows"),
    ("timezone", "time_format = 'MM/DD/YYYY'\ntimezone", "time_format: 'MM/DD/YYYY' is not"),
    ("location = 'loc'", "location = 'loc'\nlat = 'y'", "columns.location: give either"),
    ("[types]", "[area]\nlat_min = 40\nlat_max = 30\n[types]",
     "area.lat_min: must be below lat_max"),
    ("THEFT = 'theft'", "THEFT = 'theft'\n'theft ' = 'theft'", "types: 'THEFT' and 'theft ' "
                                                              "are the same call type"),
    ("timezone = 'Asia/Shanghai'", "timezone = ", "invalid TOML"),
])
def test_a_bad_mapping_is_one_line_with_the_key_path(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], old: str, new: str,
        expected: str) -> None:
    assert old in GOOD_MAPPING
    path = tmp_path / "map.toml"
    path.write_text(GOOD_MAPPING.replace(old, new, 1))
    with pytest.raises(InputError) as caught:
        load_mapping(path)
    message = str(caught.value)
    assert "\n" not in message and expected in message, message
    log = _csv(tmp_path / "log.csv", ["id"], [["1"]])
    assert main(["calls", "fit", str(log), "--mapping", str(path), "--out",
                 str(tmp_path / "o")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("gridsim: error: ") and expected in err


def test_the_readme_mapping_example_is_valid(tmp_path: Path, example_log: CallLog) -> None:
    readme = (ROOT / "README.md").read_text()
    section = readme[readme.index("**The mapping file**"):]
    start = section.index("```toml\n") + 8
    block = section[start: section.index("\n```", start)]
    (tmp_path / "map.toml").write_text(block)
    mapping = load_mapping(tmp_path / "map.toml")
    assert mapping.rows == "unit" and mapping.priority_table() == {"P1": 1, "P2": 2}
    assert mapping.period is not None and (mapping.period.end - mapping.period.start).days == 14
    log = read_calls(EXAMPLE / "calls.csv", mapping)  # it reads the example as its own does
    assert log.calls == example_log.calls and log.dropped == example_log.dropped


def test_mapping_needs_a_location_and_only_one_kind() -> None:
    with pytest.raises(ValidationError, match="location: required"):
        _mapping(columns={"lat": None, "lon": None})
    with pytest.raises(ValidationError, match="either location or lat and lon"):
        _mapping(columns={"location": "loc"})


# ---------------------------------------------------------------- reading formats


def test_iso_timestamps_with_and_without_offsets(tmp_path: Path) -> None:
    values = ["2024-03-04T08:00:00", "2024-03-04 08:00:00.5", "2024-03-04T00:00:00Z",
              "2024-03-04T08:00:00+08:00", "2024-03-03T19:00:00-0500", "2024-03-04T08:00",
              "2024-03-04 08:00:00,25", "", "yesterday"]
    rows = [[str(k), v, "THEFT", "32.05", "118.8"] for k, v in enumerate(values)]
    log = read_calls(_csv(tmp_path / "a.csv", ["id", "rec", "type", "lat", "lon"], rows),
                     _mapping())
    assert log.received_s.tolist() == [MORNING_S, MORNING_S + 0.5, MORNING_S, MORNING_S,
                                       MORNING_S, MORNING_S, MORNING_S + 0.25]
    assert log.dropped["no received time"].first == (9,)
    assert log.dropped["unreadable received time"].first == (10,)


def test_us_twelve_hour_timestamps(tmp_path: Path) -> None:
    values = ["03/04/2024 08:00:00 AM", "03/04/2024 12:05:00 AM", "03/04/2024 12:30:00 PM",
              "03/04/2024 01:00:00 pm", "3/4/2024 8:00:00 AM"]
    rows = [[str(k), v, "THEFT", "32.05", "118.8"] for k, v in enumerate(values)]
    path = _csv(tmp_path / "a.csv", ["id", "rec", "type", "lat", "lon"], rows)
    mapping = _mapping(time_format="%m/%d/%Y %I:%M:%S %p")
    hours = [MORNING_S, MORNING_S - 8 * 3600 + 300, MORNING_S + 4.5 * 3600,
             MORNING_S + 5 * 3600, MORNING_S]
    assert read_calls(path, mapping).received_s.tolist() == hours
    packed = tmp_path / "a.csv.gz"  # compressed exports are read as they are
    packed.write_bytes(gzip.compress(path.read_bytes()))
    assert read_calls(packed, mapping).received_s.tolist() == hours


def test_epoch_seconds_as_text_and_numbers(tmp_path: Path) -> None:
    rows = [["1", f"{MORNING_S:.0f}", "THEFT", "32.05", "118.8"],
            ["2", f"{MORNING_S + 1.5}", "THEFT", "32.05", "118.8"],
            ["3", "1.7095104e9", "THEFT", "32.05", "118.8"],
            ["4", "soon", "THEFT", "32.05", "118.8"]]
    log = read_calls(_csv(tmp_path / "a.csv", ["id", "rec", "type", "lat", "lon"], rows),
                     _mapping(time_format="epoch_s"))
    assert log.received_s.tolist() == [MORNING_S, MORNING_S + 1.5, MORNING_S]
    assert log.dropped["unreadable received time"].n == 1
    table = pa.table({"id": ["1", "2"], "rec": pa.array([MORNING_S * 1000, None], pa.float64()),
                      "type": ["THEFT", "THEFT"], "lat": [32.05, 32.05], "lon": [118.8, 118.8]})
    pq.write_table(table, tmp_path / "a.parquet")
    log = read_calls(tmp_path / "a.parquet", _mapping(time_format="epoch_ms"))
    assert log.received_s.tolist() == [MORNING_S]
    assert log.row_label == "row" and log.dropped["no received time"].first == (2,)
    with pytest.raises(InputError, match="holds numbers"):
        read_calls(tmp_path / "a.parquet", _mapping(time_format="iso"))


def test_parquet_timestamp_columns_naive_and_with_zone(tmp_path: Path) -> None:
    naive = pa.array([np.datetime64("2024-03-04T08:00:00")], pa.timestamp("s"))
    aware = pa.array([int(MORNING_S * 1e6)], pa.timestamp("us", tz="UTC"))
    table = pa.table({"id": ["1"], "rec": naive, "gone": aware, "type": ["THEFT"],
                      "lat": [32.05], "lon": [118.8]})
    pq.write_table(table, tmp_path / "t.parquet")
    log = read_calls(tmp_path / "t.parquet", _mapping(columns={"cleared": "gone"}))
    assert log.received_s.tolist() == [MORNING_S] and log.cleared_s.tolist() == [MORNING_S]


def test_unit_rows_are_merged_into_calls(tmp_path: Path) -> None:
    header = ["id", "rec", "disp", "scene", "clear", "type", "unit", "lat", "lon"]
    t = "2024-03-04T08:{:02d}:00"
    rows = [["A", t.format(0), t.format(2), t.format(9), t.format(40), "THEFT", "U1", "32.05",
             "118.8"],
            ["A", t.format(0), t.format(1), t.format(12), t.format(50), "THEFT", "U2", "", ""],
            ["A", "", t.format(3), "", t.format(30), "", "U3", "32.06", "118.9"],
            ["B", t.format(5), "", "", "", "TRAFFIC", "U4", "32.01", "118.7"]]
    path = _csv(tmp_path / "u.csv", header, rows)
    columns = {"dispatched": "disp", "on_scene": "scene", "cleared": "clear",
               "unit_id": "unit"}
    log = read_calls(path, _mapping(rows="unit", columns=columns))
    assert log.call_id.tolist() == ["A", "B"]
    assert log.n_rows.tolist() == [3, 1] and log.first_row.tolist() == [2, 5]
    assert log.received_s[0] == MORNING_S
    assert log.dispatched_s[0] == MORNING_S + 60  # the earliest dispatch
    assert log.on_scene_s[0] == MORNING_S + 540  # the first unit on scene
    assert log.cleared_s[0] == MORNING_S + 3000  # the last unit cleared
    assert (log.lat[0], log.lon[0]) == (32.05, 118.8)  # the first row giving one
    assert np.isnan(log.on_scene_s[1]) and np.isnan(log.cleared_s[1])
    assert [log.type_names[i] for i in log.type_index] == ["theft", "traffic"]
    per_call = read_calls(path, _mapping(columns=columns))  # rows = "call"
    assert per_call.dropped['call id repeated (rows = "call": one row per call)'].first == (
        3, 4)


def test_locations_in_every_form(tmp_path: Path) -> None:
    places = ["POINT (118.8 32.05)", "point(118.8 32.05)", "POINT Z (118.8 32.05 7)",
              "(32.05, 118.8)", "32.05,118.8", " ( 32.05 ; 118.8 ) ", "POINT (32.05)",
              "somewhere", "(95, 118.8)", ""]
    rows = [[str(k), "2024-03-04T08:00:00", "THEFT", p] for k, p in enumerate(places)]
    path = _csv(tmp_path / "l.csv", ["id", "rec", "type", "loc"], rows)
    log = read_calls(path, _mapping(columns={"location": "loc", "lat": None, "lon": None}))
    assert log.lat.tolist() == [32.05] * 6 and log.lon.tolist() == [118.8] * 6
    assert log.dropped["unreadable location"].first == (8, 9, 10)
    assert log.dropped["no location"].first == (11,)
    rows = [["1", "2024-03-04T08:00:00", "THEFT", "32.05", "118.8"],
            ["2", "2024-03-04T08:00:00", "THEFT", "north", "118.8"],
            ["3", "2024-03-04T08:00:00", "THEFT", "", ""]]
    log = read_calls(_csv(tmp_path / "c.csv", ["id", "rec", "type", "lat", "lon"], rows),
                     _mapping())
    assert log.calls == 1 and log.dropped["unreadable location"].first == (3,)
    assert log.dropped["no location"].first == (4,)


def test_bad_rows_are_each_counted(tmp_path: Path) -> None:
    header = ["id", "rec", "type", "pri", "lat", "lon"]
    ok = ["2024-03-04T08:00:00", "THEFT", "2", "32.05", "118.8"]
    text = ",".join(header) + "\n" + "\n".join([
        ",".join(["1", *ok]),
        ",".join(["1", *ok]),  # duplicate
        ",".join(["2", *ok[:2]]),  # malformed
        "",  # an empty line
        ",".join(["", *ok]),  # no call id
        ",".join(["4", ok[0], "NOISE", "2", "32.05", "118.8"]),
        ",".join(["5", ok[0], "TEST", "2", "32.05", "118.8"]),
        ",".join(["6", ok[0], "", "2", "32.05", "118.8"]),
        ",".join(["7", ok[0], "theft", "2", "40.0", "118.8"]),  # outside
        ",".join(["8", ok[0], "theft", "P9", "32.05", "118.8"]),  # unreadable priority
        ",".join(["9", "2024-03-20T08:00:00", "theft", "2", "32.05", "118.8"]),  # period
    ]) + "\n"
    (tmp_path / "b.csv").write_text(text)
    mapping = _mapping(columns={"priority": "pri"}, ignore_types=["test"],
                       area={"lat_min": 31.0, "lat_max": 33.0},
                       period={"start": "2024-03-04", "end": "2024-03-11"})
    log = read_calls(tmp_path / "b.csv", mapping)
    assert {k: v.first for k, v in log.dropped.items()} == {
        "malformed line (wrong number of fields)": (4,),
        "empty row": (5,),
        "duplicate row (the same in every mapped column)": (3,),
        "no call id": (6,),
        "received outside the period": (12,),
        "no call type": (9,),
        "call type in ignore_types": (8,),
        "unknown call type (not in [types])": (7,),
        "outside the study area ([area])": (10,),
    }
    assert log.call_id.tolist() == ["1", "8"] and log.priority.tolist() == [2, 0]
    assert log.incomplete["unreadable priority (left blank)"].first == (11,)
    assert log.unknown_types == {"NOISE": 1}
    assert log.rows_read == 11 == log.rows_used + sum(r.n for r in log.dropped.values())


def test_priority_table_delimiter_skipped_lines_and_encoding(tmp_path: Path) -> None:
    text = ("导出: 110 接警记录\n编号;接警时间;类别;级别;纬度;经度\n"
            "1;2024-03-04 08:00:00;盗窃;一级;32.05;118.8\n"
            "2;2024-03-04 08:00:00;交通事故;三级;32.05;118.8\n")
    (tmp_path / "gb.csv").write_bytes(text.encode("gb18030"))
    mapping = _mapping(csv={"delimiter": ";", "encoding": "gb18030", "skip_rows": 1},
                       columns={"call_id": "编号", "received": "接警时间", "type": "类别",
                                "priority": "级别", "lat": "纬度", "lon": "经度"},
                       types={"盗窃": "theft", "交通事故": "traffic"},
                       priorities={"一级": 1, "三级": 3})
    log = read_calls(tmp_path / "gb.csv", mapping)
    assert log.priority.tolist() == [1, 3] and log.first_row.tolist() == [3, 4]
    assert [log.type_names[i] for i in log.type_index] == ["theft", "traffic"]


def test_bad_files_are_one_line(tmp_path: Path) -> None:
    mapping = _mapping()
    cases: list[tuple[Path, str]] = []
    cases.append((tmp_path / "missing.csv", "file not found"))
    (tmp_path / "x.xlsx").write_bytes(b"PK\x03\x04")
    cases.append((tmp_path / "x.xlsx", "cannot tell the format"))
    (tmp_path / "broken.parquet").write_bytes(b"not parquet at all")
    cases.append((tmp_path / "broken.parquet", "not a readable Parquet file"))
    _csv(tmp_path / "cols.csv", ["id", "time", "type", "lat", "lon"], [["1", "x", "T", "1", "1"]])
    cases.append((tmp_path / "cols.csv", "columns.received: the log cols.csv has no column "
                                         "'rec'; its columns are 'id', 'time'"))
    (tmp_path / "bin.csv").write_bytes(b"id,rec,type,lat,lon\n1,\xff\xfe,T,1,1\n")
    cases.append((tmp_path / "bin.csv", "cannot read it as CSV"))
    _csv(tmp_path / "fmt.csv", ["id", "rec", "type", "lat", "lon"],
         [["1", "03/04/2024 08:00:00 AM", "THEFT", "32", "118"]])
    cases.append((tmp_path / "fmt.csv", "columns.received ('rec'): no value reads as "
                                        "time_format 'iso' (e.g. '03/04/2024 08:00:00 AM')"))
    for path, expected in cases:
        with pytest.raises(InputError) as caught:
            read_calls(path, mapping)
        assert "\n" not in str(caught.value) and expected in str(caught.value), str(caught.value)


def test_a_log_with_no_usable_call_is_refused(tmp_path: Path, nanjing: Scenario,
                                              locator: DistrictLocator) -> None:
    path = _csv(tmp_path / "n.csv", ["id", "rec", "type", "lat", "lon"],
                [["1", "2024-03-04T08:00:00", "NOISE", "32.05", "118.8"]])
    mapping = _mapping()
    with pytest.raises(InputError, match="no usable calls.*unknown call type"):
        fit_calls(read_calls(path, mapping), mapping, nanjing, locator)


def test_a_bad_lognormal_fit_falls_back_to_the_sample(tmp_path: Path, nanjing: Scenario,
                                                      locator: DistrictLocator) -> None:
    rng = np.random.default_rng(3)
    n = 400
    scene = np.where(rng.random(n) < 0.5, 600.0, 6000.0) * rng.uniform(0.95, 1.05, n)
    rows = [[str(k), f"{MORNING_S + k * 600:.0f}", f"{MORNING_S + k * 600 + 300:.0f}",
             f"{MORNING_S + k * 600 + 300 + s:.0f}", "THEFT", "32.05", "118.78"]
            for k, s in enumerate(scene)]
    path = _csv(tmp_path / "bimodal.csv", ["id", "rec", "scene", "clear", "type", "lat", "lon"],
                rows)
    mapping = _mapping(time_format="epoch_s", columns={"on_scene": "scene", "cleared": "clear"})
    fit = fit_calls(read_calls(path, mapping), mapping, nanjing, locator)
    theft = fit.payload["types"]["theft"]["on_scene_s"]
    assert not theft["lognormal_fits"] and theft["ks_distance"] > 0.1
    assert theft["written"]["mean_s"] == pytest.approx(scene.mean(), rel=1e-3)
    assert "fits badly" in fit.incidents_toml and 'dist = "empirical"' in fit.incidents_toml
    # the empirical distribution written is a valid duration with the sample's mean
    import tomllib

    from gridsim.scenario.schema import Duration
    written = tomllib.loads(fit.incidents_toml)["incidents"]["theft"]["on_scene_s"]
    duration = Duration.model_validate(written)
    assert duration.mean_s == pytest.approx(scene.mean(), rel=0.03)
    draws = duration.sample(np.random.default_rng(1), 20_000)
    assert np.mean(draws < 1000.0) == pytest.approx(np.mean(scene < 1000.0), abs=0.03)
    assert theft["quantiles_s"]["p50"]["ci"] is not None
    assert fit.payload["types"]["theft"]["day_of_week"] is None  # under a week of calls


def test_lognormal_cis_cover_at_their_level() -> None:
    """Coverage of the mean and CV intervals over many small samples (n = 50)."""
    from gridsim.calls.fit import fit_duration

    rng = np.random.default_rng(11)
    sigma2 = math.log1p(0.6**2)
    hits = np.zeros(2)
    trials = 400
    for _ in range(trials):
        x = rng.lognormal(math.log(1800) - sigma2 / 2, math.sqrt(sigma2), 50)
        ln = fit_duration(x, 0.05)["lognormal"]
        hits += [_inside(1800, ln["mean_s"]["ci"]), _inside(0.6, ln["cv"]["ci"])]
    coverage = hits / trials
    assert np.all(coverage > 0.91) and np.all(coverage < 0.99), coverage


# ---------------------------------------------------------------- performance


@pytest.mark.slow
def test_a_million_row_export_fits_in_a_minute_and_two_gigabytes(tmp_path: Path) -> None:
    subprocess.run([sys.executable, str(SCRIPT), "--out", str(tmp_path), "--days", "365",
                    "--scale", "7.5"], check=True, capture_output=True)
    rows = sum(1 for _ in (tmp_path / "calls.csv").open("rb")) - 1
    assert rows >= 1_000_000
    measure = ("import resource, sys\nfrom gridsim.cli.main import main\n"
               "code = main(sys.argv[1:])\n"
               "print('peak_kb', resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, "
               "file=sys.stderr)\nsys.exit(code)")
    started = time.perf_counter()
    done = subprocess.run([sys.executable, "-c", measure, "calls", "fit",
                           str(tmp_path / "calls.csv"), "--mapping",
                           str(tmp_path / "mapping.toml"), "--out", str(tmp_path / "fit")],
                          capture_output=True, text=True)
    wall_s = time.perf_counter() - started
    assert done.returncode == 0, done.stderr
    peak_kb = int(done.stderr.split("peak_kb")[-1].split()[0])  # Linux: kilobytes
    assert wall_s < 60.0, wall_s
    assert peak_kb < 2 * 1024 * 1024, peak_kb
    truth = json.loads((tmp_path / "truth.json").read_text())
    payload = json.loads((tmp_path / "fit" / "fit.json").read_text())
    assert payload["log"]["rows_read"] == truth["rows"]
    assert payload["log"]["calls"] == truth["calls"]
