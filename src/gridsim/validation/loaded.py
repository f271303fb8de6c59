"""The default city under load: how long police calls wait for a free unit as patrols shrink.

``loaded_police_report`` writes the table of docs/validation.md (rerun it after a
dispatch change to see how queueing moves).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from gridsim.api import run
from gridsim.scenario import load_scenario
from gridsim.scenario.schema import Scenario
from gridsim.sim.records import KIND_CODE, POLICE_KINDS, SimulationRecords
from gridsim.world.build import build_world

LOADED_LEVELS = (None, 800, 760, 740, 700, 600)  # patrol units of the loaded-Nanjing table
WAITED_S = 1e-6  # a police dispatch later than call + handling delay by more than this waited


def police_waits(records: SimulationRecords, scenario: Scenario) -> np.ndarray:
    """Return how long each police dispatch of one run waited for a free unit (seconds).

    A dispatch's wait is its time minus (call time + the handling delay of the call's
    priority): zero when a unit was free.
    """
    d = records.dispatches
    rows = np.isin(d["kind"], [KIND_CODE[k] for k in POLICE_KINDS])
    incident = d["incident"][rows]
    delay = _handling_delay_s(scenario, records.incidents.priority[incident])
    return d["t_dispatch_s"][rows] - (records.incidents.t_call_s[incident] + delay)


def loaded_police(
    patrol_units: int | None, seeds: Sequence[int], overrides: Sequence[str] = ()
) -> list[np.ndarray]:
    """Return :func:`police_waits` of the default scenario with ``patrol_units`` (None: as is).

    One run per seed; rerun it after a dispatch change to see how queueing moves.
    """
    given = list(overrides)
    if patrol_units is not None:
        given.append(f"police.patrol_units={patrol_units}")
    scenario = load_scenario(None, given)
    world = build_world(scenario)
    return [police_waits(run(scenario, seed=seed, world=world).records, scenario)
            for seed in seeds]


def loaded_police_report(
    levels: Sequence[int | None] = LOADED_LEVELS, seeds: Sequence[int] = range(1, 11)
) -> str:
    """Return a Markdown table of police waits at each patrol level, over all seeds' runs."""
    lines = ["| patrol_units | police dispatches per run | waited | runs with a wait "
             "| mean wait (s) | p90 wait (s) | mean wait of those that waited (s) "
             "| longest (s) |",
             "|---|---:|---:|---:|---:|---:|---:|---:|"]
    for units in levels:
        runs = loaded_police(units, seeds)
        wait = np.concatenate(runs)
        waited = wait > WAITED_S
        lines.append(
            f"| {'default' if units is None else units} | {wait.shape[0] / len(runs):.0f} "
            f"| {waited.mean():.1%} | {sum(bool((r > WAITED_S).any()) for r in runs)} of "
            f"{len(runs)} | {wait.mean():.0f} | {np.percentile(wait, 90):.0f} | "
            f"{wait[waited].mean() if waited.any() else 0.0:.0f} | {wait.max():.0f} |")
    return "\n".join(lines)


def _handling_delay_s(scenario: Scenario, priority: np.ndarray) -> np.ndarray:
    """Return the police handling delay of each call priority, in seconds."""
    by_priority = getattr(scenario.police, "delay_by_priority_s", None)
    if by_priority is None:
        return np.full(priority.shape, scenario.police.dispatch_delay_s)
    return np.asarray(by_priority(), dtype=float)[priority]
