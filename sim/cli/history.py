"""`geosim backtest`: the history episodes scored against the status quo and base-rate nulls."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

import click
from rich.markup import escape
from rich.table import Table

from sim.cli.common import command_line, handle_errors, out, progress_bar
from sim.cli.propagation import per_point_opt, propagate_opt, workers_opt

if TYPE_CHECKING:
    import pandas as pd

    from sim.backtest import Episode


@click.command()
@click.argument("episodes", nargs=-1, type=click.Path(path_type=Path))
@click.option(
    "--replicates",
    "-n",
    type=click.IntRange(min=1),
    default=200,
    show_default=True,
    help="Replicates per episode (without --propagate).",
)
@click.option("--seed", type=click.IntRange(min=0), default=0, show_default=True, help="Root seed.")
@propagate_opt
@per_point_opt
@workers_opt
@click.option(
    "--out",
    "out_dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("results/backtest"),
    show_default=True,
    help="Folder for backtest.csv, backtest.md and backtest.json.",
)
@click.pass_context
def backtest(
    ctx: click.Context,
    episodes: tuple[Path, ...],
    replicates: int,
    seed: int,
    propagate: int | None,
    per_point: int,
    workers: int | None,
    out_dir: Path,
) -> None:
    """Run the history EPISODES (files or folders; default: the shipped scenarios/history) and
    score the probability the model gives each one's primary outcome (Brier score, log loss)
    against two nulls: the status quo and the leave-one-out base rate of the outcome's class.

    With --propagate N every episode runs N Latin-hypercube points of all parameter ranges,
    --per-point K replicates each, instead of -n replicates at the defaults.
    """
    with handle_errors(ctx):
        from sim import backtest_report
        from sim.backtest import compare, episode_files, load_episode

        eps = [load_episode(p) for p in episode_files(episodes)]  # all checked before any run
        w = workers or os.cpu_count() or 1
        if propagate is None:
            table = _plain(eps, seed, replicates, w)
            setting = f"seed {seed}, {replicates} replicates per episode"
        else:
            table = _propagated(eps, seed, propagate, per_point, w)
            setting = (
                f"seed {seed}, --propagate {propagate} Latin-hypercube points x "
                f"{per_point} replicate(s) per episode"
            )
        comparisons = compare(table, seed)
        _print(table)
        for line in backtest_report.summary_lines(table, comparisons):
            out.print(line)
        record = {
            "command": command_line(),
            "seed": seed,
            "replicates": replicates if propagate is None else None,
            "propagate": propagate,
            "per_point": per_point if propagate is not None else None,
            "episodes": [str(e.path) for e in eps],
        }
        files = backtest_report.write(out_dir, table, comparisons, setting, record)
        out.print(f"written: {escape(', '.join(str(f) for f in files))}", soft_wrap=True)


def _plain(eps: list[Episode], seed: int, replicates: int, workers: int) -> pd.DataFrame:
    from sim.backtest import run_episodes, score_table

    update, stop = progress_bar(len(eps) * replicates, "episode runs")
    try:
        hits = run_episodes(eps, seed, replicates, workers=workers, progress=update)
    finally:
        stop()
    successes = [sum(hits[str(e.path)]) for e in eps]
    return score_table(eps, successes, [replicates] * len(eps))


def _propagated(
    eps: list[Episode], seed: int, samples: int, per_point: int, workers: int
) -> pd.DataFrame:
    from sim.backtest import score_table
    from sim.uncertainty import propagate
    from sim.validation import load_scenario

    per_episode = samples * per_point
    update, stop = progress_bar(len(eps) * per_episode, "episode runs", failures=True)
    successes, runs, drivers = [], [], []
    try:
        for k, e in enumerate(eps):
            base = k * per_episode

            def progress(state: object, base: int = base) -> None:
                update(base + getattr(state, "done", 0), getattr(state, "failed", 0))

            with tempfile.TemporaryDirectory(prefix="geosim-backtest-") as tmp:
                prop = propagate(
                    load_scenario(e.path),
                    samples,
                    per_point,
                    seed,
                    Path(tmp),
                    workers=workers,
                    progress=progress,
                )
            primary = next(p for p in prop.expectations if p.name == e.primary)
            successes.append(primary.successes)
            runs.append(primary.runs)
            drivers.append(primary.driver.text())
    finally:
        stop()
    return score_table(eps, successes, runs, drivers)


def _print(table: pd.DataFrame) -> None:
    t = Table(title="history backtest")
    for col in ("episode", "primary", "change", "p model (95%)", "hit", "Brier", "SQ", "BR"):
        t.add_column(col)
    for r in table.itertuples():
        t.add_row(
            escape(str(r.episode)),
            escape(str(r.primary)),
            "yes" if r.change else "no",
            f"{r.p_model:.2f} ({r.p_low:.2f}-{r.p_high:.2f})",
            "[green]hit[/green]" if r.hit else "[red]MISS[/red]",
            f"{r.brier_model:.3f}",
            f"{r.brier_status_quo:.3f}",
            f"{r.brier_base_rate:.3f}",
        )
    out.print(t)
