"""Uppföljning: a proposed common follow-up system, and what today's data cannot give.

The proposal is generated from the package's own registers so that it stays true: the indicator
set is the measure registry (``insats.analysis.measures.MEASURES``: label, definition, tables), the
data flow is the data contract (``insats.contract.TABLES``) with the source system and export
frequency of each table (``SOURCES``, docs/antaganden.md K9), and the reporting cycle names the
package's own commands.
"""

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

SOURCES: dict[str, tuple[str, str]] = {
    "omraden": ("Kommunens områdesindelning; folkmängd från SCB", "en gång per år"),
    "insatser": ("Förteckningen över insatser (utbudet) hos arbetsmarknadsenheten och utförarna", "varje kvartal"),
    "personer": ("Verksamhetssystemet för ekonomiskt bistånd", "varje månad"),
    "bistand": ("Verksamhetssystemet för ekonomiskt bistånd (utbetalningar)", "varje månad"),
    "avslut": ("Verksamhetssystemet för ekonomiskt bistånd (avslutade ärenden)", "varje månad"),
    "deltaganden": ("Deltagar- och närvaroregistret hos arbetsmarknadsenheten och utförarna", "varje månad"),
    "bedomningar": ("Verksamhetssystemet: utredningar av arbetsförmåga", "varje månad"),
    "medel": ("Ekonomisystemet: utfall per verksamhet och kategori", "varje tertial"),
}
"""Proposed source system and export frequency of each contract table (docs/antaganden.md K9)."""

THEMES: tuple[tuple[str, str], ...] = (
    ("erbjudande", "Erbjudande"),
    ("narvaro", "Närvaro"),
    ("utfall", "Utfall"),
    ("justerat", "Utfall"),
    ("langvarigt", "Långvarigt bistånd"),
    ("lov", "Valfrihet (LOV)"),
    ("samverkan", "Samverkan"),
    ("vagin", "En väg in"),
    ("utbud", "Utbud"),
    ("medel", "Medel"),
)
"""Theme of a measure, from the start of its id (the registry's naming)."""

REPORTING_CYCLE: tuple[tuple[str, str], ...] = (
    (
        "Varje månad",
        "Uttagen från källsystemen kontrolleras (insats validate) och instrumentpanelerna visar läget "
        "(insats serve); avvikelser följs upp av enheterna.",
    ),
    (
        "Varje halvår",
        "Områdesprofilerna tas fram för varje område (insats run) och går till respektive stadsdelsnämnd eller enhet.",
    ),
    (
        "Varje år",
        "Kartläggningen med alla mått, trender och jämförelsen med andra kommuner (Kolada) går till "
        "nämnden tillsammans med en genomgång av vilka mått som ännu inte kan beräknas.",
    ),
)
"""The proposed reporting cycle (docs/antaganden.md K9)."""


def _theme(mid: str) -> str:
    return next((label for prefix, label in THEMES if mid.startswith(prefix)), "Övrigt")


def indicator_set(study: Study | None = None) -> pd.DataFrame:
    """The proposed indicator set: every measure the package computes (those with a function),
    its theme, definition, the tables it is computed from and — given ``study`` — whether today's
    data gives it. Ordered by theme, in registry order within a theme."""
    missing = {}
    if study is not None:
        unc = uncomputable_measures(study)
        missing = dict(zip(unc["matt"], unc["skal"]))
    rows = []
    for mid, m in MEASURES.items():
        if m.func is None:
            continue
        row = {
            "Tema": _theme(mid),
            "Mått": m.label,
            "Definition": m.definition,
            "Beräknas från": join_names([TABLES[t].label.lower() for t in m.needs]),
        }
        if study is not None:
            row["Med dagens data"] = "nej" if mid in missing else "ja"
        rows.append(row)
    order = list(dict.fromkeys(label for _, label in THEMES))
    out = pd.DataFrame(rows)
    out["_ordning"] = [order.index(t) if t in order else len(order) for t in out["Tema"]]
    return out.sort_values("_ordning", kind="stable").drop(columns="_ordning").reset_index(drop=True)


def data_flow() -> pd.DataFrame:
    """The proposed data flow: one row per table of the data contract, with its proposed source
    system, how often it is exported, and how many of the indicators rest on it."""
    rows = []
    for name, table in TABLES.items():
        source, often = SOURCES[name]
        users = [m.label for m in MEASURES.values() if m.func is not None and name in m.needs]
        rows.append(
            {
                "Uppgift": f"{table.label} (en rad per {table.row})",
                "Källa (förslag)": source,
                "Uttag": often,
                "Antal mått som bygger på uppgiften": len(users),
            }
        )
    return pd.DataFrame(rows)


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
    "vagin_andel_overlamnade": (("bedomningar", "overlamnad_till"),),
    "vagin_andel_ombedomningar": (("bedomningar", "bedomning_datum"),),
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
    """A proposed common follow-up system — indicator set, data flow, reporting cycle — then the
    measures that today's data cannot give (table), and the tables the system has to collect."""
    indicators = indicator_set(study)
    flow = data_flow()
    items: list = [
        Note(
            f"**Förslag till gemensamt uppföljningssystem.** Systemet följer {len(indicators)} mått inom "
            f"{indicators['Tema'].nunique()} teman. Alla räknas fram på samma sätt i alla områden, ur "
            f"{len(flow)} uppgifter som tas ut ur kommunens egna system."
        ),
        indicators.set_index("Mått"),
        Note("**Dataflöde.** Varifrån uppgifterna kommer och hur ofta de tas ut:"),
        flow.set_index("Uppgift"),
        Note("**Rapportering.**\n\n" + "\n".join(f"- **{when}**: {what}" for when, what in REPORTING_CYCLE)),
    ]
    unc = uncomputable_measures(study, result)
    if unc.empty:
        items.append(Note("Alla mått kan beräknas med dagens data."))
        return items
    tables = sorted(
        {t for v in unc.loc[unc["skal"] == "tabell", "saknas"] for t in v.split(", ")}, key=list(TABLES).index
    )
    items.append(Note("**Mått som dagens data inte ger.**"))
    items.append(uncomputable_table(unc))
    if tables:
        items.append(
            Note(
                "Ett gemensamt uppföljningssystem behöver samla in:\n\n"
                + "\n".join(f"- **{TABLES[t].label}** (`{t}`): en rad per {TABLES[t].row}." for t in tables)
            )
        )
    return items
