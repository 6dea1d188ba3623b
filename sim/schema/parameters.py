"""Behavioural parameters (`rules`): every number a rule uses, with its default and bounds."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BaseModel, ValidationError

from sim.schema.base import (
    MAX_ALIGNMENT_WEIGHT,
    MAX_PULL,
    MAX_SIZE_EXPONENT,
    Elasticity,
    Factor,
    Frozen,
    GdpShare,
    Months,
    Positive,
    Share,
    Sharpness,
    bounded,
    inner_model,
    yaml_repr,
)

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
    alignment_pull: Annotated[float, bounded(0.0, MAX_PULL)] = 0.05
    """Per-year drift of trade shares toward the powers a state is aligned with (at most 1)."""


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


def with_rule(rules: Rules, path: str, value: Any) -> Rules:
    """A copy of `rules` with one dotted parameter replaced (validated)."""
    data = rules.model_dump()
    node = data
    parts = path.split(".")
    for part in parts[:-1]:
        node = node[part]
    node[parts[-1]] = value
    return Rules.model_validate(data)


def check_rule_path(path: str, value: float | bool) -> list[tuple[str, str]]:
    """Problems with a `rule_change`: (field, message) for an unknown or section path, or for
    a value outside the parameter's bounds (checked as in the `rules` section)."""
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
        with_rule(Rules(), path, value)
    except ValidationError as exc:
        msg = "; ".join(e["msg"] for e in exc.errors(include_url=False))
        return [("value", f"{msg} (got {yaml_repr(value)})")]
    return []
