"""Drop-outs before and after the attendance requirement, and what follows a drop-out
(insats.reports.utvardering.avbrott): hand counts on the small study, an independent computation from
the raw generated Sundbyberg tables, and a study without ``avslut``."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from statsmodels.stats.proportion import confint_proportions_2indep

from insats.analysis.stats import newcombe_interval
from insats.contract import ALLA
from insats.data.load import load_study
from insats.data.study import Study
from insats.reports import utvardering as U
from insats.reports.utvardering import avbrott as A
from tests.reports.test_utvardering import small_study
from tests.support import ROOT

SBG = ROOT / "data" / "exempel" / "sundbyberg"


def _with(study: Study, **changes) -> Study:
    frames = {n: study[n] for n in study.tables}
    frames.update(changes)
    return Study.from_frames(**frames)


def test_dropouts_by_period_hand_count():
    # reform 2016-03-01: before D1 (arbete, started 02-01) and D4 (avbrott, 01-15); after D2 (studier, 07-05);
    # D3 is ongoing. All three interventions have the requirement.
    ctx = U.make_context(small_study(), "2016-01", "2016-12", min_cell=1)
    f = A.dropout_frame(ctx, "2016-03-01")
    assert sorted(f["avslut"]) == ["arbete", "avbrott", "studier"]
    t = A.dropout_by_period(f).set_index("krav")
    assert list(t.index) == ["med", ALLA]
    for k in ("med", ALLA):
        r = t.loc[k]
        assert (r["k_fore"], r["n_fore"], r["k_efter"], r["n_efter"]) == (1, 2, 0, 1)
        assert r["skillnad"] == pytest.approx(-0.5)
        lo, hi = confint_proportions_2indep(0, 1, 1, 2, method="newcomb", compare="diff")
        assert (r["lo"], r["hi"]) == pytest.approx((lo, hi))


def test_after_dropout_hand_count():
    s = small_study()
    d = s["deltaganden"].copy()
    # P4 starts a new participation 60 days after the drop-out (D4 ended 2016-04-14)
    extra = d.iloc[[3]].assign(deltagande_id="D5", start_datum=pd.Timestamp("2016-06-13"), slut_datum=pd.NaT)
    extra["avslut"] = None
    ctx = U.make_context(_with(s, deltaganden=pd.concat([d, extra], ignore_index=True)), "2016-01", "2016-12")
    f = A.dropout_frame(ctx, "2016-03-01")
    after = A.after_dropout(ctx, f)
    by = dict(zip(f["avslut"], after.itertuples(index=False)))
    assert by["avbrott"].grupp == "avbrott" and by["avbrott"].ny_insats and by["avbrott"].ny_ok
    # D4 ended in April; P4 has assistance only to April: no assistance May–July
    assert by["avbrott"].bistand_ok and not by["avbrott"].bistand
    # D1 ended 03-01, P1 has assistance to June; D2 ended 08-04, P2 to December; neither has a new participation
    assert by["arbete"].bistand and by["studier"].bistand
    assert not by["arbete"].ny_insats and not by["studier"].ny_insats
    ny = A.followup_table(after, "ny_insats", "ny_ok").set_index("grupp")
    assert (ny.loc["avbrott", "taljare"], ny.loc["avbrott", "namnare"]) == (1, 1)
    assert (ny.loc["annat", "taljare"], ny.loc["annat", "namnare"]) == (0, 2)
    assert ny.loc[ALLA, "namnare"] == 3


def test_new_intervention_window_ends_with_the_data():
    # the data end in December 2016 (the last bistand month): a participation ending 12-20 has neither its
    # 90 days nor its three following months inside the data; D4 (ended 04-14) has both
    s = small_study()
    d = s["deltaganden"].copy()
    d.loc[d["deltagande_id"] == "D2", "slut_datum"] = pd.Timestamp("2016-12-20")
    ctx = U.make_context(_with(s, deltaganden=d), "2016-01", "2016-12")
    f = A.dropout_frame(ctx, "2016-03-01")
    after = A.after_dropout(ctx, f).set_index(f["avslut"].to_numpy())
    assert not after.loc["studier", "ny_ok"] and not after.loc["studier", "bistand_ok"]
    assert after.loc["avbrott", "ny_ok"]


def test_section_without_avslut_says_what_is_missing():
    s = small_study()
    d = s["deltaganden"].drop(columns=["avslut"])
    study = _with(s, deltaganden=d)
    ctx = U.make_context(study, "2016-01", "2016-12", min_cell=1)
    sec = U.section_attendance(ctx, None, "2016-03-01", min_cell=1)
    notes = " ".join(b.text for b in sec.blocks if hasattr(b, "text"))
    assert "Avbrotten kan inte mätas" in notes and "`avslut`" in notes
    assert not any(k.startswith("avbrott") for k in sec.findings)
    recs = U.recommendations(
        {"narvaro_nivaforandring": 0.1, "narvaro_lo": 0.05, "narvaro_hi": 0.15}, {}
    )  # attendance rose, drop-outs unknown
    assert any("kunde inte jämföras" in r.text for r in recs)


def test_recommendations_use_the_measured_dropouts():
    base = {"narvaro_nivaforandring": 0.1, "narvaro_lo": 0.05, "narvaro_hi": 0.15}
    up = {"avbrott_fore": 0.25, "avbrott_efter": 0.35, "avbrott_skillnad": 0.10, "avbrott_lo": 0.05, "avbrott_hi": 0.15}
    flat = {**up, "avbrott_lo": -0.02}
    texts = [r.text.replace("\xa0", " ") for r in U.recommendations({**base, **up})]
    assert any("avbrotten ökade från 25 % till 35 %" in t and "10,0 procentenheter" in t for t in texts)
    texts = [r.text for r in U.recommendations({**base, **flat})]
    assert any("ändrades inte säkert" in t for t in texts)
    assert not any("avbrotten ökade" in t.lower() for t in texts)
    # no increase in attendance but more drop-outs: a recommendation of its own
    texts = [
        r.text
        for r in U.recommendations({"narvaro_nivaforandring": 0.0, "narvaro_lo": -0.05, "narvaro_hi": 0.05, **up})
    ]
    assert any(t.startswith("Andelen avbrott ökade efter närvarokravet") for t in texts)


@pytest.fixture(scope="module")
def sbg_section():
    if not SBG.exists():
        pytest.skip("exempeldata saknas: kör insats generate sundbyberg")
    study = load_study(SBG)
    ctx = U.make_context(study, "2015-01", "2016-12")
    return study, U.section_attendance(ctx, None, "2016-01-01")


def test_sundbyberg_dropouts_agree_with_raw_tables(sbg_section):
    """The section's numbers against plain pandas on the raw tables, the interval against statsmodels."""
    study, sec = sbg_section
    d = study["deltaganden"]
    ins = study["insatser"].set_index("insats_id")
    krav = d["insats_id"].map(ins["narvarokrav"].astype("boolean")).astype("boolean")
    ended = d["slut_datum"].between("2015-01-01", "2016-12-31") & d["avslut"].notna() & (krav == True)  # noqa: E712
    e = d[ended]
    after = e["start_datum"] >= "2016-01-01"
    k1, n1 = int((e.loc[after, "avslut"] == "avbrott").sum()), int(after.sum())
    k0, n0 = int((e.loc[~after, "avslut"] == "avbrott").sum()), int((~after).sum())
    f = sec.findings
    assert f["avbrott_grupp"] == "med"
    assert f["avbrott_fore"] == pytest.approx(k0 / n0) and f["avbrott_efter"] == pytest.approx(k1 / n1)
    lo, hi = confint_proportions_2indep(k1, n1, k0, n0, method="newcomb", compare="diff")
    assert (f["avbrott_lo"], f["avbrott_hi"]) == pytest.approx((lo, hi))
    # the planted rise (30 % → 40 % of unsuccessful endings) shows as more drop-outs beyond chance
    assert f["avbrott_lo"] > 0
    assert "fler avbrott än slumpen kan förklara" in sec.conclusion
    # a new intervention within 90 days of a drop-out, from the raw tables
    drop = d[(d["avslut"] == "avbrott") & d["slut_datum"].between("2015-01-01", "2016-12-31")]
    drop = drop[drop["slut_datum"] + pd.Timedelta(days=90) <= pd.Timestamp("2016-12-31")]
    m = drop.reset_index().merge(d[["person_id", "deltagande_id", "start_datum"]], on="person_id", suffixes=("", "_2"))
    m = m[
        (m["deltagande_id_2"] != m["deltagande_id"])
        & (m["start_datum_2"] >= m["slut_datum"])
        & (m["start_datum_2"] <= m["slut_datum"] + pd.Timedelta(days=90))
    ]
    assert f["avbrott_ny_insats"] == pytest.approx(m["index"].nunique() / len(drop))
    assert 0 < f["avbrott_bistand"] <= 1 and np.isfinite(f["avbrott_bistand_lo"])
    captions = [b.caption for b in sec.blocks if hasattr(b, "caption")]
    assert any(c.startswith("Andel avbrott bland avslutade deltaganden") for c in captions)
    assert "Efter ett avbrott: ny insats och ekonomiskt bistånd" in captions


def test_a_small_count_on_one_side_hides_the_row_on_both():
    t = pd.DataFrame(
        {
            "krav": ["med", "utan", ALLA],
            "k_fore": [10.0, 6.0, 16.0],
            "n_fore": [50.0, 40.0, 90.0],
            "k_efter": [1.0, 0.0, 1.0],  # one drop-out after in "med": hidden before too
            "n_efter": [30.0, 0.0, 30.0],
        }
    )
    assert list(A.small_on_either_side(t, 5)) == [True, False, True]
    t.loc[1, "n_fore"] = 8.0  # 8 − 6 = 2 ended without drop-out
    assert list(A.small_on_either_side(t, 5)) == [True, True, True]
    # in the section: with min_cell 5 nothing of the small study's before/after table is shown
    ctx = U.make_context(small_study(), "2016-01", "2016-12", min_cell=5)
    sec = U.section_attendance(ctx, None, "2016-03-01", min_cell=5)
    table = next(b.frame for b in sec.blocks if getattr(b, "caption", "").startswith("Andel avbrott"))
    assert table.drop(columns=[""]).isin(["..", ""]).all().all()
    assert "avbrott_skillnad" not in sec.findings


# --------------------------------------------------------------------------- regimes and the comparison without the requirement


def _newcombe(k1, n1, k0, n0):
    return confint_proportions_2indep(k1, n1, k0, n0, method="newcomb", compare="diff")


def test_versus_without_requirement_hand_count():
    # with the requirement 10/50 before, 20/50 after; without 10/40 before, 12/40 after
    t = pd.DataFrame(
        {"krav": ["med", "utan"], "k_fore": [10.0, 10.0], "n_fore": [50.0, 40.0], "k_efter": [20.0, 12.0]}
    ).assign(n_efter=[50.0, 40.0])
    t["skillnad"] = t["k_efter"] / t["n_efter"] - t["k_fore"] / t["n_fore"]
    t["lo"], t["hi"] = zip(*(_newcombe(r.k_efter, r.n_efter, r.k_fore, r.n_fore) for r in t.itertuples()))
    c = A.dropout_versus_without(t)
    assert c["med"] == pytest.approx(0.2) and c["utan"] == pytest.approx(0.05)
    assert c["skillnad"] == pytest.approx(0.15)
    (l1, u1), (l2, u2) = _newcombe(20, 50, 10, 50), _newcombe(12, 40, 10, 40)
    assert c["lo"] == pytest.approx(0.15 - np.hypot(0.2 - l1, u2 - 0.05))
    assert c["hi"] == pytest.approx(0.15 + np.hypot(u1 - 0.2, 0.05 - l2))
    # without endings after in the group without the requirement: no comparison
    assert A.dropout_versus_without(t.assign(n_efter=[50.0, 0.0], k_efter=[20.0, 0.0])) is None
    assert A.dropout_versus_without(t[t["krav"] == "med"]) is None


def test_versus_without_requirement_covers_the_true_difference():
    """MOVER interval of the difference in differences: coverage by simulation (fixed seed, 1 000 draws)."""
    rng = np.random.default_rng(20)
    p = np.array([0.25, 0.35, 0.20, 0.22])  # med before, med after, utan before, utan after
    n = np.array([120, 80, 90, 70])
    truth = (p[1] - p[0]) - (p[3] - p[2])
    k = rng.binomial(n, p, size=(1000, 4)).astype(float)
    hits = 0
    for kb, ka, ub, ua in k:
        t = pd.DataFrame(
            {
                "krav": ["med", "utan"],
                "k_fore": [kb, ub],
                "n_fore": n[[0, 2]],
                "k_efter": [ka, ua],
                "n_efter": n[[1, 3]],
            }
        ).astype({"n_fore": float, "n_efter": float})
        t["skillnad"] = t["k_efter"] / t["n_efter"] - t["k_fore"] / t["n_fore"]
        t["lo"], t["hi"] = newcombe_interval(t["k_efter"], t["n_efter"], t["k_fore"], t["n_fore"])
        c = A.dropout_versus_without(t)
        hits += c["lo"] <= truth <= c["hi"]
    assert 0.93 <= hits / 1000 <= 0.975


def _with_unrequired_intervention() -> Study:
    """The small study with I3 (LOV, ongoing D3) without the requirement and two more endings at I3: D5 (P3,
    started 01-05, avbrott) before the reform 2016-03-01 and D6 (P1, started 04-01, arbete) after it."""
    s = small_study()
    ins = s["insatser"].copy()
    ins.loc[ins["insats_id"] == "I3", "narvarokrav"] = False
    d = s["deltaganden"].copy()
    extra = pd.concat([d.iloc[[2]], d.iloc[[0]]], ignore_index=True)
    extra["deltagande_id"] = ["D5", "D6"]
    extra["person_id"] = ["P3", "P1"]
    extra["insats_id"] = "I3"
    extra["start_datum"] = pd.to_datetime(["2016-01-05", "2016-04-01"])
    extra["slut_datum"] = pd.to_datetime(["2016-02-10", "2016-05-01"])
    extra["avslut"] = ["avbrott", "arbete"]
    return _with(s, insatser=ins, deltaganden=pd.concat([d, extra], ignore_index=True))


def test_section_compares_with_interventions_without_the_requirement():
    ctx = U.make_context(_with_unrequired_intervention(), "2016-01", "2016-12", min_cell=1)
    sec = U.section_attendance(ctx, None, "2016-03-01", min_cell=1)
    f = sec.findings
    # by hand: with the requirement 1/2 before (D1, D4), 0/1 after (D2): −0.5; without 1/1 before (D5), 0/1 after
    # (D6): −1.0; difference −0.5 − (−1.0) = 0.5
    assert f["avbrott_skillnad"] == pytest.approx(-0.5)
    assert f["avbrott_utan_skillnad"] == pytest.approx(-1.0)
    assert f["avbrott_jamforelse"] == pytest.approx(0.5)
    assert f["avbrott_jamforelse_lo"] < 0.5 < f["avbrott_jamforelse_hi"]
    captions = [b.caption for b in sec.blocks if hasattr(b, "caption")]
    assert any(c.startswith("Förändring av avbrott under samma månader") for c in captions)
    assert "Jämfört med insatser utan närvarokrav under samma månader" in sec.conclusion
    assert "avbrott_lov_start" not in f  # the small study's LOV providers are there from the start


def test_sundbyberg_dropouts_say_lov_started_the_same_day(sbg_section):
    study, sec = sbg_section
    ins, d = study["insatser"], study["deltaganden"]
    lov = ins["lov"].astype("boolean").fillna(False).astype(bool)
    assert pd.to_datetime(ins.loc[lov, "giltig_fran"]).min() == pd.Timestamp("2016-01-01")  # = reform_datum
    notes = " ".join(b.text for b in sec.blocks if hasattr(b, "text"))
    assert "Två perioder med olika regler" in notes and "samma dag som närvarokravet" in notes
    # from the raw tables: no ended participation in an intervention without the requirement started after the
    # reform, so there is nothing to compare with in the same months, and the report says so
    without = set(ins.loc[~ins["narvarokrav"].astype("boolean").fillna(True).astype(bool), "insats_id"])
    e = d[d["insats_id"].isin(without) & d["slut_datum"].between("2015-01-01", "2016-12-31") & d["avslut"].notna()]
    assert len(e) > 0 and (e["start_datum"] < "2016-01-01").all()
    assert "Ingen jämförelse under samma månader" in notes and "avbrott_jamforelse" not in sec.findings
    assert "LOV-utförarna började samma dag som närvarokravet (2016-01-01)" in sec.conclusion
    assert "Frånvaro och vad den leder till – data saknas för detta" in notes
