"""Sweeps and processes: no process outlives a sweep killed with SIGKILL, SIGTERM or SIGHUP (checked
by PID), SIGTERM and SIGHUP stop a sweep as Ctrl-C does, and sweeps started at once into one
folder write every run once (real processes, many trials: marked slow)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from test_sweep import CRED, only_folder, summary

from sim.sweep_lock import LOCK_FILE

# --------------------------------------------------------------------------- /proc


def _stat(pid: int) -> tuple[str, int, str] | None:
    """(state, parent pid, start time) of a process, None if it is gone."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = text.rsplit(")", 1)[1].split()  # after the command name, which may hold spaces
    return fields[0], int(fields[1]), fields[19]


def descendants(pid: int) -> dict[int, str]:
    """Every live descendant of `pid`: pid -> start time (a reused pid is another process)."""
    children: dict[int, list[tuple[int, str]]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit() and (st := _stat(int(entry.name))) is not None and st[0] != "Z":
            children.setdefault(st[1], []).append((int(entry.name), st[2]))
    found: dict[int, str] = {}
    todo = [pid]
    while todo:
        for child, start in children.get(todo.pop(), []):
            found[child] = start
            todo.append(child)
    return found


def alive(processes: dict[int, str]) -> list[int]:
    """The processes still running (a zombie has exited: only its exit status is left)."""
    out = []
    for pid, start in processes.items():
        st = _stat(pid)
        if st is not None and st[0] != "Z" and st[2] == start:
            out.append(pid)
    return out


pytestmark = pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="needs /proc")

# --------------------------------------------------------------------------- signals


BLOCK = """
import os, signal, sys, time
from sim.sweep_backends import termination_as_interrupt
sig = getattr(signal, sys.argv[1])
if sys.argv[2] == "ignored":
    signal.signal(sig, signal.SIG_IGN)
try:
    with termination_as_interrupt():
        os.kill(os.getpid(), sig)
        time.sleep(0.5)
    print("ran on", flush=True)
except KeyboardInterrupt as exc:
    print("interrupted by", exc, flush=True)
print("after:", signal.getsignal(sig).name)
"""


def in_block(sig: str, disposition: str) -> subprocess.CompletedProcess[str]:
    """A process that sends itself `sig` inside the block (in a child: without the handler, the
    default action would end the test session)."""
    cmd = [sys.executable, "-c", BLOCK, sig, disposition]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=60, check=False)


@pytest.mark.parametrize("sig", ["SIGTERM", "SIGHUP"])
def test_termination_signals_interrupt_the_block_like_ctrl_c(sig: str) -> None:
    r = in_block(sig, "default")
    assert r.returncode == 0, (r.returncode, r.stderr)
    assert r.stdout.splitlines() == [f"interrupted by {sig}", "after: SIG_DFL"]


def test_an_ignored_hangup_stays_ignored() -> None:
    """`nohup geosim sweep ...` must survive its terminal closing."""
    r = in_block("SIGHUP", "ignored")
    assert r.returncode == 0, (r.returncode, r.stderr)
    assert r.stdout.splitlines() == ["ran on", "after: SIG_IGN"]


SWEEP = ["latam_2025", "--param", f"{CRED}=0.2:0.9:15", "-n", "4", "--chunk-size", "2"]
"""60 runs in 30 chunks: long enough to be caught in the middle."""
WORKERS = 3
KILLS = [signal.SIGKILL, signal.SIGTERM, signal.SIGHUP]


def start_sweep(out: Path, cwd: Path, log: Path) -> subprocess.Popen[bytes]:
    cmd = [sys.executable, "-m", "sim", "sweep", *SWEEP, "--workers", str(WORKERS), "--out", out]
    with log.open("wb") as fh:  # a file, not a pipe: a leftover process would hold a pipe open
        return subprocess.Popen(
            [str(c) for c in cmd], cwd=cwd, stdout=fh, stderr=fh, start_new_session=True
        )


def caught_mid_sweep(proc: subprocess.Popen[bytes], out: Path) -> dict[int, str]:
    """Wait until the pool is up (fork server, resource tracker, workers) and some chunks are
    done; return the descendants then."""
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline and proc.poll() is None:
        family = descendants(proc.pid)
        chunks = len(list(out.glob("sweeps/*/chunks/runs-*.parquet")))
        if len(family) >= WORKERS + 2 and 2 <= chunks <= 20:
            return family
        time.sleep(0.01)
    raise AssertionError("the sweep finished (or never started) before it could be caught")


@pytest.mark.slow
@pytest.mark.parametrize(
    "sig", [signal.SIGKILL, signal.SIGTERM, signal.SIGHUP], ids=lambda s: s.name
)
def test_no_process_outlives_a_killed_sweep(tmp_path: Path, sig: signal.Signals) -> None:
    out, log = tmp_path / "out", tmp_path / "sweep.log"
    proc = start_sweep(out, tmp_path, log)
    family: dict[int, str] = {}
    try:
        family = caught_mid_sweep(proc, out)
        os.kill(proc.pid, sig)  # the main process alone, as a scheduler or an OOM killer does
        proc.wait(timeout=30)
        deadline = time.monotonic() + 10
        while alive(family) and time.monotonic() < deadline:
            time.sleep(0.05)
        left = {pid: Path(f"/proc/{pid}/cmdline").read_bytes()[:120] for pid in alive(family)}
        assert not left, f"still running 10 s after {sig.name}: {left}"
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)
        for pid in alive(family):  # never leave processes behind a failed test
            os.kill(pid, signal.SIGKILL)
    text = log.read_text()
    assert "Traceback" not in text
    if sig != signal.SIGKILL:  # stopped as Ctrl-C stops it, with the lock released
        assert proc.returncode == 130 and "interrupted: finished runs are saved" in text, text
        assert not list(out.glob(f"sweeps/*/{LOCK_FILE}"))
    folder = only_folder(out)
    assert folder.manifest()["status"] == "running"

    again = start_sweep(out, tmp_path, tmp_path / "again.log")  # resumes: no lock is left held
    assert again.wait(timeout=300) == 0, (tmp_path / "again.log").read_text()
    total, ran, skipped, failed = summary((tmp_path / "again.log").read_text())
    assert total == 60 and skipped >= 4 and ran + skipped == 60 and failed == 0
    runs = pq.read_table(folder.path / "runs.parquet")["run"].to_pylist()
    assert runs == list(range(60))


# --------------------------------------------------------------------------- concurrency

TRIALS = 20
RACERS = 3


@pytest.mark.slow
def test_sweeps_started_together_into_one_folder_write_every_run_once(
    mini_file: Path, tmp_path: Path
) -> None:
    """Each trial starts three identical sweeps at once: one writes, the others are refused
    (exit 2, naming a holder) or, if they come after it finished, find nothing left to do."""
    args = ["sweep", mini_file, "--param", f"{CRED}=0.1:0.9:10", "-n", "2", "--chunk-size", "2"]
    outcomes: set[tuple[int, ...]] = set()
    for trial in range(TRIALS):
        out = tmp_path / f"trial-{trial}"
        cmd = [sys.executable, "-m", "sim", *map(str, args), "--out", str(out)]
        racers = [
            subprocess.Popen(
                cmd, cwd=tmp_path, text=True, stdout=subprocess.PIPE, stderr=subprocess.PIPE
            )
            for _ in range(RACERS)
        ]
        results = [(p.pid, *p.communicate(timeout=300)) for p in racers]
        codes = tuple(sorted(p.returncode for p in racers))
        outcomes.add(codes)
        assert set(codes) <= {0, 2} and 0 in codes, results
        pids = {p.pid for p in racers}
        for p, (_, stdout, stderr) in zip(racers, results, strict=True):
            message = " ".join(stderr.split())  # however the console wrapped it
            if p.returncode == 2:  # refused, naming one of the others
                assert "another sweep is writing this folder" in message
                assert any(f"(pid {pid} on " in message for pid in pids - {p.pid}), message
            else:
                assert summary(stdout)[0] == 20
        folder = only_folder(out)
        assert folder.manifest()["status"] == "complete"
        assert pq.read_table(folder.path / "runs.parquet")["run"].to_pylist() == list(range(20))
        in_chunks = sorted(
            r
            for f in folder.chunks.glob("runs-*.parquet")
            for r in pq.read_table(f)["run"].to_pylist()
        )
        assert in_chunks == list(range(20))
        assert not (folder.path / LOCK_FILE).exists()
    assert any(2 in codes for codes in outcomes), "the sweeps never overlapped"
