"""The naive design, kept only as the benchmark's yardstick.

One simpy process per incident, a networkx Dijkstra (3 km cutoff) from the incident for
every dispatch (each layer the incident's type names dispatches on its own), station
units as ``simpy.Resource`` queues, and volunteers alerted in rounds as gridsim alerts
them (``volunteers.alerting``), with one simpy process per round and per alerted
volunteer and a draw per candidate. This is what the performance model in docs/design.md
rules out; ``gridsim bench`` times it on a sample of incidents to show by how much.
"""

from __future__ import annotations

import math
import time
from collections.abc import Generator

import networkx as nx
import numpy as np
import simpy

from gridsim.demand.incidents import Incidents
from gridsim.sim.dispatch.volunteers import volunteer_travel
from gridsim.world.build import World

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
    """Return the wall seconds the naive design takes to simulate ``incidents``.

    Each layer an incident type names (police, mediation, grid push, volunteers, watch
    points) makes its own dispatch, and each dispatch runs its own Dijkstra.
    """
    scenario = world.scenario
    rng = np.random.default_rng(seed)
    env = simpy.Environment()
    station_of_node = {int(n): s for s, n in enumerate(world.zones.station_node)}
    units = np.bincount(world.fleets.patrol.station, minlength=world.zones.station_count)
    stations = [simpy.Resource(env, capacity=max(int(c), 1)) for c in units]
    mediators = [simpy.Resource(env, capacity=1) for _ in units]
    members_at: dict[str, dict[int, list[int]]] = {"volunteers": {}, "grid": {}}
    fleets = world.fleets
    for kind, fleet in (("volunteers", fleets.volunteers), ("grid", fleets.grid_workers)):
        for rid, node in enumerate(fleet.base_node.tolist()):
            members_at[kind].setdefault(node, []).append(rid)
    watch_points = set(world.fleets.watch_point_node.tolist())
    volunteers = scenario.volunteers
    available = float(np.mean(volunteers.availability_by_hour))
    willing = available * volunteers.acceptance_prob  # grid workers, as the design had it
    alerting = volunteers.alerting
    first_m = scenario.dispatch.volunteer_radius_m
    round_radius = [alerting.radius_m(first_m, k) for k in range(alerting.max_rounds)]
    speed = volunteer_travel(volunteers, fleets.volunteers.size, scenario.city.seed)[1]
    walk = scenario.city.walk_speed_mps
    radius = {"volunteers": round_radius[-1], "grid": scenario.dispatch.grid_radius_m}
    layers_of = [
        (["mediation"] if name in scenario.dispatch.mediation_types else [])
        + list(scenario.incidents[name].responders)
        for name in incidents.type_names
    ]

    def search(node: int) -> dict[int, float]:
        return nx.single_source_dijkstra_path_length(graph, node, cutoff=CUTOFF_M,
                                                     weight="length")

    def responder(dist_m: float, p: float, speed_mps: float = walk
                  ) -> Generator[simpy.Event, None, None]:
        if rng.random() < p:
            yield env.timeout(dist_m / speed_mps)
            yield env.timeout(900.0)

    def volunteer_rounds(near: list[tuple[float, int]]) -> Generator[simpy.Event, None, None]:
        accepted, nxt = [0], 0
        for k, limit in enumerate(round_radius):
            if k:
                yield env.timeout(alerting.round_interval_s)
                if accepted[0] >= scenario.dispatch.volunteer_max_dispatched:
                    return
            alerted = 0
            while alerted < alerting.round_size and nxt < len(near) and near[nxt][0] <= limit:
                dist, vid = near[nxt]
                nxt += 1
                if rng.random() >= available:
                    continue
                alerted += 1
                p = volunteers.acceptance_prob * math.exp(-dist / volunteers.acceptance_decay_m)
                if rng.random() < p:
                    accepted[0] += 1
                    env.process(responder(dist, 1.0, float(speed[vid])))

    def station_unit(
        pool: list[simpy.Resource], node: int, on_scene_s: float
    ) -> Generator[simpy.Event, None, None]:
        reach = search(node)
        near = [station_of_node[n] for n in reach if n in station_of_node]
        station = min(near, key=lambda s: reach[int(world.zones.station_node[s])], default=None)
        if station is None:
            station = int(world.zones.node_station[node])
        with pool[station].request() as request:
            yield request
            yield env.timeout(on_scene_s)

    def incident(i: int) -> Generator[simpy.Event, None, None]:
        yield env.timeout(max(0.0, float(incidents.t_call_s[i]) - env.now))
        node = int(incidents.node[i])
        for layer in layers_of[int(incidents.type_id[i])]:
            if layer in ("police", "mediation"):
                pool = stations if layer == "police" else mediators
                env.process(station_unit(pool, node, float(incidents.on_scene_s[i])))
                continue
            reach = search(node)
            if layer == "watch_points":
                helped = [d for n, d in reach.items() if n in watch_points]
                if helped and min(helped) <= scenario.watch_points.radius_m:
                    env.process(responder(min(helped), 1.0))
                continue
            if layer == "volunteers":
                env.process(volunteer_rounds(sorted(
                    (dist, member) for other, dist in reach.items() if dist <= radius[layer]
                    for member in members_at[layer].get(other, ()))))
                continue
            for other, dist in reach.items():
                if dist <= radius[layer]:
                    for _ in members_at[layer].get(other, ()):
                        env.process(responder(dist, willing))

    for i in range(incidents.count):
        env.process(incident(i))
    started = time.perf_counter()
    env.run()
    return time.perf_counter() - started
