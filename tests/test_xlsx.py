"""insats.xlsx, the one spreadsheet writer (issue 14, finding 3): text from data is stored as text,
never as a formula, in every workbook the package writes; CSV exports defuse formulas (OWASP)."""

from __future__ import annotations

import csv
import io
import json

import numpy as np
import pandas as pd
import pytest
from openpyxl import Workbook, load_workbook

from insats import xlsx
from insats.analysis.measures.compute import MeasureResult
from insats.analysis.measures.output import write_measures
from insats.dashboards import common
from insats.intake import kolada, survey

INJECTIONS = ['=HYPERLINK("http://x","klicka")', "+1", "-2", "@SUM(A1)", "=cmd|' /C calc'!A0", "-2+3"]


def cells(source) -> list:
    """(value, data type) of every cell of every sheet, read back with openpyxl."""
    wb = load_workbook(source if not isinstance(source, bytes) else io.BytesIO(source))
    return [(c.value, c.data_type) for ws in wb.worksheets for row in ws.iter_rows() for c in row]


def assert_no_formula(source, expected_texts=()):
    found = cells(source)
    assert not [v for v, t in found if t == "f"], found
    texts = {v for v, t in found if isinstance(v, str)}
    for text in expected_texts:
        assert text in texts, (text, texts)


def test_text_is_stored_as_text_and_values_are_intact(tmp_path):
    frame = pd.DataFrame({"omrade": INJECTIONS, "antal": np.arange(len(INJECTIONS)) - 1.5})
    path = xlsx.write_xlsx(tmp_path / "ut.xlsx", {"Blad": frame})
    wb = load_workbook(path)
    ws = wb["Blad"]
    assert [c.value for c in ws["A"]][1:] == INJECTIONS
    assert all(c.data_type == "s" for c in ws["A"])
    assert [c.value for c in ws["B"]][1:] == list(frame["antal"]) and ws["B2"].data_type == "n"
    assert_no_formula(path)
    # the same read by pandas, as a user's script would
    back = pd.read_excel(path, sheet_name="Blad")
    assert back["omrade"].tolist() == INJECTIONS


def test_awkward_values_do_not_break_the_file():
    frame = pd.DataFrame(
        {
            "text": ["a\x1b[31mb\x00", "x" * 40_000, None, "ok"],
            "tal": [np.inf, -np.inf, np.nan, 2],
            "tid": pd.to_datetime(["2015-01-01 12:00", None, "2016-02-29 00:00", "2015-06-01 00:00"]).tz_localize(
                "Europe/Stockholm"
            ),
            "ja": [True, False, None, True],
        }
    )
    data = xlsx.xlsx_bytes({"=Blad:[1]/?*": frame}, widths=True)
    wb = load_workbook(io.BytesIO(data))
    ws = wb.worksheets[0]
    assert ws.title == "=Blad_[1]___"[:31].replace("[", "_").replace("]", "_")
    assert ws["A2"].value == "a\ufffd[31mb\ufffd" and len(ws["A3"].value) == xlsx.EXCEL_MAX_TEXT
    assert (ws["B2"].value, ws["B3"].value, ws["B4"].value, ws["B5"].value) == ("inf", "-inf", None, 2)
    assert ws["C2"].value.hour == 11  # 12:00 in Stockholm is 11:00 UTC (Excel has no time zones)
    assert_no_formula(data)


def test_sheet_titles_are_valid_and_unique():
    taken: set[str] = set()
    names = [xlsx.sheet_title(n, taken) for n in ["Mått", "mått", "a/b", "", "x" * 40, "x" * 40]]
    assert names[0] == "Mått" and names[1] == "mått (2)" and names[2] == "a_b" and names[3] == "Blad"
    assert all(len(n) <= 31 for n in names) and len({n.lower() for n in names}) == len(names)


def test_save_workbook_turns_any_formula_into_text(tmp_path):
    wb = Workbook()
    wb.active["A1"] = "=1+1"  # openpyxl makes this a formula
    wb.active["A2"].value = "=A1"
    assert wb.active["A1"].data_type == "f"
    xlsx.save_workbook(wb, tmp_path / "f.xlsx")
    assert cells(tmp_path / "f.xlsx") == [("=1+1", "s"), ("=A1", "s")]


def test_csv_defuses_formulas_but_not_numbers():
    frame = pd.DataFrame(
        {"text": [*INJECTIONS, "\tx", "\rx", "vanlig", "-", "1,5"], "tal": [-2.5, 1, 3, -4, 5, 6, 7, 8, -9, 10, 11]}
    )
    rows = list(csv.reader(io.StringIO(xlsx.csv_text(frame), newline="")))
    back = pd.DataFrame(rows[1:], columns=rows[0])
    expected = [
        '\'=HYPERLINK("http://x","klicka")',
        "+1",  # a plain number: harmless, left as it is
        "-2",
        "'@SUM(A1)",
        "'=cmd|' /C calc'!A0",
        "'-2+3",  # not a plain number: Excel would calculate it
        "'\tx",
        "'\rx",
        "vanlig",
        "'-",
        "1,5",
    ]
    assert back["text"].tolist() == expected
    assert back["tal"].astype(float).tolist() == frame["tal"].tolist()  # numbers are never prefixed
    header = xlsx.csv_text(pd.DataFrame({"=x": [1]}, index=pd.Index(["@y"], name="+z")), index=True)
    assert header.splitlines() == ["'+z,'=x", "'@y,1"]


def _result(area: str) -> MeasureResult:
    table = pd.DataFrame(
        {
            "matt": ["utbud_insatser", "erbjudande_andel"],
            "omrade_kod": [area, area],
            "varde": [3.0, np.nan],
            "taljare": [3.0, np.nan],
            "namnare": [np.nan, np.nan],
            "undertryckt": [False, True],
        }
    )
    return MeasureResult(table=table, params={"fran": "2015-01", "namn": "=1+2"})


@pytest.mark.parametrize("area", INJECTIONS)
def test_measures_output(tmp_path, area):
    out = write_measures(_result(area), tmp_path / "m.xlsx")
    assert_no_formula(out, [area, "=1+2"])
    text = write_measures(_result(area), tmp_path / "m.csv").read_text(encoding="utf-8")
    rows = list(csv.reader(io.StringIO(text, newline="")))
    assert rows[1][1].startswith("'") == (area not in ("+1", "-2")) and rows[1][1].lstrip("'") == area
    payload = json.loads(write_measures(_result(area), tmp_path / "m.json").read_text(encoding="utf-8"))
    assert payload["matt"][0]["omrade_kod"] == area  # JSON is data, not a spreadsheet: as it is


def test_survey_template(tmp_path):
    areas = [('=HYPERLINK("http://x","k")', "@Område"), ("02", '=cmd|" /C calc"!A0')]
    paths = survey.write_templates(areas, tmp_path, kommun_kod="0180", year=2015)
    assert [p.name for p in paths] == ["enkat_HYPERLINK_http_x_k.xlsx", "enkat_02.xlsx"]
    for path, (code, name) in zip(paths, areas):
        assert_no_formula(path, [code, name])


def test_kolada_table(tmp_path):
    df = pd.DataFrame(
        {
            "kpi": ["N1"],
            "kommun_kod": ["0180"],
            "kommun": ['=HYPERLINK("http://x","Stockholm")'],
            "ar": [2015],
            "kon": ["T"],
            "varde": [1.5],
            "antal": pd.array([None], dtype="Int64"),
            "status": ["@x"],
            "hamtad": pd.to_datetime(["2024-01-01 10:00"], utc=True),
        }
    )
    assert_no_formula(kolada.write_table(df, tmp_path / "k.xlsx"), ['=HYPERLINK("http://x","Stockholm")', "@x"])
    text = kolada.write_table(df, tmp_path / "k.csv").read_text(encoding="utf-8")
    assert "'=HYPERLINK" in text and "'@x" in text


def test_dashboard_downloads():
    table = pd.DataFrame({"Värde": ["=1+1", "5,0 %"]}, index=pd.Index(["@Norr", "Söder"], name="Område"))
    data = common.xlsx_bytes(table)
    assert_no_formula(data, ["=1+1", "@Norr", "Område"])
    text = common.csv_bytes(table).decode("utf-8-sig")
    assert text.splitlines() == ["Område;Värde", "'@Norr;'=1+1", "Söder;5,0 %"]
