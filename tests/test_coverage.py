"""Coverage and equity by cell: per-cell percentiles, ring shares, the Gini, the worst cells."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq
import pytest

from gridsim.analysis.coverage import cell_quantiles, weighted_gini
from gridsim.cli.main import main
from gridsim.core.stats import quantile_ci

ROOT = Path(__file__).resolve().parents[1]
SMALL = ROOT / "scenarios" / "small.toml"


def test_cell_quantiles_match_numpy_cell_by_cell() -> None:
    rng = np.random.default_rng(7)
    cell = rng.integers(0, 40, 3000)
    values = rng.lognormal(6.0, 0.8, 3000)
    values[rng.random(3000) < 0.1] = np.nan  # unreached incidents are left out
    for q in (0.5, 0.9):
        value, lo, hi = cell_quantiles(cell, values, 42, q, min_count=10)
        for c in range(42):
            mine = np.sort(values[(cell == c) & np.isfinite(values)])
            if mine.shape[0] < 10:
                assert np.isnan(value[c])
                continue
            assert value[c] == pytest.approx(np.quantile(mine, q), rel=1e-12)
            assert (lo[c], hi[c]) == quantile_ci(mine, q)


def test_gini_against_closed_forms() -> None:
    rng = np.random.default_rng(3)
    ones = np.ones(200_000)
    # Gini of Uniform(0, 1) is 1/3, of an exponential 1/2 (standard results)
    assert weighted_gini(rng.random(200_000), ones) == pytest.approx(1 / 3, abs=0.005)
    assert weighted_gini(rng.exponential(1.0, 200_000), ones) == pytest.approx(0.5, abs=0.005)
    # one cell holds everything: (n - 1) / n with equal weights
    x = np.zeros(10)
    x[3] = 5.0
    assert weighted_gini(x, np.ones(10)) == pytest.approx(0.9)
    # a weight of 2 is the value counted twice; against the O(n^2) definition
    x, w = rng.random(30), rng.integers(1, 4, 30).astype(float)
    repeated = np.repeat(x, w.astype(int))
    pairs = np.abs(repeated[:, None] - repeated[None, :]).sum()
    assert weighted_gini(x, w) == pytest.approx(
        pairs / (2 * repeated.shape[0] ** 2 * repeated.mean()), rel=1e-9)


@pytest.fixture(scope="module")
def small_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("coverage") / "run"
    assert main(["run", str(SMALL), "--quiet", "--out", str(out), "--set",
                 "coverage.cells=stations", "--set", "duration_days=3"]) == 0
    return out


def test_coverage_table_agrees_with_the_incident_table(small_run: Path) -> None:
    incidents = pq.read_table(small_run / "incidents.parquet").to_pandas()
    cells = pq.read_table(small_run / "coverage.parquet").to_pandas().set_index("cell")
    summary = json.loads((small_run / "summary.json").read_text())["coverage"]
    assert cells["incidents"].sum() == len(incidents)
    rated = 0
    for station, group in incidents.groupby("station"):
        row = cells.loc[station]
        assert row["incidents"] == len(group)
        first = group["first_arrival_s"].to_numpy()
        assert row["within_180s_any"] == pytest.approx(np.mean(first <= 180.0))
        finite = np.sort(first[np.isfinite(first)])
        if finite.shape[0] >= summary["min_incidents"]:
            rated += 1
            assert row["first_arrival_p90_s"] == pytest.approx(np.quantile(finite, 0.9))
    assert summary["cells_rated"] == rated
    # the worst cells are the rated cells of highest p90, and the Gini covers the same
    p90 = cells["first_arrival_p90_s"].dropna().sort_values(ascending=False)
    worst = summary["worst"]["cells"]
    assert worst == p90.index[:len(worst)].tolist()
    weights = cells.loc[p90.index, "population"].to_numpy() + 1e-9
    assert summary["gini_of_p90_first_arrival"] == pytest.approx(
        weighted_gini(p90.to_numpy(), weights), abs=1e-4)
    # population-weighted ring share: each cell's share weighted by its residents
    has = cells[cells["incidents"] > 0]
    expect = (has["within_300s_any"] * has["population"]).sum() / has["population"].sum()
    assert summary["population_weighted_share_within_s"]["any"]["300"] == pytest.approx(
        expect, abs=1e-4)


def test_report_has_the_ring_map_and_equity_table(small_run: Path) -> None:
    assert main(["report", str(small_run)]) == 0
    page = (small_run / "report.html").read_text()
    assert "Coverage and equity by station" in page
    assert "alt='Ring coverage by cell" in page
    assert "Gini of the cells' p90" in page


def test_rings_must_increase(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["run", str(SMALL), "--quiet", "--out", str(tmp_path / "x"), "--set",
                 "coverage.rings_s=[300, 60]"])
    assert code == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "coverage.rings_s" in err[0] and "increasing" in err[0]
