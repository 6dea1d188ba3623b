"""Read scenario YAML into plain data with positions; resolve `extends` and `--set` overrides.

Nothing in a scenario file is ever executed: the YAML is *composed* (parsed to nodes) and the
nodes are converted here by hand, so custom tags (`!!python/...`) are rejected rather than
constructed, anchors/aliases are refused (which also rules out alias bombs), and duplicate keys
are errors. YAML 1.2 is used, so `NO` stays the string "NO" (Norway), not `false`.
"""

from __future__ import annotations

import io
import math
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.error import MarkedYAMLError, YAMLError
from ruamel.yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from sim.errors import Problem, ScenarioError

Key = tuple[str | int, ...]
"""A path into the data tree: mapping keys and list indices."""

MAX_BYTES = 5_000_000
"""Refuse files larger than this: a scenario is hand-written text, not a data dump."""

MAX_NODES = 200_000
"""Refuse documents with more nodes than this (a guard against pathological input)."""

MAX_DEPTH = 50
"""Refuse values nested deeper than this (a scenario needs fewer than ten levels)."""

MAX_EXTENDS_DEPTH = 8

SECTIONS = ("meta", "time", "powers", "states", "blocs", "rules", "events", "expect")
"""Top-level sections; `--set` may create an optional one that a file leaves out."""

_STD = "tag:yaml.org,2002:"
_ALLOWED_TAGS = {
    _STD + t
    for t in ("str", "int", "float", "bool", "null", "map", "seq", "timestamp", "merge", "value")
}
"""Core tags; `merge` (`<<`) and `value` (`=`) are read as plain strings (merge keys refused)."""
_SOURCED_KEYS = frozenset({"value", "source", "note", "low", "high", "distribution"})
RANGE_KEYS = ("low", "high", "distribution")
"""An estimate's plausible range (`low`, `high`, `distribution`), drawn by `--propagate`."""


@dataclass(frozen=True)
class Position:
    """Where a value was written: a file (or `--set ...`) with 1-based line and column."""

    file: str
    line: int
    column: int


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
        """A Problem located at `path`."""
        pos = self.position(path)
        return Problem(pos.file, pos.line, pos.column, dotted(path), message)


def dotted(path: Key) -> str:
    """`('states', 'BOL', 'gdp')` -> `states.BOL.gdp`; list indices as `[i]`."""
    out = ""
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + str(part)
    return out


# --------------------------------------------------------------------------- YAML -> plain data


def _bool(text: str) -> bool:
    if text.lower() not in ("true", "false"):
        raise ValueError("a boolean (true or false)")
    return text.lower() == "true"


def _int(text: str) -> int:
    t = text.replace("_", "")
    base = {"0x": 16, "0o": 8, "0b": 2}.get(t.lstrip("+-")[:2].lower(), 10)
    if base != 10:  # `0o17`, `-0x1F`, `0b101`: drop the prefix, keep the sign
        t = t[: len(t) - len(t.lstrip("+-"))] + t.lstrip("+-")[2:]
    try:
        return int(t, base)
    except ValueError:
        raise ValueError("an integer") from None


_SPECIAL_FLOATS = {".nan": math.nan, ".inf": math.inf, "+.inf": math.inf, "-.inf": -math.inf}


def _float(text: str) -> float:
    t = text.replace("_", "").lower()
    if t in _SPECIAL_FLOATS:
        return _SPECIAL_FLOATS[t]
    try:
        return float(t)
    except ValueError:
        raise ValueError("a number") from None


_READERS = {_STD + "bool": _bool, _STD + "int": _int, _STD + "float": _float}


def _scalar(node: ScalarNode) -> Any:
    tag, text = node.tag, node.value
    if tag == _STD + "null":
        return None
    if tag in _READERS:
        return _READERS[tag](text)
    if node.style == ">":
        # ruamel's round-trip scanner marks each fold of a folded scalar with a BEL character
        # (to restore the layout on output); YAML itself cannot contain one, so drop them all.
        text = text.replace("\a", "")
    return str(text)  # str and timestamp: dates stay text, validated by the schema


class _Converter:
    """Turn composed nodes into plain data, recording positions and refusing unsafe constructs."""

    def __init__(self, file: str) -> None:
        self.file = file
        self.positions: dict[Key, Position] = {}
        self.problems: list[Problem] = []
        self.count = 0

    def pos(self, node: Node) -> Position:
        return Position(self.file, node.start_mark.line + 1, node.start_mark.column + 1)

    def fail(self, node: Node, path: Key, message: str) -> None:
        p = self.pos(node)
        self.problems.append(Problem(p.file, p.line, p.column, dotted(path), message))

    def convert(self, node: Node, path: Key) -> Any:
        self.count += 1
        if self.count > MAX_NODES:
            raise _TooBig
        self.positions[path] = self.pos(node)
        if len(path) > MAX_DEPTH:
            self.fail(node, (), f"values are nested more than {MAX_DEPTH} levels deep")
            raise _TooBig
        if not self.allowed(node, path):
            return None
        if isinstance(node, ScalarNode):
            try:
                return _scalar(node)
            except ValueError as exc:  # `+_`, `!!int abc`: resolved or tagged but not readable
                self.fail(node, path, f"cannot read {node.value!r} as {exc}")
                return None
        if isinstance(node, SequenceNode):
            return [self.convert(item, (*path, i)) for i, item in enumerate(node.value)]
        if isinstance(node, MappingNode):
            return self.mapping(node, path)
        self.fail(node, path, "unsupported YAML node")
        return None

    def allowed(self, node: Node, path: Key) -> bool:
        """Refuse anchors, aliases and tags outside the core schema (nothing in a file runs)."""
        if getattr(node, "anchor", None):
            self.fail(node, path, "YAML anchors and aliases are not supported; use `extends`")
            return False
        if node.tag not in _ALLOWED_TAGS:
            tag = str(node.tag)
            tag = "!!" + tag.removeprefix(_STD) if tag.startswith(_STD) else tag
            self.fail(node, path, f"tag {tag} is not allowed (nothing in a scenario runs)")
            return False
        return True

    def mapping(self, node: MappingNode, path: Key) -> dict[str, Any]:
        """A mapping with plain scalar keys, each once; no merge keys."""
        out: dict[str, Any] = {}
        for knode, vnode in node.value:
            key = self.key(knode, path, out)
            if key is None:
                continue
            out[key] = self.convert(vnode, (*path, key))
            if vnode.start_mark.line != knode.start_mark.line:
                # a block value (`PAN:` then indented fields): point at the key's line
                self.positions[(*path, key)] = self.pos(knode)
        return out

    def key(self, knode: Node, path: Key, seen: dict[str, Any]) -> str | None:
        """The key as written (`true:` stays "true"), or None (and a problem) if refused."""
        if not isinstance(knode, ScalarNode) or knode.tag not in _ALLOWED_TAGS:
            self.fail(knode, path, "mapping keys must be plain scalars")
            return None
        key = str(knode.value)
        if knode.tag == _STD + "merge":  # a plain `<<`; a quoted one is a string
            self.fail(knode, path, "merge keys (<<) are not supported; use `extends`")
            return None
        if key in seen:
            first = self.positions.get((*path, key))
            where = f" (first at line {first.line})" if first else ""
            self.fail(knode, (*path, key), f"duplicate key {key!r}{where}")
            return None
        return key


class _TooBig(Exception):
    pass


def parse_yaml_text(text: str, file: str) -> tuple[Any, dict[Key, Position]]:
    """Parse YAML 1.2 text safely into plain data and node positions; raises ScenarioError."""
    yaml = YAML(typ="rt", pure=True)
    yaml.version = (1, 2)
    try:
        root = yaml.compose(io.StringIO(text))
    except MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line, col = (mark.line + 1, mark.column + 1) if mark else (0, 0)
        what = (exc.problem or exc.context or "invalid YAML").removeprefix("but ")
        ctx = exc.context_mark
        if exc.problem and exc.context and ctx is not None and ctx.line + 1 != line:
            what += f" ({exc.context} at line {ctx.line + 1}, column {ctx.column + 1})"
        if "'\\t'" in what:
            what += " (use spaces, not tabs, to indent)"
        raise ScenarioError([Problem(file, line, col, "", f"not valid YAML: {what}")]) from None
    except YAMLError as exc:
        raise ScenarioError([Problem(file, 0, 0, "", f"not valid YAML: {exc}")]) from None
    except RecursionError:
        msg = f"values are nested too deeply (a scenario needs at most {MAX_DEPTH} levels)"
        raise ScenarioError([Problem(file, 1, 1, "", msg)]) from None
    if root is None:
        raise ScenarioError([Problem(file, 1, 1, "", "the file is empty; expected a mapping")])
    conv = _Converter(file)
    try:
        data = conv.convert(root, ())
    except _TooBig:
        if conv.count <= MAX_NODES:  # too deep: the problem is recorded at the deep node
            raise ScenarioError(conv.problems[-1:]) from None
        msg = f"document has more than {MAX_NODES} nodes; refusing to read it"
        raise ScenarioError([Problem(file, 1, 1, "", msg)]) from None
    if conv.problems:
        raise ScenarioError(conv.problems)
    return data, conv.positions


def read_yaml_file(path: Path) -> tuple[Any, dict[Key, Position]]:
    """Read and parse one YAML file, turning OS and encoding errors into ScenarioError."""
    name = str(path)
    if path.is_dir():
        raise ScenarioError([Problem(name, 0, 0, "", "is a directory; expected a scenario file")])
    try:
        size = path.stat().st_size
        if size > MAX_BYTES:
            msg = f"file is {size} bytes; a scenario must be under {MAX_BYTES}"
            raise ScenarioError([Problem(name, 0, 0, "", msg)])
        raw = path.read_bytes()
    except FileNotFoundError:
        raise ScenarioError([Problem(name, 0, 0, "", "no such file")]) from None
    except OSError as exc:
        raise ScenarioError([Problem(name, 0, 0, "", f"cannot read: {exc.strerror}")]) from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw.count(b"\n", 0, exc.start) + 1
        column = exc.start - (raw.rfind(b"\n", 0, exc.start) + 1) + 1
        msg = f"not UTF-8 text (byte {exc.start} is 0x{raw[exc.start]:02x}); expected a YAML file"
        raise ScenarioError([Problem(name, line, column, "", msg)]) from None
    return parse_yaml_text(text, name)


# --------------------------------------------------------------------------- extends + overrides


def _merge(
    base: dict[str, Any],
    over: dict[str, Any],
    positions: dict[Key, Position],
    over_pos: dict[Key, Position],
    path: Key,
) -> None:
    """Overlay `over` onto `base` in place: mappings merge, `null` deletes, the rest replaces."""
    for key, value in over.items():
        here = (*path, key)
        if value is None:
            base.pop(key, None)
            _drop_positions(positions, here)
            continue
        if isinstance(value, dict) and isinstance(base.get(key), dict) and not is_sourced(value):
            positions[here] = over_pos[here]
            _merge(base[key], value, positions, over_pos, here)
        else:
            base[key] = value
            _drop_positions(positions, here)
            positions.update({k: v for k, v in over_pos.items() if k[: len(here)] == here})


def _drop_positions(positions: dict[Key, Position], prefix: Key) -> None:
    for k in [k for k in positions if k[: len(prefix)] == prefix]:
        del positions[k]


def load_tree(path: Path, _depth: int = 0, _seen: tuple[Path, ...] = ()) -> Tree:
    """Load a scenario file and, recursively, the file it `extends`, merged into one Tree."""
    path = Path(path)
    data, positions = read_yaml_file(path)
    if not isinstance(data, dict):
        pos = positions.get((), Position(str(path), 1, 1))
        kind = _KINDS.get(type(data), "a scalar") if data is not None else "null"
        msg = f"expected a mapping of sections (meta, time, powers, ...), got {kind}"
        raise ScenarioError([Problem(pos.file, pos.line, pos.column, "", msg)])
    parent = data.pop("extends", None)
    if parent is None:
        return Tree(data=data, positions=positions, files=[str(path)])
    if not isinstance(parent, str):
        raise ScenarioError([_at(positions, ("extends",), "expected a file name (string)")])
    shown = Path(os.path.normpath(path.parent / parent))  # as the user would write it
    ppath = shown.resolve()
    if ppath in _seen or ppath == path.resolve():
        chain = [*_seen, path.resolve(), ppath]
        loop = " -> ".join(p.name for p in chain[chain.index(ppath) :])
        raise ScenarioError([_at(positions, ("extends",), f"circular extends: {loop}")])
    if _depth >= MAX_EXTENDS_DEPTH:
        msg = f"extends chain deeper than {MAX_EXTENDS_DEPTH}"
        raise ScenarioError([_at(positions, ("extends",), msg)])
    if not ppath.is_file():
        msg = f"extends {parent!r}, but {shown} is not a file"
        raise ScenarioError([_at(positions, ("extends",), msg)])
    base = load_tree(shown, _depth + 1, (*_seen, path.resolve()))
    _merge(base.data, data, base.positions, positions, ())
    base.files = [str(path), *base.files]
    return base


_KINDS = {list: "a list", str: "a string", int: "a number", float: "a number", bool: "a boolean"}


def _at(positions: dict[Key, Position], path: Key, message: str) -> Problem:
    pos = positions.get(path) or positions.get((), Position("<scenario>", 0, 0))
    return Problem(pos.file, pos.line, pos.column, dotted(path), message)


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
                raise ValueError(f"bad list index [{idx}] in path {text!r}")
            parts.append(int(idx))
            rest = rest.lstrip("[")
    return tuple(parts)


def parse_value(text: str, where: str, path: str = "") -> Any:
    """Parse the right-hand side of `--set path=value` as a YAML 1.2 flow value."""
    try:
        data, _ = parse_yaml_text(f"v: {text}\n" if text.strip() else "v: ''\n", where)
    except ScenarioError as exc:
        # positions inside the wrapper document `v: ...` mean nothing to the user
        msgs = [p.message for p in exc.problems]
        raise ScenarioError([Problem(where, 0, 0, path, f"bad value: {m}") for m in msgs]) from None
    if not isinstance(data, dict) or set(data) != {"v"}:
        msg = "bad value: expected a single YAML value (quote it if it contains ': ' or '#')"
        raise ScenarioError([Problem(where, 0, 0, path, msg)])
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
    where = f"--set {assignment}"
    if "=" not in assignment:
        raise ScenarioError([Problem(where, 0, 0, "", "expected PATH=VALUE, e.g. a.b.c=0.5")])
    text_path, _, text_value = assignment.partition("=")
    try:
        path = parse_path(text_path.strip())
    except ValueError as exc:
        raise ScenarioError([Problem(where, 0, 0, text_path, str(exc))]) from None
    value = parse_value(text_value, where, dotted(path))
    parent: Any = tree.data
    for i, part in enumerate(path[:-1]):
        if isinstance(parent, dict) and isinstance(part, str):
            if part not in parent:
                if i == 0 and part not in SECTIONS:
                    known = ", ".join(SECTIONS)
                    msg = f"no section {part!r} (sections: {known})"
                    raise ScenarioError([Problem(where, 0, 0, dotted(path), msg)])
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
            raise ScenarioError([Problem(where, 0, 0, dotted(path), msg)])
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
        raise ScenarioError([Problem(where, 0, 0, dotted(path), msg)])
    _drop_positions(tree.positions, path)
    tree.positions[path] = Position(where, 0, 0)
    entry = {"path": dotted(path), "old": old, "new": value, "default": default}
    tree.overrides.append(entry)
    return entry


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
