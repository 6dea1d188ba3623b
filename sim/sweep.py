"""Parameter sweeps: design points x replicates, run in chunks, streamed to disk, resumable.

Layout of a sweep folder (`results/sweeps/<scenario>-<fingerprint>/`; tables in the results
format, `sim.results_format`, version in `sweep.json`):

  sweep.json            manifest: format_version, design, outcomes, resolved base scenario,
                        versions, git SHA, command, status (written first; checked when the
                        same sweep is run again)
  .sweep.lock           held by the sweep writing the folder (pid, host, start time inside)
  chunks/runs-A-B.parquet   one row per run A..B: ids, seed, status, error, parameters,
                        outcomes (and internal `_partial.*` columns for point-level outcomes)
  chunks/ts-A-B.parquet     long time series of those runs, final columns and order
  chunks/sum-A-B.json       SHA-256 of those two files
  errors/<run>.txt      traceback of each failed run
  runs.parquet          every run row sorted by run        } written when the sweep
  points.parquet        design points, point-level outcomes } completes (`sim.sweep_consolidate`)
  timeseries.parquet    the whole time series, sorted (a large one: a folder timeseries/)

Every chunk file is written to a temporary name and renamed, the time series and checksums
before the runs file, so the presence of `runs-A-B.parquet` means runs A..B are done; a run is
written once. Killing a sweep at any moment (SIGTERM and SIGHUP stop it as Ctrl-C does, and
its workers exit with it) loses at most the runs in flight; running the same command again
skips finished runs and redoes chunks that fail their checksums. Two sweeps never write one
folder at once: the second is refused (`SweepBusy`, naming the first).
Results do not depend on the number of workers or the backend: each run's seed is derived from
(root seed, design point values, replicate) and tables are sorted by run.

This module plans a sweep and runs its chunks; `sim.sweep_folder` reads and writes the folder,
`sim.sweep_backends` decides where the chunks run.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import time
import traceback
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pandas as pd

from sim.design import INT64, Design
from sim.errors import GeosimError, ResultsError, ScenarioError
from sim.outcomes import OutcomeSet, OutcomeSpec
from sim.provenance import git_sha, package_versions
from sim.results_format import FORMAT_VERSION
from sim.run_set import RunSet
from sim.runner import RunView, long_frame, run_once
from sim.scenario import LoadedScenario, Scenario
from sim.sweep_backends import run_chunks, termination_as_interrupt
from sim.sweep_consolidate import Layout, consolidate
from sim.sweep_folder import ChunkResult, DoneRuns, SweepFolder
from sim.sweep_lock import lock_holder
from sim.sweep_outcomes import Places, checked_outcomes
from sim.sweep_tables import (
    TIMESERIES_KINDS,
    parameter_types,
    parameter_value,
    runs_table,
    series_table,
    timeseries_variables,
)
from sim.sweep_tasks import Task, Tasks
from sim.sweep_values import check_values, scenario_with
from sim.vocabulary import RunStatus

__all__ = [
    "TIMESERIES_KINDS",
    "Chunk",
    "ChunkResult",
    "Plan",
    "Progress",
    "SweepFailed",
    "SweepFolder",
    "SweepOutcome",
    "Task",
    "chunk_size_for",
    "default_chunk_size",
    "execute",
    "open_folder",
    "plan",
    "run_chunk",
    "scenario_with",
    "timeseries_variables",
]


class SweepFailed(GeosimError):
    """A run failed and `--fail-fast` was asked for."""


@dataclass
class Chunk:
    """Runs shipped to a worker together: the base scenario, their points' values, the outcomes
    to compute (as a spec: compiled outcomes do not pickle) and the columns' types."""

    tasks: list[Task]
    base: Scenario
    values: dict[int, dict[str, Any]]
    spec: OutcomeSpec
    params: dict[str, str]
    variables: tuple[str, ...]

    @property
    def name(self) -> str:
        """`A-B`: first and last run id (zero-padded)."""
        return f"{self.tasks[0].run:08d}-{self.tasks[-1].run:08d}"


# --------------------------------------------------------------------------- one chunk


def run_chunk(chunk: Chunk) -> ChunkResult:
    """Run every task of a chunk (in a worker); a failing run is recorded, not raised."""
    start = time.perf_counter()
    work = _Work(chunk)
    rows: list[dict[str, Any]] = []
    frames: list[pd.DataFrame] = []
    errors: dict[int, str] = {}
    scenarios: dict[int, Scenario | ScenarioError] = {}
    for t in chunk.tasks:
        if t.point not in scenarios:
            scenarios[t.point] = _point_scenario(chunk.base, chunk.values[t.point])
        row, frame, trace = work.run(t, scenarios[t.point])
        rows.append(row)
        if frame is not None:
            frames.append(frame)
        if trace is not None:
            errors[t.run] = trace
    seeds = [t.seed for t in chunk.tasks]
    runs = runs_table(rows, seeds, chunk.params, work.outcomes)
    ts = series_table(frames)
    return ChunkResult(chunk.name, runs, ts, errors, time.perf_counter() - start)


def _point_scenario(base: Scenario, values: dict[str, Any]) -> Scenario | ScenarioError:
    try:
        return scenario_with(base, values)
    except ScenarioError as exc:  # a cross-field rule the plan's checks could not see
        return exc


class _Work:
    """What every run of a chunk shares: outcomes built once and the calendar."""

    def __init__(self, chunk: Chunk) -> None:
        self.chunk = chunk
        self.outcomes = OutcomeSet.build(chunk.base, chunk.spec)  # checked by the plan
        self.calendar = chunk.base.time.calendar()

    def run(
        self, t: Task, spec: Scenario | ScenarioError
    ) -> tuple[dict[str, Any], pd.DataFrame | None, str | None]:
        """One run's row (status, error, outcomes), its time series, its traceback if failed."""
        values = self.chunk.values[t.point]
        row: dict[str, Any] = {
            "run": t.run,
            "point": t.point,
            "replicate": t.replicate,
            **{k: parameter_value(v, self.chunk.params[k]) for k, v in values.items()},
        }
        try:
            if isinstance(spec, Exception):
                raise spec
            rep = run_once(spec, t.seed, t.replicate, collect=False)  # sweeps keep no model table
            outcomes = self.outcomes.evaluate_run(RunView(rep, self.calendar))
            row.update(status=RunStatus.OK.value, error="", **outcomes)
            ids = (t.run, t.point, t.replicate)
            variables = self.chunk.variables
            frame = long_frame(rep, ids, variables) if variables else None
        except Exception as exc:  # a run that raises is data, not a crash of the sweep
            row.update(status=RunStatus.FAILED.value, error=f"{type(exc).__name__}: {exc}")
            return row, None, traceback.format_exc()
        return row, frame, None


# --------------------------------------------------------------------------- planning


@dataclass
class Plan:
    """A checked sweep: base scenario, design points and every task."""

    base: LoadedScenario
    design: Design
    points: list[dict[str, Any]]
    tasks: Tasks
    variables: tuple[str, ...]
    fingerprint: str
    outcome_set: OutcomeSet
    params: dict[str, str]
    """Column type of each parameter (`sim.sweep_tables.parameter_types`)."""

    @property
    def outcomes(self) -> list[str]:
        """Outcome columns of the runs table."""
        return list(self.outcome_set.run_columns)

    def layout(self) -> Layout:
        """What consolidation needs to know of the sweep's tables."""
        scenario = self.base.scenario
        rows = (scenario.time.calendar().steps + 1) * len(scenario.states) * len(self.variables)
        states, variables = list(scenario.states), list(self.variables)
        return Layout(self.points, self.params, self.outcome_set, rows, states, variables)


def plan(
    base: LoadedScenario, design: Design, timeseries: str = "tilt", places: Places | None = None
) -> Plan:
    """Expand the design and check its values and outcomes (before anything runs).

    `places` says where the design's outcomes were written (a design file, `--outcome`
    options), so that their problems are located there.
    """
    variables = timeseries_variables(timeseries, base.scenario)
    outcome_set = checked_outcomes(base.scenario, design, places)
    check_values(base.scenario, design)
    n_points = design.point_count()  # checked before the points are built, which may not fit
    if n_points * design.replicates >= INT64:
        raise GeosimError(
            f"{n_points} design points x {design.replicates} replicates is more runs than "
            "run ids can number (2^63); give fewer replicates"
        )
    points = design.points()
    tasks = Tasks(points, design.replicates, design.seed)
    text = json.dumps(
        {
            "design": design.model_dump(mode="json"),
            "base": base.scenario.model_dump(mode="json"),
            "timeseries": timeseries,
            # the expanded points too: a SciPy/SALib upgrade that samples differently (or a
            # change in how grids are spaced) must not resume an old folder with other points
            "points": points,
        },
        sort_keys=True,
        default=str,
    )
    fp = hashlib.sha256(text.encode()).hexdigest()
    params = parameter_types(points)
    return Plan(base, design, points, tasks, variables, fp, outcome_set, params)


# --------------------------------------------------------------------------- the folder


def _manifest(p: Plan, command: list[str]) -> dict[str, Any]:
    return {
        "format_version": FORMAT_VERSION,
        "fingerprint": p.fingerprint,
        "scenario_name": p.base.scenario.meta.name,
        "scenario_files": p.base.files,
        "overrides": p.base.overrides,
        "design": p.design.model_dump(mode="json"),
        "points": len(p.points),
        "runs": len(p.tasks),
        "timeseries": list(p.variables),
        "outcomes": p.design.outcome_spec().model_dump(mode="json"),
        "outcome_columns": {
            "runs": p.outcome_set.run_columns,
            "points": p.outcome_set.point_columns,
        },
        "parameter_types": p.params,
        "resolved_scenario": p.base.scenario.model_dump(mode="json"),
        "versions": package_versions(),
        "git_sha": git_sha(),
        "command": command,
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
        "status": "running",
    }


@contextmanager
def open_folder(p: Plan, root: Path, command: list[str]) -> Iterator[SweepFolder]:
    """Lock the sweep folder for the block, and create it or reopen it if it holds the same
    sweep (resume: leftovers of a kill removed). SweepBusy (exit 2) if another sweep holds it.

    A folder of another results format is refused before anything in it is read beyond its
    sweep.json, or changed (`SweepFolder.manifest`).
    """
    folder = SweepFolder(sweep_path(p, root))
    with folder.locked(lock_holder(command)):
        if (folder.path / "sweep.json").exists():
            if folder.manifest().get("fingerprint") != p.fingerprint:
                raise ResultsError(f"{folder.path} holds a different sweep; use another --out")
            folder.tidy()
        else:
            folder.chunks.mkdir(parents=True, exist_ok=True)
            folder.errors.mkdir(exist_ok=True)
            folder.write_manifest(_manifest(p, command))
        yield folder


def sweep_path(p: Plan, root: Path) -> Path:
    """The folder of the planned sweep under the results root."""
    return root / "sweeps" / f"{p.base.scenario.meta.name}-{p.fingerprint[:10]}"


# --------------------------------------------------------------------------- execution


@dataclass
class Progress:
    """Counts reported to the progress callback."""

    total: int
    done: int = 0
    failed: int = 0
    skipped: int = 0


@dataclass
class SweepOutcome:
    """Where a finished sweep is and what happened."""

    folder: SweepFolder
    total: int
    ran: int
    skipped: int
    failed: int
    seconds: float
    errors: list[Path] = field(default_factory=list)
    redone: list[str] = field(default_factory=list)
    """Chunks found damaged on resume and run again (`<chunk>: <reason>`)."""


def _chunks(p: Plan, todo: Iterable[Task], size: int) -> Iterator[Chunk]:
    for batch in itertools.batched(todo, size):
        tasks = list(batch)
        pts = sorted({t.point for t in tasks})
        values = {k: p.points[k] for k in pts}
        yield Chunk(tasks, p.base.scenario, values, p.design.outcome_spec(), p.params, p.variables)


def default_chunk_size(n_tasks: int, workers: int) -> int:
    """Enough chunks to balance the workers, few enough that overhead stays small."""
    return max(1, min(64, -(-n_tasks // max(1, workers * 4))))


def chunk_size_for(runs: int, workers: int, asked: int | None = None) -> int:
    """Runs per chunk of a sweep with `runs` left to do: the size asked for (`--chunk-size`)
    or `default_chunk_size`, never more than the runs left, since a chunk is built whole.

    The sweep and its memory estimate (`sim.budget.sweep_estimate`) both size chunks here."""
    return min(asked or default_chunk_size(runs, workers), runs)


@dataclass
class _Recorder:
    """Stores each finished chunk, keeps the counts and reports them; stops on --fail-fast.

    A run already on disk is not written again (a backend may deliver a chunk twice)."""

    folder: SweepFolder
    state: Progress
    progress: Callable[[Progress], None] | None
    fail_fast: bool
    written: RunSet

    def report(self) -> None:
        if self.progress:
            self.progress(self.state)

    def __call__(self, result: ChunkResult) -> None:
        result = result.without(self.written)
        if not result.runs.num_rows:
            return
        self.folder.write_chunk(result)
        self.written.update(result.runs["run"].to_pylist())
        runs = result.runs.select(["run", "status", "error"]).to_pandas()
        self.state.done += len(runs)
        failed = runs["status"] == RunStatus.FAILED
        self.state.failed += int(failed.sum())
        self.report()
        if self.fail_fast and failed.any():
            first = runs.loc[failed].iloc[0]
            run = int(first["run"])
            raise SweepFailed(
                f"run {run} failed ({first['error']}); stopping (--fail-fast). "
                f"Traceback: {self.folder.errors / f'{run:08d}.txt'}"
            )


def _finished_runs(folder: SweepFolder, p: Plan, retry_failed: bool) -> DoneRuns:
    """Runs on disk that stay done (failed ones too, unless retried).

    With runs to do, the folder is marked running and loses its consolidated tables first,
    so a sweep stopped from here on (--fail-fast, a kill) never looks complete.
    """
    done = folder.done_runs()
    retry = retry_failed and len(done.failed) > 0
    if retry or len(done.runs) < len(p.tasks):  # every run on disk is one of the plan's
        folder.unconsolidate()
    if retry:
        folder.drop_failed()
        done = folder.done_runs()
    for f in folder.errors.glob("*.txt"):  # tracebacks of runs that will run again
        if f.stem.isdigit() and int(f.stem) not in done.failed:
            f.unlink()
    return done


def execute(
    p: Plan,
    root: Path,
    *,
    workers: int = 1,
    scheduler: str | None = None,
    dask_local: int | None = None,
    chunk_size: int | None = None,
    fail_fast: bool = False,
    retry_failed: bool = False,
    progress: Callable[[Progress], None] | None = None,
    command: list[str] | None = None,
) -> SweepOutcome:
    """Run the planned sweep (or what is left of it) and consolidate its tables.

    SweepBusy (exit 2) if another sweep is writing the folder; KeyboardInterrupt on Ctrl-C,
    SIGTERM or SIGHUP (finished runs are kept; workers are stopped)."""
    t0 = time.perf_counter()
    with termination_as_interrupt(), open_folder(p, root, command or []) as folder:
        redone = folder.verify(p.layout().rows_per_run)
        done = _finished_runs(folder, p, retry_failed)
        skipped = len(done.runs)
        ran = len(p.tasks) - skipped
        state = Progress(len(p.tasks), done=skipped, failed=len(done.failed), skipped=skipped)
        record = _Recorder(folder, state, progress, fail_fast, done.runs.copy())
        record.report()
        if ran:  # with nothing left, start no pool or cluster: just consolidate
            size = chunk_size_for(ran, max(workers, dask_local or 1), chunk_size)
            chunks = _chunks(p, p.tasks.without(done.runs), size)
            run_chunks(
                chunks,
                run_chunk,
                record,
                workers=workers,
                scheduler=scheduler,
                dask_local=dask_local,
            )
        consolidate(folder, p.layout())
    errors = sorted(folder.errors.glob("*.txt"))
    seconds = time.perf_counter() - t0
    return SweepOutcome(folder, len(p.tasks), ran, skipped, state.failed, seconds, errors, redone)
