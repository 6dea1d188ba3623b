"""End-to-end: the `geosim` command as a user runs it, and the results folders it writes."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from sim.cli import main
from sim.errors import ResultsError
from sim.results import DATA_FILES, REQUIRED_FILES, RunFolder, sha256, write_run
from sim.results_format import FORMAT_VERSION
from sim.runner import run
from sim.scenario import load_scenario
from sim.validation import builtin_scenarios_dir


def geosim(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "sim", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def only_run(root: Path) -> Path:
    runs = [p for p in (root).glob("*/*") if p.is_dir()]
    assert len(runs) == 1, runs
    return runs[0]


def test_run_builtin_baseline_end_to_end(tmp_path: Path) -> None:
    proc = geosim("run", "--replicates", "3", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    folder = only_run(tmp_path / "results")
    assert folder.parent.name == "latam_2025"
    names = {p.name for p in folder.iterdir()}
    assert set(REQUIRED_FILES) | {"manifest.json", "alignment.png", "alignment.svg"} <= names
    assert not {n for n in names if n.endswith(".csv")}  # CSV copies only with --csv
    manifest = json.loads((folder / "manifest.json").read_text())
    assert manifest["format_version"] == FORMAT_VERSION
    assert manifest["outcomes"] == {"dates": [], "custom": {}}
    assert set(manifest["outputs"]) == set(REQUIRED_FILES)
    assert manifest["replicates"] == 3 and len(manifest["seeds"]) == 3
    assert manifest["root_seed"] == 20250218
    assert {"mesa", "numpy", "python"} <= set(manifest["versions"])
    assert manifest["resolved_scenario"]["meta"]["name"] == "latam_2025"
    assert "results:" in proc.stdout and "pan_leaves_bri" in proc.stdout
    assert not list((tmp_path / "results" / "latam_2025").glob(".*partial"))


def test_same_seed_gives_identical_files_and_reproduce_confirms(tmp_path: Path) -> None:
    for name in ("a", "b"):
        r = CliRunner().invoke(
            main,
            [
                "run",
                "--seed",
                "7",
                "-n",
                "2",
                "--no-plot",
                "--name",
                name,
                "--out",
                str(tmp_path),
                "--csv",
                "--quiet",
            ],
        )
        assert r.exit_code == 0, r.output
    a, b = tmp_path / "latam_2025" / "a", tmp_path / "latam_2025" / "b"
    assert sorted(p.name for p in a.iterdir() if p.name != "manifest.json") == sorted(DATA_FILES)
    for f in DATA_FILES:
        assert sha256(a / f) == sha256(b / f), f
    r = CliRunner().invoke(main, ["reproduce", str(a)])
    assert r.exit_code == 0, r.output
    assert "reproduced byte for byte" in r.output


def test_overrides_are_logged_and_recorded(tmp_path: Path) -> None:
    r = CliRunner().invoke(
        main,
        [
            "run",
            "--set",
            "rules.threats.credibility=0.5",
            "--no-plot",
            "--out",
            str(tmp_path),
            "--name",
            "x",
        ],
    )
    assert r.exit_code == 0, r.output
    assert "override rules.threats.credibility: 0.59 (default) -> 0.5" in r.output
    m = RunFolder.open(tmp_path / "latam_2025" / "x").manifest
    assert m["overrides"] == [
        {"path": "rules.threats.credibility", "old": 0.59, "new": 0.5, "default": True}
    ]
    assert m["resolved_scenario"]["rules"]["threats"]["credibility"] == 0.5


def test_counterfactual_file_runs(tmp_path: Path) -> None:
    r = CliRunner().invoke(
        main,
        [
            "run",
            "scenarios/counterfactual_brics_tariff_imposed.yaml",
            "--no-plot",
            "--out",
            str(tmp_path),
            "-q",
        ],
        catch_exceptions=False,
    )
    assert r.exit_code == 0, r.output
    assert (tmp_path / "counterfactual_brics_tariff_imposed").is_dir()


def test_check_exits_1_on_a_miss_and_0_when_every_expectation_passes(tmp_path: Path) -> None:
    honest = CliRunner().invoke(main, ["check", "-n", "20"])  # the baseline's reported misses
    assert honest.exit_code == 1, honest.output
    assert "bra_drops_common_currency" in honest.output and "FAIL" in honest.output
    expectations = load_scenario("latam_2025").scenario.expect
    relaxed = [a for x in expectations for a in ("--set", f"expect.{x}.share=0")]  # ask nothing
    ok = CliRunner().invoke(main, ["check", "-n", "20", *relaxed])
    assert ok.exit_code == 0, ok.output
    assert "9/9 expectations reproduced" in ok.output and "scripted" not in ok.output
    # a join entered as an event sets Bolivia's membership: scripted, not counted, exit 1
    scripted = tmp_path / "scripted.yaml"
    base = (builtin_scenarios_dir() / "latam_2025.yaml").as_posix()
    scripted.write_text(
        f"extends: {base}\nevents:\n  bolivia_joins_brics: {{type: join, status: partner}}\n"
    )
    r = CliRunner().invoke(main, ["check", str(scripted), "-n", "20", *relaxed])
    assert r.exit_code == 1, r.output
    assert "8/8 expectations reproduced" in " ".join(r.output.split())
    assert "1 scripted by an event, not counted" in " ".join(r.output.split())
    broken = CliRunner().invoke(main, ["check", "-n", "5", "--set", "rules.threats.sharpness=0.01"])
    assert broken.exit_code == 1, broken.output
    assert "FAIL" in broken.output


def test_validate_sources_schema_list() -> None:
    r = CliRunner().invoke(main, ["validate", "scenarios/latam_2025.yaml"])
    assert r.exit_code == 0 and "ok:" in r.output
    r = CliRunner().invoke(main, ["sources", "latam_2025"])
    assert r.exit_code == 0 and "states.BOL.debt.CHN" in r.output and "article" in r.output
    r = CliRunner().invoke(main, ["schema"])
    assert r.exit_code == 0 and "## `rules.threats`" in r.output
    r = CliRunner().invoke(main, ["list"])
    assert "latam_2025" in r.output


def test_plot_command_writes_figures(tmp_path: Path) -> None:
    r = CliRunner().invoke(
        main, ["run", "-n", "2", "--no-plot", "--out", str(tmp_path), "--name", "p"]
    )
    assert r.exit_code == 0, r.output
    folder = tmp_path / "latam_2025" / "p"
    r = CliRunner().invoke(
        main,
        [
            "plot",
            str(folder),
            "--states",
            "BOL,PAN,BRA",
            "--format",
            "png",
            "--out",
            str(tmp_path / "fig"),
        ],
    )
    assert r.exit_code == 0, r.output
    assert (tmp_path / "fig" / "alignment.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    r = CliRunner().invoke(main, ["plot", str(tmp_path / "nope")])
    assert r.exit_code == 2 and "error" in r.output


def test_failed_write_leaves_no_folder(tmp_path: Path) -> None:
    loaded = load_scenario("latam_2025")
    result = run(loaded, replicates=1)

    def boom(_: Path) -> None:
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        write_run(result, loaded, tmp_path, folder_name="half", extra=boom)
    assert not any((tmp_path / "latam_2025").iterdir())
    write_run(result, loaded, tmp_path, folder_name="whole")
    with pytest.raises(ResultsError):
        write_run(result, loaded, tmp_path, folder_name="whole")


def test_library_api_returns_dataframes() -> None:
    import sim

    loaded = sim.load_scenario("latam_2025", ["rules.alignment.noise=0"])
    r = sim.run(loaded, seed=1, replicates=2)
    assert {"date", "state", "variable", "value"} <= set(r.timeseries.columns)
    table = r.expectations().set_index("expectation")
    assert list(table.index) == list(loaded.scenario.expect)
    for x in table.index:  # the share is the runs table's expectation column, averaged
        assert table.loc[x, "share"] == r.runs[f"expect.{x}"].mean()
        assert table.loc[x, "passed"] == (table.loc[x, "share"] >= table.loc[x, "required"])


def test_schema_errors_in_events_do_not_hide_reference_errors(tmp_path: Path) -> None:
    f = tmp_path / "s.yaml"
    f.write_text(
        "meta: {name: t}\n"
        "time: {start: 2025-01, end: 2025-12}\n"
        "powers: {USA: {name: US, gdp: 1e13}, CHN: {name: CN, gdp: 1e13}}\n"
        "states:\n"
        "  BOL: {name: B, gdp: 1e10, neighbours: [PERU]}\n"
        "events:\n"
        "  a: {type: thret, date: 2025-01}\n"
        "  b: {type: engagement, date: 2025-02, power: CHX, states: [BOL]}\n"
    )
    r = CliRunner().invoke(main, ["validate", str(f)])
    assert r.exit_code == 2
    lines = [ln for ln in r.output.splitlines() if ln.startswith("error:")]
    assert len(lines) == 3  # the schema error and both reference errors, in one pass
    assert any(":7:" in ln and "'thret'" in ln for ln in lines)
    assert any(":5:" in ln and "'PERU'" in ln for ln in lines)
    assert any(":8:" in ln and "'CHX'" in ln for ln in lines)


def test_the_command_line_loads_no_model_before_a_command_runs() -> None:
    # `geosim --help` and argument errors answer at once: commands import the library lazily
    code = "import sys, sim.cli; print(' '.join(sys.modules))"
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    loaded = set(proc.stdout.split())
    assert not loaded & {"sim.model", "sim.runner", "sim.sweep", "mesa", "pandas", "matplotlib"}
    assert set(main.commands) == {
        "run", "check", "reproduce", "validate", "sources", "schema", "list", "plot", "sweep",
        "sensitivity", "calibrate", "backcast-blocs", "backtest",
    }  # fmt: skip


def test_an_ascii_only_output_shows_unicode_as_escapes_not_a_crash() -> None:
    # `sources` prints the scenario's titles (an ellipsis in them): UnicodeEncodeError, exit 3
    env = {"PYTHONIOENCODING": "ascii", "PATH": "/usr/bin:/bin"}
    p = subprocess.run(
        [sys.executable, "-m", "sim", "sources", "latam_2025"],
        capture_output=True,
        text=True,
        encoding="ascii",
        env=env,
        timeout=120,
    )
    assert p.returncode == 0, p.stderr
    assert "\\u2026" in p.stdout and "Traceback" not in p.stderr
