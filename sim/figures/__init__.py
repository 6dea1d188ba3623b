"""Figures drawn from finished results folders; they never build or run a model.

One module per figure kind, each with a `plot_*` function that reads a folder, draws, writes
`<stem>.png` / `<stem>.svg` (or the formats asked for) and returns the paths:

* runs (`sim.results.RunFolder`): `alignment` (a variable per state over time, replicate bands
  and a strip of dated events), `grid` (small multiples, one panel per state) and `blocs`
  (bloc-membership timeline);
* sweeps (`sim.sweep_folder.SweepFolder`): `envelopes` (a variable over time per value of one
  parameter), `outcome` (an outcome against one parameter) and `heatmap` (an outcome over two).

Shared modules: `style` (the one public style module: layout, inks, fonts, and the colour of
each state, `state_colour`), `panels` (a run's time series as arrays), `marks` (which dated
events are marked, and how), `callouts` (end-of-line labels, the event strip), `labels`
(axis words), `sweep_data` and `groups` (a sweep's runs, grouped, with their statistics) and
`saving` (atomic, reproducible files).

Figures use matplotlib's object-oriented API on private `Figure` objects, so nothing touches
pyplot's global state; each `plot_*` has a `*_figure` builder that returns the figure unsaved.
"""

from __future__ import annotations

from sim.figures.alignment import (
    FEW_STATES,
    MAX_HIGHLIGHT,
    alignment_figure,
    choose_states,
    plot_alignment,
)
from sim.figures.blocs import blocs_figure, plot_blocs
from sim.figures.envelopes import MAX_PANELS, MEAN, envelopes_figure, plot_envelopes
from sim.figures.grid import grid_figure, plot_alignment_grid
from sim.figures.groups import BINS, Groups, group_values, wilson
from sim.figures.heatmap import heatmap_figure, plot_heatmap
from sim.figures.marks import MARKED_KINDS, Mark, marked_events, scenario_states
from sim.figures.outcome import outcome_figure, plot_outcome
from sim.figures.panels import Panel
from sim.figures.saving import check_formats, save_figure
from sim.figures.style import state_colour
from sim.figures.sweep_data import SweepData, open_sweep

__all__ = [
    "BINS",
    "FEW_STATES",
    "MARKED_KINDS",
    "MAX_HIGHLIGHT",
    "MAX_PANELS",
    "MEAN",
    "Groups",
    "Mark",
    "Panel",
    "SweepData",
    "alignment_figure",
    "blocs_figure",
    "check_formats",
    "choose_states",
    "envelopes_figure",
    "grid_figure",
    "group_values",
    "heatmap_figure",
    "marked_events",
    "open_sweep",
    "outcome_figure",
    "plot_alignment",
    "plot_alignment_grid",
    "plot_blocs",
    "plot_envelopes",
    "plot_heatmap",
    "plot_outcome",
    "save_figure",
    "scenario_states",
    "state_colour",
    "wilson",
]
