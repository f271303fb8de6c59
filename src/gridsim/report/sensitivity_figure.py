"""The sensitivity figure: one tornado panel per metric, settings sorted by importance."""

from __future__ import annotations

import math

import numpy as np
from matplotlib.figure import Figure

from gridsim.report.canvas import subplots
from gridsim.studies.sensitivities import IMPORTANCE, SensitivityResult

PANELS_PER_ROW = 3
LABELS = {"mu_star": "mu* (mean |effect|)", "sigma": "sigma (spread of the effects)",
          "S1": "S1 (alone)", "ST": "ST (with interactions)"}


def sensitivity_figure(result: SensitivityResult) -> Figure:
    """Return horizontal bars per metric: Morris mu* (and sigma) or Sobol' S1 and ST.

    The most important setting is on top; error bars are the bootstrap 95% CIs.
    """
    rows = result.indices.to_pylist()
    shown = ("mu_star", "sigma") if result.method == "morris" else ("S1", "ST")
    count = len(result.metrics)
    columns = min(PANELS_PER_ROW, count)
    lines = math.ceil(count / columns)
    height = 0.45 * len(result.factors) + 1.6
    fig, axes = subplots(lines, columns, figsize=(5.2 * columns, height * lines),
                             squeeze=False)
    for ax in axes.flat[count:]:
        ax.set_visible(False)
    for ax, metric in zip(axes.flat, result.metrics, strict=False):
        mine = [r for r in rows if r["metric"] == metric]
        order = sorted({r["parameter"]: r["rank"] for r in mine}.items(), key=lambda kv: kv[1])
        names = [name for name, _ in order]
        y = np.arange(len(names))[::-1].astype(float)
        width = 0.8 / len(shown)
        for k, index in enumerate(shown):
            cell = {r["parameter"]: r for r in mine if r["index"] == index}
            value = np.array([cell[n]["value"] for n in names], dtype=float)
            low = np.array([_or_nan(cell[n]["ci_low"]) for n in names], dtype=float)
            high = np.array([_or_nan(cell[n]["ci_high"]) for n in names], dtype=float)
            errors = (None if np.isnan(low).all() else
                      np.nan_to_num(np.vstack([value - low, high - value])).clip(min=0.0))
            offset = (len(shown) - 1) / 2 * width - k * width
            ax.barh(y + offset, np.nan_to_num(value), height=width, label=LABELS[index],
                    xerr=errors, capsize=3, color=("tab:blue", "tab:orange")[k],
                    alpha=1.0 if index == IMPORTANCE[result.method] else 0.6)
        if not any(r["value"] for r in mine if r["value"] == r["value"]):
            ax.text(0.5, 0.5, "no setting changed this metric", transform=ax.transAxes,
                    ha="center", va="center", fontsize=9, color="grey")
        ax.set_yticks(y, names, fontsize=8)
        ax.axvline(0.0, color="black", linewidth=0.8)
        ax.grid(axis="x", alpha=0.3)
        ax.set_title(metric, fontsize=10)
        n = mine[0]["n"] if mine else 0
        ax.set_xlabel(("change per full range (metric units)" if result.method == "morris"
                       else "share of the variance") + f"; n = {n}", fontsize=8)
        ax.legend(fontsize=7, loc="best")
    what = (f"Morris screening, {result.blocks} trajectories" if result.method == "morris"
            else f"Sobol' indices, {result.blocks} base samples")
    fig.suptitle(f"Sensitivity: {what}; bars: 95% bootstrap CI; most important on top")
    fig.tight_layout()
    return fig


def _or_nan(value: float | None) -> float:
    return np.nan if value is None else float(value)
