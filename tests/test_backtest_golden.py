"""The history backtest at a fixed seed and 100 replicates against its committed table.

After an intended change of behaviour, regenerate with

    geosim backtest -n 100 --seed 0 --out tests/golden/backtest

check the diff (docs/validation.md quotes the table: update it too) and commit the files with
the change, giving the reason in the message.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
from click.testing import CliRunner

from sim.cli import main

GOLDEN = Path(__file__).resolve().parent / "golden" / "backtest"
REPLICATES, SEED = 100, 0
TEXT = ("episode", "primary", "outcome_class", "driver")


def test_backtest_matches_the_committed_table(tmp_path: Path) -> None:
    res = CliRunner().invoke(
        main,
        ["backtest", "-n", str(REPLICATES), "--seed", str(SEED), "-w", "2", "--out", str(tmp_path)],
    )
    assert res.exit_code == 0, res.output
    new = pd.read_csv(tmp_path / "backtest.csv", keep_default_na=False)
    old = pd.read_csv(GOLDEN / "backtest.csv", keep_default_na=False)
    assert list(new.columns) == list(old.columns)
    assert list(new["episode"]) == list(old["episode"]), "the suite's episodes changed"
    for col in old.columns:
        if col in TEXT or old[col].dtype == bool:
            assert list(new[col]) == list(old[col]), col
        else:  # equal up to floating-point noise across platforms
            np.testing.assert_allclose(new[col], old[col], rtol=1e-9, atol=1e-12, err_msg=col)
    # the report's headline lines are the same too
    head = [ln for ln in (GOLDEN / "backtest.md").read_text().splitlines() if ln.startswith("- ")]
    got = [ln for ln in (tmp_path / "backtest.md").read_text().splitlines() if ln.startswith("- ")]
    assert got == head
