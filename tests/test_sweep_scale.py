"""A sweep's memory does not grow with its number of runs: its runs are built on demand, the
runs on disk are kept as ranges, and the design's points are counted before they are built."""

from __future__ import annotations

import itertools
import resource
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from hypothesis import given
from hypothesis import strategies as st

import sim.sweep
from sim.cli import main
from sim.design import Design, ParameterSpec, run_seed
from sim.run_set import RunSet, stretches
from sim.sweep_tasks import Task, Tasks

SWEEP = ["sweep", "latam_2025", "--param"]


def out_options(root: Path) -> list[str]:
    return ["--out", str(root), "--timeseries", "none"]


ids = st.lists(st.integers(min_value=0, max_value=300), max_size=120)


@given(st.lists(ids, max_size=8))
def test_a_run_set_holds_exactly_the_ids_added(batches: list[list[int]]) -> None:
    runs, plain = RunSet(), set[int]()
    for batch in batches:
        runs.update(batch)
        plain.update(batch)
    assert list(runs) == sorted(plain)
    assert len(runs) == len(plain)
    assert all((k in runs) == (k in plain) for k in range(-2, 303))
    spans = runs.ranges()  # disjoint, ordered and never touching: merged as they should be
    assert all(a < b for a, b in spans)
    assert all(b1 < a2 for (_, b1), (a2, _) in itertools.pairwise(spans))


def test_a_billion_runs_finished_in_order_are_one_range() -> None:
    runs = RunSet()
    for start in range(0, 10**9, 10**7):  # chunks as they land, some out of order
        runs.add_range(start + 5 * 10**6, start + 10**7)
        runs.add_range(start, start + 5 * 10**6)
    assert runs.ranges() == [(0, 10**9)] and len(runs) == 10**9
    assert 10**9 - 1 in runs and 10**9 not in runs and -1 not in runs
    copy = runs.copy()
    copy.add_range(2 * 10**9, 2 * 10**9 + 1)
    assert len(runs) == 10**9 and len(copy) == 10**9 + 1


@given(ids, st.integers(min_value=0, max_value=320))
def test_gaps_are_exactly_the_ids_below_stop_not_in_the_set(added: list[int], stop: int) -> None:
    runs = RunSet(added)
    gaps = list(runs.gaps(stop))
    assert [k for a, b in gaps for k in range(a, b)] == [k for k in range(stop) if k not in runs]
    assert all(a < b for a, b in gaps)


def test_resuming_a_billion_done_runs_does_not_walk_them() -> None:
    done = RunSet()
    done.add_range(0, 10**9)
    tasks = Tasks([{"x": 0.1}], 10**9 + 2, root_seed=7)
    left = tasks.without(done)  # a walk over the done ids would take minutes
    assert [t.run for t in left] == [10**9, 10**9 + 1]


def test_stretches_of_ids() -> None:
    assert list(stretches([5, 1, 2, 3, 9, 2])) == [(1, 4), (5, 6), (9, 10)]
    assert list(stretches([])) == []


def test_tasks_are_built_on_demand_with_the_seeds_of_their_point_and_replicate() -> None:
    points = [{"x": 0.1}, {"x": 0.2}, {"x": 0.3}]
    tasks = Tasks(points, 10**15, root_seed=7)
    assert len(tasks) == 3 * 10**15
    last = tasks[-1]
    assert last == Task(3 * 10**15 - 1, 2, 10**15 - 1, run_seed(7, {"x": 0.3}, 10**15 - 1))
    assert tasks[10**15 + 4] == Task(10**15 + 4, 1, 4, run_seed(7, {"x": 0.2}, 4))
    small = Tasks(points, 2, root_seed=7)
    assert list(small) == list(small[:]) and [t.run for t in small] == list(range(6))
    assert [t.run for t in small.without(RunSet([0, 1, 4]))] == [2, 3, 5]
    with pytest.raises(IndexError):
        small[6]


@pytest.mark.parametrize(
    "design",
    [
        Design(parameters={"a": ParameterSpec(low=0, high=1, num=7), "b": {"values": [1, 2]}}),
        Design(method="lhs", parameters={"a": ParameterSpec(low=0, high=1)}, samples=9),
        Design(
            method="sobol",
            parameters={n: ParameterSpec(low=0, high=1) for n in "abc"},
            samples=8,
        ),
        Design(
            method="morris",
            parameters={n: ParameterSpec(low=0, high=1) for n in "ab"},
            samples=4,
        ),
        Design(parameters={"a": ParameterSpec(low=0, high=4, num=9, distribution="integer")}),
    ],
    ids=["grid", "lhs", "sobol", "morris", "integer-grid"],
)
def test_points_are_counted_as_they_would_be_built(design: Design) -> None:
    assert design.point_count() == len(design.points())


@pytest.mark.parametrize("replicates", [200_000, 10**15])
def test_any_number_of_replicates_is_planned_in_flat_memory(
    replicates: int, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # 200,000 replicates used to be refused by a cap of 100,000 with an unlocated error
    # (exit 3), and every run was built in memory before the first one started
    planned: list[int] = []

    def stop_at_once(p: Any, *args: Any, **kwargs: Any) -> None:
        planned.append(len(p.tasks))
        raise KeyboardInterrupt  # as Ctrl-C right after planning: the sweep itself is not tested

    monkeypatch.setattr(sim.sweep, "execute", stop_at_once)
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    r = CliRunner().invoke(
        main,
        [
            *SWEEP,
            "rules.threats.credibility=0.2,0.4",
            "-n",
            str(replicates),
            "--out",
            str(tmp_path),
        ],
    )
    grown_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before
    assert r.exit_code == 130, r.output
    assert planned == [2 * replicates]
    assert f"2 design points x {replicates} replicates = {2 * replicates} runs" in r.output
    assert grown_kb < 100_000  # a list of 200,000 tasks alone took more than 50 MB


def test_replicates_beyond_run_ids_are_refused_at_the_option() -> None:
    r = CliRunner().invoke(
        main, ["sweep", "latam_2025", "--param", "rules.threats.credibility=0.2", "-n", "1e30"]
    )
    assert r.exit_code == 2 and "-n" in r.output
    r = CliRunner().invoke(
        main,
        ["sweep", "latam_2025", "--param", "rules.threats.credibility=0.2", "-n", str(2**60)],
    )
    assert r.exit_code == 2 and "1<=x<=9007199254740992" in r.output


def test_a_grid_too_large_for_memory_is_refused_before_its_points_are_built(
    tmp_path: Path,
) -> None:
    axes = [f"rules.threats.{name}=0:1:10000" for name in ("credibility", "salience_levels.low")]
    args = ["sweep", "latam_2025", "--out", str(tmp_path)]
    args += [a for axis in axes for a in ("--param", axis)]
    args += ["--param", "time.seed=0:9999:10000"]  # 10^12 points
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    r = CliRunner().invoke(main, args)
    assert r.exit_code == 2, r.output
    assert "the 1000000000000 design points take" in " ".join(r.output.split())
    assert "--force" in r.output
    assert resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before < 100_000


@pytest.mark.slow
def test_a_sweep_of_a_trillion_runs_starts_stops_and_resumes_in_flat_memory(
    tmp_path: Path,
) -> None:
    """A real process: it starts at once, writes runs, stops on SIGINT (exit 130) and the same
    command resumes, skipping the runs on disk, all in about the memory of one run."""
    cmd = [sys.executable, "-m", "sim", "sweep", "latam_2025", "--out", str(tmp_path)]
    cmd += ["--param", "rules.threats.credibility=0.2,0.4", "-n", str(10**12)]
    cmd += ["--timeseries", "none", "--chunk-size", "4"]
    for attempt in range(2):
        proc = subprocess.Popen(cmd, stderr=subprocess.PIPE, text=True)
        chunks: list[Path] = []
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and proc.poll() is None:
            chunks = list(tmp_path.glob("sweeps/*/chunks/runs-*.parquet"))
            if len(chunks) >= 2 * (attempt + 1):
                break
            time.sleep(0.2)
        rss_kb = int(Path(f"/proc/{proc.pid}/statm").read_text().split()[1]) * 4
        proc.send_signal(signal.SIGINT)
        _, stderr = proc.communicate(timeout=60)
        assert proc.returncode == 130, stderr
        assert len(chunks) >= 2 * (attempt + 1), stderr
        assert rss_kb < 600_000, f"{rss_kb} kB resident while sweeping {2 * 10**12} runs"
    done = len(list(tmp_path.glob("sweeps/*/chunks/runs-*.parquet")))
    assert done >= 4  # the second start kept the first one's chunks and added its own


def test_a_chunk_size_beyond_the_runs_is_the_runs(tmp_path: Path) -> None:
    # --chunk-size 10^10 for 2 runs reserved room for 10^10 tasks: MemoryError, exit 3
    r = CliRunner().invoke(
        main,
        [
            *SWEEP,
            "rules.threats.credibility=0.2,0.4",
            "--chunk-size",
            str(10**10),
            *out_options(tmp_path),
        ],
    )
    assert r.exit_code == 0, r.output
    assert len(list(tmp_path.glob("sweeps/*/chunks/runs-*.parquet"))) == 1


def test_a_million_point_design_with_a_wrong_path_is_refused_before_it_is_built(
    tmp_path: Path,
) -> None:
    # every point used to be built (55 s and 5.7 GB for a million points of 84 parameters)
    # before the paths were checked
    params = "".join(f"  rules.threats.credibility{k}: {{low: 0.1, high: 0.9}}\n" for k in range(8))
    design = tmp_path / "design.yaml"
    design.write_text(f"method: lhs\nsamples: 1000000\nparameters:\n{params}")
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    r = CliRunner().invoke(
        main, ["sweep", "latam_2025", "--design", str(design), "--out", str(tmp_path)]
    )
    assert r.exit_code == 2, r.output
    assert "design parameter rules.threats.credibility0, the low end of its range" in r.output
    assert "did you mean 'credibility'?" in r.output
    assert resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before < 100_000
