"""The one writer of spreadsheets (XLSX) and spreadsheet-bound CSV: text stays text.

Every workbook the package writes — the measures (``insats measures --out x.xlsx``), the survey
templates, Kolada tables, the dashboards' downloads — goes through ``save_workbook`` (directly or
through ``write_xlsx``/``xlsx_bytes``), and every CSV export through ``csv_text``/``write_csv``.

**No formula from data.** openpyxl stores a string that starts with ``=`` as a formula, and Excel
runs it when the file is opened (``=HYPERLINK(...)``, ``=cmd|' /C calc'!A0``). Here every string
cell is stored as a string (its data type set to text), so ``=``, ``+``, ``-`` and ``@`` at the
start stay literal; the package writes no formulas at all, and ``save_workbook`` turns any
formula cell into text before saving. Characters XML cannot hold (control characters such as an
ANSI escape) are replaced by U+FFFD, text longer than Excel's 32 767 characters per cell is cut,
time zones are converted to UTC (Excel has none), NaN/None/NaT become empty cells and infinities
the text ``inf``/``-inf``.

**CSV for spreadsheets** follows OWASP's advice on CSV injection: a text cell that starts with
``=``, ``+``, ``-``, ``@``, a tab or a carriage return gets a leading ``'``, which Excel and
LibreOffice show as text and do not run. Numbers are not touched: cells of number columns, and
text that is a plain number (``-2``, ``+1,5``), stay as they are. CSV files that are data for
insats itself (a study's tables) are written as they are, since they must read back exactly.
"""

from __future__ import annotations

import datetime as dt
import io
import math
import re
from collections.abc import Mapping
from pathlib import Path
from typing import IO, Any

import numpy as np
import pandas as pd
from openpyxl import Workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Alignment, Font
from openpyxl.utils import get_column_letter

from insats.atomic import atomic_path

__all__ = [
    "EXCEL_MAX_TEXT",
    "csv_safe",
    "csv_text",
    "fit_sheet",
    "save_workbook",
    "set_value",
    "sheet_title",
    "write_csv",
    "write_frame",
    "write_xlsx",
    "xlsx_bytes",
]

EXCEL_MAX_TEXT = 32_767
"""Excel's limit on the characters of one cell."""

_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_PLAIN_NUMBER = re.compile(r"[+-]?(\d[\d\s\u00a0]*)?[.,]?\d+([eE][+-]?\d+)?")
_SHEET_FORBIDDEN = re.compile(r"[\[\]:*?/\\]")


# --------------------------------------------------------------------------- cells
def _text(value: str) -> str:
    if ILLEGAL_CHARACTERS_RE.search(value):
        value = ILLEGAL_CHARACTERS_RE.sub("\ufffd", value)
    return value[:EXCEL_MAX_TEXT]


def _cell_value(value: Any) -> Any:
    """A Python value openpyxl can store: numbers, booleans, naive datetimes, text (or None)."""
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, (int, np.integer)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        value = float(value)
        if math.isnan(value):
            return None
        if math.isinf(value):
            return "inf" if value > 0 else "-inf"
        return value
    if isinstance(value, pd.Timestamp):
        if value.tzinfo is not None:
            value = value.tz_convert("UTC").tz_localize(None)
        return value.to_pydatetime()
    if isinstance(value, dt.datetime):
        if value.tzinfo is not None:
            value = value.astimezone(dt.UTC).replace(tzinfo=None)
        return value
    if isinstance(value, (dt.date, dt.time)):
        return value
    if isinstance(value, np.datetime64):
        return None if np.isnat(value) else pd.Timestamp(value).to_pydatetime()
    if isinstance(value, (pd.Timedelta, dt.timedelta, np.timedelta64)):
        return str(pd.Timedelta(value))
    if isinstance(value, bytes):
        value = value.decode("utf-8", errors="replace")
    return _text(str(value))


def set_value(ws, row: int, column: int, value: Any):
    """Put a value in a cell; text is stored as text, never as a formula. Returns the cell."""
    cell = ws.cell(row=row, column=column)
    value = _cell_value(value)
    cell.value = value
    if isinstance(value, str):
        cell.data_type = "s"  # openpyxl would make "=..." a formula
    return cell


def sheet_title(name: object, taken: set[str] | None = None) -> str:
    """A valid, unique sheet name: no ``[]:*?/\\``, at most 31 characters, not empty."""
    title = _SHEET_FORBIDDEN.sub("_", _text(str(name))).strip("'") or "Blad"
    title = title[:31]
    if taken is not None:
        base, n = title, 2
        while title.lower() in {t.lower() for t in taken}:
            suffix = f" ({n})"
            title = base[: 31 - len(suffix)] + suffix
            n += 1
        taken.add(title)
    return title


def _flat(label: Any) -> Any:
    if isinstance(label, tuple):
        return " – ".join(str(p) for p in label if p is not None and str(p) != "")
    return label


def write_frame(ws, frame: pd.DataFrame, *, index: bool = False, widths: bool = False) -> None:
    """Write a DataFrame to a sheet from A1: a header row, then one row per record.

    ``index``: the index (levels flattened) comes first, as columns of its own; column labels of
    a MultiIndex are joined with `` – ``. ``widths``: columns as wide as their text (10–60)."""
    if index:
        names = [n if n is not None else "" for n in frame.index.names]
        frame = frame.copy()
        frame.index = frame.index.set_names([f"__index_{i}" if n == "" else n for i, n in enumerate(names)])
        frame = frame.reset_index()
        frame.columns = [("" if str(c).startswith("__index_") else c) for c in frame.columns]
    header = [_flat(c) for c in frame.columns]
    for j, name in enumerate(header, start=1):
        set_value(ws, 1, j, "" if name is None else str(name))
    columns = [frame.iloc[:, j].tolist() for j in range(frame.shape[1])]
    for j, values in enumerate(columns, start=1):
        for i, value in enumerate(values, start=2):
            set_value(ws, i, j, value)
    if widths:
        for j, values in enumerate(columns, start=1):
            longest = max([len(str(header[j - 1]))] + [len(str(v)) for v in values if v is not None] or [0])
            ws.column_dimensions[get_column_letter(j)].width = min(60, max(10, longest + 2))


def _shown_width(cell) -> int:
    """About how many characters a cell shows (a number in its format: ``0.217`` as ``21,7 %``)."""
    value = cell.value
    if value is None:
        return 0
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return len(str(value))
    fmt = cell.number_format or "General"
    body = fmt.split('"')[0]
    decimals = len(body.split(".")[1].rstrip("%")) if "." in body else (0 if fmt != "General" else 3)
    shown = value * 100 if fmt.endswith("%") else value
    return len(f"{shown:,.{decimals}f}") + (2 if fmt.endswith("%") else 0) + (3 if '"kr"' in fmt else 0)


def fit_sheet(
    ws, *, freeze: str | None = "A2", autofilter: bool = True, min_width: int = 8, max_width: int = 60
) -> None:
    """Make a sheet holding one table (header in row 1) ready to read and filter: the header bold,
    wrapped and frozen (``freeze``: the first cell that scrolls, e.g. ``"B2"`` to keep the row
    labels too), a filter on the header, and each column as wide as its text (header counted up to
    40 characters, since it wraps), between ``min_width`` and ``max_width``."""
    if ws.max_column == 1 and ws.max_row == 1 and ws["A1"].value is None:  # an empty sheet
        return
    for cell in ws[1]:
        cell.font = Font(bold=True)
        cell.alignment = Alignment(wrap_text=True, vertical="bottom")
    for j, column in enumerate(ws.iter_cols(), start=1):
        header = min(_shown_width(column[0]), 40)
        longest = max([header, *(_shown_width(c) for c in column[1:])])
        ws.column_dimensions[get_column_letter(j)].width = min(max_width, max(min_width, longest + 2))
    if freeze:
        ws.freeze_panes = freeze
    if autofilter:
        ws.auto_filter.ref = f"A1:{get_column_letter(ws.max_column)}{ws.max_row}"


def _no_formulas(wb) -> None:
    """Every formula cell becomes text, every string cell is text: nothing runs when opened."""
    for ws in wb.worksheets:
        for row in ws.iter_rows():
            for cell in row:
                if cell.data_type == "f" or isinstance(cell.value, str):
                    if not isinstance(cell.value, str):
                        cell.value = str(cell.value)
                    cell.value = _text(cell.value)
                    cell.data_type = "s"


def save_workbook(wb, target: Path | str | IO[bytes]) -> Path | None:
    """Save an openpyxl workbook with no formula in it: to a path (atomically) or a binary buffer."""
    _no_formulas(wb)
    if isinstance(target, (str, Path)):
        with atomic_path(target) as tmp:
            wb.save(tmp)
        return Path(target)
    wb.save(target)
    return None


def write_xlsx(
    target: Path | str | IO[bytes],
    sheets: Mapping[str, pd.DataFrame],
    *,
    index: bool = False,
    widths: bool = False,
) -> Path | None:
    """Write DataFrames as sheets of one workbook (sheet name -> frame), text as text."""
    wb = Workbook()
    wb.remove(wb.active)
    taken: set[str] = set()
    for name, frame in sheets.items():
        ws = wb.create_sheet(sheet_title(name, taken))
        write_frame(ws, frame, index=index, widths=widths)
    if not wb.worksheets:
        wb.create_sheet("Blad1")
    return save_workbook(wb, target)


def xlsx_bytes(sheets: Mapping[str, pd.DataFrame], *, index: bool = False, widths: bool = False) -> bytes:
    """``write_xlsx`` into bytes (a download)."""
    buf = io.BytesIO()
    write_xlsx(buf, sheets, index=index, widths=widths)
    return buf.getvalue()


# --------------------------------------------------------------------------- CSV
def _defuse(value: Any) -> Any:
    if isinstance(value, str) and value.startswith(_FORMULA_START) and not _PLAIN_NUMBER.fullmatch(value):
        return "'" + value
    return value


def csv_safe(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy where text cells that a spreadsheet would run as a formula start with ``'``
    (OWASP); numbers and text that is a plain number are left alone. Header and index too."""
    out = frame.copy()
    for j in range(out.shape[1]):
        col = out.iloc[:, j]
        if pd.api.types.is_numeric_dtype(col.dtype) or pd.api.types.is_bool_dtype(col.dtype):
            continue
        if pd.api.types.is_datetime64_any_dtype(col.dtype):
            continue
        out.isetitem(j, col.map(_defuse, na_action="ignore").astype(object))
    out.columns = pd.Index([_defuse(_flat(c)) if isinstance(_flat(c), str) else c for c in out.columns])
    out.index = out.index.set_names([_defuse(n) for n in out.index.names])
    if not isinstance(out.index, pd.RangeIndex):
        if isinstance(out.index, pd.MultiIndex):
            out.index = pd.MultiIndex.from_tuples(
                [tuple(_defuse(v) for v in t) for t in out.index], names=out.index.names
            )
        elif not pd.api.types.is_numeric_dtype(out.index.dtype):
            out.index = pd.Index([_defuse(v) for v in out.index], name=out.index.name)
    return out


def csv_text(frame: pd.DataFrame, **to_csv: Any) -> str:
    """The frame as CSV text for a spreadsheet (``csv_safe``); ``to_csv`` options as pandas'.

    Lines end in CRLF (RFC 4180, as Excel writes), so a value holding a line break or a carriage
    return is quoted and stays one cell."""
    to_csv.setdefault("index", False)
    to_csv.setdefault("lineterminator", "\r\n")
    return csv_safe(frame).to_csv(None, **to_csv)


def write_csv(path: Path | str, frame: pd.DataFrame, *, encoding: str = "utf-8", **to_csv: Any) -> Path:
    """Write ``csv_text`` to a file atomically."""
    with atomic_path(path) as tmp:
        tmp.write_text(csv_text(frame, **to_csv), encoding=encoding, newline="")
    return Path(path)
