"""Sweep designs: which parameter values to run (grid, Latin hypercube, Sobol, Morris).

A design is read from `--param PATH=SPEC` options or from a YAML design file, validated before
anything runs, and expanded into points (one mapping of scenario path -> value each). Samplers
come from `scipy.stats.qmc` (Latin hypercube) and SALib (Sobol/Saltelli, Morris), seeded from
the design's seed.
"""

from __future__ import annotations

import difflib
import hashlib
import itertools
import json
import math
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Literal

import numpy as np
from pydantic import Field, ValidationError, ValidationInfo, field_validator, model_validator

from sim.errors import GeosimError, Problem, ScenarioError
from sim.loader import FileKind, Tree, dotted, load_tree, parse_path, parse_value
from sim.scenario import Frozen
from sim.schema.base import yaml_repr
from sim.yaml_input import clip

if TYPE_CHECKING:
    from sim.outcomes import OutcomeSpec

Method = Literal["grid", "lhs", "sobol", "morris"]

MAX_INTEGER = 2**53
"""Integer ranges lie within +-2**53: beyond it a float (how `low` and `high` are held) cannot
name every integer."""
MAX_REPLICATES = 2**53
"""Replicates a design may ask for: far beyond any sweep that can finish, and small enough
that run ids (point x replicates + replicate) of a design that fits in memory stay int64."""
INT64 = 2**63
"""Integer values (design values, run ids) must fit the results tables' 64-bit integer
columns: they lie in [-INT64, INT64)."""


class ParameterSpec(Frozen):
    """One swept parameter: a list of values (grid) or a range (any method)."""

    values: list[Any] | None = None
    """Explicit values (grid designs)."""
    low: float | None = None
    """Lower end of the range."""
    high: float | None = None
    """Upper end of the range."""
    num: Annotated[int, Field(ge=1, le=10_000)] | None = None
    """Grid designs: number of evenly spaced values from low to high."""
    distribution: Literal["uniform", "loguniform", "integer"] = "uniform"
    """How sampled values spread over [low, high]."""

    @field_validator("values")
    @classmethod
    def _usable(cls, value: list[Any] | None) -> list[Any] | None:
        for i, v in enumerate(value or ()):
            why = _unusable(v)
            if why:
                raise ValueError(f"values[{i}] is {why}")
        return value

    @model_validator(mode="after")
    def _shape(self) -> ParameterSpec:
        if self.values is not None:
            if self.low is not None or self.high is not None:
                raise ValueError("give `values` or `low`/`high`, not both")
            if not self.values:
                raise ValueError("`values` is empty")
            return self
        if self.low is None or self.high is None:
            raise ValueError("give `values`, or both `low` and `high`")
        _check_range(self.low, self.high, self.distribution)
        if not self.low < self.high:
            raise ValueError(f"`low` ({self.low}) must be below `high` ({self.high})")
        if self.distribution == "loguniform" and self.low <= 0:
            raise ValueError("a loguniform range needs low > 0")
        if self.distribution == "integer" and math.ceil(self.low) > math.floor(self.high):
            raise ValueError(f"no integer lies in [{self.low}, {self.high}]")
        return self

    def grid_values(self) -> list[Any]:
        """Values of this parameter in a full grid."""
        if self.values is not None:
            return list(self.values)
        assert self.low is not None and self.high is not None
        n = self.num or 5
        if self.distribution == "loguniform":
            vals = np.geomspace(self.low, self.high, n)
        else:
            vals = np.linspace(self.low, self.high, n)
        if self.distribution == "integer":
            return sorted({int(np.rint(v)) for v in vals})
        # 12 significant digits: 0.1:0.9:5 and 0.1:0.9:9 then share the exact value 0.3 (not
        # 0.30000000000000004 in one and 0.3 in the other), so grown grids keep their seeds.
        return [float(f"{v:.12g}") for v in vals]

    def scale(self, u: np.ndarray) -> list[Any]:
        """Map unit-interval samples onto the range."""
        assert self.low is not None and self.high is not None
        if self.distribution == "loguniform":
            vals = np.exp(np.log(self.low) + u * (np.log(self.high) - np.log(self.low)))
            return [float(v) for v in vals]
        if self.distribution == "integer":
            # every integer in [low, high] gets an equal share of the unit interval (high too)
            lo, hi = math.ceil(self.low), math.floor(self.high)
            return [int(min(lo + math.floor(v * (hi - lo + 1)), hi)) for v in u]
        vals = self.low + u * (self.high - self.low)
        return [float(v) for v in vals]


def _unusable(value: Any) -> str:
    """Why a design value cannot be swept (empty if it can): NaN or an infinity, which no
    parameter takes and which never equals itself, or an integer too large for a table column."""
    if isinstance(value, float) and not math.isfinite(value):
        return f"{yaml_repr(value)}: a design value must be a finite number"
    if isinstance(value, int) and not isinstance(value, bool) and not -INT64 <= value < INT64:
        return f"an integer of {len(str(abs(value)))} digits: a design value must fit 64 bits"
    inner = value.values() if isinstance(value, dict) else value if isinstance(value, list) else ()
    return next((why for why in map(_unusable, inner) if why), "")


def _check_range(low: float, high: float, distribution: str) -> None:
    """`low` and `high` must be finite, and so must the width of the range; an integer range
    must lie where floats still name every integer."""
    for name, end in (("low", low), ("high", high)):
        if not math.isfinite(end):
            raise ValueError(f"`{name}` must be a finite number (got {yaml_repr(end)})")
    if not math.isfinite(high - low):
        raise ValueError(f"the range [{low:g}, {high:g}] is too wide to sample")
    if distribution == "integer" and max(abs(low), abs(high)) > MAX_INTEGER:
        raise ValueError(f"an integer range must lie within +-{MAX_INTEGER} (2**53)")


class Design(Frozen):
    """A sweep design: method, parameters, replicates, seed, outcomes of interest."""

    method: Method = "grid"
    """`grid` (every combination), `lhs` (Latin hypercube), `sobol` (Saltelli sample for Sobol
    indices), `morris` (trajectories for elementary effects)."""
    parameters: Annotated[dict[str, ParameterSpec], Field(min_length=1)]
    """Scenario paths (the `--set` syntax) and how to vary them."""
    samples: Annotated[int, Field(ge=1, le=1_000_000)] = 16
    """lhs: number of points; sobol: base sample N (points = N (D + 2)); morris: trajectories."""
    replicates: Annotated[int, Field(ge=1, le=MAX_REPLICATES)] = 1
    """Replicates per design point. Not limited in practice: a sweep writes its runs to disk as
    they finish, so more replicates need more time, not more memory (the bound keeps run ids
    64-bit integers)."""
    seed: Annotated[int, Field(ge=0)] = 0
    """Root seed: drives the sampler and every run's seed."""
    outcomes: tuple[str, ...] = ()
    """Outcomes of interest, used by `geosim sensitivity`: any column of the runs or points
    table, standard (`mean_tilt@end`, `tilt.BOL@2025-06`, ...) or custom. Checked against the
    scenario before a sweep runs."""
    outcome_dates: tuple[str, ...] = ()
    """Extra dates (`YYYY-MM`) at which every run's standard outcomes are also computed, as
    `<name>@<date>` columns (`--at`); `@end` is always computed."""
    custom_outcomes: dict[str, str] = Field(default_factory=dict)
    """Custom outcomes: column name -> expression (`--outcome NAME=EXPR`), e.g.
    `bol_leans_china: tilt[BOL] > 0`. One that reduces over replicates
    (`share(tilt[BOL] > 0, over=replicates)`) is a column of the points table."""
    morris_levels: Annotated[int, Field(ge=2, le=100, multiple_of=2)] = 4
    """Morris grid levels: an even number. SALib's Morris sampler takes jumps of
    p / (2 (p - 1)), which reach every level equally often only when p is even; on an odd p it
    warns that the sample may be biased."""
    ordered: tuple[tuple[str, ...], ...] = ()
    """Groups of sampled parameters whose values must increase in the order given (the salience
    levels, `low` to `core`): each point's values of a group are sorted into that order. Each
    parameter keeps the values its own range gave, so ranges that overlap only at their ends
    barely change; a sorted draw is never rejected, so the point count stays as asked."""

    # Field validators (not one model validator), so a design file's error points at the line
    # of `parameters` or `samples` rather than at the top of the file.
    @field_validator("parameters")
    @classmethod
    def _ranges(cls, value: dict[str, ParameterSpec], info: ValidationInfo) -> Any:
        method = info.data.get("method", "grid")
        for name, spec in value.items():
            if method != "grid" and spec.values is not None:
                raise ValueError(f"{name}: a {method} design needs `low`/`high`, not `values`")
        twice = repeated(value)  # both would set the value; the table would show only one
        if twice:
            later, earlier = twice[0]
            raise ValueError(f"{later!r} and {earlier!r} name the same parameter; give it once")
        return value

    @field_validator("ordered")
    @classmethod
    def _ordered(
        cls, value: tuple[tuple[str, ...], ...], info: ValidationInfo
    ) -> tuple[tuple[str, ...], ...]:
        names = info.data.get("parameters") or {}
        for group in value:
            missing = [n for n in group if n not in names]
            if missing:
                raise ValueError(f"`ordered` names parameters the design does not vary: {missing}")
            if info.data.get("method") == "grid":
                raise ValueError("`ordered` applies to sampled designs, not grids")
        return value

    @field_validator("outcome_dates")
    @classmethod
    def _dates(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        _outcome_spec(dates=value)  # YYYY-MM, a real month (the plan checks the horizon)
        return value

    @field_validator("custom_outcomes")
    @classmethod
    def _names(cls, value: dict[str, str]) -> dict[str, str]:
        _outcome_spec(custom=value)  # names that can be columns (expressions: the plan)
        return value

    @field_validator("samples")
    @classmethod
    def _power_of_two(cls, value: int, info: ValidationInfo) -> int:
        if info.data.get("method") == "sobol" and value & (value - 1):
            raise ValueError(f"a sobol design needs `samples` as a power of 2 (got {value})")
        return value

    def outcome_spec(self) -> OutcomeSpec:
        """The outcomes every run of the sweep computes besides the standard ones."""
        from sim.outcomes import OutcomeSpec

        return OutcomeSpec(dates=self.outcome_dates, custom=dict(self.custom_outcomes))

    def problem(self) -> dict[str, Any]:
        """SALib's problem definition (bounds in the unit cube; values are scaled by us)."""
        names = list(self.parameters)
        return {"num_vars": len(names), "names": names, "bounds": [[0.0, 1.0]] * len(names)}

    def unit_samples(self) -> np.ndarray:
        """Samples in the unit cube, one row per point (not for grids)."""
        d = len(self.parameters)
        if self.method == "lhs":
            from scipy.stats import qmc

            return np.asarray(qmc.LatinHypercube(d=d, seed=self.seed).random(self.samples))
        if self.method == "sobol":
            from SALib.sample import sobol

            return np.asarray(
                sobol.sample(self.problem(), self.samples, calc_second_order=False, seed=self.seed)
            )
        if self.method == "morris":
            from SALib.sample import morris

            return np.asarray(
                morris.sample(
                    self.problem(), self.samples, num_levels=self.morris_levels, seed=self.seed
                )
            )
        raise ValueError("grid designs have no unit samples")

    def point_count(self) -> int:
        """How many points `points` returns, without building them."""
        d = len(self.parameters)
        if self.method == "grid":
            return math.prod(len(spec.grid_values()) for spec in self.parameters.values())
        # SALib's Saltelli sample without second-order terms, and its Morris trajectories
        return {"lhs": self.samples, "sobol": self.samples * (d + 2)}.get(
            self.method, self.samples * (d + 1)
        )

    def points(self) -> list[dict[str, Any]]:
        """Every design point: a mapping from scenario path to value, in run order."""
        names = list(self.parameters)
        if self.method == "grid":
            axes = [self.parameters[n].grid_values() for n in names]
            return [dict(zip(names, combo, strict=True)) for combo in itertools.product(*axes)]
        u = self.unit_samples()
        columns = [self.parameters[n].scale(u[:, k]) for k, n in enumerate(names)]
        points = [dict(zip(names, row, strict=True)) for row in zip(*columns, strict=True)]
        for group in self.ordered:
            for point in points:
                point.update(zip(group, sorted(point[n] for n in group), strict=True))
        return points

    def fingerprint(self) -> str:
        """Stable hash of the design (what makes two sweeps the same sweep)."""
        text = json.dumps(self.model_dump(mode="json"), sort_keys=True)
        return hashlib.sha256(text.encode()).hexdigest()


def _outcome_spec(**fields: Any) -> OutcomeSpec:
    """An OutcomeSpec, its first problem as a plain ValueError (for a located design error)."""
    from sim.outcomes import OutcomeSpec

    try:
        return OutcomeSpec(**fields)
    except ValidationError as exc:
        raise ValueError(exc.errors()[0]["msg"].removeprefix("Value error, ")) from None


def canonical(name: str) -> str:
    """A parameter name as the path it sets: `' rules.x'` (as `--set` reads it) is `rules.x`."""
    try:
        return dotted(parse_path(name.strip()))
    except ValueError:  # not a path at all: the plan reports it against the scenario
        return name.strip()


def repeated(names: Iterable[str]) -> list[tuple[str, str]]:
    """(name, the name before it of the same parameter) for each parameter named twice."""
    first: dict[str, str] = {}
    out: list[tuple[str, str]] = []
    for name in names:
        key = canonical(name)
        if key in first:
            out.append((name, first[key]))
        else:
            first[key] = name
    return out


def point_key(point: dict[str, Any]) -> int:
    """A 63-bit key of a point's values: seeds derive from it, so they survive design growth."""
    text = json.dumps(point, sort_keys=True, default=str)
    return int.from_bytes(hashlib.sha256(text.encode()).digest()[:8], "big") >> 1


def run_seed(root: int, point: dict[str, Any], replicate: int) -> int:
    """Seed of one run: SeedSequence(root, spawn_key=(point key, replicate))."""
    ss = np.random.SeedSequence(root, spawn_key=(point_key(point), replicate))
    return int(ss.generate_state(1, dtype=np.uint64)[0])


def parse_param(option: str) -> tuple[str, ParameterSpec]:
    """`path=a:b:n` (n evenly spaced values) or `path=v1,v2,...` -> (path, spec)."""
    where = f"--param {clip(option, 200)}"
    if "=" not in option:
        raise ScenarioError([Problem(where, 0, 0, "", "expected PATH=a:b:n or PATH=v1,v2,...")])
    path, _, spec = option.partition("=")
    path = path.strip()
    try:
        parse_path(path)
    except ValueError as exc:
        raise ScenarioError([Problem(where, 0, 0, path, str(exc))]) from None
    spec = spec.strip()
    try:
        if spec.count(":") == 2 and "," not in spec:
            lo, hi, n = (parse_value(x, where) for x in spec.split(":"))
            if not all(isinstance(v, int | float) and not isinstance(v, bool) for v in (lo, hi)):
                raise ValueError("range ends must be numbers")
            if not isinstance(n, int) or isinstance(n, bool) or n < 1:
                raise ValueError(f"the count in a:b:n must be a positive integer (got {n!r})")
            if n == 1:
                return path, ParameterSpec(values=[lo])
            if isinstance(lo, int) and isinstance(hi, int) and (hi - lo) % (n - 1) == 0:
                # 6:18:3 -> 6, 12, 18 as integers, which integer fields (months) accept
                return path, ParameterSpec(low=lo, high=hi, num=n, distribution="integer")
            return path, ParameterSpec(low=float(lo), high=float(hi), num=n)
        values = [parse_value(x, where) for x in spec.split(",") if x.strip()]
        return path, ParameterSpec(values=values)
    except (ValueError, ValidationError) as exc:
        msg = exc.errors()[0]["msg"] if isinstance(exc, ValidationError) else str(exc)
        raise ScenarioError(
            [Problem(where, 0, 0, path, msg.removeprefix("Value error, "))]
        ) from None


def design_from_options(params: list[str], replicates: int, seed: int) -> Design:
    """A grid design from `--param` options."""
    specs: dict[str, ParameterSpec] = {}
    for option in params:
        path, spec = parse_param(option)
        if repeated([*specs, path]):  # the later one would silently replace the earlier one
            msg = "this path is already swept by an earlier --param"
            raise ScenarioError([Problem(f"--param {clip(option, 200)}", 0, 0, path, msg)])
        specs[path] = spec
    return Design(method="grid", parameters=specs, replicates=replicates, seed=seed)


def sweep_design(
    params: Sequence[str],
    design_file: Path | None,
    *,
    replicates: int | None = None,
    seed: int | None = None,
    default_seed: int = 0,
) -> tuple[Design, Tree | None]:
    """The design a sweep asks for: `--param` options (a grid) or a design file, not both; and
    the design file's tree (positions, for located errors), None for `--param`.

    `replicates` and `seed`, when given, replace the design file's; a `--param` grid has one
    replicate and `default_seed` (the scenario's `time.seed`) unless they are given.
    """
    if design_file is not None and params:
        raise GeosimError("give either --param options or --design, not both")
    if design_file is not None:
        design, tree = load_design(design_file)
        given = {"replicates": replicates, "seed": seed}
        return design.model_copy(update={k: v for k, v in given.items() if v is not None}), tree
    if params:
        seed = default_seed if seed is None else seed
        return design_from_options(list(params), replicates or 1, seed), None
    raise GeosimError("nothing to sweep: give --param PATH=a:b:n (repeatable) or --design")


def load_design(path: Path) -> tuple[Design, Tree]:
    """Read and validate a design file; errors carry file:line:column like scenarios."""
    tree = load_tree(path, kind=DESIGN)  # safe YAML, positions; `extends` works for designs too
    twice = _named_twice(tree)
    if twice:
        raise ScenarioError(twice)
    try:
        return Design.model_validate(tree.data), tree
    except ValidationError as exc:
        problems = []
        for err in exc.errors(include_url=False):
            loc = tuple(p for p in err["loc"] if isinstance(p, str | int))
            msg = err["msg"].removeprefix("Value error, ")
            if err["type"] == "extra_forbidden":
                fields = ParameterSpec.model_fields if len(loc) == 3 else Design.model_fields
                close = difflib.get_close_matches(str(loc[-1]), list(fields), n=1, cutoff=0.6)
                hint = f"; did you mean {close[0]!r}?" if close else ""
                msg = f"unknown field {loc[-1]!r}{hint} (expected one of: {', '.join(fields)})"
            elif err["type"] == "missing":
                msg = "required field is missing"
            problems.append(tree.problem(loc, msg))
        raise ScenarioError(problems) from None


def _named_twice(tree: Tree) -> list[Problem]:
    """A design file's parameters named twice (`rules.x` and `' rules.x'`), at the second."""
    params = tree.data.get("parameters")
    out = []
    for later, earlier in repeated(params if isinstance(params, dict) else ()):
        line = tree.position(("parameters", earlier)).line
        msg = f"{later!r} names the same parameter as {earlier!r} (line {line}); give it once"
        out.append(tree.problem(("parameters", later), msg))
    return out


DESIGN = FileKind(
    "design", frozenset({*Design.model_fields, "extends"}), "fields (method, parameters, ...)"
)
"""A design file: a mapping of Design's fields."""
