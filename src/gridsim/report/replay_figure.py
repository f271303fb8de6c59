"""Recorded vs simulated response of a replay run: a QQ plot and a per-call scatter."""

from __future__ import annotations

import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from gridsim.report.canvas import subplots

MINUTES = 60.0
QQ_LEVELS = np.arange(1, 100) / 100.0  # the 1st to the 99th percentile
MARKED = {0.5: "median", 0.9: "p90"}
AXIS_QUANTILE = 0.995  # the scatter's axes end here, so a few stray calls do not squash it
TITLE = "Response from the call to the first unit on scene: recorded (log) vs simulated"


def replay_figure(replay: dict[str, np.ndarray]) -> Figure:
    """Return the QQ plot and the scatter of simulated vs recorded response (minutes).

    ``replay`` holds replay.parquet's columns; only calls with both times are drawn.
    """
    recorded = replay["recorded_response_s"] / MINUTES
    simulated = replay["simulated_response_s"] / MINUTES
    both = np.isfinite(recorded) & np.isfinite(simulated)
    fig, (qq, scatter) = subplots(1, 2, figsize=(11, 5.2))
    if not both.any():
        for ax in (qq, scatter):
            ax.set_axis_off()
        fig.suptitle(TITLE)
        qq.text(1.1, 0.5, "no data: no replayed call has both a recorded and a simulated "
                "response (the log has no on-scene times?)", ha="center", va="center",
                fontsize=12, color="0.35", transform=qq.transAxes)
        return fig
    rec, sim = recorded[both], simulated[both]
    _qq(qq, rec, sim)
    _scatter(scatter, rec, sim, replay["type"][both] if "type" in replay else None)
    ratio = np.median(sim) / np.median(rec)
    fig.suptitle(f"{TITLE}\n{rec.shape[0]:,} calls; median simulated / recorded = {ratio:.2f},"
                 f" median absolute error {np.median(np.abs(sim - rec)):.1f} min")
    fig.tight_layout()
    return fig


def _qq(ax: Axes, rec: np.ndarray, sim: np.ndarray) -> None:
    """Draw simulated quantiles against recorded ones, with the line of agreement."""
    x, y = np.quantile(rec, QQ_LEVELS), np.quantile(sim, QQ_LEVELS)
    top = 1.05 * max(x[-1], y[-1])
    ax.plot([0, top], [0, top], color="0.5", linestyle="--", linewidth=1,
            label="simulated = recorded")
    ax.plot(x, y, "o", markersize=3.5, color="tab:blue", label="percentiles 1-99")
    for q, label in MARKED.items():
        px, py = np.quantile(rec, q), np.quantile(sim, q)
        ax.plot(px, py, "o", markersize=8, markerfacecolor="none", color="tab:red")
        ax.annotate(f"{label}: recorded {px:.1f}, simulated {py:.1f}", (px, py),
                    textcoords="offset points", xytext=(8, -12), fontsize=8, color="tab:red")
    ax.set_xlim(0, top)
    ax.set_ylim(0, top)
    ax.set_aspect("equal")
    ax.set_xlabel("recorded response (minutes)")
    ax.set_ylabel("simulated response (minutes)")
    ax.set_title("QQ plot: percentiles of the two distributions")
    ax.grid(alpha=0.3)
    ax.legend(loc="upper left", fontsize=8)


def _scatter(ax: Axes, rec: np.ndarray, sim: np.ndarray, kind: np.ndarray | None) -> None:
    """Draw one point per call (coloured by incident type), with the line of agreement."""
    top = 1.05 * max(np.quantile(rec, AXIS_QUANTILE), np.quantile(sim, AXIS_QUANTILE))
    ax.plot([0, top], [0, top], color="0.5", linestyle="--", linewidth=1)
    groups = [("calls", np.ones(rec.shape[0], dtype=bool))] if kind is None else [
        (str(name), kind == name) for name in sorted(set(kind.tolist()))]
    for name, rows in groups:
        ax.scatter(rec[rows], sim[rows], s=6, alpha=0.35, linewidths=0,
                   label=f"{name} ({int(rows.sum()):,})")
    outside = int(((rec > top) | (sim > top)).sum())
    ax.set_xlim(0, top)
    ax.set_ylim(0, top)
    ax.set_aspect("equal")
    ax.set_xlabel("recorded response (minutes)")
    ax.set_ylabel("simulated response (minutes)")
    ax.set_title("Each call" + (f" ({outside:,} beyond the axes)" if outside else ""))
    ax.grid(alpha=0.3)
    legend = ax.legend(loc="upper left", fontsize=8, markerscale=2.5)
    for handle in legend.legend_handles:
        if handle is not None:
            handle.set_alpha(1.0)
