"""The outcome expression language: parsing, checking (with columns) and evaluation."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from helpers import imported_modules
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from numpy.typing import NDArray

import sim.outcomes
from sim.calendar import Calendar, month_index
from sim.outcomes import ExpressionError, Scope, compile_expression
from sim.outcomes.compile import Env
from sim.outcomes.nodes import show
from sim.outcomes.ops import quiet
from sim.outcomes.parse import parse

NAN = math.nan
# 3 states, quarterly steps from 2025-01: step 1 = 2025-01..03, 2 = 04..06, 3 = 07..09.
SCOPE = Scope(
    ["tilt", "affinity.USA", "bloc.BRICS", "policy.common_currency"],
    ["AAA", "BBB", "CCC"],
    Calendar(start=month_index("2025-01"), unit_months=3, steps=3),
)
TILT = np.array(
    [
        [0.0, 0.1, -0.2],  # step 0 (start)
        [0.1, 0.2, -0.1],
        [0.2, NAN, 0.0],
        [0.3, 0.5, -0.4],  # end
    ]
)


@dataclass
class FakeRun:
    """A hand-built run record with known arrays."""

    data: NDArray[np.float64]
    names: list[str] = field(default_factory=lambda: list(SCOPE.names))
    states: list[str] = field(default_factory=lambda: list(SCOPE.states))
    log: list[dict[str, Any]] = field(default_factory=list)

    def step_at(self, date: str) -> int:
        return SCOPE.calendar.step_of(month_index(date))

    def column(self, name: str) -> int | None:
        return self.names.index(name) if name in self.names else None


def fake_data() -> NDArray[np.float64]:
    data = np.zeros((4, 3, 4))
    data[:, :, 0] = TILT
    data[:, :, 1] = 0.5
    data[:, :, 2] = [[0, 1, 2]] * 4
    data[:, :, 3] = [[1, NAN, 0]] * 4
    return data


RUN = FakeRun(fake_data())


def value(text: str) -> float | bool | None:
    return compile_expression(text, SCOPE).run_value(RUN.data)


# --------------------------------------------------------------------------- parsing


@pytest.mark.parametrize(
    ("text", "tree"),
    [
        ("1 - 2 - 3", "(- (- 1 2) 3)"),
        ("1 / 2 / 3", "(/ (/ 1 2) 3)"),
        ("1 + 2 * 3", "(+ 1 (* 2 3))"),
        ("(1 + 2) * 3", "(* (+ 1 2) 3)"),
        ("-2 * 3", "(* (- 2) 3)"),
        ("- - 2", "(- (- 2))"),
        ("not a > 0 and b", "(and (not (> a 0)) b)"),
        ("a or b and c", "(or a (and b c))"),
        ("not not a", "(not (not a))"),
        ("a + 1 < b * 2", "(< (+ a 1) (* b 2))"),
        ("share(tilt > 0, over=replicates)", "(share (> tilt 0) over=replicates)"),
        ("at(tilt[MEX], 2025-03) - 1e-3", "(- (at tilt[MEX] 2025-03) 0.001)"),
        ("mean(.5 * affinity.USA)", "(mean (* 0.5 affinity.USA))"),
        ("2025 - 3", "(- 2025 3)"),
    ],
)
def test_precedence_and_associativity(text: str, tree: str) -> None:
    assert show(parse(text)) == tree


def test_arithmetic_associates_to_the_left_in_value() -> None:
    assert value("1 - 2 - 3") == -4.0
    assert value("8 / 4 / 2") == 1.0
    assert value("1 + 2 * 3") == 7.0
    assert value("-2 - -3") == 1.0


# --------------------------------------------------------------------------- errors


@pytest.mark.parametrize(
    ("text", "column", "message"),
    [
        ("tilit", 1, "unknown variable 'tilit' (did you mean 'tilt'?)"),
        ("mean(afinity.USA)", 6, "did you mean 'affinity.USA'"),
        ("zzz[AAA] > 0", 1, "valid: tilt, affinity.USA, bloc.BRICS"),
        ("tilt[AAB]", 6, "unknown state 'AAB' (did you mean 'AAA'"),
        ("tilt[aaa]", 6, "unknown state 'aaa' (did you mean 'AAA'?)"),
        ("__import__", 1, "unknown variable '__import__'"),
        ("__import__('os')", 12, "unexpected character ''' (expressions have no strings)"),
        ("tilt[AAA];", 10, "unexpected character ';'"),
        ("tilt[AAA] ** 2", 11, "'**' is not an operator"),
        ("(tilt[AAA] + 1", 15, "expected ')' to close the '(' at column 1, found the end"),
        ("tilt[AAA] + 1)", 14, "this ')' closes no '('"),
        ("mean(tilt over=states)", 11, "expected ')' after the argument of mean, found 'over'"),
        ("mean(tilt, states)", 12, "expected 'over' after the ',' in mean(...)"),
        ("2025-03 + tilt[AAA]", 1, "write 2025 - 03 with spaces"),
        ("at(tilt[AAA], 2026-01)", 15, "outside the scenario's horizon, 2025-01 to 2025-09"),
        ("at(tilt[AAA], 2024-12)", 15, "outside the scenario's horizon"),
        ("at(tilt[AAA], 2025-13)", 15, "month must be 01..12"),
        ("at(tilt[AAA], 2025)", 15, "expected a date (YYYY-MM, start or end)"),
        ("at(at(tilt[AAA], start), end)", 4, "at(...) inside at(...)"),
        ("tilt", 1, "tilt is a value per state; select one (tilt[AAA]) or reduce"),
        ("tilt > 0", 1, "'tilt > 0' is a value per state"),
        ("mean(tilt[AAA])", 1, "mean of one value per run: write over=replicates to average"),
        ("max(tilt[AAA], over=states)", 1, "needs a value per state"),
        (
            "mean(tilt[AAA], over=replicates) - tilt[BBB]",
            36,
            "tilt[BBB] is a value of one run; in an outcome that reduces over replicates",
        ),
        ("mean(tilt, over=replicates)", 6, "must be one value per run"),
        (
            "mean(mean(tilt[AAA], over=replicates), over=replicates)",
            6,
            "inside another reduction over replicates",
        ),
        ("tilt[AAA] and tilt[BBB] > 0", 1, "'and' needs true/false operands"),
        ("tilt[AAA] > 0 or 1", 18, "'or' needs true/false operands"),
        ("not tilt[AAA]", 5, "'not' needs true/false operands"),
        ("share(tilt)", 7, "share(...) needs true/false values"),
        ("\uff11", 1, "unexpected character '\uff11'"),
        ("tilt[AAA] > \uff12", 13, "unexpected character"),
        ("1 < 2 < 3", 7, "comparisons do not chain"),
        ("", 1, "the expression is empty"),
        ("tilt[AAA] +", 12, "found the end of the expression"),
        ("tilt(AAA)", 1, "'tilt' is not a function"),
        ("mean", 5, "expected '(' after mean"),
        ("tilt[1]", 6, "expected a state code"),
        ("1 +* 2", 4, "expected a number, a variable, a function or '(', found '*'"),
        ("states", 1, "found the keyword 'states'"),
        ("tilt.", 5, "unexpected character '.'"),
    ],
)
def test_errors_say_what_and_where(text: str, column: int, message: str) -> None:
    with pytest.raises(ExpressionError) as caught:
        compile_expression(text, SCOPE)
    assert caught.value.column == column, caught.value
    assert message in caught.value.message
    assert str(caught.value).startswith(f"column {column}: ")


_PIECES = [
    "tilt", "tilt[AAA]", "[", "]", "AAA", "affinity.USA", "bloc.BRICS", "(", ")", ",", "1", "0.5",
    "-", "+", "*", "/", "<", ">=", "==", "and", "or", "not", "mean(", "share(", "min(", "at(",
    "over=", "states", "replicates", "start", "end", "2025-02", "2030-01", "1e-3", ".", "=",
]  # fmt: skip


@settings(max_examples=400, suppress_health_check=[HealthCheck.too_slow])
@given(st.one_of(st.text(), st.lists(st.sampled_from(_PIECES), max_size=12).map(" ".join)))
def test_any_text_compiles_or_fails_with_a_column(text: str) -> None:
    try:
        compiled = compile_expression(text, SCOPE)
    except ExpressionError as exc:
        assert 1 <= exc.column <= len(text) + 1
        return
    if not compiled.point:  # a compiled run-level expression evaluates without raising
        assert compiled.run_value(RUN.data) is None or isinstance(
            compiled.run_value(RUN.data), float | bool
        )


# --------------------------------------------------------------------------- arithmetic property


@dataclass(frozen=True)
class Tree:
    op: str  # "num", "neg", or a binary operator
    args: tuple[Tree, ...] = ()
    number: float = 0.0
    text: str = ""


_numbers = st.one_of(
    st.integers(0, 1000).map(lambda n: Tree("num", number=float(n), text=str(n))),
    st.floats(0, 1e6, allow_nan=False, allow_infinity=False).map(
        lambda x: Tree("num", number=x, text=repr(x))
    ),
)
_trees = st.recursive(
    _numbers,
    lambda inner: st.one_of(
        inner.map(lambda t: Tree("neg", (t,))),
        st.tuples(st.sampled_from("+-*/"), inner, inner).map(lambda a: Tree(a[0], (a[1], a[2]))),
    ),
    max_leaves=12,
)
_LEVEL = {"+": 1, "-": 1, "*": 2, "/": 2, "neg": 3, "num": 4}


def render(t: Tree) -> str:
    """As few parentheses as precedence and left associativity allow."""
    if t.op == "num":
        return t.text
    if t.op == "neg":
        inner = render(t.args[0])
        return "-" + (inner if _LEVEL[t.args[0].op] >= 3 else f"({inner})")
    left, right = (render(a) for a in t.args)
    if _LEVEL[t.args[0].op] < _LEVEL[t.op]:
        left = f"({left})"
    if _LEVEL[t.args[1].op] <= _LEVEL[t.op]:
        right = f"({right})"
    return f"{left} {t.op} {right}"


def reference(t: Tree) -> float:
    """Plain Python floats; division by zero is NaN."""
    if t.op == "num":
        return t.number
    if t.op == "neg":
        return -reference(t.args[0])
    a, b = (reference(x) for x in t.args)
    if t.op == "+":
        result = a + b
    elif t.op == "-":
        result = a - b
    elif t.op == "*":
        result = a * b
    else:
        result = NAN if b == 0 else a / b
    return NAN if math.isinf(result) else result  # an overflow is not known either


@settings(max_examples=300)
@given(_trees)
def test_arithmetic_matches_a_reference_evaluator(tree: Tree) -> None:
    text = render(tree)
    got = value(text)
    want = reference(tree)
    assert isinstance(got, float)
    assert (math.isnan(got) and math.isnan(want)) or got == want, text


# --------------------------------------------------------------------------- evaluation


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("mean(tilt)", (0.3 + 0.5 - 0.4) / 3),
        ("mean(tilt, over=states)", (0.3 + 0.5 - 0.4) / 3),
        ("min(tilt)", -0.4),
        ("max(tilt)", 0.5),
        ("share(tilt > 0)", 2 / 3),
        ("share(tilt > 0.3)", 1 / 3),
        ("tilt[BBB]", 0.5),
        ("tilt[CCC] - at(tilt[CCC], start)", -0.4 - -0.2),
        ("at(tilt[AAA], start)", 0.0),
        ("at(tilt[AAA], 2025-01)", 0.1),
        ("at(tilt[AAA], 2025-03)", 0.1),
        ("at(tilt[AAA], 2025-05)", 0.2),
        ("at(tilt[AAA], 2025-09)", 0.3),
        ("at(tilt[AAA], end)", 0.3),
        ("at(mean(tilt), 2025-04)", (0.2 + 0.0) / 2),  # BBB unknown at step 2: left out
        ("at(share(tilt >= 0), 2025-06)", 1.0),
        ("at(max(tilt), 2025-06) - min(tilt)", 0.2 + 0.4),
        ("(tilt[AAA] > 0) + (tilt[CCC] > 0)", 1.0),
        ("mean(tilt > 0)", 2 / 3),
        ("2 * (tilt[AAA] < tilt[BBB])", 2.0),
        ("mean(bloc.BRICS == 2)", 1 / 3),
        ("mean(policy.common_currency)", 0.5),
        ("share(policy.common_currency == 1)", 0.5),
        ("mean(tilt * affinity.USA)", 0.5 * (0.3 + 0.5 - 0.4) / 3),
        ("mean(tilt - at(tilt, start))", ((0.3 - 0.0) + (0.5 - 0.1) + (-0.4 + 0.2)) / 3),
    ],
)
def test_values_on_a_hand_built_run(text: str, expected: float) -> None:
    got = value(text)
    assert isinstance(got, float)
    assert got == pytest.approx(expected, abs=1e-12)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("tilt[AAA] > 0", True),
        ("tilt[CCC] > 0", False),
        ("not tilt[CCC] > 0", True),
        ("tilt[AAA] > 0 and tilt[CCC] > 0", False),
        ("tilt[AAA] > 0 or tilt[CCC] > 0", True),
        ("share(tilt > 0) > 0.5", True),
        ("at(tilt[BBB], 2025-06) > 0", None),  # not known
        ("at(tilt[BBB] > 0, 2025-06) or tilt[AAA] > 0", True),  # unknown or true
        ("at(tilt[BBB] > 0, 2025-06) and tilt[AAA] < 0", False),  # unknown and false
        ("at(tilt[BBB] > 0, 2025-06) and tilt[AAA] > 0", None),
        ("not at(tilt[BBB] > 0, 2025-06)", None),
        ("policy.common_currency[BBB] == 1", None),
    ],
)
def test_boolean_values(text: str, expected: bool | None) -> None:
    assert value(text) is expected


@pytest.mark.parametrize(
    "text",
    [
        "tilt[AAA] / 0",
        "1 / (tilt[AAA] - tilt[AAA])",
        "0 / 0",
        "at(tilt[BBB], 2025-06)",
        "at(mean(tilt / 0), end)",
        "at(tilt[BBB], 2025-06) * 0",
    ],
)
def test_unknown_and_division_by_zero_give_nan(text: str) -> None:
    got = value(text)
    assert isinstance(got, float) and math.isnan(got)


def test_all_unknown_reductions_are_nan_without_warnings() -> None:
    data = fake_data()
    data[-1, :, 0] = NAN
    for text in ("mean(tilt)", "min(tilt)", "max(tilt)", "share(tilt > 0)"):
        with np.errstate(all="raise"):
            got = compile_expression(text, SCOPE).run_value(data)
        assert isinstance(got, float) and math.isnan(got), text


def test_point_level_expressions_are_marked_and_split_into_partials() -> None:
    c = compile_expression(
        "mean(tilt[AAA], over=replicates) - share(tilt[BBB] > 0, over=replicates)", SCOPE
    )
    assert c.point and not c.boolean
    assert [p.func for p in c.partials] == ["mean", "share"]
    assert [p.boolean for p in c.partials] == [False, True]
    assert not compile_expression("mean(tilt)", SCOPE).point


# --------------------------------------------------------------------------- size limits


def _nest(opening: str, inner: str, closing: str, n: int) -> str:
    return opening * n + inner + closing * n


@pytest.mark.parametrize(
    ("text", "column"),
    [
        (_nest("(", "1", ")", 100), 51),
        (_nest("(", "1", ")", 51), 51),
        (_nest("-", "1", "", 1000), 51),
        (_nest("not ", "tilt[AAA] > 0", "", 1000), 201),
        (_nest("mean(", "tilt", ", over=states)", 60), 251),
        (_nest("at(", "1", ", end)", 400), 151),
        (_nest("(-", "1", ")", 30), 51),  # '(' and '-' alternate: each is a level
    ],
)
def test_deep_nesting_is_refused_at_the_limit(text: str, column: int) -> None:
    with pytest.raises(ExpressionError) as caught:
        compile_expression(text, SCOPE)
    assert caught.value.column == column, caught.value
    assert "nested too deeply: at most 50 levels" in caught.value.message


def _deep_call(frames: int, text: str) -> float | bool | None:
    """`value(text)` called from `frames` frames deep, as from a deep caller (a CLI, a pool)."""
    return _deep_call(frames - 1, text) if frames else value(text)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (_nest("(", "1", ")", 50), 1.0),
        (_nest("-", "1", "", 50), 1.0),
        (_nest("(-", "1", ")", 25), -1.0),
        (_nest("not ", "tilt[AAA] > 0", "", 49), False),
        (_nest("min(", _nest("(", "tilt + 1", ")", 49), ", over=states)", 1), 0.6),
    ],
)
def test_nesting_up_to_the_limit_works_even_from_a_deep_stack(text: str, expected: float) -> None:
    assert _deep_call(200, text) == pytest.approx(expected)


def test_a_long_sum_compiles_and_evaluates_without_recursing_per_term() -> None:
    assert value("1+" * 4999 + "1") == 5000.0  # 9,999 characters
    assert value("1 - " + "tilt[AAA] * 2 - " * 600 + "1") == pytest.approx(1 - 600 * 0.6 - 1)
    assert value(" and ".join(["tilt[AAA] > 0"] * 500)) is True
    assert value(" or ".join(["tilt[CCC] > 0"] * 500)) is False
    assert value("mean(" + " + ".join(["tilt"] * 1200) + ")") == pytest.approx(1200 * 0.4 / 3)


def test_a_long_chain_still_checks_every_operand() -> None:
    text = " and ".join(["tilt[AAA] > 0"] * 500) + " and 1"
    with pytest.raises(ExpressionError) as caught:
        compile_expression(text, SCOPE)
    assert caught.value.column == len(text) and "'and' needs true/false" in caught.value.message
    with pytest.raises(ExpressionError, match="value per state"):
        compile_expression("tilt[AAA] + " * 700 + "tilt", SCOPE)


def test_an_expression_longer_than_the_limit_is_refused() -> None:
    with pytest.raises(ExpressionError) as caught:
        compile_expression("1+" * 5000 + "1", SCOPE)
    assert caught.value.column == 10_001
    assert caught.value.message == (
        "the expression is 10001 characters long; at most 10000 are allowed"
    )


@pytest.mark.parametrize(
    ("text", "column"), [("1e309", 1), ("tilt[AAA] + 1e400", 13), ("-1E999 < 0", 2)]
)
def test_a_number_too_large_for_a_float_is_refused(text: str, column: int) -> None:
    with pytest.raises(ExpressionError) as caught:
        compile_expression(text, SCOPE)
    assert caught.value.column == column
    assert "is too large (a number must be below 1.8e308)" in caught.value.message


@pytest.mark.parametrize(
    "text",
    [
        "1e308 * 10",
        "-1e308 * 10",
        "1e308 + 1e308",
        "-1e308 - 1e308",
        "1 / 1e-320",
        "1e308 * 10 - 1e308 * 10",
        "mean(tilt * 0 + 1e308 * 1.5)",
        "max(tilt * 1e308 * 1e10)",
        "mean(tilt[AAA] * 1e308 * 10, over=replicates)",
    ],
)
def test_an_overflow_is_not_known_never_infinite(text: str) -> None:
    c = compile_expression(text, SCOPE)
    got: float | bool | None
    if c.point:
        with quiet():
            got = float(c.partials[0].fn(Env(data=RUN.data)))
    else:
        got = c.run_value(RUN.data)
    assert isinstance(got, float) and math.isnan(got), got


def test_a_comparison_with_an_overflow_is_unknown() -> None:
    assert value("1e308 * 10 > 0") is None
    assert value("1e308 * 10 > 0 or tilt[AAA] > 0") is True


# --------------------------------------------------------------------------- safety


def test_the_package_never_hands_text_to_python() -> None:
    folder = Path(str(sim.outcomes.__file__)).parent
    for path in folder.glob("*.py"):
        source = path.read_text(encoding="utf-8")
        assert not re.search(r"(?<![\w.])(eval|exec|compile|literal_eval|__import__)\(", source)
        assert "ast" not in imported_modules(path)
