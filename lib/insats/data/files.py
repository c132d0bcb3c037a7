"""Finding and reading the files of a study folder, every value as it was written.

A study folder holds one file per contract table — ``<table>.csv``, ``.txt``, ``.xlsx``, ``.xls``
or ``.parquet``, the name matched with ``contract.fold`` so ``Insatser.CSV`` works — or one
workbook (any ``*.xlsx``) with a sheet per table (sheet names folded too), and optionally
``studie.json`` (the study's metadata). Other files are not read as tables but are listed, and
their names and contents are kept for the personnummer check (``FolderScan.others``, ``texts``).

Values are read raw so that validation can quote what the user wrote: CSV as text (separator
``,``, ``;`` or tab sniffed from the header), XLSX cells as Python objects (numbers, text,
``datetime``), Parquet typed as stored (validation casts typed columns directly, so a correct
file needs little work). Headers are folded (``"Område kod"`` -> ``omrade_kod``), and a column's
Swedish label is accepted as its header (``"Områdeskod"`` -> ``omrade_kod``, ``"Belopp (kr)"`` ->
``belopp``).

**Text encodings** (``decode_bytes``): UTF-8 with or without BOM; UTF-16 and UTF-32 with a BOM
(Excel's "Unicode text"), and UTF-16 without one (recognised by its zero bytes); else
Windows-1252 as Swedish Excel writes it. Other bytes with NUL characters are not text: the file
is refused with a message saying so.

**Broken files** give Swedish messages, never the reader's English: an unclosed quotation mark
(the row where it opens), rows with more values than the header has columns (each row named; the
row is left out), a file that is not what its extension says (``.xlsx`` that is text, ``.parquet``
that is not Parquet), a table with more than ``MAX_COLUMNS`` columns (refused at the header,
before the rows are read), formula cells without a stored value (``RawTable.formula_cells``;
validation says so instead of "värdet saknas").

**Row numbers.** The index of ``RawTable.frame`` is the row number a user sees in a spreadsheet:
the header is row 1, the first data row is row 2. Blank lines and empty sheet rows keep their
numbers (they are dropped, so numbers can skip). Parquet files have no visible rows; they use the
same numbering (first record = row 2) so that messages read the same for every format.
"""

from __future__ import annotations

import codecs
import csv
import io
import json
import re
import zipfile
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from xml.etree import ElementTree

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
from openpyxl import load_workbook

from insats.atomic import TEMP_PREFIX, sha256_bytes, sha256_of
from insats.contract import TABLES, column_name, fold
from insats.data.study import SourceFile
from insats.errors import DataError

CSV_SUFFIXES = (".csv", ".txt")
EXCEL_SUFFIXES = (".xlsx", ".xlsm")
OLD_EXCEL_SUFFIXES = (".xls",)
PARQUET_SUFFIXES = (".parquet", ".pq")
META_FILE = "studie.json"

MAX_COLUMNS = 1000
"""More columns than this in a table's header is refused before any row is read (the contract's
tables have at most 14; an export with a few hundred extra columns is still read)."""

MAX_TEXT_BYTES = 100 * 1024 * 1024
"""Files that are not tables are checked for personnummer as text up to this size."""

_CSV_FIELD_LIMIT = csv.field_size_limit()


@dataclass
class RawTable:
    """One table as read: raw values, folded headers, and where it came from."""

    table: str | None
    """The contract table, or None for a table the contract does not know (read for checks)."""
    frame: pd.DataFrame
    """Raw values; columns are folded headers; the index is the spreadsheet row number."""
    source: SourceFile
    headers: dict[str, str] = field(default_factory=dict)
    """Folded header -> header as written in the file."""
    duplicate_headers: list[str] = field(default_factory=list)
    """Headers as written that folded to a column already read (the first one is kept)."""
    row_problems: list[tuple[str, str, list[int]]] = field(default_factory=list)
    """(rule, Swedish message, row numbers) for rows that could not be read as they stand."""
    formula_cells: dict[str, list[int]] = field(default_factory=dict)
    """Column -> rows of formula cells without a stored value (read as empty)."""

    @staticmethod
    def row_number(index_label) -> int:
        """Spreadsheet row number of a frame row (header = 1, first data row = 2)."""
        return int(index_label)


@dataclass
class FolderScan:
    """What a study folder holds: raw tables, metadata, and notes for the report."""

    path: Path
    tables: dict[str, RawTable] = field(default_factory=dict)
    meta: dict = field(default_factory=dict)
    ignored: list[str] = field(default_factory=list)
    """Files (or sheets) that are not a contract table."""
    failures: list[tuple[str, str]] = field(default_factory=list)
    """(file as displayed, Swedish message) for files that could not be read."""
    unusable: list[tuple[str, str]] = field(default_factory=list)
    """(file as displayed, Swedish message) for files that were read (and checked for
    personnummer) but cannot be used: a second copy of a table, ``studie.json`` that is not an object."""
    files: list[str] = field(default_factory=list)
    """Display names of every file read (for the report's summary)."""
    names: list[tuple[str, str, str]] = field(default_factory=list)
    """(``filnamnet``/``mappnamnet``/``bladnamnet``, workbook of a sheet or "", name) of every file,
    folder and sheet: a name can hold a personnummer too."""
    others: list[RawTable] = field(default_factory=list)
    """Tables the contract does not know (other CSV, sheets, Parquet), read raw for the checks."""
    texts: list[tuple[str, str]] = field(default_factory=list)
    """(file, text) of the other text files (``studie.json`` included), for the checks."""
    unchecked: list[str] = field(default_factory=list)
    """Files whose content could not be checked (binary, too large)."""


# --------------------------------------------------------------------------- decoding
def decode_bytes(data: bytes, name: str = "filen") -> tuple[str, str]:
    """The text of a file's bytes and its encoding (a Python codec name that writes it back the
    same way: ``utf-8``, ``utf-8-sig``, ``utf-16``, ``utf-32``, ``utf-16-le``, ``utf-16-be``,
    ``cp1252`` or ``latin-1``). Raises ``DataError`` for bytes that are not text."""
    for bom, codec in ((codecs.BOM_UTF32_LE, "utf-32"), (codecs.BOM_UTF32_BE, "utf-32")):
        if data.startswith(bom):
            return _decode(data, codec, name), codec
    if data.startswith(codecs.BOM_UTF8):
        return _decode(data, "utf-8-sig", name), "utf-8-sig"
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return _decode(data, "utf-16", name), "utf-16"
    if b"\x00" in data:
        head = data[:4096]
        even, odd = head[0::2], head[1::2]
        if odd.count(0) > 0.3 * len(odd) and even.count(0) == 0:
            return _decode(data, "utf-16-le", name), "utf-16-le"
        if even.count(0) > 0.3 * len(even) and odd.count(0) == 0:
            return _decode(data, "utf-16-be", name), "utf-16-be"
        raise DataError(
            f"{name} innehåller NUL-tecken och är ingen textfil (CSV) som går att läsa; spara den från Excel "
            "som CSV (UTF-8) eller som Excel-arbetsbok (.xlsx)."
        )
    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("cp1252"), "cp1252"
    except UnicodeDecodeError:
        return data.decode("latin-1"), "latin-1"


def _decode(data: bytes, codec: str, name: str) -> str:
    try:
        return data.decode(codec)
    except UnicodeDecodeError:
        enc = codec.upper().replace("-SIG", "")
        raise DataError(
            f"{name} ser ut att vara kodad som {enc} men innehåller ogiltiga tecken (filen är kanske avkortad "
            "eller skadad); spara den igen som CSV (UTF-8)."
        ) from None


# --------------------------------------------------------------------------- headers
def _check_width(width: int, what: str = "filen") -> None:
    if width > MAX_COLUMNS:
        raise DataError(
            f"{what} har {width} kolumner i rubrikraden; en tabell i studien har högst några tiotal "
            f"(gränsen är {MAX_COLUMNS}). Kontrollera att rätt fil eller blad är valt och att rubrikraden "
            "är den första raden."
        )


def _fold_headers(raw_names: list, table: str | None = None) -> tuple[list[str], dict[str, str], list[str], list[bool]]:
    """Column names (folded, or the contract column whose Swedish label the header is),
    name -> written, duplicates, and which positions to keep."""
    names, written, dups, keep = [], {}, [], []
    for i, name in enumerate(raw_names):
        text = "" if name is None else str(name)
        key = (column_name(table, text) if table else fold(text)) or f"kolumn_{i + 1}"
        if key in written:
            dups.append(text)
            keep.append(False)
        else:
            written[key] = text
            keep.append(True)
        names.append(key)
    return names, written, dups, keep


def _finish(
    table: str | None, data: dict[str, list] | pd.DataFrame, raw_names: list, index, source: SourceFile
) -> RawTable:
    names, written, dups, keep = _fold_headers(raw_names, table)
    if isinstance(data, pd.DataFrame):
        frame = data.iloc[:, [i for i, k in enumerate(keep) if k]]
        frame.columns = [n for n, k in zip(names, keep) if k]
        frame.index = index
    else:
        frame = pd.DataFrame(
            {n: pd.Series(col, index=index, dtype=object) for n, col, k in zip(names, data, keep) if k}, index=index
        )
    return RawTable(table, frame, source, written, dups)


# --------------------------------------------------------------------------- CSV
def _sniff_separator(header: str) -> str:
    counts = {sep: header.count(sep) for sep in (";", ",", "\t")}
    best = max(counts, key=lambda s: counts[s])
    return best if counts[best] else ","


_SEPARATOR_NAME = {";": "semikolon", ",": "komma", "\t": "tabb"}


def _csv_records(text: str, sep: str) -> list[list[str]]:
    """Every record of a CSV text (blank lines as empty records, so row numbers hold).

    Read strictly first, to find an unclosed quotation mark; other quoting slips (text after a
    closing quote) are read leniently, as Excel does."""
    records: list[list[str]] = []
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=sep, strict=True)
    try:
        for record in reader:
            records.append(record)
        return records
    except csv.Error as exc:
        row = len(records) + 1
        if "field larger than field limit" in str(exc):
            raise DataError(
                f"rad {row}: ett värde är längre än {_CSV_FIELD_LIMIT:,} tecken".replace(",", " ")
                + '; troligen öppnas ett citattecken (") som aldrig stängs. Rätta citattecknen eller spara filen '
                "igen från Excel."
            ) from None
        if "unexpected end of data" in str(exc):
            raise DataError(
                f'rad {row}: ett citattecken (") öppnas men stängs aldrig, så resten av filen skulle bli '
                "ett enda värde. Lägg till det avslutande citattecknet eller ta bort det inledande."
            ) from None
    records = []
    try:
        for record in csv.reader(io.StringIO(text, newline=""), delimiter=sep):
            records.append(record)
    except csv.Error:
        raise DataError(
            f"rad {len(records) + 1} kan inte läsas som CSV (citattecknen stämmer inte); "
            "spara filen igen från Excel som CSV."
        ) from None
    return records


def _read_records(records: list[list[str]], table: str | None, source: SourceFile, sep: str) -> RawTable:
    """A raw table from CSV records: rows longer than the header are reported and left out,
    shorter ones padded with empty cells."""
    header = [h.strip() for h in records[0]] if records else []
    while header and not header[-1]:
        header.pop()
    width = len(header)
    _check_width(width)
    rows, numbers, too_long = [], [], []
    for i, record in enumerate(records[1:], start=2):
        if len(record) > width and any(v.strip() for v in record[width:]):
            too_long.append(i)
            continue
        values = [(v.strip() or None) for v in record[:width]]
        if not any(v is not None for v in values):
            continue
        values += [None] * (width - len(values))
        rows.append(values)
        numbers.append(i)
    columns = [[r[j] for r in rows] for j in range(width)]
    raw = _finish(table, columns, header, pd.Index(numbers, dtype="int64"), source)
    if too_long:
        raw.row_problems.append(
            (
                "rad_for_lang",
                f"raden har fler värden än rubrikraden har kolumner ({width}); troligen står en avgränsare "
                f"({_SEPARATOR_NAME.get(sep, sep)}) i ett värde utan citattecken. Sätt sådana värden inom "
                'citattecken ("...") eller spara filen igen från Excel. Raden hoppas över.',
                too_long,
            )
        )
    return raw


def read_csv(path: Path, table: str | None, sha: str | None = None) -> RawTable:
    """A CSV/TXT file as text (missing or blank cells as NA)."""
    path = Path(path)
    data = path.read_bytes()
    sha = sha or sha256_bytes(data)
    source = SourceFile(table or "", path, "csv", sha)
    text, encoding = decode_bytes(data)
    if not text.strip():
        return RawTable(table, pd.DataFrame(index=pd.RangeIndex(2, 2)), source)
    first_line = text.split("\n", 1)[0].rstrip("\r")
    sep = _sniff_separator(first_line)
    _check_width(_header_width(first_line, sep))
    body = data if encoding == "utf-8" else text.encode("utf-8")
    if b"\n\n" not in body and b"\n\r\n" not in body:
        header = _first_record(first_line, sep)
        arrow = None
        if header is not None:
            try:
                arrow = pacsv.read_csv(
                    pa.BufferReader(body),
                    read_options=pacsv.ReadOptions(autogenerate_column_names=True, skip_rows=1),
                    parse_options=pacsv.ParseOptions(delimiter=sep),
                    convert_options=pacsv.ConvertOptions(
                        column_types={f"f{i}": pa.string() for i in range(len(header))},
                        strings_can_be_null=True,
                        null_values=[""],
                    ),
                )
            except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
                arrow = None
        if arrow is not None and header is not None and len(header) == arrow.num_columns:
            frame = arrow.to_pandas()
            frame.index = pd.RangeIndex(2, 2 + len(frame))
            filled = frame.notna().any(axis=1)
            if not filled.all():  # rows of separators only (";;;"), as Excel writes them
                frame = frame[filled]
            return _finish(table, frame, [h.strip() for h in header], frame.index, source)
    # The careful path: blank lines keep their row numbers; ragged rows are reported.
    return _read_records(_csv_records(text, sep), table, source, sep)


def _first_record(line: str, sep: str) -> list[str] | None:
    try:
        return next(csv.reader([line], delimiter=sep, strict=True), [])
    except csv.Error:
        return None


def _header_width(line: str, sep: str) -> int:
    record = _first_record(line, sep)
    return len(record) if record is not None else line.count(sep) + 1


# --------------------------------------------------------------------------- Excel
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
    _check_width(len(header), what)
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


def _excel_table(table: str | None, wb, ws, source: SourceFile) -> RawTable:
    header, rows, numbers, header_row = _sheet_rows(ws, f"bladet {source.sheet}" if source.sheet else "filen")
    width = len(header)
    columns = [[r[i] for r in rows] for i in range(width)]
    raw = _finish(table, columns, header, pd.Index(numbers, dtype="int64"), source)
    formulas = _formulas_without_value(wb, ws)
    if formulas:
        names, _, _, keep = _fold_headers(header, table)
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
                    _check_width(width, f"bladet {name}")
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


def _open_workbook(path: Path):
    check_workbook(path)
    try:
        return load_workbook(path, read_only=True, data_only=True)
    except PermissionError:
        raise
    except Exception as exc:  # noqa: BLE001 - openpyxl raises many kinds for a broken file
        raise DataError(
            "filen är skadad eller ingen giltig Excel-arbetsbok (.xlsx); öppna den i Excel och spara den igen "
            f"(tekniskt fel: {type(exc).__name__})."
        ) from None


def read_excel(path: Path, table: str, sha: str | None = None, sheet: str | None = None) -> RawTable:
    """An XLSX sheet (the named one, else the one named like the table, else the first)."""
    sha = sha or sha256_of(path)
    wb = _open_workbook(path)
    try:
        names = {fold(n): n for n in wb.sheetnames}
        name = sheet or names.get(table) or wb.sheetnames[0]
        multi = len(wb.sheetnames) > 1
        source = SourceFile(table, path, "xlsx", sha, name if multi or sheet else None)
        return _excel_table(table, wb, wb[name], source)
    finally:
        wb.close()


def read_old_excel(path: Path, table: str, sha: str | None = None) -> RawTable:
    """An old binary ``.xls`` file (needs the optional ``xlrd`` package)."""
    sha = sha or sha256_of(path)
    frame = pd.read_excel(path, header=None, dtype=object)  # raises ImportError without xlrd
    frame = frame.astype(object).where(frame.notna(), None)
    header = frame.iloc[0].tolist() if len(frame) else []
    _check_width(len(header))
    body = frame.iloc[1:]
    body.index = pd.Index(np.arange(2, 2 + len(body)))
    body = body[body.notna().any(axis=1)]
    return _finish(table, body, header, body.index, SourceFile(table, path, "xls", sha))


# --------------------------------------------------------------------------- Parquet
def read_parquet(path: Path, table: str | None, sha: str | None = None) -> RawTable:
    """A Parquet file, typed as stored. Rows are numbered as in a spreadsheet (first record = 2)."""
    sha = sha or sha256_of(path)
    with open(path, "rb") as fh:
        head = fh.read(4)
        fh.seek(0, 2)
        size = fh.tell()
        fh.seek(max(0, size - 4))
        tail = fh.read(4)
    if head != b"PAR1" or tail != b"PAR1":
        raise DataError(
            "filen är ingen Parquet-fil fast den heter så (eller så är den avkortad); skriv den igen från "
            "programmet som skapade den, eller byt filändelse om den är en CSV- eller Excel-fil."
        )
    try:
        schema = pq.read_schema(path)
        _check_width(len(schema.names))
        arrow = pq.read_table(path)
        # dates as datetime64, not Python date objects: typing and the personnummer scan stay vectorised
        frame = arrow.to_pandas(date_as_object=False)
    except (DataError, PermissionError):
        raise
    except Exception as exc:  # noqa: BLE001 - pyarrow raises many kinds for a broken file
        raise DataError(
            "Parquet-filen är skadad eller har en kolumntyp som inte kan läsas här; skriv den igen "
            f"(tekniskt fel: {type(exc).__name__})."
        ) from None
    source = SourceFile(table or "", path, "parquet", sha)
    return _finish(table, frame, list(arrow.column_names), pd.RangeIndex(2, 2 + len(frame)), source)


def read_file(path: Path, table: str | None) -> RawTable:
    """Read one file as the given contract table (None: a table the contract does not know)."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix in CSV_SUFFIXES:
        return read_csv(path, table)
    if suffix in EXCEL_SUFFIXES:
        return read_excel(path, table)
    if suffix in OLD_EXCEL_SUFFIXES:
        return read_old_excel(path, table)
    if suffix in PARQUET_SUFFIXES:
        return read_parquet(path, table)
    raise DataError(f"okänt filformat {path.suffix!r}; förväntade .csv, .txt, .xlsx, .xls eller .parquet")


# --------------------------------------------------------------------------- folder
_READABLE = CSV_SUFFIXES + EXCEL_SUFFIXES + OLD_EXCEL_SUFFIXES + PARQUET_SUFFIXES


def _add(scan: FolderScan, raw: RawTable) -> None:
    name = raw.table
    if name in scan.tables:
        first = scan.tables[name].source.display
        scan.unusable.append(
            (raw.source.display, f"tabellen {name} finns redan i {first}; en tabell får bara finnas i en fil.")
        )
        scan.others.append(raw)  # still checked for personnummer
        return
    scan.tables[name] = raw


def _scan_workbook(scan: FolderScan, path: Path) -> None:
    sha = sha256_of(path)
    wb = _open_workbook(path)
    try:
        found = False
        ignored = []
        for sheet in wb.sheetnames:
            scan.names.append(("bladnamnet", path.name, sheet))
            table = fold(sheet)
            if table in TABLES:
                _add(scan, _excel_table(table, wb, wb[sheet], SourceFile(table, path, "xlsx", sha, sheet)))
                found = True
            else:
                ignored.append(f"{path.name}, blad {sheet}")
                scan.others.append(_excel_table(None, wb, wb[sheet], SourceFile("", path, "xlsx", sha, sheet)))
        if found:
            scan.files.append(path.name)
            scan.ignored.extend(ignored)
        else:
            scan.ignored.append(path.name)
    finally:
        wb.close()


def _read_meta(scan: FolderScan, file: Path) -> None:
    try:
        text, _ = decode_bytes(file.read_bytes())
    except DataError as exc:
        scan.failures.append((file.name, str(exc)))
        return
    scan.texts.append((file.name, text))
    try:
        meta = json.loads(text)
    except (ValueError, RecursionError) as exc:
        where = f" (rad {exc.lineno})" if isinstance(exc, json.JSONDecodeError) else ""
        scan.unusable.append(
            (file.name, f"filen kunde inte läsas som JSON{where}; kontrollera kommatecken och klamrar.")
        )
        return
    if not isinstance(meta, dict):
        scan.unusable.append((file.name, "filen ska innehålla ett JSON-objekt ({ ... }) med studiens uppgifter."))
        return
    scan.meta = meta


def _read_other(scan: FolderScan, file: Path) -> None:
    """A file that is not a contract table: tables are read raw, text kept, for the checks."""
    suffix = file.suffix.lower()
    try:
        if suffix in CSV_SUFFIXES + PARQUET_SUFFIXES:
            scan.others.append(read_file(file, None))
            return
        if suffix in EXCEL_SUFFIXES:
            _scan_workbook(scan, file)
            return
        if file.stat().st_size > MAX_TEXT_BYTES:
            scan.unchecked.append(file.name)
            return
        text, _ = decode_bytes(file.read_bytes())
        scan.texts.append((file.name, text))
    except DataError:
        scan.unchecked.append(file.name)
    except Exception:  # noqa: BLE001 - a file outside the contract that cannot be read is only listed
        scan.unchecked.append(file.name)


def scan_folder(path: Path | str) -> FolderScan:
    """Find and read every contract table in a study folder (or one workbook file)."""
    path = Path(path)
    scan = FolderScan(path)
    if path.is_file():
        if path.suffix.lower() not in EXCEL_SUFFIXES:
            scan.failures.append(
                (
                    path.name,
                    "en studie är en mapp med en fil per tabell (eller en Excel-arbetsbok med ett blad per tabell), "
                    f"inte en enskild {path.suffix or 'fil'}-fil; ange mappen {path.parent} i stället.",
                )
            )
            return scan
        files = [path]
        scan.names.append(("filnamnet", "", path.name))
    elif path.is_dir():
        files = []
        for p in sorted(path.iterdir()):
            if p.name.startswith(TEMP_PREFIX):
                continue
            scan.names.append(("mappnamnet" if p.is_dir() else "filnamnet", "", p.name))
            if p.is_file() and not p.name.startswith((".", "~$")):
                files.append(p)
    else:
        return scan
    for file in files:
        suffix = file.suffix.lower()
        if file.name.lower() == META_FILE:
            _read_meta(scan, file)
            continue
        table = fold(file.stem)
        try:
            if suffix in _READABLE and table in TABLES:
                _add(scan, read_file(file, table))
                scan.files.append(file.name)
            elif suffix in EXCEL_SUFFIXES:
                _scan_workbook(scan, file)
            else:
                scan.ignored.append(file.name)
                _read_other(scan, file)
        except ImportError:
            scan.failures.append(
                (file.name, "gamla Excel-formatet .xls kan inte läsas här; spara filen som .xlsx eller CSV.")
            )
        except DataError as exc:
            scan.failures.append((file.name, str(exc)))
        except PermissionError:
            scan.failures.append(
                (file.name, "filen får inte läsas (behörighet saknas); kontrollera filens rättigheter.")
            )
        except Exception as exc:  # noqa: BLE001 — any unreadable file becomes a message, not a crash
            scan.failures.append(
                (
                    file.name,
                    f"filen kunde inte läsas (tekniskt fel: {type(exc).__name__}); kontrollera att den är en "
                    "giltig CSV-, Excel- eller Parquet-fil.",
                )
            )
    return scan


def to_display_text(value) -> str | None:
    """A raw value as a user wrote it: Excel numbers without ``.0``, dates as ÅÅÅÅ-MM-DD."""
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, (float, np.floating)):
        value = float(value)
        if np.isnan(value):
            return None
        return str(int(value)) if value.is_integer() and abs(value) < 1e15 else repr(value)
    if isinstance(value, np.integer):
        return str(int(value))
    if isinstance(value, (datetime, pd.Timestamp)):
        if (value.hour, value.minute, value.second, value.microsecond) == (0, 0, 0, 0):
            return value.strftime("%Y-%m-%d")
        return value.strftime("%Y-%m-%d %H:%M:%S")
    if isinstance(value, (bool, np.bool_)):
        return "Ja" if value else "Nej"
    if isinstance(value, bytes):
        value = value.decode("utf-8", errors="replace")
    text = str(value).strip()
    return text or None
