"""gridsim: a discrete-event simulator of 'police + grid' public-safety response.

The stages, each a plain function::

    scenario = gridsim.load_scenario("scenarios/small.toml", ["volunteers.count=0"])
    world = gridsim.build_world(scenario)
    result = gridsim.run(scenario, seed=7, world=world)
    result.summary["first_arrival_s"]["p50"]
    table = gridsim.sweep("scenarios/small.toml", {"volunteers.count": [0, 3000]},
                          replications=10).summary.to_pandas()
    indices = gridsim.sensitivity("scenarios/small.toml",
                                  {"police.patrol_units": (12, 36)}).indices.to_pandas()

The names are imported on first use, so ``import gridsim`` (and the command line's start,
where Ctrl-C must be answered cleanly) stays fast.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from gridsim.core.version import __version__

_EXPORTS = {  # public name: (module, attribute)
    "InputError": ("gridsim.core.errors", "InputError"),
    "RunResult": ("gridsim.api", "RunResult"),
    "World": ("gridsim.world.build", "World"),
    "build_world": ("gridsim.world.build", "build_world"),
    "load_scenario": ("gridsim.scenario", "load_scenario"),
    "optimize": ("gridsim.studies.staffing", "run_optimize"),
    "run": ("gridsim.api", "run"),
    "sensitivity": ("gridsim.studies.sensitivities", "run_sensitivity"),
    "sweep": ("gridsim.studies.sweeps", "run_sweep"),
    "write_results": ("gridsim.api", "write_results"),
}

if TYPE_CHECKING:
    from gridsim.api import RunResult, run, write_results
    from gridsim.core.errors import InputError
    from gridsim.scenario import load_scenario
    from gridsim.studies.sensitivities import run_sensitivity as sensitivity
    from gridsim.studies.staffing import run_optimize as optimize
    from gridsim.studies.sweeps import run_sweep as sweep
    from gridsim.world.build import World, build_world

__all__ = [
    "InputError",
    "RunResult",
    "World",
    "__version__",
    "build_world",
    "load_scenario",
    "optimize",
    "run",
    "sensitivity",
    "sweep",
    "write_results",
]


def __getattr__(name: str) -> Any:
    """Return a public name of the package, importing its module on first use."""
    if name not in _EXPORTS:
        raise AttributeError(f"module 'gridsim' has no attribute {name!r}")
    module, attribute = _EXPORTS[name]
    value = getattr(importlib.import_module(module), attribute)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    """Return the public names (for tab completion)."""
    return sorted([*globals(), *_EXPORTS])
