"""The calibration pairs rebuilt from ../shared/data: every sourced number of population.yaml.

`build_pairs(data_dir)` reads states_2023.csv and un_voting_coincidence_us.csv and returns the
`pairs` section of population.yaml as plain data; `pairs_yaml(data_dir)` renders it as YAML.
population.yaml's pairs were written by `pairs_yaml` and a test checks that they still equal
`build_pairs` on the data files, so no number there was typed by hand.

Rules (docs/calibration.md repeats them):

- Cells are copied as numbers with their `<column>_source` cell verbatim. `NF` (not found)
  becomes `value: null, status: not_found`; `n/a` or a quantity the file has no column for
  (official lending by the United States) becomes `status: not_applicable`. Nothing is imputed.
- UN voting: only the years in `UN_YEARS` (2018, 2019) are read; the 2024 rows are reserved for
  an external check (another issue). A country-year whose absences exceed half its recorded
  votes is dropped (data README, caveat 2). Alignment with the United States is the mean over
  the years of (c - c_CHN) / (1 - c_CHN), c the country's coincidence with the US and c_CHN
  China's in the same year; alignment with China is 1 minus that index.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML

SENDERS = ("USA", "CHN")
"""The powers of states_2023.csv, the senders of the calibration threats."""

UN_YEARS = (2018, 2019)
"""UN voting years used for alignment (2024 is reserved for another issue's external check)."""

STATES_FILE = "states_2023.csv"
UN_FILE = "un_voting_coincidence_us.csv"

COLUMNS: dict[str, dict[str, str | None]] = {
    "gdp": {"USA": "gdp_usd", "CHN": "gdp_usd"},
    "exports_to_sender": {"USA": "exports_to_usa_usd", "CHN": "exports_to_chn_usd"},
    "imports_from_sender": {"USA": "imports_from_usa_usd", "CHN": "imports_from_chn_usd"},
    "loans_from_sender": {"USA": None, "CHN": "cn_state_loans_cdb_exim_since2005_usd"},
    "sender_fdi_stock": {"USA": "us_fdi_stock_usd", "CHN": "cn_fdi_investment_stock_usd"},
}
"""Each pair quantity and the states_2023.csv column it comes from, per sender (None: the file
has no such column for that sender)."""

NO_COLUMN = "no column in states_2023.csv (the file records official lending by China only)"


def read_states(data_dir: Path) -> list[dict[str, str]]:
    """Rows of states_2023.csv as strings, in file order."""
    with (data_dir / STATES_FILE).open(encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


def quantity(row: dict[str, str], column: str | None) -> dict[str, Any]:
    """One cell as {value, status, column, source}; NF and n/a kept explicit."""
    if column is None:
        return {"value": None, "status": "not_applicable", "column": None, "source": NO_COLUMN}
    raw, source = row[column].strip(), row[f"{column}_source"].strip()
    if raw == "NF":
        return {"value": None, "status": "not_found", "column": column, "source": source}
    if raw == "n/a":
        return {"value": None, "status": "not_applicable", "column": column, "source": source}
    return {"value": float(raw), "status": "found", "column": column, "source": source}


def un_coincidence(data_dir: Path) -> dict[tuple[int, str], float]:
    """Coincidence with the US by (year, ISO3), years in UN_YEARS, mostly-absent rows dropped."""
    out: dict[tuple[int, str], float] = {}
    with (data_dir / UN_FILE).open(encoding="utf-8", newline="") as f:
        for r in csv.DictReader(f):
            year = int(r["year"])
            if year not in UN_YEARS:
                continue
            votes = sum(int(r[k]) for k in ("same", "oppose", "partial", "absent"))
            if int(r["absent"]) > votes / 2:
                continue
            out[(year, r["iso3"])] = float(r["coincidence_us"])
    return out


def alignment(iso3: str, sender: str, votes: dict[tuple[int, str], float]) -> dict[str, Any]:
    """UN-voting alignment of a state with the sender, with the figures it is computed from."""
    years = [y for y in UN_YEARS if (y, iso3) in votes and (y, "CHN") in votes]
    if not years:
        raise ValueError(f"{iso3}: no usable UN voting row in {UN_YEARS}")
    c = [votes[(y, iso3)] for y in years]
    c_chn = [votes[(y, "CHN")] for y in years]
    index = sum((a - b) / (1.0 - b) for a, b in zip(c, c_chn, strict=True)) / len(years)
    value = index if sender == "USA" else 1.0 - index
    return {
        "value": round(value, 12),
        "years": years,
        "coincidence_us": c,
        "coincidence_us_chn": c_chn,
        "source": (
            f"{UN_FILE} (US State Department, Voting Practices in the United Nations, via "
            "github:markschaver/UN commit cf5e937)"
        ),
    }


def build_pairs(data_dir: Path) -> list[dict[str, Any]]:
    """Every sender-target pair: senders in SENDERS order, targets in file order."""
    rows = [r for r in read_states(data_dir) if r["iso3"] not in SENDERS]
    votes = un_coincidence(data_dir)
    pairs: list[dict[str, Any]] = []
    for sender in SENDERS:
        for row in rows:
            pair: dict[str, Any] = {
                "id": f"{sender}-{row['iso3']}",
                "sender": sender,
                "target": row["iso3"],
                "target_name": row["country"],
            }
            for name, by_sender in COLUMNS.items():
                pair[name] = quantity(row, by_sender[sender])
            pair["alignment_with_sender"] = alignment(row["iso3"], sender, votes)
            pairs.append(pair)
    return pairs


def _null(representer: Any, _: None) -> Any:
    """None as an explicit `null` (ruamel's round-trip dumper writes nothing)."""
    return representer.represent_scalar("tag:yaml.org,2002:null", "null")


def pairs_yaml(data_dir: Path) -> str:
    """The `pairs:` section of population.yaml, as written there (YAML 1.2 block style)."""
    yaml = YAML(typ="rt", pure=True)
    yaml.width = 4096  # keep each source cell on one line, verbatim
    yaml.default_flow_style = False
    yaml.representer.add_representer(type(None), _null)
    buf = io.StringIO()
    yaml.dump({"pairs": build_pairs(data_dir)}, buf)
    return buf.getvalue()
