"""`geosim sweep` and `sensitivity`: run a design over a scenario, then analyse what it did."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypedDict, Unpack

import click
from rich.markup import escape
from rich.table import Table

from sim.cli.common import (
    EXIT_FAILED,
    EXIT_INTERRUPTED,
    at_opt,
    command_line,
    err,
    handle_errors,
    load,
    out,
    outcome_opt,
    print_warning,
    progress_bar,
    scenario_arg,
    seed_opt,
    set_opt,
    shown,
)
from sim.cli.scenarios import print_warnings

if TYPE_CHECKING:
    import pandas as pd

    from sim.design import Design
    from sim.schema.scenario import Scenario
    from sim.sweep import Plan, SweepOutcome

# `sim.sweep.TIMESERIES_KINDS`, spelled out so that `geosim --help` does not load the model
# (a test checks the two agree).
TIMESERIES_CHOICES = ("tilt", "affinity", "none")
MAX_REPLICATES = 2**53  # `sim.design.MAX_REPLICATES`, spelled out for the same reason


class Backend(TypedDict):
    """Options `geosim sweep` hands to `sim.sweep.execute` as they are: where and how runs go."""

    workers: int
    scheduler: str | None
    dask_local: int | None
    chunk_size: int | None
    fail_fast: bool
    retry_failed: bool


@click.command()
@scenario_arg
@click.option(
    "--param",
    "params",
    multiple=True,
    metavar="PATH=a:b:n|v1,v2,...",
    help="Sweep a scenario path over n values from a to b, or over a list (repeatable).",
)
@click.option(
    "--design",
    "design_file",
    type=click.Path(path_type=Path),
    default=None,
    help="Design file (YAML): method grid/lhs/sobol/morris, ranges, replicates, seed.",
)
@click.option(
    "--replicates",
    "-n",
    type=click.IntRange(min=1, max=MAX_REPLICATES),
    default=None,
    help="Replicates per design point (default: the design's, else 1).",
)
@seed_opt
@set_opt
@at_opt
@outcome_opt
@click.option(
    "--workers",
    "-w",
    type=click.IntRange(min=1),
    default=1,
    show_default=True,
    help="Local worker processes.",
)
@click.option(
    "--scheduler",
    envvar="DASK_SCHEDULER_ADDRESS",
    default=None,
    help="Dask scheduler address (or DASK_SCHEDULER_ADDRESS); needs the [dask] extra.",
)
@click.option(
    "--dask-local",
    type=click.IntRange(min=1),
    default=None,
    help="Start a local Dask cluster with N workers.",
)
@click.option(
    "--chunk-size",
    type=click.IntRange(min=1),
    default=None,
    help="Runs per chunk (default: balanced for the workers, at most 64).",
)
@click.option(
    "--timeseries",
    type=click.Choice(TIMESERIES_CHOICES),
    default="tilt",
    show_default=True,
    help="Which time series to keep for every run: tilt; affinity (tilt and affinity.<P> for "
    "every power of the scenario); none.",
)
@click.option("--fail-fast", is_flag=True, help="Stop at the first failed run.")
@click.option("--retry-failed", is_flag=True, help="Run again the runs that failed before.")
@click.option(
    "--resume",
    is_flag=True,
    help="Resume an interrupted sweep (also what re-running the command does).",
)
@click.option(
    "--csv",
    "csv_export",
    is_flag=True,
    help="Also write runs.csv, points.csv and timeseries.csv.",
)
@click.option(
    "--out",
    "out_dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("results"),
    show_default=True,
    help="Results root folder.",
)
@click.option("--quiet", "-q", is_flag=True, help="Print only the sweep folder.")
@click.option(
    "--force",
    is_flag=True,
    help="Start even if the workers and chunks are estimated to need more than 80% of the "
    "machine's memory.",
)
@click.pass_context
def sweep(
    ctx: click.Context,
    scenario: str,
    params: tuple[str, ...],
    design_file: Path | None,
    replicates: int | None,
    seed: int | None,
    overrides: tuple[str, ...],
    dates: tuple[str, ...],
    outcomes: tuple[str, ...],
    timeseries: str,
    resume: bool,
    csv_export: bool,
    out_dir: Path,
    quiet: bool,
    force: bool,
    **backend: Unpack[Backend],
) -> None:
    """Sweep SCENARIO over a design: every point x replicates, resumable, in parallel.

    --at and --outcome add to the design's outcomes (`outcome_dates`, `custom_outcomes`).
    Everything, outcomes included, is checked before any run starts. Exit status 1 if any run
    failed (the sweep still finishes; see errors/ in the folder). Runs are written to disk as
    chunks finish, so their number is not limited; workers and chunks estimated to need more
    than 80% of the machine's memory are refused unless --force.
    """
    with handle_errors(ctx):
        from sim.design import sweep_design
        from sim.sweep import plan
        from sim.sweep_outcomes import Places, with_options

        loaded = load(scenario, overrides, quiet)
        print_warnings(loaded)
        design, tree = sweep_design(
            params,
            design_file,
            replicates=replicates,
            seed=seed,
            default_seed=loaded.scenario.time.seed,
        )
        design = with_options(design, dates, outcomes)
        _fits(loaded.scenario, design, timeseries, backend, force)  # before points are built
        p = plan(loaded, design, timeseries, Places(tree, outcomes, dates))
        if not quiet:
            err.print(
                f"sweep: {len(p.points)} design points x {design.replicates} replicates "
                f"= {len(p.tasks)} runs ({design.method})"
            )
        outcome = _execute(p, out_dir, backend, quiet)
        if csv_export:
            from sim.sweep_consolidate import export_csv

            export_csv(outcome.folder)
        _report(outcome, quiet)
        if outcome.failed:
            sys.exit(EXIT_FAILED)


def _fits(
    scenario: Scenario, design: Design, timeseries: str, backend: Backend, force: bool
) -> None:
    """Refuse design points, workers and chunks that would not fit in memory; replicates do not
    count, since every finished chunk goes to disk."""
    from sim.budget import Backend as Where
    from sim.budget import check_budget, sweep_estimate
    from sim.sweep import timeseries_variables

    where: Where = "local"
    workers = backend["workers"]
    if backend["scheduler"]:
        where, workers = "remote", 1
    elif backend["dask_local"]:
        where, workers = "dask-local", backend["dask_local"]
    kept = len(timeseries_variables(timeseries, scenario))
    points = design.point_count()
    estimate = sweep_estimate(
        scenario,
        kept,
        points * design.replicates,
        workers,
        backend["chunk_size"],
        where,
        (points, len(design.parameters)),
    )
    advice = "Give fewer workers (--workers, --dask-local) or a smaller --chunk-size"
    advice += ", or --timeseries none" if kept else ""
    check_budget(estimate, force=force, advice=advice + ", or fewer design points")


def _execute(p: Plan, out_dir: Path, backend: Backend, quiet: bool) -> SweepOutcome:
    """Run the sweep with a progress bar; an interruption or a --fail-fast stop exits here."""
    from sim.sweep import SweepFailed, execute

    update, stop = progress_bar(len(p.tasks), "runs", failures=True, quiet=quiet)
    try:
        return execute(
            p,
            out_dir,
            progress=lambda state: update(state.done, state.failed),
            command=command_line(),
            **backend,
        )
    except KeyboardInterrupt:
        stop()
        err.print("interrupted: finished runs are saved; run the same command to resume.")
        sys.exit(EXIT_INTERRUPTED)
    except SweepFailed as exc:  # a run failed: a result of the sweep, not bad input
        stop()
        err.print(f"[red]stopped[/red]: {shown(str(exc))}", soft_wrap=True)
        sys.exit(EXIT_FAILED)
    finally:
        stop()


def _report(outcome: SweepOutcome, quiet: bool) -> None:
    listed = 20  # a folder whose every chunk was damaged needs no list of thousands of lines
    for entry in outcome.redone[:listed]:
        chunk, _, why = entry.partition(": ")
        print_warning(f"chunk {chunk} was damaged ({why}); its runs were done again")
    if len(outcome.redone) > listed:
        print_warning(f"and {len(outcome.redone) - listed} more chunks")
    if quiet:
        out.print(str(outcome.folder.path))
        return
    out.print(
        f"{outcome.total} runs: {outcome.ran} run now, {outcome.skipped} already done, "
        f"{outcome.failed} failed, in {outcome.seconds:.1f} s"
    )
    if outcome.failed:
        out.print(f"errors: {outcome.folder.errors}")
    out.print(f"results: {outcome.folder.path}")


@click.command()
@click.argument("folder", type=click.Path(path_type=Path))
@click.option(
    "--outcome",
    "outcomes",
    multiple=True,
    metavar="NAME",
    help="Outcome column of the runs or points table (repeatable; default: the design's "
    "outcomes, else mean_tilt@end).",
)
@click.pass_context
def sensitivity(ctx: click.Context, folder: Path, outcomes: tuple[str, ...]) -> None:
    """Sobol (S1, ST) or Morris (mu*, sigma) indices of a sweep FOLDER; writes CSVs into it.

    Every outcome name is checked before any is analysed.
    """
    with handle_errors(ctx):
        from sim.sensitivity import DEFAULT_OUTCOME, analyse
        from sim.sweep_folder import SweepFolder

        sf = SweepFolder(folder)
        designed = list(sf.design().outcomes)
        chosen = list(outcomes) or designed or [DEFAULT_OUTCOME]
        origin = "design" if not outcomes and designed else "--outcome"
        table = analyse(sf, chosen, origin=origin)
        for warning in table.attrs.get("warnings", []):  # SALib's, in geosim's words
            print_warning(warning)
        method = table.attrs["method"]
        for name, rows in table.groupby("outcome", sort=False):
            out.print(_indices_table(f"{name} ({method})", rows, sobol=method == "sobol"))
            note = table.attrs["notes"].get(name)
            if note:
                out.print(f"note: {escape(note)}")
        if table.attrs["failed"]:
            out.print(
                f"{table.attrs['failed']} of {table.attrs['runs']} runs failed and are left out "
                "of the point means (rerun the sweep with --retry-failed)."
            )
        for p in table.attrs["files"]:
            out.print(f"written: {p}", soft_wrap=True)


def _indices_table(title: str, rows: pd.DataFrame, *, sobol: bool) -> Table:
    """One outcome's indices, most influential parameter first (Sobol: ST; Morris: mu*)."""
    t = Table(title=title, title_justify="left")
    mu, sigma = "\N{GREEK SMALL LETTER MU}", "\N{GREEK SMALL LETTER SIGMA}"
    heads = ("S1 ± 95%", "ST ± 95%") if sobol else (f"{mu}* ± 95%", sigma, mu)
    width = max(len(str(p)) for p in rows["parameter"])
    t.add_column("parameter", no_wrap=True, min_width=width)
    for h in heads:
        t.add_column(h, justify="right")
    key = "ST" if sobol else "mu_star"
    for r in rows.sort_values(key, ascending=False, na_position="last").itertuples():
        cells: tuple[str, ...]
        if sobol:
            cells = (_pm(r.S1, r.S1_conf, ".3f"), _pm(r.ST, r.ST_conf, ".3f"))
        else:
            cells = (_pm(r.mu_star, r.mu_star_conf, ".3g"), f"{r.sigma:.3g}", f"{r.mu:.3g}")
        t.add_row(str(r.parameter), *cells)
    return t


def _pm(value: Any, conf: Any, fmt: str) -> str:
    """`value ± conf`, or a dash when the index is undefined (NaN)."""
    if value != value:  # NaN
        return "-"
    return f"{value:{fmt}} ± {conf:{fmt}}"
