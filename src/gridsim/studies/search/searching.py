"""One search: searchers sweep segments on the roads until one of them sees the subject.

Each searcher, when free, takes a segment: it travels there by the shortest road at its
travel speed (seeing, with ``transit_sweep_share`` of its sweep width, what it passes),
then sweeps every road of the segment at its sweep speed and ends at the segment's entry.
Every road pass may see the subject, by Koopman's inverse-cube law on his actual
distance from the road at that moment (``detection.pass_detection_prob``): that is the
truth. Which segment it takes is the strategy's:

- *own sweep*: each searcher works through its own list (outwards from where it starts;
  a grid worker's own grid first), ignoring any map;
- *Stone*: the segment with the highest map probability x POD per second of travel and
  sweep (``detection.best_cell``), where the POD is the planner's random-search law
  1 - exp(-W L / A) for the segment's roads L and area A. The map starts from a prior,
  spreads to neighbouring segments as the subject may move, takes each committed sweep
  as failed (Bayes' rule; the search stops at a find, so the plan is the plan given no
  find yet), and takes in sighting reports as they arrive.
"""

from __future__ import annotations

import heapq
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from gridsim.core.units import SECONDS_PER_HOUR
from gridsim.scenario.schema import SearcherKind
from gridsim.studies.search.area import TERRAINS, SearchArea, terrain_of_place
from gridsim.studies.search.channels import Report
from gridsim.studies.search.detection import (
    bayes_after_effort,
    bayes_after_report,
    best_cell,
    pass_detection_prob,
    report_likelihood,
)
from gridsim.studies.search.subject import Subject

SPREAD_STEP_S = 600.0  # the map spreads in steps of this length


@dataclass(frozen=True)
class Searcher:
    """One searcher: who, when, from where, how fast it travels, its own segment order."""

    name: str
    kind: str  # "police", "grid" or "volunteer"
    start_s: float  # s after the last sighting
    end_s: float  # it takes no new segment after this
    node: int  # local start node
    travel_mps: float
    spec: SearcherKind
    order: tuple[int, ...]  # own sweep: the segments in its order


@dataclass(frozen=True, eq=False)
class KindSweep:
    """What one searcher kind's sweep of each segment costs and gives, by light."""

    sweep_s: np.ndarray  # (S,) seconds to sweep each segment (at least 1)
    effort_m2: dict[bool, np.ndarray]  # night -> (S,) W x L of a full sweep
    pod: dict[bool, np.ndarray]  # night -> (S,) the planner's POD of a full sweep
    searched_m2: np.ndarray  # (S,) the area the planner spreads effort over
    node_width_m: dict[bool, np.ndarray]  # night -> (A,) transit width by node terrain
    # per segment: its edges' ends, the time to the end of each edge, the widths by light
    edge_a_xy: tuple[np.ndarray, ...]
    edge_b_xy: tuple[np.ndarray, ...]
    edge_done_s: tuple[np.ndarray, ...]  # cumulative sweep time at the end of each edge
    edge_s: tuple[np.ndarray, ...]  # time on each edge
    edge_width_m: dict[bool, tuple[np.ndarray, ...]]
    # trips already worked out: (from node, to segment) -> _Trip (a cache, same results)
    trips: dict[tuple[int, int], _Trip] = field(default_factory=dict)


@dataclass(frozen=True, eq=False)
class _Trip:
    """The road from a node to a segment's entry, hop by hop, as one kind sees it."""

    a_xy: np.ndarray  # (H, 2) start of each hop
    b_xy: np.ndarray  # (H, 2) end of each hop
    done_m: np.ndarray  # (H,) road metres at the end of each hop
    mid_m: np.ndarray  # (H,) road metres at the middle of each hop
    width_m: dict[bool, np.ndarray]  # night -> (H,) transit sweep width of each hop
    touched: np.ndarray  # (H + 1,) segment credited with each hop's effort, then the target
    effort_m2: dict[bool, np.ndarray]  # night -> (H + 1,) W x L of each hop, then the sweep


def planner_area_m2(area: SearchArea, track_offset_m: float) -> np.ndarray:
    """Return each segment's area where the planner expects a subject: the road corridor.

    Lost people are mostly found near linear features (ISRID's "track offset"), so the
    planner spreads a segment's probability over the strip within ``track_offset_m`` of
    its roads (2 d L), or over the whole segment when that is smaller (0: always).
    """
    corridor = 2.0 * track_offset_m * area.segment_road_m.sum(axis=1)
    if track_offset_m <= 0.0:
        return area.segment_area_m2
    return np.where(corridor > 0.0, np.minimum(corridor, area.segment_area_m2),
                    area.segment_area_m2)


def kind_sweep(area: SearchArea, spec: SearcherKind, track_offset_m: float = 0.0
               ) -> KindSweep:
    """Return the sweep figures of ``spec`` on ``area`` (POD over the planner's area)."""
    road = area.segment_road_m.sum(axis=1)
    searched_m2 = planner_area_m2(area, track_offset_m)
    terrain = terrain_of_place(area.place)
    widths = {night: np.array([getattr(spec.sweep_width_night_m if night else
                                       spec.sweep_width_day_m, t) for t in TERRAINS])
              for night in (False, True)}
    effort = {n: area.segment_road_m @ w for n, w in widths.items()}
    pace = spec.sweep_path_factor / spec.sweep_speed_mps  # seconds per metre of road
    edges = area.segment_edges
    return KindSweep(
        sweep_s=np.maximum(road * pace, 1.0),
        effort_m2=effort,
        pod={n: -np.expm1(-e / searched_m2) for n, e in effort.items()},
        searched_m2=searched_m2,
        node_width_m={n: w[terrain] * spec.transit_sweep_share for n, w in widths.items()},
        edge_a_xy=tuple(area.xy_m[area.edge_a[e]] for e in edges),
        edge_b_xy=tuple(area.xy_m[area.edge_b[e]] for e in edges),
        edge_done_s=tuple(np.cumsum(area.edge_length_m[e] * pace) for e in edges),
        edge_s=tuple(area.edge_length_m[e] * pace for e in edges),
        edge_width_m={n: tuple(w[area.edge_terrain[e]] for e in edges)
                      for n, w in widths.items()},
    )


@dataclass
class Outcome:
    """How one search ended."""

    found_s: float = float("inf")  # s after the last sighting
    found_by: str = ""
    searcher_s: float = 0.0  # searcher-seconds spent until the find (or the end)
    reports_used: int = 0


@dataclass
class _Map:
    """The planner's map over segments + outside, kept up to date in time."""

    belief: np.ndarray
    time_s: float
    spread: float  # share moving per SPREAD_STEP_S


@dataclass
class _Passes:
    """Road passes planned but not yet checked against the subject (checked in batches)."""

    a_xy: list[np.ndarray]
    b_xy: list[np.ndarray]
    width_m: list[np.ndarray]
    mid_s: list[np.ndarray]
    who: list[int]
    count: int = 0

    def add(self, a_xy: np.ndarray, b_xy: np.ndarray, width_m: np.ndarray, mid_s: np.ndarray,
            who: int) -> None:
        self.a_xy.append(a_xy)
        self.b_xy.append(b_xy)
        self.width_m.append(width_m)
        self.mid_s.append(mid_s)
        self.who.append(who)
        self.count += 1


BATCH_GROUPS = 24  # passes of this many trips and sweeps are checked at once


def search(area: SearchArea, sweeps: dict[str, KindSweep], searchers: list[Searcher],
           subject: Subject, night: Callable[[float], bool], end_s: float,
           rng: np.random.Generator, prior: np.ndarray | None = None,
           reports: list[Report] | None = None, report_s: float = 0.0,
           spread_per_h: float = 0.0, walk_mps: float = 1.0) -> Outcome:
    """Run one search to the find or ``end_s``; Stone allocation when ``prior`` is given.

    ``night(t_s) -> bool`` gives the light; ``reports`` (sorted by ``report_s``) feed
    the map; ``walk_mps`` widens a report's disc by how far he may have walked since.
    The plan never depends on whether a pass saw him (the search stops at a find), so
    passes are checked in batches, in the order the tasks start; a batch that finds him
    at t stops the search once no task starting before t is left unchecked.
    """
    out = Outcome()
    home = max(subject.home_s, report_s)
    if home < end_s:
        out.found_s, out.found_by = home, "returned home"
    board = (_Map(prior.copy(), report_s, spread_per_h * SPREAD_STEP_S / SECONDS_PER_HOUR)
             if prior is not None else None)
    pending = list(reports or [])
    queue = [(s.start_s, k, s.node) for k, s in enumerate(searchers)]
    heapq.heapify(queue)
    steps = [0] * len(searchers)
    busy_until = [s.start_s for s in searchers]
    segments = area.segment_count
    passes = _Passes([], [], [], [], [])
    while queue:
        if passes.count >= BATCH_GROUPS:
            _check(passes, subject, searchers, rng, out)
        now, k, here = heapq.heappop(queue)
        s = searchers[k]
        if now >= min(out.found_s, end_s) or now >= s.end_s:
            continue
        dark = night(now)
        kind = sweeps[s.kind]
        if board is not None:
            _bring_up_to(board, area, now)
            while pending and pending[0].report_s <= now:
                _take_report(board, area, pending.pop(0), now, walk_mps)
                out.reports_used += 1
            travel_s = area.node_entry_road_m[here] / s.travel_mps
            target = best_cell(board.belief[:segments], kind.pod[dark], travel_s + kind.sweep_s)
            if target < 0:
                continue
        else:
            target = s.order[steps[k] % len(s.order)]
        steps[k] += 1
        finish, touched, effort = _plan_sweep(area, kind, s, k, here, target, now, dark,
                                              passes)
        busy_until[k] = finish
        if board is not None:  # the plan given no find yet: this sweep failed
            bayes_after_effort(board.belief, touched, effort, kind.searched_m2)
        heapq.heappush(queue, (finish, k, int(area.segment_entry[target])))
    _check(passes, subject, searchers, rng, out)
    stop = min(out.found_s, end_s)
    out.searcher_s = float(sum(max(0.0, min(b, stop) - s.start_s)
                               for b, s in zip(busy_until, searchers, strict=True)))
    return out


def _plan_sweep(area: SearchArea, kind: KindSweep, s: Searcher, k: int, here: int,
                target: int, now: float, dark: bool, passes: _Passes
                ) -> tuple[float, np.ndarray, np.ndarray]:
    """Plan the trip to ``target`` and its sweep; queue the passes for checking.

    Return (finish time, segments the planner credits with effort (may repeat), each
    one's W x L in m2).
    """
    trip = kind.trips.get((here, target))
    if trip is None:
        trip = kind.trips[(here, target)] = _trip(area, kind, here, target)
    arrive = now
    if trip.done_m.shape[0]:
        arrive = now + float(trip.done_m[-1]) / s.travel_mps
        passes.add(trip.a_xy, trip.b_xy, trip.width_m[dark],
                   now + trip.mid_m / s.travel_mps, k)
    done = kind.edge_done_s[target]
    if done.shape[0]:
        passes.add(kind.edge_a_xy[target], kind.edge_b_xy[target],
                   kind.edge_width_m[dark][target],
                   arrive + done - kind.edge_s[target] / 2.0, k)
    return arrive + float(kind.sweep_s[target]), trip.touched, trip.effort_m2[dark]


def _trip(area: SearchArea, kind: KindSweep, here: int, target: int) -> _Trip:
    """Return the trip from node ``here`` to segment ``target``'s entry."""
    path = np.array(area.path_to_entry(here, target), dtype=np.int64)
    a_nodes, b_nodes = path[:-1], path[1:]
    hop_m = np.hypot(*(area.xy_m[b_nodes] - area.xy_m[a_nodes]).T)
    if hop_m.shape[0]:  # straight hops scaled to the road's length
        hop_m *= float(area.entry_road_m[target, here]) / max(float(hop_m.sum()), 1e-9)
    done_m = np.cumsum(hop_m)
    width = {n: np.minimum(w[a_nodes], w[b_nodes]) for n, w in kind.node_width_m.items()}
    return _Trip(
        a_xy=area.xy_m[a_nodes], b_xy=area.xy_m[b_nodes], done_m=done_m,
        mid_m=done_m - hop_m / 2.0, width_m=width,
        touched=np.append(area.node_segment[a_nodes], target),
        effort_m2={n: np.append(w * hop_m, kind.effort_m2[n][target])
                   for n, w in width.items()},
    )


def _check(passes: _Passes, subject: Subject, searchers: list[Searcher],
           rng: np.random.Generator, out: Outcome) -> None:
    """Check the queued passes against the subject; record the earliest sighting."""
    if passes.count == 0:
        return
    mid_s = np.concatenate(passes.mid_s)
    a_xy, b_xy = np.concatenate(passes.a_xy), np.concatenate(passes.b_xy)
    p = pass_detection_prob(a_xy, b_xy, subject.position(mid_s),
                            np.concatenate(passes.width_m))
    hits = np.flatnonzero(rng.random(p.shape[0]) < p)
    if hits.shape[0]:
        owner = np.repeat(np.array(passes.who), [m.shape[0] for m in passes.mid_s])
        first = hits[np.argmin(mid_s[hits])]
        if mid_s[first] < out.found_s:
            out.found_s, out.found_by = float(mid_s[first]), searchers[owner[first]].name
    passes.a_xy.clear()
    passes.b_xy.clear()
    passes.width_m.clear()
    passes.mid_s.clear()
    passes.who.clear()
    passes.count = 0


def _bring_up_to(board: _Map, area: SearchArea, now: float) -> None:
    """Spread the map over the steps since it was last brought up to date."""
    while board.time_s + SPREAD_STEP_S <= now:
        inside = board.belief[:-1]
        moved = area.segment_neighbours @ inside
        board.belief[:-1] = (1.0 - board.spread) * inside + board.spread * moved
        board.time_s += SPREAD_STEP_S


def _take_report(board: _Map, area: SearchArea, report: Report, now: float,
                 walk_mps: float) -> None:
    """Fold a sighting report into the map by Bayes' rule."""
    radius = report.radius_m + walk_mps * max(0.0, now - report.seen_s)
    distance = np.hypot(*(area.segment_centre_xy - np.array(report.xy_m)).T)
    likelihood = report_likelihood(np.append(distance, np.inf), radius, report.trust,
                                   area.total_area_m2)
    board.belief = bayes_after_report(board.belief, likelihood)
