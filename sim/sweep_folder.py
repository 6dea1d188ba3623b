"""Reading and writing a sweep folder's files (no model code: plots and analyses use this).

Every read goes through `SweepFolder.manifest`, which refuses a folder of another results
format (`sim.results_format.FORMAT_VERSION`) having read nothing but its sweep.json.
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from sim.design import Design
from sim.errors import ResultsError
from sim.results import atomic_write_text
from sim.results_format import FORMAT_HISTORY, FORMAT_VERSION, write_parquet
from sim.vocabulary import RunStatus

PARTIAL_PREFIX = "_partial."
"""Internal per-run columns of chunk files (`sim.sweep_tables`), never shown to readers."""


class SweepFormatError(ResultsError):
    """A sweep folder written in another results format: not resumed, not read (exit 2)."""


@dataclass
class ChunkResult:
    """What a worker sends back: run rows, time series rows, tracebacks of failures."""

    name: str
    runs: pa.Table
    timeseries: pa.Table | None
    errors: dict[int, str]
    seconds: float


def format_refusal(path: Path, manifest: dict[str, Any]) -> SweepFormatError | None:
    """The error for a sweep folder in another results format (None if it is this one's)."""
    version = manifest.get("format_version", 1)  # format 1 had no format_version
    if version == FORMAT_VERSION:
        return None
    known = isinstance(version, int) and not isinstance(version, bool)
    what = FORMAT_HISTORY.get(version, "unknown to this geosim") if known else "not a version"
    changed = [f"format {v}: {FORMAT_HISTORY[v]}" for v in sorted(FORMAT_HISTORY)]
    if known and version < FORMAT_VERSION:
        changed = [
            f"format {v}: {FORMAT_HISTORY[v]}" for v in range(version + 1, FORMAT_VERSION + 1)
        ]
    return SweepFormatError(
        f"{path}: this sweep folder is in results format {version!r} ({what}); this geosim "
        f"writes and reads format {FORMAT_VERSION} only, so it neither resumes nor reads the "
        f"folder (nothing in it was changed). What changed: {'; '.join(changed)}. To run the "
        "sweep with this geosim, give another --out or delete the folder, then run it again."
    )


@dataclass
class SweepFolder:
    """A sweep's folder on disk: manifest, chunks, consolidated tables."""

    path: Path

    @property
    def chunks(self) -> Path:
        """Folder of chunk files."""
        return self.path / "chunks"

    @property
    def errors(self) -> Path:
        """Folder of the failed runs' tracebacks (`<run>.txt`)."""
        return self.path / "errors"

    def manifest(self) -> dict[str, Any]:
        """The sweep manifest."""
        try:
            data: dict[str, Any] = json.loads((self.path / "sweep.json").read_text("utf-8"))
        except FileNotFoundError:
            raise ResultsError(f"{self.path}: no sweep.json (not a geosim sweep folder)") from None
        except json.JSONDecodeError as exc:
            raise ResultsError(f"{self.path}/sweep.json: not valid JSON ({exc})") from None
        if not isinstance(data, dict):
            raise ResultsError(f"{self.path}/sweep.json: not a geosim sweep manifest")
        refusal = format_refusal(self.path, data)
        if refusal is not None:
            raise refusal
        return data

    def write_manifest(self, manifest: dict[str, Any]) -> None:
        """Replace sweep.json (atomically)."""
        atomic_write_text(self.path / "sweep.json", json.dumps(manifest, indent=2))

    def design(self) -> Design:
        """The design the sweep ran."""
        return Design.model_validate(self.manifest()["design"])

    def done_runs(self) -> dict[int, str]:
        """Runs already on disk: run id -> status."""
        out: dict[int, str] = {}
        for f in sorted(self.chunks.glob("runs-*.parquet")):
            t = pq.read_table(f, columns=["run", "status"])
            out.update(zip(t["run"].to_pylist(), t["status"].to_pylist(), strict=True))
        return out

    def tidy(self) -> None:
        """Remove leftovers of an interrupted run: temporary files and orphan time series."""
        for where in (self.path, self.chunks, self.errors):
            for tmp in where.glob(".*.tmp"):
                shutil.rmtree(tmp) if tmp.is_dir() else tmp.unlink()
        runs = {f.name.removeprefix("runs-") for f in self.chunks.glob("runs-*.parquet")}
        for ts in self.chunks.glob("ts-*.parquet"):
            if ts.name.removeprefix("ts-") not in runs:
                ts.unlink()

    def write_chunk(self, result: ChunkResult) -> None:
        """Store a finished chunk: time series and tracebacks first, its runs file last."""
        # Retried runs can span a chunk whose name is taken (runs 0 and 3 of chunk 0-3 failed,
        # the rest is kept): never overwrite it, or the runs it still holds would be lost.
        name, k = result.name, 0
        while (self.chunks / f"runs-{name}.parquet").exists():
            k += 1
            name = f"{result.name}-{k}"
        if result.timeseries is not None and result.timeseries.num_rows:
            atomic_parquet(result.timeseries, self.chunks / f"ts-{name}.parquet")
        for run, text in result.errors.items():
            atomic_write_text(self.errors / f"{run:08d}.txt", text)
        # the runs file says the chunk is done, so it lands after everything it vouches for
        atomic_parquet(result.runs, self.chunks / f"runs-{name}.parquet")

    def drop_failed(self) -> None:
        """Rewrite chunk files without their failed rows, so those runs are done again."""
        for f in sorted(self.chunks.glob("runs-*.parquet")):
            t = pq.read_table(f)
            ok = pc.not_equal(t["status"], RunStatus.FAILED.value)
            if not pc.all(ok).as_py():
                atomic_parquet(t.filter(ok), f)

    def chunk_runs(self, columns: Sequence[str] | None = None) -> pa.Table:
        """Every run row in the chunk files (partial columns included), sorted by run."""
        files = sorted(self.chunks.glob("runs-*.parquet"))
        if not files:
            raise ResultsError(f"{self.path}: no finished runs yet")
        cols = None if columns is None else list(columns)
        t = pa.concat_tables([pq.read_table(f, columns=cols) for f in files])
        return t.take(pc.sort_indices(t["run"])).combine_chunks()

    def runs(self) -> pd.DataFrame:
        """Every run row, sorted by run (from the consolidated file, else from the chunks)."""
        self.manifest()  # refuses another results format
        whole = self.path / "runs.parquet"
        if whole.exists():
            return as_pandas(pq.read_table(whole))
        t = self.chunk_runs()
        public = [c for c in t.column_names if not c.startswith(PARTIAL_PREFIX)]
        return as_pandas(t.select(public))

    def points(self) -> pd.DataFrame:
        """The design points and their point-level outcomes (written when the sweep completes)."""
        self.manifest()
        whole = self.path / "points.parquet"
        if not whole.exists():
            raise ResultsError(f"{self.path}: no points.parquet (the sweep is unfinished)")
        return as_pandas(pq.read_table(whole))

    def timeseries_path(self) -> Path | None:
        """The consolidated time series: a file, a folder of parts, or None (unfinished)."""
        for path in (self.path / "timeseries.parquet", self.path / "timeseries"):
            if path.exists():
                return path
        return None

    def timeseries(
        self,
        columns: list[str] | None = None,
        runs: Iterable[int] | None = None,
        variable: str | None = None,
    ) -> pd.DataFrame:
        """The long time series of (selected) runs and one or every variable, sorted by run,
        step, state (scenario order) and variable; from the consolidated table, else (while
        the sweep runs) from the chunks. States and variables are categorical."""
        filters: list[Any] = []
        if runs is not None:
            filters.append(("run", "in", sorted(set(runs))))
        if variable is not None:
            filters.append(("variable", "==", variable))
        self.manifest()
        source = self.timeseries_path()
        files = [source] if source is not None else sorted(self.chunks.glob("ts-*.parquet"))
        if not files:
            return pd.DataFrame(columns=columns or ["run", "step", "state", "variable", "value"])
        tables = [pq.read_table(f, columns=columns, filters=filters or None) for f in files]
        t = pa.concat_tables(tables)
        if source is None and "run" in t.column_names:  # chunks: retried runs come last
            t = t.take(pc.sort_indices(t["run"]))
        out: pd.DataFrame = t.to_pandas()
        return out


def as_pandas(t: pa.Table) -> pd.DataFrame:
    """A table as pandas, booleans as the nullable `boolean` dtype (failed runs: NA)."""
    out: pd.DataFrame = t.to_pandas(types_mapper={pa.bool_(): pd.BooleanDtype()}.get)
    return out


def atomic_parquet(table: pa.Table, path: Path) -> None:
    """Write a Parquet file via a temporary sibling, fsync and an atomic rename."""
    tmp = path.with_name(f".{path.name}.tmp")
    write_parquet(table, tmp)
    with open(tmp, "rb") as fh:  # the rename must not overtake the data on a power cut
        os.fsync(fh.fileno())
    os.replace(tmp, path)
