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
class BlocState:
    """One bloc during a run: who is in it (states only; powers' memberships are fixed)."""

    code: str
    leader: int
    """Index of the leading power."""
    open: bool
    """Open accession (states join at will) versus invitation only."""
    status: NDArray[np.int8]
    """Per state: 0 none, 1 partner, 2 member."""
    invited: dict[int, int]
    """Pending invitations: state index -> offered status."""

    @classmethod
    def build(
        cls, code: str, spec: Bloc, states: dict[str, int], powers: dict[str, int]
    ) -> BlocState:
        """Initial state from the scenario's bloc section."""
        status = np.zeros(len(states), dtype=np.int8)
        for m in spec.partners:
            if m in states:
                status[states[m]] = PARTNER
        for m in spec.members:
            if m in states:
                status[states[m]] = MEMBER
        return cls(code, powers[spec.leader], spec.accession == "open", status, {})

    def in_bloc(self) -> NDArray[np.bool_]:
        """Mask of states that are members or partners."""
        return self.status > NONE


def leader_ties(
    blocs: list[BlocState], n_states: int, n_powers: int, partner_weight: float
) -> NDArray[np.float64]:
    """Each state's tie to each power via the blocs it leads: member 1, partner `partner_weight`."""
    ties = np.zeros((n_states, n_powers))
    for b in blocs:
        weight = np.where(
            b.status == MEMBER, 1.0, np.where(b.status == PARTNER, partner_weight, 0.0)
        )
        ties[:, b.leader] += weight
    return ties
