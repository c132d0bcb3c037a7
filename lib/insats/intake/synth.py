"""Synthetic example data ("syntetiska exempeldata") for the two studies, with planted effects.

``generate(kind, out)`` writes a study folder that follows the data contract
(``insats.contract``): one file per table plus ``studie.json`` saying that the data is synthetic,
how it was made and which effects were planted. ``generate_tables`` is the same without files.
Nothing here describes real persons: every person, household, participation and amount is drawn
from the random generator ``numpy.random.default_rng(seed)``; only the names, populations and
2015 recipient counts of the Stockholm districts are real public figures (constants below, with
their source). The same seed gives byte-identical files.

Kinds
-----
``stockholm``
    The 14 stadsdelsområden of 2007–2020, years 2012–2013, ≈25,000 adult recipients distributed
    like the districts' 2015 recipient counts. Organisation differs per district the way the 2013
    kartläggning found: own units (``egen_omrade``), the central jobbtorg (``CENTRAL``,
    ``egen_central``), procured providers, civil society, the Public Employment Service; small
    districts offer few categories; some districts count feriejobb as an intervention.
``sundbyberg``
    One municipality, 7 neighbourhoods, years 2015–2016, ≈1,500 adult recipients, a central
    Jobbcenter, a reform on 2016-01-01 (närvarokrav and LOV providers) and work-capacity
    assessments (``bedomningar``).

``generate_municipalities(out, count)`` (``insats generate kommuner --count N``) writes N
generated municipalities of varied size into ``out/kommun_01 …``, for testing runs over many
studies: each is the Stockholm model on a random subset of 3–14 of its districts, with a
log-uniform number of persons around ``persons`` (a quarter to four times it), its own seed and
a made-up name and code (``Exempelkommun 1``, ``9001``; codes from 9001 are not used by any
Swedish municipality).

Model
-----
*Areas* have a disadvantage score ``z`` in [-1, 1] (Stockholm: from the district's 2015 share of
inhabitants on assistance). A higher ``z`` means more persons born abroad, more with only
förgymnasial education, older recipients and more long-term recipients (who are on assistance
from the data's first month and stay longer, so they have more months on assistance before a
participation starts) — all of which lower the chance of exiting to work or studies.

*Assistance* is one contiguous spell per person (monthly ``belopp`` ≈ 4,000–15,000 kr): about
40 % of a year's recipients are long-term (10–12 months), ≈10.5 assistance months per person over
the two years. A person leaves when the spell ends inside the data; ``avslut.manad`` is then the
first month without assistance, with an ``avslutsorsak``.

*Participations* (``deltaganden``) are sequential, mostly for persons in hinder group
arbetsloshet (≈0.75 per person in Stockholm, ≈0.95 in Sundbyberg); the probability of any
participation is area-specific (planted, ``sannolikhet_deltagande``). The intervention is drawn among the area's own and the CENTRAL interventions (weighted
by places, respecting age-restricted target groups and validity dates). Feriejobb have no
participations (their participants are school youth, not adult recipients). About 1 % of persons
move: their later participations are at another area's interventions, while
``personer.omrade_kod`` keeps their first area.

*Planted outcome model.* For each ended participation::

    P(avslut in {arbete, studier}) = logistic(b0 + individual + district_effect[area] + category_effect[kategori])

with ``individual`` = age effect per 10 years over 35 + sex + born abroad + education + hinder
group + per month on assistance in the 12 calendar months before the start month (computed from
``bistand`` exactly as ``insats.analysis.measures`` does). The coefficients are in ``OUTCOME_MODEL``; the
district and category effects in ``planted_effects(kind)``. District effects are NEGATIVELY related
to the composition advantage (disadvantaged areas have positive true effects), so the raw share of
exits to work or studies ranks areas differently from the true effects, while a case-mix adjusted
observed/expected (a logistic model of the individual characteristics fitted without area)
recovers their order. Areas also differ in category mix, which adds to their observed/expected.
A person whose participation ends in arbete/studier stops participating and, with probability
0.85, leaves assistance after the participation's end month (``avslut`` row with the same reason).

*Attendance.* ``narvarotimmar / planerade_timmar`` is Beta-distributed: Stockholm mean 0.80 with
närvarokrav and 0.68 without; Sundbyberg mean 0.70 for participations starting before the reform
and 0.82 from it. About 1.5 % report more hours than planned (exercises the validator's warning);
some planned hours are 0 or empty.

*Work-capacity assessments* (Sundbyberg): new applicants are assessed after Gamma(2, 12) days
(median ≈ 20), 7 % never; those assessed hel/delvis start a participation within 90 days of the
assessment with probability 0.70/0.50 (planted).

*Catalogues and money.* Places scale with the number of persons. ``medel`` has one line per area,
year and category (plus administration, not counted as intervention), from places × cost per
place and month; a line that would reach 10 digits (only in studies of hundreds of thousands of
persons) is split into equal lines, because no value may look like a personnummer. Sundbyberg's
catalogue is the one at the end of 2016: närvarokrav everywhere except in the procured contracts
that ended with 2015.

Formats: CSV (UTF-8, comma, ISO dates, months ``YYYY-MM``, booleans ``Ja``/``Nej``, empty cell for
missing) or Parquet (dates as ``date32``, months as ``YYYY-MM`` text, booleans as nullable
booleans). The folder is built in a temporary sibling and renamed into place.
"""

from __future__ import annotations

import json
import math
import os
import shutil
import tempfile
from itertools import pairwise
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from insats.contract import CENTRAL, HINDERGRUPP, TABLES, fold
from insats.errors import UsageError

__all__ = [
    "KINDS",
    "OUTCOME_MODEL",
    "STOCKHOLM_DISTRICTS",
    "SUNDBYBERG_AREAS",
    "generate",
    "generate_municipalities",
    "generate_tables",
    "planted_effects",
]

KINDS = ("stockholm", "sundbyberg")

# --------------------------------------------------------------------------- real constants
# Stockholm's 14 stadsdelsområden (2007–2020): name, population 31 Dec 2011, persons with
# ekonomiskt bistånd 2015 and their % of the population.
# Population: http://statistik.stockholm.se/temp_eng/a-tabeller/tv.07437.html?t=a1&sprak=eng
# Recipients: http://statistik.stockholm.se/images/stories/excel/b020-filer/sheet001.htm
STOCKHOLM_DISTRICTS: tuple[tuple[str, int, int, float], ...] = (
    ("Rinkeby-Kista", 46792, 4137, 8.5),
    ("Spånga-Tensta", 38115, 2747, 7.3),
    ("Hässelby-Vällingby", 66721, 3047, 4.2),
    ("Bromma", 67096, 1023, 1.3),
    ("Kungsholmen", 63120, 396, 0.6),
    ("Norrmalm", 67687, 364, 0.5),
    ("Östermalm", 66521, 358, 0.5),
    ("Södermalm", 123468, 1248, 1.0),
    ("Enskede-Årsta-Vantör", 92071, 3622, 3.7),
    ("Skarpnäck", 43961, 1387, 3.0),
    ("Farsta", 51987, 1844, 3.3),
    ("Älvsjö", 25660, 430, 1.6),
    ("Hägersten-Liljeholmen", 76710, 1243, 1.5),
    ("Skärholmen", 34415, 2219, 6.2),
)

# Sundbyberg's neighbourhoods (real names). Populations are rounded approximations made up for
# the example (the municipality had ≈47,000 inhabitants in 2015); z = disadvantage score;
# weight = share of the municipality's recipients.
SUNDBYBERG_AREAS: tuple[tuple[str, int, float, float], ...] = (
    ("Centrala Sundbyberg", 15200, -0.2, 0.22),
    ("Hallonbergen", 8300, 1.0, 0.28),
    ("Ör", 4600, 0.4, 0.12),
    ("Rissne", 7600, 0.7, 0.20),
    ("Duvbo", 4300, -0.8, 0.06),
    ("Lilla Alby", 4200, -0.4, 0.07),
    ("Ursvik", 2900, -1.0, 0.05),
)

# --------------------------------------------------------------------------- planted effects
# District effects (logit), negatively related to composition advantage, mean 0.
_DISTRICT_EFFECTS = {
    "stockholm": {
        "rinkeby_kista": 0.60,
        "spanga_tensta": 0.40,
        "hasselby_vallingby": 0.20,
        "bromma": -0.30,
        "kungsholmen": -0.45,
        "norrmalm": -0.40,
        "ostermalm": -0.55,
        "sodermalm": -0.25,
        "enskede_arsta_vantor": 0.30,
        "skarpnack": 0.15,
        "farsta": 0.05,
        "alvsjo": -0.10,
        "hagersten_liljeholmen": -0.15,
        "skarholmen": 0.50,
    },
    "sundbyberg": {
        "centrala_sundbyberg": -0.15,
        "hallonbergen": 0.55,
        "or": 0.25,
        "rissne": 0.35,
        "duvbo": -0.45,
        "lilla_alby": 0.0,
        "ursvik": -0.55,
    },
}

CATEGORY_EFFECTS: dict[str, float] = {
    "praktik_privat": 0.80,
    "arbetstraning": 0.55,
    "kommunal_anstallning": 0.50,
    "praktik_offentlig": 0.25,
    "matchning": 0.0,
    "jobbsok_coachning": -0.20,
    "ovrigt": -0.30,
    "vagledning": -0.40,
    "kurs": -0.60,
}
"""Planted category effects (logit); the order is praktik_privat > arbetstraning ≈
kommunal_anstallning > praktik_offentlig > matchning > jobbsok_coachning > vagledning > kurs."""

OUTCOME_MODEL: dict[str, Any] = {
    "b0": -0.35,
    "alder_per_10_ar_over_35": -0.35,
    "kon": {"K": -0.05, "M": 0.0},
    "utrikes_fodd": -0.80,
    "utbildning": {"forgymnasial": -0.60, "gymnasial": 0.0, "eftergymnasial": 0.60, "okand": -0.30},
    "hindergrupp": {"arbetsloshet": 0.0, "ovrigt": -0.40, "sociala_skal": -0.80, "ohalsa": -1.00},
    "per_manad_bistand_12_man_fore_start": -0.08,
}
"""Individual coefficients (logit) of the planted outcome model (see the module docstring)."""

_OFFER_RATES = {
    "stockholm": {
        "rinkeby_kista": 0.80,
        "spanga_tensta": 0.75,
        "hasselby_vallingby": 0.70,
        "bromma": 0.55,
        "kungsholmen": 0.45,
        "norrmalm": 0.50,
        "ostermalm": 0.40,
        "sodermalm": 0.55,
        "enskede_arsta_vantor": 0.70,
        "skarpnack": 0.60,
        "farsta": 0.72,
        "alvsjo": 0.50,
        "hagersten_liljeholmen": 0.60,
        "skarholmen": 0.78,
    },
    "sundbyberg": {
        "centrala_sundbyberg": 0.85,
        "hallonbergen": 0.90,
        "or": 0.80,
        "rissne": 0.88,
        "duvbo": 0.75,
        "lilla_alby": 0.80,
        "ursvik": 0.70,
    },
}
_OTHER_GROUP_OFFER_FACTOR = 0.30
_SUCCESS_LEAVES = 0.85
_LOV_CHOSEN = 0.80
_ATTENDANCE = {
    "stockholm": {"med_narvarokrav": 0.80, "utan_narvarokrav": 0.68},
    "sundbyberg": {"fore_reform": 0.70, "efter_reform": 0.82},
}
_VAGIN = {"hel": 0.70, "delvis": 0.50}
_REFORM = "2016-01-01"
_MAX_LINE = 400_000_000  # kr: the largest spending line (see _medel)

# Stockholm: districts that count feriejobb as an intervention (the 2013 kartläggning found both practices).
_FERIEJOBB_COUNTED = {"rinkeby_kista", "spanga_tensta", "skarholmen", "hasselby_vallingby", "farsta"}

# Stockholm offer per district: kategori:regi (E egen_omrade, U upphandlad, I ideell, A arbetsformedlingen).
_STHLM_OFFER = {
    "rinkeby_kista": "arbetstraning:E praktik_offentlig:E praktik_privat:A kommunal_anstallning:E matchning:E "
    "jobbsok_coachning:U jobbsok_coachning:E vagledning:E kurs:I ovrigt:I",
    "spanga_tensta": "arbetstraning:E praktik_offentlig:E kommunal_anstallning:E jobbsok_coachning:E vagledning:E "
    "kurs:I matchning:A",
    "hasselby_vallingby": "arbetstraning:E praktik_privat:U jobbsok_coachning:E vagledning:E kurs:E",
    "bromma": "jobbsok_coachning:U praktik_privat:U vagledning:E",
    "kungsholmen": "vagledning:E",
    "norrmalm": "vagledning:E jobbsok_coachning:U",
    "ostermalm": "vagledning:E",
    "sodermalm": "vagledning:E praktik_offentlig:E jobbsok_coachning:U",
    "enskede_arsta_vantor": "arbetstraning:E praktik_offentlig:E kommunal_anstallning:E matchning:U "
    "jobbsok_coachning:E kurs:U",
    "skarpnack": "arbetstraning:I praktik_privat:A jobbsok_coachning:I kurs:I",
    "farsta": "arbetstraning:E praktik_offentlig:E jobbsok_coachning:U vagledning:E",
    "alvsjo": "jobbsok_coachning:U vagledning:E",
    "hagersten_liljeholmen": "matchning:U jobbsok_coachning:U praktik_offentlig:E kurs:U",
    "skarholmen": "arbetstraning:E praktik_offentlig:E jobbsok_coachning:E kurs:U vagledning:E praktik_privat:U",
}
# Share of a district's participations at the central jobbtorg: high where the district has few
# units of its own.
_STHLM_CENTRAL_SHARE = {
    "kungsholmen": 0.7,
    "ostermalm": 0.7,
    "norrmalm": 0.6,
    "sodermalm": 0.5,
    "alvsjo": 0.55,
    "bromma": 0.45,
}
_REGI_LETTER = {"E": "egen_omrade", "U": "upphandlad", "I": "ideell", "A": "arbetsformedlingen"}

_NAME = {
    "arbetstraning": "Arbetsträning",
    "praktik_offentlig": "Praktik i kommunal verksamhet",
    "praktik_privat": "Praktik i privat sektor",
    "kommunal_anstallning": "Kommunal visstidsanställning",
    "matchning": "Matchning mot arbetsgivare",
    "jobbsok_coachning": "Jobbsökaraktiviteter och coachning",
    "vagledning": "Studie- och yrkesvägledning",
    "kurs": "Yrkessvenska och kortkurser",
    "ovrigt": "Motivationsgrupp",
    "feriejobb": "Feriejobb för ungdomar",
}
_PROVIDERS = {
    "upphandlad": ["Jobbsprånget AB", "Framtidsvägen AB", "Kompetensporten AB", "Nästa Steg AB"],
    "ideell": ["Föreningen Bryggan", "Idéburna nätverket Ny Start", "Kvinnocentrum i samverkan"],
    "arbetsformedlingen": ["Arbetsförmedlingen"],
}
_COST = {  # kr per place and month
    "arbetstraning": 9000,
    "praktik_offentlig": 4000,
    "praktik_privat": 4500,
    "kommunal_anstallning": 22000,
    "matchning": 5000,
    "jobbsok_coachning": 3500,
    "vagledning": 2500,
    "kurs": 6000,
    "ovrigt": 3000,
    "feriejobb": 7000,
}
_PLACE_FRAC = {  # places per expected unemployed recipient of the area
    "arbetstraning": 0.06,
    "praktik_offentlig": 0.04,
    "praktik_privat": 0.04,
    "kommunal_anstallning": 0.03,
    "matchning": 0.05,
    "jobbsok_coachning": 0.07,
    "vagledning": 0.05,
    "kurs": 0.05,
    "ovrigt": 0.03,
}
_MALGRUPP = {
    "arbetstraning": "langt_fran",
    "praktik_offentlig": "alla",
    "praktik_privat": "nara",
    "kommunal_anstallning": "vuxna_25_plus;langt_fran",
    "matchning": "nara",
    "jobbsok_coachning": "alla",
    "vagledning": "alla",
    "kurs": "nyanlanda;vuxna_25_plus",
    "ovrigt": "langt_fran",
    "feriejobb": "unga_18_24",
}
_DURATION_DAYS = {  # mean duration of a participation
    "arbetstraning": 130,
    "praktik_offentlig": 90,
    "praktik_privat": 90,
    "kommunal_anstallning": 180,
    "matchning": 75,
    "jobbsok_coachning": 60,
    "vagledning": 45,
    "kurs": 100,
    "ovrigt": 60,
}
_WEEKLY_HOURS = {
    "arbetstraning": 30,
    "praktik_offentlig": 30,
    "praktik_privat": 32,
    "kommunal_anstallning": 38,
    "matchning": 8,
    "jobbsok_coachning": 12,
    "vagledning": 4,
    "kurs": 15,
    "ovrigt": 10,
}
_DEFAULT_PERSONS = {"stockholm": 25_000, "sundbyberg": 1_500}
_PERIOD = {"stockholm": (2012, 2), "sundbyberg": (2015, 2)}  # first year, number of years
_KOMMUN = {"stockholm": ("0180", "Stockholm"), "sundbyberg": ("0183", "Sundbyberg")}
_DESCRIPTION = "Syntetiska exempeldata – inga verkliga personer"


def planted_effects(kind: str) -> dict:
    """The effects planted in a kind's data (also in ``studie.json["planterade_effekter"]``).

    Keys: ``modell`` (text), ``individuella`` (OUTCOME_MODEL), ``omrade`` (logit per omrade_kod),
    ``kategori`` (logit per kategori), ``kategori_ordning``, ``sannolikhet_deltagande`` (probability
    that a recipient in hinder group arbetsloshet gets any participation, per area; other groups
    times a factor — the measure ``erbjudande_andel``, within 90 days, comes out lower), ``narvaro_medel``,
    ``lov_andel_valt``, ``andel_lamnar_bistand_efter_arbete_studier``; Sundbyberg also
    ``vagin_andel_insats_90_dagar`` and ``bedomning_dagar``.
    """
    _check_kind(kind)
    cat_order = sorted(CATEGORY_EFFECTS, key=lambda c: -CATEGORY_EFFECTS[c])
    out = {
        "modell": "P(avslut arbete/studier) = logistic(b0 + individuella effekter + omrade[omrade_kod] "
        "+ kategori[kategori]) för varje avslutat deltagande",
        "individuella": json.loads(json.dumps(OUTCOME_MODEL)),
        "omrade": dict(_DISTRICT_EFFECTS[kind]),
        "kategori": dict(CATEGORY_EFFECTS),
        "kategori_ordning": cat_order,
        "sannolikhet_deltagande": {
            "arbetsloshet": dict(_OFFER_RATES[kind]),
            "ovriga_grupper_faktor": _OTHER_GROUP_OFFER_FACTOR,
            "anmarkning": "sannolikheten att alls få ett deltagande; måttet erbjudande_andel (inom 90 dagar "
            "från första biståndsmånaden) blir lägre",
        },
        "narvaro_medel": dict(_ATTENDANCE[kind]),
        "lov_andel_valt": _LOV_CHOSEN,
        "andel_lamnar_bistand_efter_arbete_studier": _SUCCESS_LEAVES,
        "sammansattning": "områden med högre andel utrikes födda, förgymnasial utbildning och långvarigt "
        "bistånd har positiva sanna områdeseffekter",
    }
    if kind == "stockholm":
        out["feriejobb_raknas_som_insats"] = sorted(_FERIEJOBB_COUNTED)
    else:
        out["vagin_andel_insats_90_dagar"] = dict(_VAGIN)
        out["bedomning_dagar"] = {"fordelning": "gamma(2, 12)", "median_ungefar": 20, "andel_aldrig": 0.07}
        out["reform_datum"] = _REFORM
    return out


def _planted_for(kind: str, codes: list[str]) -> dict:
    """``planted_effects(kind)`` with the per-area effects of ``codes`` only."""
    out = planted_effects(kind)
    out["omrade"] = {c: v for c, v in out["omrade"].items() if c in codes}
    rates = out["sannolikhet_deltagande"]
    rates["arbetsloshet"] = {c: v for c, v in rates["arbetsloshet"].items() if c in codes}
    if "feriejobb_raknas_som_insats" in out:
        out["feriejobb_raknas_som_insats"] = [c for c in out["feriejobb_raknas_som_insats"] if c in codes]
    return out


def _check_kind(kind: str) -> None:
    if kind not in KINDS:
        raise UsageError(f"okänd typ {kind!r}: välj stockholm eller sundbyberg")


# --------------------------------------------------------------------------- helpers
def _expit(x):
    return 1.0 / (1.0 + np.exp(-x))


def _choose_rows(rng, probs: np.ndarray) -> np.ndarray:
    """Index of a categorical draw per row of a (n, k) probability matrix."""
    cum = np.cumsum(probs, axis=1)
    cum /= cum[:, -1:]
    u = rng.random(len(probs))[:, None]
    return np.minimum((u > cum).sum(axis=1), probs.shape[1] - 1)


def _choose(rng, codes: list[str], p: list[float], n: int) -> np.ndarray:
    probs = np.asarray(p, float)
    return np.asarray(codes, dtype=object)[rng.choice(len(codes), size=n, p=probs / probs.sum())]


def _ids(prefix: str, n: int, start: int = 1) -> np.ndarray:
    """``prefix`` + zero-padded numbers (at least 7 digits): ``P0000001``, ``P0000002``, ...

    Vectorised: the numbers are offset by a power of ten and the leading ``1`` replaced by the
    one-letter prefix.
    """
    width = max(7, len(str(start + n)))
    text = (np.arange(start, start + n, dtype=np.int64) + 10**width).astype(f"U{width + 1}")
    chars = text.view(np.uint32).reshape(n, width + 1).copy()
    chars[:, 0] = ord(prefix)
    return chars.view(f"U{width + 1}").ravel().astype(object)


# --------------------------------------------------------------------------- areas and catalogues
def _areas(kind: str) -> pd.DataFrame:
    if kind == "stockholm":
        names = [d[0] for d in STOCKHOLM_DISTRICTS]
        pop = np.array([d[1] for d in STOCKHOLM_DISTRICTS], float)
        rec = np.array([d[2] for d in STOCKHOLM_DISTRICTS], float)
        lp = np.log([d[3] for d in STOCKHOLM_DISTRICTS])
        z = (lp - (lp.max() + lp.min()) / 2) / ((lp.max() - lp.min()) / 2)
        weight = rec / rec.sum()
    else:
        names = [a[0] for a in SUNDBYBERG_AREAS]
        pop = np.array([a[1] for a in SUNDBYBERG_AREAS], float)
        z = np.array([a[2] for a in SUNDBYBERG_AREAS])
        weight = np.array([a[3] for a in SUNDBYBERG_AREAS])
        weight = weight / weight.sum()
    codes = [fold(n) for n in names]
    return pd.DataFrame(
        {
            "omrade_kod": codes,
            "omrade": names,
            "pop": pop,
            "z": z,
            "weight": weight,
            "effect": [_DISTRICT_EFFECTS[kind][c] for c in codes],
            "offer": [_OFFER_RATES[kind][c] for c in codes],
        }
    )


def _omraden(kind: str, areas: pd.DataFrame, rng, kommun_kod: tuple[str, str] | None = None) -> pd.DataFrame:
    year0, n_years = _PERIOD[kind]
    kod, kommun = kommun_kod or _KOMMUN[kind]
    rows = []
    growth = 1 + rng.uniform(0.005, 0.02, len(areas))
    share = rng.uniform(0.66, 0.70, len(areas))
    base_year = 2011 if kind == "stockholm" else year0
    for y in range(year0, year0 + n_years):
        pop = np.round(areas["pop"].to_numpy() * growth ** (y - base_year)).astype(np.int64)
        rows.append(
            pd.DataFrame(
                {
                    "omrade_kod": areas["omrade_kod"],
                    "omrade": areas["omrade"],
                    "kommun_kod": kod,
                    "kommun": kommun,
                    "ar": y,
                    "folkmangd": pop,
                    "folkmangd_18_64": np.round(pop * share).astype(np.int64),
                }
            )
        )
    out = pd.concat(rows, ignore_index=True)
    return out.astype({"ar": "Int64", "folkmangd": "Int64", "folkmangd_18_64": "Int64"})


def _catalogue_rows(kind: str, areas: pd.DataFrame) -> list[dict]:
    """Intervention rows (without insats_id, places and costs) per area and CENTRAL."""
    rows: list[dict] = []
    if kind == "stockholm":
        for code, name in zip(areas["omrade_kod"], areas["omrade"]):
            z = float(areas.loc[areas["omrade_kod"] == code, "z"].iloc[0])
            for item in _STHLM_OFFER[code].split():
                cat, letter = item.split(":")
                regi = _REGI_LETTER[letter]
                strict = cat in ("arbetstraning", "praktik_offentlig", "praktik_privat", "kommunal_anstallning")
                rows.append(
                    dict(
                        omrade_kod=code,
                        area_name=name,
                        kategori=cat,
                        regi=regi,
                        narvarokrav=strict or z > 0.2,
                        lov=False,
                        raknas_som_insats=True,
                        giltig_fran=None,
                        giltig_till=None,
                    )
                )
            if code in ("rinkeby_kista", "spanga_tensta", "skarholmen"):
                rows.append(
                    dict(
                        omrade_kod=code,
                        area_name=name,
                        kategori="jobbsok_coachning",
                        regi="egen_omrade",
                        narvarokrav=True,
                        lov=False,
                        raknas_som_insats=True,
                        giltig_fran=None,
                        giltig_till=None,
                        unga=True,
                    )
                )
            rows.append(
                dict(
                    omrade_kod=code,
                    area_name=name,
                    kategori="feriejobb",
                    regi="egen_omrade",
                    narvarokrav=True,
                    lov=False,
                    raknas_som_insats=code in _FERIEJOBB_COUNTED,
                    giltig_fran=None,
                    giltig_till=None,
                )
            )
        for cat in ("jobbsok_coachning", "matchning", "praktik_privat", "kurs", "kommunal_anstallning"):
            rows.append(
                dict(
                    omrade_kod=CENTRAL,
                    area_name="Jobbtorg Stockholm",
                    kategori=cat,
                    regi="egen_central",
                    narvarokrav=cat != "matchning",
                    lov=False,
                    raknas_som_insats=True,
                    giltig_fran=None,
                    giltig_till=None,
                )
            )
    else:
        before, reform = "2015-12-31", _REFORM
        central = [  # name, kategori, regi, utforare, lov, giltig_fran, giltig_till
            ("Jobbcenter – Tvätteri", "arbetstraning", "egen_central", "Jobbcenter Sundbyberg", False, None, None),
            ("Jobbcenter – Städ", "arbetstraning", "egen_central", "Jobbcenter Sundbyberg", False, None, None),
            ("Jobbcenter – Snickeri", "arbetstraning", "egen_central", "Jobbcenter Sundbyberg", False, None, None),
            (
                "Praktik i kommunens verksamheter",
                "praktik_offentlig",
                "egen_central",
                "Jobbcenter Sundbyberg",
                False,
                None,
                None,
            ),
            (
                "Praktik hos privata arbetsgivare",
                "praktik_privat",
                "arbetsformedlingen",
                "Arbetsförmedlingen",
                False,
                None,
                None,
            ),
            (
                "Visstidsanställning i kommunen",
                "kommunal_anstallning",
                "egen_central",
                "Jobbcenter Sundbyberg",
                False,
                None,
                None,
            ),
            ("Studie- och yrkesvägledning", "vagledning", "egen_central", "Jobbcenter Sundbyberg", False, None, None),
            ("Yrkessvenska", "kurs", "annan_kommunal", "Vuxenutbildningen", False, None, None),
            ("Jobbcoachning", "jobbsok_coachning", "upphandlad", "Jobbsprånget AB", False, None, before),
            ("Matchning", "matchning", "upphandlad", "Framtidsvägen AB", False, None, before),
            ("Jobbcoachning (LOV)", "jobbsok_coachning", "lov", "Coachkompaniet AB", True, reform, None),
            ("Jobbcoachning (LOV)", "jobbsok_coachning", "lov", "Nya Vägar Jobbcoach AB", True, reform, None),
            ("Jobbcoachning (LOV)", "jobbsok_coachning", "lov", "Kompetensbryggan AB", True, reform, None),
            ("Matchning (LOV)", "matchning", "lov", "Matchningshuset AB", True, reform, None),
            ("Matchning (LOV)", "matchning", "lov", "Rätt Jobb i Sundbyberg AB", True, reform, None),
            ("Feriejobb för ungdomar", "feriejobb", "egen_central", "Jobbcenter Sundbyberg", False, None, None),
        ]
        # the catalogue as of the end of 2016: närvarokrav everywhere since the reform, except in the
        # procured contracts that ended before it
        for name, cat, regi, utf, lov, fran, till in central:
            rows.append(
                dict(
                    omrade_kod=CENTRAL,
                    name=name,
                    kategori=cat,
                    regi=regi,
                    utforare=utf,
                    narvarokrav=till != before,
                    lov=lov,
                    raknas_som_insats=cat != "feriejobb",
                    giltig_fran=fran,
                    giltig_till=till,
                )
            )
        local = {
            "hallonbergen": [("Språkcafé och samhällsorientering", "kurs", "ideell", "Föreningen Bryggan")],
            "rissne": [("Motivationsgrupp", "ovrigt", "ideell", "Idéburna nätverket Ny Start")],
            "centrala_sundbyberg": [("Jobbklubb", "jobbsok_coachning", "egen_omrade", "Socialtjänsten Sundbyberg")],
        }
        for code, items in local.items():
            for name, cat, regi, utf in items:
                rows.append(
                    dict(
                        omrade_kod=code,
                        name=name,
                        kategori=cat,
                        regi=regi,
                        utforare=utf,
                        narvarokrav=True,
                        lov=False,
                        raknas_som_insats=True,
                        giltig_fran=None,
                        giltig_till=None,
                    )
                )
    return rows


def _insatser(kind: str, areas: pd.DataFrame, n_persons: int, rng) -> pd.DataFrame:
    rows = _catalogue_rows(kind, areas)
    weight = dict(zip(areas["omrade_kod"], areas["weight"]))
    pop = dict(zip(areas["omrade_kod"], areas["pop"]))
    scale = n_persons / _DEFAULT_PERSONS[kind]
    counters: dict[str, int] = {}
    out = []
    for r in rows:
        code, cat, regi = r["omrade_kod"], r["kategori"], r["regi"]
        counters[code] = counters.get(code, 0) + 1
        jitter = rng.uniform(0.8, 1.2)
        if cat == "feriejobb":
            # feriejobb are for school youth, more of them where more families have low incomes
            z_area = 0.0 if code == CENTRAL else float(areas.loc[areas["omrade_kod"] == code, "z"].iloc[0])
            base = (sum(pop.values()) if code == CENTRAL else pop[code]) * 0.002 * np.exp(0.6 * z_area) * jitter
        elif code == CENTRAL:
            base = n_persons * 0.5 * _PLACE_FRAC[cat] * (0.6 if kind == "stockholm" else 0.4) * jitter
        else:
            base = n_persons * weight[code] * 0.5 * _PLACE_FRAC[cat] * jitter
            if kind == "sundbyberg":
                base *= 0.5
        platser = max(3, round(base * (scale if cat == "feriejobb" else 1.0)))
        cost = round(_COST[cat] * rng.uniform(0.85, 1.2) / 100) * 100
        if "name" in r:
            namn = r["name"]
        elif r.get("unga"):
            namn = f"Ungdomsjobb och coachning 18–24 – {r['area_name']}"
        elif code == CENTRAL:
            namn = f"Jobbtorg Stockholm – {_NAME[cat].lower()}"
        else:
            namn = f"{_NAME[cat]} – {r['area_name']}"
        if "utforare" in r:
            utf = r["utforare"]
        elif regi == "egen_omrade":
            utf = f"{r['area_name']} stadsdelsförvaltning"
        elif regi == "egen_central":
            utf = "Jobbtorg Stockholm"
        else:
            prov = _PROVIDERS[regi]
            utf = prov[int(rng.integers(len(prov)))]
        malgrupp = "unga_18_24" if r.get("unga") else _MALGRUPP[cat]
        if regi == "ideell" and cat == "kurs":
            malgrupp = "nyanlanda"
        out.append(
            dict(
                insats_id=f"I-{code}-{counters[code]:02d}",
                omrade_kod=code,
                namn=namn,
                kategori=cat,
                regi=regi,
                utforare=utf,
                malgrupp=malgrupp,
                platser=platser,
                narvarokrav=bool(r["narvarokrav"]),
                lov=bool(r["lov"]),
                raknas_som_insats=bool(r["raknas_som_insats"]),
                kostnad_per_plats_manad=float(cost),
                giltig_fran=r["giltig_fran"],
                giltig_till=r["giltig_till"],
            )
        )
    df = pd.DataFrame(out)
    for c in ("giltig_fran", "giltig_till"):
        df[c] = pd.to_datetime(df[c]).astype("datetime64[ns]")
    for c in ("narvarokrav", "lov", "raknas_som_insats"):
        df[c] = df[c].astype("boolean")
    df["platser"] = df["platser"].astype("Int64")
    return df


def _medel(kind: str, areas: pd.DataFrame, ins: pd.DataFrame, rng) -> pd.DataFrame:
    year0, n_years = _PERIOD[kind]
    rows = []
    codes = list(areas["omrade_kod"]) + [CENTRAL]
    for y in range(year0, year0 + n_years):
        f = 1.03 ** (y - year0)
        for code in codes:
            valid = (ins["giltig_fran"].isna() | (ins["giltig_fran"].dt.year <= y)) & (
                ins["giltig_till"].isna() | (ins["giltig_till"].dt.year >= y)
            )
            sub = ins[(ins["omrade_kod"] == code) & valid]
            if not len(sub):
                continue
            total = 0.0
            for cat, g in sub.groupby("kategori", sort=True, observed=True):
                months = 2.5 if cat == "feriejobb" else 12.0
                util = rng.uniform(0.75, 1.0)
                belopp = float(
                    np.round((g["platser"].astype(float) * g["kostnad_per_plats_manad"]).sum() * months * util * f, -3)
                )
                counted = bool(g["raknas_som_insats"].any())
                rows.append((code, y, cat, belopp, counted))
                total += belopp
            rows.append((code, y, "administration", float(np.round(total * rng.uniform(0.07, 0.12), -3)), False))
    # No value may have 10 or more digits (the validator looks for personnummer): split very
    # large lines (only in studies of hundreds of thousands of persons) into equal parts.
    split = []
    for code, y, cat, belopp, counted in rows:
        parts = max(1, math.ceil(belopp / _MAX_LINE))
        split.extend([(code, y, cat, float(np.round(belopp / parts, -3)), counted)] * parts)
    df = pd.DataFrame(split, columns=["omrade_kod", "ar", "kategori", "belopp", "raknas_som_insats"])
    return df.astype({"ar": "Int64", "raknas_som_insats": "boolean"})


# --------------------------------------------------------------------------- persons and events
_HINDER_CODES = {
    g: [c for c, gg in HINDERGRUPP.items() if gg == g] for g in ("arbetsloshet", "ohalsa", "sociala_skal", "ovrigt")
}
_HINDER_SUB_P = {
    "arbetsloshet": [0.55, 0.20, 0.10, 0.15],  # ingen_ersattning, otillracklig, vantar, etablering
    "ohalsa": [0.7, 0.3],
    "sociala_skal": [1.0],
    "ovrigt": [0.25, 0.35, 0.2, 0.2],
}


def _persons(kind: str, areas: pd.DataFrame, n: int, rng) -> dict[str, np.ndarray]:
    year0, _ = _PERIOD[kind]
    a = np.sort(rng.choice(len(areas), size=n, p=areas["weight"].to_numpy()))
    z = areas["z"].to_numpy()[a]
    kon = np.where(rng.random(n) < 0.48, "M", "K").astype(object)
    utrikes = rng.random(n) < _expit(-0.1 + 2.2 * z)
    age = 18 + np.floor(46 * rng.beta(2.0, 2.6 - 0.9 * z)).astype(np.int64)
    old = rng.random(n) < 0.01
    age[old] = rng.integers(65, 76, int(old.sum()))
    fodelsear = year0 - age
    edu_logits = np.stack([1.4 * z, np.full(n, 0.55), -0.1 - 1.4 * z], axis=1)
    edu_p = np.exp(edu_logits)
    edu_p = 0.92 * edu_p / edu_p.sum(axis=1, keepdims=True)
    edu_p = np.concatenate([edu_p, np.full((n, 1), 0.08)], axis=1)
    utbildning = np.array(["forgymnasial", "gymnasial", "eftergymnasial", "okand"], dtype=object)[
        _choose_rows(rng, edu_p)
    ]
    groups = np.array(["arbetsloshet", "ohalsa", "sociala_skal", "ovrigt"], dtype=object)
    g_p = np.stack([np.full(n, 0.50), 0.22 + 0.05 * z, np.full(n, 0.10), 0.18 - 0.05 * z], axis=1)
    grp = groups[_choose_rows(rng, g_p)]
    hinder = np.empty(n, dtype=object)
    for g in groups:
        m = grp == g
        hinder[m] = _choose(rng, _HINDER_CODES[g], _HINDER_SUB_P[g], int(m.sum()))
    # etableringsersättning only for persons born abroad
    hinder[(hinder == "arbetslos_etablering") & ~utrikes] = "arbetslos_ingen_ersattning"
    long = rng.random(n) < 0.30 + 0.25 * z
    # households: about 15 % of persons share a household with the person before them (same area)
    same = np.r_[False, (rng.random(n - 1) < 0.15) & (a[1:] == a[:-1])] if n > 1 else np.zeros(n, bool)
    same[1:] &= ~same[:-1]
    hushall = _ids("H", n)[np.cumsum(~same) - 1]
    return dict(
        area=a,
        z=z,
        kon=kon,
        utrikes=utrikes,
        fodelsear=fodelsear,
        utbildning=utbildning,
        grp=grp,
        hinder=hinder,
        long=long,
        hushall=hushall,
    )


def _months(kind: str):
    year0, n_years = _PERIOD[kind]
    m = 12 * n_years
    starts = np.array([np.datetime64(f"{year0 + i // 12}-{i % 12 + 1:02d}-01") for i in range(m + 1)])
    return m, starts


def _month_of(days: np.ndarray, starts: np.ndarray) -> np.ndarray:
    return np.searchsorted(starts, days, side="right") - 1


def generate_tables(
    kind: str,
    *,
    seed: int = 1,
    persons: int | None = None,
    areas: list[str] | None = None,
    kommun: tuple[str, str] | None = None,
) -> tuple[dict[str, pd.DataFrame], dict]:
    """All tables of a synthetic study as typed DataFrames, and the ``studie.json`` metadata.

    Dates and months are ``datetime64[ns]`` (months on day 1), booleans ``boolean``, codes plain
    text; the frames can be passed to ``Study.from_frames``. Deterministic for a seed.
    ``areas``: only these area codes of the kind (their shares of recipients renormalised);
    ``kommun``: (code, name) of the municipality instead of the kind's.
    """
    _check_kind(kind)
    n = int(persons if persons is not None else _DEFAULT_PERSONS[kind])
    if n < 10:
        raise UsageError("minst 10 personer behövs")
    rng = np.random.default_rng(seed)
    year0, n_years = _PERIOD[kind]
    all_areas = _areas(kind)
    if areas is not None:
        unknown = sorted(set(areas) - set(all_areas["omrade_kod"]))
        if unknown or not areas:
            raise UsageError(f"okända områden för {kind}: {', '.join(unknown) or 'inga valda'}")
        all_areas = all_areas[all_areas["omrade_kod"].isin(areas)].reset_index(drop=True)
        all_areas["weight"] = all_areas["weight"] / all_areas["weight"].sum()
    areas = all_areas
    n_areas = len(areas)
    M, mstart = _months(kind)
    data_end = mstart[M] - np.timedelta64(1, "D")

    omraden = _omraden(kind, areas, rng, kommun)
    ins = _insatser(kind, areas, n, rng)
    medel = _medel(kind, areas, ins, rng)
    P = _persons(kind, areas, n, rng)
    a = P["area"]
    arb = P["grp"] == "arbetsloshet"

    # ---- assistance spells
    present = rng.random(n) < np.where(P["long"], 0.85, 0.22)
    entry = np.where(present, 0, rng.integers(1, M, n))
    dur = rng.geometric(np.where(P["long"], 0.025, 0.08))
    spell_end = np.minimum(entry + dur - 1, M - 1)
    exit_reason = np.full(n, None, dtype=object)
    day0 = mstart[entry]

    # ---- work-capacity assessments (sundbyberg)
    forced_start = np.full(n, np.datetime64("NaT"), dtype="datetime64[D]")
    late_floor = np.full(n, np.datetime64("NaT"), dtype="datetime64[D]")
    bedomningar = None
    if kind == "sundbyberg":
        newp = np.flatnonzero(entry > 0)
        ans = day0[newp] - rng.integers(0, 21, len(newp)).astype("timedelta64[D]")
        days = np.ceil(rng.gamma(2.0, 12.0, len(newp))).astype(np.int64)
        bed = ans + days.astype("timedelta64[D]")
        never = (rng.random(len(newp)) < 0.07) | (bed > data_end)
        g = P["grp"][newp]
        res_p = np.where(
            (g == "arbetsloshet")[:, None],
            [0.55, 0.25, 0.05, 0.15],
            np.where((g == "ohalsa")[:, None], [0.10, 0.35, 0.40, 0.15], [0.35, 0.30, 0.15, 0.20]),
        )
        res = np.array(["hel", "delvis", "ingen", "oklar"], dtype=object)[_choose_rows(rng, res_p)]
        metod = _choose(
            rng,
            ["Kartläggningssamtal", "Arbetsförmågebedömning", "Läkarintyg", "Praktisk arbetsprövning"],
            [0.45, 0.30, 0.15, 0.10],
            len(newp),
        )
        res[never] = None
        metod[never] = None
        bed_out = bed.astype("datetime64[ns]")
        bed_out[never] = np.datetime64("NaT")
        bedomningar = pd.DataFrame(
            {
                "person_id": None,
                "ansokan_datum": ans.astype("datetime64[ns]"),
                "bedomning_datum": bed_out,
                "metod": metod,
                "resultat": res,
                "_pos": newp,
            }
        )
        capable = ~never & np.isin(res, ["hel", "delvis"])
        p_go = np.where(res == "hel", _VAGIN["hel"], _VAGIN["delvis"])
        go = capable & (rng.random(len(newp)) < p_go)
        fs = bed + rng.integers(7, 85, len(newp)).astype("timedelta64[D]")
        forced_start[newp[go]] = fs[go]
        nogo = capable & ~go
        late_floor[newp[nogo]] = bed[nogo] + np.timedelta64(91, "D")

    # ---- participations
    rate = areas["offer"].to_numpy()[a] * np.where(arb, 1.0, _OTHER_GROUP_OFFER_FACTOR)
    K = (rng.random(n) < rate) * (1 + rng.poisson(np.where(arb, 3.0, 0.8)))
    K = np.minimum(K, 8)
    has_forced = ~np.isnat(forced_start)
    K[has_forced] = np.maximum(K[has_forced], 1)
    offer0 = day0 + np.floor(rng.gamma(1.4, 32.0, n)).astype("timedelta64[D]")
    start0 = offer0 + rng.integers(3, 25, n).astype("timedelta64[D]")
    start0 = np.maximum(start0, mstart[np.minimum(entry + 1, M)])
    has_floor = ~np.isnat(late_floor)
    start0[has_floor] = np.maximum(
        start0[has_floor],
        late_floor[has_floor] + np.floor(rng.gamma(1.5, 30.0, int(has_floor.sum()))).astype("timedelta64[D]"),
    )
    start0[has_forced] = np.maximum(forced_start[has_forced], mstart[np.minimum(entry[has_forced] + 1, M)])
    offer0[has_forced] = start0[has_forced] - rng.integers(3, 15, int(has_forced.sum())).astype("timedelta64[D]")
    fm = _month_of(start0[has_forced], mstart)
    ok = fm < M
    hf = np.flatnonzero(has_forced)[ok]
    spell_end[hf] = np.maximum(spell_end[hf], fm[ok])
    mover = rng.random(n) < 0.01
    move_to = (a + rng.integers(1, n_areas, n)) % n_areas

    chooser = _InterventionChooser(kind, ins, areas, year0, n_years)
    ins_cat = ins["kategori"].to_numpy(dtype=object)
    ins_lov = ins["lov"].to_numpy(dtype=bool)
    ins_nk = ins["narvarokrav"].to_numpy(dtype=bool)
    cat_eff = np.array([CATEGORY_EFFECTS.get(c, 0.0) for c in ins_cat])
    dur_mean = np.array([_DURATION_DAYS.get(c, 60) for c in ins_cat], float)
    weekly = np.array([_WEEKLY_HOURS.get(c, 10) for c in ins_cat], float)
    om = OUTCOME_MODEL
    kon_eff = np.where(P["kon"] == "K", om["kon"]["K"], om["kon"]["M"])
    edu_eff = pd.Series(P["utbildning"]).map(om["utbildning"]).to_numpy(float)
    grp_eff = pd.Series(P["grp"]).map(om["hindergrupp"]).to_numpy(float)
    ind_fixed = (
        om["b0"] + kon_eff + om["utrikes_fodd"] * P["utrikes"] + edu_eff + grp_eff + areas["effect"].to_numpy()[a]
    )
    reform = np.datetime64(_REFORM)

    alive = K > 0
    prev_end = np.full(n, np.datetime64("NaT"), dtype="datetime64[D]")
    parts = []
    for k in range(int(K.max()) if n else 0):
        idx = np.flatnonzero(alive & (k < K))
        if not len(idx):
            break
        if k == 0:
            start, offer = start0[idx], offer0[idx]
        else:
            start = prev_end[idx] + rng.integers(0, 45, len(idx)).astype("timedelta64[D]")
            offer = start - rng.integers(3, 20, len(idx)).astype("timedelta64[D]")
        sm = _month_of(start, mstart)
        ok = (start <= data_end) & (sm <= spell_end[idx])
        alive[idx[~ok]] = False
        idx, start, offer, sm = idx[ok], start[ok], offer[ok], sm[ok]
        if not len(idx):
            break
        m = len(idx)
        syear = year0 + sm // 12
        area_for = np.where(mover[idx] & (k >= 1), move_to[idx], a[idx])
        young = (syear - P["fodelsear"][idx]) <= 24
        which = chooser.draw(rng, area_for, young, sm // 12)
        d = np.maximum(14, np.round(rng.gamma(2.0, dur_mean[which] / 2.0))).astype(np.int64)
        end = start + d.astype("timedelta64[D]")
        ongoing = end > data_end
        em = _month_of(np.minimum(end, data_end), mstart)
        # months on assistance in the 12 calendar months before the start month
        lo = np.maximum(sm - 12, entry[idx])
        hi = np.minimum(sm - 1, spell_end[idx])
        before = np.maximum(0, hi - lo + 1)
        age = syear - P["fodelsear"][idx]
        logit = (
            ind_fixed[idx]
            + om["alder_per_10_ar_over_35"] * (age - 35) / 10.0
            + om["per_manad_bistand_12_man_fore_start"] * before
            + cat_eff[which]
        )
        success = ~ongoing & (rng.random(m) < _expit(logit))
        avslut = np.full(m, None, dtype=object)
        avslut[success] = np.where(rng.random(int(success.sum())) < 0.72, "arbete", "studier")
        fail = ~ongoing & ~success
        avslut[fail] = _choose(
            rng, ["slutford", "avbrott", "annan_myndighet", "ovrigt"], [0.45, 0.30, 0.12, 0.13], int(fail.sum())
        )
        # leaving assistance after work/studies
        leave = success & (rng.random(m) < _SUCCESS_LEAVES)
        li = idx[leave]
        spell_end[li] = np.minimum(spell_end[li], em[leave])
        exit_reason[li] = avslut[leave]
        alive[idx[success | ongoing]] = False
        prev_end[idx] = end
        # hours and attendance
        eff_end = np.minimum(end, data_end + np.timedelta64(1, "D"))
        weeks = (eff_end - start).astype(np.int64) / 7.0
        planned = np.round(weekly[which] * weeks * rng.uniform(0.8, 1.1, m))
        if kind == "sundbyberg":
            mean = np.where(start >= reform, _ATTENDANCE[kind]["efter_reform"], _ATTENDANCE[kind]["fore_reform"])
        else:
            mean = np.where(ins_nk[which], _ATTENDANCE[kind]["med_narvarokrav"], _ATTENDANCE[kind]["utan_narvarokrav"])
        share = rng.beta(mean * 8.0, (1 - mean) * 8.0)
        over = rng.random(m) < 0.015
        share[over] = rng.uniform(1.02, 1.2, int(over.sum()))
        narvaro = np.round(planned * share * 2) / 2
        u = rng.random(m)
        planned[u < 0.02] = 0.0
        narvaro[u < 0.02] = 0.0
        missing = (u >= 0.02) & (u < 0.05)
        planned[missing] = np.nan
        narvaro[missing & (rng.random(m) < 0.5)] = np.nan
        erb = offer.astype("datetime64[ns]")
        erb[rng.random(m) < 0.05] = np.datetime64("NaT")
        slut = end.astype("datetime64[ns]")
        slut[ongoing] = np.datetime64("NaT")
        vald = np.full(m, None, dtype=object)
        lov = ins_lov[which]
        vald[lov] = rng.random(int(lov.sum())) < _LOV_CHOSEN
        parts.append(
            pd.DataFrame(
                {
                    "_pos": idx,
                    "_k": k,
                    "insats_id": ins["insats_id"].to_numpy()[which],
                    "erbjuden_datum": erb,
                    "start_datum": start.astype("datetime64[ns]"),
                    "slut_datum": slut,
                    "planerade_timmar": planned,
                    "narvarotimmar": narvaro,
                    "avslut": avslut,
                    "vald_utforare": vald,
                }
            )
        )

    pid = _ids("P", n)
    # ---- deltaganden
    if parts:
        dl = pd.concat(parts, ignore_index=True).sort_values(["_pos", "_k"], kind="stable", ignore_index=True)
    else:
        dl = pd.DataFrame(
            columns=[
                "_pos",
                "_k",
                "insats_id",
                "erbjuden_datum",
                "start_datum",
                "slut_datum",
                "planerade_timmar",
                "narvarotimmar",
                "avslut",
                "vald_utforare",
            ]
        )
    deltaganden = pd.DataFrame(
        {"deltagande_id": _ids("D", len(dl)), "person_id": pid[dl["_pos"].to_numpy(dtype=np.int64)]}
    )
    for c in (
        "insats_id",
        "erbjuden_datum",
        "start_datum",
        "slut_datum",
        "planerade_timmar",
        "narvarotimmar",
        "avslut",
    ):
        deltaganden[c] = dl[c].to_numpy()
    deltaganden["vald_utforare"] = pd.array(dl["vald_utforare"].to_numpy(), dtype="boolean")
    for c in ("erbjuden_datum", "start_datum", "slut_datum"):
        deltaganden[c] = deltaganden[c].astype("datetime64[ns]")
    for c in ("planerade_timmar", "narvarotimmar"):
        deltaganden[c] = deltaganden[c].astype("float64")

    # ---- bistand
    lengths = spell_end - entry + 1
    rep = np.repeat(np.arange(n), lengths)
    offs = np.arange(len(rep)) - np.repeat(np.cumsum(lengths) - lengths, lengths)
    month_idx = entry[rep] + offs
    base = np.clip(rng.lognormal(np.log(8000), 0.30, n), 4000, 15000)
    belopp = np.round(np.clip(base[rep] * rng.normal(1.0, 0.07, len(rep)), 4000, 15000))
    # person_id and forsorjningshinder as categoricals: millions of rows, few distinct values
    hinder_codes, hinder_uniques = pd.factorize(P["hinder"], sort=True)
    bistand = pd.DataFrame(
        {
            "person_id": pd.Categorical.from_codes(rep, categories=pd.Index(pid, dtype="string")),
            "manad": mstart[:M].astype("datetime64[ns]")[month_idx],
            "belopp": belopp,
            "forsorjningshinder": pd.Categorical.from_codes(
                hinder_codes[rep], categories=pd.Index(hinder_uniques, dtype="string")
            ),
        }
    )

    # ---- avslut (first month without assistance, when inside the data)
    left = np.flatnonzero(spell_end < M - 1)
    reason = exit_reason[left]
    natural = pd.isna(reason)
    reason[natural] = _choose(
        rng,
        ["arbete", "studier", "annan_ersattning", "flyttat", "okand", "ovrigt"],
        [0.25, 0.07, 0.25, 0.12, 0.20, 0.11],
        int(natural.sum()),
    )
    avslut_t = pd.DataFrame(
        {"person_id": pid[left], "manad": mstart[spell_end[left] + 1].astype("datetime64[ns]"), "avslutsorsak": reason}
    )

    personer = pd.DataFrame(
        {
            "person_id": pid,
            "hushall_id": P["hushall"],
            "omrade_kod": areas["omrade_kod"].to_numpy()[a],
            "fodelsear": pd.array(P["fodelsear"], dtype="Int64"),
            "kon": P["kon"],
            "utrikes_fodd": pd.array(P["utrikes"], dtype="boolean"),
            "utbildning": P["utbildning"],
            "forsorjningshinder": P["hinder"],
        }
    )

    tables = {
        "omraden": omraden,
        "insatser": ins,
        "personer": personer,
        "bistand": bistand,
        "avslut": avslut_t,
        "deltaganden": deltaganden,
    }
    if bedomningar is not None:
        bedomningar["person_id"] = pid[bedomningar.pop("_pos").to_numpy()]
        tables["bedomningar"] = bedomningar
    tables["medel"] = medel
    tables = {name: tables[name] for name in TABLES if name in tables}

    meta = {
        "syntetisk": True,
        "beskrivning": _DESCRIPTION,
        "typ": kind,
        "seed": int(seed),
        "personer": n,
        "period": {"fran": f"{year0}-01", "till": f"{year0 + n_years - 1}-12"},
        "kommun_kod": (kommun or _KOMMUN[kind])[0],
        "planterade_effekter": _planted_for(kind, list(areas["omrade_kod"])),
        "anmarkningar": [
            "Ungefär 1 % av personerna flyttar mellan områden: deras senare deltaganden kan vara i ett annat "
            "områdes insatser, men personer.omrade_kod anger det första området.",
            "Feriejobb har inga deltaganden (deltagarna är skolungdomar, inte vuxna biståndsmottagare).",
            "avslut.manad är den första månaden utan bistånd.",
        ],
    }
    if kind == "sundbyberg":
        meta["reform_datum"] = _REFORM
    return tables, meta


class _InterventionChooser:
    """Draws an intervention per participation: by area, young (18–24) or not, and year index."""

    def __init__(self, kind, ins: pd.DataFrame, areas: pd.DataFrame, year0: int, n_years: int):
        codes = list(areas["omrade_kod"])
        n_a, n_i = len(codes), len(ins)
        cat = ins["kategori"].to_numpy(dtype=object)
        eligible = (cat != "feriejobb") & ins["raknas_som_insats"].to_numpy(dtype=bool)
        places = ins["platser"].to_numpy(dtype=float) * eligible
        mal = ins["malgrupp"].fillna("").to_numpy(dtype=object)
        young_only = np.array([m == "unga_18_24" for m in mal])
        adult_only = np.array(["vuxna_25_plus" in m.split(";") for m in mal])
        where = ins["omrade_kod"].to_numpy(dtype=object)
        fran = ins["giltig_fran"].dt.year.to_numpy(dtype=float, na_value=-np.inf)
        till = ins["giltig_till"].dt.year.to_numpy(dtype=float, na_value=np.inf)
        central = where == CENTRAL
        self.cum = np.zeros((n_a, 2, n_years, n_i))
        for ai, code in enumerate(codes):
            share_c = _STHLM_CENTRAL_SHARE.get(code, 0.25) if kind == "stockholm" else 0.85
            own = where == code
            for yg in (0, 1):
                age_ok = ~adult_only if yg else ~young_only
                for yi in range(n_years):
                    y = year0 + yi
                    valid = (fran <= y) & (till >= y) & age_ok & (places > 0)
                    w_own = places * (own & valid)
                    w_c = places * (central & valid)
                    s_own, s_c = w_own.sum(), w_c.sum()
                    if s_own == 0:
                        w = w_c
                    elif s_c == 0:
                        w = w_own
                    else:
                        w = w_own / s_own * (1 - share_c) + w_c / s_c * share_c
                    self.cum[ai, yg, yi] = np.cumsum(w) / w.sum()

    def draw(self, rng, area: np.ndarray, young: np.ndarray, year_idx: np.ndarray) -> np.ndarray:
        n_y = self.cum.shape[2]
        key = (area * 2 + young.astype(np.int64)) * n_y + np.clip(year_idx, 0, n_y - 1)
        u = rng.random(len(key))
        out = np.empty(len(key), dtype=np.int64)
        flat = self.cum.reshape(-1, self.cum.shape[-1])
        order = np.argsort(key, kind="stable")
        ks = key[order]
        bounds = np.flatnonzero(np.r_[True, ks[1:] != ks[:-1], True])
        for s, e in pairwise(bounds):
            sel = order[s:e]
            out[sel] = np.minimum(np.searchsorted(flat[ks[s]], u[sel], side="right"), flat.shape[1] - 1)
        return out


# --------------------------------------------------------------------------- writing
def _text_form(name: str, df: pd.DataFrame) -> pd.DataFrame:
    """The CSV form of a table: ISO dates, YYYY-MM months, Ja/Nej, empty for missing."""
    spec = TABLES[name]
    out = pd.DataFrame(index=df.index)
    for col in df.columns:
        kind = spec[col].kind if col in spec else "text"
        s = df[col]
        if kind in ("date", "month"):
            fmt = "%Y-%m-%d" if kind == "date" else "%Y-%m"
            codes, uniques = pd.factorize(s, use_na_sentinel=True)
            labels = np.array([u.strftime(fmt) for u in pd.DatetimeIndex(uniques)] + [""], dtype=object)
            out[col] = labels[codes]
        elif kind == "bool":
            b = s.astype("boolean")
            out[col] = np.where(b.isna(), "", np.where(b.fillna(False), "Ja", "Nej"))
        elif kind == "float":
            v = s.astype("float64")
            whole = v.dropna()
            if len(whole) and np.all(whole == np.round(whole)):
                out[col] = v.astype("Int64")
            else:
                out[col] = v
        else:
            out[col] = s
    return out


def _parquet_form(name: str, df: pd.DataFrame) -> pd.DataFrame:
    """Months as ``YYYY-MM`` text (a categorical: few distinct values); other columns as they are."""
    spec = TABLES[name]
    out = df.copy()
    for col in df.columns:
        if col in spec and spec[col].kind == "month":
            codes, uniques = pd.factorize(df[col])
            labels = pd.Index([u.strftime("%Y-%m") for u in pd.DatetimeIndex(uniques)], dtype="string")
            out[col] = pd.Categorical.from_codes(codes, categories=labels)
    return out


def _write_table(name: str, df: pd.DataFrame, folder: Path, fmt: str) -> Path:
    """Write one table into folder (tests monkeypatch this to simulate a failure)."""
    if fmt == "parquet":
        frame = _parquet_form(name, df)
        arrow_type = {"date": pa.date32(), "bool": pa.bool_(), "int": pa.int64(), "float": pa.float64()}
        columns = []
        for col in frame.columns:
            kind = TABLES[name][col].kind if col in TABLES[name] else "text"
            arr = pa.Table.from_pandas(frame[[col]], preserve_index=False).column(0)
            columns.append(arr.cast(arrow_type.get(kind, pa.string())))
        table = pa.Table.from_arrays(columns, names=list(frame.columns))
        path = folder / f"{name}.parquet"
        pq.write_table(table, path, compression="zstd")
        return path
    path = folder / f"{name}.csv"
    _text_form(name, df).to_csv(path, index=False, encoding="utf-8", lineterminator="\n", na_rep="")
    return path


def _is_replaceable(out: Path) -> bool:
    """An existing folder may be replaced when it is empty or holds generated (synthetic) data."""
    if not any(out.iterdir()):
        return True
    meta = out / "studie.json"
    if not meta.is_file():
        return False
    try:
        return bool(json.loads(meta.read_text(encoding="utf-8")).get("syntetisk"))
    except (ValueError, OSError):
        return False


def generate(kind: str, out: Path | str, *, seed: int = 1, persons: int | None = None, fmt: str = "csv") -> Path:
    """Write a synthetic study folder (one file per table + ``studie.json``) and return its path.

    The folder is built in a temporary sibling and renamed into place; an existing folder is
    replaced only after the new one is complete, and only when it is empty or itself generated
    example data (its ``studie.json`` says ``"syntetisk": true``), so a folder of real data is
    never overwritten.
    """
    _check_kind(kind)
    if fmt not in ("csv", "parquet"):
        raise UsageError(f"okänt filformat {fmt!r}: välj csv eller parquet")
    out = Path(out).resolve()
    _check_replaceable(out)
    tables, meta = generate_tables(kind, seed=seed, persons=persons)
    return _write_study(out, tables, meta, fmt)


def _check_replaceable(out: Path) -> None:
    if out.exists():
        if not out.is_dir():
            raise FileExistsError(f"{out} finns redan och är ingen mapp")
        if not _is_replaceable(out):
            raise FileExistsError(
                f"{out} finns redan och innehåller inte syntetiska exempeldata; välj en ny eller tom mapp"
            )


def _write_study(out: Path, tables: dict[str, pd.DataFrame], meta: dict, fmt: str) -> Path:
    """Write a generated study into ``out`` (built beside it and renamed into place)."""
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.ny-", dir=out.parent))
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(tmp, 0o777 & ~umask)  # mkdtemp makes the folder private; give it the usual permissions
    try:
        for name, df in tables.items():
            _write_table(name, df, tmp, fmt)
        (tmp / "studie.json").write_text(json.dumps(meta, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
        old = None
        if out.exists():
            old = Path(tempfile.mkdtemp(prefix=f".{out.name}.gammal-", dir=out.parent))
            old.rmdir()
            out.rename(old)
        try:
            tmp.rename(out)
        except BaseException:
            if old is not None:
                old.rename(out)
            raise
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return out


MUNICIPALITY_PERSONS = 1_500
"""Median number of persons of a generated municipality (``generate_municipalities``)."""
MAX_MUNICIPALITIES = 999


def generate_municipalities(
    out: Path | str, *, count: int, seed: int = 1, persons: int | None = None, fmt: str = "csv"
) -> list[Path]:
    """Write ``count`` generated municipalities of varied size into ``out/kommun_01`` … (see the
    module docstring) and return their folders. Existing folders are replaced only when they hold
    generated data, as in ``generate``. Deterministic for a seed."""
    if fmt not in ("csv", "parquet"):
        raise UsageError(f"okänt filformat {fmt!r}: välj csv eller parquet")
    if not 1 <= count <= MAX_MUNICIPALITIES:
        raise UsageError(f"antalet kommuner måste vara 1–{MAX_MUNICIPALITIES}, fick {count}")
    median = int(persons if persons is not None else MUNICIPALITY_PERSONS)
    if median < 40:
        raise UsageError("minst 40 personer per kommun behövs (--persons)")
    out = Path(out).resolve()
    if out.exists() and not out.is_dir():
        raise FileExistsError(f"{out} finns redan och är ingen mapp")
    codes = list(_areas("stockholm")["omrade_kod"])
    width = max(2, len(str(count)))
    plans = []
    for i in range(count):
        rng = np.random.default_rng([seed, i])
        k = int(rng.integers(3, len(codes) + 1))
        chosen = sorted(rng.choice(len(codes), size=k, replace=False))
        n = max(10, round(median * float(np.exp(rng.uniform(np.log(0.25), np.log(4.0))))))
        folder = out / f"kommun_{i + 1:0{width}d}"
        _check_replaceable(folder)
        plans.append((folder, [codes[j] for j in chosen], n, int(rng.integers(2**31)), i))
    written = []
    for folder, areas, n, study_seed, i in plans:
        kommun = (f"{9001 + i}", f"Exempelkommun {i + 1}")
        tables, meta = generate_tables("stockholm", seed=study_seed, persons=n, areas=areas, kommun=kommun)
        meta["typ"] = "kommuner"
        meta["kommun"] = kommun[1]
        meta["serie"] = {"seed": int(seed), "nummer": i + 1, "antal": count}
        written.append(_write_study(folder, tables, meta, fmt))
    return written
