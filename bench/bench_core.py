"""Benchmarks for the core: one baseline run, `geosim run` end to end, cost per step vs size.

Usage: python bench/bench_core.py [--quick]

Prints a table. Timings are medians over repeats, wall clock, on whatever machine runs it.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable

from sim.model import GeoModel
from sim.runner import run_once
from sim.scenario import load_scenario
from sim.synthetic import world


def median_time(fn: Callable[[], object], repeats: int) -> float:
    """Median wall time of `fn` in seconds (after one warm-up call)."""
    fn()
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def per_step(n_states: int, repeats: int) -> tuple[float, float]:
    """(seconds per step, seconds to build the model) for a synthetic world of n states."""
    scenario = world(n_states, seed=1)

    def build() -> GeoModel:
        return GeoModel(scenario, rng=1)

    build_s = median_time(build, repeats)

    def steps() -> None:
        m = build()
        for _ in range(m.calendar.steps):
            m.step()

    total = median_time(steps, repeats)
    return (total - build_s) / scenario.time.calendar().steps, build_s


def cli_seconds(args: list[str], repeats: int) -> float:
    """Median wall time of `python -m sim ARGS` in a fresh process, results in a temp folder."""
    times = []
    for _ in range(repeats):
        with tempfile.TemporaryDirectory() as tmp:
            t0 = time.perf_counter()
            subprocess.run(
                [sys.executable, "-m", "sim", *args, "--out", tmp, "-q"],
                check=True,
                capture_output=True,
            )
            times.append(time.perf_counter() - t0)
    return statistics.median(times)


def main() -> None:
    """Run the benchmarks and print the table."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="fewer repeats")
    args = parser.parse_args()
    r = 3 if args.quick else 10
    rows: list[tuple[str, str, str]] = []

    baseline = load_scenario("latam_2025").scenario
    n, steps = len(baseline.states), baseline.time.calendar().steps
    one = median_time(lambda: run_once(baseline, 1), r * 3)
    rows.append(
        (
            f"baseline run ({n} states x {steps} steps), after import",
            f"{one * 1e3:.1f} ms",
            "target <= 30 ms",
        )
    )
    rows.append(
        (
            "geosim run (1 replicate, tables + plots), end to end",
            f"{cli_seconds(['run'], max(1, r // 3)):.2f} s",
            "fresh process",
        )
    )
    rows.append(
        (
            "geosim run -n 20 --no-plot, end to end",
            f"{cli_seconds(['run', '-n', '20', '--no-plot'], max(1, r // 3)):.2f} s",
            "fresh process",
        )
    )
    base = None
    for size in (20, 200, 2000):
        step_s, build_s = per_step(size, max(2, r // (1 if size < 2000 else 3)))
        base = base or step_s / size
        rows.append(
            (
                f"synthetic world, {size} states: time per step",
                f"{step_s * 1e3:.3f} ms",
                f"{step_s / size * 1e6:.1f} us/state; build {build_s * 1e3:.1f} ms",
            )
        )

    width = max(len(a) for a, _, _ in rows)
    print(f"{'benchmark':<{width}}  {'time':>10}  note")
    print("-" * (width + 40))
    for a, b, c in rows:
        print(f"{a:<{width}}  {b:>10}  {c}")


if __name__ == "__main__":
    main()
