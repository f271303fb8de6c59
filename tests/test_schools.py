"""School-run posts: windows, congestion near schools, posts that hold staff, incidents."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from gridsim import build_world, load_scenario, run
from gridsim.demand.schools import (
    in_window,
    near_schools,
    school_nodes,
    window_share_by_hour,
    with_school_congestion,
)
from gridsim.scenario.schema import SchoolWindow
from gridsim.sim.records import KIND_CODE

ROOT = Path(__file__).resolve().parents[1]
SCHOOL_RUN = ROOT / "scenarios" / "school-run.toml"
Z_999 = 3.29


def _scenario(*sets: str):  # type: ignore[no-untyped-def]
    return load_scenario(SCHOOL_RUN, ["duration_days=2", *sets])


def test_window_shares_and_membership() -> None:
    windows = [SchoolWindow(start_h=7.5, length_h=0.75), SchoolWindow(start_h=16, length_h=1)]
    share = window_share_by_hour(windows)
    assert share[7] == pytest.approx(0.5) and share[8] == pytest.approx(0.25)
    assert share[16] == 1.0 and share.sum() == pytest.approx(1.75)
    t = np.array([7.4, 7.5, 8.2, 8.25, 16.99, 17.0, 24 + 7.6]) * 3600.0
    assert in_window(t, windows).tolist() == [False, True, True, False, True, False, True]


def test_congestion_table_adds_a_school_column_per_character() -> None:
    scenario = _scenario("schools.congestion_factor=1.5")
    spec = scenario.schools
    assert spec is not None
    congestion = scenario.city.congestion.table()
    character = np.array([0, 1, 2, 3, 0], dtype=np.int8)
    near = np.array([False, True, False, True, True])
    new_character, table = with_school_congestion(spec, near, character, congestion)
    assert new_character.tolist() == [0, 5, 2, 7, 4]
    assert np.array_equal(table[:, :4], congestion)
    assert np.allclose(table[7, 4:], congestion[7] * 1.5)  # 07:00-08:00: all in the window
    assert np.allclose(table[12, 4:], congestion[12])  # noon: no school run


def test_trips_near_schools_are_slower_only_in_the_windows() -> None:
    """All-day window, factor 2: police travel to nodes near schools doubles (about)."""
    base = ["schools.post_staff=\"none\"", "schools.windows=[{ start_h = 0, length_h = 24 }]",
            "schools.count=40", "schools.congestion_radius_m=800"]
    travel = {}
    for factor in (1.0, 2.0):
        scenario = _scenario(*base, f"schools.congestion_factor={factor}")
        scenario = scenario.model_copy(update={"schools": scenario.schools.model_copy(  # type: ignore[union-attr]
            update={"incident_type": None})})
        world = build_world(scenario)
        result = run(scenario, seed=3, world=world)
        d = result.records.dispatches
        police = d["kind"] == KIND_CODE["patrol"]
        arrived = police & np.isfinite(d["t_arrive_s"])
        node = result.records.incidents.node[d["incident"][arrived]]
        near = near_schools(world, school_nodes(world), 800.0)[node]
        trip_s = (d["t_arrive_s"] - d["t_dispatch_s"])[arrived]
        travel[factor] = (trip_s[near].mean(), trip_s[~near].mean(), int(near.sum()))
    near_ratio = travel[2.0][0] / travel[1.0][0]
    far_ratio = travel[2.0][1] / travel[1.0][1]
    assert travel[1.0][2] > 50
    assert 1.7 < near_ratio < 2.3, travel
    assert 0.85 < far_ratio < 1.15, travel


def test_school_incidents_come_at_schools_in_the_windows_at_their_rate() -> None:
    scenario = _scenario("schools.post_staff=\"none\"",
                         "schools.incidents_per_window_unstaffed=2.0")
    world = build_world(scenario)
    result = run(scenario, seed=4, world=world)
    inc = result.records.incidents
    mine = inc.type_id == inc.type_names.index("school_traffic")
    schools = school_nodes(world)
    assert set(inc.node[mine].tolist()) <= set(schools.tolist())
    assert in_window(inc.t_call_s[mine], scenario.schools.windows).all()  # type: ignore[union-attr]
    expected = 2.0 * schools.shape[0] * 2 * 2  # rate x schools x windows a day x days
    assert abs(int(mine.sum()) - expected) < Z_999 * np.sqrt(expected), (mine.sum(), expected)
    staffed = _scenario("schools.incidents_per_window_unstaffed=2.0")  # police: staffed rate
    staffed_count = int((run(staffed, seed=4, world=world).records.incidents.type_id
                         == inc.type_names.index("school_traffic")).sum())
    assert staffed_count < mine.sum()


def test_posts_hold_staff_who_then_miss_calls() -> None:
    """Grid workers at posts are never sent in a window; police posts slow police there."""
    scenario = _scenario("schools.post_staff=\"grid_workers\"", "schools.staff_per_post=3")
    world = build_world(scenario)
    result = run(scenario, seed=2, world=world)
    posts = result.summary["schools"]["posts"]
    assert posts["places_left_empty"] == 0
    assert posts["staff_hours_held"] == pytest.approx(8 * 3 * 4 * 1.0)  # posts x staff x windows
    from gridsim.sim.dispatch.school_posts import nearest_staff

    xy = world.network.xy_m
    staff = set(nearest_staff(xy[world.fleets.grid_workers.base_node],
                              xy[school_nodes(world)], 3)[0].tolist())
    d = result.records.dispatches
    grid = d["kind"] == KIND_CODE["grid_worker"]
    during = grid & in_window(d["t_dispatch_s"], scenario.schools.windows)  # type: ignore[union-attr]
    assert during.sum() > 0
    assert not set(d["responder"][during].tolist()) & staff
    # police posts tie patrol units in the windows: police come later there, on every seed
    later = []
    for seed in (1, 2, 3):
        p90 = {}
        for staff_kind in ("police", "grid_workers"):
            s = _scenario(f"schools.post_staff=\"{staff_kind}\"")
            summary = run(s, seed=seed, world=world).summary["schools"]
            p90[staff_kind] = summary["inside_windows_not_school_incidents"][
                "police_arrival_s"]["mean"]
        later.append(p90["police"] - p90["grid_workers"])
    assert min(later) > 0, later


@pytest.mark.parametrize("setting, message", [
    ('schools.incident_type="crash"', "schools.incident_type: unknown incident type 'crash'"),
    ("schools.windows=[{ start_h = 7, length_h = 2 }, { start_h = 8, length_h = 1 }]",
     "schools.windows: two windows overlap"),
    ("schools.windows=[{ start_h = 23, length_h = 2 }]", "runs past midnight"),
    ('schools.post_staff="teachers"', "schools.post_staff"),
])
def test_bad_school_input_is_one_line(capsys: pytest.CaptureFixture[str], setting: str,
                                      message: str) -> None:
    from gridsim.cli.main import main

    assert main(["validate", str(SCHOOL_RUN), "--set", setting]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and message in err, err
