"""The built wheel holds every module and the shipped scenarios (an editable install hides
packaging mistakes such as a subpackage left out)."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.slow
def test_wheel_contains_every_module_and_scenario(tmp_path: Path) -> None:
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", str(ROOT), "--no-deps", "-q", "-w", str(tmp_path)],
        check=True,
        capture_output=True,
        timeout=600,
    )
    [wheel] = tmp_path.glob("geosim-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    expected = {
        str(p.relative_to(ROOT))
        for pattern in (
            "sim/**/*.py",
            "sim/scenarios/*.yaml",
            "sim/scenarios/history/*.yaml",
            "sim/calibration/*.yaml",
        )
        for p in ROOT.glob(pattern)
        if "__pycache__" not in p.parts
    }
    assert expected <= names, sorted(expected - names)
    history = [n for n in names if n.startswith("sim/scenarios/history/") and n.endswith(".yaml")]
    assert len(history) >= 12, history  # the backtest suite ships with the package
