"""Every rule accepts leading run axes: on runs stacked along them, a rule gives exactly (bit for
bit) the stack of its results on each run, so an ensemble engine can batch runs without rewriting
the rules. The convention (what may carry the run axis) is in the docstring of `sim/rules.py`.

`BATCHED` says, for each rule that takes state data, how to draw one run's arguments (shapes and
domains as the model passes them) and which arguments carry the run axis; `SHARED` lists the rules
that take only rule parameters, which a batch shares. A public function of `sim.rules` in neither
fails `test_every_rule_has_a_batched_property_test`: add its entry when you add a rule.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from numpy.typing import NDArray

from sim import rules, rules_blocs, rules_coercion
from sim.scenario import AlignmentRules, BlocRules, InvestmentRules, ThreatRules, TradeRules

Args = tuple[Any, ...]
Dims = tuple[int, int]
"""(states, powers) of one run."""


@dataclass(frozen=True)
class Case:
    """How to draw one run's arguments of a rule, and which of them carry the run axis.

    Arguments in neither `runs` nor `either` (rule parameters, edges) are drawn once and shared.
    """

    draw: Callable[[Dims], st.SearchStrategy[Args]]
    runs: frozenset[int] = frozenset()
    """Positions that always carry the run axis (per-run state data: draws, shocks)."""
    either: frozenset[int] = frozenset()
    """Positions that carry it or are shared by every run (broadcast), drawn per example."""
    call: Callable[..., Any] | None = None
    """How to call the rule with the drawn arguments; default the rule itself."""
    elementwise: bool = False
    """Whether a run may be one value (0 states: 0-d arrays, as the model passes one tariff; the
    threat rules' scalars): NumPy's scalar arithmetic is not always its vectorised arithmetic."""


# --------------------------------------------------------------------------- domains


def real(lo: float, hi: float) -> st.SearchStrategy[float]:
    """Floats in [lo, hi]: hypothesis' (edges, round numbers) or uniform ones (generic bits, where
    NumPy's scalar and vectorised power differ)."""
    edgy = st.floats(lo, hi, allow_nan=False, allow_infinity=False)
    uniform = st.integers(0, 2**53).map(lambda i: min(hi, lo + (hi - lo) * (i / 2**53)))
    return st.one_of(edgy, uniform)


unit = real(0.0, 1.0)
money = st.one_of(st.just(0.0), real(1.0, 1e16))
"""Amounts in US$: 0, or 1 to 1e16 (the schema's range)."""
tie = st.one_of(money, st.just(np.nan))
"""A tie's amount, NaN when not known."""
gdp_value = real(1e6, 1e16)
dt = st.sampled_from([1 / 12, 0.25, 1.0])
cost = st.one_of(real(0.0, 1.0), real(0.0, 1e300))
"""A cost in shares of GDP; up to 1e300 so that (comply/defy)^sharpness overflows and underflows."""


def one(elements: st.SearchStrategy[float]) -> st.SearchStrategy[NDArray[np.float64]]:
    """A 0-d array (cheaper to draw than through `arrays`)."""
    return elements.map(lambda v: np.asarray(v, dtype=np.float64))


def grid(d: Dims, elements: st.SearchStrategy[float]) -> st.SearchStrategy[NDArray[np.float64]]:
    """One run's (states, powers) array; a 0-d array for 0 states."""
    return arrays(np.float64, d, elements=elements) if d[0] else one(elements)


def column(d: Dims, elements: st.SearchStrategy[float]) -> st.SearchStrategy[NDArray[np.float64]]:
    """One run's (states,) array; a 0-d array for 0 states."""
    return arrays(np.float64, d[0], elements=elements) if d[0] else one(elements)


def flags(d: Dims) -> st.SearchStrategy[NDArray[np.bool_]]:
    """One run's (states,) mask."""
    return arrays(np.bool_, d[0], elements=st.booleans())


def flag_grid(d: Dims) -> st.SearchStrategy[NDArray[np.bool_]]:
    """One run's (states, powers) mask."""
    return arrays(np.bool_, d, elements=st.booleans())


def edges(d: Dims) -> st.SearchStrategy[tuple[NDArray[np.intp], NDArray[np.intp]]]:
    """Neighbour edges (src, dst) between one run's states."""
    ends = st.integers(0, d[0] - 1)
    return st.integers(0, 3 * d[0]).flatmap(
        lambda e: st.tuples(arrays(np.intp, e, elements=ends), arrays(np.intp, e, elements=ends))
    )


trade_rules = (
    st.tuples(real(0.0, 20.0), real(0.0, 20.0), real(0.0, 20.0))
    .map(sorted)
    .filter(lambda e: e[0] < e[1] < e[2])  # the profile's elasticities increase with time
    .map(lambda e: TradeRules(elasticity_impact=e[0], elasticity_short=e[1], elasticity_long=e[2]))
)
investment_rules = st.builds(
    InvestmentRules,
    size_exponent=real(0.0, 4.0),
    alignment_weight=real(0.0, 20.0),
    bloc_bonus=real(0.0, 1000.0),
    greenfield_share=st.one_of(st.just(0.0), real(0.0, 100.0)),
    amortisation_years=real(0.1, 100.0),
)
threat_rules = st.builds(
    ThreatRules,
    sharpness=st.one_of(real(0.5, 10.0), real(0.01, 1000.0)),
    debt_leverage=real(0.0, 1000.0),
    reputation_loss=unit,
    reputation_gain=unit,
    sender_sharpness=st.one_of(real(0.5, 10.0), real(0.01, 1000.0)),
    alignment_weight=real(0.0, 20.0),
    black_knight=unit,
    retaliation=unit,
    rally=real(-10.0, 10.0),
)
bloc_rules = st.builds(
    BlocRules,
    join_rate=real(0.0, 100.0),
    leave_rate=real(0.0, 100.0),
    weight_alignment=real(0.0, 1000.0),
    weight_diffusion=real(0.0, 1000.0),
    weight_change=real(0.0, 1000.0),
)
alignment_rules = st.builds(
    AlignmentRules, rate=real(0.01, 10.0), peer_weight=unit, noise=real(0.0, 10.0)
)

TIES = 6
"""Components of a target affinity, as in the model (trade, FDI, debt, bloc, engagement, sphere)."""


def components(d: Dims) -> st.SearchStrategy[Args]:
    """target_affinity's components, flat: (weight, shares, known) per tie."""
    tie_part = st.tuples(st.one_of(st.just(0.0), real(0.0, 1000.0)), grid(d, unit), flag_grid(d))
    return st.lists(tie_part, min_size=TIES, max_size=TIES).map(lambda c: sum(c, ()))


def target_affinity_flat(*flat: Any) -> Any:
    """target_affinity on flat (weight, shares, known) triples."""
    return rules.target_affinity(
        [(flat[i], flat[i + 1], flat[i + 2]) for i in range(0, len(flat), 3)]
    )


# --------------------------------------------------------------------------- the registries


BATCHED: dict[str, Case] = {
    "fill": Case(lambda d: st.tuples(grid(d, tie)), elementwise=True, runs=frozenset({0})),
    "logistic": Case(
        lambda d: st.tuples(column(d, real(-1e6, 1e6))), elementwise=True, runs=frozenset({0})
    ),
    "tariff_shock": Case(
        lambda d: st.tuples(
            grid(d, real(0.01, 1.5)),
            grid(d, real(0.0, 10.0)),
            grid(d, real(0.0, 10.0)),
            trade_rules,
        ),
        elementwise=True,
        runs=frozenset({0}),
        either=frozenset({1, 2}),
    ),
    "tariff_adjust": Case(
        lambda d: st.tuples(grid(d, real(0.01, 1.5)), grid(d, real(0.0, 10.0)), trade_rules, dt),
        elementwise=True,
        runs=frozenset({0}),
        either=frozenset({1}),
    ),
    "follow_alignment": Case(
        lambda d: st.tuples(
            grid(d, tie),
            grid(d, unit),
            arrays(np.float64, d[1], elements=real(-0.5, 0.5)),
            real(0.0, 1.0),
            dt,
        ),
        runs=frozenset({0}),
        either=frozenset({1, 2}),
    ),
    "exports_with_tariffs": Case(
        lambda d: st.tuples(grid(d, tie), grid(d, real(0.05, 1.0)), column(d, tie), unit, unit),
        runs=frozenset({0}),
        either=frozenset({1, 2}),
    ),
    "allocation_weights": Case(
        lambda d: st.tuples(
            column(d, tie),
            column(d, gdp_value),
            column(d, unit),
            column(d, real(0.0, 2.0)),
            investment_rules,
        ),
        runs=frozenset({0}),
        either=frozenset({1, 2, 3}),
    ),
    "amortise": Case(
        lambda d: st.tuples(grid(d, tie), investment_rules, dt),
        elementwise=True,
        runs=frozenset({0}),
    ),
    "trade_tie": Case(
        lambda d: st.tuples(grid(d, tie), grid(d, tie), column(d, tie), column(d, tie)),
        runs=frozenset({0}),
        either=frozenset({1, 2, 3}),
    ),
    "intensity_tie": Case(
        lambda d: st.tuples(grid(d, tie), column(d, gdp_value), real(0.01, 10.0)),
        runs=frozenset({0}),
        either=frozenset({1}),
    ),
    "engagement_tie": Case(
        lambda d: st.tuples(grid(d, real(0.0, 2000.0))), elementwise=True, runs=frozenset({0})
    ),
    "known_only": Case(
        lambda d: st.tuples(grid(d, st.one_of(unit, st.just(np.nan)))), runs=frozenset({0})
    ),
    "impute": Case(
        lambda d: st.tuples(grid(d, st.one_of(unit, st.just(np.nan)))), runs=frozenset({0})
    ),
    "bloc_tie": Case(
        lambda d: st.tuples(grid(d, st.sampled_from([0.0, 0.5, 1.0, 1.5])), real(0.01, 10.0)),
        runs=frozenset({0}),
    ),
    "target_affinity": Case(
        components,
        either=frozenset(i for i in range(3 * TIES) if i % 3),
        call=target_affinity_flat,
    ),
    "neighbour_mean": Case(
        lambda d: st.tuples(grid(d, unit), edges(d)).map(lambda a: (a[0], *a[1])),
        runs=frozenset({0}),
    ),
    "with_peers": Case(
        lambda d: st.tuples(grid(d, unit), grid(d, unit), flags(d), alignment_rules),
        runs=frozenset({0}),
        either=frozenset({1, 2}),
    ),
    "alignment_step": Case(
        lambda d: st.tuples(
            grid(d, unit), grid(d, unit), alignment_rules, dt, grid(d, real(-6, 6))
        ),
        elementwise=True,
        runs=frozenset({0, 4}),
        either=frozenset({1}),
    ),
    "tilt": Case(
        lambda d: st.tuples(grid(d, unit), st.integers(0, d[1] - 1), st.integers(0, d[1] - 1)),
        runs=frozenset({0}),
    ),
    # The threat rules: the model passes one threat's scalars; a batch stacks them to (runs,).
    "tariff_exposure": Case(
        lambda d: st.tuples(
            st.one_of(money, st.sampled_from([np.nan, np.inf])),
            gdp_value,
            real(0.0, 10.0),
            real(0.0, 20.0),
            real(1e-6, 1.0),
        ),
        elementwise=True,
        runs=frozenset({0}),
        either=frozenset({1}),
    ),
    "cost_of_defying": Case(
        lambda d: st.tuples(real(0.0, 100.0), real(0.0, 100.0), unit, real(0.0, 0.9), threat_rules),
        elementwise=True,
        runs=frozenset({0}),
        either=frozenset({1, 2, 3}),
    ),
    "cost_of_complying": Case(
        lambda d: st.tuples(
            real(0.0, 100.0),
            real(0.0, 1000.0),
            real(1e-3, 1e3),
            real(-1.0, 1.0),
            real(0.0, 100.0),
            threat_rules,
        ),
        elementwise=True,
        runs=frozenset({0}),
        either=frozenset({1, 2, 3, 4}),
    ),
    "ratio_logit": Case(
        lambda d: st.tuples(cost, cost, real(0.01, 1000.0)),
        elementwise=True,
        runs=frozenset({0}),
        either=frozenset({1}),
    ),
    # sim.rules_coercion
    "first_of": Case(
        lambda d: st.tuples(real(0.0, 100.0), real(0.0, 100.0), dt),
        elementwise=True,
        runs=frozenset({0}),
        either=frozenset({1}),
    ),
    "tariff_bite": Case(
        lambda d: st.tuples(real(0.0, 10.0), real(0.0, 20.0)),
        elementwise=True,
        runs=frozenset({0}),
    ),
    "lending_exposure": Case(
        lambda d: st.tuples(unit, tie, money, gdp_value, real(0.1, 100.0)),
        elementwise=True,
        runs=frozenset({0}),
        either=frozenset({1, 2, 3}),
    ),
    "closeness": Case(
        lambda d: st.tuples(grid(d, unit), st.integers(0, d[1] - 1)),
        runs=frozenset({0}),
    ),
    "rival": Case(
        lambda d: st.tuples(grid(d, st.one_of(unit, st.just(np.nan))), st.integers(0, d[1] - 1)),
        runs=frozenset({0}),
    ),
    "black_knight_offset": Case(
        lambda d: st.tuples(st.one_of(unit, st.just(np.nan)), threat_rules),
        elementwise=True,
        runs=frozenset({0}),
    ),
    "retaliation_probability": Case(
        lambda d: st.tuples(real(-1.0, 1.0), threat_rules),
        elementwise=True,
        runs=frozenset({0}),
    ),
    "sender_cost": Case(
        lambda d: st.tuples(
            tie, real(0.0, 10.0), tie, real(0.0, 10.0), unit, gdp_value, real(0, 20)
        ),
        elementwise=True,
        runs=frozenset({0}),
        either=frozenset({1, 2, 3, 4, 5}),
    ),
    "impose_probability": Case(
        lambda d: st.tuples(unit, cost, cost, threat_rules),
        elementwise=True,
        runs=frozenset({1}),
        either=frozenset({0, 2}),
    ),
    "resolve_after": Case(
        lambda d: st.tuples(real(1e-3, 1e3), real(-1.0, 1.0), threat_rules),
        elementwise=True,
        runs=frozenset({0}),
        either=frozenset({1}),
    ),
    "relax_resolve": Case(
        lambda d: st.tuples(grid(d, real(1e-3, 1e3)), real(0.01, 100.0), dt),
        elementwise=True,
        runs=frozenset({0}),
    ),
    "comply_probability": Case(
        lambda d: st.tuples(cost, cost, threat_rules),
        elementwise=True,
        runs=frozenset({0}),
        either=frozenset({1}),
    ),
    "decide": Case(
        lambda d: st.tuples(unit, unit),
        elementwise=True,
        runs=frozenset({1}),
        either=frozenset({0}),
    ),
    "reputation_after": Case(
        lambda d: st.tuples(unit, st.booleans(), threat_rules),
        elementwise=True,
        runs=frozenset({0}),
        either=frozenset({1}),
    ),
    # sim.rules_blocs
    "membership_value": Case(
        lambda d: st.tuples(
            column(d, real(-1.0, 1.0)),
            column(d, unit),
            column(d, unit),
            column(d, real(0.0, 1.0)),
            bloc_rules,
        ),
        elementwise=True,
        runs=frozenset({0}),
        either=frozenset({1, 2, 3}),
    ),
    "join_hazard": Case(
        lambda d: st.tuples(
            column(d, real(-50.0, 50.0)), column(d, real(-50.0, 50.0)), flags(d), bloc_rules
        ),
        runs=frozenset({0}),
        either=frozenset({1, 2}),
    ),
    "leave_hazard": Case(
        lambda d: st.tuples(column(d, real(-50.0, 50.0)), bloc_rules),
        elementwise=True,
        runs=frozenset({0}),
    ),
    "confirm_probability": Case(
        lambda d: st.tuples(column(d, real(-50.0, 50.0)), column(d, real(-50.0, 50.0)), bloc_rules),
        elementwise=True,
        runs=frozenset({0}),
        either=frozenset({1}),
    ),
    "switch_probability": Case(
        lambda d: st.tuples(column(d, real(0.0, 1e6)), dt),
        elementwise=True,
        runs=frozenset({0}),
    ),
    "region_share": Case(
        lambda d: st.tuples(
            column(d, st.sampled_from([0.0, 0.5, 1.0])),
            arrays(np.intp, d[0], elements=st.integers(0, 2)),
        ),
        runs=frozenset({0}),
    ),
}

SHARED: dict[str, st.SearchStrategy[Args]] = {
    "decay": st.tuples(real(0.01, 100.0), dt),
    "approach": st.tuples(real(0.0, 100.0), dt),
    "per_step_from_monthly": st.tuples(unit, st.sampled_from([1, 3, 12])),
}
"""Rules of parameters only: one float for the whole batch."""


# --------------------------------------------------------------------------- checks


MODULES = (rules, rules_coercion, rules_blocs)
"""The modules of pure rules (sim.rules_coercion holds the coercion rules beyond the basics)."""


def public_rules() -> set[str]:
    """Every public function defined in the rule modules."""
    return {
        name
        for module in MODULES
        for name, fn in inspect.getmembers(module, inspect.isfunction)
        if fn.__module__ == module.__name__ and not name.startswith("_")
    }


def rule_named(name: str) -> Callable[..., Any]:
    """The rule function of that name, from whichever rule module defines it."""
    for module in MODULES:
        fn = getattr(module, name, None)
        if fn is not None and fn.__module__ == module.__name__:
            return fn  # type: ignore[no-any-return]
    raise KeyError(name)


def assert_same_stack(together: Any, each: list[Any], lead: tuple[int, ...]) -> None:
    """`together` is the stack of `each` (reshaped to the run axes), bit for bit."""
    if isinstance(together, tuple):
        assert all(isinstance(e, tuple) and len(e) == len(together) for e in each)
        for k, part in enumerate(together):
            assert_same_stack(part, [e[k] for e in each], lead)
        return
    got = np.asarray(together)
    want = np.stack([np.asarray(e) for e in each])
    want = want.reshape(lead + want.shape[1:])
    assert (got.dtype, got.shape) == (want.dtype, want.shape)
    if got.dtype.kind == "f":
        # Equal as numbers (NaN to NaN) and in sign, so -0.0 and 0.0 differ too.
        assert np.array_equal(got, want, equal_nan=True)
        assert np.array_equal(np.signbit(got), np.signbit(want))
    else:
        assert np.array_equal(got, want)


def stack_args(per_run: list[Args], stacked: set[int], lead: tuple[int, ...]) -> Args:
    """The batch's arguments: stacked positions gain the run axes, the others are run 0's."""
    out = []
    for i, first in enumerate(per_run[0]):
        if i in stacked:
            column = np.stack([np.asarray(run[i]) for run in per_run])
            out.append(column.reshape(lead + column.shape[1:]))
        else:
            out.append(first)
    return tuple(out)


def test_every_rule_has_a_batched_property_test() -> None:
    have = set(BATCHED) | set(SHARED)
    assert not set(BATCHED) & set(SHARED)
    missing, stale = sorted(public_rules() - have), sorted(have - public_rules())
    assert not missing, f"rules without a batched property test (add them to BATCHED): {missing}"
    assert not stale, f"BATCHED or SHARED names functions sim.rules lacks: {stale}"


@pytest.mark.parametrize("name", sorted(BATCHED))
@settings(max_examples=30, deadline=None)
@given(data=st.data())
def test_a_rule_on_stacked_runs_is_the_stack_of_the_rule_on_each(
    name: str, data: st.DataObject
) -> None:
    case = BATCHED[name]
    single = case.elementwise and data.draw(st.booleans(), label="one value per run")
    states = 0 if single else data.draw(st.integers(1, 12), label="states")
    dims = (states, data.draw(st.integers(1, 4), label="powers"))
    # Many runs of one value each: scalar and vectorised power differ for a few percent of them.
    leads = [(1,), (2,), (3,), (2, 2), *([(32,), (4, 8)] if single else [])]
    lead = data.draw(st.sampled_from(leads), label="run axes")
    chosen = data.draw(
        st.sets(st.sampled_from(sorted(case.either)), min_size=0 if case.runs else 1)
        if case.either
        else st.just(set[int]()),
        label="also stacked",
    )
    stacked = set(case.runs) | chosen
    runs = [data.draw(case.draw(dims), label=f"run {r}") for r in range(int(np.prod(lead)))]
    # Shared arguments are the same object in every run.
    per_run = [tuple(a if i in stacked else runs[0][i] for i, a in enumerate(r)) for r in runs]
    rule = case.call or rule_named(name)
    each = [rule(*args) for args in per_run]
    together = rule(*stack_args(per_run, stacked, lead))
    assert_same_stack(together, each, lead)


@pytest.mark.parametrize("name", sorted(SHARED))
@given(data=st.data())
def test_a_rule_of_parameters_gives_one_float_for_the_batch(name: str, data: st.DataObject) -> None:
    value = rule_named(name)(*data.draw(SHARED[name]))
    assert type(value) is float


# --------------------------------------------------------------------------- one value per run

GENERIC = 2000
"""Values per check below: NumPy's scalar ** (the C library's pow) and its vectorised power
differ in the last bit for a few percent of generic arguments (hypothesis favours round ones)."""


def generic_values() -> dict[str, tuple[Callable[..., Any], tuple[NDArray[np.float64], ...], Args]]:
    """Rules the model calls with one value (a tariff, a threat, an invitation): the rule, a
    column of uniform values per run argument, and the shared arguments that follow them."""
    rng = np.random.default_rng(2025)

    def u(lo: float, hi: float) -> NDArray[np.float64]:
        return rng.uniform(lo, hi, GENERIC)

    return {
        "tariff_shock": (rules.tariff_shock, (u(0.1, 1), u(0, 2), u(0, 2)), (TradeRules(),)),
        "tariff_adjust": (rules.tariff_adjust, (u(0.1, 1), u(0, 2)), (TradeRules(), 1 / 12)),
        "comply_probability": (
            rules.comply_probability,
            (u(0, 0.05), u(0, 0.05)),
            (ThreatRules(),),
        ),
        "leave_hazard": (rules_blocs.leave_hazard, (u(-1, 1),), (BlocRules(),)),
        "cost_of_complying": (
            rules.cost_of_complying,
            (u(0, 0.05), u(0.5, 2), u(0.5, 2), u(-1, 1), u(0, 0.01)),
            (ThreatRules(),),
        ),
        "tariff_bite": (rules_coercion.tariff_bite, (u(0, 2),), (0.76,)),
        "resolve_after": (rules_coercion.resolve_after, (u(0.5, 2), u(-1, 1)), (ThreatRules(),)),
        "impose_probability": (
            rules_coercion.impose_probability,
            (u(0, 1), u(0, 0.01), u(0, 0.01)),
            (ThreatRules(),),
        ),
    }


@pytest.mark.parametrize("name", sorted(generic_values()))
def test_one_value_per_run_gives_the_bits_of_a_batch_on_generic_values(name: str) -> None:
    rule, columns, shared = generic_values()[name]
    each = [rule(*(np.asarray(c[i]) for c in columns), *shared) for i in range(GENERIC)]
    assert_same_stack(rule(*columns, *shared), each, (GENERIC,))
