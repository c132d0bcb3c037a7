"""A table as read from a file, before typing: ``RawTable``, and what every reader shares.

Decoding text (``decode_bytes``), folding headers to column names, the column limit, and showing a
raw value as the user wrote it (``to_display_text``). The readers are ``insats.data.files`` (CSV,
Parquet, the study folder) and ``insats.data.workbook`` (Excel).
"""

from __future__ import annotations

import codecs
from dataclasses import dataclass, field
from datetime import datetime

import numpy as np
import pandas as pd

from insats.contract import column_name, fold
from insats.data.study import SourceFile
from insats.errors import DataError

MAX_COLUMNS = 1000
"""More columns than this in a table's header is refused before any row is read (the contract's
tables have at most 14; an export with a few hundred extra columns is still read)."""


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
def check_width(width: int, what: str = "filen") -> None:
    """Refuse a header wider than ``MAX_COLUMNS`` (``what``: "filen", "bladet X")."""
    if width > MAX_COLUMNS:
        raise DataError(
            f"{what} har {width} kolumner i rubrikraden; en tabell i studien har högst några tiotal "
            f"(gränsen är {MAX_COLUMNS}). Kontrollera att rätt fil eller blad är valt och att rubrikraden "
            "är den första raden."
        )


def fold_headers(raw_names: list, table: str | None = None) -> tuple[list[str], dict[str, str], list[str], list[bool]]:
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


def finish_table(
    table: str | None, data: dict[str, list] | pd.DataFrame, raw_names: list, index, source: SourceFile
) -> RawTable:
    names, written, dups, keep = fold_headers(raw_names, table)
    if isinstance(data, pd.DataFrame):
        frame = data.iloc[:, [i for i, k in enumerate(keep) if k]]
        frame.columns = [n for n, k in zip(names, keep) if k]
        frame.index = index
    else:
        frame = pd.DataFrame(
            {n: pd.Series(col, index=index, dtype=object) for n, col, k in zip(names, data, keep) if k}, index=index
        )
    return RawTable(table, frame, source, written, dups)


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
