"""What every part of the model shares: its containers, calendar, agents and the event log.

`GeoModel` is assembled from parts by concern (`Coercion`, `Membership`, `Ties`); each part
derives from `ModelBase`, which declares the state they all read (set in `GeoModel.__init__`)
and the few operations every part may call.
"""

from __future__ import annotations

from abc import abstractmethod
from typing import TYPE_CHECKING, Any

import mesa
import numpy as np

from sim.vocabulary import LogKind

if TYPE_CHECKING:
    from sim.agents import GreatPower, State
    from sim.calendar import Calendar
    from sim.containers import (
        AlignmentState,
        BlocsState,
        CoercionState,
        Economy,
        Index,
        PolicyState,
    )
    from sim.events import EventLog
    from sim.schema.parameters import Rules
    from sim.schema.scenario import Scenario


class ModelBase(mesa.Model):  # type: ignore[misc]
    """Declared state of a `GeoModel` and the operations shared by its parts."""

    spec: Scenario
    rules: Rules
    calendar: Calendar
    dt: float
    """Years per step."""
    log: EventLog
    index: Index
    state_index: dict[str, int]
    power_index: dict[str, int]
    n_states: int
    n_powers: int
    economy: Economy
    alignment: AlignmentState
    coercion: CoercionState
    policies: PolicyState
    membership: BlocsState
    state_agents: list[State]
    power_agents: list[GreatPower]

    @property
    def date(self) -> str:
        """Label of the current period."""
        return self.calendar.label(self.steps)

    def note(self, kind: str, actor: str, target: str, **details: Any) -> None:
        """Log an event at the current step."""
        self.log.add(self.steps, self.date, kind, actor, target, **details)

    def set_policy(
        self, i: int, name: str, active: bool, salience: float | str | None = None
    ) -> None:
        """Switch a domestic policy on or off (its column exists from the start)."""
        pol = self.policies
        c = pol.col[name]
        old = pol.active[i, c]
        pol.active[i, c] = float(active)
        if salience is not None:
            pol.salience[i, c] = self.rules.threats.salience_value(salience)
        if old != float(active):
            previous = None if np.isnan(old) else bool(old)
            state = self.index.states[i]
            self.note(LogKind.POLICY_CHANGED, state, name, active=active, previous=previous)

    @abstractmethod
    def set_membership(self, bloc: str, i: int, status: str, verb: str, **details: Any) -> None:
        """Set a state's status in a bloc by name (`none`, `partner`, `member`)."""
