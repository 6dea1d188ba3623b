"""Every rule parameter has a plausible range (or is fixed with a reason), inside the schema."""

from __future__ import annotations

import itertools
from typing import Any

import pytest
from pydantic import BaseModel, ValidationError

from sim.calibration.population import load_population
from sim.schema.base import inner_model
from sim.schema.parameters import Rules, with_rule
from sim.schema.ranges import Fixed, Range, draw, ranged_paths, rule_ranges

QUANTILES = [i / 20 for i in range(21)]


def leaf_paths(model: type[BaseModel] = Rules, prefix: str = "") -> list[str]:
    """Every leaf field of the rules, walked from the pydantic models."""
    out: list[str] = []
    for name, field in model.model_fields.items():
        sub = inner_model(field.annotation)
        if sub is None:
            out.append(prefix + name)
        else:
            out += leaf_paths(sub, f"{prefix}{name}.")
    return out


def default(path: str) -> Any:
    node: Any = Rules()
    for part in path.split("."):
        node = getattr(node, part)
    return node


RANGES = [(p, e) for p, e in rule_ranges().items() if isinstance(e, Range)]


def test_walk_finds_nested_and_every_section() -> None:
    paths = leaf_paths()
    assert "threats.salience_levels.core" in paths and "alignment.weights.trade" in paths
    assert {p.split(".")[0] for p in paths} == set(Rules.model_fields)
    assert "threats.salience_levels" not in paths and "alignment.weights" not in paths


def test_every_leaf_has_exactly_one_entry_and_no_entry_is_unknown() -> None:
    leaves = leaf_paths()
    entries = rule_ranges()
    assert len(leaves) == len(set(leaves))
    assert sorted(leaves) == sorted(entries), {
        "missing": sorted(set(leaves) - set(entries)),
        "unknown": sorted(set(entries) - set(leaves)),
    }


def test_entries_are_ranges_or_fixed_with_reasons() -> None:
    for path, entry in rule_ranges().items():
        assert isinstance(entry, Range | Fixed), path
        if isinstance(entry, Range):
            assert entry.basis.strip(), path
            assert entry.low < entry.high, path
        else:
            assert entry.reason.strip(), path
    assert ranged_paths() == [p for p, _ in RANGES]


@pytest.mark.parametrize(("path", "entry"), RANGES, ids=[p for p, _ in RANGES])
def test_default_lies_inside_the_range(path: str, entry: Range) -> None:
    value = default(path)
    if isinstance(value, str):  # a salience level name
        value = Rules().threats.salience_value(value)
    assert entry.low <= value <= entry.high


@pytest.mark.parametrize(("path", "entry"), RANGES, ids=[p for p, _ in RANGES])
def test_range_ends_validate_in_the_schema(path: str, entry: Range) -> None:
    for end in (entry.low, entry.high):
        try:
            rules = with_rule(Rules(), path, end)
        except ValidationError as exc:  # pragma: no cover - the failure message
            pytest.fail(f"{path}={end} is refused by the schema: {exc}")
        assert default_in(rules, path) == end


def default_in(rules: Rules, path: str) -> Any:
    node: Any = rules
    for part in path.split("."):
        node = getattr(node, part)
    return node


def test_loguniform_ranges_are_positive() -> None:
    for path, entry in RANGES:
        if entry.distribution == "loguniform":
            assert entry.low > 0, path


@pytest.mark.parametrize(("path", "entry"), RANGES, ids=[p for p, _ in RANGES])
def test_draw_maps_the_ends_and_is_monotone(path: str, entry: Range) -> None:
    assert draw(0.0, path) == entry.low
    assert draw(1.0, path) == entry.high
    values = [draw(u, path) for u in QUANTILES]
    assert all(b > a for a, b in itertools.pairwise(values)), path
    assert all(entry.low <= v <= entry.high for v in values)


def test_loguniform_draw_is_geometric() -> None:
    entry = Range(0.01, 1.0, "loguniform", "test")
    assert entry.at(0.5) == pytest.approx(0.1)
    assert Range(0.0, 2.0, "uniform", "test").at(0.25) == pytest.approx(0.5)


def test_draw_refuses_fixed_unknown_and_bad_quantiles() -> None:
    with pytest.raises(ValueError, match="fixed"):
        draw(0.5, "threats.reconsider")
    with pytest.raises(KeyError):
        draw(0.5, "threats.nonsense")
    with pytest.raises(ValueError, match="quantile"):
        draw(1.5, "threats.credibility")


def test_bad_ranges_are_refused() -> None:
    with pytest.raises(ValueError):
        Range(1.0, 1.0, "uniform", "x")
    with pytest.raises(ValueError):
        Range(0.0, 1.0, "loguniform", "x")
    with pytest.raises(ValueError):
        Range(0.0, 1.0, "uniform", " ")


def test_salience_ranges_are_the_calibration_priors() -> None:
    levels = load_population().salience.levels
    for name, level in levels.items():
        entry = rule_ranges()[f"threats.salience_levels.{name}"]
        assert isinstance(entry, Range)
        factor = 2.03  # the fitted scale moves the prior ranges with the levels
        assert entry.low == pytest.approx(level.low * factor), name
        assert entry.high == pytest.approx(level.high * factor), name
        # the default is the fitted value (docs/calibration.md): the prior times one common
        # factor, so the levels keep their order and their ratios to within rounding
        fitted = default(f"threats.salience_levels.{name}")
        assert isinstance(fitted, float)
        assert fitted / level.value == pytest.approx(2.03, rel=0.03), name
