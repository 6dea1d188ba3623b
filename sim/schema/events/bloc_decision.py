"""`bloc_decision`: a dated decision point on a bloc (a summit, a renewal vote, a referendum).

Besides the continuous hazard, a scenario can name the month a state decides on a bloc: it joins
(if it can) or leaves with the probability its hazard gives over `horizon_months`, as if that much
deliberation were concentrated on the date. The date is an input; the decision is the model's,
and it is logged with its numbers whichever way it goes.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field

from sim.loader import Key
from sim.schema.effects import Effect, World
from sim.schema.events.base import EventBase
from sim.schema.refs import Refs


class BlocDecisionEvent(EventBase):
    """A dated decision of a state on a bloc (the model decides which way)."""

    type: Literal["bloc_decision"]
    state: str
    """Deciding state."""
    bloc: str
    """Bloc decided on."""
    horizon_months: Annotated[int, Field(gt=0, le=120, strict=True)] = 12
    """Months of hazard the decision concentrates (1 to 120)."""

    example = {
        "summit": {
            "type": "bloc_decision",
            "date": "2025-03",
            "state": "MEX",
            "bloc": "BRI",
        }
    }
    effect = Effect(state="MEX", log_kind="bloc_decision")

    def check(self, refs: Refs, path: Key) -> None:
        super().check(refs, path)
        refs.state(self.state, (*path, "state"))
        refs.bloc(self.bloc, (*path, "bloc"))

    def apply(self, world: World, eid: str) -> None:
        world.decide_on_bloc(self.bloc, world.state_index[self.state], eid, self.horizon_months)
