"""What dated events may read and change in a running model, and what expectations may read.

Event handlers and expectation evaluators are written against these Protocols, not against the
Mesa model, so the schema stays free of the model (an import test holds it to that) and a type
checker sees every handler's use of the model. `sim.model.GeoModel` provides `World`;
`sim.runner` provides `RunRecord`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal, Protocol

import numpy as np
from numpy.typing import NDArray

if TYPE_CHECKING:
    from sim.schema.parameters import Rules
    from sim.schema.world import Demand, Stakes

F = NDArray[np.float64]

Outcome = tuple[str, ...]
"""An outcome an expectation reads and an event may set: ("membership", state, bloc),
("policy", state, policy) or ("tariff", sender, target)."""


class Economy(Protocol):
    """Per (state, power) economic arrays, US$ (NaN where not known)."""

    gdp: F
    export_base: F
    """Exports before tariffs take effect (what trade drift and shocks act on)."""
    imports: F
    fdi: F
    debt: F
    rest_base: F
    """Exports to the rest of the world before diversion."""
    rest_imports: F
    """Imports from the rest of the world."""


class Alignment(Protocol):
    """Per (state, power) affinity and its drivers."""

    affinity: F
    pulse: F
    """Engagement pulses that decay."""
    lasting: F
    """Engagement that stays."""
    engagement: F
    """Each power's baseline engagement with each state (0 without relations)."""
    orientation: F
    """Lasting shift of each target affinity."""
    relations: NDArray[np.bool_]
    """Whether each state has diplomatic relations with each power."""
    sovereignty: F
    """Each state's sensitivity to coercion."""


class World(Protocol):
    """A running model as dated events see it: indices, state containers, and the actions that
    apply outcomes (each logs what it did)."""

    state_index: dict[str, int]
    power_index: dict[str, int]
    economy: Economy
    alignment: Alignment
    rules: Rules

    def note(self, kind: str, actor: str, target: str, **details: Any) -> None:
        """Log a row at the current step."""

    def power_engagement(self, j: int) -> float:
        """Power j's baseline engagement (`powers.<p>.engagement`)."""

    def bloc_members(self, bloc: str) -> list[int]:
        """States that are members or partners of `bloc` now."""

    def threaten(
        self,
        origin: str,
        sender: int,
        target: int,
        demand: Demand,
        stakes: Stakes,
        deadline_months: int,
    ) -> None:
        """A power threatens a state, which answers at once."""

    def set_tariff(self, i: int, j: int, rate: float, reason: str) -> None:
        """Put a tariff of power j on state i in force (0 lifts it)."""

    def impose_tariff(self, i: int, j: int, rate: float, reason: str) -> None:
        """A tariff imposed outright: in force, and remembered as coercion when it rises."""

    def lift_tariff(self, i: int, j: int, reason: str) -> None:
        """Lift a tariff by decision; threats that imposed it end as `lifted`."""

    def invite(
        self,
        bloc: str,
        i: int,
        status: str,
        reason: str,
        *,
        solicited: bool = True,
        answer_months: int = 0,
        accession_months: int = 0,
    ) -> None:
        """A bloc invites a state; the state decides (now or after `answer_months`)."""

    def decide_on_bloc(self, bloc: str, i: int, reason: str, horizon_months: int) -> None:
        """A dated decision point: the state decides now whether to join or leave `bloc`."""

    def set_membership(self, bloc: str, i: int, status: str, verb: str, **details: Any) -> None:
        """Set a state's status in a bloc (`none`, `partner`, `member`)."""

    def set_policy(
        self, i: int, name: str, active: bool, salience: float | str | None = None
    ) -> None:
        """Switch a state's domestic policy."""


class RunRecord(Protocol):
    """One finished run as expectations see it."""

    @property
    def data(self) -> F:
        """(steps + 1, states, variables) recorded values."""

    @property
    def names(self) -> list[str]:
        """Variable names (columns of `data`)."""

    @property
    def states(self) -> list[str]:
        """State codes, in the order of `data`'s rows."""

    @property
    def log(self) -> list[dict[str, Any]]:
        """Event-log rows: step, date, kind, actor, target, details."""

    def step_at(self, date: str) -> int:
        """The step whose period contains `date`."""

    def column(self, name: str) -> int | None:
        """Index of a variable in `data`, or None if the run did not record it."""


@dataclass(frozen=True)
class Effect:
    """The observable effect a type's minimal example must have (checked by a test against the
    same run without the example's last event): the end value of `variable` for `state` moves
    in `direction`, or a log row of `log_kind` appears."""

    state: str
    variable: str | None = None
    direction: Literal["up", "down"] | None = None
    log_kind: str | None = None
