"""Hostile input (issue 13, items 3, 5-8): special files, huge and deep documents, files that are
not scenarios, values a megabyte long, loops and numbers no parameter takes.

Each case must end in exit 2 with one clear message, never a hang, a traceback, exit 3 or a
word of a file that is not a scenario. Hostile files are generated here, in `tmp_path`.
"""

from __future__ import annotations

import contextlib
import importlib
import os
import re
import resource
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result
from helpers import geosim_process
from ruamel.yaml.composer import Composer

import sim.loader
from sim.cli import main
from sim.design import Design, load_design
from sim.errors import ScenarioError
from sim.loader import load_tree, read_yaml_file
from sim.scenario import load_scenario
from sim.schema.scenario import Scenario

VALID = Path(__file__).parent / "bad" / "_valid_minimal.yaml"
NOISE = re.compile(r"Traceback|internal error|This is a bug|Error: |ruamel|pydantic|\[type=")
MEMORY = 4 * 2**30
"""Address-space limit of the geosim processes started here: the code as it was read
`/dev/urandom` until memory ran out."""


def _limit_memory() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY, MEMORY))


def _geosim(*args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    """`geosim ARGS` in a process of its own, within MEMORY."""
    return geosim_process(*args, timeout=timeout, preexec_fn=_limit_memory)


def _refused(code: int, output: str, *says: str) -> None:
    """Exit 2, every fragment of `says` in the output, no Python internals."""
    assert code == 2, (code, output[:2000])
    for text in says:
        assert text in output, output[:2000]
    assert not NOISE.search(output), output[:2000]


@pytest.fixture(scope="module")
def runner() -> CliRunner:
    return CliRunner()


def _invoke(runner: CliRunner, *args: str) -> Result:
    return runner.invoke(main, list(args))


# --------------------------------------------------------------------------- 5: special files


@pytest.fixture
def fifo(tmp_path: Path) -> Iterator[Path]:
    path = tmp_path / "pipe.yaml"
    os.mkfifo(path)
    yield path


def test_fifo_as_scenario_is_refused_without_waiting_for_a_writer(fifo: Path) -> None:
    proc = _geosim("validate", str(fifo))
    _refused(proc.returncode, proc.stderr, f"{fifo}: is a FIFO", "not a regular file")


def test_fifo_as_design_is_refused_without_waiting_for_a_writer(fifo: Path, tmp_path: Path) -> None:
    out = tmp_path / "results"
    proc = _geosim("sweep", str(VALID), "--design", str(fifo), "--out", str(out))
    _refused(proc.returncode, proc.stderr, f"{fifo}: is a FIFO", "expected a design file")
    assert not out.exists()


@pytest.mark.parametrize(("device", "linked"), [("/dev/zero", False), ("/dev/urandom", True)])
def test_endless_devices_are_refused_unread(device: str, linked: bool, tmp_path: Path) -> None:
    """The code as it was read /dev/zero forever and /dev/urandom into a MemoryError (exit 3)."""
    path = tmp_path / "scenario.yaml" if linked else Path(device)
    if linked:
        path.symlink_to(device)  # a device behind a harmless name
    proc = _geosim("validate", str(path))
    _refused(proc.returncode, proc.stderr, f"{path}: is a device, not a regular file")


def test_byte_limit_holds_while_reading(monkeypatch: pytest.MonkeyPatch) -> None:
    """A file whose size the OS does not know up front (procfs says 0) is still cut off at the
    limit: the limit is applied to what is read, not to what `stat` says."""
    smaps = Path("/proc/self/smaps")
    if not smaps.is_file():
        pytest.skip("needs Linux procfs")
    _set_limit(monkeypatch, "MAX_BYTES", 1000)
    with pytest.raises(ScenarioError) as info:
        read_yaml_file(smaps)
    assert "over 1000 bytes" in str(info.value)


# ------------------------------------------------------------------ 6: limits while composing


def test_node_limit_stops_the_composer_at_the_limit(monkeypatch: pytest.MonkeyPatch) -> None:
    """The code as it was composed the whole document (20,000 scalars) and only then counted."""
    _set_limit(monkeypatch, "MAX_NODES", 1000)
    composed = 0
    original = Composer.compose_scalar_node

    def counting(self: Composer, anchor: Any) -> Any:
        nonlocal composed
        composed += 1
        return original(self, anchor)

    monkeypatch.setattr(Composer, "compose_scalar_node", counting)
    text = "a: [" + ", ".join(["0"] * 20_000) + "]\n"
    with pytest.raises(ScenarioError) as info:
        sim.loader.parse_yaml_text(text, "big.yaml")
    assert "more than 1000 nodes" in str(info.value)
    assert composed <= 1000


def test_depth_limit_stops_the_composer_at_the_limit() -> None:
    [problem] = _problems(lambda: sim.loader.parse_yaml_text("a: " + "[" * 100_000, "deep.yaml"))
    assert problem.message == "values are nested more than 50 levels deep"
    assert (problem.line, problem.column) == (1, 54)  # the node that crossed the limit


@pytest.mark.slow
def test_multi_megabyte_document_is_refused_in_seconds_and_small_memory(tmp_path: Path) -> None:
    """4.6 MB, 2.3 million nodes: the code as it was took 66 s to 6 minutes and 1.2 GB."""
    big = tmp_path / "big.yaml"
    big.write_text("a: [" + ",".join(["0"] * 2_300_000) + "]\n")
    probe = (
        "import resource, subprocess, sys, time\n"
        "t = time.perf_counter()\n"
        f"p = subprocess.run([sys.executable, '-m', 'sim', 'validate', {str(big)!r}],"
        " capture_output=True, text=True)\n"
        "rss = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss // 1024\n"
        "print(p.returncode, round(time.perf_counter() - t), rss)\n"
        "print(p.stderr)\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, timeout=300
    )
    code, seconds, megabytes = map(int, proc.stdout.split("\n", 1)[0].split())
    _refused(code, proc.stdout, "more than 100000 nodes")
    assert seconds < 60 and megabytes < 600, (seconds, megabytes)


# ------------------------------------------------------------------ 7: echo nothing foreign


SHADOW = "root:$6$SECRETSALT$k3yh4sh:19000:0:99999:7:::\ndaemon:*:19000:0:99999:7:::\n"


def test_extends_of_a_file_that_is_not_a_scenario_echoes_none_of_it(
    runner: CliRunner, tmp_path: Path
) -> None:
    (tmp_path / "etc").mkdir()
    (tmp_path / "etc" / "shadow").write_text(SHADOW)
    child = tmp_path / "a" / "b" / "child.yaml"
    child.parent.mkdir(parents=True)
    child.write_text("extends: ../../etc/shadow\n")
    for args in (["validate", str(child)], ["validate", str(tmp_path / "etc" / "shadow")]):
        result = _invoke(runner, *args)
        _refused(result.exit_code, result.output, "not a scenario file")
        for secret in ("SECRET", "k3yh4sh", "daemon", "19000"):
            assert secret not in result.output, result.output


def test_a_design_that_is_not_a_design_echoes_none_of_it(runner: CliRunner, tmp_path: Path) -> None:
    shadow = tmp_path / "shadow"
    shadow.write_text(SHADOW)
    result = _invoke(runner, "sweep", str(VALID), "--design", str(shadow))
    _refused(result.exit_code, result.output, "not a design file")
    assert "SECRET" not in result.output, result.output


def test_unsafe_yaml_in_a_foreign_file_is_named_without_its_text(tmp_path: Path) -> None:
    foreign = tmp_path / "foreign.yaml"
    foreign.write_text("api_token: !!int hunter2\nkey: !secret s3cr3t\nkey: again\n")
    problems = _problems(lambda: load_tree(foreign))
    text = "\n".join(map(str, problems))
    assert "hunter2" not in text and "s3cr3t" not in text and "secret" not in text, text
    assert "cannot read as an integer" in text and "duplicate key (first at line 2)" in text


def test_a_scenario_with_a_misspelt_section_is_still_a_scenario(tmp_path: Path) -> None:
    """A typo must keep its "did you mean": only a file with no section at all is foreign."""
    typo = tmp_path / "typo.yaml"
    typo.write_text(VALID.read_text().replace("\nrules:", "\nrulez:"))
    [problem] = _problems(lambda: load_scenario(typo))
    assert "unknown field 'rulez'; did you mean 'rules'?" in problem.message


def test_the_file_kinds_name_every_top_level_field() -> None:
    from sim.design import DESIGN
    from sim.loader import SCENARIO

    assert frozenset({*Scenario.model_fields, "extends"}) == SCENARIO.keys
    assert frozenset({*Design.model_fields, "extends"}) == DESIGN.keys


MEGA = "x" * 1_000_000


@pytest.mark.parametrize(
    "yaml",
    [
        f"meta: {{name: {MEGA}}}\n",  # a value over its bound
        f"? {MEGA}\n: 1\n",  # an unknown section (an explicit key: an implicit one is short)
        f"events:\n  canal: {{target: {MEGA}}}\n",  # a reference to an unknown state
        f"events:\n  canal: {{type: {MEGA}}}\n",  # an unknown type, with did-you-mean
        f"states:\n  ? {MEGA}\n  : {{name: X}}\n",  # an invalid code, which is also the path
        f"time: {{start: !!int {MEGA}}}\n",  # a value the YAML reader cannot read
    ],
    ids=["value", "section", "reference", "type", "code", "unreadable"],
)
def test_a_megabyte_value_is_named_not_printed(
    runner: CliRunner, tmp_path: Path, yaml: str
) -> None:
    scenario = tmp_path / "long.yaml"
    scenario.write_text(f"extends: {VALID}\n{yaml}")
    result = _invoke(runner, "validate", str(scenario))
    _refused(result.exit_code, result.output, "(1000000 characters)")
    assert set(re.findall(r"\((\d+) characters\)", result.output)) == {"1000000"}  # cut once
    assert len(result.output) < 10_000, len(result.output)


@pytest.mark.parametrize(
    "assignment",
    [f"meta.name={MEGA}", f"{MEGA}=1", f"rules.threats.credibility={MEGA}"],
    ids=["value", "path", "number"],
)
def test_a_megabyte_override_is_named_not_printed(runner: CliRunner, assignment: str) -> None:
    result = _invoke(runner, "validate", str(VALID), "--set", assignment)
    _refused(result.exit_code, result.output, "characters)")
    assert len(result.output) < 10_000, len(result.output)


# --------------------------------------------------------------------------- 8: exit 2, not 3


def test_extends_through_a_symlink_loop(runner: CliRunner, tmp_path: Path) -> None:
    (tmp_path / "self.yaml").symlink_to("self.yaml")
    (tmp_path / "one.yaml").symlink_to("two.yaml")
    (tmp_path / "two.yaml").symlink_to("one.yaml")
    for target in ("self.yaml", "one.yaml"):
        child = tmp_path / f"extends_{target}"
        child.write_text(f"extends: {target}\n")
        result = _invoke(runner, "validate", str(child))
        _refused(
            result.exit_code, result.output, f"{child}:1:10: extends:", "loop of symbolic links"
        )


@pytest.mark.parametrize("path", ["meta" + ".a" * 1000, "rules.threats" + ".x" * 60])
def test_a_path_deeper_than_any_value_is_refused(runner: CliRunner, path: str) -> None:
    result = _invoke(runner, "validate", str(VALID), "--set", f"{path}=1")
    _refused(result.exit_code, result.output, "components; values are nested at most 50 levels")


def _design(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "design.yaml"
    path.write_text(text)
    return path


CRED = "rules.threats.credibility"
BAD_DESIGNS = [
    (f"parameters:\n  {CRED}:\n    values: [0.5, .nan]\n", 3, "values[1] is .nan"),
    (f"parameters:\n  {CRED}: {{values: [.inf]}}\n", 2, "values[0] is .inf"),
    (f"method: lhs\nparameters:\n  {CRED}: {{low: .nan, high: 1}}\n", 3, "`low` must be a finite"),
    (f"method: lhs\nparameters:\n  {CRED}: {{low: 0, high: .inf}}\n", 3, "`high` must be"),
    ("method: lhs\nparameters:\n  time.seed:\n    {low: 0, high: 1e300, distribution: integer}\n",
     3, "an integer range must lie within"),
    ("parameters:\n  time.seed: {low: 0, high: 1e300, distribution: integer}\n",
     2, "an integer range must lie within"),
    ("parameters:\n  time.seed: {values: [0, 100000000000000000000000]}\n",
     2, "must fit 64 bits"),
    ("method: lhs\nparameters:\n  rules.trade.diversion: {low: -1.5e308, high: 1.5e308}\n",
     3, "too wide to sample"),
]  # fmt: skip


@pytest.mark.parametrize(("text", "line", "says"), BAD_DESIGNS)
def test_design_values_no_parameter_takes_are_refused_where_written(
    runner: CliRunner, tmp_path: Path, text: str, line: int, says: str
) -> None:
    """NaN (StopIteration), huge integers (OverflowError): exit 3 in the code as it was."""
    design = _design(tmp_path, text)
    out = tmp_path / "results"
    result = _invoke(runner, "sweep", str(VALID), "--design", str(design), "--out", str(out))
    _refused(result.exit_code, result.output, f"{design}:{line}:", says)
    assert not out.exists()


@pytest.mark.parametrize(
    "option",
    [f"{CRED}=.nan,0.5", f"{CRED}=0.5:.inf:3", "time.seed=0:100000000000000000000000:3"],
)
def test_param_values_no_parameter_takes_are_refused(
    runner: CliRunner, tmp_path: Path, option: str
) -> None:
    out = tmp_path / "results"
    result = _invoke(runner, "sweep", str(VALID), "--param", option, "--out", str(out))
    _refused(result.exit_code, result.output, f"--param {option}:")
    assert not out.exists()


def _rule_changes(tmp_path: Path, first: str, second: str) -> Path:
    """Two rule changes, each valid against the scenario's rules on its own."""
    events = {
        "short_up": ("2025-03", "trade.elasticity_short", 1.9),
        "long_down": ("2025-06", "trade.elasticity_long", 1.0),
    }
    text = f"extends: {VALID}\nevents:\n"
    for eid in (first, second):
        date, path, value = events[eid]
        text += f"  {eid}:\n    type: rule_change\n    date: {date}\n"
        text += f"    path: {path}\n    value: {value}\n"
    scenario = tmp_path / "rules.yaml"
    scenario.write_text(text)
    return scenario


@pytest.mark.parametrize("order", [("short_up", "long_down"), ("long_down", "short_up")])
def test_rule_changes_are_checked_in_the_order_a_run_applies_them(
    runner: CliRunner, tmp_path: Path, order: tuple[str, str]
) -> None:
    """Raising elasticity_short to 1.9, then lowering elasticity_long to 1.0, breaks their order:
    the code as it was accepted the scenario and failed mid-run with exit 3."""
    scenario = _rule_changes(tmp_path, *order)
    line = 12 if order[0] == "short_up" else 7  # the value of long_down, the later change
    out = tmp_path / "results"
    for args in (["validate"], ["run", "-n", "1", "--no-plot", "--out", str(out)]):
        result = _invoke(runner, *args, str(scenario))
        _refused(
            result.exit_code,
            result.output,
            f"{scenario}:{line}:12: events.long_down.value: the elasticities must increase",
            "with the earlier rule_change short_up in force",
        )
    assert not out.exists()


def test_rule_changes_that_keep_the_rules_valid_in_order_pass(tmp_path: Path) -> None:
    scenario = _rule_changes(tmp_path, "long_down", "short_up")
    text = scenario.read_text().replace("value: 1.0", "value: 3.0")  # long up, then short up
    scenario.write_text(text)
    assert load_scenario(scenario).scenario.events["short_up"].date == "2025-03"


# --------------------------------------------------------------------------- 3: a parameter twice


def test_a_design_naming_a_parameter_twice_is_refused(runner: CliRunner, tmp_path: Path) -> None:
    """`' rules.threats.credibility'` (leading space) sets the same value as the one without:
    the code as it was ran 0.9 and wrote 0.5 in the table."""
    design = _design(
        tmp_path, f"parameters:\n  {CRED}:\n    values: [0.5]\n  ' {CRED}':\n    values: [0.9]\n"
    )
    out = tmp_path / "results"
    result = _invoke(runner, "sweep", str(VALID), "--design", str(design), "--out", str(out))
    _refused(
        result.exit_code,
        result.output,
        f"{design}:4:3:",
        f"' {CRED}' names the same parameter as '{CRED}' (line 2)",
    )
    assert not out.exists()
    with pytest.raises(ValueError, match="name the same parameter"):
        Design.model_validate({"parameters": {CRED: {"values": [1]}, f"{CRED} ": {"values": [2]}}})


def test_the_same_parameter_twice_in_param_options_is_refused(
    runner: CliRunner, tmp_path: Path
) -> None:
    """`members[0]` and `members.[0]` are one path (the code as it was compared the text)."""
    first, second = "blocs.BRI.members[0]=PAN,BOL", "blocs.BRI.members.[0]=BOL"
    out = tmp_path / "results"
    result = _invoke(
        runner, "sweep", str(VALID), "--param", first, "--param", second, "--out", str(out)
    )
    _refused(result.exit_code, result.output, "already swept by an earlier --param")


def test_a_design_file_loads_as_before(tmp_path: Path) -> None:
    design = _design(
        tmp_path, f"method: lhs\nsamples: 4\nparameters:\n  {CRED}: {{low: 0, high: 1}}\n"
    )
    loaded, _ = load_design(design)
    assert len(loaded.points()) == 4


# --------------------------------------------------------------------------- helpers


def _problems(call: Any) -> list[Any]:
    with pytest.raises(ScenarioError) as info:
        call()
    return list(info.value.problems)


def _set_limit(monkeypatch: pytest.MonkeyPatch, name: str, value: int) -> None:
    """Lower a reading limit wherever the code reads it (`sim.yaml_input` since issue 13)."""
    for module in ("sim.loader", "sim.yaml_input"):
        with contextlib.suppress(ImportError):
            monkeypatch.setattr(importlib.import_module(module), name, value, raising=False)


def test_a_forbidden_control_character_is_located(tmp_path: Path) -> None:
    # found by tests/test_fuzz.py: the reader's error had a position but no line or column
    from sim.errors import ScenarioError
    from sim.loader import parse_yaml_text

    with pytest.raises(ScenarioError) as info:
        parse_yaml_text("meta:\n  name: x\nz: \x07\n", "bell.yaml")
    [p] = info.value.problems
    assert (p.line, p.column) == (3, 4)
    assert "#x0007" in p.message


@pytest.mark.parametrize(
    ("extends", "said"),
    [
        ("a" * 5000, "cannot be used: File name too long"),
        ("a\0b", "has a NUL character in its name"),
    ],
    ids=["too-long", "nul"],
)
def test_an_extends_name_the_os_refuses_is_located_and_clipped(
    tmp_path: Path, extends: str, said: str
) -> None:
    # a 5,000-character name was exit 1 with the whole name; a NUL was called a symlink loop
    path = tmp_path / "child.yaml"
    path.write_text(f'extends: "{extends.replace(chr(0), chr(92) + "0")}"\n', "utf-8")
    r = CliRunner().invoke(main, ["validate", str(path)])
    assert r.exit_code == 2, r.output
    assert f"{path}:1:10: extends:" in r.output and said in r.output
    assert len(r.output) < 1000


def test_a_scenario_name_too_long_for_the_os_is_bad_input_and_clipped() -> None:
    r = CliRunner().invoke(main, ["validate", "a" * 5000])
    assert r.exit_code == 2, r.output
    assert "(5000 characters): cannot read: File name too long" in r.output
    assert len(r.output) < 1000


@pytest.mark.parametrize(
    "args",
    [
        ["run", "latam_2025", "-n", "1", "--no-plot", "--set", "states.BOL.\u202egdp.value=1"],
        ["validate", "a\x01b\x1b[2J"],
    ],
    ids=["bidi-override", "control"],
)
def test_invisible_characters_are_shown_as_escapes_in_messages(args: list[str]) -> None:
    # a right-to-left override or an escape sequence reached the terminal as it was
    r = CliRunner().invoke(main, args)
    assert r.exit_code == 2, r.output
    assert not re.search("[\x00-\x08\x0b-\x1f\u202a-\u202e]", r.output), repr(r.output)
    assert "\\u202e" in r.output or ("\\u0001" in r.output and "\\u001b[2J" in r.output)


def test_the_echo_of_an_override_shows_invisible_characters_as_escapes(tmp_path: Path) -> None:
    """The `override path: old -> new` line repeated the user's text with a bidi override raw."""
    name = "states.BOL.name=Bo\u202elivia"
    args = ["run", "latam_2025", "-n", "1", "--no-plot", "--set", name, "--out", str(tmp_path)]
    r = CliRunner().invoke(main, args)
    assert r.exit_code == 0, r.output
    assert "override states.BOL.name: 'Bolivia' -> 'Bo\\u202elivia'" in r.stderr
    assert "\u202e" not in r.output
