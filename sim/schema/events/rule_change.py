"""`rule_change`: a behavioural parameter takes a new value from a date on."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from pydantic import ValidationError

from sim.calendar import month_index
from sim.loader import Key, Tree, unwrap_sources
from sim.schema.effects import Effect, World
from sim.schema.events.base import EventBase
from sim.schema.events.tariff import TariffEvent
from sim.schema.parameters import Rules, check_rule_path, with_rule
from sim.schema.refs import Refs


class RuleChangeEvent(EventBase):
    """A rule parameter changes mid-run."""

    type: Literal["rule_change"]
    path: str
    """Path inside `rules`, e.g. `threats.credibility`."""
    value: float | bool
    """New value (held to the parameter's own bounds)."""

    example = {
        **TariffEvent.example,  # the tariff whose impact the new elasticity sets
        "elastic": {
            "type": "rule_change",
            "date": "2025-02",
            "path": "trade.elasticity_short",
            "value": 1.5,
        },
    }
    effect = Effect(state="MEX", variable="exports.USA", direction="down")

    def check(self, refs: Refs, path: Key) -> None:
        """The path must name a parameter, and the value must keep the rules valid as they stand
        when it applies: the scenario's, changed by every rule_change applied before it (two
        changes each valid alone can together break a rule that ties parameters, such as the
        elasticities' order, which would otherwise surface only in the middle of a run)."""
        super().check(refs, path)
        chain = _chain(refs)
        problems = chain.problems.get(str(path[-1]))
        if problems is None:  # outside the horizon (reported there): it never applies
            problems = check_rule_path(self.path, self.value, chain.base)
        for where, message in problems:
            refs.bad((*path, where), message)

    def apply(self, world: World, eid: str) -> None:
        world.rules = with_rule(world.rules, self.path, self.value)
        world.note("rule_change", "", "", event=eid, path=self.path, value=self.value)


@dataclass
class _Chain:
    """The scenario's rule changes folded once per cross-check, each with its problems."""

    base: Rules
    """The scenario's rules, before any change."""
    applied: list[str] = field(default_factory=list)
    """Ids of the changes applied, in order (one that breaks the rules is reported, not applied)."""
    problems: dict[str, list[tuple[str, str]]] = field(default_factory=dict)
    """Per id of a change the run applies: (field, message) for what is wrong with it where it
    applies, found in the fold, so that its `check` reports them without applying it again."""

    def fold(self, eid: str, change: RuleChangeEvent, rules: Rules) -> Rules:
        """The rules in force after `change`, and its problems kept under `eid`: applied once,
        since that is what validating it costs (a sweep validates every design point). The
        rules refuse whatever `check_rule_path` refuses (they forbid unknown keys and hold no
        mapping a path could add a key to), so only a refused change is looked at again, for
        the messages."""
        try:
            after = with_rule(rules, change.path, change.value)
        except (ValidationError, LookupError, TypeError) as exc:  # out of bounds, a bad path
            # never refused in silence, should the two ever disagree
            said = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
            self.problems[eid] = self.explained(change, rules) or [("value", said)]
            return rules  # reported, not applied
        self.problems[eid] = []
        self.applied.append(eid)
        return after

    def explained(self, change: RuleChangeEvent, rules: Rules) -> list[tuple[str, str]]:
        """What is wrong with `change` against `rules`, naming the earlier changes when it is
        valid against the scenario's rules alone (so the user sees which one it clashes with)."""
        problems = check_rule_path(change.path, change.value, rules)
        if self.applied and problems and not check_rule_path(change.path, change.value, self.base):
            earlier = f" (with the earlier rule_change {', '.join(self.applied)} in force)"
            problems = [(where, message + earlier) for where, message in problems]
        return problems


def _chain(refs: Refs) -> _Chain:
    """The scenario's rule changes folded in the order a run applies them, worked out on the
    first `check` and kept in `refs.memo` for the others."""
    chain = refs.memo.get("rule_change")
    if not isinstance(chain, _Chain):
        chain = _Chain(base=refs.rules if refs.rules is not None else Rules())
        rules = chain.base
        for eid, change in _changes_in_order(refs):
            # ids are distinct codes by now (a file with a key such as 1 never gets this far)
            rules = chain.fold(eid, change, rules)
        refs.memo["rule_change"] = chain
    return chain


def _changes_in_order(refs: Refs) -> list[tuple[str, RuleChangeEvent]]:
    """The valid rule changes a run applies, in the order it applies them: by step, then as
    written (`GeoModel` groups events by step in file order). Read from the scenario's data,
    since an event's `check` sees only itself."""
    raw: Any = refs.tree.data.get("events")
    if not isinstance(raw, dict):
        return []
    events = unwrap_sources(Tree(data={"events": raw}))[0]["events"]
    cal = refs.calendar
    order: list[tuple[tuple[int, int], str, RuleChangeEvent]] = []
    for k, (other, data) in enumerate(events.items()):
        if not isinstance(data, dict) or data.get("type") != "rule_change":
            continue
        try:
            ev = RuleChangeEvent.model_validate(data)
        except ValidationError:  # reported at that event
            continue
        month = month_index(ev.date)
        if cal.start <= month <= cal.end:  # else it never applies (and is reported)
            order.append(((cal.step_of(month), k), str(other), ev))
    order.sort(key=lambda o: o[0])
    return [(o[1], o[2]) for o in order]
