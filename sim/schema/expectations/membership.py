"""`membership`: a state's status in a bloc at a date (or at every step up to it)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

from sim.loader import Key
from sim.schema.effects import Outcome, RunRecord
from sim.schema.expectations.base import ExpectBase
from sim.schema.refs import Refs
from sim.schema.world import BLOC_STATUS

if TYPE_CHECKING:
    from sim.schema.scenario import Scenario


class MembershipExpect(ExpectBase):
    """A state's status in a bloc at `by` (or at every step up to `by`)."""

    type: Literal["membership"]
    state: str
    """State."""
    bloc: str
    """Bloc."""
    status: Literal["none", "partner", "member", "any"]
    """Required status; `any` = member or partner."""
    throughout: bool = False
    """Require the status at every simulated step (from the first period) up to `by`."""

    examples = (
        ({"state": "PAN", "bloc": "BRI", "status": "none", "by": "2025-06"}, True),
        ({"state": "PAN", "bloc": "BRI", "status": "any", "by": "2025-06"}, False),
        (
            {
                "state": "BOL",
                "bloc": "BRI",
                "status": "member",
                "by": "2025-06",
                "throughout": True,
            },
            True,
        ),
        (
            {
                "state": "PAN",
                "bloc": "BRI",
                "status": "member",
                "by": "2025-06",
                "throughout": True,
            },
            False,
        ),
    )

    def check(self, refs: Refs, path: Key) -> None:
        super().check(refs, path)
        refs.state(self.state, (*path, "state"))
        refs.bloc(self.bloc, (*path, "bloc"))

    def set_outcome(self) -> Outcome | None:
        return ("membership", self.state, self.bloc)

    def status_quo(self, scenario: Scenario) -> bool:
        bloc = scenario.blocs[self.bloc]
        start = (
            "member"
            if self.state in bloc.members
            else "partner"
            if self.state in bloc.partners
            else "none"
        )
        if self.status == "any":
            return start != "none"
        return start == self.status

    def evaluate(self, run: RunRecord) -> bool:
        c = run.column(f"bloc.{self.bloc}")
        assert c is not None, "every bloc has a column"
        status = run.data[self.window(run, self.throughout), run.states.index(self.state), c]
        if self.status == "any":
            return bool((status > 0).all())
        return bool((status == BLOC_STATUS[self.status]).all())
