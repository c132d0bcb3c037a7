"""Utfall and likställighet: raw and case-mix adjusted outcomes, and how much areas differ."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from insats import charts
from insats.analysis.measures import (
    MEASURES,
    measure_label,
)
from insats.analysis.stats import variation
from insats.charts import format_value
from insats.contract import ALLA, CENTRAL
from insats.data.study import Study
from insats.reports.kartlaggning.common import (
    EQUALITY_MEASURES,
    OUTCOME_TABLES,
    _has_values,
    _missing,
    _names,
    _omraden,
    _published_areas,
    sectioned,
)
from insats.reports.render import Note
from insats.text import format_number

# --------------------------------------------------------------------------- utfall and likställighet


def differing_areas(long: pd.DataFrame, matt: str = "utfall_arbete_studier_andel") -> pd.DataFrame:
    """Areas that differ from the whole study beyond chance, from the published measures.

    ``ratt``: the funnel-plot flag of the raw share ``matt`` (``likstallighet_tratt__<matt>``:
    -2 … 2, see ``insats.analysis.measures.FUNNEL_CODES``); ``justerat``: +1 when the 95 % interval of
    ``justerat_utfall_oe`` lies wholly above 1, −1 wholly below, 0 when it contains 1. Areas with
    neither value are left out; suppressed areas never appear.
    """
    flags = long[long["matt"] == f"likstallighet_tratt__{matt}"].set_index("omrade_kod")["varde"]
    lo = long[(long["matt"] == "justerat_utfall_oe_lo") & ~long["undertryckt"]].set_index("omrade_kod")["varde"]
    hi = long[(long["matt"] == "justerat_utfall_oe_hi") & ~long["undertryckt"]].set_index("omrade_kod")["varde"]
    oe = long[(long["matt"] == "justerat_utfall_oe") & ~long["undertryckt"]].set_index("omrade_kod")["varde"]
    codes = sorted((set(flags.index) | set(lo.dropna().index)) - {ALLA, CENTRAL})
    rows = []
    for code in codes:
        a, b = lo.get(code, np.nan), hi.get(code, np.nan)
        adj = (1 if a > 1 else -1 if b < 1 else 0) if np.isfinite(a) and np.isfinite(b) else np.nan
        rows.append(
            {
                "omrade_kod": code,
                "ratt": flags.get(code, np.nan),
                "oe": oe.get(code, np.nan),
                "oe_lo": a,
                "oe_hi": b,
                "justerat": adj,
            }
        )
    return pd.DataFrame(rows, columns=["omrade_kod", "ratt", "oe", "oe_lo", "oe_hi", "justerat"])


_FLAG_TEXT = {
    -2: "Lägre (utanför 99,8 %)",
    -1: "Lägre (utanför 95 %)",
    0: "Inom gränserna",
    1: "Högre (utanför 95 %)",
    2: "Högre (utanför 99,8 %)",
}


def differing_table(diff: pd.DataFrame, study: Study) -> pd.DataFrame:
    """``differing_areas`` for display."""
    names = _names(study)

    def adj(v):
        return (
            {1: "Högre än förväntat", -1: "Lägre än förväntat", 0: "Som förväntat"}.get(v, "–")
            if not pd.isna(v)
            else "–"
        )

    out = pd.DataFrame(
        {
            "Andel till arbete/studier, trattdiagram": [
                _FLAG_TEXT.get(int(v), "–") if not pd.isna(v) else "–" for v in diff["ratt"]
            ],
            "Observerat / förväntat": [format_number(v, 2) or "–" for v in diff["oe"]],
            "95 % intervall": [
                f"{format_number(a, 2)}–{format_number(b, 2)}" if np.isfinite(a) and np.isfinite(b) else "–"
                for a, b in zip(diff["oe_lo"], diff["oe_hi"])
            ],
            "Efter justering": [adj(v) for v in diff["justerat"]],
        },
        index=[names.get(c, c) for c in diff["omrade_kod"]],
    )
    out.index.name = "Område"
    return out


def equality_table(long: pd.DataFrame, measures: Sequence[str] = EQUALITY_MEASURES) -> pd.DataFrame:
    """Variation across areas of each measure present (published, non-suppressed area values):
    ``min, max, range, cv, n`` (``insats.analysis.stats.variation``) and, for shares with funnel-plot
    flags, ``utanfor_95`` / ``utanfor_998`` (areas outside the 95 % / 99,8 % limits); for
    ``justerat_utfall_oe`` ``utanfor_95`` counts areas whose 95 % interval excludes 1."""

    rows = []
    diff = differing_areas(long)
    for m in measures:
        part = _published_areas(long, m)
        if part.empty:
            continue
        v = variation(part["varde"])
        row = {
            "matt": m,
            "min": v["min"],
            "max": v["max"],
            "range": v["range"],
            "cv": v["cv"],
            "n": v["n"],
            "utanfor_95": np.nan,
            "utanfor_998": np.nan,
        }
        flags = long[long["matt"] == f"likstallighet_tratt__{m}"]["varde"]
        if len(flags):
            row["utanfor_95"] = float((flags.abs() >= 1).sum())
            row["utanfor_998"] = float((flags.abs() >= 2).sum())
        elif m == "justerat_utfall_oe" and len(diff):
            row["utanfor_95"] = float((diff["justerat"].abs() == 1).sum())
        rows.append(row)
    return pd.DataFrame(rows, columns=["matt", "min", "max", "range", "cv", "n", "utanfor_95", "utanfor_998"])


def equality_display(eq: pd.DataFrame) -> pd.DataFrame:
    """``equality_table`` for display, in each measure's unit."""

    rows = []
    for r in eq.itertuples():
        unit = MEASURES[r.matt].unit if r.matt in MEASURES else None
        rows.append(
            {
                "Mått": measure_label(r.matt),
                "Lägst": format_value(r.min, unit),
                "Högst": format_value(r.max, unit),
                "Spännvidd": format_value(r.range, unit),
                "Variationskoefficient": format_number(r.cv, 2) or "–",
                "Områden": format_number(r.n),
                "Utanför 95 %": format_number(r.utanfor_95) or "–",
                "Utanför 99,8 %": format_number(r.utanfor_998) or "–",
            }
        )
    return pd.DataFrame(rows).set_index("Mått")


@sectioned
def section_utfall(study: Study, long: pd.DataFrame, *, focus: str | None = None, min_cell: int = 5) -> list[Any]:
    """Raw outcome: share of ended participations to work or studies, ranked and as a funnel plot."""

    missing = _missing(study, OUTCOME_TABLES, "Utfallen")
    if missing:
        return missing
    matt = "utfall_arbete_studier_andel"
    if not _has_values(long, matt):
        return [Note("Inga avslutade deltaganden att redovisa under perioden.")]
    return [
        charts.ranked_bars(long, matt, focus=focus, omraden=_omraden(study), min_cell=min_cell),
        charts.funnel_plot(long, matt, focus=focus, omraden=_omraden(study), min_cell=min_cell),
    ]


@sectioned
def section_justerat(study: Study, long: pd.DataFrame, *, focus: str | None = None, min_cell: int = 5) -> list[Any]:
    """Case-mix adjusted outcome: O/E per area with intervals (chart) and which areas differ (table)."""

    missing = _missing(study, OUTCOME_TABLES, "Det justerade utfallet")
    if missing:
        return missing
    if not _has_values(long, "justerat_utfall_oe"):
        return [
            Note(
                "Det justerade utfallet kan inte skattas: det behövs avslutade deltaganden med både "
                "avslut till arbete eller studier och andra avslut."
            )
        ]
    return [
        charts.ranked_bars(long, "justerat_utfall_oe", focus=focus, omraden=_omraden(study), min_cell=min_cell),
        differing_table(differing_areas(long), study),
    ]


@sectioned
def section_likstallighet(
    study: Study, long: pd.DataFrame, *, focus: str | None = None, min_cell: int = 5
) -> list[Any]:
    """Variation across areas of every measure present (table) and the funnel plot of the share
    offered an intervention within 90 days, when it can be computed."""

    items: list = []
    eq = equality_table(long)
    if len(eq):
        items.append(equality_display(eq))
    if _has_values(long, "erbjudande_andel"):
        items.append(
            charts.funnel_plot(long, "erbjudande_andel", focus=focus, omraden=_omraden(study), min_cell=min_cell)
        )
    items += _missing(study, OUTCOME_TABLES, "Likställigheten i erbjudanden, närvaro och utfall")
    return items
