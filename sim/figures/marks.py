"""Dated events marked on run figures: which kinds, their words, markers and the state they mark.

An event is marked when the same event (kind, actor, target, step) happens in at least half of
the replicates, so one-off draws of a stochastic run do not clutter a figure. Each marked kind
is registered once in `MARK_STYLES` with everything a figure needs to show it.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

import numpy as np
import pandas as pd

from sim.figures.panels import to_dates
from sim.scenario import Scenario
from sim.vocabulary import LogKind

__all__ = [
    "MARKED_KINDS",
    "MARK_STYLES",
    "Mark",
    "MarkStyle",
    "marked_events",
    "scenario_states",
]

Details = list[dict[str, Any]]
"""The `details` of one event, one dict per replicate that saw it."""


def _mode(values: Iterable[Any]) -> Any:
    items = list(values)
    return max(set(items), key=items.count) if items else None


def _threat_text(actor: str, target: str, details: Details) -> str:
    return f"{actor}→{target} threat"


def _tariff_text(actor: str, target: str, details: Details) -> str:
    rate = _mode(d.get("rate") for d in details)
    pct = f" {float(rate):.0%}" if isinstance(rate, int | float) else ""
    return f"{actor} tariff{pct} on {target}"


def _left_text(actor: str, target: str, details: Details) -> str:
    return f"{actor} left {target}"


def _joined_text(actor: str, target: str, details: Details) -> str:
    status = _mode(d.get("status") for d in details)
    return f"{actor} joined {target}" + (" as partner" if status == "partner" else "")


@dataclass(frozen=True)
class MarkStyle:
    """How one kind of event is shown."""

    marker: str
    """matplotlib marker."""
    legend: str
    """What the marker means on a panel about one state (the small multiples' legend)."""
    about_target: bool
    """Whether the event is about its target (threats, tariffs) rather than its actor."""
    text: Callable[[str, str, Details], str]
    """The words by the marker: (actor, target, details) -> text."""


MARK_STYLES: Mapping[LogKind, MarkStyle] = MappingProxyType(
    {
        LogKind.THREAT: MarkStyle("v", "threat received", True, _threat_text),
        LogKind.TARIFF_IMPOSED: MarkStyle("s", "tariff imposed on it", True, _tariff_text),
        LogKind.LEFT: MarkStyle("X", "left a bloc", False, _left_text),
        LogKind.JOINED: MarkStyle("P", "joined a bloc", False, _joined_text),
    }
)
"""The event kinds marked on run figures, in the order they stack on one date."""

MARKED_KINDS: tuple[LogKind, ...] = tuple(MARK_STYLES)
"""Event kinds marked on the alignment figure, in the order they stack on one date."""


@dataclass(frozen=True)
class Mark:
    """A dated event seen in at least half of the replicates."""

    kind: LogKind
    date: np.datetime64
    state: str
    text: str
    share: float

    @property
    def style(self) -> MarkStyle:
        """How the mark's kind is shown."""
        return MARK_STYLES[self.kind]

    @property
    def label(self) -> str:
        """The text shown: the share of replicates is added when not all show the event."""
        return self.text if self.share >= 0.999 else f"{self.text} ({self.share:.0%})"


def marked_events(events: pd.DataFrame, replicates: int) -> list[Mark]:
    """Events of `MARKED_KINDS` that happen at the same step in at least half the replicates."""
    ev = events.loc[events["kind"].astype(str).isin([str(k) for k in MARKED_KINDS])]
    marks: list[Mark] = []
    for (kind, actor, target, _step), grp in ev.groupby(["kind", "actor", "target", "step"]):
        seen = grp["replicate"].nunique()
        if 2 * seen < replicates:
            continue
        style = MARK_STYLES[LogKind(str(kind))]
        details = [json.loads(d) if d else {} for d in grp["details"]]
        a, t = str(actor), str(target)
        marks.append(
            Mark(
                kind=LogKind(str(kind)),
                date=to_dates([grp["date"].iloc[0]])[0],
                state=t if style.about_target else a,
                text=style.text(a, t, details),
                share=seen / replicates,
            )
        )
    order = {k: i for i, k in enumerate(MARKED_KINDS)}
    return sorted(marks, key=lambda m: (m.date, order[m.kind], m.state, m.text))


def scenario_states(scenario: Scenario) -> list[str]:
    """States a scenario's dated events name (targets, visited, joining, leaving, ...)."""
    named: list[str] = []
    for ev in scenario.events.values():
        for attr in ("target", "state"):
            code = getattr(ev, attr, None)
            if isinstance(code, str):
                named.append(code)
        named.extend(getattr(ev, "states", None) or [])
    return [s for s in dict.fromkeys(named) if s in scenario.states]
