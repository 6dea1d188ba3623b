"""Building blocks of the scenario schema: the frozen base model, hard bounds, value types.

Money is in current US dollars (full units), shares are fractions in [0, 1], rates are per year
unless a name says otherwise. Numbers have hard bounds (the constants below, stated in each
field's docstring) that keep the model's arithmetic finite; a value outside them is refused.
Soft bounds (`SoftBound`, next to them) mark values that are possible but implausible, most
often a unit slip: such a value is accepted with a warning that gives the reason.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from sim.calendar import month_index


def _month(text: str) -> str:
    month_index(text)  # raises ValueError with a clear message
    return text.strip()[:7]


# --------------------------------------------------------------------------- hard bounds
#
# A value outside these bounds is refused (exit 2, naming the field and the bound): beyond them
# some rule's arithmetic can leave the float64 range (about 1e-308 to 1.8e308) during a run and
# turn numbers into NaN or inf. Each bound is far outside anything plausible, so no real
# scenario meets it, and together they keep the worst case finite (the arguments are below;
# tests/test_numeric_integrity.py runs synthetic worlds with every value at an end of its range).
# Soft bounds, which warn but accept, follow them (`SoftBound`).
#
# Fields without a hard upper bound cannot make a recorded value NaN or inf at any finite
# value: time spans and half-lives (`*_years`), `alignment.rate` and the half-saturation points
# enter only as exp(-x), 0.5^x or x/(x+h), which saturate at 0 or 1.

MAX_MONEY = 1e16
# US$, about 90 times world GDP (1.1e14 in 2023): the most any GDP, trade flow, stock, budget or
# pledge can be.
# Stocks grow by at most a budget a year and flows by at most MAX_GROWTH a year, so over the
# horizon flows stay below 1e16 * 1.5^200 (1.6e51), or 1e72 with the largest tariff response.

MIN_AMOUNT = 1.0
# US$: a positive amount below a dollar is not a figure anyone records (0 still means none).
# Trade diversion divides one power's lost exports by the flows to the others, and a tiny
# positive flow (5e-324) would make that ratio overflow. With this floor and the bounds on
# growth, drift and tariffs, the ratio stays below 1e16 * 1.5^200 * 11^20 / (1 * 0.5^200 *
# e^-200 * 11^-40), about 1e261.

MIN_GDP = 1e6
# US$: a million, below the smallest economy (Tuvalu, about 6e7). Ratios to GDP (exports, debt
# and capital flows over GDP) then stay below about 1e72 / 1e6.

MAX_GDP_SHARE = 100.0
# Values and stocks measured in shares of GDP (salience, greenfield share): the largest
# positions on record, in financial centres, are some tens of times GDP.

MAX_STAKE = 0.9
# Share of GDP: a carried-out stake costs that share of output at once; at 1 the state's GDP
# would be zero and every ratio to it would divide by zero. 90% exceeds any output collapse on
# record.

MAX_TARIFF = 10.0
# 1,000%: ten times the 100% threatened on BRICS and far above the 145% the US put on China in
# 2025; the long-run response already removes nearly all trade. The export multiplier
# (1+t)^-elasticity then stays within 11^-40 and 11^20.

MAX_ELASTICITY = 20.0
# Estimated aggregate trade elasticities mostly lie between about 0.2 and 10 (MODEL.md uses
# 0.76 and 4).

MAX_GROWTH = 0.5
# Per year: imports halving or growing by half every year for a whole horizon is beyond any
# sustained trend; over the horizon flows stay within 0.5^200 (6e-61) and 1.5^200 (1.6e35).

MAX_HORIZON_YEARS = 200
# The model describes years to decades; two centuries bound compound growth and drift.

MAX_MONTHS = 12 * MAX_HORIZON_YEARS
# Cooldowns: longer than any horizon means "never again"; an unbounded integer of months would
# overflow the float division into steps.

MAX_PULL = 1.0
# Per year, 20 times the default 0.05: trade shares then drift at most e^200 (7e86) apart over
# the horizon.

MAX_SIZE_EXPONENT = 4.0
# Gravity estimates put the GDP exponent of capital flows near 1; GDP^(s-1) stays below
# (1e16)^3 = 1e48.

MAX_ALIGNMENT_WEIGHT = 20.0
# The weight exp(w * (affinity - 0.5)) then lies within e^-10 and e^10: a fully aligned state
# draws e^20 (5e8) times the capital of an opposed one, beyond any calibration (the default 3
# gives 20 times); the exponential is what could overflow.

MAX_FACTOR = 1000.0
# Dimensionless weights and multiples (tie and bloc weights, leverage, bonus, sovereignty,
# backlash multiples, sharpness, engagement pulses, the affinity noise; defaults 0.01 to 20): a
# thousand is beyond any calibration and keeps sums and products of a few of them finite.

MAX_RALLY = 10.0
# `threats.rally`: the resolve multiplier moves by exp(rally * -closeness) per imposition, at most
# e^10 (2e4) either way at once; the model keeps the multiplier within a factor 1000 of 1
# (sim.rules_coercion.MAX_LOG_RESOLVE), where the decision is already certain.

MIN_ENGAGEMENT, MAX_ENGAGEMENT = 1e-3, 1e3
# Relative to a unit baseline. A power's engagement tie is its share of the sum over powers,
# which is 0/0 if every power's is zero; the floor keeps the sum positive.


# --------------------------------------------------------------------------- soft bounds
#
# A value outside a soft bound is accepted, with a warning giving the reason (`geosim validate`,
# `run`, `check` and `sweep` print it; the exit status does not change): nothing in the
# arithmetic breaks, but no real economy looks like that, and the usual cause is a unit
# slip (GDP in billions, a share in percent). Each is attached to a value type below; the
# ratios between fields (`TRADE_TO_GDP`) are checked by `sim.validation`. Tariffs have none:
# rates up to the hard bound stand for bans and embargoes (the history episodes use 5 to 10).


@dataclass(frozen=True)
class SoftBound:
    """Values outside [low, high] are accepted with a warning: `below` or `above` says why.
    `low_warns` or `high_warns` makes the end itself warn too (the bound is then open)."""

    low: float = float("-inf")
    high: float = float("inf")
    below: str = ""
    above: str = ""
    low_warns: bool = False
    high_warns: bool = False

    def problem(self, value: float) -> str | None:
        """Why `value` is implausible, or None if it lies within the bound."""
        if value < self.low or (self.low_warns and value == self.low):
            return f"{value:g} is implausibly small: {self.below}"
        if value > self.high or (self.high_warns and value == self.high):
            return f"{value:g} is implausibly large: {self.above}"
        return None


SOFT_GDP = SoftBound(
    low=1e7,
    high=2e14,
    below="below 1e7 US$, under the smallest economy (Tuvalu, about 6e7); amounts are in "
    "full US dollars, not millions or billions",
    above="above 2e14 US$, about twice world GDP (1.1e14 in 2023)",
)
SOFT_GDP_SHARE = SoftBound(
    high=1.0,
    above="more than a whole year of GDP (the `core` salience level is 0.2); shares of GDP "
    "are fractions, 0.3 = 30%",
)
_NEVER = "a tilt lies in [-1, 1], so no run can pass: the comparison is settled before any run"
_ALWAYS = "a tilt lies in [-1, 1], so every run passes: the comparison is settled before any run"
SOFT_TILT_FLOOR = SoftBound(low=-1.0, high=1.0, below=_ALWAYS, above=_NEVER, high_warns=True)
"""For `above`: a tilt must exceed it (strictly), so 1 itself can never be passed."""
SOFT_TILT_CEILING = SoftBound(low=-1.0, high=1.0, below=_NEVER, above=_ALWAYS, low_warns=True)
"""For `below`: a tilt must be under it (strictly), so -1 itself can never be passed."""
TRADE_TO_GDP = 2.5
# Goods exports (or imports) above this many times GDP warn: the highest on record are the
# entrepots, Hong Kong and Singapore, at 1 to 1.8 times GDP with re-exports; a larger ratio is
# most often a GDP or a flow in the wrong unit.


def _whole_dollars(value: float) -> float:
    if 0.0 < value < MIN_AMOUNT:
        raise ValueError(
            f"a positive amount must be at least {MIN_AMOUNT:g} US$ (amounts are in full "
            "dollars; 0 means none)"
        )
    return value


def bounded(low: float, high: float) -> Any:
    """A finite float in [low, high] (YAML ints accepted)."""
    return Field(ge=low, le=high, allow_inf_nan=False, strict=True)


Month = Annotated[str, AfterValidator(_month)]
Share = Annotated[float, bounded(0.0, 1.0)]
Positive = Annotated[float, Field(gt=0.0, allow_inf_nan=False, strict=True)]  # spans, rates
Money = Annotated[float, bounded(0.0, MAX_MONEY), AfterValidator(_whole_dollars)]
Gdp = Annotated[float, bounded(MIN_GDP, MAX_MONEY), SOFT_GDP]
GdpShare = Annotated[float, bounded(0.0, MAX_GDP_SHARE), SOFT_GDP_SHARE]
Factor = Annotated[float, bounded(0.0, MAX_FACTOR)]
Sharpness = Annotated[float, Field(gt=0.0, le=MAX_FACTOR, allow_inf_nan=False, strict=True)]
Tariff = Annotated[float, bounded(0.0, MAX_TARIFF)]
Multiplier = Annotated[float, Field(gt=0.0, le=MAX_FACTOR, allow_inf_nan=False, strict=True)]
"""A positive factor that scales a quantity (at most MAX_FACTOR)."""
Elasticity = Annotated[float, bounded(0.0, MAX_ELASTICITY)]
Engagement = Annotated[float, bounded(MIN_ENGAGEMENT, MAX_ENGAGEMENT)]
Months = Annotated[int, Field(ge=0, le=MAX_MONTHS, strict=True)]
Rate = Annotated[float, Field(ge=0.0, allow_inf_nan=False, strict=True)]
"""Events per year (a per-step probability is 1 - exp(-rate * dt); no upper bound is needed)."""
Stake = Annotated[float, bounded(0.0, MAX_STAKE)]
"""A share of GDP that a carried-out measure costs in output while in force (at most 0.9)."""
SalienceLevel = Literal["low", "medium", "high", "core"]
"""Named salience levels; `rules.threats.salience_levels` gives their values."""
Salience = GdpShare | SalienceLevel
"""A salience as a share of GDP or a named level (`low`, `medium`, `high`, `core`)."""
TiltFloor = Annotated[float, Field(strict=True, allow_inf_nan=False), SOFT_TILT_FLOOR]
"""A level a tilt must exceed (finite; warns unless in [-1, 1))."""
TiltCeiling = Annotated[float, Field(strict=True, allow_inf_nan=False), SOFT_TILT_CEILING]
"""A level a tilt must stay under (finite; warns unless in (-1, 1])."""
Code = Annotated[str, Field(min_length=1, max_length=24, pattern=r"^[A-Za-z][A-Za-z0-9_]*$")]
Amounts = dict[str, Money | None]


class Frozen(BaseModel):
    """Base: immutable, unknown keys rejected, field docstrings become descriptions."""

    model_config = ConfigDict(frozen=True, extra="forbid", use_attribute_docstrings=True)


def inner_model(ann: Any) -> Any:
    """The first pydantic model class inside an annotation (`dict[str, State]` -> State)."""
    if isinstance(ann, type) and issubclass(ann, BaseModel):
        return ann
    for arg in getattr(ann, "__args__", ()) or ():
        found = inner_model(arg)
        if found is not None:
            return found
    return None


def yaml_repr(value: Any) -> str:
    """A scalar as the user would write it in YAML (null, true), not as Python shows it."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value != value:
        return ".nan"
    if isinstance(value, float) and value in (float("inf"), float("-inf")):
        return ".inf" if value > 0 else "-.inf"
    return repr(value)


def kind_of(value: Any, mapping: str = "a mapping") -> str:
    """How a value reads to a user (for messages): null, a boolean, a number, a string, a list,
    or `mapping` (JSON readers say "an object")."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    return "a list" if isinstance(value, list | tuple) else mapping
