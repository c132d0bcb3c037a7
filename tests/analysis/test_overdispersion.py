"""Tests of insats.analysis.overdispersion: Spiegelhalter's formulas by hand, the false-flag rate of the
adjusted funnel limits by simulation, shrunken ranks against a brute-force posterior, and BH q-values
against statsmodels."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats as st
from scipy.special import expit, logit
from statsmodels.stats.multitest import multipletests

from insats.analysis.overdispersion import (
    benjamini_hochberg,
    estimate_overdispersion,
    expected_false_flags,
    funnel_table,
    oe_funnel_table,
    shrunken_ranks,
    winsorised_phi,
    z_scores,
)
from insats.analysis.stats import funnel_flags, funnel_limits
from insats.errors import DataError, UsageError

SIZES = np.array([184, 567, 2429, 1392, 718, 2367, 157, 152, 160, 3812, 1870, 889, 638, 2490])
"""Ended participations per district in the generated Stockholm example (14 areas)."""
OUTSIDE = ["over_95", "over_998", "under_95", "under_998"]


# --------------------------------------------------------------------------- formulas
def test_z_scores_and_winsorised_phi_by_hand():
    k = np.array([30, 50, 20, 45, 10])
    n = np.array([100, 100, 100, 100, 100])
    z = z_scores(k, n, 0.3)
    np.testing.assert_allclose(z, (k / n - 0.3) / np.sqrt(0.21 / 100))
    zs = np.sort(z)
    lo, hi = np.quantile(zs, [0.1, 0.9])  # linear interpolation between order statistics
    assert lo == pytest.approx(zs[0] + 0.4 * (zs[1] - zs[0]))
    assert winsorised_phi(z) == pytest.approx(np.mean(np.clip(z, lo, hi) ** 2))
    assert winsorised_phi(z, 0.0) == pytest.approx(np.mean(z**2))


@pytest.mark.parametrize("n", [1, 2, 3, 5, 10, 11, 14, 21, 50, 290])
def test_the_quantiles_of_sorted_rows_are_numpys_to_the_last_bit(n):
    # the dispersion curve takes its winsorising limits from sorted rows; they must be exactly the
    # values np.quantile gives (the curve, and so every published flag, unchanged by the speed-up)
    from insats.analysis.overdispersion import _sorted_quantile, _winsorised_phi_rows

    rng = np.random.default_rng(n)
    z = rng.standard_normal((300, n)) * rng.choice([1e-3, 1.0, 1e3], size=(300, 1))
    z[::7] = np.round(z[::7], 1)  # ties
    s = np.sort(z, axis=-1)
    for q in (0.0, 0.05, 0.1, 0.25, 0.5, 0.9, 0.95, 1.0, 1 / 3):
        np.testing.assert_array_equal(_sorted_quantile(s, q), np.quantile(z, q, axis=-1, keepdims=True))
    lo = np.quantile(z, 0.1, axis=-1, keepdims=True)
    hi = np.quantile(z, 0.9, axis=-1, keepdims=True)
    np.testing.assert_array_equal(_winsorised_phi_rows(z, 0.1), np.mean(np.clip(z, lo, hi) ** 2, axis=-1))


def test_spiegelhalter_dl_tau2_and_the_corrected_estimates():
    rng = np.random.default_rng(1)
    k = rng.binomial(SIZES, expit(logit(0.25) + 0.25 * rng.standard_normal(14)))
    od = estimate_overdispersion(k, SIZES)
    p0 = k.sum() / SIZES.sum()
    z = z_scores(k, SIZES, p0)
    phi_w = winsorised_phi(z)
    w = SIZES / (p0 * (1 - p0))
    assert od.p0 == pytest.approx(p0)
    assert od.phi_winsorised == pytest.approx(phi_w)
    assert od.tau2_dl == pytest.approx((14 * phi_w - 13) / (w.sum() - (w**2).sum() / w.sum()))
    # the winsorising correction makes the estimates larger, never smaller
    assert od.phi > od.phi_winsorised > 1
    assert od.tau2 > od.tau2_dl > 0
    # without winsorising and with many areas the corrected φ is close to the plain mean of z²
    big = np.tile(SIZES, 8)
    k_big = rng.binomial(big, expit(logit(0.25) + 0.25 * rng.standard_normal(big.size)))
    od_big = estimate_overdispersion(k_big, big, winsor=0.0)
    z_big = z_scores(k_big, big, od_big.p0)
    assert od_big.phi == pytest.approx(np.mean(z_big**2), rel=0.1)


def test_no_overdispersion_gives_the_plain_limits():
    n = np.array([100.0, 400.0, 1600.0])
    plain = funnel_limits(0.3, n)
    pd.testing.assert_frame_equal(funnel_limits(0.3, n, tau2=0.0), plain)
    pd.testing.assert_frame_equal(funnel_limits(0.3, n, phi=0.8), plain)  # φ below 1 is not used to narrow
    wide = funnel_limits(0.3, n, phi=4.0)
    np.testing.assert_allclose(wide["hi_95"] - 0.3, 2 * (plain["hi_95"] - 0.3))
    add = funnel_limits(0.3, n, tau2=0.0021)
    factor = np.sqrt(1 + 0.0021 / (0.21 / n))
    np.testing.assert_allclose(add["lo_998"] - 0.3, factor * (plain["lo_998"] - 0.3))
    # large n: the additive limit approaches p0 ± 1.96·sqrt(p0(1 − p0)/n + τ²)
    big = funnel_limits(0.3, [1_000_000], tau2=0.0021).iloc[0]
    assert big["hi_95"] == pytest.approx(0.3 + 1.959964 * np.sqrt(0.21e-6 + 0.0021), abs=1e-4)
    with pytest.raises(UsageError):
        funnel_limits(0.3, n, phi=2.0, tau2=0.01)


def test_funnel_table_flags_use_the_adjusted_limits():
    rng = np.random.default_rng(4)
    k = pd.Series(rng.binomial(SIZES, expit(logit(0.3) + 0.3 * rng.standard_normal(14))), index=list("abcdefghijklmn"))
    n = pd.Series(SIZES, index=k.index)
    ft = funnel_table(k, n)
    od = ft.attrs["overdispersion"]
    assert list(ft.index) == list(k.index)
    pd.testing.assert_series_equal(ft["flagga"], funnel_flags(k, n, od.p0), check_names=False)
    pd.testing.assert_series_equal(ft["flagga_justerad"], funnel_flags(k, n, od.p0, tau2=od.tau2), check_names=False)
    np.testing.assert_allclose(ft["z_justerad"], (k / n - od.p0) / np.sqrt(od.p0 * (1 - od.p0) / n + od.tau2))
    assert ft["flagga"].isin(OUTSIDE).sum() > ft["flagga_justerad"].isin(OUTSIDE).sum()
    assert ft.attrs["expected_false_flags"] == pytest.approx(14 * 0.05)
    mult = funnel_table(k, n, method="multiplikativ")
    np.testing.assert_allclose(mult["z_justerad"], mult["z"] / np.sqrt(od.phi))
    with pytest.raises(UsageError):
        funnel_table(k, n, method="rank")
    with pytest.raises(DataError):
        estimate_overdispersion([1, 2], [10, 10])


# --------------------------------------------------------------------------- false flags by simulation
def _false_flag_rates(tau_logit, reps, seed, method="additiv"):
    rng = np.random.default_rng(seed)
    adjusted, plain, phi = [], [], []
    for _ in range(reps):
        k = rng.binomial(SIZES, expit(logit(0.3) + tau_logit * rng.standard_normal(14)))
        ft = funnel_table(k, SIZES, method=method)
        adjusted.append(ft["flagga_justerad"].isin(OUTSIDE).mean())
        plain.append(ft["flagga"].isin(OUTSIDE).mean())
        phi.append(np.mean(ft["z"] ** 2))
    return np.mean(adjusted), np.mean(plain), np.mean(phi), np.std(adjusted) / np.sqrt(reps)


@pytest.mark.slow
@pytest.mark.parametrize("tau_logit", [0.2, 0.35])
def test_adjusted_limits_flag_5_percent_of_areas_when_no_area_is_an_outlier(tau_logit):
    """14 areas of the Stockholm example's sizes; true shares vary around 30 % (logit-normal, SD 0.2 or
    0.35: between-area variance ≈ 10 or 28 times binomial, like the generated studies' 5–34), no outlier.
    400 studies × 14 areas; Monte Carlo SE from the studies' spread 0.0027–0.0029. Measured: the adjusted
    (additive) limits flag 0.047 and 0.054 of areas; the plain exact limits 0.46 and 0.65 — they flag the
    real, ordinary differences between areas, not outliers. (The multiplicative limits flag 0.071 here:
    they widen small areas' limits too much and large areas' too little.)"""
    adjusted, plain, phi, se = _false_flag_rates(tau_logit, 400, seed=17)
    assert 5 <= phi <= 34
    assert 0.04 <= adjusted <= 0.06, (adjusted, se)
    assert plain > 0.35


def test_spiegelhalters_uncorrected_winsorised_estimate_flags_too_many():
    """Why the correction: limits from the raw winsorised φ̂_w (DerSimonian–Laird τ²) flag about 12 % of 14
    areas with no outlier (200 studies)."""
    rng = np.random.default_rng(5)
    rates = []
    for _ in range(200):
        k = rng.binomial(SIZES, expit(logit(0.3) + 0.2 * rng.standard_normal(14)))
        od = estimate_overdispersion(k, SIZES)
        rates.append(funnel_flags(k, SIZES, od.p0, tau2=od.tau2_dl).isin(OUTSIDE).mean())
    assert np.mean(rates) > 0.09


def test_winsorising_protects_the_limits_from_a_real_outlier():
    """One large area with a real extra effect (+0.8 on the logit scale) is found in most studies, and the
    others are still flagged rarely (the outlier barely widens their limits)."""
    rng = np.random.default_rng(9)
    found, others = [], []
    for _ in range(150):
        logits = logit(0.3) + 0.2 * rng.standard_normal(14)
        logits[9] += 0.8
        ft = funnel_table(rng.binomial(SIZES, expit(logits)), SIZES)
        flagged = ft["flagga_justerad"].isin(OUTSIDE).to_numpy()
        found.append(flagged[9])
        others.append(np.delete(flagged, 9).mean())
    assert np.mean(found) > 0.6
    assert np.mean(others) < 0.05


# --------------------------------------------------------------------------- shrinkage and ranks
def test_shrunken_estimates_are_the_normal_posterior():
    k = np.array([20, 90, 300, 45])
    n = np.array([100, 300, 1000, 150])
    res = shrunken_ranks(k, n, p0=0.3, tau2=0.002)
    s2 = 0.21 / n
    b = s2 / (s2 + 0.002)
    np.testing.assert_allclose(res["krympning"], b)
    np.testing.assert_allclose(res["skattning"], 0.3 + (1 - b) * (k / n - 0.3))
    np.testing.assert_allclose(res["hi"] - res["skattning"], st.norm.ppf(0.975) * np.sqrt((1 - b) * s2))
    # small areas move further towards p0 than large ones
    assert res["krympning"].iloc[0] > res["krympning"].iloc[2]


def test_rank_intervals_against_brute_force_draws():
    rng = np.random.default_rng(3)
    k = rng.binomial(SIZES, expit(logit(0.3) + 0.3 * rng.standard_normal(14)))
    res = shrunken_ranks(k, SIZES)
    # the posterior mean's order gives the point rank, 1 = highest
    assert res["rang"].tolist() == st.rankdata(-res["skattning"], method="min").tolist()
    assert (res["rang_lo"] <= res["rang"]).all() and (res["rang"] <= res["rang_hi"]).all()
    # brute force with an independent generator: the mean ranks agree within Monte Carlo error
    sd = (res["hi"] - res["skattning"]) / st.norm.ppf(0.975)
    draws = res["skattning"].to_numpy() + sd.to_numpy() * np.random.default_rng(99).standard_normal((4000, 14))
    brute = st.rankdata(-draws, axis=1).mean(axis=0)
    np.testing.assert_allclose(res["rang_medel"], brute, atol=0.15)
    # a rank interval is much wider than one place for the middle areas
    assert (res["rang_hi"] - res["rang_lo"]).max() >= 4


def test_without_real_differences_every_rank_is_possible():
    res = shrunken_ranks(np.array([30, 31, 29]), np.array([100, 100, 100]), tau2=0.0)
    assert res["rang_lo"].tolist() == [1, 1, 1] and res["rang_hi"].tolist() == [3, 3, 3]
    assert (res["skattning"] == 0.3).all()


# --------------------------------------------------------------------------- many tests
def test_benjamini_hochberg_matches_statsmodels():
    rng = np.random.default_rng(0)
    p = np.concatenate([rng.uniform(size=40), rng.uniform(0, 0.002, size=8), [np.nan]])
    q = benjamini_hochberg(p)
    ref = multipletests(p[:-1], method="fdr_bh")[1]
    np.testing.assert_allclose(q[:-1], ref)
    assert np.isnan(q[-1])


def test_expected_false_flags():
    assert expected_false_flags(14 * 8) == pytest.approx(5.6)
    assert expected_false_flags(10, level=0.998) == pytest.approx(0.02)
    with pytest.raises(UsageError):
        expected_false_flags(-1)


# --------------------------------------------------------------------------- O/E
def _oe_frame(observed, expected, variance):
    frame = pd.DataFrame({"observed": observed, "expected": expected, "varians": variance})
    frame["oe"] = frame["observed"] / frame["expected"]
    return frame


def test_oe_funnel_table_by_hand():
    rng = np.random.default_rng(2)
    e = SIZES * 0.2
    o = np.round(e * np.exp(0.2 * rng.standard_normal(14)))
    e = e * o.sum() / e.sum()  # the model's intercept makes Σ O = Σ E
    v = e * 0.8
    res = oe_funnel_table(_oe_frame(o, e, v))
    tau2 = res.attrs["overdispersion"].tau2
    assert tau2 > 0 and res.attrs["overdispersion"].p0 == 1.0
    np.testing.assert_allclose(res["z"], (o - e) / np.sqrt(v))
    np.testing.assert_allclose(res["z_justerad"], (o / e - 1) / np.sqrt(v / e**2 + tau2))
    assert (np.abs(res["z_justerad"]) <= np.abs(res["z"]) + 1e-12).all()
    expected_flags = np.where(res["z_justerad"].abs() > 1.959964, "ute", "inom")
    assert ((res["flagga_justerad"] != "inom") == (expected_flags == "ute")).all()


@pytest.mark.parametrize("sd", [0.1, 0.25])
def test_oe_adjusted_flags_5_percent_when_no_area_is_an_outlier(sd):
    """O/E at the summary level: E_i = 0.2·n_i (Stockholm sizes), V_i = 0.8·E_i (binomial with p ≈ 0.2), true
    ratios log-normal with SD 0.1 or 0.25 (no outlier), O_i = E_i·θ_i + N(0, V_i), rescaled so that ΣO = ΣE.
    400 studies × 14 areas, MC SE ≈ 0.003. Measured: 0.045 and 0.055 adjusted; plain z flags 0.27 and 0.56."""
    rng = np.random.default_rng(23)
    e0 = SIZES * 0.2
    adj, plain = [], []
    for _ in range(400):
        o = e0 * np.exp(sd * rng.standard_normal(14)) + np.sqrt(0.8 * e0) * rng.standard_normal(14)
        e = e0 * o.sum() / e0.sum()
        res = oe_funnel_table(_oe_frame(o, e, 0.8 * e))
        adj.append(res["flagga_justerad"].isin(OUTSIDE).mean())
        plain.append((res["z"].abs() > 1.959964).mean())
    assert 0.04 <= np.mean(adj) <= 0.06, np.mean(adj)
    assert np.mean(plain) > 0.2
