"""What a sweep's sweep.json and runs table must hold for geosim to read the sweep.

A sweep folder is read back like any input: its files may have been edited, truncated or
replaced since the sweep wrote them. Every manifest field a reader relies on is checked when the
manifest is read (`sim.sweep_folder.SweepFolder.manifest`), and the runs table's columns when
it is read (`SweepFolder.runs`), so that a damaged folder is refused at once, naming the field
or column (exit 2), instead of failing later deep inside an analysis.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from typing import Any

import pyarrow as pa
from pydantic import ValidationError

from sim.design import Design
from sim.results_format import ARROW_TYPES, TABLES, expected_schema, same_type

STATUSES = ("running", "complete")
"""`status`: the sweep is still being written, or its tables are consolidated."""


def _count(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def _names(value: Any) -> bool:
    return isinstance(value, list) and all(isinstance(v, str) for v in value)


FIELDS: dict[str, tuple[str, Callable[[Any], bool]]] = {
    "fingerprint": ("a text", lambda v: isinstance(v, str)),
    "status": (f"one of {', '.join(STATUSES)}", lambda v: v in STATUSES),
    "runs": ("a count of runs", _count),
    "points": ("a count of design points", _count),
    "timeseries": ("a list of variable names", _names),
    "design": ("a sweep design (a mapping)", lambda v: isinstance(v, dict)),
    "resolved_scenario": ("a scenario (a mapping)", lambda v: isinstance(v, dict)),
    "parameter_types": (
        "a mapping of parameters to column types",
        lambda v: isinstance(v, dict) and all(t in ARROW_TYPES for t in v.values()),
    ),
}
"""The fields readers use: what each must be, and the test of it."""


def _json_kind(value: Any) -> str:
    """What a JSON value is, in JSON's words."""
    if value is None or isinstance(value, bool):
        return json.dumps(value)
    kinds = {int: "a number", float: "a number", str: "a text", list: "a list", dict: "a mapping"}
    return kinds.get(type(value), type(value).__name__)


def first_problem(exc: ValidationError, prefix: str) -> str:
    """A pydantic error's first problem as `prefix.field: message`, without pydantic's prose."""
    err = exc.errors(include_url=False)[0]
    where = ".".join(str(p) for p in (prefix, *err["loc"]))
    more = len(exc.errors()) - 1
    also = f" (and {more} more problem{'s' if more > 1 else ''})" if more else ""
    return f"{where}: {err['msg'].removeprefix('Value error, ')}{also}"


def manifest_problem(data: dict[str, Any]) -> str | None:
    """What makes `data` unreadable as a sweep manifest (None: nothing)."""
    for name, (expected, test) in FIELDS.items():
        if name not in data:
            return f"{name}: missing"
        if not test(data[name]):
            return f"{name}: expected {expected}, found {_json_kind(data[name])}"
    try:
        Design.model_validate(data["design"])
    except ValidationError as exc:
        return first_problem(exc, "design")
    return None


def manifest_design(data: dict[str, Any]) -> Design:
    """The design of a manifest `manifest_problem` passed."""
    return Design.model_validate(data["design"])


def runs_problem(schema: pa.Schema, parameter_types: Mapping[str, str]) -> str | None:
    """What makes a table with `schema` unreadable as the sweep's runs table (None: nothing):
    a fixed or parameter column missing or of another type, or an outcome column that holds
    neither numbers nor true/false."""
    want = expected_schema(TABLES["runs"], parameter_types)
    for f in want:
        if f.name not in schema.names:
            return f"no column {f.name!r}"
        if not same_type(schema.field(f.name).type, f.type):
            return f"column {f.name!r} holds {schema.field(f.name).type}, not {f.type}"
    for name in schema.names:
        kind = schema.field(name).type
        plain = pa.types.is_integer(kind) or pa.types.is_floating(kind)
        if name not in want.names and not (plain or pa.types.is_boolean(kind)):
            return f"outcome column {name!r} holds {kind}, not numbers or true/false"
    return None
