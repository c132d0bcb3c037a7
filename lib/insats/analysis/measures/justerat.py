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


OE_CATEGORICAL = ["kon", "utrikes_fodd", "utbildning", "hindergrupp", "aldersgrupp", "fore_fonster"]
OE_NUMERIC = ["andel_fore"]


def outcome_frame(ctx: Context) -> pd.DataFrame:
    """One row per participation ended in the period, with the outcome (arbete_studier) and the
    individual characteristics of the case-mix model.

    * age group at the start year (18–24, 25–34, 35–44, 45–54, 55+), so the model need not be linear in age;
    * assistance in the 12 calendar months before the start month: ``manader_fore`` months on assistance
      among the ``observed`` months of that window that lie inside the data (the data's first month cuts
      the window for early starts), and in the model ``andel_fore`` = manader_fore / observed (0 when no
      month is observed) with ``fore_fonster`` (observed months: ``12``, ``6_11``, ``1_5``, ``0``) as a
      category of its own: a short window then reads as unknown history, not as little assistance
      (``docs/antaganden.md``, M14);
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
    observed = hi - lo  # months of the 12-month window that lie inside the data (0–12)
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
            "andel_fore": np.where(observed > 0, before / np.maximum(observed, 1), 0.0).astype(float),
            "fore_fonster": np.select(
                [observed >= 12, observed >= 6, observed >= 1], ["12", "6_11", "1_5"], "0"
            ).astype(object),
        }
    )


def outcome_model(ctx: Context, *, folds: int = 0) -> pd.DataFrame | None:
    """The case-mix model of ``justerat_utfall_oe``: ``stats.observed_expected`` per area on ``outcome_frame``,
    with its model checks in ``attrs`` (c-statistic, calibration by tenths, Hosmer–Lemeshow; with
    ``folds`` ≥ 2 also cross-validated). None when there are no ended participations with both outcomes.
    The O/E values do not depend on ``folds``; the measure uses 0 (fast), a method section 5."""
    frame = outcome_frame(ctx)
    if not len(frame) or frame["arbete_studier"].nunique() != 2:
        return None
    return observed_expected(
        frame, outcome="arbete_studier", group="area", categorical=OE_CATEGORICAL, numeric=OE_NUMERIC, folds=folds
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
    """O/E per area with a 95 % score interval (``stats.observed_expected``); the model is fitted once on all
    areas (without area).

    Extra rows are returned in ``attrs["extra"]`` and stacked by ``compute_measures``: ids
    ``justerat_utfall_oe_lo``/``_hi`` (the interval), ``justerat_utfall_forvantat`` (E) and
    ``justerat_utfall_oe_varians`` (the variance of O − E under no area effect, from which likställighet
    computes the overdispersion-adjusted flags of the published areas), each with the area's ``taljare`` and
    ``namnare`` so that they are suppressed with it.
    """

    oe = outcome_model(ctx)
    rows = []
    if oe is not None:
        # the whole study: every participation the model used (Σ O = Σ E, so O/E is 1)
        n, o = float(oe["n"].sum()), float(oe["observed"].sum())
        oe = oe.reindex(ctx.areas)
        oe[["observed", "n"]] = oe[["observed", "n"]].fillna(0)  # an area with no ended participations
        for a in ctx.areas:
            r = oe.loc[a]
            rows.append((a, r["oe"], r["observed"], r["n"], r["lo"], r["hi"], r["expected"], r["varians"]))
        rows.append((ALLA, 1.0, o, n, np.nan, np.nan, o, np.nan))
    else:
        rows = [(a, np.nan, np.nan, np.nan, np.nan, np.nan, np.nan, np.nan) for a in ctx.areas + [ALLA]]
    out = pd.DataFrame(rows, columns=["omrade_kod", "varde", "taljare", "namnare", "lo", "hi", "forvantat", "varians"])
    extra = []
    for col, mid in (
        ("lo", "justerat_utfall_oe_lo"),
        ("hi", "justerat_utfall_oe_hi"),
        ("forvantat", "justerat_utfall_forvantat"),
        ("varians", "justerat_utfall_oe_varians"),
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


for _mid, _label, _unit in (
    ("justerat_utfall_oe_lo", "O/E, nedre gräns 95 %", "kvot"),
    ("justerat_utfall_oe_hi", "O/E, övre gräns 95 %", "kvot"),
    ("justerat_utfall_forvantat", "Förväntade avslut till arbete/studier", "antal"),
    ("justerat_utfall_oe_varians", "O/E, varians för observerat − förväntat", "index"),
):
    MEASURES[_mid] = Measure(
        _mid,
        _label,
        _unit,
        MEASURES["justerat_utfall_oe"].needs,
        True,
        MEASURES["justerat_utfall_oe"].definition,
        None,
    )
