"""The registries of event and expectation types: complete, self-describing, and each type does
what it declares (a stub that does nothing fails)."""

from __future__ import annotations

import importlib
import pkgutil
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from helpers import imported_modules

import sim.schema
import sim.schema.events as events_pkg
import sim.schema.expectations as expect_pkg
from sim.reference import scenario_reference, sections
from sim.runner import Replicate, RunView, run_once
from sim.schema.events import EventBase, event_types
from sim.schema.examples import EXAMPLE_SEED, expectation_world, world_with
from sim.schema.expectations import ExpectBase, expect_types
from sim.schema.scenario import Scenario
from sim.validation import scenario_from_dict

SCHEMA_DIR = Path(sim.schema.__file__).parent


def _subclasses(base: type) -> set[type]:
    out: set[type] = set()
    sub: type
    for sub in base.__subclasses__():
        out |= {sub} | _subclasses(sub)
    return out


def _import_all(package: Any) -> None:
    for info in pkgutil.iter_modules(package.__path__):
        importlib.import_module(f"{package.__name__}.{info.name}")


def test_every_event_class_is_in_the_union() -> None:
    _import_all(events_pkg)
    assert _subclasses(EventBase) == set(event_types())


def test_every_expectation_class_is_in_the_union() -> None:
    _import_all(expect_pkg)
    assert _subclasses(ExpectBase) == set(expect_types())


def test_type_names_are_unique_and_each_type_has_its_own_module() -> None:
    for types in (event_types(), expect_types()):
        names = [t.type_name() for t in types]
        assert len(set(names)) == len(names)
        modules = [t.__module__ for t in types]
        assert len(set(modules)) == len(modules), "one module per type"


def test_a_type_without_a_handler_cannot_be_used() -> None:
    """`apply` and `evaluate` are abstract: a class that forgets one cannot be instantiated."""
    for base, method in ((EventBase, "apply"), (ExpectBase, "evaluate")):
        for cls in (*event_types(), *expect_types()):
            if issubclass(cls, base):
                assert method in vars(cls), f"{cls.__name__} does not define {method}"
        stub = type("Stub", (base,), {"__module__": __name__})
        with pytest.raises(TypeError, match="abstract"):
            stub(date="2025-01", by="2025-01")


def test_the_reference_documents_every_registered_type() -> None:
    titles = [title for title, _ in sections()]
    text = scenario_reference()
    for cls in event_types():
        assert f"events.<id> (type: {cls.type_name()})" in titles
        assert (cls.__doc__ or "").strip() in text
    for xcls in expect_types():
        assert f"expect.<id> (type: {xcls.type_name()})" in titles


def test_schema_modules_import_neither_the_model_nor_mesa() -> None:
    forbidden = ("mesa", "sim.model", "sim.agents", "sim.runner", "sim.phases", "sim.coercion")
    for path in SCHEMA_DIR.rglob("*.py"):
        bad = {m for m in imported_modules(path) if m.startswith(forbidden)}
        assert not bad, f"{path.relative_to(SCHEMA_DIR)} imports {sorted(bad)}"


# --------------------------------------------------------------------------- declared effects


def _run(data: dict[str, Any]) -> Replicate:
    spec: Scenario = scenario_from_dict(data).scenario
    return run_once(spec, EXAMPLE_SEED, collect=False)


def _end_value(rep: Replicate, state: str, variable: str) -> float:
    return float(rep.data[-1, rep.states.index(state), rep.names.index(variable)])


@pytest.mark.parametrize("cls", event_types(), ids=lambda c: c.type_name())
def test_each_event_type_has_its_declared_effect(cls: type[EventBase]) -> None:
    example = cls.example
    own = list(example)[-1]
    assert example[own]["type"] == cls.type_name(), "the example's last event is of this type"
    with_it = _run(world_with(example))
    without = _run(world_with({k: v for k, v in example.items() if k != own}))
    effect = cls.effect
    if effect.log_kind is not None:
        kinds = {(row["kind"], row["target"]) for row in with_it.log}
        assert any(k == effect.log_kind for k, _ in kinds)
        assert not any(row["kind"] == effect.log_kind for row in without.log)
    if effect.variable is not None:
        after = _end_value(with_it, effect.state, effect.variable)
        before = _end_value(without, effect.state, effect.variable)
        moved = after > before if effect.direction == "up" else after < before
        assert moved, f"{effect.variable} of {effect.state}: {before} -> {after}"


def _expectation_run() -> RunView:
    data = expectation_world()
    spec = scenario_from_dict(data).scenario
    return RunView(run_once(spec, EXAMPLE_SEED, collect=False), spec.time.calendar())


@pytest.mark.parametrize("cls", expect_types(), ids=lambda c: c.type_name())
def test_each_expectation_type_reads_its_examples_right(cls: type[ExpectBase]) -> None:
    view = _expectation_run()
    verdicts = {verdict for _, verdict in cls.examples}
    assert verdicts == {True, False}, "examples must include an outcome that is not met"
    for fields, verdict in cls.examples:
        ex = cls.model_validate({"type": cls.type_name(), **fields})
        assert ex.evaluate(view) is verdict, fields


def test_examples_are_valid_scenarios_and_checked_like_any() -> None:
    for cls in event_types():
        scenario_from_dict(world_with(cls.example))
    data = expectation_world()
    data["expect"] = {
        f"{cls.type_name()}_{n}": {"type": cls.type_name(), **fields}
        for cls in expect_types()
        for n, (fields, _) in enumerate(cls.examples)
    }
    spec = scenario_from_dict(data).scenario
    assert len(spec.expect) == sum(len(c.examples) for c in expect_types())
    assert np.isfinite(_run(data).data[:, :, 0]).all()
