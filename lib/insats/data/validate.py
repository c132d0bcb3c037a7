"""Validation against the data contract: problems, the report, typing of raw values, and the rules.

Every problem names the file, the spreadsheet row (header = row 1), the column, the value as the
user wrote it and what was expected, in Swedish. All problems are collected; nothing stops at
the first. A value that looks like a personnummer is reported by place only, never repeated
(``Problem`` redacts any that slips into a value or message).

Typing is vectorised (pandas/pyarrow string operations, and for low-cardinality kinds — codes,
booleans, dates, months — the distinct values only), so a 6-million-row ``bistand`` table types in
seconds; only the rows that fail are looked at one by one.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from insats.contract import (
    CENTRAL,
    KIND_EXPECTED,
    TABLE_ORDER,
    TABLES,
    Column,
    code_dtype,
    codes,
    column_label,
    label,
    normalise_code,
)
from insats.data.files import RawTable, scan_folder, to_display_text
from insats.data.personnummer import has_personnummer, redact, series_has_personnummer
from insats.data.study import Study

FEL, VARNING = "fel", "varning"
SHOW_LIMIT = 20
"""Problems of one rule in one column shown by ``format`` before '… och N rader till'."""
STORE_LIMIT = 1000
"""Problems of one rule in one column kept as objects; the rest are only counted."""
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


# --------------------------------------------------------------------------- problems and report
@dataclass(frozen=True)
class Problem:
    """One finding: ``fel`` (the study cannot be used) or ``varning`` (check it)."""

    severity: str
    file: str
    row: int | None
    column: str | None
    value: str | None
    message: str
    rule: str = ""

    def __post_init__(self) -> None:
        if self.severity not in (FEL, VARNING):
            raise ValueError(f"severity must be 'fel' or 'varning', not {self.severity!r}")
        if self.value is not None:
            object.__setattr__(self, "value", redact(str(self.value)))
        object.__setattr__(self, "message", redact(self.message))

    def __str__(self) -> str:
        where = self.file
        if self.row is not None:
            where += f" rad {self.row}"
        if self.column:
            where += f"{',' if self.row is not None else ''} kolumn {self.column}"
        return f"{'FEL' if self.severity == FEL else 'VARNING'}  {where}: {self.message}"


def _n(count: int, one: str, many: str) -> str:
    return f"{count} {one if count == 1 else many}"


@dataclass
class ValidationReport:
    """All problems of a study, plus notes (missing tables, ignored files)."""

    path: Path | None = None
    problems: list[Problem] = field(default_factory=list)
    info: list[str] = field(default_factory=list)
    files: list[str] = field(default_factory=list)
    more: Counter = field(default_factory=Counter)
    """(file, rule, column, severity) -> problems counted but not kept (beyond STORE_LIMIT)."""

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == FEL]

    @property
    def warnings(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == VARNING]

    @property
    def n_errors(self) -> int:
        return len(self.errors) + sum(n for k, n in self.more.items() if k[3] == FEL)

    @property
    def n_warnings(self) -> int:
        return len(self.warnings) + sum(n for k, n in self.more.items() if k[3] == VARNING)

    @property
    def ok(self) -> bool:
        return not self.errors

    def add(self, problem: Problem) -> None:
        self.problems.append(problem)

    def add_rows(
        self,
        severity: str,
        file: str,
        rule: str,
        column: str | None,
        rows,
        one: Callable[[int], tuple[str | None, str]],
    ) -> None:
        """Problems for many rows of one rule; ``one(row)`` gives (value, message).

        The first ``STORE_LIMIT`` become ``Problem`` objects, the rest are only counted.
        """
        for row in rows[:STORE_LIMIT]:
            value, message = one(row)
            self.problems.append(Problem(severity, file, int(row), column, value, message, rule))
        self.count_more(severity, file, rule, column, len(rows) - STORE_LIMIT)

    def count_more(self, severity: str, file: str, rule: str, column: str | None, n: int) -> None:
        if n > 0:
            self.more[(file, rule, column, severity)] += n

    def summary(self) -> str:
        files = _n(len(self.files), "fil", "filer")
        warn = _n(self.n_warnings, "varning", "varningar")
        if self.n_errors:
            return (
                f"{self.n_errors} fel och {warn} i {files}." if self.n_warnings else f"{self.n_errors} fel i {files}."
            )
        if self.n_warnings:
            return f"Inga fel. {warn[0].upper()}{warn[1:]} i {files}."
        return f"Inga fel eller varningar i {files}."

    def format(self) -> str:
        """The report for people: notes, problems grouped by file (floods capped), a summary."""
        lines: list[str] = []
        if self.path is not None:
            lines.append(f"Kontroll av {self.path}")
        lines += [f"Info: {note}" for note in self.info]
        by_file: dict[str, list[Problem]] = {}
        for p in self.problems:
            by_file.setdefault(p.file, []).append(p)
        for file, problems in by_file.items():
            lines += ["", f"{file}:"]
            shown: Counter = Counter()
            hidden: dict[tuple, int] = {}
            order: list[tuple] = []
            for p in problems:
                key = (p.rule, p.column, p.severity)
                if key not in shown and key not in hidden:
                    order.append(key)
                if shown[key] < SHOW_LIMIT or p.row is None:
                    shown[key] += 1
                    lines.append(f"  {p}")
                else:
                    hidden[key] = hidden.get(key, 0) + 1
            for (f, rule, column, sev), n in self.more.items():
                if f == file:
                    hidden[(rule, column, sev)] = hidden.get((rule, column, sev), 0) + n
            for key in order:
                if hidden.get(key):
                    what = "fel" if key[2] == FEL else "varning"
                    col = f" i kolumn {key[1]}" if key[1] else ""
                    lines.append(f"  … och {hidden[key]} rader till med samma {what}{col}.")
        lines += ["", self.summary()]
        return redact("\n".join(lines))

    def __str__(self) -> str:
        return self.format()


# --------------------------------------------------------------------------- typing
@dataclass
class Typed:
    """A column typed as the contract says, and which rows failed (``bad``) or are empty."""

    values: pd.Series
    bad: np.ndarray
    missing: np.ndarray
    why: dict[int, str] = field(default_factory=dict)
    """Position of a bad row -> a specific message (e.g. which code in a list is unknown)."""


def _factorize(raw: pd.Series) -> tuple[np.ndarray, list[str | None]]:
    """Codes into the distinct values (-1 = missing), and each distinct value as display text."""
    fcodes, uniques = pd.factorize(raw, use_na_sentinel=True)
    return fcodes, [to_display_text(u) for u in np.asarray(uniques, dtype=object)]


def _take(lut: list, fcodes: np.ndarray, fill) -> np.ndarray:
    """``lut[code]`` for every row, ``fill`` where the code is -1 (missing)."""
    arr = np.empty(len(lut) + 1, dtype=object)
    arr[: len(lut)] = lut
    arr[len(lut)] = fill
    return arr[fcodes]


def is_in(values: pd.Series, allowed: pd.Index) -> np.ndarray:
    """``values.isin(allowed)`` as a boolean array, by Arrow's hash kernel: pandas' isin on
    Arrow strings builds a Python scalar per allowed value, far too slow for 500,000 persons."""

    arr = pa.array(values.astype("string"), from_pandas=True)
    keys = pa.array(pd.Series(allowed, dtype="string"), from_pandas=True)
    return pc.is_in(arr, value_set=keys).to_numpy(zero_copy_only=False).astype(bool)


def as_text(raw: pd.Series) -> pd.Series:
    """Raw values as stripped text (``string`` dtype), blanks as missing."""
    if pd.api.types.is_string_dtype(raw.dtype) and raw.dtype != object:
        text = raw.astype("string").str.strip()
        return text.mask(text == "")
    if pd.api.types.is_integer_dtype(raw.dtype):
        return raw.astype("string")
    return raw.map(to_display_text, na_action=None).astype("string")


_NUM_RE = r"^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$"


def _number(raw: pd.Series, whole: bool) -> Typed:
    if pd.api.types.is_numeric_dtype(raw.dtype) and not pd.api.types.is_bool_dtype(raw.dtype):
        values = raw.astype("float64")
        missing = values.isna().to_numpy()
        bad = np.zeros(len(raw), dtype=bool)
    else:
        text = as_text(raw)
        arr = pa.array(text, from_pandas=True, type=pa.large_string())
        try:  # the common case: plain numbers, perhaps with decimal comma
            num = pc.cast(pc.replace_substring(arr, ",", "."), pa.float64())
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
            clean = pc.replace_substring_regex(arr, r"[\s\x{00a0}\x{202f}']", "")
            clean = pc.replace_substring_regex(clean, r"(?i)(kr|sek)$", "")  # "1 234 kr"
            # "1.234,50": dots as thousands separators when a comma is the decimal sign
            dotted = pc.match_substring_regex(clean, r"^[+-]?\d{1,3}(\.\d{3})+(,\d+)?$")
            clean = pc.if_else(dotted, pc.replace_substring(clean, ".", ""), clean)
            clean = pc.replace_substring(pc.replace_substring(clean, ",", "."), "\u2212", "-")
            ok = pc.match_substring_regex(clean, _NUM_RE)
            num = pc.cast(pc.if_else(ok, clean, pa.scalar(None, pa.large_string())), pa.float64())
        values = pd.Series(num.to_numpy(zero_copy_only=False), index=raw.index, dtype="float64")
        values = values.mask(np.isinf(values))  # "inf" is not a number anyone meant
        missing = text.isna().to_numpy()
        bad = ~missing & values.isna().to_numpy()
    if whole:
        frac = values.notna().to_numpy() & (values.to_numpy() != np.floor(values.to_numpy()))
        bad |= frac
        values = values.mask(frac).round().astype("Int64")
    return Typed(values, bad, missing)


_TRUE = {"ja", "j", "1", "x", "sant", "true", "yes", "y", "s", "t"}
_FALSE = {"nej", "n", "0", "falskt", "false", "no", "f"}


def _boolean(raw: pd.Series) -> Typed:
    if pd.api.types.is_bool_dtype(raw.dtype):
        values = raw.astype("boolean")
        return Typed(values, np.zeros(len(raw), bool), values.isna().to_numpy())
    fcodes, uniq = _factorize(raw)
    folded = [None if u is None else u.strip().lower() for u in uniq]
    x_marks = "x" in folded
    lut = [True if f in _TRUE else False if f in _FALSE else None for f in folded]
    empty = False if x_marks else None
    mapped = _take([empty if f is None else v for f, v in zip(folded, lut)], fcodes, empty)
    blank = _take([f is None for f in folded], fcodes, True).astype(bool)
    bad = np.array([m is None for m in mapped]) & ~blank
    values = pd.Series(pd.array([None if b else m for m, b in zip(mapped, bad)], dtype="boolean"), index=raw.index)
    return Typed(values, bad, blank & ~x_marks)


EXCEL_SERIAL_RANGE = (18264, 73050)
"""Five-digit numbers read as Excel date serials in date columns: 1950-01-01 to 2099-12-31."""

_DATE_FORMATS = ("%Y-%m-%d", "%Y-%m-%d %H:%M:%S", "%Y-%m-%dT%H:%M:%S", "%d/%m/%Y", "%Y%m%d")
_MONTH_FORMATS = ("%Y-%m", "%Y%m") + _DATE_FORMATS


def _parse_dates(texts: list[str | None], formats: tuple[str, ...]) -> pd.Series:
    s = pd.Series(texts, dtype="string")
    out = pd.Series(pd.NaT, index=s.index, dtype="datetime64[ns]")
    for fmt in formats:
        todo = out.isna() & s.notna()
        if not todo.any():
            break
        parsed = pd.to_datetime(s[todo], format=fmt, errors="coerce")
        # a plausible year only ("41275" read as %Y%m would be the year 4127, beyond pandas' range)
        parsed = parsed.where(parsed.dt.year.between(1900, 2200))
        out[todo] = parsed.astype("datetime64[ns]")
    return out


def _date(raw: pd.Series, month: bool) -> Typed:
    if pd.api.types.is_datetime64_any_dtype(raw.dtype):
        values = raw.dt.tz_localize(None) if getattr(raw.dt, "tz", None) else raw
        values = values.astype("datetime64[ns]")
        values = values.dt.to_period("M").dt.to_timestamp() if month else values.dt.normalize()
        return Typed(values.astype("datetime64[ns]"), np.zeros(len(raw), bool), values.isna().to_numpy())
    fcodes, uniq = _factorize(raw)
    parsed = _parse_dates(uniq, _MONTH_FORMATS if month else _DATE_FORMATS)
    # Excel date serials that lost their date format on export ("41275" = 2013-01-01)
    serial = pd.Series([u if u is not None and len(u) == 5 and u.isdigit() else None for u in uniq], dtype="string")
    serial = pd.to_numeric(serial, errors="coerce")
    in_range = serial.between(EXCEL_SERIAL_RANGE[0], EXCEL_SERIAL_RANGE[1]).fillna(False).to_numpy(dtype=bool)
    use = parsed.isna().to_numpy() & in_range
    if use.any():
        days = pd.to_timedelta(serial[use].astype("int64"), unit="D")
        parsed[use] = (pd.Timestamp("1899-12-30") + days).to_numpy()
    parsed = parsed.dt.to_period("M").dt.to_timestamp() if month else parsed.dt.normalize()
    lut = np.append(parsed.to_numpy(dtype="datetime64[ns]"), np.datetime64("NaT", "ns"))
    values = pd.Series(lut[fcodes], index=raw.index, dtype="datetime64[ns]")
    missing = _take([u is None for u in uniq], fcodes, True).astype(bool)
    return Typed(values, ~missing & values.isna().to_numpy(), missing)


def _code(raw: pd.Series, list_name: str) -> Typed:
    dtype = code_dtype(list_name)
    allowed = codes(list_name)
    fcodes, uniq = _factorize(raw)
    pos = []
    for u in uniq:
        code = normalise_code(list_name, u) if u is not None else None
        pos.append(-1 if u is None else (allowed.index(code) if code else -2))
    lut = np.append(np.array(pos, dtype=np.int64), -1)
    cat = lut[fcodes]
    bad = cat == -2
    cat[bad] = -1
    missing = _take([u is None for u in uniq], fcodes, True).astype(bool)
    values = pd.Series(pd.Categorical.from_codes(cat, dtype=dtype), index=raw.index)
    return Typed(values, bad, missing)


def _allowed_text(list_name: str) -> str:
    return ", ".join(f"{c} ({label(list_name, c)})" for c in codes(list_name))


def _code_list(raw: pd.Series, list_name: str) -> Typed:
    fcodes, uniq = _factorize(raw)
    out, unknown = [], []
    for u in uniq:
        if u is None:
            out.append(None)
            unknown.append(None)
            continue
        parts = [p.strip() for p in re.split(r"[;,]", u) if p.strip()]
        canon = [normalise_code(list_name, p) for p in parts]
        out.append(";".join(dict.fromkeys(c for c in canon if c)) or None)
        unknown.append([p for p, c in zip(parts, canon) if c is None] or None)
    values = pd.Series(_take(out, fcodes, None), index=raw.index, dtype="string")
    bad_parts = _take(unknown, fcodes, None)
    bad = np.array([b is not None for b in bad_parts], dtype=bool)
    why = {int(i): ", ".join(f'"{p}"' for p in bad_parts[i]) for i in np.flatnonzero(bad)[:STORE_LIMIT]}
    missing = _take([u is None for u in uniq], fcodes, True).astype(bool)
    return Typed(values.mask(bad), bad, missing, why)


def _kommun(raw: pd.Series) -> Typed:
    fcodes, uniq = _factorize(raw)
    lut = [u.zfill(4) if u is not None and re.fullmatch(r"\d{1,4}", u) else None for u in uniq]
    values = pd.Series(_take(lut, fcodes, None), index=raw.index, dtype="string")
    missing = _take([u is None for u in uniq], fcodes, True).astype(bool)
    return Typed(values, ~missing & values.isna().to_numpy(), missing)


def _text_kind(raw: pd.Series) -> Typed:
    if pd.api.types.is_float_dtype(raw.dtype):
        raw = raw.astype(object)
    values = as_text(raw)
    missing = values.isna().to_numpy()
    return Typed(values, np.zeros(len(raw), bool), missing)


def coerce_column(raw: pd.Series, col: Column) -> Typed:
    """Type one raw column as ``col.kind`` says; the dtype is exactly ``col.dtype``."""
    kind = col.kind
    if kind in ("int", "float"):
        typed = _number(raw, whole=kind == "int")
    elif kind == "bool":
        typed = _boolean(raw)
    elif kind in ("date", "month"):
        typed = _date(raw, month=kind == "month")
    elif kind == "code":
        typed = _code(raw, col.code_list)  # type: ignore[arg-type]
    elif kind == "codes":
        typed = _code_list(raw, col.code_list)  # type: ignore[arg-type]
    elif kind == "kommun":
        typed = _kommun(raw)
    else:
        typed = _text_kind(raw)
    typed.values = typed.values.astype(col.dtype).reset_index(drop=True)
    return typed


def _type_message(col: Column, value: str | None, why: str | None) -> str:
    expected = KIND_EXPECTED[col.kind]
    if col.kind == "code":
        return f'värdet "{value}" är ingen känd kod för {col.name}; förväntade en av: {_allowed_text(col.code_list)}.'  # type: ignore[arg-type]
    if col.kind == "codes":
        return (
            f'värdet "{value}" innehåller okänd kod {why}; förväntade koder åtskilda med ; bland: '
            f"{_allowed_text(col.code_list)}."
        )  # type: ignore[arg-type]
    if col.kind == "int":
        return f'värdet "{value}" är inte ett heltal; förväntade {expected}.'
    return f'värdet "{value}" kan inte tolkas; förväntade {expected}.'


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
    for folded, written in raw.headers.items():
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
                return value, _type_message(col, value, typed.why.get(int(lookup[r])))

            report.add_rows(FEL, file, rule, col.name, rows[bad], one)
        if col.required:
            empty = np.flatnonzero(typed.missing)
            if len(empty):
                msg = f"värdet saknas; kolumnen är obligatorisk och förväntade {KIND_EXPECTED[col.kind]}."
                report.add_rows(FEL, file, "saknas", col.name, rows[empty], lambda r, m=msg: (None, m))
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
            _emit_mask(
                report,
                FEL,
                raw,
                "referens",
                column,
                mask,
                lambda pos, v, rt=ref_table, rc=ref_column, a=also: (
                    f'värdet "{v}" finns inte i {rt}.{rc}; förväntade ett {rc} som finns i {rt}{a}.'
                ),
            )
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
