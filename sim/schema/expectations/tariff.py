"""`tariff`: whether a sender's tariff was ever in force on a target up to a date."""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

from sim.loader import Key
from sim.schema.effects import Outcome, RunRecord
from sim.schema.expectations.base import ExpectBase
from sim.schema.refs import Refs

if TYPE_CHECKING:
    from sim.schema.scenario import Scenario


class TariffExpect(ExpectBase):
    """Whether a sender's tariff was ever in force on a target up to `by`."""

    type: Literal["tariff"]
    sender: str
    """Power."""
    target: str
    """State."""
    imposed: bool
    """True: a tariff was in force at some step up to `by`; false: never."""

    examples = (
        ({"sender": "USA", "target": "MEX", "imposed": True, "by": "2025-06"}, True),
        ({"sender": "USA", "target": "BOL", "imposed": True, "by": "2025-06"}, False),
        ({"sender": "USA", "target": "MEX", "imposed": False, "by": "2025-02"}, True),
    )

    def check(self, refs: Refs, path: Key) -> None:
        super().check(refs, path)
        refs.power(self.sender, (*path, "sender"))
        refs.state(self.target, (*path, "target"))

    def set_outcome(self) -> Outcome | None:
        return ("tariff", self.sender, self.target)

    def status_quo(self, scenario: Scenario) -> bool:
        return not self.imposed  # no scenario starts with a tariff in force

    def evaluate(self, run: RunRecord) -> bool:
        c = run.column(f"tariff.{self.sender}")
        assert c is not None, "every power has a tariff column"
        series = run.data[self.window(run, throughout=True), run.states.index(self.target), c]
        return bool((series > 0).any()) == self.imposed
