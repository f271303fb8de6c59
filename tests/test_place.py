"""gridsim place: the covering proposal, the sites file read back, the simulated check."""

from __future__ import annotations

import csv
import itertools
import json
from pathlib import Path

import numpy as np
import pytest
from scipy import sparse

from gridsim.cli.main import main
from gridsim.scenario import load_scenario
from gridsim.sim.dispatch.watch_points import watch_point_sites
from gridsim.studies.placement import greedy_max_cover
from gridsim.world.build import build_world

ROOT = Path(__file__).resolve().parents[1]
SMALL = ROOT / "scenarios" / "small.toml"


def _naive_greedy(cover: np.ndarray, weight: np.ndarray, count: int) -> list[int]:
    remaining, chosen = weight.astype(float).copy(), []
    for _ in range(count):
        gains = cover @ remaining
        best = int(np.argmax(gains))
        if gains[best] <= 0:
            break
        chosen.append(best)
        remaining[cover[best] > 0] = 0.0
    return chosen


@pytest.mark.parametrize("seed", range(5))
def test_lazy_greedy_is_greedy_and_near_the_optimal_cover(seed: int) -> None:
    rng = np.random.default_rng(seed)
    cover = (rng.random((14, 30)) < 0.15).astype(float)
    weight = rng.integers(1, 10, 30).astype(float)
    chosen, gains = greedy_max_cover(sparse.csr_matrix(cover), weight, 3)
    assert chosen.tolist() == _naive_greedy(cover, weight, 3)
    covered = (cover[chosen].sum(axis=0) > 0)
    assert gains.sum() == pytest.approx(weight[covered].sum())
    best = max(weight[cover[list(c)].sum(axis=0) > 0].sum()
               for c in itertools.combinations(range(14), 3))
    assert gains.sum() >= (1 - 1 / np.e) * best  # Nemhauser, Wolsey and Fisher (1978)


@pytest.fixture(scope="module")
def placed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("place") / "place"
    assert main(["place", str(SMALL), "--count", "10", "--days", "7", "--replications", "8",
                 "--quiet", "--out", str(out)]) == 0
    return out


def test_proposed_sites_improve_the_ring_share_with_95_percent_confidence(placed: Path
                                                                        ) -> None:
    summary = json.loads((placed / "placement.json").read_text())
    assert summary["sites"] == 10
    low, high = summary["improvement_ci95"]
    assert 0 < low <= summary["improvement"] <= high
    assert summary["improves_with_95_confidence"] is True
    geo = json.loads((placed / "sites.geojson").read_text())
    assert len(geo["features"]) == 10
    assert (placed / "before_after.png").stat().st_size > 10_000


def test_sites_file_reads_back_onto_the_same_nodes_without_reshuffling_the_others(
        placed: Path) -> None:
    with (placed / "sites.csv").open() as handle:
        nodes = sorted(int(row["node"]) for row in csv.DictReader(handle))
    before = build_world(load_scenario(SMALL))
    after = build_world(load_scenario(
        SMALL, [f"watch_points.extra_sites={placed / 'sites.csv'}"]))
    assert sorted(after.fleets.watch_point_extra_node.tolist()) == nodes
    assert np.array_equal(np.union1d(before.fleets.watch_point_node, nodes),
                          after.fleets.watch_point_node)
    # the city's own points keep their kinds (and staff) when points are added
    cfg = before.scenario.watch_points
    kind_before, _, _ = watch_point_sites(cfg, before.fleets.watch_point_added(), 1)
    kind_after, _, _ = watch_point_sites(cfg, after.fleets.watch_point_added(), 1)
    own = ~after.fleets.watch_point_added()
    assert np.array_equal(kind_before, kind_after[own])


def test_a_site_off_the_map_is_one_line_and_exit_2(tmp_path: Path,
                                                    capsys: pytest.CaptureFixture[str]) -> None:
    sites = tmp_path / "far.csv"
    sites.write_text("id,lat,lon\nfar,40.0,118.0\n")
    code = main(["run", str(SMALL), "--quiet", "--out", str(tmp_path / "r"), "--set",
                 f"watch_points.extra_sites={sites}"])
    assert code == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "far.csv" in err[0] and "extra_sites_snap_max_m" in err[0]
