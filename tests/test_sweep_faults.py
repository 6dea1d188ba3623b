"""Sweeps under faults: a second sweep on a folder in use, damaged chunk files, a run delivered
twice, `--retry-failed --fail-fast`, and staging folders that killed runs leave behind.

Processes and signals that must not outlive a sweep are in `test_sweep_signals.py`.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import textwrap
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest
from click.testing import CliRunner
from test_sweep import CRED, assert_same_tables, cli, fail_for, flat, only_folder, summary

import sim.sweep as sweep_mod
from sim.cli import main
from sim.design import run_seed
from sim.errors import ResultsError
from sim.publish import clean_stale_staging
from sim.sweep_folder import SweepFolder
from sim.sweep_lock import LOCK_FILE

GRID = ["--param", f"{CRED}=0.3,0.8", "-n", "4", "--seed", "11", "--chunk-size", "2"]
"""8 runs in 4 chunks of 2."""


def swept(mini_file: Path, root: Path, *extra: str) -> SweepFolder:
    r = cli(mini_file, *GRID, "--out", root, *extra)
    assert r.exit_code == 0, r.output
    return only_folder(root)


@pytest.fixture
def reference(mini_file: Path, tmp_path: Path) -> SweepFolder:
    """The sweep, run once without trouble."""
    return swept(mini_file, tmp_path / "reference")


def python(code: str, *args: str | Path) -> subprocess.Popen[str]:
    """A Python process running `code` that prints one line when it is ready."""
    return subprocess.Popen(
        [sys.executable, "-c", textwrap.dedent(code), *map(str, args)],
        stdout=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )


@contextmanager
def killed_at_exit(proc: subprocess.Popen[str]) -> Iterator[subprocess.Popen[str]]:
    try:
        yield proc
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait(timeout=30)
        if proc.stdout is not None:
            proc.stdout.close()


# --------------------------------------------------------------------------- the lock

HOLD_LOCK = """
    import os, socket, sys, time
    from pathlib import Path
    from sim.sweep_folder import SweepFolder
    holder = {"pid": os.getpid(), "host": socket.gethostname(), "started": "2031-01-02T03:04:05"}
    with SweepFolder(Path(sys.argv[1])).locked(holder):
        print("locked", flush=True)
        time.sleep(600)
"""


def test_a_locked_sweep_folder_is_refused_naming_its_holder_until_the_holder_dies(
    mini_file: Path, tmp_path: Path
) -> None:
    folder = swept(mini_file, tmp_path / "out")
    before = {p: p.read_bytes() for p in folder.path.rglob("*") if p.is_file()}
    with killed_at_exit(python(HOLD_LOCK, folder.path)) as holder:
        assert holder.stdout is not None and holder.stdout.readline() == "locked\n"
        r = cli(mini_file, *GRID, "--out", tmp_path / "out", "--retry-failed")
        assert r.exit_code == 2, r.output  # refused: bad timing is the user's to fix, not a bug
        text = flat(r.output)
        assert f"pid{holder.pid}on{socket.gethostname()},started2031-01-02T03:04:05" in text
        assert "anothersweepiswritingthisfolder" in text and "nothingwaschanged" in text
        after = {p: p.read_bytes() for p in folder.path.rglob("*") if p.is_file()}
        assert after.keys() - {folder.path / LOCK_FILE} == before.keys()
        assert all(after[p] == b for p, b in before.items())
        os.kill(holder.pid, signal.SIGKILL)  # the kernel releases the lock of a dead process
        holder.wait(timeout=30)
    r = cli(mini_file, *GRID, "--out", tmp_path / "out")
    assert r.exit_code == 0, r.output
    assert summary(r.output) == (8, 0, 8, 0)
    assert not (folder.path / LOCK_FILE).exists()  # the sweep removed it when it let go


def test_a_lock_file_planted_as_a_symbolic_link_is_not_followed(
    mini_file: Path, tmp_path: Path
) -> None:
    """Following it would lock, then truncate and overwrite, whatever file it points at."""
    folder = swept(mini_file, tmp_path / "out")
    victim = tmp_path / "victim.txt"
    victim.write_text("precious")
    (folder.path / LOCK_FILE).symlink_to(victim)
    r = cli(mini_file, *GRID, "--out", tmp_path / "out")
    assert r.exit_code == 1, r.output
    assert flat(f"cannot lock the sweep folder {folder.path}: Too many levels") in flat(r.output)
    assert victim.read_text() == "precious"


def test_a_run_is_written_once_even_if_a_backend_delivers_it_twice(
    mini_file: Path, tmp_path: Path, reference: SweepFolder, monkeypatch: pytest.MonkeyPatch
) -> None:
    from sim.sweep_backends import run_chunks as real

    def twice(chunks: Iterator[Any], work: Any, handle: Callable[[Any], None], **kw: Any) -> None:
        def both(result: Any) -> None:  # as a cluster that re-runs a task after losing a worker
            handle(result)
            handle(result)

        real(chunks, work, both, **kw)

    monkeypatch.setattr(sweep_mod, "run_chunks", twice)
    folder = swept(mini_file, tmp_path / "out")
    runs = [pq.read_table(f)["run"].to_pylist() for f in folder.chunks.glob("runs-*.parquet")]
    assert sorted(r for chunk in runs for r in chunk) == list(range(8))
    assert_same_tables(folder, reference)


# --------------------------------------------------------------------------- damaged chunks


def truncate(path: Path) -> None:
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])


def garble(path: Path) -> None:
    """Flip bytes in the middle: same size, the footer intact."""
    data = bytearray(path.read_bytes())
    middle = len(data) // 2
    data[middle : middle + 16] = bytes(b ^ 0xFF for b in data[middle : middle + 16])
    path.write_bytes(bytes(data))


DAMAGES: dict[str, Callable[[Path], None]] = {
    "truncated": truncate,
    "garbled": garble,
    "deleted": lambda p: p.unlink(),
}


@pytest.mark.parametrize("damage", DAMAGES)
@pytest.mark.parametrize("kind", ["runs", "ts"])
def test_a_damaged_chunk_is_redone_on_resume(
    mini_file: Path, tmp_path: Path, reference: SweepFolder, kind: str, damage: str
) -> None:
    folder = swept(mini_file, tmp_path / "out")
    DAMAGES[damage](folder.chunks / f"{kind}-00000002-00000003.parquet")
    r = cli(mini_file, *GRID, "--out", tmp_path / "out")
    assert r.exit_code == 0, r.output
    assert summary(r.output) == (8, 2, 6, 0)  # that chunk's two runs again, nothing else
    if (kind, damage) != ("runs", "deleted"):  # without a runs file its runs are simply not done
        assert "warning: chunk 00000002-00000003 was damaged (" in r.stderr
        assert "its runs were done again" in r.stderr
    assert folder.manifest()["status"] == "complete"
    assert_same_tables(folder, reference)


def test_chunks_without_checksums_are_checked_in_full_then_kept_or_redone(
    mini_file: Path, tmp_path: Path, reference: SweepFolder
) -> None:
    """As an older geosim left them: kept if whole (their checksums written now), else redone;
    a chunk repeating runs of another (two sweeps wrote the folder at once) is dropped."""
    folder = swept(mini_file, tmp_path / "out")
    for f in folder.chunks.glob("sum-*.json"):
        f.unlink()
    (folder.chunks / "ts-00000004-00000005.parquet").unlink()
    for kind in ("runs", "ts"):
        shutil.copy(
            folder.chunks / f"{kind}-00000006-00000007.parquet",
            folder.chunks / f"{kind}-00000006-00000007-1.parquet",
        )
    r = cli(mini_file, *GRID, "--out", tmp_path / "out")
    assert r.exit_code == 0, r.output
    assert summary(r.output) == (8, 2, 6, 0)
    assert len(list(folder.chunks.glob("sum-*.json"))) == 4
    assert_same_tables(folder, reference)


def test_a_corrupt_chunk_read_by_an_analysis_is_reported_not_a_crash(
    mini_file: Path, tmp_path: Path
) -> None:
    folder = swept(mini_file, tmp_path / "out")
    (folder.path / "runs.parquet").unlink()  # unfinished: readers go to the chunks
    truncate(folder.chunks / "runs-00000000-00000001.parquet")
    corrupt = r"runs-00000000-00000001\.parquet: the file is corrupt or not one geosim wrote"
    with pytest.raises(ResultsError, match=corrupt + r" \(.*\); running the sweep command again"):
        folder.runs()


# --------------------------------------------------------------------------- retry + fail-fast


def test_retry_failed_with_fail_fast_leaves_a_running_sweep_not_a_complete_one(
    mini_file: Path, tmp_path: Path, reference: SweepFolder, monkeypatch: pytest.MonkeyPatch
) -> None:
    runs_0_and_4 = {run_seed(11, {CRED: 0.3}, 0), run_seed(11, {CRED: 0.8}, 0)}
    fail_for(monkeypatch, runs_0_and_4)
    args: list[str | Path] = [mini_file, *GRID, "--chunk-size", "1", "--out", tmp_path / "out"]
    assert cli(*args).exit_code == 1
    folder = only_folder(tmp_path / "out")
    assert folder.manifest()["status"] == "complete" and folder.manifest()["failed"] == 2

    r = cli(*args, "--retry-failed", "--fail-fast")  # run 0 fails again: stop before run 4
    assert r.exit_code == 1 and "(--fail-fast)" in flat(r.output)
    manifest = folder.manifest()
    assert manifest["status"] == "running" and "failed" not in manifest
    assert not (folder.path / "runs.parquet").exists()  # no stale table claims all 8 runs
    assert sorted(folder.runs()["run"]) == [0, 1, 2, 3, 5, 6, 7]

    monkeypatch.undo()
    r = cli(*args, "--retry-failed")
    assert r.exit_code == 0, r.output
    assert summary(r.output) == (8, 2, 6, 0)
    assert_same_tables(folder, reference)


# --------------------------------------------------------------------------- staging folders

STAGE_AND_WAIT = """
    import sys, time
    from pathlib import Path
    from sim.publish import claimed, publish

    def fill(tmp):
        (tmp / "half-written.parquet").write_bytes(b"PAR1")
        print(tmp, flush=True)
        time.sleep(600)

    with claimed(Path(sys.argv[1]), None, sys.argv[2]) as slot:
        publish(slot, fill)
"""


def test_staging_folders_of_killed_runs_are_removed_and_live_ones_kept(
    mini_file: Path, tmp_path: Path
) -> None:
    parent = tmp_path / "out" / "mini"
    with (
        killed_at_exit(python(STAGE_AND_WAIT, parent, "killed-run")) as killed,
        killed_at_exit(python(STAGE_AND_WAIT, parent, "live-run")) as live,
    ):
        assert killed.stdout is not None and live.stdout is not None
        stale, staging = (
            Path(killed.stdout.readline().strip()),
            Path(live.stdout.readline().strip()),
        )
        assert stale.name.endswith(".partial") and stale.is_dir() and staging.is_dir()
        os.kill(killed.pid, signal.SIGKILL)
        killed.wait(timeout=30)

        r = CliRunner().invoke(
            main, ["run", str(mini_file), "-n", "1", "--no-plot", "--out", str(tmp_path / "out")]
        )
        assert r.exit_code == 0, r.output
        assert not stale.exists() and not (parent / ".killed-run.claim").exists()
        assert staging.is_dir()  # its run is alive and still writing it
        assert not list(parent.glob("killed-run*"))  # nothing of the dead run was published

        os.kill(live.pid, signal.SIGKILL)
        live.wait(timeout=30)
        assert clean_stale_staging(parent) == [staging]
    hidden = sorted(p.name for p in parent.iterdir() if p.name.startswith("."))
    assert hidden == []


def test_the_lock_file_holds_who_is_sweeping(mini_file: Path, tmp_path: Path) -> None:
    """While a sweep runs, its lock file names it (pid, host, start time)."""
    seen: list[dict[str, Any]] = []
    real = SweepFolder.write_chunk

    def peek(folder: SweepFolder, result: Any) -> None:
        seen.append(json.loads((folder.path / LOCK_FILE).read_text()))
        real(folder, result)

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(SweepFolder, "write_chunk", peek)
        swept(mini_file, tmp_path / "out")
    assert seen and seen[0]["pid"] == os.getpid() and seen[0]["host"] == socket.gethostname()
    assert seen[0]["started"][:2] == "20" and seen[0]["command"][0] == "geosim"
