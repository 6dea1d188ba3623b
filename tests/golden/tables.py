"""Golden tables: run a scenario, normalise its results, write them, compare them with the files.

`regen.py` writes the files and `tests/test_golden.py` compares with them through this one
module, so the two cannot drift apart. Per scenario, `tests/golden/<name>/` holds the result's
tables in the results format (`sim.results_format`): the time series as Parquet (compared as a
decoded table, dtypes included) and the runs, points, events, model and expectations tables as
CSV text at a fixed precision (compared cell by cell: text exactly, floats to a relative
tolerance).
"""

from __future__ import annotations

import io
import json
import math
import os
from pathlib import Path
from types import UnionType
from typing import Annotated, Any, Union, get_args, get_origin

import numpy as np
import pandas as pd

from sim.runner import run
from sim.scenario import (
    Bloc,
    Event,
    Expect,
    Scenario,
    ThreatEvent,
    builtin_scenarios_dir,
    load_scenario,
)

GOLDEN_DIR = Path(__file__).resolve().parent
ROOT = GOLDEN_DIR.parent.parent
SYNTHETIC = GOLDEN_DIR / "synthetic_all_types.yaml"
"""A small made-up world that uses every event type and every expectation type."""
REPLICATES = 3
SIGNIFICANT = 12
"""Significant digits of floats in the CSV files (and in the events' JSON details)."""
RTOL = 1e-9
"""Relative tolerance of float comparisons: a last-bit difference on another CPU passes, any
change of behaviour does not."""
ATOL = 1e-12
"""Absolute floor for values that should be zero (a difference of two equal terms can come out as
1e-17 on another CPU, which no relative tolerance accepts)."""
TIMESERIES = "timeseries.parquet"
CSV_TABLES = ("runs", "points", "events", "model", "expectations")
FILES = (TIMESERIES, *(f"{t}.csv" for t in CSV_TABLES))
"""The files of one scenario's golden folder."""
JSON_COLUMNS = frozenset({"details"})
SHOWN_ROWS = 5

Tables = dict[str, pd.DataFrame]


def scenario_files() -> dict[str, Path]:
    """Every scenario the suite covers, by name: the shipped ones (a glob) and the synthetic one."""
    files = {path.stem: path for path in sorted(builtin_scenarios_dir().glob("*.yaml"))}
    files[SYNTHETIC.stem] = SYNTHETIC
    return files


def regen_hint(name: str) -> str:
    """How to regenerate one scenario's goldens, for failure messages."""
    return (
        f"If the change is intended, run `python tests/golden/regen.py {name}`, check the diff, "
        "and commit the files with the change, giving the reason in the message."
    )


# --------------------------------------------------------------------------- producing tables


def result_tables(path: Path) -> Tables:
    """Run a scenario at REPLICATES replicates with its own default seed; normalised tables."""
    result = run(load_scenario(path), replicates=REPLICATES)
    tables = result.tables()
    events = tables["events"].copy()
    events["details"] = events["details"].map(stable_json)
    return {**tables, "events": events}


def stable_json(text: str) -> str:
    """A JSON text with floats rounded to SIGNIFICANT digits and keys sorted (stable text)."""
    return json.dumps(_rounded(json.loads(text)), sort_keys=True)


def _rounded(value: Any) -> Any:
    if isinstance(value, float) and math.isfinite(value):
        return float(f"{value:.{SIGNIFICANT}g}")
    if isinstance(value, dict):
        return {k: _rounded(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_rounded(v) for v in value]
    return value


def csv_text(frame: pd.DataFrame) -> str:
    """A table as the golden CSV text: floats at SIGNIFICANT digits, `\\n` line ends."""
    return frame.to_csv(index=False, float_format=f"%.{SIGNIFICANT}g", lineterminator="\n")


def parquet_bytes(frame: pd.DataFrame) -> bytes:
    """A table as Parquet bytes (same bytes for the same table and library versions)."""
    buffer = io.BytesIO()
    frame.to_parquet(buffer, engine="pyarrow", index=False, compression="zstd")
    return buffer.getvalue()


def encode(tables: Tables) -> dict[str, bytes]:
    """The bytes of every golden file, by file name."""
    out = {TIMESERIES: parquet_bytes(tables["timeseries"])}
    for table in CSV_TABLES:
        out[f"{table}.csv"] = csv_text(tables[table]).encode("utf-8")
    return out


def write_golden(name: str, path: Path) -> list[tuple[Path, bool]]:
    """Regenerate one scenario's folder; each file with whether its bytes changed."""
    folder = GOLDEN_DIR / name
    folder.mkdir(exist_ok=True)
    written: list[tuple[Path, bool]] = []
    for file, data in encode(result_tables(path)).items():
        target = folder / file
        changed = not target.is_file() or target.read_bytes() != data
        if changed:
            partial = target.with_name(f".{file}.partial")
            partial.write_bytes(data)
            os.replace(partial, target)
        written.append((target, changed))
    return written


# --------------------------------------------------------------------------- comparing


def compare(file: str, committed: Path, tables: Tables) -> str | None:
    """None if a committed golden file matches freshly computed tables, else what differs."""
    if file == TIMESERIES:
        want = pd.read_parquet(committed, engine="pyarrow")
        got = pd.read_parquet(io.BytesIO(parquet_bytes(tables["timeseries"])), engine="pyarrow")
        floats = {c for c in got.columns if pd.api.types.is_float_dtype(got[c])}
        return frame_difference(want, got, floats, check_dtypes=True)
    fresh = tables[file.removesuffix(".csv")]
    floats = {c for c in fresh.columns if pd.api.types.is_float_dtype(fresh[c])}
    return frame_difference(
        read_csv_text(committed.read_text(encoding="utf-8")), read_csv_text(csv_text(fresh)), floats
    )


def read_csv_text(text: str) -> pd.DataFrame:
    """A golden CSV with every cell as its text (numbers are parsed where they are compared)."""
    return pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False)


def frame_difference(
    want: pd.DataFrame, got: pd.DataFrame, floats: set[str], *, check_dtypes: bool = False
) -> str | None:
    """None if two tables agree (floats to RTOL, NaN equal to NaN), else a readable account."""
    if list(want.columns) != list(got.columns):
        lost = [c for c in want.columns if c not in got.columns]
        new = [c for c in got.columns if c not in want.columns]
        return (
            f"columns differ: committed {list(want.columns)}, now {list(got.columns)} "
            f"(missing now: {lost}; new: {new})"
        )
    if check_dtypes:
        for column in want.columns:
            if want[column].dtype != got[column].dtype:
                return (
                    f"column {column!r}: dtype {_dtype(want[column])} committed, "
                    f"{_dtype(got[column])} now"
                )
    rows = min(len(want), len(got))
    head_want = want.iloc[:rows].reset_index(drop=True)
    head_got = got.iloc[:rows].reset_index(drop=True)
    differing = {
        column: mask
        for column in want.columns
        if (mask := ~_agree(head_want[column], head_got[column], column, floats)).any()
    }
    if not differing:
        if len(want) == len(got):
            return None
        longer, which = (want, "committed only") if len(want) > len(got) else (got, "new")
        return (
            f"{len(want)} rows committed, {len(got)} now; the first {rows} agree. "
            f"First {which} rows:\n{longer.iloc[rows : rows + SHOWN_ROWS].to_string()}"
        )
    counts = ", ".join(f"{c!r} ({int(m.sum())} rows)" for c, m in differing.items())
    column, mask = next(iter(differing.items()))
    shown = np.flatnonzero(mask)[:SHOWN_ROWS]
    context = [
        c for c in want.columns if c not in differing and c not in floats and c not in JSON_COLUMNS
    ][:6]
    table = head_want.loc[shown, context].copy()
    table[f"{column} committed"] = head_want.loc[shown, column]
    table[f"{column} now"] = head_got.loc[shown, column]
    sizes = "" if len(want) == len(got) else f" ({len(want)} rows committed, {len(got)} now)"
    return (
        f"column {column!r} differs in {int(mask.sum())} of {rows} rows{sizes}; "
        f"differing columns: {counts}. First differing rows (by data row, from 0):\n"
        f"{table.to_string(max_colwidth=120, float_format=lambda x: f'{x:.15g}')}"
    )


def _dtype(series: pd.Series) -> str:
    dtype = series.dtype
    if isinstance(dtype, pd.CategoricalDtype):
        return f"category{list(dtype.categories)}"
    return str(dtype)


def _agree(want: pd.Series, got: pd.Series, column: str, floats: set[str]) -> np.ndarray:
    """Element-wise: floats to RTOL (NaN equal to NaN), JSON structurally, the rest exactly."""
    if column in floats:
        w, g = _numbers(want), _numbers(got)
        return np.asarray(np.isclose(w, g, rtol=RTOL, atol=ATOL, equal_nan=True))
    if column in JSON_COLUMNS:
        return np.array(
            [
                _json_close(json.loads(a), json.loads(b))
                for a, b in zip(want.astype(str), got.astype(str), strict=True)
            ],
            dtype=bool,
        )
    w_obj, g_obj = want.astype(object).to_numpy(), got.astype(object).to_numpy()
    return np.asarray((w_obj == g_obj) | (pd.isna(w_obj) & pd.isna(g_obj)), dtype=bool)


def _numbers(series: pd.Series) -> np.ndarray:
    """Floats of a column, decoded or as CSV text (an empty cell is NaN, as pandas writes it)."""
    if pd.api.types.is_float_dtype(series):
        return series.to_numpy(dtype=float)
    return np.array([float(x) if x != "" else math.nan for x in series], dtype=float)


def _json_close(a: Any, b: Any) -> bool:
    """Two decoded JSON values are equal, numbers that are floats to RTOL."""
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_json_close(a[k], b[k]) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(_json_close(x, y) for x, y in zip(a, b, strict=True))
    numbers = (int, float)
    if (
        isinstance(a, numbers)
        and isinstance(b, numbers)
        and not isinstance(a, bool)
        and not isinstance(b, bool)
        and (isinstance(a, float) or isinstance(b, float))
    ):
        if math.isnan(a) and math.isnan(b):
            return True
        return math.isclose(a, b, rel_tol=RTOL, abs_tol=ATOL)
    return type(a) is type(b) and bool(a == b)


# --------------------------------------------------------------------------- schema coverage


def union_members(union: object) -> dict[str, Any]:
    """Member classes of a tagged union such as `sim.scenario.Event`, by their `type` tag.

    `Annotated` wrappers and nested unions are unwrapped; each member class's `type` Literal
    gives its tags.
    """
    if get_origin(union) is Annotated:
        return union_members(get_args(union)[0])
    if get_origin(union) in (Union, UnionType):
        members: dict[str, Any] = {}
        for arg in get_args(union):
            members.update(union_members(arg))
        return members
    fields: dict[str, Any] = getattr(union, "model_fields", {})
    return {str(tag): union for tag in get_args(fields["type"].annotation)}


def missing_coverage(
    scenario: Scenario, events: object = Event, expectations: object = Expect
) -> list[str]:
    """What of the schema a scenario does not use: event and expectation types (read from the
    unions), single-state and bloc threats, tariff and stake threats, standing policies, and
    each kind of bloc accession. Empty when it uses everything."""
    used_events = {ev.type for ev in scenario.events.values()}
    used_expect = {ex.type for ex in scenario.expect.values()}
    missing = [f"event type {t!r}" for t in sorted(union_members(events)) if t not in used_events]
    missing += [
        f"expectation type {t!r}"
        for t in sorted(union_members(expectations))
        if t not in used_expect
    ]
    threats = [ev for ev in scenario.events.values() if isinstance(ev, ThreatEvent)]
    uses = {
        "a threat to a single state (`target`)": any(t.target is not None for t in threats),
        "a threat to every state of a bloc (`bloc`)": any(t.bloc is not None for t in threats),
        "a threat of a tariff": any(t.tariff is not None for t in threats),
        "a threat with a non-tariff stake": any(t.stake is not None for t in threats),
        "a power's standing policy": any(p.policies for p in scenario.powers.values()),
    }
    for kind in get_args(Bloc.model_fields["accession"].annotation):
        uses[f"a bloc with accession {kind!r}"] = any(
            b.accession == kind for b in scenario.blocs.values()
        )
    return missing + [what for what, used in uses.items() if not used]
