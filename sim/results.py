"""Results folders: atomic writing, the manifest, reading back, and reproducing a run.

Every table is written in the results format (`sim.results_format`, documented in
docs/results-format.md): Parquet always, a CSV copy on request.

A run folder appears under its final name only once every file in it is complete, and runs
writing into the same root at the same time never share a name or a staging folder (see
`sim.publish`).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import sys
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from sim.errors import ResultsError, cannot_read, os_failure
from sim.manifest import DATA_FILES as DATA_FILES  # re-exported: readers import it from here
from sim.manifest import MANIFEST, Manifest, Report, read_manifest, verify_folder, with_rerun
from sim.manifest import REQUIRED_FILES as REQUIRED_FILES
from sim.manifest import sha256 as sha256
from sim.provenance import git_sha, package_versions
from sim.publish import Slot, claimed, publish
from sim.results_format import FORMAT_VERSION, TABLES, conform, to_csv_text, write_parquet
from sim.scenario import LoadedScenario, Scenario

if TYPE_CHECKING:  # readers of results folders (plots) must not pull in the model
    from sim.runner import RunResult


def run_id(result: RunResult) -> str:
    """`YYYYmmddTHHMMSS-<hash>`: time for ordering, hash of scenario+seeds for identity."""
    digest = hashlib.sha256(
        json.dumps(
            {"scenario": result.scenario.model_dump(mode="json"), "seeds": result.seeds},
            sort_keys=True,
        ).encode()
    ).hexdigest()[:8]
    return f"{datetime.now(UTC):%Y%m%dT%H%M%S}-{digest}"


def write_tables(result: RunResult, folder: Path, *, csv: bool = False) -> list[str]:
    """Write the data files of a run into `folder`: every table as Parquet and, with `csv`, as
    CSV too (deterministic bytes for equal results). Returns the file names, in DATA_FILES order.
    """
    written = []
    for name, frame in result.tables().items():
        table = TABLES[name]
        arrow = conform(frame, table, result.family_types(name))
        write_parquet(arrow, folder / table.file)
        written.append(table.file)
        if csv:
            (folder / f"{name}.csv").write_bytes(to_csv_text(arrow).encode("utf-8"))
            written.append(f"{name}.csv")
    return written


def write_run(
    result: RunResult,
    loaded: LoadedScenario | None,
    root: Path,
    *,
    command: list[str] | None = None,
    folder_name: str | None = None,
    extra: Callable[[Path], None] | None = None,
    slot: Slot | None = None,
    csv: bool = False,
) -> Path:
    """Write a complete run folder `root/<scenario>/<name>/` atomically; returns its path.

    `folder_name` must be free (ResultsError otherwise); without it the folder is named
    `<time>-<hash>`, with a suffix if that is taken. `slot`, from `claimed()`, is a name claimed
    before the run started (the CLI claims an explicit `--name` before simulating). `extra(tmp)`
    may add files (plots) before the folder is published. `csv` adds a CSV copy of each table.
    """

    def fill(tmp: Path) -> None:
        written = write_tables(result, tmp, csv=csv)
        manifest = build_manifest(result, loaded, command, tmp, written)
        # No sort_keys: mapping order in the scenario is meaningful (it fixes agent order).
        atomic_write_text(tmp / "manifest.json", json.dumps(manifest, indent=2))
        if extra is not None:
            extra(tmp)  # plots read the finished tables and manifest, like any reader

    if slot is not None:
        return publish(slot, fill)
    parent = root / result.scenario.meta.name
    with claimed(parent, folder_name, run_id(result)) as own:
        return publish(own, fill)


def build_manifest(
    result: RunResult,
    loaded: LoadedScenario | None,
    command: list[str] | None,
    folder: Path,
    written: list[str],
) -> dict[str, Any]:
    """Everything needed to re-run and check a run: scenario, overrides, seeds, outcomes asked
    for, versions, and the hash of every data file `written`."""
    return {
        "format_version": FORMAT_VERSION,
        "scenario_name": result.scenario.meta.name,
        "scenario_files": loaded.files if loaded else [],
        "overrides": loaded.overrides if loaded else [],
        "resolved_scenario": result.scenario.model_dump(mode="json"),
        "root_seed": result.root_seed,
        "replicates": len(result.seeds),
        "seeds": result.seeds,
        "outcomes": result.outcome_spec.model_dump(mode="json"),
        "versions": package_versions(),
        "git_sha": git_sha(),
        "command": command if command is not None else sys.argv,
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
        "seconds": {k: round(v, 4) for k, v in result.seconds.items()},
        "outputs": {f: sha256(folder / f) for f in written},
    }


def atomic_write_text(path: Path, text: str) -> None:
    """Write a text file via a uniquely named temporary sibling and an atomic rename.

    OutputError (exit 1) naming `path` and the OS's reason if the folder refuses the file
    (read-only, full, a file-size limit, not a folder).
    """
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    except OSError as exc:
        raise os_failure(exc, "write", path) from None
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
        os.chmod(tmp, 0o644)  # mkstemp makes it private; results are meant to be shared
        os.replace(tmp, path)
    except BaseException as exc:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        if isinstance(exc, OSError):
            raise os_failure(exc, "write", path) from None
        raise


@contextlib.contextmanager
def reading(path: Path, remedy: str = "") -> Iterator[None]:
    """Report a missing or corrupt file of a results folder the user named (`path`: the file,
    or the folder when the reader picks the files) as bad input; `remedy`, if given, ends the
    message with what fixes it.

    ResultsError (exit 2) for a missing file, a Parquet file pyarrow cannot decode (its
    OSErrors carry no errno) or a text file that is not UTF-8; an errno the OS gave for any
    other reason (no permission, an I/O error) is the environment's failure:
    EnvironmentFailure (exit 1).
    """
    import pyarrow as pa

    try:
        yield
    except (FileNotFoundError, IsADirectoryError, NotADirectoryError) as exc:
        where = exc.filename if exc.filename is not None else path
        what = "missing" if isinstance(exc, FileNotFoundError) else "not a file"
        raise ResultsError(
            f"{where}: {what} (the folder is incomplete or was edited){remedy}"
        ) from None
    except (pa.ArrowException, OSError, UnicodeDecodeError) as exc:
        if isinstance(exc, OSError) and exc.errno:
            where = exc.filename if exc.filename is not None else path
            raise cannot_read(exc, where) from None
        what = "a file in it is" if path.is_dir() else "the file is"
        raise ResultsError(
            f"{path}: {what} corrupt or not one geosim wrote ({_first_line(exc)}){remedy}"
        ) from None


def _first_line(exc: BaseException) -> str:
    """The first line of an error's message, at most 300 characters (pyarrow's run on)."""
    lines = str(exc).strip().splitlines() or [type(exc).__name__]
    return lines[0][:300]


@dataclass
class RunFolder:
    """A results folder read back: the validated manifest and tables (loaded on demand)."""

    path: Path
    validated: Manifest

    @classmethod
    def open(cls, path: str | Path) -> RunFolder:
        """Open a finished run folder; ResultsError if it is not one, ManifestError (a
        ScenarioError) listing every problem if its manifest is malformed."""
        p = Path(path)
        if not p.is_dir():
            raise ResultsError(f"{p}: not a folder")
        mf = p / MANIFEST
        if not (mf.exists() or mf.is_symlink()):  # a FIFO exists too: the reader refuses it
            raise ResultsError(f"{p}: no {MANIFEST} (not a finished geosim run folder)")
        return cls(p, read_manifest(mf))

    @cached_property
    def manifest(self) -> dict[str, Any]:
        """The manifest as JSON data, as it was written."""
        return self.validated.model_dump(mode="json", exclude_unset=True)

    def scenario(self) -> Scenario:
        """The resolved scenario the run used."""
        return self.validated.resolved_scenario

    def table(self, name: str) -> pd.DataFrame:
        """One table of the folder (`sim.results_format.RUN_TABLES`), read from its Parquet file."""
        path = self.path / TABLES[name].file
        if not path.is_file():
            raise ResultsError(f"{path}: missing (the folder is incomplete or was edited)")
        with reading(path):
            return pd.read_parquet(path)

    def runs(self) -> pd.DataFrame:
        """One row per replicate: ids, seed, status, then every run-level outcome."""
        return self.table("runs")

    def points(self) -> pd.DataFrame:
        """The design point (one row): its key and the point-level outcomes."""
        return self.table("points")

    def timeseries(self) -> pd.DataFrame:
        """Long table: run, point, replicate, step, date, state, variable, value."""
        return self.table("timeseries")

    def events(self) -> pd.DataFrame:
        """Event log: run, point, replicate, seq, step, date, kind, actor, target, details."""
        return self.table("events")

    def model(self) -> pd.DataFrame:
        """Model-level series per replicate and step."""
        return self.table("model")

    def expectations(self) -> pd.DataFrame:
        """Expectation shares of the run."""
        return self.table("expectations")


def reproduce(folder: str | Path, into: Path) -> Report:
    """Check a run folder's data files against its manifest, re-run the manifest into `into`
    and compare the re-run's bytes with the manifest: per file identical, altered in the
    folder, missing from it, or different on re-run."""
    from sim.runner import run

    original = RunFolder.open(folder)
    m = original.validated
    checked = verify_folder(original.path, m)  # before the re-run: it does not depend on it
    result = run(
        m.resolved_scenario, seed=m.root_seed, replicates=m.replicates, outcomes=m.outcome_spec()
    )
    if result.seeds != m.seeds:
        raise ResultsError("derived seeds differ from the manifest's: seed derivation changed")
    into.mkdir(parents=True, exist_ok=True)
    write_tables(result, into, csv=any(name.endswith(".csv") for name in m.outputs))
    return with_rerun(checked, m, into)
