"""The area profile (``insats.reports.profil``) against values computed by hand on a small study.

The study: four areas a, b, c, d with 20, 40, 3 and 30 persons; period 2013-01 to 2013-06.
Every person is an adult recipient (one assistance month, 2013-01, hinder arbetslöshet) with one
participation that starts 2013-01-10 and ends 2013-03-31, to work ("arbete") for the first
20 / 10 / 1 / 9 persons of a / b / c / d, otherwise "avbrott".

Outcome share (utfall_arbete_studier_andel), min_cell 5: a 20/20, b 10/40, c 1/3, d 9/30,
whole study 40/93. c is suppressed (base 3); the areas add up to ALLA, so the visible area with
the smallest numerator, d (9), is suppressed too. Published: a, b and ALLA.

Offer share (erbjudande_andel): everyone was offered within 90 days, so a 20/20, b 40/40,
c 3/3, d 30/30; c is suppressed, then a (smallest numerator, 20).
"""

import re

import numpy as np
import pandas as pd
import pytest

from insats.analysis.measures import compute_measures
from insats.data.study import Study
from insats.errors import InsatsError
from insats.reports import profil

Z = 1.959963984540054  # standard normal 97.5 % quantile


def wilson(k, n, z=Z):
    """The Wilson score interval written out (independently of insats.analysis.stats)."""
    p = k / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z / (1 + z * z / n) * np.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    return centre - half, centre + half


SIZES = {"a": 20, "b": 40, "c": 3, "d": 30}
TO_WORK = {"a": 20, "b": 10, "c": 1, "d": 9}


def small_study() -> Study:
    omraden = pd.DataFrame(
        {
            "omrade_kod": list(SIZES),
            "omrade": [f"Område {k.upper()}" for k in SIZES],
            "kommun_kod": ["0999"] * 4,
            "ar": [2013] * 4,
            "folkmangd": [1000] * 4,
        }
    )
    persons, aid, parts = [], [], []
    for area, n in SIZES.items():
        for i in range(n):
            pid = f"{area}{i}"
            persons.append(
                {
                    "person_id": pid,
                    "omrade_kod": area,
                    "fodelsear": 1980,
                    "kon": "K",
                    "forsorjningshinder": "arbetslos_ingen_ersattning",
                }
            )
            aid.append({"person_id": pid, "manad": "2013-01", "belopp": 5000.0})
            parts.append(
                {
                    "deltagande_id": f"d{pid}",
                    "person_id": pid,
                    "insats_id": "i1",
                    "start_datum": "2013-01-10",
                    "slut_datum": "2013-03-31",
                    "avslut": "arbete" if i < TO_WORK[area] else "avbrott",
                }
            )
    insatser = pd.DataFrame(
        {
            "insats_id": ["i1", "i2", "i3", "i4", "i5", "i6"],
            "omrade_kod": ["a", "b", "CENTRAL", "a", "a", "CENTRAL"],
            "namn": ["Träning A", "Kurs B", "Jobbtorg praktik", "Feriejobb A", "Matchning A (stängd)", "Jobbtorg ny"],
            "kategori": ["arbetstraning", "kurs", "praktik_privat", "feriejobb", "matchning", "matchning"],
            "regi": ["egen_omrade", "lov", "egen_central", "egen_omrade", "ideell", "egen_central"],
            "malgrupp": ["alla", "nyanlanda;unga_18_24", None, "unga_18_24", None, None],
            "platser": [10, 5, 8, 20, 4, 6],
            "narvarokrav": [True, False, True, False, False, True],
            "raknas_som_insats": [True, True, True, False, True, True],
            "giltig_fran": [None, None, None, None, None, "2014-01-01"],  # i6 opens after the period
            "giltig_till": [None, None, None, None, "2012-06-30", None],  # i5 closed before it
        }
    )
    medel = pd.DataFrame(
        [
            ("a", 2013, "arbetstraning", 100_000, True),
            ("a", 2013, "feriejobb", 20_000, False),
            ("b", 2013, "kurs", 50_000, True),
            ("CENTRAL", 2013, "praktik_privat", 30_000, True),
            ("a", 2012, "kurs", 99_999, True),  # outside the period's years
        ],
        columns=["omrade_kod", "ar", "kategori", "belopp", "raknas_som_insats"],
    )
    return Study.from_frames(
        omraden=omraden,
        personer=pd.DataFrame(persons),
        bistand=pd.DataFrame(aid),
        deltaganden=pd.DataFrame(parts),
        insatser=insatser,
        medel=medel,
    )


@pytest.fixture(scope="module")
def study():
    return small_study()


@pytest.fixture(scope="module")
def profiles(study):
    return {a: profil.build_profile(study, a, start="2013-01", end="2013-12") for a in SIZES}


def fig(profile, matt) -> pd.Series:
    f = profile.figures.set_index("matt")
    return f.loc[matt]


def number(text: str) -> float:
    """'43,0 %' -> 0.43; '120 000 kr' -> 120000."""
    t = text.replace("\u202f", "").replace("\u00a0", " ").replace("\u2212", "-").strip()
    pct = t.endswith("%")
    t = t.rstrip("%").replace("kr", "").strip().replace(",", ".")
    return float(t) / 100 if pct else float(t)


# --------------------------------------------------------------------------- area choice


def test_choose_area(study):
    assert profil.choose_area(study) == "a"  # the first area of omraden
    assert profil.choose_area(study, "c") == "c"
    assert profil.choose_area(study, "område b") == "b"  # a name, any case
    with pytest.raises(InsatsError, match=r"finns inte i studien.*a \(Område A\)"):
        profil.choose_area(study, "x")


# --------------------------------------------------------------------------- key figures


def test_outcome_figures_by_hand(profiles):
    a = fig(profiles["a"], "utfall_arbete_studier_andel")
    assert a["varde"] == 1.0 and (a["taljare"], a["namnare"]) == (20, 20)
    assert a["alla_varde"] == pytest.approx(40 / 93)
    assert a["ovriga_varde"] == pytest.approx(20 / 73)  # (40 - 20) / (93 - 20): b, c and d together
    # only a and b are published: too few areas for a rank interval, and a share gets no plain rank
    assert np.isnan(a["plats"]) and np.isnan(a["plats_lo"]) and np.isnan(a["krympt"]) and a["antal_rankade"] == 2
    # Wilson for 20/20: lo = 1 / (1 + z²/20), hi = 1
    assert a["ki_lo"] == pytest.approx(1 / (1 + Z * Z / 20), abs=1e-9)
    assert a["ki_hi"] == pytest.approx(1.0)
    # P(R = 20 | n = 20, p0 = 40/93) = (40/93)^20 ≈ 5e-8 < 0.001, so the 99.8 % upper limit is
    # below 20/20: a lies above it (with two published areas the overdispersion cannot be estimated, and the
    # adjusted limits are the plain ones)
    assert a["tratt"] == "over_998" and a["tratt_vanlig"] == "over_998"

    b = fig(profiles["b"], "utfall_arbete_studier_andel")
    assert b["varde"] == 0.25
    assert b["ovriga_varde"] == pytest.approx(30 / 53)
    assert np.isnan(b["plats"]) and b["antal_rankade"] == 2
    lo, hi = wilson(10, 40)
    assert (b["ki_lo"], b["ki_hi"]) == pytest.approx((lo, hi), abs=1e-9)
    # z = (0.25 - 0.4301) / sqrt(0.4301 · 0.5699 / 40) = -2.30: beyond 1.96, well inside 3.09
    assert b["tratt"] == "under_95"


def test_suppressed_area_and_its_rest_stay_suppressed(profiles):
    for area in ("c", "d"):  # c primary, d secondary suppression
        r = fig(profiles[area], "utfall_arbete_studier_andel")
        assert r["undertryckt"] and np.isnan(r["varde"]) and np.isnan(r["taljare"]) and np.isnan(r["namnare"])
        # ALLA (40/93) is published: a rest of (40 - t)/(93 - n) would give t and n back
        assert r["ovriga_undertryckt"] and np.isnan(r["ovriga_varde"]) and np.isnan(r["ovriga_namnare"])
        assert np.isnan(r["plats"]) and pd.isna(r["tratt"]) and np.isnan(r["ki_lo"])
        assert np.isnan(r["plats_lo"]) and np.isnan(r["krympt"])  # no shrunken value of a suppressed area
        row = profiles[area].key_table().loc["Andel avslut till arbete eller studier"]
        name = profiles[area].namn
        assert row[name] == ".." and row["Övriga områden"] == ".."
        assert row["Hela studien"] == "43,0\u00a0%"
    # offers: a is suppressed by secondary suppression (c 3/3 alone would be recomputable)
    r = fig(profiles["a"], "erbjudande_andel")
    assert r["undertryckt"] and r["ovriga_undertryckt"] and np.isnan(r["ovriga_varde"])


def test_no_rest_of_study_reveals_a_suppressed_area(profiles):
    for p in profiles.values():
        f = p.figures
        # a suppressed area value: the rest is never published (suppressed where it could be computed)
        assert f.loc[f["undertryckt"], ["ovriga_varde", "ovriga_taljare", "ovriga_namnare"]].isna().all(axis=None)
        rest_kind = f["matt"].isin(list(profil.REST_MEASURES))
        assert not (f["undertryckt"] & rest_kind & ~f["ovriga_undertryckt"]).any()
        assert f.loc[f["ovriga_undertryckt"], ["ovriga_varde", "ovriga_taljare", "ovriga_namnare"]].isna().all().all()


def test_rest_of_study_rules():
    share = "utfall_arbete_studier_andel"
    area = {"varde": 1.0, "taljare": 20.0, "namnare": 20.0, "undertryckt": False}
    # the rest's base would be 23 - 20 = 3 persons: suppressed
    r = profil.rest_of_study(share, area, {"varde": 1.0, "taljare": 23.0, "namnare": 23.0, "undertryckt": False})
    assert r["undertryckt"] and np.isnan(r["varde"])
    # numerator 22 - 20 = 2 persons (base 10): suppressed too
    r = profil.rest_of_study(share, area, {"varde": 0.73, "taljare": 22.0, "namnare": 30.0, "undertryckt": False})
    assert r["undertryckt"]
    # 0 persons is no disclosure
    r = profil.rest_of_study(share, area, {"varde": 0.67, "taljare": 20.0, "namnare": 30.0, "undertryckt": False})
    assert not r["undertryckt"] and r["varde"] == 0.0 and r["namnare"] == 10
    # a suppressed whole study suppresses the rest
    r = profil.rest_of_study(share, area, {"varde": np.nan, "taljare": np.nan, "namnare": np.nan, "undertryckt": True})
    assert r["undertryckt"]
    # places per 100: the numerator is places, not persons; only the base (persons) counts
    r = profil.rest_of_study(
        "utbud_platser_per_100",
        {"taljare": 10.0, "namnare": 20.0, "undertryckt": False},
        {"taljare": 12.0, "namnare": 30.0, "undertryckt": False},
    )
    assert not r["undertryckt"] and r["varde"] == pytest.approx(100 * 2 / 10)
    r = profil.rest_of_study(
        "utbud_platser_per_100",
        {"taljare": 10.0, "namnare": 20.0, "undertryckt": False},
        {"taljare": 30.0, "namnare": 22.0, "undertryckt": False},
    )
    assert r["undertryckt"]
    # kronor are not about persons: small sums are shown
    r = profil.rest_of_study(
        "medel_totalt",
        {"taljare": 100.0, "namnare": np.nan, "undertryckt": False},
        {"taljare": 103.0, "namnare": np.nan, "undertryckt": False},
    )
    assert r["varde"] == 3.0 and not r["undertryckt"]
    # not a ratio of sums: no rest, and nothing marked suppressed
    r = profil.rest_of_study(
        "utbud_insatser", {"taljare": 2.0, "undertryckt": False}, {"taljare": 3.0, "undertryckt": False}
    )
    assert np.isnan(r["varde"]) and not r["undertryckt"]


def test_utbud_and_medel_figures(profiles):
    a, b, c = profiles["a"], profiles["b"], profiles["c"]
    # counted and open: i1 (a), i2 (b), i3 (CENTRAL); i4 not counted, i5 closed, i6 opens in 2014
    assert (fig(a, "utbud_insatser")["varde"], fig(a, "utbud_insatser")["plats"]) == (2, 1)  # tie a = b
    assert (fig(c, "utbud_insatser")["varde"], fig(c, "utbud_insatser")["plats"]) == (1, 3)
    assert np.isnan(fig(a, "utbud_insatser")["ovriga_varde"])  # distinct counts do not subtract
    # places per 100: CENTRAL's 8 places shared by unemployed recipients (a 20, b 40, c 3, d 30 of 93).
    # M2: average places per 100 average monthly recipients; everyone has assistance in one month of the
    # profile's period (the publication year 2013, twelve months), so the average monthly recipients are a 20/12,
    # b 40/12, c 3/12, d 30/12 (the published base is the recipient-months 20, 40, 3, 30). c's base is 3 -> suppressed; then a (smallest base, 20) -> suppressed
    assert fig(a, "utbud_platser_per_100")["undertryckt"] and fig(a, "utbud_platser_per_100")["ovriga_undertryckt"]
    rb = fig(b, "utbud_platser_per_100")
    assert rb["varde"] == pytest.approx(100 * (5 + 8 * 40 / 93) / (40 / 12))
    assert rb["ovriga_varde"] == pytest.approx(100 * (23 - 5 - 8 * 40 / 93) / (53 / 12))
    assert rb["alla_varde"] == pytest.approx(100 * 23 / (93 / 12))
    # money per participant and month (M4): counted money without feriejobb over the whole year 2013 (the
    # profile's period), a 100 000, b 50 000 (CENTRAL's 15 000 a year is its own row, not in ALLA);
    # participant-months: i1 runs Jan–Mar for everyone, so a 60, b 120, c 9, d 90 (279). The rest of the
    # study for a: (150 000 − 100 000) / (279 − 60)
    md = fig(a, "medel_per_deltagare")
    assert (md["varde"], md["alla_varde"]) == pytest.approx((100_000 / 60, 150_000 / 279))
    assert md["ovriga_varde"] == pytest.approx(50_000 / 219)
    # money: a 120 000 (100 000 counted, 20 000 feriejobb), b 50 000, CENTRAL 30 000; total 200 000
    m = fig(a, "medel_totalt")
    assert (m["varde"], m["ovriga_varde"], m["alla_varde"]) == (120_000, 80_000, 200_000)
    f = fig(a, "medel_andel_feriejobb")
    assert (f["varde"], f["ovriga_varde"], f["alla_varde"]) == pytest.approx((1 / 6, 0.0, 0.1))
    r = fig(a, "medel_andel_raknas_som_insats")
    assert (r["varde"], r["ovriga_varde"], r["alla_varde"]) == pytest.approx((5 / 6, 1.0, 0.9))
    assert pd.isna(f["tratt"]) and np.isnan(f["ki_lo"])  # kronor are not persons: no funnel, no interval
    assert np.isfinite(fig(a, "medel_per_deltagare")["ovriga_varde"])  # ALLA is the areas' own money only


def test_key_table_display(profiles):
    t = profiles["a"].key_table()
    assert list(t.columns) == [
        "Område A",
        "Övriga områden",
        "Hela studien",
        "Plats (1 = högst)",
        "Justerad för litet underlag",
        "95 % konfidensintervall",
        "Trattdiagram",
    ]
    row = t.loc["Andel avslut till arbete eller studier"]
    assert row["Område A"] == "100,0\u00a0%" and row["Övriga områden"] == "27,4\u00a0%"
    # two published areas: no rank interval can be estimated, and a share is never ranked on its raw value
    assert (
        row["Plats (1 = högst)"] == "–"
        and row["Justerad för litet underlag"] == "–"
        and row["Trattdiagram"] == "Över 99,8 %"
    )
    assert t.loc["Antal insatser", "Plats (1 = högst)"] == "1 av 4"  # counts of interventions keep their rank
    assert row["95 % konfidensintervall"] == "83,9\u00a0% – 100,0\u00a0%"
    assert t.loc["Medel totalt (kr)", "Övriga områden"] == "80\u202f000\u00a0kr"
    assert t.loc["Antal insatser", "Övriga områden"] == "–"
    # measures with no value anywhere (no LOV providers, no whole calendar year) are left out
    assert "Andel som själva valt utförare (LOV)" not in t.index
    assert "andel som själva valt utförare (LOV)" in profiles["a"].key_notes()


def test_key_figures_use_the_published_table_only(study):
    res = compute_measures(study, start="2013-01", end="2013-12", min_cell=5, only=["utfall_arbete_studier_andel"])
    f = profil.key_figures(res.table, "c", measures=["utfall_arbete_studier_andel"])
    assert f["undertryckt"].iloc[0] and f[["varde", "taljare", "namnare", "ovriga_varde"]].isna().all(axis=None)


def _five_areas(sup_e: tuple[float, float] = (15.0, 50.0)) -> pd.DataFrame:
    """A published long table of one share: a–d published, e suppressed (its counts are not published),
    ALLA the sum including e, with the likställighet rows computed from the published areas."""
    from insats.analysis.measures import likstallighet

    m = "utfall_arbete_studier_andel"
    k = {"a": 30.0, "b": 50.0, "c": 20.0, "d": 45.0}
    n = {"a": 100.0, "b": 100.0, "c": 60.0, "d": 90.0}
    rows = [(m, c, k[c] / n[c], k[c], n[c], False) for c in k]
    rows.append((m, "e", np.nan, np.nan, np.nan, True))
    tk, tn = sum(k.values()) + sup_e[0], sum(n.values()) + sup_e[1]
    rows.append((m, "ALLA", tk / tn, tk, tn, False))
    long = pd.DataFrame(rows, columns=["matt", "omrade_kod", "varde", "taljare", "namnare", "undertryckt"])
    lik = likstallighet(long[~long["undertryckt"]], 5).assign(undertryckt=False)
    return pd.concat([long, lik], ignore_index=True)


def test_shares_get_rank_intervals_and_shrunken_values_from_published_areas_only():
    from insats.analysis.overdispersion import shrunken_ranks

    long = _five_areas()
    m = "utfall_arbete_studier_andel"
    tau2 = long.loc[long["matt"] == f"likstallighet_tau2__{m}", "varde"].iloc[0]
    ref = shrunken_ranks([30, 50, 20, 45], [100, 100, 60, 90], 160 / 400, tau2=tau2, index=list("abcd"))
    for area in "abcd":
        f = profil.key_figures(long, area, measures=[m]).iloc[0]
        assert np.isnan(f["plats"])  # a share is not ranked on its raw value
        assert (f["plats_lo"], f["plats_hi"]) == (ref.loc[area, "rang_lo"], ref.loc[area, "rang_hi"])
        assert f["krympt"] == pytest.approx(ref.loc[area, "skattning"])
        assert f["plats_lo"] <= f["plats_hi"] and f["antal_rankade"] == 4
    # the shrunken share lies between the area's own share and the whole study's
    b = profil.key_figures(long, "b", measures=[m]).iloc[0]
    assert 160 / 400 < b["krympt"] < 0.5
    e = profil.key_figures(long, "e", measures=[m]).iloc[0]
    assert e["undertryckt"] and np.isnan(e["krympt"]) and np.isnan(e["plats_lo"]) and pd.isna(e["tratt"])
    row = profil.key_figure_table(profil.key_figures(long, "e", measures=[m]), "E").iloc[0]
    assert row["Justerad för litet underlag"] == ".." and row["Plats (1 = högst)"] == ".."
    # a suppressed row takes no part, whatever it holds
    other = long.copy()
    other.loc[(other["matt"] == m) & (other["omrade_kod"] == "e"), ["varde", "taljare", "namnare"]] = [0.9, 45, 50]
    pd.testing.assert_frame_equal(
        profil.key_figures(other, "a", measures=[m]), profil.key_figures(long, "a", measures=[m])
    )


def test_flags_use_the_adjusted_limits_and_say_where_the_plain_ones_differ():
    long = _five_areas()
    m = "utfall_arbete_studier_andel"
    f = profil.key_figures(long, "b", measures=[m])
    flags = long[long["matt"].str.startswith("likstallighet_tratt")].set_index(["matt", "omrade_kod"])["varde"]
    code = {v: k for k, v in profil.figures.FUNNEL_CODES.items()}
    assert f["tratt"].iloc[0] == code[int(flags[(f"likstallighet_tratt__{m}", "b")])]
    assert f["tratt_vanlig"].iloc[0] == code[int(flags[(f"likstallighet_tratt_vanlig__{m}", "b")])]
    # b (50/100 against 40 %) is outside the plain limits only: the sentence says the difference is of the
    # size areas usually have
    assert f["tratt_vanlig"].iloc[0] == "over_95" and f["tratt"].iloc[0] == "inom"
    (s,) = [x for x in profil.standout_sentences(f, "B") if "brukar" in x]
    assert "mer än slumpen ger, men inte mer än områden brukar skilja sig åt" in s


def test_outcome_sentence_when_raw_and_adjusted_point_different_ways():
    base = {"undertryckt": False, "enhet": None, "benamning": "", "alla_varde": np.nan}
    figures = pd.DataFrame(
        [
            {
                **base,
                "matt": "utfall_arbete_studier_andel",
                "varde": 0.28,
                "tratt": "over_95",
                "ki_lo": 0.2,
                "ki_hi": 0.35,
            },
            {**base, "matt": "justerat_utfall_oe", "varde": 0.76, "tratt": None, "ki_lo": 0.59, "ki_hi": 0.95},
        ]
    )
    s = profil.figures.outcome_sentence(figures, "Norrby")
    assert s.startswith("Andelen avslut till arbete eller studier i Norrby är högre än i hela studien")
    assert "lägre än väntat" in s and "0,76" in s and "Lita på den justerade jämförelsen" in s
    agree = figures.assign(ki_lo=[0.2, 1.05], ki_hi=[0.35, 1.3], varde=[0.28, 1.2])
    assert profil.figures.outcome_sentence(agree, "Norrby") is None
    hidden = figures.assign(undertryckt=[False, True])
    assert profil.figures.outcome_sentence(hidden, "Norrby") is None


# --------------------------------------------------------------------------- sentences


def test_standout_sentences_quote_their_numbers(profiles):
    (s,) = [x for x in profiles["a"].standouts() if x.startswith("Andel avslut")]
    m = re.match(
        r"Andel avslut till arbete eller studier är (.+?) i Område A mot (.+?) i hela studien – över "
        r"trattdiagrammets 99,8 %-gräns",
        s,
    )
    assert m, s
    assert number(m.group(1)) == pytest.approx(1.0) and number(m.group(2)) == pytest.approx(40 / 93, abs=5e-4)

    # offers this year: c's count is small, so c and a partner (a, the smallest area) are hidden; b, d and the
    # whole study are shown. Everybody was offered, so the hidden areas' complements (those not offered) are
    # known to be 0: "nobody", which needs no protection (antaganden R6), as a shown 0 needs none
    sb = [x for x in profiles["b"].standouts() if x.startswith("Andel avslut")]
    assert len(sb) == 1
    assert not any("erbjudits" in x for x in profiles["b"].standouts())
    assert any(
        "andel som erbjudits insats inom 90 dagar är underlaget i Område A för litet" in x
        for x in profiles["a"].standouts()
    )
    m = re.match(
        r"Andel avslut till arbete eller studier är (.+?) i Område B mot (.+?) i hela studien – under "
        r"trattdiagrammets 95 %-gräns \(men inom 99,8 %-gränsen\)",
        sb[0],
    )
    assert m, sb[0]
    assert number(m.group(1)) == pytest.approx(0.25) and number(m.group(2)) == pytest.approx(40 / 93, abs=5e-4)


def test_standout_sentences_for_suppressed_and_unremarkable_areas(profiles):
    sc = profiles["c"].standouts()
    assert len(sc) == 1
    assert sc[0].startswith(
        "För andel som erbjudits insats inom 90 dagar, andel avslut till arbete eller studier "
        "är underlaget i Område C för litet"
    )
    assert not re.search(r"\d+,\d", sc[0])  # no number of a suppressed area
    figures = profiles["d"].figures.copy()
    figures["tratt"] = figures["tratt"].where(figures["tratt"].isna(), "inom")
    figures["tratt_vanlig"] = figures["tratt_vanlig"].where(figures["tratt_vanlig"].isna(), "inom")
    figures = figures[figures["matt"] != "justerat_utfall_oe"]
    s, hidden = profil.standout_sentences(figures, "Område D")  # d's outcome is hidden (the partner of c's)
    assert s.startswith(
        "Område D ligger inom trattdiagrammets 95 %-gränser på den enda andel som kan prövas "
        "(andel som erbjudits insats inom 90 dagar): skillnaden mot hela studien"
    )
    assert hidden.startswith("För andel avslut till arbete eller studier är underlaget i Område D för litet")


def test_interventions(study, profiles):
    a = profiles["a"].interventions
    assert list(a["insats_id"]) == ["i1", "i4", "i3"]  # own (by category: arbetsträning, feriejobb), then central
    assert list(a["central"]) == [False, False, True] and list(a["raknas_som_insats"]) == [True, False, True]
    text = profiles["a"].interventions_text()
    assert text[0] == (
        "Område A kan använda 2 insatser under perioden: 1 egen och 1 central (för hela kommunen), "
        "i 2 olika kategorier."
    )
    # the sentence agrees with the measures
    assert fig(profiles["a"], "utbud_insatser")["varde"] == 2 and fig(profiles["a"], "utbud_kategorier")["varde"] == 2
    assert text[1] == "De egna insatserna har 10 platser; de centrala har 8 platser som delas med alla områden."
    assert text[2] == "Dessutom finns 1 verksamhet som inte räknas som insats: Feriejobb A."
    shown = profiles["b"].interventions_display()
    assert shown.loc["Kurs B", "Målgrupp"] == "Nyanlända, Unga 18–24 år"
    assert shown.loc["Kurs B", "Regi"] == "LOV-utförare" and shown.loc["Jobbtorg praktik", "Var"] == "Central"
    assert (
        profiles["c"]
        .interventions_text()[0]
        .startswith("Område C kan använda 1 insats under perioden: 0 egna och 1 central")
    )


def test_spending(profiles):
    sp = profiles["a"].spending
    assert list(sp.index) == ["arbetstraning", "kurs", "praktik_privat", "feriejobb"]  # code-list order
    assert sp.loc["arbetstraning", "belopp_omrade"] == 100_000 and sp.loc["kurs", "belopp_omrade"] == 0
    assert sp["andel_studie"].to_dict() == pytest.approx(
        {"arbetstraning": 0.5, "kurs": 0.25, "praktik_privat": 0.15, "feriejobb": 0.1}
    )
    assert sp.attrs["ar"] == [2013]
    s = profiles["a"].spending_text()
    assert s == [
        "Område A redovisar 120\u202f000\u00a0kr i medel för 2013, 60,0\u00a0% av hela studiens 200\u202f000\u00a0kr.",
        "Av områdets medel gick 16,7\u00a0% till feriejobb (hela studien 10,0\u00a0%) och 83,3\u00a0% räknas som "
        "insats (hela studien 90,0\u00a0%).",
        "Störst skillnad mot hela studien: arbetsträning, 83,3\u00a0% av områdets medel mot 50,0\u00a0%.",
    ]
    # the sentence agrees with the measures medel_andel_feriejobb / medel_andel_raknas_som_insats
    assert number("16,7 %") == pytest.approx(fig(profiles["a"], "medel_andel_feriejobb")["varde"], abs=5e-4)
    t = profiles["a"].spending_display()
    assert (
        t.loc["Totalt", "Område A (kr)"] == "120\u202f000\u00a0kr" and t.loc["Kurs", "Område A, andel"] == "0,0\u00a0%"
    )
    assert profiles["c"].spending_text() == ["Område C har inga medel redovisade för 2013."]


def test_summary_and_missing_tables(study, profiles):
    summary = profiles["a"].summary()
    assert "Område A kan använda 2 insatser" in summary and "Område A redovisar" in summary
    (note,) = profiles["a"].missing()
    assert "`bedomningar`" in note and "andel bedömda inom 30 dagar" in note
    survey = Study(tables={k: study[k] for k in ("omraden", "insatser", "medel")})
    p = profil.build_profile(survey, "b", start="2013-01", end="2013-12")
    assert "Utfall kan inte jämföras: studien saknar `deltaganden`, `personer`." in p.summary()
    assert p.funnel_chart() is None and "Utfallet kan inte beräknas" in p.outcome_text()
    assert "andel avslut till arbete eller studier" in p.missing()[0]
    assert p.chart_measures() == ["medel_andel_feriejobb", "utbud_insatser", "utbud_andel_narvarokrav"]


def test_outcome_text_and_charts(profiles):
    assert profiles["a"].outcome_text() == (
        "Område A: 100,0\u00a0% av 20 avslutade deltaganden ledde till arbete eller studier, mot 43,0\u00a0% i hela "
        "studien – över trattdiagrammets 99,8 %-gräns, en skillnad som varken slumpen eller de vanliga skillnaderna "
        "mellan områden nästan någonsin ger."
    )
    assert "för få avslutade deltaganden" in profiles["c"].outcome_text()
    # the offer share is shown for b, d and the whole study (hidden for a and c), so it is charted first
    assert profiles["a"].chart_measures() == [
        "erbjudande_andel",
        "utfall_arbete_studier_andel",
        "utbud_platser_per_100",
        "medel_andel_feriejobb",
    ]
    assert len(profiles["a"].ranked_charts()) == 4
    assert profiles["a"].funnel_chart() is not None and profiles["a"].spending_chart() is not None
    assert profiles["a"].params["omrade"] == "a" and profiles["a"].params["fran"] == "2013-01"
