"""Per-step records of every state (a preallocated array), and the variables' names."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
from numpy.typing import NDArray

if TYPE_CHECKING:
    from sim.model import GeoModel


def variable_names(powers: list[str], blocs: list[str], policies: list[str]) -> list[str]:
    """Names of the recorded per-state variables, in column order."""
    names = ["tilt"]
    for prefix in ("affinity", "exports", "fdi", "debt", "tariff"):
        names += [f"{prefix}.{p}" for p in powers]
    names += [f"bloc.{b}" for b in blocs]
    names += [f"policy.{name}" for name in policies]
    return names


class Recorder:
    """Copies the model's per-state arrays into a (steps+1, states, variables) buffer."""

    def __init__(self, model: GeoModel) -> None:
        self.model = model
        self.names = variable_names(
            model.power_codes, [b.code for b in model.blocs], model.policy_names
        )
        self.data: NDArray[np.float64] = np.full(
            (model.calendar.steps + 1, model.n_states, len(self.names)), np.nan
        )
        k = model.n_powers
        self._slices = {
            "affinity": slice(1, 1 + k),
            "exports": slice(1 + k, 1 + 2 * k),
            "fdi": slice(1 + 2 * k, 1 + 3 * k),
            "debt": slice(1 + 3 * k, 1 + 4 * k),
            "tariff": slice(1 + 4 * k, 1 + 5 * k),
        }
        nb = len(model.blocs)
        self._blocs = slice(1 + 5 * k, 1 + 5 * k + nb)
        self._policies = slice(1 + 5 * k + nb, len(self.names))

    def record(self, step: int) -> None:
        """Store the state of every state at `step`."""
        m = self.model
        row = self.data[step]
        row[:, 0] = m.tilt()
        row[:, self._slices["affinity"]] = m.affinity
        row[:, self._slices["exports"]] = m.exports
        row[:, self._slices["fdi"]] = m.fdi
        row[:, self._slices["debt"]] = m.debt
        row[:, self._slices["tariff"]] = m.tariff
        for x, b in enumerate(m.blocs):
            row[:, self._blocs.start + x] = b.status
        row[:, self._policies] = m.policy_active
