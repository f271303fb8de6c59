"""Dispatch policies: which responders each incident type gets, layer by layer."""

from __future__ import annotations

import simpy

from gridsim.dispatch.base import Layer, Rostered
from gridsim.dispatch.local import GridPush, LocalResponders, VolunteerBroadcast, WatchPointHelp
from gridsim.dispatch.station import StationDispatch, StationPool
from gridsim.incidents import Incidents
from gridsim.log import KIND_CODE, DispatchLog
from gridsim.rng import stream
from gridsim.world import World

__all__ = ["Dispatcher", "Layer", "Rostered"]


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

        def station_dispatch(pools: list[StationPool], delay_s: float) -> StationDispatch:
            return StationDispatch(
                env, pools, zones.node_station, world.node_station_car_s, incidents, log,
                delay_s, scenario.police.return_to_base,
            )

        self.police = station_dispatch(
            [
                StationPool(fleets.patrol, KIND_CODE["patrol"], stations, False),
                StationPool(fleets.community_police, KIND_CODE["community_police"], stations,
                            True),
            ],
            scenario.police.dispatch_delay_s,
        )
        self.mediation = station_dispatch(
            [StationPool(fleets.mediators, KIND_CODE["mediator"], stations, False)],
            scenario.mediators.dispatch_delay_s,
        )
        grid_cfg, vol_cfg = scenario.grid_workers, scenario.volunteers
        self.grid = GridPush(
            LocalResponders(
                fleets.grid_workers, log, stream(seed, "dispatch.grid"),
                scenario.city.speed_mps(grid_cfg.mode), grid_cfg.reaction_s,
                grid_cfg.on_scene_s, grid_cfg.max_dispatched,
            ),
            incidents.node, catchments.grid_workers, grid_cfg.response_prob,
        )
        self.volunteers = VolunteerBroadcast(
            LocalResponders(
                fleets.volunteers, log, stream(seed, "dispatch.volunteers"),
                scenario.city.speed_mps(vol_cfg.mode), vol_cfg.reaction_s, vol_cfg.on_scene_s,
                scenario.dispatch.volunteer_max_dispatched,
            ),
            incidents.node, catchments.volunteers, vol_cfg.availability_by_hour,
            vol_cfg.acceptance_prob,
        )
        self.watch_points = WatchPointHelp(
            incidents.node, catchments.watch_point, catchments.watch_point_m, log,
            scenario.city.walk_speed_mps, scenario.watch_points.reaction_s,
            scenario.watch_points.on_scene_s,
            stream(seed, "dispatch.watch_points"),
        )
        by_layer: dict[str, Layer] = {
            "police": self.police,
            "grid": self.grid,
            "volunteers": self.volunteers,
            "watch_points": self.watch_points,
        }
        mediated = set(scenario.dispatch.mediation_types)
        self.layers_by_type: list[tuple[Layer, ...]] = []
        for name in incidents.type_names:
            layers = [by_layer[layer] for layer in scenario.incidents[name].responders]
            if name in mediated:
                layers.insert(0, self.mediation)
            self.layers_by_type.append(tuple(layers))
        self.rostered: tuple[Rostered, ...] = (self.police, self.mediation)
