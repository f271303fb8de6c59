"""Dispatcher activation and outcomes (issue 14): pushes, stand-downs, rescues."""

from __future__ import annotations

import json

import numpy as np
import pytest

import gridsim
from gridsim.sim.records import KIND_CODE
from tests.conftest import SMALL

POLICE = (KIND_CODE["patrol"], KIND_CODE["community_police"])
LOCAL = (KIND_CODE["grid_worker"], KIND_CODE["volunteer"])


@pytest.fixture(scope="module")
def result() -> gridsim.RunResult:
    scenario = gridsim.load_scenario(SMALL, ["duration_days=3"])
    return gridsim.run(scenario, seed=21)


def test_local_layers_are_pushed_only_after_the_centre_has_handled_the_call(
    result: gridsim.RunResult,
) -> None:
    d, inc, scenario = result.records.dispatches, result.records.incidents, result.scenario
    delay = np.array([scenario.incidents[n].activation_delay_s for n in inc.type_names])
    rows = np.flatnonzero(np.isin(d["kind"], LOCAL))
    call = inc.t_call_s[d["incident"][rows]]
    expected = call + delay[inc.type_id[d["incident"][rows]]]
    assert rows.shape[0] > 50 and delay.max() > 0
    assert np.all(d["t_dispatch_s"][rows] >= expected - 1e-6)
    grid = d["kind"][rows] == KIND_CODE["grid_worker"]  # pushed at once, no alert rounds
    assert grid.any() and np.allclose(d["t_dispatch_s"][rows][grid], expected[grid])


def test_a_layer_the_centre_never_activates_sends_no_one() -> None:
    scenario = gridsim.load_scenario(SMALL, ["incidents.theft.activation_prob.volunteers=0"])
    d, inc = (r := gridsim.run(scenario, seed=3)).records.dispatches, r.records.incidents
    theft = inc.type_id[d["incident"]] == inc.type_names.index("theft")
    volunteer = d["kind"] == KIND_CODE["volunteer"]
    assert not np.any(theft & volunteer)
    assert np.any(~theft & volunteer)  # the others still get volunteers


def test_a_stood_down_unit_was_overtaken_by_a_local_responder_and_drove_back(
    result: gridsim.RunResult,
) -> None:
    d = result.records.dispatches
    police = np.isin(d["kind"], POLICE)
    stood = np.flatnonzero(police & ~np.isfinite(d["t_arrive_s"]))
    assert stood.shape[0] > 0
    local = np.isin(d["kind"], LOCAL)
    saved = 0.0
    for row in stood.tolist():
        incident = d["incident"][row]
        t_local = d["t_arrive_s"][local & (d["incident"] == incident)].min()
        recalled = max(t_local, d["t_dispatch_s"][row])
        assert d["t_free_s"][row] == pytest.approx(2 * recalled - d["t_dispatch_s"][row])
        saved += 1
    summary = result.summary["outcomes"]
    assert summary["police_stood_down"] == stood.shape[0] == saved
    assert summary["police_hours_saved"] > 0


def test_no_stand_down_where_the_type_does_not_allow_it() -> None:
    never = [f"incidents.{name}.local_resolves_prob=0" for name in ("traffic", "person_in_need")]
    d = gridsim.run(gridsim.load_scenario(SMALL, never), seed=21).records.dispatches
    police = np.isin(d["kind"], POLICE)
    assert np.all(np.isfinite(d["t_arrive_s"][police]))


def test_rescued_means_help_before_the_harm_threshold(result: gridsim.RunResult) -> None:
    inc = result.records.incidents
    assert inc.harm_threshold_s is not None
    d = result.records.dispatches
    first = np.full(inc.count, np.inf)
    arrived = np.isfinite(d["t_arrive_s"])
    np.minimum.at(first, d["incident"][arrived],
                  d["t_arrive_s"][arrived] - inc.t_call_s[d["incident"][arrived]])
    at_risk = np.isfinite(inc.harm_threshold_s)
    rescued = at_risk & (first <= np.nan_to_num(inc.harm_threshold_s, nan=-1.0))
    outcomes = result.summary["outcomes"]
    assert outcomes["persons_at_risk"] == int(at_risk.sum()) > 0
    assert outcomes["rescued"] == int(rescued.sum())
    assert 0 < outcomes["rescued"] < outcomes["persons_at_risk"]
    json.dumps(result.summary, allow_nan=False)  # the summary stays valid JSON


def test_the_volunteer_activation_scale_multiplies_every_type() -> None:
    def volunteer_pushes(scale: float) -> int:
        scenario = gridsim.load_scenario(SMALL, [
            "duration_days=5", f"dispatch.volunteer_activation_scale={scale}"])
        return int(gridsim.run(scenario, seed=3).records.activations["volunteers"])

    full, half, none, capped = (volunteer_pushes(s) for s in (1.0, 0.5, 0.0, 100.0))
    assert none == 0
    # small.toml activates volunteers with 0.575 for its eligible types: x0.5 halves the
    # pushes (binomial tolerance), x100 is capped at 1 for every eligible call
    eligible = capped
    assert abs(half - 0.5 * full) < 4.0 * np.sqrt(eligible * 0.29 * 0.71)
    assert abs(full - 0.575 * eligible) < 4.0 * np.sqrt(eligible * 0.575 * 0.425)
