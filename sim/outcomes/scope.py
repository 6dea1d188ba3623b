"""What an expression may name in a scenario: its variables, states and horizon; and how to
suggest a name that was nearly right."""

from __future__ import annotations

import difflib
from collections.abc import Sequence
from dataclasses import dataclass, field

from sim.calendar import Calendar, month_label
from sim.metrics import variable_names
from sim.schema.events import PolicyChangeEvent
from sim.schema.scenario import Scenario


def scenario_variables(scenario: Scenario) -> list[str]:
    """The variables a run of `scenario` records, in column order, without building a model.

    Policies are those named by states or by policy_change events, sorted (as the model's
    `PolicyState` makes them); a test holds this equal to `GeoModel.recorder.names`.
    """
    named = {name for st in scenario.states.values() for name in st.policies}
    named |= {ev.policy for ev in scenario.events.values() if isinstance(ev, PolicyChangeEvent)}
    return variable_names(list(scenario.powers), list(scenario.blocs), sorted(named))


@dataclass(frozen=True)
class Scope:
    """Variables (column order of `data`), states (row order) and the calendar of a scenario."""

    names: list[str]
    states: list[str]
    calendar: Calendar
    column: dict[str, int] = field(init=False)
    state_index: dict[str, int] = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "column", {n: c for c, n in enumerate(self.names)})
        object.__setattr__(self, "state_index", {s: i for i, s in enumerate(self.states)})

    @classmethod
    def of(cls, scenario: Scenario) -> Scope:
        """The scope of a scenario."""
        return cls(scenario_variables(scenario), list(scenario.states), scenario.time.calendar())

    def horizon(self) -> str:
        """The first and last month of the horizon, for messages."""
        return f"{month_label(self.calendar.start)} to {month_label(self.calendar.end)}"


def close_matches(name: str, valid: Sequence[str]) -> list[str]:
    """Up to three valid names close to `name`: by the whole name and by its last part."""
    found = difflib.get_close_matches(name, valid, n=3, cutoff=0.6)
    tails = {_tail(v) for v in valid}
    near = difflib.get_close_matches(_tail(name), tails, n=3, cutoff=0.8)
    by_tail = [v for v in valid if _tail(v) in near and v not in found]
    ratio = {v: difflib.SequenceMatcher(None, name, v).ratio() for v in by_tail}
    found += sorted(by_tail, key=lambda v: -ratio[v])
    return found[:3]


def _tail(name: str) -> str:
    """The part after the last '.', without an `@date` suffix (`tilt.BOL@end` -> `BOL`)."""
    return name.split("@", 1)[0].rsplit(".", 1)[-1]


def compact(names: Sequence[str], limit: int = 4) -> str:
    """Names grouped by what they share: `affinity.{CHN,USA}, tilt.{ARG,BOL,…}@{end,2026-01}`."""
    parts: dict[tuple[str, str], list[str]] = {}
    for name in names:
        body, at, date = name.partition("@")
        head, dot, part = body.rpartition(".")
        parts.setdefault((head + dot if dot else body, at + date), []).append(part if dot else "")
    dates: dict[tuple[str, str], list[str]] = {}
    for (head, tail), members in parts.items():
        dates.setdefault((head + _braced(members, limit), tail[:1]), []).append(tail[1:])
    return ", ".join(
        body + at + (_braced(when, len(when)) if at else "") for (body, at), when in dates.items()
    )


def _braced(parts: list[str], limit: int) -> str:
    """`a`, or `{a,b,c,…}` for several (sorted, at most `limit` shown)."""
    if len(parts) == 1:
        return parts[0]
    ordered = sorted(parts) if all(p[:1].isalpha() for p in parts) else parts
    return "{" + ",".join(ordered[:limit]) + (",…" if len(ordered) > limit else "") + "}"


def did_you_mean(what: str, name: str, valid: Sequence[str]) -> str:
    """`unknown variable 'tilit' (did you mean 'tilt'?)`, or the valid names when none is close."""
    near = close_matches(name, valid)
    if near:
        return f"unknown {what} '{name}' (did you mean {' or '.join(repr(n) for n in near)}?)"
    return f"unknown {what} '{name}'; valid: {compact(valid)}"
