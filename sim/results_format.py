"""The results format: every table a run or a sweep writes, as data (the reference is generated
from it, and both writers go through `conform`, so a table cannot drift from its description).

A run folder is a sweep of one design point with no parameters: the same tables with the same
columns and types, so code written for one reads the other. Dates are timestamps (the first
day of a step's period, 00:00), which pandas reads as `datetime64`, polars as `Datetime` and
DuckDB as `TIMESTAMP`; states and variables are dictionary-encoded in scenario order.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

FORMAT_VERSION = 3
"""Version of the results format, written into every manifest (`format_version`). Raise it
whenever a table's columns, names or types change; readers and resuming sweeps refuse others."""

FORMAT_HISTORY = {
    1: "before format_version existed: CSV tables in run folders, `YYYY-MM` date strings, "
    "`bloc.B_end`-style summary columns, a sweep time series only in chunk files",
    2: "one schema for runs and sweeps: Parquet tables, timestamps, run, point "
    "and replicate ids in every table, `name@date` outcomes, custom outcomes, a consolidated "
    "sweep time series",
    3: "the expectations table gains `scripted`; time series gain `exports.ROW` (trade with the "
    "rest of the world) and `affinity.<P>` is each power's own affinity, not a share",
}
"""What each format version was (shown when an older folder is refused)."""

ARROW_TYPES: dict[str, pa.DataType] = {
    "int64": pa.int64(),
    "int32": pa.int32(),
    "uint64": pa.uint64(),
    "float64": pa.float64(),
    "bool": pa.bool_(),
    "string": pa.string(),
    "timestamp": pa.timestamp("ms"),  # Parquet has no seconds unit: `s` would read back as `ms`
    "category": pa.dictionary(pa.int32(), pa.string()),
}
"""Type names used in this module -> the Arrow type written to Parquet."""

CSV_DATE_FORMAT = "%Y-%m-%d"
"""Dates in CSV copies: ISO 8601 days, which pandas (`parse_dates`), polars (`try_parse_dates`)
and DuckDB (auto-detection) read as dates."""


@dataclass(frozen=True)
class Column:
    """One column, or (`family`) a family of columns named by a pattern such as `tilt.<S>@<D>`."""

    name: str
    type: str
    doc: str
    unit: str = ""
    nullable: bool = False
    family: bool = False


@dataclass(frozen=True)
class Table:
    """A table: its file, who writes it, its key and sort order, and its columns in order."""

    name: str
    doc: str
    written_by: tuple[str, ...]
    key: tuple[str, ...]
    columns: tuple[Column, ...]
    fmt: str = "parquet"
    families: tuple[Column, ...] = field(default=())

    @property
    def file(self) -> str:
        """File name in a results folder."""
        return f"{self.name}.{self.fmt}"

    def fixed(self) -> list[str]:
        """Names of the fixed (non-family) columns, in order."""
        return [c.name for c in self.columns]


def _ids(*names: str) -> tuple[Column, ...]:
    docs = {
        "run": Column(
            "run",
            "int64",
            "Run id, unique in the folder. Sweeps: point x replicates + replicate; "
            "run folders: the replicate.",
        ),
        "point": Column("point", "int64", "Design point (0 in a run folder)."),
        "replicate": Column("replicate", "int64", "Replicate of the point (0-based)."),
        "step": Column("step", "int32", "Step; 0 is the initial condition."),
        "date": Column(
            "date",
            "timestamp",
            "First day of the step's period (step 0: one period before the start).",
        ),
    }
    return tuple(docs[n] for n in names)


_OUTCOME_FAMILIES = (
    Column("mean_tilt@<D>", "float64", "Mean tilt over the states at date D.", "tilt", True, True),
    Column("tilt.<S>@<D>", "float64", "Tilt of state S at date D.", "tilt", True, True),
    Column(
        "tilt_change.<S>@<D>",
        "float64",
        "Tilt of S at D minus its tilt at step 0.",
        "tilt",
        True,
        True,
    ),
    Column(
        "bloc.<B>.<S>@<D>",
        "float64",
        "S's standing in bloc B at D: 0 none, 1 partner, 2 member.",
        "",
        True,
        True,
    ),
    Column(
        "<count>@<D>",
        "float64",
        "Event-log rows of one kind up to D: threats, complied, defied, imposed, backed_down, "
        "tariffs_imposed.",
        "count",
        True,
        True,
    ),
    Column(
        "expect.<X>",
        "bool",
        "Whether the scenario's expectation X held in the run.",
        "",
        True,
        True,
    ),
    Column(
        "<custom>",
        "float64 | bool",
        "A custom run-level outcome (`outcomes.custom`): boolean if its expression is a "
        "comparison or logic, else a number.",
        "",
        True,
        True,
    ),
)

_PARAMETERS = Column(
    "<parameter path>",
    "as the value",
    "Sweeps: one column per swept parameter, named by its scenario path (the `--set` syntax); "
    "absent in run folders.",
    "",
    False,
    True,
)

TABLES: dict[str, Table] = {
    t.name: t
    for t in (
        Table(
            "runs",
            "One row per model run: its ids, seed and status, then (sweeps) the parameter "
            "values, then every run-level outcome. D is `end` or a date `YYYY-MM` the run or "
            "design asked for (`outcomes.dates`); S a state, B a bloc, X an expectation id.",
            ("run", "sweep"),
            ("run",),
            (
                *_ids("run", "point", "replicate"),
                Column("seed", "uint64", "The run's seed (derived from the root seed)."),
                Column("status", "string", "`ok`, or `failed` (the run raised; no outcomes)."),
                Column("error", "string", "Empty when ok; else `ExceptionType: message`."),
            ),
            families=(_PARAMETERS, *_OUTCOME_FAMILIES),
        ),
        Table(
            "points",
            "One row per design point: its parameter values, the key its seeds derive from, "
            "and the point-level custom outcomes (those reducing over replicates), computed "
            "over the point's successful runs.",
            ("run", "sweep"),
            ("point",),
            (
                *_ids("point"),
                Column("point_key", "int64", "63-bit hash of the point's values (seeds)."),
            ),
            families=(
                _PARAMETERS,
                Column(
                    "<custom>",
                    "float64 | bool",
                    "A point-level custom outcome (`…, over=replicates`).",
                    "",
                    True,
                    True,
                ),
            ),
        ),
        Table(
            "timeseries",
            "Long time series: one row per run, step, state and variable, step 0 included. "
            "Sweeps keep the variables `--timeseries` asks for; a large sweep's table is a "
            "folder `timeseries/` of part files (one dataset: read the folder).",
            ("run", "sweep"),
            ("run", "step", "state", "variable"),
            (
                *_ids("run", "point", "replicate", "step", "date"),
                Column("state", "category", "State (ISO3), in scenario order."),
                Column(
                    "variable",
                    "category",
                    "tilt, affinity.<P>, exports.<P>, fdi.<P>, debt.<P>, tariff.<P>, "
                    "bloc.<B>, policy.<name>.",
                ),
                Column(
                    "value",
                    "float64",
                    "Value; null when not known (see results/README.md for units).",
                    "per variable",
                    True,
                ),
            ),
        ),
        Table(
            "events",
            "The event log: every decision and state change, in the order it happened.",
            ("run",),
            ("run", "step", "seq"),
            (
                *_ids("run", "point", "replicate"),
                Column("seq", "int32", "Order of the row within its run's log."),
                *_ids("step", "date"),
                Column("kind", "string", "What happened (see `sim.vocabulary.LogKind`)."),
                Column("actor", "string", "Who acted (a state, power or bloc code)."),
                Column("target", "string", "Whom or what it concerned (may be empty)."),
                Column("details", "string", "The numbers behind the decision, as JSON."),
            ),
        ),
        Table(
            "model",
            "Model-level series per run and step (Mesa DataCollector).",
            ("run",),
            ("run", "step"),
            (
                *_ids("run", "point", "replicate", "step", "date"),
                Column("mean_tilt", "float64", "Mean tilt over the states.", "tilt"),
                Column("tariffs_in_force", "int64", "Bilateral tariff rates above zero.", "count"),
                Column("threats_outstanding", "int64", "Threats awaiting an answer.", "count"),
            ),
        ),
        Table(
            "expectations",
            "Per expectation of the scenario: the share of runs meeting it, against the share "
            "it requires.",
            ("run",),
            ("expectation",),
            (
                Column("expectation", "string", "Expectation id (`expect.<id>`)."),
                Column("type", "string", "Expectation type."),
                Column("description", "string", "What it checks."),
                Column("share", "float64", "Share of runs in which it held.", "share"),
                Column("required", "float64", "Share it requires to pass.", "share"),
                Column("passed", "bool", "share >= required."),
                Column(
                    "scripted",
                    "bool",
                    "An event of the scenario dated by the expectation sets its outcome "
                    "directly (a join or leave of that state and bloc, a policy change, an "
                    "outright tariff): the model did not reproduce it, the script did.",
                ),
            ),
        ),
    )
}
"""Every table, by name, in the order the reference lists them."""

RUN_TABLES = tuple(n for n, t in TABLES.items() if "run" in t.written_by)
"""Tables in every run folder."""


class FormatMismatch(ValueError):
    """A table about to be written does not match its description (a bug in a writer)."""


def _arrow(type_name: str) -> pa.DataType:
    return ARROW_TYPES[type_name]


def same_type(actual: pa.DataType, expected: pa.DataType) -> bool:
    """Whether a column read back has the type described (any string type for `string`)."""
    if pa.types.is_dictionary(expected):
        return bool(pa.types.is_dictionary(actual)) and same_type(actual.value_type, pa.string())
    if pa.types.is_string(expected):
        return bool(pa.types.is_string(actual) or pa.types.is_large_string(actual))
    return bool(actual.equals(expected))


def expected_schema(table: Table, extra: Mapping[str, str]) -> pa.Schema:
    """The Arrow schema of `table` with its family columns `extra` (name -> type), in order."""
    fields = [
        pa.field(c.name, _arrow(c.type), nullable=c.nullable or c.type == "float64")
        for c in table.columns
    ]
    fields += [pa.field(name, _arrow(t)) for name, t in extra.items()]
    return pa.schema(fields)


def check_schema(actual: pa.Schema, table: Table, extra: Mapping[str, str]) -> list[str]:
    """Differences between a written table's schema and its description (empty if none)."""
    want = expected_schema(table, extra)
    problems = []
    if actual.names != want.names:
        missing = [n for n in want.names if n not in actual.names]
        unexpected = [n for n in actual.names if n not in want.names]
        problems.append(
            f"{table.name}: columns differ (missing {missing}, unexpected {unexpected}, "
            f"order {'differs' if not missing and not unexpected else 'n/a'})"
        )
    for f in want:
        if f.name in actual.names:
            got = actual.field(f.name).type
            if not same_type(got, f.type):
                problems.append(f"{table.name}.{f.name}: type {got}, expected {f.type}")
    return problems


def conform(df: pd.DataFrame, table: Table, extra: Mapping[str, str] | None = None) -> pa.Table:
    """`df` as an Arrow table with exactly the described columns, order and types.

    `extra` gives the family columns the table holds here (parameters, outcomes), in order.
    Raises FormatMismatch if a column is missing or unexpected: writers must not drift.
    """
    extra = dict(extra or {})
    schema = expected_schema(table, extra)
    missing = [n for n in schema.names if n not in df.columns]
    unexpected = [c for c in df.columns if c not in schema.names]
    if missing or unexpected:
        raise FormatMismatch(f"{table.name}: missing {missing}, unexpected {unexpected}")
    arrays = [_array(df[f.name], f.type) for f in schema]
    return pa.Table.from_arrays(arrays, schema=schema)


def _array(values: pd.Series, kind: pa.DataType) -> pa.Array:
    if pa.types.is_dictionary(kind):
        cat = (
            values.astype("category")
            if not isinstance(values.dtype, pd.CategoricalDtype)
            else values
        )
        codes = cat.cat.codes.to_numpy().astype(np.int32)
        categories = pa.array([str(c) for c in cat.cat.categories], type=pa.string())
        return pa.DictionaryArray.from_arrays(pa.array(codes, type=pa.int32()), categories)
    if pa.types.is_timestamp(kind):
        return pa.array(pd.to_datetime(values).to_numpy(dtype="datetime64[ms]"), type=kind)
    if pa.types.is_boolean(kind):
        return pa.array(values.astype("boolean"), type=kind)
    if pa.types.is_string(kind):
        return pa.array(values.astype("string").fillna(""), type=kind)
    return pa.array(values.to_numpy(), type=kind, from_pandas=True)


def month_starts(labels: Sequence[str]) -> np.ndarray:
    """`YYYY-MM` labels -> datetime64[s] of the first day of each month."""
    return np.array([f"{label}-01" for label in labels], dtype="datetime64[s]")


def write_parquet(table: pa.Table, path: Path) -> None:
    """Write a table as Parquet (zstd; equal tables give equal bytes). Not atomic by itself:
    callers write into a staging folder or a temporary name."""
    pq.write_table(table, path, compression="zstd")


def to_csv_text(table: pa.Table) -> str:
    """A table as CSV text: ISO dates, empty cells for nulls, `\n` line ends."""
    df = table.to_pandas()
    for f in table.schema:
        if pa.types.is_timestamp(f.type):
            df[f.name] = df[f.name].dt.strftime(CSV_DATE_FORMAT)
    text: str = df.to_csv(index=False, lineterminator="\n")
    return text
