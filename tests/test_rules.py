"""Unit and property tests for the pure rule functions (no Mesa involved)."""

from __future__ import annotations

import itertools
import math
import warnings

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from numpy.typing import NDArray

from sim import rules, rules_blocs, rules_coercion
from sim.scenario import AlignmentRules, BlocRules, InvestmentRules, ThreatRules, TradeRules

TR, IR, THR, BR, AR = TradeRules(), InvestmentRules(), ThreatRules(), BlocRules(), AlignmentRules()
F = NDArray[np.float64]

finite = st.floats(min_value=0.0, max_value=1e12, allow_nan=False)
unit = st.floats(min_value=0.0, max_value=1.0, allow_nan=False)


def matrix(n: int, k: int, elements: st.SearchStrategy[float] = finite) -> st.SearchStrategy[F]:
    return arrays(np.float64, (n, k), elements=elements)


# ----------------------------------------------------------------------------- trade


def elasticity_after(months: int, dt_months: int = 1, p: TradeRules = TR) -> float:
    """-log m / log(1+t) `months` after a 25% tariff, stepping as the model does (the impact
    response, then one adjustment per step of `dt_months`)."""
    rate = np.full(1, 0.25)
    m = rules.tariff_shock(np.ones(1), np.zeros(1), rate, p)
    for _ in range(months // dt_months):
        m = rules.tariff_adjust(m, rate, p, dt_months / 12)
    return float(-np.log(m[0]) / np.log(1.25))


def test_tariff_shock_uses_the_impact_elasticity_and_is_undone_by_a_lift() -> None:
    m = rules.tariff_shock(np.ones(1), np.zeros(1), np.full(1, 1.0), TR)
    assert m[0] == pytest.approx(2.0**-TR.elasticity_impact)
    back = rules.tariff_shock(m, np.full(1, 1.0), np.zeros(1), TR)
    assert back[0] == pytest.approx(1.0)


def test_elasticity_profile_matches_boehm_levchenko_pandalai_nayar() -> None:
    # 0.76 +- 0.2 one year after the change; 1.75-2.25 from 7 to 10 years (AER 2023, abstract)
    assert elasticity_after(12) == pytest.approx(0.76, abs=0.2)
    assert elasticity_after(12) == pytest.approx(TR.elasticity_short, rel=1e-9)
    for months in range(84, 121, 6):
        assert 1.75 <= elasticity_after(months) <= 2.25, months
    path = [elasticity_after(k) for k in range(0, 241, 3)]
    assert all(b > a for a, b in itertools.pairwise(path))  # monotone
    assert path[-1] < TR.elasticity_long  # approached, never passed
    assert elasticity_after(1200) == pytest.approx(TR.elasticity_long, rel=1e-6)


@pytest.mark.parametrize("dt_months", [1, 3, 12])
def test_elasticity_profile_does_not_depend_on_the_step_length(dt_months: int) -> None:
    for months in (12, 36, 84, 120):
        assert elasticity_after(months, dt_months) == pytest.approx(
            TR.elasticity_after(months / 12), rel=1e-9
        )


def test_elasticities_must_increase_with_time() -> None:
    with pytest.raises(ValueError, match="increase with time"):
        TradeRules(elasticity_impact=0.8, elasticity_short=0.76)
    with pytest.raises(ValueError, match="increase with time"):
        TradeRules(elasticity_long=0.5)


def test_diversion_goes_to_the_other_power_and_the_rest_of_the_world() -> None:
    base = np.array([[100.0, 50.0]])
    mult = np.array([[0.9, 1.0]])
    x, rest = rules.exports_with_tariffs(base, mult, np.array([150.0]), 0.4, 1.0)
    assert x[0, 0] == pytest.approx(90.0)
    # 0.4 * 10 lost, offered to CHN (50) and the rest (150) pro rata
    assert x[0, 1] == pytest.approx(50.0 + 4.0 * 50 / 200)
    assert rest[0] == pytest.approx(150.0 + 4.0 * 150 / 200)


def test_each_partner_takes_at_most_its_capacity() -> None:
    base = np.array([[475.0, 19.0]])  # Mexico: the US buys 25 times what China does
    mult = np.array([[0.5, 1.0]])
    x, rest = rules.exports_with_tariffs(base, mult, np.array([99.0]), 0.5, 0.25)
    assert x[0, 1] == pytest.approx(19.0 * 1.25)
    assert rest[0] == pytest.approx(99.0 * 1.25)


def test_unknown_flows_stay_unknown_and_take_nothing() -> None:
    base = np.array([[100.0, np.nan]])
    x, rest = rules.exports_with_tariffs(base, np.array([[0.5, 1.0]]), np.array([50.0]), 0.5, 1)
    assert np.isnan(x[0, 1])
    assert rest[0] == pytest.approx(50.0 + 25.0)


# Flows are dollars: zero or at least a cent (subnormal floats make the pro-rata split meaningless).
dollars = st.one_of(st.just(0.0), st.floats(0.01, 1e12))


@given(
    matrix(5, 3, dollars),
    arrays(np.float64, (5, 3), elements=st.floats(0.05, 1.0)),
    arrays(np.float64, (5,), elements=dollars),
    unit,
    unit,
)
def test_diversion_never_creates_more_than_was_lost_nor_beyond_capacity(
    base: F, mult: F, rest: F, diversion: float, absorption: float
) -> None:
    x, r = rules.exports_with_tariffs(base, mult, rest, diversion, absorption)
    lost = (base * (1 - mult)).sum(axis=1)
    gained = (x - base * mult).sum(axis=1) + (r - rest)
    assert np.all(gained <= diversion * lost + 1e-6 * (1 + base.sum(axis=1) + rest))
    kept = base * mult  # (kept + gain) - kept carries the rounding of the larger number
    assert np.all(x - kept <= absorption * kept + 1e-9 * (1 + kept))
    assert np.all(r - rest <= absorption * rest + 1e-9 * (1 + rest))
    assert np.all(x >= -1e-9) and np.all(r >= rest - 1e-9)


@given(matrix(4, 2, st.floats(1.0, 1e11)), matrix(4, 2, unit))
def test_follow_alignment_keeps_totals_without_growth(flows: F, affinity: F) -> None:
    out = rules.follow_alignment(flows, affinity, np.zeros(2), pull=0.05, dt=1 / 12)
    np.testing.assert_allclose(out.sum(axis=1), flows.sum(axis=1), rtol=1e-9)


def test_follow_alignment_shifts_toward_the_aligned_power() -> None:
    flows = np.array([[50.0, 50.0]])
    out = rules.follow_alignment(flows, np.array([[0.2, 0.8]]), np.zeros(2), 0.5, 1.0)
    assert out[0, 1] > 50.0 > out[0, 0]


def test_follow_alignment_keeps_unknown_ties_unknown() -> None:
    flows = np.array([[50.0, np.nan]])
    out = rules.follow_alignment(flows, np.array([[0.2, 0.8]]), np.zeros(2), 0.5, 1.0)
    assert np.isnan(out[0, 1]) and np.isfinite(out[0, 0])


# ----------------------------------------------------------------------------- investment


@given(
    arrays(np.float64, 6, elements=st.one_of(finite, st.just(np.nan))),
    arrays(np.float64, 6, elements=st.floats(1e8, 1e13)),
    arrays(np.float64, 6, elements=unit),
    arrays(np.float64, 6, elements=st.floats(0.0, 2.0)),
)
def test_allocation_weights_are_a_distribution(stock: F, gdp: F, affinity: F, ties: F) -> None:
    w = rules.allocation_weights(stock, gdp, affinity, ties, IR)
    assert np.all(w >= 0)
    assert w.sum() == pytest.approx(1.0)


def test_allocation_favours_aligned_bloc_members_with_stock() -> None:
    gdp = np.array([1e11, 1e11])
    base = rules.allocation_weights(
        np.array([1e9, 1e9]), gdp, np.array([0.5, 0.5]), np.zeros(2), IR
    )
    assert base[0] == pytest.approx(0.5)
    aligned = rules.allocation_weights(
        np.array([1e9, 1e9]), gdp, np.array([0.8, 0.5]), np.zeros(2), IR
    )
    member = rules.allocation_weights(
        np.array([1e9, 1e9]), gdp, np.array([0.5, 0.5]), np.array([1.0, 0.0]), IR
    )
    stock = rules.allocation_weights(
        np.array([5e9, 1e9]), gdp, np.array([0.5, 0.5]), np.zeros(2), IR
    )
    assert aligned[0] > 0.5 and member[0] > 0.5 and stock[0] > 0.5


def test_amortise_halves_debt_in_amortisation_years_ln2() -> None:
    d = rules.amortise(np.array([100.0]), IR, IR.amortisation_years * np.log(2))
    assert d[0] == pytest.approx(50.0)


# ----------------------------------------------------------------------------- alignment


def test_trade_tie_is_each_powers_share_of_trade_with_everyone() -> None:
    exports = np.array([[60.0, 20.0]])
    imports = np.array([[30.0, 10.0]])
    t = rules.trade_tie(exports, imports, np.array([20.0]), np.array([60.0]))
    np.testing.assert_allclose(t[0], [90 / 200, 30 / 200])


def test_trade_tie_uses_the_flows_known_for_each_power() -> None:
    exports = np.array([[60.0, np.nan]])
    imports = np.array([[np.nan, np.nan]])
    t = rules.trade_tie(exports, imports, np.array([40.0]), np.array([100.0]))
    assert t[0, 0] == pytest.approx(60 / 100)  # exports known: share of total exports
    assert np.isnan(t[0, 1])


def test_a_powers_trade_tie_does_not_depend_on_other_powers() -> None:
    # A third power's trade was part of the rest of the world before it was modelled.
    two = rules.trade_tie(np.array([[60.0, 20.0]]), np.array([[30.0, 10.0]]), *_rest(20, 60))
    three = rules.trade_tie(
        np.array([[60.0, 20.0, 15.0]]), np.array([[30.0, 10.0, 40.0]]), *_rest(5, 20)
    )
    np.testing.assert_allclose(three[0, :2], two[0])
    # ... and a third power without any figure changes nothing either
    none = rules.trade_tie(
        np.array([[60.0, 20.0, np.nan]]), np.array([[30.0, 10.0, np.nan]]), *_rest(20, 60)
    )
    np.testing.assert_allclose(none[0, :2], two[0])


def _rest(x: float, m: float) -> tuple[F, F]:
    return np.array([x]), np.array([m])


def test_intensity_tie_is_half_at_half_saturation() -> None:
    debt = np.array([[0.0, 5.0], [np.nan, 50.0]])
    gdp = np.array([100.0, 100.0])
    t = rules.intensity_tie(debt, gdp, half_saturation=0.05)
    assert t[0, 1] == pytest.approx(0.5)
    assert t[0, 0] == 0.0 and np.isnan(t[1, 0])
    assert t[0, 1] < t[1, 1] < 1.0


def test_bloc_and_engagement_ties() -> None:
    assert rules.bloc_tie(np.array([1.0]), 1.0)[0] == pytest.approx(0.5)
    assert rules.bloc_tie(np.array([0.0]), 1.0)[0] == 0.0
    np.testing.assert_allclose(rules.engagement_tie(np.array([0.0, 1.0, 3.0])), [0, 0.5, 0.75])


def test_impute_fills_unknowns_with_the_powers_median_and_leaves_a_power_known_nowhere() -> None:
    tie = np.array([[0.1, np.nan, np.nan], [0.3, 0.2, np.nan], [np.nan, 0.4, np.nan]])
    filled, known = rules.impute(tie)
    np.testing.assert_allclose(filled[:, 0], [0.1, 0.3, 0.2])
    np.testing.assert_allclose(filled[:, 1], [0.3, 0.2, 0.4])
    assert known[:, :2].all() and not known[:, 2].any()


def test_target_affinity_ignores_unknown_ties_per_power() -> None:
    a = np.array([[0.0, 1.0]])
    b = np.array([[1.0, 0.0]])
    t = rules.target_affinity(
        [(0.5, a, np.array([[True, True]])), (0.5, b, np.array([[True, False]]))]
    )
    np.testing.assert_allclose(t[0], [0.5, 1.0])


@given(
    matrix(5, 2, unit), matrix(5, 2, unit), arrays(np.float64, (5, 2), elements=st.floats(-4, 4))
)
def test_alignment_step_stays_in_unit_interval(a: F, target: F, z: F) -> None:
    out = rules.alignment_step(a, target, AR, 1 / 12, z)
    assert np.all((out >= 0) & (out <= 1))


def test_alignment_step_moves_toward_target_without_noise() -> None:
    p = AlignmentRules(noise=0.0, rate=1.0)
    out = rules.alignment_step(
        np.array([[0.2, 0.8]]), np.array([[0.6, 0.4]]), p, 1.0, np.zeros((1, 2))
    )
    np.testing.assert_allclose(out, [[0.2 + 0.4 * (1 - np.exp(-1)), 0.8 - 0.4 * (1 - np.exp(-1))]])


def test_neighbour_mean_and_peers() -> None:
    a = np.array([[0.0, 1.0], [1.0, 0.0], [0.5, 0.5]])
    src, dst = np.array([0, 1]), np.array([1, 0])
    peer, has = rules.neighbour_mean(a, src, dst)
    np.testing.assert_allclose(peer[0], [1.0, 0.0])
    assert has.tolist() == [True, True, False]
    blended = rules.with_peers(a, peer, has, AlignmentRules(peer_weight=0.5))
    np.testing.assert_allclose(blended[0], [0.5, 0.5])
    np.testing.assert_allclose(blended[2], a[2])


@given(matrix(3, 2, unit))
def test_tilt_is_in_minus_one_one(a: F) -> None:
    t = rules.tilt(a, 0, 1)
    assert np.all((t >= -1) & (t <= 1))


# ----------------------------------------------------------------------------- threats


def test_tariff_exposure_matches_formula() -> None:
    e = rules.tariff_exposure(37e9, 2.17e12, 1.0, 0.76, 1.0)
    assert e == pytest.approx(37e9 / 2.17e12 * (1 - 2.0**-0.76))
    assert rules.tariff_exposure(float("nan"), 1e12, 1.0, 0.76, 1.0) == 0.0


def test_partial_coverage_lowers_exposure_in_proportion() -> None:
    full = rules.tariff_exposure(37e9, 2.17e12, 1.0, 0.76, 1.0)
    assert rules.tariff_exposure(37e9, 2.17e12, 1.0, 0.76, 0.4) == pytest.approx(0.4 * full)


def test_cost_of_defying_adds_debt_leverage() -> None:
    assert rules.cost_of_defying(0.01, 0.0, 0.5, 0.0, THR) == pytest.approx(0.005)
    with_debt = rules.cost_of_defying(0.01, 0.04, 0.5, 0.0, THR)
    assert with_debt == pytest.approx(0.5 * (0.01 + THR.debt_leverage * 0.04))


def test_black_knight_lowers_the_cost_of_defying_and_the_chance_of_complying() -> None:
    offset = rules_coercion.black_knight_offset(0.6, THR)
    assert offset == pytest.approx(THR.black_knight * 0.6)
    assert rules_coercion.black_knight_offset(5.0, ThreatRules(black_knight=1.0)) == 0.9  # capped
    alone = rules.cost_of_defying(0.01, 0.0, 0.6, 0.0, THR)
    helped = rules.cost_of_defying(0.01, 0.0, 0.6, offset, THR)
    assert helped == pytest.approx(alone * (1 - offset))
    assert rules.comply_probability(helped, 0.005, THR) < rules.comply_probability(
        alone, 0.005, THR
    )


def test_rival_is_the_other_power_with_the_largest_tie() -> None:
    ties = np.array([[0.7, 0.2, 0.1], [0.2, 0.5, 0.3]])
    assert rules_coercion.rival(ties, 0).tolist() == [1, 1]
    assert rules_coercion.rival(ties, 1).tolist() == [0, 2]


def test_adversaries_find_complying_costlier_than_allies() -> None:
    ally = rules.cost_of_complying(0.005, 1.0, 1.0, 0.5, 0.0, THR)
    neutral = rules.cost_of_complying(0.005, 1.0, 1.0, 0.0, 0.0, THR)
    adversary = rules.cost_of_complying(0.005, 1.0, 1.0, -0.5, 0.0, THR)
    assert ally < neutral < adversary
    assert neutral == pytest.approx(0.005)
    assert ally == pytest.approx(0.005 * np.exp(-THR.alignment_weight * 0.5))
    p_ally = rules.comply_probability(0.004, ally, THR)
    assert p_ally > rules.comply_probability(0.004, adversary, THR)


def test_closeness_is_affinity_to_the_sender_minus_the_others_mean() -> None:
    a = np.array([[0.8, 0.2, 0.4], [0.1, 0.9, 0.5]])
    np.testing.assert_allclose(rules_coercion.closeness(a, 0), [0.8 - 0.3, 0.1 - 0.7])
    assert rules_coercion.closeness(np.array([0.3, 0.7]), 1) == pytest.approx(0.4)


def test_withheld_lending_costs_a_share_of_the_refinancing_need() -> None:
    cost = rules_coercion.lending_exposure(0.5, 15e9, 1e9, 1e11, 15.0)
    assert cost == pytest.approx(0.5 * (1e9 + 1e9) / 1e11)
    assert rules_coercion.lending_exposure(1.0, float("nan"), 0.0, 1e11, 15.0) == 0.0


def test_higher_sender_cost_lowers_the_chance_of_imposing() -> None:
    cheap = rules_coercion.impose_probability(0.6, 0.0001, 0.001, THR)
    dear = rules_coercion.impose_probability(0.6, 0.003, 0.001, THR)
    assert 0.6 >= cheap > dear > 0
    assert rules_coercion.impose_probability(0.6, 0.0, 0.001, THR) == pytest.approx(0.6)


def test_sender_cost_counts_its_covered_imports_and_expected_retaliation() -> None:
    bite = 1 - 1.25**-0.76
    own = rules_coercion.sender_cost(4e11, 0.25, 3e11, 0.25, 0.0, 2.7e13, 0.76)
    assert own == pytest.approx(4e11 * bite / 2.7e13)
    both = rules_coercion.sender_cost(4e11, 0.25, 3e11, 0.25, 0.5, 2.7e13, 0.76)
    assert both == pytest.approx((4e11 + 0.5 * 3e11) * bite / 2.7e13)


def test_retaliation_is_likelier_for_adversaries() -> None:
    assert rules_coercion.retaliation_probability(0.0, THR) == pytest.approx(THR.retaliation)
    assert rules_coercion.retaliation_probability(-1.0, THR) == pytest.approx(2 * THR.retaliation)
    assert rules_coercion.retaliation_probability(1.0, THR) == 0.0


def test_rally_hardens_adversaries_and_erodes_allies() -> None:
    assert rules_coercion.resolve_after(1.0, -0.5, THR) == pytest.approx(np.exp(0.5 * THR.rally))
    assert rules_coercion.resolve_after(1.0, 0.5, THR) < 1.0
    assert rules_coercion.resolve_after(1.0, -1.0, ThreatRules(rally=10.0)) == pytest.approx(1000)
    relaxed = rules_coercion.relax_resolve(np.array([4.0]), 2.0, 2.0)
    assert relaxed[0] == pytest.approx(2.0)


def test_vigilance_per_month_converts_to_any_step() -> None:
    quarterly = rules_coercion.per_step_from_monthly(0.2, 3)
    assert quarterly == pytest.approx(1 - 0.8**3)
    assert rules_coercion.per_step_from_monthly(1.0, 12) == 1.0
    assert rules_coercion.per_step_from_monthly(0.2, 1) == pytest.approx(0.2)


def test_comply_probability_edges_and_symmetry() -> None:
    assert rules.comply_probability(0.01, 0.01, THR) == pytest.approx(0.5)
    assert rules.comply_probability(0.0, 0.01, THR) == 0.0
    assert rules.comply_probability(0.01, 0.0, THR) == 1.0
    hi = rules.comply_probability(0.04, 0.01, THR)
    assert hi == pytest.approx(1 / (1 + 0.25**THR.sharpness))


def test_comply_probability_saturates_at_extreme_ratios_without_warning() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # (comply/defy)^sharpness overflows: no RuntimeWarning
        assert rules.comply_probability(1e-300, 1e300, THR) == 0.0
        assert rules.comply_probability(1e300, 1e-300, THR) == 1.0
        assert rules.comply_probability(np.float64(1e-300), np.float64(1e300), THR) == 0.0


@given(st.floats(1e-6, 1.0), st.floats(1e-6, 1.0), st.floats(1e-6, 1.0))
def test_comply_probability_increases_with_cost_of_defying(c: float, d1: float, d2: float) -> None:
    lo, hi = sorted((d1, d2))
    assert rules.comply_probability(lo, c, THR) <= rules.comply_probability(hi, c, THR)


def test_reputation_falls_on_back_down_and_rises_on_enforcement() -> None:
    assert rules.reputation_after(1.0, False, THR) == pytest.approx(1 - THR.reputation_loss)
    r = rules.reputation_after(0.5, True, THR)
    assert 0.5 < r <= 1.0


@given(st.floats(0, 1), st.booleans())
def test_reputation_stays_in_unit_interval(r: float, carried: bool) -> None:
    assert 0.0 <= rules.reputation_after(r, carried, THR) <= 1.0


# ----------------------------------------------------------------------------- blocs


def test_membership_value_weights() -> None:
    v = rules_blocs.membership_value(
        np.array([0.6]), np.array([0.7]), np.array([0.5]), np.array([0.01]), BR
    )
    expected = (
        BR.weight_alignment * 0.6
        + BR.weight_economy * 0.7
        + BR.weight_diffusion * 0.5
        - BR.weight_threat * 0.01
    )
    assert v[0] == pytest.approx(expected)


def test_join_hazard_grows_with_value_and_change_and_is_zero_when_not_eligible() -> None:
    h = rules_blocs.join_hazard(
        np.array([0.0, 0.5, 0.5, 0.5]),
        np.array([0.0, 0.0, 0.2, 0.2]),
        np.array([True, True, True, False]),
        BR,
    )
    assert h[0] == pytest.approx(BR.join_rate)
    assert h[0] < h[1] < h[2] and h[3] == 0.0
    assert h[2] == pytest.approx(BR.join_rate * np.exp(0.5 + BR.weight_change * 0.2))


def test_leave_hazard_is_the_status_quo_rate_unless_value_fell() -> None:
    h = rules_blocs.leave_hazard(np.array([0.0, -0.5, 0.5]), BR)
    assert h[0] == pytest.approx(BR.leave_rate)
    assert h[1] > h[0] > h[2]


def test_switch_probability_composes_over_steps() -> None:
    h = np.array([0.7])
    monthly = rules_blocs.switch_probability(h, 1 / 12)
    yearly = rules_blocs.switch_probability(h, 1.0)
    assert 1 - (1 - monthly[0]) ** 12 == pytest.approx(yearly[0])


def test_region_share_counts_the_other_states_of_the_region() -> None:
    share = rules_blocs.region_share(np.array([1.0, 0.0, 0.5, 1.0]), np.array([0, 0, 0, 1]))
    np.testing.assert_allclose(share, [0.25, 0.75, 0.5, 0.0])


def test_competing_redecisions_split_by_rate_and_compose_over_steps() -> None:
    a, b, dt = 6.0, 2.0, 0.25
    first_a, first_b = rules_coercion.first_of(a, b, dt)
    assert first_a + first_b == pytest.approx(1 - math.exp(-(a + b) * dt))
    assert first_a / first_b == pytest.approx(a / b)  # whichever is looked at first
    # two half steps give the same chances as one whole step: step length does not matter
    half_a, half_b = rules_coercion.first_of(a, b, dt / 2)
    stay = 1 - half_a - half_b
    assert half_a + stay * half_a == pytest.approx(first_a)
    assert half_b + stay * half_b == pytest.approx(first_b)
    assert rules_coercion.first_of(0.0, 0.0, dt) == (0.0, 0.0)
    assert rules_coercion.first_of(3.0, 0.0, dt)[1] == 0.0
