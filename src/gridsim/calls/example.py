"""The example CAD export (examples/cad/): a synthetic 110 log with real quirks.

    python scripts/make_example_cad.py                 # examples/cad/ (committed)
    python scripts/make_example_cad.py --out DIR --days 365 --scale 7.5   # ~1M rows

(``gridsim bench`` writes the million-row one with ``write_example`` to time
``gridsim calls fit``.)

Calls of five incident types arrive as a Poisson process whose daily rate, hourly
profile, day-of-week factors, district weights (four central Nanjing districts of the
synthetic city), priorities and log-normal on-scene and call-handling times are set
below; they are written to ``truth.json`` so that ``gridsim calls fit`` can be checked
against them. The export has one row per responding unit, US 12-hour timestamps, WKT
and "(lat, lon)" locations, and the faults real exports have: duplicate rows, truncated
lines, rows without a call id, received time, type or location, unreadable values, calls
outside the study area or far from any road, unknown and test call types, missing and
backwards unit times. Their numbers are in ``truth.json`` too. Deterministic in --seed.
"""

from __future__ import annotations

import argparse
import datetime
import json
import math
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pv
from scipy.spatial import cKDTree

from gridsim.city.synthetic import city_origin, generate_city
from gridsim.core.geo import METRES_PER_DEG_LAT, METRES_PER_DEG_LON_AT_EQUATOR
from gridsim.core.rng import stream
from gridsim.core.units import SECONDS_PER_DAY, SECONDS_PER_HOUR
from gridsim.scenario import load_scenario

START = datetime.date(2024, 3, 4)  # a Monday
TIMEZONE = "Asia/Shanghai"
UTC_OFFSET_S = 8 * 3600  # Asia/Shanghai keeps UTC+8 all year
TIME_FORMAT = "%m/%d/%Y %I:%M:%S %p"
AREA = {"lat_min": 31.85, "lat_max": 32.25, "lon_min": 118.55, "lon_max": 119.0}
MAX_DISTANCE_M = 2000.0
COLUMNS = ("IncidentNumber", "CallReceived", "UnitDispatched", "UnitEnRoute", "UnitOnScene",
           "UnitCleared", "CallType", "Priority", "Unit", "Location", "Disposition")
DISPOSITIONS = ("REPORT", "ADVISED", "ARREST", "GOA", "REFERRED")

# the truth: per scenario incident type (names as in scenarios/nanjing.toml)
TYPES: dict[str, dict[str, Any]] = {
    "traffic": {
        "log_types": {"TRAFFIC ACCIDENT": 0.9, "Traffic accident ": 0.1},
        "rate_per_day": 110.0,
        "hourly_profile": [2, 1, 1, 1, 1, 2, 4, 9, 10, 7, 6, 6, 6, 6, 6, 7, 8, 10, 9, 6, 5,
                           4, 3, 2],
        "day_of_week": [1.05, 1.05, 1.05, 1.05, 1.1, 0.85, 0.85],
        "district_weights": {"Xuanwu": 0.3, "Qinhuai": 0.2, "Gulou": 0.3, "Jianye": 0.2},
        "priorities": {"3": 0.85, "2": 0.15},
        "on_scene_s": {"mean_s": 1800.0, "cv": 0.6},
        "units": {"1": 0.7, "2": 0.3},
    },
    "theft": {
        "log_types": {"THEFT": 0.7, "BURGLARY": 0.3},
        "rate_per_day": 70.0,
        "hourly_profile": [2, 2, 1, 1, 1, 1, 2, 3, 5, 6, 7, 7, 7, 7, 7, 7, 7, 7, 7, 6, 5, 4,
                           3, 2],
        "day_of_week": [1.0] * 7,
        "district_weights": {"Xuanwu": 0.25, "Qinhuai": 0.35, "Gulou": 0.25, "Jianye": 0.15},
        "priorities": {"3": 1.0},
        "on_scene_s": {"mean_s": 2400.0, "cv": 0.6},
        "units": {"1": 0.9, "2": 0.1},
    },
    "dispute": {
        "log_types": {"DISPUTE": 1.0},
        "rate_per_day": 60.0,
        "hourly_profile": [2, 1, 1, 1, 1, 1, 2, 3, 4, 5, 6, 6, 6, 6, 6, 6, 6, 7, 8, 9, 9, 8,
                           6, 4],
        "day_of_week": [0.9, 0.9, 0.9, 0.95, 1.1, 1.3, 0.95],
        "district_weights": {"Xuanwu": 0.2, "Qinhuai": 0.3, "Gulou": 0.3, "Jianye": 0.2},
        "priorities": {"4": 0.9, "3": 0.1},
        "on_scene_s": {"mean_s": 2700.0, "cv": 0.6},
        "units": {"1": 1.0},
    },
    "person_in_need": {
        "log_types": {"ASSIST CITIZEN": 1.0},
        "rate_per_day": 40.0,
        "hourly_profile": [3, 2, 2, 2, 2, 2, 3, 4, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 4,
                           4, 3],
        "day_of_week": [1.0] * 7,
        "district_weights": {"Xuanwu": 0.25, "Qinhuai": 0.25, "Gulou": 0.25, "Jianye": 0.25},
        "priorities": {"2": 1.0},
        "on_scene_s": {"mean_s": 1800.0, "cv": 0.5},
        "units": {"1": 0.6, "2": 0.4},
    },
    "assault": {
        "log_types": {"ASSAULT": 1.0},
        "rate_per_day": 20.0,
        "hourly_profile": [6, 5, 4, 3, 2, 1, 1, 1, 2, 2, 3, 3, 3, 3, 3, 3, 4, 4, 5, 6, 7, 8,
                           8, 7],
        "day_of_week": [1.0] * 7,
        "district_weights": {"Xuanwu": 0.2, "Qinhuai": 0.3, "Gulou": 0.3, "Jianye": 0.2},
        "priorities": {"1": 1.0},
        "on_scene_s": {"mean_s": SECONDS_PER_HOUR, "cv": 0.5},
        "units": {"2": 1.0},
    },
}
# received to the first unit dispatched, by priority (log-normal)
HANDLING_S = {"1": {"mean_s": 45.0, "cv": 0.5}, "2": {"mean_s": 70.0, "cv": 0.6},
              "3": {"mean_s": 100.0, "cv": 0.7}, "4": {"mean_s": 150.0, "cv": 0.8}}
BACKUP_DELAY_S = {"mean_s": 60.0, "cv": 0.8}  # a further unit's dispatch after the first
TURNOUT_S = {"mean_s": 30.0, "cv": 0.5}  # dispatched to en route
TRAVEL_S = {"mean_s": 420.0, "cv": 0.5}  # en route to on scene
# faults added on top of the calls above (extra rows or calls, which the reader drops),
# per 14 days at scale 1; and faults in the calls themselves, as shares of single-unit calls
EXTRA = {"duplicate": 60, "malformed": 2, "no_call_id": 3, "no_received": 5,
         "bad_received": 2, "unknown_type": 25, "ignored_type": 10, "no_type": 3,
         "no_location": 4, "bad_location": 3, "outside_area": 6, "far_from_roads": 3}
SHARES = {"no_cleared": 0.02, "no_dispatched": 0.01, "no_priority": 0.002,
          "bad_on_scene": 0.001, "backwards": 0.001}


def main() -> None:
    """Write calls.csv, mapping.toml and truth.json (scripts/make_example_cad.py)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("examples") / "cad",
                        help="folder (default: examples/cad under the working directory)")
    parser.add_argument("--days", type=int, default=14)
    parser.add_argument("--scale", type=float, default=1.0, help="rates times this")
    parser.add_argument("--seed", type=int, default=20240304)
    args = parser.parse_args()
    write_example(args.out, args.days, args.scale, args.seed)


def write_example(out: Path, days: int, scale: float, seed: int) -> dict[str, object]:
    """Write the example into ``out``; return the truth."""
    out.mkdir(parents=True, exist_ok=True)
    table, truth = make_export(days, scale, seed)
    write_csv(table, out / "calls.csv", truth, seed)
    (out / "mapping.toml").write_text(MAPPING, encoding="utf-8")
    (out / "truth.json").write_text(json.dumps(truth, indent=2) + "\n", encoding="utf-8")
    return truth


def make_export(days: int, scale: float, seed: int) -> tuple[pa.Table, dict[str, object]]:
    """Return the export as a table of text columns (unit rows) and the truth."""
    rng = stream(seed, "example_cad")
    scenario = load_scenario()
    city = generate_city(scenario.city)
    names = [d.name for d in scenario.city.districts]
    origin = city_origin(scenario.city)
    node_lat, node_lon = _lat_lon(city.network.xy_m, origin)
    nodes_of = {d: np.flatnonzero(city.node_district == names.index(d)) for d in names}
    start_s = (START - datetime.date(1970, 1, 1)).days * SECONDS_PER_DAY - UTC_OFFSET_S

    calls: list[dict[str, np.ndarray]] = []
    for spec in TYPES.values():
        profile = np.asarray(spec["hourly_profile"], dtype=float)
        weekday = np.asarray(spec["day_of_week"], dtype=float)
        day = np.arange(days)
        per_hour = (scale * spec["rate_per_day"] * weekday[(day + START.weekday()) % 7, None]
                    * profile[None, :] / profile.sum())
        counts = rng.poisson(per_hour).ravel()
        hour_index = np.repeat(np.arange(days * 24), counts)
        received = start_s + (hour_index + rng.random(hour_index.shape[0])) * SECONDS_PER_HOUR
        n = received.shape[0]
        district_names = list(spec["district_weights"])
        weights = np.array(list(spec["district_weights"].values()))
        district = rng.choice(len(district_names), size=n, p=weights / weights.sum())
        node = np.empty(n, dtype=np.int64)
        for k, d in enumerate(district_names):
            here = np.asarray(district == k)
            node[here] = rng.choice(nodes_of[d], size=int(here.sum()))
        log_types = list(spec["log_types"])
        calls.append({
            "received": received,
            "type": np.array(log_types, dtype=object)[rng.choice(
                len(log_types), size=n, p=list(spec["log_types"].values()))],
            "priority": _pick(rng, spec["priorities"], n),
            "units": _pick(rng, spec["units"], n),
            "lat": node_lat[node], "lon": node_lon[node],
            "on_scene": _lognormal(rng, spec["on_scene_s"], n),
        })
    real = {k: np.concatenate([c[k] for c in calls]) for k in calls[0]}
    n_real = real["received"].shape[0]
    extra = {k: max(1, round(v * scale * days / 14)) if k != "malformed" else v
             for k, v in EXTRA.items()}
    faults = _extra_calls(rng, extra, days, start_s, node_lat, node_lon, city.network.xy_m,
                          origin)
    allc = {k: np.concatenate([real[k], faults[k]]) if k in faults else real[k]
            for k in real}
    n_calls = allc["received"].shape[0]
    fault = np.concatenate([np.full(n_real, ""), faults["fault"]]).astype(object)
    order = np.argsort(allc["received"], kind="stable")
    allc = {k: v[order] for k, v in allc.items()}
    fault = fault[order]
    ids = _call_ids(allc["received"], start_s)

    # the units: first dispatched after the handling delay, others a little later
    handling = np.empty(n_calls)
    for p, spec in HANDLING_S.items():
        here = allc["priority"] == int(p)
        handling[here] = _lognormal(rng, spec, int(here.sum()))
    units = allc["units"]
    call = np.repeat(np.arange(n_calls), units)
    rank = np.arange(call.shape[0]) - np.repeat(np.cumsum(units) - units, units)
    dispatched = allc["received"][call] + handling[call] + np.where(
        rank > 0, _lognormal(rng, BACKUP_DELAY_S, call.shape[0]), 0.0)
    en_route = dispatched + _lognormal(rng, TURNOUT_S, call.shape[0])
    arrive = en_route + _lognormal(rng, TRAVEL_S, call.shape[0])
    first_arrival = np.full(n_calls, np.inf)
    np.minimum.at(first_arrival, call, arrive)
    done = first_arrival + allc["on_scene"]  # the last unit clears then
    first_unit = arrive == first_arrival[call]
    came = arrive < done[call]  # a unit arriving after the work is done was cancelled
    on_scene = np.where(came, arrive, np.nan)
    cleared = np.where(first_unit | ~came, done[call],
                       arrive + rng.random(call.shape[0]) * (done[call] - arrive))
    unit_id = np.array([f"P{u:03d}" for u in rng.integers(1, 400, call.shape[0])], dtype=object)

    # faults in the calls themselves, on single-unit calls so the truth is not biased
    single = np.flatnonzero((units == 1) & (fault == ""))
    picked = rng.permutation(single)
    quirks: dict[str, int] = {}
    at = 0
    row_of = np.cumsum(units) - units  # each call's first row
    blank: dict[str, np.ndarray] = {}
    for name, share in SHARES.items():
        k = max(1, round(share * single.shape[0]))
        chosen = picked[at: at + k]
        at += k
        quirks[name] = int(k)
        blank[name] = row_of[chosen]
    rows = call.shape[0]
    text = {
        "IncidentNumber": ids[call],
        "CallReceived": _stamps(allc["received"][call]),
        "UnitDispatched": _stamps(dispatched),
        "UnitEnRoute": _stamps(en_route),
        "UnitOnScene": _stamps(on_scene),
        "UnitCleared": _stamps(cleared),
        "CallType": allc["type"][call],
        "Priority": np.array([str(p) for p in allc["priority"][call]], dtype=object),
        "Unit": unit_id,
        "Location": _locations(rng, allc["lat"], allc["lon"])[call],
        "Disposition": np.array(DISPOSITIONS, dtype=object)[rng.integers(0, len(DISPOSITIONS),
                                                                         rows)],
    }
    text["UnitCleared"][blank["no_cleared"]] = None
    text["UnitDispatched"][blank["no_dispatched"]] = None
    text["UnitEnRoute"][blank["no_dispatched"]] = None
    text["Priority"][blank["no_priority"]] = None
    text["UnitOnScene"][blank["bad_on_scene"]] = "00/00/0000 12:00:00 AM"
    back = blank["backwards"]
    text["UnitCleared"][back] = _stamps(on_scene[back] - 600.0)
    fault_rows = fault[call]
    text["CallReceived"][fault_rows == "no_received"] = None
    text["CallReceived"][fault_rows == "bad_received"] = "03/32/2024 10:00:00 AM"
    text["CallType"][fault_rows == "no_type"] = None
    text["Location"][fault_rows == "no_location"] = None
    text["Location"][fault_rows == "bad_location"] = "UNKNOWN"
    # rows without a call id: copies of real rows (a second export of the same unit)
    copies = rng.choice(np.flatnonzero(fault_rows == ""), size=extra["no_call_id"],
                        replace=False)
    dup = rng.choice(np.flatnonzero(fault_rows == ""), size=extra["duplicate"], replace=False)
    position = np.concatenate([np.arange(rows), copies, dup]).astype(float)
    position[rows:] += 0.5  # right after the row they copy
    source = np.concatenate([np.arange(rows), copies, dup])
    ordered = np.argsort(position, kind="stable")
    columns = {}
    for name in COLUMNS:
        values = text[name][source[ordered]]
        if name == "IncidentNumber":
            no_id = np.zeros(source.shape[0], dtype=bool)
            no_id[rows: rows + copies.shape[0]] = True
            values = np.where(no_id[ordered], None, values)
        columns[name] = pa.array(values, type=pa.string())
    truth = {
        "generator": "scripts/make_example_cad.py",
        "seed": seed, "start": START.isoformat(), "days": days, "timezone": TIMEZONE,
        "scale": scale,
        "types": {name: {**{k: v for k, v in spec.items() if k != "rate_per_day"},
                         "rate_per_day": spec["rate_per_day"] * scale}
                  for name, spec in TYPES.items()},
        "handling_delay_s": HANDLING_S,
        "calls": n_real,
        "rows": int(source.shape[0]) + extra["malformed"],
        "faults": {**{k: int(v) for k, v in extra.items()}, **quirks},
    }
    return pa.table(columns), truth


def write_csv(table: pa.Table, path: Path, truth: dict[str, object], seed: int) -> None:
    """Write ``table`` as CSV, with truncated copies of a few lines (malformed lines)."""
    sink = pa.BufferOutputStream()
    pv.write_csv(table, sink, write_options=pv.WriteOptions(quoting_style="needed"))
    lines = sink.getvalue().to_pybytes().split(b"\n")
    faults = truth["faults"]
    assert isinstance(faults, dict)
    rng = stream(seed, "example_cad.malformed")
    body = len(lines) - 2  # the header and the empty string after the last newline
    spots = np.sort(rng.choice(np.arange(2, body + 1), size=faults["malformed"],
                               replace=False))[::-1]
    for spot in spots:  # a line cut short by a broken export, before line ``spot``
        cut = lines[spot - 1].split(b",")[:4]
        lines.insert(int(spot), b",".join(cut))
    path.write_bytes(b"\n".join(lines))


def _extra_calls(rng: np.random.Generator, extra: dict[str, int], days: int, start_s: float,
                 node_lat: np.ndarray, node_lon: np.ndarray, xy_m: np.ndarray,
                 origin: tuple[float, float]) -> dict[str, np.ndarray]:
    """Return the calls the reader or the fit must drop, one row each, by fault."""
    kinds = ["no_received", "bad_received", "unknown_type", "ignored_type", "no_type",
             "no_location", "bad_location", "outside_area", "far_from_roads"]
    fault = np.concatenate([np.full(extra[k], k, dtype=object) for k in kinds])
    n = fault.shape[0]
    central = rng.choice(np.flatnonzero((node_lat > 32.0) & (node_lat < 32.08)
                                        & (node_lon > 118.74) & (node_lon < 118.82)), size=n)
    lat, lon = node_lat[central].copy(), node_lon[central].copy()
    outside = np.flatnonzero(fault == "outside_area")
    lat[outside[::2]], lon[outside[::2]] = 31.2304, 121.4737  # Shanghai
    lat[outside[1::2]], lon[outside[1::2]] = 0.0, 0.0  # a GPS fix that never came
    far = np.flatnonzero(fault == "far_from_roads")
    spots = _far_from_roads(xy_m, origin, far.shape[0])
    lat[far], lon[far] = spots[:, 0], spots[:, 1]
    log_type = np.full(n, "THEFT", dtype=object)
    log_type[fault == "unknown_type"] = "NOISE COMPLAINT"
    log_type[fault == "ignored_type"] = "TEST CALL"
    return {"received": start_s + rng.random(n) * days * SECONDS_PER_DAY, "type": log_type,
            "priority": np.full(n, 3), "units": np.ones(n, dtype=np.int64),
            "lat": lat, "lon": lon, "on_scene": _lognormal(rng, TYPES["theft"]["on_scene_s"], n),
            "fault": fault}


def _far_from_roads(xy_m: np.ndarray, origin: tuple[float, float], count: int) -> np.ndarray:
    """Return ``count`` (lat, lon) in the study area over 3 km from any road node (may repeat)."""
    lat_grid, lon_grid = np.meshgrid(np.linspace(AREA["lat_min"], AREA["lat_max"], 81),
                                     np.linspace(AREA["lon_min"], AREA["lon_max"], 91),
                                     indexing="ij")
    lat, lon = lat_grid.ravel(), lon_grid.ravel()
    x = (lon - origin[1]) * METRES_PER_DEG_LON_AT_EQUATOR * math.cos(math.radians(origin[0]))
    y = (lat - origin[0]) * METRES_PER_DEG_LAT
    distance_m, _ = cKDTree(xy_m).query(np.column_stack([x, y]))
    far = np.flatnonzero(distance_m > 1.5 * MAX_DISTANCE_M)
    assert far.shape[0] > 0, "no spot in the study area is far from the roads"
    chosen = far[np.linspace(0, far.shape[0] - 1, count).astype(int)]
    return np.column_stack([np.round(lat[chosen], 5), np.round(lon[chosen], 5)])


def _lat_lon(xy_m: np.ndarray, origin: tuple[float, float]) -> tuple[np.ndarray, np.ndarray]:
    """Return the (lat, lon) of local metres around ``origin`` (the inverse of project)."""
    lat = origin[0] + xy_m[:, 1] / METRES_PER_DEG_LAT
    lon = origin[1] + xy_m[:, 0] / (METRES_PER_DEG_LON_AT_EQUATOR
                                    * math.cos(math.radians(origin[0])))
    return np.round(lat, 5), np.round(lon, 5)


def _lognormal(rng: np.random.Generator, spec: dict[str, float], n: int) -> np.ndarray:
    sigma2 = math.log1p(spec["cv"] ** 2)
    return rng.lognormal(math.log(spec["mean_s"]) - sigma2 / 2, math.sqrt(sigma2), n)


def _pick(rng: np.random.Generator, shares: dict[str, float], n: int) -> np.ndarray:
    values = np.array([int(k) for k in shares])
    return values[rng.choice(len(values), size=n, p=list(shares.values()))]


def _call_ids(received: np.ndarray, start_s: float) -> np.ndarray:
    """Return ids such as NJ2403040017: the local date and the call's number that day."""
    day = np.floor((received - start_s) / SECONDS_PER_DAY).astype(np.int64)
    first = np.searchsorted(day, day, side="left")
    number = np.arange(day.shape[0]) - first + 1
    dates = [(START + datetime.timedelta(days=int(d))).strftime("%y%m%d") for d in range(
        int(day.max()) + 1)]
    return np.array([f"NJ{dates[d]}{k:04d}" for d, k in zip(day, number, strict=True)],
                    dtype=object)


def _stamps(epoch_s: np.ndarray) -> np.ndarray:
    """Return US 12-hour local timestamps (None where NaN)."""
    whole = np.round(np.where(np.isnan(epoch_s), 0.0, epoch_s)).astype(np.int64)
    stamps = pa.array(whole, type=pa.timestamp("s", tz=TIMEZONE),
                      mask=np.isnan(epoch_s))
    return np.asarray(pc.strftime(stamps, format=TIME_FORMAT).to_numpy(zero_copy_only=False),
                      dtype=object)


def _locations(rng: np.random.Generator, lat: np.ndarray, lon: np.ndarray) -> np.ndarray:
    """Return each call's place, as WKT ``POINT (lon lat)`` (60%) or ``(lat, lon)``."""
    wkt = np.asarray(rng.random(lat.shape[0]) < 0.6).tolist()
    return np.array([f"POINT ({b:.5f} {a:.5f})" if w else f"({a:.5f}, {b:.5f})"
                     for a, b, w in zip(lat.tolist(), lon.tolist(), wkt, strict=True)],
                    dtype=object)


MAPPING = f"""\
# How to read examples/cad/calls.csv (written by scripts/make_example_cad.py):
#   gridsim calls fit examples/cad/calls.csv --mapping examples/cad/mapping.toml
rows = "unit"                          # one row per responding unit: grouped by call id
time_format = "{TIME_FORMAT}"   # US 12-hour clock
timezone = "{TIMEZONE}"
ignore_types = ["TEST CALL"]           # left out on purpose (counted, not an error)

[columns]
call_id = "IncidentNumber"
received = "CallReceived"
dispatched = "UnitDispatched"
en_route = "UnitEnRoute"
on_scene = "UnitOnScene"
cleared = "UnitCleared"
type = "CallType"
priority = "Priority"
unit_id = "Unit"
location = "Location"                  # WKT POINT (lon lat) or "(lat, lon)"

[types]                                # the log's call types -> the scenario's incident types
"TRAFFIC ACCIDENT" = "traffic"
"THEFT" = "theft"
"BURGLARY" = "theft"
"DISPUTE" = "dispute"
"ASSIST CITIZEN" = "person_in_need"
"ASSAULT" = "assault"

[area]                                 # the study area: central Nanjing
lat_min = {AREA["lat_min"]}
lat_max = {AREA["lat_max"]}
lon_min = {AREA["lon_min"]}
lon_max = {AREA["lon_max"]}
max_distance_m = {MAX_DISTANCE_M:g}                  # farther than this from a road node: left out
"""


if __name__ == "__main__":
    main()
