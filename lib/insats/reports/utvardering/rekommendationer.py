"""The evaluation's summary and its recommendations, each naming the number that triggered it."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from insats.reports.render import Section, show
from insats.reports.utvardering.common import (
    _num,
    _pct,
    _pp,
)

# --------------------------------------------------------------------------- recommendations

DEFAULT_THRESHOLDS: dict[str, float] = {
    "erbjudande_mal": 1.0,
    "narvaro_andel_80_min": 0.6,
    "lov_andel_valt_min": 0.5,
    "kostnad_spridning_max": 2.0,
    "vagin_dagar_median_max": 30.0,
    "vagin_andel_bedomda_min": 0.9,
    "vagin_andel_insats_90_min": 0.7,
}
"""Thresholds that trigger a recommendation (targets of the municipality; edit in the notebook)."""


@dataclass
class Recommendation:
    area: str
    """Which of the five areas of the evaluation."""
    text: str
    """Swedish recommendation, naming the number that triggered it."""
    value: float | None = None
    threshold: float | None = None


def recommendations(findings: dict, thresholds: dict | None = None) -> list[Recommendation]:
    """Recommendations triggered by the key numbers of the sections (``Section.findings``, merged).

    Keys read (each optional; absent or NaN means the rule is not evaluated): ``erbjudande_andel``;
    ``kapacitet_gap`` (places missing in total) and ``kapacitet_brist`` (categories short of
    places); ``narvaro_nivaforandring``/``_lo``/``_hi``; ``narvaro_andel_80``; ``lov_finns``;
    ``lov_racker``/``lov_racker_inte`` (category lists); ``lov_andel_valt``; ``insatser_under``/
    ``insatser_over`` (interventions outside the 95 % funnel limits); ``kostnad_min``/
    ``kostnad_max``; ``vagin_dagar_median``; ``vagin_andel_bedomda``; ``vagin_andel_insats_90``.
    """
    th = {**DEFAULT_THRESHOLDS, **(thresholds or {})}

    def ok(k: str) -> bool:
        return (
            k in findings and findings[k] is not None and not (isinstance(findings[k], float) and np.isnan(findings[k]))
        )

    out: list[Recommendation] = []
    if ok("erbjudande_andel") and findings["erbjudande_andel"] < th["erbjudande_mal"]:
        v = findings["erbjudande_andel"]
        out.append(
            Recommendation(
                "Alla erbjuds en insats",
                f"Erbjudandeandelen är {_pct(v)} (mål {_pct(th['erbjudande_mal'])}): inför en rutin "
                "där varje ny biståndsmottagare får ett erbjudande inom 90 dagar och följ upp den "
                "månadsvis per område.",
                v,
                th["erbjudande_mal"],
            )
        )
    if ok("kapacitet_gap") and findings["kapacitet_gap"] > 0:
        cats = ", ".join(findings.get("kapacitet_brist") or [])
        out.append(
            Recommendation(
                "Alla erbjuds en insats",
                f"Om alla erbjuds en insats saknas omkring {_num(findings['kapacitet_gap'])} platser "
                f"(genomsnitt samtidigt){' främst i ' + cats if cats else ''}: planera platserna "
                "innan målet införs.",
                findings["kapacitet_gap"],
                0.0,
            )
        )
    if ok("narvaro_nivaforandring") and ok("narvaro_lo") and ok("narvaro_hi"):
        v, lo, hi = findings["narvaro_nivaforandring"], findings["narvaro_lo"], findings["narvaro_hi"]
        ci = f"95 % KI {_pp(lo)} till {_pp(hi)}"
        if lo > 0:
            text = (
                f"Närvaron steg med {_pp(v)} procentenheter när närvarokravet infördes ({ci}): behåll kravet "
                "och följ upp att det inte leder till fler avbrott."
            )
        elif hi < 0:
            text = (
                f"Närvaron sjönk med {_pp(-v)} procentenheter när närvarokravet infördes ({ci}): utred varför "
                "innan kravet behålls."
            )
        else:
            text = (
                f"Ingen säker förändring av närvaron vid närvarokravet ({_pp(v)} procentenheter, {ci}): "
                "följ upp med fler månader innan kravet bedöms."
            )
        out.append(Recommendation("Närvarokrav", text, v, 0.0))
    if ok("narvaro_andel_80") and findings["narvaro_andel_80"] < th["narvaro_andel_80_min"]:
        v = findings["narvaro_andel_80"]
        out.append(
            Recommendation(
                "Närvarokrav",
                f"Bara {_pct(v)} av deltagandena har minst 80 % närvaro (mål "
                f"{_pct(th['narvaro_andel_80_min'])}): följ upp frånvaro tidigt i varje insats.",
                v,
                th["narvaro_andel_80_min"],
            )
        )
    if findings.get("lov_racker_inte"):
        cats = ", ".join(findings["lov_racker_inte"])
        out.append(
            Recommendation(
                "Valfrihet och LOV",
                f"Volymen räcker inte till två utförare med minst "
                f"{_num(findings.get('lov_min_deltagare'))} deltaganden per år i {cats}: inför inte LOV "
                "där; använd egen regi eller upphandling.",
                None,
                findings.get("lov_min_deltagare"),
            )
        )
    if findings.get("lov_racker"):
        cats = ", ".join(findings["lov_racker"])
        out.append(
            Recommendation(
                "Valfrihet och LOV",
                f"Volymen räcker för flera utförare i {cats}: LOV är möjligt "
                "där om frågorna i avsnitt 3 besvaras först.",
                None,
                findings.get("lov_min_deltagare"),
            )
        )
    if ok("lov_andel_valt") and findings["lov_andel_valt"] < th["lov_andel_valt_min"]:
        v = findings["lov_andel_valt"]
        out.append(
            Recommendation(
                "Valfrihet och LOV",
                f"Bara {_pct(v)} valde själva sin LOV-utförare (mål "
                f"{_pct(th['lov_andel_valt_min'])}): förbättra informationen om utförarna.",
                v,
                th["lov_andel_valt_min"],
            )
        )
    if findings.get("insatser_under"):
        names = ", ".join(findings["insatser_under"])
        out.append(
            Recommendation(
                "Dagens insatser",
                f"{len(findings['insatser_under'])} insatser har färre avslut till "
                f"arbete eller studier än slumpen förklarar (under 95 %-gränsen i trattdiagrammet): "
                f"{names}. Se över innehåll och målgrupp.",
                float(len(findings["insatser_under"])),
                None,
            )
        )
    if findings.get("insatser_over"):
        names = ", ".join(findings["insatser_over"])
        out.append(
            Recommendation(
                "Dagens insatser",
                f"{len(findings['insatser_over'])} insatser har fler avslut till "
                f"arbete eller studier än slumpen förklarar: {names}. Överväg fler platser där.",
                float(len(findings["insatser_over"])),
                None,
            )
        )
    if ok("kostnad_min") and ok("kostnad_max") and findings["kostnad_min"] > 0:
        ratio = findings["kostnad_max"] / findings["kostnad_min"]
        if ratio > th["kostnad_spridning_max"]:
            out.append(
                Recommendation(
                    "Dagens insatser",
                    f"Kostnaden per avslut till arbete eller studier skiljer "
                    f"{_num(ratio, 1)} gånger mellan insatserna ({_num(findings['kostnad_min'])}–"
                    f"{_num(findings['kostnad_max'])} kr): pröva att flytta platser till de insatser "
                    "som ger mest per krona.",
                    ratio,
                    th["kostnad_spridning_max"],
                )
            )
    if ok("vagin_dagar_median") and findings["vagin_dagar_median"] > th["vagin_dagar_median_max"]:
        v = findings["vagin_dagar_median"]
        out.append(
            Recommendation(
                "En väg in",
                f"Det tar i median {_num(v)} dagar från ansökan till bedömning (mål "
                f"högst {_num(th['vagin_dagar_median_max'])}): korta väntan till bedömning.",
                v,
                th["vagin_dagar_median_max"],
            )
        )
    if ok("vagin_andel_bedomda") and findings["vagin_andel_bedomda"] < th["vagin_andel_bedomda_min"]:
        v = findings["vagin_andel_bedomda"]
        out.append(
            Recommendation(
                "En väg in",
                f"{_pct(v)} av ansökningarna fick en bedömning av arbetsförmågan (mål "
                f"{_pct(th['vagin_andel_bedomda_min'])}): se till att alla sökande bedöms.",
                v,
                th["vagin_andel_bedomda_min"],
            )
        )
    if ok("vagin_andel_insats_90") and findings["vagin_andel_insats_90"] < th["vagin_andel_insats_90_min"]:
        v = findings["vagin_andel_insats_90"]
        out.append(
            Recommendation(
                "En väg in",
                f"{_pct(v)} av dem med hel eller delvis arbetsförmåga började en insats "
                f"inom 90 dagar (mål {_pct(th['vagin_andel_insats_90_min'])}): koppla bedömningen "
                "direkt till ett erbjudande om insats.",
                v,
                th["vagin_andel_insats_90_min"],
            )
        )
    return out


# --------------------------------------------------------------------------- summary and display


def all_findings(sections: list[Section]) -> dict:
    """The sections' key numbers merged into one dict (input of ``recommendations``)."""
    out: dict = {}
    for sec in sections:
        out.update(sec.findings)
    return out


def summary(sections: list[Section], recs: list[Recommendation]) -> str:
    """The opening summary (Swedish markdown): each area's conclusion and the number of recommendations."""
    lines = ["**Sammanfattning.**", ""]
    for i, sec in enumerate(sections, 1):
        lines.append(f"{i}. **{sec.title}.** {sec.conclusion}")
    lines += ["", f"Utvärderingen leder till {len(recs)} rekommendationer (sist i rapporten)."]
    return "\n".join(lines)


def show_recommendations(recs: list[Recommendation]) -> None:
    """Display the recommendations as a numbered list, grouped by area."""

    show(recommendations_markdown(recs))


def recommendations_markdown(recs: list[Recommendation]) -> str:
    """The recommendations as a numbered list in the safe Markdown subset, each with its area."""
    if not recs:
        return "Inga rekommendationer utlöstes av resultaten med de valda tröskelvärdena."
    return "\n".join(f"{i}. *{r.area}:* {r.text}" for i, r in enumerate(recs, 1))
