"""The mapping file: how to read one dispatch centre's CAD export (TOML, validated).

Every centre's export names its columns differently, so ``gridsim calls`` reads a log
through a mapping that names them, says how times are written and in which time zone,
and maps the log's call types to the scenario's incident types. Unknown keys are errors;
every message names the file and the key path.
"""

from __future__ import annotations

import datetime
import re
import zoneinfo
from pathlib import Path
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from gridsim.core.errors import InputError
from gridsim.core.files import read_toml
from gridsim.scenario.load import describe_validation_error

TIME_KEYS = ("received", "dispatched", "en_route", "on_scene", "cleared")
EPOCH_FORMATS = {"epoch_s": 1.0, "epoch_ms": 1e-3}  # seconds per unit
ColumnName = Annotated[str, Field(min_length=1)]
MAX_MAPPING_BYTES = 1e6  # a mapping is a page of TOML
# times from, and before: a call log's plausible dates (calls.validate leaves out the rest)
TIME_WINDOW = (datetime.date(1970, 1, 1), datetime.date(2100, 1, 1))


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)


class Columns(_Model):
    """The log's column for each field; the location is one column or ``lat`` + ``lon``."""

    call_id: ColumnName
    received: ColumnName
    dispatched: ColumnName | None = None
    en_route: ColumnName | None = None
    on_scene: ColumnName | None = None
    cleared: ColumnName | None = None
    type: ColumnName
    priority: ColumnName | None = None
    unit_id: ColumnName | None = None
    unit_type: ColumnName | None = None  # ENGINE, MEDIC, ...: the fleet of the row's unit
    location: ColumnName | None = None  # WKT "POINT (lon lat)" or "(lat, lon)"
    lat: ColumnName | None = None
    lon: ColumnName | None = None

    @model_validator(mode="after")
    def _check(self) -> Columns:
        pair = (self.lat is not None, self.lon is not None)
        if self.location is not None and any(pair):
            raise ValueError("location: give either location or lat and lon, not both")
        if self.location is None and pair != (True, True):
            raise ValueError("location: required: name the location column, or both lat "
                             "and lon")
        return self

    def used(self) -> dict[str, str]:
        """Return the mapped columns by field name, in field order."""
        return {k: v for k, v in self.model_dump().items() if v is not None}


class CsvOptions(_Model):
    """How the CSV is written."""

    delimiter: Annotated[str, Field(min_length=1, max_length=1)] = ","
    encoding: str = "utf-8"
    skip_rows: Annotated[int, Field(ge=0, le=1_000_000)] = 0  # lines before the header

    @model_validator(mode="after")
    def _check(self) -> CsvOptions:
        try:
            "".encode(self.encoding)
        except LookupError:
            raise ValueError(f"encoding: unknown encoding {self.encoding!r}; e.g. 'utf-8', "
                             "'gb18030' or 'latin-1'") from None
        return self


class Area(_Model):
    """The study area: a bounding box, and how far a call may lie from the city's roads."""

    lat_min: Annotated[float, Field(ge=-90.0, le=90.0)] = -90.0
    lat_max: Annotated[float, Field(ge=-90.0, le=90.0)] = 90.0
    lon_min: Annotated[float, Field(ge=-180.0, le=180.0)] = -180.0
    lon_max: Annotated[float, Field(ge=-180.0, le=180.0)] = 180.0
    max_distance_m: Annotated[float, Field(gt=0.0, le=1e6)] = 2000.0

    @model_validator(mode="after")
    def _check(self) -> Area:
        if not self.lat_min < self.lat_max:
            raise ValueError("lat_min: must be below lat_max")
        if not self.lon_min < self.lon_max:
            raise ValueError("lon_min: must be below lon_max")
        return self


class Period(_Model):
    """The days the log covers: local dates, ``end`` excluded."""

    start: datetime.date
    end: datetime.date

    @model_validator(mode="after")
    def _check(self) -> Period:
        if not self.start < self.end:
            raise ValueError("start: must be before end (end is the first day left out)")
        if not TIME_WINDOW[0] <= self.start < self.end <= TIME_WINDOW[1]:
            raise ValueError("start: the period must lie within 1970-01-01 to 2100-01-01 "
                             "(times outside are not used)")
        return self


class Mapping(_Model):
    """How to read one centre's export: columns, time format and zone, type table."""

    format: Literal["csv", "parquet"] | None = None  # default: from the file's extension
    rows: Literal["call", "unit"] = "call"  # one row per call, or per responding unit
    time_format: Annotated[str, Field(min_length=1)] = "iso"
    timezone: Annotated[str, Field(min_length=1)]
    columns: Columns
    csv: CsvOptions = CsvOptions()
    types: Annotated[dict[str, Annotated[str, Field(min_length=1)]], Field(min_length=1)]
    ignore_types: list[str] = Field(default_factory=list)
    # the log's priority codes -> 1..5 (a value not listed is read as a number 1..5)
    priorities: dict[str, Annotated[int, Field(ge=1, le=5)]] | None = None
    area: Area = Area()
    period: Period | None = None
    # a regular expression whose first group is the station of a unit id ("E03" -> "03");
    # units it does not match have no home station (their fleet's travel is drawn, not routed)
    unit_station: str | None = None

    @model_validator(mode="after")
    def _check(self) -> Mapping:
        fmt = self.time_format
        if fmt not in ("iso", *EPOCH_FORMATS) and "%" not in fmt:
            raise ValueError(f"time_format: {fmt!r} is not 'iso', 'epoch_s', 'epoch_ms' or a "
                             "strptime format such as '%m/%d/%Y %I:%M:%S %p'")
        try:
            zoneinfo.ZoneInfo(self.timezone)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"timezone: unknown time zone {self.timezone!r}; give an IANA "
                             "name such as 'Asia/Shanghai' or 'UTC'") from None
        seen: dict[str, str] = {}
        for key in self.types:
            folded = type_key(key)
            if folded in seen:
                raise ValueError(f"types: {seen[folded]!r} and {key!r} are the same call type "
                                 "(case and spaces are ignored); keep one")
            seen[folded] = key
        if self.unit_station is not None:
            try:
                groups = re.compile(self.unit_station).groups
            except re.error as exc:
                raise ValueError(f"unit_station: not a regular expression ({exc})") from None
            if groups < 1:
                raise ValueError("unit_station: needs a group, e.g. '^[A-Z]+0*(\\d+)$'")
        both = sorted(set(seen) & {type_key(t) for t in self.ignore_types})
        if both:
            raise ValueError(f"ignore_types: {both[0]!r} is also in [types]; keep it in one")
        return self

    def type_table(self) -> dict[str, str]:
        """Return the type table keyed by the folded log type (see ``type_key``)."""
        return {type_key(k): v for k, v in self.types.items()}

    def priority_table(self) -> dict[str, int] | None:
        """Return the priority table keyed by the folded log value, if given."""
        if self.priorities is None:
            return None
        return {type_key(k): v for k, v in self.priorities.items()}


def type_key(value: str) -> str:
    """Return a log value as matched against the tables: trimmed, upper case."""
    return " ".join(value.split()).upper()


def load_mapping(path: str | Path) -> Mapping:
    """Return the validated mapping at ``path``; any fault is one ``InputError`` line."""
    source = str(path)
    data = read_toml(path, "check the path of the mapping file (--mapping)",
                     MAX_MAPPING_BYTES)  # a FIFO or device is refused: never a hang
    try:
        return Mapping.model_validate(data)
    except ValidationError as exc:
        raise InputError(f"{source}: {describe_validation_error(exc, Mapping)}") from None
