"""Finding and reading the files of a study folder, every value as it was written.

A study folder holds one file per contract table — ``<table>.csv``, ``.txt``, ``.xlsx``, ``.xls``
or ``.parquet``, the name matched with ``contract.fold`` so ``Insatser.CSV`` works — or one
workbook (any ``*.xlsx``) with a sheet per table (sheet names folded too), and optionally
``studie.json`` (the study's metadata). Anything else is ignored and listed.

Values are read raw so that validation can quote what the user wrote: CSV as text (separator
``,``, ``;`` or tab sniffed from the header; UTF-8 with or without BOM, else Windows-1252 as
Swedish Excel writes it), XLSX cells as Python objects (numbers, text, ``datetime``), Parquet
typed as stored (validation casts typed columns directly, so a correct file needs little work).
Headers are folded (``"Område kod"`` -> ``omrade_kod``), and a column's Swedish label is accepted
as its header (``"Områdeskod"`` -> ``omrade_kod``, ``"Belopp (kr)"`` -> ``belopp``).

**Row numbers.** The index of ``RawTable.frame`` is the row number a user sees in a spreadsheet:
the header is row 1, the first data row is row 2. Blank lines and empty sheet rows keep their
numbers (they are dropped, so numbers can skip). Parquet files have no visible rows; they use the
same numbering (first record = row 2) so that messages read the same for every format.
"""

from __future__ import annotations

import io
import json
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
from openpyxl import load_workbook

from insats.atomic import sha256_bytes, sha256_of
from insats.contract import TABLES, column_name, fold
from insats.data.study import SourceFile
from insats.errors import DataError

CSV_SUFFIXES = (".csv", ".txt")
EXCEL_SUFFIXES = (".xlsx", ".xlsm")
OLD_EXCEL_SUFFIXES = (".xls",)
PARQUET_SUFFIXES = (".parquet", ".pq")
META_FILE = "studie.json"


@dataclass
class RawTable:
    """One table as read: raw values, folded headers, and where it came from."""

    table: str
    frame: pd.DataFrame
    """Raw values; columns are folded headers; the index is the spreadsheet row number."""
    source: SourceFile
    headers: dict[str, str] = field(default_factory=dict)
    """Folded header -> header as written in the file."""
    duplicate_headers: list[str] = field(default_factory=list)
    """Headers as written that folded to a column already read (the first one is kept)."""

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
    """(file as displayed, Swedish message) for files that could not be read or clash."""
    files: list[str] = field(default_factory=list)
    """Display names of every file read (for the report's summary)."""


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


def _finish(table: str, data: dict[str, list] | pd.DataFrame, raw_names: list, index, source: SourceFile) -> RawTable:
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
def _decode_head(data: bytes) -> tuple[str, int]:
    """Encoding of CSV bytes and the length of a BOM to skip."""
    if data.startswith(b"\xef\xbb\xbf"):
        return "utf-8", 3
    try:
        data.decode("utf-8")
        return "utf-8", 0
    except UnicodeDecodeError:
        return "cp1252", 0


def _sniff_separator(header: str) -> str:
    counts = {sep: header.count(sep) for sep in (";", ",", "\t")}
    best = max(counts, key=lambda s: counts[s])
    return best if counts[best] else ","


def read_csv(path: Path, table: str, sha: str | None = None) -> RawTable:
    """A CSV/TXT file as text (missing or blank cells as NA)."""
    data = path.read_bytes()
    sha = sha or sha256_bytes(data)
    encoding, skip = _decode_head(data)
    body = data[skip:]
    first_line = body.split(b"\n", 1)[0].decode(encoding, errors="replace").rstrip("\r")
    sep = _sniff_separator(first_line)
    source = SourceFile(table, path, "csv", sha)
    if not body.strip():
        return RawTable(table, pd.DataFrame(index=pd.RangeIndex(2, 2)), source)
    blank_lines = b"\n\n" in body or b"\n\r\n" in body
    if not blank_lines:
        try:
            arrow = pacsv.read_csv(
                pa.BufferReader(body),
                read_options=pacsv.ReadOptions(encoding=encoding, autogenerate_column_names=True, skip_rows=1),
                parse_options=pacsv.ParseOptions(delimiter=sep),
                convert_options=pacsv.ConvertOptions(
                    column_types={f"f{i}": pa.string() for i in range(first_line.count(sep) + 1)},
                    strings_can_be_null=True,
                    null_values=[""],
                ),
            )
        except pa.ArrowInvalid:
            arrow = None
        if arrow is not None:
            header = next(
                iter(pd.read_csv(io.StringIO(first_line), sep=sep, header=None, dtype=str).itertuples(index=False))
            )
            frame = arrow.to_pandas()
            if len(header) == frame.shape[1]:
                frame.index = pd.RangeIndex(2, 2 + len(frame))
                filled = frame.notna().any(axis=1)
                if not filled.all():  # rows of separators only (";;;"), as Excel writes them
                    frame = frame[filled]
                return _finish(table, frame, list(header), frame.index, source)
    # The careful path: blank lines keep their row numbers; ragged rows are read as well as can be.
    frame = pd.read_csv(
        io.BytesIO(body),
        sep=sep,
        dtype=str,
        encoding=encoding,
        header=None,
        keep_default_na=False,
        na_values=[""],
        skip_blank_lines=False,
        engine="python",
    )
    header = [None if pd.isna(v) else v for v in frame.iloc[0].tolist()] if len(frame) else []
    frame = frame.iloc[1:]
    index = pd.Index(np.arange(2, 2 + len(frame)))
    frame.index = index
    frame = frame[frame.notna().any(axis=1)]
    return _finish(table, frame, header, frame.index, source)


# --------------------------------------------------------------------------- Excel
def _sheet_rows(ws) -> tuple[list, list[list], list[int]]:
    """Header, data rows and their row numbers of an openpyxl worksheet (empty rows dropped)."""
    header: list | None = None
    rows: list[list] = []
    numbers: list[int] = []
    for number, row in enumerate(ws.iter_rows(values_only=True), start=1):
        values = [v.strip() if isinstance(v, str) else v for v in row]
        values = [None if v == "" else v for v in values]
        if all(v is None for v in values):
            continue
        if header is None:
            header = values
            continue
        rows.append(values)
        numbers.append(number)
    header = header or []
    while header and header[-1] is None:
        header.pop()
    return header, rows, numbers


def _excel_table(table: str, ws, source: SourceFile) -> RawTable:
    header, rows, numbers = _sheet_rows(ws)
    width = len(header)
    columns = [[(r[i] if i < len(r) else None) for r in rows] for i in range(width)]
    return _finish(table, columns, header, pd.Index(numbers, dtype="int64"), source)


def _open_workbook(path: Path):

    return load_workbook(path, read_only=True, data_only=True)


def read_excel(path: Path, table: str, sha: str | None = None, sheet: str | None = None) -> RawTable:
    """An XLSX sheet (the named one, else the one named like the table, else the first)."""
    sha = sha or sha256_of(path)
    wb = _open_workbook(path)
    try:
        names = {fold(n): n for n in wb.sheetnames}
        name = sheet or names.get(table) or wb.sheetnames[0]
        multi = len(wb.sheetnames) > 1
        source = SourceFile(table, path, "xlsx", sha, name if multi or sheet else None)
        return _excel_table(table, wb[name], source)
    finally:
        wb.close()


def read_old_excel(path: Path, table: str, sha: str | None = None) -> RawTable:
    """An old binary ``.xls`` file (needs the optional ``xlrd`` package)."""
    sha = sha or sha256_of(path)
    frame = pd.read_excel(path, header=None, dtype=object)  # raises ImportError without xlrd
    frame = frame.astype(object).where(frame.notna(), None)
    header = frame.iloc[0].tolist() if len(frame) else []
    body = frame.iloc[1:]
    body.index = pd.Index(np.arange(2, 2 + len(body)))
    body = body[body.notna().any(axis=1)]
    return _finish(table, body, header, body.index, SourceFile(table, path, "xls", sha))


# --------------------------------------------------------------------------- Parquet
def read_parquet(path: Path, table: str, sha: str | None = None) -> RawTable:
    """A Parquet file, typed as stored. Rows are numbered as in a spreadsheet (first record = 2)."""
    sha = sha or sha256_of(path)
    arrow = pq.read_table(path)
    # dates as datetime64, not Python date objects: typing and the personnummer scan stay vectorised
    frame = arrow.to_pandas(date_as_object=False)
    source = SourceFile(table, path, "parquet", sha)
    return _finish(table, frame, list(arrow.column_names), pd.RangeIndex(2, 2 + len(frame)), source)


def read_file(path: Path, table: str) -> RawTable:
    """Read one file as the given contract table, by its suffix."""
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
        scan.failures.append(
            (raw.source.display, f"tabellen {name} finns redan i {first}; en tabell får bara finnas i en fil.")
        )
        return
    scan.tables[name] = raw


def _scan_workbook(scan: FolderScan, path: Path) -> None:
    sha = sha256_of(path)
    wb = _open_workbook(path)
    try:
        found = False
        for sheet in wb.sheetnames:
            table = fold(sheet)
            if table in TABLES:
                _add(scan, _excel_table(table, wb[sheet], SourceFile(table, path, "xlsx", sha, sheet)))
                found = True
            else:
                scan.ignored.append(f"{path.name}, blad {sheet}")
        if found:
            scan.files.append(path.name)
        else:
            scan.ignored[-len(wb.sheetnames) :] = [path.name]
    finally:
        wb.close()


def scan_folder(path: Path | str) -> FolderScan:
    """Find and read every contract table in a study folder (or one workbook file)."""
    path = Path(path)
    scan = FolderScan(path)
    if path.is_file():
        files = [path]
    elif path.is_dir():
        files = sorted(p for p in path.iterdir() if p.is_file() and not p.name.startswith((".", "~$")))
    else:
        return scan
    for file in files:
        suffix = file.suffix.lower()
        if file.name.lower() == META_FILE:
            try:
                scan.meta = json.loads(file.read_text(encoding="utf-8-sig"))
            except (ValueError, UnicodeDecodeError) as exc:
                scan.failures.append((file.name, f"filen kunde inte läsas som JSON ({exc})."))
            continue
        if suffix not in _READABLE:
            scan.ignored.append(file.name)
            continue
        table = fold(file.stem)
        try:
            if table in TABLES:
                _add(scan, read_file(file, table))
                scan.files.append(file.name)
            elif suffix in EXCEL_SUFFIXES:
                _scan_workbook(scan, file)
            else:
                scan.ignored.append(file.name)
        except ImportError:
            scan.failures.append(
                (file.name, "gamla Excel-formatet .xls kan inte läsas här; spara filen som .xlsx eller CSV.")
            )
        except Exception as exc:  # noqa: BLE001 — any unreadable file becomes a message, not a crash
            scan.failures.append((file.name, f"filen kunde inte läsas ({type(exc).__name__}: {exc})."))
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
    text = str(value).strip()
    return text or None
