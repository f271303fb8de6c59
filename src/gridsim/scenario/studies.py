"""The studies' sections: the missing-person search, anti-fraud and school runs."""

from __future__ import annotations

from typing import Annotated, Any, Literal

import numpy as np
from pydantic import Field, model_validator

from gridsim.core.units import HOURS_PER_DAY, SECONDS_PER_HOUR
from gridsim.scenario.types import (
    MAX_COUNT,
    MAX_CV,
    Count,
    Duration,
    HourOfDay,
    Model,
    NonNegativeFloat,
    PositiveFloat,
    Probability,
    Speed,
    Weight,
)

PlaceType = Literal["water_edge", "bridge", "park", "transport_hub"]
SubjectRule = Literal["stay", "wander", "attractor", "return_home"]


class Behaviour(Model):
    """A category of missing person: the prior's distance rings, and how he really moves.

    The prior (``distance_km_quartiles``, ``distance_km_p95``, ``attraction``) is the
    planner's: ISRID-style rings of straight-line distance from the last known point
    (25/50/75/95%), with attraction weights on places. The subject is drawn from a
    different model: he walks the roads for ``walk_time_s`` keeping his heading with
    ``persistence``, then follows one of the ``rules`` (shares): stay where he is, wander
    on (walks of ``wander_walk_s`` between rests of ``pause_s``), head for an attracting
    place within ``attractor_reach_m`` by road, or go home after ``dwell_s``. At rest he
    is up to ``offroad_m`` off the road. ``critical_time_h`` is the mean time to harm at
    an ordinary place by day (the hazard, 1 / it, grows with place and night factors).
    """

    distance_km_quartiles: tuple[PositiveFloat, PositiveFloat, PositiveFloat]
    distance_km_p95: PositiveFloat
    attraction: dict[PlaceType, Weight] = Field(default_factory=dict)
    walk_speed_mps: Speed
    walk_time_s: Duration
    persistence: Annotated[float, Field(ge=0.0, le=50.0)] = 2.0
    rules: dict[SubjectRule, Weight]
    attractor_reach_m: PositiveFloat = 2000.0
    wander_walk_s: Duration = Duration(dist="exponential", mean_s=900.0)
    pause_s: Duration = Duration(dist="exponential", mean_s=SECONDS_PER_HOUR)
    dwell_s: Duration = Duration(dist="exponential", mean_s=7200.0)
    offroad_m: NonNegativeFloat = 30.0
    critical_time_h: PositiveFloat = 24.0

    @model_validator(mode="after")
    def _check(self) -> Behaviour:
        q1, q2, q3 = self.distance_km_quartiles
        if not q1 < q2 < q3 < self.distance_km_p95:
            raise ValueError("distance_km_quartiles: the 25%, 50%, 75% distances and "
                             "distance_km_p95 must increase")
        if sum(self.rules.values()) <= 0.0:
            raise ValueError("rules: give at least one rule a positive share")
        return self


class SweepWidths(Model):
    """Effective sweep width (m) by terrain class of the road swept."""

    street: PositiveFloat
    park: PositiveFloat
    waterside: PositiveFloat


class SearcherKind(Model):
    """One kind of searcher: when it sets off, how fast it sweeps, how wide it sees.

    A searcher travels by road at its mode's speed (police: the district's car speed;
    grid workers: ``grid_workers.mode``; volunteers: their own mode and speed), then
    sweeps every road of a search segment at ``sweep_speed_mps``, covering
    ``sweep_path_factor`` metres per metre of road (turning back at dead ends). While
    travelling it still sees, with ``transit_sweep_share`` of its sweep width.
    """

    start_delay_s: NonNegativeFloat
    sweep_speed_mps: Speed
    sweep_path_factor: Annotated[float, Field(ge=1.0, le=10.0)] = 1.5
    transit_sweep_share: Probability = 0.5
    max_search_h: PositiveFloat = 24.0  # one searcher keeps at it this long at most
    sweep_width_day_m: SweepWidths
    sweep_width_night_m: SweepWidths


class Observers(Model):
    """A sighting channel of fixed observers: who sees a subject pass, reports, and errs.

    A subject passing within ``range_m`` of an observer is seen with ``pass_prob_day`` /
    ``pass_prob_night``; one resting within range is noticed at ``linger_per_h`` an hour.
    Reports reach the search ``report_delay_s`` later, placing him within
    ``location_error_m``. Each observer makes false reports at
    ``false_reports_per_observer_h``; the planner takes a report as true with ``trust``.
    """

    range_m: PositiveFloat
    pass_prob_day: Probability
    pass_prob_night: Probability
    linger_per_h: NonNegativeFloat = 0.0
    report_delay_s: Duration
    location_error_m: PositiveFloat = 100.0
    false_reports_per_observer_h: NonNegativeFloat = 0.0
    trust: Annotated[float, Field(gt=0.0, le=1.0)] = 0.5


class WatchPointChannel(Observers):
    """Watch-point staff: they look out once the description reaches them."""

    start_delay_s: NonNegativeFloat = 600.0  # from the report


class PlatformChannel(Observers):
    """Platform members pushed the description: observers at their homes by population.

    Members within ``push_radius_m`` by road of the last known point get the push; how
    many there are, and who takes it up, follow ``[platform]`` (count, the
    ``missing_person`` task's ``engagement`` and ``delay_s``, ``engagement_by_hour``).
    """

    push_radius_m: PositiveFloat = 3000.0


def _default_camera_places() -> list[PlaceType]:
    return ["transport_hub", "bridge"]


class CctvChannel(Observers):
    """Cameras at the marked places and at a share of the busiest junctions.

    Footage is searched from ``review_start_s`` after the report; a capture is reported
    ``report_delay_s`` after that or after the capture, whichever is later.
    """

    places: list[PlaceType] = Field(default_factory=_default_camera_places)
    junction_share: Probability = 0.1
    review_start_s: NonNegativeFloat = 1800.0


class PhoneChannel(Model):
    """Phone location: a coarse area from the carrier, after a request delay, repeated."""

    phone_on_prob: Probability
    request_delay_s: NonNegativeFloat
    repeat_s: PositiveFloat = SECONDS_PER_HOUR
    accuracy_m: PositiveFloat = 1000.0
    trust: Annotated[float, Field(gt=0.0, le=1.0)] = 0.9


class Channels(Model):
    """The sighting channels of the study's channel arms."""

    watch_points: WatchPointChannel
    platform: PlatformChannel
    cctv: CctvChannel
    phone: PhoneChannel


class MissingPerson(Model):
    """A missing-person search study: one subject, replayed under several strategies."""

    district: str
    category: str
    last_seen_hour: HourOfDay = 22.0
    report_delay_h: NonNegativeFloat = 1.5
    horizon_h: PositiveFloat = 12.0
    replications: Annotated[int, Field(ge=2, le=MAX_COUNT)] = 200
    search_radius_m: PositiveFloat = 6000.0
    segment_m: Annotated[float, Field(ge=50.0, le=5000.0)] = 500.0
    night_hours: tuple[HourOfDay, HourOfDay] = (19.0, 6.0)
    police_units: Count = 4
    volunteer_radius_m: PositiveFloat = 1500.0  # by road from the last known point
    grid_callout_prob: Probability = 0.0  # off-shift grid workers who answer a call-out
    grid_callout_delay_s: NonNegativeFloat = 1800.0
    belief_spread_per_h: Probability = 0.2  # map mass moving to neighbour segments an hour
    # the planner's POD spreads effort over the strip this close to a segment's roads
    # (0: the whole segment), as lost people are mostly found near linear features
    track_offset_m: NonNegativeFloat = 0.0
    wrong_prior_category: str
    wrong_prior_attraction: bool = False
    # the wrong prior's rings are centred this far from the LKP, on this compass bearing
    wrong_prior_lkp_offset_m: NonNegativeFloat = 0.0
    wrong_prior_bearing_deg: Annotated[float, Field(ge=0.0, lt=360.0)] = 90.0
    mapscore_subjects: Annotated[int, Field(ge=10, le=100_000)] = 500
    critical_place_factor: dict[PlaceType, Annotated[float, Field(gt=0.0, le=1000.0)]] = (
        Field(default_factory=dict))
    critical_night_factor: Annotated[float, Field(gt=0.0, le=1000.0)] = 1.0
    behaviours: dict[str, Behaviour]
    police: SearcherKind
    grid: SearcherKind
    volunteer: SearcherKind
    channels: Channels

    @model_validator(mode="after")
    def _check(self) -> MissingPerson:
        for key in ("category", "wrong_prior_category"):
            name = getattr(self, key)
            if name not in self.behaviours:
                raise ValueError(f"{key}: unknown category {name!r}; allowed: "
                                 f"{', '.join(sorted(self.behaviours))}")
        if self.segment_m * 2.0 > self.search_radius_m:
            raise ValueError(f"segment_m: is {self.segment_m:g} but the search area's "
                             f"radius is {self.search_radius_m:g}; use segments at most "
                             "half the radius")
        return self


FraudChannel = Literal["branch", "app", "atm"]
FRAUD_CHANNELS: tuple[FraudChannel, ...] = ("branch", "app", "atm")
MAX_YUAN = 1e12


class Money(Model):
    """A random sum of money in yuan: log-normal with mean ``mean_yuan`` and CV ``cv``."""

    mean_yuan: Annotated[float, Field(gt=0.0, le=MAX_YUAN)]
    cv: Annotated[float, Field(ge=0.0, le=MAX_CV)] = 1.0

    def sample(self, rng: np.random.Generator, n: int) -> np.ndarray:
        """Return ``n`` draws in yuan (float64)."""
        sigma2 = np.log1p(self.cv**2)
        return rng.lognormal(np.log(self.mean_yuan) - sigma2 / 2.0, np.sqrt(sigma2), n)


class FraudChannelSpec(Model):
    """How victims pay through one channel, and how the bank watches it."""

    share: Weight  # relative share of victims who pay this way
    # chance the bank's risk system or staff flag one transfer as a likely fraud
    detect_prob: Probability
    # a flagged transfer is held this long (staff stall the customer, the risk system
    # delays the payment); it goes through after unless the victim is stopped first
    hold_s: NonNegativeFloat = 0.0
    # police go to the victim at once on a bank warning (the UK Banking Protocol: branch
    # staff call police, who come to the branch) instead of calling back first
    visit_first: bool = False


class FraudWarning(Model):
    """A warning source outside the bank: it warns with ``prob``, ``delay_s`` after its start."""

    prob: Probability
    delay_s: Duration


class FraudSweep(Model):
    """One setting of ``[fraud]`` varied one value at a time (common random numbers)."""

    key: Annotated[str, Field(min_length=1)]  # a dotted path inside [fraud]
    values: Annotated[list[Annotated[float, Field(allow_inf_nan=False)]],
                      Field(min_length=2, max_length=50)]
    replications: Annotated[int, Field(ge=2, le=100_000)] | None = None  # none: the study's


class Fraud(Model):
    """The police-bank anti-fraud study: fraud contacts, transfers, warnings, interventions.

    Victims are contacted by fraudsters and move money in transfers; warnings come from the
    bank (per transfer and channel), a police early-warning ``feed`` (from the contact) or
    the ``victim`` (from the first transfer); the anti-fraud centre calls back, police visit,
    and payments are stopped and mule accounts frozen, each after its delay.
    """

    days: Annotated[float, Field(gt=0.0, le=366.0)] = 1.0
    replications: Annotated[int, Field(ge=2, le=100_000)] = 40
    cases_per_day: Annotated[float, Field(ge=0.0, le=1e6)]
    hourly_profile: Annotated[
        list[Weight], Field(min_length=HOURS_PER_DAY, max_length=HOURS_PER_DAY)]
    amount: Money  # a case's whole sum, split over its transfers
    # transfers per case: 1 + Poisson(extra_transfers_mean), at most max_transfers
    extra_transfers_mean: Annotated[float, Field(ge=0.0, le=100.0)] = 1.0
    max_transfers: Annotated[int, Field(ge=1, le=100)] = 10
    first_transfer_s: Duration  # contact to the first transfer attempt
    transfer_gap_s: Duration  # one transfer made to the next attempt
    channels: dict[FraudChannel, FraudChannelSpec]
    bank_report_delay_s: Duration  # a flagged transfer to the police being told
    feed: FraudWarning  # the police early-warning feed, timed from the contact
    victim: FraudWarning  # the victim (or family) reports, timed from the first transfer
    call_takers: Annotated[int, Field(ge=1, le=100_000)] = 4  # anti-fraud centre call-backs
    callback_s: Duration  # a call-taker is free to the end of the call-back
    callback_success_prob: Probability  # the call-back convinces the victim to stop
    # anti-fraud officers on duty at each station (0: no visits)
    officers_per_station: Annotated[int, Field(ge=0, le=10_000)] = 1
    visit_on_scene_s: Duration
    visit_success_prob: Probability  # an officer on the spot stops the victim
    stop_payment_delay_s: Duration  # warning to the stop-payment request taking effect
    stop_payment_success_prob: Probability
    mule_layers: Annotated[int, Field(ge=1, le=50)] = 3  # hops before the money is cashed out
    mule_hop_s: Duration  # the time money rests in each mule account
    freeze_delay_s: Duration  # warning to the mule accounts being frozen
    freeze_success_prob: Probability
    sweeps: list[FraudSweep] = Field(default_factory=list, max_length=10)

    @model_validator(mode="after")
    def _check(self) -> Fraud:
        if sum(self.hourly_profile) <= 0.0:
            raise ValueError("hourly_profile: needs at least one positive weight")
        if not self.channels or sum(c.share for c in self.channels.values()) <= 0.0:
            raise ValueError("channels: give at least one channel (branch, app, atm) a "
                             "positive share")
        for k, sweep in enumerate(self.sweeps):
            for value in sweep.values:
                try:
                    self.with_value(sweep.key, value)
                except (KeyError, TypeError):
                    raise ValueError(
                        f"sweeps[{k}].key: {sweep.key!r} is not a number of [fraud]; give a "
                        "dotted path such as 'bank_report_delay_s.mean_s' or "
                        "'call_takers'") from None
                except ValueError as exc:
                    first = str(exc).splitlines()
                    detail = (first[2] if len(first) > 2 else str(exc)).split(" [type=")[0].strip()
                    raise ValueError(f"sweeps[{k}].values: {value:g} is not allowed for "
                                     f"{sweep.key}: {detail}") from None
        return self

    def with_value(self, key: str, value: float) -> Fraud:
        """Return this study with the number at dotted ``key`` set to ``value`` (no sweeps).

        Raises KeyError for a path that names no number, ValueError for a bad value.
        """
        data = self.model_dump(mode="python", exclude={"sweeps"})
        *parents, last = key.split(".")
        node: Any = data
        for part in parents:
            node = node[part]
        if not isinstance(node, dict) or last not in node or isinstance(node[last], bool) \
                or not isinstance(node[last], int | float):
            raise KeyError(key)
        node[last] = int(value) if isinstance(node[last], int) and value == int(value) \
            else value
        return Fraud.model_validate(data)


PostStaff = Literal["none", "police", "auxiliary", "grid_workers", "volunteers"]


class SchoolWindow(Model):
    """A school-run window: from ``start_h`` for ``length_h`` hours, within one day."""

    start_h: HourOfDay
    length_h: Annotated[float, Field(gt=0.0, le=24.0)]

    @model_validator(mode="after")
    def _check(self) -> SchoolWindow:
        if self.start_h + self.length_h > 24.0:
            raise ValueError(f"length_h: the window from {self.start_h:g} h runs past "
                             "midnight; end it by 24 h")
        return self


class Schools(Model):
    """School-run posts ("one school, one policy"): windows, posts, congestion, incidents.

    Schools are the imported city's schools layer, else ``count`` nodes drawn by
    population. In each window every school's post holds ``staff_per_post`` of
    ``post_staff`` (patrol units or auxiliary police (street mediators) of the school's
    station, grid workers or volunteers nearest it), who are then not free for calls;
    car trips to nodes within ``congestion_radius_m`` of a school take
    ``congestion_factor`` times longer in the windows; ``incident_type`` is drawn at
    schools in the windows, at a rate per school and window that depends on staffing.
    """

    count: Count = 0
    windows: Annotated[list[SchoolWindow], Field(min_length=1, max_length=8)]
    post_staff: PostStaff = "police"
    staff_per_post: Annotated[int, Field(ge=1, le=100)] = 1
    congestion_factor: Annotated[float, Field(ge=1.0, le=10.0)] = 1.0
    congestion_radius_m: Annotated[float, Field(gt=0.0, le=10_000.0)] = 500.0
    incident_type: str | None = None
    incidents_per_window_staffed: Annotated[float, Field(ge=0.0, le=100.0)] = 0.0
    incidents_per_window_unstaffed: Annotated[float, Field(ge=0.0, le=100.0)] = 0.0

    @model_validator(mode="after")
    def _check(self) -> Schools:
        spans = sorted((w.start_h, w.start_h + w.length_h) for w in self.windows)
        for (_, end), (start, _) in zip(spans, spans[1:], strict=False):
            if start < end:
                raise ValueError("windows: two windows overlap; give each school-run "
                                 "window its own hours")
        return self


