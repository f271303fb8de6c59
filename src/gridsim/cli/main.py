"""The command line: ``gridsim`` and its sub-commands (see ``gridsim --help``).

Bad input of any kind prints one line (what, where, how to fix) and exits with code 2.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Sequence
from pathlib import Path

from rich.console import Console
from rich.progress import (
    BarColumn,
    Progress,
    TextColumn,
    TimeRemainingColumn,
)

from gridsim.analysis.metrics import run_warnings
from gridsim.api import default_out_dir, run, write_results
from gridsim.cli.common import Interrupted, one_line, warn
from gridsim.cli.parser import (
    EXIT_BAD_INPUT,
    EXIT_INTERRUPTED,
    EXIT_OK,
    build_parser,
)
from gridsim.cli.studies import (
    calibrate_command,
    optimize_command,
    sensitivity_command,
    sweep_command,
)
from gridsim.cli.tables import (
    print_fraud,
    print_search,
    print_summary,
    stdout_console,
)
from gridsim.cli.tools import bench_command, regress_command, verify_command
from gridsim.core.errors import InputError, OutputError
from gridsim.core.output import (
    add_to_manifest,
    bytes_writer,
    check_output_file,
    check_output_folder,
    check_replaceable,
    json_writer,
    parquet_writer,
    write_folder,
)
from gridsim.report.figures import png_bytes, time_to_find_cdf
from gridsim.report.html import write_report
from gridsim.report.map_page import write_map_page
from gridsim.report.results import check_against_world, read_results
from gridsim.scenario import Scenario, load_scenario
from gridsim.scenario.guard import check_resources
from gridsim.scenario.rosters import roster_warnings
from gridsim.studies.search.study import (
    STRATEGIES,
    build_study,
    heldout_mapscores,
    run_replications,
    summarize_study,
)
from gridsim.world.build import World, build_world


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the exit code."""
    try:
        args = build_parser().parse_args(argv)
    except SystemExit as exc:  # --help, or a bad flag (one line printed already)
        return exc.code if isinstance(exc.code, int) else EXIT_BAD_INPUT
    console = Console(stderr=True, soft_wrap=True)  # progress notes: one line each
    try:
        if args.command == "validate":
            return _validate(args)
        if args.command == "bench":
            return bench_command(args, console)
        if args.command == "verify":
            return verify_command(args, console)
        if args.command == "regress":
            return regress_command(args, console)
        if args.command == "sweep":
            return sweep_command(args, console)
        if args.command == "optimize":
            return optimize_command(args, console)
        if args.command == "sensitivity":
            return sensitivity_command(args, console)
        if args.command == "calibrate":
            return calibrate_command(args)
        if args.command == "report":
            return _report(args.results, args.out, None)
        if args.command == "place":
            from gridsim.cli.place import place_command

            return place_command(args, console)
        if args.command == "calls":
            from gridsim.cli.calls import calls_command

            return calls_command(args)
        return _run(args, console)
    except InputError as exc:
        print(f"gridsim: error: {one_line(str(exc))}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except Interrupted as exc:
        print(f"gridsim: interrupted; {exc}", file=sys.stderr)
        return EXIT_INTERRUPTED
    except KeyboardInterrupt:
        print("gridsim: interrupted; nothing was written", file=sys.stderr)
        return EXIT_INTERRUPTED


def _validate(args: argparse.Namespace) -> int:
    for path in args.scenarios:
        scenario = load_scenario(path, args.overrides)
        for line in [*check_resources(scenario), *roster_warnings(scenario)]:
            warn(f"{path}: {line}")
        imported = ""
        if scenario.city.osm is not None:  # the files too: import them (cached for the run)
            source = build_world(scenario).city_source
            imported = f", {source['nodes']:,} road nodes from {Path(source['file']).name}"
        if scenario.replay is not None:  # the run's checks: the calls snapped to its roads
            from gridsim.calls.replay import check_replay

            replayed, warnings = check_replay(scenario)
            for line in warnings:
                warn(f"{path}: {line}")
            imported += f", {replayed}"
        print(f"{path}: ok ({scenario.name}, {len(scenario.incidents)} incident types, "
              f"{scenario.duration_days:g} days{imported})")
    return EXIT_OK


def _run(args: argparse.Namespace, console: Console) -> int:
    scenario = load_scenario(args.scenario, args.overrides)
    seed = scenario.seed if args.seed is None else args.seed
    out_dir = args.out if args.out is not None else default_out_dir(scenario, seed)
    check_output_folder(out_dir)
    for line in [*check_resources(scenario), *roster_warnings(scenario)]:
        warn(line)
    if scenario.missing_person is not None:
        return _run_search(scenario, seed, out_dir, args.quiet)
    if scenario.fraud is not None:
        return _run_fraud(scenario, seed, out_dir, args.quiet)
    show_progress = not args.quiet and console.is_terminal
    with Progress(
        TextColumn("[bold]{task.description}"), BarColumn(), TextColumn("{task.percentage:>3.0f}%"),
        TimeRemainingColumn(), console=console, disable=not show_progress, transient=True,
    ) as progress:
        task = progress.add_task(f"{scenario.name}: building the world (cached after the "
                                 "first time)", total=None)
        started = time.perf_counter()
        world = build_world(scenario)
        setup_s = time.perf_counter() - started
        progress.update(task, description=f"{scenario.name}: simulating", total=1.0)
        result = run(scenario, seed, world=world,
                     progress=lambda done: progress.update(task, completed=done))
    write_results(result, out_dir)
    try:
        for line in run_warnings(result.summary):
            warn(line)
        if args.report:
            try:
                _report(out_dir, None, setup_s + result.wall_s, result.world)
            except OutputError as exc:
                raise OutputError(f"the results were written to {out_dir}/ but not the "
                                  f"report: {exc} (gridsim report {out_dir} draws it)") from None
        if not args.quiet:
            print_summary(result.summary, stdout_console())
            replay = result.summary.get("replay")
            if replay is not None:  # how far the simulation is from the log
                line = replay["comparison"]["response_s"]["overall"]
                print(f"replayed {replay['calls_used']:,} logged calls ({replay['mode']}); "
                      f"response recorded vs simulated: p50 {line['recorded']['p50']:.0f} vs "
                      f"{line['simulated']['p50']:.0f} s, p90 {line['recorded']['p90']:.0f} vs "
                      f"{line['simulated']['p90']:.0f} s (n {line['n']:,})")
            print(f"setup {setup_s:.2f} s, run {result.wall_s:.2f} s; results in {out_dir}/")
    except KeyboardInterrupt:
        raise Interrupted(f"the results were written to {out_dir}/"
                          + (" (report.html may be missing)" if args.report else "")) from None
    return EXIT_OK


def _report(
    folder: Path, out: Path | None, run_time_s: float | None, world: World | None = None
) -> int:
    results = read_results(folder)
    if out is not None:
        report_path, map_path = out, out.with_name(out.stem + "-map.html")
        for path in (report_path, map_path):
            check_output_file(path, "--out")
    else:  # beside the results, where a user may have put files of their own
        report_path, map_path = folder / REPORT_NAME, folder / MAP_NAME
        for path in (report_path, map_path):
            check_replaceable(path, REPORT_FIX)
    if world is None or world.scenario != results.scenario:
        check_resources(results.scenario)  # scenario.json may have been edited
        world = build_world(results.scenario)
    check_against_world(results, world)
    try:
        write_report(results, world, report_path, run_time_s, REPORT_FIX)
        try:
            if out is None:
                add_to_manifest(folder, REPORT_NAME)
            write_map_page(results, world, map_path, REPORT_FIX)
            if out is None:
                add_to_manifest(folder, MAP_NAME)
        except KeyboardInterrupt:
            raise Interrupted(f"{report_path} was written, {map_path} was not; run gridsim "
                              "report again for the map") from None
    except (KeyError, IndexError, TypeError, ValueError, AttributeError) as exc:
        # the files passed read_results' checks yet do not fit together (hand-edited?)
        detail = f"{type(exc).__name__}: {exc}"[:160]
        raise InputError(f"{folder}: the report cannot be drawn from these results "
                         f"({detail}); run the scenario again") from None
    print(f"wrote {report_path} and {map_path} (the interactive map)")
    return EXIT_OK


REPORT_NAME = "report.html"
MAP_NAME = "map.html"
REPORT_FIX = "move it away, or write the report elsewhere with --out FILE"


def _run_search(scenario: Scenario, seed: int, out_dir: Path, quiet: bool) -> int:
    started = time.perf_counter()
    study = build_study(build_world(scenario))
    rows = run_replications(study, seed=seed)
    spec = scenario.missing_person
    assert spec is not None
    summary = {"scenario": scenario.name, "seed": seed,
               **summarize_study(rows, spec, heldout_mapscores(study, seed))}
    strategies = list(STRATEGIES)
    figure = png_bytes(time_to_find_cdf(rows, strategies, spec.horizon_h))
    write_folder(out_dir, {
        "summary.json": json_writer(summary),
        "scenario.json": json_writer(scenario.model_dump(mode="json")),
        "search.parquet": parquet_writer({
            key: [r[key] for r in rows] for key in rows[0]} if rows else {}),
        "time_to_find_cdf.png": bytes_writer(figure),
    }, "run")
    if not quiet:
        print_search(summary)
    print(f"{len(rows)} runs in {time.perf_counter() - started:.1f} s; results in {out_dir}/")
    return EXIT_OK


def _run_fraud(scenario: Scenario, seed: int, out_dir: Path, quiet: bool) -> int:
    from gridsim.report.fraud_figure import interception_figure, sweep_figure
    from gridsim.studies.fraud.study import case_table, run_fraud_study, summarize_study

    started = time.perf_counter()
    spec = scenario.fraud
    assert spec is not None
    study = run_fraud_study(build_world(scenario), seed=seed)
    summary = {"scenario": scenario.name, "seed": seed, **summarize_study(study, spec)}
    cases = case_table(study.base)
    write_folder(out_dir, {
        "summary.json": json_writer(summary),
        "scenario.json": json_writer(scenario.model_dump(mode="json")),
        "fraud.parquet": parquet_writer(cases),
        "loss_prevented_sweeps.png": bytes_writer(png_bytes(sweep_figure(summary))),
        "interception_by_channel_hour.png": bytes_writer(png_bytes(
            interception_figure(summary))),
    }, "run")
    if not quiet:
        print_fraud(summary)
    runs = len(study.base) + sum(len(r) for _, _, r in study.sweeps)
    print(f"{runs} replications in {time.perf_counter() - started:.1f} s; results in "
          f"{out_dir}/")
    return EXIT_OK
