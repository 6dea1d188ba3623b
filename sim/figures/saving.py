"""Writing a figure to files: every format atomically, with the same bytes for the same figure."""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import matplotlib as mpl
from matplotlib.figure import Figure

from sim.errors import ResultsError
from sim.figures.style import DPI

__all__ = ["check_formats", "file_stem", "save_figure"]

_NO_DATE: dict[str, dict[str, Any]] = {
    "svg": {"Date": None},
    "pdf": {"CreationDate": None},
    "png": {},
}
"""Metadata that leaves the creation time out, so equal figures give equal files."""


def check_formats(formats: Sequence[str]) -> list[str]:
    """The formats, deduplicated; ResultsError unless matplotlib can write every one."""
    if isinstance(formats, str):
        formats = [formats]  # "png" alone would otherwise be read as "p", "n", "g"
    supported = Figure().canvas.get_supported_filetypes()
    bad = [f for f in formats if f not in supported]
    if bad or not formats:
        raise ResultsError(
            f"unknown figure format {', '.join(map(repr, bad))} "
            f"(supported: {', '.join(sorted(supported))})"
            if bad
            else "no figure format given"
        )
    return list(dict.fromkeys(formats))


def save_figure(fig: Figure, out: Path, stem: str, formats: Sequence[str]) -> list[Path]:
    """Write `fig` as `out/<stem>.<fmt>` for each format, each via a temporary file and rename."""
    formats = check_formats(formats)
    out.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    for fmt in formats:
        target = out / f"{stem}.{fmt}"
        # Same folder, so the rename is atomic; the pid keeps concurrent writers apart. The rc
        # settings last for this save only: SVG text stays text (searchable, editable), and a
        # fixed id salt with no timestamp makes equal figures give equal bytes.
        tmp = target.with_name(f".{target.name}.{os.getpid()}.tmp")
        try:
            rc = mpl.rc_context(
                {"svg.fonttype": "none", "svg.hashsalt": "geosim", "pdf.fonttype": 42}
            )
            with rc, tmp.open("wb") as fh:
                fig.savefig(fh, format=fmt, dpi=DPI, metadata=_NO_DATE.get(fmt))
            os.replace(tmp, target)
        except BaseException:
            tmp.unlink(missing_ok=True)
            raise
        written.append(target)
    return written


def file_stem(*parts: str) -> str:
    """A file name stem from parts joined by '-' (a '/' in a part would make a folder)."""
    return "-".join(p.replace("/", "_") for p in parts)
