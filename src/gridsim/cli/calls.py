"""``gridsim calls fit``: fit a scenario's incident inputs to a CAD export."""

from __future__ import annotations

import argparse
import math
import sys
import time
from pathlib import Path
from typing import Any

from rich.table import Table

from gridsim.calls.fit import MIN_CALLS, fit_calls, written_mean_ci
from gridsim.calls.mapping import load_mapping
from gridsim.calls.read import CallLog, Rows, read_calls
from gridsim.calls.validate import FAR_OFF, far_off_warning
from gridsim.cli.common import warn
from gridsim.cli.parser import EXIT_OK
from gridsim.cli.tables import stdout_console
from gridsim.core.output import bytes_writer, check_output_folder, json_writer, write_folder
from gridsim.scenario import load_scenario


def calls_command(args: argparse.Namespace) -> int:
    """Run ``gridsim calls SUBCOMMAND`` (only ``fit`` for now)."""
    return calls_fit(args.log, args.mapping, args.out, args.scenario)


def calls_fit(log_path: Path, mapping_path: Path, out: Path | None,
              scenario_path: str | None) -> int:
    """Read the export, fit, write the folder and print what was found; return 0."""
    from gridsim.report.calls_figure import figure_files

    started = time.perf_counter()
    mapping = load_mapping(mapping_path)
    scenario = load_scenario(scenario_path)
    out = out if out is not None else Path("results") / f"{log_path.name.split('.')[0]}-fit"
    check_output_folder(out)
    log = read_calls(log_path, mapping, str(mapping_path))
    fit = fit_calls(log, mapping, scenario,
                    sources=(str(log_path), str(mapping_path), scenario_path or scenario.name))
    text = fit.incidents_toml
    files = {
        "incidents.toml": lambda path: path.write_text(text, encoding="utf-8"),
        "fit.json": json_writer(fit.payload),
        **{name: bytes_writer(data) for name, data in figure_files(fit).items()},
    }
    write_folder(out, files, "calls fit")
    _print(fit.log, fit.payload)
    print(f"{time.perf_counter() - started:.1f} s; wrote {out}/incidents.toml (paste into a "
          f"scenario), {out}/fit.json and {', '.join(n for n in files if n.endswith('.png'))}")
    return EXIT_OK


def _print(log: CallLog, payload: dict[str, Any]) -> None:
    period = payload["period"]
    label = "lines" if log.row_label == "line" else "rows"
    print(f"{log.source}: {log.rows_read:,} rows read, {log.calls:,} calls from "
          f"{log.rows_used:,} rows, {period['days']} days from {period['start']} "
          f"({payload['timezone']}); {payload['log']['rows_dropped']:,} rows left out:")
    for reason, rows in log.dropped.items():
        print(f"  {reason}: {_rows(rows, label)}")
    for reason, rows in log.incomplete.items():
        print(f"  kept, {reason}: {_rows(rows, label)}")
    if log.unknown_types:
        print("  unknown call types (add them to [types] or ignore_types): " + ", ".join(
            f"{t!r} ({n:,})" for t, n in log.unknown_types.items()))
    pct = round(payload["confidence"] * 100)
    table = Table(title=f"Fitted incident types ({pct}% CIs; every figure in fit.json)")
    for column in ("type", "calls", "per day", f"{pct}% CI", "priority", "on scene mean s",
                   f"{pct}% CI ", "cv", "KS", "log-normal"):
        table.add_column(column, justify="left" if column == "type" else "right")
    for name, fit in payload["types"].items():
        rate = fit["rate_per_day"]
        scene = fit["on_scene_s"]
        ln = scene.get("lognormal")
        table.add_row(
            name, f"{fit['calls']:,}", f"{rate['value']:.1f}",
            f"{rate['ci'][0]:.1f}-{rate['ci'][1]:.1f}", str(fit["priority"]["value"] or "-"),
            f"{ln['mean_s']['value']:.0f}" if ln else "-",
            f"{ln['mean_s']['ci'][0]:.0f}-{ln['mean_s']['ci'][1]:.0f}" if ln else "-",
            f"{ln['cv']['value']:.2f}" if ln else "-",
            f"{scene['ks_distance']:.3f}" if "ks_distance" in scene else "-",
            "-" if ln is None else "fits" if scene["lognormal_fits"] else
            "fits badly: quantiles in fit.json")
    out = stdout_console()
    out.print(table)
    delays = Table(title="Call handling, received to first dispatched (s; the mean and CV "
                         "written: the log-normal's when it fits)")
    for column in ("priority", "calls", "mean", f"{pct}% CI", "cv", "median", "p90", "KS"):
        delays.add_column(column, justify="right")
    for priority, fit in payload["handling_delay_s"].items():
        written = fit.get("written")
        if written is None:
            continue
        low, high = written_mean_ci(fit)
        delays.add_row(priority, f"{fit['n']:,}", f"{written['mean_s']:.1f}",
                       f"{low:.1f}-{high:.1f}" if math.isfinite(low) else "-",
                       f"{written['cv']:.2f}",
                       f"{fit['quantiles_s']['p50']['value']:.0f}",
                       f"{fit['quantiles_s']['p90']['value']:.0f}",
                       f"{fit['ks_distance']:.3f}" if "ks_distance" in fit else "-")
    out.print(delays)
    few = [f"{n} ({t['calls']})" for n, t in payload["types"].items() if t["calls"] < MIN_CALLS]
    if few:
        print(f"gridsim: warning: fewer than {MIN_CALLS} calls behind {', '.join(few)}: "
              "their fits are rough (see the CIs)", file=sys.stderr)
    rough = [f"{p} ({fit['n']})" for p, fit in payload["handling_delay_s"].items()
             if fit.get("rough")]
    if rough:
        warn(f"fewer than {MIN_CALLS} calls with both times behind the handling delay of "
             f"priority {', '.join(rough)}: rough (see the CIs in fit.json)")
    if FAR_OFF in log.dropped:
        far = log.dropped[FAR_OFF]
        warn(far_off_warning(far.n, far.first, log.row_label))


def _rows(rows: Rows, label: str) -> str:
    shown = ", ".join(str(r) for r in rows.first)
    more = ", ..." if rows.n > len(rows.first) else ""
    return f"{rows.n:,} rows ({label} {shown}{more})"
