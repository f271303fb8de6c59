"""A resource guard: estimate a scenario's memory and time before building anything big.

The estimate adds the few arrays that grow with the scenario (the road network, the
node x station travel-time matrix, the per-node catchments of volunteers and grid
workers, the fleets, the incident and dispatch columns), each with the bytes per entry
measured on this code (see ``docs/performance.md``). A scenario that would not fit this
machine's memory is refused with one line naming the key that makes it big; a huge but
feasible one goes ahead with a warning.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass
from pathlib import Path

from gridsim.core.errors import InputError
from gridsim.scenario.schema import Scenario

# Bytes per entry, fitted to peak RSS of cold builds (/usr/bin/time, docs/performance.md).
# The parts' peaks do not coincide, so their sum over-estimates by 1.4-1.6x: a safe bound.
BASE_BYTES = 200e6  # the interpreter with numpy, scipy, simpy, pyarrow and matplotlib
NETWORK_BYTES_PER_NODE = 3_000.0  # Delaunay, edge arrays, CSR, components, zones
MATRIX_BYTES_PER_CELL = 12.0  # float64 Dijkstra rows, then the float32 copy kept
CATCHMENT_BYTES_PER_ENTRY = 30.0  # node reach, member lists, their int64 work arrays
FLEET_BYTES_PER_MEMBER = 64.0
INCIDENT_BYTES = 400.0  # incident columns, its dispatch rows, outcomes and output copies
REACH_SHARE = 0.9  # nodes within r by road per node of mean density in the disc of r (1.78 M
# volunteer entries measured on the default; volunteers cluster where nodes are dense)
# time per unit of work, seconds (same source)
NETWORK_S_PER_NODE = 3e-4
CATCHMENT_S_PER_ENTRY = 1e-6
INCIDENT_S = 2.5e-5
# file bytes per road node kept after simplification, measured on the OSM extracts in
# scenarios/data/osm (73 B in PBF, 85 B in bzip2 XML); plain XML and GraphML estimated
OSM_BYTES_PER_NODE = ((".pbf", 70.0), (".bz2", 80.0), (".graphml", 500.0))
REFUSE_SHARE = 0.9  # of the memory available now
WARN_SHARE = 0.5
WARN_TIME_S = 600.0


@dataclass(frozen=True)
class Part:
    """One array family: what it is, the keys that size it, its bytes and seconds."""

    what: str
    keys: tuple[str, ...]
    bytes: float
    seconds: float


def estimate(scenario: Scenario) -> list[Part]:
    """Return the memory and time estimate of building and running ``scenario``, by part."""
    city, zones = scenario.city, scenario.zones
    nodes = len(city.explicit.nodes_xy_m) if city.explicit is not None else city.node_count
    stations = len(city.explicit.station_nodes) if city.explicit is not None else zones.stations
    grids = 1 if city.explicit is not None else zones.grids
    node_keys: tuple[str, ...] = ("city.nodes", "city.scale")
    if city.explicit is not None:
        node_keys = ("city.explicit",)
    if city.osm is not None:
        nodes = osm_node_estimate(city.osm.path)
        node_keys = ("city.osm.path",)
    volunteers = scenario.volunteers.count
    grid_workers = grids * (scenario.grid_workers.per_grid
                            + zones.micro_grids_per_grid * scenario.grid_workers.per_micro_grid)
    counts = {"volunteers.count": volunteers, "police.patrol_units": scenario.police.patrol_units,
              "police.community_police": scenario.police.community_police,
              "mediators.count": scenario.mediators.count,
              "mediation_room.full_time": scenario.mediation_room.full_time,
              "mediation_room.part_time": scenario.mediation_room.part_time,
              "zones.grids": grid_workers,
              "watch_points.count": scenario.watch_points.count}
    fleet_key = max(counts, key=lambda key: counts[key])
    nodes_per_m2 = _nodes_per_m2_where_people_live(scenario, nodes)
    radius_m = scenario.volunteers.alerting.largest_radius_m(scenario.dispatch.volunteer_radius_m)
    reach_nodes = min(float(nodes), nodes_per_m2 * math.pi * radius_m**2 * REACH_SHARE + 1.0)
    # without kinds, the volunteers near each node are listed; with kinds (at posts, on the
    # move), only the nodes, and the volunteers found there by hour
    catchment = (nodes + (0 if scenario.volunteers.kinds else volunteers)) * reach_nodes
    platform_m = scenario.platform.largest_radius_m() if scenario.platform is not None else 0.0
    # a platform task radius beyond the volunteers' needs its own node search (once)
    platform_reach = nodes * min(float(nodes), nodes_per_m2 * math.pi * platform_m**2
                                 * REACH_SHARE + 1.0) if platform_m > radius_m else 0.0
    grid_entries = grid_workers * max(nodes / grids, 1.0)
    incidents = scenario.duration_days * sum(t.rate_per_day for t in scenario.incidents.values())
    # the catchments grow with the nodes (their reach too) or with the volunteers listed
    catchment_key = node_keys[0] if nodes > volunteers else "volunteers.count"
    return [
        Part("road network", node_keys, nodes * NETWORK_BYTES_PER_NODE,
             nodes * NETWORK_S_PER_NODE),
        Part("station travel-time matrix", (node_keys[0], "zones.household_stations"),
             float(nodes) * stations * MATRIX_BYTES_PER_CELL, 0.0),
        Part("volunteer catchments", (catchment_key, "dispatch.volunteer_radius_m"),
             catchment * CATCHMENT_BYTES_PER_ENTRY, catchment * CATCHMENT_S_PER_ENTRY),
        Part("platform reach", ("platform.tasks.*.radius_m",),
             platform_reach * CATCHMENT_BYTES_PER_ENTRY, platform_reach * CATCHMENT_S_PER_ENTRY),
        Part("grid-worker catchments", ("zones.grids", "grid_workers.per_micro_grid"),
             grid_entries * CATCHMENT_BYTES_PER_ENTRY, grid_entries * CATCHMENT_S_PER_ENTRY),
        Part("responder fleets", (fleet_key,), sum(counts.values()) * FLEET_BYTES_PER_MEMBER, 0.0),
        Part("incidents and dispatches", ("incidents.*.rate_per_day", "duration_days"),
             incidents * INCIDENT_BYTES, incidents * INCIDENT_S),
    ]


def osm_node_estimate(path: str) -> int:
    """Return a rough count of the road nodes an OSM file gives, from its size."""
    try:
        size = Path(path).stat().st_size
    except OSError:
        return 0  # the importer names the missing file
    name = path.lower()
    per_node = next((b for suffix, b in OSM_BYTES_PER_NODE if name.endswith(suffix)), 800.0)
    return max(int(size / per_node), 2)


def check_resources(scenario: Scenario, available_bytes: float | None = None) -> list[str]:
    """Return warnings for a huge but feasible scenario; raise ``InputError`` if it won't fit.

    ``available_bytes`` defaults to the memory this machine has available now.
    """
    parts = estimate(scenario)
    total = BASE_BYTES + sum(p.bytes for p in parts)
    seconds = sum(p.seconds for p in parts)
    available = memory_available_bytes() if available_bytes is None else available_bytes
    biggest = max(parts, key=lambda p: p.bytes)
    if total > REFUSE_SHARE * available:
        raise InputError(
            f"{', '.join(biggest.keys)}: this scenario needs about {_size(total)} of memory "
            f"({biggest.what}: {_size(biggest.bytes)}) and this machine has "
            f"{_size(available)} available; {_fix(biggest.keys)}"
        )
    warnings = []
    if total > WARN_SHARE * available:
        warnings.append(f"this scenario needs about {_size(total)} of the {_size(available)} "
                        f"of memory available (mostly {biggest.what}: "
                        f"{', '.join(biggest.keys)})")
    if seconds > WARN_TIME_S:
        slowest = max(parts, key=lambda p: p.seconds)
        warnings.append(f"this run may take about {seconds / 60.0:,.0f} minutes (mostly "
                        f"{slowest.what}: {', '.join(slowest.keys)})")
    return warnings


def _fix(keys: tuple[str, ...]) -> str:
    """Return how to make a scenario smaller: lower its keys, or import less of a city."""
    fixes = {"city.osm.path": "use a smaller extract (city.osm.path)",
             "city.explicit": "give fewer nodes (city.explicit)"}
    lowered = [k for k in keys if k not in fixes]
    return " or ".join([*(fixes[k] for k in keys if k in fixes),
                        *([f"lower {' or '.join(lowered)}"] if lowered else [])])


def memory_available_bytes() -> float:
    """Return the memory available to a new process: MemAvailable, else physical memory."""
    try:
        for line in Path("/proc/meminfo").read_text(encoding="ascii").splitlines():
            if line.startswith("MemAvailable:"):
                return float(line.split()[1]) * 1024.0
    except (OSError, ValueError, IndexError):
        pass
    try:
        return float(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES"))
    except (ValueError, OSError, AttributeError):
        return math.inf


def _nodes_per_m2_where_people_live(scenario: Scenario, nodes: int) -> float:
    """Return road nodes per m² around the average resident (volunteers live as people do)."""
    districts = scenario.city.districts
    people = sum(d.population for d in districts)
    share_of_nodes = [0.5 * d.population / people + 0.5 * d.area_km2 / sum(
        x.area_km2 for x in districts) for d in districts]  # as city.synthetic places them
    return sum(d.population / people * nodes * share / (d.area_km2 * 1e6)
               for d, share in zip(districts, share_of_nodes, strict=True))


def _size(n_bytes: float) -> str:
    """Return a byte count as e.g. '3.2 GB' or '7,000 TB'."""
    for unit, scale in (("TB", 1e12), ("GB", 1e9), ("MB", 1e6)):
        if n_bytes >= scale:
            return f"{n_bytes / scale:,.1f} {unit}"
    return f"{n_bytes / 1e3:,.0f} kB"
