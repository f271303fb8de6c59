"""The ring-coverage map: each cell's share of incidents reached within each ring."""

from __future__ import annotations

import numpy as np
from matplotlib import colormaps
from matplotlib.axes import Axes
from matplotlib.cm import ScalarMappable
from matplotlib.colors import Normalize
from matplotlib.figure import Figure

from gridsim.analysis.coverage import node_cells
from gridsim.world.build import World

NO_DATA_GREY = (0.85, 0.85, 0.85, 1.0)
COLOUR_BINS = 32  # roads drawn as this many single-colour polylines: fast at 150,000 roads


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
    scale = ScalarMappable(Normalize(0.0, 100.0), colormaps["viridis"])
    for ax, ring_s in zip(axes, rings, strict=True):
        share = coverage[f"within_{ring_s:g}s_{group}"][segment_cell] * 100.0
        draw_roads_binned(ax, segments, share, scale, linewidth=0.4)
        ax.set_aspect("equal")
        ax.set_title(f"within {ring_s / 60:g} min")
        ax.set_xlabel("km east")
    axes[0].set_ylabel("km north")
    label = {"any": "any responder", "police": "police"}.get(group, group.replace("_", " "))
    fig.suptitle(f"Share of each {settings.cells[:-1]}'s incidents reached by {label} "
                 "within the ring (grey: no incident)")
    fig.colorbar(scale, ax=list(axes), shrink=0.8, label="% of the cell's incidents")
    return fig


def draw_roads_binned(ax: Axes, segments: np.ndarray, values: np.ndarray,
                      scale: ScalarMappable, linewidth: float) -> None:
    """Draw roads coloured by ``values`` (nan: grey), one polyline per colour bin."""
    low, high = scale.get_clim()
    assert low is not None and high is not None
    known = np.isfinite(values)
    fraction = np.clip((np.where(known, values, low) - low) / max(high - low, 1e-12), 0.0, 1.0)
    colour_bin = np.where(known, np.minimum((fraction * COLOUR_BINS).astype(np.int64),
                                            COLOUR_BINS - 1), -1)
    for b in range(-1, COLOUR_BINS):
        rows = segments[colour_bin == b]
        if rows.shape[0] == 0:
            continue
        # each road as its two ends then a gap (nan), all in one line
        xy = np.concatenate([rows, np.full((rows.shape[0], 1, 2), np.nan)], axis=1)
        xy = xy.reshape(-1, 2)
        colour = NO_DATA_GREY if b < 0 else scale.cmap((b + 0.5) / COLOUR_BINS)
        ax.plot(xy[:, 0], xy[:, 1], color=colour, linewidth=linewidth, rasterized=True)
