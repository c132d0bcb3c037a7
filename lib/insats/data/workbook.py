"""Reading Excel workbooks (``.xlsx``, and ``.xls`` when ``xlrd`` is there) as raw tables.

Before openpyxl reads a workbook, ``check_workbook`` refuses what is not one (text with an
``.xlsx`` name, an old ``.xls``, an encrypted or empty file) and a sheet whose header is wider than
``MAX_COLUMNS``, read from the start of the sheet's XML: openpyxl sizes a sheet that does not state
its size by reading all of it, which for a 16 000-column sheet takes minutes. Values are the cells'
stored values; formula cells without one are listed (``RawTable.formula_cells``) from the XML.
"""

from __future__ import annotations

import re
import zipfile
from pathlib import Path
from xml.etree import ElementTree

import numpy as np
import pandas as pd

from insats.atomic import sha256_of
from insats.contract import fold
from insats.data.raw import MAX_COLUMNS, RawTable, check_width, finish_table, fold_headers
from insats.data.study import SourceFile
from insats.errors import DataError

_CELL_RE = re.compile(rb"<(?:\w+:)?c\b([^>]*?)(?:/>|>(.*?)</(?:\w+:)?c>)", re.S)
_REF_RE = re.compile(rb'\br="([A-Z]+)(\d+)"')
_TYPE_RE = re.compile(rb'\bt="(\w+)"')
_VALUE_RE = re.compile(rb"<(?:\w+:)?v>\s*[^<\s]", re.S)
_FORMULA_RE = re.compile(rb"<(?:\w+:)?f\b")


def _column_index(letters: bytes) -> int:
    n = 0
    for ch in letters:
        n = n * 26 + ch - 64
    return n


def _formulas_without_value(wb, ws) -> set[tuple[int, int]]:
    """(row, column) of the formula cells in a sheet that have no stored value.

    A read-only openpyxl workbook gives such a cell as empty; the sheet's XML tells them apart
    (a ``<f>`` element and no ``<v>`` value; a formula whose stored result is empty text has
    ``t="str"``). Workbooks saved by Excel or LibreOffice store values; ones written by scripts
    often do not."""
    archive, part = getattr(wb, "_archive", None), getattr(ws, "_worksheet_path", None)
    if archive is None or part is None:
        return set()
    try:
        with archive.open(part) as fh:
            xml = fh.read()
    except (KeyError, OSError, zipfile.BadZipFile):
        return set()
    return _formula_cells(xml)


def _formula_cells(xml: bytes) -> set[tuple[int, int]]:
    out: set[tuple[int, int]] = set()
    if not _FORMULA_RE.search(xml):
        return out
    for m in _CELL_RE.finditer(xml):
        inner = m.group(2) or b""
        if not _FORMULA_RE.search(inner) or _VALUE_RE.search(inner):
            continue
        kind = _TYPE_RE.search(m.group(1))
        if kind and kind.group(1) == b"str":
            continue
        ref = _REF_RE.search(m.group(1))
        if ref:
            out.add((int(ref.group(2)), _column_index(ref.group(1))))
    return out


def count_formulas_without_value(path: Path | str) -> int:
    """Formula cells without a stored value in every sheet of a workbook (0 if it cannot be read)."""
    try:
        with zipfile.ZipFile(path) as zf:
            return sum(
                len(_formula_cells(zf.read(name)))
                for name in zf.namelist()
                if name.startswith("xl/worksheets/") and name.endswith(".xml")
            )
    except (zipfile.BadZipFile, OSError, KeyError):
        return 0


def _sheet_rows(ws, what: str) -> tuple[list, list[list], list[int], int]:
    """Header, data rows, their row numbers, and the header's row number of a read-only sheet
    (empty rows dropped). A header wider than ``MAX_COLUMNS`` is refused before any data row is
    read, and data rows are read only as wide as the header."""
    header: list | None = None
    header_row = 0
    for number, row in enumerate(ws.iter_rows(values_only=True), start=1):
        values = [v.strip() if isinstance(v, str) else v for v in row]
        values = [None if v == "" else v for v in values]
        if all(v is None for v in values):
            continue
        header, header_row = values, number
        break
    if header is None:
        return [], [], [], 0
    while header and header[-1] is None:
        header.pop()
    check_width(len(header), what)
    width = len(header)
    rows: list[list] = []
    numbers: list[int] = []
    if width:
        for number, row in enumerate(
            ws.iter_rows(min_row=header_row + 1, max_col=width, values_only=True), start=header_row + 1
        ):
            values = [v.strip() if isinstance(v, str) else v for v in row]
            values = [None if v == "" else v for v in values]
            if all(v is None for v in values):
                continue
            values += [None] * (width - len(values))
            rows.append(values)
            numbers.append(number)
    return header, rows, numbers, header_row


def excel_table(table: str | None, wb, ws, source: SourceFile) -> RawTable:
    header, rows, numbers, header_row = _sheet_rows(ws, f"bladet {source.sheet}" if source.sheet else "filen")
    width = len(header)
    columns = [[r[i] for r in rows] for i in range(width)]
    raw = finish_table(table, columns, header, pd.Index(numbers, dtype="int64"), source)
    formulas = _formulas_without_value(wb, ws)
    if formulas:
        names, _, _, keep = fold_headers(header, table)
        for row, col in sorted(formulas):
            if row > header_row and col <= width and keep[col - 1]:
                raw.formula_cells.setdefault(names[col - 1], []).append(row)
    return raw


_NOT_XLSX = (
    "filen är ingen Excel-arbetsbok (.xlsx) fast den heter så{what}. Öppna den i Excel och spara den som "
    "Excel-arbetsbok (.xlsx), eller byt filändelse om den är en CSV-fil."
)


def _check_xlsx_bytes(path: Path) -> None:
    with open(path, "rb") as fh:
        head = fh.read(8)
    if head.startswith(b"PK\x03\x04"):
        return
    if not head:
        raise DataError("filen är tom (0 byte); förväntade en Excel-arbetsbok.")
    if head.startswith(b"\xd0\xcf\x11\xe0"):
        raise DataError(
            "filen är i det gamla Excel-formatet (.xls) eller en lösenordsskyddad arbetsbok; öppna den i Excel "
            "och spara den som Excel-arbetsbok (.xlsx) utan lösenord."
        )
    looks_text = all(32 <= b < 127 or b in (9, 10, 13) or b >= 0xC2 for b in head)
    raise DataError(_NOT_XLSX.format(what=" (den ser ut att vara text)" if looks_text else ""))


_ROW_RE = re.compile(rb"<(?:\w+:)?row\b[^>]*?(?:/>|>(.*?)</(?:\w+:)?row>)", re.S)
_HAS_VALUE_RE = re.compile(rb"<(?:\w+:)?(?:v|is)>\s*[^<\s]|<(?:\w+:)?is>", re.S)
_PRESCAN_LIMIT = 32 * 1024 * 1024


def _sheet_parts(zf: zipfile.ZipFile) -> list[tuple[str, str]]:
    """(sheet name, part in the archive) of every worksheet, from the workbook's XML."""
    ns_main = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
    ns_rel = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}"
    ns_pkg = "{http://schemas.openxmlformats.org/package/2006/relationships}"
    workbook = ElementTree.fromstring(zf.read("xl/workbook.xml"))
    rels = ElementTree.fromstring(zf.read("xl/_rels/workbook.xml.rels"))
    targets = {r.get("Id"): r.get("Target", "") for r in rels.iter(f"{ns_pkg}Relationship")}
    out = []
    for sheet in workbook.iter(f"{ns_main}sheet"):
        target = targets.get(sheet.get(f"{ns_rel}id"), "")
        part = target.lstrip("/") if target.startswith("/") else f"xl/{target}"
        out.append((sheet.get("name", ""), part))
    return out


def _first_row_width(zf: zipfile.ZipFile, part: str) -> int:
    """Columns of the first row with a value, read from the start of the sheet's XML only
    (0 when it cannot be told within the first ``_PRESCAN_LIMIT`` bytes)."""
    buf = b""
    with zf.open(part) as fh:
        while len(buf) < _PRESCAN_LIMIT:
            chunk = fh.read(1 << 20)
            buf += chunk
            pos = 0
            for m in _ROW_RE.finditer(buf):
                pos = m.end()
                inner = m.group(1) or b""
                if not _HAS_VALUE_RE.search(inner):
                    continue
                width, counter = 0, 0
                for cell in _CELL_RE.finditer(inner):
                    ref = _REF_RE.search(cell.group(1))
                    counter = _column_index(ref.group(1)) if ref else counter + 1
                    if _HAS_VALUE_RE.search(cell.group(2) or b""):
                        width = max(width, counter)
                return width
            buf = buf[pos:] if pos else buf
            if not chunk:
                break
    return 0


def _check_sheet_widths(path: Path) -> None:
    """Refuse a workbook with a sheet whose header is wider than ``MAX_COLUMNS`` before openpyxl
    reads it (openpyxl reads a whole sheet when it opens the workbook if the sheet does not state
    its size first, which for 16 000 columns takes minutes)."""
    try:
        with zipfile.ZipFile(path) as zf:
            for name, part in _sheet_parts(zf):
                width = _first_row_width(zf, part)
                if width > MAX_COLUMNS:
                    check_width(width, f"bladet {name}")
    except DataError:
        raise
    except Exception:  # noqa: BLE001 - a broken workbook is reported when openpyxl opens it
        return


def check_workbook(path: Path | str) -> None:
    """Refuse, with a Swedish ``DataError``, a file that is not an XLSX workbook (text, an old
    ``.xls``, an empty file) or that has a sheet wider than ``MAX_COLUMNS`` — before any reader
    spends minutes on it. Every reader of workbooks calls this first."""
    _check_xlsx_bytes(Path(path))
    _check_sheet_widths(Path(path))


def open_workbook(path: Path):
    check_workbook(path)
    from openpyxl import load_workbook  # on use: a study of CSV files (and the run's coordinator) never needs it

    try:
        return load_workbook(path, read_only=True, data_only=True)
    except PermissionError:
        raise
    except Exception as exc:  # noqa: BLE001 - openpyxl raises many kinds for a broken file
        raise DataError(
            "filen är skadad eller ingen giltig Excel-arbetsbok (.xlsx); öppna den i Excel och spara den igen "
            f"(tekniskt fel: {type(exc).__name__})."
        ) from None


def read_excel(path: Path, table: str | None, sha: str | None = None, sheet: str | None = None) -> RawTable:
    """An XLSX sheet (the named one, else the one named like the table, else the first)."""
    sha = sha or sha256_of(path)
    wb = open_workbook(path)
    try:
        names = {fold(n): n for n in wb.sheetnames}
        name = sheet or names.get(table or "") or wb.sheetnames[0]
        multi = len(wb.sheetnames) > 1
        source = SourceFile(table or "", path, "xlsx", sha, name if multi or sheet else None)
        return excel_table(table, wb, wb[name], source)
    finally:
        wb.close()


def read_old_excel(path: Path, table: str | None, sha: str | None = None) -> RawTable:
    """An old binary ``.xls`` file (needs the optional ``xlrd`` package)."""
    sha = sha or sha256_of(path)
    frame = pd.read_excel(path, header=None, dtype=object)  # raises ImportError without xlrd
    frame = frame.astype(object).where(frame.notna(), None)
    header = frame.iloc[0].tolist() if len(frame) else []
    check_width(len(header))
    body = frame.iloc[1:]
    body.index = pd.Index(np.arange(2, 2 + len(body)))
    body = body[body.notna().any(axis=1)]
    return finish_table(table, body, header, body.index, SourceFile(table or "", path, "xls", sha))
