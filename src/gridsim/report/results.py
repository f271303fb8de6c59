"""A results folder read back: the tables and summary a report is drawn from."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow.parquet as pq

from gridsim.errors import InputError
from gridsim.scenario.schema import Scenario

REQUIRED_FILES = ("summary.json", "scenario.json", "incidents.parquet", "dispatches.parquet",
                  "volunteers.parquet")


@dataclass(frozen=True, eq=False)
class Results:
    """The contents of one results folder."""

    folder: Path
    summary: dict[str, Any]
    scenario: Scenario
    incidents: dict[str, np.ndarray]
    dispatches: dict[str, np.ndarray]
    volunteer_alerts: np.ndarray


def read_results(folder: Path) -> Results:
    """Return the results in ``folder``; a missing or damaged file raises ``InputError``."""
    if not folder.is_dir():
        raise InputError(f"{folder}: not a results folder; run 'gridsim run --out {folder}'")
    missing = [name for name in REQUIRED_FILES if not (folder / name).exists()]
    if missing:
        raise InputError(f"{folder}: {missing[0]} is missing; rerun 'gridsim run --out {folder}'")
    try:
        summary = json.loads((folder / "summary.json").read_text(encoding="utf-8"))
        scenario = Scenario.model_validate(
            json.loads((folder / "scenario.json").read_text(encoding="utf-8"))
        )
        tables = {name: _columns(folder / f"{name}.parquet")
                  for name in ("incidents", "dispatches", "volunteers")}
    except (OSError, ValueError) as exc:
        raise InputError(f"{folder}: cannot read the results ({exc}); rerun "
                         f"'gridsim run --out {folder}'") from None
    return Results(folder=folder, summary=summary, scenario=scenario,
                   incidents=tables["incidents"], dispatches=tables["dispatches"],
                   volunteer_alerts=tables["volunteers"]["alerts"])


def _columns(path: Path) -> dict[str, np.ndarray]:
    """Return a Parquet file as numpy columns (categories as strings)."""
    table = pq.read_table(path)
    out = {}
    for name in table.column_names:
        column = table.column(name)
        if column.type.__class__.__name__ == "DictionaryType":
            column = column.cast("string")
        out[name] = column.to_numpy(zero_copy_only=False)
    return out
