"""Outcomes asked for on the command line (`--at`, `--outcome NAME=EXPR`), and their problems
located where the user wrote them: the option (`--outcome:1:col`) or a file (`file:line:col`).

Both `geosim run` and `geosim sweep` use this, so an outcome typed on the command line is read,
checked and reported the same way whichever command runs it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

from pydantic import ValidationError

from sim.errors import Problem, ScenarioError
from sim.outcomes import OutcomeError, OutcomeProblem, OutcomeSet, OutcomeSpec
from sim.outcomes.spec import NAME
from sim.schema.scenario import Scenario

Locate = Callable[[OutcomeProblem], Problem]
"""Where an outcome's problem was written."""


def spec_from_options(dates: Sequence[str], outcomes: Sequence[str]) -> OutcomeSpec:
    """An OutcomeSpec from `--at DATE` and `--outcome NAME=EXPR` options; ScenarioError (every
    problem, located at its option) if a date or a name is malformed or a name repeats."""
    problems: list[Problem] = []
    custom: dict[str, str] = {}
    for option in outcomes:
        name, eq, expr = option.partition("=")
        name = name.strip()
        where = f"--outcome {option}"
        if not eq or not expr.strip():
            problems.append(Problem(where, 0, 0, "", "expected NAME=EXPRESSION"))
        elif not NAME.match(name):
            msg = f"{name!r} is not a valid outcome name (letters, digits, _; not first a digit)"
            problems.append(Problem(where, 0, 0, "", msg))
        elif name in custom:
            msg = "this outcome is already defined by an earlier --outcome"
            problems.append(Problem(where, 0, 0, f"outcomes.custom.{name}", msg))
        else:
            custom[name] = expr
    try:
        spec = OutcomeSpec(dates=tuple(dates), custom=custom)
    except ValidationError as exc:  # a malformed date, reported with the options' problems
        for e in exc.errors(include_url=False):
            where = "--at" if e["loc"][:1] == ("dates",) else "--outcome"
            problems.append(Problem(where, 0, 0, "", e["msg"].removeprefix("Value error, ")))
    if problems:
        raise ScenarioError(problems)
    return spec


def option_locator(outcomes: Sequence[str]) -> Locate:
    """Locate a problem in the `--outcome` option that defined it (column within the option)."""
    offsets = {}
    for option in outcomes:
        name, _, expr = option.partition("=")
        offsets[name.strip()] = len(option) - len(expr)  # characters before the expression

    def locate(p: OutcomeProblem) -> Problem:
        if p.outcome in offsets and p.column is not None:
            return Problem("--outcome", 1, offsets[p.outcome] + p.column, p.path, p.message)
        where = "--at" if p.outcome == "dates" else "--outcome"
        return Problem(where, 0, 0, p.path, p.message)

    return locate


def build_checked(scenario: Scenario, spec: OutcomeSpec, locate: Locate) -> OutcomeSet:
    """`OutcomeSet.build`, with its problems turned into located ScenarioError problems."""
    try:
        return OutcomeSet.build(scenario, spec)
    except OutcomeError as exc:
        raise ScenarioError([locate(p) for p in exc.problems]) from None


def merged(base: OutcomeSpec, extra: OutcomeSpec) -> OutcomeSpec:
    """Two specs as one (a design file's and the command line's); a custom name defined in both
    is an error rather than a silent replacement."""
    clash = sorted(set(base.custom) & set(extra.custom))
    if clash:
        msg = "also defined in the design file's custom_outcomes"
        raise ScenarioError(
            [Problem("--outcome", 0, 0, f"outcomes.custom.{n}", msg) for n in clash]
        )
    custom: Mapping[str, str] = {**base.custom, **extra.custom}
    dates = tuple(dict.fromkeys((*base.dates, *extra.dates)))
    return OutcomeSpec(dates=dates, custom=dict(custom))
