"""Statistics of samples: percentiles with distribution-free CIs, shares, means.

Percentiles come with distribution-free 95% confidence intervals from order statistics
(the rank of the q-quantile among n draws is Binomial(n, q)).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from scipy import stats

QUANTILES = {"p50": 0.50, "p90": 0.90, "p95": 0.95}
CI_LEVEL = 0.95


def describe(values: np.ndarray) -> dict[str, Any]:
    """Return n, mean and p50/p90/p95 with 95% CIs of the finite ``values``."""
    finite = np.sort(values[np.isfinite(values)])
    n = int(finite.shape[0])
    result: dict[str, Any] = {"n": n, "mean": round_to(finite.mean()) if n else None}
    for label, q in QUANTILES.items():
        if n == 0:
            result[label] = None
            result[f"{label}_ci"] = None
            continue
        result[label] = round_to(np.quantile(finite, q))
        result[f"{label}_ci"] = [round_to(v) for v in quantile_ci(finite, q)]
    return result


def quantile_ci(sorted_values: np.ndarray, q: float) -> tuple[float, float]:
    """Return a distribution-free ~95% CI of the q-quantile from sorted values."""
    n = sorted_values.shape[0]
    alpha = (1.0 - CI_LEVEL) / 2.0
    low_rank, high_rank = stats.binom.ppf([alpha, 1.0 - alpha], n, q)  # one call: half the cost
    lo, hi = int(low_rank) - 1, int(high_rank)
    return float(sorted_values[max(lo, 0)]), float(sorted_values[min(hi, n - 1)])


def wilson_interval(successes: int, n: int) -> tuple[float, float, float]:
    """Return a share and its 95% Wilson score interval (all nan when ``n`` is 0)."""
    if n == 0:
        return math.nan, math.nan, math.nan
    z = float(stats.norm.ppf(0.5 + CI_LEVEL / 2.0))
    p = successes / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * np.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return p, float(centre - half), float(centre + half)


def mean_ci(sample: np.ndarray, level: float) -> tuple[float, float]:
    """Return the mean of ``sample`` and the half-width of its two-sided t interval.

    The half-width is nan with fewer than two values; the mean is nan with none.
    """
    n = sample.shape[0]
    mean = float(sample.mean()) if n else float("nan")
    if n < 2:
        return mean, float("nan")
    t = float(stats.t.ppf(0.5 + level / 2.0, n - 1))
    return mean, t * float(sample.std(ddof=1)) / float(np.sqrt(n))


def rounded_share(mask: np.ndarray) -> float | None:
    """Return the share of True in ``mask`` to 4 decimals (None when empty)."""
    return round_to(mask.mean(), 4) if mask.shape[0] else None


def rounded_ratio(numerator: float, denominator: float) -> float | None:
    """Return the ratio to 4 decimals (None when the denominator is not positive)."""
    return round_to(numerator / denominator, 4) if denominator > 0 else None


def round_to(value: float, digits: int = 1) -> float:
    """Return ``value`` as a float rounded to ``digits`` decimals."""
    return round(float(value), digits)
