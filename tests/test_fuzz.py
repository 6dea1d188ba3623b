"""Fuzz the command line with mutated scenarios and `--set` values (issue 13, "Done when").

Each example mutates the text of the baseline scenario (sim/scenarios/latam_2025.yaml): a
value changed, a line deleted or duplicated, a key renamed, junk inserted, a line re-indented;
and adds up to two `--set` overrides. `geosim validate` and `geosim run -n 1 --no-plot` must
then exit 0 with finite results, or exit 2 with every error located (`file:line:col`, or
`--set PATH=VALUE:` for an override); never another status, a traceback or a hang. In-process
through click's test runner, plus a small sample as real processes.
"""

from __future__ import annotations

import re
import tempfile
from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest
from click.testing import CliRunner
from helpers import geosim_process, time_limit
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from sim.cli import main

REPO = Path(__file__).resolve().parents[1]
BASELINE = REPO / "sim" / "scenarios" / "latam_2025.yaml"
LINES = BASELINE.read_text(encoding="utf-8").splitlines()
CONTENT = [i for i, line in enumerate(LINES) if line.strip() and not line.lstrip().startswith("#")]
KEYED = [i for i in CONTENT if re.match(r"\s*[^\s#:][^#:]*:(\s|$)", LINES[i])]
TIME_LIMIT = 120
"""Seconds one command may take (a run of the baseline takes about 2): more is a hang."""

VALUES = [
    "0", "-1", "1", "0.5", "2", "1e20", "-1e308", "1e308", "1e-308", "123456789012345678901234",
    ".nan", ".inf", "-.inf", "null", "~", "true", "no", "NO", "''", '""', "abc", "[]", "{}",
    "[1, 2]", "{a: 1}", "2025-02-30", "2025-02-00", "2025-13", "2024-12", "2026-06", "0x10",
    "1_000", "\u0661\u0662", "\uff11\uff12", "&anchor 1", "*anchor", "!!binary aGk=",
    "!!python/object:os.system", "'unterminated", "[", "{", "- 1", "a: b: c", "\t1", "%",
    "@x", "`x`", "|", ">",
]  # fmt: skip
"""Scalars, containers, YAML oddities and malformed text, as written in YAML."""

JUNK = [
    "junk", "- item", "key: [", "]:", "? complex", "---", "...", "%YAML 1.1", "{", "\t: x",
    "<<: *base", "x: !!set {a}", "y: &a [*a]", "extends: /etc/passwd", "z: \x07", "  - - -",
]  # fmt: skip
"""Lines that may be inserted anywhere."""

KEYS = ["gdpp", "", "meta", "x y", "123", "-", "events", "type", "value", "source", "\u00e9"]

PATHS = [
    "rules.threats.credibility", "rules.threats.sharpness", "rules.alignment.coercion_backlash",
    "rules.alignment.weights.sphere", "time.start", "time.end", "time.seed", "meta.name",
    "states.BRA.gdp", "states.BRA.exports.CHN", "states.BOL.debt.CHN", "powers.USA.gdp",
    "powers.CHN.fdi_budget", "expect", "events", "states.XXX.gdp", "rules.threats.nope",
    "rules.threats.credibility.x", "", ".", "a..b", ".".join(["deep"] * 60),
]  # fmt: skip
"""Override paths: real ones, unknown ones, malformed ones."""


NUMBER = re.compile(r"(?<=[\s{\[,])-?\d+(\.\d+)?([eE][-+]?\d+)?(?=[\s,}\]]|$)")
"""A number written in YAML (not a date: `2025-01` is followed by `-`)."""
NUMERIC = [
    i
    for i in KEYED
    if re.match(r"\s*(-?\d|\{\s*value:|\[)", LINES[i].partition(":")[2])
    and NUMBER.search(LINES[i].partition(":")[2])
]
FACTORS = ["0", "-1", "1e-9", "0.5", "2", "1e3", "1e9", "1e300"]
"""Scale factors for a number: valid YAML, perhaps out of bounds or of float range."""

PLAUSIBLE = [
    "rules.threats.credibility=0.7", "rules.threats.sharpness=2", "states.BRA.gdp=1e12",
    "time.end=2026-06", "time.seed=7", "powers.USA.gdp=1e14", "states.BOL.debt.CHN=0",
]  # fmt: skip
"""Overrides that should be accepted, so runs happen often enough."""


@dataclass(frozen=True)
class Mutation:
    """One change to the baseline's lines."""

    kind: str
    line: int
    text: str = ""

    def apply(self, lines: list[str]) -> list[str]:
        i, old = self.line, lines[self.line] if self.line < len(lines) else ""
        indent = old[: len(old) - len(old.lstrip())]
        head, sep, _ = old.partition(":")
        if self.kind == "scale":
            old = NUMBER.sub(lambda m: f"{float(m[0]) * float(self.text):g}", old, count=1)
        edits = {
            "value": [f"{head}: {self.text}"] if sep else [old],
            "scale": [old],
            "key": [f"{indent}{self.text}:{old.partition(':')[2]}"] if sep else [old],
            "delete": [],
            "duplicate": [old, old],
            "insert": [self.text, old],
            "indent": [self.text + old],
        }
        return [*lines[:i], *edits[self.kind], *lines[i + 1 :]]


def mutations() -> st.SearchStrategy[Mutation]:
    keyed, content = st.sampled_from(KEYED), st.sampled_from(CONTENT)
    indents = st.sampled_from(["", "  ", "    ", "\t"])
    return st.one_of(
        st.builds(Mutation, st.just("value"), keyed, st.sampled_from(VALUES)),
        st.builds(Mutation, st.just("scale"), st.sampled_from(NUMERIC), st.sampled_from(FACTORS)),
        st.builds(Mutation, st.just("key"), keyed, st.sampled_from(KEYS)),
        st.builds(Mutation, st.just("delete"), content),
        st.builds(Mutation, st.just("duplicate"), content),
        st.builds(
            Mutation,
            st.just("insert"),
            content,
            st.tuples(indents, st.sampled_from(JUNK)).map("".join),
        ),
        st.builds(Mutation, st.just("indent"), content, st.sampled_from(["  ", " ", "\t"])),
    )


def overrides() -> st.SearchStrategy[list[str]]:
    one = st.one_of(
        st.sampled_from(PLAUSIBLE),
        st.tuples(st.sampled_from(PATHS), st.sampled_from(VALUES)).map("=".join),
        st.sampled_from(PATHS),  # no `=`
    )
    return st.one_of(st.just([]), st.lists(one, min_size=1, max_size=2))


@dataclass(frozen=True)
class Case:
    """A mutated scenario's text and the overrides given with it."""

    text: str
    sets: tuple[str, ...]
    changes: tuple[Mutation, ...]

    def args(self) -> list[str]:
        return [a for s in self.sets for a in ("--set", s)]


@st.composite
def cases(draw: st.DrawFn) -> Case:
    changes = draw(st.lists(mutations(), min_size=1, max_size=3))
    lines = list(LINES)
    for m in changes:
        lines = m.apply(lines)
    return Case("\n".join(lines) + "\n", tuple(draw(overrides())), tuple(changes))


# --------------------------------------------------------------------------- the verdict

LOCATED = re.compile(r"^error: (\S+:\d+:\d+: |--set .*?: )")


def check(code: int, output: str, case: Case, what: str) -> None:
    """Exit 0, or exit 2 with every error located; never a traceback."""
    context = f"{what} of {case.changes} --set {case.sets}:\n{output}"
    event(f"{what} exit {code}")  # the statistics show how the examples divide
    assert code in (0, 2), context
    assert "Traceback" not in output and "internal error" not in output, context
    if code == 2:
        errors = [line for line in output.splitlines() if line.startswith("error:")]
        assert errors, context
        unlocated = [line for line in errors if not LOCATED.match(line)]
        assert not unlocated, context


def check_finite(folder: Path, context: str) -> None:
    """Every number a run wrote is finite (nulls, the data's "not found", aside)."""
    for f in sorted(folder.glob("*.parquet")):
        table = pq.read_table(f)
        for name, column in zip(table.column_names, table.columns, strict=True):
            if pa.types.is_floating(column.type):
                bad = pc.any(pc.invert(pc.is_finite(column))).as_py()
                assert not bad, f"{f.name}:{name} not finite; {context}"


# --------------------------------------------------------------------------- the tests


@pytest.mark.slow
@settings(
    max_examples=150,
    deadline=None,
    derandomize=True,  # CI runs the same examples every time: a failure is a bug, not luck
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(cases())
def test_mutated_scenarios_and_overrides_exit_0_or_2_located(case: Case) -> None:
    with tempfile.TemporaryDirectory(prefix="geosim-fuzz-") as tmp:
        scenario = Path(tmp, "fuzzed.yaml")
        scenario.write_text(case.text, encoding="utf-8")
        runner = CliRunner()
        with time_limit(TIME_LIMIT):
            r = runner.invoke(main, ["validate", str(scenario), *case.args()])
        check(r.exit_code, r.output, case, "validate")
        out = Path(tmp, "out")
        args = ["run", str(scenario), "-n", "1", "--no-plot", "--out", str(out), "-q"]
        with time_limit(TIME_LIMIT):
            r = runner.invoke(main, [*args, *case.args()])
        check(r.exit_code, r.output, case, "run")
        if r.exit_code == 0:
            folder = Path(r.stdout.strip().splitlines()[-1])
            check_finite(folder, f"{case.changes} --set {case.sets}")


@pytest.mark.slow
@settings(
    max_examples=8,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(cases())
def test_a_sample_as_real_processes_exits_0_or_2_located(case: Case) -> None:
    with tempfile.TemporaryDirectory(prefix="geosim-fuzz-") as tmp:
        scenario = Path(tmp, "fuzzed.yaml")
        scenario.write_text(case.text, encoding="utf-8")
        commands = {
            "validate": ["validate", str(scenario)],
            "run": ["run", str(scenario), "-n", "1", "--no-plot", "--out", str(Path(tmp, "o"))],
        }
        for what, args in commands.items():
            context = f"(hung): {case.changes} --set {case.sets}"
            p = geosim_process(*args, *case.args(), timeout=TIME_LIMIT, context=context, cwd=REPO)
            check(p.returncode, p.stderr, case, what)
