"""What the generated studies are made of: the kinds, the real public figures they start from
(Stockholm's districts, Sundbyberg's areas, with their sources) and every planted effect and rate.

``planted_effects(kind)`` is what ``studie.json`` records and what the tests and analyses check
their estimates against; the other constants (rates, costs, durations, names) are read only by
the other modules of ``insats.intake.synth``.
"""

from __future__ import annotations

import json
from typing import Any

from insats.errors import UsageError

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
DISTRICT_EFFECTS = {
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
"""Individual coefficients (logit) of the planted outcome model (see the package docstring)."""

OFFER_RATES = {
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
OTHER_GROUP_OFFER_FACTOR = 0.30
SUCCESS_LEAVES = 0.85
LOV_CHOSEN = 0.80
ATTENDANCE = {
    "stockholm": {"med_narvarokrav": 0.80, "utan_narvarokrav": 0.68},
    "sundbyberg": {"fore_reform": 0.70, "efter_reform": 0.82},
}
VAGIN = {"hel": 0.70, "delvis": 0.50}
AVBROTT = {"fore_reform": 0.30, "efter_reform_med_narvarokrav": 0.40}
"""Share ``avbrott`` among unsuccessful endings (avslut other than arbete/studier). Sundbyberg: from
``efter_reform_med_narvarokrav`` for participations started on or after the reform in interventions with
närvarokrav (``tables._plant_avbrott``); Stockholm: ``fore_reform`` throughout."""
DISTANCE: dict[str, Any] = {
    "koder": ["nara", "mellan", "langt"],
    "andelar": {  # P(avstånd | hindergrupp) in an area with z = 0, a recipient who is not long-term
        "arbetsloshet": [0.45, 0.40, 0.15],
        "ohalsa": [0.08, 0.32, 0.60],
        "sociala_skal": [0.12, 0.40, 0.48],
        "ovrigt": [0.35, 0.40, 0.25],
    },
    "z_logit": [-0.5, 0.0, 0.5],  # added per unit of the area's z (disadvantaged areas: further away)
    "langvarig_logit": [-0.4, 0.0, 0.4],  # long-term recipients: further away
    "insats_logit": {"nara": -1.5, "mellan": 0.8, "langt": -2.2},
}
"""Distance to the labour market (``personer.arbetsmarknadsavstand``): its distribution and the planted effect
on getting an intervention (``insats_logit``: log odds added per distance, calibrated per person so that the
probability of an intervention given area and hinder group stays ``sannolikhet_deltagande``); see
``insats.intake.synth.distance``."""
# En väg in, the organisation around the assessment (both kinds; drawn from a stream of its own,
# ``numpy.random.default_rng([seed, ASSESSMENT_STREAM])``, so the other tables are unchanged).
ASSESSMENT_STREAM = 19
ASSESSMENT_RESULT_P = {  # resultat hel, delvis, ingen, oklar per hinder group (as Sundbyberg's first draw)
    "arbetsloshet": (0.55, 0.25, 0.05, 0.15),
    "ohalsa": (0.10, 0.35, 0.40, 0.15),
    "ovriga": (0.35, 0.30, 0.15, 0.20),
}
STHLM_CAPABLE_WEIGHT = 3.0
"""Stockholm: weight of hel and delvis in the result draw of a person who starts an insats within
90 days of the assessment (the participations are drawn first and are not changed)."""
ASSESSMENT_UNITS: dict[str, dict[str, Any]] = {
    # first unit (assessing), its share, and where it hands over to: capable (hel/delvis) or not
    "sundbyberg": {
        "enheter": {"Mottagningsenheten": 0.70, "Arbetsmarknadsenheten": 0.30},
        "overlamning": {
            "Mottagningsenheten": ("Arbetsmarknadsenheten", "Vuxenenheten"),
            "Arbetsmarknadsenheten": ("Jobbcenter", "Mottagningsenheten"),
        },
    },
    "stockholm": {
        "enheter": {"Försörjningsstöd {omrade}": 0.70, "Jobbtorg Stockholm": 0.30},
        "overlamning": {
            "Försörjningsstöd {omrade}": ("Jobbtorg Stockholm", "Socialpsykiatri {omrade}"),
            "Jobbtorg Stockholm": ("Försörjningsstöd {omrade}", "Försörjningsstöd {omrade}"),
        },
    },
}
HANDOVER = {"insats_inom_90_dagar": 0.10, "ingen_insats_inom_90_dagar": 0.35}
"""P(an assessed application is handed over to another unit) by whether the person starts an
insats 0–90 days after the assessment: hand-overs go with a longer wait to an insats."""
REASSESSED = {"oklar": 0.40, "ovriga": 0.05}
"""P(a person assessed in the data is assessed once more, after a new application 30–150 days
after the first assessment while still on assistance) by the first result."""
STHLM_ASSESSMENT_DAYS = (2.0, 12.0)  # gamma(shape, scale) days from application to assessment
STHLM_NEVER_ASSESSED = 0.07
REFORM = "2016-01-01"
MAX_LINE = 400_000_000  # kr: the largest spending line (see medel_table)

# Stockholm: districts that count feriejobb as an intervention (the 2013 kartläggning found both practices).
FERIEJOBB_COUNTED = {"rinkeby_kista", "spanga_tensta", "skarholmen", "hasselby_vallingby", "farsta"}

# Stockholm offer per district: kategori:regi (E egen_omrade, U upphandlad, I ideell, A arbetsformedlingen).
STHLM_OFFER = {
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
STHLM_CENTRAL_SHARE = {
    "kungsholmen": 0.7,
    "ostermalm": 0.7,
    "norrmalm": 0.6,
    "sodermalm": 0.5,
    "alvsjo": 0.55,
    "bromma": 0.45,
}
REGI_LETTER = {"E": "egen_omrade", "U": "upphandlad", "I": "ideell", "A": "arbetsformedlingen"}

CATEGORY_NAMES = {
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
PROVIDERS = {
    "upphandlad": ["Jobbsprånget AB", "Framtidsvägen AB", "Kompetensporten AB", "Nästa Steg AB"],
    "ideell": ["Föreningen Bryggan", "Idéburna nätverket Ny Start", "Kvinnocentrum i samverkan"],
    "arbetsformedlingen": ["Arbetsförmedlingen"],
}
COST = {  # kr per place and month
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
PLACE_FRAC = {  # places per expected unemployed recipient of the area
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
MALGRUPP = {
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
DURATION_DAYS = {  # mean duration of a participation
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
WEEKLY_HOURS = {
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
DEFAULT_PERSONS = {"stockholm": 25_000, "sundbyberg": 1_500}
PERIOD = {"stockholm": (2012, 2), "sundbyberg": (2015, 2)}  # first year, number of years
KOMMUN = {"stockholm": ("0180", "Stockholm"), "sundbyberg": ("0183", "Sundbyberg")}
DESCRIPTION = "Syntetiska exempeldata – inga verkliga personer"


def planted_effects(kind: str) -> dict:
    """The effects planted in a kind's data (also in ``studie.json["planterade_effekter"]``).

    Keys: ``modell`` (text), ``individuella`` (OUTCOME_MODEL), ``omrade`` (logit per omrade_kod),
    ``kategori`` (logit per kategori), ``kategori_ordning``, ``sannolikhet_deltagande`` (probability
    that a recipient in hinder group arbetsloshet gets any participation, per area; other groups
    times a factor — the measure ``erbjudande_andel``, within 90 days, comes out lower), ``narvaro_medel``,
    ``lov_andel_valt``, ``andel_lamnar_bistand_efter_arbete_studier``, ``arbetsmarknadsavstand`` (the distance to
    the labour market: its distribution and planted effect on getting an intervention), ``bedomning_dagar``,
    ``vagin_organisation`` (assessing units, hand-overs, second assessments); Sundbyberg also
    ``vagin_andel_insats_90_dagar``, ``reform_datum`` and ``avbrott_andel_av_avslut_utan_arbete_studier`` (the
    planted rise in drop-outs after the reform); Stockholm ``vagin_resultat``.
    """
    check_kind(kind)
    cat_order = sorted(CATEGORY_EFFECTS, key=lambda c: -CATEGORY_EFFECTS[c])
    out = {
        "modell": "P(avslut arbete/studier) = logistic(b0 + individuella effekter + omrade[omrade_kod] "
        "+ kategori[kategori]) för varje avslutat deltagande",
        "individuella": json.loads(json.dumps(OUTCOME_MODEL)),
        "omrade": dict(DISTRICT_EFFECTS[kind]),
        "kategori": dict(CATEGORY_EFFECTS),
        "kategori_ordning": cat_order,
        "sannolikhet_deltagande": {
            "arbetsloshet": dict(OFFER_RATES[kind]),
            "ovriga_grupper_faktor": OTHER_GROUP_OFFER_FACTOR,
            "anmarkning": "sannolikheten att alls få ett deltagande; måttet erbjudande_andel (inom 90 dagar "
            "från första biståndsmånaden) blir lägre",
        },
        "narvaro_medel": dict(ATTENDANCE[kind]),
        "lov_andel_valt": LOV_CHOSEN,
        "andel_lamnar_bistand_efter_arbete_studier": SUCCESS_LEAVES,
        "sammansattning": "områden med högre andel utrikes födda, förgymnasial utbildning och långvarigt "
        "bistånd har positiva sanna områdeseffekter",
    }
    if kind == "stockholm":
        out["feriejobb_raknas_som_insats"] = sorted(FERIEJOBB_COUNTED)
    else:
        out["vagin_andel_insats_90_dagar"] = dict(VAGIN)
        out["reform_datum"] = REFORM
        out["avbrott_andel_av_avslut_utan_arbete_studier"] = {
            **AVBROTT,
            "anmarkning": "deltaganden som började från reformdatum i insatser med närvarokrav; andelen avbrott "
            "bland alla avslutade blir lägre (en del avslutas till arbete eller studier)",
        }
    out["arbetsmarknadsavstand"] = {
        "andelar_per_hindergrupp": {g: dict(zip(DISTANCE["koder"], p)) for g, p in DISTANCE["andelar"].items()},
        "forskjutning_per_z": dict(zip(DISTANCE["koder"], DISTANCE["z_logit"])),
        "forskjutning_langvarig": dict(zip(DISTANCE["koder"], DISTANCE["langvarig_logit"])),
        "insats_logit": dict(DISTANCE["insats_logit"]),
        "anmarkning": "logit P(någon insats) = logit(sannolikhet_deltagande) + insats_logit[avstånd] + c, där c "
        "väljs per person så att sannolikheten givet område och hindergrupp är oförändrad: personer mellan nära "
        "och långt från arbetsmarknaden får klart oftare en insats än de som står närmast eller längst ifrån "
        "(pressmeddelandet 2016). Avståndet dras ur en egen slumpström ([seed, 17]) givet om personen fick en "
        "insats (samma simultana fördelning), så att alla andra genererade värden är desamma som utan avståndet.",
    }
    out["bedomning_dagar"] = {"fordelning": "gamma(2, 12)", "median_ungefar": 20, "andel_aldrig": 0.07}
    out["vagin_organisation"] = {
        "bedomande_enheter": {
            k.replace("{omrade}", "<område>"): v for k, v in ASSESSMENT_UNITS[kind]["enheter"].items()
        },
        "sannolikhet_overlamnad": dict(HANDOVER),
        "sannolikhet_bedomd_igen": dict(REASSESSED),
        "anmarkning": "överlämningar dras efter deltagandena, utifrån om personen började en insats 0–90 dagar "
        "efter bedömningen: sambandet (överlämnade väntar längre på en insats) är planterat som samband, inte som "
        "orsak. En ny bedömning har ett eget ansökningsdatum 30–150 dagar efter den första bedömningen.",
    }
    if kind == "stockholm":
        out["vagin_resultat"] = (
            f"resultatet dras per försörjningshinder; för den som börjar en insats inom 90 dagar väger hel och "
            f"delvis arbetsförmåga {STHLM_CAPABLE_WEIGHT:g} gånger mer"
        )
    return out


def planted_for(kind: str, codes: list[str]) -> dict:
    """``planted_effects(kind)`` with the per-area effects of ``codes`` only."""
    out = planted_effects(kind)
    out["omrade"] = {c: v for c, v in out["omrade"].items() if c in codes}
    rates = out["sannolikhet_deltagande"]
    rates["arbetsloshet"] = {c: v for c, v in rates["arbetsloshet"].items() if c in codes}
    if "feriejobb_raknas_som_insats" in out:
        out["feriejobb_raknas_som_insats"] = [c for c in out["feriejobb_raknas_som_insats"] if c in codes]
    return out


def check_kind(kind: str) -> None:
    if kind not in KINDS:
        raise UsageError(f"okänd typ {kind!r}: välj stockholm eller sundbyberg")
