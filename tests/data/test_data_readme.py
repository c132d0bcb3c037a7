"""data/README.md (the data contract for users) must cover everything in insats.contract."""

from __future__ import annotations

import re

import pytest

from insats.contract import CODE_LISTS, HINDERGRUPP, TABLES, label
from tests.support import ROOT

README = ROOT / "data" / "README.md"


@pytest.fixture(scope="module")
def text() -> str:
    return README.read_text(encoding="utf-8")


def _section(text: str, table: str) -> str:
    """The part of the README from the table's heading to the next level-2 heading."""
    match = re.search(rf"^## `{table}`.*?(?=^## |\Z)", text, flags=re.M | re.S)
    assert match, f"data/README.md has no section '## `{table}`'"
    return match.group(0)


@pytest.mark.parametrize("table", list(TABLES))
def test_every_table_and_column_documented(text, table):
    section = _section(text, table)
    spec = TABLES[table]
    assert spec.label in section
    for col in spec.columns:
        # the column row of the table: | `name` | label | **ja**/nej | ...
        row = re.search(rf"^\| `{col.name}` \| (.*?) \| (.*?) \|", section, flags=re.M)
        assert row, f"{table}.{col.name} is not documented in data/README.md"
        assert row.group(1) == col.label, f"{table}.{col.name}: label differs from contract.py"
        assert (row.group(2) == "**ja**") == col.required, f"{table}.{col.name}: 'krävs' differs from contract.py"


@pytest.mark.parametrize("table", list(TABLES))
def test_every_required_column_in_example_row(text, table):
    section = _section(text, table)
    header = "| " + " | ".join(TABLES[table].names) + " |"
    lines = section.splitlines()
    assert header in lines, f"the example of {table} must have every column, in contract order"
    example = lines[lines.index(header) + 2]
    cells = [c.strip() for c in example.strip().strip("|").split("|")]
    assert len(cells) == len(TABLES[table].names)
    for name, cell in zip(TABLES[table].names, cells):
        if TABLES[table][name].required:
            assert cell, f"example row of {table} leaves required {name} empty"


@pytest.mark.parametrize("list_name", [n for n in CODE_LISTS if n not in ("kategori_medel", "hindergrupp")])
def test_every_code_documented(text, list_name):
    for code, lab in CODE_LISTS[list_name].items():
        assert re.search(rf"^\| `{re.escape(code)}` \| {re.escape(lab)}", text, flags=re.M), (
            f"code {code} ({lab}) of {list_name} is missing from data/README.md"
        )


def test_hindergrupp_mapping_documented(text):
    for code, group in HINDERGRUPP.items():
        lab, glab = label("forsorjningshinder", code), label("hindergrupp", group)
        assert f"| `{code}` | {lab} | {glab} (`{group}`) |" in text, f"hindergrupp of {code} not documented"


def test_kategori_medel_extra_codes_documented(text):
    for code in set(CODE_LISTS["kategori_medel"]) - set(CODE_LISTS["kategori"]):
        assert f"| `{code}` |" in text


def test_mentions_synthetic_data_and_personnummer(text):
    assert "syntetiska exempeldata" in text
    assert "insats generate stockholm|sundbyberg --out" in text
    assert "data/exempel/" in text
    assert "personnummer" in text and "insats validate" in text
