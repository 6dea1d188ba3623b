"""The arithmetic of evaluated expressions, on float arrays where NaN means "not known".

Booleans are floats too (1 true, 0 false, NaN unknown), so they count as 0/1 in arithmetic and
a comparison with an unknown value is unknown rather than false. `and`/`or` follow three-valued
logic: false and unknown is false, true or unknown is true. Division by zero gives NaN, and so
does arithmetic whose result is too large for a float (overflow): no outcome is ever infinite.
Callers evaluate inside `quiet()`, so overflow or 0/0 never warns or raises.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
from numpy.typing import NDArray

F = NDArray[np.float64]
NAN = np.float64(np.nan)


def finite(x: F) -> F:
    """`x` with ±inf (an overflow: no input is infinite) as NaN, not known. Applied wherever a
    value is made, before anything compares or combines it: +inf would compare as true."""
    return np.where(np.isinf(x), np.nan, x)


def _arithmetic(op: Callable[[F, F], F]) -> Callable[[F, F], F]:
    def apply(a: F, b: F) -> F:
        return finite(op(a, b))

    return apply


def _divide(a: F, b: F) -> F:
    return finite(np.where(b == 0, np.nan, np.true_divide(a, b)))


def _compare(op: Callable[[F, F], NDArray[np.bool_]]) -> Callable[[F, F], F]:
    def apply(a: F, b: F) -> F:
        return np.where(np.isnan(a) | np.isnan(b), np.nan, op(a, b))

    return apply


def _and(a: F, b: F) -> F:
    return np.where((a == 0) | (b == 0), 0.0, a * b)


def _or(a: F, b: F) -> F:
    return np.where((a == 1) | (b == 1), 1.0, np.maximum(a, b))


BINARY: dict[str, Callable[[F, F], F]] = {
    "+": _arithmetic(np.add),
    "-": _arithmetic(np.subtract),
    "*": _arithmetic(np.multiply),
    "/": _divide,
    "<": _compare(np.less),
    "<=": _compare(np.less_equal),
    ">": _compare(np.greater),
    ">=": _compare(np.greater_equal),
    "==": _compare(np.equal),
    "!=": _compare(np.not_equal),
    "and": _and,
    "or": _or,
}
"""Binary operators by their spelling; operands broadcast (scalar with vector)."""


def quiet() -> np.errstate:
    """Floating-point errors neither warn nor raise (one context for a whole evaluation)."""
    return np.errstate(all="ignore")


def negate(a: F) -> F:
    """`-a`."""
    return np.negative(a)


def logical_not(a: F) -> F:
    """`not a` (unknown stays unknown)."""
    return 1.0 - a


def _known(values: F) -> F:
    return values[~np.isnan(values)]


def _mean(values: F) -> F:
    keep = _known(values)
    return finite(np.asarray(keep.mean() if keep.size else NAN))  # the sum may overflow


def _min(values: F) -> F:
    keep = _known(values)
    return np.asarray(keep.min() if keep.size else NAN)


def _max(values: F) -> F:
    keep = _known(values)
    return np.asarray(keep.max() if keep.size else NAN)


OVER_STATES: dict[str, Callable[[F], F]] = {
    "mean": _mean,
    "min": _min,
    "max": _max,
    "share": _mean,
}
"""Reductions of a per-state vector to one value, ignoring unknown values (all unknown: NaN)."""

OVER_REPLICATES = {"mean": "mean", "min": "min", "max": "max", "share": "mean"}
"""The pandas groupby reduction of each function across the replicates of a point."""


def as_value(x: F, boolean: bool) -> float | bool | None:
    """A scalar result as an outcome cell: a float (NaN if not known or not finite), or a
    boolean with None for unknown."""
    v = float(x)
    if not boolean:
        return v if math.isfinite(v) else math.nan
    return None if v != v else v != 0.0
