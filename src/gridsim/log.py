"""The dispatch log: one row per responder sent to an incident, in preallocated columns."""

from __future__ import annotations

import numpy as np

RESPONDER_KINDS = (
    "patrol", "community_police", "mediator", "grid_worker", "volunteer", "watch_point"
)
POLICE_KINDS = ("patrol", "community_police")
LOCAL_KINDS = ("grid_worker", "volunteer")
KIND_CODE = {name: code for code, name in enumerate(RESPONDER_KINDS)}

_COLUMNS: dict[str, type] = {
    "incident": np.int32,
    "kind": np.int8,
    "responder": np.int32,
    "t_dispatch_s": np.float64,
    "t_arrive_s": np.float64,
    "t_free_s": np.float64,
}


class DispatchLog:
    """Append-only columns of dispatch rows; grows by doubling, never by lists of dicts."""

    def __init__(self, capacity: int = 4096) -> None:
        """Start an empty log with room for ``capacity`` rows."""
        self._size = 0
        self._capacity = capacity
        self._data: dict[str, np.ndarray] = {
            name: np.empty(capacity, dtype=dtype) for name, dtype in _COLUMNS.items()
        }

    def __len__(self) -> int:
        """Return the number of rows."""
        return self._size

    def add(
        self, incident: int, kind: int, responder: int,
        t_dispatch_s: float, t_arrive_s: float, t_free_s: float,
    ) -> None:
        """Append one dispatch row."""
        row, data = self._size, self._data
        if row == self._capacity:
            self._reserve(1)
            data = self._data
        data["incident"][row] = incident
        data["kind"][row] = kind
        data["responder"][row] = responder
        data["t_dispatch_s"][row] = t_dispatch_s
        data["t_arrive_s"][row] = t_arrive_s
        data["t_free_s"][row] = t_free_s
        self._size += 1

    def add_many(
        self, incident: int, kind: int, responders: np.ndarray,
        t_dispatch_s: float, t_arrive_s: np.ndarray, t_free_s: np.ndarray,
    ) -> None:
        """Append one row per responder sent to the same incident at the same time."""
        n = responders.shape[0]
        if self._size + n > self._capacity:
            self._reserve(n)
        rows, data = slice(self._size, self._size + n), self._data
        data["incident"][rows] = incident
        data["kind"][rows] = kind
        data["responder"][rows] = responders
        data["t_dispatch_s"][rows] = t_dispatch_s
        data["t_arrive_s"][rows] = t_arrive_s
        data["t_free_s"][rows] = t_free_s
        self._size += n

    def columns(self) -> dict[str, np.ndarray]:
        """Return the rows so far as a dict of column arrays (copies)."""
        return {name: column[: self._size].copy() for name, column in self._data.items()}

    def _reserve(self, extra: int) -> None:
        new_capacity = max(2 * self._capacity, self._size + extra)
        self._capacity = new_capacity
        for name, column in self._data.items():
            grown = np.empty(new_capacity, dtype=column.dtype)
            grown[: self._size] = column[: self._size]
            self._data[name] = grown
