"""The commands that run many simulations: sweep, sensitivity, calibrate, optimize."""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections.abc import Callable
from dataclasses import asdict
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeRemainingColumn,
)
from rich.table import Table

from gridsim.cli.common import Interrupted, warn
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
from gridsim.core.errors import InputError, OutputError
from gridsim.core.executors import make_executor
from gridsim.core.output import (
    GENERATOR,
    check_output_file,
    write_marked,
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
    keys = [key for key, _ in sweeps]
    state = _RunState(folder, r"arm\d{4,}-rep\d{4,}\.json",
                      ["sweep.parquet", "summary.parquet", "sweep.png"])
    try:
        with Progress(TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(),
                      TimeRemainingColumn(), console=console, disable=not show) as progress:
            checks = progress.add_task(f"{scenario.name}: checking the arms", total=None)
            task = progress.add_task(f"{scenario.name}: runs", total=None, visible=False)

            def checked(done: int, total: int) -> None:
                progress.update(checks, completed=done, total=total)

            report_runs = state.reporter(progress, task)

            def ran(done: int, total: int) -> None:
                progress.update(checks, visible=False)
                progress.update(task, visible=True)
                report_runs(done, total)

            result = sweep(text, source, fixed, sweeps, args.replications, seed, executor, folder,
                           ran, warn, checked)
        write_marked(folder / "sweep.png", png_bytes(sweep_figure(result.summary, keys)))
        print_sweep(result.summary, keys, args.ci_width)
    except KeyboardInterrupt:
        print(f"gridsim: interrupted; {state.describe()}", file=sys.stderr)
        return EXIT_INTERRUPTED
    except OutputError as exc:
        raise OutputError(f"{exc}; {state.saved_runs()}") from None
    finally:
        executor.close()
    print(f"wrote {folder}/sweep.parquet (one row per arm x replication x metric), "
          f"{folder}/summary.parquet and {folder}/sweep.png")
    return EXIT_OK


class _RunState:
    """What a study that saves as it goes has written so far: for an interrupt's message."""

    def __init__(self, folder: Path, runs: str, outputs: list[str]) -> None:
        """Watch ``folder``: run files named as ``runs`` (a regex) and the final ``outputs``."""
        self.folder, self.runs, self.outputs = folder, runs, outputs
        self.before = {name: _identity(folder / name) for name in outputs}
        self.total: int | None = None

    def reporter(self, progress: Progress, task: TaskID) -> Callable[[int, int], None]:
        """Return the progress callback: moves the bar and notes the total of runs."""
        def report(done: int, total: int) -> None:
            self.total = total
            progress.update(task, completed=done, total=total)

        return report

    def saved_runs(self) -> str:
        """Return e.g. '12 of 20 runs are saved in F/runs (rerun the same command to go on)'."""
        try:
            saved = sum(1 for p in (self.folder / "runs").iterdir()
                        if re.fullmatch(self.runs, p.name))
        except OSError:
            saved = 0
        of = "" if self.total is None else f" of {self.total:,}"
        return (f"{saved:,}{of} runs are saved in {self.folder}/runs (rerun the same command "
                "to go on)")

    def describe(self) -> str:
        """Return what was written and what was not, and how to finish."""
        written = [name for name in self.outputs
                   if _identity(self.folder / name) not in (None, self.before[name])]
        missing = [name for name in self.outputs if name not in written]
        if not missing:
            return f"everything was written: {', '.join(written)} in {self.folder}/"
        return (f"{self.saved_runs().removesuffix(' (rerun the same command to go on)')}; "
                + (f"written: {', '.join(written)}; " if written else "")
                + f"not written: {', '.join(missing)}; rerun the same command to finish "
                "(saved runs are not run again)")


def _identity(path: Path) -> tuple[int, int] | None:
    """Return (inode, mtime in ns) of ``path``, None if absent: a new write changes it.

    Outputs are replaced atomically, by a new file: its inode differs from the old one's.
    """
    try:
        info = path.stat()
    except OSError:
        return None
    return info.st_ino, info.st_mtime_ns


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
    state = _RunState(folder, r"point\d{6,}-rep\d{4,}\.json",
                      ["samples.parquet", "indices.parquet", "sensitivity.png"])
    try:
        with Progress(TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(),
                      TimeRemainingColumn(), console=console, disable=not show) as progress:
            task = progress.add_task(f"{scenario.name}: {args.method} runs", total=None)
            result = sensitivity(text, source, args.overrides, factors, args.method, size,
                                 metrics, args.replications, seed, executor, folder,
                                 state.reporter(progress, task), warn)
        write_marked(folder / "sensitivity.png", png_bytes(sensitivity_figure(result)))
        used = {row["metric"]: row["n"] for row in result.indices.to_pylist()}
        for metric in metrics:
            n = used.get(metric, 0)
            if n < result.blocks:
                warn(f"--metric {metric}: {result.blocks - n} of {result.blocks} "
                     f"{'trajectories' if args.method == 'morris' else 'base samples'} had a "
                     "point where no run had a value and were left out"
                     + ("; no indices" if n < 2 else ""))
        print_sensitivity(result)
    except KeyboardInterrupt:
        print(f"gridsim: interrupted; {state.describe()}", file=sys.stderr)
        return EXIT_INTERRUPTED
    except OutputError as exc:
        raise OutputError(f"{exc}; {state.saved_runs()}") from None
    finally:
        executor.close()
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
        write_marked(args.json, (json.dumps(
            {"generator": GENERATOR, "keys": result.keys, "target": asdict(target),
             "replications": args.replications, "seeds": list(result.seeds),
             "points": [asdict(p) for p in result.points],
             "curve": [asdict(p) for p in result.curve],
             "best": None if result.best is None else asdict(result.best),
             "violations": [{**asdict(v), "text": v.describe()} for v in result.violations],
             "evaluations": result.evaluations,
             "full_grid_evaluations": result.full_grid_evaluations}, indent=2) + "\n"
                                 ).encode("utf-8"))
    try:
        if result.best is None:
            print("no evaluated staffing meets the target; widen --vary KEY=LOW:HIGH")
            return EXIT_GOAL_MISSED
        levels = ", ".join(f"{k}={level:,}" for k, level in zip(keys, result.best.levels,
                                                                 strict=True))
        out.print(f"cheapest evaluated staffing meeting the target: {levels} "
                  f"({result.best.cost:,.0f} a year)", highlight=False)
    except KeyboardInterrupt:
        raise Interrupted(f"{args.json} was written" if args.json else
                          "nothing was written") from None
    return EXIT_OK


