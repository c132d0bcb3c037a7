"""Uppföljning: what a follow-up system needs that today's data cannot give."""

from __future__ import annotations

from typing import Any

import pandas as pd

from insats import contract
from insats.analysis.measures import (
    MEASURES,
    MeasureResult,
    measure_label,
)
from insats.contract import TABLES
from insats.data.study import Study
from insats.reports.kartlaggning.common import _alla, join_names, sectioned
from insats.reports.render import Note

# --------------------------------------------------------------------------- follow-up system

_COLUMN_NEEDS: dict[str, tuple[tuple[str, str], ...]] = {
    "narvaro_median": (("deltaganden", "planerade_timmar"), ("deltaganden", "narvarotimmar")),
    "narvaro_andel_80": (("deltaganden", "planerade_timmar"), ("deltaganden", "narvarotimmar")),
    "utfall_arbete_studier_andel": (("deltaganden", "avslut"),),
    "justerat_utfall_oe": (("deltaganden", "avslut"),),
    "lov_andel_valt": (("deltaganden", "vald_utforare"),),
    "vagin_dagar_median": (("bedomningar", "bedomning_datum"),),
    "vagin_dagar_p90": (("bedomningar", "bedomning_datum"),),
    "vagin_andel_30_dagar": (("bedomningar", "bedomning_datum"),),
    "vagin_andel_insats_90_dagar": (("bedomningar", "resultat"),),
}
"""Optional contract columns a measure rests on: empty throughout, the measure says nothing."""


def uncomputable_measures(study: Study, result: MeasureResult | None = None) -> pd.DataFrame:
    """The measures of the design (``docs/design.md``) that today's data cannot give, and why.

    One row per measure (those with a function; the derived O/E limits and likställighet rows
    follow their measure): ``matt``, ``skal`` (``tabell`` — a table is missing; ``kolumn`` — an
    optional column the measure rests on is empty throughout; ``underlag`` — computed, but no
    value for the whole study, e.g. no participations at LOV providers) and ``saknas`` (the
    missing tables or ``table.column``s, or ``""``).
    """
    rows = []
    for mid, m in MEASURES.items():
        if m.func is None:
            continue
        missing = [t for t in m.needs if t not in study]
        if missing:
            rows.append({"matt": mid, "skal": "tabell", "saknas": ", ".join(missing)})
            continue
        empty = [f"{t}.{c}" for t, c in _COLUMN_NEEDS.get(mid, ()) if t in study and study[t][c].isna().all()]
        if empty:
            rows.append({"matt": mid, "skal": "kolumn", "saknas": ", ".join(empty)})
            continue
        if result is not None:
            alla = _alla(result.table, mid)
            if alla is not None and pd.isna(alla["varde"]) and not bool(alla["undertryckt"]):
                rows.append({"matt": mid, "skal": "underlag", "saknas": ""})
    return pd.DataFrame(rows, columns=["matt", "skal", "saknas"])


def uncomputable_table(unc: pd.DataFrame) -> pd.DataFrame:
    """``uncomputable_measures`` for display: what the common follow-up system must collect."""

    def reason(r):
        if r.skal == "tabell":
            parts = r.saknas.split(", ")
            word = "tabellen" if len(parts) == 1 else "tabellerna"
            return f"Kräver {word} " + join_names([f"{t} ({TABLES[t].label.lower()})" for t in parts])
        if r.skal == "kolumn":
            cols = []
            for item in r.saknas.split(", "):
                t, c = item.split(".")
                cols.append(f"{c} ({contract.column_label(t, c).lower()}) i {t}")
            return "Kolumnen är tom: " + join_names(cols)
        return "Underlag saknas i perioden (inga observationer att räkna på)"

    out = pd.DataFrame(
        {
            "Mått": [measure_label(m) for m in unc["matt"]],
            "Definition": [MEASURES[m].definition for m in unc["matt"]],
            "Vad som saknas": [reason(r) for r in unc.itertuples()],
        }
    )
    return out.set_index("Mått")


@sectioned
def section_uppfoljning(study: Study, result: MeasureResult) -> list[Any]:
    """The measures that today's data cannot give (table), and the tables a common follow-up
    system has to collect (sentence)."""
    unc = uncomputable_measures(study, result)
    if unc.empty:
        return [Note("Alla mått i `insats` kan beräknas med dagens data.")]
    tables = sorted(
        {t for v in unc.loc[unc["skal"] == "tabell", "saknas"] for t in v.split(", ")}, key=list(TABLES).index
    )
    items: list = [uncomputable_table(unc)]
    if tables:
        items.append(
            Note(
                "Ett gemensamt uppföljningssystem behöver samla in:\n\n"
                + "\n".join(f"- **{TABLES[t].label}** (`{t}`): en rad per {TABLES[t].row}." for t in tables)
            )
        )
    return items
