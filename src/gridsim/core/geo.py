"""Plane geometry of a city: local metres around an origin, and sides of a line."""

from __future__ import annotations

import numpy as np

METRES_PER_DEG_LAT = 110_540.0
METRES_PER_DEG_LON_AT_EQUATOR = 111_320.0


def project(lat: np.ndarray, lon: np.ndarray, origin: tuple[float, float]) -> np.ndarray:
    """Return local (x east, y north) metres of lat/lon around ``origin``."""
    lat0, lon0 = origin
    x = (np.asarray(lon) - lon0) * METRES_PER_DEG_LON_AT_EQUATOR * np.cos(np.radians(lat0))
    y = (np.asarray(lat) - lat0) * METRES_PER_DEG_LAT
    return np.column_stack([x, y])


def unproject(xy_m: np.ndarray, origin: tuple[float, float]) -> np.ndarray:
    """Return (N, 2) lat/lon of local metres ``xy_m``: the inverse of ``project``."""
    lat0, lon0 = origin
    lat = lat0 + xy_m[:, 1] / METRES_PER_DEG_LAT
    lon = lon0 + xy_m[:, 0] / (METRES_PER_DEG_LON_AT_EQUATOR * np.cos(np.radians(lat0)))
    return np.column_stack([lat, lon])


def mean_origin(lat: list[float], lon: list[float]) -> tuple[float, float]:
    """Return the (lat, lon) mean of the points: the origin of a city's local metres."""
    return float(np.mean(lat)), float(np.mean(lon))


def north_of(xy: np.ndarray, line: np.ndarray) -> np.ndarray:
    """Return True for points on the left (north-west) side of the line A->B, (2, 2)."""
    a, b = line
    return ((b[0] - a[0]) * (xy[:, 1] - a[1]) - (b[1] - a[1]) * (xy[:, 0] - a[0])) > 0.0
