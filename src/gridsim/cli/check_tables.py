"""The terminal tables of ``gridsim calls fit`` (fleets) and ``gridsim calls check``."""

from __future__ import annotations

from typing import Any

import numpy as np
from rich.table import Table

from gridsim.cli.tables import stdout_console

LABELS = {"response_s": "response", "handling_s": "handling", "turnout_s": "turnout (1st unit)",
          "travel_s": "travel (1st unit)"}
MIN_CALLS_SHOWN = 200  # groups with fewer calls than this are in check.json only


def print_fleets(fit: dict[str, Any]) -> None:
    """Print the fitted fleets (units, turnout, on scene) and the drive model."""
    table = Table(title="Fitted fleets (min; every quantile and row count in fit.json)")
    for column in ("fleet", "rows", "never on scene", "stationed", "no station", "turnout p50",
                   "on scene p50", "on scene p90"):
        table.add_column(column, justify="right")
    for name, fleet in fit["fleets"].items():
        counts = fleet["counts"]
        table.add_row(name, f"{counts['rows']:,}", f"{counts['dispatched_never_on_scene']:,}",
                      str(sum(fleet["units_by_station"].values())),
                      str(fleet["units_without_station"]), f"{_median(fleet['turnout_s']):.1f}",
                      f"{_median(fleet['on_scene_s']):.1f}",
                      f"{_quantile(fleet['on_scene_s'], 0.9):.1f}")
    out = stdout_console()
    out.print(table)
    drive = fit.get("drive_fit")
    if drive is None:
        print("no drive model: it needs the city's roads (give --scenario with the city)")
        return
    model = Table(title="Drive of stationed units: (overhead + factor x routed) x residual")
    for column in ("priority", "rows", "overhead s", "factor", "median |error| s",
                   "residual p10/p50/p90"):
        model.add_column(column, justify="right")
    for priority, row in drive["by_priority"].items():
        model.add_row(priority, f"{row['rows']:,}", f"{row['overhead_s']:.0f}",
                      f"{row['factor']:.2f}", f"{row['median_abs_error_s']:.0f}",
                      " / ".join(f"{v:.2f}" for v in row["residual_p10_p50_p90"]))
    out.print(model)


def _quantile(duration: dict[str, Any], q: float) -> float:
    """Return the q-quantile of an empirical duration, in minutes."""
    return float(np.interp(q, duration["p"], duration["quantiles_s"])) / 60.0


def _median(duration: dict[str, Any]) -> float:
    return _quantile(duration, 0.5)


def print_check(check: dict[str, Any]) -> None:
    """Print recorded against simulated p50 and p90, overall and by priority and unit type."""
    calls = check["calls"]
    print(f"{calls['replayed']:,} calls replayed; without a unit on scene: "
          f"{calls['recorded_without_unit_on_scene']:,} recorded, "
          f"{calls['simulated_without_unit_on_scene']:,} simulated"
          + (" (compared to the minute, as logged)" if check["compared_to_the_minute"] else ""))
    table = Table(title="Recorded vs simulated (min; ratio simulated/recorded, 95% CI)")
    for column in ("measure", "group", "calls", "p50 rec", "p50 sim", "ratio", "p90 rec",
                   "p90 sim", "ratio"):
        table.add_column(column, justify="right")
    for measure, label in LABELS.items():
        figures = check["figures"][measure]
        groups = [("all", figures["overall"])]
        groups += [(f"priority {p}", g) for p, g in figures["by_priority"].items()]
        if measure == "response_s":
            groups += [(f"first {k.lower()}", g)
                       for k, g in figures["by_first_unit_type"].items()]
        for name, group in groups:
            if "p50" not in group or group["n_recorded"] < MIN_CALLS_SHOWN:
                continue
            table.add_row(label, name, f"{group['n_recorded']:,}",
                          *_cells(group["p50"]), *_cells(group["p90"]))
            label = ""
    stdout_console().print(table)


def _cells(figure: dict[str, Any]) -> list[str]:
    ci = figure["ratio_ci"]
    ratio = "-" if figure["ratio"] is None else (
        f"{figure['ratio']:.2f}" + (f" [{ci[0]:.2f}-{ci[1]:.2f}]" if ci else ""))
    return [f"{figure['recorded'] / 60:.1f}", f"{figure['simulated'] / 60:.1f}", ratio]
