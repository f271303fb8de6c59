"""Layer files of a real city: points (CSV or GeoJSON) and district polygons (GeoJSON).

Every problem is one line naming the file, the rows and the fix: a missing column, a
number that does not parse, a duplicate id, latitude and longitude that look swapped,
a point farther from the nearest road than ``city.osm.snap_max_m``, a feature that is
not a polygon where polygons are needed, a feature, geometry or properties of the wrong
JSON kind. Only regular files are read (never a device or FIFO), and a file that is no
layer is not echoed in the message.
"""

from __future__ import annotations

import csv
import io
import json
import math
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from scipy.spatial import cKDTree

from gridsim.core.errors import InputError
from gridsim.core.files import read_regular

SHOWN_ROWS = 3  # rows quoted in a message
MAX_LAYER_BYTES = 1e9  # a layer of a city's points or polygons; larger is not a layer
MISSING = "check the path in the scenario (relative to the scenario file)"
HEADER_NAME = re.compile(r"[\w .()/%#-]{1,40}")  # a column name as a header would give it
BRIEF_CHARS = 40  # a value quoted in a message


@dataclass(frozen=True, eq=False)
class PointLayer:
    """Points read from a layer file, in file order."""

    path: Path
    lat: np.ndarray
    lon: np.ndarray
    ids: list[str]  # the id, name or row number of each point (for messages)
    columns: dict[str, list[str]]  # every other column, as text

    @property
    def count(self) -> int:
        """Return the number of points."""
        return int(self.lat.shape[0])


def read_points(path: str | Path, needed: tuple[str, ...] = ()) -> PointLayer:
    """Return the points of a CSV (``lat``, ``lon`` columns) or GeoJSON file."""
    path = Path(path)
    geojson = path.suffix.lower() in (".geojson", ".json")
    rows = _geojson_points(path) if geojson else _csv_rows(path)
    label, first_label = ("feature", 0) if geojson else ("row", 2)  # a CSV row: its line
    if not rows:
        raise InputError(f"{path}: no points; give one row per point")
    missing = [c for c in ("lat", "lon", *needed) if c not in rows[0]]
    if missing:
        raise InputError(f"{path}: missing column {missing[0]!r}; {_header_hint(rows[0])}")
    id_key = next((k for k in ("id", "name") if k in rows[0]), None)
    ids = [_brief(r.get(id_key)) if id_key and r.get(id_key) not in (None, "")
           else f"{label} {i + first_label}" for i, r in enumerate(rows)]
    if id_key:
        seen: set[str] = set()
        for point_id in ids:
            if point_id in seen:
                raise InputError(f"{path}: duplicate {id_key} {point_id!r}; give each point "
                                 "its own")
            seen.add(point_id)
    lat = _numbers(path, rows, "lat", ids)
    lon = _numbers(path, rows, "lon", ids)
    bad = np.flatnonzero((np.abs(lat) > 90.0) | (np.abs(lon) > 180.0))
    if bad.shape[0]:
        swapped = " (lat and lon look swapped)" if np.all(np.abs(lon[bad]) <= 90.0) else ""
        raise InputError(f"{path}: {bad.shape[0]} points are not valid lat/lon{swapped}, "
                         f"first {ids[int(bad[0])]}: lat {lat[bad[0]]}, lon {lon[bad[0]]}")
    others = {k: ["" if r.get(k) is None else str(r[k]) for r in rows]
              for k in rows[0] if k not in ("lat", "lon")}
    return PointLayer(path=path, lat=lat, lon=lon, ids=ids, columns=others)


def column_numbers(layer: PointLayer, column: str) -> np.ndarray:
    """Return a column of ``layer`` as floats (nan where empty or not a number)."""
    values = np.full(layer.count, np.nan)
    for i, text in enumerate(layer.columns.get(column, [])):
        try:
            values[i] = float(text)
        except (ValueError, OverflowError):
            continue
    return values


def snap(layer: PointLayer, xy_m: np.ndarray, node_xy_m: np.ndarray, snap_max_m: float,
         node_lat_lon: np.ndarray) -> np.ndarray:
    """Return the nearest road node of each point; refuse points beyond ``snap_max_m``."""
    tree = cKDTree(node_xy_m)
    dist_m, node = tree.query(xy_m)
    far = np.flatnonzero(dist_m > snap_max_m)
    if far.shape[0]:
        # points far off the network with their coordinates swapped would fall on it
        lat0, lon0 = node_lat_lon[:, 0], node_lat_lon[:, 1]
        inside_swapped = ((lat0.min() <= layer.lon[far]) & (layer.lon[far] <= lat0.max())
                          & (lon0.min() <= layer.lat[far]) & (layer.lat[far] <= lon0.max()))
        hint = (" lat and lon look swapped;" if inside_swapped.mean() > 0.5 else "")
        shown = ", ".join(f"{layer.ids[int(i)]} at {dist_m[i]:,.0f} m"
                          for i in far[:SHOWN_ROWS])
        raise InputError(
            f"{layer.path}: {far.shape[0]} of {layer.count} points lie more than "
            f"{snap_max_m:g} m from the nearest road ({shown});{hint} move or drop them, "
            "or raise city.osm.snap_max_m")
    return node.astype(np.int32)


def read_polygons(path: str | Path, name_property: str) -> list[tuple[str, Any]]:
    """Return (name, shapely polygon) of every feature of a GeoJSON file."""
    from gridsim.city.osm import require

    geometry = require("shapely.geometry")
    data = _json(Path(path))
    features = data.get("features") if isinstance(data, dict) else None
    if not isinstance(features, list) or not features:
        raise InputError(f"{path}: not a GeoJSON FeatureCollection with features")
    polygons = []
    for index, feature in enumerate(features):
        shape, properties = _feature_parts(path, index, feature)
        kind = shape.get("type")
        if kind not in ("Polygon", "MultiPolygon"):
            raise InputError(f"{path}: feature {index} is a {_brief(kind)}, not a Polygon or "
                             "MultiPolygon; district boundaries must be polygons")
        name = properties.get(name_property)
        if name is None:
            raise InputError(f"{path}: feature {index} has no property {name_property!r}; "
                             "set city.osm.district_property to the one that names it")
        try:
            polygons.append((str(name), geometry.shape(shape)))
        except Exception as exc:  # shapely raises several kinds on bad coordinates
            raise InputError(f"{path}: feature {index} ({_brief(name)}): bad polygon "
                             f"({_brief(exc)})") from None
    return polygons


def _json(path: Path) -> Any:
    data = read_regular(path, MISSING, MAX_LAYER_BYTES)
    try:
        return json.loads(data)
    except RecursionError:
        raise InputError(f"{path}: cannot read as JSON (nested too deeply)") from None
    except ValueError as exc:  # not JSON, not UTF-8, or a number of thousands of digits
        raise InputError(f"{path}: cannot read as JSON ({_brief(exc)})") from None


def _feature_parts(path: str | Path, index: int, feature: Any
                   ) -> tuple[dict[str, Any], dict[str, Any]]:
    """Return the geometry and properties of a GeoJSON feature; one line if malformed."""
    if not isinstance(feature, dict):
        raise InputError(f"{path}: feature {index} is {_json_kind(feature)}, not a GeoJSON "
                         "Feature (an object with geometry and properties)")
    shape = feature.get("geometry")
    if not isinstance(shape, dict):
        raise InputError(f"{path}: feature {index}: its geometry is {_json_kind(shape)}, not "
                         "an object with type and coordinates")
    properties = feature.get("properties")
    if properties is None:
        properties = {}
    if not isinstance(properties, dict):
        raise InputError(f"{path}: feature {index}: its properties are "
                         f"{_json_kind(properties)}, not an object of names and values")
    return shape, properties


def _geojson_points(path: Path) -> list[dict[str, Any]]:
    data = _json(path)
    features = data.get("features") if isinstance(data, dict) else None
    if not isinstance(features, list):
        raise InputError(f"{path}: not a GeoJSON FeatureCollection")
    rows = []
    for index, feature in enumerate(features):
        shape, properties = _feature_parts(path, index, feature)
        if shape.get("type") != "Point":
            raise InputError(f"{path}: feature {index} is a {_brief(shape.get('type'))}, not a "
                             "Point")
        coordinates = shape.get("coordinates")
        if not (isinstance(coordinates, list) and len(coordinates) >= 2
                and all(_is_number(c) for c in coordinates[:2])):
            raise InputError(f"{path}: feature {index}: coordinates {_brief(coordinates)} are "
                             "not [longitude, latitude] numbers")
        lon, lat = coordinates[:2]
        rows.append({"lat": lat, "lon": lon, **properties})
    return rows


def _csv_rows(path: Path) -> list[dict[str, Any]]:
    data = read_regular(path, MISSING, MAX_LAYER_BYTES)
    try:
        text = data.decode("utf-8-sig")
        reader = csv.DictReader(io.StringIO(text, newline=""))
        return [{(k or "").strip().lower(): v for k, v in row.items()} for row in reader]
    except (UnicodeDecodeError, csv.Error) as exc:
        raise InputError(f"{path}: cannot read as CSV ({_brief(exc)})") from None


def _numbers(path: Path, rows: list[dict[str, Any]], column: str, ids: list[str]
             ) -> np.ndarray:
    values = np.full(len(rows), np.nan)
    bad = []
    for i, row in enumerate(rows):
        value: Any = row.get(column)
        try:
            values[i] = float(value) if not isinstance(value, bool) else math.nan
        except (TypeError, ValueError, OverflowError):
            bad.append(i)
    bad.extend(np.flatnonzero(~np.isfinite(values)).tolist())
    bad = sorted(set(bad))
    if bad:
        shown = ", ".join(f"{ids[i]} ({_brief(rows[i].get(column))})" for i in bad[:SHOWN_ROWS])
        raise InputError(f"{path}: {len(bad)} rows have no number in column {column!r}: "
                         f"{shown}")
    return values


def _header_hint(first: dict[str, Any]) -> str:
    """Return the columns a layer has, when its first line looks like a header at all.

    A file that is no layer (``/etc/passwd``) is not echoed: its first line may be private.
    """
    names = [str(k) for k in first]
    if len(names) >= 2 and all(HEADER_NAME.fullmatch(n) for n in names):
        return f"columns found: {', '.join(names[:12])}{', ...' if len(names) > 12 else ''}"
    return ("its first line names no columns (is it a CSV with a header line of lat, lon, "
            "...?)")


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _json_kind(value: Any) -> str:
    """Return the JSON kind of ``value`` for a message: 'an array', 'a string'..."""
    kinds = ((dict, "an object"), (list, "an array"), (str, "a string"), (bool, "true/false"),
             (int | float, "a number"))
    if value is None:
        return "null"
    return next((name for kind, name in kinds if isinstance(value, kind)), "not JSON")


def _brief(value: Any) -> str:
    """Return ``value`` as a short one-line text for a message."""
    text = str(value).replace("\n", " ").replace("\r", " ")
    return text if len(text) <= BRIEF_CHARS else text[:BRIEF_CHARS - 3] + "..."
