"""1. Alla erbjuds en insats: the offer rate by area, age and hinder group, and the capacity gap."""

from __future__ import annotations

import altair as alt
import numpy as np
import pandas as pd

from insats import contract
from insats.analysis.measures import (
    Context,
    open_interventions,
)
from insats.charts import ranked_bars
from insats.charts.common import chart_data
from insats.charts.theme import ensure_theme
from insats.contract import ALLA
from insats.reports.render import Section
from insats.reports.utvardering.common import (
    AGE_GROUPS,
    DAYS_PER_MONTH,
    _missing,
    _n_months,
    _names,
    _num,
    _participations,
    _pct,
    _with_wilson,
    format_shown,
    protect_shares,
)
from insats.text import format_number

# --------------------------------------------------------------------------- 1. erbjudande


def offer_frame(ctx: Context, *, all_groups: bool | None = None) -> pd.DataFrame:
    """One row per person in scope, with whether the person was offered an intervention in time.

    Scope and "offered" are exactly the measure ``erbjudande_andel`` (``analysis.measures.erbjudande``): adult recipients
    in the period (in hinder group arbetslöshet unless ``erbjudande_alla_grupper``), offered when a
    participation's ``erbjuden_datum`` (else ``start_datum``) is on or before day0 +
    ``erbjudande_dagar`` and the participation had not ended before day0. Columns: ``pos``,
    ``omrade_kod``, ``aldersgrupp`` (``18_24`` when the person is at most 24 in m0's year, else
    ``25_plus``), ``hindergrupp``, ``erbjuden`` (bool). ``all_groups`` overrides the scope
    (True: every hinder group), e.g. to compare hinder groups when the scope is arbetslöshet.
    """
    scope = ctx.adult.copy()
    alla = ctx.params.erbjudande_alla_grupper if all_groups is None else all_groups
    if not alla:
        scope &= ctx.person_group[:-1] == "arbetsloshet"
    offered = ctx.offered  # the erbjudande_andel definition, computed in one place
    pos = np.flatnonzero(scope)
    year0 = pd.DatetimeIndex(ctx.day0[pos]).year.to_numpy()
    age = year0 - ctx.birth_year[pos]
    return pd.DataFrame(
        {
            "pos": pos,
            "omrade_kod": ctx.person_area[pos].astype(object),
            "aldersgrupp": np.where(age <= 24, "18_24", "25_plus").astype(object),
            "hindergrupp": ctx.person_group[pos],
            "erbjuden": offered[pos],
        }
    )


def offer_rates(frame: pd.DataFrame, by: str, *, order: list | None = None) -> pd.DataFrame:
    """Offer rate per value of ``by`` (a column of ``offer_frame``) and for all (``ALLA``).

    Columns: ``by``, ``taljare`` (offered), ``namnare`` (persons in scope), ``andel`` and the Wilson
    95 % interval ``lo``, ``hi`` (``insats.analysis.stats.wilson_interval``). Unprotected.
    """
    g = frame.groupby(by, sort=True, observed=True)["erbjuden"].agg(["sum", "size"])
    if order is not None:
        g = g.reindex([o for o in order if o in g.index] + [i for i in g.index if i not in order])
    out = pd.DataFrame(
        {
            by: list(g.index) + [ALLA],
            "taljare": list(g["sum"].astype(float)) + [float(frame["erbjuden"].sum())],
            "namnare": list(g["size"].astype(float)) + [float(len(frame))],
        }
    )
    return _with_wilson(out)


def capacity_gap(ctx: Context, offers: pd.DataFrame | None = None) -> pd.DataFrame:
    """The places each category would need if every person in scope were offered one intervention,
    against the places that exist.

    Per category ``c`` (only interventions counted as intervention, ``raknas_som_insats``)::

        N      = persons in scope (``offer_frame``: the denominator of erbjudande_andel)
        s_c    = participations started in the period in c / all participations started in the period
        d_c    = mean length in months of the participations in c started in the period that have an
                 end date: (slut_datum − start_datum) in days / (365,25 / 12)
        M      = months in the period
        behov_c  = N · s_c · d_c / M            (places needed, on average at any time)
        platser_c = Σ platser · (days the intervention is open in the period / days in the period)
        gap_c    = behov_c − platser_c          (> 0: places missing)

    i.e. N people each get one participation of the category mix and average length of today,
    spread evenly over the period. ``platser`` count whole-municipality capacity, open
    interventions only (``measures.open_interventions``), weighted by how much of the period they
    were open (procured contracts that ended and LOV providers that started during the period count
    for their part). A last row ``ALLA`` sums the categories. Columns: ``kategori``, ``personer``,
    ``deltaganden``, ``andel_deltaganden``, ``manader_medel``, ``behov``, ``platser``, ``gap``.
    """
    if offers is None:
        offers = offer_frame(ctx)
    n_scope = float(len(offers))
    months = _n_months(ctx)
    first, last = ctx.params.first_day, ctx.params.last_day
    ins = open_interventions(ctx)
    period_days = (last - first).days + 1
    fran = ins["giltig_fran"].fillna(first).clip(lower=first)
    till = ins["giltig_till"].fillna(last).clip(upper=last)
    open_days = ((till - fran).dt.days + 1).clip(lower=0)
    places = (
        (ins["platser"].astype("float64").fillna(0) * open_days / period_days)
        .groupby(ins["kategori"].astype(object))
        .sum()
    )

    p = _participations(ctx)
    counted = set(ins["insats_id"].astype(str))
    p = p[(p["pos"] >= 0) & ctx.in_period(p["start"]) & p["insats_id"].astype(str).isin(counted)]
    n_all = float(len(p))
    dur = (p["slut"] - p["start"]).dt.days / DAYS_PER_MONTH
    per = pd.DataFrame({"kategori": p["kategori"].astype(object), "dur": dur})
    cats = [c for c in contract.codes("kategori") if c in set(per["kategori"]) | set(places.index)]
    rows = []
    for c in cats:
        sel = per[per["kategori"] == c]
        n_c = float(len(sel))
        share = n_c / n_all if n_all > 0 else np.nan
        d_c = float(sel["dur"].mean()) if sel["dur"].notna().any() else np.nan
        need = n_scope * share * d_c / months if n_c > 0 else 0.0
        have = float(places.get(c, 0.0))
        rows.append((c, n_scope, n_c, share, d_c, need, have, need - have))
    out = pd.DataFrame(
        rows,
        columns=[
            "kategori",
            "personer",
            "deltaganden",
            "andel_deltaganden",
            "manader_medel",
            "behov",
            "platser",
            "gap",
        ],
    )
    total = pd.DataFrame(
        [
            (
                ALLA,
                n_scope,
                out["deltaganden"].sum(),
                1.0 if n_all > 0 else np.nan,
                float(dur.mean()) if len(dur) else np.nan,
                out["behov"].sum(),
                out["platser"].sum(),
                out["behov"].sum() - out["platser"].sum(),
            )
        ],
        columns=out.columns,
    )
    return pd.concat([out, total], ignore_index=True)


def capacity_chart(gap: pd.DataFrame):
    """Bars of places needed and places that exist per category (Swedish labels)."""

    ensure_theme()
    g = gap[gap["kategori"] != ALLA]
    rows = []
    for _, r in g.iterrows():
        name = contract.label("kategori", r["kategori"])
        rows.append(
            {
                "kategori": name,
                "slag": "Behövs om alla erbjuds",
                "platser": float(r["behov"]),
                "text": format_number(r["behov"], 0),
            }
        )
        rows.append(
            {
                "kategori": name,
                "slag": "Finns i dag",
                "platser": float(r["platser"]),
                "text": format_number(r["platser"], 0),
            }
        )
    frame = pd.DataFrame(rows)
    return (
        alt.Chart(chart_data(frame))
        .mark_bar()
        .encode(
            y=alt.Y("kategori:N", title=None, sort=list(dict.fromkeys(frame["kategori"]))),
            yOffset=alt.YOffset("slag:N", sort=["Behövs om alla erbjuds", "Finns i dag"]),
            x=alt.X("platser:Q", title="Platser (genomsnitt samtidigt)", axis=alt.Axis(format=",.0f")),
            color=alt.Color(
                "slag:N",
                title=None,
                sort=["Behövs om alla erbjuds", "Finns i dag"],
                scale=alt.Scale(range=["#D55E00", "#0072B2"]),
                legend=alt.Legend(orient="bottom"),
            ),
            tooltip=[
                alt.Tooltip("kategori:N", title="Kategori"),
                alt.Tooltip("slag:N", title="Platser"),
                alt.Tooltip("text:N", title="Antal"),
            ],
        )
        .properties(
            title=alt.TitleParams(
                "Platser som behövs om alla erbjuds en insats",
                subtitle=[
                    "Behov = personer × kategorins andel av deltagandena × "
                    "genomsnittlig längd i månader / periodens månader."
                ],
            ),
            width=460,
            height=alt.Step(16),
        )
    )


def section_offer(ctx: Context, measures, *, min_cell: int = 5) -> Section:
    """Area 1: offer rate by area, age group and hinder group; the capacity gap."""
    s = Section("Alla erbjuds en insats")
    note = _missing(ctx.study, ["personer", "bistand", "deltaganden"], "Erbjudandeandelen")
    if note:
        s.note(note)
        s.conclusion = "Erbjudandeandelen kan inte beräknas med de tabeller som finns."
        return s

    frame = offer_frame(ctx)
    names = _names(ctx)
    by_area = offer_rates(frame, "omrade_kod", order=ctx.areas)
    by_area["grupp"] = by_area["omrade_kod"].map(names).fillna(by_area["omrade_kod"])
    by_age = offer_rates(frame, "aldersgrupp", order=list(AGE_GROUPS))
    by_age["grupp"] = by_age["aldersgrupp"].map({**AGE_GROUPS, ALLA: "Alla"})
    # hinder groups are compared over every adult recipient (in scope arbetslöshet there is only one)
    by_grp = offer_rates(offer_frame(ctx, all_groups=True), "hindergrupp", order=contract.codes("hindergrupp"))
    by_grp["grupp"] = by_grp["hindergrupp"].map(lambda c: "Alla" if c == ALLA else contract.label("hindergrupp", c))
    cols = {
        "grupp": ("Grupp", "text"),
        "namnare": ("Personer", "antal"),
        "taljare": ("Erbjudna", "antal"),
        "andel": ("Andel erbjudna", "andel"),
        "lo:hi": ("95 % konfidensintervall", "intervall"),
    }
    pub = {}
    for caption, t, key in (
        ("Per område", by_area, "omrade_kod"),
        ("Per åldersgrupp", by_age, "aldersgrupp"),
        ("Per försörjningshinder (alla vuxna biståndsmottagare)", by_grp, "hindergrupp"),
    ):
        pub[caption] = protect_shares(t, min_cell, key=key, values=("andel", "lo", "hi"))
        s.table(f"Erbjudandeandel {caption.lower()}", format_shown(pub[caption], cols))
    scope = (
        "alla vuxna biståndsmottagare"
        if ctx.params.erbjudande_alla_grupper
        else "vuxna biståndsmottagare med försörjningshinder arbetslöshet"
    )
    s.note(
        f"Omfattning: {scope}. Erbjuden = ett deltagande erbjudet (annars påbörjat) senast "
        f"{ctx.params.erbjudande_dagar} dagar efter första biståndsmånaden i perioden (måttet erbjudande_andel)."
    )
    if "erbjudande_andel" in set(measures["matt"]):
        s.chart(
            ranked_bars(
                measures,
                "erbjudande_andel",
                omraden=ctx.study.get("omraden"),
                min_cell=min_cell,
                title="Andel erbjudna en insats inom 90 dagar, per område",
            )
        )
    total = pub["Per område"].iloc[-1]
    s.findings["erbjudande_andel"] = float(total["andel"]) if pd.notna(total["andel"]) else None
    if "insatser" in ctx.study:
        gap = capacity_gap(ctx, frame)
        s.extra["kapacitet"] = gap
        shown = gap.copy()
        shown["namn"] = [("Alla kategorier" if c == ALLA else contract.label("kategori", c)) for c in shown["kategori"]]
        gp = protect_shares(
            shown,
            min_cell,
            key="kategori",
            num="deltaganden",
            den=None,
            values=("andel_deltaganden", "manader_medel", "behov", "gap"),
        )
        s.table(
            "Platser som behövs om alla i omfattningen erbjuds en insats",
            format_shown(
                gp,
                {
                    "namn": ("Kategori", "text"),
                    "deltaganden": ("Deltaganden i perioden", "antal"),
                    "andel_deltaganden": ("Andel av deltagandena", "andel"),
                    "manader_medel": ("Längd, månader", "tal1"),
                    "behov": ("Platser som behövs", "antal"),
                    "platser": ("Platser i dag", "antal"),
                    "gap": ("Saknas (+) / överskott (−)", "antal"),
                },
            ),
        )
        visible = gp[~gp["undertryckt"] & (gp["kategori"] != ALLA)]
        if len(visible):
            s.chart(capacity_chart(visible))
        tot = gp.iloc[-1]
        s.findings["kapacitet_gap"] = float(tot["gap"]) if pd.notna(tot["gap"]) else None
        short = gp[(gp["kategori"] != ALLA) & (gp["gap"] > 0.5)].sort_values("gap", ascending=False)
        s.findings["kapacitet_brist"] = [contract.label("kategori", c).lower() for c in short["kategori"].head(3)]
        s.note(
            f"Kapacitetsgapet: {format_number(len(frame))} personer i omfattningen, var och en med ett "
            f"deltagande av dagens kategorimix och längd, utspritt över periodens {_n_months(ctx)} månader "
            "(se `docs/antaganden.md`, U2)."
        )
    else:
        s.note(_missing(ctx.study, ["insatser"], "Kapacitetsgapet") or "")
    s.conclusion = _conclusion_offer(pub, s.findings)
    return s


def _conclusion_offer(pub: dict, findings: dict) -> str:
    parts = []
    total = pub["Per område"].iloc[-1]
    if pd.notna(total["andel"]):
        parts.append(
            f"{_pct(total['andel'])} av personerna i omfattningen erbjöds en insats inom 90 dagar "
            f"(95 % KI {_pct(total['lo'])}–{_pct(total['hi'])}); målet är 100 %."
        )
    areas = pub["Per område"]
    areas = areas[(areas["omrade_kod"] != ALLA) & areas["andel"].notna()]
    if len(areas) >= 2:
        lo, hi = areas.loc[areas["andel"].idxmin()], areas.loc[areas["andel"].idxmax()]
        parts.append(f"Lägst i {lo['grupp']} ({_pct(lo['andel'])}), högst i {hi['grupp']} ({_pct(hi['andel'])}).")
    age = pub["Per åldersgrupp"]
    age = age[(age["aldersgrupp"] != ALLA) & age["andel"].notna()]
    if len(age) == 2:
        parts.append(f"Unga 18–24 år: {_pct(age['andel'].iloc[0])}, 25 år och äldre: {_pct(age['andel'].iloc[1])}.")
    if findings.get("kapacitet_gap") is not None:
        g = findings["kapacitet_gap"]
        parts.append(
            f"Om alla erbjöds en insats skulle omkring {_num(abs(g))} platser "
            f"{'saknas' if g > 0 else 'bli över'} (genomsnitt samtidigt)."
        )
    if not parts:
        parts.append("Antalen är för små för att visas utan att röja enskilda (se fotnoten om ..).")
    return " ".join(parts)
