"""`invite`: a bloc invites a state, which accepts unless membership has lost value to it."""

from __future__ import annotations

from typing import Literal

from sim.loader import Key
from sim.schema.effects import Effect, World
from sim.schema.events.base import EventBase
from sim.schema.refs import Refs


class InviteEvent(EventBase):
    """An invitation to a bloc; the state accepts if membership pays."""

    type: Literal["invite"]
    bloc: str
    """Inviting bloc."""
    state: str
    """Invited state."""
    status: Literal["member", "partner"] = "member"
    """Status offered."""

    example = {
        "kazan": {
            "type": "invite",
            "date": "2025-03",
            "bloc": "BRICS",
            "state": "BOL",
            "status": "partner",
        }
    }
    effect = Effect(state="BOL", variable="bloc.BRICS", direction="up")

    def check(self, refs: Refs, path: Key) -> None:
        super().check(refs, path)
        refs.state(self.state, (*path, "state"))
        refs.bloc(self.bloc, (*path, "bloc"))

    def apply(self, world: World, eid: str) -> None:
        world.invite(self.bloc, world.state_index[self.state], self.status, eid)
