"""The areas of a generated study and what they offer: ``omraden`` (areas per year), the
intervention catalogue ``insatser`` (own, central, procured, civil-society and Public Employment
Service interventions, with places, target groups and validity) and the money table ``medel``."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from insats.contract import CENTRAL, fold
from insats.intake.synth.model import (
    CATEGORY_NAMES,
    COST,
    DEFAULT_PERSONS,
    DISTRICT_EFFECTS,
    FERIEJOBB_COUNTED,
    KOMMUN,
    MALGRUPP,
    MAX_LINE,
    OFFER_RATES,
    PERIOD,
    PLACE_FRAC,
    PROVIDERS,
    REFORM,
    REGI_LETTER,
    STHLM_OFFER,
    STOCKHOLM_DISTRICTS,
    SUNDBYBERG_AREAS,
)


# --------------------------------------------------------------------------- areas and catalogues
def area_table(kind: str) -> pd.DataFrame:
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
            "effect": [DISTRICT_EFFECTS[kind][c] for c in codes],
            "offer": [OFFER_RATES[kind][c] for c in codes],
        }
    )


def omraden_table(kind: str, areas: pd.DataFrame, rng, kommun_kod: tuple[str, str] | None = None) -> pd.DataFrame:
    year0, n_years = PERIOD[kind]
    kod, kommun = kommun_kod or KOMMUN[kind]
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
            for item in STHLM_OFFER[code].split():
                cat, letter = item.split(":")
                regi = REGI_LETTER[letter]
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
                    raknas_som_insats=code in FERIEJOBB_COUNTED,
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
        before, reform = "2015-12-31", REFORM
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


def insatser_table(kind: str, areas: pd.DataFrame, n_persons: int, rng) -> pd.DataFrame:
    rows = _catalogue_rows(kind, areas)
    weight = dict(zip(areas["omrade_kod"], areas["weight"]))
    pop = dict(zip(areas["omrade_kod"], areas["pop"]))
    scale = n_persons / DEFAULT_PERSONS[kind]
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
            base = n_persons * 0.5 * PLACE_FRAC[cat] * (0.6 if kind == "stockholm" else 0.4) * jitter
        else:
            base = n_persons * weight[code] * 0.5 * PLACE_FRAC[cat] * jitter
            if kind == "sundbyberg":
                base *= 0.5
        platser = max(3, round(base * (scale if cat == "feriejobb" else 1.0)))
        cost = round(COST[cat] * rng.uniform(0.85, 1.2) / 100) * 100
        if "name" in r:
            namn = r["name"]
        elif r.get("unga"):
            namn = f"Ungdomsjobb och coachning 18–24 – {r['area_name']}"
        elif code == CENTRAL:
            namn = f"Jobbtorg Stockholm – {CATEGORY_NAMES[cat].lower()}"
        else:
            namn = f"{CATEGORY_NAMES[cat]} – {r['area_name']}"
        if "utforare" in r:
            utf = r["utforare"]
        elif regi == "egen_omrade":
            utf = f"{r['area_name']} stadsdelsförvaltning"
        elif regi == "egen_central":
            utf = "Jobbtorg Stockholm"
        else:
            prov = PROVIDERS[regi]
            utf = prov[int(rng.integers(len(prov)))]
        malgrupp = "unga_18_24" if r.get("unga") else MALGRUPP[cat]
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


def medel_table(kind: str, areas: pd.DataFrame, ins: pd.DataFrame, rng) -> pd.DataFrame:
    year0, n_years = PERIOD[kind]
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
        parts = max(1, math.ceil(belopp / MAX_LINE))
        split.extend([(code, y, cat, float(np.round(belopp / parts, -3)), counted)] * parts)
    df = pd.DataFrame(split, columns=["omrade_kod", "ar", "kategori", "belopp", "raknas_som_insats"])
    return df.astype({"ar": "Int64", "raknas_som_insats": "boolean"})
