"""Side-by-side timings of the core for several git revisions, in one run.

Usage: python bench/bench_compare.py REV [REV ...] [--rounds N]

Each revision is checked out into a temporary git worktree, and the same measurements run
against each in turn. Rounds alternate between the revisions, so that load on the machine
falls on all of them alike. The table shows, per revision, the fastest round (each round a
median of repeats) of a baseline run (latam_2025, one replicate), of the time per step for
synthetic worlds of 20, 200 and 2,000 states, of 10 replicates written as a run folder's tables,
and of a 40-run sweep from the command line (serial), in milliseconds. `WORKTREE` as a revision
means the current working tree.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

PROBE = """
import json, sys, time
from sim.runner import run_once
from sim.scenario import load_scenario
from sim.synthetic import world

def best(fn, repeats):
    fn()
    out = []
    for _ in range(repeats):
        t0 = time.perf_counter(); fn(); out.append(time.perf_counter() - t0)
    out.sort()
    return out[len(out) // 2]

base = load_scenario("latam_2025").scenario
result = {"baseline_ms": 1e3 * best(lambda: run_once(base, 1, collect=False), 7)}
for n in (20, 200, 2000):
    spec = world(n, seed=1)
    steps = spec.time.calendar().steps
    result[f"step_{n}_ms"] = 1e3 * best(lambda: run_once(spec, 1, collect=False), 3) / steps

# The results path: 10 replicates to tables on disk, and a 40-run sweep (outcomes, chunks,
# consolidation) through the command line, in a fresh folder each time.
import tempfile
from pathlib import Path
from click.testing import CliRunner
from sim.cli import main
from sim.results import write_tables
from sim.runner import run

def tables():
    with tempfile.TemporaryDirectory() as tmp:
        write_tables(run(base, replicates=10), Path(tmp))

def sweep():
    with tempfile.TemporaryDirectory() as tmp:
        args = ["sweep", "latam_2025", "--param", "rules.threats.credibility=0.2,0.4,0.6,0.8,1.0",
                "-n", "8", "--out", tmp, "-q"]
        assert CliRunner().invoke(main, args).exit_code == 0

result["run10_tables_ms"] = 1e3 * best(tables, 3)
result["sweep40_ms"] = 1e3 * best(sweep, 3)
print(json.dumps(result))
"""


def checkout(rev: str, into: Path) -> Path:
    """A tree holding `rev` (the working tree itself for WORKTREE)."""
    if rev == "WORKTREE":
        return ROOT
    path = into / rev.replace("/", "_")
    subprocess.run(
        ["git", "-C", str(ROOT), "worktree", "add", "--detach", "-q", str(path), rev],
        check=True,
    )
    return path


def measure(tree: Path) -> dict[str, float]:
    """One round of the probe against the `sim` package in `tree` (a fresh process)."""
    proc = subprocess.run(
        [sys.executable, "-c", PROBE],
        env={"PYTHONPATH": str(tree), "PATH": "/usr/bin:/bin"},
        cwd=tree,
        capture_output=True,
        text=True,
        check=True,
    )
    values: dict[str, float] = json.loads(proc.stdout.strip().splitlines()[-1])
    return values


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("revs", nargs="+")
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="geosim-bench-") as tmp:
        trees = {rev: checkout(rev, Path(tmp)) for rev in args.revs}
        try:
            rounds: dict[str, list[dict[str, float]]] = {rev: [] for rev in trees}
            for _ in range(args.rounds):
                for rev, tree in trees.items():
                    rounds[rev].append(measure(tree))
            report(rounds)
        finally:
            for tree in trees.values():
                if tree != ROOT:
                    subprocess.run(
                        ["git", "-C", str(ROOT), "worktree", "remove", "--force", str(tree)],
                        check=False,
                    )


def report(rounds: dict[str, list[dict[str, float]]]) -> None:
    """Print, per revision, the fastest round (the least disturbed by other load), in ms."""
    keys = list(next(iter(rounds.values()))[0])
    print(f"{'revision':<14}" + "".join(f"{k:>16}" for k in keys))
    for rev, runs in rounds.items():
        cells = [min(r[k] for r in runs) for k in keys]
        print(f"{rev:<14}" + "".join(f"{c:>16.3f}" for c in cells))


if __name__ == "__main__":
    main()
