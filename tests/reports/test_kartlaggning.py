"""insats.reports.kartlaggning against values computed by hand on a small study written here.

Three areas (a, b, c), period 2013-01 to 2013-06 (so the medel year is 2013). Every expected
number is worked out in the comment next to it from the rows below; summary sentences are
checked against the published measures they quote.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from insats.analysis.measures import MEASURES, compute_measures
from insats.contract import ALLA
from insats.data.study import Study
from insats.errors import InsatsError
from insats.intake.synth import generate_tables
from insats.reports import kartlaggning as K
from insats.reports.export import add_table_of_contents
from insats.text import format_number

FRAN, TILL = "2013-01", "2013-06"


def survey_frames() -> dict[str, pd.DataFrame]:
    omraden = pd.DataFrame(
        {
            "omrade_kod": ["a", "b", "c", "a", "b", "c"],
            "omrade": ["Område A", "Område B", "Område C"] * 2,
            "kommun_kod": ["0999"] * 6,
            "ar": [2013] * 3 + [2012] * 3,
            "folkmangd": [1000, 2000, 3000, 1000, 2000, 3000],
            "folkmangd_18_64": [500, 1000, 2000, 9, 9, 9],
        }
    )
    insatser = pd.DataFrame(
        {
            "insats_id": ["i1", "i2", "i3", "i4", "i5", "i6", "i7"],
            "omrade_kod": ["a", "b", "CENTRAL", "c", "a", "a", "b"],
            "namn": ["Träning", "Kurs LOV", "Praktik", "Feriejobb C", "Matchning (stängd)", "Kurs A", "Feriejobb B"],
            "kategori": ["arbetstraning", "kurs", "praktik_privat", "feriejobb", "matchning", "kurs", "feriejobb"],
            "regi": ["egen_omrade", "lov", "egen_central", "egen_omrade", "ideell", "upphandlad", "egen_omrade"],
            "platser": [10, 5, 8, 20, 4, 10, 6],
            "narvarokrav": [True, False, True, False, False, True, False],
            "lov": [False, True, False, False, False, False, False],
            "raknas_som_insats": [True, True, True, False, True, True, True],  # c does not count its feriejobb
            "giltig_till": [None, None, None, None, "2012-06-30", None, None],  # i5 closed before the period
        }
    )
    medel = pd.DataFrame(
        [
            ("a", 2013, "arbetstraning", 100_000, True),
            ("a", 2013, "administration", 20_000, False),
            ("a", 2013, "feriejobb", 30_000, False),  # a does not count feriejobb
            ("b", 2013, "feriejobb", 50_000, True),  # b does
            ("b", 2013, "kurs", 30_000, True),
            ("c", 2013, "feriejobb", 40_000, False),
            ("c", 2013, "kurs", 80_000, False),  # c counts nothing: its own definition gives 0
            ("CENTRAL", 2013, "praktik_privat", 60_000, True),
            ("a", 2012, "kurs", 99_999, True),  # outside the period's years
        ],
        columns=["omrade_kod", "ar", "kategori", "belopp", "raknas_som_insats"],
    )
    return {"omraden": omraden, "insatser": insatser, "medel": medel}


def individual_frames() -> dict[str, pd.DataFrame]:
    personer = pd.DataFrame(
        {
            "person_id": ["p1", "p2", "p3", "p4", "p5", "p6"],
            "omrade_kod": ["a", "a", "b", "b", "c", "c"],
            "fodelsear": [1980, 1990, 1985, 1970, 1975, 1960],
            "kon": ["K", "M", "K", "M", "K", "M"],
            "utrikes_fodd": [True, False, True, False, True, False],
            "utbildning": ["gymnasial", "forgymnasial", "eftergymnasial", "gymnasial", "forgymnasial", "gymnasial"],
            "forsorjningshinder": ["arbetslos_ingen_ersattning"] * 6,
        }
    )
    bistand = pd.DataFrame(
        [{"person_id": p, "manad": f"2013-0{m}", "belopp": 5000.0} for p in personer["person_id"] for m in range(1, 7)]
    )
    deltaganden = pd.DataFrame(
        [
            ("d1", "p1", "i1", "2013-01-10", "2013-03-31", "arbete"),
            ("d2", "p2", "i6", "2013-01-10", "2013-04-30", "avbrott"),
            ("d3", "p3", "i2", "2013-02-01", "2013-05-31", "studier"),
            ("d4", "p4", "i2", "2013-02-01", "2013-05-31", "avbrott"),
            ("d5", "p5", "i3", "2013-02-01", "2013-05-31", "avbrott"),
            ("d6", "p6", "i3", "2013-02-01", "2013-05-31", "arbete"),
        ],
        columns=["deltagande_id", "person_id", "insats_id", "start_datum", "slut_datum", "avslut"],
    )
    return {"personer": personer, "bistand": bistand, "deltaganden": deltaganden}


@pytest.fixture(scope="module")
def survey() -> Study:
    return Study.from_frames(**survey_frames())


@pytest.fixture(scope="module")
def full() -> Study:
    return Study.from_frames(**survey_frames(), **individual_frames())


# --------------------------------------------------------------------------- utbud


def test_place_matrix(survey):
    m = K.place_matrix(survey, FRAN, TILL)
    # counted and open: i1 a arbetsträning 10, i6 a kurs 10, i2 b kurs 5, i7 b feriejobb 6, i3 CENTRAL praktik 8;
    # i4 (c, not counted) and i5 (closed) are out, so c has no places at all
    assert list(m.index) == ["a", "b", "c", "CENTRAL"]
    assert list(m.columns) == ["arbetstraning", "kurs", "praktik_privat", "feriejobb"]
    assert m.loc["a"].tolist() == [10, 10, 0, 0]
    assert m.loc["b"].tolist() == [0, 5, 0, 6]
    assert m.loc["c"].tolist() == [0, 0, 0, 0]
    assert m.loc["CENTRAL"].tolist() == [0, 0, 8, 0]


def test_category_gaps(survey):
    g = K.category_gaps(survey, FRAN, TILL).set_index("omrade_kod")
    assert len(K.GAP_CATEGORIES) == 8 and "feriejobb" not in K.GAP_CATEGORIES and "ovrigt" not in K.GAP_CATEGORIES
    # a has arbetsträning and kurs: 6 missing, praktik privat is central -> 5 missing altogether
    assert g.loc["a", "kategorier_egna"] == 2
    assert g.loc["a", "saknas_eget"] == [
        "jobbsok_coachning",
        "matchning",
        "praktik_offentlig",
        "praktik_privat",
        "vagledning",
        "kommunal_anstallning",
    ]
    assert g.loc["a", "saknas_helt"] == [
        "jobbsok_coachning",
        "matchning",
        "praktik_offentlig",
        "vagledning",
        "kommunal_anstallning",
    ]
    # b: kurs only (its feriejobb is not a gap category); c: nothing
    assert (
        g.loc["b", "kategorier_egna"] == 1
        and len(g.loc["b", "saknas_eget"]) == 7
        and len(g.loc["b", "saknas_helt"]) == 6
    )
    assert (
        g.loc["c", "kategorier_egna"] == 0
        and len(g.loc["c", "saknas_eget"]) == 8
        and len(g.loc["c", "saknas_helt"]) == 7
    )
    shown = K.gaps_table(K.category_gaps(survey, FRAN, TILL), survey)
    assert shown.loc["Område A", "Kategorier i eget utbud"] == "2 av 8"
    assert "Praktik, privat sektor" in shown.loc["Område A", "Saknas i eget utbud"]
    assert "Praktik, privat sektor" not in shown.loc["Område A", "Saknas även centralt"]


# --------------------------------------------------------------------------- organisation


def test_regi_and_organisation(survey):
    r = K.regi_matrix(survey, FRAN, TILL)
    assert r.loc["a", "egen_omrade"] == 10 and r.loc["a", "upphandlad"] == 10
    assert r.loc["b", "lov"] == 5 and r.loc["b", "egen_omrade"] == 6
    assert r.loc["c"].sum() == 0 and r.loc["CENTRAL", "egen_central"] == 8
    org = K.organisation_table(survey, FRAN, TILL)
    assert [c for c in org.columns if c.startswith("andel_")] == [
        "andel_egen_omrade",
        "andel_egen_central",
        "andel_upphandlad",
        "andel_lov",
    ]
    assert org.loc["a", "platser"] == 20 and org.loc["a", "andel_egen_omrade"] == 0.5
    assert org.loc["a", "huvudsaklig_regi"] == "egen_omrade;upphandlad"  # a tie names both
    assert org.loc["b", "andel_egen_omrade"] == pytest.approx(6 / 11) and org.loc["b", "andel_lov"] == pytest.approx(
        5 / 11
    )
    assert org.loc["b", "huvudsaklig_regi"] == "egen_omrade" and org.loc["b", "antal_regiformer"] == 2
    assert org.loc["c", "platser"] == 0 and math.isnan(org.loc["c", "andel_egen_omrade"])
    assert org.loc["c", "huvudsaklig_regi"] == "" and org.loc["c", "antal_regiformer"] == 0
    shown = K.organisation_display(org, survey)
    assert shown.loc["Område A", "Huvudsaklig regi"] == "Egen regi, området, Upphandlad"
    assert shown.loc["Område B", "LOV-utförare"] == format_number(5 / 11, 0, percent=True)


def test_who_runs_what_and_the_organisation_sentences(survey):
    # open places that count as intervention, by hand: a: arbetsträning egen 10, kurs upphandlad 10;
    # b: kurs LOV 5, feriejobb egen 6; CENTRAL: praktik privat egen_central 8 (39 in all)
    wide = K.who_runs_what(survey, FRAN, TILL)
    assert list(wide.index) == ["arbetstraning", "kurs", "praktik_privat", "feriejobb", "Totalt"]
    assert list(wide.columns) == ["egen_omrade", "egen_central", "upphandlad", "lov", "Totalt"]
    assert wide.loc["kurs", "upphandlad"] == 10 and wide.loc["kurs", "lov"] == 5 and wide.loc["kurs", "Totalt"] == 15
    assert wide.loc["Totalt", "Totalt"] == 39 and wide.loc["Totalt", "egen_omrade"] == 16
    shown = K.who_runs_what_display(wide)
    assert shown.loc["Kurs", "LOV-utförare"] == "5" and shown.loc["Kurs", "Egen regi, området"] == "–"
    text = " ".join(K.organisation_sentences(survey, FRAN, TILL))
    assert "vanligaste formen i 2 av 2 områden med egna insatser" in text  # a (a tie counts) and b; c has none
    assert f"8 av 39 platser ({format_number(8 / 39, 0, percent=True)})" in text
    assert "Ingen insats i underlaget drivs tillsammans med Arbetsförmedlingen" in text
    # with an intervention run together with Arbetsförmedlingen in C
    frames = survey_frames()
    extra = frames["insatser"].iloc[[0]].assign(insats_id="i8", omrade_kod="c", regi="arbetsformedlingen", platser=3)
    frames["insatser"] = pd.concat([frames["insatser"], extra], ignore_index=True)
    with_af = Study.from_frames(**frames)
    text = " ".join(K.organisation_sentences(with_af, FRAN, TILL))
    assert "tillsammans med Arbetsförmedlingen finns i Område C, med 3 platser" in text
    assert f"({format_number(3 / 42, 1, percent=True)} av alla)" in text
    section = K.section_organisation(with_af, FRAN, TILL)
    assert (
        "Med Arbetsförmedlingen"
        in section.tables["Vem driver vilka insatser? Platser per kategori och regi, hela studien"].columns
    )
    assert "Arbetsförmedlingen finns i Område C" in " ".join(section.notes)


# --------------------------------------------------------------------------- medel and feriejobb


def test_spending_by_category(survey):
    s = K.spending_by_category(survey, FRAN, TILL)
    assert list(s.columns) == ["arbetstraning", "kurs", "praktik_privat", "feriejobb", "administration", "Totalt"]
    # the 2012 line of a is outside the period's year
    assert s.loc["a"].tolist() == [100_000, 0, 0, 30_000, 20_000, 150_000]
    assert s.loc["b", "Totalt"] == 80_000 and s.loc["c", "Totalt"] == 120_000 and s.loc["CENTRAL", "Totalt"] == 60_000
    assert K.spending_table(survey, FRAN, TILL).loc["Område A", "Totalt"] == "150"  # thousands of kronor


def test_feriejobb_comparison(survey):
    c = K.feriejobb_comparison(survey, FRAN, TILL).set_index("omrade_kod")
    assert c.attrs["befolkning"] == "folkmangd_18_64"
    # inhabitants 18-64 in 2013 (the period's only year): a 500, b 1000, c 2000
    assert c["invanare"].tolist() == [500, 1000, 2000]
    assert c["raknar_feriejobb"].tolist() == [False, True, False]
    # own definition: a 100 000 (arbetsträning) / 500 = 200; b 80 000 / 1000 = 80; c counts nothing = 0
    assert c["per_inv_egen"].tolist() == [200, 80, 0]
    # without feriejobb (and administration), whatever the marks: a 100 000/500, b 30 000/1000, c 80 000/2000
    assert c["per_inv_utan_feriejobb"].tolist() == [200, 30, 40]
    # with feriejobb: a 130 000/500, b 80 000/1000, c 120 000/2000
    assert c["per_inv_med_feriejobb"].tolist() == [260, 80, 60]
    assert c["plats_egen"].tolist() == [1, 2, 3]
    assert c["plats_utan_feriejobb"].tolist() == [1, 3, 2]
    assert c["plats_med_feriejobb"].tolist() == [1, 2, 3]
    assert c["flytt_utan"].tolist() == [0, -1, 1] and c["flytt_med"].tolist() == [0, 0, 0]
    shown = K.feriejobb_table(K.feriejobb_comparison(survey, FRAN, TILL), survey)
    assert shown.loc["Område B", "Flyttar (utan)"] == "\u22121" and shown.loc["Område C", "Flyttar (utan)"] == "+1"
    assert shown.loc["Område A", "Räknar feriejobb som insats"] == "Nej"


# --------------------------------------------------------------------------- utfall and likställighet (hand-made long table)


def long_table() -> pd.DataFrame:
    rows = [
        # share measure with funnel flags: a over 95 %, b under 99.8 %, c inside
        ("utfall_arbete_studier_andel", "a", 0.6, 60, 100, False),
        ("utfall_arbete_studier_andel", "b", 0.1, 10, 100, False),
        ("utfall_arbete_studier_andel", "c", 0.3, 30, 100, False),
        ("utfall_arbete_studier_andel", "d", np.nan, np.nan, np.nan, True),
        ("utfall_arbete_studier_andel", ALLA, 1 / 3, 100, 300, False),
        ("likstallighet_tratt__utfall_arbete_studier_andel", "a", 1.0, np.nan, 100, False),
        ("likstallighet_tratt__utfall_arbete_studier_andel", "b", -2.0, np.nan, 100, False),
        ("likstallighet_tratt__utfall_arbete_studier_andel", "c", 0.0, np.nan, 100, False),
        # the plain limits flag every area; the O/E's adjusted limits flag c only
        ("likstallighet_tratt_vanlig__utfall_arbete_studier_andel", "a", 2.0, np.nan, 100, False),
        ("likstallighet_tratt_vanlig__utfall_arbete_studier_andel", "b", -2.0, np.nan, 100, False),
        ("likstallighet_tratt_vanlig__utfall_arbete_studier_andel", "c", -1.0, np.nan, 100, False),
        ("likstallighet_phi__utfall_arbete_studier_andel", ALLA, 12.5, np.nan, 3, False),
        ("likstallighet_tratt__justerat_utfall_oe", "a", 0.0, np.nan, 100, False),
        ("likstallighet_tratt__justerat_utfall_oe", "b", 0.0, np.nan, 100, False),
        ("likstallighet_tratt__justerat_utfall_oe", "c", -1.0, np.nan, 100, False),
        ("likstallighet_tratt_vanlig__justerat_utfall_oe", "a", 1.0, np.nan, 100, False),
        ("likstallighet_tratt_vanlig__justerat_utfall_oe", "b", 0.0, np.nan, 100, False),
        ("likstallighet_tratt_vanlig__justerat_utfall_oe", "c", -2.0, np.nan, 100, False),
        ("justerat_utfall_oe", "a", 1.5, 60, 100, False),
        ("justerat_utfall_oe", "b", 0.9, 10, 100, False),
        ("justerat_utfall_oe", "c", 0.5, 30, 100, False),
        ("justerat_utfall_oe_lo", "a", 1.1, 60, 100, False),
        ("justerat_utfall_oe_lo", "b", 0.5, 10, 100, False),
        ("justerat_utfall_oe_lo", "c", 0.3, 30, 100, False),
        ("justerat_utfall_oe_hi", "a", 2.0, 60, 100, False),
        ("justerat_utfall_oe_hi", "b", 1.4, 10, 100, False),
        ("justerat_utfall_oe_hi", "c", 0.8, 30, 100, False),
        ("utbud_kategorier", "a", 4.0, 4, np.nan, False),
        ("utbud_kategorier", "b", 2.0, 2, np.nan, False),
        ("utbud_kategorier", "c", 6.0, 6, np.nan, False),
        ("utbud_kategorier", "CENTRAL", 9.0, 9, np.nan, False),
    ]
    return pd.DataFrame(rows, columns=["matt", "omrade_kod", "varde", "taljare", "namnare", "undertryckt"])


def test_differing_areas():
    d = K.differing_areas(long_table()).set_index("omrade_kod")
    assert list(d.index) == ["a", "b", "c"]  # suppressed d never appears
    assert d["ratt"].tolist() == [1, -2, 0]
    # a's interval 1.1-2.0 lies above 1, b's 0.5-1.4 contains 1, c's 0.3-0.8 lies below
    assert d["justerat"].tolist() == [1, 0, -1]
    assert d.loc["a", "oe"] == 1.5
    assert d["ratt_vanlig"].tolist() == [2, -2, -1]
    assert d["justerat_od"].tolist() == [0, 0, -1]
    # a: both higher; b: lower raw, as expected adjusted; c: inside raw, lower adjusted
    assert K.raw_and_adjusted(d.reset_index()) == {"motsatt": [], "bara_ratt": ["b"], "bara_justerat": ["c"]}


def test_outcome_sentences_say_where_raw_and_adjusted_differ_and_which_to_trust():
    diff = K.differing_areas(long_table())
    text = " ".join(K.outcome_sentences(diff, {"a": "Norrby", "b": "Söderby", "c": "Västby"}))
    assert "2 områden ligger utanför trattdiagrammets 95 %-gränser" in text and "Norrby och Söderby" in text
    assert "med de vanliga gränserna för enbart slump är det 3" in text
    assert "skiljer sig 2 områden från det förväntade mer än slumpen förklarar (Norrby och Västby)" in text
    assert "med 3 områden väntas ungefär 0,2 sådana av en slump" in text  # 3 × 0.05 = 0.15
    assert "Av dem skiljer sig Västby också mer än områden brukar skilja sig åt." in text
    assert "För Söderby förklaras skillnaden i rå andel av vilka deltagare området har." in text
    assert "För Västby syns skillnaden först när deltagarna räknas in." in text
    assert "Lita på den justerade jämförelsen" in text
    # opposite directions are named as such
    flipped = diff.assign(ratt=[1.0, -2.0, 0.0], justerat=[-1.0, 0.0, 0.0])
    text2 = " ".join(K.outcome_sentences(flipped, {"a": "Norrby"}))
    assert "För Norrby pekar bilderna åt olika håll: andelen är högre än i hela studien, men lägre" in text2


def test_equality_table():
    eq = K.equality_table(long_table()).set_index("matt")
    assert list(eq.index) == ["utbud_kategorier", "utfall_arbete_studier_andel", "justerat_utfall_oe"]
    # kategorier over a, b, c (CENTRAL is not an area): 2, 4, 6 -> mean 4, population SD sqrt(8/3)
    r = eq.loc["utbud_kategorier"]
    assert (r["min"], r["max"], r["range"], r["n"]) == (2, 6, 4, 3)
    assert r["cv"] == pytest.approx(math.sqrt(8 / 3) / 4)
    assert math.isnan(r["utanfor_95"])
    # shares .6 .1 .3 (d suppressed); a and b outside 95 %, b also outside 99.8 %
    r = eq.loc["utfall_arbete_studier_andel"]
    assert r["range"] == pytest.approx(0.5) and r["n"] == 3 and r["utanfor_95"] == 2 and r["utanfor_998"] == 1
    assert r["utanfor_95_vanlig"] == 3 and r["phi"] == 12.5
    # the O/E: one area outside the adjusted limits, two outside the plain ones (its score interval)
    assert eq.loc["justerat_utfall_oe", "utanfor_95"] == 1 and eq.loc["justerat_utfall_oe", "utanfor_95_vanlig"] == 2
    ff = K.false_flags(eq.reset_index())
    assert ff == {"tests": 6, "measures": 2, "flagged": 3, "flagged_plain": 5, "expected": pytest.approx(0.3)}
    assert "ungefär 0,3 av dem hamna utanför 95 %-gränserna av en slump" in K.false_flags_sentence(ff)


# --------------------------------------------------------------------------- follow-up system


def test_uncomputable_survey_only(survey):
    unc = K.uncomputable_measures(survey)
    # every measure needing individual data or assessments; the survey-level ones are computable
    expected = {
        "utbud_platser_per_100",
        "medel_per_deltagare",
        "erbjudande_andel",
        "narvaro_median",
        "narvaro_andel_80",
        "utfall_arbete_studier_andel",
        "utfall_sjalvforsorjning_andel",
        "langvarigt_andel",
        "vagin_andel_bedomda",
        "vagin_dagar_median",
        "vagin_dagar_p90",
        "vagin_andel_30_dagar",
        "vagin_andel_insats_90_dagar",
        "vagin_andel_overlamnade",
        "vagin_andel_ombedomningar",
        "lov_andel_valt",
        "samverkan_andel_eget_omrade",
        "samverkan_andel_central",
        "samverkan_andel_annat_omrade",
        "justerat_utfall_oe",
    }
    assert set(unc["matt"]) == expected and set(unc["skal"]) == {"tabell"}
    row = unc.set_index("matt").loc["utbud_platser_per_100"]
    assert row["saknas"] == "personer, bistand"


def full_measures(study: Study, **kw):
    """The measures of the full small study; its O/E model on six participations is (rightly)
    degenerate and statsmodels says so — these tests are not about that model."""
    import warnings

    import statsmodels.api  # noqa: F401  (its import adds "always" filters: import first, then ignore)

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return compute_measures(study, start=FRAN, end=TILL, **kw)


def test_uncomputable_empty_column_and_no_basis(full):
    res = full_measures(full, min_cell=1)
    unc = K.uncomputable_measures(full, res).set_index("matt")
    # no bedomningar table; the deltaganden written here have no planned hours, no offer dates, no choice
    assert unc.loc["vagin_dagar_median", "skal"] == "tabell"
    assert unc.loc["narvaro_median", "skal"] == "kolumn"
    assert unc.loc["narvaro_median", "saknas"] == "deltaganden.planerade_timmar, deltaganden.narvarotimmar"
    assert unc.loc["lov_andel_valt", "saknas"] == "deltaganden.vald_utforare"
    assert "utfall_arbete_studier_andel" not in unc.index
    shown = K.uncomputable_table(K.uncomputable_measures(full, res))
    assert shown.loc[MEASURES["narvaro_median"].label, "Vad som saknas"].startswith("Kolumnen är tom")


def test_follow_up_proposal_is_the_registry_and_the_contract(survey):
    """The proposed indicator set and data flow are generated from the measure registry and the
    contract: every computed measure is an indicator, every table a data-flow row whose count of
    dependent measures is recounted here from the registry; a survey-only study marks as 'nej'
    exactly the measures that cannot be computed."""
    from insats.contract import TABLES
    from insats.reports.kartlaggning.uppfoljning import SOURCES, data_flow, indicator_set, section_uppfoljning

    computed = [m for m in MEASURES.values() if m.func is not None]
    ind = indicator_set(survey)
    assert sorted(ind["Mått"]) == sorted(m.label for m in computed)
    assert "Övrigt" not in set(ind["Tema"])  # every measure id has a theme
    unc = set(K.uncomputable_measures(survey)["matt"])
    no = set(ind.loc[ind["Med dagens data"] == "nej", "Mått"])
    assert no == {MEASURES[m].label for m in unc}
    assert set(SOURCES) == set(TABLES)  # a new table cannot join the contract without a source
    flow = data_flow().set_index("Uppgift")
    for name, table in TABLES.items():
        row = flow.loc[f"{table.label} (en rad per {table.row})"]
        assert row["Antal mått som bygger på uppgiften"] == sum(1 for m in computed if name in m.needs)
        assert row["Källa (förslag)"] == SOURCES[name][0]
    section = section_uppfoljning(survey, compute_measures(survey, start=FRAN, end=TILL))
    text = " ".join(getattr(b, "text", "") for b in section.blocks)
    assert f"följer {len(computed)} mått" in text and "Varje månad" in text and "Varje år" in text


def test_samverkan_section_reads_the_published_shares(full, survey):
    """The samverkan sentences quote the published whole-study shares and name the districts whose
    residents use central interventions most — recomputed here from the deltaganden."""
    res = full_measures(full, min_cell=1)
    long = res.table
    section = K.section_samverkan(full, long)
    text = " ".join(getattr(b, "text", "") for b in section.blocks)
    d = full["deltaganden"]
    d = d[
        (d["start_datum"] >= pd.Timestamp(FRAN + "-01"))
        & (d["start_datum"] <= pd.Timestamp(TILL + "-01") + pd.offsets.MonthEnd(0))
    ]
    ins = full["insatser"].set_index("insats_id")["omrade_kod"].astype(str)
    home = full["personer"].set_index("person_id")["omrade_kod"].astype(str)
    run = d["insats_id"].map(ins)
    own = (run == d["person_id"].map(home)).mean()
    assert f"var {format_number(own, 0, percent=True)} av deltagandena" in text
    # a study without participations says what is missing
    none = K.section_samverkan(survey, K.uncomputable_measures(survey).assign(omrade_kod="ALLA"))
    assert "studien saknar tabellerna" in " ".join(getattr(b, "text", "") for b in none.blocks)


# --------------------------------------------------------------------------- summary sentences


def _value(table: pd.DataFrame, matt: str, area: str) -> float:
    return float(table.set_index(["matt", "omrade_kod"]).loc[(matt, area), "varde"])


def test_summary_survey_quotes_measures(survey):
    res = compute_measures(survey, start=FRAN, end=TILL, min_cell=5)
    s = K.summary(survey, res, start=FRAN, end=TILL)
    t = res.table
    assert list(s)[:2] == ["omfattning", "utbud"]
    assert s["omfattning"] == "Kartläggningen omfattar 3 områden och perioden 2013-01 till 2013-06."
    # utbud_kategorier: a 3 (own 2 + central praktik), b 3 (kurs, feriejobb, praktik), c 1 (central only)
    assert (_value(t, "utbud_kategorier", "a"), _value(t, "utbud_kategorier", "c")) == (3, 1)
    assert s["utbud"].endswith("varierar från 1 (Område C) till 3 (Område A och Område B).")
    assert s["luckor"].startswith("3 av 3 områden saknar i sitt eget utbud")
    assert "3 saknar någon kategori helt" in s["luckor"]
    assert "platser" not in s  # needs personer and bistand
    # feriejobb shares quoted from medel_andel_feriejobb: a .2, b .625, c 1/3
    lo, hi = _value(t, "medel_andel_feriejobb", "a"), _value(t, "medel_andel_feriejobb", "b")
    assert (lo, hi) == (0.2, 0.625)
    assert s["medel"].startswith(
        f"Andelen av medlen som går till feriejobb varierar från "
        f"{format_number(lo, 0, percent=True)} (Område A) till "
        f"{format_number(hi, 0, percent=True)} (Område B)."
    )
    assert "63\u00a0%" in s["medel"]  # 62.5 rounds half up
    assert "1 område räknar feriejobb som arbetsmarknadsinsats, 2 gör det inte." in s["medel"]
    assert (
        "Om feriejobb inte räknas någonstans byter 2 av 3 områden plats; störst är flytten för "
        "Område B (från plats 2 till 3) och Område C (från plats 3 till 2)."
    ) in s["feriejobb"]
    assert "Om feriejobb räknas överallt ändras inte rangordningen." in s["feriejobb"]
    # own places in own regi: a exactly half (10 of 20) does not count, b 6 of 11 does, c has none
    assert s["organisation"].startswith("I 1 av 3 områden drivs mer än hälften av de egna platserna i egen regi")
    assert s["utfall"].startswith("Utfallen kan inte beräknas")
    assert s["uppfoljning"].startswith("20 av ")  # 17 individual-data measures + the 3 samverkan ones
    assert "fokus" not in s
    assert K.summary_markdown(s).count("\n- ") == len(s) - 1


def test_summary_full_quotes_outcomes(full):
    res = full_measures(full, min_cell=1)
    s = K.summary(full, res, start=FRAN, end=TILL, focus="b")
    t = res.table
    # ended in the period: d1 arbete, d2 avbrott, d3 studier, d4 avbrott, d5 avbrott, d6 arbete -> 3 of 6
    alla = _value(t, "utfall_arbete_studier_andel", ALLA)
    assert alla == 0.5
    assert s["utfall"].startswith(f"I hela studien avslutades {format_number(alla, 0, percent=True)} av deltagandena")
    flagged = t[(t["matt"] == "likstallighet_tratt__utfall_arbete_studier_andel") & (t["varde"].abs() >= 1)]
    word = "område" if len(flagged) == 1 else "områden"
    assert f"{len(flagged)} {word} ligger utanför trattdiagrammets 95 %-gränser" in s["utfall"]
    # places per 100 unemployed recipients are quoted from the measure
    lo = _value(t, "utbud_platser_per_100", "c")
    assert format_number(lo, 1) in s["platser"]
    assert s["fokus"].startswith(
        "Fokusområdet Område B har 3 kategorier av insatser, 63\u00a0% av medlen till feriejobb"
    )
    assert "plats 2 av 3 i insatsmedel per invånare" in s["fokus"]


def test_check_parameters(survey):
    p = K.check_parameters(survey, start="2013-01", end="2013-06", min_cell=5, focus="a")
    assert p == {"fran": "2013-01", "till": "2013-06", "min_cell": 5, "fokus_omrade": "a", "sprak": "sv"}
    with pytest.raises(InsatsError, match="finns inte i studien"):
        K.check_parameters(survey, start="2013-01", end="2013-06", focus="x")
    with pytest.raises(InsatsError, match="före sin början"):
        K.check_parameters(survey, start="2013-06", end="2013-01")
    with pytest.raises(InsatsError, match="stöds inte"):
        K.check_parameters(survey, start="2013-01", end="2013-06", language="en")


def test_sections_say_what_is_missing(survey):
    res = compute_measures(survey, start=FRAN, end=TILL, min_cell=5)
    items = K.section_utfall(survey, res.table).blocks
    assert len(items) == 1 and isinstance(items[0], K.Note)
    assert "kan inte beräknas" in items[0].text and "`deltaganden`" in items[0].text
    assert all(isinstance(i, K.Note) for i in K.section_justerat(survey, res.table).blocks)
    utbud = K.section_utbud(survey, res.table, FRAN, TILL).blocks
    assert any(isinstance(i, K.Note) and "personer" in i.text for i in utbud)


def test_join_names():
    assert K.join_names([]) == "" and K.join_names(["A"]) == "A"
    assert K.join_names(["A", "B"]) == "A och B" and K.join_names(["A", "B", "C"]) == "A, B och C"


# --------------------------------------------------------------------------- table of contents


def test_table_of_contents():
    page = """<html><head><title>Notebook</title></head><body><main>
<div class="jp-Cell jp-MarkdownCell"><h1 id="Rubrik">Rubrik<a class="anchor-link" href="#Rubrik">¶</a></h1></div>
<div class="jp-Cell jp-CodeCell"><script>var s = "<h2>${o(e)}</h2>";</script></div>
<div class="jp-Cell jp-MarkdownCell"><h2 id="Anv%C3%A4ndning">Användning<a class="anchor-link" href="#Anv%C3%A4ndning">¶</a></h2></div>
<div class="jp-Cell jp-MarkdownCell"><h2>Utan &amp; id</h2></div>
</main></body></html>"""
    out = add_table_of_contents(page)
    assert '<a href="#Anv%C3%A4ndning">Användning</a>' in out
    assert '<h2 id="Utan-id">Utan &amp; id</h2>' in out and '<a href="#Utan-id">Utan &amp; id</a>' in out
    assert "${o(e)}" not in out.split("insats-toc")[1].split("</nav>")[0]  # the script's h2 is no section
    # after the title cell, before the next cell; the page title is the h1
    assert out.index("insats-toc") > out.index("<h1") and out.index("insats-toc") < out.index("<script>")
    assert "<title>Rubrik</title>" in out
    assert add_table_of_contents("<html><body><p>x</p></body></html>") == "<html><body><p>x</p></body></html>"


# --------------------------------------------------------------------------- method part


def test_method_part_reports_the_model_checks_and_protects_small_tenths():
    cal = pd.DataFrame(
        {
            "n": [100.0, 100.0, 100.0, 100.0],
            "observerat": [3.0, 20.0, 30.0, 50.0],
            "forvantat": [5.0, 18.0, 32.0, 48.0],
        },
        index=pd.Index([1, 2, 3, 4], name="grupp"),
    )
    oe = pd.DataFrame({"observed": [1.0]})
    oe.attrs.update(
        {
            "calibration": cal,
            "c_statistic": 0.712,
            "c_statistic_cv": 0.70,
            "calibration_slope_cv": 0.95,
            "calibration_in_the_large_cv": 0.01,
            "hosmer_lemeshow": {"chi2": 1.0, "df": 2, "p": 0.6},
            "folds": 5,
            "n_dropped": 0,
        }
    )
    t = K.calibration_table(oe, 5)
    # tenth 1 has 3 outcomes: suppressed with its expected count, and a second tenth (the smallest other
    # count, tenth 2 with 20) so that it cannot be read off the total
    assert t.iloc[0, 2:].tolist() == [".."] * 4 and t.iloc[1, 2] == ".."
    assert t.iloc[-1, 0] == "Alla" and t.iloc[-1, 2] == "103"
    text = " ".join(K.model_sentences(oe))
    assert "c-statistik): 0,71" in text and "71\u00a0% av paren" in text and "korsvalidering) 0,70" in text
    assert "lutning 0,95" in text and "p = 0,60" in text and "ingen säker skillnad" in text


@pytest.mark.slow
def test_method_section_on_a_generated_study():
    from insats.intake.synth import generate_tables

    tables, _ = generate_tables("stockholm", seed=3, persons=3000)
    study = Study.from_frames(**tables)
    sec = K.section_metod(study, "2012-01", "2013-12")
    text = " ".join(sec.notes)
    assert "c-statistik" in text and "Kalibrering" in text and "överspridning" in text
    (table,) = sec.tables.values()
    assert len(table) == 11  # ten tenths and the total


# --------------------------------------------------------------------------- en väg in


def test_vagin_section_on_generated_stockholm_reads_the_published_measures():
    """Stockholm's kartläggning has en väg in: the measures per district, and sentences whose numbers
    are recomputed here from the raw bedomningar."""
    tables, _ = generate_tables("stockholm", seed=3, persons=1500)
    study = Study.from_frames(**tables)
    res = compute_measures(study, start="2012-01", end="2013-12", min_cell=1)
    sec = K.section_vagin(study, res.table)
    (table,) = sec.tables.values()
    assert len(table) == 15  # 14 districts and the whole study
    assert MEASURES["vagin_andel_overlamnade"].label in table.columns
    b = study["bedomningar"]
    bed = b[b["bedomning_datum"].notna()]
    handed = bed["overlamnad_till"].notna() & (bed["overlamnad_till"] != bed["enhet"])
    again = bed.sort_values("ansokan_datum").duplicated("person_id")
    again = again[bed["ansokan_datum"] >= pd.Timestamp("2012-01-01")].mean()
    text = " ".join(sec.notes)
    assert f"{format_number(handed.mean(), 0, percent=True)} av bedömningarna lämnades över" in text
    assert f"{format_number(again, 1, percent=True)} av bedömningarna var en ny bedömning av en person" in text


def test_vagin_section_says_what_is_missing(survey):
    none = K.section_vagin(survey, K.uncomputable_measures(survey).assign(omrade_kod="ALLA"))
    assert "`bedomningar`" in " ".join(getattr(b, "text", "") for b in none.blocks)
    # assessments without the hand-over column: the rest is shown, the hand-overs are said to be missing
    frames = {**survey_frames(), **individual_frames()}
    frames["bedomningar"] = pd.DataFrame(
        {
            "person_id": frames["personer"]["person_id"].iloc[:2].to_numpy(),
            "ansokan_datum": ["2013-02-01", "2013-03-01"],
            "bedomning_datum": ["2013-02-11", "2013-03-21"],
            "resultat": ["hel", "ingen"],
        }
    )
    study = Study.from_frames(**frames)
    sec = K.section_vagin(study, full_measures(study, min_cell=1).table)
    text = " ".join(sec.notes)
    assert "Överlämningar mellan enheter kan inte redovisas" in text and "`overlamnad_till`" in text
    (table,) = sec.tables.values()
    assert MEASURES["vagin_andel_overlamnade"].label not in table.columns
    assert MEASURES["vagin_dagar_median"].label in table.columns
