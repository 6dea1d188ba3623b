"""What a sweep's sweep.json and runs table must hold for geosim to read the sweep.

A sweep folder is read back like any input: its files may have been edited, truncated or
replaced since the sweep wrote them. Every manifest field a reader relies on is checked when the
manifest is read (`sim.sweep_folder.SweepFolder.manifest`), and so is the design against the
manifest's counts of points and runs (`design_mismatch`). The runs and points tables are checked
when they are read (`SweepFolder.runs`, `SweepFolder.points`): their columns, then their rows
(`rows_problem`): each id once, a complete sweep's every id present, and no infinite value (nor a
missing one where the results format says a value is always there). A figure checks the time
series it reads the same way (`series_problem`). A damaged folder is refused at once, naming the
file and what is wrong (exit 2), instead of failing deep inside an analysis or, worse, giving a
figure or an index computed on rows that are not the sweep's.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
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


def design_mismatch(data: dict[str, Any]) -> str | None:
    """How the design of a manifest `manifest_problem` passed disagrees with the manifest's
    `points` and `runs` (None: it agrees). A design edited after the sweep ran (another method,
    sample size or replicate count) would have its analysis computed on another design's runs."""
    design = manifest_design(data)
    points = design.point_count()
    runs = points * design.replicates
    if points == data["points"] and runs == data["runs"]:
        return None
    return (
        f"its {design.method} design gives {points} points x {design.replicates} replicates = "
        f"{runs} runs, but sweep.json lists {data['points']} points and {data['runs']} runs "
        "(was its design edited after the sweep ran?)"
    )


def _repeated(ids: pa.ChunkedArray) -> tuple[int, int] | None:
    """An id that occurs more than once and how often (None: every id is unique)."""
    if pc.count_distinct(ids).as_py() == len(ids):
        return None
    counts = pc.value_counts(ids)
    many = counts.filter(pc.greater(counts.field("counts"), 1))
    return int(many.field("values")[0].as_py()), int(many.field("counts")[0].as_py())


def _ids_problem(t: pa.Table, key: str, total: int, complete: bool) -> str | None:
    """What is wrong with the ids in column `key`: empty cells, repeats, ids beyond `total`,
    or (a complete sweep) fewer rows than `total` (None: nothing)."""
    ids = t[key]
    kind = "run" if key == "run" else "design point"
    if ids.null_count:
        return f"column {key!r} has {ids.null_count} empty cells"
    twice = _repeated(ids)
    if twice is not None:
        return f"{kind} {twice[0]} has {twice[1]} rows, not one: the folder was edited"
    if len(ids) and (pc.min(ids).as_py() < 0 or pc.max(ids).as_py() >= total):
        return (
            f"{kind} ids run from {pc.min(ids).as_py()} to {pc.max(ids).as_py()}, but sweep.json "
            f"lists {total} ({kind}s 0 to {total - 1}): the folder was edited"
        )
    if complete and len(ids) != total:
        return (
            f"holds {len(ids)} {kind}s, but the sweep is complete with {total} (sweep.json): "
            "the folder is incomplete or was edited"
        )
    return None


def _values_problem(t: pa.Table, always: Sequence[str]) -> str | None:
    """An infinite value in any numeric column, or an empty or NaN cell in one of `always`
    (columns the results format says always hold a value), as a problem (None: nothing)."""
    for name in t.column_names:
        column = t[name]
        floating = pa.types.is_floating(column.type)
        if floating and pc.any(pc.is_inf(column)).as_py():
            return f"column {name!r} holds an infinite value"
        if name in always and (
            column.null_count or (floating and pc.any(pc.is_nan(column)).as_py())
        ):
            return f"column {name!r} has empty or NaN cells, where every row has a value"
    return None


def rows_problem(t: pa.Table, data: dict[str, Any]) -> str | None:
    """What makes the rows of a runs table (its columns passed `runs_problem`) not those of the
    sweep of manifest `data` (None: nothing): repeated or unknown run ids, runs missing from a
    complete sweep, a run whose point or replicate is not the one its id gives, or a value that
    cannot be one (infinite, or missing from a parameter column)."""
    complete = data["status"] == "complete"
    problem = _ids_problem(t, "run", data["runs"], complete)
    if problem is not None:
        return problem
    problem = _values_problem(t, ["point", "replicate", *data["parameter_types"]])
    if problem is not None:
        return problem
    replicates = manifest_design(data).replicates
    ids = pc.add(pc.multiply(t["point"], replicates), t["replicate"])
    wrong = pc.not_equal(ids, t["run"])
    if not pc.any(wrong).as_py():
        return None
    row = t.select(["run", "point", "replicate"]).filter(wrong).slice(0, 1).to_pylist()[0]
    return (
        f"run {row['run']} has point {row['point']} and replicate {row['replicate']}, not those "
        f"its id gives (run = point x {replicates} replicates + replicate): the folder was edited"
    )


def points_problem(t: pa.Table, data: dict[str, Any]) -> str | None:
    """What makes a points table not the one of the sweep of manifest `data` (None: nothing):
    a point id or parameter column missing, a repeated or unknown point, a point missing, an
    outcome column of neither numbers nor true/false, or an infinite value."""
    for name in ("point", *data["parameter_types"]):
        if name not in t.column_names:
            return f"no column {name!r}"
    if not pa.types.is_integer(t["point"].type):
        return f"column 'point' holds {t['point'].type}, not int64"
    for f in t.schema:
        plain = pa.types.is_integer(f.type) or pa.types.is_floating(f.type)
        if f.name not in data["parameter_types"] and not (plain or pa.types.is_boolean(f.type)):
            return f"column {f.name!r} holds {f.type}, not numbers or true/false"
    problem = _ids_problem(t, "point", data["points"], data["status"] == "complete")
    return problem or _values_problem(t, list(data["parameter_types"]))


def series_problem(ts: pd.DataFrame, ok: pd.Series[Any], per_run: int, what: str) -> str | None:
    """What makes the rows of one variable `what` of a complete sweep's time series (columns run,
    step, state) not those of its successful runs `ok` (None: nothing): each must have `per_run`
    rows (steps + 1 x states), no other run any, and no row be repeated."""
    counts = ts["run"].value_counts()
    expected = len(ok) * per_run
    if len(ts) != expected:
        return (
            f"holds {len(ts)} rows of {what}, not {expected} ({len(ok)} successful runs x "
            f"{per_run} rows, one per step and state): the folder is incomplete or was edited"
        )
    have = counts.reindex(ok.to_numpy(), fill_value=0)
    off = have[have != per_run]
    if len(off):
        return (
            f"run {int(off.index[0])} has {int(off.iloc[0])} rows of {what}, not {per_run}: "
            "the folder is incomplete or was edited"
        )
    if bool(ts.duplicated(["run", "step", "state"]).any()):
        return f"repeats rows of {what} (one row per run, step and state): the folder was edited"
    return None


def infinite_series(t: pa.Table) -> str | None:
    """An infinite value in a time series table's `value` column (a value that is not known is
    empty, never infinite), as a problem (None: nothing)."""
    if "value" in t.column_names and pc.any(pc.is_inf(t["value"])).as_py():
        return "column 'value' holds an infinite value"
    return None
