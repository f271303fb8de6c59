"""New figures without pyplot: no global figure registry and no backend chosen on import.

Figures are plain ``matplotlib.figure.Figure`` objects; saving one to PNG renders it with
Agg, and a notebook shows it inline, whatever backend the caller has picked.
"""

from __future__ import annotations

from typing import Any

from matplotlib.figure import Figure


def subplots(nrows: int = 1, ncols: int = 1, *, figsize: tuple[float, float],
             **kwargs: Any) -> tuple[Figure, Any]:
    """Return a new figure and its grid of axes (``Figure.subplots``' keywords)."""
    fig = Figure(figsize=figsize)
    return fig, fig.subplots(nrows, ncols, **kwargs)
