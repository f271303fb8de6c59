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
* Priority M/M/c: as M/M/c, with incident types of different priorities that the
  dispatcher queues non-preemptively, most urgent first. Compared with Cobham's formula:
  each type's mean wait.
* Preemptive priority M/M/c: as M/M/c, where a priority-1 call that finds every unit busy
  takes one from a priority-2 call, which is queued again with the on-scene time it had
  left. Compared with Buzen and Bondi (1983): each type's mean delay.

Peer cases (:func:`peer_cases`) have no closed form: a loaded system with travel added to
service, shifts, or two stations lending each other units. :class:`PeerSystem` describes
each so that another simulator can build the same queue; :func:`compare_peer` sets the
two sets of replications side by side with Welch intervals (tests/test_ciw_peer.py does
this with Ciw).

Replications get independent seeds spawned from one root seed. Every confidence interval
is a t interval over replication means, at a simultaneous (Bonferroni) 95% level for
the whole table, so one run flags a case by chance with probability at most 5%.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy import stats

from gridsim.analysis.metrics import busy_unit_s
from gridsim.core.stats import mean_ci
from gridsim.core.units import SECONDS_PER_DAY, SECONDS_PER_HOUR
from gridsim.demand.incidents import generate_incidents
from gridsim.scenario.schema import Duration, Scenario
from gridsim.sim.engine import simulate
from gridsim.sim.records import SimulationRecords
from gridsim.studies.experiment import replication_seeds
from gridsim.validation.analytic import (
    erlang_c,
    hypercube_approx,
    hypercube_error,
    hypercube_exact,
    preemptive_priority_mmc,
    priority_mmc,
)
from gridsim.world.build import World, build_world

FAMILY_LEVEL = 0.95
SERVICE_MEAN_S = 1800.0  # hypercube cases: travel (seconds) is tiny beside it
MMC_SERVICE_MEAN_S = 300.0  # M/M/c cases: keeps even M/M/1 within a year of calls
ARRIVALS_PER_REPLICATION = 20_000
WARMUP_SHARE = 0.1  # the first tenth of each replication is discarded
GRID_SPACING_M = 10.0
CAR_SPEED_MPS = 10.0  # every explicit case drives at this speed
PEER_ARRIVALS = 20_000  # calls per replication of a peer case
PEER_ON_SCENE = Duration(dist="lognormal", mean_s=1200.0, cv=0.6)
PEER_DISTANCE_M = 3000.0  # station to call node in the one-station peer cases (300 s)
PRIORITY_SHARES = (0.2, 0.3, 0.5)  # of calls with priority 1, 2, 3
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
    peer: PeerSystem | None = None  # peer cases: the same queue for another simulator


@dataclass(frozen=True, eq=False)
class PeerSystem:
    """A peer case's queue as another simulator needs it; times in seconds.

    Station s's calls arrive as a Poisson stream of ``call_rates_per_s[s]`` at one node,
    whose one-way car time to station t is ``travel_s[s, t]`` (read from the engine's own
    matrix). A call takes a free unit of the nearest station that has one, else waits,
    first come first served, for the first unit to free. A unit is busy for the drive
    there, the on-scene time and, with ``return_to_base``, the drive back. ``duty`` (one
    station only) is the daily roster as (end hour, units on duty) pairs: at each end
    every unit goes off duty, a busy one after its call, and the next shift's come on.
    Metrics count calls from ``warmup_s`` to ``duration_s`` and busy time in that window.
    """

    call_rates_per_s: tuple[float, ...]
    units: tuple[int, ...]  # units based at each station
    travel_s: np.ndarray  # (stations, stations) one-way car seconds, call node to station
    on_scene: Duration
    return_to_base: bool
    duration_s: float
    warmup_s: float
    duty: tuple[tuple[float, int], ...] | None = None

    def duty_unit_s(self, station: int) -> float:
        """Return the unit-seconds station ``station`` has on duty in the counted window."""
        if self.duty is None:
            return self.units[station] * (self.duration_s - self.warmup_s)
        total = 0.0
        days = int(np.ceil(self.duration_s / SECONDS_PER_DAY))
        for day in range(days + 1):
            start_h = 0.0
            for end_h, units in self.duty:
                begin = max(day * SECONDS_PER_DAY + start_h * SECONDS_PER_HOUR, self.warmup_s)
                end = min(day * SECONDS_PER_DAY + end_h * SECONDS_PER_HOUR, self.duration_s)
                total += units * max(0.0, end - begin)
                start_h = end_h
        return total


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


def priority_case(
    servers: int, utilisation: float, shares: Sequence[float] = PRIORITY_SHARES,
    arrivals: int = ARRIVALS_PER_REPLICATION, engine_priorities: Sequence[int] | None = None,
) -> Case:
    """Return the priority M/M/c case: type ``pk`` has priority k and ``shares[k-1]`` of calls.

    ``engine_priorities`` is what the engine is given (default 1, 2, ...); theory always
    ranks the types in order, so another order makes a case that must fail.
    """
    mu = 1.0 / MMC_SERVICE_MEAN_S
    lam = utilisation * servers * mu
    names = [f"p{k + 1}" for k in range(len(shares))]
    given = list(engine_priorities) if engine_priorities is not None else list(
        range(1, len(shares) + 1))
    scenario = _scenario(
        name=f"priority-c{servers}-rho{utilisation:g}", xy=[(0.0, 0.0)], edges=[],
        stations=[0], units=servers, rates_per_s=[lam], arrivals=arrivals,
        service_mean_s=MMC_SERVICE_MEAN_S,
        types=[(name, priority, share) for name, priority, share in zip(
            names, given, shares, strict=True)],
    )
    theory = priority_mmc([share * lam for share in shares], mu, servers)

    def measure(records: SimulationRecords, start_s: float, end_s: float) -> dict[str, float]:
        d = records.dispatches
        incidents = records.incidents
        t_call = incidents.t_call_s[d["incident"]]
        wait = d["t_dispatch_s"] - t_call
        type_id = incidents.type_id[d["incident"]]
        counted = t_call >= start_s
        return {
            f"mean_wait_s_{name}": float(
                wait[counted & (type_id == incidents.type_names.index(name))].mean())
            for name in names
        }

    return Case(
        name=scenario.name,
        scenario=scenario,
        analytic={f"mean_wait_s_{name}": w for name, w in zip(
            names, theory.mean_waits, strict=True)},
        measure=measure,
    )


def preemptive_case(
    servers: int, utilisation: float, urgent_share: float = 0.3,
    arrivals: int = ARRIVALS_PER_REPLICATION, preempt: bool = True,
) -> Case:
    """Return the preemptive-resume priority M/M/c case: p1 calls take units from p2 calls.

    A p2 call whose unit is taken is queued again with the on-scene time it had left. The
    metric is each type's mean delay: completion less call time less on-scene time.
    ``preempt=False`` runs the same system without preemption, a case that must fail.
    """
    mu = 1.0 / MMC_SERVICE_MEAN_S
    lam = utilisation * servers * mu
    shares = (urgent_share, 1.0 - urgent_share)
    names = ("p1", "p2")
    base = _scenario(
        name=f"preemptive-c{servers}-rho{utilisation:g}", xy=[(0.0, 0.0)], edges=[],
        stations=[0], units=servers, rates_per_s=[lam], arrivals=arrivals,
        service_mean_s=MMC_SERVICE_MEAN_S,
        types=[(name, k + 1, share) for k, (name, share) in enumerate(zip(
            names, shares, strict=True))],
    )
    police = base.police.model_copy(update={
        "preempt_priority_max": 1 if preempt else 0, "preempt_victim_min": 2})
    scenario = base.model_copy(update={"police": police})
    theory = preemptive_priority_mmc([share * lam for share in shares], mu, servers)

    def measure(records: SimulationRecords, start_s: float, end_s: float) -> dict[str, float]:
        d, incidents = records.dispatches, records.incidents
        done_s = np.full(incidents.count, -np.inf)
        np.maximum.at(done_s, d["incident"], d["t_free_s"])
        delay = done_s - incidents.t_call_s - incidents.on_scene_s
        counted = incidents.t_call_s >= start_s
        return {
            f"mean_delay_s_{name}": float(
                delay[counted & (incidents.type_id == incidents.type_names.index(name))].mean())
            for name in names
        }

    return Case(
        name=scenario.name, scenario=scenario,
        analytic={f"mean_delay_s_{name}": w for name, w in zip(names, theory, strict=True)},
        measure=measure,
    )


def mgc_return_case(
    units: int = 4, utilisation: float = 0.85, arrivals: int = PEER_ARRIVALS,
    engine_on_scene: Duration | None = None,
) -> Case:
    """Return the M/G/c peer case: units drive 3 km to the call and back around on-scene.

    ``engine_on_scene`` is what the engine is given (default: the peer's), so a different
    one makes a case that must fail.
    """
    service_mean_s = 2.0 * PEER_DISTANCE_M / CAR_SPEED_MPS + PEER_ON_SCENE.mean_s
    lam = utilisation * units / service_mean_s
    return _peer_case(
        f"mgc-c{units}-rho{utilisation:g}-return", [(0.0, 0.0), (PEER_DISTANCE_M, 0.0)],
        stations=[0], call_nodes=[1], call_rates_per_s=[lam], populations=[1, 1],
        duty=[(24.0, units)], arrivals=arrivals, engine_on_scene=engine_on_scene,
    )


def shift_case(arrivals: int = PEER_ARRIVALS) -> Case:
    """Return the shift peer case: 4 units on hours 0-12, 2 on 12-24, at 0.6 and 1.2 load.

    Calls queue through the thin half of the day and clear in the other; units going
    off duty finish their call first. Travel and on-scene as in :func:`mgc_return_case`.
    """
    service_mean_s = 2.0 * PEER_DISTANCE_M / CAR_SPEED_MPS + PEER_ON_SCENE.mean_s
    lam = 2.4 / service_mean_s
    return _peer_case(
        "shifts-4day-2night-return", [(0.0, 0.0), (PEER_DISTANCE_M, 0.0)], stations=[0],
        call_nodes=[1], call_rates_per_s=[lam], populations=[1, 1],
        duty=[(12.0, 4), (24.0, 2)], arrivals=arrivals,
    )


def two_station_case(arrivals: int = PEER_ARRIVALS) -> Case:
    """Return the two-station peer case: 3 units each, 2 km apart, calls at each station.

    Station 0's calls load its units to 0.9, station 1's to 0.5 (on-scene alone), so
    station 0 often borrows a unit from station 1, which then drives 200 s each way.
    """
    mean_s = PEER_ON_SCENE.mean_s
    return _peer_case(
        "two-stations-3x2-return", [(0.0, 0.0), (2000.0, 0.0)], stations=[0, 1],
        call_nodes=[0, 1], call_rates_per_s=[0.9 * 3 / mean_s, 0.5 * 3 / mean_s],
        populations=[1, 1], duty=[(24.0, 6)], arrivals=arrivals,
    )


def peer_cases(arrivals: int = PEER_ARRIVALS) -> list[Case]:
    """Return the loaded cases with no closed form, compared with a peer simulator."""
    return [mgc_return_case(arrivals=arrivals), shift_case(arrivals),
            two_station_case(arrivals)]


def default_cases() -> list[Case]:
    """Return the cases ``gridsim verify`` runs."""
    return [
        mmc_case(1, 0.5),
        mmc_case(5, 0.8),
        mmc_case(50, 0.95),
        priority_case(4, 0.88),
        preemptive_case(4, 0.85),
        hypercube_case(3, 2, 3, layout_seed=3),
        hypercube_case(9, 3, 6, layout_seed=9),
    ]


def run_case(case: Case, replications: int, root_seed: int) -> dict[str, np.ndarray]:
    """Return each metric's value in every replication of ``case``."""
    world = case.world if case.world is not None else build_world(case.scenario)
    end_s = case.scenario.duration_s
    start_s = WARMUP_SHARE * end_s
    values: dict[str, list[float]] = {}
    for seed in replication_seeds(root_seed, replications):
        incidents = generate_incidents(case.scenario, world.node_district, seed)
        measured = case.measure(simulate(world, incidents, seed), start_s, end_s)
        for metric, value in measured.items():
            values.setdefault(metric, []).append(value)
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


def compare_peer(
    cases: list[Case], ours: list[dict[str, np.ndarray]],
    theirs: list[dict[str, np.ndarray]], family_level: float = FAMILY_LEVEL,
    family_rows: int | None = None,
) -> list[Comparison]:
    """Return one row per (case, metric): the peer's mean beside ours, Welch-tested.

    Each row's ``analytic`` is the peer simulator's mean and its interval is our mean
    plus or minus the half-width of the Welch t interval for the difference of the two
    means, at a simultaneous ``family_level`` over ``family_rows`` rows (Bonferroni;
    default: these): ``ok`` means the difference interval holds zero, which is the
    peer's mean lying inside ours.
    """
    count = family_rows or sum(len(values) for values in ours)
    level = 1.0 - (1.0 - family_level) / count
    table = []
    for case, mine, peer in zip(cases, ours, theirs, strict=True):
        for metric, values in mine.items():
            half = welch_half_width(values, peer[metric], level)
            mean, other = float(values.mean()), float(peer[metric].mean())
            table.append(Comparison(
                name=case.name, metric=metric, analytic=other, simulated=mean,
                ci_low=mean - half, ci_high=mean + half, ok=abs(mean - other) <= half,
            ))
    return table


def welch_half_width(a: np.ndarray, b: np.ndarray, level: float) -> float:
    """Return the half-width of the Welch t interval for mean(a) - mean(b) at ``level``."""
    va, vb = float(a.var(ddof=1)) / a.shape[0], float(b.var(ddof=1)) / b.shape[0]
    se2 = va + vb
    if se2 == 0.0:
        return 0.0
    df = se2**2 / (va**2 / (a.shape[0] - 1) + vb**2 / (b.shape[0] - 1))
    return float(stats.t.ppf(0.5 + level / 2.0, df)) * float(np.sqrt(se2))


def peer_metrics(
    system: PeerSystem, call_station: np.ndarray, t_call_s: np.ndarray, wait_s: np.ndarray,
    busy_from_s: np.ndarray, busy_to_s: np.ndarray, unit_station: np.ndarray,
) -> dict[str, float]:
    """Return a peer case's metrics from one run, whichever simulator made it.

    Per call (``call_station``: whose calls they are): mean wait and P(wait) over the
    calls made after the warm-up. Per busy spell (``unit_station``: whose unit it was):
    utilisation, the busy unit-seconds inside the window over the unit-seconds on duty.
    """
    counted = t_call_s >= system.warmup_s
    many = len(system.units) > 1
    out: dict[str, float] = {}
    for s in range(len(system.call_rates_per_s)):
        suffix = f"_station{s}" if many else ""
        wait = wait_s[counted & (call_station == s)]
        out[f"mean_wait_s{suffix}"] = float(wait.mean())
        out[f"prob_wait{suffix}"] = float((wait > 1e-9).mean())
    for s in range(len(system.units)):
        suffix = f"_station{s}" if many else ""
        rows = unit_station == s
        begin = np.clip(busy_from_s[rows], system.warmup_s, system.duration_s)
        finish = np.clip(busy_to_s[rows], system.warmup_s, system.duration_s)
        out[f"utilisation{suffix}"] = float((finish - begin).sum()) / system.duty_unit_s(s)
    return out


def _peer_case(
    name: str, xy: list[tuple[float, float]], stations: list[int], call_nodes: list[int],
    call_rates_per_s: list[float], populations: list[int],
    duty: list[tuple[float, int]], arrivals: int, engine_on_scene: Duration | None = None,
) -> Case:
    """Return a peer case on a path of roads through ``xy``, and its :class:`PeerSystem`."""
    edges = [(k, k + 1) for k in range(len(xy) - 1)]
    rates = np.zeros(len(xy))
    rates[call_nodes] = call_rates_per_s
    shifts, units = _roster(duty)
    scenario = _scenario(
        name=name, xy=xy, edges=edges, stations=stations, units=units,
        rates_per_s=rates.tolist(), arrivals=arrivals, service_mean_s=PEER_ON_SCENE.mean_s,
        on_scene=engine_on_scene or PEER_ON_SCENE, shifts=shifts, return_to_base=True,
        populations=populations,
    )
    world = build_world(scenario)
    fleet = world.fleets.patrol
    per_station = np.bincount(fleet.station, minlength=len(stations))
    system = PeerSystem(
        call_rates_per_s=tuple(call_rates_per_s),
        units=tuple(int(n) for n in per_station),
        travel_s=world.node_station_car_s[call_nodes].astype(float),
        on_scene=PEER_ON_SCENE,
        return_to_base=True,
        duration_s=scenario.duration_s,
        warmup_s=WARMUP_SHARE * scenario.duration_s,
        duty=tuple(duty) if len(duty) > 1 else None,
    )
    if len(duty) > 1:  # the engine must roster exactly these units (one station)
        starts = [0.0] + [end_h for end_h, _ in duty[:-1]]
        on = [int((fleet.shift_start_h == start).sum()) for start in starts]
        if len(stations) != 1 or on != [n for _, n in duty]:
            raise RuntimeError(f"{name}: the engine rosters {on} units, not {duty}")
    call_station = np.full(len(xy), -1)
    call_station[call_nodes] = np.arange(len(call_nodes))
    unit_station = fleet.station

    def measure(records: SimulationRecords, start_s: float, end_s: float) -> dict[str, float]:
        d = records.dispatches
        t_call = records.incidents.t_call_s[d["incident"]]
        return peer_metrics(
            system, call_station[records.incidents.node[d["incident"]]], t_call,
            d["t_dispatch_s"] - t_call, d["t_dispatch_s"], d["t_free_s"],
            unit_station[d["responder"]],
        )

    return Case(name=name, scenario=scenario, analytic={}, measure=measure, world=world,
                peer=system)


def _roster(duty: list[tuple[float, int]]) -> tuple[list[tuple[float, float]], int]:
    """Return shifts (start_h, length_h) listed so that units taking them in turn give ``duty``.

    Units take the listed shifts in turn, so shift k is listed units_k / g times, with g
    the greatest common divisor of the counts; returns the list and the unit count.
    """
    counts = [n for _, n in duty]
    g = int(np.gcd.reduce(counts))
    shifts: list[tuple[float, float]] = []
    start_h = 0.0
    for end_h, n in duty:
        shifts += [(start_h, end_h - start_h)] * (n // g)
        start_h = end_h
    return shifts, sum(counts)


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
    service_mean_s: float, types: Sequence[tuple[str, int, float]] = (("call", 3, 1.0),),
    on_scene: Duration | None = None, shifts: list[tuple[float, float]] | None = None,
    return_to_base: bool = False, populations: list[int] | None = None,
) -> Scenario:
    """Return a police-only scenario on an explicit network, one district per node.

    Calls at node j come at ``rates_per_s[j]``, shared among ``types`` (name, priority,
    share); on-scene times are exponential with ``service_mean_s`` unless ``on_scene``.
    """
    total_per_s = float(sum(rates_per_s))
    districts = [f"atom{j}" for j in range(len(xy))]
    people = populations or [1000] * len(xy)
    duration = on_scene.model_dump() if on_scene is not None else {
        "dist": "exponential", "mean_s": service_mean_s}
    duty = [{"start_h": 0, "length_h": 24}] if shifts is None else [
        {"start_h": start, "length_h": length} for start, length in shifts]
    data: dict[str, Any] = {
        "name": name,
        "duration_days": arrivals / (total_per_s * SECONDS_PER_DAY),
        "city": {
            "circuity": 1.0,
            "districts": [
                {"name": d, "population": p, "area_km2": 1.0, "lat": 0.0, "lon": 0.0,
                 "character": "urban_core"} for d, p in zip(districts, people, strict=True)
            ],
            "car_speed_mps": {"urban_core": CAR_SPEED_MPS},
            "explicit": {"nodes_xy_m": xy, "node_district": districts, "edges": edges,
                         "station_nodes": stations},
        },
        "police": {"patrol_units": units, "patrol_shifts": duty, "community_police": 0,
                   "dispatch_delay_s": 0.0, "return_to_base": return_to_base},
        "mediators": {"count": 0},
        "grid_workers": {"per_grid": 0, "per_micro_grid": 0},
        "volunteers": {"count": 0},
        "watch_points": {"count": 0},
        "dispatch": {"mediation_types": []},
        "incidents": {type_name: {
            "rate_per_day": share * total_per_s * SECONDS_PER_DAY,
            "hourly_profile": [1.0] * 24,
            "district_weights": dict(zip(districts, rates_per_s, strict=True)),
            "priority": priority,
            "on_scene_s": duration,
            "responders": ["police"],
        } for type_name, priority, share in types},
    }
    return Scenario.model_validate(data)
