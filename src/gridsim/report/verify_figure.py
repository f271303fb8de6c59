"""The validation figure: simulated over analytic for every verify comparison, with CIs."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

from gridsim.core.output import write_marked
from gridsim.report.canvas import subplots
from gridsim.report.figures import png_bytes
from gridsim.validation.verify import Comparison


def save_verify_figure(rows: Sequence[Comparison], path: Path) -> None:
    """Write a PNG of simulated / analytic (with CI bars) for every row; 1 is a match."""
    ratio = np.array([r.simulated / r.analytic for r in rows])
    low = np.array([r.ci_low / r.analytic for r in rows])
    high = np.array([r.ci_high / r.analytic for r in rows])
    y = np.arange(len(rows))[::-1]
    fig, ax = subplots(figsize=(8.0, 0.32 * len(rows) + 1.6))
    ok = np.array([r.ok for r in rows])
    for mask, colour, label in ((ok, "tab:blue", "analytic inside CI"),
                                (~ok, "tab:red", "analytic outside CI")):
        if mask.any():
            ax.errorbar(ratio[mask], y[mask], fmt="o", markersize=4, color=colour,
                        xerr=[(ratio - low)[mask], (high - ratio)[mask]], elinewidth=2,
                        capsize=3, label=label)
    ax.legend(loc="lower right", fontsize=8)
    ax.axvline(1.0, color="black", linewidth=1)
    ax.set_yticks(y, [f"{r.name}: {r.metric}" for r in rows], fontsize=8)
    ax.set_xlabel("simulated / analytic (bars: simultaneous 95% CI)")
    ax.set_title("gridsim verify: the engine against queueing theory")
    ax.grid(axis="x", alpha=0.3)
    fig.tight_layout()
    write_marked(path, png_bytes(fig))
