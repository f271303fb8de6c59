"""What a run records: the dispatch log (one row per responder sent) and the run's records.

Columns are ``array.array`` buffers (C-typed, 8 bytes or less per value, amortised O(1)
appends), never lists of dicts; ``columns()`` hands them out as numpy arrays.
"""

from __future__ import annotations

import math
from array import array
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from gridsim.demand.incidents import Incidents

RESPONDER_KINDS = (
    "patrol", "community_police", "mediator", "grid_worker", "volunteer", "watch_point",
    "street_post", "traffic_police",
)
POLICE_KINDS = ("patrol", "community_police", "street_post", "traffic_police")
LOCAL_KINDS = ("grid_worker", "volunteer")
KIND_CODE = {name: code for code, name in enumerate(RESPONDER_KINDS)}

_COLUMNS = {  # name: (array typecode, numpy dtype)
    "incident": ("i", np.int32),
    "kind": ("b", np.int8),
    "responder": ("i", np.int32),
    "t_dispatch_s": ("d", np.float64),
    "t_arrive_s": ("d", np.float64),
    "t_free_s": ("d", np.float64),
}


class DispatchLog:
    """Append-only columns of dispatch rows."""

    def __init__(self) -> None:
        """Start an empty log."""
        self._incident = array("i")
        self._kind = array("b")
        self._responder = array("i")
        self._t_dispatch_s = array("d")
        self._t_arrive_s = array("d")
        self._t_free_s = array("d")
        self._local_codes = frozenset(KIND_CODE[k] for k in LOCAL_KINDS)
        # incident: when its first grid worker or volunteer arrives (absent: none yet)
        self.first_local_s: dict[int, float] = {}

    def first_local_arrival_s(self, incident: int) -> float:
        """Return when the first grid worker or volunteer reaches ``incident`` (inf: none)."""
        return self.first_local_s.get(incident, math.inf)

    def __len__(self) -> int:
        """Return the number of rows."""
        return len(self._incident)

    def add(
        self, incident: int, kind: int, responder: int,
        t_dispatch_s: float, t_arrive_s: float, t_free_s: float,
    ) -> None:
        """Append one dispatch row."""
        self._incident.append(incident)
        self._kind.append(kind)
        self._responder.append(responder)
        self._t_dispatch_s.append(t_dispatch_s)
        self._t_arrive_s.append(t_arrive_s)
        self._t_free_s.append(t_free_s)
        if kind in self._local_codes and t_arrive_s < self.first_local_s.get(incident, math.inf):
            self.first_local_s[incident] = t_arrive_s

    def amend(self, row: int, t_arrive_s: float, t_free_s: float) -> None:
        """Change when the responder of ``row`` arrived and became free (preemption)."""
        self._t_arrive_s[row] = t_arrive_s
        self._t_free_s[row] = t_free_s

    def columns(self) -> dict[str, np.ndarray]:
        """Return the rows so far as a dict of numpy column arrays (copies)."""
        return {
            name: np.frombuffer(getattr(self, f"_{name}"), dtype=dtype).copy()
            if len(self) else np.empty(0, dtype=dtype)
            for name, (_, dtype) in _COLUMNS.items()
        }


@dataclass(frozen=True, eq=False)
class SimulationRecords:
    """What a run recorded: the dispatch rows and the exposure figures metrics need."""

    incidents: Incidents
    dispatches: dict[str, np.ndarray]
    duration_s: float
    duty_unit_s: dict[str, float]  # on-duty unit-seconds of each station-based kind
    volunteer_alerts: np.ndarray  # (volunteers,) alerts each volunteer received
    # (volunteers,) bool: still in the pool at the end of the run (churn, recruits)
    volunteer_active: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=bool))
    # alerting counts over the run (gridsim.sim.dispatch.volunteers.TALLY_KEYS)
    volunteer_tally: dict[str, int] = field(default_factory=dict)
    police_saved_unit_s: float = 0.0  # police time saved by stand-downs
    # preemptions, calls queued again, street posts' ring cover (Dispatcher.police_counts)
    police_ops: dict[str, Any] = field(default_factory=dict)
    activations: dict[str, int] = field(default_factory=dict)  # local layers pushed, by layer
    # (incidents,) int8 what the nearest watch point did (gridsim.sim.dispatch.watch_points
    # NOT_ASKED ... HELPED) and bool whether a person in need took refuge there
    watch_point_outcome: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int8))
    sheltered: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=bool))
    # (incidents,) int8 mediation path (gridsim.sim.dispatch.mediation PATH_*), the room cases
    # (MediationRooms.cases columns) and the rooms' integrals over the counted window
    # (MediationRooms.window, with the escalated case's police time escalation_police_s)
    mediation_path: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int8))
    mediation_cases: dict[str, np.ndarray] = field(default_factory=dict)
    mediation_room: dict[str, float] = field(default_factory=dict)
    # volunteer ids of each kind (volunteers.kinds; empty without kinds)
    volunteer_kinds: dict[str, np.ndarray] = field(default_factory=dict)
    # (incidents,) columns of the platform's task pushes (gridsim.sim.dispatch.platform.COLUMNS)
    # and the task_types pushed; empty without a platform
    platform: dict[str, np.ndarray] = field(default_factory=dict)
    # the unit fleets' rows (gridsim.sim.dispatch.units.UnitDispatchLayer.rows): each
    # unit's dispatch log row, fleet and en-route time; empty without [unit_dispatch]
    unit_rows: dict[str, np.ndarray] = field(default_factory=dict)
