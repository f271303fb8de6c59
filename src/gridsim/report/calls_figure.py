"""The figures of ``gridsim calls fit``: calls by hour against the fit, and QQ plots."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.ticker import NullFormatter
from scipy import stats

from gridsim.calls.fit import CallFit
from gridsim.core.units import HOURS_PER_DAY
from gridsim.report.figures import png_bytes

QQ_POINTS = 400  # quantiles drawn per panel
COLUMNS = 3


def figure_files(fit: CallFit) -> dict[str, bytes]:
    """Return every figure of ``fit`` as PNG bytes, by file name."""
    handling = fit.payload["handling_delay_s"]
    return {
        "calls_by_hour.png": png_bytes(calls_by_hour(fit)),
        "on_scene_qq.png": png_bytes(qq_figure(
            fit.on_scene_s, {n: t["on_scene_s"] for n, t in fit.payload["types"].items()},
            "On-scene time (first unit on scene to last cleared): log vs fitted log-normal",
            60.0, "min")),
        "handling_delay_qq.png": png_bytes(qq_figure(
            {f"priority {p}": x for p, x in fit.handling_s.items()},
            {f"priority {p}": handling[str(p)] for p in fit.handling_s},
            "Call handling (received to first dispatched): log vs fitted log-normal",
            1.0, "s")),
    }


def _grid(panels: int, title: str) -> tuple[Figure, list[Axes]]:
    rows = max(1, math.ceil(panels / COLUMNS))
    fig = Figure(figsize=(4.2 * COLUMNS, 3.4 * rows))
    axes = [fig.add_subplot(rows, COLUMNS, k + 1) for k in range(max(panels, 1))]
    fig.suptitle(title)
    return fig, axes


def calls_by_hour(fit: CallFit) -> Figure:
    """Return each type's calls by hour of day, day by day, against the fitted mean."""
    types = fit.payload["types"]
    fig, axes = _grid(len(types), f"Calls by hour of day: each of the {fit.days} days and "
                                  "the fit (Poisson band: where 95% of days should fall)")
    hours = np.arange(HOURS_PER_DAY)
    jitter = np.linspace(-0.25, 0.25, fit.days)  # days side by side within an hour
    for ax, (name, result) in zip(axes, types.items(), strict=False):
        index = fit.log.type_names.index(name)
        rows = fit.log.type_index == index
        cells = fit.day[rows] * HOURS_PER_DAY + fit.hour[rows]
        per_day = np.bincount(cells, minlength=fit.days * HOURS_PER_DAY)[
            : fit.days * HOURS_PER_DAY].reshape(fit.days, HOURS_PER_DAY)
        mean = result["rate_per_day"]["value"] * np.asarray(
            result["hourly_profile"]["value"]) / HOURS_PER_DAY
        ax.plot((hours[None, :] + jitter[:, None]).ravel(), per_day.ravel(), ".",
                color="0.6", markersize=3, label="one day")
        ax.fill_between(hours, stats.poisson.ppf(0.025, mean), stats.poisson.ppf(0.975, mean),
                        step="mid", color="tab:blue", alpha=0.2, label="95% Poisson band")
        ax.step(hours, mean, where="mid", color="tab:blue", label="fitted mean")
        dispersion = result["rate_per_day"]["daily_counts"]["dispersion_index"]
        extra = f", daily dispersion {dispersion:.2f}" if dispersion is not None else ""
        ax.set_title(f"{name}: {result['calls']:,} calls{extra}", fontsize=9)
        ax.set_xlabel("hour of day (local)")
        ax.set_ylabel("calls in the hour")
        ax.set_xticks(range(0, 24, 3))
    axes[0].legend(fontsize=7, loc="upper left")
    for ax in axes[len(types):]:
        ax.set_axis_off()
    fig.tight_layout()
    return fig


def qq_figure(samples: dict[str, np.ndarray], fits: dict[str, Any], title: str,
              unit_s: float, unit: str) -> Figure:
    """Return QQ plots of each sample against its fitted log-normal (log-log axes)."""
    fig, axes = _grid(len(samples), title)
    for ax, (name, values) in zip(axes, samples.items(), strict=False):
        fit = fits[name]
        positive = np.sort(values[values > 0])
        if "lognormal" not in fit or positive.size < 2:
            ax.text(0.5, 0.5, f"{name}: too few durations", ha="center", va="center",
                    transform=ax.transAxes)
            ax.set_axis_off()
            continue
        ln = fit["lognormal"]
        probs = (np.arange(min(QQ_POINTS, positive.size)) + 0.5) / min(QQ_POINTS, positive.size)
        observed = np.quantile(positive, probs) / unit_s
        fitted = np.exp(ln["mu"] + ln["sigma"] * stats.norm.ppf(probs)) / unit_s
        ax.loglog(fitted, observed, ".", markersize=3, color="tab:blue")
        for axis in (ax.xaxis, ax.yaxis):
            axis.set_minor_formatter(NullFormatter())
        low, high = min(fitted.min(), observed.min()), max(fitted.max(), observed.max())
        ax.plot([low, high], [low, high], color="0.3", linewidth=1)
        verdict = "fits" if fit["lognormal_fits"] else "fits badly"
        ax.set_title(f"{name}: n {fit['n']:,}, KS {fit['ks_distance']:.3f} ({verdict})",
                     fontsize=9)
        ax.set_xlabel(f"fitted log-normal quantile ({unit})")
        ax.set_ylabel(f"observed quantile ({unit})")
    for ax in axes[len(samples):]:
        ax.set_axis_off()
    fig.tight_layout()
    return fig
