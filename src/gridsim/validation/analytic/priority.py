"""Non-preemptive priority M/M/c queues: each class's mean wait (Cobham 1954).

Classes are numbered from the most urgent. A free server always takes the oldest waiting
call of the most urgent class present and finishes it (no preemption); every class has
the same exponential service rate ``mu``. Cobham's result, as given by Larson and Odoni,
*Urban Operations Research* (1981), section 4.9.3, eqs. (4.111)-(4.112)
(http://web.mit.edu/urban_or_book/www/book/chapter4/4.9.3.html; also in Gross and
Harris, *Fundamentals of Queueing Theory*, multi-server nonpreemptive priorities)::

    W_k = W0 / ((1 - sigma_{k-1}) (1 - sigma_k)),   sigma_k = sum_{i <= k} lambda_i / (c mu)
    W0  = P(all c servers busy) * E[time until one frees | all busy] = C(c, a) / (c mu)

with ``C`` the Erlang-C probability of waiting at the total offered load ``a = lambda/mu``.
For one server ``W0 = rho / mu``, the M/G/1 residual service time ``lambda E[S^2] / 2`` of
exponential service, which is the single-server form (Larson and Odoni eq. 4.107;
Kleinrock, *Queueing Systems* I, section 3.5). With one class it is Erlang C's mean wait.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from gridsim.validation.analytic.erlang import _check_positive, _check_servers, erlang_c


@dataclass(frozen=True)
class PriorityMMC:
    """Non-preemptive priority M/M/c results returned by :func:`priority_mmc`.

    Attributes:
        arrival_rates: Poisson rate of each class, most urgent first.
        service_rate: Exponential service rate ``mu`` of one server (every class).
        servers: Number of servers ``c``.
        prob_wait: Probability that an arrival (of any class) waits: Erlang C.
        residual_wait: ``W0``, the mean time from an arrival until the first server frees
            (zero when one is free).
        mean_waits: Mean time in queue ``W_k`` of each class, most urgent first.
        utilisation: Per-server utilisation ``rho = sum(lambda) / (c mu)``.
    """

    arrival_rates: tuple[float, ...]
    service_rate: float
    servers: int
    prob_wait: float
    residual_wait: float
    mean_waits: tuple[float, ...]
    utilisation: float


def priority_mmc(
    arrival_rates: Sequence[float], service_rate: float, servers: int
) -> PriorityMMC:
    """Return each class's mean wait in a non-preemptive priority M/M/c queue (Cobham).

    Args:
        arrival_rates: Poisson rate of each class, most urgent first (each > 0).
        service_rate: Exponential service rate of one server, the same for every class.
        servers: Number of servers ``c`` (>= 1).

    Raises:
        ValueError: If a rate is not positive, there is no class, ``servers`` < 1, or the
            total utilisation is 1 or more.
    """
    if len(arrival_rates) == 0:
        raise ValueError("arrival_rates: give the rate of at least one class")
    rates = tuple(_check_positive(f"arrival_rates[{k}]", r) for k, r in enumerate(arrival_rates))
    mu = _check_positive("service_rate", service_rate)
    c = _check_servers(servers)
    total = math.fsum(rates)
    fcfs = erlang_c(total, mu, c)  # raises if rho >= 1
    capacity = c * mu
    w0 = fcfs.prob_wait / capacity
    waits = []
    sigma_before = 0.0
    for k in range(len(rates)):
        sigma = math.fsum(rates[: k + 1]) / capacity
        waits.append(w0 / ((1.0 - sigma_before) * (1.0 - sigma)))
        sigma_before = sigma
    return PriorityMMC(
        arrival_rates=rates,
        service_rate=mu,
        servers=c,
        prob_wait=fcfs.prob_wait,
        residual_wait=w0,
        mean_waits=tuple(waits),
        utilisation=fcfs.utilisation,
    )


def preemptive_priority_mmc(
    arrival_rates: Sequence[float], service_rate: float, servers: int
) -> tuple[float, ...]:
    """Return each class's mean delay in a preemptive-resume priority M/M/c queue.

    The delay is the time in system less the service itself (waiting before service and
    while preempted). With one exponential rate ``mu`` for every class, classes 1..k
    together behave as an M/M/c queue of their own rate, which lower classes cannot
    disturb; so the mean number of class k in system is ``L(sum_{i<=k} lambda_i) -
    L(sum_{i<k} lambda_i)`` with ``L`` the M/M/c mean number in system, and Little's law
    gives its time in system (Buzen and Bondi, "The response times of priority classes
    under preemptive resume in M/M/m queues", *Operations Research* 31(3), 1983).

    Raises:
        ValueError: As :func:`priority_mmc`.
    """
    if len(arrival_rates) == 0:
        raise ValueError("arrival_rates: give the rate of at least one class")
    rates = tuple(_check_positive(f"arrival_rates[{k}]", r) for k, r in enumerate(arrival_rates))
    mu = _check_positive("service_rate", service_rate)
    c = _check_servers(servers)

    def in_system(lam: float) -> float:
        return 0.0 if lam == 0.0 else lam * erlang_c(lam, mu, c).mean_response

    delays = []
    for k, rate in enumerate(rates):
        above = math.fsum(rates[:k])
        number = in_system(above + rate) - in_system(above)
        delays.append(number / rate - 1.0 / mu)
    return tuple(delays)
