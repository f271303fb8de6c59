"""Nested zones: district > police-station area > grid > micro-grid.

Each level splits its parent's nodes into compact parts (a few Lloyd iterations from
random seed nodes); the centre of each part is the member node nearest its centroid.
Stations are shared out among districts by population; grids by population, then
among a district's stations by node count.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.spatial import cKDTree

from gridsim.city.synthetic import largest_remainder
from gridsim.scenario.schema import City, Zones

LLOYD_ITERATIONS = 3
STREET_STATION_CHARACTERS = ("urban_core", "inner_suburb")


@dataclass(frozen=True, eq=False)
class ZoneMap:
    """Zone of every node and centre node of every zone (all int32 arrays)."""

    node_station: np.ndarray  # (N,)
    node_grid: np.ndarray  # (N,)
    node_micro_grid: np.ndarray  # (N,)
    station_node: np.ndarray  # (S,) the station's building
    station_district: np.ndarray  # (S,)
    station_is_street: np.ndarray  # (S,) bool: street (patrol) station, else household
    grid_node: np.ndarray  # (G,) centre node
    grid_station: np.ndarray  # (G,)
    micro_grid_node: np.ndarray  # (M,)
    micro_grid_grid: np.ndarray  # (M,)

    @property
    def station_count(self) -> int:
        """Return the number of police-station areas."""
        return int(self.station_node.shape[0])


def build_zones(
    xy_m: np.ndarray, node_district: np.ndarray, city: City, zones: Zones,
    rng: np.random.Generator,
) -> ZoneMap:
    """Return the zone map of a network whose nodes lie in ``node_district``."""
    district_count = len(city.districts)
    population = np.array([d.population for d in city.districts], dtype=float)
    nodes_in = [np.flatnonzero(node_district == d) for d in range(district_count)]
    household = largest_remainder(population, zones.household_stations, minimum=1)
    street_weight = np.array(
        [p if d.character in STREET_STATION_CHARACTERS else 0.0
         for p, d in zip(population, city.districts, strict=True)]
    )
    street = largest_remainder(street_weight, zones.street_stations)
    grids = largest_remainder(population, zones.grids)

    node_station = np.empty(xy_m.shape[0], dtype=np.int32)
    station_node: list[int] = []
    station_district: list[int] = []
    station_is_street: list[bool] = []
    station_grids: list[int] = []
    for d in range(district_count):
        members = nodes_in[d]
        wanted = min(int(household[d] + street[d]), members.shape[0])
        labels, centres = split(xy_m, members, wanted, rng)
        wanted = len(centres)
        node_station[members] = labels + len(station_node)
        station_node.extend(centres)
        station_district.extend([d] * wanted)
        # street stations are the ones nearest the district centre: the busiest streets
        street_here = min(int(street[d]), wanted)
        order = np.argsort(np.hypot(*(xy_m[centres] - xy_m[members].mean(axis=0)).T))
        is_street = np.zeros(wanted, dtype=bool)
        is_street[order[:street_here]] = True
        station_is_street.extend(is_street.tolist())
        sizes = np.bincount(labels, minlength=wanted)
        share = largest_remainder(sizes.astype(float), max(int(grids[d]), wanted), minimum=1)
        station_grids.extend(np.minimum(share, sizes).tolist())

    node_grid, grid_node, grid_parent = _split_each(
        xy_m, node_station, np.array(station_grids), rng
    )
    per_grid = np.full(grid_node.shape[0], zones.micro_grids_per_grid)
    node_micro, micro_node, micro_parent = _split_each(xy_m, node_grid, per_grid, rng)
    return ZoneMap(
        node_station=node_station,
        node_grid=node_grid,
        node_micro_grid=node_micro,
        station_node=np.array(station_node, dtype=np.int32),
        station_district=np.array(station_district, dtype=np.int32),
        station_is_street=np.array(station_is_street, dtype=bool),
        grid_node=grid_node,
        grid_station=grid_parent,
        micro_grid_node=micro_node,
        micro_grid_grid=micro_parent,
    )


def _split_each(
    xy_m: np.ndarray, node_parent: np.ndarray, parts: np.ndarray, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Split every parent zone into ``parts[p]`` children; return node, centre, parent ids."""
    node_child = np.empty(xy_m.shape[0], dtype=np.int32)
    centres: list[int] = []
    parents: list[int] = []
    order = np.argsort(node_parent, kind="stable")
    bounds = np.searchsorted(node_parent[order], np.arange(parts.shape[0] + 1))
    for parent in range(parts.shape[0]):
        members = order[bounds[parent]: bounds[parent + 1]]
        wanted = min(int(parts[parent]), members.shape[0])
        labels, child_centres = split(xy_m, members, wanted, rng)
        node_child[members] = labels + len(centres)
        centres.extend(child_centres)
        parents.extend([parent] * len(child_centres))
    return node_child, np.array(centres, dtype=np.int32), np.array(parents, dtype=np.int32)


def split(
    xy_m: np.ndarray, members: np.ndarray, parts: int, rng: np.random.Generator
) -> tuple[np.ndarray, list[int]]:
    """Return a compact split of ``members`` into ``parts``: labels and centre node ids."""
    if parts <= 1:
        centroid = xy_m[members].mean(axis=0)
        centre = members[np.argmin(np.hypot(*(xy_m[members] - centroid).T))]
        return np.zeros(members.shape[0], dtype=np.int32), [int(centre)]
    points = xy_m[members]
    seeds = points[np.sort(rng.choice(members.shape[0], parts, replace=False))]
    for _ in range(LLOYD_ITERATIONS):
        labels = cKDTree(seeds).query(points)[1]
        counts = np.bincount(labels, minlength=parts)
        sums = np.column_stack(
            [np.bincount(labels, weights=points[:, k], minlength=parts) for k in (0, 1)]
        )
        moved = counts > 0
        seeds[moved] = sums[moved] / counts[moved, None]
    # snap each centre to its nearest member so every part is a set of real nodes
    centre_idx = cKDTree(points).query(seeds)[1]
    # distinct centres -> distinct, non-empty parts
    centre_idx = np.unique(centre_idx)
    labels = cKDTree(points[centre_idx]).query(points)[1].astype(np.int32)
    return labels, [int(members[i]) for i in centre_idx]
