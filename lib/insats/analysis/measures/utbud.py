"""Utbud: how many interventions, categories and places each area offers, and in which regi."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd

from insats import contract
from insats.analysis.measures.context import (
    Context,
    open_interventions,
    open_share,
    per_area,
    unemployed_recipient_months,
)
from insats.analysis.measures.registry import register
from insats.contract import ALLA, CENTRAL

# --------------------------------------------------------------------------- utbud


@register(
    "utbud_insatser",
    "Antal insatser",
    "antal",
    ["insatser"],
    False,
    "Insatser som räknas som insats och är öppna under perioden; centrala räknas för alla områden.",
)
def utbud_insatser(ctx: Context) -> pd.DataFrame:
    ins = open_interventions(ctx)
    central = int((ins["omrade_kod"] == CENTRAL).sum())
    counts = ins.loc[ins["omrade_kod"] != CENTRAL, "omrade_kod"].value_counts()
    rows = [(a, float(counts.get(a, 0) + central)) for a in ctx.areas] + [(ALLA, float(len(ins)))]
    out = pd.DataFrame(rows, columns=["omrade_kod", "taljare"])
    return out.assign(varde=out["taljare"], namnare=np.nan)


@register(
    "utbud_kategorier",
    "Antal kategorier",
    "antal",
    ["insatser"],
    False,
    "Olika kategorier bland insatserna i utbud_insatser.",
)
def utbud_kategorier(ctx: Context) -> pd.DataFrame:
    ins = open_interventions(ctx)
    central = set(ins.loc[ins["omrade_kod"] == CENTRAL, "kategori"].astype(object))
    rows = []
    for a in ctx.areas:
        cats = set(ins.loc[ins["omrade_kod"] == a, "kategori"].astype(object)) | central
        rows.append((a, float(len(cats))))
    rows.append((ALLA, float(ins["kategori"].astype(object).nunique())))
    out = pd.DataFrame(rows, columns=["omrade_kod", "taljare"])
    return out.assign(varde=out["taljare"], namnare=np.nan)


@register(
    "utbud_platser_per_100",
    "Platser per 100 arbetslösa biståndsmottagare",
    "per_100",
    ["insatser", "personer", "bistand"],
    True,
    "Genomsnittligt antal platser per dag (centrala fördelade efter områdenas andel; en insats räknas för den "
    "del av perioden den är öppen) per 100 vuxna biståndsmottagare med försörjningshinder arbetslöshet som får "
    "bistånd en genomsnittlig månad.",
    count_is_personal=False,
)
def utbud_platser_per_100(ctx: Context) -> pd.DataFrame:
    """Places per 100 unemployed adult recipients, both as averages over the period (same time base).

    ``taljare`` = place-months: the average places open on a day of the period (``area_places_in_period``:
    each intervention weighted by the share of the period's days it is open, central places allocated as
    in M2) × the period's months; ``namnare`` = recipient-months: Σ over the period's months of the adult
    recipients in hinder group arbetslöshet with assistance that month. ``varde = 100 · taljare / namnare``
    = 100 × average places / average monthly recipients, which does not grow or shrink with the period's
    length (the earlier definition divided by everyone with assistance at any time in the period).
    """
    places = ctx.area_places_in_period
    months = ctx.period_months
    n = unemployed_recipient_months(ctx)
    per_area = places.groupby("area")["platser"].sum()
    rows = [(a, float(per_area.get(a, 0.0)) * months, float(n.get(a, 0))) for a in ctx.areas]
    ins = open_interventions(ctx)
    total_places = float((ins["platser"].astype("float64").fillna(0) * open_share(ctx, ins)).sum())  # each once
    rows.append((ALLA, total_places * months, float(sum(n.values()))))
    out = pd.DataFrame(rows, columns=["omrade_kod", "taljare", "namnare"])
    with np.errstate(invalid="ignore", divide="ignore"):
        out["varde"] = np.where(out["namnare"] > 0, 100 * out["taljare"] / out["namnare"], np.nan)
    return out


def _place_share(ctx: Context, mask_col: Callable[[pd.DataFrame], pd.Series]) -> pd.DataFrame:
    places = ctx.area_places
    num = places["platser"].where(mask_col(places), 0.0).to_numpy()
    if not ctx.areas:
        places = places.assign(area=ALLA)
    return per_area(ctx, places["area"].to_numpy(dtype=object), num, places["platser"].to_numpy())


@register(
    "utbud_andel_narvarokrav",
    "Andel platser med närvarokrav",
    "andel",
    ["insatser"],
    False,
    "Platser med närvarokrav / alla platser (centrala fördelade på områdena).",
)
def utbud_andel_narvarokrav(ctx: Context) -> pd.DataFrame:
    return _place_share(ctx, lambda p: p["narvarokrav"])


def _regi_measure(regi: str):
    def func(ctx: Context) -> pd.DataFrame:
        return _place_share(ctx, lambda p: p["regi"] == regi)

    func.__name__ = f"utbud_andel_regi_{regi}"
    func.__doc__ = f"Share of places run in regi {regi}."
    return func


for _regi in contract.codes("regi"):
    register(
        f"utbud_andel_regi_{_regi}",
        f"Andel platser i regi: {contract.label('regi', _regi)}",
        "andel",
        ["insatser"],
        False,
        f"Platser i regi {contract.label('regi', _regi).lower()} / alla platser.",
    )(_regi_measure(_regi))


@register(
    "utbud_diversitet",
    "Mångfald i utbudet",
    "index",
    ["insatser"],
    False,
    "Mångfaldsindex för platsernas fördelning över kategorier: 0 = alla platser i en kategori, högre = "
    "platserna spridda över fler kategorier (indexet förklaras under Metod och förbehåll).",
)
def utbud_diversitet(ctx: Context) -> pd.DataFrame:
    """Shannon diversity H = -Σ p_k ln p_k over the places' categories (0 for one category)."""
    places = ctx.area_places

    def shannon(frame: pd.DataFrame) -> float:
        w = frame.groupby("kategori")["platser"].sum()
        w = w[w > 0]
        if w.sum() <= 0:
            return np.nan
        p = w / w.sum()
        return float(-(p * np.log(p)).sum())

    rows = [(a, shannon(places[places["area"] == a])) for a in ctx.areas]
    rows.append((ALLA, shannon(places)))
    out = pd.DataFrame(rows, columns=["omrade_kod", "varde"])
    return out.assign(taljare=np.nan, namnare=np.nan)
