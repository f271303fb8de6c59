"""The missing-person study: one subject, replayed under each search strategy.

Every strategy sees the same subject in replication r (common random numbers: the
subject's walk comes from its own stream), so the strategies' differences are theirs.
Strategies add layers one at a time: police only; + grid push; + volunteers; + watch
points; and all of them with Bayesian allocation instead of each searcher sweeping its
own area.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import simpy
from scipy.sparse import csgraph
from scipy.spatial import cKDTree

from gridsim.city.places import mark_places
from gridsim.city.synthetic import river_xy_m
from gridsim.experiment import replication_seeds
from gridsim.metrics import quantile_ci
from gridsim.rng import stream
from gridsim.scenario.schema import Behaviour, MissingPerson, Scenario
from gridsim.search.movement import (
    Area,
    Trajectory,
    draw_destination,
    place_weights,
    trajectory_to,
)
from gridsim.search.searchers import (
    Searcher,
    SearchState,
    bayesian_searcher,
    naive_searcher,
    pairwise_distance_m,
)
from gridsim.world import World

STRATEGIES: dict[str, tuple[tuple[str, ...], bool]] = {  # name: (layers, Bayesian)
    "police only": (("police",), False),
    "+ grid push": (("police", "grid"), False),
    "+ volunteers": (("police", "grid", "volunteer"), False),
    "+ watch points": (("police", "grid", "volunteer", "watch_point"), False),
    "all, Bayesian allocation": (("police", "grid", "volunteer", "watch_point"), True),
}
PRIOR_SAMPLES = 4000
PRIOR_FLOOR = 0.05  # share of the prior spread evenly, so no node is ever ruled out
VOLUNTEER_SWEEP_M = 500.0
FOOT_REACH_M = 2000.0
WATCH_POINT_CHECK_S = 3600.0  # a subject staying in a watch point's sight: a look an hour
FIND_WITHIN_H = (1, 3, 6)


@dataclass(frozen=True, eq=False)
class Study:
    """Everything fixed across replications: the area, the prior, who could search."""

    scenario: Scenario
    spec: MissingPerson
    behaviour: Behaviour
    area: Area
    weights: np.ndarray  # attraction weight per area node
    distance_m: np.ndarray  # (A, A) float32 straight-line distances between area nodes
    prior: np.ndarray  # probability map over area nodes
    world: World
    grid_workers: np.ndarray  # fleet ids of workers of the LKP grid and its neighbours
    volunteers_near: np.ndarray  # fleet ids of volunteers within the recruiting radius
    watch_points: np.ndarray  # area indices of watch points in the area
    watch_point_near: np.ndarray  # (A,) bool: a watch point can see this node
    station_index: int  # area index of the nearest station (or the LKP)


def build_study(world: World) -> Study:
    """Return the study of ``world.scenario.missing_person``."""
    scenario = world.scenario
    spec = scenario.missing_person
    assert spec is not None
    behaviour = spec.behaviours[spec.category]
    net = world.network
    district = world.district_names.index(spec.district)
    members = np.flatnonzero(world.node_district == district)
    centre = net.xy_m[members].mean(axis=0)
    lkp = int(members[np.argmin(np.hypot(*(net.xy_m[members] - centre).T))])

    tree = cKDTree(net.xy_m)
    nodes = np.array(sorted(tree.query_ball_point(net.xy_m[lkp], spec.search_radius_m)))
    road_m, predecessor = csgraph.dijkstra(net.graph(), directed=False, indices=lkp,
                                           return_predecessors=True,
                                           limit=2.0 * spec.search_radius_m)
    places = _places(world)
    area = Area(
        lkp=lkp, nodes=nodes, xy_m=net.xy_m[nodes],
        straight_m=np.hypot(*(net.xy_m[nodes] - net.xy_m[lkp]).T),
        road_m=road_m[nodes], predecessor=predecessor, place=places[nodes],
        grid=world.zones.node_grid[nodes],
    )
    weights = place_weights(area, behaviour)
    prior = _prior(area, behaviour, weights, stream(scenario.seed, "search.prior"))

    lkp_grid = int(world.zones.node_grid[lkp])
    grid_nodes = np.flatnonzero(world.zones.node_grid == lkp_grid)
    rows = np.repeat(np.arange(net.node_count), np.diff(net.indptr))
    touching = np.isin(rows, grid_nodes)
    grids = np.unique(world.zones.node_grid[net.indices[touching]])
    grid_workers = np.flatnonzero(np.isin(world.fleets.grid_workers.grid, grids))
    vol_xy = net.xy_m[world.fleets.volunteers.base_node]
    volunteers_near = np.flatnonzero(
        np.hypot(*(vol_xy - net.xy_m[lkp]).T) <= spec.volunteer_radius_m)
    position = {int(n): i for i, n in enumerate(nodes.tolist())}
    watch_points = np.array(sorted(position[n] for n in world.fleets.watch_point_node.tolist()
                                   if n in position), dtype=np.int64)
    sight = scenario.watch_points.radius_m
    watch_point_near = np.zeros(nodes.shape[0], dtype=bool)
    if watch_points.shape[0]:
        seen = cKDTree(area.xy_m[watch_points]).query(area.xy_m, distance_upper_bound=sight)[0]
        watch_point_near = np.isfinite(seen)
    station = int(world.zones.station_node[world.zones.node_station[lkp]])
    return Study(
        scenario=scenario, spec=spec, behaviour=behaviour, area=area, weights=weights,
        distance_m=pairwise_distance_m(area.xy_m),
        prior=prior, world=world, grid_workers=grid_workers, volunteers_near=volunteers_near,
        watch_points=watch_points, watch_point_near=watch_point_near,
        station_index=position.get(station, position[lkp]),
    )


def run_one(study: Study, strategy: str, seed: int) -> dict[str, Any]:
    """Return the outcome of one replication of one strategy."""
    spec, area = study.spec, study.area
    layers, bayesian = STRATEGIES[strategy]
    subject = draw_subject(study, seed)
    destination_index = int(np.searchsorted(area.nodes, subject.destination))
    report_s = spec.report_delay_h * 3600.0
    horizon_s = report_s + spec.horizon_h * 3600.0
    found_index = np.minimum(np.searchsorted(area.nodes, subject.nodes), area.nodes.shape[0] - 1)
    # the path may leave the search area on its way; there nobody can find him
    path_index = np.where(area.nodes[found_index] == subject.nodes, found_index, -1)

    def subject_at(t_s: float) -> int:
        step = int(np.searchsorted(subject.t_s, t_s, side="right")) - 1
        return int(path_index[max(0, step)])

    state = SearchState(subject_at=subject_at, is_night=lambda t: _is_night(spec, t),
                        probability=study.prior.copy(), xy_m=area.xy_m,
                        distance_m=study.distance_m)
    env = simpy.Environment()
    searchers = build_searchers(study, layers, seed, report_s)
    for searcher in searchers:
        process = bayesian_searcher if bayesian else naive_searcher
        env.process(process(env, searcher, state))
    if "watch_point" in layers:
        _watch_points(study, subject, state, seed, report_s, horizon_s)
    env.run(until=horizon_s)
    found = state.found_at_s is not None and state.found_at_s <= horizon_s
    end_s = state.found_at_s if found and state.found_at_s is not None else horizon_s
    critical_s = float(spec.critical_time_s.sample(stream(seed, "search.critical"), 1)[0])
    return {
        "strategy": strategy,
        "seed": seed,
        "found": found,
        "time_to_find_s": (end_s - report_s) if found else float("inf"),
        "found_by": state.found_by if found else "",
        "critical_s": critical_s,
        "before_critical": found and end_s <= critical_s,
        "searcher_hours": sum(max(0.0, end_s - s.start_s) for s in searchers) / 3600.0,
        "destination_node": subject.destination,
        "destination_km": float(area.straight_m[destination_index]) / 1000.0,
        "mapscore": mapscore(study.prior, destination_index),
    }


def draw_subject(study: Study, seed: int) -> Trajectory:
    """Return replication ``seed``'s subject: the same in every strategy."""
    rng = stream(seed, "search.subject")
    index = draw_destination(study.area, study.behaviour, study.weights, rng)
    return trajectory_to(study.area, index, study.world.network,
                         study.behaviour.walk_speed_mps)


def build_searchers(study: Study, layers: tuple[str, ...], seed: int, report_s: float
                    ) -> list[Searcher]:
    """Return the searchers the strategy's layers put in the field."""
    spec, area, world = study.spec, study.area, study.world
    order_from_lkp = np.argsort(area.straight_m, kind="stable")
    out: list[Searcher] = []

    def add(name: str, kind: str, start_index: int, route: np.ndarray, reach_m: float
            ) -> None:
        cfg = getattr(spec, kind)
        out.append(Searcher(
            name=name, start_index=start_index, start_s=report_s + cfg.start_delay_s,
            speed_mps=cfg.speed_mps, inspect_s=cfg.inspect_s, pod_day=cfg.pod_day,
            pod_night=cfg.pod_night, route=tuple(route.tolist()), reach_m=reach_m,
            rng=stream(seed, f"search.detect.{name}"),
        ))

    if "police" in layers:
        for unit in range(spec.police_units):
            add(f"police{unit}", "police", study.station_index,
                order_from_lkp[unit::max(spec.police_units, 1)], np.inf)
    if "grid" in layers:
        for worker in study.grid_workers.tolist():
            home = _index_near(area, world.network.xy_m[world.fleets.grid_workers.base_node[
                worker]])
            own = np.flatnonzero(area.grid == world.fleets.grid_workers.grid[worker])
            add(f"grid{worker}", "grid", home, _sweep_from(area, home, own), FOOT_REACH_M)
    if "volunteer" in layers:
        rng = stream(seed, "search.volunteers")
        hour_night = _is_night(spec, report_s)
        accept = spec.volunteer_acceptance_night if hour_night else spec.volunteer_acceptance_day
        willing = study.volunteers_near[rng.random(study.volunteers_near.shape[0]) < accept]
        for vid in willing.tolist():
            home = _index_near(area, world.network.xy_m[world.fleets.volunteers.base_node[vid]])
            near = np.flatnonzero(np.hypot(*(area.xy_m - area.xy_m[home]).T)
                                  <= VOLUNTEER_SWEEP_M)
            add(f"volunteer{vid}", "volunteer", home, _sweep_from(area, home, near),
                FOOT_REACH_M)
    return out


def mapscore(prior: np.ndarray, found_index: int) -> float:
    """Return the MapScore of ``prior`` for a subject found at ``found_index``.

    The share of cells the map ranks below the find cell (ties count half), rescaled so a
    random map scores 0 on average and a perfect one 1 (after Ferguson, "MapScore:
    probability map evaluation for search and rescue", 2013).
    """
    p = prior[found_index]
    below = float((prior < p).sum()) + 0.5 * float((prior == p).sum() - 1)
    return 2.0 * below / max(prior.shape[0] - 1, 1) - 1.0


def summarize_study(rows: list[dict[str, Any]], spec: MissingPerson) -> dict[str, Any]:
    """Return per-strategy figures with 95% confidence intervals."""
    out: dict[str, Any] = {}
    for strategy in STRATEGIES:
        chosen = [r for r in rows if r["strategy"] == strategy]
        times = np.sort(np.array([r["time_to_find_s"] for r in chosen]))
        n = times.shape[0]
        figures: dict[str, Any] = {"replications": n}
        median = float(np.quantile(times, 0.5, method="lower")) if n else float("nan")
        figures["median_time_to_find_h"] = _hours(median)
        figures["median_ci_h"] = [_hours(v) for v in quantile_ci(times, 0.5)]
        for hours in FIND_WITHIN_H:
            figures[f"p_found_{hours}h"] = _wilson(int((times <= hours * 3600.0).sum()), n)
        figures["p_found_before_critical"] = _wilson(
            sum(bool(r["before_critical"]) for r in chosen), n)
        hours_spent = np.array([r["searcher_hours"] for r in chosen])
        figures["searcher_hours_mean"] = round(float(hours_spent.mean()), 1)
        out[strategy] = figures
    scores = np.array([r["mapscore"] for r in rows if r["strategy"] == "police only"])
    half = 1.96 * scores.std(ddof=1) / np.sqrt(scores.shape[0]) if scores.shape[0] > 1 else 0.0
    distances = np.array([r["destination_km"] for r in rows if r["strategy"] == "police only"])
    return {
        "category": spec.category,
        "district": spec.district,
        "strategies": out,
        "mapscore": {"mean": round(float(scores.mean()), 3),
                     "ci": [round(float(scores.mean() - half), 3),
                            round(float(scores.mean() + half), 3)]},
        "subject_distance_km": {q: round(float(np.quantile(distances, v)), 2)
                                for q, v in (("p25", 0.25), ("p50", 0.5), ("p75", 0.75))},
    }


def run_study(world: World, replications: int | None = None, seed: int | None = None
              ) -> list[dict[str, Any]]:
    """Return one row per strategy x replication."""
    study = build_study(world)
    count = replications or study.spec.replications
    seeds = replication_seeds(world.scenario.seed if seed is None else seed, count)
    rows = []
    for strategy in STRATEGIES:
        for rep, s in enumerate(seeds):
            row = run_one(study, strategy, s)
            row["replication"] = rep
            rows.append(row)
    return rows


def _watch_points(study: Study, subject: Trajectory, state: SearchState, seed: int,
                  report_s: float, horizon_s: float) -> None:
    """Record a find by a watch point the subject passes or stays at, if any."""
    spec, area = study.spec, study.area
    wp_nodes = set(area.nodes[study.watch_points].tolist())
    rng = stream(seed, "search.watch_points")
    ready_s = report_s + spec.watch_point.start_delay_s
    chances: list[float] = [t for n, t in zip(subject.nodes.tolist(), subject.t_s.tolist(),
                                              strict=True)
                            if n in wp_nodes and t >= ready_s]
    if study.watch_point_near[int(np.searchsorted(area.nodes, subject.destination))]:
        t = max(ready_s, float(subject.t_s[-1]))
        while t <= horizon_s:
            chances.append(t)
            t += WATCH_POINT_CHECK_S
    for t in sorted(chances):
        pod = spec.watch_point.pod_night if _is_night(spec, t) else spec.watch_point.pod_day
        if rng.random() < pod:
            if state.found_at_s is None or t < state.found_at_s:
                state.found_at_s, state.found_by = t, "watch_point"
            return


def _prior(area: Area, behaviour: Behaviour, weights: np.ndarray,
           rng: np.random.Generator) -> np.ndarray:
    """Return the probability map: where simulated subjects end up, plus an even floor."""
    ends = [draw_destination(area, behaviour, weights, rng) for _ in range(PRIOR_SAMPLES)]
    counts = np.bincount(ends, minlength=area.nodes.shape[0]).astype(float)
    return (1.0 - PRIOR_FLOOR) * counts / counts.sum() + PRIOR_FLOOR / counts.shape[0]


def _places(world: World) -> np.ndarray:
    if world.node_place is not None:  # an imported city: from its OSM tags
        return world.node_place
    city = world.scenario.city
    river = None
    bridge_nodes = np.empty(0, dtype=np.int64)
    if city.explicit is None and city.osm is None:  # the synthetic city's river
        river = river_xy_m(city)
        north = np.array([d.bank == "north" for d in city.districts])[world.node_district]
        net = world.network
        rows = np.repeat(np.arange(net.node_count), np.diff(net.indptr))
        bridge_nodes = np.unique(rows[north[rows] != north[net.indices]])
    return mark_places(world.network, world.zones.station_node, river, bridge_nodes,
                       city.places, stream(city.seed, "city.places"))


def _sweep_from(area: Area, home: int, members: np.ndarray) -> np.ndarray:
    """Return ``members`` ordered by straight-line distance from ``home``."""
    dist = np.hypot(*(area.xy_m[members] - area.xy_m[home]).T)
    return members[np.argsort(dist, kind="stable")]


def _index_near(area: Area, xy: np.ndarray) -> int:
    return int(np.argmin(np.hypot(*(area.xy_m - xy).T)))


def _is_night(spec: MissingPerson, t_s: float) -> bool:
    hour = (spec.last_seen_hour + t_s / 3600.0) % 24.0
    start, end = spec.night_hours
    return hour >= start or hour < end if start > end else start <= hour < end


def _hours(seconds: float) -> float | None:
    return None if not np.isfinite(seconds) else round(seconds / 3600.0, 2)


def _wilson(successes: int, n: int) -> dict[str, Any]:
    """Return a share and its 95% Wilson score interval."""
    if n == 0:
        return {"p": float("nan"), "ci": [float("nan"), float("nan")]}
    z = 1.959963984540054
    p = successes / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * np.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return {"p": round(p, 3), "ci": [round(centre - half, 3), round(centre + half, 3)]}
