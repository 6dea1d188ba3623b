"""`pledge`: a one-off investment or loan that lands in full in its month."""

from __future__ import annotations

from typing import Literal

import numpy as np

from sim.loader import Key
from sim.schema.base import Money
from sim.schema.effects import Effect, World
from sim.schema.events.base import EventBase
from sim.schema.refs import Refs


class PledgeEvent(EventBase):
    """A one-off investment or loan pledge that lands in full this step."""

    type: Literal["pledge"]
    power: str
    """Power pledging."""
    state: str
    """Recipient."""
    kind: Literal["fdi", "loan"]
    """Direct investment or loan."""
    amount: Money
    """US$ (0, or 1 to 1e16)."""

    example = {
        "lithium": {
            "type": "pledge",
            "date": "2025-03",
            "power": "CHN",
            "state": "BOL",
            "kind": "fdi",
            "amount": 5e9,
        }
    }
    effect = Effect(state="BOL", variable="fdi.CHN", direction="up")

    def check(self, refs: Refs, path: Key) -> None:
        super().check(refs, path)
        refs.power(self.power, (*path, "power"))
        refs.state(self.state, (*path, "state"))

    def apply(self, world: World, eid: str) -> None:
        i, j = world.state_index[self.state], world.power_index[self.power]
        stock = world.economy.fdi if self.kind == "fdi" else world.economy.debt
        stock[i, j] = np.nansum([stock[i, j], self.amount])  # an unknown stock becomes known
        world.note(
            "pledge", self.power, self.state, event=eid, capital=self.kind, amount=self.amount
        )
