"""The seeded mutations of the fuzz suite (issue 14), shared by its input-command cases
(``test_fuzz_inputs``) and its batch-run cases (``test_fuzz_run``), and the checks of what a
command wrote: no formula or personnummer in an XLSX, no live formula in a CSV.

Every mutation takes a random generator seeded from ``SEED`` (``INSATS_FUZZ_SEED``), so a case is
replayed exactly from the seed and its number.
"""

from __future__ import annotations

import csv
import io
import json
import os
import random
import re
import shutil
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
from openpyxl import Workbook, load_workbook

from insats.data.personnummer import has_personnummer

SEED = int(os.environ.get("INSATS_FUZZ_SEED", "20240514"))

TABLES = ["omraden", "insatser", "personer", "bistand", "avslut", "deltaganden", "bedomningar", "medel"]

PNR_FORMS = [
    "850315-1238",
    "850315 1238",
    "19850315 1238",
    "850315 - 1238",
    "198503151238",
    "\uff18\uff15\uff10\uff13\uff11\uff15\uff0d\uff11\uff12\uff13\uff18",
    "503151235",
    "8503151238.0",
    "ring 050315-1235 i morgon",
]
HOSTILE = [
    "<script>alert('x')</script>Tvätteri",
    "<img src=x onerror=alert(1)>",
    "=cmd|' /C calc'!A0",
    '=HYPERLINK("http://x","klicka")',
    "+1",
    "-2",
    "@SUM(A1)",
    "-2+3+cmd|' /C calc'!A0",
    "\x1b[31mröd\x1b[0m",
    "\x1b]0;titel\x07",
    "\x1b[2J\x1b[H",
    "\u202eevil",
    "a\x00b",
    "rad\nbrytning",
    '"citat" och ; och ,',
    "x" * 5000,
    "../../etc/passwd",
    "{{7*7}} ${jndi:ldap://x}",
    "🙂 åäö ÅÄÖ é",
    "",
    " ",
]
NUMBERS = ["99999999999999999999", "1e308", "-1e308", "1e12", "inf", "nan", "-0", "0x10", "1,5e3", "1.234,50", "-1"]
WRONG = [
    "abc",
    "2015-13",
    "2199-01",
    "1899-12-31",
    "2015-02-30",
    "ALLA",
    "alla",
    "CENTRAL",
    "Ja",
    "x",
    "41275",
    "00:00",
]


@dataclass
class Case:
    number: int
    steps: list[str] = field(default_factory=list)
    injected_pnr: bool = False

    def __str__(self) -> str:
        return f"seed {SEED}, case {self.number}: " + "; ".join(self.steps)


# --------------------------------------------------------------------------- mutations
def _text(path: Path) -> str | None:
    """The file as UTF-8 text, or None when an earlier mutation made it something else."""
    try:
        return path.read_bytes().decode("utf-8")
    except (UnicodeDecodeError, FileNotFoundError):
        return None


def _read(path: Path) -> list[list[str]]:
    return list(csv.reader(io.StringIO(_text(path) or "", newline="")))


def _write(path: Path, rows: list[list[str]]) -> None:
    buf = io.StringIO(newline="")
    csv.writer(buf, lineterminator="\n").writerows(rows)
    path.write_text(buf.getvalue(), encoding="utf-8")


def _cell(rng: random.Random, case: Case, d: Path, table: str) -> None:
    path = d / f"{table}.csv"
    if not path.exists() or path.suffix != ".csv":
        return
    rows = _read(path)
    if len(rows) < 2 or not rows[0]:
        return
    r, c = rng.randrange(1, len(rows)), rng.randrange(len(rows[0]))
    rows[r] += [""] * (c + 1 - len(rows[r]))
    pool = rng.choice([PNR_FORMS, HOSTILE, NUMBERS, WRONG])
    value = rng.choice(pool)
    if pool is PNR_FORMS:
        case.injected_pnr = True
    rows[r][c] = value
    _write(path, rows)
    case.steps.append(f"{table}.csv rad {r + 1} kolumn {rows[0][c]} = {value[:60]!r}")


TEXT_COLUMNS = {
    "omraden": ["omrade", "kommun"],
    "insatser": ["namn", "utforare"],
    "deltaganden": ["vald_utforare"],
    "bedomningar": ["metod", "enhet", "overlamnad_till"],
}
AREA_NAMES = [v for v in HOSTILE if v.strip() and "\x00" not in v and len(v) < 100] + ["Område " + PNR_FORMS[0]]


def _text_cell(
    rng: random.Random,
    case: Case,
    d: Path,
    table: str,
    *,
    column: tuple[str, str] | None = None,
    row: int | None = None,
    value: str | None = None,
) -> None:
    """A hostile text where the contract takes any text: it passes validation and reaches the output.
    ``column`` (table, column), ``row`` (1 = the first data row) and ``value`` fix what is otherwise
    drawn at random (the batch-run cases aim at names a report shows)."""
    table = column[0] if column else rng.choice(sorted(TEXT_COLUMNS))
    path = d / f"{table}.csv"
    rows = _read(path)
    if len(rows) < 2 or not rows[0]:
        return
    candidates = [rows[0].index(c) for c in ([column[1]] if column else TEXT_COLUMNS[table]) if c in rows[0]]
    if not candidates:
        return
    r = row if row is not None else rng.randrange(1, len(rows))
    c = candidates[0] if column else rng.choice(candidates)
    rows[r] += [""] * (c + 1 - len(rows[r]))
    if value is None:
        value = rng.choice(HOSTILE + PNR_FORMS[:2])
    case.injected_pnr |= has_personnummer(value)
    rows[r][c] = value
    _write(path, rows)
    case.steps.append(f"{table}.csv rad {r + 1} kolumn {rows[0][c]} = {value[:60]!r}")


def _rename_area(
    rng: random.Random, case: Case, d: Path, table: str, *, old: str | None = None, new: str | None = None
) -> None:
    """An area code replaced by a hostile one in every table: it becomes part of every output.
    ``old`` and ``new`` fix the code and its replacement, otherwise drawn at random."""
    rows = _read(d / "omraden.csv")
    if len(rows) < 2 or "omrade_kod" not in rows[0]:
        return
    if old is None:
        old = rows[rng.randrange(1, len(rows))][rows[0].index("omrade_kod")]
    if new is None:
        new = rng.choice(AREA_NAMES)
    case.injected_pnr |= has_personnummer(new)
    for name in TABLES:
        path = d / f"{name}.csv"
        rows = _read(path)
        if not rows or "omrade_kod" not in rows[0]:
            continue
        j = rows[0].index("omrade_kod")
        _write(
            path,
            [rows[0]] + [r[:j] + [new if r[j] == old else r[j]] + r[j + 1 :] if len(r) > j else r for r in rows[1:]],
        )
    case.steps.append(f"områdeskoden {old!r} = {new[:60]!r} = i alla tabeller")


def _encoding(rng: random.Random, case: Case, d: Path, table: str) -> None:
    path = d / f"{table}.csv"
    codec = rng.choice(["utf-16", "utf-16-le", "utf-16-be", "utf-32", "cp1252", "utf-8-sig"])
    text = _text(path)
    if text is None:
        return
    path.write_bytes(text.encode(codec, errors="replace"))
    case.steps.append(f"{table}.csv som {codec}")


def _truncate(rng: random.Random, case: Case, d: Path, table: str) -> None:
    path = d / f"{table}.csv"
    data = path.read_bytes()
    cut = rng.randrange(0, max(1, len(data)))
    path.write_bytes(data[:cut])
    case.steps.append(f"{table}.csv avkortad efter {cut} byte")


def _structure(rng: random.Random, case: Case, d: Path, table: str) -> None:
    path = d / f"{table}.csv"
    text = _text(path)
    if text is None:
        return
    lines = text.split("\n")
    kind = rng.choice(["quote", "ragged", "header_only", "empty", "dup_header", "drop_column", "wide", "blank_lines"])
    if kind == "quote":
        i = rng.randrange(1, max(2, len(lines) - 1))
        lines[i] = lines[i].replace(",", ',"', 1)
    elif kind == "ragged":
        i = rng.randrange(1, max(2, len(lines) - 1))
        lines[i] += ",extra,fält"
    elif kind == "header_only":
        lines = lines[:1] + [""]
    elif kind == "empty":
        lines = [""]
    elif kind == "dup_header":
        first = lines[0].split(",")[0]
        lines = [line + "," + (first if i == 0 else "x") if line else line for i, line in enumerate(lines)]
    elif kind == "drop_column":
        rows = _read(path)
        if not rows or not rows[0]:
            return
        j = rng.randrange(len(rows[0]))
        _write(path, [r[:j] + r[j + 1 :] for r in rows])
        case.steps.append(f"{table}.csv utan kolumnen {rows[0][j]}")
        return
    elif kind == "wide":
        lines[0] += "," + ",".join(f"k{i}" for i in range(1500))
    elif kind == "blank_lines":
        lines = [x for line in lines for x in (line, "")]
    path.write_text("\n".join(lines), encoding="utf-8")
    case.steps.append(f"{table}.csv: {kind}")


def _format(rng: random.Random, case: Case, d: Path, table: str) -> None:
    path = d / f"{table}.csv"
    rows = _read(path)
    width = len(rows[0]) if rows else 0
    rows = [(r + [""] * width)[:width] for r in rows]
    kinds = ["xlsx", "xlsx_formula", "parquet", "parquet_categorical", "parquet_nested", "fake_xlsx", "fake_parquet"]
    kind = rng.choice([*kinds, "garbage"])
    path.unlink()
    if kind.startswith("xlsx"):
        wb = Workbook()
        ws = wb.active
        ws.title = table
        for row in rows:
            ws.append(row)
        if kind == "xlsx_formula" and len(rows) > 1:
            ws.cell(row=2, column=rng.randrange(1, len(rows[0]) + 1), value="=1+1")
        wb.save(d / f"{table}.xlsx")
    elif kind.startswith("parquet"):
        frame = pd.DataFrame(rows[1:], columns=rows[0]) if rows else pd.DataFrame()
        frame = frame.loc[:, ~frame.columns.duplicated()]
        if kind == "parquet_categorical":
            frame = frame.astype("category")
        if kind == "parquet_nested":
            value = rng.choice(PNR_FORMS + HOSTILE[:4])
            case.injected_pnr |= has_personnummer(value)
            frame["lista"] = [["a", value] for _ in range(len(frame))]
            kind += f" ({value[:30]!r})"
        frame.to_parquet(d / f"{table}.parquet")
    elif kind == "fake_xlsx":
        (d / f"{table}.xlsx").write_text("\n".join(",".join(r) for r in rows), encoding="utf-8")
    elif kind == "fake_parquet":
        (d / f"{table}.parquet").write_bytes(b"PAR1" + os.urandom(64))
    else:
        (d / f"{table}.csv").write_bytes(bytes(rng.randrange(256) for _ in range(300)))
    case.steps.append(f"{table} som {kind}")


def _folder(rng: random.Random, case: Case, d: Path, table: str) -> None:
    kind = rng.choice(["pnr_file_name", "pnr_text_file", "meta_broken", "meta_deep", "meta_pnr", "meta_list", "sheet"])
    pnr = rng.choice(PNR_FORMS[:6])
    if kind == "pnr_file_name":
        (d / f"brev_{pnr}.txt").write_text("Hej\n", encoding="utf-8")
        case.injected_pnr = True
    elif kind == "pnr_text_file":
        (d / "anteckning.md").write_text(f"Kontakt {pnr}\n", encoding="utf-8")
        case.injected_pnr = True
    elif kind == "meta_broken":
        (d / "studie.json").write_text('{"syntetisk": tru', encoding="utf-8")
    elif kind == "meta_deep":
        (d / "studie.json").write_text("[" * 50_000 + "]" * 50_000, encoding="utf-8")
    elif kind == "meta_pnr":
        meta = json.loads((d / "studie.json").read_text(encoding="utf-8"))
        meta["kontakt"] = pnr
        (d / "studie.json").write_text(json.dumps(meta, ensure_ascii=False), encoding="utf-8")
        case.injected_pnr = True
    elif kind == "meta_list":
        (d / "studie.json").write_text("[1, 2]", encoding="utf-8")
    else:
        wb = Workbook()
        wb.active.title = f"blad {pnr}"[:31]
        wb.active.append(["a", "b"])
        wb.active.append([503151235, pnr])
        wb.save(d / "extra.xlsx")
        case.injected_pnr = True
    case.steps.append(f"mappen: {kind} ({pnr!r})")


MUTATIONS = [
    _cell,
    _cell,
    _text_cell,
    _text_cell,
    _text_cell,
    _rename_area,
    _rename_area,
    _rename_area,
    _encoding,
    _truncate,
    _structure,
    _format,
    _folder,
]


def make_case(base: Path, work: Path, number: int) -> tuple[Case, Path]:
    rng = random.Random(SEED * 1_000_003 + number)
    case = Case(number)
    d = work / "studie"
    shutil.copytree(base, d)
    for _ in range(rng.choice([1, 1, 2, 3])):
        table = rng.choice(TABLES)
        mutation = rng.choice(MUTATIONS)
        if mutation not in (_folder, _text_cell, _rename_area) and not (d / f"{table}.csv").exists():
            continue
        mutation(rng, case, d, table)
    if not case.steps:
        case.steps.append("oförändrad")
    return case, d


# --------------------------------------------------------------------------- checks of written files
def check_xlsx(case: Case, path: Path) -> None:
    wb = load_workbook(path)
    for ws in wb.worksheets:
        for row in ws.iter_rows():
            for c in row:
                assert c.data_type != "f", f"{case}: formel i {path.name} {ws.title}!{c.coordinate}: {c.value!r}"
                assert not has_personnummer(c.value), f"{case}: personnummer i {path.name}"


_PLAIN_NUMBER = re.compile(r"[+-]?(\d[\d\s\u00a0]*)?[.,]?\d+([eE][+-]?\d+)?")


def check_csv(case: Case, path: Path) -> None:
    text = path.read_text(encoding="utf-8-sig")
    assert not has_personnummer(text), f"{case}: personnummer i {path.name}"
    for row in csv.reader(io.StringIO(text, newline="")):
        for value in row:
            runs = value.startswith(("=", "+", "-", "@", "\t", "\r")) and not _PLAIN_NUMBER.fullmatch(value)
            assert not runs, f"{case}: formel i {path.name}: {value!r}"
