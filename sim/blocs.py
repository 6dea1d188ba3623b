"""Bloc membership at run time: status arrays, ties to leaders, accession."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from sim.schema.world import BLOC_STATUS, Bloc

STATUS_CODES = BLOC_STATUS
NONE, PARTNER, MEMBER = BLOC_STATUS["none"], BLOC_STATUS["partner"], BLOC_STATUS["member"]
STATUS_NAMES = {v: k for k, v in STATUS_CODES.items()}


@dataclass
class Pending:
    """An invitation in flight: the answer or the accession falls due at step `due`."""

    status: int
    """Status offered."""
    due: int
    stage: str
    """`answer` (the state has yet to answer) or `accession` (it accepted; it confirms)."""
    solicited: bool
    accession_steps: int
    reason: str
    reference: float | None = None
    """The value of membership when the state accepted (set at the answer; the confirmation at
    accession compares against it)."""


@dataclass
class BlocState:
    """One bloc during a run: who is in it (states only; powers' memberships are fixed)."""

    code: str
    leader: int
    """Index of the leading power."""
    open: bool
    """Open accession (states join at will) versus invitation only."""
    status: NDArray[np.int8]
    """Per state: 0 none, 1 partner, 2 member."""
    pending: dict[int, Pending]
    """Invitations in flight, by state index."""
    since: NDArray[np.int64]
    """Step at which each state's current membership began (0: at the start)."""
    term_steps: int | None
    """A membership's term in steps (renewal dates), None if open-ended."""

    @classmethod
    def build(
        cls,
        code: str,
        spec: Bloc,
        states: dict[str, int],
        powers: dict[str, int],
        unit_months: int = 1,
    ) -> BlocState:
        """Initial state from the scenario's bloc section."""
        status = np.zeros(len(states), dtype=np.int8)
        for m in spec.partners:
            if m in states:
                status[states[m]] = PARTNER
        for m in spec.members:
            if m in states:
                status[states[m]] = MEMBER
        term = None
        if spec.term_years is not None:
            term = max(1, round(spec.term_years * 12 / unit_months))
        since = np.zeros(len(states), dtype=np.int64)
        return cls(code, powers[spec.leader], spec.accession == "open", status, {}, since, term)

    def renewing(self, step: int) -> NDArray[np.bool_]:
        """Members whose term ends at this step (none for an open-ended bloc)."""
        if self.term_steps is None:
            return np.zeros(self.status.shape, dtype=bool)
        served = step - self.since
        due = (self.status > NONE) & (served > 0) & (served % self.term_steps == 0)
        return np.asarray(due, dtype=bool)

    def weights(self, partner_weight: float) -> NDArray[np.float64]:
        """Each state's weight in the bloc: member 1, partner `partner_weight`, else 0."""
        return np.where(
            self.status == MEMBER, 1.0, np.where(self.status == PARTNER, partner_weight, 0.0)
        )

    def in_bloc(self) -> NDArray[np.bool_]:
        """Mask of states that are members or partners."""
        return self.status > NONE


def leader_ties(
    blocs: list[BlocState], n_states: int, n_powers: int, partner_weight: float
) -> NDArray[np.float64]:
    """Each state's tie to each power via the blocs it leads: member 1, partner `partner_weight`."""
    ties = np.zeros((n_states, n_powers))
    for b in blocs:
        ties[:, b.leader] += b.weights(partner_weight)
    return ties
