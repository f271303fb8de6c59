"""School runs ("one school, one policy"): where schools are, their windows and effects.

A scenario's ``[schools]`` gives school-run windows. In them, car trips to a node within
``congestion_radius_m`` of a school take ``congestion_factor`` times longer (a column per
district character added to the congestion table, so the engine's lookup stays one
index), and the school ``incident_type`` happens at the schools at a rate per school and
window that depends on whether posts are staffed. The posts themselves, which hold
responders in the windows, are ``gridsim.sim.dispatch.school_posts``; the response inside and
outside the windows is summarised here.

Every day is a school day (an approximation: the windows apply at weekends too).
"""

from __future__ import annotations

from typing import Any

import numpy as np
from scipy.spatial import cKDTree

from gridsim.core.rng import stream
from gridsim.core.stats import describe
from gridsim.core.units import SECONDS_PER_DAY, SECONDS_PER_HOUR
from gridsim.demand.incidents import Incidents
from gridsim.scenario.schema import Schools, SchoolWindow
from gridsim.world.build import World


def school_nodes(world: World) -> np.ndarray:
    """Return the schools' road nodes: the city's schools layer, else ``count`` by population."""
    spec = world.scenario.schools
    assert spec is not None
    if world.school_node.shape[0]:
        return np.asarray(world.school_node, dtype=np.int64)
    weight = world.node_population
    count = min(spec.count, int((weight > 0).sum()))
    chosen = stream(world.scenario.city.seed, "schools.nodes").choice(
        weight.shape[0], size=count, replace=False, p=weight / weight.sum())
    return np.sort(chosen).astype(np.int64)


def near_schools(world: World, schools: np.ndarray, radius_m: float) -> np.ndarray:
    """Return (N,) bool: the node lies within ``radius_m`` (straight line) of a school."""
    near = np.zeros(world.network.node_count, dtype=bool)
    if schools.shape[0]:
        xy = world.network.xy_m
        distance_m = cKDTree(xy[schools]).query(xy, distance_upper_bound=radius_m)[0]
        near = np.isfinite(distance_m)
    return near


def window_share_by_hour(windows: list[SchoolWindow]) -> np.ndarray:
    """Return (24,) the share of each hour of the day that lies inside a window."""
    hours = np.arange(24, dtype=float)
    share = np.zeros(24)
    for w in windows:
        share += np.clip(np.minimum(hours + 1.0, w.start_h + w.length_h)
                         - np.maximum(hours, w.start_h), 0.0, 1.0)
    return share


def with_school_congestion(spec: Schools, near: np.ndarray, node_character: np.ndarray,
                           congestion: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Return the node character and (24, 2C) congestion table with school columns added.

    A node near a school gets character c + C, whose factor is the character's times
    ``1 + (congestion_factor - 1) * share of the hour in a window``: the hour's mean.
    """
    columns = congestion.shape[1]
    boost = 1.0 + (spec.congestion_factor - 1.0) * window_share_by_hour(spec.windows)
    table = np.concatenate([congestion, congestion * boost[:, None]], axis=1)
    character = node_character.astype(np.int8) + np.where(near, columns, 0).astype(np.int8)
    return character, table


def in_window(t_s: np.ndarray, windows: list[SchoolWindow]) -> np.ndarray:
    """Return bool per time: it falls inside a school-run window (any day)."""
    hour = (np.asarray(t_s, dtype=float) / SECONDS_PER_HOUR) % 24.0
    inside = np.zeros(hour.shape, dtype=bool)
    for w in windows:
        inside |= (hour >= w.start_h) & (hour < w.start_h + w.length_h)
    return inside


def add_school_incidents(world: World, incidents: Incidents, seed: int) -> Incidents:
    """Return ``incidents`` with the school incident type drawn at schools in the windows.

    Each school and window of each day has a Poisson number of them, at the staffed or
    unstaffed rate (``post_staff = "none"``: unstaffed), uniform within the window, from
    the stream ``schools.incidents`` only.
    """
    scenario = world.scenario
    spec = scenario.schools
    assert spec is not None
    if spec.incident_type is None:
        return incidents
    rate = (spec.incidents_per_window_unstaffed if spec.post_staff == "none"
            else spec.incidents_per_window_staffed)
    schools = school_nodes(world)
    rng = stream(seed, "schools.incidents")
    starts_s = np.array([day * SECONDS_PER_DAY + w.start_h * SECONDS_PER_HOUR
                         for day in range(int(np.ceil(scenario.duration_days)))
                         for w in spec.windows])
    lengths_s = np.array([w.length_h * SECONDS_PER_HOUR for w in spec.windows]
                         * int(np.ceil(scenario.duration_days)))
    counts = rng.poisson(rate, (starts_s.shape[0], schools.shape[0]))
    window, school = np.nonzero(counts)
    repeat = counts[window, school]
    t = np.repeat(starts_s[window], repeat) + rng.random(int(repeat.sum())) * np.repeat(
        lengths_s[window], repeat)
    node = np.repeat(schools[school], repeat)
    kind = scenario.incidents[spec.incident_type]
    on_scene = kind.on_scene_s.sample(stream(seed, "schools.incidents.on_scene"), t.shape[0])
    keep = t < scenario.duration_s
    type_index = incidents.type_names.index(spec.incident_type)
    return merge_incidents(incidents, t[keep], type_index, node[keep], kind.priority,
                           on_scene[keep])


def merge_incidents(base: Incidents, t_call_s: np.ndarray, type_index: int, node: np.ndarray,
                    priority: int, on_scene_s: np.ndarray) -> Incidents:
    """Return ``base`` with extra incidents of one type added, all sorted by call time."""
    n = t_call_s.shape[0]
    t_all = np.concatenate([base.t_call_s, t_call_s])
    type_all = np.concatenate([base.type_id, np.full(n, type_index, dtype=base.type_id.dtype)])
    order = np.lexsort((type_all, t_all))

    def joined(old: np.ndarray | None, new: np.ndarray) -> np.ndarray | None:
        return None if old is None else np.concatenate([old, new])[order]

    harm = joined(base.harm_threshold_s, np.full(n, np.nan))
    return Incidents(
        type_names=base.type_names,
        t_call_s=t_all[order],
        type_id=type_all[order],
        node=np.concatenate([base.node, node.astype(base.node.dtype)])[order],
        priority=np.concatenate([base.priority, np.full(n, priority, dtype=base.priority.dtype)]
                                )[order],
        on_scene_s=np.concatenate([base.on_scene_s, on_scene_s])[order],
        harm_threshold_s=harm,
        t_occur_s=joined(base.t_occur_s, t_call_s),
        alarmed=joined(base.alarmed, np.zeros(n, dtype=bool)),
    )


def school_summary(world: World, incidents: Incidents, outcomes: dict[str, np.ndarray],
                   posts: dict[str, Any], warmup_s: float) -> dict[str, Any]:
    """Return response inside and outside the windows, near schools and elsewhere, and posts."""
    spec = world.scenario.schools
    assert spec is not None
    schools = school_nodes(world)
    counted = incidents.t_call_s >= warmup_s
    inside = in_window(incidents.t_call_s, spec.windows) & counted
    outside = ~in_window(incidents.t_call_s, spec.windows) & counted
    near = near_schools(world, schools, spec.congestion_radius_m)[incidents.node]
    school_type = (np.zeros(incidents.count, dtype=bool) if spec.incident_type is None else
                   incidents.type_id == incidents.type_names.index(spec.incident_type))

    def group(mask: np.ndarray) -> dict[str, Any]:
        return {"incidents": int(mask.sum()),
                "first_arrival_s": describe(outcomes["first_arrival_s"][mask]),
                "police_arrival_s": describe(outcomes["police_arrival_s"][mask])}

    return {
        "schools": int(schools.shape[0]),
        "source": "schools layer" if world.school_node.shape[0] else "synthetic (by population)",
        "windows": [[w.start_h, w.start_h + w.length_h] for w in spec.windows],
        "post_staff": spec.post_staff,
        "staff_per_post": spec.staff_per_post,
        "posts": posts,
        "near_school_node_share": float(near_schools(world, schools, spec.congestion_radius_m
                                                     ).mean()),
        "inside_windows": group(inside),
        "outside_windows": group(outside),
        "inside_windows_not_school_incidents": group(inside & ~school_type),
        "inside_windows_near_schools": group(inside & near),
        "inside_windows_elsewhere": group(inside & ~near),
        "school_incidents": group(school_type & counted),
    }
