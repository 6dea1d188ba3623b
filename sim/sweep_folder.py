"""Reading and writing a sweep folder's files (no model code: plots and analyses use this)."""

from __future__ import annotations

import json
import os
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pandas as pd

from sim.design import Design
from sim.errors import ResultsError
from sim.results import atomic_write_text
from sim.vocabulary import RunStatus


@dataclass
class ChunkResult:
    """What a worker sends back: run rows, time series rows, tracebacks of failures."""

    name: str
    runs: pd.DataFrame
    timeseries: pd.DataFrame
    errors: dict[int, str]
    seconds: float


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
            df = pd.read_parquet(f, columns=["run", "status"])
            out.update(zip(df["run"].tolist(), df["status"].tolist(), strict=True))
        return out

    def tidy(self) -> None:
        """Remove leftovers of an interrupted run: temporary files and orphan time series."""
        for where in (self.path, self.chunks, self.errors):
            for tmp in where.glob(".*.tmp"):
                tmp.unlink()
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
        if not result.timeseries.empty:
            atomic_parquet(result.timeseries, self.chunks / f"ts-{name}.parquet")
        for run, text in result.errors.items():
            atomic_write_text(self.errors / f"{run:08d}.txt", text)
        # the runs file says the chunk is done, so it lands after everything it vouches for
        atomic_parquet(result.runs, self.chunks / f"runs-{name}.parquet")

    def drop_failed(self) -> None:
        """Rewrite chunk files without their failed rows, so those runs are done again."""
        for f in sorted(self.chunks.glob("runs-*.parquet")):
            df = pd.read_parquet(f)
            if (df["status"] == RunStatus.FAILED).any():
                atomic_parquet(df[df["status"] != RunStatus.FAILED], f)

    def consolidate(self) -> None:
        """Write runs.parquet (sorted) and mark the manifest complete."""
        whole = self.path / "runs.parquet"
        if whole.exists():  # rebuilt from the chunks: a resumed or retried sweep may have changed
            whole.unlink()
        runs = self.runs()
        atomic_parquet(runs, whole)
        m = self.manifest()
        m["status"] = "complete"
        m["finished"] = datetime.now(UTC).isoformat(timespec="seconds")
        m["failed"] = int((runs["status"] == RunStatus.FAILED).sum())
        self.write_manifest(m)

    def runs(self) -> pd.DataFrame:
        """Every run row, sorted by run (from the consolidated file, else from the chunks)."""
        whole = self.path / "runs.parquet"
        if whole.exists():
            return pd.read_parquet(whole)
        files = sorted(self.chunks.glob("runs-*.parquet"))
        if not files:
            raise ResultsError(f"{self.path}: no finished runs yet")
        df = pd.concat([pd.read_parquet(f) for f in files], ignore_index=True)
        return df.sort_values("run", kind="stable").reset_index(drop=True)

    def timeseries(
        self, columns: list[str] | None = None, runs: Iterable[int] | None = None
    ) -> pd.DataFrame:
        """The long time series of (selected) runs, sorted by run, step, state."""
        files = sorted(self.chunks.glob("ts-*.parquet"))
        if not files:
            return pd.DataFrame(columns=["run", "step", "state", "variable", "value"])
        wanted = None if runs is None else set(runs)
        parts = []
        for f in files:
            df = pd.read_parquet(f, columns=columns)
            if wanted is not None:
                df = df[df["run"].isin(wanted)]
            parts.append(df)
        out = pd.concat(parts, ignore_index=True)
        for c in ("state", "variable"):
            if c in out.columns:
                out[c] = out[c].astype(str)
        keys = [c for c in ("run", "step", "state", "variable") if c in out.columns]
        return out.sort_values(keys, kind="stable").reset_index(drop=True)

    def export_csv(self) -> list[Path]:
        """Write runs.csv and timeseries.csv next to the Parquet tables."""
        out = [self.path / "runs.csv", self.path / "timeseries.csv"]
        for path, table in zip(out, (self.runs(), self.timeseries()), strict=True):
            tmp = path.with_name(f".{path.stem}.csv.tmp")
            table.to_csv(tmp, index=False, lineterminator="\n")
            os.replace(tmp, path)
        return out


def atomic_parquet(df: pd.DataFrame, path: Path) -> None:
    """Write a Parquet file via a temporary sibling, fsync and an atomic rename."""
    tmp = path.with_name(f".{path.name}.tmp")
    df.to_parquet(tmp, index=False, compression="zstd")
    with open(tmp, "rb") as fh:  # the rename must not overtake the data on a power cut
        os.fsync(fh.fileno())
    os.replace(tmp, path)
