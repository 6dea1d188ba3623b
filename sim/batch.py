"""`BatchGeoModel`: the model built from keyword parameters, so `mesa.batch_run` can drive it.

    mesa.batch_run(BatchGeoModel, {"scenario": "latam_2025",
                                   "rules__threats__credibility": [0.3, 0.6]},
                   iterations=5, max_steps=48, rng=...)

Keyword names are scenario paths with `__` for `.`; every other keyword is an override.
"""

from __future__ import annotations

import json
from functools import lru_cache
from typing import Any

from sim.model import GeoModel
from sim.scenario import Scenario, load_scenario


@lru_cache(maxsize=256)
def _scenario(name: str, overrides: tuple[str, ...]) -> Scenario:
    return load_scenario(name, overrides).scenario


class BatchGeoModel(GeoModel):
    """GeoModel from a scenario name or path plus `path__to__field=value` overrides."""

    def __init__(self, scenario: str = "latam_2025", rng: Any = None, **params: Any) -> None:
        overrides = tuple(
            f"{key.replace('__', '.')}={json.dumps(value)}" for key, value in sorted(params.items())
        )
        super().__init__(_scenario(scenario, overrides), rng=rng)
