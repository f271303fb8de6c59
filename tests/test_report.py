"""The HTML report and its figures, from a real results folder."""

from __future__ import annotations

import base64
import re
from pathlib import Path

import pytest

from gridsim.cli.main import main
from tests.conftest import SMALL


@pytest.fixture(scope="module")
def results_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("results") / "small"
    assert main(["run", str(SMALL), "--quiet", "--out", str(out), "--report"]) == 0
    return out


def test_run_report_writes_a_self_contained_page(results_dir: Path) -> None:
    page = (results_dir / "report.html").read_text(encoding="utf-8")
    images = re.findall(r"src='data:image/png;base64,([A-Za-z0-9+/=]+)'", page)
    assert len(images) == 5  # the ring-coverage map is the fifth
    for data in images:
        assert base64.b64decode(data).startswith(b"\x89PNG")
    assert "http://" not in page and "https://" not in page  # nothing fetched
    for text in ("gridsim report: small", "run time", "By incident type", "By district",
                 "Old Town", "first arrival", "police arrival"):
        assert text in page


def test_report_command_rewrites_it_elsewhere(results_dir: Path, tmp_path: Path) -> None:
    out = tmp_path / "other.html"
    assert main(["report", str(results_dir), "--out", str(out)]) == 0
    assert "not recorded" in out.read_text(encoding="utf-8")


def test_report_of_a_missing_folder_is_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["report", str(tmp_path / "nothing")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "not a results folder" in err
