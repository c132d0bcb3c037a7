"""Loading a study folder: read (``files``), type and check (``validate``) in one pass.

``load_study`` gives a typed ``Study`` and raises ``StudyError`` (with the whole report) when the
data has errors; ``validate_study`` runs the same pass and only returns the report. A study that
passed validation is read from its validated copy until a source file changes
(``insats.data.validated``): the same tables, warnings and provenance, without parsing and checking
everything again. ``load_cached`` also keeps the study in memory for the next caller in the process.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from insats.contract import TABLE_ORDER, TABLES, fold
from insats.data.cache import load_cached
from insats.data.files import read_file, scan_folder
from insats.data.problems import FEL, Problem, ValidationReport
from insats.data.study import READS, Study
from insats.data.validate import check_study, check_table
from insats.data.validated import load_validated
from insats.errors import StudyError

__all__ = ["load_cached", "load_study", "read_table"]


def load_study(path: Path | str, *, strict: bool = True, cache: bool = True) -> Study:
    """A typed study. ``strict``: raise ``StudyError`` when there are errors; else keep going.

    ``Study.warnings`` holds the warnings (without ``strict``: every problem, errors included).
    ``cache``: read the validated copy when the sources are unchanged, and write one after a
    successful validation (``insats.data.validated``); ``False`` reads and checks the sources.
    """
    if cache:
        return load_validated(path, strict=strict)
    study, report = check_study(path)
    if report.errors:
        if strict:
            raise StudyError(report)
        study.warnings = list(report.problems)
    study.record_loaded()
    return study


def read_table(path_or_file: Path | str, table: str, *, strict: bool = True) -> pd.DataFrame:
    """One table, typed: from a file read as ``table``, or found in a study folder/workbook.

    Relations to other tables are not checked. ``strict``: raise ``StudyError`` on errors.
    """
    table = fold(table)
    if table not in TABLES:
        raise KeyError(f"okänd tabell {table!r}; tabellerna är {', '.join(TABLE_ORDER)}")
    path = Path(path_or_file)
    report = ValidationReport(path=path)
    if path.is_dir() or (path.is_file() and fold(path.stem) not in TABLES and path.suffix.lower() == ".xlsx"):
        scan = scan_folder(path)
        raw = scan.tables.get(table)
        if raw is None:
            report.add(Problem(FEL, str(path), None, None, None, f"tabellen {table} finns inte här.", "mapp"))
            raise StudyError(report)
    elif path.is_file():
        raw = read_file(path, table)
    else:
        report.add(Problem(FEL, str(path), None, None, None, f"filen {path} finns inte.", "mapp"))
        raise StudyError(report)
    report.files = [raw.source.display]
    df = check_table(raw, report)
    if strict and report.errors:
        raise StudyError(report)
    folder = path if path.is_dir() else path.parent if fold(path.stem) in TABLES else path
    READS.record(str(folder.resolve()), table, raw.source.path.name, raw.source.sha256)
    return df
