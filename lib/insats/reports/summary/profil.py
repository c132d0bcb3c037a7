"""The områdesprofil's Nämndsammanfattning: ``profile_findings``."""

from __future__ import annotations

import pandas as pd

from insats.reports.summary.common import (
    CHANCE_POSSIBLE,
    CHANCE_UNLIKELY,
    COMPLETE_COUNT,
    MAX_FINDINGS,
    Finding,
    as_shown,
    finite,
    pct,
    share_range,
)
from insats.text import format_number

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
        if not finite(r["varde"]):
            continue
        v = float(r["varde"])
        whole = (
            f" mot {pct(r['alla_varde'])} i hela studien"
            if finite(r["alla_varde"]) and not r["alla_undertryckt"]
            else ""
        )
        unc = share_range(r["ki_lo"], r["ki_hi"]) if finite(r["ki_lo"]) and finite(r["ki_hi"]) else ""
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
            f"I {name} är {_the(label)} {pct(v)}{whole}.",
            pct(v),
            "; ".join(p for p in (unc, chance) if p) or "kan inte bedömas",
            meaning,
            v,
        )
    if "justerat_utfall_oe" in f.index:
        r = f.loc["justerat_utfall_oe"]
        if not bool(r["undertryckt"]) and finite(r["varde"]) and finite(r["ki_lo"]) and finite(r["ki_hi"]):
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
        if not bool(r["undertryckt"]) and finite(r["varde"]):
            v = as_shown(r["varde"], percent=False)
            rank = (
                f", plats {format_number(r['plats'])} av {format_number(r['antal_rankade'])} områden"
                if finite(r["plats"]) and finite(r["antal_rankade"])
                else ""
            )
            whole = f" (hela studien {format_number(r['alla_varde'], 0)})" if finite(r["alla_varde"]) else ""
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
