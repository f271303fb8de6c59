"""Fit a scenario's incident inputs to a call log, every value with its confidence interval.

Per incident type: the daily rate (exact Poisson CI), the hourly profile and day-of-week
factors (Clopper-Pearson CIs on the shares), the district weights (calls snapped to the
nearest road node of the scenario's city), the priority (the most common), and the
on-scene time from the first unit on scene to the last cleared: a log-normal (CIs: a
t interval for the log mean, chi-square for the log variance, Cox's method for the mean)
with its Kolmogorov-Smirnov distance, and empirical quantiles (order-statistic CIs) for
when it fits badly. Per priority: the call-handling delay, received to first dispatched.
"""

from __future__ import annotations

import contextlib
import datetime
import json
import math
import re
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy import stats

from gridsim.calls.mapping import Mapping
from gridsim.calls.read import CallLog, Rows, local_seconds
from gridsim.city.locate import DistrictLocator
from gridsim.core.errors import InputError
from gridsim.core.units import HOURS_PER_DAY, SECONDS_PER_DAY, SECONDS_PER_HOUR
from gridsim.core.version import __version__
from gridsim.scenario.schema import Duration, IncidentType, Scenario
from gridsim.world.build import World, build_world

_EPOCH_ORDINAL = datetime.date(1970, 1, 1).toordinal()  # local days count from 1970-01-01
WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
MIN_DAYS_FOR_WEEKDAYS = 7
QUANTILES = (0.05, 0.1, 0.25, 0.5, 0.75, 0.9, 0.95, 0.99)
# a log-normal "fits badly" when its KS distance is both significant (Lilliefors' 1%
# critical value, about 1.031 / sqrt(n)) and large enough to matter (over 0.05)
KS_TOLERANCE = 0.05
LILLIEFORS_1PCT = 1.031
FITTED_KEYS = ("rate_per_day", "hourly_profile", "day_of_week", "district_weights", "priority",
               "on_scene_s")
NEW_TYPE_DEFAULTS: dict[str, Any] = {"responders": ["police"]}  # a type the scenario lacks
NO_DISTRICT = -1  # a call not on the scenario's roads
DEFAULT_ON_SCENE = Duration(dist="lognormal", mean_s=1800.0, cv=0.5)
MIN_CALLS = 30  # fewer calls than this behind a fit: it is rough (a warning, and in fit.json)


def locator_of(scenario: Scenario, what: str = "--scenario") -> DistrictLocator:
    """Return the district locator of ``scenario``'s city (synthetic or imported)."""
    if scenario.city.explicit is not None or scenario.city.osm is None:
        return DistrictLocator.of_synthetic(scenario, what)
    return world_locator(build_world(scenario), what)


def world_locator(world: World, what: str) -> DistrictLocator:
    """Return the district locator of a built world's road nodes."""
    return DistrictLocator.of_nodes(world.scenario, world.network.xy_m, world.node_lat_lon,
                                    world.node_district, what)


@dataclass(frozen=True, eq=False)
class CallFit:
    """What ``fit_calls`` found: fit.json's payload, incidents.toml, and the data drawn."""

    payload: dict[str, Any]
    incidents_toml: str
    log: CallLog  # the calls fitted (after the fit's own drops)
    day: np.ndarray  # (C,) local day of each call, 0 = the period's first
    hour: np.ndarray  # (C,) local hour of day
    days: int
    on_scene_s: dict[str, np.ndarray]  # by type: the durations fitted
    handling_s: dict[int, np.ndarray]  # by priority: received to first dispatched


def fit_calls(log: CallLog, mapping: Mapping, scenario: Scenario,
              locator: DistrictLocator | None = None, confidence: float = 0.95,
              sources: tuple[str, str, str] | None = None) -> CallFit:
    """Return the fitted incident inputs of ``log`` for ``scenario``'s city and types.

    ``sources`` names the log, mapping and scenario in incidents.toml (default: the log's
    path, "the mapping" and the scenario's name).
    """
    if not 0.0 < confidence < 1.0:
        raise ValueError("confidence must lie between 0 and 1")
    if log.calls == 0:
        raise InputError(f"{log.source}: no usable calls ({_reasons_text(log.dropped)}); "
                         "check the mapping")
    locator = locator_of(scenario) if locator is None else locator
    district, distance_m = locator.locate(log.lat, log.lon)
    far = distance_m > mapping.area.max_distance_m
    needs_the_map: list[str] = []
    if far.all():  # another city's log: fit what needs no map, say what does
        district = np.full(log.calls, NO_DISTRICT, dtype=np.int64)
        needs_the_map.append(
            f"district weights (no call lies within {mapping.area.max_distance_m:g} m of "
            f"{scenario.name}'s roads: give the log's city as --scenario)")
    else:
        log = log.drop(far, f"far from the scenario's roads (over "
                            f"{mapping.area.max_distance_m:g} m from a node; [area] "
                            "max_distance_m)")
        district = district[~far]
    local = local_seconds(log.received_s, log.timezone)
    day_abs = np.floor(local / SECONDS_PER_DAY).astype(np.int64)
    if mapping.period is not None:
        first_day = mapping.period.start.toordinal() - _EPOCH_ORDINAL
        days = (mapping.period.end - mapping.period.start).days
        period_from = "the mapping's [period]"
    else:
        first_day = int(day_abs.min())
        days = int(day_abs.max()) - first_day + 1
        period_from = "the log: the first to the last call's day"
    day = day_abs - first_day
    hour = np.floor((local - day_abs * SECONDS_PER_DAY) / SECONDS_PER_HOUR).astype(np.int64)
    weekday_of_day = (np.arange(days) + first_day + 3) % 7  # 1970-01-01 was a Thursday
    alpha = 1.0 - confidence

    types: dict[str, Any] = {}
    on_scene: dict[str, np.ndarray] = {}
    for index, name in enumerate(log.type_names):
        rows = log.type_index == index
        if not rows.any():
            continue
        types[name], on_scene[name] = _fit_type(
            log, rows, district[rows], day[rows], hour[rows], days, weekday_of_day,
            locator.names, alpha)
    handling, handling_s = _fit_handling(log, alpha)
    start = _date_text(first_day)
    payload: dict[str, Any] = {
        "generator": f"gridsim {__version__}",
        "command": "calls fit",
        "log": {
            "file": log.source,
            "row_numbers": ("CSV line numbers (the header is line 1)" if log.row_label == "line"
                            else "Parquet rows, from 1"),
            "rows_read": log.rows_read,
            "rows_used": log.rows_used,
            "calls": log.calls,
            "rows_dropped": sum(r.n for r in log.dropped.values()),
            "dropped": _rows_json(log.dropped),
            "incomplete": _rows_json(log.incomplete),
            "unknown_types": log.unknown_types,
        },
        "scenario": scenario.name,
        "needs_the_map": needs_the_map,
        "timezone": log.timezone,
        "period": {"start": start, "end": _date_text(first_day + days), "days": days,
                   "from": period_from,
                   "weekdays": {w: int((weekday_of_day == i).sum())
                                for i, w in enumerate(WEEKDAYS)}},
        "confidence": confidence,
        "types": types,
        "types_without_calls": [n for n in log.type_names if n not in types],
        "handling_delay_s": handling,
    }
    names = sources or (log.source, "the mapping", scenario.name)
    text = incidents_toml(payload, scenario, names)
    return CallFit(payload, text, log, day, hour, days, on_scene, handling_s)


def _date_text(day: int) -> str:
    return datetime.date.fromordinal(day + _EPOCH_ORDINAL).isoformat()


def _fit_type(log: CallLog, rows: np.ndarray, district: np.ndarray, day: np.ndarray,
              hour: np.ndarray, days: int, weekday_of_day: np.ndarray,
              district_names: tuple[str, ...], alpha: float
              ) -> tuple[dict[str, Any], np.ndarray]:
    """Return the fit of one incident type and the on-scene durations it used."""
    n = int(rows.sum())
    low, high = poisson_ci(n, alpha)
    daily = np.bincount(day, minlength=days)[:days]
    dispersion = float(daily.var(ddof=1) / daily.mean()) if days > 1 and daily.mean() else None
    by_hour = np.bincount(hour, minlength=HOURS_PER_DAY)
    share_low, share_high = share_ci(by_hour, n, alpha)
    result: dict[str, Any] = {
        "calls": n,
        "rate_per_day": {"value": n / days, "ci": [low / days, high / days], "n": n,
                         "days": days,
                         "daily_counts": {"mean": float(daily.mean()),
                                          "variance": float(daily.var(ddof=1)) if days > 1
                                          else None,
                                          "dispersion_index": dispersion,
                                          "poisson_p": (float(stats.chi2.sf(
                                              (days - 1) * dispersion, days - 1))
                                              if dispersion is not None else None)}},
        "hourly_profile": {"value": (by_hour * HOURS_PER_DAY / n).tolist(),
                           "ci_low": (share_low * HOURS_PER_DAY).tolist(),
                           "ci_high": (share_high * HOURS_PER_DAY).tolist(),
                           "counts": by_hour.tolist(), "n": n,
                           "scale": "calls in the hour over the day's mean hour (mean 1)"},
        "day_of_week": _weekdays(day, days, weekday_of_day, n, alpha),
    }
    if (district == NO_DISTRICT).any():  # not on the scenario's roads: not fitted
        result["district_weights"] = None
    else:
        result["district_weights"] = _district_fit(district, district_names, n, alpha)
    priorities = log.priority[rows]
    given = priorities[priorities > 0]
    p_counts = np.bincount(given, minlength=6)[1:6]
    result["priority"] = {
        "value": int(np.argmax(p_counts) + 1) if given.size else None,
        "shares": {str(p + 1): float(c / given.size) for p, c in enumerate(p_counts) if c}
        if given.size else {},
        "n": int(given.size)}
    on_scene, excluded = _durations(log.on_scene_s[rows], log.cleared_s[rows],
                                    "on_scene", "cleared")
    result["on_scene_s"] = {"from": "the first unit on scene to the last unit cleared",
                            "excluded": excluded, **fit_duration(on_scene, alpha)}
    return result, on_scene


def _district_fit(district: np.ndarray, district_names: tuple[str, ...], n: int,
                  alpha: float) -> dict[str, Any]:
    """Return the shares of a type's calls by district with their CIs."""
    counts = np.bincount(district, minlength=len(district_names))
    d_low, d_high = share_ci(counts, n, alpha)
    return {
        "value": {d: float(c / n) for d, c in zip(district_names, counts, strict=True)},
        "ci": {d: [float(lo), float(hi)] for d, lo, hi in zip(district_names, d_low, d_high,
                                                              strict=True)},
        "counts": {d: int(c) for d, c in zip(district_names, counts, strict=True)},
        "n": n, "scale": "share of the type's calls"}


def _weekdays(day: np.ndarray, days: int, weekday_of_day: np.ndarray, n: int, alpha: float
              ) -> dict[str, Any] | None:
    """Return day-of-week factors (mean 1 over the days) when the log spans a week."""
    if days < MIN_DAYS_FOR_WEEKDAYS:
        return None
    exposure = np.bincount(weekday_of_day, minlength=7).astype(float)
    counts = np.bincount(weekday_of_day[day], minlength=7)
    scale = days / exposure
    low, high = share_ci(counts, n, alpha)
    return {"value": dict(zip(WEEKDAYS, (counts / n * scale).tolist(), strict=True)),
            "ci": {w: [float(lo), float(hi)] for w, lo, hi in zip(
                WEEKDAYS, low * scale, high * scale, strict=True)},
            "counts": dict(zip(WEEKDAYS, counts.tolist(), strict=True)),
            "days": dict(zip(WEEKDAYS, exposure.astype(int).tolist(), strict=True)),
            "n": n, "scale": "the weekday's daily rate over the mean daily rate"}


def _fit_handling(log: CallLog, alpha: float) -> tuple[dict[str, Any], dict[int, np.ndarray]]:
    """Return the handling delay (received to first dispatched) fitted per priority."""
    fits: dict[str, Any] = {}
    samples: dict[int, np.ndarray] = {}
    for priority in range(1, 6):
        rows = log.priority == priority
        if not rows.any():
            continue
        delay, excluded = _durations(log.received_s[rows], log.dispatched_s[rows],
                                     "received", "dispatched")
        fits[str(priority)] = {"calls": int(rows.sum()), "excluded": excluded,
                               **fit_duration(delay, alpha)}
        if 0 < delay.shape[0] < MIN_CALLS:
            fits[str(priority)]["rough"] = (f"fitted from {delay.shape[0]} calls with both "
                                            f"times, fewer than {MIN_CALLS}: see its CI")
        samples[priority] = delay
    unknown = int((log.priority == 0).sum())
    if unknown:
        fits["unknown"] = {"calls": unknown, "note": "calls without a priority: not fitted"}
    return fits, samples


def _durations(start_s: np.ndarray, end_s: np.ndarray, start: str, end: str
               ) -> tuple[np.ndarray, dict[str, int]]:
    """Return ``end - start`` where both are given and in order, and what was left out."""
    no_start, no_end = np.isnan(start_s), np.isnan(end_s)
    delta = end_s - start_s
    backwards = ~no_start & ~no_end & (delta < 0)
    excluded = {f"no {start} time": int(no_start.sum()),
                f"no {end} time": int((no_end & ~no_start).sum()),
                f"{end} before {start}": int(backwards.sum())}
    return delta[~no_start & ~no_end & ~backwards], {k: v for k, v in excluded.items() if v}


# probabilities at which a badly fitting duration is written as an empirical distribution
EMPIRICAL_P = tuple(k / 50 for k in range(51))  # every 2%: a bimodal sample's mean to ~1%


def fit_duration(x: np.ndarray, alpha: float) -> dict[str, Any]:
    """Return the sample mean, a log-normal fit and empirical quantiles of ``x`` (s, >= 0)."""
    n = int(x.shape[0])
    out: dict[str, Any] = {"n": n}
    if n == 0:
        return {**out, "written": None, "note": "no durations"}
    mean = float(x.mean())
    sd = float(x.std(ddof=1)) if n > 1 else None
    t = float(stats.t.ppf(1 - alpha / 2, n - 1)) if n > 1 else math.nan
    out["mean_s"] = {"value": mean, "ci": [mean - t * sd / math.sqrt(n),
                                           mean + t * sd / math.sqrt(n)] if sd else None}
    out["cv"] = {"value": sd / mean if sd is not None and mean > 0 else None}
    positive = x[x > 0]
    out["zero"] = n - int(positive.shape[0])
    m = int(positive.shape[0])
    if m >= 2:
        logs = np.log(positive)
        mu, s2 = float(logs.mean()), float(logs.var(ddof=1))
        with contextlib.suppress(OverflowError):  # a spread too wide for its CIs: no fit
            out["lognormal"] = lognormal_fit(mu, s2, m, alpha)
    if "lognormal" in out:
        if s2 > 0:
            ks = float(stats.kstest(logs, "norm", args=(mu, math.sqrt(s2))).statistic)
        else:
            ks = 1.0 if np.unique(logs).size > 1 else 0.0
        critical = LILLIEFORS_1PCT / math.sqrt(m)
        out["ks_distance"] = ks
        out["ks_critical_1pct"] = critical
        out["lognormal_fits"] = bool(not (ks > critical and ks > KS_TOLERANCE))
    else:
        out["lognormal_fits"] = False
    out["quantiles_s"] = {f"p{round(q * 100):02d}": quantile_ci(np.sort(x), q, alpha)
                          for q in QUANTILES}
    if out["lognormal_fits"]:
        out["written"] = {"dist": "lognormal", "mean_s": out["lognormal"]["mean_s"]["value"],
                          "cv": out["lognormal"]["cv"]["value"], "from": "the log-normal fit"}
    elif out["cv"]["value"] is not None and mean > 0:
        ordered = np.sort(x)
        out["written"] = {"dist": "lognormal", "mean_s": mean, "cv": out["cv"]["value"],
                          "from": "the sample mean and CV (the log-normal fits badly)",
                          # what incidents.toml writes for on-scene times: the sample's
                          # quantiles, drawn from by interpolation (dist = "empirical")
                          "empirical": {"p": list(EMPIRICAL_P), "quantiles_s": [
                              float(np.quantile(ordered, q)) for q in EMPIRICAL_P]}}
    else:
        out["written"] = None
    return out


def lognormal_fit(mu: float, s2: float, n: int, alpha: float) -> dict[str, Any]:
    """Return the log-normal with log mean ``mu`` and log variance ``s2`` (n draws) and CIs.

    The log mean has a t interval and the log variance a chi-square one; the CV is a
    function of the log variance alone; the mean has Cox's interval,
    ``exp(mu + s2/2 +- z sqrt(s2/n + s2^2/(2(n-1))))``.
    """
    z = float(stats.norm.ppf(1 - alpha / 2))
    t = float(stats.t.ppf(1 - alpha / 2, n - 1))
    s2_low = (n - 1) * s2 / float(stats.chi2.ppf(1 - alpha / 2, n - 1))
    s2_high = (n - 1) * s2 / float(stats.chi2.ppf(alpha / 2, n - 1))
    log_mean = mu + s2 / 2
    se = math.sqrt(s2 / n + s2**2 / (2 * (n - 1)))

    def cv(v: float) -> float:
        return math.sqrt(math.expm1(v))

    return {"n": n, "mu": mu, "sigma": math.sqrt(s2),
            "mean_s": {"value": math.exp(log_mean),
                       "ci": [math.exp(log_mean - z * se), math.exp(log_mean + z * se)]},
            "cv": {"value": cv(s2), "ci": [cv(s2_low), cv(s2_high)]},
            "median_s": {"value": math.exp(mu),
                         "ci": [math.exp(mu - t * math.sqrt(s2 / n)),
                                math.exp(mu + t * math.sqrt(s2 / n))]}}


def quantile_ci(sorted_x: np.ndarray, q: float, alpha: float) -> dict[str, Any]:
    """Return the ``q`` quantile of sorted data with its distribution-free CI."""
    n = sorted_x.shape[0]
    low = int(stats.binom.ppf(alpha / 2, n, q))
    high = int(stats.binom.ppf(1 - alpha / 2, n, q)) + 1
    ci = ([float(sorted_x[low - 1]), float(sorted_x[high - 1])]
          if low >= 1 and high <= n else None)  # too few draws for this quantile
    return {"value": float(np.quantile(sorted_x, q)), "ci": ci}


def poisson_ci(count: int, alpha: float) -> tuple[float, float]:
    """Return the exact (Garwood) CI of a Poisson mean from one ``count``."""
    low = 0.0 if count == 0 else float(stats.chi2.ppf(alpha / 2, 2 * count)) / 2
    return low, float(stats.chi2.ppf(1 - alpha / 2, 2 * count + 2)) / 2


def share_ci(counts: np.ndarray, n: int, alpha: float) -> tuple[np.ndarray, np.ndarray]:
    """Return Clopper-Pearson CIs of the shares ``counts / n``."""
    counts = np.asarray(counts, dtype=float)
    low = np.where(counts > 0, stats.beta.ppf(alpha / 2, counts, n - counts + 1), 0.0)
    high = np.where(counts < n, stats.beta.ppf(1 - alpha / 2, counts + 1, n - counts), 1.0)
    return np.nan_to_num(low), np.nan_to_num(high, nan=1.0)


def _rows_json(rows: dict[str, Rows]) -> dict[str, Any]:
    return {reason: {"rows": r.n, "first": list(r.first)} for reason, r in rows.items()}


def _reasons_text(dropped: dict[str, Rows]) -> str:
    if not dropped:
        return "the log has no rows"
    total = sum(r.n for r in dropped.values())
    reason, rows = max(dropped.items(), key=lambda item: item[1].n)
    return f"all {total:,} rows left out, most as {reason!r}: {rows.n:,}"


# ---------------------------------------------------------------- incidents.toml


def incidents_toml(payload: dict[str, Any], scenario: Scenario,
                   sources: tuple[str, str, str]) -> str:
    """Return the ``[incidents]`` tables (and handling delays) as commented TOML."""
    log_name, mapping_name, scenario_name = sources
    period = payload["period"]
    log = payload["log"]
    pct = round(payload["confidence"] * 100)
    lines = [
        f"# Fitted by gridsim {__version__} (gridsim calls fit) from {log_name}",
        f"# read with {mapping_name}: {log['calls']:,} calls from {log['rows_used']:,} of "
        f"{log['rows_read']:,} rows ({log['rows_dropped']:,} left out: fit.json says why),",
        f"# {period['days']} days from {period['start']} to {period['end']} (end excluded), "
        f"hours in {payload['timezone']}. Every value, its {pct}% CI and the calls behind "
        "it are in fit.json.",
        "# Paste the [incidents.*] tables into a scenario in place of its own. Keys a log "
        "cannot give",
        f"# (responders, units, activation, report delays, harm thresholds) are copied from "
        f"{scenario_name},",
        "# or marked ASSUMPTION for a type it does not have.",
    ]
    for name, fit in payload["types"].items():
        lines += ["", *_type_lines(name, fit, scenario, pct, scenario_name)]
    missing = [n for n in scenario.incidents if n not in payload["types"]]
    if missing:
        lines += ["", f"# types of {scenario_name} with no calls in the log (keep its own): "
                      + ", ".join(missing)]
    lines += ["", *_handling_lines(payload["handling_delay_s"], scenario, pct, scenario_name)]
    return "\n".join(lines) + "\n"


def _type_lines(name: str, fit: dict[str, Any], scenario: Scenario, pct: int,
                scenario_name: str) -> list[str]:
    existing = scenario.incidents.get(name)
    rate = fit["rate_per_day"]
    lines = [f"[incidents.{_key(name)}]",
             f"rate_per_day = {_num(rate['value'])}  # FITTED: {rate['n']:,} calls in "
             f"{rate['days']} days; {pct}% CI {_num(rate['ci'][0])}-{_num(rate['ci'][1])}"]
    profile = fit["hourly_profile"]
    lines.append("hourly_profile = [" + ", ".join(_num(v, 3) for v in profile["value"])
                 + "]  # FITTED: calls by hour of day over the mean hour; CIs in fit.json")
    weekdays = fit["day_of_week"]
    if weekdays is not None:
        lines.append("day_of_week = [" + ", ".join(_num(v, 3) for v in weekdays["value"].values())
                     + "]  # FITTED: Mon..Sun, a weekday's daily rate over the mean (set "
                     "start_weekday to the run's first day); CIs in fit.json")
    if fit["district_weights"] is None:
        lines.append("# district_weights: not fitted, the calls are not on this scenario's "
                     "roads (fit.json: needs_the_map)")
    else:
        shares = fit["district_weights"]["value"]
        weights = {d: float(_num(v)) for d, v in shares.items() if v > 0}
        left_out = "" if len(weights) == len(shares) else " (the districts left out had none)"
        lines.append(f"district_weights = {_inline(weights)}  # FITTED: share of its calls by "
                     f"district{left_out}")
    priority = fit["priority"]
    if priority["value"] is not None:
        share = priority["shares"][str(priority["value"])]
        lines.append(f"priority = {priority['value']}  # FITTED: {share:.0%} of its "
                     f"{priority['n']:,} calls with a priority")
        if len(priority["shares"]) > 1:  # a mix: each generated call draws its own
            shares = {k: round(float(v), 4) for k, v in sorted(priority["shares"].items())}
            lines.append(f"priority_shares = {_inline(shares)}  # FITTED: each call's "
                         "priority drawn by these shares")
    else:
        value = existing.priority if existing is not None else 3
        lines.append(f"priority = {value}  # the log gives no priority: "
                     + (f"from {scenario_name}" if existing is not None else "ASSUMPTION"))
    lines += _on_scene_lines(fit["on_scene_s"], existing, pct, scenario_name)
    copied = (existing.model_dump(mode="json", exclude_unset=True, exclude_none=True,
                                  exclude=set(FITTED_KEYS))
              if existing is not None else {})
    if existing is not None:
        lines.append(f"# from {scenario_name}:")
        copied.setdefault("responders", list(existing.responders))
        for key, value in copied.items():
            lines.append(f"{_key(key)} = {_value(value)}")
    else:
        for key, value in NEW_TYPE_DEFAULTS.items():
            lines.append(f"{key} = {_value(value)}  # ASSUMPTION: {scenario_name} has no "
                         f"{name!r}; choose who responds")
    return lines


def _on_scene_lines(fit: dict[str, Any], existing: IncidentType | None, pct: int,
                    scenario_name: str) -> list[str]:
    written = fit.get("written")
    if written is None:
        duration = existing.on_scene_s if existing is not None else DEFAULT_ON_SCENE
        where = f"from {scenario_name}" if existing is not None else "ASSUMPTION"
        return [f"on_scene_s = {_value(duration.model_dump(mode='json', exclude_none=True))}"
                f"  # too few "
                f"on-scene times in the log ({fit['n']}): {where}"]
    text = (f"on_scene_s = {{ dist = \"lognormal\", mean_s = {_num(written['mean_s'])}, "
            f"cv = {_num(written['cv'], 3)} }}")
    if fit["lognormal_fits"]:
        ln = fit["lognormal"]
        return [text + f"  # FITTED from {fit['n']:,} calls: {pct}% CI mean "
                f"{_num(ln['mean_s']['ci'][0])}-{_num(ln['mean_s']['ci'][1])} s, cv "
                f"{_num(ln['cv']['ci'][0], 3)}-{_num(ln['cv']['ci'][1], 3)}; KS distance "
                f"{fit['ks_distance']:.3f}"]
    ks = fit.get("ks_distance")
    why = (f"the log-normal fits badly (KS distance {ks:.3f})" if ks is not None
           else "too few positive durations for a log-normal")
    empirical = written["empirical"]
    return [f"on_scene_s = {{ dist = \"empirical\", p = {_value(empirical['p'])}, "
            f"quantiles_s = {_value([float(_num(q)) for q in empirical['quantiles_s']])} }}"
            f"  # FITTED from {fit['n']:,} calls: {why}, so the sample's quantiles (sample "
            f"mean {_num(written['mean_s'])} s, cv {_num(written['cv'], 3)})"]


def _handling_lines(fits: dict[str, Any], scenario: Scenario, pct: int,
                    scenario_name: str) -> list[str]:
    defaults = scenario.police.delay_by_priority_s()
    values, notes = [], []
    for priority in range(1, 6):
        fit: dict[str, Any] = fits.get(str(priority)) or {}
        written = fit.get("written")
        if written is None:
            values.append(_num(float(defaults[priority])))
            notes.append(f"#   priority {priority}: no calls with both times; from "
                         f"{scenario_name}")
            continue
        values.append(_num(written["mean_s"]))
        low, high = written_mean_ci(fit)
        interval = f" ({pct}% CI {_num(low)}-{_num(high)})" if math.isfinite(low) else ""
        notes.append(f"#   priority {priority}: {fit['n']:,} calls, mean "
                     f"{_num(written['mean_s'])} s{interval}, cv {_num(written['cv'], 3)} "
                     f"({written['from']}); median "
                     f"{_num(fit['quantiles_s']['p50']['value'], 3)} s, p90 "
                     f"{_num(fit['quantiles_s']['p90']['value'], 3)} s"
                     + (f"; ROUGH: fewer than {MIN_CALLS} calls" if fit.get("rough") else ""))
    return ["# Call handling (received to the first unit dispatched), by priority 1..5:",
            *notes,
            "# merge this key into the scenario's [police] table:",
            "[police]",
            f"dispatch_delay_s_by_priority = [{', '.join(values)}]"]


def written_mean_ci(fit: dict[str, Any]) -> tuple[float, float]:
    """Return the CI of the mean a duration fit wrote (the log-normal's or the sample's)."""
    if fit.get("lognormal_fits"):
        low, high = fit["lognormal"]["mean_s"]["ci"]
        return float(low), float(high)
    ci = fit["mean_s"]["ci"]
    return (float(ci[0]), float(ci[1])) if ci else (math.nan, math.nan)


def _num(value: float, digits: int = 4) -> str:
    """Return ``value`` to about ``digits`` significant digits as a TOML number."""
    if value == 0.0:
        return "0"
    decimals = max(digits - 1 - math.floor(math.log10(abs(value))), 0)
    return f"{value:.{decimals}f}"


def _key(name: str) -> str:
    """Return a TOML key: bare when it can be, else quoted."""
    return name if re.fullmatch(r"[A-Za-z0-9_-]+", name) else json.dumps(name)


def _value(value: Any) -> str:
    """Return a JSON-like value (from ``model_dump``) as a TOML value."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, str):
        return json.dumps(value)
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_value(v) for v in value) + "]"
    if isinstance(value, dict):
        return _inline(value)
    raise TypeError(f"cannot write {value!r} as TOML")


def _inline(table: dict[str, Any]) -> str:
    if not table:
        return "{}"
    return "{ " + ", ".join(f"{_key(k)} = {_value(v)}" for k, v in table.items()) + " }"
