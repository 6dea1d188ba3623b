"""Bloc membership as a hazard: pure functions of arrays and parameters (no Mesa, no I/O).

A state that is not in a bloc joins at a yearly hazard that grows with what membership is worth
to it now (its closeness to the bloc's leader, its economic dependence on the leader, how much of
its region is already in, the coercion membership attracts) and with how that value changed; a
member leaves at a small status-quo rate that grows when the value falls. Shapes as in
`sim.rules`: (..., states) arrays, parameters shared; MODEL.md, Blocs, gives the equations.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from sim.schema.parameters import BlocRules

F = NDArray[np.float64]
B = NDArray[np.bool_]


def membership_value(closeness: F, dependence: F, diffusion: F, threat_cost: F, p: BlocRules) -> F:
    """Value of being in a bloc now, in log-hazard units:
    V = w_a closeness + w_e dependence + w_d diffusion - w_t threat_cost.

    closeness: affinity to the leader minus the mean affinity to the other powers, in [-1, 1];
    dependence: the mean of the state's trade, FDI and debt ties with the leader, in [0, 1];
    diffusion: the share of the state's region (other states) already in the bloc, in [0, 1];
    threat_cost: expected coercion cost of membership, share of GDP.
    """
    return np.asarray(
        p.weight_alignment * closeness
        + p.weight_economy * dependence
        + p.weight_diffusion * diffusion
        - p.weight_threat * threat_cost
    )


def join_hazard(value: F, change: F, eligible: B, p: BlocRules) -> F:
    """Yearly hazard of joining: join_rate exp(V + w_c change), 0 where not eligible.

    `change`: the value's change since the start of the run (status quo: a state reacts to news
    as well as to levels)."""
    # exp(50) caps the factor far beyond any decision (a hazard of e^50 a year is certainty within
    # a step), so extreme weights cannot overflow to inf.
    h = p.join_rate * np.exp(np.minimum(value + p.weight_change * change, 50.0))
    return np.asarray(np.where(eligible, h, 0.0))


def leave_hazard(change: F, p: BlocRules) -> F:
    """Yearly hazard of leaving: leave_rate exp(-w_c change), the status-quo rate of withdrawal
    that grows when membership has lost value since the start (and shrinks when it gained)."""
    return np.asarray(p.leave_rate * np.exp(np.minimum(-p.weight_change * change, 50.0)))


def confirm_probability(value: F | float, committed: F | float, p: BlocRules) -> F:
    """Probability of standing by a commitment to join made at value `committed`: the ratio of
    the join hazard now to the join hazard then, capped at 1:
    min(1, exp((1 + w_c) (V - V_committed)))."""
    gap = (1.0 + p.weight_change) * (np.asarray(value) - np.asarray(committed))
    return np.asarray(np.exp(np.minimum(gap, 0.0)))


def switch_probability(hazard: F, dt: float) -> F:
    """Probability of a switch within a step at a yearly hazard: 1 - exp(-h dt)."""
    return np.asarray(-np.expm1(-hazard * dt))


def region_share(in_bloc: F, region: NDArray[np.intp]) -> F:
    """Share of the other states of each state's region that are in the bloc (0 alone).

    in_bloc: 1 member, partner weight for partners, 0 out; region: a code per state."""
    n = region.shape[-1]
    counts = np.bincount(region, minlength=int(region.max(initial=0)) + 1).astype(float)
    others = counts[region] - 1.0
    out = np.empty(in_bloc.shape)
    flat = in_bloc.reshape(-1, n)
    res = out.reshape(-1, n)
    for r in range(flat.shape[0]):
        sums = np.bincount(region, weights=flat[r], minlength=counts.size)
        res[r] = np.where(others > 0, (sums[region] - flat[r]) / np.maximum(others, 1.0), 0.0)
    return out
