"""`tariff_lift`: the sender lifts a tariff; threats that imposed it end as `lifted`."""

from __future__ import annotations

from typing import Literal

from sim.loader import Key
from sim.schema.effects import Effect, World
from sim.schema.events.base import EventBase
from sim.schema.events.tariff import TariffEvent
from sim.schema.refs import Refs


class TariffLiftEvent(EventBase):
    """A tariff lifted by the sender's decision; threats that imposed it end as `lifted`."""

    type: Literal["tariff_lift"]
    sender: str
    """Power lifting the tariff."""
    target: str
    """State relieved."""

    example = {
        **TariffEvent.example,  # the tariff the lift removes
        "truce": {"type": "tariff_lift", "date": "2025-06", "sender": "USA", "target": "MEX"},
    }
    effect = Effect(state="MEX", variable="tariff.USA", direction="down")

    def check(self, refs: Refs, path: Key) -> None:
        super().check(refs, path)
        refs.power(self.sender, (*path, "sender"))
        refs.state(self.target, (*path, "target"))

    def apply(self, world: World, eid: str) -> None:
        world.lift_tariff(world.state_index[self.target], world.power_index[self.sender], eid)
