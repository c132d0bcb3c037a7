"""The report workbook (``insats.reports.excel``): what a utredare pastes into a tjänsteutlåtande.

Opened with openpyxl and checked against the study's publication (``study_publication``) and
against values computed by hand on the small study of ``test_profil`` (areas a, b, c, d; the
outcome share of c, 1/3, and of d, 9/30, are hidden): numbers are numbers in Swedish formats,
hidden cells show ``..`` and no hidden share is anywhere in the file, text from the data is text.
"""

from __future__ import annotations

import datetime as dt
import io
import math
import re
from decimal import ROUND_HALF_UP, Decimal

import numpy as np
import pandas as pd
import pytest
from openpyxl import load_workbook

from insats import __version__
from insats.analysis.measures.registry import MEASURES, measure_label
from insats.analysis.privacy import SUPPRESSED
from insats.data.study import Study
from insats.reports import excel, profil
from insats.reports.common import measure_table
from insats.reports.excel import ReportTables, shown_number, write_report_workbook
from insats.reports.publication import study_publication
from insats.text import format_number
from tests.reports.test_profil import small_study

OUTCOME = "Andel avslut till arbete eller studier"
HIDDEN_OUTCOME = {"c": 1 / 3, "d": 9 / 30}  # by hand: the module docstring of test_profil


@pytest.fixture(scope="module")
def study() -> Study:
    s = small_study()
    s.meta["syntetisk"] = True  # as a generated study: the workbook must say so
    s.meta["seed"] = 1
    return s


@pytest.fixture(scope="module")
def books(study, tmp_path_factory):
    """The profile workbooks of a (published) and c (hidden), written as the notebook writes them."""
    root = tmp_path_factory.mktemp("excel")
    out = {}
    for area in ("a", "c"):
        p = profil.build_profile(study, area, start="2013-01", end="2013-12")
        bok = ReportTables(f"Områdesprofil: {p.namn}", study, p.params, min_cell=5)
        bok.add(p.key_table(), sheet="Nyckeltal")
        if p.interventions_display() is not None:
            bok.add(p.interventions_display(), sheet="Insatser")
        if p.spending_display() is not None:
            bok.add(p.spending_display(), sheet="Medel")
        path = bok.write(root / f"profil_{area}.xlsx")
        out[area] = (p, bok, load_workbook(path))
    return out


def _rows(ws) -> list[list]:
    return [list(r) for r in ws.iter_rows()]


def _table(ws) -> pd.DataFrame:
    """A table sheet back as a frame of cells (first column the row labels)."""
    rows = _rows(ws)
    header = [c.value for c in rows[0]]
    return pd.DataFrame([r[1:] for r in rows[1:]], columns=header[1:], index=[r[0].value for r in rows[1:]])


def _decimals(fmt: str) -> int:
    body = fmt.split('"')[0]
    return len(body.split(".")[1].rstrip("%").strip()) if "." in body else 0


def _matches_published(cell, value: float, unit: str) -> bool:
    """The cell holds the published value as the report rounds it, with the unit's format."""
    if cell.data_type != "n":
        return False
    decimals = _decimals(cell.number_format)
    scale = 100 if cell.number_format.endswith("%") else 1
    step = 10.0 ** (-decimals) / scale
    return abs(cell.value - value) <= step / 2 + 1e-12


# --------------------------------------------------------------------------- reading shown numbers
def test_shown_number_reads_back_what_format_number_writes():
    rng = np.random.default_rng(15)
    for x in np.concatenate([rng.normal(0, 1, 200), rng.normal(0, 5e6, 200), [0.0, 0.5, -0.05, 999.5]]):
        for decimals in (0, 1, 2):
            for percent in (False, True):
                text = format_number(x, decimals, percent=percent)
                value, fmt = shown_number(text)
                rounded = Decimal(repr(float(x) * (100 if percent else 1))).quantize(
                    Decimal(1).scaleb(-decimals), rounding=ROUND_HALF_UP
                )
                expect = float(rounded) / (100 if percent else 1)
                assert math.isclose(value, expect, rel_tol=1e-12, abs_tol=1e-12), text
                assert fmt == excel.number_format(decimals, "%" if percent else None)
    assert shown_number("12\u202f500\u00a0kr") == (12500, '#,##0 "kr"')
    assert shown_number("\u22123,25") == (-3.25, "#,##0.00")


@pytest.mark.parametrize(
    "text", ["..", "–", "", "2013", "0114", "1–3", "83,9\u00a0% – 100,0\u00a0%", "3 av 4", "=1+1", "12 500 kr x", None]
)
def test_what_is_not_a_shown_number_stays_text(text):
    assert shown_number(text) is None


# --------------------------------------------------------------------------- the profile workbook
def test_sheets_and_layout(books):
    _p, bok, wb = books["a"]
    assert wb.sheetnames == ["Om filen", "Teckenförklaring", "Nyckeltal", "Insatser", "Medel"]
    ws = wb["Nyckeltal"]
    key = bok.tables[0][1]
    assert ws.freeze_panes == "B2"  # header row and row labels stay in view
    assert ws.auto_filter.ref == f"A1:{chr(ord('A') + key.shape[1])}{len(key) + 1}"
    assert [c.value for c in next(ws.iter_rows())] == ["Mått", *key.columns]
    assert all(c.font.b for c in next(ws.iter_rows()))
    for j, col in enumerate(ws.iter_cols(), start=1):
        width = ws.column_dimensions[chr(ord("A") + j - 1)].width
        longest = max(len(str(c.value)) if c.data_type == "s" else 0 for c in col[1:])
        assert 8 <= width <= 60 and width >= min(longest, 58)


def test_every_key_figure_is_the_published_value_or_hidden(books, study):
    """By an independent route: the publication's long table, not the display table."""
    pub = study_publication(study, min_cell=5).result("2013-01", "2013-12").table
    by_label = {measure_label(m): m for m in MEASURES}
    checked = hidden = 0
    for area, (p, _bok, wb) in books.items():
        t = _table(wb["Nyckeltal"])
        for label, row in t.iterrows():
            mid = by_label[label]
            rec = pub[(pub["matt"] == mid) & (pub["omrade_kod"] == area)]
            cell = row[p.namn]
            if rec.empty or (pd.isna(rec["varde"].iloc[0]) and not rec["undertryckt"].iloc[0]):
                assert cell.value in ("–", None)
                continue
            if bool(rec["undertryckt"].iloc[0]):
                assert cell.value == SUPPRESSED and cell.data_type == "s"
                hidden += 1
            else:
                assert _matches_published(cell, float(rec["varde"].iloc[0]), MEASURES[mid].unit), (area, label)
                checked += 1
    assert checked >= 10 and hidden >= 3


def test_by_hand_outcome_shares(books):
    a = _table(books["a"][2]["Nyckeltal"]).loc[OUTCOME]
    assert a["Område A"].value == 1.0 and a["Område A"].number_format == "0.0%"
    assert a["Hela studien"].value == pytest.approx(round(40 / 93, 3))
    assert a["Övriga områden"].value == pytest.approx(round(20 / 73, 3))  # b 10/40, c 1/3, d 9/30
    c = _table(books["c"][2]["Nyckeltal"]).loc[OUTCOME]
    assert c["Område C"].value == SUPPRESSED and c["Övriga områden"].value == SUPPRESSED


def test_no_hidden_value_anywhere(books):
    """Every cell of every table sheet is what the report shows (same text, or the shown number),
    so the file holds nothing the page does not; and the hidden shares 1/3 and 9/30 are nowhere."""
    for _area, (_p, bok, wb) in books.items():
        for (title, frame), ws in zip(bok.tables, wb.worksheets[2:]):
            shown = excel._display_frame(frame)
            rows = _rows(ws)
            assert [c.value for c in rows[0]] == [str(c) for c in shown.columns], title
            for r, values in zip(rows[1:], shown.itertuples(index=False)):
                for cell, value in zip(r, values):
                    parsed = shown_number(value)
                    if parsed is not None:
                        assert (cell.value, cell.number_format) == parsed
                    else:
                        assert cell.value == (value if value != "" else None)
        for ws in wb.worksheets:
            for row in ws.iter_rows():
                for cell in row:
                    if isinstance(cell.value, float):
                        assert all(abs(cell.value - h) > 5e-4 for h in HIDDEN_OUTCOME.values()), (ws.title, cell)
                    elif isinstance(cell.value, str):
                        assert "33,3" not in cell.value


def test_about_sheet(books, study):
    wb = books["a"][2]
    text = [[c.value for c in r] for r in wb["Om filen"].iter_rows()]
    flat = [str(v) for r in text for v in r if v is not None]
    assert flat[0].startswith("SYNTETISKA EXEMPELDATA")
    assert "Områdesprofil: Område A" in flat
    for name, src in study.sources.items():
        assert any(src.sha256 in v for v in flat), name  # the whole hash, not a prefix
    assert __version__ in flat
    assert any(v.startswith(dt.date.today().isoformat()) for v in flat)
    params = {r[1]: r[2] for r in text if r[0] == "Parameter"}
    assert params["omrade"] == "a" and params["fran"] == "2013-01" and params["min_cell"] == "5"
    listing = {r[0]: r[1] for r in text[text.index(["Blad", "Innehåll", None]) + 1 :] if r[0]}
    assert listing == {"Nyckeltal": "Nyckeltal", "Insatser": "Insatser", "Medel": "Medel"}
    legend = [[c.value for c in r] for r in wb["Teckenförklaring"].iter_rows()]
    assert [r[0] for r in legend[1:3]] == [SUPPRESSED, "–"] and "färre än 5" in legend[1][1]


def test_real_data_has_no_synthetic_marker(tmp_path):
    frame = pd.DataFrame({"Andel": ["21,7\u00a0%"]}, index=pd.Index(["Norrby"], name="Område"))
    path = write_report_workbook(tmp_path / "x.xlsx", [("Blad", frame)], title="T", synthetic=False)
    values = [c.value for r in load_workbook(path)["Om filen"].iter_rows() for c in r if c.value]
    assert not any("SYNTETISK" in str(v) for v in values)


# --------------------------------------------------------------------------- a kartläggning table
def test_measure_table_sheet_equals_the_publication(study, tmp_path):
    long = study_publication(study, min_cell=5).result("2013-01", "2013-12").table
    ids = ["utfall_arbete_studier_andel", "erbjudande_andel", "medel_totalt"]
    shown = measure_table(long, ids, omraden=study["omraden"])
    path = write_report_workbook(tmp_path / "k.xlsx", {"Utfall": shown}, title="Kartläggning")
    t = _table(load_workbook(path)["Utfall"])
    names = dict(zip(study["omraden"]["omrade"], study["omraden"]["omrade_kod"]))
    names.update({"Hela studien": "ALLA", "Centralt (hela kommunen)": "CENTRAL"})
    seen_hidden = 0
    for area_name, row in t.iterrows():
        for mid in ids:
            recs = long[(long["matt"] == mid) & (long["omrade_kod"] == names[area_name])]
            cell = row[measure_label(mid)]
            if recs.empty:  # the measure has no row for this line (e.g. a share centrally)
                assert cell.value is None
                continue
            rec = recs.iloc[0]
            if rec["undertryckt"]:
                assert cell.value == SUPPRESSED and cell.data_type == "s"
                seen_hidden += 1
            else:
                assert _matches_published(cell, rec["varde"], MEASURES[mid].unit)
                assert cell.number_format == ("0.0%" if MEASURES[mid].unit == "andel" else "#,##0")
    assert seen_hidden >= 2


# --------------------------------------------------------------------------- hostile values
HOSTILE = [
    '=HYPERLINK("http://example.invalid","klicka")',
    "+cmd|' /C calc'!A0",
    "-2+3",
    "@SUM(A1:A2)",
    "Norr\x1b[31mby\x07",
]


def test_hostile_values_stay_text():
    frame = pd.DataFrame(
        {"=1+1": ["12,5\u00a0%"] * len(HOSTILE), "Namn": HOSTILE}, index=pd.Index(HOSTILE, name="@Område")
    )
    prov = pd.DataFrame([("Parameter", "data_dir", "=cmd|'/C calc'!A0")], columns=["Slag", "Vad", "Värde"])
    data = excel.workbook_bytes([("=Blad", frame)], title="+rubrik", provenance=prov)
    wb = load_workbook(io.BytesIO(data))
    strings = 0
    for ws in wb.worksheets:
        for row in ws.iter_rows():
            for cell in row:
                assert cell.data_type != "f"
                if isinstance(cell.value, str):
                    assert cell.data_type == "s"
                    assert "\x1b" not in cell.value and "\x07" not in cell.value
                    strings += 1
    ws = wb.worksheets[2]
    assert ws["A1"].value == "@Område" and ws["B1"].value == "=1+1"
    assert [ws.cell(row=i, column=1).value for i in range(2, 6)] == HOSTILE[:4]
    assert ws["A6"].value == "Norr\ufffd[31mby\ufffd"
    assert ws["B2"].value == pytest.approx(0.125) and ws["B2"].data_type == "n"
    assert strings > 15


def test_funnel_codes_get_a_legend(tmp_path):
    frame = pd.DataFrame({"Trattdiagram, avvikelse: andel": [-2, 0, 2]}, index=pd.Index(["A", "B", "C"], name="Område"))
    path = write_report_workbook(tmp_path / "f.xlsx", [("Tratt", frame)], title="T")
    legend = {r[0]: r[1] for r in load_workbook(path)["Teckenförklaring"].iter_rows(values_only=True)}
    assert "99,8" in legend["-2"] and "inom 95" in legend["0"] and "högre" in legend["2"]


def test_the_suppression_log_lists_hidden_counts_never_their_values(study, tmp_path):
    """The report workbook's sheet *Undertryckningar* is the publication's log: every hidden count
    (what is counted, group, period) and why — and not one number."""
    p = profil.build_profile(study, "c", start="2013-01", end="2013-12")
    d = p.publication().disclosure
    assert d.suppressed is not None
    hidden = [i for i, c in enumerate(d.cells) if c.published and d.suppressed[i] and not c.key.count.endswith("|ej")]
    assert hidden, "the small study hides counts"
    bok = ReportTables(p.title, study, p.params, min_cell=5, log=p.log)
    bok.add(p.key_table(), sheet="Nyckeltal")
    wb = load_workbook(bok.write(tmp_path / "profil_c.xlsx"))
    assert wb.sheetnames[-1] == "Undertryckningar"
    assert "Undertryckningar" in [c.value for c in wb["Om filen"]["A"]]
    rows = [[c.value for c in r] for r in wb["Undertryckningar"].iter_rows()]
    assert rows[0] == ["Räkning", "Grupp", "Period", "Skäl", "Publiceras i"]
    group = {i: ", ".join(f"{k} {v}" for k, v in d.cells[i].key.dims) or "hela studien" for i in hidden}
    assert sorted(tuple(r[:3]) for r in rows[1:]) == sorted(
        (d.cells[i].key.count, group[i], d.cells[i].key.period) for i in hidden
    )
    assert all(r[3].startswith(("primär", "sekundär", "följer", "dold i en annan tabell")) for r in rows[1:])
    assert any(r[3].startswith("primär") for r in rows[1:]) and any(r[3].startswith("sekundär") for r in rows[1:])
    # no value: every cell is text, and what is left of it without names, groups and periods has no digit
    assert all(isinstance(v, str) for r in rows for v in r if v is not None)
    names = sorted(
        {c.key.count for c in d.cells}
        | {c.key.period for c in d.cells}
        | {v for c in d.cells for _, v in c.key.dims}
        | {c.origin for c in d.cells},
        key=len,
        reverse=True,
    )
    for r in rows[1:]:
        text = " ".join(v or "" for v in r)
        for name in names:
            if name:
                text = text.replace(name, "")
        assert not re.search(r"\d", text), text
