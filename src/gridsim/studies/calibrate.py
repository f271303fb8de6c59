"""``gridsim calibrate``: fit free parameters to known figures by ABC-SMC (pyabc).

Why ABC-SMC. The targets are a handful of summary figures with standard errors (counts a
year, quantiles) and the simulator has no likelihood. Approximate Bayesian computation
by sequential Monte Carlo (pyabc; Klinger, Rickert and Hasenauer 2018) gives a posterior
with intervals, which Bayesian optimisation does not, and finds the region that fits
with far fewer runs than rejection ABC or a grid. With pyabc's stochastic acceptor
(Wilkinson 2013, "Approximate Bayesian computation gives exact results under the
assumption of model error"), each target's observed value is taken as the simulated
mean plus a normal error of its ``sd``, so the result is the posterior under that error
model, reached by tempering (``pyabc.Temperature``) rather than by an ad hoc threshold.

Each parameter point runs the same ``replications`` seeds (common random numbers), so
two points differ only by their parameters; the summary is the mean over those runs.
Simulations go to gridsim's executors (this process, a process pool, Dask) through
:class:`gridsim.studies.abc_sampler.SeededMappingSampler`, which seeds every task from the root
seed, the generation and the task's index: a calibration is reproducible whatever the
executor, and one interrupted however it ended resumes to the files an uninterrupted one
writes (:mod:`gridsim.studies.calibration_folder`).
"""

from __future__ import annotations

import json
import logging
import tomllib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa

from gridsim.analysis.metrics import summary_value
from gridsim.api import run
from gridsim.core.errors import InputError
from gridsim.core.executors import RunExecutor
from gridsim.core.output import parquet_bytes, write_bytes_atomic, write_text_atomic
from gridsim.core.rng import stream
from gridsim.scenario.guard import check_resources
from gridsim.scenario.load import parse_scenario
from gridsim.scenario.schema import Scenario
from gridsim.studies.calibration_folder import (
    CHECKPOINT,
    DISK_FULL,
    database_error,
    fresh_database,
    install_database,
    own_folder,
    write_error,
)
from gridsim.studies.experiment import replication_seeds, run_seeds
from gridsim.studies.targets import FreeParameter, Targets
from gridsim.world.build import WORLDS

INTERVAL = (0.05, 0.95)  # the posterior and predictive intervals reported
UNIDENTIFIED_SHARE = 0.8  # a 90% posterior interval wider than this share of the prior
LOW_ESS_SHARE = 0.25  # fewer effective particles than this share of the population: warn
Z_LIMIT = 2.0  # a target further than this many combined SDs from its prediction misses
SIGNIFICANT_DIGITS = 4  # of the calibrated values written into the scenario


@dataclass(frozen=True)
class PointModel:
    """Parameters -> the mean of each target metric over the common seeds (picklable)."""

    scenario_text: str
    source: str
    overrides: tuple[str, ...]
    keys: tuple[str, ...]  # scenario key of parameter p0, p1, ...
    integer: tuple[bool, ...]
    metrics: tuple[tuple[str, str], ...]  # (target name, summary metric)
    seeds: tuple[int, ...]

    def __call__(self, parameter: Any) -> dict[str, float]:
        """Return {target: mean simulated value} at pyabc's ``parameter`` (p0, p1, ...)."""
        values = [float(parameter[f"p{i}"]) for i in range(len(self.keys))]
        return simulate_point(self, values, self.seeds)


def simulate_point(model: PointModel, values: list[float], seeds: tuple[int, ...]
                   ) -> dict[str, float]:
    """Return each target metric's mean over runs of ``seeds`` with the parameters set."""
    scenario = point_scenario(model, values)
    totals = dict.fromkeys((name for name, _ in model.metrics), 0.0)
    world = WORLDS.get(scenario)  # built once per process while the city is the same
    for seed in seeds:
        summary = run(scenario, seed=seed, world=world).summary
        for name, metric in model.metrics:
            totals[name] += summary_value(summary, metric)
    return {name: total / len(seeds) for name, total in totals.items()}


def point_scenario(model: PointModel, values: list[float]) -> Scenario:
    """Return the scenario with the parameters set to ``values`` (counts rounded)."""
    settings = [f"{key}={_toml_number(value, whole)}"
                for key, value, whole in zip(model.keys, values, model.integer, strict=True)]
    return parse_scenario(model.scenario_text, model.source, [*model.overrides, *settings])


def _toml_number(value: float, whole: bool) -> str:
    return str(int(round(value))) if whole else repr(float(value))


@dataclass(frozen=True, eq=False)
class CalibrationResult:
    """A finished calibration: the posterior, the predictive check and the report."""

    posterior: pa.Table  # the last generation's particles: parameters and weight
    predictive: pa.Table  # draw x target: simulated value
    report: dict[str, Any]  # calibration.json
    calibrated_toml: str
    folder: Path | None


PredictivePng = Callable[[dict[str, Any], pa.Table, Targets], bytes]


def calibrate(
    scenario_text: str, source: str, targets: Targets, root_seed: int,
    executor: RunExecutor, folder: Path, on_generation: Callable[[dict[str, Any]], None]
    | None = None, predictive_png: PredictivePng | None = None,
) -> CalibrationResult:
    """Run (or resume) ABC-SMC of ``targets`` in ``folder``; return and write the results.

    ``predictive_png`` draws the posterior predictive check (``predictive.png``; the
    report layer's ``predictive_png``); without it the figure is not written.
    """
    try:
        import pyabc
    except ImportError:
        raise InputError("gridsim calibrate needs pyabc and tomlkit: "
                         "pip install -e '.[calibrate]'") from None
    # an optional extra (pyabc), imported only when a calibration runs
    from gridsim.studies.abc_sampler import DatabaseError, SeededMappingSampler, TaskJournal

    model, priors = _model_and_priors(scenario_text, source, targets, root_seed)
    _dry_run(model, targets)
    manifest = {"scenario_source": source, "scenario_text": scenario_text,
                "targets": targets.model_dump(mode="json"), "root_seed": root_seed}
    try:
        with own_folder(folder, manifest) as same:
            journal = TaskJournal(folder / CHECKPOINT, fresh=not same)
            try:
                history = _run_abc(pyabc, SeededMappingSampler(executor, root_seed, journal),
                                   priors, model, targets, root_seed, folder, on_generation)
                return _finish(model, priors, targets, history, executor, root_seed, folder,
                               predictive_png)
            finally:
                journal.close()
    except OSError as exc:
        if exc.errno not in DISK_FULL:
            raise
        raise write_error(folder, exc) from None
    except DatabaseError as exc:  # pyabc's database: a full disk, say
        raise database_error(folder, exc) from None


def _run_abc(pyabc: Any, sampler: Any, priors: list[FreeParameter], model: PointModel,
             targets: Targets, root_seed: int, folder: Path,
             on_generation: Callable[[dict[str, Any]], None] | None) -> Any:
    """Return pyabc's history of ABC-SMC from the start (finished tasks are read back)."""
    prior = pyabc.Distribution(**{
        f"p{i}": (pyabc.RV("loguniform", p.low, p.high) if p.scale == "log"
                  else pyabc.RV("uniform", p.low, p.high - p.low))
        for i, p in enumerate(priors)})
    names = list(targets.targets)
    kernel = pyabc.IndependentNormalKernel(
        var=[targets.targets[n].sd ** 2 for n in names], keys=names)
    abc = pyabc.ABCSMC(
        model, prior, kernel, population_size=targets.run.population,
        eps=pyabc.Temperature(), acceptor=pyabc.StochasticAcceptor(), sampler=sampler,
    )
    np.random.seed(root_seed % 2**32)  # pyabc draws in this process (fits, schemes)
    path = fresh_database(folder)  # built anew as the finished tasks are replayed
    observed = {n: targets.targets[n].value for n in names}
    # pyabc's own log is not shown: its records tell the reporter when a population is
    # stored, and gridsim reports that
    reporter = _GenerationReporter(on_generation)
    logger = logging.getLogger("ABC")
    saved = logger.level, logger.propagate, list(logger.handlers)
    logger.setLevel(logging.INFO)
    logger.propagate = False
    logger.handlers = [reporter]
    try:
        reporter.follow(abc.new(f"sqlite:///{path}", observed))
        # one call for every generation: the temperature schedule plans to reach 1 by
        # the last one
        return abc.run(max_nr_populations=targets.run.generations,
                       min_acceptance_rate=targets.run.min_acceptance_rate)
    finally:
        logger.setLevel(saved[0])
        logger.propagate = saved[1]
        logger.handlers = saved[2]


class _GenerationReporter(logging.Handler):
    """Tells ``on_generation`` about each population pyabc stores (its log says when)."""

    def __init__(self, on_generation: Callable[[dict[str, Any]], None] | None) -> None:
        super().__init__(level=logging.DEBUG)
        self._history: Any = None
        self._on_generation = on_generation
        self._told = 0

    def follow(self, history: Any) -> None:
        """Report the populations of ``history`` stored from now on."""
        self._history = history
        self._told = history.n_populations

    def emit(self, record: logging.LogRecord) -> None:
        """Report a population stored since the last record, if any."""
        if (self._on_generation is None or self._history is None
                or self._history.n_populations <= self._told):
            return
        self._told = self._history.n_populations
        self._on_generation(_generation_line(self._history))


def _model_and_priors(scenario_text: str, source: str, targets: Targets, root_seed: int
                      ) -> tuple[PointModel, list[FreeParameter]]:
    """Return the point model, checking that every parameter's range is a valid scenario."""
    overrides = list(targets.run.overrides)
    if targets.run.days is not None:
        overrides.append(f"duration_days={targets.run.days!r}")
    base = parse_scenario(scenario_text, source, overrides)
    keys = list(targets.parameters)
    priors = [targets.parameters[k] for k in keys]
    integer = tuple(isinstance(_value_at(base, key), int) for key in keys)
    for key, prior, whole in zip(keys, priors, integer, strict=True):
        for bound in (prior.low, prior.high):
            try:
                check_resources(parse_scenario(
                    scenario_text, source, [*overrides, f"{key}={_toml_number(bound, whole)}"]))
            except InputError as exc:
                raise InputError(f"parameters.{key!r}: at {bound:g}: {exc}") from None
    model = PointModel(
        scenario_text=scenario_text, source=source, overrides=tuple(overrides),
        keys=tuple(keys), integer=integer,
        metrics=tuple((name, t.metric) for name, t in targets.targets.items()),
        seeds=tuple(run_seeds(base, root_seed, targets.run.replications)),
    )
    return model, priors


def _value_at(scenario: Scenario, key: str) -> Any:
    """Return the value at dotted ``key`` of the scenario (None where it is unset)."""
    value: Any = scenario.model_dump()
    for part in key.split("."):
        if not isinstance(value, dict) or part not in value:
            return None
        value = value[part]
    return value


def _dry_run(model: PointModel, targets: Targets) -> None:
    """Run the prior's centre once: every target metric must exist in the summary."""
    centre = [float(np.sqrt(p.low * p.high)) if p.scale == "log" else (p.low + p.high) / 2.0
              for p in targets.parameters.values()]
    scenario = point_scenario(model, centre)
    summary = run(scenario, seed=model.seeds[0], world=WORLDS.get(scenario)).summary
    for name, target in targets.targets.items():
        try:
            summary_value(summary, target.metric)
        except (KeyError, TypeError):
            raise InputError(
                f"targets.{name}.metric: {target.metric!r} is not a value in summary.json; "
                "give a dotted path such as 'mediation.settled_per_year' or "
                "'outcomes.per_year.rescued'") from None


def _generation_line(history: Any) -> dict[str, Any]:
    last = history.get_all_populations().iloc[-1]
    return {"generation": int(last["t"]), "temperature": float(last["epsilon"]),
            "simulations": int(last["samples"]),
            "acceptance_rate": float(last["particles"]) / max(float(last["samples"]), 1.0)}


def weighted_quantiles(values: np.ndarray, weights: np.ndarray, qs: tuple[float, ...]
                       ) -> list[float]:
    """Return the weighted quantiles ``qs`` of ``values`` (inverse of the weighted CDF)."""
    order = np.argsort(values, kind="stable")
    v, w = values[order], weights[order] / weights.sum()
    cdf = np.cumsum(w) - w / 2.0
    return [float(np.interp(q, cdf, v)) for q in qs]


def _finish(model: PointModel, priors: list[FreeParameter], targets: Targets, history: Any,
            executor: RunExecutor, root_seed: int, folder: Path,
            predictive_png: PredictivePng | None) -> CalibrationResult:
    frame, weights = history.get_distribution(m=0, t=history.max_t)
    weights = np.asarray(weights, dtype=float)
    columns = {key: frame[f"p{i}"].to_numpy(dtype=float) for i, key in enumerate(model.keys)}
    parameters, warnings = {}, []
    for (key, values), prior, whole in zip(columns.items(), priors, model.integer, strict=True):
        low, median, high = weighted_quantiles(values, weights, (INTERVAL[0], 0.5, INTERVAL[1]))
        share = _interval_share(low, high, prior)
        parameters[key] = {"median": median, "interval": [low, high], "prior": [prior.low,
                           prior.high], "prior_scale": prior.scale,
                           "interval_share_of_prior": share, "integer": whole}
        if share > UNIDENTIFIED_SHARE:
            level = INTERVAL[1] - INTERVAL[0]
            warnings.append(f"{key} is not identified by the targets: its {level:.0%} "
                            f"posterior interval spans {share:.0%} of its prior")
    ess = float(weights.sum() ** 2 / (weights**2).sum())
    if ess < LOW_ESS_SHARE * weights.shape[0]:
        warnings.append(f"the posterior rests on {ess:.1f} effective particles of "
                        f"{weights.shape[0]}: its intervals are rough; raise run.population "
                        "or run.generations")
    draws, predicted = _predictive(model, columns, weights, targets, executor, root_seed)
    target_rows = {}
    for name, target in targets.targets.items():
        sims = np.array(predicted[name])
        low, mid, high = np.quantile(sims, [INTERVAL[0], 0.5, INTERVAL[1]]).tolist()
        z = (target.value - float(sims.mean())) / float(np.sqrt(target.sd**2 + sims.var(ddof=1)))
        target_rows[name] = {"metric": target.metric, "observed": target.value,
                             "sd": target.sd, "source": target.source,
                             "predicted_median": mid, "predicted_interval": [low, high],
                             "z": z, "ok": abs(z) <= Z_LIMIT}
        if abs(z) > Z_LIMIT:
            warnings.append(f"target {name} is not reproduced: observed {target.value:g}, "
                            f"predicted {mid:g} [{low:g}, {high:g}] (z = {z:.1f})")
    populations = history.get_all_populations()
    simulations = int(populations["samples"].sum()) * len(model.seeds)
    days = parse_scenario(model.scenario_text, model.source, list(model.overrides)).duration_days
    report = {
        "generator": "gridsim", "method": "ABC-SMC (pyabc), stochastic acceptor, "
        "normal error of each target's sd, temperature schedule",
        "generations": int(history.n_populations), "effective_sample_size": ess,
        "final_temperature":
        float(populations["epsilon"].iloc[-1]), "simulations": simulations,
        "city_days_simulated": simulations * days + len(draws) * days,
        "parameters": parameters, "targets": target_rows, "warnings": warnings,
    }
    posterior = pa.table({**{key: pa.array(np.round(v).astype(np.int64) if whole else v)
                             for (key, v), whole in zip(columns.items(), model.integer,
                                                        strict=True)},
                          "weight": pa.array(weights)})
    predictive = pa.table({"draw": pa.array(np.repeat(np.arange(len(draws)), len(target_rows)),
                                            type=pa.int64()),
                           "target": pa.array([n for _ in draws for n in target_rows]),
                           "value": pa.array([predicted[n][d] for d in range(len(draws))
                                              for n in target_rows], type=pa.float64())})
    calibrated = calibrated_scenario_text(model.scenario_text, parameters)
    png = None if predictive_png is None else predictive_png(report, predictive, targets)
    _write(folder, posterior, predictive, report, calibrated, png)
    return CalibrationResult(posterior=posterior, predictive=predictive, report=report,
                             calibrated_toml=calibrated, folder=folder)


def _interval_share(low: float, high: float, prior: FreeParameter) -> float:
    if prior.scale == "log":
        return float(np.log(high / low) / np.log(prior.high / prior.low))
    return (high - low) / (prior.high - prior.low)


def _predictive(model: PointModel, columns: dict[str, np.ndarray], weights: np.ndarray,
                targets: Targets, executor: RunExecutor, root_seed: int
                ) -> tuple[list[list[float]], dict[str, list[float]]]:
    """Return posterior draws and each target's simulated value at each (fresh seeds)."""
    count = targets.run.predictive_draws
    pick = stream(root_seed, "calibrate.predictive").choice(
        weights.shape[0], size=count, p=weights / weights.sum())
    draws = [[float(columns[k][i]) for k in model.keys] for i in pick.tolist()]
    seeds = replication_seeds(root_seed + 1, count)  # not the calibration's own seeds
    jobs = [(model, tuple(d), seed) for d, seed in zip(draws, seeds, strict=True)]
    done = dict(executor.map_unordered(_predict_one, jobs))
    predicted: dict[str, list[float]] = {name: [] for name in targets.targets}
    for job in jobs:
        for name, value in done[job].items():
            predicted[name].append(value)
    return draws, predicted


def _predict_one(job: tuple[PointModel, tuple[float, ...], int]) -> dict[str, float]:
    model, values, seed = job
    return simulate_point(model, list(values), (seed,))


def calibrated_scenario_text(scenario_text: str, parameters: dict[str, Any]) -> str:
    """Return the scenario with each parameter set to its posterior median, marked."""
    import tomlkit

    document = tomlkit.parse(scenario_text)
    for key, fit in parameters.items():
        low, high = fit["interval"]
        value: Any = (int(round(fit["median"])) if fit["integer"]
                      else float(f"{fit['median']:.{SIGNIFICANT_DIGITS}g}"))
        note = (f"CALIBRATED by gridsim calibrate: posterior median, "
                f"{INTERVAL[1] - INTERVAL[0]:.0%} interval [{low:.{SIGNIFICANT_DIGITS}g}, "
                f"{high:.{SIGNIFICANT_DIGITS}g}]")
        *path, last = key.split(".")
        table: Any = document
        line: tuple[Any, str] | None = None  # (table, key) of the item on its own line
        for part in path:
            if part not in table:
                table[part] = tomlkit.table()
            if line is None and isinstance(table[part], tomlkit.items.InlineTable):
                line = (table, part)
            table = table[part]
        table[last] = value
        if line is None:
            table[last].comment(note)
        else:  # a value inside an inline table: the note goes on the table's line
            holder, name = line
            holder[name].comment(f"{key.split('.', 2)[-1]}: {note}")
    text = tomlkit.dumps(document)
    tomllib.loads(text)  # the result must be TOML
    return text


def _write(folder: Path, posterior: pa.Table, predictive: pa.Table, report: dict[str, Any],
           calibrated: str, png: bytes | None) -> None:
    write_bytes_atomic(folder / "posterior.parquet", parquet_bytes(posterior))
    write_bytes_atomic(folder / "predictive.parquet", parquet_bytes(predictive))
    write_text_atomic(folder / "calibration.json", json.dumps(report, indent=2) + "\n")
    write_text_atomic(folder / "calibrated.toml", calibrated)
    if png is not None:
        write_bytes_atomic(folder / "predictive.png", png)
    install_database(folder)
