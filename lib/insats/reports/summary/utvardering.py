"""The utvärdering's Nämndsammanfattning: ``utvardering_findings``."""

from __future__ import annotations

from collections.abc import Sequence

from insats.reports.kartlaggning.common import (
    join_names,
)
from insats.reports.render import Section
from insats.reports.summary.common import (
    CHANCE_POSSIBLE,
    CHANCE_UNLIKELY,
    MAX_FINDINGS,
    Finding,
    as_shown,
    finite,
    pct,
    points_range,
    share_range,
    tenths,
)
from insats.reports.utvardering.avbrott import dropout_change
from insats.reports.utvardering.avstand import standing
from insats.reports.utvardering.narvaro import attendance_verdict
from insats.text import format_number

# --------------------------------------------------------------------------- utvärdering


def _merged(sections: Sequence[Section]) -> dict:
    out: dict = {}
    for sec in sections:
        out.update(sec.findings)
    return out


def utvardering_findings(sections: Sequence[Section]) -> list[Finding]:
    """The utvärdering's findings from its sections' published key numbers (``Section.findings``): the offer
    within 90 days, the attendance requirement, which interventions reach more or fewer than expected, the
    spread of the cost per outcome, whether the volume allows several providers (LOV) and the way in (from
    assessment to an intervention). A finding whose number is missing or hidden is left out."""
    f = _merged(sections)
    out: list[Finding] = []

    def ok(key: str) -> bool:
        value = f.get(key)
        return not isinstance(value, (list, bool, str)) and finite(value)

    if ok("erbjudande_andel"):
        v = f["erbjudande_andel"]
        unc = (
            share_range(f["erbjudande_lo"], f["erbjudande_hi"])
            if ok("erbjudande_lo") and ok("erbjudande_hi")
            else "underlaget räcker inte för att säga hur säker siffran är"
        )
        gap = ""
        # a scope (omfattning) narrower than every recipient: its gap, then the study's question's
        narrower = ok("kapacitet_gap_alla") and f["kapacitet_gap_alla"] != f.get("kapacitet_gap")
        if ok("kapacitet_gap") and f["kapacitet_gap"] > 0:
            cats = f.get("kapacitet_brist") or []
            gap = (
                f" Om {'alla i målgruppen' if narrower else 'alla'} ska nås saknas omkring "
                f"{format_number(f['kapacitet_gap'], 0)} platser"
                + (f", främst inom {join_names(cats)}" if cats else "")
                + "."
            )
        if narrower and f["kapacitet_gap_alla"] > 0:
            gap += (
                f" Om alla vuxna biståndsmottagare ska nås saknas omkring "
                f"{format_number(f['kapacitet_gap_alla'], 0)} platser (en beräknad uppskattning)."
            )
        unemployed = (
            f" Bland de arbetslösa, kommunens egen målgrupp, erbjöds {pct(f['erbjudande_arbetsloshet'])}."
            if ok("erbjudande_arbetsloshet")
            else ""
        )
        behind = f.get("erbjudande_avstand_efter") or []
        distance = ""
        if behind:
            best, best_v = behind[0][2], behind[0][3]
            who = [f"de som står {standing(c)}" for c, *_ in behind]
            distance = (
                f" {join_names(who)[0].upper() + join_names(who)[1:]} erbjuds klart mer sällan än de som står "
                f"{standing(best)} ({pct(best_v)})."
            )
        out.append(
            Finding(
                "Erbjudande inom 90 dagar",
                f"{pct(v)} av alla vuxna biståndsmottagare erbjöds en insats inom 90 dagar.",
                pct(v),
                unc,
                f"{tenths(1 - v).capitalize()} får inget erbjudande i tid." + unemployed + distance + gap,
                v,
            )
        )

    verdict = attendance_verdict(f)
    if verdict is not None and ok("narvaro_nivaforandring"):
        v = f["narvaro_nivaforandring"]
        word = "steg" if v > 0 else "sjönk"
        number = f"{format_number(abs(100 * as_shown(v)), 0)} procentenheter"
        chance = CHANCE_UNLIKELY if verdict["niva"] != 0 else CHANCE_POSSIBLE
        if verdict["kind"] == "oenig":
            chance = (
                f"{CHANCE_UNLIKELY}; men skillnaden mot insatser utan krav "
                f"({points_range(f['narvaro_jamforelse_lo'], f['narvaro_jamforelse_hi'])}) {CHANCE_POSSIBLE}"
            )
        meaning = {
            "okning": "Kravet har följts av högre närvaro, och ökningen håller i sig efter ett år.",
            "minskning": "Kravet har följts av lägre närvaro, och minskningen håller i sig efter ett år.",
            "osaker_varaktighet": "Om förändringen håller i sig efter ett år går inte att säga ännu; närvaron "
            "behöver följas upp längre innan kravet bedöms.",
            "gradvis": "Närvaron ändrades gradvis efter kravet snarare än direkt; den behöver följas upp längre.",
            "motsagelse": "Förändringen vid kravet och efter ett år pekar åt olika håll; ingen slutsats kan dras.",
            "placebo": "Lika stora förändringar syns vid tidpunkter utan krav, så förändringen kan inte säkert "
            "tillskrivas kravet.",
            "ingen": "Någon säker förändring av närvaron vid kravet syns inte.",
            "oenig": "Men i insatser utan närvarokrav kan närvaron ha ändrats lika mycket samtidigt, så "
            "förändringen kan bero på något som hände alla insatser och inte på kravet. Den jämförelsen väger "
            "tyngst; ingen slutsats om kravet kan dras ännu.",
        }[verdict["kind"]]
        change = dropout_change(f)
        if change is not None and ok("avbrott_fore") and ok("avbrott_efter"):
            meaning += (
                f" Avbrotten gick från {pct(f['avbrott_fore'])} till {pct(f['avbrott_efter'])} av de avslutade "
                f"deltagandena ({points_range(f['avbrott_lo'], f['avbrott_hi'])})"
                + (
                    "; kravet har alltså också följts av fler avbrott."
                    if change == "okning"
                    else "; avbrotten blev färre."
                    if change == "minskning"
                    else "; någon säker förändring av avbrotten syns inte."
                )
            )
        out.append(
            Finding(
                "Närvarokrav",
                f"När närvarokravet infördes {word} närvaron med {number}.",
                number,
                f"{points_range(f['narvaro_lo'], f['narvaro_hi'])}; {chance}",
                meaning,
                abs(v),
            )
        )

    under, over = f.get("insatser_under") or [], f.get("insatser_over") or []
    tested = f.get("insatser_provade")
    if tested:
        k = len(under) + len(over)
        number = f"{format_number(k)} av {format_number(tested)}"
        where = "; ".join(
            p
            for p in (f"fler i {join_names(over)}" if over else "", f"färre i {join_names(under)}" if under else "")
            if p
        )
        out.append(
            Finding(
                "Dagens insatser",
                f"{number} insatser ger fler eller färre avslut till arbete eller studier än deras deltagare "
                "kunde väntas få.",
                number,
                f"{CHANCE_UNLIKELY}, även när hänsyn tas till att {format_number(tested)} insatser jämförs samtidigt"
                if k
                else f"skillnaderna mellan insatserna {CHANCE_POSSIBLE}",
                (
                    f"Avvikelserna är {where}. De är frågor att utreda om innehåll och målgrupp, inte bevis på vad "
                    "insatserna gör."
                )
                if k
                else "Ingen insats sticker ut när man tar hänsyn till vilka deltagare den har.",
                float(k),
            )
        )

    if ok("kostnad_saker_kvot") and f["kostnad_saker_kvot"] > 1:
        ratio = f["kostnad_saker_kvot"]
        number = f"{format_number(ratio, 0)} gånger"
        out.append(
            Finding(
                "Kostnad per utfall",
                f"{f['kostnad_dyr_namn']} kostar minst {number} så mycket per avslut till arbete eller studier "
                f"som {f['kostnad_billig_namn']}.",
                number,
                f"räknat med osäkerheten: minst {format_number(f['kostnad_dyr_lo'], 0)} kr mot högst "
                f"{format_number(f['kostnad_billig_hi'], 0)} kr per avslut; {CHANCE_UNLIKELY}"
                + (
                    f", även när hänsyn tas till att {format_number(f['kostnad_jamforda'])} insatser jämförs samtidigt"
                    if f.get("kostnad_jamforda")
                    else ""
                ),
                "Om platser flyttas till de insatser som ger mest per krona kan fler komma i arbete eller studier "
                "för samma pengar.",
                ratio,
            )
        )

    if f.get("lov_finns") and (f.get("lov_racker") or f.get("lov_racker_inte")):
        yes, no = f.get("lov_racker") or [], f.get("lov_racker_inte") or []
        number = f"{format_number(len(yes))} av {format_number(len(yes) + len(no))}"
        out.append(
            Finding(
                "Valfrihet (LOV)",
                f"Volymen räcker för flera utförare i {number} kategorier av insatser.",
                number,
                "räknat ur periodens deltaganden; gränsen för hur många deltaganden en utförare behöver är vald i "
                f"parameterfilen: {format_number(f.get('lov_min_deltagare'))} per år",
                (f"Valfrihet är möjlig inom {join_names(yes)}. " if yes else "")
                + (f"Inom {join_names(no)} räcker volymen inte till två utförare." if no else ""),
                float(len(yes)),
            )
        )

    if ok("vagin_andel_insats_90"):
        v = f["vagin_andel_insats_90"]
        unc = (
            share_range(f["vagin_andel_insats_90_lo"], f["vagin_andel_insats_90_hi"])
            if ok("vagin_andel_insats_90_lo") and ok("vagin_andel_insats_90_hi")
            else "underlaget räcker inte för att säga hur säker siffran är"
        )
        wait = (
            f" Det tar i mitten av fördelningen {format_number(f['vagin_dagar_median'], 0)} dagar från ansökan till "
            "bedömning."
            if ok("vagin_dagar_median")
            else ""
        )
        out.append(
            Finding(
                "En väg in",
                f"{pct(v)} av dem som bedömdes ha hel eller delvis arbetsförmåga började en insats inom 90 dagar.",
                pct(v),
                unc,
                f"Bedömningen leder inte alltid vidare: {tenths(1 - v)} väntar längre än 90 dagar på en insats." + wait,
                v,
            )
        )
    return out[:MAX_FINDINGS]
