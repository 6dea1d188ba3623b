"""Safe YAML 1.2 input: files read within limits, YAML nodes turned by hand into plain data.

Nothing in a scenario file is ever executed: the YAML is *composed* (parsed to nodes) and the
nodes are converted here by hand, so custom tags (`!!python/...`) are rejected rather than
constructed, anchors/aliases are refused (which also rules out alias bombs), and duplicate keys
are errors. YAML 1.2 is used, so `NO` stays the string "NO" (Norway), not `false`.

Every limit holds while the input is read, not after: only regular files are opened (a FIFO
would wait for a writer, `/dev/zero` never ends), at most `MAX_BYTES` are read, and the
composer stops at the node that crosses `MAX_NODES` or `MAX_DEPTH`. A file that is not of the
kind asked for (`extends: /etc/shadow`) is refused without a word of its content, and every
value a message echoes is cut to a few dozen characters.
"""

from __future__ import annotations

import io
import math
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.composer import Composer
from ruamel.yaml.error import MarkedYAMLError, StreamMark, YAMLError
from ruamel.yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode
from ruamel.yaml.reader import ReaderError

from sim.errors import Problem, ScenarioError, os_reason, read_failure
from sim.regular_files import NotRegularFile, read_regular

Key = tuple[str | int, ...]
"""A path into the data tree: mapping keys and list indices."""

MAX_BYTES = 5_000_000
"""Refuse files larger than this: a scenario is hand-written text, not a data dump."""

MAX_NODES = 100_000
"""Refuse documents with more nodes (keys count too) than this. The largest shipped file has
4,500 and a scenario of every state in the world would have about 25,000; composing takes tens
of microseconds a node, so the limit holds a hostile file to seconds."""

MAX_DEPTH = 50
"""Refuse values nested deeper than this (a scenario needs fewer than ten levels)."""

SHOWN_CHARS = 80
"""A value echoed in a message is cut after this many characters (its length is given)."""

MAX_MESSAGE = 2_000
"""A message is cut after this many characters (long lists of valid names fit)."""

SHOWN_FILE_CHARS = 300
"""A file name in a message is cut after this many characters (the OS allows 4,096)."""

_STD = "tag:yaml.org,2002:"
_ALLOWED_TAGS = {
    _STD + t
    for t in ("str", "int", "float", "bool", "null", "map", "seq", "timestamp", "merge", "value")
}
"""Core tags; `merge` (`<<`) and `value` (`=`) are read as plain strings (merge keys refused)."""


@dataclass(frozen=True)
class Position:
    """Where a value was written: a file (or `--set ...`) with 1-based line and column."""

    file: str
    line: int
    column: int


@dataclass(frozen=True)
class FileKind:
    """What a file must be to be read as one: a scenario, a design."""

    name: str
    """`scenario`, `design`: for messages."""
    keys: frozenset[str]
    """The keys its top level may have; a file with none of them is not of this kind."""
    described: str
    """Its top-level keys as a message names them, `sections (meta, time, powers, ...)`."""


def dotted(path: Key) -> str:
    """`('states', 'BOL', 'gdp')` -> `states.BOL.gdp`; list indices as `[i]`."""
    out = ""
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + str(part)
    return out


# --------------------------------------------------------------------------- messages


def clip(text: str, limit: int = SHOWN_CHARS) -> str:
    """`text` cut after `limit` characters, with its length: a 1 MB value is named, not shown."""
    if len(text) <= limit:
        return text
    return f"{text[: limit - 1]}… ({len(text)} characters)"  # `limit` long with the ellipsis


_LONG_QUOTED = re.compile(
    rf"""(?:^|(?<=[\s(\[{{:,=]))(['"])([^'"\n]{{{SHOWN_CHARS + 1},}})\1(?=$|[\s)\]}},;:.?!])"""
)
"""A quoted value longer than SHOWN_CHARS, as `repr` writes one: it opens after a space or
bracket and closes before one (so the text between two short quoted values never matches)."""


def capped(message: str) -> str:
    """A message with every long quoted value cut (`'xxx…' (1000000 characters)`), and cut
    itself if still over MAX_MESSAGE: whatever a check echoes, the output stays small."""

    def cut(m: re.Match[str]) -> str:
        quote, inner = m.group(1), m.group(2)
        # SHOWN_CHARS long with the ellipsis: cut once, a value is not cut again
        return f"{quote}{inner[: SHOWN_CHARS - 1]}…{quote} ({len(inner)} characters)"

    return clip(_LONG_QUOTED.sub(cut, message), MAX_MESSAGE)


def located(pos: Position, path: Key, message: str) -> Problem:
    """A Problem at `pos`, with the path's keys and the message cut to a readable size."""
    shown = tuple(clip(p) if isinstance(p, str) else p for p in path)
    return Problem(
        clip(pos.file, SHOWN_FILE_CHARS), pos.line, pos.column, dotted(shown), capped(message)
    )


def problem_at(file: str, message: str, line: int = 0, column: int = 0) -> ScenarioError:
    """A ScenarioError with one problem of a whole file (or at line and column)."""
    return ScenarioError([located(Position(file, line, column), (), message)])


# --------------------------------------------------------------------------- YAML scalars


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
    except ValueError:  # also more digits than Python converts (4300): no scenario needs them
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


# --------------------------------------------------------------------------- nodes -> data


class _Converter:
    """Turn composed nodes into plain data, recording positions and refusing unsafe constructs."""

    def __init__(self, file: str, echo: bool = True) -> None:
        self.file = file
        self.echo = echo
        self.positions: dict[Key, Position] = {}
        self.problems: list[Problem] = []

    def pos(self, node: Node) -> Position:
        return Position(self.file, node.start_mark.line + 1, node.start_mark.column + 1)

    def fail(self, node: Node, path: Key, message: str) -> None:
        self.problems.append(located(self.pos(node), path, message))

    def shown(self, text: str, quoted: bool = True) -> str:
        """Text of the file for a message (quoted, cut if long), or nothing from a file that
        is not of the kind asked for: it may be anything, `/etc/shadow` included."""
        if not self.echo:
            return ""
        return f" {capped(repr(text))}" if quoted else f" {clip(text)}"

    def convert(self, node: Node, path: Key) -> Any:
        # size and depth were held to their limits while composing (`_LimitedComposer`)
        self.positions[path] = self.pos(node)
        if not self.allowed(node, path):
            return None
        if isinstance(node, ScalarNode):
            try:
                return _scalar(node)
            except ValueError as exc:  # `+_`, `!!int abc`: resolved or tagged but not readable
                self.fail(node, path, f"cannot read{self.shown(node.value)} as {exc}")
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
            self.fail(
                node,
                path,
                f"tag{self.shown(tag, quoted=False)} is not allowed (nothing in a scenario runs)",
            )
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
            self.fail(knode, (*path, key), f"duplicate key{self.shown(key)}{where}")
            return None
        return key


# --------------------------------------------------------------------------- composing


class _OverLimit(Exception):
    """A document crossed a limit while it was being composed."""

    def __init__(self, message: str, mark: StreamMark) -> None:
        super().__init__(message)
        self.message, self.line, self.column = message, mark.line + 1, mark.column + 1


class _LimitedComposer(Composer):
    """ruamel's composer, counting nodes and nesting as it goes: a huge or deep document is
    refused at the node that crosses the limit, not after all of it is held in memory."""

    def __init__(self, loader: Any = None) -> None:
        super().__init__(loader)
        self.nodes = 0
        self.level = 0  # the path length of the node being composed (the root's is 0)

    def compose_node(self, parent: Any, index: Any) -> Any:
        self.nodes += 1
        if self.nodes > MAX_NODES:
            msg = f"document has more than {MAX_NODES} nodes; refusing to read it"
            raise _OverLimit(msg, self.parser.peek_event().start_mark)
        if self.level > MAX_DEPTH:
            msg = f"values are nested more than {MAX_DEPTH} levels deep"
            raise _OverLimit(msg, self.parser.peek_event().start_mark)
        self.level += 1
        try:
            return super().compose_node(parent, index)
        finally:
            self.level -= 1


def _compose(text: str, file: str) -> Node | None:
    """The document's root node (None if empty), within the limits; ScenarioError if not YAML."""
    yaml = YAML(typ="rt", pure=True)
    yaml.version = (1, 2)
    yaml.Composer = _LimitedComposer
    try:
        root: Node | None = yaml.compose(io.StringIO(text))
    except _OverLimit as exc:
        raise problem_at(file, exc.message, exc.line, exc.column) from None
    except MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line, col = (mark.line + 1, mark.column + 1) if mark else (0, 0)
        what = (exc.problem or exc.context or "invalid YAML").removeprefix("but ")
        ctx = exc.context_mark
        if exc.problem and exc.context and ctx is not None and ctx.line + 1 != line:
            what += f" ({exc.context} at line {ctx.line + 1}, column {ctx.column + 1})"
        if "'\\t'" in what:
            what += " (use spaces, not tabs, to indent)"
        raise problem_at(file, f"not valid YAML: {what}", line, col) from None
    except ReaderError as exc:  # a character YAML forbids: locate it in the text
        pos = min(max(int(exc.position), 0), len(text))
        line = text.count("\n", 0, pos) + 1
        col = pos - (text.rfind("\n", 0, pos) + 1) + 1
        char = (
            exc.character if isinstance(exc.character, int) else ord(str(exc.character)[:1] or " ")
        )
        msg = f"not valid YAML: character #x{char:04x} is not allowed ({exc.reason})"
        raise problem_at(file, msg, line, col) from None
    except YAMLError as exc:
        raise problem_at(file, f"not valid YAML: {exc}") from None
    return root


def _not_of_kind(root: Node, file: str, kind: FileKind) -> ScenarioError | None:
    """Why a file is not a `kind` file (its top level is no mapping, or has none of the kind's
    keys), judged on the nodes: its message names the kind, never a word of the file."""
    pos = Position(file, root.start_mark.line + 1, root.start_mark.column + 1)
    if isinstance(root, MappingNode):
        keys = {k.value for k, _ in root.value if isinstance(k, ScalarNode)}
        if not root.value or keys & kind.keys:
            return None
        msg = f"not a {kind.name} file: none of its top-level keys is one of the {kind.described}"
    elif isinstance(root, SequenceNode):
        msg = f"expected a mapping of {kind.described}, got a list"
    else:
        msg = f"expected a mapping of {kind.described}, got {_scalar_kind(root)}"
    return ScenarioError([located(pos, (), msg)])


_TAG_KINDS = {"str": "a string", "int": "a number", "float": "a number", "bool": "a boolean"}


def _scalar_kind(node: Node) -> str:
    tag = str(node.tag).removeprefix(_STD)
    return "null" if tag == "null" else _TAG_KINDS.get(tag, "a scalar")


def parse_yaml_text(
    text: str, file: str, kind: FileKind | None = None
) -> tuple[Any, dict[Key, Position]]:
    """Parse YAML 1.2 text safely into plain data and node positions; raises ScenarioError.

    With a `kind`, a document that is not a mapping with one of the kind's keys is refused
    without echoing any of its text.
    """
    root = _compose(text, file)
    if root is None:
        raise problem_at(file, "the file is empty; expected a mapping", 1, 1)
    refused = _not_of_kind(root, file, kind) if kind is not None else None
    conv = _Converter(file, echo=refused is None)
    data = conv.convert(root, ())
    if conv.problems:  # unsafe YAML (anchors, tags) first: these say what, not which value
        raise ScenarioError(conv.problems)
    if refused is not None:
        raise refused
    return data, conv.positions


# --------------------------------------------------------------------------- files


def read_yaml_file(path: Path, kind: FileKind | None = None) -> tuple[Any, dict[Key, Position]]:
    """Read and parse one YAML file, turning OS and encoding errors into ScenarioError."""
    name, what = str(path), kind.name if kind else "scenario"
    try:
        raw = read_regular(path, MAX_BYTES)
    except NotRegularFile as exc:
        said = "is a directory" if exc.kind == "a directory" else str(exc)
        raise problem_at(name, f"{said}; expected a {what} file") from None
    except FileNotFoundError:
        raise problem_at(name, "no such file") from None
    except OSError as exc:
        raise read_failure(exc, name, problem_at(name, f"cannot read: {os_reason(exc)}")) from None
    except ValueError as exc:  # a path Python cannot pass to the OS (a NUL byte in it)
        raise problem_at(name, f"cannot read: {exc}") from None
    if len(raw) > MAX_BYTES:
        raise problem_at(name, f"file is over {MAX_BYTES} bytes; a {what} must be under that")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw.count(b"\n", 0, exc.start) + 1
        column = exc.start - (raw.rfind(b"\n", 0, exc.start) + 1) + 1
        msg = f"not UTF-8 text (byte {exc.start} is 0x{raw[exc.start]:02x}); expected a YAML file"
        raise problem_at(name, msg, line, column) from None
    return parse_yaml_text(text, name, kind)
