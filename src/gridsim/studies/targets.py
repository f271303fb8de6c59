"""Calibration targets: what is known (figures with standard errors) and what may vary.

A targets file (TOML) has three parts::

    [run]                       # how each parameter point is simulated
    days = 1                    # simulated days per run (counts are scaled to a year)
    replications = 2            # runs per point, on the same seeds at every point
    population = 60             # ABC-SMC particles per generation
    generations = 6             # at most this many
    predictive_draws = 20       # posterior draws in the predictive check

    [targets.NAME]              # one known figure
    metric = "mediation.settled_per_year"   # a dotted path into summary.json
    value = 46000
    sd = 4600                   # its standard error (or tolerance): the error model
    source = "where the figure comes from"

    [parameters."incidents.dispute.rate_per_day"]   # a free parameter
    low = 50
    high = 2000
    scale = "log"               # or "linear" (default): the prior is uniform on it
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from gridsim.core.errors import InputError
from gridsim.core.files import read_toml
from gridsim.scenario.load import describe_validation_error

MAX_TARGETS_BYTES = 1e6  # a targets file is a page of TOML


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Target(_Model):
    """One known figure: a summary value, its observed value and standard error."""

    metric: Annotated[str, Field(min_length=1)]
    value: float
    sd: Annotated[float, Field(gt=0.0)]
    source: str = ""


class FreeParameter(_Model):
    """A scenario key the calibration may move, with a uniform prior over [low, high]."""

    low: float
    high: float
    scale: Literal["linear", "log"] = "linear"

    @model_validator(mode="after")
    def _check(self) -> FreeParameter:
        if not self.low < self.high:
            raise ValueError(f"low ({self.low:g}) must be below high ({self.high:g})")
        if self.scale == "log" and self.low <= 0.0:
            raise ValueError("a log-scale prior needs low > 0")
        return self


class CalibrationRun(_Model):
    """How every parameter point is simulated, and how long ABC-SMC goes on."""

    days: Annotated[float, Field(gt=0.0, le=366.0)] | None = None  # None: the scenario's
    replications: Annotated[int, Field(ge=1, le=100)] = 2
    population: Annotated[int, Field(ge=10, le=10_000)] = 60
    generations: Annotated[int, Field(ge=1, le=50)] = 6
    min_acceptance_rate: Annotated[float, Field(ge=0.0, lt=1.0)] = 0.01
    predictive_draws: Annotated[int, Field(ge=2, le=1000)] = 20
    overrides: list[str] = Field(default_factory=list)  # for calibration runs only


class Targets(_Model):
    """A whole targets file."""

    run: CalibrationRun = CalibrationRun()
    targets: Annotated[dict[str, Target], Field(min_length=1)]
    parameters: Annotated[dict[str, FreeParameter], Field(min_length=1)]


def load_targets(path: str | Path) -> Targets:
    """Return the targets file at ``path``; any fault is one ``InputError`` line."""
    path = Path(path)
    data = read_toml(path, "give the targets file (--targets)", MAX_TARGETS_BYTES)
    try:
        return Targets.model_validate(data)
    except ValidationError as exc:
        raise InputError(f"{path}: {describe_validation_error(exc, Targets)}") from None
