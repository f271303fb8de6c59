"""The command line: ``gridsim`` and its sub-commands (see ``gridsim --help``).

Bad input of any kind prints one line (what, where, how to fix) and exits with code 2.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Sequence
from dataclasses import asdict
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeRemainingColumn,
)
from rich.table import Table

from gridsim.api import default_out_dir, run, scenario_digest, write_results
from gridsim.bench import BENCH_KEYS, GOALS, BenchPlan, check_goals, run_bench
from gridsim.cli.parser import (
    EXIT_BAD_INPUT,
    EXIT_GOAL_MISSED,
    EXIT_INTERRUPTED,
    EXIT_OK,
    build_parser,
)
from gridsim.cli.tables import (
    print_calibration,
    print_fraud,
    print_search,
    print_sensitivity,
    print_summary,
    print_sweep,
    stdout_console,
)
from gridsim.errors import InputError
from gridsim.executors import make_executor
from gridsim.experiment import replicate
from gridsim.guard import check_resources
from gridsim.metrics import run_warnings
from gridsim.output import (
    GENERATOR,
    add_to_manifest,
    bytes_writer,
    check_output_file,
    check_output_folder,
    json_writer,
    parquet_writer,
    write_bytes_atomic,
    write_folder,
    write_text_atomic,
)
from gridsim.regress import (
    DEFAULT_BASELINE_REPLICATIONS,
    DEFAULT_CHECK_REPLICATIONS,
    check_scenario,
    load_baseline,
    make_baseline,
    write_baseline,
    write_junit,
)
from gridsim.regress import compare as compare_to_baseline
from gridsim.report.figures import png_bytes, sweep_figure, time_to_find_cdf
from gridsim.report.html import write_report
from gridsim.report.map_page import write_map_page
from gridsim.report.results import read_results
from gridsim.report.verify_figure import save_verify_figure
from gridsim.scenario import Scenario, load_scenario
from gridsim.scenario.load import parse_scenario, read_scenario_text
from gridsim.search.study import (
    STRATEGIES,
    build_study,
    heldout_mapscores,
    run_replications,
    summarize_study,
)
from gridsim.sensitivities import SENSITIVITY_METRICS, design_size, parse_factors, sensitivity
from gridsim.staffing import Point as OptimizePoint
from gridsim.staffing import optimize, parse_target, parse_vary
from gridsim.sweeps import parse_sweeps, sweep
from gridsim.verify import compare, default_cases, run_case
from gridsim.world import World, build_world


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
            return _bench(args, console)
        if args.command == "verify":
            return _verify(args, console)
        if args.command == "regress":
            return _regress(args, console)
        if args.command == "sweep":
            return _sweep(args, console)
        if args.command == "optimize":
            return _optimize(args, console)
        if args.command == "sensitivity":
            return _sensitivity(args, console)
        if args.command == "calibrate":
            return _calibrate(args)
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


class Interrupted(Exception):
    """Ctrl-C after some output was written; the message says what was."""


def warn(message: str) -> None:
    """Print one warning line on stderr."""
    print(f"gridsim: warning: {one_line(message)}", file=sys.stderr)


def one_line(message: str) -> str:
    """Return ``message`` with line breaks escaped, so an error is always one line."""
    return message.replace("\r", "\\r").replace("\n", "\\n")


def _validate(args: argparse.Namespace) -> int:
    for path in args.scenarios:
        scenario = load_scenario(path, args.overrides)
        for line in check_resources(scenario):
            warn(f"{path}: {line}")
        imported = ""
        if scenario.city.osm is not None:  # the files too: import them (cached for the run)
            source = build_world(scenario).city_source
            imported = f", {source['nodes']:,} road nodes from {Path(source['file']).name}"
        if scenario.replay is not None:
            from gridsim.calls.replay import check_replay

            imported += f", {check_replay(scenario)}"
        print(f"{path}: ok ({scenario.name}, {len(scenario.incidents)} incident types, "
              f"{scenario.duration_days:g} days{imported})")
    return EXIT_OK


def _run(args: argparse.Namespace, console: Console) -> int:
    scenario = load_scenario(args.scenario, args.overrides)
    seed = scenario.seed if args.seed is None else args.seed
    out_dir = args.out if args.out is not None else default_out_dir(scenario, seed)
    check_output_folder(out_dir)
    for line in check_resources(scenario):
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
            _report(out_dir, None, setup_s + result.wall_s, result.world)
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


def _bench(args: argparse.Namespace, console: Console) -> int:
    if args.json is not None:
        check_output_file(args.json, "--json")
    plan = BenchPlan.of(args.quick)
    figures = run_bench(plan, lambda stage: console.print(f"[dim]bench: {stage}[/dim]"))
    verdicts = check_goals(figures)
    table = Table(title="gridsim bench" + (" (quick: city_year_s extrapolated from a 1-day "
                                           f"and a {plan.year_days}-day run)" if args.quick
                                           else ""))
    for column in ("figure", "value", "goal", "met"):
        table.add_column(column, justify="left" if column == "figure" else "right")
    for key in BENCH_KEYS:
        value = figures[key]
        rows = value.items() if isinstance(value, dict) else [(None, value)]
        for sub_key, sub_value in rows:
            name = key if sub_key is None else f"{key}.{sub_key}"
            op, bound = GOALS.get(name, ("", None))
            met = verdicts.get(name)
            table.add_row(name, f"{sub_value:g}", f"{op} {bound:g}" if bound is not None else "",
                          "" if met is None else ("yes" if met else "NO"))
    stdout_console().print(table)
    if args.json is not None:
        write_text_atomic(args.json, json.dumps({"generator": GENERATOR, **figures},
                                                indent=2) + "\n")
    return EXIT_OK if all(verdicts.values()) else EXIT_GOAL_MISSED


def _verify(args: argparse.Namespace, console: Console) -> int:
    for flag, path in (("--json", args.json), ("--figure", args.figure)):
        if path is not None:
            check_output_file(path, flag)
    cases = default_cases()
    results = []
    for case in cases:
        console.print(f"[dim]verify: {case.name}, {args.replications} replications[/dim]")
        results.append(run_case(case, args.replications, args.seed))
    table_rows = compare(cases, results)
    table = Table(title=f"gridsim verify: simulated (simultaneous 95% CI, "
                        f"{args.replications} replications) vs analytic")
    for column in ("case", "metric", "analytic", "simulated", "95% CI", "ok"):
        table.add_column(column, justify="left" if column in ("case", "metric") else "right")
    for row in table_rows:
        table.add_row(row.name, row.metric, f"{row.analytic:.4g}", f"{row.simulated:.4g}",
                      f"[{row.ci_low:.4g}, {row.ci_high:.4g}]", "yes" if row.ok else "NO")
    out = stdout_console()
    out.print(table)
    for case in cases:
        if case.approx_error is not None:
            out.print(f"{case.name}: Larson (1975) approximation, largest workload error "
                      f"against the exact model: {case.approx_error:.4f}")
    if args.json is not None:
        write_text_atomic(args.json, json.dumps(
            {"generator": GENERATOR, "rows": [asdict(r) for r in table_rows]}, indent=2) + "\n")
    if args.figure is not None:
        save_verify_figure(table_rows, args.figure)
    return EXIT_OK if all(r.ok for r in table_rows) else EXIT_GOAL_MISSED


def _sweep(args: argparse.Namespace, console: Console) -> int:
    text, source = read_scenario_text(args.scenario)
    scenario = parse_scenario(text, source)
    given = parse_sweeps(args.sweeps)
    fixed = [f"{key}={values[0]}" for key, values in given if len(values) == 1]
    sweeps = [(key, values) for key, values in given if len(values) > 1]
    if not sweeps:
        raise InputError("sweep: give at least one --set key.path=value1,value2,... with two "
                         "or more values")
    seed = scenario.seed if args.seed is None else args.seed
    folder = args.out or Path(f"results/{scenario.name}-sweep")
    executor = make_executor(args.workers, args.dask)
    show = not args.quiet and console.is_terminal
    try:
        with Progress(TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(),
                      TimeRemainingColumn(), console=console, disable=not show) as progress:
            task = progress.add_task(f"{scenario.name}: runs", total=None)
            result = sweep(text, source, fixed, sweeps, args.replications, seed, executor, folder,
                           lambda done, total: progress.update(task, completed=done,
                                                               total=total))
    except KeyboardInterrupt:
        saved = len(list((folder / "runs").glob("*.json")))
        print(f"gridsim: interrupted; {saved} runs are saved in {folder}/runs; rerun the same "
              "command to finish", file=sys.stderr)
        return EXIT_INTERRUPTED
    finally:
        executor.close()
    keys = [key for key, _ in sweeps]
    print_sweep(result.summary, keys, args.ci_width)
    write_bytes_atomic(folder / "sweep.png", png_bytes(sweep_figure(result.summary, keys)))
    print(f"wrote {folder}/sweep.parquet (one row per arm x replication x metric), "
          f"{folder}/summary.parquet and {folder}/sweep.png")
    return EXIT_OK


def _sensitivity(args: argparse.Namespace, console: Console) -> int:
    from gridsim.report.sensitivity_figure import sensitivity_figure

    text, source = read_scenario_text(args.scenario)
    scenario = parse_scenario(text, source, args.overrides)
    factors = parse_factors(args.vary, scenario)
    size = design_size(args.method, args.trajectories, args.samples)
    metrics = tuple(args.metrics or SENSITIVITY_METRICS)
    seed = scenario.seed if args.seed is None else args.seed
    folder = args.out or Path(f"results/{scenario.name}-sensitivity")
    executor = make_executor(args.workers, args.dask)
    show = not args.quiet and console.is_terminal
    try:
        with Progress(TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(),
                      TimeRemainingColumn(), console=console, disable=not show) as progress:
            task = progress.add_task(f"{scenario.name}: {args.method} runs", total=None)
            result = sensitivity(text, source, args.overrides, factors, args.method, size,
                                 metrics, args.replications, seed, executor, folder,
                                 lambda done, total: progress.update(task, completed=done,
                                                                     total=total))
    except KeyboardInterrupt:
        saved = len(list((folder / "runs").glob("*.json")))
        print(f"gridsim: interrupted; {saved} runs are saved in {folder}/runs; rerun the same "
              "command to finish", file=sys.stderr)
        return EXIT_INTERRUPTED
    finally:
        executor.close()
    used = {row["metric"]: row["n"] for row in result.indices.to_pylist()}
    for metric in metrics:
        n = used.get(metric, 0)
        if n < result.blocks:
            warn(f"--metric {metric}: {result.blocks - n} of {result.blocks} "
                 f"{'trajectories' if args.method == 'morris' else 'base samples'} had a "
                 "point where no run had a value and were left out"
                 + ("; no indices" if n < 2 else ""))
    print_sensitivity(result)
    write_bytes_atomic(folder / "sensitivity.png", png_bytes(sensitivity_figure(result)))
    print(f"wrote {folder}/samples.parquet (one row per point x replication), "
          f"{folder}/indices.parquet and {folder}/sensitivity.png")
    return EXIT_OK


def _calibrate(args: argparse.Namespace) -> int:
    from gridsim.calibrate import calibrate
    from gridsim.targets import load_targets

    text, source = read_scenario_text(args.scenario)
    scenario = parse_scenario(text, source, args.overrides)
    targets = load_targets(args.targets)
    seed = scenario.seed if args.seed is None else args.seed
    folder = args.out or Path(f"results/{scenario.name}-calibration")
    if args.overrides:  # the calibration runs the scenario as given plus --set
        targets = targets.model_copy(update={"run": targets.run.model_copy(update={
            "overrides": [*args.overrides, *targets.run.overrides]})})
    executor = make_executor(args.workers, args.dask)

    def tell(line: dict[str, Any]) -> None:
        print(f"generation {line['generation']}: temperature {line['temperature']:.3g}, "
              f"{line['simulations']} parameter points, acceptance "
              f"{line['acceptance_rate']:.0%}", file=sys.stderr, flush=True)

    try:
        result = calibrate(text, source, targets, seed, executor, folder, tell)
    except KeyboardInterrupt:
        print(f"gridsim: interrupted; the generations done are saved in {folder}/abc.db; "
              "rerun the same command to go on", file=sys.stderr)
        return EXIT_INTERRUPTED
    finally:
        executor.close()
    print_calibration(result.report)
    for line in result.report["warnings"]:
        warn(line)
    print(f"wrote {folder}/calibrated.toml, calibration.json, posterior.parquet, "
          "predictive.parquet and predictive.png")
    return EXIT_OK


def _optimize(args: argparse.Namespace, console: Console) -> int:
    from gridsim.staffing import OptimizeResult

    text, source = read_scenario_text(args.scenario)
    scenario = parse_scenario(text, source, args.overrides)
    target = parse_target(args.target, scenario)
    varies = [parse_vary(v, scenario) for v in args.vary]
    if args.json is not None:
        check_output_file(args.json, "--json")
    seed = scenario.seed if args.seed is None else args.seed
    keys = [v.key for v in varies]

    def number(value: float) -> str:
        return f"{value:,.0f}" if target.seconds else f"{value:.4g}"

    def tell(point: OptimizePoint) -> None:
        levels = ", ".join(f"{k}={level}" for k, level in zip(keys, point.levels, strict=True))
        console.print(f"[dim]optimize: {levels}: mean {number(point.mean)}, bound "
                      f"{number(point.bound)}{' (meets the target)' if point.met else ''}[/dim]")

    executor = make_executor(args.workers, args.dask)
    try:
        result: OptimizeResult = optimize(text, source, target, varies, args.replications,
                                          seed, executor, args.overrides, tell)
    finally:
        executor.close()
    op = "<=" if target.upper else ">="
    one_key = len(keys) == 1
    shown = result.points if one_key else result.curve
    table = Table(title=(f"{'Evaluated levels' if one_key else 'Trade-off curve'}: "
                         f"{target.label} {op} {target.bound:g} (95% one-sided bound, "
                         f"{args.replications} replications each, the same seeds)"))
    for column in (*result.keys, f"{target.label} mean", "bound", "yearly cost", ""):
        table.add_column(column, justify="right")
    for point in shown:
        note = ("cheapest" if point is result.best else
                "meets" if point.met and one_key else "")
        table.add_row(*(f"{level:,}" for level in point.levels), number(point.mean),
                      number(point.bound), f"{point.cost:,.0f}", note)
    out = stdout_console()
    out.print(table)
    if result.violations:
        out.print(f"{len(result.violations)} non-monotone step(s): more staff, a worse mean "
                  f"by more than the paired SE over the same {args.replications} seeds:",
                  highlight=False)
        for violation in result.violations:
            out.print(f"  {violation.describe()}", highlight=False)
    else:
        out.print("no non-monotone step: no evaluated level did worse than the one below it "
                  "by more than the paired SE", highlight=False)
    failing = result.failing_above_best()
    if failing:
        out.print("more staff than the cheapest, yet failing the target: " + ", ".join(
            f"{p.levels[-1]:,}" for p in failing), highlight=False)
    runs = result.evaluations * args.replications
    out.print(f"{result.evaluations} evaluations ({runs:,} runs); every level "
              f"{'of the range' if one_key else 'of the last key at each value of the first'} "
              f"would be {result.full_grid_evaluations:,}", highlight=False)
    if args.json is not None:
        write_text_atomic(args.json, json.dumps(
            {"generator": GENERATOR, "keys": result.keys, "target": asdict(target),
             "replications": args.replications, "seeds": list(result.seeds),
             "points": [asdict(p) for p in result.points],
             "curve": [asdict(p) for p in result.curve],
             "best": None if result.best is None else asdict(result.best),
             "violations": [{**asdict(v), "text": v.describe()} for v in result.violations],
             "evaluations": result.evaluations,
             "full_grid_evaluations": result.full_grid_evaluations}, indent=2) + "\n")
    if result.best is None:
        print("no evaluated staffing meets the target; widen --vary KEY=LOW:HIGH")
        return EXIT_GOAL_MISSED
    levels = ", ".join(f"{k}={level:,}" for k, level in zip(keys, result.best.levels,
                                                             strict=True))
    out.print(f"cheapest evaluated staffing meeting the target: {levels} "
              f"({result.best.cost:,.0f} a year)", highlight=False)
    return EXIT_OK


def _report(
    folder: Path, out: Path | None, run_time_s: float | None, world: World | None = None
) -> int:
    results = read_results(folder)
    if out is not None:
        check_output_file(out, "--out")
        check_output_file(out.with_name(out.stem + "-map.html"), "--out")
    if world is None or world.scenario != results.scenario:
        world = build_world(results.scenario)
    path = write_report(results, world, out or folder / REPORT_NAME, run_time_s)
    map_path = write_map_page(results, world, folder / MAP_NAME if out is None
                              else out.with_name(out.stem + "-map.html"))
    if out is None:
        add_to_manifest(folder, REPORT_NAME)
        add_to_manifest(folder, MAP_NAME)
    print(f"wrote {path} and {map_path} (the interactive map)")
    return EXIT_OK


REPORT_NAME = "report.html"
MAP_NAME = "map.html"


def _regress(args: argparse.Namespace, console: Console) -> int:
    def replications_of(scenario: Scenario, seed: int, count: int) -> list[dict[str, Any]]:
        return replicate(scenario, count, seed, on_done=lambda k: console.print(
            f"[dim]regress: {scenario.name}, run {k}/{count}[/dim]"))

    if args.junit is not None:
        check_output_file(args.junit, "--junit")
    if args.update:
        if args.baseline.exists():
            check_output_file(args.baseline, "--baseline")
        scenario = load_scenario(args.scenario, args.overrides)
        seed = scenario.seed if args.seed is None else args.seed
        count = args.replications or DEFAULT_BASELINE_REPLICATIONS
        checks = min(DEFAULT_CHECK_REPLICATIONS, count)
        baseline = make_baseline(replications_of(scenario, seed, count),
                                 scenario_digest(scenario), scenario.name, seed, args.overrides,
                                 check_replications=checks)
        write_baseline(args.baseline, baseline)
        print(f"wrote {args.baseline}: {scenario.name}, seed {seed}, {count} replications "
              f"(a check runs {checks})")
        return EXIT_OK
    baseline = load_baseline(args.baseline)
    base_overrides = [str(o) for o in baseline["overrides"]]
    check_scenario(baseline, scenario_digest(load_scenario(args.scenario, base_overrides)),
                   args.baseline)
    scenario = load_scenario(args.scenario, [*base_overrides, *args.overrides])
    seed = baseline["seed"] if args.seed is None else args.seed
    count = args.replications or baseline["check_replications"]
    verdicts = compare_to_baseline(baseline, replications_of(scenario, seed, count))
    table = Table(title=f"gridsim regress: {scenario.name}, seed {seed}, {count} replications "
                        f"vs {baseline['replications']} in {args.baseline}")
    for column in ("metric", "baseline", "now", "change", "p(worse)", "verdict"):
        table.add_column(column, justify="left" if column in ("metric", "verdict") else "right")
    for v in verdicts:
        style = {"worse": "bold red", "better": "green"}.get(v.verdict, "")
        table.add_row(v.metric, f"{v.baseline:.4g}", f"{v.now:.4g}", f"{v.change:+.1%}",
                      f"{v.p_worse:.3g}", f"[{style}]{v.verdict}[/{style}]" if style else v.verdict)
    stdout_console().print(table)
    if args.junit is not None:
        write_junit(args.junit, scenario.name, verdicts)
    if all(v.reproduced for v in verdicts):
        print(f"the {count} runs reproduce the baseline's first {count} exactly")
    worse = [v.metric for v in verdicts if v.verdict == "worse"]
    if worse:
        print(f"worse than the baseline: {', '.join(worse)}")
        return EXIT_GOAL_MISSED
    print("no metric got worse")
    return EXIT_OK


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
    from gridsim.fraud.figures import interception_figure, sweep_figure
    from gridsim.fraud.study import case_table, run_fraud_study, summarize_study

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
