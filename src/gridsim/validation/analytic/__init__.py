"""Closed-form and exact queueing results used to validate the simulator.

Contents:

* :func:`erlang_b`, :func:`erlang_c`, :func:`prob_wait_exceeds` -- M/M/c formulas computed
  with the Erlang-B recursion (no factorials, stable for thousands of servers).
* :func:`hypercube_exact` -- Larson's (1974) hypercube queueing model solved exactly as a
  2^N-state continuous-time Markov chain (sparse, iterative, N <= 20).
* :func:`hypercube_approx` -- Larson's (1975) approximate procedure (N nonlinear equations
  in the unit workloads with M/M/N correction factors).
* :func:`hypercube_error` -- largest absolute workload difference between two results.
* :func:`priority_mmc` -- each class's mean wait in a non-preemptive priority M/M/c queue
  (Cobham 1954).
* :func:`preemptive_priority_mmc` -- each class's mean delay under preemptive resume,
  one service rate for all (Buzen and Bondi 1983).

All rates share one time unit (e.g. per second); times are in the reciprocal unit.
"""

from gridsim.validation.analytic.erlang import ErlangC, erlang_b, erlang_c, prob_wait_exceeds
from gridsim.validation.analytic.hypercube import (
    MAX_EXACT_UNITS,
    HypercubeResult,
    hypercube_approx,
    hypercube_error,
    hypercube_exact,
)
from gridsim.validation.analytic.priority import PriorityMMC, preemptive_priority_mmc, priority_mmc

__all__ = [
    "MAX_EXACT_UNITS",
    "ErlangC",
    "HypercubeResult",
    "PriorityMMC",
    "erlang_b",
    "erlang_c",
    "hypercube_approx",
    "hypercube_error",
    "hypercube_exact",
    "preemptive_priority_mmc",
    "priority_mmc",
    "prob_wait_exceeds",
]
