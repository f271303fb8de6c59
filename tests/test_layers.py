"""The package's shape: no import cycle between any two modules, the layers contract kept."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import grimp
import networkx as nx
import pytest


def test_no_module_takes_part_in_an_import_cycle() -> None:
    graph = grimp.build_graph("gridsim")
    imports = nx.DiGraph()
    for module in graph.modules:
        for imported in graph.find_modules_directly_imported_by(module):
            imports.add_edge(module, imported)
    cycles = [sorted(c) for c in nx.strongly_connected_components(imports) if len(c) > 1]
    assert cycles == []


def test_a_cycle_would_be_found() -> None:  # the check above can fail
    graph = nx.DiGraph([("a", "b"), ("b", "c"), ("c", "a")])
    assert [len(c) for c in nx.strongly_connected_components(graph)] == [3]


def test_the_layers_contract_is_kept() -> None:
    root = Path(__file__).resolve().parents[1]
    linter = Path(sys.executable).with_name("lint-imports")
    if not linter.exists():
        pytest.skip("import-linter is not installed")
    done = subprocess.run([str(linter)], cwd=root, capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stdout[-3000:]


def test_no_backend_is_chosen_on_import() -> None:
    code = ("import matplotlib; import gridsim.report.html, gridsim.report.figures, "
            "gridsim.cli.main; print(matplotlib.rcParams._get_backend_or_none())")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          check=True, env={"MPLBACKEND": "", "PATH": "/usr/bin"})
    assert done.stdout.strip() == "None"
