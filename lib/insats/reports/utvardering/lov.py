"""3. Valfrihet och LOV: providers per category, the volume LOV needs, choice, outcomes per provider."""

from __future__ import annotations

import numpy as np
import pandas as pd

from insats import contract
from insats.analysis.measures import (
    Context,
    open_interventions,
)
from insats.charts import ranked_bars
from insats.contract import ALLA
from insats.reports.render import Section, literal
from insats.reports.utvardering.common import (
    _missing,
    _n_months,
    _num,
    _participations,
    _pct,
    _with_wilson,
    collecting,
    format_shown,
    protect_shares,
)
from insats.reports.utvardering.lov_regim import (
    _HIDDEN,
    _REGI_HIDDEN,
    VOLUME_COUNTS,
    _cost_table,
    _market,
    _regime_conclusion,
    _regime_note,
    _same_months,
    cost_by_regi,
    has_lov,
    lov_period_context,
    provider_periods,
    regime_change,
)
from insats.reports.utvardering.utfall import (
    OUTCOME_COUNTS,
    adjusted_flags,
    false_flags_sentence,
    flag_text,
    outcome_frame_ext,
    outcome_hierarchy,
    outcomes_by_group,
)

# --------------------------------------------------------------------------- 3. LOV


def providers_per_category(ctx: Context) -> pd.DataFrame:
    """Per category: distinct providers (``utforare``; an empty provider counts as the
    intervention's own id) of interventions open in the period and counted as intervention, of
    which LOV providers, and the regi forms present. Counts of providers are not about persons."""
    ins = open_interventions(ctx).copy()
    ins["utf"] = ins["utforare"].astype(object).fillna(ins["insats_id"].astype(object))
    ins["is_lov"] = ins["lov"].astype("boolean").fillna(False).astype(bool) | (ins["regi"].astype(object) == "lov")
    rows = []
    for c in [c for c in contract.codes("kategori") if c in set(ins["kategori"].astype(object))]:
        sel = ins[ins["kategori"].astype(object) == c]
        rows.append(
            (
                c,
                sel["utf"].nunique(),
                sel.loc[sel["is_lov"], "utf"].nunique(),
                ", ".join(contract.label("regi", r) for r in sorted(set(sel["regi"].astype(object)))),
            )
        )
    return pd.DataFrame(rows, columns=["kategori", "utforare", "lov_utforare", "regi"])


def lov_volume(ctx: Context, min_deltagare: int = 20, providers: pd.DataFrame | None = None) -> pd.DataFrame:
    """Can the volume of each category sustain several providers?

    Per category: ``per_ar`` = participations started in the period / (months in the period / 12)
    (participations per year); ``utforare`` = providers today (``providers_per_category``);
    ``per_utforare`` = per_ar / utforare; ``max_utforare`` = ⌊per_ar / min_deltagare⌋, the number of
    providers that could each get the stated minimum; ``racker`` = max_utforare ≥ 2 (the volume can
    carry a choice between at least two providers). ``deltaganden`` is the count behind per_ar
    (a count of participations, protected when published).
    """
    if providers is None:
        providers = providers_per_category(ctx)
    years = _n_months(ctx) / 12
    p = _participations(ctx)
    p = p[(p["pos"] >= 0) & ctx.in_period(p["start"])]
    counts = p["kategori"].astype(object).value_counts()
    out = providers[["kategori", "utforare", "lov_utforare"]].copy()
    out["deltaganden"] = out["kategori"].map(counts).fillna(0).astype(float)
    out["per_ar"] = out["deltaganden"] / years
    out["per_utforare"] = np.where(
        out["utforare"] > 0, out["per_ar"] / out["utforare"].where(out["utforare"] > 0), np.nan
    )
    out["max_utforare"] = np.floor(out["per_ar"] / min_deltagare).astype(int)
    out["racker"] = out["max_utforare"] >= 2
    out["min_deltagare"] = min_deltagare
    return out


def chosen_by_provider(ctx: Context) -> pd.DataFrame:
    """Per LOV provider and for all (``ALLA``): participations started in the period (``namnare``)
    and those where the person chose the provider (``taljare``; empty counts as not chosen, as in
    the measure lov_andel_valt), share and Wilson interval. Unprotected."""
    p = _participations(ctx)
    q = p[p["lov"] & ctx.in_period(p["start"]) & (p["pos"] >= 0)]
    chosen = np.array([v is True for v in q["vald"]], dtype=bool)
    f = pd.DataFrame({"utforare": q["utforare"].astype(object).fillna("(okänd)").to_numpy(), "valt": chosen})
    g = f.groupby("utforare", sort=True)["valt"].agg(["sum", "size"])
    out = pd.DataFrame(
        {
            "utforare": list(g.index) + [ALLA],
            "taljare": list(g["sum"].astype(float)) + [float(chosen.sum())],
            "namnare": list(g["size"].astype(float)) + [float(len(f))],
        }
    )
    return _with_wilson(out)


def lov_questions(
    volume: pd.DataFrame,
    *,
    chosen_share: float | None,
    provider_outcomes: pd.DataFrame | None,
    min_deltagare: int,
    lov_present: bool,
) -> list[str]:
    """The questions the municipality must answer before choosing LOV, each with the numbers
    from this study that make it pressing (Swedish)."""
    qs = []
    ok = volume[volume["racker"]]
    not_ok = volume[~volume["racker"]]
    names = lambda t: ", ".join(contract.label("kategori", c).lower() for c in t["kategori"])  # noqa: E731  (a one-line local helper)
    if len(ok):
        qs.append(
            f"Vilka kategorier ska ingå i valfrihetssystemet? Volymen räcker för minst två utförare med "
            f"{min_deltagare} deltaganden per år i: {names(ok)}."
        )
    if len(not_ok):
        qs.append(
            f"Hur ska kategorier med liten volym ordnas? I {names(not_ok)} räcker volymen inte till två utförare "
            f"med minst {min_deltagare} deltaganden per år; där passar egen regi eller upphandling bättre än LOV."
        )
    if chosen_share is not None and pd.notna(chosen_share):
        qs.append(
            f"Hur ska ickevalsalternativet se ut? {_pct(1 - chosen_share)} av deltagandena hos LOV-utförare "
            "började utan att personen själv valt utförare."
        )
    elif not lov_present:
        qs.append(
            "Hur ska ickevalsalternativet se ut för dem som inte väljer? Studien har inga LOV-utförare, så det "
            "finns inga egna uppgifter om hur många som väljer själva."
        )
    if provider_outcomes is not None and len(provider_outcomes):
        po = provider_outcomes[(provider_outcomes["utforare"] != ALLA) & provider_outcomes["oe"].notna()]
        if len(po) >= 2:
            flags = po["avviker_justerat"] if "avviker_justerat" in po else pd.Series(np.nan, index=po.index)
            differ = po[flags.fillna(0) != 0]
            tail = (
                f"{len(differ)} av dem ({', '.join(map(literal, differ['utforare']))}) avviker mer än slumpen förklarar."
                if len(differ)
                else "ingen av dem avviker mer än slumpen förklarar, så uppgifterna räcker inte för att belöna eller "
                "straffa någon utförare."
            )
            qs.append(
                "Ska ersättningen vara resultatbaserad? Justerat för deltagarnas egenskaper går kvoten observerade/"
                f"förväntade avslut till arbete eller studier från {_num(po['oe'].min(), 2)} till "
                f"{_num(po['oe'].max(), 2)} mellan LOV-utförarna; {tail}"
            )
    per = volume["per_utforare"].dropna()
    if len(per):
        qs.append(
            f"Hur ska utförarna följas upp? Med i median {_num(per.median())} deltaganden per utförare och år "
            "blir skillnader mellan utförare osäkra; bestäm mått, uppföljningstid och vad som händer vid "
            "svaga resultat innan systemet startar."
        )
    qs.append(
        "Vilka krav ställs för godkännande (närvarorapportering, uppgifter till kommunen, kvalitet), och "
        "hur ska den egna regin konkurrera på samma villkor?"
    )
    qs.append("Hur får de som står långt från arbetsmarknaden information och stöd för att kunna välja?")
    return qs


# --------------------------------------------------------------------------- regimes, costs, market


ADMINISTRATION_NOTE = (
    "**Administrationen av ett valfrihetssystem syns inte i uppgifterna.** Data visar deltaganden, utförare och "
    "kostnad per plats, men inte vad det kostar kommunen att driva systemet: att ta fram förfrågningsunderlag, "
    "pröva och godkänna utförare, informera de sökande om valet, hantera ickeval, följa upp och betala "
    "utförarna. För att kunna bedöma det behöver kommunen registrera arbetstid (timmar per månad) för "
    "upphandling, godkännande, uppföljning och avtalsfrågor, antalet ansökningar från utförare och hur många "
    "som godkändes, hur lång tid valet tog för varje sökande och vem som valde vid ickeval, samt kostnader för "
    "information och system. Jämför det med motsvarande tid för upphandlade avtal och egen regi."
)


def section_lov(
    ctx: Context, measures, *, min_cell: int = 5, lov_min_deltagare: int = 20, reform_datum=None
) -> Section:
    """Area 3: providers per category, chosen share, outcomes and cost per provider and regi (also in the same
    months when LOV starts inside the period, ``regime_change``), the provider market, volume, questions."""
    s = Section("Valfrihet och LOV")
    note = _missing(ctx.study, ["insatser", "deltaganden", "personer"], "Valfrihet och LOV")
    if note:
        s.note(note)
        s.conclusion = "Avsnittet kan inte beräknas med de tabeller som finns."
        return s
    lov = has_lov(ctx)
    s.findings["lov_finns"] = lov
    s.findings["lov_min_deltagare"] = lov_min_deltagare
    if not lov:
        s.note(
            "**LOV-utförare saknas:** studien har inga insatser hos LOV-utförare (`regi` lov eller `lov` Ja "
            "i `insatser`). Andelen som själva valt utförare och jämförelsen mellan LOV-utförare kan därför "
            "inte beräknas; volymen per kategori och frågorna inför ett beslut om LOV visas ändå."
        )
    prov = providers_per_category(ctx)
    vol = lov_volume(ctx, lov_min_deltagare, prov)
    s.extra["volym"] = vol
    vol_pub = protect_shares(
        vol.assign(namn=[contract.label("kategori", c) for c in vol["kategori"]]),
        min_cell,
        key="kategori",
        num="deltaganden",
        den=None,
        values=("per_ar", "per_utforare"),
        total=None,
        counts=VOLUME_COUNTS,
        link=True,  # the capacity table counts the same participations with a total (when the data begin with the period)
    )
    vol_pub["racker_text"] = np.where(vol_pub["racker"], "Ja", "Nej")
    s.table(
        "Utförare och volym per kategori",
        format_shown(
            vol_pub.assign(regi=prov["regi"].to_numpy()),
            {
                "namn": ("Kategori", "text"),
                "utforare": ("Utförare", "antal"),
                "lov_utforare": ("Varav LOV", "antal"),
                "regi": ("Regi", "text"),
                "per_ar": ("Deltaganden per år", "antal"),
                "per_utforare": ("Per utförare och år", "antal"),
                "max_utforare": (
                    f"Utförare som volymen räcker till, vid minst {lov_min_deltagare} deltagare per år",
                    "antal",
                ),
                "racker_text": ("Räcker för flera", "text"),
            },
        ),
    )
    s.note(
        f"*Utförare som volymen räcker till* är hur många utförare kategorins volym skulle kunna bära om var och "
        f"en ska få minst {lov_min_deltagare} deltagare per år (deltaganden per år delat med "
        f"{lov_min_deltagare}, avrundat nedåt), inte hur många utförare som finns i dag; de står i kolumnen "
        "*Utförare*. Gränsen ställs in i parameterfilen."
    )
    change = regime_change(ctx, reform_datum)
    if change is not None:
        s.note(_regime_note(change))
    s.findings["lov_racker"] = [contract.label("kategori", c).lower() for c in vol.loc[vol["racker"], "kategori"]]
    s.findings["lov_racker_inte"] = [contract.label("kategori", c).lower() for c in vol.loc[~vol["racker"], "kategori"]]
    chosen_share = None
    if lov:
        ch = chosen_by_provider(ctx)
        ch["grupp"] = ch["utforare"].replace({ALLA: "Alla LOV-utförare"})
        chp = protect_shares(ch, min_cell, key="utforare", values=("andel", "lo", "hi"))
        s.table(
            "Andel som själva valt utförare (LOV)",
            format_shown(
                chp,
                {
                    "grupp": ("Utförare", "text"),
                    "namnare": ("Deltaganden", "antal"),
                    "taljare": ("Valde själv", "antal"),
                    "andel": ("Andel", "andel"),
                    "lo:hi": ("95 % konfidensintervall", "intervall"),
                },
            ),
        )
        tot = chp.iloc[-1]
        chosen_share = float(tot["andel"]) if pd.notna(tot["andel"]) else None
        s.findings["lov_andel_valt"] = chosen_share
        for end in ("lo", "hi"):  # the Wilson interval: the threshold recommendation fires on it
            s.findings[f"lov_andel_valt_{end}"] = float(tot[end]) if pd.notna(tot[end]) else None
    frame = outcome_frame_ext(ctx)
    cols = {
        "grupp": ("", "text"),
        "namnare": ("Avslutade", "antal"),
        "taljare": ("Arbete/studier", "antal"),
        "andel": ("Andel", "andel"),
        "lo:hi": ("95 % konfidensintervall", "intervall"),
        "oe": ("O/E justerat", "kvot"),
        "oe_lo:oe_hi": ("95 % konfidensintervall för O/E", "intervall_kvot"),
    }
    po_pub = None
    if len(frame):
        po = outcomes_by_group(ctx, "utforare", frame=frame)
        po["grupp"] = po["utforare"].replace({ALLA: "Alla utförare"})
        # providers and regi forms are sums of interventions: one model with section_interventions' table (R9)
        hierarchy = outcome_hierarchy(frame, min_cell)
        po_pub = protect_shares(
            po,
            min_cell,
            key="utforare",
            values=("andel", "lo", "hi", "forvantat", "oe", "oe_lo", "oe_hi", *_HIDDEN),
            counts=OUTCOME_COUNTS,
            model=hierarchy,
        )
        flags = adjusted_flags(po_pub, "utforare")
        po_pub = po_pub.join(flags)
        po_pub["flagga_text"] = [flag_text(f, u) for f, u in zip(po_pub["avviker_justerat"], po_pub["undertryckt"])]
        periods = provider_periods(ctx)
        po_pub["period"] = ["" if u == ALLA else periods.get(str(u), "") for u in po_pub["utforare"].astype(object)]
        s.table(
            "Avslut till arbete eller studier per utförare",
            format_shown(
                po_pub,
                {
                    "grupp": ("Utförare", "text"),
                    "period": ("Avslutade under", "text"),
                    **{k: v for k, v in cols.items() if k != "grupp"},
                    "flagga_text": ("Avviker, justerat", "text"),
                },
            ),
        )
        tested = int(flags.attrs["tested"])
        flagged = po_pub[po_pub["avviker_justerat"].fillna(0) != 0]
        s.findings["utforare_avviker"] = list(flagged["utforare"])
        s.findings["utforare_provade"] = tested
        pr = cost_by_regi(ctx, outcomes_by_group(ctx, "regi", frame=frame))
        pr["grupp"] = [("Alla" if c == ALLA else contract.label("regi", c)) for c in pr["regi"]]
        pr_pub = protect_shares(
            pr,
            min_cell,
            key="regi",
            values=("andel", "lo", "hi", "forvantat", "oe", "oe_lo", "oe_hi", *_REGI_HIDDEN),
            counts=OUTCOME_COUNTS,
            model=hierarchy,
        )
        s.table(
            "Avslut till arbete eller studier per regi"
            + (" (hela perioden: olika regler före och efter LOV)" if change is not None else ""),
            format_shown(pr_pub, {**cols, "grupp": ("Regi", "text")}),
        )
        s.extra["utfall_regi"] = pr
        cost_known = bool(pr["kostnad"].notna().any())
        if cost_known:
            s.table("Kostnad per regi" + (" (hela perioden)" if change is not None else ""), _cost_table(pr_pub))
        else:
            s.note(
                "**Kostnaden per regi kan inte beräknas:** `kostnad_per_plats_manad` i `insatser` saknas eller är "
                "tom. Med kostnaden per plats och månad för varje insats kan rapporten jämföra LOV med egen regi "
                "per deltagarmånad och per avslut till arbete eller studier."
            )
        if change is not None:
            _same_months(s, ctx, change, pr, cols, min_cell, cost_known)

        long = po_pub.assign(
            matt="justerat_utfall_oe",
            omrade_kod=po_pub["utforare"],
            varde=po_pub["oe"],
            lo=po_pub["oe_lo"],
            hi=po_pub["oe_hi"],
        )
        if not collecting():
            s.chart(
                ranked_bars(
                    long[["matt", "omrade_kod", "varde", "taljare", "namnare", "undertryckt", "lo", "hi"]],
                    "justerat_utfall_oe",
                    min_cell=min_cell,
                    title="Avslut till arbete/studier per utförare, observerat/förväntat",
                )
            )
        s.note(
            "O/E: observerade avslut till arbete eller studier delat med förväntade, med förväntat från "
            "en modell av deltagarnas egenskaper, samma som i rapportens övriga justerade jämförelser (ålder, kön, utrikes född, "
            "utbildning, försörjningshinder, bistånd före start). Över 1 = bättre än deltagarna väntas klara sig. "
            "*Avviker, justerat*: kvoten skiljer sig från 1 mer än slumpen förklarar (se `docs/antaganden.md`, U8)."
            + (" " + false_flags_sentence(tested, len(flagged), "utförare") if tested else " " + flags.attrs["note"])
        )
    _market(s, ctx if change is None else lov_period_context(ctx, change), vol, change, lov_min_deltagare, min_cell)
    s.note(ADMINISTRATION_NOTE)
    lov_rows = None
    if po_pub is not None and lov:
        lov_prov = set(frame.loc[frame["lov"], "utforare"].dropna())
        lov_rows = po_pub[po_pub["utforare"].isin(lov_prov)]
    s.extra["fragor"] = lov_questions(
        vol, chosen_share=chosen_share, provider_outcomes=lov_rows, min_deltagare=lov_min_deltagare, lov_present=lov
    )
    s.note(
        "**Frågor kommunen behöver besvara innan LOV väljs:**\n\n"
        + "\n".join(f"{i}. {q}" for i, q in enumerate(s.extra["fragor"], 1))
    )
    parts = [
        f"{len(vol)} kategorier har insatser i perioden; volymen räcker för minst två utförare med "
        f"{lov_min_deltagare} deltaganden per år i {len(s.findings['lov_racker'])} av dem."
    ]
    if chosen_share is not None:
        parts.append(
            f"{_pct(chosen_share)} av deltagandena hos LOV-utförare började efter att personen själv valt utförare."
        )
    elif not lov:
        parts.append("Inga LOV-utförare finns i uppgifterna, så valfriheten kan inte utvärderas med egna data.")
    if s.findings.get("utforare_provade"):
        differ = s.findings["utforare_avviker"]
        parts.append(
            (
                f"Justerat för deltagarnas egenskaper avviker {len(differ)} av {s.findings['utforare_provade']} "
                f"utförare mer än slumpen förklarar ({', '.join(map(literal, differ))})."
            )
            if differ
            else (
                f"Justerat för deltagarnas egenskaper avviker ingen av {s.findings['utforare_provade']} utförare mer "
                "än slumpen förklarar."
            )
        )
    parts += _regime_conclusion(s.findings, change)
    s.conclusion = " ".join(parts)
    return s
