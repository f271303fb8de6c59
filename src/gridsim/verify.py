"""``gridsim verify``: the engine against queueing theory, where theory has the answer.

Each case is a scenario the engine runs as it runs any other (an explicit road network,
exponential on-scene times, no call-handling delay) and whose steady state is known:

* M/M/c: one node holding a station with c patrol units; calls at that node, so travel
  is zero. Compared with Erlang C: mean wait, P(wait), utilisation.
* Hypercube: N stations with one unit each on a small grid of 10 m roads, every node a
  demand atom; the engine's nearest-free-unit rule is a fixed preference list per atom.
  Compared with the exact hypercube model (Larson 1974): each unit's workload and the
  mean travel time. Travel (seconds) is tiny beside service (half an hour), so service
  is exponential to within 0.5%.

Replications get independent seeds spawned from one root seed. Every confidence interval
is a t interval over replication means, at a simultaneous (Bonferroni) 95% level for
the whole table, so one run flags a case by chance with probability at most 5%.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from gridsim.analytic import erlang_c, hypercube_approx, hypercube_error, hypercube_exact
from gridsim.engine import SimulationRecords, simulate
from gridsim.experiment import replication_seeds
from gridsim.incidents import generate_incidents
from gridsim.metrics import busy_unit_s, mean_ci
from gridsim.scenario.schema import Scenario
from gridsim.world import World, build_world

FAMILY_LEVEL = 0.95
SERVICE_MEAN_S = 1800.0  # hypercube cases: travel (seconds) is tiny beside it
MMC_SERVICE_MEAN_S = 300.0  # M/M/c cases: keeps even M/M/1 within a year of calls
ARRIVALS_PER_REPLICATION = 20_000
WARMUP_SHARE = 0.1  # the first tenth of each replication is discarded
SECONDS_PER_DAY = 86_400.0
GRID_SPACING_M = 10.0
Measure = Callable[[SimulationRecords, float, float], dict[str, float]]


@dataclass(frozen=True)
class Comparison:
    """One metric of one case: analytic value beside the simulated mean and its CI."""

    name: str
    metric: str
    analytic: float
    simulated: float
    ci_low: float
    ci_high: float
    ok: bool


@dataclass(frozen=True)
class Case:
    """A scenario, its analytic values, and how to read the same metrics off a run."""

    name: str
    scenario: Scenario
    analytic: dict[str, float]
    measure: Measure
    approx_error: float | None = None  # hypercube: Larson's approximation vs exact workloads
    world: World | None = None  # already built for the analytic side, if it was


def mmc_case(
    servers: int, utilisation: float, arrivals: int = ARRIVALS_PER_REPLICATION,
    service_mean_s: float = MMC_SERVICE_MEAN_S,
) -> Case:
    """Return the M/M/c case with ``servers`` units at ``utilisation``.

    ``service_mean_s`` is what the engine is given; theory always uses the true mean,
    so a different value makes a case that must fail (for tests of the check itself).
    """
    mu = 1.0 / MMC_SERVICE_MEAN_S
    lam = utilisation * servers * mu
    scenario = _scenario(
        name=f"mmc-c{servers}-rho{utilisation:g}", xy=[(0.0, 0.0)], edges=[], stations=[0],
        units=servers, rates_per_s=[lam], arrivals=arrivals, service_mean_s=service_mean_s,
    )
    theory = erlang_c(lam, mu, servers)

    def measure(records: SimulationRecords, start_s: float, end_s: float) -> dict[str, float]:
        d = records.dispatches
        t_call = records.incidents.t_call_s[d["incident"]]
        counted = t_call >= start_s
        wait = (d["t_dispatch_s"] - t_call)[counted]
        return {
            "mean_wait_s": float(wait.mean()),
            "prob_wait": float((wait > 1e-9).mean()),
            "utilisation": _busy_share(d, None, start_s, end_s) / servers,
        }

    return Case(
        name=scenario.name,
        scenario=scenario,
        analytic={"mean_wait_s": theory.mean_wait, "prob_wait": theory.prob_wait,
                  "utilisation": theory.utilisation},
        measure=measure,
    )


def hypercube_case(
    units: int, rows: int, cols: int, layout_seed: int, arrivals: int = ARRIVALS_PER_REPLICATION
) -> Case:
    """Return a hypercube case: ``units`` stations on a rows x cols grid of atoms."""
    rng = np.random.default_rng(layout_seed)
    xy = [(c * GRID_SPACING_M, r * GRID_SPACING_M) for r in range(rows) for c in range(cols)]
    edges = [(r * cols + c, r * cols + c + 1) for r in range(rows) for c in range(cols - 1)]
    edges += [(r * cols + c, (r + 1) * cols + c) for r in range(rows - 1) for c in range(cols)]
    stations = sorted(rng.choice(rows * cols, units, replace=False).tolist())
    mu = 1.0 / SERVICE_MEAN_S
    weights = rng.uniform(0.5, 1.5, rows * cols)
    rates = weights / weights.sum() * 0.6 * units * mu  # 60% of capacity in all
    scenario = _scenario(
        name=f"hypercube-n{units}", xy=xy, edges=edges, stations=stations, units=units,
        rates_per_s=rates.tolist(), arrivals=arrivals, service_mean_s=SERVICE_MEAN_S,
    )
    world = build_world(scenario)
    travel = world.node_station_car_s[np.arange(rows * cols)].astype(float)  # (J, N) seconds
    preference = np.argsort(travel, axis=1, kind="stable")  # the engine's tie-break: lowest
    theory = hypercube_exact(rates, preference, mu, travel_time=travel, queue=True)
    approx = hypercube_approx(rates, preference, mu, travel_time=travel, queue=True)
    unit_station = world.fleets.patrol.station

    def measure(records: SimulationRecords, start_s: float, end_s: float) -> dict[str, float]:
        d = records.dispatches
        counted = records.incidents.t_call_s[d["incident"]] >= start_s
        out = {
            f"workload_unit{n}": _busy_share(d, np.flatnonzero(unit_station == n), start_s,
                                             end_s)
            for n in range(units)
        }
        out["mean_travel_s"] = float((d["t_arrive_s"] - d["t_dispatch_s"])[counted].mean())
        return out

    analytic = {f"workload_unit{n}": float(theory.workload[n]) for n in range(units)}
    analytic["mean_travel_s"] = float(theory.mean_travel_time or 0.0)
    return Case(name=scenario.name, scenario=scenario, analytic=analytic, measure=measure,
                approx_error=hypercube_error(theory, approx), world=world)


def default_cases() -> list[Case]:
    """Return the cases ``gridsim verify`` runs."""
    return [
        mmc_case(1, 0.5),
        mmc_case(5, 0.8),
        mmc_case(50, 0.95),
        hypercube_case(3, 2, 3, layout_seed=3),
        hypercube_case(9, 3, 6, layout_seed=9),
    ]


def run_case(case: Case, replications: int, root_seed: int) -> dict[str, np.ndarray]:
    """Return each metric's value in every replication of ``case``."""
    world = case.world if case.world is not None else build_world(case.scenario)
    end_s = case.scenario.duration_s
    start_s = WARMUP_SHARE * end_s
    values: dict[str, list[float]] = {metric: [] for metric in case.analytic}
    for seed in replication_seeds(root_seed, replications):
        incidents = generate_incidents(case.scenario, world.node_district, seed)
        measured = case.measure(simulate(world, incidents, seed), start_s, end_s)
        for metric, value in measured.items():
            values[metric].append(value)
    return {metric: np.array(v) for metric, v in values.items()}


def compare(
    cases: list[Case], results: list[dict[str, np.ndarray]]
) -> list[Comparison]:
    """Return one comparison per (case, metric) with simultaneous-95% t intervals."""
    count = sum(len(case.analytic) for case in cases)
    alpha = (1.0 - FAMILY_LEVEL) / count
    table = []
    for case, values in zip(cases, results, strict=True):
        for metric, analytic in case.analytic.items():
            mean, half = mean_ci(values[metric], 1.0 - alpha)
            table.append(Comparison(
                name=case.name, metric=metric, analytic=analytic, simulated=mean,
                ci_low=mean - half, ci_high=mean + half,
                ok=mean - half <= analytic <= mean + half,
            ))
    return table


def _busy_share(
    d: dict[str, np.ndarray], units: np.ndarray | None, start_s: float, end_s: float
) -> float:
    """Return busy unit-seconds of ``units`` (None: all) within the window, over its span."""
    rows = np.ones(d["kind"].shape[0], dtype=bool) if units is None else np.isin(
        d["responder"], units)
    return busy_unit_s(d, rows, start_s, end_s) / (end_s - start_s)


def _scenario(
    name: str, xy: list[tuple[float, float]], edges: list[tuple[int, int]],
    stations: list[int], units: int, rates_per_s: list[float], arrivals: int,
    service_mean_s: float,
) -> Scenario:
    """Return a police-only scenario on an explicit network, one district per node."""
    total_per_s = float(sum(rates_per_s))
    districts = [f"atom{j}" for j in range(len(xy))]
    data: dict[str, Any] = {
        "name": name,
        "duration_days": arrivals / (total_per_s * SECONDS_PER_DAY),
        "city": {
            "circuity": 1.0,
            "districts": [
                {"name": d, "population": 1000, "area_km2": 1.0, "lat": 0.0, "lon": 0.0,
                 "character": "urban_core"} for d in districts
            ],
            "car_speed_mps": {"urban_core": 10.0},
            "explicit": {"nodes_xy_m": xy, "node_district": districts, "edges": edges,
                         "station_nodes": stations},
        },
        "police": {"patrol_units": units, "patrol_shifts": [{"start_h": 0, "length_h": 24}],
                   "community_police": 0, "dispatch_delay_s": 0.0, "return_to_base": False},
        "mediators": {"count": 0},
        "grid_workers": {"per_grid": 0, "per_micro_grid": 0},
        "volunteers": {"count": 0},
        "watch_points": {"count": 0},
        "dispatch": {"mediation_types": []},
        "incidents": {"call": {
            "rate_per_day": total_per_s * SECONDS_PER_DAY,
            "hourly_profile": [1.0] * 24,
            "district_weights": dict(zip(districts, rates_per_s, strict=True)),
            "on_scene_s": {"dist": "exponential", "mean_s": service_mean_s},
            "responders": ["police"],
        }},
    }
    return Scenario.model_validate(data)
