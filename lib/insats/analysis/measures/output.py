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
    XLSX is for people: Swedish headers, ``..`` in suppressed cells, labels on a second sheet and
    the parameters on a third.
    """
    path = Path(path)
    ext = path.suffix.lower()
    if ext not in (".csv", ".xlsx", ".json"):
        raise UsageError(f"Okänt filformat {path.suffix!r} för {path.name}: välj .csv, .xlsx eller .json.")

    with atomic_path(path) as tmp:
        table = result.table
        if ext == ".csv":
            table.to_csv(tmp, index=False)
        elif ext == ".json":
            payload = {
                "parametrar": result.params,
                "utelamnade": result.skipped,
                "matt": json.loads(table.to_json(orient="records", force_ascii=False)),
            }
            tmp.write_text(json.dumps(payload, ensure_ascii=False, indent=1), encoding="utf-8")
        else:
            shown = table.astype({"varde": object, "taljare": object, "namnare": object})
            for col in ("varde", "taljare", "namnare"):
                shown.loc[table["undertryckt"], col] = ".."
            shown["undertryckt"] = np.where(table["undertryckt"], "Ja", "Nej")
            shown.insert(1, "Benämning", table["matt"].map(measure_label))
            with pd.ExcelWriter(tmp, engine="openpyxl") as xw:
                shown.rename(columns=SWEDISH_HEADERS).to_excel(xw, sheet_name="Mått", index=False)
                labels_table().to_excel(xw, sheet_name="Benämningar", index=False)
                pd.DataFrame(
                    {"Parameter": list(result.params), "Värde": [str(v) for v in result.params.values()]}
                ).to_excel(xw, sheet_name="Parametrar", index=False)
    return path
