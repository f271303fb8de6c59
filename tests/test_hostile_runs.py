"""Resumable studies and simulating commands against hostile folders and flags (issue 27).

A sweep's or sensitivity analysis's ``runs/`` folder may hold damaged run files (run
again), and files that are not its runs (left as they are, with a warning); ``place``
and ``sweep`` go through the schema's limits and the resource guard; Ctrl-C says what
was written; a killed parent takes its pool's workers with it.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gridsim.cli.main import main
from gridsim.core.errors import InputError
from gridsim.core.runs import read_saved_runs
from gridsim.studies import sensitivities, sweeps
from tests.conftest import ROOT, SMALL

METRICS = ("a", "b")
GOOD = json.dumps({"a": 1.5, "b": float("nan")})
CONTENTS = st.sampled_from([
    GOOD, GOOD[:9], "", "not json", "[1, 2]", json.dumps({"a": 1.5}),
    json.dumps({"a": "x", "b": 1}),
    json.dumps({"a": True, "b": 1}), '{"a": 1' + "0" * 400 + ', "b": 2}', "[" * 100_000,
    json.dumps({"a": 1, "b": 2, "extra": [1]}), "\udcff"])
SWEEP = ["sweep", str(SMALL), "--set", "volunteers.count=0,100", "--replications", "2",
         "--workers", "1", "--quiet", "--set", "duration_days=0.25"]


def _names(name_of: Callable[[int, int], str]) -> st.SearchStrategy[str]:
    canonical = st.builds(name_of, st.integers(0, 3), st.integers(0, 2))
    return st.one_of(canonical, canonical.map(lambda n: n.replace(".json", " (2).json")),
                     canonical.map(lambda n: f".{n}.tmp123"), canonical.map(lambda n: n + "~"),
                     st.sampled_from(["notes.txt", "arm1-rep1.json", "point1-rep1.json"]))


@pytest.mark.parametrize("name_of", [sweeps.run_name, sensitivities.run_name])
@settings(max_examples=60, deadline=None)
@given(data=st.data())
def test_a_runs_folder_gives_its_good_runs_and_leaves_the_rest(
    name_of: Callable[[int, int], str], data: st.DataObject
) -> None:
    files = data.draw(st.dictionaries(_names(name_of), CONTENTS, max_size=6))
    expected = {(a, r) for a in range(2) for r in range(2)}
    with tempfile.TemporaryDirectory() as scratch:
        folder = Path(scratch)
        for name, text in files.items():
            (folder / name).write_bytes(text.encode("utf-8", errors="surrogateescape"))
        before = {p.name: p.read_bytes() for p in folder.iterdir()}
        saved = read_saved_runs(folder, name_of, expected, METRICS, "sweep")
        assert {p.name: p.read_bytes() for p in folder.iterdir()} == before  # only read
    good = {key for key in expected if files.get(name_of(*key)) in (
        GOOD, json.dumps({"a": 1, "b": 2, "extra": [1]}))}
    assert set(saved.runs) == good
    assert all("\n" not in line for line in saved.warnings) and len(saved.warnings) <= 2


def test_a_folder_at_a_runs_name_is_one_line(tmp_path: Path) -> None:
    (tmp_path / sweeps.run_name(0, 0)).mkdir()
    with pytest.raises(InputError, match="is not a file"):
        read_saved_runs(tmp_path, sweeps.run_name, {(0, 0)}, METRICS, "sweep")


@pytest.fixture(scope="module")
def finished_sweep(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("sweep") / "S"
    assert main([*SWEEP, "--out", str(folder)]) == 0
    return folder


def test_a_damaged_sweep_resumes_to_the_same_tables(
    finished_sweep: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    capsys.readouterr()
    folder = tmp_path / "S"
    subprocess.run(["cp", "-r", str(finished_sweep), str(folder)], check=True)
    runs = folder / "runs"
    good = (runs / "arm0000-rep0000.json").read_text()
    (runs / "arm0000-rep0000.json").write_text(good[:25])  # cut short
    metrics = json.loads((runs / "arm0001-rep0001.json").read_text())
    del metrics["answered_share"]
    (runs / "arm0001-rep0001.json").write_text(json.dumps(metrics))
    strays = {"arm0000-rep0000 (2).json": good, "arm0007-rep0000.json": good}
    for name, text in strays.items():
        (runs / name).write_text(text)
    assert main([*SWEEP, "--out", str(folder)]) == 0
    err = capsys.readouterr().err
    assert "2 saved run file(s) are damaged" in err and "2 file(s) are not runs" in err
    assert "Traceback" not in err and err.count("\n") == 2
    for table in ("sweep.parquet", "summary.parquet"):
        assert (folder / table).read_bytes() == (finished_sweep / table).read_bytes()
    assert all((runs / name).read_text() == text for name, text in strays.items())


@pytest.mark.parametrize(("interrupt", "words"), [
    ("print_sweep", "everything was written: sweep.parquet, summary.parquet, sweep.png"),
    ("sweep_figure", "4 of 4 runs are saved in"),
])
def test_ctrl_c_after_the_outputs_says_what_was_written(
    finished_sweep: Path, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str], interrupt: str, words: str,
) -> None:
    def ctrl_c(*_: object) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(f"gridsim.cli.studies.{interrupt}", ctrl_c)
    assert main([*SWEEP, "--out", str(finished_sweep)]) == 130
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and words in err and "nothing was written" not in err, err
    if interrupt == "sweep_figure":
        assert "written: sweep.parquet, summary.parquet; not written: sweep.png" in err


@pytest.mark.parametrize(("argv", "words"), [
    (["place", "--days", "1e9"], "--days 1e+09: "),
    (["place", "--days", "100000"], "less than or equal to 366"),
    (["place", "--set", "volunteers.count=1e12"], "lower volunteers.count"),
    (["place", "--ring-s", "1e308"], "--ring-s 1e+308: at most 86,400 s"),
    (["place", *[f"--set=incidents.{t}.rate_per_day=0" for t in (
        "traffic", "theft", "dispute", "missing_person", "person_in_need", "assault")]],
     "drew no incident of a type watch points attend"),
    (["sweep", "--set", "volunteers.count=" + ",".join(map(str, range(101))), "--set",
      "dispatch.volunteer_radius_m=" + ",".join(map(str, range(100, 201)))],
     "101 x 101 = 10,201 arms, more than 10,000"),
])
def test_simulating_commands_keep_the_schema_and_the_guard(
    argv: list[str], words: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    started = time.perf_counter()
    assert main([argv[0], str(SMALL), *argv[1:], "--replications", "2", "--quiet",
                 "--out", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and words in err and "tmp" not in err.split(":")[-1], err
    assert time.perf_counter() - started < 15.0 and not (tmp_path / "out").exists()


def test_place_with_nothing_to_add_is_a_result_with_a_warning(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "out"
    assert main(["place", str(SMALL), "--ring-s", "86400", "--replications", "2", "--days",
                 "0.25", "--quiet", "--out", str(out)]) == 0
    err = capsys.readouterr().err
    assert err.startswith("gridsim: warning: place: every incident") and "no site" in err
    assert json.loads((out / "placement.json").read_text())["sites"] == 0
    assert (out / "sites.csv").read_text().count("\n") == 1  # the header only


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
def test_pool_workers_die_with_their_killed_parent() -> None:
    script = ("import time\nfrom gridsim.core.executors import ProcessExecutor\n"
              "if __name__ == '__main__':\n"
              "    next(ProcessExecutor(2).map_unordered(time.sleep, [60, 60]))\n")
    parent = subprocess.Popen([sys.executable, "-c", script],
                              env={**os.environ, "PYTHONPATH": str(ROOT / "src")})
    try:
        workers: list[int] = []
        deadline = time.monotonic() + 20.0
        while len(workers) < 2 and time.monotonic() < deadline:
            time.sleep(0.1)
            workers = [pid for pid in _children(parent.pid) if b"spawn_main" in _cmdline(pid)]
        assert len(workers) == 2, "the pool's workers did not start"
    finally:
        parent.send_signal(signal.SIGKILL)
        parent.wait()
    deadline = time.monotonic() + 10.0
    while any(_alive(pid) for pid in workers) and time.monotonic() < deadline:
        time.sleep(0.1)
    alive = [pid for pid in workers if _alive(pid)]
    for pid in alive:  # do not leave them behind when the test fails
        os.kill(pid, signal.SIGKILL)
    assert not alive, "workers outlived their parent"


def _children(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        try:
            fields = (entry / "stat").read_text().rpartition(")")[2].split()
        except (OSError, ValueError):
            continue
        if entry.name.isdigit() and fields and int(fields[1]) == pid:
            found.append(int(entry.name))
    return found


def _cmdline(pid: int) -> bytes:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return b""


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()[0]
    except (OSError, IndexError):
        return False
    return state != "Z"
