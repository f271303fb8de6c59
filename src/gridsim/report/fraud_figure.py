"""The anti-fraud study's figures: each sweep's effect, and interception by channel and hour."""

from __future__ import annotations

from typing import Any

import numpy as np
from matplotlib.figure import Figure

from gridsim.report.canvas import subplots

SWEEP_METRICS = (("prevented_share", "loss prevented (share of money)"),
                 ("stopped_before_last_share", "stopped before the last transfer"))


def sweep_figure(summary: dict[str, Any]) -> Figure:
    """Return one panel per sweep: loss prevented and interception against the setting."""
    keys = list(dict.fromkeys(s["key"] for s in summary["sweeps"]))
    fig, axes = subplots(1, max(len(keys), 1), figsize=(4.2 * max(len(keys), 1), 4.2),
                             squeeze=False)
    if not keys:
        ax = axes[0][0]
        ax.set_axis_off()
        ax.text(0.5, 0.5, "no data: the scenario's [fraud] has no sweeps", ha="center",
                va="center", color="0.35", transform=ax.transAxes)
        return fig
    for ax, key in zip(axes[0], keys, strict=True):
        rows = [s for s in summary["sweeps"] if s["key"] == key]
        x = np.array([r["value"] for r in rows], dtype=float)
        for metric, label in SWEEP_METRICS:
            mean = np.array([_num(r[metric]["mean"]) for r in rows])
            low = np.array([_num(r[metric]["ci"][0]) for r in rows])
            high = np.array([_num(r[metric]["ci"][1]) for r in rows])
            ax.errorbar(x, mean, yerr=[mean - low, high - mean], marker="o", capsize=3,
                        label=label)
        ax.set_xlabel(key)
        ax.set_ylim(0.0, 1.0)
        ax.grid(alpha=0.3)
        ax.set_title(f"{rows[0][SWEEP_METRICS[0][0]]['n']} replications per value",
                     fontsize=9)
    axes[0][0].set_ylabel("share, mean over replications (95% CI)")
    axes[0][0].legend(fontsize=8, loc="lower left")
    fig.suptitle("Anti-fraud study: each setting varied alone (common random numbers)")
    fig.tight_layout()
    return fig


def interception_figure(summary: dict[str, Any]) -> Figure:
    """Return the shares stopped before the first and last transfer by channel and by hour."""
    fig, (left, right) = subplots(1, 2, figsize=(11, 4.2),
                                      gridspec_kw={"width_ratios": [1, 2.2]})
    channels = list(summary["by_channel"])
    width = 0.38
    for offset, (key, label) in enumerate((("stopped_before_first", "before the first"),
                                           ("stopped_before_last", "before the last"))):
        p = np.array([_num(summary["by_channel"][c][key]["p"]) for c in channels])
        low = np.array([_num(summary["by_channel"][c][key]["ci"][0]) for c in channels])
        high = np.array([_num(summary["by_channel"][c][key]["ci"][1]) for c in channels])
        left.bar(np.arange(len(channels)) + (offset - 0.5) * width, p, width,
                 yerr=[p - low, high - p], capsize=3, label=f"stopped {label} transfer")
    left.set_xticks(np.arange(len(channels)),
                    [f"{c}\n(n={summary['by_channel'][c]['cases']:,})" for c in channels])
    left.set_ylim(0.0, 1.0)
    left.set_ylabel("share of cases (95% Wilson CI)")
    left.set_title("by payment channel")
    left.legend(fontsize=8)
    hours = np.arange(24)
    for key, label in (("stopped_before_first", "before the first"),
                       ("stopped_before_last", "before the last")):
        p = np.array([_num(h[key]["p"]) for h in summary["by_hour"]])
        low = np.array([_num(h[key]["ci"][0]) for h in summary["by_hour"]])
        high = np.array([_num(h[key]["ci"][1]) for h in summary["by_hour"]])
        right.plot(hours, p, marker="o", label=f"stopped {label} transfer")
        right.fill_between(hours, low, high, alpha=0.2)
    right.set_xlabel("hour of the fraud contact")
    right.set_xticks(range(0, 24, 3))
    right.set_ylim(0.0, 1.0)
    right.set_title("by hour of day (CI bands; few cases at night)")
    right.grid(alpha=0.3)
    fig.suptitle("Anti-fraud study: cases intercepted")
    fig.tight_layout()
    return fig


def _num(value: float | None) -> float:
    return float("nan") if value is None else float(value)
