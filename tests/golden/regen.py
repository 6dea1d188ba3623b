"""Regenerate the golden files after an intended change of behaviour.

    python tests/golden/regen.py              # every shipped scenario and the synthetic one
    python tests/golden/regen.py latam_2025   # one scenario

Each scenario runs at 3 replicates with its own default seed; `tests/golden/<name>/` gets the
time series (Parquet) and the runs, points, events, model and expectations tables (CSV), in the
results format. Files of an older layout (summary.csv, outcomes.csv) are deleted.
Check the diff, then commit the files together with the change that moved them, giving the
reason in the message.
"""

from __future__ import annotations

import sys
from pathlib import Path

# Run as a script, Python puts this folder on the path; the suite is the package `golden` in
# tests/, as the tests import it.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from golden.tables import (
    FILES,
    GOLDEN_DIR,
    ROOT,
    SYNTHETIC,
    missing_coverage,
    scenario_files,
    write_golden,
)
from sim.scenario import load_scenario


def main(names: list[str]) -> int:
    """Regenerate the named scenarios (all when none are named); print each file's fate."""
    files = scenario_files()
    unknown = [n for n in names if n not in files]
    if unknown:
        print(f"unknown scenario(s): {', '.join(unknown)}; known: {', '.join(files)}")
        return 2
    for name in names or list(files):
        for path, changed in write_golden(name, files[name]):
            print(f"{'wrote    ' if changed else 'unchanged'} {path.relative_to(ROOT)}")
        for stale in sorted((GOLDEN_DIR / name).iterdir()):
            if stale.is_file() and stale.name not in FILES:
                stale.unlink()
                print(f"deleted   {stale.relative_to(ROOT)}")
    status = 0
    gaps = missing_coverage(load_scenario(SYNTHETIC).scenario)
    if gaps:
        print(f"{SYNTHETIC.name} does not use: {'; '.join(gaps)} (tests/test_golden.py fails)")
        status = 1
    for folder in sorted(GOLDEN_DIR.iterdir()):
        if folder.is_dir() and folder.name not in files and not folder.name.startswith("__"):
            print(f"stale: {folder.relative_to(ROOT)} has no scenario; delete it")
            status = 1
    return status


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
