"""Split an outcome expression into tokens; anything that is not a token is an error here.

Character classes are ASCII only (`[0-9]`, not `\\d`), so fullwidth or other Unicode digits and
letters are refused rather than read as numbers or names.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from sim.outcomes.nodes import ExpressionError

KEYWORDS = frozenset(
    [
        "and",
        "or",
        "not",
        "over",
        "states",
        "replicates",
        "start",
        "end",
        "mean",
        "min",
        "max",
        "share",
        "at",
    ]
)
"""Words with a meaning of their own; a variable cannot be called by one of them."""

_NAME = r"[A-Za-z_][A-Za-z0-9_]*"
_PATTERNS = (
    ("space", r"[ \t\r\n]+"),
    # A date is exactly YYYY-MM not run on into more of a number or a name (2025-031 is arithmetic).
    ("date", r"[0-9]{4}-[0-9]{2}(?![0-9A-Za-z_.])"),
    ("num", r"(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?"),
    ("name", rf"{_NAME}(?:\.{_NAME})*"),
    ("op", r"\*\*|<=|>=|==|!=|[-+*/<>()\[\],=]"),
)
_TOKEN = re.compile("|".join(f"(?P<{kind}>{pattern})" for kind, pattern in _PATTERNS))


@dataclass(frozen=True)
class Token:
    """One token: kind is num, date, name, kw (keyword), op or end; col is 1-based."""

    kind: str
    text: str
    col: int

    def found(self) -> str:
        """How an error message names this token."""
        return "the end of the expression" if self.kind == "end" else f"'{self.text}'"


def tokenize(text: str) -> list[Token]:
    """Tokens of `text`, ending with an `end` token at column len(text) + 1."""
    tokens: list[Token] = []
    pos = 0
    while pos < len(text):
        m = _TOKEN.match(text, pos)
        if m is None:
            raise ExpressionError(_unexpected(text[pos]), pos + 1)
        kind = m.lastgroup or ""
        word = m.group()
        if word == "**":
            raise ExpressionError("'**' is not an operator (there are no powers)", pos + 1)
        if kind == "name" and word in KEYWORDS:
            kind = "kw"
        if kind != "space":
            tokens.append(Token(kind, word, pos + 1))
        pos = m.end()
    tokens.append(Token("end", "", len(text) + 1))
    return tokens


def _unexpected(char: str) -> str:
    """The message for a character no token starts with."""
    shown = repr(char)[1:-1] if not char.isprintable() else char
    message = f"unexpected character '{shown}'"
    if char in "'\"":
        return message + " (expressions have no strings)"
    if not char.isascii():
        return message + " (expressions are written in ASCII letters, digits and symbols)"
    if char == ".":
        return message + " (a name part or a digit must follow a '.')"
    return message
