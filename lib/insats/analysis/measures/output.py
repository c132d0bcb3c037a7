"""Writing the published measures as CSV, XLSX or JSON."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd

from insats.analysis.measures.compute import MeasureResult
from insats.analysis.measures.registry import labels_table, measure_label
from insats.atomic import atomic_path
from insats.errors import UsageError
from insats.xlsx import csv_text, write_xlsx

SWEDISH_HEADERS = {
    "matt": "Mått",
    "omrade_kod": "Områdeskod",
    "varde": "Värde",
    "taljare": "Täljare",
    "namnare": "Nämnare",
    "undertryckt": "Undertryckt",
}


def write_measures(result: MeasureResult, path: Path | str) -> Path:
    """Write the published table as CSV, XLSX or JSON (by extension), atomically.

    CSV and JSON are for machines: suppressed values are empty / null with ``undertryckt`` true.
    XLSX is for people: Swedish headers, ``..`` in suppressed cells, labels on a second sheet, the
    parameters on a third and the suppression log (which counts are hidden and why, never their
    values) on a fourth; JSON carries the log too (``undertryckningar``). XLSX and CSV go through
    ``insats.xlsx``: text from the data (an area code) is never a formula.
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
            shown = table.astype({"varde": object, "taljare": object, "namnare": object})
            for col in ("varde", "taljare", "namnare"):
                shown.loc[table["undertryckt"], col] = ".."
            shown["undertryckt"] = np.where(table["undertryckt"], "Ja", "Nej")
            shown.insert(1, "Benämning", table["matt"].map(measure_label))
            params = pd.DataFrame({"Parameter": list(result.params), "Värde": [str(v) for v in result.params.values()]})
            sheets = {
                "Mått": shown.rename(columns=SWEDISH_HEADERS),
                "Benämningar": labels_table(),
                "Parametrar": params,
            }
            write_xlsx(tmp, {**sheets, "Undertryckningar": log_table(result.log)})
    return path


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
