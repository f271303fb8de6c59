"""One replication of the anti-fraud study: victims pay, warnings race the transfers.

Each case is a simpy process. A victim contacted by a fraudster attempts ``transfers``
payments through one channel, the first ``first_transfer_s`` after the contact and each
next one ``transfer_gap_s`` after the last went through. The bank flags an attempt with
its channel's ``detect_prob``: the transfer is held ``hold_s`` and the police are told
``bank_report_delay_s`` later (the first flag only). The early-warning feed warns
``feed.delay_s`` after the contact (with ``feed.prob``); the victim reports
``victim.delay_s`` after the first transfer (with ``victim.prob``) and stops paying then.

The first warning starts the police response: a call-back by one of ``call_takers`` (a
simpy Resource) that convinces the victim with ``callback_success_prob``; if it fails,
or at once for a bank warning on a ``visit_first`` channel, a visit by an officer of the
victim's station (a Resource of ``officers_per_station``), who drives the world's car
time (times the hour's congestion), and stops the victim with ``visit_success_prob``. A
stopped victim makes no further transfer, and a held one is cancelled.

Money that went through passes ``mule_layers`` mule accounts, resting ``mule_hop_s`` in
each, and is then cashed out. A stop-payment (``stop_payment_delay_s`` after the
warning) recovers a transfer still in the first account; a freeze (``freeze_delay_s``
after) one not yet cashed out; both act on later transfers too (the accounts are
watched), each with its success probability.

Every random quantity comes from its own named stream, drawn for all cases at once, so
runs that differ in one setting share everything else (common random numbers).
"""

from __future__ import annotations

import math
from collections.abc import Generator
from dataclasses import dataclass

import numpy as np
import simpy

from gridsim.core.rng import stream
from gridsim.core.units import SECONDS_PER_HOUR
from gridsim.scenario.schema import CHARACTERS, FRAUD_CHANNELS, Fraud
from gridsim.world.build import World

SOURCES = ("bank", "feed", "victim")  # warning sources; "" = never warned
STOPPED_BY = ("callback", "visit", "victim")  # who stopped the victim; "" = nobody


@dataclass(frozen=True, eq=False)
class FraudCity:
    """What the study takes from the world: where victims live, police car times."""

    node_weight: np.ndarray  # (N,) residents per node
    node_station: np.ndarray  # (N,) station area of each node
    station_car_s: np.ndarray  # (N,) free-flow car seconds from the node's own station
    node_character: np.ndarray  # (N,) district character index (CHARACTERS)
    congestion: np.ndarray  # (24, characters) travel-time factor by hour
    stations: int


def fraud_city(world: World) -> FraudCity:
    """Return the parts of ``world`` the anti-fraud study uses."""
    scenario = world.scenario
    station = world.zones.node_station
    character = np.array([CHARACTERS.index(d.character) for d in scenario.city.districts],
                         dtype=np.int64)
    return FraudCity(
        node_weight=world.node_population,
        node_station=station.astype(np.int64),
        station_car_s=world.node_station_car_s[np.arange(station.shape[0]), station].astype(
            np.float64),
        node_character=character[world.node_district],
        congestion=scenario.city.congestion.table(),
        stations=world.zones.station_count,
    )


@dataclass(frozen=True, eq=False)
class Draws:
    """Every random number of one replication, one row per case (C cases, M transfers)."""

    t_contact_s: np.ndarray  # (C,) sorted
    node: np.ndarray
    channel: np.ndarray  # index into FRAUD_CHANNELS
    amount: np.ndarray  # yuan
    transfers: np.ndarray  # planned transfers, 1..M
    first_transfer_s: np.ndarray
    gap_s: np.ndarray  # (C, M)
    detect_u: np.ndarray  # (C, M)
    bank_delay_s: np.ndarray
    feed_u: np.ndarray
    feed_delay_s: np.ndarray
    victim_u: np.ndarray
    victim_delay_s: np.ndarray
    callback_s: np.ndarray
    callback_u: np.ndarray
    visit_u: np.ndarray
    on_scene_s: np.ndarray
    stop_delay_s: np.ndarray
    stop_u: np.ndarray  # (C, M)
    freeze_delay_s: np.ndarray
    freeze_u: np.ndarray  # (C, M)
    first_hop_s: np.ndarray  # (C, M) time in the first mule account
    cash_out_s: np.ndarray  # (C, M) time through every layer

    @property
    def count(self) -> int:
        """Return the number of cases."""
        return int(self.t_contact_s.shape[0])


def draw_cases(spec: Fraud, city: FraudCity, seed: int) -> Draws:
    """Return replication ``seed``'s cases and every random number they will need."""
    t_contact_s = _contact_times(spec, stream(seed, "fraud.cases"))
    n, m = t_contact_s.shape[0], spec.max_transfers

    def sample(name: str, duration: object, shape: tuple[int, ...]) -> np.ndarray:
        size = int(np.prod(shape))
        return duration.sample(stream(seed, f"fraud.{name}"), size).reshape(shape)  # type: ignore[attr-defined]

    def uniform(name: str, shape: tuple[int, ...]) -> np.ndarray:
        return stream(seed, f"fraud.{name}.u").random(shape)

    weight = city.node_weight / city.node_weight.sum()
    shares = np.array([spec.channels[c].share if c in spec.channels else 0.0
                       for c in FRAUD_CHANNELS])
    cumulative = np.cumsum(shares / shares.sum())
    channel = np.minimum(np.searchsorted(cumulative, uniform("channel", (n,)), side="right"),
                         len(FRAUD_CHANNELS) - 1)
    hops = sample("mule_hop", spec.mule_hop_s, (n, m, spec.mule_layers))
    return Draws(
        t_contact_s=t_contact_s,
        node=stream(seed, "fraud.victims").choice(weight.shape[0], size=n, p=weight),
        channel=channel,
        amount=spec.amount.sample(stream(seed, "fraud.amount"), n),
        transfers=np.minimum(1 + stream(seed, "fraud.transfers").poisson(
            spec.extra_transfers_mean, n), m),
        first_transfer_s=sample("first_transfer", spec.first_transfer_s, (n,)),
        gap_s=sample("gap", spec.transfer_gap_s, (n, m)),
        detect_u=uniform("detect", (n, m)),
        bank_delay_s=sample("bank_report", spec.bank_report_delay_s, (n,)),
        feed_u=uniform("feed", (n,)),
        feed_delay_s=sample("feed", spec.feed.delay_s, (n,)),
        victim_u=uniform("victim", (n,)),
        victim_delay_s=sample("victim", spec.victim.delay_s, (n,)),
        callback_s=sample("callback", spec.callback_s, (n,)),
        callback_u=uniform("callback", (n,)),
        visit_u=uniform("visit", (n,)),
        on_scene_s=sample("on_scene", spec.visit_on_scene_s, (n,)),
        stop_delay_s=sample("stop_payment", spec.stop_payment_delay_s, (n,)),
        stop_u=uniform("stop_payment", (n, m)),
        freeze_delay_s=sample("freeze", spec.freeze_delay_s, (n,)),
        freeze_u=uniform("freeze", (n, m)),
        first_hop_s=hops[:, :, 0],
        cash_out_s=hops.sum(axis=2),
    )


def _contact_times(spec: Fraud, rng: np.random.Generator) -> np.ndarray:
    """Return sorted contact times: Poisson counts by hour of the run, uniform within."""
    hours = math.ceil(spec.days * 24.0)
    profile = np.asarray(spec.hourly_profile, dtype=float)
    per_hour = spec.cases_per_day * profile / profile.sum()
    length_h = np.minimum(1.0, spec.days * 24.0 - np.arange(hours))
    counts = rng.poisson(per_hour[np.arange(hours) % 24] * length_h)
    start = np.repeat(np.arange(hours, dtype=float), counts)
    within = rng.random(start.shape[0]) * np.repeat(length_h, counts)
    return np.sort((start + within) * SECONDS_PER_HOUR)


class Replication:
    """The simpy model of one replication; ``run`` returns one row per case."""

    def __init__(self, spec: Fraud, city: FraudCity, draws: Draws) -> None:
        """Set up the resources and the per-case state."""
        self.spec, self.city, self.d = spec, city, draws
        n = draws.count
        self.env = simpy.Environment()
        self.call_takers = simpy.Resource(self.env, capacity=spec.call_takers)
        self.officers: dict[int, simpy.Resource] = {}
        self.stop_event = [self.env.event() for _ in range(n)]
        self.stopped_at = np.full(n, np.inf)
        self.stopped_by = [""] * n
        self.warned_at = np.full(n, np.inf)
        self.source = [""] * n
        self.made_s = np.full((n, spec.max_transfers), np.inf)  # when each transfer went
        self.call_taker_s = np.zeros(n)
        self.callback_wait_s = np.full(n, np.nan)
        self.officer_s = np.zeros(n)
        self.visited = np.zeros(n, dtype=bool)

    def run(self) -> dict[str, np.ndarray]:
        """Run every case to its end; return the per-case columns (money included)."""
        for i in range(self.d.count):
            self.env.process(self._case(i))
        self.env.run()
        return self._columns()

    def _case(self, i: int) -> Generator[simpy.Event, None, None]:
        d, spec = self.d, self.spec
        yield self.env.timeout(float(d.t_contact_s[i]))
        if d.feed_u[i] < spec.feed.prob:
            self.env.process(self._warn(i, "feed", float(d.feed_delay_s[i])))
        channel = spec.channels[FRAUD_CHANNELS[int(d.channel[i])]]
        wait_s = float(d.first_transfer_s[i])
        flagged = False
        for k in range(int(d.transfers[i])):
            if wait_s > 0.0:
                yield self.env.any_of([self.env.timeout(wait_s), self.stop_event[i]])
            if self.stopped_at[i] <= self.env.now:
                return
            if d.detect_u[i, k] < channel.detect_prob:
                if not flagged:
                    flagged = True
                    self.env.process(self._warn(i, "bank", float(d.bank_delay_s[i])))
                if channel.hold_s > 0.0:
                    yield self.env.any_of([self.env.timeout(channel.hold_s),
                                           self.stop_event[i]])
                    if self.stopped_at[i] <= self.env.now:
                        return  # the held transfer is cancelled
            self.made_s[i, k] = self.env.now
            if k == 0 and d.victim_u[i] < spec.victim.prob:
                self.env.process(self._warn(i, "victim", float(d.victim_delay_s[i])))
            wait_s = float(d.gap_s[i, k])

    def _warn(self, i: int, source: str, delay_s: float) -> Generator[simpy.Event, None, None]:
        yield self.env.timeout(delay_s)
        if source == "victim":  # the victim knows now: no more payments
            self._stop(i, "victim")
        if self.warned_at[i] < math.inf:
            return  # the centre already has the case
        self.warned_at[i] = self.env.now
        self.source[i] = source
        if source == "victim":
            return  # nobody left to persuade: stop-payment and freeze only
        visit_first = source == "bank" and self.spec.channels[
            FRAUD_CHANNELS[int(self.d.channel[i])]].visit_first
        if not visit_first:
            yield from self._call_back(i)
            if self.stopped_at[i] < math.inf:
                return
        yield from self._visit(i)

    def _call_back(self, i: int) -> Generator[simpy.Event, None, None]:
        asked_s = self.env.now
        with self.call_takers.request() as request:
            yield request
            self.callback_wait_s[i] = self.env.now - asked_s
            started_s = self.env.now
            yield self.env.timeout(float(self.d.callback_s[i]))
            self.call_taker_s[i] = self.env.now - started_s
        if self.d.callback_u[i] < self.spec.callback_success_prob:
            self._stop(i, "callback")

    def _visit(self, i: int) -> Generator[simpy.Event, None, None]:
        if self.spec.officers_per_station == 0:
            return
        node = int(self.d.node[i])
        station = int(self.city.node_station[node])
        officers = self.officers.get(station)
        if officers is None:
            officers = self.officers[station] = simpy.Resource(
                self.env, capacity=self.spec.officers_per_station)
        with officers.request() as request:
            yield request
            self.visited[i] = True
            started_s = self.env.now
            hour = int(started_s // SECONDS_PER_HOUR) % 24
            drive_s = float(self.city.station_car_s[node]) * float(
                self.city.congestion[hour, self.city.node_character[node]])
            yield self.env.timeout(drive_s)
            if self.d.visit_u[i] < self.spec.visit_success_prob:
                self._stop(i, "visit")
            yield self.env.timeout(float(self.d.on_scene_s[i]) + drive_s)  # and back
            self.officer_s[i] = self.env.now - started_s

    def _stop(self, i: int, by: str) -> None:
        if self.stopped_at[i] < math.inf:
            return
        self.stopped_at[i] = self.env.now
        self.stopped_by[i] = by
        self.stop_event[i].succeed()

    def _columns(self) -> dict[str, np.ndarray]:
        d, spec = self.d, self.spec
        n, m = d.count, spec.max_transfers
        planned = np.arange(m)[None, :] < d.transfers[:, None]
        share = np.where(planned, (d.amount / d.transfers)[:, None], 0.0)  # equal parts
        made = np.isfinite(self.made_s)
        t_made = np.where(made, self.made_s, 0.0)
        warned = np.isfinite(self.warned_at)
        t_warn = np.where(warned, self.warned_at, np.inf)[:, None]
        t_stop = t_warn + d.stop_delay_s[:, None]
        t_freeze = t_warn + d.freeze_delay_s[:, None]
        stopped_payment = (d.stop_u < spec.stop_payment_success_prob) & (
            np.maximum(t_made, t_stop) < t_made + d.first_hop_s)
        frozen = (d.freeze_u < spec.freeze_success_prob) & (
            np.maximum(t_made, t_freeze) < t_made + d.cash_out_s)
        recovered = made & (stopped_payment | frozen)
        lost = made & ~recovered
        gone_by_warning = made & (t_made + d.cash_out_s <= t_warn)
        at_risk = np.where(warned[:, None] & planned & ~gone_by_warning, share, 0.0)
        count_made = made.sum(axis=1)
        first_made = np.where(count_made > 0, t_made[:, 0], np.nan)
        return {
            "case": np.arange(n, dtype=np.int64),
            "t_contact_s": d.t_contact_s,
            "hour": (d.t_contact_s // SECONDS_PER_HOUR).astype(np.int64) % 24,
            "channel": np.array(FRAUD_CHANNELS)[d.channel],
            "node": d.node.astype(np.int64),
            "station": self.city.node_station[d.node],
            "amount_yuan": d.amount,
            "transfers_planned": d.transfers.astype(np.int64),
            "transfers_made": count_made.astype(np.int64),
            "warned": warned,
            "warning_source": np.array(self.source, dtype=object).astype(str),
            "warning_after_contact_s": np.where(warned, self.warned_at - d.t_contact_s, np.nan),
            "first_transfer_after_contact_s": first_made - d.t_contact_s,
            "victim_report_after_first_transfer_s": np.where(
                (d.victim_u < spec.victim.prob) & (count_made > 0), d.victim_delay_s, np.nan),
            "stopped_by": np.array(self.stopped_by, dtype=object).astype(str),
            "stopped_before_first": count_made == 0,
            "stopped_before_last": count_made < d.transfers,
            "at_risk_at_warning_yuan": at_risk.sum(axis=1),
            "lost_yuan": np.where(lost, share, 0.0).sum(axis=1),
            "lost_after_warning_yuan": np.where(lost & (at_risk > 0.0), share, 0.0).sum(axis=1),
            # of which paid after the warning: the race the response lost
            "lost_paid_after_warning_yuan": np.where(lost & made & (t_made > t_warn), share,
                                                     0.0).sum(axis=1),
            "recovered_yuan": np.where(recovered, share, 0.0).sum(axis=1),
            "callback_wait_s": self.callback_wait_s,
            "call_taker_s": self.call_taker_s,
            "visited": self.visited,
            "officer_s": self.officer_s,
        }


def run_replication(spec: Fraud, city: FraudCity, seed: int) -> dict[str, np.ndarray]:
    """Return one row per case of replication ``seed`` (columns of equal length)."""
    return Replication(spec, city, draw_cases(spec, city, seed)).run()
