"""A finished sweep's tables, built from its chunk files: `runs.parquet` (sorted by run, no
internal columns), `points.parquet` (the design points and their point-level outcomes) and the
time series, and their CSV copies.

The time series is streamed: row groups are ranges of runs (`ROW_GROUP_ROWS` rows at most),
each built from the chunk files that hold those runs and written before the next is read, so
memory holds one range and a few chunks, never the whole series. Above `SPLIT_ROWS` rows it is
a folder `timeseries/` of part files (`PART_ROWS` rows at most, whole row groups, in run
order). Range boundaries depend on run ids only, so the bytes are the same whatever the
workers, chunk size or backend that produced the chunks.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from sim.design import point_key
from sim.outcomes import OutcomeSet
from sim.results_format import TABLES, conform, expected_schema, to_csv_text
from sim.sweep_folder import PARTIAL_PREFIX, SweepFolder, as_pandas, atomic_parquet
from sim.sweep_tables import parameter_value, points_types
from sim.vocabulary import RunStatus

__all__ = [
    "PART_ROWS",
    "ROW_GROUP_ROWS",
    "SPLIT_ROWS",
    "Layout",
    "consolidate",
    "export_csv",
]

ROW_GROUP_ROWS = 1_000_000
"""Most rows in a row group of the time series (whole runs; at least one run)."""
SPLIT_ROWS = 50_000_000
"""Above this many rows the time series is a folder of part files rather than one file."""
PART_ROWS = 10_000_000
"""Most rows in one part file of a split time series (whole row groups; at least one)."""


@dataclass(frozen=True)
class Layout:
    """What consolidation needs to know of a sweep (`sim.sweep.Plan.layout`)."""

    points: list[dict[str, Any]]
    params: dict[str, str]
    outcomes: OutcomeSet
    rows_per_run: int
    states: list[str]
    variables: list[str]


def consolidate(folder: SweepFolder, layout: Layout) -> None:
    """Write runs.parquet, points.parquet and the time series; mark the manifest complete."""
    runs = folder.chunk_runs()
    public = [c for c in runs.column_names if not c.startswith(PARTIAL_PREFIX)]
    atomic_parquet(runs.select(public), folder.path / "runs.parquet")
    atomic_parquet(points_table(runs, layout), folder.path / "points.parquet")
    write_timeseries(folder, layout)
    m = folder.manifest()
    m["status"] = "complete"
    m["finished"] = datetime.now(UTC).isoformat(timespec="seconds")
    m["failed"] = int(pc.sum(pc.equal(runs["status"], RunStatus.FAILED.value)).as_py() or 0)
    folder.write_manifest(m)


def points_table(runs: pa.Table, layout: Layout) -> pa.Table:
    """Every design point with its key, parameter values and point-level outcomes (null where
    a point has no successful run)."""
    partial = [c for c in runs.column_names if c.startswith(PARTIAL_PREFIX)]
    rows = as_pandas(runs.select(["point", "status", *partial]))
    reduced = layout.outcomes.evaluate_points(rows).set_index("point")
    df = pd.DataFrame(
        [
            {
                "point": k,
                "point_key": point_key(pt),
                **{n: parameter_value(v, layout.params[n]) for n, v in pt.items()},
            }
            for k, pt in enumerate(layout.points)
        ]
    )
    for name in layout.outcomes.point_columns:
        df[name] = reduced[name].reindex(df["point"]).to_numpy()
    return conform(df, TABLES["points"], points_types(layout.params, layout.outcomes))


# --------------------------------------------------------------------------- time series


@dataclass
class _Span:
    lo: int
    hi: int
    path: Path


class _ChunkReader:
    """The chunks' rows of any range of runs, each chunk file read once while it is needed."""

    def __init__(self, files: Sequence[Path]) -> None:
        self.spans = sorted((_span(f) for f in files), key=lambda s: (s.lo, s.hi, s.path.name))
        self.loaded: dict[Path, pa.Table] = {}

    def rows(self, lo: int, hi: int) -> pa.Table | None:
        """Rows of runs lo <= run < hi, in run order (a run's rows keep their chunk order)."""
        pieces = []
        for s in self.spans:
            if s.lo < hi and s.hi >= lo:
                t = self.loaded.get(s.path)
                if t is None:
                    t = self.loaded[s.path] = pq.read_table(s.path)
                keep = pc.and_(pc.greater_equal(t["run"], lo), pc.less(t["run"], hi))
                pieces.append(t.filter(keep))
        for s in self.spans:  # later ranges start at hi: done with chunks that end before it
            if s.hi < hi:
                self.loaded.pop(s.path, None)
        pieces = [p for p in pieces if p.num_rows]
        if not pieces:
            return None
        t = pa.concat_tables(pieces)
        return t.take(pc.sort_indices(t["run"]))  # stable: each run's rows stay in order


def _span(path: Path) -> _Span:
    """First and last run in a chunk file, from its statistics (nothing but metadata read)."""
    meta = pq.ParquetFile(path).metadata
    k = meta.schema.to_arrow_schema().get_field_index("run")
    lows, highs = [], []
    for g in range(meta.num_row_groups):
        stats = meta.row_group(g).column(k).statistics
        lows.append(int(stats.min))
        highs.append(int(stats.max))
    return _Span(min(lows, default=0), max(highs, default=-1), path)


def _recode(column: pa.ChunkedArray, categories: list[str]) -> pa.DictionaryArray:
    """A dictionary column re-encoded on `categories` (scenario order), whatever dictionaries
    its chunks came with."""
    values = pa.array(categories, type=pa.string())
    indices = []
    for chunk in column.chunks:
        mapping = pc.index_in(chunk.dictionary.cast(pa.string()), value_set=values)
        indices.append(pc.take(mapping, chunk.indices).cast(pa.int32()))
    joined = pa.concat_arrays(indices) if indices else pa.array([], type=pa.int32())
    return pa.DictionaryArray.from_arrays(joined, values)


def _groups(folder: SweepFolder, layout: Layout) -> Iterator[pa.Table]:
    """The time series in row groups: ranges of runs, in run order, empty ranges skipped."""
    files = sorted(folder.chunks.glob("ts-*.parquet"))
    reader = _ChunkReader(files)
    if not reader.spans:
        return
    schema = expected_schema(TABLES["timeseries"], {})
    size = max(1, ROW_GROUP_ROWS // max(1, layout.rows_per_run))
    last = max(s.hi for s in reader.spans)
    for lo in range(0, last + 1, size):
        t = reader.rows(lo, lo + size)
        if t is None:
            continue
        t = t.set_column(
            t.schema.get_field_index("state"), "state", _recode(t["state"], layout.states)
        )
        t = t.set_column(
            t.schema.get_field_index("variable"),
            "variable",
            _recode(t["variable"], layout.variables),
        )
        yield t.cast(schema).combine_chunks()


def write_timeseries(folder: SweepFolder, layout: Layout) -> Path:
    """Write the consolidated time series (a file, or a folder of parts); return its path."""
    files = sorted(folder.chunks.glob("ts-*.parquet"))
    total = sum(pq.ParquetFile(f).metadata.num_rows for f in files)
    schema = expected_schema(TABLES["timeseries"], {})
    split = total > SPLIT_ROWS
    target = folder.path / ("timeseries" if split else "timeseries.parquet")
    tmp = folder.path / f".{target.name}.tmp"
    _remove(tmp)
    if split:
        tmp.mkdir()
        _write_parts(_groups(folder, layout), tmp, schema)
    else:
        with pq.ParquetWriter(tmp, schema, compression="zstd") as writer:
            for t in _groups(folder, layout):
                writer.write_table(t, row_group_size=t.num_rows)
        with open(tmp, "rb") as fh:
            os.fsync(fh.fileno())
    for old in (folder.path / "timeseries.parquet", folder.path / "timeseries"):
        _remove(old)
    os.replace(tmp, target)
    return target


def _write_parts(groups: Iterator[pa.Table], where: Path, schema: pa.Schema) -> None:
    """Part files part-00000.parquet, ... of at most PART_ROWS rows (at least a row group)."""
    writer: pq.ParquetWriter | None = None
    rows, part = 0, 0
    try:
        for t in groups:
            if writer is not None and rows + t.num_rows > PART_ROWS:
                writer.close()
                writer, rows, part = None, 0, part + 1
            if writer is None:
                writer = pq.ParquetWriter(
                    where / f"part-{part:05d}.parquet", schema, compression="zstd"
                )
            writer.write_table(t, row_group_size=t.num_rows)
            rows += t.num_rows
    finally:
        if writer is not None:
            writer.close()


def _remove(path: Path) -> None:
    if path.is_dir():
        shutil.rmtree(path)
    elif path.exists():
        path.unlink()


# --------------------------------------------------------------------------- CSV


def export_csv(folder: SweepFolder) -> list[Path]:
    """Write runs.csv, points.csv and timeseries.csv (streamed, row group by row group) next
    to the Parquet tables, formatted as `sim.results_format.to_csv_text` formats (ISO dates)."""
    out = []
    for name in ("runs", "points"):
        path = folder.path / f"{name}.csv"
        _atomic_text(path, [to_csv_text(pq.read_table(folder.path / f"{name}.parquet"))])
        out.append(path)
    source = folder.timeseries_path()
    path = folder.path / "timeseries.csv"
    _atomic_text(path, _csv_pieces(source))
    out.append(path)
    return out


def _csv_pieces(source: Path | None) -> Iterator[str]:
    """CSV text of the time series, one row group at a time, the header once."""
    files = (
        [] if source is None else sorted(source.glob("*.parquet")) if source.is_dir() else [source]
    )
    first = True
    for f in files:
        pf = pq.ParquetFile(f)
        for g in range(pf.num_row_groups):
            text = to_csv_text(pf.read_row_group(g))
            yield text if first else text.split("\n", 1)[1]
            first = False
    if first:  # no rows: the header alone
        empty = expected_schema(TABLES["timeseries"], {}).empty_table()
        yield to_csv_text(empty)


def _atomic_text(path: Path, pieces: Iterator[str] | list[str]) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    with open(tmp, "w", encoding="utf-8", newline="") as fh:
        for text in pieces:
            fh.write(text)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)
