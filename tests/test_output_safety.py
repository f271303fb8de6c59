"""Nothing a user owns is lost, and every bad input or interrupt is one line (issue 11)."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from gridsim.cli.main import main
from gridsim.core.errors import InputError
from gridsim.report import figures
from gridsim.report.results import read_results
from gridsim.scenario import load_scenario
from gridsim.scenario.guard import check_resources, estimate
from tests.conftest import ROOT, SMALL


def _user_folder(path: Path) -> dict[str, bytes]:
    """Make a folder holding a user's files; return their bytes by relative path."""
    (path / "chapters").mkdir(parents=True)
    (path / "thesis.txt").write_text("years of work\n")
    (path / "chapters" / "one.md").write_text("# One\n")
    return _snapshot(path)


def _snapshot(path: Path) -> dict[str, bytes]:
    return {str(p.relative_to(path)): p.read_bytes() for p in sorted(path.rglob("*"))
            if p.is_file()}


def _one_error_line(capsys: pytest.CaptureFixture[str]) -> str:
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("gridsim: error: "), err
    assert "Traceback" not in err
    return err


def test_run_refuses_a_folder_with_user_files(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    before = _user_folder(tmp_path / "mine")
    assert main(["run", str(SMALL), "--quiet", "--out", str(tmp_path / "mine")]) == 2
    assert "'chapters'" in _one_error_line(capsys)
    assert _snapshot(tmp_path / "mine") == before


def test_run_out_dot_refuses_the_working_folder(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    shutil.copy(SMALL, tmp_path / "small.toml")
    before = _snapshot(tmp_path)
    monkeypatch.chdir(tmp_path)
    assert main(["run", "small.toml", "--quiet", "--out", "."]) == 2
    _one_error_line(capsys)
    assert _snapshot(tmp_path) == before


def test_sweep_refuses_a_folder_with_user_files(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    before = _user_folder(tmp_path / "mine")
    code = main(["sweep", str(SMALL), "--set", "volunteers.count=0,100", "--replications", "2",
                 "--workers", "1", "--quiet", "--out", str(tmp_path / "mine")])
    assert code == 2
    _one_error_line(capsys)
    assert _snapshot(tmp_path / "mine") == before


def test_sweep_refuses_a_run_folder(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["run", str(SMALL), "--quiet", "--out", str(tmp_path / "A")]) == 0
    before = _snapshot(tmp_path / "A")
    code = main(["sweep", str(SMALL), "--set", "volunteers.count=0,100", "--replications", "2",
                 "--workers", "1", "--quiet", "--out", str(tmp_path / "A")])
    assert code == 2
    assert "not a sweep" in _one_error_line(capsys)
    assert _snapshot(tmp_path / "A") == before


def test_report_refuses_to_overwrite_a_user_file_and_finds_no_results_in_src(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["run", str(SMALL), "--quiet", "--out", str(tmp_path / "A")]) == 0
    page = tmp_path / "notes.html"
    page.write_text("<html>my notes</html>")
    assert main(["report", str(tmp_path / "A"), "--out", str(page)]) == 2
    _one_error_line(capsys)
    assert page.read_text() == "<html>my notes</html>"
    assert main(["report", str(ROOT / "src")]) == 2
    err = _one_error_line(capsys)
    assert "--out" not in err and "not a results folder" in err


def test_a_report_is_part_of_the_results_so_a_rerun_may_replace_both(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "A"
    assert main(["run", str(SMALL), "--quiet", "--out", str(out)]) == 0
    assert main(["report", str(out)]) == 0
    page = tmp_path / "elsewhere.html"
    assert main(["report", str(out), "--out", str(page)]) == 0
    assert main(["report", str(out), "--out", str(page)]) == 0  # its own file: replaced
    assert main(["run", str(SMALL), "--quiet", "--seed", "3", "--out", str(out)]) == 0
    assert not (out / "report.html").exists()
    assert capsys.readouterr().err == ""


def test_unwritable_out_is_refused_before_the_simulation(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    if os.geteuid() == 0:  # root writes anywhere but in /proc
        target = Path("/proc/gridsim-results")
    else:
        locked = tmp_path / "locked"
        locked.mkdir()
        locked.chmod(0o500)
        target = locked / "out"
    started = time.perf_counter()
    assert main(["run", "--quiet", "--out", str(target)]) == 2  # the Nanjing default
    assert time.perf_counter() - started < 5.0  # refused before the city is built
    assert "cannot write" in _one_error_line(capsys)


@pytest.mark.parametrize("argv", [
    ["run", str(SMALL), "--seed", "-1"],
    ["regress", str(SMALL), "--baseline", str(ROOT / "baselines" / "small.json"), "--seed", "-1"],
    ["sweep", str(SMALL), "--set", "volunteers.count=0,1", "--workers", "0"],
    ["run", str(SMALL), "--set", "volunteers.count=1e12"],
    ["run", str(SMALL), "--set", "incidents.traffic.rate_per_day=1e10"],
    ["validate", str(SMALL), "--set", "city.nodes=1e8"],
])
def test_bad_values_are_one_line_and_exit_2(
    argv: list[str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main([*argv, "--quiet"] if argv[0] == "run" else argv) == 2
    _one_error_line(capsys)


def test_the_guard_names_the_key_that_makes_a_scenario_too_big() -> None:
    scenario = load_scenario(SMALL, ["volunteers.count=1e12"])
    with pytest.raises(InputError, match=r"^volunteers\.count.*lower volunteers\.count"):
        check_resources(scenario)


def test_the_guard_warns_of_a_huge_but_feasible_run_and_passes_the_default() -> None:
    nanjing = load_scenario()
    needed = 200e6 + sum(part.bytes for part in estimate(nanjing))
    assert check_resources(nanjing, available_bytes=100 * needed) == []
    assert "memory" in check_resources(nanjing, available_bytes=1.5 * needed)[0]
    with pytest.raises(InputError, match="available"):
        check_resources(nanjing, available_bytes=needed)


@pytest.mark.parametrize("summary", [
    [1, 2, 3],
    {"incidents": "many"},
    "not even an object",
])
def test_report_on_a_summary_of_the_wrong_kind_is_one_line(
    summary: object, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "A"
    assert main(["run", str(SMALL), "--quiet", "--out", str(out)]) == 0
    (out / "summary.json").write_text(json.dumps(summary))
    assert main(["report", str(out)]) == 2
    assert "summary.json" in _one_error_line(capsys)


def test_a_run_that_draws_no_incidents_warns_once_and_prints_no_none(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    rates = [f"incidents.{name}.rate_per_day=0" for name in
             ("dispute", "traffic", "theft", "person_in_need", "assault", "missing_person")]
    sets = [arg for rate in rates for arg in ("--set", rate)]
    assert main(["run", str(SMALL), "--out", str(tmp_path / "A"), "--report", *sets]) == 0
    captured = capsys.readouterr()
    warnings = [line for line in captured.err.splitlines() if line.startswith("gridsim: ")]
    assert len(warnings) == 1 and "no incidents" in warnings[0]
    assert "None" not in captured.out and "nan" not in captured.out


def test_a_run_nobody_can_answer_warns_and_its_report_says_no_data(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    nobody = ["police.patrol_units=0", "police.community_police=0", "mediators.count=0",
              "grid_workers.per_grid=0", "grid_workers.per_micro_grid=0", "volunteers.count=0",
              "watch_points.count=0"]
    sets = [arg for value in nobody for arg in ("--set", value)]
    out = tmp_path / "A"
    assert main(["run", str(SMALL), "--out", str(out), "--report", *sets]) == 0
    captured = capsys.readouterr()
    assert captured.err.count("gridsim: warning: no responder reached") == 1
    assert "None" not in captured.out
    results = read_results(out)
    for fig in (figures.response_cdf(results), figures.alerts_histogram(results)):
        texts = [t.get_text() for ax in fig.axes for t in ax.texts]
        assert any(t.startswith("no data") for t in texts)
    assert (out / "report.html").exists()


def test_ctrl_c_after_the_results_are_written_says_so(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    def interrupt(*_: object) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr("gridsim.cli.main.print_summary", interrupt)
    assert main(["run", str(SMALL), "--out", str(tmp_path / "A")]) == 130
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "results were written to" in err
    assert (tmp_path / "A" / "summary.json").exists()


def test_ctrl_c_while_starting_is_one_line_and_exit_130(tmp_path: Path) -> None:
    # the child starts with Ctrl-C at its default, as from a terminal: a test process that
    # ignores SIGINT (a background job, or a library in this process) would pass that on
    process = subprocess.Popen(
        [sys.executable, "-m", "gridsim", "run", str(SMALL), "--out", str(tmp_path / "A")],
        stderr=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    time.sleep(0.4)  # Python is up; numpy, scipy and simpy are still loading
    process.send_signal(signal.SIGINT)
    _, err = process.communicate(timeout=60)
    assert process.returncode == 130, err
    assert err.count("\n") == 1 and "interrupted" in err and "Traceback" not in err
    assert not (tmp_path / "A").exists()


def test_watch_point_staff_never_arrive_at_the_moment_of_the_call(tmp_path: Path) -> None:
    assert main(["run", str(SMALL), "--quiet", "--out", str(tmp_path / "A")]) == 0
    results = read_results(tmp_path / "A")
    d, inc = results.dispatches, results.incidents
    watch = d["kind"] == "watch_point"
    delay = d["t_arrive_s"][watch] - inc["t_call_s"][d["incident"][watch]]
    assert watch.any() and np.all(delay >= load_scenario(SMALL).watch_points.reaction_s)


def test_ctrl_c_on_a_parallel_sweep_is_one_line_from_the_parent_only(tmp_path: Path) -> None:
    process = subprocess.Popen(
        [sys.executable, "-m", "gridsim", "sweep", str(SMALL), "--set", "volunteers.count=0,100",
         "--set", "duration_days=30", "--replications", "20", "--workers", "2", "--quiet",
         "--out", str(tmp_path / "sweep")],
        stderr=subprocess.PIPE, stdout=subprocess.PIPE, text=True, start_new_session=True,
    )
    runs, deadline = tmp_path / "sweep" / "runs", time.monotonic() + 120.0
    while not any(runs.glob("*.json")):  # workers are running: one has finished a run
        assert process.poll() is None and time.monotonic() < deadline, "no run finished"
        time.sleep(0.1)
    os.killpg(process.pid, signal.SIGINT)  # as Ctrl-C does: the whole process group
    _, err = process.communicate(timeout=120)
    assert process.returncode in (0, 130), err
    assert "Traceback" not in err and err.count("\n") <= 1, err
