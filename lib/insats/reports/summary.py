"""The Nämndsammanfattning: the 4–6 findings of a report that matter, on one page, in plain Swedish.

Every study report and områdesprofil opens with it. Each finding (``Finding``) is a sentence with its
number, the number's uncertainty in words ("troligen mellan 68 och 74 %", "osannolikt att det är
slumpen") and what it means. The findings are picked from the sections' published results only (the
measures table after disclosure control, a section's ``findings``, a profile's key figures): a value that
is hidden (``..``) is never quoted, and a finding whose value is hidden says that the basis is too small.

One picker per report (``kartlaggning_findings``, ``utvardering_findings``, ``profile_findings``) and one
renderer (``summary_html`` / ``show_summary``) for all three. How findings are chosen is logged in
``docs/antaganden.md`` (N1–N4). Method, statistical terms and parameter names belong in the appendix
(``Metod och förbehåll``), never here.
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

import numpy as np
import pandas as pd
from IPython.display import HTML, display

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
from insats.reports.kartlaggning.utbud import category_gaps
from insats.reports.kartlaggning.utfall import differing_areas
from insats.reports.render import Section, markdown_html
from insats.reports.utvardering.narvaro import attendance_verdict
from insats.text import format_number

__all__ = [
    "CHANCE_POSSIBLE",
    "CHANCE_UNLIKELY",
    "COMPLETE_COUNT",
    "MAX_FINDINGS",
    "SUMMARY_TITLE",
    "Finding",
    "kartlaggning_findings",
    "profile_findings",
    "share_range",
    "show_summary",
    "summary_html",
    "utvardering_findings",
]

SUMMARY_TITLE = "Nämndsammanfattning"
MAX_FINDINGS = 6
"""At most this many findings: the summary fits one A4 page."""

CHANCE_UNLIKELY = "osannolikt att det är slumpen"
CHANCE_POSSIBLE = "kan vara slumpen"
COMPLETE_COUNT = "räknat ur alla insatser i uppgifterna, inte ur ett urval – ingen osäkerhet av slump"
"""The uncertainty of a number counted from the whole register (places, categories, money)."""


@dataclass(frozen=True)
class Finding:
    """One finding of the Nämndsammanfattning.

    ``text`` states the finding and contains ``number`` verbatim; ``uncertainty`` says in words how sure
    the number is; ``meaning`` says what it means for the nämnd. ``value`` is the published value that
    ``number`` shows (None for a count or a list); tests compare it with the published tables."""

    topic: str
    text: str
    number: str
    uncertainty: str
    meaning: str
    value: float | None = None


# --------------------------------------------------------------------------- wording


def _finite(x) -> bool:
    return x is not None and not (isinstance(x, float) and np.isnan(x)) and bool(np.isfinite(float(x)))


def _as_shown(x: float, percent: bool = True) -> float:
    """``x`` rounded as the report's tables show it (one decimal; shares in per cent), so that a whole
    number in the summary is the rounding of the figure a reader sees in the table (19,5 → 20, not the
    19 that 19,496 would give)."""
    value = Decimal(repr(float(x))) * (100 if percent else 1)
    return float(value.quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)) / (100 if percent else 1)


def _pct(x: float) -> str:
    return format_number(_as_shown(x), 0, percent=True)


def share_range(lo: float, hi: float) -> str:
    """A share's 95 % interval in words: ``troligen mellan 68 och 74 %`` (``troligen omkring 71 %`` when
    both ends round to the same whole per cent)."""
    a, b = format_number(_as_shown(lo), 0, percent=True)[:-2], format_number(_as_shown(hi), 0, percent=True)[:-2]
    if a == b:
        return f"troligen omkring {a} %"
    return f"troligen mellan {a} och {b} %"


def _points_range(lo: float, hi: float) -> str:
    """An interval of a change in percentage points in words."""
    lo, hi = _as_shown(lo), _as_shown(hi)

    def word(x: float) -> str:
        if round(100 * x) == 0:
            return "ingen förändring"
        return f"{'en ökning' if x > 0 else 'en minskning'} med {format_number(abs(100 * x), 0)}"

    if lo >= 0 or hi <= 0:
        a, b = sorted((abs(100 * lo), abs(100 * hi)))
        kind = "ökning" if hi > 0 else "minskning"
        return f"troligen en {kind} med mellan {format_number(a, 0)} och {format_number(b, 0)} procentenheter"
    return f"troligen mellan {word(lo)} och {word(hi)} procentenheter"


def _tenths(x: float) -> str:
    """``0.71`` → ``omkring 7 av 10``."""
    return f"omkring {format_number(10 * x, 0)} av 10"


def _areas_word(k: int) -> str:
    return f"{format_number(k)} {'område' if k == 1 else 'områden'}"


# --------------------------------------------------------------------------- rendering


def summary_html(findings: Sequence[Finding], *, lead: str | None = None, banner: str | None = None) -> str:
    """The summary as one HTML block (``<section class="insats-namndsammanfattning">``) with its ``<h2>``
    heading, an optional lead paragraph and synthetic-data banner (safe Markdown), and the findings as a
    numbered list. Every text is escaped; print CSS puts the block on a page of its own."""
    items = []
    for f in findings[:MAX_FINDINGS]:
        items.append(
            "<li>"
            f'<p class="insats-fynd"><strong>{html.escape(f.topic)}.</strong> {html.escape(f.text)}</p>'
            f'<p class="insats-osakerhet"><em>Hur säkert:</em> {html.escape(f.uncertainty)}.</p>'
            f'<p class="insats-betydelse"><em>Vad det betyder:</em> {html.escape(f.meaning)}</p>'
            "</li>"
        )
    body = f"<ol>{''.join(items)}</ol>" if items else "<p>Det finns inga resultat att sammanfatta.</p>"
    return (
        '<section class="insats-namndsammanfattning" aria-labelledby="namndsammanfattning">'
        f'<h2 id="namndsammanfattning">{SUMMARY_TITLE}</h2>'
        + (markdown_html(banner) if banner else "")
        + (markdown_html(lead) if lead else "")
        + body
        + '<p class="insats-sammanfattning-fot"><small>Siffrorna kommer från rapportens tabeller; små antal '
        "visas inte. Hur siffrorna räknas och vad de inte säger står sist i rapporten, under Metod och "
        "förbehåll.</small></p>"
        "</section>"
    )


def show_summary(findings: Sequence[Finding], *, lead: str | None = None, banner: str | None = None) -> None:
    """Display the summary in a notebook (``summary_html``)."""
    display(HTML(summary_html(findings, lead=lead, banner=banner)))


# --------------------------------------------------------------------------- kartläggning


def _published(long: pd.DataFrame, matt: str, code: str = ALLA) -> pd.Series | None:
    """The published, non-suppressed row of a measure for one area (or the whole study), else None."""
    part = long[(long["matt"] == matt) & (long["omrade_kod"].astype(str) == code)]
    if part.empty:
        return None
    row = part.iloc[0]
    if bool(row["undertryckt"]) or not _finite(row["varde"]):
        return None
    return row


def _share_interval(row: pd.Series) -> tuple[float, float] | None:
    """The Wilson 95 % interval of a published share from its published counts."""
    if not (_finite(row["taljare"]) and _finite(row["namnare"]) and row["namnare"] > 0):
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
                    f"{_pct(v)} av de avslutade deltagandena i hela studien slutade med arbete eller studier.",
                    _pct(v),
                    share_range(*ci) if ci else "underlaget räcker inte för att säga hur säker siffran är",
                    f"{_tenths(v).capitalize()} deltaganden leder till arbete eller studier; resten slutar av andra "
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
                f"{_areas_word(whole)} saknar någon sort helt, även bland insatserna för hela kommunen.",
                number,
                COMPLETE_COUNT,
                "Vilka insatser en biståndsmottagare kan få beror på var hon eller han bor. Det är en fråga om "
                "likställighet.",
                float(own),
            )
        )
        part = _published_areas(long, "utbud_platser_per_100")
        if len(part) >= 2:
            lo_row = part.loc[part["varde"].idxmin()]
            hi_row = part.loc[part["varde"].idxmax()]
            lo, hi = _as_shown(lo_row["varde"], percent=False), _as_shown(hi_row["varde"], percent=False)
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
                        f"Räknas feriejobb lika överallt byter {_areas_word(moved)} plats i jämförelsen."
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
    return out[:MAX_FINDINGS]


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
        return not isinstance(value, (list, bool, str)) and _finite(value)

    if ok("erbjudande_andel"):
        v = f["erbjudande_andel"]
        unc = (
            share_range(f["erbjudande_lo"], f["erbjudande_hi"])
            if ok("erbjudande_lo") and ok("erbjudande_hi")
            else "underlaget räcker inte för att säga hur säker siffran är"
        )
        gap = ""
        if ok("kapacitet_gap") and f["kapacitet_gap"] > 0:
            cats = f.get("kapacitet_brist") or []
            gap = (
                f" Om alla ska nås saknas omkring {format_number(f['kapacitet_gap'], 0)} platser"
                + (f", främst inom {join_names(cats)}" if cats else "")
                + "."
            )
        out.append(
            Finding(
                "Erbjudande inom 90 dagar",
                f"{_pct(v)} av de arbetslösa biståndsmottagarna erbjöds en insats inom 90 dagar.",
                _pct(v),
                unc,
                f"{_tenths(1 - v).capitalize()} får inget erbjudande i tid." + gap,
                v,
            )
        )

    verdict = attendance_verdict(f)
    if verdict is not None and ok("narvaro_nivaforandring"):
        v = f["narvaro_nivaforandring"]
        word = "steg" if v > 0 else "sjönk"
        number = f"{format_number(abs(100 * _as_shown(v)), 0)} procentenheter"
        chance = CHANCE_UNLIKELY if verdict["niva"] != 0 else CHANCE_POSSIBLE
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
        }[verdict["kind"]]
        out.append(
            Finding(
                "Närvarokrav",
                f"När närvarokravet infördes {word} närvaron med {number}.",
                number,
                f"{_points_range(f['narvaro_lo'], f['narvaro_hi'])}; {chance}",
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
                f"{format_number(f['kostnad_billig_hi'], 0)} kr per avslut; {CHANCE_UNLIKELY}",
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
                f"{_pct(v)} av dem som bedömdes ha hel eller delvis arbetsförmåga började en insats inom 90 dagar.",
                _pct(v),
                unc,
                f"Bedömningen leder inte alltid vidare: {_tenths(1 - v)} väntar längre än 90 dagar på en insats."
                + wait,
                v,
            )
        )
    return out[:MAX_FINDINGS]


# --------------------------------------------------------------------------- områdesprofil

_PROFILE_SHARES = (
    "utfall_arbete_studier_andel",
    "erbjudande_andel",
    "narvaro_andel_80",
    "utfall_sjalvforsorjning_andel",
    "langvarigt_andel",
)
_PROFILE_ORDER = (
    "utfall_arbete_studier_andel",
    "justerat_utfall_oe",
    "erbjudande_andel",
    "narvaro_andel_80",
    "utbud_platser_per_100",
)
"""The profile's findings in this order (the rest after them, in ``_PROFILE_SHARES`` order)."""
_TOO_SMALL = "underlaget i området är för litet för att siffran ska visas"


def _the(label: str) -> str:
    """A measure's label in running text: ``Andel avslut …`` → ``andelen avslut …``."""
    text = label[:1].lower() + label[1:]
    return "andelen" + text[len("andel") :] if text.startswith("andel ") else text


def profile_findings(figures: pd.DataFrame, name: str) -> list[Finding]:
    """An områdesprofil's findings from its key figures (``profil.key_figures``, published values only):
    the shares of persons with their 95 % interval and whether the area differs from the whole study
    beyond chance (the funnel plot's limits that allow for the usual differences between areas), the
    outcome adjusted for the participants, and places per 100 unemployed recipients with the area's rank.
    A hidden value is never quoted: the finding says the basis is too small."""
    f = figures.set_index("matt")
    found: dict[str, Finding] = {}
    for matt in _PROFILE_SHARES:
        if matt not in f.index:
            continue
        r = f.loc[matt]
        label = str(r["benamning"])
        if bool(r["undertryckt"]):
            found[matt] = Finding(
                label, f"I {name} visas inte {_the(label)}.", "", _TOO_SMALL, "Måttet kan inte jämföras för området."
            )
            continue
        if not _finite(r["varde"]):
            continue
        v = float(r["varde"])
        whole = (
            f" mot {_pct(r['alla_varde'])} i hela studien"
            if _finite(r["alla_varde"]) and not r["alla_undertryckt"]
            else ""
        )
        unc = share_range(r["ki_lo"], r["ki_hi"]) if _finite(r["ki_lo"]) and _finite(r["ki_hi"]) else ""
        flag = r.get("tratt")
        if flag in ("over_95", "over_998", "under_95", "under_998"):
            side = "högre" if str(flag).startswith("over") else "lägre"
            chance = f"andelen är {side} än i hela studien, och det är {CHANCE_UNLIKELY}"
            meaning = f"{name} skiljer sig här mer än områden brukar skilja sig åt; det är värt att ta reda på varför."
        elif flag == "inom" and r.get("tratt_vanlig") in ("over_95", "over_998", "under_95", "under_998"):
            chance = "skillnaden mot hela studien är större än slumpen men inte större än områden brukar ha"
            meaning = "En sådan skillnad finns mellan de flesta områden och pekar inte ut området."
        elif flag == "inom":
            chance = f"skillnaden mot hela studien {CHANCE_POSSIBLE}"
            meaning = f"{name} ligger i nivå med hela studien."
        else:
            chance, meaning = "", "Området kan inte jämföras med hela studien för det här måttet."
        found[matt] = Finding(
            label,
            f"I {name} är {_the(label)} {_pct(v)}{whole}.",
            _pct(v),
            "; ".join(p for p in (unc, chance) if p) or "kan inte bedömas",
            meaning,
            v,
        )
    if "justerat_utfall_oe" in f.index:
        r = f.loc["justerat_utfall_oe"]
        if not bool(r["undertryckt"]) and _finite(r["varde"]) and _finite(r["ki_lo"]) and _finite(r["ki_hi"]):
            v = float(r["varde"])
            rel = lambda x: (  # noqa: E731  (a one-line local helper)
                f"{format_number(abs(x - 1), 0, percent=True)} {'fler' if x > 1 else 'färre'}"
                if round(100 * abs(x - 1))
                else "lika många"
            )
            number = rel(v)
            differs = r["ki_lo"] > 1 or r["ki_hi"] < 1
            found["justerat_utfall_oe"] = Finding(
                "Utfall med hänsyn till deltagarna",
                f"Deltagarna i {name} når {number} avslut till arbete eller studier än deltagare med samma "
                "ålder, kön, bakgrund, utbildning och tid med bistånd kunde väntas nå."
                if number != "lika många"
                else f"Deltagarna i {name} når lika många avslut till arbete eller studier som deltagare med samma "
                "ålder, kön, bakgrund, utbildning och tid med bistånd kunde väntas nå.",
                number,
                f"troligen mellan {rel(float(r['ki_lo']))} och {rel(float(r['ki_hi']))}; "
                + (CHANCE_UNLIKELY if differs else CHANCE_POSSIBLE),
                "Jämförelsen tar hänsyn till vilka som bor i området och är den som säger mest om hur insatserna "
                "fungerar."
                if differs
                else "När man tar hänsyn till vilka deltagare området har, skiljer sig resultatet inte säkert "
                "från det väntade.",
                v,
            )
    if "utbud_platser_per_100" in f.index:
        r = f.loc["utbud_platser_per_100"]
        if not bool(r["undertryckt"]) and _finite(r["varde"]):
            v = _as_shown(r["varde"], percent=False)
            rank = (
                f", plats {format_number(r['plats'])} av {format_number(r['antal_rankade'])} områden"
                if _finite(r["plats"]) and _finite(r["antal_rankade"])
                else ""
            )
            whole = f" (hela studien {format_number(r['alla_varde'], 0)})" if _finite(r["alla_varde"]) else ""
            found["utbud_platser_per_100"] = Finding(
                "Platser",
                f"{name} har {format_number(v, 0)} platser per 100 arbetslösa biståndsmottagare{whole}{rank}.",
                format_number(v, 0),
                COMPLETE_COUNT,
                "Fler platser per arbetslös biståndsmottagare gör det lättare att erbjuda alla en insats.",
                v,
            )
    keys = [k for k in _PROFILE_ORDER if k in found] + [k for k in found if k not in _PROFILE_ORDER]
    shown = [found[k] for k in keys if found[k].number]
    hidden = [found[k] for k in keys if not found[k].number]
    return (shown + hidden)[:MAX_FINDINGS]
