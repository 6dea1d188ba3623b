"""The YAML loader: YAML 1.2 scalars, positions, sources, `extends`, `--set` overrides, safety."""

from __future__ import annotations

import io
import math
import time
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from ruamel.yaml import YAML

from sim.errors import ScenarioError
from sim.loader import (
    MAX_BYTES,
    Position,
    Tree,
    apply_override,
    dotted,
    load_tree,
    parse_path,
    parse_value,
    parse_yaml_text,
    read_yaml_file,
    unwrap_sources,
)
from sim.scenario import load_scenario, schema_default, validate_tree

BAD = Path(__file__).parent / "bad"
VALID = BAD / "_valid_minimal.yaml"


def parse(text: str) -> Any:
    return parse_yaml_text(text, "t.yaml")[0]


def problems(text: str) -> list[str]:
    with pytest.raises(ScenarioError) as info:
        parse_yaml_text(text, "t.yaml")
    return [str(p) for p in info.value.problems]


# --------------------------------------------------------------------------- YAML 1.2 scalars


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("NO", "NO"),  # Norway, not false (YAML 1.1 would say false)
        ("no", "no"),
        ("yes", "yes"),
        ("off", "off"),
        ("On", "On"),
        ("y", "y"),
        ("true", True),
        ("False", False),
        ("TRUE", True),
        ("0o17", 15),
        ("-0o17", -15),
        ("0x1F", 31),
        ("-0x1f", -31),
        ("0b101", 5),
        ("017", 17),  # YAML 1.2: decimal, not octal
        ("1_000", 1000),
        ("+5", 5),
        ("1e9", 1e9),
        ("2.7e13", 2.7e13),
        ("1.5E-3", 1.5e-3),
        (".5", 0.5),
        (".inf", math.inf),
        ("+.inf", math.inf),
        ("-.Inf", -math.inf),
        ("~", None),
        ("null", None),
        ("", None),
        ("2025-02", "2025-02"),
        ("2025-02-18", "2025-02-18"),  # timestamps stay text
        ("'0.5'", "0.5"),
        ("=", "="),
        ("<<", "<<"),
    ],
)
def test_yaml_12_scalars(text: str, value: Any) -> None:
    got = parse(f"v: {text}\n")["v"]
    assert got == value and type(got) is type(value)


def test_nan_parses() -> None:
    assert math.isnan(parse("v: .nan\n")["v"])
    assert math.isnan(parse("v: .NaN\n")["v"])


def test_norway_stays_a_state_code(tmp_path: Path) -> None:
    text = VALID.read_text().replace(
        "  PAN:\n", "  NO: {name: Norway, gdp: 4.8e11, exports: {USA: 1.0e10}}\n  PAN:\n"
    )
    (tmp_path / "s.yaml").write_text(text)
    s = load_scenario(tmp_path / "s.yaml").scenario
    assert "NO" in s.states and s.states["NO"].name == "Norway"


def test_quoted_merge_key_is_a_plain_string() -> None:
    assert parse("'<<': 1\n") == {"<<": 1}


def test_keys_are_kept_as_written() -> None:
    assert parse("true: 1\n0x1F: 2\n1.50: 3\nnull: 4\n") == {
        "true": 1,
        "0x1F": 2,
        "1.50": 3,
        "null": 4,
    }


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("v: +_\n", "cannot read '+_' as an integer"),
        ("v: ._\n", "cannot read '._' as a number"),
        ("v: !!int abc\n", "cannot read 'abc' as an integer"),
        ("v: !!float x\n", "cannot read 'x' as a number"),
        ("v: !!bool maybe\n", "cannot read 'maybe' as a boolean"),
    ],
)
def test_unreadable_numbers_are_problems_not_crashes(text: str, says: str) -> None:
    [msg] = problems(text)
    assert msg.startswith("t.yaml:1:4: v: ") and says in msg


def test_crlf_and_bom(tmp_path: Path) -> None:
    f = tmp_path / "s.yaml"
    f.write_bytes(b"\xef\xbb\xbfmeta:\r\n  name: x\r\n")
    data, positions = read_yaml_file(f)
    assert data == {"meta": {"name": "x"}}
    assert positions[("meta", "name")] == Position(str(f), 2, 9)


# --------------------------------------------------------------------------- safety


def test_python_tags_are_refused_and_not_run(tmp_path: Path) -> None:
    marker = tmp_path / "PWNED"
    text = f'a: !!python/object/apply:os.system ["touch {marker}"]\nb: !!python/name:os.system\n'
    msgs = problems(text)
    assert len(msgs) == 2
    assert "t.yaml:1:4: a: tag !!python/object/apply:os.system is not allowed" in msgs[0]
    assert "t.yaml:2:4: b: tag !!python/name:os.system is not allowed" in msgs[1]
    assert not marker.exists()


def test_local_tags_and_complex_keys_are_refused() -> None:
    assert "tag !thing is not allowed" in problems("a: !thing 3\n")[0]
    assert "mapping keys must be plain scalars" in problems("? [a, b]\n: 1\n")[0]


def test_anchors_merge_keys_and_duplicates_are_refused() -> None:
    assert "anchors and aliases are not supported" in problems("a: &x 1\nb: *x\n")[0]
    assert "merge keys (<<) are not supported" in problems("a: {b: 1}\nc:\n  <<: {b: 1}\n")[0]
    [dup] = problems("a:\n  b: 1\n  c: 2\n  b: 3\n")
    assert dup == "t.yaml:4:3: a.b: duplicate key 'b' (first at line 2)"


def test_alias_bomb_is_refused_quickly() -> None:
    start = time.perf_counter()
    with pytest.raises(ScenarioError):
        read_yaml_file(BAD / "alias_bomb.yaml")
    assert time.perf_counter() - start < 2.0


def test_deep_nesting_is_a_problem_not_a_crash() -> None:
    assert "nested" in problems("a: " + "[" * 5000 + "]" * 5000 + "\n")[0]
    block = "".join("  " * i + "b:\n" for i in range(60))
    assert "nested more than 50 levels" in problems(block)[0]


def test_huge_file_is_refused(tmp_path: Path) -> None:
    f = tmp_path / "big.yaml"
    f.write_text("# " + "x" * MAX_BYTES + "\n")
    with pytest.raises(ScenarioError) as info:
        read_yaml_file(f)
    assert "a scenario must be under" in str(info.value)


def test_several_documents_are_refused() -> None:
    [msg] = problems("a: 1\n---\nb: 2\n")
    assert msg.startswith("t.yaml:2:1: not valid YAML: found another document")


# --------------------------------------------------------------------------- positions


def test_positions_point_at_values_and_at_keys_of_block_values() -> None:
    text = "states:\n  PAN:\n    name: Panama\n    gdp: {value: 8.3e10, source: est}\n"
    _, pos = parse_yaml_text(text, "t.yaml")
    assert pos[("states", "PAN", "name")] == Position("t.yaml", 3, 11)
    assert pos[("states", "PAN", "gdp")] == Position("t.yaml", 4, 10)  # a flow value: itself
    assert pos[("states", "PAN", "gdp", "source")] == Position("t.yaml", 4, 34)
    assert pos[("states", "PAN")] == Position("t.yaml", 2, 3)  # a block value: its key
    assert pos[("states",)] == Position("t.yaml", 1, 1)


def test_missing_field_points_at_its_parent() -> None:
    tree = load_tree(VALID)
    assert tree.position(("states", "PAN", "nosuch", "deeper")).line == 17
    problem = tree.problem(("states", "PAN", "debt"), "msg")
    assert (problem.line, problem.path) == (17, "states.PAN.debt")


def test_dotted() -> None:
    assert dotted(("states", "BOL", "gdp")) == "states.BOL.gdp"
    assert dotted(("blocs", "BRI", "members", 0)) == "blocs.BRI.members[0]"
    assert dotted(()) == ""


# --------------------------------------------------------------------------- sourced values


def test_unwrap_sources_records_sources_by_path() -> None:
    data = parse(
        "states:\n"
        "  BOL:\n"
        "    gdp: {value: 4.58e10, source: wb, note: 2024 figure}\n"
        "    exports: {USA: {value: 4.1e8, source: comtrade}, CHN: 1.17e9}\n"
        "    debt: {value: 1.0}\n"
        "list: [{value: 1, source: a}, 2]\n"
        "other: {value: 3, unit: x}\n"  # not a sourced value: has a key besides value/source/note
    )
    plain, sources = unwrap_sources(Tree(data=data))
    assert plain["states"]["BOL"] == {
        "gdp": 4.58e10,
        "exports": {"USA": 4.1e8, "CHN": 1.17e9},
        "debt": 1.0,
    }
    assert plain["list"] == [1, 2]
    assert plain["other"] == {"value": 3, "unit": "x"}
    assert sources == {
        ("states", "BOL", "gdp"): "wb",
        ("states", "BOL", "exports", "USA"): "comtrade",
        ("list", 0): "a",
    }


def test_loaded_scenario_keeps_sources() -> None:
    loaded = load_scenario(VALID)
    assert loaded.scenario.states["BOL"].gdp == 4.58e10
    assert loaded.sources == {("states", "BOL", "gdp"): "est"}


# --------------------------------------------------------------------------- extends


CHILD = """\
extends: _valid_minimal.yaml
meta:
  name: child
states:
  PAN:
    gdp: 9.0e10
  BOL:
    gdp: 5.0e10
    exports: null
blocs:
  BRI:
    members: [BOL]
events:
  canal: null
"""


@pytest.fixture
def child(tmp_path: Path) -> Path:
    (tmp_path / "_valid_minimal.yaml").write_text(VALID.read_text())
    path = tmp_path / "child.yaml"
    path.write_text(CHILD)
    return path


def test_extends_merge_semantics(child: Path) -> None:
    tree = load_tree(child)
    d = tree.data
    assert "extends" not in d
    assert tree.files == [str(child), str(child.parent / "_valid_minimal.yaml")]
    assert d["meta"]["name"] == "child"
    assert d["meta"]["sources"] == {"est": {"title": "test figures", "kind": "estimate"}}  # merged
    assert d["states"]["PAN"] == {"name": "Panama", "gdp": 9.0e10}  # mapping merge
    assert d["states"]["BOL"] == {"name": "Bolivia", "gdp": 5.0e10}  # null deletes; the
    # sourced parent value is replaced whole, so its source does not stick to the new number
    assert d["blocs"]["BRI"]["members"] == ["BOL"]  # a list is replaced, not appended to
    assert d["blocs"]["BRI"]["leader"] == "CHN"
    assert d["events"] == {}


def test_extends_positions_follow_the_overriding_file(child: Path) -> None:
    tree = load_tree(child)
    parent = str(child.parent / "_valid_minimal.yaml")
    assert tree.position(("states", "PAN", "gdp")) == Position(str(child), 6, 10)
    assert tree.position(("blocs", "BRI", "members")) == Position(str(child), 12, 14)
    assert tree.position(("blocs", "BRI", "members", 0)) == Position(str(child), 12, 15)
    assert tree.position(("states", "PAN", "name")) == Position(parent, 18, 11)
    assert tree.position(("time", "end")) == Position(parent, 8, 8)
    assert ("states", "BOL", "exports") not in tree.positions  # deleted with its value
    assert ("states", "BOL", "gdp", "source") not in tree.positions


def _paths(node: Any, path: tuple[Any, ...] = ()) -> Any:
    yield path
    items = (
        node.items()
        if isinstance(node, dict)
        else enumerate(node)
        if isinstance(node, list)
        else ()
    )
    for key, value in items:
        yield from _paths(value, (*path, key))


def test_extends_leaves_a_position_for_every_value_and_none_for_a_deleted_one(
    child: Path,
) -> None:
    tree = load_tree(child)
    assert set(tree.positions) == set(_paths(tree.data))


def test_extends_merges_in_time_proportional_to_the_files(tmp_path: Path) -> None:
    """A child adding thousands of entries: each used to scan every position of both files."""
    (tmp_path / "_valid_minimal.yaml").write_text(VALID.read_text())

    def seconds(n: int) -> float:
        events = "".join(
            f"  e{k}: {{type: engagement, date: 2025-02, power: CHN, states: [BOL]}}\n"
            for k in range(n)
        )
        path = tmp_path / f"child{n}.yaml"
        path.write_text(f"extends: _valid_minimal.yaml\nevents:\n{events}")
        start = time.perf_counter()
        tree = load_tree(path)
        took = time.perf_counter() - start
        assert set(tree.positions) == set(_paths(tree.data))
        return took

    small = min(seconds(200) for _ in range(3))
    large = seconds(2000)  # 10 times the entries: about 10 times the time, not 100
    assert large < 30 * small, (small, large)


def test_extends_validates_and_reports_in_the_right_file(child: Path) -> None:
    loaded = load_scenario(child)
    s = loaded.scenario
    assert s.meta.name == "child" and s.states["PAN"].gdp == 9.0e10
    assert s.events == {} and s.blocs["BRI"].members == ["BOL"]
    assert loaded.sources == {}
    child.write_text(CHILD.replace("gdp: 9.0e10", "gdp: -1"))
    with pytest.raises(ScenarioError) as info:
        load_scenario(child)
    [p] = info.value.problems
    assert (p.file, p.line, p.path) == (str(child), 6, "states.PAN.gdp")


def test_extends_chain_of_three(tmp_path: Path) -> None:
    (tmp_path / "base").mkdir()
    (tmp_path / "base" / "a.yaml").write_text("meta: {name: a, description: from a}\nx: 1\n")
    (tmp_path / "b.yaml").write_text("extends: base/a.yaml\nmeta: {name: b}\ny: 2\n")
    (tmp_path / "c.yaml").write_text("extends: b.yaml\nmeta: {name: c}\nx: 3\n")
    tree = load_tree(tmp_path / "c.yaml")
    assert tree.data == {"meta": {"name": "c", "description": "from a"}, "x": 3, "y": 2}
    assert [Path(f).name for f in tree.files] == ["c.yaml", "b.yaml", "a.yaml"]


def test_extends_must_name_a_file(tmp_path: Path) -> None:
    (tmp_path / "s.yaml").write_text("extends: [a.yaml]\nmeta: {name: s}\n")
    with pytest.raises(ScenarioError) as info:
        load_tree(tmp_path / "s.yaml")
    assert "1:10: extends: expected a file name (string)" in str(info.value)


def test_extends_itself(tmp_path: Path) -> None:
    (tmp_path / "s.yaml").write_text("meta: {name: s}\nextends: s.yaml\n")
    with pytest.raises(ScenarioError) as info:
        load_tree(tmp_path / "s.yaml")
    assert "2:10: extends: circular extends: s.yaml -> s.yaml" in str(info.value)


# --------------------------------------------------------------------------- --set overrides


def test_parse_path() -> None:
    assert parse_path("rules.threats.credibility") == ("rules", "threats", "credibility")
    assert parse_path("a.b[2]") == ("a", "b", 2)
    assert parse_path("a[0][1].c") == ("a", 0, 1, "c")
    assert parse_path("blocs.BRI.members[-1]") == ("blocs", "BRI", "members", -1)
    for bad in ("", "a..b", "a.", "a[x]", "a[]"):
        with pytest.raises(ValueError):
            parse_path(bad)


@pytest.mark.parametrize(
    ("text", "value"),
    [("0.5", 0.5), ("NO", "NO"), ("[USA, CHN]", ["USA", "CHN"]), ("null", None), ("", "")],
)
def test_parse_value(text: str, value: Any) -> None:
    assert parse_value(text, "--set x") == value


def test_apply_override_logs_and_creates_optional_sections() -> None:
    tree = Tree(
        data={k: v for k, v in load_tree(VALID).data.items() if k != "rules"},
        positions={},
        files=[str(VALID)],
    )
    entry = apply_override(tree, "rules.threats.credibility=0.5")  # the loader knows no schema
    assert entry == {"path": "rules.threats.credibility", "old": None, "new": 0.5, "default": False}
    with_schema = apply_override(tree, "rules.threats.sharpness=2", schema_default)
    assert with_schema == {"path": "rules.threats.sharpness", "old": 2.1, "new": 2, "default": True}
    assert tree.data["rules"] == {"threats": {"credibility": 0.5, "sharpness": 2}}
    assert tree.overrides == [entry, with_schema]
    where = "--set rules.threats.credibility=0.5"
    assert tree.position(("rules", "threats", "credibility")) == Position(where, 0, 0)
    assert validate_tree(tree).scenario.rules.threats.credibility == 0.5


def test_apply_override_old_values() -> None:
    tree = load_tree(VALID)
    assert apply_override(tree, "rules.threats.credibility=0.3")["old"] == 0.6
    # a sourced value logs its number, and the override replaces it (dropping the source)
    entry = apply_override(tree, "states.BOL.gdp=5e10")
    assert (entry["old"], entry["new"]) == (4.58e10, 5e10)
    entry = apply_override(tree, "blocs.BRI.members[0]=BOL")
    assert (entry["old"], entry["new"]) == ("PAN", "BOL")
    apply_override(tree, "meta.name = spaced ")
    assert tree.data["meta"]["name"] == "spaced"
    loaded = validate_tree(tree)
    assert loaded.sources == {}
    assert [o["path"] for o in loaded.overrides] == [
        "rules.threats.credibility",
        "states.BOL.gdp",
        "blocs.BRI.members[0]",
        "meta.name",
    ]


@pytest.mark.parametrize(
    ("assignment", "says"),
    [
        ("noequals", "expected PATH=VALUE"),
        ("nosuch.x=1", "no section 'nosuch'"),
        ("a..b=1", "empty component"),
        ("blocs.BRI.members[7]=BOL", "index is out of range"),
        ("blocs.BRI.members[0].x=1", "cannot set this path"),
        ("meta.name.x=1", "cannot set this path"),
        ("time.start.x.y=1", "cannot descend into time.start.x"),
        ("meta.name=[1,", "bad value: not valid YAML"),
        ("meta.name=a: b", "bad value: not valid YAML"),
        ("meta.name=a\nb: c", "bad value: expected a single YAML value"),
        ("meta.name=!!python/name:os.system", "bad value: tag !!python/name:os.system"),
    ],
)
def test_apply_override_errors(assignment: str, says: str) -> None:
    tree = load_tree(VALID)
    with pytest.raises(ScenarioError) as info:
        apply_override(tree, assignment)
    [p] = info.value.problems
    assert p.file == f"--set {assignment}" and p.line == 0
    assert says in p.message
    assert tree.overrides == []


# --------------------------------------------------------------------------- round trip

TEXT_CHARS = st.characters(
    codec="utf-8", exclude_categories=("Cs", "Cc", "Zl", "Zp"), include_characters="\n\t"
)
"""Any text but control characters and Unicode line separators (the dumper writes NEL raw).

Keys and values may be YAML-special (`true`, `null`, `<<`, `0x1F`, `NO`): the dumper quotes them.
"""
keys = st.from_regex(r"[a-z][a-z0-9_]{0,8}", fullmatch=True) | st.text(TEXT_CHARS, max_size=8)
scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(10**20), max_value=10**20)
    | st.floats(allow_nan=False)
    | st.text(TEXT_CHARS, max_size=20)
)
trees = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(keys, inner, max_size=4),
    max_leaves=20,
)


def _dump(data: Any) -> str:
    yaml = YAML(typ="safe", pure=True)
    yaml.default_flow_style = False
    buf = io.StringIO()
    yaml.dump(data, buf)
    return buf.getvalue()


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.dictionaries(keys, trees, min_size=1, max_size=5))
def test_round_trip(data: dict[str, Any]) -> None:
    text = _dump(data)
    got, positions = parse_yaml_text(text, "rt.yaml")
    assert got == data, text
    assert () in positions and all(pos.line >= 1 for pos in positions.values())
