"""geosim: states and great powers trade, invest, lend, threaten and join blocs under scenarios.

The library API (the CLI is a thin layer over it)::

    import sim
    loaded = sim.load_scenario("latam_2025", ["rules.threats.credibility=0.5"])
    result = sim.run(loaded, seed=7, replicates=20)
    result.timeseries      # long DataFrame: date, step, replicate, state, variable, value
    result.expectations()  # share of replicates meeting each `expect` entry

Names are imported lazily, so `import sim.plots` (which only reads results) does not load Mesa.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

_EXPORTS = {
    "GeoModel": "sim.model",
    "GeosimError": "sim.errors",
    "LoadedScenario": "sim.scenario",
    "ResultsError": "sim.errors",
    "RunResult": "sim.runner",
    "Scenario": "sim.scenario",
    "ScenarioError": "sim.errors",
    "load_scenario": "sim.scenario",
    "run": "sim.runner",
}

__all__ = [
    "GeoModel",
    "GeosimError",
    "LoadedScenario",
    "ResultsError",
    "RunResult",
    "Scenario",
    "ScenarioError",
    "__version__",
    "load_scenario",
    "run",
]

if TYPE_CHECKING:
    from sim.errors import GeosimError, ResultsError, ScenarioError
    from sim.model import GeoModel
    from sim.runner import RunResult, run
    from sim.scenario import LoadedScenario, Scenario, load_scenario


def __getattr__(name: str) -> Any:
    """Import public names on first use."""
    if name in _EXPORTS:
        return getattr(importlib.import_module(_EXPORTS[name]), name)
    raise AttributeError(f"module 'sim' has no attribute {name!r}")
