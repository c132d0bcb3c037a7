"""Tests of insats.analysis.capacity: occupancy against a day-by-day count on the Sundbyberg example,
Kaplan–Meier against statsmodels, and a small study computed by hand."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from statsmodels.duration.survfunc import SurvfuncRight

from insats.analysis.capacity import (
    DAYS_PER_MONTH,
    capacity_from_occupancy,
    kaplan_meier,
    occupancy,
    restricted_mean,
)
from insats.contract import ALLA, HINDERGRUPP
from insats.data.load import load_study
from insats.errors import DataError, UsageError
from tests.support import ROOT

SUNDBYBERG = ROOT / "data" / "exempel" / "sundbyberg"


def _frame(rows):
    return pd.DataFrame(
        {
            "person_id": [r[0] for r in rows],
            "start_datum": pd.to_datetime([r[1] for r in rows]),
            "slut_datum": pd.to_datetime([r[2] for r in rows]),
            "kategori": [r[3] for r in rows],
        }
    )


# --------------------------------------------------------------------------- by hand
def test_small_study_by_hand():
    """Period 2016-01-01 … 2016-01-10 (P = 10 days); persons a, b, c, d in scope, x outside.

    a: kurs 01-01 … 01-04 (4 days) and kurs 01-08 … ongoing (3 days in the period)
    b: praktik 2015-12-30 … 01-02 (2 days in the period; started before it: not in the KM sample)
    x: kurs 01-05 … 01-06 (2 days, outside the scope)
    c, d: no participation (not reached)
    """
    d = _frame(
        [
            ("a", "2016-01-01", "2016-01-04", "kurs"),
            ("a", "2016-01-08", None, "kurs"),
            ("b", "2015-12-30", "2016-01-02", "praktik"),
            ("x", "2016-01-05", "2016-01-06", "kurs"),
        ]
    )
    res = capacity_from_occupancy(d, "2016-01-01", "2016-01-10", in_scope=["a", "b", "c", "d"])
    t = res.table.set_index("kategori")
    assert t.loc["kurs", "belaggning_i_omfattning"] == pytest.approx((4 + 3) / 10)
    assert t.loc["kurs", "belaggning_utanfor"] == pytest.approx(2 / 10)
    assert t.loc["praktik", "belaggning"] == pytest.approx(2 / 10)
    assert t.loc[ALLA, "belaggning"] == pytest.approx(11 / 10)
    assert (res.n_scope, res.reached) == (4, 2)
    assert t.loc[ALLA, "ej_nadda"] == 2
    # kurs durations: 4 (ended), 2 (ended), 3 (censored at the data's end 01-10); KM: S = 1 until 2,
    # 2/3 from 2 (3 at risk, 1 event), then at 4: 1 at risk, 1 event -> 0. Restricted mean to 10 days:
    # 2·1 + (4 − 2)·2/3 = 3.333
    assert t.loc["kurs", "dagar_km"] == pytest.approx(2 + 2 * 2 / 3)
    assert t.loc["kurs", "pagaende"] == 1 and t.loc["kurs", "deltaganden_startade"] == 3
    # participations per reached person: a started 2 kurs in the period; b's praktik started before it
    assert t.loc["kurs", "deltaganden_per_person"] == pytest.approx(2 / 2)
    assert t.loc["praktik", "deltaganden_per_person"] == 0
    assert t.loc["kurs", "tillkommande"] == pytest.approx(2 * 1.0 * (2 + 4 / 3) / 10)
    assert t.loc["praktik", "tillkommande"] == 0
    assert t.loc[ALLA, "tillkommande"] == pytest.approx(t.loc["kurs", "tillkommande"])
    assert t.loc[ALLA, "behov"] == pytest.approx(11 / 10 + t.loc["kurs", "tillkommande"])
    assert t.loc["kurs", "manader_km"] == pytest.approx(t.loc["kurs", "dagar_km"] / DAYS_PER_MONTH)
    assert t["platser"].isna().all()


def test_gap_against_given_places_and_monthly_split():
    d = _frame([("a", "2016-01-10", "2016-02-09", "kurs"), ("x", "2016-02-01", None, "kurs")])
    res = capacity_from_occupancy(d, "2016-01", "2016-02", in_scope=["a"], platser={"kurs": 1.5, "vagledning": 2.0})
    t = res.table.set_index("kategori")
    assert t.loc["vagledning", "belaggning"] == 0 and t.loc["vagledning", "platser"] == 2.0
    assert t.loc[ALLA, "platser"] == pytest.approx(3.5)
    assert t.loc[ALLA, "gap"] == pytest.approx(t.loc[ALLA, "behov"] - 3.5)
    m = res.monthly.set_index("manad")
    assert m.loc["2016-01-01", "i_omfattning"] == pytest.approx(22 / 31)
    assert m.loc["2016-02-01", "i_omfattning"] == pytest.approx(9 / 29)
    assert m.loc["2016-02-01", "utanfor"] == pytest.approx(1.0)
    assert (m["totalt"] == m["i_omfattning"] + m["utanfor"]).all()


def test_refusals():
    d = _frame([("a", "2016-01-10", "2016-01-05", "kurs")])
    with pytest.raises(DataError, match="slutar före sin start"):
        capacity_from_occupancy(d, "2016-01", "2016-02", in_scope=["a"])
    with pytest.raises(UsageError, match="kategori"):
        capacity_from_occupancy(d.drop(columns="kategori"), "2016-01", "2016-02", in_scope=["a"])
    with pytest.raises(UsageError, match="före sin början"):
        occupancy(d, "2016-03", "2016-02")


# --------------------------------------------------------------------------- Kaplan–Meier
def test_kaplan_meier_matches_statsmodels():
    rng = np.random.default_rng(7)
    t = np.ceil(rng.gamma(2.0, 45.0, 300))
    censor = np.ceil(rng.uniform(10, 400, 300))
    observed = t <= censor
    time = np.minimum(t, censor)
    curve = kaplan_meier(time, observed)
    ref = SurvfuncRight(time, observed.astype(int))
    np.testing.assert_allclose(curve["tid"], ref.surv_times)
    np.testing.assert_allclose(curve["overlevnad"], ref.surv_prob)
    # restricted mean by integrating statsmodels' step function on a fine grid
    grid = np.arange(0, 365, 0.25)
    steps = np.searchsorted(ref.surv_times, grid, side="right")
    surv = np.concatenate([[1.0], ref.surv_prob])[steps]
    assert restricted_mean(curve, 365) == pytest.approx(np.sum(surv) * 0.25, rel=1e-3)


def test_without_censoring_the_restricted_mean_is_the_mean_of_capped_durations():
    t = np.array([3.0, 10, 10, 40, 200])
    curve = kaplan_meier(t, np.ones(5, bool))
    assert restricted_mean(curve, 1000) == pytest.approx(t.mean())
    assert restricted_mean(curve, 30) == pytest.approx(np.minimum(t, 30).mean())


# --------------------------------------------------------------------------- the Sundbyberg example
@pytest.fixture(scope="module")
def sundbyberg():
    if not SUNDBYBERG.exists():
        pytest.skip("the example study is not linked (data/exempel)")
    study = load_study(SUNDBYBERG)
    ins = study["insatser"]
    counted = ins[ins["raknas_som_insats"].fillna(False).astype(bool)]
    d = study["deltaganden"].merge(counted[["insats_id", "kategori"]], on="insats_id")
    d = d[d["person_id"].isin(study["personer"]["person_id"])].copy()
    d["kategori"] = d["kategori"].astype(object)
    p = study["personer"]
    scope = p.loc[p["forsorjningshinder"].astype(object).map(HINDERGRUPP) == "arbetsloshet", "person_id"]
    return d, set(scope)


def test_occupancy_equals_a_day_by_day_count_on_sundbyberg(sundbyberg):
    d, scope = sundbyberg
    res = capacity_from_occupancy(d, "2015-01", "2016-12", in_scope=scope)
    days = pd.date_range("2015-01-01", "2016-12-31", freq="D").to_numpy()
    end = d["slut_datum"].fillna(pd.Timestamp("2100-01-01")).to_numpy()
    # days × participations: is the participation going on that day?
    running = (d["start_datum"].to_numpy()[None, :] <= days[:, None]) & (end[None, :] >= days[:, None])
    in_scope = d["person_id"].isin(scope).to_numpy()
    per_day = pd.DataFrame(
        {"in": running[:, in_scope].sum(axis=1), "out": running[:, ~in_scope].sum(axis=1)},
        index=pd.DatetimeIndex(days),
    )
    t = res.table.set_index("kategori")
    assert t.loc[ALLA, "belaggning_i_omfattning"] == pytest.approx(per_day["in"].mean())
    assert t.loc[ALLA, "belaggning_utanfor"] == pytest.approx(per_day["out"].mean())
    monthly = per_day.groupby(per_day.index.to_period("M")).mean()
    np.testing.assert_allclose(res.monthly["i_omfattning"], monthly["in"])
    np.testing.assert_allclose(res.monthly["utanfor"], monthly["out"])
    for cat in d["kategori"].unique():
        cols = (d["kategori"] == cat).to_numpy()
        assert t.loc[cat, "belaggning"] == pytest.approx(running[:, cols].sum(axis=1).mean())


def test_sundbyberg_need_counts_ongoing_participations_and_repeat_participation(sundbyberg):
    d, scope = sundbyberg
    res = capacity_from_occupancy(d, "2015-01", "2016-12", in_scope=scope)
    t = res.table.set_index("kategori")
    started = d[(d["start_datum"] >= "2015-01-01") & (d["start_datum"] <= "2016-12-31")]
    finished = started[started["slut_datum"].notna()]
    mean_finished = ((finished["slut_datum"] - finished["start_datum"]).dt.days + 1).mean()
    # ongoing participations are long ones still running: counting them lengthens the mean duration
    assert t.loc[ALLA, "pagaende"] == started["slut_datum"].isna().sum() > 0
    assert t.loc[ALLA, "dagar_km"] > mean_finished
    # more than one participation per reached person, as the generator plants (sequential participations)
    assert 1.5 < t.loc[ALLA, "deltaganden_per_person"] < 2.5
    assert t.loc[ALLA, "behov"] > t.loc[ALLA, "belaggning"] > t.loc[ALLA, "belaggning_i_omfattning"]
    assert t.loc[ALLA, "tillkommande"] == pytest.approx(t.drop(ALLA)["tillkommande"].sum())
