"""The responders' sections: police, mediators, grid workers, volunteers, watch points."""

from __future__ import annotations

from typing import Annotated, Literal

import numpy as np
from pydantic import Field, model_validator

from gridsim.core.units import HOURS_PER_DAY, SECONDS_PER_HOUR
from gridsim.scenario.types import (
    AtLeastOne,
    Count,
    Duration,
    HourOfDay,
    Model,
    NonNegativeFloat,
    PositiveFloat,
    Probability,
    Shift,
    Speed,
    TravelMode,
    Weight,
)


def _default_patrol_shifts() -> list[Shift]:
    return [Shift(start_h=0, length_h=8), Shift(start_h=8, length_h=8),
            Shift(start_h=16, length_h=8)]


class Police(Model):
    """Patrol units (by station, in rotating shifts) and community police."""

    patrol_units: Count = 900
    patrol_shifts: Annotated[list[Shift], Field(min_length=1)] = Field(
        default_factory=_default_patrol_shifts
    )
    community_police: Count = 1300
    community_shift: Shift = Shift(start_h=8, length_h=10)
    # patrol points per station area: idle patrol units wait at one (drawn afresh each
    # time they free), community police at a fixed one; 0 = everyone waits at the station
    patrol_points: Annotated[int, Field(ge=0, le=64)] = 0
    dispatch_delay_s: NonNegativeFloat = 90.0
    # handling delay by priority 1..5; when given it replaces dispatch_delay_s
    dispatch_delay_s_by_priority: Annotated[
        list[NonNegativeFloat], Field(min_length=5, max_length=5)] | None = None
    return_to_base: bool = True
    # street posts: units per street station, at the post (no patrol), sent only within
    # their quick-response ring (car seconds) or their own area; they work patrol_shifts
    street_post_units: Count = 0
    street_post_ring_s: PositiveFloat = 180.0
    # preemption: a call of priority <= preempt_priority_max (0: never) that finds no free
    # unit takes the nearest unit driving back from a call or busy on one of priority >=
    # preempt_victim_min, searched up to preempt_search_s of free-flow car time
    preempt_priority_max: Annotated[int, Field(ge=0, le=5)] = 0
    preempt_victim_min: Annotated[int, Field(ge=1, le=5)] = 3
    preempt_search_s: PositiveFloat = 1800.0
    # "1-3-5 minute" quick response: share of police-attended calls reached within each
    quick_response_s: Annotated[list[PositiveFloat], Field(min_length=1, max_length=10)] = (
        Field(default_factory=lambda: [60.0, 180.0, 300.0]))

    def delay_by_priority_s(self) -> np.ndarray:
        """Return the handling delay indexed by priority (index 0 unused), seconds."""
        delays = self.dispatch_delay_s_by_priority or [self.dispatch_delay_s] * 5
        return np.array([0.0, *delays])


class TrafficPolice(Model):
    """A separate traffic-police fleet for the incident types that name it."""

    units: Count = 0
    shifts: Annotated[list[Shift], Field(min_length=1)] = Field(
        default_factory=_default_patrol_shifts)
    # handling delay by priority 1..5 (none: the police's)
    dispatch_delay_s_by_priority: Annotated[
        list[NonNegativeFloat], Field(min_length=5, max_length=5)] | None = None


def _default_mediator_shifts() -> list[Shift]:
    return [Shift(start_h=8, length_h=12), Shift(start_h=8, length_h=12),
            Shift(start_h=20, length_h=12)]


class Mediators(Model):
    """Street mediators who take non-police calls at the front end and settle on scene."""

    count: Count = 1500
    shifts: Annotated[list[Shift], Field(min_length=1)] = Field(
        default_factory=_default_mediator_shifts
    )
    dispatch_delay_s: NonNegativeFloat = 120.0
    # chance a case is settled on scene; else it is brought to the station's mediation room
    settle_on_scene_prob: Probability = 0.7


def _default_full_time_shifts() -> list[Shift]:
    return [Shift(start_h=8.5, length_h=9.0)]


def _default_part_time_shifts() -> list[Shift]:
    return [Shift(start_h=9.0, length_h=4.0), Shift(start_h=14.0, length_h=4.0),
            Shift(start_h=18.0, length_h=4.0)]


class MediationRoom(Model):
    """Each station's mediation room: resident mediators settle the cases brought back.

    Cases queue first come, first served; a mediator on duty and free takes the next
    one and finishes it even past the end of the shift. Each case ends settled, referred
    (to another body) or escalated (to the police, charged ``escalation_police_s``).
    """

    full_time: Count = 500
    part_time: Count = 1000
    full_time_shifts: Annotated[list[Shift], Field(min_length=1)] = Field(
        default_factory=_default_full_time_shifts
    )
    part_time_shifts: Annotated[list[Shift], Field(min_length=1)] = Field(
        default_factory=_default_part_time_shifts
    )
    service_s: Duration = Duration(dist="lognormal", mean_s=5400.0, cv=0.8)
    settle_prob: Probability = 0.8
    refer_prob: Probability = 0.15
    escalate_prob: Probability = 0.05
    escalation_police_s: NonNegativeFloat = SECONDS_PER_HOUR  # officer time an escalated case takes

    @model_validator(mode="after")
    def _check(self) -> MediationRoom:
        total = self.settle_prob + self.refer_prob + self.escalate_prob
        if abs(total - 1.0) > 1e-9:
            raise ValueError(
                f"settle_prob: settle_prob + refer_prob + escalate_prob is {total:g}; the "
                "three outcomes of a case must add up to 1"
            )
        return self


class GridWorkers(Model):
    """Grid and micro-grid workers, pushed incidents in their own grid."""

    per_grid: Count = 1
    per_micro_grid: Count = 1
    shift: Shift = Shift(start_h=8, length_h=10)
    response_prob: Probability = 0.7
    reaction_s: NonNegativeFloat = 120.0
    mode: TravelMode = "ebike"
    on_scene_s: Duration = Duration(dist="lognormal", mean_s=1200.0, cv=0.5)
    max_dispatched: AtLeastOne = 1


def _default_availability() -> list[float]:
    return [0.04] * 6 + [0.10, 0.18] + [0.25] * 10 + [0.20] * 4 + [0.10, 0.06]


class ModeSpeed(Model):
    """One way volunteers travel: its share of the pool and a log-normal speed (road m/s)."""

    share: Weight
    median_mps: Speed
    cv: Annotated[float, Field(ge=0.0, le=5.0)] = 0.3


class VolunteerTravel(Model):
    """How volunteers get to an incident: each draws a mode by share, then its own speed."""

    walk: ModeSpeed = ModeSpeed(share=0.50, median_mps=1.4, cv=0.3)
    ebike: ModeSpeed = ModeSpeed(share=0.35, median_mps=3.5, cv=0.3)
    car: ModeSpeed = ModeSpeed(share=0.15, median_mps=6.0, cv=0.4)

    @model_validator(mode="after")
    def _check(self) -> VolunteerTravel:
        if self.walk.share + self.ebike.share + self.car.share <= 0.0:
            raise ValueError("share: give at least one of walk, ebike, car a positive share")
        return self


class Alerting(Model):
    """How the app alerts: rounds of the nearest free volunteers, widening until enough accept.

    Round k (0, 1, ...) alerts up to ``round_size`` volunteers within
    ``dispatch.volunteer_radius_m * radius_growth**k``; a round goes out
    ``round_interval_s`` after the last one only while fewer than
    ``dispatch.volunteer_max_dispatched`` have accepted.
    """

    round_size: AtLeastOne = 3
    round_interval_s: PositiveFloat = 60.0
    radius_growth: Annotated[float, Field(ge=1.0, le=10.0)] = 2.0
    max_rounds: Annotated[int, Field(ge=1, le=20)] = 2
    # [start_h, end_h]: no alerts from start to end (may wrap midnight); [] for none
    quiet_hours: Annotated[list[HourOfDay], Field(max_length=2)] = Field(default_factory=list)
    max_alerts_per_week: AtLeastOne | None = None  # per volunteer, days 0-6, 7-13, ... of the run

    @model_validator(mode="after")
    def _check(self) -> Alerting:
        if len(self.quiet_hours) == 1 or (
            len(self.quiet_hours) == 2 and self.quiet_hours[0] == self.quiet_hours[1]
        ):
            raise ValueError("quiet_hours: give [start_h, end_h] with start != end, or [] "
                             "for none")
        return self

    def radius_m(self, first_m: float, round_index: int) -> float:
        """Return the search radius of round ``round_index`` (0 first), road metres."""
        return first_m * self.radius_growth ** round_index

    def largest_radius_m(self, first_m: float) -> float:
        """Return the radius of the last round: what the volunteer catchments must cover."""
        return self.radius_m(first_m, self.max_rounds - 1)


VolunteerWhere = Literal["home", "post", "roaming"]
WorkStart = Annotated[int, Field(ge=0, le=23)]
WorkEnd = Annotated[int, Field(ge=0, le=24)]


DEFAULT_ROAM_BLOCK_H = 2


class VolunteerKind(Model):
    """One kind of organised volunteer: its share, where it is by hour, availability, travel.

    ``where``: "home" (always at home); "post" (at one fixed post node in ``work_hours``,
    home otherwise); "roaming" (in ``work_hours`` at one node per ``roam_block_h`` hours,
    home otherwise). Posts and roaming nodes are drawn by population in the home's
    ``area`` (its police-station area or district). ``availability_by_hour`` and ``travel``
    default to the pool's.
    """

    share: Probability
    where: VolunteerWhere = "home"
    # [start_h, end_h): whole hours of the day, may wrap midnight ([20, 8]); [0, 24] all day
    work_hours: tuple[WorkStart, WorkEnd] | None = None
    # roaming only (ASSUMPTION by default: a new place every 2 hours)
    roam_block_h: Annotated[int, Field(ge=1, le=24)] = DEFAULT_ROAM_BLOCK_H
    area: Literal["station", "district"] = "station"
    availability_by_hour: Annotated[
        list[Probability], Field(min_length=HOURS_PER_DAY, max_length=HOURS_PER_DAY)
    ] | None = None
    travel: VolunteerTravel | None = None

    @model_validator(mode="after")
    def _check(self) -> VolunteerKind:
        if self.where == "home":
            if self.work_hours is not None:
                raise ValueError('work_hours: only for where = "post" or "roaming" (a "home" '
                                 "volunteer is always at home); remove it")
        elif self.work_hours is None:
            raise ValueError(f'work_hours: required for where = "{self.where}"; give '
                             "[start_h, end_h], e.g. [8, 20]")
        elif self.work_hours[0] == self.work_hours[1]:
            raise ValueError(f"work_hours: start and end are the same hour (got "
                             f"{list(self.work_hours)}); give [0, 24] for all day")
        # a value, not whether the key was given: a results folder's scenario.json
        # repeats every default and must read back
        if self.where != "roaming" and self.roam_block_h != DEFAULT_ROAM_BLOCK_H:
            raise ValueError('roam_block_h: only for where = "roaming"; remove it')
        return self

    def work_mask(self) -> int:
        """Return the work hours as a 24-bit mask (bit h: hour h of the day); 0 for home."""
        if self.work_hours is None:
            return 0
        start, end = self.work_hours
        length = end - start if end > start else end + HOURS_PER_DAY - start
        return sum(1 << ((start + k) % HOURS_PER_DAY) for k in range(length))


class Volunteers(Model):
    """Safety volunteers: alerted in rounds, accept by distance and fatigue, may leave."""

    count: Count = 73_000
    # share of volunteers near home with the app on, by hour: only they are alerted
    availability_by_hour: Annotated[
        list[Probability], Field(min_length=HOURS_PER_DAY, max_length=HOURS_PER_DAY)
    ] = Field(default_factory=_default_availability)
    # p(accept) = acceptance_prob * exp(-road metres / acceptance_decay_m) * fatigue factor
    acceptance_prob: Probability = 0.47
    acceptance_decay_m: Annotated[float, Field(ge=1.0)] = 1000.0
    time_to_accept_s: Duration = Duration(dist="lognormal", mean_s=60.0, cv=1.0)
    no_show_prob: Probability = 0.1  # accepted and counted as coming, never arrives
    reaction_s: NonNegativeFloat = 30.0  # from accepting to setting off
    on_scene_s: Duration = Duration(dist="lognormal", mean_s=900.0, cv=0.5)
    travel: VolunteerTravel = VolunteerTravel()
    alerting: Alerting = Alerting()
    # fatigue factor 1 / (1 + load / fatigue_alerts), load = alerts received, each decaying
    # with this half-life
    fatigue_half_life_days: Annotated[float, Field(ge=0.001)] = 7.0  # 86 s or more
    fatigue_alerts: Annotated[float, Field(ge=0.001)] = 5.0
    churn_per_day: Probability = 0.000548  # share of active volunteers leaving each day
    churn_per_alert: Probability = 0.002  # chance an alert makes its volunteer leave
    # recruits a day as a share of ``count``; they take the seats (homes) of those who left
    recruit_per_day: Probability = 0.000548
    # kinds of volunteer (door guards, riders, ...), shares adding up to 1; none: everyone
    # at home, with the pool's availability and travel
    kinds: dict[str, VolunteerKind] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _check(self) -> Volunteers:
        total = sum(kind.share for kind in self.kinds.values())
        if self.kinds and abs(total - 1.0) > 1e-6:
            raise ValueError(f"kinds: the shares add up to {total:.6g}; they must add up to 1")
        return self


class PlatformTask(Model):
    """A task push for one incident type: to members within a road radius, after a delay."""

    radius_m: PositiveFloat
    delay_s: NonNegativeFloat = 0.0  # from the call to the push
    engagement: Probability  # chance a member reached takes the task up


class Platform(Model):
    """The social mobilisation platform: a large, low-engagement pool that gets task pushes.

    Members live as residents do (by population), so a push within ``radius_m`` reaches
    a binomial number of them given the population there; each takes the task up with the
    task's ``engagement`` times the hour's factor. Not an emergency dispatch.
    """

    count: Count = 600_000
    engagement_by_hour: Annotated[
        list[Probability], Field(min_length=HOURS_PER_DAY, max_length=HOURS_PER_DAY)
    ] = Field(default_factory=lambda: [1.0] * HOURS_PER_DAY)
    time_to_respond_s: Duration = Duration(dist="lognormal", mean_s=600.0, cv=1.0)
    speed_mps: Speed = 1.4  # members reached on foot
    tasks: Annotated[dict[str, PlatformTask], Field(min_length=1)]

    def largest_radius_m(self) -> float:
        """Return the widest task radius: what the platform's node reach must cover."""
        return max(task.radius_m for task in self.tasks.values())


class WatchPointKind(Model):
    """One kind of watch point: its share, staff on hand, whether they may leave the site."""

    share: Weight
    staff: Annotated[int, Field(ge=1, le=1000)] = 1  # on hand at once
    may_leave: bool = True  # False: helps only incidents at its own node (the shop door)


def _default_watch_point_kinds() -> dict[str, WatchPointKind]:
    return {
        "supermarket": WatchPointKind(share=0.3, staff=2, may_leave=True),
        "shop": WatchPointKind(share=0.5, staff=1, may_leave=False),
        "community": WatchPointKind(share=0.2, staff=2, may_leave=True),
    }


DEFAULT_SHELTER_TYPES = ("person_in_need", "assault")


class WatchPoints(Model):
    """Peace watch points: fixed, open 24 h; staff help incidents next to them, as they can.

    Each point is of one kind (drawn by share from ``city.seed``): at most ``staff``
    incidents at once, each able to help with ``help_prob``; a person in need of a
    ``shelter_types`` incident within ``shelter_radius_m`` of a point with someone on
    hand takes refuge there. Alarm: an incident within ``alarm_radius_m`` of a point is,
    with ``alarm_prob``, reported by its staff after ``alarm_report_s`` when that is
    sooner than the type's ``report_delay_s``.
    """

    count: Count = 2000
    radius_m: NonNegativeFloat = 150.0
    reaction_s: NonNegativeFloat = 60.0
    on_scene_s: Duration = Duration(dist="fixed", mean_s=600.0)
    help_prob: Probability = 0.8
    kinds: Annotated[dict[str, WatchPointKind], Field(min_length=1)] = Field(
        default_factory=_default_watch_point_kinds
    )
    # the default names the Nanjing types: those of them the scenario has apply
    shelter_types: list[str] = Field(default_factory=lambda: list(DEFAULT_SHELTER_TYPES))
    shelter_radius_m: NonNegativeFloat = 50.0
    alarm_radius_m: NonNegativeFloat = 0.0  # 0: points raise no alarm
    alarm_prob: Probability = 0.0
    alarm_report_s: Duration = Duration(dist="fixed", mean_s=30.0)
    # more points at given places: a CSV (lat, lon columns) or GeoJSON of points, each
    # put on its nearest road node within extra_sites_snap_max_m (gridsim place writes one)
    extra_sites: str | None = None
    extra_sites_snap_max_m: Annotated[float, Field(gt=0.0, le=100_000.0)] = 500.0

    @model_validator(mode="after")
    def _check(self) -> WatchPoints:
        if sum(kind.share for kind in self.kinds.values()) <= 0.0:
            raise ValueError("kinds: give at least one kind a positive share")
        if self.alarm_radius_m > self.radius_m:
            raise ValueError(
                f"alarm_radius_m: is {self.alarm_radius_m:g} but points see only as far as "
                f"radius_m = {self.radius_m:g}; lower it or raise radius_m")
        return self


class Dispatch(Model):
    """Dispatch policy parameters shared by all incident types."""

    volunteer_radius_m: NonNegativeFloat = 500.0  # first alert round (volunteers.alerting)
    volunteer_max_dispatched: AtLeastOne = 3  # wanted: alerting stops once this many accept
    grid_radius_m: NonNegativeFloat = 3000.0
    mediation_types: list[str] = Field(default_factory=lambda: ["dispute"])
    # station units: "own_area_first" (the call's station area, then the nearest free unit
    # anywhere; a freed unit serves its own area's waiting calls first) or "nearest"
    jurisdiction: Literal["own_area_first", "nearest"] = "nearest"
    # with own_area_first: a freed unit then serves the waiting calls of this many nearest
    # station areas before the oldest call anywhere
    neighbour_stations: Annotated[int, Field(ge=0, le=1000)] = 6
    # multiplies every incident type's volunteer activation_prob (capped at 1): one knob
    # for how much the 110 centre uses the volunteer app at all (calibrated as a whole)
    volunteer_activation_scale: Annotated[float, Field(ge=0.0, le=1000.0)] = 1.0


