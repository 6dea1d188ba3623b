"""Check an expression tree against a scenario and turn it into numpy closures.

Every check happens here, before any run: names, states and dates exist; shapes (one value per
state or one value), kinds (number or boolean) and levels (one run, or the replicates of a
design point) fit. A compiled expression only indexes arrays, so a run can never make it raise.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np

from sim.calendar import month_index
from sim.outcomes import ops
from sim.outcomes.nodes import At, Binary, ExpressionError, Node, Num, Reduce, Select, Unary, Var
from sim.outcomes.ops import F
from sim.outcomes.parse import parse
from sim.outcomes.scope import Scope, did_you_mean


@dataclass(frozen=True)
class Env:
    """What a compiled expression reads: a run's data, or the replicates-reduced values of the
    design points (one array over points per reduction)."""

    data: F | None = None
    reduced: Sequence[F] = ()


type Fn = Callable[[Env], F]


@dataclass(frozen=True)
class Partial:
    """One `f(arg, over=replicates)` of a point-level outcome: a run-level value per run,
    reduced across the replicates of each point."""

    func: str
    fn: Fn
    boolean: bool


@dataclass(frozen=True)
class Compiled:
    """A checked expression: boolean or numeric, run-level or point-level."""

    text: str
    fn: Fn
    boolean: bool
    partials: tuple[Partial, ...] = ()

    @property
    def point(self) -> bool:
        """Whether the outcome has one value per design point (it reduces over replicates)."""
        return bool(self.partials)

    def run_value(self, data: F) -> float | bool | None:
        """The value of a run-level expression on one run's data."""
        with ops.quiet():
            return ops.as_value(self.fn(Env(data=data)), self.boolean)


@dataclass(frozen=True)
class _Typed:
    """A compiled sub-expression: its closure, shape and kind, and the variables it reads
    outside any replicates reduction."""

    fn: Fn
    vector: bool
    boolean: bool
    free: tuple[Node, ...] = ()


def compile_expression(text: str, scope: Scope) -> Compiled:
    """Parse and check `text` against `scope`; raises ExpressionError with a 1-based column."""
    tree = parse(text)
    compiler = _Compiler(scope)
    typed = compiler.node(tree)
    if typed.vector:
        raise ExpressionError(_vector_result(text, tree, scope), tree.col)
    if compiler.partials and typed.free:
        var = typed.free[0]
        raise ExpressionError(
            f"{_quote(text, var)} is a value of one run; in an outcome that reduces over "
            "replicates, every variable must be inside mean/min/max/share(..., over=replicates)",
            var.col,
        )
    return Compiled(text, typed.fn, typed.boolean, tuple(compiler.partials))


def _quote(text: str, node: Node) -> str:
    return text[node.col - 1 : node.end - 1].strip()


def _vector_result(text: str, tree: Node, scope: Scope) -> str:
    shown, state = _quote(text, tree), scope.states[0]
    if isinstance(tree, Var):
        return (
            f"{shown} is a value per state; select one ({shown}[{state}]) "
            f"or reduce (mean({shown}, over=states))"
        )
    return (
        f"'{shown}' is a value per state; reduce it (mean(..., over=states), or share(...) for "
        f"true/false) or select a state in each variable (tilt[{state}])"
    )


@dataclass
class _Compiler:
    """Compiles nodes in a context: the step variables are read at, and where we are."""

    scope: Scope
    step: int = -1
    in_at: bool = False
    in_replicates: bool = False
    partials: list[Partial] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.step = self.scope.calendar.steps

    def node(self, node: Node) -> _Typed:
        match node:
            case Num(value=v):
                value = np.asarray(v, dtype=np.float64)
                return _Typed(lambda env: value, vector=False, boolean=False)
            case Var():
                return self.variable(node)
            case Select():
                return self.select(node)
            case Unary():
                return self.unary(node)
            case Binary():
                return self.binary(node)
            case Reduce(over="replicates"):
                return self.over_replicates(node)
            case Reduce():
                return self.over_states(node)
            case At():
                return self.at(node)
        raise TypeError(f"not an expression node: {node!r}")

    def column(self, var: Var) -> int:
        col = self.scope.column.get(var.name)
        if col is None:
            raise ExpressionError(did_you_mean("variable", var.name, self.scope.names), var.col)
        return col

    def variable(self, var: Var) -> _Typed:
        col, step = self.column(var), self.step

        def read(env: Env) -> F:
            assert env.data is not None
            return env.data[step, :, col]

        return _Typed(read, vector=True, boolean=False, free=(var,))

    def select(self, node: Select) -> _Typed:
        col, step = self.column(node.var), self.step
        i = self.scope.state_index.get(node.state)
        if i is None:
            message = did_you_mean("state", node.state, self.scope.states)
            upper = node.state.upper()
            if upper in self.scope.state_index:
                message = f"unknown state '{node.state}' (did you mean '{upper}'?)"
            raise ExpressionError(message, node.state_col)

        def read(env: Env) -> F:
            assert env.data is not None
            return np.asarray(env.data[step, i, col])

        return _Typed(read, vector=False, boolean=False, free=(node,))

    def unary(self, node: Unary) -> _Typed:
        x = self.node(node.operand)
        f = x.fn
        if node.op == "-":
            return _Typed(lambda env: ops.negate(f(env)), x.vector, False, x.free)
        self.need_boolean(x.boolean, node.operand, "not")
        return _Typed(lambda env: ops.logical_not(f(env)), x.vector, True, x.free)

    def binary(self, node: Binary) -> _Typed:
        """A chain `a op b op c ...` (the left spine of the tree) compiled and evaluated in a
        loop: a sum of thousands of terms is a tree that deep, too deep to recurse along."""
        chain: list[Binary] = []
        left: Node = node
        while isinstance(left, Binary):
            chain.append(left)
            left = left.left
        first = self.node(left)
        vector, boolean = first.vector, first.boolean  # of the chain so far
        steps: list[tuple[Callable[[F, F], F], Fn]] = []
        free = list(first.free)
        for link in reversed(chain):
            right = self.node(link.right)
            if link.op in ("and", "or"):
                self.need_boolean(boolean, link.left, link.op)
                self.need_boolean(right.boolean, link.right, link.op)
            steps.append((ops.BINARY[link.op], right.fn))
            free += right.free
            vector, boolean = vector or right.vector, link.op in _BOOLEAN_OPS
        return _Typed(_fold(first.fn, steps), vector, boolean, tuple(free))

    def need_boolean(self, boolean: bool, node: Node, op: str) -> None:
        """ExpressionError at `node` unless its value is true/false (`boolean`)."""
        if not boolean:
            raise ExpressionError(
                f"'{op}' needs true/false operands (a comparison such as tilt[MEX] > 0), "
                "found a number",
                node.col,
            )

    def over_states(self, node: Reduce) -> _Typed:
        x = self.node(node.arg)
        if not x.vector:
            raise ExpressionError(_scalar_reduction(node), node.col)
        if node.func == "share" and not x.boolean:
            raise ExpressionError(_share_of_number(), node.arg.col)
        reduce, f = ops.OVER_STATES[node.func], x.fn
        return _Typed(lambda env: reduce(f(env)), vector=False, boolean=False, free=x.free)

    def over_replicates(self, node: Reduce) -> _Typed:
        if self.in_replicates:
            raise ExpressionError(
                f"{node.func}(..., over=replicates) inside another reduction over replicates: "
                "each run gives one value to reduce",
                node.col,
            )
        self.in_replicates = True
        try:
            x = self.node(node.arg)
        finally:
            self.in_replicates = False
        if x.vector:
            raise ExpressionError(
                f"the argument of {node.func}(..., over=replicates) must be one value per run; "
                f"select a state or reduce over states first",
                node.arg.col,
            )
        if node.func == "share" and not x.boolean:
            raise ExpressionError(_share_of_number(), node.arg.col)
        k = len(self.partials)
        self.partials.append(Partial(node.func, x.fn, x.boolean))
        return _Typed(lambda env: env.reduced[k], vector=False, boolean=False)

    def at(self, node: At) -> _Typed:
        if self.in_at:
            raise ExpressionError("at(...) inside at(...): a value is read at one date", node.col)
        saved = self.step
        self.step = self.date_step(node)
        self.in_at = True
        try:
            return self.node(node.arg)
        finally:
            self.step, self.in_at = saved, False

    def date_step(self, node: At) -> int:
        cal = self.scope.calendar
        if node.date in ("start", "end"):
            return 0 if node.date == "start" else cal.steps
        try:
            month = month_index(node.date)
        except ValueError as exc:
            raise ExpressionError(str(exc), node.date_col) from None
        if not cal.start <= month <= cal.end:
            raise ExpressionError(
                f"{node.date} is outside the scenario's horizon, {self.scope.horizon()}",
                node.date_col,
            )
        return cal.step_of(month)


_BOOLEAN_OPS = frozenset(("and", "or", "<", "<=", ">", ">=", "==", "!="))


def _fold(first: Fn, steps: list[tuple[Callable[[F, F], F], Fn]]) -> Fn:
    """`first`, then each (op, operand) applied in turn to the value so far."""

    def run(env: Env) -> F:
        value = first(env)
        for op, operand in steps:
            value = op(value, operand(env))
        return value

    return run


def _scalar_reduction(node: Reduce) -> str:
    if node.over == "states":
        return (
            f"{node.func}(..., over=states) needs a value per state (such as tilt), found one value"
        )
    return (
        f"{node.func} of one value per run: write over=replicates to "
        f"{'average' if node.func in ('mean', 'share') else 'reduce'} across replicates"
    )


def _share_of_number() -> str:
    return "share(...) needs true/false values (a comparison such as tilt > 0), found a number"
