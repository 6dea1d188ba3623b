"""Parameter sweeps: design points x replicates, run in chunks, streamed to disk, resumable.

Layout of a sweep folder (`results/sweeps/<scenario>-<fingerprint>/`):

  sweep.json            manifest: design, resolved base scenario, versions, git SHA, command,
                        status (written first; checked when the same sweep is run again)
  points.parquet        the design points (point, parameter values, seed key)
  chunks/runs-A-B.parquet   one row per run A..B: parameters, seed, status, error, outcomes
  chunks/ts-A-B.parquet     long time series of those runs (run, step, state, variable, value)
  errors/<run>.txt      traceback of each failed run
  runs.parquet          all run rows sorted by run (written when the sweep completes)

Every chunk file is written to a temporary name and renamed, the time series before the runs
file, so the presence of `runs-A-B.parquet` means runs A..B are done. Killing a sweep at any
moment loses at most the runs in flight; running the same command again skips finished runs.
Results do not depend on the number of workers or the backend: each run's seed is derived from
(root seed, design point values, replicate) and tables are sorted by run.
"""

from __future__ import annotations

import hashlib
import json
import os
import time
import traceback
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from sim.design import Design, point_key, run_seed
from sim.errors import GeosimError, Problem, ResultsError, ScenarioError
from sim.loader import Tree, apply_override
from sim.provenance import git_sha, package_versions
from sim.results import atomic_write_text
from sim.runner import outcome_names, run_once, run_outcomes, tilt_frame
from sim.scenario import LoadedScenario, Scenario, validate_tree
from sim.sweep_folder import SweepFolder, atomic_parquet

TIMESERIES = {"none": (), "tilt": ("tilt",), "affinity": ("tilt", "affinity.USA", "affinity.CHN")}


class SweepFailed(GeosimError):
    """A run failed and `--fail-fast` was asked for."""


@dataclass(frozen=True)
class Task:
    """One run: a design point and a replicate, with its seed."""

    run: int
    point: int
    replicate: int
    seed: int


@dataclass
class Chunk:
    """Runs shipped to a worker together: the base scenario and their points' values."""

    tasks: list[Task]
    base: Scenario
    values: dict[int, dict[str, Any]]
    outcomes: list[str]
    variables: tuple[str, ...]

    @property
    def name(self) -> str:
        """`A-B`: first and last run id (zero-padded)."""
        return f"{self.tasks[0].run:08d}-{self.tasks[-1].run:08d}"


@dataclass
class ChunkResult:
    """What a worker sends back: run rows, time series rows, tracebacks of failures."""

    name: str
    runs: pd.DataFrame
    timeseries: pd.DataFrame
    errors: dict[int, str]
    seconds: float


def run_chunk(chunk: Chunk) -> ChunkResult:
    """Run every task of a chunk (in a worker); a failing run is recorded, not raised."""
    start = time.perf_counter()
    rows: list[dict[str, Any]] = []
    frames: list[pd.DataFrame] = []
    errors: dict[int, str] = {}
    scenarios: dict[int, Scenario | Exception] = {}
    for t in chunk.tasks:
        row: dict[str, Any] = {
            "run": t.run,
            "point": t.point,
            "replicate": t.replicate,
            "seed": t.seed,
            **chunk.values[t.point],
        }
        if t.point not in scenarios:
            try:
                scenarios[t.point] = scenario_with(chunk.base, chunk.values[t.point])
            except ScenarioError as exc:  # a cross-field rule the plan's checks could not see
                scenarios[t.point] = exc
        spec = scenarios[t.point]
        try:
            if isinstance(spec, Exception):
                raise spec
            rep = run_once(spec, t.seed, t.replicate, collect=False)  # sweeps keep no model.csv
            row.update(status="ok", error="", **run_outcomes(rep, spec))
            if chunk.variables:
                frames.append(tilt_frame(rep, t.run, chunk.variables))
        except Exception as exc:  # a run that raises is data, not a crash of the sweep
            row.update(status="failed", error=f"{type(exc).__name__}: {exc}")
            errors[t.run] = traceback.format_exc()
        rows.append(row)
    columns = [
        "run",
        "point",
        "replicate",
        "seed",
        *chunk.values[chunk.tasks[0].point],
        "status",
        "error",
        *chunk.outcomes,
    ]
    runs = pd.DataFrame(rows).reindex(columns=columns)
    # Fixed dtypes, so every chunk has the same schema whatever runs it holds (seeds use 64 bits).
    runs["seed"] = np.array([t.seed for t in chunk.tasks], dtype=np.uint64)
    runs = runs.astype(
        {
            "run": "int64",
            "point": "int64",
            "replicate": "int64",
            "status": "string",
            "error": "string",
            **dict.fromkeys(chunk.outcomes, "float64"),
        }
    )
    ts = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()
    return ChunkResult(chunk.name, runs, ts, errors, time.perf_counter() - start)


# --------------------------------------------------------------------------- planning


@dataclass
class Plan:
    """A checked sweep: base scenario, design points and every task."""

    base: LoadedScenario
    design: Design
    points: list[dict[str, Any]]
    tasks: list[Task]
    variables: tuple[str, ...]
    fingerprint: str

    @property
    def outcomes(self) -> list[str]:
        """Outcome columns of the runs table."""
        return outcome_names(self.base.scenario)


def scenario_with(base: Scenario, values: dict[str, Any]) -> Scenario:
    """The base scenario with a design point's values set (same paths as `--set`), validated."""
    tree = Tree(data=base.model_dump(mode="python"), files=[f"<{base.meta.name}>"])
    for path, value in values.items():
        apply_override(tree, f"{path}={json.dumps(value)}")
    return validate_tree(tree).scenario


def _check_values(base: Scenario, design: Design, points: list[dict[str, Any]]) -> None:
    """Check every parameter's values against the schema before anything runs.

    Each distinct value of a grid axis (for sampled designs: each parameter's lowest and
    highest sample) is set alone on the base scenario and validated, which catches unknown
    paths, wrong types and out-of-range values at the cost of a few validations per parameter
    rather than one per point (points are built again in the workers, chunk by chunk).
    """
    problems: list[Problem] = []
    seen: set[tuple[str, str]] = set()  # a typo in a path is reported once
    for name in design.parameters:
        values = [pt[name] for pt in points]
        if design.method == "grid":
            probe = list(dict.fromkeys(json.dumps(v) for v in values))
            candidates = [json.loads(v) for v in probe]
        else:
            candidates = [min(values), max(values)]
        for value in candidates:
            try:
                scenario_with(base, {name: value})
            except ScenarioError as exc:
                k = next(i for i, pt in enumerate(points) if pt[name] == value)
                for p in exc.problems:
                    if (p.path, p.message) not in seen:
                        seen.add((p.path, p.message))
                        where = f"design point {k} {points[k]}"
                        problems.append(Problem(where, 0, 0, p.path, p.message))
                break
        if len(problems) >= 20:
            break
    if problems:
        raise ScenarioError(problems)


def plan(base: LoadedScenario, design: Design, timeseries: str = "tilt") -> Plan:
    """Expand the design and check its values against the schema (before anything runs)."""
    if timeseries not in TIMESERIES:
        raise GeosimError(f"--timeseries must be one of {', '.join(TIMESERIES)}")
    points = design.points()
    _check_values(base.scenario, design, points)
    tasks = [
        Task(k * design.replicates + r, k, r, run_seed(design.seed, point, r))
        for k, point in enumerate(points)
        for r in range(design.replicates)
    ]
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
    return Plan(base, design, points, tasks, TIMESERIES[timeseries], fp)


# --------------------------------------------------------------------------- the folder


def _write_chunk(folder: SweepFolder, result: ChunkResult) -> None:
    # Retried runs can span a chunk whose name is taken (runs 0 and 3 of chunk 0-3 failed, the
    # rest is kept): never overwrite it, or the runs it still holds would be lost.
    name, k = result.name, 0
    while (folder.chunks / f"runs-{name}.parquet").exists():
        k += 1
        name = f"{result.name}-{k}"
    if not result.timeseries.empty:
        atomic_parquet(result.timeseries, folder.chunks / f"ts-{name}.parquet")
    for run, text in result.errors.items():
        atomic_write_text(folder.path / "errors" / f"{run:08d}.txt", text)
    atomic_parquet(result.runs, folder.chunks / f"runs-{name}.parquet")


def _manifest(p: Plan, command: list[str]) -> dict[str, Any]:
    return {
        "geosim_sweep": 1,
        "fingerprint": p.fingerprint,
        "scenario_name": p.base.scenario.meta.name,
        "scenario_files": p.base.files,
        "overrides": p.base.overrides,
        "design": p.design.model_dump(mode="json"),
        "points": len(p.points),
        "runs": len(p.tasks),
        "timeseries": list(p.variables),
        "resolved_scenario": p.base.scenario.model_dump(mode="json"),
        "versions": package_versions(),
        "git_sha": git_sha(),
        "command": command,
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
        "status": "running",
    }


def open_folder(p: Plan, root: Path, command: list[str]) -> SweepFolder:
    """Create the sweep folder, or reopen it if it holds the same sweep (resume)."""
    folder = SweepFolder(root / "sweeps" / f"{p.base.scenario.meta.name}-{p.fingerprint[:10]}")
    if (folder.path / "sweep.json").exists():
        if folder.manifest().get("fingerprint") != p.fingerprint:
            raise ResultsError(f"{folder.path} holds a different sweep; use another --out")
        folder.tidy()
        return folder
    folder.chunks.mkdir(parents=True, exist_ok=True)
    (folder.path / "errors").mkdir(exist_ok=True)
    pts = pd.DataFrame(
        [{"point": k, **pt, "point_key": point_key(pt)} for k, pt in enumerate(p.points)]
    )
    atomic_parquet(pts, folder.path / "points.parquet")
    atomic_write_text(folder.path / "sweep.json", json.dumps(_manifest(p, command), indent=2))
    return folder


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


def _chunks(p: Plan, todo: list[Task], size: int) -> Iterator[Chunk]:
    for start in range(0, len(todo), size):
        tasks = todo[start : start + size]
        pts = sorted({t.point for t in tasks})
        yield Chunk(
            tasks,
            p.base.scenario,
            {k: p.points[k] for k in pts},
            p.outcomes,
            p.variables,
        )


def default_chunk_size(n_tasks: int, workers: int) -> int:
    """Enough chunks to balance the workers, few enough that overhead stays small."""
    return max(1, min(64, -(-n_tasks // max(1, workers * 4))))


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
    """Run the planned sweep (or what is left of it) and consolidate its tables."""
    t0 = time.perf_counter()
    folder = open_folder(p, root, command or [])
    done = folder.done_runs()
    if retry_failed and any(s == "failed" for s in done.values()):
        _drop_failed(folder)
        done = folder.done_runs()
    for f in (folder.path / "errors").glob("*.txt"):  # tracebacks of runs that will run again
        if f.stem.isdigit() and done.get(int(f.stem)) != "failed":
            f.unlink()
    todo = [t for t in p.tasks if t.run not in done]
    state = Progress(
        total=len(p.tasks),
        done=len(done),
        skipped=len(done),
        failed=sum(s == "failed" for s in done.values()),
    )
    if progress:
        progress(state)
    size = chunk_size or default_chunk_size(len(todo), max(workers, dask_local or 1))
    chunks = _chunks(p, todo, size)

    def handle(result: ChunkResult) -> None:
        _write_chunk(folder, result)
        state.done += len(result.runs)
        new_failures = int((result.runs["status"] == "failed").sum())
        state.failed += new_failures
        if progress:
            progress(state)
        if fail_fast and new_failures:
            first = result.runs.loc[result.runs["status"] == "failed"].iloc[0]
            raise SweepFailed(
                f"run {int(first['run'])} failed ({first['error']}); stopping (--fail-fast). "
                f"Traceback: {folder.path / 'errors' / f'{int(first["run"]):08d}.txt'}"
            )

    if not todo:
        pass  # nothing left: start no pool or cluster, just consolidate
    elif scheduler or dask_local:
        _run_dask(chunks, handle, scheduler, dask_local)
    elif workers <= 1:
        for chunk in chunks:
            handle(run_chunk(chunk))
    else:
        _run_local(chunks, handle, workers)
    _consolidate(folder)
    errors = sorted((folder.path / "errors").glob("*.txt"))
    return SweepOutcome(
        folder, len(p.tasks), len(todo), len(done), state.failed, time.perf_counter() - t0, errors
    )


def _bounded(chunks: Iterator[Chunk], submit: Callable[[Chunk], Any], limit: int) -> list[Any]:
    """Submit up to `limit` chunks; the caller tops up as results arrive (memory stays flat)."""
    out = []
    for chunk in chunks:
        out.append(submit(chunk))
        if len(out) >= limit:
            break
    return out


def _run_local(
    chunks: Iterator[Chunk], handle: Callable[[ChunkResult], None], workers: int
) -> None:
    import multiprocessing as mp
    from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait

    # forkserver: workers fork from a clean server process (no inherited threads or locks);
    # chosen here, for this pool only, never as a global start method.
    method = "forkserver" if "forkserver" in mp.get_all_start_methods() else "spawn"
    ctx = mp.get_context(method)
    if method == "forkserver":
        # The server imports the model once; each worker then forks from it ready to run.
        ctx.set_forkserver_preload(["sim.sweep"])
    with ProcessPoolExecutor(max_workers=workers, mp_context=ctx) as pool:
        pending = set(_bounded(chunks, lambda c: pool.submit(run_chunk, c), workers * 2))
        try:
            while pending:
                finished, pending = wait(pending, return_when=FIRST_COMPLETED)
                for fut in finished:
                    handle(fut.result())
                    nxt = next(chunks, None)
                    if nxt is not None:
                        pending.add(pool.submit(run_chunk, nxt))
        except BaseException:
            for fut in pending:
                fut.cancel()
            raise


def _run_dask(
    chunks: Iterator[Chunk],
    handle: Callable[[ChunkResult], None],
    scheduler: str | None,
    local: int | None,
) -> None:
    try:
        import distributed
    except ImportError:
        raise GeosimError(
            "the Dask backend needs the optional extra: pip install -e '.[dask]'"
        ) from None
    # distributed ships no type hints; treat the module as untyped on purpose.
    dask: Any = distributed
    cluster = None
    if scheduler:
        client = dask.Client(scheduler, timeout="20s")
    else:
        cluster = dask.LocalCluster(
            n_workers=local or 1,
            threads_per_worker=1,
            processes=True,
            host="127.0.0.1",
            dashboard_address=None,
        )
        client = dask.Client(cluster)
    try:
        limit = max(2, 2 * len(client.nthreads()))
        futures = _bounded(chunks, lambda c: client.submit(run_chunk, c, pure=False), limit)
        queue = dask.as_completed(futures)
        for fut in queue:
            handle(fut.result())
            fut.release()
            nxt = next(chunks, None)
            if nxt is not None:
                queue.add(client.submit(run_chunk, nxt, pure=False))
    finally:
        client.close()
        if cluster is not None:
            cluster.close()


def _drop_failed(folder: SweepFolder) -> None:
    """Rewrite chunk files without their failed rows, so those runs are done again."""
    for f in sorted(folder.chunks.glob("runs-*.parquet")):
        df = pd.read_parquet(f)
        if (df["status"] == "failed").any():
            atomic_parquet(df[df["status"] != "failed"], f)


def _consolidate(folder: SweepFolder) -> None:
    """Write runs.parquet (sorted) and mark the manifest complete."""
    whole = folder.path / "runs.parquet"
    if whole.exists():  # rebuilt from the chunks: a resumed or retried sweep may have changed
        whole.unlink()
    runs = folder.runs()
    atomic_parquet(runs, whole)
    m = folder.manifest()
    m["status"] = "complete"
    m["finished"] = datetime.now(UTC).isoformat(timespec="seconds")
    m["failed"] = int((runs["status"] == "failed").sum())
    atomic_write_text(folder.path / "sweep.json", json.dumps(m, indent=2))


def export_csv(folder: SweepFolder) -> list[Path]:
    """Write runs.csv and timeseries.csv next to the Parquet tables."""
    out = [folder.path / "runs.csv", folder.path / "timeseries.csv"]
    runs = folder.runs()
    tmp = out[0].with_name(".runs.csv.tmp")
    runs.to_csv(tmp, index=False, lineterminator="\n")
    os.replace(tmp, out[0])
    tmp = out[1].with_name(".timeseries.csv.tmp")
    folder.timeseries().to_csv(tmp, index=False, lineterminator="\n")
    os.replace(tmp, out[1])
    return out
