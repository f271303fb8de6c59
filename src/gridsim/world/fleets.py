"""Responder fleets as struct-of-arrays: row i of every array is responder i.

A fleet holds only what does not change during a run (base node, home zones, shift);
the engine keeps who is busy in arrays of its own, so one world serves many runs.
"""

from __future__ import annotations

import heapq
from dataclasses import dataclass, field, replace

import numpy as np

from gridsim.city.zones import ZoneMap
from gridsim.core.rng import stream
from gridsim.core.units import SECONDS_PER_HOUR
from gridsim.scenario.schema import Scenario, Shift


def hour_of_day(t_s: float) -> float:
    """Return the hour of day (0 <= h < 24) at run time ``t_s``."""
    return (t_s / SECONDS_PER_HOUR) % 24.0


def shift_covers(start_h: float, length_h: float, t_s: float) -> bool:
    """Return whether a shift starting at ``start_h`` for ``length_h`` covers ``t_s``."""
    return (hour_of_day(t_s) - start_h) % 24.0 < length_h


@dataclass(frozen=True, eq=False)
class Fleet:
    """One kind of responder: base node, home station/grid and daily shift per row."""

    kind: str
    base_node: np.ndarray  # (n,) int32
    station: np.ndarray  # (n,) int32 home station area
    grid: np.ndarray  # (n,) int32 home grid, -1 when the kind has none
    shift_start_h: np.ndarray  # (n,) float64, hour of day the shift starts
    shift_length_h: np.ndarray  # (n,) float64; 24 means always on duty

    @property
    def size(self) -> int:
        """Return the number of responders."""
        return int(self.base_node.shape[0])

    def common_shift(self) -> tuple[float, float] | None:
        """Return (start_h, length_h) when every responder works the same shift, else None."""
        if self.size == 0:
            return None
        start, length = float(self.shift_start_h[0]), float(self.shift_length_h[0])
        if np.all(self.shift_start_h == start) and np.all(self.shift_length_h == length):
            return start, length
        return None

    def on_duty(self, t_s: float, ids: np.ndarray | None = None) -> np.ndarray:
        """Return a bool mask: is each responder (or each of ``ids``) on shift at ``t_s``."""
        hour = hour_of_day(t_s)
        if ids is None:
            return ((hour - self.shift_start_h) % 24.0) < self.shift_length_h
        return ((hour - self.shift_start_h[ids]) % 24.0) < self.shift_length_h[ids]


@dataclass(frozen=True, eq=False)
class Fleets:
    """Every responder kind of a world, and the watch points."""

    patrol: Fleet
    community_police: Fleet
    mediators: Fleet
    grid_workers: Fleet
    volunteers: Fleet
    watch_point_node: np.ndarray  # (W,) int32, sorted
    # resident mediators of the stations' mediation rooms (gridsim.sim.dispatch.mediation)
    resident_mediators: Fleet = field(default_factory=lambda: empty_fleet("resident_mediator"))
    part_time_mediators: Fleet = field(
        default_factory=lambda: empty_fleet("part_time_mediator"))
    street_posts: Fleet = field(default_factory=lambda: empty_fleet("street_post"))
    traffic_police: Fleet = field(default_factory=lambda: empty_fleet("traffic_police"))
    # the watch points that came from watch_points.extra_sites (none: every point is the city's)
    watch_point_extra_node: np.ndarray = field(
        default_factory=lambda: np.zeros(0, dtype=np.int32))

    def watch_point_added(self) -> np.ndarray:
        """Return a bool per watch point: was it added from ``watch_points.extra_sites``."""
        return np.isin(self.watch_point_node, self.watch_point_extra_node)

    def with_watch_points(self, nodes: np.ndarray) -> Fleets:
        """Return these fleets with watch points added at ``nodes`` (one per node at most)."""
        new = np.setdiff1d(np.asarray(nodes, dtype=np.int32), self.watch_point_node)
        return replace(self, watch_point_node=np.union1d(self.watch_point_node, new
                                                         ).astype(np.int32),
                       watch_point_extra_node=np.union1d(self.watch_point_extra_node, new
                                                         ).astype(np.int32))

    def station_fleets(self) -> tuple[Fleet, ...]:
        """Return the fleets dispatched from stations (utilisation is reported for them).

        Street posts and traffic police only when the scenario has them.
        """
        optional = tuple(f for f in (self.street_posts, self.traffic_police) if f.size)
        return (self.patrol, *optional, self.community_police, self.mediators)


def empty_fleet(kind: str) -> Fleet:
    """Return a fleet of ``kind`` with no responders."""
    return Fleet(kind=kind, base_node=np.zeros(0, dtype=np.int32),
                 station=np.zeros(0, dtype=np.int32), grid=np.zeros(0, dtype=np.int32),
                 shift_start_h=np.zeros(0), shift_length_h=np.zeros(0))


def volunteer_seat_homes(scenario: Scenario, node_weight: np.ndarray) -> np.ndarray:
    """Return the home node of each volunteer seat, in seat (draw) order, by population.

    Seat k's home depends only on k; volunteer ids number the seats in home-node order.
    """
    return stream(scenario.city.seed, "fleets.volunteers").choice(
        node_weight.shape[0], size=scenario.volunteers.count, p=node_weight / node_weight.sum()
    )


def build_fleets(scenario: Scenario, zones: ZoneMap, node_weight: np.ndarray,
                 watch_point_node: np.ndarray | None = None) -> Fleets:
    """Return the fleets placed on a world's zones (``node_weight``: people per node).

    Watch points are ``watch_point_node`` when given (a layer file), else placed by weight.
    """
    seed = scenario.city.seed
    station_weight = np.bincount(
        zones.node_station, weights=node_weight, minlength=zones.station_count
    )
    police = scenario.police
    room = scenario.mediation_room
    volunteer_nodes = np.sort(volunteer_seat_homes(scenario, node_weight)).astype(np.int32)
    if watch_point_node is None:
        # at most one per node where people live (a population layer may leave most empty)
        watch_count = min(scenario.watch_points.count, int((node_weight > 0).sum()))
        watch_point_node = stream(seed, "fleets.watch_points").choice(
            node_weight.shape[0], size=watch_count, replace=False,
            p=node_weight / node_weight.sum())
    return Fleets(
        patrol=_station_fleet(
            "patrol", police.patrol_units, station_weight, zones, police.patrol_shifts
        ),
        community_police=_station_fleet(
            "community_police", police.community_police, station_weight, zones,
            [police.community_shift],
        ),
        mediators=_station_fleet(
            "mediator", scenario.mediators.count, station_weight, zones, scenario.mediators.shifts
        ),
        grid_workers=_grid_fleet(scenario, zones),
        volunteers=Fleet(
            kind="volunteer",
            base_node=volunteer_nodes,
            station=zones.node_station[volunteer_nodes],
            grid=zones.node_grid[volunteer_nodes],
            shift_start_h=np.zeros(volunteer_nodes.shape[0]),
            shift_length_h=np.full(volunteer_nodes.shape[0], 24.0),
        ),
        watch_point_node=np.sort(watch_point_node).astype(np.int32),
        resident_mediators=_station_fleet(
            "resident_mediator", room.full_time, station_weight, zones, room.full_time_shifts
        ),
        part_time_mediators=_station_fleet(
            "part_time_mediator", room.part_time, station_weight, zones, room.part_time_shifts
        ),
        street_posts=_street_post_fleet(police.street_post_units, zones, police.patrol_shifts),
        traffic_police=_station_fleet(
            "traffic_police", scenario.traffic_police.units, station_weight, zones,
            scenario.traffic_police.shifts,
        ),
    )


def _station_fleet(
    kind: str, count: int, station_weight: np.ndarray, zones: ZoneMap, shifts: list[Shift]
) -> Fleet:
    """Return ``count`` units based at stations in proportion to ``station_weight``.

    Unit k's station and shift depend only on k, never on ``count``: adding a unit adds
    one row and changes no other (so common random numbers compare like with like).
    """
    station = station_seats(station_weight, count)
    shift = shift_seats(station, zones.station_count, [s.share for s in shifts])
    return Fleet(
        kind=kind,
        base_node=zones.station_node[station],
        station=station,
        grid=np.full(count, -1, dtype=np.int32),
        shift_start_h=np.array([s.start_h for s in shifts])[shift],
        shift_length_h=np.array([s.length_h for s in shifts])[shift],
    )


def _street_post_fleet(per_post: int, zones: ZoneMap, shifts: list[Shift]) -> Fleet:
    """Return ``per_post`` units at each street station, dealt round the posts in turn.

    Unit k sits at post k mod posts, so raising ``per_post`` only appends units.
    """
    posts = np.flatnonzero(zones.station_is_street).astype(np.int32)
    count = per_post * posts.shape[0]
    station = posts[np.arange(count) % posts.shape[0]] if count else posts[:0]
    shift = shift_seats(station, zones.station_count, [s.share for s in shifts])
    return Fleet(
        kind="street_post",
        base_node=zones.station_node[station],
        station=station,
        grid=np.full(count, -1, dtype=np.int32),
        shift_start_h=np.array([s.start_h for s in shifts])[shift],
        shift_length_h=np.array([s.length_h for s in shifts])[shift],
    )


def station_seats(weight: np.ndarray, count: int) -> np.ndarray:
    """Return the station of units 0..count-1, a prefix of one fixed sequence of seats.

    The first seats go one to each station, heaviest first (so every station has a unit
    when there are enough to go round); the rest follow Sainte-Laguë's highest averages,
    weight / (2 * seats + 1), ties to the lower station id.
    """
    stations = weight.shape[0]
    heaviest = np.argsort(-weight, kind="stable")
    first = heaviest[: min(count, stations)].astype(np.int32)
    if count <= stations:
        return first
    seats = np.ones(stations, dtype=np.int64)
    queue = [(-float(w) / 3.0, s) for s, w in enumerate(weight.tolist())]
    heapq.heapify(queue)
    rest = np.empty(count - stations, dtype=np.int32)
    for k in range(rest.shape[0]):
        _, station = heapq.heappop(queue)
        rest[k] = station
        seats[station] += 1
        heapq.heappush(queue, (-float(weight[station]) / (2 * seats[station] + 1), station))
    return np.concatenate([first, rest])


def shift_seats(unit_station: np.ndarray, station_count: int, shares: list[float]
                ) -> np.ndarray:
    """Return each unit's shift: the one its station has least of (per share), then the city.

    Unit k's shift depends only on units 0..k-1, so it too is stable under count changes.
    """
    share = np.asarray(shares, dtype=float)
    at_station = np.zeros((station_count, share.shape[0]))
    in_city = np.zeros(share.shape[0])
    shift = np.empty(unit_station.shape[0], dtype=np.int64)
    for k, station in enumerate(unit_station.tolist()):
        station_need = at_station[station] / share
        tied = np.flatnonzero(station_need == station_need.min())
        choice = int(tied[np.argmin(in_city[tied] / share[tied])])
        shift[k] = choice
        at_station[station, choice] += 1
        in_city[choice] += 1
    return shift


def _grid_fleet(scenario: Scenario, zones: ZoneMap) -> Fleet:
    """Return grid workers at grid centres and micro-grid workers at micro-grid centres."""
    workers = scenario.grid_workers
    grid_ids = np.concatenate([
        np.repeat(np.arange(zones.grid_node.shape[0], dtype=np.int32), workers.per_grid),
        np.repeat(zones.micro_grid_grid, workers.per_micro_grid),
    ])
    nodes = np.concatenate([
        np.repeat(zones.grid_node, workers.per_grid),
        np.repeat(zones.micro_grid_node, workers.per_micro_grid),
    ]).astype(np.int32)
    order = np.argsort(grid_ids, kind="stable")  # workers of one grid are contiguous
    n = nodes.shape[0]
    return Fleet(
        kind="grid_worker",
        base_node=nodes[order],
        station=zones.grid_station[grid_ids[order]],
        grid=grid_ids[order],
        shift_start_h=np.full(n, workers.shift.start_h),
        shift_length_h=np.full(n, workers.shift.length_h),
    )
