"""The planners' figures, each a matplotlib Figure with a title, units and a legend."""

from __future__ import annotations

from io import BytesIO
from typing import Any

import matplotlib
import numpy as np
import pyarrow as pa
from matplotlib.axes import Axes
from matplotlib.collections import LineCollection
from matplotlib.figure import Figure

from gridsim.core.units import SECONDS_PER_HOUR
from gridsim.report.canvas import subplots
from gridsim.report.coverage_figure import road_segments_km
from gridsim.report.results import Results
from gridsim.sim.records import POLICE_KINDS, RESPONDER_KINDS
from gridsim.world.build import World

MINUTES = 60.0
CDF_LIMIT_MIN = 60.0
LABEL_IN_INSET_KM2 = 100.0  # districts smaller than this are labelled in the core inset


def png_bytes(fig: Figure) -> bytes:
    """Return ``fig`` as PNG bytes (marked as gridsim's, no timestamp) and close it."""
    buffer = BytesIO()
    fig.savefig(buffer, format="png", dpi=110, metadata={"Software": "gridsim"})
    return buffer.getvalue()


def response_cdf(results: Results) -> Figure:
    """Return the CDF of minutes from call to arrival, by responder kind and overall."""
    inc, d = results.incidents, results.dispatches
    count = inc["t_call_s"].shape[0]
    delay_min = (d["t_arrive_s"] - inc["t_call_s"][d["incident"]]) / MINUTES
    fig, ax = subplots(figsize=(8, 5))
    first = inc["first_arrival_s"] / MINUTES
    if not np.isfinite(first).any():
        return _no_data(fig, ax, "Response time by responder kind",
                        "no incident was reached by any responder")
    _cdf(ax, first, count, "first arrival (anyone)", colour="black", width=2.2)
    for kind in RESPONDER_KINDS:
        rows = d["kind"] == kind
        if not rows.any():
            continue
        earliest = np.full(count, np.inf)
        np.minimum.at(earliest, d["incident"][rows], delay_min[rows])
        reached = earliest[np.isfinite(earliest)]
        _cdf(ax, reached, reached.shape[0], f"{kind.replace('_', ' ')} (n={reached.shape[0]:,})")
    _cdf_axes(ax, CDF_LIMIT_MIN, "minutes from the call to arrival",
              "share of incidents reached (of those the kind was sent to)",
              "Response time by responder kind")
    fig.tight_layout()
    return fig


def district_map(results: Results, world: World) -> Figure:
    """Return a map of the city's roads, coloured by their district's p90 first arrival.

    Small districts (the dense core) are labelled in a zoomed inset.
    """
    names = list(world.district_names)
    p90_min = np.array([
        _or_nan(results.summary["by_district"][n]["first_arrival_s"]["p90"]) / MINUTES
        for n in names
    ])
    if not np.isfinite(p90_min).any():
        fig, ax = subplots(figsize=(9, 4))
        return _no_data(fig, ax, "p90 time to first arrival by district",
                        "no incident was reached by any responder")
    xy_km = world.network.xy_m / 1000.0
    segments, start = road_segments_km(world)
    values = p90_min[world.node_district[start]]
    limits = (float(np.nanmin(p90_min)), float(np.nanmax(p90_min)))
    area = {d.name: d.area_km2 for d in results.scenario.city.districts}
    small = [code for code, name in enumerate(names) if area[name] < LABEL_IN_INSET_KM2]
    core = np.isin(world.node_district, small)
    span_km = np.ptp(xy_km, axis=0).max()
    if not core.any() or core.all() or np.ptp(xy_km[core], axis=0).max() > 0.4 * span_km:
        small = []  # no inset when the small districts are most of the map (a small city)

    fig, ax = subplots(figsize=(9, 9))
    roads = _roads(segments, values, limits, width=0.35)
    ax.add_collection(roads)
    _label(ax, xy_km, world.node_district, names, p90_min,
           [c for c in range(len(names)) if c not in small])
    ax.set_aspect("equal")
    ax.autoscale()
    ax.set_xlabel("km east")
    ax.set_ylabel("km north")
    ax.set_title("p90 time to first arrival by district (roads coloured by district)")
    if small:
        inset = ax.inset_axes((0.01, 0.01, 0.42, 0.42))  # the empty south-west corner
        inset.add_collection(_roads(segments, values, limits, width=0.5))
        lo, hi = xy_km[core].min(axis=0), xy_km[core].max(axis=0)
        inset.set_xlim(lo[0] - 1, hi[0] + 1)
        inset.set_ylim(lo[1] - 1, hi[1] + 1)
        inset.set_aspect("equal")
        inset.set_xticks([])
        inset.set_yticks([])
        inset.set_title("core (zoomed)", fontsize=8)
        _label(inset, xy_km, world.node_district, names, p90_min, small)
        ax.indicate_inset_zoom(inset, edgecolor="0.3")
    fig.colorbar(roads, ax=ax, shrink=0.6, label="p90 time to first arrival (minutes)")
    fig.tight_layout()
    return fig


def _roads(segments: np.ndarray, values: np.ndarray, limits: tuple[float, float],
           width: float) -> LineCollection:
    roads = LineCollection(list(segments), cmap="viridis_r", linewidths=width,
                           rasterized=True)
    roads.set_array(values)
    roads.set_clim(*limits)
    return roads


def _label(ax: Axes, xy_km: np.ndarray, node_district: np.ndarray, names: list[str],
           p90_min: np.ndarray, codes: list[int]) -> None:
    for code in codes:
        centre = np.median(xy_km[node_district == code], axis=0)
        text = f"{names[code]}\n{p90_min[code]:.1f} min" if np.isfinite(p90_min[code]) else (
            names[code])
        ax.annotate(text, centre, ha="center", va="center", fontsize=7,
                    bbox={"boxstyle": "round,pad=0.2", "fc": "white", "alpha": 0.8, "lw": 0})


def by_hour(results: Results) -> Figure:
    """Return incidents per hour of day and the mean number of busy police units."""
    inc, d = results.incidents, results.dispatches
    days = results.scenario.duration_days
    hour = (inc["t_call_s"] // 3600).astype(int) % 24
    per_hour = np.bincount(hour, minlength=24) / days
    busy = _busy_by_hour_of_day(d, POLICE_KINDS, results.scenario.duration_s)
    fig, ax = subplots(figsize=(8, 4.5))
    if hour.shape[0] == 0:
        return _no_data(fig, ax, "Incidents and busy police units by hour of day",
                        "the run drew no incidents")
    ax.bar(np.arange(24), per_hour, color="tab:blue", alpha=0.6, label="incidents per hour")
    ax.set_xlabel("hour of day")
    ax.set_ylabel("incidents per hour (mean over days)")
    ax.set_xticks(range(0, 24, 2))
    twin = ax.twinx()
    twin.plot(np.arange(24), busy, color="tab:red", marker="o", label="busy police units")
    twin.set_ylabel("busy police units (mean)")
    twin.set_ylim(bottom=0)
    handles = ax.get_legend_handles_labels()[0] + twin.get_legend_handles_labels()[0]
    ax.legend(handles, [str(h.get_label()) for h in handles], loc="upper left", fontsize=8)
    ax.set_title("Incidents and busy police units by hour of day")
    fig.tight_layout()
    return fig


def alerts_histogram(results: Results) -> Figure:
    """Return the histogram of alerts per volunteer over the run (alert fatigue)."""
    alerts = results.volunteer_alerts
    fig, ax = subplots(figsize=(8, 4.5))
    title = "Volunteer alerts per volunteer (fatigue)"
    if alerts.shape[0] == 0:
        return _no_data(fig, ax, title, "the scenario has no volunteers")
    top = int(alerts.max())
    ax.hist(alerts, bins=[b - 0.5 for b in range(top + 2)], color="tab:green")
    ax.axvline(alerts.mean(), color="black", linestyle="--",
               label=f"mean {alerts.mean():.2f} per volunteer")
    ax.legend(fontsize=8)
    ax.set_yscale("log")
    ax.set_xlabel(f"alerts per volunteer over {results.scenario.duration_days:g} day(s)")
    ax.set_ylabel("volunteers (log scale)")
    ax.set_title(title)
    fig.tight_layout()
    return fig


def _no_data(fig: Figure, ax: Axes, title: str, reason: str) -> Figure:
    """Return ``fig`` as an empty panel that says there is no data, and why."""
    ax.set_axis_off()
    ax.set_title(title)
    ax.text(0.5, 0.5, f"no data: {reason}", ha="center", va="center", fontsize=12,
            color="0.35", transform=ax.transAxes)
    return fig


def _cdf(ax: Axes, values: np.ndarray, total: int, label: str, colour: str | None = None,
         width: float = 1.4) -> None:
    finite = np.sort(values[np.isfinite(values)])
    if finite.shape[0] == 0 or total == 0:
        return
    share = np.arange(1, finite.shape[0] + 1) / total
    ax.step(finite, share, where="post", label=label, color=colour, linewidth=width)


def _cdf_axes(ax: Axes, x_max: float, x_label: str, y_label: str, title: str) -> None:
    """Label a CDF plot: 0..x_max by 0..1, grid, legend at the lower right."""
    ax.set_xlim(0, x_max)
    ax.set_ylim(0, 1)
    ax.set_xlabel(x_label)
    ax.set_ylabel(y_label)
    ax.set_title(title)
    ax.grid(alpha=0.3)
    ax.legend(loc="lower right", fontsize=8)


def _busy_by_hour_of_day(d: dict[str, np.ndarray], kinds: tuple[str, ...],
                         duration_s: float) -> np.ndarray:
    """Return the mean number of busy units of ``kinds`` in each hour of the day."""
    rows = np.isin(d["kind"], kinds)
    minutes = int(np.ceil(duration_s / 60.0))
    start = np.clip((d["t_dispatch_s"][rows] // 60).astype(int), 0, minutes)
    end = np.clip((d["t_free_s"][rows] // 60).astype(int), 0, minutes)
    change = np.zeros(minutes + 1)
    np.add.at(change, start, 1.0)
    np.add.at(change, end, -1.0)
    busy = np.cumsum(change)[:minutes]
    hour = (np.arange(minutes) // 60) % 24
    return np.bincount(hour, weights=busy, minlength=24) / np.maximum(
        np.bincount(hour, minlength=24), 1)


def _or_nan(value: float | None) -> float:
    return np.nan if value is None else float(value)


def sweep_figure(summary: pa.Table, keys: list[str],
                 metrics: tuple[str, ...] = ("first_arrival_s.p50", "first_arrival_s.p90")
                 ) -> Figure:
    """Return each metric against the first swept setting, one line per other setting."""
    rows = summary.to_pylist()
    x_key, others = keys[0], keys[1:]
    fig, axes = subplots(1, len(metrics), figsize=(5.5 * len(metrics), 4.2), squeeze=False)
    for ax, metric in zip(axes[0], metrics, strict=True):
        chosen = [r for r in rows if r["metric"] == metric]
        groups = sorted({tuple(r[k] for k in others) for r in chosen})
        for group in groups:
            line = sorted((r for r in chosen if tuple(r[k] for k in others) == group),
                          key=lambda r: _as_number(r[x_key]))
            x = [_as_number(r[x_key]) for r in line]
            mean = np.array([r["mean"] for r in line]) / MINUTES
            low = np.array([r["ci_low"] for r in line]) / MINUTES
            high = np.array([r["ci_high"] for r in line]) / MINUTES
            label = ", ".join(f"{k}={v}" for k, v in zip(others, group, strict=True)) or None
            ax.plot(x, mean, marker="o", label=label)
            ax.fill_between(x, low, high, alpha=0.2)
        ax.set_xlabel(x_key)
        ax.set_ylabel("minutes from the call")
        ax.set_title(metric.replace("_s.", " ").replace("_", " "))
        ax.grid(alpha=0.3)
        if others:
            ax.legend(fontsize=8)
    fig.suptitle("Sweep: mean over replications, 95% CI bands")
    fig.tight_layout()
    return fig


def _as_number(text: str) -> float:
    try:
        return float(text)
    except ValueError:
        return float("nan")


def time_to_find_cdf(rows: list[dict[str, Any]], strategies: list[str], horizon_h: float
                     ) -> Figure:
    """Return the CDF of hours from the report to the find, one line per strategy."""
    fig, ax = subplots(figsize=(8, 5))
    title = "Missing-person search: time to find, by strategy"
    found = np.isfinite([r["time_to_find_s"] for r in rows])
    if not found.any():
        return _no_data(fig, ax, title, f"no strategy found the subject within {horizon_h:g} h")
    palette = matplotlib.colormaps["tab20"]  # distinct colours for up to 20 arms: dark ones first
    for k, strategy in enumerate(strategies):
        hours = np.array([r["time_to_find_s"] for r in rows if r["strategy"] == strategy])
        shade = (2 * k) % 20 + (2 * k // 20) % 2
        _cdf(ax, hours / SECONDS_PER_HOUR, hours.shape[0], strategy,
             colour=matplotlib.colors.to_hex(palette(shade)))
    _cdf_axes(ax, horizon_h, "hours from the report", "share of replications: subject found",
              title)
    fig.tight_layout()
    return fig
