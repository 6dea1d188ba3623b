"""The codebase's shape: small modules, short functions, and a README that maps every module."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import sim

SIM = Path(sim.__file__).parent
README = SIM.parent / "README.md"
MAX_MODULE_LINES = 500
MAX_FUNCTION_LINES = 60


def modules() -> list[Path]:
    return sorted(p for p in SIM.rglob("*.py") if "__pycache__" not in p.parts)


def test_no_module_is_over_500_lines() -> None:
    long = {
        str(p.relative_to(SIM)): n
        for p in modules()
        if (n := len(p.read_text(encoding="utf-8").splitlines())) > MAX_MODULE_LINES
    }
    assert not long, f"modules over {MAX_MODULE_LINES} lines: {long}"


def test_no_function_is_over_60_lines() -> None:
    long: dict[str, int] = {}
    for path in modules():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                n = (node.end_lineno or node.lineno) - node.lineno + 1
                if n > MAX_FUNCTION_LINES:
                    long[f"{path.relative_to(SIM)}:{node.lineno} {node.name}"] = n
    assert not long, f"functions over {MAX_FUNCTION_LINES} lines: {long}"


def _module_map() -> str:
    text = README.read_text(encoding="utf-8")
    section = text.split("## Development", 1)[1]
    return section.split("```", 2)[1]


def _listed(module_map: str) -> set[str]:
    """Module paths the map names: `pkg/` at the start of a line opens a package; `name.py` on
    that line and on the indented lines after it are modules of it."""
    listed: set[str] = set()
    package = ""
    for line in module_map.splitlines():
        head = re.match(r"(sim/[\w/]*)", line)
        if head:
            package = head.group(1).removeprefix("sim/")
        elif line[:1].strip():
            package = ""
        listed |= {package + name for name in re.findall(r"\b(\w+\.py)\b", line)}
    return listed


def test_readme_module_map_names_every_module() -> None:
    listed = _listed(_module_map())
    missing = [str(p.relative_to(SIM)) for p in modules() if str(p.relative_to(SIM)) not in listed]
    assert not missing, f"README's module map does not name: {missing}"


def test_the_module_map_reader_sees_packages_and_lines() -> None:
    text = "sim/          a.py b.py\n              c.py\nsim/figures/  d.py\nother/        e.py\n"
    assert _listed(text) == {"a.py", "b.py", "c.py", "figures/d.py", "e.py"}
