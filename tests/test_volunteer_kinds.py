"""Volunteer kinds and the mobilisation platform (issue 14, item 4: two volunteer pools).

Kinds put organised volunteers at posts or on the move by hour; the platform pushes tasks
to a large pool counted by population. The reference for the kinds' alert walk is the
layer without kinds: a kind that stays at home must give the same run, draw for draw.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pyarrow.parquet as pq
import pytest
import simpy
from scipy.sparse import csgraph

import gridsim
from gridsim.city.reach import Reach
from gridsim.core.errors import InputError
from gridsim.demand.incidents import generate_incidents
from gridsim.scenario import Scenario, load_scenario
from gridsim.scenario.schema import Volunteers
from gridsim.sim.dispatch.dispatcher import Dispatcher
from gridsim.sim.dispatch.kind_alerts import KindAlerts
from gridsim.sim.dispatch.platform import platform_pushes
from gridsim.sim.dispatch.volunteers import VolunteerAlerts, volunteer_travel
from gridsim.sim.records import DispatchLog
from gridsim.world.build import World
from gridsim.world.fleets import build_fleets, volunteer_seat_homes
from gridsim.world.volunteer_kinds import (
    ALL_HOURS,
    VolunteerPositions,
    draw_in_group,
    place_volunteers,
)
from tests.conftest import SMALL

HOUR = 3600.0
ALWAYS = [1.0] * 24
# everyone available and willing, nobody tired, leaving or failing to come
CERTAIN = ["volunteers.acceptance_prob=1", "volunteers.acceptance_decay_m=1e12",
           "volunteers.no_show_prob=0", "volunteers.churn_per_alert=0",
           "volunteers.churn_per_day=0", "volunteers.recruit_per_day=0",
           "volunteers.fatigue_alerts=1e12", f"volunteers.availability_by_hour={ALWAYS}"]
PLATFORM = ("platform={count = 600000, tasks = {missing_person = {radius_m = 1000, "
            "delay_s = 600, engagement = 0.05}, person_in_need = {radius_m = 500, "
            "engagement = 0.02}}}")


def kinds_override(**kinds: dict[str, Any]) -> str:
    """Return a ``--set`` giving ``volunteers.kinds`` as an inline TOML table."""
    def value(v: Any) -> str:
        if isinstance(v, str):
            return f'"{v}"'
        if isinstance(v, dict):
            return "{" + ", ".join(f"{k} = {value(x)}" for k, x in v.items()) + "}"
        return str(v).lower() if isinstance(v, bool) else str(v)
    return f"volunteers.kinds={value(kinds)}"


def world_of(*overrides: str) -> World:
    return gridsim.build_world(load_scenario(SMALL, list(overrides)))


# --- where volunteers are ----------------------------------------------------------------


@pytest.fixture(scope="module")
def guard_world() -> World:
    """Door guards only: at a post 8-18 h, at home otherwise; everyone always available."""
    return world_of("volunteers.count=400", *CERTAIN, kinds_override(
        guard={"share": 1.0, "where": "post", "work_hours": [8, 18]}))


def test_positions_cover_every_hour_once(guard_world: World) -> None:
    p = guard_world.volunteer_positions
    count = guard_world.fleets.volunteers.size
    for h in range(24):
        held = p.volunteer[(p.hours >> h) & 1 == 1]
        assert np.array_equal(np.sort(held), np.arange(count))
    work = sum(1 << h for h in range(8, 18))
    assert set(np.unique(p.hours).tolist()) == {work, ALL_HOURS & ~work}
    homes = p.hours == ALL_HOURS & ~work
    assert np.array_equal(np.sort(p.node[homes]), guard_world.fleets.volunteers.base_node)
    assert p.class_volunteer.shape[0] == 2  # at work, at home


def test_a_post_volunteer_is_alerted_at_the_post_by_day_and_at_home_by_night(
        guard_world: World) -> None:
    world = guard_world
    p, near = world.volunteer_positions, world.catchments.volunteer_nodes
    assert near is not None
    # a guard whose post is beyond the catchment of its home (and the other way round)
    guard = next(v for v in range(world.fleets.volunteers.size)
                 if p.at(v, 23) not in near.row(p.at(v, 12))[0].tolist())
    post, home = p.at(guard, 12), p.at(guard, 23)
    cfg = world.scenario.volunteers
    speed = volunteer_travel(cfg, world.fleets.volunteers.size, world.scenario.city.seed,
                             p.kind)[1]
    log = DispatchLog()
    layer = KindAlerts(cfg, world.scenario.dispatch.volunteer_radius_m, 3, near,
                       np.array([post, home]), log, 1, speed, p,
                       world.catchments.volunteers_within)
    layer.busy_until_s[:] = [1e12] * len(layer.busy_until_s)  # everyone else is busy
    layer.busy_until_s[guard] = 0.0
    at_post_by_day, at_home_by_day = 0, 1
    t = 0.0
    for day in range(3):
        for hour, call, expected in ((12, at_post_by_day, 1), (12, at_home_by_day, 0),
                                     (23, at_post_by_day, 0), (23, at_home_by_day, 1),
                                     (8, at_post_by_day, 1), (17, at_home_by_day, 0),
                                     (18, at_post_by_day, 0), (7, at_home_by_day, 1)):
            t = day * 86_400.0 + hour * HOUR
            before = int(layer.alerts_per_volunteer()[guard])
            layer.respond(call, t)
            assert layer.alerts_per_volunteer()[guard] - before == expected, (day, hour, call)
            layer.busy_until_s[guard] = 0.0  # ready for the next call
    assert layer.alerts_per_volunteer().sum() == layer.alerts_per_volunteer()[guard]
    # the trip starts where the guard is: the post by day
    rows = log.columns()
    assert set(rows["responder"].tolist()) == {guard}


def test_a_rider_roams_inside_its_area_one_node_per_block() -> None:
    for area, zone in (("station", "node_station"), ("district", "node_district")):
        world = world_of("volunteers.count=500", kinds_override(
            rider={"share": 0.6, "where": "roaming", "work_hours": [10, 22],
                   "roam_block_h": 3, "area": area},
            resident={"share": 0.4}))
        p = world.volunteer_positions
        of_node = getattr(world.zones, zone) if zone == "node_station" else world.node_district
        riders = np.flatnonzero(p.kind == 0)
        assert 0.5 < riders.shape[0] / 500 < 0.7
        blocks = [sum(1 << h for h in range(s, s + 3)) for s in (10, 13, 16, 19)]
        for v in riders[:100].tolist():
            mine = p.volunteer == v
            masks = sorted(p.hours[mine].tolist())
            assert masks == sorted([*blocks, ALL_HOURS & ~sum(blocks)])
            home = world.fleets.volunteers.base_node[v]
            assert p.at(v, 3) == home
            work = p.node[mine & (p.hours != ALL_HOURS & ~sum(blocks))]
            assert np.all(of_node[work] == of_node[home])
        # over all riders the blocks spread out: most riders work away from home
        away = [p.at(v, 11) != p.at(v, 3) for v in riders.tolist()]
        assert np.mean(away) > 0.8
        residents = np.flatnonzero(p.kind == 1)
        assert all(p.at(v, 12) == world.fleets.volunteers.base_node[v]
                   for v in residents[:50].tolist())


def test_places_are_drawn_by_population_in_the_area() -> None:
    # two areas: nodes 0-2 (weights 1, 0, 3) and 3-4 (weights 2, 2); area 2 has no people
    group = np.array([0, 0, 0, 1, 1, 2])
    weight = np.array([1.0, 0.0, 3.0, 2.0, 2.0, 0.0])
    u = np.random.default_rng(1).random(40_000)
    member_area = np.repeat([0, 1, 2], [20_000, 10_000, 10_000])
    fallback = np.full(40_000, 99)
    node = draw_in_group(group, weight, member_area, u, fallback)
    assert np.bincount(node[:20_000], minlength=3) / 20_000 == pytest.approx(
        [0.25, 0.0, 0.75], abs=0.01)
    assert set(node[20_000:30_000].tolist()) == {3, 4}
    assert np.all(node[30_000:] == 99)  # nobody lives there: the volunteer stays home


def test_a_post_all_day_means_no_home_position() -> None:
    world = world_of("volunteers.count=2000", kinds_override(
        guard={"share": 1.0, "where": "post", "work_hours": [0, 24], "area": "district"}))
    p = world.volunteer_positions
    assert np.all(p.hours == ALL_HOURS) and p.count == 2000
    homes = world.fleets.volunteers.base_node
    assert np.all(world.node_district[p.node] == world.node_district[homes[p.volunteer]])
    assert np.mean(p.node != homes[p.volunteer]) > 0.9


def test_adding_volunteers_keeps_everyone_elses_kind_and_places(small_world: World) -> None:
    kinds = kinds_override(
        guard={"share": 0.5, "where": "post", "work_hours": [7, 19]},
        rider={"share": 0.5, "where": "roaming", "work_hours": [10, 22]})

    def by_seat(count: int) -> tuple[np.ndarray, list[tuple[int, ...]]]:
        scenario = load_scenario(SMALL, [f"volunteers.count={count}", kinds])
        world = small_world
        fleets = build_fleets(scenario, world.zones, world.node_population)
        p = place_volunteers(scenario, fleets.volunteers.base_node, world.zones.node_station,
                             world.node_district, world.node_population)
        seat_home = volunteer_seat_homes(scenario, world.node_population)
        seat_of = np.argsort(seat_home, kind="stable")  # id -> seat
        ids = np.argsort(seat_of)  # seat -> id
        places = [tuple(p.at(int(ids[s]), h) for h in range(24)) for s in range(count)]
        return p.kind[ids], places

    kind_small, places_small = by_seat(300)
    kind_big, places_big = by_seat(400)
    assert np.array_equal(kind_small, kind_big[:300])
    assert places_small == places_big[:300]


# --- alerting: the kinds walk against the layer without kinds ----------------------------


@pytest.mark.parametrize("kinds", [
    {"everyone": {"share": 1.0}},
    {"a": {"share": 0.3}, "b": {"share": 0.7}},  # both at home, the pool's availability
])
def test_kinds_that_stay_home_give_the_same_run_as_no_kinds(
        small_scenario: Scenario, small_world: World, kinds: dict[str, Any]) -> None:
    with_kinds = load_scenario(SMALL, [kinds_override(**kinds)])
    world = gridsim.build_world(with_kinds)
    assert world.catchments.volunteer_nodes is not None
    for seed in (1, 2):
        plain = gridsim.run(small_scenario, seed=seed, world=small_world)
        kinded = gridsim.run(with_kinds, seed=seed, world=world)
        for name, column in plain.records.dispatches.items():
            assert np.array_equal(column, kinded.records.dispatches[name]), name
        assert plain.records.volunteer_tally == kinded.records.volunteer_tally
        assert np.array_equal(plain.records.volunteer_alerts, kinded.records.volunteer_alerts)
        assert plain.records.volunteer_tally["alerts"] > 0


def test_without_kinds_nothing_changes(small_scenario: Scenario, small_world: World) -> None:
    assert small_world.catchments.volunteer_nodes is None
    assert small_world.volunteer_positions.kind_names == ()
    # the home catchment: every volunteer's home, as before kinds existed
    p = small_world.volunteer_positions
    assert np.array_equal(p.node, small_world.fleets.volunteers.base_node)
    assert np.all(p.hours == ALL_HOURS)
    result = gridsim.run(small_scenario, seed=1, world=small_world)
    assert "by_kind" not in result.summary["volunteers"]
    assert "platform" not in result.summary
    dispatcher = Dispatcher(small_world, result.records.incidents, simpy.Environment(),
                            DispatchLog(), 1)
    assert type(dispatcher.volunteers) is VolunteerAlerts


def make_kinds_layer(availability: dict[str, float], per_kind: int, **config: Any
                     ) -> tuple[KindAlerts, np.ndarray]:
    """Return a layer whose one node holds ``per_kind`` volunteers of each kind, and kinds."""
    kinds = {name: {"share": 1.0 / len(availability), "availability_by_hour": [a] * 24}
             for name, a in availability.items()}
    cfg = Volunteers.model_validate({
        "count": per_kind * len(kinds), "acceptance_prob": 0.0, "churn_per_day": 0.0,
        "churn_per_alert": 0.0, "recruit_per_day": 0.0, "kinds": kinds,
        "alerting": {"round_size": 10_000, "max_rounds": 1}, **config})
    n = per_kind * len(kinds)
    kind = np.repeat(np.arange(len(kinds)), per_kind).astype(np.int16)
    positions = VolunteerPositions(
        kind=kind, kind_names=tuple(kinds), node=np.zeros(n, np.int32),
        volunteer=np.arange(n, dtype=np.int32), hours=np.full(n, ALL_HOURS, np.int32),
        class_of_hour=np.zeros(24, np.int8), class_volunteer=np.arange(n, dtype=np.int32)[None],
        class_node_start=np.array([[0, n]], dtype=np.int32))
    near = Reach(start=np.array([0, 1]), item=np.zeros(1, np.int32),
                 dist_m=np.zeros(1, np.float32))
    layer = KindAlerts(cfg, 500.0, 3, near, np.zeros(10_000, np.int32), DispatchLog(), 7,
                       np.ones(n), positions, np.array([[n]]))
    return layer, kind


def test_each_kind_is_available_with_its_own_figure() -> None:
    layer, kind = make_kinds_layer({"keen": 0.6, "busy": 0.15, "never": 0.0}, per_kind=300)
    calls = 400
    for i in range(calls):
        layer.respond(i, 60.0 * i)
    alerts = layer.alerts_per_volunteer()
    for code, p in enumerate((0.6, 0.15, 0.0)):
        rate = alerts[kind == code].mean() / calls
        # 120,000 Bernoulli draws per kind: the standard error is below 0.0015
        assert rate == pytest.approx(p, abs=0.006)


# --- the platform ------------------------------------------------------------------------


@pytest.fixture(scope="module")
def platform_world() -> World:
    return world_of(PLATFORM, "incidents.missing_person.rate_per_day=300",
                    "incidents.person_in_need.rate_per_day=300")


def test_platform_population_is_the_road_reach(platform_world: World) -> None:
    world = platform_world
    radii, pop = world.catchments.platform_radius_m, world.catchments.platform_pop
    assert radii.tolist() == [500.0, 1000.0]
    assert np.all(pop[1] >= pop[0]) and np.mean(pop[1] > pop[0]) > 0.9  # wider: more people
    graph = world.network.graph()
    for node in np.random.default_rng(5).choice(world.network.node_count, 25).tolist():
        dist = csgraph.dijkstra(graph, directed=False, indices=node, limit=1000.0)
        for r, row in zip(radii.tolist(), pop, strict=True):
            assert row[node] == pytest.approx(world.node_population[dist <= r].sum())


def test_platform_reach_and_uptake_match_their_binomial_means(platform_world: World) -> None:
    world = platform_world
    scenario = world.scenario
    assert scenario.platform is not None
    incidents = generate_incidents(scenario, world.node_district, 3)
    out = platform_pushes(world, incidents, 3)
    names = incidents.type_names
    pushed = np.isin(incidents.type_id, [names.index("missing_person"),
                                         names.index("person_in_need")])
    assert np.array_equal(out["pushed"], pushed) and pushed.sum() > 400
    radius = np.where(incidents.type_id == names.index("missing_person"), 1, 0)[pushed]
    people = world.catchments.platform_pop[radius, incidents.node[pushed]]
    share = people / world.node_population.sum()
    expected = scenario.platform.count * share
    reached = out["members_reached"][pushed]
    z = (reached.sum() - expected.sum()) / np.sqrt((expected * (1 - share)).sum())
    assert abs(z) < 4.0
    engagement = np.where(radius == 1, 0.05, 0.02)
    responders = out["responders"][pushed]
    mean = (reached * engagement).sum()
    assert abs(responders.sum() - mean) < 4.0 * np.sqrt((reached * engagement).sum())
    # denser places reach more members: the core against the hills
    district = world.node_district[incidents.node[pushed]]
    core, hills = (district == 0) & (radius == 1), (district == 3) & (radius == 1)
    assert reached[core].mean() > 3 * reached[hills].mean()
    # the first helper: only where somebody took the task up, never before the push
    first = out["first_helper_s"][pushed]
    assert np.array_equal(np.isfinite(first), responders > 0)
    delay = np.where(radius == 1, 600.0, 0.0)
    assert np.all(first[responders > 0] > delay[responders > 0])


def test_platform_helpers_are_not_dispatches_and_the_summary_reports_them(
        small_scenario: Scenario, small_world: World, tmp_path: Path) -> None:
    scenario = load_scenario(SMALL, [PLATFORM])
    world = gridsim.build_world(scenario)
    with_platform = gridsim.run(scenario, seed=4, world=world)
    without = gridsim.run(small_scenario, seed=4, world=small_world)
    for name, column in without.records.dispatches.items():
        assert np.array_equal(column, with_platform.records.dispatches[name]), name
    section = with_platform.summary["platform"]
    pushed = with_platform.records.platform["pushed"]
    assert section["task_pushes"] == int(pushed.sum()) > 0
    assert set(section["by_type"]) == {"missing_person", "person_in_need"}
    responders = with_platform.records.platform["responders"][pushed]
    assert section["responders_per_task"]["mean"] == pytest.approx(responders.mean(), abs=0.01)
    assert section["per_year"]["task_pushes"] == pytest.approx(pushed.sum() * 365, abs=1)
    assert section["first_helper_s"]["n"] == int((responders > 0).sum())
    gridsim.write_results(with_platform, tmp_path / "out")
    table = pq.read_table(tmp_path / "out" / "incidents.parquet")
    assert np.array_equal(table["platform_responders"].to_numpy(),
                          with_platform.records.platform["responders"])
    plain = tmp_path / "plain"
    gridsim.write_results(without, plain)
    assert "platform_responders" not in pq.read_table(plain / "incidents.parquet").column_names


# --- validation --------------------------------------------------------------------------


@pytest.mark.parametrize(("override", "needle"), [
    (kinds_override(a={"share": 0.5}, b={"share": 0.4}),
     "volunteers.kinds: the shares add up to 0.9; they must add up to 1"),
    (kinds_override(a={"share": 1.0, "where": "post"}),
     "volunteers.kinds.a.work_hours: required"),
    (kinds_override(a={"share": 1.0, "where": "post", "work_hours": [8, 25]}),
     "volunteers.kinds.a.work_hours[1]: Input should be less than or equal to 24"),
    (kinds_override(a={"share": 1.0, "where": "post", "work_hours": [9, 9]}),
     "volunteers.kinds.a.work_hours: start and end are the same hour"),
    (kinds_override(a={"share": 1.0, "work_hours": [9, 17]}),
     "volunteers.kinds.a.work_hours: only for where"),
    (kinds_override(a={"share": 1.0, "where": "post", "work_hours": [9, 17],
                       "roam_block_h": 3}), "volunteers.kinds.a.roam_block_h: only for"),
    (kinds_override(a={"share": 1.0, "where": "office"}), "volunteers.kinds.a.where"),
    ("platform={tasks = {fire = {radius_m = 500, engagement = 0.1}}}",
     "platform.tasks: unknown incident type 'fire'"),
    ("platform={tasks = {theft = {radius_m = 500, engagement = 1.5}}}",
     "platform.tasks.theft.engagement"),
])
def test_bad_kinds_and_platform_are_one_line_errors(override: str, needle: str) -> None:
    with pytest.raises(InputError) as caught:
        load_scenario(SMALL, [override])
    message = str(caught.value)
    assert needle in message and "\n" not in message


def test_default_kinds_and_platform() -> None:
    default = load_scenario(None)
    kinds = default.volunteers.kinds
    assert set(kinds) == {"door_guard", "property_security", "delivery_rider",
                          "community_worker"}
    assert sum(k.share for k in kinds.values()) == pytest.approx(1.0)
    assert default.platform is not None and default.platform.count == 600_000
    assert default.volunteers.count == 73_000
