"""`policy`: a state's domestic policy setting at a date (or at every step up to it)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

import numpy as np

from sim.loader import Key
from sim.schema.effects import Outcome, RunRecord
from sim.schema.expectations.base import ExpectBase
from sim.schema.refs import Refs

if TYPE_CHECKING:
    from sim.schema.scenario import Scenario


class PolicyExpect(ExpectBase):
    """A state's domestic policy setting at `by`."""

    type: Literal["policy"]
    state: str
    """State."""
    policy: str
    """Policy name."""
    active: bool
    """Required setting."""
    throughout: bool = False
    """Require the setting at every simulated step (from the first period) up to `by`."""

    examples = (
        ({"state": "MEX", "policy": "border_enforcement", "active": True, "by": "2025-06"}, True),
        ({"state": "MEX", "policy": "border_enforcement", "active": False, "by": "2025-06"}, False),
        ({"state": "BRA", "policy": "common_currency", "active": True, "by": "2025-06"}, True),
    )

    def check(self, refs: Refs, path: Key) -> None:
        super().check(refs, path)
        refs.state(self.state, (*path, "state"))
        refs.any_policy(self.policy, (*path, "policy"))

    def set_outcome(self) -> Outcome | None:
        return ("policy", self.state, self.policy)

    def status_quo(self, scenario: Scenario) -> bool:
        policy = scenario.states[self.state].policies.get(self.policy)
        return (policy is not None and policy.active) == self.active

    def evaluate(self, run: RunRecord) -> bool:
        c = run.column(f"policy.{self.policy}")
        i = run.states.index(self.state)
        # a policy nobody has is off; an unknown setting reads as off
        values = (
            np.zeros(1)
            if c is None
            else np.nan_to_num(run.data[self.window(run, self.throughout), i, c])
        )
        return bool((values == float(self.active)).all())
