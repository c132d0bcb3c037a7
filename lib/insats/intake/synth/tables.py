"""Persons, households and events of a generated study, and ``generate_tables``, which draws every
table from one seed: ``personer``, ``bistand``, ``avslut``, ``deltaganden`` (with the planted
outcome model and attendance), ``bedomningar`` (with units, hand-overs and second assessments:
``insats.intake.synth.assessments``) and the catalogues of
``insats.intake.synth.catalogue``, plus the ``studie.json`` metadata."""

from __future__ import annotations

from itertools import pairwise

import numpy as np
import pandas as pd

from insats.contract import CENTRAL, HINDERGRUPP, TABLES
from insats.errors import UsageError
from insats.intake.synth.assessments import assessment_table
from insats.intake.synth.catalogue import area_table, insatser_table, medel_table, omraden_table
from insats.intake.synth.distance import labour_market_distance
from insats.intake.synth.draws import choose, choose_rows, expit, make_ids
from insats.intake.synth.model import (
    ATTENDANCE,
    AVBROTT,
    CATEGORY_EFFECTS,
    DEFAULT_PERSONS,
    DESCRIPTION,
    DURATION_DAYS,
    KOMMUN,
    LOV_CHOSEN,
    OTHER_GROUP_OFFER_FACTOR,
    OUTCOME_MODEL,
    PERIOD,
    REFORM,
    STHLM_CENTRAL_SHARE,
    SUCCESS_LEAVES,
    VAGIN,
    WEEKLY_HOURS,
    check_kind,
    planted_for,
)

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
    year0, _ = PERIOD[kind]
    a = np.sort(rng.choice(len(areas), size=n, p=areas["weight"].to_numpy()))
    z = areas["z"].to_numpy()[a]
    kon = np.where(rng.random(n) < 0.48, "M", "K").astype(object)
    utrikes = rng.random(n) < expit(-0.1 + 2.2 * z)
    age = 18 + np.floor(46 * rng.beta(2.0, 2.6 - 0.9 * z)).astype(np.int64)
    old = rng.random(n) < 0.01
    age[old] = rng.integers(65, 76, int(old.sum()))
    fodelsear = year0 - age
    edu_logits = np.stack([1.4 * z, np.full(n, 0.55), -0.1 - 1.4 * z], axis=1)
    edu_p = np.exp(edu_logits)
    edu_p = 0.92 * edu_p / edu_p.sum(axis=1, keepdims=True)
    edu_p = np.concatenate([edu_p, np.full((n, 1), 0.08)], axis=1)
    utbildning = np.array(["forgymnasial", "gymnasial", "eftergymnasial", "okand"], dtype=object)[
        choose_rows(rng, edu_p)
    ]
    groups = np.array(["arbetsloshet", "ohalsa", "sociala_skal", "ovrigt"], dtype=object)
    g_p = np.stack([np.full(n, 0.50), 0.22 + 0.05 * z, np.full(n, 0.10), 0.18 - 0.05 * z], axis=1)
    grp = groups[choose_rows(rng, g_p)]
    hinder = np.empty(n, dtype=object)
    for g in groups:
        m = grp == g
        hinder[m] = choose(rng, _HINDER_CODES[g], _HINDER_SUB_P[g], int(m.sum()))
    # etableringsersättning only for persons born abroad
    hinder[(hinder == "arbetslos_etablering") & ~utrikes] = "arbetslos_ingen_ersattning"
    long = rng.random(n) < 0.30 + 0.25 * z
    # households: about 15 % of persons share a household with the person before them (same area)
    same = np.r_[False, (rng.random(n - 1) < 0.15) & (a[1:] == a[:-1])] if n > 1 else np.zeros(n, bool)
    same[1:] &= ~same[:-1]
    hushall = make_ids("H", n)[np.cumsum(~same) - 1]
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
    year0, n_years = PERIOD[kind]
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
    area_codes: list[str] | None = None,
    kommun: tuple[str, str] | None = None,
) -> tuple[dict[str, pd.DataFrame], dict]:
    """All tables of a synthetic study as typed DataFrames, and the ``studie.json`` metadata.

    Dates and months are ``datetime64[ns]`` (months on day 1), booleans ``boolean``, codes plain
    text; the frames can be passed to ``Study.from_frames``. Deterministic for a seed.
    ``area_codes``: only these areas of the kind (their shares of recipients renormalised);
    ``kommun``: (code, name) of the municipality instead of the kind's.
    """
    check_kind(kind)
    n = int(persons if persons is not None else DEFAULT_PERSONS[kind])
    if n < 10:
        raise UsageError("minst 10 personer behövs")
    rng = np.random.default_rng(seed)
    year0, n_years = PERIOD[kind]
    areas = area_table(kind)
    if area_codes is not None:
        unknown = sorted(set(area_codes) - set(areas["omrade_kod"]))
        if unknown or not area_codes:
            raise UsageError(f"okända områden för {kind}: {', '.join(unknown) or 'inga valda'}")
        areas = areas[areas["omrade_kod"].isin(area_codes)].reset_index(drop=True)
        areas["weight"] = areas["weight"] / areas["weight"].sum()
    n_areas = len(areas)
    M, mstart = _months(kind)
    data_end = mstart[M] - np.timedelta64(1, "D")

    omraden = omraden_table(kind, areas, rng, kommun)
    ins = insatser_table(kind, areas, n, rng)
    medel = medel_table(kind, areas, ins, rng)
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

    # ---- work-capacity assessments (sundbyberg's first ones; the rest in assessment_table below)
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
        res = np.array(["hel", "delvis", "ingen", "oklar"], dtype=object)[choose_rows(rng, res_p)]
        metod = choose(
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
        p_go = np.where(res == "hel", VAGIN["hel"], VAGIN["delvis"])
        go = capable & (rng.random(len(newp)) < p_go)
        fs = bed + rng.integers(7, 85, len(newp)).astype("timedelta64[D]")
        forced_start[newp[go]] = fs[go]
        nogo = capable & ~go
        late_floor[newp[nogo]] = bed[nogo] + np.timedelta64(91, "D")

    # ---- participations
    rate = areas["offer"].to_numpy()[a] * np.where(arb, 1.0, OTHER_GROUP_OFFER_FACTOR)
    got_insats = rng.random(n) < rate
    K = got_insats * (1 + rng.poisson(np.where(arb, 3.0, 0.8)))
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
    dur_mean = np.array([DURATION_DAYS.get(c, 60) for c in ins_cat], float)
    weekly = np.array([WEEKLY_HOURS.get(c, 10) for c in ins_cat], float)
    om = OUTCOME_MODEL
    kon_eff = np.where(P["kon"] == "K", om["kon"]["K"], om["kon"]["M"])
    edu_eff = pd.Series(P["utbildning"]).map(om["utbildning"]).to_numpy(float)
    grp_eff = pd.Series(P["grp"]).map(om["hindergrupp"]).to_numpy(float)
    ind_fixed = (
        om["b0"] + kon_eff + om["utrikes_fodd"] * P["utrikes"] + edu_eff + grp_eff + areas["effect"].to_numpy()[a]
    )
    reform = np.datetime64(REFORM)
    rng_avbrott = np.random.default_rng([seed, 18])  # a stream of its own: the main stream is unchanged

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
        success = ~ongoing & (rng.random(m) < expit(logit))
        avslut = np.full(m, None, dtype=object)
        avslut[success] = np.where(rng.random(int(success.sum())) < 0.72, "arbete", "studier")
        fail = ~ongoing & ~success
        avslut[fail] = choose(
            rng,
            ["slutford", "avbrott", "annan_myndighet", "ovrigt"],
            [0.45, AVBROTT["fore_reform"], 0.12, 0.13],
            int(fail.sum()),
        )
        if kind == "sundbyberg":
            _plant_avbrott(avslut, start >= reform, ins_nk[which], rng_avbrott)
        # leaving assistance after work/studies
        leave = success & (rng.random(m) < SUCCESS_LEAVES)
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
            mean = np.where(start >= reform, ATTENDANCE[kind]["efter_reform"], ATTENDANCE[kind]["fore_reform"])
        else:
            mean = np.where(ins_nk[which], ATTENDANCE[kind]["med_narvarokrav"], ATTENDANCE[kind]["utan_narvarokrav"])
        share = rng.beta(mean * 8.0, (1 - mean) * 8.0)
        # drawn and thrown away: the stream stays as it was when ~1.5 % attended more than planned (which the
        # validator warns about); generated studies must pass their own validation without warnings
        over = rng.random(m) < 0.015
        rng.uniform(1.02, 1.2, int(over.sum()))
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
        vald[lov] = rng.random(int(lov.sum())) < LOV_CHOSEN
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

    pid = make_ids("P", n)
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
        {"deltagande_id": make_ids("D", len(dl)), "person_id": pid[dl["_pos"].to_numpy(dtype=np.int64)]}
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

    # ---- bedomningar: units, hand-overs, second assessments (and Stockholm's assessments), own stream
    bedomningar = assessment_table(
        kind,
        bedomningar,
        seed=seed,
        areas=areas,
        person_area=a,
        grp=P["grp"],
        entry=entry,
        day0=day0,
        spell_end=spell_end,
        mstart=mstart,
        data_end=data_end,
        part_pos=dl["_pos"].to_numpy(dtype=np.int64),
        part_start=dl["start_datum"].to_numpy(dtype="datetime64[ns]"),
    )

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
    reason[natural] = choose(
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
    personer["arbetsmarknadsavstand"] = labour_market_distance(seed, P["grp"], P["z"], P["long"], rate, got_insats)

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
        "beskrivning": DESCRIPTION,
        "typ": kind,
        "seed": int(seed),
        "personer": n,
        "period": {"fran": f"{year0}-01", "till": f"{year0 + n_years - 1}-12"},
        "kommun_kod": (kommun or KOMMUN[kind])[0],
        "planterade_effekter": planted_for(kind, list(areas["omrade_kod"])),
        "anmarkningar": [
            "Ungefär 1 % av personerna flyttar mellan områden: deras senare deltaganden kan vara i ett annat "
            "områdes insatser, men personer.omrade_kod anger det första området.",
            "Feriejobb har inga deltaganden (deltagarna är skolungdomar, inte vuxna biståndsmottagare).",
            "avslut.manad är den första månaden utan bistånd.",
        ],
    }
    if kind == "sundbyberg":
        meta["reform_datum"] = REFORM
    return tables, meta


def _plant_avbrott(avslut: np.ndarray, after_reform: np.ndarray, requirement: np.ndarray, rng) -> None:
    """The planted effect of the attendance requirement on drop-outs (in place): among unsuccessful endings of
    participations started on or after the reform in interventions with ``narvarokrav``, the share ``avbrott``
    rises from ``AVBROTT["fore_reform"]`` to ``AVBROTT["efter_reform_med_narvarokrav"]``. Each other unsuccessful
    ending there becomes ``avbrott`` with probability (after − before) / (1 − before), so the other unsuccessful
    codes keep their proportions among themselves. ``rng`` is a stream of its own: one draw per participation,
    whatever it is."""
    before, after = AVBROTT["fore_reform"], AVBROTT["efter_reform_med_narvarokrav"]
    u = rng.random(len(avslut))
    other_fail = np.isin(avslut.astype(str), ["slutford", "annan_myndighet", "ovrigt"])
    switch = after_reform & requirement & other_fail & (u < (after - before) / (1 - before))
    avslut[switch] = "avbrott"


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
            share_c = STHLM_CENTRAL_SHARE.get(code, 0.25) if kind == "stockholm" else 0.85
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
