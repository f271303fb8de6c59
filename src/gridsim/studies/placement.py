"""Where to put the next watch points: a maximal-covering proposal, checked by simulation.

1. **Demand** comes from simulated runs on *training* seeds: every counted incident of a
   type watch points attend that no one reached within ``ring_s``, at its node.
2. **Cover**: a new point at node c covers the demand at every node within the watch
   points' ``radius_m`` by road (the distance they walk; ``city/reach.py``).
3. **Proposal**: the ``count`` sites covering the most demand, chosen greedily with lazy
   evaluation (CELF: a site's gain only falls as others are chosen, so a stale gain is an
   upper bound; Leskovec et al. 2007). Greedy is within 1 - 1/e of the optimal cover
   (Nemhauser, Wolsey & Fisher 1978). Candidates are nodes where people live that hold
   no point yet.
4. **Check**: the covering model ignores staff, help probability, queueing and the other
   responders, so the proposal is simulated before and after on *other* seeds (common
   random numbers: the same incidents in both arms) and the paired difference of the
   share reached within ``ring_s`` is reported with its 95% t interval.
"""

from __future__ import annotations

import heapq
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy import sparse

from gridsim.analysis.metrics import incident_outcomes
from gridsim.api import RunResult, run
from gridsim.city.reach import reach_within
from gridsim.core.errors import InputError
from gridsim.core.stats import mean_ci
from gridsim.core.units import SECONDS_PER_HOUR
from gridsim.studies.experiment import replication_seeds
from gridsim.world.build import World, build_world

TRAINING_SEED_OFFSET = 1_000_003  # training seeds come from root + this: never the check's
CI_LEVEL = 0.95


@dataclass(frozen=True, eq=False)
class Placement:
    """A proposal and its simulated check."""

    site_node: np.ndarray  # (K,) road nodes, in the order chosen
    site_gain: np.ndarray  # (K,) demand (unreached incidents a replication) each one adds
    demand: np.ndarray  # (N,) per node: unreached incidents a training replication
    before: np.ndarray  # (R,) share reached within ring_s, per check replication
    after: np.ndarray  # (R,) the same seeds with the sites added
    ring_s: float
    eligible: float = 0.0  # incidents of types watch points attend, a training replication

    def improvement(self) -> tuple[float, float]:
        """Return the mean paired improvement of the share and its 95% CI half-width."""
        return mean_ci(self.after - self.before, CI_LEVEL)


def eligible_incidents(result: RunResult) -> np.ndarray:
    """Return a bool per incident: counted, and of a type watch points attend."""
    inc = result.records.incidents
    scenario = result.scenario
    attended = np.array(["watch_points" in scenario.incidents[name].responders
                         for name in inc.type_names], dtype=bool)
    counted = inc.t_call_s >= scenario.warmup_hours * SECONDS_PER_HOUR
    return counted & attended[inc.type_id]


def share_within(result: RunResult, ring_s: float) -> float:
    """Return the share of eligible incidents someone reached within ``ring_s``."""
    eligible = eligible_incidents(result)
    first = incident_outcomes(result.records)["first_arrival_s"][eligible]
    return float(np.mean(first <= ring_s)) if first.shape[0] else float("nan")


def unreached_demand(results: list[RunResult], ring_s: float, node_count: int) -> np.ndarray:
    """Return per node the eligible incidents not reached within ``ring_s``, a replication."""
    demand = np.zeros(node_count)
    for result in results:
        eligible = eligible_incidents(result)
        first = incident_outcomes(result.records)["first_arrival_s"]
        late = eligible & ~(first <= ring_s)
        demand += np.bincount(result.records.incidents.node[late], minlength=node_count)
    return demand / max(len(results), 1)


def greedy_max_cover(cover: sparse.csr_matrix, weight: np.ndarray, count: int
                     ) -> tuple[np.ndarray, np.ndarray]:
    """Return up to ``count`` candidates (rows of ``cover``) and their gains, chosen greedily.

    ``cover[c, d]`` is nonzero when candidate c covers demand point d of ``weight``; a
    demand point counts once, for the first candidate chosen that covers it. Lazy: a
    candidate's gain is recomputed only when it reaches the top of the queue.
    """
    remaining = weight.astype(float).copy()
    gains = np.asarray(cover @ remaining).ravel()
    queue = [(-gain, int(c)) for c, gain in enumerate(gains) if gain > 0]
    heapq.heapify(queue)
    chosen: list[int] = []
    chosen_gain: list[float] = []
    while queue and len(chosen) < count:
        stale, candidate = heapq.heappop(queue)
        row = cover.indices[cover.indptr[candidate]:cover.indptr[candidate + 1]]
        gain = float(remaining[row].sum())
        if gain <= 0:
            continue
        if queue and gain < -queue[0][0]:  # another may now gain more: look again later
            heapq.heappush(queue, (-gain, candidate))
            continue
        chosen.append(candidate)
        chosen_gain.append(gain)
        remaining[row] = 0.0
    return np.array(chosen, dtype=np.int64), np.array(chosen_gain)


def propose_sites(world: World, demand: np.ndarray, count: int
                  ) -> tuple[np.ndarray, np.ndarray]:
    """Return the nodes of ``count`` new watch points covering the most ``demand``."""
    demand_node = np.flatnonzero(demand > 0)
    if demand_node.shape[0] == 0:
        return np.zeros(0, dtype=np.int64), np.zeros(0)
    radius_m = world.scenario.watch_points.radius_m
    reach = reach_within(world.network, demand_node, radius_m)
    rows = np.repeat(np.arange(reach.rows), np.diff(reach.start))
    # candidate (node) x demand point, for nodes where people live without a point yet
    cover = sparse.csr_matrix((np.ones(rows.shape[0]), (reach.item, rows)),
                              shape=(world.network.node_count, demand_node.shape[0]))
    allowed = world.node_population > 0
    allowed[world.fleets.watch_point_node] = False
    cover = sparse.diags(allowed.astype(float)) @ cover
    cover.eliminate_zeros()
    return greedy_max_cover(cover.tocsr(), demand[demand_node], count)


def place_watch_points(
    world: World, count: int, ring_s: float, replications: int, root_seed: int,
    sites_path: Callable[[np.ndarray], str],
    progress: Callable[[str], None] | None = None,
) -> Placement:
    """Propose ``count`` watch-point sites in ``world`` and check them by simulation.

    ``sites_path(nodes)`` writes the chosen nodes as a layer file and returns its path;
    the "after" arm reads it back through ``watch_points.extra_sites``, as a user would.
    """
    say = progress or (lambda _: None)
    scenario = world.scenario
    training = [run(scenario, seed=s, world=world) for s in
                replication_seeds(root_seed + TRAINING_SEED_OFFSET, replications)]
    say(f"training: {replications} runs")
    eligible = float(np.mean([eligible_incidents(r).sum() for r in training]))
    if eligible == 0.0:
        raise InputError("place: the training runs drew no incident of a type watch points "
                         "attend: nothing to place sites for; give such types a rate_per_day "
                         "above 0 (incidents.NAME.responders with \"watch_points\") or run "
                         "longer (--days)")
    demand = unreached_demand(training, ring_s, world.network.node_count)
    site_node, site_gain = propose_sites(world, demand, count)
    if site_node.shape[0] == 0:  # every incident reached within the ring: nothing to add
        before = [share_within(run(scenario, seed=seed, world=world), ring_s)
                  for seed in replication_seeds(root_seed, replications)]
        return Placement(site_node=site_node, site_gain=site_gain, demand=demand,
                         before=np.array(before), after=np.array(before), ring_s=ring_s,
                         eligible=eligible)
    path = sites_path(site_node)
    after_scenario = scenario.model_copy(update={
        "watch_points": scenario.watch_points.model_copy(update={"extra_sites": path})})
    after_world = build_world(after_scenario)
    before, after = [], []
    for k, seed in enumerate(replication_seeds(root_seed, replications)):
        before.append(share_within(run(scenario, seed=seed, world=world), ring_s))
        after.append(share_within(run(after_scenario, seed=seed, world=after_world), ring_s))
        say(f"check: {k + 1}/{replications} seeds, before and after")
    return Placement(site_node=site_node, site_gain=site_gain, demand=demand,
                     before=np.array(before),
                     after=np.array(after), ring_s=ring_s, eligible=eligible)


def placement_summary(placement: Placement, replications: int) -> dict[str, Any]:
    """Return the JSON-ready summary of a placement."""
    mean, half = placement.improvement()
    return {
        "sites": int(placement.site_node.shape[0]),
        "ring_s": placement.ring_s,
        "replications": replications,
        "demand_unreached_per_replication": round(float(placement.demand.sum()), 2),
        "demand_covered_per_replication": round(float(placement.site_gain.sum()), 2),
        "share_within_ring_before": round(float(placement.before.mean()), 5),
        "share_within_ring_after": round(float(placement.after.mean()), 5),
        "improvement": round(mean, 5),
        "improvement_ci95": [round(mean - half, 5), round(mean + half, 5)],
        "improves_with_95_confidence": bool(mean - half > 0),
        "before_by_replication": [round(float(v), 5) for v in placement.before],
        "after_by_replication": [round(float(v), 5) for v in placement.after],
    }
