"""A results folder read back: the tables and summary a report is drawn from."""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
from pydantic import BaseModel, ConfigDict, ValidationError

from gridsim.analysis.coverage import GROUPS, node_cells
from gridsim.core.errors import InputError
from gridsim.core.files import open_regular, read_regular
from gridsim.core.output import read_manifest
from gridsim.scenario.load import describe_validation_error
from gridsim.scenario.schema import Scenario
from gridsim.sim.records import RESPONDER_KINDS
from gridsim.world.build import World

REQUIRED_FILES = ("summary.json", "scenario.json", "incidents.parquet", "dispatches.parquet",
                  "volunteers.parquet")
MAX_RESULTS_BYTES = 4e9  # no results file of a run that fits in memory is larger
MAX_JSON_BYTES = 200e6  # summary.json and scenario.json
MAX_TIME_S = 1e9  # about 32 years: beyond any run (at most 366 days), far from overflow
# table: {column the report reads: its kind}. "time": seconds from the start, at least
# 0; "time?": the same or missing (nan, inf: never happened); "time~": a time or inf
# (never: a dispatch that did not arrive); "index": a whole number
# from 0 (checked against the city by check_against_world); "count": a whole number
# from 0; "amount": a finite number from 0; "text": strings.
REQUIRED_COLUMNS = {
    "incidents": {"t_call_s": "time", "first_arrival_s": "time?", "node": "index"},
    "dispatches": {"incident": "index", "kind": "text", "responder": "index",
                   "t_dispatch_s": "time", "t_arrive_s": "time~", "t_free_s": "time~"},
    "volunteers": {"alerts": "count"},
}
REPLAY_COLUMNS = {"t_call_s": "time", "recorded_response_s": "time?",
                  "simulated_response_s": "time?"}  # replay runs
COVERAGE_COLUMNS = {"cell": "index", "population": "amount", "incidents": "count",
                    "first_arrival_p90_s": "time?"}


class _Part(BaseModel):
    """A part of summary.json the report reads; other keys may come and go."""

    model_config = ConfigDict(extra="allow")


class _Stat(_Part):
    n: int
    p50: float | None
    p90: float | None
    p95: float | None
    p90_ci: tuple[float, float] | None


class _Group(_Part):
    incidents: int
    first_arrival_s: _Stat
    police_arrival_s: _Stat


class _Kind(_Part):
    dispatches: int
    incidents_reached: int
    first_on_scene_share: float | None
    arrival_s: _Stat
    utilisation: float | None


class _Summary(_Part):
    scenario_sha256: str
    seed: int
    gridsim_version: str
    incidents: int
    answered: int
    first_arrival_s: _Stat
    police_arrival_s: _Stat
    local_before_police_share: float | None
    patrol_utilisation: float | None
    community_police_utilisation: float | None
    mediator_utilisation: float | None
    by_type: dict[str, _Group]
    by_district: dict[str, _Group]
    by_responder_kind: dict[str, _Kind]


@dataclass(frozen=True, eq=False)
class Results:
    """The contents of one results folder."""

    folder: Path
    summary: dict[str, Any]
    scenario: Scenario
    incidents: dict[str, np.ndarray]
    dispatches: dict[str, np.ndarray]
    volunteer_alerts: np.ndarray
    replay: dict[str, np.ndarray] | None = None  # replay.parquet of a [replay] run
    coverage: dict[str, np.ndarray] | None = None  # coverage.parquet (none: older results)


def read_results(folder: Path) -> Results:
    """Return the results in ``folder``; a missing or damaged file raises ``InputError``."""
    how = "pass the folder that 'gridsim run' printed"
    if not folder.is_dir():
        raise InputError(f"{folder}: not a results folder (no such folder); {how}")
    manifest = read_manifest(folder)
    if manifest is None or manifest.get("command") != "run":
        raise InputError(f"{folder}: not a results folder written by 'gridsim run' (no "
                         f"gridsim-output.json naming it); {how}")
    missing = [name for name in REQUIRED_FILES if not (folder / name).exists()]
    if missing:
        raise InputError(f"{folder}: {missing[0]} is missing (a missing-person study has no "
                         "incident report); run an incident scenario")
    try:
        summary = json.loads(read_regular(folder / "summary.json", AGAIN, MAX_JSON_BYTES))
        _Summary.model_validate(summary)
        scenario = Scenario.model_validate(
            json.loads(read_regular(folder / "scenario.json", AGAIN, MAX_JSON_BYTES)))
        tables = {name: _columns(folder / f"{name}.parquet", columns)
                  for name, columns in REQUIRED_COLUMNS.items()}
        replay = _columns(folder / "replay.parquet", REPLAY_COLUMNS) if (
            "replay" in summary) else None
        coverage = _columns(folder / "coverage.parquet", COVERAGE_COLUMNS) if (
            "coverage" in summary and (folder / "coverage.parquet").exists()) else None
    except ValidationError as exc:
        raise InputError(f"{folder}: summary.json or scenario.json: "
                         f"{describe_validation_error(exc)}; {AGAIN}") from None
    except (OSError, ValueError, RecursionError) as exc:
        raise InputError(f"{folder}: cannot read the results ({_short(exc)}); {AGAIN}"
                         ) from None
    incident_count = tables["incidents"]["t_call_s"].shape[0]
    rows = tables["dispatches"]["incident"]
    if rows.shape[0] and not rows.max() < incident_count:
        raise InputError(f"{folder}: dispatches.parquet names incidents that "
                         f"incidents.parquet does not hold; {AGAIN}")
    return Results(folder=folder, summary=summary, scenario=scenario,
                   incidents=tables["incidents"], dispatches=tables["dispatches"],
                   volunteer_alerts=tables["volunteers"]["alerts"], replay=replay,
                   coverage=coverage)


def check_against_world(results: Results, world: World) -> None:
    """Raise ``InputError`` when ``results`` name nodes, responders or cells ``world`` lacks.

    ``world`` is built from the results' own scenario.json, so a mismatch means a file
    of the folder was changed or comes from another run.
    """
    where = results.folder
    _below(where, "incidents", "node", results.incidents["node"], world.network.node_count,
           "road nodes")
    kinds = results.dispatches["kind"]
    unknown = sorted(set(kinds.tolist()) - set(RESPONDER_KINDS), key=str)
    if unknown:
        raise InputError(f"{where}: dispatches.parquet: column 'kind' holds {unknown[0]!r}, "
                         f"not a responder kind ({', '.join(RESPONDER_KINDS)}); {AGAIN}")
    for kind, fleet in _fleet_sizes(world).items():
        _below(where, "dispatches", "responder", results.dispatches["responder"][kinds == kind],
               fleet, f"{kind} responders")
    missing = [n for n in world.district_names if n not in results.summary["by_district"]]
    if missing:
        raise InputError(f"{where}: summary.json has no district {missing[0]!r} of the city "
                         f"(by_district); {AGAIN}")
    if results.coverage is None:
        return
    settings = results.scenario.coverage
    cells = int(node_cells(settings, world.zones.node_grid, world.zones.node_station).max()) + 1
    if results.coverage["cell"].shape[0] != cells or np.any(
            results.coverage["cell"] != np.arange(cells)):
        raise InputError(f"{where}: coverage.parquet does not hold one row per "
                         f"{settings.cells[:-1]} of the city ({cells:,}) in order; {AGAIN}")
    for group in GROUPS:
        for ring_s in settings.rings_s:
            name = f"within_{ring_s:g}s_{group}"
            values = results.coverage.get(name)
            if values is None or values.dtype.kind != "f" or np.any(
                    (values < 0.0) | (values > 1.0)):
                raise InputError(f"{where}: coverage.parquet: column {name!r} is missing or "
                                 f"not a share from 0 to 1; {AGAIN}")


AGAIN = "run the scenario again"


def _fleet_sizes(world: World) -> dict[str, int]:
    """Return how many responders of each kind the world has (dispatch rows index them)."""
    f = world.fleets
    return {"patrol": f.patrol.base_node.shape[0],
            "community_police": f.community_police.base_node.shape[0],
            "mediator": f.mediators.base_node.shape[0],
            "grid_worker": f.grid_workers.base_node.shape[0],
            "volunteer": f.volunteers.base_node.shape[0],
            "watch_point": f.watch_point_node.shape[0],
            "street_post": f.street_posts.base_node.shape[0],
            "traffic_police": f.traffic_police.base_node.shape[0]}


def _below(where: Path, table: str, column: str, values: np.ndarray, limit: int,
           what: str) -> None:
    if values.shape[0] and values.max() >= limit:
        raise InputError(f"{where}: {table}.parquet: column {column!r} names "
                         f"{int(values.max()):,}, beyond the city's {limit:,} {what}; {AGAIN}")


def _columns(path: Path, required: dict[str, str]) -> dict[str, np.ndarray]:
    """Return a Parquet file as numpy columns (categories as strings).

    Raises ``ValueError`` when a ``required`` column is missing, of the wrong type or out
    of its range (see ``REQUIRED_COLUMNS``).
    """
    with open_regular(path, AGAIN, MAX_RESULTS_BYTES) as handle:
        table = pq.read_table(handle)
    out = {}
    for name in table.column_names:
        column = table.column(name)
        if pa.types.is_dictionary(column.type):
            column = column.cast(column.type.value_type)
        out[name] = column
    for name, kind in required.items():
        if name not in out:
            raise ValueError(f"{path.name} has no column {name!r}")
        _check_column(path.name, name, kind, out[name])
    return {name: column.to_numpy(zero_copy_only=False) for name, column in out.items()}


def _check_column(file: str, name: str, kind: str, column: pa.ChunkedArray) -> None:
    """Raise ``ValueError`` unless ``column`` is of ``kind`` (see ``REQUIRED_COLUMNS``)."""
    where = f"{file}: column {name!r}"
    if column.null_count:
        raise ValueError(f"{where} has {column.null_count:,} empty values")
    if kind == "text":
        if not (pa.types.is_string(column.type) or pa.types.is_large_string(column.type)):
            raise ValueError(f"{where} holds {column.type}, not text")
        return
    whole = kind in ("index", "count")
    if not (pa.types.is_integer(column.type)
            or (not whole and pa.types.is_floating(column.type))):
        raise ValueError(f"{where} holds {column.type}, not "
                         f"{'whole numbers' if whole else 'numbers'}")
    values = column.to_numpy(zero_copy_only=False).astype(float)
    known = values[~np.isnan(values)] if kind.endswith("?") else values
    if kind in ("time?", "time~"):
        known = known[~np.isposinf(known)]
    if known.shape[0] == 0:
        return
    if not np.isfinite(known).all():
        raise ValueError(f"{where} holds a value that is not a finite number")
    high = MAX_TIME_S if kind.startswith("time") else math.inf
    if known.min() < 0.0 or known.max() > high:
        bad = known[(known < 0.0) | (known > high)][0]
        raise ValueError(f"{where} holds {bad:g}, out of its range (0 to {high:g})")


def _short(exc: BaseException) -> str:
    """Return the first line of an exception's message, at most 200 characters."""
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return text[:200]
