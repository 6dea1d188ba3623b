"""`orientation_shock`: something outside the ties shifts states' orientation toward powers.

A war nearby, a coup, a scandal, a sanctions regime: the affinity of each named state to each
named power shifts by `shift`. Lasting by default, so the target moves with it and the affinity
stays shifted while the ties stay the same; with `lasting: false` it is a pulse that the ties
pull back.
"""

from __future__ import annotations

from typing import Annotated, Literal

from sim.loader import Key
from sim.schema.base import bounded
from sim.schema.effects import Effect, World
from sim.schema.events.base import EventBase
from sim.schema.refs import Refs


class OrientationShockEvent(EventBase):
    """A shift of states' affinities to powers from outside the ties (lasting by default)."""

    type: Literal["orientation_shock"]
    states: list[str]
    """States shifted."""
    shift: dict[str, Annotated[float, bounded(-1.0, 1.0)]]
    """Change of affinity to each power, in [-1, 1]."""
    lasting: bool = True
    """Whether the target moves too (the shift stays) or only the affinity (it decays back)."""
    source: str
    """Id in `meta.sources` of the evidence for the shock and its size."""

    example = {
        "war_nearby": {
            "type": "orientation_shock",
            "date": "2025-03",
            "states": ["BOL"],
            "shift": {"USA": -0.1},
            "source": "example",
        }
    }
    effect = Effect(state="BOL", variable="affinity.USA", direction="down")

    def check(self, refs: Refs, path: Key) -> None:
        super().check(refs, path)
        for k, code in enumerate(self.states):
            refs.state(code, (*path, "states", k))
        for p in self.shift:
            refs.power(p, (*path, "shift", p))
        refs.source(self.source, (*path, "source"))

    def apply(self, world: World, eid: str) -> None:
        al = world.alignment
        for code in self.states:
            i = world.state_index[code]
            for p, shift in self.shift.items():
                j = world.power_index[p]
                al.affinity[i, j] = min(1.0, max(0.0, al.affinity[i, j] + shift))
                if self.lasting:
                    al.orientation[i, j] += shift
            world.note(
                "orientation_shock",
                code,
                "",
                event=eid,
                shift=dict(self.shift),
                lasting=self.lasting,
                source=self.source,
                label=self.label,
            )
