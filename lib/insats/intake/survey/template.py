"""Writing the survey: one Excel workbook per district with drop-down lists and instructions."""

from __future__ import annotations

import datetime as dt
import io
import re
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import pandas as pd
from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.datavalidation import DataValidation

from insats.atomic import atomic_path, atomic_write
from insats.contract import CODE_LISTS, TABLES, fold, label
from insats.errors import SurveyError
from insats.intake.survey.layout import (
    DATA_ROWS,
    EXAMPLE_MARK,
    FERIEJOBB_TEXT,
    HELP,
    INSATS_TEXT,
    JA,
    NEJ,
    PREFILLED_INSATSER_ROWS,
    PREFILLED_MEDEL_EXTRA_ROWS,
    SHEET_CODES,
    SHEET_INFO,
    SHEET_INSATSER,
    SHEET_MEDEL,
    TEMPLATE_VERSION,
)


# --------------------------------------------------------------------------- helpers
def _atomic_save_workbook(wb, path: Path) -> None:
    with atomic_path(path) as tmp:
        wb.save(tmp)


def _atomic_write_text(path: Path, text: str, encoding: str = "utf-8") -> None:
    atomic_write(path, text, encoding)


def _code_list_for(table: str, column: str) -> str | None:
    return TABLES[table][column].code_list


def _safe_filename_part(code: str) -> str:
    part = re.sub(r"[^0-9A-Za-z_-]+", "_", str(code)).strip("_")
    if not part:
        raise SurveyError(f"Områdeskoden {code!r} kan inte användas i ett filnamn.")
    return part


# --------------------------------------------------------------------------- templates
def parse_areas(text: str) -> list[tuple[str, str]]:
    """``"01=Rinkeby-Kista,02=Spånga-Tensta"`` -> ``[("01", "Rinkeby-Kista"), ...]``."""
    areas = []
    for part in str(text).split(","):
        part = part.strip()
        if not part:
            continue
        code, sep, name = part.partition("=")
        if not sep or not code.strip():
            raise SurveyError(f"Områdena ska anges som KOD=Namn, åtskilda med komma; fick {part!r}.")
        areas.append((code.strip(), name.strip() or code.strip()))
    if not areas:
        raise SurveyError("Inga områden angivna.")
    return areas


def read_areas_file(path: str | Path, year: int | None = None) -> list[tuple[str, str]]:
    """Areas (code, name) from an ``omraden`` table file (CSV, XLSX or Parquet)."""
    path = Path(path)
    df = _read_any_as_text(path)
    cols = {fold(c): c for c in df.columns}
    kod = cols.get("omrade_kod") or cols.get(fold(TABLES["omraden"]["omrade_kod"].label))
    namn = cols.get("omrade") or cols.get(fold(TABLES["omraden"]["omrade"].label))
    if kod is None:
        raise SurveyError(f"{path.name}: kolumnen omrade_kod saknas.")
    if year is not None and "ar" in cols:
        sel = df[df[cols["ar"]].astype(str).str.strip() == str(year)]
        if len(sel):
            df = sel
    seen: dict[str, str] = {}
    for _, r in df.iterrows():
        code = str(r[kod]).strip()
        if code and code not in seen:
            seen[code] = str(r[namn]).strip() if namn is not None else code
    return list(seen.items())


def _read_any_as_text(path: Path) -> pd.DataFrame:
    suffix = path.suffix.lower()
    if suffix == ".parquet":
        return pd.read_parquet(path).astype(str)
    if suffix in (".xlsx", ".xlsm"):
        return pd.read_excel(path, dtype=str).fillna("")
    raw = path.read_bytes()
    for enc in ("utf-8-sig", "cp1252"):
        try:
            text = raw.decode(enc)
            break
        except UnicodeDecodeError:
            continue
    first = text.splitlines()[0] if text else ""
    sep = ";" if first.count(";") > first.count(",") else ","
    return pd.read_csv(io.StringIO(text), sep=sep, dtype=str, keep_default_na=False)


def _codes_sheet_layout() -> list[tuple[str, list[str]]]:
    """(header, values) for each column of the hidden Koder sheet, in order."""
    return [
        ("kategori", [label("kategori", c) for c in CODE_LISTS["kategori"]]),
        ("kategori_medel", [label("kategori_medel", c) for c in CODE_LISTS["kategori_medel"]]),
        ("regi", [label("regi", c) for c in CODE_LISTS["regi"]]),
        ("malgrupp", [label("malgrupp", c) for c in CODE_LISTS["malgrupp"]]),
        ("ja_nej", [JA, NEJ]),
    ]


def write_templates(
    areas: Iterable[tuple[str, str]],
    out_dir: str | Path,
    *,
    kommun_kod: str,
    year: int,
    kommun: str | None = None,
) -> list[Path]:
    """Write one survey workbook ``enkat_<omrade_kod>.xlsx`` per area; returns the paths."""

    areas = [(str(c).strip(), str(n).strip()) for c, n in areas]
    if not areas:
        raise SurveyError("Inga områden angivna.")
    codes_seen = [c for c, _ in areas]
    dup = sorted({c for c in codes_seen if codes_seen.count(c) > 1})
    if dup:
        raise SurveyError(f"Områdeskoder förekommer flera gånger: {', '.join(dup)}.")
    kommun_kod = str(kommun_kod).strip()
    if kommun_kod.isdigit() and len(kommun_kod) < 4:
        kommun_kod = kommun_kod.zfill(4)
    if not re.fullmatch(r"\d{4}", kommun_kod):
        raise SurveyError(f"Kommunkoden ska ha fyra siffror, t.ex. 0180; fick {kommun_kod!r}.")
    year = int(year)
    out_dir = Path(out_dir)

    bold = Font(bold=True)
    header_fill = PatternFill("solid", fgColor="DDEBF7")
    example_font = Font(italic=True, color="808080")
    prefill_fill = PatternFill("solid", fgColor="F2F2F2")
    wrap = Alignment(wrap_text=True, vertical="top")

    layout = _codes_sheet_layout()
    code_ranges = {}
    for i, (name, values) in enumerate(layout, start=1):
        letter = get_column_letter(i)
        code_ranges[name] = f"{SHEET_CODES}!${letter}$2:${letter}${len(values) + 1}"

    written: list[Path] = []
    for code, name in areas:
        wb = Workbook()
        info = wb.active
        info.title = SHEET_INFO
        ws_i = wb.create_sheet(SHEET_INSATSER)
        ws_m = wb.create_sheet(SHEET_MEDEL)
        ws_k = wb.create_sheet(SHEET_CODES)

        # -- Koder (hidden): label lists and metadata
        for i, (lname, values) in enumerate(layout, start=1):
            ws_k.cell(row=1, column=i, value=lname).font = bold
            for j, v in enumerate(values, start=2):
                ws_k.cell(row=j, column=i, value=v)
        meta_col = len(layout) + 2
        meta: list[tuple[str, Any]] = [
            ("mall", "insats-enkät"),
            ("mallversion", TEMPLATE_VERSION),
            ("omrade_kod", code),
            ("omrade", name),
            ("kommun_kod", kommun_kod),
            ("ar", year),
        ]
        for j, (k, v) in enumerate(meta, start=1):
            ws_k.cell(row=j, column=meta_col, value=k)
            ws_k.cell(row=j, column=meta_col + 1, value=v)
        ws_k.sheet_state = "hidden"

        # -- Instruktioner
        _write_instructions(info, code, name, kommun_kod, kommun, year, bold, wrap)

        # -- data sheets
        for ws, table in ((ws_i, "insatser"), (ws_m, "medel")):
            spec = TABLES[table]
            for ci, col in enumerate(spec.columns, start=1):
                cell = ws.cell(row=1, column=ci, value=col.label)
                cell.font = bold
                cell.fill = header_fill
                cell.alignment = Alignment(wrap_text=True, vertical="center")
                letter = get_column_letter(ci)
                rng = f"{letter}2:{letter}{DATA_ROWS + 1}"
                dv = None
                if col.kind == "code":
                    assert col.code_list is not None  # kind "code" has a code list (Column.__post_init__)
                    lname = "kategori_medel" if col.code_list == "kategori_medel" else col.code_list
                    dv = DataValidation(type="list", formula1=code_ranges[lname], allow_blank=True)
                    dv.error = f"Välj ett värde ur listan för {col.label}."
                elif col.kind == "bool":
                    dv = DataValidation(type="list", formula1=code_ranges["ja_nej"], allow_blank=True)
                    dv.error = f"Svara Ja eller Nej i {col.label}."
                elif col.kind == "int":
                    lo = 1900 if col.name == "ar" else 0
                    hi = 2100 if col.name == "ar" else 1000000
                    dv = DataValidation(
                        type="whole", operator="between", formula1=str(lo), formula2=str(hi), allow_blank=True
                    )
                    dv.error = f"{col.label} ska vara ett heltal."
                elif col.kind == "float":
                    dv = DataValidation(type="decimal", operator="greaterThanOrEqual", formula1="0", allow_blank=True)
                    dv.error = f"{col.label} ska vara ett tal (kronor), noll eller mer."
                elif col.kind == "date":
                    dv = DataValidation(
                        type="date",
                        operator="between",
                        formula1="DATE(2000,1,1)",
                        formula2="DATE(2100,12,31)",
                        allow_blank=True,
                    )
                    dv.error = f"{col.label} ska vara ett datum, ÅÅÅÅ-MM-DD."
                if dv is not None:
                    dv.errorTitle = "Ogiltigt värde"
                    dv.showErrorMessage = True
                    dv.prompt = HELP[table].get(col.name, "")[:250] or None
                    dv.showInputMessage = bool(dv.prompt)
                    ws.add_data_validation(dv)
                    dv.add(rng)
                if col.kind == "date":
                    for r in range(2, DATA_ROWS + 2):
                        ws.cell(row=r, column=ci).number_format = "yyyy-mm-dd"
                elif col.kind == "float":
                    for r in range(2, DATA_ROWS + 2):
                        ws.cell(row=r, column=ci).number_format = "#,##0"
                width = max(len(col.label) + 2, 12)
                if col.name in ("namn", "utforare", "malgrupp"):
                    width = 34
                elif col.kind == "code":
                    assert col.code_list is not None  # kind "code" has a code list (Column.__post_init__)
                    width = max(width, max(len(v) for v in CODE_LISTS[col.code_list].values()) + 3)
                ws.column_dimensions[letter].width = width
            ws.freeze_panes = "A2"
            ws.row_dimensions[1].height = 32

        _fill_insatser(ws_i, code, year, example_font, prefill_fill)
        _fill_medel(ws_m, code, year, example_font, prefill_fill)

        wb.active = 0
        path = out_dir / f"enkat_{_safe_filename_part(code)}.xlsx"
        _atomic_save_workbook(wb, path)
        written.append(path)
    return written


def _write_instructions(ws, code, name, kommun_kod, kommun, year, bold, wrap) -> None:

    ws.column_dimensions["A"].width = 34
    ws.column_dimensions["B"].width = 14
    ws.column_dimensions["C"].width = 100
    rows: list[tuple] = []
    title = f"Kartläggning av arbetsmarknadsinsatser {year}"
    rows.append(("title", title))
    place = f"{name} (områdeskod {code}), kommun {kommun + ' ' if kommun else ''}{kommun_kod}"
    rows.append(("text", f"Område: {place}"))
    rows.append(("blank",))
    rows.append(("head", "Så här fyller ni i enkäten"))
    for t in (
        "1. Bladet Insatser: en rad per insats som ert område erbjuder personer med ekonomiskt bistånd "
        f"under {year}. Områdeskoden är redan ifylld.",
        "2. Bladet Medel: era utgifter för insatser per kategori och år. Kategorierna är förifyllda; fyll i "
        'belopp och "Räknas som insats" på de rader ni har utgifter för. Lägg till rader vid behov.',
        f"3. Rad 2 i båda bladen är ett exempel, märkt {EXAMPLE_MARK}. Den läses inte in; ni kan låta den vara.",
        "4. Kolumner markerade Ja under Obligatorisk i tabellerna nedan måste fyllas i "
        "(utom Insats-id, som skapas när det lämnas tomt).",
        "5. Välj kategori, regi och Ja/Nej i listorna i cellerna. Skriv inte om texten i listorna.",
        "6. Ändra inte rubrikerna och inte bladens namn. Spara som Excel-arbetsbok (.xlsx) och skicka tillbaka filen.",
    ):
        rows.append(("text", t))
    rows.append(("blank",))
    rows.append(("head", "Vad räknas som insats?"))
    rows.append(("text", INSATS_TEXT))
    rows.append(("text", FERIEJOBB_TEXT))
    for sheet, table in ((SHEET_INSATSER, "insatser"), (SHEET_MEDEL, "medel")):
        rows.append(("blank",))
        rows.append(("head", f"Kolumnerna i bladet {sheet}"))
        rows.append(("colhead", "Kolumn", "Obligatorisk", "Vad ska stå där"))
        for col in TABLES[table].columns:
            text = HELP[table].get(col.name) or col.description or col.label
            if col.kind in ("code",):
                assert col.code_list is not None  # kind "code" has a code list (Column.__post_init__)
                lst = "kategori_medel" if col.code_list == "kategori_medel" else col.code_list
                text += " Värden: " + "; ".join(CODE_LISTS[lst].values()) + "."
            required = col.required and not (table == "insatser" and col.name == "insats_id")
            rows.append(("col", col.label, JA if required else NEJ, text))
    rows.append(("blank",))
    rows.append(("head", "Målgrupper (skriv en eller flera, åtskilda med semikolon)"))
    for lab in CODE_LISTS["malgrupp"].values():
        rows.append(("text", lab))

    r = 1
    for row in rows:
        kind = row[0]
        if kind == "title":
            ws.cell(row=r, column=1, value=row[1]).font = Font(bold=True, size=14)
        elif kind == "head":
            ws.cell(row=r, column=1, value=row[1]).font = Font(bold=True, size=12)
        elif kind == "text":
            c = ws.cell(row=r, column=1, value=row[1])
            ws.merge_cells(start_row=r, start_column=1, end_row=r, end_column=3)
            c.alignment = wrap
            ws.row_dimensions[r].height = 15 * max(1, len(row[1]) // 140 + 1)
        elif kind in ("colhead", "col"):
            for i, v in enumerate(row[1:], start=1):
                c = ws.cell(row=r, column=i, value=v)
                c.alignment = wrap
                if kind == "colhead":
                    c.font = bold
            if kind == "col":
                ws.row_dimensions[r].height = 15 * max(1, len(row[3]) // 95 + 1)
        r += 1


def _fill_insatser(ws, code, year, example_font, prefill_fill) -> None:
    spec = TABLES["insatser"]
    example = {
        "insats_id": EXAMPLE_MARK,
        "omrade_kod": code,
        "namn": "Arbetsträning i kafé (exempel)",
        "kategori": label("kategori", "arbetstraning"),
        "regi": label("regi", "egen_omrade"),
        "utforare": "Områdets arbetsmarknadsenhet",
        "malgrupp": f"{label('malgrupp', 'unga_18_24')}; {label('malgrupp', 'langt_fran')}",
        "platser": 12,
        "narvarokrav": JA,
        "lov": NEJ,
        "raknas_som_insats": JA,
        "kostnad_per_plats_manad": 8500,
        "giltig_fran": dt.datetime(year, 1, 1),
    }
    for ci, col in enumerate(spec.columns, start=1):
        if col.name in example:
            ws.cell(row=2, column=ci, value=example[col.name]).font = example_font
    ci_area = spec.names.index("omrade_kod") + 1
    for r in range(3, 3 + PREFILLED_INSATSER_ROWS):
        c = ws.cell(row=r, column=ci_area, value=code)
        c.fill = prefill_fill


def _fill_medel(ws, code, year, example_font, prefill_fill) -> None:
    spec = TABLES["medel"]
    example = {
        "omrade_kod": EXAMPLE_MARK,
        "ar": year,
        "kategori": label("kategori_medel", "feriejobb"),
        "belopp": 250000,
        "raknas_som_insats": NEJ,
    }
    for ci, col in enumerate(spec.columns, start=1):
        ws.cell(row=2, column=ci, value=example[col.name]).font = example_font
    idx = {n: i + 1 for i, n in enumerate(spec.names)}
    r = 3
    for lab in CODE_LISTS["kategori_medel"].values():
        ws.cell(row=r, column=idx["omrade_kod"], value=code).fill = prefill_fill
        ws.cell(row=r, column=idx["ar"], value=year).fill = prefill_fill
        ws.cell(row=r, column=idx["kategori"], value=lab)
        r += 1
    for _ in range(PREFILLED_MEDEL_EXTRA_ROWS):
        ws.cell(row=r, column=idx["omrade_kod"], value=code).fill = prefill_fill
        ws.cell(row=r, column=idx["ar"], value=year).fill = prefill_fill
        r += 1
