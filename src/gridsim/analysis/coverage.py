"""Coverage and equity by cell: who waits longest, and how unequal the waits are.

A cell is one of the scenario's grids (H3 cells or squares on an imported city) or one
police station's area (``[coverage] cells``). For every cell: its residents, its counted
incidents, p50/p90 of the first and the police arrival with distribution-free 95% CIs
(only where the cell has ``min_incidents``; fewer make a p90 meaningless), and the share
of its incidents reached within each ring (the Nanjing police "1-3-5 minute" circles by
default) by each responder group. City-wide: the population-weighted share within each
ring, the population-weighted Gini of the cells' p90, and the worst ``worst_share`` of
cells by p90 with who lives there (the Rawlsian view: judge a plan by its worst-served).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy import stats

from gridsim.core.stats import rounded_ratio, rounded_share
from gridsim.scenario.schema import Coverage
from gridsim.sim.records import KIND_CODE, POLICE_KINDS, SimulationRecords

CI_LEVEL = 0.95
# responder groups whose arrival the rings are measured for: any responder first, then each
GROUPS: dict[str, tuple[str, ...] | None] = {
    "any": None,
    "police": POLICE_KINDS,
    "grid_worker": ("grid_worker",),
    "volunteer": ("volunteer",),
    "watch_point": ("watch_point",),
}
ARRIVALS = ("first", "police")  # the percentile columns: first responder, first police


@dataclass(frozen=True, eq=False)
class CellCoverage:
    """The per-cell table (one entry per cell, column arrays) and the city-wide summary."""

    columns: dict[str, np.ndarray]
    summary: dict[str, Any]


def node_cells(settings: Coverage, node_grid: np.ndarray, node_station: np.ndarray
               ) -> np.ndarray:
    """Return each road node's cell index under ``settings.cells``."""
    return np.asarray(node_grid if settings.cells == "grids" else node_station, dtype=np.int64)


def group_arrivals_s(t_call_s: np.ndarray, dispatches: dict[str, np.ndarray]
                     ) -> dict[str, np.ndarray]:
    """Return, per responder group, each incident's earliest arrival after the call (nan: none).

    ``dispatches`` holds the log's ``incident``, ``kind`` (codes) and ``t_arrive_s``.
    """
    incident = dispatches["incident"]
    delay = dispatches["t_arrive_s"] - t_call_s[incident]
    arrivals = {}
    for group, kinds in GROUPS.items():
        rows = (np.ones(delay.shape[0], dtype=bool) if kinds is None
                else np.isin(dispatches["kind"], [KIND_CODE[k] for k in kinds]))
        best = np.full(t_call_s.shape[0], np.inf)
        np.minimum.at(best, incident[rows], delay[rows])
        arrivals[group] = np.where(np.isfinite(best), best, np.nan)
    return arrivals


def cell_coverage(records: SimulationRecords, settings: Coverage, cell_of_node: np.ndarray,
                  node_population: np.ndarray, node_district: np.ndarray,
                  district_names: tuple[str, ...], counted: np.ndarray) -> CellCoverage:
    """Return the coverage table and equity summary of the ``counted`` incidents."""
    cell_count = int(cell_of_node.max()) + 1
    population = np.bincount(cell_of_node, weights=node_population, minlength=cell_count)
    cell_district = cell_districts(cell_of_node, node_district, node_population, cell_count)
    incident_cell = cell_of_node[records.incidents.node][counted]
    incidents = np.bincount(incident_cell, minlength=cell_count)
    arrivals = {g: a[counted] for g, a in group_arrivals_s(records.incidents.t_call_s,
                                                           records.dispatches).items()}
    columns: dict[str, np.ndarray] = {
        "cell": np.arange(cell_count, dtype=np.int32),
        "district": cell_district.astype(np.int16),
        "population": population,
        "incidents": incidents.astype(np.int64),
    }
    enough = incidents >= settings.min_incidents
    for name, group in zip(ARRIVALS, ("any", "police"), strict=True):
        for label, q in (("p50", 0.5), ("p90", 0.9)):
            value, lo, hi = cell_quantiles(incident_cell, arrivals[group], cell_count, q,
                                           settings.min_incidents)
            columns[f"{name}_arrival_{label}_s"] = value
            columns[f"{name}_arrival_{label}_ci_low_s"] = lo
            columns[f"{name}_arrival_{label}_ci_high_s"] = hi
    for group, arrival in arrivals.items():
        for ring_s in settings.rings_s:
            within = np.bincount(incident_cell, weights=(arrival <= ring_s).astype(float),
                                 minlength=cell_count)
            with np.errstate(invalid="ignore", divide="ignore"):
                columns[f"within_{ring_s:g}s_{group}"] = np.where(
                    incidents > 0, within / np.maximum(incidents, 1), np.nan)
    summary = _equity(columns, settings, enough, district_names, arrivals)
    return CellCoverage(columns=columns, summary=summary)


def cell_quantiles(cell: np.ndarray, values: np.ndarray, cell_count: int, q: float,
                   min_count: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Return each cell's q-quantile of its finite ``values`` and a 95% CI (nan: too few).

    The quantile interpolates linearly as ``numpy.quantile`` does; the CI is the
    distribution-free order-statistic interval of ``gridsim.analysis.metrics.quantile_ci``.
    """
    finite = np.isfinite(values)
    cell, values = cell[finite], values[finite]
    order = np.lexsort((values, cell))
    cell, values = cell[order], values[order]
    n = np.bincount(cell, minlength=cell_count)
    start = np.concatenate([[0], np.cumsum(n)[:-1]])
    ok = n >= max(min_count, 1)
    quantile = np.full(cell_count, np.nan)
    lo = np.full(cell_count, np.nan)
    hi = np.full(cell_count, np.nan)
    if not ok.any():
        return quantile, lo, hi
    n_ok, start_ok = n[ok], start[ok]
    position = (n_ok - 1) * q
    below = np.floor(position).astype(np.int64)
    above = np.minimum(below + 1, n_ok - 1)
    fraction = position - below
    low_value, high_value = values[start_ok + below], values[start_ok + above]
    quantile[ok] = low_value + (high_value - low_value) * fraction
    alpha = (1.0 - CI_LEVEL) / 2.0
    rank_lo = np.maximum(stats.binom.ppf(alpha, n_ok, q).astype(np.int64) - 1, 0)
    rank_hi = np.minimum(stats.binom.ppf(1.0 - alpha, n_ok, q).astype(np.int64), n_ok - 1)
    lo[ok] = values[start_ok + rank_lo]
    hi[ok] = values[start_ok + rank_hi]
    return quantile, lo, hi


def weighted_gini(values: np.ndarray, weights: np.ndarray) -> float:
    """Return the Gini coefficient of ``values`` with non-negative ``weights``.

    Half the weighted mean absolute difference over the weighted mean:
    G = sum_ij w_i w_j |x_i - x_j| / (2 W^2 mean), computed in O(n log n) after a sort.
    """
    order = np.argsort(values, kind="stable")
    x, w = values[order], weights[order]
    total = float(w.sum())
    if total <= 0:
        return 0.0
    mean = float((w * x).sum() / total)
    if mean <= 0:
        return 0.0
    below_weight = np.cumsum(w) - w  # weight of the values below each x_i
    below_mass = np.cumsum(w * x) - w * x
    # sum over pairs i > j of w_i w_j (x_i - x_j), counted once; the full sum is twice it
    pairs = float((w * (x * below_weight - below_mass)).sum())
    return 2.0 * pairs / (2.0 * total * total * mean)


def cell_districts(cell_of_node: np.ndarray, node_district: np.ndarray,
              node_population: np.ndarray, cell_count: int) -> np.ndarray:
    """Return each cell's district: the one most of its residents (or nodes) live in."""
    district_count = int(node_district.max()) + 1
    weight = node_population + 1e-9  # a cell with no residents goes by its nodes
    table = np.bincount(cell_of_node * district_count + node_district, weights=weight,
                        minlength=cell_count * district_count)
    return table.reshape(cell_count, district_count).argmax(axis=1)


def _equity(columns: dict[str, np.ndarray], settings: Coverage, enough: np.ndarray,
            district_names: tuple[str, ...], arrivals: dict[str, np.ndarray]
            ) -> dict[str, Any]:
    """Return the city-wide coverage and equity figures."""
    population, incidents = columns["population"], columns["incidents"]
    with_calls = incidents > 0
    weight = population[with_calls]
    ring_shares: dict[str, dict[str, float | None]] = {}
    for group in arrivals:
        ring_shares[group] = {}
        for ring_s in settings.rings_s:
            share = columns[f"within_{ring_s:g}s_{group}"][with_calls]
            ring_shares[group][f"{ring_s:g}"] = (
                round(float((share * weight).sum() / weight.sum()), 4)
                if weight.sum() > 0 else None)
    p90 = columns["first_arrival_p90_s"]
    rated = enough & np.isfinite(p90)
    out: dict[str, Any] = {
        "cells": settings.cells,
        "cell_count": int(population.shape[0]),
        "rings_s": list(settings.rings_s),
        "min_incidents": settings.min_incidents,
        "incident_share_within_s": {
            group: {f"{r:g}": rounded_share(arrival <= r) for r in settings.rings_s}
            for group, arrival in arrivals.items()},
        "population_weighted_share_within_s": ring_shares,
        "cells_with_incidents": int(with_calls.sum()),
        "population_share_in_cells_with_incidents": rounded_ratio(weight.sum(), population.sum()),
        "cells_rated": int(rated.sum()),
        "population_share_in_cells_rated": rounded_ratio(population[rated].sum(), population.sum()),
        "gini_of_p90_first_arrival": None,
        "worst": None,
    }
    if rated.sum() < 2:
        return out
    out["gini_of_p90_first_arrival"] = round(weighted_gini(p90[rated], population[rated]
                                                           + 1e-9), 4)
    rated_cells = np.flatnonzero(rated)
    worst_count = max(1, int(np.ceil(settings.worst_share * rated_cells.shape[0])))
    worst = rated_cells[np.argsort(-p90[rated_cells], kind="stable")[:worst_count]]
    rest = np.setdiff1d(rated_cells, worst)
    district = columns["district"]
    residents = np.bincount(district[worst], weights=population[worst],
                            minlength=len(district_names))
    out["worst"] = {
        "share_of_rated_cells": settings.worst_share,
        "cells": worst.astype(int).tolist(),
        "population": round(float(population[worst].sum())),
        "population_share": rounded_ratio(population[worst].sum(), population.sum()),
        "incidents": int(incidents[worst].sum()),
        "p90_first_arrival_s_mean": round(float(p90[worst].mean()), 1),
        "p90_first_arrival_s_mean_elsewhere": (round(float(p90[rest].mean()), 1)
                                               if rest.shape[0] else None),
        "residents_by_district": {district_names[d]: round(float(residents[d]))
                                  for d in np.flatnonzero(residents > 0)},
        "worst_cell": {"cell": int(worst[0]), "district": district_names[district[worst[0]]],
                       "population": round(float(population[worst[0]])),
                       "incidents": int(incidents[worst[0]]),
                       "p90_first_arrival_s": round(float(p90[worst[0]]), 1)},
    }
    return out

