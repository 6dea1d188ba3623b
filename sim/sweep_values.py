"""A sweep's design values set on its base scenario, and checked before anything runs.

Every run of a sweep validates its own scenario (`scenario_with`), in a worker; but a value the
schema refuses should stop the sweep before the first run, not fail every run that has it. So
each parameter is checked alone against the base scenario with the few values that can go
wrong (`check_values`), found from the design itself rather than from its points: a design of
millions of points is checked at once, before it is built.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterator
from typing import Any

import numpy as np

from sim.design import Design
from sim.errors import Problem, ScenarioError
from sim.loader import Tree, apply_override, get_path, parse_path
from sim.scenario import Scenario, validate_tree
from sim.yaml_input import clip


def scenario_with(base: Scenario, values: dict[str, Any]) -> Scenario:
    """The base scenario with a design point's values set (same paths as `--set`), validated."""
    tree = Tree(data=base.model_dump(mode="python"), files=[f"<{base.meta.name}>"])
    for path, value in values.items():
        apply_override(tree, f"{_unsourced(tree.data, path)}={json.dumps(value)}")
    return validate_tree(tree).scenario


def _unsourced(data: dict[str, Any], path: str) -> str:
    """`states.BOL.gdp.value` as `states.BOL.gdp`: in the file the number has a source, so
    `--set` reaches it as `.value`; the validated scenario holds the bare number."""
    if not path.endswith(".value"):
        return path
    try:
        held = get_path(data, parse_path(path.removesuffix(".value")))
    except (KeyError, IndexError, TypeError, ValueError):
        return path
    return path.removesuffix(".value") if isinstance(held, int | float) else path


def _probes(design: Design, name: str, axes: dict[str, list[Any]]) -> Iterator[tuple[Any, str]]:
    """Values of one parameter worth validating, each with where it comes from: a grid's
    distinct values (at the first point that has each), else the ends of its range. Found
    from the design alone: a design of millions of points is checked before it is built.

    `axes` are a grid's values of every parameter, in design order (unused for sampled
    designs)."""
    spec = design.parameters[name]
    if design.method != "grid":
        assert spec.low is not None and spec.high is not None
        ends = spec.scale(np.array([0.0, 1.0])) if spec.distribution == "integer" else None
        for end, value in zip(("low", "high"), ends or (spec.low, spec.high), strict=True):
            yield value, f"design parameter {name}, the {end} end of its range"
        return
    names = list(axes)
    stride = math.prod(len(axes[n]) for n in names[names.index(name) + 1 :])
    seen: set[str] = set()
    for j, value in enumerate(axes[name]):
        text = json.dumps(value)
        if text not in seen:
            seen.add(text)
            k = j * stride
            yield value, f"design point {k} {clip(str(_grid_point(axes, k)), 200)}"


def _grid_point(axes: dict[str, list[Any]], k: int) -> dict[str, Any]:
    """The `k`-th point of a grid (the last axis varies fastest), without the others."""
    point: dict[str, Any] = {}
    for name in reversed(axes):
        k, digit = divmod(k, len(axes[name]))
        point[name] = axes[name][digit]
    return {name: point[name] for name in axes}


def check_values(base: Scenario, design: Design) -> None:
    """Check every parameter's values against the schema before anything is built or runs.

    Each distinct value of a grid axis (for sampled designs: the ends of each range) is set
    alone on the base scenario and validated, which catches unknown paths, wrong types and
    out-of-range values at the cost of a few validations per parameter rather than one per
    point (points are built again in the workers, chunk by chunk).
    """
    problems: list[Problem] = []
    seen: set[tuple[str, str]] = set()  # a typo in a path is reported once
    grid = design.method == "grid"
    axes = {n: p.grid_values() for n, p in design.parameters.items()} if grid else {}
    for name in design.parameters:
        for value, where in _probes(design, name, axes):
            try:
                scenario_with(base, {name: value})
            except ScenarioError as exc:
                for p in exc.problems:
                    if (p.path, p.message) not in seen:
                        seen.add((p.path, p.message))
                        problems.append(Problem(where, 0, 0, p.path, p.message))
                break
        if len(problems) >= 20:
            break
    if problems:
        raise ScenarioError(problems)
