"""Helpers shared by several test files."""

from __future__ import annotations

from pathlib import Path


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
