"""`threat_outcome`: a threat from a sender to a target ended a given way by a date."""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

from sim.loader import Key
from sim.schema.effects import RunRecord
from sim.schema.expectations.base import ExpectBase
from sim.schema.refs import Refs

if TYPE_CHECKING:
    from sim.schema.scenario import Scenario


class ThreatOutcomeExpect(ExpectBase):
    """A threat from `sender` to `target` ended with `outcome` by `by`."""

    type: Literal["threat_outcome"]
    sender: str
    """Power."""
    target: str
    """State."""
    outcome: Literal["complied", "defied", "imposed", "backed_down", "lifted"]
    """Outcome that must have happened (`lifted`: imposed, then lifted by a `tariff_lift`)."""

    examples = (
        ({"sender": "USA", "target": "MEX", "outcome": "complied", "by": "2025-06"}, True),
        ({"sender": "USA", "target": "MEX", "outcome": "defied", "by": "2025-06"}, False),
        ({"sender": "USA", "target": "MEX", "outcome": "complied", "by": "2025-02"}, False),
    )

    def check(self, refs: Refs, path: Key) -> None:
        super().check(refs, path)
        refs.power(self.sender, (*path, "sender"))
        refs.state(self.target, (*path, "target"))

    def status_quo(self, scenario: Scenario) -> bool:
        # nothing changes: the target keeps its policy and the sender does not act
        return self.outcome in ("defied", "backed_down")

    def evaluate(self, run: RunRecord) -> bool:
        k = run.step_at(self.by)
        # the state answers (complied, defied); the power acts (imposed, backed_down, lifted)
        by_state = self.outcome in ("complied", "defied")
        actor, other = (self.target, self.sender) if by_state else (self.sender, self.target)
        return any(
            row["kind"] == self.outcome
            and row["actor"] == actor
            and row["target"] == other
            and row["step"] <= k
            for row in run.log
        )
