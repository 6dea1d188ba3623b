"""Running out of memory is an environment failure: exit 1 and one sentence, never a traceback,
wherever the MemoryError lands, including in the code that reports it (issue 13, item 11).

A CI machine with more BLAS threads than this one ran out inside click's teardown after the
report had failed too, and printed a chain of MemoryErrors; `sim.cli.reserve` and
`sim.cli.entry` are the answer, and the slow test below reproduces that machine's layout
(`OPENBLAS_NUM_THREADS=8`) at several limits, each failing at a different point.
"""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import NoReturn

import click
import pytest
from click.testing import CliRunner, Result

import sim.cli
from sim.cli import common, entry, main, reserve

GEOSIM = [sys.executable, "-m", "sim"]
INTERNAL = re.compile(r"Traceback|internal error|This is a bug")


@pytest.fixture
def failing(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[BaseException]]:
    """A command `fail` that raises whatever the test puts in the returned list."""
    raised: list[BaseException] = []

    @click.command(name="fail")
    def fail() -> NoReturn:
        raise raised[0]

    monkeypatch.setitem(main.commands, "fail", fail)
    yield raised
    reserve.release()


def invoke(*args: str) -> Result:
    return CliRunner().invoke(main, list(args))


def test_a_memory_error_releases_the_reserve_before_reporting_and_exits_1(
    failing: list[BaseException],
) -> None:
    reserve.hold()
    assert reserve.held() == reserve.RESERVE_BYTES
    failing.append(MemoryError())
    r = invoke("fail")
    assert r.exit_code == 1, r.output
    assert reserve.OUT_OF_MEMORY in " ".join(r.output.split())
    assert not INTERNAL.search(r.output)
    assert reserve.held() == 0


def test_when_the_report_itself_runs_out_the_entry_point_still_says_it_in_one_sentence(
    failing: list[BaseException],
    monkeypatch: pytest.MonkeyPatch,
    capfd: pytest.CaptureFixture[str],
) -> None:
    """What the CI machine hit: the MemoryError again while rich formats the message."""

    def no_memory(*args: object, **kwargs: object) -> NoReturn:
        raise MemoryError

    failing.append(MemoryError())
    monkeypatch.setattr(common.err, "print", no_memory)
    monkeypatch.setattr(sys, "argv", ["geosim", "fail"])
    with pytest.raises(SystemExit) as exit_:
        entry()
    assert exit_.value.code == 1
    assert capfd.readouterr().err == reserve.LAST_WORDS.decode()
    assert reserve.held() == 0


def test_the_entry_point_passes_other_exits_through(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys, "argv", ["geosim", "--version"])
    with pytest.raises(SystemExit) as exit_:
        entry()
    assert exit_.value.code == 0


def test_a_library_the_loader_cannot_map_is_exit_1_in_the_loaders_words(
    failing: list[BaseException],
) -> None:
    """A lazy import under `ulimit -v`: glibc's words, as measured at a 250 MB limit."""
    failing.append(ImportError("libparquet.so.2600: failed to map segment from shared object"))
    r = invoke("fail")
    assert r.exit_code == 1, r.output
    assert not INTERNAL.search(r.output), r.output
    text = " ".join(r.output.split())
    assert "could not load a compiled library: libparquet.so.2600" in text
    assert "failed to map segment" in text


def test_an_import_error_of_geosims_own_code_stays_a_bug(failing: list[BaseException]) -> None:
    failing.append(ImportError("cannot import name 'wrong' from 'sim.model'"))
    r = invoke("fail")
    assert r.exit_code == 3, r.output
    assert "internal error" in r.output


def test_the_installed_command_and_python_m_sim_both_start_at_the_entry_point() -> None:
    assert sim.cli.entry is entry
    pyproject = (Path(__file__).resolve().parents[1] / "pyproject.toml").read_text()
    assert 'geosim = "sim.cli:entry"' in pyproject
    main_py = (Path(sim.cli.__file__).parents[1] / "__main__.py").read_text()
    assert "entry()" in main_py


REPORTS = ("ran out of memory", "could not load a compiled library", "OpenBLAS error")
"""Exit 1 in any of these words: geosim's two, or OpenBLAS's own when it cannot allocate its
thread buffers (it prints "Memory allocation still failed" and exits 1 itself)."""


@pytest.mark.slow
def test_a_memory_limit_is_counted_by_the_estimate_and_running_out_anywhere_is_exit_1(
    tmp_path: Path,
) -> None:
    """`ulimit -v` used to end in MemoryError, exit 3, after a minute of work; then, on a
    machine with more BLAS threads, in a chain of tracebacks. The limits were picked by a
    sweep on this machine: 250 MB fails loading pyarrow, 450 MB loading OpenBLAS (or in
    OpenBLAS), 700 MB in the middle of the run; they are all exit 1 without a traceback."""
    run = [*GEOSIM, "run", "latam_2025", "-n", "500", "--no-plot"]
    env = {**os.environ, "OPENBLAS_NUM_THREADS": "8"}

    def limited(kb: int, *extra: str) -> subprocess.Popen[str]:
        command = shlex.join([*run, "--out", str(tmp_path / str(kb)), *extra])
        return subprocess.Popen(
            ["bash", "-c", f"ulimit -v {kb}; exec {command}"],
            env=env,
            stderr=subprocess.PIPE,
            stdout=subprocess.DEVNULL,
            text=True,
        )

    refused = limited(700_000)
    _, stderr = refused.communicate(timeout=300)
    assert refused.returncode == 2, stderr
    assert "address-space limit (ulimit -v)" in stderr and "--force" in stderr
    forced = {kb: limited(kb, "--force") for kb in (250_000, 450_000, 700_000)}
    for kb, p in forced.items():
        _, stderr = p.communicate(timeout=300)
        assert p.returncode == 1, (kb, stderr)
        assert not INTERNAL.search(stderr), (kb, stderr)
        assert any(words in stderr for words in REPORTS), (kb, stderr)
