"""`policy_change`: a state switches a domestic policy on or off (a new name creates it)."""

from __future__ import annotations

from typing import Literal

from sim.loader import Key
from sim.schema.base import Salience
from sim.schema.effects import Effect, Outcome, World
from sim.schema.events.base import EventBase
from sim.schema.refs import Refs


class PolicyChangeEvent(EventBase):
    """A state switches a domestic policy on or off."""

    type: Literal["policy_change"]
    state: str
    """State."""
    policy: str
    """Policy name (created if new)."""
    active: bool
    """New setting."""
    salience: Salience | None = None
    """New salience, if it changes (a level name, or a share of GDP at most 100)."""

    example = {
        "unit": {
            "type": "policy_change",
            "date": "2025-03",
            "state": "BRA",
            "policy": "common_currency",
            "active": False,
        }
    }
    effect = Effect(state="BRA", variable="policy.common_currency", direction="down")

    def check(self, refs: Refs, path: Key) -> None:
        super().check(refs, path)
        refs.state(self.state, (*path, "state"))

    def sets(self) -> tuple[Outcome, ...]:
        return (("policy", self.state, self.policy),)

    def apply(self, world: World, eid: str) -> None:
        world.set_policy(world.state_index[self.state], self.policy, self.active, self.salience)
