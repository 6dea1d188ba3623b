"""Behavioural rules as pure functions: arrays and parameters in, decisions or new values out.

No Mesa, no I/O, no hidden state. A NaN marks a tie that is not known. Randomness enters only
through draws passed in by the caller (the model draws them from its seeded `rng`), so every rule
is testable with fixed numbers. MODEL.md gives each rule's equation; the docstrings repeat it in
one line.

Shapes: (..., states, powers), (..., states), or (...) for the threat rules (the model passes one
threat's scalars); a leading run axis broadcasts. Rules reduce and index only trailing axes, so a
rule applied to runs stacked along leading axes gives exactly (bit for bit) the stack of its
results on each run, and an ensemble engine can batch runs without rewriting the rules
(`tests/test_rules_batched.py` checks every public function here). What may carry the run axis:

- state data (arrays over states and powers, and the threat rules' per-threat numbers) always
  may; such an argument given without the run axis is shared by every run (broadcasting);
- rule parameters are shared by the batch, as an ensemble over seeds needs: the pydantic `*Rules`
  objects, `dt`, and the scalars passed alongside them (rates, weights, half-lives, elasticities,
  `tilt`'s power indices, `bloc_utility`'s `n_powers`). `decay`, `approach` and
  `review_probability` take nothing else and return a float;
- neighbour edges (`neighbour_mean`'s `src`, `dst`) are shared;
- per-power parameter data (`follow_alignment`'s `growth`) may be (powers,) or (..., powers).

Scalar inputs give scalar outputs, so the model's per-threat calls are unchanged.

Powers: NumPy's scalar `**` (the C library's pow, as Python's) and its vectorised power differ in
the last bit for a few percent of arguments. So that one value per run gives the bits of a batch,
the rules the model calls with one value use the scalar power on arrays too (`tariff_shock`,
`comply_probability`, through `_scalar_power`), the others the vectorised power on one value too;
a power of shared parameters only is computed once (`tariff_exposure`'s loss factor, `decay`).
"""

from __future__ import annotations

from typing import Any, overload

import numpy as np
from numpy.typing import NDArray

from sim.scenario import AlignmentRules, InvestmentRules, ThreatRules, TradeRules

F = NDArray[np.float64]
B = NDArray[np.bool_]


def _like_inputs(out: F, *inputs: NDArray[Any] | float) -> F | float:
    """A float when every input is a scalar (one threat), else the array."""
    if all(np.ndim(x) == 0 for x in inputs):
        return float(out)
    return np.asarray(out)


def _scalar_power(base: F | float, exponent: float) -> F:
    """base ** exponent element by element through NumPy's scalar power (the C library's pow).

    NumPy's vectorised power can differ from the scalar one in the last bit (for a few percent of
    arguments, on this project's x86-64 machines), so the rules the model calls with one value (a
    tariff, a threat) use this on arrays too: a batch then gives each run's bits. It loops in
    Python, which is cheap for one value per run.
    """
    b = np.asarray(base, dtype=float)
    return np.array([x**exponent for x in b.flat], dtype=float).reshape(b.shape)


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


def ratio_logit(gain: F | float, cost: F | float, sharpness: float) -> F:
    """1 / (1 + (cost/gain)^sharpness): 1 if the cost is nothing (1/2 if both are), 0 if the gain
    is nothing; a ratio whose power overflows gives 0, its limit (no warning)."""
    d = np.asarray(gain, dtype=float)
    c = np.asarray(cost, dtype=float)
    with np.errstate(over="ignore", divide="ignore", invalid="ignore"):
        odds = _scalar_power(c / d, sharpness)
        logit = 1.0 / (1.0 + odds)
    free = np.where(d > 0.0, 1.0, 0.5)
    return np.asarray(np.where(c <= 0.0, free, np.where(d <= 0.0, 0.0, logit)))


# --------------------------------------------------------------------------- trade


def tariff_shock(mult: F, old_rate: F, new_rate: F, p: TradeRules) -> F:
    """Response at impact of a tariff change: m <- m * ((1+new)/(1+old))^(-elasticity_impact)."""
    ratio = (1.0 + new_rate) / (1.0 + old_rate)
    return np.asarray(mult * _scalar_power(ratio, -p.elasticity_impact))


def tariff_adjust(mult: F, rate: F, p: TradeRules, dt: float) -> F:
    """Move log m toward its long-run level -elasticity_long log(1+t) with time constant T:
    m <- m_inf (m / m_inf)^exp(-dt/T). After a single change the elasticity -log m / log(1+t)
    then follows the published profile exactly, at any step length (`TradeRules`)."""
    # Arrays, also for one value: a NumPy scalar's ** is not the vectorised power.
    long_run = np.asarray(1.0 + rate) ** (-p.elasticity_long)
    keep = float(np.exp(-dt / p.adjustment_years))
    return np.asarray(long_run * np.asarray(mult / long_run) ** keep)


def follow_alignment(flows: F, affinity: F, growth: F, pull: float, dt: float) -> F:
    """Grow flows at each power's rate and tilt shares toward aligned powers, totals kept.

    f_ip <- f_ip (1+g_p)^dt * exp(pull*dt*(a_ip - mean_q a_iq)) * (sum_q f_iq / sum_q f_iq w_iq)
    """
    grown = flows * (1.0 + growth)[..., None, :] ** dt
    tilt = np.exp(pull * dt * (affinity - affinity.mean(axis=-1, keepdims=True)))
    shifted = grown * tilt
    before = fill(grown).sum(axis=-1, keepdims=True)
    after = fill(shifted).sum(axis=-1, keepdims=True)
    scale = before / np.where(after > 0, after, 1.0)
    return np.asarray(shifted * np.where(after > 0, scale, 1.0))


def exports_with_tariffs(
    base: F, mult: F, rest: F, diversion: float, absorption: float
) -> tuple[F, F]:
    """Exports to each power and to the rest of the world after tariffs and diversion.

    W = base*m is what each power still buys and L = base*(1-m) what tariffs removed; the rest
    of the world buys R (no tariffs of its own). A share `diversion` of each loss L_p is offered
    to the other partners (the other powers and the rest of the world) in proportion to what
    they buy, and each takes at most `absorption` times what it buys (its capacity):
    g_q = min(sum_{p != q} diversion L_p W_q / (sum_{r != p} W_r + R), absorption W_q).
    Returns (W + g, R + g_rest). Unknown flows (NaN) stay unknown and take nothing.
    """
    kept = base * mult
    known = fill(kept)
    lost = fill(base * (1.0 - mult))
    r = fill(rest)
    # Everyone except p, summed directly: `total - known` loses precision when one flow dwarfs
    # the rest (a property test caught a 2e-6 relative error).
    k = known.shape[-1]
    if k == 2:
        others = known[..., ::-1] + r[..., None]
    else:
        others = np.empty_like(known)
        for p in range(k):
            others[..., p] = known[..., [q for q in range(k) if q != p]].sum(axis=-1) + r
    with np.errstate(invalid="ignore", divide="ignore"):
        offered = np.where(others > 0, diversion * lost / others, 0.0)
    # What partner q is offered per dollar it buys: every other power's offer (not its own).
    per_dollar = offered.sum(axis=-1, keepdims=True) - offered
    gain = np.minimum(known * per_dollar, absorption * known)
    gain_rest = np.minimum(r * offered.sum(axis=-1), absorption * r)
    return np.asarray(kept + gain), np.asarray(np.where(np.isnan(rest), rest, r + gain_rest))


# --------------------------------------------------------------------------- investment


def allocation_weights(stock: F, gdp: F, affinity: F, bloc_tie: F, p: InvestmentRules) -> F:
    """Where one power's capital goes, shares summing to 1:
    w_i = (K_i + g Y_i) Y_i^(s-1) exp(alignment_weight (a_i - 0.5)) (1 + bloc_bonus tie_i),
    K = existing stock, g = greenfield_share, Y = GDP, s = size_exponent.

    Capital follows existing stocks (unknown stocks count as zero), alignment and bloc ties.
    Shapes (..., states); all zero where no state draws anything.
    """
    base = (fill(stock) + p.greenfield_share * gdp) * gdp ** (p.size_exponent - 1.0)
    w = base * np.exp(p.alignment_weight * (affinity - 0.5)) * (1.0 + p.bloc_bonus * bloc_tie)
    if w.ndim == 1:  # one run, the model's case: a plain sum is cheaper than a keepdims one
        total1 = w.sum()
        return np.asarray(w / total1 if total1 > 0 else np.zeros_like(w))
    total = w.sum(axis=-1, keepdims=True)
    out = np.zeros_like(w)
    np.divide(w, total, out=out, where=total > 0)
    return out


def amortise(debt: F, p: InvestmentRules, dt: float) -> F:
    """Debt after one step of repayment: D <- D * exp(-dt / amortisation_years)."""
    return np.asarray(debt * np.exp(-dt / p.amortisation_years))


# --------------------------------------------------------------------------- alignment


def trade_tie(exports: F, imports: F, rest_exports: F, rest_imports: F) -> F:
    """Each power's share of the state's goods trade with everyone (the powers and the rest of
    the world): (x_ip + m_ip) / (X_i + M_i), over the flows known for that power (a flow known
    for the power counts with its total). NaN where neither flow with the power is known.

    Totals are the known flows with the powers plus the rest of the world, so adding a power
    moves its trade out of the rest of the world and leaves every other power's share alone.
    """
    x_total = fill(exports).sum(axis=-1) + fill(rest_exports)
    m_total = fill(imports).sum(axis=-1) + fill(rest_imports)
    x_known, m_known = ~np.isnan(exports), ~np.isnan(imports)
    num = fill(exports) + fill(imports)
    den = np.where(x_known, x_total[..., None], 0.0) + np.where(m_known, m_total[..., None], 0.0)
    with np.errstate(invalid="ignore", divide="ignore"):
        share = np.where(den > 0, num / den, 0.0)
    return np.asarray(np.where(x_known | m_known, share, np.nan))


def intensity_tie(stock: F, gdp: F, half_saturation: float) -> F:
    """A stock's pull by its size against GDP: (S/Y) / (S/Y + h), in [0, 1); NaN if unknown.

    Used for debt owed to a power and its direct-investment stock: it depends on that power's
    stock alone, so other powers' figures (or their absence) never move it.
    """
    ratio = stock / gdp[..., None]
    return np.asarray(ratio / (ratio + half_saturation))


def bloc_tie(ties: F, half_saturation: float) -> F:
    """Pull of the blocs each power leads: n / (n + h), n = member 1, partner the partner weight,
    summed over the blocs the power leads."""
    return np.asarray(ties / (ties + half_saturation))


def engagement_tie(engagement: F) -> F:
    """Pull of diplomatic engagement E (relative units, 1 = a power's ordinary engagement):
    E / (E + 1), a half at ordinary engagement."""
    return np.asarray(engagement / (engagement + 1.0))


def _median_over_states(values: F) -> F:
    """Median over the states axis (second last) of the known values; NaN where none is.

    Sorted known values, the middle one or the mean of the middle two, one column at a time
    (NumPy's nanmedian, through masked arrays, is ten times slower on the model's small
    arrays); the same arithmetic on every column keeps a batch bit for bit the stack of its
    runs."""
    cols = np.moveaxis(values, -2, -1).reshape(-1, values.shape[-2])
    out = np.full(cols.shape[0], np.nan)
    for c, col in enumerate(cols):
        known = np.sort(col[~np.isnan(col)])
        n = known.size
        if n:
            out[c] = known[n // 2] if n % 2 else (known[n // 2 - 1] + known[n // 2]) / 2.0
    return out.reshape(*values.shape[:-2], 1, values.shape[-1])


def impute(tie: F) -> tuple[F, B]:
    """Unknown values of a tie (NaN) from what is known, and where the result is known: the
    median of the tie over the states where the power's value is known (the typical tie of
    that power). A power known nowhere stays unknown (mask False) and the tie is left out of
    that power's target only, so a power without data moves no other power's affinity.
    """
    unknown = np.isnan(tie)
    if not unknown.any():
        return tie, np.ones(tie.shape, dtype=bool)
    filled = np.where(unknown, _median_over_states(tie), tie)
    known = ~np.isnan(filled)
    return np.asarray(np.where(known, filled, 0.0)), known


def known_only(tie: F) -> tuple[F, B]:
    """A tie as given, unknown values (NaN) left out: (values with 0 there, the known mask)."""
    known = ~np.isnan(tie)
    return np.asarray(np.where(known, tie, 0.0)), known


def target_affinity(components: list[tuple[float, F, B]]) -> F:
    """Each power's target affinity: the weighted mean of its ties, over the ties known for
    that state and power.

    a*_ip = sum_k w_k m_kip c_kip / sum_k w_k m_kip   (m = 1 where tie k is known or imputed)

    Every tie c_kip depends on state i's relation with power p alone (shares of totals that
    include the rest of the world, intensities against GDP), so a power added to a scenario
    leaves every other power's target alone. 0 where no tie of the power is known.
    Components with and without the run axis mix: the result has the broadcast shape.
    """
    shape = np.broadcast_shapes(
        *(comp.shape for _, comp, _ in components),
        *(known.shape for _, _, known in components),
    )
    num = np.zeros(shape)
    den = np.zeros(shape)
    for weight, comp, known in components:
        if weight <= 0:
            continue
        mw = weight * known.astype(float)
        num += mw * comp
        den += mw
    with np.errstate(invalid="ignore", divide="ignore"):
        out = np.where(den > 0, num / den, 0.0)
    return np.asarray(out)


def neighbour_mean(affinity: F, src: NDArray[np.intp], dst: NDArray[np.intp]) -> tuple[F, B]:
    """Mean affinity of each state's neighbours (edges src->dst), and who has any neighbour.

    The edges are shared by every run. One bincount sums every (run, power, state) bin over the
    edges in edge order, exactly as a bincount per run and power would.
    """
    n, k = affinity.shape[-2:]
    count = np.bincount(src, minlength=n).astype(float)
    has = count > 0
    if affinity.ndim == 2:  # one run, the model's case: fewer calls, the same sums
        out = np.empty_like(affinity)
        for j in range(k):
            out[:, j] = np.bincount(src, weights=affinity[dst, j], minlength=n)
        out[has] /= count[has, None]
        return out, has
    runs = affinity.reshape(-1, n, k)
    weights = np.moveaxis(runs[:, dst, :], -1, 1)  # (runs, powers, edges)
    bins = np.arange(runs.shape[0] * k)[:, None] * n + src[None, :]
    sums = np.bincount(bins.ravel(), weights=weights.ravel(), minlength=bins.shape[0] * n)
    # C order, as before the run axis (so later reductions add in the same order); float also
    # without edges, where bincount gives integers whatever the weights.
    by_state = np.moveaxis(sums.reshape(-1, k, n), 1, -1)
    out = np.ascontiguousarray(by_state, dtype=float).reshape(affinity.shape)
    out[..., has, :] /= count[has, None]
    return out, np.broadcast_to(has, affinity.shape[:-1]).copy()


def with_peers(target: F, peer: F, has_peer: B, p: AlignmentRules) -> F:
    """Blend the target with neighbours' mean affinity: (1-w) a* + w peer, where a state has any."""
    w = np.where(has_peer, p.peer_weight, 0.0)[..., None]
    return np.asarray((1.0 - w) * target + w * peer)


def alignment_step(affinity: F, target: F, p: AlignmentRules, dt: float, shocks: F) -> F:
    """a <- clip(a + (1 - exp(-rate*dt)) (a* - a) + noise*sqrt(dt)*z, 0, 1), z standard normal."""
    moved = affinity + approach(p.rate, dt) * (target - affinity)
    return np.asarray(np.clip(moved + p.noise * np.sqrt(dt) * shocks, 0.0, 1.0))


def tilt(affinity: F, first: int, second: int) -> F:
    """Two-power tilt in [-1, 1]: affinity to `second` minus affinity to `first`."""
    return np.asarray(affinity[..., second] - affinity[..., first])


# --------------------------------------------------------------------------- threats


def tariff_exposure(
    exports_to_sender: F | float, gdp: F | float, rate: float, elasticity: float, coverage: float
) -> F | float:
    """Share of GDP lost in exports if the tariff bites: c X/Y (1 - (1+t)^(-elasticity)).

    X: untariffed exports to the sender, c: the share of them covered. Unknown (non-finite)
    exports put nothing at risk.
    """
    loss = coverage * (1.0 - (1.0 + rate) ** (-elasticity))
    exports = np.asarray(exports_to_sender, dtype=float)
    known = np.isfinite(exports)
    exposure = np.where(known, np.where(known, exports, 0.0) / gdp * loss, 0.0)
    return _like_inputs(exposure, exports_to_sender, gdp)


def cost_of_defying(
    stakes: F | float,
    debt_share_of_gdp: F | float,
    credibility: F | float,
    offset: F | float,
    p: ThreatRules,
) -> F | float:
    """Expected cost of defiance: credibility (stakes + debt_leverage D/Y) (1 - black-knight
    offset); `stakes` is the sum of the stakes' costs, shares of GDP."""
    out = credibility * (stakes + p.debt_leverage * debt_share_of_gdp) * (1.0 - offset)
    return _like_inputs(
        np.asarray(out, dtype=float), stakes, debt_share_of_gdp, credibility, offset
    )


def cost_of_complying(
    salience: F | float,
    sovereignty: F | float,
    resolve: F | float,
    closeness: F | float,
    forgone: F | float,
    p: ThreatRules,
) -> F | float:
    """Cost of yielding: salience sovereignty resolve exp(-alignment_weight closeness) + forgone.

    closeness in [-1, 1]: allies (> 0) yield more readily, adversaries resist (Drezner 1999).
    """
    c = np.asarray(closeness, dtype=float)
    out = salience * sovereignty * resolve * np.exp(-p.alignment_weight * c) + forgone
    return _like_inputs(np.asarray(out, dtype=float), salience, sovereignty, resolve, c, forgone)


@overload
def comply_probability(defy: float, comply: float, p: ThreatRules) -> float: ...  # type: ignore[overload-overlap]
@overload
def comply_probability(defy: F | float, comply: F | float, p: ThreatRules) -> F: ...
def comply_probability(defy: F | float, comply: F | float, p: ThreatRules) -> F | float:
    """P(comply) = 1 / (1 + (comply/defy)^sharpness); 1 if yielding is free, 0 if defying is.

    A ratio whose power overflows gives 0, its limit (no warning).
    """
    prob = ratio_logit(defy, comply, p.sharpness)
    return _like_inputs(prob, defy, comply)


@overload
def decide(probability: float, draw: float) -> bool: ...  # type: ignore[overload-overlap]
@overload
def decide(probability: F | float, draw: F | float) -> B: ...
def decide(probability: F | float, draw: F | float) -> B | bool:
    """A stochastic choice: True when the uniform draw falls below the probability."""
    return draw < probability


@overload
def reputation_after(reputation: float, carried_out: bool, p: ThreatRules) -> float: ...  # type: ignore[overload-overlap]
@overload
def reputation_after(reputation: F | float, carried_out: B | bool, p: ThreatRules) -> F: ...
def reputation_after(reputation: F | float, carried_out: B | bool, p: ThreatRules) -> F | float:
    """Back down: r <- r (1 - loss). Carry out: r <- r + gain (1 - r)."""
    r = np.asarray(reputation, dtype=float)
    after = np.where(carried_out, r + p.reputation_gain * (1.0 - r), r * (1.0 - p.reputation_loss))
    return _like_inputs(after, reputation, carried_out)
