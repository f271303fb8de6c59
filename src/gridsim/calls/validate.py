"""Checks at the edge of a call log: column types, plausible times, a handful of far-off dates.

A Parquet export's mapped columns must be of a type their field can be read from (text
for a location, not a list or a struct) and hold valid UTF-8 text; anything else is one
``InputError`` line naming the column, its type and what is expected. Times outside
1970-2100 are not used (counted by reason by the reader), and a handful of calls dated
far outside the period of the rest (a typo's year) are left out before a period is
derived from the log.
"""

from __future__ import annotations

import contextlib
import datetime
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa

from gridsim.calls.mapping import TIME_KEYS, TIME_WINDOW
from gridsim.core.errors import InputError
from gridsim.core.units import SECONDS_PER_DAY

WINDOW_S = tuple((day - datetime.date(1970, 1, 1)).days * SECONDS_PER_DAY
                 for day in TIME_WINDOW)  # epoch seconds (UTC) used: [first, end)
OUTSIDE = f"outside {TIME_WINDOW[0].year}-{TIME_WINDOW[1].year}"
FAR_OFF = "received far outside the log's period"
FAR_SHARE = 0.005  # far-off calls: at most 0.5% of the calls ...
FAR_FEW = 5  # ... or, in a smaller log, up to 5 (never more than a tenth of them)
FAR_MIN_GAP_S = SECONDS_PER_DAY  # ... beyond a gap longer than this and the rest's span

_BYTES = {pa.string(): pa.binary(), pa.large_string(): pa.large_binary(),
          pa.string_view(): pa.binary_view()}  # text types' byte views
_WORDS = {"times": "text, a timestamp or epoch numbers",
          "place": "text such as 'POINT (lon lat)' or '(lat, lon)'",
          "numbers": "numbers (degrees) or text", "codes": "text or numbers"}
_ACCEPTED = {"times": {"text", "timestamp", "integer", "float"},
             "place": {"text"}, "numbers": {"text", "integer", "float", "decimal"},
             "codes": {"text", "integer", "float", "decimal"}}


def checked_table(table: pa.Table, columns: dict[str, str], path: Path,
                  mapping_source: str) -> pa.Table:
    """Return ``table`` with dictionaries decoded and bytes as text, or one error line.

    Every mapped column (``columns``: field -> column) must be of a type its field can be
    read from, and its text valid UTF-8.
    """
    for key, name in columns.items():
        index = table.schema.get_field_index(name)
        values = original = table.column(index)
        if pa.types.is_dictionary(values.type):
            values = values.cast(values.type.value_type)
        kind = _kind(values.type)
        field = ("times" if key in TIME_KEYS else "place" if key == "location" else
                 "numbers" if key in ("lat", "lon") else "codes")
        where = f"{path}: columns.{key} ({name!r})"
        if kind not in _ACCEPTED[field] | {"null", "binary"}:
            raise InputError(f"{where} is of type {values.type}, not {_WORDS[field]}; map "
                             f"another column in {mapping_source}, or export this one as "
                             f"{_WORDS[field]}")
        if kind in ("text", "binary"):
            values = _utf8(values, where)
        if values is not original:
            table = table.set_column(index, name, values)
    return table


def _kind(kind: pa.DataType) -> str:
    """Return what a column of type ``kind`` holds, in the words of ``_ACCEPTED``."""
    tests = (("text", (pa.types.is_string, pa.types.is_large_string,
                       pa.types.is_string_view)),
             ("binary", (pa.types.is_binary, pa.types.is_large_binary,
                         pa.types.is_binary_view, pa.types.is_fixed_size_binary)),
             ("integer", (pa.types.is_integer,)), ("float", (pa.types.is_floating,)),
             ("decimal", (pa.types.is_decimal,)), ("timestamp", (pa.types.is_timestamp,)),
             ("null", (pa.types.is_null,)))
    return next((name for name, checks in tests if any(t(kind) for t in checks)), "other")


def _utf8(values: pa.ChunkedArray, where: str) -> pa.ChunkedArray:
    """Return text ``values`` as a string column; a value not valid UTF-8 is one line."""
    binary = _kind(values.type) == "binary"
    try:
        if binary:
            return values.cast(pa.string())  # checks the bytes
        values.validate(full=True)
        # a large string or string view as a plain string: the reader's kernels expect one
        return values if pa.types.is_string(values.type) else values.cast(pa.string())
    except pa.ArrowInvalid:
        pass
    row = 0
    for chunk in values.chunks:
        raw = chunk if binary else chunk.view(_BYTES[chunk.type])
        for value in raw.to_pylist():
            row += 1
            try:
                if value is not None:
                    value.decode("utf-8")
            except UnicodeDecodeError:
                shown = repr(value[:40]) + ("..." if len(value) > 40 else "")
                raise InputError(f"{where}: row {row} is not UTF-8 text ({shown}); export "
                                 "the column as UTF-8 text") from None
    raise InputError(f"{where}: not valid text; export the column as UTF-8 text")


@contextlib.contextmanager
def malformed_lines_decoded(path: Path, encoding: str, mapping_source: str) -> Iterator[None]:
    """Make a malformed CSV line that is not text one ``InputError`` line.

    pyarrow's CSV reader decodes a malformed line as UTF-8 for the handler that counts it;
    when the bytes are not UTF-8 it prints the error (an "exception ignored" traceback) and
    stops with a parse error. Within this block such an error is caught and reported.
    """
    seen: list[BaseException] = []
    previous = sys.unraisablehook

    def hook(info: Any) -> None:
        if isinstance(info.exc_value, UnicodeDecodeError):
            seen.append(info.exc_value)
        else:
            previous(info)

    sys.unraisablehook = hook
    try:
        yield
    except InputError:
        if not seen:
            raise
    finally:
        sys.unraisablehook = previous
    if seen:
        raise InputError(f"{path}: a malformed line (wrong number of fields) holds bytes that "
                         f"are not {encoding} text; check the file, and [csv] encoding in "
                         f"{mapping_source}")


def outside_window(times: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Blank (NaN) every time outside 1970-2100 in ``times``; return where, by key."""
    outside = {}
    for key, seconds in times.items():
        with np.errstate(invalid="ignore"):
            mask = ~np.isnan(seconds) & ~((seconds >= WINDOW_S[0]) & (seconds < WINDOW_S[1]))
        seconds[mask] = np.nan
        outside[key] = mask
    return outside


def far_off(received_s: np.ndarray) -> np.ndarray:
    """Return where a call lies far outside the log's period (a typo's year, say).

    Such calls are a handful (at most 0.5% of the calls, or up to 5 in a smaller log but
    never a tenth) beyond a gap longer than a day and than the span of all the others.
    """
    t = np.asarray(received_s, dtype=float)
    n = t.shape[0]
    order = np.argsort(t, kind="stable")
    ranked = t[order]
    allowed = max(FAR_SHARE * n, min(FAR_FEW, n / 10))
    low, high = 0, n  # the calls kept: ranked[low:high]
    while high - low > 1:  # each cut at least halves the span: a few rounds at most
        gaps = np.diff(ranked[low:high])
        cut = low + int(np.argmax(gaps))  # the longest gap: after ranked[cut]
        below, above = cut + 1 - low, high - cut - 1
        rest_span = (ranked[high - 1] - ranked[cut + 1] if below <= above
                     else ranked[cut] - ranked[low])
        if (low + n - high + min(below, above) > allowed
                or not gaps[cut - low] > max(rest_span, FAR_MIN_GAP_S)):
            break
        low, high = (cut + 1, high) if below <= above else (low, cut + 1)
    out = np.ones(n, dtype=bool)
    out[order[low:high]] = False
    return out


def far_off_warning(rows: int, first: tuple[int, ...], label: str) -> str:
    """Return the warning for ``rows`` left out as far outside the log's period."""
    shown = ", ".join(str(r) for r in first) + (", ..." if rows > len(first) else "")
    return (f"{rows:,} rows received far outside the log's period were left out ({label}s "
            f"{shown}): the period is that of the other calls; if they belong to the log, "
            "give its days as [period] in the mapping")
