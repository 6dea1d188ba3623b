"""Results folders: atomic writing, the manifest, reading back, and reproducing a run.

A run folder appears under its final name only once every file in it is complete: files are
written into a hidden `.<id>.partial` sibling which is renamed at the end, so an interrupted
command leaves no half-written folder that looks whole.
"""

from __future__ import annotations

import hashlib
import json
import os
import platform
import shutil
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from sim.errors import ResultsError
from sim.scenario import LoadedScenario, Scenario

if TYPE_CHECKING:  # readers of results folders (plots) must not pull in the model
    from sim.runner import RunResult

DATA_FILES = (
    "timeseries.parquet",
    "events.csv",
    "model.csv",
    "outcomes.csv",
    "summary.csv",
    "expectations.csv",
)
PACKAGES = (
    "geosim",
    "mesa",
    "numpy",
    "pandas",
    "pyarrow",
    "pydantic",
    "ruamel.yaml",
    "matplotlib",
    "networkx",
)


def package_versions() -> dict[str, str]:
    """Versions of Python and the packages that shape results."""
    out = {"python": platform.python_version()}
    for name in PACKAGES:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = "not installed"
    return out


def git_sha() -> str | None:
    """Commit of the geosim source tree, if it is a git checkout (else None)."""
    here = Path(__file__).resolve().parent.parent
    try:
        out = subprocess.run(
            ["git", "-C", str(here), "rev-parse", "HEAD"],
            capture_output=True,
            text=True,
            timeout=5,
            check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    sha = out.stdout.strip()
    if out.returncode != 0 or not sha:
        return None
    dirty = subprocess.run(
        ["git", "-C", str(here), "status", "--porcelain", "--untracked-files=no"],
        capture_output=True,
        text=True,
        timeout=5,
        check=False,
    ).stdout.strip()
    return f"{sha}+dirty" if dirty else sha


def sha256(path: Path) -> str:
    """Hex digest of a file's bytes."""
    h = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def run_id(result: RunResult) -> str:
    """`YYYYmmddTHHMMSS-<hash>`: time for ordering, hash of scenario+seeds for identity."""
    digest = hashlib.sha256(
        json.dumps(
            {"scenario": result.scenario.model_dump(mode="json"), "seeds": result.seeds},
            sort_keys=True,
        ).encode()
    ).hexdigest()[:8]
    return f"{datetime.now(UTC):%Y%m%dT%H%M%S}-{digest}"


def write_tables(result: RunResult, folder: Path) -> None:
    """Write the data files of a run into `folder` (deterministic bytes for equal results)."""
    result.timeseries.to_parquet(folder / "timeseries.parquet", index=False, compression="zstd")
    result.events.to_csv(folder / "events.csv", index=False, lineterminator="\n")
    result.model.to_csv(folder / "model.csv", index=False, lineterminator="\n")
    result.outcomes.to_csv(folder / "outcomes.csv", index=False, lineterminator="\n")
    result.summary.to_csv(folder / "summary.csv", index=False, lineterminator="\n")
    result.expectations().to_csv(folder / "expectations.csv", index=False, lineterminator="\n")


def write_run(
    result: RunResult,
    loaded: LoadedScenario | None,
    root: Path,
    *,
    command: list[str] | None = None,
    folder_name: str | None = None,
    extra: Callable[[Path], None] | None = None,
) -> Path:
    """Write a complete run folder `root/<scenario>/<id>/` atomically; returns its path.

    `extra(tmp_folder)` may add files (plots) before the folder is published.
    """
    name = result.scenario.meta.name
    final = root / name / (folder_name or run_id(result))
    if final.exists():
        raise ResultsError(f"{final} already exists; choose another --out or remove it")
    tmp = final.parent / f".{final.name}.partial"
    if tmp.exists():
        shutil.rmtree(tmp)
    tmp.mkdir(parents=True)
    try:
        write_tables(result, tmp)
        manifest = build_manifest(result, loaded, command, tmp)
        # No sort_keys: mapping order in the scenario is meaningful (it fixes agent order).
        atomic_write_text(tmp / "manifest.json", json.dumps(manifest, indent=2))
        if extra is not None:
            extra(tmp)  # plots read the finished tables and manifest, like any reader
        os.replace(tmp, final)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return final


def build_manifest(
    result: RunResult, loaded: LoadedScenario | None, command: list[str] | None, folder: Path
) -> dict[str, Any]:
    """Everything needed to re-run and check a run: scenario, overrides, seeds, versions, hashes."""
    return {
        "geosim_manifest": 1,
        "scenario_name": result.scenario.meta.name,
        "scenario_files": loaded.files if loaded else [],
        "overrides": loaded.overrides if loaded else [],
        "resolved_scenario": result.scenario.model_dump(mode="json"),
        "root_seed": result.root_seed,
        "replicates": len(result.seeds),
        "seeds": result.seeds,
        "versions": package_versions(),
        "git_sha": git_sha(),
        "command": command if command is not None else sys.argv,
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
        "seconds": {k: round(v, 4) for k, v in result.seconds.items()},
        "outputs": {f: sha256(folder / f) for f in DATA_FILES if (folder / f).exists()},
    }


def atomic_write_text(path: Path, text: str) -> None:
    """Write a text file via a temporary sibling and an atomic rename."""
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)


@dataclass
class RunFolder:
    """A results folder read back: manifest and tables (loaded on demand)."""

    path: Path
    manifest: dict[str, Any]

    @classmethod
    def open(cls, path: str | Path) -> RunFolder:
        """Open a finished run folder; raises ResultsError if it is not one."""
        p = Path(path)
        if not p.is_dir():
            raise ResultsError(f"{p}: not a folder")
        mf = p / "manifest.json"
        if not mf.is_file():
            raise ResultsError(f"{p}: no manifest.json (not a finished geosim run folder)")
        try:
            manifest = json.loads(mf.read_text(encoding="utf-8"))
        except json.JSONDecodeError as exc:
            raise ResultsError(f"{mf}: not valid JSON ({exc})") from None
        if manifest.get("geosim_manifest") != 1:
            raise ResultsError(f"{mf}: not a geosim run manifest")
        return cls(p, manifest)

    def scenario(self) -> Scenario:
        """The resolved scenario the run used."""
        return Scenario.model_validate(self.manifest["resolved_scenario"])

    def timeseries(self) -> pd.DataFrame:
        """Long table: date, step, replicate, state, variable, value."""
        return pd.read_parquet(self.path / "timeseries.parquet")

    def events(self) -> pd.DataFrame:
        """Event log: replicate, step, date, kind, actor, target, details (JSON)."""
        return pd.read_csv(self.path / "events.csv", keep_default_na=False)

    def expectations(self) -> pd.DataFrame:
        """Expectation shares of the run."""
        return pd.read_csv(self.path / "expectations.csv")


def reproduce(folder: str | Path, into: Path) -> tuple[Path, dict[str, bool]]:
    """Re-run a run folder's manifest into `into`; report which data files match byte for byte."""
    from sim.runner import run

    original = RunFolder.open(folder)
    m = original.manifest
    scenario = original.scenario()
    result = run(scenario, seed=m["root_seed"], replicates=m["replicates"])
    if result.seeds != m["seeds"]:
        raise ResultsError("derived seeds differ from the manifest's: seed derivation changed")
    into.mkdir(parents=True, exist_ok=True)
    write_tables(result, into)
    same = {f: sha256(into / f) == h for f, h in m["outputs"].items()}
    return into, same
