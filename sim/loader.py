"""Scenario files as a Tree of plain data with positions; `extends`, `--set` overrides, sources.

Reading and parsing (safe YAML 1.2 within limits) is `sim.yaml_input`; its names are
re-exported here, where the rest of geosim has always found them.
"""

from __future__ import annotations

import errno
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sim.errors import Problem, ScenarioError, os_reason
from sim.yaml_input import (
    MAX_BYTES,
    MAX_DEPTH,
    MAX_NODES,
    SHOWN_FILE_CHARS,
    FileKind,
    Key,
    Position,
    clip,
    dotted,
    located,
    parse_yaml_text,
    read_yaml_file,
)

__all__ = [
    "MAX_BYTES",
    "MAX_DEPTH",
    "MAX_NODES",
    "RANGE_KEYS",
    "SCENARIO",
    "SECTIONS",
    "FileKind",
    "Key",
    "Position",
    "Tree",
    "apply_override",
    "dotted",
    "get_path",
    "is_sourced",
    "iter_numbers",
    "load_tree",
    "parse_path",
    "parse_value",
    "parse_yaml_text",
    "read_yaml_file",
    "unwrap_sources",
]

MAX_EXTENDS_DEPTH = 8

SECTIONS = ("meta", "time", "powers", "states", "blocs", "rules", "events", "expect")
"""Top-level sections; `--set` may create an optional one that a file leaves out."""

SCENARIO = FileKind(
    "scenario",
    frozenset({*SECTIONS, "rest_of_world", "extends"}),
    "sections (meta, time, powers, ...)",
)
"""A scenario file: a mapping of sections (`tests/test_hostile_input.py` checks the list)."""

_SOURCED_KEYS = frozenset({"value", "source", "note", "low", "high", "distribution"})
RANGE_KEYS = ("low", "high", "distribution")
"""An estimate's plausible range (`low`, `high`, `distribution`), drawn by `--propagate`."""


@dataclass
class Tree:
    """Plain data (dicts, lists, scalars) plus the position of every node, keyed by path."""

    data: dict[str, Any]
    positions: dict[Key, Position] = field(default_factory=dict)
    sources: dict[Key, str] = field(default_factory=dict)
    overrides: list[dict[str, Any]] = field(default_factory=list)
    files: list[str] = field(default_factory=list)

    def position(self, path: Key) -> Position:
        """Position of the deepest written node on `path` (a missing field points at its parent)."""
        for n in range(len(path), -1, -1):
            pos = self.positions.get(tuple(path[:n]))
            if pos is not None:
                return pos
        return Position(self.files[0] if self.files else "<scenario>", 0, 0)

    def problem(self, path: Key, message: str) -> Problem:
        """A Problem located at `path` (echoed values cut to a readable length)."""
        return located(self.position(path), path, message)


# --------------------------------------------------------------------------- extends + overrides


class _Index:
    """The positions of one file with each node's children, so that a subtree's positions are
    found by walking it rather than by scanning every position (an `extends` file adding
    thousands of events would otherwise cost time in the square of its size)."""

    def __init__(self, positions: dict[Key, Position]) -> None:
        self.positions = positions
        self.kids: dict[Key, dict[Key, None]] = {}
        for key in positions:
            self._link(key)

    def _link(self, key: Key) -> None:
        if key:
            self.kids.setdefault(key[:-1], {})[key] = None

    def subtree(self, top: Key) -> list[Key]:
        """`top` (if it has a position) and every key below it."""
        out, todo = [], [top]
        while todo:
            key = todo.pop()
            if key in self.positions:
                out.append(key)
            todo.extend(self.kids.get(key, ()))
        return out

    def drop(self, top: Key) -> None:
        for key in self.subtree(top):
            del self.positions[key]
            self.kids.pop(key, None)
            self.kids.get(key[:-1], {}).pop(key, None)

    def take(self, other: _Index, top: Key) -> None:
        """Copy the positions of `other`'s subtree at `top`."""
        for key in other.subtree(top):
            self.positions[key] = other.positions[key]
            self._link(key)


def _merge(
    base: dict[str, Any], over: dict[str, Any], into: _Index, new: _Index, path: Key
) -> None:
    """Overlay `over` onto `base` in place: mappings merge, `null` deletes, the rest replaces
    (`into` and `new` are the two files' positions)."""
    for key, value in over.items():
        here = (*path, key)
        if value is None:
            base.pop(key, None)
            into.drop(here)
            continue
        if isinstance(value, dict) and isinstance(base.get(key), dict) and not is_sourced(value):
            into.positions[here] = new.positions[here]
            _merge(base[key], value, into, new, here)
        else:
            base[key] = value
            into.drop(here)
            into.take(new, here)


def _drop_positions(positions: dict[Key, Position], prefix: Key) -> None:
    for k in [k for k in positions if k[: len(prefix)] == prefix]:
        del positions[k]


def load_tree(
    path: Path, *, kind: FileKind = SCENARIO, _depth: int = 0, _seen: tuple[Path, ...] = ()
) -> Tree:
    """Load a scenario (or another `kind` of) file and, recursively, the file it `extends`,
    merged into one Tree. A file that is not of the kind is refused unread (see yaml_input)."""
    path = Path(path)
    data, positions = read_yaml_file(path, kind)  # a mapping: the kind's check saw to that
    parent = data.pop("extends", None)
    if parent is None:
        return Tree(data=data, positions=positions, files=[str(path)])
    if not isinstance(parent, str):
        raise ScenarioError([_at(positions, ("extends",), "expected a file name (string)")])
    shown = Path(os.path.normpath(path.parent / parent))  # as the user would write it
    but = f"extends {clip(parent)!r}, but {clip(str(shown), SHOWN_FILE_CHARS)}"
    ppath = resolved(shown)
    if isinstance(ppath, str):
        msg = f"{but} {ppath}"
        raise ScenarioError([_at(positions, ("extends",), msg)])
    if ppath in _seen or ppath == path.resolve():
        chain = [*_seen, path.resolve(), ppath]
        loop = " -> ".join(p.name for p in chain[chain.index(ppath) :])
        raise ScenarioError([_at(positions, ("extends",), f"circular extends: {loop}")])
    if _depth >= MAX_EXTENDS_DEPTH:
        msg = f"extends chain deeper than {MAX_EXTENDS_DEPTH}"
        raise ScenarioError([_at(positions, ("extends",), msg)])
    try:
        found = ppath.is_file()
    except OSError as exc:  # a name the OS refuses (too long)
        msg = f"{but} cannot be used: {os_reason(exc)}"
        raise ScenarioError([_at(positions, ("extends",), msg)]) from None
    if not found:
        msg = f"{but} is not a file"
        raise ScenarioError([_at(positions, ("extends",), msg)])
    base = load_tree(shown, kind=kind, _depth=_depth + 1, _seen=(*_seen, path.resolve()))
    _merge(base.data, data, _Index(base.positions), _Index(positions), ())
    base.files = [str(path), *base.files]
    return base


def resolved(path: Path) -> Path | str:
    """The real path of `path`, or what is wrong with it: its symbolic links loop (Python 3.12
    raises RuntimeError for that, 3.13 OSError), the OS refuses the name, or it holds a NUL."""
    try:
        return path.resolve(strict=False)
    except RuntimeError:
        return "is a loop of symbolic links"
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            return "is a loop of symbolic links"
        return f"cannot be used: {os_reason(exc)}"
    except ValueError:
        return "has a NUL character in its name"


def _at(positions: dict[Key, Position], path: Key, message: str) -> Problem:
    return located(
        positions.get(path) or positions.get((), Position("<scenario>", 0, 0)), path, message
    )


def parse_path(text: str) -> Key:
    """`rules.threats.credibility` -> ('rules', 'threats', 'credibility'); `a.b[2]` indexes."""
    parts: list[str | int] = []
    for piece in text.split("."):
        if not piece:
            raise ValueError(f"empty component in path {text!r}")
        name, _, rest = piece.partition("[")
        if name:
            parts.append(name)
        while rest:
            idx, _, rest = rest.partition("]")
            if not idx.lstrip("-").isdigit():
                raise ValueError(f"bad list index [{clip(idx)}] in path {text!r}")
            parts.append(int(idx))
            rest = rest.lstrip("[")
    if len(parts) > MAX_DEPTH:  # no value lies that deep, and walking such a path would recurse
        msg = f"the path has {len(parts)} components; values are nested at most {MAX_DEPTH} levels"
        raise ValueError(msg)
    return tuple(parts)


def _refused(where: str, path: Key, message: str) -> ScenarioError:
    """An override refused: named by the option as given (cut if long), with no line:col."""
    return ScenarioError([located(Position(where, 0, 0), path, message)])


def parse_value(text: str, where: str, path: str = "") -> Any:
    """Parse the right-hand side of `--set path=value` as a YAML 1.2 flow value."""
    at: Key = (path,) if path else ()
    try:
        data, _ = parse_yaml_text(f"v: {text}\n" if text.strip() else "v: ''\n", where)
    except ScenarioError as exc:
        # positions inside the wrapper document `v: ...` mean nothing to the user
        msgs = [p.message for p in exc.problems]
        raise ScenarioError(
            [p for m in msgs for p in _refused(where, at, f"bad value: {m}").problems]
        ) from None
    if not isinstance(data, dict) or set(data) != {"v"}:
        msg = "bad value: expected a single YAML value (quote it if it contains ': ' or '#')"
        raise _refused(where, at, msg)
    return data["v"]


def get_path(data: Any, path: Key) -> Any:
    """The value at `path`; raises KeyError/IndexError/TypeError if it does not exist."""
    for part in path:
        data = data[part]
    return data


def apply_override(
    tree: Tree, assignment: str, default_of: Callable[[Key], tuple[bool, Any]] | None = None
) -> dict[str, Any]:
    """Apply one `path=value` to the tree in place; returns a log entry `{path, old, new, default}`.

    When the file does not set the value, `old` is what the schema would have used
    (`default_of(path)` returns (found, value)) and `default` is true.
    """
    where = f"--set {clip(assignment, 200)}"  # a 1 MB value is not printed back whole
    if "=" not in assignment:
        raise _refused(where, (), "expected PATH=VALUE, e.g. a.b.c=0.5")
    text_path, _, text_value = assignment.partition("=")
    try:
        path = parse_path(text_path.strip())
    except ValueError as exc:
        raise _refused(where, (text_path,), str(exc)) from None
    value = parse_value(text_value, where, dotted(path))
    parent = _parent_of(tree.data, path, where)
    last = path[-1]
    default = False
    if isinstance(parent, dict) and isinstance(last, str):
        old = parent.get(last)
        if last not in parent and default_of is not None:
            default, old = default_of(path)
        if old is not None and is_sourced(old) and not isinstance(value, dict):
            old = old["value"]  # keep the number's shape; the override has no source
        parent[last] = value
    elif isinstance(parent, list) and isinstance(last, int) and -len(parent) <= last < len(parent):
        old = parent[last]
        parent[last] = value
    else:
        msg = "cannot set this path: its parent is not a mapping or the index is out of range"
        raise _refused(where, path, msg)
    _drop_positions(tree.positions, path)
    tree.positions[path] = Position(where, 0, 0)
    if last == "value" and isinstance(parent, dict) and is_sourced(parent):
        tree.positions[path[:-1]] = Position(where, 0, 0)  # the number's problems are ours
    entry = {"path": dotted(path), "old": old, "new": value, "default": default}
    tree.overrides.append(entry)
    return entry


def _parent_of(data: dict[str, Any], path: Key, where: str) -> Any:
    """The mapping or list that holds `path`'s last part, creating missing mappings on the way
    (a missing first part must be a section)."""
    parent: Any = data
    for i, part in enumerate(path[:-1]):
        if isinstance(parent, dict) and isinstance(part, str):
            if part not in parent:
                if i == 0 and part not in SECTIONS:
                    known = ", ".join(SECTIONS)
                    raise _refused(where, path, f"no section {part!r} (sections: {known})")
                parent[part] = {}
            parent = parent[part]
        elif (
            isinstance(parent, list)
            and isinstance(part, int)
            and -len(parent) <= part < len(parent)
        ):
            parent = parent[part]
        else:
            msg = f"cannot descend into {dotted(path[: i + 1])}: not a mapping or valid list index"
            raise _refused(where, path, msg)
    return parent


# --------------------------------------------------------------------------- sourced values


def is_sourced(value: Any) -> bool:
    """A `{value: ..., source: ..., ...}` mapping (a number with its provenance)."""
    return isinstance(value, dict) and "value" in value and set(value) <= _SOURCED_KEYS


def unwrap_sources(tree: Tree) -> tuple[dict[str, Any], dict[Key, str]]:
    """Replace each `{value: x, source: id}` by `x`; return the plain data and path -> source."""
    sources: dict[Key, str] = {}

    def walk(node: Any, path: Key) -> Any:
        if is_sourced(node):
            src = node.get("source")
            if src is not None:
                sources[path] = str(src)
            return walk(node["value"], path)
        if isinstance(node, dict):
            return {k: walk(v, (*path, k)) for k, v in node.items()}
        if isinstance(node, list):
            return [walk(v, (*path, i)) for i, v in enumerate(node)]
        return node

    plain = walk(tree.data, ())
    return plain, sources


def iter_numbers(data: Any, path: Key = ()) -> Iterator[tuple[Key, Any]]:
    """Every numeric leaf (not bool) in a plain tree, with its path."""
    if isinstance(data, dict):
        for k, v in data.items():
            yield from iter_numbers(v, (*path, k))
    elif isinstance(data, list):
        for i, v in enumerate(data):
            yield from iter_numbers(v, (*path, i))
    elif isinstance(data, int | float) and not isinstance(data, bool):
        yield path, data
