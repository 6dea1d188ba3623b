"""Plots read a real run folder of the small world and write valid, labelled PNG and SVG files."""

from __future__ import annotations

import itertools
import json
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from conftest import MINI
from helpers import imported_modules
from matplotlib.figure import Figure

import sim
import sim.plots
import sim.results
from sim.errors import ResultsError
from sim.figures.callouts import spread
from sim.plots import (
    Panel,
    choose_states,
    marked_events,
    plot_alignment,
    plot_alignment_grid,
    plot_blocs,
)
from sim.results import RunFolder, write_run
from sim.runner import run
from sim.scenario import scenario_from_dict

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def _run_folder(root: Path, replicates: int) -> Path:
    result = run(scenario_from_dict(MINI), replicates=replicates)
    return write_run(result, None, root, folder_name=f"r{replicates}")


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A finished 3-replicate run of the small world."""
    return _run_folder(tmp_path_factory.mktemp("results"), 3)


def svg_texts(path: Path) -> list[str]:
    """All text in an SVG file (parsing it proves it is well-formed XML)."""
    root = ET.parse(path).getroot()
    return ["".join(el.itertext()) for el in root.iter("{http://www.w3.org/2000/svg}text")]


def is_png(path: Path) -> bool:
    return path.read_bytes()[:8] == PNG_MAGIC


def test_alignment_writes_png_and_svg_into_the_run_folder(folder: Path) -> None:
    paths = plot_alignment(folder)
    assert paths == [folder / "alignment.png", folder / "alignment.svg"]
    assert is_png(paths[0])
    texts = svg_texts(paths[1])
    for code in ("BRA", "BOL", "PAN", "MEX"):
        assert code in texts  # each line is labelled at its end
    assert any("toward USA" in t and "toward CHN" in t for t in texts)
    assert not [p.name for p in folder.iterdir() if p.name.startswith(".")]  # no temp files


def test_alignment_marks_events_seen_in_most_replicates(folder: Path, tmp_path: Path) -> None:
    texts = svg_texts(plot_alignment(folder, out=tmp_path, formats=("svg",))[0])
    assert "USA→PAN threat" in texts
    assert "PAN left BRI" in texts
    assert "USA→MEX threat" in texts


def test_state_selection_limits_lines_and_events(folder: Path, tmp_path: Path) -> None:
    (svg,) = plot_alignment(folder, out=tmp_path, states=["PAN", "MEX"], formats=("svg",))
    texts = svg_texts(svg)
    assert "PAN" in texts and "MEX" in texts
    assert not any("BRA" in t or "BOL" in t for t in texts)


def test_unknown_state_lists_the_valid_codes(folder: Path, tmp_path: Path) -> None:
    with pytest.raises(ResultsError, match=r"unknown state 'XXX'.*BRA, BOL, PAN, MEX"):
        plot_alignment(folder, out=tmp_path, states=["PAN", "XXX"])
    with pytest.raises(ResultsError, match="unknown state 'XXX'"):
        plot_blocs(folder, out=tmp_path, states=["XXX"])
    assert not list(tmp_path.iterdir())


def test_variable_selection(folder: Path, tmp_path: Path) -> None:
    paths = plot_alignment(folder, out=tmp_path, variable="affinity.CHN")
    assert [p.name for p in paths] == ["affinity.CHN.png", "affinity.CHN.svg"]
    assert is_png(paths[0])
    assert any("affinity to CHN" in t for t in svg_texts(paths[1]))


def test_unknown_variable_lists_the_valid_ones(folder: Path, tmp_path: Path) -> None:
    with pytest.raises(ResultsError, match=r"unknown variable 'affinity\.RUS'.*tilt.*bloc\.BRI"):
        plot_alignment(folder, out=tmp_path, variable="affinity.RUS")


def test_unknown_format_is_refused(folder: Path, tmp_path: Path) -> None:
    with pytest.raises(ResultsError, match="unknown figure format 'docx'"):
        plot_alignment(folder, out=tmp_path, formats=("png", "docx"))
    assert not list(tmp_path.iterdir())


def test_title_and_run_folder_object(folder: Path, tmp_path: Path) -> None:
    (svg,) = plot_alignment(RunFolder.open(folder), out=tmp_path, formats=("svg",), title="Hi")
    assert "Hi" in svg_texts(svg)


def test_svg_bytes_are_reproducible(folder: Path, tmp_path: Path) -> None:
    (a,) = plot_alignment(folder, out=tmp_path / "a", formats=("svg",))
    (b,) = plot_alignment(folder, out=tmp_path / "b", formats=("svg",))
    assert a.read_bytes() == b.read_bytes()


def test_single_replicate_has_no_band(tmp_path: Path) -> None:
    one = _run_folder(tmp_path, 1)
    texts = svg_texts(plot_alignment(one, formats=("svg",))[0])
    assert any("median of 1 replicate." in t for t in texts)
    assert not any("percentile" in t for t in texts)


def test_bloc_timeline(folder: Path, tmp_path: Path) -> None:
    paths = plot_blocs(folder, out=tmp_path)
    assert [p.name for p in paths] == ["blocs.png", "blocs.svg"]
    assert is_png(paths[0])
    texts = " ".join(svg_texts(paths[1]))
    for word in ("BRI", "BRICS", "PAN", "BOL", "BRA", "member", "partner"):
        assert word in texts
    assert "MEX" not in texts  # never in a bloc: no bar


def test_bloc_timeline_of_a_state_never_in_a_bloc(folder: Path, tmp_path: Path) -> None:
    with pytest.raises(ResultsError, match="no bloc memberships"):
        plot_blocs(folder, out=tmp_path, states=["MEX"])


def test_failed_save_leaves_the_old_file_and_no_temporary(
    folder: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = tmp_path / "alignment.png"
    target.write_bytes(b"old")

    def broken(self: object, fh: object, **kwargs: object) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(Figure, "savefig", broken)
    with pytest.raises(OSError, match="disk full"):
        plot_alignment(folder, out=tmp_path, formats=("png",))
    assert target.read_bytes() == b"old"
    assert [p.name for p in tmp_path.iterdir()] == ["alignment.png"]


def test_no_pyplot_state_is_used(folder: Path, tmp_path: Path) -> None:
    pyplot_before = "matplotlib.pyplot" in sys.modules
    figures_before = sys.modules["matplotlib.pyplot"].get_fignums() if pyplot_before else []
    plot_alignment(folder, out=tmp_path, formats=("svg",))
    plot_blocs(folder, out=tmp_path, formats=("svg",))
    if pyplot_before:
        assert sys.modules["matplotlib.pyplot"].get_fignums() == figures_before
    else:
        assert "matplotlib.pyplot" not in sys.modules


def test_small_multiples(folder: Path, tmp_path: Path) -> None:
    paths = plot_alignment_grid(folder, out=tmp_path)
    assert [p.name for p in paths] == ["alignment_grid.png", "alignment_grid.svg"]
    assert is_png(paths[0])
    texts = " ".join(svg_texts(paths[1]))
    for code in ("BRA", "BOL", "PAN", "MEX"):
        assert code in texts
    assert "left a bloc" in texts and "threat received" in texts
    (svg,) = plot_alignment_grid(
        folder, out=tmp_path, states=["PAN"], variable="affinity.USA", formats=("svg",)
    )
    assert svg.name == "affinity.USA_grid.svg"
    assert "PAN  Panama" in svg_texts(svg)
    with pytest.raises(ResultsError, match="unknown state 'XXX'"):
        plot_alignment_grid(folder, out=tmp_path, states=["XXX"])


# --------------------------------------------------------------------------- pieces


def test_marked_events_need_half_the_replicates() -> None:
    rows = [
        {"replicate": r, "step": 2, "date": "2025-02", "kind": "threat", "actor": "USA",
         "target": "PAN", "details": "{}"}
        for r in (0, 1)
    ] + [
        {"replicate": 3, "step": 5, "date": "2025-05", "kind": "left", "actor": "PAN",
         "target": "BRI", "details": "{}"},
        {"replicate": 0, "step": 3, "date": "2025-03", "kind": "tariff_imposed", "actor": "USA",
         "target": "MEX", "details": json.dumps({"rate": 0.25})},
        {"replicate": 1, "step": 3, "date": "2025-03", "kind": "tariff_imposed", "actor": "USA",
         "target": "MEX", "details": json.dumps({"rate": 0.25})},
        {"replicate": 0, "step": 3, "date": "2025-03", "kind": "complied", "actor": "MEX",
         "target": "USA", "details": "{}"},
    ]  # fmt: skip
    marks = marked_events(pd.DataFrame(rows), replicates=4)
    assert [(m.text, m.state, m.share) for m in marks] == [
        ("USA→PAN threat", "PAN", 0.5),
        ("USA tariff 25% on MEX", "MEX", 0.5),
    ]
    assert marks[0].label == "USA→PAN threat (50%)"


def test_choose_states_prefers_named_then_movers() -> None:
    steps, states = 5, [f"S{i:02d}" for i in range(12)]
    values = np.zeros((2, steps, len(states)))
    for i in range(len(states)):
        values[:, :, i] = np.linspace(0, 0.01 * i, steps)  # S11 moves most
    panel = Panel("tilt", np.arange(steps).astype("datetime64[M]"), states, values)
    chosen = choose_states(panel, named=["S00"], limit=3)
    assert chosen == ["S00", "S10", "S11"]


def test_end_labels_are_spread_apart() -> None:
    want = [10.0, 10.5, 11.0, 50.0, 200.0]
    got = spread(want, gap=10.0, lo=5.0, hi=195.0)
    assert all(b - a >= 10.0 - 1e-9 for a, b in itertools.pairwise(got))
    assert got[0] >= 5.0 and got[-1] <= 195.0
    assert got[3] == pytest.approx(50.0)


# --------------------------------------------------------------------------- architecture


def test_plots_module_imports_no_model_code() -> None:
    imported = imported_modules(Path(str(sim.plots.__file__)))
    assert not imported & {"sim.model", "sim.runner", "sim.agents", "mesa"}
    assert "matplotlib.pyplot" not in imported


def test_importing_plots_loads_no_model() -> None:
    code = "import sys, sim.plots; print(' '.join(sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert not set(out.stdout.split()) & {"sim.model", "sim.runner", "sim.agents", "mesa"}
