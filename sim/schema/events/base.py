"""What every dated event type has: a date, a label, reference checks, a handler, an example.

A new event type is one module in this package: a subclass of `EventBase` with its fields (the
schema and the format reference come from them), `check` (references), `apply` (what it does to
a running model, through `sim.schema.effects.World`), a minimal `example` and the `effect` that
example must have. Its class then goes into the `Event` union in `sim/schema/events/__init__.py`.
"""

from __future__ import annotations

from abc import abstractmethod
from typing import Any, ClassVar

from sim.loader import Key
from sim.schema.base import Frozen, Month
from sim.schema.effects import Effect, Outcome, World
from sim.schema.refs import Refs


class EventBase(Frozen):
    """Fields and duties shared by every event type."""

    date: Month
    """Month the event happens."""
    label: str = ""
    """Short text for plots and the event log."""

    example: ClassVar[dict[str, dict[str, Any]]]
    """Events (id -> fields) to add to `sim.schema.examples.EXAMPLE_WORLD`; the last one is of
    this type, the others set the stage for it."""
    effect: ClassVar[Effect]
    """What the example's last event must change, against the same run without it."""

    @classmethod
    def type_name(cls) -> str:
        """The `type` value that selects this class."""
        return str(cls.model_fields["type"].annotation.__args__[0])  # type: ignore[union-attr]

    def check(self, refs: Refs, path: Key) -> None:
        """Record problems with what this event names (its date must lie in the horizon)."""
        refs.date(self.date, (*path, "date"))

    def sets(self) -> tuple[Outcome, ...]:
        """Outcomes this event sets directly (`ExpectBase.set_outcome` keys): an expectation about
        one of them is scripted, not reproduced, when the event comes by its date."""
        return ()

    @abstractmethod
    def apply(self, world: World, eid: str) -> None:
        """Carry the event out on a running model (step 1 of the period it falls in)."""
