"""Task pushes to the social mobilisation platform: a large pool, low engagement, no dispatch.

Besides the 73,000 organised volunteers, 600,000 people are registered on Nanjing's
mobilisation platform (``[platform]``). They are not alerted for emergencies: incidents
of the types in ``platform.tasks`` (sightings and searches for a missing person, help
requests for a person in need) are pushed as tasks to the members within the task's road
radius, ``delay_s`` after the call.

Members live as residents do, so the number within the radius of a call at node v is
binomial: ``count`` members, each there with the share of the city's people living
within the radius by road (``Catchments.platform_pop``). Each member reached takes the
task up with the task's ``engagement`` times ``engagement_by_hour`` of the push hour
(binomial again). Nobody is simulated one by one: a push costs two draws, plus a
distance and a response time per responder for the first helper: a responder arrives
``time_to_respond_s`` after the push plus the walk at ``speed_mps`` from road distance
``radius_m * sqrt(u)`` (members spread evenly over the disc: the one approximation).
Platform helpers are not dispatch rows and never count as a first arrival.

Draws come from the streams ``platform.members``, ``.responders``, ``.where`` and
``.respond_time`` of the run seed, in incident order over the pushed incidents.
"""

from __future__ import annotations

import numpy as np

from gridsim.core.rng import stream
from gridsim.core.units import SECONDS_PER_HOUR
from gridsim.demand.incidents import Incidents
from gridsim.world.build import World

COLUMNS = ("pushed", "members_reached", "responders", "first_helper_s")  # per incident
CHUNK = 50_000  # pushed incidents whose responders are drawn at once (bounds memory)


def platform_pushes(world: World, incidents: Incidents, seed: int) -> dict[str, np.ndarray]:
    """Return per-incident push outcomes (``COLUMNS``; empty without a platform).

    ``first_helper_s`` is seconds after the call until the first responder reaches the
    incident's node (nan when nobody takes the task up, or it is not pushed); beside the
    columns, ``task_types`` holds the type ids that get a push.
    """
    cfg = world.scenario.platform
    radii_m, pop_within = world.catchments.platform_radius_m, world.catchments.platform_pop
    if cfg is None or radii_m.shape[0] == 0:
        return {}
    n = incidents.count
    tasks = [cfg.tasks.get(name) for name in incidents.type_names]
    radius_by_type = np.array([t.radius_m if t else np.nan for t in tasks])
    delay_by_type = np.array([t.delay_s if t else 0.0 for t in tasks])
    engagement_by_type = np.array([t.engagement if t else 0.0 for t in tasks])
    pushed = np.isfinite(radius_by_type)[incidents.type_id]
    out = {
        "task_types": np.flatnonzero(np.isfinite(radius_by_type)),
        "pushed": pushed,
        "members_reached": np.zeros(n, dtype=np.int64),
        "responders": np.zeros(n, dtype=np.int64),
        "first_helper_s": np.full(n, np.nan),
    }
    idx = np.flatnonzero(pushed)
    if idx.shape[0] == 0:
        return out
    type_id = incidents.type_id[idx]
    radius = radius_by_type[type_id]
    people = pop_within[np.searchsorted(radii_m, radius), incidents.node[idx]]
    share = np.clip(people / float(world.node_population.sum()), 0.0, 1.0)
    members = stream(seed, "platform.members").binomial(cfg.count, share)
    delay_s = delay_by_type[type_id]
    hour = ((incidents.t_call_s[idx] + delay_s) // SECONDS_PER_HOUR).astype(np.int64) % 24
    engagement = engagement_by_type[type_id] * np.asarray(cfg.engagement_by_hour)[hour]
    responders = stream(seed, "platform.responders").binomial(members, engagement)
    out["members_reached"][idx] = members
    out["responders"][idx] = responders
    where_rng = stream(seed, "platform.where")
    time_rng = stream(seed, "platform.respond_time")
    first = np.full(idx.shape[0], np.inf)
    for lo in range(0, idx.shape[0], CHUNK):
        hi = min(lo + CHUNK, idx.shape[0])
        owner = np.repeat(np.arange(lo, hi), responders[lo:hi])
        if owner.shape[0] == 0:
            continue
        road_m = radius[owner] * np.sqrt(where_rng.random(owner.shape[0]))
        arrive_s = (delay_s[owner] + cfg.time_to_respond_s.sample(time_rng, owner.shape[0])
                    + road_m / cfg.speed_mps)
        np.minimum.at(first, owner, arrive_s)
    out["first_helper_s"][idx] = np.where(np.isfinite(first), first, np.nan)
    return out
