"""`tariff`: a tariff imposed outright, with no threat first."""

from __future__ import annotations

from typing import Literal

from sim.loader import Key
from sim.schema.base import Tariff
from sim.schema.effects import Effect, Outcome, World
from sim.schema.events.base import EventBase
from sim.schema.refs import Refs


class TariffEvent(EventBase):
    """A tariff imposed outright (no threat first). It counts as coercion: a rise adds coercion
    memory as a carried-out threat does (alignment backlash)."""

    type: Literal["tariff"]
    sender: str
    """Power imposing the tariff."""
    target: str
    """State hit."""
    rate: Tariff
    """Ad-valorem rate (1.0 = 100%; at most 10)."""

    example = {
        "steel": {
            "type": "tariff",
            "date": "2025-03",
            "sender": "USA",
            "target": "MEX",
            "rate": 0.25,
        }
    }
    effect = Effect(state="MEX", variable="tariff.USA", direction="up")

    def check(self, refs: Refs, path: Key) -> None:
        super().check(refs, path)
        refs.power(self.sender, (*path, "sender"))
        refs.state(self.target, (*path, "target"))

    def sets(self) -> tuple[Outcome, ...]:
        return (("tariff", self.sender, self.target),) if self.rate > 0 else ()

    def apply(self, world: World, eid: str) -> None:
        world.impose_tariff(
            world.state_index[self.target], world.power_index[self.sender], self.rate, eid
        )
