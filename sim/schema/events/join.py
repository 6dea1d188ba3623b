"""`join`: a state joins a bloc at a known date (no decision is modelled)."""

from __future__ import annotations

from typing import Literal

from sim.loader import Key
from sim.schema.effects import Effect, Outcome, World
from sim.schema.events.base import EventBase
from sim.schema.refs import Refs


class JoinEvent(EventBase):
    """A state joins a bloc (forced: no decision)."""

    type: Literal["join"]
    state: str
    """Joining state."""
    bloc: str
    """Bloc joined."""
    status: Literal["member", "partner"] = "member"
    """Status."""

    example = {
        "partner": {
            "type": "join",
            "date": "2025-03",
            "state": "BOL",
            "bloc": "BRICS",
            "status": "partner",
        }
    }
    effect = Effect(state="BOL", variable="bloc.BRICS", direction="up")

    def check(self, refs: Refs, path: Key) -> None:
        super().check(refs, path)
        refs.state(self.state, (*path, "state"))
        refs.bloc(self.bloc, (*path, "bloc"))

    def sets(self) -> tuple[Outcome, ...]:
        return (("membership", self.state, self.bloc),)

    def apply(self, world: World, eid: str) -> None:
        world.set_membership(
            self.bloc, world.state_index[self.state], self.status, "joined", event=eid
        )
