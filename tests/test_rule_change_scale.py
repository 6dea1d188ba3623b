"""Checking `rule_change` events takes time in proportion to their number (issue 13, review).

Each event's check used to re-read every event of the file and re-apply every earlier rule
change: time in n squared (latam_2025 plus 400 changes: 13 s to validate; a file under the node
limit: about 2 hours). The scenarios here are latam_2025 with generated changes written into its
own `events` section (no `extends`, so only the validation of the events is measured).
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest
from helpers import Hang, time_limit

import sim.schema.events.rule_change as rule_change
from sim.errors import Problem, ScenarioError
from sim.loader import Tree, load_tree
from sim.schema.parameters import check_rule_path
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
    left, 1,900 checks in all; folded once, each change is checked twice (in the fold, then for
    its own report). The problems stay the same: the one that breaks the order where it applies
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
