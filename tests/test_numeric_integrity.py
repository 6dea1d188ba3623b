"""Numbers stay numbers: out-of-range inputs are refused, overflow fails loudly, unknowns are null.

Hard bounds in the schema keep every rule's arithmetic finite; a value known at one step that
turns NaN or infinite at the next stops the run with the variable, state, step and date; and
the time series has a row for every (step, state, variable), with a null where a figure is not
known, rather than silently fewer rows.
"""

from __future__ import annotations

import copy
import math
import typing
from pathlib import Path
from typing import Any

import annotated_types as at
import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import BaseModel

import sim.rules
import sim.scenario as schema
from sim.cli import main
from sim.design import design_from_options
from sim.errors import GeosimError, NumericalError, ScenarioError
from sim.model import GeoModel
from sim.runner import long_frame, run, run_once
from sim.scenario import (
    AlignmentRules,
    BlocRules,
    EngagementEvent,
    GovernmentChangeEvent,
    InvestmentRules,
    LoadedScenario,
    PledgeEvent,
    PolicyChangeEvent,
    Power,
    Rules,
    Scenario,
    State,
    StatePolicy,
    TariffEvent,
    ThreatRules,
    TieWeights,
    TradeRules,
    load_scenario,
    scenario_from_dict,
)
from sim.sweep import execute, plan
from sim.synthetic import world_dict

BASELINE = "latam_2025"


def _pydantic_number(x: float) -> str:
    """A bound as pydantic prints it in 'Input should be less than or equal to ...'."""
    return str(int(x)) if float(x).is_integer() else repr(float(x))


def _empty(folder: Path) -> bool:
    return not folder.exists() or not any(folder.rglob("*"))


# --------------------------------------------------------------------------- validation


OVERFLOWING = [
    # (override from the issue, field path, comparison in the message, bound's name in sim.scenario)
    (
        "rules.investment.size_exponent=50",
        "rules.investment.size_exponent",
        "less",
        "MAX_SIZE_EXPONENT",
    ),
    ("powers.USA.engagement=1e308", "powers.USA.engagement", "less", "MAX_ENGAGEMENT"),
    ("states.BOL.gdp=5e-324", "states.BOL.gdp", "greater", "MIN_GDP"),
]


@pytest.mark.parametrize(("assignment", "path", "side", "bound"), OVERFLOWING)
def test_run_refuses_values_that_would_overflow(
    tmp_path: Path, assignment: str, path: str, side: str, bound: str
) -> None:
    out = tmp_path / "results"
    r = CliRunner().invoke(
        main, ["run", BASELINE, "--set", assignment, "--out", str(out), "--no-plot"]
    )
    assert r.exit_code == 2, r.output
    assert "Traceback" not in r.output
    limit = _pydantic_number(getattr(schema, bound))
    assert f"--set {assignment}: {path}: Input should be {side} than or equal to {limit}" in (
        r.stderr
    ), r.stderr
    assert "nothing was run" in r.stderr
    assert _empty(out)


def _bounded(model: type[BaseModel], name: str) -> tuple[float, float]:
    """The (low, high) a numeric field accepts, read from its schema constraints."""
    return _limits(model.model_fields[name])


def _limits(info: Any) -> tuple[float, float]:
    metas = list(getattr(info, "metadata", []))
    stack = [getattr(info, "annotation", info)]
    while stack:
        ann = stack.pop()
        if typing.get_origin(ann) is typing.Annotated:
            base, *extras = typing.get_args(ann)
            for extra in extras:
                metas.extend(getattr(extra, "metadata", [extra]))
            stack.append(base)
        else:
            stack.extend(typing.get_args(ann))
    lo, hi = -math.inf, math.inf
    for m in metas:
        if isinstance(m, at.Ge):
            lo = max(lo, float(m.ge))  # type: ignore[arg-type]
        elif isinstance(m, at.Gt):
            lo = max(lo, float(np.nextafter(float(m.gt), math.inf)))  # type: ignore[arg-type]
        elif isinstance(m, at.Le):
            hi = min(hi, float(m.le))  # type: ignore[arg-type]
        elif isinstance(m, at.Lt):
            hi = min(hi, float(np.nextafter(float(m.lt), -math.inf)))  # type: ignore[arg-type]
    return lo, hi


AT_BOUNDS = [
    # (path, model, field, which end)
    ("rules.investment.size_exponent", InvestmentRules, "size_exponent", 1),
    ("rules.investment.alignment_weight", InvestmentRules, "alignment_weight", 1),
    ("rules.trade.elasticity_impact", TradeRules, "elasticity_impact", 0),
    ("rules.trade.elasticity_long", TradeRules, "elasticity_long", 1),
    ("rules.trade.alignment_pull", TradeRules, "alignment_pull", 1),
    ("rules.alignment.coercion_backlash", AlignmentRules, "coercion_backlash", 1),
    ("rules.alignment.weights.trade", TieWeights, "trade", 1),
    ("rules.blocs.weight_threat", BlocRules, "weight_threat", 1),
    ("rules.threats.sharpness", ThreatRules, "sharpness", 1),
    ("powers.USA.engagement", Power, "engagement", 0),
    ("powers.USA.engagement", Power, "engagement", 1),
    ("powers.USA.import_growth", Power, "import_growth", 0),
    ("powers.USA.import_growth", Power, "import_growth", 1),
    ("powers.CHN.loan_budget", Power, "loan_budget", 1),
    ("states.BOL.gdp", State, "gdp", 0),
    ("states.BOL.gdp", State, "gdp", 1),
    ("states.BOL.fdi.USA", State, "fdi", 1),
    ("states.BOL.sovereignty", State, "sovereignty", 1),
    ("states.BRA.policies.common_currency.salience", StatePolicy, "salience", 1),
    ("events.colombia_deportation_threat.tariff", schema.Stakes, "tariff", 1),
    ("events.rubio_canal_threat.stake", schema.Stakes, "stake", 1),
]


@pytest.mark.parametrize(("path", "model", "name", "end"), AT_BOUNDS)
def test_a_value_at_a_bound_validates_and_one_step_beyond_does_not(
    path: str, model: type[BaseModel], name: str, end: int
) -> None:
    bound = _bounded(model, name)[end]
    assert math.isfinite(bound), f"{model.__name__}.{name} has no hard bound"
    load_scenario(BASELINE, [f"{path}={bound!r}"])  # exactly at the bound: valid
    beyond = float(np.nextafter(bound, math.inf if end else -math.inf))
    with pytest.raises(ScenarioError) as exc:
        load_scenario(BASELINE, [f"{path}={beyond!r}"])
    assert exc.value.problems[0].path == path


def test_baseline_events_exist_for_the_bound_checks() -> None:
    events = load_scenario(BASELINE).scenario.events
    assert events["colombia_deportation_threat"].tariff is not None  # type: ignore[union-attr]
    assert events["rubio_canal_threat"].stake is not None  # type: ignore[union-attr]


def test_a_positive_amount_below_a_dollar_is_refused() -> None:
    """A tiny positive flow would make trade diversion divide by almost nothing."""
    with pytest.raises(ScenarioError) as exc:
        load_scenario(BASELINE, ["states.BOL.exports.USA=5e-324"])
    (problem,) = exc.value.problems
    assert problem.path == "states.BOL.exports.USA"
    assert "at least 1 US$" in problem.message
    load_scenario(BASELINE, ["states.BOL.exports.USA=0", "states.BOL.debt.CHN=1"])


def test_a_horizon_beyond_the_bound_is_refused(mini_dict: dict[str, Any]) -> None:
    years = int(getattr(schema, "MAX_HORIZON_YEARS", 200))
    mini_dict["events"], mini_dict["expect"] = {}, {}
    mini_dict["time"] = {"start": "2025-01", "unit": "month", "steps": 12 * years}
    scenario_from_dict(mini_dict)  # exactly at the bound
    mini_dict["time"] = {"start": "2025-01", "unit": "year", "steps": years + 1}
    with pytest.raises(ScenarioError) as exc:
        scenario_from_dict(mini_dict)
    (problem,) = exc.value.problems
    assert problem.path == "time" and f"at most {years}" in problem.message


def test_a_rule_change_event_is_held_to_the_rule_bounds(mini_dict: dict[str, Any]) -> None:
    hi = _bounded(InvestmentRules, "size_exponent")[1]
    mini_dict["events"]["bigger"] = {
        "type": "rule_change",
        "date": "2025-06",
        "path": "investment.size_exponent",
        "value": float(np.nextafter(hi, math.inf)) if math.isfinite(hi) else 50.0,
    }
    with pytest.raises(ScenarioError) as exc:
        scenario_from_dict(mini_dict)
    (problem,) = exc.value.problems
    assert problem.path == "events.bigger.value"
    assert "less than or equal to" in problem.message


def _numeric_fields() -> list[tuple[str, Any]]:
    """Every numeric field of every model the scenario is made of: (Model.field, FieldInfo)."""
    seen: set[type[BaseModel]] = set()
    out: list[tuple[str, Any]] = []
    todo: list[Any] = [Scenario]
    while todo:
        ann = todo.pop()
        if isinstance(ann, type) and issubclass(ann, BaseModel):
            if ann in seen:
                continue
            seen.add(ann)
            for name, info in ann.model_fields.items():
                todo.append(info.annotation)
                if _is_number(info.annotation):
                    out.append((f"{ann.__name__}.{name}", info))
        else:
            todo.extend(typing.get_args(ann))
    return out


def _is_number(ann: Any) -> bool:
    if ann in (float, int):
        return True
    if typing.get_origin(ann) is typing.Annotated:
        return _is_number(typing.get_args(ann)[0])
    return any(_is_number(a) for a in typing.get_args(ann) if a is not str)


def _renderings(x: float) -> set[str]:
    g = f"{x:g}"
    return {g, g.replace("e+0", "e").replace("e+", "e").replace("e-0", "e-"), f"{x:,.0f}"} | (
        {str(int(x))} if float(x).is_integer() else set()
    )


def test_every_hard_bound_is_stated_in_the_fields_description() -> None:
    """The reference (`geosim schema`) is generated from descriptions: bounds must be in them."""
    missing = []
    for where, info in _numeric_fields():
        for bound in _limits(info):
            if not math.isfinite(bound) or bound in (0.0, 1.0, -1.0) or bound < 1e-300:
                continue  # open ends; [0, 1] shares and [-1, 1] shifts are stated once, above
            if not any(r in (info.description or "") for r in _renderings(bound)):
                missing.append(f"{where}: {bound:g} not in {info.description!r}")
    assert not missing, "\n".join(missing)


# --------------------------------------------------------------------------- whole runs


def _extremes(info: Any, current: Any) -> list[Any]:
    """Values to try for a field: both ends of what it accepts, and the current value."""
    lo, hi = _limits(info)
    whole = _is_int(info.annotation)
    top = 2**63 if whole else 1e308
    ends = [lo if math.isfinite(lo) else -top, hi if math.isfinite(hi) else top]
    if whole:
        ends = [math.ceil(ends[0]), math.floor(ends[1])]
    return [*ends, current]


def _is_int(ann: Any) -> bool:
    if ann is int:
        return True
    if typing.get_origin(ann) is typing.Annotated:
        return _is_int(typing.get_args(ann)[0])
    return any(_is_int(a) for a in typing.get_args(ann))


def _push(draw: Any, model: type[BaseModel], node: dict[str, Any], names: list[str]) -> None:
    for name in names:
        current = node.get(name, model.model_fields[name].default)
        if isinstance(current, dict):
            for key, v in current.items():  # amounts per power: keep unknown (None) unknown
                if v is not None:
                    current[key] = draw(st.sampled_from(_amount_extremes(model, name, v)))
            continue
        node[name] = draw(st.sampled_from(_extremes(model.model_fields[name], current)))


def _amount_extremes(model: type[BaseModel], name: str, current: float) -> list[float]:
    lo, hi = _limits(model.model_fields[name])
    smallest = getattr(schema, "MIN_AMOUNT", float(np.nextafter(0.0, 1.0)))
    return [lo, smallest, hi if math.isfinite(hi) else 1e308, current]


RULE_MODELS: dict[str, type[BaseModel]] = {
    "trade": TradeRules,
    "investment": InvestmentRules,
    "threats": ThreatRules,
    "blocs": BlocRules,
    "alignment": AlignmentRules,
}


def _rule_numbers(model: type[BaseModel], floats_only: bool = False) -> list[str]:
    return [
        n
        for n, f in model.model_fields.items()
        if _is_number(f.annotation) and not (floats_only and _is_int(f.annotation))
    ]


@st.composite
def extreme_worlds(draw: Any) -> dict[str, Any]:
    """A small synthetic world whose numbers sit at the ends of their allowed ranges."""
    d = world_dict(draw(st.integers(3, 5)), seed=draw(st.integers(0, 2**16)), years=2)
    years = int(getattr(schema, "MAX_HORIZON_YEARS", 200))
    unit, steps = draw(st.sampled_from([("month", 24), ("quarter", 4 * years), ("year", years)]))
    d["time"] = {"start": "2025-01", "unit": unit, "steps": steps, "seed": 1}
    codes = list(d["states"])
    if draw(st.booleans()):  # a third power: trade diversion then sums over several others
        d["powers"]["EUR"] = {"name": "European Union", "gdp": 1.9e13, "fdi_budget": 1e10}
        for s in d["states"].values():
            for section in ("exports", "imports"):
                s[section]["EUR"] = s[section]["USA"]
    for power in d["powers"].values():
        _push(
            draw, Power, power, ["gdp", "fdi_budget", "loan_budget", "engagement", "import_growth"]
        )
        for pol in power.get("policies", {}).values():
            _push(draw, schema.StandingPolicy, pol, ["tariff", "cooldown_months"])
    for code in codes:
        s = d["states"][code]
        s["bloc_salience"] = {"BRI": 0.005}
        s["sovereignty"] = 1.0
        _push(draw, State, s, ["gdp", "exports", "imports", "debt", "fdi", "sovereignty"])
        s["bloc_salience"]["BRI"] = draw(
            st.sampled_from(_extremes(State.model_fields["bloc_salience"], 0.005))
        )
        for pol in s["policies"].values():
            _push(draw, StatePolicy, pol, ["salience"])
    for ev in d["events"].values():
        _push(draw, schema.ThreatEvent, ev, ["stake"])
    first, last = codes[0], codes[-1]
    events = {
        "tariff_on": {"type": "tariff", "date": "2025-02", "sender": "USA", "target": first},
        "tariff_off": {"type": "tariff", "date": "2025-09", "sender": "USA", "target": first},
        "tariff_chn": {"type": "tariff", "date": "2025-04", "sender": "CHN", "target": first},
        "visit": {"type": "engagement", "date": "2025-03", "power": "CHN", "states": [last]},
        "pledge": {"type": "pledge", "date": "2025-05", "power": "CHN", "state": last},
        "coup": {"type": "government_change", "date": "2025-06", "state": first, "shift": {}},
        "policy": {"type": "policy_change", "date": "2025-07", "state": last},
    }
    events["tariff_on"]["rate"] = draw(
        st.sampled_from(_extremes(TariffEvent.model_fields["rate"], 1.0))
    )
    events["tariff_off"]["rate"] = 0.0
    events["tariff_chn"]["rate"] = draw(
        st.sampled_from(_extremes(TariffEvent.model_fields["rate"], 0.5))
    )
    _push(draw, EngagementEvent, events["visit"], ["intensity"])
    events["pledge"]["kind"] = draw(st.sampled_from(["fdi", "loan"]))
    events["pledge"]["amount"] = draw(
        st.sampled_from(_extremes(PledgeEvent.model_fields["amount"], 1e9))
    )
    events["coup"]["shift"] = {p: draw(st.sampled_from([-1.0, 1.0, 0.2])) for p in ("USA", "CHN")}
    events["coup"]["sovereignty"] = draw(
        st.sampled_from(_extremes(GovernmentChangeEvent.model_fields["sovereignty"], 1.0))
    )
    events["policy"].update(policy="common_currency", active=True)
    events["policy"]["salience"] = draw(
        st.sampled_from(_extremes(PolicyChangeEvent.model_fields["salience"], 0.001))
    )
    section = draw(st.sampled_from(sorted(RULE_MODELS)))
    # The elasticities must increase with time (a cross-field rule checked with the scenario):
    # a rule change of one of them is drawn separately, in test_registry and the bound tests.
    numbers = _rule_numbers(RULE_MODELS[section], floats_only=True)
    name = draw(st.sampled_from([n for n in numbers if not n.startswith("elasticity")]))
    default = RULE_MODELS[section].model_fields[name].default
    events["rule"] = {
        "type": "rule_change",
        "date": "2025-08",
        "path": f"{section}.{name}",
        "value": draw(st.sampled_from(_extremes(RULE_MODELS[section].model_fields[name], default))),
    }
    d["events"].update(events)
    rules: dict[str, Any] = {}
    for section, model in RULE_MODELS.items():
        rules[section] = {}
        _push(draw, model, rules[section], _rule_numbers(model))
    _increasing_elasticities(rules["trade"])
    rules["alignment"]["weights"] = {}
    _push(draw, TieWeights, rules["alignment"]["weights"], list(TieWeights.model_fields))
    d["rules"] = rules
    return d


def _increasing_elasticities(trade: dict[str, Any]) -> None:
    """Put the three drawn elasticities in increasing order (impact < one year < long run),
    keeping their extreme values where they differ."""
    names = ("elasticity_impact", "elasticity_short", "elasticity_long")
    lo, mid, hi = sorted(trade[n] for n in names)
    if not lo < mid < hi:
        lo, mid, hi = min(lo, 0.0), (min(lo, 0.0) + max(hi, 1.0)) / 2, max(hi, 1.0)
    trade.update(zip(names, (lo, mid, hi), strict=True))


ALWAYS_KNOWN = ("tilt", "affinity.", "tariff.", "bloc.")
"""Variables that have a value for every state from step 0 on (the others may be unknown)."""


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(extreme_worlds(), st.integers(0, 2**32 - 1))
def test_values_inside_the_bounds_never_turn_a_number_into_nan_or_inf(
    d: dict[str, Any], seed: int
) -> None:
    scenario = scenario_from_dict(copy.deepcopy(d)).scenario
    rep = run_once(scenario, seed)
    data = rep.data
    known = np.array([n.startswith(ALWAYS_KNOWN) for n in rep.names])
    bad = ~np.isfinite(data[:, :, known])
    assert not bad.any(), _first(rep, np.argwhere(bad)[0], np.flatnonzero(known))
    lost = np.isfinite(data[:-1]) & ~np.isfinite(data[1:])
    assert not lost.any(), _first(rep, np.argwhere(lost)[0] + [1, 0, 0], np.arange(len(rep.names)))


def _first(rep: Any, where: np.ndarray, cols: np.ndarray) -> str:
    step, i, c = (int(x) for x in where)
    return f"{rep.names[cols[c]]} of {rep.states[i]} is {rep.data[step, i, cols[c]]} at step {step}"


# --------------------------------------------------------------------------- the run-time guard


def test_a_known_value_turning_nan_stops_the_run_naming_variable_state_step(
    mini: Scenario,
) -> None:
    m = GeoModel(mini, rng=1)
    m.step()
    bol, usa = m.state_index["BOL"], m.power_index["USA"]
    assert m.economy.debt[bol, usa] == 0.0  # known
    m.economy.debt[bol, usa] = np.nan  # what an overflowing rule would leave behind
    with pytest.raises(NumericalError) as exc:
        m.step()
    assert isinstance(exc.value, GeosimError)  # so the CLI reports it as bad input, exit 2
    text = str(exc.value)
    for part in ("debt.USA", "BOL", "step 2", m.calendar.label(2), "NaN"):
        assert part in text, text
    assert (exc.value.variable, exc.value.state, exc.value.step) == ("debt.USA", "BOL", 2)


def test_numerical_error_survives_a_process_boundary() -> None:
    import pickle

    err = NumericalError("debt.USA", "BOL", 2, "2025-02", float("nan"), 0.0)
    back = pickle.loads(pickle.dumps(err))
    assert str(back) == str(err) and (back.variable, back.step) == ("debt.USA", 2)


def test_a_known_value_turning_infinite_stops_the_run(mini: Scenario) -> None:
    m = GeoModel(mini, rng=1)
    m.economy.tariff[m.state_index["MEX"], m.power_index["CHN"]] = np.inf
    # an infinite tariff leaves the exports it hits undefined: the guard names the first
    with pytest.raises(NumericalError, match=r"\.CHN of MEX .*(inf|NaN).* step 1"):
        m.step()


def test_a_variable_that_is_never_unknown_must_be_finite_from_step_0(mini: Scenario) -> None:
    m = GeoModel(mini, rng=1)
    m.economy.tariff[m.state_index["PAN"], m.power_index["CHN"]] = np.nan
    with pytest.raises(NumericalError, match=r"tariff\.CHN of PAN is NaN at step 0"):
        m.recorder.record(0)


def test_unknown_inputs_stay_unknown_without_tripping_the_guard(mini: Scenario) -> None:
    m = GeoModel(mini, rng=1)
    for _ in range(m.calendar.steps):
        m.step()
    col = m.recorder.names.index("exports.CHN")
    assert np.isnan(m.recorder.data[:, m.state_index["PAN"], col]).all()


def _poison_debt(monkeypatch: pytest.MonkeyPatch) -> None:
    """Amortisation leaves a NaN in BOL's (known) debt to CHN, as an overflowing rule would."""
    real = sim.rules.amortise

    def bad(debt: np.ndarray, p: Any, dt: float) -> np.ndarray:
        out = real(debt, p, dt)
        out[1, 1] = np.nan
        return out

    monkeypatch.setattr(sim.rules, "amortise", bad)


def test_cli_reports_a_numerical_failure_as_bad_input_without_a_traceback(
    mini_file: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _poison_debt(monkeypatch)
    out = tmp_path / "results"
    r = CliRunner().invoke(main, ["run", str(mini_file), "--out", str(out), "--no-plot"])
    assert r.exit_code == 2, r.output
    assert "Traceback" not in r.output and "internal error" not in r.output
    assert "debt.CHN of BOL" in r.stderr and "step 1 (2025-01)" in r.stderr, r.stderr
    assert _empty(out)


def test_sweep_records_a_numerical_failure_as_a_failed_run(
    base: LoadedScenario, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _poison_debt(monkeypatch)  # sweeps with one worker run in this process
    design = design_from_options(["rules.threats.credibility=0.3,0.8"], 1, 7)
    outcome = execute(plan(base, design), tmp_path)
    runs = outcome.folder.runs()
    assert runs["status"].tolist() == ["failed", "failed"]
    for text in runs["error"]:
        assert text.startswith("NumericalError: ") and "debt.CHN of BOL" in text, text


# --------------------------------------------------------------------------- the time series


def test_timeseries_has_every_step_state_and_variable_with_nulls_where_unknown() -> None:
    loaded = load_scenario(BASELINE)
    spec = loaded.scenario
    r = run(loaded, replicates=2)
    rep = run_once(spec, r.seeds[0], 0)
    steps, n, v = rep.data.shape
    assert steps == spec.time.calendar().steps + 1  # step 0, the initial condition, included
    ts = r.timeseries
    assert len(ts) == 2 * steps * n * v
    assert not ts.duplicated(["replicate", "step", "state", "variable"]).any()
    assert ts["value"].isna().sum() == 2 * np.isnan(rep.data).sum() > 0
    # PAN's FDI stock from the United States is null in the scenario: null at every step
    pan = ts[(ts["state"] == "PAN") & (ts["variable"] == "fdi.USA")]
    assert len(pan) == 2 * steps and pan["value"].isna().all()
    known = ts[(ts["state"] == "BOL") & (ts["variable"] == "exports.CHN")]
    assert len(known) == 2 * steps and known["value"].notna().all()


def test_nulls_round_trip_through_the_parquet_file_geosim_run_writes(tmp_path: Path) -> None:
    r = CliRunner().invoke(
        main, ["run", BASELINE, "-n", "1", "--no-plot", "--out", str(tmp_path), "--name", "x"]
    )
    assert r.exit_code == 0, r.output
    path = tmp_path / BASELINE / "x" / "timeseries.parquet"
    expected = run(load_scenario(BASELINE), replicates=1).timeseries
    table = pq.read_table(path)
    assert table.num_rows == len(expected)
    assert table.column("value").null_count == expected["value"].isna().sum() > 0
    back = pd.read_parquet(path)
    pd.testing.assert_series_equal(back["value"].isna(), expected["value"].isna())


def test_sweep_time_series_rows_keep_nulls(mini: Scenario) -> None:
    rep = run_once(mini, 3)
    frame = long_frame(rep, (5, 2, 1), ("tilt", "exports.CHN"))
    steps, n, _ = rep.data.shape
    assert len(frame) == steps * n * 2
    pan = frame[(frame["state"] == "PAN") & (frame["variable"] == "exports.CHN")]
    assert len(pan) == steps and pan["value"].isna().all()
    assert frame.loc[frame["variable"] == "tilt", "value"].notna().all()


def test_rules_default_is_inside_every_bound() -> None:
    """The defaults themselves sit inside the bounds (a bound below a default would be a typo)."""
    Rules.model_validate(Rules().model_dump())
    for _where, info in _numeric_fields():
        lo, hi = _limits(info)
        if isinstance(info.default, int | float) and not isinstance(info.default, bool):
            assert lo <= info.default <= hi, (_where, info.default, lo, hi)
