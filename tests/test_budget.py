"""Unbounded work (issue 13, item 10): memory is estimated before a run or sweep starts, and
work above 80% of the machine's memory is refused (exit 2, with the estimate) unless --force.

A run keeps every replicate in memory, so its estimate grows with -n; a sweep streams its runs
to disk, so its estimate depends on one run, one chunk and the workers, never on the number of
runs.
"""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from sim import budget
from sim.budget import (
    LIMIT_SHARE,
    MemoryBudgetError,
    check_budget,
    machine_memory,
    run_estimate,
    shape_of,
    sweep_estimate,
)
from sim.cli import main
from sim.runner import run_once
from sim.scenario import load_scenario

MINIMAL = Path(__file__).parent / "bad" / "_valid_minimal.yaml"
GB = 1e9


@pytest.fixture
def small_machine(monkeypatch: pytest.MonkeyPatch) -> float:
    """A machine with 1 GB of memory (the limit is then 800 MB)."""
    monkeypatch.setattr(budget, "machine_memory", lambda: (int(GB), "this machine's 1 GB"))
    return GB


def test_the_shape_is_what_the_recorder_allocates() -> None:
    scenario = load_scenario(MINIMAL).scenario
    rep = run_once(scenario, seed=1)
    shape = shape_of(scenario)
    assert rep.data.shape == (shape.steps, shape.states, shape.variables)
    assert shape.cells == rep.data.size


def test_a_run_grows_with_its_replicates_a_sweep_does_not_with_its_runs() -> None:
    scenario = load_scenario("latam_2025").scenario
    one, many = run_estimate(scenario, 1).bytes, run_estimate(scenario, 10_000).bytes
    assert many > 5_000 * (one - budget.PROCESS_BYTES)
    assert run_estimate(scenario, 10_000, reread=True).bytes > 2 * many  # figures, CSV
    sweeps = {sweep_estimate(scenario, 1, runs, 4).bytes for runs in (10**4, 10**6, 10**12)}
    assert len(sweeps) == 1, "a sweep's estimate must not depend on how many runs it has"
    assert sweeps.pop() < 2 * GB
    # more workers, larger chunks or more kept variables do cost memory
    base = sweep_estimate(scenario, 1, 10**6, 4).bytes
    assert sweep_estimate(scenario, 1, 10**6, 8).bytes > base
    assert sweep_estimate(scenario, 1, 10**6, 4, chunk_size=10_000).bytes > base
    assert sweep_estimate(scenario, 4, 10**6, 4).bytes > base


def test_a_small_sweep_is_not_charged_for_workers_or_chunks_it_cannot_use() -> None:
    scenario = load_scenario("latam_2025").scenario
    assert sweep_estimate(scenario, 1, 3, 1000).bytes == sweep_estimate(scenario, 1, 3, 3).bytes
    # one chunk of all three runs: one worker process, however many are asked for
    one_chunk = sweep_estimate(scenario, 1, 3, 1000, chunk_size=10**9).bytes
    assert one_chunk == sweep_estimate(scenario, 1, 3, 2, chunk_size=3).bytes
    # ... but a local Dask cluster starts every worker it is asked for
    assert sweep_estimate(scenario, 1, 3, 1000, backend="dask-local").bytes > 100 * GB
    remote = sweep_estimate(scenario, 1, 3, 1000, backend="remote").bytes
    assert remote < 2 * GB, "workers elsewhere do not use this machine's memory"


def test_estimates_of_absurd_counts_stay_finite() -> None:
    scenario = load_scenario(MINIMAL).scenario
    est = run_estimate(scenario, 10**400)
    assert est.bytes < float("inf") and "more than 10^12 replicate(s)" in est.how
    assert sweep_estimate(scenario, 1, 10**400, 10**400, chunk_size=10**400).bytes < float("inf")


def test_machine_memory_is_physical_or_a_smaller_container_limit() -> None:
    total, what = machine_memory()
    assert 100e6 < total < 1e15
    assert "machine" in what or "cgroup" in what


def test_check_budget_refuses_above_the_limit_unless_forced(small_machine: float) -> None:
    est = budget.Estimate(LIMIT_SHARE * small_machine + 1, "how it adds up")
    with pytest.raises(MemoryBudgetError) as info:
        check_budget(est, force=False, advice="Do less")
    text = str(info.value)
    assert text.startswith("this needs about 800 MB of memory: how it adds up; the limit is 800")
    assert "80% of this machine's 1 GB. Do less, or give --force to start anyway" in text
    assert info.value.exit_code == 2
    check_budget(est, force=True, advice="Do less")
    check_budget(budget.Estimate(LIMIT_SHARE * small_machine, "fits"), force=False, advice="")


# --------------------------------------------------------------------------- the commands


def _no_results(out: Path) -> None:
    assert not out.exists() or not any(out.rglob("*.parquet"))


def test_run_with_a_hundred_million_replicates_is_refused_at_once(tmp_path: Path) -> None:
    """Before: `geosim run -n 100000000` started and ran until killed."""
    out = tmp_path / "results"
    start = time.monotonic()
    done = subprocess.run(
        [sys.executable, "-m", "sim", "run", "latam_2025", "-n", "100000000", "--out", str(out)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 2, done.stderr
    assert time.monotonic() - start < 60
    err = done.stderr
    need = budget.human(run_estimate(load_scenario("latam_2025").scenario, 10**8, True).bytes)
    assert need.endswith(" TB")  # the tables and figures of 10^8 replicates
    assert err.startswith(f"error: this needs about {need} of memory: 100000000 replicate(s)")
    assert "(49 steps x 28 states x 17 variables" in err
    assert "of this machine's" in err or "cgroup" in err
    assert "--force" in err and "Traceback" not in err
    _no_results(out)


@pytest.mark.parametrize("command", ["run", "check"])
def test_run_and_check_are_refused_when_replicates_do_not_fit(
    small_machine: float, tmp_path: Path, command: str
) -> None:
    scenario = load_scenario("latam_2025").scenario
    n = 3000  # about 8 GB on a 1 GB machine
    assert run_estimate(scenario, n).bytes > small_machine
    out = ["--out", str(tmp_path), "--no-plot"] if command == "run" else []
    result = CliRunner().invoke(main, [command, "latam_2025", "-n", str(n), *out])
    assert result.exit_code == 2, result.output
    need = budget.human(run_estimate(scenario, n).bytes)
    assert f"error: this needs about {need} of memory: {n} replicate(s)" in result.stderr
    assert "the limit is 800 MB, 80% of this machine's 1 GB" in result.stderr
    _no_results(tmp_path)


def test_force_starts_the_run_anyway(small_machine: float, tmp_path: Path) -> None:
    args = ["run", str(MINIMAL), "-n", "2", "--no-plot", "-q", "--out", str(tmp_path)]
    small_machine_limit = LIMIT_SHARE * small_machine
    scenario = load_scenario(MINIMAL).scenario
    assert run_estimate(scenario, 2).bytes < small_machine_limit  # fits: no --force needed
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 0, result.output
    budget_free = lambda: (int(budget.PROCESS_BYTES), "a tiny machine")  # noqa: E731
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(budget, "machine_memory", budget_free)
        refused = CliRunner().invoke(main, args)
        forced = CliRunner().invoke(main, [*args, "--force"])
    assert refused.exit_code == 2 and "--force" in refused.stderr
    assert forced.exit_code == 0, forced.output
    assert Path(forced.stdout.strip()).is_dir()


def _stub_execute(monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    import sim.sweep

    plans: list[Any] = []

    def execute(p: Any, *args: Any, **kwargs: Any) -> Any:
        plans.append(p)
        raise KeyboardInterrupt  # the sweep command's clean way out (exit 130)

    monkeypatch.setattr(sim.sweep, "execute", execute)
    return plans


def test_a_sweep_is_not_bounded_by_its_number_of_runs(
    small_machine: float, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """60000 runs held in memory would need over 2 GB; streamed to disk a chunk at a time
    they fit in the small machine."""
    plans = _stub_execute(monkeypatch)
    param = "rules.threats.credibility=0.5,0.6"
    args = ["sweep", str(MINIMAL), "-n", "30000", "--param", param]
    result = CliRunner().invoke(main, [*args, "-q", "--out", str(tmp_path)])
    assert result.exit_code == 130, result.output  # started (then stopped by the stand-in)
    [p] = plans
    assert len(p.tasks) == 60_000
    assert run_estimate(p.base.scenario, len(p.tasks)).bytes > 2 * small_machine


def test_a_sweep_whose_workers_do_not_fit_is_refused_unless_forced(
    small_machine: float, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    plans = _stub_execute(monkeypatch)
    args = ["sweep", "latam_2025", "-n", "8", "--param", "rules.threats.credibility=0.5"]
    args += ["-w", "8", "--out", str(tmp_path)]
    refused = CliRunner().invoke(main, args)
    assert refused.exit_code == 2, refused.output
    assert "error: this needs about" in refused.stderr
    assert "8 local worker process(es)" in refused.stderr
    assert "Give fewer workers (--workers, --dask-local) or a smaller --chunk-size" in (
        refused.stderr
    )
    assert not plans
    forced = CliRunner().invoke(main, [*args, "--force"])
    assert forced.exit_code == 130 and len(plans) == 1


@pytest.mark.parametrize("command", ["run", "check"])
def test_propagation_is_budgeted_as_a_sweep(
    small_machine: float, monkeypatch: pytest.MonkeyPatch, tmp_path: Path, command: str
) -> None:
    """--propagate writes a sweep: it is refused for its workers, not for its runs."""
    plans = _stub_execute(monkeypatch)
    out = ["--out", str(tmp_path)] if command == "run" else []
    base = [command, "latam_2025", "--propagate", "10000", *out]
    many = CliRunner().invoke(main, [*base, "-w", "8"])
    assert many.exit_code == 2, many.output
    assert "8 local worker process(es)" in many.stderr and "--workers" in many.stderr
    assert not plans
