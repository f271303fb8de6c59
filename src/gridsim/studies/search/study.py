"""The missing-person study: one subject per replication, searched under every arm.

Common random numbers: replication r draws its subject, who turns out to search and
every channel's reports once (streams ``search.subject``, ``search.people``,
``search.reports.*`` of the replication seed), and every arm searches for that same
subject with those people. Arms add layers of searchers with each searcher sweeping its
own area, then allocate the same searchers by Stone's rule from an honest prior and
from a wrong one, then add sighting channels one at a time and all together.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from gridsim.city.places import PLACE_NAMES, mark_places
from gridsim.city.synthetic import river_xy_m
from gridsim.core.rng import stream
from gridsim.core.stats import quantile_ci, wilson_interval
from gridsim.core.units import SECONDS_PER_HOUR
from gridsim.scenario.schema import Behaviour, MissingPerson, Scenario
from gridsim.sim.dispatch.volunteers import volunteer_travel
from gridsim.studies.experiment import replication_seeds
from gridsim.studies.search.area import SearchArea, build_area
from gridsim.studies.search.channels import ObserverSet, Report, observer_reports, phone_reports
from gridsim.studies.search.priors import mapscore, ring_prior
from gridsim.studies.search.searching import KindSweep, Searcher, kind_sweep, search
from gridsim.studies.search.subject import Subject, draw_subject, is_night
from gridsim.world.build import World
from gridsim.world.volunteer_kinds import kind_availability

ISRID_MAPSCORE = 0.78  # the ISRID distance-ring model on real finds (Ferguson 2013)
FIND_WITHIN_H = (1, 3, 6)
LAYERS = ("police", "grid", "volunteer")
CHANNELS = ("watch_points", "platform", "cctv", "phone")


@dataclass(frozen=True)
class Arm:
    """One strategy: who searches, how they choose segments, from which map, which channels."""

    layers: tuple[str, ...]
    stone: bool  # Stone allocation from the prior (else each sweeps its own area)
    prior: str = ""  # "honest" or "wrong" (Stone only)
    channels: tuple[str, ...] = ()


ARMS: dict[str, Arm] = {
    "police, own sweep": Arm(("police",), False),
    "+ grid, own sweep": Arm(("police", "grid"), False),
    "+ volunteers, own sweep": Arm(LAYERS, False),
    "all, Stone, honest prior": Arm(LAYERS, True, "honest"),
    "all, Stone, wrong prior": Arm(LAYERS, True, "wrong"),
    "+ watch points": Arm(LAYERS, True, "honest", ("watch_points",)),
    "+ platform sightings": Arm(LAYERS, True, "honest", ("platform",)),
    "+ CCTV": Arm(LAYERS, True, "honest", ("cctv",)),
    "+ phone location": Arm(LAYERS, True, "honest", ("phone",)),
    "+ all channels, honest prior": Arm(LAYERS, True, "honest", CHANNELS),
    "+ all channels, wrong prior": Arm(LAYERS, True, "wrong", CHANNELS),
}
STRATEGIES = tuple(ARMS)  # the arms, in table order


@dataclass(frozen=True, eq=False)
class Study:
    """Everything fixed across replications."""

    scenario: Scenario
    spec: MissingPerson
    behaviour: Behaviour
    world: World
    area: SearchArea
    priors: dict[str, np.ndarray]  # "honest" and "wrong", over segments + outside
    sweeps: dict[str, KindSweep]
    report_s: float  # s after the last sighting
    end_s: float
    station_node: int  # local node the police set off from (the station, or the
    station_drive_s: float  # area node nearest it, this many car seconds from it)
    police_mps: float
    grid_workers: np.ndarray  # fleet ids of the LKP grid's and its neighbours' workers
    grid_nodes: np.ndarray  # their local start nodes
    volunteers: np.ndarray  # fleet ids of volunteers within the radius by road (report hour)
    volunteer_nodes: np.ndarray  # local nodes
    volunteer_road_m: np.ndarray
    volunteer_mps: np.ndarray
    watch_points_xy: np.ndarray
    cameras_xy: np.ndarray
    platform_nodes: np.ndarray  # local nodes within the push radius, and their people
    platform_people: np.ndarray
    platform_share: float  # of the city's people living within the push radius
    # own-sweep orders already worked out, by (start node, grid or -1): a cache
    orders: dict[tuple[int, int], tuple[int, ...]] = field(default_factory=dict)


def build_study(world: World) -> Study:
    """Return the study of ``world.scenario.missing_person``."""
    scenario = world.scenario
    spec = scenario.missing_person
    assert spec is not None
    net = world.network
    district = world.district_names.index(spec.district)
    members = np.flatnonzero(world.node_district == district)
    centre = net.xy_m[members].mean(axis=0)
    lkp = int(members[np.argmin(np.hypot(*(net.xy_m[members] - centre).T))])
    area = build_area(net, lkp, spec.search_radius_m, spec.segment_m, _places(world))
    report_s = spec.report_delay_h * SECONDS_PER_HOUR
    priors = {
        "honest": ring_prior(area, spec.behaviours[spec.category]),
        "wrong": ring_prior(area, spec.behaviours[spec.wrong_prior_category],
                            attraction=spec.wrong_prior_attraction,
                            centre_xy=area.xy_m[area.lkp] + spec.wrong_prior_lkp_offset_m
                            * np.array([np.sin(np.radians(spec.wrong_prior_bearing_deg)),
                                        np.cos(np.radians(spec.wrong_prior_bearing_deg))])),
    }

    def local(nodes: np.ndarray) -> np.ndarray:
        at = np.minimum(np.searchsorted(area.node_id, nodes), area.node_id.shape[0] - 1)
        exact = area.node_id[at] == nodes
        nearest = np.array([int(np.argmin(np.hypot(*(area.xy_m - net.xy_m[n]).T)))
                            for n in nodes[~exact].tolist()], dtype=np.int64)
        out = at.astype(np.int64)
        out[~exact] = nearest
        return out

    lkp_grid = int(world.zones.node_grid[lkp])
    rows = np.repeat(np.arange(net.node_count), np.diff(net.indptr))
    touching = np.isin(rows, np.flatnonzero(world.zones.node_grid == lkp_grid))
    grids = np.unique(world.zones.node_grid[net.indices[touching]])
    grid_workers = np.flatnonzero(np.isin(world.fleets.grid_workers.grid, grids))

    hour = int((spec.last_seen_hour + spec.report_delay_h) % 24.0)
    where = volunteer_nodes_at(world, hour)
    in_area = np.isin(where, area.node_id)
    road = np.full(where.shape[0], np.inf)
    road[in_area] = area.road_from_lkp_m[np.searchsorted(area.node_id, where[in_area])]
    volunteers = np.flatnonzero(road <= spec.volunteer_radius_m)
    speed = volunteer_travel(scenario.volunteers, world.fleets.volunteers.size,
                             scenario.city.seed, world.volunteer_positions.kind)[1]

    push = area.road_from_lkp_m <= spec.channels.platform.push_radius_m
    people = world.node_population[area.node_id]
    watch = np.isin(area.node_id, world.fleets.watch_point_node)
    station_id = int(world.zones.node_station[lkp])
    station_local = int(local(np.array([int(world.zones.station_node[station_id])]))[0])
    character = scenario.city.districts[district].character
    return Study(
        scenario=scenario, spec=spec, behaviour=spec.behaviours[spec.category], world=world,
        area=area, priors=priors,
        sweeps={k: kind_sweep(area, getattr(spec, k), spec.track_offset_m) for k in LAYERS},
        report_s=report_s, end_s=report_s + spec.horizon_h * SECONDS_PER_HOUR,
        station_node=station_local,
        station_drive_s=float(world.node_station_car_s[area.node_id[station_local],
                                                       station_id]),
        police_mps=float(getattr(scenario.city.car_speed_mps, character)),
        grid_workers=grid_workers,
        grid_nodes=local(world.fleets.grid_workers.base_node[grid_workers].astype(np.int64)),
        volunteers=volunteers, volunteer_nodes=local(where[volunteers].astype(np.int64)),
        volunteer_road_m=road[volunteers], volunteer_mps=speed[volunteers],
        watch_points_xy=area.xy_m[watch], cameras_xy=area.xy_m[_cameras(area, spec)],
        platform_nodes=np.flatnonzero(push & (people > 0)),
        platform_people=people[push & (people > 0)],
        platform_share=float(people[push].sum() / world.node_population.sum()),
    )


def volunteer_nodes_at(world: World, hour: int) -> np.ndarray:
    """Return where each volunteer is in ``hour`` of the day (home, post, round)."""
    positions = world.volunteer_positions
    held = ((positions.hours >> hour) & 1) == 1
    where = np.array(world.fleets.volunteers.base_node, dtype=np.int64)
    where[positions.volunteer[held]] = positions.node[held]
    return where


def _cameras(area: SearchArea, spec: MissingPerson) -> np.ndarray:
    """Return the local nodes with a camera: marked places and the busiest junctions."""
    codes = [PLACE_NAMES.index(p) for p in spec.channels.cctv.places]
    marked = np.isin(area.place, codes)
    degree = np.diff(area.indptr)
    junctions = np.flatnonzero(degree >= 3)
    busiest = junctions[np.lexsort((junctions, -degree[junctions]))]
    chosen = busiest[: int(round(spec.channels.cctv.junction_share * junctions.shape[0]))]
    marked[chosen] = True
    return np.flatnonzero(marked)


@dataclass(frozen=True)
class Replication:
    """What every arm of one replication shares."""

    seed: int
    subject: Subject
    searchers: dict[str, list[Searcher]]  # by layer
    reports: dict[str, list[Report]]  # by channel


def draw_replication(study: Study, seed: int) -> Replication:
    """Return replication ``seed``'s subject, searchers and reports."""
    spec = study.spec
    subject = draw_subject(study.area, spec, study.behaviour, study.end_s,
                           stream(seed, "search.subject"))
    return Replication(seed=seed, subject=subject,
                       searchers=_people(study, stream(seed, "search.people")),
                       reports=_reports(study, subject, seed))


def _people(study: Study, rng: np.random.Generator) -> dict[str, list[Searcher]]:
    """Return who searches, by layer, with the incident model's shifts and willingness."""
    spec, scenario, area = study.spec, study.scenario, study.area
    report_s, end_s = study.report_s, study.end_s
    order_lkp = np.argsort(np.hypot(*(area.segment_centre_xy - area.xy_m[area.lkp]).T),
                           kind="stable")
    units = max(spec.police_units, 1)
    police_start = report_s + spec.police.start_delay_s + study.station_drive_s
    police = [Searcher(
        name=f"police{u}", kind="police", start_s=police_start,
        end_s=min(end_s, police_start + spec.police.max_search_h * SECONDS_PER_HOUR),
        node=study.station_node, travel_mps=study.police_mps, spec=spec.police,
        order=tuple(order_lkp[u::units].tolist())) for u in range(spec.police_units)]

    cfg = scenario.grid_workers
    fleet = study.world.fleets.grid_workers
    grid_mps = scenario.city.speed_mps(cfg.mode)
    grid: list[Searcher] = []
    for worker, node in zip(study.grid_workers.tolist(), study.grid_nodes.tolist(),
                            strict=True):
        start_h, length_h = float(fleet.shift_start_h[worker]), float(fleet.shift_length_h[worker])
        responds, called = rng.random() < cfg.response_prob, rng.random() < spec.grid_callout_prob
        into_shift_h = (_hour(spec, report_s) - start_h) % 24.0
        if into_shift_h < length_h:  # on duty: pushed the description
            start = report_s + cfg.reaction_s + spec.grid.start_delay_s if responds else None
            stop = report_s + (length_h - into_shift_h) * SECONDS_PER_HOUR
        elif called:  # off duty: the call-out rule for searches out of hours
            start = report_s + spec.grid_callout_delay_s
            stop = start + spec.grid.max_search_h * SECONDS_PER_HOUR
        else:  # joins at the start of the next shift, as pushed then
            shift_s = report_s + (24.0 - into_shift_h) * SECONDS_PER_HOUR
            start = shift_s + cfg.reaction_s if responds else None
            stop = shift_s + length_h * SECONDS_PER_HOUR
        if start is None or start >= end_s:
            continue
        grid.append(Searcher(
            name=f"grid{worker}", kind="grid", start_s=start,
            end_s=min(stop, start + spec.grid.max_search_h * SECONDS_PER_HOUR, end_s), node=node,
            travel_mps=grid_mps, spec=spec.grid,
            order=_own_order(study, node, int(fleet.grid[worker]))))

    vcfg = scenario.volunteers
    hour = int(_hour(spec, report_s)) % 24
    n = study.volunteers.shape[0]
    kind = study.world.volunteer_positions.kind[study.volunteers].astype(np.int64)
    table = np.array([vcfg.availability_by_hour, *kind_availability(vcfg)])[:, hour]
    available = table[kind + 1] if vcfg.kinds else np.full(n, table[0])
    u_available, u_accept, u_show = rng.random(n), rng.random(n), rng.random(n)
    accept_p = vcfg.acceptance_prob * np.exp(-study.volunteer_road_m / vcfg.acceptance_decay_m)
    coming = (u_available < available) & (u_accept < accept_p) & (u_show >= vcfg.no_show_prob)
    accept_s = vcfg.time_to_accept_s.sample(rng, n)
    volunteers = []
    for k in np.flatnonzero(coming).tolist():
        start = report_s + float(accept_s[k]) + vcfg.reaction_s + spec.volunteer.start_delay_s
        node = int(study.volunteer_nodes[k])
        volunteers.append(Searcher(
            name=f"volunteer{int(study.volunteers[k])}", kind="volunteer", start_s=start,
            end_s=min(end_s, start + spec.volunteer.max_search_h * SECONDS_PER_HOUR), node=node,
            travel_mps=float(study.volunteer_mps[k]), spec=spec.volunteer,
            order=_own_order(study, node, -1)))
    return {"police": police, "grid": grid, "volunteer": volunteers}


def _own_order(study: Study, node: int, grid: int) -> tuple[int, ...]:
    """Return the segments of ``grid`` (-1: none) then all others, nearest first by road.

    Distances are from ``node``; a segment is in a grid when its entry node is.
    """
    key = (node, grid)
    if key not in study.orders:
        area = study.area
        mine = study.world.zones.node_grid[area.node_id[area.segment_entry]] == grid
        road = area.entry_road_m[:, node]
        order = np.lexsort((road, ~mine))  # own grid first, then by road distance
        study.orders[key] = tuple(order.tolist())
    return study.orders[key]


def _reports(study: Study, subject: Subject, seed: int) -> dict[str, list[Report]]:
    """Return each channel's reports for this subject."""
    spec, channels, area = study.spec, study.spec.channels, study.area
    report_s, end_s = study.report_s, study.end_s
    out: dict[str, list[Report]] = {}
    out["watch_points"] = observer_reports(
        ObserverSet("watch_points", study.watch_points_xy,
                    report_s + channels.watch_points.start_delay_s, 0.0),
        channels.watch_points, spec, subject, end_s, stream(seed, "search.reports.watch"))
    platform = study.scenario.platform
    assert platform is not None
    task = platform.tasks["missing_person"]
    rng = stream(seed, "search.reports.platform")
    push_s = report_s + task.delay_s
    hour = int(_hour(spec, push_s)) % 24
    reached = int(rng.binomial(platform.count, min(1.0, study.platform_share)))
    engaged = int(rng.binomial(reached, task.engagement * platform.engagement_by_hour[hour]))
    homes = study.platform_nodes
    where = (rng.choice(homes, size=engaged, p=study.platform_people
                        / study.platform_people.sum()) if engaged and homes.shape[0]
             else np.zeros(0, dtype=np.int64))
    out["platform"] = observer_reports(ObserverSet("platform", area.xy_m[where], push_s, 0.0),
                                       channels.platform, spec, subject, end_s, rng)
    out["cctv"] = observer_reports(
        ObserverSet("cctv", study.cameras_xy, 0.0, report_s + channels.cctv.review_start_s),
        channels.cctv, spec, subject, end_s, stream(seed, "search.reports.cctv"))
    out["phone"] = phone_reports(channels.phone, subject, report_s, end_s,
                                 stream(seed, "search.reports.phone"))
    return {name: sorted(reports, key=lambda r: r.report_s) for name, reports in out.items()}


def run_arm(study: Study, rep: Replication, name: str) -> dict[str, Any]:
    """Return the outcome of one arm on one replication."""
    arm, spec, area = ARMS[name], study.spec, study.area
    searchers = [s for layer in arm.layers for s in rep.searchers[layer]]
    reports = sorted((r for c in arm.channels for r in rep.reports[c]),
                     key=lambda r: r.report_s)
    outcome = search(
        area, study.sweeps, searchers, rep.subject, lambda t: is_night(spec, t), study.end_s,
        stream(rep.seed, f"search.detect.{name}"),
        prior=study.priors[arm.prior] if arm.stone else None, reports=reports,
        report_s=study.report_s, spread_per_h=spec.belief_spread_per_h,
        walk_mps=study.behaviour.walk_speed_mps)
    found = outcome.found_s <= study.end_s
    subject = rep.subject
    settled = area.xy_m[subject.settled_node] - area.xy_m[area.lkp]
    return {
        "strategy": name,
        "seed": rep.seed,
        "found": found,
        "time_to_find_s": outcome.found_s - study.report_s if found else float("inf"),
        "found_by": outcome.found_by if found else "",
        "found_by_kind": _kind_of(outcome.found_by) if found else "",
        "critical_s": subject.harm_s - study.report_s,  # he comes to harm (s after report)
        "before_critical": found and outcome.found_s < subject.harm_s,
        "searchers": len(searchers),
        "searcher_hours": outcome.searcher_s / SECONDS_PER_HOUR,
        "reports_used": outcome.reports_used,
        "subject_rule": subject.rule,
        "destination_node": int(area.node_id[subject.settled_node]),  # after the first walk
        "destination_km": float(np.hypot(*settled)) / 1000.0,
        "mapscore": mapscore(study.priors["honest"], area.segment_area_m2,
                             int(area.node_segment[subject.settled_node])),
        "mapscore_wrong": mapscore(study.priors["wrong"], area.segment_area_m2,
                                   int(area.node_segment[subject.settled_node])),
    }


def _kind_of(found_by: str) -> str:
    return found_by.rstrip("0123456789")


def run_study(world: World, replications: int | None = None, seed: int | None = None
              ) -> list[dict[str, Any]]:
    """Return one row per arm x replication."""
    return run_replications(build_study(world), replications, seed)


def run_replications(study: Study, replications: int | None = None, seed: int | None = None
                     ) -> list[dict[str, Any]]:
    """Return one row per arm x replication of ``study``."""
    count = replications or study.spec.replications
    seeds = replication_seeds(study.scenario.seed if seed is None else seed, count)
    rows = []
    for index, s in enumerate(seeds):
        rep = draw_replication(study, s)
        for name in ARMS:
            row = run_arm(study, rep, name)
            row["replication"] = index
            rows.append(row)
    order = {name: k for k, name in enumerate(ARMS)}
    return sorted(rows, key=lambda r: (order[r["strategy"]], r["replication"]))


def heldout_mapscores(study: Study, seed: int) -> dict[str, np.ndarray]:
    """Return both priors' MapScores on ``mapscore_subjects`` subjects of their own stream.

    The subjects come from the movement model (never seen by the priors), scored where
    each settles after his first walk (the analogue of ISRID's find location).
    """
    rng = stream(seed, "search.mapscore")
    cells = []
    for _ in range(study.spec.mapscore_subjects):
        subject = draw_subject(study.area, study.spec, study.behaviour, study.end_s, rng,
                               settle_only=True)
        cells.append(int(study.area.node_segment[subject.settled_node]))
    return {name: np.array([mapscore(prior, study.area.segment_area_m2, c) for c in cells])
            for name, prior in study.priors.items()}


def summarize_study(rows: list[dict[str, Any]], spec: MissingPerson,
                    scores: dict[str, np.ndarray] | None = None) -> dict[str, Any]:
    """Return per-arm figures with 95% confidence intervals."""
    out: dict[str, Any] = {}
    for name in ARMS:
        chosen = [r for r in rows if r["strategy"] == name]
        times = np.sort(np.array([r["time_to_find_s"] for r in chosen]))
        n = times.shape[0]
        figures: dict[str, Any] = {"replications": n}
        median = float(np.quantile(times, 0.5, method="lower")) if n else float("nan")
        figures["median_time_to_find_h"] = _hours(median)
        figures["median_ci_h"] = [_hours(v) for v in quantile_ci(times, 0.5)]
        for hours in FIND_WITHIN_H:
            within = int((times <= hours * SECONDS_PER_HOUR).sum())
            figures[f"p_found_{hours}h"] = _wilson(within, n)
        figures["p_found_before_critical"] = _wilson(
            sum(bool(r["before_critical"]) for r in chosen), n)
        figures["searcher_hours_mean"] = round(float(np.mean(
            [r["searcher_hours"] for r in chosen])), 1) if n else float("nan")
        figures["searchers_mean"] = round(float(np.mean([r["searchers"] for r in chosen])),
                                          1) if n else float("nan")
        kinds = [r["found_by_kind"] for r in chosen if r["found"]]
        figures["found_by"] = {k: kinds.count(k) for k in sorted(set(kinds))}
        figures["reports_used_mean"] = round(float(np.mean(
            [r["reports_used"] for r in chosen])), 1) if n else float("nan")
        out[name] = figures
    first = [r for r in rows if r["strategy"] == STRATEGIES[0]]
    distances = np.array([r["destination_km"] for r in first])
    rules = [r["subject_rule"] for r in first]
    summary: dict[str, Any] = {
        "category": spec.category,
        "district": spec.district,
        "strategies": out,
        "mapscore": {
            name: _mean_ci(scores[name]) if scores is not None else
            _mean_ci(np.array([r["mapscore" if name == "honest" else "mapscore_wrong"]
                               for r in first]))
            for name in ("honest", "wrong")},
        "subject_distance_km": {q: round(float(np.quantile(distances, v)), 2)
                                for q, v in (("p25", 0.25), ("p50", 0.5), ("p75", 0.75))},
        "subject_rules": {r: rules.count(r) for r in sorted(set(rules))},
        "harmed_within_horizon": _wilson(
            sum(bool(np.isfinite(r["critical_s"])) for r in first), len(first)),
    }
    summary["mapscore"]["isrid_benchmark"] = ISRID_MAPSCORE
    summary["mapscore"]["wrong_prior_category"] = spec.wrong_prior_category
    return summary


def _mean_ci(values: np.ndarray) -> dict[str, Any]:
    if values.shape[0] == 0:
        return {"mean": float("nan"), "ci": [float("nan"), float("nan")], "n": 0}
    half = 1.96 * values.std(ddof=1) / np.sqrt(values.shape[0]) if values.shape[0] > 1 else 0.0
    mean = float(values.mean())
    return {"mean": round(mean, 3), "ci": [round(mean - half, 3), round(mean + half, 3)],
            "n": int(values.shape[0])}


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


def _hour(spec: MissingPerson, t_s: float) -> float:
    """Return the hour of day ``t_s`` seconds after the last sighting."""
    return (spec.last_seen_hour + t_s / SECONDS_PER_HOUR) % 24.0


def _hours(seconds: float) -> float | None:
    return None if not np.isfinite(seconds) else round(seconds / SECONDS_PER_HOUR, 2)


def _wilson(successes: int, n: int) -> dict[str, Any]:
    """Return a share and its 95% Wilson score interval."""
    p, low, high = wilson_interval(successes, n)
    if n == 0:
        return {"p": p, "ci": [low, high]}
    return {"p": round(p, 3), "ci": [round(low, 3), round(high, 3)]}
