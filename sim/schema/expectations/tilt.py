"""`tilt`: a state's tilt at a date, against a level or against its tilt at an earlier date."""

from __future__ import annotations

from typing import Literal

from pydantic import model_validator

from sim.loader import Key
from sim.schema.base import Month, TiltCeiling, TiltFloor
from sim.schema.effects import RunRecord
from sim.schema.expectations.base import ExpectBase
from sim.schema.refs import Refs


class TiltExpect(ExpectBase):
    """A state's tilt at `by`: above/below a level, or higher/lower than at `since`."""

    type: Literal["tilt"]
    state: str
    """State."""
    above: TiltFloor | None = None
    """Tilt at `by` must exceed this (a finite number; 1 or more, or below -1, warns: a tilt
    lies in [-1, 1], so the comparison would be settled before any run)."""
    below: TiltCeiling | None = None
    """Tilt at `by` must be below this (finite; -1 or less, or above 1, warns)."""
    since: Month | None = None
    """Compare with the tilt at this date (needs `direction`)."""
    direction: Literal["up", "down"] | None = None
    """`up`: tilt at `by` > tilt at `since` (toward the second tilt power)."""

    examples = (
        ({"state": "BOL", "above": -1.0, "by": "2025-06"}, True),
        ({"state": "BOL", "above": 1.0, "by": "2025-06"}, False),
        ({"state": "BOL", "below": 1.0, "by": "2025-06"}, True),
        ({"state": "BOL", "since": "2025-02", "direction": "up", "by": "2025-06"}, True),
        ({"state": "BOL", "since": "2025-02", "direction": "down", "by": "2025-06"}, False),
    )

    @model_validator(mode="after")
    def _some(self) -> TiltExpect:
        if self.above is None and self.below is None and self.direction is None:
            raise ValueError("give `above`, `below`, or `since` with `direction`")
        if (self.since is None) != (self.direction is None):
            raise ValueError("`since` and `direction` go together")
        return self

    def check(self, refs: Refs, path: Key) -> None:
        super().check(refs, path)
        refs.state(self.state, (*path, "state"))
        refs.date(self.since, (*path, "since"))

    def evaluate(self, run: RunRecord) -> bool:
        i = run.states.index(self.state)
        tilt = run.data[run.step_at(self.by), i, 0]
        ok = True
        if self.above is not None:
            ok &= bool(tilt > self.above)
        if self.below is not None:
            ok &= bool(tilt < self.below)
        if self.since is not None:
            before = run.data[run.step_at(self.since), i, 0]
            ok &= bool(tilt > before) if self.direction == "up" else bool(tilt < before)
        return ok
