"""`rule_change`: a behavioural parameter takes a new value from a date on."""

from __future__ import annotations

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
        base: Rules = refs.rules if refs.rules is not None else Rules()
        rules, applied = base, []
        for eid, earlier in _changes_before(refs, str(path[-1])):
            if not check_rule_path(earlier.path, earlier.value, rules):  # else reported there
                rules = with_rule(rules, earlier.path, earlier.value)
                applied.append(eid)
        for where, message in check_rule_path(self.path, self.value, rules):
            if applied and not check_rule_path(self.path, self.value, base):
                message += f" (with the earlier rule_change {', '.join(applied)} in force)"
            refs.bad((*path, where), message)

    def apply(self, world: World, eid: str) -> None:
        world.rules = with_rule(world.rules, self.path, self.value)
        world.note("rule_change", "", "", event=eid, path=self.path, value=self.value)


def _changes_before(refs: Refs, eid: str) -> list[tuple[str, RuleChangeEvent]]:
    """The valid rule changes a run applies before event `eid`, in the order it applies them:
    by step, then as written (`GeoModel` groups events by step in file order). Read from the
    scenario's data, since an event's `check` sees only itself."""
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
    ids = [o[1] for o in order]
    return [(o[1], o[2]) for o in order[: ids.index(eid)]] if eid in ids else []
