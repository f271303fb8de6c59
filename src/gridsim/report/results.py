"""A results folder read back: the tables and summary a report is drawn from."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
from pydantic import BaseModel, ConfigDict, ValidationError

from gridsim.core.errors import InputError
from gridsim.core.output import read_manifest
from gridsim.scenario.load import describe_validation_error
from gridsim.scenario.schema import Scenario

REQUIRED_FILES = ("summary.json", "scenario.json", "incidents.parquet", "dispatches.parquet",
                  "volunteers.parquet")
REQUIRED_COLUMNS = {  # table: numeric columns the report reads
    "incidents": ("t_call_s", "first_arrival_s"),
    "dispatches": ("incident", "t_dispatch_s", "t_arrive_s", "t_free_s"),
    "volunteers": ("alerts",),
}
REPLAY_COLUMNS = ("t_call_s", "recorded_response_s", "simulated_response_s")  # replay runs
COVERAGE_COLUMNS = ("cell", "population", "incidents", "first_arrival_p90_s")


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
        summary = json.loads((folder / "summary.json").read_text(encoding="utf-8"))
        _Summary.model_validate(summary)
        scenario = Scenario.model_validate(
            json.loads((folder / "scenario.json").read_text(encoding="utf-8"))
        )
        tables = {name: _columns(folder / f"{name}.parquet", columns)
                  for name, columns in REQUIRED_COLUMNS.items()}
        replay = _columns(folder / "replay.parquet", REPLAY_COLUMNS) if (
            "replay" in summary) else None
        coverage = _columns(folder / "coverage.parquet", COVERAGE_COLUMNS) if (
            "coverage" in summary and (folder / "coverage.parquet").exists()) else None
    except ValidationError as exc:
        raise InputError(f"{folder}: summary.json or scenario.json: "
                         f"{describe_validation_error(exc)}; run the scenario again") from None
    except (OSError, ValueError) as exc:
        raise InputError(f"{folder}: cannot read the results ({exc}); run the scenario "
                         "again") from None
    incident_count = tables["incidents"]["t_call_s"].shape[0]
    rows = tables["dispatches"]["incident"]
    if rows.shape[0] and not (rows.min() >= 0 and rows.max() < incident_count):
        raise InputError(f"{folder}: dispatches.parquet names incidents that "
                         "incidents.parquet does not hold; run the scenario again")
    return Results(folder=folder, summary=summary, scenario=scenario,
                   incidents=tables["incidents"], dispatches=tables["dispatches"],
                   volunteer_alerts=tables["volunteers"]["alerts"], replay=replay,
                   coverage=coverage)


def _columns(path: Path, required: tuple[str, ...]) -> dict[str, np.ndarray]:
    """Return a Parquet file as numpy columns (categories as strings).

    Raises ``ValueError`` when a ``required`` column is missing or not numeric.
    """
    table = pq.read_table(path)
    for name in required:
        if name not in table.column_names:
            raise ValueError(f"{path.name} has no column {name!r}")
        if not (pa.types.is_integer(table.column(name).type)
                or pa.types.is_floating(table.column(name).type)):
            raise ValueError(f"{path.name}: column {name!r} is not numeric")
    out = {}
    for name in table.column_names:
        column = table.column(name)
        if column.type.__class__.__name__ == "DictionaryType":
            column = column.cast("string")
        out[name] = column.to_numpy(zero_copy_only=False)
    return out
