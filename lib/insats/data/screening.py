"""Screening a study for personnummer: every cell, header and name, and every file of the folder.

``insats validate`` reports what ``check_personnummer`` and ``check_folder_personnummer`` find, as
problems that say where and never what; ``insats pseudonymise`` uses ``personnummer_places`` on
its finished copy and refuses to put it in place when anything is found. One detector
(``insats.data.personnummer``) and one rule for numbers (``lost_zero_applies``) serve both.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np

from insats.contract import TABLES, fold
from insats.data.files import META_FILE, FolderScan, RawTable, scan_folder
from insats.data.personnummer import has_personnummer, redact, series_has_personnummer
from insats.data.problems import FEL, Problem, ValidationReport

__all__ = [
    "NUMBER_COLUMNS",
    "PNR_MESSAGE",
    "check_folder_personnummer",
    "check_personnummer",
    "lost_zero_applies",
    "personnummer_places",
]

PNR_MESSAGE = (
    "värdet ser ut som ett personnummer eller samordningsnummer (numret visas inte här); "
    "förväntade inga personnummer i data — ersätt dem med pseudonymiserade id:n (insats pseudonymise)."
)
PNR_PLACE_MESSAGE = (
    "{what} ser ut att innehålla ett personnummer eller samordningsnummer (numret visas inte här); "
    "förväntade inga personnummer någonstans i studiemappen — byt namn, ta bort eller pseudonymisera "
    "(insats pseudonymise)."
)


NUMBER_COLUMNS = frozenset(
    name for t in TABLES.values() for c in t.columns if c.kind in ("int", "float") for name in (c.name, fold(c.label))
)
"""Names (and folded labels) of the contract's number columns."""


def _same(message: str) -> Callable[[int], tuple[str | None, str]]:
    def one(_row: int) -> tuple[str | None, str]:
        return None, message

    return one


def lost_zero_applies(table: str | None, column: str) -> bool:
    """Whether a whole 9-digit value in this column is checked as a personnummer that lost its
    leading zero: everywhere except in the contract's number columns (by name or label, in any
    table), where it is a plausible amount. ``insats pseudonymise`` follows the same rule."""
    if table is not None and column in TABLES[table]:
        return TABLES[table][column].kind not in ("int", "float")
    return fold(str(column)) not in NUMBER_COLUMNS


def check_personnummer(raw: RawTable, report: ValidationReport) -> None:
    """Privacy first: every header and every raw value of every column, id and free text included."""
    file = raw.source.display
    rows = raw.frame.index.to_numpy()
    for written in [*raw.headers.values(), *raw.duplicate_headers]:
        if has_personnummer(written):
            report.add(Problem(FEL, file, 1, None, None, "en kolumnrubrik " + PNR_MESSAGE, "personnummer"))
    for name in raw.frame.columns:
        hits = series_has_personnummer(raw.frame[name], lost_zero=lost_zero_applies(raw.table, name))
        if hits.any():
            hit_rows = rows[hits.to_numpy()]
            report.add_rows(FEL, file, "personnummer", name, hit_rows, _same(PNR_MESSAGE))


def _json_scalars(doc) -> list[tuple[str, object]]:
    """(path, value) of every key and scalar of a JSON document, without recursion."""
    out, stack = [], [("", doc)]
    while stack:
        where, node = stack.pop()
        if isinstance(node, dict):
            for k, v in node.items():
                out.append((where, k))
                stack.append((f"{where}.{k}" if where else str(k), v))
        elif isinstance(node, list):
            stack.extend((f"{where}[{i}]", v) for i, v in enumerate(node))
        else:
            out.append((where, node))
    return out


def check_folder_personnummer(folder: FolderScan, report: ValidationReport) -> None:
    """Personnummer outside the contract tables: names of files, folders and sheets, the other
    tables and text files of the folder, ``studie.json``, the key-value metadata of Parquet files
    (each place said, never the number)."""
    for noun, workbook, name in folder.names:
        if has_personnummer(name):
            shown = redact(f"{workbook}, blad {name}" if workbook else name)
            report.add(Problem(FEL, shown, None, None, None, PNR_PLACE_MESSAGE.format(what=noun), "personnummer"))
    for raw in folder.others:
        check_personnummer(raw, report)
    for file, text in folder.texts:
        lines = [i for i, line in enumerate(text.splitlines(), start=1) if has_personnummer(line)]
        message = PNR_PLACE_MESSAGE.format(what="raden")
        report.add_rows(FEL, file, "personnummer", None, np.asarray(lines, dtype=int), _same(message))
        if not lines and file.lower() == META_FILE and folder.meta:
            for where, value in _json_scalars(folder.meta):
                if has_personnummer(value):
                    what = f"värdet under {redact(where)}" if where else "ett värde"
                    report.add(
                        Problem(FEL, file, None, None, None, PNR_PLACE_MESSAGE.format(what=what), "personnummer")
                    )
    for file, where, text in folder.metadata:  # Parquet key-value metadata: not data, still searched
        if has_personnummer(where) or has_personnummer(text):
            what = f"metadata i filen ({redact(where)})"
            report.add(Problem(FEL, file, None, None, None, PNR_PLACE_MESSAGE.format(what=what), "personnummer"))
    for file in folder.unchecked:
        report.info.append(
            f"{file} kunde inte kontrolleras för personnummer (ingen tabell eller text); kontrollera den själv "
            "eller ta bort den ur studiemappen."
        )


def personnummer_places(path: Path | str) -> list[str]:
    """Every place in a study folder where something looks like a personnummer, as printable
    Swedish lines that say where and never what: file, folder and sheet names, headers and cells
    of every table (contract or not), every text file. Files that cannot be read are listed too:
    they cannot be shown to be free of personnummer. Used by ``insats pseudonymise`` to refuse an
    output that still holds one."""
    report = ValidationReport(path=Path(path))
    scan_ = scan_folder(path)
    check_folder_personnummer(scan_, report)
    for raw in scan_.tables.values():
        check_personnummer(raw, report)
    places = [str(p) for p in report.problems]
    places += [
        f"{n} rader till i {f}{f', kolumn {c}' if c else ''}" for (f, _rule, c, _sev), n in report.more.items() if n
    ]
    places += [f"{file}: filen kunde inte läsas och därför inte kontrolleras ({msg})" for file, msg in scan_.failures]
    places += [f"{file}: filen kunde inte kontrolleras (ingen tabell eller text)" for file in scan_.unchecked]
    return [redact(p) for p in places]
