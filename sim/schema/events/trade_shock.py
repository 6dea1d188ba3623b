"""`trade_shock`: from a date, a state's untariffed trade with one partner is scaled for good.

A lasting change of a flow that has nothing to do with tariffs (a pipeline opens, a mine
closes, a port deal moves cargo, a partner's recession): the state's exports to, or imports
from, the partner (a power, or `ROW`, the rest of the world) are multiplied by `factor` from the
event's month on. This is how a scenario changes trade exogenously; tariffs go through `tariff`
and `threat` events instead. The change is not diverted to other partners (diversion in the
trade rules redistributes only what tariffs remove), and later growth, drift and tariffs act on
the new level. The factor must cite a source.
"""

from __future__ import annotations

from typing import Literal

from sim.loader import Key
from sim.schema.base import Multiplier
from sim.schema.effects import Effect, World
from sim.schema.events.base import EventBase
from sim.schema.refs import Refs

REST_OF_WORLD = "ROW"
"""The partner name of the rest of the world (unless a power has that code)."""


class TradeShockEvent(EventBase):
    """A lasting change of a state's untariffed exports to (or imports from) one partner."""

    type: Literal["trade_shock"]
    state: str
    """State whose trade changes."""
    partner: str
    """The partner: a power, or `ROW` for the rest of the world (the state's trade with
    partners that are not powers; 0 unless the state gives `exports_total`/`imports_total`)."""
    flow: Literal["exports", "imports"]
    """Which flow: the state's exports to the partner, or its imports from it."""
    factor: Multiplier
    """Multiplier of the flow from this month on (0.5 halves it, 2 doubles it; above 0, at most
    1000)."""
    source: str
    """Id in `meta.sources` of the evidence for the factor."""

    example = {
        "pipeline": {
            "type": "trade_shock",
            "date": "2025-03",
            "state": "BOL",
            "partner": "CHN",
            "flow": "exports",
            "factor": 2.0,
            "source": "example",
        }
    }
    effect = Effect(state="BOL", variable="exports.CHN", direction="up")

    def check(self, refs: Refs, path: Key) -> None:
        super().check(refs, path)
        refs.state(self.state, (*path, "state"))
        if self.partner != REST_OF_WORLD or self.partner in refs.powers:
            refs.power(self.partner, (*path, "partner"))
        refs.source(self.source, (*path, "source"))

    def apply(self, world: World, eid: str) -> None:
        i = world.state_index[self.state]
        eco = world.economy
        if self.partner in world.power_index:
            j = world.power_index[self.partner]
            flows = eco.export_base if self.flow == "exports" else eco.imports
            before = float(flows[i, j])
            flows[i, j] *= self.factor  # an unknown flow stays unknown
            after = float(flows[i, j])
        else:
            rest = eco.rest_base if self.flow == "exports" else eco.rest_imports
            before = float(rest[i])
            rest[i] *= self.factor
            after = float(rest[i])
        world.note(
            "trade_shock",
            self.state,
            self.partner,
            event=eid,
            flow=self.flow,
            factor=self.factor,
            before=before,
            after=after,
            source=self.source,
        )
