"""The look every figure shares: page size, inks, fonts, title and subtitle, tidy axes, colours.

A state's colour depends on its ISO3 code alone (`state_colour`), never on which other states a
figure shows, so Panama is the same orange in the alignment figure, the small multiples and the
sweep envelopes of every run. The codes the project uses have a fixed entry in `STATE_COLOURS`;
any other code gets a palette colour chosen by a stable hash of the code.

Sizes are in inches and points: a figure is `WIDTH_IN` wide and as tall as its parts need, and
axes are placed by their margins in inches (`axes_in`), so text keeps its size whatever the
figure's height.
"""

from __future__ import annotations

import zlib
from collections.abc import Mapping, Sequence
from types import MappingProxyType
from typing import Any

import matplotlib as mpl
import matplotlib.dates as mdates
import numpy as np
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import RendererAgg
from matplotlib.colors import to_rgba
from matplotlib.figure import Figure
from matplotlib.font_manager import FontProperties
from numpy.typing import NDArray

__all__ = [
    "BLOC_COLOURS",
    "CONTEXT",
    "DPI",
    "EVENT_LINE",
    "INK",
    "PALETTE",
    "QUIET",
    "RGBA",
    "STATE_COLOURS",
    "SUBTITLE_PT",
    "TITLE_PT",
    "WARN",
    "WIDTH_IN",
    "axes_in",
    "date_axis",
    "draw_head",
    "draw_subtitle",
    "draw_title",
    "head_height_in",
    "luminance",
    "sequential",
    "small_multiples",
    "state_colour",
    "subtitle_lines",
    "text_width_pt",
    "tidy",
    "tint",
    "wrap_text",
    "y_grid",
]

RGBA = tuple[float, float, float, float]

DPI = 150
WIDTH_IN = 10.0
"""Width of every figure; heights follow from the content."""
INK = "0.15"
"""Titles, labels and event text."""
QUIET = "0.55"
"""Subtitles and notes."""
WARN = "#a34a00"
"""Subtitle lines that say what a figure leaves out (failed runs, missing values)."""
CONTEXT = "0.8"
"""Lines drawn only for context (the other states' medians)."""
EVENT_LINE: dict[str, Any] = {"color": "0.6", "ls": (0, (2, 2)), "zorder": 0.5}
"""The dotted vertical line at the date of a marked event."""
TITLE_PT = 12.0
SUBTITLE_PT = 8.5
SUBTITLE_TOP_IN = 0.38
"""Distance of the first subtitle line from the figure's top edge."""
SUBTITLE_LINE_IN = 0.17

# --------------------------------------------------------------------------- colours

PALETTE: tuple[str, ...] = (
    "#0072B2",  # blue          (Okabe & Ito)
    "#E69F00",  # orange        (Okabe & Ito)
    "#009E73",  # bluish green  (Okabe & Ito)
    "#D55E00",  # vermillion    (Okabe & Ito)
    "#CC79A7",  # reddish purple (Okabe & Ito)
    "#56B4E9",  # sky blue      (Okabe & Ito)
    "#882255",  # wine          (Tol, muted)
    "#999933",  # olive         (Tol, muted)
    "#332288",  # indigo        (Tol, muted)
    "#8C564B",  # brown         (Tableau)
    "#117733",  # green         (Tol, muted)
    "#AA4499",  # purple        (Tol, muted)
)
"""Twelve distinct colours, dark enough to read as text on white: the colour-blind-safe sets of
Okabe & Ito and of Tol (muted), with Tableau's brown in place of Tol's teal, which is too close
to Okabe & Ito's bluish green. No twelve colours all stay apart for every kind of colour
blindness; the label at the end of each line (and the panel titles) say which state is which."""

(
    _BLUE,
    _ORANGE,
    _BLUISH_GREEN,
    _VERMILLION,
    _REDDISH_PURPLE,
    _SKY_BLUE,
    _WINE,
    _OLIVE,
    _INDIGO,
    _BROWN,
    _GREEN,
    _PURPLE,
) = PALETTE

STATE_COLOURS: Mapping[str, str] = MappingProxyType(
    {
        # The article's states and the baseline's other movers, drawn together in the
        # baseline's alignment figure: all different.
        "MEX": _BLUE,
        "PAN": _ORANGE,
        "COL": _BLUISH_GREEN,
        "BRA": _VERMILLION,
        "BOL": _REDDISH_PURPLE,
        "ARG": _SKY_BLUE,
        "CUB": _WINE,
        "IDN": _OLIVE,
        # BRICS members and partners (with BRA, BOL, CUB and IDN above): all different; the
        # twelve of them use every palette colour once.
        "IND": _INDIGO,
        "ZAF": _BROWN,
        "RUS": _GREEN,
        "IRN": _PURPLE,
        "ETH": _SKY_BLUE,
        "EGY": _BLUE,
        "SAU": _BLUISH_GREEN,
        "ARE": _ORANGE,
        # The rest of Latin America: different from every neighbour and, for Guatemala, from
        # the states the no-US-pressure counterfactual shows with it.
        "GTM": _BROWN,
        "VEN": _PURPLE,
        "PER": _GREEN,
        "ECU": _INDIGO,
        "CHL": _BLUE,
        "PRY": _BROWN,
        "URY": _OLIVE,
        "CRI": _SKY_BLUE,
        "NIC": _PURPLE,
        "HND": _VERMILLION,
        "SLV": _INDIGO,
        "DOM": _GREEN,
        # The powers, as the tilt's diverging colour map has them: the United States blue
        # (tilt -1), China red (+1).
        "USA": _BLUE,
        "CHN": _VERMILLION,
    }
)
"""Colour of each state the project's scenarios use, by ISO3 code."""


def state_colour(iso3: str) -> str:
    """The colour of a state in every figure (a hex string), keyed on its ISO3 code alone."""
    fixed = STATE_COLOURS.get(iso3)
    if fixed is not None:
        return fixed
    # crc32, not hash(): Python salts string hashes per process, and the colour must not
    # change between runs.
    return PALETTE[zlib.crc32(iso3.encode("utf-8")) % len(PALETTE)]


BLOC_COLOURS = (
    "tab:red",
    "tab:blue",
    "tab:purple",
    "tab:orange",
    "tab:green",
    "tab:brown",
    "tab:pink",
    "tab:olive",
    "tab:cyan",
)
"""Colours of blocs in the bloc timeline, in the order the run lists its blocs."""


def tint(colour: str, amount: float) -> RGBA:
    """`colour` mixed with white (amount 0: unchanged, 1: white)."""
    r, g, b, _ = to_rgba(colour)
    return (r + (1 - r) * amount, g + (1 - g) * amount, b + (1 - b) * amount, 1.0)


def sequential(n: int) -> list[RGBA]:
    """`n` colours from dark to light along viridis (its palest yellows left out)."""
    cmap = mpl.colormaps["viridis"]
    if n == 1:
        return [to_rgba(cmap(0.35))]
    return [to_rgba(cmap(0.05 + 0.8 * i / (n - 1))) for i in range(n)]


# --------------------------------------------------------------------------- text


def text_width_pt(texts: Sequence[str], size: float) -> list[float]:
    """Width of each text in points at font `size`, measured without making a figure."""
    # A bare Agg renderer at 72 dpi measures in points.
    renderer = RendererAgg(10, 10, 72)  # type: ignore[no-untyped-call]
    prop = FontProperties(size=size)
    measure = renderer.get_text_width_height_descent
    return [float(measure(t, prop, ismath=False)[0]) for t in texts]  # type: ignore[no-untyped-call]


def wrap_text(text: str, width_in: float = WIDTH_IN - 1.2, size: float = SUBTITLE_PT) -> list[str]:
    """Split a text into lines that fit `width_in` inches at font `size`."""
    lines: list[str] = []
    for word in text.split():
        trial = f"{lines[-1]} {word}" if lines else word
        if lines and text_width_pt([trial], size)[0] <= width_in * 72:
            lines[-1] = trial
        else:
            lines.append(word)
    return lines


def draw_title(fig: Figure, left_in: float, top_in: float, height: float, text: str) -> None:
    """The bold title of a figure `height` inches tall, `top_in` inches below its top edge."""
    fig.text(
        left_in / WIDTH_IN,
        1 - top_in / height,
        text,
        fontsize=TITLE_PT,
        fontweight="bold",
        ha="left",
        va="top",
        color=INK,
    )


def draw_subtitle(
    fig: Figure, left_in: float, top_in: float, height: float, text: str, colour: str = QUIET
) -> None:
    """One line of subtitle, `top_in` inches below the top edge."""
    fig.text(
        left_in / WIDTH_IN,
        1 - top_in / height,
        text,
        fontsize=SUBTITLE_PT,
        color=colour,
        ha="left",
        va="top",
    )


def subtitle_lines(*texts: str, note: str = "") -> list[tuple[str, str]]:
    """Subtitle lines with their colour: each text wrapped in grey, then the note in orange."""
    lines = [(line, QUIET) for t in texts if t for line in wrap_text(t)]
    return lines + [(line, WARN) for line in wrap_text(note)]


def head_height_in(lines: Sequence[tuple[str, str]]) -> float:
    """Inches a title and its subtitle `lines` take at the top of a figure."""
    return SUBTITLE_TOP_IN + SUBTITLE_LINE_IN * len(lines)


def draw_head(
    fig: Figure, height: float, left_in: float, title: str, lines: Sequence[tuple[str, str]]
) -> None:
    """Title and subtitle lines at the top (`head_height_in(lines)` inches tall)."""
    draw_title(fig, left_in, 0.14, height, title)
    for i, (line, colour) in enumerate(lines):
        draw_subtitle(fig, left_in, SUBTITLE_TOP_IN + SUBTITLE_LINE_IN * i, height, line, colour)


# --------------------------------------------------------------------------- axes


def axes_in(
    fig: Figure,
    left_in: float,
    bottom_in: float,
    width_in: float,
    height_in: float,
    **kwargs: Any,
) -> Axes:
    """Axes placed by inches from the figure's left and bottom edges."""
    fig_w, fig_h = fig.get_size_inches()
    rect = (left_in / fig_w, bottom_in / fig_h, width_in / fig_w, height_in / fig_h)
    return fig.add_axes(rect, **kwargs)


def small_multiples(
    n: int,
    columns: int,
    panel_h_in: float,
    margins_in: tuple[float, float, float, float],
    gaps_in: tuple[float, float],
) -> tuple[Figure, NDArray[Any]]:
    """A figure of `n` panels sharing both axes, `columns` wide; unused panels hidden.

    `margins_in` are (left, right, top, bottom) and `gaps_in` (between rows, between columns).
    """
    left, right, top, bottom = margins_in
    row_gap, col_gap = gaps_in
    ncols = min(columns, n)
    nrows = -(-n // ncols)
    height = top + nrows * panel_h_in + (nrows - 1) * row_gap + bottom
    fig = Figure(figsize=(WIDTH_IN, height), dpi=DPI)
    axes = fig.subplots(nrows, ncols, sharex=True, sharey=True, squeeze=False)
    panel_w = (WIDTH_IN - left - right) / ncols
    fig.subplots_adjust(
        left=left / WIDTH_IN,
        right=1 - right / WIDTH_IN,
        bottom=bottom / height,
        top=1 - top / height,
        hspace=row_gap / panel_h_in,
        wspace=col_gap / (panel_w - col_gap),
    )
    for ax in axes.flat[n:]:
        ax.set_visible(False)
    return fig, axes


def tidy(ax: Axes, labelsize: float = 8.0, hide: Sequence[str] = ("top", "right")) -> None:
    """Tick labels at `labelsize` and the `hide` spines removed."""
    ax.tick_params(labelsize=labelsize)
    for side in hide:
        ax.spines[side].set_visible(False)


def y_grid(ax: Axes, colour: str = "0.92", lw: float = 0.7) -> None:
    """Light horizontal grid lines behind the data."""
    ax.grid(axis="y", color=colour, lw=lw, zorder=0)


def date_axis(ax: Axes, maxticks: int = 10) -> None:
    """Dates on the x axis, labelled concisely (year once, then months)."""
    # matplotlib.dates has no type hints.
    locator = mdates.AutoDateLocator(minticks=3, maxticks=maxticks)  # type: ignore[no-untyped-call]
    ax.xaxis.set_major_locator(locator)
    ax.xaxis.set_major_formatter(mdates.ConciseDateFormatter(locator))  # type: ignore[no-untyped-call]


def luminance(colour: RGBA) -> float:
    """Relative luminance of a colour (0 black, 1 white), to pick ink that reads on it."""
    r, g, b, _ = colour
    return float(np.dot((0.2126, 0.7152, 0.0722), (r, g, b)))
