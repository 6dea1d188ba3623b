"""Regenerate the golden baseline file after an intended change of the model or the scenario.

Run `python tests/golden/regen.py`, inspect the diff, and commit it with the reason.
"""

from pathlib import Path

from sim.runner import run
from sim.scenario import load_scenario

if __name__ == "__main__":
    r = run(load_scenario("latam_2025"), replicates=1)
    out = Path(__file__).with_name("latam_2025_seed1.csv")
    r.summary[["state", "tilt_start", "tilt_end"]].to_csv(
        out, index=False, float_format="%.12f", lineterminator="\n"
    )
    print(f"wrote {out}")
