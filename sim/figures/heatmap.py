"""An outcome over two swept parameters: a heatmap of its mean (probability for 0/1 outcomes).

Cells are annotated with their value (and their run count when counts differ); a design that
is not a grid has both parameters cut into quantile bins. Tilt outcomes use a diverging map
centred on 0 (neither power), everything else viridis.
"""

from __future__ import annotations

import textwrap
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import matplotlib as mpl
import numpy as np
from matplotlib.axes import Axes
from matplotlib.colorbar import Colorbar
from matplotlib.colors import Colormap, Normalize, TwoSlopeNorm
from matplotlib.figure import Figure
from matplotlib.ticker import PercentFormatter
from numpy.typing import NDArray

from sim.errors import ResultsError
from sim.figures.groups import Groups, group_values, grouping_note
from sim.figures.outcome_kinds import is_binary, is_bloc, is_tilt, outcome_label
from sim.figures.saving import check_formats, file_stem, save_figure
from sim.figures.style import (
    DPI,
    INK,
    QUIET,
    WIDTH_IN,
    axes_in,
    draw_head,
    head_height_in,
    luminance,
    subtitle_lines,
    text_width_pt,
)
from sim.figures.sweep_data import (
    HasPath,
    OutcomeData,
    SweepData,
    open_sweep,
    outcome_data,
    resolve_parameter,
)

__all__ = ["Cells", "heatmap_figure", "plot_heatmap"]

RIGHT_IN, BOTTOM_IN = 0.4, 0.75
BAR_W_IN, BAR_GAP_IN, BAR_LABEL_IN = 0.18, 0.25, 0.9
EMPTY = "0.94"
"""Background of cells without runs."""


def plot_heatmap(
    folder: str | Path | HasPath | SweepData,
    outcome: str,
    x: str,
    y: str,
    out: Path | None = None,
    formats: Sequence[str] = ("png", "svg"),
    title: str | None = None,
) -> list[Path]:
    """Draw an outcome's mean (probability for 0/1 outcomes) over two parameters; return files.

    Cells are annotated with their value (and their run count when counts differ); a design
    that is not a grid has both parameters cut into quantile bins. Files are
    `heatmap-<outcome>-<x>-<y>.*`.
    """
    formats = check_formats(formats)
    sweep = open_sweep(folder)
    x = resolve_parameter(sweep, x)
    y = resolve_parameter(sweep, y)
    if x == y:
        raise ResultsError(f"--x and --y are the same parameter ({x})")
    data = outcome_data(sweep, outcome)
    cells = Cells.of(
        data,
        group_values(data.rows[x], x, max_exact=data.max_exact),
        group_values(data.rows[y], y, max_exact=data.max_exact),
    )
    fig = heatmap_figure(data, cells, title)
    stem = file_stem("heatmap", data.outcome, x, y)
    return save_figure(fig, Path(out) if out is not None else sweep.path, stem, formats)


@dataclass(frozen=True)
class Cells:
    """The outcome's mean and run count in each (y group, x group) cell."""

    gx: Groups
    gy: Groups
    mean: NDArray[np.float64]
    count: NDArray[np.int64]

    @classmethod
    def of(cls, data: OutcomeData, gx: Groups, gy: Groups) -> Cells:
        """Cells of `data` grouped by `gx` across and `gy` up."""
        v = data.values.to_numpy(dtype=float)
        mean = np.full((len(gy.labels), len(gx.labels)), np.nan)
        count = np.zeros_like(mean, dtype=np.int64)
        for i in range(len(gy.labels)):
            for j in range(len(gx.labels)):
                cell = v[(gy.codes == i) & (gx.codes == j)]
                count[i, j] = len(cell)
                if len(cell):
                    mean[i, j] = cell.mean()
        return cls(gx, gy, mean, count)

    @property
    def even(self) -> bool:
        """Whether every cell with runs has the same number of them."""
        filled = self.count[self.count > 0]
        return len(filled) > 0 and bool((filled == filled[0]).all())


def _colour_scale(
    outcome: str, mean: NDArray[np.float64], binary: bool
) -> tuple[Colormap, Normalize]:
    """The colour map and its range for an outcome."""
    viridis = mpl.colormaps["viridis"]
    if binary:
        return viridis, Normalize(0.0, 1.0)
    if is_tilt(outcome):
        # Tilt has a meaning at 0 (neither power): a diverging map centred there.
        lim = float(np.nanmax(np.abs(mean))) or 1.0
        return mpl.colormaps["RdBu_r"], TwoSlopeNorm(0.0, -lim, lim)
    if is_bloc(outcome):
        return viridis, Normalize(0.0, 2.0)  # none .. member
    lo, hi = float(np.nanmin(mean)), float(np.nanmax(mean))
    return viridis, Normalize(lo, hi if hi > lo else lo + 1.0)


def heatmap_figure(data: OutcomeData, cells: Cells, title: str | None = None) -> Figure:
    """The heatmap of `cells` (not saved)."""
    binary = is_binary(data.outcome, data.values)
    ny, _ = cells.mean.shape
    sub = f"Cells: {'share of' if binary else 'mean over'} {data.nouns}"
    if cells.even:
        sub += f", {int(cells.count.max())} {data.nouns} each."
    else:
        sub += f"; {data.noun} count below each value."
    runs = f"{len(data.rows)} {data.nouns}. {grouping_note([cells.gx, cells.gy], data.sweep)}"
    if data.level_note:
        runs += f" {data.level_note}"
    lines = subtitle_lines(sub, runs, note=data.note())
    # The left margin fits the longest row label (bin labels can be long).
    left_in = 0.45 + max(text_width_pt(cells.gy.labels, 8.0)) / 72 + 0.1
    main_h = max(2.0, min(0.6, 4.2 / ny) * ny)
    height = head_height_in(lines) + 0.2 + main_h + BOTTOM_IN
    fig = Figure(figsize=(WIDTH_IN, height), dpi=DPI)
    main_w = WIDTH_IN - left_in - RIGHT_IN - BAR_W_IN - BAR_GAP_IN - BAR_LABEL_IN
    ax = axes_in(fig, left_in, BOTTOM_IN, main_w, main_h)
    cax = axes_in(fig, left_in + main_w + BAR_GAP_IN, BOTTOM_IN, BAR_W_IN, main_h)
    draw_head(
        fig,
        height,
        left_in,
        title or f"{data.sweep.scenario.meta.name} sweep: {data.outcome}",
        lines,
    )
    cmap, norm = _colour_scale(data.outcome, cells.mean, binary)
    image = ax.imshow(
        np.ma.masked_invalid(cells.mean),
        cmap=cmap,
        norm=norm,
        origin="lower",
        aspect="auto",
        interpolation="nearest",
    )
    ax.set_facecolor(EMPTY)
    empty = "no points" if data.unit == "point" else "no runs"  # short: it fits a small cell
    _annotate(ax, cells, cmap, norm, binary, empty)
    _cell_axes(ax, cells)
    bar = fig.colorbar(image, cax=cax)
    powers = data.sweep.scenario.rules.alignment.tilt_powers
    _colour_bar(bar, outcome_label(data.outcome, powers), binary)
    return fig


def _annotate(
    ax: Axes, cells: Cells, cmap: Colormap, norm: Normalize, binary: bool, empty: str
) -> None:
    """Each cell's value (and run count when counts differ), in ink that reads on its colour;
    `empty` in cells without any."""
    ny, nx = cells.mean.shape
    size = 9.0 if nx * ny <= 64 else 7.0
    for i in range(ny):
        for j in range(nx):
            if cells.count[i, j] == 0:
                ax.text(j, i, empty, ha="center", va="center", fontsize=7, color=QUIET)
                continue
            value = cells.mean[i, j]
            text = f"{value:.0%}" if binary else f"{value:.3g}"
            if not cells.even:
                text += f"\nn={cells.count[i, j]}"
            # Dark ink on light cells and white on dark ones.
            ink = "white" if luminance(cmap(norm(value))) < 0.5 else INK
            ax.text(j, i, text, ha="center", va="center", fontsize=size, color=ink)


def _cell_axes(ax: Axes, cells: Cells) -> None:
    """Group labels on both axes, the parameters as axis titles, no spines."""
    ny, nx = cells.mean.shape
    ax.set_xticks(range(nx), cells.gx.labels)
    ax.set_yticks(range(ny), cells.gy.labels)
    ax.set_xlabel(cells.gx.title, fontsize=9)
    ax.set_ylabel(cells.gy.title, fontsize=9)
    ax.tick_params(labelsize=8, length=0)
    for side in ax.spines.values():
        side.set_visible(False)


def _colour_bar(bar: Colorbar, label: str, binary: bool) -> None:
    """The colour bar, labelled with the outcome (wrapped to fit beside it)."""
    bar.ax.tick_params(labelsize=8)
    if binary:
        bar.ax.yaxis.set_major_formatter(PercentFormatter(1.0))
    if len(label) > 34 and " (" in label:
        label = label.replace(" (", "\n(", 1)  # the explanation in brackets on its own line
    wrapped = [w for part in label.split("\n") for w in textwrap.wrap(part, 40)]
    bar.set_label("\n".join(wrapped), fontsize=8.5)
    bar.outline.set_visible(False)
