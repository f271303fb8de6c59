"""The ring-coverage map: each cell's share of incidents reached within each ring."""

from __future__ import annotations

import numpy as np
from matplotlib.collections import LineCollection
from matplotlib.figure import Figure

from gridsim.coverage import node_cells
from gridsim.world import World

NO_DATA_GREY = (0.85, 0.85, 0.85, 1.0)


def road_segments_km(world: World) -> tuple[np.ndarray, np.ndarray]:
    """Return each road once as a (2, 2) segment in km, and the node it starts at."""
    net = world.network
    rows = np.repeat(np.arange(net.node_count), np.diff(net.indptr))
    once = rows < net.indices
    xy_km = net.xy_m / 1000.0
    return np.stack([xy_km[rows[once]], xy_km[net.indices[once]]], axis=1), rows[once]


def ring_coverage_map(coverage: dict[str, np.ndarray], world: World, group: str = "any"
                      ) -> Figure:
    """Return one map per ring: roads coloured by their cell's share reached within it.

    Roads of cells without a counted incident are grey.
    """
    settings = world.scenario.coverage
    cells = node_cells(settings, world.zones.node_grid, world.zones.node_station)
    segments, start = road_segments_km(world)
    segment_cell = cells[start]
    rings = settings.rings_s
    fig = Figure(figsize=(4.2 * len(rings) + 1.2, 4.8))
    axes = fig.subplots(1, len(rings), squeeze=False)[0]
    collection = None
    for ax, ring_s in zip(axes, rings, strict=True):
        share = coverage[f"within_{ring_s:g}s_{group}"][segment_cell]
        has_data = np.isfinite(share)
        grey = LineCollection(list(segments[~has_data]), colors=[NO_DATA_GREY],
                              linewidths=0.3, rasterized=True)
        ax.add_collection(grey)
        collection = LineCollection(list(segments[has_data]), cmap="viridis",
                                    linewidths=0.4, rasterized=True)
        collection.set_array(share[has_data] * 100.0)
        collection.set_clim(0.0, 100.0)
        ax.add_collection(collection)
        ax.set_aspect("equal")
        ax.autoscale()
        ax.set_title(f"within {ring_s / 60:g} min")
        ax.set_xlabel("km east")
    axes[0].set_ylabel("km north")
    label = {"any": "any responder", "police": "police"}.get(group, group.replace("_", " "))
    fig.suptitle(f"Share of each {settings.cells[:-1]}'s incidents reached by {label} "
                 "within the ring (grey: no incident)")
    if collection is not None:
        fig.colorbar(collection, ax=list(axes), shrink=0.8, label="% of the cell's incidents")
    return fig
