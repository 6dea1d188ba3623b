"""`geosim run`, `check` and `reproduce`: run a scenario, test its expectations, re-run a folder."""

from __future__ import annotations

import sys
import tempfile
from contextlib import nullcontext
from pathlib import Path
from typing import TYPE_CHECKING

import click
from rich.markup import escape
from rich.table import Table

from sim.cli.common import (
    EXIT_FAILED,
    at_opt,
    checked_outcomes,
    command_line,
    err,
    handle_errors,
    load,
    out,
    outcome_opt,
    progress_bar,
    scenario_arg,
    seed_opt,
    set_opt,
)
from sim.errors import GeosimError

if TYPE_CHECKING:
    import pandas as pd

    from sim.outcomes import OutcomeSpec
    from sim.runner import RunResult
    from sim.scenario import LoadedScenario


def _simulate(
    loaded: LoadedScenario, seed: int | None, replicates: int, outcomes: OutcomeSpec | None = None
) -> RunResult:
    """Run the replicates with a progress bar on a terminal."""
    from sim.runner import run as run_scenario

    update, stop = progress_bar(replicates, "replicates")
    try:
        return run_scenario(
            loaded, seed=seed, replicates=replicates, progress=update, outcomes=outcomes
        )
    finally:
        stop()


@click.command()
@scenario_arg
@seed_opt
@click.option(
    "--replicates",
    "-n",
    type=click.IntRange(min=1),
    default=1,
    show_default=True,
    help="Independent replicates (seeds derived from the root seed).",
)
@set_opt
@click.option(
    "--out",
    "out_dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("results"),
    show_default=True,
    help="Results root folder.",
)
@click.option("--name", "folder_name", default=None, help="Run folder name (default: time-hash).")
@at_opt
@outcome_opt
@click.option(
    "--csv", is_flag=True, help="Also write each table as CSV (Parquet is always written)."
)
@click.option("--no-plot", is_flag=True, help="Skip the alignment plot.")
@click.option("--quiet", "-q", is_flag=True, help="Print only the results folder.")
@click.pass_context
def run(
    ctx: click.Context,
    scenario: str,
    seed: int | None,
    replicates: int,
    overrides: tuple[str, ...],
    out_dir: Path,
    folder_name: str | None,
    dates: tuple[str, ...],
    outcomes: tuple[str, ...],
    csv: bool,
    no_plot: bool,
    quiet: bool,
) -> None:
    """Run SCENARIO (file or built-in name; default latam_2025) and write a results folder.

    The folder holds every table of the results format (docs/results-format.md) as Parquet,
    and as CSV too with --csv. --at adds outcomes at a date, --outcome a custom outcome.
    """
    with handle_errors(ctx):
        from sim.publish import claimed
        from sim.results import write_run

        loaded = load(scenario, overrides, quiet)
        spec = checked_outcomes(loaded, dates, outcomes)  # before anything runs
        parent = out_dir / loaded.scenario.meta.name
        # An explicit --name is claimed before simulating: a taken name fails at once.
        with claimed(parent, folder_name, "") if folder_name is not None else nullcontext() as slot:
            result = _simulate(loaded, seed, replicates, spec)
            extra = None if no_plot else _run_figures
            folder = write_run(
                result, loaded, out_dir, command=command_line(), extra=extra, slot=slot, csv=csv
            )
        if quiet:
            click.echo(str(folder))  # for scripts: one line, never wrapped
            return
        _print_expectations(result.expectations())
        secs = result.seconds.get("simulate", 0.0)
        out.print(
            f"{replicates} replicate(s) of {loaded.scenario.meta.name} in {secs:.2f} s "
            f"(root seed {result.root_seed})"
        )
        out.print(f"results: {escape(str(folder))}", soft_wrap=True)


def _run_figures(folder: Path) -> None:
    """The figures of a run folder; one that does not apply (no blocs) is skipped, said so."""
    from sim.errors import FigureNotApplicable
    from sim.plots import plot_alignment, plot_blocs

    for name, draw in (("alignment", plot_alignment), ("bloc timeline", plot_blocs)):
        try:
            draw(folder)
        except FigureNotApplicable as exc:
            err.print(escape(f"skipped the {name} figure: {exc}"), soft_wrap=True)


def _print_expectations(table: pd.DataFrame) -> None:
    if table.empty:
        return
    t = Table(title="expected outcomes")
    for col in ("expectation", "share", "required", "result"):
        t.add_column(col, justify="right" if col in ("share", "required") else "left")
    for row in table.itertuples():
        mark = "[green]pass[/green]" if row.passed else "[red]FAIL[/red]"
        if row.scripted:
            mark = "[yellow]scripted[/yellow]"
        t.add_row(str(row.expectation), f"{row.share:.0%}", f"{row.required:.0%}", mark)
    out.print(t)


@click.command()
@scenario_arg
@seed_opt
@click.option("--replicates", "-n", type=click.IntRange(min=1), default=20, show_default=True)
@set_opt
@click.pass_context
def check(
    ctx: click.Context, scenario: str, seed: int | None, replicates: int, overrides: tuple[str, ...]
) -> None:
    """Run SCENARIO's replicates and test its `expect` section: exit 0 only if every
    expectation is reproduced; one an event of the scenario sets directly is `scripted`, listed
    and not counted (exit 1 if any fails or is scripted)."""
    with handle_errors(ctx):
        loaded = load(scenario, overrides)
        if not loaded.scenario.expect:
            raise GeosimError(f"{loaded.files[0]}: the scenario has no `expect` section to check")
        result = _simulate(loaded, seed, replicates)
        table = result.expectations()
        _print_expectations(table)
        scripted = int(table["scripted"].sum())
        counted = table[~table["scripted"]]
        met = int(counted["passed"].sum())
        note = f"; {scripted} scripted by an event, not counted" if scripted else ""
        out.print(
            f"{met}/{len(counted)} expectations reproduced over {replicates} replicates "
            f"(root seed {result.root_seed}){note}"
        )
        if met < len(table):
            sys.exit(EXIT_FAILED)


@click.command()
@click.argument("folder", type=click.Path(path_type=Path))
@click.pass_context
def reproduce(ctx: click.Context, folder: Path) -> None:
    """Check a results FOLDER's data files against its manifest, re-run the manifest and
    compare byte for byte.

    Per data file: identical; ALTERED (the folder's copy no longer matches its manifest);
    MISSING; DIFFERENT (the re-run differs). Exit status 1 unless all are identical, 2 for a
    bad folder or manifest.
    """
    with handle_errors(ctx):
        from sim.manifest import Status
        from sim.results import reproduce as redo

        with tempfile.TemporaryDirectory(prefix="geosim-reproduce-") as tmp:
            report = redo(folder, Path(tmp))
        for f in report.files:
            word = f.status.value if f.status is Status.IDENTICAL else f"[red]{f.status}[/red]"
            note = f" ({escape(f.note)})" if f.note else ""
            out.print(f"{word} {f.name}{note}", soft_wrap=True)
        if report.ok:
            out.print("reproduced byte for byte.")
            return
        counts = ((report.count(s), s.lower()) for s in Status if s is not Status.IDENTICAL)
        out.print(f"not reproduced: {', '.join(f'{n} {word}' for n, word in counts if n)}.")
        sys.exit(EXIT_FAILED)
