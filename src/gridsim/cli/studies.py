"""The commands that run many simulations: sweep, sensitivity, calibrate, optimize."""

from __future__ import annotations

import argparse
import json
import sys
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

from gridsim.cli.common import warn
from gridsim.cli.parser import (
    EXIT_GOAL_MISSED,
    EXIT_INTERRUPTED,
    EXIT_OK,
)
from gridsim.cli.tables import (
    print_calibration,
    print_sensitivity,
    print_sweep,
    stdout_console,
)
from gridsim.core.errors import InputError
from gridsim.core.executors import make_executor
from gridsim.core.output import (
    GENERATOR,
    check_output_file,
    write_bytes_atomic,
    write_text_atomic,
)
from gridsim.report.figures import png_bytes, sweep_figure
from gridsim.scenario.load import parse_scenario, read_scenario_text
from gridsim.studies.sensitivities import (
    SENSITIVITY_METRICS,
    design_size,
    parse_factors,
    sensitivity,
)
from gridsim.studies.staffing import Point as OptimizePoint
from gridsim.studies.staffing import optimize, parse_target, parse_vary
from gridsim.studies.sweeps import parse_sweeps, sweep


def sweep_command(args: argparse.Namespace, console: Console) -> int:
    """Run ``gridsim sweep``; return the exit code."""
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


def sensitivity_command(args: argparse.Namespace, console: Console) -> int:
    """Run ``gridsim sensitivity``; return the exit code."""
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


def calibrate_command(args: argparse.Namespace) -> int:
    """Run ``gridsim calibrate``; return the exit code."""
    # start-up: the calibration's modules load only for this command
    from gridsim.report.calibration_figure import predictive_png
    from gridsim.studies.calibrate import calibrate
    from gridsim.studies.calibration_folder import CHECKPOINT
    from gridsim.studies.targets import load_targets

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
        result = calibrate(text, source, targets, seed, executor, folder, tell, predictive_png)
    except KeyboardInterrupt:
        where = folder / CHECKPOINT
        done = (f"the finished simulations are saved in {where}" if where.exists()
                else "nothing was simulated yet")
        print(f"gridsim: interrupted; {done}; rerun the same command to go on",
              file=sys.stderr)
        return EXIT_INTERRUPTED
    finally:
        executor.close()
    print_calibration(result.report)
    for line in result.report["warnings"]:
        warn(line)
    print(f"wrote {folder}/calibrated.toml, calibration.json, posterior.parquet, "
          "predictive.parquet and predictive.png")
    return EXIT_OK


def optimize_command(args: argparse.Namespace, console: Console) -> int:
    """Run ``gridsim optimize``; return the exit code."""
    from gridsim.studies.staffing import OptimizeResult

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


