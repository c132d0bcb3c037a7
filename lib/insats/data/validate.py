"""Validation against the data contract: the rules within a table and between tables, and
``check_study``, which reads, types (``insats.data.parse``) and checks a study folder in one pass.

Every problem names the file, the spreadsheet row (header = row 1), the column, the value as the
user wrote it and what was expected, in Swedish. All problems are collected; nothing stops at
the first. A value that looks like a personnummer is reported by place only, never repeated.

One module because every rule reads the same raw and typed tables and writes to the same report
through ``_emit_mask`` in one pass over the study; split by rule, each part would import the
others' helpers and the pass would have no one place to read in order.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd

from insats.contract import (
    ALLA,
    CENTRAL,
    KIND_EXPECTED,
    TABLE_ORDER,
    TABLES,
    column_label,
    fold,
)
from insats.data.files import RawTable, scan_folder, to_display_text
from insats.data.parse import coerce_column, is_in, type_message
from insats.data.problems import FEL, STORE_LIMIT, VARNING, Problem, ValidationReport
from insats.data.screening import (
    check_folder_personnummer,
    check_personnummer,
    personnummer_places,
)
from insats.data.study import Study
from insats.text import SLUG_MAX

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
RESERVED_AREA_CODES = {ALLA: "hela studien", CENTRAL: "insatser och medel för hela kommunen"}
MAX_CODE_LENGTH = SLUG_MAX
"""Longest area code (``omraden.omrade_kod``, in characters). The code names each area's report
file (``insats.text.slug``, which keeps at most ``SLUG_MAX`` characters): a longer one is an error,
so a code never has to be cut, and one odd code cannot stop a batch of reports."""
"""Area codes the measures use themselves: no area of ``omraden`` or ``personer`` may have one,
and ``ALLA`` is refused in every ``omrade_kod`` (``CENTRAL`` is allowed in insatser and medel)."""
PLAUSIBLE: dict[tuple[str, str], tuple[float | None, float]] = {
    ("omraden", "ar"): (1950, 2100),
    ("medel", "ar"): (1950, 2100),
    ("personer", "fodelsear"): (1850, 2100),
    ("omraden", "folkmangd"): (None, 20_000_000),
    ("omraden", "folkmangd_18_64"): (None, 20_000_000),
    ("insatser", "platser"): (None, 100_000),
    ("insatser", "kostnad_per_plats_manad"): (None, 10_000_000),
    ("bistand", "belopp"): (-10_000_000, 10_000_000),
    ("deltaganden", "planerade_timmar"): (None, 20_000),
    ("deltaganden", "narvarotimmar"): (None, 20_000),
    ("medel", "belopp"): (-1e11, 1e11),
}
"""(table, column) -> the range a value can have at all (an error outside it): 20 000 hours is ten
years of full-time work, 20 million people more than Sweden, 10 million kronor of assistance in a
month, 100 000 places in one intervention. Far outside means a typing slip or a unit mistake.
No lower bound (None): below zero is the ``negativ`` rule's."""
MONTH_WINDOW_YEARS = 5
"""A month or date more than this many years outside the bulk of the study's ``bistand`` months
(its 1st to 99th percentile) is implausible: an error in ``bistand`` and ``avslut`` (it would move
the default period), a warning elsewhere."""
MONTH_ERRORS = {("bistand", "manad"), ("avslut", "manad")}
ISOLATED_GAP_MONTHS = 3
ISOLATED_SHARE = 0.1
"""``bistand`` months cut off from the rest by at least ``ISOLATED_GAP_MONTHS`` months without a
row, whose busiest month has fewer than ``ISOLATED_SHARE`` of the rows of the study's median
month, are an error (a mistyped year within ``MONTH_WINDOW_YEARS``: one row in 2016 of a
2012–2013 study would move the default period's end, and every published figure, by three
years). A later period with data of its own, however far, is not isolated in this sense."""
NOT_EMPTY = ("personer", "bistand")
"""Tables that may not be there with a header and no rows (an error): they define who is studied
and the period. Any other table with a header only is a warning (perhaps a cut-off export)."""


FORMULA_MESSAGE = (
    "cellen innehåller en formel utan sparat värde (filen har inte sparats av Excel efter att formeln skrevs); "
    "öppna filen i Excel och spara den, eller klistra in formlernas värden som värden."
)


# --------------------------------------------------------------------------- one table
def _same(message: str) -> Callable[[int], tuple[str | None, str]]:
    """``add_rows``' callback for a message that is the same on every row (no value shown)."""

    def one(_row: int) -> tuple[str | None, str]:
        return None, message

    return one


def _cell(raw: RawTable, row: int, column: str) -> str | None:
    return to_display_text(raw.frame.at[row, column]) if column in raw.frame else None


def check_table(raw: RawTable, report: ValidationReport) -> pd.DataFrame:
    """Type a raw table (all contract columns, contract order) and report its own problems."""
    if raw.table is None:
        raise ValueError("check_table needs a contract table")
    spec = TABLES[raw.table]
    file = raw.source.display
    frame = raw.frame
    rows = frame.index.to_numpy()
    check_personnummer(raw, report)
    if not len(frame) and raw.headers:
        needed = spec.name in NOT_EMPTY
        report.add(
            Problem(
                FEL if needed else VARNING,
                file,
                None,
                None,
                None,
                "tabellen har bara en rubrikrad och inga rader"
                + (
                    f"; förväntade minst en rad — utan {spec.name} kan perioden och måtten inte bestämmas. "
                    "Fyll i uppgifterna eller ta bort filen."
                    if needed
                    else "; kontrollera att uttaget är fullständigt."
                ),
                "tom_tabell",
            )
        )
    for rule, message, bad_rows in raw.row_problems:
        report.add_rows(FEL, file, rule, None, np.asarray(bad_rows), _same(message))
    for name, formula_rows in raw.formula_cells.items():
        report.add_rows(FEL, file, "formel_utan_varde", name, np.asarray(formula_rows), _same(FORMULA_MESSAGE))
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
    shown = list(raw.headers.values())
    found = ", ".join(shown[:30]) + (f" … och {len(shown) - 30} till" if len(shown) > 30 else "") or "inga"
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
        more = f" … och {len(extra) - 30} till" if len(extra) > 30 else ""
        report.info.append(f"{file}: okända kolumner hoppas över: {', '.join(extra[:30])}{more}.")

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
            blank = typed.missing
            if col.name in raw.formula_cells:  # said above: a formula without a value, not a blank
                blank = blank & ~np.isin(rows, raw.formula_cells[col.name])
            empty = np.flatnonzero(blank)
            if len(empty):
                msg = f"värdet saknas; kolumnen är obligatorisk och förväntade {KIND_EXPECTED[col.kind]}."

                def missing(_row: int, m: str = msg) -> tuple[str | None, str]:
                    return None, m

                report.add_rows(FEL, file, "saknas", col.name, rows[empty], missing)
    typed_frame = pd.DataFrame(out)
    if typed_frame.empty and len(frame):
        typed_frame.index = pd.RangeIndex(len(frame))
    _check_rows(spec.name, raw, typed_frame, report)
    return typed_frame


def _implausible(values: pd.Series, lo: float | None, hi: float) -> Callable[[int, str], str]:
    def message(pos: int, v: str) -> str:
        bound = (
            f"högst {_number_text(hi)}" if lo is None else f"ett värde mellan {_number_text(lo)} och {_number_text(hi)}"
        )
        size = "stort" if values.iat[pos] > hi else "litet"
        return f'värdet "{v}" är orimligt {size}; förväntade {bound}. Kontrollera enheten och att inga siffror kommit till.'

    return message


def _reserved(code: str, meaning: str) -> Callable[[int, str], str]:
    def message(_pos: int, v: str) -> str:
        return (
            f'värdet "{v}" är reserverat: {code} betyder {meaning} i måtten och rapporterna; '
            "förväntade en annan områdeskod — byt koden i alla tabeller."
        )

    return message


def _too_long(_pos: int, v: str) -> str:
    code = str(v).strip()
    return (
        f'värdet "{code[:20]}…" är {len(code)} tecken långt; förväntade en områdeskod på högst '
        f"{MAX_CODE_LENGTH} tecken (koden blir namnet på områdets rapportfil). Använd en kortare kod, "
        "t.ex. en förkortning av områdets namn, och byt den i alla tabeller."
    )


def _far_away(span: str) -> Callable[[int, str], str]:
    def message(_pos: int, v: str) -> str:
        return (
            f'värdet "{v}" ligger mer än {MONTH_WINDOW_YEARS} år från studiens övriga månader ({span}); '
            "förväntade en tidpunkt nära studiens period. Kontrollera årtalet."
        )

    return message


def _number_text(value: float) -> str:
    """A bound as Swedish text: ``20 000``, ``100 000 000 000``."""
    return f"{int(value):,}".replace(",", " ")


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
    for (t, name), (lo, hi) in PLAUSIBLE.items():
        if t != table or name not in raw.frame.columns:
            continue
        values = df[name].astype("float64")
        outside = values > hi if lo is None else (values < lo) | (values > hi)
        mask = (values.notna() & outside).to_numpy(dtype=bool)
        _emit_mask(
            report,
            FEL,
            raw,
            "orimligt",
            name,
            mask,
            _implausible(values, lo, hi),
        )
    if "omrade_kod" in raw.frame.columns and "omrade_kod" in df.columns:
        codes = df["omrade_kod"].astype("string").str.strip().str.upper()
        for code, meaning in RESERVED_AREA_CODES.items():
            if code == CENTRAL and table != "omraden":  # elsewhere a reference to omraden, checked there
                continue
            mask = (codes == code).fillna(False).to_numpy(dtype=bool)
            _emit_mask(
                report,
                FEL,
                raw,
                "reserverad_kod",
                "omrade_kod",
                mask,
                _reserved(code, meaning),
            )
    if table == "omraden" and "omrade_kod" in raw.frame.columns and "omrade_kod" in df.columns:
        lengths = df["omrade_kod"].astype("string").str.strip().str.len()
        mask = (lengths > MAX_CODE_LENGTH).fillna(False).to_numpy(dtype=bool)
        _emit_mask(report, FEL, raw, "for_lang_kod", "omrade_kod", mask, _too_long)
    if table == "bedomningar" and {"enhet", "overlamnad_till"} <= set(raw.frame.columns):
        same = df["overlamnad_till"].map(fold, na_action="ignore") == df["enhet"].map(fold, na_action="ignore")
        mask = same.fillna(False).to_numpy(dtype=bool)
        _emit_mask(
            report,
            VARNING,
            raw,
            "samma_enhet",
            "overlamnad_till",
            mask,
            lambda pos, v: (
                f'värdet "{v}" är samma enhet som den bedömande enheten; förväntade en annan enhet, '
                "eller en tom cell om personen inte lämnades över (räknas nu som ingen överlämning)."
            ),
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
    if table == "deltaganden" and {"narvarotimmar", "start_datum", "slut_datum"} <= set(raw.frame.columns):
        _check_hours_per_day(raw, df, report)


HOURS_PER_DAY_ERROR = 24.0
HOURS_PER_DAY_WARNING = 12.0
"""Attended hours per calendar day of a finished participation (start to end, both counted):
more than 24 is impossible (an error), more than 12 (twice full time every day of the week) is
implausible (a warning). Planned hours may exceed the length: a drop-out ends early."""


def _check_hours_per_day(raw: RawTable, df: pd.DataFrame, report: ValidationReport) -> None:
    days = (df["slut_datum"] - df["start_datum"]).dt.days + 1
    per_day = (df["narvarotimmar"] / days.where(days > 0)).to_numpy(dtype="float64", na_value=np.nan)
    with np.errstate(invalid="ignore"):
        impossible = per_day > HOURS_PER_DAY_ERROR
        implausible = (per_day > HOURS_PER_DAY_WARNING) & ~impossible
    n_days = days.to_numpy(dtype="float64", na_value=np.nan)

    def message(limit: str) -> Callable[[int, str], str]:
        def say(pos: int, v: str) -> str:
            return (
                f'värdet "{v}" är {per_day[pos]:.0f} timmar per dag under deltagandets {n_days[pos]:.0f} dagar '
                f"(start_datum till slut_datum); förväntade {limit}. Kontrollera timmarna och datumen."
            )

        return say

    _emit_mask(report, FEL, raw, "timmar_per_dag", "narvarotimmar", impossible, message("högst 24 timmar per dag"))
    _emit_mask(report, VARNING, raw, "timmar_per_dag", "narvarotimmar", implausible, message("högst 12 timmar per dag"))


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
            if column == "omrade_kod":  # ALLA is reported once, as reserved
                mask &= ~(values.astype("string").str.strip().str.upper() == ALLA).fillna(False).to_numpy(dtype=bool)
            also = f" (eller {CENTRAL})" if (name, column) in CENTRAL_ALLOWED else ""

            def unknown(_pos: int, v: str, rt: str = ref_table, rc: str = ref_column, a: str = also) -> str:
                return f'värdet "{v}" finns inte i {rt}.{rc}; förväntade ett {rc} som finns i {rt}{a}.'

            _emit_mask(report, FEL, raw, "referens", column, mask, unknown)
    _check_ages(typed, raws, report)
    _check_months(typed, raws, report)
    _check_isolated_months(typed, raws, report)


def _bulk_months(values: pd.Series) -> tuple[pd.Timestamp, pd.Timestamp] | None:
    """The 1st to the 99th percentile of some dates: where the bulk of the study lies (a few
    far-off values do not move it)."""
    values = values.dropna()
    if values.empty:
        return None
    ns = np.sort(values.to_numpy(dtype="datetime64[ns]").astype("int64"))
    lo = ns[int(np.ceil(0.01 * (len(ns) - 1)))]
    hi = ns[int(np.floor(0.99 * (len(ns) - 1)))]
    return pd.Timestamp(lo), pd.Timestamp(hi)


def _check_months(typed: dict[str, pd.DataFrame], raws: dict[str, RawTable], report: ValidationReport) -> None:
    """Months and dates far outside the study's bulk of months: errors where they would move
    the default period (``bistand``, ``avslut``), warnings elsewhere."""
    reference = None
    if "bistand" in typed and "manad" in raws["bistand"].frame.columns:
        reference = _bulk_months(typed["bistand"]["manad"])
    years = pd.DateOffset(years=MONTH_WINDOW_YEARS)
    for name, df in typed.items():
        raw = raws[name]
        for col in TABLES[name].columns:
            if col.kind not in ("date", "month") or col.name not in raw.frame.columns:
                continue
            bulk = reference or _bulk_months(df[col.name])
            if bulk is None:
                continue
            lo, hi = bulk[0] - years, bulk[1] + years
            values = df[col.name]
            mask = (values.notna() & ((values < lo) | (values > hi))).to_numpy(dtype=bool)
            severity = FEL if (name, col.name) in MONTH_ERRORS else VARNING
            span = f"{bulk[0]:%Y-%m}–{bulk[1]:%Y-%m}"
            _emit_mask(
                report,
                severity,
                raw,
                "utanfor_perioden",
                col.name,
                mask,
                _far_away(span),
            )


def _check_isolated_months(typed: dict[str, pd.DataFrame], raws: dict[str, RawTable], report: ValidationReport) -> None:
    """``bistand`` months that are a handful of rows cut off from the rest (``ISOLATED_SHARE``)."""
    if "bistand" not in typed or "manad" not in raws["bistand"].frame.columns:
        return
    months = typed["bistand"]["manad"]
    counts = months.dropna().dt.to_period("M").value_counts().sort_index()
    if len(counts) < 2:
        return
    index = counts.index.to_numpy()
    ordinal = np.array([p.ordinal for p in index])
    run = np.concatenate([[0], np.cumsum(np.diff(ordinal) > ISOLATED_GAP_MONTHS)])
    sizes = counts.groupby(run).sum()
    if len(sizes) < 2:
        return
    main = int(sizes.idxmax())
    median = float(counts[run == main].median())
    main_span = f"{index[run == main][0]}–{index[run == main][-1]}"
    isolated = {
        str(p)
        for r in sizes.index
        if r != main and counts[run == r].max() < ISOLATED_SHARE * median
        for p in index[run == r]
    }
    if not isolated:
        return
    text = months.dt.strftime("%Y-%m")
    mask = text.isin(isolated).to_numpy(dtype=bool)
    per_month = {str(p): int(n) for p, n in counts.items()}

    def message(pos: int, v: str) -> str:
        month = text.iloc[pos]
        return (
            f'månaden "{v}" har bara {per_month[month]} rader och ligger långt från studiens övriga månader '
            f"({main_span}, i mitten {median:.0f} rader i månaden); den skulle flytta studiens period. "
            "Kontrollera årtalet, eller ta bort raden om den inte hör till studien."
        )

    _emit_mask(report, FEL, raws["bistand"], "isolerad_manad", "manad", mask, message)


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
    check_folder_personnummer(scan, report)
    for file, message in scan.failures + scan.unusable:
        report.add(Problem(FEL, file, None, None, None, message, "fil"))
    for name in scan.ignored:
        report.info.append(f"{name} hör inte till datakontraktet och hoppas över.")
    if not scan.tables:
        if not scan.failures and not scan.unusable:
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
    "MAX_CODE_LENGTH",
    "VARNING",
    "Problem",
    "ValidationReport",
    "check_folder_personnummer",
    "check_personnummer",
    "check_relations",
    "check_study",
    "check_table",
    "coerce_column",
    "personnummer_places",
    "validate_study",
]
