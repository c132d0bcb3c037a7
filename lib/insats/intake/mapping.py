"""Column mapping for case-system exports: a municipality's headers -> contract columns.

A small YAML file (``kolumnmappning.yaml`` in the export folder, or any path) says, per contract
table, which file holds it and which export header becomes which contract column::

    personer:
      fil: Klientregister_export.csv   # optional; default: a file named like the table
      blad: Blad1                      # optional, for a workbook: the sheet (default: the first)
      kolumner:
        Klient-ID: person_id
        Stadsdel: omrade_kod
        Födelseår: fodelsear
        Handläggare: ~                 # ~ (empty) = leave out, documented on purpose

``apply_mapping`` writes one file per mapped table to ``out_dir`` — ``<table>.csv`` for CSV and
Excel sources, ``<table>.parquet`` for Parquet — holding only the mapped columns, renamed, in
contract order. Values are copied as they are (text stays text); codes, numbers and dates are
then checked by ``insats validate``. Columns the mapping does not name are left out.

Every problem in the mapping is reported at once, in Swedish, naming the YAML key
(``kolumnmappning.yaml, personer → kolumner → Klient-ID: ...``); nothing is written then.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from pathlib import Path

import pyarrow.parquet as pq
import yaml
from openpyxl import load_workbook

from insats.atomic import atomic_path
from insats.contract import TABLES, fold
from insats.data.files import check_workbook, read_csv_text, to_display_text
from insats.errors import DataError, MappingError, yaml_problem

__all__ = ["DEFAULT_NAME", "MappingError", "MappingResult", "apply_mapping", "read_mapping"]

DEFAULT_NAME = "kolumnmappning.yaml"
TABLE_KEYS = ("fil", "blad", "kolumner")
READABLE = (".csv", ".txt", ".xlsx", ".xlsm", ".parquet", ".pq")


@dataclass
class TableMapping:
    table: str
    key: str
    """The table's key as written in the YAML file."""
    file: str | None
    sheet: str | None
    columns: dict[str, str | None]
    """Source header -> contract column (None = leave out)."""


@dataclass
class MappingResult:
    written: list[Path] = field(default_factory=list)
    mapped: dict[str, dict[str, str]] = field(default_factory=dict)
    """table -> {contract column: source header}."""
    dropped: dict[str, list[str]] = field(default_factory=dict)
    """table -> source headers left out."""
    warnings: list[str] = field(default_factory=list)

    def format(self) -> str:
        lines = []
        for path in self.written:
            table = path.stem
            lines.append(
                f"{path.name}: {len(self.mapped.get(table, {}))} kolumner"
                + (f" (utelämnade: {', '.join(self.dropped[table])})" if self.dropped.get(table) else "")
            )
        lines += [f"Varning: {w}" for w in self.warnings]
        return "\n".join(lines)


def _where(mapping_name: str, *keys) -> str:
    return mapping_name + ", " + " → ".join(str(k) for k in keys)


def read_mapping(mapping_file: str | Path) -> list[TableMapping]:
    """Parse and check the YAML mapping file (structure and target columns)."""

    path = Path(mapping_file)
    name = path.name
    if not path.is_file():
        raise MappingError([f"Mappningsfilen {path} finns inte."])
    raw = path.read_bytes()
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = raw.decode("cp1252")
    try:
        doc = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise MappingError([f"{name}: filen kan inte läsas som YAML: {yaml_problem(exc)}."]) from None
    if not isinstance(doc, dict) or not doc:
        raise MappingError([f"{name}: filen ska ha en rubrik per tabell (t.ex. personer:) med kolumner: under."])

    problems: list[str] = []
    out: list[TableMapping] = []
    tables_seen: dict[str, str] = {}
    for tkey, spec in doc.items():
        table = fold(tkey)
        if table not in TABLES:
            problems.append(
                f"{_where(name, tkey)}: {tkey!r} är ingen tabell i datakontraktet. Möjliga: {', '.join(TABLES)}."
            )
            continue
        if table in tables_seen:
            problems.append(f"{_where(name, tkey)}: tabellen {table} mappas redan under {tables_seen[table]!r}.")
            continue
        tables_seen[table] = str(tkey)
        if not isinstance(spec, dict):
            problems.append(f"{_where(name, tkey)}: ska innehålla kolumner: (och gärna fil:).")
            continue
        for k in spec:
            if fold(k) not in TABLE_KEYS:
                problems.append(f"{_where(name, tkey, k)}: okänd nyckel; tillåtna är {', '.join(TABLE_KEYS)}.")
        spec = {fold(k): v for k, v in spec.items()}
        cols = spec.get("kolumner")
        if not isinstance(cols, dict) or not cols:
            problems.append(
                f"{_where(name, tkey, 'kolumner')}: saknas eller är tom; ange exportens rubrik: "
                "kontraktets kolumn, en per rad."
            )
            continue
        contract = TABLES[table]
        by_fold = {fold(c.name): c.name for c in contract.columns}
        by_fold.update({fold(c.label): c.name for c in contract.columns})
        columns: dict[str, str | None] = {}
        target_from: dict[str, str] = {}
        for src, target in cols.items():
            src_s = str(src).strip()
            if target is None or (isinstance(target, str) and not target.strip()):
                columns[src_s] = None
                continue
            canon = by_fold.get(fold(target)) if isinstance(target, str) else None
            if canon is None:
                problems.append(
                    f"{_where(name, tkey, 'kolumner', src)}: {target!r} är ingen kolumn i tabellen {table}. "
                    f"Möjliga kolumner: {', '.join(contract.names)}."
                )
                continue
            if canon in target_from:
                problems.append(
                    f"{_where(name, tkey, 'kolumner', src)}: kolumnen {canon} får redan sitt värde från "
                    f"{target_from[canon]!r}; en kontraktskolumn kan bara komma från en rubrik."
                )
                continue
            target_from[canon] = src_s
            columns[src_s] = canon
        fil = spec.get("fil")
        blad = spec.get("blad")
        if fil is not None and not isinstance(fil, str):
            problems.append(f"{_where(name, tkey, 'fil')}: ska vara ett filnamn.")
            fil = None
        out.append(TableMapping(table, str(tkey), fil, None if blad is None else str(blad), columns))
    if problems:
        raise MappingError(problems)
    return out


# --------------------------------------------------------------------------- reading sources
def _find_file(in_dir: Path, table: str) -> Path | None:
    for p in sorted(in_dir.iterdir()):
        if p.is_file() and p.suffix.lower() in READABLE and fold(p.stem) == table:
            return p
    return None


def _read_source(path: Path, sheet: str | None):
    """(headers, rows as lists, kind, csv format or None, arrow table or None)."""
    suffix = path.suffix.lower()
    if suffix in (".csv", ".txt"):
        rows, fmt = read_csv_text(path)
        if not rows:
            return [], [], "csv", fmt, None
        return [h.strip() for h in rows[0]], rows[1:], "csv", fmt, None
    if suffix in (".parquet", ".pq"):
        table = pq.read_table(path)
        return list(table.column_names), None, "parquet", None, table
    if suffix in (".xlsx", ".xlsm"):
        check_workbook(path)
        wb = load_workbook(path, read_only=True, data_only=True)
        try:
            if sheet is not None and sheet not in wb.sheetnames:
                raise KeyError(sheet)
            ws = wb[sheet] if sheet is not None else wb.worksheets[0]
            it = ws.iter_rows(values_only=True)
            header = next(it, ())
            rows = [["" if (t := to_display_text(v)) is None else t for v in r] for r in it]
        finally:
            wb.close()
        headers = ["" if h is None else str(h).strip() for h in header]
        return headers, rows, "xlsx", None, None
    raise ValueError(suffix)


def _match_source(src: str, headers: list[str]) -> int | None:
    if src in headers:
        return headers.index(src)
    hits = [i for i, h in enumerate(headers) if fold(h) == fold(src)]
    return hits[0] if len(hits) == 1 else None


def _atomic_write(path: Path, write) -> None:

    with atomic_path(path) as tmp:
        write(str(tmp))


def apply_mapping(in_dir: str | Path, mapping_file: str | Path | None, out_dir: str | Path) -> MappingResult:
    """Rename and select the export's columns as the mapping says; write the tables to ``out_dir``.

    Raises :class:`MappingError` listing every problem (nothing is written then): a table or
    target column not in the contract, a file or source column not found, two sources for one
    column, ``out_dir`` being the export folder itself (raw data is read-only).
    """
    in_dir = Path(in_dir)
    out_dir = Path(out_dir)
    mapping_file = Path(mapping_file) if mapping_file is not None else in_dir / DEFAULT_NAME
    name = mapping_file.name
    if not in_dir.is_dir():
        raise MappingError([f"Exportmappen {in_dir} finns inte."])
    if out_dir.resolve() == in_dir.resolve():
        raise MappingError(["Utmappen får inte vara exportmappen: rådata ska lämnas orörda. Välj en annan mapp."])
    mappings = read_mapping(mapping_file)

    problems: list[str] = []
    result = MappingResult()
    prepared = []
    for m in mappings:
        if m.file:
            src = Path(m.file) if Path(m.file).is_absolute() else in_dir / m.file
            if not src.is_file():
                problems.append(f"{_where(name, m.key, 'fil')}: filen {m.file!r} finns inte i {in_dir}.")
                continue
        else:
            found = _find_file(in_dir, m.table)
            if found is None:
                problems.append(
                    f"{_where(name, m.key)}: ingen fil angiven (fil:) och ingen fil som heter "
                    f"{m.table}.csv, .xlsx eller .parquet i {in_dir}."
                )
                continue
            src = found
        if src.suffix.lower() not in READABLE:
            problems.append(f"{_where(name, m.key, 'fil')}: {src.name} kan inte läsas; använd CSV, XLSX eller Parquet.")
            continue
        try:
            headers, rows, kind, fmt, arrow = _read_source(src, m.sheet)
        except KeyError:
            problems.append(f"{_where(name, m.key, 'blad')}: bladet {m.sheet!r} finns inte i {src.name}.")
            continue
        except DataError as exc:
            problems.append(f"{_where(name, m.key, 'fil')}: {src.name} kunde inte läsas: {exc}")
            continue
        except Exception as exc:  # noqa: BLE001  (any unreadable file becomes a problem to report, not a crash)
            problems.append(f"{_where(name, m.key, 'fil')}: {src.name} kunde inte läsas ({type(exc).__name__}).")
            continue
        picks: dict[str, int] = {}
        for source, target in m.columns.items():
            idx = _match_source(source, headers)
            if idx is None:
                shown = ", ".join(repr(h) for h in headers if h) or "(inga)"
                problems.append(
                    f"{_where(name, m.key, 'kolumner', source)}: kolumnen {source!r} finns inte i "
                    f"{src.name}. Kolumner i filen: {shown}."
                )
                continue
            if target is not None:
                picks[target] = idx
        missing = [c for c in TABLES[m.table].required if c not in picks]
        if missing:
            result.warnings.append(
                f"{_where(name, m.key, 'kolumner')}: obligatoriska kolumner mappas inte: "
                f"{', '.join(missing)}; {m.table} blir ofullständig."
            )
        order = [c for c in TABLES[m.table].names if c in picks]
        used = set(picks.values())
        result.mapped[m.table] = {c: headers[picks[c]] for c in order}
        result.dropped[m.table] = [h for i, h in enumerate(headers) if i not in used and h]
        prepared.append((m, src, kind, fmt, headers, rows, arrow, order, picks))

    if problems:
        raise MappingError(problems)

    out_dir.mkdir(parents=True, exist_ok=True)
    for m, _src, kind, fmt, _headers, rows, arrow, order, picks in prepared:
        if kind == "parquet":
            table = arrow.select([picks[c] for c in order]).rename_columns(order)
            table = table.replace_schema_metadata(None)
            path = out_dir / f"{m.table}.parquet"
            _atomic_write(path, lambda tmp, t=table: pq.write_table(t, tmp))
        else:
            sep = fmt.sep if fmt is not None else ","
            buf = io.StringIO(newline="")
            w = csv.writer(buf, delimiter=sep, lineterminator="\n")
            w.writerow(order)
            for r in rows:
                if not any(str(v).strip() for v in r):
                    continue
                w.writerow([r[picks[c]] if picks[c] < len(r) else "" for c in order])
            data = buf.getvalue().encode("utf-8")
            path = out_dir / f"{m.table}.csv"

            def _write(tmp, data=data):
                with open(tmp, "wb") as fh:
                    fh.write(data)

            _atomic_write(path, _write)
        others = [
            p.name
            for p in out_dir.iterdir()
            if p.is_file() and p != path and fold(p.stem) == m.table and p.suffix.lower() in READABLE
        ]
        if others:
            result.warnings.append(
                f"{out_dir.name} har redan {', '.join(others)} för tabellen {m.table}; "
                "ta bort den, annars finns tabellen i två filer."
            )
        result.written.append(path)
    return result
