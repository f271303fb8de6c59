"""The compiled alert rounds give the runs the interpreted ones give.

``gridsim.sim.dispatch.alert_rounds`` is compiled by numba; ``alert_rounds_python`` is the same
code run by CPython. Whole runs with every alerting rule on (kinds by hour, quiet hours, the
weekly cap, churn, recruits, no-shows, fatigue) must match row for row: a compiler that
reordered the floating-point arithmetic, or a table indexed the wrong way round, would
change who is alerted and when.
"""

from __future__ import annotations

import numpy as np
import pytest

from gridsim.core.rng import DrawArray
from gridsim.demand.incidents import generate_incidents
from gridsim.scenario import load_scenario
from gridsim.sim.dispatch import alert_rounds
from gridsim.sim.engine import simulate
from gridsim.sim.records import SimulationRecords
from gridsim.world.build import build_world
from tests.conftest import SMALL

EVERY_RULE = [
    "duration_days=4", "dispatch.volunteer_activation_scale=1",
    "volunteers.alerting.quiet_hours=[23,6]", "volunteers.alerting.max_alerts_per_week=2",
    "volunteers.no_show_prob=0.2", "volunteers.churn_per_alert=0.02",
    "volunteers.churn_per_day=0.01", "volunteers.fatigue_alerts=1",
]


def _run(overrides: list[str], scenario_path: str | None,
         monkeypatch: pytest.MonkeyPatch, compiled: bool) -> SimulationRecords:
    scenario = load_scenario(scenario_path, overrides)
    world = build_world(scenario)
    incidents = generate_incidents(scenario, world.node_district, 3,
                                   world.catchments.watch_point_m)
    with monkeypatch.context() as patch:
        if not compiled:
            patch.setattr(alert_rounds, "alert_rounds", alert_rounds.alert_rounds_python)
        return simulate(world, incidents, 3)


@pytest.mark.parametrize("scenario_path, overrides", [
    # the home catchment (one volunteer per entry), with recruits taking leavers' seats
    (str(SMALL), [*EVERY_RULE, "volunteers.recruit_per_day=0.01"]),
    # kinds: volunteers by node and hour; the default scenario's four kinds on a city at
    # 5% of its nodes (a 1 s world instead of 28 s; the kind thinning still decides
    # who is alerted: keeping every kind changes the tally)
    (None, [*EVERY_RULE[1:], "duration_days=1", "volunteers.recruit_per_day=0",
            "incidents.dispute.rate_per_day=300", "city.scale=0.05", "zones.grids=600"]),
], ids=["catchment", "kinds"])
def test_compiled_rounds_match_the_interpreted_ones(
        scenario_path: str | None, overrides: list[str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    fast = _run(overrides, scenario_path, monkeypatch, compiled=True)
    slow = _run(overrides, scenario_path, monkeypatch, compiled=False)
    tally = fast.volunteer_tally
    # every rule was exercised, so a mismatch in any of them would show
    assert tally["alerts"] > 200 and tally["stand_downs"] > 0 and tally["no_shows"] > 0
    assert tally["left_after_alert"] > 0
    if scenario_path is None:  # no recruits, under a week: the weekly cap binds
        assert tally["recruited"] == 0 and fast.volunteer_alerts.max() == 2
    else:
        assert tally["recruited"] > 0
    assert tally == slow.volunteer_tally
    np.testing.assert_array_equal(fast.volunteer_alerts, slow.volunteer_alerts)
    np.testing.assert_array_equal(fast.volunteer_active, slow.volunteer_active)
    assert fast.dispatches.keys() == slow.dispatches.keys()
    for name, column in fast.dispatches.items():
        np.testing.assert_array_equal(column, slow.dispatches[name], err_msg=name)


def test_draw_array_reads_the_stream_in_order_however_it_is_topped_up() -> None:
    # the rounds read ahead in topped-up arrays: the values read must be the stream's
    # own sequence, as if drawn one at a time (what keeps runs identical to before)
    whole = np.random.default_rng(5).lognormal(0.0, 1.0, 5_000)
    rng = np.random.default_rng(5)
    draws = DrawArray(lambda k: rng.lognormal(0.0, 1.0, k), block=64)
    read = []
    for need, used in [(10, 3), (500, 499), (1, 1), (2_000, 7), (64, 64), (700, 0)] * 3:
        draws.ensure(need)
        assert draws.values.shape[0] - draws.index >= need
        read += draws.values[draws.index:draws.index + used].tolist()
        draws.index += used
    read.append(draws.take_one())
    assert read == whole[: len(read)].tolist()
