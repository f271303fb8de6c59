"""Fit unit fleets and their dispatch centre to a CAD log with one row per responding unit.

What is fitted, every time as an empirical distribution (quantiles, drawn by linear
interpolation) from the log's own intervals:

* handling, received -> the call's first dispatch, by call priority;
* per unit type (a fleet): turnout (dispatched -> en route), time on scene (on scene ->
  available again, so a medic's transport is the medic's), the lag of a unit sent after
  the call's first, its units (distinct unit ids, at the station the mapping's
  ``unit_station`` reads from the id, else with no station) and, for units with no
  station, their travel by priority;
* per incident type and priority, the response plans sent (units per fleet) and how often;
* with the city's roads: the drive of a stationed unit, by priority, as
  ``(overhead + factor x routed free-flow time) x residual`` (a least-absolute-deviation
  line through each row's recorded travel against the routed time from the unit's
  station to the call; the residual is the spread around it), with its residuals by hour.

Timestamps to the minute (every one a whole minute) are de-rounded. An interval ``X``
between two stamps cut to the minute is logged as ``D = floor(U + X)`` (``U``: where in
its minute the first event fell, uniform), so the logged distribution ``G`` averages the
true one ``F`` over each minute: ``G(k) = (F(k) + F(k + 1)) / 2`` when ``F`` is linear
within minutes. ``F`` is solved for by non-negative least squares on the minute masses
(monotone by construction) with a mild smoothness prior, so a fitted distribution cut
again to the minute gives back the logged one instead of a blurred copy. What happens
within a minute cannot be recovered: on test shapes the p50 and p90 come within about 8%
of the truth (tests/test_fleets.py). Where one interval per row is needed (the
drive model's regression), each is drawn from its posterior given ``D``: triangular on
``(D - 1, D + 1)`` (on ``[0, 1)``, falling from 0, when ``D`` is 0). Negative intervals are
left out and counted.
"""

from __future__ import annotations

import re
from collections import Counter
from typing import Any

import numpy as np
from scipy import optimize

from gridsim.calls.mapping import Mapping
from gridsim.calls.read import CallLog, UnitRows, local_seconds
from gridsim.core.rng import stream
from gridsim.core.units import SECONDS_PER_DAY, SECONDS_PER_HOUR, SECONDS_PER_MINUTE
from gridsim.world.build import World

# the quantiles written: every 2.5% to 95%, then finer into the tail (a draw interpolates
# linearly between them, so the last step spreads its share evenly up to the maximum)
P_GRID = np.round(np.r_[np.linspace(0.0, 0.95, 39), 0.96, 0.97, 0.98, 0.99, 0.995, 0.998,
                        0.999, 1.0], 4)
MIN_ROWS = 30  # fewer intervals than this: fitted, but flagged as thin
PLAN_COVER = 0.95  # plans kept per type and priority: the commonest, until this share
MAX_PLANS = 8
SMOOTHING = 0.1  # weight of the de-rounding's smoothness prior (see ``deconvolved``)
DECONVOLVED_MINUTES = 60  # intervals shorter than this are solved for; longer ones spread
FIT_SEED = 20_180_101  # the de-rounding draws: fixed, so a fit is reproducible


def minute_resolution(*times: np.ndarray) -> bool:
    """Return whether every given timestamp is a whole minute (seconds dropped)."""
    finite = np.concatenate([t[np.isfinite(t)] for t in times])
    return bool(finite.size) and bool(np.all(np.mod(finite, SECONDS_PER_MINUTE) == 0.0))


def derounded(interval_s: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Return minute-resolution intervals drawn back from their triangular posterior."""
    jitter = (rng.random(interval_s.shape[0]) - rng.random(interval_s.shape[0]))
    jitter *= SECONDS_PER_MINUTE
    return np.where(interval_s > 0.0, interval_s + jitter, np.abs(jitter))


def deconvolved(minutes: np.ndarray) -> dict[str, Any]:
    """Return an empirical ``Duration`` of intervals logged to the minute (whole minutes).

    The first ``DECONVOLVED_MINUTES`` are solved for (see the module's note); longer
    intervals, where a minute hardly matters, are spread evenly within their minute.
    """
    minutes = minutes.astype(np.int64)
    short = minutes < DECONVOLVED_MINUTES
    share_short = float(short.mean())
    knots_s, cdf = np.zeros(1), np.zeros(1)
    if short.any():
        body = _minute_masses(minutes[short])
        knots_s = np.arange(body.shape[0] + 1) * SECONDS_PER_MINUTE
        cdf = np.r_[0.0, np.cumsum(body)] / body.sum() * share_short
    if not short.all():  # the tail: spread evenly within their minutes (then sorted)
        tail = minutes[~short]
        within = (np.arange(tail.size) + 0.5) / tail.size  # in (0, 1): a fraction of a minute
        tail_s = np.sort((tail + within) * SECONDS_PER_MINUTE)
        knots_s = np.r_[knots_s, tail_s]
        cdf = np.r_[cdf, share_short + (1.0 - share_short) * np.arange(1, tail_s.size + 1)
                    / tail_s.size]
    keep = np.r_[True, np.diff(cdf) > 1e-12]  # strictly rising for the inversion
    quantiles = np.interp(P_GRID, cdf[keep], knots_s[keep])
    return {"dist": "empirical", "p": P_GRID.tolist(),
            "quantiles_s": np.maximum.accumulate(np.round(quantiles, 1)).tolist()}


def _minute_masses(minutes: np.ndarray) -> np.ndarray:
    """Return the true masses of each minute [j, j + 1) behind whole-minute intervals."""
    counts = np.bincount(minutes)
    logged = np.cumsum(counts) / counts.sum()  # G(k) = P(D <= k)
    k = counts.shape[0]
    # G(k) = sum_{j<k} m_j + m_k / 2 for the true masses m_j of minute [j, j + 1)
    rows = [np.tril(np.ones((k, k)), -1) + 0.5 * np.eye(k)]
    targets = [logged]
    if k >= 3:  # the inverse is ill-posed (an alternating pattern is nearly invisible in
        # G): a mild smoothness prior on the masses, their second differences
        curvature = np.zeros((k - 2, k))
        for j in range(k - 2):
            curvature[j, j:j + 3] = (1.0, -2.0, 1.0)
        rows.append(SMOOTHING * curvature)
        targets.append(np.zeros(k - 2))
    rows.append(np.full((1, k), 10.0))  # and the masses sum to one
    targets.append(np.array([10.0]))
    masses: np.ndarray = optimize.lsq_linear(np.vstack(rows), np.concatenate(targets),
                                             bounds=(0.0, 1.0)).x
    return masses


def empirical(values_s: np.ndarray) -> dict[str, Any]:
    """Return an empirical ``Duration`` (as TOML-ready dict) of ``values_s``."""
    quantiles = np.quantile(values_s, P_GRID) if values_s.size else np.zeros(P_GRID.shape)
    quantiles = np.maximum.accumulate(np.round(np.maximum(quantiles, 0.0), 1))
    return {"dist": "empirical", "p": P_GRID.tolist(), "quantiles_s": quantiles.tolist()}


class Intervals:
    """The log's intervals, de-rounded when the log is to the minute, negatives counted."""

    def __init__(self, minute: bool, seed: int = FIT_SEED) -> None:
        """Start counting; ``minute``: the log's times are whole minutes."""
        self.minute = minute
        self.rng = stream(seed, "calls.fleet_fit.deround")
        self.negative: Counter[str] = Counter()

    def of(self, start_s: np.ndarray, end_s: np.ndarray, what: str) -> np.ndarray:
        """Return ``end - start`` where both are given and not negative (seconds)."""
        both = np.isfinite(start_s) & np.isfinite(end_s)
        interval = (end_s - start_s)[both]
        self.negative[what] += int((interval < 0.0).sum())
        return interval[interval >= 0.0]

    def fit(self, interval_s: np.ndarray) -> dict[str, Any]:
        """Return the empirical ``Duration`` of logged intervals (de-rounded: see above)."""
        if self.minute and interval_s.size:
            return deconvolved(interval_s / SECONDS_PER_MINUTE)
        return empirical(interval_s)


def fit_fleets(log: CallLog, mapping: Mapping, world: World | None,
               call_node: np.ndarray | None) -> dict[str, Any]:
    """Return the fitted ``fleets`` and ``unit_dispatch`` sections and their diagnostics.

    ``world`` and ``call_node`` (each call's road node) give the stations' places and
    routed times; without them the drive model is not fitted and the result says so.
    """
    units = log.units
    if units is None:
        raise ValueError("the log has no unit rows (rows = \"unit\" and columns.unit_id)")
    minute = minute_resolution(log.received_s, units.dispatched_s, units.en_route_s,
                               units.on_scene_s, units.cleared_s)
    spans = Intervals(minute)
    handling = _by_priority(log, log.priority, log.received_s, log.dispatched_s, spans,
                            "handling")
    station_of = _stations(units, mapping, world)
    types = [t for t in sorted({str(t) for t in units.unit_type if t is not None})]
    fleets = {name: _fleet(units, log, name, station_of, spans) for name in types}
    plans = _plans(log, units)
    result: dict[str, Any] = {
        "minute_resolution": minute,
        "fleets": fleets,
        "unit_dispatch": {"handling_s_by_priority": handling, "plans": plans},
        "needs_the_map": [],
    }
    if world is not None and call_node is not None:
        travel, diagnostics = _drive_model(log, units, station_of, world, call_node, spans)
        result["unit_dispatch"]["travel_by_priority"] = travel
        result["drive_fit"] = diagnostics
    else:
        result["needs_the_map"].append("unit_dispatch.travel_by_priority (the drive model)")
    result["negative_intervals"] = dict(spans.negative)
    return result


def _by_priority(log: CallLog, priority: np.ndarray, start_s: np.ndarray, end_s: np.ndarray,
                 spans: Intervals, what: str) -> dict[str, Any]:
    """Return an empirical duration per call priority ("any" for calls without one)."""
    out: dict[str, Any] = {}
    for p in sorted(set(priority.tolist())):
        rows = priority == p
        values = spans.of(start_s[rows], end_s[rows], what)
        if values.size:
            out[str(p) if p > 0 else "any"] = spans.fit(values)
    return out


def _stations(units: UnitRows, mapping: Mapping, world: World | None) -> np.ndarray:
    """Return each unit row's home station name ("" : none) from its unit id."""
    pattern = re.compile(mapping.unit_station) if mapping.unit_station else None
    known = set(world.station_names) if world is not None else None
    names = np.full(units.unit_id.shape[0], "", dtype=object)
    if pattern is None:
        return names
    ids, row_id = np.unique(units.unit_id.astype(str), return_inverse=True)  # few ids
    home = np.full(ids.shape[0], "", dtype=object)
    for k, unit in enumerate(ids.tolist()):
        match = pattern.match(unit)
        if match and (known is None or match.group(1) in known):
            home[k] = match.group(1)
    names[:] = home[row_id]
    names[units.unit_id == None] = ""  # noqa: E711 (an array of objects: elementwise)
    return names


def _fleet(units: UnitRows, log: CallLog, name: str, station_of: np.ndarray,
           spans: Intervals) -> dict[str, Any]:
    """Return one fleet's section: units, turnout, on scene, lag and unstationed travel."""
    rows = units.unit_type == name
    ids = units.unit_id[rows]
    stations = station_of[rows]
    by_station: Counter[str] = Counter()
    without = 0
    for unit in sorted({u for u in ids if u is not None}):
        home = stations[ids == unit]
        if home.size and home[0]:
            by_station[str(home[0])] += 1
        else:
            without += 1
    fleet: dict[str, Any] = {
        "units_by_station": dict(sorted(by_station.items(), key=lambda kv: _station_key(kv[0]))),
        "units_without_station": without,
        "turnout_s": spans.fit(spans.of(units.dispatched_s[rows], units.en_route_s[rows],
                                        f"{name} turnout")),
        "on_scene_s": spans.fit(spans.of(units.on_scene_s[rows], units.cleared_s[rows],
                                         f"{name} on scene")),
    }
    first = log.dispatched_s[units.call[rows]]
    lag = units.dispatched_s[rows] - first
    lag = lag[np.isfinite(lag) & (lag >= 0.0)]
    if lag.size and (lag > 0.0).any():  # a same-minute dispatch is a simultaneous one
        later = lag > 0.0
        lag = np.where(later, derounded(lag, spans.rng) if spans.minute else lag, 0.0)
        fleet["dispatch_lag_s"] = empirical(lag)
    unstationed = rows & (station_of == "")
    if without:
        source = unstationed if unstationed.sum() >= MIN_ROWS else rows
        fleet["travel_s_by_priority"] = _by_priority(
            log, log.priority[units.call[source]], units.en_route_s[source],
            units.on_scene_s[source], spans, f"{name} travel")
    never = rows & np.isfinite(units.dispatched_s) & ~np.isfinite(units.on_scene_s)
    fleet["counts"] = {"rows": int(rows.sum()),
                       "dispatched_never_on_scene": int(never.sum())}  # cancelled en route
    return fleet


def _station_key(name: str) -> tuple[int, str]:
    return (int(name), name) if name.isdigit() else (1 << 30, name)


def _plans(log: CallLog, units: UnitRows) -> dict[str, list[dict[str, Any]]]:
    """Return, per incident type, the commonest plans by priority with their shares."""
    sent = np.isfinite(units.dispatched_s) & (units.unit_type != None)  # noqa: E711
    signature: list[Counter[str]] = [Counter() for _ in range(log.calls)]
    for call, kind in zip(units.call[sent].tolist(), units.unit_type[sent].tolist(),
                          strict=True):
        signature[call][str(kind)] += 1
    by_group: dict[tuple[int, int], Counter[tuple[tuple[str, int], ...]]] = {}
    for call, counts in enumerate(signature):
        if counts:
            key = (int(log.type_index[call]), int(log.priority[call]))
            by_group.setdefault(key, Counter())[tuple(sorted(counts.items()))] += 1
    plans: dict[str, list[dict[str, Any]]] = {}
    for (type_index, priority), counter in sorted(by_group.items()):
        total = sum(counter.values())
        kept, covered = [], 0
        for plan, count in counter.most_common(MAX_PLANS):
            kept.append({"units": dict(plan), "share": round(count / total, 4),
                         **({"priority": priority} if priority > 0 else {})})
            covered += count
            if covered >= PLAN_COVER * total:
                break
        plans.setdefault(log.type_names[type_index], []).extend(kept)
    return plans


def _drive_model(log: CallLog, units: UnitRows, station_of: np.ndarray, world: World,
                 call_node: np.ndarray, spans: Intervals
                 ) -> tuple[dict[str, Any], dict[str, Any]]:
    """Return the drive model by priority and its diagnostics (residuals by hour)."""
    index = {name: k for k, name in enumerate(world.station_names)}
    rows = np.flatnonzero((station_of != "") & np.isfinite(units.en_route_s)
                          & np.isfinite(units.on_scene_s))
    station = np.array([index[s] for s in station_of[rows]], dtype=np.int64)
    routed_s = world.node_station_car_s[call_node[units.call[rows]], station].astype(float)
    recorded = units.on_scene_s[rows] - units.en_route_s[rows]
    good = recorded >= 0.0
    spans.negative["stationed travel"] += int((~good).sum())
    rows, routed_s, recorded = rows[good], routed_s[good], recorded[good]
    travel_s = derounded(recorded, spans.rng) if spans.minute else recorded
    priority = log.priority[units.call[rows]]
    local = local_seconds(log.received_s[units.call[rows]], log.timezone)
    hour = np.floor(np.mod(local, SECONDS_PER_DAY) / SECONDS_PER_HOUR)
    models: dict[str, Any] = {}
    diagnostics: dict[str, Any] = {"rows": int(rows.shape[0]), "by_priority": {}}
    for p in sorted(set(priority.tolist())):
        at = priority == p
        x, y = routed_s[at], travel_s[at]
        if x.size < MIN_ROWS:
            continue
        overhead_s, factor = _lad_line(x, y)
        fitted = overhead_s + factor * x
        ratio = y / np.maximum(fitted, 1.0)
        key = str(p) if p > 0 else "any"
        models[key] = {"overhead_s": round(overhead_s, 1), "factor": round(factor, 4),
                       "residual": _spread(ratio)}
        by_hour = {int(h): round(float(np.median(ratio[hour[at] == h])), 3)
                   for h in np.unique(hour[at])}
        diagnostics["by_priority"][key] = {
            "rows": int(x.size), "overhead_s": round(overhead_s, 1),
            "factor": round(factor, 4),
            "median_abs_error_s": round(float(np.median(np.abs(y - fitted))), 1),
            "residual_p10_p50_p90": [round(float(v), 3) for v in
                                     np.quantile(ratio, [0.1, 0.5, 0.9])],
            "residual_median_by_hour": by_hour,
        }
    return models, diagnostics


def _lad_line(x: np.ndarray, y: np.ndarray) -> tuple[float, float]:
    """Return (intercept >= 0, slope > 0) of the least-absolute-deviation line y ~ x."""
    slope0 = float(np.median(y) / max(float(np.median(x)), 1.0))

    def loss(theta: np.ndarray) -> float:
        return float(np.abs(y - abs(theta[0]) - abs(theta[1]) * x).sum())

    best = optimize.minimize(loss, np.array([float(np.median(y)) * 0.5, slope0 * 0.5]),
                             method="Nelder-Mead", options={"xatol": 0.01, "fatol": 0.01,
                                                            "maxiter": 2000})
    return abs(float(best.x[0])), max(abs(float(best.x[1])), 1e-3)


def _spread(ratio: np.ndarray) -> dict[str, Any]:
    """Return a ``Spread`` (TOML-ready) of the ratios."""
    values = np.maximum.accumulate(np.round(np.quantile(ratio, P_GRID), 4))
    return {"p": P_GRID.tolist(), "values": np.minimum(values, 1000.0).tolist()}
