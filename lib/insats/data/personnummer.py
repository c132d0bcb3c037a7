"""Recognise Swedish personal identity numbers (personnummer and samordningsnummer).

The data contract forbids them anywhere in a study (``docs/design.md``, *Privacy*): the loader checks every
raw value of every column and reports where one is, never what it is. A value counts as a
personnummer when it has the shape ``YYMMDD-NNNC``, ``YYMMDD+NNNC``, ``YYMMDDNNNC``,
``YYYYMMDD-NNNC`` or ``YYYYMMDDNNNC``, a plausible date (month 01–12; day 01–31, or 61–91 for a
samordningsnummer, whose day is the birth day + 60) and a valid Luhn check digit over the
10-digit form. ``1234567890`` (an amount, say) fails the check digit and passes.

``series_has_personnummer`` is vectorised: a cheap regular expression finds the few candidate
cells of a Series (it runs over every cell of multi-million-row tables), and only those are
checked exactly.
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd

# Digits not preceded or followed by another digit: 12 digits (with century 18/19/20) or 10.
_PATTERN = (
    r"(?<!\d)(?:(?:18|19|20)\d{2}|\d{2})(?:0[1-9]|1[0-2])(?:0[1-9]|[12]\d|3[01]|6[1-9]|[78]\d|9[01])[-+]?\d{4}(?!\d)"
)
_RE = re.compile(_PATTERN)
_FULL_RE = re.compile(rf"^\s*{_PATTERN}\s*$")
# Superset without look-arounds (RE2, used by pyarrow-backed strings, has none): the pre-filter.
_PREFILTER = r"\d{6}[-+]?\d{4}"

REDACTED = "[personnummer]"
"""What ``redact`` puts in place of a number."""


def _luhn_ok(ten: str) -> bool:
    total = 0
    for i, ch in enumerate(ten[:9]):
        d = int(ch) * (2 - i % 2)
        total += d - 9 if d > 9 else d
    return (10 - total % 10) % 10 == int(ten[9])


def _ten_digits(match: str) -> str:
    digits = re.sub(r"\D", "", match)
    return digits[-10:]


def is_personnummer(text: object) -> bool:
    """True when the whole value (surrounding blanks aside) is a valid personnummer/samordningsnummer."""
    if text is None:
        return False
    text = str(text)
    if not _FULL_RE.match(text):
        return False
    return _luhn_ok(_ten_digits(text))


def find_personnummer(text: object) -> list[str]:
    """Every valid personnummer/samordningsnummer embedded in a text, as written."""
    if text is None:
        return []
    return [m.group(0) for m in _RE.finditer(str(text)) if _luhn_ok(_ten_digits(m.group(0)))]


def has_personnummer(text: object) -> bool:
    """True when a text contains a valid personnummer/samordningsnummer anywhere."""
    return bool(find_personnummer(text))


def redact(text: str) -> str:
    """The text with every valid personnummer/samordningsnummer replaced by ``[personnummer]``."""
    if not text or not re.search(_PREFILTER, text):
        return text
    return _RE.sub(lambda m: REDACTED if _luhn_ok(_ten_digits(m.group(0))) else m.group(0), text)


def _luhn_vector(ten: np.ndarray) -> np.ndarray:
    """Luhn check over an (n, 10) array of digits."""
    weights = np.array([2, 1, 2, 1, 2, 1, 2, 1, 2])
    prod = ten[:, :9] * weights
    prod = np.where(prod > 9, prod - 9, prod)
    check = (10 - prod.sum(axis=1) % 10) % 10
    return check == ten[:, 9]


def series_has_personnummer(values: pd.Series) -> pd.Series:
    """Boolean Series: which cells contain a valid personnummer/samordningsnummer anywhere.

    Works on text (any string dtype or object; non-strings are converted) and on numbers
    (integers of 10 or 12 digits are checked, others cannot be one). Missing cells are False.
    """
    out = pd.Series(False, index=values.index)
    if len(values) == 0:
        return out
    dtype = values.dtype
    if pd.api.types.is_bool_dtype(dtype) or pd.api.types.is_datetime64_any_dtype(dtype):
        return out
    if pd.api.types.is_numeric_dtype(dtype):
        num = pd.to_numeric(values, errors="coerce")
        big = num.notna() & (num.abs() >= 1e9) & (num.abs() < 1e12)
        if pd.api.types.is_float_dtype(num.dtype):
            big &= num == np.floor(num)
        if not big.any():
            return out
        text = num[big].astype("int64").abs().astype(str)
    else:
        if pd.api.types.is_string_dtype(dtype) and not pd.api.types.is_object_dtype(dtype):
            text = values
            if text.str.len().max() < 10:  # too short to hold one: skip the regular expression
                return out
        else:
            text = values.map(lambda v: v if v is None or isinstance(v, str) else str(v)).astype("string")
        cand = text.str.contains(_PREFILTER, regex=True, na=False)
        if not cand.any():
            return out
        text = text[cand].astype(str)
    found = text.str.extractall(f"({_PATTERN})")
    if found.empty:
        return out
    digits = found[0].str.replace(r"\D", "", regex=True).str[-10:]
    arr = np.frombuffer("".join(digits).encode("ascii"), dtype=np.uint8).reshape(-1, 10) - ord("0")
    ok = _luhn_vector(arr.astype(np.int64))
    hit_rows = found.index.get_level_values(0)[ok]
    out.loc[hit_rows.unique()] = True
    return out
