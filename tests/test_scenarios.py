"""Shipped scenarios: the baseline reproduces the article; counterfactuals move the right way."""

from __future__ import annotations

from functools import cache

import numpy as np
import pandas as pd
import pytest

from sim.runner import RunResult, run
from sim.scenario import builtin_scenarios_dir, load_scenario

N = 20


@cache
def result(name: str, replicates: int = N) -> RunResult:
    return run(load_scenario(name), replicates=replicates)


def final(r: RunResult, state: str, variable: str) -> pd.Series:
    ts = r.timeseries
    last = ts["step"].max()
    sel = ts[(ts["state"] == state) & (ts["variable"] == variable) & (ts["step"] == last)]
    values: pd.Series = sel.set_index("replicate")["value"]
    return values


def test_every_shipped_scenario_loads() -> None:
    files = sorted(builtin_scenarios_dir().glob("*.yaml"))
    assert len(files) >= 4
    for f in files:
        load_scenario(f)


ARTICLE_OUTCOMES = {
    "pan_leaves_bri",
    "bra_drops_common_currency",
    "bra_stays_in_brics",
    "no_tariff_on_brazil",
    "mexico_complies",
    "colombia_complies",
    "bolivia_stays_brics_partner",
    "bolivia_tilts_to_china",
}
"""The article's outcomes the baseline states as expectations."""

REPORTED_MISSES = {"bra_drops_common_currency", "no_tariff_on_brazil", "colombia_complies"}
"""Article outcomes the baseline does NOT reproduce with a-priori inputs and calibrated rules
(MODEL.md, "What the baseline reproduces"): reported, not tuned away. If one starts to pass (or
another starts to fail), update MODEL.md and this set together."""


def test_baseline_reproduces_the_article_except_the_reported_misses() -> None:
    # The replicates and seed of the report (`geosim check latam_2025 -n 100`): with 20, an
    # outcome near the 80% bar (Bolivia's drift to China, 85%) passes or fails by seed noise.
    table = result("latam_2025", 100).expectations()
    assert set(table["expectation"]) >= ARTICLE_OUTCOMES
    failed = set(table.loc[~table["passed"], "expectation"])
    assert failed == REPORTED_MISSES, table[["expectation", "share", "required"]]


def test_baseline_uses_the_articles_numbers() -> None:
    s = load_scenario("latam_2025").scenario
    assert s.states["BOL"].debt["CHN"] == 1.7e9
    assert s.states["BOL"].fdi == {"USA": 4.3e8, "CHN": 6.0e9}
    assert s.states["BRA"].exports["USA"] == 3.7e10
    bra_china, bra_us = s.states["BRA"].exports["CHN"], s.states["BRA"].exports["USA"]
    assert bra_china is not None and bra_us is not None
    assert bra_china - bra_us == pytest.approx(6.73e10)  # "nearly $70 billion more"
    assert s.powers["USA"].policies["brics_dedollarisation"].tariff == 1.0
    # Bolivia's BRICS partnership: an invitation answering its application (the model answers)
    assert "BOL" in [e.state for e in s.events.values() if e.type == "invite"]


def test_counterfactuals_extend_the_baseline() -> None:
    for name in (
        "counterfactual_brics_tariff_imposed",
        "counterfactual_no_us_pressure",
        "counterfactual_china_doubles_lending",
    ):
        loaded = load_scenario(name)
        assert loaded.files[-1].endswith("latam_2025.yaml")
        assert loaded.scenario.meta.name == name


def test_without_us_pressure_panama_stays_in_the_bri() -> None:
    base = final(result("latam_2025"), "PAN", "bloc.BRI")
    calm = final(result("counterfactual_no_us_pressure"), "PAN", "bloc.BRI")
    assert (base == 0).mean() >= 0.8
    assert (calm == 2).mean() >= 0.8
    assert (
        final(result("counterfactual_no_us_pressure"), "PAN", "tilt").median()
        > final(result("latam_2025"), "PAN", "tilt").median()
    )


def test_carrying_out_the_brics_tariff_pushes_brazil_toward_china() -> None:
    base, hit = result("latam_2025"), result("counterfactual_brics_tariff_imposed")
    assert final(hit, "BRA", "tariff.USA").eq(1.0).all()
    assert (
        final(hit, "BRA", "exports.USA").median() < 0.5 * final(base, "BRA", "exports.USA").median()
    )
    assert final(hit, "BRA", "exports.CHN").median() > final(base, "BRA", "exports.CHN").median()
    assert final(hit, "BRA", "tilt").median() > final(base, "BRA", "tilt").median() + 0.02


def test_doubling_chinese_lending_raises_debt_and_tilt() -> None:
    base, more = result("latam_2025"), result("counterfactual_china_doubles_lending")
    states = ["ARG", "ECU", "VEN", "BOL", "BRA"]
    for st in states:
        assert final(more, st, "debt.CHN").median() > final(base, st, "debt.CHN").median()
    shift = [final(more, st, "tilt").median() - final(base, st, "tilt").median() for st in states]
    assert np.mean(shift) > 0
