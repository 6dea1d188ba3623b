"""`BatchGeoModel`: driven by `mesa.batch_run`, rebuilt by Mesa's SolaraViz reset, and the
deprecated `scenario=` keyword."""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Any

import mesa
import pytest
from mesa.experimental.scenarios import Scenario as MesaScenario

from sim.batch import BatchGeoModel
from sim.runner import run_once
from sim.scenario import load_scenario

CRED = "rules.threats.credibility"


def test_mesa_batch_run_matches_run_once(mini_file: Path) -> None:
    with warnings.catch_warnings():
        for category in (DeprecationWarning, PendingDeprecationWarning, FutureWarning):
            warnings.simplefilter("error", category)
        rows = mesa.batch_run(
            BatchGeoModel,
            {"scenario_name": str(mini_file), "rules__threats__credibility": [0.3, 0.9]},
            rng=[1, 2],
            max_steps=100,
            number_processes=1,
            display_progress=False,
        )
    horizon = load_scenario(mini_file).scenario.time.calendar().steps
    assert horizon == 24
    combos = {(row["rules__threats__credibility"], row["rng"]) for row in rows}
    assert combos == {(0.3, 1), (0.3, 2), (0.9, 1), (0.9, 2)} and len(rows) == 4
    for row in rows:
        assert row["Step"] == horizon  # stopped at the horizon, not at max_steps
        cred = row["rules__threats__credibility"]
        spec = load_scenario(mini_file, [f"{CRED}={cred}"]).scenario
        rep = run_once(spec, seed=row["rng"])
        assert row["mean_tilt"] == rep.model_vars["mean_tilt"][-1]


def test_survives_solaraviz_reset_which_passes_mesa_s_own_scenario(mini_file: Path) -> None:
    params: dict[str, Any] = {
        "scenario_name": str(mini_file),
        "rng": 4,
        "rules__threats__credibility": 0.3,
    }
    model = BatchGeoModel(**params)
    # What Mesa 3.5's SolaraViz reset does (`_build_model_init_kwargs`): the page's parameters,
    # plus `scenario=` a fresh instance of the model's Scenario class, because `__init__` takes
    # `**kwargs`. Parameters it does not know (rng is ours) go to the model, not the Scenario.
    assert isinstance(model.scenario, MesaScenario)
    kwargs = {**params, "scenario": type(model.scenario)()}
    with warnings.catch_warnings():
        warnings.simplefilter("error", DeprecationWarning)
        again = type(model)(**kwargs)
    assert again.spec == model.spec
    assert again.spec.rules.threats.credibility == 0.3
    tables = []
    for m in (model, again):
        m.run_model()
        tables.append(m.datacollector.get_model_vars_dataframe())
    assert len(tables[0]) == 25 and tables[0].equals(tables[1])  # same seed, same run


def test_a_mesa_scenario_s_seed_and_parameters_are_used(mini_file: Path) -> None:
    given = MesaScenario(rng=4, rules__threats__credibility=0.3)
    from_scenario = BatchGeoModel(scenario_name=str(mini_file), scenario=given)
    from_keywords = BatchGeoModel(
        scenario_name=str(mini_file), rng=4, rules__threats__credibility=0.3
    )
    assert from_scenario.spec == from_keywords.spec
    assert from_scenario.rng.random() == from_keywords.rng.random()


def test_scenario_keyword_still_works_with_a_deprecation_warning(mini_file: Path) -> None:
    with pytest.warns(DeprecationWarning, match=r"scenario=.*deprecated.*scenario_name"):
        old = BatchGeoModel(scenario=str(mini_file), rng=2, rules__threats__credibility=0.9)
    new = BatchGeoModel(scenario_name=str(mini_file), rng=2, rules__threats__credibility=0.9)
    assert old.spec == new.spec and old.spec.meta.name == "mini"
