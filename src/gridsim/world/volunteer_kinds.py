"""Where each organised volunteer is, hour by hour: a few positions per volunteer.

The 73,000 safety volunteers are door guards and property security, delivery riders and
community workers (``volunteers.kinds``). A volunteer of a kind holds one position (a
node and the hours of the day it is there) per place it spends time:

- ``home``: one position, home, all day;
- ``post``: the post in ``work_hours``, home in the other hours;
- ``roaming``: in ``work_hours``, one node per ``roam_block_h`` hours (the last block may
  be shorter), home in the other hours.

Posts and roaming nodes are drawn by population within the home's police-station area
(``area = "station"``) or district. A volunteer's positions never overlap in time and
cover the whole day, so at any hour a volunteer is at exactly one of them.

For alerting, the hours of the day fall into classes in which nobody moves (the default
has ten: the work-hour boundaries and the riders' blocks); per class, every volunteer's
node, and the volunteers sorted by node. A call walks the nodes near it, nearest first
(the node reach), and finds the volunteers there in its hour's class: memory and work do
not grow with the number of positions, and positions not held at the call's hour are
never looked at.

Everything is drawn once per world from the city seed, per seat (the order homes are
drawn in, ``gridsim.world.fleets.volunteer_seat_homes``): seat k's kind and places depend only
on k, so adding volunteers never changes another's. Streams: ``volunteers.kinds`` (the
kind) and ``volunteers.kinds.NAME.nodes`` (its places). Without kinds, each volunteer has
one position, its home, all day: the catchment is the one of homes.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from gridsim.core.rng import stream
from gridsim.core.units import HOURS_PER_DAY
from gridsim.scenario.schema import Scenario, VolunteerKind, Volunteers
from gridsim.world.fleets import volunteer_seat_homes

ALL_HOURS = (1 << HOURS_PER_DAY) - 1  # a 24-bit mask: bit h is hour h of the day


@dataclass(frozen=True, eq=False)
class VolunteerPositions:
    """Each volunteer's kind, and every position (node, volunteer, hours) sorted by node."""

    kind: np.ndarray  # (V,) int16 index into kind_names; 0 for all without kinds
    kind_names: tuple[str, ...]  # () without kinds
    node: np.ndarray  # (P,) int32, sorted
    volunteer: np.ndarray  # (P,) int32 the volunteer holding position p
    hours: np.ndarray  # (P,) int32 mask of the hours of day position p is held
    # with kinds: the class of each hour of the day (24,); per class c the volunteers
    # sorted by their node then id (C, V), and where each node's run starts (C, N + 1)
    class_of_hour: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int8))
    class_volunteer: np.ndarray = field(default_factory=lambda: np.zeros((0, 0), np.int32))
    class_node_start: np.ndarray = field(default_factory=lambda: np.zeros((0, 0), np.int32))

    @property
    def count(self) -> int:
        """Return the number of positions."""
        return int(self.node.shape[0])

    def at(self, volunteer: int, hour: int) -> int:
        """Return the node where ``volunteer`` is in ``hour`` of the day (-1: none)."""
        held = np.flatnonzero((self.volunteer == volunteer) & ((self.hours >> hour) & 1 == 1))
        return int(self.node[held[0]]) if held.shape[0] else -1


def home_positions(home_node: np.ndarray) -> VolunteerPositions:
    """Return one position per volunteer: its home (``home_node``, sorted), all day."""
    n = home_node.shape[0]
    return VolunteerPositions(
        kind=np.zeros(n, dtype=np.int16), kind_names=(),
        node=np.asarray(home_node, dtype=np.int32), volunteer=np.arange(n, dtype=np.int32),
        hours=np.full(n, ALL_HOURS, dtype=np.int32),
    )


def place_volunteers(
    scenario: Scenario, home_node: np.ndarray, node_station: np.ndarray,
    node_district: np.ndarray, node_weight: np.ndarray,
) -> VolunteerPositions:
    """Return the positions of every volunteer; ``home_node`` are the fleet's (sorted) homes.

    ``node_weight``: people per node, as the fleets were placed with.
    """
    config, city_seed = scenario.volunteers, scenario.city.seed
    if not config.kinds:
        return home_positions(home_node)
    seat_home = volunteer_seat_homes(scenario, node_weight)
    if not np.array_equal(np.sort(seat_home), home_node):
        raise ValueError("place_volunteers: home_node are not the fleet's volunteer homes")
    count = int(home_node.shape[0])
    seat_of = np.argsort(seat_home, kind="stable")  # volunteer id -> seat
    kinds = list(config.kinds.values())
    share = np.cumsum([k.share for k in kinds])
    u = stream(city_seed, "volunteers.kinds").random(count)[seat_of]
    kind = np.minimum(np.searchsorted(share / share[-1], u, side="right"),
                      len(kinds) - 1).astype(np.int16)
    nodes, owners, masks = [], [], []
    for index, (name, spec) in enumerate(config.kinds.items()):
        ids = np.flatnonzero(kind == index).astype(np.int32)
        home = home_node[ids]
        blocks = work_blocks(spec)
        if blocks:
            group = node_station if spec.area == "station" else node_district
            draws = stream(city_seed, f"volunteers.kinds.{name}.nodes").random(
                (count, len(blocks)))[seat_of[ids]]
            for b, mask in enumerate(blocks):
                nodes.append(draw_in_group(group, node_weight, group[home], draws[:, b], home))
                owners.append(ids)
                masks.append(np.full(ids.shape[0], mask, dtype=np.int32))
        home_mask = ALL_HOURS & ~spec.work_mask()
        if home_mask:
            nodes.append(home.astype(np.int32))
            owners.append(ids)
            masks.append(np.full(ids.shape[0], home_mask, dtype=np.int32))
    node = np.concatenate(nodes).astype(np.int32)
    volunteer = np.concatenate(owners).astype(np.int32)
    hours = np.concatenate(masks).astype(np.int32)
    order = np.lexsort((volunteer, node))  # stable: a volunteer's blocks stay in order
    class_of_hour, class_volunteer, class_node_start = hour_classes(
        node, volunteer, hours, count, int(node_station.shape[0]))
    return VolunteerPositions(kind=kind, kind_names=tuple(config.kinds), node=node[order],
                              volunteer=volunteer[order], hours=hours[order],
                              class_of_hour=class_of_hour, class_volunteer=class_volunteer,
                              class_node_start=class_node_start)


def hour_classes(node: np.ndarray, volunteer: np.ndarray, hours: np.ndarray, count: int,
                 node_count: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Return the class of each hour, and per class the volunteers by node and node starts.

    Hours in which every volunteer holds the same position share a class.
    """
    where = np.full((HOURS_PER_DAY, count), -1, dtype=np.int32)
    for h in range(HOURS_PER_DAY):
        held = (hours >> h) & 1 == 1
        where[h, volunteer[held]] = node[held]
    if (where < 0).any():
        raise ValueError("hour_classes: a volunteer holds no position in some hour")
    classes: dict[bytes, int] = {}
    class_of_hour = np.array([classes.setdefault(where[h].tobytes(), len(classes))
                              for h in range(HOURS_PER_DAY)], dtype=np.int8)
    first_hour = [int(np.flatnonzero(class_of_hour == c)[0]) for c in range(len(classes))]
    by_node = [np.argsort(where[h], kind="stable").astype(np.int32) for h in first_hour]
    starts = [np.searchsorted(where[h][order], np.arange(node_count + 1)).astype(np.int32)
              for h, order in zip(first_hour, by_node, strict=True)]
    return class_of_hour, np.stack(by_node), np.stack(starts)


def work_blocks(spec: VolunteerKind) -> list[int]:
    """Return the hour masks of a kind's working positions (none for ``home``)."""
    if spec.where == "home" or spec.work_hours is None:
        return []
    start = spec.work_hours[0]
    hours = [(start + k) % HOURS_PER_DAY for k in range(spec.work_mask().bit_count())]
    step = len(hours) if spec.where == "post" else spec.roam_block_h
    return [sum(1 << h for h in hours[b:b + step]) for b in range(0, len(hours), step)]


def draw_in_group(group_of_node: np.ndarray, node_weight: np.ndarray, group: np.ndarray,
                  u: np.ndarray, fallback: np.ndarray) -> np.ndarray:
    """Return, for each draw, a node of its ``group`` chosen by weight with uniform ``u``.

    A group without weight gives the ``fallback`` node.
    """
    order = np.argsort(group_of_node, kind="stable")
    groups = int(group_of_node.max()) + 1 if group_of_node.shape[0] else 0
    bounds = np.searchsorted(group_of_node[order], np.arange(groups + 1))
    cum = np.concatenate([[0.0], np.cumsum(node_weight[order], dtype=float)])
    low, high = bounds[group], bounds[group + 1]
    before, total = cum[low], cum[high] - cum[low]
    pick = np.searchsorted(cum, before + u * total, side="right") - 1
    pick = np.clip(pick, low, np.maximum(high - 1, low))
    return np.where(total > 0.0, order[np.minimum(pick, order.shape[0] - 1)],
                    fallback).astype(np.int32)


def kind_availability(config: Volunteers) -> list[list[float]]:
    """Return each kind's availability by hour (the pool's where a kind gives none)."""
    return [list(k.availability_by_hour or config.availability_by_hour)
            for k in config.kinds.values()]
