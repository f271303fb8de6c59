"""The commands that check gridsim itself or a change: bench, verify, regress."""

from __future__ import annotations

import argparse
import json
from dataclasses import asdict
from typing import Any

from rich.console import Console
from rich.table import Table

from gridsim.api import scenario_digest
from gridsim.cli.common import Interrupted, warn
from gridsim.cli.parser import (
    EXIT_GOAL_MISSED,
    EXIT_OK,
)
from gridsim.cli.tables import (
    stdout_console,
)
from gridsim.core.output import (
    GENERATOR,
    check_output_file,
    write_marked,
)
from gridsim.report.verify_figure import save_verify_figure
from gridsim.scenario import Scenario, load_scenario
from gridsim.scenario.guard import check_resources
from gridsim.studies.experiment import replicate
from gridsim.studies.regress import (
    DEFAULT_BASELINE_REPLICATIONS,
    DEFAULT_CHECK_REPLICATIONS,
    check_scenario,
    load_baseline,
    make_baseline,
    write_baseline,
    write_junit,
)
from gridsim.studies.regress import compare as compare_to_baseline
from gridsim.validation.bench import BENCH_KEYS, GOALS, BenchPlan, check_goals, run_bench
from gridsim.validation.verify import compare, default_cases, run_case


def bench_command(args: argparse.Namespace, console: Console) -> int:
    """Run ``gridsim bench``; return the exit code."""
    if args.json is not None:
        check_output_file(args.json, "--json")
    from gridsim.cli.calls import calls_fit  # start-up: only bench and calls need it

    plan = BenchPlan.of(args.quick)
    figures = run_bench(plan, lambda stage: console.print(f"[dim]bench: {stage}[/dim]"),
                        calls_fit)
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
        write_marked(args.json, (json.dumps({"generator": GENERATOR, **figures}, indent=2)
                                 + "\n").encode("utf-8"))
    return EXIT_OK if all(verdicts.values()) else EXIT_GOAL_MISSED


def verify_command(args: argparse.Namespace, console: Console) -> int:
    """Run ``gridsim verify``; return the exit code."""
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
        write_marked(args.json, (json.dumps(
            {"generator": GENERATOR, "rows": [asdict(r) for r in table_rows]}, indent=2)
            + "\n").encode("utf-8"))
    if args.figure is not None:
        try:
            save_verify_figure(table_rows, args.figure)
        except KeyboardInterrupt:
            raise Interrupted(f"{args.figure} was not written"
                              + (f" ({args.json} was)" if args.json else "")) from None
    return EXIT_OK if all(r.ok for r in table_rows) else EXIT_GOAL_MISSED


def regress_command(args: argparse.Namespace, console: Console) -> int:
    """Run ``gridsim regress``; return the exit code."""
    def replications_of(scenario: Scenario, seed: int, count: int) -> list[dict[str, Any]]:
        for line in check_resources(scenario):  # refuses a scenario that cannot fit
            warn(line)
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


