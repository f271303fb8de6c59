"""The notebooks run from top to bottom, so they cannot rot.

They run with ``GRIDSIM_NOTEBOOK_QUICK=1``, which each long notebook reads to run fewer days,
replications or a smaller city (its first code cell says what), so the test takes seconds;
unset, as a reader runs them, they run in full.
"""

from __future__ import annotations

from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

NOTEBOOKS = sorted((Path(__file__).resolve().parents[1] / "notebooks").glob("*.ipynb"))


def test_there_are_five_notebooks() -> None:
    assert [p.stem for p in NOTEBOOKS] == [
        "01-quickstart", "02-volunteer-density", "03-staffing", "04-alert-policy",
        "05-call-logs"]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_executes(path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GRIDSIM_NOTEBOOK_QUICK", "1")  # the kernel inherits the environment
    notebook = nbformat.read(path, as_version=4)
    client = NotebookClient(notebook, timeout=300, kernel_name="python3",
                            resources={"metadata": {"path": str(path.parent)}})
    client.execute()
    outputs = [o for cell in notebook.cells if cell.cell_type == "code" for o in cell.outputs]
    assert not [o for o in outputs if o.get("output_type") == "error"]
