"""Validation against the data contract: the rules within a table and between tables, and
``check_study``, which reads, types (``insats.data.parse``) and checks a study folder in one pass.

Every problem names the file, the spreadsheet row (header = row 1), the column, the value as the
user wrote it and what was expected, in Swedish. All problems are collected; nothing stops at
the first. A value that looks like a personnummer is reported by place only, never repeated.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd

from insats.contract import (
    CENTRAL,
    KIND_EXPECTED,
    TABLE_ORDER,
    TABLES,
    column_label,
)
from insats.data.files import RawTable, scan_folder, to_display_text
from insats.data.parse import coerce_column, is_in, type_message
from insats.data.personnummer import has_personnummer, series_has_personnummer
from insats.data.problems import FEL, STORE_LIMIT, VARNING, Problem, ValidationReport
from insats.data.study import Study

AGE_RANGE = (16, 100)
NONNEGATIVE = {
    "insatser": ("platser", "kostnad_per_plats_manad"),
    "deltaganden": ("planerade_timmar", "narvarotimmar"),
    "omraden": ("folkmangd", "folkmangd_18_64"),
}
END_AFTER_START = {
    "deltaganden": ("start_datum", "slut_datum"),
    "insatser": ("giltig_fran", "giltig_till"),
    "bedomningar": ("ansokan_datum", "bedomning_datum"),
}
CENTRAL_ALLOWED = {("insatser", "omrade_kod"), ("medel", "omrade_kod")}
PNR_MESSAGE = (
    "värdet ser ut som ett personnummer eller samordningsnummer (numret visas inte här); "
    "förväntade inga personnummer i data — ersätt dem med pseudonymiserade id:n (insats pseudonymise)."
)


# --------------------------------------------------------------------------- one table
def _cell(raw: RawTable, row: int, column: str) -> str | None:
    return to_display_text(raw.frame.at[row, column]) if column in raw.frame else None


def check_table(raw: RawTable, report: ValidationReport) -> pd.DataFrame:
    """Type a raw table (all contract columns, contract order) and report its own problems."""
    spec = TABLES[raw.table]
    file = raw.source.display
    frame = raw.frame
    rows = frame.index.to_numpy()
    # Privacy first: headers and every raw value of every column, id and free text included.
    for _folded, written in raw.headers.items():
        if has_personnummer(written):
            report.add(Problem(FEL, file, 1, None, None, "en kolumnrubrik " + PNR_MESSAGE, "personnummer"))
    for name in frame.columns:
        hits = series_has_personnummer(frame[name])
        if hits.any():
            hit_rows = rows[hits.to_numpy()]
            report.add_rows(FEL, file, "personnummer", name, hit_rows, lambda r: (None, PNR_MESSAGE))
    for written in raw.duplicate_headers:
        report.add(
            Problem(
                FEL,
                file,
                1,
                None,
                written,
                f'kolumnen "{written}" finns två gånger; förväntade varje kolumn en gång (den första används).',
                "dubblett_kolumn",
            )
        )
    found = ", ".join(raw.headers.values()) or "inga"
    for name in spec.required:
        if name not in frame.columns:
            report.add(
                Problem(
                    FEL,
                    file,
                    None,
                    name,
                    None,
                    f"den obligatoriska kolumnen {name} "
                    f"({column_label(spec.name, name)}) saknas; kolumner i filen: {found}.",
                    "kolumn_saknas",
                )
            )
    extra = [raw.headers.get(c, c) for c in frame.columns if c not in spec]
    if extra:
        report.info.append(f"{file}: okända kolumner hoppas över: {', '.join(extra)}.")

    out = {}
    for col in spec.columns:
        if col.name not in frame.columns:
            out[col.name] = (
                pd.Series(pd.array([None] * len(frame), dtype=col.dtype))
                if len(frame)
                else pd.Series([], dtype=col.dtype)
            )
            continue
        typed = coerce_column(frame[col.name], col)
        out[col.name] = typed.values
        bad = np.flatnonzero(typed.bad)
        if len(bad):
            rule = "okand_kod" if col.kind in ("code", "codes") else "fel_typ"
            lookup = dict(zip(rows[bad[:STORE_LIMIT]], bad[:STORE_LIMIT]))

            def one(r, col=col, typed=typed, lookup=lookup):
                value = _cell(raw, r, col.name)
                return value, type_message(col, value, typed.why.get(int(lookup[r])))

            report.add_rows(FEL, file, rule, col.name, rows[bad], one)
        if col.required:
            empty = np.flatnonzero(typed.missing)
            if len(empty):
                msg = f"värdet saknas; kolumnen är obligatorisk och förväntade {KIND_EXPECTED[col.kind]}."

                def missing(_row: int, m: str = msg) -> tuple[str | None, str]:
                    return None, m

                report.add_rows(FEL, file, "saknas", col.name, rows[empty], missing)
    typed_frame = pd.DataFrame(out)
    _check_rows(spec.name, raw, typed_frame, report)
    return typed_frame


def _fmt(value) -> str:
    if isinstance(value, pd.Timestamp):
        return value.strftime("%Y-%m-%d")
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _emit_mask(report, severity, raw: RawTable, rule, column, mask: np.ndarray, message: Callable[[int, str], str]):
    """Problems for the rows where ``mask`` holds; ``message(position, value)``."""
    pos = np.flatnonzero(mask)
    if not len(pos):
        return
    rows = raw.frame.index.to_numpy()
    lookup = dict(zip(rows[pos[:STORE_LIMIT]], pos[:STORE_LIMIT]))

    def one(r):
        value = _cell(raw, r, column)
        return value, message(int(lookup[r]), value)

    report.add_rows(severity, raw.source.display, rule, column, rows[pos], one)


def _check_rows(table: str, raw: RawTable, df: pd.DataFrame, report: ValidationReport) -> None:
    """Rules within one table: duplicate keys, end before start, negative numbers, hours."""
    spec = TABLES[table]
    rows = raw.frame.index.to_numpy()
    key = [k for k in spec.key if k in raw.frame.columns]
    if key and len(key) == len(spec.key) and len(df):
        complete = df[key].notna().all(axis=1)
        dup = df.duplicated(key, keep="first").to_numpy() & complete.to_numpy()
        if dup.any():
            both = (df.duplicated(key, keep=False) & complete).to_numpy()
            sub = df.loc[both, key].assign(_pos=np.flatnonzero(both))
            first = sub.groupby(key, observed=True, dropna=True)["_pos"].transform("min")
            first_of = dict(zip(sub["_pos"], first))
            names = ", ".join(key)

            def msg(pos, value):
                shown = ", ".join(_fmt(df.at[pos, k]) for k in key)
                return (
                    f'värdet "{shown}" förekommer redan på rad {int(rows[first_of[pos]])}; '
                    f"förväntade en unik nyckel ({names})."
                )

            _emit_mask(report, FEL, raw, "dubblett", key[0] if len(key) == 1 else names, dup, msg)
    if table in END_AFTER_START:
        start, end = END_AFTER_START[table]
        if start in raw.frame.columns and end in raw.frame.columns:
            mask = (df[end] < df[start]).fillna(False).to_numpy(dtype=bool)
            lab = column_label(table, start).lower()
            _emit_mask(
                report,
                FEL,
                raw,
                "fore_start",
                end,
                mask,
                lambda pos, v: (
                    f'värdet "{v}" är före {start} ({_fmt(df.at[pos, start])}); '
                    f"förväntade ett datum på eller efter {lab}."
                ),
            )
    for name in NONNEGATIVE.get(table, ()):
        if name in raw.frame.columns:
            mask = (df[name] < 0).fillna(False).to_numpy(dtype=bool)
            _emit_mask(
                report,
                FEL,
                raw,
                "negativ",
                name,
                mask,
                lambda pos, v: f'värdet "{v}" är negativt; förväntade 0 eller mer.',
            )
    if table == "deltaganden" and {"narvarotimmar", "planerade_timmar"} <= set(raw.frame.columns):
        over = (df["narvarotimmar"] > df["planerade_timmar"]) & (df["planerade_timmar"] >= 0)
        mask = over.fillna(False).to_numpy(dtype=bool)
        _emit_mask(
            report,
            VARNING,
            raw,
            "over_planerat",
            "narvarotimmar",
            mask,
            lambda pos, v: (
                f'värdet "{v}" är större än planerade_timmar '
                f"({_fmt(df.at[pos, 'planerade_timmar'])}); förväntade högst de planerade timmarna."
            ),
        )


# --------------------------------------------------------------------------- between tables
def check_relations(typed: dict[str, pd.DataFrame], raws: dict[str, RawTable], report: ValidationReport) -> None:
    """Rules across tables: references to persons, interventions and areas; plausible ages."""
    for name, df in typed.items():
        raw = raws[name]
        for column, ref_table, ref_column in TABLES[name].references:
            if column not in raw.frame.columns:
                continue
            if ref_table not in typed or ref_column not in raws[ref_table].frame.columns:
                report.info.append(
                    f"{raw.source.display}: {column} kunde inte kontrolleras mot {ref_table}, som saknas."
                )
                continue
            known = pd.Index(typed[ref_table][ref_column].dropna().unique())
            allowed = known.append(pd.Index([CENTRAL])) if (name, column) in CENTRAL_ALLOWED else known
            values = df[column]
            mask = values.notna().to_numpy(dtype=bool) & ~is_in(values, allowed)
            also = f" (eller {CENTRAL})" if (name, column) in CENTRAL_ALLOWED else ""

            def unknown(_pos: int, v: str, rt: str = ref_table, rc: str = ref_column, a: str = also) -> str:
                return f'värdet "{v}" finns inte i {rt}.{rc}; förväntade ett {rc} som finns i {rt}{a}.'

            _emit_mask(report, FEL, raw, "referens", column, mask, unknown)
    _check_ages(typed, raws, report)


def _check_ages(typed: dict[str, pd.DataFrame], raws: dict[str, RawTable], report: ValidationReport) -> None:
    if "personer" not in typed or "fodelsear" not in raws["personer"].frame.columns:
        return
    persons = typed["personer"]
    year = pd.Series(np.nan, index=persons.index)
    if "bistand" in typed and len(typed["bistand"]):
        first = (
            typed["bistand"].dropna(subset=["person_id", "manad"]).groupby("person_id", observed=True)["manad"].min()
        )
        year = persons["person_id"].map(first.dt.year).astype("float64")
    if "omraden" in typed and typed["omraden"]["ar"].notna().any():
        year = year.fillna(float(typed["omraden"]["ar"].max()))
    if year.isna().all():
        return
    age = year - persons["fodelsear"].astype("float64")
    lo, hi = AGE_RANGE
    mask = (age.notna() & ((age < lo) | (age > hi))).to_numpy(dtype=bool)
    _emit_mask(
        report,
        VARNING,
        raws["personer"],
        "alder",
        "fodelsear",
        mask,
        lambda pos, v: (
            f'värdet "{v}" ger åldern {int(age.iat[pos])} år ({int(year.iat[pos])}); '
            f"förväntade en ålder mellan {lo} och {hi} år."
        ),
    )


def check_study(path: Path | str) -> tuple[Study, ValidationReport]:
    """Read, type and check a study folder (or one workbook): the study and the report."""
    path = Path(path)
    report = ValidationReport(path=path)
    study = Study(tables={}, path=path)
    if not path.exists():
        report.add(
            Problem(
                FEL,
                str(path),
                None,
                None,
                None,
                f"mappen {path} finns inte; förväntade en mapp med studiens tabeller.",
                "mapp",
            )
        )
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
            report.add(
                Problem(
                    FEL,
                    str(path),
                    None,
                    None,
                    None,
                    "inga tabeller hittades; förväntade filer som omraden.csv, insatser.csv, personer.csv "
                    "(eller .xlsx, .parquet) eller en arbetsbok med ett blad per tabell: "
                    + ", ".join(TABLE_ORDER)
                    + ".",
                    "mapp",
                )
            )
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


def validate_study(path: Path | str) -> ValidationReport:
    """Check a study folder against the data contract; never raises for bad data."""
    return check_study(path)[1]


__all__ = [
    "FEL",
    "VARNING",
    "Problem",
    "ValidationReport",
    "check_relations",
    "check_study",
    "check_table",
    "coerce_column",
    "validate_study",
]
