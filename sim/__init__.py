"""geosim: states and great powers trade, invest, lend, threaten and join blocs under scenario rules.

The library API (the CLI is a thin layer over it)::

    import sim
    loaded = sim.load_scenario("latam_2025", ["rules.threats.credibility=0.5"])
    result = sim.run(loaded, seed=7, replicates=20)
    result.timeseries      # long DataFrame: date, step, replicate, state, variable, value
    result.expectations()  # share of replicates meeting each `expect` entry
"""

from sim.errors import GeosimError, ResultsError, ScenarioError
from sim.model import GeoModel
from sim.run import RunResult, run
from sim.scenario import LoadedScenario, Scenario, load_scenario

__version__ = "0.1.0"

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
