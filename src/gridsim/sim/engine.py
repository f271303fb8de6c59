"""The simpy glue: calls arrive, layers respond, shifts change. No policy logic here.

One long-lived process walks the (sorted) incidents; another applies the shift
boundaries. Only busy station units have live events; local responders have none.
Equal-time events run in the order they were scheduled (simpy's sequence counter), so a
run is deterministic.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Generator

import numpy as np
import simpy

from gridsim.core.units import SECONDS_PER_DAY, SECONDS_PER_HOUR
from gridsim.demand.incidents import Incidents
from gridsim.sim.dispatch.dispatcher import Dispatcher
from gridsim.sim.dispatch.platform import platform_pushes
from gridsim.sim.records import RESPONDER_KINDS, DispatchLog, SimulationRecords
from gridsim.world.build import World

ProgressCallback = Callable[[float], None]  # told the fraction of the run done


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
        unit_rows={} if dispatcher.units is None else dispatcher.units.rows(),
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
