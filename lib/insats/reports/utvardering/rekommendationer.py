"""The evaluation's summary and its recommendations, each naming the number that triggered it."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from insats.errors import UsageError
from insats.reports.render import Section, literal, show
from insats.reports.utvardering.avbrott import dropout_change, dropout_numbers
from insats.reports.utvardering.avstand import standing
from insats.reports.utvardering.common import (
    _num,
    _pct,
    _pp,
)
from insats.reports.utvardering.narvaro import attendance_verdict
from insats.text import format_number

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
"""Thresholds that trigger a recommendation: the report's parameters (``granser`` in the params file), not
goals a nämnd has set. A threshold missing there takes this default, and the report says so."""


THRESHOLD_LABELS: dict[str, tuple[str, str]] = {
    "erbjudande_mal": ("Andel som erbjuds en insats inom 90 dagar, lägst", "andel"),
    "narvaro_andel_80_min": ("Andel deltaganden med minst 80 % närvaro, lägst", "andel"),
    "lov_andel_valt_min": ("Andel som själva valt LOV-utförare, lägst", "andel"),
    "kostnad_spridning_max": ("Skillnad i kostnad per utfall mellan insatser, högst (gånger)", "tal"),
    "vagin_dagar_median_max": ("Dagar från ansökan till bedömning (median), högst", "tal"),
    "vagin_andel_bedomda_min": ("Andel ansökningar med bedömning av arbetsförmågan, lägst", "andel"),
    "vagin_andel_insats_90_min": ("Andel med arbetsförmåga som börjar en insats inom 90 dagar, lägst", "andel"),
}
"""What each threshold means, in Swedish, and how its value is written."""


def thresholds_table(thresholds: dict | None = None) -> pd.DataFrame:
    """The thresholds in force for the appendix *Metod och förbehåll*: what each one limits, its value, its key
    in the params file (``granser``) and where the value comes from. Unknown keys are a ``UsageError``."""
    given = dict(thresholds or {})
    unknown = sorted(k for k in given if k not in DEFAULT_THRESHOLDS)
    if unknown:
        raise UsageError(
            f"okänd gräns i parameterfilen (granser): {', '.join(unknown)}; tillåtna är "
            f"{', '.join(DEFAULT_THRESHOLDS)}."
        )
    rows = []
    for key, default in DEFAULT_THRESHOLDS.items():
        label, kind = THRESHOLD_LABELS[key]
        value = float(given.get(key, default))
        rows.append(
            {
                "Gräns": label,
                "Värde": _pct(value) if kind == "andel" else _num(value, 1 if value % 1 else 0),
                "Nyckel i parameterfilen": key,
                "Källa": "parameterfilen" if key in given else "programmets standardvärde",
            }
        )
    return pd.DataFrame(rows).set_index("Gräns")


def _limit(given: dict, key: str, shown: str) -> str:
    """How a recommendation names its threshold: a parameter of the report, never a goal of the nämnd."""
    if key in given:
        return f"gräns vald i parameterfilen: {shown}"
    return f"programmets standardgräns: {shown}, kan ändras i parameterfilen"


SHARE_INTERVALS: dict[str, tuple[str, str]] = {
    "erbjudande_andel": ("erbjudande_lo", "erbjudande_hi"),
    "narvaro_andel_80": ("narvaro_andel_80_lo", "narvaro_andel_80_hi"),
    "lov_andel_valt": ("lov_andel_valt_lo", "lov_andel_valt_hi"),
    "vagin_andel_bedomda": ("vagin_andel_bedomda_lo", "vagin_andel_bedomda_hi"),
    "vagin_andel_insats_90": ("vagin_andel_insats_90_lo", "vagin_andel_insats_90_hi"),
}
"""The keys of the Wilson 95 % interval of each share a threshold applies to."""


def _share_below(findings: dict, key: str, limit: float) -> tuple[float, float, float] | None:
    """(share, lo, hi) when the share's Wilson 95 % interval lies wholly below ``limit`` (the upper limit is
    below it), else None. A share without its interval triggers nothing: a bare point value below the limit
    can be chance."""
    lo_key, hi_key = SHARE_INTERVALS[key]
    vals: list[float] = []
    for k in (key, lo_key, hi_key):
        x = findings.get(k)
        if x is None or (isinstance(x, float) and np.isnan(x)):
            return None
        vals.append(float(x))
    v, lo, hi = vals
    return (v, lo, hi) if hi < limit else None


def _share_ci(lo: float, hi: float) -> str:
    """A share's interval in words for a recommendation: "troligen mellan 58 och 66 %"."""
    return f"troligen mellan {format_number(100 * lo, 0)} och {_pct(hi)}"


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

    Keys read (each optional; absent or NaN means the rule is not evaluated). A threshold on a share fires only
    when the share's Wilson 95 % interval lies wholly on the wrong side of it (the keys of ``SHARE_INTERVALS``;
    without its interval the rule is not evaluated), and the text quotes the interval. ``erbjudande_andel`` (every
    adult recipient); ``erbjudande_avstand_efter`` (distance groups offered clearly less often than another,
    ``section_offer``);
    ``kapacitet_gap`` (places missing in total) and ``kapacitet_brist`` (categories short of
    places); ``narvaro_nivaforandring``/``_lo``/``_hi`` and ``narvaro_effekt_12``/``_lo``/``_hi`` (the
    calibrated effect at the reform and after 12 months; ``narvaro.attendance_verdict`` decides on both) and
    ``narvaro_placebo_utanfor``; ``narvaro_andel_80``; ``lov_finns``;
    ``lov_racker``/``lov_racker_inte`` (category lists); ``lov_andel_valt``; ``insatser_under``/
    ``insatser_over`` (interventions whose case-mix adjusted O/E differs from 1 at a Benjamini–Hochberg
    q-value of at most 0.05, ``utvardering.utfall.adjusted_flags``) and ``insatser_provade`` (how many were compared); ``kostnad_saker_kvot`` (the ratio of the
    dearest intervention's lower limit to the cheapest's upper limit of the adjusted cost per outcome, both
    from Bonferroni-adjusted intervals over the ``kostnad_jamforda`` interventions compared,
    ``insatser.cost_comparison``) with ``kostnad_dyr_namn``/``_lo`` and ``kostnad_billig_namn``/``_hi``; ``vagin_dagar_median``; ``vagin_andel_bedomda``; ``vagin_andel_insats_90``; ``avbrott_fore``/``_efter``/``_skillnad``/``_lo``/``_hi`` (drop-outs before and after the requirement, ``avbrott.dropout_change``); ``vagin_skillnad_overlamnade`` with ``vagin_overlamnade_saker`` (the two Wilson intervals apart, ``vagin.intervals_apart``) and the two shares (hand-overs and a later insats).
    """
    given = dict(thresholds or {})
    thresholds_table(given)  # unknown keys are an error, not silently ignored
    th = {**DEFAULT_THRESHOLDS, **given}

    def ok(k: str) -> bool:
        return (
            k in findings and findings[k] is not None and not (isinstance(findings[k], float) and np.isnan(findings[k]))
        )

    out: list[Recommendation] = []
    if (hit := _share_below(findings, "erbjudande_andel", th["erbjudande_mal"])) is not None:
        v, lo, hi = hit
        out.append(
            Recommendation(
                "Alla erbjuds en insats",
                f"Erbjudandeandelen är {_pct(v)} ({_share_ci(lo, hi)}; {_limit(given, 'erbjudande_mal', _pct(th['erbjudande_mal']))}): inför en rutin "
                "där varje ny biståndsmottagare får ett erbjudande inom 90 dagar och följ upp den "
                "månadsvis per område.",
                v,
                th["erbjudande_mal"],
            )
        )
    behind = findings.get("erbjudande_avstand_efter") or []
    if behind:
        other, w = behind[0][2], behind[0][3]
        who = " och ".join(f"dem som står {standing(code)} ({_pct(v)})" for code, v, _o, _w in behind)
        out.append(
            Recommendation(
                "Alla erbjuds en insats",
                f"Insatserna når inte {who} lika ofta som dem som står {standing(other)} ({_pct(w)}; skillnaden är större "
                "än slumpen förklarar): se över om utbudet passar dem och följ upp andelen som erbjuds en insats "
                "efter avstånd till arbetsmarknaden.",
                min(v for _c, v, _o, _w in behind),
                w,
            )
        )
    if ok("kapacitet_gap") and findings["kapacitet_gap"] > 0:
        cats = ", ".join(findings.get("kapacitet_brist") or [])
        out.append(
            Recommendation(
                "Alla erbjuds en insats",
                f"Om alla i omfattningen nås saknas omkring {_num(findings['kapacitet_gap'])} platser "
                f"(genomsnitt samtidigt){' främst i ' + cats if cats else ''}: planera platserna "
                "innan alla erbjuds en insats.",
                findings["kapacitet_gap"],
                0.0,
            )
        )
    verdict = attendance_verdict(findings)
    if verdict is not None and ok("narvaro_nivaforandring"):
        out.append(
            Recommendation("Närvarokrav", _attendance_text(findings, verdict), findings["narvaro_nivaforandring"], 0.0)
        )
    if dropout_change(findings) == "okning" and (verdict is None or verdict["kind"] != "okning"):
        out.append(
            Recommendation(
                "Närvarokrav",
                f"Andelen avbrott ökade efter närvarokravet {dropout_numbers(findings)}: ta reda på varför "
                "deltagare avbryter och ge stöd tidigt till dem med hög frånvaro.",
                findings["avbrott_skillnad"],
                0.0,
            )
        )
    if (hit := _share_below(findings, "narvaro_andel_80", th["narvaro_andel_80_min"])) is not None:
        v, lo, hi = hit
        out.append(
            Recommendation(
                "Närvarokrav",
                f"Bara {_pct(v)} av deltagandena har minst 80 % närvaro "
                f"({_share_ci(lo, hi)}; {_limit(given, 'narvaro_andel_80_min', _pct(th['narvaro_andel_80_min']))}): följ upp frånvaro tidigt i varje insats.",
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
    if (hit := _share_below(findings, "lov_andel_valt", th["lov_andel_valt_min"])) is not None:
        v, lo, hi = hit
        out.append(
            Recommendation(
                "Valfrihet och LOV",
                f"Bara {_pct(v)} valde själva sin LOV-utförare "
                f"({_share_ci(lo, hi)}; {_limit(given, 'lov_andel_valt_min', _pct(th['lov_andel_valt_min']))}): förbättra informationen om utförarna.",
                v,
                th["lov_andel_valt_min"],
            )
        )
    tested = findings.get("insatser_provade")
    chance = (
        f" Avvikelsen håller även med hänsyn till att {tested} insatser jämförs samtidigt; se den ändå som en fråga "
        "att utreda, inte som ett bevis på vad insatsen gör."
        if tested
        else ""
    )
    if findings.get("insatser_under"):
        names = ", ".join(map(literal, findings["insatser_under"]))
        out.append(
            Recommendation(
                "Dagens insatser",
                f"{len(findings['insatser_under'])} insatser har färre avslut till arbete eller studier än deras "
                f"deltagare väntas få, mer än slumpen förklarar: {names}. Se "
                "över innehåll och målgrupp." + chance,
                float(len(findings["insatser_under"])),
                None,
            )
        )
    if findings.get("insatser_over"):
        names = ", ".join(map(literal, findings["insatser_over"]))
        out.append(
            Recommendation(
                "Dagens insatser",
                f"{len(findings['insatser_over'])} insatser har fler avslut till arbete eller studier än deras "
                f"deltagare väntas få, mer än slumpen förklarar: {names}. "
                "Överväg fler platser där." + chance,
                float(len(findings["insatser_over"])),
                None,
            )
        )
    if ok("kostnad_saker_kvot") and findings["kostnad_saker_kvot"] > th["kostnad_spridning_max"]:
        ratio = findings["kostnad_saker_kvot"]
        out.append(
            Recommendation(
                "Dagens insatser",
                f"Kostnaden per avslut till arbete eller studier, justerad för deltagarna, skiljer mer än "
                f"{_num(th['kostnad_spridning_max'], 1)} gånger ({_limit(given, 'kostnad_spridning_max', _num(th['kostnad_spridning_max'], 1) + ' gånger')}) mellan insatserna även när osäkerheten räknas in"
                + (
                    f" och hänsyn tas till att {findings['kostnad_jamforda']} insatser jämförs samtidigt"
                    if findings.get("kostnad_jamforda")
                    else ""
                )
                + ": "
                f"{literal(findings['kostnad_dyr_namn'])} kostar minst {_num(findings['kostnad_dyr_lo'])} kr per "
                f"utfall och {literal(findings['kostnad_billig_namn'])} högst {_num(findings['kostnad_billig_hi'])} kr (minst "
                f"{_num(ratio, 1)} gånger så mycket): pröva att flytta platser till de insatser som ger mest per "
                "krona.",
                ratio,
                th["kostnad_spridning_max"],
            )
        )
    if ok("vagin_dagar_median") and findings["vagin_dagar_median"] > th["vagin_dagar_median_max"]:
        v = findings["vagin_dagar_median"]
        out.append(
            Recommendation(
                "En väg in",
                f"Det tar i median {_num(v)} dagar från ansökan till bedömning "
                f"({_limit(given, 'vagin_dagar_median_max', 'högst ' + _num(th['vagin_dagar_median_max']) + ' dagar')}): korta väntan till bedömning.",
                v,
                th["vagin_dagar_median_max"],
            )
        )
    if (hit := _share_below(findings, "vagin_andel_bedomda", th["vagin_andel_bedomda_min"])) is not None:
        v, lo, hi = hit
        out.append(
            Recommendation(
                "En väg in",
                f"{_pct(v)} av ansökningarna fick en bedömning av arbetsförmågan "
                f"({_share_ci(lo, hi)}; {_limit(given, 'vagin_andel_bedomda_min', _pct(th['vagin_andel_bedomda_min']))}): se till att alla sökande bedöms.",
                v,
                th["vagin_andel_bedomda_min"],
            )
        )
    if (hit := _share_below(findings, "vagin_andel_insats_90", th["vagin_andel_insats_90_min"])) is not None:
        v, lo, hi = hit
        out.append(
            Recommendation(
                "En väg in",
                f"{_pct(v)} av dem med hel eller delvis arbetsförmåga började en insats "
                f"inom 90 dagar ({_share_ci(lo, hi)}; {_limit(given, 'vagin_andel_insats_90_min', _pct(th['vagin_andel_insats_90_min']))}): koppla bedömningen "
                "direkt till ett erbjudande om insats.",
                v,
                th["vagin_andel_insats_90_min"],
            )
        )
    if (
        findings.get("vagin_overlamnade_saker") is True
        and ok("vagin_skillnad_overlamnade")
        and findings["vagin_skillnad_overlamnade"] < 0
        and ok("vagin_overlamnade_andel")
        and ok("vagin_ej_overlamnade_andel")
    ):
        out.append(
            Recommendation(
                "En väg in",
                f"Av dem med arbetsförmåga som lämnades över till en annan enhet efter bedömningen började "
                f"{_pct(findings['vagin_overlamnade_andel'])} en insats inom 90 dagar, mot "
                f"{_pct(findings['vagin_ej_overlamnade_andel'])} av dem som stannade hos den bedömande enheten "
                "(skillnaden är större än slumpen förklarar): se över överlämningarna, till exempel en bestämd tid "
                "inom vilken den mottagande enheten tar emot ärendet, och följ upp andelen som lämnas över.",
                findings["vagin_skillnad_overlamnade"],
                0.0,
            )
        )
    return out


def _dropout_advice(findings: dict) -> str:
    """What to do about the requirement once attendance rose, with the measured change in drop-outs."""
    change = dropout_change(findings)
    if change is None:
        return (
            "behåll kravet och följ upp att det inte leder till fler avbrott (avbrotten kunde inte jämföras före "
            "och efter kravet med uppgifterna)."
        )
    if change == "okning":
        return (
            f"behåll kravet, men avbrotten ökade {dropout_numbers(findings)}; ta reda på varför deltagare "
            "avbryter och ge stöd tidigt till dem med hög frånvaro."
        )
    if change == "minskning":
        return f"behåll kravet; avbrotten minskade {dropout_numbers(findings)}."
    return (
        f"behåll kravet; andelen avbrott ändrades inte säkert ({dropout_numbers(findings)}), men fortsätt följa "
        "avbrotten varje år."
    )


def _attendance_text(findings: dict, verdict: dict) -> str:
    """The recommendation on the attendance requirement: it fires on the calibrated intervals of the effect
    at the reform and after 12 months together and, where there is one, on the comparison with interventions
    without the requirement (``narvaro.attendance_verdict``), and says how sure it is."""
    v, lo, hi = findings["narvaro_nivaforandring"], findings["narvaro_lo"], findings["narvaro_hi"]
    ci = f"troligen mellan {_pp(lo)} och {_pp(hi)}"
    twelve = ""
    if findings.get("narvaro_effekt_12") is not None:
        twelve = (
            f"efter 12 månader {_pp(findings['narvaro_effekt_12'])} procentenheter, troligen mellan "
            f"{_pp(findings['narvaro_effekt_12_lo'])} och {_pp(findings['narvaro_effekt_12_hi'])}"
        )
    kind = verdict["kind"]
    caution = (
        " Vid ett påhittat reformdatum före kravet syns också en förändring, så läs resultatet med försiktighet."
        if verdict["placebo"] == 1
        else ""
    )
    if kind == "okning":
        return (
            f"Närvaron steg med {_pp(v)} procentenheter när närvarokravet infördes ({ci})"
            + (f" och låg kvar ({twelve})" if twelve else "")
            + ": "
            + _dropout_advice(findings)
            + caution
        )
    if kind == "minskning":
        return (
            f"Närvaron sjönk med {_pp(-v)} procentenheter när närvarokravet infördes ({ci})"
            + (f" och låg kvar lägre ({twelve})" if twelve else "")
            + ": utred varför innan kravet behålls."
            + caution
        )
    if kind == "osaker_varaktighet":
        if v > 0:
            return (
                f"Närvaron steg med {_pp(v)} procentenheter när närvarokravet infördes ({ci}), men om ökningen håller "
                f"i sig är osäkert ({twelve}): behåll kravet tills vidare och följ upp närvaron månad för månad "
                "under ett år till innan kravet bedöms slutligt." + caution
            )
        return (
            f"Närvaron sjönk med {_pp(-v)} procentenheter när närvarokravet infördes ({ci}), men om minskningen "
            f"håller i sig är osäkert ({twelve}): utred varför och följ upp närvaron innan kravet behålls." + caution
        )
    if kind == "gradvis":
        word = "steg" if findings["narvaro_effekt_12"] > 0 else "sjönk"
        return (
            f"Närvaron ändrades inte säkert när närvarokravet infördes ({_pp(v)} procentenheter, {ci}) men {word} "
            f"gradvis efteråt ({twelve}): följ upp närvaron under ett år till innan kravet bedöms." + caution
        )
    if kind == "motsagelse":
        return (
            f"Närvaron ändrades med {_pp(v)} procentenheter när närvarokravet infördes ({ci}) men åt andra hållet "
            f"efter ett år ({twelve}): ingen slutsats om kravet kan dras; följ upp med fler månader."
        )
    if kind == "oenig":
        word = "steg" if v > 0 else "sjönk"
        return (
            f"Närvaron {word} med {_pp(abs(v))} procentenheter när närvarokravet infördes ({ci}), men jämfört med "
            f"insatser utan närvarokrav, som ändrades samtidigt, är skillnaden {_pp(findings['narvaro_jamforelse_effekt'])} "
            f"procentenheter, troligen mellan {_pp(findings['narvaro_jamforelse_lo'])} och "
            f"{_pp(findings['narvaro_jamforelse_hi'])}: de två jämförelserna säger olika saker, och förändringen kan "
            "bero på något som hände alla insatser samtidigt snarare än på kravet. Jämförelsen med insatser utan krav "
            "väger tyngst. Dra ingen slutsats om kravet ännu; följ upp båda slagen av insatser med fler månader."
            + caution
        )
    if kind == "placebo":
        return (
            f"Närvaron ändrades med {_pp(v)} procentenheter när närvarokravet infördes ({ci}), men lika stora "
            f"förändringar syns vid {verdict['placebo']} påhittade reformdatum före kravet: förändringen kan inte "
            "säkert tillskrivas kravet; följ upp med fler månader och om möjligt en jämförelsegrupp utan krav."
        )
    return (
        f"Ingen säker förändring av närvaron vid närvarokravet ({_pp(v)} procentenheter, {ci}"
        + (f"; {twelve}" if twelve else "")
        + "): följ upp med fler månader innan kravet bedöms."
    )


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
        return "Inga rekommendationer utlöstes av resultaten med gränserna i parameterfilen."
    return "\n".join(f"{i}. *{r.area}:* {r.text}" for i, r in enumerate(recs, 1))
