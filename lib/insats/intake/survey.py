"""The kartläggning survey: one Excel template per district, and reading the answers back.

``write_templates`` writes ``enkat_<omrade_kod>.xlsx`` per district with the sheets
*Instruktioner*, *Insatser* (table ``insatser``), *Medel* (table ``medel``) and a hidden *Koder*
(the code lists' Swedish labels, used by the drop-down lists, plus the template's metadata).
Headers are the contract's Swedish column labels; coded columns get drop-down lists of labels.

``read_surveys`` reads filled-in templates back into canonical ``insatser`` and ``medel`` tables
(labels -> codes through :func:`insats.contract.normalise_code`) and lists every problem with file,
sheet, Excel row and column. ``write_survey_tables`` writes them as a study folder's CSV files.

Rows whose first cell starts with ``EXEMPEL`` are the template's example and are skipped; so are
rows where nothing but the prefilled cells is filled in.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from collections.abc import Iterable
from pathlib import Path

import numpy as np
import pandas as pd
from openpyxl import Workbook, load_workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.datavalidation import DataValidation

from insats.atomic import atomic_path, atomic_write
from insats.contract import CENTRAL, CODE_LISTS, TABLES, fold, label
from insats.data.files import to_display_text
from insats.data.parse import coerce_column
from insats.data.problems import FEL, VARNING, Problem
from insats.data.study import Study
from insats.errors import SurveyError

__all__ = [
    "SurveyError",
    "parse_areas",
    "read_areas_file",
    "read_surveys",
    "write_survey_tables",
    "write_templates",
]

SHEET_INFO = "Instruktioner"
SHEET_INSATSER = "Insatser"
SHEET_MEDEL = "Medel"
SHEET_CODES = "Koder"
SHEETS = {SHEET_INSATSER: "insatser", SHEET_MEDEL: "medel"}
"""Data sheet -> contract table."""

EXAMPLE_MARK = "EXEMPEL"
TEMPLATE_VERSION = "1"
JA, NEJ = "Ja", "Nej"

DATA_ROWS = 300
"""Rows (after the header) that carry drop-down lists and number/date validation."""
PREFILLED_INSATSER_ROWS = 100
PREFILLED_MEDEL_EXTRA_ROWS = 30

PREFILLED = {"insatser": ("omrade_kod",), "medel": ("omrade_kod", "ar", "kategori")}
"""Columns the template fills in; a row with nothing else filled in is an empty row."""

HELP: dict[str, dict[str, str]] = {
    "insatser": {
        "insats_id": "Lämna tomt så skapas ett id (områdeskod-löpnummer). Fyll i om ni har egna id:n.",
        "omrade_kod": "Förifylld med ert områdes kod. Skriv CENTRAL om insatsen gäller hela kommunen.",
        "namn": "Insatsens namn, som ni kallar den i verksamheten.",
        "kategori": "Typ av insats. Välj i listan (kategorierna följer SKR:s indelning i Kolada).",
        "regi": "Vem som driver insatsen. Välj i listan.",
        "utforare": "Namn på enheten, företaget eller organisationen som utför insatsen.",
        "malgrupp": "En eller flera målgrupper, åtskilda med semikolon (;). Skriv exakt som i listan nedan.",
        "platser": "Antal platser som insatsen har samtidigt (heltal).",
        "narvarokrav": "Ja om deltagarna har närvarokrav, dvs. frånvaro kan påverka biståndet.",
        "lov": "Ja om utföraren är godkänd enligt lagen om valfrihetssystem (LOV).",
        "raknas_som_insats": "Ja om ni räknar detta som en arbetsmarknadsinsats. Se frågan om feriejobb ovan.",
        "kostnad_per_plats_manad": "Ungefärlig kostnad i kronor per plats och månad.",
        "giltig_fran": "Datum (ÅÅÅÅ-MM-DD) då insatsen började erbjudas. Tomt = känt sedan länge.",
        "giltig_till": "Datum (ÅÅÅÅ-MM-DD) då insatsen upphörde. Tomt = pågår.",
    },
    "medel": {
        "omrade_kod": "Förifylld med ert områdes kod.",
        "ar": "Året som utgifterna avser (förifyllt, ändra vid behov).",
        "kategori": "Samma kategorier som för insatserna, plus Administration. Välj i listan.",
        "belopp": "Utgifter i kronor under året för kategorin. Lämna raden tom om ni inte har några.",
        "raknas_som_insats": "Ja om ni räknar utgiften som arbetsmarknadsinsats. Se frågan om feriejobb ovan.",
    },
}

FERIEJOBB_TEXT = (
    "Frågan om feriejobb: vissa områden räknar feriejobb (feriearbeten) för ungdomar som en "
    "arbetsmarknadsinsats, andra gör det inte. Ange alltid feriejobb med kategorin Feriejobb, "
    'och svara i kolumnen "Räknas som insats" Ja eller Nej efter hur ni själva redovisar dem. '
    "Då kan jämförelsen mellan områdena göras både med och utan feriejobb."
)

INSATS_TEXT = (
    "En arbetsmarknadsinsats är en aktivitet som ert område erbjuder "
    "personer med ekonomiskt bistånd för att de ska komma närmare arbete eller studier: t.ex. "
    "arbetsträning, praktik, jobbsökning och coachning, kurser, matchning mot arbete, vägledning "
    "eller en tidsbegränsad kommunal anställning. Ta med insatser som ni driver själva, som "
    "jobbtorget driver för er, som är upphandlade eller drivs tillsammans med Arbetsförmedlingen "
    "eller idéburna organisationer. Ange en rad per insats."
)


# --------------------------------------------------------------------------- problems
def _problem(kind: str, file: str, sheet: str | None, row, column, value, message) -> Problem:
    """A ``insats.data.validate.Problem`` for a survey cell: the file shown with its sheet."""
    where = f"{file}, blad {sheet}" if sheet else file
    if value is not None and not isinstance(value, str):
        value = value.isoformat()[:10] if isinstance(value, (dt.date, dt.datetime)) else _text(value)
    return Problem(FEL if kind == "error" else VARNING, where, row, column, value, message, "enkat")


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
        meta = [
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


# --------------------------------------------------------------------------- reading
def _blank(v) -> bool:
    return v is None or (isinstance(v, str) and not v.strip())


def _text(v) -> str:
    """A cell as the user sees it (Excel numbers without ``.0``, dates as ÅÅÅÅ-MM-DD)."""
    return to_display_text(v) or ""


_EXPECTED = {
    "bool": "ska vara Ja eller Nej",
    "int": "ska vara ett heltal",
    "float": "ska vara ett tal i kronor",
    "date": "ska vara ett datum ÅÅÅÅ-MM-DD",
    "month": "ska vara en månad ÅÅÅÅ-MM",
    "kommun": "ska vara en kommunkod med fyra siffror",
}


def _cell_message(col, lab: str, value, why: str | None, where: str) -> str:
    """The Swedish message for a cell that ``coerce_column`` could not type."""
    if col.kind == "code":
        allowed = "; ".join(CODE_LISTS[col.code_list].values())
        return f"{_text(value)!r} finns inte i listan för {lab} ({where}). Välj en av: {allowed}."
    if col.kind == "codes":
        allowed = "; ".join(CODE_LISTS[col.code_list].values())
        unknown = why or repr(_text(value))
        return (
            f"{unknown} finns inte bland de tillåtna värdena för {lab} ({where}). "
            f"Tillåtna: {allowed}; åtskilda med semikolon."
        )
    return f"{lab} {_EXPECTED.get(col.kind, 'kan inte tolkas')}; fick {_text(value)!r} ({where})."


def _typed_rows(table, raw_rows, colmap, header_label, fname, sheet, add):
    """Type the survey rows of one sheet column by column with ``insats.data.parse.coerce_column``
    (the loader's own parser) and yield ``(row as a dict of canonical values, Excel row)`` for the
    rows without errors; every problem goes to ``add`` with the cell's address."""
    if not raw_rows:
        return
    spec = TABLES[table]
    numbers = [r for r, _ in raw_rows]
    raw = pd.DataFrame([cells for _, cells in raw_rows], index=numbers, columns=list(colmap.values()), dtype=object)
    typed: dict[str, pd.Series] = {}
    bad_rows: set[int] = set()
    for i, n in colmap.items():
        col, lab, letter = spec[n], header_label[i], get_column_letter(i + 1)
        result = coerce_column(raw[n], col)
        typed[n] = result.values
        for pos in np.flatnonzero(result.bad):
            r = numbers[pos]
            add(
                "error",
                fname,
                sheet,
                r,
                lab,
                raw[n].iat[pos],
                _cell_message(col, lab, raw[n].iat[pos], result.why.get(int(pos)), f"cell {letter}{r}"),
            )
            bad_rows.add(r)
        if col.required and not (table == "insatser" and n == "insats_id"):
            for pos in np.flatnonzero(result.missing):
                r = numbers[pos]
                add("error", fname, sheet, r, lab, None, f"{lab} måste fyllas i (cell {letter}{r}).")
                bad_rows.add(r)
        if col.kind in ("int", "float"):
            negative = (result.values < 0).fillna(False).to_numpy(dtype=bool)
            for pos in np.flatnonzero(negative):
                r = numbers[pos]
                add("error", fname, sheet, r, lab, raw[n].iat[pos], f"{lab} kan inte vara negativt (cell {letter}{r}).")
                bad_rows.add(r)
    for pos, r in enumerate(numbers):
        if r in bad_rows:
            continue
        out = {n: _plain(typed[n].iat[pos]) if n in typed else None for n in spec.names}
        yield out, r


def _plain(value):
    """A typed cell as a plain Python value (missing as None, codes as text, dates as Timestamps)."""
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, float) and value != value:
        return None
    if isinstance(value, np.generic):
        return value.item()
    return value


def _match_header(table: str, header) -> str | None:
    if _blank(header):
        return None
    f = fold(header)
    for col in TABLES[table].columns:
        if f in (fold(col.label), fold(col.name)):
            return col.name
    return None


def _template_meta(wb) -> dict:
    if SHEET_CODES not in wb.sheetnames:
        return {}
    ws = wb[SHEET_CODES]
    meta = {}
    for row in ws.iter_rows(min_row=1, max_row=20, values_only=True):
        for i in range(len(row) - 1):
            if row[i] in ("omrade_kod", "kommun_kod", "ar", "omrade", "mallversion"):
                meta[row[i]] = row[i + 1]
    return meta


def read_surveys(files: Iterable[str | Path]):
    """Read filled-in survey workbooks into canonical ``insatser`` and ``medel`` tables.

    Returns ``(tables, problems)``: ``tables`` maps ``"insatser"``/``"medel"`` to typed
    DataFrames (codes canonical; see :meth:`insats.data.study.Study.from_frames`); ``problems`` lists
    every problem found, each with file, sheet, Excel row and column (the header as the user sees
    it) and a Swedish message. Rows with an error are left out of the tables; callers should not
    write anything when any problem is an error.
    """

    problems: list = []
    rows: dict[str, list[dict]] = {"insatser": [], "medel": []}
    id_origin: dict[str, tuple[str, int]] = {}
    pending_ids: list[tuple[dict, str, str, int]] = []

    def add(kind, file, sheet, row, column, value, message):
        problems.append(_problem(kind, file, sheet, row, column, value, message))

    for path in [Path(f) for f in files]:
        fname = path.name
        try:
            wb = load_workbook(path, data_only=True, read_only=False)
        except Exception as exc:  # noqa: BLE001 - any unreadable file is a problem to report
            add(
                "error",
                fname,
                None,
                None,
                None,
                None,
                f"Filen kan inte läsas som en Excel-arbetsbok (.xlsx): {exc.__class__.__name__}.",
            )
            continue
        meta = _template_meta(wb)
        file_area = str(meta["omrade_kod"]).strip() if meta.get("omrade_kod") not in (None, "") else None
        for sheet, table in SHEETS.items():
            if sheet not in wb.sheetnames:
                add(
                    "error",
                    fname,
                    sheet,
                    None,
                    None,
                    None,
                    f"Bladet {sheet} saknas. Använd enkätmallen och ändra inte bladens namn.",
                )
                continue
            ws = wb[sheet]
            spec = TABLES[table]
            header = next(ws.iter_rows(min_row=1, max_row=1, values_only=True), ())
            colmap: dict[int, str] = {}
            for i, h in enumerate(header):
                name = _match_header(table, h)
                if name is None:
                    if not _blank(h):
                        add(
                            "warning",
                            fname,
                            sheet,
                            1,
                            str(h),
                            h,
                            f"Kolumnen {h!r} finns inte i mallen och läses inte in.",
                        )
                    continue
                if name in colmap.values():
                    add("error", fname, sheet, 1, str(h), h, f"Kolumnen {spec[name].label} förekommer två gånger.")
                    continue
                colmap[i] = name
            missing = [
                c for c in spec.required if c not in colmap.values() and not (table == "insatser" and c == "insats_id")
            ]
            for c in missing:
                add(
                    "error",
                    fname,
                    sheet,
                    1,
                    spec[c].label,
                    None,
                    f"Kolumnen {spec[c].label} saknas. Ändra inte rubrikerna i mallen.",
                )
            if missing:
                continue
            header_label = {
                i: (str(header[i]).strip() if not _blank(header[i]) else spec[n].label) for i, n in colmap.items()
            }
            prefilled = set(PREFILLED[table])
            raw_rows: list[tuple[int, dict[str, object]]] = []
            for r_idx, values in enumerate(ws.iter_rows(min_row=2, values_only=True), start=2):
                cells = {n: (values[i] if i < len(values) else None) for i, n in colmap.items()}
                first = values[0] if values else None
                if isinstance(first, str) and first.strip().upper().startswith(EXAMPLE_MARK):
                    continue
                if all(_blank(v) for n, v in cells.items() if n not in prefilled):
                    continue
                cells = {n: (None if _blank(v) else v) for n, v in cells.items()}
                if cells.get("omrade_kod") is None and file_area:
                    cells["omrade_kod"] = file_area
                if "ar" in cells and cells["ar"] is None and meta.get("ar"):
                    cells["ar"] = int(meta["ar"])
                raw_rows.append((r_idx, cells))
            for out, r_idx in _typed_rows(table, raw_rows, colmap, header_label, fname, sheet, add):
                area = out.get("omrade_kod")
                if file_area and area not in (file_area, CENTRAL):
                    add(
                        "warning",
                        fname,
                        sheet,
                        r_idx,
                        spec["omrade_kod"].label,
                        area,
                        f"Områdeskoden {area!r} är inte enkätens område ({file_area}) och inte {CENTRAL}.",
                    )
                if table == "insatser":
                    if out.get("giltig_fran") and out.get("giltig_till") and out["giltig_till"] < out["giltig_fran"]:
                        add(
                            "error",
                            fname,
                            sheet,
                            r_idx,
                            spec["giltig_till"].label,
                            out["giltig_till"],
                            "Giltig till ligger före Giltig från.",
                        )
                        continue
                    if out["insats_id"]:
                        iid = out["insats_id"]
                        if iid in id_origin:
                            of, orow = id_origin[iid]
                            add(
                                "error",
                                fname,
                                sheet,
                                r_idx,
                                spec["insats_id"].label,
                                iid,
                                f"Insats-id {iid!r} finns redan ({of}, rad {orow}).",
                            )
                            continue
                        id_origin[iid] = (fname, r_idx)
                    else:
                        pending_ids.append((out, fname, sheet, r_idx))
                rows[table].append(out)

    # generate the missing ids: <omrade_kod>-<n>, skipping ids in use
    counters: dict[str, int] = {}
    for out, fname, _sheet, r_idx in pending_ids:
        area = str(out["omrade_kod"])
        n = counters.get(area, 0)
        while True:
            n += 1
            iid = f"{area}-{n}"
            if iid not in id_origin:
                break
        counters[area] = n
        out["insats_id"] = iid
        id_origin[iid] = (fname, r_idx)

    frames = {t: pd.DataFrame(rows[t], columns=TABLES[t].names) for t in rows}
    tables = Study.from_frames(**frames).tables
    return tables, problems


# --------------------------------------------------------------------------- writing tables
def _format_value(col, v) -> str:
    if v is None or v is pd.NA or (isinstance(v, float) and v != v) or v is pd.NaT:
        return ""
    try:
        if pd.isna(v):
            return ""
    except (TypeError, ValueError):
        pass
    if col.kind == "bool":
        return JA if bool(v) else NEJ
    if col.kind == "date":
        return pd.Timestamp(v).strftime("%Y-%m-%d")
    if col.kind == "month":
        return pd.Timestamp(v).strftime("%Y-%m")
    if col.kind == "int":
        return str(int(v))
    if col.kind == "float":
        x = float(v)
        return str(int(x)) if x == int(x) else repr(x)
    return str(v)


def _table_csv(table: str, df: pd.DataFrame) -> str:
    spec = TABLES[table]
    cols = [c for c in spec.columns if c.name in df.columns]
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow([c.name for c in cols])
    for rec in df[[c.name for c in cols]].itertuples(index=False, name=None):
        w.writerow([_format_value(c, v) for c, v in zip(cols, rec)])
    return buf.getvalue()


def write_survey_tables(
    tables: dict[str, pd.DataFrame],
    out_dir: str | Path,
    *,
    omraden: pd.DataFrame | str | Path | None = None,
) -> list[Path]:
    """Write ``insatser.csv`` and ``medel.csv`` (and ``omraden.csv`` when given) to ``out_dir``.

    CSV files are UTF-8, comma-separated, canonical codes, booleans Ja/Nej, dates ISO. ``omraden``
    is a DataFrame of the contract's ``omraden`` table or the path of a file holding it (copied
    as text, so the area table the districts were asked about goes with their answers).
    """
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for table in ("insatser", "medel"):
        if table in tables:
            path = out_dir / f"{table}.csv"
            _atomic_write_text(path, _table_csv(table, tables[table]))
            written.append(path)
    if omraden is not None:
        if isinstance(omraden, (str, Path)):
            df = _read_any_as_text(Path(omraden))
            keep = [c for c in df.columns if fold(c) in TABLES["omraden"].names]
            df = df[keep].rename(columns={c: fold(c) for c in keep})
            buf = io.StringIO()
            df.to_csv(buf, index=False, lineterminator="\n")
            text = buf.getvalue()
        else:
            text = _table_csv("omraden", omraden)
        path = out_dir / "omraden.csv"
        _atomic_write_text(path, text)
        written.append(path)
    return written
