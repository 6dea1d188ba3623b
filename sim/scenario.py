"""The scenario schema (frozen pydantic models: the format's reference) and `load_scenario`.

Every field has a docstring; `geosim schema` prints them. Money is in current US dollars (full
units), shares are fractions in [0, 1], rates are per year unless a name says otherwise. Any
number may be written as `{value: 1.7e9, source: <id in meta.sources>, note: "..."}`. Numbers
have hard bounds (the constants below, stated in each field's docstring) that keep the model's
arithmetic finite; a value outside them is refused.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    model_validator,
)

from sim.calendar import UNIT_MONTHS, Calendar, month_index
from sim.errors import Problem, ScenarioError
from sim.loader import Key, Tree, apply_override, dotted, load_tree, unwrap_sources


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
# Softer plausibility limits, which warn but accept, belong here too, next to these.
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

MIN_ENGAGEMENT, MAX_ENGAGEMENT = 1e-3, 1e3
# Relative to a unit baseline. A power's engagement tie is its share of the sum over powers,
# which is 0/0 if every power's is zero; the floor keeps the sum positive.


def _whole_dollars(value: float) -> float:
    if 0.0 < value < MIN_AMOUNT:
        raise ValueError(
            f"a positive amount must be at least {MIN_AMOUNT:g} US$ (amounts are in full "
            "dollars; 0 means none)"
        )
    return value


def _bounded(low: float, high: float) -> Any:
    """A finite float in [low, high] (YAML ints accepted)."""
    return Field(ge=low, le=high, allow_inf_nan=False, strict=True)


Month = Annotated[str, AfterValidator(_month)]
Share = Annotated[float, _bounded(0.0, 1.0)]
Positive = Annotated[float, Field(gt=0.0, allow_inf_nan=False, strict=True)]  # spans, rates
Money = Annotated[float, _bounded(0.0, MAX_MONEY), AfterValidator(_whole_dollars)]
Gdp = Annotated[float, _bounded(MIN_GDP, MAX_MONEY)]
GdpShare = Annotated[float, _bounded(0.0, MAX_GDP_SHARE)]
Factor = Annotated[float, _bounded(0.0, MAX_FACTOR)]
Sharpness = Annotated[float, Field(gt=0.0, le=MAX_FACTOR, allow_inf_nan=False, strict=True)]
Tariff = Annotated[float, _bounded(0.0, MAX_TARIFF)]
Elasticity = Annotated[float, _bounded(0.0, MAX_ELASTICITY)]
Engagement = Annotated[float, _bounded(MIN_ENGAGEMENT, MAX_ENGAGEMENT)]
Months = Annotated[int, Field(ge=0, le=MAX_MONTHS, strict=True)]
Code = Annotated[str, Field(min_length=1, max_length=24, pattern=r"^[A-Za-z][A-Za-z0-9_]*$")]
Amounts = dict[str, Money | None]


class Frozen(BaseModel):
    """Base: immutable, unknown keys rejected, field docstrings become descriptions."""

    model_config = ConfigDict(frozen=True, extra="forbid", use_attribute_docstrings=True)


# --------------------------------------------------------------------------- meta and time


class Source(Frozen):
    """A reference that values can cite by id."""

    title: str
    """What the source is (publication, dataset, or 'estimate: ...')."""
    kind: Literal["article", "data", "literature", "estimate", "other"] = "other"
    """`article` (the seed article), `data` (../shared/data), `literature`, `estimate`, `other`."""
    url: str | None = None
    """Where to find it, if public."""
    note: str | None = None
    """How a figure was taken or derived; for estimates, the reasoning."""


class Meta(Frozen):
    """Name, description and the list of sources values may cite."""

    name: Annotated[str, Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]*$", max_length=80)]
    """Short identifier; results go to `results/<name>/`."""
    description: str = ""
    """What the scenario represents."""
    sources: dict[str, Source] = {}
    """Sources by id; a value cites one with `{value: ..., source: <id>}`."""


class Time(Frozen):
    """Calendar of the run: start, step length and horizon."""

    start: Month
    """First simulated period, `YYYY-MM`."""
    unit: Literal["month", "quarter", "year"] = "month"
    """Length of one step."""
    end: Month | None = None
    """Last month of the horizon (inclusive). Give `end` or `steps`, not both. The horizon is at
    most 200 years."""
    steps: Annotated[int, Field(gt=0, le=100_000, strict=True)] | None = None
    """Number of steps (alternative to `end`; at most 100000, and 200 years)."""
    seed: Annotated[int, Field(ge=0, strict=True)] = 0
    """Default root seed; `--seed` overrides it."""

    @model_validator(mode="after")
    def _horizon(self) -> Time:
        if (self.end is None) == (self.steps is None):
            raise ValueError("give exactly one of `end` or `steps`")
        if self.end is not None and month_index(self.end) < month_index(self.start):
            raise ValueError(f"end {self.end} is before start {self.start}")
        years = self.calendar().steps * UNIT_MONTHS[self.unit] / 12
        if years > MAX_HORIZON_YEARS:
            raise ValueError(
                f"the horizon is {years:g} years; at most {MAX_HORIZON_YEARS} are allowed "
                "(compound growth over longer horizons can overflow)"
            )
        return self

    def calendar(self) -> Calendar:
        """The step grid this section defines."""
        unit = UNIT_MONTHS[self.unit]
        start = month_index(self.start)
        if self.steps is not None:
            return Calendar(start, unit, self.steps)
        assert self.end is not None
        steps = (month_index(self.end) - start) // unit + 1
        return Calendar(start, unit, steps)


# --------------------------------------------------------------------------- powers and states


class Demand(Frozen):
    """What a threat demands: change a named domestic policy, or leave a bloc."""

    policy: str | None = None
    """Name of the target's domestic policy the sender wants changed."""
    active: bool = False
    """The setting the sender demands for `policy` (false = drop it)."""
    leave_bloc: str | None = None
    """Bloc the sender demands the target leave (alternative to `policy`)."""

    @model_validator(mode="after")
    def _one(self) -> Demand:
        if (self.policy is None) == (self.leave_bloc is None):
            raise ValueError("a demand names exactly one of `policy` or `leave_bloc`")
        return self


class Stakes(Frozen):
    """What a threat puts at risk: a tariff rate on exports to the sender, or a non-tariff stake."""

    tariff: Tariff | None = None
    """Ad-valorem tariff threatened on the target's exports to the sender (1.0 = 100%; at most
    10)."""
    stake: Annotated[float, _bounded(0.0, MAX_STAKE)] | None = None
    """Non-tariff stake (security, aid, canal, sanctions) as a share of the target's GDP (at most
    0.9)."""
    credibility: Share | None = None
    """Probability the sender carries out the threat if defied (default `threats.credibility`)."""

    @model_validator(mode="after")
    def _one(self) -> Stakes:
        if (self.tariff is None) == (self.stake is None):
            raise ValueError("give exactly one of `tariff` (a rate) or `stake` (share of GDP)")
        return self


class StandingPolicy(Stakes):
    """A power's standing threat: any state in scope that violates `demand` gets threatened."""

    description: str = ""
    """What the policy is, in words."""
    demand: Demand
    """What in-scope states must do (or stop doing)."""
    scope_bloc: str | None = None
    """Only members and partners of this bloc are in scope."""
    scope_states: list[str] | None = None
    """Only these states are in scope (combined with `scope_bloc` if both are given)."""
    start: Month | None = None
    """First month the policy is in force (default: the scenario start)."""
    end: Month | None = None
    """Last month the policy is in force (default: the horizon)."""
    deadline_months: Annotated[int, Field(ge=0, le=120, strict=True)] = 1
    """Months the target has to comply before the sender decides to impose or back down (at most
    120)."""
    vigilance: Share = 1.0
    """Probability per step that the sender notices a violation and issues the threat."""
    cooldown_months: Months | None = None
    """Months before the same state is threatened again (default `threats.cooldown_months`; at
    most 2400)."""


class Power(Frozen):
    """A great power: economy, capital budgets for the modelled states, engagement, policies."""

    name: str
    """Display name."""
    gdp: Gdp
    """GDP in US$ (1e6 to 1e16)."""
    fdi_budget: Money = 0.0
    """Direct investment per year allocated across the modelled states, US$ (at most 1e16)."""
    loan_budget: Money = 0.0
    """New official lending per year across the modelled states, US$ (at most 1e16)."""
    engagement: Engagement = 1.0
    """Baseline diplomatic engagement with every state (relative units, 0.001 to 1000; visits
    add pulses)."""
    import_growth: Annotated[float, _bounded(-MAX_GROWTH, MAX_GROWTH)] = 0.0
    """Annual growth of the power's imports from the modelled states (trade trend; -0.5 to
    0.5)."""
    policies: dict[str, StandingPolicy] = {}
    """Standing threats by name."""


class StatePolicy(Frozen):
    """A named domestic policy a threat can target."""

    active: bool = True
    """Whether the policy is in force at the start."""
    salience: GdpShare = 0.0
    """Value the government places on its current setting, as a share of GDP (cost of yielding;
    at most 100)."""
    description: str = ""
    """What the policy is."""


class State(Frozen):
    """A state: economy, ties to each power, domestic policies, sensitivity, neighbours."""

    name: str
    """Display name."""
    gdp: Gdp
    """GDP in US$ (1e6 to 1e16)."""
    exports: Amounts = {}
    """Goods exports to each power per year, US$ (null = not known; the tie is then ignored).
    Every amount is 0, or 1 to 1e16."""
    imports: Amounts = {}
    """Goods imports from each power per year, US$ (null = not known; 0, or 1 to 1e16)."""
    debt: Amounts = {}
    """Debt owed to each power (official lending), US$ (null = not known; 0, or 1 to 1e16)."""
    fdi: Amounts = {}
    """Stock of direct investment from each power, US$ (null = not known; 0, or 1 to 1e16)."""
    policies: dict[str, StatePolicy] = {}
    """Named domestic policies that threats may target."""
    bloc_salience: dict[str, GdpShare] = {}
    """Value placed on membership of each bloc, share of GDP (cost of leaving under pressure; at
    most 100); default `rules.threats.bloc_salience`."""
    sovereignty: Factor = 1.0
    """Sensitivity to coercion: multiplies the cost of yielding to a demand (at most 1000)."""
    sphere: str | None = None
    """Power whose traditional sphere of influence the state is in (a standing tie), if any."""
    alignment: dict[str, Share] | None = None
    """Initial affinity to each power in [0, 1]; default derived from the state's ties."""
    neighbours: list[str] = []
    """States whose alignment pulls on this one (peer influence); ties are made symmetric."""
    region: str | None = None
    """Free-text grouping used in plots and synthetic worlds."""


class Bloc(Frozen):
    """A bloc: leader, accession rule, members and partners (states or powers)."""

    name: str
    """Display name."""
    leader: str
    """Power whose influence membership carries (BRI: CHN)."""
    accession: Literal["open", "invitation"] = "open"
    """`open`: states join when it pays; `invitation`: only after an `invite` event."""
    members: list[str] = []
    """Full members at the start (state or power codes)."""
    partners: list[str] = []
    """Partners (half-weight ties) at the start."""
    description: str = ""
    """What the bloc is."""


# --------------------------------------------------------------------------- rules


class TradeRules(Frozen):
    """Trade: tariff response, diversion, drift toward alignment."""

    elasticity_short: Elasticity = 0.76
    """Trade elasticity on impact of a tariff change (exports scale by (1+t)^-e; at most 20)."""
    elasticity_long: Elasticity = 4.0
    """Long-run trade elasticity that exports converge to under a lasting tariff (at most 20)."""
    adjustment_years: Positive = 3.0
    """Time constant of the move from the short-run to the long-run response, years."""
    diversion: Share = 0.5
    """Share of exports lost to a tariff that is re-routed to the other powers."""
    alignment_pull: Annotated[float, _bounded(0.0, MAX_PULL)] = 0.05
    """Per-year drift of trade shares toward the powers a state is aligned with (at most 1)."""


class InvestmentRules(Frozen):
    """How powers allocate FDI and loans, and how debt runs off."""

    size_exponent: Annotated[float, _bounded(0.0, MAX_SIZE_EXPONENT)] = 1.0
    """With equal stocks per GDP, allocation grows with GDP^size_exponent (1: in proportion; at
    most 4)."""
    alignment_weight: Annotated[float, _bounded(0.0, MAX_ALIGNMENT_WEIGHT)] = 3.0
    """Allocation weight grows with exp(alignment_weight * (affinity - 0.5)) (at most 20)."""
    bloc_bonus: Factor = 1.0
    """Members of blocs the power leads draw (1 + bloc_bonus) times the capital (partners half;
    at most 1000)."""
    greenfield_share: GdpShare = 0.001
    """A state with no stock from a power still draws capital as if it had this share of GDP (at
    most 100)."""
    amortisation_years: Positive = 15.0
    """Debt is repaid at 1/amortisation_years of the stock per year."""


class ThreatRules(Frozen):
    """The threat game: the target weighs defying against complying; the sender enforces or not."""

    credibility: Share = 0.6
    """Default probability that a sender carries out a defied threat."""
    sharpness: Sharpness = 3.0
    """P(comply) = 1 / (1 + (cost_comply / cost_defy)^sharpness) (at most 1000)."""
    debt_leverage: Factor = 0.5
    """Debt owed to the sender, as a share of GDP, times this adds to the cost of defying (at most
    1000)."""
    reputation_loss: Share = 0.2
    """Fraction of the sender's reputation lost when it backs down."""
    reputation_gain: Share = 0.05
    """Fraction of the gap to full reputation regained when it carries a threat out."""
    cooldown_months: Months = 12
    """Months before a standing policy threatens the same state again (at most 2400)."""
    bloc_salience: GdpShare = 0.005
    """Default value of a bloc membership, share of GDP, for states that give none (at most
    100)."""
    reconsider: bool = True
    """A state under an imposed tariff re-decides each step (with the cost now certain)."""


class BlocRules(Frozen):
    """Joining and leaving blocs."""

    review_years: Positive = 1.0
    """Mean time between a state's reviews of each bloc membership, years."""
    sharpness: Sharpness = 20.0
    """P(switch | review) = logistic(sharpness * (gain - switching_cost)) (at most 1000)."""
    switching_cost: Factor = 0.25
    """Utility hurdle a join or exit must clear (at most 1000)."""
    weight_alignment: Factor = 1.0
    """Weight of affinity to the leader minus mean affinity to the other powers (at most 1000)."""
    weight_economy: Factor = 0.5
    """Weight of economic dependence on the leader minus an even split (at most 1000)."""
    weight_threat: Factor = 10.0
    """Weight of expected coercion cost (share of GDP) that membership draws (at most 1000)."""
    partner_weight: Share = 0.5
    """A partner's tie counts this fraction of a member's."""


class TieWeights(Frozen):
    """Weights of the ties in a state's target affinity (renormalised over the ties known; each
    at most 1000)."""

    trade: Factor = 0.30
    """Share of trade (exports + imports) with each power (at most 1000)."""
    fdi: Factor = 0.15
    """Share of the FDI stock from each power (at most 1000)."""
    debt: Factor = 0.10
    """Share of debt owed to each power, blended with an even split by debt/GDP intensity (at most
    1000)."""
    bloc: Factor = 0.15
    """Membership of blocs each power leads (at most 1000)."""
    engagement: Factor = 0.10
    """Diplomatic engagement of each power (at most 1000)."""
    sphere: Factor = 0.20
    """Traditional sphere of influence (at most 1000)."""


class AlignmentRules(Frozen):
    """How affinities move toward the target set by ties, coercion and neighbours."""

    rate: Positive = 0.5
    """Fraction of the gap to the target closed per year (continuous-time rate)."""
    weights: TieWeights = TieWeights()
    """Weights of each tie."""
    debt_half_saturation: Positive = 0.05
    """Debt/GDP at which the debt tie is half-way from an even split to the creditor share."""
    bloc_half_saturation: Positive = 1.0
    """Bloc ties (member 1, partner `blocs.partner_weight`) at which the bloc tie is half-way
    from an even split to the leaders' shares."""
    peer_weight: Share = 0.1
    """Weight of neighbours' mean affinity in the target."""
    coercion_backlash: Share = 0.05
    """Drop in target affinity to a sender when threatened (decays with the half-life; at most 1,
    the whole range of an affinity)."""
    compliance_resentment: Factor = 1.0
    """Extra backlash on complying, as a multiple of `coercion_backlash` (at most 1000)."""
    tariff_backlash: Factor = 3.0
    """Extra backlash when a threat is carried out, as a multiple of `coercion_backlash` (at most
    1000)."""
    coercion_half_life_years: Positive = 2.0
    """Half-life of coercion memory, years."""
    engagement_half_life_years: Positive = 0.5
    """Half-life of an engagement pulse (a visit, a summit), years."""
    engagement_persistence: Share = 0.25
    """Share of each engagement pulse that lasts (adds to the power's engagement with the state)."""
    noise: Factor = 0.01
    """Standard deviation of affinity shocks per sqrt(year) (at most 1000)."""
    tilt_powers: tuple[str, str] = ("USA", "CHN")
    """Tilt = affinity to the second minus affinity to the first, in [-1, 1]."""


class Rules(Frozen):
    """Every behavioural parameter; defaults are documented with sources in MODEL.md."""

    trade: TradeRules = TradeRules()
    """Trade rules."""
    investment: InvestmentRules = InvestmentRules()
    """Investment and lending rules."""
    threats: ThreatRules = ThreatRules()
    """Threat rules."""
    blocs: BlocRules = BlocRules()
    """Bloc rules."""
    alignment: AlignmentRules = AlignmentRules()
    """Alignment rules."""


# --------------------------------------------------------------------------- events


class _Event(Frozen):
    date: Month
    """Month the event happens."""
    label: str = ""
    """Short text for plots and the event log."""


class ThreatEvent(_Event, Stakes):
    """A dated threat to one state or to every state of a bloc that violates the demand."""

    type: Literal["threat"]
    sender: str
    """Power issuing the threat."""
    target: str | None = None
    """Target state (or give `bloc`)."""
    bloc: str | None = None
    """Threaten every member and partner of this bloc that violates the demand."""
    demand: Demand
    """What the target must do."""
    deadline_months: Annotated[int, Field(ge=0, le=120, strict=True)] = 1
    """Months to comply before the sender imposes or backs down (at most 120)."""

    @model_validator(mode="after")
    def _target(self) -> ThreatEvent:
        if (self.target is None) == (self.bloc is None):
            raise ValueError("a threat names exactly one of `target` or `bloc`")
        return self


class TariffEvent(_Event):
    """A tariff imposed outright (no threat first)."""

    type: Literal["tariff"]
    sender: str
    """Power imposing the tariff."""
    target: str
    """State hit."""
    rate: Tariff
    """Ad-valorem rate (1.0 = 100%; at most 10)."""


class TariffLiftEvent(_Event):
    """A tariff lifted by the sender's decision; threats that imposed it end as `lifted`."""

    type: Literal["tariff_lift"]
    sender: str
    """Power lifting the tariff."""
    target: str
    """State relieved."""


class EngagementEvent(_Event):
    """Diplomatic engagement (a visit, a summit): a decaying pulse of engagement."""

    type: Literal["engagement"]
    power: str
    """Power engaging."""
    states: list[str]
    """States engaged."""
    intensity: Factor = 1.0
    """Size of the pulse, in units of the power's baseline engagement (at most 1000)."""


class PledgeEvent(_Event):
    """A one-off investment or loan pledge that lands in full this step."""

    type: Literal["pledge"]
    power: str
    """Power pledging."""
    state: str
    """Recipient."""
    kind: Literal["fdi", "loan"]
    """Direct investment or loan."""
    amount: Money
    """US$ (0, or 1 to 1e16)."""


class InviteEvent(_Event):
    """An invitation to a bloc; the state accepts if membership pays."""

    type: Literal["invite"]
    bloc: str
    """Inviting bloc."""
    state: str
    """Invited state."""
    status: Literal["member", "partner"] = "member"
    """Status offered."""


class JoinEvent(_Event):
    """A state joins a bloc (forced: no decision)."""

    type: Literal["join"]
    state: str
    """Joining state."""
    bloc: str
    """Bloc joined."""
    status: Literal["member", "partner"] = "member"
    """Status."""


class LeaveEvent(_Event):
    """A state leaves a bloc (forced: no decision)."""

    type: Literal["leave"]
    state: str
    """Leaving state."""
    bloc: str
    """Bloc left."""


class GovernmentChangeEvent(_Event):
    """A change of government: a shock to affinities (and optionally to sovereignty sensitivity)."""

    type: Literal["government_change"]
    state: str
    """State."""
    shift: dict[str, Annotated[float, _bounded(-1.0, 1.0)]]
    """Change of affinity to each power."""
    sovereignty: Factor | None = None
    """New sovereignty sensitivity, if it changes (at most 1000)."""


class PolicyChangeEvent(_Event):
    """A state switches a domestic policy on or off."""

    type: Literal["policy_change"]
    state: str
    """State."""
    policy: str
    """Policy name (created if new)."""
    active: bool
    """New setting."""
    salience: GdpShare | None = None
    """New salience, if it changes (share of GDP, at most 100)."""


class RuleChangeEvent(_Event):
    """A rule parameter changes mid-run."""

    type: Literal["rule_change"]
    path: str
    """Path inside `rules`, e.g. `threats.credibility`."""
    value: float | bool
    """New value (held to the parameter's own bounds)."""


Event = Annotated[
    ThreatEvent
    | TariffEvent
    | TariffLiftEvent
    | EngagementEvent
    | PledgeEvent
    | InviteEvent
    | JoinEvent
    | LeaveEvent
    | GovernmentChangeEvent
    | PolicyChangeEvent
    | RuleChangeEvent,
    Field(discriminator="type"),
]

# --------------------------------------------------------------------------- expectations


class _Expect(Frozen):
    by: Month
    """Date at which the outcome is read."""
    share: Share = 0.8
    """Fraction of replicates that must show the outcome."""
    description: str = ""
    """The outcome in words (for reports)."""


class MembershipExpect(_Expect):
    """A state's status in a bloc at `by` (or at every step up to `by`)."""

    type: Literal["membership"]
    state: str
    """State."""
    bloc: str
    """Bloc."""
    status: Literal["none", "partner", "member", "any"]
    """Required status; `any` = member or partner."""
    throughout: bool = False
    """Require the status at every simulated step (from the first period) up to `by`."""


class PolicyExpect(_Expect):
    """A state's domestic policy setting at `by`."""

    type: Literal["policy"]
    state: str
    """State."""
    policy: str
    """Policy name."""
    active: bool
    """Required setting."""
    throughout: bool = False
    """Require the setting at every simulated step (from the first period) up to `by`."""


class TariffExpect(_Expect):
    """Whether a sender's tariff was ever in force on a target up to `by`."""

    type: Literal["tariff"]
    sender: str
    """Power."""
    target: str
    """State."""
    imposed: bool
    """True: a tariff was in force at some step up to `by`; false: never."""


class ThreatOutcomeExpect(_Expect):
    """A threat from `sender` to `target` ended with `outcome` by `by`."""

    type: Literal["threat_outcome"]
    sender: str
    """Power."""
    target: str
    """State."""
    outcome: Literal["complied", "defied", "imposed", "backed_down", "lifted"]
    """Outcome that must have happened (`lifted`: imposed, then lifted by a `tariff_lift`)."""


class TiltExpect(_Expect):
    """A state's tilt at `by`: above/below a level, or higher/lower than at `since`."""

    type: Literal["tilt"]
    state: str
    """State."""
    above: Annotated[float, Field(strict=True)] | None = None
    """Tilt at `by` must exceed this."""
    below: Annotated[float, Field(strict=True)] | None = None
    """Tilt at `by` must be below this."""
    since: Month | None = None
    """Compare with the tilt at this date (needs `direction`)."""
    direction: Literal["up", "down"] | None = None
    """`up`: tilt at `by` > tilt at `since` (toward the second tilt power)."""

    @model_validator(mode="after")
    def _some(self) -> TiltExpect:
        if self.above is None and self.below is None and self.direction is None:
            raise ValueError("give `above`, `below`, or `since` with `direction`")
        if (self.since is None) != (self.direction is None):
            raise ValueError("`since` and `direction` go together")
        return self


Expect = Annotated[
    MembershipExpect | PolicyExpect | TariffExpect | ThreatOutcomeExpect | TiltExpect,
    Field(discriminator="type"),
]

# --------------------------------------------------------------------------- the scenario


class Scenario(Frozen):
    """A whole scenario: world, rules, dated events and expected outcomes."""

    meta: Meta
    """Name, description, sources."""
    time: Time
    """Calendar."""
    powers: Annotated[dict[Code, Power], Field(min_length=1)]
    """Great powers by code (USA, CHN, ...)."""
    states: Annotated[dict[Code, State], Field(min_length=1)]
    """States by ISO3 code."""
    blocs: dict[Code, Bloc] = {}
    """Blocs by code (BRI, BRICS, ...)."""
    rules: Rules = Rules()
    """Behavioural parameters."""
    events: dict[str, Event] = {}
    """Dated events by id (ids let an `extends` file change or delete them)."""
    expect: dict[str, Expect] = {}
    """Outcomes the scenario should produce, checked by `geosim check`."""


# --------------------------------------------------------------------------- loading


class LoadedScenario:
    """A validated scenario plus what it was made from: files, overrides, sources, positions."""

    def __init__(self, scenario: Scenario, tree: Tree, sources: dict[Key, str]) -> None:
        self.scenario = scenario
        self.tree = tree
        self.sources = sources

    @property
    def files(self) -> list[str]:
        """The file loaded first, then the files it extends."""
        return self.tree.files

    @property
    def overrides(self) -> list[dict[str, Any]]:
        """Applied `--set` overrides: path, old, new."""
        return self.tree.overrides


def builtin_scenarios_dir() -> Path:
    """Folder of the scenarios shipped inside the package."""
    return Path(__file__).parent / "scenarios"


def resolve_scenario_path(name: str | Path) -> Path:
    """A path as given, or the name of a built-in scenario (`latam_2025`)."""
    path = Path(name)
    if path.exists():
        return path
    for candidate in (
        builtin_scenarios_dir() / path.name,
        builtin_scenarios_dir() / f"{path.name}.yaml",
    ):
        if candidate.is_file() and len(path.parts) == 1:
            return candidate
    return path


def load_scenario(path: str | Path, overrides: Sequence[str] = ()) -> LoadedScenario:
    """Load, merge (`extends`), override (`--set`), validate and cross-check a scenario file."""
    tree = load_tree(resolve_scenario_path(path))
    for assignment in overrides:
        apply_override(tree, assignment, schema_default)
    return validate_tree(tree)


def schema_default(path: Key) -> tuple[bool, Any]:
    """The value the schema uses at `path` when a file leaves it out: (found, value as JSON).

    Walks the models' fields; a key of a mapping (`states.BOL`) has no default, so found is
    false there and below.
    """
    model: Any = Scenario
    for i, part in enumerate(path):
        fields = getattr(model, "model_fields", None)
        if fields is None or not isinstance(part, str) or part not in fields:
            return False, None
        info = fields[part]
        if i == len(path) - 1:
            if info.is_required():
                return False, None
            value = info.get_default(call_default_factory=True)
            dumped = value.model_dump(mode="json") if isinstance(value, BaseModel) else value
            return True, dumped
        model = info.annotation if isinstance(info.annotation, type) else None
    return False, None


def scenario_from_dict(data: dict[str, Any], name: str = "<dict>") -> LoadedScenario:
    """Validate a scenario given as plain Python data (for tests, notebooks, synthetic worlds)."""
    return validate_tree(Tree(data=data, files=[name]))


def validate_tree(tree: Tree) -> LoadedScenario:
    """Validate a merged tree against the schema and the cross-references; all errors at once."""
    plain, sources = unwrap_sources(tree)
    try:
        scenario = Scenario.model_validate(plain)
    except ValidationError as exc:
        problems = _pydantic_problems(exc, tree, plain)
        raise ScenarioError(problems + _references_despite(exc, tree, plain, sources)) from None
    problems = cross_check(scenario, tree, sources)
    if problems:
        raise ScenarioError(problems)
    return LoadedScenario(scenario, tree, sources)


def _references_despite(
    exc: ValidationError, tree: Tree, plain: dict[str, Any], sources: dict[Key, str]
) -> list[Problem]:
    """Cross-reference problems elsewhere in a file whose schema errors are all in events or
    expectations: nothing refers to those entries, so they can be set aside and the rest checked.
    """
    broken: set[tuple[str, str]] = set()
    for err in exc.errors(include_url=False):
        path = _real_path(plain, err["loc"])
        if len(path) < 2 or path[0] not in ("events", "expect"):
            return []  # a broken state, power or bloc would make every reference check noisy
        broken.add((str(path[0]), str(path[1])))
    rest = {k: (dict(v) if k in ("events", "expect") else v) for k, v in plain.items()}
    for section, key in broken:
        rest[section].pop(key, None)
    try:
        scenario = Scenario.model_validate(rest)
    except ValidationError:
        return []
    kept = {k: v for k, v in sources.items() if not (len(k) > 1 and (k[0], k[1]) in broken)}
    return cross_check(scenario, tree, kept)


def _pydantic_problems(exc: ValidationError, tree: Tree, plain: Any) -> list[Problem]:
    out: list[Problem] = []
    for err in exc.errors(include_url=False):
        path = _real_path(plain, err["loc"])
        msg = err["msg"]
        given = err.get("input")
        ctx = err.get("ctx") or {}
        if err["type"] == "extra_forbidden":
            parent = _real_path(plain, err["loc"][:-1])
            msg = "unknown field" + _suggest(str(err["loc"][-1]), _fields_at(parent, plain))
        elif err["type"] == "missing":
            msg = "required field is missing"
        elif err["type"] in ("model_type", "model_attributes_type", "dict_type"):
            msg = f"expected a mapping, got {_yaml_kind(given)}"
        elif err["type"] == "union_tag_invalid":
            path = (*path, str(ctx.get("discriminator", "'type'")).strip("'"))
            tags = [t.strip(" '") for t in str(ctx.get("expected_tags", "")).split(",")]
            msg = "unknown type" + _suggest(str(ctx.get("tag", "")), [t for t in tags if t])
        elif err["type"] == "union_tag_not_found":
            path = (*path, str(ctx.get("discriminator", "'type'")).strip("'"))
            msg = "required field is missing (it selects the kind of entry)"
        elif err["loc"][-1:] == ("[key]",):
            msg = (
                f"invalid code {yaml_repr(given)}: use a letter, then letters, digits or _ "
                "(at most 24 characters)"
            )
        elif "input" in err:
            scalar = isinstance(given, str | int | float | bool) or given is None
            if scalar and repr(given) not in msg:
                msg += f" (got {yaml_repr(given)})"
        msg = msg.removeprefix("Value error, ")
        problem = tree.problem(path, msg)
        if (
            out
            and out[-1].path == problem.path
            and err["loc"][-1:]
            and (err["loc"][-1] in _UNION_TAGS)
        ):  # one union member's complaint per line would repeat the same location
            msg = f"{out[-1].message}; or {msg[:1].lower()}{msg[1:]}"
            problem = tree.problem(path, msg)
            out.pop()
        out.append(problem)
    return out


def _yaml_kind(value: Any) -> str:
    """How a value reads in YAML terms (for messages): null, a boolean, a number, a list..."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    return "a list" if isinstance(value, list | tuple) else "a mapping"


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


def _real_path(plain: Any, loc: Iterable[int | str]) -> Key:
    """Drop the discriminator/union tags pydantic inserts into `loc`, keeping real keys."""
    path: list[str | int] = []
    node: Any = plain
    tag = None  # the discriminator value pydantic inserts after entering a tagged-union entry
    for part in loc:
        is_key = isinstance(node, dict) and part in node
        is_index = isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node)
        if isinstance(node, dict) and part == tag and not is_key:
            tag = None  # `events.x.policy_change.policy`: skip the tag, keep the field after it
        elif is_key or is_index:
            path.append(part)
            node = node[part]
            tag = node.get("type") if isinstance(node, dict) else None
        elif isinstance(node, dict | list):
            if (
                isinstance(part, str)
                and not isinstance(node, list)
                and part[:1].islower()
                and (part not in _UNION_TAGS)
            ):
                path.append(part)  # a missing field: report it by name
                node = None
        else:
            break
    return tuple(path)


_UNION_TAGS = {"function-after[_month(), str]", "int", "float", "bool", "str"}
"""Member labels pydantic puts in `loc` for plain (untagged) unions such as `float | bool`."""


def _fields_at(path: Key, plain: Any = None) -> list[str]:
    """Field names allowed at a path (best effort, for 'did you mean').

    `plain` (the data) picks the member of a tagged union by its `type` (events, expect).
    """
    model: Any = Scenario
    node = plain
    members: dict[Any, Any] = {}
    for part in path:
        fields = getattr(model, "model_fields", None)
        if fields is None:
            return []
        node = node.get(part) if isinstance(node, dict) else None
        if isinstance(part, str) and part in fields:
            ann = fields[part].annotation
            model = _inner_model(ann)
            members = _tagged_members(ann)
        # else: inside a dict of models (states.BOL): the value model
        if isinstance(node, dict) and node.get("type") in members:
            model = members[node["type"]]
    fields = getattr(model, "model_fields", None)
    return list(fields) if fields else []


def _tagged_members(ann: Any) -> dict[Any, Any]:
    """Models in a (nested) annotation keyed by their `type: Literal[...]` tag, if they have one."""
    out: dict[Any, Any] = {}
    if isinstance(ann, type) and issubclass(ann, BaseModel):
        tag = ann.model_fields.get("type")
        for value in getattr(tag.annotation, "__args__", ()) if tag else ():
            out[value] = ann
        return out
    for arg in getattr(ann, "__args__", ()) or ():
        out.update(_tagged_members(arg))
    return out


def _inner_model(ann: Any) -> Any:
    if isinstance(ann, type) and issubclass(ann, BaseModel):
        return ann
    for arg in getattr(ann, "__args__", ()) or ():
        found = _inner_model(arg)
        if found is not None:
            return found
    return None


def _suggest(name: str, options: Iterable[str]) -> str:
    opts = sorted(set(options))
    close = difflib.get_close_matches(name, opts, n=1, cutoff=0.6)
    hint = f"; did you mean {close[0]!r}?" if close else ""
    listing = f" (expected one of: {', '.join(opts)})" if opts and len(opts) <= 12 else ""
    return f" {name!r}{hint}{listing}"


def _unknown(kind: str, name: str, valid: Iterable[str]) -> str:
    opts = sorted(set(valid))
    close = difflib.get_close_matches(name, opts, n=1, cutoff=0.5)
    hint = f"; did you mean {close[0]!r}?" if close else ""
    valid_list = ", ".join(opts) if opts else "none are defined"
    return f"unknown {kind} {name!r}{hint} (valid: {valid_list})"


def cross_check(s: Scenario, tree: Tree, sources: dict[Key, str]) -> list[Problem]:
    """References between sections, dates inside the horizon, sources that exist."""
    problems: list[Problem] = []
    powers, states, blocs = set(s.powers), set(s.states), set(s.blocs)
    actors = powers | states
    cal = s.time.calendar()
    first, last = cal.start, cal.end

    def bad(path: Key, msg: str) -> None:
        problems.append(tree.problem(path, msg))

    def need(kind: str, name: str | None, valid: set[str], path: Key) -> None:
        if name is not None and name not in valid:
            bad(path, _unknown(kind, name, valid))

    def date(text: str | None, path: Key) -> None:
        if text is None:
            return
        m = month_index(text)
        if not first <= m <= last:
            bad(path, f"date {text} is outside the horizon {cal.label(1)}..{cal.label(cal.steps)}")

    both = powers & states
    for code in sorted(both):
        bad(("states", code), f"{code!r} is both a power and a state")
    for code in s.states:
        tiers = [("exports",), ("imports",), ("debt",), ("fdi",)]
        st = s.states[code]
        for (section,) in tiers:
            for p in getattr(st, section):
                need("power", p, powers, ("states", code, section, p))
        for b in st.bloc_salience:
            need("bloc", b, blocs, ("states", code, "bloc_salience", b))
        for p in st.alignment or {}:
            need("power", p, powers, ("states", code, "alignment", p))
        need("power", st.sphere, powers, ("states", code, "sphere"))
        for i, n in enumerate(st.neighbours):
            need("state", n, states, ("states", code, "neighbours", i))
            if n == code:
                bad(("states", code, "neighbours", i), "a state cannot be its own neighbour")
    for b, bloc in s.blocs.items():
        need("power", bloc.leader, powers, ("blocs", b, "leader"))
        seen: set[str] = set()
        for role in ("members", "partners"):
            for i, m in enumerate(getattr(bloc, role)):
                need("state or power", m, actors, ("blocs", b, role, i))
                if m in seen:
                    bad(("blocs", b, role, i), f"{m!r} is listed twice in bloc {b}")
                seen.add(m)
    tp = s.rules.alignment.tilt_powers
    for i, p in enumerate(tp):
        need("power", p, powers, ("rules", "alignment", "tilt_powers", i))
    if tp[0] == tp[1]:
        bad(("rules", "alignment", "tilt_powers"), "the two tilt powers must differ")
    for pcode, power in s.powers.items():
        for name, pol in power.policies.items():
            base: Key = ("powers", pcode, "policies", name)
            need("bloc", pol.scope_bloc, blocs, (*base, "scope_bloc"))
            for i, st_code in enumerate(pol.scope_states or []):
                need("state", st_code, states, (*base, "scope_states", i))
            need("bloc", pol.demand.leave_bloc, blocs, (*base, "demand", "leave_bloc"))
            date(pol.start, (*base, "start"))
            date(pol.end, (*base, "end"))
    for eid, ev in s.events.items():
        base = ("events", eid)
        date(ev.date, (*base, "date"))
        if isinstance(ev, ThreatEvent):
            need("power", ev.sender, powers, (*base, "sender"))
            need("state", ev.target, states, (*base, "target"))
            need("bloc", ev.bloc, blocs, (*base, "bloc"))
            need("bloc", ev.demand.leave_bloc, blocs, (*base, "demand", "leave_bloc"))
            if (
                ev.target
                and ev.demand.policy
                and ev.demand.policy
                not in s.states.get(ev.target, State(name="", gdp=MIN_GDP)).policies
                and ev.target in states
            ):
                known = s.states[ev.target].policies
                kind = f"policy of {ev.target}"
                bad((*base, "demand", "policy"), _unknown(kind, ev.demand.policy, known))
        elif isinstance(ev, TariffEvent | TariffLiftEvent):
            need("power", ev.sender, powers, (*base, "sender"))
            need("state", ev.target, states, (*base, "target"))
        elif isinstance(ev, EngagementEvent):
            need("power", ev.power, powers, (*base, "power"))
            for i, st_code in enumerate(ev.states):
                need("state", st_code, states, (*base, "states", i))
        elif isinstance(ev, PledgeEvent):
            need("power", ev.power, powers, (*base, "power"))
            need("state", ev.state, states, (*base, "state"))
        elif isinstance(ev, InviteEvent | JoinEvent | LeaveEvent):
            need("state", ev.state, states, (*base, "state"))
            need("bloc", ev.bloc, blocs, (*base, "bloc"))
        elif isinstance(ev, GovernmentChangeEvent):
            need("state", ev.state, states, (*base, "state"))
            for p in ev.shift:
                need("power", p, powers, (*base, "shift", p))
        elif isinstance(ev, PolicyChangeEvent):
            need("state", ev.state, states, (*base, "state"))
        elif isinstance(ev, RuleChangeEvent):
            problems.extend(_check_rule_path(ev.path, ev.value, tree, (*base, "path")))
    for xid, ex in s.expect.items():
        base = ("expect", xid)
        date(ex.by, (*base, "by"))
        if isinstance(ex, MembershipExpect):
            need("state", ex.state, states, (*base, "state"))
            need("bloc", ex.bloc, blocs, (*base, "bloc"))
        elif isinstance(ex, PolicyExpect):
            need("state", ex.state, states, (*base, "state"))
        elif isinstance(ex, TariffExpect | ThreatOutcomeExpect):
            need("power", ex.sender, powers, (*base, "sender"))
            need("state", ex.target, states, (*base, "target"))
        elif isinstance(ex, TiltExpect):
            need("state", ex.state, states, (*base, "state"))
            date(ex.since, (*base, "since"))
    for path, src in sorted(sources.items(), key=lambda kv: dotted(kv[0])):
        if src not in s.meta.sources:
            bad(
                path,
                _unknown("source", src, s.meta.sources)
                if s.meta.sources
                else (f"cites source {src!r}, but meta.sources is empty"),
            )
    return problems


def _check_rule_path(path: str, value: float | bool, tree: Tree, where: Key) -> list[Problem]:
    model: Any = Rules
    parts = path.split(".")
    for i, part in enumerate(parts):
        fields = getattr(model, "model_fields", None)
        if fields is None or part not in fields:
            opts = list(fields) if fields else []
            return [tree.problem(where, _unknown("rule", ".".join(parts[: i + 1]), opts))]
        model = _inner_model(fields[part].annotation) or fields[part].annotation
    if isinstance(model, type) and issubclass(model, BaseModel):
        return [tree.problem(where, f"{path!r} is a section; name a parameter inside it")]
    try:  # the new value must respect the parameter's bounds, as in the `rules` section
        with_rule(Rules(), path, value)
    except ValidationError as exc:
        msg = "; ".join(e["msg"] for e in exc.errors(include_url=False))
        return [tree.problem((*where[:-1], "value"), f"{msg} (got {yaml_repr(value)})")]
    return []


def with_rule(rules: Rules, path: str, value: Any) -> Rules:
    """A copy of `rules` with one dotted parameter replaced (validated)."""
    data = rules.model_dump()
    node = data
    parts = path.split(".")
    for part in parts[:-1]:
        node = node[part]
    node[parts[-1]] = value
    return Rules.model_validate(data)
