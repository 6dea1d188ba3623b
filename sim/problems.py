"""Turning pydantic's validation errors into `Problem`s a user can act on.

Each error is placed at the line and column where the value was written, named by its real
path (pydantic inserts union member labels into locations; they are dropped), and worded in
YAML's terms, with "did you mean" for unknown fields and types.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from typing import Any

from pydantic import BaseModel, ValidationError

from sim.errors import Problem
from sim.loader import Key, Tree
from sim.schema.base import inner_model, kind_of, yaml_repr
from sim.schema.scenario import Scenario

_UNION_TAGS = {"function-after[_month(), str]", "int", "float", "bool", "str"}
"""Member labels pydantic puts in `loc` for plain (untagged) unions such as `float | bool`."""


def pydantic_problems(exc: ValidationError, tree: Tree, plain: Any) -> list[Problem]:
    out: list[Problem] = []
    for err in exc.errors(include_url=False):
        path = real_path(plain, err["loc"])
        msg = err["msg"]
        given = err.get("input")
        ctx = err.get("ctx") or {}
        if err["type"] == "extra_forbidden":
            parent = real_path(plain, err["loc"][:-1])
            msg = "unknown field" + _suggest(str(err["loc"][-1]), _fields_at(parent, plain))
        elif err["type"] == "missing":
            msg = "required field is missing"
        elif err["type"] in ("model_type", "model_attributes_type", "dict_type"):
            msg = f"expected a mapping, got {kind_of(given)}"
        elif err["type"] == "union_tag_invalid":
            path = (*path, str(ctx.get("discriminator", "'type'")).strip("'"))
            tags = [t.strip(" '") for t in str(ctx.get("expected_tags", "")).split(",")]
            msg = "unknown type" + _suggest(str(ctx.get("tag", "")), [t for t in tags if t])
        elif err["type"] == "union_tag_not_found":
            path = (*path, str(ctx.get("discriminator", "'type'")).strip("'"))
            msg = "required field is missing (it selects the kind of entry)"
        elif err["loc"][-1:] == ("[key]",):
            msg = (
                f"invalid code {yaml_repr(given)}: use a letter, then letters, digits or _ "
                "(at most 24 characters)"
            )
        elif "input" in err:
            scalar = isinstance(given, str | int | float | bool) or given is None
            if scalar and repr(given) not in msg:
                msg += f" (got {yaml_repr(given)})"
        msg = msg.removeprefix("Value error, ")
        problem = tree.problem(path, msg)
        if (
            out
            and out[-1].path == problem.path
            and err["loc"][-1:]
            and (err["loc"][-1] in _UNION_TAGS)
        ):  # one union member's complaint per line would repeat the same location
            msg = f"{out[-1].message}; or {msg[:1].lower()}{msg[1:]}"
            problem = tree.problem(path, msg)
            out.pop()
        out.append(problem)
    return out


def real_path(plain: Any, loc: Iterable[int | str]) -> Key:
    """Drop the discriminator/union tags pydantic inserts into `loc`, keeping real keys."""
    path: list[str | int] = []
    node: Any = plain
    tag = None  # the discriminator value pydantic inserts after entering a tagged-union entry
    for part in loc:
        is_key = isinstance(node, dict) and part in node
        is_index = isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node)
        if isinstance(node, dict) and part == tag and not is_key:
            tag = None  # `events.x.policy_change.policy`: skip the tag, keep the field after it
        elif is_key or is_index:
            path.append(part)
            node = node[part]
            tag = node.get("type") if isinstance(node, dict) else None
        elif isinstance(node, dict | list):
            if (
                isinstance(part, str)
                and not isinstance(node, list)
                and part[:1].islower()
                and (part not in _UNION_TAGS)
            ):
                path.append(part)  # a missing field: report it by name
                node = None
        else:
            break
    return tuple(path)


def _fields_at(path: Key, plain: Any = None) -> list[str]:
    """Field names allowed at a path (best effort, for 'did you mean').

    `plain` (the data) picks the member of a tagged union by its `type` (events, expect).
    """
    model: Any = Scenario
    node = plain
    members: dict[Any, Any] = {}
    for part in path:
        fields = getattr(model, "model_fields", None)
        if fields is None:
            return []
        node = node.get(part) if isinstance(node, dict) else None
        if isinstance(part, str) and part in fields:
            ann = fields[part].annotation
            model = inner_model(ann)
            members = _tagged_members(ann)
        # else: inside a dict of models (states.BOL): the value model
        if isinstance(node, dict) and node.get("type") in members:
            model = members[node["type"]]
    fields = getattr(model, "model_fields", None)
    return list(fields) if fields else []


def _tagged_members(ann: Any) -> dict[Any, Any]:
    """Models in a (nested) annotation keyed by their `type: Literal[...]` tag, if they have one."""
    out: dict[Any, Any] = {}
    if isinstance(ann, type) and issubclass(ann, BaseModel):
        tag = ann.model_fields.get("type")
        for value in getattr(tag.annotation, "__args__", ()) if tag else ():
            out[value] = ann
        return out
    for arg in getattr(ann, "__args__", ()) or ():
        out.update(_tagged_members(arg))
    return out


def _suggest(name: str, options: Iterable[str]) -> str:
    opts = sorted(set(options))
    close = difflib.get_close_matches(name, opts, n=1, cutoff=0.6)
    hint = f"; did you mean {close[0]!r}?" if close else ""
    listing = f" (expected one of: {', '.join(opts)})" if opts and len(opts) <= 12 else ""
    return f" {name!r}{hint}{listing}"
