"""Behavioural parameters (`rules`): every number a rule uses, with its default and bounds."""

from __future__ import annotations

import itertools
import math
from typing import Annotated, Any

from pydantic import BaseModel, ValidationError, model_validator

from sim.schema.base import (
    MAX_ALIGNMENT_WEIGHT,
    MAX_PULL,
    MAX_RALLY,
    MAX_SIZE_EXPONENT,
    Elasticity,
    Factor,
    Frozen,
    GdpShare,
    Months,
    Positive,
    Rate,
    Salience,
    Share,
    Sharpness,
    Stake,
    bounded,
    inner_model,
    yaml_repr,
)

# --------------------------------------------------------------------------- rules


class TradeRules(Frozen):
    """Trade: the time profile of the tariff response, diversion, drift toward alignment.

    The elasticity of exports to a tariff change grows with the time since the change, from
    `elasticity_impact` through `elasticity_short` at one year toward `elasticity_long`:
    e(tau) = e_long - (e_long - e_impact) exp(-tau / T), with T set so that e(1 year) is
    `elasticity_short` (MODEL.md, Trade). Each must exceed the one before it."""

    elasticity_impact: Elasticity = 0.25
    """Elasticity of exports within the month of a tariff change (at most 20)."""
    elasticity_short: Elasticity = 0.76
    """Elasticity one year after a tariff change (exports scale by (1+t)^-e; at most 20)."""
    elasticity_long: Elasticity = 2.0
    """Elasticity the response approaches after about ten years, and holds beyond (at most 20)."""
    diversion: Share = 0.5
    """Share of the exports a tariff removes that is re-routed to the state's other partners
    (the other powers and the rest of the world), within their capacity."""
    absorption: Share = 0.25
    """Capacity of each other partner: diverted trade raises a partner's imports from the state
    by at most this share of what it buys after the tariff."""
    alignment_pull: Annotated[float, bounded(0.0, MAX_PULL)] = 0.05
    """Per-year drift of trade shares toward the powers a state is aligned with (at most 1)."""

    @model_validator(mode="after")
    def _profile(self) -> TradeRules:
        if not self.elasticity_impact < self.elasticity_short < self.elasticity_long:
            raise ValueError(
                "the elasticities must increase with time: elasticity_impact < "
                f"elasticity_short < elasticity_long (got {self.elasticity_impact:g}, "
                f"{self.elasticity_short:g}, {self.elasticity_long:g})"
            )
        return self

    @property
    def adjustment_years(self) -> float:
        """Time constant T of the profile: e(1 year) = elasticity_short."""
        # log((e_long - e_impact) / (e_long - e_short)), exact also when e_short is a hair
        # above e_impact (then T is huge: the response stays at its impact value).
        first_year = self.elasticity_short - self.elasticity_impact
        return 1.0 / math.log1p(first_year / (self.elasticity_long - self.elasticity_short))

    def elasticity_after(self, years: float) -> float:
        """The elasticity `years` after a tariff change (the published profile, MODEL.md)."""
        gap = self.elasticity_long - self.elasticity_impact
        return self.elasticity_long - gap * math.exp(-years / self.adjustment_years)


class InvestmentRules(Frozen):
    """How powers allocate FDI and loans, and how debt runs off."""

    size_exponent: Annotated[float, bounded(0.0, MAX_SIZE_EXPONENT)] = 1.0
    """With equal stocks per GDP, allocation grows with GDP^size_exponent (1: in proportion; at
    most 4)."""
    alignment_weight: Annotated[float, bounded(0.0, MAX_ALIGNMENT_WEIGHT)] = 3.0
    """Allocation weight grows with exp(alignment_weight * (affinity - 0.5)) (at most 20)."""
    bloc_bonus: Factor = 1.0
    """Members of blocs the power leads draw (1 + bloc_bonus) times the capital (partners half;
    at most 1000)."""
    greenfield_share: GdpShare = 0.001
    """A state with no stock from a power still draws capital as if it had this share of GDP (at
    most 100)."""
    amortisation_years: Positive = 15.0
    """Debt is repaid at 1/amortisation_years of the stock per year."""


class SalienceLevels(Frozen):
    """Values of the named salience levels, shares of GDP (docs/calibration.md, Salience levels;
    priors from sim/calibration/population.yaml, before any fitting). Each must exceed the one
    below it."""

    low: GdpShare = 0.002
    """A trade-practice or regulatory demand the government has no political stake in (yielding
    costs rents to a narrow group or administrative effort). Prior 0.001, range 0.0003-0.003: about
    the median cost of defying that the calibration population's threats create; fitted 0.002
    (every level times the fitted scale 2.03, docs/calibration.md) (at most 100)."""
    medium: GdpShare = 0.01
    """A policy the government has adopted and defends, with a constituency but not core
    (yielding is a visible reversal). Prior 0.005, range 0.0015-0.015: the upper quartile of that
    cost; fitted 0.01 (at most 100)."""
    high: GdpShare = 0.041
    """A major commitment tied to the government's programme or standing (yielding splits its
    coalition or breaks commitments to third states). Prior 0.02, range 0.006-0.06: above the 95th
    percentile of that cost; fitted 0.041 (at most 100)."""
    core: GdpShare = 0.2
    """Regime survival, territorial integrity, national security, constitutional order. Prior
    0.1, range 0.03-0.3: above the largest cost of defying any threat in the population creates;
    fitted 0.2 (at most 100)."""

    @model_validator(mode="after")
    def _increasing(self) -> SalienceLevels:
        values = [self.low, self.medium, self.high, self.core]
        if any(b <= a for a, b in itertools.pairwise(values)):
            raise ValueError("salience levels must increase: low < medium < high < core")
        return self


class ThreatRules(Frozen):
    """The threat game: the target weighs defying against complying; the sender decides whether
    to impose and, later, whether to keep what it imposed. Priors are a priori (before the
    calibration of issue 9); ranges are plausible intervals for the fit."""

    credibility: Share = 0.59
    """Default probability that a sender carries out a defied threat (times its reputation and
    the sender's own cost-benefit term, see `sender_sharpness`). Prior 0.6; fitted 0.59 to the
    share of threats never imposed (TIES; docs/calibration.md)."""
    sharpness: Sharpness = 2.1
    """P(comply) = 1 / (1 + (cost_comply / cost_defy)^sharpness). Prior 3, range 1.5-6; fitted
    2.1 with the other coercion parameters (docs/calibration.md) (at most 1000)."""
    debt_leverage: Factor = 0.5
    """Debt owed to the sender, as a share of GDP, times this adds to the cost of defying (at most
    1000)."""
    reputation_loss: Share = 0.2
    """Fraction of the sender's reputation lost when it backs down."""
    reputation_gain: Share = 0.05
    """Fraction of the gap to full reputation regained when it carries a threat out."""
    cooldown_months: Months = 12
    """Months before a standing policy threatens the same state again (at most 2400)."""
    bloc_salience: Salience = "medium"
    """Default value of a bloc membership for states that give none: a level name or a share of
    GDP (at most 100)."""
    salience_levels: SalienceLevels = SalienceLevels()
    """Values (shares of GDP) of the salience levels `low`, `medium`, `high`, `core`."""
    reconsider: bool = True
    """Whether a state under imposed coercion re-decides (at `reconsider_rate`)."""
    reconsider_rate: Rate = 11.7
    """Re-decisions per year of a state under imposed coercion (tariff or not), with the cost now
    certain: per step 1 - exp(-rate * dt). Prior 2/yr (a government revisits a costly stand
    about twice a year: budget and electoral cycles, summits); range 0.5-12 (from yearly to
    monthly); fitted 11.7 to HSE's success among imposed episodes, near the top of the range
    (docs/calibration.md)."""
    review_rate: Rate = 1.0
    """Reviews per year in which a sender decides whether to keep what it imposed, with its
    current costs: per step 1 - exp(-rate * dt). Prior 1/yr (annual policy reviews); range
    0.25-4."""
    sender_sharpness: Sharpness = 2.0
    """The sender's cost-benefit term: 1 / (1 + (sender_cost / interest)^sender_sharpness).
    Prior 2 (flatter than the target's 3: a sender's motives mix audience costs and signalling);
    range 1-5 (at most 1000)."""
    sender_interest: GdpShare = 0.001
    """The sender's interest in a demand, share of its own GDP (a threat's `interest` overrides).
    Prior 0.001 (for the US about $27bn a year, below the ~0.2% of GDP the 2018-19 tariffs cost
    US buyers, Amiti, Redding & Weinstein 2019, which the US accepted for its largest dispute);
    range 0.0002-0.005 (at most 100)."""
    alignment_weight: Annotated[float, bounded(0.0, MAX_ALIGNMENT_WEIGHT)] = 1.0
    """The cost of complying is multiplied by exp(-alignment_weight * closeness), closeness = the
    target's affinity to the sender minus its mean affinity to the other powers, in [-1, 1]:
    allies comply more readily, adversaries resist (Drezner 1999, direction only). Prior 1
    (closeness 0.5 changes the cost by a factor 1.6); range 0-2 (0: raw TIES splits show no
    difference, calibration-sources 4; at most 20)."""
    black_knight: Share = 0.5
    """Black-knight offset = black_knight * the rival's share of the target's economic ties
    (capped at 0.9); the cost of defying is multiplied by (1 - offset). Prior 0.5, equal to
    `trade.diversion` (the share of lost trade re-routed elsewhere); range 0-1."""
    officials_cost: Stake = 0.001
    """Cost of sanctions on officials (visa bans, asset freezes), share of the target's GDP while
    in force. Prior 0.001, the `low` salience level: on their own they compel only demands of low
    salience at even odds (targeted sanctions cost the economy little); range 0.0002-0.005."""
    retaliation: Share = 0.15
    """P(the target retaliates against an imposed tariff) = retaliation * (1 - closeness), at
    most 1 (twice the base rate for a full adversary, none for a full ally). Prior 0.15, range
    0.05-0.30: the TIES proxy, 15.1% of imposed cases (calibration-sources 5b), taken at a mean
    closeness of 0."""
    rally: Annotated[float, bounded(-MAX_RALLY, MAX_RALLY)] = 0.5
    """At imposition the target's resolve multiplies by exp(rally * -closeness): hardening for
    adversaries (rally round the flag), eroding for allies. Prior 0.5, range -0.45-1.4: the
    suggested multiplier range 0.8-2 (docs/calibration.md) at a clear adversary's closeness
    -0.5; no published magnitude, direction disputed (calibration-sources 5c), more studies
    report hardening, hence a positive prior (at most 10 either way)."""

    def salience_value(self, salience: float | str) -> float:
        """A salience as a share of GDP: a level name's value, or the number itself."""
        if isinstance(salience, str):
            return float(getattr(self.salience_levels, salience))
        return float(salience)


class BlocRules(Frozen):
    """Joining and leaving blocs: yearly hazards driven by what membership is worth (MODEL.md,
    Blocs). The join rate and the three weights of the value are fitted to the Belt and Road
    signings in Latin America, 2017-2023 (docs/validation.md)."""

    join_rate: Annotated[float, bounded(0.0, 100.0)] = 0.495
    """Yearly hazard of joining an open bloc when membership is worth nothing (V = 0; at most
    100)."""
    leave_rate: Annotated[float, bounded(0.0, 100.0)] = 0.0005
    """Yearly hazard of leaving when nothing has changed: the status quo (at most 100)."""
    weight_alignment: Factor = 3.65
    """Weight of closeness to the leader (affinity to it minus the mean to the other powers; at
    most 1000)."""
    weight_economy: Factor = 0.0
    """Weight of economic dependence on the leader (the mean trade, FDI and debt tie; at most
    1000)."""
    weight_diffusion: Factor = 0.349
    """Weight of the share of the state's region already in the bloc (at most 1000)."""
    weight_threat: Factor = 10.0
    """Weight of expected coercion cost (share of GDP) that membership draws (at most 1000)."""
    weight_change: Factor = 1.0
    """Weight of the change of the value since the start, in both hazards: news counts this
    much again on top of the level (at most 1000)."""
    partner_weight: Share = 0.5
    """A partner's tie counts this fraction of a member's."""


class TieWeights(Frozen):
    """Weights of the ties in a state's target affinity to each power (renormalised over the ties
    known or imputed for that power; each at most 1000)."""

    trade: Factor = 0.30
    """The power's share of the state's goods trade with everyone (at most 1000)."""
    fdi: Factor = 0.15
    """The power's direct-investment stock against GDP, saturating (at most 1000)."""
    debt: Factor = 0.10
    """Debt owed to the power against GDP, saturating (at most 1000)."""
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
    """Debt to a power over GDP at which the debt tie is one half: (D/Y) / (D/Y + h)."""
    fdi_half_saturation: Positive = 0.05
    """Direct-investment stock from a power over GDP at which the FDI tie is one half."""
    bloc_half_saturation: Positive = 1.0
    """Ties through blocs a power leads (member 1, partner `blocs.partner_weight`, summed) at
    which the bloc tie is one half: n / (n + h)."""
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
    impute: bool = True
    """Impute a trade, FDI or debt tie that is not known from the scenario's other states (the
    median of that tie for the power); off, it is left out of that power's target. Worlds whose
    states have nothing to do with each other (calibration batches) switch it off."""
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


def with_rule(rules: Rules, path: str, value: Any) -> Rules:
    """A copy of `rules` with one dotted parameter replaced (validated)."""
    data = rules.model_dump()
    node = data
    parts = path.split(".")
    for part in parts[:-1]:
        node = node[part]
    node[parts[-1]] = value
    return Rules.model_validate(data)


def check_rule_path(
    path: str, value: float | bool, base: Rules | None = None
) -> list[tuple[str, str]]:
    """Problems with a `rule_change`: (field, message) for an unknown or section path, or for
    a value outside the parameter's bounds or inconsistent with the other rules of `base` (the
    scenario's; default the defaults), checked as in the `rules` section."""
    from sim.schema.refs import unknown  # refs imports the loader; keep this module light

    model: Any = Rules
    parts = path.split(".")
    for i, part in enumerate(parts):
        fields = getattr(model, "model_fields", None)
        if fields is None or part not in fields:
            opts = list(fields) if fields else []
            return [("path", unknown("rule", ".".join(parts[: i + 1]), opts))]
        model = inner_model(fields[part].annotation) or fields[part].annotation
    if isinstance(model, type) and issubclass(model, BaseModel):
        return [("path", f"{path!r} is a section; name a parameter inside it")]
    try:
        with_rule(Rules() if base is None else base, path, value)
    except ValidationError as exc:
        msg = "; ".join(
            e["msg"].removeprefix("Value error, ") for e in exc.errors(include_url=False)
        )
        return [("value", f"{msg} (got {yaml_repr(value)})")]
    return []
