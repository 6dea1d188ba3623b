"""The expression tree the parser builds, and the error every stage of an expression raises."""

from __future__ import annotations

from dataclasses import dataclass

from sim.errors import GeosimError


class ExpressionError(GeosimError):
    """An outcome expression cannot be read or does not fit the scenario; `column` is 1-based."""

    def __init__(self, message: str, column: int) -> None:
        self.message = message
        self.column = column
        super().__init__(f"column {column}: {message}")

    def __reduce__(self) -> tuple[type[ExpressionError], tuple[str, int]]:
        """Rebuild from the fields (process pools pickle errors)."""
        return (type(self), (self.message, self.column))


@dataclass(frozen=True)
class Node:
    """Where a piece of the expression was written: columns [col, end) of the text, 1-based."""

    col: int
    end: int


@dataclass(frozen=True)
class Num(Node):
    """A number."""

    value: float


@dataclass(frozen=True)
class Var(Node):
    """A recorded variable, one value per state (`tilt`, `affinity.USA`)."""

    name: str


@dataclass(frozen=True)
class Select(Node):
    """A variable of one state (`tilt[MEX]`)."""

    var: Var
    state: str
    state_col: int


@dataclass(frozen=True)
class Unary(Node):
    """`-x` or `not x`."""

    op: str
    operand: Node


@dataclass(frozen=True)
class Binary(Node):
    """`a op b`; `op_col` is where the operator was written."""

    op: str
    left: Node
    right: Node
    op_col: int


@dataclass(frozen=True)
class Reduce(Node):
    """`mean|min|max|share(arg[, over=states|replicates])`; `over` is None when not written."""

    func: str
    arg: Node
    over: str | None


@dataclass(frozen=True)
class At(Node):
    """`at(arg, DATE)`: DATE is `YYYY-MM`, `start` or `end`."""

    arg: Node
    date: str
    date_col: int


def show(node: Node) -> str:
    """The tree as a fully parenthesised prefix form (`(- (- 1 2) 3)`), for tests and debugging."""
    match node:
        case Num(value=v):
            return f"{v:g}"
        case Var(name=name):
            return name
        case Select(var=var, state=state):
            return f"{var.name}[{state}]"
        case Unary(op=op, operand=x):
            return f"({op} {show(x)})"
        case Binary(op=op, left=a, right=b):
            return f"({op} {show(a)} {show(b)})"
        case Reduce(func=f, arg=a, over=over):
            return f"({f} {show(a)}{'' if over is None else ' over=' + over})"
        case At(arg=a, date=d):
            return f"(at {show(a)} {d})"
    raise TypeError(f"not an expression node: {node!r}")
