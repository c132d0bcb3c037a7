"""Pseudonyms: keyed hashes (HMAC-SHA-256) of person and household identifiers, and the key.

See ``insats.intake.pseudonymise`` for how they are used and the guarantees (same key, same
pseudonyms in every run; never a pseudonym that looks like a personnummer; collisions stop the
run). The key file holds 32 random bytes in hex, created with mode 0600 when absent.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import re
import secrets
from pathlib import Path

import pyarrow as pa

from insats.data.personnummer import has_personnummer, number_key, scan
from insats.errors import PseudonymiseError

__all__ = [
    "HEX_CHARS",
    "KEY_BYTES",
    "PREFIX",
    "Pseudonymiser",
    "cell_text",
    "load_or_create_key",
    "scrub_json",
    "without_metadata",
]

PREFIX = {"person": "P", "hushall": "H"}
HEX_CHARS = 16
KEY_BYTES = 32


def load_or_create_key(key_file: str | Path) -> tuple[bytes, bool]:
    """The key in ``key_file`` (hex); creates it (32 random bytes, mode 0600) when absent."""
    key_file = Path(key_file)
    if key_file.is_dir():
        raise PseudonymiseError(
            f"Nyckelfilen {key_file} är en mapp. Ange en fil, t.ex. {key_file / 'insats.key'} "
            "(den skapas om den inte finns)."
        )
    if key_file.exists():
        try:
            text = key_file.read_text(encoding="ascii").strip()
            key = bytes.fromhex(text)
        except (UnicodeDecodeError, ValueError):
            raise PseudonymiseError(
                f"Nyckelfilen {key_file} kan inte läsas: den ska innehålla nyckeln i hexadecimal form."
            ) from None
        if len(key) < 16:
            raise PseudonymiseError(f"Nyckeln i {key_file} är för kort (minst 16 byte, helst {KEY_BYTES}).")
        return key, False
    key_file.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    key = secrets.token_bytes(KEY_BYTES)
    fd = os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="ascii") as fh:
        fh.write(key.hex() + "\n")
    os.chmod(key_file, 0o600)
    return key, True


# The rule that re-derives a pseudonym, frozen as it was first written so that a key gives the
# same pseudonyms in every version: ten digits (or twelve with century 18-20) with month 01-12,
# day 01-31 or 61-91 and a valid check digit. It flags every hex string the detector flags.
_DERIVE_RE = re.compile(
    r"(?<!\d)(?:(?:18|19|20)\d{2}|\d{2})(?:0[1-9]|1[0-2])(?:0[1-9]|[12]\d|3[01]|6[1-9]|[78]\d|9[01])\d{4}(?!\d)"
)


def _luhn_ok(ten: str) -> bool:
    total = 0
    for i, ch in enumerate(ten[:9]):
        d = int(ch) * (2 - i % 2)
        total += d - 9 if d > 9 else d
    return (10 - total % 10) % 10 == int(ten[9])


def _looks_like_personnummer(text: str) -> bool:
    return any(_luhn_ok(m.group(0)[-10:]) for m in _DERIVE_RE.finditer(text)) or has_personnummer(text)


class Pseudonymiser:
    """Pseudonyms under one key, remembered for the run (and checked for collisions)."""

    def __init__(self, key: bytes):
        self._key = key
        self._cache: dict[tuple[str, str], str] = {}
        self._owner: dict[str, tuple[str, str]] = {}
        self._raw: dict[tuple[str, str], str] = {}

    def pseudonym(self, kind: str, identifier: str) -> str:
        k = (kind, identifier)
        hit = self._cache.get(k)
        if hit is not None:
            return hit

        msg = f"{kind}\x1f{identifier}".encode()
        for attempt in range(100):
            # A pseudonym must never look like a personnummer (ten decimal digits in a row can
            # occur in hex, ~1 in 2 000): then derive the next one, deterministically.
            data = msg if attempt == 0 else msg + f"\x1f{attempt}".encode()
            out = PREFIX[kind] + hmac.new(self._key, data, hashlib.sha256).hexdigest()[:HEX_CHARS]
            if not _looks_like_personnummer(out):
                break
        prev = self._owner.get(out)
        if prev is not None and prev != k:
            raise PseudonymiseError(
                "Två olika identiteter fick samma pseudonym (en kollision, mycket osannolik). "
                "Inget har skrivits. Skapa en ny nyckel och kör igen."
            )
        self._owner[out] = k
        self._cache[k] = out
        return out

    def identifier(self, kind: str, value: object) -> str:
        """Pseudonym of an identifier cell's value (a personnummer, in any form, by its 10-digit key)."""
        raw_key = (kind, value if isinstance(value, str) else repr(value))
        hit = self._raw.get(raw_key)
        if hit is not None:
            return hit
        text = cell_text(value) or ""
        matches = scan(value if not isinstance(value, str) else text)
        whole = len(matches) == 1 and not text[: matches[0].start].strip() and not text[matches[0].end :].strip()
        if not isinstance(value, str) and matches:
            whole = True
        out = self.pseudonym(kind, "pnr:" + matches[0].key if whole else text.strip())
        self._raw[raw_key] = out
        return out

    def scrub(self, text: str, *, lost_zero: bool = True) -> tuple[str, bool]:
        """Text with every personnummer replaced by the person's pseudonym."""
        matches = scan(text, lost_zero=lost_zero)
        if not matches:
            return text, False
        for m in reversed(matches):
            text = text[: m.start] + self.pseudonym("person", "pnr:" + m.key) + text[m.end :]
        return text, True

    def number(self, value: object, *, lost_zero: bool = True) -> str | None:
        """The pseudonym when a number is a personnummer written as a number, else None."""
        key = number_key(value, lost_zero=lost_zero)
        return None if key is None else self.pseudonym("person", "pnr:" + key)

    def distinct(self) -> dict[str, int]:
        out: dict[str, int] = {}
        for kind, _ in self._cache:
            out[kind] = out.get(kind, 0) + 1
        return out


def cell_text(v) -> str | None:
    """A cell as the text a pseudonym is made of: whole floats without ``.0``; None for empty and booleans."""
    if v is None or isinstance(v, bool):
        return None
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    if isinstance(v, (int, float, str)):
        return str(v)
    return None


def scrub_json(node, ps: Pseudonymiser):
    """A JSON value with every personnummer (in keys, texts and numbers) pseudonymised."""
    if isinstance(node, dict):
        return {ps.scrub(str(k))[0]: scrub_json(v, ps) for k, v in node.items()}
    if isinstance(node, list):
        return [scrub_json(v, ps) for v in node]
    if isinstance(node, str):
        return ps.scrub(node)[0]
    if isinstance(node, (int, float)) and not isinstance(node, bool):
        return ps.number(node) or node
    return node


def without_metadata(table: pa.Table, ps: Pseudonymiser) -> tuple[pa.Table, list[str]]:
    """A Parquet table with no key-value metadata but the ``pandas`` entry (what pandas needs to
    read it back; its personnummer pseudonymised), and the names of the entries removed: the other
    entries of the schema and every column's, where a personnummer could hide and nothing the
    analysis needs is kept."""
    meta = dict(table.schema.metadata or {})
    keep: dict[bytes, bytes] = {}
    if b"pandas" in meta:
        try:
            doc = json.loads(meta[b"pandas"].decode("utf-8"))
            keep[b"pandas"] = json.dumps(scrub_json(doc, ps), ensure_ascii=False).encode("utf-8")
        except (ValueError, RecursionError):  # unreadable: removed like any other entry
            pass
    dropped = [k.decode("utf-8", errors="replace") for k in meta if k not in keep]
    dropped += [f"{f.name}: {k.decode('utf-8', errors='replace')}" for f in table.schema for k in f.metadata or {}]
    if not dropped and keep == meta:
        return table, []
    schema = pa.schema([f.remove_metadata() for f in table.schema], metadata=keep or None)
    return pa.Table.from_arrays(table.columns, schema=schema), dropped
