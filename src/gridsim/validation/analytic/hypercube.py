"""Larson's hypercube queueing model: exact (1974) and approximate (1975)."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp
import scipy.sparse.linalg as spla
from scipy.special import gammaln, logsumexp

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]

MAX_EXACT_UNITS = 20
"""Largest number of units accepted by :func:`hypercube_exact` (2^20 states)."""


# --------------------------------------------------------------------------------------
# Hypercube model: inputs
# --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class HypercubeResult:
    """Steady-state results of the hypercube model (exact or approximate).

    Attributes:
        state_probs: ``(2^N,)`` probability that the set of busy units is the bitmask
            ``B`` (bit ``n`` set = unit ``n`` busy). For ``queue=True`` the all-busy entry
            aggregates every queue length. Empty for :func:`hypercube_approx`.
        workload: ``(N,)`` fraction of time each unit is busy (all-busy/queued time
            counts as busy for every unit).
        dispatch_fraction: ``(J, N)`` fraction of all dispatches that send a unit ``n``
            to a call from atom ``j``; sums to 1. Lost calls are not dispatches. With a
            queue, a queued call goes to the unit that frees first, i.e. unit ``n`` with
            probability ``mu_n / sum(mu)`` (uniform for equal service rates).
        prob_all_busy: Long-run fraction of time all units are busy (= fraction of
            arrivals that find all units busy, by PASTA).
        loss_probability: Fraction of calls lost (``queue=False``); 0 with a queue.
        prob_queue: Fraction of calls that wait in queue (``queue=True``); 0 for loss.
        mean_queue_wait: Mean time a call waits in queue (0 for the loss model).
        mean_travel_time: ``sum(dispatch_fraction * travel_time)`` or ``None`` when no
            travel-time matrix was given.
        queue: Whether the model had an infinite FCFS queue (else calls were lost).
    """

    state_probs: FloatArray
    workload: FloatArray
    dispatch_fraction: FloatArray
    prob_all_busy: float
    loss_probability: float
    prob_queue: float
    mean_queue_wait: float
    mean_travel_time: float | None
    queue: bool


@dataclass(frozen=True)
class _Inputs:
    """Validated hypercube inputs."""

    lam: FloatArray  # (J,)
    pref: IntArray  # (J, N)
    mu: FloatArray  # (N,)
    travel: FloatArray | None  # (J, N)
    queue: bool

    @property
    def n_units(self) -> int:
        """Return the number of units N."""
        return int(self.pref.shape[1])

    @property
    def total_rate(self) -> float:
        """Return the total arrival rate Lambda."""
        return float(self.lam.sum())


def _validate(
    arrival_rates: Sequence[float] | npt.ArrayLike,
    preference: Sequence[Sequence[int]] | npt.ArrayLike,
    service_rate: float | Sequence[float] | npt.ArrayLike,
    travel_time: Sequence[Sequence[float]] | npt.ArrayLike | None,
    queue: bool,
) -> _Inputs:
    """Return validated, array-typed hypercube inputs or raise ValueError."""
    lam = np.asarray(arrival_rates, dtype=np.float64)
    if lam.ndim != 1 or lam.size == 0:
        raise ValueError(f"arrival_rates must be a non-empty 1-D sequence, got shape {lam.shape}")
    if not np.all(np.isfinite(lam)) or np.any(lam < 0.0):
        raise ValueError("arrival_rates must be finite and non-negative")
    if lam.sum() <= 0.0:
        raise ValueError("the total arrival rate must be positive")
    n_atoms = lam.size

    pref_raw = np.asarray(preference)
    if pref_raw.ndim != 2 or pref_raw.shape[0] != n_atoms or pref_raw.shape[1] == 0:
        raise ValueError(
            f"preference must have shape (J, N) = ({n_atoms}, N) with N >= 1, "
            f"one row per atom; got shape {pref_raw.shape}"
        )
    is_integral = np.issubdtype(pref_raw.dtype, np.integer) or (
        np.issubdtype(pref_raw.dtype, np.floating) and bool(np.all(pref_raw == np.round(pref_raw)))
    )
    if not is_integral:
        raise ValueError("preference entries must be integer unit indices")
    pref = pref_raw.astype(np.int64)
    n_units = pref.shape[1]
    expected = np.arange(n_units)
    for j in range(n_atoms):
        if not np.array_equal(np.sort(pref[j]), expected):
            raise ValueError(
                f"preference[{j}] = {pref[j].tolist()} is not a permutation of "
                f"range({n_units}); every atom must rank every unit exactly once"
            )

    mu = np.asarray(service_rate, dtype=np.float64)
    if mu.ndim == 0:
        mu = np.full(n_units, float(mu))
    if mu.shape != (n_units,):
        raise ValueError(
            f"service_rate must be a scalar or have shape ({n_units},), got {mu.shape}"
        )
    if not np.all(np.isfinite(mu)) or np.any(mu <= 0.0):
        raise ValueError("service rates must be finite and positive")

    travel: FloatArray | None = None
    if travel_time is not None:
        travel = np.asarray(travel_time, dtype=np.float64)
        if travel.shape != (n_atoms, n_units):
            raise ValueError(
                f"travel_time must have shape (J, N) = ({n_atoms}, {n_units}), got {travel.shape}"
            )
        if not np.all(np.isfinite(travel)) or np.any(travel < 0.0):
            raise ValueError("travel_time entries must be finite and non-negative")

    if queue and lam.sum() >= mu.sum():
        raise ValueError(
            f"infinite-queue hypercube is unstable: total arrival rate {lam.sum():.6g} "
            f">= total service capacity {mu.sum():.6g}"
        )
    return _Inputs(lam=lam, pref=pref, mu=mu, travel=travel, queue=bool(queue))


def _dispatch_fraction_queue_part(inp: _Inputs, prob_all_busy: float) -> FloatArray:
    """Return the (J, N) dispatch fractions of calls that find all units busy and queue."""
    share = inp.mu / inp.mu.sum()
    return np.outer(inp.lam / inp.total_rate, share) * prob_all_busy


def _mean_travel(inp: _Inputs, dispatch_fraction: FloatArray) -> float | None:
    """Return the dispatch-weighted mean travel time, or None without a matrix."""
    if inp.travel is None:
        return None
    return float(np.sum(dispatch_fraction * inp.travel))


# --------------------------------------------------------------------------------------
# Hypercube model: exact solution
# --------------------------------------------------------------------------------------


def _first_free_unit(pref_row: IntArray, states: IntArray) -> IntArray:
    """Return, for each bitmask state, the first free unit in ``pref_row`` (-1 if none)."""
    chosen = np.full(states.shape, -1, dtype=np.int64)
    for unit in pref_row:
        pick = (chosen < 0) & (((states >> int(unit)) & 1) == 0)
        chosen[pick] = unit
    return chosen


def _popcount(states: IntArray, n_units: int) -> IntArray:
    """Return the number of set bits of each state."""
    count = np.zeros(states.shape, dtype=np.int64)
    for n in range(n_units):
        count += (states >> n) & 1
    return count


def _stationary(
    rows: IntArray, cols: IntArray, rates: FloatArray, layer: IntArray, n_states: int
) -> FloatArray:
    """Return the stationary distribution of an irreducible CTMC given its transitions.

    Every transition changes the layer (number of busy units) by exactly one, so the
    matrix ``Q^T`` has a diagonal block within each layer. We solve the non-singular
    system ``(Q^T + c 1 1^T) x = c 1`` (whose solution is the stationary vector because
    ``1^T Q^T = 0``) with GMRES, preconditioned by a layer-wise symmetric Gauss-Seidel
    sweep, which is exact block by block and needs only sparse mat-vecs.
    """
    order = np.lexsort((np.arange(n_states), layer))  # position -> state
    position = np.empty(n_states, dtype=np.int64)
    position[order] = np.arange(n_states)
    # Inflow matrix in layer order: inflow[i, k] = rate(state k -> state i).
    inflow = sp.csr_matrix((rates, (position[cols], position[rows])), shape=(n_states, n_states))
    outflow = np.bincount(position[rows], weights=rates, minlength=n_states)
    if np.any(outflow <= 0.0):
        raise ValueError("hypercube chain has an absorbing state; check the rates")
    bounds = np.searchsorted(layer[order], np.arange(int(layer.max()) + 2))
    blocks = [(int(bounds[k]), int(bounds[k + 1])) for k in range(len(bounds) - 1)]
    lower = [
        inflow[s:e, blocks[i - 1][0] : s] if i > 0 else None for i, (s, e) in enumerate(blocks)
    ]
    upper = [
        inflow[s:e, e : blocks[i + 1][1]] if i + 1 < len(blocks) else None
        for i, (s, e) in enumerate(blocks)
    ]
    shift = float(outflow.mean()) / n_states

    def matvec(x: FloatArray) -> FloatArray:
        """Return (Q^T + shift 1 1^T) x in layer order."""
        result: FloatArray = outflow * x - inflow @ x + shift * float(x.sum())
        return result

    def precondition(r: FloatArray) -> FloatArray:
        """Return the symmetric block Gauss-Seidel approximation of A^{-1} r."""
        y = np.empty_like(r)
        prev: FloatArray | None = None
        for i, (s, e) in enumerate(blocks):
            rhs = r[s:e].copy()
            low = lower[i]
            if low is not None and prev is not None:
                rhs += low @ prev
            prev = rhs / outflow[s:e]
            y[s:e] = prev
        z = np.empty_like(r)
        nxt: FloatArray | None = None
        for i in range(len(blocks) - 1, -1, -1):
            s, e = blocks[i]
            zi = y[s:e].copy()
            up = upper[i]
            if up is not None and nxt is not None:
                zi += (up @ nxt) / outflow[s:e]
            z[s:e] = zi
            nxt = zi
        return z

    op = spla.LinearOperator((n_states, n_states), matvec=matvec, dtype=np.float64)
    prec = spla.LinearOperator((n_states, n_states), matvec=precondition, dtype=np.float64)
    rhs = np.full(n_states, shift)
    x0 = np.full(n_states, 1.0 / n_states)
    x, info = spla.gmres(op, rhs, x0=x0, M=prec, rtol=1e-13, atol=0.0, restart=60, maxiter=200)
    x = np.asarray(x, dtype=np.float64)
    x = np.clip(x, 0.0, None)
    total = float(x.sum())
    if not math.isfinite(total) or total <= 0.0:
        raise RuntimeError("hypercube stationary solve failed (no positive solution)")
    x /= total
    residual = float(np.max(np.abs(outflow * x - inflow @ x)))
    if info != 0 and residual > 1e-9 * float(outflow.max()):
        raise RuntimeError(
            f"hypercube stationary solve did not converge (info={info}, residual={residual:.3g})"
        )
    pi: FloatArray = x[position]  # back to state order
    return pi


def hypercube_exact(
    arrival_rates: Sequence[float] | npt.ArrayLike,
    preference: Sequence[Sequence[int]] | npt.ArrayLike,
    service_rate: float | Sequence[float] | npt.ArrayLike,
    travel_time: Sequence[Sequence[float]] | npt.ArrayLike | None = None,
    queue: bool = True,
) -> HypercubeResult:
    """Return the exact steady state of Larson's (1974) hypercube queueing model.

    Model: N distinguishable units, J demand atoms with Poisson rates
    ``arrival_rates[j]``; a call from atom ``j`` is dispatched to the first free unit in
    ``preference[j]`` (a permutation of ``range(N)``); unit ``n`` serves at exponential
    rate ``service_rate`` (scalar or per-unit array). With ``queue=False`` calls that
    find all units busy are lost; with ``queue=True`` they join an infinite FCFS queue
    and the unit that frees next takes the head of the queue.

    Method: the loss chain on the 2^N busy-set bitmasks is solved with sparse linear
    algebra. For ``queue=True`` the queue states (all busy + k waiting, k >= 1) form a
    geometric tail ``P(full, k) = P(full, 0) r^k`` with ``r = Lambda / sum(mu)``, and the
    balance equations of the other states are identical to the loss chain's (the only
    exits from the all-busy aggregate happen with an empty queue). Hence the queue model
    is the loss solution with the all-busy mass multiplied by ``1 / (1 - r)`` and
    renormalised (Larson 1974, infinite line capacity).

    Args:
        arrival_rates: ``(J,)`` non-negative call rates per atom.
        preference: ``(J, N)`` preference lists, each a permutation of ``range(N)``.
        service_rate: Service rate ``mu`` (> 0), scalar or ``(N,)``.
        travel_time: Optional ``(J, N)`` travel time from unit ``n`` to atom ``j``.
        queue: Infinite FCFS queue (True) or loss system (False).

    Raises:
        ValueError: On malformed inputs, N > ``MAX_EXACT_UNITS``, or an unstable queue.
    """
    inp = _validate(arrival_rates, preference, service_rate, travel_time, queue)
    n_units = inp.n_units
    if n_units > MAX_EXACT_UNITS:
        raise ValueError(
            f"hypercube_exact supports at most {MAX_EXACT_UNITS} units (2^N states), "
            f"got N = {n_units}; use hypercube_approx"
        )
    n_states = 1 << n_units
    full = n_states - 1
    states = np.arange(n_states, dtype=np.int64)

    # Group atoms sharing a preference list: they produce identical dispatch patterns.
    unique_prefs, group_of_atom = np.unique(inp.pref, axis=0, return_inverse=True)
    group_of_atom = np.asarray(group_of_atom).reshape(-1)
    group_rate = np.bincount(group_of_atom, weights=inp.lam, minlength=len(unique_prefs))

    up_rate = np.zeros((n_states, n_units))
    for g, pref_row in enumerate(unique_prefs):
        if group_rate[g] == 0.0:
            continue
        chosen = _first_free_unit(pref_row, states)
        free_states = chosen >= 0
        np.add.at(up_rate, (states[free_states], chosen[free_states]), group_rate[g])

    rows_l: list[IntArray] = []
    cols_l: list[IntArray] = []
    rates_l: list[FloatArray] = []
    for n in range(n_units):
        bit = 1 << n
        busy = ((states >> n) & 1) == 1
        idle_states = states[~busy]
        rate_up = up_rate[idle_states, n]
        keep = rate_up > 0.0
        rows_l.append(idle_states[keep])
        cols_l.append(idle_states[keep] | bit)
        rates_l.append(rate_up[keep])
        busy_states = states[busy]
        rows_l.append(busy_states)
        cols_l.append(busy_states ^ bit)
        rates_l.append(np.full(busy_states.size, inp.mu[n]))
    rows = np.concatenate(rows_l)
    cols = np.concatenate(cols_l)
    rates = np.concatenate(rates_l)
    layer = _popcount(states, n_units)
    pi_loss = _stationary(rows, cols, rates, layer, n_states)

    total_rate = inp.total_rate
    p_full_loss = float(pi_loss[full])
    if inp.queue:
        r = total_rate / float(inp.mu.sum())
        norm = 1.0 + p_full_loss * r / (1.0 - r)
        pi = pi_loss / norm
        p_full0 = p_full_loss / norm  # all busy, empty queue
        prob_all_busy = p_full0 / (1.0 - r)
        pi[full] = prob_all_busy
        mean_queue_len = p_full0 * r / (1.0 - r) ** 2
        mean_queue_wait = mean_queue_len / total_rate
    else:
        pi = pi_loss
        prob_all_busy = p_full_loss
        mean_queue_wait = 0.0

    workload = np.array([float(pi[((states >> n) & 1) == 1].sum()) for n in range(n_units)])

    # Dispatch fractions: by PASTA an atom-j call sees the busy set B with prob. pi(B).
    fraction = np.zeros((inp.lam.size, n_units))
    for g, pref_row in enumerate(unique_prefs):
        chosen = _first_free_unit(pref_row, states)
        free_states = chosen >= 0
        seen = np.bincount(chosen[free_states], weights=pi[free_states], minlength=n_units)
        members = group_of_atom == g
        fraction[members] = np.outer(inp.lam[members], seen)
    if inp.queue:
        fraction /= total_rate
        fraction += _dispatch_fraction_queue_part(inp, prob_all_busy)
    else:
        fraction /= total_rate * (1.0 - prob_all_busy)

    return HypercubeResult(
        state_probs=pi,
        workload=workload,
        dispatch_fraction=fraction,
        prob_all_busy=prob_all_busy,
        loss_probability=0.0 if inp.queue else prob_all_busy,
        prob_queue=prob_all_busy if inp.queue else 0.0,
        mean_queue_wait=mean_queue_wait,
        mean_travel_time=_mean_travel(inp, fraction),
        queue=inp.queue,
    )


# --------------------------------------------------------------------------------------
# Hypercube model: Larson (1975) approximation
# --------------------------------------------------------------------------------------


def _mmn_busy_distribution(offered_load: float, n_units: int, queue: bool) -> FloatArray:
    """Return P(j units busy) for j = 0..N of M/M/N (all-busy lumps the queue) or M/M/N/N."""
    j = np.arange(n_units + 1, dtype=np.float64)
    log_w = j * math.log(offered_load) - gammaln(j + 1.0)
    if queue:
        r = offered_load / n_units
        log_w[n_units] -= math.log1p(-r)  # sum of the geometric queue tail
    log_w -= logsumexp(log_w)
    probs: FloatArray = np.exp(log_w)
    return probs


def _correction_factors(busy_probs: FloatArray, mean_workload: float) -> FloatArray:
    """Return Larson's correction factors Q(N, rho, k), k = 0..N-1.

    ``Q(N, rho, k) rho^k (1 - rho)`` is the M/M/N probability that k given units are busy
    and another given unit is free, with busy units equally likely to be any subset:
    ``Q = sum_{j=k}^{N-1} P_j C(N-k-1, j-k) / C(N, j) / (rho^k (1 - rho))``.
    """
    n_units = busy_probs.size - 1
    log_p = np.log(np.maximum(busy_probs[:n_units], np.finfo(np.float64).tiny))

    def log_comb(n: FloatArray | float, k: FloatArray | float) -> FloatArray:
        """Return log C(n, k) elementwise."""
        out: FloatArray = (
            gammaln(np.add(n, 1.0)) - gammaln(np.add(k, 1.0)) - gammaln(np.subtract(n, k) + 1.0)
        )
        return out

    q = np.empty(n_units)
    log_rho = math.log(mean_workload)
    log_idle = math.log1p(-mean_workload)
    for k in range(n_units):
        j = np.arange(k, n_units, dtype=np.float64)
        terms = log_p[k:] + log_comb(n_units - k - 1.0, j - k) - log_comb(float(n_units), j)
        q[k] = math.exp(float(logsumexp(terms)) - k * log_rho - log_idle)
    return q


def hypercube_approx(
    arrival_rates: Sequence[float] | npt.ArrayLike,
    preference: Sequence[Sequence[int]] | npt.ArrayLike,
    service_rate: float | Sequence[float] | npt.ArrayLike,
    travel_time: Sequence[Sequence[float]] | npt.ArrayLike | None = None,
    queue: bool = True,
) -> HypercubeResult:
    """Return Larson's (1975) approximate hypercube results (``state_probs`` is empty).

    R. C. Larson, "Approximating the performance of urban emergency service systems",
    Operations Research 23(5):845-868, 1975. The probability that the first k units of
    a preference list are busy and the (k+1)-th is free is approximated by
    ``Q(N, rho, k) * prod(rho_busy) * (1 - rho_free)``, where the correction factor
    ``Q`` comes from the M/M/N (``queue=True``) or M/M/N/N (``queue=False``) model with
    mean workload ``rho``. This gives N nonlinear equations in the unit workloads,

        ``rho_n = (1 - rho_n) V_n(rho) + q``,
        ``V_n = sum_j (lam_j / mu) Q(N, rho, k_jn) prod_{l < k_jn} rho_{pref[j][l]}``,

    with ``q = Lambda P_N / (N mu)`` the queued workload share (0 for loss), solved by
    fixed-point iteration ``rho_n <- (V_n + q) / (1 + V_n)``. Exact for N = 1 and for
    symmetric systems; typically within a few percent otherwise. Dispatch fractions use
    the same product form, rescaled per atom so each atom's dispatched share is exact.

    Raises:
        ValueError: On malformed inputs, unequal per-unit service rates (the M/M/N
            correction assumes one rate), or an unstable queue.
    """
    inp = _validate(arrival_rates, preference, service_rate, travel_time, queue)
    if not np.allclose(inp.mu, inp.mu[0], rtol=1e-12, atol=0.0):
        raise ValueError("hypercube_approx needs equal service rates for all units")
    mu = float(inp.mu[0])
    n_units = inp.n_units
    total_rate = inp.total_rate
    offered = total_rate / mu
    busy_probs = _mmn_busy_distribution(offered, n_units, inp.queue)
    prob_all_busy = float(busy_probs[n_units])
    if inp.queue:
        mean_workload = offered / n_units
        queued_share = total_rate * prob_all_busy / (n_units * mu)
    else:
        mean_workload = offered * (1.0 - prob_all_busy) / n_units
        queued_share = 0.0
    q_factor = _correction_factors(busy_probs, mean_workload)

    n_atoms = inp.lam.size
    atom_idx = np.arange(n_atoms)[:, None]
    load = inp.lam / mu

    def free_terms(rho: FloatArray) -> FloatArray:
        """Return (J, N) terms lam_j/mu * Q_k * prod of busy workloads ahead, by position."""
        busy_ahead = np.ones((n_atoms, n_units))
        busy_ahead[:, 1:] = np.cumprod(rho[inp.pref[:, :-1]], axis=1)
        out: FloatArray = load[:, None] * q_factor[None, :] * busy_ahead
        return out

    def unit_sums(by_position: FloatArray) -> FloatArray:
        """Return (J, N) array re-indexed from preference position to unit number."""
        by_unit = np.zeros((n_atoms, n_units))
        by_unit[atom_idx, inp.pref] = by_position
        return by_unit

    rho = np.full(n_units, mean_workload)
    for _ in range(10_000):
        v = unit_sums(free_terms(rho)).sum(axis=0)
        new_rho = (v + queued_share) / (1.0 + v)
        change = float(np.max(np.abs(new_rho - rho)))
        rho = 0.5 * rho + 0.5 * new_rho if change > 1e-3 else new_rho
        if change < 1e-13:
            break
    else:  # pragma: no cover - the iteration is a contraction in practice
        raise RuntimeError("hypercube_approx fixed-point iteration did not converge")

    workload = rho
    by_unit = unit_sums(free_terms(rho)) * (1.0 - rho)[None, :]  # (J, N), rates / mu
    row_sum = by_unit.sum(axis=1, keepdims=True)
    # Each atom's calls find a free unit with probability 1 - P_N exactly (PASTA).
    with np.errstate(invalid="ignore", divide="ignore"):
        dispatched = np.where(row_sum > 0.0, by_unit / row_sum, 0.0)
    dispatched *= (inp.lam / total_rate)[:, None] * (1.0 - prob_all_busy)
    if inp.queue:
        fraction = dispatched + _dispatch_fraction_queue_part(inp, prob_all_busy)
        r = mean_workload
        p_full0 = prob_all_busy * (1.0 - r)
        mean_queue_wait = p_full0 * r / (1.0 - r) ** 2 / total_rate
    else:
        fraction = dispatched / (1.0 - prob_all_busy)
        mean_queue_wait = 0.0

    return HypercubeResult(
        state_probs=np.empty(0),
        workload=workload,
        dispatch_fraction=fraction,
        prob_all_busy=prob_all_busy,
        loss_probability=0.0 if inp.queue else prob_all_busy,
        prob_queue=prob_all_busy if inp.queue else 0.0,
        mean_queue_wait=mean_queue_wait,
        mean_travel_time=_mean_travel(inp, fraction),
        queue=inp.queue,
    )


def hypercube_error(exact: HypercubeResult, approx: HypercubeResult) -> float:
    """Return the largest absolute difference in unit workloads between two results."""
    if exact.workload.shape != approx.workload.shape:
        raise ValueError(
            f"results describe different systems: {exact.workload.shape[0]} vs "
            f"{approx.workload.shape[0]} units"
        )
    return float(np.max(np.abs(exact.workload - approx.workload)))
