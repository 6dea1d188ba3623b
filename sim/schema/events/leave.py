"""`leave`: a state leaves a bloc at a known date (no decision is modelled)."""

from __future__ import annotations

from typing import Literal

from sim.loader import Key
from sim.schema.effects import Effect, Outcome, World
from sim.schema.events.base import EventBase
from sim.schema.refs import Refs


class LeaveEvent(EventBase):
    """A state leaves a bloc (forced: no decision)."""

    type: Literal["leave"]
    state: str
    """Leaving state."""
    bloc: str
    """Bloc left."""

    example = {"exit": {"type": "leave", "date": "2025-03", "state": "PAN", "bloc": "BRI"}}
    effect = Effect(state="PAN", variable="bloc.BRI", direction="down")

    def check(self, refs: Refs, path: Key) -> None:
        super().check(refs, path)
        refs.state(self.state, (*path, "state"))
        refs.bloc(self.bloc, (*path, "bloc"))

    def sets(self) -> tuple[Outcome, ...]:
        return (("membership", self.state, self.bloc),)

    def apply(self, world: World, eid: str) -> None:
        world.set_membership(self.bloc, world.state_index[self.state], "none", "left", event=eid)
