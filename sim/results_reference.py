"""Generate the results format reference (Markdown, docs/results-format.md) from the table
definitions in `sim.results_format`, so the document cannot drift from what the writers write."""

from __future__ import annotations

from sim.results_format import (
    CSV_DATE_FORMAT,
    FORMAT_HISTORY,
    FORMAT_VERSION,
    TABLES,
    Column,
    Table,
)

READ_AS = {
    "int64": ("int64", "Int64", "BIGINT"),
    "int32": ("int32", "Int32", "INTEGER"),
    "uint64": ("uint64", "UInt64", "UBIGINT"),
    "float64": ("float64", "Float64", "DOUBLE"),
    "bool": ("bool (object if nulls)", "Boolean", "BOOLEAN"),
    "string": ("str", "String", "VARCHAR"),
    "timestamp": ("datetime64[ms]", "Datetime(ms)", "TIMESTAMP"),
    "category": ("category", "Categorical", "VARCHAR (dictionary)"),
}
"""Results-format type -> how pandas, polars and DuckDB read it from Parquet."""

ARROW_NAMES = {
    "int64": "int64",
    "int32": "int32",
    "uint64": "uint64",
    "float64": "double",
    "bool": "bool",
    "string": "string",
    "timestamp": "timestamp[ms]",
    "category": "dictionary<int32, string>",
}
"""Results-format type -> the Arrow type as pyarrow prints it."""

INTRO = f"""\
# Results format reference

Generated from `sim/results_format.py` by `geosim schema --results`; do not edit by hand.

Results format version **{FORMAT_VERSION}**. A run folder (`geosim run`) and a sweep folder
(`geosim sweep`) hold the same tables with the same columns and types: a run folder is a sweep
of one design point (point 0) without parameters, whose run ids are its replicates. Every table
is a Parquet file; `--csv` adds a CSV copy of each (`<table>.csv`). Every folder's manifest
(`manifest.json` for a run, `sweep.json` for a sweep) says which `format_version` it is in.

Dates are timestamps: the first day of a step's period at 00:00 (step 0, the initial condition,
is one period before the scenario's start). States and variables are dictionary-encoded
(categorical) in scenario order, so sorting by their codes gives the model's order. Every table
that has rows per run carries the ids `run`, `point` and `replicate`, so tables join on `run`.
"""


def _type_cell(column: Column) -> str:
    kinds = [k.strip() for k in column.type.split("|")]
    arrow = " or ".join(f"`{ARROW_NAMES[k]}`" for k in kinds if k in ARROW_NAMES)
    return arrow or column.type


def _read_cell(column: Column) -> str:
    kinds = [k.strip() for k in column.type.split("|") if k.strip() in READ_AS]
    if not kinds:
        return "as the value"
    return " or ".join(" / ".join(READ_AS[k]) for k in kinds)


def _row(column: Column) -> str:
    name = f"`{column.name}`"
    null = "yes" if column.nullable or column.type == "float64" else "no"
    cells = [name, _type_cell(column), _read_cell(column), column.unit, null, column.doc]
    return "| " + " | ".join(c.replace("|", "\\|") for c in cells) + " |"


def table_section(table: Table) -> str:
    """One table's section: file, writers, key, sort order, columns and column families."""
    lines = [
        f"## `{table.name}`",
        "",
        table.doc,
        "",
        f"- file: `{table.file}` (CSV copy with `--csv`: `{table.name}.csv`)",
        f"- written by: {', '.join(f'`geosim {w}`' for w in table.written_by)}",
        f"- key (unique), and the sort order of the rows: {', '.join(table.key)}",
        "",
        "| column | Arrow type | pandas / polars / DuckDB read it as | unit | nullable | meaning |",
        "|---|---|---|---|---|---|",
        *(_row(c) for c in table.columns),
    ]
    if table.families:
        lines += [
            "",
            "Then, in this order, the column families (one column per name the pattern makes):",
            "",
            "| pattern | Arrow type | pandas / polars / DuckDB read it as | unit | nullable | "
            "meaning |",
            "|---|---|---|---|---|---|",
            *(_row(c) for c in table.families),
        ]
    return "\n".join(lines) + "\n"


READING = """\
## Reading the tables

pandas (`pip install pandas pyarrow`):

```python
import pandas as pd
runs = pd.read_parquet("results/latam_2025/<run>/runs.parquet")
ts = pd.read_parquet("results/sweeps/<id>/timeseries")  # a folder of parts, or timeseries.parquet
```

polars:

```python
import polars as pl
runs = pl.read_parquet("results/latam_2025/<run>/runs.parquet")
ts = pl.scan_parquet("results/sweeps/<id>/timeseries/*.parquet").collect()
```

DuckDB:

```sql
SELECT * FROM 'results/latam_2025/<run>/runs.parquet';
SELECT * FROM read_parquet('results/sweeps/<id>/timeseries/*.parquet');
SELECT r.*, t.value FROM 'runs.parquet' r JOIN 'timeseries.parquet' t USING (run);
```

A small sweep or a run folder has `timeseries.parquet`; a large sweep's time series is the
folder `timeseries/`, one dataset in part files (read the folder, or its `*.parquet`).
"""


def csv_section() -> str:
    """How the CSV copies are written."""
    return f"""\
## CSV copies

With `--csv` every table is also written as `<table>.csv`, with the same columns in the same
order: UTF-8, a header row, `,` separators, `\\n` line ends; dates as `{CSV_DATE_FORMAT}`
(ISO 8601 days, which `pandas.read_csv(..., parse_dates=["date"])`, polars'
`try_parse_dates=True` and DuckDB's auto-detection read as dates); booleans `True`/`False`; a
null is an empty cell; floats in full precision (they read back to the same numbers).
Categorical columns are plain text. The Parquet files are the reference; the CSV copies are for
tools that cannot read Parquet.
"""


def history_section() -> str:
    """The format versions and what geosim does with a folder of another version."""
    lines = ["## Format versions", ""]
    lines += [f"- **{v}**: {text}" for v, text in sorted(FORMAT_HISTORY.items())]
    lines += [
        "",
        f"This geosim writes and reads format {FORMAT_VERSION} only. A folder of another version "
        "(a manifest without `format_version` is format 1) is refused by `geosim plot`, "
        "`geosim reproduce` and `sim.results.RunFolder.open` with a message naming the folder, "
        "its format and this one, before any table is read; re-run the command in its manifest "
        "with this geosim to get it in the current format. A sweep does not resume a folder of "
        "another format: run the sweep again into a new folder.",
    ]
    return "\n".join(lines) + "\n"


def results_reference() -> str:
    """The whole reference as Markdown."""
    parts = [INTRO, *(table_section(t) for t in TABLES.values()), READING]
    parts += [csv_section(), history_section()]
    return "\n".join(parts)
