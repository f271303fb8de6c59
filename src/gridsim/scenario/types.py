"""Shared types of the scenario schema: the base model, bounded numbers, durations, shifts."""

from __future__ import annotations

from typing import Annotated, Any, Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, model_validator

MAX_COUNT = 10**15  # every whole number below this is exact as a float64 and an int64
Probability = Annotated[float, Field(ge=0.0, le=1.0)]
Count = Annotated[int, Field(ge=0, le=MAX_COUNT)]
AtLeastOne = Annotated[int, Field(ge=1, le=MAX_COUNT)]
PositiveFloat = Annotated[float, Field(gt=0.0)]
NonNegativeFloat = Annotated[float, Field(ge=0.0)]
HourOfDay = Annotated[float, Field(ge=0.0, lt=24.0)]
# Bounds found by fuzzing (tests/test_fuzz.py): finite values beyond them overflowed later.
MAX_WEIGHT = 1e12  # relative weights: any scale up to this keeps their sums and products finite
Weight = Annotated[float, Field(ge=0.0, le=MAX_WEIGHT)]
Speed = Annotated[float, Field(ge=0.01, le=1000.0)]  # m/s: a crawl to faster than sound
MAX_MEAN_S = 1e9  # about 32 years
MAX_CV = 10.0
Seed = Annotated[int, Field(ge=0, le=2**63 - 1)]
Character = Literal["urban_core", "inner_suburb", "suburb", "rural"]
CHARACTERS: tuple[Character, ...] = ("urban_core", "inner_suburb", "suburb", "rural")
TravelMode = Literal["car", "ebike", "walk"]
ResponderLayer = Literal["police", "traffic_police", "grid", "volunteers", "watch_points",
                         "units"]
PushedLayer = Literal["grid", "volunteers"]
MAX_BRIDGES = 1000  # each bridge is a search over every node; real rivers have a few dozen


class Model(BaseModel):
    """Base for every scenario section: frozen, unknown keys and NaN/inf are errors.

    Validators raise ``ValueError("key.path: problem; fix")`` with the path relative to
    the model, so the loader can report the full key path.
    """

    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)



def check_quantile_table(p: list[float], values: list[float], key: str) -> None:
    """Raise ``ValueError`` unless ``p`` rises strictly from 0 to 1 and ``values`` never fall."""
    if p[0] != 0.0 or p[-1] != 1.0 or any(b <= a for a, b in zip(p, p[1:], strict=False)):
        raise ValueError("p: must rise strictly from 0 to 1")
    if any(b < a for a, b in zip(values, values[1:], strict=False)):
        raise ValueError(f"{key}: must not decrease")

class Duration(Model):
    """A random duration in seconds: fixed, exponential, log-normal or empirical.

    ``empirical`` gives quantiles ``quantiles_s`` at probabilities ``p`` (from 0 to 1,
    increasing) and draws by linear interpolation between them (a fitted call log's
    durations where no log-normal fits); its ``mean_s`` is that distribution's mean.
    """

    dist: Literal["fixed", "exponential", "lognormal", "empirical"] = "lognormal"
    mean_s: Annotated[float, Field(gt=0.0, le=MAX_MEAN_S)]
    cv: Annotated[float, Field(ge=0.0, le=MAX_CV)] = 0.5
    p: list[Probability] | None = None
    quantiles_s: list[Annotated[float, Field(ge=0.0, le=MAX_MEAN_S)]] | None = None

    @model_validator(mode="before")
    @classmethod
    def _empirical_mean(cls, data: Any) -> Any:
        """Give an empirical distribution its mean (the piecewise-linear one's, always)."""
        if (isinstance(data, dict) and data.get("dist") == "empirical"
                and isinstance(data.get("p"), list)
                and isinstance(data.get("quantiles_s"), list)
                and len(data["p"]) == len(data["quantiles_s"]) >= 2):
            try:
                p = np.asarray(data["p"], dtype=float)
                q = np.asarray(data["quantiles_s"], dtype=float)
                data = {**data, "mean_s": float(np.sum(np.diff(p) * (q[1:] + q[:-1]) / 2.0))}
            except (TypeError, ValueError):
                pass  # the field checks below say what is wrong
        return data

    @model_validator(mode="after")
    def _check_empirical(self) -> Duration:
        if self.dist != "empirical":
            if self.p is not None or self.quantiles_s is not None:
                raise ValueError("p, quantiles_s: only for dist = \"empirical\"")
            return self
        if self.p is None or self.quantiles_s is None or len(self.p) != len(
                self.quantiles_s) or len(self.p) < 2:
            raise ValueError("quantiles_s: an empirical duration needs p and quantiles_s of "
                             "the same length, at least 2")
        check_quantile_table(self.p, self.quantiles_s, "quantiles_s")
        return self

    def sample(self, rng: np.random.Generator, n: int) -> np.ndarray:
        """Return ``n`` draws in seconds (float64)."""
        if self.dist == "fixed":
            return np.full(n, self.mean_s)
        if self.dist == "exponential":
            return rng.exponential(self.mean_s, n)
        if self.dist == "empirical":
            assert self.p is not None and self.quantiles_s is not None
            return np.interp(rng.random(n), self.p, self.quantiles_s)
        sigma2 = np.log1p(self.cv**2)
        return rng.lognormal(np.log(self.mean_s) - sigma2 / 2.0, np.sqrt(sigma2), n)


class Shift(Model):
    """A daily duty window: starts at ``start_h`` and lasts ``length_h`` hours."""

    start_h: HourOfDay
    length_h: Annotated[float, Field(gt=0.0, le=24.0)]
    share: Annotated[float, Field(gt=0.0, le=1e6)] = 1.0  # relative units on it (rosters)


