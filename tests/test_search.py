"""Missing-person search: search theory (Koopman, Bayes, Stone), movement, people, study.

Each test compares the study's own functions with a closed form or a published figure,
with tolerances that could fail.
"""

from __future__ import annotations

import math
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from scipy import optimize, stats

from gridsim import build_world, load_scenario
from gridsim.cli.main import main
from gridsim.core.errors import InputError
from gridsim.core.rng import stream
from gridsim.scenario.schema import Duration
from gridsim.studies.search.channels import ObserverSet, observer_reports, phone_reports
from gridsim.studies.search.detection import (
    bayes_after_effort,
    bayes_after_report,
    best_cell,
    koopman_pod,
    pass_detection_prob,
    report_likelihood,
    stone_optimal_effort,
)
from gridsim.studies.search.priors import mapscore, ring_prior
from gridsim.studies.search.study import (
    ARMS,
    Study,
    _people,
    build_study,
    draw_replication,
    run_arm,
    run_study,
)
from gridsim.studies.search.subject import Subject, _harm_time, draw_subject

SCENARIO = Path(__file__).resolve().parent / "data" / "small-missing-person.toml"


@pytest.fixture(scope="module")
def study() -> Study:
    return build_study(build_world(load_scenario(SCENARIO)))


def test_random_straight_sweeps_find_as_koopman_says() -> None:
    """Random segments in a square: detection share vs 1 - exp(-W L / A), binomial CI.

    Segment centres are uniform over the square (area A) with uniform headings; the
    subject is far enough inside that every segment that could pass him is in the
    square. Each pass sees him by the study's inverse-cube pass law.
    """
    rng = np.random.default_rng(11)
    side, width, seg, n_seg, trials = 1000.0, 20.0, 100.0, 300, 3000
    margin = 200.0
    subject = rng.uniform(margin, side - margin, (trials, 1, 2))
    centre = rng.uniform(0.0, side, (trials, n_seg, 2))
    heading = rng.uniform(0.0, np.pi, (trials, n_seg))
    half = 0.5 * seg * np.stack([np.cos(heading), np.sin(heading)], axis=-1)
    a, b = (centre - half).reshape(-1, 2), (centre + half).reshape(-1, 2)
    at = np.broadcast_to(subject, centre.shape).reshape(-1, 2)
    p = pass_detection_prob(a, b, at, width).reshape(trials, n_seg)
    found = (rng.random(p.shape) < p).any(axis=1)
    expected = float(koopman_pod(width, n_seg * seg, side * side))
    assert expected == pytest.approx(1.0 - math.exp(-0.6))
    low, high = stats.binomtest(int(found.sum()), trials).proportion_ci(0.999)
    assert low <= expected <= high


def test_pass_law_integrates_to_its_sweep_width() -> None:
    """Sweep width is the integral of the lateral-range curve (Koopman's definition)."""
    lateral = np.linspace(-5000.0, 5000.0, 400_001)
    a = np.column_stack([np.full_like(lateral, -1e5), np.zeros_like(lateral)])
    b = np.column_stack([np.full_like(lateral, 1e5), np.zeros_like(lateral)])
    subject = np.column_stack([np.zeros_like(lateral), lateral])
    for width in (6.0, 25.0, 60.0):
        p = pass_detection_prob(a, b, subject, width)
        assert np.trapezoid(p, lateral) == pytest.approx(width, rel=0.01)
    # a subject beyond the end of the segment is not passed
    beyond = pass_detection_prob(a[:1], b[:1], np.array([[2e5, 0.0]]), 60.0)
    assert beyond[0] == 0.0


def test_bayes_after_a_failed_sweep_is_the_closed_form() -> None:
    rng = np.random.default_rng(5)
    prior = rng.dirichlet(np.ones(6))
    area = rng.uniform(1e4, 5e4, 6)
    cells = np.array([1, 3, 1, 5])  # cell 1 swept twice: the efforts add up
    effort = rng.uniform(1e3, 2e4, 4)
    belief = prior.copy()
    bayes_after_effort(belief, cells, effort, area)
    total = np.bincount(cells, weights=effort, minlength=6)
    q = 1.0 - np.exp(-total / area)
    expected = prior * (1.0 - q) / (1.0 - float(np.sum(prior * q)))
    assert belief == pytest.approx(expected, rel=1e-12)


def test_a_report_updates_the_map_by_bayes_rule() -> None:
    prior = np.array([0.5, 0.3, 0.15, 0.05])
    distance = np.array([50.0, 400.0, 90.0, np.inf])  # the last cell: outside
    radius, trust, total = 100.0, 0.6, 1e6
    likelihood = report_likelihood(distance, radius, trust, total)
    disc = trust / (math.pi * radius**2)
    false = (1.0 - trust) / total
    expected = prior * np.array([disc + false, false, disc + false, false])
    assert bayes_after_report(prior, likelihood) == pytest.approx(expected / expected.sum())


def test_stone_optimum_and_the_greedy_rule_that_follows_it() -> None:
    """Closed form vs a numerical optimum; one-sweep-at-a-time greedy vs the closed form."""
    p = np.array([0.5, 0.3, 0.2])
    alpha = np.array([1.0, 2.0, 0.5])  # POD per unit of effort: 1 - exp(-alpha z)
    total = 2.0
    optimum = stone_optimal_effort(p, alpha, total)
    assert optimum.sum() == pytest.approx(total)
    found = optimize.minimize(
        lambda z: -np.sum(p * -np.expm1(-alpha * z)), np.full(3, total / 3),
        bounds=[(0.0, total)] * 3,
        constraints={"type": "eq", "fun": lambda z: z.sum() - total}, method="SLSQP")
    assert optimum == pytest.approx(found.x, abs=2e-3)
    assert optimum[2] == 0.0  # p a below the level: the third cell gets no effort
    # the study's rule: each step sweeps the cell with the highest posterior x POD per
    # unit of effort, then updates the map as a failed sweep
    step, belief, spent = 0.002, np.append(p, 0.0), np.zeros(3)
    for _ in range(int(round(total / step))):
        cell = best_cell(belief[:3], -np.expm1(-alpha * step), np.full(3, step))
        spent[cell] += step
        bayes_after_effort(belief, np.array([cell]), np.array([alpha[cell] * step]),
                           np.ones(4))
    assert spent == pytest.approx(optimum, abs=0.01)


def test_ring_prior_holds_the_rings_shares(study: Study) -> None:
    """Without attraction, 25/50/75% of the map lies within the category's quartiles."""
    behaviour = study.spec.behaviours["dementia"]  # rings well inside the 4 km area
    prior = ring_prior(study.area, behaviour, attraction=False)
    assert prior.sum() == pytest.approx(1.0)
    assert prior[-1] == pytest.approx(0.0, abs=0.01)  # the 2 x 95% ring lies inside 4 km
    q = np.array(behaviour.distance_km_quartiles) * 1000.0
    centre_d = np.hypot(*(study.area.segment_centre_xy - study.area.xy_m[study.area.lkp]).T)
    # segments are 500 m: compare the cumulative mass by segment centre at a coarser grain
    for quartile, share in zip(q, (0.25, 0.5, 0.75), strict=True):
        within = prior[:-1][centre_d <= quartile + 250.0].sum()
        beyond = prior[:-1][centre_d <= quartile - 250.0].sum()
        assert beyond - 0.02 <= share <= within + 0.02


def test_mapscore_is_zero_for_a_flat_map_and_near_one_for_the_right_peak() -> None:
    area = np.full(11, 1e4)
    flat = np.append(np.full(11, 1 / 11), 0.0)
    assert mapscore(flat, area, 3) == pytest.approx(0.0)
    peaked = np.append(np.full(11, 0.05), 0.0)
    peaked[3] = 0.5
    assert mapscore(peaked, area, 3) == pytest.approx(10 / 11)
    assert mapscore(peaked, area, 4) == pytest.approx(-1 / 11)


def test_a_subject_who_stays_never_moves_again(study: Study) -> None:
    behaviour = study.behaviour.model_copy(update={"rules": {"stay": 1.0}})
    rng = stream(2, "test.stay")
    for _ in range(20):
        s = draw_subject(study.area, study.spec, behaviour, study.end_s, rng)
        rest_from = float(s.t_s[-2])  # arrived at his resting spot
        assert s.settled_s <= rest_from <= s.settled_s + behaviour.offroad_m
        times = np.linspace(rest_from, study.end_s, 50)
        where = s.position(times)
        assert np.all(where == where[0])
        assert np.hypot(*(where[0] - study.area.xy_m[s.settled_node])) <= behaviour.offroad_m


def test_a_wandering_subject_keeps_moving(study: Study) -> None:
    behaviour = study.behaviour.model_copy(update={"rules": {"wander": 1.0}})
    rng = stream(3, "test.wander")
    moved = 0
    for _ in range(20):
        s = draw_subject(study.area, study.spec, behaviour, study.end_s, rng)
        later = s.node_at(np.linspace(s.settled_s, study.end_s, 200))
        moved += int(np.unique(later).shape[0] > 1)
    assert moved >= 18  # rests of an hour, walks of 15 min: over 10 h nearly all move


def test_the_harm_hazard_grows_at_the_water_and_at_night(study: Study) -> None:
    """Time to harm is exponential: rate 1 / critical_time_h x place x night factors."""
    behaviour = study.behaviour.model_copy(update={"critical_time_h": 10.0})
    end_s, n = 2 * 3600.0, 2000
    t, node = np.array([0.0, end_s]), np.array([0, 0])
    for water, night, factor in ((False, False, 1.0), (True, False, 5.0), (True, True, 10.0)):
        area = replace(study.area, place=np.full_like(study.area.place, 1 if water else 0))
        spec = study.spec.model_copy(update={
            "night_hours": (0.0, 23.99) if night else (0.0, 0.0),
            "critical_place_factor": {"water_edge": 5.0}, "critical_night_factor": 2.0})
        rng = stream(4, "test.harm")
        harmed = sum(_harm_time(area, spec, behaviour, t, node, end_s, rng) < end_s
                     for _ in range(n))
        expected = 1.0 - math.exp(-factor * end_s / (10.0 * 3600.0))
        low, high = stats.binomtest(int(harmed), n).proportion_ci(0.999)
        # the hazard is integrated in 5-minute steps: allow their rounding
        assert low - 0.02 <= expected <= high + 0.02


def test_grid_workers_keep_their_shift_unless_called_out(study: Study) -> None:
    """At 23:30 the 8-18 h shift is off: without call-outs nobody starts before 08:00."""
    spec = study.spec.model_copy(update={"grid_callout_prob": 0.0})
    quiet = replace(study, spec=spec)
    shift_start_s = (24.0 + 8.0 - spec.last_seen_hour) * 3600.0
    for seed in range(5):
        grid = _people(quiet, stream(seed, "test.people"))["grid"]
        assert grid, "the day shift joins within the 12 h horizon"
        assert min(s.start_s for s in grid) >= shift_start_s
        assert all(s.end_s <= shift_start_s + 10 * 3600.0 for s in grid)
    called = _people(replace(study, spec=study.spec.model_copy(
        update={"grid_callout_prob": 1.0})), stream(0, "test.people"))["grid"]
    night = [s for s in called if s.start_s < shift_start_s]
    assert len(night) == study.grid_workers.shape[0]


def test_volunteers_turn_out_as_in_the_incident_model(study: Study) -> None:
    """Mean turnout = sum of availability x acceptance_prob x exp(-d / decay) x show."""
    cfg = study.scenario.volunteers
    hour = int((study.spec.last_seen_hour + study.spec.report_delay_h) % 24)
    p = (cfg.availability_by_hour[hour] * cfg.acceptance_prob
         * np.exp(-study.volunteer_road_m / cfg.acceptance_decay_m) * (1 - cfg.no_show_prob))
    day = replace(study, spec=study.spec.model_copy(update={"grid_callout_prob": 0.0}))
    draws = np.array([len(_people(day, stream(s, "test.volunteers"))["volunteer"])
                      for s in range(400)])
    mean, var = float(p.sum()), float((p * (1 - p)).sum())
    assert abs(draws.mean() - mean) <= 4.0 * math.sqrt(var / draws.shape[0]) + 1e-9


def test_a_camera_reports_a_passing_subject_after_the_footage_search(study: Study) -> None:
    xy = np.array([[0.0, 0.0], [100.0, 0.0], [200.0, 0.0]])
    subject = Subject(t_s=np.array([0.0, 100.0, 200.0]), xy_m=xy, node=np.arange(3),
                      rule="wander", settled_s=200.0, settled_node=2, home_s=np.inf,
                      harm_s=np.inf)
    spec = study.spec.channels.cctv.model_copy(update={
        "pass_prob_day": 1.0, "pass_prob_night": 1.0, "false_reports_per_observer_h": 0.0,
        "report_delay_s": Duration(dist="fixed", mean_s=600.0), "range_m": 10.0})
    camera = ObserverSet("cctv", np.array([[100.0, 0.0]]), 0.0, 5000.0)
    reports = observer_reports(camera, spec, study.spec, subject, 1e5, stream(1, "t"))
    assert [(r.seen_s, r.report_s, r.true) for r in reports] == [(100.0, 5600.0, True)]


def test_phone_fixes_come_after_the_request_and_contain_him(study: Study) -> None:
    spec = study.spec.channels.phone.model_copy(update={"phone_on_prob": 1.0})
    rng = stream(6, "test.phone")
    for _ in range(10):
        subject = draw_subject(study.area, study.spec, study.behaviour, study.end_s, rng)
        fixes = phone_reports(spec, subject, study.report_s, study.end_s, rng)
        first = study.report_s + spec.request_delay_s
        assert [f.report_s for f in fixes] == pytest.approx(
            list(np.arange(first, study.end_s, spec.repeat_s)))
        for fix in fixes:
            here = subject.position(np.array([fix.seen_s]))[0]
            assert np.hypot(*(here - np.array(fix.xy_m))) <= spec.accuracy_m
    off = spec.model_copy(update={"phone_on_prob": 0.0})
    assert phone_reports(off, subject, study.report_s, study.end_s, rng) == []


def test_study_arms_share_each_replication(study: Study) -> None:
    rows = run_study(study.world, replications=3, seed=3)
    assert len(rows) == 3 * len(ARMS)
    for rep in range(3):
        mine = [r for r in rows if r["replication"] == rep]
        assert len({r["destination_node"] for r in mine}) == 1  # one subject per replication
        assert len({r["searchers"] for r in mine if r["strategy"] in (
            "+ volunteers, own sweep", "all, Stone, honest prior", "+ CCTV")}) == 1
    for r in rows:
        assert (r["time_to_find_s"] == np.inf) != r["found"]


def test_a_wrong_prior_costs_the_stone_searchers(study: Study) -> None:
    """Paired over replications: the honest map finds within 6 h more often (one-sided)."""
    honest, wrong = [], []
    for index in range(40):
        rep = draw_replication(study, 1000 + index)
        for arm, out in (("all, Stone, honest prior", honest),
                         ("all, Stone, wrong prior", wrong)):
            out.append(run_arm(study, rep, arm)["time_to_find_s"] <= 6 * 3600.0)
    only_honest = sum(h and not w for h, w in zip(honest, wrong, strict=True))
    only_wrong = sum(w and not h for h, w in zip(honest, wrong, strict=True))
    assert only_honest > only_wrong
    assert stats.binomtest(only_honest, only_honest + only_wrong, alternative="greater"
                           ).pvalue < 0.05


@pytest.mark.parametrize(("override", "message"), [
    ("missing_person.wrong_prior_category=hiker",
     "wrong_prior_category: unknown category 'hiker'"),
    ("missing_person.segment_m=3000", "segment_m: is 3000 but the search area's radius"),
    ("missing_person.behaviours.despondent.distance_km_p95=1.0", "must increase"),
    ("missing_person.behaviours.despondent.rules={ stay = 0 }", "give at least one rule"),
    ("missing_person.police.sweep_width_night_m.park=0", "greater than 0"),
    ("missing_person.channels.cctv.places=['harbour']", "places"),
])
def test_bad_study_input_is_one_clear_error(override: str, message: str) -> None:
    with pytest.raises(InputError, match=message):
        load_scenario(SCENARIO, [override])


def test_the_platform_channel_needs_the_platform_pool(tmp_path: Path) -> None:
    text = SCENARIO.read_text(encoding="utf-8")
    start = text.index("[platform]")
    without = text[:start] + text[text.index("[missing_person]"):]
    path = tmp_path / "no-platform.toml"
    path.write_text(without, encoding="utf-8")
    with pytest.raises(InputError, match=r"add \[platform\] with"):
        load_scenario(path)


def test_cli_runs_the_study_and_writes_the_figure(tmp_path: Path) -> None:
    assert main(["run", str(SCENARIO), "--quiet", "--out", str(tmp_path / "s")]) == 0
    assert {p.name for p in (tmp_path / "s").iterdir()} == {"gridsim-output.json",
        "summary.json", "scenario.json", "search.parquet", "time_to_find_cdf.png"}
