"""``gridsim place``: propose sites for new watch points and check them by simulation."""

from __future__ import annotations

import argparse
import csv
import io
import json
import tempfile
from pathlib import Path

import numpy as np
from rich.console import Console

from gridsim.city.synthetic import city_origin
from gridsim.cli.common import Interrupted, warn
from gridsim.cli.parser import EXIT_OK
from gridsim.core.errors import InputError
from gridsim.core.geo import unproject
from gridsim.core.output import bytes_writer, check_output_folder, json_writer, write_folder
from gridsim.core.units import SECONDS_PER_DAY
from gridsim.report.figures import png_bytes
from gridsim.scenario import parse_scenario
from gridsim.scenario.guard import check_resources
from gridsim.scenario.load import read_scenario_text
from gridsim.studies.placement import Placement, place_watch_points, placement_summary
from gridsim.world.build import World, build_world


def place_command(args: argparse.Namespace, console: Console) -> int:
    """Propose ``--count`` watch-point sites, check them, write the folder; return 0."""
    from gridsim.report.placement_figure import placement_figure

    text, source = read_scenario_text(args.scenario)
    scenario = parse_scenario(text, source, args.overrides)
    if args.days is not None:  # through the schema, as any other setting: its limits hold
        try:
            scenario = parse_scenario(text, source, [*args.overrides,
                                                     f"duration_days={args.days!r}"])
        except InputError as exc:
            detail = str(exc).replace(f" (from --set duration_days={args.days!r})", "")
            raise InputError(f"--days {args.days:g}: {detail}") from None
    if args.ring_s is not None and args.ring_s > SECONDS_PER_DAY:
        raise InputError(f"--ring-s {args.ring_s:g}: at most {SECONDS_PER_DAY:,.0f} s (a day, "
                         "as coverage.rings_s); e.g. --ring-s 180")
    for line in check_resources(scenario):
        warn(line)
    if scenario.city.explicit is not None:
        raise InputError("place: the scenario's city is given node by node (city.explicit), "
                         "without coordinates for a sites file; use a synthetic or "
                         "[city.osm] city")
    out = args.out or Path(f"results/{scenario.name}-place")
    check_output_folder(out)
    ring_s = args.ring_s if args.ring_s is not None else scenario.coverage.rings_s[
        len(scenario.coverage.rings_s) // 2]
    world = build_world(scenario)
    node_lat_lon = site_lat_lon(world)
    seed = scenario.seed if args.seed is None else args.seed
    say = (lambda line: None) if args.quiet else (
        lambda line: console.print(f"[dim]place: {line}[/dim]"))
    with tempfile.TemporaryDirectory(prefix="gridsim-place-") as scratch:
        def write_sites(nodes: np.ndarray) -> str:
            path = Path(scratch) / "sites.csv"
            path.write_text(sites_csv(nodes, np.zeros(nodes.shape[0]), node_lat_lon, world),
                            encoding="utf-8")
            return str(path)

        placement = place_watch_points(world, args.count, ring_s, args.replications, seed,
                                       write_sites, say)
    summary = placement_summary(placement, args.replications)
    summary.update(scenario=scenario.name, duration_days=scenario.duration_days, seed=seed,
                   use=f"--set watch_points.extra_sites={out}/sites.csv")
    if placement.site_node.shape[0] == 0:
        del summary["use"]
        warn(f"place: every incident watch points attend ({placement.eligible:,.1f} a "
             f"training run) was reached within {placement.ring_s:g} s: no site proposed; a "
             "shorter --ring-s asks more")
    figure = placement_figure(placement, world, placement.demand)
    write_folder(out, {
        "sites.csv": bytes_writer(sites_csv(placement.site_node, placement.site_gain,
                                            node_lat_lon, world).encode("utf-8")),
        "sites.geojson": json_writer(sites_geojson(placement, node_lat_lon)),
        "placement.json": json_writer(summary),
        "before_after.png": bytes_writer(png_bytes(figure)),
    }, "place")
    try:
        _print(summary, placement)
    except KeyboardInterrupt:
        raise Interrupted(f"the proposal was written to {out}/") from None
    if placement.site_node.shape[0] == 0:
        print(f"wrote {out}/placement.json, before_after.png and sites.csv and sites.geojson "
              "(no site: empty)")
    else:
        print(f"wrote {out}/sites.csv and sites.geojson (a layer: --set "
              f"watch_points.extra_sites={out}/sites.csv), placement.json and before_after.png")
    return EXIT_OK


def site_lat_lon(world: World) -> np.ndarray:
    """Return the (lat, lon) of every road node of a synthetic or imported city."""
    if world.node_lat_lon is not None:
        return world.node_lat_lon
    return unproject(world.network.xy_m, city_origin(world.scenario.city))


def sites_csv(nodes: np.ndarray, gain: np.ndarray, node_lat_lon: np.ndarray,
              world: World) -> str:
    """Return the sites as CSV text: id, lat, lon, node, district, covered demand."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["id", "lat", "lon", "node", "district", "covered_per_replication"])
    for rank, (node, covered) in enumerate(zip(nodes.tolist(), gain.tolist(), strict=True)):
        lat, lon = node_lat_lon[node]
        writer.writerow([f"site-{rank + 1}", f"{lat:.7f}", f"{lon:.7f}", node,
                         world.district_names[world.node_district[node]], f"{covered:.3f}"])
    return buffer.getvalue()


def sites_geojson(placement: Placement, node_lat_lon: np.ndarray) -> dict[str, object]:
    """Return the sites as a GeoJSON FeatureCollection of points (WGS84 lon, lat)."""
    features = []
    for rank, (node, covered) in enumerate(zip(placement.site_node.tolist(),
                                               placement.site_gain.tolist(), strict=True)):
        lat, lon = node_lat_lon[node]
        features.append({
            "type": "Feature",
            "geometry": {"type": "Point", "coordinates": [round(float(lon), 7),
                                                          round(float(lat), 7)]},
            "properties": {"id": f"site-{rank + 1}", "node": node,
                           "covered_per_replication": round(covered, 3)},
        })
    return {"type": "FeatureCollection", "features": features}


def _print(summary: dict[str, object], placement: Placement) -> None:
    ci = summary["improvement_ci95"]
    assert isinstance(ci, list)
    print(json.dumps({k: summary[k] for k in (
        "sites", "ring_s", "replications", "demand_unreached_per_replication",
        "demand_covered_per_replication")}))
    print(f"share of incidents reached within {placement.ring_s / 60:g} min: "
          f"{placement.before.mean():.2%} before, {placement.after.mean():.2%} after; "
          f"improvement {(placement.after - placement.before).mean() * 100:+.2f} points "
          f"(95% CI {ci[0] * 100:+.2f} to {ci[1] * 100:+.2f}); "
          + ("positive with 95% confidence" if summary["improves_with_95_confidence"]
             else "NOT shown positive with 95% confidence"))
