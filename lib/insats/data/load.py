"""Loading a study folder: read (``iorw``), type and check (``validate``) in one pass.

``load_study`` gives a typed ``Study`` and raises ``StudyError`` (with the whole report) when the
data has errors; ``validate_study`` runs the same pass and only returns the report.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from insats.contract import TABLE_ORDER, TABLES, fold
from insats.data.files import scan_folder, read_file
from insats.data.study import Study
from insats.data.validate import FEL, Problem, ValidationReport, check_relations, check_table


class StudyError(ValueError):
    """The study has errors; ``str`` is the formatted report, ``.report`` the report itself."""

    def __init__(self, report: ValidationReport):
        self.report = report
        super().__init__(report.format())


def check_study(path: Path | str) -> tuple[Study, ValidationReport]:
    """Read, type and check a study folder (or one workbook): the study and the report."""
    path = Path(path)
    report = ValidationReport(path=path)
    study = Study(tables={}, path=path)
    if not path.exists():
        report.add(Problem(FEL, str(path), None, None, None,
                           f"mappen {path} finns inte; förväntade en mapp med studiens tabeller.", "mapp"))
        return study, report
    scan = scan_folder(path)
    report.files = list(scan.files)
    study.meta = scan.meta
    for file, message in scan.failures:
        report.add(Problem(FEL, file, None, None, None, message, "fil"))
    for name in scan.ignored:
        report.info.append(f"{name} hör inte till datakontraktet och hoppas över.")
    if not scan.tables:
        if not scan.failures:
            report.add(Problem(
                FEL, str(path), None, None, None,
                "inga tabeller hittades; förväntade filer som omraden.csv, insatser.csv, personer.csv "
                "(eller .xlsx, .parquet) eller en arbetsbok med ett blad per tabell: "
                + ", ".join(TABLE_ORDER) + ".", "mapp"))
        return study, report
    typed: dict[str, pd.DataFrame] = {}
    raws = {name: scan.tables[name] for name in TABLE_ORDER if name in scan.tables}
    for name, raw in raws.items():
        typed[name] = check_table(raw, report)
    check_relations(typed, raws, report)
    missing = [name for name in TABLE_ORDER if name not in typed]
    if missing:
        report.info.insert(0, f"tabeller som saknas i studien: {', '.join(missing)}.")
    study.tables = typed
    study.sources = {name: raw.source for name, raw in raws.items()}
    study.warnings = report.warnings
    return study, report


def load_study(path: Path | str, *, strict: bool = True) -> Study:
    """A typed study. ``strict``: raise ``StudyError`` when there are errors; else keep going.

    ``Study.warnings`` holds the warnings (without ``strict``: every problem, errors included).
    """
    study, report = check_study(path)
    if report.errors:
        if strict:
            raise StudyError(report)
        study.warnings = list(report.problems)
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
    return df
