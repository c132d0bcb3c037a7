"""3. Valfrihet och LOV across regimes: when LOV started and what ended with it, outcomes and cost per
regi in the same months, cost of LOV against own regi, and the provider market (docs/antaganden.md U14–U17)."""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
import pandas as pd

from insats import contract
from insats.analysis import costs
from insats.analysis.measures import (
    Context,
    ended_participations,
)
from insats.analysis.privacy import SUPPRESSED
from insats.contract import ALLA
from insats.reports.render import Section, literal
from insats.reports.utvardering.common import (
    _n_months,
    _participations,
    format_shown,
    protect_shares,
    register_parts,
)
from insats.reports.utvardering.insatser import cost_per_outcome
from insats.reports.utvardering.utfall import (
    OUTCOME_COUNTS,
    outcome_frame_ext,
    outcomes_by_group,
)
from insats.text import format_number

SAME_MONTHS_COUNTS = {"taljare": "utfall_arbete_studier_lovperioden", "namnare": "utfall_avslutade_lovperioden"}
"""The counts of the outcome table per regi over the LOV period (``_same_months``), parts of ``OUTCOME_COUNTS``."""

VOLUME_COUNTS = {"deltaganden": "volym_deltaganden"}
"""Participations started in the period per category (the volume table; the market table's when the market is
the whole period's). Over the LOV period: ``volym_deltaganden_lovperioden``, a part of it."""


_HIDDEN = ("varians", "p")
"""Columns of ``outcomes_by_group`` that are never shown but must be blanked with a suppressed row."""


def has_lov(ctx: Context) -> bool:
    """True when the study has an intervention at a LOV provider (``lov`` Ja or ``regi`` lov)."""
    if "insatser" not in ctx.study:
        return False
    ins = ctx.study["insatser"]
    return bool((ins["lov"].astype("boolean").fillna(False).astype(bool) | (ins["regi"].astype(object) == "lov")).any())


@dataclass
class RegimeChange:
    """LOV providers that start inside the period: the comparison across the period mixes two regimes."""

    lov_start: pd.Timestamp
    """The first ``giltig_fran`` of a LOV intervention (after the period's first day)."""
    ended_before: list[tuple[str, pd.Timestamp]]
    """Providers (``utforare``) of non-LOV interventions outside own regi whose ``giltig_till`` falls in the
    31 days before ``lov_start``, with that date: the contracts LOV replaced."""
    reform_same_day: bool
    """True when the attendance requirement (``reform_datum``) starts the same day."""


def regime_change(ctx: Context, reform_datum=None) -> RegimeChange | None:
    """The LOV regime starting inside the period (``RegimeChange``), or None when LOV providers are there
    from the start (or not at all)."""
    if not has_lov(ctx):
        return None
    ins = ctx.study["insatser"]
    is_lov = ins["lov"].astype("boolean").fillna(False).astype(bool) | (ins["regi"].astype(object) == "lov")
    fran = ins.loc[is_lov, "giltig_fran"]
    if fran.isna().any():
        return None
    start = pd.Timestamp(fran.min())
    if not (ctx.params.first_day < start <= ctx.params.last_day):
        return None
    till = ins["giltig_till"]
    outside = ~is_lov & ~ins["regi"].astype(object).isin(["egen_omrade", "egen_central", "annan_kommunal"])
    ended = ins[outside & till.notna() & (till < start) & (till >= start - pd.Timedelta(days=31))]
    utf = ended["utforare"].astype(object).fillna(ended["insats_id"].astype(object))
    pairs = sorted({(str(u), pd.Timestamp(t)) for u, t in zip(utf, ended["giltig_till"])})
    same = reform_datum is not None and pd.Timestamp(reform_datum) == start
    return RegimeChange(start, pairs, bool(same))


def lov_period_context(ctx: Context, change: RegimeChange) -> Context:
    """The context restricted to the LOV period: from the month ``change.lov_start`` falls in (the next month
    when it is not a first of the month) to the period's end."""
    start = change.lov_start.to_period("M").to_timestamp()
    if start < change.lov_start:
        start = start + pd.offsets.MonthBegin(1)
    return Context(ctx.study, replace(ctx.params, start=start))


def provider_periods(ctx: Context) -> dict[str, str]:
    """Per provider: the months in which its participations ended in the period (the participations of
    the outcome tables), ``"2015-02 – 2015-12"``."""
    q = ended_participations(ctx)
    utf = _participations(ctx).loc[q.index, "utforare"].astype(object).fillna("(okänd)")
    g = pd.DataFrame({"u": utf.to_numpy(), "m": pd.DatetimeIndex(q["slut"])}).groupby("u")["m"].agg(["min", "max"])
    return {
        u: (f"{a:%Y-%m}" if a.to_period("M") == b.to_period("M") else f"{a:%Y-%m} – {b:%Y-%m}")
        for u, a, b in zip(g.index, g["min"], g["max"])
    }


def cost_by_regi(ctx: Context, outcomes: pd.DataFrame) -> pd.DataFrame:
    """Cost per regi beside an ``outcomes_by_group(…, "regi")`` table (same rows, same counts).

    From ``insatser.cost_per_outcome`` (U7) per intervention, summed per regi: ``manader`` (months the
    participations ran in the period: deltagarmånader), ``kostnad`` (NaN when an intervention of the regi with
    months has no ``kostnad_per_plats_manad``), ``per_manad`` = kostnad / manader; cost per exit to work or
    studies ``kpu`` = kostnad / taljare with the interval from the Wilson interval of taljare / namnare
    (``costs.cost_per_outcome``, S17), and adjusted for the participants (``kpu_justerad``, from the row's
    O/E, ``costs.adjusted_cost_per_outcome``). Returns ``outcomes`` with these columns added."""
    per = cost_per_outcome(ctx)
    per = per[per["insats_id"] != ALLA]
    regi = _participations(ctx).drop_duplicates("insats_id").set_index("insats_id")["regi"].astype(object)
    per = per.assign(regi=per["insats_id"].map(regi).fillna("(okänd)"))
    used = per[per["manader"] > 0]
    g = used.groupby("regi").agg(
        manader=("manader", "sum"),
        kostnad=("kostnad", lambda v: v.sum() if v.notna().all() else np.nan),
    )
    out = outcomes.copy()
    key = out["regi"].astype(object)
    out["manader"] = key.map(g["manader"]).astype(float)
    out["kostnad"] = key.map(g["kostnad"]).astype(float)
    is_t = (key == ALLA).to_numpy()
    out.loc[is_t, "manader"] = float(used["manader"].sum())
    out.loc[is_t, "kostnad"] = float(used["kostnad"].sum()) if used["kostnad"].notna().all() else np.nan
    with np.errstate(invalid="ignore", divide="ignore"):
        out["per_manad"] = out["kostnad"] / out["manader"].where(out["manader"] > 0)
    cpo = costs.cost_per_outcome(out["kostnad"], out["taljare"], out["namnare"])
    out["kpu"], out["kpu_lo"], out["kpu_hi"] = (cpo[c].to_numpy() for c in ("kostnad_per_utfall", "lo", "hi"))
    tot = out[is_t]
    p_ref = (
        float(tot["taljare"].iloc[0] / tot["namnare"].iloc[0]) if len(tot) and tot["namnare"].iloc[0] > 0 else np.nan
    )
    adj = costs.adjusted_cost_per_outcome(out["kostnad"], out["namnare"], out["oe"], out["oe_lo"], out["oe_hi"], p_ref)
    out["kpu_justerad"] = adj["kostnad_per_utfall_justerad"].to_numpy()
    out["kpu_justerad_lo"] = adj["lo_justerad"].to_numpy()
    out["kpu_justerad_hi"] = adj["hi_justerad"].to_numpy()
    out.loc[is_t, ["kpu_justerad", "kpu_justerad_lo", "kpu_justerad_hi"]] = np.nan
    return out


def provider_market(ctx: Context, min_deltagare: int = 20) -> pd.DataFrame:
    """The provider market per category among participations started in the period (persons in
    ``personer``): ``utforare`` providers with participations, ``deltaganden`` (the category's), ``storsta``
    (the largest provider's participations) and ``storsta_andel``, ``for_fa`` providers with fewer than
    ``min_deltagare`` participations per year (per year = started / (months of the period / 12)), and
    ``storsta_namn``. Unprotected; ``storsta`` and ``deltaganden`` are counts to protect."""
    years = _n_months(ctx) / 12
    p = _participations(ctx)
    p = p[(p["pos"] >= 0) & ctx.in_period(p["start"])]
    p = p.assign(_u=p["utforare"].astype(object).fillna(p["insats_id"].astype(object)))
    rows = []
    for c in [c for c in contract.codes("kategori") if c in set(p["kategori"].astype(object))]:
        counts = p.loc[p["kategori"].astype(object) == c, "_u"].value_counts()
        rows.append(
            {
                "kategori": c,
                "utforare": float(len(counts)),
                "deltaganden": float(counts.sum()),
                "storsta": float(counts.iloc[0]),
                "storsta_namn": str(counts.index[0]),
                "for_fa": float((counts / years < min_deltagare).sum()),
            }
        )
    out = pd.DataFrame(rows, columns=["kategori", "utforare", "deltaganden", "storsta", "storsta_namn", "for_fa"])
    out["storsta_andel"] = out["storsta"] / out["deltaganden"].where(out["deltaganden"] > 0)
    return out


def _small_difference(whole: pd.Series, part: pd.Series, min_cell: int) -> np.ndarray:
    """Rows where ``whole − part`` (e.g. the whole period minus the LOV months) is a count of 1 … min_cell − 1:
    publishing both would reveal it, so the part is hidden."""
    diff = np.nan_to_num(whole.to_numpy(float) - part.to_numpy(float))
    return (diff >= 1) & (diff < min_cell)


def _kr(v: float) -> str:
    return (format_number(v, 0) + "\u00a0kr") if pd.notna(v) and np.isfinite(v) else ""


def _kr_interval(lo: float, hi: float) -> str:
    if not (pd.notna(lo) and np.isfinite(lo)):
        return ""
    if not np.isfinite(hi):
        return f"minst {_kr(lo)}"
    return f"{format_number(lo, 0)} – {_kr(hi)}"


def _cost_table(pub: pd.DataFrame) -> pd.DataFrame:
    """The display of a protected ``cost_by_regi`` table."""
    sup = pub["undertryckt"].fillna(False).astype(bool).to_numpy()
    cell = lambda f, *cols: [SUPPRESSED if h else f(*v) for h, *v in zip(sup, *(pub[c] for c in cols))]  # noqa: E731
    return pd.DataFrame(
        {
            "Regi": pub["grupp"].to_numpy(),
            "Deltagarmånader": cell(lambda v: format_number(v, 0) if pd.notna(v) else "", "manader"),
            "Kostnad": cell(_kr, "kostnad"),
            "Per deltagarmånad": cell(_kr, "per_manad"),
            "Avslut till arbete/studier": cell(lambda v: format_number(v, 0) if pd.notna(v) else "", "taljare"),
            "Kostnad per utfall": cell(_kr, "kpu"),
            "95 % konfidensintervall": cell(_kr_interval, "kpu_lo", "kpu_hi"),
            "Justerad för deltagarna": cell(_kr, "kpu_justerad"),
            "95 % konfidensintervall, justerad": cell(_kr_interval, "kpu_justerad_lo", "kpu_justerad_hi"),
        }
    )


_REGI_HIDDEN = (
    *_HIDDEN,
    "manader",
    "kostnad",
    "per_manad",
    "kpu",
    "kpu_lo",
    "kpu_hi",
    "kpu_justerad",
    "kpu_justerad_lo",
    "kpu_justerad_hi",
)
"""Columns of a ``cost_by_regi`` table blanked with a suppressed row."""


def _regime_note(change: RegimeChange, *, about: str = "utforare") -> str:
    """The note on the two regimes: when LOV started, whether the attendance requirement started the same day,
    which contracts ended. ``about`` says what it is a note to: ``"utforare"`` (comparisons of providers and
    regi forms, the LOV section) or ``"avbrott"`` (drop-outs before and after the requirement)."""
    when = f"{change.lov_start:%Y-%m-%d}"
    ended = ", ".join(f"{literal(u)} (till {t:%Y-%m-%d})" for u, t in change.ended_before)
    fact = (
        f"**Två perioder med olika regler.** LOV-utförarna började {when}"
        + (", samma dag som närvarokravet infördes" if change.reform_same_day else "")
        + (f", och de upphandlade avtalen slutade dagen före eller strax innan: {ended}" if ended else "")
        + "."
    )
    if about == "avbrott":
        return (
            fact
            + (
                " Deltaganden som började efter närvarokravet kan därför också ha haft en ny utförare och nya avtal"
                if change.reform_same_day
                else " Före–efter-jämförelsen av avbrott spänner därför också över bytet av utförare"
            )
            + (
                "; en förändring av avbrotten kan bero på utförarbytet lika mycket som på kravet. Jämförelsen med "
                "insatser utan närvarokrav under samma månader (när sådana finns) visar hur mycket avbrotten ändrades "
                "ändå."
            )
        )
    return fact + (
        " Jämförelser mellan utförare och regiformer över hela perioden jämför därför deltaganden från olika "
        "tider"
        + (" och med olika krav på närvaro" if change.reform_same_day else "")
        + "; en skillnad kan bero på tiden lika mycket som på utföraren. Tabellen per utförare visar när varje "
        f"utförares deltaganden avslutades. Jämförelsen *samma månader* tar bara med deltaganden som avslutades "
        f"från {change.lov_start:%Y-%m}, så att LOV och egen regi jämförs under samma tid och samma regler."
    )


def _same_months(s: Section, ctx: Context, change: RegimeChange, whole: pd.DataFrame, cols, min_cell, cost_known):
    """LOV and the other regi forms in the same months: outcomes and cost per regi over the LOV period."""
    sub = lov_period_context(ctx, change)
    frame = outcome_frame_ext(sub)
    if frame.empty:
        s.note("Inga deltaganden avslutades under LOV-perioden; samma månader kan inte jämföras.")
        return
    t = cost_by_regi(sub, outcomes_by_group(sub, "regi", frame=frame))
    t["grupp"] = [("Alla" if c == ALLA else contract.label("regi", c)) for c in t["regi"]]
    w = whole.set_index(whole["regi"].astype(object))
    key = t["regi"].astype(object)
    hide = np.zeros(len(t), bool)
    for col in ("taljare", "namnare"):
        hide |= _small_difference(key.map(w[col]).fillna(0.0), t[col], min_cell)
    t["undertryckt"] = hide
    pub = protect_shares(
        t,
        min_cell,
        key="regi",
        values=("andel", "lo", "hi", "forvantat", "oe", "oe_lo", "oe_hi", *_REGI_HIDDEN),
        counts=SAME_MONTHS_COUNTS,
    )
    register_parts(t, "regi", SAME_MONTHS_COUNTS, OUTCOME_COUNTS)
    months = f"{sub.params.start:%Y-%m} – {sub.params.end:%Y-%m}"
    s.table(
        f"Samma månader ({months}): avslut till arbete eller studier per regi",
        format_shown(pub, {**cols, "grupp": ("Regi", "text")}),
    )
    if cost_known:
        s.table(f"Samma månader ({months}): kostnad per regi", _cost_table(pub))
    s.extra["samma_manader"] = t
    rows = {str(r.regi): r for r in pub.itertuples(index=False) if not r.undertryckt}
    if "lov" in rows:
        own = [c for c in ("egen_central", "egen_omrade") if c in rows]
        s.findings["lov_samma_manader"] = {
            code: {
                "namn": contract.label("regi", code),
                "andel": float(rows[code].andel),
                "per_manad": float(rows[code].per_manad) if pd.notna(rows[code].per_manad) else None,
                "kpu": float(rows[code].kpu) if pd.notna(rows[code].kpu) else None,
                "kpu_lo": float(rows[code].kpu_lo),
                "kpu_hi": float(rows[code].kpu_hi),
            }
            for code in ["lov", *own]
        }
        s.findings["lov_samma_manader_period"] = months
    s.method_note(
        "**LOV i samma månader.** När LOV-utförarna börjar inne i perioden jämförs regiformerna också bara över "
        "LOV-perioden: deltaganden som avslutades från den månad LOV började, med samma fallmixmodell (skattad på "
        "de deltagandena) och kostnaden för de månader deltagandena pågick under LOV-perioden. En regiform vars "
        "rad för LOV-perioden skulle avslöja ett litet antal (1–4) för tiden före, genom skillnaden mot raden för "
        "hela perioden, visas inte. Ett deltagande som började före LOV men avslutades efter räknas med (som i U7 "
        "avser kostnaden och utfallen samma månader, inte exakt samma deltaganden); därför kan upphandlade "
        "utförare finnas med. Kostnad per deltagarmånad = kostnad delat med deltagarmånader; kostnad per "
        "utfall med intervall som för insatserna (se `docs/antaganden.md`, U7, U14–U17, S17)."
    )


def _market(s: Section, ctx: Context, vol: pd.DataFrame, change, min_deltagare: int, min_cell: int) -> None:
    """The provider market per category: providers, the largest provider's share, providers too small."""
    m = provider_market(ctx, min_deltagare)
    if m.empty:
        return
    m["namn"] = [contract.label("kategori", c) for c in m["kategori"]]
    hide = np.zeros(len(m), bool)
    if change is not None:  # the whole period's volume table is published: hide a small difference
        whole = m["kategori"].map(vol.set_index("kategori")["deltaganden"]).fillna(0.0)
        hide |= _small_difference(whole, m["deltaganden"], min_cell)
    m["undertryckt"] = hide
    pub = protect_shares(
        m,
        min_cell,
        key="kategori",
        num="storsta",
        den="deltaganden",
        values=("storsta_andel",),
        total=None,
        counts=VOLUME_COUNTS if change is None else {"deltaganden": "volym_deltaganden_lovperioden"},
    )
    if change is not None:
        register_parts(m, "kategori", {"deltaganden": "volym_deltaganden_lovperioden"}, VOLUME_COUNTS)
    months = f"{ctx.params.start:%Y-%m} – {ctx.params.end:%Y-%m}"
    s.table(
        f"Utförarmarknaden per kategori ({months})",
        format_shown(
            pub,
            {
                "namn": ("Kategori", "text"),
                "utforare": ("Utförare med deltagare", "antal"),
                "storsta_andel": ("Största utförarens andel av deltagandena", "andel0"),
                "for_fa": (f"Utförare med färre än {min_deltagare} deltagare per år", "antal"),
            },
        ),
    )
    s.note(
        f"Utförarmarknaden gäller deltaganden som började {months}"
        + (" (LOV-perioden)" if change is not None else "")
        + ". En utförare med färre än "
        f"{min_deltagare} deltagare per år (gränsen ställs in i parameterfilen) har troligen för litet underlag för att "
        "bära en verksamhet; när en utförare har nästan alla deltagare i en kategori finns i praktiken inget val."
    )
    vis = pub[~pub["undertryckt"]]
    s.findings["lov_marknad_for_fa"] = int(vis["for_fa"].sum())
    s.findings["lov_marknad_utforare"] = int(vis["utforare"].sum())
    s.findings["lov_marknad_kategorier"] = len(vis)
    s.findings["lov_marknad_en_utforare"] = [
        contract.label("kategori", c).lower() for c in vis.loc[vis["utforare"] == 1, "kategori"]
    ]
    dominated = vis[(vis["utforare"] >= 2) & (vis["storsta_andel"] >= 0.5)]
    s.findings["lov_marknad_dominerad"] = [contract.label("kategori", c).lower() for c in dominated["kategori"]]


def _regime_conclusion(findings: dict, change: RegimeChange | None) -> list[str]:
    out = []
    if change is not None:
        out.append(
            f"LOV-utförarna började {change.lov_start:%Y-%m-%d}"
            + (", samma dag som närvarokravet" if change.reform_same_day else "")
            + ", så jämförelser över hela perioden jämför olika tider; rapporten jämför därför också LOV och egen "
            "regi under samma månader."
        )
    same = findings.get("lov_samma_manader")
    if same and same["lov"].get("per_manad") is not None:
        lov = same["lov"]
        own = [v for k, v in same.items() if k != "lov" and v.get("per_manad") is not None]
        text = (
            f"Under samma månader ({findings['lov_samma_manader_period']}) kostade LOV {_kr(lov['per_manad'])} per "
            "deltagarmånad"
        )
        if lov.get("kpu") is not None:
            text += f" och {_kr(lov['kpu'])} per avslut till arbete eller studier ({_kr_interval(lov['kpu_lo'], lov['kpu_hi'])})"
        verdicts = []
        for o in own:
            text += f"; {o['namn'].lower()} {_kr(o['per_manad'])} per deltagarmånad"
            if o.get("kpu") is not None:
                text += f" och {_kr(o['kpu'])} per utfall ({_kr_interval(o['kpu_lo'], o['kpu_hi'])})"
                if lov.get("kpu") is not None:
                    if lov["kpu_hi"] < o["kpu_lo"]:
                        verdicts.append(f"LOV kostar säkert mindre per utfall än {o['namn'].lower()}")
                    elif lov["kpu_lo"] > o["kpu_hi"]:
                        verdicts.append(f"LOV kostar säkert mer per utfall än {o['namn'].lower()}")
                    else:
                        verdicts.append(f"skillnaden per utfall mot {o['namn'].lower()} kan vara slumpen")
        said = "; ".join(verdicts)
        out.append(text + "." + (f" {said[:1].upper()}{said[1:]} (intervallen jämförda)." if verdicts else ""))
    if findings.get("lov_marknad_en_utforare"):
        one = findings["lov_marknad_en_utforare"]
        out.append(
            f"I {len(one)} av {findings.get('lov_marknad_kategorier', len(one))} kategorier finns bara en utförare, "
            "så där finns inget val (" + "; ".join(one) + ")."
        )
    if findings.get("lov_marknad_for_fa"):
        out.append(
            f"{findings['lov_marknad_for_fa']} utförare (räknat per kategori) har färre än "
            f"{findings.get('lov_min_deltagare')} deltagare per år, för lite för en bärkraftig verksamhet."
        )
    if findings.get("lov_marknad_dominerad"):
        out.append(
            "Där det finns flera utförare har en av dem minst hälften av deltagandena i "
            + ", ".join(findings["lov_marknad_dominerad"])
            + "."
        )
    return out
