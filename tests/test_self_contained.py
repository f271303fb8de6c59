"""The repository stands alone: no pointers outside it, and its district data agree."""

from __future__ import annotations

import csv
import shutil
import subprocess
from pathlib import Path

import pytest

import gridsim

ROOT = Path(__file__).resolve().parents[1]
DISTRICTS_CSV = ROOT / "data" / "nanjing_districts.csv"

# Built from pieces so that this file does not match its own check.
OUTSIDE = "shared"
FORBIDDEN = (f"../{OUTSIDE}/", f"{OUTSIDE}/data/", f"{OUTSIDE}/DESIGN")
EXEMPT_DIRS = (".ci/",)


def _tracked_files() -> list[str]:
    if shutil.which("git") is None or not (ROOT / ".git").exists():
        pytest.skip("not a git checkout")
    listed = subprocess.run(
        ["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, check=True
    ).stdout.decode("utf-8")
    return [name for name in listed.split("\0") if name]


def test_no_tracked_file_points_outside_the_repository() -> None:
    offenders = []
    for name in _tracked_files():
        path = ROOT / name
        if name.startswith(EXEMPT_DIRS) or not path.is_file() or path.is_symlink():
            continue
        text = path.read_bytes().decode("utf-8", errors="replace")
        offenders += [f"{name}: {pattern}" for pattern in FORBIDDEN if pattern in text]
    assert offenders == [], "copy the data into the repository instead: " + "; ".join(offenders)


def test_district_csv_matches_the_default_scenario() -> None:
    with DISTRICTS_CSV.open(encoding="utf-8", newline="") as f:
        rows = [(row["district"], int(row["population_2020"])) for row in csv.DictReader(f)]
    scenario = gridsim.load_scenario()
    districts = [(d.name, d.population) for d in scenario.city.districts]
    assert districts == rows
