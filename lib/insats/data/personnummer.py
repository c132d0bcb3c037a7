"""Recognise Swedish personal identity numbers (personnummer and samordningsnummer).

The data contract forbids them anywhere in a study (``docs/design.md``, *Privacy*). ``insats validate``
and ``insats pseudonymise`` both use this module, so what one finds the other finds: every raw
value of every column, column headers, sheet names, file names and every file of a study folder
(``studie.json`` included). A place is reported, a number never.

**What counts as one.** A date part ``YYMMDD`` or ``YYYYMMDD`` (century 18, 19 or 20) that is a
real calendar date — the day may be the birth day + 60 (samordningsnummer) — followed by four
digits whose last is the Luhn check digit over the ten-digit form ``YYMMDDNNNC``. Between the date
and the four digits there may be nothing, ``-``, ``+``, ``.`` or ``/``, one or two spaces, or one of
those with spaces around it (``850315 - 1238``); a date written with hyphens (``85-03-15-1238``,
``1985-03-15-1238``) is followed by ``-`` or ``+``. Before matching, full-width and other Unicode
digits count as digits, Unicode dashes as ``-`` and Unicode spaces as a space, so
``８５０３１５－１２３８`` is found. Invisible characters — the zero-width space, non-joiner and
joiner, the word joiner, the zero-width no-break space (byte-order mark) and the soft hyphen — are
read as nothing, wherever they are: a number is matched as a reader sees it, so ``8503\u200b15-1238``
is ``850315-1238``. (A soft hyphen shows as ``-`` where a line breaks: the text is also read with
soft hyphens as ``-``, so ``1985-03-15\u00ad1238`` is found too.)
A match must not continue a longer number: no digit right before or after it, and not the decimals
of a number (``0.8503151238`` is a share, not a person). Numbers that have gone through a
spreadsheet are recognised as well: an integer or float with 10 or 12 digits
(``8503151238.0``, ``8.503151238e+09``) and — when ``lost_zero`` — a whole value of exactly 9
digits, a ten-digit number that lost its leading zero (``503151235`` for ``0503151235``).

**False positives.** Any ten-digit number passes by chance with probability about 0.7 % (a month
01–12: 12 %, a day of that month or + 60: about 61 %, the check digit: 10 %), whatever the
separator. A real date written with hyphens and followed by ``-`` and four digits (an id such as
``2016-01-15-0042``) rests on the check digit alone: one in ten passes. Identifiers that are
random ten-digit numbers are therefore sometimes taken for personnummer; ``data/README.md`` says
how to choose identifiers that cannot be.

``series_has_personnummer`` is vectorised for columns of millions of cells: it looks at distinct
values only, a regular expression (Arrow's) picks the few candidates, and only those are checked
exactly, by the same code as a single value.
"""

from __future__ import annotations

import calendar
import re
import unicodedata
from dataclasses import dataclass

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

__all__ = [
    "REDACTED",
    "Match",
    "find_personnummer",
    "has_personnummer",
    "is_personnummer",
    "number_key",
    "redact",
    "scan",
    "series_has_personnummer",
]

REDACTED = "[personnummer]"
"""What ``redact`` puts in place of a number."""

_DATE = r"(?:(?:18|19|20)\d{2}|\d{2})(?:0[1-9]|1[0-2])(?:[0-3]\d|[6-9]\d)"
_DATE_HYPHENS = r"(?:(?:18|19|20)\d{2}|\d{2})-(?:0[1-9]|1[0-2])-(?:[0-3]\d|[6-9]\d)"
_SEP = r"(?: {0,2}[-+./] {0,2}| {1,2})?"
_PATTERN = rf"(?<!\d)(?<!\d[.,])(?:({_DATE}){_SEP}|({_DATE_HYPHENS})[-+])(\d{{4}})(?!\d)(?![.,]0*[1-9])"
_RE = re.compile(_PATTERN, re.ASCII)
_WHOLE_DIGITS = re.compile(r"\s*(\d{9,12})(?:[.,]0+)?\s*", re.ASCII)
_SCIENTIFIC = re.compile(r"\s*([1-9][.,]\d+)[eE]\+?(\d{1,2})\s*", re.ASCII)

# The pre-filter (RE2 syntax, run by Arrow over distinct values): a superset of every form above.
_SPACE_CLASS = r"\s\x{00a0}\x{2000}-\x{200d}\x{202f}\x{205f}\x{2060}\x{3000}\x{feff}"
_DASH_CLASS = r"\-+\x{00ad}\x{2010}-\x{2015}\x{2212}\x{fe58}\x{fe63}\x{ff0b}\x{ff0d}"
_PREFILTER = (
    rf"\d{{6}}[{_SPACE_CLASS}{_DASH_CLASS}./]{{0,5}}\d{{4}}"  # the text forms (ASCII digits)
    rf"|\d{{2}}[{_DASH_CLASS}]\d{{2}}[{_DASH_CLASS}]\d{{2}}[{_DASH_CLASS}]\d{{4}}"  # a date with hyphens
    r"|^\s*\d{9}"  # a number that lost its leading zero
    r"|\d[.,]\d+[eE]"  # a number in scientific notation
    r"|[^\P{Nd}0-9]"  # a digit of another script (full-width …): checked exactly
    r"|[\x{00ad}\x{200b}-\x{200d}\x{2060}\x{feff}]"  # an invisible character (inside a number): checked exactly
)
_ASCII_DIGIT_RUN = re.compile(r"\d{6}|\d\d-\d\d-\d\d[-+]\d", re.ASCII)
"""What every written form holds (after folding): six digits in a row, or a date with hyphens."""


_INVISIBLE = frozenset("\u00ad\u200b\u200c\u200d\u2060\ufeff")
"""Soft hyphen, zero-width space, non-joiner, joiner, word joiner, zero-width no-break space: read as
nothing (the soft hyphen also as ``-``, ``_fold``)."""
_DASHES = frozenset("\u2010\u2011\u2012\u2013\u2014\u2015\u2212\ufe58\ufe63\uff0d")


def _fold_char(ch: str) -> str:
    """One visible character as the matcher sees it: any Unicode digit as its ASCII digit, any dash
    as ``-``, full-width plus as ``+``, any space as a space; everything else unchanged."""
    if ch.isascii():
        return ch
    digit = unicodedata.decimal(ch, None)
    if digit is not None:
        return str(digit)
    if ch in _DASHES:
        return "-"
    if ch == "\uff0b":
        return "+"
    if ch.isspace():
        return " "
    return ch


@dataclass(frozen=True)
class _Folded:
    """A text as the matcher reads it, and where each of its characters is in the original
    (``where[i]``; one more entry for the end), None when they are in the same places."""

    text: str
    where: list[int] | None = None

    def span(self, start: int, end: int) -> tuple[int, int]:
        """``text[start:end]``'s place in the original."""
        if self.where is None:
            return start, end
        return self.where[start], self.where[end - 1] + 1


def _fold(text: str, soft_hyphen: str = "") -> _Folded:
    """The text with every character folded (``_fold_char``) and the invisible ones dropped (the
    soft hyphen replaced by ``soft_hyphen``)."""
    if text.isascii():
        return _Folded(text)
    if not _INVISIBLE.intersection(text):
        return _Folded("".join(_fold_char(c) for c in text))
    chars: list[str] = []
    where: list[int] = []
    for i, c in enumerate(text):
        if c in _INVISIBLE:
            c = soft_hyphen if c == "\u00ad" else ""
            if not c:
                continue
        chars.append(_fold_char(c))
        where.append(i)
    where.append(len(text))
    return _Folded("".join(chars), where)


def _valid_date(date: str) -> bool:
    """``YYMMDD`` or ``YYYYMMDD``: a real date (day + 60 for a samordningsnummer)."""
    year = int(date[:-4])
    month, day = int(date[-4:-2]), int(date[-2:])
    if day > 60:
        day -= 60
    if not 1 <= month <= 12 or day < 1:
        return False
    if len(date) == 6:  # no century: 29 February is possible when either century allows it
        leap = year % 4 == 0
        last = 29 if (month == 2 and leap) else calendar.monthrange(2001, month)[1]
    else:
        last = calendar.monthrange(year, month)[1]
    return day <= last


def _luhn_ok(ten: str) -> bool:
    total = 0
    for i, ch in enumerate(ten[:9]):
        d = int(ch) * (2 - i % 2)
        total += d - 9 if d > 9 else d
    return (10 - total % 10) % 10 == int(ten[9])


def _key(date: str, tail: str) -> str | None:
    """The ten-digit form ``YYMMDDNNNC`` when date and check digit hold, else None."""
    if not _valid_date(date):
        return None
    ten = date[-6:] + tail
    return ten if _luhn_ok(ten) else None


def _digits_key(digits: str, lost_zero: bool) -> str | None:
    """The key of a bare run of 9, 10 or 12 digits (a number), else None."""
    if len(digits) == 9 and lost_zero:
        digits = "0" + digits
    if len(digits) == 10:
        return _key(digits[:6], digits[6:])
    if len(digits) == 12 and digits[:2] in ("18", "19", "20"):
        return _key(digits[:8], digits[8:])
    return None


def number_key(value: object, *, lost_zero: bool = True) -> str | None:
    """The ten-digit key when a number (int or float) is a personnummer written as a number
    (``8503151238``, ``198503151238``, ``8503151238.0``, ``503151235`` for ``0503151235``)."""
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, (float, np.floating)):
        value = float(value)
        if not np.isfinite(value) or value != np.floor(value):
            return None
        value = int(value)
    if not isinstance(value, (int, np.integer)):
        return None
    value = abs(int(value))
    if not 10**8 <= value < 10**12:
        return None
    return _digits_key(str(value), lost_zero)


@dataclass(frozen=True)
class Match:
    """One personnummer in a text: where it is (``text[start:end]``) and its ten-digit key."""

    start: int
    end: int
    key: str


def scan(text: object, *, lost_zero: bool = True) -> list[Match]:
    """Every personnummer/samordningsnummer in a value (a cell, a name, a whole file's text).

    A number (int, float) is checked as a number. Text is checked for the written forms anywhere
    in it, and as a whole for the spreadsheet forms (9/10/12 digits, scientific notation).
    """
    if text is None or isinstance(text, bool):
        return []
    if isinstance(text, (int, float, np.integer, np.floating)):
        key = number_key(text, lost_zero=lost_zero)
        return [Match(0, len(str(text)), key)] if key else []
    if isinstance(text, bytes):
        text = text.decode("utf-8", errors="replace")
    text = str(text)
    folded = _fold(text)
    whole = _WHOLE_DIGITS.fullmatch(folded.text)
    if whole:
        key = _digits_key(whole.group(1), lost_zero)
        if key:
            return [Match(*folded.span(whole.start(1), whole.end(0)), key)]
    sci = _SCIENTIFIC.fullmatch(folded.text)
    if sci:
        mantissa, exponent = sci.group(1).replace(",", "."), int(sci.group(2))
        decimals = len(mantissa) - 2
        if decimals <= exponent:  # an exact whole number
            key = _digits_key(mantissa.replace(".", "") + "0" * (exponent - decimals), lost_zero)
            if key:
                return [Match(*folded.span(sci.start(1), sci.end(2)), key)]
    out = _written(folded)
    if "\u00ad" in text:  # read the soft hyphens as hyphens too (where a line breaks they show)
        found = {(m.start, m.end) for m in out}
        for m in _written(_fold(text, soft_hyphen="-")):
            if not any(m.start < end and start < m.end for start, end in found):
                out.append(m)
        out.sort(key=lambda m: m.start)
    return out


def _written(folded: _Folded) -> list[Match]:
    """The written forms in a folded text, placed in the original."""
    if not _ASCII_DIGIT_RUN.search(folded.text):
        return []
    out = []
    for m in _RE.finditer(folded.text):
        key = _key(m.group(1) or m.group(2).replace("-", ""), m.group(3))
        if key:
            out.append(Match(*folded.span(m.start(), m.end()), key))
    return out


def find_personnummer(text: object, *, lost_zero: bool = True) -> list[str]:
    """Every valid personnummer/samordningsnummer in a value, as written."""
    matches = scan(text, lost_zero=lost_zero)
    if not matches:
        return []
    shown = text if isinstance(text, str) else str(text)
    return [shown[m.start : m.end] for m in matches]


def has_personnummer(text: object, *, lost_zero: bool = True) -> bool:
    """True when a value holds a valid personnummer/samordningsnummer anywhere."""
    return bool(scan(text, lost_zero=lost_zero))


def is_personnummer(text: object) -> bool:
    """True when the whole value (surrounding blanks aside) is one personnummer/samordningsnummer."""
    matches = scan(text)
    if len(matches) != 1:
        return False
    shown = str(text)
    return not shown[: matches[0].start].strip() and not shown[matches[0].end :].strip()


def redact(text: str) -> str:
    """The text with every personnummer/samordningsnummer replaced by ``[personnummer]``."""
    if not text:
        return text
    matches = scan(text)
    for m in reversed(matches):
        text = text[: m.start] + REDACTED + text[m.end :]
    return text


def _text_hits(uniques: list[str], lost_zero: bool) -> np.ndarray:
    """Which of these distinct texts hold a personnummer: Arrow's regular expression picks the
    candidates, ``scan`` decides."""
    arr = pa.array(uniques, type=pa.large_string())
    cand = pc.match_substring_regex(arr, _PREFILTER).to_numpy(zero_copy_only=False)
    hits = np.zeros(len(uniques), dtype=bool)
    for i in np.flatnonzero(cand):
        hits[i] = bool(scan(uniques[i], lost_zero=lost_zero))
    return hits


def _as_text(value) -> str:
    if isinstance(value, bytes):
        return value.decode("utf-8", errors="replace")
    return value if isinstance(value, str) else str(value)


def series_has_personnummer(values: pd.Series, *, lost_zero: bool = True) -> pd.Series:
    """Boolean Series: which cells hold a valid personnummer/samordningsnummer anywhere.

    Works on any column: text (any string dtype, object, bytes), numbers (integers and whole
    floats of 9, 10 or 12 digits), categoricals (their categories are checked), nested values
    (checked as their text). Missing cells, booleans and dates are False.
    """
    out = np.zeros(len(values), dtype=bool)
    if len(values) == 0:
        return pd.Series(out, index=values.index)
    dtype = values.dtype
    if isinstance(dtype, pd.CategoricalDtype):
        cats = series_has_personnummer(pd.Series(values.cat.categories), lost_zero=lost_zero).to_numpy()
        codes = values.cat.codes.to_numpy()
        out = np.where(codes >= 0, cats[np.maximum(codes, 0)] if len(cats) else False, False)
        return pd.Series(out.astype(bool), index=values.index)
    if pd.api.types.is_bool_dtype(dtype) or pd.api.types.is_datetime64_any_dtype(dtype):
        return pd.Series(out, index=values.index)
    if pd.api.types.is_numeric_dtype(dtype):
        num = pd.to_numeric(values, errors="coerce").astype("float64").to_numpy()
        with np.errstate(invalid="ignore"):
            big = np.isfinite(num) & (np.abs(num) >= 1e8) & (np.abs(num) < 1e12) & (num == np.floor(num))
        if big.any():
            uniq, inverse = np.unique(num[big], return_inverse=True)
            hits = np.array([number_key(int(u), lost_zero=lost_zero) is not None for u in uniq])
            out[big] = hits[inverse]
        return pd.Series(out, index=values.index)
    if isinstance(dtype, pd.StringDtype) and not (values.str.len() >= 9).any():
        return pd.Series(out, index=values.index)  # every form has 9 characters or more
    try:
        codes, uniques = pd.factorize(values, use_na_sentinel=True)
    except TypeError:  # unhashable cells (lists from a nested Parquet column): as text
        codes, uniques = pd.factorize(values.map(lambda v: None if v is None else str(v)), use_na_sentinel=True)
    if len(uniques) == 0:
        return pd.Series(out, index=values.index)
    uniques = np.asarray(uniques, dtype=object)
    numeric = np.array(
        [isinstance(u, (int, float, np.integer, np.floating)) and not isinstance(u, bool) for u in uniques]
    )
    hits = np.zeros(len(uniques), dtype=bool)
    for i in np.flatnonzero(numeric):
        hits[i] = number_key(uniques[i], lost_zero=lost_zero) is not None
    text_pos = np.flatnonzero(~numeric)
    if len(text_pos):
        texts = [_as_text(uniques[i]) for i in text_pos]
        hits[text_pos] = _text_hits(texts, lost_zero)
    out = np.where(codes >= 0, hits[np.maximum(codes, 0)], False)
    return pd.Series(out.astype(bool), index=values.index)
