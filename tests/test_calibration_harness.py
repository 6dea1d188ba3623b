"""The calibration harness (issue 9, step 2): episodes as model runs, outcome classes from the
log, batched worlds equal to one world per episode, scores with bootstrap intervals, the fitting
procedure and `geosim calibrate`."""

from __future__ import annotations

import json
import math
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from click.testing import CliRunner
from scipy.stats import chi2_contingency

from sim.calibration import targets as targets_module
from sim.calibration.episodes import (
    Context,
    Row,
    batch_scenario,
    classify,
    outright_event,
    rows_by_state,
    state_code,
    threat_event,
)
from sim.calibration.fit import Parameter, available, loss, minimise
from sim.calibration.harness import (
    make_context,
    run_episodes,
    split_overrides,
    with_values,
)
from sim.calibration.mechanisms import MECHANISMS, below_min_share, fired
from sim.calibration.population import Episode, expand, load_population
from sim.calibration.scores import base_rates, bootstrap_counts, score_targets
from sim.calibration.targets import OUTCOMES, Outcome, Targets, load_targets
from sim.cli import main
from sim.errors import ScenarioError
from sim.runner import run_once
from sim.vocabulary import LogKind


@pytest.fixture(scope="module")
def population_and_targets() -> tuple[Any, Targets]:
    return load_population(), load_targets()


@pytest.fixture(scope="module")
def context(population_and_targets: tuple[Any, Targets]) -> Context:
    pop, tg = population_and_targets
    return make_context(pop, tg)


def scored(n_per_pair: int, seed: int) -> list[Episode]:
    return [e for e in expand(n_per_pair, seed) if e.scored]


# ------------------------------------------------------------------ outcome classes from the log


def row(kind: str, **details: Any) -> Row:
    return {"step": 1, "date": "2025-01", "kind": kind, "actor": "x", "target": "y",
            "details": details}  # fmt: skip


THREAT, DEFIED, IMPOSED = row(LogKind.THREAT), row(LogKind.DEFIED), row(LogKind.IMPOSED)
CASES: dict[Outcome, list[Row]] = {
    "complied_at_threat": [THREAT, row(LogKind.COMPLIED, after_imposition=False)],
    "backed_down": [THREAT, DEFIED, row(LogKind.BACKED_DOWN)],
    "complied_after_imposition": [
        THREAT,
        DEFIED,
        IMPOSED,
        row(LogKind.TARIFF_IMPOSED),
        row(LogKind.COMPLIED, after_imposition=True),
        row(LogKind.TARIFF_LIFTED),
    ],
    "lifted": [THREAT, DEFIED, IMPOSED, row(LogKind.LIFTED), row(LogKind.TARIFF_LIFTED)],
    "imposed_ongoing": [THREAT, DEFIED, IMPOSED, row(LogKind.TARIFF_IMPOSED)],
    "pending": [THREAT, DEFIED],
}


@pytest.mark.parametrize("outcome", OUTCOMES)
def test_each_outcome_class_is_read_from_hand_built_log_rows(outcome: Outcome) -> None:
    assert classify(CASES[outcome]) == outcome


def test_a_log_without_a_threat_is_refused_and_compliance_without_the_flag_uses_history() -> None:
    with pytest.raises(ValueError, match="no threat"):
        classify([DEFIED])
    assert classify([THREAT, DEFIED, IMPOSED, row(LogKind.COMPLIED)]) == (
        "complied_after_imposition"
    )


def test_mechanisms_fire_from_log_rows() -> None:
    flags = fired(CASES["complied_after_imposition"])
    assert flags["sender_imposes"] and flags["reconsideration_yields"]
    assert not flags["target_yields_at_threat"] and not flags["sender_backs_down"]
    debt = [THREAT, row(LogKind.DEFIED, credibility=0.6, exposure=0.01, cost_defy=0.009)]
    assert fired(debt)["debt_leverage"]
    assert not fired(CASES["pending"])["debt_leverage"]
    assert set(MECHANISMS) == set(flags)
    rewrite = [
        THREAT,
        row(LogKind.DEFIED, cost_debt=0.0, cost_officials=0.001, black_knight=0.2),
        row(LogKind.IMPOSED, resolve_change=1.3),
        row("retaliated"),
        row(LogKind.LIFTED, review=True),
    ]
    flags = fired(rewrite)
    assert not flags["debt_leverage"]  # the rewrite's cost_debt detail decides
    names = [
        "retaliation",
        "sanctions_on_officials",
        "black_knight",
        "rally",
        "sender_review_lifts",
    ]
    assert all(flags[name] for name in names)
    assert not any(fired(CASES["backed_down"])[name] for name in names)


MECHANISM_CASES: dict[str, tuple[list[Row], list[Row]]] = {
    "coverage_below_one": (
        [row(LogKind.THREAT, tariff=0.2, coverage=0.4)],
        [row(LogKind.THREAT, tariff=0.2, coverage=1.0), row(LogKind.THREAT, coverage=0.4)],
    ),
    "withheld_lending": (
        [THREAT, row(LogKind.DEFIED, cost_lending=0.002)],
        # only the first answer counts: the cost entered the decision (not any later row)
        [THREAT, row(LogKind.DEFIED, cost_lending=0.0), row(LogKind.IMPOSED, cost_lending=1.0)],
    ),
    "financial_pressure": (
        [THREAT, row(LogKind.COMPLIED, cost_financial=0.01)],
        [THREAT, row(LogKind.DEFIED, cost_tariff=0.01)],
    ),
    "imposed_rate_differs": (
        [THREAT, DEFIED, row(LogKind.IMPOSED, tariff=0.5, imposed_rate=0.25)],
        [
            row(LogKind.THREAT, tariff=0.5, imposed_rate=0.25),  # threatened, never carried out
            row(LogKind.IMPOSED, tariff=0.5, imposed_rate=0.5),
        ],
    ),
    "schedule_steps": (
        [IMPOSED, row(LogKind.TARIFF_IMPOSED, rate=0.5, scheduled=True, after_months=6)],
        [IMPOSED, row(LogKind.TARIFF_IMPOSED, rate=0.25)],
    ),
    "non_tariff_reconsideration_yields": (
        [
            IMPOSED,
            row(
                LogKind.COMPLIED,
                after_imposition=True,
                reconsidered=True,
                cost_tariff=0.01,
                cost_officials=0.001,
            ),
        ],
        [
            IMPOSED,
            row(LogKind.COMPLIED, after_imposition=True, reconsidered=True, cost_tariff=0.01),
            row(LogKind.COMPLIED, after_imposition=False, cost_financial=0.01),
        ],
    ),
    "outright_tariff_coercion": (
        [row(LogKind.TARIFF_IMPOSED, outright=True, coercion_memory=-0.15), THREAT],
        [row(LogKind.TARIFF_IMPOSED, rate=0.25, reason="t_E00001"), THREAT],
    ),
    "resolve_hardens": (
        [IMPOSED, row(LogKind.IMPOSED, resolve_change=1.2)],
        [row(LogKind.IMPOSED, resolve_change=1.04), row(LogKind.IMPOSED, resolve_change=0.7)],
    ),
    "resolve_erodes": (
        [row(LogKind.IMPOSED, resolve_change=0.8)],
        [row(LogKind.IMPOSED, resolve_change=0.96), row(LogKind.IMPOSED, resolve_change=1.3)],
    ),
}
"""For each added mechanism: rows on which it fires, and rows (each alone) on which it must not."""


@pytest.mark.parametrize("name", sorted(MECHANISM_CASES))
def test_each_added_mechanism_fires_on_its_trace_and_not_without_it(name: str) -> None:
    yes, no = MECHANISM_CASES[name]
    assert fired(yes)[name]
    for r in no:
        assert not fired([r])[name], r
    assert not fired(no)[name]
    assert not fired(CASES["backed_down"])[name]


def test_every_mechanism_is_reported_and_the_ones_below_the_minimum_are_named() -> None:
    expected = {
        "coverage_below_one", "withheld_lending", "financial_pressure", "imposed_rate_differs",
        "schedule_steps", "non_tariff_reconsideration_yields", "outright_tariff_coercion",
        "resolve_hardens", "resolve_erodes", "sender_lifts", "sender_review_lifts",
    }  # fmt: skip
    assert expected <= set(MECHANISMS)
    assert below_min_share({"a": 0.049, "b": 0.05, "c": 0.2}) == ["a"]


# ------------------------------------------------------------------ episodes as worlds


def test_a_batch_world_holds_one_state_and_one_threat_per_episode(context: Context) -> None:
    episodes = scored(1, seed=3)[:5]
    scenario = batch_scenario(episodes, context).scenario
    assert list(scenario.states) == [state_code(k) for k in range(5)] == ["E00001", *[
        f"E0000{k}" for k in range(2, 6)]]  # fmt: skip
    assert set(scenario.powers) == {"USA", "CHN"} and not scenario.blocs
    assert all(p.fdi_budget == 0 and p.loan_budget == 0 for p in scenario.powers.values())
    assert scenario.rules.threats.reputation_loss == scenario.rules.threats.reputation_gain == 0
    assert scenario.time.steps == 24
    first = scenario.states["E00001"]
    level = episodes[0].salience_level
    assert first.policies["demand"].salience == context.salience[level]
    assert first.sovereignty == episodes[0].sovereignty
    threats = [e for e in scenario.events.values() if e.type == "threat"]
    outright = [e for e in scenario.events.values() if e.type == "tariff"]
    assert len(threats) == 5 and len(outright) == sum(e.outright for e in episodes)


def test_threat_event_maps_every_stake_and_the_world_validates(context: Context) -> None:
    base = scored(1, seed=3)[0]
    full = replace(
        base,
        outright=False,
        export_coverage=0.4,
        imposed_rate=0.25,
        schedule=((6, 0.5),),
        withhold_lending=True,
        withheld_lending_share=0.6,
        sanctions_on_officials=True,
        financial_pressure=True,
        financial_pressure_share=0.01,
    )
    event = threat_event(full, "E00001", context)
    assert event["coverage"] == 0.4 and event["imposed"] == 0.25
    assert event["schedule"] == [{"after_months": 6, "rate": 0.5}]
    assert event["withhold_lending"] == 0.6 and event["sanctions_officials"] is True
    assert event["financial_pressure"] == 0.01
    assert event["deadline_months"] == context.deadline_months and "credibility" not in event
    assert outright_event(full, "E00001") is None
    plain = replace(
        full,
        imposed_rate=None,
        schedule=(),
        withhold_lending=False,
        sanctions_on_officials=False,
        financial_pressure=False,
    )
    assert not {"imposed", "schedule", "withhold_lending", "sanctions_officials",
                "financial_pressure"} & set(threat_event(plain, "E00001", context))  # fmt: skip
    batch_scenario([full, plain], context)  # the schema accepts every mapped field


def test_an_outright_episode_starts_with_the_tariff_in_force(context: Context) -> None:
    base = scored(1, seed=3)[0]
    episode = replace(base, outright=True, imposed_rate=0.1, schedule=((6, 0.2),))
    tariff = outright_event(episode, "E00001")
    assert tariff == {"type": "tariff", "date": "2025-01", "sender": base.sender,
                      "target": "E00001", "rate": 0.1}  # fmt: skip
    threat = threat_event(episode, "E00001", context)
    assert threat["deadline_months"] == 0 and threat["credibility"] == 1.0
    scenario = batch_scenario([episode], context).scenario
    assert list(scenario.events) == ["o_E00001", "t_E00001"]  # the tariff first, in file order
    rep = run_once(scenario, 7, collect=False)
    rows = rows_by_state(rep.log, ["E00001"])[0]
    assert rows[0]["kind"] == LogKind.TARIFF_IMPOSED and rows[0]["details"]["outright"] is True
    assert fired(rows)["outright_tariff_coercion"]
    assert classify(rows) in ("complied_after_imposition", "lifted", "imposed_ongoing")


def test_outright_episodes_are_imposed_from_the_start() -> None:
    start = row(LogKind.TARIFF_IMPOSED, outright=True, coercion_memory=-0.15)
    assert classify([start, THREAT, row(LogKind.COMPLIED, after_imposition=False)]) == (
        "complied_after_imposition"
    )
    # the sender declines to tie the demand to it, but the outright tariff stays in force
    assert classify([start, THREAT, DEFIED, row(LogKind.BACKED_DOWN)]) == "imposed_ongoing"
    assert classify([start, THREAT, DEFIED, IMPOSED, row(LogKind.LIFTED)]) == "lifted"
    # a tariff raised after the threat (a schedule) does not make the episode outright
    later = [THREAT, row(LogKind.TARIFF_IMPOSED, outright=True), row(LogKind.BACKED_DOWN)]
    assert classify(later) == "backed_down"


def _first_probabilities(episodes: list[Episode], context: Context, seed: int) -> list[float]:
    loaded = batch_scenario(episodes, context)
    rep = run_once(loaded.scenario, seed, collect=False)
    codes = [state_code(k) for k in range(len(episodes))]
    return [
        next(r["details"]["p"] for r in rows if r["kind"] in ("complied", "defied"))
        for rows in rows_by_state(rep.log, codes)
    ]


def test_batched_and_single_worlds_give_each_episode_the_same_decision(context: Context) -> None:
    """Exact: the target's first decision reads only its own row, so its probability of
    complying is the same whether the episode shares a world or has one to itself."""
    episodes = scored(1, seed=11)
    together = _first_probabilities(episodes, context, seed=5)
    alone = [_first_probabilities([e], context, seed=5)[0] for e in episodes]
    assert together == alone


def test_batched_and_single_worlds_give_the_same_outcome_distribution(context: Context) -> None:
    """Statistical: the same 420 episodes in one world and in 420 worlds (different draws)."""
    episodes = scored(10, seed=2)
    batched = run_episodes(episodes, context, seed=4, batch_size=len(episodes))
    single = run_episodes(episodes, context, seed=4, batch_size=1)
    table = np.array([np.bincount(r.outcomes, minlength=len(OUTCOMES)) for r in (batched, single)])
    table = table[:, table.sum(axis=0) > 0]
    assert chi2_contingency(table).pvalue > 0.01
    # and both agree with the expected count of compliance at the threat stage
    expected = sum(_first_probabilities(episodes, context, seed=4))
    for r in (batched, single):
        got = int((r.outcomes == OUTCOMES.index("complied_at_threat")).sum())
        assert abs(got - expected) < 4 * math.sqrt(expected)


def test_same_seed_same_outcomes_for_any_number_of_workers(context: Context) -> None:
    episodes = scored(2, seed=1)
    one = run_episodes(episodes, context, seed=9, batch_size=30)
    again = run_episodes(episodes, context, seed=9, batch_size=30)
    assert np.array_equal(one.outcomes, again.outcomes)
    assert one.episodes_per_second > 0


@pytest.mark.slow
def test_two_workers_give_the_outcomes_of_one(context: Context) -> None:
    episodes = scored(5, seed=1)
    one = run_episodes(episodes, context, seed=9, batch_size=50)
    two = run_episodes(episodes, context, seed=9, batch_size=50, workers=2)
    assert np.array_equal(one.outcomes, two.outcomes)


def test_overrides_reach_the_world_and_bad_ones_are_refused(context: Context) -> None:
    rules, scale = split_overrides(["rules.threats.credibility=0.3", "salience.scale=2"])
    assert rules == ["rules.threats.credibility=0.3"] and scale == 2.0
    changed = with_values(context, context, {"threats.sharpness": 2.0, "salience.scale": 3.0})
    scenario = batch_scenario(scored(1, 1)[:1], changed).scenario
    assert scenario.rules.threats.sharpness == 2.0
    assert changed.salience["low"] == pytest.approx(3 * context.salience["low"])
    with pytest.raises(ScenarioError, match="calibrate takes rules"):
        split_overrides(["states.BRA.gdp=1"])
    with pytest.raises(ScenarioError, match="positive"):
        split_overrides(["salience.scale=-1"])
    bad = with_values(context, context, {"threats.credibility": 2.0})
    with pytest.raises(ScenarioError, match="credibility"):
        batch_scenario(scored(1, 1)[:1], bad)


# ------------------------------------------------------------------ scores


def synthetic(outcome_of: Any, seed: int = 0) -> tuple[list[Episode], np.ndarray]:
    episodes = scored(40, seed=seed)
    rng = np.random.default_rng(seed)
    outcomes = np.array([OUTCOMES.index(outcome_of(e, rng)) for e in episodes], dtype=np.int8)
    return episodes, outcomes


def test_a_known_share_lies_in_its_interval_and_the_tolerance_decides(
    population_and_targets: tuple[Any, Targets],
) -> None:
    _, tg = population_and_targets

    def outcome(e: Episode, rng: np.random.Generator) -> Outcome:
        return "complied_at_threat" if rng.random() < 0.2 else "backed_down"

    episodes, outcomes = synthetic(outcome)
    scores = {s.id: s for s in score_targets(tg, episodes, outcomes, seed=1)}
    acq = scores["ties_acquiescence_at_threat"]
    assert acq.low <= 0.2 <= acq.high and acq.low < acq.value < acq.high
    assert acq.passed  # 0.2 is within 19.2 +- 8
    never = scores["ties_threats_never_imposed"]
    assert never.value == never.low == never.high == 1.0 and not never.passed
    assert math.isnan(scores["hse_success_among_imposed"].value)  # nothing imposed
    assert not scores["hse_success_among_imposed"].passed
    assert base_rates(episodes, outcomes)["never_imposed"] == 1.0


def test_direction_targets_pass_only_when_the_interval_excludes_zero_with_the_sign(
    population_and_targets: tuple[Any, Targets],
) -> None:
    _, tg = population_and_targets
    median = float(np.median([e.trade_dependence for e in scored(40, 0)]))

    def rises(e: Episode, rng: np.random.Generator) -> Outcome:
        p = 0.7 if (e.trade_dependence or 0) > median else 0.2
        return "complied_at_threat" if rng.random() < p else "backed_down"

    def flat(e: Episode, rng: np.random.Generator) -> Outcome:
        return "complied_at_threat" if rng.random() < 0.4 else "backed_down"

    up = {s.id: s for s in score_targets(tg, *synthetic(rises), seed=1)}
    level = {s.id: s for s in score_targets(tg, *synthetic(flat), seed=1)}
    trade = "success_rises_with_trade_dependence"
    assert up[trade].passed and up[trade].low > 0 and up[trade].value == pytest.approx(0.5, abs=0.1)
    assert level[trade].low < 0 < level[trade].high and not level[trade].passed


def test_the_bootstrap_spread_matches_the_binomial_one() -> None:
    rng = np.random.default_rng(0)
    groups = np.repeat(np.arange(20), 100)
    hits = rng.random(groups.size) < 0.3
    columns = np.column_stack([hits, np.ones_like(hits)])
    boot = bootstrap_counts(columns, groups, 2000, seed=1)
    assert (boot[:, 1] == groups.size).all()
    share = boot[:, 0] / boot[:, 1]
    p = hits.mean()
    assert share.std() == pytest.approx(math.sqrt(p * (1 - p) / groups.size), rel=0.15)


# ------------------------------------------------------------------ fitting


def test_minimise_recovers_a_known_optimum_within_bounds() -> None:
    params = [
        Parameter("a", 0.0, 1.0, False, "t", "toy"),
        Parameter("b", 0.1, 10.0, True, "t", "toy"),
    ]

    def objective(v: dict[str, float]) -> float:
        return (v["a"] - 0.3) ** 2 + (math.log(v["b"]) - math.log(2.0)) ** 2

    result = minimise(objective, params, {"a": 0.9, "b": 0.5}, max_evals=120)
    assert result.values["a"] == pytest.approx(0.3, abs=0.02)
    assert result.values["b"] == pytest.approx(2.0, rel=0.05)
    assert result.evaluations <= 120 and result.loss == min(h[1] for h in result.history)


def test_the_loss_counts_fitted_share_targets_and_parameters_follow_the_schema(
    population_and_targets: tuple[Any, Targets],
) -> None:
    _, tg = population_and_targets
    episodes, outcomes = synthetic(lambda e, rng: "complied_at_threat")
    scores = score_targets(tg, episodes, outcomes, draws=0)
    # never imposed 1.0 vs 0.538 +- 0.08; acquiescence 1.0 vs 0.192 +- 0.08; HSE: nothing
    # imposed (missing); threat stage vs imposition: no imposition (missing); the three other
    # directions: everyone complies, a difference of 0, a full hinge penalty of 1 each
    assert loss(scores, tg) == pytest.approx(
        ((1 - 0.538) / 0.08) ** 2 + ((1 - 0.192) / 0.08) ** 2 + 2e6 + 3.0
    )
    shifted = [
        replace(s, value=0.025) if s.kind == "direction" and s.sign == "positive" else s
        for s in scores
    ]
    positive = sum(1 for s in scores if s.kind == "direction" and s.sign == "positive")
    assert loss(shifted, tg) == pytest.approx(
        ((1 - 0.538) / 0.08) ** 2 + ((1 - 0.192) / 0.08) ** 2 + 1e6 + 0.25 * positive
    )  # half the margin short: a quarter each
    fake = Parameter("threats.no_such_rule", 0.0, 1.0, False, "t", "not in the schema")
    cred = Parameter("threats.credibility", 0.05, 1.0, False, "t", "in the schema")
    assert available([fake, cred]) == [cred]
    assert available([cred], fixed=["threats.credibility"]) == []


# ------------------------------------------------------------------ the command


def lenient_targets() -> Targets:
    data = load_targets().model_dump()
    share = next(t for t in data["targets"] if t["id"] == "ties_threats_never_imposed")
    share.update(value=0.5, tolerance_pp=50)
    data["targets"] = [share]
    return Targets.model_validate(data)


def test_calibrate_prints_the_table_writes_json_and_exits_0_when_all_pass(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(targets_module, "load_targets", lenient_targets)
    out = tmp_path / "cal.json"
    r = CliRunner().invoke(main, ["calibrate", "-n", "1", "--seed", "2", "--out", str(out)])
    assert r.exit_code == 0, r.output
    assert "Targets vs model" in r.output and "PASS" in r.output and "episodes/s" in r.output
    report = json.loads(out.read_text())
    assert report["all_passed"] and report["settings"]["episodes_per_pair"] == 1
    assert [s["id"] for s in report["scores"]] == ["ties_threats_never_imposed"]
    assert set(report["mechanisms"]) == set(MECHANISMS) and report["fit"] is None


def test_calibrate_exits_1_when_a_target_fails(tmp_path: Path) -> None:
    out = tmp_path / "cal.json"
    args = ["calibrate", "-n", "1", "--set", "rules.threats.credibility=0", "--out", str(out)]
    r = CliRunner().invoke(main, args)
    assert r.exit_code == 1, r.output
    assert "FAIL" in r.output and "override rules.threats.credibility: 0.59 (default) -> 0" in (
        r.output
    )
    report = json.loads(out.read_text())
    assert not report["all_passed"]
    never = next(s for s in report["scores"] if s["id"] == "ties_threats_never_imposed")
    assert never["value"] == 1.0  # a sender that never imposes


@pytest.mark.parametrize(
    "args",
    [
        ["--set", "states.BRA.gdp=1"],
        ["--set", "rules.threats.credibility=2"],
        ["--set", "rules.threats.no_such=1"],
        ["-n", "0"],
    ],
)
def test_calibrate_exits_2_on_bad_input(args: list[str]) -> None:
    r = CliRunner().invoke(main, ["calibrate", *args])
    assert r.exit_code == 2, r.output


def test_calibrate_fit_prints_fitted_values_and_writes_them(tmp_path: Path) -> None:
    out = tmp_path / "fit.json"
    args = ["calibrate", "-n", "1", "--fit", "--max-evals", "3", "--out", str(out)]
    r = CliRunner().invoke(main, args)
    assert r.exit_code in (0, 1), r.output
    assert "Fitted values" in r.output and "no file was edited" in r.output
    fit = json.loads(out.read_text())["fit"]
    paths = [p["path"] for p in fit["parameters"]]
    assert paths[:2] == ["threats.credibility", "salience.scale"]
    assert fit["evaluations"] <= 3 and len(fit["history"]) == fit["evaluations"]
