"""Input that parses but is wrong (issue 13, item 9): refused with a located message, or, when
possible but implausible, accepted with a warning that says why.

Each file here is `tests/bad/_valid_minimal.yaml` with one line changed, so every message can be
checked against the line and column it must point at.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from sim.calendar import month_index
from sim.cli import main
from sim.errors import ScenarioError
from sim.scenario import builtin_scenarios_dir, load_scenario
from sim.schema.base import SOFT_GDP, SoftBound
from sim.schema.expectations import PolicyExpect
from sim.schema.world import State

VALID = Path(__file__).parent / "bad" / "_valid_minimal.yaml"


def _variant(tmp_path: Path, *edits: tuple[str, str], name: str = "wrong.yaml") -> Path:
    """The minimal valid scenario with each `old` text replaced by `new` (each must occur once)."""
    text = VALID.read_text()
    for old, new in edits:
        assert text.count(old) == 1, old
        text = text.replace(old, new)
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def _problems(path: Path, overrides: tuple[str, ...] = ()) -> list[str]:
    with pytest.raises(ScenarioError) as info:
        load_scenario(path, overrides)
    return [str(p) for p in info.value.problems]


# --------------------------------------------------------------------------- dates

IMPOSSIBLE_DAYS = ["2025-02-30", "2025-02-29", "2025-02-99", "2025-02-00", "2025-04-31"]
FOREIGN_DIGITS = [
    "\uff12\uff10\uff12\uff15-02",  # fullwidth
    "\u0662\u0660\u0662\u0665-\u0660\u0662",  # Arabic-Indic
    "\u06f2\u06f0\u06f2\u06f5-\u06f0\u06f2",  # extended Arabic-Indic (Persian)
    "2025-\u0660\u0662",  # ASCII year, Arabic-Indic month
]


@pytest.mark.parametrize("date", IMPOSSIBLE_DAYS)
def test_a_day_that_does_not_exist_is_refused(tmp_path: Path, date: str) -> None:
    path = _variant(tmp_path, ("date: 2025-02\n", f"date: {date}\n"))
    [problem] = _problems(path)
    days = 30 if date.startswith("2025-04") else 28
    month = date[:7]
    assert problem.startswith(f"{path}:28:11: events.canal.date: day must be 01..{days}")
    assert f"({month} has {days} days), got '{date}'" in problem


@pytest.mark.parametrize("date", FOREIGN_DIGITS)
def test_digits_other_than_ascii_are_refused(tmp_path: Path, date: str) -> None:
    path = _variant(tmp_path, ("by: 2025-06\n", f"by: {date}\n"))
    [problem] = _problems(path)
    assert problem.startswith(f"{path}:39:9: expect.pan_leaves.by: expected a date as YYYY-MM")
    assert "(digits 0-9)" in problem


@pytest.mark.parametrize("date", [*IMPOSSIBLE_DAYS, *FOREIGN_DIGITS])
def test_bad_dates_in_set_overrides_are_refused(date: str) -> None:
    [problem] = _problems(VALID, (f"time.start={date}",))
    assert problem.startswith(f"--set time.start={date}: time.start: ")


def test_real_days_and_leap_years_are_accepted() -> None:
    assert month_index("2024-02-29") == month_index("2024-02") == 2024 * 12 + 1
    assert month_index("2025-12-31") == 2025 * 12 + 11
    assert month_index("2000-02-29") == 2000 * 12 + 1  # divisible by 400: a leap year
    with pytest.raises(ValueError, match=r"01\.\.28"):
        month_index("1900-02-29")  # divisible by 100 only: not one
    with pytest.raises(ValueError, match="YYYY-MM"):
        month_index("2025-02\n-01")


def test_validate_refuses_an_impossible_date_with_exit_2(tmp_path: Path) -> None:
    path = _variant(tmp_path, ("date: 2025-02\n", "date: 2025-02-30\n"))
    result = CliRunner().invoke(main, ["validate", str(path)])
    assert result.exit_code == 2, result.output
    assert f"{path}:28:11: events.canal.date: day must be 01..28" in result.output


# --------------------------------------------------------------------------- policy names

POLICY_EXPECT = """\
  pan_ports:
    type: policy
    state: PAN
    policy: {name}
    active: false
    by: 2025-06
"""

STANDING = """\
  USA:
    name: United States
    gdp: 2.7e13
    policies:
      ports:
        demand: {{policy: {name}, active: {active}}}
        stake: 0.05
"""

PAN_POLICY = (
    "    gdp: 8.3e10\nblocs:",
    "    gdp: 8.3e10\n    policies:\n      chinese_ports: {active: true}\nblocs:",
)


def _with_policy_expectation(tmp_path: Path, name: str) -> Path:
    return _variant(
        tmp_path,
        PAN_POLICY,
        ("    by: 2025-06\n", "    by: 2025-06\n" + POLICY_EXPECT.format(name=name)),
    )


def test_a_misspelt_policy_in_an_expectation_is_refused(tmp_path: Path) -> None:
    """Before: accepted, and the expectation passed in every replicate (the unknown policy reads
    as off everywhere)."""
    path = _with_policy_expectation(tmp_path, "chinese_prots")
    [problem] = _problems(path)
    assert problem == (
        f"{path}:45:13: expect.pan_ports.policy: unknown policy 'chinese_prots'; did you mean "
        "'chinese_ports'? (valid: chinese_ports)"
    )


def test_a_misspelt_policy_in_a_standing_demand_is_refused(tmp_path: Path) -> None:
    """Before: accepted; a demand to drop it was always met, so the policy never threatened."""
    for active in ("false", "true"):
        path = _variant(
            tmp_path,
            PAN_POLICY,
            (
                "  USA: {name: United States, gdp: 2.7e13}\n",
                STANDING.format(name="chinese_prots", active=active),
            ),
        )
        [problem] = _problems(path)
        assert f"{path}:15:26: powers.USA.policies.ports.demand.policy: unknown policy" in problem
        assert "did you mean 'chinese_ports'?" in problem


def test_a_policy_no_state_has_is_refused_even_with_none_defined(tmp_path: Path) -> None:
    path = _variant(
        tmp_path, ("    by: 2025-06\n", "    by: 2025-06\n" + POLICY_EXPECT.format(name="x"))
    )
    [problem] = _problems(path)
    assert "expect.pan_ports.policy: unknown policy 'x' (valid: none are defined)" in problem


def test_policies_of_other_states_and_of_events_are_accepted(tmp_path: Path) -> None:
    """A threat can make a state adopt a policy another state has, and a policy_change event
    creates one: expectations about either are meaningful."""
    created = (
        "    stake: 0.06\nexpect:",
        "    stake: 0.06\n  adopt:\n    type: policy_change\n    date: 2025-03\n"
        "    state: BOL\n    policy: new_law\n    active: true\nexpect:",
    )
    path = _variant(
        tmp_path,
        PAN_POLICY,
        created,
        ("    by: 2025-06\n", "    by: 2025-06\n" + POLICY_EXPECT.format(name="new_law")),
    )
    made = load_scenario(path).scenario.expect["pan_ports"]
    assert isinstance(made, PolicyExpect) and made.policy == "new_law"
    other = _variant(
        tmp_path,
        PAN_POLICY,
        (
            "    by: 2025-06\n",
            "    by: 2025-06\n" + POLICY_EXPECT.format(name="chinese_ports").replace("PAN", "BOL"),
        ),
        name="other.yaml",
    )
    adopted = load_scenario(other).scenario.expect["pan_ports"]
    assert isinstance(adopted, PolicyExpect) and adopted.state == "BOL"


# --------------------------------------------------------------------------- tilt levels


TILT = "  tilt:\n    type: tilt\n    state: PAN\n    {key}: {value}\n    by: 2025-06\n"
"""A tilt expectation appended after `pan_leaves` (its level at line 43)."""

LEVELS = [("above", ".inf"), ("below", ".inf"), ("below", "-.inf"), ("above", ".nan")]


@pytest.mark.parametrize(("key", "value"), LEVELS)
def test_a_tilt_level_must_be_finite(tmp_path: Path, key: str, value: str) -> None:
    """Before: `above: .inf` was accepted (and failed in every replicate)."""
    tilt = TILT.format(key=key, value=value)
    path = _variant(tmp_path, ("    by: 2025-06\n", "    by: 2025-06\n" + tilt))
    [problem] = _problems(path)
    where = f"{path}:43:{7 + len(key)}: expect.tilt.{key}"
    assert problem == f"{where}: Input should be a finite number (got {value})"


# --------------------------------------------------------------------------- warnings

WARNED = [
    (
        ("    gdp: 8.3e10\n", "    gdp: 1.6e6\n"),
        ":19:10: states.PAN.gdp: 1.6e+06 is implausibly small: below 1e7 US$",
        "not millions or billions",
    ),
    (
        ("  CHN: {name: China, gdp: 1.8e13}", "  CHN: {name: China, gdp: 1.8e15}"),
        ":11:27: powers.CHN.gdp: 1.8e+15 is implausibly large: above 2e14 US$",
        "world GDP",
    ),
    (
        ("exports: {USA: 4.1e8, CHN: 1.17e9}", "exports: {USA: 9e11, CHN: 1.17e9}"),
        ":16:14: states.BOL.exports: exports of 9.01e+11 US$ are 19.7 times GDP (4.58e+10)",
        "same unit",
    ),
    (
        ("    by: 2025-06\n", "    by: 2025-06\n" + TILT.format(key="above", value=5)),
        ":43:12: expect.tilt.above: 5 is implausibly large: a tilt lies in [-1, 1]",
        "settled before any run",
    ),
    (
        ("    by: 2025-06\n", "    by: 2025-06\n" + TILT.format(key="above", value=1.0)),
        ":43:12: expect.tilt.above: 1 is implausibly large: a tilt lies in [-1, 1], so no run",
        "settled before any run",
    ),
    (
        ("    by: 2025-06\n", "    by: 2025-06\n" + TILT.format(key="below", value=-1)),
        ":43:12: expect.tilt.below: -1 is implausibly small: a tilt lies in [-1, 1], so no run",
        "settled before any run",
    ),
    (
        ("    by: 2025-06\n", "    by: 2025-06\n" + TILT.format(key="below", value=1.5)),
        ":43:12: expect.tilt.below: 1.5 is implausibly large: a tilt lies in [-1, 1], so every",
        "settled before any run",
    ),
    (
        ("    gdp: 8.3e10\n", "    gdp: 8.3e10\n    policies: {canal: {salience: 30}}\n"),
        ":20:34: states.PAN.policies.canal.salience: 30 is implausibly large",
        "0.3 = 30%",
    ),
]


@pytest.mark.parametrize(("edit", "where", "why"), WARNED)
def test_implausible_values_are_accepted_with_a_located_warning(
    tmp_path: Path, edit: tuple[str, str], where: str, why: str
) -> None:
    path = _variant(tmp_path, edit)
    [warning] = [str(w) for w in load_scenario(path).warnings]
    assert warning.startswith(f"{path}{where}"), warning
    assert why in warning


@pytest.mark.parametrize(("edit", "where", "why"), WARNED[:1])
def test_validate_run_and_check_print_warnings_and_keep_exit_status(
    tmp_path: Path, edit: tuple[str, str], where: str, why: str
) -> None:
    path = _variant(tmp_path, edit)
    runner = CliRunner()
    for args in (
        ["validate", str(path)],
        ["run", str(path), "-n", "1", "--no-plot", "-q", "--out", str(tmp_path / "out")],
        ["check", str(path), "-n", "2"],
    ):
        result = runner.invoke(main, args)
        assert result.exit_code == 0, (args, result.output)
        assert f"warning: {path}{where}" in result.stderr, (args, result.stderr)
        assert why in result.stderr


def test_validate_prints_warnings_in_a_real_process(tmp_path: Path) -> None:
    path = _variant(tmp_path, WARNED[2][0])
    done = subprocess.run(
        [sys.executable, "-m", "sim", "validate", str(path)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith(f"ok: {path}")
    assert done.stderr.startswith(f"warning: {path}:16:14: states.BOL.exports: exports of")
    assert "Traceback" not in done.stderr


def test_shipped_scenarios_have_no_warnings() -> None:
    files = sorted(builtin_scenarios_dir().rglob("*.yaml"))
    assert len(files) > 10
    for f in files:
        assert load_scenario(f).warnings == [], f


def test_soft_bounds_sit_on_the_value_types_next_to_the_hard_bounds() -> None:
    """The warning comes from the type (`sim.schema.base`), not from a list kept elsewhere."""
    metadata = State.model_fields["gdp"].metadata
    assert SOFT_GDP in metadata
    bound = SoftBound(low=0.0, high=1.0, below="small", above="large")
    assert bound.problem(2.0) == "2 is implausibly large: large"
    assert bound.problem(-1) == "-1 is implausibly small: small"
    assert bound.problem(0.5) is None
    assert bound.problem(1.0) is None and bound.problem(0.0) is None
    open_top = SoftBound(low=0.0, high=1.0, below="small", above="large", high_warns=True)
    assert open_top.problem(1.0) == "1 is implausibly large: large"
    assert open_top.problem(0.0) is None
