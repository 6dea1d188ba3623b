"""Plausible ranges of the rule parameters (issue 9): every leaf of `rules` has a `Range` to draw
from in uncertainty propagation (the backtest's `--propagate`) or is `Fixed` with the reason.

A `Range` states where it comes from (`basis`): a published figure (MODEL.md,
docs/calibration-sources.md, cited by section as §n), the calibration population
(docs/calibration.md, sim/calibration/population.yaml), or an estimate with its reasoning.
Parameters with no anchor at all get the convention "a factor 2 either way of the default,
log-uniform" (or, for shares, a span about the default), said so in their basis; they are
where a propagated result is least informed.

Each range lies inside the schema's hard bounds and holds the default (tests/test_rule_ranges.py).
Ranges are marginal: `threats.salience_levels` must still increase from `low` to `core`, so a
joint draw has to reject or sort draws that break the order (neighbouring ranges overlap).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Literal

from pydantic import BaseModel

from sim.schema.base import inner_model
from sim.schema.parameters import Rules

Distribution = Literal["uniform", "loguniform"]

FACTOR_2 = (
    "no anchor: a factor 2 either way of the default (the convention for unanchored parameters)"
)


@dataclass(frozen=True)
class Range:
    """A parameter drawn from [low, high], uniformly or uniformly in its logarithm."""

    low: float
    high: float
    distribution: Distribution
    basis: str

    def __post_init__(self) -> None:
        if not self.low < self.high:
            raise ValueError(f"range needs low < high (got {self.low}, {self.high})")
        if self.distribution == "loguniform" and self.low <= 0:
            raise ValueError("a log-uniform range needs low > 0")
        if not self.basis.strip():
            raise ValueError("a range needs a basis")

    def at(self, u: float) -> float:
        """The value at quantile u in [0, 1]; 0 and 1 give the ends exactly."""
        if not 0.0 <= u <= 1.0:
            raise ValueError(f"quantile must lie in [0, 1] (got {u})")
        if u == 0.0:
            return self.low
        if u == 1.0:
            return self.high
        if self.distribution == "uniform":
            return self.low + u * (self.high - self.low)
        return math.exp(math.log(self.low) + u * math.log(self.high / self.low))

    def text(self) -> str:
        """The range as the reference shows it: `0.3 to 0.9, uniform`."""
        return f"{self.low:g} to {self.high:g}, {self.distribution}"


@dataclass(frozen=True)
class Fixed:
    """A parameter that is not uncertain: a switch, a definition, a unit or a policy choice."""

    reason: str

    def text(self) -> str:
        return f"fixed: {self.reason}"


Entry = Range | Fixed


def _u(low: float, high: float, basis: str) -> Range:
    return Range(low, high, "uniform", basis)


def _log(low: float, high: float, basis: str) -> Range:
    return Range(low, high, "loguniform", basis)


SALIENCE_FIT = 2.03
"""The fitted factor on every salience level (docs/calibration.md): the defaults are the priors
times it, and so are the ranges."""


def _level(name: str, low: float, high: float) -> Range:
    return _log(
        round(low * SALIENCE_FIT, 6),
        round(high * SALIENCE_FIT, 6),
        f"calibration population's prior range for `{name}` (sim/calibration/population.yaml; "
        "docs/calibration.md, Salience levels), a factor about 3 either way on a log scale, "
        f"moved with the levels by the fitted factor {SALIENCE_FIT}",
    )


_TRADE: dict[str, Entry] = {
    "elasticity_impact": _u(
        0.1,
        0.4,
        "estimate: goods in transit and orders placed keep flowing in the month of a change; "
        "between a seventh and a half of the one-year response",
    ),
    "elasticity_short": _u(
        0.56,
        0.96,
        "Boehm, Levchenko & Pandalai-Nayar (2023), AER, abstract: about 0.76 one year after "
        "the change; +-0.2",
    ),
    "elasticity_long": _u(
        1.75,
        2.25,
        "Boehm, Levchenko & Pandalai-Nayar (2023), AER, abstract: 1.75 to 2.25, reached in "
        "7-10 years",
    ),
    "diversion": _u(
        0.25,
        0.75,
        "Bown & Crowley (2006), EJPE 22: a quarter to a third of the Japanese exports a US "
        "duty destroyed reappeared in the EU alone; other markets took more",
    ),
    "absorption": _u(
        0.1,
        0.5,
        "estimate: a product-level duty raised exports to the average third market by 5-7% "
        "(Bown & Crowley 2007, JIE 72(1)); the largest markets took more",
    ),
    "alignment_pull": _log(
        0.02,
        0.2,
        "estimate: trade shares move slowly with politics; 0.4 to 4 points a year "
        "for a typical affinity gap",
    ),
}

_INVESTMENT: dict[str, Entry] = {
    "size_exponent": _u(0.7, 1.3, "gravity estimates put the GDP exponent of capital near 1"),
    "alignment_weight": _log(
        1.5, 6.0, "estimate: a 0.2 affinity gap changes the draw by 1.35 to 3.3 (default 1.8)"
    ),
    "bloc_bonus": _u(
        0.0,
        2.0,
        "estimate: from no bloc effect to BRI membership tripling the draw of Chinese "
        "capital (default doubles it)",
    ),
    "greenfield_share": _log(
        0.0003,
        0.003,
        "calibration: 0.01 spread budgets over unknown stocks and was cut to "
        "0.001 (MODEL.md, change 2); a factor 3 either way, below 0.01",
    ),
    "amortisation_years": _log(
        8.0, 25.0, "estimate: maturities of policy-bank loans, about a decade to 25 years"
    ),
}

_THREATS: dict[str, Entry] = {
    "credibility": _u(
        0.3,
        0.9,
        "MODEL.md: above one half (early-2025 US threats, some carried out, some "
        "paused); the baseline's expectations hold at both ends",
    ),
    "sharpness": _log(1.5, 6.0, "MODEL.md estimate; the baseline holds at 1.5"),
    "debt_leverage": _u(0.0, 1.0, "MODEL.md estimate: none to all of the debt counts as stake"),
    "reputation_loss": _log(0.05, 0.5, "MODEL.md estimate"),
    "reputation_gain": _u(0.0, 0.2, "MODEL.md estimate: reputations are lost faster than gained"),
    "cooldown_months": Fixed(
        "the sender's policy choice, set per policy (`policies.<name>.cooldown_months`); "
        "MODEL.md's 3-36 is for `--set` sensitivity runs"
    ),
    "bloc_salience": _log(
        0.002,
        0.041,
        "`low` to `high` (the salience levels' fitted defaults) around the default `medium`; "
        "drawn as a share of GDP",
    ),
    "salience_levels.low": _level("low", 0.0003, 0.003),
    "salience_levels.medium": _level("medium", 0.0015, 0.015),
    "salience_levels.high": _level("high", 0.006, 0.06),
    "salience_levels.core": _level("core", 0.03, 0.3),
    "reconsider": Fixed("a switch that turns reconsideration on or off"),
    "reconsider_rate": _log(
        0.5,
        12.0,
        "MODEL.md estimate: a government revisits a costly stand from yearly to "
        "monthly (budgets, elections, summits)",
    ),
    "review_rate": _log(
        0.25,
        4.0,
        "MODEL.md estimate: senders review measures about yearly (policy and sanctions reviews)",
    ),
    "sender_sharpness": _log(
        1.0, 5.0, "MODEL.md estimate: flatter than the target's 3 (audience costs, signalling)"
    ),
    "sender_interest": _log(
        0.0002,
        0.005,
        "MODEL.md: below the ~0.2% of GDP the 2018-19 tariffs cost US buyers "
        "(Amiti, Redding & Weinstein 2019, JEP)",
    ),
    "alignment_weight": _u(
        0.0, 2.0, "Drezner 1999 (direction only, §4); 0 because raw TIES splits show no difference"
    ),
    "black_knight": _u(0.0, 1.0, "MODEL.md estimate: prior equal to `trade.diversion`"),
    "officials_cost": _log(
        0.0002,
        0.005,
        "MODEL.md estimate: about the `low` salience level; targeted sanctions "
        "cost the economy little",
    ),
    "retaliation": _log(
        0.05,
        0.30,
        "TIES proxy, 15.1% of imposed cases (§5b, low confidence); docs/"
        "calibration.md's unanchored range",
    ),
    "rally": _u(
        -0.45,
        1.4,
        "no published magnitude (§5c); docs/calibration.md's multiplier 0.8-2 at "
        "closeness -0.5 (rally = 2 ln m)",
    ),
}

_BLOCS: dict[str, Entry] = {
    "join_rate": _log(
        0.25, 1.0, "fitted 0.495 to the BRI signings 2017-2023 (docs/validation.md); x2 either way"
    ),
    "leave_rate": _log(
        0.0001,
        0.002,
        "von Borzyskowski & Vabulas (2019), RIO 14: about 200 withdrawals from 493 IGOs since "
        "1945, of the order of 1e-4 to 1e-3 per membership-year",
    ),
    "weight_alignment": _log(
        1.8, 7.3, "fitted 3.65 to the BRI signings (docs/validation.md); a factor 2 either way"
    ),
    "weight_economy": _u(
        0.0, 2.0, "fitted 0 (at its bound) to the BRI signings; up to the scale of alignment's"
    ),
    "weight_diffusion": _log(
        0.17, 0.7, "fitted 0.349 to the BRI signings (docs/validation.md); a factor 2 either way"
    ),
    "weight_threat": _log(
        5.0, 20.0, f"{FACTOR_2}; 1% of GDP of expected coercion cost weighs 0.05 to 0.2"
    ),
    "weight_change": _log(0.5, 2.0, f"{FACTOR_2}: a change counts as much again as the level"),
    "partner_weight": _u(0.25, 0.75, "estimate: a partner's tie counts about half a member's"),
}

_ALIGNMENT: dict[str, Entry] = {
    "rate": _log(0.25, 1.0, f"{FACTOR_2} (half-life 0.7-2.8 years); the baseline holds at 1"),
    "weights.trade": _log(0.15, 0.6, FACTOR_2),
    "weights.fdi": _log(0.075, 0.3, FACTOR_2),
    "weights.debt": _log(0.05, 0.2, FACTOR_2),
    "weights.bloc": _log(0.075, 0.3, FACTOR_2),
    "weights.engagement": _log(0.05, 0.2, FACTOR_2),
    "weights.sphere": _log(0.1, 0.4, FACTOR_2),
    "debt_half_saturation": _log(0.025, 0.1, FACTOR_2),
    "fdi_half_saturation": _log(0.025, 0.1, FACTOR_2),
    "bloc_half_saturation": _log(0.5, 2.0, FACTOR_2),
    "peer_weight": _log(0.05, 0.2, FACTOR_2),
    "coercion_backlash": _log(0.025, 0.1, FACTOR_2),
    "compliance_resentment": _log(0.5, 2.0, FACTOR_2),
    "tariff_backlash": _log(1.5, 6.0, FACTOR_2),
    "coercion_half_life_years": _log(1.0, 4.0, FACTOR_2),
    "engagement_half_life_years": _log(0.25, 1.0, FACTOR_2),
    "engagement_persistence": _log(0.125, 0.5, FACTOR_2),
    "noise": _log(
        0.005,
        0.02,
        "calibration: cut from 0.02 to 0.01, at which Bolivia's small tilt rise "
        "shows (MODEL.md, change 4)",
    ),
    "impute": Fixed("a switch: imputation of unknown ties on or off"),
    "tilt_powers": Fixed("a definition: the two powers of the reported tilt axis"),
}

_RANGES: dict[str, Entry] = {
    f"{section}.{name}": entry
    for section, entries in (
        ("trade", _TRADE),
        ("investment", _INVESTMENT),
        ("threats", _THREATS),
        ("blocs", _BLOCS),
        ("alignment", _ALIGNMENT),
    )
    for name, entry in entries.items()
}


def rule_ranges() -> dict[str, Entry]:
    """Every rule parameter's dotted path (as in `--set rules.<path>=...`) to its entry."""
    return dict(_RANGES)


def ranged_paths() -> list[str]:
    """The paths with a `Range`, in registry order (the dimensions of a propagation design)."""
    return [path for path, entry in _RANGES.items() if isinstance(entry, Range)]


def draw(u: float, path: str) -> float:
    """The value of parameter `path` at quantile u in [0, 1] of its range (for Latin hypercube
    designs); a fixed or unknown path is an error."""
    entry = _RANGES.get(path)
    if entry is None:
        raise KeyError(f"no rule parameter {path!r}")
    if isinstance(entry, Fixed):
        raise ValueError(f"{path} is fixed: {entry.reason}")
    return entry.at(u)


def section_prefixes(model: type[BaseModel] = Rules, prefix: str = "") -> dict[type[Any], str]:
    """Each model inside `Rules` (itself included) and its dotted path prefix (`threats.`,
    `threats.salience_levels.`), for the reference."""
    out: dict[type[Any], str] = {model: prefix}
    for name, field in model.model_fields.items():
        sub = inner_model(field.annotation)
        if sub is not None:
            out |= section_prefixes(sub, f"{prefix}{name}.")
    return out
