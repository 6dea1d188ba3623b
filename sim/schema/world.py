"""The world a scenario describes: sources, calendar, great powers, states and blocs."""

from __future__ import annotations

import itertools
from typing import Annotated, Literal

from pydantic import Field, model_validator

from sim.calendar import UNIT_MONTHS, Calendar, month_index
from sim.schema.base import (
    MAX_GROWTH,
    MAX_HORIZON_YEARS,
    MAX_MONTHS,
    Amounts,
    Engagement,
    Factor,
    Frozen,
    Gdp,
    GdpShare,
    Money,
    Month,
    Months,
    Salience,
    Share,
    Stake,
    Tariff,
    bounded,
)

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


BLOC_STATUS = {"none": 0, "partner": 1, "member": 2}
"""A state's status in a bloc as recorded in results (`bloc.<CODE>` variables)."""

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


class TariffStep(Frozen):
    """A step of a tariff schedule: from `after_months` after imposition the rate is `rate`."""

    after_months: Annotated[int, Field(ge=0, le=MAX_MONTHS, strict=True)]
    """Months after imposition (rounded up to whole steps, as deadlines; at most 2400)."""
    rate: Tariff
    """Ad-valorem rate from then on (1.0 = 100%; at most 10; 0 suspends the tariff)."""


class Stakes(Frozen):
    """What a threat puts at risk. Any combination of a tariff (with its coverage, imposed rate
    and schedule), withheld lending, sanctions on officials, financial pressure and a non-tariff
    stake; at least one is required. When carried out each takes effect while in force."""

    tariff: Tariff | None = None
    """Ad-valorem tariff threatened on the target's exports to the sender (1.0 = 100%; at most
    10)."""
    coverage: Annotated[float, Field(gt=0.0, le=1.0, allow_inf_nan=False, strict=True)] = 1.0
    """Share of the target's exports to the sender the tariff covers (1 = across the board)."""
    imposed: Tariff | None = None
    """Rate actually imposed if the threat is carried out (default: the threatened `tariff`; at
    most 10)."""
    schedule: list[TariffStep] | None = None
    """Later rates after imposition (phasing in or escalating), in increasing `after_months`."""
    withhold_lending: Share | None = None
    """Share of the sender's new lending to the target withheld while the threat is in force."""
    sanctions_officials: bool = False
    """Sanctions on the target's officials (cost `threats.officials_cost` of GDP while in
    force)."""
    financial_pressure: Stake | None = None
    """Financial pressure (currency, payments, market access), share of the target's GDP lost
    while in force (at most 0.9)."""
    stake: Stake | None = None
    """Other non-tariff stake (security, aid, canal) as a share of the target's GDP, lost while in
    force (at most 0.9)."""
    credibility: Share | None = None
    """Probability the sender carries out the threat if defied (default `threats.credibility`;
    times its reputation and its own cost-benefit term)."""
    interest: GdpShare | None = None
    """The sender's interest in the demand, share of its GDP (default `threats.sender_interest`;
    at most 100; above 1 warns)."""

    @model_validator(mode="after")
    def _some(self) -> Stakes:
        measures = (self.tariff, self.withhold_lending, self.financial_pressure, self.stake)
        if all(m is None for m in measures) and not self.sanctions_officials:
            raise ValueError(
                "give at least one stake: `tariff` (a rate), `withhold_lending` (a share), "
                "`sanctions_officials: true`, `financial_pressure` or `stake` (shares of GDP)"
            )
        if self.tariff is None:
            extra = [n for n in ("imposed", "schedule") if getattr(self, n) is not None]
            extra += ["coverage"] if self.coverage != 1.0 else []
            if extra:
                verb = "needs" if len(extra) == 1 else "need"
                raise ValueError(f"`{'`, `'.join(extra)}` {verb} a threatened `tariff`")
        months = [step.after_months for step in self.schedule or []]
        if any(b <= a for a, b in itertools.pairwise(months)):
            raise ValueError("`schedule` steps must be in strictly increasing `after_months`")
        return self

    @property
    def imposed_rate(self) -> float | None:
        """The rate imposed if carried out (`imposed`, else the threatened `tariff`)."""
        return self.tariff if self.imposed is None else self.imposed


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
    """Probability per month that the sender notices a violation and issues the threat; with
    steps of m months it is 1 - (1 - vigilance)^m per step (1: at once, at any step length)."""
    cooldown_months: Months | None = None
    """Months before the same state is threatened again (default `threats.cooldown_months`; at
    most 2400)."""


class Power(Frozen):
    """A great power: economy, capital budgets for the modelled states, engagement, policies."""

    name: str
    """Display name."""
    gdp: Gdp
    """GDP in US$ (1e6 to 1e16; below 1e7 or above 2e14 warns: most often a unit slip)."""
    fdi_budget: Money = 0.0
    """Direct investment per year allocated across the modelled states, US$ (at most 1e16)."""
    loan_budget: Money = 0.0
    """New official lending per year across the modelled states, US$ (at most 1e16)."""
    engagement: Engagement = 1.0
    """Baseline diplomatic engagement with every state (relative units, 0.001 to 1000; visits
    add pulses)."""
    import_growth: Annotated[float, bounded(-MAX_GROWTH, MAX_GROWTH)] = 0.0
    """Annual growth of the power's imports from the modelled states (trade trend; -0.5 to
    0.5)."""
    policies: dict[str, StandingPolicy] = {}
    """Standing threats by name."""


class StatePolicy(Frozen):
    """A named domestic policy a threat can target."""

    active: bool = True
    """Whether the policy is in force at the start."""
    salience: Salience = 0.0
    """Value the government places on its current setting: a level (`low`, `medium`, `high`,
    `core`; values in `rules.threats.salience_levels`) or a share of GDP (cost of yielding; at
    most 100; above 1 warns)."""
    description: str = ""
    """What the policy is."""


class State(Frozen):
    """A state: economy, ties to each power, domestic policies, sensitivity, neighbours."""

    name: str
    """Display name."""
    gdp: Gdp
    """GDP in US$ (1e6 to 1e16; below 1e7 or above 2e14 warns: most often a unit slip)."""
    exports: Amounts = {}
    """Goods exports to each power per year, US$ (null = not known; the tie is then ignored).
    Every amount is 0, or 1 to 1e16; exports (or imports) above 2.5 times GDP warn."""
    imports: Amounts = {}
    """Goods imports from each power per year, US$ (null = not known; 0, or 1 to 1e16)."""
    debt: Amounts = {}
    """Debt owed to each power (official lending), US$ (null = not known; 0, or 1 to 1e16)."""
    fdi: Amounts = {}
    """Stock of direct investment from each power, US$ (null = not known; 0, or 1 to 1e16)."""
    exports_total: Money | None = None
    """Goods exports to every partner per year, US$ (at most 1e16). What the powers do not buy
    goes to the rest of the world, where diverted trade can also go; without it the state trades
    with the powers only."""
    imports_total: Money | None = None
    """Goods imports from every partner per year, US$ (at most 1e16); the rest of the world
    supplies what the powers do not."""
    policies: dict[str, StatePolicy] = {}
    """Named domestic policies that threats may target."""
    bloc_salience: dict[str, Salience] = {}
    """Value placed on membership of each bloc: a level (`low` ... `core`) or a share of GDP (cost
    of leaving under pressure; at most 100, above 1 warns); default
    `rules.threats.bloc_salience`."""
    sovereignty: Factor = 1.0
    """Sensitivity to coercion: multiplies the cost of yielding to a demand (at most 1000)."""
    sphere: str | dict[str, Share] | None = None
    """Power whose traditional sphere of influence the state is in (a standing tie), or several
    powers with weights in [0, 1] summing to at most 1 (`{USA: 0.5, RUS: 0.5}`); none if null."""
    stays_out: list[str] = []
    """Blocs the state has a standing policy of not joining (non-alignment, or a declared refusal,
    as India's of the Belt and Road): it may still leave others, and joins these only by an
    explicit event."""
    no_relations: list[str] = []
    """Powers the state has no diplomatic relations with (it recognises Taipei rather than
    Beijing, or relations were broken): their engagement tie with it is nil, and their visits
    do not reach it."""
    orientation: dict[str, Annotated[float, bounded(-1.0, 1.0)]] = {}
    """Lasting shift of the target affinity to each power that the ties do not carry (a
    sanctions regime, a war, a recognition dispute), in [-1, 1]; cite the fact behind it."""
    alignment: dict[str, Share] | None = None
    """Initial affinity to each power in [0, 1]; default derived from the state's ties."""
    neighbours: list[str] = []
    """States whose alignment pulls on this one (peer influence); ties are made symmetric."""
    region: str | None = None
    """Free-text grouping used in plots and synthetic worlds."""

    @model_validator(mode="after")
    def _spheres(self) -> State:
        if isinstance(self.sphere, dict) and sum(self.sphere.values()) > 1.0 + 1e-9:
            raise ValueError(
                f"`sphere` weights sum to {sum(self.sphere.values()):g}; at most 1 is allowed"
            )
        return self

    def sphere_weights(self) -> dict[str, float]:
        """Each power's share of the state's sphere tie (empty for none)."""
        if self.sphere is None:
            return {}
        if isinstance(self.sphere, str):
            return {self.sphere: 1.0}
        return dict(self.sphere)


class RestOfWorld(Frozen):
    """The partners that are not modelled as powers, taken together (each state's trade with
    them is its total less its trade with the powers)."""

    growth: Annotated[float, bounded(-MAX_GROWTH, MAX_GROWTH)] = 0.0
    """Annual growth of every state's trade with the rest of the world (-0.5 to 0.5)."""


Term = Annotated[float, Field(gt=0.0, le=100.0, allow_inf_nan=False, strict=True)]
"""A membership term in years (above 0, at most 100)."""


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
    term_years: (
        Annotated[float, Field(gt=0.0, le=100.0, allow_inf_nan=False, strict=True)] | None
    ) = None
    """Term of a membership (a memorandum's), years (at most 100): a member leaves only at a
    renewal date, every `term_years` from its accession (from the start for initial members),
    where it does not renew with the probability its leave hazard accumulates over the term.
    None: open-ended (it may leave at any time)."""
    description: str = ""
    """What the bloc is."""
