"""Text helpers every layer shares: Swedish numbers, safe file-name stems, Swedish alphabetical order.

``slug`` is the one way text from data (an area code, a district name, a report name) becomes
part of a file name: folded to ASCII snake_case, bounded in length, never empty, never a path.
"""

from __future__ import annotations

import hashlib
from decimal import ROUND_HALF_UP, Decimal, localcontext

import numpy as np
import pandas as pd

from insats.contract import fold

__all__ = ["MINUS", "PERCENT_SEP", "SLUG_MAX", "THOUSANDS_SEP", "format_number", "slug", "swedish_key"]

SLUG_MAX = 60
"""Longest stem ``slug`` returns (file systems allow 255 bytes per name; a report name adds a
prefix and a suffix such as ``omradesprofil_…_fel.html``)."""


def slug(text: object, *, fallback: str = "x", max_length: int = SLUG_MAX) -> str:
    """A file-name stem from any text: ``"Jämför områden"`` → ``jamfor_omraden``.

    Only ``a-z``, ``0-9`` and ``_`` remain (``/``, ``..``, control characters and spaces cannot
    survive), so the result is never a path. A stem longer than ``max_length`` is cut and ends in
    8 hex digits of the text's SHA-256, so two long texts that share a beginning stay distinct.
    Empty text gives ``fallback``.
    """
    stem = fold(str(text)) or fallback
    if len(stem) > max_length:
        digest = hashlib.sha256(str(text).encode("utf-8", "surrogatepass")).hexdigest()[:8]
        stem = f"{stem[: max_length - 9].rstrip('_')}_{digest}"
    return stem


def swedish_key(text: object) -> str:
    """Sort key in Swedish alphabetical order: å, ä, ö after z (in that order)."""
    return str(text).lower().translate(str.maketrans("åäö", "{|}"))


THOUSANDS_SEP = "\u202f"
"""Thousands separator: narrow no-break space (Swedish typography; never wraps inside a number)."""

PERCENT_SEP = "\u00a0"
"""Space between a number and ``%`` (no-break, so ``45 %`` stays on one line)."""

MINUS = "\u2212"
"""Minus sign (typographic, U+2212)."""


def format_number(x, decimals: int = 0, percent: bool = False, *, missing: str = "") -> str:
    """A number in Swedish form: ``1 234 567``, ``12,5``, ``45 %``, ``−3``.

    Decimal comma, a narrow no-break space (``THOUSANDS_SEP``) between groups of three digits, the
    minus sign U+2212, and rounding half away from zero (2,5 → 3). With ``percent`` the number is a
    share (0.45) shown as per cent (``45 %``, no-break space before ``%``). Missing values (None,
    NaN, pd.NA) and infinite ones (a ratio over zero) give ``missing``.
    """
    if x is None or x is pd.NA or (isinstance(x, float) and np.isnan(x)):
        return missing
    try:
        if pd.isna(x):
            return missing
    except (TypeError, ValueError):
        pass
    if isinstance(x, (bool, np.bool_)):
        x = int(x)
    value = Decimal(int(x)) if isinstance(x, (int, np.integer)) else Decimal(repr(float(x)))
    if not value.is_finite():  # a ratio over zero (O/E with nothing expected) has no value to show
        return missing
    if percent:
        value *= 100
    quant = Decimal(1).scaleb(-decimals) if decimals > 0 else Decimal(1)
    with localcontext() as ctx:  # enough digits for any float (1e300 with two decimals)
        ctx.prec = max(ctx.prec, value.adjusted() + max(decimals, 0) + 2)
        value = value.quantize(quant, rounding=ROUND_HALF_UP)
    negative = value < 0 and value != 0
    text = f"{abs(value):.{max(decimals, 0)}f}"
    whole, _, frac = text.partition(".")
    groups: list[str] = []
    while len(whole) > 3:
        groups.insert(0, whole[-3:])
        whole = whole[:-3]
    groups.insert(0, whole)
    text = THOUSANDS_SEP.join(groups) + ("," + frac if frac else "")
    if negative:
        text = MINUS + text
    if percent:
        text += PERCENT_SEP + "%"
    return text
