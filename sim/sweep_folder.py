"""Reading and writing a sweep folder's files (no model code: plots and analyses use this)."""

from __future__ import annotations

import json
import os
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from sim.design import Design
from sim.errors import ResultsError


@dataclass
class SweepFolder:
    """A sweep's folder on disk: manifest, chunks, consolidated tables."""

    path: Path

    @property
    def chunks(self) -> Path:
        """Folder of chunk files."""
        return self.path / "chunks"

    def manifest(self) -> dict[str, Any]:
        """The sweep manifest."""
        try:
            data: dict[str, Any] = json.loads((self.path / "sweep.json").read_text("utf-8"))
        except FileNotFoundError:
            raise ResultsError(f"{self.path}: no sweep.json (not a geosim sweep folder)") from None
        except json.JSONDecodeError as exc:
            raise ResultsError(f"{self.path}/sweep.json: not valid JSON ({exc})") from None
        return data

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
        for where in (self.path, self.chunks, self.path / "errors"):
            for tmp in where.glob(".*.tmp"):
                tmp.unlink()
        runs = {f.name.removeprefix("runs-") for f in self.chunks.glob("runs-*.parquet")}
        for ts in self.chunks.glob("ts-*.parquet"):
            if ts.name.removeprefix("ts-") not in runs:
                ts.unlink()

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


def atomic_parquet(df: pd.DataFrame, path: Path) -> None:
    """Write a Parquet file via a temporary sibling, fsync and an atomic rename."""
    tmp = path.with_name(f".{path.name}.tmp")
    df.to_parquet(tmp, index=False, compression="zstd")
    with open(tmp, "rb") as fh:  # the rename must not overtake the data on a power cut
        os.fsync(fh.fileno())
    os.replace(tmp, path)
