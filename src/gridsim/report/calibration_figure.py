"""The posterior-predictive check of a calibration as a figure.

Each target beside its simulated distribution under the posterior.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pyarrow as pa
from matplotlib.figure import Figure

from gridsim.report.canvas import subplots
from gridsim.report.figures import png_bytes
from gridsim.studies.targets import Targets

BAND_SD = 2.0  # the observed value's band: this many standard errors either side


def predictive_figure(report: dict[str, Any], predictive: pa.Table, targets: Targets) -> Figure:
    """Return one panel per target: simulated draws (histogram), observed value and band."""
    names = list(targets.targets)
    fig, axes = subplots(1, len(names), figsize=(4.4 * len(names), 4.0), squeeze=False)
    target_column = np.array(predictive.column("target").to_pylist())
    value_column = predictive.column("value").to_numpy()
    for ax, name in zip(axes[0], names, strict=True):
        target = targets.targets[name]
        sims = value_column[target_column == name]
        row = report["targets"][name]
        ax.hist(sims, bins=min(20, max(5, sims.shape[0] // 3)), color="#4f81a8", zorder=2,
                edgecolor="white", label=f"simulated ({sims.shape[0]} posterior draws)")
        ax.axvspan(target.value - BAND_SD * target.sd, target.value + BAND_SD * target.sd,
                   color="#e6a23c", alpha=0.2, zorder=0, label=f"observed ± {BAND_SD:g} SE")
        ax.axvline(target.value, color="#c0392b", linewidth=2, label="observed")
        verdict = "reproduced" if row["ok"] else "NOT reproduced"
        ax.set_title(f"{name}\n{target.metric}\n{verdict} (z = {row['z']:.1f})", fontsize=8)
        ax.set_xlabel("value")
        ax.set_ylabel("draws")
    handles, labels = axes[0][0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="lower center", ncol=3, fontsize=8, frameon=False)
    fig.suptitle("Posterior-predictive check: each target against the calibrated model",
                 fontsize=11)
    fig.tight_layout(rect=(0.0, 0.08, 1.0, 1.0))
    return fig


def predictive_png(report: dict[str, Any], predictive: pa.Table, targets: Targets) -> bytes:
    """Return the predictive check as PNG bytes (``gridsim calibrate``'s ``predictive.png``)."""
    return png_bytes(predictive_figure(report, predictive, targets))
