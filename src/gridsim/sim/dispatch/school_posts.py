"""School-run posts: responders held at each school's gate in the windows, not free for calls.

At a window's start each school's post takes ``staff_per_post`` of its staff kind:

- ``police`` / ``auxiliary``: free patrol units / street mediators (auxiliary police) of
  the school's station area, else of the nearest station with one free
  (``StationDispatch.hold``), taken off dispatch until the window ends, when they take a
  waiting call or wait free again. When no unit is free at the start, the place is not
  filled later: the post is short (counted).
- ``grid_workers`` / ``volunteers``: the ones based (living) nearest the school, each at
  one post, busy until the window ends (one already on a call joins when free).

Posts hold responders exactly for the window (the walk or drive to the gate is not
modelled). The layer is told at window starts and ends as a shift boundary.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from scipy.spatial import cKDTree

from gridsim.core.units import SECONDS_PER_HOUR
from gridsim.scenario.schema import Schools
from gridsim.sim.dispatch.station import StationDispatch

HOUR_TOLERANCE = 1e-6


class StationPosts:
    """Posts staffed from a station pool: units held in a window, handed back after it."""

    def __init__(self, dispatch: StationDispatch, pool_index: int, school_node: np.ndarray,
                 per_post: int) -> None:
        """Staff one post per school (at ``school_node``) from ``dispatch``'s pool."""
        self._dispatch = dispatch
        self._pool = pool_index
        self._node = school_node.tolist()
        self._per_post = per_post
        self._held: list[int] = []
        self.short = 0  # posts' places left empty at a window start
        self.unit_s = 0.0
        self._since_s = 0.0

    def start(self, now_s: float) -> None:
        """Take the posts' units."""
        for node in self._node:
            units = self._dispatch.hold(self._pool, node, self._per_post)
            self.short += self._per_post - len(units)
            self._held.extend(units)
        self._since_s = now_s

    def end(self, now_s: float) -> None:
        """Hand every held unit back to dispatch."""
        self.unit_s += len(self._held) * (now_s - self._since_s)
        for unit in self._held:
            self._dispatch.give_back(self._pool, unit)
        self._held = []


class LocalPosts:
    """Posts staffed by people with a busy clock (grid workers, volunteers)."""

    def __init__(self, busy_until_s: list[float] | np.ndarray, staff: np.ndarray, empty_places: int
                 ) -> None:
        """Hold ``staff`` (ids into ``busy_until_s``) in each window; some places empty.

        ``empty_places`` of the posts' places have nobody left to fill them.
        """
        self._busy = busy_until_s
        self._staff = staff.tolist()
        self._empty = empty_places
        self.short = 0
        self.unit_s = 0.0

    def start_until(self, now_s: float, end_s: float) -> None:
        """Keep the staff busy until ``end_s``."""
        for person in self._staff:
            self._busy[person] = max(self._busy[person], end_s)
        self.unit_s += len(self._staff) * (end_s - now_s)
        self.short += self._empty


def nearest_staff(base_xy_m: np.ndarray, school_xy_m: np.ndarray, per_post: int
                  ) -> tuple[np.ndarray, int]:
    """Return the ``per_post`` people nearest each school (one post each), places empty.

    The second value counts the posts' places nobody is left to fill.
    """
    if base_xy_m.shape[0] == 0 or school_xy_m.shape[0] == 0:
        return np.zeros(0, dtype=np.int64), per_post * school_xy_m.shape[0]
    taken: set[int] = set()
    chosen: list[int] = []
    k = min(base_xy_m.shape[0], per_post * school_xy_m.shape[0])
    tree = cKDTree(base_xy_m)
    for xy in school_xy_m:
        _, ids = tree.query(xy, k=k)
        free = [int(i) for i in np.atleast_1d(ids) if int(i) not in taken][:per_post]
        taken.update(free)
        chosen.extend(free)
    return np.array(chosen, dtype=np.int64), per_post * school_xy_m.shape[0] - len(chosen)


class SchoolPosts:
    """The posts of every school: staffed at each window start, released at its end."""

    def __init__(self, spec: Schools, station: StationPosts | None,
                 local: LocalPosts | None) -> None:
        """Staff posts with ``station`` units or ``local`` people (neither: no posts)."""
        self._spec = spec
        self._station = station
        self._local = local
        self.windows_staffed = 0

    def shift_boundaries_h(self) -> list[float]:
        """Return the window starts and ends (hours of day)."""
        if self._station is None and self._local is None:
            return []
        hours = {w.start_h for w in self._spec.windows}
        hours |= {(w.start_h + w.length_h) % 24.0 for w in self._spec.windows}
        return sorted(hours)

    def on_roster(self, now_s: float) -> None:
        """Staff the posts at a window's start, release them at its end."""
        if self._station is None and self._local is None:
            return  # nobody at the gates
        hour = (now_s / SECONDS_PER_HOUR) % 24.0
        for w in self._spec.windows:
            end_h = (w.start_h + w.length_h) % 24.0
            if self._station is not None and _same_hour(hour, end_h) and self.windows_staffed:
                self._station.end(now_s)
            if _same_hour(hour, w.start_h):
                self.windows_staffed += 1
                if self._station is not None:
                    self._station.start(now_s)
                if self._local is not None:
                    self._local.start_until(now_s, now_s + w.length_h * SECONDS_PER_HOUR)

    def duty_unit_s(self) -> dict[int, float]:
        """Return no duty time of its own (posts are staffed by other layers)."""
        return {}

    def tally(self) -> dict[str, Any]:
        """Return the posts' windows, the staff-hours held and the places left empty."""
        holder = self._station if self._station is not None else self._local
        return {
            "windows_staffed": self.windows_staffed,
            "staff_hours_held":
                0.0 if holder is None else round(holder.unit_s / SECONDS_PER_HOUR, 2),
            "places_left_empty": 0 if holder is None else holder.short,
        }


def _same_hour(a: float, b: float) -> bool:
    return abs(a - b) < HOUR_TOLERANCE or abs(abs(a - b) - 24.0) < HOUR_TOLERANCE
