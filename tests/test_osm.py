"""Real places (issue 12): OSM road import, layer files, derived zones, bad input."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from scipy.sparse.csgraph import dijkstra

pytest.importorskip("osmnx")

import gridsim  # noqa: E402
from gridsim.core.cache import ArrayCache  # noqa: E402
from gridsim.core.errors import InputError  # noqa: E402
from gridsim.demand.incidents import generate_incidents  # noqa: E402
from gridsim.scenario import load_scenario  # noqa: E402
from gridsim.world.build import build_world  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "scenarios" / "aguascalientes.toml"
OSM_DATA = ROOT / "scenarios" / "data" / "osm"


def _world(tmp_path: Path, *overrides: str) -> gridsim.World:
    return build_world(load_scenario(EXAMPLE, list(overrides)), ArrayCache(tmp_path / "cache"))


def _set(key: str, path: Path | str) -> str:
    return f'city.osm.{key}="{path}"'


def _csv(path: Path, header: str, rows: list[str]) -> Path:
    path.write_text("\n".join([header, *rows]) + "\n", encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def example_world(tmp_path_factory: pytest.TempPathFactory) -> gridsim.World:
    return _world(tmp_path_factory.mktemp("osm"))


def test_example_runs_on_real_streets_and_says_what_was_derived(
        example_world: gridsim.World) -> None:
    result = gridsim.run(example_world.scenario, world=example_world)
    city = result.summary["city"]
    assert city["source"] == "openstreetmap" and city["nodes"] == example_world.network.node_count
    assert 500 < city["nodes"] < 1500  # the extract's centre: ~750 junctions
    assert "p-median" in city["stations"] and city["districts"] == "one district"
    assert result.summary["answered"] > 0.9 * result.summary["incidents"] > 30
    # the network is the real one: about 1.6 x 1.4 km, ~70 km of road
    span_km = np.ptp(example_world.network.xy_m, axis=0) / 1000.0
    assert span_km.min() > 1.2 and span_km.max() < 2.5
    assert 50 < example_world.network.length_m.sum() / 2 / 1000 < 100
    assert example_world.school_node.shape[0] > 10


def test_one_way_streets_are_driven_one_way_but_walked_both_ways(
        example_world: gridsim.World) -> None:
    net = example_world.network
    assert net.car_one_way
    car = net.graph("car_s")
    one_way = np.flatnonzero(~np.isfinite(net.car_s))
    assert one_way.shape[0] > 100  # the centre of Aguascalientes has many one-way streets
    row = np.repeat(np.arange(net.node_count), np.diff(net.indptr))
    u, v = int(row[one_way[0]]), int(net.indices[one_way[0]])
    there = dijkstra(car, directed=True, indices=v)[u]  # v -> u is the legal direction
    back = dijkstra(car, directed=True, indices=u)[v]   # u -> v must go round the block
    assert np.isfinite(there) and back > there
    # the largest strongly connected part: every node reaches every other by car
    assert np.isfinite(dijkstra(car, directed=True, indices=0)).all()
    walk = dijkstra(net.graph("length_m"), directed=True, indices=u)[v]
    assert walk == pytest.approx(net.length_m[one_way[0]])


def test_the_same_scenario_runs_on_another_real_extract(tmp_path: Path) -> None:
    oakland = OSM_DATA / "west-oakland.osm.bz2"
    scenario = load_scenario(EXAMPLE, [_set("path", oakland), 'city.osm.schools=""'])
    world = build_world(scenario, ArrayCache(tmp_path))
    result = gridsim.run(scenario, world=world)
    assert result.summary["city"]["file"].endswith("west-oakland.osm.bz2")
    assert 10 < world.network.node_count < 200
    assert result.summary["incidents"] > 30


def test_pbf_xml_and_graphml_give_the_same_network(tmp_path: Path) -> None:
    import osmnx as ox

    from gridsim.city.osm import _pbf_to_xml, read_graph

    xml = tmp_path / "a.osm"
    _pbf_to_xml(OSM_DATA / "aguascalientes.osm.pbf", xml)
    graphml = tmp_path / "a.graphml"
    ox.save_graphml(read_graph(OSM_DATA / "aguascalientes.osm.pbf"), graphml)
    pbf = _world(tmp_path / "pbf").network
    for other_file in (xml, graphml):
        other = _world(tmp_path / other_file.suffix, _set("path", other_file)).network
        assert other.node_count == pbf.node_count
        assert np.allclose(other.length_m, pbf.length_m)
        assert np.array_equal(np.isfinite(other.car_s), np.isfinite(pbf.car_s))


def test_layers_place_stations_districts_people_and_incidents(
        tmp_path: Path, example_world: gridsim.World) -> None:
    lat_lon = example_world.node_lat_lon
    assert lat_lon is not None
    west, east = int(np.argmin(example_world.network.xy_m[:, 0])), int(
        np.argmax(example_world.network.xy_m[:, 0]))
    stations = _csv(tmp_path / "stations.csv", "name,lat,lon,kind", [
        f"West,{lat_lon[west, 0]},{lat_lon[west, 1]},household",
        f"East,{lat_lon[east, 0]},{lat_lon[east, 1]},street"])
    mid_lon = float(np.median(lat_lon[:, 1]))
    boundaries = tmp_path / "districts.geojson"
    boundaries.write_text(json.dumps({"type": "FeatureCollection", "features": [
        _square("Centro", -103.0, mid_lon), _square("Oriente", mid_lon, -101.0)]}))
    hot = int(np.argmin(np.abs(lat_lon[:, 1] - (mid_lon + 0.003))))  # a node east of the line
    people = _csv(tmp_path / "people.csv", "lat,lon,population", [
        f"{lat_lon[hot, 0]},{lat_lon[hot, 1]},5000",
        f"{lat_lon[west, 0]},{lat_lon[west, 1]},100"])
    extra = ('[[city.districts]]\nname = "Oriente"\npopulation = 20000\narea_km2 = 1.0\n'
             'lat = 21.88\nlon = -102.28\ncharacter = "inner_suburb"\n')
    text = EXAMPLE.read_text(encoding="utf-8").replace("[city.congestion]",
                                                       extra + "\n[city.congestion]")
    scenario_file = tmp_path / "two-districts.toml"
    scenario_file.write_text(text, encoding="utf-8")
    scenario = load_scenario(scenario_file, [
        _set("path", OSM_DATA / "aguascalientes.osm.pbf"), 'city.osm.schools=""',
        _set("stations", stations), _set("boundaries", boundaries), _set("population", people)])
    world = build_world(scenario, ArrayCache(tmp_path / "cache"))
    assert world.zones.station_node.tolist() == [west, east]
    assert world.zones.station_is_street[world.zones.station_node.tolist().index(east)]
    east_side = lat_lon[:, 1] > mid_lon
    assert np.array_equal(world.node_district == 1, east_side)
    # a station area is a travel-time Voronoi cell: no node is reached sooner from the other
    car_s = world.node_station_car_s
    assert np.all(car_s[np.arange(car_s.shape[0]), world.zones.node_station]
                  <= car_s.min(axis=1) + 1e-3)
    # people: the layer, scaled to each district's census; incidents follow them
    assert world.node_population[hot] == pytest.approx(20000)
    assert world.node_population[world.node_district == 1].sum() == pytest.approx(20000)
    incidents = generate_incidents(scenario, world.node_district, 5, None,
                                   world.incident_node_weight)
    in_east = world.node_district[incidents.node] == 1
    assert in_east.any() and np.all(incidents.node[in_east] == hot)
    summary = gridsim.run(scenario, world=world).summary["city"]
    assert "2 from" in summary["stations"] and "scaled" in summary["population"]


def _square(name: str, lon_from: float, lon_to: float) -> dict[str, object]:
    ring = [[lon_from, 21.0], [lon_to, 21.0], [lon_to, 23.0], [lon_from, 23.0],
            [lon_from, 21.0]]
    return {"type": "Feature", "properties": {"name": name},
            "geometry": {"type": "Polygon", "coordinates": [ring]}}


def test_the_import_is_cached_by_file_contents(tmp_path: Path) -> None:
    cache = ArrayCache(tmp_path / "cache")
    copy = tmp_path / "roads.osm.pbf"
    shutil.copy(OSM_DATA / "aguascalientes.osm.pbf", copy)
    scenario = load_scenario(EXAMPLE, [_set("path", copy)])
    build_world(scenario, cache)
    misses = cache.misses
    build_world(scenario, cache)
    assert cache.misses == misses  # second build: from the disk cache
    copy.write_bytes((OSM_DATA / "west-oakland.osm.bz2").read_bytes())  # same name, new data
    with pytest.raises(InputError):  # not PBF any more: read afresh, and refused
        build_world(scenario, cache)


@pytest.mark.parametrize(("setup", "expected"), [
    (lambda d: _set("path", d / "missing.osm.pbf"), "file not found"),
    (lambda d: _set("path", _truncated(d)), "cannot read as OpenStreetMap"),
    (lambda d: _set("path", _no_roads(d)), "no drivable roads"),
    (lambda d: _set("path", _write(d / "roads.shp", b"x")), "unknown road file type"),
    (lambda d: _set("stations", _csv(d / "s.csv", "name,lat", ["a,21.87"])),
     "missing column 'lon'"),
    (lambda d: _set("stations", _csv(d / "s.csv", "name,lat,lon", ["a,21.87,west"])),
     "no number in column 'lon'"),
    (lambda d: _set("stations", _csv(d / "s.csv", "name,lat,lon",
                                     ["a,21.87,-102.28", "b,21.90,-102.10"])),
     "1 of 2 points lie more than 300 m from the nearest road (b at"),
    (lambda d: _set("stations", _csv(d / "s.csv", "name,lat,lon",
                                     ["a,21.87,-102.28", "a,21.871,-102.281"])),
     "duplicate name 'a'"),
    (lambda d: _set("watch_points", _csv(d / "w.csv", "lat,lon",
                                         ["-102.28,21.87", "-102.27,21.872"])),
     "lat and lon look swapped"),
    (lambda d: _set("boundaries", _write(d / "b.geojson", json.dumps(
        {"type": "FeatureCollection", "features": [{"type": "Feature", "properties": {
            "name": "Centro"}, "geometry": {"type": "Point", "coordinates": [-102.28, 21.87]}}
        ]}).encode())), "not a Polygon or MultiPolygon"),
])
def test_bad_files_get_one_line(tmp_path: Path, setup, expected: str) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(InputError) as caught:
        _world(tmp_path, setup(tmp_path))
    message = str(caught.value)
    assert expected in message and "\n" not in message


def _write(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path


def _truncated(folder: Path) -> Path:
    data = (OSM_DATA / "aguascalientes.osm.pbf").read_bytes()
    return _write(folder / "cut.osm.pbf", data[: len(data) // 2])


def _no_roads(folder: Path) -> Path:
    return _write(folder / "buildings.osm", b"""<?xml version="1.0" encoding="UTF-8"?>
<osm version="0.6"><node id="1" lat="21.87" lon="-102.28"/><node id="2" lat="21.871"
lon="-102.28"/><node id="3" lat="21.871" lon="-102.281"/><way id="9"><nd ref="1"/>
<nd ref="2"/><nd ref="3"/><nd ref="1"/><tag k="building" v="yes"/></way></osm>""")


def test_cli_refuses_a_bad_layer_with_exit_2_and_validate_imports(tmp_path: Path) -> None:
    bad = _csv(tmp_path / "s.csv", "name,lat,lon", ["a,21.90,-102.10"])
    cmd = [sys.executable, "-m", "gridsim"]
    env_cache = {"GRIDSIM_CACHE_DIR": str(tmp_path / "cache")}
    import os

    env = {**os.environ, **env_cache}
    done = subprocess.run([*cmd, "validate", str(EXAMPLE), "--set", _set("stations", bad)],
                          capture_output=True, text=True, env=env)
    assert done.returncode == 2
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and "from the nearest road" in lines[0]
    done = subprocess.run([*cmd, "validate", str(EXAMPLE)], capture_output=True, text=True,
                          env=env)
    assert done.returncode == 0 and "road nodes from aguascalientes.osm.pbf" in done.stdout


def test_greedy_p_median_beats_random_sites() -> None:
    from gridsim.city.real_city import greedy_p_median

    rng = np.random.default_rng(2)
    xy = rng.random((3000, 2)) * 10_000.0
    weight = np.where(xy[:, 0] < 2000.0, 50.0, 1.0)  # people crowd in the west
    sites = greedy_p_median(xy, weight, 5, np.random.default_rng(1))

    def cost(chosen: np.ndarray) -> float:
        gap = np.hypot(*(xy[:, None, :] - xy[chosen][None, :, :]).transpose(2, 0, 1))
        return float((gap.min(axis=1) * weight).sum())

    random_costs = [cost(rng.choice(3000, 5, replace=False)) for _ in range(50)]
    assert cost(sites) < min(random_costs)
    assert (xy[sites, 0] < 2000.0).sum() >= 2  # sites follow the people


def test_jurisdiction_polygons_decide_station_areas(tmp_path: Path,
                                                    example_world: gridsim.World) -> None:
    lat_lon = example_world.node_lat_lon
    assert lat_lon is not None
    west, east = int(np.argmin(lat_lon[:, 1])), int(np.argmax(lat_lon[:, 1]))
    stations = _csv(tmp_path / "stations.csv", "name,lat,lon", [
        f"West,{lat_lon[west, 0]},{lat_lon[west, 1]}",
        f"East,{lat_lon[east, 0]},{lat_lon[east, 1]}"])
    polygons = tmp_path / "jurisdictions.geojson"  # West's polygon covers the whole city
    polygons.write_text(json.dumps({"type": "FeatureCollection",
                                    "features": [_square("West", -103.0, -101.0)]}))
    world = _world(tmp_path, _set("stations", stations), _set("jurisdictions", polygons))
    counts = np.bincount(world.zones.node_station, minlength=2)
    assert counts.tolist() == [world.network.node_count - 1, 1]  # East keeps its own node
    assert "jurisdictions.geojson" in gridsim.run(
        world.scenario, world=world).summary["city"]["station_areas"]
    voronoi = _world(tmp_path / "v", _set("stations", stations))
    assert np.bincount(voronoi.zones.node_station, minlength=2).min() > 50


def test_places_come_from_the_files_tags(example_world: gridsim.World, tmp_path: Path) -> None:
    from gridsim.city.places import BRIDGE, PARK, TRANSPORT_HUB, WATER_EDGE

    place = example_world.node_place
    assert place is not None
    counts = np.bincount(place, minlength=5)
    # the extract has two streams, six parks and ten bridge ways
    assert counts[WATER_EDGE] > 10 and counts[PARK] > 10 and counts[BRIDGE] > 0
    assert np.all(place[example_world.zones.station_node] == TRANSPORT_HUB)
    # Oakland's few blocks: one park, no water way
    oakland = _world(tmp_path, _set("path", OSM_DATA / "west-oakland.osm.bz2"),
                     'city.osm.schools=""')
    assert oakland.node_place is not None
    assert np.bincount(oakland.node_place, minlength=5)[WATER_EDGE] == 0
