"""The interactive map page: one self-contained, offline HTML file per results folder.

The roads, cells, incidents and dispatches are embedded (numbers as base64 typed
arrays, the rest as JSON) with gridsim's own script (``map_page.js``, beside this
module): no tiles, fonts or scripts come from the network. The page draws the roads on
a canvas coloured by their cell's metric; the metric, responder group and hour of the
call are chosen in the page, which recomputes each cell's numbers from the incidents;
hovering shows a cell's numbers; a time slider replays the run (incidents appearing,
responders travelling from their base to them, then on scene).
"""

from __future__ import annotations

import base64
import html
import json
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np
from matplotlib import colormaps

from gridsim.analysis.coverage import GROUPS, cell_districts, group_arrivals_s, node_cells
from gridsim.core.output import GENERATOR, write_marked
from gridsim.core.units import SECONDS_PER_DAY
from gridsim.report.coverage_figure import road_segments_km
from gridsim.report.results import Results
from gridsim.sim.records import KIND_CODE, POLICE_KINDS, RESPONDER_KINDS
from gridsim.world.build import World

MAX_INCIDENTS = 200_000  # a longer run embeds every k-th incident (said on the page)
MAX_DISPATCHES = 400_000
QUANTISE_STEPS = 65_535  # road coordinates as uint16 over the city's bounding box
COLOUR_STOPS = 9  # viridis sampled at this many stops; the page interpolates between them


def write_map_page(results: Results, world: World, out: Path,
                   fix: str = "move it away, then run again") -> Path:
    """Write the map page of ``results`` to ``out`` atomically; return ``out``.

    A file at ``out`` that gridsim did not write is refused with ``fix`` as the advice.
    """
    write_marked(out, render_map_page(results, world).encode("utf-8"), fix)
    return out


def render_map_page(results: Results, world: World) -> str:
    """Return the map page as HTML text."""
    data = map_data(results, world)
    script = resources.files("gridsim.report").joinpath("map_page.js").read_text("utf-8")
    payload = json.dumps(data, separators=(",", ":")).replace("</", "<\\/")
    name = html.escape(results.scenario.name)
    return "\n".join([
        "<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>",
        f'<meta name="generator" content="{html.escape(GENERATOR)}">',
        f"<title>gridsim map: {name}</title><style>{STYLE}</style></head><body>",
        f"<h1>gridsim map: {name}</h1>",
        CONTROLS,
        "<div id='stage'><canvas id='map' width='900' height='720'></canvas>"
        "<div id='tip' role='tooltip'></div></div>",
        "<div id='legend'></div><p id='note' class='meta'></p>",
        f"<script id='gridsim-data' type='application/json'>{payload}</script>",
        f"<script>{script}</script>",
        "</body></html>\n",
    ])


def map_data(results: Results, world: World) -> dict[str, Any]:
    """Return everything the page draws, JSON-ready (typed arrays as base64)."""
    settings = results.scenario.coverage
    cells = node_cells(settings, world.zones.node_grid, world.zones.node_station)
    segments_km, start = road_segments_km(world)
    lo = segments_km.reshape(-1, 2).min(axis=0)
    span = max(float(np.ptp(segments_km.reshape(-1, 2), axis=0).max()), 1e-9)
    quantised = np.round((segments_km - lo) / span * QUANTISE_STEPS).astype("<u2")
    node_xy = np.round((world.network.xy_m / 1000.0 - lo) / span * QUANTISE_STEPS
                       ).astype("<u2")
    cell_count = int(cells.max()) + 1
    centre = np.column_stack([
        np.bincount(cells, weights=node_xy[:, k].astype(float), minlength=cell_count)
        / np.maximum(np.bincount(cells, minlength=cell_count), 1) for k in (0, 1)])
    inc = results.incidents
    count = inc["t_call_s"].shape[0]
    every = max(1, -(-count // MAX_INCIDENTS))
    kept = np.arange(0, count, every)
    d = results.dispatches
    kind_code = np.array([KIND_CODE[k] for k in d["kind"]], dtype=np.int8)
    arrivals = group_arrivals_s(inc["t_call_s"], {**d, "kind": kind_code})
    rows = np.flatnonzero(np.isin(d["incident"], kept))[:MAX_DISPATCHES]
    origin = _origin_nodes(world, kind_code[rows], d["responder"][rows])
    return {
        "scenario": results.scenario.name,
        "cells_kind": settings.cells,
        "rings_s": list(settings.rings_s),
        "min_incidents": settings.min_incidents,
        "duration_s": results.scenario.duration_days * SECONDS_PER_DAY,
        "span_km": span,
        "groups": list(GROUPS),
        "kinds": list(RESPONDER_KINDS),
        "police_kinds": [KIND_CODE[k] for k in POLICE_KINDS],
        "districts": list(world.district_names),
        "colours": [_hex(colormaps["viridis"](x)) for x in np.linspace(0, 1, COLOUR_STOPS)],
        "incidents_every": every,
        "roads": _b64(quantised.reshape(-1)),
        "road_cell": _b64(cells[start].astype("<i4")),
        "cell_x": _b64(centre[:, 0].astype("<f4")),
        "cell_y": _b64(centre[:, 1].astype("<f4")),
        "cell_population": _b64(np.bincount(cells, weights=world.node_population,
                                            minlength=cell_count).astype("<f4")),
        "cell_district": _b64(cell_districts(cells, world.node_district, world.node_population,
                                             cell_count).astype("<i2")),
        "incident_t_s": _b64(inc["t_call_s"][kept].astype("<f4")),
        "incident_cell": _b64(cells[inc["node"][kept]].astype("<i4")),
        "incident_x": _b64(node_xy[inc["node"][kept], 0]),
        "incident_y": _b64(node_xy[inc["node"][kept], 1]),
        **{f"arrival_{g}": _b64(a[kept].astype("<f4")) for g, a in arrivals.items()},
        "dispatch_incident": _b64((d["incident"][rows] // every).astype("<i4")),
        "dispatch_kind": _b64(kind_code[rows].astype("<i1")),
        "dispatch_t_s": _b64(d["t_dispatch_s"][rows].astype("<f4")),
        "arrive_t_s": _b64(np.where(np.isfinite(d["t_arrive_s"][rows]),
                                    d["t_arrive_s"][rows], -1.0).astype("<f4")),
        "free_t_s": _b64(np.where(np.isfinite(d["t_free_s"][rows]), d["t_free_s"][rows],
                                  -1.0).astype("<f4")),
        "origin_x": _b64(node_xy[origin, 0]),
        "origin_y": _b64(node_xy[origin, 1]),
    }


def _origin_nodes(world: World, kind_code: np.ndarray, responder: np.ndarray) -> np.ndarray:
    """Return the base node each dispatched responder set out from (its post or home)."""
    f = world.fleets
    bases = {
        "patrol": f.patrol.base_node, "community_police": f.community_police.base_node,
        "mediator": f.mediators.base_node, "grid_worker": f.grid_workers.base_node,
        "volunteer": f.volunteers.base_node, "watch_point": f.watch_point_node,
        "street_post": f.street_posts.base_node, "traffic_police": f.traffic_police.base_node,
    }
    origin = np.zeros(kind_code.shape[0], dtype=np.int64)
    for name, base in bases.items():
        rows = kind_code == KIND_CODE[name]
        if rows.any():
            origin[rows] = base[responder[rows]]
    return origin


def _b64(values: np.ndarray) -> str:
    return base64.b64encode(np.ascontiguousarray(values).tobytes()).decode("ascii")


def _hex(rgba: tuple[float, float, float, float]) -> str:
    return "#" + "".join(f"{round(c * 255):02x}" for c in rgba[:3])


STYLE = """
body { font-family: system-ui, sans-serif; margin: 1em auto; max-width: 960px; color: #222; }
h1 { font-size: 1.3em; } .meta { color: #555; font-size: 0.85em; }
#controls { display: flex; flex-wrap: wrap; gap: 0.6em 1.2em; align-items: center;
  margin-bottom: 0.5em; font-size: 0.9em; }
#stage { position: relative; } canvas { border: 1px solid #ddd; background: #fafafa; }
#tip { position: absolute; pointer-events: none; background: rgba(255,255,255,0.95);
  border: 1px solid #999; padding: 0.3em 0.5em; font-size: 0.8em; display: none;
  white-space: pre; }
#legend { display: flex; align-items: center; gap: 0.4em; font-size: 0.8em; margin-top: 0.3em; }
#legend .bar { width: 260px; height: 12px; }
"""

CONTROLS = """<div id='controls'>
<label>colour by <select id='metric'></select></label>
<label>responder <select id='group'></select></label>
<label>hour of the call <select id='hour'><option value='all'>all</option></select></label>
<label>time <input id='time' type='range' min='0' max='1000' value='0' step='1'
 style='width:260px'> <span id='clock'>-</span></label>
<button id='play' type='button'>play</button>
</div>"""
