"""Watch points as they work: staff capacity, points whose staff stay put, refuge, help."""

from __future__ import annotations

import numpy as np
import pytest

from gridsim import World, build_world, load_scenario
from gridsim.api import run
from gridsim.demand.incidents import generate_incidents
from gridsim.scenario import Scenario
from gridsim.sim.dispatch import watch_points as wp
from gridsim.sim.engine import simulate
from gridsim.sim.records import KIND_CODE, SimulationRecords

from .conftest import SMALL

# many points, a wide radius and long stays: capacity binds and shops see incidents at
# their own node, so every rule below is exercised
BUSY = ["duration_days=2", "watch_points.count=1200", "watch_points.radius_m=600",
        "watch_points.on_scene_s={ dist = \"fixed\", mean_s = 5400 }",
        "watch_points.help_prob=0.9", "watch_points.shelter_radius_m=200",
        "volunteers.count=0", "incidents.theft.rate_per_day=3000",
        "incidents.theft.responders=[\"watch_points\"]"]


@pytest.fixture(scope="module")
def busy() -> tuple[Scenario, World, SimulationRecords]:
    scenario = load_scenario(SMALL, BUSY)
    world = build_world(scenario)
    incidents = generate_incidents(scenario, world.node_district, 5)
    return scenario, world, simulate(world, incidents, 5)


def _point_rows(records: SimulationRecords) -> dict[str, np.ndarray]:
    d = records.dispatches
    rows = d["kind"] == KIND_CODE["watch_point"]
    return {name: column[rows] for name, column in d.items()}


def _sites(scenario: Scenario, world: World) -> tuple[np.ndarray, np.ndarray]:
    _, staff, may_leave = wp.watch_point_sites(
        scenario.watch_points, world.fleets.watch_point_added(), scenario.city.seed)
    return staff, may_leave


def test_capacity_is_never_exceeded(busy) -> None:  # type: ignore[no-untyped-def]
    scenario, world, records = busy
    staff, _ = _sites(scenario, world)
    rows = _point_rows(records)
    most = np.zeros(staff.shape[0], dtype=np.int64)
    for point in np.unique(rows["responder"]).tolist():
        mine = rows["responder"] == point
        starts, ends = rows["t_dispatch_s"][mine], rows["t_free_s"][mine]
        # sweep: +1 at a dispatch, -1 when free; a slot freed at t can be taken at t
        times = np.concatenate([starts, ends])
        step = np.concatenate([np.ones(starts.shape[0]), -np.ones(ends.shape[0])])
        order = np.lexsort((step, times))
        most[point] = int(np.cumsum(step[order]).max())
    assert np.all(most <= staff), "a watch point had more incidents at once than staff"
    # not vacuous: capacity bound somewhere, points with two staff used both at once, and
    # calls were refused for it
    assert np.any((staff >= 2) & (most == staff))
    assert int((records.watch_point_outcome == wp.REFUSED_CAPACITY).sum()) > 0


def test_staff_are_busy_from_the_call_until_back(busy) -> None:  # type: ignore[no-untyped-def]
    scenario, world, records = busy
    rows = _point_rows(records)
    t_call = records.incidents.t_call_s[rows["incident"]]
    cfg = scenario.watch_points
    assert np.array_equal(rows["t_dispatch_s"], t_call)
    walk_s = rows["t_arrive_s"] - t_call - cfg.reaction_s
    assert np.all(walk_s >= -1e-9)
    # on scene (fixed), then the same walk back
    assert np.allclose(rows["t_free_s"], rows["t_arrive_s"] + cfg.on_scene_s.mean_s + walk_s)


def test_a_point_that_may_not_leave_helps_only_at_its_node(busy) -> None:  # type: ignore[no-untyped-def]
    scenario, world, records = busy
    _, may_leave = _sites(scenario, world)
    rows = _point_rows(records)
    point_node = world.fleets.watch_point_node[rows["responder"]]
    incident_node = records.incidents.node[rows["incident"]]
    stays = ~may_leave[rows["responder"]]
    assert stays.any(), "no shop helped at all: the test says nothing"
    assert np.array_equal(incident_node[stays], point_node[stays])
    reaction_s = scenario.watch_points.reaction_s
    assert np.all(rows["t_arrive_s"][stays] == rows["t_dispatch_s"][stays] + reaction_s)
    # the others do leave their site, and shops turned calls away for it
    assert np.any(incident_node[~stays] != point_node[~stays])
    assert int((records.watch_point_outcome == wp.STAYS_AT_SITE).sum()) > 0


def test_refuge_needs_someone_on_hand(busy) -> None:  # type: ignore[no-untyped-def]
    scenario, world, records = busy
    cfg, inc = scenario.watch_points, records.incidents
    staff, _ = _sites(scenario, world)
    catch = world.catchments
    point = catch.watch_point[inc.node]
    near = (point >= 0) & (catch.watch_point_m[inc.node] <= cfg.shelter_radius_m)
    shelter_type = np.isin(np.array(inc.type_names)[inc.type_id], cfg.shelter_types)
    rows = _point_rows(records)
    on_hand = np.zeros(inc.count, dtype=bool)
    for i in np.flatnonzero(near & shelter_type).tolist():
        mine = rows["responder"] == point[i]
        out = ((rows["t_dispatch_s"][mine] <= inc.t_call_s[i])
               & (rows["t_free_s"][mine] > inc.t_call_s[i]) & (rows["incident"][mine] != i))
        on_hand[i] = int(out.sum()) < staff[point[i]]
    expected = near & shelter_type & on_hand
    assert expected.sum() > 0
    assert np.array_equal(records.sheltered, expected)


def test_help_prob_zero_helps_nobody_but_still_shelters(small_world: World) -> None:
    scenario = load_scenario(SMALL, [*BUSY, "watch_points.help_prob=0"])
    world = build_world(scenario)
    records = simulate(world, generate_incidents(scenario, world.node_district, 5), 5)
    assert not np.any(records.dispatches["kind"] == KIND_CODE["watch_point"])
    assert np.all(records.watch_point_outcome != wp.HELPED)
    assert records.sheltered.sum() > 0


def test_kinds_follow_their_shares_and_are_stable() -> None:
    cfg = load_scenario(SMALL).watch_points
    kind, staff, may_leave = wp.watch_point_sites(cfg, np.zeros(20_000, dtype=bool), 3)
    shares = np.array([k.share for k in cfg.kinds.values()])
    observed = np.bincount(kind, minlength=shares.shape[0]) / kind.shape[0]
    assert np.allclose(observed, shares / shares.sum(), atol=0.015)
    names = list(cfg.kinds)
    assert np.array_equal(staff, np.array([cfg.kinds[n].staff for n in names])[kind])
    assert np.array_equal(may_leave, np.array([cfg.kinds[n].may_leave for n in names])[kind])
    # point k's kind depends on k only
    assert np.array_equal(wp.watch_point_sites(cfg, np.zeros(500, dtype=bool), 3)[0],
                          kind[:500])


def test_summary_section_adds_up(busy) -> None:  # type: ignore[no-untyped-def]
    scenario, world, _ = busy
    result = run(scenario, seed=5, world=world)
    section = result.summary["watch_points"]
    parts = ("stays_at_site", "unable", "refused_for_capacity", "helped")
    assert section["in_reach"] == sum(section[p] for p in parts)
    assert section["calls"] == result.summary["incidents"]  # every type lists watch points
    rows = _point_rows(result.records)
    assert section["helped"] == rows["incident"].shape[0]
    assert section["sheltered"] == int(result.records.sheltered.sum())
    assert section["refused_for_capacity"] > 0


def test_same_seed_same_watch_point_records(busy) -> None:  # type: ignore[no-untyped-def]
    scenario, world, records = busy
    again = simulate(world, generate_incidents(scenario, world.node_district, 5), 5)
    assert np.array_equal(again.watch_point_outcome, records.watch_point_outcome)
    assert np.array_equal(again.sheltered, records.sheltered)
    for name, column in records.dispatches.items():
        assert np.array_equal(again.dispatches[name], column)


ALARM = [*BUSY, "incidents.theft.report_delay_s={ dist = \"exponential\", mean_s = 300 }",
         "watch_points.alarm_radius_m=400", "watch_points.alarm_prob=0.6",
         "watch_points.alarm_report_s={ dist = \"fixed\", mean_s = 30 }"]


def test_a_point_raises_the_alarm_sooner_only_near_it() -> None:
    scenario = load_scenario(SMALL, ALARM)
    world = build_world(scenario)
    point_m = world.catchments.watch_point_m
    inc = generate_incidents(scenario, world.node_district, 8, point_m)
    assert inc.t_occur_s is not None and inc.alarmed is not None
    delay = inc.report_delay_s()
    theft = inc.type_id == inc.type_names.index("theft")  # the one type with a delay
    assert not inc.alarmed[~theft].any() and np.all(delay[~theft] == 0.0)
    near = (point_m[inc.node] <= 400.0)[theft]
    delay, alarmed = delay[theft], inc.alarmed[theft]
    assert np.all(delay >= 0.0) and np.all(np.diff(inc.t_call_s) >= 0.0)
    assert not alarmed[~near].any()  # never far from a point
    assert np.allclose(delay[alarmed], 30.0)
    # near a point: raised with 0.6, kept when sooner than Exp(300 s): 0.6 * exp(-30/300)
    n, k = int(near.sum()), int(alarmed.sum())
    expected = 0.6 * np.exp(-30.0 / 300.0)
    assert n > 2000
    assert abs(k / n - expected) < 4.0 * np.sqrt(expected * (1 - expected) / n)
    # elsewhere the report delay is the type's own: exponential, mean 300 s
    far = delay[~near]
    assert abs(far.mean() - 300.0) < 4.0 * 300.0 / np.sqrt(far.shape[0])
    # without the points' positions nobody is alarmed: the same incidents, called no
    # sooner, so a few near the end fall after the run
    plain = generate_incidents(scenario, world.node_district, 8)
    assert plain.alarmed is not None and not plain.alarmed.any()
    assert plain.t_occur_s is not None and plain.count <= inc.count
    assert np.isin(plain.t_occur_s, inc.t_occur_s).all()


def test_harm_thresholds_run_from_the_incident(small_world: World) -> None:
    base = ["duration_days=3"]
    late = [*base, "incidents.person_in_need.report_delay_s={ dist = \"fixed\", mean_s = 600 }"]
    rescued = [run(load_scenario(SMALL, o), seed=4).summary["outcomes"]["rescued"]
               for o in (base, late)]
    assert rescued[1] < rescued[0]
