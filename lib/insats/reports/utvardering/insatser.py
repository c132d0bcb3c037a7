"""4. Dagens insatser: outcomes and cost per outcome per intervention."""

from __future__ import annotations

import numpy as np
import pandas as pd

from insats.analysis.measures import (
    Context,
    ended_participations,
)
from insats.analysis.privacy import SUPPRESSED
from insats.analysis.stats import funnel_flags
from insats.charts import funnel_plot, ranked_bars
from insats.contract import ALLA
from insats.reports.render import Section
from insats.reports.utvardering.common import (
    DAYS_PER_MONTH,
    _missing,
    _num,
    _participations,
    _pct,
    _with_wilson,
    format_shown,
    intervention_labels,
    protect_shares,
)

# --------------------------------------------------------------------------- 4. dagens insatser


def intervention_outcomes(ctx: Context) -> pd.DataFrame:
    """Outcomes per intervention, with the measures' definitions.

    * ``taljare``/``namnare``: ended participations in the period with avslut arbete or studier /
      all ended (utfall_arbete_studier_andel), share, Wilson interval, and the funnel flag
      (``stats.funnel_flags``) against the share over all interventions;
    * ``sf_taljare``/``sf_namnare``: of those whose ``uppfoljning_manader`` following months are in
      the data, the number without assistance in all of them (utfall_sjalvforsorjning_andel),
      ``sf_andel``.

    Rows per ``insats_id`` (with ``namn``, ``kategori``, ``regi``) and a last row ``ALLA``.
    """
    q = ended_participations(ctx)
    p = _participations(ctx)
    q = q.assign(insats_id=p.loc[q.index, "insats_id"].astype(object).to_numpy())
    k = ctx.params.uppfoljning_manader
    if "bistand" in ctx.study and len(q):
        t_end = np.asarray(ctx.month_index(q["slut"]))
        inside = (t_end + k <= ctx.n_months - 1) & (t_end + 1 >= 0)
        pos = q["pos"].to_numpy()
        any_aid = np.zeros(len(q), bool)
        for j in range(1, k + 1):
            idx = np.clip(t_end + j, 0, ctx.n_months - 1)
            any_aid |= np.where(inside, ctx.panel[pos, idx], False)
        q = q.assign(sf_in=inside, sf_ok=inside & ~any_aid)
    else:
        q = q.assign(sf_in=False, sf_ok=False)
    g = q.groupby("insats_id", sort=True)
    out = pd.DataFrame(
        {
            "insats_id": list(g.size().index),
            "taljare": g["arbete_studier"].sum().astype(float).to_numpy(),
            "namnare": g.size().astype(float).to_numpy(),
            "sf_taljare": g["sf_ok"].sum().astype(float).to_numpy(),
            "sf_namnare": g["sf_in"].sum().astype(float).to_numpy(),
        }
    )
    total = pd.DataFrame(
        [
            {
                "insats_id": ALLA,
                "taljare": float(q["arbete_studier"].sum()),
                "namnare": float(len(q)),
                "sf_taljare": float(q["sf_ok"].sum()),
                "sf_namnare": float(q["sf_in"].sum()),
            }
        ]
    )
    out = _with_wilson(pd.concat([out, total], ignore_index=True))
    with np.errstate(invalid="ignore", divide="ignore"):
        out["sf_andel"] = np.where(
            out["sf_namnare"] > 0, out["sf_taljare"] / out["sf_namnare"].where(out["sf_namnare"] > 0), np.nan
        )
    p0 = total["taljare"].iloc[0] / total["namnare"].iloc[0] if total["namnare"].iloc[0] > 0 else np.nan
    is_t = out["insats_id"] == ALLA
    out["flagga"] = None
    if np.isfinite(p0):
        out.loc[~is_t, "flagga"] = funnel_flags(
            out.loc[~is_t, "taljare"].to_numpy(), out.loc[~is_t, "namnare"].to_numpy(), p0
        ).to_numpy()
    if "insatser" in ctx.study:
        ins = ctx.study["insatser"].set_index(ctx.study["insatser"]["insats_id"].astype(str))
        labels = intervention_labels(ctx.study["insatser"])
        out["namn"] = out["insats_id"].map(labels).fillna(out["insats_id"])
        out["kategori"] = out["insats_id"].map(ins["kategori"].astype(object))
        out["regi"] = out["insats_id"].map(ins["regi"].astype(object))
    else:
        out["namn"], out["kategori"], out["regi"] = out["insats_id"], None, None
    out.loc[is_t, "namn"] = "Alla insatser"
    return out


def cost_per_outcome(ctx: Context) -> pd.DataFrame:
    """Cost per exit to work or studies, per intervention.

    ``manader`` = Σ over participations overlapping the period of the months they ran inside it:
    (min(slut_datum or the period's last day, last day) − max(start_datum, first day) + 1 day) in
    days / (365,25 / 12); ``kostnad`` = ``kostnad_per_plats_manad`` × ``manader`` (a place is paid
    for while someone uses it); ``utfall`` = participations ended in the period with avslut
    arbete or studier; ``kostnad_per_utfall`` = kostnad / utfall (empty when utfall is 0 or the
    cost is unknown). Rows per ``insats_id`` and ``ALLA``. ``utfall`` is a count of persons and is
    protected when published (with it the cost per outcome).
    """
    p = _participations(ctx)
    first, last = ctx.params.first_day, ctx.params.last_day
    p = p[(p["pos"] >= 0) & (p["start"] <= last) & (p["slut"].isna() | (p["slut"] >= first))]
    a = p["start"].clip(lower=first)
    b = p["slut"].fillna(last).clip(upper=last)
    months = ((b - a).dt.days + 1).clip(lower=0) / DAYS_PER_MONTH
    cost = months * p["kostnad"] if "kostnad" in p else months * np.nan
    f = pd.DataFrame({"insats_id": p["insats_id"].astype(object), "manader": months, "kostnad": cost})
    q = ended_participations(ctx)
    ids = _participations(ctx).loc[q.index, "insats_id"].astype(object)
    outcomes = q["arbete_studier"].groupby(ids.to_numpy()).sum()
    g = f.groupby("insats_id", sort=True).agg(
        manader=("manader", "sum"), kostnad=("kostnad", lambda s: s.sum(min_count=1))
    )
    out = g.reset_index()
    out["utfall"] = out["insats_id"].map(outcomes).fillna(0).astype(float)
    total = pd.DataFrame(
        [
            {
                "insats_id": ALLA,
                "manader": float(f["manader"].sum()),
                "kostnad": float(f["kostnad"].sum(min_count=1)),
                "utfall": float(q["arbete_studier"].sum()),
            }
        ]
    )
    out = pd.concat([out, total], ignore_index=True)
    with np.errstate(invalid="ignore", divide="ignore"):
        out["kostnad_per_utfall"] = np.where(
            out["utfall"] > 0, out["kostnad"] / out["utfall"].where(out["utfall"] > 0), np.nan
        )
    return out


def section_interventions(ctx: Context, measures, *, min_cell: int = 5) -> Section:
    """Area 4: outcome and cost per outcome per intervention, ranked with intervals; funnel flags."""
    s = Section("Dagens insatser")
    note = _missing(ctx.study, ["deltaganden", "personer", "insatser"], "Utfallet per insats")
    if note:
        s.note(note)
        s.conclusion = "Utfallet per insats kan inte beräknas med de tabeller som finns."
        return s
    out = intervention_outcomes(ctx)
    cost = cost_per_outcome(ctx)
    t = out.merge(cost[["insats_id", "manader", "kostnad", "utfall", "kostnad_per_utfall"]], on="insats_id", how="left")
    s.extra["utfall"] = t
    pub = protect_shares(t, min_cell, key="insats_id", values=("andel", "lo", "hi", "kostnad_per_utfall", "utfall"))
    sf = protect_shares(t, min_cell, key="insats_id", num="sf_taljare", den="sf_namnare", values=("sf_andel",))
    pub["sf_andel"] = sf["sf_andel"]
    pub["sf_sup"] = sf["undertryckt"]
    pub = pub.sort_values(["undertryckt", "andel"], ascending=[True, False], na_position="last")
    pub = pd.concat([pub[pub["insats_id"] != ALLA], pub[pub["insats_id"] == ALLA]], ignore_index=True)
    flag_text = {
        "over_998": "Över 99,8 %",
        "over_95": "Över 95 %",
        "inom": "Inom",
        "under_95": "Under 95 %",
        "under_998": "Under 99,8 %",
    }
    pub["flagga_text"] = [
        ("" if u else flag_text.get(f, "")) if isinstance(f, str) else ""
        for f, u in zip(pub["flagga"], pub["undertryckt"])
    ]
    shown = format_shown(
        pub,
        {
            "namn": ("Insats", "text"),
            "namnare": ("Avslutade", "antal"),
            "taljare": ("Arbete/studier", "antal"),
            "andel": ("Andel", "andel"),
            "lo:hi": ("95 % KI", "intervall"),
            "flagga_text": ("Trattdiagram", "text"),
            "kostnad_per_utfall": ("Kostnad per utfall", "kr"),
        },
    )
    shown["Utan bistånd 3 mån efter"] = [
        SUPPRESSED if u else _pct(v) if pd.notna(v) else "" for v, u in zip(pub["sf_andel"], pub["sf_sup"])
    ]
    s.table("Utfall per insats, rangordnat efter andel avslut till arbete eller studier", shown)

    long = pub.assign(matt="utfall_arbete_studier_andel", omrade_kod=pub["insats_id"], varde=pub["andel"])
    long = long[["matt", "omrade_kod", "varde", "taljare", "namnare", "undertryckt"]]
    labels = dict(zip(pub["insats_id"].astype(str), pub["namn"].astype(str)))
    s.chart(
        ranked_bars(
            long,
            "utfall_arbete_studier_andel",
            omraden=labels,
            min_cell=min_cell,
            title="Andel avslut till arbete eller studier per insats",
        )
    )
    if (~pub["undertryckt"] & (pub["insats_id"] != ALLA)).sum() >= 2:
        s.chart(
            funnel_plot(
                long,
                "utfall_arbete_studier_andel",
                omraden=labels,
                min_cell=min_cell,
                title="Avslut till arbete eller studier per insats: trattdiagram",
            )
        )
    vis = pub[(pub["insats_id"] != ALLA) & ~pub["undertryckt"]]
    s.findings["insatser_under"] = list(vis.loc[vis["flagga"].isin(["under_95", "under_998"]), "namn"])
    s.findings["insatser_over"] = list(vis.loc[vis["flagga"].isin(["over_95", "over_998"]), "namn"])
    c = vis["kostnad_per_utfall"].dropna()
    if len(c) >= 2:
        s.findings["kostnad_min"], s.findings["kostnad_max"] = float(c.min()), float(c.max())
    s.note(
        "Kostnad per utfall = kostnad per plats och månad × månader som deltagandena pågick under perioden, "
        "delat med antal avslut till arbete eller studier under perioden (se `docs/antaganden.md`, U7). "
        "Trattdiagram: insatsens andel jämförs med alla insatsers andel; utanför 95 %-gränsen är skillnaden "
        "större än slumpen brukar ge."
    )
    parts = []
    if len(vis):
        best, worst = vis.iloc[0], vis.iloc[-1]
        parts.append(
            f"Andelen avslut till arbete eller studier varierar från {_pct(worst['andel'])} ({worst['namn']}) "
            f"till {_pct(best['andel'])} ({best['namn']})."
        )
    n_out = len(s.findings["insatser_under"]) + len(s.findings["insatser_over"])
    parts.append(
        f"{n_out} av {len(vis)} insatser skiljer sig från genomsnittet mer än slumpen förklarar."
        if len(vis)
        else "Inga insatser har tillräckligt många avslutade deltaganden för att visas."
    )
    if "kostnad_min" in s.findings:
        parts.append(
            f"Kostnaden per utfall går från {_num(s.findings['kostnad_min'])} till {_num(s.findings['kostnad_max'])} kr."
        )
    s.conclusion = " ".join(parts)
    return s
