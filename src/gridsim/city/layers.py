"""Layer files of a real city: points (CSV or GeoJSON) and district polygons (GeoJSON).

Every problem is one line naming the file, the rows and the fix: a missing column, a
number that does not parse, a duplicate id, latitude and longitude that look swapped,
a point farther from the nearest road than ``city.osm.snap_max_m``, a feature that is
not a polygon where polygons are needed.
"""

from __future__ import annotations

import csv
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from scipy.spatial import cKDTree

from gridsim.core.errors import InputError

SHOWN_ROWS = 3  # rows quoted in a message


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
    rows = _geojson_points(path) if path.suffix.lower() in (".geojson", ".json") else (
        _csv_rows(path))
    if not rows:
        raise InputError(f"{path}: no points; give one row per point")
    missing = [c for c in ("lat", "lon", *needed) if c not in rows[0]]
    if missing:
        raise InputError(f"{path}: missing column {missing[0]!r}; columns found: "
                         f"{', '.join(rows[0])}")
    id_key = next((k for k in ("id", "name") if k in rows[0]), None)
    ids = [str(r[id_key]) if id_key else f"row {i + 2}" for i, r in enumerate(rows)]
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
    others = {k: [str(r.get(k, "")) for r in rows] for k in rows[0] if k not in ("lat", "lon")}
    return PointLayer(path=path, lat=lat, lon=lon, ids=ids, columns=others)


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
        shape = (feature or {}).get("geometry") or {}
        kind = shape.get("type")
        if kind not in ("Polygon", "MultiPolygon"):
            raise InputError(f"{path}: feature {index} is a {kind}, not a Polygon or "
                             "MultiPolygon; district boundaries must be polygons")
        name = ((feature.get("properties") or {}).get(name_property))
        if name is None:
            raise InputError(f"{path}: feature {index} has no property {name_property!r}; "
                             "set city.osm.district_property to the one that names it")
        try:
            polygons.append((str(name), geometry.shape(shape)))
        except Exception as exc:  # shapely raises several kinds on bad coordinates
            raise InputError(f"{path}: feature {index} ({name}): bad polygon ({exc})") from None
    return polygons


def _json(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise InputError(f"{path}: file not found; check the path in city.osm") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InputError(f"{path}: cannot read as JSON ({exc})") from None


def _geojson_points(path: Path) -> list[dict[str, Any]]:
    data = _json(path)
    features = data.get("features") if isinstance(data, dict) else None
    if not isinstance(features, list):
        raise InputError(f"{path}: not a GeoJSON FeatureCollection")
    rows = []
    for index, feature in enumerate(features):
        shape = (feature or {}).get("geometry") or {}
        if shape.get("type") != "Point":
            raise InputError(f"{path}: feature {index} is a {shape.get('type')}, not a Point")
        lon, lat = (shape.get("coordinates") or [None, None])[:2]
        rows.append({"lat": lat, "lon": lon, **(feature.get("properties") or {})})
    return rows


def _csv_rows(path: Path) -> list[dict[str, Any]]:
    try:
        with path.open(newline="", encoding="utf-8-sig") as handle:
            reader = csv.DictReader(handle)
            rows = [{(k or "").strip().lower(): v for k, v in row.items()} for row in reader]
    except FileNotFoundError:
        raise InputError(f"{path}: file not found; check the path in city.osm") from None
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise InputError(f"{path}: cannot read as CSV ({exc})") from None
    return rows


def _numbers(path: Path, rows: list[dict[str, Any]], column: str, ids: list[str]
             ) -> np.ndarray:
    values = np.full(len(rows), np.nan)
    bad = []
    for i, row in enumerate(rows):
        try:
            values[i] = float(row[column])
        except (TypeError, ValueError):
            bad.append(i)
    bad.extend(np.flatnonzero(~np.isfinite(values)).tolist())
    bad = sorted(set(bad))
    if bad:
        shown = ", ".join(f"{ids[i]} ({rows[i][column]!r})" for i in bad[:SHOWN_ROWS])
        raise InputError(f"{path}: {len(bad)} rows have no number in column {column!r}: "
                         f"{shown}")
    return values
