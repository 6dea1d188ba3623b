"""What every expectation type has: a date, a required share, reference checks, an evaluator.

A new expectation type is one module in this package: a subclass of `ExpectBase` with its
fields, `check` (references), `evaluate` (does one finished run show the outcome? read through
`sim.schema.effects.RunRecord`) and `examples` (fields with the verdict they must get on the
example run); its class then goes into the `Expect` union in `__init__.py`.
"""

from __future__ import annotations

from abc import abstractmethod
from typing import TYPE_CHECKING, Any, ClassVar

from sim.loader import Key
from sim.schema.base import Frozen, Month, Share
from sim.schema.effects import Outcome, RunRecord
from sim.schema.refs import Refs

if TYPE_CHECKING:
    from sim.schema.scenario import Scenario


class ExpectBase(Frozen):
    """Fields and duties shared by every expectation type."""

    by: Month
    """Date at which the outcome is read."""
    share: Share = 0.8
    """Fraction of replicates that must show the outcome."""
    description: str = ""
    """The outcome in words (for reports)."""
    primary: bool = False
    """The episode's primary outcome: the one `geosim backtest` scores (at most one per
    scenario; a history episode has exactly one)."""

    examples: ClassVar[tuple[tuple[dict[str, Any], bool], ...]]
    """(fields, verdict) pairs on the run of `sim.schema.examples.expectation_world()`: at least
    one true and one false, so an evaluator that ignores the run fails."""

    @classmethod
    def type_name(cls) -> str:
        """The `type` value that selects this class."""
        return str(cls.model_fields["type"].annotation.__args__[0])  # type: ignore[union-attr]

    def check(self, refs: Refs, path: Key) -> None:
        """Record problems with what this expectation names (`by` must lie in the horizon)."""
        refs.date(self.by, (*path, "by"))

    def set_outcome(self) -> Outcome | None:
        """The outcome this expectation reads, as events declare what they set (None: one no
        event sets directly, such as a tilt or a threat's outcome)."""
        return None

    def scripted_by(self, events: dict[str, Any]) -> list[str]:
        """Ids of the events, dated by `by`, that set this expectation's outcome directly."""
        key = self.set_outcome()
        if key is None:
            return []
        return [eid for eid, ev in events.items() if ev.date <= self.by and key in ev.sets()]

    def status_quo(self, scenario: Scenario) -> bool | None:
        """Whether the outcome holds if nothing changes from the start (the backtest's first
        null model); None for an outcome that is not a discrete state of the world (a tilt),
        which cannot be an episode's primary outcome."""
        return None

    def outcome_class(self) -> str:
        """The class of outcome whose base rate the backtest's second null model uses."""
        return self.type_name()

    @abstractmethod
    def evaluate(self, run: RunRecord) -> bool:
        """Whether one finished run shows the outcome."""

    def window(self, run: RunRecord, throughout: bool) -> slice:
        """Steps to read: every simulated step up to `by`, or the step of `by` alone."""
        k = run.step_at(self.by)
        return slice(1, k + 1) if throughout else slice(k, k + 1)
