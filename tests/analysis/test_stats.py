"""Tests of insats.analysis.stats against hand computations and independent routes (scipy, statsmodels)."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm
from scipy import stats as st
from statsmodels.stats.proportion import proportion_confint

from insats.analysis.stats import (
    FUNNEL_FLAGS,
    c_statistic,
    funnel_flags,
    funnel_limits,
    garwood_interval,
    newcombe_interval,
    observed_expected,
    variation,
    wilson_interval,
)
from insats.intake.synth import OUTCOME_MODEL


# --------------------------------------------------------------------------- Newcombe
def test_newcombe_matches_the_published_examples():
    # Newcombe (1998), Stat Med 17:873, table II, method 10
    lo, hi = newcombe_interval(56, 70, 48, 80)
    assert (float(lo), float(hi)) == pytest.approx((0.0524, 0.3339), abs=5e-5)
    lo, hi = newcombe_interval(9, 10, 3, 10)
    assert (float(lo), float(hi)) == pytest.approx((0.1705, 0.8090), abs=5e-5)
    lo, hi = newcombe_interval([5, 1], [0, 10], [1, 1], [10, 0])
    assert np.isnan(lo).all() and np.isnan(hi).all()


def test_newcombe_covers_the_true_difference_about_95_percent():
    """Simulated coverage with known truth for the sizes the drop-out comparison has (fixed seed, vectorised)."""
    rng = np.random.default_rng(17)
    reps = 4000
    for p1, n1, p2, n2 in [(0.26, 400, 0.20, 500), (0.10, 60, 0.10, 80), (0.40, 30, 0.25, 25), (0.05, 200, 0.02, 150)]:
        k1, k2 = rng.binomial(n1, p1, reps), rng.binomial(n2, p2, reps)
        lo, hi = newcombe_interval(k1, n1, k2, n2)
        cover = np.mean((lo <= p1 - p2) & (p1 - p2 <= hi))
        assert 0.93 <= cover <= 0.975, (p1, n1, p2, n2, cover)


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
    assert list(oe.columns) == ["observed", "expected", "n", "oe", "lo", "hi", "varians", "z", "p"]
    assert (oe["lo"] < oe["oe"]).all() and (oe["oe"] < oe["hi"]).all()
    coef = oe.attrs["coefficients"]
    # reference level: eftergymnasial (first in sorted order)
    assert coef["utbildning=forgymnasial"] < coef["utbildning=gymnasial"] < 0
    assert coef["alder"] == pytest.approx(-0.02, abs=0.01)
    # model checks for the method section: a real but imperfect discrimination, a well calibrated model
    assert 0.6 < oe.attrs["c_statistic"] < 0.9
    assert oe.attrs["c_statistic_cv"] == pytest.approx(oe.attrs["c_statistic"], abs=0.02)
    assert oe.attrs["calibration_slope_cv"] == pytest.approx(1.0, abs=0.1)
    assert oe.attrs["calibration_in_the_large_cv"] == pytest.approx(0.0, abs=0.1)
    cal = oe.attrs["calibration"]
    assert len(cal) == 10 and cal["n"].sum() == len(df)
    assert cal["observerat"].sum() == pytest.approx(cal["forvantat"].sum())
    assert cal["andel_forvantad"].is_monotonic_increasing


def test_oe_intercept_only_hand_case():
    df = pd.DataFrame(
        {
            "g": ["a"] * 4 + ["b"] * 6,
            "y": [1, 1, 1, 0] + [1, 0, 0, 0, 0, 1],
        }
    )
    oe = observed_expected(df, outcome="y", group="g", categorical=[], numeric=[], folds=0)
    overall = 5 / 10
    assert oe.loc["a", "expected"] == pytest.approx(4 * overall)
    assert oe.loc["b", "expected"] == pytest.approx(6 * overall)
    assert oe.loc["a", "oe"] == pytest.approx((3 / 4) / overall)
    assert oe.loc["b", "oe"] == pytest.approx((2 / 6) / overall)
    # V = Σ p(1 − p) − a² / I with a = Σ_g p(1 − p), I = Σ_all p(1 − p): n_g·p(1 − p)·(1 − n_g / N)
    assert oe.loc["a", "varians"] == pytest.approx(4 * 0.25 * (1 - 4 / 10))
    assert oe.loc["b", "varians"] == pytest.approx(6 * 0.25 * (1 - 6 / 10))
    assert oe.loc["a", "z"] == pytest.approx((3 - 2) / math.sqrt(0.6))
    assert oe.loc["a", "p"] == pytest.approx(2 * st.norm.sf(1 / math.sqrt(0.6)))
    # the interval's ends solve |O − E(δ)| = 1.96·sqrt(V(δ)) with p(δ) = expit(δ), V(δ) = 4 p(1 − p)·0.6
    z = st.norm.ppf(0.975)
    for end, sign in (("lo", 1), ("hi", -1)):
        e_end = oe.loc["a", end] * 2.0
        p_end = e_end / 4
        assert 3 - e_end == pytest.approx(sign * z * math.sqrt(4 * p_end * (1 - p_end) * 0.6), abs=1e-8)
    assert list(oe.attrs["coefficients"].index) == ["const"]
    assert oe.attrs["coefficients"]["const"] == pytest.approx(0.0, abs=1e-8)  # logit(0.5)


def test_oe_z_is_the_score_test_for_adding_the_group():
    """z² equals statsmodels' score test for adding the group's indicator to the fitted model."""
    rng = np.random.default_rng(31)
    df = _simulate(rng, {"A": 0.0, "B": 0.3, "C": -0.2}, n_per_group=700)
    oe = observed_expected(df, outcome="arbete", group="omrade", categorical=["utbildning"], numeric=["alder"], folds=0)
    x = pd.get_dummies(df["utbildning"], prefix="utbildning", prefix_sep="=", drop_first=True, dtype=float)
    x = sm.add_constant(pd.concat([df[["alder"]].astype(float), x], axis=1))
    model = sm.GLM(df["arbete"].astype(float), x, family=sm.families.Binomial())
    fit = model.fit()
    for g in ("A", "B", "C"):
        chi2 = model.score_test(fit.params, exog_extra=(df["omrade"] == g).astype(float).to_numpy()[:, None])[0]
        assert oe.loc[g, "z"] ** 2 == pytest.approx(float(np.squeeze(chi2)), rel=1e-5)


def test_oe_interval_excludes_one_exactly_when_p_is_below_5_percent():
    rng = np.random.default_rng(41)
    df = _simulate(rng, {f"O{i}": e for i, e in enumerate(np.linspace(-0.3, 0.3, 12))}, n_per_group=300)
    oe = observed_expected(df, outcome="arbete", group="omrade", categorical=["utbildning"], numeric=["alder"], folds=0)
    excludes = (oe["lo"] > 1) | (oe["hi"] < 1)
    assert ((oe["p"] < 0.05) == excludes).all()
    assert excludes.any() and not excludes.all()


def test_oe_zero_outcomes_gives_lower_limit_zero():
    df = pd.DataFrame({"g": ["a"] * 5 + ["b"] * 20, "y": [0] * 5 + [1] * 8 + [0] * 12})
    oe = observed_expected(df, outcome="y", group="g", folds=0)
    assert oe.loc["a", "observed"] == 0 and oe.loc["a", "lo"] == 0 and oe.loc["a", "hi"] > 0


def test_c_statistic_equals_mann_whitney_on_rows():
    rng = np.random.default_rng(2)
    score = np.round(rng.random(400), 1)  # many ties
    y = rng.random(400) < score
    cells = pd.DataFrame({"s": score, "y": y}).groupby("s")["y"].agg(["sum", "size"]).reset_index()
    c = c_statistic(cells["s"], cells["sum"], cells["size"])
    u = st.mannwhitneyu(score[y], score[~y]).statistic
    assert c == pytest.approx(u / (y.sum() * (~y).sum()))
    assert math.isnan(c_statistic([0.2, 0.4], [0, 0], [3, 4]))


@pytest.mark.slow
def test_oe_interval_covers_one_in_95_percent_of_areas_without_area_effect():
    """14 areas sized like the Stockholm example's ended participations (halved: 76–1,906), covariates as the
    generator draws them (sex, born abroad, education, hinder group, age, months on assistance before), their
    mix depending on the area, outcomes from the generator's individual model with NO area effect.
    120 studies × 14 areas = 1,680 area-replications; Monte Carlo SE from the studies' spread 0.0048.
    Measured 0.958 (0.951 with another seed and 400 studies at these sizes). The old interval (Garwood
    Poisson for O, E known) covered 1 in 0.995 of areas here: it hid real differences."""
    rng = np.random.default_rng(2013)
    n = np.maximum(STOCKHOLM_SIZES // 2, 20)
    covered, old = [], []
    for _ in range(120):
        df = _generator_like(rng, n)
        oe = observed_expected(df, outcome="y", group="area", categorical=OE_CAT, numeric=["manader_fore"], folds=0)
        covered.append(((oe["lo"] <= 1) & (oe["hi"] >= 1)).to_numpy())
        lo, hi = garwood_interval(oe["observed"].to_numpy())
        old.append(((lo <= oe["expected"]) & (hi >= oe["expected"])).to_numpy())
    cov = np.mean(covered)
    assert 0.93 <= cov <= 0.97, cov
    assert np.mean(old) > 0.975


STOCKHOLM_SIZES = np.array([184, 567, 2429, 1392, 718, 2367, 157, 152, 160, 3812, 1870, 889, 638, 2490])
"""Ended participations per district in the generated Stockholm example (utfall_arbete_studier_andel)."""
OE_CAT = ["kon", "utrikes_fodd", "utbildning", "hindergrupp", "aldersgrupp"]


def _generator_like(rng, sizes, area_effect=None):
    """Persons per area with covariates like ``intake.synth`` (composition worse in later areas) and an
    outcome from its ``OUTCOME_MODEL`` (plus ``area_effect`` on the logit scale when given); ``p_true`` is
    each person's true probability."""
    m = OUTCOME_MODEL
    z = np.linspace(-1, 1, len(sizes))
    edu_codes = np.array(["forgymnasial", "gymnasial", "eftergymnasial", "okand"])
    hg_codes = np.array(["arbetsloshet", "ovrigt", "sociala_skal", "ohalsa"])
    edu_eff = np.array([m["utbildning"][c] for c in edu_codes])
    hg_eff = np.array([m["hindergrupp"][c] for c in hg_codes])
    parts = []
    for i, (ni, zi) in enumerate(zip(sizes, z)):
        woman = rng.random(ni) < 0.5
        abroad = rng.random(ni) < 0.35 + 0.25 * zi
        edu = rng.choice(4, ni, p=[0.3 + 0.15 * zi, 0.4, 0.25 - 0.15 * zi, 0.05])
        hg = rng.choice(4, ni, p=[0.6, 0.15, 0.12, 0.13])
        age = rng.integers(18, 65, ni) + round(3 * zi)
        before = np.clip(rng.poisson(5 + 3 * zi, ni), 0, 12)
        eta = (
            m["b0"]
            + m["alder_per_10_ar_over_35"] * (age - 35) / 10
            + np.where(woman, m["kon"]["K"], m["kon"]["M"])
            + m["utrikes_fodd"] * abroad
            + edu_eff[edu]
            + hg_eff[hg]
            + m["per_manad_bistand_12_man_fore_start"] * before
            + (0.0 if area_effect is None else area_effect[i])
        )
        p_true = 1 / (1 + np.exp(-eta))
        y = rng.random(ni) < p_true
        parts.append(
            pd.DataFrame(
                {
                    "area": f"A{i:02d}",
                    "y": y.astype(int),
                    "p_true": p_true,
                    "kon": np.where(woman, "K", "M"),
                    "utrikes_fodd": np.where(abroad, "ja", "nej"),
                    "utbildning": edu_codes[edu],
                    "hindergrupp": hg_codes[hg],
                    "aldersgrupp": pd.cut(
                        age, [-np.inf, 24, 34, 44, 54, np.inf], labels=["18_24", "25_34", "35_44", "45_54", "55_plus"]
                    ).astype(object),
                    "manader_fore": before.astype(float),
                }
            )
        )
    return pd.concat(parts, ignore_index=True)


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


def test_rank_correlation_is_spearman_and_its_permutation_test_holds_its_level():
    """ρ equals scipy's Spearman (ties included); under independence (14 areas, like Stockholm),
    p < 0.05 in about 5 % of 400 simulated studies (binomial 99.9 % band), and a planted monotone
    relation is found in nearly every study."""
    from insats.analysis.stats import rank_correlation

    rng = np.random.default_rng(11)
    x = rng.integers(0, 6, 14).astype(float)  # ties, like counts of categories
    y = x + rng.normal(0, 2, 14)
    got = rank_correlation(x, y, permutations=999, seed=1)
    assert got["rho"] == pytest.approx(st.spearmanr(x, y).statistic, abs=1e-12) and got["n"] == 14
    sims = 400
    hits = sum(
        rank_correlation(rng.normal(size=14), rng.normal(size=14), permutations=499, seed=s)["p"] < 0.05
        for s in range(sims)
    )
    lo, hi = st.binom.ppf([0.0005, 0.9995], sims, 0.05)
    assert lo <= hits <= hi
    found = sum(
        rank_correlation(
            size := rng.lognormal(size=14), np.log(size) + rng.normal(0, 0.3, 14), permutations=499, seed=s
        )["p"]
        < 0.05
        for s in range(50)
    )
    assert found >= 48
    # too few pairs, or a constant variable: no answer rather than a number
    assert math.isnan(rank_correlation([1, 2, 3], [3, 2, 1])["rho"])
    assert math.isnan(rank_correlation([1, 1, 1, 1, 1], [1, 2, 3, 4, 5])["p"])
