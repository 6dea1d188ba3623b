"""Estimates with a plausible range: `{value, source, low, high, distribution}` in a scenario.

Only a number whose source is of kind `estimate` may carry a range; `--propagate`
(`sim.uncertainty`) draws it along with the rule ranges. Measured figures (the article, data,
literature) are not drawn: their uncertainty is not what the range would describe.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, ValidationError

from sim.loader import RANGE_KEYS, Key, Tree, is_sourced

if TYPE_CHECKING:
    from sim.schema.refs import Refs
    from sim.schema.scenario import Scenario

type Drawn = Literal["uniform", "loguniform", "integer"]
"""How `--propagate` draws an estimate (a `sim.design.ParameterSpec` distribution)."""

FLOAT_BOUND = 1e308
"""The magnitude a range's numbers must stay below. They are drawn as floats, and a float holds
at most about 1.8e308: a larger integer would overflow on conversion, an infinite end cannot be
sampled. The round bound, a little inside the float's, keeps the message simple."""

LOGUNIFORM_INTEGER = (
    "an integer field cannot be drawn log-uniformly: leave `distribution` out (or give "
    "`uniform`) to draw whole numbers evenly from low to high"
)
"""Why an integer field's range with `distribution: loguniform` is refused."""


def sourced_ranges(tree: Tree) -> dict[Key, dict[str, Any]]:
    """Each sourced value that states a range: path -> {value, source, low, high, distribution}
    as written (checked by `sim.validation`, drawn by `sim.uncertainty`)."""
    found: dict[Key, dict[str, Any]] = {}

    def walk(node: Any, path: Key) -> None:
        if is_sourced(node):
            if any(k in node for k in RANGE_KEYS):
                found[path] = {k: node.get(k) for k in ("value", "source", *RANGE_KEYS)}
            return
        if isinstance(node, dict):
            for k, v in node.items():
                walk(v, (*path, k))
        elif isinstance(node, list):
            for i, v in enumerate(node):
                walk(v, (*path, i))

    walk(tree.data, ())
    return found


def check_ranges(s: Scenario, refs: Refs, tree: Tree) -> None:
    """A range (`low`, `high`) belongs to an estimate: a number whose source is of kind
    `estimate`, inside its range, that the sampler can draw; `--propagate` draws it."""
    for path, r in sourced_ranges(tree).items():
        problem = _range_problem(s, r)
        if problem is None and r["distribution"] == "loguniform" and integer_field(s, path):
            problem = LOGUNIFORM_INTEGER
        if problem is None:
            problem = _sampling_problem(r, drawn_as(s, path, r))
        if problem:
            refs.bad(path, problem)


def drawn_as(scenario: BaseModel, path: Key, r: dict[str, Any]) -> Drawn:
    """How `--propagate` draws the estimate at `path` (its range `r` as written).

    Whole numbers are drawn for a field that holds them (`deadline_months`), whatever the
    range's numbers look like; a float field written `2` is still drawn as floats, and an
    explicit `distribution` is honoured."""
    written = r["distribution"]
    integer = integer_field(scenario, path)
    if integer is None:  # the field could not be read back: how the numbers are written
        integer = written is None and all(type(r[k]) is int for k in ("value", "low", "high"))
    return "integer" if integer else (written or "uniform")


def _sampling_problem(r: dict[str, Any], drawn: Drawn) -> str | None:
    """Why the sampler cannot draw a range that is otherwise sound (too wide for a float, an
    integer range beyond 2**53), or None. The sampler's own rule, applied at validation so that
    `geosim validate` refuses what `--propagate` would."""
    # imported here: sim.design imports the scenario schema, whose validation imports this module
    from sim.design import ParameterSpec

    try:
        ParameterSpec(low=float(r["low"]), high=float(r["high"]), distribution=drawn)
    except ValidationError as exc:
        return "; ".join(e["msg"].removeprefix("Value error, ") for e in exc.errors())
    return None


def integer_field(scenario: BaseModel, path: Key) -> bool | None:
    """Whether the validated scenario holds an integer at `path` (None if it cannot be read).
    The schema decides: pydantic turns a `2` written for a float field into 2.0 and keeps an
    int field's int, and no field takes both."""
    node: Any = scenario
    try:
        for part in path:
            node = getattr(node, str(part)) if isinstance(node, BaseModel) else node[part]
    except (AttributeError, KeyError, IndexError, TypeError):
        return None
    if isinstance(node, bool) or not isinstance(node, int | float):
        return None
    return isinstance(node, int)


def _range_problem(s: Scenario, r: dict[str, Any]) -> str | None:
    value, low, high, dist = r["value"], r["low"], r["high"], r["distribution"] or "uniform"
    src = s.meta.sources.get(str(r["source"])) if r["source"] is not None else None
    numbers = (value, low, high)
    if not all(isinstance(x, int | float) and not isinstance(x, bool) for x in numbers):
        return "a range needs a number `value` with numbers `low` and `high`"
    if src is None or src.kind != "estimate":
        return (
            "only an estimate carries a range: cite a source of kind `estimate` (measured "
            "figures from the article, data or literature are not drawn)"
        )
    if dist not in ("uniform", "loguniform"):
        return f"`distribution` must be uniform or loguniform, not {dist!r}"
    if any(abs(x) >= FLOAT_BOUND for x in numbers):  # inf too; NaN fails the order check below
        return "`value`, `low` and `high` must fit a float (within about +-1e308)"
    if not low <= value <= high or not low < high:
        return f"the range needs low < high and low <= value <= high (got {low}, {value}, {high})"
    if dist == "loguniform" and low <= 0:
        return "a loguniform range needs low > 0"
    return None
