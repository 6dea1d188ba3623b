"""Figures of a finished run folder (compatibility front for `sim.figures`).

`plot_alignment` (a variable per state over time, replicate bands, dated events in a strip),
`plot_alignment_grid` (small multiples, one panel per state) and `plot_blocs` (bloc-membership
timeline) each write `<name>.png` / `<name>.svg` and return the paths. They live in
`sim.figures`, one module per figure kind; this module re-exports their public names so that
`sim.plots.plot_alignment(folder)` and existing imports keep working.
"""

from __future__ import annotations

from sim.figures.alignment import (
    FEW_STATES,
    MAX_HIGHLIGHT,
    choose_states,
    plot_alignment,
)
from sim.figures.blocs import plot_blocs
from sim.figures.grid import plot_alignment_grid
from sim.figures.marks import MARKED_KINDS, Mark, marked_events, scenario_states
from sim.figures.panels import Panel
from sim.figures.saving import check_formats, save_figure
from sim.figures.style import draw_title, state_colour

__all__ = [
    "FEW_STATES",
    "MARKED_KINDS",
    "MAX_HIGHLIGHT",
    "Mark",
    "Panel",
    "check_formats",
    "choose_states",
    "draw_title",
    "marked_events",
    "plot_alignment",
    "plot_alignment_grid",
    "plot_blocs",
    "save_figure",
    "scenario_states",
    "state_colour",
]
