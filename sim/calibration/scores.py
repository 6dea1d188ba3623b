"""Scores: the model's value of every target with a bootstrap interval, and pass or fail.

Statistics are taken over scored episodes (`population.in_subset`). Intervals follow
targets.yaml's `interval_method`: percentile intervals of 2,000 bootstrap resamples that draw
episodes with replacement within each pair. A resample is drawn as multinomial counts of the
distinct (numerator, denominator) patterns within a pair, which is the same distribution as
resampling episodes and costs nothing per episode.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any, Literal

import numpy as np
from numpy.typing import NDArray

from sim.calibration.population import Episode, in_subset
from sim.calibration.targets import (
    IMPOSED,
    NEVER_IMPOSED,
    OUTCOMES,
    DirectionTarget,
    Outcome,
    ShareTarget,
    Statistic,
    Targets,
)

DRAWS = 2000
"""Bootstrap resamples (targets.yaml's interval rule)."""
SHARE_LEVEL = 0.95
"""Level of the interval shown for a share target (information: a share passes on its value)."""

Mask = NDArray[np.bool_]


@dataclass(frozen=True)
class Score:
    """A target against the model."""

    id: str
    kind: Literal["share", "direction"]
    role: str
    value: float
    """The model's share, or the difference share(A) - share(B)."""
    low: float
    high: float
    """Bootstrap interval of `value`."""
    passed: bool
    n: int
    """Episodes in the denominator (both groups for a direction)."""
    target: float | None = None
    """The published share (share targets)."""
    tolerance: float | None = None
    """Half-width of the accepted band, as a fraction (share targets)."""
    sign: str | None = None
    """Expected sign of the difference (direction targets)."""
    share_a: float | None = None
    share_b: float | None = None

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready (NaN becomes null)."""
        return {k: _plain(v) for k, v in asdict(self).items()}


def _plain(v: Any) -> Any:
    return None if isinstance(v, float) and v != v else v


def masks(
    stat: Statistic, episodes: Sequence[Episode], outcomes: NDArray[np.int8]
) -> tuple[Mask, Mask]:
    """(numerator, denominator) masks of a statistic over the episodes."""
    keep = np.array(in_subset(list(episodes), stat.subset), dtype=bool)
    num_codes = [OUTCOMES.index(o) for o in stat.numerator]
    den_codes = [OUTCOMES.index(o) for o in stat.denominator]
    return keep & np.isin(outcomes, num_codes), keep & np.isin(outcomes, den_codes)


def bootstrap_counts(
    columns: NDArray[np.bool_], groups: NDArray[np.intp], draws: int, seed: int
) -> NDArray[np.float64]:
    """Column sums of `draws` resamples of rows drawn with replacement within each group.

    columns: (episodes, columns) booleans; returns (draws, columns) counts.
    """
    rng = np.random.default_rng(seed)
    total = np.zeros((draws, columns.shape[1]))
    for g in np.unique(groups):
        rows = columns[groups == g]
        patterns, counts = np.unique(rows, axis=0, return_counts=True)
        n = int(counts.sum())
        sample = rng.multinomial(n, counts / n, size=draws)
        total += sample @ patterns.astype(float)
    return total


def _ratio(num: NDArray[np.float64], den: NDArray[np.float64]) -> NDArray[np.float64]:
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(den > 0, num / np.maximum(den, 1), np.nan)


def _interval(values: NDArray[np.float64], level: float) -> tuple[float, float]:
    finite = values[np.isfinite(values)]
    if finite.size == 0:
        return float("nan"), float("nan")
    tail = 100.0 * (1.0 - level) / 2.0
    lo, hi = np.percentile(finite, [tail, 100.0 - tail])
    return float(lo), float(hi)


def score_targets(
    targets: Targets,
    episodes: Sequence[Episode],
    outcomes: NDArray[np.int8],
    *,
    seed: int = 0,
    draws: int = DRAWS,
) -> list[Score]:
    """Every target of `targets` scored on these episodes' outcomes."""
    stats: list[Statistic] = []
    for t in targets.targets:
        stats += [t.statistic] if isinstance(t, ShareTarget) else [t.group_a, t.group_b]
    cols = [m for s in stats for m in masks(s, episodes, outcomes)]
    columns = np.column_stack(cols)
    pairs = {p: k for k, p in enumerate(dict.fromkeys(e.pair for e in episodes))}
    groups = np.array([pairs[e.pair] for e in episodes], dtype=np.intp)
    boot = bootstrap_counts(columns, groups, draws, seed)
    point = columns.sum(axis=0).astype(float)
    shares = _ratio(point[0::2], point[1::2])
    boot_shares = _ratio(boot[:, 0::2], boot[:, 1::2])
    out: list[Score] = []
    k = 0
    for t in targets.targets:
        if isinstance(t, ShareTarget):
            out.append(_share_score(t, shares[k], boot_shares[:, k], int(point[2 * k + 1])))
            k += 1
        else:
            n = int(point[2 * k + 1] + point[2 * k + 3])
            out.append(_direction_score(t, shares[k : k + 2], boot_shares[:, k : k + 2], n))
            k += 2
    return out


def _share_score(t: ShareTarget, value: float, boot: NDArray[np.float64], n: int) -> Score:
    tol = t.tolerance_pp / 100.0
    low, high = _interval(boot, SHARE_LEVEL)
    passed = bool(np.isfinite(value) and abs(value - t.value) <= tol + 1e-12)
    return Score(t.id, "share", t.role, float(value), low, high, passed, n, t.value, tol)


def _direction_score(
    t: DirectionTarget, shares: NDArray[np.float64], boot: NDArray[np.float64], n: int
) -> Score:
    diff = float(shares[0] - shares[1])
    low, high = _interval(boot[:, 0] - boot[:, 1], t.confidence)
    passed = bool(low > 0) if t.sign == "positive" else bool(high < 0)
    return Score(
        t.id,
        "direction",
        t.role,
        diff,
        low,
        high,
        passed,
        n,
        sign=t.sign,
        share_a=float(shares[0]),
        share_b=float(shares[1]),
    )


def base_rates(episodes: Sequence[Episode], outcomes: NDArray[np.int8]) -> dict[str, float]:
    """Shares of scored episodes ending in each outcome, never imposed, imposed, and success
    among imposed."""
    scored = np.array([e.scored for e in episodes], dtype=bool)
    o = outcomes[scored]
    n = max(int(o.size), 1)

    def share(names: Sequence[Outcome]) -> float:
        return float(np.isin(o, [OUTCOMES.index(x) for x in names]).sum() / n)

    rates: dict[str, float] = {name: share([name]) for name in OUTCOMES}
    rates["never_imposed"] = share(NEVER_IMPOSED)
    rates["imposed"] = share(IMPOSED)
    imposed = rates["imposed"]
    success = rates["complied_after_imposition"]
    rates["complied_after_imposition_among_imposed"] = success / imposed if imposed else np.nan
    return rates


def mechanism_shares(
    episodes: Sequence[Episode], mechanisms: dict[str, NDArray[np.bool_]]
) -> dict[str, float]:
    """Share of scored episodes in which each mechanism fired."""
    scored = np.array([e.scored for e in episodes], dtype=bool)
    n = max(int(scored.sum()), 1)
    return {name: float(flags[scored].sum() / n) for name, flags in mechanisms.items()}
