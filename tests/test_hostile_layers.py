"""Layer files as a hostile user or file would give them: one line each, never a hang (issue 27).

Point layers (CSV, GeoJSON), district polygons and road graphs are read from paths a
scenario names: any bytes, any JSON, a device, a FIFO, a folder, a private file. Each
ends in a layer or in one ``InputError`` line naming the file, and no file that is not a
layer has its contents printed.
"""

from __future__ import annotations

import json
import math
import os
import signal
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import networkx as nx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gridsim.city.layers import read_points, read_polygons
from gridsim.city.osm import check_graph
from gridsim.cli.main import main
from gridsim.core.errors import InputError
from tests.conftest import SMALL

NUMBERS = st.one_of(st.floats(allow_nan=True, allow_infinity=True), st.integers(-10**400, 10**400),
                    st.just(-102.29), st.just(21.88))
JSON_LEAF = st.one_of(st.none(), st.booleans(), NUMBERS, st.text(max_size=12))
JSON = st.recursive(JSON_LEAF, lambda inner: st.one_of(
    st.lists(inner, max_size=3), st.dictionaries(st.text(max_size=6), inner, max_size=3)),
    max_leaves=8)
COORDINATES = st.one_of(JSON, st.lists(NUMBERS, max_size=3), st.just([-102.29]), st.just(5),
                        st.just([-102.29, 21.88]))
PROPERTIES = st.one_of(st.none(), JSON, st.just([1, 2]), st.fixed_dictionaries(
    {}, optional={"id": JSON_LEAF, "name": JSON_LEAF, "lat": JSON_LEAF, "population": JSON_LEAF}))
GEOMETRY = st.one_of(JSON, st.fixed_dictionaries({
    "type": st.sampled_from(["Point", "Polygon", "LineString", 5, None]),
    "coordinates": COORDINATES}))
FEATURE = st.one_of(JSON, st.just([]), st.just("Feature"), st.fixed_dictionaries(
    {"type": st.just("Feature"), "geometry": GEOMETRY, "properties": PROPERTIES}))
GEOJSON = st.one_of(JSON, st.fixed_dictionaries(
    {"type": st.just("FeatureCollection"), "features": st.lists(FEATURE, max_size=4)}))
CSV_CELL = st.one_of(st.text(max_size=8), st.sampled_from(["21.88", "-102.29", "nan", "1e999",
                                                           "", '"', "9" * 400]))


def _one_line(exc: InputError, path: Path) -> str:
    message = str(exc)
    assert "\n" not in message and "\r" not in message
    assert str(path) in message
    return message


@contextmanager
def _no_hang(seconds: int = 20) -> Iterator[None]:
    """Fail, instead of hanging, when the body blocks (a FIFO read, /dev/zero)."""
    def timeout(*_: object) -> None:
        raise AssertionError(f"blocked for {seconds} s")

    previous = signal.signal(signal.SIGALRM, timeout)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


def _check_points(path: Path) -> None:
    try:
        layer = read_points(path)
    except InputError as exc:
        _one_line(exc, path)
        return
    assert layer.count > 0
    assert all(math.isfinite(v) for v in [*layer.lat, *layer.lon])
    assert all(abs(v) <= 90 for v in layer.lat) and all(abs(v) <= 180 for v in layer.lon)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(document=GEOJSON)
def test_any_geojson_point_layer_is_points_or_one_line(document: Any) -> None:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "sites.geojson"
        path.write_text(json.dumps(document), encoding="utf-8")
        _check_points(path)


@settings(max_examples=80, deadline=None)
@given(document=GEOJSON, name=st.sampled_from(["name", "id"]))
def test_any_geojson_boundaries_are_polygons_or_one_line(document: Any, name: str) -> None:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "districts.geojson"
        path.write_text(json.dumps(document), encoding="utf-8")
        try:
            polygons = read_polygons(path, name)
        except InputError as exc:
            _one_line(exc, path)
            return
        assert polygons and all(isinstance(n, str) for n, _ in polygons)


@settings(max_examples=100, deadline=None)
@given(header=st.lists(st.sampled_from(["lat", "lon", "id", "name", "Lat", "x", ""]),
                       max_size=4),
       rows=st.lists(st.lists(CSV_CELL, max_size=5), max_size=4),
       raw=st.binary(max_size=40), encoding=st.sampled_from(["utf-8", "latin-1", "utf-16"]))
def test_any_csv_point_layer_is_points_or_one_line(header: list[str], rows: list[list[str]],
                                                   raw: bytes, encoding: str) -> None:
    text = "\n".join(",".join(cells) for cells in [header, *rows])
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "schools.csv"
        path.write_bytes(text.encode(encoding, errors="replace") + raw)
        _check_points(path)


@pytest.mark.parametrize(("document", "words"), [
    ({"type": "FeatureCollection", "features": [{"type": "Feature", "geometry": {
        "type": "Point", "coordinates": [-102.29]}, "properties": {}}]}, "coordinates"),
    ({"type": "FeatureCollection", "features": [{"type": "Feature", "geometry": {
        "type": "Point", "coordinates": 5}, "properties": {}}]}, "coordinates"),
    ({"type": "FeatureCollection", "features": [[-102.29, 21.88]]}, "feature 0 is an array"),
    ({"type": "FeatureCollection", "features": [{"type": "Feature", "geometry": {
        "type": "Point", "coordinates": [-102.29, 21.88]}, "properties": [1]}]},
     "properties are an array"),
])
def test_the_reported_geojson_shapes_are_one_line(tmp_path: Path, document: Any,
                                                  words: str) -> None:
    path = tmp_path / "extra.geojson"
    path.write_text(json.dumps(document))
    with pytest.raises(InputError, match=words) as caught:
        read_points(path)
    _one_line(caught.value, path)


def test_boundaries_with_a_string_feature_are_one_line(tmp_path: Path) -> None:
    path = tmp_path / "districts.geojson"
    path.write_text(json.dumps({"type": "FeatureCollection", "features": ["Centro"]}))
    with pytest.raises(InputError, match="feature 0 is a string") as caught:
        read_polygons(path, "name")
    _one_line(caught.value, path)


@pytest.mark.parametrize("kind", ["fifo", "device", "folder"])
def test_a_layer_that_is_no_regular_file_is_refused_without_reading(tmp_path: Path,
                                                                    kind: str) -> None:
    path = {"device": Path("/dev/zero"), "folder": tmp_path}.get(kind, tmp_path / "pipe.csv")
    if kind == "fifo":
        os.mkfifo(path)
    with _no_hang(), pytest.raises(InputError, match="not a regular file") as caught:
        read_points(path)
    _one_line(caught.value, path)


def test_a_run_with_a_fifo_layer_is_one_line_and_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    fifo = tmp_path / "sites.csv"
    os.mkfifo(fifo)
    with _no_hang():
        code = main(["run", str(SMALL), "--quiet", "--out", str(tmp_path / "out"), "--set",
                     f"watch_points.extra_sites={fifo}"])
    err = capsys.readouterr().err
    assert code == 2 and err.count("\n") == 1 and "FIFO" in err, err
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("secret", ["root:x:0:0:root:/root:/bin/bash",
                                    "api_key=sk-live-0123456789abcdef",
                                    "-----BEGIN OPENSSH PRIVATE KEY-----"])
def test_a_file_that_is_no_layer_is_not_echoed(tmp_path: Path, secret: str) -> None:
    for name in ("passwd", "key.csv", "key.geojson"):
        path = tmp_path / name
        path.write_text(f"{secret}\nmore private text\n")
        with pytest.raises(InputError) as caught:
            read_points(path)
        message = _one_line(caught.value, path)
        assert secret not in message and "private" not in message and secret[:8] not in message


def test_a_graphml_whose_nodes_lack_coordinates_is_one_line(tmp_path: Path) -> None:
    graph = nx.MultiDiGraph(simplified=True)
    graph.add_node(1, x=-102.29, y=21.88)
    graph.add_node(2)  # no x, no y
    graph.add_edge(1, 2, length=100.0, highway="residential")
    with pytest.raises(InputError, match="1 of 2 nodes have no x/y") as caught:
        check_graph(tmp_path / "roads.graphml", graph)
    _one_line(caught.value, tmp_path / "roads.graphml")
    graph.nodes[2].update(x=-102.28, y=21.89)
    graph.edges[1, 2, 0]["length"] = "far"
    with pytest.raises(InputError, match="no length"):
        check_graph(tmp_path / "roads.graphml", graph)
    graph.edges[1, 2, 0]["length"] = 100.0
    check_graph(tmp_path / "roads.graphml", graph)  # a good graph passes
