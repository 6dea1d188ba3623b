"""`--propagate N` and `--per-point K`, shared by `run`, `check` and `backtest`, and the table
that reports what a propagation found."""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

import click
from rich.markup import escape
from rich.table import Table

from sim.cli.common import err, out, progress_bar

if TYPE_CHECKING:
    from sim.uncertainty import Probability, Propagation
    from sim.validation import LoadedScenario

propagate_opt = click.option(
    "--propagate",
    type=click.IntRange(min=2),
    default=None,
    metavar="N",
    help="Draw N Latin-hypercube points over every parameter range (rules and the scenario's "
    "estimates with low/high) and report probabilities over all of them.",
)
per_point_opt = click.option(
    "--per-point",
    type=click.IntRange(min=1),
    default=1,
    show_default=True,
    metavar="K",
    help="Replicates at each --propagate point.",
)
workers_opt = click.option(
    "--workers",
    "-w",
    type=click.IntRange(min=1),
    default=None,
    help="Local worker processes (default: one per CPU).",
)


def default_workers(workers: int | None) -> int:
    """`--workers` as given, else one per CPU (the default `workers_opt` promises)."""
    return workers or os.cpu_count() or 1


def run_propagation(
    loaded: LoadedScenario,
    samples: int,
    per_point: int,
    seed: int | None,
    root: Path,
    workers: int,
    timeseries: str = "none",
) -> Propagation:
    """Run a propagation with a progress bar (failures counted) and return its summary."""
    from sim.cli.common import command_line
    from sim.uncertainty import propagate

    update, stop = progress_bar(samples * per_point, "propagated runs", failures=True)
    root_seed = loaded.scenario.time.seed if seed is None else seed
    try:
        return propagate(
            loaded,
            samples,
            per_point,
            root_seed,
            root,
            workers=workers,
            progress=lambda s: update(s.done, s.failed),
            timeseries=timeseries,
            command=command_line(),
        )
    finally:
        stop()


def print_propagation(prop: Propagation, required: dict[str, float]) -> int:
    """Print each expectation's probability with its interval and driver, and the joint one;
    return how many expectations reach their required share."""
    t = Table(title=f"expected outcomes over parameter uncertainty ({_design(prop)})")
    for col in ("expectation", "probability (95% Wilson)", "required", "result", "moved most by"):
        t.add_column(col)
    met = 0
    for p in prop.expectations:
        share = required[p.name]  # every expectation has its share (the scenario's `expect`)
        ok = p.p >= share
        met += ok
        t.add_row(
            escape(p.name),
            _share(p),
            f"{share:.0%}",
            "[green]pass[/green]" if ok else "[red]FAIL[/red]",
            escape(p.driver.text()),
        )
    out.print(t)
    out.print(f"joint probability of all expectations: {_share(prop.joint)}")
    if prop.skipped:
        err.print(
            escape(f"not drawn (the scenario sets them itself): {', '.join(prop.skipped)}"),
            soft_wrap=True,
        )
    if prop.failed:
        err.print(f"[red]{prop.failed} run(s) failed[/red] and are left out of every share")
    return met


def _share(p: Probability) -> str:
    """`62% (55%-69%)`, or why there is none (every run failed)."""
    if not p.runs:
        return "n/a (no successful run)"
    low, high = p.interval
    return f"{p.p:.0%} ({low:.0%}-{high:.0%})"


def _design(prop: Propagation) -> str:
    from sim.uncertainty import INPUTS

    inputs = sum(d.group == INPUTS for d in prop.dims)
    return (
        f"{prop.samples} points x {prop.per_point} replicate(s), {len(prop.dims)} ranged "
        f"inputs ({inputs} from the scenario)"
    )
