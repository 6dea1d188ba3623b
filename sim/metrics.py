"""Per-step records of every state (a preallocated array), and the variables' names."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
from numpy.typing import NDArray

from sim.errors import NumericalError
from sim.schema.events.trade_shock import REST_OF_WORLD

if TYPE_CHECKING:
    from sim.model import GeoModel


MAY_BE_UNKNOWN = ("exports.", "fdi.", "debt.", "policy.")
"""Prefixes of variables that are NaN where the scenario gives no figure (a tie given as null, a
policy the state does not have). Every other variable has a value for every state from step 0."""


def variable_names(powers: list[str], blocs: list[str], policies: list[str]) -> list[str]:
    """Names of the recorded per-state variables, in column order (`exports.ROW`: exports to the
    rest of the world, 0 where the state gives no total)."""
    names = ["tilt"]
    for prefix in ("affinity", "exports", "fdi", "debt", "tariff"):
        names += [f"{prefix}.{p}" for p in powers]
    names += [f"exports.{REST_OF_WORLD}"]
    names += [f"bloc.{b}" for b in blocs]
    names += [f"policy.{name}" for name in policies]
    return names


class Recorder:
    """Copies the model's per-state arrays into a (steps+1, states, variables) buffer."""

    def __init__(self, model: GeoModel) -> None:
        self.model = model
        self.names = variable_names(
            model.power_codes, [b.code for b in model.membership.blocs], model.policies.names
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
        nb = len(model.membership.blocs)
        self._rest = 1 + 5 * k
        self._blocs = slice(2 + 5 * k, 2 + 5 * k + nb)
        self._policies = slice(2 + 5 * k + nb, len(self.names))
        self._always_known = np.array([not n.startswith(MAY_BE_UNKNOWN) for n in self.names])

    def record(self, step: int) -> None:
        """Store the state of every state at `step`; raise `NumericalError` if a number broke."""
        m = self.model
        row = self.data[step]
        row[:, 0] = m.tilt()
        eco = m.economy
        row[:, self._slices["affinity"]] = m.alignment.affinity
        row[:, self._slices["exports"]] = eco.exports
        row[:, self._slices["fdi"]] = eco.fdi
        row[:, self._slices["debt"]] = eco.debt
        row[:, self._slices["tariff"]] = eco.tariff
        row[:, self._rest] = eco.rest_exports
        for x, b in enumerate(m.membership.blocs):
            row[:, self._blocs.start + x] = b.status
        row[:, self._policies] = m.policies.active
        self._check(step)

    def _check(self, step: int) -> None:
        """Raise if a value known at the last step (at step 0: a never-unknown one) is now NaN or
        infinite, or if any value is infinite."""
        # A few vectorised passes over one (states x variables) row: no loop over states.
        row = self.data[step]
        known_before = self._always_known if step == 0 else np.isfinite(self.data[step - 1])
        broken = ~np.isfinite(row) & (known_before | np.isinf(row))
        if not broken.any():
            return
        i, c = (int(x) for x in np.argwhere(broken)[0])
        m = self.model
        previous = None if step == 0 else float(self.data[step - 1, i, c])
        raise NumericalError(
            self.names[c],
            m.state_codes[i],
            step,
            m.calendar.label(step),
            float(row[i, c]),
            previous,
        )
