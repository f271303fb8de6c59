"""A unit per station cut by shifts is warned about; a roster that shares cars is not."""

from __future__ import annotations

import numpy as np

from gridsim.scenario import load_scenario
from gridsim.scenario.rosters import on_duty_share_by_hour, roster_warnings
from tests.conftest import SMALL


def test_three_eight_hour_shifts_keep_a_third_on_duty() -> None:
    scenario = load_scenario(SMALL)
    np.testing.assert_allclose(on_duty_share_by_hour(scenario.police.patrol_shifts), 1 / 3)


def test_a_car_per_station_over_three_shifts_is_warned_about() -> None:
    stations = load_scenario(SMALL).zones.stations
    scenario = load_scenario(SMALL, [f"police.patrol_units={stations}"])
    [line] = roster_warnings(scenario)
    assert f"as few as {stations / 3:.1f} cars on duty for {stations} stations" in line
    day_long = load_scenario(SMALL, [f"police.patrol_units={stations}",
                                     'police.patrol_shifts=[{start_h = 0, length_h = 24}]'])
    assert roster_warnings(day_long) == []


def test_cars_shared_among_shifts_are_taken_as_meant() -> None:
    assert roster_warnings(load_scenario(SMALL)) == []
