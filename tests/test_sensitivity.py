"""Global sensitivity: Morris ranks what matters, typed tables, bad input, resume."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

import gridsim
from gridsim.cli.main import main
from gridsim.core.errors import InputError
from gridsim.core.executors import SerialExecutor
from gridsim.core.output import read_manifest, written_by_gridsim
from gridsim.scenario import load_scenario
from gridsim.scenario.load import read_scenario_text
from gridsim.studies.sensitivities import (
    Factor,
    _ranks,
    design_size,
    parse_factor,
    sample_matrix,
    sensitivity,
)
from tests.conftest import SMALL
from tests.test_sweep import _Counting, _Interrupting

SHORT = ["duration_days=0.5"]
POLICE_P90 = "police_arrival_s.p90"


def _ranks_of(indices: pa.Table, metric: str) -> dict[str, int]:
    return {r["parameter"]: r["rank"] for r in indices.to_pylist() if r["metric"] == metric}


def test_morris_ranks_patrol_units_above_what_police_never_read(tmp_path: Path) -> None:
    out = tmp_path / "morris"
    args = ["sensitivity", str(SMALL), "--vary", "police.patrol_units=12:36",
            "--vary", "volunteers.acceptance_prob=0.2:0.7",
            "--vary", "costs.patrol_unit=100000:500000", "--metric", POLICE_P90,
            "--metric", "first_arrival_s.p90", "--trajectories", "3", "--workers", "1",
            "--seed", "4", "--set", SHORT[0], "--out", str(out), "--quiet"]
    assert main(args) == 0
    assert {p.name for p in out.iterdir()} >= {"samples.parquet", "indices.parquet",
                                             "sensitivity.png", "manifest.json", "runs"}
    assert read_manifest(out)["command"] == "sensitivity"
    assert written_by_gridsim(out / "sensitivity.png")
    indices = pq.read_table(out / "indices.parquet")
    ranks = _ranks_of(indices, POLICE_P90)
    assert ranks["police.patrol_units"] == 1
    assert ranks["police.patrol_units"] < ranks["costs.patrol_unit"]
    mu_star = {r["parameter"]: r for r in indices.to_pylist()
               if r["metric"] == POLICE_P90 and r["index"] == "mu_star"}
    assert mu_star["costs.patrol_unit"]["value"] == 0.0  # no simulation reads costs
    assert mu_star["police.patrol_units"]["ci_low"] > 0.0
    assert mu_star["police.patrol_units"]["n"] == 3
    samples = pq.read_table(out / "samples.parquet")
    assert samples.num_rows == 3 * (3 + 1)  # trajectories x (settings + 1), 1 replication
    assert samples.schema.field("police.patrol_units").type == pa.int64()
    assert samples.schema.field("volunteers.acceptance_prob").type == pa.float64()
    assert samples.schema.field("costs.patrol_unit").type == pa.float64()
    assert samples.schema.field(POLICE_P90).type == pa.float64()
    units = samples.column("police.patrol_units").to_pylist()
    assert set(units) <= {12, 20, 28, 36}  # the 4 Morris levels, whole numbers
    # common random numbers: one seed for every point
    assert len(set(samples.column("seed").to_pylist())) == 1


@pytest.mark.parametrize("vary", [
    "police.patrol_unitz=1:5",  # unknown key
    "police.patrol_units=30:12",  # LOW >= HIGH
    "police.patrol_units=5:5",
    "police.patrol_units=12.5:30",  # a count needs whole numbers
    "police.return_to_base=0:1",  # not a number
    "police=1:2",  # a table
    "police.patrol_units=a:b",
    "police.patrol_units",
    "volunteers.acceptance_prob=0.5:1.5",  # points outside the schema's range
])
def test_bad_vary_is_one_line_and_exit_2(vary: str, tmp_path: Path,
                                         capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["sensitivity", str(SMALL), "--vary", vary, "--trajectories", "2",
                 "--workers", "1", "--out", str(tmp_path / "bad"), "--quiet"])
    err = capsys.readouterr().err
    assert code == 2
    assert err.count("\n") == 1 and err.startswith("gridsim: error:")
    assert not (tmp_path / "bad").exists()  # refused before anything was written


def test_other_bad_input_is_exit_2(tmp_path: Path) -> None:
    base = ["sensitivity", str(SMALL), "--vary", "police.patrol_units=12:36", "--workers", "1",
            "--set", "duration_days=0.1", "--quiet"]
    assert main([*base, "--method", "sobol", "--samples", "6"]) == 2  # not a power of two
    assert main([*base, "--samples", "8"]) == 2  # Morris takes --trajectories
    assert main([*base, "--method", "fast"]) == 2
    assert main([*base, "--metric", "police_arrival_s.p91", "--out", str(tmp_path / "m")]) == 2
    assert main([*base, "--metric", "police_arrival_s", "--out", str(tmp_path / "t")]) == 2
    assert main([*base, "--vary", "police.patrol_units=1:3"]) == 2  # twice
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "notes.txt").write_text("my own file")
    assert main([*base, "--trajectories", "2", "--out", str(mine)]) == 2
    assert (mine / "notes.txt").read_text() == "my own file"
    assert sorted(p.name for p in mine.iterdir()) == ["notes.txt"]


def test_parse_factor_types_and_rounding() -> None:
    scenario = load_scenario(SMALL)
    units = parse_factor("police.patrol_units=12:36", scenario)
    assert units == Factor("police.patrol_units", 12.0, 36.0, integer=True)
    assert [units.value(x) for x in (11.5, 12.49, 12.5, 36.4, 36.6)] == [12, 12, 13, 36, 36]
    assert units.bounds("sobol") == [11.5, 36.5] and units.bounds("morris") == [12.0, 36.0]
    prob = parse_factor("volunteers.acceptance_prob = 0.2:0.7", scenario)
    assert not prob.integer and prob.value(0.25) == 0.25
    rate = parse_factor("incidents.traffic.rate_per_day=10:40", scenario)
    assert not rate.integer
    with pytest.raises(InputError, match="not a setting"):
        parse_factor("incidents.flood.rate_per_day=1:2", scenario)
    assert design_size("morris", None, None) == 10
    assert design_size("sobol", None, 128) == 128
    assert _ranks(np.array([3.0, 0.0, 3.0, np.nan, 1.0])) == [1, 4, 1, 5, 3]


def test_sobol_whole_numbers_cover_the_range_evenly() -> None:
    units = Factor("police.patrol_units", 1.0, 3.0, integer=True)
    x = sample_matrix([units, Factor("x", 0.0, 1.0, integer=False)], "sobol", 256, 9)
    values = np.array([units.value(v) for v in x[:, 0]])
    counts = np.bincount(values)[1:]
    assert counts.sum() == 256 * 4 and counts.min() > 0.28 * counts.sum()


def test_sobol_indices_and_python_api(tmp_path: Path) -> None:
    result = gridsim.sensitivity(SMALL, {"police.patrol_units": (12, 36),
                                         "costs.patrol_unit": (1e5, 5e5)},
                                 method="sobol", samples=4, metrics=[POLICE_P90],
                                 overrides=["duration_days=0.25"], seed=3)
    rows = {(r["parameter"], r["index"]): r for r in result.indices.to_pylist()}
    assert set(rows) == {(p, i) for p in ("police.patrol_units", "costs.patrol_unit")
                         for i in ("S1", "ST")}
    assert rows[("costs.patrol_unit", "ST")]["value"] == 0.0
    assert rows[("police.patrol_units", "ST")]["rank"] == 1
    assert result.samples.num_rows == 4 * (2 + 2)
    assert result.blocks == 4


def _design(folder: Path, executor: Any, trajectories: int = 2) -> Any:
    text, source = read_scenario_text(SMALL)
    scenario = load_scenario(SMALL)
    factors = [parse_factor("police.patrol_units=12:36", scenario),
               parse_factor("incidents.traffic.rate_per_day=10:40", scenario)]
    try:
        return sensitivity(text, source, ["duration_days=0.25"], factors, "morris", trajectories,
                           [POLICE_P90], 2, 8, executor, folder)
    finally:
        executor.close()


def test_interrupted_analysis_resumes_and_a_different_one_is_refused(tmp_path: Path) -> None:
    total = 2 * (2 + 1) * 2  # trajectories x points per trajectory x replications
    with pytest.raises(KeyboardInterrupt):
        _design(tmp_path / "x", _Interrupting(runs_before_interrupt=5))
    assert len(list((tmp_path / "x" / "runs").glob("*.json"))) == 5
    counting = _Counting()
    _design(tmp_path / "x", counting)
    assert counting.runs == total - 5
    _design(tmp_path / "fresh", SerialExecutor())
    for name in ("samples.parquet", "indices.parquet"):
        assert ((tmp_path / "x" / name).read_bytes()
                == (tmp_path / "fresh" / name).read_bytes())
    with pytest.raises(InputError, match="different sensitivity"):
        _design(tmp_path / "x", SerialExecutor(), trajectories=3)
    main(["sweep", str(SMALL), "--set", "volunteers.count=0,10", "--set", "duration_days=0.1",
          "--replications", "2", "--workers", "1", "--out", str(tmp_path / "sweep"), "--quiet"])
    with pytest.raises(InputError, match="not a sensitivity"):
        _design(tmp_path / "sweep", SerialExecutor())
