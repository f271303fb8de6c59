"""gridsim: a discrete-event simulator of 'police + grid' public-safety response.

The stages, each a plain function::

    scenario = gridsim.load_scenario("scenarios/small.toml", ["volunteers.count=0"])
    world = gridsim.build_world(scenario)
    result = gridsim.run(scenario, seed=7, world=world)
    result.summary["first_arrival_s"]["p50"]
    table = gridsim.sweep("scenarios/small.toml", {"volunteers.count": [0, 3000]},
                          replications=10).summary.to_pandas()
"""

__version__ = "0.1.0"

from gridsim.api import RunResult, run, write_results  # noqa: E402
from gridsim.errors import InputError  # noqa: E402
from gridsim.optimize import run_optimize as optimize  # noqa: E402
from gridsim.scenario import load_scenario  # noqa: E402
from gridsim.sweeps import run_sweep as sweep  # noqa: E402
from gridsim.world import World, build_world  # noqa: E402

__all__ = [
    "InputError",
    "RunResult",
    "World",
    "__version__",
    "build_world",
    "load_scenario",
    "optimize",
    "run",
    "sweep",
    "write_results",
]
