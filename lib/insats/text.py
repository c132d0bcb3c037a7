"""Text helpers every layer shares: safe file-name stems and Swedish alphabetical order.

``slug`` is the one way text from data (an area code, a district name, a report name) becomes
part of a file name: folded to ASCII snake_case, bounded in length, never empty, never a path.
"""

from __future__ import annotations

import hashlib

from insats.contract import fold

__all__ = ["SLUG_MAX", "slug", "swedish_key"]

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
        digest = hashlib.sha256(str(text).encode("utf-8")).hexdigest()[:8]
        stem = f"{stem[: max_length - 9].rstrip('_')}_{digest}"
    return stem


def swedish_key(text: object) -> str:
    """Sort key in Swedish alphabetical order: å, ä, ö after z (in that order)."""
    return str(text).lower().translate(str.maketrans({"å": "{", "ä": "|", "ö": "}"}))
