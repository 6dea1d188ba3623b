"""Calibration episodes as model runs: many independent episodes in one world, each episode's
outcome read back from the event log.

A batch of K episodes is one scenario with K target states (codes `E00001`, ... in episode
order), the two powers USA and CHN (both needed: the tilt is measured between them), no blocs,
no neighbours, zero FDI and loan budgets, and one dated `threat` event per episode in the first
month. Episodes in one world cannot affect each other: a state's decisions read only its own row
(exposure, debt, salience, sovereignty), nothing is allocated across states, and the sender's
reputation, the one quantity shared between a power's threats, is held fixed
(`threats.reputation_loss = reputation_gain = 0`). What a batch shares is the random stream, so
batched and one-per-world runs agree in distribution, not draw for draw
(tests/test_calibration_harness.py checks both the decision inputs and the outcome shares).

`threat_event` is the one place that maps an episode's stakes onto the schema's threat fields;
update it when the schema gains fields (docs/calibration.md, "What the harness maps").
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
FIXED_RULES: dict[str, dict[str, float]] = {
    "threats": {"reputation_loss": 0.0, "reputation_gain": 0.0},
}
"""Rules every calibration run sets: a constant reputation keeps episodes independent."""

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
    """The dated threat of one episode, in the schema's terms.

    The tariff is always mapped. The other stakes are mapped when the threat schema has a field
    for them (the coercion rewrite adds `coverage`, `withhold_lending`, `sanctions_officials`;
    before it, a threat is a tariff on all exports to the sender). Financial pressure needs a
    share of GDP that no rule gives yet, so it is not mapped (docs/calibration.md).
    """
    event: dict[str, Any] = {
        "type": "threat",
        "date": START,
        "sender": episode.sender,
        "target": code,
        "demand": {"policy": DEMAND, "active": False},
        "tariff": episode.tariff_rate,
        "deadline_months": context.deadline_months,
    }
    fields = _threat_fields()
    if "coverage" in fields:
        event["coverage"] = episode.export_coverage
    if "withhold_lending" in fields and episode.withhold_lending:
        event["withhold_lending"] = episode.withheld_lending_share
    if "sanctions_officials" in fields and episode.sanctions_on_officials:
        event["sanctions_officials"] = True
    return event


def _threat_fields() -> set[str]:
    """Fields a dated threat takes in the installed schema."""
    from sim.schema.events.threat import ThreatEvent

    return set(ThreatEvent.model_fields)


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
    return {
        "meta": {"name": "calibration", "description": "calibration episodes (generated)"},
        "time": {"start": START, "unit": "month", "steps": context.months},
        "powers": {p: {"name": p, "gdp": context.power_gdp[p]} for p in POWERS},
        "states": {c: episode_state(e, context) for c, e in zip(codes, episodes, strict=True)},
        "rules": {k: dict(v) for k, v in FIXED_RULES.items()},
        "events": {
            f"t_{c}": threat_event(e, c, context) for c, e in zip(codes, episodes, strict=True)
        },
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


def classify(rows: Sequence[Row]) -> Outcome:
    """The outcome class of one episode from its log rows (targets.yaml, `outcomes`).

    The first terminal row decides: `complied` (at the threat stage or after imposition, by its
    `after_imposition` detail), `backed_down`, `lifted`. Without one, an `imposed` row makes
    the episode `imposed_ongoing`, else it is `pending`.
    """
    if not any(r["kind"] == LogKind.THREAT for r in rows):
        raise ValueError("the episode's log has no threat row")
    imposed = False
    for r in rows:
        kind = r["kind"]
        if kind == LogKind.COMPLIED:
            after = bool(r["details"].get("after_imposition", imposed))
            return "complied_after_imposition" if after else "complied_at_threat"
        if kind == LogKind.BACKED_DOWN:
            return "backed_down"
        if kind == LogKind.LIFTED:
            return "lifted"
        if kind == LogKind.IMPOSED:
            imposed = True
    return "imposed_ongoing" if imposed else "pending"
