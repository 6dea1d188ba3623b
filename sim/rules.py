"""Behavioural rules as pure functions: arrays and parameters in, decisions or new values out.

No Mesa, no I/O, no hidden state. Arrays are indexed [state] or [state, power]; a NaN marks a
tie that is not known. Randomness enters only through uniform draws passed in by the caller (the
model draws them from its seeded `rng`), so every rule is testable with fixed numbers. MODEL.md
gives each rule's equation; the docstrings repeat it in one line.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from sim.scenario import AlignmentRules, BlocRules, InvestmentRules, ThreatRules, TradeRules

F = NDArray[np.float64]
B = NDArray[np.bool_]


def fill(values: F) -> F:
    """NaN (unknown) as zero; cheaper than np.nan_to_num, which also scans for infinities."""
    return np.where(np.isnan(values), 0.0, values)


def decay(half_life_years: float, dt_years: float) -> float:
    """Factor that shrinks a quantity with the given half-life over one step: 0.5^(dt/h)."""
    return float(0.5 ** (dt_years / half_life_years))


def approach(rate_per_year: float, dt_years: float) -> float:
    """Share of a gap closed in one step by a continuous rate: 1 - exp(-rate*dt)."""
    return float(1.0 - np.exp(-rate_per_year * dt_years))


def logistic(x: F | float) -> F:
    """1 / (1 + exp(-x)), overflow-safe."""
    return np.asarray(0.5 * (1.0 + np.tanh(0.5 * np.asarray(x, dtype=float))), dtype=float)


# --------------------------------------------------------------------------- trade


def tariff_shock(mult: F, old_rate: F, new_rate: F, p: TradeRules) -> F:
    """Impact response to a tariff change: m <- m * ((1+new)/(1+old))^(-elasticity_short)."""
    return np.asarray(mult * ((1.0 + new_rate) / (1.0 + old_rate)) ** (-p.elasticity_short))


def tariff_adjust(mult: F, rate: F, p: TradeRules, dt: float) -> F:
    """Move the export multiplier toward its long-run level (1+t)^(-elasticity_long)."""
    long_run = (1.0 + rate) ** (-p.elasticity_long)
    keep = float(np.exp(-dt / p.adjustment_years))
    return np.asarray(long_run + (mult - long_run) * keep)


def follow_alignment(flows: F, affinity: F, growth: F, pull: float, dt: float) -> F:
    """Grow flows at each power's rate and tilt shares toward aligned powers, totals kept.

    f_ip <- f_ip (1+g_p)^dt * exp(pull*dt*(a_ip - mean_q a_iq)) * (sum_q f_iq / sum_q f_iq w_iq)
    """
    grown = flows * (1.0 + growth)[None, :] ** dt
    tilt = np.exp(pull * dt * (affinity - affinity.mean(axis=1, keepdims=True)))
    shifted = grown * tilt
    before = fill(grown).sum(axis=1, keepdims=True)
    after = fill(shifted).sum(axis=1, keepdims=True)
    scale = before / np.where(after > 0, after, 1.0)
    return np.asarray(shifted * np.where(after > 0, scale, 1.0))


def exports_with_tariffs(base: F, mult: F, diversion: float) -> F:
    """Exports after tariffs: base*m, plus a `diversion` share of each loss re-routed pro rata.

    x_iq = W_iq + W_iq * sum_{p != q} diversion * L_ip / (S_i - W_ip), with W = base*m,
    L = base*(1-m), S_i = sum_p W_ip.
    """
    kept = base * mult
    known = fill(kept)
    lost = fill(base * (1.0 - mult))
    # Sum over the other powers directly: `total - known` loses precision when one flow dwarfs
    # the rest (a property test caught a 2e-6 relative error).
    k = known.shape[1]
    if k == 2:
        others = known[:, ::-1]
    else:
        others = np.empty_like(known)
        for p in range(k):
            others[:, p] = known[:, [q for q in range(k) if q != p]].sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        r = np.where(others > 0, diversion * lost / others, 0.0)
    gain = known * (r.sum(axis=1, keepdims=True) - r)
    return np.asarray(kept + gain)


# --------------------------------------------------------------------------- investment


def allocation_weights(stock: F, gdp: F, affinity: F, bloc_tie: F, p: InvestmentRules) -> F:
    """Where one power's capital goes, shares summing to 1:
    w_i = (K_i + g Y_i) Y_i^(s-1) exp(alignment_weight (a_i - 0.5)) (1 + bloc_bonus tie_i),
    K = existing stock, g = greenfield_share, Y = GDP, s = size_exponent.

    Capital follows existing stocks (unknown stocks count as zero), alignment and bloc ties.
    """
    base = (fill(stock) + p.greenfield_share * gdp) * gdp ** (p.size_exponent - 1.0)
    w = base * np.exp(p.alignment_weight * (affinity - 0.5)) * (1.0 + p.bloc_bonus * bloc_tie)
    total = w.sum()
    return np.asarray(w / total if total > 0 else np.zeros_like(w))


def amortise(debt: F, p: InvestmentRules, dt: float) -> F:
    """Debt after one step of repayment: D <- D * exp(-dt / amortisation_years)."""
    return np.asarray(debt * np.exp(-dt / p.amortisation_years))


# --------------------------------------------------------------------------- alignment


def shares(values: F) -> tuple[F, B]:
    """Row shares of non-negative ties and a mask of rows where every power's value is known.

    Rows known but all zero get an even split.
    """
    missing = np.isnan(values)
    known = ~missing.any(axis=1)
    filled = np.where(missing, 0.0, values)
    total = filled.sum(axis=1, keepdims=True)
    positive = total > 0
    out = np.where(positive, filled / np.where(positive, total, 1.0), 1.0 / values.shape[1])
    return np.asarray(out), known


def trade_tie(exports: F, imports: F) -> tuple[F, B]:
    """Trade shares from whichever of exports and imports is known for every power."""
    ex_known = ~np.isnan(exports).any(axis=1, keepdims=True)
    im_known = ~np.isnan(imports).any(axis=1, keepdims=True)
    flows = np.where(ex_known, fill(exports), 0.0) + np.where(im_known, fill(imports), 0.0)
    s, _ = shares(flows)
    return s, (ex_known | im_known)[:, 0]


def blend_by_intensity(s: F, intensity: F, half_saturation: float) -> F:
    """(1 - lambda)/P + lambda * s with lambda = intensity / (intensity + half_saturation)."""
    lam = (intensity / (intensity + half_saturation))[:, None]
    return np.asarray((1.0 - lam) / s.shape[1] + lam * s)


def debt_tie(debt: F, gdp: F, half_saturation: float) -> tuple[F, B]:
    """Debt shares blended with an even split by intensity: lambda = (D/Y) / (D/Y + h)."""
    s, known = shares(debt)
    return blend_by_intensity(s, fill(debt).sum(axis=1) / gdp, half_saturation), known


def bloc_tie(ties: F, half_saturation: float) -> F:
    """Bloc-leader shares blended with an even split by the number of ties (always known)."""
    s, _ = shares(ties)
    return blend_by_intensity(s, ties.sum(axis=1), half_saturation)


def target_affinity(
    components: list[tuple[float, F, B]],
) -> F:
    """Weighted mean of tie shares over the ties known for each state.

    a*_ip = sum_k w_k m_ik c_kip / sum_k w_k m_ik   (m = 1 where tie k is known for state i)
    """
    num = np.zeros_like(components[0][1])
    den = np.zeros(num.shape[0])
    for weight, comp, known in components:
        if weight <= 0:
            continue
        mw = weight * known.astype(float)
        num += mw[:, None] * comp
        den += mw
    even = 1.0 / num.shape[1]
    with np.errstate(invalid="ignore", divide="ignore"):
        out = np.where(den[:, None] > 0, num / den[:, None], even)
    return np.asarray(out)


def neighbour_mean(affinity: F, src: NDArray[np.intp], dst: NDArray[np.intp]) -> tuple[F, B]:
    """Mean affinity of each state's neighbours (edges src->dst), and who has any neighbour."""
    n, k = affinity.shape
    count = np.bincount(src, minlength=n).astype(float)
    out = np.empty_like(affinity)
    for j in range(k):
        out[:, j] = np.bincount(src, weights=affinity[dst, j], minlength=n)
    has = count > 0
    out[has] /= count[has, None]
    return out, has


def with_peers(target: F, peer: F, has_peer: B, p: AlignmentRules) -> F:
    """Blend the target with neighbours' mean affinity: (1-w) a* + w peer, where a state has any."""
    w = np.where(has_peer, p.peer_weight, 0.0)[:, None]
    return np.asarray((1.0 - w) * target + w * peer)


def alignment_step(affinity: F, target: F, p: AlignmentRules, dt: float, shocks: F) -> F:
    """a <- clip(a + (1 - exp(-rate*dt)) (a* - a) + noise*sqrt(dt)*z, 0, 1), z standard normal."""
    moved = affinity + approach(p.rate, dt) * (target - affinity)
    return np.asarray(np.clip(moved + p.noise * np.sqrt(dt) * shocks, 0.0, 1.0))


def tilt(affinity: F, first: int, second: int) -> F:
    """Two-power tilt in [-1, 1]: affinity to `second` minus affinity to `first`."""
    return np.asarray(affinity[:, second] - affinity[:, first])


# --------------------------------------------------------------------------- threats


def tariff_exposure(exports_to_sender: float, gdp: float, rate: float, elasticity: float) -> float:
    """Share of GDP lost in exports if the tariff bites: X/Y * (1 - (1+t)^(-elasticity))."""
    if not np.isfinite(exports_to_sender):
        return 0.0
    return float(exports_to_sender / gdp * (1.0 - (1.0 + rate) ** (-elasticity)))


def cost_of_defying(
    exposure: float, debt_share_of_gdp: float, credibility: float, p: ThreatRules
) -> float:
    """Expected cost of defiance: credibility * (exposure + debt_leverage * debt_to_sender/GDP)."""
    return credibility * (exposure + p.debt_leverage * debt_share_of_gdp)


def cost_of_complying(salience: float, sovereignty: float, forgone: float) -> float:
    """Cost of yielding: salience * sovereignty + benefits forgone (shares of GDP)."""
    return salience * sovereignty + forgone


def comply_probability(defy: float, comply: float, p: ThreatRules) -> float:
    """P(comply) = 1 / (1 + (comply/defy)^sharpness); 1 if yielding is free, 0 if defying is."""
    if comply <= 0.0:
        return 1.0 if defy > 0.0 else 0.5
    if defy <= 0.0:
        return 0.0
    return float(1.0 / (1.0 + (comply / defy) ** p.sharpness))


def decide(probability: float, draw: float) -> bool:
    """A stochastic choice: True when the uniform draw falls below the probability."""
    return draw < probability


def reputation_after(reputation: float, carried_out: bool, p: ThreatRules) -> float:
    """Back down: r <- r (1 - loss). Carry out: r <- r + gain (1 - r)."""
    if carried_out:
        return reputation + p.reputation_gain * (1.0 - reputation)
    return reputation * (1.0 - p.reputation_loss)


# --------------------------------------------------------------------------- blocs


def bloc_utility(
    affinity_leader: F,
    affinity_others_mean: F,
    dependence: F,
    threat_cost: F,
    n_powers: int,
    p: BlocRules,
) -> F:
    """Value of being in a bloc: w_a (a_L - mean a_other) + w_e (dep_L - 1/P) - w_t threat_cost."""
    return np.asarray(
        p.weight_alignment * (affinity_leader - affinity_others_mean)
        + p.weight_economy * (dependence - 1.0 / n_powers)
        - p.weight_threat * threat_cost
    )


def switch_probability(gain: F, p: BlocRules) -> F:
    """P(switch | review) = logistic(sharpness * (gain - switching_cost)).

    The model passes the change of a bloc's value since the start as the gain (joining) or its
    negative (leaving): initial memberships are taken as revealed choices.
    """
    return logistic(p.sharpness * (gain - p.switching_cost))


def accept_probability(change: F, p: BlocRules) -> F:
    """P(accept an invitation) = logistic(sharpness * (change + switching_cost)).

    Invitations answer applications, so a state accepts unless the bloc's value to it has
    fallen by more than the switching cost.
    """
    return logistic(p.sharpness * (change + p.switching_cost))


def review_probability(p: BlocRules, dt: float) -> float:
    """Chance a membership is reviewed in a step: 1 - exp(-dt / review_years)."""
    return approach(1.0 / p.review_years, dt)
