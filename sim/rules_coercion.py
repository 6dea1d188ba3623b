"""Coercion rules beyond the target's basic decision, as pure functions (issue 9): stakes other
than tariffs, the black knight, closeness, the sender's decision, retaliation, resolve, and the
conversion of rates into per-step probabilities.

The conventions of `sim.rules` hold (its docstring): no Mesa, no I/O, draws passed in; state
data may carry leading run axes, rule parameters are shared; scalar inputs give scalar outputs
(the model passes one threat's numbers). `tests/test_rules_batched.py` checks every public
function here too. MODEL.md (Tariff threats) gives the equations and the sources.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from sim.rules import F, _like_inputs, _scalar_power, ratio_logit
from sim.scenario import ThreatRules

BLACK_KNIGHT_CAP = 0.9
"""The black-knight offset is at most this: a rival cannot absorb a whole loss at once (markets
and lenders take time to switch), so defying never becomes free."""

MAX_LOG_RESOLVE = float(np.log(1000.0))
"""Resolve stays within a factor 1000 of 1: beyond it the decision is already certain."""


def per_step_from_monthly(probability_per_month: float, months_per_step: float) -> float:
    """A probability per month as a probability per step of m months: 1 - (1 - v)^m."""
    return float(1.0 - (1.0 - probability_per_month) ** months_per_step)


def first_of(rate_a: F | float, rate_b: F | float, dt: float) -> tuple[F | float, F | float]:
    """Chances that each of two competing events (Poisson rates per year) happens first within
    a step of dt years: rate_x / (rate_a + rate_b) * (1 - exp(-(rate_a + rate_b) dt)). Exact at
    any step length, whichever of the two the model looks at first."""
    a = np.asarray(rate_a, dtype=float)
    b = np.asarray(rate_b, dtype=float)
    total = a + b
    with np.errstate(divide="ignore", invalid="ignore"):
        happens = -np.expm1(-total * dt)
        share_a = np.where(total > 0.0, a / np.where(total > 0.0, total, 1.0), 0.0)
    out_a = share_a * happens
    out_b = np.where(total > 0.0, happens - out_a, 0.0)
    return _like_inputs(out_a, rate_a, rate_b), _like_inputs(out_b, rate_a, rate_b)


def tariff_bite(rate: F | float, elasticity: float) -> F | float:
    """Share of covered trade lost on impact of a tariff: 1 - (1+t)^(-elasticity)."""
    return _like_inputs(1.0 - _scalar_power(1.0 + np.asarray(rate, dtype=float), -elasticity), rate)


def lending_exposure(
    share: F | float,
    debt: F | float,
    new_lending: F | float,
    gdp: F | float,
    amortisation_years: float,
) -> F | float:
    """Cost of withheld lending, share of GDP: share (D/T + L)/Y, the refinancing need.

    D: debt owed to the sender (its amortisation D/T falls due each year), L: the sender's new
    lending per year; unknown (non-finite) debt counts as none.
    """
    d = np.asarray(debt, dtype=float)
    owed = np.where(np.isfinite(d), d, 0.0)
    need = (owed / amortisation_years + np.asarray(new_lending, dtype=float)) / gdp
    return _like_inputs(np.asarray(share * need, dtype=float), share, debt, new_lending, gdp)


def closeness(affinity: F, sender: int) -> F | float:
    """Affinity to the sender minus mean affinity to the other powers, in [-1, 1] (0 with one
    power). Shape (..., powers) -> (...)."""
    a = np.asarray(affinity, dtype=float)
    k = a.shape[-1]
    if k < 2:
        return _like_inputs(np.zeros(a.shape[:-1]), a[..., 0])
    others = np.delete(a, sender, axis=-1).sum(axis=-1) / (k - 1)
    return _like_inputs(np.asarray(a[..., sender] - others), a[..., 0])


def rival(ties: F, sender: int) -> NDArray[np.intp]:
    """The rival power: the other power with the largest share of the target's ties (the first
    in order on a tie; the sender itself when it is the only power). (..., powers) -> (...)."""
    t = np.where(np.isfinite(ties), ties, 0.0)
    if t.shape[-1] < 2:
        return np.zeros(t.shape[:-1], dtype=np.intp)
    t = t.copy()
    t[..., sender] = -np.inf
    return np.asarray(np.argmax(t, axis=-1), dtype=np.intp)


def black_knight_offset(rival_share: F | float, p: ThreatRules) -> F | float:
    """Share of the cost of defying a rival absorbs: min(black_knight * share, 0.9)."""
    s = np.asarray(rival_share, dtype=float)
    out = np.minimum(p.black_knight * np.where(np.isfinite(s), s, 0.0), BLACK_KNIGHT_CAP)
    return _like_inputs(np.asarray(out), rival_share)


def retaliation_probability(closeness: F | float, p: ThreatRules) -> F | float:
    """P(the target retaliates against an imposed tariff) = min(1, retaliation (1 - closeness))."""
    c = np.asarray(closeness, dtype=float)
    return _like_inputs(np.clip(p.retaliation * (1.0 - c), 0.0, 1.0), closeness)


def sender_cost(
    imports_covered: F | float,
    rate: F | float,
    counter_imports: F | float,
    counter_rate: F | float,
    p_retaliate: F | float,
    sender_gdp: F | float,
    elasticity: float,
) -> F | float:
    """The sender's own cost of a tariff, share of its GDP:
    (M_c bite(t) + P(retaliate) X_s bite(t_r)) / Y_s.

    M_c: its imports from the target that the tariff covers (untariffed), X_s: its exports to the
    target (the target's untariffed imports from it), bite(t) = 1 - (1+t)^(-elasticity); unknown
    (non-finite) flows count as none.
    """
    m = np.asarray(imports_covered, dtype=float)
    x = np.asarray(counter_imports, dtype=float)
    own = np.where(np.isfinite(m), m, 0.0) * tariff_bite(rate, elasticity)
    back = np.where(np.isfinite(x), x, 0.0) * tariff_bite(counter_rate, elasticity)
    out = (own + p_retaliate * back) / sender_gdp
    inputs = (imports_covered, rate, counter_imports, counter_rate, p_retaliate, sender_gdp)
    return _like_inputs(np.asarray(out, dtype=float), *inputs)


def impose_probability(
    credibility: F | float, cost: F | float, interest: F | float, p: ThreatRules
) -> F | float:
    """P(impose) = credibility 1 / (1 + (cost/interest)^sender_sharpness), credibility already
    including the sender's reputation."""
    keep = ratio_logit(interest, cost, p.sender_sharpness)
    return _like_inputs(np.asarray(credibility * keep, dtype=float), credibility, cost, interest)


def resolve_after(resolve: F | float, closeness: F | float, p: ThreatRules) -> F | float:
    """Resolve after an imposition: resolve exp(rally * -closeness), kept within a factor 1000
    of 1 (rally round the flag for adversaries, erosion for allies)."""
    log_r = np.log(np.asarray(resolve, dtype=float)) - p.rally * np.asarray(closeness, dtype=float)
    out = np.exp(np.clip(log_r, -MAX_LOG_RESOLVE, MAX_LOG_RESOLVE))
    return _like_inputs(np.asarray(out), resolve, closeness)


def relax_resolve(resolve: F, half_life_years: float, dt: float) -> F:
    """Resolve returns toward 1 with a half-life: resolve^(0.5^(dt/h)) (its log decays)."""
    return np.asarray(np.asarray(resolve, dtype=float) ** float(0.5 ** (dt / half_life_years)))
