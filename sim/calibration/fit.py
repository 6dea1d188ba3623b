"""Fitting the coercion rules to the share targets (issue 9, step 2).

The procedure (docs/calibration.md, "Fitting"): the parameters in `PARAMETERS` that the model
has (and that `--set` did not fix) are fitted within their bounds by minimising

    loss = sum over share targets with role `fit` of ((model - target) / tolerance)^2
         + sum over direction targets with role `fit` of (max(0, MARGIN - d) / MARGIN)^2

where d is the difference in the expected direction (A - B, or B - A for a negative sign) and
MARGIN = 5 pp: a direction costs nothing once its difference is clearly on the right side (at a
few thousand episodes a 5 pp difference has a 95% interval well clear of 0), and a growing
penalty as it shrinks toward 0 or turns,

with common random numbers: every evaluation runs the same episodes with the same seeds, so the
loss changes only through the parameters. The optimiser is scipy's bounded Nelder-Mead on the
unit cube (log scale for `log` parameters), started from the current values with a simplex
a fifth of each range wide (the loss is a step function of the parameters at a fixed seed; a
small simplex would stall on a flat step), and stopped after `max_evals` evaluations.
Parameters not fitted keep their documented estimates (MODEL.md).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np
from numpy.typing import NDArray

from sim.calibration.targets import Targets

if TYPE_CHECKING:
    from sim.calibration.episodes import Context
    from sim.calibration.harness import Results
    from sim.calibration.population import Episode
    from sim.calibration.scores import Score

MAX_EVALS = 40
"""Default evaluation budget of a fit."""
SIMPLEX_STEP = 0.2
"""Initial simplex edge, as a fraction of each parameter's (transformed) range."""
MISSING_PENALTY = 1e6
"""Loss of a target the model cannot compute (no episode in its denominator)."""


@dataclass(frozen=True)
class Parameter:
    """A fitted parameter: its `--set` path (without `rules.`), bounds and what it moves."""

    path: str
    low: float
    high: float
    log: bool
    moves: str
    """The target it mainly determines."""
    reason: str

    def value(self, u: float) -> float:
        """The value at position u in [0, 1] of the range."""
        u = min(max(u, 0.0), 1.0)
        if self.log:
            return math.exp(math.log(self.low) + u * math.log(self.high / self.low))
        return self.low + u * (self.high - self.low)

    def position(self, x: float) -> float:
        """Inverse of `value` (clipped to [0, 1])."""
        if self.log:
            u = math.log(x / self.low) / math.log(self.high / self.low)
        else:
            u = (x - self.low) / (self.high - self.low)
        return min(max(u, 0.0), 1.0)


PARAMETERS: tuple[Parameter, ...] = (
    Parameter(
        "threats.credibility",
        0.05,
        1.0,
        False,
        "ties_threats_never_imposed",
        "the sender imposes a defied threat with this probability: sets how many threats are "
        "never imposed",
    ),
    Parameter(
        "salience.scale",
        0.1,
        10.0,
        True,
        "ties_acquiescence_at_threat",
        "one factor on the four salience level values (population.yaml): moves the cost of "
        "complying against the cost of defying, hence acquiescence at the threat stage; the "
        "levels keep their ratios (and their order)",
    ),
    Parameter(
        "threats.reconsider_rate",
        0.5,
        12.0,
        True,
        "hse_success_among_imposed",
        "how often per year a target under an imposed measure decides again (its prior range in "
        "MODEL.md): sets success among imposed",
    ),
    Parameter(
        "threats.sharpness",
        1.5,
        6.0,
        True,
        "hse_success_among_imposed",
        "how decisively a cost ratio turns into compliance (prior 3, range in MODEL.md): with "
        "the cost certain after imposition, a steeper logit lets the heavier-hit targets give in",
    ),
)
"""What is fitted, in this order, with bounds (salience.scale: a harness factor, not a rule)."""


def available(parameters: Sequence[Parameter], fixed: Sequence[str] = ()) -> list[Parameter]:
    """The parameters the model has today and `--set` did not fix."""
    from sim.schema.parameters import check_rule_path

    out = []
    for p in parameters:
        if p.path in fixed:
            continue
        if p.path == "salience.scale" or not check_rule_path(p.path, (p.low + p.high) / 2):
            out.append(p)
    return out


DIRECTION_MARGIN = 0.05
"""Difference (share points) from which a direction target adds nothing to the loss."""


def loss(scores: Sequence[Score], targets: Targets) -> float:
    """Squared standardised misses of the share targets with role `fit`, plus a hinge penalty
    for each direction target with role `fit` whose difference falls short of the margin."""
    roles = {t.id: t.role for t in targets.targets}
    total = 0.0
    for s in scores:
        if roles.get(s.id) != "fit":
            continue
        if s.kind == "direction":
            d = s.value if s.sign == "positive" else -s.value
            short = max(0.0, DIRECTION_MARGIN - d) / DIRECTION_MARGIN
            total += short * short if math.isfinite(d) else MISSING_PENALTY
            continue
        if s.target is None or s.tolerance is None:
            continue
        miss = (s.value - s.target) / s.tolerance
        total += miss * miss if math.isfinite(miss) else MISSING_PENALTY
    return total


@dataclass
class FitOutcome:
    """The best values found, their loss, and every evaluation in order."""

    values: dict[str, float]
    loss: float
    evaluations: int
    history: list[tuple[dict[str, float], float]] = field(default_factory=list)


def minimise(
    objective: Callable[[dict[str, float]], float],
    parameters: Sequence[Parameter],
    start: dict[str, float],
    max_evals: int = MAX_EVALS,
    progress: Callable[[int], None] | None = None,
) -> FitOutcome:
    """Bounded Nelder-Mead over the parameters' unit cube; at most `max_evals` evaluations of
    `objective(values)` (repeated points are looked up, not re-run)."""
    from scipy.optimize import minimize

    cache: dict[tuple[float, ...], float] = {}
    history: list[tuple[dict[str, float], float]] = []

    def values_at(u: NDArray[np.float64]) -> dict[str, float]:
        return {p.path: p.value(float(x)) for p, x in zip(parameters, u, strict=True)}

    def f(u: NDArray[np.float64]) -> float:
        key = tuple(round(float(x), 9) for x in np.clip(u, 0.0, 1.0))
        if key not in cache:
            if len(cache) >= max_evals:
                return math.inf  # budget spent: scipy may still probe while stopping
            cache[key] = objective(values_at(np.asarray(key)))
            history.append((values_at(np.asarray(key)), cache[key]))
            if progress is not None:
                progress(len(cache))
        return cache[key]

    u0 = np.array([p.position(start[p.path]) for p in parameters])
    minimize(
        f,
        u0,
        method="Nelder-Mead",
        bounds=[(0.0, 1.0)] * len(parameters),
        options={
            "maxfev": max_evals,
            "initial_simplex": _simplex(u0),
            "xatol": 1e-3,
            "fatol": 1e-9,
        },
    )
    best_values, best = min(history, key=lambda h: h[1])
    return FitOutcome(best_values, best, len(history), history)


def _simplex(u0: NDArray[np.float64]) -> NDArray[np.float64]:
    """u0 and one point per axis, a step away, stepping inward at the upper bound."""
    points = [u0.copy()]
    for i in range(u0.size):
        p = u0.copy()
        p[i] = p[i] + SIMPLEX_STEP if p[i] + SIMPLEX_STEP <= 1.0 else p[i] - SIMPLEX_STEP
        points.append(p)
    return np.array(points)


def current_values(
    parameters: Sequence[Parameter], rules: object, salience_scale: float
) -> dict[str, float]:
    """Each parameter's value now: the rule's (default or overridden) or the salience scale."""
    out: dict[str, float] = {}
    for p in parameters:
        if p.path == "salience.scale":
            out[p.path] = salience_scale
            continue
        node = rules
        for part in p.path.split("."):
            node = getattr(node, part)
        out[p.path] = float(node)  # type: ignore[arg-type]
    return out


def fit_model(
    episodes: Sequence[Episode],
    context: Context,
    base: Context,
    targets: Targets,
    parameters: Sequence[Parameter],
    start: dict[str, float],
    *,
    seed: int,
    max_evals: int = MAX_EVALS,
    run: Callable[[Sequence[Episode], Context, int], Results] | None = None,
    progress: Callable[[int], None] | None = None,
) -> FitOutcome:
    """Fit `parameters` on `episodes` (same seed every evaluation); `base` is the context at
    salience scale 1, `run` runs episodes (default: `run_episodes` on one core)."""
    from sim.calibration.harness import run_episodes, with_values
    from sim.calibration.scores import score_targets

    runner = run or run_episodes

    def objective(values: dict[str, float]) -> float:
        results = runner(episodes, with_values(context, base, values), seed)
        return loss(score_targets(targets, episodes, results.outcomes, draws=0), targets)

    return minimise(objective, parameters, start, max_evals, progress)
