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
from sim.cli.propagation import (
    default_workers,
    per_point_opt,
    print_propagation,
    propagate_opt,
    run_propagation,
    workers_opt,
)
from sim.cli.scenarios import print_warnings
from sim.errors import GeosimError

if TYPE_CHECKING:
    import pandas as pd

    from sim.outcomes import OutcomeSpec
    from sim.runner import RunResult
    from sim.scenario import LoadedScenario
    from sim.uncertainty import Propagation


force_opt = click.option(
    "--force",
    is_flag=True,
    help="Start even if the work is estimated to need more than 80% of the machine's memory.",
)


def _fits(loaded: LoadedScenario, replicates: int, force: bool, reread: bool = False) -> None:
    """Refuse replicates that would not fit in memory (they are all kept until written;
    `reread`: figures or CSV files are made from them too)."""
    from sim.budget import check_budget, run_estimate

    check_budget(
        run_estimate(loaded.scenario, replicates, reread),
        force=force,
        advice="Give fewer replicates (-n), or run them as a sweep (`geosim sweep -n N`), "
        "which writes each run to disk as it finishes",
    )


def _propagation_fits(
    loaded: LoadedScenario, runs: int, workers: int, timeseries: str, force: bool
) -> None:
    """Refuse a propagation (a sweep) whose workers and chunks would not fit in memory."""
    from sim.budget import check_budget, sweep_estimate
    from sim.sweep import timeseries_variables

    kept = len(timeseries_variables(timeseries, loaded.scenario))
    check_budget(
        sweep_estimate(loaded.scenario, kept, runs, workers),
        force=force,
        advice="Give fewer --workers",
    )


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
@propagate_opt
@per_point_opt
@workers_opt
@force_opt
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
    propagate: int | None,
    per_point: int,
    workers: int | None,
    force: bool,
) -> None:
    """Run SCENARIO (file or built-in name; default latam_2025) and write a results folder.

    The folder holds every table of the results format (docs/results-format.md) as Parquet,
    and as CSV too with --csv. --at adds outcomes at a date, --outcome a custom outcome.
    With --propagate N the runs are N Latin-hypercube points of every parameter range,
    --per-point K replicates each, written as a sweep folder (docs/results-format.md).
    Work estimated to need more than 80% of the machine's memory is refused unless --force.
    """
    with handle_errors(ctx):
        from sim.publish import claimed
        from sim.results import write_run

        loaded = load(scenario, overrides, quiet)
        print_warnings(loaded)
        if propagate is not None:
            _no_replicates_with_propagate(ctx)
            workers = default_workers(workers)
            _propagation_fits(loaded, propagate * per_point, workers, "tilt", force)
            _run_propagated(loaded, propagate, per_point, seed, out_dir, workers, no_plot, quiet)
            return
        spec = checked_outcomes(loaded, dates, outcomes)  # before anything runs
        _fits(loaded, replicates, force, reread=csv or not no_plot)
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


_NOT_WITH_PROPAGATE = {"dates": "--at", "outcomes": "--outcome", "csv": "--csv"}
_NOT_WITH_PROPAGATE |= {"folder_name": "--name"}


def _no_replicates_with_propagate(ctx: click.Context) -> None:
    """Refuse options that mean nothing with --propagate."""
    given = click.core.ParameterSource.COMMANDLINE
    if ctx.get_parameter_source("replicates") is given:
        raise GeosimError(
            "-n/--replicates is for runs at the defaults; with --propagate give --per-point K "
            "(replicates at each point)"
        )
    for param, flag in _NOT_WITH_PROPAGATE.items():
        if param in ctx.params and ctx.get_parameter_source(param) is given:
            raise GeosimError(f"{flag} is not available with --propagate")


def _run_propagated(
    loaded: LoadedScenario,
    samples: int,
    per_point: int,
    seed: int | None,
    out_dir: Path,
    workers: int,
    no_plot: bool,
    quiet: bool,
) -> None:
    """`run --propagate`: a sweep folder of the propagation, its table, and the envelopes
    binned by the input that moves the outcomes most (the band seed noise alone would not show)."""
    prop = run_propagation(loaded, samples, per_point, seed, out_dir, workers, "tilt")
    assert prop.folder is not None
    if quiet:
        click.echo(str(prop.folder))
        return
    if loaded.scenario.expect:
        print_propagation(prop, {x: e.share for x, e in loaded.scenario.expect.items()})
    if not no_plot:
        from sim.sweep_plots import plot_envelopes

        by = _top_input(prop)
        written = plot_envelopes(prop.folder, by)
        out.print(
            f"figure: {escape(str(written[0]))} (bands binned by {escape(by)})", soft_wrap=True
        )
    out.print(f"results: {escape(str(prop.folder))}", soft_wrap=True)


def _top_input(prop: Propagation) -> str:
    """The input named most often as an expectation's driver (else the first ranged input);
    of inputs named equally often the first named, so the same seed bins the same way (a
    set's order would vary with PYTHONHASHSEED)."""
    from collections import Counter

    named = [p.driver.path for p in prop.expectations if p.driver.path]
    return Counter(named).most_common(1)[0][0] if named else prop.dims[0].path


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
@propagate_opt
@per_point_opt
@workers_opt
@force_opt
@click.pass_context
def check(
    ctx: click.Context,
    scenario: str,
    seed: int | None,
    replicates: int,
    overrides: tuple[str, ...],
    propagate: int | None,
    per_point: int,
    workers: int | None,
    force: bool,
) -> None:
    """Run SCENARIO's replicates and test its `expect` section: exit 0 only if every
    expectation is reproduced; one an event of the scenario sets directly is `scripted`, listed
    and not counted (exit 1 if any fails or is scripted).

    With --propagate N the probabilities are over N Latin-hypercube points of every parameter
    range (--per-point K replicates each), with Wilson intervals, the joint probability and the
    input that moves each outcome most. Work estimated to need more than 80% of the machine's
    memory is refused unless --force."""
    with handle_errors(ctx):
        loaded = load(scenario, overrides)
        print_warnings(loaded)
        if not loaded.scenario.expect:
            raise GeosimError(f"{loaded.files[0]}: the scenario has no `expect` section to check")
        if propagate is not None:
            _no_replicates_with_propagate(ctx)
            workers = default_workers(workers)
            _propagation_fits(loaded, propagate * per_point, workers, "none", force)
            _check_propagated(loaded, propagate, per_point, seed, workers)
            return
        _fits(loaded, replicates, force)
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


def _check_propagated(
    loaded: LoadedScenario, samples: int, per_point: int, seed: int | None, workers: int
) -> None:
    s = loaded.scenario
    with tempfile.TemporaryDirectory(prefix="geosim-check-") as tmp:
        prop = run_propagation(loaded, samples, per_point, seed, Path(tmp), workers)
    met = print_propagation(prop, {x: e.share for x, e in s.expect.items()})
    scripted = [x for x, e in s.expect.items() if e.scripted_by(s.events)]
    note = f"; scripted by an event, not counted: {', '.join(scripted)}" if scripted else ""
    out.print(
        f"{met}/{len(s.expect)} expectations reach their share over parameter uncertainty{note}"
    )
    if met < len(s.expect) or scripted or prop.failed:
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
