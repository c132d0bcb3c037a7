"""En väg in: assessments of arbetsförmåga, waiting times and what follows them."""

from __future__ import annotations

import numpy as np
import pandas as pd

from insats.analysis.measures.context import Context, per_area, stat_per_area
from insats.analysis.measures.registry import register
from insats.contract import fold

# --------------------------------------------------------------------------- en väg in


def assessment_rows(ctx: Context) -> pd.DataFrame:
    """One row per application (``bedomningar`` row) in the period: the person's position and area,
    days to assessment, whether assessed, the result, the assessing unit, the unit handed over to
    as written (``till``) and whether the person was handed over (``overlamnad``, see ``handed_over``)."""
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
            "enhet": _unit_text(b["enhet"]),
            "till": _unit_text(b["overlamnad_till"]),
            "overlamnad": handed_over(b),
        }
    )


def _unit_text(values: pd.Series) -> np.ndarray:
    """A unit's name as written, stripped; empty -> None."""
    text = values.astype("string").str.strip()
    return text.where(text != "").astype(object).where(text.notna(), None).to_numpy()


def recorded(study, column: str) -> bool:
    """Whether ``bedomningar.<column>`` has any value at all: a column that is absent or empty
    throughout is *not recorded* (for ``overlamnad_till`` an empty cell means "no hand-over", so
    an empty column cannot be told apart from a municipality that does not record hand-overs)."""
    if "bedomningar" not in study:
        return False
    col = study["bedomningar"][column]
    return bool(col.astype("string").str.strip().replace("", pd.NA).notna().any())


def handed_over(b: pd.DataFrame) -> np.ndarray:
    """Per ``bedomningar`` row: handed over to another unit (``overlamnad_till`` filled in and not
    the assessing unit itself, compared as folded text)."""
    to = b["overlamnad_till"].astype("string").str.strip()
    frm = b["enhet"].astype("string").str.strip()
    filled = to.notna() & (to != "")
    same = to.map(fold, na_action="ignore") == frm.map(fold, na_action="ignore")
    return (filled & ~same.fillna(False)).to_numpy(dtype=bool)


def with_followup(ctx: Context, a: pd.DataFrame) -> pd.DataFrame:
    """``a`` (``assessment_rows``) with the first participation that starts on or after the assessment
    day: ``start_dagar`` (days from assessment to that start; NaN when none), ``start_kategori`` (its
    category, when ``insatser`` is there) and ``insats_90`` (a start 0–``insats_dagar_efter_bedomning``
    days after the assessment; a start on the assessment day counts, one before it does not)."""
    a = a.reset_index(drop=True)
    p = ctx.participations
    cols = ["pos", "start"] + (["kategori"] if "kategori" in p else [])
    m = a[["pos", "bedomning"]].reset_index().merge(p[cols], on="pos", how="inner")
    m["d"] = (m["start"] - m["bedomning"]).dt.days
    m = m[m["d"] >= 0].sort_values(["index", "d"], kind="stable").drop_duplicates("index")
    out = a.copy()
    out["start_dagar"] = m.set_index("index")["d"].reindex(range(len(a))).to_numpy(dtype=float)
    kat = m.set_index("index")["kategori"] if "kategori" in m else pd.Series(dtype=object)
    out["start_kategori"] = kat.reindex(range(len(a))).astype(object).to_numpy()
    out["insats_90"] = (out["start_dagar"] <= ctx.params.insats_dagar_efter_bedomning).to_numpy()
    return out


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
    a = assessment_rows(ctx)
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
    a = assessment_rows(ctx)
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
    a = assessment_rows(ctx)
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
    a = assessment_rows(ctx)
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
    a = assessment_rows(ctx)
    a = a[a["bedomd"] & a["resultat"].isin(["hel", "delvis"]) & (a["pos"] >= 0)]
    a = with_followup(ctx, a)
    return per_area(ctx, a["area"].to_numpy(), a["insats_90"].to_numpy(), np.ones(len(a)))


@register(
    "vagin_andel_overlamnade",
    "Andel bedömningar som lämnas över till en annan enhet",
    "andel",
    _NEEDS_VAGIN,
    True,
    "Bland bedömda ansökningar under perioden: andel där personen lämnades över till en annan enhet än den "
    "bedömande (kolumnen Överlämnad till). Saknas uppgiften helt beräknas måttet inte.",
)
def vagin_andel_overlamnade(ctx: Context) -> pd.DataFrame:
    a = assessment_rows(ctx)
    a = a[a["bedomd"]]
    out = per_area(ctx, a["area"].to_numpy(), a["overlamnad"].to_numpy(), np.ones(len(a)))
    if not recorded(ctx.study, "overlamnad_till"):  # not recorded: no value rather than 0 %
        out["taljare"] = np.nan
        out["varde"] = np.nan
    return out


@register(
    "vagin_andel_ombedomningar",
    "Andel bedömningar som är en ny bedömning av samma person",
    "andel",
    _NEEDS_VAGIN,
    True,
    "Bland bedömda ansökningar under perioden: andel där personen redan hade en bedömd ansökan med tidigare "
    "ansökningsdatum (också före perioden).",
)
def vagin_andel_ombedomningar(ctx: Context) -> pd.DataFrame:
    """Counted per application with a look-back over all the data, so that a period's counts are the
    sums of its years' (unlike "persons assessed more than once in the period")."""
    b = ctx.study["bedomningar"]
    assessed = b["bedomning_datum"].notna().to_numpy()
    order = pd.DataFrame(
        {"person": b["person_id"].astype("string").to_numpy(), "ansokan": b["ansokan_datum"].to_numpy()}
    )
    order = order[assessed]
    earlier = order.groupby("person")["ansokan"].rank(method="min") > 1
    again = np.zeros(len(b), bool)
    again[np.flatnonzero(assessed)[earlier.to_numpy()]] = True
    keep = ctx.in_period(b["ansokan_datum"]) & assessed
    pos = ctx.person_pos(b.loc[keep, "person_id"])
    return per_area(ctx, ctx.person_area[pos], again[keep], np.ones(int(keep.sum())))
