"""Reference checks: what an entry names must exist, and its dates must lie in the horizon.

Each event and expectation type checks its own references through a `Refs` (the registry calls
`check` on every entry), so a new type brings its checks with it.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from sim.calendar import Calendar, month_index
from sim.errors import Problem
from sim.loader import Key, Tree


def unknown(kind: str, name: str, valid: Iterable[str]) -> str:
    """`unknown bloc 'BRIX'; did you mean 'BRICS'? (valid: BRI, BRICS)`."""
    opts = sorted(set(valid))
    close = difflib.get_close_matches(name, opts, n=1, cutoff=0.5)
    hint = f"; did you mean {close[0]!r}?" if close else ""
    valid_list = ", ".join(opts) if opts else "none are defined"
    return f"unknown {kind} {name!r}{hint} (valid: {valid_list})"


@dataclass
class Refs:
    """The codes a scenario defines, and the problems found so far (with their positions)."""

    tree: Tree
    calendar: Calendar
    powers: set[str]
    states: set[str]
    blocs: set[str]
    policies: dict[str, set[str]]
    """Each state's named domestic policies."""
    created: set[str] = field(default_factory=set)
    """Policy names that events create (`policy_change` to a name no state has yet)."""
    sources: set[str] = field(default_factory=set)
    """Ids of `meta.sources`."""
    rules: Any = None
    """The scenario's `rules` (a `Rules`): a rule change is checked against them."""
    memo: dict[str, Any] = field(default_factory=dict)
    """What an entry type's `check` derives from the whole scenario, kept under the type's name
    and worked out once per cross-check: redone for every entry it made checking n entries take
    time in n squared (rule_change: ~10,000 events under the node limit took about 2 hours)."""
    problems: list[Problem] = field(default_factory=list)

    def bad(self, path: Key, message: str) -> None:
        """Record a problem at `path`."""
        self.problems.append(self.tree.problem(path, message))

    def need(self, kind: str, name: str | None, valid: Iterable[str], path: Key) -> None:
        """`name` (if given) must be one of `valid`."""
        pool = set(valid)
        if name is not None and name not in pool:
            self.bad(path, unknown(kind, name, pool))

    def power(self, name: str | None, path: Key) -> None:
        """`name` must be a power."""
        self.need("power", name, self.powers, path)

    def state(self, name: str | None, path: Key) -> None:
        """`name` must be a state."""
        self.need("state", name, self.states, path)

    def bloc(self, name: str | None, path: Key) -> None:
        """`name` must be a bloc."""
        self.need("bloc", name, self.blocs, path)

    def source(self, name: str | None, path: Key) -> None:
        """`name` must be an id of `meta.sources`."""
        self.need("source", name, self.sources, path)

    def policy(self, state: str, name: str | None, path: Key) -> None:
        """`name` must be one of `state`'s policies (skipped if the state itself is unknown)."""
        if state in self.policies:
            self.need(f"policy of {state}", name, self.policies[state], path)

    def any_policy(self, name: str | None, path: Key) -> None:
        """`name` must be a policy some state has or an event creates: the run records no
        other, so a misspelt name would read as "off" everywhere and never fail."""
        names = {n for pool in self.policies.values() for n in pool} | self.created
        self.need("policy", name, names, path)

    def date(self, text: str | None, path: Key) -> None:
        """A date, if given, must lie inside the horizon."""
        if text is None:
            return
        cal = self.calendar
        if not cal.start <= month_index(text) <= cal.end:
            span = f"{cal.label(1)}..{cal.label(cal.steps)}"
            self.bad(path, f"date {text} is outside the horizon {span}")
