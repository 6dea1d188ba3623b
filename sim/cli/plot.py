"""`geosim plot`: figures from a run folder or a sweep folder (never runs a model)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import click
from rich.markup import escape

from sim.cli.common import err, handle_errors, out
from sim.errors import GeosimError


@click.command()
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
    with handle_errors(ctx), _writing_figures(out_path or folder):
        chosen = [s.strip() for s in states.split(",") if s.strip()] if states else None
        if (folder / "sweep.json").exists():
            written = _plot_sweep(
                folder, by, outcome, x_param, y_param, chosen, variable, out_path, formats
            )
            for p in written:
                out.print(str(p), soft_wrap=True)
            return
        if by or outcome or x_param or y_param:
            raise GeosimError(
                f"--by, --outcome, --x and --y are for sweep folders; {folder} is not"
            )
        for p in _plot_run(folder, chosen, variable, out_path, formats, blocs):
            out.print(str(p))


@contextmanager
def _writing_figures(where: Path) -> Iterator[None]:
    """A figure the OS refuses to store (read-only folder, full disk, file-size limit, `--out`
    not a folder) is the environment's failure: OutputError (exit 1) naming the folder. The
    readers have already turned a missing or corrupt input file into bad input (exit 2)."""
    from sim.errors import OutputError, os_failure

    try:
        yield
    except FileExistsError:  # `--out /dev/null` or a file: as for `run --out`, exit 1
        raise OutputError(f"cannot write figures into {where}: not a folder") from None
    except OSError as exc:
        raise os_failure(exc, "write figures into", where) from None


def _plot_run(
    folder: Path,
    states: list[str] | None,
    variable: str,
    out_path: Path | None,
    formats: tuple[str, ...],
    blocs: bool,
) -> list[Path]:
    """A run folder's alignment figure and, if asked and there are blocs, its bloc timeline."""
    from sim.errors import FigureNotApplicable
    from sim.plots import plot_alignment, plot_blocs

    written = plot_alignment(
        folder, out=out_path, states=states, variable=variable, formats=formats
    )
    if blocs:
        try:
            written += plot_blocs(folder, out=out_path, states=states, formats=formats)
        except FigureNotApplicable as exc:
            err.print(escape(f"skipped the bloc timeline figure: {exc}"), soft_wrap=True)
    return written


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
