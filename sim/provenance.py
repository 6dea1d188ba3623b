"""Where a result came from: package versions and geosim's own source revision.

The revision is read only from geosim's own checkout (the folder holding the `sim` package must
itself be the top of a git work tree whose `pyproject.toml` names the project `geosim`). A geosim
installed inside some other project's virtual environment would otherwise report, and touch,
that project's repository. Nothing is written: `git status` normally refreshes the index and
takes `.git/index.lock`; `--no-optional-locks` turns that off.
"""

from __future__ import annotations

import os
import platform
import subprocess
import tomllib
from importlib import metadata
from pathlib import Path

PACKAGES = (
    "geosim",
    "mesa",
    "numpy",
    "pandas",
    "pyarrow",
    "pydantic",
    "ruamel.yaml",
    "matplotlib",
    "networkx",
)
"""Packages whose versions shape results (recorded in every manifest)."""


def package_versions() -> dict[str, str]:
    """Versions of Python and the packages that shape results."""
    out = {"python": platform.python_version()}
    for name in PACKAGES:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = "not installed"
    return out


def geosim_checkout(package_dir: Path | None = None) -> Path | None:
    """The root of geosim's own git checkout holding `package_dir`, or None if there is none."""
    package_dir = package_dir or Path(__file__).resolve().parent
    root = package_dir.parent
    if not (root / ".git").exists():  # a directory, or a file in a linked worktree
        return None
    try:
        project = tomllib.loads((root / "pyproject.toml").read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
        return None
    name = project.get("project", {}).get("name")
    return root if name == "geosim" else None


def _git(root: Path, *args: str) -> str | None:
    # Inherited GIT_DIR / GIT_WORK_TREE would point git at another repository.
    env = {k: v for k, v in os.environ.items() if not k.startswith("GIT_")}
    env["GIT_OPTIONAL_LOCKS"] = "0"
    try:
        proc = subprocess.run(
            ["git", "--no-optional-locks", "-C", str(root), *args],
            capture_output=True,
            text=True,
            timeout=5,
            check=False,
            env=env,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return proc.stdout.strip() if proc.returncode == 0 else None


def git_sha(package_dir: Path | None = None) -> str | None:
    """Commit of geosim's own checkout (`+dirty` if tracked files changed); None elsewhere."""
    root = geosim_checkout(package_dir)
    if root is None:
        return None
    sha = _git(root, "rev-parse", "--verify", "HEAD")
    if not sha:
        return None
    dirty = _git(root, "status", "--porcelain", "--untracked-files=no")
    return f"{sha}+dirty" if dirty else sha
