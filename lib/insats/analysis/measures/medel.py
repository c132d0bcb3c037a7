"""Medel: money spent on interventions per area, the feriejobb question, money per participant."""

from __future__ import annotations

import numpy as np
import pandas as pd

from insats.analysis.measures.context import Context, period_years
from insats.analysis.measures.registry import register
from insats.contract import ALLA, CENTRAL

# --------------------------------------------------------------------------- medel


def medel_in_period(ctx: Context) -> pd.DataFrame:
    m = ctx.study["medel"]
    return m[m["ar"].isin(period_years(ctx))]


def _medel_rows(ctx: Context, m: pd.DataFrame, num_mask: pd.Series | None) -> pd.DataFrame:
    area = m["omrade_kod"].astype(object)
    den = m["belopp"].astype("float64").fillna(0)
    num = den.where(num_mask, 0.0) if num_mask is not None else den
    codes = ctx.areas + ([CENTRAL] if (area == CENTRAL).any() else [])
    rows = []
    for code in codes + [ALLA]:
        sel = np.ones(len(m), bool) if code == ALLA else (area == code).to_numpy()
        rows.append((code, float(num[sel].sum()), float(den[sel].sum())))
    return pd.DataFrame(rows, columns=["omrade_kod", "taljare", "namnare"])


@register(
    "medel_totalt",
    "Medel totalt (kr)",
    "kr",
    ["medel"],
    False,
    "Summa belopp i medel för periodens år (alla kategorier, även de som inte räknas som insats).",
)
def medel_totalt(ctx: Context) -> pd.DataFrame:
    """SEK in the period. ``medel`` is yearly, so every year that overlaps the period counts whole."""
    out = _medel_rows(ctx, medel_in_period(ctx), None)
    return out.assign(varde=out["taljare"], namnare=np.nan)


@register(
    "medel_andel_feriejobb",
    "Andel av medlen till feriejobb",
    "andel",
    ["medel"],
    False,
    "Belopp i kategori feriejobb / alla belopp.",
)
def medel_andel_feriejobb(ctx: Context) -> pd.DataFrame:
    m = medel_in_period(ctx)
    out = _medel_rows(ctx, m, m["kategori"].astype(object) == "feriejobb")
    return out.assign(
        varde=np.where(out["namnare"] > 0, out["taljare"] / out["namnare"].where(out["namnare"] > 0), np.nan)
    )


@register(
    "medel_andel_raknas_som_insats",
    "Andel av medlen som räknas som insats",
    "andel",
    ["medel"],
    False,
    "Belopp som räknas som insats / alla belopp.",
)
def medel_andel_raknas_som_insats(ctx: Context) -> pd.DataFrame:
    m = medel_in_period(ctx)
    out = _medel_rows(ctx, m, m["raknas_som_insats"].fillna(False).astype(bool))
    return out.assign(
        varde=np.where(out["namnare"] > 0, out["taljare"] / out["namnare"].where(out["namnare"] > 0), np.nan)
    )


@register(
    "medel_per_deltagare",
    "Medel per deltagare (kr)",
    "kr",
    ["medel", "deltaganden", "personer"],
    True,
    "Belopp som räknas som insats / personer som började en insats under perioden.",
    count_is_personal=False,
)
def medel_per_deltagare(ctx: Context) -> pd.DataFrame:
    """SEK counted as intervention per participant who started in the period.

    Participants are distinct persons, counted in their own area; CENTRAL spending is in the
    whole-study row only (it cannot be attributed to one area).
    """
    m = medel_in_period(ctx)
    sek = _medel_rows(ctx, m, m["raknas_som_insats"].fillna(False).astype(bool)).set_index("omrade_kod")["taljare"]
    p = ctx.participations
    started = p[ctx.in_period(p["start"]) & (p["pos"] >= 0)].drop_duplicates("pos")
    counts = started["area"].value_counts()
    rows = [(a, float(sek.get(a, 0.0)), float(counts.get(a, 0))) for a in ctx.areas]
    rows.append((ALLA, float(sek.get(ALLA, 0.0)), float(len(started))))
    out = pd.DataFrame(rows, columns=["omrade_kod", "taljare", "namnare"])
    with np.errstate(invalid="ignore", divide="ignore"):
        out["varde"] = np.where(out["namnare"] > 0, out["taljare"] / out["namnare"], np.nan)
    return out
