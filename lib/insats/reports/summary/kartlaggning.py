"""The kartläggning's Nämndsammanfattning: ``kartlaggning_findings``."""

from __future__ import annotations

import numpy as np
import pandas as pd

from insats.analysis.measures import MEASURES, MeasureResult
from insats.analysis.overdispersion import expected_false_flags
from insats.analysis.stats import wilson_interval
from insats.contract import ALLA, TABLES
from insats.data.study import Study
from insats.reports.kartlaggning.common import (
    OUTCOME_TABLES,
    _areas,
    _names,
    _published_areas,
    join_names,
)
from insats.reports.kartlaggning.medel import feriejobb_comparison
from insats.reports.kartlaggning.uppfoljning import uncomputable_measures
from insats.reports.kartlaggning.utbud import SIZE_MEASURE, category_gaps, size_and_breadth
from insats.reports.kartlaggning.utfall import differing_areas
from insats.reports.summary.common import (
    CHANCE_POSSIBLE,
    CHANCE_UNLIKELY,
    COMPLETE_COUNT,
    MAX_FINDINGS,
    Finding,
    areas_word,
    as_shown,
    finite,
    pct,
    share_range,
    tenths,
)
from insats.text import format_number

# --------------------------------------------------------------------------- kartläggning


def _published(long: pd.DataFrame, matt: str, code: str = ALLA) -> pd.Series | None:
    """The published, non-suppressed row of a measure for one area (or the whole study), else None."""
    part = long[(long["matt"] == matt) & (long["omrade_kod"].astype(str) == code)]
    if part.empty:
        return None
    row = part.iloc[0]
    if bool(row["undertryckt"]) or not finite(row["varde"]):
        return None
    return row


def _share_interval(row: pd.Series) -> tuple[float, float] | None:
    """The Wilson 95 % interval of a published share from its published counts."""
    if not (finite(row["taljare"]) and finite(row["namnare"]) and row["namnare"] > 0):
        return None
    lo, hi = wilson_interval(float(row["taljare"]), float(row["namnare"]))
    return float(lo), float(hi)


def kartlaggning_findings(study: Study, result: MeasureResult, *, start, end) -> list[Finding]:
    """The kartläggning's findings, in this order when their data are there: the outcome of the whole
    study, the areas whose outcome differs from what their participants could be expected to reach, the
    gaps in the areas' own utbud, places per 100 unemployed recipients, how the areas count feriejobb, and
    what a common follow-up system lacks. From the published measures and the survey tables only."""
    long = result.table
    names = _names(study)
    areas = _areas(study)
    out: list[Finding] = []

    if all(t in study for t in OUTCOME_TABLES):
        row = _published(long, "utfall_arbete_studier_andel")
        if row is not None:
            v = float(row["varde"])
            ci = _share_interval(row)
            out.append(
                Finding(
                    "Utfall",
                    f"{pct(v)} av de avslutade deltagandena i hela studien slutade med arbete eller studier.",
                    pct(v),
                    share_range(*ci) if ci else "underlaget räcker inte för att säga hur säker siffran är",
                    f"{tenths(v).capitalize()} deltaganden leder till arbete eller studier; resten slutar av andra "
                    "skäl. Siffran är utgångspunkten när områdena jämförs.",
                    v,
                )
            )
        diff = differing_areas(long)
        tested = diff[diff["justerat"].notna()]
        if len(tested):
            higher = [names.get(c, c) for c in tested.loc[tested["justerat"] > 0, "omrade_kod"]]
            lower = [names.get(c, c) for c in tested.loc[tested["justerat"] < 0, "omrade_kod"]]
            k, n = len(higher) + len(lower), len(tested)
            chance = expected_false_flags(n)
            unusual = tested[(tested["justerat"] != 0) & (tested["justerat_od"].fillna(0) != 0)]
            where = "; ".join(
                p
                for p in (
                    f"bättre i {join_names(higher)}" if higher else "",
                    f"sämre i {join_names(lower)}" if lower else "",
                )
                if p
            )
            if k:
                meaning = (
                    f"Resultaten skiljer sig mellan områdena även när man tar hänsyn till vilka deltagare de har: {where}. "
                    + (
                        f"För {join_names([names.get(c, c) for c in unusual['omrade_kod']])} är skillnaden ovanligt stor."
                        if len(unusual)
                        else "Skillnaderna är inte större än områden brukar ha; de är frågor att utreda, inte bevis."
                    )
                )
                unc = (
                    f"{CHANCE_UNLIKELY} för vart och ett av dem; av en slump skulle ungefär "
                    f"{format_number(chance, 0)} av {format_number(n)} områden avvika"
                )
            else:
                meaning = "Inget område når märkbart bättre eller sämre resultat än dess deltagare kunde väntas nå."
                unc = f"skillnaderna som finns {CHANCE_POSSIBLE}"
            number = f"{format_number(k)} av {format_number(n)}"
            out.append(
                Finding(
                    "Skillnader mellan områdena",
                    f"{number} områden når fler eller färre avslut till arbete eller studier än deras deltagare "
                    "kunde väntas nå.",
                    number,
                    unc,
                    meaning,
                    float(k),
                )
            )

    if "insatser" in study and areas:
        gaps = category_gaps(study, start, end)
        own = int(sum(len(g) > 0 for g in gaps["saknas_eget"]))
        whole = int(sum(len(g) > 0 for g in gaps["saknas_helt"]))
        number = f"{format_number(own)} av {format_number(len(areas))}"
        out.append(
            Finding(
                "Utbud",
                f"{number} områden saknar minst en sorts insats i sitt eget utbud; "
                f"{areas_word(whole)} saknar någon sort helt, även bland insatserna för hela kommunen.",
                number,
                COMPLETE_COUNT,
                "Vilka insatser en biståndsmottagare kan få beror på var hon eller han bor. Det är en fråga om "
                "likställighet." + _size_breadth_meaning(study, long, start, end),
                float(own),
            )
        )
        part = _published_areas(long, "utbud_platser_per_100")
        if len(part) >= 2:
            lo_row = part.loc[part["varde"].idxmin()]
            hi_row = part.loc[part["varde"].idxmax()]
            lo, hi = as_shown(lo_row["varde"], percent=False), as_shown(hi_row["varde"], percent=False)
            number = f"{format_number(lo, 0)} och {format_number(hi, 0)}"
            ratio = hi / lo if lo > 0 else np.nan
            out.append(
                Finding(
                    "Platser",
                    f"Antalet platser per 100 arbetslösa biståndsmottagare ligger mellan {number} "
                    f"({names.get(lo_row['omrade_kod'], lo_row['omrade_kod'])} och "
                    f"{names.get(hi_row['omrade_kod'], hi_row['omrade_kod'])}).",
                    number,
                    COMPLETE_COUNT,
                    (
                        f"Det område som har flest platser har omkring {format_number(ratio, 1)} gånger så många "
                        "platser per arbetslös biståndsmottagare som det som har minst."
                        if np.isfinite(ratio)
                        else "Ett område har inga platser alls för sina arbetslösa biståndsmottagare."
                    ),
                    hi,
                )
            )

    if "medel" in study and "omraden" in study:
        comp = feriejobb_comparison(study, start, end)
        if len(comp):
            yes = int((comp["raknar_feriejobb"] == True).sum())  # noqa: E712  (elementwise on a nullable boolean column)
            moved = int((comp["flytt_med"].fillna(0) != 0).sum())
            number = f"{format_number(yes)} av {format_number(len(comp))}"
            out.append(
                Finding(
                    "Medel",
                    f"{number} områden räknar feriejobb som arbetsmarknadsinsats, resten gör det inte.",
                    number,
                    COMPLETE_COUNT,
                    "Områdenas insatsmedel kan bara jämföras med en gemensam definition. "
                    + (
                        f"Räknas feriejobb lika överallt byter {areas_word(moved)} plats i jämförelsen."
                        if moved
                        else "Rangordningen av områdena ändras ändå inte om feriejobb räknas lika överallt."
                    ),
                    float(yes),
                )
            )

    unc = uncomputable_measures(study, result)
    total = sum(1 for m in MEASURES.values() if m.func is not None)
    if len(unc):
        tables = sorted(
            {t for s in unc.loc[unc["skal"] == "tabell", "saknas"] for t in s.split(", ")}, key=list(TABLES).index
        )
        labels = join_names([TABLES[t].label.lower() for t in tables if t in TABLES])
        number = f"{format_number(len(unc))} av {format_number(total)}"
        out.append(
            Finding(
                "Uppföljning",
                f"{number} mått kan inte beräknas med de uppgifter som finns i dag.",
                number,
                "ingen osäkerhet: det avgörs av vilka uppgifter som samlas in",
                "Ett gemensamt uppföljningssystem behöver samla in "
                + (labels if labels else "de uppgifter som saknas")
                + " för att alla mått ska kunna följas.",
                float(len(unc)),
            )
        )
    if len(out) < MAX_FINDINGS:  # only when there is room: the findings above come first
        hand = _published(long, "vagin_andel_overlamnade")
        ci = _share_interval(hand) if hand is not None else None
        if hand is not None and ci is not None:
            v = float(hand["varde"])
            out.append(
                Finding(
                    "En väg in",
                    f"{pct(v)} av bedömningarna av arbetsförmåga lämnades över till en annan enhet.",
                    pct(v),
                    share_range(*ci),
                    "För dem blev en väg in i praktiken flera; avsnittet En väg in visar om de överlämnade väntar "
                    "längre på en insats.",
                    v,
                )
            )
    return out[:MAX_FINDINGS]


def _size_breadth_meaning(study: Study, long: pd.DataFrame, start, end) -> str:
    """The sentence " Små områden har …": the size-and-breadth correlation (K10) in a sentence when it can be computed from
    the published recipient counts and the permutation test says it is unlikely by chance; else empty."""
    if not (long["matt"] == SIZE_MEASURE).any():
        return ""
    sb = size_and_breadth(study, long, start, end)
    rho, p = sb.attrs.get("rho"), sb.attrs.get("p")
    if rho is None or not np.isfinite(rho) or p >= 0.05:
        return ""
    return (
        f" Små områden har {'smalare' if rho > 0 else 'bredare'} eget utbud än stora ({len(sb)} områden "
        f"jämförda, {CHANCE_UNLIKELY})."
    )
