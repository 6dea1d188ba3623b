"""Malformed scenarios (tests/bad/) are refused with located, readable errors and exit status 2.

Every file in tests/bad/ (except `_valid_minimal.yaml`, which must load) is the minimal valid
scenario with one thing broken (two files have several problems, to show that all are reported
at once). `CASES` says, for each file, which problems must be reported: line, field path and
what the message must say. The library is tested on every file; the CLI in-process (Click's
CliRunner) on every file, and through a real subprocess on a representative subset.
"""

from __future__ import annotations

import re
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from sim.cli import main
from sim.errors import Problem, ScenarioError
from sim.scenario import load_scenario, scenario_from_dict

BAD = Path(__file__).parent / "bad"
VALID = BAD / "_valid_minimal.yaml"
CORPUS = sorted(p.name for p in BAD.glob("*.yaml") if not p.name.startswith("_"))

MARKER = Path("/tmp/PWNED-geosim-apply")
"""The file `python_object_apply.yaml` would create if its tag were ever constructed."""

NOISE = re.compile(
    r"Traceback|PosixPath\(|WindowsPath\(| object at 0x|<class |\binstance of\b"
    r"|\bNone\b|\bTrue\b|\bFalse\b|ScenarioError\(|Problem\(|tag:yaml\.org|ruamel|pydantic"
    r"|errors\.pydantic\.dev|\[type="
)
"""Python internals that must never reach the user (reprs, tracebacks, library names)."""


@dataclass(frozen=True)
class Want:
    """One expected problem: line (0 = the file as a whole), field path, message fragments."""

    line: int
    path: str
    says: tuple[str, ...]
    file: str | None = None
    """Name of the file the problem is in, if not the one loaded (`extends` chains)."""
    column: int | None = None


UNKNOWN_STATE = ("unknown state 'PNA'", "did you mean 'PAN'?", "valid: BOL, PAN")
UNKNOWN_POWER = ("unknown power 'RUS'", "did you mean 'USA'?", "valid: CHN, USA")
ANCHORS = ("anchors and aliases are not supported", "extends")

CASES: dict[str, list[Want]] = {
    "wrong_type_string_gdp.yaml": [
        Want(19, "states.PAN.gdp", ("valid number", "got 'eighty billion'"), column=10)
    ],
    "share_out_of_range.yaml": [
        Want(24, "rules.threats.credibility", ("less than or equal to 1", "got 1.5"), column=18)
    ],
    "unknown_field_typo.yaml": [
        Want(16, "states.BOL.exprots", ("unknown field 'exprots'", "did you mean 'exports'?"))
    ],
    "unknown_state_in_event.yaml": [Want(30, "events.canal.target", UNKNOWN_STATE, column=13)],
    "unknown_bloc.yaml": [
        Want(37, "expect.pan_leaves.bloc", ("unknown bloc 'BRICS'", "did you mean 'BRI'?"))
    ],
    "unknown_bloc_leader.yaml": [Want(21, "blocs.BRI.leader", UNKNOWN_POWER)],
    "event_date_outside_horizon.yaml": [
        Want(28, "events.canal.date", ("2026-03", "outside the horizon 2025-01..2025-12"))
    ],
    "expect_date_outside_horizon.yaml": [
        Want(39, "expect.pan_leaves.by", ("2024-06", "outside the horizon 2025-01..2025-12"))
    ],
    # a missing section or field points at the mapping that should hold it
    "missing_states_section.yaml": [Want(2, "states", ("required field is missing",))],
    "missing_gdp.yaml": [Want(17, "states.PAN.gdp", ("required field is missing",), column=3)],
    "duplicate_key.yaml": [
        Want(19, "states.PAN.name", ("duplicate key 'name'", "first at line 18"), column=5)
    ],
    "threat_without_stake.yaml": [
        Want(26, "events.canal", ("give at least one stake", "`tariff` (a rate)", "`stake`"))
    ],
    "unknown_source.yaml": [Want(15, "states.BOL.gdp", ("unknown source 'imf'", "valid: est"))],
    "tilt_powers_unknown.yaml": [Want(26, "rules.alignment.tilt_powers[1]", UNKNOWN_POWER)],
    "extends_missing_file.yaml": [
        Want(2, "extends", ("no_such_parent.yaml", "is not a file"), column=10)
    ],
    "circular_extends_a.yaml": [
        Want(
            2,
            "extends",
            ("circular extends: circular_extends_a.yaml -> circular_extends_b.yaml -> circ",),
            file="circular_extends_b.yaml",
        )
    ],
    "circular_extends_b.yaml": [
        Want(
            2,
            "extends",
            ("circular extends: circular_extends_b.yaml -> circular_extends_a.yaml -> circ",),
            file="circular_extends_a.yaml",
        )
    ],
    "empty.yaml": [Want(1, "", ("empty", "expected a mapping"))],
    "only_comment.yaml": [Want(1, "", ("empty", "expected a mapping"))],
    # the parser stops at 17:6; the message names where the flow mapping began
    "not_yaml_unbalanced.yaml": [
        Want(17, "", ("not valid YAML", "expected ',' or '}'", "flow mapping at line 16"))
    ],
    "not_yaml_tab_indent.yaml": [
        Want(18, "", ("not valid YAML", "use spaces, not tabs"), column=1)
    ],
    "top_level_list.yaml": [Want(2, "", ("expected a mapping of sections", "got a list"))],
    "alias_bomb.yaml": [
        Want(n, c, ANCHORS, column=4) for n, c in zip(range(2, 11), "abcdefghi", strict=True)
    ],
    "python_object_apply.yaml": [
        Want(3, "meta.name", ("tag !!python/object/apply:os.system is not allowed",))
    ],
    "python_name.yaml": [
        Want(4, "meta.description", ("tag !!python/name:os.system is not allowed",))
    ],
    "binary_not_utf8.yaml": [Want(1, "", ("not UTF-8", "byte 1 is 0x8b"), column=2)],
    "latin1_not_utf8.yaml": [Want(4, "", ("not UTF-8", "0xed"), column=19)],
    "several_schema_problems.yaml": [
        Want(10, "powers.USA.gdp", ("greater than or equal to 1000000", "got -5")),
        Want(16, "states.BOL.exprots", ("did you mean 'exports'?",)),
        Want(24, "rules.threats.credibility", ("less than or equal to 1",)),
        Want(39, "expect.pan_leaves.by", ("expected a date as YYYY-MM", "got 'June 2025'")),
    ],
    # references are checked once the schema passes; then every bad one is reported
    "several_reference_problems.yaml": [
        Want(15, "states.BOL.gdp", ("unknown source 'imf'",)),
        Want(21, "blocs.BRI.leader", UNKNOWN_POWER),
        Want(30, "events.canal.target", UNKNOWN_STATE),
        Want(39, "expect.pan_leaves.by", ("2030-01", "outside the horizon")),
    ],
}


def _where(name: str) -> str:
    """`file:line` as the first problem of `name` must print it."""
    want = CASES[name][0]
    file = want.file or name
    return f"{file}:{want.line}:" if want.line else f"{file}: "


def _no_noise(text: str) -> None:
    found = NOISE.search(text)
    assert found is None, f"internal noise {found.group()!r} in output:\n{text}"


def _empty(folder: Path) -> bool:
    return not folder.exists() or not any(folder.iterdir())


@pytest.fixture(autouse=True)
def _no_stale_marker() -> None:
    """The python-tag marker must not exist before a test (else its absence proves nothing)."""
    MARKER.unlink(missing_ok=True)


# --------------------------------------------------------------------------- the corpus itself


def test_minimal_valid_scenario_loads() -> None:
    loaded = load_scenario(VALID)
    s = loaded.scenario
    assert set(s.states) == {"BOL", "PAN"} and set(s.powers) == {"USA", "CHN"}
    assert loaded.sources == {("states", "BOL", "gdp"): "est"}


def test_every_bad_file_has_expectations() -> None:
    assert set(CORPUS) == set(CASES), "add the new tests/bad file to CASES (or remove the entry)"


def test_bad_files_are_small_and_differ_from_the_valid_one_in_few_lines() -> None:
    valid = VALID.read_text().splitlines()
    for name in CORPUS:
        raw = (BAD / name).read_bytes()
        assert len(raw) < 3000, name
        if b"est: {title: test figures" in raw:  # derived from _valid_minimal.yaml
            lines = raw.decode().splitlines()
            changed = len(set(lines) - set(valid)) + len(set(valid) - set(lines))
            assert changed <= 12, (name, changed)


# --------------------------------------------------------------------------- library level


def _sorted(problems: list[Problem]) -> list[Problem]:
    return sorted(problems, key=lambda p: (p.line, p.path))


@pytest.mark.parametrize("name", CORPUS)
def test_library_reports_located_problems(name: str) -> None:
    with pytest.raises(ScenarioError) as info:
        load_scenario(BAD / name)
    got = _sorted(info.value.problems)
    wanted = sorted(CASES[name], key=lambda w: (w.line, w.path))
    assert len(got) == len(wanted), "\n".join(map(str, got))
    for problem, want in zip(got, wanted, strict=True):
        assert Path(problem.file).name == (want.file or name), problem
        assert problem.line == want.line, problem
        if want.column is not None:
            assert problem.column == want.column, problem
        assert problem.path == want.path, problem
        for fragment in want.says:
            assert fragment in problem.message, problem
        _no_noise(problem.message)
    text = str(info.value)
    assert _where(name) in text
    assert len(text.splitlines()) == len(wanted)


def test_python_tags_are_never_constructed() -> None:
    for name in ("python_object_apply.yaml", "python_name.yaml"):
        with pytest.raises(ScenarioError):
            load_scenario(BAD / name)
    assert not MARKER.exists()


def test_directory_instead_of_file(tmp_path: Path) -> None:
    folder = tmp_path / "scenario.yaml"
    folder.mkdir()
    with pytest.raises(ScenarioError) as info:
        load_scenario(folder)
    [problem] = info.value.problems
    assert problem.file == str(folder)
    assert (problem.line, problem.path) == (0, "")
    assert "is a directory; expected a scenario file" in problem.message


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ScenarioError) as info:
        load_scenario(tmp_path / "nowhere.yaml")
    assert "no such file" in str(info.value)


def test_extends_error_is_reported_in_the_file_that_has_it(tmp_path: Path) -> None:
    """A problem inside an extended file points at that file, not at the child."""
    (tmp_path / "base.yaml").write_text(VALID.read_text().replace("gdp: 8.3e10", "gdp: lots"))
    (tmp_path / "child.yaml").write_text("extends: base.yaml\nmeta: {name: child}\n")
    with pytest.raises(ScenarioError) as info:
        load_scenario(tmp_path / "child.yaml")
    [problem] = info.value.problems
    assert (Path(problem.file).name, problem.line, problem.path) == (
        "base.yaml",
        19,
        "states.PAN.gdp",
    )


# --------------------------------------------------------------------------- schema messages


def _event(**fields: Any) -> Callable[[dict[str, Any]], None]:
    return lambda d: d["events"].update(x={"date": "2025-03", **fields})


SCHEMA_MESSAGES: list[tuple[str, Callable[[dict[str, Any]], None], str, str]] = [
    # a missing field whose name is also an event/expect type is still named
    (
        "policy_change without policy",
        _event(type="policy_change", state="BRA", active=True),
        "events.x.policy",
        "required field is missing",
    ),
    (
        "policy expectation without policy",
        lambda d: d["expect"].update(
            x={"type": "policy", "by": "2025-03", "state": "BRA", "active": True}
        ),
        "expect.x.policy",
        "required field is missing",
    ),
    # "did you mean" uses the fields of the entry's own type, not of the first type
    (
        "engagement typo",
        lambda d: d["events"]["wang"].update(intensty=2),
        "events.wang.intensty",
        "did you mean 'intensity'? (expected one of: date, intensity, label, power, states, type)",
    ),
    (
        "unknown event type",
        _event(type="thret"),
        "events.x.type",
        "unknown type 'thret'; did you mean 'threat'?",
    ),
    (
        "event without type",
        _event(sender="USA"),
        "events.x.type",
        "required field is missing",
    ),
    ("null state", lambda d: d["states"].update(BRA=None), "states.BRA", "expected a mapping"),
    ("states as a list", lambda d: d.update(states=["BRA"]), "states", "got a list"),
    (
        "null where text is expected",
        lambda d: d["time"].update(start=None),
        "time.start",
        "(got null)",
    ),
    (
        "infinite GDP",
        lambda d: d["powers"]["USA"].update(gdp=float("inf")),
        "powers.USA.gdp",
        "finite number (got .inf)",
    ),
    (
        "bad state code",
        lambda d: d["states"].update({"1AB": d["states"].pop("PAN")}),
        "states.1AB",
        "invalid code '1AB'",
    ),
    (
        "rule_change value of neither type",
        _event(type="rule_change", path="threats.credibility", value="abc"),
        "events.x.value",
        "valid number, unable to parse string as a number (got 'abc'); or input should be a "
        "valid boolean",
    ),
    (
        "unknown policy with none defined",
        lambda d: d["events"]["canal"].update(target="BOL", demand={"policy": "x"}),
        "events.canal.demand.policy",
        "unknown policy of BOL 'x' (valid: none are defined)",
    ),
]


@pytest.mark.parametrize(
    ("mutate", "path", "says"),
    [pytest.param(*case[1:], id=case[0]) for case in SCHEMA_MESSAGES],
)
def test_schema_messages(
    mini_dict: dict[str, Any], mutate: Callable[[dict[str, Any]], None], path: str, says: str
) -> None:
    mutate(mini_dict)
    with pytest.raises(ScenarioError) as info:
        scenario_from_dict(mini_dict)
    [problem] = info.value.problems
    assert problem.path == path
    assert says in problem.message
    _no_noise(problem.message)


# --------------------------------------------------------------------------- CLI, in-process


@pytest.fixture(scope="module")
def runner() -> CliRunner:
    return CliRunner()


def _check_cli_refusal(result: Result, name: str, out: Path | None = None) -> None:
    code, stdout, stderr = result.exit_code, result.stdout, result.stderr
    assert code == 2, (code, stdout, stderr, getattr(result, "exception", None))
    assert _where(name) in stderr, stderr
    _no_noise(stdout + stderr)
    if out is not None:
        assert _empty(out), list(out.rglob("*"))


@pytest.mark.parametrize("name", CORPUS)
def test_cli_validate_in_process(runner: CliRunner, name: str) -> None:
    result = runner.invoke(main, ["validate", str(BAD / name)])
    _check_cli_refusal(result, name)
    assert "1 of 1 file(s) invalid" in result.stderr
    # every problem is printed, one `error:` line each
    assert result.stderr.count("error: ") == len(CASES[name])


@pytest.mark.parametrize("name", CORPUS)
def test_cli_run_in_process_writes_nothing(runner: CliRunner, name: str, tmp_path: Path) -> None:
    out = tmp_path / "results"
    result = runner.invoke(main, ["run", str(BAD / name), "--out", str(out)])
    _check_cli_refusal(result, name, out)
    assert "nothing was run" in result.stderr
    assert not MARKER.exists()


def test_cli_validate_mixed_files(runner: CliRunner) -> None:
    """Good files are reported ok, bad ones with their problems; the exit status is 2."""
    files = [str(VALID), str(BAD / "unknown_field_typo.yaml"), str(BAD / "empty.yaml")]
    result = runner.invoke(main, ["validate", *files])
    assert result.exit_code == 2
    assert "ok: " in result.stdout and "_valid_minimal.yaml" in result.stdout
    assert "unknown_field_typo.yaml:16:" in result.stderr and "empty.yaml:1:1:" in result.stderr
    assert "2 of 3 file(s) invalid" in result.stderr


def test_cli_directory_instead_of_file(runner: CliRunner, tmp_path: Path) -> None:
    folder = tmp_path / "dir.yaml"
    folder.mkdir()
    out = tmp_path / "results"
    for args in (["validate", str(folder)], ["run", str(folder), "--out", str(out)]):
        result = runner.invoke(main, args)
        assert result.exit_code == 2
        assert f"{folder}: is a directory" in result.stderr
        _no_noise(result.output)
    assert _empty(out)


SET_ERRORS = [
    ("nosuch.x=1", "no section 'nosuch'"),
    ("rules.threats.credibility=abc", "valid number"),
    ("rules.threats.credibility=1.5", "less than or equal to 1"),
    ("rules.threats.credibilty=0.5", "did you mean 'credibility'?"),
    ("noequals", "expected PATH=VALUE"),
    ("states..gdp=1", "empty component"),
    ("blocs.BRI.members[1a]=BOL", "bad list index [1a]"),
    ("blocs.BRI.members[5]=BOL", "index is out of range"),
    ("rules.threats.credibility=[1,", "bad value: not valid YAML"),
    ("meta.name=!!python/name:os.system", "bad value: tag !!python/name:os.system"),
]


@pytest.mark.parametrize(("assignment", "says"), SET_ERRORS)
def test_cli_bad_override(runner: CliRunner, tmp_path: Path, assignment: str, says: str) -> None:
    out = tmp_path / "results"
    result = runner.invoke(main, ["run", str(VALID), "--set", assignment, "--out", str(out)])
    assert result.exit_code == 2, result.output
    assert f"--set {assignment}: " in result.stderr  # the override is named, with no line:col
    assert says in result.stderr
    _no_noise(result.output)
    assert _empty(out)


def test_cli_prints_user_text_verbatim(runner: CliRunner) -> None:
    """`[x]` in a message is text, not Rich markup."""
    result = runner.invoke(main, ["validate", str(VALID), "--set", "blocs.BRI.members[x]=BOL"])
    assert result.exit_code == 2
    assert "--set blocs.BRI.members[x]=BOL: " in result.stderr
    assert "bad list index [x]" in result.stderr


# --------------------------------------------------------------------------- CLI, subprocess


def _geosim(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "sim", *args], capture_output=True, text=True, timeout=120
    )


SUBPROCESS_RUN = [
    "python_object_apply.yaml",
    "python_name.yaml",
    "alias_bomb.yaml",
    "several_schema_problems.yaml",
]
SUBPROCESS_VALIDATE = [
    "not_yaml_tab_indent.yaml",
    "binary_not_utf8.yaml",
    "circular_extends_a.yaml",
    "unknown_state_in_event.yaml",
    "top_level_list.yaml",
]


@pytest.mark.parametrize("name", SUBPROCESS_RUN)
def test_subprocess_run_refuses(name: str, tmp_path: Path) -> None:
    out = tmp_path / "results"
    proc = _geosim("run", str(BAD / name), "--out", str(out))
    assert proc.returncode == 2, proc.stderr
    assert _where(name) in proc.stderr
    _no_noise(proc.stdout + proc.stderr)
    assert _empty(out)
    assert not MARKER.exists()


@pytest.mark.parametrize("name", SUBPROCESS_VALIDATE)
def test_subprocess_validate_refuses(name: str) -> None:
    proc = _geosim("validate", str(BAD / name))
    assert proc.returncode == 2, proc.stderr
    assert _where(name) in proc.stderr
    _no_noise(proc.stdout + proc.stderr)


def test_subprocess_directory(tmp_path: Path) -> None:
    folder = tmp_path / "adir"
    folder.mkdir()
    proc = _geosim("validate", str(folder))
    assert proc.returncode == 2
    assert f"{folder}: is a directory" in proc.stderr
    _no_noise(proc.stdout + proc.stderr)


def test_subprocess_debug_still_fails() -> None:
    """With --debug a traceback may be shown, but the command must still fail."""
    proc = _geosim("--debug", "validate", str(BAD / "share_out_of_range.yaml"))
    assert proc.returncode != 0
    assert "share_out_of_range.yaml:24:" in proc.stderr


def test_subprocess_bad_override(tmp_path: Path) -> None:
    out = tmp_path / "results"
    proc = _geosim("run", str(VALID), "--set", "nosuch.x=1", "--out", str(out))
    assert proc.returncode == 2
    assert "--set nosuch.x=1: nosuch.x: no section 'nosuch'" in proc.stderr
    proc = _geosim("validate", str(VALID), "--set", "rules.threats.credibility=abc")
    assert proc.returncode == 2
    assert "--set rules.threats.credibility=abc: rules.threats.credibility:" in proc.stderr
    assert "valid number" in proc.stderr
    for p in (proc,):
        _no_noise(p.stdout + p.stderr)
    assert _empty(out)
