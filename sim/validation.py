"""Loading a scenario: files, `extends`, `--set`, the schema, then references between sections.

Every problem is reported at once, each at the line where it was written. Each event and
expectation type checks its own references (`check`); this module checks the world's.
"""

from __future__ import annotations

import functools
import typing
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError

from sim.errors import Problem, ScenarioError
from sim.estimates import check_ranges, sourced_ranges
from sim.loader import Key, Tree, apply_override, dotted, load_tree, unwrap_sources
from sim.problems import pydantic_problems, real_path
from sim.schema.base import TRADE_TO_GDP, SoftBound
from sim.schema.refs import Refs, unknown
from sim.schema.scenario import Scenario
from sim.schema.world import State


class LoadedScenario:
    """A validated scenario plus what it was made from: files, overrides, sources, positions,
    and the warnings about implausible values it was accepted with."""

    def __init__(self, scenario: Scenario, tree: Tree, sources: dict[Key, str]) -> None:
        self.scenario = scenario
        self.tree = tree
        self.sources = sources

    @functools.cached_property
    def warnings(self) -> list[Problem]:
        """Implausible values (outside a `sim.schema.base.SoftBound`, or trade out of scale with
        GDP), located as problems are. Found when first asked for: a sweep validates every
        design point and has no use for them."""
        return implausible(self.scenario, self.tree)

    @property
    def files(self) -> list[str]:
        """The file loaded first, then the files it extends."""
        return self.tree.files

    @property
    def overrides(self) -> list[dict[str, Any]]:
        """Applied `--set` overrides: path, old, new."""
        return self.tree.overrides

    @property
    def ranges(self) -> dict[Key, dict[str, Any]]:
        """The estimates that state a plausible range (checked at load), by path."""
        return sourced_ranges(self.tree)


def builtin_scenarios_dir() -> Path:
    """Folder of the scenarios shipped inside the package."""
    return Path(__file__).parent / "scenarios"


def resolve_scenario_path(name: str | Path) -> Path:
    """A path as given, or the name of a built-in scenario (`latam_2025`)."""
    path = Path(name)
    if _holds(path.exists):
        return path
    for candidate in (
        builtin_scenarios_dir() / path.name,
        builtin_scenarios_dir() / f"{path.name}.yaml",
    ):
        if _holds(candidate.is_file) and len(path.parts) == 1:
            return candidate
    return path  # reading it will say what is wrong with it


def _holds(test: Callable[[], bool]) -> bool:
    """A test of a path that the OS may refuse to answer (a name too long, a NUL in it)."""
    try:
        return test()
    except (OSError, ValueError):
        return False


def load_scenario(path: str | Path, overrides: Sequence[str] = ()) -> LoadedScenario:
    """Load, merge (`extends`), override (`--set`), validate and cross-check a scenario file."""
    tree = load_tree(resolve_scenario_path(path))
    for assignment in overrides:
        apply_override(tree, assignment, schema_default)
    return validate_tree(tree)


def schema_default(path: Key) -> tuple[bool, Any]:
    """The value the schema uses at `path` when a file leaves it out: (found, value as JSON).

    Walks the models' fields; a key of a mapping (`states.BOL`) has no default, so found is
    false there and below.
    """
    model: Any = Scenario
    for i, part in enumerate(path):
        fields = getattr(model, "model_fields", None)
        if fields is None or not isinstance(part, str) or part not in fields:
            return False, None
        info = fields[part]
        if i == len(path) - 1:
            if info.is_required():
                return False, None
            value = info.get_default(call_default_factory=True)
            dumped = value.model_dump(mode="json") if isinstance(value, BaseModel) else value
            return True, dumped
        model = info.annotation if isinstance(info.annotation, type) else None
    return False, None


def scenario_from_dict(data: dict[str, Any], name: str = "<dict>") -> LoadedScenario:
    """Validate a scenario given as plain Python data (for tests, notebooks, synthetic worlds)."""
    return validate_tree(Tree(data=data, files=[name]))


def validate_tree(tree: Tree) -> LoadedScenario:
    """Validate a merged tree against the schema and the cross-references; all errors at once."""
    plain, sources = unwrap_sources(tree)
    try:
        scenario = Scenario.model_validate(plain)
    except ValidationError as exc:
        problems = pydantic_problems(exc, tree, plain)
        raise ScenarioError(problems + _references_despite(exc, tree, plain, sources)) from None
    problems = cross_check(scenario, tree, sources)
    if problems:
        raise ScenarioError(problems)
    return LoadedScenario(scenario, tree, sources)


def _references_despite(
    exc: ValidationError, tree: Tree, plain: dict[str, Any], sources: dict[Key, str]
) -> list[Problem]:
    """Cross-reference problems elsewhere in a file whose schema errors are all in events or
    expectations: nothing refers to those entries, so they can be set aside and the rest checked.
    """
    broken: set[tuple[str, str]] = set()
    for err in exc.errors(include_url=False):
        path = real_path(plain, err["loc"])
        if len(path) < 2 or path[0] not in ("events", "expect"):
            return []  # a broken state, power or bloc would make every reference check noisy
        broken.add((str(path[0]), str(path[1])))
    rest = {k: (dict(v) if k in ("events", "expect") else v) for k, v in plain.items()}
    for section, key in broken:
        rest[section].pop(key, None)
    try:
        scenario = Scenario.model_validate(rest)
    except ValidationError:
        return []
    kept = {k: v for k, v in sources.items() if not (len(k) > 1 and (k[0], k[1]) in broken)}
    return cross_check(scenario, tree, kept)


def cross_check(s: Scenario, tree: Tree, sources: dict[Key, str]) -> list[Problem]:
    """References between sections, dates inside the horizon, sources that exist."""
    refs = Refs(
        tree=tree,
        calendar=s.time.calendar(),
        powers=set(s.powers),
        states=set(s.states),
        blocs=set(s.blocs),
        policies={code: set(st.policies) for code, st in s.states.items()},
        created={o[2] for ev in s.events.values() for o in ev.sets() if o[0] == "policy"},
        sources=set(s.meta.sources),
        rules=s.rules,
    )
    _check_states(s, refs)
    _check_blocs(s, refs)
    _check_rules(s, refs)
    _check_policies(s, refs)
    for eid, ev in s.events.items():
        ev.check(refs, ("events", eid))
    for xid, ex in s.expect.items():
        ex.check(refs, ("expect", xid))
    _check_sources(s, refs, sources)
    check_ranges(s, refs, tree)
    _check_primary(s, refs)
    return refs.problems


def _check_states(s: Scenario, refs: Refs) -> None:
    for code in sorted(refs.powers & refs.states):
        refs.bad(("states", code), f"{code!r} is both a power and a state")
    for code, st in s.states.items():
        for section in ("exports", "imports", "debt", "fdi"):
            for p in getattr(st, section):
                refs.power(p, ("states", code, section, p))
        for b in st.bloc_salience:
            refs.bloc(b, ("states", code, "bloc_salience", b))
        for p in st.alignment or {}:
            refs.power(p, ("states", code, "alignment", p))
        _check_orientation(code, st, refs)
        _check_totals(code, st, refs)
        for i, n in enumerate(st.neighbours):
            refs.state(n, ("states", code, "neighbours", i))
            if n == code:
                refs.bad(("states", code, "neighbours", i), "a state cannot be its own neighbour")


def _check_orientation(code: str, st: State, refs: Refs) -> None:
    """Spheres, lasting orientation and missing relations name powers."""
    if isinstance(st.sphere, dict):
        for p in st.sphere:
            refs.power(p, ("states", code, "sphere", p))
    else:
        refs.power(st.sphere, ("states", code, "sphere"))
    for p in st.orientation:
        refs.power(p, ("states", code, "orientation", p))
    for k, p in enumerate(st.no_relations):
        refs.power(p, ("states", code, "no_relations", k))
    for k, b in enumerate(st.stays_out):
        refs.bloc(b, ("states", code, "stays_out", k))


def _check_totals(code: str, st: State, refs: Refs) -> None:
    """A total must cover the flows with the powers: the rest of the world cannot be negative."""
    for flow in ("exports", "imports"):
        total = getattr(st, f"{flow}_total")
        known = sum(v for v in getattr(st, flow).values() if v is not None)
        if total is not None and known > total * (1 + 1e-9):
            refs.bad(
                ("states", code, f"{flow}_total"),
                f"{flow} with the powers add up to {known:.6g}, more than the total {total:.6g}; "
                "the total must include them (check that both use the same year and basis)",
            )


def _check_blocs(s: Scenario, refs: Refs) -> None:
    actors = refs.powers | refs.states
    for b, bloc in s.blocs.items():
        refs.power(bloc.leader, ("blocs", b, "leader"))
        seen: set[str] = set()
        for role in ("members", "partners"):
            for i, m in enumerate(getattr(bloc, role)):
                refs.need("state or power", m, actors, ("blocs", b, role, i))
                if m in seen:
                    refs.bad(("blocs", b, role, i), f"{m!r} is listed twice in bloc {b}")
                seen.add(m)


def _check_rules(s: Scenario, refs: Refs) -> None:
    tp = s.rules.alignment.tilt_powers
    for i, p in enumerate(tp):
        refs.power(p, ("rules", "alignment", "tilt_powers", i))
    if tp[0] == tp[1]:
        refs.bad(("rules", "alignment", "tilt_powers"), "the two tilt powers must differ")


def _check_policies(s: Scenario, refs: Refs) -> None:
    for pcode, power in s.powers.items():
        for name, pol in power.policies.items():
            base: Key = ("powers", pcode, "policies", name)
            refs.bloc(pol.scope_bloc, (*base, "scope_bloc"))
            for i, st_code in enumerate(pol.scope_states or []):
                refs.state(st_code, (*base, "scope_states", i))
            refs.bloc(pol.demand.leave_bloc, (*base, "demand", "leave_bloc"))
            refs.any_policy(pol.demand.policy, (*base, "demand", "policy"))
            refs.date(pol.start, (*base, "start"))
            refs.date(pol.end, (*base, "end"))


def _check_sources(s: Scenario, refs: Refs, sources: dict[Key, str]) -> None:
    for path, src in sorted(sources.items(), key=lambda kv: dotted(kv[0])):
        if src not in s.meta.sources:
            if s.meta.sources:
                refs.bad(path, unknown("source", src, s.meta.sources))
            else:
                refs.bad(path, f"cites source {src!r}, but meta.sources is empty")


def _check_primary(s: Scenario, refs: Refs) -> None:
    """At most one expectation is the primary outcome (the one a backtest scores)."""
    primary = [xid for xid, ex in s.expect.items() if ex.primary]
    for xid in primary:
        try:
            discrete = s.expect[xid].status_quo(s) is not None
        except KeyError:  # an unknown state, bloc or policy: already reported as such
            continue
        if not discrete:
            refs.bad(
                ("expect", xid, "primary"),
                f"a {s.expect[xid].type} expectation cannot be primary: a backtest scores a "
                "discrete outcome (membership, policy, tariff or threat_outcome)",
            )
    for xid in primary[1:]:
        refs.bad(
            ("expect", xid, "primary"),
            f"only one expectation can be primary; {primary[0]!r} already is",
        )


# --------------------------------------------------------------------------- soft bounds


def implausible(s: Scenario, tree: Tree) -> list[Problem]:
    """Warnings: values outside their type's soft bound, and trade out of scale with GDP."""
    found = [tree.problem(path, why) for path, why in soft_problems(s, ())]
    found += [tree.problem(path, why) for path, why in _trade_scale(s)]
    return sorted(found, key=lambda p: (p.file, p.line, p.column, p.path))


def soft_problems(model: BaseModel, path: Key) -> Iterator[tuple[Key, str]]:
    """(path, why) for every number in `model` outside the soft bound its field's type declares
    (`sim.schema.base.SoftBound` in the type's metadata), nested models and mappings included."""
    for name, info in type(model).model_fields.items():
        own = [m for m in info.metadata if isinstance(m, SoftBound)]
        yield from _soft(getattr(model, name), info.annotation, own, (*path, name))


def _soft(value: Any, ann: Any, own: list[SoftBound], path: Key) -> Iterator[tuple[Key, str]]:
    if isinstance(value, BaseModel):
        yield from soft_problems(value, path)
    elif isinstance(value, int | float) and not isinstance(value, bool):
        for bound in [*own, *_bounds_in(ann)]:
            why = bound.problem(value)
            if why is not None:
                yield path, why
    elif isinstance(value, dict):
        inner = _container_args(ann, dict)
        for k, v in value.items():
            yield from _soft(v, inner[1] if len(inner) == 2 else None, [], (*path, k))
    elif isinstance(value, list | tuple):
        inner = _container_args(ann, list) or _container_args(ann, tuple)
        for i, v in enumerate(value):
            yield from _soft(v, inner[0] if len(inner) == 1 else None, [], (*path, i))


def _members(ann: Any) -> list[Any]:
    """The members of a union annotation (the annotation itself if it is not one)."""
    if typing.get_origin(ann) in (typing.Union, type(int | None)):
        return list(typing.get_args(ann))
    return [ann]


def _bounds_in(ann: Any) -> list[SoftBound]:
    """Soft bounds declared by an annotation or by any member of a union."""
    found: list[SoftBound] = []
    for member in _members(ann):
        if typing.get_origin(member) is typing.Annotated:
            found += [m for m in member.__metadata__ if isinstance(m, SoftBound)]
    return found


def _container_args(ann: Any, origin: type) -> tuple[Any, ...]:
    """The type arguments of the `origin` (dict, list, tuple) member of an annotation."""
    for member in _members(ann):
        base = (
            typing.get_args(member)[0] if typing.get_origin(member) is typing.Annotated else member
        )
        if typing.get_origin(base) is origin:
            return tuple(a for a in typing.get_args(base) if a is not Ellipsis)
    return ()


def _trade_scale(s: Scenario) -> Iterator[tuple[Key, str]]:
    """Goods exports or imports many times a state's GDP: most often a unit slip."""
    for code, st in s.states.items():
        for flow in ("exports", "imports"):
            total = getattr(st, f"{flow}_total")
            known = sum(v for v in getattr(st, flow).values() if v is not None)
            value, field = (known, flow) if total is None else (total, f"{flow}_total")
            if value > TRADE_TO_GDP * st.gdp:
                yield (
                    ("states", code, field),
                    f"{flow} of {value:.3g} US$ are {value / st.gdp:.3g} times GDP "
                    f"({st.gdp:.3g}): implausibly large, above {TRADE_TO_GDP:g} times (the "
                    "entrepots, Hong Kong and Singapore, trade 1 to 1.8 times GDP); check that "
                    "GDP and flows are in the same unit (full US$) and year",
                )
