"""`geosim backtest`: the history episodes scored against the status quo and base-rate nulls."""

from __future__ import annotations

import sys
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import click
from rich.markup import escape
from rich.table import Table

from sim.cli.common import EXIT_FAILED, command_line, err, handle_errors, out, progress_bar
from sim.cli.propagation import default_workers, per_point_opt, propagate_opt, workers_opt
from sim.errors import GeosimError

if TYPE_CHECKING:
    import pandas as pd

    from sim.backtest import Episode
    from sim.sweep import Progress
    from sim.uncertainty import Probability, Propagation


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
    --per-point K replicates each, instead of -n replicates at the defaults. Failed runs are
    left out of an episode's share and counted: the files are written and the exit status is
    1; an episode none of whose runs succeeds stops the backtest.
    """
    with handle_errors(ctx):
        from sim import backtest_report
        from sim.backtest import compare, episode_files, load_episode

        eps = [load_episode(p) for p in episode_files(episodes)]  # all checked before any run
        w = default_workers(workers)
        failed: dict[str, int] = {}
        per_episode = 0  # runs per episode under --propagate, the only mode that counts failures
        if propagate is None:
            table = _plain(eps, seed, replicates, w)
            setting = f"seed {seed}, {replicates} replicates per episode"
        else:
            table, failed, per_episode = _propagated(eps, seed, propagate, per_point, w)
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
            "failed_runs": failed if propagate is not None else None,
        }
        files = backtest_report.write(out_dir, table, comparisons, setting, record, failed)
        out.print(f"written: {escape(', '.join(str(f) for f in files))}", soft_wrap=True)
        if any(failed.values()):
            _warn_failed(failed, per_episode)
            sys.exit(EXIT_FAILED)


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
) -> tuple[pd.DataFrame, dict[str, int], int]:
    """The table over propagated runs, each episode's failed runs (left out of its share; the
    progress bar counts them over the whole backtest), and the runs of each episode."""
    from sim.backtest import score_table

    per_episode = samples * per_point
    update, stop = progress_bar(len(eps) * per_episode, "episode runs", failures=True)
    successes, runs, drivers = [], [], []
    failed: dict[str, int] = {}
    try:
        for k, e in enumerate(eps):
            base, before = k * per_episode, sum(failed.values())

            def progress(state: Progress, base: int = base, before: int = before) -> None:
                update(base + state.done, before + state.failed)

            primary, failed[e.name] = _propagate_episode(
                e, seed, samples, per_point, workers, progress
            )
            successes.append(primary.successes)
            runs.append(primary.runs)
            drivers.append(primary.driver.text())
    finally:
        stop()
    return score_table(eps, successes, runs, drivers), failed, per_episode


def _propagate_episode(
    e: Episode,
    seed: int,
    samples: int,
    per_point: int,
    workers: int,
    progress: Callable[[Progress], None],
) -> tuple[Probability, int]:
    """One episode's primary outcome over its propagated runs, and how many runs failed; an
    error naming the episode (and its first failure) if none succeeded."""
    from sim.uncertainty import propagate
    from sim.validation import load_scenario

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
        if primary.runs == 0:
            raise GeosimError(
                f"{e.path}: all {prop.failed} propagated runs of episode {e.name} failed "
                f"(the first: {_first_error(prop)}); nothing to score"
            )
    return primary, prop.failed


def _first_error(prop: Propagation) -> str:
    """The first failed run's error, cut to a readable length."""
    from sim.sweep_folder import SweepFolder
    from sim.yaml_input import clip

    assert prop.folder is not None
    runs = SweepFolder(prop.folder).runs()
    errors = runs.loc[runs["status"] != "ok", "error"]
    return clip(str(errors.iloc[0]).splitlines()[0]) if len(errors) else "no error recorded"


def _warn_failed(failed: dict[str, int], per_episode: int) -> None:
    """One line per episode with failed runs, and the total (the exit status is then 1)."""
    for name, n in failed.items():
        if n:
            err.print(
                escape(
                    f"warning: {n} of {per_episode} propagated runs of episode {name} failed and "
                    "are left out of its share"
                ),
                soft_wrap=True,
            )
    total = sum(failed.values())
    err.print(f"[red]{total} run(s) failed[/red] in the backtest")


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
