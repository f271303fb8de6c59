"""``gridsim calls fit`` and ``calls check``: fit a scenario to a CAD export, and check it."""

from __future__ import annotations

import argparse
import datetime
import math
import sys
import time
from pathlib import Path
from typing import Any

from pydantic import ValidationError
from rich.table import Table

from gridsim.calls.check import run_check
from gridsim.calls.fit import MIN_CALLS, fit_calls, locator_of, world_locator, written_mean_ci
from gridsim.calls.fleet_fit import fit_fleets
from gridsim.calls.mapping import Mapping, Period, load_mapping
from gridsim.calls.read import CallLog, Rows, read_calls
from gridsim.calls.scenario_out import fitted_scenario_text
from gridsim.calls.validate import FAR_OFF, far_off_warning
from gridsim.cli.check_tables import print_check, print_fleets
from gridsim.cli.common import Interrupted, warn
from gridsim.cli.parser import EXIT_OK
from gridsim.cli.tables import stdout_console
from gridsim.core.errors import InputError
from gridsim.core.output import (
    Writer,
    bytes_writer,
    check_output_folder,
    json_writer,
    write_folder,
)
from gridsim.report.calls_figure import figure_files
from gridsim.report.check_figure import check_figures
from gridsim.scenario import load_scenario
from gridsim.scenario.load import parse_scenario, read_scenario_text
from gridsim.world.build import build_world


def calls_command(args: argparse.Namespace) -> int:
    """Run ``gridsim calls fit`` or ``gridsim calls check``."""
    if args.calls_command == "check":
        return calls_check(args.scenario, args.log, args.mapping, args.period, args.out)
    return calls_fit(args.log, args.mapping, args.out, args.scenario, args.period)


def calls_fit(log_path: Path, mapping_path: Path, out: Path | None,
              scenario_path: str | None, period: str | None = None) -> int:
    """Read the export, fit, write the folder and print what was found; return 0."""
    started = time.perf_counter()
    mapping = with_period(load_mapping(mapping_path), period)
    text, source = read_scenario_text(scenario_path)
    scenario = parse_scenario(text, source)
    out = out if out is not None else Path("results") / f"{log_path.name.split('.')[0]}-fit"
    check_output_folder(out)
    log = read_calls(log_path, mapping, str(mapping_path))
    # an imported city's world is built once: it locates the calls and routes the drives
    world = build_world(scenario) if scenario.city.osm is not None else None
    locator = world_locator(world, "--scenario") if world is not None else locator_of(scenario)
    fit = fit_calls(log, mapping, scenario, locator=locator,
                    sources=(str(log_path), str(mapping_path), scenario_path or scenario.name))
    incidents_text = fit.incidents_toml
    payload = dict(fit.payload)
    files: dict[str, Writer] = {
        "incidents.toml": bytes_writer(incidents_text.encode("utf-8"))}
    fleets = None
    on_the_map = not fit.payload["needs_the_map"]
    if fit.log.units is not None and mapping.columns.unit_type is not None:
        if not on_the_map:
            world = None
        elif world is None and scenario.city.explicit is None:  # a synthetic city
            world = build_world(scenario)
        node = locator.nearest(fit.log.lat, fit.log.lon)[0] if world is not None else None
        fleets = fit_fleets(fit.log, mapping, world, node)
        payload["fleets"] = fleets
    needs = [*fit.payload["needs_the_map"], *(fleets or {}).get("needs_the_map", [])]
    if needs:
        warn("fitted without the city's map: " + "; ".join(needs) + "; scenario.toml is "
             "written once --scenario names the log's city")
    elif fleets is None or fleets["unit_dispatch"].get("travel_by_priority"):
        header = [f"Written by gridsim calls fit from {log_path.name} ({payload['period']['start']}"
                  f" to {payload['period']['end']}, end excluded) read with "
                  f"{mapping_path.name}, on the city of {Path(source).name}.",
                  "Every FITTED figure's calls and CIs are in the fit.json written with it; "
                  "run it with: gridsim run scenario.toml"]
        try:
            scenario_text = fitted_scenario_text(text, source, out.absolute(),
                                                 incidents_text, fleets, header)
            files["scenario.toml"] = bytes_writer(scenario_text.encode("utf-8"))
        except InputError as exc:  # the fit stands; only the merged scenario is missing
            warn(f"scenario.toml not written: the fitted incidents do not fit "
                 f"{Path(source).name} as they are ({exc}); paste incidents.toml by hand")
    files["fit.json"] = json_writer(payload)
    files.update({name: bytes_writer(data) for name, data in figure_files(fit).items()})
    write_folder(out, files, "calls fit")
    written = ("scenario.toml (runnable), " if "scenario.toml" in files else
               "incidents.toml (paste into a scenario), ")
    try:
        _print(fit.log, fit.payload)
        if fleets is not None:
            print_fleets(fleets)
    except KeyboardInterrupt:
        raise Interrupted(f"the fit was written to {out}/ ({written}fit.json and the "
                          "figures)") from None
    print(f"{time.perf_counter() - started:.1f} s; wrote {out}/: {written}fit.json and "
          f"{', '.join(n for n in files if n.endswith('.png'))}")
    return EXIT_OK


def calls_check(scenario_path: str, log_path: Path, mapping_path: Path, period: str | None,
                out: Path | None) -> int:
    """Replay the log through the scenario, print recorded against simulated; return 0."""
    started = time.perf_counter()
    mapping = with_period(load_mapping(mapping_path), period)
    scenario = load_scenario(scenario_path)
    out = out if out is not None else Path("results") / f"{scenario.name}-check"
    check_output_folder(out)
    check = run_check(scenario, log_path, mapping_path, mapping)
    files: dict[str, Writer] = {"check.json": json_writer(check)}
    files.update({name: bytes_writer(data) for name, data in check_figures(check).items()})
    write_folder(out, files, "calls check")
    try:
        print_check(check)
    except KeyboardInterrupt:
        raise Interrupted(f"the check was written to {out}/ (check.json and the figures)"
                          ) from None
    print(f"{time.perf_counter() - started:.1f} s; wrote {out}/: "
          f"{', '.join(files)}")
    return EXIT_OK


def with_period(mapping: Mapping, period: str | None) -> Mapping:
    """Return ``mapping`` with ``--period START..END`` (local dates, END excluded) set."""
    if period is None:
        return mapping
    start, sep, end = period.partition("..")
    try:
        if not sep:
            raise ValueError("no '..'")
        given = Period(start=datetime.date.fromisoformat(start.strip()),
                       end=datetime.date.fromisoformat(end.strip()))
    except (ValueError, ValidationError):
        raise InputError(f"--period {period!r}: expected START..END as dates, e.g. "
                         "2018-07-01..2019-01-01 (END is the first day left out)") from None
    return mapping.model_copy(update={"period": given})


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
