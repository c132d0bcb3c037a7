"""Replace person and household identifiers in a study folder with keyed hashes.

``pseudonymise(in_dir, out_dir, key_file=...)`` copies a study folder, replacing

* every value of the identifier columns ``person_id`` and ``hushall_id`` (in every table and file
  that has them, matched by column name or Swedish label) with a pseudonym, and
* every personnummer/samordningsnummer found in any other cell (whole cell or embedded in text)
  with the pseudonym of that person,

and changes nothing else: each file keeps its format, separator, encoding, quoting, line endings
and column order (CSV is handled as text, never typed).

**Pseudonyms.** HMAC-SHA-256 with a secret key over ``"<kind>\\x1f<identifier>"``; the pseudonym is
``P`` (person) or ``H`` (household) followed by the first 16 hex characters (64 bits) of the MAC.
A personnummer is hashed in its 10-digit form ``YYMMDDNNNC`` (no century, no separator), so
``19121212-1212``, ``191212121212`` and ``121212-1212`` get the same pseudonym wherever they are;
any other identifier is hashed as written (surrounding blanks removed). The same key gives the
same pseudonyms in every run, so monthly extracts can be linked; a different key gives unlinkable
ones. Without the key, pseudonyms cannot be reversed or recomputed from a personnummer.

A pseudonym never looks like a personnummer: in the rare case (about 1 in 2 000) that the hex
holds ten digits in a row that pass the check, the MAC is recomputed over the input with a counter
appended until it does not (deterministic for a given key).

**Collisions.** Two different identifiers get the same 64-bit pseudonym with probability about
n² / 2⁶⁵ (n distinct identifiers): ~3·10⁻⁸ for a million persons. Every run checks for it and
stops with an error (nothing written) if it happens; use a new key then.

**The key** is a file of 32 random bytes in hex, created (mode 0600) when absent. It must be kept
outside the output, the input and any git repository; ``pseudonymise`` refuses such paths.

The output is written to a temporary folder next to ``out_dir`` and renamed into place, so an
interrupted run leaves no half-written study.
"""

from __future__ import annotations

import csv
import hashlib
import hmac
import io
import os
import re
import secrets
import shutil
import stat
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
from openpyxl import load_workbook

from insats.contract import TABLES, fold
from insats.data.personnummer import find_personnummer, has_personnummer, is_personnummer
from insats.errors import PseudonymiseError

__all__ = [
    "CsvFormat",
    "PseudonymiseError",
    "PseudonymiseSummary",
    "load_or_create_key",
    "pseudonymise",
    "read_csv_text",
    "write_csv_text",
]

PREFIX = {"person": "P", "hushall": "H"}
HEX_CHARS = 16
KEY_BYTES = 32

ID_COLUMNS: dict[str, str] = {}
"""Folded header -> identifier kind (``person``/``hushall``), from contract names and labels."""
for _t in TABLES.values():
    for _c in _t.columns:
        if _c.name in ("person_id", "hushall_id"):
            ID_COLUMNS[_c.name] = ID_COLUMNS[fold(_c.label)] = "person" if _c.name == "person_id" else "hushall"
del _t, _c

CSV_SUFFIXES = (".csv", ".txt")
EXCEL_SUFFIXES = (".xlsx", ".xlsm")
PARQUET_SUFFIXES = (".parquet", ".pq")
TEXT_SUFFIXES = (".json", ".yaml", ".yml", ".md", ".tsv")


@dataclass
class PseudonymiseSummary:
    """What ``pseudonymise`` did. Holds no identifier and no personnummer."""

    in_dir: Path
    out_dir: Path
    key_file: Path
    key_created: bool = False
    files: list[str] = field(default_factory=list)
    """Tables (files or workbook sheets) processed."""
    copied: list[str] = field(default_factory=list)
    """Other files copied unchanged (checked for personnummer first)."""
    skipped: list[str] = field(default_factory=list)
    """Files and folders not copied to the output."""
    identifiers: dict[str, int] = field(default_factory=dict)
    """``"personer.csv, kolumn person_id"`` -> number of cells replaced."""
    personnummer: dict[str, int] = field(default_factory=dict)
    """``"anteckningar.csv, kolumn notering"`` -> cells where personnummer were replaced."""
    distinct: dict[str, int] = field(default_factory=dict)
    """Kind (``person``/``hushall``) -> distinct identifiers pseudonymised."""
    warnings: list[str] = field(default_factory=list)

    def format(self) -> str:
        lines = [f"Pseudonymiserad kopia skriven till {self.out_dir}."]
        if self.key_created:
            lines.append(f"Ny nyckel skapad: {self.key_file}. Förvara den säkert, utanför studiemappen och git.")
        else:
            lines.append(f"Nyckel: {self.key_file}.")
        for where, n in self.identifiers.items():
            lines.append(f"  {where}: {n} värden ersatta")
        for where, n in self.personnummer.items():
            lines.append(f"  {where}: personnummer i {n} celler ersatta")
        for kind, n in self.distinct.items():
            lines.append(f"  {'personer' if kind == 'person' else 'hushåll'}: {n} olika")
        if self.copied:
            lines.append("Kopierade oförändrade: " + ", ".join(self.copied))
        if self.skipped:
            lines.append("Inte kopierade: " + ", ".join(self.skipped))
        for w in self.warnings:
            lines.append(f"Varning: {w}")
        return "\n".join(lines)


# --------------------------------------------------------------------------- key
def _inside(path: Path, folder: Path) -> bool:
    try:
        path.relative_to(folder)
        return True
    except ValueError:
        return False


def _git_root(path: Path) -> Path | None:
    for parent in [path, *path.parents]:
        if (parent / ".git").exists():
            return parent
    return None


def load_or_create_key(key_file: str | Path) -> tuple[bytes, bool]:
    """The key in ``key_file`` (hex); creates it (32 random bytes, mode 0600) when absent."""
    key_file = Path(key_file)
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


# --------------------------------------------------------------------------- hashing
class _Pseudonymiser:
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
            if not find_personnummer(out):
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

    def identifier(self, kind: str, value: str) -> str:
        """Pseudonym of an identifier cell's value (a personnummer is taken in 10-digit form)."""
        hit = self._raw.get((kind, value))
        if hit is not None:
            return hit

        text = value.strip()
        out = self.pseudonym(kind, _pnr_key(text) if is_personnummer(text) else text)
        self._raw[(kind, value)] = out
        return out

    def scrub(self, text: str) -> tuple[str, bool]:
        """Text with every embedded personnummer replaced by the person's pseudonym."""
        if not _CANDIDATE.search(text):
            return text, False

        found = find_personnummer(text)
        if not found:
            return text, False
        for m in sorted(set(found), key=len, reverse=True):
            rep = self.pseudonym("person", _pnr_key(m))
            text = re.sub(rf"(?<!\d){re.escape(m)}(?!\d)", rep, text)
        return text, True

    def distinct(self) -> dict[str, int]:
        out: dict[str, int] = {}
        for kind, _ in self._cache:
            out[kind] = out.get(kind, 0) + 1
        return out


_CANDIDATE = re.compile(r"\d{6}[-+]?\d{4}")
"""Cheap pre-filter: a cell without this cannot hold a personnummer."""


def _pnr_key(text: str) -> str:
    digits = re.sub(r"\D", "", text)
    return "pnr:" + digits[-10:]


# --------------------------------------------------------------------------- CSV as text
@dataclass(frozen=True)
class CsvFormat:
    """How a CSV file was written, so that it can be written back the same way."""

    encoding: str  # utf-8, utf-8-sig (with BOM) or cp1252
    sep: str
    lineterminator: str
    quote_all: bool
    final_newline: bool


def read_csv_text(path: str | Path):
    """A CSV file as a list of rows of text (header first) and its :class:`CsvFormat`."""
    data = Path(path).read_bytes()
    if data.startswith(b"\xef\xbb\xbf"):
        encoding, text = "utf-8-sig", data[3:].decode("utf-8")
    else:
        try:
            encoding, text = "utf-8", data.decode("utf-8")
        except UnicodeDecodeError:
            encoding, text = "cp1252", data.decode("cp1252")
    first = text.split("\n", 1)[0]
    counts = {s: first.count(s) for s in (";", ",", "\t")}
    sep = max(counts, key=lambda s: counts[s]) if any(counts.values()) else ","
    term = "\r\n" if first.endswith("\r") else "\n"
    rows = list(csv.reader(io.StringIO(text, newline=""), delimiter=sep))
    header_fields = first.rstrip("\r").split(sep)
    quote_all = bool(header_fields) and all(len(f) >= 2 and f[0] == f[-1] == '"' for f in header_fields)
    final_newline = text.endswith("\n") or text == ""
    return rows, CsvFormat(encoding, sep, term, quote_all, final_newline)


def write_csv_text(rows: list[list[str]], path: str | Path, fmt: CsvFormat) -> None:
    buf = io.StringIO(newline="")
    w = csv.writer(
        buf,
        delimiter=fmt.sep,
        lineterminator=fmt.lineterminator,
        quoting=csv.QUOTE_ALL if fmt.quote_all else csv.QUOTE_MINIMAL,
    )
    w.writerows(rows)
    text = buf.getvalue()
    if not fmt.final_newline and text.endswith(fmt.lineterminator):
        text = text[: -len(fmt.lineterminator)]
    with open(path, "w", encoding=fmt.encoding, newline="") as fh:
        fh.write(text)


# --------------------------------------------------------------------------- per format
def _count(d: dict[str, int], key: str, n: int = 1) -> None:
    if n:
        d[key] = d.get(key, 0) + n


def _do_csv(src: Path, dst: Path, ps: _Pseudonymiser, summary: PseudonymiseSummary) -> None:
    rows, fmt = read_csv_text(src)
    if not rows:
        shutil.copy2(src, dst)
        return
    header = rows[0]
    kinds = {i: ID_COLUMNS.get(fold(h)) for i, h in enumerate(header)}
    for i, h in enumerate(header):  # a personnummer as a header is still one
        new, hit = ps.scrub(h)
        if hit:
            header[i] = new
            _count(summary.personnummer, f"{src.name}, rubrikraden")
    for row in rows[1:]:
        for i, v in enumerate(row):
            kind = kinds.get(i)
            if kind and v.strip():
                row[i] = ps.identifier(kind, v)
                _count(summary.identifiers, f"{src.name}, kolumn {header[i]}")
            elif v:
                new, hit = ps.scrub(v)
                if hit:
                    row[i] = new
                    col = header[i] if i < len(header) else f"nr {i + 1}"
                    _count(summary.personnummer, f"{src.name}, kolumn {col}")
    write_csv_text(rows, dst, fmt)
    summary.files.append(src.name)


def _cell_text(v) -> str | None:
    if v is None or isinstance(v, bool):
        return None
    if isinstance(v, float) and v == int(v):
        return str(int(v))
    if isinstance(v, (int, float, str)):
        return str(v)
    return None


def _do_excel(src: Path, dst: Path, ps: _Pseudonymiser, summary: PseudonymiseSummary) -> None:

    wb = load_workbook(src, keep_vba=src.suffix.lower() == ".xlsm")
    for ws in wb.worksheets:
        where = f"{src.name}, blad {ws.title}"
        header = {}
        for cell in next(ws.iter_rows(min_row=1, max_row=1), ()):
            if cell.value is not None:
                header[cell.column] = str(cell.value)
        kinds = {c: ID_COLUMNS.get(fold(h)) for c, h in header.items()}
        for row in ws.iter_rows():
            for cell in row:
                v = cell.value
                text = _cell_text(v)
                if text is None:
                    continue
                col_name = header.get(cell.column, cell.column_letter)
                kind = kinds.get(cell.column) if cell.row > 1 else None
                if kind and text.strip():
                    cell.value = ps.identifier(kind, text)
                    _count(summary.identifiers, f"{where}, kolumn {col_name}")
                    continue
                new, hit = ps.scrub(text)
                if hit:
                    cell.value = new
                    _count(summary.personnummer, f"{where}, kolumn {col_name}")
        summary.files.append(where)
    wb.save(dst)


def _do_parquet(src: Path, dst: Path, ps: _Pseudonymiser, summary: PseudonymiseSummary) -> None:

    pf = pq.ParquetFile(src)
    compression = "snappy"
    if pf.metadata.num_row_groups and pf.metadata.num_columns:
        compression = pf.metadata.row_group(0).column(0).compression.lower()
        if compression == "uncompressed":
            compression = "none"
    table = pf.read()
    for i, name in enumerate(table.column_names):
        col = table.column(i)
        typ = col.type
        kind = ID_COLUMNS.get(fold(name))
        scannable = pa.types.is_string(typ) or pa.types.is_large_string(typ) or pa.types.is_integer(typ)
        if not kind and not scannable:
            continue
        values = col.to_pylist()
        changed = 0
        out = []
        for v in values:
            text = _cell_text(v)
            if text is None:
                out.append(v)
                continue
            if kind and text.strip():
                out.append(ps.identifier(kind, text))
                changed += 1
                continue
            new, hit = ps.scrub(text)
            out.append(new if hit else v)
            changed += hit
        if not changed:
            continue
        key = f"{src.name}, kolumn {name}"
        _count(summary.identifiers if kind else summary.personnummer, key, changed)
        if pa.types.is_integer(typ):  # pseudonyms are text: the column becomes a string column
            out = [None if v is None else (v if isinstance(v, str) else str(v)) for v in out]
            new_type = pa.string()
        else:
            new_type = typ
        field_ = table.schema.field(i).with_type(new_type)
        table = table.set_column(i, field_, pa.array(out, type=new_type))
    pq.write_table(table, dst, compression=compression)
    summary.files.append(src.name)


def _check_other_file(src: Path, ps: _Pseudonymiser) -> bool:
    """True when a non-table file is text without personnummer (safe to copy unchanged)."""

    data = src.read_bytes()
    if b"\x00" in data[:8192]:
        return False
    for enc in ("utf-8-sig", "cp1252"):
        try:
            text = data.decode(enc)
            break
        except UnicodeDecodeError:
            continue
    else:
        return False
    if has_personnummer(text):
        raise PseudonymiseError(
            f"Filen {src.name} är ingen tabell men innehåller något som liknar ett personnummer. "
            "Ta bort eller rätta filen och kör igen. Inget har skrivits."
        )
    return True


# --------------------------------------------------------------------------- main
def pseudonymise(
    in_dir: str | Path,
    out_dir: str | Path,
    *,
    key_file: str | Path,
    overwrite: bool = False,
) -> PseudonymiseSummary:
    """Write a pseudonymised copy of the study folder ``in_dir`` to ``out_dir``.

    Raises :class:`PseudonymiseError` (Swedish message; nothing written) when the paths are
    unsafe (key inside the input, the output or a git repository; output inside the input),
    when ``out_dir`` exists and is not empty (unless ``overwrite``), when a non-table file holds
    a personnummer, or when two identifiers collide.
    """
    in_dir = Path(in_dir).resolve()
    out_dir = Path(out_dir).resolve()
    key_path = Path(key_file).expanduser().resolve()
    if not in_dir.is_dir():
        raise PseudonymiseError(f"Studiemappen {in_dir} finns inte.")
    if out_dir == in_dir or _inside(out_dir, in_dir) or _inside(in_dir, out_dir):
        raise PseudonymiseError("Utmappen får inte vara studiemappen eller ligga i den (eller tvärtom).")
    if _inside(key_path, out_dir):
        raise PseudonymiseError(
            f"Nyckelfilen {key_path} ligger i utmappen {out_dir}. Nyckeln får aldrig följa med de "
            "pseudonymiserade data; lägg den utanför."
        )
    if _inside(key_path, in_dir):
        raise PseudonymiseError(
            f"Nyckelfilen {key_path} ligger i studiemappen {in_dir}. Lägg nyckeln utanför studiemappen."
        )
    root = _git_root(key_path.parent)
    if root is not None:
        raise PseudonymiseError(
            f"Nyckelfilen {key_path} ligger i git-arkivet {root}. Nyckeln får inte hamna i ett arkiv; lägg den utanför."
        )
    if out_dir.exists() and not out_dir.is_dir():
        raise PseudonymiseError(f"{out_dir} finns redan och är ingen mapp.")
    if out_dir.exists() and any(out_dir.iterdir()) and not overwrite:
        raise PseudonymiseError(f"Utmappen {out_dir} finns redan och är inte tom. Välj en ny mapp.")

    key, created = load_or_create_key(key_path)
    summary = PseudonymiseSummary(in_dir, out_dir, key_path, key_created=created)
    mode = stat.S_IMODE(key_path.stat().st_mode)
    if mode & 0o077:
        summary.warnings.append(f"nyckelfilen kan läsas av andra användare (rättigheter {mode:o}); ändra till 600.")
    ps = _Pseudonymiser(key)

    out_dir.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.", suffix=".tmp", dir=out_dir.parent))
    try:
        for src in sorted(in_dir.iterdir()):
            if src.name.startswith((".", "~$")):
                summary.skipped.append(src.name)
                continue
            if src.is_dir():
                summary.skipped.append(src.name + "/")
                continue
            dst = tmp / src.name
            suffix = src.suffix.lower()
            try:
                if suffix in CSV_SUFFIXES:
                    _do_csv(src, dst, ps, summary)
                elif suffix in EXCEL_SUFFIXES:
                    _do_excel(src, dst, ps, summary)
                elif suffix in PARQUET_SUFFIXES:
                    _do_parquet(src, dst, ps, summary)
                elif _check_other_file(src, ps):
                    shutil.copy2(src, dst)
                    summary.copied.append(src.name)
                else:
                    summary.skipped.append(src.name)
            except PseudonymiseError:
                raise
            except Exception as exc:
                raise PseudonymiseError(
                    f"Filen {src.name} kunde inte behandlas ({type(exc).__name__}). Inget har skrivits."
                ) from exc
        summary.distinct = ps.distinct()
        if out_dir.exists():
            old = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.", suffix=".old", dir=out_dir.parent))
            old.rmdir()
            os.replace(out_dir, old)
            os.replace(tmp, out_dir)
            shutil.rmtree(old, ignore_errors=True)
        else:
            os.replace(tmp, out_dir)
        os.chmod(out_dir, 0o755 & ~_umask())
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return summary


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask
