"""The outcomes a sweep computes: its design's (`outcome_dates`, `custom_outcomes`) plus the
command line's (`--at`, `--outcome`), checked against the scenario before anything runs, each
problem located where it was written: `design.yaml:line:col` (the column inside the expression's
YAML scalar), `--outcome NAME=EXPR:1:col`, or the design field for designs built in Python.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from sim.design import Design
from sim.errors import Problem, ScenarioError
from sim.loader import Position, Tree
from sim.outcome_options import merged, option_locator, spec_from_options
from sim.outcomes import OutcomeError, OutcomeProblem, OutcomeSet, OutcomeSpec
from sim.schema.scenario import Scenario

__all__ = ["Places", "checked_outcomes", "with_options"]


@dataclass
class Places:
    """Where a sweep's outcomes were written: a design file (its tree), `--outcome` options."""

    tree: Tree | None = None
    options: Sequence[str] = ()
    dates: Sequence[str] = ()

    def expression(self, design: Design, p: OutcomeProblem) -> Problem:
        """Where an outcome problem was written (its expression, or the dates it concerns)."""
        path = "outcome_dates" if p.outcome == "dates" else f"custom_outcomes.{p.outcome}"
        if p.outcome == "dates":
            return self._date(design, p, path)
        from_options = {o.partition("=")[0].strip() for o in self.options}
        if p.outcome in from_options:
            return option_locator(self.options)(p)
        if self.tree is None or ("custom_outcomes", p.outcome) not in self.tree.positions:
            return Problem("design", 0, 0, path, _message(p))
        pos = self.tree.positions[("custom_outcomes", p.outcome)]
        line, col = _in_scalar(pos, design.custom_outcomes[p.outcome], p.column)
        return Problem(pos.file, line, col, path, p.message)

    def _date(self, design: Design, p: OutcomeProblem, path: str) -> Problem:
        for i, date in enumerate(design.outcome_dates):
            if not p.message.startswith(date):
                continue
            if date in self.dates:
                return Problem(f"--at {date}", 0, 0, path, p.message)
            if self.tree is not None:
                return self.tree.problem(("outcome_dates", i), p.message)
        return Problem("design", 0, 0, path, p.message)

    def interest(self, index: int, message: str) -> Problem:
        """Where the design's `index`-th outcome of interest was written."""
        if self.tree is not None:
            return self.tree.problem(("outcomes", index), message)
        return Problem("design", 0, 0, f"outcomes[{index}]", message)


def _message(p: OutcomeProblem) -> str:
    return f"column {p.column}: {p.message}" if p.column is not None else p.message


def _in_scalar(pos: Position, text: str, column: int | None) -> tuple[int, int]:
    """File line and column of the `column`-th character (1-based) of an expression written
    as the YAML scalar starting at `pos`: past a quote, or on a block scalar's first line."""
    try:
        lines = Path(pos.file).read_text(encoding="utf-8").splitlines()
        head = lines[pos.line - 1][pos.column - 1 :]
    except (OSError, IndexError, UnicodeDecodeError):
        return pos.line, pos.column
    offset = (column or 1) - 1
    if head[:1] in ("'", '"'):  # the opening quote is not part of the expression
        return pos.line, pos.column + 1 + offset
    if head[:1] not in ("|", ">"):
        return pos.line, pos.column + offset
    first = next(
        (k for k in range(pos.line, len(lines)) if lines[k].strip()), pos.line - 1
    )  # 0-based index of the block's first content line
    indent = len(lines[first]) - len(lines[first].lstrip())
    before = text[:offset]
    down = before.count("\n") if head[:1] == "|" else 0
    across = offset - (before.rfind("\n") + 1) if down else offset
    return first + 1 + down, indent + 1 + across


def with_options(design: Design, dates: Sequence[str], outcomes: Sequence[str]) -> Design:
    """The design with `--at` dates and `--outcome` expressions added; a custom outcome named
    both in the design file and by an option is an error (ScenarioError)."""
    if not dates and not outcomes:
        return design
    spec = merged(design.outcome_spec(), spec_from_options(dates, outcomes))
    return design.model_copy(
        update={"outcome_dates": spec.dates, "custom_outcomes": dict(spec.custom)}
    )


def checked_outcomes(scenario: Scenario, design: Design, places: Places | None) -> OutcomeSet:
    """The design's outcomes built for `scenario`, and its outcomes of interest checked against
    them; every problem at once, located (ScenarioError, exit 2)."""
    places = places or Places()
    spec = design.outcome_spec()
    problems: list[Problem] = []
    try:
        outcomes = OutcomeSet.build(scenario, spec)
    except OutcomeError as exc:
        problems = [places.expression(design, p) for p in exc.problems]
        broken = {p.outcome for p in exc.problems}
        # Without the broken outcomes (their names still count as defined), so that a typo in
        # the outcomes of interest is reported in the same pass.
        spec = OutcomeSpec(
            dates=() if "dates" in broken else spec.dates,
            custom={k: v for k, v in spec.custom.items() if k not in broken},
        )
        outcomes = OutcomeSet.build(scenario, spec)
        known = broken
    else:
        known = set()
    unknown = [(n, m) for n, m in outcomes.unknown(design.outcomes) if n not in known]
    index = {name: i for i, name in reversed(list(enumerate(design.outcomes)))}
    problems += [places.interest(index[name], msg) for name, msg in unknown]
    if problems:
        raise ScenarioError(problems)
    return outcomes
