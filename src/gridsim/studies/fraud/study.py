"""The anti-fraud study: replications of the model, one-at-a-time sweeps, the summary.

Every replication r of every sweep value runs with seed r of the study (common random
numbers), so a sweep's differences are the setting's, not luck. Figures with a CI are a
mean over replications of a per-replication value with its 95% t interval; shares by
channel and hour pool the cases and carry Wilson intervals.

Loss rate (the article's "loss rate after a warning", defined here): over the warned
cases, the money lost that was still at risk when the first warning reached the police,
over the money at risk then. Money at risk at the warning is every planned transfer not
yet made plus those made but not yet cashed out (still in mule accounts); money
already cashed out before the warning is lost before it and counts in neither.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from gridsim.core.stats import mean_ci, wilson_interval
from gridsim.core.units import SECONDS_PER_HOUR
from gridsim.scenario.schema import FRAUD_CHANNELS, Fraud
from gridsim.studies.experiment import replication_seeds
from gridsim.studies.fraud.model import SOURCES, fraud_city, run_replication
from gridsim.world.build import World

CI_LEVEL = 0.95
LOSS_RATE_DEFINITION = (
    "loss_rate_after_warning = sum over warned cases of the money lost that was still at "
    "risk when the first warning reached the police / sum over warned cases of the money "
    "at risk then (planned transfers not yet made, plus transfers made but not yet cashed "
    "out of the mule accounts); per replication, then mean and 95% t CI over replications")
REPORTED_WITHIN_S = SECONDS_PER_HOUR  # the Kerala anchor: reported within an hour

# per-replication figures: name -> what it is (the table's rows)
FIGURES = {
    "prevented_share": "loss prevented: (amount - lost) / amount, all cases",
    "loss_rate_after_warning": "loss rate after a warning (defined above)",
    "lost_share": "money lost / amount, all cases",
    "warned_share": "cases the police were warned of",
    "stopped_before_first_share": "cases stopped before the first transfer",
    "stopped_before_last_share": "cases stopped before the last planned transfer",
    "recovered_share": "money recovered (stop-payment or freeze) / money transferred",
    "lost_yuan_per_day": "yuan lost a day",
    "prevented_yuan_per_day": "yuan of loss prevented a day",
    "officer_hours_per_day": "officer hours a day on visits (drive, on scene, back)",
    "call_taker_hours_per_day": "call-taker hours a day on call-backs",
    "callback_wait_s_mean": "mean wait for a free call-taker (s)",
}


@dataclass(frozen=True)
class StudyRun:
    """The rows of one study: the base runs and each sweep's runs."""

    base: list[dict[str, np.ndarray]]  # per replication: the case columns
    sweeps: list[tuple[str, float, list[dict[str, np.ndarray]]]]  # (key, value, runs)


def run_fraud_study(world: World, seed: int | None = None,
                    replications: int | None = None) -> StudyRun:
    """Return the base replications and every sweep value's replications."""
    spec = world.scenario.fraud
    assert spec is not None
    city = fraud_city(world)
    root = world.scenario.seed if seed is None else seed
    count = replications or spec.replications
    seeds = replication_seeds(root, count)
    base = [run_replication(spec, city, s) for s in seeds]
    sweeps = []
    for sweep in spec.sweeps:
        sweep_seeds = seeds if sweep.replications is None else replication_seeds(
            root, sweep.replications)
        for value in sweep.values:
            varied = spec.with_value(sweep.key, value)
            sweeps.append((sweep.key, value,
                           [run_replication(varied, city, s) for s in sweep_seeds]))
    return StudyRun(base=base, sweeps=sweeps)


def case_table(runs: list[dict[str, np.ndarray]], seeds: list[int] | None = None
               ) -> dict[str, np.ndarray]:
    """Return the replications' case columns stacked, with ``replication`` first."""
    if not runs:
        return {}
    reps = np.concatenate([np.full(r["case"].shape[0], k, dtype=np.int64)
                           for k, r in enumerate(runs)])
    return {"replication": reps,
            **{key: np.concatenate([r[key] for r in runs]) for key in runs[0]}}


def replication_figures(run: dict[str, np.ndarray], days: float) -> dict[str, float]:
    """Return the per-replication figures (``FIGURES``) of one replication's cases."""
    amount = run["amount_yuan"].sum()
    lost = run["lost_yuan"].sum()
    transferred = (run["lost_yuan"] + run["recovered_yuan"]).sum()
    at_risk = run["at_risk_at_warning_yuan"].sum()
    n = run["case"].shape[0]
    waits = run["callback_wait_s"][np.isfinite(run["callback_wait_s"])]
    return {
        "prevented_share": _ratio(amount - lost, amount),
        "loss_rate_after_warning": _ratio(run["lost_after_warning_yuan"].sum(), at_risk),
        "lost_share": _ratio(lost, amount),
        "warned_share": _ratio(run["warned"].sum(), n),
        "stopped_before_first_share": _ratio(run["stopped_before_first"].sum(), n),
        "stopped_before_last_share": _ratio(run["stopped_before_last"].sum(), n),
        "recovered_share": _ratio(run["recovered_yuan"].sum(), transferred),
        "lost_yuan_per_day": float(lost) / days,
        "prevented_yuan_per_day": float(amount - lost) / days,
        "officer_hours_per_day": float(run["officer_s"].sum()) / SECONDS_PER_HOUR / days,
        "call_taker_hours_per_day": float(run["call_taker_s"].sum()) / SECONDS_PER_HOUR / days,
        "callback_wait_s_mean": float(waits.mean()) if waits.shape[0] else float("nan"),
    }


def summarize_runs(runs: list[dict[str, np.ndarray]], days: float) -> dict[str, Any]:
    """Return each figure's mean over replications with its 95% CI and ``n``."""
    per_rep = [replication_figures(r, days) for r in runs]
    out: dict[str, Any] = {}
    for name in FIGURES:
        values = np.array([f[name] for f in per_rep], dtype=float)
        values = values[np.isfinite(values)]
        mean, half = mean_ci(values, CI_LEVEL)
        out[name] = {"mean": _round(mean), "ci": [_round(mean - half), _round(mean + half)],
                     "n": int(values.shape[0])}
    return out


def summarize_study(study: StudyRun, spec: Fraud) -> dict[str, Any]:
    """Return the study's summary: figures with CIs, by channel and hour, sweeps, anchors."""
    cases = case_table(study.base)
    summary: dict[str, Any] = {
        "loss_rate_definition": LOSS_RATE_DEFINITION,
        "replications": len(study.base),
        "days_per_replication": spec.days,
        "cases": int(cases["case"].shape[0]) if cases else 0,
        "figures": summarize_runs(study.base, spec.days),
        "by_channel": {c: _group(cases, cases["channel"] == c) for c in FRAUD_CHANNELS
                       if c in spec.channels} if cases else {},
        "by_hour": [_group(cases, cases["hour"] == h) for h in range(24)] if cases else [],
        "by_warning_source": {s: _group(cases, cases["warning_source"] == s)
                              for s in SOURCES} if cases else {},
        "victim_reports": _victim_reports(cases) if cases else {},
        # where the loss after a warning comes from: paid after the warning (the response
        # was too slow or failed to persuade) or before it and not recovered in time
        "lost_after_warning_paid_after_share": _round(_ratio(
            cases["lost_paid_after_warning_yuan"].sum(),
            cases["lost_after_warning_yuan"].sum())) if cases else None,
        "sweeps": [
            {"key": key, "value": value, **summarize_runs(runs, spec.days)}
            for key, value, runs in study.sweeps
        ],
    }
    return _finite(summary)


def _finite(value: Any) -> Any:
    """Return ``value`` with every nan or inf float replaced by None (strict JSON)."""
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_finite(v) for v in value]
    if isinstance(value, float) and not np.isfinite(value):
        return None
    return value


def _group(cases: dict[str, np.ndarray], mask: np.ndarray) -> dict[str, Any]:
    """Return a group's pooled interception shares (Wilson CIs) and money figures."""
    n = int(mask.sum())
    amount = float(cases["amount_yuan"][mask].sum())
    lost = float(cases["lost_yuan"][mask].sum())
    return {
        "cases": n,
        "stopped_before_first": wilson(int(cases["stopped_before_first"][mask].sum()), n),
        "stopped_before_last": wilson(int(cases["stopped_before_last"][mask].sum()), n),
        "prevented_share": _round(_ratio(amount - lost, amount)),
        "officer_hours": round(float(cases["officer_s"][mask].sum()) / SECONDS_PER_HOUR, 2),
    }


def _victim_reports(cases: dict[str, np.ndarray]) -> dict[str, Any]:
    """Return the Kerala anchors: how fast victims report, and what a fast report saves."""
    delay = cases["victim_report_after_first_transfer_s"]
    reported = np.isfinite(delay)  # victims who paid and reported
    fast = reported & (delay <= REPORTED_WITHIN_S)
    # cases the victim's own report opened, within the hour: any money back?
    opened = fast & (cases["warning_source"] == "victim")
    return {
        "reported_within_1h_share": wilson(int(fast.sum()), int(reported.sum())),
        "recovered_any_when_victim_reported_within_1h": wilson(
            int((opened & (cases["recovered_yuan"] > 0.0)).sum()), int(opened.sum())),
    }


def wilson(successes: int, n: int) -> dict[str, Any]:
    """Return a share with its 95% Wilson score interval (nan when n is 0)."""
    p, low, high = wilson_interval(successes, n)
    if n == 0:
        return {"p": p, "ci": [low, high], "n": 0}
    return {"p": _round(p), "ci": [_round(low), _round(high)], "n": n}


def _ratio(numerator: float, denominator: float) -> float:
    return float(numerator) / float(denominator) if denominator > 0 else float("nan")


def _round(value: float) -> float:
    """Round to 6 significant digits (a loss rate of 0.01% keeps its digits)."""
    value = float(value)
    if not np.isfinite(value) or value == 0.0:
        return value
    return float(f"{value:.6g}")
