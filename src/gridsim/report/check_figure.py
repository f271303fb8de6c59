"""The figures of ``gridsim calls check``: QQ plots and response by hour, recorded vs simulated."""

from __future__ import annotations

from typing import Any

import numpy as np

from gridsim.report.canvas import subplots
from gridsim.report.figures import png_bytes

TITLES = {"response_s": "response (received to first unit on scene)",
          "handling_s": "handling (received to first dispatch)",
          "turnout_s": "first unit's turnout (dispatched to en route)",
          "travel_s": "first unit's travel (en route to on scene)"}
BAND = 0.10  # the shaded band: within 10% of the recorded quantile


def check_figures(check: dict[str, Any]) -> dict[str, bytes]:
    """Return the check's figures as PNG bytes, by file name."""
    return {"check_qq.png": png_bytes(qq_figure(check)),
            "check_by_hour.png": png_bytes(by_hour_figure(check))}


def qq_figure(check: dict[str, Any]) -> Any:
    """Return one QQ panel per measure: simulated against recorded quantiles (minutes)."""
    fig, axes = subplots(2, 2, figsize=(10.0, 9.0))
    for ax, (measure, title) in zip(axes.ravel(), TITLES.items(), strict=True):
        q = check["quantiles"][measure]
        ax.set_title(title, fontsize=10)
        if q["recorded"] is None or q["simulated"] is None:
            ax.text(0.5, 0.5, "no data", ha="center", transform=ax.transAxes)
            continue
        rec, sim = np.array(q["recorded"]) / 60.0, np.array(q["simulated"]) / 60.0
        top = float(max(rec.max(), sim.max())) * 1.05 or 1.0
        line = np.array([0.0, top])
        ax.fill_between(line, line * (1 - BAND), line * (1 + BAND), color="0.9",
                        label=f"within {BAND:.0%}")
        ax.plot(line, line, color="0.5", lw=0.8)
        ax.plot(rec, sim, ".", ms=4, label="1st..99th percentile")
        for p_mark in (0.5, 0.9):
            k = int(round(p_mark * 100)) - 1
            ax.annotate(f"p{int(p_mark * 100)}", (rec[k], sim[k]), fontsize=8,
                        xytext=(4, -10), textcoords="offset points")
        ax.set_xlim(0, top)
        ax.set_ylim(0, top)
        ax.set_xlabel("recorded (min)")
        ax.set_ylabel("simulated (min)")
        ax.legend(fontsize=8, loc="upper left")
    fig.suptitle(f"gridsim calls check: {check['scenario']}, {check['calls']['replayed']:,} "
                 "calls replayed")
    fig.tight_layout()
    return fig


def by_hour_figure(check: dict[str, Any]) -> Any:
    """Return response p50 and p90 by hour of day, recorded and simulated (minutes)."""
    fig, ax = subplots(figsize=(9.0, 4.5))
    by_hour = check["figures"]["response_s"]["by_hour"]
    hours = [h for h in range(24) if "p50" in by_hour.get(str(h), {})]
    for label, style in (("p50", "-"), ("p90", "--")):
        for source, colour in (("recorded", "C0"), ("simulated", "C1")):
            values = [by_hour[str(h)][label][source] / 60.0 for h in hours]
            ax.plot(hours, values, style, color=colour, marker=".",
                    label=f"{source} {label}")
    ax.set_xlabel("hour of day the call was received (local)")
    ax.set_ylabel("response (min)")
    ax.set_xticks(range(0, 24, 3))
    ax.set_title("Response by hour of day: recorded and simulated")
    ax.legend(fontsize=8, ncol=2)
    fig.tight_layout()
    return fig
