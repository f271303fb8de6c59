"""The interactive map page in a real headless browser (Playwright driving Chromium).

Chromium comes from the system packages (``apt-get install chromium``, as ``.ci/run``
does); Playwright's own browser download is not used. Without a Chromium the test is
skipped locally and fails in CI (``CI`` set), so the page is always tested there.
"""

from __future__ import annotations

import io
import os
import shutil
from pathlib import Path

import numpy as np
import pytest
from matplotlib import image

from gridsim.cli.main import main

ROOT = Path(__file__).resolve().parents[1]
SMALL = ROOT / "scenarios" / "small.toml"


def chromium_path() -> str:
    found = os.environ.get("GRIDSIM_CHROMIUM") or shutil.which("chromium") or shutil.which(
        "chromium-browser")
    if found is None:
        if os.environ.get("CI"):
            pytest.fail("no Chromium: .ci/run installs the chromium package")
        pytest.skip("no Chromium on this machine (apt-get install chromium)")
    return found


@pytest.fixture(scope="module")
def map_page(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("map") / "run"
    assert main(["run", str(SMALL), "--quiet", "--out", str(out), "--set",
                 "coverage.cells=stations", "--set", "duration_days=2"]) == 0
    assert main(["report", str(out)]) == 0
    return out / "map.html"


def test_map_page_loads_offline_and_its_controls_change_the_drawing(map_page: Path) -> None:
    sync_api = pytest.importorskip("playwright.sync_api")
    executable = chromium_path()
    errors: list[str] = []
    requests: list[str] = []
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=executable,
                                             args=["--no-sandbox"])
        page = browser.new_page(viewport={"width": 1000, "height": 1000})
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.on("request", lambda r: requests.append(r.url))
        page.goto(map_page.as_uri())
        page.wait_for_function("window.gridsimMap && window.gridsimMap.ready", timeout=60_000)
        state = page.evaluate("({...window.gridsimMap})")
        assert state["drawnSegments"] > 1000
        canvas = "document.getElementById('map').toDataURL()"
        first = page.evaluate(canvas)
        page.select_option("#metric", "within_300")
        by_ring = page.evaluate(canvas)
        assert by_ring != first
        page.select_option("#hour", "9")
        assert page.evaluate(canvas) != by_ring
        page.select_option("#hour", "all")
        page.select_option("#group", "police")
        assert page.evaluate(canvas) != by_ring
        # the replay: at noon of day 1 incidents are open and responders on the way
        page.fill("#time", "250")
        page.dispatch_event("#time", "input")
        state = page.evaluate("({...window.gridsimMap})")
        assert state["drawnIncidents"] > 0 and state["drawnResponders"] > 0
        assert "day 1, 12:00" in page.inner_text("#clock")
        # hover over a cell's centre shows its numbers
        box = page.locator("#map").bounding_box()
        x, y = page.evaluate("window.gridsimMap.cellPixel(0)")
        page.mouse.move(box["x"] + x, box["y"] + y)
        assert page.evaluate("window.gridsimMap.hoveredCell") >= 0
        tip = page.inner_text("#tip")
        assert "residents" in tip and "incidents" in tip and "within 3 min" in tip
        shot = page.screenshot()
        browser.close()
    assert errors == []
    assert all(url.startswith(("file:", "data:")) for url in requests), requests
    pixels = image.imread(io.BytesIO(shot), format="png")
    colours = np.unique((pixels[..., :3] * 255).astype(np.uint8).reshape(-1, 3), axis=0)
    assert colours.shape[0] > 50  # roads in many colours, not a blank page
