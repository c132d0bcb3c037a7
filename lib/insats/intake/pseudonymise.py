"""Replace person and household identifiers in a study folder with keyed hashes.

``pseudonymise(in_dir, out_dir, key_file=...)`` copies a study folder, replacing

* every value of the identifier columns ``person_id`` and ``hushall_id`` (in every table and file
  that has them, matched by column name or Swedish label) with a pseudonym, and
* every personnummer/samordningsnummer found in any other cell (whole cell or embedded in text)
  with the pseudonym of that person,

and changes nothing else: each file keeps its format, separator, encoding, quoting, line endings
and column order (CSV is handled as text, never typed). Personnummer are found by
``insats.data.personnummer``, the same code ``insats validate`` uses: the written forms with or
without spaces and hyphens, full-width digits, numbers (``8503151238.0``, ``503151235`` that lost
its leading zero, in Excel cells and Parquet columns of any type, categorical included). A Parquet
file keeps only the ``pandas`` entry of its key-value metadata (pseudonymised); other entries, of
the file and of its columns, are removed (and named in a warning).

**Names too.** A file or sheet whose name holds a personnummer gets the pseudonym in its place
(``brev_850315-1238.txt`` -> ``brev_P1a2b….txt``). Workbooks are written with their stored
values (a formula becomes its value, so no personnummer can hide in a formula), through
``insats.xlsx`` (text stays text).

**Refusing.** Before the copy is put in place, every file, name, sheet, header and cell of it is
checked again (``insats.data.validate.personnummer_places``, and the raw XML of workbooks). If
anything still looks like a personnummer — a nested Parquet column, a text file that is not a
table, a file that cannot be read — ``PseudonymiseError`` says where (never what) and nothing is
left behind. Nothing that is printed holds a personnummer. A symbolic link to a file (it could
point at the key or any file of the computer) and a file that is not a regular file (a named pipe)
stop the run too: links are never followed (a linked folder is skipped like any folder).

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

The output is written to a temporary folder next to ``out_dir`` (named with
``insats.atomic.TEMP_PREFIX``, readable by the owner only, holding a marker file with the process
id) and renamed into place, so an interrupted run leaves no half-written study; a folder left by a
run that was killed (``kill -9``, a power cut) is removed at the start of the next run.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import stat
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
from openpyxl import load_workbook

from insats.atomic import TEMP_PREFIX, atomic_dir
from insats.contract import TABLES, fold
from insats.data.files import (
    CsvFormat,
    check_workbook,
    count_formulas_without_value,
    decode_bytes,
    not_a_regular_file,
    read_csv_text,
    write_csv_text,
)
from insats.data.personnummer import has_personnummer, redact
from insats.data.screening import lost_zero_applies, personnummer_places
from insats.errors import DataError, PseudonymiseError, printable
from insats.intake.pseudonyms import Pseudonymiser, cell_text, load_or_create_key, scrub_json, without_metadata
from insats.xlsx import save_workbook, sheet_title

__all__ = [
    "CsvFormat",
    "PseudonymiseError",
    "PseudonymiseSummary",
    "load_or_create_key",
    "pseudonymise",
    "read_csv_text",
    "write_csv_text",
]

MARKER = ".insats-pseudonymise-pagar"
"""A file in the temporary folder while a run is going on; it holds the run's process id."""

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
JSON_SUFFIXES = (".json",)


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
    renamed: int = 0
    """Files and sheets whose name held a personnummer (renamed with the pseudonym)."""
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
        if self.renamed:
            lines.append(
                f"{self.renamed} filer eller blad hade ett personnummer i namnet och fick pseudonymen i stället."
            )
        if self.copied:
            lines.append("Kopierade oförändrade: " + ", ".join(self.copied))
        if self.skipped:
            lines.append("Inte kopierade: " + ", ".join(self.skipped))
        for w in self.warnings:
            lines.append(f"Varning: {w}")
        return printable(redact("\n".join(lines)))


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


# --------------------------------------------------------------------------- per format
def _count(d: dict[str, int], key: str, n: int = 1) -> None:
    if n:
        d[key] = d.get(key, 0) + n


def _lost_zero(header: object) -> bool:
    """As ``insats validate``: a 9-digit amount in a number column is not a personnummer."""
    return lost_zero_applies(None, str(header))


def _do_csv(src: Path, dst: Path, shown: str, ps: Pseudonymiser, summary: PseudonymiseSummary) -> None:
    rows, fmt = read_csv_text(src)
    if not rows:
        shutil.copyfile(src, dst)
        summary.files.append(shown)
        return
    header = rows[0]
    kinds = {i: ID_COLUMNS.get(fold(h)) for i, h in enumerate(header)}
    lost_zero = {i: _lost_zero(h) for i, h in enumerate(header)}
    for i, h in enumerate(header):  # a personnummer as a header is still one
        new, hit = ps.scrub(h)
        if hit:
            header[i] = new
            _count(summary.personnummer, f"{shown}, rubrikraden")
    for row in rows[1:]:
        for i, v in enumerate(row):
            kind = kinds.get(i)
            if kind and v.strip():
                row[i] = ps.identifier(kind, v)
                _count(summary.identifiers, f"{shown}, kolumn {header[i]}")
            elif v:
                new, hit = ps.scrub(v, lost_zero=lost_zero.get(i, True))
                if hit:
                    row[i] = new
                    col = header[i] if i < len(header) else f"nr {i + 1}"
                    _count(summary.personnummer, f"{shown}, kolumn {col}")
    write_csv_text(rows, dst, fmt)
    summary.files.append(shown)


def _do_excel(src: Path, dst: Path, shown: str, ps: Pseudonymiser, summary: PseudonymiseSummary) -> None:
    # Stored values, not formulas: a personnummer cannot hide in a formula, and nothing runs.
    check_workbook(src)
    empty = count_formulas_without_value(src)
    if empty:
        summary.warnings.append(
            f"{shown}: {empty} {'formelcell' if empty == 1 else 'formelceller'} utan sparat värde blev tomma i "
            "kopian; öppna originalet i Excel, spara det och kör igen."
        )
    wb = load_workbook(src, data_only=True, keep_vba=src.suffix.lower() == ".xlsm")
    props = wb.properties
    for name in ("creator", "lastModifiedBy", "title", "subject", "description", "keywords", "category"):
        value = getattr(props, name, None)
        if isinstance(value, str) and has_personnummer(value):
            setattr(props, name, ps.scrub(value)[0])
            _count(summary.personnummer, f"{shown}, dokumentegenskaper")
    taken: set[str] = set()
    for ws in wb.worksheets:
        title, hit = ps.scrub(ws.title)
        if hit:
            ws.title = sheet_title(title, taken | {w.title for w in wb.worksheets if w is not ws})
            summary.renamed += 1
        taken.add(ws.title)
        where = f"{shown}, blad {ws.title}"
        header = {}
        for cell in next(ws.iter_rows(min_row=1, max_row=1), ()):
            if cell.value is not None:
                header[cell.column] = str(cell.value)
        kinds = {c: ID_COLUMNS.get(fold(h)) for c, h in header.items()}
        for row in ws.iter_rows():
            for cell in row:
                v = cell.value
                if cell.comment is not None and has_personnummer(cell.comment.text):
                    cell.comment.text, _ = ps.scrub(cell.comment.text)
                    _count(summary.personnummer, f"{where}, kommentarer")
                text = cell_text(v)
                if text is None:
                    continue
                col_name = header.get(cell.column, cell.column_letter)
                kind = kinds.get(cell.column) if cell.row > 1 else None
                if kind and text.strip():
                    cell.value = ps.identifier(kind, v)
                    _count(summary.identifiers, f"{where}, kolumn {col_name}")
                    continue
                lost_zero = _lost_zero(col_name)
                new: str | None
                if isinstance(v, str):
                    new, hit = ps.scrub(v, lost_zero=lost_zero)
                else:
                    new = ps.number(v, lost_zero=lost_zero)
                    hit = new is not None
                if hit:
                    cell.value = new
                    _count(summary.personnummer, f"{where}, kolumn {col_name}")
        summary.files.append(where)
    save_workbook(wb, dst)


def _replace_column(values: list, kind: str | None, lost_zero: bool, ps: Pseudonymiser) -> tuple[list, int]:
    out: list[Any] = []
    changed = 0
    new: Any
    for v in values:
        if v is None or isinstance(v, bool):
            out.append(v)
            continue
        if kind and (cell_text(v) or "").strip():
            out.append(ps.identifier(kind, v))
            changed += 1
            continue
        if isinstance(v, str):
            new, hit = ps.scrub(v, lost_zero=lost_zero)
        elif isinstance(v, bytes):
            try:
                new, hit = ps.scrub(v.decode("utf-8"), lost_zero=lost_zero)
                new = new.encode("utf-8")
            except UnicodeDecodeError:
                new, hit = v, False
        else:
            new = ps.number(v, lost_zero=lost_zero)
            hit = new is not None
        out.append(new if hit else v)
        changed += hit
    return out, changed


def _do_parquet(src: Path, dst: Path, shown: str, ps: Pseudonymiser, summary: PseudonymiseSummary) -> None:
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
        dictionary = pa.types.is_dictionary(typ)
        value_type = typ.value_type if dictionary else typ
        if dictionary:
            col = col.cast(value_type) if col.num_chunks else pa.chunked_array([], value_type)
        plain = (
            pa.types.is_string(value_type)
            or pa.types.is_large_string(value_type)
            or pa.types.is_integer(value_type)
            or pa.types.is_floating(value_type)
            or pa.types.is_decimal(value_type)
            or pa.types.is_binary(value_type)
            or pa.types.is_large_binary(value_type)
        )
        if not plain:  # nested and other types cannot be rewritten here: the final check decides
            continue
        kind = ID_COLUMNS.get(fold(name))
        values = col.to_pylist()
        if pa.types.is_decimal(value_type):
            values = [None if v is None else (int(v) if v == v.to_integral_value() else float(v)) for v in values]
        out, changed = _replace_column(values, kind, _lost_zero(name), ps)
        if not changed:
            continue
        key = f"{shown}, kolumn {name}"
        _count(summary.identifiers if kind else summary.personnummer, key, changed)
        if any(
            f(value_type)
            for f in (pa.types.is_binary, pa.types.is_large_binary, pa.types.is_string, pa.types.is_large_string)
        ):
            new_type = value_type
        else:  # pseudonyms are text: a number column becomes a text column
            out = [None if v is None else (v if isinstance(v, str) else cell_text(v) or str(v)) for v in out]
            new_type = pa.string()
        array = pa.array(out, type=new_type)
        if dictionary:
            array = pc.dictionary_encode(array)
        field_ = table.schema.field(i).with_type(array.type)
        table = table.set_column(i, field_, array)
    table, dropped = without_metadata(table, ps)
    if dropped:
        summary.warnings.append(
            f"{shown}: metadata som inte behövs för tabellen togs bort i kopian ({', '.join(dropped[:10])}"
            f"{' …' if len(dropped) > 10 else ''})."
        )
    pq.write_table(table, dst, compression=compression)
    summary.files.append(shown)


def _do_other(src: Path, dst: Path, shown: str, ps: Pseudonymiser, summary: PseudonymiseSummary) -> None:
    """A file that is not a table: copied when it is text without personnummer; a JSON file has
    them pseudonymised; other text with one stops the run; binary files are not copied."""
    data = src.read_bytes()
    try:
        text, encoding = decode_bytes(data)
    except DataError:
        summary.skipped.append(shown)
        return
    if not has_personnummer(text):
        shutil.copyfile(src, dst)
        summary.copied.append(shown)
        return
    if src.suffix.lower() in JSON_SUFFIXES:
        try:
            doc = json.loads(text)
            out = json.dumps(scrub_json(doc, ps), ensure_ascii=False, indent=2) + "\n"
        except (ValueError, RecursionError):
            out = None
        if out is not None and not has_personnummer(out):
            dst.write_text(out, encoding="utf-8" if encoding.startswith("utf-8") else encoding)
            _count(summary.personnummer, f"{shown}, text")
            summary.files.append(shown)
            return
    raise PseudonymiseError(
        f"Filen {shown} är ingen tabell men innehåller något som liknar ett personnummer. "
        "Ta bort eller rätta filen och kör igen. Inget har skrivits."
    )


# --------------------------------------------------------------------------- the final check
def _xlsx_parts_places(path: Path, shown: str) -> list[str]:
    """Every part of a workbook (comments, properties, names ...) as text: a personnummer the
    cell check cannot see is found here."""
    places = []
    try:
        with zipfile.ZipFile(path) as zf:
            for info in zf.infolist():
                if not info.filename.endswith((".xml", ".rels", ".vml")):
                    continue
                text = zf.read(info).decode("utf-8", errors="replace")
                text = re.sub(r"<[^>]*>", " ", text)  # the text between the tags, not the markup
                if has_personnummer(text):
                    places.append(f"{shown}: delen {info.filename} av arbetsboken")
    except zipfile.BadZipFile:
        places.append(f"{shown}: arbetsboken kunde inte öppnas för kontroll")
    return places


def _final_check(folder: Path) -> list[str]:
    places = personnummer_places(folder)
    for path in sorted(folder.iterdir()):
        if path.is_file() and path.suffix.lower() in EXCEL_SUFFIXES:
            places += _xlsx_parts_places(path, path.name)
    return places


# --------------------------------------------------------------------------- temp folders
def _stale_temp_folders(out_dir: Path) -> tuple[list[Path], list[Path]]:
    """Temporary folders of earlier runs towards ``out_dir``: those whose process is gone, and
    those whose process still runs (another run going on, or a reused process id)."""
    stale: list[Path] = []
    running: list[Path] = []
    prefix = f"{TEMP_PREFIX}{out_dir.stem[:40]}."
    for p in out_dir.parent.glob(f"{TEMP_PREFIX}*"):
        if not p.is_dir() or not p.name.startswith(prefix):
            continue
        marker = p / MARKER
        if not marker.exists():
            if p.name.endswith(".old"):
                stale.append(p)
            continue
        try:
            pid = int(marker.read_text(encoding="ascii").strip())
        except (OSError, ValueError):
            pid = -1
        (stale if pid <= 0 or not _alive(pid) else running).append(p)
    return stale, running


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # a process of another user
        return True
    return True


# --------------------------------------------------------------------------- main
def _shown_name(name: str, ps: Pseudonymiser) -> tuple[str, bool]:
    """A file name with any personnummer replaced by the pseudonym."""
    new, hit = ps.scrub(name)
    if hit:
        new = new.replace("/", "_").replace("\x00", "_")
    return new, hit


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
    when ``out_dir`` exists and is not empty (unless ``overwrite``), when a file cannot be
    processed, when anything in the finished copy still looks like a personnummer, or when two
    identifiers collide.
    """
    in_dir = Path(in_dir).resolve()
    out_dir = Path(out_dir).resolve()
    key_path = Path(key_file).expanduser().resolve()
    if in_dir.is_file():
        raise PseudonymiseError(
            f"{in_dir} är en fil; ange studiemappen som innehåller den ({in_dir.parent}). Hela mappen pseudonymiseras."
        )
    if not in_dir.is_dir():
        raise PseudonymiseError(f"Studiemappen {in_dir} finns inte.")
    if out_dir == in_dir or _inside(out_dir, in_dir) or _inside(in_dir, out_dir):
        raise PseudonymiseError("Utmappen får inte vara studiemappen eller ligga i den (eller tvärtom).")
    if key_path.is_dir():
        raise PseudonymiseError(
            f"Nyckelfilen {key_path} är en mapp. Ange en fil, t.ex. {key_path / 'insats.key'} "
            "(den skapas om den inte finns), utanför studiemappen, utmappen och git."
        )
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
    ps = Pseudonymiser(key)

    out_dir.parent.mkdir(parents=True, exist_ok=True)
    stale, running = _stale_temp_folders(out_dir)
    for old in stale:
        shutil.rmtree(old, ignore_errors=True)
        summary.warnings.append(
            f"en ofullständig kopia från en avbruten körning ({old.name}) togs bort innan den här körningen började."
        )
    for other in running:
        summary.warnings.append(
            f"{other} är en ofullständig kopia från en körning som kanske pågår; ta bort mappen om ingen annan "
            "pseudonymisering pågår (den kan bara läsas av dig)."
        )
    with atomic_dir(out_dir) as tmp:
        final_mode = stat.S_IMODE(tmp.stat().st_mode)  # as the user's umask wants it
        os.chmod(tmp, 0o700)  # nobody else reads pseudonymised data while it is being written
        (tmp / MARKER).write_text(str(os.getpid()), encoding="ascii")
        for src in sorted(in_dir.iterdir()):
            shown, renamed = _shown_name(src.name, ps)
            if src.name.startswith((".", "~$")):
                summary.skipped.append(shown)
                continue
            special = not_a_regular_file(src)  # lstat: a link is never followed, a pipe never opened
            if special:
                raise PseudonymiseError(f"Filen {shown} kopieras inte: {special} Inget har skrivits.")
            if src.is_dir():
                summary.skipped.append(shown + "/")
                continue
            summary.renamed += renamed
            dst = tmp / shown
            suffix = src.suffix.lower()
            try:
                if suffix in CSV_SUFFIXES:
                    _do_csv(src, dst, shown, ps, summary)
                elif suffix in EXCEL_SUFFIXES:
                    _do_excel(src, dst, shown, ps, summary)
                elif suffix in PARQUET_SUFFIXES:
                    _do_parquet(src, dst, shown, ps, summary)
                else:
                    _do_other(src, dst, shown, ps, summary)
            except PseudonymiseError:
                raise
            except DataError as exc:
                raise PseudonymiseError(f"Filen {shown} kunde inte behandlas: {exc} Inget har skrivits.") from None
            except Exception as exc:  # noqa: BLE001 - any file that cannot be processed stops the run
                raise PseudonymiseError(
                    f"Filen {shown} kunde inte behandlas (tekniskt fel: {type(exc).__name__}); kontrollera att den "
                    "är en giltig CSV-, Excel- eller Parquet-fil. Inget har skrivits."
                ) from None
        unknown = [
            name
            for name in summary.files
            if ", blad " not in name and fold(Path(name).stem) not in TABLES and not name.endswith(JSON_SUFFIXES)
        ]
        if unknown:
            summary.warnings.append(
                "filer som inte är tabeller i datakontraktet behandlades (person_id, hushall_id och personnummer "
                f"ersattes): {', '.join(unknown)}. Kontrollera att de inte har andra identiteter, t.ex. "
                "ärendenummer, innan kopian lämnas ut."
            )
        (tmp / MARKER).unlink()
        places = _final_check(tmp)
        if places:
            shown_places = "\n".join(f"  {p}" for p in places[:20])
            more = f"\n  … och {len(places) - 20} ställen till." if len(places) > 20 else ""
            raise PseudonymiseError(
                "Pseudonymiseringen avbröts: något i kopian ser fortfarande ut som ett personnummer (eller kunde "
                f"inte kontrolleras), och det kan insats inte ersätta:\n{shown_places}{more}\n"
                "Rätta eller ta bort det i studiemappen och kör igen. Inget har skrivits."
            )
        summary.distinct = ps.distinct()
        os.chmod(tmp, final_mode)
    return summary
