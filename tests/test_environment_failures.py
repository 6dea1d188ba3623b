"""When the machine fails, not the input: exit 1 naming the path or address and the operating
system's reason; a missing or corrupt file in a folder the user names is bad input, exit 2.
Never exit 3 ("a bug in geosim") or a traceback (issue 13, item 11).

Tests run as root here, and root ignores file permissions: the read-only cases run the command
as an unprivileged process (`unprivileged` below). A full disk is injected (`OSError(ENOSPC)`
from the writers), a file-size limit is real (`ulimit -f`), and so are a killed worker and an
unreachable scheduler.
"""

from __future__ import annotations

import copy
import errno
import json
import os
import re
import shlex
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, cast

import click
import matplotlib.figure
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from click.testing import CliRunner, Result
from conftest import MINI
from ruamel.yaml import YAML

import sim.sweep
from sim.cli import main
from sim.errors import os_reason

REPO = Path(__file__).resolve().parents[1]
GEOSIM = [sys.executable, "-m", "sim"]
CRED, BACKLASH = "rules.threats.credibility", "rules.alignment.coercion_backlash"
GRID = ["--param", f"{CRED}=0.2:0.8:3"]
INTERNAL = re.compile(r"Traceback|internal error|This is a bug")
NO_SPACE = os.strerror(errno.ENOSPC)


def invoke(*args: object) -> Result:
    return CliRunner().invoke(main, [str(a) for a in args])


def flat(text: str) -> str:
    """Output with line wrapping undone (paths may be long)."""
    return " ".join(text.split())


def assert_exit(code: int, returncode: int, output: str, *needles: object) -> None:
    """The exit status, no traceback or "internal error", and every needle in the message."""
    assert returncode == code, output
    assert not INTERNAL.search(output), output
    for needle in needles:
        assert str(needle) in flat(output), output


def write_mini(folder: Path) -> Path:
    path = folder / "mini.yaml"
    with path.open("w", encoding="utf-8") as fh:
        YAML().dump(copy.deepcopy(MINI), fh)
    return path


# --------------------------------------------------------------------------- folders to spoil


@pytest.fixture(scope="module")
def made(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """A run folder, a finished grid sweep and a finished Sobol sweep of the small world."""
    root = tmp_path_factory.mktemp("made")
    scenario = write_mini(root)
    r = invoke("run", scenario, "-n", "2", "--no-plot", "--out", root / "runs", "--name", "r")
    assert r.exit_code == 0, r.output
    r = invoke("sweep", scenario, *GRID, "-n", "2", "--out", root / "grid", "-q")
    assert r.exit_code == 0, r.output
    grid = Path(r.output.strip().splitlines()[-1])
    design = root / "sobol.yaml"
    design.write_text(
        f"method: sobol\nsamples: 4\nreplicates: 1\nparameters:\n"
        f"  {CRED}: {{low: 0.2, high: 0.9}}\n  {BACKLASH}: {{low: 0.0, high: 0.3}}\n"
    )
    r = invoke("sweep", scenario, "--design", design, "--out", root / "sobol", "-q")
    assert r.exit_code == 0, r.output
    sobol = Path(r.output.strip().splitlines()[-1])
    return {"scenario": scenario, "run": root / "runs" / "mini" / "r", "grid": grid, "sobol": sobol}


@pytest.fixture
def copies(made: dict[str, Path], tmp_path: Path) -> dict[str, Path]:
    """Copies of the made folders, free to spoil."""
    out = {"scenario": made["scenario"]}
    for name in ("run", "grid", "sobol"):
        out[name] = Path(shutil.copytree(made[name], tmp_path / name))
    return out


# --------------------------------------------------------------------------- a full disk


def _no_space(*args: Any, **kwargs: Any) -> None:
    # pyarrow's own wording: an errno, and no file name
    raise OSError(errno.ENOSPC, "Error writing bytes to file. Detail: [errno 28] " + NO_SPACE)


def _full_text_disk(monkeypatch: pytest.MonkeyPatch) -> None:
    """Writes of text files (manifests, sweep.json, references) fail as on a full disk."""
    real = os.fdopen

    class Full:
        def __init__(self, fh: Any) -> None:
            self.fh = fh

        def __enter__(self) -> Full:
            return self

        def __exit__(self, *exc: object) -> None:
            self.fh.close()

        def write(self, data: object) -> int:
            raise OSError(errno.ENOSPC, NO_SPACE)

    def fdopen(fd: int, mode: str = "r", *args: Any, **kwargs: Any) -> Any:
        fh = real(fd, mode, *args, **kwargs)
        return Full(fh) if "w" in mode else fh

    monkeypatch.setattr(os, "fdopen", fdopen)


@pytest.mark.parametrize("command", ["run", "sweep"])
def test_a_full_disk_while_writing_tables_exits_1_naming_the_folder(
    command: str, copies: dict[str, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(pq, "write_table", _no_space)
    what = ["--no-plot"] if command == "run" else GRID
    r = invoke(command, copies["scenario"], *what, "--out", tmp_path / "full")
    assert_exit(1, r.exit_code, r.output, tmp_path / "full", NO_SPACE)
    if command == "run":  # nothing half-written is left
        assert not list((tmp_path / "full" / "mini").iterdir())


def test_the_reason_is_the_operating_systems_words() -> None:
    assert os_reason(OSError(errno.EFBIG, "Detail: [errno 27] File too large")) == "File too large"
    assert (
        os_reason(PermissionError(errno.EACCES, "Permission denied", "/x")) == "Permission denied"
    )
    own = FileNotFoundError(errno.ENOENT, "No usable temporary directory found in ['/t']")
    assert os_reason(own) == own.strerror  # the raiser's own words say more than ENOENT's
    assert os_reason(OSError("Timed out trying to connect")) == "Timed out trying to connect"


def test_a_results_folder_that_cannot_be_published_gives_the_os_words_not_pyarrows(
    tmp_path: Path,
) -> None:
    """pyarrow words a full disk in prose of its own around the errno: the message gives the
    folder the user chose and the operating system's words, never the staging folder's name."""
    from sim.errors import OutputError
    from sim.publish import claimed, publish

    def fill(staging: Path) -> None:
        raise OSError(errno.ENOSPC, f"Error writing bytes to file. Detail: [errno 28] {NO_SPACE}")

    with claimed(tmp_path, "one", "one") as slot, pytest.raises(OutputError) as caught:
        publish(slot, fill)
    assert str(caught.value) == f"cannot write results into {tmp_path}: {NO_SPACE}"
    assert not list(tmp_path.glob(".one.*"))  # the staging folder went with the failure


@pytest.mark.parametrize("command", ["sweep", "schema"])
def test_a_full_disk_while_writing_a_text_file_exits_1_naming_the_file(
    command: str, copies: dict[str, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _full_text_disk(monkeypatch)
    if command == "sweep":  # sweep.json is its first file
        r = invoke("sweep", copies["scenario"], *GRID, "--out", tmp_path / "full")
        where = tmp_path / "full"
    else:
        where = tmp_path / "format.md"
        r = invoke("schema", "--out", where)
    assert_exit(1, r.exit_code, r.output, where, NO_SPACE)


def test_a_full_disk_while_plotting_exits_1_naming_the_figure(
    copies: dict[str, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(matplotlib.figure.Figure, "savefig", _no_space)
    r = invoke("plot", copies["run"])
    assert_exit(1, r.exit_code, r.output, copies["run"], NO_SPACE)
    r = invoke("plot", copies["grid"], "--by", CRED)
    assert_exit(1, r.exit_code, r.output, copies["grid"], NO_SPACE)
    assert not [p.name for p in copies["run"].iterdir() if p.name.endswith(".tmp")]


def test_a_full_disk_while_sensitivity_writes_its_tables_exits_1(
    copies: dict[str, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(pd.DataFrame, "to_csv", _no_space)
    r = invoke("sensitivity", copies["sobol"], "--outcome", "mean_tilt@end")
    assert_exit(1, r.exit_code, r.output, copies["sobol"] / "sensitivity-mean_tilt@end.csv")
    assert NO_SPACE in r.output


# --------------------------------------------------------------------------- --out /dev/null


@pytest.mark.parametrize("command", ["run", "sweep", "plot", "schema"])
def test_out_dev_null_exits_1_naming_it(command: str, copies: dict[str, Path]) -> None:
    args: dict[str, list[object]] = {
        "run": ["run", copies["scenario"], "--no-plot", "--out", "/dev/null"],
        "sweep": ["sweep", copies["scenario"], *GRID, "--out", "/dev/null"],
        "plot": ["plot", copies["run"], "--out", "/dev/null"],
        "schema": ["schema", "--out", "/dev/null/format.md"],
    }
    r = invoke(*args[command])
    assert_exit(1, r.exit_code, r.output, "/dev/null")
    assert re.search(r"Not a directory|not a folder", r.output), r.output


# --------------------------------------------------------------------------- workers and clusters


def test_a_worker_process_killed_mid_sweep_exits_1_saying_so(
    copies: dict[str, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from concurrent.futures.process import BrokenProcessPool

    def broken(*args: Any, **kwargs: Any) -> None:
        raise BrokenProcessPool("A process in the process pool was terminated abruptly")

    monkeypatch.setattr(sim.sweep, "run_chunks", broken)
    r = invoke("sweep", copies["scenario"], *GRID, "-w", "2", "--out", tmp_path)
    assert_exit(1, r.exit_code, r.output, "worker process was terminated abruptly", "resume")


def test_dask_workers_killed_exit_1_naming_the_last(
    copies: dict[str, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from types import SimpleNamespace

    from distributed.scheduler import KilledWorker

    def killed(*args: Any, **kwargs: Any) -> None:
        worker = cast(Any, SimpleNamespace(address="tcp://10.0.0.7:40000"))
        raise KilledWorker("run_chunk-1", worker, 3)

    monkeypatch.setattr(sim.sweep, "run_chunks", killed)
    r = invoke("sweep", copies["scenario"], *GRID, "--out", tmp_path)
    assert_exit(1, r.exit_code, r.output, "Dask workers died", "tcp://10.0.0.7:40000")


@pytest.mark.slow
def test_an_unreachable_scheduler_exits_1_naming_its_address(
    copies: dict[str, Path], tmp_path: Path
) -> None:
    args = ["sweep", str(copies["scenario"]), *GRID, "--out", str(tmp_path)]
    p = subprocess.run(
        [*GEOSIM, *args, "--scheduler", "tcp://127.0.0.1:1"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert_exit(1, p.returncode, p.stderr, "tcp://127.0.0.1:1")


@pytest.mark.slow
def test_a_worker_killed_with_sigkill_mid_sweep_exits_1(tmp_path: Path) -> None:
    """A real pool: SIGKILL one worker while it runs; the sweep says so and exits 1."""
    args = ["sweep", "latam_2025", "--param", f"{CRED}=0.1:0.9:40", "-w", "2"]
    proc = subprocess.Popen(
        [*GEOSIM, *args, "--chunk-size", "1", "--out", str(tmp_path)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        victim = _a_busy_worker(proc.pid, timeout=60)
        os.kill(victim, signal.SIGKILL)
        _, stderr = proc.communicate(timeout=120)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert_exit(1, proc.returncode, stderr, "worker process was terminated abruptly")


def _a_busy_worker(pid: int, timeout: float) -> int:
    """A pool worker of `pid` that has run for a while: a grandchild (forked by the pool's
    forkserver) with over half a second of CPU time."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and Path(f"/proc/{pid}").exists():
        procs = {int(p.name): _stat(p) for p in Path("/proc").glob("[0-9]*")}
        for child in [c for c, (ppid, _) in procs.items() if ppid == pid]:
            busy = [g for g, (ppid, cpu) in procs.items() if ppid == child and cpu > 0.5]
            if busy:
                return busy[0]
        time.sleep(0.2)
    raise AssertionError("no pool worker appeared")


def _stat(proc: Path) -> tuple[int, float]:
    """(parent pid, user CPU seconds) of a /proc entry; (0, 0) if it ended meanwhile."""
    try:
        fields = (proc / "stat").read_text().rpartition(")")[2].split()
    except OSError:
        return 0, 0.0
    return int(fields[1]), int(fields[11]) / os.sysconf("SC_CLK_TCK")


# --------------------------------------------------------------------------- file-size limit


@pytest.mark.slow
@pytest.mark.parametrize("command", ["run", "sweep", "plot"])
def test_a_file_size_limit_exits_1_naming_the_file_and_is_not_killed_by_sigxfsz(
    command: str, copies: dict[str, Path], tmp_path: Path
) -> None:
    args = {
        "run": ["run", copies["scenario"], "--out", tmp_path / "out"],
        "sweep": ["sweep", copies["scenario"], *GRID, "--out", tmp_path / "out"],
        "plot": ["plot", copies["run"], "--out", tmp_path / "out"],
    }[command]
    # `ulimit -f 8`: 8 KiB; every command writes a bigger file early on
    line = shlex.join(map(str, [*GEOSIM, *args]))
    p = subprocess.run(
        ["bash", "-c", f"ulimit -f 8 && exec {line}"], capture_output=True, text=True, timeout=300
    )
    assert p.returncode != -signal.SIGXFSZ, "killed by SIGXFSZ"
    assert_exit(1, p.returncode, p.stderr, tmp_path / "out", os.strerror(errno.EFBIG))


# --------------------------------------------------------------------------- read-only folders


@pytest.fixture(scope="module")
def unprivileged() -> list[str]:
    """A command prefix that runs geosim where file permissions are enforced.

    Not root: nothing. As root: `setpriv` to user nobody, else `runuser -u nobody`; when nobody
    cannot run this Python (it lives under a private /root), root without the capabilities that
    override permissions (`setpriv --bounding-set=-dac_override,...`). Skipped, saying why,
    when none of them works.
    """
    if os.geteuid() != 0:
        return []
    candidates = [
        ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"],
        ["runuser", "-u", "nobody", "--"],
        ["setpriv", "--bounding-set=-dac_override,-dac_read_search,-fowner", "--inh-caps=-all"],
    ]
    tried = []
    for prefix in candidates:
        if shutil.which(prefix[0]) is None:
            tried.append(f"{prefix[0]}: not installed")
            continue
        why = _enforces_permissions(prefix)
        if why is None:
            return prefix
        tried.append(f"{' '.join(prefix)}: {why}")
    pytest.skip("no way to run without root's permission override: " + "; ".join(tried))


def _enforces_permissions(prefix: list[str]) -> str | None:
    """None if geosim runs under `prefix` and a read-only folder refuses it; else why not."""
    with tempfile.TemporaryDirectory() as tmp:
        os.chmod(tmp, 0o755)
        folder = Path(tmp, "ro")
        folder.mkdir(mode=0o555)
        folder.chmod(0o555)
        probe = "import sim.cli, sys; open(sys.argv[1], 'w')"
        p = subprocess.run(
            [*prefix, sys.executable, "-c", probe, str(folder / "x")],
            capture_output=True,
            text=True,
            timeout=60,
            cwd=REPO,
        )
    if "PermissionError" in p.stderr:
        return None
    return (p.stderr.strip().splitlines() or [f"exit {p.returncode}, no error"])[-1][:200]


def _open_up(path: Path) -> None:
    """Let another user reach `path` (pytest's folders are private to their owner)."""
    for p in [path, *path.parents]:
        if p.stat().st_uid == os.geteuid():
            p.chmod(p.stat().st_mode | 0o055)
        if p == Path(tempfile.gettempdir()):
            break


def _read_only(path: Path) -> Path:
    for p in [path, *path.rglob("*")]:
        p.chmod(0o555 if p.is_dir() else 0o444)
    return path


@pytest.fixture
def as_nobody(unprivileged: list[str], copies: dict[str, Path], tmp_path: Path) -> Any:
    """Run geosim under `unprivileged`; returns (exit status, stderr)."""
    for p in tmp_path.rglob("*"):
        p.chmod(p.stat().st_mode | 0o055)
    _open_up(tmp_path)
    home = tmp_path / "home"
    home.mkdir(mode=0o777)
    home.chmod(0o777)
    env = {**os.environ, "HOME": str(home), "MPLCONFIGDIR": str(home), "TMPDIR": str(home)}

    def run(*args: object) -> tuple[int, str]:
        p = subprocess.run(
            [*unprivileged, *GEOSIM, *map(str, args)],
            capture_output=True,
            text=True,
            timeout=300,
            cwd=REPO,
            env=env,
        )
        return p.returncode, p.stderr

    return run


@pytest.mark.slow
def test_read_only_results_folders_exit_1_naming_the_folder(
    as_nobody: Any, copies: dict[str, Path], tmp_path: Path
) -> None:
    scenario = copies["scenario"]
    locked = _read_only(Path(tempfile.mkdtemp(dir=tmp_path)))
    code, stderr = as_nobody("run", scenario, "--no-plot", "--out", locked)
    assert_exit(1, code, stderr, locked, "Permission denied")
    # the results root is writable, the scenario's folder in it is not
    root = tmp_path / "root"
    (root / "mini").mkdir(parents=True)
    _read_only(root / "mini")
    for name in ([], ["--name", "mine"]):
        code, stderr = as_nobody("run", scenario, "--no-plot", "--out", root, *name)
        assert_exit(1, code, stderr, root / "mini", "Permission denied")
    code, stderr = as_nobody("sweep", scenario, *GRID, "--out", locked)
    assert_exit(1, code, stderr, locked, "Permission denied")


@pytest.mark.slow
def test_read_only_run_and_sweep_folders_refuse_figures_and_tables_with_exit_1(
    as_nobody: Any, copies: dict[str, Path]
) -> None:
    run, grid, sobol = (_read_only(copies[k]) for k in ("run", "grid", "sobol"))
    code, stderr = as_nobody("plot", run)
    assert_exit(1, code, stderr, run, "Permission denied")
    code, stderr = as_nobody("plot", grid, "--outcome", "mean_tilt@end", "--x", CRED)
    assert_exit(1, code, stderr, grid, "Permission denied")
    code, stderr = as_nobody("sensitivity", sobol, "--outcome", "mean_tilt@end")
    assert_exit(1, code, stderr, sobol / "sensitivity-mean_tilt@end.csv", "Permission denied")


@pytest.mark.slow
def test_a_file_the_user_may_not_read_is_an_environment_failure_not_bad_input(
    as_nobody: Any, copies: dict[str, Path], tmp_path: Path
) -> None:
    """Missing is bad input (exit 2); present but refused by the OS is exit 1, with its words."""
    private = tmp_path / "private.yaml"
    shutil.copy(copies["scenario"], private)
    private.chmod(0o000)
    manifest = copies["run"] / "manifest.json"
    manifest.chmod(0o000)
    code, stderr = as_nobody("validate", private)
    assert_exit(1, code, stderr, f"cannot read {private}: Permission denied")
    code, stderr = as_nobody("reproduce", copies["run"])
    assert_exit(1, code, stderr, f"cannot read {manifest}: Permission denied")
    code, stderr = as_nobody("validate", tmp_path / "absent.yaml")
    assert_exit(2, code, stderr, "absent.yaml", "no such file")


# --------------------------------------------------------------------------- bad folders: exit 2


def _truncate(path: Path) -> None:
    path.write_bytes(path.read_bytes()[:100])


def _scramble(path: Path) -> None:
    """Flip bytes in the middle, keeping the Parquet footer: pyarrow raises OSError, no errno."""
    data = bytearray(path.read_bytes())
    for k in range(8, len(data) // 2, 7):
        data[k] ^= 0xFF
    path.write_bytes(bytes(data))


@pytest.mark.parametrize("spoil", [_truncate, _scramble])
@pytest.mark.parametrize("table", ["timeseries.parquet", "events.parquet"])
def test_plot_of_a_run_folder_with_a_corrupt_table_exits_2_naming_it(
    spoil: Any, table: str, copies: dict[str, Path]
) -> None:
    spoil(copies["run"] / table)
    r = invoke("plot", copies["run"])
    assert_exit(2, r.exit_code, r.output, copies["run"] / table)


@pytest.mark.parametrize(
    ("table", "command"),
    [
        ("runs.parquet", ["plot", "{grid}", "--outcome", "mean_tilt@end", "--x", CRED]),
        ("timeseries.parquet", ["plot", "{grid}", "--by", CRED]),
        ("runs.parquet", ["sensitivity", "{sobol}"]),
        ("points.parquet", ["sensitivity", "{sobol}", "--outcome", "mean_tilt@end"]),
    ],
)
def test_a_sweep_folder_with_a_corrupt_table_exits_2_naming_the_folder(
    table: str, command: list[str], copies: dict[str, Path]
) -> None:
    args = [a.format(grid=copies["grid"], sobol=copies["sobol"]) for a in command]
    folder = Path(args[1])
    _truncate(folder / table)
    r = invoke(*args)
    assert_exit(2, r.exit_code, r.output, folder)
    assert "corrupt" in r.output


def test_a_corrupt_chunk_of_a_sweep_without_its_tables_exits_2(copies: dict[str, Path]) -> None:
    grid = copies["grid"]
    (grid / "runs.parquet").unlink()
    _truncate(sorted((grid / "chunks").glob("runs-*.parquet"))[0])
    r = invoke("plot", grid, "--outcome", "mean_tilt@end", "--x", CRED)
    assert_exit(2, r.exit_code, r.output, grid)


def _spoil_manifest(manifest: Path, spoil: str) -> None:
    manifest.unlink()
    if spoil == "folder":
        manifest.mkdir()
    elif spoil == "fifo":
        os.mkfifo(manifest)  # a read would wait for a writer forever
    else:
        manifest.write_bytes(b"\xff\xfe\x00")


@pytest.mark.parametrize("spoil", ["binary", "folder", "fifo"])
@pytest.mark.parametrize(
    "command", [["plot", "{grid}", "--by", CRED], ["sensitivity", "{sobol}"]], ids=["plot", "sa"]
)
def test_a_sweep_manifest_that_is_not_text_or_not_a_file_exits_2(
    spoil: str, command: list[str], copies: dict[str, Path]
) -> None:
    args = [a.format(grid=copies["grid"], sobol=copies["sobol"]) for a in command]
    manifest = Path(args[1]) / "sweep.json"
    _spoil_manifest(manifest, spoil)
    r = invoke(*args)
    assert_exit(2, r.exit_code, r.output, manifest)
    assert {"binary": "not UTF-8", "folder": "directory", "fifo": "FIFO"}[spoil] in r.output


@pytest.mark.parametrize(
    ("edit", "problem"),
    [
        (lambda m: m.update(design={"method": "bogus"}), "design.method: Input should be"),
        (lambda m: m.pop("design"), "design: missing"),
        (lambda m: m["design"].update(replicates=-1), "design.replicates: Input should be"),
        (lambda m: m["design"].update(parameters={}), "design.parameters:"),
        (lambda m: m.update(timeseries=7), "timeseries: expected a list of variable names"),
        (lambda m: m.update(status=None), "status: expected one of running, complete, found null"),
        (lambda m: m.update(runs="8"), "runs: expected a count of runs, found a text"),
        (lambda m: m.update(fingerprint=[]), "fingerprint: expected a text, found a list"),
    ],
    ids=["method", "no-design", "replicates", "parameters", "timeseries", "status", "runs", "fp"],
)
@pytest.mark.parametrize(
    "command",
    [["plot", "{grid}", "--by", CRED], ["sensitivity", "{sobol}"], ["sweep"]],
    ids=["plot", "sa", "resume"],
)
def test_an_edited_sweep_manifest_exits_2_naming_the_field(
    edit: Any, problem: str, command: list[str], copies: dict[str, Path], made: dict[str, Path]
) -> None:
    """Each of these was an internal error (exit 3) or pydantic's prose before."""
    if command == ["sweep"]:  # resuming: the same sweep, its folder where the sweep puts it
        root = copies["grid"].parent / "root"
        folder = Path(shutil.copytree(copies["grid"], root / "sweeps" / made["grid"].name))
        args: list[Any] = ["sweep", copies["scenario"], *GRID, "-n", "2", "--out", root]
    else:
        args = [a.format(grid=copies["grid"], sobol=copies["sobol"]) for a in command]
        folder = Path(args[1])
    manifest = folder / "sweep.json"
    data = json.loads(manifest.read_text("utf-8"))
    edit(data)
    manifest.write_text(json.dumps(data), "utf-8")
    r = invoke(*args)
    assert_exit(2, r.exit_code, r.output, manifest, "not a geosim sweep manifest", problem)


def _set(column: str, values: Any) -> Any:
    def spoil(t: pa.Table) -> pa.Table:
        return t.set_column(t.schema.get_field_index(column), column, pa.array(values(t)))

    return spoil


@pytest.mark.parametrize(
    ("spoil", "problem"),
    [
        (lambda t: pa.table({"a": [1]}), "no column 'run'"),
        (lambda t: t.drop_columns(["status"]), "no column 'status'"),
        (lambda t: t.drop_columns([CRED]), f"no column '{CRED}'"),
        (_set("status", lambda t: [5] * t.num_rows), "column 'status' holds int64, not string"),
        (_set("run", lambda t: ["x"] * t.num_rows), "column 'run' holds string, not int64"),
        (_set(CRED, lambda t: ["x"] * t.num_rows), f"column '{CRED}' holds string"),
        (
            _set("mean_tilt@end", lambda t: ["x"] * t.num_rows),
            "outcome column 'mean_tilt@end' holds string, not numbers or true/false",
        ),
    ],
    ids=["other-table", "no-status", "no-parameter", "status", "run", "parameter", "outcome"],
)
@pytest.mark.parametrize(
    "command",
    [["plot", "{grid}", "--outcome", "mean_tilt@end", "--x", CRED], ["sensitivity", "{sobol}"]],
    ids=["plot", "sa"],
)
def test_a_runs_table_replaced_by_another_parquet_file_exits_2_naming_the_column(
    spoil: Any, problem: str, command: list[str], copies: dict[str, Path]
) -> None:
    """A valid Parquet file that is not the sweep's runs table: these were exit 3 before."""
    args = [a.format(grid=copies["grid"], sobol=copies["sobol"]) for a in command]
    table = Path(args[1]) / "runs.parquet"
    pq.write_table(spoil(pq.read_table(table)), table)
    r = invoke(*args)
    assert_exit(2, r.exit_code, r.output, table, "not this sweep's runs table", problem)


def test_reproduce_of_a_corrupt_table_reports_it_altered_not_a_crash(
    copies: dict[str, Path],
) -> None:
    _truncate(copies["run"] / "timeseries.parquet")
    r = invoke("reproduce", copies["run"])
    assert_exit(1, r.exit_code, r.output, "ALTERED timeseries.parquet")


# --------------------------------------------------------------------------- the command group


def test_schema_out_that_cannot_be_written_exits_1_naming_it(tmp_path: Path) -> None:
    target = tmp_path / "not-a-folder"
    target.write_text("a file where a folder is expected")
    r = invoke("schema", "--out", target / "schema.md")
    assert_exit(1, r.exit_code, r.output, target / "schema.md")


def test_an_os_error_in_a_command_without_handle_errors_exits_1_without_a_traceback(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A command added without `handle_errors`: the command group maps its errors."""

    @click.command(name="bare")
    def bare() -> None:
        raise PermissionError(errno.EACCES, os.strerror(errno.EACCES), "/srv/geosim")

    monkeypatch.setitem(main.commands, "bare", bare)
    r = invoke("bare")
    assert isinstance(r.exception, SystemExit), r.exception  # not an escaped PermissionError
    assert_exit(1, r.exit_code, r.output, "/srv/geosim: Permission denied")
