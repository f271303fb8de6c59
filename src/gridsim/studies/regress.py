"""The regression gate: compare a scenario's response metrics with a stored baseline.

A baseline holds, for each gated metric, its value in every one of many replications
(400 by default), the direction that is better and a practical tolerance; it also names
how many replications a check runs (``check_replications``, 10 by default). A metric is
*worse* only when it is both practically worse (by more than its tolerance, relative to
the baseline mean) and statistically worse (one-sided Welch t test at the baseline's
false-alarm rate, split over the metrics, Bonferroni).

The baseline is large so that its mean is precise: the false-alarm rate then holds for
the one baseline that is committed, not only on average over baselines that might have
been drawn. With 10 replications on each side, a baseline mean 2 standard errors off in
the bad direction raised that metric's one-sided rate from 0.83% (5% / 6) to 12%, and
the committed baseline made an unchanged engine fail for 7-10% of fresh seeds. With 400
against 10 the same draw gives 1.4% (1.8% at 3 standard errors): with one metric that
far off the gate's Bonferroni bound, 1.4% + 4 x 0.83%, stays under 5%.

Replication seeds depend only on the root seed and the index, so a check run with the
baseline's own seed repeats the baseline's first ``check_replications`` runs; when it
reproduces them exactly the metric is "same" whatever the test would say.
"""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np
from scipy import stats

from gridsim.analysis.metrics import summary_value
from gridsim.core.errors import InputError
from gridsim.core.files import read_regular
from gridsim.core.output import GENERATOR, write_marked

BASELINE_FORMAT = "gridsim-baseline/2"
MAX_BASELINE_BYTES = 100e6  # a baseline holds a few metrics of a few hundred runs
Direction = Literal["lower", "higher"]
GATED_METRICS: dict[str, Direction] = {
    "first_arrival_s.p50": "lower",
    "first_arrival_s.p90": "lower",
    "police_arrival_s.p50": "lower",
    "police_arrival_s.p90": "lower",
    "answered_share": "higher",
    "local_before_police_share": "higher",
}
DEFAULT_TOLERANCE = 0.05  # 5% of the baseline mean
DEFAULT_FALSE_ALARM_RATE = 0.05
DEFAULT_BASELINE_REPLICATIONS = 400  # runs stored in a baseline: its mean is precise
DEFAULT_CHECK_REPLICATIONS = 10  # runs of one check, against the stored ones


@dataclass(frozen=True)
class Verdict:
    """One gated metric: baseline and current means, relative change and the verdict."""

    metric: str
    baseline: float
    now: float
    change: float  # (now - baseline) / |baseline|
    p_worse: float  # one-sided p value of "now is worse"
    verdict: Literal["same", "better", "worse"]
    reproduced: bool = False  # the runs equal the baseline's first runs, value for value


def make_baseline(
    summaries: list[dict[str, Any]], scenario_sha256: str, name: str, seed: int,
    overrides: list[str], check_replications: int = DEFAULT_CHECK_REPLICATIONS,
) -> dict[str, Any]:
    """Return a baseline document from the summaries of the replications."""
    if not 2 <= check_replications <= len(summaries):
        raise InputError(f"check_replications: {check_replications} must lie between 2 and "
                         f"the baseline's {len(summaries)} replications")
    return {
        "format": BASELINE_FORMAT,
        "scenario": name,
        "scenario_sha256": scenario_sha256,
        "overrides": overrides,
        "seed": seed,
        "replications": len(summaries),
        "check_replications": check_replications,
        "false_alarm_rate": DEFAULT_FALSE_ALARM_RATE,
        "metrics": {
            metric: {
                "direction": direction,
                "tolerance": DEFAULT_TOLERANCE,
                "values": [round(summary_value(s, metric), 6) for s in summaries],
            }
            for metric, direction in GATED_METRICS.items()
        },
    }


def load_baseline(path: Path) -> dict[str, Any]:
    """Return the checked baseline at ``path``; bad files raise ``InputError``."""
    if not (path.exists() or path.is_symlink()):
        raise InputError(f"{path}: baseline not found; create it with --update")
    try:
        document = json.loads(read_regular(path, "create it with --update",
                                           MAX_BASELINE_BYTES))
    except (ValueError, RecursionError) as exc:
        raise InputError(f"{path}: not a readable JSON baseline ({str(exc)[:120]}); "
                         "recreate it with --update") from None
    if not isinstance(document, dict) or document.get("format") != BASELINE_FORMAT:
        raise InputError(f"{path}: format: expected {BASELINE_FORMAT!r}; "
                         "recreate it with --update")
    for key, kind in (("scenario_sha256", str), ("seed", int), ("replications", int),
                      ("check_replications", int), ("false_alarm_rate", float),
                      ("metrics", dict), ("overrides", list)):
        value = document.get(key)
        if not isinstance(value, kind) or isinstance(value, bool):
            raise InputError(f"{path}: {key}: missing or not a {kind.__name__}; "
                             "recreate it with --update")
    if not 2 <= document["check_replications"] <= document["replications"]:
        raise InputError(f"{path}: check_replications: must lie between 2 and replications "
                         f"({document['replications']})")
    if not 0.0 < document["false_alarm_rate"] < 1.0:
        raise InputError(f"{path}: false_alarm_rate: must lie between 0 and 1")
    for metric in GATED_METRICS:
        entry = document["metrics"].get(metric)
        if not isinstance(entry, dict):
            raise InputError(f"{path}: metrics.{metric}: missing; recreate the baseline "
                             "with --update")
        values = entry.get("values")
        if (not isinstance(values, list) or len(values) < 2
                or not all(isinstance(v, int | float) for v in values)):
            raise InputError(f"{path}: metrics.{metric}.values: need at least two numbers")
        if entry.get("direction") not in ("lower", "higher"):
            raise InputError(f"{path}: metrics.{metric}.direction: must be 'lower' or 'higher'")
        tolerance = entry.get("tolerance")
        if not isinstance(tolerance, int | float) or tolerance < 0:
            raise InputError(f"{path}: metrics.{metric}.tolerance: must be a number >= 0")
    return document


def check_scenario(baseline: dict[str, Any], scenario_sha256: str, path: Path) -> None:
    """Raise ``InputError`` unless the baseline was made for this scenario."""
    if baseline["scenario_sha256"] != scenario_sha256:
        raise InputError(
            f"{path}: scenario_sha256: the baseline was made for another scenario "
            f"({baseline['scenario_sha256'][:12]}, this one is {scenario_sha256[:12]}); "
            "pass the matching scenario or recreate the baseline with --update"
        )


def compare(baseline: dict[str, Any], summaries: list[dict[str, Any]]) -> list[Verdict]:
    """Return the verdict on every gated metric of ``summaries`` against ``baseline``."""
    metrics = baseline["metrics"]
    alpha = baseline["false_alarm_rate"] / len(metrics)
    verdicts = []
    for metric, entry in metrics.items():
        base = np.asarray(entry["values"], dtype=float)
        now = np.array([round(summary_value(s, metric), 6) for s in summaries])
        sign = 1.0 if entry["direction"] == "lower" else -1.0  # > 0: worse
        base_mean, now_mean = float(np.nanmean(base)), float(np.nanmean(now))
        change = (now_mean - base_mean) / abs(base_mean) if base_mean else 0.0
        if now.shape[0] <= base.shape[0] and np.array_equal(now, base[:now.shape[0]],
                                                            equal_nan=True):
            # the baseline's own first runs, repeated exactly: the engine did not change
            verdicts.append(Verdict(metric, base_mean, now_mean, change, 1.0, "same", True))
            continue
        p_worse = _p_worse(sign * now, sign * base)
        p_better = _p_worse(sign * base, sign * now)
        practical = abs(change) > entry["tolerance"]
        verdict: Literal["same", "better", "worse"] = "same"
        if practical and sign * change > 0 and p_worse < alpha:
            verdict = "worse"
        elif practical and sign * change < 0 and p_better < alpha:
            verdict = "better"
        verdicts.append(Verdict(metric, base_mean, now_mean, change, p_worse, verdict))
    return verdicts


def _p_worse(now: np.ndarray, base: np.ndarray) -> float:
    """Return the one-sided Welch p value of mean(now) > mean(base)."""
    now, base = now[np.isfinite(now)], base[np.isfinite(base)]
    if now.shape[0] < 2 or base.shape[0] < 2:
        return 1.0
    if np.array_equal(np.sort(now), np.sort(base)):
        return 1.0
    if now.std() == 0.0 and base.std() == 0.0:
        return 0.0 if now.mean() > base.mean() else 1.0
    result = stats.ttest_ind(now, base, equal_var=False, alternative="greater")
    return float(result.pvalue)


def write_baseline(path: Path, baseline: dict[str, Any]) -> None:
    """Write ``baseline`` atomically, each metric's values on one line."""
    placeholders = {f"@values:{metric}@": entry["values"]
                    for metric, entry in baseline["metrics"].items()}
    document = {**baseline, "metrics": {
        metric: {**entry, "values": f"@values:{metric}@"}
        for metric, entry in baseline["metrics"].items()}}
    text = json.dumps(document, indent=2)
    for placeholder, values in placeholders.items():
        text = text.replace(json.dumps(placeholder), json.dumps(values))
    write_marked(path, (text + "\n").encode("utf-8"))


def write_junit(path: Path, scenario: str, verdicts: list[Verdict]) -> None:
    """Write a JUnit XML report: one test case per gated metric, failed when worse."""
    failures = sum(v.verdict == "worse" for v in verdicts)
    suite = ET.Element("testsuite", name="gridsim regress", tests=str(len(verdicts)),
                       failures=str(failures), errors="0")
    properties = ET.SubElement(suite, "properties")  # marks the file as gridsim's
    ET.SubElement(properties, "property", name="generator", value=GENERATOR)
    for v in verdicts:
        case = ET.SubElement(suite, "testcase", classname=f"gridsim.studies.regress.{scenario}",
                             name=v.metric)
        summary = (f"{v.metric}: baseline {v.baseline:.4g}, now {v.now:.4g} "
                   f"({v.change:+.1%}, one-sided p = {v.p_worse:.3g})")
        if v.verdict == "worse":
            ET.SubElement(case, "failure", message=f"{v.metric} got worse").text = summary
        else:
            ET.SubElement(case, "system-out").text = summary
    write_marked(path, ET.tostring(suite, encoding="utf-8", xml_declaration=True))
