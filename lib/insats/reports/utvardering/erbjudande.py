"""1. Alla erbjuds en insats: the offer rate of every adult recipient, by hinder group and distance to the labour
market, by area and age, and the capacity gap."""

from __future__ import annotations

import altair as alt
import numpy as np
import pandas as pd

from insats import contract
from insats.analysis.capacity import capacity_from_occupancy
from insats.analysis.measures import (
    Context,
    open_interventions,
)
from insats.analysis.privacy import SUPPRESSED
from insats.charts import ranked_bars
from insats.charts.accessible import accessible, capacity_reading
from insats.charts.common import chart_data
from insats.charts.theme import ensure_theme
from insats.contract import ALLA
from insats.reports.render import Section, literal
from insats.reports.utvardering.avstand import (
    COLUMN,
    STANDING,
    Distance,
    distance_label,
    distance_note,
    distance_order,
    person_distance,
    standing,
    with_distance,
)
from insats.reports.utvardering.common import (
    AGE_GROUPS,
    _missing,
    _names,
    _num,
    _participations,
    _pct,
    _with_wilson,
    collecting,
    format_shown,
    protect_shares,
)
from insats.text import format_number

# --------------------------------------------------------------------------- 1. erbjudande


def offer_frame(ctx: Context, *, all_groups: bool | None = None, distance: Distance | None = None) -> pd.DataFrame:
    """One row per person in scope, with whether the person was offered an intervention in time.

    Scope and "offered" are exactly the measure ``erbjudande_andel`` (``analysis.measures.erbjudande``): adult recipients
    in the period (in hinder group arbetslöshet unless ``erbjudande_alla_grupper``), offered when a
    participation's ``erbjuden_datum`` (else ``start_datum``) is on or before day0 +
    ``erbjudande_dagar`` and the participation had not ended before day0. Columns: ``pos``,
    ``omrade_kod``, ``aldersgrupp`` (``18_24`` when the person is at most 24 in m0's year, else
    ``25_plus``), ``hindergrupp``, ``erbjuden`` (bool) and ``arbetsmarknadsavstand`` (``utvardering.avstand``;
    ``distance`` when given, else computed). ``all_groups`` overrides the scope (True: every hinder group), e.g.
    to compare hinder groups when the scope is arbetslöshet.
    """
    scope = ctx.adult.copy()
    alla = ctx.params.erbjudande_alla_grupper if all_groups is None else all_groups
    if not alla:
        scope &= ctx.person_group[:-1] == "arbetsloshet"
    offered = ctx.offered  # the erbjudande_andel definition, computed in one place
    pos = np.flatnonzero(scope)
    year0 = pd.DatetimeIndex(ctx.day0[pos]).year.to_numpy()
    age = year0 - ctx.birth_year[pos]
    frame = pd.DataFrame(
        {
            "pos": pos,
            "omrade_kod": ctx.person_area[pos].astype(object),
            "aldersgrupp": np.where(age <= 24, "18_24", "25_plus").astype(object),
            "hindergrupp": ctx.person_group[pos],
            "erbjuden": offered[pos],
        }
    )
    return with_distance(frame, distance if distance is not None else person_distance(ctx))


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
    """The places each category would need if every person in scope were reached, against the places
    that exist: ``insats.analysis.capacity.capacity_from_occupancy`` (``docs/antaganden.md``, S14–S16).

    * participations: those in interventions counted as intervention (``raknas_som_insats``) of persons
      in ``personer``, whoever they are — people outside the scope use places too;
    * scope: the persons of ``offer_frame`` (the denominator of erbjudande_andel);
    * occupancy: person-days in the period / its days (the mean number of participations going on at
      the same time), split into persons in and outside the scope;
    * need at full coverage: occupancy + (persons in scope not reached) × participations per reached
      person × mean duration (Kaplan–Meier, ongoing participations censored at the data's end) / the
      period's days, per category;
    * ``platser`` = Σ places × (days the intervention is open in the period / days in the period), open
      interventions only (``measures.open_interventions``): procured contracts that ended and LOV
      providers that started during the period count for their part;
    * ``gap = behov − platser`` (> 0: places missing).

    The data's end (for censoring) is the later of the period's last day and the end of the last month
    in ``bistand``. Columns: those of ``capacity_from_occupancy``'s table (``kategori``, ``belaggning``,
    ``belaggning_i_omfattning``, ``belaggning_utanfor``, ``deltaganden``, ``deltaganden_startade``,
    ``pagaende``, ``dagar_km``, ``manader_km``, ``deltaganden_per_person``, ``personer_i_omfattning``,
    ``nadda``, ``ej_nadda``, ``tillkommande``, ``behov``, ``platser``, ``gap``) plus ``deltaganden_i_omfattning``
    and ``deltaganden_utanfor`` (participations overlapping the period by persons in and outside the scope,
    the counts behind the split of the occupancy), categories in the contract's order and a last row
    ``ALLA``. Unprotected.
    """
    if offers is None:
        offers = offer_frame(ctx)
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
    p = p[(p["pos"] >= 0) & p["insats_id"].astype(str).isin(counted) & p["start"].notna()]
    person_ids = ctx.persons["person_id"].astype(object).to_numpy()
    d = pd.DataFrame(
        {
            "person_id": person_ids[p["pos"].to_numpy()],
            "start_datum": p["start"].to_numpy(),
            "slut_datum": p["slut"].to_numpy(),
            "kategori": p["kategori"].astype(object).to_numpy(),
        }
    )
    scope = person_ids[offers["pos"].to_numpy()]
    data_end = last
    if "bistand" in ctx.study and len(ctx.study["bistand"]):
        data_end = max(last, ctx.month0 + pd.DateOffset(months=ctx.n_months - 1) + pd.offsets.MonthEnd(0))
    res = capacity_from_occupancy(d, first, last, in_scope=scope, data_end=data_end, platser=places)
    out = res.table
    overlaps = (d["start_datum"] <= last) & (d["slut_datum"].isna() | (d["slut_datum"] >= first))
    in_scope = d["person_id"].isin(set(scope))
    for col, mask in (("deltaganden_i_omfattning", in_scope), ("deltaganden_utanfor", ~in_scope)):
        counts = d.loc[overlaps & mask, "kategori"].value_counts()
        out[col] = out["kategori"].map(counts).fillna(0.0).astype(float)
        out.loc[out["kategori"] == ALLA, col] = float((overlaps & mask).sum())
    order = [c for c in contract.codes("kategori") if c in set(out["kategori"])]
    order += [c for c in out["kategori"] if c not in order and c != ALLA]
    out = out.set_index("kategori").loc[[*order, ALLA]].reset_index()
    out.attrs["capacity"] = res
    return out


_CAP_PARTS = (
    ("belaggning_i_omfattning", "I bruk i dag: personer i omfattningen", "#0072B2"),
    ("belaggning_utanfor", "I bruk i dag: andra personer", "#1B7F9E"),
    ("belaggning", "I bruk i dag", "#0072B2"),
    ("tillkommande", "Tillkommer om alla i omfattningen nås", "#D55E00"),
    ("platser", "Platser i dag", "#009E73"),
)
_NEED, _HAVE = "Behövs", "Finns"


def capacity_chart(gap: pd.DataFrame, split: pd.Series | None = None):
    """Per category two bars: the places needed at full coverage (stacked: in use today by persons in the
    scope, by others, and what reaching everyone adds) and the places that exist.

    ``gap``: published rows of ``capacity_gap`` (no suppressed row). ``split``: per row whether the
    occupancy may be shown split by who uses the places (False: one part "I bruk i dag")."""

    ensure_theme()
    g = gap[gap["kategori"] != ALLA]
    split = split.reindex(g.index).fillna(False) if split is not None else pd.Series(True, index=g.index)
    labels = {key: text for key, text, _ in _CAP_PARTS}
    rows = []
    for i, r in g.iterrows():
        name = contract.label("kategori", r["kategori"])
        parts = ("belaggning_i_omfattning", "belaggning_utanfor") if split[i] else ("belaggning",)
        for order, key in enumerate((*parts, "tillkommande")):
            rows.append(
                {
                    "kategori": name,
                    "stapel": _NEED,
                    "del": labels[key],
                    "ordning": order,
                    "platser": float(r[key]),
                    "text": format_number(r[key], 1),
                }
            )
        rows.append(
            {
                "kategori": name,
                "stapel": _HAVE,
                "del": labels["platser"],
                "ordning": 0,
                "platser": float(r["platser"]),
                "text": format_number(r["platser"], 1),
            }
        )
    frame = pd.DataFrame(rows)
    domain = [text for key, text, _ in _CAP_PARTS if text in set(frame["del"])]
    colors = [c for _, text, c in _CAP_PARTS if text in set(frame["del"])]
    table = frame.pivot_table(index="kategori", columns="del", values="platser", aggfunc="sum", sort=False)
    table = table.reindex(columns=domain).map(lambda v: format_number(v, 1) if pd.notna(v) else "")
    table = table.reset_index().rename(columns={"kategori": "Kategori"})
    table.columns.name = None
    chart = (
        alt.Chart(chart_data(frame))
        .mark_bar()
        .encode(
            y=alt.Y("kategori:N", title=None, sort=list(dict.fromkeys(frame["kategori"]))),
            yOffset=alt.YOffset("stapel:N", sort=[_NEED, _HAVE]),
            x=alt.X("platser:Q", title="Platser (genomsnitt samtidigt)", axis=alt.Axis(format=",.0f"), stack="zero"),
            color=alt.Color(
                "del:N",
                title=None,
                sort=domain,
                scale=alt.Scale(domain=domain, range=colors),
                legend=alt.Legend(orient="bottom", columns=2),
            ),
            order=alt.Order("ordning:Q"),
            tooltip=[
                alt.Tooltip("kategori:N", title="Kategori"),
                alt.Tooltip("del:N", title="Del"),
                alt.Tooltip("text:N", title="Platser"),
            ],
        )
        .properties(
            title=alt.TitleParams(
                "Platser som behövs om alla i omfattningen nås, och platser som finns",
                subtitle=[
                    "Övre stapeln: platser i bruk i dag (medelantal pågående deltaganden) och det som tillkommer om "
                    "alla i omfattningen får insatser som de som redan nåtts. Undre stapeln: platser i dag."
                ],
            ),
            width=460,
            height=alt.Step(14),
        )
    )
    what = "Liggande staplar per kategori: platser som behövs om alla i omfattningen nås, och platser som finns."
    reading = capacity_reading(frame, need=_NEED, have=_HAVE)
    return accessible(chart, what=what, reading=reading, table=table, caption="Platser som behövs och som finns")


ALL_ADULTS = {"taljare": "vuxna_alla_erbjudna", "namnare": "vuxna_alla"}
"""The counts of every adult recipient in the period and of those offered an intervention in time (the measure
erbjudande_andel's counts with ``erbjudande_alla_grupper``): the tables over everyone share these cells."""

_OFFER_COLUMNS = {
    "grupp": ("Grupp", "text"),
    "namnare": ("Personer", "antal"),
    "taljare": ("Erbjudna", "antal"),
    "andel": ("Andel erbjudna", "andel"),
    "lo:hi": ("95 % konfidensintervall", "intervall"),
}

CAPTION_ALL = "Erbjudandeandel, alla vuxna biståndsmottagare och per försörjningshinder"
CAPTION_DISTANCE = "Erbjudandeandel per avstånd till arbetsmarknaden (alla vuxna biståndsmottagare)"


def section_offer(ctx: Context, measures, *, min_cell: int = 5) -> Section:
    """Area 1, "alla mottagare av ekonomiskt bistånd ska erbjudas en insats": first the offer rate of every adult
    recipient (with its 95 % interval), then by hinder group (arbetslöshet, the municipality's own target, is
    one of the rows) and by distance to the labour market, then by area and age group in the scope of the
    parameter ``omfattning``; the capacity gap."""
    s = Section("Alla erbjuds en insats")
    note = _missing(ctx.study, ["personer", "bistand", "deltaganden"], "Erbjudandeandelen")
    if note:
        s.note(note)
        s.conclusion = "Erbjudandeandelen kan inte beräknas med de tabeller som finns."
        return s

    distance = person_distance(ctx)
    everyone = offer_frame(ctx, all_groups=True, distance=distance)
    frame = offer_frame(ctx, distance=distance)
    names = _names(ctx)
    by_grp = offer_rates(everyone, "hindergrupp", order=contract.codes("hindergrupp"))
    by_grp["grupp"] = by_grp["hindergrupp"].map(
        lambda c: "Alla vuxna biståndsmottagare" if c == ALLA else contract.label("hindergrupp", c)
    )
    # everyone first: the total row leads the table
    by_grp = pd.concat([by_grp[by_grp["hindergrupp"] == ALLA], by_grp[by_grp["hindergrupp"] != ALLA]])
    by_area = offer_rates(frame, "omrade_kod", order=ctx.areas)
    by_area["grupp"] = by_area["omrade_kod"].map(names).fillna(by_area["omrade_kod"])
    by_age = offer_rates(frame, "aldersgrupp", order=list(AGE_GROUPS))
    by_age["grupp"] = by_age["aldersgrupp"].map({**AGE_GROUPS, ALLA: "Alla"})
    values = ("andel", "lo", "hi")
    pub = {"alla": protect_shares(by_grp, min_cell, key="hindergrupp", values=values, counts=ALL_ADULTS)}
    s.table(CAPTION_ALL, format_shown(pub["alla"], _OFFER_COLUMNS))
    if distance.source is not None:
        by_dist = offer_rates(everyone, COLUMN, order=distance_order())
        by_dist["grupp"] = by_dist[COLUMN].map(
            lambda c: "Alla vuxna biståndsmottagare" if c == ALLA else distance_label(c)
        )
        by_dist = pd.concat([by_dist[by_dist[COLUMN] == ALLA], by_dist[by_dist[COLUMN] != ALLA]])
        pub["avstand"] = protect_shares(by_dist, min_cell, key=COLUMN, values=values, counts=ALL_ADULTS)
        s.table(CAPTION_DISTANCE, format_shown(pub["avstand"], _OFFER_COLUMNS))
    s.note(distance_note(distance.source))
    for caption, t, key in (("Per område", by_area, "omrade_kod"), ("Per åldersgrupp", by_age, "aldersgrupp")):
        pub[caption] = protect_shares(t, min_cell, key=key, values=values)
        s.table(f"Erbjudandeandel {caption.lower()}", format_shown(pub[caption], _OFFER_COLUMNS))
    scope = (
        "alla vuxna biståndsmottagare"
        if ctx.params.erbjudande_alla_grupper
        else "vuxna biståndsmottagare med försörjningshinder arbetslöshet"
    )
    s.note(
        "Första tabellen gäller alla vuxna biståndsmottagare under perioden, som frågan ställdes, och visar "
        "arbetslösheten (kommunens egen målgrupp) som en av raderna. Tabellerna per område och åldersgrupp, "
        f"diagrammet och platsberäkningen gäller omfattningen: {scope}. Erbjuden = ett deltagande erbjudet "
        f"(annars påbörjat) senast {ctx.params.erbjudande_dagar} dagar efter första biståndsmånaden i perioden."
    )
    if "erbjudande_andel" in set(measures["matt"]) and not collecting():
        s.chart(
            ranked_bars(
                measures,
                "erbjudande_andel",
                omraden=ctx.study.get("omraden"),
                min_cell=min_cell,
                title="Andel erbjudna en insats inom 90 dagar, per område",
            )
        )
    _offer_findings(s, pub)
    if "insatser" in ctx.study:
        _capacity_part(s, ctx, frame, min_cell, everyone=everyone)
    else:
        s.note(_missing(ctx.study, ["insatser"], "Kapacitetsgapet") or "")
    s.method_note(
        "**Säkerhetsintervall för andelar.** Intervallen är 95 % Wilson-intervall för en andel; de visar hur mycket "
        "andelen kunde variera av slumpen med så många personer. Avståndet till arbetsmarknaden: se "
        "`docs/antaganden.md`, U18."
    )
    s.conclusion = _conclusion_offer(pub, s.findings, scope, narrower=not ctx.params.erbjudande_alla_grupper)
    return s


def _row(table: pd.DataFrame, key: str, value: str) -> pd.Series | None:
    """The published row of ``table`` whose ``key`` is ``value`` (None when absent or hidden)."""
    rows = table[table[key].astype(str) == value]
    if not len(rows) or pd.isna(rows.iloc[0]["andel"]):
        return None
    return rows.iloc[0]


def _share_findings(s: Section, prefix: str, row: pd.Series | None) -> None:
    s.findings[f"{prefix}"] = float(row["andel"]) if row is not None else None
    for end in ("lo", "hi"):
        s.findings[f"{prefix}_{end}"] = float(row[end]) if row is not None and pd.notna(row[end]) else None


def _offer_findings(s: Section, pub: dict) -> None:
    """Key numbers (published values only): ``erbjudande_andel``/``_lo``/``_hi`` for every adult recipient (the
    headline), ``erbjudande_arbetsloshet``/``_lo``/``_hi`` (hinder group arbetslöshet), ``erbjudande_omfattning``/
    ``_lo``/``_hi`` (the scope of the area table), ``erbjudande_avstand`` ({code: (share, lo, hi)} of the
    published distance groups) and ``erbjudande_avstand_efter`` (distance groups offered clearly less often than
    another: ``(code, share, other code, other share)`` when the intervals do not overlap)."""
    _share_findings(s, "erbjudande_andel", _row(pub["alla"], "hindergrupp", ALLA))
    s.findings["erbjudande_lo"] = s.findings.pop("erbjudande_andel_lo")
    s.findings["erbjudande_hi"] = s.findings.pop("erbjudande_andel_hi")
    _share_findings(s, "erbjudande_arbetsloshet", _row(pub["alla"], "hindergrupp", "arbetsloshet"))
    _share_findings(s, "erbjudande_omfattning", _row(pub["Per område"], "omrade_kod", ALLA))
    groups: dict[str, tuple[float, float, float]] = {}
    if "avstand" in pub:
        for code in contract.codes(COLUMN):
            row = _row(pub["avstand"], COLUMN, code)
            if row is not None:
                groups[code] = (float(row["andel"]), float(row["lo"]), float(row["hi"]))
    s.findings["erbjudande_avstand"] = groups
    behind = []
    if groups:
        best = max(groups, key=lambda c: groups[c][0])
        for code, (v, _lo, hi) in groups.items():
            if code != best and hi < groups[best][1]:
                behind.append((code, v, best, groups[best][0]))
    s.findings["erbjudande_avstand_efter"] = behind


def _capacity_part(
    s: Section, ctx: Context, frame: pd.DataFrame, min_cell: int, *, everyone: pd.DataFrame | None = None
) -> None:
    """The capacity table, chart, note and findings of ``section_offer`` (published values only).

    ``everyone``: ``offer_frame`` with every hinder group. When the scope (``omfattning``) is narrower,
    the places needed if every adult recipient were reached — the study's question — are computed by
    the same ``capacity_gap`` with that scope: findings ``kapacitet_behov_alla`` and ``kapacitet_gap_alla``
    (the total row, protected as the table; with the scope "alla" they equal ``kapacitet_behov``/``_gap``)."""
    gap = capacity_gap(ctx, frame)
    s.extra["kapacitet"] = gap
    shown = gap.copy()
    shown["namn"] = [("Alla kategorier" if c == ALLA else contract.label("kategori", c)) for c in shown["kategori"]]
    values = (
        "belaggning",
        "belaggning_i_omfattning",
        "belaggning_utanfor",
        "manader_km",
        "deltaganden_per_person",
        "tillkommande",
        "behov",
        "gap",
    )
    gp = protect_shares(shown, min_cell, key="kategori", num="deltaganden", den=None, values=values)
    # who uses the places: the split is shown only where neither part rests on 1 … min_cell − 1
    # participations, and never so that a hidden part follows from the total row. Each part is a share of
    # the category's participations (its complement is the other part), protected on its own; a row's split
    # is hidden when either part is.
    base = shown.assign(undertryckt=gp["undertryckt"])
    parts = [
        protect_shares(base, min_cell, key="kategori", num=col, den="deltaganden")["undertryckt"].to_numpy(dtype=bool)
        for col in ("deltaganden_i_omfattning", "deltaganden_utanfor")
    ]
    split_hidden = parts[0] | parts[1]
    sp = base.copy()
    for col in ("belaggning_i_omfattning", "belaggning_utanfor"):
        sp[col] = sp[col].astype(float).mask(split_hidden)
    sp["undertryckt"] = split_hidden
    cols = {
        "namn": ("Kategori", "text"),
        "deltaganden": ("Deltaganden i perioden", "antal"),
        "belaggning": ("I bruk i dag", "tal1"),
        "belaggning_i_omfattning": ("varav personer i omfattningen", "tal1"),
        "belaggning_utanfor": ("varav andra", "tal1"),
        "manader_km": ("Längd, månader", "tal1"),
        "deltaganden_per_person": ("Deltaganden per person", "tal1"),
        "tillkommande": ("Tillkommer om alla nås", "tal1"),
        "behov": ("Platser som behövs", "antal"),
        "platser": ("Platser i dag", "antal"),
        "gap": ("Saknas (+) / överskott (−)", "antal"),
    }
    table = format_shown(gp, cols)
    split_cols = {k: cols[k] for k in ("belaggning_i_omfattning", "belaggning_utanfor")}
    split_shown = format_shown(sp, split_cols)
    for _, (header, _kind) in split_cols.items():
        table[header] = split_shown[header]
    s.table("Platser i bruk i dag och platser som behövs om alla i omfattningen nås", table)
    visible = ~gp["undertryckt"] & (gp["kategori"] != ALLA)
    if visible.any() and not collecting():
        s.chart(capacity_chart(gp[visible], split=~sp["undertryckt"]))
    tot = gp.iloc[-1]
    s.findings["kapacitet_gap"] = float(tot["gap"]) if pd.notna(tot["gap"]) else None
    s.findings["kapacitet_behov"] = float(tot["behov"]) if pd.notna(tot["behov"]) else None
    s.findings["kapacitet_belaggning"] = float(tot["belaggning"]) if pd.notna(tot["belaggning"]) else None
    s.findings["kapacitet_platser"] = float(tot["platser"]) if pd.notna(tot["platser"]) else None
    s.findings["kapacitet_utanfor"] = (
        float(sp.iloc[-1]["belaggning_utanfor"]) if pd.notna(sp.iloc[-1]["belaggning_utanfor"]) else None
    )
    s.findings["kapacitet_behov_alla"] = s.findings["kapacitet_behov"]
    s.findings["kapacitet_gap_alla"] = s.findings["kapacitet_gap"]
    if everyone is not None and not ctx.params.erbjudande_alla_grupper:
        whole = capacity_gap(ctx, everyone)  # one implementation, the scope the question asked about
        s.extra["kapacitet_alla"] = whole
        wp = protect_shares(whole, min_cell, key="kategori", num="deltaganden", den=None, values=("behov", "gap"))
        w = wp.iloc[-1]
        s.findings["kapacitet_behov_alla"] = float(w["behov"]) if pd.notna(w["behov"]) else None
        s.findings["kapacitet_gap_alla"] = float(w["gap"]) if pd.notna(w["gap"]) else None
    short = gp[(gp["kategori"] != ALLA) & (gp["gap"] > 0.5)].sort_values("gap", ascending=False)
    s.findings["kapacitet_brist"] = [contract.label("kategori", c).lower() for c in short["kategori"].head(3)]
    n_scope, reached = float(tot["personer_i_omfattning"]), float(gap.iloc[-1]["nadda"])
    small = any(1 <= x < min_cell for x in (reached, n_scope - reached))
    reach = (
        f"{format_number(reached)} av dem har haft en insats under perioden"
        if not small
        else f"för få av dem har eller saknar en insats under perioden för att antalet ska visas ({SUPPRESSED})"
    )
    s.note(
        f"Kapaciteten räknas från hur platserna används i dag. *I bruk i dag* är medelantalet deltaganden som "
        f"pågår samtidigt under perioden, uppdelat på personer i omfattningen och andra (personer utanför "
        f"omfattningen använder också platserna). Omfattningen är {format_number(n_scope)} personer; {reach}. "
        "De som inte nåtts antas få lika många och lika långa insatser som de som nåtts: *Längd* räknar också "
        "med deltaganden som fortfarande pågår, och *Deltaganden per person* är påbörjade deltaganden per "
        "person som nåtts. *Platser som behövs* = i bruk i dag + det som tillkommer. Det är ett räknat behov om "
        "alla nås, inte en prognos."
    )
    s.method_note(
        "**Kapacitet.** Längden på ett deltagande skattas med Kaplan–Meiers metod, så att deltaganden som pågår "
        "vid periodens slut räknas med utan att korta medellängden. Definitionerna står i `docs/antaganden.md`, "
        "S14–S16."
    )


def _conclusion_offer(pub: dict, findings: dict, scope: str, *, narrower: bool = False) -> str:
    parts = []
    total = _row(pub["alla"], "hindergrupp", ALLA)
    if total is not None:
        parts.append(
            f"{_pct(total['andel'])} av alla vuxna biståndsmottagare erbjöds en insats inom 90 dagar "
            f"(95 % säkerhetsintervall {_pct(total['lo'])}–{_pct(total['hi'])}); "
            + (
                f"{_pct(1 - total['andel'])} erbjöds alltså ingen insats inom 90 dagar."
                if total["andel"] < 1
                else "alla erbjöds alltså en insats."
            )
        )
    groups = pub["alla"][(pub["alla"]["hindergrupp"] != ALLA) & pub["alla"]["andel"].notna()]
    if len(groups):
        listed = ", ".join(
            f"{contract.label('hindergrupp', r.hindergrupp).lower()} {_pct(r.andel)}" for r in groups.itertuples()
        )
        parts.append(
            f"Per försörjningshinder: {listed}"
            + (" (arbetslösheten är kommunens egen målgrupp)." if "arbetsloshet" in set(groups["hindergrupp"]) else ".")
        )
    dist = findings.get("erbjudande_avstand") or {}
    if dist:
        listed = ", ".join(f"{distance_label(c).lower()} {_pct(v[0])}" for c, v in dist.items())
        parts.append(f"Efter avstånd till arbetsmarknaden: {listed}.")
        behind = findings.get("erbjudande_avstand_efter") or []
        if behind:
            other, w = behind[0][2], behind[0][3]
            who = " eller ".join(f"{_distance_phrase(code)} ({_pct(v)})" for code, v, _o, _w in behind)
            parts.append(
                f"Personer {who} erbjuds klart mer sällan en insats än de {_distance_phrase(other)} ({_pct(w)}); "
                f"{'skillnaderna är' if len(behind) > 1 else 'skillnaden är'} större än slumpen förklarar."
            )
    areas = pub["Per område"]
    areas = areas[(areas["omrade_kod"] != ALLA) & areas["andel"].notna()]
    if len(areas) >= 2:
        lo, hi = areas.loc[areas["andel"].idxmin()], areas.loc[areas["andel"].idxmax()]
        parts.append(
            f"Bland {scope} är andelen lägst i {literal(lo['grupp'])} ({_pct(lo['andel'])}) och högst i "
            f"{literal(hi['grupp'])} "
            f"({_pct(hi['andel'])})."
        )
    age = pub["Per åldersgrupp"]
    age = age[(age["aldersgrupp"] != ALLA) & age["andel"].notna()]
    if len(age) == 2:
        parts.append(
            f"Bland dem får unga 18–24 år ett erbjudande i {_pct(age['andel'].iloc[0])} av fallen och de som är 25 år "
            f"och äldre i {_pct(age['andel'].iloc[1])}."
        )
    if findings.get("kapacitet_gap") is not None:
        g = findings["kapacitet_gap"]
        use = ""
        if findings.get("kapacitet_belaggning") is not None and findings.get("kapacitet_platser") is not None:
            use = (
                f"I dag är i genomsnitt {_num(findings['kapacitet_belaggning'])} av {_num(findings['kapacitet_platser'])} "
                "platser i bruk"
                + (
                    f", varav {_num(findings['kapacitet_utanfor'])} av personer utanför omfattningen"
                    if findings.get("kapacitet_utanfor") is not None
                    else ""
                )
                + ". "
            )
        parts.append(
            use + f"Om alla i omfattningen nåddes skulle omkring {_num(abs(g))} platser "
            f"{'saknas' if g > 0 else 'bli över'} (genomsnitt samtidigt)."
        )
    if narrower and findings.get("kapacitet_behov_alla") is not None:
        have = findings.get("kapacitet_platser")
        parts.append(
            f"Om alla vuxna biståndsmottagare nåddes, som frågan ställdes, skulle omkring "
            f"{_num(findings['kapacitet_behov_alla'])} platser behövas samtidigt"
            + (f" mot {_num(have)} i dag" if have is not None else "")
            + "; det är en beräknad uppskattning utifrån hur platserna används i dag, utan säkerhetsintervall."
        )
    if not parts:
        parts.append("Antalen är för små för att visas utan att röja enskilda (se fotnoten om ..).")
    return " ".join(parts)


def _distance_phrase(code: str) -> str:
    """``nara`` -> "som står nära arbetsmarknaden", for a sentence about persons."""
    return f"som står {standing(code)}" if code in STANDING else standing(code)
