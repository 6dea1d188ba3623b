"""Sweeps: keyed seeds, identical tables on every backend, resume after a kill, failed runs,
the sweep folder, CSV export, bounded memory, and the time series kept for every power."""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from click.testing import CliRunner, Result
from pandas.testing import assert_frame_equal

import sim.design
import sim.sweep as sweep_mod
import sim.sweep_backends
from sim.cli import main
from sim.cli.sweeps import MAX_REPLICATES, TIMESERIES_CHOICES
from sim.design import Design, design_from_options, point_key, run_seed
from sim.runner import run_once
from sim.scenario import LoadedScenario, scenario_from_dict
from sim.sweep import TIMESERIES_KINDS, Chunk, SweepOutcome, execute, plan
from sim.sweep_folder import ChunkResult, SweepFolder

CRED = "rules.threats.credibility"
SHARP = "rules.threats.sharpness"
SUMMARY = re.compile(r"(\d+) runs: (\d+) run now, (\d+) already done, (\d+) failed")


def sweep(
    base: LoadedScenario, params: list[str], root: Path, replicates: int = 2, **kw: Any
) -> SweepOutcome:
    return execute(plan(base, design_from_options(params, replicates, 7)), root, **kw)


def cli(*args: str | Path) -> Result:
    return CliRunner().invoke(main, ["sweep", *map(str, args)], catch_exceptions=False)


def geosim(*args: str | Path, cwd: Path, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "sim", *map(str, args)],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def summary(output: str) -> tuple[int, int, int, int]:
    """(total, run now, already done, failed) from the last line `geosim sweep` prints."""
    m = SUMMARY.search(output)
    assert m, output
    total, ran, skipped, failed = map(int, m.groups())
    return total, ran, skipped, failed


def flat(text: str) -> str:
    """Output without whitespace: rich wraps long lines (paths) at the console width."""
    return "".join(text.split())


def only_folder(root: Path) -> SweepFolder:
    folders = sorted((root / "sweeps").iterdir())
    assert len(folders) == 1, folders
    return SweepFolder(folders[0])


TABLE_FILES = ("runs.parquet", "points.parquet", "timeseries.parquet")


def assert_same_tables(a: SweepFolder, b: SweepFolder) -> None:
    """The same tables, down to the bytes of the consolidated files."""
    assert_frame_equal(a.runs(), b.runs())
    assert_frame_equal(a.timeseries(), b.timeseries())
    assert_frame_equal(a.points(), b.points())
    for name in TABLE_FILES:
        assert (a.path / name).read_bytes() == (b.path / name).read_bytes(), name


# --------------------------------------------------------------------------- seeds


def test_adding_replicates_keeps_earlier_seeds_and_outcomes(
    base: LoadedScenario, tmp_path: Path
) -> None:
    two = sweep(base, [f"{CRED}=0.3,0.8"], tmp_path, replicates=2).folder
    four = sweep(base, [f"{CRED}=0.3,0.8"], tmp_path, replicates=4).folder
    assert two.path != four.path
    r2, r4 = two.runs(), four.runs()
    kept = r4[r4["replicate"] < 2].reset_index(drop=True)
    assert_frame_equal(r2.drop(columns="run"), kept.drop(columns="run"))
    assert r4["seed"].is_unique and len(r4) == 8
    # seeds are stored, and are the documented function of (root, point values, replicate)
    expected = [run_seed(7, {CRED: v}, r) for v in (0.3, 0.8) for r in range(4)]
    assert r4["seed"].tolist() == expected
    points = pd.read_parquet(four.path / "points.parquet")
    assert points["point_key"].tolist() == [point_key({CRED: 0.3}), point_key({CRED: 0.8})]


def test_growing_a_grid_keeps_existing_points_seeds(base: LoadedScenario, tmp_path: Path) -> None:
    small = sweep(base, [f"{CRED}=0.3,0.8", f"{SHARP}=2,4"], tmp_path / "a").folder.runs()
    grown = sweep(base, [f"{CRED}=0.3,0.55,0.8", f"{SHARP}=2,4"], tmp_path / "b").folder.runs()
    key = [CRED, SHARP, "replicate"]
    both = small.merge(grown, on=key, suffixes=("", "_grown"))
    assert len(both) == len(small) == 8 and len(grown) == 12
    assert (both["point"] != both["point_grown"]).any()  # point ids moved, seeds did not
    assert (both["seed"] == both["seed_grown"]).all()
    assert (both["mean_tilt@end"] == both["mean_tilt@end_grown"]).all()
    # refining a range keeps the seeds of the values both grids share
    coarse = plan(base, design_from_options([f"{CRED}=0.1:0.9:5"], 2, 7))
    fine = plan(base, design_from_options([f"{CRED}=0.1:0.9:9"], 2, 7))

    def seeds(p: sweep_mod.Plan) -> dict[tuple[float, int], int]:
        return {(p.points[t.point][CRED], t.replicate): t.seed for t in p.tasks}

    assert seeds(coarse).items() <= seeds(fine).items()
    assert len(seeds(coarse)) == 10


# --------------------------------------------------------------------------- backends


GRID = ["--param", f"{CRED}=0.2,0.9", "--param", f"{SHARP}=1.5,4", "-n", "6", "--seed", "5"]


def test_tables_do_not_depend_on_workers_chunks_or_dask(mini_file: Path, tmp_path: Path) -> None:
    r = cli(mini_file, *GRID, "--out", tmp_path / "one")
    assert r.exit_code == 0, r.output
    assert summary(r.output) == (24, 24, 0, 0)
    r = cli(mini_file, *GRID, "--workers", "2", "--chunk-size", "5", "--out", tmp_path / "two")
    assert r.exit_code == 0, r.output
    proc = geosim(
        "sweep",
        mini_file,
        *GRID,
        "--dask-local",
        "2",
        "--chunk-size",
        "3",
        "--out",
        tmp_path / "dask",
        cwd=tmp_path,
        timeout=240,  # a local Dask cluster can be slow to start on a loaded CI machine
    )
    assert proc.returncode == 0, proc.stderr
    one, two, dask = (only_folder(tmp_path / d) for d in ("one", "two", "dask"))
    assert one.path.name == two.path.name == dask.path.name  # same sweep, same fingerprint
    assert len(list(two.chunks.glob("runs-*.parquet"))) == 5
    assert len(list(dask.chunks.glob("runs-*.parquet"))) == 8
    runs = one.runs()
    assert len(runs) == 24 and (runs["status"] == "ok").all()
    assert runs["mean_tilt@end"].nunique() > 1
    assert len(one.timeseries()) == 24 * 25 * 4  # runs x (steps + 1) x states
    assert_same_tables(one, two)
    assert_same_tables(one, dask)


def test_dask_scheduler_address(mini_file: Path, tmp_path: Path) -> None:
    distributed = pytest.importorskip("distributed")
    r = cli(mini_file, *GRID, "--out", tmp_path / "one")
    assert r.exit_code == 0, r.output
    with distributed.LocalCluster(
        n_workers=2,
        threads_per_worker=1,
        processes=True,
        host="127.0.0.1",
        dashboard_address=None,
    ) as cluster:
        address = cluster.scheduler_address
        assert address.startswith("tcp://127.0.0.1:")
        proc = geosim(
            "sweep", mini_file, *GRID, "--scheduler", address, "--out", tmp_path / "remote",
            cwd=tmp_path, timeout=240,
        )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert summary(proc.stdout) == (24, 24, 0, 0)
    assert_same_tables(only_folder(tmp_path / "one"), only_folder(tmp_path / "remote"))


def test_at_most_two_chunks_per_worker_are_in_flight(
    base: LoadedScenario, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    live, peak = 0, 0
    real_chunks, real_write = sweep_mod._chunks, SweepFolder.write_chunk

    def counted(*args: Any) -> Iterator[Chunk]:
        nonlocal live, peak
        for chunk in real_chunks(*args):
            live += 1
            peak = max(peak, live)
            yield chunk

    def written(folder: SweepFolder, result: ChunkResult) -> None:
        nonlocal live
        live -= 1
        real_write(folder, result)

    monkeypatch.setattr(sweep_mod, "_chunks", counted)
    monkeypatch.setattr(SweepFolder, "write_chunk", written)
    params = [f"{CRED}=0.2,0.4,0.6,0.8"]
    out = sweep(base, params, tmp_path / "two", replicates=5, workers=2, chunk_size=1)
    assert (out.ran, out.failed, peak) == (20, 0, 4)  # 20 chunks, never more than 2 x 2 held
    live, peak = 0, 0
    out = sweep(base, params, tmp_path / "one", replicates=5, workers=1, chunk_size=1)
    assert (out.ran, peak) == (20, 1)

    drawn: list[int] = []

    def endless() -> Iterator[Any]:
        k = 0
        while True:
            drawn.append(k)
            yield k
            k += 1

    assert sim.sweep_backends.bounded(endless(), lambda c: c, 6) == list(range(6))
    assert len(drawn) == 6  # the rest of the chunks stay unmade until results come back


# --------------------------------------------------------------------------- resume


@pytest.mark.slow  # a real process killed mid-sweep, then two more sweeps: ~20 s
def test_sweep_killed_with_sigkill_resumes_to_the_same_tables(tmp_path: Path) -> None:
    args: list[str | Path] = [
        "sweep", "latam_2025", "--param", f"{CRED}=0.2:0.9:15", "-n", "4",
        "--workers", "2", "--chunk-size", "2", "--out", tmp_path / "out",
    ]  # fmt: skip
    cmd = [sys.executable, "-m", "sim", *map(str, args)]
    proc = subprocess.Popen(
        cmd,
        cwd=tmp_path,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    killed_at = -1
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and proc.poll() is None:
            n = len(list((tmp_path / "out").glob("sweeps/*/chunks/runs-*.parquet")))
            if 2 <= n <= 20:  # of 30 chunks
                os.killpg(proc.pid, signal.SIGKILL)
                killed_at = n
                break
            time.sleep(0.01)
    finally:
        if proc.poll() is None and killed_at < 0:
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)
    assert killed_at > 0, "the sweep finished (or never started) before it could be killed"
    folder = only_folder(tmp_path / "out")
    assert folder.manifest()["status"] == "running"
    assert not (folder.path / "runs.parquet").exists()
    # What a kill can leave behind (planted, as the kill lands anywhere): half-written files,
    # time series without their runs file, the traceback of a run whose chunk never landed.
    (folder.chunks / ".runs-00000058-00000059.parquet.tmp").write_bytes(b"half")
    (folder.path / ".sweep.json.tmp").write_text("{")
    (folder.path / "errors" / ".00000059.txt.tmp").write_text("Trace")
    (folder.path / "errors" / "00000059.txt").write_text("Traceback: killed mid-chunk")
    shutil.copy(
        next(folder.chunks.glob("ts-*.parquet")), folder.chunks / "ts-00000058-00000059.parquet"
    )

    again = subprocess.run(cmd, cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert again.returncode == 0, again.stderr
    total, ran, skipped, failed = summary(again.stdout)
    assert total == 60 and skipped >= killed_at * 2 and ran == 60 - skipped and failed == 0
    assert folder.manifest()["status"] == "complete"
    assert not list(folder.path.rglob("*.tmp"))
    assert not list((folder.path / "errors").iterdir())  # run 59 did not fail after all
    runs_files = {f.name.removeprefix("runs-") for f in folder.chunks.glob("runs-*.parquet")}
    ts_files = {f.name.removeprefix("ts-") for f in folder.chunks.glob("ts-*.parquet")}
    assert ts_files == runs_files  # no orphan time series

    whole = cli(*args[1:-1], tmp_path / "uninterrupted", "--workers", "1")
    assert whole.exit_code == 0, whole.output
    assert summary(whole.output) == (60, 60, 0, 0)
    assert_same_tables(folder, only_folder(tmp_path / "uninterrupted"))


# --------------------------------------------------------------------------- failures


def fail_for(monkeypatch: pytest.MonkeyPatch, seeds: set[int]) -> None:
    """Make the runs with these seeds raise, as a model bug would (workers=1: in process)."""
    real = run_once

    def flaky(spec: Any, seed: int, replicate: int = 0, **kw: Any) -> Any:
        if seed in seeds:
            raise RuntimeError(f"boom for seed {seed}")
        return real(spec, seed, replicate, **kw)

    monkeypatch.setattr(sweep_mod, "run_once", flaky)


FAILING = ["--param", f"{CRED}=0.3,0.8", "-n", "4", "--seed", "11"]


def test_failed_runs_are_recorded_and_retried(
    mini_file: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    bad = {run_seed(11, {CRED: 0.3}, 0), run_seed(11, {CRED: 0.3}, 3)}  # runs 0 and 3
    fail_for(monkeypatch, bad)
    args: list[str | Path] = [mini_file, *FAILING, "--chunk-size", "4", "--out", tmp_path / "out"]
    r = cli(*args)
    assert r.exit_code == 1, r.output
    assert summary(r.output) == (8, 8, 0, 2)
    folder = only_folder(tmp_path / "out")
    assert f"errors:{folder.path / 'errors'}" in flat(r.output)
    runs = folder.runs()
    failed = runs[runs["status"] == "failed"]
    assert failed["run"].tolist() == [0, 3]
    assert failed["error"].str.startswith("RuntimeError: boom for seed").all()
    assert failed["mean_tilt@end"].isna().all() and runs["mean_tilt@end"].notna().sum() == 6
    trace = (folder.path / "errors" / "00000003.txt").read_text()
    assert trace.startswith("Traceback (most recent call last)") and "boom for seed" in trace
    assert sorted(f.name for f in (folder.path / "errors").iterdir()) == [
        "00000000.txt",
        "00000003.txt",
    ]
    assert set(folder.timeseries()["run"]) == {1, 2, 4, 5, 6, 7}
    assert folder.manifest()["status"] == "complete" and folder.manifest()["failed"] == 2

    monkeypatch.undo()  # the bug is fixed
    r = cli(*args)  # failures are results: a plain re-run keeps them
    assert r.exit_code == 1 and summary(r.output) == (8, 0, 8, 2)
    r = cli(*args, "--retry-failed")
    assert r.exit_code == 0, r.output
    assert summary(r.output) == (8, 2, 6, 0)
    assert not list((folder.path / "errors").iterdir())
    clean = cli(mini_file, *FAILING, "--out", tmp_path / "clean")
    assert clean.exit_code == 0, clean.output
    assert_same_tables(folder, only_folder(tmp_path / "clean"))  # nothing lost or doubled


def test_fail_fast_stops_at_the_first_failure(
    mini_file: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fail_for(monkeypatch, {run_seed(11, {CRED: 0.3}, 2)})  # run 2
    args: list[str | Path] = [mini_file, *FAILING, "--chunk-size", "2", "--out", tmp_path / "out"]
    r = cli(*args, "--fail-fast")
    assert r.exit_code == 1, r.output  # a failed run is a result of the sweep, not bad input
    folder = only_folder(tmp_path / "out")
    trace = folder.path / "errors" / "00000002.txt"
    text = flat(r.output)
    assert "run2failed(RuntimeError:boomforseed" in text and "(--fail-fast)" in text
    assert f"Traceback:{trace}" in text and "boom for seed" in trace.read_text()
    assert list(folder.done_runs().runs) == [0, 1, 2, 3]  # runs 4..7 never started
    assert folder.manifest()["status"] == "running"
    assert not (folder.path / "runs.parquet").exists()

    monkeypatch.undo()
    r = cli(*args, "--retry-failed")
    assert r.exit_code == 0, r.output
    assert summary(r.output) == (8, 5, 3, 0)


# --------------------------------------------------------------------------- the folder


def test_same_sweep_same_folder_other_design_other_folder(mini_file: Path, tmp_path: Path) -> None:
    args: list[str | Path] = [mini_file, "--param", f"{CRED}=0.3,0.8", "-n", "2", "--out", tmp_path]
    first = cli(*args)
    assert first.exit_code == 0 and summary(first.output) == (4, 4, 0, 0)
    folder = only_folder(tmp_path)
    before = folder.runs()
    again = cli(*args)
    assert again.exit_code == 0 and summary(again.output) == (4, 0, 4, 0)
    assert_frame_equal(folder.runs(), before)
    # nothing left to run: no cluster is contacted (this address has no scheduler)
    gone = cli(*args, "--scheduler", "tcp://127.0.0.1:9")
    assert gone.exit_code == 0 and summary(gone.output) == (4, 0, 4, 0)

    other = cli(mini_file, "--param", f"{CRED}=0.3,0.9", "-n", "2", "--out", tmp_path)
    assert other.exit_code == 0 and summary(other.output) == (4, 4, 0, 0)
    assert len(list((tmp_path / "sweeps").iterdir())) == 2

    manifest = json.loads((folder.path / "sweep.json").read_text())
    manifest["fingerprint"] = "0" * 64
    (folder.path / "sweep.json").write_text(json.dumps(manifest))
    tampered = cli(*args)
    assert tampered.exit_code == 2
    assert "holds a different sweep" in tampered.output
    assert_frame_equal(folder.runs(), before)


def test_folder_is_tied_to_the_points_actually_run(
    base: LoadedScenario, monkeypatch: pytest.MonkeyPatch
) -> None:
    design = design_from_options([f"{CRED}=0.3,0.8"], 2, 7)
    before = plan(base, design).fingerprint
    assert plan(base, design, timeseries="none").fingerprint != before
    # same design spec, but the sampler now expands it differently (say a SciPy upgrade):
    # resuming the old folder would mix two sets of points, so it must be another folder
    real = Design.points

    def shifted(self: Design) -> list[dict[str, Any]]:
        return [{k: v + 0.05 for k, v in pt.items()} for pt in real(self)]

    monkeypatch.setattr(Design, "points", shifted)
    assert plan(base, design).fingerprint != before


def test_csv_export_matches_the_parquet_tables(mini_file: Path, tmp_path: Path) -> None:
    r = cli(mini_file, "--param", f"{CRED}=0.3,0.8", "-n", "3", "--csv", "--out", tmp_path)
    assert r.exit_code == 0, r.output
    folder = only_folder(tmp_path)
    runs = pd.read_csv(folder.path / "runs.csv", keep_default_na=False)
    assert_frame_equal(runs, folder.runs(), check_dtype=False)
    assert runs["seed"].tolist() == folder.runs()["seed"].tolist()  # 64-bit seeds, exact
    points = pd.read_csv(folder.path / "points.csv")
    assert_frame_equal(points, folder.points(), check_dtype=False)
    ts = pd.read_csv(folder.path / "timeseries.csv", parse_dates=["date"])
    expected = folder.timeseries().astype({"state": str, "variable": str})
    assert_frame_equal(ts, expected, check_dtype=False)
    assert len(ts) == 6 * 25 * 4
    assert ts["date"].iloc[0] == pd.Timestamp("2024-12-01")  # step 0: a month before the start


# --------------------------------------------------------------------------- time series


def test_affinity_series_follow_the_scenario_powers(
    mini_dict: dict[str, Any], tmp_path: Path
) -> None:
    mini_dict["powers"]["EUR"] = {"name": "European Union", "gdp": 1.9e13, "fdi_budget": 1e10}
    mini_dict["states"]["BOL"]["exports"]["EUR"] = 5.0e8
    base = scenario_from_dict(mini_dict, "three_powers.yaml")
    design = design_from_options([f"{CRED}=0.3,0.8"], 2, 7)
    out = execute(plan(base, design, timeseries="affinity"), tmp_path)
    assert out.failed == 0
    kept = ["tilt", "affinity.USA", "affinity.CHN", "affinity.EUR"]
    assert out.folder.manifest()["timeseries"] == kept
    ts = out.folder.timeseries()
    assert sorted(ts["variable"].unique()) == sorted(kept)
    assert ts.groupby("variable")["value"].count().to_dict() == dict.fromkeys(kept, 4 * 25 * 4)
    # one series per power, not copies of one another
    last = ts[(ts["step"] == 24) & (ts["run"] == 0) & (ts["state"] == "BOL")]
    assert last.set_index("variable")["value"].drop("tilt").nunique() == 3
    assert plan(base, design, timeseries="tilt").variables == ("tilt",)
    assert plan(base, design, timeseries="none").variables == ()


def test_choices_and_limits_of_the_command_are_the_library_s() -> None:
    assert TIMESERIES_CHOICES == TIMESERIES_KINDS
    assert MAX_REPLICATES == sim.design.MAX_REPLICATES
    r = CliRunner().invoke(main, ["sweep", "--help"])
    assert "affinity.<P>" in r.output and "everypowerofthescenario" in flat(r.output)
