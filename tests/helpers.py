"""Helpers shared by several test files."""

from __future__ import annotations

import signal
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from types import FrameType
from typing import Any

import pytest


def imported_modules(path: Path) -> set[str]:
    """Every module a source file imports, anywhere in it (for architecture tests)."""
    import ast

    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return names


class Hang(BaseException):
    """Code ran past its `time_limit` (BaseException: no `except Exception` may swallow it)."""


@contextmanager
def time_limit(seconds: float) -> Iterator[None]:
    """Raise Hang in the block once `seconds` have passed (main thread only: SIGALRM)."""

    def expire(signum: int, frame: FrameType | None) -> None:
        raise Hang(f"no answer in {seconds:g} s")

    previous = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def geosim_process(
    *args: str, timeout: float = 60, context: str = "", **run: Any
) -> subprocess.CompletedProcess[str]:
    """`python -m sim ARGS` in a process of its own, its output as text. A hang fails the test
    (naming the command and `context`) rather than stalling the suite; `run` goes to
    `subprocess.run` (cwd, env, preexec_fn)."""
    try:
        return subprocess.run(
            [sys.executable, "-m", "sim", *args],
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
            **run,
        )
    except subprocess.TimeoutExpired:
        pytest.fail(f"geosim {' '.join(args)} still running after {timeout} s {context}")
