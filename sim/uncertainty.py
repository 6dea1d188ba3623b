"""Parameter uncertainty carried into every answer (`--propagate N`, issue 12).

Seed noise is not the whole uncertainty: the rules' estimates and a scenario's estimated inputs
are only known to a range. Propagation draws N Latin-hypercube points over every range at once
(the rule ranges of `sim.schema.ranges`, and each scenario estimate written with `low`/`high`),
runs K replicates at each point through the sweep machinery (same seeds, workers and backends
as `geosim sweep`), and reports for each expectation:

- its probability over all N x K runs, with a Wilson score interval (the runs are the trials);
- the joint probability that every expectation holds in the same run;
- the input that moves it most: partial rank correlation coefficients (PRCC) between the inputs
  and the point's share of runs showing the outcome, when N exceeds the number of inputs plus
  one (a regression on d inputs needs d + 2 points); with fewer points a partial correlation is
  undefined, so a grouped analysis ranks the groups of inputs (each rule section, and the
  scenario's own estimates) by the sum of their inputs' squared Spearman correlations less
  what chance gives (1/(N-1) each; for nearly independent inputs, as a Latin hypercube gives,
  the sum is about the share of the rank variance the group explains) and names the strongest
  input of the strongest group.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import numpy as np

from sim.design import Design, ParameterSpec
from sim.errors import GeosimError
from sim.estimates import drawn_as
from sim.loader import Key, dotted, get_path
from sim.schema.ranges import Range, rule_ranges

if TYPE_CHECKING:
    import pandas as pd

    from sim.sweep import Progress
    from sim.validation import LoadedScenario

Z95 = 1.959963984540054
"""The standard normal quantile of a two-sided 95% interval."""

SALIENCE_ORDER = tuple(
    f"rules.threats.salience_levels.{level}" for level in ("low", "medium", "high", "core")
)
"""Rule paths whose drawn values must keep this order (their ranges overlap at the ends)."""

INPUTS = "inputs"
"""The group of a scenario's own estimates (the rule groups are `rules.<section>`)."""


@dataclass(frozen=True)
class Dimension:
    """One uncertain input: a scenario path (`--set` syntax) and its range."""

    path: str
    low: float
    high: float
    distribution: Literal["uniform", "loguniform", "integer"]
    group: str
    basis: str

    def spec(self) -> ParameterSpec:
        """The input as a sampled sweep parameter."""
        return ParameterSpec(low=self.low, high=self.high, distribution=self.distribution)


def _set_by_file(tree_data: dict[str, Any], path: Key) -> bool:
    try:
        get_path(tree_data, path)
    except (KeyError, IndexError, TypeError):
        return False
    return True


def dimensions(loaded: LoadedScenario) -> tuple[list[Dimension], list[str]]:
    """Every ranged input of a scenario, and the rule paths left out because the scenario sets
    them itself (a value a scenario chooses is its own, not the default's range)."""
    dims: list[Dimension] = []
    skipped: list[str] = []
    for path, entry in rule_ranges().items():
        if not isinstance(entry, Range):
            continue
        if _set_by_file(loaded.tree.data, ("rules", *path.split("."))):
            skipped.append(f"rules.{path}")
            continue
        section = "rules." + path.split(".")[0]
        dims.append(
            Dimension(
                f"rules.{path}", entry.low, entry.high, entry.distribution, section, entry.basis
            )
        )
    dims += [_estimate(loaded, where, r) for where, r in loaded.ranges.items()]
    return dims, skipped


def _estimate(loaded: LoadedScenario, where: Key, r: dict[str, Any]) -> Dimension:
    """A scenario estimate's dimension. Validation (`sim.estimates.check_ranges`) has already
    refused every range that cannot be drawn, by the same `drawn_as` rule."""
    dist = drawn_as(loaded.scenario, where, r)
    low, high = float(r["low"]), float(r["high"])
    return Dimension(dotted(where), low, high, dist, INPUTS, f"estimate, source {r['source']}")


def propagation_design(
    dims: Sequence[Dimension], samples: int, per_point: int, seed: int
) -> Design:
    """A Latin-hypercube design over `dims`: `samples` points, `per_point` replicates each."""
    params = {d.path: d.spec() for d in dims}
    order = tuple(p for p in SALIENCE_ORDER if p in params)
    return Design(
        method="lhs",
        parameters=params,
        samples=samples,
        replicates=per_point,
        seed=seed,
        ordered=(order,) if len(order) > 1 else (),
    )


# --------------------------------------------------------------------------- statistics


def wilson(successes: int, trials: int, z: float = Z95) -> tuple[float, float]:
    """The Wilson score interval of a binomial proportion (NaN for no trials)."""
    if trials <= 0:
        return math.nan, math.nan
    p = successes / trials
    denom = 1.0 + z * z / trials
    centre = (p + z * z / (2 * trials)) / denom
    half = z * math.sqrt(p * (1 - p) / trials + z * z / (4 * trials * trials)) / denom
    # at 0 and n successes the ends are exactly 0 and 1 (rounding would leave 1e-17 off)
    low = 0.0 if successes == 0 else max(0.0, centre - half)
    high = 1.0 if successes == trials else min(1.0, centre + half)
    return low, high


def _ranks(a: np.ndarray) -> np.ndarray:
    from scipy.stats import rankdata

    return np.asarray(rankdata(a, axis=0), dtype=float)


def prcc(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Partial rank correlation of each column of `x` (points x inputs) with `y`, the others
    held fixed; needs more points than inputs + 1. NaN where an input or `y` does not vary."""
    n, d = x.shape
    if n < d + 2:
        raise ValueError(f"PRCC needs at least {d + 2} points for {d} inputs (got {n})")
    r = np.column_stack([_ranks(x), _ranks(y)])
    spread = r.std(axis=0)
    out = np.full(d, np.nan)
    if spread[-1] == 0:
        return out
    keep = np.flatnonzero(spread[:-1] > 0)
    z = (r[:, [*keep, d]] - r[:, [*keep, d]].mean(axis=0)) / spread[[*keep, d]]
    precision = np.linalg.pinv(np.corrcoef(z, rowvar=False))
    diag = np.sqrt(np.abs(np.diag(precision)))
    partial = -precision[:-1, -1] / (diag[:-1] * diag[-1])
    out[keep] = np.clip(partial, -1.0, 1.0)
    return out


def spearman(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Spearman correlation of each column of `x` with `y` (NaN where either is constant)."""
    rx, ry = _ranks(x), _ranks(y)
    rx, ry = rx - rx.mean(axis=0), ry - ry.mean()
    norm = np.sqrt((rx**2).sum(axis=0) * (ry**2).sum())
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(norm > 0, (rx * ry[:, None]).sum(axis=0) / norm, np.nan)


@dataclass(frozen=True)
class Driver:
    """The input that moves an outcome most, and how that was found."""

    path: str
    value: float
    method: str
    group: str = ""
    group_share: float = math.nan
    significant: bool = True
    """Whether the correlation differs from 0 at the 5% family-wise level (two-sided t test,
    Bonferroni over the inputs, since the driver is the strongest of them); with few points and
    many inputs the strongest correlation is often noise."""

    def text(self) -> str:
        """For tables: `rules.threats.credibility (PRCC +0.62)`."""
        if not self.path:
            return self.method
        noise = "" if self.significant else ", within noise"
        if self.method == "PRCC":
            return f"{self.path} (PRCC {self.value:+.2f}{noise})"
        return f"{self.path} (rho {self.value:+.2f}, grouped: {self.group}{noise})"


def significant(r: float, points: int, controls: int, tests: int = 1) -> bool:
    """Whether a (partial) correlation r over `points` with `controls` inputs held fixed differs
    from 0 at the 5% level over `tests` comparisons (Bonferroni): t = r sqrt((n - 2 - q) /
    (1 - r^2)) on n - 2 - q degrees of freedom against the 1 - 0.025 / tests quantile."""
    from scipy.stats import t as student

    dof = points - 2 - controls
    if dof < 1 or not math.isfinite(r):
        return False
    if abs(r) >= 1.0:
        return True
    stat = abs(r) * math.sqrt(dof / (1.0 - r * r))
    return bool(stat > float(student.ppf(1.0 - 0.025 / max(tests, 1), dof)))


def driver(x: np.ndarray, y: np.ndarray, dims: Sequence[Dimension]) -> Driver:
    """PRCC when there are enough points, else the grouped analysis (module docstring)."""
    if len(y) < 3 or np.all(y == y[0]):
        return Driver("", math.nan, "none (the outcome did not vary over the points)")
    if len(y) >= len(dims) + 2:
        coef = prcc(x, y)
        if np.all(np.isnan(coef)):
            return Driver("", math.nan, "none (no input varied)")
        k = int(np.nanargmax(np.abs(coef)))
        controls = int(np.count_nonzero(~np.isnan(coef))) - 1
        sig = significant(float(coef[k]), len(y), controls, tests=controls + 1)
        return Driver(dims[k].path, float(coef[k]), "PRCC", significant=sig)
    rho = spearman(x, y)
    chance = 1.0 / (len(y) - 1)  # E[rho^2] of an input with no effect, which large groups sum
    groups: dict[str, float] = {}
    for d, r in zip(dims, rho, strict=True):
        groups[d.group] = groups.get(d.group, 0.0) + (0.0 if np.isnan(r) else float(r * r) - chance)
    best = max(groups, key=lambda g: groups[g])
    members = [k for k, d in enumerate(dims) if d.group == best and not np.isnan(rho[k])]
    if not members:
        return Driver("", math.nan, "none (no input varied)")
    k = max(members, key=lambda i: abs(rho[i]))
    sig = significant(float(rho[k]), len(y), 0, tests=int(np.count_nonzero(~np.isnan(rho))))
    return Driver(dims[k].path, float(rho[k]), "grouped", best, groups[best], sig)


# --------------------------------------------------------------------------- summaries


@dataclass(frozen=True)
class Probability:
    """An outcome's probability over the propagated runs, with its Wilson interval."""

    name: str
    successes: int
    runs: int
    driver: Driver

    @property
    def p(self) -> float:
        return self.successes / self.runs if self.runs else math.nan

    @property
    def interval(self) -> tuple[float, float]:
        return wilson(self.successes, self.runs)


@dataclass(frozen=True)
class Propagation:
    """What a propagation found: each expectation, their joint probability, the design."""

    expectations: list[Probability]
    joint: Probability
    dims: list[Dimension]
    skipped: list[str]
    samples: int
    per_point: int
    failed: int
    folder: Path | None = None


def summarize(
    runs: pd.DataFrame,
    names: Sequence[str],
    dims: Sequence[Dimension],
    points: Sequence[dict[str, Any]],
) -> tuple[list[Probability], Probability, int]:
    """Each named expectation's probability and driver, the joint one, the failed-run count,
    from a propagation sweep's runs table (columns `point`, `status`, `expect.<name>`)."""
    ok = runs[runs["status"] == "ok"]
    failed = len(runs) - len(ok)
    x = np.array([[pt[d.path] for d in dims] for pt in points], dtype=float)
    cols = {n: ok[f"expect.{n}"].astype(bool).to_numpy() for n in names}
    joint_hits = np.logical_and.reduce(list(cols.values())) if cols else np.zeros(len(ok), bool)
    point_of = ok["point"].to_numpy()

    def one(name: str, hits: np.ndarray) -> Probability:
        sums = np.bincount(point_of, weights=hits.astype(float), minlength=len(points))
        counts = np.bincount(point_of, minlength=len(points))
        seen = counts > 0
        share = sums[seen] / counts[seen]
        return Probability(name, int(hits.sum()), len(hits), driver(x[seen], share, dims))

    probs = [one(n, cols[n]) for n in names]
    return probs, one("all expectations", joint_hits), failed


def propagate(
    loaded: LoadedScenario,
    samples: int,
    per_point: int,
    seed: int,
    root: Path,
    *,
    workers: int = 1,
    progress: Callable[[Progress], None] | None = None,
    timeseries: str = "none",
    command: list[str] | None = None,
) -> Propagation:
    """Run the propagation design as a sweep under `root` and summarize its expectations."""
    dims, skipped = dimensions(loaded)
    if not dims:
        raise GeosimError(_nothing_to_propagate(loaded, skipped))
    from sim.sweep import execute, plan

    design = propagation_design(dims, samples, per_point, seed)
    p = plan(loaded, design, timeseries=timeseries)
    done = execute(p, root, workers=workers, progress=progress, command=command)
    names = list(loaded.scenario.expect)
    probs, joint, failed = summarize(done.folder.runs(), names, dims, p.points)
    return Propagation(probs, joint, dims, skipped, samples, per_point, failed, done.folder.path)


def _nothing_to_propagate(loaded: LoadedScenario, skipped: Sequence[str]) -> str:
    """Why a scenario has no range to draw (a user's choice, not a bug: exit 2)."""
    rules = (
        f"the scenario sets every ranged rule itself ({len(skipped)} of them)"
        if skipped
        else "no rule parameter has a range"
    )
    where = loaded.files[0] if loaded.files else "the scenario"
    return (
        f"{where}: nothing to propagate: {rules}, and the scenario has no estimate with `low` "
        "and `high` (a number whose source is of kind `estimate`); leave a rule at its default "
        "or give an estimate a range"
    )
