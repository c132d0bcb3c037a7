"""Typing raw values as the data contract says: the one place a value from a file is parsed.

Numbers (decimal comma or point, spaces, ``1.234,50``, ``2 000 kr``), booleans (Ja/Nej, 1/0, x,
sant/falskt …), dates and months (ISO, ``ÅÅÅÅMM``, Excel cells and lost Excel serials), codes and
their Swedish labels, lists of codes, kommun codes and text. The loader (``validate.check_table``)
and the survey reader (``insats.intake.survey``) both use ``coerce_column``, so a value accepted in
one is accepted in the other.

Typing is vectorised (pandas/pyarrow string operations, and for low-cardinality kinds — codes,
booleans, dates, months — the distinct values only), so a 6-million-row ``bistand`` table types in
seconds; only the rows that fail are looked at one by one.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from insats.contract import (
    KIND_EXPECTED,
    Column,
    code_dtype,
    codes,
    label,
    normalise_code,
)
from insats.data.files import to_display_text
from insats.data.problems import STORE_LIMIT


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
    out: list[str | None] = []
    unknown: list[list[str] | None] = []
    for u in uniq:
        if u is None:
            out.append(None)
            unknown.append(None)
            continue
        parts = [p.strip() for p in re.split(r"[;,\n]", u) if p.strip()]  # Alt+Enter in Excel too
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
        assert col.code_list is not None  # kinds code/codes have a code list (Column.__post_init__)
        typed = _code(raw, col.code_list)
    elif kind == "codes":
        assert col.code_list is not None
        typed = _code_list(raw, col.code_list)
    elif kind == "kommun":
        typed = _kommun(raw)
    else:
        typed = _text_kind(raw)
    typed.values = typed.values.astype(col.dtype).reset_index(drop=True)
    return typed


def type_message(col: Column, value: str | None, why: str | None) -> str:
    expected = KIND_EXPECTED[col.kind]
    if col.kind == "code":
        assert col.code_list is not None  # kinds code/codes have a code list (Column.__post_init__)
        return f'värdet "{value}" är ingen känd kod för {col.name}; förväntade en av: {_allowed_text(col.code_list)}.'
    if col.kind == "codes":
        assert col.code_list is not None
        return (
            f'värdet "{value}" innehåller okänd kod {why}; förväntade koder åtskilda med ; bland: '
            f"{_allowed_text(col.code_list)}."
        )
    if col.kind == "int":
        return f'värdet "{value}" är inte ett heltal; förväntade {expected}.'
    return f'värdet "{value}" kan inte tolkas; förväntade {expected}.'
