"""Erlang B and Erlang C for M/M/c queues, by the Erlang-B recursion (no factorials)."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]


# --------------------------------------------------------------------------------------
# Erlang B / Erlang C
# --------------------------------------------------------------------------------------


def _check_positive(name: str, value: float) -> float:
    """Return ``value`` as a float after checking it is finite and strictly positive."""
    v = float(value)
    if not math.isfinite(v) or v <= 0.0:
        raise ValueError(f"{name} must be a finite positive number, got {value!r}")
    return v


def _check_servers(servers: int) -> int:
    """Return ``servers`` after checking it is a positive integer."""
    if isinstance(servers, bool) or int(servers) != servers or servers < 1:
        raise ValueError(f"servers must be a positive integer, got {servers!r}")
    return int(servers)


def erlang_b(offered_load: float, servers: int) -> float:
    """Return the Erlang-B blocking probability of an M/M/c/c loss system.

    Uses the recursion ``B(k) = a B(k-1) / (k + a B(k-1))`` with ``B(0) = 1``, which is
    numerically stable for any number of servers.

    Args:
        offered_load: Offered load ``a = lambda / mu`` in Erlangs (> 0).
        servers: Number of servers ``c`` (>= 1).
    """
    a = _check_positive("offered_load", offered_load)
    c = _check_servers(servers)
    b = 1.0
    for k in range(1, c + 1):
        b = a * b / (k + a * b)
    return b


@dataclass(frozen=True)
class ErlangC:
    """M/M/c steady-state results returned by :func:`erlang_c`.

    Attributes:
        arrival_rate: Poisson arrival rate ``lambda``.
        service_rate: Exponential service rate ``mu`` of one server.
        servers: Number of servers ``c``.
        prob_wait: Probability an arriving customer has to wait (Erlang-C formula).
        mean_wait: Mean time spent waiting in queue ``Wq``.
        mean_response: Mean time in system ``W = Wq + 1/mu``.
        utilisation: Per-server utilisation ``rho = lambda / (c mu)``.
    """

    arrival_rate: float
    service_rate: float
    servers: int
    prob_wait: float
    mean_wait: float
    mean_response: float
    utilisation: float


def erlang_c(arrival_rate: float, service_rate: float, servers: int) -> ErlangC:
    """Return the exact M/M/c results (Erlang-C) for the given rates and server count.

    ``C = B / (1 - rho (1 - B))`` with ``B`` the Erlang-B value, so no factorials are
    formed and ``servers`` may be in the thousands.

    Raises:
        ValueError: If a rate is not positive, ``servers`` < 1, or ``rho >= 1``.
    """
    lam = _check_positive("arrival_rate", arrival_rate)
    mu = _check_positive("service_rate", service_rate)
    c = _check_servers(servers)
    a = lam / mu
    rho = a / c
    if rho >= 1.0:
        raise ValueError(
            f"M/M/c is unstable: utilisation rho = lambda/(c mu) = {rho:.6g} >= 1 "
            f"(lambda={lam}, mu={mu}, c={c}); add servers or lower the arrival rate"
        )
    b = erlang_b(a, c)
    prob_wait = b / (1.0 - rho * (1.0 - b))
    mean_wait = prob_wait / (c * mu - lam)
    return ErlangC(
        arrival_rate=lam,
        service_rate=mu,
        servers=c,
        prob_wait=prob_wait,
        mean_wait=mean_wait,
        mean_response=mean_wait + 1.0 / mu,
        utilisation=rho,
    )


def prob_wait_exceeds(result: ErlangC, t: float) -> float:
    """Return ``P(Wq > t) = C exp(-(c mu - lambda) t)`` for an M/M/c FCFS queue.

    Args:
        result: Output of :func:`erlang_c`.
        t: Waiting-time threshold (>= 0), same time unit as the rates.
    """
    tt = float(t)
    if not math.isfinite(tt) or tt < 0.0:
        raise ValueError(f"t must be a finite non-negative time, got {t!r}")
    decay = result.servers * result.service_rate - result.arrival_rate
    return result.prob_wait * math.exp(-decay * tt)
