"""4. Dagens insatser: outcomes and cost per outcome per intervention, raw and adjusted for the participants, and
whom the interventions reach (``utvardering.rackvidd``).

An intervention is flagged only on the case-mix adjusted comparison: the O/E score test with the p-values
of all compared interventions adjusted by Benjamini–Hochberg, with plain (not overdispersion-adjusted) limits
(``utvardering.utfall.adjusted_flags``, which says why). Costs per outcome carry 95 % intervals
(``analysis.costs``); the claim that one intervention certainly costs more per outcome than another compares
Bonferroni-adjusted intervals (level 1 − 0.05/m over the m interventions compared, ``cost_comparison``), so
that when all cost the same it is made in at most 5 % of studies, and the recommendation on costs fires only
when those intervals are apart by more than the threshold (``docs/antaganden.md``, U7, U8, U10).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from insats.analysis import costs
from insats.analysis.measures import (
    Context,
    ended_participations,
)
from insats.analysis.privacy import SUPPRESSED
from insats.charts import funnel_plot, ranked_bars
from insats.contract import ALLA
from insats.reports.kartlaggning.metod import CV_FOLDS, calibration_table, model_sentences
from insats.reports.render import Section, literal
from insats.reports.utvardering.common import (
    DAYS_PER_MONTH,
    _missing,
    _num,
    _participations,
    _pct,
    collecting,
    format_shown,
    intervention_labels,
    protect_shares,
    register_parts,
)
from insats.reports.utvardering.rackvidd import reach_conclusion, reach_part
from insats.reports.utvardering.utfall import (
    OUTCOME_COUNTS,
    adjusted_flags,
    false_flags_sentence,
    flag_text,
    outcome_frame_ext,
    outcome_hierarchy,
    outcomes_by_group,
)
from insats.text import format_number

# --------------------------------------------------------------------------- 4. dagens insatser

FOLLOWUP_COUNTS = {"sf_taljare": "utfall_utan_bistand", "sf_namnare": "utfall_uppfoljda"}
"""The counts of the column "without assistance after" per intervention: the ended participations that can be
followed up (a part of ``OUTCOME_COUNTS["namnare"]``) and of them those without assistance."""


def intervention_outcomes(ctx: Context) -> pd.DataFrame:
    """Outcomes per intervention, with the measures' definitions.

    * ``taljare``/``namnare``: ended participations in the period with avslut arbete or studier /
      all ended (utfall_arbete_studier_andel), share and Wilson interval;
    * ``forvantat``, ``oe``, ``oe_lo``/``oe_hi``, ``varians``, ``p``: case-mix adjusted observed/expected
      (``utvardering.utfall.outcomes_by_group`` with the intervention as the group);
    * ``sf_taljare``/``sf_namnare``: of those whose ``uppfoljning_manader`` following months are in
      the data, the number without assistance in all of them (utfall_sjalvforsorjning_andel),
      ``sf_andel``.

    Rows per ``insats_id`` (with ``namn``, ``kategori``, ``regi``) and a last row ``ALLA``. Flags are
    computed after disclosure control (``section_interventions``), over the published interventions.
    ``attrs["model"]``: the case-mix model's checks (c-statistic, calibration by tenths, cross-validated with
    ``CV_FOLDS`` folds) for the method note.
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
    out = outcomes_by_group(ctx, "insats_id", frame=outcome_frame_ext(ctx), folds=CV_FOLDS)
    model = dict(out.attrs.get("model", {}))
    g = q.groupby("insats_id", sort=True)
    sf = pd.DataFrame({"sf_taljare": g["sf_ok"].sum().astype(float), "sf_namnare": g["sf_in"].sum().astype(float)})
    sf.loc[ALLA] = [float(q["sf_ok"].sum()), float(q["sf_in"].sum())]
    out = out.join(sf, on="insats_id")
    with np.errstate(invalid="ignore", divide="ignore"):
        out["sf_andel"] = np.where(
            out["sf_namnare"] > 0, out["sf_taljare"] / out["sf_namnare"].where(out["sf_namnare"] > 0), np.nan
        )
    is_t = out["insats_id"] == ALLA
    if "insatser" in ctx.study:
        ins = ctx.study["insatser"].set_index(ctx.study["insatser"]["insats_id"].astype(str))
        labels = intervention_labels(ctx.study["insatser"])
        out["namn"] = out["insats_id"].map(labels).fillna(out["insats_id"])
        out["kategori"] = out["insats_id"].map(ins["kategori"].astype(object))
        out["regi"] = out["insats_id"].map(ins["regi"].astype(object))
    else:
        out["namn"], out["kategori"], out["regi"] = out["insats_id"], None, None
    out.loc[is_t, "namn"] = "Alla insatser"
    out.attrs["model"] = model
    return out


def cost_per_outcome(ctx: Context) -> pd.DataFrame:
    """Cost per exit to work or studies, per intervention, with a 95 % interval.

    ``manader`` = Σ over participations overlapping the period of the months they ran inside it:
    (min(slut_datum or the period's last day, last day) − max(start_datum, first day) + 1 day) in
    days / (365,25 / 12); ``kostnad`` = ``kostnad_per_plats_manad`` × ``manader`` (a place is paid
    for while someone uses it); ``utfall`` = participations ended in the period with avslut
    arbete or studier, of ``avslutade`` ended in the period; ``kostnad_per_utfall`` = kostnad / utfall
    (empty when utfall is 0 or the cost unknown) and its interval ``kpu_lo``–``kpu_hi`` =
    kostnad / (avslutade · p_hi) – kostnad / (avslutade · p_lo) from the Wilson interval of utfall /
    avslutade (``analysis.costs.cost_per_outcome``; ``kpu_hi`` infinite when utfall is 0). Rows per
    ``insats_id`` and ``ALLA``. ``utfall`` and ``avslutade`` are counts of persons' participations and are
    protected when published (with them the cost per outcome).
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
    ids = _participations(ctx).loc[q.index, "insats_id"].astype(object).to_numpy()
    outcomes = q["arbete_studier"].groupby(ids).sum()
    ended = q["arbete_studier"].groupby(ids).size()
    g = f.groupby("insats_id", sort=True).agg(
        manader=("manader", "sum"), kostnad=("kostnad", lambda s: s.sum(min_count=1))
    )
    out = g.reset_index()
    out["utfall"] = out["insats_id"].map(outcomes).fillna(0).astype(float)
    out["avslutade"] = out["insats_id"].map(ended).fillna(0).astype(float)
    total = pd.DataFrame(
        [
            {
                "insats_id": ALLA,
                "manader": float(f["manader"].sum()),
                "kostnad": float(f["kostnad"].sum(min_count=1)),
                "utfall": float(q["arbete_studier"].sum()),
                "avslutade": float(len(q)),
            }
        ]
    )
    out = pd.concat([out, total], ignore_index=True)
    cpo = costs.cost_per_outcome(out["kostnad"], out["utfall"], out["avslutade"])
    out["kostnad_per_utfall"] = cpo["kostnad_per_utfall"].to_numpy()
    out["kpu_lo"] = cpo["lo"].to_numpy()
    out["kpu_hi"] = cpo["hi"].to_numpy()
    return out


def _kr_interval(lo: float, hi: float) -> str:
    """A cost interval in kronor: ``a – b kr``, ``minst a kr`` when the upper limit is infinite."""
    if not np.isfinite(lo):
        return ""
    if not np.isfinite(hi):
        return f"minst {format_number(lo, 0)}\u00a0kr"
    return f"{format_number(lo, 0)} – {format_number(hi, 0)}\u00a0kr"


_HIDDEN = (
    "varians",
    "p",
    "kostnad_per_utfall",
    "kpu_lo",
    "kpu_hi",
    "kpu_justerad",
    "kpu_justerad_lo",
    "kpu_justerad_hi",
)
"""Values blanked with a suppressed row (the cost columns and the test statistics behind the flags)."""


def section_interventions(ctx: Context, measures, *, min_cell: int = 5) -> Section:
    """Area 4: outcome and cost per outcome per intervention, raw and adjusted, with intervals; flags from
    the adjusted comparison only."""
    s = Section("Dagens insatser")
    note = _missing(ctx.study, ["deltaganden", "personer", "insatser"], "Utfallet per insats")
    if note:
        s.note(note)
        s.conclusion = "Utfallet per insats kan inte beräknas med de tabeller som finns."
        return s
    out = intervention_outcomes(ctx)
    model = pd.DataFrame()
    model.attrs.update(out.attrs.get("model", {}))
    cost = cost_per_outcome(ctx)
    t = out.merge(
        cost[["insats_id", "manader", "kostnad", "utfall", "kostnad_per_utfall", "kpu_lo", "kpu_hi"]],
        on="insats_id",
        how="left",
    )
    total = t[t["insats_id"] == ALLA].iloc[0]
    p_ref = float(total["taljare"] / total["namnare"]) if total["namnare"] > 0 else np.nan
    adj = costs.adjusted_cost_per_outcome(t["kostnad"], t["namnare"], t["oe"], t["oe_lo"], t["oe_hi"], p_ref)
    t["kpu_justerad"] = adj["kostnad_per_utfall_justerad"].to_numpy()
    t["kpu_justerad_lo"] = adj["lo_justerad"].to_numpy()
    t["kpu_justerad_hi"] = adj["hi_justerad"].to_numpy()
    is_t = (t["insats_id"] == ALLA).to_numpy()
    # the whole study's own cost per outcome is the reference (its O/E is 1 by construction)
    t.loc[is_t, ["kpu_justerad", "kpu_justerad_lo", "kpu_justerad_hi"]] = np.nan
    s.extra["utfall"] = t
    # one cell per intervention, provider, regi and for all: the same as in section_lov's tables (R9)
    hierarchy = outcome_hierarchy(outcome_frame_ext(ctx), min_cell)
    pub = protect_shares(
        t,
        min_cell,
        key="insats_id",
        values=("andel", "lo", "hi", "forvantat", "oe", "oe_lo", "oe_hi", "utfall", *_HIDDEN),
        counts=OUTCOME_COUNTS,
        model=hierarchy,
    )
    sf = protect_shares(
        t, min_cell, key="insats_id", num="sf_taljare", den="sf_namnare", values=("sf_andel",), counts=FOLLOWUP_COUNTS
    )
    # the endings that can be followed up are a part of the ended: the rest (ended too late) is a count (R10)
    register_parts(
        t,
        "insats_id",
        {"sf_namnare": FOLLOWUP_COUNTS["sf_namnare"]},
        {"sf_namnare": OUTCOME_COUNTS["namnare"]},
        label="avslutade som kan följas upp och de som slutade för sent är alla avslutade",
    )
    pub["sf_andel"] = sf["sf_andel"]
    pub["sf_sup"] = sf["undertryckt"]
    flags = adjusted_flags(pub, "insats_id")
    pub = pub.join(flags)
    pub = pub.sort_values(["undertryckt", "oe"], ascending=[True, False], na_position="last")
    pub = pd.concat([pub[pub["insats_id"] != ALLA], pub[pub["insats_id"] == ALLA]], ignore_index=True)
    pub["flagga_text"] = [flag_text(f, u) for f, u in zip(pub["avviker_justerat"], pub["undertryckt"])]
    shown = format_shown(
        pub,
        {
            "namn": ("Insats", "text"),
            "namnare": ("Avslutade", "antal"),
            "taljare": ("Arbete/studier", "antal"),
            "andel": ("Andel", "andel"),
            "lo:hi": ("95 % konfidensintervall", "intervall"),
            "oe": ("O/E justerat", "kvot"),
            "oe_lo:oe_hi": ("95 % konfidensintervall för O/E", "intervall_kvot"),
            "flagga_text": ("Avviker, justerat", "text"),
        },
    )
    shown["Utan bistånd 3 mån efter"] = [
        SUPPRESSED if u else _pct(v) if pd.notna(v) else "" for v, u in zip(pub["sf_andel"], pub["sf_sup"])
    ]
    s.table("Utfall per insats, rått och justerat för deltagarnas egenskaper (ordnat efter O/E)", shown)
    costs_shown = format_shown(
        pub,
        {
            "namn": ("Insats", "text"),
            "kostnad": ("Kostnad i perioden", "kr"),
            "taljare": ("Avslut till arbete/studier", "antal"),
            "kostnad_per_utfall": ("Kostnad per utfall", "kr"),
        },
    )
    costs_shown.insert(
        4,
        "95 % konfidensintervall",
        [SUPPRESSED if u else _kr_interval(a, b) for a, b, u in zip(pub["kpu_lo"], pub["kpu_hi"], pub["undertryckt"])],
    )
    costs_shown["Justerad för deltagarna"] = format_shown(pub, {"kpu_justerad": ("x", "kr")})["x"].to_numpy()
    costs_shown["95 % konfidensintervall, justerad"] = [
        SUPPRESSED if u else _kr_interval(a, b)
        for a, b, u in zip(pub["kpu_justerad_lo"], pub["kpu_justerad_hi"], pub["undertryckt"])
    ]
    s.table("Kostnad per avslut till arbete eller studier, med osäkerhet", costs_shown)

    long = pub.assign(matt="utfall_arbete_studier_andel", omrade_kod=pub["insats_id"], varde=pub["andel"])
    long = long[["matt", "omrade_kod", "varde", "taljare", "namnare", "undertryckt"]]
    labels = dict(zip(pub["insats_id"].astype(str), pub["namn"].astype(str)))
    oe_long = pub.assign(
        matt="justerat_utfall_oe", omrade_kod=pub["insats_id"], varde=pub["oe"], lo=pub["oe_lo"], hi=pub["oe_hi"]
    )
    if not collecting():
        s.chart(
            ranked_bars(
                oe_long[["matt", "omrade_kod", "varde", "taljare", "namnare", "undertryckt", "lo", "hi"]],
                "justerat_utfall_oe",
                omraden=labels,
                min_cell=min_cell,
                title="Avslut till arbete eller studier per insats, observerat/förväntat",
            )
        )
    if (~pub["undertryckt"] & (pub["insats_id"] != ALLA)).sum() >= 2 and not collecting():
        s.chart(
            funnel_plot(
                long,
                "utfall_arbete_studier_andel",
                omraden=labels,
                min_cell=min_cell,
                title="Avslut till arbete eller studier per insats (rå andel): trattdiagram",
            )
        )
    vis = pub[(pub["insats_id"] != ALLA) & ~pub["undertryckt"]]
    tested = int(flags.attrs["tested"])
    adj_sign = vis["avviker_justerat"].fillna(0)
    raw_sign = vis["avviker_ratt"].fillna(0)
    s.findings["insatser_under"] = list(vis.loc[adj_sign < 0, "namn"])
    s.findings["insatser_over"] = list(vis.loc[adj_sign > 0, "namn"])
    s.findings["insatser_provade"] = tested
    differ = vis[(raw_sign != adj_sign) & vis["avviker_justerat"].notna()]
    s.findings["insatser_ratt_annat"] = list(differ["namn"])
    _cost_findings(s, vis, ctx, p_ref)
    s.note(
        "*O/E justerat*: observerade avslut till arbete eller studier delat med dem som insatsens deltagare väntas "
        "få enligt en modell av deltagarnas egenskaper, samma som i rapportens övriga justerade jämförelser (ålder, kön, utrikes född, utbildning, "
        "försörjningshinder och bistånd före start). *Avviker, justerat*: kvoten skiljer sig från 1 mer än "
        "slumpen förklarar; bara den justerade jämförelsen används för att peka ut insatser, eftersom den råa "
        "andelen också speglar vilka deltagare insatsen har. Trattdiagrammet visar den råa andelen. "
        + (false_flags_sentence(tested, int((adj_sign != 0).sum()), "insatser") + " " if tested else "")
        + "Kostnad per utfall = kostnad per plats och månad × månader som deltagandena pågick under perioden, "
        "delat med antal avslut till arbete eller studier; intervallet visar osäkerheten i antalet avslut. Den "
        "justerade kostnaden är kostnaden per utfall om insatsen hade haft deltagare som hela studiens. När "
        "texten säger att en insats säkert kostar mer än en annan jämförs bredare intervall än tabellens, "
        "eftersom alla insatser jämförs samtidigt (Bonferroni: 95 % säkerhet för alla intervall tillsammans; se "
        "`docs/antaganden.md`, U7 och U8)."
    )
    _model_note(s, model, min_cell)
    reach_part(s, ctx, min_cell)
    s.conclusion = " ".join(
        p for p in (_conclusion_interventions(s.findings, vis, tested), reach_conclusion(s.findings)) if p
    )
    return s


COST_ALPHA = 0.05
"""Family-wise error rate of the claim that one intervention certainly costs more per outcome than another."""


def cost_comparison(frame: pd.DataFrame, table: pd.DataFrame, p_ref: float, *, alpha: float = COST_ALPHA):
    """Bonferroni-adjusted intervals of the adjusted cost per outcome of the ``m`` rows of ``table``.

    ``table`` has ``insats_id``, ``kostnad``, ``namnare`` and ``oe`` (rows of ``section_interventions``);
    ``frame`` the ended participations the O/E were computed from (``outcome_frame_ext``). The O/E score
    intervals are recomputed at level ``1 − alpha/m`` (same case-mix model) and turned into cost intervals
    as in ``costs.adjusted_cost_per_outcome``. All ``m`` intervals then cover their true values together in
    at least ``1 − alpha`` of studies, so when every intervention truly costs the same, some dearest lower
    limit lies above some cheapest upper limit in at most ``alpha`` of studies. Returns (frame with ``lo``
    and ``hi`` aligned with ``table``, the level)."""
    m = len(table)
    level = 1.0 - alpha / max(m, 1)
    oe = outcomes_by_group(None, "insats_id", frame=frame, level=level).set_index("insats_id")
    key = table["insats_id"].astype(object)
    adj = costs.adjusted_cost_per_outcome(
        table["kostnad"], table["namnare"], table["oe"], key.map(oe["oe_lo"]), key.map(oe["oe_hi"]), p_ref
    )
    out = pd.DataFrame({"lo": adj["lo_justerad"].to_numpy(), "hi": adj["hi_justerad"].to_numpy()}, index=table.index)
    return out, level


def certain_cost_gap(names: pd.Series, lo: pd.Series, hi: pd.Series) -> dict | None:
    """The pair furthest apart: the dearest lower limit against the cheapest upper limit (``kvot`` = lower /
    upper; above 1 the intervals do not overlap). None when fewer than two rows or no finite upper limit."""
    lo, hi = lo.astype(float), hi.astype(float)
    if len(lo) < 2:
        return None
    cheap, dear = hi.idxmin(), lo.idxmax()
    if cheap == dear or not np.isfinite(hi[cheap]) or hi[cheap] <= 0:
        return None
    return {
        "kvot": float(lo[dear] / hi[cheap]),
        "billig": str(names[cheap]),
        "billig_hi": float(hi[cheap]),
        "dyr": str(names[dear]),
        "dyr_lo": float(lo[dear]),
    }


def _model_note(s: Section, model: pd.DataFrame, min_cell: int) -> None:
    """The case-mix model's discrimination and calibration in the method part, in the kartläggning's words and
    table (``kartlaggning.metod.model_sentences`` / ``calibration_table``): the model is the same (the
    covariates of ``justerat_utfall_oe``, fitted without the group on the same ended participations)."""
    if "calibration" not in model.attrs:
        return
    s.method_note(
        "**Fallmixmodellen bakom den justerade jämförelsen av insatserna.** Det förväntade antalet avslut till "
        "arbete eller studier kommer från samma logistiska regression som kartläggningens justerade utfall, skattad "
        "på alla avslutade deltaganden utan hänsyn till insats (se `docs/antaganden.md`, U8, S7 och S8). "
        + " ".join(model_sentences(model))
    )
    s.method_table("Fallmixmodellen: observerade och förväntade avslut per tiondel", calibration_table(model, min_cell))


def _cost_findings(s: Section, vis: pd.DataFrame, ctx: Context, p_ref: float) -> None:
    """The cheapest and dearest adjusted cost per outcome, and the pair whose Bonferroni-adjusted intervals
    are furthest apart (``cost_comparison``)."""
    c = vis[np.isfinite(vis["kpu_justerad"].astype(float))]
    if len(c) < 2:
        return
    lo_i, hi_i = c["kpu_justerad"].idxmin(), c["kpu_justerad"].idxmax()
    s.findings.update(
        {
            "kostnad_min": float(c.loc[lo_i, "kpu_justerad"]),
            "kostnad_min_namn": str(c.loc[lo_i, "namn"]),
            "kostnad_max": float(c.loc[hi_i, "kpu_justerad"]),
            "kostnad_max_namn": str(c.loc[hi_i, "namn"]),
        }
    )
    sim, level = cost_comparison(outcome_frame_ext(ctx), c, p_ref)
    gap = certain_cost_gap(c["namn"], sim["lo"], sim["hi"])
    if gap is not None:
        s.findings.update(
            {
                "kostnad_saker_kvot": gap["kvot"],
                "kostnad_billig_namn": gap["billig"],
                "kostnad_billig_hi": gap["billig_hi"],
                "kostnad_dyr_namn": gap["dyr"],
                "kostnad_dyr_lo": gap["dyr_lo"],
                "kostnad_jamforda": len(c),
                "kostnad_niva": level,
            }
        )


def _conclusion_interventions(findings: dict, vis: pd.DataFrame, tested: int) -> str:
    parts = []
    if len(vis):
        ordered = vis.sort_values("andel")
        worst, best = ordered.iloc[0], ordered.iloc[-1]
        parts.append(
            f"Andelen avslut till arbete eller studier varierar från {_pct(worst['andel'])} "
            f"({literal(worst['namn'])}) till {_pct(best['andel'])} ({literal(best['namn'])})."
        )
    else:
        parts.append("Inga insatser har tillräckligt många avslutade deltaganden för att visas.")
    if tested:
        n_out = len(findings["insatser_under"]) + len(findings["insatser_over"])
        parts.append(
            f"Justerat för deltagarnas egenskaper avviker {n_out} av {tested} insatser mer än slumpen förklarar"
            + (f": lägre i {', '.join(map(literal, findings['insatser_under']))}" if findings["insatser_under"] else "")
            + (
                f"{';' if findings['insatser_under'] else ':'} högre i {', '.join(map(literal, findings['insatser_over']))}"
                if findings["insatser_over"]
                else ""
            )
            + "."
        )
        if findings.get("insatser_ratt_annat"):
            names = findings["insatser_ratt_annat"]
            parts.append(
                f"För {', '.join(map(literal, names))} pekar den råa andelen och den justerade jämförelsen åt olika håll: "
                "skillnaden i rå andel beror till stor del på vilka deltagare insatsen har. Lita på den justerade "
                "jämförelsen, som jämför insatsen med vad just dess deltagare kunde väntas nå."
            )
    if "kostnad_min" in findings:
        parts.append(
            f"Kostnaden per utfall, justerad för deltagarna, går från {_num(findings['kostnad_min'])} kr "
            f"({literal(findings['kostnad_min_namn'])}) till {_num(findings['kostnad_max'])} kr "
            f"({literal(findings['kostnad_max_namn'])})"
            + (
                f"; även med osäkerheten räknad, och med hänsyn till att {findings['kostnad_jamforda']} insatser "
                f"jämförs samtidigt, kostar {literal(findings['kostnad_dyr_namn'])} minst "
                f"{_num(findings['kostnad_saker_kvot'], 1)} gånger så mycket per utfall som "
                f"{literal(findings['kostnad_billig_namn'])}."
                if findings.get("kostnad_saker_kvot", 0) > 1
                else ", men intervallen överlappar: skillnaderna kan vara slumpen."
            )
        )
    return " ".join(parts)
