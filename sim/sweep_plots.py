"""Figures of a sweep folder (compatibility front for `sim.figures`).

`plot_envelopes` (a variable over time per value of one parameter), `plot_outcome` (an
outcome's probability or mean against one parameter) and `plot_heatmap` (an outcome over two
parameters) each write `<stem>.png` / `<stem>.svg` into the sweep folder (or `out`) and return
the paths. They live in `sim.figures`, one module per figure kind; this module re-exports their
public names so existing imports keep working.
"""

from __future__ import annotations

from sim.figures.envelopes import MAX_PANELS, MEAN, plot_envelopes
from sim.figures.groups import BINS, Groups, group_values, wilson
from sim.figures.heatmap import plot_heatmap
from sim.figures.outcome import plot_outcome
from sim.figures.sweep_data import SweepData, open_sweep

__all__ = [
    "BINS",
    "MAX_PANELS",
    "MEAN",
    "Groups",
    "SweepData",
    "group_values",
    "open_sweep",
    "plot_envelopes",
    "plot_heatmap",
    "plot_outcome",
    "wilson",
]
