"""What every dispatch layer has in common: the protocols the engine calls."""

from __future__ import annotations

from typing import Protocol


class Layer(Protocol):
    """One response layer (police, grid push, volunteers, ...): reacts to a call."""

    def respond(self, incident: int, now_s: float) -> None:
        """Send whatever this layer sends to ``incident``, called at its call time."""


class Rostered(Protocol):
    """A layer whose responders work shifts: told at every shift boundary."""

    def shift_boundaries_h(self) -> list[float]:
        """Return the hours of day at which someone's shift starts or ends."""

    def on_roster(self, now_s: float) -> None:
        """Bring units on or off duty at run time ``now_s``."""

    def duty_unit_s(self) -> dict[int, float]:
        """Return the unit-seconds on duty so far, by responder kind code."""
