"""`gridsim run` end to end: the results folder, its determinism, and what it shows."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq
import pytest

from gridsim.cli.main import main
from tests.conftest import SMALL

FILES = ("summary.json", "scenario.json", "incidents.parquet", "dispatches.parquet",
         "volunteers.parquet", "mediation.parquet", "coverage.parquet")


def _run(out: Path, *args: str) -> None:
    assert main(["run", str(SMALL), "--quiet", "--out", str(out), *args]) == 0


def _bytes(folder: Path) -> dict[str, bytes]:
    return {name: (folder / name).read_bytes() for name in FILES}


def test_results_folder_has_every_file(tmp_path: Path) -> None:
    _run(tmp_path / "A")
    assert sorted(p.name for p in (tmp_path / "A").iterdir()) == sorted(
        [*FILES, "gridsim-output.json"])
    summary = json.loads((tmp_path / "A" / "summary.json").read_text())
    for key in ("first_arrival_s", "police_arrival_s"):
        assert {"p50", "p90", "p95"} <= set(summary[key])
    assert summary["incidents"] == pq.read_table(tmp_path / "A" / "incidents.parquet").num_rows
    assert set(summary["by_type"]) == {
        "dispute", "traffic", "theft", "person_in_need", "assault", "missing_person"
    }


def test_same_seed_gives_byte_identical_files(tmp_path: Path) -> None:
    _run(tmp_path / "A", "--seed", "7")
    _run(tmp_path / "B", "--seed", "7")
    assert _bytes(tmp_path / "A") == _bytes(tmp_path / "B")


def test_other_seed_gives_other_files(tmp_path: Path) -> None:
    _run(tmp_path / "A", "--seed", "7")
    _run(tmp_path / "B", "--seed", "8")
    a, b = _bytes(tmp_path / "A"), _bytes(tmp_path / "B")
    for name in ("summary.json", "incidents.parquet", "dispatches.parquet"):
        assert a[name] != b[name], name


def test_rerun_replaces_the_folder_and_leaves_no_temporaries(tmp_path: Path) -> None:
    _run(tmp_path / "A", "--seed", "1")
    first = (tmp_path / "A" / "summary.json").read_bytes()
    _run(tmp_path / "A", "--seed", "2")
    assert (tmp_path / "A" / "summary.json").read_bytes() != first
    assert [p.name for p in tmp_path.iterdir()] == ["A"]


def test_every_incident_is_in_the_incident_table_once(tmp_path: Path) -> None:
    _run(tmp_path / "A")
    incidents = pq.read_table(tmp_path / "A" / "incidents.parquet")
    ids = incidents.column("incident").to_numpy()
    assert np.array_equal(ids, np.arange(incidents.num_rows))
    dispatches = pq.read_table(tmp_path / "A" / "dispatches.parquet")
    assert set(dispatches.column("incident").to_numpy()) <= set(ids)
    first = incidents.column("first_arrival_s").to_numpy(zero_copy_only=False)
    police = incidents.column("police_arrival_s").to_numpy(zero_copy_only=False)
    both = np.isfinite(first) & np.isfinite(police)
    assert np.all(first[both] <= police[both])


def test_volunteers_off_raises_the_median_first_arrival(tmp_path: Path) -> None:
    _run(tmp_path / "on", "--seed", "7")
    _run(tmp_path / "off", "--seed", "7", "--set", "volunteers.count=0")
    on = json.loads((tmp_path / "on" / "summary.json").read_text())
    off = json.loads((tmp_path / "off" / "summary.json").read_text())
    assert off["incidents"] == on["incidents"]  # same incidents: common random numbers
    assert off["first_arrival_s"]["p50"] > on["first_arrival_s"]["p50"]


def test_run_prints_the_summary_table(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["run", str(SMALL), "--out", str(tmp_path / "A")]) == 0
    out = capsys.readouterr().out
    assert "first arrival" in out and "police arrival" in out and "volunteer" in out
