"""Checking `rule_change` events takes time in proportion to their number (issue 13, review).

Each event's check used to re-read every event of the file and re-apply every earlier rule
change: time in n squared (latam_2025 plus 400 changes: 13 s to validate; a file under the node
limit: about 2 hours). The scenarios here are latam_2025 with generated changes written into its
own `events` section (no `extends`, so only the validation of the events is measured).
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any, get_args, get_origin

import pytest
from helpers import Hang, time_limit
from pydantic import BaseModel

import sim.schema.events.rule_change as rule_change
from sim.errors import Problem, ScenarioError
from sim.loader import Tree, load_tree
from sim.scenario import scenario_from_dict
from sim.schema import parameters
from sim.schema.parameters import Rules, check_rule_path
from sim.validation import validate_tree
from sim.yaml_input import capped

LATAM = Path(__file__).parents[1] / "sim" / "scenarios" / "latam_2025.yaml"
RATIO = 30
"""The longest a ten-times longer chain may take, in multiples of the shorter one's time: a
linear check takes about 10 times as long, the quadratic one about 100 times."""


def _chained(tmp_path: Path, n: int, broken: int | None = None) -> tuple[Path, int]:
    """latam_2025 with `n` changes of `trade.elasticity_short` spread over its horizon (each
    within the elasticities' order; `broken`, if given, the index of one that breaks it), then
    `bad`, which lowers `elasticity_long` below the last of them. Returns the file and the line
    of `bad`'s value."""
    lines = []
    for i in range(n):
        month = i * 48 // n  # 2025-01 .. 2028-12, several changes a step
        value = 2.5 if i == broken else round(0.7 + i % 5 * 0.2, 1)
        lines += [
            f"  rc{i}:",
            "    type: rule_change",
            f"    date: {2025 + month // 12}-{month % 12 + 1:02d}",
            "    path: trade.elasticity_short",
            f"    value: {value}",
        ]
    lines += ["  bad:", "    type: rule_change", "    date: 2028-12"]
    lines += ["    path: trade.elasticity_long", "    value: 1.0"]
    text = LATAM.read_text(encoding="utf-8")
    assert text.count("\nevents:\n") == 1
    text = text.replace("\nevents:\n", "\nevents:\n" + "\n".join(lines) + "\n")
    scenario = tmp_path / f"chain{n}.yaml"
    scenario.write_text(text, encoding="utf-8")
    line = text.splitlines().index("    value: 1.0", text.splitlines().index("  bad:")) + 1
    return scenario, line


def _problems(tree: Tree) -> list[Problem]:
    try:
        validate_tree(tree)
    except ScenarioError as exc:
        return exc.problems
    return []


def _bad_message(last_short: float, applied: list[str]) -> str:
    """What is reported at `bad`'s value: the order it breaks, with the changes before it."""
    return capped(
        "the elasticities must increase with time: "
        "elasticity_impact < elasticity_short < elasticity_long "
        f"(got 0.25, {last_short:g}, 1) (got 1.0) "
        f"(with the earlier rule_change {', '.join(applied)} in force)"
    )


def test_a_chain_of_rule_changes_is_folded_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """60 changes: the code as it was checked each one against the rules every earlier change
    left, 1,900 checks in all; folded once, only a change the rules refuse is checked again (for
    its messages). The problems stay the same: the one that breaks the order where it applies
    (rc30) is reported and left out of the rules in force after it."""
    n = 60
    scenario, line = _chained(tmp_path, n, broken=30)
    tree = load_tree(scenario)
    calls = 0

    def counted(*args: Any) -> list[tuple[str, str]]:
        nonlocal calls
        calls += 1
        return check_rule_path(*args)

    monkeypatch.setattr(rule_change, "check_rule_path", counted)
    problems = [str(p) for p in _problems(tree)]
    assert calls <= 3 * (n + 1), f"{calls} rule checks for {n + 1} rule changes"
    applied = [f"rc{i}" for i in range(n) if i != 30]
    assert problems == [
        f"{scenario}:{line - 5 * (n - 30)}:12: events.rc30.value: the elasticities must "
        "increase with time: elasticity_impact < elasticity_short < elasticity_long "
        "(got 0.25, 2.5, 2) (got 2.5)",
        f"{scenario}:{line}:12: events.bad.value: {_bad_message(1.5, applied)}",
    ]


def test_each_rule_change_is_applied_once_per_validation(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A sweep validates every design point: the code as it was applied each of 20 valid changes
    three times (checking it in the fold, applying it, checking it again for its report), 60
    applications; now once each."""
    n = 20
    scenario, _ = _chained(tmp_path, n)
    tree = load_tree(scenario)
    del tree.data["events"]["bad"]
    calls = 0
    with_rule = parameters.with_rule

    def counted(rules: Rules, path: str, value: Any) -> Rules:
        nonlocal calls
        calls += 1
        return with_rule(rules, path, value)

    monkeypatch.setattr(parameters, "with_rule", counted)
    monkeypatch.setattr(rule_change, "with_rule", counted)
    assert _problems(tree) == []
    assert calls == n


@pytest.mark.parametrize(
    ("path", "value"),
    [
        ("trade.elasticity_short", 1.5),  # valid
        ("trade.elasticity_short", 25.0),  # out of bounds
        ("trade.elasticity_long", 0.5),  # breaks the elasticities' order
        ("trade.elasticty_short", 1.5),  # unknown parameter
        ("trad.elasticity_short", 1.5),  # unknown section
        ("trade", 1.5),  # a section
        ("threats.salience_levels", 0.1),  # a nested section
        ("trade.diversion.share", 0.1),  # below a parameter
        ("threats.bloc_salience.level", 0.1),  # below a parameter that may be a name
        ("alignment.tilt_powers", 1.0),  # a pair of names
        ("alignment.tilt_powers.0", 1.0),  # inside the pair
        ("", 1.0),
        ("trade..diversion", 0.1),
        ("threats.reconsider", False),
    ],
)
def test_a_rule_change_is_reported_as_check_rule_path_words_it(
    mini_dict: dict[str, Any], path: str, value: float | bool
) -> None:
    """Applied once in the fold, a change is refused exactly when `check_rule_path` finds a
    problem with it, in the same words, whatever its path names."""
    mini_dict["events"]["change"] = {
        "type": "rule_change",
        "date": "2025-06",
        "path": path,
        "value": value,
    }
    expected = [
        f"<dict>: events.change.{where}: {capped(message)}"
        for where, message in check_rule_path(path, value, Rules())
    ]
    try:
        scenario_from_dict(mini_dict)
    except ScenarioError as exc:
        assert [str(p) for p in exc.problems] == expected
    else:
        assert expected == []


def test_no_rule_is_a_mapping() -> None:
    """The fold trusts a change the rules accept: a path naming no parameter fails because the
    rules forbid unknown keys, and a mapping among them would take any key a path adds."""
    todo: list[Any] = [Rules]
    while todo:
        model = todo.pop()
        assert model.model_config.get("extra") == "forbid", model.__name__
        for name, info in model.model_fields.items():
            ann = info.annotation
            if isinstance(ann, type) and issubclass(ann, BaseModel):
                todo.append(ann)
                continue
            kinds = [ann, get_origin(ann), *(get_origin(a) for a in get_args(ann))]
            assert not any(isinstance(k, type) and issubclass(k, dict) for k in kinds), name


def _seconds(tree: Tree) -> float:
    start = time.perf_counter()
    _problems(tree)
    return time.perf_counter() - start


@pytest.mark.slow
def test_validating_rule_changes_takes_time_in_proportion_to_their_number(
    tmp_path: Path,
) -> None:
    """2,000 changes validate within RATIO times the time of 200 (the code as it was: about 100
    times, 6 minutes), and the change that breaks the rules is still reported where it is
    written, with every earlier change in force. Ratios, not seconds, so a slow machine passes."""
    small = load_tree(_chained(tmp_path, 200)[0])
    scenario, line = _chained(tmp_path, 2000)
    large = load_tree(scenario)
    baseline = min(_seconds(small) for _ in range(3))
    try:
        with time_limit(RATIO * baseline):
            problems = _problems(large)
    except Hang as exc:
        pytest.fail(f"2,000 rule changes: {exc}; 200 took {baseline:.2f} s")
    applied = [f"rc{i}" for i in range(2000)]
    assert [str(p) for p in problems] == [
        f"{scenario}:{line}:12: events.bad.value: {_bad_message(1.5, applied)}"
    ]
