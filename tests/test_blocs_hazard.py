"""Bloc membership as a hazard (issue 11): status quo, eligibility, standing policies, the log,
and no credit for outcomes a scenario scripts."""

from __future__ import annotations

import copy
from typing import Any

import numpy as np
import pytest
from click.testing import CliRunner

from sim.cli import main
from sim.loader import load_tree, unwrap_sources
from sim.runner import replicate_seeds, run, run_once
from sim.schema.events import event_types
from sim.schema.examples import world_with
from sim.validation import load_scenario, resolve_scenario_path, scenario_from_dict


def plain(name: str) -> dict[str, Any]:
    data, _ = unwrap_sources(load_tree(resolve_scenario_path(name)))
    return copy.deepcopy(data)


def test_without_events_the_baseline_keeps_its_memberships_for_ten_years() -> None:
    data = plain("latam_2025")
    data["events"], data["expect"] = {}, {}
    data["time"] = {"start": "2025-01", "end": "2034-12", "unit": "month", "seed": 1}
    spec = scenario_from_dict(data).scenario
    kept = total = 0
    for r, seed in enumerate(replicate_seeds(11, 20)):
        rep = run_once(spec, seed, r, collect=False)
        for bloc in ("bloc.BRI", "bloc.BRICS"):
            c = rep.names.index(bloc)
            start, end = rep.data[0, :, c] > 0, rep.data[-1, :, c] > 0
            total += int(start.sum())
            kept += int((start & end).sum())
    assert total == 20 * 21  # 12 BRI members, 9 BRICS members among the states
    assert kept / total >= 0.99


def test_a_state_recognising_taipei_cannot_join_until_it_switches() -> None:
    spec = load_scenario("backcast_bri_2017").scenario
    for r, seed in enumerate(replicate_seeds(3, 20)):
        rep = run_once(spec, seed, r, collect=False)
        c = rep.names.index("bloc.BRI")
        for state, switch in (("GTM", None), ("PRY", None), ("PAN", "2017-06"), ("HND", "2023-03")):
            joined = np.flatnonzero(rep.data[:, rep.states.index(state), c] > 0)
            if switch is None:
                assert joined.size == 0, state
            elif joined.size:
                assert rep.labels[joined[0]] >= switch, (state, rep.labels[joined[0]])


def test_a_standing_policy_of_staying_out_holds() -> None:
    result = run(load_scenario("latam_2025"), replicates=10)
    ts = result.timeseries
    india = ts[(ts["state"] == "IND") & (ts["variable"] == "bloc.BRI")]
    assert (india["value"] == 0).all()


def test_every_bloc_decision_is_logged_with_its_numbers() -> None:
    rep = run_once(load_scenario("latam_2025").scenario, 5, collect=False)
    reviews = [r for r in rep.log if r["kind"] == "bloc_review"]
    # every state and bloc each January, unless it switched that month (then `joined`/`left`)
    januaries = sum(1 for label in rep.labels[1:] if label.endswith("-01"))
    assert len(reviews) >= januaries * len(rep.states) * 2 - 5
    numbers = {"value", "change", "hazard_join", "hazard_leave"}
    assert numbers <= set(reviews[0]["details"])
    model_joins = [r for r in rep.log if r["kind"] == "joined" and "hazard_join" in r["details"]]
    for row in model_joins:
        assert {"p", "draw"} <= set(row["details"])
        assert row["details"]["draw"] < row["details"]["p"]


EXPECTED_SETS = {
    "join": ("membership", "BOL", "BRICS"),
    "leave": ("membership", "PAN", "BRI"),
    "policy_change": ("policy",),
    "tariff": ("tariff", "USA", "MEX"),
}
"""What each event type that sets an outcome directly declares (its example's key)."""


@pytest.mark.parametrize("cls", event_types(), ids=lambda c: c.type_name())
def test_event_types_declare_the_outcomes_they_set(cls: Any) -> None:
    own = list(cls.example)[-1]
    event = cls.model_validate(cls.example[own])
    sets = event.sets()
    expected = EXPECTED_SETS.get(cls.type_name())
    if expected is None:
        assert sets == (), f"{cls.type_name()} decides nothing for the model"
    else:
        assert len(sets) == 1 and sets[0][: len(expected)] == expected[: len(sets[0])]
        assert sets[0][0] == expected[0]


def test_check_marks_a_scripted_outcome_and_does_not_count_it(tmp_path: Any) -> None:
    data = world_with(
        {"joins": {"type": "join", "date": "2025-03", "state": "BOL", "bloc": "BRICS"}}
    )
    data["expect"] = {
        "bol_in": {
            "type": "membership",
            "state": "BOL",
            "bloc": "BRICS",
            "status": "member",
            "by": "2025-06",
            "share": 0.8,
        },
        "bol_in_before": {
            "type": "membership",
            "state": "BOL",
            "bloc": "BRICS",
            "status": "none",
            "by": "2025-02",
            "share": 0.8,
        },
    }
    spec = scenario_from_dict(data).scenario
    table = run(scenario_from_dict(data), replicates=2).expectations()
    scripted = dict(zip(table["expectation"], table["scripted"], strict=True))
    assert scripted == {"bol_in": True, "bol_in_before": False}  # the join comes after 2025-02
    assert spec.expect["bol_in"].scripted_by(spec.events) == ["joins"]


def test_the_baselines_bloc_outcomes_are_the_models_decisions() -> None:
    spec = load_scenario("latam_2025").scenario
    assert not [x for x, ex in spec.expect.items() if ex.scripted_by(spec.events)]
    assert not [e for e in spec.events.values() if e.type in ("join", "leave")]
    result = CliRunner().invoke(main, ["check", "latam_2025", "-n", "3"])
    assert "scripted" not in result.output


def log_of(data: dict[str, Any], seed: int = 1) -> list[dict[str, Any]]:
    return run_once(scenario_from_dict(data).scenario, seed, collect=False).log


def test_an_invitation_is_answered_after_its_window_and_acceded_later() -> None:
    invite = {
        "type": "invite",
        "date": "2025-03",
        "bloc": "BRICS",
        "state": "BOL",
        "status": "partner",
        "answer_months": 2,
        "accession_months": 3,
    }
    log = log_of(world_with({"inv": invite}))
    rows = [
        r
        for r in log
        if r["kind"] in ("invited", "accepted", "joined", "declined")
        and "BOL" in (r["actor"], r["target"])
    ]
    kinds = [(r["kind"], r["date"]) for r in rows]
    assert kinds[0] == ("invited", "2025-03")
    assert kinds[1] == ("accepted", "2025-05")  # answered two months on
    assert kinds[2] == ("joined", "2025-08")  # confirmed at accession, three months later
    assert rows[2]["details"]["stage"] == "accession"


def test_a_new_government_between_answer_and_accession_can_reverse_it() -> None:
    invite = {
        "type": "invite",
        "date": "2025-03",
        "bloc": "BRICS",
        "state": "BOL",
        "status": "partner",
        "answer_months": 0,
        "accession_months": 6,
    }
    turn = {
        "type": "government_change",
        "date": "2025-05",
        "state": "BOL",
        "shift": {"CHN": -1.0, "USA": 1.0},
        "lasting": True,
    }
    reversed_ = 0
    for seed in range(20):
        log = log_of(world_with({"inv": invite, "gov": turn}), seed)
        accession = [
            r
            for r in log
            if r["kind"] in ("joined", "declined") and r["details"].get("stage") == "accession"
        ]
        reversed_ += any(r["kind"] == "declined" for r in accession)
    assert reversed_ >= 15  # membership lost most of its value: the answer is reversed


def test_an_unsought_offer_is_weighed_by_the_join_hazard() -> None:
    data = world_with(
        {
            "inv": {
                "type": "invite",
                "date": "2025-03",
                "bloc": "BRICS",
                "state": "MEX",
                "solicited": False,
            }
        }
    )
    data["states"]["MEX"]["no_relations"] = ["CHN"]  # it cannot join a bloc China leads
    [answer] = [
        r for r in log_of(data) if r["kind"] in ("joined", "declined") and r["actor"] == "MEX"
    ]
    assert answer["kind"] == "declined" and answer["details"]["p"] == 0.0


def test_a_member_of_a_bloc_with_a_term_leaves_only_at_renewal() -> None:
    data = world_with({})
    data["blocs"]["BRI"]["term_years"] = 1
    data["rules"] = {"blocs": {"leave_rate": 5.0}}  # members would leave at once, if they could
    log = log_of(data)
    bri = [r for r in log if r["target"] == "BRI"]
    exits = [r for r in bri if r["kind"] == "left"]
    assert {r["actor"] for r in exits} >= {"PAN", "BOL"}
    for r in exits + [r for r in bri if r["kind"] == "renewed"]:
        joins = [j["step"] for j in bri if j["kind"] == "joined" and j["actor"] == r["actor"]]
        since = max([s for s in joins if s < r["step"]], default=0)  # initial: from the start
        assert (r["step"] - since) % 12 == 0 and r["step"] > since, r


def test_a_dated_decision_is_the_models_and_is_logged_either_way() -> None:
    decide = {"type": "bloc_decision", "date": "2025-03", "state": "BRA", "bloc": "BRI"}
    outcomes = []
    for seed in range(10):
        [row] = [r for r in log_of(world_with({"d": decide}), seed) if r["kind"] == "bloc_decision"]
        assert {"value", "change", "hazard", "p", "draw", "switch"} <= set(row["details"])
        outcomes.append(row["details"]["switch"])
    assert 0 < sum(outcomes) < 10 or all(outcomes) or not any(outcomes)


def test_an_accepted_unsought_offer_is_confirmed_not_drawn_again_at_accession() -> None:
    # Mexico accepts an unsought offer only with the year's join hazard; once it has, nothing
    # changes its value before accession, so it confirms with certainty (issue 12: the offer
    # used to be drawn a second time at accession, so the hazard counted twice)
    offer = {
        "type": "invite",
        "date": "2025-03",
        "bloc": "BRICS",
        "state": "MEX",
        "status": "partner",
        "solicited": False,
        "accession_months": 4,
    }
    accepted = confirmed = 0
    for seed in range(60):
        log = log_of(world_with({"inv": offer}), seed)
        rows = [r for r in log if "MEX" in (r["actor"], r["target"]) and r["target"] != "BRI"]
        accepted += any(r["kind"] == "accepted" for r in rows)
        at_accession = [r for r in rows if r["details"].get("stage") == "accession"]
        confirmed += any(r["kind"] == "joined" for r in at_accession)
        for r in at_accession:
            assert r["details"]["p"] >= 0.9, r  # a confirmation, not a fresh year's hazard
    assert accepted > 0
    assert confirmed == accepted
