"""`BatchGeoModel`: the model built from keyword parameters, so `mesa.batch_run` can drive it.

    mesa.batch_run(BatchGeoModel, {"scenario_name": "latam_2025",
                                   "rules__threats__credibility": [0.3, 0.6]},
                   iterations=5, max_steps=48, rng=...)

Keyword names are scenario paths with `__` for `.`; every other keyword is an override.

`scenario` is Mesa's keyword: Mesa 3.5's SolaraViz passes `scenario=<mesa Scenario>` to any
model whose `__init__` takes `scenario` or `**kwargs` when it resets the page. Such a Scenario
is taken for what Mesa means by it, a seed and parameters: its `rng` seeds the model unless
`rng` is given, and its other parameters are overrides like the keywords. A string passed as
`scenario` is the old name of `scenario_name` (deprecated; it goes in the next release).
"""

from __future__ import annotations

import json
import warnings
from functools import lru_cache
from typing import Any

from mesa.experimental.scenarios import Scenario as MesaScenario

from sim.model import GeoModel
from sim.scenario import Scenario, load_scenario


@lru_cache(maxsize=256)
def _scenario(name: str, overrides: tuple[str, ...]) -> Scenario:
    return load_scenario(name, overrides).scenario


class BatchGeoModel(GeoModel):
    """GeoModel from a scenario name or path plus `path__to__field=value` overrides."""

    def __init__(
        self,
        scenario_name: str = "latam_2025",
        rng: Any = None,
        scenario: MesaScenario[Any] | str | None = None,
        **params: Any,
    ) -> None:
        if isinstance(scenario, MesaScenario):
            given = {k: v for k, v in scenario if k != "rng"}
            params = {**given, **params}
            rng = scenario.rng if rng is None else rng
        elif scenario is not None:
            warnings.warn(
                "BatchGeoModel(scenario=...) is deprecated and will be removed in the next "
                "release; use scenario_name=... (Mesa reserves `scenario`)",
                DeprecationWarning,
                stacklevel=2,
            )
            scenario_name = scenario
        overrides = tuple(
            f"{key.replace('__', '.')}={json.dumps(value)}" for key, value in sorted(params.items())
        )
        super().__init__(_scenario(scenario_name, overrides), rng=rng)
