"""`engagement`: a visit or summit, a pulse of engagement that partly decays and partly stays."""

from __future__ import annotations

from typing import Literal

from sim.loader import Key
from sim.schema.base import Factor
from sim.schema.effects import Effect, World
from sim.schema.events.base import EventBase
from sim.schema.refs import Refs


class EngagementEvent(EventBase):
    """Diplomatic engagement (a visit, a summit): a decaying pulse of engagement."""

    type: Literal["engagement"]
    power: str
    """Power engaging."""
    states: list[str]
    """States engaged."""
    intensity: Factor = 1.0
    """Size of the pulse, in units of the power's baseline engagement (at most 1000)."""

    example = {
        "visit": {
            "type": "engagement",
            "date": "2025-03",
            "power": "CHN",
            "states": ["BOL"],
            "intensity": 5.0,
        }
    }
    effect = Effect(state="BOL", variable="affinity.CHN", direction="up")

    def check(self, refs: Refs, path: Key) -> None:
        super().check(refs, path)
        refs.power(self.power, (*path, "power"))
        for i, code in enumerate(self.states):
            refs.state(code, (*path, "states", i))

    def apply(self, world: World, eid: str) -> None:
        j = world.power_index[self.power]
        al = world.alignment
        keep = world.rules.alignment.engagement_persistence
        for code in self.states:
            # Baseline engagement is 0 where the state has no relations with the power: the
            # visit does not happen, so nothing is added.
            size = self.intensity * al.engagement[world.state_index[code], j]
            al.pulse[world.state_index[code], j] += (1.0 - keep) * size
            al.lasting[world.state_index[code], j] += keep * size
            world.note(
                "engagement",
                self.power,
                code,
                event=eid,
                intensity=self.intensity,
                label=self.label,
            )
