"""Writing the published measures as CSV, XLSX or JSON."""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path

import numpy as np
import pandas as pd
from openpyxl import Workbook

from insats.analysis.measures.compute import MeasureResult
from insats.analysis.measures.registry import FUNNEL_LABELS, MEASURES, labels_table, measure_label
from insats.atomic import atomic_path
from insats.errors import UsageError
from insats.xlsx import csv_text, fit_sheet, save_workbook, write_frame

SWEDISH_HEADERS = {
    "matt": "Mått",
    "omrade_kod": "Områdeskod",
    "varde": "Värde",
    "taljare": "Täljare",
    "namnare": "Nämnare",
    "undertryckt": "Undertryckt",
}


UNIT_FORMATS = {
    "andel": "0.0%",
    "antal": "#,##0",
    "kr": '#,##0 "kr"',
    "dagar": "#,##0",
    "per_100": "#,##0.0",
    "kvot": "#,##0.00",
    "index": "#,##0.00",
}
"""The Excel number format of a measure's value by its unit (shares as per cent: 0.217 shows 21,7 %)."""


def value_format(matt: str) -> str:
    """The number format of ``varde`` for a measure id (funnel codes and unknown ids: a plain number)."""
    m = MEASURES.get(matt)
    return UNIT_FORMATS.get(m.unit, "General") if m is not None else "0" if "_tratt" in matt else "General"


def legend_table() -> pd.DataFrame:
    """What the marks and codes of the measures file mean (the sheet *Teckenförklaring*)."""
    rows = [("..", "Undertryckt: uppgiften visas inte för att skydda enskildas integritet", "Värde, Täljare, Nämnare")]
    rows += [(str(code), text, "Trattdiagram (likstallighet_tratt__…)") for code, text in FUNNEL_LABELS.items()]
    rows.append(("", "Andelar är tal med procentformat (0,217 visas 21,7 %).", "Värde"))
    return pd.DataFrame(rows, columns=["Tecken eller kod", "Betydelse", "Gäller"])


def write_measures(
    result: MeasureResult,
    path: Path | str,
    *,
    names: Mapping[str, str] | None = None,
    about: pd.DataFrame | None = None,
) -> Path:
    """Write the published table as CSV, XLSX or JSON (by extension), atomically.

    CSV and JSON are for machines: suppressed values are empty / null with ``undertryckt`` true.
    XLSX is for people: Swedish headers, the area's name beside its code (``names``: code → name),
    values as numbers in the measure's format (shares as per cent), ``..`` in suppressed cells,
    header frozen with a filter; then *Om filen* (``about``: the study's provenance, when given),
    the labels, a legend (``..`` and the funnel codes −2 … 2), the parameters and the suppression
    log (which counts are hidden and why, never their values); JSON carries the log too
    (``undertryckningar``). XLSX and CSV go through ``insats.xlsx``: text from the data (an area
    code) is never a formula.
    """
    path = Path(path)
    ext = path.suffix.lower()
    if ext not in (".csv", ".xlsx", ".json"):
        raise UsageError(f"Okänt filformat {path.suffix!r} för {path.name}: välj .csv, .xlsx eller .json.")

    with atomic_path(path) as tmp:
        table = result.table
        if ext == ".csv":
            tmp.write_text(csv_text(table), encoding="utf-8", newline="")
        elif ext == ".json":
            payload = {
                "parametrar": result.params,
                "utelamnade": result.skipped,
                "matt": json.loads(table.to_json(orient="records", force_ascii=False)),
                "undertryckningar": result.log,
            }
            tmp.write_text(json.dumps(payload, ensure_ascii=False, indent=1), encoding="utf-8")
        else:
            _write_measures_xlsx(result, tmp, names=names, about=about)
    return path


def _write_measures_xlsx(result: MeasureResult, target: Path, *, names, about) -> None:
    table = result.table.reset_index(drop=True)
    shown = table.astype({"varde": object, "taljare": object, "namnare": object})
    for col in ("varde", "taljare", "namnare"):
        shown.loc[table["undertryckt"], col] = ".."
    shown["undertryckt"] = np.where(table["undertryckt"], "Ja", "Nej")
    shown.insert(1, "Benämning", table["matt"].map(measure_label))
    if names is not None:
        shown.insert(3, "Område", table["omrade_kod"].astype(str).map(lambda c: names.get(c, c)))
    params = pd.DataFrame({"Parameter": list(result.params), "Värde": [str(v) for v in result.params.values()]})
    sheets = {"Mått": shown.rename(columns=SWEDISH_HEADERS)}
    if about is not None:
        sheets["Om filen"] = about
    sheets.update(
        {
            "Benämningar": labels_table(),
            "Teckenförklaring": legend_table(),
            "Parametrar": params,
            "Undertryckningar": log_table(result.log),
        }
    )
    wb = Workbook()
    wb.remove(wb.active)
    for name, frame in sheets.items():
        ws = wb.create_sheet(name)
        write_frame(ws, frame)
        fit_sheet(ws, autofilter=name in ("Mått", "Benämningar", "Undertryckningar"))
    ws = wb["Mått"]
    header = [c.value for c in ws[1]]
    value_col, count_cols = header.index("Värde") + 1, [header.index(h) + 1 for h in ("Täljare", "Nämnare")]
    for i, matt in enumerate(table["matt"].tolist(), start=2):
        ws.cell(i, value_col).number_format = value_format(str(matt))
        for j in count_cols:
            ws.cell(i, j).number_format = "#,##0"
    fit_sheet(ws)  # widths again, now that the values have their formats
    save_workbook(wb, target)


LOG_HEADERS = {
    "rakning": "Räkning",
    "grupp": "Grupp",
    "period": "Period",
    "skal": "Skäl",
    "forst_publicerad_i": "Publiceras i",
}


def log_table(log: list[dict[str, str]]) -> pd.DataFrame:
    """The suppression log as a table with Swedish headers (one row per hidden count)."""
    return pd.DataFrame(log, columns=list(LOG_HEADERS)).rename(columns=LOG_HEADERS)
