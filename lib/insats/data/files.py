"""Finding and reading the files of a study folder, every value as it was written.

This module reads CSV and Parquet and scans the folder; ``insats.data.workbook`` reads Excel and
``insats.data.raw`` holds the ``RawTable`` they all give and what they share.

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

import csv
import io
import json
import stat
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from insats.atomic import TEMP_PREFIX, sha256_bytes, sha256_of
from insats.contract import TABLES, fold
from insats.data.raw import MAX_COLUMNS, RawTable, check_width, decode_bytes, finish_table, to_display_text
from insats.data.study import SourceFile
from insats.data.workbook import (
    check_workbook,
    count_formulas_without_value,
    excel_table,
    open_workbook,
    read_excel,
    read_old_excel,
)
from insats.errors import DataError

__all__ = [
    "MAX_COLUMNS",
    "META_FILE",
    "CsvFormat",
    "FolderScan",
    "RawTable",
    "check_workbook",
    "count_formulas_without_value",
    "decode_bytes",
    "not_a_regular_file",
    "parquet_metadata",
    "read_csv",
    "read_csv_text",
    "read_excel",
    "read_file",
    "read_parquet",
    "scan_folder",
    "to_display_text",
    "write_csv_text",
]

CSV_SUFFIXES = (".csv", ".txt")
EXCEL_SUFFIXES = (".xlsx", ".xlsm")
OLD_EXCEL_SUFFIXES = (".xls",)
PARQUET_SUFFIXES = (".parquet", ".pq")
META_FILE = "studie.json"

MAX_TEXT_BYTES = 100 * 1024 * 1024
"""Files that are not tables are checked for personnummer as text up to this size."""

_CSV_FIELD_LIMIT = csv.field_size_limit()


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
    metadata: list[tuple[str, str, str]] = field(default_factory=list)
    """(file, where, text) of the key-value metadata stored in Parquet files (the schema's and each
    column's): not data, but a personnummer can hide there (``where``: ``nyckeln X`` or
    ``kolumnen Y, nyckeln X``)."""


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
    check_width(width)
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
    raw = finish_table(table, columns, header, pd.Index(numbers, dtype="int64"), source)
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
    check_width(_header_width(first_line, sep))
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
            return finish_table(table, frame, [h.strip() for h in header], frame.index, source)
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


# --------------------------------------------------------------------------- CSV as text
@dataclass(frozen=True)
class CsvFormat:
    """How a CSV file was written, so that it can be written back the same way."""

    encoding: str  # a codec of insats.data.files.decode_bytes: utf-8, utf-8-sig, utf-16, cp1252 ...
    sep: str
    lineterminator: str
    quote_all: bool
    final_newline: bool


def read_csv_text(path: str | Path):
    """A CSV file as a list of rows of text (header first) and its :class:`CsvFormat`, for tools that
    rewrite a file and must keep everything else as it was (pseudonymise, import).

    Raises ``DataError`` (Swedish) for a file that is not text."""
    text, encoding = decode_bytes(Path(path).read_bytes())
    first = text.split("\n", 1)[0]
    counts = {s: first.count(s) for s in (";", ",", "\t")}
    sep = max(counts, key=lambda s: counts[s]) if any(counts.values()) else ","
    term = "\r\n" if first.endswith("\r") else "\n"
    rows = list(csv.reader(io.StringIO(text, newline=""), delimiter=sep))
    header_fields = first.rstrip("\r").split(sep)
    quote_all = bool(header_fields) and all(len(f) >= 2 and f[0] == f[-1] == '"' for f in header_fields)
    final_newline = text.endswith("\n") or text == ""
    return rows, CsvFormat(encoding, sep, term, quote_all, final_newline)


def write_csv_text(rows: list[list[str]], path: str | Path, fmt: CsvFormat) -> None:
    buf = io.StringIO(newline="")
    w = csv.writer(
        buf,
        delimiter=fmt.sep,
        lineterminator=fmt.lineterminator,
        quoting=csv.QUOTE_ALL if fmt.quote_all else csv.QUOTE_MINIMAL,
    )
    w.writerows(rows)
    text = buf.getvalue()
    if not fmt.final_newline and text.endswith(fmt.lineterminator):
        text = text[: -len(fmt.lineterminator)]
    with open(path, "w", encoding=fmt.encoding, newline="") as fh:
        fh.write(text)


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
        check_width(len(schema.names))
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
    return finish_table(table, frame, list(arrow.column_names), pd.RangeIndex(2, 2 + len(frame)), source)


def _pandas_metadata_text(value: bytes, columns: list[str]) -> str:
    """The ``pandas`` metadata entry as text, one value a line, without the column names (headers
    are checked as headers: a personnummer there is reported once)."""
    try:
        doc = json.loads(value.decode("utf-8"))
    except (ValueError, RecursionError):
        return value.decode("utf-8", errors="replace")
    names = set(columns)
    lines: list[str] = []
    stack = [doc]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            lines += [str(k) for k in node if str(k) not in names]
            stack += list(node.values())
        elif isinstance(node, list):
            stack += node
        elif node is not None and str(node) not in names:
            lines.append(str(node))
    return "\n".join(lines)


def parquet_metadata(path: Path) -> list[tuple[str, str]]:
    """(where, text) of every key-value metadata entry of a Parquet file: the schema's (``pandas``
    included) and each column's. Empty when the file has none or cannot be read (reading it says why)."""
    try:
        schema = pq.read_schema(path)
    except Exception:  # noqa: BLE001 - a broken file is reported when it is read
        return []

    def text(b: bytes) -> str:
        return b.decode("utf-8", errors="replace")

    out = [
        (f"nyckeln {text(k)}", _pandas_metadata_text(v, schema.names) if k == b"pandas" else text(v))
        for k, v in (schema.metadata or {}).items()
    ]
    for f in schema:
        out += [(f"kolumnen {f.name}, nyckeln {text(k)}", text(v)) for k, v in (f.metadata or {}).items()]
    return out


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
def not_a_regular_file(path: Path) -> str | None:
    """Why ``path`` (an entry of a study folder) is not read, or None for a regular file. Looked at
    with ``lstat``, never following a link: a symbolic link could bring in any file of the computer
    (a secret key, ``/etc/passwd``) and a named pipe or device would make reading hang. A Swedish
    message that says what to do (used by ``scan_folder`` and ``insats pseudonymise``)."""
    try:
        mode = path.lstat().st_mode
    except OSError:
        return "filen kunde inte undersökas (den kan ha tagits bort medan mappen lästes); kör igen."
    if stat.S_ISLNK(mode) and path.is_dir():  # a linked folder is skipped like any folder, never read
        return None
    if stat.S_ISLNK(mode):
        return (
            "filen är en symbolisk länk, och insats följer inte länkar i en studiemapp (en länk kan peka på vilken "
            "fil som helst på datorn); kopiera in själva filen i stället för länken, eller ta bort länken."
        )
    if not stat.S_ISREG(mode) and not stat.S_ISDIR(mode):
        return (
            "filen är inte en vanlig fil (utan t.ex. en namngiven pipe eller en enhet) och kan inte läsas; "
            "ta bort den ur studiemappen."
        )
    return None


_READABLE = CSV_SUFFIXES + EXCEL_SUFFIXES + OLD_EXCEL_SUFFIXES + PARQUET_SUFFIXES


def _add(scan: FolderScan, raw: RawTable) -> None:
    name = raw.table or ""
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
    wb = open_workbook(path)
    try:
        found = False
        ignored = []
        for sheet in wb.sheetnames:
            scan.names.append(("bladnamnet", path.name, sheet))
            table = fold(sheet)
            if table in TABLES:
                _add(scan, excel_table(table, wb, wb[sheet], SourceFile(table, path, "xlsx", sha, sheet)))
                found = True
            else:
                ignored.append(f"{path.name}, blad {sheet}")
                scan.others.append(excel_table(None, wb, wb[sheet], SourceFile("", path, "xlsx", sha, sheet)))
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
            special = not_a_regular_file(p)
            is_dir = special is None and p.is_dir()
            scan.names.append(("mappnamnet" if is_dir else "filnamnet", "", p.name))
            if p.name.startswith((".", "~$")) or is_dir:
                continue
            if special:
                scan.failures.append((p.name, special))
            else:
                files.append(p)
    else:
        return scan
    for file in files:
        suffix = file.suffix.lower()
        if file.name.lower() == META_FILE:
            _read_meta(scan, file)
            continue
        table = fold(file.stem)
        if suffix in PARQUET_SUFFIXES:
            scan.metadata += [(file.name, where, text) for where, text in parquet_metadata(file)]
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
