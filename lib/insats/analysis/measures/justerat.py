"""The case-mix adjusted outcome: observed / expected endings in work or studies per area."""

from __future__ import annotations

import numpy as np
import pandas as pd

from insats.analysis.measures.context import Context
from insats.analysis.measures.registry import MEASURES, Measure, register
from insats.analysis.measures.utfall import ended_participations
from insats.analysis.stats import observed_expected
from insats.contract import ALLA

# --------------------------------------------------------------------------- case-mix adjusted


OE_CATEGORICAL = ["kon", "utrikes_fodd", "utbildning", "hindergrupp", "aldersgrupp"]
OE_NUMERIC = ["manader_fore"]


def outcome_frame(ctx: Context) -> pd.DataFrame:
    """One row per participation ended in the period, with the outcome (arbete_studier) and the
    individual characteristics of the case-mix model.

    * age group at the start year (18–24, 25–34, 35–44, 45–54, 55+), so the model need not be linear in age;
    * months on assistance in the 12 calendar months before the start month (a bounded window,
      so people are comparable whatever the data's first month);
    * sex, born abroad (empty = its own level ``okand``), education (empty = okand), hinder group.
    """
    q = ended_participations(ctx)
    pos = q["pos"].to_numpy()
    pers = ctx.persons
    start_year = pd.DatetimeIndex(q["start"]).year.to_numpy()
    age = start_year - ctx.birth_year[pos]
    t0 = ctx.month_index(q["start"])
    cums = np.concatenate(
        [np.zeros((len(ctx.persons), 1), np.int32), np.cumsum(ctx.panel, axis=1, dtype=np.int32)], axis=1
    )
    lo = np.clip(t0 - 12, 0, ctx.n_months)
    hi = np.clip(t0, 0, ctx.n_months)
    before = cums[pos, hi] - cums[pos, lo]
    born = pers["utrikes_fodd"].astype("boolean").to_numpy(dtype=object, na_value=None)[pos]
    return pd.DataFrame(
        {
            "area": q["area"].to_numpy(),
            "kategori": q.get("kategori", pd.Series([None] * len(q))).to_numpy(),
            "arbete_studier": q["arbete_studier"].to_numpy().astype(int),
            "kon": pers["kon"].astype(object).to_numpy()[pos],
            "utrikes_fodd": np.array(
                ["ja" if b is True else "nej" if b is False else "okand" for b in born], dtype=object
            ),
            "utbildning": pers["utbildning"].astype(object).fillna("okand").to_numpy()[pos],
            "hindergrupp": ctx.person_group[pos],
            "aldersgrupp": pd.cut(
                age, [-np.inf, 24, 34, 44, 54, np.inf], labels=["18_24", "25_34", "35_44", "45_54", "55_plus"]
            ).astype(object),
            "manader_fore": before.astype(float),
        }
    )


@register(
    "justerat_utfall_oe",
    "Avslut till arbete/studier, observerat / förväntat",
    "kvot",
    ["deltaganden", "personer", "bistand"],
    True,
    "Observerade / förväntade avslut till arbete eller studier; förväntat från en logistisk modell av "
    "ålder, kön, utrikes född, utbildning, försörjningshinder och bistånd före start, skattad utan område.",
)
def justerat_utfall_oe(ctx: Context) -> pd.DataFrame:
    """O/E per area with a 95 % interval; the model is fitted once on all areas (without area).

    Extra rows are returned in ``attrs["extra"]`` (ids ``justerat_utfall_oe_lo``/``_hi`` and
    ``justerat_utfall_forvantat``) and stacked by ``compute_measures``.
    """

    frame = outcome_frame(ctx)
    rows = []
    if len(frame) and frame["arbete_studier"].nunique() == 2:
        oe = observed_expected(
            frame, outcome="arbete_studier", group="area", categorical=OE_CATEGORICAL, numeric=OE_NUMERIC
        )
        oe = oe.reindex(ctx.areas)
        oe[["observed", "n"]] = oe[["observed", "n"]].fillna(0)  # an area with no ended participations
        for a in ctx.areas:
            r = oe.loc[a]
            rows.append((a, r["oe"], r["observed"], r["n"], r["lo"], r["hi"], r["expected"]))
        n = float(len(frame))
        o = float(frame["arbete_studier"].sum())
        rows.append((ALLA, 1.0, o, n, np.nan, np.nan, o))
    else:
        rows = [(a, np.nan, np.nan, np.nan, np.nan, np.nan, np.nan) for a in ctx.areas + [ALLA]]
    out = pd.DataFrame(rows, columns=["omrade_kod", "varde", "taljare", "namnare", "lo", "hi", "forvantat"])
    extra = []
    for col, mid in (
        ("lo", "justerat_utfall_oe_lo"),
        ("hi", "justerat_utfall_oe_hi"),
        ("forvantat", "justerat_utfall_forvantat"),
    ):
        extra.append(
            pd.DataFrame(
                {
                    "matt": mid,
                    "omrade_kod": out["omrade_kod"],
                    "varde": out[col],
                    "taljare": out["taljare"],
                    "namnare": out["namnare"],
                }
            )
        )
    result = out[["omrade_kod", "varde", "taljare", "namnare"]].copy()
    result.attrs["extra"] = extra
    return result


for _mid, _label in (
    ("justerat_utfall_oe_lo", "O/E, nedre gräns 95 %"),
    ("justerat_utfall_oe_hi", "O/E, övre gräns 95 %"),
    ("justerat_utfall_forvantat", "Förväntade avslut till arbete/studier"),
):
    MEASURES[_mid] = Measure(
        _mid,
        _label,
        "kvot" if "oe" in _mid else "antal",
        MEASURES["justerat_utfall_oe"].needs,
        True,
        MEASURES["justerat_utfall_oe"].definition,
        None,
    )
