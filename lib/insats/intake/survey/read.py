"""Reading filled-in surveys back into ``insatser`` and ``medel``, every problem with its cell."""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Iterable
from pathlib import Path

import numpy as np
import pandas as pd
from openpyxl import load_workbook
from openpyxl.utils import get_column_letter

from insats.contract import CENTRAL, CODE_LISTS, TABLES, fold
from insats.data.files import to_display_text
from insats.data.parse import coerce_column
from insats.data.problems import FEL, VARNING, Problem
from insats.data.study import Study
from insats.intake.survey.layout import (
    EXAMPLE_MARK,
    JA,
    NEJ,
    PREFILLED,
    SHEET_CODES,
    SHEETS,
)
from insats.intake.survey.template import _atomic_write_text, _read_any_as_text


# --------------------------------------------------------------------------- problems
def _problem(kind: str, file: str, sheet: str | None, row, column, value, message) -> Problem:
    """A ``insats.data.validate.Problem`` for a survey cell: the file shown with its sheet."""
    where = f"{file}, blad {sheet}" if sheet else file
    if value is not None and not isinstance(value, str):
        value = value.isoformat()[:10] if isinstance(value, (dt.date, dt.datetime)) else _text(value)
    return Problem(FEL if kind == "error" else VARNING, where, row, column, value, message, "enkat")


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
