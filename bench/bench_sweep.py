"""Sweep benchmarks: throughput against mesa.batch_run, worker speed-up, peak memory.

Usage: python bench/bench_sweep.py [--runs 200] [--memory 1000,10000]

Every measurement runs in a fresh subprocess so start-up costs and peak memory are counted the
way a user pays them. Prints a table.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import textwrap


def child(code: str) -> dict[str, float]:
    """Run Python code in a fresh process; it prints one JSON line of measurements."""
    out = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)], capture_output=True, text=True, check=True
    )
    result: dict[str, float] = json.loads(out.stdout.strip().splitlines()[-1])
    return result


PEAK = """
import resource
def peak_mb():
    self_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    kids_kb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return self_kb / 1024, kids_kb / 1024
"""


def geosim_sweep(
    values: int, replicates: int, workers: int, out: str, timeseries: str = "tilt"
) -> dict[str, float]:
    """Time `execute` (library) for a grid of `values` credibilities x replicates."""
    return child(
        PEAK
        + f"""
import json, time
from pathlib import Path
t0 = time.perf_counter()
from sim.design import design_from_options
from sim.scenario import load_scenario
from sim.sweep import execute, plan
loaded = load_scenario("latam_2025")
design = design_from_options(["rules.threats.credibility=0.2:1.0:{values}"], {replicates}, 1)
p = plan(loaded, design, "{timeseries}")
res = execute(p, Path("{out}"), workers={workers})
wall = time.perf_counter() - t0
main_mb, worker_mb = peak_mb()
print(json.dumps({{"runs": res.total, "seconds": wall, "main_mb": main_mb,
                  "worker_mb": worker_mb}}))
"""
    )


def batch_run(values: int, replicates: int, processes: int) -> dict[str, float]:
    """Time mesa.batch_run on the same model and the same runs."""
    return child(
        PEAK
        + f"""
import json, time
t0 = time.perf_counter()
import mesa, numpy as np
from sim.batch import BatchGeoModel
creds = [float(x) for x in np.linspace(0.2, 1.0, {values})]
res = mesa.batch_run(BatchGeoModel, {{"scenario_name": "latam_2025",
                                     "rules__threats__credibility": creds}},
                     rng=list(range({replicates})), max_steps=10_000,
                     number_processes={processes}, display_progress=False)
wall = time.perf_counter() - t0
main_mb, worker_mb = peak_mb()
print(json.dumps({{"runs": len(res), "seconds": wall, "main_mb": main_mb,
                  "worker_mb": worker_mb}}))
"""
    )


def median_trial(trials: list[dict[str, float]]) -> dict[str, float]:
    """The trial with the median wall time."""
    return sorted(trials, key=lambda t: t["seconds"])[len(trials) // 2]


def main() -> None:
    """Run the benchmarks and print the table."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=200, help="runs for the throughput rows")
    parser.add_argument("--memory", default="1000,10000", help="run counts for the memory rows")
    parser.add_argument("--repeat", type=int, default=3, help="repeats of the throughput rows")
    args = parser.parse_args()
    values = 10
    reps = max(1, args.runs // values)
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        # Medians of repeats, interleaved, so a noisy neighbour hits all three alike.
        trials: dict[str, list[dict[str, float]]] = {"b2": [], "s1": [], "s2": []}
        for k in range(args.repeat):
            trials["b2"].append(batch_run(values, reps, 2))
            trials["s1"].append(geosim_sweep(values, reps, 1, f"{tmp}/w1-{k}"))
            trials["s2"].append(geosim_sweep(values, reps, 2, f"{tmp}/w2-{k}"))
        b2, s1, s2 = (median_trial(trials[key]) for key in ("b2", "s1", "s2"))
        rows.append(
            (
                f"mesa.batch_run, 2 processes, {int(b2['runs'])} runs",
                b2["seconds"],
                b2["runs"] / b2["seconds"],
                b2["main_mb"],
            )
        )
        rows.append(
            (
                f"geosim sweep, 1 worker, {int(s1['runs'])} runs",
                s1["seconds"],
                s1["runs"] / s1["seconds"],
                s1["main_mb"],
            )
        )
        rows.append(
            (
                f"geosim sweep, 2 workers, {int(s2['runs'])} runs",
                s2["seconds"],
                s2["runs"] / s2["seconds"],
                s2["main_mb"],
            )
        )
        for n in (int(x) for x in args.memory.split(",") if x):
            m = geosim_sweep(values, max(1, n // values), 2, f"{tmp}/m{n}")
            rows.append(
                (
                    f"geosim sweep, 2 workers, {int(m['runs'])} runs (memory)",
                    m["seconds"],
                    m["runs"] / m["seconds"],
                    max(m["main_mb"], m["worker_mb"]),
                )
            )
    width = max(len(r[0]) for r in rows)
    print(f"{'benchmark':<{width}}  {'wall s':>8}  {'runs/s':>8}  {'peak MB':>8}")
    print("-" * (width + 32))
    for name, secs, rate, mb in rows:
        print(f"{name:<{width}}  {secs:8.2f}  {rate:8.1f}  {mb:8.0f}")
    print(
        f"\nsweep vs batch_run (2 processes): {rows[2][2] / rows[0][2]:.2f}x throughput; "
        f"speed-up 1 -> 2 workers: {rows[2][2] / rows[1][2]:.2f}x"
    )
    print("peak MB: the largest of the main process and any worker (ru_maxrss).")


if __name__ == "__main__":
    main()
