"""``gridsim report`` on hostile results folders, beside a user's files, on a full disk (issue 27).

A results folder is read back from files anyone can edit: each column the report reads
is checked for its type and range, and against the city, so a damaged folder is one
line and exit 2. The report's two pages are written beside the results only over files
gridsim wrote; a full or read-only disk is one line naming what was not written, and
what was there before is kept.
"""

from __future__ import annotations

import errno
import json
import os
import resource
import shutil
import signal
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gridsim.cli.main import main
from gridsim.core import output
from gridsim.core.errors import InputError, OutputError
from gridsim.report.map_page import render_map_page
from gridsim.report.results import check_against_world, read_results
from gridsim.world.build import build_world
from tests.conftest import SMALL

TABLES = {"incidents": ["t_call_s", "first_arrival_s", "node", "type", "district"],
          "dispatches": ["incident", "kind", "responder", "t_dispatch_s", "t_arrive_s",
                         "t_free_s"],
          "volunteers": ["alerts"],
          "coverage": ["cell", "population", "incidents", "first_arrival_p90_s",
                       "within_60s_any"]}


@pytest.fixture(scope="module")
def results(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("hostile") / "R"
    assert main(["run", str(SMALL), "--quiet", "--out", str(folder), "--set",
                 "duration_days=0.5"]) == 0
    return folder


def _snapshot(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir()) if p.is_file()}


def _one_error_line(capsys: pytest.CaptureFixture[str]) -> str:
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("gridsim: error: "), err
    return err


def _corrupt(values: pa.ChunkedArray, how: str) -> pa.Array:
    n = len(values)
    return {
        "text": lambda: pa.array([str(v) for v in values.to_pylist()]),
        "nan": lambda: pa.array(np.full(n, np.nan)),
        "inf": lambda: pa.array(np.full(n, np.inf)),
        "negative": lambda: pa.array(np.full(n, -1, dtype=np.int32)),
        "huge": lambda: pa.array(np.full(n, 2**31 - 1, dtype=np.int32)),
        "huge float": lambda: pa.array(np.full(n, 1e300)),
        "empty": lambda: pa.nulls(n, type=pa.float64()),
        "bool": lambda: pa.array(np.ones(n, dtype=bool)),
        "list": lambda: pa.array([[1.0]] * n),
    }[how]()


@contextmanager
def _copy_of(folder: Path) -> Iterator[Path]:
    with tempfile.TemporaryDirectory() as scratch:
        copy = Path(scratch) / "R"
        shutil.copytree(folder, copy)
        yield copy


@settings(max_examples=60, deadline=None, suppress_health_check=[
    HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(table=st.sampled_from(sorted(TABLES)), data=st.data(),
       how=st.sampled_from(["drop", "text", "nan", "inf", "negative", "huge", "huge float",
                            "empty", "bool", "list"]))
def test_a_damaged_results_folder_is_one_line_or_a_report(
    results: Path, table: str, data: st.DataObject, how: str
) -> None:
    column = data.draw(st.sampled_from(TABLES[table]))
    with _copy_of(results) as folder:
        path = folder / f"{table}.parquet"
        frame = pq.read_table(path)
        index = frame.schema.get_field_index(column)
        frame = (frame.remove_column(index) if how == "drop" else
                 frame.set_column(index, column, _corrupt(frame.column(column), how)))
        pq.write_table(frame, path)
        try:
            loaded = read_results(folder)
            check_against_world(loaded, build_world(loaded.scenario))
        except InputError as exc:
            assert "\n" not in str(exc) and str(folder) in str(exc)
            return
        render_map_page(loaded, build_world(loaded.scenario))  # what passes can be drawn


@pytest.mark.parametrize(("change", "words"), [
    (lambda t: t.drop(["node"]), "no column 'node'"),
    (lambda t: t.set_column(t.schema.get_field_index("node"), "node", pa.array(
        [str(v) for v in t.column("node").to_pylist()])), "column 'node' holds string"),
    (lambda t: t.set_column(t.schema.get_field_index("node"), "node", pa.array(
        np.full(t.num_rows, 10**6, dtype=np.int32))), "beyond the city's"),
])
def test_report_on_a_bad_node_column_is_one_line(
    results: Path, capsys: pytest.CaptureFixture[str],
    change: Callable[[pa.Table], pa.Table], words: str,
) -> None:
    with _copy_of(results) as folder:
        pq.write_table(change(pq.read_table(folder / "incidents.parquet")),
                       folder / "incidents.parquet")
        before = _snapshot(folder)
        assert main(["report", str(folder)]) == 2
        assert words in _one_error_line(capsys)
        assert _snapshot(folder) == before


@pytest.mark.parametrize("name", ["map.html", "report.html"])
@pytest.mark.parametrize("kind", ["file", "fifo", "folder", "link"])
def test_report_never_replaces_a_users_page(
    results: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], name: str, kind: str
) -> None:
    with _copy_of(results) as folder:
        target = folder / name
        mine = tmp_path / "mine.html"
        mine.write_text("mine\n")
        if kind == "file":
            target.write_text("mine\n")
        elif kind == "fifo":
            os.mkfifo(target)
        elif kind == "folder":
            target.mkdir()
        else:
            target.symlink_to(mine)
        manifest = (folder / "gridsim-output.json").read_text()
        before = _snapshot(folder)
        assert main(["report", str(folder)]) == 2
        err = _one_error_line(capsys)
        assert name in err and "--out" in err
        assert _snapshot(folder) == before and mine.read_text() == "mine\n"
        assert (folder / "gridsim-output.json").read_text() == manifest
        assert kind != "link" or target.is_symlink()


@contextmanager
def _disk_full_after(n_bytes: int) -> Iterator[None]:
    """Make every file write past ``n_bytes`` fail, as a full disk does (EFBIG, no root)."""
    soft, hard = resource.getrlimit(resource.RLIMIT_FSIZE)
    previous = signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    resource.setrlimit(resource.RLIMIT_FSIZE, (n_bytes, hard))
    try:
        yield
    finally:
        resource.setrlimit(resource.RLIMIT_FSIZE, (soft, hard))
        signal.signal(signal.SIGXFSZ, previous)


def test_a_full_disk_keeps_the_previous_results_and_is_one_line(
    results: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with _copy_of(results) as folder:
        before = _snapshot(folder)
        with _disk_full_after(1000):
            code = main(["run", str(SMALL), "--quiet", "--report", "--seed", "5", "--out",
                         str(folder), "--set", "duration_days=0.5"])
        assert code == 2
        err = _one_error_line(capsys)
        assert "not written (File too large" in err and "previous results are kept" in err
        assert _snapshot(folder) == before
        assert sorted(p.name for p in folder.parent.iterdir()) == ["R"]  # no staging left
        with _disk_full_after(1000):
            assert main(["report", str(folder)]) == 2
        assert "report.html: not written" in _one_error_line(capsys)
        assert _snapshot(folder) == before


def test_disk_full_names_the_file_and_how_to_go_on(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def full(*_: object) -> None:
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(output.os, "replace", full)
    with pytest.raises(OutputError, match=r"x\.json: not written \(No space left on device\); "
                       r"no partial file was left; free some space"):
        output.write_marked(tmp_path / "x.json", json.dumps({"generator": "gridsim"}).encode())
    assert list(tmp_path.iterdir()) == []  # the temporary twin is gone too
    with pytest.raises(OutputError, match=r"out: not written \(No space left on device\); "
                       "nothing was written"):
        output.write_folder(tmp_path / "out", {"a.json": output.json_writer({})}, "run")
    assert list(tmp_path.iterdir()) == []
