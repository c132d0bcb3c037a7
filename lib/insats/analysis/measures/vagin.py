"""En väg in: assessments of arbetsförmåga, waiting times and what follows them."""

from __future__ import annotations

import numpy as np
import pandas as pd

from insats.analysis.measures.context import Context, per_area, stat_per_area
from insats.analysis.measures.registry import register

# --------------------------------------------------------------------------- en väg in


def _assessments(ctx: Context) -> pd.DataFrame:
    b = ctx.study["bedomningar"]
    b = b[ctx.in_period(b["ansokan_datum"])]
    pos = ctx.person_pos(b["person_id"])
    days = (b["bedomning_datum"] - b["ansokan_datum"]).dt.days.to_numpy(dtype="float64", na_value=np.nan)
    return pd.DataFrame(
        {
            "pos": pos,
            "area": ctx.person_area[pos],
            "days": days,
            "bedomd": b["bedomning_datum"].notna().to_numpy(),
            "bedomning": b["bedomning_datum"].to_numpy(),
            "resultat": b["resultat"].astype(object).to_numpy(),
        }
    )


_NEEDS_VAGIN = ["bedomningar", "personer"]


@register(
    "vagin_andel_bedomda",
    "Andel ansökningar med bedömning",
    "andel",
    _NEEDS_VAGIN,
    True,
    "Bland ansökningar under perioden: andel med bedömningsdatum.",
)
def vagin_andel_bedomda(ctx: Context) -> pd.DataFrame:
    a = _assessments(ctx)
    return per_area(ctx, a["area"].to_numpy(), a["bedomd"].to_numpy(), np.ones(len(a)))


@register(
    "vagin_dagar_median",
    "Dagar till bedömning, median",
    "dagar",
    _NEEDS_VAGIN,
    True,
    "Median av dagar från ansökan till bedömning, för bedömda ansökningar under perioden.",
)
def vagin_dagar_median(ctx: Context) -> pd.DataFrame:
    a = _assessments(ctx)
    a = a[a["bedomd"]]
    return stat_per_area(ctx, a["area"].to_numpy(), a["days"].to_numpy(), np.median)


@register(
    "vagin_dagar_p90",
    "Dagar till bedömning, 90:e percentilen",
    "dagar",
    _NEEDS_VAGIN,
    True,
    "90:e percentilen av dagar från ansökan till bedömning (linjär interpolation).",
)
def vagin_dagar_p90(ctx: Context) -> pd.DataFrame:
    a = _assessments(ctx)
    a = a[a["bedomd"]]
    return stat_per_area(ctx, a["area"].to_numpy(), a["days"].to_numpy(), lambda v: np.percentile(v, 90))


@register(
    "vagin_andel_30_dagar",
    "Andel bedömda inom 30 dagar",
    "andel",
    _NEEDS_VAGIN,
    True,
    "Bland alla ansökningar under perioden: andel bedömda inom 30 dagar (ej bedömda räknas som inte inom 30).",
)
def vagin_andel_30_dagar(ctx: Context) -> pd.DataFrame:
    a = _assessments(ctx)
    return per_area(ctx, a["area"].to_numpy(), (a["bedomd"] & (a["days"] <= 30)).to_numpy(), np.ones(len(a)))


@register(
    "vagin_andel_insats_90_dagar",
    "Andel med arbetsförmåga som börjar insats inom 90 dagar",
    "andel",
    ["bedomningar", "personer", "deltaganden"],
    True,
    "Bland bedömda med hel eller delvis arbetsförmåga: andel som börjar ett deltagande 0–90 dagar efter bedömningen.",
)
def vagin_andel_insats_90_dagar(ctx: Context) -> pd.DataFrame:
    """A start on the assessment day counts (0 days); a start before it does not."""
    a = _assessments(ctx)
    a = a[a["bedomd"] & a["resultat"].isin(["hel", "delvis"]) & (a["pos"] >= 0)].reset_index(drop=True)
    p = ctx.participations[["pos", "start"]]
    m = a.reset_index().merge(p, on="pos", how="left")
    days = (m["start"] - m["bedomning"]).dt.days
    m["hit"] = (days >= 0) & (days <= ctx.params.insats_dagar_efter_bedomning)
    hit = m.groupby("index")["hit"].any().reindex(range(len(a)), fill_value=False).to_numpy()
    return per_area(ctx, a["area"].to_numpy(), hit, np.ones(len(a)))
