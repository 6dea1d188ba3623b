"""Generate the scenario format reference (Markdown) from the pydantic schema's docstrings."""

from __future__ import annotations

import types
import typing
from typing import Any

from pydantic import BaseModel
from pydantic_core import PydanticUndefined

from sim import scenario as s
from sim.schema.events import event_types
from sim.schema.expectations import expect_types
from sim.schema.ranges import Entry, Range, rule_ranges, section_prefixes


def sections() -> list[tuple[str, type[BaseModel]]]:
    """Every section of the reference: the world and rules, then one per registered event and
    expectation type (derived from the unions, so a new type documents itself)."""
    out: list[tuple[str, type[BaseModel]]] = [
        ("Scenario (top level)", s.Scenario),
        ("meta", s.Meta),
        ("meta.sources.<id>", s.Source),
        ("time", s.Time),
        ("powers.<CODE>", s.Power),
        ("powers.<CODE>.policies.<name>", s.StandingPolicy),
        ("demand", s.Demand),
        ("schedule[] (a threat's or a policy's tariff schedule)", s.TariffStep),
        ("states.<ISO3>", s.State),
        ("states.<ISO3>.policies.<name>", s.StatePolicy),
        ("blocs.<CODE>", s.Bloc),
        ("rules", s.Rules),
        ("rules.trade", s.TradeRules),
        ("rules.investment", s.InvestmentRules),
        ("rules.threats", s.ThreatRules),
        ("rules.threats.salience_levels", s.SalienceLevels),
        ("rules.blocs", s.BlocRules),
        ("rules.alignment", s.AlignmentRules),
        ("rules.alignment.weights", s.TieWeights),
    ]
    out += [(f"events.<id> (type: {c.type_name()})", c) for c in event_types()]
    out += [(f"expect.<id> (type: {c.type_name()})", c) for c in expect_types()]
    return out


INTRO = """\
# Scenario format reference

Generated from the schema in `sim/schema/` by `geosim schema`; do not edit by hand.

A scenario is a YAML 1.2 file (so `NO` stays the string "NO"). Unknown keys are errors. Money is
in current US dollars, full units; shares are fractions in [0, 1]; rates are per year; dates are
`YYYY-MM`. Any number may carry its source: `{value: 1.7e9, source: <id>, note: "..."}` where
`<id>` is a key of `meta.sources`. A number whose source is of kind `estimate` may also carry its
plausible range, `{value: 1.5, source: <id>, low: 1, high: 2.25, distribution: loguniform}`
(`uniform` by default), which `--propagate` draws from. A file may start with `extends:
other.yaml`: it is merged onto
the other file (mappings merge key by key, `key: null` deletes the inherited key, anything else
replaces). `--set path.to.field=value` on the command line does the same for one value.
"""


def _type_name(ann: Any) -> str:
    origin = typing.get_origin(ann)
    if origin is typing.Annotated:
        return _type_name(typing.get_args(ann)[0])
    if origin in (typing.Union, types.UnionType):
        return " | ".join(_type_name(a) for a in typing.get_args(ann))
    if origin is typing.Literal:
        return " | ".join(repr(a) for a in typing.get_args(ann))
    if origin in (list, tuple):
        args = [a for a in typing.get_args(ann) if a is not Ellipsis]
        return f"{origin.__name__}[{', '.join(_type_name(a) for a in args)}]"
    if origin is dict:
        k, v = typing.get_args(ann)
        return f"map {_type_name(k)} -> {_type_name(v)}"
    if ann is type(None):
        return "null"
    if isinstance(ann, type):
        return ann.__name__
    return str(ann)


def _default(field: Any) -> str:
    if field.is_required():
        return "**required**"
    d = field.default
    if d is PydanticUndefined:
        return ""
    if isinstance(d, BaseModel):
        return "(section defaults)"
    return f"`{d!r}`"


def _range_cell(path: str, ranges: dict[str, Entry]) -> str:
    """A rule parameter's plausible range and its basis, or why it is fixed."""
    entry = ranges.get(path)
    if entry is None:
        return "(section)"
    if isinstance(entry, Range):
        return f"{entry.text()} ({entry.basis})"
    return entry.text()


def scenario_reference() -> str:
    """The whole reference as Markdown; the rules sections add each parameter's plausible range
    (sim/schema/ranges.py)."""
    parts = [INTRO]
    prefixes = section_prefixes()
    ranges = rule_ranges()
    for title, model in sections():
        ranged = model in prefixes
        parts.append(f"\n## `{title}`\n\n{(model.__doc__ or '').strip()}\n")
        if ranged:
            parts.append(
                "| field | type | default | meaning | plausible range |\n|---|---|---|---|---|"
            )
        else:
            parts.append("| field | type | default | meaning |\n|---|---|---|---|")
        for name, field in model.model_fields.items():
            if name == "type":
                continue
            desc = (field.description or "").replace("\n", " ").replace("|", "\\|")
            typ = _type_name(field.annotation).replace("|", "\\|")
            row = f"| `{name}` | {typ} | {_default(field)} | {desc} |"
            if ranged:
                cell = _range_cell(prefixes[model] + name, ranges).replace("|", "\\|")
                row += f" {cell} |"
            parts.append(row)
    return "\n".join(parts) + "\n"
