"""Medel: money per category and area, and the feriejobb question under both definitions."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np
import pandas as pd

from insats import charts, contract
from insats.analysis.privacy import format_table
from insats.contract import CENTRAL
from insats.data.study import Study
from insats.reports.common import measure_table
from insats.reports.kartlaggning.common import (
    COMMON_DEFINITIONS,
    MEDEL_MEASURES,
    _areas,
    _areas_word,
    _has_values,
    _missing,
    _names,
    _omraden,
    join_names,
    period_years,
    present,
    sectioned,
)
from insats.reports.render import Note, literal
from insats.text import format_number

# --------------------------------------------------------------------------- medel


def _medel(study: Study, start, end) -> pd.DataFrame:
    m = study["medel"]
    m = m[m["ar"].isin(period_years(start, end))]
    return pd.DataFrame(
        {
            "omrade_kod": m["omrade_kod"].astype(str).to_numpy(),
            "ar": m["ar"].astype("int64").to_numpy(),
            "kategori": m["kategori"].astype(object).to_numpy(),
            "belopp": m["belopp"].astype("float64").fillna(0.0).to_numpy(),
            "raknas": m["raknas_som_insats"].fillna(False).astype(bool).to_numpy(),
        }
    )


def spending_by_category(study: Study, start, end) -> pd.DataFrame:
    """Kronor per area (rows; then ``CENTRAL``) and category (columns, ``kategori_medel`` order,
    only categories with money) for the period's years, with a ``Totalt`` column."""
    m = _medel(study, start, end)
    rows = _areas(study) + ([CENTRAL] if (m["omrade_kod"] == CENTRAL).any() else [])
    cols = [c for c in contract.codes("kategori_medel") if c in set(m["kategori"])]
    wide = m.pivot_table(index="omrade_kod", columns="kategori", values="belopp", aggfunc="sum", fill_value=0.0)
    wide = wide.reindex(index=rows, columns=cols, fill_value=0.0).astype(float)
    wide["Totalt"] = wide.sum(axis=1)
    wide.index.name, wide.columns.name = "omrade_kod", "kategori"
    return wide


def spending_table(study: Study, start, end) -> pd.DataFrame:
    """``spending_by_category`` for display, in thousands of kronor (tkr)."""
    wide = spending_by_category(study, start, end) / 1000.0
    shown = format_table(wide)
    names = _names(study)
    shown.columns = [contract.label("kategori_medel", c) if c != "Totalt" else "Totalt" for c in wide.columns]
    shown.index = [names.get(c, c) for c in wide.index]
    shown.index.name = "Område (tkr)"
    return shown


def _population(study: Study, years: Iterable[int]) -> tuple[pd.DataFrame, str]:
    """Population per area and year: folkmangd_18_64 when given for every row, else folkmangd."""
    o = study["omraden"]
    o = o[o["ar"].isin(list(years))]
    col = "folkmangd_18_64" if "folkmangd_18_64" in o and len(o) and o["folkmangd_18_64"].notna().all() else "folkmangd"
    pop = pd.DataFrame(
        {
            "omrade_kod": o["omrade_kod"].astype(str).to_numpy(),
            "ar": o["ar"].astype("int64").to_numpy(),
            "befolkning": o[col].astype("float64").to_numpy(),
        }
    )
    return pop.groupby(["omrade_kod", "ar"], as_index=False)["befolkning"].sum(), col


def feriejobb_comparison(study: Study, start, end) -> pd.DataFrame:
    """Money for interventions per inhabitant and year under the three ``COMMON_DEFINITIONS``,
    and each area's rank under each (1 = most kronor per inhabitant).

    * ``egen``: lines the area itself marks ``raknas_som_insats`` (its own definition);
    * ``utan_feriejobb``: every category except administration and feriejobb, whatever the mark;
    * ``med_feriejobb``: every category except administration, whatever the mark.

    Per inhabitant and year = Σ kronor / Σ inhabitants over the period's years for which the area
    has a population (``folkmangd_18_64``, else ``folkmangd``, in ``omraden``). ``CENTRAL`` money
    belongs to no area and is left out. ``raknar_feriejobb`` is True when the area marks its
    feriejobb lines as intervention, False when not, None when it has none (or marks them
    differently in different years: ``"delvis"``). ``flytt_utan``/``flytt_med``: places gained in
    the ranking (positive = moves up) when going from the own definition to the common one.
    """
    m = _medel(study, start, end)
    pop, col = _population(study, period_years(start, end))
    m = m.merge(pop, on=["omrade_kod", "ar"], how="inner")[["omrade_kod", "ar", "kategori", "belopp", "raknas"]]
    rows = []
    for code in _areas(study):
        mine = m[m["omrade_kod"] == code]
        inv = float(pop.loc[pop["omrade_kod"] == code, "befolkning"].sum())
        feri = mine[mine["kategori"] == "feriejobb"]
        marks = set(feri["raknas"])
        counts = None if not marks else (True if marks == {True} else False if marks == {False} else "delvis")
        no_admin = mine["kategori"] != "administration"
        sums = {
            "egen": float(mine.loc[mine["raknas"], "belopp"].sum()),
            "utan_feriejobb": float(mine.loc[no_admin & (mine["kategori"] != "feriejobb"), "belopp"].sum()),
            "med_feriejobb": float(mine.loc[no_admin, "belopp"].sum()),
        }
        row = {
            "omrade_kod": code,
            "raknar_feriejobb": counts,
            "feriejobb_kr": float(feri["belopp"].sum()),
            "invanare": inv,
        }
        for key, kr in sums.items():
            row[f"kr_{key}"] = kr
            row[f"per_inv_{key}"] = kr / inv if inv > 0 else np.nan
        rows.append(row)
    out = pd.DataFrame(rows)
    if out.empty:
        return out
    for key in COMMON_DEFINITIONS:
        out[f"plats_{key}"] = out[f"per_inv_{key}"].rank(ascending=False, method="min").astype("Int64")
    out["flytt_utan"] = out["plats_egen"] - out["plats_utan_feriejobb"]
    out["flytt_med"] = out["plats_egen"] - out["plats_med_feriejobb"]
    out.attrs["befolkning"] = col
    return out


def feriejobb_table(comp: pd.DataFrame, study: Study) -> pd.DataFrame:
    """``feriejobb_comparison`` for display, ordered by the own definition's ranking."""
    names = _names(study)
    comp = comp.sort_values(["plats_egen", "omrade_kod"])
    pop = "invånare 18–64 år" if comp.attrs.get("befolkning") == "folkmangd_18_64" else "invånare"

    def mark(v):
        return {True: "Ja", False: "Nej", "delvis": "Delvis"}.get(v, "–")

    def move(v):
        if pd.isna(v):
            return ""
        return "±0" if v == 0 else (f"+{int(v)}" if v > 0 else format_number(int(v)))

    out = pd.DataFrame(
        {
            "Räknar feriejobb som insats": [mark(v) for v in comp["raknar_feriejobb"]],
            f"Egen definition, kr per {pop} och år": [format_number(v) for v in comp["per_inv_egen"]],
            "Plats (egen)": [format_number(v) for v in comp["plats_egen"]],
            f"Utan feriejobb, kr per {pop} och år": [format_number(v) for v in comp["per_inv_utan_feriejobb"]],
            "Plats (utan feriejobb)": [format_number(v) for v in comp["plats_utan_feriejobb"]],
            "Flyttar (utan)": [move(v) for v in comp["flytt_utan"]],
            f"Med feriejobb, kr per {pop} och år": [format_number(v) for v in comp["per_inv_med_feriejobb"]],
            "Plats (med feriejobb)": [format_number(v) for v in comp["plats_med_feriejobb"]],
            "Flyttar (med)": [move(v) for v in comp["flytt_med"]],
        },
        index=[names.get(c, c) for c in comp["omrade_kod"]],
    )
    out.index.name = "Område"
    return out


@sectioned
def section_medel(study: Study, long: pd.DataFrame, start, end, *, focus: str | None = None) -> list[Any]:
    """Spending by category: the share chart, kronor per area and category, the medel measures."""

    missing = _missing(study, ["medel"], "Användningen av medel")
    if missing:
        return missing
    medel = study["medel"]
    medel = medel[medel["ar"].isin(period_years(start, end))]
    items: list = [
        charts.spending_bars(medel, omraden=_omraden(study), normalize=True, focus=focus),
        spending_table(study, start, end),
    ]
    ids = present(long, MEDEL_MEASURES)
    if ids:
        items.append(measure_table(long, ids, omraden=_omraden(study)))
    return items


@sectioned
def section_feriejobb(
    study: Study, long: pd.DataFrame, start, end, *, focus: str | None = None, min_cell: int = 5
) -> list[Any]:
    """The feriejobb question: share of the money to feriejobb (chart), and the ranking by money
    per inhabitant under each area's own and the two common definitions (sentence and table)."""

    missing = _missing(study, ["medel", "omraden"], "Jämförelsen av feriejobb")
    if missing:
        return missing
    items: list = []
    if _has_values(long, "medel_andel_feriejobb"):
        # kronor, not persons: no sampling interval; CENTRAL money belongs to no area
        items.append(
            charts.ranked_bars(
                long[long["omrade_kod"] != CENTRAL],
                "medel_andel_feriejobb",
                focus=focus,
                intervals=False,
                omraden=_omraden(study),
                min_cell=min_cell,
            )
        )
    comp = feriejobb_comparison(study, start, end)
    if len(comp):
        items += [Note(_feriejobb_sentence(comp, _names(study))), feriejobb_table(comp, study)]
    return items


def _feriejobb_sentence(comp: pd.DataFrame, names: Mapping[str, str]) -> str:
    """How the ranking by money per inhabitant changes under the two common definitions."""
    pop = "invånare 18–64 år" if comp.attrs.get("befolkning") == "folkmangd_18_64" else "invånare"
    parts = []
    for col, plats, text in (
        ("flytt_utan", "plats_utan_feriejobb", "inte räknas någonstans"),
        ("flytt_med", "plats_med_feriejobb", "räknas överallt"),
    ):
        moved = comp[comp[col].fillna(0) != 0]
        if not len(moved):
            parts.append(f"Om feriejobb {text} ändras inte rangordningen.")
            continue
        big = moved.loc[moved[col].abs() == moved[col].abs().max()]
        who = join_names(
            [
                f"{literal(names.get(r.omrade_kod, r.omrade_kod))} (från plats {int(r.plats_egen)} till "
                f"{int(getattr(r, plats))})"
                for r in big.itertuples()
            ]
        )
        parts.append(
            f"Om feriejobb {text} byter {format_number(len(moved))} av {_areas_word(len(comp))} plats; "
            f"störst är flytten för {who}."
        )
    return f"Områdena rangordnas efter insatsmedel per {pop} och år med sin egen definition. " + " ".join(parts)
