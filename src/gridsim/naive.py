"""The naive design, kept only as the benchmark's yardstick.

One simpy process per incident, a networkx Dijkstra (3 km cutoff) from the incident for
every dispatch, station units as ``simpy.Resource`` queues, and one simpy process per
alerted volunteer. This is what DESIGN.md's performance model rules out; ``gridsim
bench`` times it on a sample of incidents to show by how much.
"""

from __future__ import annotations

import time
from collections.abc import Generator

import networkx as nx
import numpy as np
import simpy

from gridsim.incidents import Incidents
from gridsim.world import World

CUTOFF_M = 3000.0


def road_graph(world: World) -> nx.Graph:
    """Return the world's road network as a networkx graph with ``length`` and ``car_s``."""
    net = world.network
    graph = nx.Graph()
    rows = np.repeat(np.arange(net.node_count), np.diff(net.indptr))
    graph.add_edges_from(
        (int(u), int(v), {"length": float(d), "car_s": float(t)})
        for u, v, d, t in zip(rows, net.indices, net.length_m, net.car_s, strict=True)
    )
    return graph


def naive_seconds(world: World, incidents: Incidents, graph: nx.Graph, seed: int) -> float:
    """Return the wall seconds the naive design takes to simulate ``incidents``."""
    scenario = world.scenario
    rng = np.random.default_rng(seed)
    env = simpy.Environment()
    station_of_node = {int(n): s for s, n in enumerate(world.zones.station_node)}
    units = np.bincount(world.fleets.patrol.station, minlength=world.zones.station_count)
    stations = [simpy.Resource(env, capacity=max(int(c), 1)) for c in units]
    volunteers_at: dict[int, list[int]] = {}
    for vid, node in enumerate(world.fleets.volunteers.base_node.tolist()):
        volunteers_at.setdefault(node, []).append(vid)
    volunteers = scenario.volunteers
    willing = np.mean(volunteers.availability_by_hour) * volunteers.acceptance_prob
    walk = scenario.city.walk_speed_mps
    radius = scenario.dispatch.volunteer_radius_m

    def volunteer(dist_m: float) -> Generator[simpy.Event, None, None]:
        if rng.random() < willing:
            yield env.timeout(dist_m / walk)
            yield env.timeout(900.0)

    def incident(i: int) -> Generator[simpy.Event, None, None]:
        yield env.timeout(max(0.0, float(incidents.t_call_s[i]) - env.now))
        node = int(incidents.node[i])
        reach = nx.single_source_dijkstra_path_length(graph, node, cutoff=CUTOFF_M,
                                                      weight="length")
        for other, dist in reach.items():
            if dist <= radius:
                for _ in volunteers_at.get(other, ()):
                    env.process(volunteer(dist))
        near = [station_of_node[n] for n in reach if n in station_of_node]
        station = min(near, key=lambda s: reach[int(world.zones.station_node[s])], default=None)
        if station is None:
            station = int(world.zones.node_station[node])
        with stations[station].request() as request:
            yield request
            yield env.timeout(float(incidents.on_scene_s[i]))

    for i in range(incidents.count):
        env.process(incident(i))
    started = time.perf_counter()
    env.run()
    return time.perf_counter() - started
