"""The area's spending by category against the whole study's."""

from __future__ import annotations

import numpy as np
import pandas as pd

from insats import contract
from insats.analysis.measures import (
    Context,
    medel_in_period,
    period_years,
)
from insats.charts import format_value
from insats.data.study import Study
from insats.reports.profil.figures import NOT_APPLICABLE, _lc
from insats.reports.profil.interventions import _params
from insats.reports.render import literal

# --------------------------------------------------------------------------- spending


def spending_comparison(study: Study, omrade: str, start, end) -> pd.DataFrame:
    """The area's spending by category against the whole study's (``CENTRAL`` included), for the
    years of the period (``medel`` is yearly: the rule of ``insats.analysis.measures.medel_totalt``).

    Index ``kategori`` (code-list order, categories with money in either); columns
    ``belopp_omrade, andel_omrade, belopp_studie, andel_studie, raknas_omrade, raknas_studie``
    (the last two: kronor counted as intervention). ``attrs["ar"]``: the years.
    """

    ctx = Context(study, _params(start, end))
    m = medel_in_period(ctx)
    years = period_years(ctx)
    belopp = m["belopp"].astype("float64").fillna(0.0)
    raknas = belopp.where(m["raknas_som_insats"].fillna(False).astype(bool), 0.0)
    kat = m["kategori"].astype(object)
    mine = (m["omrade_kod"].astype(str) == str(omrade)).to_numpy()
    frame = pd.DataFrame(
        {
            "belopp_omrade": belopp[mine].groupby(kat[mine]).sum(),
            "belopp_studie": belopp.groupby(kat).sum(),
            "raknas_omrade": raknas[mine].groupby(kat[mine]).sum(),
            "raknas_studie": raknas.groupby(kat).sum(),
        }
    ).fillna(0.0)
    order = [c for c in contract.codes("kategori_medel") if c in frame.index]
    order += sorted(set(frame.index) - set(order))
    frame = frame.reindex(order)
    frame = frame[(frame["belopp_omrade"] != 0) | (frame["belopp_studie"] != 0)]
    with np.errstate(invalid="ignore", divide="ignore"):
        for who in ("omrade", "studie"):
            total = frame[f"belopp_{who}"].sum()
            frame[f"andel_{who}"] = frame[f"belopp_{who}"] / total if total > 0 else np.nan
    frame.index.name = "kategori"
    frame = frame[["belopp_omrade", "andel_omrade", "belopp_studie", "andel_studie", "raknas_omrade", "raknas_studie"]]
    frame.attrs["ar"] = years
    return frame


def _years_text(years: list[int]) -> str:
    return str(years[0]) if len(years) == 1 else f"{years[0]}–{years[-1]}"


def spending_table(frame: pd.DataFrame, name: str) -> pd.DataFrame:
    """Display table of ``spending_comparison`` with a total row; kronor are not about persons."""
    rows = []
    for kat, r in frame.iterrows():
        rows.append(
            (
                contract.label("kategori_medel", str(kat)),
                r["belopp_omrade"],
                r["andel_omrade"],
                r["belopp_studie"],
                r["andel_studie"],
            )
        )
    tot_o, tot_s = frame["belopp_omrade"].sum(), frame["belopp_studie"].sum()
    rows.append(("Totalt", tot_o, 1.0 if tot_o > 0 else np.nan, tot_s, 1.0 if tot_s > 0 else np.nan))
    return pd.DataFrame(
        {
            "Kategori": [r[0] for r in rows],
            f"{name} (kr)": [format_value(r[1], "kr") for r in rows],
            f"{name}, andel": [format_value(r[2], "andel") or NOT_APPLICABLE for r in rows],
            "Hela studien (kr)": [format_value(r[3], "kr") for r in rows],
            "Hela studien, andel": [format_value(r[4], "andel") or NOT_APPLICABLE for r in rows],
        }
    ).set_index("Kategori")


def spending_sentences(frame: pd.DataFrame, name: str) -> list[str]:
    """Swedish sentences on the area's spending against the whole study's.

    The total, the feriejobb share and the share counted as intervention equal the measures
    ``medel_totalt``, ``medel_andel_feriejobb`` and ``medel_andel_raknas_som_insats``.
    """
    years = _years_text(frame.attrs.get("ar", [])) if frame.attrs.get("ar") else "perioden"
    tot_o, tot_s = frame["belopp_omrade"].sum(), frame["belopp_studie"].sum()
    if tot_o <= 0:
        return [f"{literal(name)} har inga medel redovisade för {years}."]
    pct = lambda x: format_value(x, "andel")  # noqa: E731  (a one-line local helper)
    feri_o = frame["belopp_omrade"].get("feriejobb", 0.0) / tot_o
    feri_s = frame["belopp_studie"].get("feriejobb", 0.0) / tot_s
    rak_o = frame["raknas_omrade"].sum() / tot_o
    rak_s = frame["raknas_studie"].sum() / tot_s
    out = [
        f"{literal(name)} redovisar {format_value(tot_o, 'kr')} i medel för {years}, {pct(tot_o / tot_s)} av hela "
        f"studiens {format_value(tot_s, 'kr')}.",
        f"Av områdets medel gick {pct(feri_o)} till feriejobb (hela studien {pct(feri_s)}) och "
        f"{pct(rak_o)} räknas som insats (hela studien {pct(rak_s)}).",
    ]
    diff = (frame["andel_omrade"] - frame["andel_studie"]).dropna()
    if len(diff):
        kat = diff.abs().idxmax()
        r = frame.loc[kat]
        out.append(
            f"Störst skillnad mot hela studien: {_lc(contract.label('kategori_medel', str(kat)))}, "
            f"{pct(r['andel_omrade'])} av områdets medel mot {pct(r['andel_studie'])}."
        )
    return out
