"""Tests for gridsim.validation.analytic: Erlang formulas and the hypercube queueing model."""

from __future__ import annotations

import math
import time

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import integrate
from scipy.special import gammaln, logsumexp

from gridsim.validation.analytic import (
    ErlangC,
    HypercubeResult,
    erlang_b,
    erlang_c,
    hypercube_approx,
    hypercube_error,
    hypercube_exact,
    priority_mmc,
    prob_wait_exceeds,
)

# ----------------------------------------------------------------------------------------
# Erlang B / C
# ----------------------------------------------------------------------------------------


def test_erlang_c_textbook_two_arrivals_three_servers() -> None:
    r = erlang_c(2.0, 1.0, 3)
    assert r.prob_wait == pytest.approx(4.0 / 9.0, rel=1e-12)
    assert r.mean_wait == pytest.approx(4.0 / 9.0, rel=1e-12)
    assert r.mean_response == pytest.approx(4.0 / 9.0 + 1.0, rel=1e-12)
    assert r.utilisation == pytest.approx(2.0 / 3.0)
    assert isinstance(r, ErlangC)


def test_erlang_c_single_server_is_mm1() -> None:
    lam, mu = 0.7, 1.3
    r = erlang_c(lam, mu, 1)
    assert r.prob_wait == pytest.approx(lam / mu, rel=1e-12)
    assert r.mean_response == pytest.approx(1.0 / (mu - lam), rel=1e-12)
    assert r.mean_wait == pytest.approx(lam / (mu * (mu - lam)), rel=1e-12)


def test_erlang_b_textbook() -> None:
    # a = 2, c = 3: B = (8/6) / (1 + 2 + 2 + 8/6) = 4/19
    assert erlang_b(2.0, 3) == pytest.approx(4.0 / 19.0, rel=1e-12)
    assert erlang_b(5.0, 1) == pytest.approx(5.0 / 6.0, rel=1e-12)


def _log_space_erlang(a: float, c: int) -> tuple[float, float]:
    """Erlang B and C computed directly from log(a^k / k!) with logsumexp."""
    k = np.arange(c + 1, dtype=float)
    log_terms = k * math.log(a) - gammaln(k + 1.0)
    b = math.exp(log_terms[c] - logsumexp(log_terms))
    rho = a / c
    log_tail = log_terms[c] - math.log1p(-rho)
    c_prob = math.exp(log_tail - logsumexp(np.append(log_terms[:c], log_tail)))
    return b, c_prob


@pytest.mark.parametrize(("servers", "rho"), [(1000, 0.95), (2500, 0.99), (50, 0.5), (7, 0.9)])
def test_erlang_large_c_matches_log_space(servers: int, rho: float) -> None:
    mu = 0.25
    lam = rho * servers * mu
    r = erlang_c(lam, mu, servers)
    b_ref, c_ref = _log_space_erlang(lam / mu, servers)
    assert 0.0 <= r.prob_wait <= 1.0
    assert math.isfinite(r.mean_wait) and math.isfinite(r.mean_response)
    assert r.prob_wait == pytest.approx(c_ref, rel=1e-9)
    assert erlang_b(lam / mu, servers) == pytest.approx(b_ref, rel=1e-9)
    assert r.mean_wait == pytest.approx(c_ref / (servers * mu - lam), rel=1e-9)


def test_prob_wait_exceeds_tail_and_integral() -> None:
    r = erlang_c(2.0, 1.0, 3)
    assert prob_wait_exceeds(r, 0.0) == pytest.approx(r.prob_wait)
    assert prob_wait_exceeds(r, 2.0) == pytest.approx(4.0 / 9.0 * math.exp(-2.0))
    # E[Wq] = integral of P(Wq > t) dt
    area, _ = integrate.quad(lambda t: prob_wait_exceeds(r, t), 0.0, math.inf)
    assert area == pytest.approx(r.mean_wait, rel=1e-8)
    with pytest.raises(ValueError):
        prob_wait_exceeds(r, -1.0)


@pytest.mark.parametrize(
    ("lam", "mu", "c"),
    [(3.0, 1.0, 3), (4.0, 1.0, 3), (0.0, 1.0, 2), (-1.0, 1.0, 2), (1.0, 0.0, 2), (1.0, 1.0, 0)],
)
def test_erlang_c_rejects_bad_input(lam: float, mu: float, c: int) -> None:
    with pytest.raises(ValueError):
        erlang_c(lam, mu, c)


def test_erlang_c_unstable_message_is_clear() -> None:
    with pytest.raises(ValueError, match="rho"):
        erlang_c(3.0, 1.0, 3)


# ----------------------------------------------------------------------------------------
# Non-preemptive priority M/M/c (Cobham)
# ----------------------------------------------------------------------------------------


def test_priority_single_server_is_the_mm1_priority_formula() -> None:
    # M/M/1: W0 = rho / mu (residual exponential service), sigma_k in lambda / mu
    lam, mu = [0.1, 0.25, 0.3], 1.0
    r = priority_mmc(lam, mu, 1)
    rho = sum(lam) / mu
    sigma = np.cumsum(lam) / mu
    before = np.concatenate([[0.0], sigma[:-1]])
    expected = (rho / mu) / ((1.0 - before) * (1.0 - sigma))
    assert r.mean_waits == pytest.approx(tuple(expected), rel=1e-12)
    # textbook numbers: two classes of 0.25 each at mu = 1 wait 2/3 and 4/3
    two = priority_mmc([0.25, 0.25], 1.0, 1)
    assert two.mean_waits == pytest.approx((2.0 / 3.0, 4.0 / 3.0), rel=1e-12)


@pytest.mark.parametrize(("lam", "mu", "c"), [(2.0, 1.0, 3), (0.95 * 50 / 300, 1 / 300, 50)])
def test_priority_one_class_is_erlang_c(lam: float, mu: float, c: int) -> None:
    r = priority_mmc([lam], mu, c)
    fcfs = erlang_c(lam, mu, c)
    assert r.mean_waits == pytest.approx((fcfs.mean_wait,), rel=1e-12)
    assert r.prob_wait == pytest.approx(fcfs.prob_wait, rel=1e-12)
    assert r.utilisation == pytest.approx(fcfs.utilisation)


@given(
    rates=st.lists(st.floats(0.05, 1.0), min_size=1, max_size=5),
    servers=st.integers(1, 30),
    load=st.floats(0.05, 0.98),
)
@settings(max_examples=100, deadline=None)
def test_priority_conserves_the_fcfs_mean_wait(
    rates: list[float], servers: int, load: float
) -> None:
    """Kleinrock's conservation law: same service for all, so the mean over calls is FCFS."""
    lam = np.array(rates) / sum(rates) * load * servers  # mu = 1
    r = priority_mmc(lam.tolist(), 1.0, servers)
    overall = float(np.dot(lam, r.mean_waits) / lam.sum())
    assert overall == pytest.approx(erlang_c(lam.sum(), 1.0, servers).mean_wait, rel=1e-9)
    assert all(a <= b for a, b in zip(r.mean_waits, r.mean_waits[1:], strict=False))


def _priority_ctmc(lam: tuple[float, float], mu: float, c: int, max_queue: int
                   ) -> tuple[float, float]:
    """Mean waits of two classes from the Markov chain (busy, queued 1, queued 2), by Little.

    Every class has the same service rate, so who is in service does not matter: a server
    that frees takes a waiting class-1 call if any, else a class-2 call.
    """
    from scipy import sparse
    from scipy.sparse.linalg import spsolve

    states = [(b, 0, 0) for b in range(c)] + [
        (c, q1, q2) for q1 in range(max_queue + 1) for q2 in range(max_queue + 1 - q1)
    ]
    index = {s: i for i, s in enumerate(states)}
    rows: list[int] = []
    cols: list[int] = []
    vals: list[float] = []

    def add(i: int, target: tuple[int, int, int], rate: float) -> None:
        rows.append(i)
        cols.append(index[target])
        vals.append(rate)

    for (b, q1, q2), i in index.items():
        if b < c:
            add(i, (b + 1, 0, 0), lam[0] + lam[1])
        elif q1 + q2 < max_queue:
            add(i, (c, q1 + 1, q2), lam[0])
            add(i, (c, q1, q2 + 1), lam[1])
        if b == 0:
            continue
        if q1 > 0:
            add(i, (c, q1 - 1, q2), b * mu)
        elif q2 > 0:
            add(i, (c, 0, q2 - 1), b * mu)
        else:
            add(i, (b - 1, 0, 0), b * mu)
    size = len(states)
    gen = sparse.csr_matrix((vals, (rows, cols)), shape=(size, size)).tolil()
    gen.setdiag(-np.asarray(gen.sum(axis=1)).ravel())
    a = gen.T.tolil()
    a[0, :] = np.ones(size)
    rhs = np.zeros(size)
    rhs[0] = 1.0
    pi = spsolve(a.tocsc(), rhs)
    q1_mean = sum(pi[i] * s[1] for s, i in index.items())
    q2_mean = sum(pi[i] * s[2] for s, i in index.items())
    return q1_mean / lam[0], q2_mean / lam[1]


@pytest.mark.parametrize(("lam", "c"), [((0.3, 0.4), 1), ((0.5, 0.9), 2), ((0.6, 1.5), 3)])
def test_priority_matches_a_brute_force_markov_chain(lam: tuple[float, float], c: int) -> None:
    chain = _priority_ctmc(lam, 1.0, c, max_queue=120)
    assert priority_mmc(lam, 1.0, c).mean_waits == pytest.approx(chain, rel=1e-6)


@pytest.mark.parametrize(
    ("lam", "mu", "c", "match"),
    [([], 1.0, 1, "at least one class"), ([0.5, 0.0], 1.0, 1, "arrival_rates\\[1\\]"),
     ([0.5], -1.0, 1, "service_rate"), ([0.5], 1.0, 0, "servers"),
     ([0.6, 0.5], 1.0, 1, "unstable")],
)
def test_priority_rejects_bad_input(lam: list[float], mu: float, c: int, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        priority_mmc(lam, mu, c)


# ----------------------------------------------------------------------------------------
# Hypercube helpers: an independent brute-force CTMC (dense, explicit queue states)
# ----------------------------------------------------------------------------------------


def _brute_force(
    lam: np.ndarray,
    pref: np.ndarray,
    mu: np.ndarray,
    queue: bool,
    max_queue: int = 60,
) -> dict[str, np.ndarray | float]:
    """Solve the hypercube (with explicit, truncated queue states) by dense linear algebra."""
    n_atoms, n_units = pref.shape
    full = (1 << n_units) - 1
    states: list[tuple[int, int]] = [(b, 0) for b in range(1 << n_units)]
    if queue:
        states += [(full, k) for k in range(1, max_queue + 1)]
    index = {s: i for i, s in enumerate(states)}
    size = len(states)
    gen = np.zeros((size, size))

    def first_free(j: int, busy: int) -> int:
        for unit in pref[j]:
            if not busy >> int(unit) & 1:
                return int(unit)
        return -1

    for (busy, k), i in index.items():
        for j in range(n_atoms):
            unit = first_free(j, busy)
            if unit >= 0:
                gen[i, index[(busy | 1 << unit, 0)]] += lam[j]
            elif queue and k < max_queue:
                gen[i, index[(full, k + 1)]] += lam[j]
        for unit in range(n_units):
            if busy >> unit & 1:
                target = (full, k - 1) if k > 0 else (busy & ~(1 << unit), 0)
                gen[i, index[target]] += mu[unit]
    np.fill_diagonal(gen, -gen.sum(axis=1))
    a = gen.T.copy()
    a[0, :] = 1.0
    rhs = np.zeros(size)
    rhs[0] = 1.0
    pi = np.linalg.solve(a, rhs)

    total = lam.sum()
    hyper = np.zeros(1 << n_units)
    for (busy, _k), i in index.items():
        hyper[busy] += pi[i]
    workload = np.array(
        [sum(hyper[b] for b in range(full + 1) if b >> n & 1) for n in range(n_units)]
    )
    dispatch = np.zeros((n_atoms, n_units))
    for j in range(n_atoms):
        for b in range(full + 1):
            unit = first_free(j, b)
            if unit >= 0:
                dispatch[j, unit] += lam[j] * pi[index[(b, 0)]]
    queued_mass = sum(pi[index[(full, k)]] for k in range(1, max_queue + 1)) if queue else 0.0
    # A unit that frees while calls wait takes the head of the queue (atom j w.p. lam_j/Lambda).
    dispatch += np.outer(lam / total, mu * queued_mass)
    dispatch /= dispatch.sum()
    mean_queue_len = (
        sum(k * pi[index[(full, k)]] for k in range(1, max_queue + 1)) if queue else 0.0
    )
    return {
        "state_probs": hyper,
        "workload": workload,
        "dispatch": dispatch,
        "all_busy": float(hyper[full]),
        "mean_queue_wait": mean_queue_len / total,
    }


def _spatial_case(
    n_units: int, n_atoms: int, load: float, seed: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Random atoms/units in the unit square; nearest-first preferences; total load*N (mu=1)."""
    rng = np.random.default_rng(seed)
    units = rng.uniform(0.0, 1.0, (n_units, 2))
    atoms = rng.uniform(0.0, 1.0, (n_atoms, 2))
    travel = np.linalg.norm(atoms[:, None, :] - units[None, :, :], axis=2)
    pref = np.argsort(travel, axis=1)
    lam = rng.uniform(0.5, 1.5, n_atoms)
    lam *= load * n_units / lam.sum()
    return lam, pref, travel


# ----------------------------------------------------------------------------------------
# Hypercube exact
# ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("queue", [True, False])
@pytest.mark.parametrize("hetero_mu", [False, True])
def test_hypercube_n3_matches_brute_force(queue: bool, hetero_mu: bool) -> None:
    pref = np.array([[0, 1, 2], [1, 2, 0], [2, 0, 1], [0, 2, 1], [1, 0, 2]])
    lam = np.array([0.7, 0.4, 0.3, 0.5, 0.2])
    mu = np.array([1.0, 1.5, 0.8]) if hetero_mu else np.full(3, 1.2)
    rng = np.random.default_rng(3)
    travel = rng.uniform(1.0, 10.0, pref.shape)
    res = hypercube_exact(lam, pref, mu if hetero_mu else 1.2, travel, queue=queue)
    ref = _brute_force(lam, pref, mu, queue)

    np.testing.assert_allclose(res.state_probs, ref["state_probs"], atol=1e-9)
    np.testing.assert_allclose(res.workload, ref["workload"], atol=1e-9)
    np.testing.assert_allclose(res.dispatch_fraction, ref["dispatch"], atol=1e-9)
    assert res.prob_all_busy == pytest.approx(ref["all_busy"], abs=1e-9)
    assert res.mean_queue_wait == pytest.approx(ref["mean_queue_wait"], abs=1e-8)
    assert res.dispatch_fraction.sum() == pytest.approx(1.0, abs=1e-12)
    assert res.state_probs.sum() == pytest.approx(1.0, abs=1e-12)
    assert res.mean_travel_time == pytest.approx(float(np.sum(ref["dispatch"] * travel)), abs=1e-8)
    if queue:
        assert res.prob_queue == res.prob_all_busy and res.loss_probability == 0.0
    else:
        assert res.loss_probability == res.prob_all_busy and res.prob_queue == 0.0
        assert res.mean_queue_wait == 0.0


def test_queued_calls_travel_uses_mean_over_units() -> None:
    lam, pref, travel = _spatial_case(3, 6, 0.7, seed=11)
    res = hypercube_exact(lam, pref, 1.0, travel, queue=True)
    queued = res.prob_queue * float(np.sum(lam / lam.sum() * travel.mean(axis=1)))
    # dispatch fractions from the free states, independently of the queue convention
    free_part = res.dispatch_fraction - np.outer(lam / lam.sum(), np.full(3, res.prob_queue / 3))
    assert free_part.min() >= -1e-12
    assert free_part.sum() == pytest.approx(1.0 - res.prob_queue)
    assert res.mean_travel_time == pytest.approx(float(np.sum(free_part * travel)) + queued)


def test_hypercube_single_unit_is_mm1_and_erlang_loss() -> None:
    lam, mu = 0.6, 1.5
    q = hypercube_exact([lam], [[0]], mu, [[4.0]], queue=True)
    rho = lam / mu
    assert q.workload[0] == pytest.approx(rho)
    assert q.prob_queue == pytest.approx(rho)
    assert q.mean_queue_wait == pytest.approx(rho / (mu - lam))
    assert q.mean_travel_time == pytest.approx(4.0)
    np.testing.assert_allclose(q.state_probs, [1 - rho, rho])

    loss = hypercube_exact([lam], [[0]], mu, queue=False)
    a = lam / mu
    assert loss.workload[0] == pytest.approx(a / (1 + a))
    assert loss.loss_probability == pytest.approx(erlang_b(a, 1))
    assert loss.mean_travel_time is None
    np.testing.assert_allclose(loss.dispatch_fraction, [[1.0]])


@pytest.mark.parametrize("queue", [True, False])
def test_symmetric_cyclic_preferences_give_equal_workloads(queue: bool) -> None:
    n = 5
    pref = np.array([[(j + k) % n for k in range(n)] for j in range(n)])
    lam = np.full(n, 0.8)
    res = hypercube_exact(lam, pref, 1.0, queue=queue)
    total = lam.sum()
    np.testing.assert_allclose(res.workload, res.workload.mean(), atol=1e-10)
    if queue:
        ec = erlang_c(total, 1.0, n)
        assert res.workload.sum() == pytest.approx(total, rel=1e-10)
        assert res.workload.mean() == pytest.approx(ec.utilisation, rel=1e-10)
        assert res.prob_queue == pytest.approx(ec.prob_wait, rel=1e-10)
        assert res.mean_queue_wait == pytest.approx(ec.mean_wait, rel=1e-9)
    else:
        b = erlang_b(total, n)
        assert res.workload.sum() == pytest.approx(total * (1 - b), rel=1e-10)
        assert res.loss_probability == pytest.approx(b, rel=1e-10)
    # each atom is served by its own first-choice unit with the same frequency
    own = np.array([res.dispatch_fraction[j, pref[j, 0]] for j in range(n)])
    np.testing.assert_allclose(own, own.mean(), atol=1e-12)
    approx = hypercube_approx(lam, pref, 1.0, queue=queue)
    assert hypercube_error(res, approx) < 1e-9


def test_identical_preferences_loss_is_sequential_hunting() -> None:
    # Ordered hunting in a loss system: unit k (0-based) carries a * (B(a, k) - B(a, k+1)).
    n, a = 4, 2.5
    pref = np.tile(np.arange(n), (3, 1))
    lam = np.array([1.0, 0.5, 1.0])
    res = hypercube_exact(lam, pref, lam.sum() / a, queue=False)
    blocking = [1.0] + [erlang_b(a, k) for k in range(1, n + 1)]
    expected = np.array([a * (blocking[k] - blocking[k + 1]) for k in range(n)])
    np.testing.assert_allclose(res.workload, expected, rtol=1e-10)
    assert res.workload.sum() == pytest.approx(a * (1 - erlang_b(a, n)), rel=1e-10)
    assert np.all(np.diff(res.workload) < 0)


def test_identical_preferences_queue_total_matches_erlang_c() -> None:
    n = 4
    pref = np.tile(np.arange(n), (2, 1))
    lam = np.array([1.2, 1.6])
    res = hypercube_exact(lam, pref, 1.0, queue=True)
    ec = erlang_c(lam.sum(), 1.0, n)
    assert res.workload.sum() == pytest.approx(lam.sum(), rel=1e-10)
    assert res.prob_queue == pytest.approx(ec.prob_wait, rel=1e-10)
    assert np.all(np.diff(res.workload) < 0)
    assert res.dispatch_fraction.sum() == pytest.approx(1.0)


def test_iterative_solver_matches_dense_solve_n8() -> None:
    rng = np.random.default_rng(5)
    n, j = 8, 12
    pref = np.array([rng.permutation(n) for _ in range(j)])
    lam = rng.uniform(0.0, 1.0, j)
    lam[3] = 0.0  # an atom with no demand is allowed
    mu = rng.uniform(0.5, 2.0, n)
    lam *= 0.6 * mu.sum() / lam.sum()
    for queue in (True, False):
        res = hypercube_exact(lam, pref, mu, queue=queue)
        ref = _brute_force(lam, pref, mu, queue=False)  # loss chain; rescale for the queue
        probs = np.asarray(ref["state_probs"])
        if queue:
            r = lam.sum() / mu.sum()
            probs = probs.copy()
            probs[-1] /= 1 - r
            probs /= probs.sum()
        np.testing.assert_allclose(res.state_probs, probs, atol=1e-11)
        assert res.dispatch_fraction[3].sum() == 0.0
        assert res.dispatch_fraction.sum() == pytest.approx(1.0, abs=1e-12)


def test_n12_exact_is_fast_and_conserves_erlang_totals() -> None:
    lam, pref, travel = _spatial_case(12, 40, 0.7, seed=2)
    start = time.perf_counter()
    res = hypercube_exact(lam, pref, 1.0, travel, queue=True)
    elapsed = time.perf_counter() - start
    assert elapsed < 10.0
    # with equal service rates the number of busy units is exactly M/M/N
    ec = erlang_c(lam.sum(), 1.0, 12)
    assert res.prob_queue == pytest.approx(ec.prob_wait, rel=1e-8)
    assert res.workload.sum() == pytest.approx(lam.sum(), rel=1e-8)
    assert res.dispatch_fraction.sum() == pytest.approx(1.0, abs=1e-10)
    assert res.state_probs.min() >= 0.0
    assert res.mean_travel_time is not None and 0.0 < res.mean_travel_time < float(travel.max())

    loss = hypercube_exact(lam, pref, 1.0, queue=False)
    b = erlang_b(lam.sum(), 12)
    assert loss.loss_probability == pytest.approx(b, rel=1e-8)
    assert loss.workload.sum() == pytest.approx(lam.sum() * (1 - b), rel=1e-8)


@settings(max_examples=25, deadline=None)
@given(
    n_units=st.integers(1, 5),
    n_atoms=st.integers(1, 6),
    load=st.floats(0.05, 0.95),
    queue=st.booleans(),
    seed=st.integers(0, 2**31 - 1),
)
def test_hypercube_invariants(
    n_units: int, n_atoms: int, load: float, queue: bool, seed: int
) -> None:
    rng = np.random.default_rng(seed)
    pref = np.array([rng.permutation(n_units) for _ in range(n_atoms)])
    lam = rng.uniform(0.01, 1.0, n_atoms)
    lam *= load * n_units / lam.sum()
    res = hypercube_exact(lam, pref, 1.0, queue=queue)
    assert res.dispatch_fraction.sum() == pytest.approx(1.0, abs=1e-10)
    assert np.all(res.dispatch_fraction >= -1e-14)
    # each atom's share of dispatches equals its share of served calls
    np.testing.assert_allclose(res.dispatch_fraction.sum(axis=1), lam / lam.sum(), atol=1e-10)
    assert np.all((res.workload >= 0) & (res.workload <= 1))
    if queue:
        assert res.workload.sum() == pytest.approx(lam.sum(), rel=1e-8)
    else:
        b = erlang_b(lam.sum(), n_units)
        assert res.workload.sum() == pytest.approx(lam.sum() * (1 - b), rel=1e-8)
    approx = hypercube_approx(lam, pref, 1.0, queue=queue)
    assert approx.dispatch_fraction.sum() == pytest.approx(1.0, abs=1e-10)
    assert hypercube_error(res, approx) < 0.1


# ----------------------------------------------------------------------------------------
# Hypercube approximation
# ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("queue", [True, False])
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_approx_close_to_exact_nine_units(queue: bool, seed: int) -> None:
    lam, pref, travel = _spatial_case(9, 30, 0.5, seed=seed)
    exact = hypercube_exact(lam, pref, 1.0, travel, queue=queue)
    approx = hypercube_approx(lam, pref, 1.0, travel, queue=queue)
    assert isinstance(approx, HypercubeResult)
    assert approx.state_probs.size == 0
    err = hypercube_error(exact, approx)
    assert err < 0.03
    assert err / float(exact.workload.mean()) < 0.06
    assert approx.prob_all_busy == pytest.approx(exact.prob_all_busy, rel=1e-9)
    assert approx.mean_queue_wait == pytest.approx(exact.mean_queue_wait, rel=1e-9)
    assert approx.dispatch_fraction.sum() == pytest.approx(1.0)
    assert np.abs(approx.dispatch_fraction - exact.dispatch_fraction).max() < 0.01
    assert exact.mean_travel_time is not None and approx.mean_travel_time is not None
    assert approx.mean_travel_time == pytest.approx(exact.mean_travel_time, rel=0.05)


def test_approx_single_unit_exact() -> None:
    for queue in (True, False):
        e = hypercube_exact([0.3, 0.2], [[0], [0]], 1.0, queue=queue)
        a = hypercube_approx([0.3, 0.2], [[0], [0]], 1.0, queue=queue)
        assert hypercube_error(e, a) < 1e-12
        np.testing.assert_allclose(a.dispatch_fraction, e.dispatch_fraction, atol=1e-12)


def test_approx_handles_many_units() -> None:
    lam, pref, _ = _spatial_case(40, 120, 0.6, seed=4)
    res = hypercube_approx(lam, pref, 1.0, queue=True)
    assert np.all((res.workload > 0) & (res.workload < 1))
    assert res.dispatch_fraction.sum() == pytest.approx(1.0)
    with pytest.raises(ValueError):
        hypercube_approx(lam, pref, np.linspace(1.0, 2.0, 40), queue=True)


def test_hypercube_error_shape_mismatch() -> None:
    a = hypercube_exact([1.0], [[0]], 2.0)
    b = hypercube_exact([1.0], [[0, 1]], 2.0)
    assert hypercube_error(a, a) == 0.0
    with pytest.raises(ValueError):
        hypercube_error(a, b)


# ----------------------------------------------------------------------------------------
# Validation
# ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("func", [hypercube_exact, hypercube_approx])
@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"preference": [[0, 0], [1, 0]]}, "permutation"),
        ({"preference": [[0, 2], [1, 0]]}, "permutation"),
        ({"preference": [[0, 1]]}, "shape"),
        ({"preference": [0, 1]}, "shape"),
        ({"preference": [[0.5, 1], [1, 0]]}, "integer"),
        ({"arrival_rates": [-0.1, 0.5]}, "non-negative"),
        ({"arrival_rates": [0.0, 0.0]}, "positive"),
        ({"arrival_rates": [math.nan, 0.5]}, "finite"),
        ({"service_rate": -1.0}, "positive"),
        ({"service_rate": [1.0, 1.0, 1.0]}, "shape"),
        ({"travel_time": [[1.0, 2.0]]}, "travel_time"),
        ({"arrival_rates": [1.5, 1.0], "queue": True}, "unstable"),
    ],
)
def test_hypercube_validation(func: object, kwargs: dict[str, object], match: str) -> None:
    args: dict[str, object] = {
        "arrival_rates": [0.5, 0.3],
        "preference": [[0, 1], [1, 0]],
        "service_rate": 1.0,
        "travel_time": None,
        "queue": True,
    }
    args.update(kwargs)
    assert callable(func)
    with pytest.raises(ValueError, match=match):
        func(**args)


def test_hypercube_exact_rejects_too_many_units() -> None:
    n = 21
    pref = np.array([np.roll(np.arange(n), k) for k in range(3)])
    with pytest.raises(ValueError, match="at most 20"):
        hypercube_exact([1.0, 1.0, 1.0], pref, 1.0)
    # the approximation has no such limit
    assert hypercube_approx([1.0, 1.0, 1.0], pref, 1.0).workload.shape == (n,)


def test_loss_model_allows_overload() -> None:
    res = hypercube_exact([5.0, 5.0], [[0, 1], [1, 0]], 1.0, queue=False)
    assert res.loss_probability == pytest.approx(erlang_b(10.0, 2))
    assert res.workload[0] == pytest.approx(res.workload[1])
    assert res.workload.sum() == pytest.approx(10.0 * (1 - erlang_b(10.0, 2)))
