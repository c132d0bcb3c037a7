"""The report's tables as a workbook for the utredare: ready to paste into a tjänsteutlåtande.

``write_report_workbook`` writes one sheet per table *as the report shows it* — the same display
tables the HTML page shows (area names, Swedish headers, ``..`` where a count is hidden), so the
workbook publishes exactly what the page publishes and nothing more. What the reader sees as a
number becomes a number in Excel: ``format_number``'s Swedish text is read back (``shown_number``)
into a value with a number format (``21,7 %`` → 0.217 as ``0.0%``, ``1 234`` → 1234 as ``#,##0``,
``12 500 kr`` → 12500 as ``#,##0 "kr"``, ``6,1`` → 6.1 as ``#,##0.0``); everything else (``..``,
``–``, intervals, names, years, codes with a leading zero) stays text, exactly as shown. A hidden
count never reaches this module, so it cannot reach the file.

Each sheet has its header row frozen (and the first column, when it holds the row labels), a filter on
the header, and columns as wide as their text. The sheet *Om filen* comes first: the synthetic-data
marker, the report's provenance (``insats.reports.common.provenance``: parameters, every input
file with its full SHA-256, version, run date) and the list of sheets with their full titles;
*Teckenförklaring* explains ``..``, ``–`` and coded columns (``legends``; the funnel-plot codes
−2 … 2 are ``FUNNEL_LEGEND``). Everything is written through ``insats.xlsx``: text from the data
(an area called ``=HYPERLINK(…)``) is stored as text, never as a formula.

In a notebook, ``ReportTables`` collects the tables while they are shown (``bok.show(section,
sheet="Utbud")`` shows like ``insats.reports.render.show`` and remembers the tables) and
``bok.write(path)`` writes the workbook; the notebooks do this when their parameter ``excel_fil``
is set.
"""

from __future__ import annotations

import io
import math
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import IO, Any

import pandas as pd
from openpyxl import Workbook
from openpyxl.styles import Font

from insats.analysis.measures.output import log_table
from insats.analysis.measures.registry import FUNNEL_LABELS
from insats.analysis.privacy import SUPPRESSED, footnote
from insats.data.study import Study
from insats.reports.common import provenance as report_provenance
from insats.reports.render import Note, Section, Table, show
from insats.text import MINUS
from insats.xlsx import fit_sheet, save_workbook, set_value, sheet_title, write_frame

__all__ = [
    "ABOUT_SHEET",
    "FORMAT_COUNT",
    "FORMAT_MONEY",
    "FUNNEL_LEGEND",
    "LEGEND_SHEET",
    "LOG_SHEET",
    "ReportTables",
    "number_format",
    "shown_number",
    "workbook_bytes",
    "write_report_workbook",
]

ABOUT_SHEET = "Om filen"
LEGEND_SHEET = "Teckenförklaring"
LOG_SHEET = "Undertryckningar"
FORMAT_COUNT = "#,##0"
FORMAT_MONEY = '#,##0 "kr"'
SYNTHETIC_MARK = "SYNTETISKA EXEMPELDATA – uppgifterna beskriver inga verkliga personer"

FUNNEL_LEGEND = FUNNEL_LABELS
"""Swedish meaning of the funnel-plot codes stored in ``likstallighet_tratt__<matt>``."""

_SPACE = "[\u202f\u00a0 ]"
_SHOWN = re.compile(
    rf"^(?P<sign>[{MINUS}-])?(?P<int>0|[1-9]\d{{0,2}}(?:{_SPACE}\d{{3}})*)(?:,(?P<dec>\d+))?"
    rf"(?:{_SPACE}(?P<unit>%|kr))?$"
)


def number_format(decimals: int, unit: str | None = None) -> str:
    """The Excel number format of a value shown with ``decimals`` decimals (``unit`` ``%``/``kr``)."""
    frac = "." + "0" * decimals if decimals > 0 else ""
    if unit == "%":
        return f"0{frac}%"
    if unit == "kr":
        return f'#,##0{frac} "kr"'
    return f"#,##0{frac}"


def shown_number(text: object) -> tuple[float | int, str] | None:
    """A number as ``insats.text.format_number`` shows it, read back: (value, number format), or
    None when the text is not such a number (``..``, ``–``, ``2013``, ``0114``, ``1–3``, a name).

    Thousands must be grouped as ``format_number`` groups them, so a year or a code written
    without a space stays text."""
    if not isinstance(text, str):
        return None
    m = _SHOWN.match(text.strip())
    if m is None:
        return None
    digits = re.sub(_SPACE, "", m.group("int"))
    dec = m.group("dec") or ""
    value = Decimal(f"{digits}.{dec}" if dec else digits)
    if m.group("sign"):
        value = -value
    unit = m.group("unit")
    if unit == "%":
        return float(value / 100), number_format(len(dec), "%")
    out: float | int = int(value) if not dec else float(value)
    return out, number_format(len(dec), unit)


# --------------------------------------------------------------------------- sheets
def _display_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """The table with its row labels as the first column (as the HTML shows them)."""
    if isinstance(frame.index, pd.RangeIndex) and frame.index.name is None:
        return frame.reset_index(drop=True)
    name = " – ".join(str(n) for n in frame.index.names if n is not None) or ""
    out = frame.copy()
    out.index = [" – ".join(map(str, i)) if isinstance(i, tuple) else i for i in out.index]
    out.insert(0, "\x00label", out.index)
    out = out.reset_index(drop=True)
    out.columns = [name if c == "\x00label" else c for c in out.columns]
    return out


def _header_text(label: Any) -> str:
    if isinstance(label, tuple):
        return " – ".join(str(p) for p in label if p is not None and str(p) != "")
    return "" if label is None else str(label)


def _write_table(ws, frame: pd.DataFrame, *, has_labels: bool) -> None:
    """One display table from A1: numbers as numbers, the rest as shown; header frozen, filter, widths."""
    for j, name in enumerate(frame.columns, start=1):
        set_value(ws, 1, j, _header_text(name))
    for i, row in enumerate(frame.itertuples(index=False), start=2):
        for j, value in enumerate(row, start=1):
            parsed = shown_number(value)
            if parsed is not None:
                set_value(ws, i, j, parsed[0]).number_format = parsed[1]
                continue
            cell = set_value(ws, i, j, value)
            if isinstance(cell.value, (int, float)) and not isinstance(cell.value, bool):
                cell.number_format = FORMAT_COUNT if float(cell.value).is_integer() else "#,##0.0##"
    fit_sheet(ws, freeze="B2" if has_labels and frame.shape[1] > 1 else "A2", autofilter=frame.shape[1] > 0)


def _funnel_codes(header: Any, values: pd.Series) -> bool:
    """A funnel-plot column that holds the codes −2 … 2 (the reports show words instead)."""
    if "tratt" not in _header_text(header).lower():
        return False
    numbers = [v if isinstance(v, (int, float)) else (shown_number(v) or (None,))[0] for v in values.tolist()]
    numbers = [v for v in numbers if v is not None and not (isinstance(v, float) and math.isnan(v))]
    return bool(numbers) and all(v in FUNNEL_LEGEND for v in numbers)


def _uses(tables: Sequence[tuple[str, pd.DataFrame]], mark: str) -> bool:
    return any((frame.astype(str) == mark).to_numpy().any() for _, frame in tables if frame.size)


def _write_rows(ws, rows: Iterable[Sequence[Any]], start: int, *, bold_first: bool = False) -> int:
    r = start
    for row in rows:
        for j, value in enumerate(row, start=1):
            cell = set_value(ws, r, j, value)
            if bold_first and r == start:
                cell.font = Font(bold=True)
        r += 1
    return r


def write_report_workbook(
    target: Path | str | IO[bytes],
    tables: Mapping[str, pd.DataFrame] | Sequence[tuple[str, pd.DataFrame]],
    *,
    title: str,
    provenance: pd.DataFrame | None = None,
    synthetic: bool = False,
    min_cell: int = 5,
    legends: Mapping[str, Mapping[Any, str]] | None = None,
    open_at_table: bool = False,
    log: Sequence[Mapping[str, str]] | None = None,
) -> Path | None:
    """Write a report's display tables as a workbook (see the module docstring); returns the path.

    ``tables``: (sheet title, display table) in report order — the title may be long (the sheet
    name is cut to Excel's 31 characters, the full title is listed on *Om filen*). ``provenance``:
    ``insats.reports.common.provenance`` of the report (columns Slag, Vad, Värde). ``legends``:
    column header → {code: meaning} for coded columns, listed on *Teckenförklaring*.
    ``open_at_table``: the file opens at the first table (a one-table download), else at *Om filen*.
    ``log``: the publication's suppression log (``Publication.log``), written last as the sheet
    *Undertryckningar*: which counts are hidden and why, never their values (as the measures file)."""
    items = list(tables.items()) if isinstance(tables, Mapping) else list(tables)
    wb = Workbook()
    about = wb.active
    taken: set[str] = set()
    about.title = sheet_title(ABOUT_SHEET, taken)
    legend = wb.create_sheet(sheet_title(LEGEND_SHEET, taken))
    names = []
    for full, frame in items:
        ws = wb.create_sheet(sheet_title(full or "Tabell", taken))
        shown = _display_frame(frame)
        has_labels = not (isinstance(frame.index, pd.RangeIndex) and frame.index.name is None) or (
            shown.shape[1] > 1 and all(shown_number(v) is None for v in shown.iloc[:, 0].tolist())
        )
        _write_table(ws, shown, has_labels=has_labels)
        names.append((ws.title, full or ws.title))
    if log is not None:
        ws = wb.create_sheet(sheet_title(LOG_SHEET, taken))
        write_frame(ws, log_table([dict(row) for row in log]))
        fit_sheet(ws)
        names.append(
            (ws.title, "Dolda antal i studiens publicering och skälet (primärt eller vilket antal de skyddar)")
        )

    # Om filen: marker, title, provenance, the sheets
    r = 1
    if synthetic:
        cell = set_value(about, r, 1, SYNTHETIC_MARK)
        cell.font = Font(bold=True, color="9C0006")
        r += 1
    set_value(about, r, 1, title).font = Font(bold=True, size=14)
    r += 2
    if provenance is not None and len(provenance):
        r = _write_rows(
            about, [list(provenance.columns), *provenance.astype(object).values.tolist()], r, bold_first=True
        )
        r += 1
    r = _write_rows(about, [("Blad", "Innehåll"), *names], r, bold_first=True)
    for col, width in zip("ABC", (22, 60, 70)):
        about.column_dimensions[col].width = width

    # Teckenförklaring: the marks in use, and coded columns
    rows: list[tuple[str, str, str]] = [("Tecken eller kod", "Betydelse", "Gäller")]
    rows.append((SUPPRESSED, footnote(min_cell) + " (värdet finns inte i filen)", "alla blad"))
    if _uses(items, "–"):
        rows.append(("–", "uppgiften kan inte beräknas eller saknas", "alla blad"))
    rows.append(("(tom cell)", "uppgiften saknas eller är inte tillämplig", "alla blad"))
    coded = dict(legends or {})
    if any(_funnel_codes(f.columns[j], f.iloc[:, j]) for _, f in items for j in range(f.shape[1])):
        coded.setdefault("Trattdiagram (kod −2 … 2)", FUNNEL_LEGEND)
    for column, codes in coded.items():
        rows.extend((str(code), meaning, column) for code, meaning in codes.items())
    rows.append(("", "Andelar är tal med procentformat (0,217 visas 21,7 %); belopp i kronor.", ""))
    _write_rows(legend, rows, 1, bold_first=True)
    for col, width in zip("ABC", (20, 80, 30)):
        legend.column_dimensions[col].width = width
    legend.freeze_panes = "A2"
    if open_at_table and items:
        for ws in wb.worksheets:  # one selected tab, or Excel opens the sheets grouped
            ws.sheet_view.tabSelected = False
        wb.active = 2
        wb.active.sheet_view.tabSelected = True
    return save_workbook(wb, target)


def workbook_bytes(tables, **kwargs: Any) -> bytes:
    """``write_report_workbook`` into bytes (a download)."""
    buf = io.BytesIO()
    write_report_workbook(buf, tables, **kwargs)
    return buf.getvalue()


# --------------------------------------------------------------------------- collecting in a notebook
@dataclass
class ReportTables:
    """The tables a report shows, collected while it is shown, for its workbook.

    ``show(*items, sheet=...)`` displays like ``insats.reports.render.show`` and remembers every
    table in the items (a ``Section``'s tables, a ``Table`` block, a loose DataFrame) under the
    sheet title ``sheet`` (plus the table's caption, if it has one)."""

    title: str
    study: Study
    params: dict[str, Any]
    min_cell: int = 5
    log: Sequence[Mapping[str, str]] | None = None
    """The publication's suppression log (``Publication.log``): the sheet *Undertryckningar*."""
    tables: list[tuple[str, pd.DataFrame]] = field(default_factory=list)
    legends: dict[str, dict[Any, str]] = field(default_factory=dict)

    def add(self, *items: Any, sheet: str = "Tabell") -> None:
        """Remember the tables in ``items`` (without showing them)."""
        found: list[tuple[str, pd.DataFrame]] = []
        for item in items:
            if isinstance(item, Section):
                found += [(b.caption, b.frame) for b in item.blocks if isinstance(b, Table)]
            elif isinstance(item, Table):
                found.append((item.caption, item.frame))
            elif isinstance(item, pd.DataFrame):
                found.append(("", item))
            elif isinstance(item, (list, tuple)):
                self.add(*item, sheet=sheet)
            elif item is None or isinstance(item, (str, Note)):
                continue
        for caption, frame in found:
            title = f"{sheet} – {caption}" if caption else sheet
            same = sum(1 for t, _ in self.tables if t == title or t.startswith(f"{title} ("))
            self.tables.append((f"{title} ({same + 1})" if same else title, frame))

    def show(self, *items: Any, sheet: str = "Tabell", min_cell: int | None = None) -> None:
        """Show ``items`` in the notebook and remember their tables."""
        self.add(*items, sheet=sheet)
        show(*items, min_cell=min_cell)

    def provenance(self) -> pd.DataFrame:
        return report_provenance(self.study, self.params, full_hashes=True)

    def write(self, target: Path | str | IO[bytes] | None) -> Path | None:
        """Write the workbook (nothing when ``target`` is None or empty: the parameter was not set)."""
        if target is None or (isinstance(target, (str, Path)) and not str(target)):
            return None
        return write_report_workbook(
            target,
            self.tables,
            title=self.title,
            provenance=self.provenance(),
            synthetic=bool(self.study.synthetic),
            min_cell=self.min_cell,
            legends=self.legends,
            log=self.log,
        )
