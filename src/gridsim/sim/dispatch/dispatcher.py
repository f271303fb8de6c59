"""Dispatch policies: which responders each incident type gets, layer by layer."""

from __future__ import annotations

from typing import Any, cast

import numpy as np
import simpy

from gridsim.city.nearby import NearbyCarTimes
from gridsim.core.rng import stream
from gridsim.core.units import SECONDS_PER_HOUR
from gridsim.demand.incidents import Incidents
from gridsim.demand.schools import near_schools, school_nodes, with_school_congestion
from gridsim.scenario.schema import CHARACTERS, PushedLayer
from gridsim.sim.dispatch.activation import Activated
from gridsim.sim.dispatch.base import Layer, Rostered
from gridsim.sim.dispatch.kind_alerts import KindAlerts
from gridsim.sim.dispatch.local import GridPush, LocalResponders
from gridsim.sim.dispatch.mediation import MediationRooms, StreetCases
from gridsim.sim.dispatch.school_posts import LocalPosts, SchoolPosts, StationPosts, nearest_staff
from gridsim.sim.dispatch.station import StationDispatch, StationPool, StationRules
from gridsim.sim.dispatch.units import UnitDispatchLayer
from gridsim.sim.dispatch.volunteers import VolunteerAlerts, volunteer_travel
from gridsim.sim.dispatch.watch_points import WatchPointStaff
from gridsim.sim.records import KIND_CODE, DispatchLog
from gridsim.world.build import World

__all__ = ["Dispatcher", "Layer", "Rostered"]

# preemption finds units exactly within this free-flow drive of the call (a bounded
# Dijkstra on the call's station neighbourhood, gridsim.city.nearby; its size grows with
# the bound); farther ones by the best route through a station, an upper bound
PREEMPT_EXACT_S = 120.0
PATROL_POOL = 1  # the police dispatch's pools: street posts, patrol, community police


class Dispatcher:
    """The layers of one run, and for each incident type the layers it calls, in order."""

    def __init__(
        self, world: World, incidents: Incidents, env: simpy.Environment, log: DispatchLog,
        seed: int,
    ) -> None:
        """Build every layer the scenario's incident types name."""
        scenario, fleets, zones = world.scenario, world.fleets, world.zones
        catchments = world.catchments
        stations = zones.station_count

        district_character = np.array(
            [CHARACTERS.index(d.character) for d in scenario.city.districts], dtype=np.int8)
        congestion = scenario.city.congestion
        node_character = district_character[world.node_district]
        congestion_table = congestion.table()
        schools = scenario.schools
        if schools is not None:  # slower trips near schools in the windows: more columns
            school_node = school_nodes(world)
            node_character, congestion_table = with_school_congestion(
                schools, near_schools(world, school_node, schools.congestion_radius_m),
                node_character, congestion_table)
        between_s = world.node_station_car_s[zones.station_node]  # (S, S) station to station
        nearest_first = np.argsort(between_s, axis=1, kind="stable")
        neighbours = nearest_first[:, 1:1 + scenario.dispatch.neighbour_stations]
        types = [scenario.incidents[name] for name in incidents.type_names]
        units_by_type = np.array([t.units for t in types], dtype=np.int64)
        stand_down = np.array([t.local_resolves_prob for t in types])

        police_cfg = scenario.police
        car_s_near = None
        if police_cfg.preempt_priority_max > 0:
            car_s_near = NearbyCarTimes(
                world.network, zones.node_station, world.node_station_car_s,
                min(police_cfg.preempt_search_s, PREEMPT_EXACT_S)).within

        def station_dispatch(
            pools: list[StationPool], delay_by_priority_s: np.ndarray, name: str,
            unit_log: DispatchLog = log,
        ) -> StationDispatch:
            police_like = name in ("police", "traffic_police")
            rules = StationRules(
                delay_by_priority_s=delay_by_priority_s,
                units_by_type=units_by_type,
                jurisdiction_first=scenario.dispatch.jurisdiction == "own_area_first",
                neighbours=neighbours,
                return_to_base=scenario.police.return_to_base,
                node_character=node_character,
                congestion=congestion_table,
                trip_factor=trip_factors(congestion.trip_cv, incidents.count,
                                         stream(seed, f"dispatch.{name}.trips")),
                stand_down_prob_by_type=stand_down if police_like else 0.0 * stand_down,
                stand_down_u=stream(seed, f"dispatch.{name}.stand_down").random(
                    incidents.count),
                preempt_priority_max=police_cfg.preempt_priority_max if police_like else 0,
                preempt_victim_min=police_cfg.preempt_victim_min,
                preempt_search_s=police_cfg.preempt_search_s,
                car_s_near=car_s_near,
            )
            return StationDispatch(env, pools, zones.node_station, world.node_station_car_s,
                                   incidents, unit_log, rules)

        self.police = station_dispatch(
            [
                # street-post units first: in their own areas they go before patrol cars
                StationPool(fleets.street_posts, KIND_CODE["street_post"], stations, False,
                            ring_s=police_cfg.street_post_ring_s),
                StationPool(fleets.patrol, KIND_CODE["patrol"], stations, False,
                            world.patrol_points, seed=seed,
                            stream_name="dispatch.patrol.points"),
                StationPool(fleets.community_police, KIND_CODE["community_police"], stations,
                            True, world.patrol_points, fixed_points=True),
            ],
            police_cfg.delay_by_priority_s(), "police",
        )
        traffic_cfg = scenario.traffic_police
        self.traffic_police = station_dispatch(
            [StationPool(fleets.traffic_police, KIND_CODE["traffic_police"], stations, False)],
            (np.array([0.0, *traffic_cfg.dispatch_delay_s_by_priority])
             if traffic_cfg.dispatch_delay_s_by_priority is not None
             else police_cfg.delay_by_priority_s()),
            "traffic_police",
        )
        self.police_ops: dict[str, Any] = {
            "quick_response_s": list(police_cfg.quick_response_s),
            "street_post_ring_population_share": ring_population_share(
                world, police_cfg.street_post_ring_s) if fleets.street_posts.size else None,
        }
        # street mediators settle on scene or bring the case to the station's mediation room
        self.rooms = MediationRooms(
            env, scenario.mediation_room, fleets.resident_mediators, fleets.part_time_mediators,
            stations, seed, (scenario.warmup_hours * SECONDS_PER_HOUR, scenario.duration_s),
        )
        self.street_cases = StreetCases(
            log, self.rooms, incidents, zones.node_station,
            scenario.mediators.settle_on_scene_prob, stream(seed, "dispatch.mediation.on_scene"),
        )
        self.mediation = station_dispatch(
            [StationPool(fleets.mediators, KIND_CODE["mediator"], stations, False)],
            np.full(6, scenario.mediators.dispatch_delay_s), "mediation",
            cast(DispatchLog, self.street_cases),
        )
        grid_cfg, vol_cfg = scenario.grid_workers, scenario.volunteers
        grid_workers = LocalResponders(
            fleets.grid_workers, log, stream(seed, "dispatch.grid"),
            scenario.city.speed_mps(grid_cfg.mode), grid_cfg.reaction_s,
            grid_cfg.on_scene_s, grid_cfg.max_dispatched,
        )
        self.grid = GridPush(grid_workers, incidents.node, catchments.grid_workers,
                             grid_cfg.response_prob)
        positions = world.volunteer_positions
        speed_mps = volunteer_travel(vol_cfg, fleets.volunteers.size, scenario.city.seed,
                                     positions.kind)[1]
        if catchments.volunteer_nodes is not None:  # kinds: who is near depends on the hour
            self.volunteers: VolunteerAlerts = KindAlerts(
                vol_cfg, scenario.dispatch.volunteer_radius_m,
                scenario.dispatch.volunteer_max_dispatched, catchments.volunteer_nodes,
                incidents.node, log, seed, speed_mps, positions, catchments.volunteers_within,
            )
        else:
            self.volunteers = VolunteerAlerts(
                vol_cfg, scenario.dispatch.volunteer_radius_m,
                scenario.dispatch.volunteer_max_dispatched, catchments.volunteers,
                incidents.node, log, seed, speed_mps,
            )
        self.watch_points = WatchPointStaff(
            scenario.watch_points, incidents, catchments.watch_point, catchments.watch_point_m,
            fleets.watch_point_node, fleets.watch_point_added(), log,
            scenario.city.walk_speed_mps, seed, scenario.city.seed,
        )
        activation_delay_s = np.array([t.activation_delay_s for t in types])
        scale = scenario.dispatch.volunteer_activation_scale
        pushed: list[tuple[PushedLayer, Layer]] = [("grid", self.grid),
                                                   ("volunteers", self.volunteers)]
        self.activated = {
            name: Activated(layer, incidents.type_id,
                            np.minimum(1.0, np.array([t.activation_prob.get(name, 1.0)
                                                      for t in types]) * (
                                scale if name == "volunteers" else 1.0)),
                            activation_delay_s, stream(seed, f"dispatch.activation.{name}"))
            for name, layer in pushed
        }
        by_layer: dict[str, Layer] = {
            "police": self.police,
            "traffic_police": self.traffic_police,
            "grid": self.activated["grid"],
            "volunteers": self.activated["volunteers"],
            "watch_points": self.watch_points,
        }
        self.units: UnitDispatchLayer | None = None
        if scenario.unit_dispatch is not None:
            self.units = UnitDispatchLayer(world, incidents, env, log, seed)
            by_layer["units"] = self.units
        mediated = set(scenario.dispatch.mediation_types)
        self.layers_by_type: list[tuple[Layer, ...]] = []
        for name, kind in zip(incidents.type_names, types, strict=True):
            # people nearby first, station units last: a unit is sent knowing whether a
            # local responder will be there first (and may be stood down)
            police = ("police", "traffic_police", "units")
            local = [by_layer[layer] for layer in kind.responders if layer not in police]
            station: list[Layer] = [self.mediation] if name in mediated else []
            station += [by_layer[layer] for layer in kind.responders if layer in police]
            self.layers_by_type.append((*local, *station))
        self.rostered: tuple[Rostered, ...] = (self.police, self.traffic_police,
                                               self.mediation)
        self.school_posts: SchoolPosts | None = None
        if schools is not None:
            self.school_posts = self._school_posts(world, school_node, grid_workers)
            self.rostered = (*self.rostered, self.school_posts)

    def _school_posts(self, world: World, school_node: np.ndarray,
                      grid_workers: LocalResponders) -> SchoolPosts:
        """Return the school posts, staffed as the scenario's ``schools.post_staff`` says."""
        spec = world.scenario.schools
        assert spec is not None
        xy = world.network.xy_m
        if spec.post_staff in ("police", "auxiliary"):
            dispatch, pool = ((self.police, PATROL_POOL) if spec.post_staff == "police"
                              else (self.mediation, 0))
            return SchoolPosts(spec, StationPosts(dispatch, pool, school_node,
                                                  spec.staff_per_post), None)
        if spec.post_staff in ("grid_workers", "volunteers"):
            fleet, busy = ((world.fleets.grid_workers, grid_workers.busy_until_s)
                           if spec.post_staff == "grid_workers"
                           else (world.fleets.volunteers, self.volunteers.busy_until_s))
            staff, empty = nearest_staff(xy[fleet.base_node], xy[school_node],
                                         spec.staff_per_post)
            return SchoolPosts(spec, None, LocalPosts(busy, staff, empty))
        return SchoolPosts(spec, None, None)

    def police_counts(self) -> dict[str, Any]:
        """Return preemptions, requeued calls, ring cover and (schools) the posts' tally."""
        dispatches = (self.police, self.traffic_police)
        posts = {} if self.school_posts is None else {
            "school_posts": self.school_posts.tally()}
        return {
            "preemptions": sum(d.preemptions for d in dispatches),
            "requeued": sum(d.requeued for d in dispatches),
            **self.police_ops,
            **posts,
        }


def ring_population_share(world: World, ring_s: float) -> float:
    """Return the share of residents within ``ring_s`` free-flow car seconds of a street post."""
    nearest_s = np.full(world.network.node_count, np.inf, dtype=np.float32)
    for post in np.flatnonzero(world.zones.station_is_street).tolist():  # a column at a time
        np.minimum(nearest_s, world.node_station_car_s[:, post], out=nearest_s)
    population = world.node_population
    return float(population[nearest_s <= ring_s].sum() / population.sum())


def trip_factors(cv: float, count: int, rng: np.random.Generator) -> np.ndarray:
    """Return a travel-time factor per incident: log-normal, mean 1, CV ``cv`` (0: ones)."""
    if cv == 0.0:
        return np.ones(count)
    sigma = float(np.sqrt(np.log1p(cv**2)))
    return rng.lognormal(-sigma**2 / 2.0, sigma, count)
