"""The engine against queueing theory, and the check itself catching broken engines."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from gridsim.sim.dispatch.station import NO_STATION, StationDispatch, StationPool
from gridsim.validation.verify import (
    compare,
    hypercube_case,
    mmc_case,
    preemptive_case,
    priority_case,
    run_case,
    welch_half_width,
)

# calls per replication in the default run. The t intervals widen as the sample shrinks,
# yet at 5,000 each broken engine below stays at least 3 times the tolerance away from
# theory at seed 11 (on-scene 15% too long 3.1 times, all types at one priority 3.3, a unit
# never freed 4.8, no preemption 12, the farthest unit sent 22, the types ranked backwards
# 43); the unbroken cases at 20,000, as `gridsim verify` runs them, are in the slow set
REPS, ARRIVALS, FULL_ARRIVALS = 6, 5_000, 20_000


def _all_ok(case, replications: int = REPS, seed: int = 11) -> bool:  # type: ignore[no-untyped-def]
    rows = compare([case], [run_case(case, replications, seed)])
    return all(r.ok for r in rows)


@pytest.mark.parametrize(("servers", "utilisation"), [(1, 0.5), (5, 0.8)])
def test_mmc_matches_erlang_c(servers: int, utilisation: float) -> None:
    assert _all_ok(mmc_case(servers, utilisation, ARRIVALS))


def test_priority_queue_matches_cobham() -> None:
    assert _all_ok(priority_case(4, 0.88, arrivals=ARRIVALS))


@pytest.mark.parametrize("given", [(3, 2, 1), (2, 2, 2)])
def test_a_wrong_priority_order_is_caught(given: tuple[int, int, int]) -> None:
    # the engine ranks the types backwards, or not at all (first come, first served);
    # theory keeps 1, 2, 3
    assert not _all_ok(priority_case(4, 0.88, arrivals=ARRIVALS, engine_priorities=given))


def test_preemptive_priority_matches_buzen_bondi() -> None:
    assert _all_ok(preemptive_case(4, 0.85, arrivals=ARRIVALS))


def test_a_dispatcher_that_does_not_preempt_is_caught() -> None:
    assert not _all_ok(preemptive_case(4, 0.85, arrivals=ARRIVALS, preempt=False))


def test_hypercube_n3_matches_the_exact_model() -> None:
    assert _all_ok(hypercube_case(3, 2, 3, layout_seed=3, arrivals=ARRIVALS))


def test_wrong_service_mean_is_caught() -> None:
    # the engine is given on-scene times 15% too long; theory keeps the true mean
    assert not _all_ok(mmc_case(5, 0.8, ARRIVALS, service_mean_s=1.15 * 300.0))


def test_a_unit_never_freed_is_caught(monkeypatch: pytest.MonkeyPatch) -> None:
    original = StationDispatch._on_free

    def leak(self, pool_index, unit, generation, event):  # type: ignore[no-untyped-def]
        if unit != 0:  # unit 0 never comes back
            original(self, pool_index, unit, generation, event)

    monkeypatch.setattr(StationDispatch, "_on_free", leak)
    assert not _all_ok(mmc_case(5, 0.5, ARRIVALS))


def test_a_broken_dispatch_order_is_caught(monkeypatch: pytest.MonkeyPatch) -> None:
    """Sending the farthest free unit instead of the nearest must fail the hypercube check."""

    def farthest(self, home_station, travel_s):  # type: ignore[no-untyped-def]
        free = [s for s, waiting in enumerate(self.free) if waiting]
        if not free:
            return NO_STATION, np.inf
        station = max(free, key=lambda s: (float(travel_s[s]), s))
        return station, 0.0

    # the same case passes unbroken: test_hypercube_n3_matches_the_exact_model
    case = hypercube_case(3, 2, 3, layout_seed=3, arrivals=ARRIVALS)
    monkeypatch.setattr(StationPool, "nearest", farthest)
    assert not _all_ok(case)


@pytest.mark.slow
@pytest.mark.parametrize("case", [
    lambda: mmc_case(1, 0.5, FULL_ARRIVALS), lambda: mmc_case(5, 0.8, FULL_ARRIVALS),
    lambda: priority_case(4, 0.88, arrivals=FULL_ARRIVALS),
    lambda: preemptive_case(4, 0.85, arrivals=FULL_ARRIVALS),
    lambda: hypercube_case(3, 2, 3, layout_seed=3, arrivals=FULL_ARRIVALS),
], ids=["mm1", "mm5", "priority", "preemptive", "hypercube"])
def test_every_case_matches_theory_with_20000_arrivals(case) -> None:  # type: ignore[no-untyped-def]
    assert _all_ok(case())


def test_welch_half_width_is_scipys_welch_test() -> None:
    """Moving one sample so the difference of means equals the half-width gives p = 0.05."""
    rng = np.random.default_rng(5)
    a, b = rng.normal(10.0, 2.0, 7), rng.normal(11.0, 5.0, 12)
    half = welch_half_width(a, b, 0.95)
    shifted = a - (a.mean() - b.mean()) + half
    assert stats.ttest_ind(shifted, b, equal_var=False).pvalue == pytest.approx(0.05, rel=1e-9)
