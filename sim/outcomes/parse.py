"""A recursive-descent parser for outcome expressions (the grammar is in `sim.outcomes`).

One method per grammar rule; nothing is ever handed to Python's eval, exec or ast.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import replace

from sim.outcomes.lexer import Token, tokenize
from sim.outcomes.nodes import At, Binary, ExpressionError, Node, Num, Reduce, Select, Unary, Var

COMPARISONS = ("<", "<=", ">", ">=", "==", "!=")
REDUCTIONS = ("mean", "min", "max", "share")
MAX_LENGTH = 10_000
"""Characters an expression may have: long sums are fine, a megabyte of text is not."""
MAX_DEPTH = 50
"""Levels of nesting an expression may have ('(', a function call, a '-' or 'not' inside
another). Each level costs about a dozen Python frames while parsing, so this stays well inside
Python's recursion limit (1000) wherever the parser is called from."""


def parse(text: str) -> Node:
    """The expression tree of `text`; raises ExpressionError with the column of the problem."""
    if len(text) > MAX_LENGTH:
        raise ExpressionError(
            f"the expression is {len(text)} characters long; at most {MAX_LENGTH} are allowed",
            MAX_LENGTH + 1,
        )
    return _Parser(tokenize(text)).whole()


class _Parser:
    """Walks the token list; `pos` is the next token."""

    def __init__(self, tokens: list[Token]) -> None:
        self.tokens = tokens
        self.pos = 0
        self.depth = 0

    # ----------------------------------------------------------------- helpers

    @property
    def tok(self) -> Token:
        return self.tokens[self.pos]

    def at(self, kind: str, *texts: str) -> bool:
        """Whether the next token is of `kind` (and, if given, one of `texts`)."""
        return self.tok.kind == kind and (not texts or self.tok.text in texts)

    def take(self) -> Token:
        tok = self.tok
        self.pos += 1
        return tok

    def expect(self, kind: str, text: str, after: str) -> Token:
        """Take a token that must be `text`; otherwise say what came instead."""
        if not self.at(kind, text):
            raise ExpressionError(
                f"expected '{text}' {after}, found {self.tok.found()}", self.tok.col
            )
        return self.take()

    @contextmanager
    def nested(self, tok: Token) -> Iterator[None]:
        """One level deeper, opened by `tok`; refused past MAX_DEPTH (counted, so that a deep
        expression is an input error rather than Python running out of stack)."""
        if self.depth >= MAX_DEPTH:
            raise ExpressionError(
                f"the expression is nested too deeply: at most {MAX_DEPTH} levels of "
                "parentheses, function calls, '-' and 'not' inside one another",
                tok.col,
            )
        self.depth += 1
        try:
            yield
        finally:
            self.depth -= 1

    def end_of(self, node: Node) -> int:
        """Column after the last token consumed."""
        last = self.tokens[self.pos - 1]
        return max(node.end, last.col + len(last.text))

    # ----------------------------------------------------------------- rules

    def whole(self) -> Node:
        if self.at("end"):
            raise ExpressionError("the expression is empty", self.tok.col)
        node = self.or_()
        if not self.at("end"):
            what = "an operator or the end of the expression"
            if self.at("op", ")"):
                what += " (this ')' closes no '(')"
            raise ExpressionError(f"expected {what}, found {self.tok.found()}", self.tok.col)
        return node

    def or_(self) -> Node:
        return self._left_assoc(self.and_, "kw", ("or",))

    def and_(self) -> Node:
        return self._left_assoc(self.not_, "kw", ("and",))

    def _left_assoc(self, operand: _Rule, kind: str, ops: tuple[str, ...]) -> Node:
        node = operand()
        while self.at(kind, *ops):
            op = self.take()
            right = operand()
            node = Binary(node.col, right.end, op.text, node, right, op.col)
        return node

    def not_(self) -> Node:
        if self.at("kw", "not"):
            op = self.take()
            with self.nested(op):
                operand = self.not_()
            return Unary(op.col, operand.end, "not", operand)
        return self.compare()

    def compare(self) -> Node:
        left = self.sum_()
        if not self.at("op", *COMPARISONS):
            return left
        op = self.take()
        right = self.sum_()
        if self.at("op", *COMPARISONS):
            raise ExpressionError(
                f"comparisons do not chain: write (a {op.text} b) and (b {self.tok.text} c)",
                self.tok.col,
            )
        return Binary(left.col, right.end, op.text, left, right, op.col)

    def sum_(self) -> Node:
        return self._left_assoc(self.product, "op", ("+", "-"))

    def product(self) -> Node:
        return self._left_assoc(self.unary, "op", ("*", "/"))

    def unary(self) -> Node:
        if self.at("op", "-"):
            op = self.take()
            with self.nested(op):
                operand = self.unary()
            return Unary(op.col, operand.end, "-", operand)
        return self.atom()

    def atom(self) -> Node:
        tok = self.tok
        if tok.kind == "num":
            return self.number()
        if tok.kind == "name":
            return self.variable()
        if tok.kind == "kw" and tok.text in (*REDUCTIONS, "at"):
            return self.call()
        if self.at("op", "("):
            self.take()
            with self.nested(tok):
                inner = self.or_()
            self.expect("op", ")", f"to close the '(' at column {tok.col}")
            return _regroup(inner, tok.col, self.end_of(inner))
        raise ExpressionError(_not_an_atom(tok), tok.col)

    def number(self) -> Node:
        tok = self.take()
        value = float(tok.text)
        if not math.isfinite(value):  # 1e309: float() gives inf, which no result may hold
            raise ExpressionError(
                f"the number {tok.text} is too large (a number must be below 1.8e308)", tok.col
            )
        return Num(tok.col, tok.col + len(tok.text), value)

    def variable(self) -> Node:
        tok = self.take()
        var = Var(tok.col, tok.col + len(tok.text), tok.text)
        if self.at("op", "("):
            raise ExpressionError(
                f"'{tok.text}' is not a function; the functions are mean, min, max, share and at",
                tok.col,
            )
        if not self.at("op", "["):
            return var
        self.take()
        if not self.at("name"):
            raise ExpressionError(
                f"expected a state code (such as MEX) inside {tok.text}[...], "
                f"found {self.tok.found()}",
                self.tok.col,
            )
        state = self.take()
        self.expect("op", "]", f"after the state {state.text}")
        return Select(var.col, self.end_of(var), var, state.text, state.col)

    def call(self) -> Node:
        name = self.take()
        self.expect("op", "(", f"after {name.text}")
        with self.nested(name):
            arg = self.or_()
        if name.text == "at":
            return self.at_date(name, arg)
        over = None
        if self.at("op", ","):
            self.take()
            self.expect("kw", "over", f"after the ',' in {name.text}(...)")
            self.expect("op", "=", "after over")
            if not self.at("kw", "states", "replicates"):
                raise ExpressionError(
                    f"expected states or replicates after over=, found {self.tok.found()}",
                    self.tok.col,
                )
            over = self.take().text
        after = f"after over={over}" if over else f"after the argument of {name.text}"
        self.expect("op", ")", after)
        return Reduce(name.col, self.end_of(arg), name.text, arg, over)

    def at_date(self, name: Token, arg: Node) -> Node:
        self.expect("op", ",", "and a date after the first argument of at")
        if not (self.at("date") or self.at("kw", "start", "end")):
            raise ExpressionError(
                "expected a date (YYYY-MM, start or end) as the second argument of at, "
                f"found {self.tok.found()}",
                self.tok.col,
            )
        date = self.take()
        self.expect("op", ")", f"after the date {date.text}")
        return At(name.col, self.end_of(arg), arg, date.text, date.col)


type _Rule = Callable[[], Node]


def _regroup(node: Node, col: int, end: int) -> Node:
    """The same node, spanning its parentheses too (messages quote the text they cover)."""
    return replace(node, col=col, end=end)


def _not_an_atom(tok: Token) -> str:
    """The message for a token where a value should start."""
    if tok.kind == "date":
        return (
            f"a date ({tok.text}) can only be the second argument of at(...); "
            f"for arithmetic write {tok.text[:4]} - {tok.text[5:]} with spaces"
        )
    if tok.kind == "kw":
        return f"expected a value, found the keyword '{tok.text}'"
    return f"expected a number, a variable, a function or '(', found {tok.found()}"
