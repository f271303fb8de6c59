"""Rosters a planner probably did not mean: a unit per station, cut by shifts.

``police.patrol_units`` are car-shift positions shared among ``patrol_shifts``: with the
default three 8-hour shifts, 13 units for 13 stations keep about 4 cars on the road at a
time. Giving no more units than stations reads as "a car per station"; when the shifts
then leave fewer on duty than stations, gridsim warns (legal, so not an error). More
units than stations are taken as meant (a planner sharing cars among shifts).
"""

from __future__ import annotations

import numpy as np

from gridsim.core.units import HOURS_PER_DAY
from gridsim.scenario.schema import Scenario, Shift


def on_duty_share_by_hour(shifts: list[Shift]) -> np.ndarray:
    """Return, for each hour of the day, the share of the units whose shift covers it."""
    hours = np.arange(HOURS_PER_DAY) + 0.5
    shares = np.array([s.share for s in shifts], dtype=float)
    covers = np.array([((hours - s.start_h) % HOURS_PER_DAY) < s.length_h for s in shifts])
    return (shares[:, None] * covers).sum(axis=0) / shares.sum()


def roster_warnings(scenario: Scenario) -> list[str]:
    """Return one line per roster that leaves fewer units on duty than stations."""
    police, stations = scenario.police, scenario.zones.stations
    units = police.patrol_units
    if units == 0 or units > stations:
        return []
    fewest = float(on_duty_share_by_hour(police.patrol_shifts).min()) * units
    if fewest >= stations:
        return []
    shifts = len(police.patrol_shifts)
    return [f"police.patrol_units = {units:,} over {shifts} shift(s) "
            f"(police.patrol_shifts) keeps as few as {fewest:.1f} cars on duty for "
            f"{stations:,} stations; if every station should keep one, give about "
            f"{int(np.ceil(stations * units / max(fewest, 1e-9))):,} units or one 24-hour "
            "shift"]
