"""The Python API: one call per stage, and ``run`` that chains them for one seed."""

from __future__ import annotations

import hashlib
import json
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from gridsim.analysis.coverage import CellCoverage, cell_coverage, node_cells
from gridsim.analysis.metrics import incident_outcomes, summarize
from gridsim.calls.compare import MEASURES, Comparison, compare_calls
from gridsim.calls.replay import ReplayedCalls, replay_calls
from gridsim.core.output import Writer, categorical, json_writer, parquet_writer, write_folder
from gridsim.core.units import SECONDS_PER_HOUR
from gridsim.core.version import __version__
from gridsim.demand.incidents import generate_incidents
from gridsim.demand.schools import add_school_incidents, school_summary
from gridsim.scenario.schema import Scenario
from gridsim.sim.dispatch import mediation as med
from gridsim.sim.dispatch.platform import COLUMNS as PLATFORM_COLUMNS
from gridsim.sim.dispatch.volunteers import TRAVEL_MODES, volunteer_travel
from gridsim.sim.engine import ProgressCallback, simulate
from gridsim.sim.records import RESPONDER_KINDS, SimulationRecords
from gridsim.world.build import World, build_world


@dataclass(frozen=True, eq=False)
class RunResult:
    """One run: its scenario, seed, world, records, summary and wall times."""

    scenario: Scenario
    seed: int
    world: World
    records: SimulationRecords
    summary: dict[str, Any]
    setup_s: float  # building the world
    wall_s: float  # drawing incidents, simulating and summarising
    coverage: CellCoverage  # by cell: the coverage table and the equity summary
    # a [replay] run: the logged calls behind the incidents, recorded vs simulated
    replay: ReplayedCalls | None = None
    comparison: Comparison | None = None


REPORT_ONLY_KEYS = ("coverage",)  # how coverage is tabulated: no simulated number changes


def scenario_digest(scenario: Scenario) -> str:
    """Return the SHA-256 of the scenario's canonical JSON: what a baseline is tied to.

    Values left at their defaults are not part of it, so a new optional setting does not
    orphan every baseline; a changed default shows up in the metrics instead. Nor are
    the keys that only shape reports (``REPORT_ONLY_KEYS``): they change no metric.
    """
    canonical = json.dumps(scenario.model_dump(mode="json", exclude_defaults=True,
                                               exclude=set(REPORT_ONLY_KEYS)),
                           sort_keys=True)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def run(
    scenario: Scenario,
    seed: int | None = None,
    world: World | None = None,
    progress: ProgressCallback | None = None,
) -> RunResult:
    """Return the result of running ``scenario`` once (seed defaults to the scenario's).

    A scenario with ``[replay]`` takes its incidents from the log (exactly with its own
    seed, whole days resampled with any other) and adds the recorded-vs-simulated
    comparison to the summary (``replay``).
    """
    seed = scenario.seed if seed is None else seed
    started = time.perf_counter()
    if world is None or world.scenario != scenario:
        world = build_world(scenario)
    built = time.perf_counter()
    replayed = None if scenario.replay is None else replay_calls(scenario, world, seed)
    incidents = generate_incidents(
        scenario, world.node_district, seed, world.catchments.watch_point_m,
        world.incident_node_weight) if replayed is None else replayed.incidents
    if scenario.schools is not None and replayed is None:
        incidents = add_school_incidents(world, incidents, seed)
    records = simulate(world, incidents, seed, progress)
    summary = {
        "scenario": scenario.name,
        "scenario_sha256": scenario_digest(scenario),
        "seed": seed,
        "duration_days": scenario.duration_days,
        "gridsim_version": __version__,
        **summarize(records, world.district_names, world.node_district,
                    warmup_s=scenario.warmup_hours * SECONDS_PER_HOUR, fleets=world.fleets),
    }
    coverage = run_coverage(records, world)
    summary["coverage"] = coverage.summary
    if scenario.schools is not None:  # response inside and outside the school runs
        summary["schools"] = school_summary(
            world, incidents, incident_outcomes(records),
            records.police_ops.get("school_posts", {}), scenario.warmup_hours * SECONDS_PER_HOUR)
    if world.city_source:  # an imported city: what came from files, what was derived
        summary["city"] = world.city_source
    comparison = None
    if replayed is not None:
        comparison = compare_calls(replayed, records, world.node_district,
                                   world.district_names, scenario.warmup_hours * SECONDS_PER_HOUR)
        summary["replay"] = {**replayed.facts, "comparison": comparison.summary}
    return RunResult(
        scenario=scenario, seed=seed, world=world, records=records, summary=summary,
        coverage=coverage, setup_s=built - started, wall_s=time.perf_counter() - built,
        replay=replayed, comparison=comparison,
    )


def run_coverage(records: SimulationRecords, world: World) -> CellCoverage:
    """Return the run's coverage by cell, counting calls after the warm-up."""
    scenario = world.scenario
    counted = records.incidents.t_call_s >= scenario.warmup_hours * SECONDS_PER_HOUR
    cells = node_cells(scenario.coverage, world.zones.node_grid, world.zones.node_station)
    return cell_coverage(records, scenario.coverage, cells, world.node_population,
                         world.node_district, world.district_names, counted)


def result_files(result: RunResult) -> dict[str, Writer]:
    """Return the writers of a run's results folder, by file name."""
    records, world = result.records, result.world
    inc = records.incidents
    outcomes = incident_outcomes(records)
    d = records.dispatches
    room = records.mediation_cases or med.MediationRooms.no_cases()
    positions = world.volunteer_positions
    mode, speed_mps = volunteer_travel(result.scenario.volunteers, world.fleets.volunteers.size,
                                       result.scenario.city.seed, positions.kind)
    # columns only a scenario with volunteer kinds, or with a platform, has
    kind_column = {"kind": categorical(positions.kind, positions.kind_names)
                   } if positions.kind_names else {}
    platform_columns = {f"platform_{name}": records.platform[name]
                        for name in PLATFORM_COLUMNS if name in records.platform}
    files = {
        "summary.json": json_writer(result.summary),
        "scenario.json": json_writer(result.scenario.model_dump(mode="json")),
        "incidents.parquet": parquet_writer({
            "incident": np.arange(inc.count, dtype=np.int32),
            "type": categorical(inc.type_id, inc.type_names),
            "priority": inc.priority,
            "node": inc.node,
            "district": categorical(world.node_district[inc.node], world.district_names),
            "station": world.zones.node_station[inc.node],
            "grid": world.zones.node_grid[inc.node],
            "t_call_s": inc.t_call_s,
            **({} if inc.t_occur_s is None else {"t_occur_s": inc.t_occur_s,
                                                  "reported_by_watch_point": inc.alarmed}),
            "on_scene_s": inc.on_scene_s,
            "first_arrival_s": outcomes["first_arrival_s"],
            "first_kind": categorical(outcomes["first_kind"], RESPONDER_KINDS),
            "police_arrival_s": outcomes["police_arrival_s"],
            "local_before_police": outcomes["local_before_police"],
            **platform_columns,
        }),
        "volunteers.parquet": parquet_writer({
            "volunteer": np.arange(world.fleets.volunteers.size, dtype=np.int32),
            "home_node": world.fleets.volunteers.base_node,
            **kind_column,
            "alerts": records.volunteer_alerts,
            "mode": categorical(mode, TRAVEL_MODES),
            "speed_mps": speed_mps,
            "active_at_end": records.volunteer_active,
        }),
        "dispatches.parquet": parquet_writer({
            "incident": d["incident"],
            "kind": categorical(d["kind"], RESPONDER_KINDS),
            "responder": d["responder"],
            "t_dispatch_s": d["t_dispatch_s"],
            "t_arrive_s": d["t_arrive_s"],
            "t_free_s": d["t_free_s"],
        }),
        "mediation.parquet": parquet_writer({
            "incident": room["incident"],
            "station": room["station"],
            "mediator": room["mediator"],
            "t_arrive_room_s": room["t_arrive_room_s"],
            "t_start_s": room["t_start_s"],
            "t_end_s": room["t_end_s"],
            "outcome": categorical(
                np.where(room["outcome"] == med.OPEN, len(med.OUTCOMES), room["outcome"]),
                (*med.OUTCOMES, "open"),
            ),
        }),
    }
    coverage = dict(result.coverage.columns)
    coverage["district"] = categorical(coverage["district"], world.district_names)
    files["coverage.parquet"] = parquet_writer(coverage)
    if result.replay is not None and result.comparison is not None:
        files["replay.parquet"] = replay_writer(result.replay, result.comparison, world)
    return files


def replay_writer(replayed: ReplayedCalls, comparison: Comparison, world: World) -> Writer:
    """Return the writer of replay.parquet: one row per replayed call, recorded vs simulated."""
    inc, log = replayed.incidents, replayed.log
    return parquet_writer({
        "incident": np.arange(inc.count, dtype=np.int32),
        "call_id": log.call_id[replayed.call].astype(str),
        "log_row": log.first_row[replayed.call],
        "log_day": replayed.log_day.astype(np.int32),
        "t_call_s": inc.t_call_s,
        "type": categorical(inc.type_id, inc.type_names),
        "district": categorical(world.node_district[inc.node], world.district_names),
        "node": inc.node,
        "snap_m": replayed.snap_m,
        "on_scene_s": inc.on_scene_s,
        "on_scene_from_log": replayed.on_scene_logged,
        **{f"{source}_{measure}": comparison.columns[f"{source}_{measure}"]
           for measure in MEASURES for source in ("recorded", "simulated")},
    })


def write_results(result: RunResult, out_dir: str | Path) -> Path:
    """Write the run's results folder atomically; return its path.

    Refuses (``InputError``) to replace a folder that holds anything gridsim did not write.
    """
    path = Path(out_dir)
    write_folder(path, result_files(result), "run")
    return path


def default_out_dir(scenario: Scenario, seed: int) -> Path:
    """Return the results folder named by the scenario's ``output.dir`` pattern."""
    return Path(scenario.output.dir.format(name=scenario.name, seed=seed))
