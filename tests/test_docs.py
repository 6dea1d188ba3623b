"""Documentation that is generated or quoted must match the code."""

from __future__ import annotations

import re
from pathlib import Path

from sim.reference import scenario_reference
from sim.results_format import TABLES
from sim.results_reference import results_reference
from sim.scenario import Rules

ROOT = Path(__file__).resolve().parent.parent


def test_format_reference_is_up_to_date() -> None:
    committed = (ROOT / "docs" / "scenario-format.md").read_text(encoding="utf-8")
    assert committed == scenario_reference(), "run: geosim schema --out docs/scenario-format.md"


def test_results_reference_is_up_to_date() -> None:
    committed = (ROOT / "docs" / "results-format.md").read_text(encoding="utf-8")
    assert committed == results_reference(), (
        "run: geosim schema --results --out docs/results-format.md"
    )


def test_results_reference_names_every_table_and_column() -> None:
    text = results_reference()
    for table in TABLES.values():
        assert f"## `{table.name}`" in text and f"`{table.file}`" in text
        for column in (*table.columns, *table.families):
            assert f"| `{column.name}` |" in text, (table.name, column.name)


def test_model_md_documents_every_rule_parameter() -> None:
    text = (ROOT / "MODEL.md").read_text(encoding="utf-8")
    for section, model in Rules.model_fields.items():
        sub = model.annotation
        for name in sub.model_fields:  # type: ignore[union-attr]
            if name == "weights":
                continue
            assert re.search(rf"`{section}\.{name}`", text), f"MODEL.md lacks {section}.{name}"


def test_readme_commands_exist() -> None:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    assert "pip install -e ." in text and "geosim run" in text
    assert 'pip install -e ".[test]"' in text and "python -m pytest" in text
