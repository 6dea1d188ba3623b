"""`government_change`: a new government shifts affinities (and may change sovereignty).

By default the shift is a pulse: the affinity jumps and then returns toward the target its ties
set. With `lasting: true` the shift also moves the target (a new government's lasting
orientation), so the affinity stays shifted while the ties stay the same.
"""

from __future__ import annotations

from typing import Annotated, Literal

from sim.loader import Key
from sim.schema.base import Factor, bounded
from sim.schema.effects import Effect, World
from sim.schema.events.base import EventBase
from sim.schema.refs import Refs


class GovernmentChangeEvent(EventBase):
    """A change of government: a shock to affinities (and optionally to sovereignty sensitivity)."""

    type: Literal["government_change"]
    state: str
    """State."""
    shift: dict[str, Annotated[float, bounded(-1.0, 1.0)]]
    """Change of affinity to each power."""
    sovereignty: Factor | None = None
    """New sovereignty sensitivity, if it changes (at most 1000)."""
    lasting: bool = False
    """Whether the shift also moves the target affinity for good (a lasting orientation) rather
    than decaying back toward what the ties set."""

    example = {
        "election": {
            "type": "government_change",
            "date": "2025-03",
            "state": "BOL",
            "shift": {"CHN": 0.3},
        }
    }
    effect = Effect(state="BOL", variable="affinity.CHN", direction="up")

    def check(self, refs: Refs, path: Key) -> None:
        super().check(refs, path)
        refs.state(self.state, (*path, "state"))
        for p in self.shift:
            refs.power(p, (*path, "shift", p))

    def apply(self, world: World, eid: str) -> None:
        i = world.state_index[self.state]
        affinity = world.alignment.affinity
        for p, shift in self.shift.items():
            j = world.power_index[p]
            affinity[i, j] = min(1.0, max(0.0, affinity[i, j] + shift))
            if self.lasting:
                world.alignment.orientation[i, j] += shift
        if self.sovereignty is not None:
            world.alignment.sovereignty[i] = self.sovereignty
        world.note(
            "government_change",
            self.state,
            "",
            event=eid,
            shift=dict(self.shift),
            lasting=self.lasting,
            label=self.label,
        )
