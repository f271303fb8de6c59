"""The shipped scenario files: the embedded default, its copy in scenarios/, the design facts.

The facts are the source article's, listed in docs/design.md.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from gridsim.scenario import Scenario, default_scenario_text, load_scenario, parse_scenario

ROOT = Path(__file__).resolve().parents[1]
SMALL = ROOT / "scenarios" / "small.toml"
NANJING = ROOT / "scenarios" / "nanjing.toml"

NANJING_DISTRICTS = {
    "Xuanwu", "Qinhuai", "Jianye", "Gulou", "Pukou", "Qixia",
    "Yuhuatai", "Jiangning", "Luhe", "Lishui", "Gaochun",
}


@pytest.fixture(scope="module")
def default() -> Scenario:
    return load_scenario()


def test_default_text_is_byte_identical_to_scenarios_nanjing() -> None:
    assert default_scenario_text().encode("utf-8") == NANJING.read_bytes()


@pytest.mark.parametrize("path", [SMALL, NANJING], ids=["small", "nanjing"])
def test_scenario_file_loads(path: Path) -> None:
    scenario = load_scenario(path)
    assert isinstance(scenario, Scenario)
    assert scenario.name == path.stem


def test_default_equals_scenarios_nanjing(default: Scenario) -> None:
    assert default == load_scenario(NANJING)
    assert default == parse_scenario(default_scenario_text(), "<text>")


def test_default_has_the_eleven_districts(default: Scenario) -> None:
    names = [d.name for d in default.city.districts]
    assert len(names) == 11
    assert set(names) == NANJING_DISTRICTS


def test_default_north_bank_is_pukou_and_luhe(default: Scenario) -> None:
    north = {d.name for d in default.city.districts if d.bank == "north"}
    assert north == {"Pukou", "Luhe"}
    assert default.city.bridges >= 1


def test_default_station_counts(default: Scenario) -> None:
    assert default.zones.household_stations == 140
    assert default.zones.street_stations == 17
    assert default.zones.stations == 157


def test_default_fleet_counts(default: Scenario) -> None:
    assert default.volunteers.count == 73_000
    assert default.watch_points.count == 2_000
    assert default.mediators.count == 1_500


def test_default_incident_types(default: Scenario) -> None:
    expected = {"dispute", "theft", "assault", "traffic", "person_in_need", "missing_person"}
    assert expected <= set(default.incidents)
    assert "dispute" in default.dispatch.mediation_types
    for name in default.dispatch.mediation_types:
        assert "police" not in default.incidents[name].responders


def test_the_design_city_year_of_1_8_million_incidents_is_the_bench_load(
        default: Scenario) -> None:
    from gridsim.validation.bench import bench_scenario

    per_year = {name: 365 * sum(kind.rate_per_day for kind in s.incidents.values())
                for name, s in (("bench", bench_scenario()), ("default", default))}
    assert 1.6e6 <= per_year["bench"] <= 2.0e6  # docs/design.md: about 1.8 million
    assert 1.1e6 <= per_year["default"] <= 1.4e6  # calibrated: fewer disputes to mediators


def test_the_app_dispatch_what_if_keeps_the_ambitious_settings(default: Scenario) -> None:
    what_if = load_scenario(ROOT / "scenarios" / "nanjing-app-dispatch.toml")
    assert what_if.incidents["dispute"].rate_per_day == 1600
    assert what_if.dispatch.volunteer_activation_scale == 1.0
    assert default.dispatch.volunteer_activation_scale < 0.05  # the calibrated as-is city
    # the same city: only behaviour differs
    assert what_if.city == default.city and what_if.zones == default.zones


SHIPPED = sorted(p for p in (ROOT / "scenarios").glob("*.toml") if "targets" not in p.name)


@pytest.mark.parametrize("path", SHIPPED, ids=[p.stem for p in SHIPPED])
def test_scenario_json_reads_back_as_the_same_scenario(path: Path) -> None:
    # a results folder's scenario.json (every field, defaults included) is what
    # `gridsim report` validates again; a check on which fields were given must not
    # reject it (roam_block_h and shelter_types once did, on the default scenario)
    scenario = load_scenario(path)
    assert Scenario.model_validate(scenario.model_dump(mode="json")) == scenario
