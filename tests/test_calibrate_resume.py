"""gridsim calibrate survives any interruption: killed at a random point, then stopped by
a full disk at another, the rerun writes the files of an uninterrupted calibration; and
one process at a time writes a calibration's folder."""

from __future__ import annotations

import errno
import os
import random
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pyabc import Parameter
from pyabc.population import Particle, Sample

from gridsim.cli.main import main
from gridsim.core.executors import SerialExecutor
from gridsim.scenario.load import read_scenario_text
from gridsim.studies.abc_sampler import TaskJournal
from gridsim.studies.calibrate import calibrate
from gridsim.studies.calibration_folder import CHECKPOINT, DATABASE
from gridsim.studies.targets import load_targets
from tests.conftest import SMALL

TARGETS = """
[run]
days = 1
replications = 1
population = 10
generations = 3
predictive_draws = 2

[targets.cases]
metric = "mediation.cases_on_scene"
value = 51
sd = 3

[parameters."incidents.dispute.rate_per_day"]
low = 10
high = 250
scale = "log"
"""
# every file but the lock (it holds the writer's process id) and pyabc's database (it
# holds clock times; its populations are compared instead)
NOT_COMPARED = {"calibrate.lock", DATABASE}


def _args(targets: Path, folder: Path) -> list[str]:
    return ["calibrate", str(SMALL), "--targets", str(targets), "--out", str(folder),
            "--seed", "5", "--workers", "1"]


@pytest.fixture(scope="module")
def uninterrupted(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """Return the targets file and the folder of an uninterrupted calibration."""
    root = tmp_path_factory.mktemp("calibrate-resume")
    targets = root / "targets.toml"
    targets.write_text(TARGETS)
    assert main(_args(targets, root / "uninterrupted")) == 0
    return targets, root / "uninterrupted"


def _assert_same_files(folder: Path, reference: Path, note: str) -> None:
    names = {p.name for p in reference.iterdir()} - NOT_COMPARED
    assert {p.name for p in folder.iterdir()} - NOT_COMPARED == names, note
    for name in sorted(names):
        assert (folder / name).read_bytes() == (reference / name).read_bytes(), \
            f"{name} differs ({note})"
    assert _populations(folder) == _populations(reference), note


def _populations(folder: Path) -> list[Any]:
    """Return every generation's temperature, simulations and particles in abc.db."""
    with sqlite3.connect(folder / DATABASE) as db:
        return db.execute(
            "SELECT p.t, p.epsilon, p.nr_samples, pa.w, sa.distance, s.name, s.value, "
            "par.name, par.value "
            "FROM populations p JOIN models m ON m.population_id = p.id "
            "JOIN particles pa ON pa.model_id = m.id JOIN samples sa ON sa.particle_id = pa.id "
            "JOIN summary_statistics s ON s.sample_id = sa.id "
            "JOIN parameters par ON par.particle_id = pa.id ORDER BY p.t, pa.id").fetchall()


def _lines(path: Path) -> int:
    try:
        return path.read_bytes().count(b"\n")
    except OSError:
        return 0


def test_killed_then_a_full_disk_at_random_points_the_rerun_writes_the_same_files(
        uninterrupted: tuple[Path, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    targets, reference = uninterrupted
    tasks = _lines(reference / CHECKPOINT)  # simulation tasks of the whole calibration
    seed = random.randrange(2**32)
    rng = random.Random(seed)
    folder = tmp_path / "cal"
    # 1. kill -9 once this many tasks are done (all: while it runs the predictive check
    # or writes its files); meanwhile a second calibration is refused in one line
    kill_after = rng.randint(0, tasks)
    note = f"random seed {seed}: killed after {kill_after} of {tasks} tasks"
    child = subprocess.Popen([sys.executable, "-m", "gridsim", *_args(targets, folder)],
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        while child.poll() is None and not (folder / CHECKPOINT).exists():
            time.sleep(0.005)
        if child.poll() is None:  # it holds the folder
            capsys.readouterr()
            assert main(_args(targets, folder)) == 2
            err = capsys.readouterr().err
            assert err.count("\n") == 1, err
            assert f"another 'gridsim calibrate' (process {child.pid}) is writing" in err
        while child.poll() is None and _lines(folder / CHECKPOINT) < kill_after:
            time.sleep(0.005)
    finally:
        child.kill()
        child.wait()
    # 2. the rerun goes on until the disk fills in the middle of a random task's line
    left = tasks - _lines(folder / CHECKPOINT)
    if left > 0:
        full_at = rng.randint(1, left)
        note += f", then the disk filled in the {full_at}th of the {left} tasks left"
        _count_checkpoint_lines(monkeypatch, full_at)
        capsys.readouterr()
        assert main(_args(targets, folder)) == 2, note
        errors = [line for line in capsys.readouterr().err.splitlines()
                  if not line.startswith("generation ")]  # progress lines
        assert len(errors) == 1, errors
        assert "No space left on device); free some disk space and rerun the same " \
            "command" in errors[0]
        monkeypatch.undo()
    # 3. the last rerun simulates only the tasks left, and writes what an uninterrupted
    # calibration wrote
    left = tasks - _lines(folder / CHECKPOINT)
    written = _count_checkpoint_lines(monkeypatch, None)
    assert main(_args(targets, folder)) == 0, note
    assert len(written) == left, note
    _assert_same_files(folder, reference, note)


def _count_checkpoint_lines(monkeypatch: pytest.MonkeyPatch, full_at: int | None
                            ) -> list[int]:
    """Count the checkpoint lines written; the disk is full in line ``full_at``."""
    real_write, lines = os.write, []

    def write(fd: int, data: Any) -> int:
        if bytes(data[:5]) == b'{"v":':  # a checkpoint line
            lines.append(fd)
            if len(lines) == full_at:  # half of it fits
                real_write(fd, bytes(data[:len(data) // 2]))
                raise OSError(errno.ENOSPC, "No space left on device")
        return real_write(fd, data)

    monkeypatch.setattr(os, "write", write)
    return lines


def test_a_second_calibration_into_a_folder_being_written_is_refused_in_one_line(
        uninterrupted: tuple[Path, Path], tmp_path: Path,
        capsys: pytest.CaptureFixture[str]) -> None:
    targets, _ = uninterrupted
    folder = tmp_path / "cal"
    text, source = read_scenario_text(SMALL)
    second: list[int] = []

    class Stop(Exception):
        pass

    class FirstCalibration(SerialExecutor):
        """Starts the second calibration while the first one simulates."""

        def map_unordered(self, fn: Any, args: Any) -> Any:
            capsys.readouterr()
            second.append(main(_args(targets, folder)))
            raise Stop

    with pytest.raises(Stop):
        calibrate(text, source, load_targets(targets), 5, FirstCalibration(), folder)
    err = capsys.readouterr().err
    assert second == [2]
    assert err.count("\n") == 1
    assert err.startswith(f"gridsim: error: --out {folder}: another 'gridsim calibrate' "
                          f"(process {os.getpid()}) is writing into this folder; wait for it")
    # the first one's folder is untouched: the second one ended before opening it
    assert (folder / CHECKPOINT).read_bytes() == b""


def _sample(rate: float) -> Any:
    sample = Sample(record_rejected=True)
    for accepted, weight in ((False, 0), (True, np.float64(0.25))):
        sample.append(Particle(m=np.int64(0), parameter=Parameter(p0=np.float64(rate)),
                               weight=weight, sum_stat={"cases": 51.0 + rate},
                               distance=float("inf") if accepted else 1.5,
                               accepted=accepted))
    return sample


def _fields(sample: Any) -> list[Any]:
    """Return every particle's fields with their types (what a replay must give back)."""
    return [[(type(v), v) for v in (p.m, *p.parameter.values(), p.weight,
                                    *p.sum_stat.items(), p.distance, p.accepted,
                                    p.proposal_id, p.preliminary)]
            for p in sample.accepted_particles + sample.rejected_particles]


@settings(max_examples=60, deadline=None)
@given(cut=st.integers(min_value=0, max_value=10_000), garbage=st.binary(max_size=64))
def test_a_torn_or_damaged_checkpoint_keeps_its_whole_lines(cut: int, garbage: bytes
                                                             ) -> None:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / CHECKPOINT
        journal = TaskJournal(path, fresh=True)
        journal.add((0, 0, 0), 11, "inputs", _sample(12.5), 2)
        first = path.stat().st_size
        journal.add((0, 0, 1), 12, "inputs", _sample(40.25), 2)
        journal.close()
        data = path.read_bytes()
        cut = min(first + cut, len(data))  # torn in (or after) the second line
        path.write_bytes(data[:cut] + garbage)
        whole = (data[:cut] + garbage).startswith(data)  # the second line survived
        journal = TaskJournal(path, fresh=False)
        found = journal.find((0, 0, 0), 11, "inputs")
        assert found is not None and found[1] == 2
        assert _fields(found[0]) == _fields(_sample(12.5))
        second = journal.find((0, 0, 1), 12, "inputs")
        if whole:
            assert second is not None and _fields(second[0]) == _fields(_sample(40.25))
        else:
            assert second is None
        # what follows the whole lines is cut off: the next task starts a line of its own
        assert path.read_bytes() == (data if whole else data[:first])
        # another seed or other inputs: the task runs again
        assert journal.find((0, 0, 0), 12, "inputs") is None
        assert journal.find((0, 0, 0), 11, "other inputs") is None
        journal.close()
