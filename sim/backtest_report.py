"""The backtest's outputs: a CSV table, a Markdown report and a JSON record of how it was made.

The CSV holds only what the seed and the replicate count determine (no dates, no timings), so
the same command gives the same bytes; the JSON adds the command, versions and revision.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from sim.backtest import Comparison
from sim.provenance import git_sha, package_versions
from sim.results import atomic_write_text

TABLE, REPORT, RECORD = "backtest.csv", "backtest.md", "backtest.json"


def summary_lines(table: pd.DataFrame, comparisons: Sequence[Comparison]) -> list[str]:
    """The headline: hits, and the mean scores against each null with their intervals."""
    hits = int(table["hit"].sum())
    lines = [f"{hits}/{len(table)} episodes hit (p > 0.5 for history's outcome)"]
    for c in comparisons:
        name = "Brier score" if c.score == "brier" else "log loss"
        null = c.null.replace("_", " ")
        lines.append(
            f"mean {name}: model {c.model:.3f}, {null} {c.other:.3f}; difference "
            f"{c.difference:+.3f} (95% paired bootstrap {c.low:+.3f} to {c.high:+.3f}): {c.verdict}"
        )
    return lines


def markdown(
    table: pd.DataFrame,
    comparisons: Sequence[Comparison],
    setting: str,
    failed: Mapping[str, int] | None = None,
) -> str:
    """The report: the per-episode table, the comparison with the nulls, and the runs that
    failed (left out of their episode's share; said only when there are some)."""
    head = (
        "| episode | outcome | change | p model (95%) | hit | Brier model / SQ / BR "
        "| log loss model / SQ / BR |"
    )
    rows = [head, "|---|---|---|---|---|---|---|"]
    for r in table.itertuples():
        rows.append(
            f"| {r.episode} | {r.primary} | {'yes' if r.change else 'no'} "
            f"| {r.p_model:.2f} ({r.p_low:.2f}-{r.p_high:.2f}) | {'hit' if r.hit else 'MISS'} "
            f"| {r.brier_model:.3f} / {r.brier_status_quo:.3f} / {r.brier_base_rate:.3f} "
            f"| {r.logloss_model:.2f} / {r.logloss_status_quo:.2f} / {r.logloss_base_rate:.2f} |"
        )
    drivers = [f"- {e}: {d}" for e, d in zip(table["episode"], table["driver"], strict=True) if d]
    parts = [
        f"# Backtest ({setting})",
        "",
        *rows,
        "",
        "SQ: status quo (nothing changes); BR: leave-one-out base rate of the outcome's class.",
        "",
        *[f"- {line}" for line in summary_lines(table, comparisons)],
    ]
    if drivers:
        parts += ["", "Input that moves each primary outcome most:", "", *drivers]
    lost = [f"- {e}: {n}" for e, n in (failed or {}).items() if n]
    if lost:
        parts += ["", "Failed runs, left out of the episode's share:", "", *lost]
    return "\n".join(parts) + "\n"


def write(
    folder: Path,
    table: pd.DataFrame,
    comparisons: Sequence[Comparison],
    setting: str,
    record: dict[str, Any],
    failed: Mapping[str, int] | None = None,
) -> list[Path]:
    """Write the three files into `folder` (created if needed), each atomically. The failed
    runs go in the report, not the table: the CSV's columns stay those of a backtest that ran
    every run."""
    folder.mkdir(parents=True, exist_ok=True)
    atomic_write_text(folder / TABLE, table.to_csv(index=False, lineterminator="\n"))
    atomic_write_text(folder / REPORT, markdown(table, comparisons, setting, failed))
    full = {
        **record,
        "comparisons": [c.__dict__ | {"verdict": c.verdict} for c in comparisons],
        "versions": package_versions(),
        "git_sha": git_sha(),
    }
    atomic_write_text(folder / RECORD, json.dumps(full, indent=2, default=str) + "\n")
    return [folder / TABLE, folder / REPORT, folder / RECORD]
