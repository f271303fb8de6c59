"""The simpy glue: calls arrive, layers respond, shifts change. No policy logic here.

One long-lived process walks the (sorted) incidents; another applies the shift
boundaries. Only busy station units have live events; local responders have none.
Equal-time events run in the order they were scheduled (simpy's sequence counter), so a
run is deterministic.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Generator
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import simpy

from gridsim.dispatch import Dispatcher
from gridsim.dispatch.platform import platform_pushes
from gridsim.incidents import Incidents
from gridsim.log import RESPONDER_KINDS, DispatchLog
from gridsim.world import World

SECONDS_PER_HOUR = 3600.0
SECONDS_PER_DAY = 86_400.0
ProgressCallback = Callable[[float], None]  # told the fraction of the run done


@dataclass(frozen=True, eq=False)
class SimulationRecords:
    """What a run recorded: the dispatch rows and the exposure figures metrics need."""

    incidents: Incidents
    dispatches: dict[str, np.ndarray]
    duration_s: float
    duty_unit_s: dict[str, float]  # on-duty unit-seconds of each station-based kind
    volunteer_alerts: np.ndarray  # (volunteers,) alerts each volunteer received
    # (volunteers,) bool: still in the pool at the end of the run (churn, recruits)
    volunteer_active: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=bool))
    # alerting counts over the run (gridsim.dispatch.volunteers.TALLY_KEYS)
    volunteer_tally: dict[str, int] = field(default_factory=dict)
    police_saved_unit_s: float = 0.0  # police time saved by stand-downs
    # preemptions, calls queued again, street posts' ring cover (Dispatcher.police_counts)
    police_ops: dict[str, Any] = field(default_factory=dict)
    activations: dict[str, int] = field(default_factory=dict)  # local layers pushed, by layer
    # (incidents,) int8 what the nearest watch point did (gridsim.dispatch.watch_points
    # NOT_ASKED ... HELPED) and bool whether a person in need took refuge there
    watch_point_outcome: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int8))
    sheltered: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=bool))
    # (incidents,) int8 mediation path (gridsim.dispatch.mediation PATH_*), the room cases
    # (MediationRooms.cases columns) and the rooms' integrals over the counted window
    # (MediationRooms.window, with the escalated case's police time escalation_police_s)
    mediation_path: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int8))
    mediation_cases: dict[str, np.ndarray] = field(default_factory=dict)
    mediation_room: dict[str, float] = field(default_factory=dict)
    # volunteer ids of each kind (volunteers.kinds; empty without kinds)
    volunteer_kinds: dict[str, np.ndarray] = field(default_factory=dict)
    # (incidents,) columns of the platform's task pushes (gridsim.dispatch.platform.COLUMNS)
    # and the task_types pushed; empty without a platform
    platform: dict[str, np.ndarray] = field(default_factory=dict)


def simulate(
    world: World, incidents: Incidents, seed: int, progress: ProgressCallback | None = None
) -> SimulationRecords:
    """Return the records of one run of ``incidents`` in ``world``, randomness from ``seed``."""
    env = simpy.Environment()
    log = DispatchLog()
    dispatcher = Dispatcher(world, incidents, env, log, seed)
    duration_s = world.scenario.duration_s
    env.process(_roster(env, dispatcher, duration_s))
    env.process(_calls(env, incidents, dispatcher, duration_s, progress))
    env.run()
    return SimulationRecords(
        incidents=incidents,
        dispatches=log.columns(),
        duration_s=duration_s,
        duty_unit_s={
            RESPONDER_KINDS[code]: unit_s
            for layer in dispatcher.rostered
            for code, unit_s in layer.duty_unit_s().items()
        },
        volunteer_alerts=dispatcher.volunteers.alerts_per_volunteer(),
        volunteer_active=dispatcher.volunteers.active_at(duration_s),
        volunteer_tally=dispatcher.volunteers.tally(),
        police_saved_unit_s=dispatcher.police.saved_unit_s + dispatcher.traffic_police.saved_unit_s,
        police_ops=dispatcher.police_counts(),
        activations={name: layer.activations for name, layer in dispatcher.activated.items()},
        watch_point_outcome=dispatcher.watch_points.outcome,
        sheltered=dispatcher.watch_points.sheltered,
        mediation_path=dispatcher.street_cases.path,
        mediation_cases=dispatcher.rooms.cases(),
        mediation_room={
            **dispatcher.rooms.window(),
            "escalation_police_s": world.scenario.mediation_room.escalation_police_s,
        },
        volunteer_kinds={
            name: np.flatnonzero(world.volunteer_positions.kind == code)
            for code, name in enumerate(world.volunteer_positions.kind_names)
        },
        platform=platform_pushes(world, incidents, seed),
    )


def _calls(
    env: simpy.Environment, incidents: Incidents, dispatcher: Dispatcher,
    duration_s: float, progress: ProgressCallback | None,
) -> Generator[simpy.Event, None, None]:
    """Hand each call, at its time, to the layers of its type."""
    layers_by_type = dispatcher.layers_by_type
    next_report_s = SECONDS_PER_HOUR if progress is not None else np.inf
    for i, (now_s, kind) in enumerate(
        zip(np.ascontiguousarray(incidents.t_call_s, dtype=np.float64).data,
            np.ascontiguousarray(incidents.type_id, dtype=np.int64).data, strict=True)
    ):
        if now_s > env.now:
            yield env.timeout(now_s - env.now)
        # layers get the exact call time: env.now may differ from it in the last bit
        for layer in layers_by_type[kind]:
            layer.respond(i, now_s)
        if now_s >= next_report_s and progress is not None:
            progress(min(1.0, now_s / duration_s))
            next_report_s += SECONDS_PER_HOUR
    if progress is not None:
        progress(1.0)


def _roster(
    env: simpy.Environment, dispatcher: Dispatcher, duration_s: float
) -> Generator[simpy.Event, None, None]:
    """Apply every shift boundary of the run; the one at the end closes the duty tally."""
    boundaries_h = {h for layer in dispatcher.rostered for h in layer.shift_boundaries_h()}
    for t in roster_times_s(boundaries_h, duration_s):
        if t > env.now:
            yield env.timeout(t - env.now)
        for layer in dispatcher.rostered:
            layer.on_roster(t)


def roster_times_s(boundaries_h: set[float], duration_s: float) -> list[float]:
    """Return the sorted run times of the shift boundaries, with 0 and the end included."""
    times = {0.0, duration_s}
    for day in range(math.ceil(duration_s / SECONDS_PER_DAY) + 1):
        for hour in boundaries_h:
            t = day * SECONDS_PER_DAY + hour * SECONDS_PER_HOUR
            if t < duration_s:
                times.add(t)
    return sorted(times)
