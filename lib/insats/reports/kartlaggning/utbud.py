"""Organisation and utbud: regi per area, places per area and category, and the gaps in the utbud."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from insats import charts, contract
from insats.analysis.measures import (
    open_interventions,
)
from insats.analysis.privacy import format_table
from insats.analysis.stats import rank_correlation
from insats.contract import CENTRAL
from insats.data.study import Study
from insats.reports.common import measure_table
from insats.reports.kartlaggning.common import (
    GAP_CATEGORIES,
    UTBUD_MEASURES,
    _areas,
    _context,
    _has_values,
    _missing,
    _names,
    _omraden,
    _published_areas,
    join_names,
    present,
    sectioned,
)
from insats.reports.render import Note, Table, literal
from insats.text import format_number

# --------------------------------------------------------------------------- utbud


def open_places(study: Study, start, end) -> pd.DataFrame:
    """Places of the interventions counted as intervention and open in the period, unallocated:
    columns ``omrade_kod`` (an area or ``CENTRAL``), ``kategori``, ``regi``, ``platser``."""
    ins = open_interventions(_context(study, start, end))
    return pd.DataFrame(
        {
            "omrade_kod": ins["omrade_kod"].astype(str).to_numpy(),
            "kategori": ins["kategori"].astype(object).to_numpy(),
            "regi": ins["regi"].astype(object).to_numpy(),
            "platser": ins["platser"].astype("float64").fillna(0.0).to_numpy(),
        }
    )


def place_matrix(study: Study, start, end) -> pd.DataFrame:
    """Places per area (rows, every area of the study, then ``CENTRAL`` when it has any) and
    category (columns, code-list order, only categories with places); 0 where none."""
    places = open_places(study, start, end)
    rows = _areas(study) + ([CENTRAL] if (places["omrade_kod"] == CENTRAL).any() else [])
    cols = [c for c in contract.codes("kategori") if c in set(places["kategori"])]
    wide = places.pivot_table(
        index="omrade_kod", columns="kategori", values="platser", aggfunc="sum", fill_value=0.0, observed=True
    )
    wide = wide.reindex(index=rows, columns=cols, fill_value=0.0).astype(float)
    wide.index.name, wide.columns.name = "omrade_kod", "kategori"
    return wide


def category_gaps(study: Study, start, end, categories: Sequence[str] = GAP_CATEGORIES) -> pd.DataFrame:
    """Which areas lack which categories (among ``categories``).

    One row per area: ``kategorier_egna`` (categories with places in the area's own utbud),
    ``saknas_eget`` (categories missing from its own utbud, list of codes), ``saknas_helt``
    (missing also centrally: nobody in the area can be offered them).
    """
    matrix = place_matrix(study, start, end)
    central = set(matrix.columns[matrix.loc[CENTRAL] > 0]) if CENTRAL in matrix.index else set()
    rows = []
    for code in _areas(study):
        own = set(matrix.columns[matrix.loc[code] > 0])
        missing = [c for c in categories if c not in own]
        rows.append(
            {
                "omrade_kod": code,
                "kategorier_egna": len(own & set(categories)),
                "saknas_eget": missing,
                "saknas_helt": [c for c in missing if c not in central],
            }
        )
    return pd.DataFrame(rows, columns=["omrade_kod", "kategorier_egna", "saknas_eget", "saknas_helt"])


def gaps_table(gaps: pd.DataFrame, study: Study) -> pd.DataFrame:
    """``category_gaps`` for display: Swedish labels, one row per area."""
    names = _names(study)

    def labels(codes):
        return ", ".join(contract.label("kategori", c) for c in codes) or "–"

    out = pd.DataFrame(
        {
            "Kategorier i eget utbud": [f"{n} av {len(GAP_CATEGORIES)}" for n in gaps["kategorier_egna"]],
            "Saknas i eget utbud": [labels(c) for c in gaps["saknas_eget"]],
            "Saknas även centralt": [labels(c) for c in gaps["saknas_helt"]],
        },
        index=[names.get(c, c) for c in gaps["omrade_kod"]],
    )
    out.index.name = "Område"
    return out


SIZE_MEASURE = "erbjudande_andel"
"""The measure whose published denominator is an area's number of adult recipients (its
``underlag``): the size in the size-and-breadth comparison (docs/antaganden.md K10)."""


def size_and_breadth(study: Study, long: pd.DataFrame, start, end) -> pd.DataFrame:
    """Does a small district have a narrower utbud? One row per area whose recipient count is
    published: ``omrade_kod``, ``mottagare`` (the published denominator of ``SIZE_MEASURE``: adult
    recipients in the period), ``kategorier_egna`` (categories of the area's own utbud, K2).
    ``attrs``: ``rho``, ``p``, ``n`` of ``stats.rank_correlation`` (size against breadth)."""
    size = _published_areas(long, SIZE_MEASURE)
    gaps = category_gaps(study, start, end).set_index("omrade_kod")
    out = pd.DataFrame(
        {
            "omrade_kod": size["omrade_kod"].astype(str).to_numpy(),
            "mottagare": size["namnare"].astype(float).to_numpy(),
        }
    )
    out = out[out["omrade_kod"].isin(gaps.index) & out["mottagare"].notna()].reset_index(drop=True)
    out["kategorier_egna"] = out["omrade_kod"].map(gaps["kategorier_egna"]).astype(int)
    out.attrs.update(rank_correlation(out["mottagare"], out["kategorier_egna"]))
    return out


def size_breadth_table(sb: pd.DataFrame, study: Study) -> Table:
    """``size_and_breadth`` for display, smallest area first: area, adult recipients (the published count),
    categories in the own utbud (the correlation and its p-value are in the method appendix, K10).
    Areas whose recipient count is suppressed are not in ``sb`` and so not in the table."""
    names = _names(study)
    part = sb.sort_values(["mottagare", "omrade_kod"], kind="stable")
    out = pd.DataFrame(
        {
            "Vuxna biståndsmottagare": [format_number(v, 0) for v in part["mottagare"]],
            f"Kategorier i eget utbud (av {len(GAP_CATEGORIES)})": [str(k) for k in part["kategorier_egna"]],
        },
        index=[names.get(c, c) for c in part["omrade_kod"]],
    )
    out.index.name = "Område"
    return Table(f"Storlek och bredd i eget utbud, minsta området först ({len(sb)} områden)", out)


def size_breadth_sentence(sb: pd.DataFrame, study: Study) -> str:
    """The plain-Swedish reading of ``size_and_breadth``: how size and breadth go together, and
    how likely a pairing at random would give as strong a pattern."""
    rho, p, n = sb.attrs.get("rho"), sb.attrs.get("p"), sb.attrs.get("n", 0)
    if rho is None or not np.isfinite(rho):
        return (
            "Sambandet mellan områdenas storlek och bredden i deras eget utbud kan inte bedömas: det behövs "
            "minst fyra områden med publicerat antal biståndsmottagare och skillnader i utbudet."
        )
    names = _names(study)
    small = sb.nsmallest(3, "mottagare")
    big = sb.nlargest(3, "mottagare")

    def listing(part: pd.DataFrame) -> str:
        return ", ".join(
            f"{literal(names.get(c, c))} ({k} av {len(GAP_CATEGORIES)})"
            for c, k in zip(part["omrade_kod"], part["kategorier_egna"])
        )

    strength = "starkt" if abs(rho) >= 0.6 else "måttligt" if abs(rho) >= 0.3 else "svagt"
    direction = (
        "ju fler biståndsmottagare, desto bredare eget utbud"
        if rho > 0
        else ("ju fler biståndsmottagare, desto smalare eget utbud")
    )
    chance = (
        "Ett så tydligt mönster uppstår sällan om storlek och utbud inte hänger ihop"
        if p < 0.05
        else "Mönstret kan lika gärna vara slumpen"
    )
    return (
        f"**Storlek och bredd.** Bland {n} områden är sambandet {strength}: {direction}. {chance} "
        "(metodbilagan ger sambandets mått). "
        f"De tre minsta områdena har {listing(small)} kategorier i eget utbud, de tre största {listing(big)}. "
        "Sambandet visar inte orsaken, men stöder kartläggningens iakttagelse att underlaget i små "
        "stadsdelar är för litet för ett brett eget utbud; de boende där är mer beroende av centrala insatser."
    )


# --------------------------------------------------------------------------- organisation


def regi_matrix(study: Study, start, end) -> pd.DataFrame:
    """Places of each area's *own* interventions by regi (rows: areas, then ``CENTRAL``;
    columns: regi codes in code-list order, all of them); 0 where none."""
    places = open_places(study, start, end)
    rows = _areas(study) + ([CENTRAL] if (places["omrade_kod"] == CENTRAL).any() else [])
    wide = places.pivot_table(
        index="omrade_kod", columns="regi", values="platser", aggfunc="sum", fill_value=0.0, observed=True
    )
    wide = wide.reindex(index=rows, columns=contract.codes("regi"), fill_value=0.0).astype(float)
    wide.index.name, wide.columns.name = "omrade_kod", "regi"
    return wide


def organisation_table(study: Study, start, end) -> pd.DataFrame:
    """Per area: own places, the share of them in each regi that occurs, the main regi (most
    places; ties name every one) and the number of regi forms used. Numeric values."""
    m = regi_matrix(study, start, end)
    used = [c for c in m.columns if m[c].sum() > 0]
    total = m.sum(axis=1)
    out = pd.DataFrame(index=m.index)
    out["platser"] = total
    for regi in used:
        out[f"andel_{regi}"] = np.where(total > 0, m[regi] / total.where(total > 0, 1), np.nan)
    out["huvudsaklig_regi"] = [
        ";".join(c for c in m.columns if m.loc[a, c] == m.loc[a].max()) if total[a] > 0 else "" for a in m.index
    ]
    out["antal_regiformer"] = (m > 0).sum(axis=1)
    return out


def organisation_display(org: pd.DataFrame, study: Study) -> pd.DataFrame:
    """``organisation_table`` for display (Swedish headers, per cent, area names)."""
    names = _names(study)
    share_cols = [c for c in org.columns if c.startswith("andel_")]
    values = org[["platser", *share_cols]]
    shown = format_table(values, decimals=dict.fromkeys(values.columns, 0), percent=dict.fromkeys(share_cols, True))
    shown.columns = ["Egna platser"] + [contract.label("regi", c[len("andel_") :]) for c in share_cols]
    shown["Huvudsaklig regi"] = [
        ", ".join(contract.label("regi", r) for r in v.split(";")) if v else "–" for v in org["huvudsaklig_regi"]
    ]
    shown["Antal regiformer"] = [format_number(v) for v in org["antal_regiformer"]]
    shown.index = [names.get(c, c) for c in org.index]
    shown.index.name = "Område"
    return shown


def who_runs_what(study: Study, start, end) -> pd.DataFrame:
    """Places by category (rows, code-list order, only categories with places, then ``Totalt``) and
    regi (columns, only regi forms with places, then ``Totalt``), over the whole study including
    central interventions: which kind of unit runs which kind of intervention."""
    places = open_places(study, start, end)
    wide = places.pivot_table(
        index="kategori", columns="regi", values="platser", aggfunc="sum", fill_value=0.0, observed=True
    )
    rows = [c for c in contract.codes("kategori") if c in wide.index]
    cols = [c for c in contract.codes("regi") if c in wide.columns and wide[c].sum() > 0]
    wide = wide.reindex(index=rows, columns=cols, fill_value=0.0).astype(float)
    wide["Totalt"] = wide.sum(axis=1)
    wide.loc["Totalt"] = wide.sum(axis=0)
    return wide


def who_runs_what_display(wide: pd.DataFrame) -> pd.DataFrame:
    """``who_runs_what`` with Swedish labels and whole numbers ("–" where a regi has no places)."""
    shown = wide.map(lambda v: format_number(v) if v > 0 else "–")
    shown.index = [r if r == "Totalt" else contract.label("kategori", r) for r in wide.index]
    shown.index.name = "Kategori"
    shown.columns = [c if c == "Totalt" else contract.label("regi", c) for c in wide.columns]
    return shown


def organisation_sentences(study: Study, start, end) -> list[str]:
    """Plain-Swedish reading of the organisation: which regi dominates in the districts, how much of
    the utbud the central unit (jobbtorg) runs, and where interventions are run together with
    Arbetsförmedlingen (places of interventions, not persons: nothing here needs protecting)."""
    m = regi_matrix(study, start, end)
    names = _names(study)
    areas = [a for a in m.index if a != CENTRAL]
    total = float(m.to_numpy().sum())
    if total <= 0:
        return []
    out = []
    own = [a for a in areas if m.loc[a].sum() > 0 and m.loc[a, "egen_omrade"] == m.loc[a].max()]
    with_places = [a for a in areas if m.loc[a].sum() > 0]
    if with_places:
        out.append(
            f"Egen regi i stadsdelen är den vanligaste formen i {len(own)} av {len(with_places)} områden med egna "
            "insatser."
        )
    central = float(m.loc[CENTRAL].sum()) if CENTRAL in m.index else 0.0
    if central > 0:
        out.append(
            f"Centralt (t.ex. jobbtorg) drivs {format_number(central)} av {format_number(total)} platser "
            f"({format_number(central / total, 0, percent=True)}); de står till alla stadsdelars förfogande."
        )
    else:
        out.append("Inga centrala insatser finns i underlaget: varje område står för hela sitt utbud.")
    af = m["arbetsformedlingen"] if "arbetsformedlingen" in m.columns else pd.Series(0.0, index=m.index)
    af_areas = [a for a in m.index if af[a] > 0]
    if af_areas:
        listed = join_names(["centralt" if a == CENTRAL else literal(names.get(a, a)) for a in af_areas])
        out.append(
            f"Insatser som drivs tillsammans med Arbetsförmedlingen finns i {listed}, med "
            f"{format_number(float(af.sum()))} platser ({format_number(float(af.sum()) / total, 1, percent=True)} "
            "av alla). Övrig samverkan med Arbetsförmedlingen, som gemensam planering eller kartläggning, syns "
            "inte i insatsregistret."
        )
    else:
        out.append(
            "Ingen insats i underlaget drivs tillsammans med Arbetsförmedlingen. Det betyder inte att samverkan "
            "saknas, bara att den inte syns som en egen insats i insatsregistret."
        )
    return out


@sectioned
def section_organisation(study: Study, start, end) -> list[Any]:
    """Regi per area (``organisation_display``), which regi runs which kind of intervention
    (``who_runs_what``) and the sentences of ``organisation_sentences``."""
    missing = _missing(study, ["insatser"], "Organisationen")
    if missing:
        return missing
    items: list[Any] = [organisation_display(organisation_table(study, start, end), study)]
    wide = who_runs_what(study, start, end)
    if len(wide) > 1:
        items.append(
            Table("Vem driver vilka insatser? Platser per kategori och regi, hela studien", who_runs_what_display(wide))
        )
    sentences = organisation_sentences(study, start, end)
    if sentences:
        items.append(Note(" ".join(sentences)))
    return items


@sectioned
def section_utbud(
    study: Study, long: pd.DataFrame, start, end, *, focus: str | None = None, min_cell: int = 5
) -> list[Any]:
    """Place matrix (chart), the utbud measures per area (table) and a ranked chart of places per
    100 unemployed recipients (diversity when there are no individual data)."""

    missing = _missing(study, ["insatser"], "Utbudet")
    if missing:
        return missing
    items: list = [charts.utbud_matrix(open_places(study, start, end), omraden=_omraden(study), focus=focus)]
    ids = present(long, UTBUD_MEASURES)
    if ids:
        items.append(measure_table(long, ids, omraden=_omraden(study)))
    matt = "utbud_platser_per_100" if _has_values(long, "utbud_platser_per_100") else "utbud_diversitet"
    if _has_values(long, matt):
        items.append(charts.ranked_bars(long, matt, focus=focus, omraden=_omraden(study), min_cell=min_cell))
    if matt == "utbud_diversitet":
        items += _missing(study, ["personer", "bistand"], "Platser per 100 arbetslösa biståndsmottagare")
    return items


@sectioned
def section_gaps(study: Study, start, end, *, long: pd.DataFrame | None = None) -> list[Any]:
    """Which areas lack which categories (table); given the published measures ``long``, whether
    small areas have a narrower own utbud (``size_and_breadth``, a sentence)."""
    missing = _missing(study, ["insatser"], "Luckorna i utbudet")
    if missing:
        return missing
    gaps = category_gaps(study, start, end)
    items: list[Any] = [gaps_table(gaps, study)]
    if long is not None:
        if _has_values(long, SIZE_MEASURE):
            sb = size_and_breadth(study, long, start, end)
            items.append(Note(size_breadth_sentence(sb, study)))
            if len(sb):
                items.append(size_breadth_table(sb, study))
            hidden = len(set(gaps["omrade_kod"].astype(str)) - set(sb["omrade_kod"]))
            if hidden and len(sb):
                items.append(
                    Note(
                        f"{hidden} {'område' if hidden == 1 else 'områden'} saknas i tabellen och i sambandet: "
                        "deras antal biståndsmottagare visas inte (för få för att publiceras, eller inga)."
                    )
                )
        else:
            items += _missing(study, ["personer", "bistand"], "Sambandet mellan storlek och utbud")
    return items
