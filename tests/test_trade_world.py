"""Trade with a rest of the world, diversion within capacity, and an alignment measure that
survives more powers (issue 10), checked on whole runs."""

from __future__ import annotations

import copy
from typing import Any

import numpy as np
import pytest

from sim.errors import ScenarioError
from sim.loader import load_tree, unwrap_sources
from sim.model import GeoModel
from sim.runner import Replicate, run_once
from sim.schema.examples import EXAMPLE_SEED, world_with
from sim.validation import resolve_scenario_path, scenario_from_dict


def baseline() -> dict[str, Any]:
    plain, _ = unwrap_sources(load_tree(resolve_scenario_path("latam_2025")))
    return copy.deepcopy(plain)


def value(rep: Replicate, state: str, variable: str, label: str) -> float:
    step = rep.labels.index(label)
    return float(rep.data[step, rep.states.index(state), rep.names.index(variable)])


def test_a_us_tariff_on_mexico_does_not_send_its_lost_exports_to_china() -> None:
    data = baseline()
    data["events"]["us_tariff_mexico"] = {
        "type": "tariff",
        "date": "2025-03",
        "sender": "USA",
        "target": "MEX",
        "rate": 0.25,
    }
    spec = scenario_from_dict(data).scenario
    china: list[float] = []
    rest: list[float] = []
    usa: list[float] = []
    for k in range(20):
        rep = run_once(spec, 100 + k, k, collect=False)
        for out, var in ((china, "exports.CHN"), (rest, "exports.ROW"), (usa, "exports.USA")):
            out.append(value(rep, "MEX", var, "2026-03") / value(rep, "MEX", var, "2025-02"))
    assert np.median(china) <= 1.5
    # no partner's imports from Mexico rise more than 50% within 12 months ...
    assert max(china) <= 1.5 and max(rest) <= 1.5
    # ... while exports to the US fall about as the one-year elasticity says (1.25^-0.76 = 0.84)
    assert np.median(usa) == pytest.approx(1.25**-0.76, abs=0.05)


def test_a_power_without_data_moves_no_tilt() -> None:
    data = baseline()
    # Bloc switches off: a bloc's value compares its leader with the *other powers*, and a new
    # power is a new alternative to weigh (a real effect on bloc decisions, not on the tilt).
    data["rules"] = {"alignment": {"noise": 0.0}, "blocs": {"join_rate": 0.0, "leave_rate": 0.0}}
    data["events"], data["expect"] = {}, {}
    for power in data["powers"].values():
        power["policies"] = {}
    with_third = copy.deepcopy(data)
    with_third["powers"]["RUX"] = {"name": "A power nobody has figures for", "gdp": 2e12}
    runs = [run_once(scenario_from_dict(d).scenario, 7, collect=False) for d in (data, with_third)]
    before, after = (r.data[:, :, r.names.index("tilt")] for r in runs)
    assert np.max(np.abs(after - before)) <= 0.02
    assert "affinity.RUX" in runs[1].names  # the new power's affinity is its own variable


def test_tilt_stays_in_range_with_three_powers() -> None:
    data = baseline()
    data["powers"]["RUX"] = {"name": "Third", "gdp": 2e12, "engagement": 5.0}
    data["states"]["BOL"]["exports"]["RUX"] = 1e9
    rep = run_once(scenario_from_dict(data).scenario, 3, collect=False)
    tilt = rep.data[:, :, rep.names.index("tilt")]
    assert np.all((tilt >= -1) & (tilt <= 1))


def test_a_total_below_the_flows_with_the_powers_is_an_error() -> None:
    data = baseline()
    data["states"]["MEX"]["exports_total"] = 4e11  # below the 4.756e11 to the US alone
    with pytest.raises(ScenarioError) as err:
        scenario_from_dict(data)
    assert "states.MEX.exports_total" in str(err.value)
    assert "more than the total" in str(err.value)


def example(events: dict[str, Any], **state: Any) -> dict[str, Any]:
    data = world_with(events)
    data["states"]["BOL"].update(state)
    return data


def tilt_path(data: dict[str, Any], state: str = "BOL") -> np.ndarray:
    data.setdefault("rules", {}).setdefault("alignment", {})["noise"] = 0.0
    rep = run_once(scenario_from_dict(data).scenario, EXAMPLE_SEED, collect=False)
    return rep.data[:, rep.states.index(state), rep.names.index("tilt")]


def test_spheres_may_be_several_with_weights_and_a_single_power_still_works() -> None:
    one = GeoModel(scenario_from_dict(example({}, sphere="USA")).scenario, rng=1)
    half = GeoModel(scenario_from_dict(example({}, sphere={"USA": 0.5})).scenario, rng=1)
    i = one.state_index["BOL"]
    assert one.alignment.sphere[i].tolist() == [1.0, 0.0]
    assert half.alignment.sphere[i].tolist() == [0.5, 0.0]
    assert half.tilt()[i] > one.tilt()[i]  # a weaker US sphere: less pull toward the US
    with pytest.raises(ScenarioError, match=r"sum to 1\.2"):
        scenario_from_dict(example({}, sphere={"USA": 0.6, "CHN": 0.6}))


def test_a_lasting_government_change_shifts_the_target_a_pulse_decays() -> None:
    shift = {"type": "government_change", "date": "2025-03", "state": "BOL", "shift": {"CHN": 0.3}}
    plain = tilt_path(example({}))
    pulse = tilt_path(example({"g": shift}))
    lasting = tilt_path(example({"g": {**shift, "lasting": True}}))
    assert lasting[3] >= pulse[3] > plain[3] + 0.2  # the same jump on the day
    assert pulse[-1] - plain[-1] < 0.5 * (pulse[3] - plain[3])  # a pulse fades
    assert lasting[-1] - plain[-1] > 0.9 * (lasting[3] - plain[3])  # a lasting shift stays


def test_an_orientation_shock_is_lasting_by_default_and_cites_a_source() -> None:
    shock = {
        "type": "orientation_shock",
        "date": "2025-03",
        "states": ["BOL"],
        "shift": {"USA": -0.2},
        "source": "example",
    }
    plain = tilt_path(example({}))
    shocked = tilt_path(example({"o": shock}))
    assert shocked[-1] - plain[-1] > 0.15
    with pytest.raises(ScenarioError, match="source"):
        scenario_from_dict(example({"o": {**shock, "source": "nowhere"}}))


def test_without_relations_a_power_has_no_engagement_and_its_visits_do_not_reach() -> None:
    visit = {"type": "engagement", "date": "2025-03", "power": "CHN", "states": ["BOL"]}
    model = GeoModel(scenario_from_dict(example({}, no_relations=["CHN"])).scenario, rng=1)
    i, j = model.state_index["BOL"], model.power_index["CHN"]
    assert model.alignment.engagement[i, j] == 0.0
    assert model.alignment.ties["engagement"][0][i, j] == 0.0
    without = tilt_path(example({"v": visit}, no_relations=["CHN"]))
    no_visit = tilt_path(example({}, no_relations=["CHN"]))
    np.testing.assert_allclose(without, no_visit)


def test_a_trade_shock_can_hit_the_rest_of_the_world() -> None:
    shock = {
        "type": "trade_shock",
        "date": "2025-06",
        "state": "BOL",
        "partner": "ROW",
        "flow": "exports",
        "factor": 0.5,
        "source": "example",
    }
    data = example({"s": shock}, exports_total=2e10, imports_total=2e10)
    rep = run_once(scenario_from_dict(data).scenario, EXAMPLE_SEED, collect=False)
    rest = rep.data[:, rep.states.index("BOL"), rep.names.index("exports.ROW")]
    assert rest[6] == pytest.approx(0.5 * rest[5], rel=0.01)
    [row] = [r for r in rep.log if r["kind"] == "trade_shock"]
    assert row["target"] == "ROW"
