"""Read a CAD export (CSV or Parquet) through a mapping: one entry per call, nothing silent.

The file is read with pyarrow and parsed column by column. Rows that cannot be used are
counted by reason with their first few row numbers (CSV: line numbers, the header being
line 1; Parquet: rows from 1). The rows of one call id are merged (``rows = "unit"``: one
row per responding unit): the earliest received, dispatched and en-route times, the first
unit on scene, the last unit cleared, and the first given type, priority and location.
"""

from __future__ import annotations

import datetime
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import NamedTuple

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pv
import pyarrow.parquet as pq

from gridsim.calls.mapping import EPOCH_FORMATS, TIME_KEYS, Mapping, type_key
from gridsim.calls.validate import (
    FAR_OFF,
    OUTSIDE,
    checked_table,
    far_off,
    malformed_lines_decoded,
    outside_window,
)
from gridsim.core.errors import InputError
from gridsim.core.units import SECONDS_PER_DAY

FIRST_ROWS = 5  # row numbers shown per reason
_NUMBER = r"[-+]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][-+]?\d+)?"
_WKT = (rf"(?i)^\s*POINT\s*Z?\s*\(\s*(?P<lon>{_NUMBER})\s+(?P<lat>{_NUMBER})"
        rf"(?:\s+{_NUMBER})?\s*\)\s*$")
_LAT_LON = rf"^\s*\(?\s*(?P<lat>{_NUMBER})\s*[,;]\s*(?P<lon>{_NUMBER})\s*\)?\s*$"
_ISO = (r"^\s*(?P<date>\d{4}-\d{2}-\d{2})[T ](?P<hm>\d{2}:\d{2})(?P<sec>:\d{2})?"
        r"(?P<frac>[.,]\d+)?\s*(?P<zone>Z|[+-]\d{2}(?::?\d{2})?)?\s*$")
_EXTENSIONS = {".csv": "csv", ".txt": "csv", ".tsv": "csv", ".parquet": "parquet",
               ".pq": "parquet"}
_NO_TYPE, _IGNORED, _UNKNOWN = -1, -2, -3
_BIG = np.iinfo(np.int64).max


class Rows(NamedTuple):
    """How many rows a reason covers, and the first few of their row numbers."""

    n: int
    first: tuple[int, ...]


@dataclass(frozen=True, eq=False)
class CallLog:
    """One entry per usable call; times are epoch seconds (NaN: not given)."""

    source: str
    timezone: str
    row_label: str  # "line" (CSV line numbers, the header is line 1) or "row" (Parquet)
    rows_read: int  # data rows in the file, malformed CSV lines included
    type_names: tuple[str, ...]  # the scenario incident types the mapping names
    call_id: np.ndarray  # (C,) str (object)
    received_s: np.ndarray  # (C,) float64
    dispatched_s: np.ndarray
    en_route_s: np.ndarray
    on_scene_s: np.ndarray  # the first unit on scene
    cleared_s: np.ndarray  # the last unit cleared
    type_index: np.ndarray  # (C,) int16 into type_names
    priority: np.ndarray  # (C,) int8, 1..5, 0 when not given
    lat: np.ndarray  # (C,) float64
    lon: np.ndarray
    first_row: np.ndarray  # (C,) int64 row number of the call's first row
    n_rows: np.ndarray  # (C,) int32 rows merged into the call (units)
    dropped: dict[str, Rows]  # rows left out, by reason
    incomplete: dict[str, Rows]  # rows kept with a field left blank, by reason
    unknown_types: dict[str, int]  # the log's call types not in the mapping: rows
    units: UnitRows | None = None  # the units' own rows (rows = "unit" with a unit_id)

    @property
    def calls(self) -> int:
        """Return the number of calls."""
        return int(self.call_id.shape[0])

    @property
    def rows_used(self) -> int:
        """Return the number of rows behind the calls."""
        return int(self.n_rows.sum())

    def drop(self, discard: np.ndarray, reason: str) -> CallLog:
        """Return the log without the calls where ``discard`` holds, counted under ``reason``."""
        discard = np.asarray(discard, dtype=bool)
        if not discard.any():
            return self
        dropped = {**self.dropped, reason: _call_rows(self.first_row, self.n_rows, discard)}
        keep = ~discard
        arrays = {name: getattr(self, name)[keep] for name in (
            "call_id", "received_s", "dispatched_s", "en_route_s", "on_scene_s", "cleared_s",
            "type_index", "priority", "lat", "lon", "first_row", "n_rows")}
        units = None if self.units is None else self.units.of_calls(keep)
        return replace(self, dropped=dropped, units=units, **arrays)


@dataclass(frozen=True, eq=False)
class UnitRows:
    """One entry per responding unit of the kept calls (times: epoch seconds, NaN: blank)."""

    call: np.ndarray  # (R,) int64 index of the row's call in the CallLog
    unit_id: np.ndarray  # (R,) str (object); None when blank
    unit_type: np.ndarray  # (R,) str (object); None when blank or not mapped
    dispatched_s: np.ndarray  # (R,) float64
    en_route_s: np.ndarray
    on_scene_s: np.ndarray
    cleared_s: np.ndarray  # the unit available again

    def of_calls(self, keep: np.ndarray) -> UnitRows:
        """Return the rows of the calls where ``keep`` holds, renumbered to the kept calls."""
        new_index = np.cumsum(keep) - 1
        rows = keep[self.call]
        return UnitRows(new_index[self.call[rows]], *(getattr(self, name)[rows] for name in (
            "unit_id", "unit_type", "dispatched_s", "en_route_s", "on_scene_s", "cleared_s")))


def read_calls(path: str | Path, mapping: Mapping, mapping_source: str = "the mapping"
               ) -> CallLog:
    """Return the calls of the export at ``path`` read through ``mapping``."""
    path = Path(path)
    if not path.is_file():
        raise InputError(f"{path}: file not found; check the path" if not path.exists()
                         else f"{path}: is not a file; give the export file")
    fmt = mapping.format or _format_of(path, mapping_source)
    columns = mapping.columns.used()
    if fmt == "csv":
        with malformed_lines_decoded(path, mapping.csv.encoding, mapping_source):
            table, row_number, malformed = _read_csv(path, mapping, columns, mapping_source)
    else:
        table, row_number, malformed = _read_parquet(path, columns, mapping_source)
    log = _build(table, row_number, malformed, str(path), mapping, mapping_source,
                 "line" if fmt == "csv" else "row")  # then a period from the log's dates:
    return log if mapping.period is not None else log.drop(far_off(log.received_s), FAR_OFF)


def _format_of(path: Path, mapping_source: str) -> str:
    for suffix in reversed([s.lower() for s in path.suffixes]):
        if suffix in _EXTENSIONS:
            return _EXTENSIONS[suffix]
    raise InputError(f"{path}: cannot tell the format from the name; set format = \"csv\" or "
                     f"\"parquet\" in {mapping_source}")


def _read_csv(path: Path, mapping: Mapping, columns: dict[str, str], mapping_source: str
              ) -> tuple[pa.Table, np.ndarray, Rows]:
    """Return the mapped columns as text, each row's line number, and the malformed lines."""
    opts = mapping.csv
    try:
        with pv.open_csv(path, read_options=pv.ReadOptions(encoding=opts.encoding,
                                                           skip_rows=opts.skip_rows),
                         parse_options=pv.ParseOptions(
                             delimiter=opts.delimiter,
                             invalid_row_handler=lambda row: "skip")) as reader:
            names = reader.schema.names
    except (pa.ArrowException, OSError, UnicodeError) as exc:
        raise InputError(f"{path}: not a readable CSV file ({_first_line(exc)}); check the "
                         f"file, and [csv] in {mapping_source}") from None
    _check_columns(path, names, columns, mapping_source)
    needed = sorted(set(columns.values()))
    convert = pv.ConvertOptions(include_columns=needed, strings_can_be_null=True,
                                column_types=dict.fromkeys(needed, pa.string()))
    bad_lines: list[int | None] = []

    def skip(row: pv.InvalidRow) -> str:
        bad_lines.append(row.number)
        return "skip"

    for threads in (True, False):  # bad lines' numbers are known only single-threaded
        bad_lines.clear()
        try:
            table = pv.read_csv(
                path, read_options=pv.ReadOptions(encoding=opts.encoding,
                                                  skip_rows=opts.skip_rows, use_threads=threads),
                parse_options=pv.ParseOptions(delimiter=opts.delimiter, ignore_empty_lines=False,
                                              invalid_row_handler=skip),
                convert_options=convert)
        except (pa.ArrowException, OSError, UnicodeError) as exc:
            raise InputError(f"{path}: cannot read it as CSV ({_first_line(exc)}); check "
                             f"the file, and [csv] in {mapping_source}") from None
        if all(number is not None for number in bad_lines):
            break
    first_line = opts.skip_rows + 2  # the skipped lines, then the header
    bad = np.array(sorted(n for n in bad_lines if n is not None), dtype=np.int64)
    lines = np.arange(first_line, first_line + table.num_rows + bad.shape[0], dtype=np.int64)
    row_number = (np.setdiff1d(lines, bad) if bad.size else lines)[: table.num_rows]
    return table, row_number, Rows(len(bad_lines), tuple(int(n) for n in bad[:FIRST_ROWS]))


def _read_parquet(path: Path, columns: dict[str, str], mapping_source: str
                  ) -> tuple[pa.Table, np.ndarray, Rows]:
    """Return the mapped columns, each row's number (from 1), and no malformed rows."""
    try:
        names = pq.ParquetFile(path).schema_arrow.names
        _check_columns(path, names, columns, mapping_source)
        table = pq.read_table(path, columns=sorted(set(columns.values())))
    except (pa.ArrowException, OSError) as exc:
        raise InputError(f"{path}: not a readable Parquet file ({_first_line(exc)}); check "
                         "the file") from None
    table = checked_table(table, columns, path, mapping_source)
    return table, np.arange(1, table.num_rows + 1, dtype=np.int64), Rows(0, ())


def _check_columns(path: Path, names: list[str], columns: dict[str, str],
                   mapping_source: str) -> None:
    for key, column in columns.items():
        if column not in names:
            shown = ", ".join(repr(n) for n in names[:12]) + (", ..." if len(names) > 12 else "")
            raise InputError(f"{mapping_source}: columns.{key}: the log {path.name} has no "
                             f"column {column!r}; its columns are {shown}")


def _build(table: pa.Table, row_number: np.ndarray, malformed: Rows, source: str,
           mapping: Mapping, mapping_source: str, row_label: str) -> CallLog:
    """Parse the mapped columns, drop unusable rows, merge each call's rows."""
    cols = mapping.columns
    n = table.num_rows

    def column(name: str) -> pa.Array:
        values = table.column(name).combine_chunks()
        return values.dictionary_decode() if pa.types.is_dictionary(values.type) else values

    dropped: dict[str, Rows] = {}
    if malformed.n:
        dropped["malformed line (wrong number of fields)"] = malformed
    text = {name: _text(column(name)) for name in sorted(set(cols.used().values()))}
    out = _row_drops(text, cols.call_id, mapping.rows, row_number, dropped)
    call_text = text[cols.call_id]

    times: dict[str, np.ndarray] = {}
    unreadable: dict[str, np.ndarray] = {}
    for key in TIME_KEYS:
        name = getattr(cols, key)
        if name is None:
            times[key], unreadable[key] = np.full(n, np.nan), np.zeros(n, dtype=bool)
        else:
            times[key], unreadable[key] = _epoch_seconds(
                column(name), text[name], mapping, f"{source}: columns.{key} ({name!r})",
                mapping_source)
    outside = outside_window(times)  # blanked, and counted below
    type_code, unknown = _type_codes(text[cols.type], mapping, out)
    lat, lon, place_given = _location(column, text, mapping)
    priority, bad_priority = _priorities(text, mapping, n)

    # group the rows left by call id: calls in the order of their first row
    keep_rows = np.flatnonzero(~out)
    kept_ids = call_text.take(pa.array(keep_rows))
    call_codes = _codes(kept_ids)
    order = np.argsort(call_codes, kind="stable")
    grouped = keep_rows[order]  # file positions, grouped by call, in file order
    codes_sorted = call_codes[order]
    starts = np.flatnonzero(np.r_[True, codes_sorted[1:] != codes_sorted[:-1]]) if (
        order.size) else order[:0]
    groups = _Groups(grouped, starts)
    n_rows = np.diff(np.r_[starts, grouped.shape[0]]).astype(np.int32)
    first_row = row_number[grouped[starts]] if starts.size else row_number[:0]
    call_times = {key: groups.reduce(times[key], np.fmax if key == "cleared" else np.fmin)
                  for key in TIME_KEYS}
    received = call_times["received"]
    call_type = groups.first(type_code, type_code != _NO_TYPE, _NO_TYPE)
    place_ok = ~np.isnan(lat) & ~np.isnan(lon)
    call_lat = groups.first(lat, place_ok, np.nan)
    call_lon = groups.first(lon, place_ok, np.nan)
    call_priority = groups.first(priority, priority > 0, 0)

    area = mapping.area
    checks = [("no received time", np.isnan(received) & ~groups.any(
                  unreadable["received"] | outside["received"])),
              (f"received time {OUTSIDE}", np.isnan(received) & groups.any(outside["received"])),
              ("unreadable received time", np.isnan(received))]
    if mapping.period is not None:
        local = local_seconds(received, mapping.timezone)
        start_s, end_s = _day_s(mapping.period.start), _day_s(mapping.period.end)
        checks.append(("received outside the period", ~((local >= start_s)
                                                        & (local < end_s))))
    checks += [
        ("no call type", call_type == _NO_TYPE),
        ("call type in ignore_types", call_type == _IGNORED),
        ("unknown call type (not in [types])", call_type == _UNKNOWN),
        ("no location", np.isnan(call_lat) & ~groups.any(place_given)),
        ("unreadable location", np.isnan(call_lat)),
        ("outside the study area ([area])", ~((call_lat >= area.lat_min)
                                              & (call_lat <= area.lat_max)
                                              & (call_lon >= area.lon_min)
                                              & (call_lon <= area.lon_max))),
    ]
    gone = np.zeros(first_row.shape[0], dtype=bool)
    for reason, mask in checks:
        hit = mask & ~gone
        if hit.any():
            dropped[reason] = _call_rows(first_row, n_rows, hit)
        gone |= hit
    keep = ~gone
    kept_rows = np.zeros(n, dtype=bool)
    kept_rows[grouped[np.repeat(keep, n_rows)]] = True
    incomplete: dict[str, Rows] = {}
    for key in TIME_KEYS:
        _tally(incomplete, f"unreadable {key} time (left blank)",
               row_number[unreadable[key] & kept_rows])
        _tally(incomplete, f"{key} time {OUTSIDE} (left blank)",
               row_number[outside[key] & kept_rows])
    if cols.priority is not None:
        blank = ~pc.is_valid(text[cols.priority]).to_numpy(zero_copy_only=False)
        _tally(incomplete, "unreadable priority (left blank)",
               row_number[bad_priority & kept_rows])
        _tally(incomplete, "no priority", row_number[blank & kept_rows])
    call_id = pc.unique(kept_ids).to_numpy(zero_copy_only=False)  # in code order
    units = None
    if cols.unit_id is not None and mapping.rows == "unit":
        call_of = np.repeat(np.arange(keep.shape[0]), n_rows)  # each grouped row's call
        rows = keep[call_of]
        at = grouped[rows]

        def texts(name: str | None) -> np.ndarray:
            if name is None:
                return np.full(at.shape[0], None, dtype=object)
            return np.asarray(text[name].take(pa.array(at)).to_numpy(zero_copy_only=False),
                              dtype=object)

        units = UnitRows((np.cumsum(keep) - 1)[call_of[rows]], texts(cols.unit_id),
                         texts(cols.unit_type), *(times[key][at] for key in TIME_KEYS[1:]))
    return CallLog(
        source=source, timezone=mapping.timezone, row_label=row_label,
        rows_read=n + malformed.n, type_names=_type_names(mapping),
        call_id=call_id[keep],
        received_s=received[keep], dispatched_s=call_times["dispatched"][keep],
        en_route_s=call_times["en_route"][keep], on_scene_s=call_times["on_scene"][keep],
        cleared_s=call_times["cleared"][keep],
        type_index=call_type[keep].astype(np.int16),
        priority=call_priority[keep].astype(np.int8),
        lat=call_lat[keep], lon=call_lon[keep],
        first_row=first_row[keep].astype(np.int64), n_rows=n_rows[keep],
        dropped=dropped, incomplete=incomplete, unknown_types=unknown, units=units,
    )


def _row_drops(text: dict[str, pa.Array], call_id: str, rows: str, row_number: np.ndarray,
               dropped: dict[str, Rows]) -> np.ndarray:
    """Return the rows left out before grouping (empty, duplicate, no call id, repeated)."""
    given = {name: pc.is_valid(a).to_numpy(zero_copy_only=False) for name, a in text.items()}
    reasons = [("empty row", ~np.logical_or.reduce(list(given.values()))),
               ("duplicate row (the same in every mapped column)",
                _repeats([_codes(a) for a in text.values()])),
               ("no call id", ~given[call_id])]
    if rows == "call":  # a second row for a call id is a fault of the export
        reasons.append(("call id repeated (rows = \"call\": one row per call)",
                        ~_first_seen(text[call_id])))
    out = np.zeros(row_number.shape[0], dtype=bool)
    for reason, mask in reasons:
        hit = mask & ~out
        _tally(dropped, reason, row_number[hit])
        out |= hit
    return out


def _first_seen(values: pa.Array) -> np.ndarray:
    """Return where each value occurs for the first time (nulls count as one value)."""
    first = np.zeros(len(values), dtype=bool)
    first[np.unique(_codes(values), return_index=True)[1]] = True
    return first


def _repeats(codes: list[np.ndarray]) -> np.ndarray:
    """Return the rows equal in every column (``codes``) to an earlier row."""
    order = np.lexsort(codes[::-1])  # stable: equal rows stay in file order
    same = np.ones(max(order.shape[0] - 1, 0), dtype=bool)
    for column in codes:
        ranked = column[order]
        same &= ranked[1:] == ranked[:-1]
    repeat = np.zeros(order.shape[0], dtype=bool)
    repeat[order[1:][same]] = True
    return repeat


class _Groups:
    """Reductions over each call's rows (``rows``: file positions grouped at ``starts``)."""

    def __init__(self, rows: np.ndarray, starts: np.ndarray) -> None:
        """Keep the grouping."""
        self.rows, self.starts = rows, starts

    def reduce(self, values: np.ndarray, ufunc: np.ufunc) -> np.ndarray:
        """Return ``ufunc`` reduced over each call's rows."""
        grouped = values[self.rows]
        return ufunc.reduceat(grouped, self.starts) if self.starts.size else grouped[:0]

    def any(self, mask: np.ndarray) -> np.ndarray:
        """Return whether ``mask`` holds on any row of each call."""
        return self.reduce(mask, np.logical_or).astype(bool)

    def first(self, values: np.ndarray, valid: np.ndarray, missing: float) -> np.ndarray:
        """Return each call's value on its first row where ``valid`` holds, else ``missing``."""
        pos = self.reduce(np.where(valid, np.arange(values.shape[0]), _BIG), np.minimum)
        found = pos != _BIG
        return np.where(found, values[np.where(found, pos, 0)], missing) if values.size else (
            values[:0])


def _type_names(mapping: Mapping) -> tuple[str, ...]:
    return tuple(dict.fromkeys(mapping.types.values()))


def _codes(values: pa.Array) -> np.ndarray:
    """Return integer codes of ``values`` in order of first appearance (null: its own)."""
    encoded = pc.dictionary_encode(values, null_encoding="encode")
    return np.asarray(encoded.indices.to_numpy(zero_copy_only=False), dtype=np.int64)


def _lookup_codes(values: pa.Array, lookup: Callable[[str], int], blank: int) -> np.ndarray:
    """Return ``lookup`` of every value, computed once per distinct value (null: ``blank``)."""
    encoded = pc.dictionary_encode(values)
    table = np.array([lookup(v) for v in encoded.dictionary.to_pylist()] + [blank],
                     dtype=np.int64)
    indices = pc.fill_null(encoded.indices, len(encoded.dictionary))
    return table[np.asarray(indices.to_numpy(zero_copy_only=False), dtype=np.int64)]


def _text(values: pa.Array) -> pa.Array:
    """Return ``values`` as trimmed text, empty strings as null."""
    if not (pa.types.is_string(values.type) or pa.types.is_large_string(values.type)):
        values = values.cast(pa.string())
    trimmed = pc.utf8_trim_whitespace(values)
    return pc.if_else(pc.equal(trimmed, ""), pa.scalar(None, trimmed.type), trimmed)


def _numbers(values: pa.Array) -> tuple[np.ndarray, np.ndarray]:
    """Return ``values`` as float64 (NaN: blank or not a number) and where one was unreadable."""
    if pa.types.is_integer(values.type) or pa.types.is_floating(values.type):
        number = values.cast(pa.float64(), safe=False).to_numpy(zero_copy_only=False)
        return np.asarray(number, dtype=float), np.zeros(len(values), dtype=bool)
    text = _text(values)
    ok = pc.fill_null(pc.match_substring_regex(text, rf"^{_NUMBER}$"), False)
    parsed = pc.if_else(ok, text, pa.scalar(None, text.type)).cast(pa.float64())
    number = np.asarray(parsed.to_numpy(zero_copy_only=False), dtype=float)
    bad = pc.is_valid(text).to_numpy(zero_copy_only=False) & ~ok.to_numpy(zero_copy_only=False)
    return number, bad


def _epoch_seconds(raw: pa.Array, text: pa.Array, mapping: Mapping, where: str,
                   mapping_source: str) -> tuple[np.ndarray, np.ndarray]:
    """Return epoch seconds (NaN: blank or unreadable) and where a value was unreadable."""
    fmt = mapping.time_format
    if pa.types.is_timestamp(raw.type):  # a typed Parquet column: time_format not needed
        if raw.type.tz is None:
            raw = pc.assume_timezone(raw, timezone=mapping.timezone, ambiguous="earliest",
                                     nonexistent="earliest")
        return _timestamp_seconds(raw), np.zeros(len(raw), dtype=bool)
    if pa.types.is_integer(raw.type) or pa.types.is_floating(raw.type):
        if fmt not in EPOCH_FORMATS:
            raise InputError(f"{where} holds numbers, not {fmt!r} times; set time_format = "
                             f"\"epoch_s\" (or \"epoch_ms\") in {mapping_source}")
        seconds, bad = _numbers(raw)
        return seconds * EPOCH_FORMATS[fmt], bad
    if not (pa.types.is_string(raw.type) or pa.types.is_large_string(raw.type)):
        raise InputError(f"{where} is of type {raw.type}, not times; map another column in "
                         f"{mapping_source}")
    if fmt in EPOCH_FORMATS:
        seconds, bad = _numbers(text)
        seconds = seconds * EPOCH_FORMATS[fmt]
    else:
        if fmt == "iso":
            seconds = _iso_seconds(text, mapping.timezone)
        else:
            parsed = pc.strptime(text, format=fmt, unit="s", error_is_null=True)
            if parsed.type.tz is None:
                parsed = pc.assume_timezone(parsed, timezone=mapping.timezone,
                                            ambiguous="earliest", nonexistent="earliest")
            seconds = _timestamp_seconds(parsed)
        bad = pc.is_valid(text).to_numpy(zero_copy_only=False) & np.isnan(seconds)
    if bad.any() and np.isnan(seconds).all():
        example = text.filter(pa.array(bad))[0].as_py()
        raise InputError(f"{where}: no value reads as time_format {fmt!r} (e.g. {example!r});"
                         f" fix time_format in {mapping_source}")
    return seconds, bad


def _timestamp_seconds(values: pa.Array) -> np.ndarray:
    """Return a timestamp array as float epoch seconds (NaN: null)."""
    unit = {"s": 1.0, "ms": 1e-3, "us": 1e-6, "ns": 1e-9}[values.type.unit]
    ints = values.cast(pa.int64()).cast(pa.float64(), safe=False).to_numpy(
        zero_copy_only=False)
    return np.asarray(ints, dtype=float) * unit


def _iso_seconds(text: pa.Array, timezone: str) -> np.ndarray:
    """Return ISO 8601 date-times as epoch seconds: with an offset as given, else local."""
    parts = pc.extract_regex(text, _ISO)
    matched = pc.is_valid(parts).to_numpy(zero_copy_only=False)
    field = {name: parts.field(name) for name in ("date", "hm", "sec", "frac", "zone")}
    sec = pc.if_else(pc.equal(field["sec"], ""), ":00", field["sec"])
    stamp = pc.binary_join_element_wise(field["date"], "T", field["hm"], sec, "")
    naive = pc.strptime(stamp, format="%Y-%m-%dT%H:%M:%S", unit="s", error_is_null=True)
    as_utc = _timestamp_seconds(naive)
    local = _timestamp_seconds(pc.assume_timezone(
        naive, timezone=timezone, ambiguous="earliest", nonexistent="earliest"))
    frac_text = pc.replace_substring(field["frac"], ",", ".")
    frac = _numbers(pc.binary_join_element_wise("0", frac_text, ""))[0]
    frac = np.where(np.isnan(frac), 0.0, frac)
    offset = _lookup_codes(field["zone"], _offset_s, 0).astype(float)
    has_zone = pc.fill_null(pc.not_equal(field["zone"], ""), False).to_numpy(
        zero_copy_only=False)
    seconds = np.where(has_zone, as_utc - offset, local) + frac
    return np.where(matched, seconds, np.nan)


def _offset_s(zone: str) -> int:
    """Return a UTC offset such as ``+08:00``, ``-0500``, ``+08`` or ``Z`` in seconds."""
    if not zone or zone == "Z":
        return 0
    digits = zone[1:].replace(":", "")
    minutes = int(digits[:2]) * 60 + int(digits[2:4] or 0)
    return (1 if zone[0] == "+" else -1) * minutes * 60


def _type_codes(text: pa.Array, mapping: Mapping, out: np.ndarray
                ) -> tuple[np.ndarray, dict[str, int]]:
    """Return each row's type index (or _NO_TYPE/_IGNORED/_UNKNOWN), unknown types' rows."""
    names = _type_names(mapping)
    table = mapping.type_table()
    ignored = {type_key(t) for t in mapping.ignore_types}

    def lookup(value: str) -> int:
        key = type_key(value)
        return names.index(table[key]) if key in table else (
            _IGNORED if key in ignored else _UNKNOWN)

    codes = _lookup_codes(text, lookup, _NO_TYPE)
    hit = (codes == _UNKNOWN) & ~out
    unknown = Counter(text.filter(pa.array(hit)).to_pylist()) if hit.any() else Counter()
    return codes, dict(unknown.most_common(20))


def _location(column: Callable[[str], pa.Array], text: dict[str, pa.Array], mapping: Mapping
              ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Return lat, lon (NaN: blank, unreadable or out of range) and where one was given."""
    cols = mapping.columns
    if cols.location is not None:
        value = text[cols.location]
        lat = np.full(len(value), np.nan)
        lon = np.full(len(value), np.nan)
        for pattern in (_WKT, _LAT_LON):
            parts = pc.extract_regex(value, pattern)
            lat_p, lon_p = _numbers(parts.field("lat"))[0], _numbers(parts.field("lon"))[0]
            fill = np.isnan(lat) & ~np.isnan(lat_p) & ~np.isnan(lon_p)
            lat[fill], lon[fill] = lat_p[fill], lon_p[fill]
        given = pc.is_valid(value).to_numpy(zero_copy_only=False)
    else:
        assert cols.lat is not None and cols.lon is not None
        lat, bad_lat = _numbers(column(cols.lat))
        lon, bad_lon = _numbers(column(cols.lon))
        given = ~np.isnan(lat) | ~np.isnan(lon) | bad_lat | bad_lon
    in_range = (np.abs(lat) <= 90.0) & (np.abs(lon) <= 180.0)
    return np.where(in_range, lat, np.nan), np.where(in_range, lon, np.nan), given


def _priorities(text: dict[str, pa.Array], mapping: Mapping, n: int
                ) -> tuple[np.ndarray, np.ndarray]:
    """Return each row's priority 1..5 (0: blank or unreadable) and where one was unreadable.

    A value is looked up in ``[priorities]``, else read as a whole number 1..5.
    """
    name = mapping.columns.priority
    if name is None:
        return np.zeros(n, dtype=np.int64), np.zeros(n, dtype=bool)
    table = mapping.priority_table()

    def lookup(value: str) -> int:
        key = type_key(value)
        if table is not None and key in table:
            return table[key]
        whole = key.removesuffix(".0").lstrip("0")
        return int(whole) if whole in ("1", "2", "3", "4", "5") else -1

    codes = _lookup_codes(text[name], lookup, 0)
    return np.maximum(codes, 0), codes < 0


def local_seconds(epoch_s: np.ndarray, timezone: str) -> np.ndarray:
    """Return epoch seconds as local wall-clock seconds since 1970-01-01 in ``timezone``."""
    epoch_s = np.asarray(epoch_s, dtype=float)
    finite = np.isfinite(epoch_s)
    whole = np.floor(np.where(finite, epoch_s, 0.0))
    stamps = pa.array(whole.astype(np.int64), type=pa.timestamp("s", tz=timezone))
    local = pc.local_timestamp(stamps).cast(pa.int64()).to_numpy(zero_copy_only=False)
    return np.where(finite, local + (epoch_s - whole), np.nan)


def _day_s(day: datetime.date) -> float:
    """Return the local midnight of ``day`` as wall-clock seconds since 1970-01-01."""
    return float((day - datetime.date(1970, 1, 1)).days) * SECONDS_PER_DAY


def _tally(into: dict[str, Rows], reason: str, rows: np.ndarray) -> None:
    """Record ``rows`` (row numbers, ascending) under ``reason`` when there are any."""
    if rows.size:
        into[reason] = Rows(int(rows.size), tuple(int(r) for r in rows[:FIRST_ROWS]))


def _call_rows(first_row: np.ndarray, n_rows: np.ndarray, hit: np.ndarray) -> Rows:
    """Return the rows behind the calls where ``hit`` holds, by their first rows."""
    first = np.sort(first_row[hit])[:FIRST_ROWS]
    return Rows(int(n_rows[hit].sum()), tuple(int(r) for r in first))


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__
