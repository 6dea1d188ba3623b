"""Reading and writing a sweep folder's files (no model code: plots and analyses use this).

Every read goes through `SweepFolder.manifest`, which refuses a folder of another results
format (`sim.results_format.FORMAT_VERSION`) having read nothing but its sweep.json.

A sweep writes its folder holding the folder's lock (`.sweep.lock`, `SweepFolder.locked`): one
writer at a time, released by the kernel when the writer dies. Each chunk's runs file is
vouched for by `sum-A-B.json`, the SHA-256 of its runs and time-series files, written before
the runs file lands; a resumed sweep checks every chunk against it (`SweepFolder.verify`) and
redoes a chunk that is truncated, garbled or missing a file.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from collections.abc import Container, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from sim.design import Design
from sim.errors import ResultsError, os_failure
from sim.manifest import MAX_MANIFEST_BYTES, read_limited
from sim.results import atomic_write_text, reading
from sim.results_format import FORMAT_HISTORY, FORMAT_VERSION, write_parquet
from sim.run_set import RunSet
from sim.sweep_lock import holding
from sim.sweep_manifest import (
    design_mismatch,
    infinite_series,
    manifest_design,
    manifest_problem,
    points_problem,
    rows_problem,
    runs_problem,
)
from sim.vocabulary import RunStatus

PARTIAL_PREFIX = "_partial."
"""Internal per-run columns of chunk files (`sim.sweep_tables`), never shown to readers."""
CONSOLIDATED = (
    "runs.parquet",
    "points.parquet",
    "timeseries.parquet",
    "timeseries",
    "runs.csv",
    "points.csv",
    "timeseries.csv",
)
"""What a completed sweep adds to its chunks (`sim.sweep_consolidate`)."""


class SweepFormatError(ResultsError):
    """A sweep folder written in another results format: not resumed, not read (exit 2)."""


@dataclass(frozen=True)
class DoneRuns:
    """The runs of a sweep on disk (`SweepFolder.done_runs`)."""

    runs: RunSet
    """Every run on disk, failed or not."""
    failed: RunSet
    """The runs on disk that failed."""


@dataclass
class ChunkResult:
    """What a worker sends back: run rows, time series rows, tracebacks of failures."""

    name: str
    runs: pa.Table
    timeseries: pa.Table | None
    errors: dict[int, str]
    seconds: float

    def without(self, runs: Container[int]) -> ChunkResult:
        """This result less the rows of `runs` (already on disk: a run is written once)."""
        ids = self.runs["run"]
        repeated = [run for run in ids.to_pylist() if run in runs]
        if not repeated:
            return self
        done = pa.array(repeated).cast(ids.type)
        ts = self.timeseries
        if ts is not None:
            ts = ts.filter(pc.invert(pc.is_in(ts["run"], value_set=done.cast(ts["run"].type))))
        return replace(
            self,
            runs=self.runs.filter(pc.invert(pc.is_in(ids, value_set=done))),
            timeseries=ts,
            errors={k: v for k, v in self.errors.items() if k not in runs},
        )


def format_refusal(path: Path, manifest: dict[str, Any]) -> SweepFormatError | None:
    """The error for a sweep folder in another results format (None if it is this one's)."""
    version = manifest.get("format_version", 1)  # format 1 had no format_version
    if version == FORMAT_VERSION:
        return None
    known = isinstance(version, int) and not isinstance(version, bool)
    what = FORMAT_HISTORY.get(version, "unknown to this geosim") if known else "not a version"
    # An older version lists what changed since; any other (newer, negative, 0) lists it all.
    since = version if known and version in FORMAT_HISTORY else 0
    changed = [f"format {v}: {FORMAT_HISTORY[v]}" for v in sorted(FORMAT_HISTORY) if v > since]
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
        path = self.path / "sweep.json"
        if not os.path.lexists(path):
            raise ResultsError(f"{self.path}: no sweep.json (not a geosim sweep folder)")
        raw = read_limited(path, MAX_MANIFEST_BYTES)
        try:
            data: dict[str, Any] = json.loads(raw.decode("utf-8"))
        except UnicodeDecodeError as exc:
            raise ResultsError(f"{path}: not UTF-8 text (bad byte at offset {exc.start})") from None
        except json.JSONDecodeError as exc:
            raise ResultsError(f"{path}: not valid JSON ({exc})") from None
        except (ValueError, RecursionError):  # 4,300-digit integers, deep nesting
            raise ResultsError(f"{path}: not a geosim sweep manifest") from None
        if not isinstance(data, dict):
            raise ResultsError(f"{self.path}/sweep.json: not a geosim sweep manifest")
        refusal = format_refusal(self.path, data)
        if refusal is not None:
            raise refusal
        problem = manifest_problem(data)
        if problem is not None:
            raise ResultsError(f"{path}: not a geosim sweep manifest: {problem}")
        problem = design_mismatch(data)
        if problem is not None:
            raise ResultsError(f"{path}: sweep.json's design does not match its runs: {problem}")
        return data

    def write_manifest(self, manifest: dict[str, Any]) -> None:
        """Replace sweep.json (atomically)."""
        atomic_write_text(self.path / "sweep.json", json.dumps(manifest, indent=2))

    def design(self) -> Design:
        """The design the sweep ran."""
        return manifest_design(self.manifest())

    def done_runs(self) -> DoneRuns:
        """Runs already on disk, and which of them failed."""
        done = DoneRuns(RunSet(), RunSet())
        for f in sorted(self.chunks.glob("runs-*.parquet")):
            t = read_chunk(f, ["run", "status"])
            ids = t["run"].to_pylist()
            done.runs.update(ids)
            statuses = t["status"].to_pylist()
            done.failed.update(
                r for r, s in zip(ids, statuses, strict=True) if s == RunStatus.FAILED
            )
        return done

    @contextmanager
    def locked(self, holder: Mapping[str, Any]) -> Iterator[SweepFolder]:
        """Hold the folder's lock (`sim.sweep_lock.holding`) while the block writes to it."""
        with holding(self.path, holder):
            yield self

    def tidy(self) -> None:
        """Remove leftovers of an interrupted run: temporary files, and time series and
        checksums without their runs file."""
        for where in (self.path, self.chunks, self.errors):
            for tmp in where.glob(".*.tmp"):
                shutil.rmtree(tmp) if tmp.is_dir() else tmp.unlink()
        runs = {_key(f) for f in self.chunks.glob("runs-*.parquet")}
        for pattern in ("ts-*.parquet", "sum-*.json"):
            for f in self.chunks.glob(pattern):
                if _key(f) not in runs:
                    f.unlink()

    def verify(self, rows_per_run: int) -> list[str]:
        """Check every chunk against its checksums and remove those that fail, so that their
        runs are done again; returns why each was removed (`<chunk>: <reason>`).

        A chunk without checksums (written by an older geosim, or a kill between its files) is
        decoded in full and kept if its time series has `rows_per_run` rows per finished run;
        its checksums are written then. A chunk repeating runs of an earlier one goes too.
        """
        redone: list[str] = []
        seen = RunSet()
        for f in sorted(self.chunks.glob("runs-*.parquet")):
            key = _key(f)
            record = self._sum(key)
            try:
                reason = (
                    self._adopt(key, rows_per_run)
                    if record is None
                    else self._sum_problem(key, record)
                )
            except OSError as exc:  # the system refused a read: not the file's fault
                raise os_failure(exc, "read", exc.filename or f) from None
            if reason is None:
                runs = read_chunk(f, ["run"])["run"].to_pylist()
                if any(run in seen for run in runs):
                    reason = "repeats runs of another chunk"
                seen.update(runs)
            if reason is not None:
                for path in self._files(key):
                    path.unlink(missing_ok=True)
                redone.append(f"{key}: {reason}")
        return redone

    def unconsolidate(self) -> None:
        """Mark the sweep running and remove its consolidated tables: runs are about to be
        added (failed runs retried, chunks redone), and a reader must not take stale tables,
        nor a `complete` status, for the sweep's results."""
        m = self.manifest()
        if m.get("status") != "running":
            m["status"] = "running"
            for key in ("finished", "failed"):
                m.pop(key, None)
            self.write_manifest(m)  # first: a kill from here on leaves a `running` sweep
        for name in CONSOLIDATED:
            path = self.path / name
            if path.is_dir():
                shutil.rmtree(path)
            else:
                path.unlink(missing_ok=True)

    def write_chunk(self, result: ChunkResult) -> None:
        """Store a finished chunk: time series and tracebacks first, then its checksums, its
        runs file last."""
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
        self._land_runs(name, result.runs)

    def drop_failed(self) -> None:
        """Rewrite chunk files without their failed rows, so those runs are done again."""
        for f in sorted(self.chunks.glob("runs-*.parquet")):
            t = read_chunk(f)
            ok = pc.not_equal(t["status"], RunStatus.FAILED.value)
            if not pc.all(ok).as_py():
                self._land_runs(_key(f), t.filter(ok))

    # ---------------------------------------------------------------- chunk checksums

    def _files(self, key: str) -> tuple[Path, Path, Path]:
        """A chunk's runs file, time series and checksums."""
        c = self.chunks
        return c / f"runs-{key}.parquet", c / f"ts-{key}.parquet", c / f"sum-{key}.json"

    def _land_runs(self, key: str, runs: pa.Table) -> None:
        """Write a chunk's runs file (its time series already written) with its checksums:
        the checksums land first, so a runs file on disk always has them."""
        runs_file, ts_file, sum_file = self._files(key)
        tmp = stage_parquet(runs, runs_file)
        record = {
            "runs": {"sha256": file_sha256(tmp), "rows": runs.num_rows},
            "ts": {"sha256": file_sha256(ts_file)} if ts_file.exists() else None,
        }
        atomic_write_text(sum_file, json.dumps(record))
        os.replace(tmp, runs_file)

    def _sum(self, key: str) -> dict[str, Any] | None:
        """A chunk's checksums (None if missing or unreadable)."""
        try:
            data = json.loads(self._files(key)[2].read_text("utf-8"))
        except (OSError, ValueError):
            return None
        return data if isinstance(data, dict) and isinstance(data.get("runs"), dict) else None

    def _sum_problem(self, key: str, record: dict[str, Any]) -> str | None:
        """What is wrong with a chunk's files given its checksums (None: nothing)."""
        runs_file, ts_file, _ = self._files(key)
        if file_sha256(runs_file) != record["runs"].get("sha256"):
            return "its runs file does not match its checksum"
        ts = record.get("ts")
        if ts is None:
            ts_file.unlink(missing_ok=True)  # not vouched for: no run of the chunk kept one
            return None
        if not ts_file.exists():
            return "its time series is missing"
        if not isinstance(ts, dict) or file_sha256(ts_file) != ts.get("sha256"):
            return "its time series does not match its checksum"
        return None

    def _adopt(self, key: str, rows_per_run: int) -> str | None:
        """Check a chunk without checksums by decoding it; write its checksums if it holds."""
        runs_file, ts_file, _ = self._files(key)
        try:
            runs = read_chunk(runs_file)
            ts_rows = read_chunk(ts_file).num_rows if ts_file.exists() else 0
        except ResultsError:  # a file that cannot be decoded (the system's refusals propagate)
            return "it cannot be read"
        ok = int(pc.sum(pc.equal(runs["status"], RunStatus.OK.value)).as_py() or 0)
        if ts_rows != ok * rows_per_run:
            return f"its time series has {ts_rows} rows, not {ok * rows_per_run}"
        self._land_runs(key, runs)
        return None

    def chunk_runs(self, columns: Sequence[str] | None = None) -> pa.Table:
        """Every run row in the chunk files (partial columns included), sorted by run."""
        files = sorted(self.chunks.glob("runs-*.parquet"))
        if not files:
            raise ResultsError(f"{self.path}: no finished runs yet")
        cols = None if columns is None else list(columns)
        t = pa.concat_tables([read_chunk(f, cols) for f in files])
        return t.take(pc.sort_indices(t["run"])).combine_chunks()

    def runs_source(self) -> Path:
        """Where `runs` reads: runs.parquet, else (an unfinished sweep) the chunks folder."""
        whole = self.path / "runs.parquet"
        return whole if whole.exists() else self.chunks

    def runs(self) -> pd.DataFrame:
        """Every run row, sorted by run (from the consolidated file, else from the chunks).

        ResultsError (exit 2) if a column every reader relies on is missing: a runs table
        replaced by another Parquet file decodes, but is not this sweep's; and if its rows are
        not the sweep's (`sim.sweep_manifest.rows_problem`: repeated, missing or infinite)."""
        manifest = self.manifest()
        where = self.runs_source()
        if where != self.chunks:
            t = pq.read_table(where)
        else:
            t = self.chunk_runs()
            t = t.select([c for c in t.column_names if not c.startswith(PARTIAL_PREFIX)])
        problem = runs_problem(t.schema, manifest["parameter_types"])
        if problem is not None:
            raise ResultsError(f"{where}: not this sweep's runs table: {problem}")
        problem = rows_problem(t, manifest)
        if problem is not None:
            raise ResultsError(f"{where}: {problem}")
        return as_pandas(t)

    def points(self) -> pd.DataFrame:
        """The design points and their point-level outcomes (written when the sweep completes);
        ResultsError (exit 2) if the table is not the sweep's (`points_problem`)."""
        manifest = self.manifest()
        whole = self.path / "points.parquet"
        if not whole.exists():
            raise ResultsError(f"{self.path}: no points.parquet (the sweep is unfinished)")
        t = pq.read_table(whole)
        problem = points_problem(t, manifest)
        if problem is not None:
            raise ResultsError(f"{whole}: not this sweep's points table: {problem}")
        return as_pandas(t)

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
        problem = infinite_series(t)
        if problem is not None:
            raise ResultsError(f"{source or self.chunks}: {problem}")
        if source is None and "run" in t.column_names:  # chunks: retried runs come last
            t = t.take(pc.sort_indices(t["run"]))
        out: pd.DataFrame = t.to_pandas()
        return out


def as_pandas(t: pa.Table) -> pd.DataFrame:
    """A table as pandas, booleans as the nullable `boolean` dtype (failed runs: NA)."""
    out: pd.DataFrame = t.to_pandas(types_mapper={pa.bool_(): pd.BooleanDtype()}.get)
    return out


def stage_parquet(table: pa.Table, path: Path) -> Path:
    """Write a Parquet file to `path`'s temporary sibling, synced to disk; return the sibling."""
    tmp = path.with_name(f".{path.name}.tmp")
    write_parquet(table, tmp)
    with open(tmp, "rb") as fh:  # the rename must not overtake the data on a power cut
        os.fsync(fh.fileno())
    return tmp


def atomic_parquet(table: pa.Table, path: Path) -> None:
    """Write a Parquet file via a temporary sibling, fsync and an atomic rename."""
    os.replace(stage_parquet(table, path), path)


def file_sha256(path: Path) -> str:
    """The SHA-256 of a file's bytes, in hex."""
    with open(path, "rb") as fh:
        return hashlib.file_digest(fh, "sha256").hexdigest()


def read_chunk(path: Path, columns: Sequence[str] | None = None) -> pa.Table:
    """A chunk file's table. ResultsError (exit 2) if it is missing or cannot be decoded,
    an environment failure (exit 1) if the system refuses to read it: never a crash."""
    with reading(path, remedy=REDO):
        return pq.read_table(path, columns=None if columns is None else list(columns))


REDO = "; running the sweep command again redoes its runs"
"""How a damaged chunk is mended, said after the damage."""


def _key(chunk_file: Path) -> str:
    """`A-B` (or `A-B-k`) of `runs-A-B.parquet`, `ts-A-B.parquet`, `sum-A-B.json`."""
    return chunk_file.name.split("-", 1)[1].rsplit(".", 1)[0]
