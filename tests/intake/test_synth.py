"""Tests of the synthetic example data generator (insats.intake.synth).

The planted effects are checked in the raw generated tables with plain pandas (and one
statsmodels logistic model for the case-mix adjustment), independently of insats.analysis.measures.
"""

from __future__ import annotations

import itertools
import json
import re

import numpy as np
import pandas as pd
import pytest
from scipy.stats import spearmanr

from insats.contract import CENTRAL, CODE_LISTS, HINDERGRUPP, TABLES, fold
from insats.errors import InsatsError
from insats.intake import synth
from tests.support import REFERENCE

LONG_NUMBER = re.compile(r"\d{10,}")


@pytest.fixture(scope="module")
def sthlm():
    return synth.generate_tables("stockholm", seed=1, persons=3000)


@pytest.fixture(scope="module")
def sbg():
    return synth.generate_tables("sundbyberg", seed=1, persons=3000)


@pytest.fixture(scope="module")
def sthlm_large():
    return synth.generate_tables("stockholm", seed=2, persons=20000)


@pytest.fixture(scope="module", params=["stockholm", "sundbyberg"])
def both(request, sthlm, sbg):
    return request.param, (sthlm if request.param == "stockholm" else sbg)


def _ended(tables) -> pd.DataFrame:
    d = tables["deltaganden"]
    ins = tables["insatser"].set_index("insats_id")
    e = d[d["slut_datum"].notna()].join(ins[["kategori"]], on="insats_id")
    e = e.merge(tables["personer"], on="person_id")
    return e.assign(ok=e["avslut"].isin(["arbete", "studier"]).astype(int))


# --------------------------------------------------------------------------- determinism
def test_same_seed_gives_same_tables_and_other_seed_differs():
    a, meta_a = synth.generate_tables("sundbyberg", seed=5, persons=800)
    b, meta_b = synth.generate_tables("sundbyberg", seed=5, persons=800)
    c, _ = synth.generate_tables("sundbyberg", seed=6, persons=800)
    assert a.keys() == b.keys()
    for name in a:
        pd.testing.assert_frame_equal(a[name], b[name])
    assert meta_a == meta_b
    assert not a["bistand"].equals(c["bistand"])
    assert not a["deltaganden"].equals(c["deltaganden"])


@pytest.mark.parametrize("fmt", ["csv", "parquet"])
def test_same_seed_gives_byte_identical_files(tmp_path, fmt):
    one = synth.generate("stockholm", tmp_path / "a", seed=3, persons=600, fmt=fmt)
    two = synth.generate("stockholm", tmp_path / "b", seed=3, persons=600, fmt=fmt)
    names = sorted(p.name for p in one.iterdir())
    assert names == sorted(p.name for p in two.iterdir())
    assert f"deltaganden.{fmt}" in names and "studie.json" in names
    for name in names:
        assert (one / name).read_bytes() == (two / name).read_bytes(), name


# --------------------------------------------------------------------------- contract
def test_tables_follow_the_contract(both):
    kind, (tables, _) = both
    expected = {"omraden", "insatser", "personer", "bistand", "avslut", "deltaganden", "medel"}
    if kind == "sundbyberg":
        expected.add("bedomningar")
    assert expected <= set(tables)
    for name, df in tables.items():
        spec = TABLES[name]
        assert set(spec.required) <= set(df.columns), name
        assert list(df.columns) == [c for c in spec.names if c in df.columns], name
        for col in spec.required:
            assert df[col].notna().all(), (name, col)
        for c in spec.columns:
            if c.kind == "code" and c.name in df:
                values = set(df[c.name].dropna().astype(str))
                assert values <= set(CODE_LISTS[c.code_list]), (name, c.name, values - set(CODE_LISTS[c.code_list]))
            if c.kind == "codes" and c.name in df:
                values = {v for s in df[c.name].dropna() for v in str(s).split(";")}
                assert values <= set(CODE_LISTS[c.code_list]), (name, c.name)
        if spec.key:
            assert not df.duplicated(list(spec.key)).any(), name


def test_references_resolve(both):
    _, (t, _) = both
    persons = set(t["personer"]["person_id"])
    areas = set(t["omraden"]["omrade_kod"])
    assert set(t["deltaganden"]["person_id"]) <= persons
    assert set(t["deltaganden"]["insats_id"]) <= set(t["insatser"]["insats_id"])
    for name in ("bistand", "avslut", "bedomningar"):
        if name in t:
            assert set(t[name]["person_id"].astype(str)) <= persons, name
    assert set(t["personer"]["omrade_kod"]) <= areas
    assert set(t["insatser"]["omrade_kod"]) <= areas | {CENTRAL}
    assert set(t["medel"]["omrade_kod"]) <= areas | {CENTRAL}
    assert set(t["personer"]["person_id"]) == set(t["bistand"]["person_id"].astype(str))


def test_participation_dates_are_consistent(both):
    _, (t, _) = both
    d = t["deltaganden"]
    ended = d[d["slut_datum"].notna()]
    assert (ended["slut_datum"] >= ended["start_datum"]).all()
    offered = d[d["erbjuden_datum"].notna()]
    assert (offered["erbjuden_datum"] <= offered["start_datum"]).all()
    first = t["bistand"].groupby("person_id", observed=True)["manad"].min()
    first.index = first.index.astype(str)
    start_month = d["start_datum"].dt.to_period("M").dt.to_timestamp()
    assert (start_month > first.reindex(d["person_id"]).to_numpy()).all()
    # ongoing participations (empty slut_datum) have no avslut; ended ones have one
    assert d.loc[d["slut_datum"].isna(), "avslut"].isna().all()
    assert d.loc[d["slut_datum"].notna(), "avslut"].notna().all()
    assert 0 < d["slut_datum"].isna().mean() < 0.3
    # hours: mostly attended <= planned, a few above (the validator's warning), some planned 0 or empty
    both_known = d.dropna(subset=["planerade_timmar", "narvarotimmar"])
    above = (both_known["narvarotimmar"] > both_known["planerade_timmar"]).mean()
    assert 0 < above < 0.05
    assert (d["planerade_timmar"] == 0).any() and d["planerade_timmar"].isna().any()


def test_files_have_no_long_numbers_and_csv_conventions(tmp_path):
    for kind in synth.KINDS:
        out = synth.generate(kind, tmp_path / kind, seed=1, persons=3000)
        for path in out.glob("*.csv"):
            text = path.read_text(encoding="utf-8")
            assert not LONG_NUMBER.search(text), path.name
            df = pd.read_csv(path, dtype=str, keep_default_na=False)
            spec = TABLES[path.stem]
            for c in spec.columns:
                if c.name not in df:
                    continue
                values = df[c.name][df[c.name] != ""]
                if c.kind == "bool":
                    assert set(values) <= {"Ja", "Nej"}, (path.name, c.name)
                elif c.kind == "date":
                    assert values.str.fullmatch(r"\d{4}-\d{2}-\d{2}").all(), (path.name, c.name)
                elif c.kind == "month":
                    assert values.str.fullmatch(r"\d{4}-\d{2}").all(), (path.name, c.name)
        meta = json.loads((out / "studie.json").read_text(encoding="utf-8"))
        assert meta["syntetisk"] is True
        assert meta["beskrivning"] == "Syntetiska exempeldata – inga verkliga personer"
        assert meta["typ"] == kind and meta["seed"] == 1 and meta["personer"] == 3000
        assert re.fullmatch(r"\d{4}-\d{2}", meta["period"]["fran"])
        assert meta["planterade_effekter"] == synth.planted_effects(kind)
        assert not LONG_NUMBER.search((out / "studie.json").read_text(encoding="utf-8"))


def test_ids_look_pseudonymous(sthlm):
    t, _ = sthlm
    assert t["personer"]["person_id"].str.fullmatch(r"P\d{7}").all()
    assert t["personer"]["hushall_id"].str.fullmatch(r"H\d{7}").all()
    assert t["deltaganden"]["deltagande_id"].str.fullmatch(r"D\d{7}").all()
    assert t["insatser"]["insats_id"].str.fullmatch(r"I-[a-z_]+-\d{2}|I-CENTRAL-\d{2}").all()
    # some households have two adults
    assert t["personer"]["hushall_id"].duplicated().any()


def test_parquet_round_trip(tmp_path):
    tables, _ = synth.generate_tables("sundbyberg", seed=4, persons=500)
    out = synth.generate("sundbyberg", tmp_path / "p", seed=4, persons=500, fmt="parquet")
    for name, df in tables.items():
        back = pd.read_parquet(out / f"{name}.parquet")
        assert list(back.columns) == list(df.columns)
        assert len(back) == len(df)
    b = pd.read_parquet(out / "bistand.parquet")
    assert b["manad"].astype(str).str.fullmatch(r"\d{4}-\d{2}").all()


def test_loads_as_a_study(sbg):
    from insats.data.study import Study

    tables, _ = sbg
    study = Study.from_frames(**tables)
    assert len(study["personer"]) == 3000


def test_generated_folder_passes_validation(tmp_path):
    try:
        from insats.data import validate
    except ImportError as exc:  # the validator is developed alongside; skip while it does not import
        pytest.skip(f"insats.data.validate kan inte importeras: {exc}")
    out = synth.generate("sundbyberg", tmp_path / "v", seed=1, persons=800)
    report = validate.validate_study(out)
    assert not report.errors, report.format()


# --------------------------------------------------------------------------- plausibility
def test_stockholm_areas_and_population(sthlm):
    t, meta = sthlm
    om = t["omraden"]
    assert len(om) == 28 and set(om["ar"]) == {2012, 2013}
    assert (om["kommun_kod"] == "0180").all()
    assert set(om["omrade_kod"]) == {fold(d[0]) for d in synth.STOCKHOLM_DISTRICTS}
    assert {"rinkeby_kista", "hagersten_liljeholmen", "alvsjo"} <= set(om["omrade_kod"])
    pop2011 = {fold(d[0]): d[1] for d in synth.STOCKHOLM_DISTRICTS}
    ratio = om["folkmangd"].astype(float) / om["omrade_kod"].map(pop2011)
    assert ratio.between(1.0, 1.06).all()
    share = om["folkmangd_18_64"].astype(float) / om["folkmangd"].astype(float)
    assert share.between(0.64, 0.72).all()
    assert meta["period"] == {"fran": "2012-01", "till": "2013-12"}


def test_recipients_are_distributed_like_2015(sthlm):
    t, _ = sthlm
    counts = t["personer"]["omrade_kod"].value_counts()
    ref = pd.Series({fold(d[0]): d[2] for d in synth.STOCKHOLM_DISTRICTS})
    rho = spearmanr(counts.reindex(ref.index), ref)[0]
    assert rho > 0.9
    assert counts.idxmax() == "rinkeby_kista"


def test_constants_match_reference():
    pop_file = REFERENCE / "sthlm_district_population_2000_2011.csv"
    rec_file = REFERENCE / "sthlm_district_bistand_persons_2015_2017.csv"
    if not (pop_file.exists() and rec_file.exists()):
        pytest.skip("shared/reference saknas")
    pop = pd.read_csv(pop_file)
    pop = pop[(pop["area_level"] == "district") & (pop["year"] == 2011) & (pop["kind"] == "observed")]
    rec = pd.read_csv(rec_file)
    rec = rec[(rec["area_level"] == "district") & (rec["year"] == 2015)]
    assert {d[0] for d in synth.STOCKHOLM_DISTRICTS} == set(pop["area"]) == set(rec["area"])
    p = pop.set_index("area")["population_31dec"]
    r = rec.set_index("area")
    for name, population, recipients, pct in synth.STOCKHOLM_DISTRICTS:
        assert p[name] == population, name
        assert r.loc[name, "persons_with_bistand"] == recipients, name
        assert r.loc[name, "pct_of_population"] == pytest.approx(pct), name


def test_people_and_assistance_are_plausible(both):
    _kind, (t, _) = both
    p, b = t["personer"], t["bistand"]
    year0 = int(b["manad"].dt.year.min())
    age = year0 - p["fodelsear"].astype(int)
    assert (age >= 18).mean() > 0.99
    assert 0 < (age >= 65).mean() < 0.03
    group = p["forsorjningshinder"].map(HINDERGRUPP)
    assert 0.4 < (group == "arbetsloshet").mean() < 0.6
    assert set(group) == {"arbetsloshet", "ohalsa", "sociala_skal", "ovrigt"}
    assert b["belopp"].between(4000, 15000).all()
    months = b.assign(ar=b["manad"].dt.year).groupby(["person_id", "ar"], observed=True).size()
    long_share = (months >= 10).mean()
    assert 0.3 < long_share < 0.5
    # a person who leaves has no assistance from the avslut month on
    last = b.groupby("person_id", observed=True)["manad"].max()
    last.index = last.index.astype(str)
    a = t["avslut"]
    assert (a["manad"].to_numpy() > last.reindex(a["person_id"]).to_numpy()).all()
    assert set(a["avslutsorsak"]) >= {"arbete", "studier", "annan_ersattning"}


def test_districts_differ_in_composition(sthlm):
    t, _ = sthlm
    p = t["personer"]
    by = p.groupby("omrade_kod")
    abroad = by["utrikes_fodd"].mean()
    pre = by["utbildning"].apply(lambda s: (s == "forgymnasial").mean())
    post = by["utbildning"].apply(lambda s: (s == "eftergymnasial").mean())
    for poor in ("rinkeby_kista", "spanga_tensta"):
        for rich in ("ostermalm", "kungsholmen", "norrmalm"):
            assert abroad[poor] > abroad[rich] + 0.3
            assert pre[poor] > pre[rich]
            assert post[poor] < post[rich]
    # longer assistance before and during the period in the disadvantaged districts
    months = t["bistand"].groupby("person_id", observed=True).size()
    months.index = months.index.astype(str)
    per_area = months.reindex(p["person_id"]).groupby(p["omrade_kod"].to_numpy()).mean()
    assert per_area["rinkeby_kista"] > per_area["ostermalm"]


def test_catalogues_differ_like_the_kartlaggning(sthlm):
    t, _ = sthlm
    ins = t["insatser"]
    counted = ins[ins["raknas_som_insats"].fillna(False).astype(bool) & (ins["omrade_kod"] != CENTRAL)]
    cats = counted.groupby("omrade_kod")["kategori"].nunique()
    assert cats.min() <= 2 and cats.max() >= 7
    assert {"egen_omrade", "egen_central", "upphandlad", "ideell", "arbetsformedlingen"} <= set(ins["regi"])
    assert (ins.loc[ins["omrade_kod"] == CENTRAL, "regi"] == "egen_central").all()
    fj = ins[ins["kategori"] == "feriejobb"].set_index("omrade_kod")["raknas_som_insats"].astype(bool)
    assert fj.any() and not fj.all()
    # medel: feriejobb lines counted exactly in the districts that count feriejobb
    m = t["medel"]
    mf = m[m["kategori"] == "feriejobb"].groupby("omrade_kod")["raknas_som_insats"].agg(lambda s: bool(s.all()))
    assert (mf.reindex(fj.index) == fj).all()
    assert "administration" in set(m["kategori"])
    assert not m.loc[m["kategori"] == "administration", "raknas_som_insats"].astype(bool).any()
    assert set(synth.planted_effects("stockholm")["feriejobb_raknas_som_insats"]) == set(fj.index[fj])
    for col in ("platser", "kostnad_per_plats_manad"):
        assert (ins[col].astype(float) > 0).all()


# --------------------------------------------------------------------------- planted effects
def test_planted_effects_are_well_formed():
    for kind in synth.KINDS:
        eff = synth.planted_effects(kind)
        areas = eff["omrade"]
        assert abs(sum(areas.values())) < 1e-9
        assert 0.5 <= max(areas.values()) <= 0.7 and -0.7 <= min(areas.values()) <= -0.5
        order = eff["kategori_ordning"]
        assert order[0] == "praktik_privat" and order[-1] == "kurs"
        k = eff["kategori"]
        chain = [
            "praktik_privat",
            "arbetstraning",
            "praktik_offentlig",
            "matchning",
            "jobbsok_coachning",
            "vagledning",
            "kurs",
        ]
        assert all(k[a] - k[b] >= 0.2 - 1e-9 for a, b in itertools.pairwise(chain))
        assert abs(k["arbetstraning"] - k["kommunal_anstallning"]) <= 0.1


def test_district_effects_oppose_composition(sthlm):
    t, _ = sthlm
    eff = pd.Series(synth.planted_effects("stockholm")["omrade"])
    abroad = t["personer"].groupby("omrade_kod")["utrikes_fodd"].mean()
    assert spearmanr(eff, abroad.reindex(eff.index))[0] > 0.7  # disadvantaged composition, positive effect


def test_category_order_visible_in_raw_data(sthlm_large):
    t, _ = sthlm_large
    e = _ended(t)
    share = e.groupby("kategori")["ok"].mean()
    planted = pd.Series(synth.CATEGORY_EFFECTS).reindex(share.index)
    for top in ("praktik_privat", "arbetstraning"):
        for bottom in ("kurs", "vagledning"):
            assert share[top] > share[bottom] + 0.05, (top, bottom)
    assert spearmanr(share, planted)[0] > 0.8


def test_raw_shares_mislead_and_case_mix_adjustment_recovers_district_effects(sthlm_large):
    import statsmodels.api as sm

    t, _ = sthlm_large
    e = _ended(t)
    b = t["bistand"]
    month0 = b["manad"].min()

    def index(s):
        return (s.dt.year - month0.year) * 12 + s.dt.month - month0.month

    ids = b["person_id"].astype(str)
    first = index(b["manad"]).groupby(ids).min()
    last = index(b["manad"]).groupby(ids).max()
    t0 = index(e["start_datum"])
    lo = np.maximum(t0 - 12, first.reindex(e["person_id"]).to_numpy())
    hi = np.minimum(t0 - 1, last.reindex(e["person_id"]).to_numpy())
    e = e.assign(
        before=np.maximum(0, hi - lo + 1),
        ag=pd.cut(e["start_datum"].dt.year - e["fodelsear"].astype(int), [0, 24, 34, 44, 54, 200]).astype(str),
        grp=e["forsorjningshinder"].map(HINDERGRUPP),
        abroad=e["utrikes_fodd"].astype(str),
    )
    x = pd.get_dummies(e[["kon", "abroad", "utbildning", "grp", "ag"]], drop_first=True).astype(float)
    x["before"] = e["before"].astype(float)
    fit = sm.GLM(e["ok"].to_numpy(), sm.add_constant(x), family=sm.families.Binomial()).fit()
    e["expected"] = fit.predict(sm.add_constant(x))
    g = e.groupby("omrade_kod").agg(obs=("ok", "sum"), exp=("expected", "sum"), raw=("ok", "mean"))
    eff = pd.Series(synth.planted_effects("stockholm")["omrade"]).reindex(g.index)
    rho_raw = spearmanr(g["raw"], eff)[0]
    rho_oe = spearmanr(g["obs"] / g["exp"], eff)[0]
    assert rho_raw < 0.2
    assert rho_oe > 0.7


def test_sundbyberg_reform_lov_and_assessments(sbg):
    t, meta = sbg
    assert meta["reform_datum"] == "2016-01-01"
    assert (t["omraden"]["kommun_kod"] == "0183").all()
    assert t["omraden"]["omrade_kod"].nunique() == 7
    reform = pd.Timestamp("2016-01-01")
    ins = t["insatser"].set_index("insats_id")
    d = t["deltaganden"].join(ins[["kategori", "regi", "lov", "giltig_fran"]], on="insats_id")
    # attendance jumps at the reform
    share = (d["narvarotimmar"] / d["planerade_timmar"].where(d["planerade_timmar"] > 0)).clip(upper=1)
    post = d["start_datum"] >= reform
    planted = meta["planterade_effekter"]["narvaro_medel"]
    assert share[post].mean() - share[~post].mean() > 0.07
    assert share[~post].mean() == pytest.approx(planted["fore_reform"], abs=0.04)
    assert share[post].mean() == pytest.approx(planted["efter_reform"], abs=0.04)
    # LOV providers from the reform, several per category, mostly chosen by the person
    lov = ins[ins["lov"].fillna(False).astype(bool)]
    assert (lov["regi"] == "lov").all() and (lov["giltig_fran"] == reform).all()
    per_cat = lov.groupby("kategori")["utforare"].nunique()
    assert (per_cat >= 2).sum() >= 2
    at_lov = d[d["lov"].fillna(False).astype(bool)]
    assert len(at_lov) and (at_lov["start_datum"] >= reform).all()
    assert at_lov["vald_utforare"].astype(float).mean() == pytest.approx(0.8, abs=0.08)
    assert d.loc[~d["lov"].fillna(False).astype(bool), "vald_utforare"].isna().all()
    # the Jobbcenter
    jc = ins[ins["namn"].str.startswith("Jobbcenter")]
    assert len(jc) == 3 and (jc["kategori"] == "arbetstraning").all() and (jc["regi"] == "egen_central").all()
    # assessments: days to assessment, never assessed, start within 90 days for hel/delvis
    bd = t["bedomningar"]
    days = (bd["bedomning_datum"] - bd["ansokan_datum"]).dt.days
    assert 15 <= days.median() <= 25
    assert 0.03 < bd["bedomning_datum"].isna().mean() < 0.15
    assert set(bd["resultat"].dropna()) == {"hel", "delvis", "ingen", "oklar"}
    capable = bd[bd["resultat"].isin(["hel", "delvis"])]
    m = t["deltaganden"].merge(capable, on="person_id")
    within = m[
        (m["start_datum"] >= m["bedomning_datum"]) & (m["start_datum"] <= m["bedomning_datum"] + pd.Timedelta(days=90))
    ]
    got = capable["person_id"].isin(within["person_id"]).groupby(capable["resultat"]).mean()
    planted_v = meta["planterade_effekter"]["vagin_andel_insats_90_dagar"]
    assert got["hel"] > got["delvis"]
    assert got["hel"] == pytest.approx(planted_v["hel"], abs=0.1)
    assert got["delvis"] == pytest.approx(planted_v["delvis"], abs=0.1)


def test_work_or_studies_mostly_leave_assistance(sthlm):
    t, _ = sthlm
    d = t["deltaganden"]
    ok = d[d["avslut"].isin(["arbete", "studier"])]
    b = t["bistand"]
    months = set(zip(b["person_id"].astype(str), b["manad"]))
    end = ok["slut_datum"].dt.to_period("M").dt.to_timestamp()
    data_end = b["manad"].max()
    follow = [(pid, [m + pd.DateOffset(months=k) for k in (1, 2, 3)]) for pid, m in zip(ok["person_id"], end)]
    follow = [(pid, ms) for pid, ms in follow if ms[-1] <= data_end]
    off = np.mean([not any((pid, m) in months for m in ms) for pid, ms in follow])
    assert off > 0.75


# --------------------------------------------------------------------------- writing
def test_existing_generated_folder_is_replaced(tmp_path):
    out = synth.generate("sundbyberg", tmp_path / "ut", seed=1, persons=300)
    (out / "gammal.txt").write_text("x", encoding="utf-8")
    again = synth.generate("sundbyberg", tmp_path / "ut", seed=2, persons=300)
    assert again == out
    assert not (out / "gammal.txt").exists()
    assert json.loads((out / "studie.json").read_text(encoding="utf-8"))["seed"] == 2
    assert [p.name for p in tmp_path.iterdir()] == ["ut"]  # no temporary folders left


def test_failure_midway_leaves_old_folder_intact(tmp_path, monkeypatch):
    out = synth.generate("sundbyberg", tmp_path / "ut", seed=1, persons=300)
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    real = synth._write_table
    calls = []

    def failing(name, df, folder, fmt):
        calls.append(name)
        if len(calls) == 3:
            raise OSError("disken är full")
        return real(name, df, folder, fmt)

    monkeypatch.setattr(synth, "_write_table", failing)
    with pytest.raises(OSError):
        synth.generate("sundbyberg", tmp_path / "ut", seed=9, persons=300)
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before
    assert [p.name for p in tmp_path.iterdir()] == ["ut"]


def test_folder_with_other_data_is_not_replaced(tmp_path):
    own = tmp_path / "egna"
    own.mkdir()
    (own / "personer.csv").write_text("person_id\nA1\n", encoding="utf-8")
    with pytest.raises(FileExistsError):
        synth.generate("sundbyberg", own, persons=300)
    assert (own / "personer.csv").read_text(encoding="utf-8") == "person_id\nA1\n"


def test_unknown_kind_and_format_are_refused(tmp_path):
    with pytest.raises(InsatsError):
        synth.generate_tables("goteborg")
    with pytest.raises(InsatsError):
        synth.generate("stockholm", tmp_path / "x", fmt="xlsx")
