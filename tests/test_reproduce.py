"""`geosim reproduce`: the folder's files are checked against the manifest before the re-run,
and a malformed manifest is refused like a malformed scenario (exit 2, a located message).

Exit status: 0 every data file identical; 1 a file altered, missing or different on re-run;
2 a bad folder or manifest. Cases that used to hang run in a subprocess under a timeout.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result
from helpers import geosim_process

from sim.cli import main
from sim.results_format import FORMAT_VERSION

TABLES = ("runs", "points", "timeseries", "events", "model", "expectations")
DATA = tuple(f"{t}.{ext}" for t in TABLES for ext in ("parquet", "csv"))
"""The data files of the shared folder (written with --csv)."""
FIXTURE_FORMAT1 = Path(__file__).resolve().parent / "fixtures" / "run_format1"
NOISE = re.compile(
    r"Traceback|internal error|PosixPath\(| object at 0x|<class |pydantic|errors\.pydantic\.dev"
    r"|\[type=|KeyError|TypeError|ValidationError"
)
"""Python internals that must never reach the user without --debug."""


@pytest.fixture(scope="module")
def original(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One small run folder written by `geosim run`, shared read-only by the tests."""
    root = tmp_path_factory.mktemp("runs")
    args = ["run", "latam_2025", "-n", "1", "--no-plot", "--out", str(root), "--name", "r", "-q"]
    args += ["--csv", "--at", "2025-06", "--outcome", "bol=tilt[BOL] > 0"]
    r = CliRunner().invoke(main, args)
    assert r.exit_code == 0, r.output
    return root / "latam_2025" / "r"


@pytest.fixture
def folder(original: Path, tmp_path: Path) -> Path:
    """A private copy of the run folder, safe to damage."""
    return Path(shutil.copytree(original, tmp_path / "run"))


def reproduce(*args: str) -> Result:
    return CliRunner().invoke(main, ["reproduce", *args])


def geosim(*args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    """The real command in a child process (a failure if it outlives `timeout`)."""
    return geosim_process(*args, timeout=timeout)


def edit_manifest(folder: Path, change: Callable[[dict[str, Any]], object]) -> None:
    path = folder / "manifest.json"
    data = json.loads(path.read_text(encoding="utf-8"))
    change(data)
    path.write_text(json.dumps(data, indent=2), encoding="utf-8")


def status_of(output: str, name: str) -> str:
    """The status word printed for data file `name`."""
    found = re.findall(rf"^(\S+) {re.escape(name)}\b", output, flags=re.MULTILINE)
    assert len(found) == 1, output
    return str(found[0])


# --------------------------------------------------------------------------- the folder's files


def test_untouched_folder_reproduces(folder: Path) -> None:
    r = reproduce(str(folder))
    assert r.exit_code == 0, r.output
    assert all(status_of(r.output, f) == "identical" for f in DATA)
    assert "reproduced byte for byte" in r.output


def test_edited_runs_table_is_reported_altered(folder: Path) -> None:
    with (folder / "runs.parquet").open("ab") as fh:
        fh.write(b"\0")
    with (folder / "runs.csv").open("a", encoding="utf-8") as fh:
        fh.write("0,XXX,0.0\n")
    r = reproduce(str(folder))
    assert r.exit_code == 1, r.output
    assert "ALTERED runs.parquet" in r.output and "ALTERED runs.csv" in r.output
    assert status_of(r.output, "events.parquet") == "identical"
    assert "reproduced byte for byte" not in r.output


def test_deleted_timeseries_is_reported_missing(folder: Path) -> None:
    (folder / "timeseries.parquet").unlink()
    r = reproduce(str(folder))
    assert r.exit_code == 1, r.output
    assert "MISSING timeseries.parquet" in r.output
    assert status_of(r.output, "runs.parquet") == "identical"
    assert "reproduced byte for byte" not in r.output


def test_folder_without_any_data_file_fails(folder: Path) -> None:
    for name in DATA:
        (folder / name).unlink()
    r = reproduce(str(folder))
    assert r.exit_code == 1, r.output
    assert all(status_of(r.output, f) == "MISSING" for f in DATA)
    assert "reproduced byte for byte" not in r.output


def test_data_file_present_but_not_listed_is_reported(folder: Path) -> None:
    edit_manifest(folder, lambda m: m["outputs"].pop("model.parquet"))
    r = reproduce(str(folder))
    assert r.exit_code == 1, r.output
    assert "ALTERED model.parquet" in r.output and "not listed" in r.output


def test_csv_copy_present_but_not_listed_is_reported(folder: Path) -> None:
    edit_manifest(folder, lambda m: m["outputs"].pop("model.csv"))
    r = reproduce(str(folder))
    assert r.exit_code == 1, r.output
    assert "ALTERED model.csv" in r.output and "not listed" in r.output
    assert status_of(r.output, "model.parquet") == "identical"


def test_required_table_neither_present_nor_listed_is_missing(folder: Path) -> None:
    (folder / "points.parquet").unlink()
    edit_manifest(folder, lambda m: m["outputs"].pop("points.parquet"))
    r = reproduce(str(folder))
    assert r.exit_code == 1, r.output
    assert "MISSING points.parquet" in r.output and "nor listed" in r.output


def test_folder_without_csv_copies_checks_only_its_parquet_files(tmp_path: Path) -> None:
    args = ["run", "latam_2025", "-n", "1", "--no-plot", "--out", str(tmp_path), "--name", "p"]
    assert CliRunner().invoke(main, [*args, "-q"]).exit_code == 0
    folder = tmp_path / "latam_2025" / "p"
    assert sorted(p.name for p in folder.glob("*.csv")) == []
    r = reproduce(str(folder))
    assert r.exit_code == 0, r.output
    listed = re.findall(r"^identical (\S+)$", r.output, flags=re.MULTILINE)
    assert listed == [f"{t}.parquet" for t in TABLES]


def test_rerun_that_differs_is_reported_different(folder: Path) -> None:
    # The folder is consistent with its (edited) manifest, but the model no longer produces it.
    from hashlib import sha256

    path = folder / "events.csv"
    path.write_bytes(path.read_bytes() + b"0,0,0,99,1,2025-01-01,x,USA,MEX,{}\n")
    digest = sha256(path.read_bytes()).hexdigest()
    edit_manifest(folder, lambda m: m["outputs"].update({"events.csv": digest}))
    r = reproduce(str(folder))
    assert r.exit_code == 1, r.output
    assert "DIFFERENT events.csv" in r.output
    assert status_of(r.output, "events.parquet") == "identical"
    assert status_of(r.output, "runs.csv") == "identical"


def test_data_file_that_is_a_fifo_or_device_does_not_hang(folder: Path) -> None:
    (folder / "runs.parquet").unlink()
    os.mkfifo(folder / "runs.parquet")
    (folder / "model.csv").unlink()
    (folder / "model.csv").symlink_to("/dev/zero")
    proc = geosim("reproduce", str(folder), timeout=120)  # hashing either never ends
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "ALTERED runs.parquet" in proc.stdout and "ALTERED model.csv" in proc.stdout
    assert "not a regular file" in proc.stdout


# --------------------------------------------------------------------------- a malformed manifest


def test_outputs_naming_a_device_is_refused_quickly(folder: Path) -> None:
    edit_manifest(folder, lambda m: m["outputs"].update({"../../dev/zero": "0" * 64}))
    try:  # refused before anything runs: seconds; the timeout is generous for loaded machines
        proc = geosim("reproduce", str(folder), timeout=60)
    except subprocess.TimeoutExpired:
        pytest.fail("geosim reproduce hung on an outputs entry naming ../../dev/zero")
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert "manifest.json: outputs" in proc.stderr and "../../dev/zero" in proc.stderr
    assert "runs.parquet" in proc.stderr and "runs.csv" in proc.stderr  # the allowed names
    assert not NOISE.search(proc.stderr), proc.stderr


def test_fifo_as_manifest_is_refused(folder: Path) -> None:
    (folder / "manifest.json").unlink()
    os.mkfifo(folder / "manifest.json")
    try:
        proc = geosim("reproduce", str(folder), timeout=60)
    except subprocess.TimeoutExpired:
        pytest.fail("geosim reproduce hung on a FIFO named manifest.json")
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert "manifest.json" in proc.stderr and "not a regular file" in proc.stderr
    assert not NOISE.search(proc.stderr), proc.stderr


def _set(path: str, value: Any) -> Callable[[dict[str, Any]], None]:
    """An edit that sets a dotted path of the manifest (creating nothing)."""

    def change(m: dict[str, Any]) -> None:
        *parents, last = path.split(".")
        node = m
        for p in parents:
            node = node[p]
        node[last] = value

    return change


MALFORMED: dict[str, tuple[Callable[[Path], object], str]] = {
    "not_json": (
        lambda f: (f / "manifest.json").write_text("{\n  'root_seed': 1\n}\n"),
        r"manifest\.json:2:3: .*JSON",
    ),
    "json_list": (
        lambda f: (f / "manifest.json").write_text("[1, 2, 3]\n"),
        r"manifest\.json: .*JSON object.*list",
    ),
    "missing_root_seed": (
        lambda f: edit_manifest(f, lambda m: m.pop("root_seed")),
        r"manifest\.json: root_seed: required field is missing",
    ),
    "root_seed_string": (
        lambda f: edit_manifest(f, _set("root_seed", "42")),
        r"manifest\.json: root_seed: .*integer.*'42'",
    ),
    "seeds_not_matching_replicates": (
        lambda f: edit_manifest(f, lambda m: m["seeds"].append(12345)),
        r"manifest\.json: seeds: 2 seeds .*replicates.* 1",
    ),
    "digest_not_hex": (
        lambda f: edit_manifest(f, lambda m: m["outputs"].update({"runs.parquet": "abc"})),
        r"manifest\.json: outputs\.runs\.parquet: .*SHA-256",
    ),
    "scenario_schema_error": (
        lambda f: edit_manifest(f, _set("resolved_scenario.time.start", "soon")),
        r"manifest\.json: resolved_scenario\.time\.start: ",
    ),
    "scenario_reference_error": (
        lambda f: edit_manifest(f, _set("resolved_scenario.blocs.BRI.leader", "XXX")),
        r"manifest\.json: resolved_scenario\.blocs\.BRI\.leader: unknown power 'XXX'",
    ),
    "not_a_manifest_version": (
        lambda f: edit_manifest(f, _set("format_version", "two")),
        rf"manifest\.json: format_version: expected {FORMAT_VERSION}, got 'two' "
        r"\(not a geosim run manifest\)",
    ),
    "outcomes_not_an_object": (
        lambda f: edit_manifest(f, _set("outcomes", ["2025-06"])),
        r"manifest\.json: outcomes: expected an object, got a list",
    ),
    "unknown_field": (
        lambda f: edit_manifest(f, _set("rootseed", 1)),
        r"manifest\.json: rootseed: unknown field",
    ),
    "outcome_date_not_a_month": (
        lambda f: edit_manifest(f, _set("outcomes.dates", ["2025-99"])),
        r"manifest\.json: outcomes\.dates\[0\]: month must be 01\.\.12, got '2025-99'$",
    ),
    "outcome_date_with_a_day": (
        lambda f: edit_manifest(f, _set("outcomes.dates", ["2025-06", "2025-02-30"])),
        r"manifest\.json: outcomes\.dates\[1\]: expected a date as YYYY-MM, got '2025-02-30'$",
    ),
    "outcome_date_outside_the_horizon": (
        lambda f: edit_manifest(f, _set("outcomes.dates", ["2025-06", "2040-01"])),
        r"manifest\.json: outcomes\.dates\[1\]: 2040-01 is outside the scenario's horizon",
    ),
    "outcome_date_repeated_outside_the_horizon": (
        # each entry named by its own index (found by text, both were [0])
        lambda f: edit_manifest(f, _set("outcomes.dates", ["2040-01", "2040-01"])),
        r"manifest\.json: outcomes\.dates\[0\]: 2040-01 is outside .*\n"
        r".*manifest\.json: outcomes\.dates\[1\]: 2040-01 is outside",
    ),
    "outcome_name_not_a_name": (
        lambda f: edit_manifest(f, _set("outcomes.custom", {"1x": "tilt[BOL]"})),
        r"manifest\.json: outcomes\.custom: outcome name '1x' must be letters, digits and _",
    ),
    "outcome_that_does_not_compile": (
        lambda f: edit_manifest(f, _set("outcomes.custom", {"x": "tilt[XXX] > 0"})),
        r"manifest\.json: outcomes\.custom\.x: column 6: unknown state 'XXX'",
    ),
    "outcome_nested_too_deeply": (
        lambda f: edit_manifest(f, _set("outcomes.custom", {"x": "(" * 99 + "1" + ")" * 99})),
        r"manifest\.json: outcomes\.custom\.x: column 51: the expression is nested too deeply",
    ),
}


@pytest.mark.parametrize("case", sorted(MALFORMED))
def test_malformed_manifest_is_refused_clearly(folder: Path, case: str) -> None:
    damage, says = MALFORMED[case]
    damage(folder)
    r = reproduce(str(folder))
    assert r.exit_code == 2, r.output
    assert re.search(says, r.output, flags=re.MULTILINE), r.output
    assert not NOISE.search(r.output), r.output
    assert "reproduced" not in r.output


def test_malformed_manifest_traceback_only_with_debug(folder: Path) -> None:
    edit_manifest(folder, lambda m: m.pop("root_seed"))
    r = CliRunner().invoke(main, ["--debug", "reproduce", str(folder)])
    assert r.exit_code == 2, r.output
    assert "Traceback" in r.output
    assert "root_seed: required field is missing" in r.output


def test_oversized_manifest_is_refused(folder: Path) -> None:
    edit_manifest(folder, _set("command", ["x" * 1000] * 20_000))
    r = reproduce(str(folder))
    assert r.exit_code == 2, r.output
    assert "manifest.json" in r.output and "larger than" in r.output


# --------------------------------------------------------------------------- the manifest model


def test_manifest_model_round_trips_what_write_run_writes(original: Path) -> None:
    from sim.manifest import DATA_FILES, Manifest, read_manifest

    raw = json.loads((original / "manifest.json").read_text(encoding="utf-8"))
    checked = read_manifest(original / "manifest.json")
    assert isinstance(checked, Manifest)
    assert checked.model_dump(mode="json", exclude_unset=True) == raw
    assert set(checked.outputs) == set(DATA_FILES) == set(DATA)
    assert checked.resolved_scenario.meta.name == "latam_2025"
    assert checked.format_version == FORMAT_VERSION
    assert checked.outcomes.dates == ["2025-06"]
    assert checked.outcomes.custom == {"bol": "tilt[BOL] > 0"}


# --------------------------------------------------------------------------- other formats


def test_reproduce_refuses_a_format1_folder_with_what_to_do() -> None:
    r = reproduce(str(FIXTURE_FORMAT1))
    assert r.exit_code == 2, r.output
    text = " ".join(r.output.split())
    assert str(FIXTURE_FORMAT1) in text
    assert "results format 1" in text and f"reads format {FORMAT_VERSION}" in text
    assert "re-run its command with this geosim: `geosim run latam_2025 -n 1 --seed 7" in text
    assert not NOISE.search(r.output), r.output
    assert "identical" not in r.output and "reproduced" not in r.output


@pytest.mark.parametrize("version", [1, 2, 4])
def test_reproduce_refuses_another_format_version(folder: Path, version: int) -> None:
    edit_manifest(folder, _set("format_version", version))
    r = reproduce(str(folder))
    assert r.exit_code == 2, r.output
    text = " ".join(r.output.split())
    assert f"{folder}: written in results format {version}" in text
    assert f"this geosim reads format {FORMAT_VERSION}" in text and "re-run its command" in text
    assert "identical" not in r.output


def test_manifest_with_overrides_validates(tmp_path: Path) -> None:
    from sim.manifest import read_manifest

    args = ["run", "latam_2025", "-n", "2", "--no-plot", "--out", str(tmp_path), "--name", "o"]
    args += ["--set", "rules.threats.credibility=0.5", "-q"]
    r = CliRunner().invoke(main, args)
    assert r.exit_code == 0, r.output
    m = read_manifest(tmp_path / "latam_2025" / "o" / "manifest.json")
    (o,) = m.overrides
    assert (o.path, o.new) == ("rules.threats.credibility", 0.5)
    assert len(m.seeds) == m.replicates == 2
