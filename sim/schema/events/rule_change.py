"""`rule_change`: a behavioural parameter takes a new value from a date on."""

from __future__ import annotations

from typing import Literal

from sim.loader import Key
from sim.schema.effects import Effect, World
from sim.schema.events.base import EventBase
from sim.schema.events.tariff import TariffEvent
from sim.schema.parameters import check_rule_path, with_rule
from sim.schema.refs import Refs


class RuleChangeEvent(EventBase):
    """A rule parameter changes mid-run."""

    type: Literal["rule_change"]
    path: str
    """Path inside `rules`, e.g. `threats.credibility`."""
    value: float | bool
    """New value (held to the parameter's own bounds)."""

    example = {
        **TariffEvent.example,  # the tariff whose impact the new elasticity sets
        "elastic": {
            "type": "rule_change",
            "date": "2025-02",
            "path": "trade.elasticity_short",
            "value": 1.5,
        },
    }
    effect = Effect(state="MEX", variable="exports.USA", direction="down")

    def check(self, refs: Refs, path: Key) -> None:
        super().check(refs, path)
        for where, message in check_rule_path(self.path, self.value, refs.rules):
            refs.bad((*path, where), message)

    def apply(self, world: World, eid: str) -> None:
        world.rules = with_rule(world.rules, self.path, self.value)
        world.note("rule_change", "", "", event=eid, path=self.path, value=self.value)
