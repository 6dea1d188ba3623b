"""The figures package: one colour per state in every figure and run, and no model code.

Module and function sizes are checked for the whole package by `tests/test_structure.py`.
"""

from __future__ import annotations

import importlib
import itertools
import os
import pkgutil
import re
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from conftest import MINI
from helpers import imported_modules

import sim
import sim.figures
from sim.design import design_from_options
from sim.figures.marks import MARK_STYLES, MARKED_KINDS
from sim.figures.outcome_kinds import is_count, outcome_label
from sim.figures.style import PALETTE, STATE_COLOURS, state_colour
from sim.plots import plot_alignment, plot_alignment_grid
from sim.results import write_run
from sim.runner import run
from sim.scenario import Scenario, scenario_from_dict
from sim.sweep import execute, plan
from sim.sweep_plots import plot_envelopes
from sim.vocabulary import COUNT_OUTCOMES, LogKind

SVG = "{http://www.w3.org/2000/svg}text"
FIGURE_MODULES = sorted(Path(str(sim.figures.__file__)).parent.glob("*.py"))
FRONTS = [Path(str(sim.figures.__file__)).parents[1] / f for f in ("plots.py", "sweep_plots.py")]
MODEL_CODE = {"sim.model", "sim.runner", "sim.agents", "sim.sweep", "mesa"}

README_STATES = ["BOL", "CUB", "IDN", "BRA", "ARG", "COL", "PAN", "MEX"]
"""The states the README's figure (docs/img/alignment.png, the baseline) draws in colour."""


@pytest.fixture(scope="module")
def baseline() -> Scenario:
    """The shipped article baseline."""
    return sim.load_scenario("latam_2025").scenario


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """Two finished runs of the small world: 3 replicates and 1."""
    root = tmp_path_factory.mktemp("runs")
    spec = scenario_from_dict(MINI)
    return (
        write_run(run(spec, replicates=3), None, root, folder_name="a"),
        write_run(run(spec, replicates=1, seed=5), None, root, folder_name="b"),
    )


@pytest.fixture(scope="module")
def sweep(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A two-point sweep of the small world, one replicate each."""
    design = design_from_options(["rules.threats.credibility=0.2,0.8"], 1, 1)
    p = plan(scenario_from_dict(MINI), design, "tilt")
    return execute(p, tmp_path_factory.mktemp("sweep")).folder.path


def text_colours(svg: Path, text: str) -> set[str]:
    """Fill colours of the SVG texts that read exactly `text` (lower-case hex)."""
    found = set()
    for el in ET.parse(svg).getroot().iter(SVG):
        if "".join(el.itertext()) == text:
            fill = re.search(r"fill: (#[0-9a-f]{6})", el.get("style", ""))
            found.add(fill.group(1) if fill else "#000000")
    return found


def stroke_colours(svg: Path) -> set[str]:
    """Every line colour in an SVG file (lower-case hex)."""
    return set(re.findall(r"stroke: (#[0-9a-f]{6})", svg.read_text(encoding="utf-8")))


# --------------------------------------------------------------------------- state colours


def test_a_state_has_its_colour_in_every_figure_and_run(
    runs: tuple[Path, Path], sweep: Path, tmp_path: Path
) -> None:
    a, b = runs
    pan = state_colour("PAN").lower()
    (two,) = plot_alignment(a, out=tmp_path / "two", states=["MEX", "PAN"], formats="svg")
    (every,) = plot_alignment(b, out=tmp_path / "all", formats="svg")  # BRA, BOL, PAN, MEX
    (grid,) = plot_alignment_grid(a, out=tmp_path, states=["BOL", "PAN"], formats="svg")
    (env,) = plot_envelopes(
        sweep, by="credibility", states=["BRA", "PAN"], out=tmp_path, formats="svg"
    )
    # The label at the end of Panama's line, in both runs and both selections ...
    assert text_colours(two, "PAN") == text_colours(every, "PAN") == {pan}
    # ... the title of its panel in the small multiples and in the sweep envelopes ...
    assert text_colours(grid, "PAN  Panama") == text_colours(env, "PAN  Panama") == {pan}
    # ... and its lines.
    for svg in (two, every, grid):
        assert pan in stroke_colours(svg)
    for code in ("MEX", "BRA", "BOL"):
        assert text_colours(every, code) == {state_colour(code).lower()}


def test_the_readme_figures_states_have_different_colours() -> None:
    colours = [state_colour(s) for s in README_STATES]
    assert len(set(colours)) == len(colours)


def test_neighbours_and_bloc_partners_have_different_colours(baseline: Scenario) -> None:
    for code, state in baseline.states.items():
        for other in state.neighbours:
            assert state_colour(code) != state_colour(other), (code, other)
    brics = baseline.blocs["BRICS"]
    joining = [
        getattr(ev, "state", "")
        for ev in baseline.events.values()
        if getattr(ev, "bloc", None) == "BRICS"
    ]
    named = dict.fromkeys([*brics.members, *brics.partners, *joining])
    together = [s for s in named if s in baseline.states]  # China is a member, not a state
    assert len(together) >= 10
    assert len({state_colour(s) for s in together}) == len(together), together


def test_every_code_of_the_shipped_scenarios_has_a_fixed_colour(baseline: Scenario) -> None:
    codes = [*baseline.states, *baseline.powers]
    assert not [c for c in codes if c not in STATE_COLOURS]
    assert set(STATE_COLOURS.values()) <= set(PALETTE)


def test_other_codes_get_a_palette_colour_that_never_changes() -> None:
    codes = [f"{a}{b}{c}" for a, b, c in itertools.product("QXZ", "QXZ", "ABC")]
    here = [state_colour(c) for c in codes]
    assert set(here) <= set(PALETTE)
    assert len(set(here)) > 3  # spread over the palette, not piled on one colour
    # Another interpreter (another string-hash salt) gives the same colours.
    code = f"from sim.figures.style import state_colour; print(*map(state_colour, {codes!r}))"
    env = {**os.environ, "PYTHONHASHSEED": "123"}
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, env=env
    )
    assert out.stdout.split() == here


# --------------------------------------------------------------------------- vocabulary


def test_marked_kinds_are_log_kinds_with_a_style() -> None:
    assert MARKED_KINDS == (LogKind.THREAT, LogKind.TARIFF_IMPOSED, LogKind.LEFT, LogKind.JOINED)
    assert all(MARK_STYLES[k].marker for k in MARKED_KINDS)
    assert len({MARK_STYLES[k].marker for k in MARKED_KINDS}) == len(MARKED_KINDS)


def test_count_outcomes_are_labelled_as_counts() -> None:
    for name in COUNT_OUTCOMES:
        for column in (f"{name}@end", f"{name}@2025-06"):
            assert is_count(column)
            assert outcome_label(column, ("USA", "CHN")).startswith("number of events: ")
        assert not is_count(name)  # a count is always at a date
    assert not is_count("expect.pan_leaves_bri")


# --------------------------------------------------------------------------- architecture


def test_figure_modules_import_no_model_code() -> None:
    assert len(FIGURE_MODULES) >= 10
    for path in [*FIGURE_MODULES, *FRONTS]:
        imported = imported_modules(path)
        assert not imported & MODEL_CODE, path.name
        assert "matplotlib.pyplot" not in imported, path.name


def test_importing_every_figure_module_loads_no_model() -> None:
    names = [m.name for m in pkgutil.iter_modules(sim.figures.__path__, "sim.figures.")]
    code = f"import sys; [__import__(n) for n in {names!r}]; print(' '.join(sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert not set(out.stdout.split()) & (MODEL_CODE | {"matplotlib.pyplot"})
    for name in names:
        assert importlib.import_module(name).__doc__, name  # each says what it is for
