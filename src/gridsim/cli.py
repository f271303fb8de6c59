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
from typing import Any, NoReturn

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
from gridsim.errors import InputError
from gridsim.executors import make_executor
from gridsim.experiment import replicate
from gridsim.optimize import Point as OptimizePoint
from gridsim.optimize import optimize, parse_target, parse_vary
from gridsim.output import (
    bytes_writer,
    json_writer,
    parquet_writer,
    write_bytes_atomic,
    write_folder,
    write_text_atomic,
)
from gridsim.regress import (
    DEFAULT_REPLICATIONS,
    check_scenario,
    load_baseline,
    make_baseline,
    write_baseline,
    write_junit,
)
from gridsim.regress import compare as compare_to_baseline
from gridsim.report.figures import png_bytes, sweep_figure, time_to_find_cdf
from gridsim.report.html import write_report
from gridsim.report.results import read_results
from gridsim.report.verify_figure import save_verify_figure
from gridsim.scenario import Scenario, load_scenario
from gridsim.scenario.load import parse_scenario, read_scenario_text
from gridsim.search.study import STRATEGIES, run_study, summarize_study
from gridsim.sweeps import parse_sweeps, replications_needed, sweep
from gridsim.verify import compare, default_cases, run_case
from gridsim.world import World, build_world

EXIT_OK, EXIT_GOAL_MISSED, EXIT_BAD_INPUT, EXIT_INTERRUPTED = 0, 1, 2, 130


class _Parser(argparse.ArgumentParser):
    """An argument parser whose errors are one line and exit code 2."""

    def error(self, message: str) -> NoReturn:
        """Print one line naming the problem and how to get help, then exit 2."""
        self.exit(EXIT_BAD_INPUT, f"gridsim: error: {message} (see '{self.prog} --help')\n")


def build_parser() -> argparse.ArgumentParser:
    """Return the parser of every ``gridsim`` sub-command."""
    parser = _Parser(prog="gridsim", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    run_cmd = sub.add_parser("run", help="run a scenario once and write a results folder")
    run_cmd.add_argument(
        "scenario", nargs="?", help="scenario TOML (default: the embedded Nanjing scenario)"
    )
    _add_overrides(run_cmd)
    run_cmd.add_argument("--seed", type=int, help="run seed (default: the scenario's seed)")
    run_cmd.add_argument("--out", type=Path, help="results folder (default: scenario output.dir)")
    run_cmd.add_argument("--quiet", action="store_true", help="no progress bar and no table")
    run_cmd.add_argument("--report", action="store_true",
                         help="also write report.html (figures and tables) in the folder")

    report_cmd = sub.add_parser("report", help="write the HTML report of a results folder")
    report_cmd.add_argument("results", type=Path, help="a folder written by gridsim run")
    report_cmd.add_argument("--out", type=Path, help="HTML file (default: RESULTS/report.html)")

    bench_cmd = sub.add_parser(
        "bench", help="time gridsim against bare simpy and the naive design (exit 1: goal missed)"
    )
    bench_cmd.add_argument("--quick", action="store_true",
                           help="14-day year (extrapolated) and 7-day ratio runs")
    bench_cmd.add_argument("--json", type=Path, metavar="FILE", help="also write the figures here")

    verify_cmd = sub.add_parser(
        "verify", help="compare the engine with Erlang C and the hypercube model (exit 1: a miss)"
    )
    verify_cmd.add_argument("--replications", type=_positive_int, default=20, metavar="R",
                            help="replications per case (default 20, at least 2)")
    verify_cmd.add_argument("--seed", type=int, default=2024, help="root seed (default 2024)")
    verify_cmd.add_argument("--json", type=Path, metavar="FILE", help="also write the table here")
    verify_cmd.add_argument("--figure", type=Path, metavar="PNG",
                            help="also draw simulated against analytic, with the CIs")

    sweep_cmd = sub.add_parser(
        "sweep", help="run a scenario over settings x replications (common random numbers)"
    )
    sweep_cmd.add_argument("scenario", help="scenario TOML")
    sweep_cmd.add_argument(
        "--set", dest="sweeps", action="append", default=[], metavar="KEY.PATH=V1,V2,...",
        help="a setting and its values (repeatable; arms are the cartesian product of the "
             "settings with two or more values; a single value applies to every arm)",
    )
    sweep_cmd.add_argument("--replications", type=_positive_int, default=10, metavar="R",
                           help="replications per arm (default 10)")
    sweep_cmd.add_argument("--seed", type=int, help="root seed (default: the scenario's)")
    sweep_cmd.add_argument("--workers", type=int, metavar="N",
                           help="worker processes (default: one per core; 1 = this process)")
    sweep_cmd.add_argument("--dask", metavar="ADDRESS",
                           help="run on Dask: tcp://host:8786, or 'local' for a LocalCluster")
    sweep_cmd.add_argument("--out", type=Path,
                           help="folder (default results/NAME-sweep); rerunning resumes it")
    sweep_cmd.add_argument("--ci-width", type=float, metavar="REL",
                           help="wanted CI half-width relative to the mean, e.g. 0.05; says "
                                "how many replications a wider metric needs")
    sweep_cmd.add_argument("--quiet", action="store_true", help="no progress bar")

    optimize_cmd = sub.add_parser(
        "optimize", help="find the cheapest staffing that meets a response target"
    )
    optimize_cmd.add_argument("scenario", help="scenario TOML")
    optimize_cmd.add_argument("--target", required=True,
                              help="e.g. 'p90_first_arrival_s<=300' (one-sided 95%% bound)")
    optimize_cmd.add_argument("--vary", action="append", required=True,
                              metavar="KEY[=LOW:HIGH]",
                              help="a staffing level to search (once or twice)")
    optimize_cmd.add_argument("--replications", type=_positive_int, default=10, metavar="R",
                              help="replications per evaluation (default 10)")
    optimize_cmd.add_argument("--seed", type=int, help="root seed (default: the scenario's)")
    optimize_cmd.add_argument("--workers", type=int, metavar="N",
                              help="worker processes (default: one per core)")
    optimize_cmd.add_argument("--dask", metavar="ADDRESS", help="tcp://host:8786 or local")
    optimize_cmd.add_argument("--json", type=Path, metavar="FILE",
                              help="also write the curve here")
    _add_overrides(optimize_cmd)

    regress_cmd = sub.add_parser(
        "regress", help="compare response metrics with a baseline (exit 1: something got worse)"
    )
    regress_cmd.add_argument("scenario", help="scenario TOML")
    regress_cmd.add_argument("--baseline", type=Path, required=True, metavar="FILE",
                             help="baseline JSON (written by --update)")
    regress_cmd.add_argument("--junit", type=Path, metavar="FILE",
                             help="also write JUnit XML, one test case per metric")
    regress_cmd.add_argument("--update", action="store_true",
                             help="run the scenario and write a new baseline instead")
    regress_cmd.add_argument("--seed", type=int,
                             help="root seed (default: the baseline's; with --update the "
                                  "scenario's)")
    regress_cmd.add_argument("--replications", type=_positive_int, metavar="R",
                             help=f"runs (default: the baseline's; with --update "
                                  f"{DEFAULT_REPLICATIONS})")
    _add_overrides(regress_cmd)

    validate_cmd = sub.add_parser("validate", help="check scenario files and exit")
    validate_cmd.add_argument("scenarios", nargs="+", help="scenario TOML files")
    _add_overrides(validate_cmd)
    return parser


def _add_overrides(cmd: argparse.ArgumentParser) -> None:
    cmd.add_argument(
        "--set", dest="overrides", action="append", default=[], metavar="KEY.PATH=VALUE",
        help="override a scenario value, e.g. --set volunteers.count=20000 (repeatable)",
    )


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the exit code."""
    args = build_parser().parse_args(argv)
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
        if args.command == "report":
            return _report(args.results, args.out, None)
        return _run(args, console)
    except InputError as exc:
        print(f"gridsim: error: {one_line(str(exc))}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except KeyboardInterrupt:
        print("gridsim: interrupted; no results were written", file=sys.stderr)
        return EXIT_INTERRUPTED


def one_line(message: str) -> str:
    """Return ``message`` with line breaks escaped, so an error is always one line."""
    return message.replace("\r", "\\r").replace("\n", "\\n")


def _validate(args: argparse.Namespace) -> int:
    for path in args.scenarios:
        scenario = load_scenario(path, args.overrides)
        print(f"{path}: ok ({scenario.name}, {len(scenario.incidents)} incident types, "
              f"{scenario.duration_days:g} days)")
    return EXIT_OK


def _run(args: argparse.Namespace, console: Console) -> int:
    scenario = load_scenario(args.scenario, args.overrides)
    seed = scenario.seed if args.seed is None else args.seed
    out_dir = args.out if args.out is not None else default_out_dir(scenario, seed)
    if scenario.missing_person is not None:
        return _run_search(scenario, seed, out_dir, args.quiet)
    show_progress = not args.quiet and console.is_terminal
    with Progress(
        TextColumn("[bold]{task.description}"), BarColumn(), TextColumn("{task.percentage:>3.0f}%"),
        TimeRemainingColumn(), console=console, disable=not show_progress, transient=True,
    ) as progress:
        task = progress.add_task(f"{scenario.name}: simulating", total=1.0)
        result = run(scenario, seed, progress=lambda done: progress.update(task, completed=done))
    write_results(result, out_dir)
    if args.report:
        _report(out_dir, None, result.setup_s + result.wall_s, result.world)
    if not args.quiet:
        _print_summary(result.summary, _stdout_console())
        print(f"setup {result.setup_s:.1f} s, run {result.wall_s:.1f} s; results in {out_dir}/")
    return EXIT_OK


def _bench(args: argparse.Namespace, console: Console) -> int:
    plan = BenchPlan.of(args.quick)
    figures = run_bench(plan, lambda stage: console.print(f"[dim]bench: {stage}[/dim]"))
    verdicts = check_goals(figures)
    table = Table(title="gridsim bench" + (" (quick: city_year_s extrapolated from "
                                           f"{plan.year_days} days)" if args.quick else ""))
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
    _stdout_console().print(table)
    if args.json is not None:
        write_text_atomic(args.json, json.dumps(figures, indent=2) + "\n")
    return EXIT_OK if all(verdicts.values()) else EXIT_GOAL_MISSED


def _stdout_console() -> Console:
    """Return a console on stdout; 120 columns wide when it is not a terminal."""
    console = Console()
    return console if console.is_terminal else Console(width=120)


def _positive_int(text: str) -> int:
    value = int(text)
    if value < 2:
        raise argparse.ArgumentTypeError(f"must be at least 2, got {value}")
    return value


def _verify(args: argparse.Namespace, console: Console) -> int:
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
    out = _stdout_console()
    out.print(table)
    for case in cases:
        if case.approx_error is not None:
            out.print(f"{case.name}: Larson (1975) approximation, largest workload error "
                      f"against the exact model: {case.approx_error:.4f}")
    if args.json is not None:
        write_text_atomic(args.json, json.dumps([asdict(r) for r in table_rows], indent=2) + "\n")
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
    _print_sweep(result.summary, keys, args.ci_width)
    write_bytes_atomic(folder / "sweep.png", png_bytes(sweep_figure(result.summary, keys)))
    print(f"wrote {folder}/sweep.parquet (one row per arm x replication x metric), "
          f"{folder}/summary.parquet and {folder}/sweep.png")
    return EXIT_OK


def _print_sweep(summary: Any, keys: list[str], ci_width: float | None) -> None:
    rows = summary.to_pylist()
    shown = ("first_arrival_s.p50", "first_arrival_s.p90", "police_arrival_s.p90")
    table = Table(title="Sweep: mean [95% CI] over replications (seconds)")
    for column in ("arm", *keys, *shown):
        table.add_column(column, justify="right")
    advice = []
    for arm in sorted({r["arm"] for r in rows}):
        cells = {r["metric"]: r for r in rows if r["arm"] == arm}
        first = cells[shown[0]]
        table.add_row(str(arm), *(str(first[k]) for k in keys), *(
            f"{cells[m]['mean']:.0f} [{cells[m]['ci_low']:.0f}, {cells[m]['ci_high']:.0f}]"
            for m in shown))
        for m in shown:
            half = (cells[m]["ci_high"] - cells[m]["ci_low"]) / 2
            wanted = None if ci_width is None else ci_width * abs(cells[m]["mean"])
            if wanted is not None and half > wanted:
                need = replications_needed(cells[m]["n"], half, wanted)
                advice.append(f"arm {arm} {m}: CI ±{half:.0f} s is wider than ±{wanted:.0f} s; "
                              f"about {need} replications would do")
    out = _stdout_console()
    out.print(table)
    for line in advice:
        out.print(line)


def _optimize(args: argparse.Namespace, console: Console) -> int:
    text, source = read_scenario_text(args.scenario)
    scenario = parse_scenario(text, source, args.overrides)
    target = parse_target(args.target)
    varies = [parse_vary(v, scenario) for v in args.vary]
    seed = scenario.seed if args.seed is None else args.seed
    keys = [v.key for v in varies]

    def tell(point: OptimizePoint) -> None:
        levels = ", ".join(f"{k}={level}" for k, level in zip(keys, point.levels, strict=True))
        console.print(f"[dim]optimize: {levels}: mean {point.mean:.4g}, bound "
                      f"{point.bound:.4g}{' (meets the target)' if point.met else ''}[/dim]")

    executor = make_executor(args.workers, args.dask)
    try:
        result = optimize(text, source, target, varies, args.replications, seed, executor,
                          args.overrides, tell)
    finally:
        executor.close()
    op = "<=" if target.upper else ">="
    table = Table(title=f"Trade-off: cheapest staffing meeting {target.metric} {op} "
                        f"{target.bound:g} (95% one-sided bound, {args.replications} "
                        "replications each)")
    for column in (*result.keys, f"{target.metric} mean", "bound", "yearly cost", ""):
        table.add_column(column, justify="right")
    for point in result.curve:
        table.add_row(*(f"{level:,}" for level in point.levels), f"{point.mean:.4g}",
                      f"{point.bound:.4g}", f"{point.cost:,.0f}",
                      "cheapest" if point is result.best else "")
    _stdout_console().print(table)
    runs = result.evaluations * args.replications
    print(f"{result.evaluations} evaluations ({runs} runs); a full grid at the same "
          f"resolution would need {result.full_grid_evaluations} evaluations")
    if args.json is not None:
        write_text_atomic(args.json, json.dumps(
            {"keys": result.keys, "target": asdict(target),
             "curve": [asdict(p) for p in result.curve],
             "best": None if result.best is None else asdict(result.best),
             "evaluations": result.evaluations}, indent=2) + "\n")
    if result.best is None:
        print("no staffing in the range meets the target; widen --vary KEY=LOW:HIGH")
        return EXIT_GOAL_MISSED
    return EXIT_OK


def _report(
    folder: Path, out: Path | None, run_time_s: float | None, world: World | None = None
) -> int:
    results = read_results(folder)
    if world is None or world.scenario != results.scenario:
        world = build_world(results.scenario)
    path = write_report(results, world, out or folder / "report.html", run_time_s)
    print(f"wrote {path}")
    return EXIT_OK


def _regress(args: argparse.Namespace, console: Console) -> int:
    def replications_of(scenario: Scenario, seed: int, count: int) -> list[dict[str, Any]]:
        return replicate(scenario, count, seed, on_done=lambda k: console.print(
            f"[dim]regress: {scenario.name}, run {k}/{count}[/dim]"))

    if args.update:
        scenario = load_scenario(args.scenario, args.overrides)
        seed = scenario.seed if args.seed is None else args.seed
        count = args.replications or DEFAULT_REPLICATIONS
        baseline = make_baseline(replications_of(scenario, seed, count),
                                 scenario_digest(scenario), scenario.name, seed, args.overrides)
        write_baseline(args.baseline, baseline)
        print(f"wrote {args.baseline}: {scenario.name}, seed {seed}, {count} replications")
        return EXIT_OK
    baseline = load_baseline(args.baseline)
    base_overrides = [str(o) for o in baseline["overrides"]]
    check_scenario(baseline, scenario_digest(load_scenario(args.scenario, base_overrides)),
                   args.baseline)
    scenario = load_scenario(args.scenario, [*base_overrides, *args.overrides])
    seed = baseline["seed"] if args.seed is None else args.seed
    count = args.replications or baseline["replications"]
    verdicts = compare_to_baseline(baseline, replications_of(scenario, seed, count))
    table = Table(title=f"gridsim regress: {scenario.name}, seed {seed}, {count} replications "
                        f"vs {args.baseline}")
    for column in ("metric", "baseline", "now", "change", "p(worse)", "verdict"):
        table.add_column(column, justify="left" if column in ("metric", "verdict") else "right")
    for v in verdicts:
        style = {"worse": "bold red", "better": "green"}.get(v.verdict, "")
        table.add_row(v.metric, f"{v.baseline:.4g}", f"{v.now:.4g}", f"{v.change:+.1%}",
                      f"{v.p_worse:.3g}", f"[{style}]{v.verdict}[/{style}]" if style else v.verdict)
    _stdout_console().print(table)
    if args.junit is not None:
        write_junit(args.junit, scenario.name, verdicts)
    worse = [v.metric for v in verdicts if v.verdict == "worse"]
    if worse:
        print(f"worse than the baseline: {', '.join(worse)}")
        return EXIT_GOAL_MISSED
    print("no metric got worse")
    return EXIT_OK


def _run_search(scenario: Scenario, seed: int, out_dir: Path, quiet: bool) -> int:
    started = time.perf_counter()
    world = build_world(scenario)
    rows = run_study(world, seed=seed)
    spec = scenario.missing_person
    assert spec is not None
    summary = {"scenario": scenario.name, "seed": seed, **summarize_study(rows, spec)}
    strategies = list(STRATEGIES)
    figure = png_bytes(time_to_find_cdf(rows, strategies, spec.horizon_h))
    write_folder(out_dir, {
        "summary.json": json_writer(summary),
        "scenario.json": json_writer(scenario.model_dump(mode="json")),
        "search.parquet": parquet_writer({
            key: [r[key] for r in rows] for key in rows[0]} if rows else {}),
        "time_to_find_cdf.png": bytes_writer(figure),
    })
    if not quiet:
        _print_search(summary)
    print(f"{len(rows)} runs in {time.perf_counter() - started:.1f} s; results in {out_dir}/")
    return EXIT_OK


def _print_search(summary: dict[str, Any]) -> None:
    table = Table(title=f"Missing person ({summary['category']}, {summary['district']}): "
                        "each layer's effect, 95% CIs")
    for column in ("strategy", "median h to find", "found in 1 h", "found in 3 h",
                   "found in 6 h", "before critical time", "searcher-hours"):
        table.add_column(column, justify="left" if column == "strategy" else "right")

    def share(cell: dict[str, Any]) -> str:
        return f"{cell['p']:.0%} [{cell['ci'][0]:.0%}, {cell['ci'][1]:.0%}]"

    def hours(value: float | None) -> str:
        return ">horizon" if value is None else f"{value:.1f}"

    for name, f in summary["strategies"].items():
        low, high = f["median_ci_h"]
        table.add_row(name, f"{hours(f['median_time_to_find_h'])} [{hours(low)}, {hours(high)}]",
                      share(f["p_found_1h"]), share(f["p_found_3h"]), share(f["p_found_6h"]),
                      share(f["p_found_before_critical"]), f"{f['searcher_hours_mean']:.0f}")
    out = _stdout_console()
    out.print(table)
    score = summary["mapscore"]
    distance = summary["subject_distance_km"]
    out.print(f"prior map MapScore {score['mean']:.2f} [{score['ci'][0]:.2f}, "
              f"{score['ci'][1]:.2f}] (random 0, perfect 1); subjects ended "
              f"{distance['p25']}/{distance['p50']}/{distance['p75']} km (quartiles) "
              "from the last known point")


def _print_summary(summary: dict[str, Any], console: Console) -> None:
    """Print the headline figures and the by-type and by-kind tables."""
    console.print(
        f"[bold]{summary['scenario']}[/bold], seed {summary['seed']}, "
        f"{summary['duration_days']:g} day(s): {summary['incidents']} incidents, "
        f"{summary['answered']} reached by someone"
    )
    headline = Table(title="Response time from the call (s)")
    for column in ("", "n", "p50", "p90", "p95"):
        headline.add_column(column, justify="right" if column else "left")
    rows = (("first arrival", "first_arrival_s"), ("police arrival", "police_arrival_s"))
    for label, key in rows:
        stat = summary[key]
        headline.add_row(label, str(stat["n"]), *(_fmt(stat[p]) for p in ("p50", "p90", "p95")))
    console.print(headline)

    by_type = Table(title="By incident type (s)")
    for column in ("type", "incidents", "first p50", "first p90", "police p50", "police p90"):
        by_type.add_column(column, justify="left" if column == "type" else "right")
    for name, group in summary["by_type"].items():
        first, police = group["first_arrival_s"], group["police_arrival_s"]
        by_type.add_row(name, str(group["incidents"]), _fmt(first["p50"]), _fmt(first["p90"]),
                        _fmt(police["p50"]), _fmt(police["p90"]))
    console.print(by_type)

    by_kind = Table(title="By responder kind")
    for column in ("kind", "dispatches", "first on scene", "arrival p50 (s)"):
        by_kind.add_column(column, justify="left" if column == "kind" else "right")
    for kind, group in summary["by_responder_kind"].items():
        share = group["first_on_scene_share"]
        by_kind.add_row(kind, str(group["dispatches"]), "-" if share is None else f"{share:.1%}",
                        _fmt(group["arrival_s"]["p50"]))
    console.print(by_kind)

    alerts = summary["volunteer_alerts_per_volunteer"]
    console.print(
        f"volunteer or grid worker before police: {_pct(summary['local_before_police_share'])}; "
        f"police utilisation: {_pct(summary['police_utilisation'])}; "
        f"mediator utilisation: {_pct(summary['mediator_utilisation'])}; "
        f"alerts per volunteer: mean {alerts.get('mean', '-')}, max {alerts.get('max', '-')}"
    )


def _fmt(value: float | None) -> str:
    return "-" if value is None else f"{value:.0f}"


def _pct(value: float | None) -> str:
    return "-" if value is None else f"{value:.1%}"


def entry_point() -> NoReturn:
    """Console-script entry: exit with ``main``'s code."""
    sys.exit(main())


if __name__ == "__main__":
    entry_point()
