"""The argument parser of every ``gridsim`` sub-command, and the exit codes."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import NoReturn

from gridsim.studies.regress import (
    DEFAULT_BASELINE_REPLICATIONS,
)

DESCRIPTION = (
    "gridsim: a discrete-event simulator of 'police + grid' public-safety response. "
    "Bad input prints one line and exits with code 2."
)
EXIT_OK, EXIT_GOAL_MISSED, EXIT_BAD_INPUT, EXIT_INTERRUPTED = 0, 1, 2, 130


class _Parser(argparse.ArgumentParser):
    """An argument parser whose errors are one line and exit code 2."""

    def error(self, message: str) -> NoReturn:
        """Print one line naming the problem and how to get help, then exit 2."""
        self.exit(EXIT_BAD_INPUT, f"gridsim: error: {message} (see '{self.prog} --help')\n")


def build_parser() -> argparse.ArgumentParser:
    """Return the parser of every ``gridsim`` sub-command."""
    parser = _Parser(prog="gridsim", description=DESCRIPTION)
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    run_cmd = sub.add_parser("run", help="run a scenario once and write a results folder")
    run_cmd.add_argument(
        "scenario", nargs="?", help="scenario TOML (default: the embedded Nanjing scenario)"
    )
    _add_overrides(run_cmd)
    run_cmd.add_argument("--seed", type=seed_value, help="run seed (default: the scenario's seed)")
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
        "verify", help=("compare the engine with queueing theory: Erlang C, priority queues "
                         "(Cobham; Buzen and Bondi) and the hypercube model (exit 1: a miss)")
    )
    verify_cmd.add_argument("--replications", type=positive_int, default=20, metavar="R",
                            help="replications per case (default 20, at least 2)")
    verify_cmd.add_argument("--seed", type=seed_value, default=2024,
                            help="root seed (default 2024)")
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
    sweep_cmd.add_argument("--replications", type=positive_int, default=10, metavar="R",
                           help="replications per arm (default 10)")
    sweep_cmd.add_argument("--seed", type=seed_value, help="root seed (default: the scenario's)")
    _add_executor(sweep_cmd)
    sweep_cmd.add_argument("--out", type=Path,
                           help="folder (default results/NAME-sweep); rerunning resumes it")
    sweep_cmd.add_argument("--ci-width", type=relative_width, metavar="REL",
                           help="wanted CI half-width relative to the mean, e.g. 0.05; says "
                                "how many replications a wider metric needs")
    sweep_cmd.add_argument("--quiet", action="store_true", help="no progress bar")

    optimize_cmd = sub.add_parser(
        "optimize", help="find the cheapest staffing that meets a response target",
        description="Search for the cheapest staffing that meets a response target, without "
                    "assuming more staff is never slower: a coarse grid, refined below the "
                    "cheapest level that meets the target; steps where more staff did worse "
                    "(by more than the paired standard error, same seeds) are reported.",
    )
    optimize_cmd.add_argument("scenario", help="scenario TOML")
    optimize_cmd.add_argument("--target", required=True, metavar="METRIC<=NUMBER",
                              help="one-sided 95%% bound on the mean over replications: "
                                   "STAT_KIND_arrival_s[_priorityN] with STAT p50, p90, p95 or "
                                   "mean and KIND first (anyone) or police, e.g. "
                                   "'p90_police_arrival_s_priority1<=600'; or a sweep metric, "
                                   "e.g. 'answered_share>=0.99'")
    optimize_cmd.add_argument("--vary", action="append", required=True,
                              metavar="KEY[=LOW:HIGH]",
                              help="a staffing level to search (once, or twice for a trade-off "
                                   "curve)")
    optimize_cmd.add_argument("--replications", type=positive_int, default=10, metavar="R",
                              help="replications per evaluation, the same seeds for every "
                                   "level (default 10; at least 2)")
    optimize_cmd.add_argument("--seed", type=seed_value, help="root seed (default: the scenario's)")
    _add_executor(optimize_cmd)
    optimize_cmd.add_argument("--json", type=Path, metavar="FILE",
                              help="also write every evaluated point, the curve, the cheapest "
                                   "and the non-monotone steps here")
    _add_overrides(optimize_cmd)

    sens_cmd = sub.add_parser(
        "sensitivity", help="global sensitivity of the headline metrics: Morris screening or "
                            "Sobol' indices (SALib), common random numbers, resumable",
        description="Vary settings over ranges and measure what moves the headline metrics: "
                    "Morris elementary effects (mu*, sigma) to screen many settings, or "
                    "Sobol' indices (S1, ST) for a few. Writes samples.parquet, "
                    "indices.parquet and sensitivity.png; rerunning resumes.",
    )
    sens_cmd.add_argument("scenario", help="scenario TOML")
    sens_cmd.add_argument("--vary", action="append", required=True, metavar="KEY=LOW:HIGH",
                          help="a numeric setting and its range (repeatable); whole-number "
                               "settings such as police.patrol_units are rounded")
    sens_cmd.add_argument("--method", choices=("morris", "sobol"), default="morris",
                          help="morris (screening, default) or sobol (variance shares)")
    sens_cmd.add_argument("--trajectories", type=design_count, metavar="N",
                          help="Morris trajectories (default 10): N x (settings + 1) points")
    sens_cmd.add_argument("--samples", type=design_count, metavar="N",
                          help="Sobol' base samples, a power of two (default 64): "
                               "N x (settings + 2) points")
    sens_cmd.add_argument("--metric", dest="metrics", action="append", metavar="DOTTED.PATH",
                          help="a summary value to analyse (repeatable; default "
                               "first_arrival_s.p90, police_arrival_s.p90, "
                               "outcomes.per_year.rescued, "
                               "outcomes.per_year.assisted_by_volunteers, "
                               "mediation.settled_per_year)")
    sens_cmd.add_argument("--replications", type=replication_count, default=1, metavar="R",
                          help="runs per point, the same seeds at every point (default 1)")
    sens_cmd.add_argument("--seed", type=seed_value,
                          help="root seed of the runs and the design (default: the scenario's)")
    _add_executor(sens_cmd)
    sens_cmd.add_argument("--out", type=Path,
                          help="folder (default results/NAME-sensitivity); rerunning resumes it")
    sens_cmd.add_argument("--quiet", action="store_true", help="no progress bar")
    _add_overrides(sens_cmd)

    cal_cmd = sub.add_parser(
        "calibrate", help="fit free parameters to known figures by ABC-SMC (pyabc); "
                          "resumable",
        description="Fit the free parameters of a targets file to its known figures by "
                    "ABC-SMC with a stochastic acceptor (pyabc): each target's observed value "
                    "is the simulated mean plus a normal error of its sd. Writes the "
                    "posterior, a posterior-predictive check (figure and table), the "
                    "calibrated scenario and calibration.json; rerunning resumes.",
    )
    cal_cmd.add_argument("scenario", help="scenario TOML")
    cal_cmd.add_argument("--targets", type=Path, required=True, metavar="TARGETS.toml",
                         help="known figures, free parameters and run settings")
    cal_cmd.add_argument("--seed", type=seed_value,
                         help="root seed of the runs and the sampler (default: the scenario's)")
    _add_executor(cal_cmd)
    cal_cmd.add_argument("--out", type=Path,
                         help="folder (default results/NAME-calibration); rerunning resumes it")
    _add_overrides(cal_cmd)

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
    regress_cmd.add_argument("--seed", type=seed_value,
                             help="root seed (default: the baseline's; with --update the "
                                  "scenario's)")
    regress_cmd.add_argument("--replications", type=positive_int, metavar="R",
                             help="runs of the check (default: the baseline's "
                                  "check_replications); with --update, runs stored in the "
                                  f"baseline (default {DEFAULT_BASELINE_REPLICATIONS})")
    _add_overrides(regress_cmd)

    place_cmd = sub.add_parser(
        "place", help="propose sites for new watch points and check them by simulation")
    place_cmd.add_argument(
        "scenario", nargs="?", help="scenario TOML (default: the embedded Nanjing scenario)")
    _add_overrides(place_cmd)
    place_cmd.add_argument("--count", type=positive_int, default=10, metavar="K",
                           help="new watch points to propose (default 10)")
    place_cmd.add_argument("--ring-s", type=positive_float, metavar="S",
                           help="reach them within S seconds (default: the middle of "
                                "coverage.rings_s, 180)")
    place_cmd.add_argument("--days", type=positive_float, metavar="D",
                           help="simulated days per run (default: the scenario's)")
    place_cmd.add_argument("--replications", type=positive_int, default=10, metavar="R",
                           help="training runs, and check runs before and after (default 10, "
                                "at least 2)")
    place_cmd.add_argument("--seed", type=seed_value, help="root seed (default: the scenario's)")
    place_cmd.add_argument("--out", type=Path,
                           help="folder (default: results/NAME-place)")
    place_cmd.add_argument("--quiet", action="store_true", help="no progress lines")

    calls_cmd = sub.add_parser("calls", help="real call logs (CAD exports): fit a scenario to "
                                             "one, check a scenario against one")
    calls_sub = calls_cmd.add_subparsers(dest="calls_command", required=True,
                                         metavar="{fit,check}",
                                         parser_class=_Parser)
    fit_cmd = calls_sub.add_parser(
        "fit", help="fit incident rates, hourly profiles, district weights, priorities and "
                    "on-scene and handling times to a CAD export",
        description="Read a CAD export (CSV or Parquet) through a mapping file and fit the "
                    "[incidents] inputs of a scenario, with confidence intervals. Writes "
                    "incidents.toml, fit.json and figures.")
    fit_cmd.add_argument("log", type=Path, help="the export: .csv or .parquet")
    fit_cmd.add_argument("--mapping", type=Path, required=True, metavar="MAPPING.toml",
                         help="names the export's columns, time format and zone, call types")
    fit_cmd.add_argument("--out", type=Path, help="folder (default results/LOG-fit)")
    fit_cmd.add_argument("--scenario", help="the scenario whose districts and incident types "
                                            "to fit (default: the embedded Nanjing scenario); "
                                            "with a log of unit rows, scenario.toml is it "
                                            "with the fitted incidents, fleets and dispatch")
    fit_cmd.add_argument("--period", metavar="START..END",
                         help="only calls received from START to END (local dates, END "
                              "excluded), e.g. 2018-01-01..2018-07-01: the training part")
    check_cmd = calls_sub.add_parser(
        "check", help="replay a log through a scenario: recorded against simulated response, "
                      "handling, turnout and travel",
        description="Replay every call of a CAD export (its own time, place, type and "
                    "priority) through a scenario and print recorded against simulated p50 "
                    "and p90 with CIs and ratios, overall and by priority, first unit's type, "
                    "hour and area. Writes check.json and figures.")
    check_cmd.add_argument("scenario", help="the scenario (e.g. the scenario.toml of calls fit)")
    check_cmd.add_argument("log", type=Path, help="the export: .csv or .parquet")
    check_cmd.add_argument("--mapping", type=Path, required=True, metavar="MAPPING.toml",
                           help="the mapping the scenario was fitted with")
    check_cmd.add_argument("--period", metavar="START..END",
                           help="only calls received from START to END (local dates, END "
                                "excluded): the held-out part, e.g. 2018-07-01..2019-01-01")
    check_cmd.add_argument("--out", type=Path, help="folder (default results/NAME-check)")

    validate_cmd = sub.add_parser("validate", help="check scenario files and exit")
    validate_cmd.add_argument("scenarios", nargs="+", help="scenario TOML files")
    _add_overrides(validate_cmd)
    return parser


def _add_executor(cmd: argparse.ArgumentParser) -> None:
    """Add --workers and --dask: where a command's many runs execute."""
    cmd.add_argument("--workers", type=worker_count, metavar="N",
                     help="worker processes (default: one per core; 1 = this process)")
    cmd.add_argument("--dask", metavar="ADDRESS",
                     help="run on Dask: tcp://host:8786, or 'local' for a LocalCluster")


def _add_overrides(cmd: argparse.ArgumentParser) -> None:
    cmd.add_argument(
        "--set", dest="overrides", action="append", default=[], metavar="KEY.PATH=VALUE",
        help="override a scenario value, e.g. --set volunteers.count=20000 (repeatable)",
    )


MAX_SEED = 2**63 - 1  # seeds are stored as signed 64-bit integers in the output tables


def positive_int(text: str) -> int:
    """Return ``text`` as a whole number of at least 2 (replications need a spread)."""
    return _bounded_int(text, 2, 1_000_000, "a whole number of replications")


def replication_count(text: str) -> int:
    """Return ``text`` as a number of replications of at least 1."""
    return _bounded_int(text, 1, 1_000_000, "a whole number of replications")


def design_count(text: str) -> int:
    """Return ``text`` as a design size: at least 2 trajectories or base samples."""
    return _bounded_int(text, 2, 1_000_000, "a whole number of at least 2")


def seed_value(text: str) -> int:
    """Return ``text`` as a seed: a whole number from 0 to 2**63 - 1."""
    return _bounded_int(text, 0, MAX_SEED, "a seed (a whole number >= 0)")


def positive_float(text: str) -> float:
    """Return ``text`` as a finite number above 0."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number above 0, got {text!r}") from None
    if not (0.0 < value < float("inf")):
        raise argparse.ArgumentTypeError(f"expected a number above 0, got {text!r}")
    return value


def worker_count(text: str) -> int:
    """Return ``text`` as a number of worker processes (1 to 1024)."""
    return _bounded_int(text, 1, 1024, "a number of worker processes")


def relative_width(text: str) -> float:
    """Return ``text`` as a relative CI half-width: a number above 0 and below 1."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number such as 0.05, got {text!r}") from None
    if not 0.0 < value < 1.0:
        raise argparse.ArgumentTypeError(f"must lie between 0 and 1 (e.g. 0.05), got {text}")
    return value


def _bounded_int(text: str, low: int, high: int, what: str) -> int:
    """Return ``text`` as an int in [low, high]; otherwise a one-line argparse error."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected {what}, got {text!r}") from None
    if not low <= value <= high:
        raise argparse.ArgumentTypeError(f"must lie between {low} and {high}, got {value}")
    return value
