"""Hostile call logs: ``calls fit`` and ``[replay]`` end in one line and exit 2, or succeed.

Generated CSV and Parquet exports hold every kind of bad column: a list or a struct where
a location should be, bytes that are not UTF-8, integers up to 2**64, floats up to 1e300
and inf, timestamps of any unit and value, dates in the year 1 or 9999, and garbage text.
Reading and fitting (and replaying, on the small town) must then either raise one
``InputError`` line or succeed with every row accounted for and every time used within
1970-2100, and never take long. A handful of far-off dates (item 9 of issue 27) must be
left out, counted and warned about, the rates staying those of the rest of the log.
"""

from __future__ import annotations

import contextlib
import csv
import datetime
import io
import json
import re
import time
from collections.abc import Callable
from pathlib import Path
from tempfile import TemporaryDirectory
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest
from hypothesis import HealthCheck, event, example, given, settings
from hypothesis import strategies as st

from gridsim.calls.fit import fit_calls, locator_of
from gridsim.calls.mapping import Mapping, load_mapping
from gridsim.calls.read import CallLog, read_calls
from gridsim.calls.replay import check_replay, replay_calls
from gridsim.calls.validate import FAR_OFF, OUTSIDE, WINDOW_S, far_off
from gridsim.city.locate import DistrictLocator
from gridsim.cli.main import main
from gridsim.core.errors import InputError
from gridsim.scenario import Scenario
from gridsim.scenario.outputs import Replay
from gridsim.world.build import World
from tests.conftest import ROOT, SMALL

EXAMPLE = ROOT / "examples" / "cad"
PROFILE = settings(deadline=None, derandomize=True, database=None,
                   suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
MAX_S = 10.0  # a generous bound on one read + fit: anything longer counts as a hang
DAY_S = 86_400.0
MORNING_S = 1_709_510_400.0  # 2024-03-04 08:00 in Shanghai
FIELDS = ("id", "rec", "disp", "type", "pri", "loc")
TIME_FORMATS = ("iso", "epoch_s", "epoch_ms", "%m/%d/%Y %I:%M:%S %p")


def mapping_text(time_format: str) -> str:
    """Return a mapping for the generated logs (columns ``FIELDS``)."""
    return (f"timezone = 'Asia/Shanghai'\ntime_format = '{time_format}'\nrows = 'unit'\n"
            "[columns]\ncall_id = 'id'\nreceived = 'rec'\ndispatched = 'disp'\n"
            "type = 'type'\npriority = 'pri'\nlocation = 'loc'\n"
            "[types]\nTHEFT = 'theft'\nTRAFFIC = 'traffic'\n")


# --- generated cells and columns ---------------------------------------------------------

EXTREME_TEXT = ["9999-12-31T23:59:00", "0001-01-01T00:00:00", "2099-03-04T08:00:00",
                "1969-12-31T23:59:59", "12/31/9999 11:59:00 PM", "01/01/0001 12:00:00 AM",
                "1e17", "1e300", "-1e20", str(2**63), str(2**64), "inf", "-inf", "nan",
                "1e-400", "1" * 400, "-0", "9" * 30, "1709510400", "1709510400000"]
BAD_CELLS: dict[str, st.SearchStrategy[str | None]] = {
    "id": st.one_of(st.sampled_from(["", "1"]), st.text(max_size=6)),
    "rec": st.one_of(st.sampled_from(EXTREME_TEXT), st.text(max_size=12)),
    "disp": st.one_of(st.sampled_from(EXTREME_TEXT), st.text(max_size=12)),
    "type": st.one_of(st.sampled_from(["traffic ", "NOISE", ""]), st.text(max_size=8)),
    "pri": st.one_of(st.sampled_from(["05", "2.0", "0", "9", "²", "٣", "0" * 5000 + "1"]),
                     st.text(max_size=4)),
    "loc": st.one_of(st.sampled_from(["POINT (1e999 32)", "(1e308, -1e308)", "POINT ()",
                                      "(95, 118)", "POINT (10 10)", ""]),
                     st.text(max_size=12)),
}
REPRODUCER = ("id,rec,disp,type,pri,loc\n1,{},,THEFT,1,POINT (118.78 32.03)\n"
              "2,1709510400,,THEFT,1,POINT (118.78 32.03)\n")  # issue 27, item 8
FAR_SHIFTS_S = [75 * 365 * DAY_S, -30 * 365 * DAY_S, 40 * DAY_S, -54.2 * 365 * DAY_S]
EPOCH_EXTREMES_S = [1e17, -1e20, 2.0**63, 1e300, 1e12]
INT64 = st.integers(-(2**63), 2**63 - 1)


def time_cell(seconds: float, fmt: str) -> str:
    """Return epoch ``seconds`` written as ``fmt`` (local time in Shanghai)."""
    if fmt in ("epoch_s", "epoch_ms"):
        return f"{seconds * (1000 if fmt == 'epoch_ms' else 1):.0f}"
    local = datetime.datetime.fromtimestamp(seconds, datetime.UTC) + datetime.timedelta(hours=8)
    return local.strftime("%Y-%m-%dT%H:%M:%S" if fmt == "iso" else fmt)


@st.composite
def good_rows(draw: st.DrawFn, fmt: str) -> dict[str, list[str | None]]:
    """Return a usable log's columns: 1-15 unit rows of a few calls over up to 3 days."""
    rows = draw(st.integers(1, 25))
    calls = draw(st.sampled_from([rows, max(rows // 2, 1), 1]))
    columns: dict[str, list[str | None]] = {f: [] for f in FIELDS}
    for k in range(rows):
        at = MORNING_S + draw(st.integers(0, 3 * 86_400))
        columns["id"].append(str(k % calls))
        columns["rec"].append(time_cell(at, fmt))
        columns["disp"].append(time_cell(at + draw(st.integers(0, 600)), fmt))
        columns["type"].append(draw(st.sampled_from(["THEFT", "TRAFFIC"])))
        columns["pri"].append(draw(st.sampled_from(["1", "2", "3", None])))
        dx, dy = draw(st.floats(-0.02, 0.02)), draw(st.floats(-0.02, 0.02))
        columns["loc"].append(f"POINT ({118.78 + dx:.5f} {32.03 + dy:.5f})")
    for _ in range(draw(st.integers(0, 4))):  # a few bad cells (or blanks)
        field = draw(st.sampled_from([*FIELDS, "rec", "rec"]))  # times the most
        row = draw(st.integers(0, rows - 1))
        if field in ("rec", "disp") and draw(st.booleans()):  # far off, in the log's format
            shifts = FAR_SHIFTS_S + (EPOCH_EXTREMES_S if fmt.startswith("epoch") else [])
            columns[field][row] = time_cell(MORNING_S + draw(st.sampled_from(shifts)), fmt)
        else:
            columns[field][row] = draw(st.one_of(st.none(), BAD_CELLS[field]))
    return columns


def odd_column(rows: int) -> st.SearchStrategy[pa.Array]:
    """Return a strategy for a column of any odd type, ``rows`` long."""
    def many(values: st.SearchStrategy[Any]) -> st.SearchStrategy[list[Any]]:
        return st.lists(st.one_of(st.none(), values), min_size=rows, max_size=rows)

    units = st.sampled_from(["s", "ms", "us", "ns"])
    zones = st.sampled_from([None, "UTC", "Asia/Shanghai", "-05:00"])
    return st.one_of(
        many(st.binary(max_size=8)).map(lambda v: pa.array(v, pa.binary())),
        many(st.binary(max_size=8)).map(  # a string column holding bytes that are not UTF-8
            lambda v: pa.array(v, pa.binary()).view(pa.string())),
        many(INT64).map(lambda v: pa.array(v, pa.int64())),
        many(st.integers(0, 2**64 - 1)).map(lambda v: pa.array(v, pa.uint64())),
        many(st.floats()).map(lambda v: pa.array(v, pa.float64())),
        st.tuples(many(st.integers(-(2**62), 2**62)), units, zones).map(
            lambda a: pa.array(a[0], pa.timestamp(a[1], tz=a[2]))),
        many(st.lists(st.floats(), max_size=2)).map(lambda v: pa.array(v, pa.list_(pa.float64()))),
        many(st.fixed_dictionaries({"lat": st.floats(), "lon": st.floats()})).map(
            lambda v: pa.array(v, pa.struct([("lat", pa.float64()), ("lon", pa.float64())]))),
        many(st.sampled_from(["THEFT", "POINT (118.78 32.03)", "2024-03-04T08:00:00"])).map(
            lambda v: pa.array(v, pa.string()).dictionary_encode()),
        many(st.booleans()).map(lambda v: pa.array(v, pa.bool_())),
        many(st.integers(-10**6, 10**6)).map(lambda v: pa.array(v, pa.date32())),
        st.just(pa.nulls(rows)),
    )


@st.composite
def logs(draw: st.DrawFn) -> tuple[str, bytes | pa.Table, str]:
    """Return a generated export: its format, its bytes (CSV) or table, and a time format."""
    fmt = draw(st.sampled_from(TIME_FORMATS))
    cells = draw(good_rows(fmt))
    columns = {field: pa.array(values, pa.string()) for field, values in cells.items()}
    rows = len(cells["id"])
    if draw(st.booleans()):  # Parquet: typed times, and maybe a column of another type
        text = draw(st.sampled_from([pa.string(), pa.large_string(), pa.string_view()]))
        columns = {field: values.cast(text) for field, values in columns.items()}
        if fmt.startswith("epoch") and draw(st.booleans()):  # numbers, not text
            numbers = pa.array(cells["rec"], pa.string())
            columns["rec"] = pc.cast(pc.if_else(pc.match_substring_regex(
                numbers, r"^-?\d{1,18}$"), numbers, None), pa.int64())
        for field in draw(st.lists(st.sampled_from(FIELDS), max_size=2, unique=True)):
            columns[field] = draw(odd_column(rows))
        return "parquet", pa.table(columns), fmt
    text = io.StringIO()
    writer = csv.writer(text)
    writer.writerow(FIELDS)
    writer.writerows(zip(*cells.values(), strict=True))
    data = text.getvalue().encode("utf-8")
    if draw(st.integers(0, 3)) == 0:  # garbage bytes somewhere after the header
        at = draw(st.integers(data.index(b"\n") + 1, len(data)))
        data = data[:at] + draw(st.binary(min_size=1, max_size=6)) + data[at:]
    return "csv", data, fmt


def write_log(folder: Path, log: tuple[str, bytes | pa.Table, str]) -> tuple[Path, Path] | None:
    """Write the generated export and its mapping; None if Parquet cannot store it."""
    kind, content, fmt = log
    path = folder / f"log.{kind}"
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        try:
            pq.write_table(content, path)
        except (pa.ArrowException, OverflowError):
            return None  # (a timestamp Parquet cannot hold)
    mapping = folder / "mapping.toml"
    mapping.write_text(mapping_text(fmt))
    return path, mapping


def one_line(exc: InputError) -> str:
    """Return the message of ``exc``, checked to be one non-empty line."""
    message = str(exc)
    assert message and "\n" not in message and "\r" not in message, message
    return message


def refused(exc: InputError) -> str:
    """Return the one-line message of ``exc``, noting its gist in hypothesis' statistics."""
    message = one_line(exc)
    event("refused: " + " ".join(re.sub(r"\S*/", "", message).split()[:5]))
    return message


def check_accounted(log: CallLog) -> None:
    """Assert that every row of ``log`` is used or counted, and its times are plausible."""
    assert log.rows_read == log.rows_used + sum(r.n for r in log.dropped.values())
    for times in (log.received_s, log.dispatched_s, log.en_route_s, log.on_scene_s,
                  log.cleared_s):
        given = times[~np.isnan(times)]
        assert np.all((given >= WINDOW_S[0]) & (given < WINDOW_S[1]))


def timed(action: Callable[[], Any]) -> Any:
    """Return ``action()``, asserting it took under ``MAX_S``."""
    started = time.perf_counter()
    try:
        return action()
    finally:
        assert time.perf_counter() - started < MAX_S


# --- fixtures ----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def locator(small_scenario: Scenario) -> DistrictLocator:
    return locator_of(small_scenario)


def replay_scenario(scenario: Scenario, log: Path, mapping: Path) -> Scenario:
    """Return ``scenario`` (the small town, a day) replaying ``log``."""
    return scenario.model_copy(update={"replay": Replay(log=str(log), mapping=str(mapping))})


# --- properties --------------------------------------------------------------------------


@settings(PROFILE, max_examples=120)
@given(log=logs())
@example(log=("csv", REPRODUCER.format("9999-12-31T23:59:00").encode(), "iso"))
@example(log=("csv", REPRODUCER.format("1e17").encode(), "epoch_s"))
@example(log=("csv", REPRODUCER.format("-1e20").encode(), "epoch_ms"))
def test_fit_ends_in_one_line_or_a_counted_fit(log: tuple[str, bytes | pa.Table, str],
                                               small_scenario: Scenario,
                                               locator: DistrictLocator) -> None:
    with TemporaryDirectory() as tmp:
        written = write_log(Path(tmp), log)
        if written is None:
            return
        path, mapping_path = written
        mapping = load_mapping(mapping_path)
        try:
            calls = timed(lambda: read_calls(path, mapping))
            fit = timed(lambda: fit_calls(calls, mapping, small_scenario, locator))
        except InputError as exc:
            refused(exc)
            return
        check_accounted(fit.log)
        event(f"fitted: {'some' if fit.log.dropped else 'no'} rows left out")
        for reason in [*fit.log.dropped, *fit.log.incomplete]:
            event(f"counted: {reason}")
        assert 1 <= fit.days <= (WINDOW_S[1] - WINDOW_S[0]) / DAY_S + 1
        json.dumps(fit.payload, allow_nan=True)  # (what fit.json writes)


@settings(PROFILE, max_examples=40)
@given(log=logs())
def test_replay_and_validate_agree_on_every_log(log: tuple[str, bytes | pa.Table, str],
                                                small_scenario: Scenario,
                                                small_world: World) -> None:
    """The replay's input: ``run`` and ``validate`` fail alike, in one line, or both pass."""
    with TemporaryDirectory() as tmp:
        written = write_log(Path(tmp), log)
        if written is None:
            return
        scenario = replay_scenario(small_scenario, *written)
        outcomes = []
        for action in (lambda: check_replay(scenario),
                       lambda: replay_calls(scenario, small_world, scenario.seed),
                       lambda: replay_calls(scenario, small_world, scenario.seed + 1)):
            try:
                outcomes.append(timed(action))
            except InputError as exc:
                outcomes.append(refused(exc))
        if isinstance(outcomes[0], str):  # validate refused: so does every run, alike
            assert outcomes[1:] == outcomes[:1] * 2
            return
        event("replayed")
        for replayed in outcomes[1:]:
            assert not isinstance(replayed, str), replayed  # validate passed: so does run
            check_accounted(replayed.log)
            facts = replayed.facts
            assert facts["calls_used"] <= facts["calls_read"] and facts["log_days"] <= 47_483


@settings(PROFILE, max_examples=6)
@given(log=logs())
def test_calls_fit_command_exits_0_or_2_with_one_line(log: tuple[str, bytes | pa.Table, str]
                                                       ) -> None:
    with TemporaryDirectory() as tmp:
        written = write_log(Path(tmp), log)
        if written is None:
            return
        err = io.StringIO()
        with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
            code = timed(lambda: main(["calls", "fit", str(written[0]), "--mapping",
                                       str(written[1]), "--scenario", str(SMALL), "--out",
                                       str(Path(tmp) / "fit")]))
        lines = err.getvalue().splitlines()
        assert code in (0, 2)
        event(f"exit {code}")
        if code == 2:
            assert len(lines) == 1 and lines[0].startswith("gridsim: error: "), lines
        else:
            assert all(line.startswith("gridsim: warning: ") for line in lines), lines
            assert (Path(tmp) / "fit" / "fit.json").is_file()


@settings(PROFILE, max_examples=200)
@given(main_s=st.lists(st.floats(0.0, 30 * DAY_S), min_size=1, max_size=400),
       far_s=st.lists(st.floats(-40 * 365 * DAY_S, 40 * 365 * DAY_S), max_size=6))
def test_far_off_drops_only_a_handful_beyond_a_long_gap(main_s: list[float],
                                                        far_s: list[float]) -> None:
    t = MORNING_S + np.array([*main_s, *far_s])
    out = far_off(t)
    kept, gone = t[~out], t[out]
    assert kept.size >= 1 and gone.size <= max(0.005 * t.size, min(5, t.size / 10))
    if gone.size:  # each left out lies beyond a gap longer than a day and the kept span
        span = kept.max() - kept.min()
        distance = np.maximum(kept.min() - gone, gone - kept.max())
        assert np.all(distance > max(span, DAY_S))
    # a dense log (a call at least every 6 hours) with a few calls decades away
    dense = MORNING_S + np.sort(np.array(main_s) % (6 * 3600.0)) + np.arange(len(main_s)) * (
        6 * 3600.0)
    far = MORNING_S + 60 * 365 * DAY_S + np.arange(3) * DAY_S
    out = far_off(np.r_[dense, far])
    expected = len(main_s) + 3 >= 30  # 3 calls are a handful of 30 or more
    assert out[len(main_s):].all() == expected and not out[:len(main_s)].any()


# --- the reproducers of issue 27 ---------------------------------------------------------


@pytest.fixture(scope="module")
def example_rows() -> tuple[list[str], list[list[str]]]:
    with (EXAMPLE / "calls.csv").open(encoding="utf-8", newline="") as handle:
        rows = list(csv.reader(handle))
    return rows[0], rows[1:]


def test_far_off_dates_are_left_out_and_counted_and_the_rates_stay(
        tmp_path: Path, example_rows: tuple[list[str], list[list[str]]],
        small_scenario: Scenario, locator: DistrictLocator) -> None:
    """Item 9: 11 of the example's calls dated 2099 no longer stretch the period."""
    header, rows = example_rows
    mapping = load_mapping(EXAMPLE / "mapping.toml")
    before = fit_calls(read_calls(EXAMPLE / "calls.csv", mapping), mapping, small_scenario,
                       locator)
    used = {str(i) for i in before.log.call_id[before.log.n_rows == 1]}  # one row each
    picked = [k for k, row in enumerate(rows) if len(row) == len(header) and row[0] in used]
    picked = picked[50::len(picked) // 12][:11]  # spread over the two weeks
    assert len(picked) == 11
    moved = [row[:] for row in rows]
    for k in picked:
        moved[k][1] = moved[k][1].replace("/2024 ", "/2099 ")
    path = tmp_path / "calls.csv"
    with path.open("w", encoding="utf-8", newline="") as handle:
        csv.writer(handle).writerows([header, *moved])
    after = fit_calls(read_calls(path, mapping), mapping, small_scenario, locator)
    assert after.payload["log"]["dropped"][FAR_OFF] == {
        "rows": 11, "first": [k + 2 for k in picked[:5]]}  # CSV lines: the header is 1
    assert after.payload["period"] == before.payload["period"]  # 14 days, as before
    gone = {rows[k][0] for k in picked}
    for name, fit in after.payload["types"].items():
        lost = sum(1 for k in picked if before.log.type_names[before.log.type_index[
            list(before.log.call_id).index(rows[k][0])]] == name)
        was = before.payload["types"][name]["rate_per_day"]
        assert fit["calls"] == before.payload["types"][name]["calls"] - lost
        assert fit["rate_per_day"]["value"] == pytest.approx(was["value"] - lost / 14)
    assert not gone & set(after.log.call_id.tolist())


def test_calls_fit_warns_of_far_off_dates(tmp_path: Path) -> None:
    path, mapping = _small_log(tmp_path, ["2099-03-04T10:00:00"])
    err = io.StringIO()
    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
        assert main(["calls", "fit", str(path), "--mapping", str(mapping), "--scenario",
                     str(SMALL), "--out", str(tmp_path / "fit")]) == 0
    assert ("gridsim: warning: 1 rows received far outside the log's period were left out "
            "(lines 42): the period is that of the other calls; if they belong to the log, "
            "give its days as [period] in the mapping\n") in err.getvalue()
    payload = json.loads((tmp_path / "fit" / "fit.json").read_text())
    assert payload["period"]["days"] == 1 and payload["log"]["dropped"] == {
        FAR_OFF: {"rows": 1, "first": [42]}}


def _small_log(tmp_path: Path, received: list[str], fmt: str = "iso") -> tuple[Path, Path]:
    """Write 40 good calls and one per ``received`` value; return the log and mapping."""
    rows = [[str(k), f"2024-03-04T{k % 24:02d}:15:00", "THEFT", "POINT (118.78 32.03)"]
            for k in range(40)]
    if fmt == "epoch_s":
        for k, row in enumerate(rows):
            row[1] = f"{MORNING_S - 8 * 3600 + (k % 24) * 3600 + 900:.0f}"
    rows += [[f"x{k}", value, "THEFT", "POINT (118.78 32.03)"] for k, value in enumerate(received)]
    path = tmp_path / "log.csv"
    with path.open("w", encoding="utf-8", newline="") as handle:
        csv.writer(handle).writerows([["id", "rec", "type", "loc"], *rows])
    mapping = tmp_path / "mapping.toml"
    mapping.write_text(f"timezone = 'Asia/Shanghai'\ntime_format = '{fmt}'\n[columns]\n"
                       "call_id = 'id'\nreceived = 'rec'\ntype = 'type'\nlocation = 'loc'\n"
                       "[types]\nTHEFT = 'theft'\n")
    return path, mapping


@pytest.mark.parametrize(("values", "fmt"), [
    (["9999-12-31T23:59:00"], "iso"),
    (["1e17", "1e300", "-1e20", str(2**63)], "epoch_s"),
])
def test_times_outside_1970_2100_are_left_out_and_counted(tmp_path: Path, values: list[str],
                                                          fmt: str,
                                                          small_scenario: Scenario,
                                                          locator: DistrictLocator) -> None:
    """Item 8: no 'year 10000 is out of range', no 8 TiB array."""
    path, mapping_path = _small_log(tmp_path, values, fmt)
    mapping = load_mapping(mapping_path)
    fit = fit_calls(read_calls(path, mapping), mapping, small_scenario, locator)
    assert fit.payload["log"]["dropped"] == {
        f"received time {OUTSIDE}": {"rows": len(values), "first": [42, 43, 44, 45][:len(values)]}}
    assert fit.payload["period"]["days"] == 1 and fit.log.calls == 40


@pytest.mark.parametrize(("column", "expected"), [
    (pa.array([[118.78, 32.03]] * 3), "columns.location ('loc') is of type list<element: "
                                      "double>, not text such as 'POINT (lon lat)'"),
    (pa.array([{"lat": 32.03, "lon": 118.78}] * 3),
     "columns.location ('loc') is of type struct<lat: double, lon: double>, not text"),
])
def test_a_parquet_column_of_the_wrong_type_is_one_line(tmp_path: Path, column: pa.Array,
                                                        expected: str) -> None:
    """Item 7: the column, its type and the type expected; exit 2."""
    table = pa.table({"id": ["1", "2", "3"], "rec": ["2024-03-04T08:00:00"] * 3,
                      "type": ["THEFT"] * 3, "loc": column})
    pq.write_table(table, tmp_path / "log.parquet")
    (tmp_path / "map.toml").write_text(
        "timezone = 'UTC'\n[columns]\ncall_id = 'id'\nreceived = 'rec'\ntype = 'type'\n"
        "location = 'loc'\n[types]\nTHEFT = 'theft'\n")
    err = io.StringIO()
    with contextlib.redirect_stderr(err):
        assert main(["calls", "fit", str(tmp_path / "log.parquet"), "--mapping",
                     str(tmp_path / "map.toml"), "--out", str(tmp_path / "o")]) == 2
    assert err.getvalue().count("\n") == 1 and expected in err.getvalue(), err.getvalue()
    assert not (tmp_path / "o").exists()


def test_type_bytes_that_are_not_utf8_are_one_line(tmp_path: Path) -> None:
    """Item 7: invalid UTF-8 in a string (or binary) type column names the row."""
    mapping = Mapping.model_validate({
        "timezone": "UTC", "types": {"THEFT": "theft"},
        "columns": {"call_id": "id", "received": "rec", "type": "type", "location": "loc"}})
    for kind in (pa.string(), pa.binary()):
        column = pa.array([b"THEFT", b"\xff\xfeTHEFT", b"THEFT"], pa.binary())
        table = pa.table({"id": ["1", "2", "3"], "rec": ["2024-03-04T08:00:00"] * 3,
                          "type": column.view(kind) if kind == pa.string() else column,
                          "loc": ["(32.03, 118.78)"] * 3})
        pq.write_table(table, tmp_path / "log.parquet")
        with pytest.raises(InputError) as caught:
            read_calls(tmp_path / "log.parquet", mapping)
        assert one_line(caught.value).endswith(
            "columns.type ('type'): row 2 is not UTF-8 text (b'\\xff\\xfeTHEFT'); export the "
            "column as UTF-8 text")


def test_nanosecond_timestamps_are_read(tmp_path: Path) -> None:
    """A pandas-style Parquet (timestamp[ns]) no longer fails a cast."""
    stamps = pa.array([int(MORNING_S * 1e9) + 123], pa.timestamp("ns", tz="UTC"))
    pq.write_table(pa.table({"id": ["1"], "rec": stamps, "type": ["THEFT"],
                             "loc": ["(32.03, 118.78)"]}), tmp_path / "log.parquet")
    mapping = Mapping.model_validate({
        "timezone": "UTC", "types": {"THEFT": "theft"},
        "columns": {"call_id": "id", "received": "rec", "type": "type", "location": "loc"}})
    assert read_calls(tmp_path / "log.parquet", mapping).received_s.tolist() == [MORNING_S]


@pytest.mark.parametrize("text", [pa.large_string(), pa.string_view()])
def test_large_strings_and_string_views_are_read(tmp_path: Path, text: pa.DataType) -> None:
    """As a polars export writes them (ISO times in a large string failed a kernel)."""
    pq.write_table(pa.table({"id": ["1", "2"], "rec": ["2024-03-04T00:00:00Z",
                                                     "2024-03-04 08:00:00+08:00"],
                             "type": ["THEFT", "THEFT"], "loc": ["(32.03, 118.78)"] * 2}
                            ).cast(pa.schema([(n, text) for n in ("id", "rec", "type", "loc")])),
                   tmp_path / "log.parquet")
    mapping = Mapping.model_validate({
        "timezone": "UTC", "types": {"THEFT": "theft"},
        "columns": {"call_id": "id", "received": "rec", "type": "type", "location": "loc"}})
    log = read_calls(tmp_path / "log.parquet", mapping)
    assert log.received_s.tolist() == [MORNING_S] * 2  # 08:00 in Shanghai is 00:00 UTC


def test_a_handling_delay_from_few_calls_is_marked_rough(tmp_path: Path,
                                                         small_scenario: Scenario,
                                                         locator: DistrictLocator) -> None:
    rows = [[str(k), f"{MORNING_S + k * 600:.0f}", f"{MORNING_S + k * 600 + 60 + k:.0f}",
             "THEFT", "1" if k < 2 else "3", "(32.03, 118.78)"] for k in range(60)]
    path = tmp_path / "log.csv"
    with path.open("w", encoding="utf-8", newline="") as handle:
        csv.writer(handle).writerows([["id", "rec", "disp", "type", "pri", "loc"], *rows])
    mapping = tmp_path / "map.toml"
    mapping.write_text("timezone = 'Asia/Shanghai'\ntime_format = 'epoch_s'\n[columns]\n"
                       "call_id = 'id'\nreceived = 'rec'\ndispatched = 'disp'\ntype = 'type'\n"
                       "priority = 'pri'\nlocation = 'loc'\n[types]\nTHEFT = 'theft'\n")
    err = io.StringIO()
    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
        assert main(["calls", "fit", str(path), "--mapping", str(mapping), "--scenario",
                     str(SMALL), "--out", str(tmp_path / "fit")]) == 0
    assert ("gridsim: warning: fewer than 30 calls with both times behind the handling delay "
            "of priority 1 (2): rough") in err.getvalue()
    handling = json.loads((tmp_path / "fit" / "fit.json").read_text())["handling_delay_s"]
    assert handling["1"]["rough"].startswith("fitted from 2 calls with both times")
    assert "rough" not in handling["3"]  # 58 calls
    toml = (tmp_path / "fit" / "incidents.toml").read_text()
    assert "#   priority 1: 2 calls" in toml and "ROUGH: fewer than 30 calls" in toml


def test_validate_refuses_a_replay_log_off_the_map_as_run_does(tmp_path: Path) -> None:
    path, mapping = _small_log(tmp_path, [])
    path.write_text(path.read_text().replace("POINT (118.78 32.03)", "POINT (10 10)"))
    scenario = tmp_path / "replay.toml"
    scenario.write_text(SMALL.read_text() + f"\n[replay]\nlog = '{path}'\nmapping = "
                        f"'{mapping}'\n")
    for command in (["validate", str(scenario)],
                    ["run", str(scenario), "--quiet", "--out", str(tmp_path / "run")]):
        err = io.StringIO()
        with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
            assert main(command) == 2, command
        assert err.getvalue().count("\n") == 1
        assert "no call lies within replay.snap_max_m (500 m)" in err.getvalue()
