"""``gridsim bench``: gridsim against bare simpy and the naive design, in one run.

Every timed simulation runs in a fresh child process that loads the world from a warm
disk cache, so its peak memory is its own and no run warms another's caches. Run wall
time is drawing the incidents plus simulating them; building the world is ``setup_s``.
The ratio runs are shorter than a year (the same length on both sides of each ratio) and
interleaved; each side is its fastest run, because timing noise on a shared machine only
ever adds time. The import figures read the default city written out as a 100,000-node
OpenStreetMap PBF (``city.osm_export``): cold (a fresh process, empty cache: osmnx import,
road graph, zones, catchments) and warm (a fresh process, the disk cache filled).
"""

from __future__ import annotations

import contextlib
import io
import math
import resource
import tempfile
import time
from collections.abc import Callable, Generator
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from multiprocessing import get_context
from pathlib import Path
from typing import Any

import numpy as np
import simpy

from gridsim.api import run
from gridsim.calls.example import write_example
from gridsim.city.osm_export import write_osm
from gridsim.city.synthetic import city_origin
from gridsim.core.cache import ArrayCache
from gridsim.core.units import DAYS_PER_YEAR
from gridsim.demand.incidents import generate_incidents
from gridsim.scenario import Scenario, load_scenario
from gridsim.sim.engine import simulate
from gridsim.validation.naive import naive_seconds, road_graph
from gridsim.world.build import WORLDS, build_world

BENCH_KEYS = (
    "simpy_us_per_event", "naive_us_per_incident", "gridsim_us_per_incident", "city_year_s",
    "setup_s", "peak_rss_mb", "scale_2x_ratio", "volunteer_2x_ratio", "speedup_vs_naive",
    "overhead_vs_simpy", "osm_import_s", "osm_import_peak_rss_mb", "calls_fit_rows",
    "calls_fit_s", "calls_fit_peak_rss_mb", "real_city",
)
GOALS = {  # key: (comparison, bound) from the city-year issue
    "overhead_vs_simpy": ("<=", 100.0),
    "speedup_vs_naive": (">=", 100.0),
    "peak_rss_mb": ("<=", 2000.0),
    "scale_2x_ratio": ("<=", 2.2),
    "volunteer_2x_ratio": ("<=", 1.3),
    "setup_s.warm": ("<=", 5.0),
    "city_year_s": ("<=", 90.0),
    # from the real-places issue ("Scale"): a 100,000-node OSM file, import + world build
    "osm_import_s.cold": ("<=", 180.0),
    "osm_import_s.warm": ("<=", 5.0),
    "osm_import_peak_rss_mb": ("<=", 4000.0),
    "calls_fit_s": ("<=", 60.0),  # a city-year CAD export (issue 13)
    "calls_fit_peak_rss_mb": ("<=", 2000.0),
    # the real-city issue (28): calls fit on the San Francisco year, and a calibration
    # point on the imported city against a plain run of it
    "real_city.calls_fit_s": ("<=", 20.0),
    "real_city.point_ratio": ("<=", 2.0),
}
# the San Francisco example of the repository (scenarios/; not in an installed wheel)
SF_SCENARIOS = Path(__file__).resolve().parents[3] / "scenarios"
SF_LOG = SF_SCENARIOS / "data" / "sf" / "sffd-calls-2018-ne-neighbourhoods.csv.gz"
SF_OVERRIDE = "unit_dispatch.travel_by_priority.1.factor=0.9"  # what a calibration varies
# day, about 1,050,000 unit rows (the million-row city-year log)
CALLS_EXPORT = (365, 7.5)
BENCH_SEED = 1


@dataclass(frozen=True)
class BenchPlan:
    """How long each measurement runs."""

    year_days: int  # the city-year run (extrapolated to 365 days when shorter)
    # with a shorter year, the fastest of this many one-day runs fixes the per-run cost
    day_repeats: int
    ratio_days: int  # each run of the 2x comparisons
    ratio_repeats: int  # each side of a ratio is the fastest of this many runs
    naive_incidents: int  # sample of incidents for the naive design
    simpy_events: int

    @classmethod
    def of(cls, quick: bool) -> BenchPlan:
        """Return the full plan, or the quick one (14-day year, 7-day ratio runs)."""
        if quick:
            return cls(year_days=14, day_repeats=3, ratio_days=7, ratio_repeats=3,
                       naive_incidents=150, simpy_events=300_000)
        return cls(year_days=DAYS_PER_YEAR, day_repeats=0, ratio_days=14, ratio_repeats=5,
                   naive_incidents=400, simpy_events=1_000_000)


def simpy_us_per_event(events: int) -> float:
    """Return microseconds per event of a bare simpy process yielding timeouts."""
    env = simpy.Environment()

    def ticker() -> Generator[simpy.Event, None, None]:
        for _ in range(events):
            yield env.timeout(1.0)

    env.process(ticker())
    started = time.perf_counter()
    env.run()
    return (time.perf_counter() - started) / events * 1e6


# The bench's load: the default city with the app-dispatch what-if's behaviour
# (scenarios/nanjing-app-dispatch.toml): about 1.8 million incidents a year and
# volunteers alerted for 57.5% of eligible calls, the heaviest case gridsim ships. The
# calibrated default (1.27 million, the app barely used) is lighter.
APP_DISPATCH_LOAD = (
    "incidents.dispute.rate_per_day=1600", "dispatch.volunteer_activation_scale=1.0",
    "incidents.traffic.activation_prob.volunteers=0.575",
    "incidents.theft.activation_prob.volunteers=0.575",
)


def bench_scenario(overrides: list[str] | tuple[str, ...] = ()) -> Scenario:
    """Return the bench's scenario: the default city under the app-dispatch load."""
    return load_scenario(None, [*APP_DISPATCH_LOAD, *overrides])


def timed_run(overrides: list[str], cache_dir: str) -> dict[str, float]:
    """Return wall seconds, incidents and peak RSS of one run (meant for a child process)."""
    scenario = bench_scenario(overrides)
    world = build_world(scenario, ArrayCache(Path(cache_dir)))
    started = time.perf_counter()
    incidents = generate_incidents(scenario, world.node_district, BENCH_SEED,
                                   world.catchments.watch_point_m)
    simulate(world, incidents, BENCH_SEED)
    wall_s = time.perf_counter() - started
    peak_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return {"wall_s": wall_s, "incidents": incidents.count, "peak_rss_mb": peak_kb / 1024.0}


def import_scenario(osm_path: str | Path, base: Scenario | None = None) -> Scenario:
    """Return ``base`` (default: the bench's) on the city in ``osm_path``, every node kept.

    The city becomes one district (the districts' summed population and area, centred
    on the synthetic city's origin): OSM files carry no district boundaries.
    """
    base = bench_scenario() if base is None else base
    data = base.model_dump(mode="json", exclude_unset=True)
    lat, lon = city_origin(base.city)
    data["city"]["districts"] = [{
        "name": "City", "lat": lat, "lon": lon,
        "population": sum(d.population for d in base.city.districts),
        "area_km2": sum(d.area_km2 for d in base.city.districts)}]
    data["city"]["osm"] = {"path": str(Path(osm_path).absolute()), "simplify": False}
    data.pop("missing_person", None)
    for kind in data.get("incidents", {}).values():
        kind.pop("district_weights", None)
    return Scenario.model_validate(data)


def timed_import(osm_path: str, cache_dir: str) -> dict[str, float]:
    """Return wall seconds, nodes and peak RSS of building an imported city's world."""
    scenario = import_scenario(osm_path)
    started = time.perf_counter()
    world = build_world(scenario, ArrayCache(Path(cache_dir)))
    wall_s = time.perf_counter() - started
    peak_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return {"wall_s": wall_s, "nodes": world.network.node_count,
            "peak_rss_mb": peak_kb / 1024.0}


CallsFitCommand = Callable[[Path, Path, Path | None, str | None], int]


def timed_calls_fit(calls_fit: CallsFitCommand, folder: str) -> dict[str, float]:
    """Return rows, wall seconds and peak RSS of ``calls_fit`` (the command) on an export."""
    log = Path(folder) / "calls.csv"
    rows = sum(1 for _ in log.open("rb")) - 1
    started = time.perf_counter()
    with contextlib.redirect_stdout(io.StringIO()):
        calls_fit(log, Path(folder) / "mapping.toml", Path(folder) / "fit", None)
    wall_s = time.perf_counter() - started
    peak_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return {"rows": rows, "wall_s": wall_s, "peak_rss_mb": peak_kb / 1024.0}


def timed_real_city(calls_fit: CallsFitCommand, folder: str) -> dict[str, float]:
    """Return seconds of calls fit on the SF year, a run of the fitted city, and a point.

    The road import is cached first (the fit is timed warm, as a planner's second fit);
    the plain run loads its world as ``gridsim run`` does; the calibration point changes a
    drive factor and reuses the process's world, as a calibration's worker does.
    """
    city = SF_SCENARIOS / "san-francisco-city.toml"
    mapping = SF_LOG.parent / "mapping.toml"
    build_world(load_scenario(city))
    started = time.perf_counter()
    with contextlib.redirect_stdout(io.StringIO()):
        calls_fit(SF_LOG, mapping, Path(folder) / "sf-fit", str(city))
    fit_s = time.perf_counter() - started
    fitted = Path(folder) / "sf-fit" / "scenario.toml"
    scenario = load_scenario(fitted)
    started = time.perf_counter()
    run(scenario, seed=BENCH_SEED, world=build_world(scenario))
    run_s = time.perf_counter() - started
    WORLDS.get(scenario)  # the worker's world, held from its first point
    point = load_scenario(fitted, [SF_OVERRIDE])
    started = time.perf_counter()
    run(point, seed=BENCH_SEED, world=WORLDS.get(point))
    point_s = time.perf_counter() - started
    return {"calls_fit_s": round(fit_s, 2), "run_s": round(run_s, 2),
            "point_s": round(point_s, 2), "point_ratio": round(point_s / run_s, 3)}


def _write_export(folder: str, days: int, scale: float) -> dict[str, float]:
    """Write the example CAD export generator's log of ``days`` at ``scale`` into ``folder``."""
    write_example(Path(folder), days, scale, BENCH_SEED)
    return {}


def _in_child(task: Callable[..., dict[str, float]], *args: Any) -> dict[str, float]:
    """Return ``task(*args)`` (``timed_run``, ``timed_import``) in a fresh child process."""
    with ProcessPoolExecutor(max_workers=1, mp_context=get_context("spawn")) as pool:
        return pool.submit(task, *args).result()


def run_bench(plan: BenchPlan, say: Callable[[str], None], calls_fit: CallsFitCommand
              ) -> dict[str, Any]:
    """Return the benchmark figures (keys ``BENCH_KEYS``), telling ``say`` each stage.

    ``calls_fit`` is the command line's ``calls fit`` (timed whole, figures included).
    """
    say(f"bare simpy: {plan.simpy_events:,} timeouts")
    floor_us = simpy_us_per_event(plan.simpy_events)
    scenario = bench_scenario()
    with tempfile.TemporaryDirectory(prefix="gridsim-bench-") as cache_dir:
        say("world setup, cold disk cache")
        started = time.perf_counter()
        build_world(scenario, ArrayCache(Path(cache_dir)))
        cold_s = time.perf_counter() - started
        say("world setup, warm disk cache")
        started = time.perf_counter()
        world = build_world(scenario, ArrayCache(Path(cache_dir)))
        warm_s = time.perf_counter() - started

        say(f"naive design: {plan.naive_incidents} incidents")
        incidents = generate_incidents(scenario, world.node_district, BENCH_SEED,
                                   world.catchments.watch_point_m)
        step = max(1, incidents.count // plan.naive_incidents)
        sample = incidents.subset(np.arange(0, incidents.count, step)[: plan.naive_incidents])
        naive_us = naive_seconds(world, sample, road_graph(world), BENCH_SEED) / sample.count * 1e6

        osm_path = Path(cache_dir) / "nanjing.osm.pbf"
        write_osm(world.network, city_origin(scenario.city), osm_path)
        say(f"OSM import: the default city as a {world.network.node_count:,}-node PBF, "
            "cold then warm disk cache, each in a fresh process")
        osm_cold = _in_child(timed_import, str(osm_path), cache_dir)
        osm_warm = _in_child(timed_import, str(osm_path), cache_dir)

        days, scale = CALLS_EXPORT
        say(f"calls fit: writing a CAD export of {days} days at {scale:g}x the example's "
            "rates, then gridsim calls fit on it")
        export = str(Path(cache_dir) / "cad")
        _in_child(_write_export, export, days, scale)
        fit = _in_child(timed_calls_fit, calls_fit, export)

        say("real city: calls fit on the San Francisco year, a run of the fitted city, and a "
            "calibration point on it")
        real_city = (_in_child(timed_real_city, calls_fit, cache_dir) if SF_LOG.is_file()
                     else {"calls_fit_s": math.nan, "point_ratio": math.nan})

        say(f"gridsim: the default scenario for {plan.year_days} days")
        year = _in_child(timed_run, [f"duration_days={plan.year_days}"], cache_dir)
        gridsim_us = year["wall_s"] / year["incidents"] * 1e6
        city_year_s = year["wall_s"]
        if plan.year_days < DAYS_PER_YEAR:
            say(f"gridsim: one day, fastest of {plan.day_repeats}, for the per-run cost")
            day_s = min(_in_child(timed_run, ["duration_days=1"], cache_dir)["wall_s"]
                        for _ in range(plan.day_repeats))
            city_year_s = city_year(day_s, year["wall_s"], plan.year_days)

        say(f"ratios: 2x incident rate, and 146,000 volunteers with twice the radius, "
            f"against the default; {plan.ratio_days} days each, fastest of "
            f"{plan.ratio_repeats} interleaved runs")
        radius = 2 * scenario.dispatch.volunteer_radius_m
        variants = {
            "normal": [],
            "doubled": _double_rates(scenario),
            "volunteers": ["volunteers.count=146000", f"dispatch.volunteer_radius_m={radius}"],
        }
        fastest = {name: np.inf for name in variants}
        for _ in range(plan.ratio_repeats):  # interleaved, so a slow spell hits all alike
            for name, overrides in variants.items():
                wall_s = _in_child(timed_run, [f"duration_days={plan.ratio_days}", *overrides],
                                   cache_dir)["wall_s"]
                fastest[name] = min(fastest[name], wall_s)
    return {
        "simpy_us_per_event": round(floor_us, 3),
        "naive_us_per_incident": round(naive_us, 1),
        "gridsim_us_per_incident": round(gridsim_us, 2),
        "city_year_s": round(city_year_s, 1),
        "setup_s": {"cold": round(cold_s, 2), "warm": round(warm_s, 2)},
        "peak_rss_mb": round(year["peak_rss_mb"], 1),
        "scale_2x_ratio": round(fastest["doubled"] / fastest["normal"], 3),
        "volunteer_2x_ratio": round(fastest["volunteers"] / fastest["normal"], 3),
        "speedup_vs_naive": round(naive_us / gridsim_us, 1),
        "overhead_vs_simpy": round(gridsim_us / floor_us, 1),
        "osm_import_s": {"cold": round(osm_cold["wall_s"], 2),
                         "warm": round(osm_warm["wall_s"], 2)},
        "osm_import_peak_rss_mb": round(osm_cold["peak_rss_mb"], 1),
        "calls_fit_rows": int(fit["rows"]),
        "calls_fit_s": round(fit["wall_s"], 2),
        "calls_fit_peak_rss_mb": round(fit["peak_rss_mb"], 1),
        "real_city": real_city,
    }


def city_year(day_s: float, days_s: float, days: int) -> float:
    """Return a year's wall seconds from one day's and ``days`` days' (a line through both).

    A run costs a fixed part (dispatcher set-up, one random stream per unit) plus a part
    per day; scaling the ``days`` run alone by 365 / days would count the fixed part
    365 / days times over.
    """
    per_day_s = max(0.0, (days_s - day_s) / (days - 1))
    return days_s + per_day_s * (DAYS_PER_YEAR - days)


def check_goals(figures: dict[str, Any]) -> dict[str, bool]:
    """Return, for each goal, whether ``figures`` meet it."""
    verdicts = {}
    for key, (op, bound) in GOALS.items():
        value: Any = figures
        for part in key.split("."):
            value = value[part]
        verdicts[key] = float(value) <= bound if op == "<=" else float(value) >= bound
    return verdicts


def _double_rates(scenario: Scenario) -> list[str]:
    return [f"incidents.{name}.rate_per_day={2 * kind.rate_per_day}"
            for name, kind in scenario.incidents.items()]
