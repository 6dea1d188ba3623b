"""Results must not lie: regression tests for issue 6's integrity items.

Each test reproduces a way a results folder or a log could claim something untrue: a run thrown
away by a figure that does not apply, folders clobbered by concurrent runs, names escaping the
results root, the enclosing repository's state written or recorded, wrong override logs, control
characters in folded YAML text, and a lifted tariff whose threat stays in force.
"""

from __future__ import annotations

import copy
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from click.testing import CliRunner
from ruamel.yaml import YAML

from sim.cli import main
from sim.loader import parse_yaml_text
from sim.results import REQUIRED_FILES, sha256
from sim.runner import run
from sim.scenario import load_scenario, scenario_from_dict
from sim.vocabulary import LogKind

REPO = Path(__file__).resolve().parent.parent


def write_yaml(path: Path, data: dict[str, Any]) -> Path:
    with path.open("w", encoding="utf-8") as fh:
        YAML().dump(data, fh)
    return path


def cli(*args: str) -> Any:
    return CliRunner().invoke(main, list(args))


def assert_folder_whole(folder: Path) -> None:
    """A published folder holds every table, each matching the manifest's hash."""
    manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    assert set(manifest["outputs"]) == set(REQUIRED_FILES), folder
    for name, digest in manifest["outputs"].items():
        assert sha256(folder / name) == digest, f"{folder / name} disagrees with its manifest"


# --------------------------------------------------------------------------- 1. no blocs


def test_run_without_blocs_keeps_results_and_skips_the_bloc_figure(
    tmp_path: Path, mini_dict: dict[str, Any]
) -> None:
    data = copy.deepcopy(mini_dict)
    data.pop("blocs")
    data["powers"]["USA"].pop("policies")
    data["events"].pop("canal")
    data["expect"].pop("pan_leaves")
    data["states"]["PAN"].pop("bloc_salience")
    data["states"]["MEX"].pop("stays_out")
    path = write_yaml(tmp_path / "nobloc.yaml", data)
    r = cli("run", str(path), "-n", "3", "--out", str(tmp_path / "out"))
    assert r.exit_code == 0, r.output
    assert "skipped" in r.output and "no blocs" in r.output
    folders = [p for p in (tmp_path / "out" / "mini").iterdir() if not p.name.startswith(".")]
    assert len(folders) == 1
    assert_folder_whole(folders[0])
    assert (folders[0] / "alignment.png").is_file()
    assert not (folders[0] / "blocs.png").exists()


# --------------------------------------------------------------------------- 2. concurrency


def _start_runs(
    root: Path, n: int, name: str | None, scenario: Path
) -> list[subprocess.Popen[str]]:
    extra = ["--name", name] if name else []
    cmd = [sys.executable, "-m", "sim", "run", str(scenario), "--seed", "5", "-n", "2"]
    return [
        subprocess.Popen(
            [*cmd, "--no-plot", "--quiet", "--out", str(root), *extra],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(n)
    ]


def _finish(procs: list[subprocess.Popen[str]]) -> list[tuple[int, str, str]]:
    out = []
    for p in procs:
        stdout, stderr = p.communicate(timeout=300)
        out.append((p.returncode, stdout, stderr))
    return out


@pytest.mark.slow
@pytest.mark.parametrize("same_name", [False, True], ids=["automatic-names", "same-name"])
def test_concurrent_runs_never_corrupt_published_folders(
    tmp_path: Path, mini_file: Path, same_name: bool
) -> None:
    """20 trials of three simultaneous runs of the same scenario and seed (real processes)."""
    for trial in range(20):
        root = tmp_path / f"t{trial}"
        results = _finish(_start_runs(root, 3, "same" if same_name else None, mini_file))
        codes = sorted(code for code, _, _ in results)
        published = sorted(p for p in (root / "mini").iterdir() if not p.name.startswith("."))
        for folder in published:
            assert_folder_whole(folder)
        if same_name:
            assert codes == [0, 2, 2], results
            assert [p.name for p in published] == ["same"]
            refused = [err for code, _, err in results if code == 2]
            assert all("same" in err and "Traceback" not in err for err in refused), refused
        else:
            assert codes == [0, 0, 0], results
            assert len(published) == 3, published
            assert {out.strip() for _, out, _ in results} == {str(p) for p in published}
        assert not [p for p in (root / "mini").iterdir() if p.name.startswith(".")]


def test_existing_name_is_refused_and_left_untouched(tmp_path: Path, mini_file: Path) -> None:
    args = ("run", str(mini_file), "--no-plot", "--out", str(tmp_path), "--name", "keep")
    assert cli(*args).exit_code == 0
    folder = tmp_path / "mini" / "keep"
    before = {p.name: sha256(p) for p in folder.iterdir()}
    r = cli(*args, "--seed", "99")
    assert r.exit_code == 2
    assert "keep" in r.output and "exists" in r.output
    assert {p.name: sha256(p) for p in folder.iterdir()} == before


def test_name_being_written_is_refused(tmp_path: Path, mini_file: Path) -> None:
    """A name another process holds (its claim is locked) is refused at once, before running."""
    import fcntl

    from sim.publish import claim_path

    claim = claim_path(tmp_path / "mini", "busy")
    claim.parent.mkdir(parents=True)
    with claim.open("w") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        r = cli("run", str(mini_file), "--no-plot", "--out", str(tmp_path), "--name", "busy")
    assert r.exit_code == 2, r.output
    assert "being written" in r.output
    assert not (tmp_path / "mini" / "busy").exists()


def test_automatic_names_are_unique_within_one_second(tmp_path: Path, mini_file: Path) -> None:
    for _ in range(3):
        r = cli("run", str(mini_file), "--no-plot", "--seed", "1", "--out", str(tmp_path), "-q")
        assert r.exit_code == 0, r.output
    assert len([p for p in (tmp_path / "mini").iterdir() if not p.name.startswith(".")]) == 3


# --------------------------------------------------------------------------- 5. names


@pytest.mark.parametrize(
    "name", ["../../x", "/abs/path", "..", ".", "a/b", ".hidden", "", "x\x00y", "a\\b"]
)
def test_names_that_leave_the_results_root_are_refused(
    tmp_path: Path, mini_file: Path, name: str
) -> None:
    out = tmp_path / "root" / "results"
    r = cli("run", str(mini_file), "--no-plot", "--out", str(out), "--name", name)
    assert r.exit_code == 2, r.output
    assert "--name" in r.output
    assert "Traceback" not in r.output
    assert not any(tmp_path.rglob("manifest.json"))
    assert not (Path("/abs/path")).exists()


# --------------------------------------------------------------------------- 6. git revision


def _git(cwd: Path, *args: str) -> str:
    env = {**os.environ, "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.org"}
    env |= {"GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@example.org"}
    proc = subprocess.run(
        ["git", *args], cwd=cwd, capture_output=True, text=True, check=True, env=env
    )
    return proc.stdout.strip()


def _sha_seen_by(install_root: Path) -> str:
    """`git_sha()` as computed by a copy of the `sim` package installed under `install_root`."""
    proc = subprocess.run(
        [sys.executable, "-c", "from sim.results import git_sha; print(git_sha())"],
        env={**os.environ, "PYTHONPATH": str(install_root)},
        cwd=install_root,
        capture_output=True,
        text=True,
        check=True,
    )
    return proc.stdout.strip()


def _repo_with(tmp: Path, *, geosim: bool) -> tuple[Path, Path]:
    """A git repo holding a copy of `sim`: geosim's own checkout, or another project's venv."""
    repo = tmp / ("geosim" if geosim else "otherproject")
    install = repo if geosim else repo / ".venv" / "lib" / "site-packages"
    install.mkdir(parents=True)
    shutil.copytree(REPO / "sim", install / "sim", ignore=shutil.ignore_patterns("__pycache__"))
    name = "geosim" if geosim else "otherproject"
    (repo / "pyproject.toml").write_text(f'[project]\nname = "{name}"\n', encoding="utf-8")
    _git(repo, "init", "-q")
    _git(repo, "add", "-A")
    _git(repo, "commit", "-q", "-m", "init")
    return repo, install


def test_no_revision_recorded_and_nothing_written_in_another_projects_repo(
    tmp_path: Path,
) -> None:
    repo, install = _repo_with(tmp_path, geosim=False)
    (repo / "pyproject.toml").write_text('[project]\nname = "changed"\n', encoding="utf-8")
    index = repo / ".git" / "index"
    before = (index.stat().st_mtime_ns, index.read_bytes())
    assert _sha_seen_by(install) == "None"
    assert (index.stat().st_mtime_ns, index.read_bytes()) == before
    assert not (repo / ".git" / "index.lock").exists()


def test_geosim_checkout_revision_is_read_without_writing(tmp_path: Path) -> None:
    repo, install = _repo_with(tmp_path, geosim=True)
    head = _git(repo, "rev-parse", "HEAD")
    index = repo / ".git" / "index"
    os.utime(repo / "pyproject.toml")  # stale stat info: `git status` would rewrite the index
    before = (index.stat().st_mtime_ns, index.read_bytes())
    assert _sha_seen_by(install) == head
    (repo / "pyproject.toml").write_text('[project]\nname = "geosim"\n# edit\n', encoding="utf-8")
    assert _sha_seen_by(install) == f"{head}+dirty"
    assert (index.stat().st_mtime_ns, index.read_bytes()) == before


# --------------------------------------------------------------------------- 7. override log


def test_override_of_a_default_logs_the_default_as_old(tmp_path: Path) -> None:
    r = cli("run", "--set", "rules.threats.credibility=0.5", "--no-plot", "--out", str(tmp_path))
    assert r.exit_code == 0, r.output
    assert "override rules.threats.credibility: 0.59 (default) -> 0.5" in r.output
    folder = next((tmp_path / "latam_2025").iterdir())
    manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    [entry] = manifest["overrides"]
    assert entry == {"path": "rules.threats.credibility", "old": 0.59, "new": 0.5, "default": True}


def test_override_of_a_written_value_is_not_marked_default() -> None:
    loaded = load_scenario("latam_2025", ["states.BOL.gdp=5e10"])
    [entry] = loaded.overrides
    assert entry["old"] == loaded.tree.data["states"]["BOL"]["gdp"] or entry["old"] > 1e10
    assert entry["default"] is False


def test_override_adding_a_new_entry_has_no_old_value() -> None:
    loaded = load_scenario("latam_2025", ["states.BOL.bloc_salience.BRI=0.01"])
    [entry] = loaded.overrides
    assert entry["old"] is None and entry["default"] is False


# --------------------------------------------------------------------------- 8. folded YAML


def test_folded_scalars_have_no_control_characters() -> None:
    data, _ = parse_yaml_text("a: >-\n  one\n  two\nb: >\n  x\n  y\n\n  z\n", "x.yaml")
    assert data == {"a": "one two", "b": "x y\nz\n"}


def test_baseline_manifest_has_no_bel_characters(tmp_path: Path) -> None:
    r = cli("run", "--no-plot", "--out", str(tmp_path))
    assert r.exit_code == 0, r.output
    folder = next((tmp_path / "latam_2025").iterdir())
    text = (folder / "manifest.json").read_text(encoding="utf-8")
    assert "\\u0007" not in text and "\x07" not in text


# --------------------------------------------------------------------------- 9. tariff_lift


def _lift_world(mini_dict: dict[str, Any]) -> dict[str, Any]:
    """Mexico faces a certain 25% tariff it is likely to defy; the tariff is lifted later."""
    data = copy.deepcopy(mini_dict)
    data["time"]["end"] = "2027-12"
    data["states"]["MEX"]["policies"]["border_enforcement"]["salience"] = 0.08
    data["events"]["border"]["credibility"] = 1.0
    data["events"]["border"]["interest"] = 1.0  # the US's own cost is no bar to imposing
    data["events"]["lift"] = {
        "type": "tariff_lift",
        "date": "2025-04",
        "sender": "USA",
        "target": "MEX",
    }
    return data


def test_tariff_lift_ends_the_threat_and_stops_reconsideration(mini_dict: dict[str, Any]) -> None:
    spec = scenario_from_dict(_lift_world(mini_dict)).scenario
    result = run(spec, seed=11, replicates=30)
    ev = result.events
    imposed = set(ev.loc[(ev["kind"] == LogKind.IMPOSED) & (ev["target"] == "MEX"), "replicate"])
    gave_in = set(ev.loc[(ev["kind"] == LogKind.COMPLIED) & (ev["actor"] == "MEX"), "replicate"])
    still = imposed - gave_in  # imposed, and not yet given in by reconsideration, at the lift
    assert len(still) >= 5  # enough replicates reach the interesting case
    lifted = ev[ev["kind"] == LogKind.LIFTED]
    assert set(lifted["replicate"]) == still
    assert (lifted["actor"] == "USA").all() and (lifted["target"] == "MEX").all()
    assert all(json.loads(d)["origin"] == "border" for d in lifted["details"])
    # step 0 is the initial state; the threat comes at step 2, imposition at 3, the lift at 4
    later = ev[(ev["step"] >= 4) & (ev["actor"] == "MEX") & (ev["kind"] == LogKind.COMPLIED)]
    assert later.empty, later
    ts = result.timeseries
    tariff = ts[(ts["state"] == "MEX") & (ts["variable"] == "tariff.USA") & (ts["step"] >= 4)]
    assert np.all(tariff["value"].to_numpy() == 0.0)
    model = result.model
    assert (model.loc[model["step"] >= 4, "threats_outstanding"] == 0).all()


def test_lifted_is_an_expectable_threat_outcome(mini_dict: dict[str, Any]) -> None:
    data = _lift_world(mini_dict)
    data["expect"]["lifted"] = {
        "type": "threat_outcome",
        "sender": "USA",
        "target": "MEX",
        "outcome": "lifted",
        "by": "2025-06",
        "share": 0.0,
    }
    spec = scenario_from_dict(data).scenario
    result = run(spec, seed=11, replicates=30)
    ev = result.events
    imposed = set(ev.loc[(ev["kind"] == LogKind.IMPOSED) & (ev["target"] == "MEX"), "replicate"])
    gave_in = set(ev.loc[(ev["kind"] == LogKind.COMPLIED) & (ev["actor"] == "MEX"), "replicate"])
    table = result.expectations().set_index("expectation")
    assert table.loc["lifted", "share"] == pytest.approx(len(imposed - gave_in) / 30)
