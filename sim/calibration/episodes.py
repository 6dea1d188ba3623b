"""Calibration episodes as model runs: many independent episodes in one world, each episode's
outcome read back from the event log.

A batch of K episodes is one scenario with K target states (codes `E00001`, ... in episode
order), the two powers USA and CHN (both needed: the tilt is measured between them), no blocs,
no neighbours, zero FDI and loan budgets, and one dated `threat` event per episode in the first
month (an outright episode's `tariff` event before it). Episodes in one world cannot affect
each other: a state's decisions read only its own row (exposure, debt, salience, sovereignty),
nothing is allocated across states, and the sender's reputation, the one quantity shared
between a power's threats, is held fixed
(`threats.reputation_loss = reputation_gain = 0`). What a batch shares is the random stream, so
batched and one-per-world runs agree in distribution, not draw for draw
(tests/test_calibration_harness.py checks both the decision inputs and the outcome shares).

`threat_event` is the one place that maps an episode's stakes onto the schema's threat fields,
and `outright_event` the outright tariff that starts an outright episode (docs/calibration.md,
"What the harness maps").
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sim.calibration.population import Episode, Population
from sim.calibration.targets import Outcome
from sim.validation import LoadedScenario
from sim.vocabulary import LogKind

POWERS = ("USA", "CHN")
"""The senders, and the two powers of every calibration world."""
START = "2025-01"
"""First month of every calibration run; the threats are issued then."""
DEMAND = "demand"
"""Name of the policy each episode's threat demands the target drop."""
FIXED_RULES: dict[str, dict[str, float | bool]] = {
    "threats": {"reputation_loss": 0.0, "reputation_gain": 0.0},
    "alignment": {"impute": False},
}
"""Rules every calibration run sets: a constant reputation, and no imputation of unknown ties
from the other states of a batch (which are unrelated episodes), keep episodes independent."""

Row = Mapping[str, Any]
"""One event-log row: step, date, kind, actor, target, details."""


@dataclass(frozen=True)
class TargetData:
    """What the world knows of one target state, from the population's pairs (both senders)."""

    gdp: float
    exports: dict[str, float | None]
    imports: dict[str, float | None]
    debt: dict[str, float | None]


@dataclass(frozen=True)
class Context:
    """Everything a batch needs besides its episodes (picklable, so workers can build worlds)."""

    months: int
    """Observation window: steps of the run (monthly), the threat in the first."""
    salience: dict[str, float]
    """Value of each salience level (population.yaml's values, times a fitted scale)."""
    targets: dict[str, TargetData]
    """Each target state's data, by ISO3 code."""
    power_gdp: dict[str, float]
    """GDP of each power (the baseline scenario's, so a sender weighs costs at its real size)."""
    overrides: tuple[str, ...] = ()
    """`rules.<path>=<value>` overrides, applied like `geosim run --set` after FIXED_RULES."""
    deadline_months: int = 1
    """Months to comply (the standing-policy default)."""


def target_data(population: Population) -> dict[str, TargetData]:
    """Each target's GDP, trade with both powers and debt to China, from the pairs."""
    out: dict[str, dict[str, Any]] = {}
    for p in population.pairs:
        entry = out.setdefault(p.target, {"gdp": p.gdp.value, "x": {}, "m": {}, "d": {}})
        entry["x"][p.sender] = p.exports_to_sender.value
        entry["m"][p.sender] = p.imports_from_sender.value
        if p.loans_from_sender.status == "found":
            entry["d"][p.sender] = p.loans_from_sender.value
    return {c: TargetData(e["gdp"], e["x"], e["m"], e["d"]) for c, e in out.items()}


def state_code(k: int) -> str:
    """Code of the k-th episode's state in a batch (a letter then digits, as codes must be)."""
    return f"E{k + 1:05d}"


def threat_event(episode: Episode, code: str, context: Context) -> dict[str, Any]:
    """The dated threat of one episode, in the schema's terms (every stake the episode has).

    The tariff with its `coverage`, the rate `imposed` when it differs from the threatened one
    and its `schedule` (a phase-in); `withhold_lending` (the withheld share),
    `sanctions_officials` and `financial_pressure` (the share of GDP) when drawn. An outright
    episode's threat has deadline 0 and credibility 1: the measure is already in force
    (`outright_event`), so the target answers at once with the cost certain and the sender
    decides in the same month whether to keep it tied to the demand.
    """
    event: dict[str, Any] = {
        "type": "threat",
        "date": START,
        "sender": episode.sender,
        "target": code,
        "demand": {"policy": DEMAND, "active": False},
        "tariff": episode.tariff_rate,
        "coverage": episode.export_coverage,
        "deadline_months": 0 if episode.outright else context.deadline_months,
    }
    if episode.imposed_rate is not None:
        event["imposed"] = episode.imposed_rate
    if episode.schedule:
        event["schedule"] = [{"after_months": m, "rate": r} for m, r in episode.schedule]
    if episode.withhold_lending:
        event["withhold_lending"] = episode.withheld_lending_share
    if episode.sanctions_on_officials:
        event["sanctions_officials"] = True
    if episode.financial_pressure:
        event["financial_pressure"] = episode.financial_pressure_share
    if episode.outright:
        event["credibility"] = 1.0
    return event


def outright_event(episode: Episode, code: str) -> dict[str, Any] | None:
    """The outright `tariff` event that starts an outright episode (None for a threat-started
    one): the rate put in force at imposition, in the threat's month and before it in file
    order, so the threat's own imposition finds it in force (the model counts the outright rise
    as coercion and logs it `outright`)."""
    if not episode.outright:
        return None
    rate = episode.tariff_rate if episode.imposed_rate is None else episode.imposed_rate
    return {
        "type": "tariff",
        "date": START,
        "sender": episode.sender,
        "target": code,
        "rate": rate,
    }


def episode_state(episode: Episode, context: Context) -> dict[str, Any]:
    """The target state of one episode: the target's economy, and the demanded policy at the
    salience of the episode's level."""
    data = context.targets[episode.target]
    return {
        "name": f"{episode.pair} #{episode.number}",
        "gdp": data.gdp,
        "exports": dict(data.exports),
        "imports": dict(data.imports),
        "debt": dict(data.debt),
        "sovereignty": episode.sovereignty,
        "policies": {
            DEMAND: {"active": True, "salience": context.salience[episode.salience_level]},
        },
    }


def batch_dict(episodes: Sequence[Episode], context: Context) -> dict[str, Any]:
    """The scenario of a batch, as plain data."""
    codes = [state_code(k) for k in range(len(episodes))]
    events: dict[str, Any] = {}
    for c, e in zip(codes, episodes, strict=True):
        outright = outright_event(e, c)
        if outright is not None:
            events[f"o_{c}"] = outright  # before the threat: events apply in file order
        events[f"t_{c}"] = threat_event(e, c, context)
    return {
        "meta": {"name": "calibration", "description": "calibration episodes (generated)"},
        "time": {"start": START, "unit": "month", "steps": context.months},
        "powers": {p: {"name": p, "gdp": context.power_gdp[p]} for p in POWERS},
        "states": {c: episode_state(e, context) for c, e in zip(codes, episodes, strict=True)},
        "rules": {k: dict(v) for k, v in FIXED_RULES.items()},
        "events": events,
    }


def batch_scenario(episodes: Sequence[Episode], context: Context) -> LoadedScenario:
    """The batch's scenario, validated like any scenario, with the `--set` overrides applied."""
    from sim.loader import Tree, apply_override
    from sim.validation import schema_default, validate_tree

    tree = Tree(data=batch_dict(episodes, context), files=["<calibration>"])
    for assignment in context.overrides:
        apply_override(tree, assignment, schema_default)
    return validate_tree(tree)


def rows_by_state(log: Sequence[Row], codes: Sequence[str]) -> list[list[Row]]:
    """Each episode's log rows (those whose actor or target is its state), in log order."""
    position = {c: k for k, c in enumerate(codes)}
    out: list[list[Row]] = [[] for _ in codes]
    for row in log:
        k = position.get(row["actor"], position.get(row["target"]))
        if k is not None:
            out[k].append(row)
    return out


def outright_start(rows: Sequence[Row]) -> bool:
    """The episode started with an outright tariff (a `tariff_imposed` row marked `outright`
    before its threat row)."""
    for r in rows:
        if r["kind"] == LogKind.THREAT:
            return False
        if r["kind"] == LogKind.TARIFF_IMPOSED and r["details"].get("outright"):
            return True
    return False


def classify(rows: Sequence[Row]) -> Outcome:
    """The outcome class of one episode from its log rows (targets.yaml, `outcomes`).

    The first terminal row decides: `complied` (at the threat stage or after imposition, by its
    `after_imposition` detail), `backed_down`, `lifted`. Without one, an `imposed` row makes
    the episode `imposed_ongoing`, else it is `pending`. An episode that started with an outright
    tariff is imposed from the start: compliance is after imposition, and a sender that declines
    at the deadline-0 decision leaves the outright tariff in force (the model ties no demand to
    it), so the episode stays imposed.
    """
    if not any(r["kind"] == LogKind.THREAT for r in rows):
        raise ValueError("the episode's log has no threat row")
    outright = outright_start(rows)
    imposed = outright
    for r in rows:
        kind = r["kind"]
        if kind == LogKind.COMPLIED:
            after = outright or bool(r["details"].get("after_imposition", imposed))
            return "complied_after_imposition" if after else "complied_at_threat"
        if kind == LogKind.BACKED_DOWN and not outright:
            return "backed_down"
        if kind == LogKind.LIFTED:
            return "lifted"
        if kind == LogKind.IMPOSED:
            imposed = True
    return "imposed_ongoing" if imposed else "pending"
