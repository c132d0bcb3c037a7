"""Medel: money spent on interventions per area, the feriejobb question, money per participant."""

from __future__ import annotations

import numpy as np
import pandas as pd

from insats.analysis.measures.context import Context, participant_months, period_years
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
    "Medel per deltagare och månad (kr)",
    "kr",
    ["medel", "deltaganden", "personer"],
    True,
    "Medel som räknas som insats (utom feriejobb) per månad i perioden / personer som deltar i en insats som "
    "räknas som insats (utom feriejobb) en genomsnittlig månad. Centrala medel redovisas på en egen rad och "
    "ingår inte i hela studiens värde.",
    count_is_personal=False,
)
def medel_per_deltagare(ctx: Context) -> pd.DataFrame:
    """SEK counted as intervention per participant and month: the same months in numerator and denominator.

    ``taljare`` = Σ over the period's months of a twelfth of that calendar year's ``medel`` counted as
    intervention (``raknas_som_insats``), feriejobb left out (summer jobs for school youth have no
    participants among the recipients); ``namnare`` = participant-months: Σ over the period's months of the
    distinct persons of the area with a participation going on some day of the month, in interventions
    counted as intervention and not feriejobb (all participations without ``insatser``). ``varde`` =
    taljare / namnare, kronor per participant and month, which does not depend on the period's length
    (the earlier definition divided a whole year's money by one period's starters).

    ``CENTRAL`` money is a row of its own (against every area's participant-months: the central money per
    participant and month); ``ALLA`` is the areas' own money against their participants, without central
    money, so that it can be compared with the areas (and the rest of the study is ``ALLA`` minus the area).
    """
    m = medel_in_period(ctx)
    counted = m["raknas_som_insats"].fillna(False).astype(bool) & (m["kategori"].astype(object) != "feriejobb")
    months = pd.Series(pd.period_range(ctx.params.start, ctx.params.end, freq="M").year, dtype="int64").value_counts()
    share = m["ar"].map(months).fillna(0).astype("float64") / 12.0
    sek = (m["belopp"].astype("float64").fillna(0) * share).where(counted, 0.0)
    area = m["omrade_kod"].astype(object)
    p = ctx.participations
    if "kategori" in p and "insatser" in ctx.study:
        ins = ctx.study["insatser"]
        counts_as = dict(zip(ins["insats_id"].astype(str), ins["raknas_som_insats"].fillna(False).astype(bool)))
        ids = ctx.study["deltaganden"]["insats_id"].astype(str).map(counts_as).fillna(False).to_numpy(dtype=bool)
        p = p[ids & (p["kategori"].astype(object) != "feriejobb").to_numpy()]
    pm = participant_months(ctx, p)
    rows = [(a, float(sek[(area == a).to_numpy()].sum()), float(pm.get(a, 0.0))) for a in ctx.areas]
    total_den = float(pm.sum())
    rows.append((ALLA, float(sum(r[1] for r in rows)), total_den))
    if (area == CENTRAL).any():
        rows.insert(len(ctx.areas), (CENTRAL, float(sek[(area == CENTRAL).to_numpy()].sum()), total_den))
    out = pd.DataFrame(rows, columns=["omrade_kod", "taljare", "namnare"])
    with np.errstate(invalid="ignore", divide="ignore"):
        out["varde"] = np.where(out["namnare"] > 0, out["taljare"] / out["namnare"], np.nan)
    return out
