"""The `geosim` command: parse arguments, call the library, map errors to exit codes.

Exit status: 0 success; 1 a check or reproduction failed; 2 bad input (scenario, override,
results folder, usage); 3 an internal error (a bug: please report it, rerun with --debug).
"""

from __future__ import annotations

import sys
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager, nullcontext
from pathlib import Path
from typing import Any, NoReturn

import click
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from sim.errors import GeosimError, ScenarioError

err = Console(stderr=True, highlight=False, emoji=False)
out = Console(highlight=False, emoji=False)

EXIT_FAILED, EXIT_INPUT, EXIT_INTERNAL = 1, 2, 3
DEFAULT_SCENARIO = "latam_2025"


def _fail_input(exc: GeosimError) -> NoReturn:
    if isinstance(exc, ScenarioError):
        n = len(exc.problems)
        for p in exc.problems:
            err.print(f"[red]error[/red]: {escape(str(p))}", soft_wrap=True)
        err.print(f"{n} problem{'s' if n != 1 else ''} found; nothing was run.")
    else:
        err.print(f"[red]error[/red]: {escape(str(exc))}", soft_wrap=True)
    sys.exit(exc.exit_code)


@contextmanager
def _errors(ctx: click.Context) -> Iterator[None]:
    """Turn library errors into messages and exit codes (tracebacks only with --debug)."""
    debug = bool(ctx.find_root().params.get("debug"))
    try:
        yield
    except GeosimError as exc:
        if debug:
            err.print_exception()
        _fail_input(exc)
    except KeyboardInterrupt:
        err.print("interrupted; no results were published.")
        sys.exit(130)
    except (click.exceptions.Exit, click.ClickException, SystemExit):
        raise
    except Exception as exc:
        if debug:
            raise
        err.print(
            f"[red]internal error[/red]: {type(exc).__name__}: {escape(str(exc))}", soft_wrap=True
        )
        err.print("This is a bug in geosim; rerun with --debug for a traceback and report it.")
        sys.exit(EXIT_INTERNAL)


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.option("--debug", is_flag=True, help="Show tracebacks instead of short error messages.")
@click.version_option(package_name="geosim", prog_name="geosim")
def main(debug: bool) -> None:
    """Simulate geopolitical influence from scenario files.

    Run `geosim run` for the article baseline; `geosim COMMAND --help` for each command.
    """


scenario_arg = click.argument("scenario", required=False, default=DEFAULT_SCENARIO)
set_opt = click.option(
    "--set",
    "overrides",
    multiple=True,
    metavar="PATH=VALUE",
    help="Override a scenario value, e.g. rules.threats.credibility=0.5 (repeatable).",
)
seed_opt = click.option(
    "--seed",
    type=click.IntRange(min=0),
    default=None,
    help="Root seed (default: the scenario's time.seed).",
)


def _progress(total: int, label: str) -> tuple[Callable[[int], None], Callable[[], None]]:
    """A progress bar on stderr when it is a terminal; silent otherwise."""
    if total <= 1 or not err.is_terminal:
        return (lambda _done: None), (lambda: None)
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )

    bar = Progress(
        f"[bold]{label}",
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
        console=err,
        transient=True,
    )
    task = bar.add_task(label, total=total)
    bar.start()
    return (lambda done: bar.update(task, completed=done)), bar.stop


def _load(scenario: str, overrides: tuple[str, ...], quiet: bool = False) -> Any:
    from sim.scenario import load_scenario, yaml_repr

    loaded = load_scenario(scenario, overrides)
    if not quiet:
        for o in loaded.overrides:
            old, new = yaml_repr(o["old"]), yaml_repr(o["new"])
            old += " (default)" if o.get("default") else ""
            err.print(escape(f"override {o['path']}: {old} -> {new}"), soft_wrap=True)
    return loaded


@main.command()
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
    no_plot: bool,
    quiet: bool,
) -> None:
    """Run SCENARIO (file or built-in name; default latam_2025) and write a results folder."""
    with _errors(ctx):
        from sim.publish import claimed
        from sim.results import write_run
        from sim.runner import run as run_scenario

        loaded = _load(scenario, overrides, quiet)
        parent = out_dir / loaded.scenario.meta.name
        # An explicit --name is claimed before simulating: a taken name fails at once.
        with claimed(parent, folder_name, "") if folder_name is not None else nullcontext() as slot:
            update, stop = _progress(replicates, "replicates")
            try:
                result = run_scenario(loaded, seed=seed, replicates=replicates, progress=update)
            finally:
                stop()
            folder = write_run(
                result,
                loaded,
                out_dir,
                command=["geosim", *sys.argv[1:]],
                extra=None if no_plot else _run_figures,
                slot=slot,
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


def _print_expectations(table: Any) -> None:
    if table.empty:
        return
    t = Table(title="expected outcomes")
    for col in ("expectation", "share", "required", "result"):
        t.add_column(col, justify="right" if col in ("share", "required") else "left")
    for row in table.itertuples():
        mark = "[green]pass[/green]" if row.passed else "[red]FAIL[/red]"
        t.add_row(str(row.expectation), f"{row.share:.0%}", f"{row.required:.0%}", mark)
    out.print(t)


@main.command()
@scenario_arg
@seed_opt
@click.option("--replicates", "-n", type=click.IntRange(min=1), default=20, show_default=True)
@set_opt
@click.pass_context
def check(
    ctx: click.Context, scenario: str, seed: int | None, replicates: int, overrides: tuple[str, ...]
) -> None:
    """Run SCENARIO's replicates and test its `expect` section (exit 1 if any fails)."""
    with _errors(ctx):
        from sim.runner import run as run_scenario

        loaded = _load(scenario, overrides)
        if not loaded.scenario.expect:
            raise GeosimError(f"{loaded.files[0]}: the scenario has no `expect` section to check")
        update, stop = _progress(replicates, "replicates")
        try:
            result = run_scenario(loaded, seed=seed, replicates=replicates, progress=update)
        finally:
            stop()
        table = result.expectations()
        _print_expectations(table)
        failed = int((~table["passed"]).sum())
        out.print(
            f"{len(table) - failed}/{len(table)} expectations met over {replicates} "
            f"replicates (root seed {result.root_seed})"
        )
        if failed:
            sys.exit(EXIT_FAILED)


@main.command()
@click.argument("files", nargs=-1, required=True)
@set_opt
@click.pass_context
def validate(ctx: click.Context, files: tuple[str, ...], overrides: tuple[str, ...]) -> None:
    """Validate scenario FILES; report every problem with file:line:column (exit 2 if any)."""
    with _errors(ctx):
        from sim.scenario import load_scenario

        bad = 0
        for f in files:
            try:
                loaded = load_scenario(f, overrides)
            except ScenarioError as exc:
                bad += 1
                for p in exc.problems:
                    err.print(f"[red]error[/red]: {escape(str(p))}", soft_wrap=True)
                continue
            s = loaded.scenario
            out.print(
                f"ok: {f} ({len(s.states)} states, {len(s.powers)} powers, "
                f"{len(s.blocs)} blocs, {len(s.events)} events, {len(s.expect)} expectations)",
                soft_wrap=True,
            )
        if bad:
            err.print(f"{bad} of {len(files)} file(s) invalid.")
            sys.exit(EXIT_INPUT)


@main.command()
@click.argument("scenario", required=False, default=DEFAULT_SCENARIO)
@click.option("--unsourced", is_flag=True, help="List only numbers without a source.")
@click.pass_context
def sources(ctx: click.Context, scenario: str, unsourced: bool) -> None:
    """Print every number in SCENARIO with its source; flag the unsourced and the estimates."""
    with _errors(ctx):
        from sim.loader import dotted, iter_numbers, unwrap_sources
        from sim.scenario import load_scenario

        loaded = load_scenario(scenario)
        plain, cited = unwrap_sources(loaded.tree)
        catalogue = loaded.scenario.meta.sources
        t = Table(title=f"values in {loaded.files[0]}")
        for col in ("path", "value", "source", "kind"):
            t.add_column(col)
        missing = estimates = total = 0
        for path, value in iter_numbers(plain):
            if path[:1] == ("meta",):
                continue
            total += 1
            src = cited.get(path)
            kind = catalogue[src].kind if src in catalogue else ""
            if src is None:
                missing += 1
            elif kind == "estimate":
                estimates += 1
            if unsourced and src is not None:
                continue
            shown = "[red]UNSOURCED[/red]" if src is None else src
            t.add_row(dotted(path), f"{value:g}", shown, kind)
        out.print(t)
        out.print(
            f"{total} numbers: {total - missing} sourced ({estimates} estimates), "
            f"{missing} unsourced."
        )


@main.command()
@click.argument("folder", type=click.Path(path_type=Path))
@click.option("--states", default=None, help="Comma-separated state codes (default: chosen).")
@click.option(
    "--variable",
    default="tilt",
    show_default=True,
    help="Variable to plot, e.g. tilt, affinity.CHN, exports.USA.",
)
@click.option(
    "--out",
    "out_path",
    type=click.Path(path_type=Path),
    default=None,
    help="Output folder (default: the run or sweep folder).",
)
@click.option(
    "--format",
    "formats",
    multiple=True,
    type=click.Choice(["png", "svg", "pdf"]),
    default=("png", "svg"),
    show_default=True,
)
@click.option(
    "--blocs/--no-blocs",
    default=True,
    show_default=True,
    help="Also draw the bloc-membership timeline.",
)
@click.option(
    "--by",
    default=None,
    metavar="PARAM",
    help="Sweep folder: alignment envelopes grouped by this swept parameter.",
)
@click.option(
    "--outcome",
    default=None,
    metavar="NAME",
    help="Sweep folder: outcome to plot against --x (and --y for a heatmap).",
)
@click.option("--x", "x_param", default=None, metavar="PARAM", help="Sweep folder: x parameter.")
@click.option(
    "--y", "y_param", default=None, metavar="PARAM", help="Sweep folder: y parameter (heatmap)."
)
@click.pass_context
def plot(
    ctx: click.Context,
    folder: Path,
    states: str | None,
    variable: str,
    out_path: Path | None,
    formats: tuple[str, ...],
    blocs: bool,
    by: str | None,
    outcome: str | None,
    x_param: str | None,
    y_param: str | None,
) -> None:
    """Plot a results FOLDER: alignment over time (median, 10-90% band) and bloc timeline.

    For a sweep folder: --by PARAM draws alignment envelopes per value of PARAM; --outcome NAME
    --x PARAM draws the outcome (probability or mean) against PARAM; adding --y PARAM2 draws a
    heatmap over both.
    """
    with _errors(ctx):
        from sim.errors import FigureNotApplicable
        from sim.plots import plot_alignment, plot_blocs

        chosen = [s.strip() for s in states.split(",") if s.strip()] if states else None
        if (folder / "sweep.json").exists():
            for p in _plot_sweep(
                folder, by, outcome, x_param, y_param, chosen, variable, out_path, formats
            ):
                out.print(str(p), soft_wrap=True)
            return
        if by or outcome or x_param or y_param:
            raise GeosimError(
                f"--by, --outcome, --x and --y are for sweep folders; {folder} is not"
            )
        written = plot_alignment(
            folder, out=out_path, states=chosen, variable=variable, formats=formats
        )
        if blocs:
            try:
                written += plot_blocs(folder, out=out_path, states=chosen, formats=formats)
            except FigureNotApplicable as exc:
                err.print(escape(f"skipped the bloc timeline figure: {exc}"), soft_wrap=True)
        for p in written:
            out.print(str(p))


def _plot_sweep(
    folder: Path,
    by: str | None,
    outcome: str | None,
    x_param: str | None,
    y_param: str | None,
    states: list[str] | None,
    variable: str,
    out_path: Path | None,
    formats: tuple[str, ...],
) -> list[Path]:
    """Dispatch `geosim plot` on a sweep folder to envelopes, outcome plot or heatmap."""
    from sim.sweep_plots import open_sweep, plot_envelopes, plot_heatmap, plot_outcome

    sweep = open_sweep(folder)
    usage = (
        f"{folder} is a sweep folder: give --by PARAM (alignment envelopes), or --outcome NAME "
        f"--x PARAM [--y PARAM]; swept parameters: {', '.join(sweep.parameters)}"
    )
    if by and (outcome or x_param or y_param):
        raise GeosimError(f"--by draws envelopes and takes no --outcome/--x/--y; {usage}")
    if by:
        return plot_envelopes(
            sweep, by, out=out_path, states=states, variable=variable, formats=formats
        )
    if not outcome or not x_param:
        raise GeosimError(("--outcome needs --x; " if outcome else "") + usage)
    if y_param:
        return plot_heatmap(sweep, outcome, x_param, y_param, out=out_path, formats=formats)
    return plot_outcome(sweep, outcome, x_param, out=out_path, formats=formats)


@main.command()
@click.argument("folder", type=click.Path(path_type=Path))
@click.pass_context
def reproduce(ctx: click.Context, folder: Path) -> None:
    """Check a results FOLDER's data files against its manifest, re-run the manifest and
    compare byte for byte.

    Per data file: identical; ALTERED (the folder's copy no longer matches its manifest);
    MISSING; DIFFERENT (the re-run differs). Exit status 1 unless all are identical, 2 for a
    bad folder or manifest.
    """
    with _errors(ctx):
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


@main.command(name="schema")
@click.option("--out", "out_path", type=click.Path(dir_okay=False, path_type=Path), default=None)
def schema_cmd(out_path: Path | None) -> None:
    """Print the scenario format reference (generated from the schema)."""
    from sim.reference import scenario_reference

    text = scenario_reference()
    if out_path is None:
        click.echo(text)
    else:
        from sim.results import atomic_write_text

        atomic_write_text(out_path, text)


@main.command(name="list")
def list_cmd() -> None:
    """List the scenarios shipped with geosim."""
    from sim.scenario import builtin_scenarios_dir

    for p in sorted(builtin_scenarios_dir().glob("*.yaml")):
        out.print(f"{p.stem:45s} {p}")


@main.command()
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
    type=click.IntRange(min=1),
    default=None,
    help="Replicates per design point (default: the design's, else 1).",
)
@seed_opt
@set_opt
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
    type=click.Choice(["tilt", "affinity", "none"]),
    default="tilt",
    show_default=True,
    help="Which time series to keep for every run.",
)
@click.option("--fail-fast", is_flag=True, help="Stop at the first failed run.")
@click.option("--retry-failed", is_flag=True, help="Run again the runs that failed before.")
@click.option(
    "--resume",
    is_flag=True,
    help="Resume an interrupted sweep (also what re-running the command does).",
)
@click.option("--csv", "csv_export", is_flag=True, help="Also write runs.csv and timeseries.csv.")
@click.option(
    "--out",
    "out_dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("results"),
    show_default=True,
    help="Results root folder.",
)
@click.option("--quiet", "-q", is_flag=True, help="Print only the sweep folder.")
@click.pass_context
def sweep(
    ctx: click.Context,
    scenario: str,
    params: tuple[str, ...],
    design_file: Path | None,
    replicates: int | None,
    seed: int | None,
    overrides: tuple[str, ...],
    workers: int,
    scheduler: str | None,
    dask_local: int | None,
    chunk_size: int | None,
    timeseries: str,
    fail_fast: bool,
    retry_failed: bool,
    resume: bool,
    csv_export: bool,
    out_dir: Path,
    quiet: bool,
) -> None:
    """Sweep SCENARIO over a design: every point x replicates, resumable, in parallel.

    Exit status 1 if any run failed (the sweep still finishes; see errors/ in the folder).
    """
    with _errors(ctx):
        from sim.design import design_from_options, load_design
        from sim.sweep import SweepFailed, execute, export_csv, plan

        loaded = _load(scenario, overrides, quiet)
        if design_file is not None and params:
            raise GeosimError("give either --param options or --design, not both")
        if design_file is not None:
            design, _ = load_design(design_file)
            update: dict[str, Any] = {}
            if replicates is not None:
                update["replicates"] = replicates
            if seed is not None:
                update["seed"] = seed
            design = design.model_copy(update=update)
        elif params:
            root = loaded.scenario.time.seed if seed is None else seed
            design = design_from_options(list(params), replicates or 1, root)
        else:
            raise GeosimError("nothing to sweep: give --param PATH=a:b:n (repeatable) or --design")
        p = plan(loaded, design, timeseries)
        if not quiet:
            err.print(
                f"sweep: {len(p.points)} design points x {design.replicates} replicates "
                f"= {len(p.tasks)} runs ({design.method})"
            )
        update_bar, stop = _sweep_progress(len(p.tasks), quiet)
        try:
            outcome = execute(
                p,
                out_dir,
                workers=workers,
                scheduler=scheduler,
                dask_local=dask_local,
                chunk_size=chunk_size,
                fail_fast=fail_fast,
                retry_failed=retry_failed,
                progress=update_bar,
                command=["geosim", *sys.argv[1:]],
            )
        except KeyboardInterrupt:
            stop()
            err.print("interrupted: finished runs are saved; run the same command to resume.")
            sys.exit(130)
        except SweepFailed as exc:  # a run failed: a result of the sweep, not bad input
            stop()
            err.print(f"[red]stopped[/red]: {escape(str(exc))}", soft_wrap=True)
            sys.exit(EXIT_FAILED)
        finally:
            stop()
        if csv_export:
            export_csv(outcome.folder)
        if quiet:
            out.print(str(outcome.folder.path))
        else:
            out.print(
                f"{outcome.total} runs: {outcome.ran} run now, {outcome.skipped} already done, "
                f"{outcome.failed} failed, in {outcome.seconds:.1f} s"
            )
            if outcome.failed:
                out.print(f"errors: {outcome.folder.path / 'errors'}")
            out.print(f"results: {outcome.folder.path}")
        if outcome.failed:
            sys.exit(EXIT_FAILED)


@main.command()
@click.argument("folder", type=click.Path(path_type=Path))
@click.option(
    "--outcome",
    "outcomes",
    multiple=True,
    metavar="NAME",
    help="Outcome column (repeatable; default: the design's outcomes, else mean_tilt_end).",
)
@click.pass_context
def sensitivity(ctx: click.Context, folder: Path, outcomes: tuple[str, ...]) -> None:
    """Sobol (S1, ST) or Morris (mu*, sigma) indices of a sweep FOLDER; writes CSVs into it."""
    with _errors(ctx):
        from sim.sensitivity import analyse
        from sim.sweep_folder import SweepFolder

        sf = SweepFolder(folder)
        chosen = list(outcomes) or list(sf.design().outcomes) or ["mean_tilt_end"]
        table = analyse(sf, chosen)
        sobol = table.attrs["method"] == "sobol"
        for name, rows in table.groupby("outcome", sort=False):
            t = Table(title=f"{name} ({table.attrs['method']})", title_justify="left")
            mu, sigma = "\N{GREEK SMALL LETTER MU}", "\N{GREEK SMALL LETTER SIGMA}"
            heads: tuple[str, ...] = ("S1 ± 95%", "ST ± 95%")
            if not sobol:
                heads = (f"{mu}* ± 95%", sigma, mu)
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
            out.print(t)
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


def _pm(value: Any, conf: Any, fmt: str) -> str:
    """`value ± conf`, or a dash when the index is undefined (NaN)."""
    if value != value:  # NaN
        return "-"
    return f"{value:{fmt}} ± {conf:{fmt}}"


def _sweep_progress(total: int, quiet: bool) -> tuple[Callable[[Any], None], Callable[[], None]]:
    """Progress bar for sweeps: runs done of total, failures, elapsed, ETA (terminal only)."""
    if quiet or not err.is_terminal:
        return (lambda _p: None), (lambda: None)
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )

    bar = Progress(
        "[bold]runs",
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[failed]} failed"),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
        console=err,
        transient=True,
    )
    task = bar.add_task("runs", total=total, failed=0)
    bar.start()
    stopped = False

    def update(p: Any) -> None:
        bar.update(task, completed=p.done, failed=p.failed)

    def stop() -> None:
        nonlocal stopped
        if not stopped:
            bar.stop()
            stopped = True

    return update, stop
