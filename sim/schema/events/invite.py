"""`invite`: a bloc invites a state, which answers (now or after `answer_months`) and, if it
accepts, accedes (now or after `accession_months`, confirming then).

An answer to an application (`solicited`, the default) is an acceptance unless membership has
lost value to the state; an unsought offer is accepted with the probability the state's join
hazard gives over a year. The invitation is an input; the answer is the model's."""

from __future__ import annotations

from typing import Literal

from sim.loader import Key
from sim.schema.base import Months
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
    solicited: bool = True
    """Whether the state applied (the invitation answers its application: it accepts unless
    membership has lost value) or the offer is unsought (it accepts with the probability its
    join hazard gives over a year)."""
    answer_months: Months = 0
    """Months the state takes to answer; the answer reads the world as it is then (at most
    2400)."""
    accession_months: Months = 0
    """Months from an acceptance to accession; at accession the state confirms with the same
    rule, so a change in between (a new government) can reverse the answer (at most 2400)."""

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
        world.invite(
            self.bloc,
            world.state_index[self.state],
            self.status,
            eid,
            solicited=self.solicited,
            answer_months=self.answer_months,
            accession_months=self.accession_months,
        )
