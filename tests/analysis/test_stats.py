"""Tests of insats.analysis.stats against hand computations and independent routes (scipy, statsmodels)."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from scipy import stats as st
from statsmodels.stats.proportion import proportion_confint

from insats.analysis.stats import (
    FUNNEL_FLAGS,
    funnel_flags,
    funnel_limits,
    garwood_interval,
    observed_expected,
    variation,
    wilson_interval,
)


# --------------------------------------------------------------------------- Wilson
def test_wilson_hand_value():
    lo, hi = wilson_interval(8, 10)
    assert float(lo) == pytest.approx(0.4902, abs=5e-5)
    assert float(hi) == pytest.approx(0.9433, abs=5e-5)


def test_wilson_by_formula_written_out():
    # k = 0, n = 20: centre = (z²/40)/(1 + z²/20), half = z/(1+z²/20) * sqrt(z²/1600)
    z = 1.959963984540054
    denom = 1 + z**2 / 20
    centre = (z**2 / 40) / denom
    half = z / denom * math.sqrt(z**2 / 1600)
    lo, hi = wilson_interval(0, 20)
    assert float(lo) == pytest.approx(max(centre - half, 0.0), abs=1e-12)
    assert float(hi) == pytest.approx(centre + half, abs=1e-12)


def test_wilson_matches_statsmodels_vectorised():
    k = np.array([0, 1, 3, 8, 50, 99, 100, 7])
    n = np.array([10, 10, 7, 10, 100, 100, 100, 1000])
    for level in (0.95, 0.99):
        lo, hi = wilson_interval(k, n, level=level)
        ref_lo, ref_hi = proportion_confint(k, n, alpha=1 - level, method="wilson")
        np.testing.assert_allclose(lo, ref_lo, atol=1e-10)
        np.testing.assert_allclose(hi, ref_hi, atol=1e-10)


def test_wilson_zero_n_is_nan_and_series_work():
    lo, hi = wilson_interval(pd.Series([0, 2]), pd.Series([0, 4]))
    assert np.isnan(lo[0]) and np.isnan(hi[0])
    assert lo[1] < 0.5 < hi[1]


# --------------------------------------------------------------------------- funnel
def test_funnel_columns_and_containment_and_narrowing():
    n = np.array([5, 10, 20, 50, 100, 200, 500, 1000, 5000])
    lim = funnel_limits(0.3, n)
    assert list(lim.columns) == ["n", "lo_95", "hi_95", "lo_998", "hi_998"]
    assert (lim["lo_998"] <= lim["lo_95"]).all()
    assert (lim["lo_95"] <= 0.3).all() and (lim["hi_95"] >= 0.3).all()
    assert (lim["hi_95"] <= lim["hi_998"]).all()
    width95 = (lim["hi_95"] - lim["lo_95"]).to_numpy()
    width998 = (lim["hi_998"] - lim["lo_998"]).to_numpy()
    assert (np.diff(width95) < 0).all()
    assert (np.diff(width998) < 0).all()


@pytest.mark.parametrize("p0", [0.05, 0.3, 0.5, 0.8])
def test_funnel_against_binom_ppf(p0):
    n = np.array([10, 37, 100, 400, 2500])
    lim = funnel_limits(p0, n)
    for q, col in [(0.975, "hi_95"), (0.025, "lo_95"), (0.999, "hi_998"), (0.001, "lo_998")]:
        r = st.binom.ppf(q, n, p0)
        # the interpolated limit lies between (r - 1)/n and r/n (before clipping to [0, 1])
        value = lim[col].to_numpy()
        assert (value <= r / n + 1e-12).all() or col.startswith("hi")
        assert (value >= np.clip((r - 1) / n, 0, None) - 1e-12).all()
        assert (value <= np.maximum(r / n, p0) + 1e-12).all()
    # written out for one n: n = 100, upper 95 %
    n1, q = 100, 0.975
    r = st.binom.ppf(q, n1, p0)
    a = (st.binom.cdf(r, n1, p0) - q) / (st.binom.cdf(r, n1, p0) - st.binom.cdf(r - 1, n1, p0))
    assert funnel_limits(p0, [n1])["hi_95"].iloc[0] == pytest.approx(max((r - a) / n1, p0))


def test_funnel_large_n_close_to_normal():
    p0, n = 0.3, 1_000_000
    lim = funnel_limits(p0, [n]).iloc[0]
    se = math.sqrt(p0 * (1 - p0) / n)
    assert lim["hi_95"] == pytest.approx(p0 + 1.959964 * se, abs=2e-5)
    assert lim["lo_998"] == pytest.approx(p0 - 3.090232 * se, abs=2e-5)


def test_funnel_zero_n_is_nan():
    lim = funnel_limits(0.3, [0, 10])
    assert lim.iloc[0][["lo_95", "hi_95", "lo_998", "hi_998"]].isna().all()
    assert lim.iloc[1].notna().all()


def test_funnel_flags():
    k = pd.Series([30, 0, 95, 40, 20, 38, 0], index=list("abcdefg"))
    n = pd.Series([100, 100, 100, 100, 100, 100, 0], index=list("abcdefg"))
    flags = funnel_flags(k, n, 0.3)
    assert list(flags.index) == list("abcdefg")
    assert flags["a"] == "inom"  # exactly p0
    assert flags["b"] == "under_998"  # 0 of 100 with p0 = 0.3
    assert flags["c"] == "over_998"  # 95 of 100
    lim = funnel_limits(0.3, [100]).iloc[0]
    # 40 % lies between the 95 % and 99.8 % upper limits (0.387 < 0.40 < 0.442)
    assert lim["hi_95"] < 0.40 < lim["hi_998"] and flags["d"] == "over_95"
    assert lim["lo_998"] < 0.20 < lim["lo_95"] and flags["e"] == "under_95"
    assert flags["f"] == "inom"
    assert pd.isna(flags["g"])
    assert set(flags.dropna()) <= set(FUNNEL_FLAGS)


def test_funnel_flags_group_at_p0_always_inside():
    n = np.array([4, 10, 20, 50, 100, 1000])
    k = n // 2
    assert (funnel_flags(k, n, 0.5) == "inom").all()


# --------------------------------------------------------------------------- O/E
def test_garwood_matches_known_values():
    lo, hi = garwood_interval([0, 1, 10])
    # classic table values (e.g. Ulm 1990): O=0 -> (0, 3.689), 1 -> (0.0253, 5.572), 10 -> (4.795, 18.39)
    np.testing.assert_allclose(lo, [0.0, 0.02532, 4.7954], atol=1e-4)
    np.testing.assert_allclose(hi, [3.6889, 5.5716, 18.390], atol=1e-3)


def _simulate(rng, effects, n_per_group=4000, confound=True):
    """Persons in groups with planted log-odds effects; education strongly predicts the outcome.

    With ``confound`` the groups with the best planted effect have the worst composition
    (more forgymnasial), so raw shares rank the groups the other way round.
    """
    groups = list(effects)
    edu_levels = np.array(["forgymnasial", "gymnasial", "eftergymnasial"])
    edu_logodds = {"forgymnasial": -2.0, "gymnasial": 0.0, "eftergymnasial": 1.5}
    rows = []
    order = np.argsort(np.argsort([effects[g] for g in groups]))  # rank of effect 0..G-1
    for g, rank in zip(groups, order):
        if confound:
            share_low = 0.1 + 0.8 * rank / (len(groups) - 1)  # best effect -> most forgymnasial
        else:
            share_low = 1 / 3
        probs = np.array([share_low, (1 - share_low) / 2, (1 - share_low) / 2])
        edu = rng.choice(edu_levels, size=n_per_group, p=probs)
        age = rng.integers(18, 65, size=n_per_group)
        eta = -0.5 + np.vectorize(edu_logodds.get)(edu) - 0.02 * (age - 40) + effects[g]
        y = rng.random(n_per_group) < 1 / (1 + np.exp(-eta))
        rows.append(pd.DataFrame({"omrade": g, "utbildning": edu, "alder": age, "arbete": y}))
    return pd.concat(rows, ignore_index=True)


def test_oe_recovers_planted_ranking_where_raw_shares_fail():
    rng = np.random.default_rng(20160401)
    effects = {f"O{i}": e for i, e in enumerate([-0.6, -0.35, -0.1, 0.1, 0.35, 0.6])}
    df = _simulate(rng, effects)
    oe = observed_expected(df, outcome="arbete", group="omrade", categorical=["utbildning"], numeric=["alder"])
    planted = pd.Series(effects)
    raw = df.groupby("omrade")["arbete"].mean()
    rho_oe = st.spearmanr(oe["oe"], planted[oe.index]).statistic
    rho_raw = st.spearmanr(raw, planted[raw.index]).statistic
    assert rho_oe >= 0.9
    assert rho_raw < 0.5
    assert oe["observed"].sum() == pytest.approx(oe["expected"].sum(), rel=1e-6)
    assert list(oe.columns) == ["observed", "expected", "n", "oe", "lo", "hi"]
    assert (oe["lo"] < oe["oe"]).all() and (oe["oe"] < oe["hi"]).all()
    coef = oe.attrs["coefficients"]
    # reference level: eftergymnasial (first in sorted order)
    assert coef["utbildning=forgymnasial"] < coef["utbildning=gymnasial"] < 0
    assert coef["alder"] == pytest.approx(-0.02, abs=0.01)


def test_oe_without_group_effect_intervals_cover_one():
    rng = np.random.default_rng(7)
    effects = {f"O{i}": 0.0 for i in range(20)}
    df = _simulate(rng, effects, n_per_group=800)
    oe = observed_expected(df, outcome="arbete", group="omrade", categorical=["utbildning"], numeric=["alder"])
    covered = ((oe["lo"] <= 1) & (oe["hi"] >= 1)).mean()
    assert covered >= 0.85


def test_oe_intercept_only_hand_case():
    df = pd.DataFrame(
        {
            "g": ["a"] * 4 + ["b"] * 6,
            "y": [1, 1, 1, 0] + [1, 0, 0, 0, 0, 1],
        }
    )
    oe = observed_expected(df, outcome="y", group="g", categorical=[], numeric=[])
    overall = 5 / 10
    assert oe.loc["a", "expected"] == pytest.approx(4 * overall)
    assert oe.loc["b", "expected"] == pytest.approx(6 * overall)
    assert oe.loc["a", "oe"] == pytest.approx((3 / 4) / overall)
    assert oe.loc["b", "oe"] == pytest.approx((2 / 6) / overall)
    lo, hi = garwood_interval([3, 2])
    assert oe.loc["a", "lo"] == pytest.approx(lo[0] / 2.0)
    assert oe.loc["b", "hi"] == pytest.approx(hi[1] / 3.0)
    assert list(oe.attrs["coefficients"].index) == ["const"]
    assert oe.attrs["coefficients"]["const"] == pytest.approx(0.0, abs=1e-8)  # logit(0.5)


@pytest.mark.filterwarnings("ignore::Warning")  # four rows: the model is separated
def test_oe_drops_missing_and_reports():
    df = pd.DataFrame(
        {
            "g": ["a", "a", "b", "b", "b", "a"],
            "y": [1, 0, 1, 0, 1, 0],
            "x": ["u", "v", None, "u", "v", "v"],
            "alder": [30, np.nan, 40, 50, 60, 70],
        }
    )
    oe = observed_expected(df, outcome="y", group="g", categorical=["x"], numeric=["alder"])
    assert oe.attrs["n_dropped"] == 2
    assert oe.attrs["n_used"] == 4
    assert oe.attrs["n_dropped_by_column"] == {"y": 0, "g": 0, "x": 1, "alder": 1}
    assert oe["n"].sum() == 4


# --------------------------------------------------------------------------- variation
def test_variation_by_hand():
    v = variation(pd.Series([0.2, 0.4, np.nan, 0.6, 0.8]))
    assert v["n"] == 4
    assert v["min"] == pytest.approx(0.2) and v["max"] == pytest.approx(0.8)
    assert v["range"] == pytest.approx(0.6)
    assert v["mean"] == pytest.approx(0.5)
    # population SD: sqrt((0.09 + 0.01 + 0.01 + 0.09) / 4) = sqrt(0.05)
    assert v["sd"] == pytest.approx(math.sqrt(0.05))
    assert v["cv"] == pytest.approx(math.sqrt(0.05) / 0.5)


def test_variation_edge_cases():
    assert variation(pd.Series([np.nan]))["n"] == 0
    assert math.isnan(variation([])["mean"])
    one = variation([3.0])
    assert one["sd"] == 0 and one["range"] == 0 and one["cv"] == 0
    assert math.isnan(variation([-1.0, 1.0])["cv"])
