"""Outcomes typed on the command line: parsed, checked against the scenario, located."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner

from sim.cli import main
from sim.errors import ScenarioError
from sim.outcome_options import build_checked, merged, option_locator, spec_from_options
from sim.outcomes import OutcomeSpec
from sim.scenario import load_scenario


@pytest.fixture(scope="module")
def scenario():  # type: ignore[no-untyped-def]
    return load_scenario("latam_2025").scenario


def test_options_become_a_spec_in_order() -> None:
    spec = spec_from_options(["2026-01"], ["gap = tilt[BRA] - 1", "b=tilt[MEX] > 0"])
    assert spec.dates == ("2026-01",)
    assert list(spec.custom) == ["gap", "b"] and spec.custom["gap"] == " tilt[BRA] - 1"


@pytest.mark.parametrize(
    ("options", "message"),
    [
        (["x=1", "x=2"], "already defined by an earlier --outcome"),
        (["1a=3"], "'1a' is not a valid outcome name"),
        (["noeq"], "expected NAME=EXPRESSION"),
        (["empty=  "], "expected NAME=EXPRESSION"),
    ],
)
def test_malformed_options_are_refused_with_the_option(options: list[str], message: str) -> None:
    with pytest.raises(ScenarioError) as info:
        spec_from_options([], options)
    assert message in str(info.value) and "--outcome" in str(info.value)


def test_a_malformed_date_is_refused() -> None:
    with pytest.raises(ScenarioError) as info:
        spec_from_options(["2026-13"], [])
    assert str(info.value).startswith("--at")


def test_problems_point_at_the_column_in_the_option(scenario) -> None:  # type: ignore[no-untyped-def]
    options = ["ok=tilt[BRA]", "bad=tilt[BRX] + 1", "worse=  meen(tilt)"]
    spec = spec_from_options([], options)
    with pytest.raises(ScenarioError) as info:
        build_checked(scenario, spec, option_locator(options))
    lines = str(info.value).splitlines()
    assert len(lines) == 2  # every problem, not only the first
    assert lines[0].startswith("--outcome:1:10: outcomes.custom.bad: unknown state 'BRX'")
    assert "did you mean 'BRA'" in lines[0]
    assert lines[1].startswith("--outcome:1:9: outcomes.custom.worse:")  # after the spaces


def test_a_date_outside_the_horizon_is_located_at_at(scenario) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ScenarioError) as info:
        build_checked(scenario, spec_from_options(["2040-01"], []), option_locator([]))
    assert str(info.value).startswith("--at: outcomes.dates:")


def test_merging_refuses_a_name_defined_twice() -> None:
    a = OutcomeSpec(dates=("2026-01",), custom={"x": "1"})
    b = OutcomeSpec(dates=("2026-01", "2027-01"), custom={"y": "2"})
    both = merged(a, b)
    assert both.dates == ("2026-01", "2027-01") and list(both.custom) == ["x", "y"]
    with pytest.raises(ScenarioError, match=r"outcomes\.custom\.x"):
        merged(a, OutcomeSpec(custom={"x": "3"}))


def test_date_and_option_problems_are_reported_together() -> None:
    with pytest.raises(ScenarioError) as info:
        spec_from_options(["2026-13"], ["noeq"])
    assert [p.file.split()[0] for p in info.value.problems] == ["--outcome", "--at"]


def test_a_malformed_date_reads_like_the_other_problems() -> None:
    with pytest.raises(ScenarioError) as info:
        spec_from_options(["2025-13"], [])
    assert str(info.value) == "--at: month must be 01..12, got '2025-13'"


DEEP = "(" * 100 + "1" + ")" * 100
TOO_DEEP = "the expression is nested too deeply: at most 50 levels"


def test_a_deeply_nested_outcome_is_located_in_its_option(scenario) -> None:  # type: ignore[no-untyped-def]
    options = [f"x={DEEP}", "big=1e309 + 1", "long=" + "tilt[BOL] + " * 800 + "1"]
    with pytest.raises(ScenarioError) as info:
        build_checked(scenario, spec_from_options([], options), option_locator(options))
    lines = str(info.value).splitlines()
    assert lines == [
        f"--outcome:1:53: outcomes.custom.x: {TOO_DEEP} of parentheses, function calls, "
        "'-' and 'not' inside one another",
        "--outcome:1:5: outcomes.custom.big: the number 1e309 is too large "
        "(a number must be below 1.8e308)",
    ]  # the long sum is fine


def test_run_refuses_a_deep_outcome_and_records_an_overflow_as_unknown(tmp_path: Path) -> None:
    run = ["run", "latam_2025", "-n", "1", "--no-plot", "-q", "--out", str(tmp_path)]
    r = CliRunner().invoke(main, [*run, "--outcome", f"x={DEEP}"])
    assert r.exit_code == 2, r.output
    assert f"--outcome:1:53: outcomes.custom.x: {TOO_DEEP}" in r.output
    overflow = ["--outcome", "x=1e308 * 10", "--outcome", "y=1e308 * 10 > 0"]
    r = CliRunner().invoke(main, [*run, "--name", "r", *overflow])
    assert r.exit_code == 0, r.output
    runs = pd.read_parquet(tmp_path / "latam_2025" / "r" / "runs.parquet")
    assert runs["x"].isna().all() and runs["y"].isna().all()


def test_sweep_locates_a_deep_outcome_in_the_design_file(tmp_path: Path) -> None:
    design = tmp_path / "design.yaml"
    design.write_text(
        "method: grid\n"
        "parameters:\n"
        "  rules.threats.credibility: {values: [0.5, 0.6]}\n"
        "custom_outcomes:\n"
        f'  x: "{DEEP}"\n',
        encoding="utf-8",
    )
    sweep = ["sweep", "latam_2025", "-n", "1", "--out", str(tmp_path)]
    r = CliRunner().invoke(main, [*sweep, "--design", str(design)])
    assert r.exit_code == 2, r.output
    assert f"design.yaml:5:57: custom_outcomes.x: {TOO_DEEP}" in r.output
    grid = ["--param", "rules.threats.credibility=0.5,0.6"]
    r = CliRunner().invoke(main, [*sweep, *grid, "--outcome", f"x={DEEP}"])
    assert r.exit_code == 2, r.output
    assert f"--outcome:1:53: outcomes.custom.x: {TOO_DEEP}" in r.output
