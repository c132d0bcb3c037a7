"""Tests of insats.analysis.its: the fit against statsmodels and a directly written likelihood, the
coverage of the calibrated intervals by brute-force simulation, and the planted reform effect of the
generated Sundbyberg study."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm
from scipy import optimize
from scipy import stats as st

from insats.analysis import its
from insats.analysis.its import (
    MIN_MONTHS_AFTER,
    MIN_MONTHS_BEFORE,
    RHO_GRID,
    calibrate,
    fit_gls_ar1,
    interrupted_time_series,
    placebo_design,
    segmented_design,
)
from insats.data.load import load_study
from insats.errors import DataError, UsageError
from insats.intake.synth import planted_effects
from tests.support import ROOT

SUNDBYBERG = ROOT / "data" / "exempel" / "sundbyberg"
BETA = np.array([0.70, 0.001, 0.10, -0.002])


def _ar1(rng, times, rho, size):
    """Stationary AR(1) draws (variance 1) at month numbers ``times``: shape (T, size)."""
    e = rng.standard_normal((len(times), size))
    u = np.empty_like(e)
    u[0] = e[0]
    for i in range(1, len(times)):
        a = rho ** (times[i] - times[i - 1])
        u[i] = a * u[i - 1] + np.sqrt(1 - a**2) * e[i]
    return u


def _series(y, n=None, start="2015-01-01", drop=()):
    months = pd.date_range(start, periods=len(y), freq="MS")
    frame = pd.DataFrame({"manad": months, "narvaro": y, "n": n if n is not None else 100})
    return frame.drop(index=list(drop)).reset_index(drop=True)


# --------------------------------------------------------------------------- the fit, by independent routes
def test_gls_fit_equals_statsmodels_gls_with_the_same_covariance():
    rng = np.random.default_rng(3)
    t = np.arange(26.0)
    keep = np.ones(26, bool)
    keep[[4, 17]] = False  # months without participations: gaps in the series
    t = t[keep]
    n = rng.integers(25, 220, t.size).astype(float)
    X = segmented_design(t, 12.0)
    L = np.eye(4)
    y = X @ BETA + 0.15 * _ar1(rng, t, 0.5, 1)[:, 0] / np.sqrt(n)
    fit = fit_gls_ar1(t, X, n, y, L)
    rho = fit["rho"][0]
    corr = rho ** np.abs(t[:, None] - t[None, :])
    d = np.diag(1 / np.sqrt(n / n.mean()))
    ref = sm.GLS(y, X, sigma=d @ corr @ d).fit()
    np.testing.assert_allclose(fit["coef"][:, 0], ref.params, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(fit["se"][:, 0], ref.bse, rtol=1e-9)


def _reml_criterion(rho, t, X, w, y):
    """−2·restricted log-likelihood (up to a constant), profiled over σ², written with full matrices."""
    corr = rho ** np.abs(t[:, None] - t[None, :])
    d = np.diag(1 / np.sqrt(w / w.mean()))
    V = d @ corr @ d
    Vi = np.linalg.inv(V)
    xtvx = X.T @ Vi @ X
    b = np.linalg.solve(xtvx, X.T @ Vi @ y)
    r = y - X @ b
    T, k = X.shape
    return (T - k) * np.log(r @ Vi @ r) + np.linalg.slogdet(V)[1] + np.linalg.slogdet(xtvx)[1]


@pytest.mark.parametrize("rho_true", [0.0, 0.6])
def test_reml_estimate_is_the_grid_minimum_of_the_likelihood(rho_true):
    rng = np.random.default_rng(11)
    t = np.arange(24.0)
    n = rng.integers(25, 220, 24).astype(float)
    X = segmented_design(t, 12.0)
    y = X @ BETA + 0.15 * _ar1(rng, t, rho_true, 1)[:, 0] / np.sqrt(n)
    rho_hat = fit_gls_ar1(t, X, n, y, np.eye(4))["rho"][0]
    crit = np.array([_reml_criterion(r, t, X, n, y) for r in RHO_GRID])
    assert rho_hat == pytest.approx(RHO_GRID[np.argmin(crit)])
    cont = optimize.minimize_scalar(
        _reml_criterion, bounds=(RHO_GRID[0], RHO_GRID[-1]), args=(t, X, n, y), method="bounded"
    )
    assert abs(rho_hat - cont.x) <= RHO_GRID[1] - RHO_GRID[0] + 1e-6


def test_public_function_uses_the_batch_core_and_its_calibration():
    rng = np.random.default_rng(5)
    n = rng.integers(25, 220, 24).astype(float)
    t = np.arange(24.0)
    X = segmented_design(t, 12.0)
    y = X @ BETA + 0.15 * rng.standard_normal(24) / np.sqrt(n)
    res = interrupted_time_series(_series(y, n), "2016-01-01", placebo=False)
    L = np.vstack([np.eye(4), [0, 0, 1, 6], [0, 0, 1, 12]])
    fit = fit_gls_ar1(t, X, n, y, L)
    crit = calibrate(t, n, X, L).critical_value(fit["rho"][0], 0.95)
    assert res.rho == pytest.approx(fit["rho"][0])
    assert res.level_change == pytest.approx(fit["est"][2, 0])
    assert res.level_hi - res.level_change == pytest.approx(crit[2] * fit["se"][2, 0])
    assert res.effects.loc[6, "skattning"] == pytest.approx(fit["est"][4, 0])
    assert res.effects.loc[12, "hi"] == pytest.approx(fit["est"][5, 0] + crit[5] * fit["se"][5, 0])
    assert res.effects.loc[12, "extrapolerad"] and not res.effects.loc[6, "extrapolerad"]
    # the p-value agrees with the interval: below 1 − level exactly when the interval excludes 0
    for k, row in res.effects.iterrows():
        assert (row["p"] < 0.05) == (row["lo"] > 0 or row["hi"] < 0), k
    assert (res.n_before, res.n_after) == (12, 12)
    assert "autokorrelation" in res.method


def test_p_value_and_interval_agree_across_series():
    rng = np.random.default_rng(8)
    n = rng.integers(25, 220, 24).astype(float)
    t = np.arange(24.0)
    X = segmented_design(t, 12.0)
    agree = []
    for _ in range(25):
        jump = rng.uniform(-0.05, 0.05)
        y = X @ [0.7, 0.0, jump, 0.0] + 0.15 * _ar1(rng, t, 0.3, 1)[:, 0] / np.sqrt(n)
        res = interrupted_time_series(_series(y, n), "2016-01-01", placebo=False)
        for _, row in res.coefficients.iterrows():
            if abs(row["p"] - 0.05) > 0.002:  # away from the interpolation's resolution
                agree.append((row["p"] < 0.05) == (row["lo"] > 0 or row["hi"] < 0))
    assert len(agree) > 60 and all(agree)


# --------------------------------------------------------------------------- coverage by simulation
def _coverage(rho, designs=4, reps=1000, seed=2024, mixed=False):
    """Share of simulated 12 + 12-month series whose calibrated 95 % intervals cover the truth, per contrast.

    Each design draws its monthly n uniformly from 25–219 once; every replication of a design draws new
    AR(1) errors. ``mixed``: a month-level AR(1) shock plus independent sampling noise (a different
    error model from the one fitted)."""
    rng = np.random.default_rng(seed)
    t = np.arange(24.0)
    X = segmented_design(t, 12.0)
    L = np.vstack([np.eye(4), [0, 0, 1, 6], [0, 0, 1, 12]])
    hits = []
    for _ in range(designs):
        n = rng.integers(25, 220, 24).astype(float)
        cal = calibrate(t, n, X, L)
        u = _ar1(rng, t, rho, reps)
        if mixed:
            e = 0.01 * u + 0.15 * rng.standard_normal((24, reps)) / np.sqrt(n)[:, None]
        else:
            e = 0.15 * u / np.sqrt(n)[:, None]
        fit = fit_gls_ar1(t, X, n, (X @ BETA)[:, None] + e, L)
        crit = cal.critical_value(fit["rho"], 0.95)
        hits.append(np.abs(fit["est"] - (L @ BETA)[:, None]) <= crit * fit["se"])
    return np.concatenate(hits, axis=1).mean(axis=1)


@pytest.mark.parametrize("rho", [0.0, 0.6])
def test_level_change_interval_covers_95_percent(rho):
    """4 designs × 1,000 replications = 4,000 series per ρ: Monte Carlo SE of a coverage of 0.95 is
    sqrt(0.95·0.05/4000) = 0.0034, so 0.93–0.97 is ± 6 SE. Measured: 0.959 (ρ = 0), 0.962 (ρ = 0.6); the
    calibration guarantees the level for every ρ from −0.3 to 0.8, so it is slightly conservative in
    between. The effects at 6 and 12 months cover 0.953–0.971, the other coefficients 0.953–0.985."""
    cov = _coverage(rho)
    assert 0.93 <= cov[2] <= 0.97, f"level change coverage {cov[2]:.3f} at rho {rho}"
    assert (cov >= 0.93).all(), cov
    assert (cov <= 0.99).all(), cov


def test_coverage_holds_roughly_when_month_shocks_are_not_proportional_to_1_over_n():
    """Robustness (4,000 series, MC SE 0.0035): errors = month shock AR(1) with ρ = 0.6 + sampling noise,
    of about equal size; the model's variance ∝ 1/n is then wrong. Measured 0.933 for the level change."""
    cov = _coverage(0.6, mixed=True, seed=99)
    assert cov[2] >= 0.92


def test_ols_with_hac_and_normal_critical_values_undercovers():
    """Why the old method was replaced: OLS, Newey–West HAC standard errors and ± 1.96 on 12 + 12 months with
    AR(1) errors of 0.6 cover the level change far less than 95 % (1,000 series, MC SE 0.015; measured 0.69,
    and 0.66 with monthly n from 25 to 219, 0.81 with independent errors)."""
    rng = np.random.default_rng(1)
    t = np.arange(24.0)
    X = segmented_design(t, 12.0)
    u = _ar1(rng, t, 0.6, 1000)
    hits = []
    for j in range(1000):
        y = X @ BETA + 0.015 * u[:, j]
        fit = sm.OLS(y, X).fit(cov_type="HAC", cov_kwds={"maxlags": 2, "use_correction": True})
        hits.append(abs(fit.params[2] - BETA[2]) <= st.norm.ppf(0.975) * fit.bse[2])
    assert np.mean(hits) < 0.88


# --------------------------------------------------------------------------- refusals and edge cases
def test_refuses_series_shorter_than_the_minimum():
    y = np.full(MIN_MONTHS_BEFORE - 1 + MIN_MONTHS_AFTER, 0.7)
    frame = _series(y, start="2015-08-01")  # 5 months before 2016-01, 6 from it
    with pytest.raises(DataError, match=f"minst {MIN_MONTHS_BEFORE} månader före"):
        interrupted_time_series(frame, "2016-01-01")
    frame = _series(np.full(11, 0.7), start="2015-07-01")  # 6 before, 5 from it
    with pytest.raises(DataError, match="5 efter"):
        interrupted_time_series(frame, "2016-01-01")


def test_refuses_duplicate_months_bad_n_and_missing_columns():
    frame = _series(np.full(24, 0.7))
    with pytest.raises(DataError, match="samma månad"):
        interrupted_time_series(pd.concat([frame, frame.iloc[[3]]]), "2016-01-01")
    with pytest.raises(DataError, match="0 eller mindre"):
        interrupted_time_series(frame.assign(n=0), "2016-01-01")
    with pytest.raises(UsageError, match="'antal'"):
        interrupted_time_series(frame, "2016-01-01", n="antal")


def test_exactly_fitting_series_and_unweighted_fit():
    t = np.arange(24)
    post = (t >= 12).astype(float)
    exact = interrupted_time_series(_series(0.5 + 0.05 * post), "2016-01-01", n=None)
    assert exact.level_change == pytest.approx(0.05)
    assert exact.fitted["counterfactual"].iloc[-1] == pytest.approx(0.5)
    assert not exact.weighted and "lika vikt" in exact.method


# --------------------------------------------------------------------------- placebo and comparison
def test_placebo_intervals_hold_their_level():
    """A false reform date in a series with only the real reform: 4,000 series (MC SE 0.0034); the placebo
    interval excludes 0 in at most about 5 % of them (measured 0.037 at ρ = 0.3; the calibration is
    conservative for ρ inside its range)."""
    rng = np.random.default_rng(12)
    t = np.arange(23.0)
    n = rng.integers(25, 220, 23).astype(float)
    X = placebo_design(t, 11.0, 5.0)
    L = np.eye(6)[[2]]
    cal = calibrate(t, n, X, L)
    u = _ar1(rng, t, 0.3, 4000)
    fit = fit_gls_ar1(t, X, n, (segmented_design(t, 11.0) @ BETA)[:, None] + 0.15 * u / np.sqrt(n)[:, None], L)
    outside = np.abs(fit["est"][0]) > cal.critical_value(fit["rho"], 0.95)[0] * fit["se"][0]
    assert 0.03 <= outside.mean() <= 0.07


def test_placebo_finds_a_jump_planted_before_the_reform():
    rng = np.random.default_rng(21)
    n = rng.integers(60, 200, 30).astype(float)
    t = np.arange(30)
    y = 0.7 + 0.1 * (t >= 18) + 0.15 * rng.standard_normal(30) / np.sqrt(n)
    quiet = interrupted_time_series(_series(y, n, start="2014-07-01"), "2016-01-01")
    assert len(quiet.placebo) == 6  # at most six dates, evenly spread over the feasible ones
    assert quiet.placebo["manad"].is_monotonic_increasing
    y_jump = y + 0.08 * ((t >= 9) & (t < 18))  # a false "reform" in 2015-04
    flagged = interrupted_time_series(_series(y_jump, n, start="2014-07-01"), "2016-01-01", placebo=["2015-04-01"])
    row = flagged.placebo.iloc[0]
    assert row["utanfor"] and row["skattning"] == pytest.approx(0.08, abs=0.03)
    short = interrupted_time_series(_series(y[11:], n[11:], start="2015-06-01"), "2016-01-01")  # 7 months before
    assert short.placebo is None and "Placebotest saknas" in short.placebo_note


def test_comparison_series_removes_shared_shocks():
    """Treated and comparison share large month shocks (season, labour market); only the treated series
    has the reform. The difference-in-differences interval is narrower and still covers the truth."""
    rng = np.random.default_rng(4)
    t = np.arange(24)
    n_t = rng.integers(80, 200, 24).astype(float)
    n_c = rng.integers(80, 200, 24).astype(float)
    shock = 0.03 * _ar1(rng, t.astype(float), 0.5, 1)[:, 0]
    treated = 0.70 + 0.10 * (t >= 12) + shock + 0.15 * rng.standard_normal(24) / np.sqrt(n_t)
    comp = 0.60 + shock + 0.15 * rng.standard_normal(24) / np.sqrt(n_c)
    res = interrupted_time_series(_series(treated, n_t), "2016-01-01", comparison=_series(comp, n_c), placebo=False)
    did = res.comparison
    assert did.level_lo < 0.10 < did.level_hi
    assert did.level_hi - did.level_lo < res.level_hi - res.level_lo
    assert res.comparison_series.level_lo < 0 < res.comparison_series.level_hi
    manual = interrupted_time_series(
        pd.DataFrame(
            {
                "manad": pd.date_range("2015-01-01", periods=24, freq="MS"),
                "skillnad": treated - comp,
                "n": 1 / (1 / n_t + 1 / n_c),
            }
        ),
        "2016-01-01",
        y="skillnad",
        placebo=False,
    )
    assert did.level_change == pytest.approx(manual.level_change)
    assert did.level_hi == pytest.approx(manual.level_hi)


# --------------------------------------------------------------------------- the generated Sundbyberg study
def _monthly_attendance(study, fran="2015-01-01", till="2016-12-31"):
    """Mean attendance ratio per start month, as ``utvardering.monthly_attendance`` defines it, in plain pandas:
    participations of known persons overlapping the period with planned hours > 0 and attended hours given;
    ratio = min(attended / planned, 1), placed in its start month."""
    d = study["deltaganden"]
    first, last = pd.Timestamp(fran), pd.Timestamp(till)
    ok = d["person_id"].isin(study["personer"]["person_id"]) & (d["start_datum"] <= last)
    ok &= d["slut_datum"].isna() | (d["slut_datum"] >= first)
    ok &= (d["planerade_timmar"] > 0) & d["narvarotimmar"].notna()
    q = d[ok.fillna(False)]
    ratio = np.minimum(q["narvarotimmar"] / q["planerade_timmar"], 1.0)
    month = q["start_datum"].dt.to_period("M")
    inside = (month >= first.to_period("M")) & (month <= last.to_period("M"))
    g = pd.DataFrame({"m": month[inside], "r": ratio[inside]}).groupby("m")["r"].agg(["mean", "size"])
    return pd.DataFrame({"manad": g.index.to_timestamp(), "narvaro": g["mean"].to_numpy(), "n": g["size"].to_numpy()})


@pytest.mark.skipif(not SUNDBYBERG.exists(), reason="the example study is not linked (data/exempel)")
def test_planted_attendance_jump_in_sundbyberg_is_recovered():
    """The generator draws attendance with mean 0.70 before 2016-01 and 0.82 from it (1.5 % of the ratios
    above 1, capped at 1): the capped mean jumps by 0.985 · 0.12 = 0.118, with no change in trend."""
    study = load_study(SUNDBYBERG)
    planted = planted_effects("sundbyberg")
    jump = 0.985 * (planted["narvaro_medel"]["efter_reform"] - planted["narvaro_medel"]["fore_reform"])
    monthly = _monthly_attendance(study)
    res = interrupted_time_series(monthly, planted["reform_datum"])
    assert res.level_lo > 0 and res.level_lo < jump < res.level_hi
    assert res.level_change == pytest.approx(jump, abs=0.03)
    trend = res.coefficients.loc["trendforandring"]
    assert trend["lo"] < 0 < trend["hi"]
    assert res.placebo is not None and len(res.placebo) >= 3
    assert not res.placebo["utanfor"].any()


def test_minimum_constants_are_what_the_docstring_says():
    assert (MIN_MONTHS_BEFORE, MIN_MONTHS_AFTER, its.MIN_PLACEBO_SEGMENT) == (6, 6, 4)
