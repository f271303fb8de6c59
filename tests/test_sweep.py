"""Sweeps: cartesian arms, common random numbers, same table on every executor, resume."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

import gridsim
import gridsim.world.build
from gridsim.analysis.metrics import summary_value
from gridsim.api import run
from gridsim.core.errors import InputError
from gridsim.core.executors import DaskExecutor, ProcessExecutor, SerialExecutor
from gridsim.scenario.load import parse_scenario, read_scenario_text
from gridsim.studies.experiment import replication_seeds
from gridsim.studies.sweeps import (
    SWEEP_METRICS,
    expand,
    parse_sweeps,
    replications_needed,
    setting_values,
    sweep,
)
from tests.conftest import SMALL

SWEEPS = ["volunteers.count=0,3000", "dispatch.volunteer_radius_m=300,800"]
REPS = 4


def _run(folder: Path, executor: Any, base: tuple[str, ...] = ()) -> None:  # type: ignore[no-untyped-def]
    text, source = read_scenario_text(SMALL)
    try:
        sweep(text, source, list(base), parse_sweeps(SWEEPS), REPS, 5, executor, folder)
    finally:
        executor.close()


def test_parse_and_expand() -> None:
    sweeps = parse_sweeps(["a.b=1,2,3", "c=[1, 2],[3, 4]"])
    assert sweeps == [("a.b", ["1", "2", "3"]), ("c", ["[1, 2]", "[3, 4]"])]
    arms = expand(sweeps)
    assert len(arms) == 6 and arms[0] == (("a.b", "1"), ("c", "[1, 2]"))
    with pytest.raises(InputError):
        parse_sweeps(["volunteers.count"])


def test_same_tables_on_every_executor(tmp_path: Path) -> None:
    _run(tmp_path / "serial", SerialExecutor())
    _run(tmp_path / "pool", ProcessExecutor(2))
    _run(tmp_path / "dask", DaskExecutor("local", 2))
    for name in ("sweep.parquet", "summary.parquet"):
        serial = (tmp_path / "serial" / name).read_bytes()
        assert (tmp_path / "pool" / name).read_bytes() == serial
        assert (tmp_path / "dask" / name).read_bytes() == serial


NO_STAND_DOWN = ("incidents.traffic.local_resolves_prob=0",
                 "incidents.person_in_need.local_resolves_prob=0")


def test_arms_share_their_incidents(tmp_path: Path) -> None:
    _run(tmp_path / "s", SerialExecutor(), NO_STAND_DOWN)
    table = pq.read_table(tmp_path / "s" / "sweep.parquet").to_pylist()
    police = {}
    for row in table:
        if row["metric"] == "police_arrival_s.p90":
            police.setdefault(row["replication"], set()).add(row["value"])
    # with no stand-downs, volunteers never change what the police do: one value per
    # replication across arms
    assert all(len(values) == 1 for values in police.values())
    assert len(table) == 4 * REPS * len(SWEEP_METRICS)


class _Interrupting:
    """Delivers a few runs, then behaves as if the user pressed Ctrl-C."""

    def __init__(self, runs_before_interrupt: int) -> None:
        self.left = runs_before_interrupt

    def map_unordered(self, fn: Callable[[Any], Any], args: Iterable[Any]
                      ) -> Iterator[tuple[Any, Any]]:
        for arg in args:
            if self.left == 0:
                raise KeyboardInterrupt
            self.left -= 1
            yield arg, fn(arg)

    def close(self) -> None:
        pass


class _Counting(SerialExecutor):
    def __init__(self) -> None:
        self.runs = 0

    def map_unordered(self, fn: Callable[[Any], Any], args: Iterable[Any]
                      ) -> Iterator[tuple[Any, Any]]:
        for arg, result in super().map_unordered(fn, args):
            self.runs += 1
            yield arg, result


def test_interrupted_sweep_resumes_with_the_remaining_runs_only(tmp_path: Path) -> None:
    with pytest.raises(KeyboardInterrupt):
        _run(tmp_path / "x", _Interrupting(runs_before_interrupt=5))
    assert len(list((tmp_path / "x" / "runs").glob("*.json"))) == 5
    counting = _Counting()
    _run(tmp_path / "x", counting)
    assert counting.runs == 4 * REPS - 5
    _run(tmp_path / "fresh", SerialExecutor())
    assert ((tmp_path / "x" / "sweep.parquet").read_bytes()
            == (tmp_path / "fresh" / "sweep.parquet").read_bytes())


def test_a_folder_of_another_sweep_is_refused(tmp_path: Path) -> None:
    _run(tmp_path / "s", SerialExecutor())
    text, source = read_scenario_text(SMALL)
    with pytest.raises(InputError, match="different sweep"):
        sweep(text, source, [], parse_sweeps(["volunteers.count=0,10"]), REPS, 5,
              SerialExecutor(), tmp_path / "s")


def test_python_api_returns_tables() -> None:
    result = gridsim.sweep(SMALL, {"volunteers.count": [0, 3000]}, replications=3, seed=2)
    frame = result.summary.to_pandas()
    p50 = frame[frame.metric == "first_arrival_s.p50"].set_index("volunteers.count")["mean"]
    assert p50[3000] < p50[0]  # the swept setting keeps its type (int64)


def test_replications_needed_scales_with_the_square() -> None:
    assert replications_needed(10, 20.0, 10.0) == 40
    assert replications_needed(10, 5.0, 10.0) == 10


def test_cli_sweep_writes_tables_and_figure(tmp_path: Path) -> None:
    from gridsim.cli.main import main

    out = tmp_path / "cli"
    args = ["sweep", str(SMALL), "--set", "volunteers.count=0,3000", "--set",
            "duration_days=0.5", "--replications", "3", "--workers", "1", "--out", str(out),
            "--quiet"]
    assert main(args) == 0
    assert {p.name for p in out.iterdir()} >= {"sweep.parquet", "summary.parquet", "sweep.png",
                                             "manifest.json", "runs"}
    table = pq.read_table(out / "sweep.parquet")
    assert "duration_days" not in table.column_names  # a single value is not an arm
    assert main(["sweep", str(SMALL), "--set", "volunteers.count=-1,5", "--out",
                 str(tmp_path / "bad")]) == 2


def test_setting_columns_keep_their_types(tmp_path: Path) -> None:
    assert setting_values(["0", "3000"]) == (pa.int64(), [0, 3000])
    assert setting_values(["300", "800.5"]) == (pa.float64(), [300.0, 800.5])
    assert setting_values(["true", "false"]) == (pa.bool_(), [True, False])
    assert setting_values(["own_area_first", "nearest"])[0] == pa.string()
    assert setting_values(["[1, 2]", "[3, 4]"]) == (pa.string(), ["[1, 2]", "[3, 4]"])
    assert setting_values(["1", "true"])[0] == pa.string()  # mixed: left as written
    text, source = read_scenario_text(SMALL)
    sweep(text, source, ["duration_days=0.25"],
          parse_sweeps(["volunteers.count=0,3000", "dispatch.volunteer_radius_m=300,800.5",
                        "police.return_to_base=true,false",
                        "dispatch.jurisdiction=own_area_first,nearest"]),
          2, 5, SerialExecutor(), tmp_path / "typed")
    for name in ("sweep.parquet", "summary.parquet"):
        schema = pq.read_schema(tmp_path / "typed" / name)
        assert schema.field("volunteers.count").type == pa.int64()
        assert schema.field("dispatch.volunteer_radius_m").type == pa.float64()
        assert schema.field("police.return_to_base").type == pa.bool_()
        assert schema.field("dispatch.jurisdiction").type == pa.string()
    table = pq.read_table(tmp_path / "typed" / "summary.parquet")
    assert sorted(set(table.column("volunteers.count").to_pylist())) == [0, 3000]


def test_a_sweep_over_incidents_builds_the_world_once(monkeypatch: pytest.MonkeyPatch) -> None:
    builds = []
    real = gridsim.world.build.build_world

    def counting(scenario: Any, *args: Any, **kwargs: Any) -> Any:
        builds.append(scenario)
        return real(scenario, *args, **kwargs)

    monkeypatch.setattr(gridsim.world.build, "build_world", counting)
    gridsim.world.build.WORLDS.clear()
    text, source = read_scenario_text(SMALL)
    base = ["duration_days=0.25"]
    result = sweep(text, source, base,
                   parse_sweeps(["incidents.traffic.rate_per_day=5,80", "warmup_hours=0,1"]),
                   2, 5, SerialExecutor())
    assert len(builds) == 1  # 4 arms x 2 replications of one city in this process
    # the reused world ran the last arm's own incidents: the same as a world of its own
    scenario = parse_scenario(text, source, [*base, "incidents.traffic.rate_per_day=80",
                                             "warmup_hours=1"])
    alone = run(scenario, seed=replication_seeds(5, 2)[1], world=real(scenario)).summary
    table = result.table.to_pandas()
    last = table[(table.arm == 3) & (table.replication == 1)].set_index("metric")["value"]
    assert last["first_arrival_s.p90"] == summary_value(alone, "first_arrival_s.p90")
    assert last["police_arrival_s.p50"] == summary_value(alone, "police_arrival_s.p50")
    sweep(text, source, base, parse_sweeps(["volunteers.count=0,3000"]), 2, 5,
          SerialExecutor())
    assert len(builds) == 3  # volunteers are part of the world: one build per arm


def test_run_behaviour_under_dispatch_does_not_rebuild_the_world() -> None:
    from gridsim.world.build import same_world

    base = gridsim.load_scenario(SMALL)
    behaviour = gridsim.load_scenario(SMALL, ["dispatch.volunteer_activation_scale=0.1",
                                              "dispatch.neighbour_stations=2"])
    radius = gridsim.load_scenario(SMALL, ["dispatch.volunteer_radius_m=900"])
    assert same_world(base, behaviour)
    assert not same_world(base, radius)  # the catchments are built for the radius
