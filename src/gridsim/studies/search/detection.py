"""Search theory: detection from effort, Bayes' rule on the map, Stone's allocation.

- **Detection of one pass** (the truth in the study). A searcher passing along a straight
  road segment sees a subject at lateral range x (perpendicular distance, when the
  subject's foot point falls on the segment) with Koopman's inverse-cube lateral-range
  law, p(x) = 1 - exp(-k / x^2), whose sweep width W (the integral of p over x) is
  2 sqrt(pi k), so k = W^2 / (4 pi) (Koopman, *Search and Screening*, 1946/1980, ch. 3).
- **Random search** (the planner's model). Track length L spread at random over an area
  A finds a subject there with POD = 1 - exp(-W L / A) (Koopman's random-search law);
  for a long random track this is what the pass law above adds up to (tested).
- **Bayes' rule.** After a search that failed, with POD q_i in cell i, the map becomes
  p_i (1 - q_i) / (1 - sum_j p_j q_j); a sighting report multiplies the map by its
  likelihood and renormalises.
- **Stone's rule.** For exponential detection (POD 1 - exp(-a_i z_i) for effort z_i), the
  effort that maximises the chance of success puts effort where p_i a_i exp(-a_i z_i)
  (the posterior times the POD per unit of effort) is highest, levelling it at lambda:
  z_i = max(0, ln(p_i a_i / lambda) / a_i) with sum z_i = Z (Stone, *Theory of Optimal
  Search*, 1975, ch. 2). Searchers that go, one sweep at a time, to the cell with the
  highest posterior x POD per second follow it step by step.
"""

from __future__ import annotations

import numpy as np
from scipy.optimize import brentq


def inverse_cube_k(sweep_width_m: np.ndarray | float) -> np.ndarray | float:
    """Return k of the inverse-cube law with sweep width ``sweep_width_m``: W^2 / (4 pi)."""
    return np.square(sweep_width_m) / (4.0 * np.pi)


def pass_detection_prob(a_xy: np.ndarray, b_xy: np.ndarray, subject_xy: np.ndarray,
                        sweep_width_m: np.ndarray | float) -> np.ndarray:
    """Return the chance each pass along segment a->b sees the subject (inverse-cube law).

    Arrays are (n, 2) (widths (n,) or a number); a subject whose foot point falls off
    the segment is not passed (0). A degenerate segment sees nothing.
    """
    dx, dy = b_xy[:, 0] - a_xy[:, 0], b_xy[:, 1] - a_xy[:, 1]
    rx, ry = subject_xy[:, 0] - a_xy[:, 0], subject_xy[:, 1] - a_xy[:, 1]
    length2 = dx * dx + dy * dy
    safe = np.where(length2 > 0.0, length2, 1.0)
    along = (rx * dx + ry * dy) / safe
    cross = dx * ry - dy * rx
    lateral2 = np.maximum(cross * cross / safe, 1e-12)  # on the road itself: seen (p = 1)
    p = -np.expm1(-inverse_cube_k(sweep_width_m) / lateral2)
    return np.where((length2 > 0.0) & (along >= 0.0) & (along <= 1.0), p, 0.0)


def koopman_pod(sweep_width_m: np.ndarray | float, track_m: np.ndarray | float,
                area_m2: np.ndarray | float) -> np.ndarray:
    """Return the random-search POD 1 - exp(-W L / A)."""
    return -np.expm1(-np.asarray(sweep_width_m) * track_m / area_m2)


def bayes_after_effort(belief: np.ndarray, cells: np.ndarray, effort_m2: np.ndarray,
                       area_m2: np.ndarray) -> None:
    """Update ``belief`` in place after a search that failed.

    ``effort_m2[k]`` (sweep width x track length) went into cell ``cells[k]`` (cells may
    repeat; their efforts add up), whose searched area is ``area_m2[cells[k]]``. With
    q_i = 1 - exp(-effort_i / A_i), the map becomes p_i (1 - q_i) / (1 - sum_j p_j q_j).
    """
    np.multiply.at(belief, cells, np.exp(-effort_m2 / area_m2[cells]))
    belief /= belief.sum()


def bayes_after_report(prior: np.ndarray, likelihood: np.ndarray) -> np.ndarray:
    """Return the map times the likelihood of a report, renormalised."""
    posterior = prior * likelihood
    return posterior / posterior.sum()


def report_likelihood(distance_m: np.ndarray, radius_m: float, trust: float,
                      total_area_m2: float) -> np.ndarray:
    """Return P(report | subject in cell) for a report "within ``radius_m`` of here".

    A true report (share ``trust``) places the subject uniformly in the disc of
    ``radius_m`` around the reported point; a false one anywhere in the area. A cell
    counts as in the disc by its centre's ``distance_m`` (inf: a cell that cannot be
    seen, like the outside). Returns density per m^2 of the reported point.
    """
    inside = (distance_m <= radius_m).astype(float)
    return trust * inside / (np.pi * radius_m ** 2) + (1.0 - trust) / total_area_m2


def best_cell(probability: np.ndarray, pod: np.ndarray, cost_s: np.ndarray) -> int:
    """Return the cell with the highest posterior x POD per second of effort (-1: none).

    Stone's rule, one sweep at a time; ``cost_s`` is the travel and sweep time (inf for
    a cell that cannot be swept).
    """
    rate = probability * pod / np.maximum(cost_s, 1e-9)
    best = int(np.argmax(rate))
    return best if rate[best] > 0.0 else -1


def stone_optimal_effort(probability: np.ndarray, alpha: np.ndarray, total: float
                         ) -> np.ndarray:
    """Return Stone's optimal effort per cell for POD 1 - exp(-alpha z), sum z = total."""
    p, a = np.asarray(probability, float), np.asarray(alpha, float)
    rate = p * a

    def spent(log_lambda: float) -> float:
        return float(np.sum(np.maximum(0.0, (np.log(rate) - log_lambda) / a)) - total)

    high = float(np.log(rate.max()))
    low = high - total * float(a.max()) - 1.0
    log_lambda = brentq(spent, low, high)
    return np.maximum(0.0, (np.log(rate) - log_lambda) / a)
