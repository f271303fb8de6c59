"""The before/after figure of ``gridsim place``: where the sites go, and what they change."""

from __future__ import annotations

import numpy as np
from matplotlib.collections import LineCollection
from matplotlib.figure import Figure

from gridsim.report.coverage_figure import road_segments_km
from gridsim.studies.placement import Placement
from gridsim.world.build import World


def placement_figure(placement: Placement, world: World, demand: np.ndarray) -> Figure:
    """Return the map of demand, existing and proposed points, and the paired check."""
    fig = Figure(figsize=(13, 6))
    map_ax, check_ax = fig.subplots(1, 2, gridspec_kw={"width_ratios": [1.5, 1]})
    segments, _ = road_segments_km(world)
    map_ax.add_collection(LineCollection(list(segments), colors="0.82", linewidths=0.4,
                                         rasterized=True))
    xy_km = world.network.xy_m / 1000.0
    late = np.flatnonzero(demand > 0)
    map_ax.scatter(*xy_km[late].T, s=2 + 24 * demand[late] / max(demand.max(), 1e-9),
                   c="tab:orange", alpha=0.35, lw=0,
                   label="incidents not reached in the ring (training runs)")
    existing = world.fleets.watch_point_node
    map_ax.scatter(*xy_km[existing].T, s=10, c="0.35", marker="s", lw=0,
                   label=f"watch points now ({existing.shape[0]:,})")
    map_ax.scatter(*xy_km[placement.site_node].T, s=120, c="tab:red", marker="*",
                   edgecolors="k", linewidths=0.5,
                   label=f"proposed ({placement.site_node.shape[0]})")
    for rank, node in enumerate(placement.site_node[:20], start=1):
        map_ax.annotate(str(rank), xy_km[node], xytext=(4, 4), textcoords="offset points",
                        fontsize=7)
    map_ax.set_aspect("equal")
    map_ax.autoscale()
    map_ax.set_xlabel("km east")
    map_ax.set_ylabel("km north")
    map_ax.set_title("Where the next watch points go (numbers: order chosen)")
    map_ax.legend(loc="lower left", fontsize=8)

    before, after = placement.before * 100.0, placement.after * 100.0
    for k in range(before.shape[0]):
        check_ax.plot([0, 1], [before[k], after[k]], color="0.6", lw=0.8, marker="o", ms=3)
    mean, half = placement.improvement()
    check_ax.plot([0, 1], [before.mean(), after.mean()], color="tab:red", lw=2.5, marker="o",
                  label=f"mean: {mean * 100:+.2f} points (95% CI {(mean - half) * 100:+.2f} "
                        f"to {(mean + half) * 100:+.2f})")
    check_ax.set_xticks([0, 1], ["before", "after"])
    check_ax.set_xlim(-0.3, 1.3)
    check_ax.set_ylabel(f"% of incidents reached within {placement.ring_s / 60:g} min")
    check_ax.set_title("Simulated check: the same seeds before and after")
    check_ax.legend(loc="lower center", fontsize=8)
    fig.tight_layout()
    return fig
