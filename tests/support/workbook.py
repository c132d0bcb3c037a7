"""A report's workbook (the notebooks' ``excel_fil``) read back and compared with the tables its page
shows: the file through openpyxl, the page's tables from the executed notebook's HTML outputs through
the standard library's parser, and a number in a cell against the text of the page's cell read here
(not with ``insats.reports.excel.shown_number``, the writer's own reader).

``report_tables(nb)`` gives, in report order, (sheet, rows) for every table a code cell that calls
``bok.show(..., sheet="…")`` displays (a chart's data table left out: it is not a report table);
``sheet_mismatches(ws, rows)`` lists where a sheet differs from its table;
``assert_report_workbook(wb, shown)`` checks a whole report workbook against the page.
"""

from __future__ import annotations

import math
import re
from html.parser import HTMLParser

_SHEET_ARG = re.compile(r"""\bbok\.show\(.*?\bsheet\s*=\s*["']([^"']+)["']""", re.S)
_SPACE = re.compile(r"[\s\u00a0\u202f]+")


class _Tables(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tables: list[list[list[str]]] = []
        self._skip = 0
        self._row: list[str] | None = None
        self._cell: list[str] | None = None

    def handle_starttag(self, tag, attrs):
        if tag in ("script", "style"):
            self._skip += 1
        elif self._skip:
            return
        elif tag == "table":
            self.tables.append([])
        elif tag == "tr" and self.tables:
            self._row = []
        elif tag in ("td", "th") and self._row is not None:
            self._cell = []

    def handle_endtag(self, tag):
        if tag in ("script", "style"):
            self._skip -= 1
        elif self._skip:
            return
        elif tag in ("td", "th") and self._cell is not None and self._row is not None:
            self._row.append(" ".join("".join(self._cell).split()))
            self._cell = None
        elif tag == "tr" and self._row is not None:
            self.tables[-1].append(self._row)
            self._row = None

    def handle_data(self, data):
        if self._cell is not None and not self._skip:
            self._cell.append(data)


def html_tables(page: str) -> list[list[list[str]]]:
    """Every table of an HTML fragment as rows of cell texts (header row first)."""
    parser = _Tables()
    parser.feed(page)
    return parser.tables


def report_tables(nb) -> list[tuple[str, list[list[str]]]]:
    """(sheet argument, table rows) for every table shown by a ``bok.show(..., sheet=…)`` cell."""
    found = []
    for cell in nb["cells"]:
        if cell["cell_type"] != "code":
            continue
        sheets = _SHEET_ARG.findall(cell["source"])
        if not sheets:
            continue
        assert len(set(sheets)) == 1, f"one sheet per cell: {sheets}"
        for out in cell.get("outputs", []):
            page = out.get("data", {}).get("text/html")
            if not page:
                continue
            page = "".join(page) if isinstance(page, list) else page
            if 'class="insats-chart"' in page:  # a chart and its data table
                continue
            found += [(sheets[0], rows) for rows in html_tables(page)]
    return found


def _number(text: str) -> float | None:
    """The number a page's cell shows (``1 234``, ``21,7 %``, ``−3,5``, ``12 500 kr``), else None."""
    t = _SPACE.sub("", text).replace("\u2212", "-").removesuffix("%").removesuffix("kr").replace(",", ".")
    if not re.fullmatch(r"-?\d+(?:\.\d+)?", t):
        return None
    return float(t)


def sheet_rows(ws) -> list[list[object]]:
    return [list(row) for row in ws.iter_rows(values_only=True)]


def sheet_mismatches(ws, rows: list[list[str]]) -> list[str]:
    """Cells of the sheet that differ from the page's table: text must be the same text, a number
    the number the page shows (a share formatted as per cent is compared in per cent), an empty
    cell an empty cell."""
    problems = []
    got = sheet_rows(ws)
    if len(got) != len(rows):
        return [f"{ws.title}: {len(got)} rader, sidan visar {len(rows)}"]
    for r, (values, texts) in enumerate(zip(got, rows), start=1):
        if len(values) != len(texts):
            problems.append(f"{ws.title} rad {r}: {len(values)} kolumner, sidan visar {len(texts)}")
            continue
        for c, (value, text) in enumerate(zip(values, texts), start=1):
            if value is None or value == "":
                ok = text == ""
            elif isinstance(value, str):
                ok = " ".join(value.split()) == text
            else:
                shown = _number(text)
                scale = 100 if "%" in ws.cell(r, c).number_format else 1
                ok = shown is not None and math.isclose(float(value) * scale, shown, abs_tol=1e-9)
            if not ok:
                problems.append(f"{ws.title} rad {r} kolumn {c}: {value!r} i filen, {text!r} på sidan")
    return problems


def assert_report_workbook(wb, shown: list[tuple[str, list[list[str]]]]) -> None:
    """What every report workbook holds: "Om filen" and "Teckenförklaring" first, the publication's
    suppression log ("Undertryckningar") last, and between them one sheet per table of ``shown``
    (``report_tables``), named after its section (cut to Excel's 31 characters) and equal to the
    table as the page shows it (``sheet_mismatches``)."""
    assert wb.sheetnames[:2] == ["Om filen", "Teckenförklaring"]
    assert wb.sheetnames[-1] == "Undertryckningar"
    assert next(wb["Undertryckningar"].iter_rows(values_only=True))[:4] == ("Räkning", "Grupp", "Period", "Skäl")
    sheets = wb.sheetnames[2:-1]
    assert len(sheets) == len(shown)
    for name, (section, _) in zip(sheets, shown):
        assert name.startswith(section[:31]), (name, section)
    problems = [p for ws, (_, rows) in zip(wb.worksheets[2:], shown) for p in sheet_mismatches(ws, rows)]
    assert problems == []
