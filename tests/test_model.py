"""The Mesa model: mechanisms end to end on small worlds, determinism, Mesa idioms."""

from __future__ import annotations

import json
from typing import Any

import numpy as np
import pytest

from sim.agents import GreatPower, State
from sim.model import GeoModel
from sim.runner import replicate_seeds, run, run_once
from sim.scenario import Scenario, TradeRules, scenario_from_dict


def build(d: dict[str, Any]) -> Scenario:
    return scenario_from_dict(d).scenario


def run_model(s: Scenario, seed: int = 1) -> GeoModel:
    m = GeoModel(s, rng=seed)
    for _ in range(m.calendar.steps):
        m.step()
    return m


def series(m: GeoModel, state: str, var: str) -> np.ndarray:
    return m.recorder.data[:, m.state_index[state], m.recorder.names.index(var)]


def kinds(m: GeoModel, kind: str) -> list[dict[str, Any]]:
    return [r for r in m.log.rows if r["kind"] == kind]


def test_agents_are_registered_by_type(mini: Scenario) -> None:
    m = GeoModel(mini, rng=0)
    assert len(m.agents_by_type[State]) == 4
    assert {a.code for a in m.agents_by_type[GreatPower]} == {"USA", "CHN"}
    assert len(m.agents) == 6


def test_same_seed_same_trajectory_different_seed_differs(mini: Scenario) -> None:
    a, b, c = run_model(mini, 5), run_model(mini, 5), run_model(mini, 6)
    np.testing.assert_array_equal(a.recorder.data, b.recorder.data)
    assert json.dumps(a.log.rows, default=str) == json.dumps(b.log.rows, default=str)
    assert not np.array_equal(a.recorder.data, c.recorder.data)


def test_replicate_seeds_do_not_shift_when_replicates_grow() -> None:
    assert replicate_seeds(7, 5) == replicate_seeds(7, 12)[:5]
    assert len(set(replicate_seeds(7, 100))) == 100


def test_initial_alignment_is_a_rest_point_without_events(mini_dict: dict[str, Any]) -> None:
    mini_dict["events"] = {}
    mini_dict["powers"]["USA"]["policies"] = {}
    mini_dict["rules"] = {"alignment": {"noise": 0.0}}
    for p in mini_dict["powers"].values():
        p["fdi_budget"] = p["loan_budget"] = 0.0
    mini_dict["rules"]["investment"] = {"amortisation_years": 1e9}
    mini_dict["rules"]["trade"] = {"alignment_pull": 0.0}  # trade drifting to allies moves ties
    m = run_model(build(mini_dict))
    tilt = m.recorder.data[:, :, 0]
    np.testing.assert_allclose(tilt[-1], tilt[0], atol=1e-6)


def test_given_alignment_is_used(mini_dict: dict[str, Any]) -> None:
    mini_dict["states"]["MEX"]["alignment"] = {"USA": 0.9, "CHN": 0.1}
    m = GeoModel(build(mini_dict), rng=0)
    i = m.state_index["MEX"]
    assert m.tilt()[i] == pytest.approx(-0.8)


def test_threat_compliance_changes_policy_and_membership(mini: Scenario) -> None:
    m = run_model(mini)
    assert series(m, "MEX", "policy.border_enforcement")[-1] == 1.0
    assert series(m, "MEX", "policy.border_enforcement")[0] == 0.0
    assert series(m, "PAN", "bloc.BRI")[0] == 2 and series(m, "PAN", "bloc.BRI")[-1] == 0
    complied = {(r["actor"], r["target"]) for r in kinds(m, "complied")}
    assert ("PAN", "USA") in complied and ("MEX", "USA") in complied
    threat = kinds(m, "threat")[0]
    assert {"credibility", "deadline", "demand"} <= set(threat["details"])


def test_standing_policy_threatens_violators_only(mini: Scenario) -> None:
    m = run_model(mini)
    targets = {
        r["target"] for r in kinds(m, "threat") if r["details"]["origin"].startswith("policy")
    }
    assert targets == {"BRA"}  # the only BRICS state with common_currency active


def _defiant(mini_dict: dict[str, Any], credibility: float) -> Scenario:
    mini_dict["states"]["MEX"]["policies"]["border_enforcement"]["salience"] = 0.9
    mini_dict["events"]["border"]["credibility"] = credibility
    mini_dict["events"]["border"]["interest"] = 1.0  # the US's own cost of the tariff is no bar
    mini_dict["rules"] = {"threats": {"reconsider": False}}
    # Only the border threat: the standing policy's own threats would move reputation too.
    mini_dict["powers"]["USA"]["policies"] = {}
    return build(mini_dict)


def test_defied_threat_carried_out_puts_tariff_in_force_and_cuts_exports(
    mini_dict: dict[str, Any],
) -> None:
    m = run_model(_defiant(mini_dict, 1.0))
    assert kinds(m, "defied") and kinds(m, "imposed")
    tariff = series(m, "MEX", "tariff.USA")
    assert tariff[-1] == pytest.approx(0.25)
    exports = series(m, "MEX", "exports.USA")
    at = np.flatnonzero(tariff > 0)[0]
    # the response in the first month: 1.25^-e(1 month), e between impact and one year
    first = TradeRules().elasticity_after(1 / 12)
    assert exports[at] == pytest.approx(exports[at - 1] * 1.25**-first, rel=0.01)
    assert exports[-1] < exports[at]  # then toward the larger long-run response
    to_china = series(m, "MEX", "exports.CHN")
    assert to_china[at] > to_china[at - 1]  # diversion
    assert m.power_agents[0].reputation > 1.0 - 1e-12


def test_back_down_costs_reputation(mini_dict: dict[str, Any]) -> None:
    m = run_model(_defiant(mini_dict, 0.0))
    backed = kinds(m, "backed_down")
    assert backed and series(m, "MEX", "tariff.USA").max() == 0.0
    usa = m.power_agents[m.power_index["USA"]]
    assert usa.reputation == pytest.approx(1 - m.rules.threats.reputation_loss)


def test_tariffed_state_reconsiders_and_tariff_is_lifted(mini_dict: dict[str, Any]) -> None:
    mini_dict["states"]["MEX"]["policies"]["border_enforcement"]["salience"] = 0.02
    mini_dict["events"]["border"]["credibility"] = 0.05
    mini_dict["events"]["border"]["interest"] = 1.0
    mini_dict["events"]["border"]["deadline_months"] = 0
    outcomes = []
    for seed in range(30):
        m = run_model(build(mini_dict), seed)
        if kinds(m, "imposed"):
            outcomes.append(bool(kinds(m, "tariff_lifted")))
    assert outcomes and any(outcomes)  # once the cost is certain, most give in


def test_coercion_pushes_the_target_away_from_the_sender(mini_dict: dict[str, Any]) -> None:
    mini_dict["rules"] = {"alignment": {"noise": 0.0}}
    with_threat = run_model(build(mini_dict))
    mini_dict["events"].pop("border")
    without = run_model(build(mini_dict))
    i = with_threat.state_index["MEX"]
    assert with_threat.recorder.data[6, i, 0] > without.recorder.data[6, i, 0]


def test_engagement_pulls_toward_the_engaging_power(mini_dict: dict[str, Any]) -> None:
    mini_dict["rules"] = {"alignment": {"noise": 0.0}}
    with_visit = run_model(build(mini_dict))
    mini_dict["events"].pop("wang")
    without = run_model(build(mini_dict))
    i = with_visit.state_index["BOL"]
    assert with_visit.recorder.data[-1, i, 0] > without.recorder.data[-1, i, 0]


def test_events_invite_join_leave_pledge_government_rule(mini_dict: dict[str, Any]) -> None:
    mini_dict["events"] = {
        "inv": {
            "type": "invite",
            "date": "2025-03",
            "bloc": "BRICS",
            "state": "MEX",
            "status": "partner",
        },
        "pledge": {
            "type": "pledge",
            "date": "2025-04",
            "power": "CHN",
            "state": "BOL",
            "kind": "loan",
            "amount": 1e9,
        },
        "gov": {
            "type": "government_change",
            "date": "2025-05",
            "state": "BRA",
            "shift": {"USA": 0.3, "CHN": -0.3},
            "sovereignty": 2.0,
        },
        "rule": {
            "type": "rule_change",
            "date": "2025-06",
            "path": "threats.credibility",
            "value": 0.1,
        },
        "leave": {"type": "leave", "date": "2025-07", "state": "BOL", "bloc": "BRI"},
        "pol": {
            "type": "policy_change",
            "date": "2025-08",
            "state": "BRA",
            "policy": "common_currency",
            "active": True,
        },
    }
    m = run_model(build(mini_dict))
    assert series(m, "MEX", "bloc.BRICS")[3] == 1  # accepted (nothing changed since start)
    debt = series(m, "BOL", "debt.CHN")
    assert debt[4] - debt[3] > 0.99e9
    tilt = series(m, "BRA", "tilt")
    assert tilt[5] < tilt[4] - 0.5
    assert m.rules.threats.credibility == 0.1
    assert m.alignment.sovereignty[m.state_index["BRA"]] == 2.0
    assert series(m, "BOL", "bloc.BRI")[7] == 0
    assert {r["kind"] for r in m.log.rows} >= {
        "invited",
        "joined",
        "pledge",
        "government_change",
        "rule_change",
        "left",
    }
    # the policy change sets common_currency active: a change (logged) if Brazil had dropped it
    # under the US threat before 2025-08, nothing to log if it had kept it
    bra, col = m.state_index["BRA"], m.policies.col["common_currency"]
    assert m.policies.active[bra, col] == 1.0
    dropped = any(r["kind"] == "complied" and r["actor"] == "BRA" for r in m.log.rows)
    changed = any(r["kind"] == "policy_changed" and r["actor"] == "BRA" for r in m.log.rows)
    assert changed == dropped


def test_peer_influence_pulls_neighbours_together(mini_dict: dict[str, Any]) -> None:
    mini_dict["rules"] = {"alignment": {"noise": 0.0, "peer_weight": 0.0}}
    mini_dict["events"] = {
        "gov": {
            "type": "government_change",
            "date": "2025-02",
            "state": "BRA",
            "shift": {"USA": 0.4, "CHN": -0.4},
        }
    }
    alone = run_model(build(mini_dict))
    mini_dict["rules"]["alignment"]["peer_weight"] = 0.5
    peers = run_model(build(mini_dict))
    i = alone.state_index["BOL"]
    assert peers.recorder.data[6, i, 0] < alone.recorder.data[6, i, 0]


def test_quarterly_and_yearly_steps(mini_dict: dict[str, Any]) -> None:
    for unit, steps in (("quarter", 8), ("year", 2)):
        mini_dict["time"]["unit"] = unit
        m = run_model(build(mini_dict))
        assert m.calendar.steps == steps
        assert series(m, "PAN", "bloc.BRI")[-1] == 0


def test_run_returns_long_tables(mini: Scenario) -> None:
    r = run(mini, seed=2, replicates=3)
    assert list(r.timeseries.columns) == [
        "run",
        "point",
        "replicate",
        "step",
        "date",
        "state",
        "variable",
        "value",
    ]
    assert set(r.timeseries["replicate"]) == {0, 1, 2}
    assert (r.timeseries["run"] == r.timeseries["replicate"]).all()
    assert (r.timeseries["point"] == 0).all()
    n_vars = r.timeseries["variable"].nunique()
    assert len(r.timeseries) == 3 * (mini.time.calendar().steps + 1) * 4 * n_vars
    unknown = r.timeseries.loc[r.timeseries["value"].isna(), "variable"].astype(str)
    assert unknown.str.startswith(("exports.", "imports.", "fdi.", "debt.", "policy.")).all()
    assert set(r.events.columns) >= {"replicate", "date", "kind", "actor", "target", "details"}
    assert r.expectations()["passed"].all()
    assert len(r.runs) == 3 and list(r.runs["replicate"]) == [0, 1, 2]
    assert [c for c in r.runs.columns if c.startswith("tilt.")] == [
        f"tilt.{s}@end" for s in mini.states
    ]


def test_run_once_matches_run(mini: Scenario) -> None:
    seeds = replicate_seeds(11, 2)
    rep = run_once(mini, seeds[1], 1)
    r = run(mini, seed=11, replicates=2)
    tilt = r.timeseries.query("replicate == 1 and variable == 'tilt' and state == 'BOL'")
    np.testing.assert_array_equal(tilt["value"].to_numpy(), rep.data[:, 1, 0])
