"""Comparison statistics: intervals, funnel limits, risk-adjusted O/E and variation.

Everything here is vectorised over numpy arrays or pandas Series and states its formula, so a
report footnote can quote it. Nothing here suppresses small numbers: results go through
``insats.analysis.privacy`` before they are published.

Functions
---------
``wilson_interval(k, n)``         Wilson score interval for a share k/n.
``newcombe_interval(k1, n1, k2, n2)`` Newcombe's score interval for a difference of two shares.
``funnel_limits(p0, n)``          exact binomial funnel-plot limits (Spiegelhalter 2005), optionally widened
                                  for overdispersion (``phi=``/``tau2=``; estimated by
                                  ``insats.analysis.overdispersion``).
``funnel_flags(k, n, p0)``        where each group lies relative to those limits.
``observed_expected(frame, ...)`` risk-adjusted observed/expected ratio per group, with the score test and
                                  interval from the binomial variance, and the model's calibration and
                                  discrimination.
``c_statistic(score, s, n)``      concordance (area under the ROC curve) from cells.
``variation(values)``             range, mean, SD and coefficient of variation (likställighet).
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence

import numpy as np
import pandas as pd
from scipy import stats as _st
from scipy.optimize import brentq
from statsmodels.genmod import families
from statsmodels.genmod.generalized_linear_model import GLM
from statsmodels.tools.sm_exceptions import SingularMatrixWarning

from insats.data.cache import memoize_values
from insats.errors import UsageError

__all__ = [
    "FUNNEL_FLAGS",
    "c_statistic",
    "funnel_flags",
    "funnel_limits",
    "garwood_interval",
    "newcombe_interval",
    "observed_expected",
    "rank_correlation",
    "variation",
    "wilson_interval",
]

CV_MIN_EVENTS_PER_FOLD = 20
"""Cross-validated model checks need at least this many outcomes and non-outcomes per fold."""

FUNNEL_FLAGS = ("over_998", "over_95", "inom", "under_95", "under_998")
"""Codes returned by ``funnel_flags``, from highest to lowest (labels belong to the charts)."""


def _z(level: float) -> float:
    return float(_st.norm.ppf(0.5 + level / 2.0))


def _level_name(level: float) -> str:
    """0.95 -> "95", 0.998 -> "998" (the digits after "0.")."""
    text = f"{level:.10f}".rstrip("0")
    return text.split(".", 1)[1]


# --------------------------------------------------------------------------- Wilson
def wilson_interval(k, n, level: float = 0.95) -> tuple[np.ndarray, np.ndarray]:
    """Wilson score interval for the share ``k / n``.

    With ``p = k / n`` and ``z`` the standard normal ``(1 + level) / 2`` quantile::

        centre = (p + z² / 2n) / (1 + z² / n)
        half   = z / (1 + z² / n) · sqrt(p (1 − p) / n + z² / 4n²)
        (lo, hi) = (centre − half, centre + half)

    Returns two float arrays (``lo``, ``hi``) of the broadcast shape of ``k`` and ``n``;
    ``n == 0`` (or missing ``k``/``n``) gives NaN. Example: k = 8, n = 10 → (0.4902, 0.9433).
    """
    k = np.asarray(k, dtype=float)
    n = np.asarray(n, dtype=float)
    z = _z(level)
    with np.errstate(divide="ignore", invalid="ignore"):
        p = k / n
        denom = 1.0 + z**2 / n
        centre = (p + z**2 / (2 * n)) / denom
        half = z / denom * np.sqrt(p * (1 - p) / n + z**2 / (4 * n**2))
        lo = np.where(n > 0, np.clip(centre - half, 0.0, 1.0), np.nan)
        hi = np.where(n > 0, np.clip(centre + half, 0.0, 1.0), np.nan)
    return lo, hi


def newcombe_interval(k1, n1, k2, n2, level: float = 0.95) -> tuple[np.ndarray, np.ndarray]:
    """Newcombe's hybrid score interval (1998, *Stat Med* 17:873, method 10) for the difference of two
    independent shares ``p1 − p2 = k1/n1 − k2/n2``.

    With ``(l1, u1)`` and ``(l2, u2)`` the Wilson intervals (``wilson_interval``) of the two shares::

        lo = (p1 − p2) − sqrt((p1 − l1)² + (u2 − p2)²)
        hi = (p1 − p2) + sqrt((u1 − p1)² + (p2 − l2)²)

    Vectorised; ``n1`` or ``n2`` equal to 0 gives NaN. Example (Newcombe's): 56/70 − 48/80 = 0.175,
    interval (0.0524, 0.3339). Coverage is checked by simulation in ``tests/analysis/test_stats.py``.
    """
    k1, n1, k2, n2 = (np.asarray(v, dtype=float) for v in (k1, n1, k2, n2))
    l1, u1 = wilson_interval(k1, n1, level)
    l2, u2 = wilson_interval(k2, n2, level)
    with np.errstate(divide="ignore", invalid="ignore"):
        p1 = np.where(n1 > 0, k1 / n1, np.nan)
        p2 = np.where(n2 > 0, k2 / n2, np.nan)
    d = p1 - p2
    lo = d - np.sqrt((p1 - l1) ** 2 + (u2 - p2) ** 2)
    hi = d + np.sqrt((u1 - p1) ** 2 + (p2 - l2) ** 2)
    return lo, hi


# --------------------------------------------------------------------------- funnel plot
def _binom_limit(prob: float, n: np.ndarray, p0: np.ndarray) -> np.ndarray:
    """Spiegelhalter's interpolated exact binomial limit (as a proportion) at ``prob``."""
    r = _st.binom.ppf(prob, n, p0)  # smallest r with P(R <= r) >= prob
    cdf_r = _st.binom.cdf(r, n, p0)
    cdf_r1 = _st.binom.cdf(r - 1, n, p0)
    with np.errstate(divide="ignore", invalid="ignore"):
        a = np.where(cdf_r > cdf_r1, (cdf_r - prob) / (cdf_r - cdf_r1), 0.0)
        return (r - a) / n


def _inflation(p0: np.ndarray, n: np.ndarray, phi: float | None, tau2: float | None) -> np.ndarray:
    """Factor by which a limit's distance from p0 grows under overdispersion (1 without)."""
    if phi is not None and tau2 is not None:
        raise UsageError("Ange antingen phi (multiplikativ) eller tau2 (additiv) överspridning, inte båda.")
    if phi is not None:
        return np.full(n.shape, np.sqrt(max(float(phi), 1.0)))
    if tau2 is not None:
        with np.errstate(divide="ignore", invalid="ignore"):
            s2 = p0 * (1 - p0) / n
            return np.sqrt(1.0 + max(float(tau2), 0.0) / s2)
    return np.ones(n.shape)


@memoize_values  # the same limits in every district profile of a run: worked out once per kernel
def funnel_limits(
    p0, n, levels: Sequence[float] = (0.95, 0.998), *, phi: float | None = None, tau2: float | None = None
) -> pd.DataFrame:
    """Exact binomial funnel-plot control limits around the overall share ``p0``, optionally widened for
    overdispersion.

    For each ``n`` and two-sided ``level`` (probability ``q = (1 ± level) / 2`` for the
    upper/lower limit), following Spiegelhalter (2005, *Stat Med* 24:1185, appendix A.1.1):

        r_q = smallest r with  P(R ≤ r) ≥ q,   R ~ Bin(n, p0)        (``scipy.stats.binom.ppf``)
        a   = (P(R ≤ r_q) − q) / (P(R ≤ r_q) − P(R ≤ r_q − 1))
        limit_q = (r_q − a) / n

    The interpolation ``a`` smooths the steps of the discrete distribution. The exact computation is
    used for every ``n`` (scipy's binomial is fast and exact also for large ``n``; no normal
    approximation is used). ``n == 0`` gives NaN limits.

    **Overdispersion** (``insats.analysis.overdispersion``): with ``phi`` (multiplicative, Var = φ·p0(1 − p0)/n)
    or ``tau2`` (additive, Var = p0(1 − p0)/n + τ²) the distance of each limit from ``p0`` is multiplied by
    ``sqrt(max(φ, 1))`` or ``sqrt(1 + τ² / (p0(1 − p0)/n))``, so the adjusted limits equal the exact ones
    when there is no overdispersion and approach ``p0 ± z·sqrt(Var)`` for large ``n``.

    The limits are then clipped to [0, 1] and widened, where needed, to contain ``p0`` itself (for very
    small ``n · p0`` the interpolated upper limit can fall just below ``p0``). Returns a DataFrame with
    columns ``n, lo_95, hi_95, lo_998, hi_998`` (names follow ``levels``), one row per element of ``n``.
    """
    n_arr = np.atleast_1d(np.asarray(n, dtype=float))
    p0_arr = np.broadcast_to(np.asarray(p0, dtype=float), n_arr.shape)
    out = {"n": n_arr}
    valid = n_arr > 0
    infl = _inflation(p0_arr, n_arr, phi, tau2)
    for level in levels:
        name = _level_name(level)
        lo = _binom_limit((1 - level) / 2, n_arr, p0_arr)
        hi = _binom_limit((1 + level) / 2, n_arr, p0_arr)
        lo = p0_arr + (lo - p0_arr) * infl
        hi = p0_arr + (hi - p0_arr) * infl
        lo = np.minimum(np.clip(lo, 0.0, 1.0), p0_arr)
        hi = np.maximum(np.clip(hi, 0.0, 1.0), p0_arr)
        out[f"lo_{name}"] = np.where(valid, lo, np.nan)
        out[f"hi_{name}"] = np.where(valid, hi, np.nan)
    index = n.index if isinstance(n, pd.Series) else None
    return pd.DataFrame(out, index=index)


def funnel_flags(k, n, p0, *, phi: float | None = None, tau2: float | None = None) -> pd.Series:
    """Where each group's share ``k / n`` lies relative to the 95 % and 99.8 % funnel limits.

    Codes (strict inequalities, so a share exactly on a limit counts as inside):
    ``"over_998"`` above the 99.8 % upper limit, ``"over_95"`` above the 95 % upper limit only,
    ``"inom"`` within the 95 % limits, ``"under_95"`` and ``"under_998"`` likewise below. Groups
    with ``n == 0`` or missing values get NaN. The index is that of ``k`` when it is a Series.
    ``phi``/``tau2`` use the overdispersion-adjusted limits (``funnel_limits``); without them the plain
    exact binomial limits.
    """
    index = k.index if isinstance(k, pd.Series) else (n.index if isinstance(n, pd.Series) else None)
    k_arr = np.atleast_1d(np.asarray(k, dtype=float))
    n_arr = np.atleast_1d(np.asarray(n, dtype=float))
    k_arr, n_arr = np.broadcast_arrays(k_arr, n_arr)
    lim = funnel_limits(p0, n_arr, levels=(0.95, 0.998), phi=phi, tau2=tau2)
    with np.errstate(divide="ignore", invalid="ignore"):
        share = k_arr / n_arr
    conditions = [
        share > lim["hi_998"].to_numpy(),
        share > lim["hi_95"].to_numpy(),
        share < lim["lo_998"].to_numpy(),
        share < lim["lo_95"].to_numpy(),
    ]
    flags = np.select(conditions, ["over_998", "over_95", "under_998", "under_95"], default="inom")
    flags = flags.astype(object)
    flags[~((n_arr > 0) & np.isfinite(share))] = np.nan
    return pd.Series(flags, index=index, name="flagga", dtype=object)


# --------------------------------------------------------------------------- observed / expected
def garwood_interval(observed, level: float = 0.95) -> tuple[np.ndarray, np.ndarray]:
    """Exact (Garwood) Poisson interval for an observed count ``O``::

    lo = χ²_{(1 − level)/2}(2 O) / 2       (0 when O = 0)
    hi = χ²_{(1 + level)/2}(2 O + 2) / 2
    """
    o = np.asarray(observed, dtype=float)
    alpha = 1.0 - level
    with np.errstate(invalid="ignore"):
        lo = np.where(o > 0, _st.chi2.ppf(alpha / 2, 2 * o) / 2, 0.0)
        hi = _st.chi2.ppf(1 - alpha / 2, 2 * o + 2) / 2
    lo = np.where(np.isnan(o), np.nan, lo)
    return lo, hi


def _design_matrix(frame: pd.DataFrame, categorical: list[str], numeric: list[str]) -> pd.DataFrame:
    parts = [pd.DataFrame({"const": 1.0}, index=frame.index)]
    for col in numeric:
        parts.append(frame[[col]].astype(float))
    for col in categorical:
        values = frame[col].astype(object).astype(str)
        dummies = pd.get_dummies(values, prefix=col, prefix_sep="=", drop_first=True, dtype=float)
        parts.append(dummies)
    x = pd.concat(parts, axis=1)
    # a covariate that does not vary (e.g. one level only) carries no information
    keep = ["const"] + [c for c in x.columns[1:] if x[c].nunique() > 1]
    return x[keep]


def _expit(eta):
    return 0.5 * (1.0 + np.tanh(0.5 * np.asarray(eta, dtype=float)))


def _fit_logistic(x: pd.DataFrame, succ: np.ndarray, trials: np.ndarray):
    """Binomial GLM (logit) on covariate cells: successes/trials per row of ``x``."""
    endog = np.column_stack([succ, trials - succ])
    return GLM(endog, x, family=families.Binomial()).fit()


def c_statistic(score, successes, trials) -> float:
    """Concordance (c-statistic, area under the ROC curve) of ``score`` for a binary outcome given in cells.

    Each cell has a score and ``successes`` of ``trials``. Over all pairs of one success and one failure,
    the share where the success has the higher score, ties counting one half::

        c = Σ_cells s_c · (F_below(c) + ½ f_c') / (S · F)

    where ``F_below`` counts failures in cells with a lower score and ``f_c'`` failures in cells with the
    same score. NaN when there are no successes or no failures.
    """
    score = np.asarray(score, dtype=float)
    s = np.asarray(successes, dtype=float)
    f = np.asarray(trials, dtype=float) - s
    if s.sum() <= 0 or f.sum() <= 0:
        return float("nan")
    frame = pd.DataFrame({"score": score, "s": s, "f": f}).groupby("score", sort=True).sum()
    f_below = np.concatenate([[0.0], np.cumsum(frame["f"].to_numpy())[:-1]])
    num = np.sum(frame["s"].to_numpy() * (f_below + 0.5 * frame["f"].to_numpy()))
    return float(num / (s.sum() * f.sum()))


def _decile_table(p_hat: np.ndarray, succ: np.ndarray, trials: np.ndarray, groups: int = 10) -> pd.DataFrame:
    """Observed and expected outcomes by groups of the predicted probability (cells are not split)."""
    order = np.argsort(p_hat, kind="stable")
    cum = np.cumsum(trials[order])
    total = cum[-1] if len(cum) else 0.0
    grp = np.minimum((groups * (cum - trials[order] / 2) / max(total, 1.0)).astype(int), groups - 1)
    g = np.empty(len(order), dtype=int)
    g[order] = grp
    df = pd.DataFrame({"grupp": g + 1, "n": trials, "observerat": succ, "forvantat": p_hat * trials})
    out = df.groupby("grupp").sum()
    out["andel_observerad"] = out["observerat"] / out["n"]
    out["andel_forvantad"] = out["forvantat"] / out["n"]
    return out


def _model_checks(x, succ, trials, p_hat, fold_cells, folds: int) -> dict:
    """Calibration and discrimination of the case-mix model (see ``observed_expected``)."""
    out: dict = {}
    out["c_statistic"] = c_statistic(p_hat, succ, trials)
    deciles = _decile_table(p_hat, succ, trials)
    e = deciles["forvantat"].to_numpy()
    n = deciles["n"].to_numpy()
    with np.errstate(divide="ignore", invalid="ignore"):
        hl = float(np.nansum((deciles["observerat"].to_numpy() - e) ** 2 / (e * (1 - e / n))))
    df = max(len(deciles) - 2, 1)
    out["calibration"] = deciles
    out["hosmer_lemeshow"] = {"chi2": hl, "df": df, "p": float(_st.chi2.sf(hl, df))}
    total_s = float(np.sum(succ))
    too_few = min(total_s, float(np.sum(trials)) - total_s) < CV_MIN_EVENTS_PER_FOLD * folds
    if folds >= 2 and fold_cells is not None and not too_few:
        fx, fs, ft, fid = fold_cells
        p_cv = np.full(len(fs), np.nan)
        with warnings.catch_warnings():
            # a rare covariate level can be missing from a training fold: its coefficient is then not
            # identified (statsmodels warns) and its rows are predicted as the reference level
            warnings.simplefilter("ignore", SingularMatrixWarning)
            for k in range(folds):
                train, test = fid != k, fid == k
                if not test.any() or fs[train].sum() in (0, ft[train].sum()):
                    continue
                fit = _fit_logistic(fx[train], fs[train], ft[train])
                p_cv[test] = np.asarray(fit.predict(fx[test]), dtype=float)
        ok = np.isfinite(p_cv)
        p_cv = np.clip(p_cv[ok], 1e-12, 1 - 1e-12)
        lp = np.log(p_cv / (1 - p_cv))
        out["c_statistic_cv"] = c_statistic(p_cv, fs[ok], ft[ok])
        slope_fit = _fit_logistic(pd.DataFrame({"const": 1.0, "lp": lp}), fs[ok], ft[ok])
        out["calibration_slope_cv"] = float(slope_fit.params["lp"])
        large = GLM(
            np.column_stack([fs[ok], ft[ok] - fs[ok]]), np.ones((ok.sum(), 1)), family=families.Binomial(), offset=lp
        ).fit()
        out["calibration_in_the_large_cv"] = float(large.params[0])
        out["folds"] = folds
    elif folds >= 2:
        out["c_statistic_cv"] = out["calibration_slope_cv"] = out["calibration_in_the_large_cv"] = float("nan")
        out["folds"] = 0
    return out


def _score_interval(o: float, trials: np.ndarray, eta: np.ndarray, shrink: float, z: float) -> tuple[float, float]:
    """Bounds (δ_lo, δ_hi) of a group's log-odds shift δ with |O − E(δ)| ≤ z·sqrt(V(δ)) (see observed_expected)."""

    def e_of(d):
        return float(np.sum(trials * _expit(eta + d)))

    def f(d, sign):
        p = _expit(eta + d)
        v = max(float(np.sum(trials * p * (1 - p))) * shrink, 1e-300)
        return o - float(np.sum(trials * p)) - sign * z * np.sqrt(v)

    n = float(trials.sum())
    bound = 40.0
    if o <= 0:
        lo = -np.inf
    else:
        lo = brentq(f, -bound, bound, args=(1.0,)) if f(-bound, 1.0) > 0 > f(bound, 1.0) else -np.inf
    if o >= n:
        hi = np.inf
    else:
        hi = brentq(f, -bound, bound, args=(-1.0,)) if f(-bound, -1.0) > 0 > f(bound, -1.0) else np.inf
    return (0.0 if lo == -np.inf else e_of(lo)), (n if hi == np.inf else e_of(hi))


def observed_expected(
    frame: pd.DataFrame,
    *,
    outcome: str,
    group: str,
    categorical: Sequence[str] = (),
    numeric: Sequence[str] = (),
    level: float = 0.95,
    folds: int = 5,
    seed: int = 20130101,
) -> pd.DataFrame:
    """Risk-adjusted comparison of groups: observed / expected outcomes (indirect standardisation).

    One logistic regression of ``outcome`` (0/1 or bool) on the covariates — ``categorical``
    columns as dummies (first level in sorted order is the reference), ``numeric`` columns as
    they are, plus an intercept — is fitted on all rows **without** the group (statsmodels GLM,
    binomial family, logit link). Per group ``g``, with ``p̂_i`` the fitted probabilities, ``v_i = p̂_i(1 − p̂_i)``
    and ``x_i`` the covariate row::

        observed O = Σ outcome,   expected E = Σ p̂_i,   n = rows,   oe = O / E
        a_g = Σ_{i∈g} v_i x_i,    I = Σ_all v_i x_i x_i'
        V_g = Σ_{i∈g} v_i − a_g' I⁻¹ a_g                 (``varians``)
        z   = (O − E) / sqrt(V_g),  p = 2·(1 − Φ(|z|))

    ``V_g`` is the variance of ``O − E`` when the group has no effect of its own: the binomial
    (Poisson-binomial) variance of O, less the part the model's own fit absorbs because the group's
    rows are in it. ``z`` is the score test for adding the group to the model; ``Σ_{i∈g} v_i`` alone
    would be right only if the model had been fitted on other data. (The earlier interval — O as
    Poisson with E known — ignored both that O is a sum of binomials, whose variance Σ p̂(1 − p̂) is
    smaller than Σ p̂, and the fit; under no group effect it excluded 1 in about 1 % of groups instead of
    5 %.)

    The interval ``lo``–``hi`` inverts the same test for a shift ``δ`` of the group's log-odds: with
    ``p_i(δ) = expit(logit p̂_i + δ)``, ``E(δ) = Σ_{i∈g} p_i(δ)`` and
    ``V(δ) = Σ_{i∈g} p_i(δ)(1 − p_i(δ)) · V_g / Σ_{i∈g} v_i``, the set of ``δ`` with
    ``|O − E(δ)| ≤ z_{level}·sqrt(V(δ))`` is an interval ``[δ_lo, δ_hi]`` and ``lo = E(δ_lo)/E``,
    ``hi = E(δ_hi)/E`` (score/Wilson-type: asymmetric, never below 0, exact agreement with the z-test:
    the interval excludes 1 exactly when ``p < 1 − level``). ``O = 0`` gives ``lo = 0``.

    Rows with a missing outcome, group or covariate are dropped before fitting. Because the model
    has an intercept, Σ O = Σ E over all groups.

    ``.attrs`` of the result: ``"coefficients"`` (Series, log-odds), ``"n_used"``, ``"n_dropped"``,
    ``"n_dropped_by_column"`` (dict), ``"level"`` and the model checks for a method section:
    ``"c_statistic"`` (in-sample concordance, ``c_statistic``), ``"calibration"`` (observed and expected
    outcomes by tenths of p̂), ``"hosmer_lemeshow"`` (χ², df = groups − 2, p), and with ``folds ≥ 2``
    (rows assigned to folds at random with ``seed``) the cross-validated ``"c_statistic_cv"``,
    ``"calibration_slope_cv"`` (logistic regression of the outcome on the out-of-fold logit p̂; 1 is
    ideal, below 1 means overfitted) and ``"calibration_in_the_large_cv"`` (intercept with that logit
    as offset; 0 is ideal) — NaN, with ``"folds"`` 0, when there are fewer than
    ``CV_MIN_EVENTS_PER_FOLD`` outcomes or non-outcomes per fold. In-sample slope and intercept are 1 and
    0 by construction, so only cross-validated ones say anything.
    """
    categorical = list(categorical)
    numeric = list(numeric)
    needed = [outcome, group, *categorical, *numeric]
    missing_by_col = {c: int(frame[c].isna().sum()) for c in needed}
    complete = frame[needed].notna().all(axis=1)
    data = frame.loc[complete, needed]

    # Fit on covariate patterns (per group) with successes/trials: the same maximum-likelihood
    # estimate as one row per person, but a few thousand rows instead of hundreds of thousands.
    keys = [group, *categorical, *numeric]
    data = data.assign(_y=data[outcome].astype(float))
    cells = data.groupby(keys, sort=False, observed=True, dropna=False)["_y"].agg(["sum", "size"]).reset_index()
    succ = cells["sum"].to_numpy(dtype=float)
    trials = cells["size"].to_numpy(dtype=float)
    x = _design_matrix(cells, categorical, numeric)
    checks: dict = {}
    if len(cells):
        fit = _fit_logistic(x, succ, trials)
        p_hat = np.asarray(fit.predict(x), dtype=float)
        eta = np.asarray(x.to_numpy(float) @ np.asarray(fit.params, dtype=float))
        coefficients = pd.Series(np.asarray(fit.params, dtype=float), index=x.columns, name="koefficient")
        fold_cells = None
        if folds >= 2:
            rng = np.random.default_rng(seed)
            fd = data.assign(_fold=rng.integers(0, folds, len(data)))
            fc = fd.groupby([*keys, "_fold"], sort=False, observed=True, dropna=False)["_y"]
            fc = fc.agg(["sum", "size"]).reset_index()
            fx = _design_matrix(fc, categorical, numeric).reindex(columns=x.columns, fill_value=0.0)
            fold_cells = (fx, fc["sum"].to_numpy(float), fc["size"].to_numpy(float), fc["_fold"].to_numpy())
        checks = _model_checks(x, succ, trials, p_hat, fold_cells, folds)
    else:
        p_hat = np.array([], dtype=float)
        eta = np.array([], dtype=float)
        coefficients = pd.Series(dtype=float, name="koefficient")

    v = trials * p_hat * (1 - p_hat)
    xm = x.to_numpy(float) if len(cells) else np.zeros((0, 1))
    info_inv = np.linalg.pinv(xm.T @ (xm * v[:, None])) if len(cells) else np.zeros((1, 1))
    codes, uniques = pd.factorize(cells[group], sort=True) if len(cells) else (np.array([], int), [])
    z_level = _z(level)
    rows = []
    for j, g in enumerate(uniques):
        sel = codes == j
        o = float(succ[sel].sum())
        e = float((p_hat[sel] * trials[sel]).sum())
        n_g = float(trials[sel].sum())
        sv = float(v[sel].sum())
        a_g = xm[sel].T @ v[sel]
        var = max(sv - float(a_g @ info_inv @ a_g), 0.0)
        shrink = var / sv if sv > 0 else 0.0
        with np.errstate(divide="ignore", invalid="ignore"):
            z = (o - e) / np.sqrt(var) if var > 0 else np.nan
        lo_e, hi_e = _score_interval(o, trials[sel], eta[sel], shrink, z_level) if sv > 0 else (np.nan, np.nan)
        rows.append((g, o, e, n_g, lo_e, hi_e, var, z))
    agg = pd.DataFrame(rows, columns=[group, "observed", "expected", "n", "_lo", "_hi", "varians", "z"])
    agg = agg.set_index(group)
    agg["n"] = agg["n"].astype("int64")
    with np.errstate(divide="ignore", invalid="ignore"):
        agg["oe"] = agg["observed"] / agg["expected"]
        agg["lo"] = agg["_lo"] / agg["expected"]
        agg["hi"] = agg["_hi"] / agg["expected"]
    agg["p"] = 2 * _st.norm.sf(np.abs(agg["z"].to_numpy(float)))
    agg.attrs["coefficients"] = coefficients
    agg.attrs["n_used"] = len(data)
    agg.attrs["n_dropped"] = int((~complete).sum())
    agg.attrs["n_dropped_by_column"] = missing_by_col
    agg.attrs["level"] = level
    agg.attrs.update(checks)
    return agg[["observed", "expected", "n", "oe", "lo", "hi", "varians", "z", "p"]]


# --------------------------------------------------------------------------- likställighet
def variation(values) -> dict:
    """How much a measure varies between areas (likställighet), ignoring NaN.

    Returns ``min, max, range (= max − min), mean, sd, cv (= sd / mean), n``. The areas are
    the whole set being compared, not a sample, so ``sd`` is the **population** standard deviation
    (ddof = 0): ``sd = sqrt(Σ (x − mean)² / n)``. ``cv`` is NaN when the mean is 0; every
    statistic is NaN (and ``n`` 0) when there are no values.
    """
    x = pd.Series(values, dtype=float).dropna().to_numpy()
    n = int(x.size)
    if n == 0:
        nan = float("nan")
        return {"min": nan, "max": nan, "range": nan, "mean": nan, "sd": nan, "cv": nan, "n": 0}
    mean = float(x.mean())
    sd = float(x.std(ddof=0))
    return {
        "min": float(x.min()),
        "max": float(x.max()),
        "range": float(x.max() - x.min()),
        "mean": mean,
        "sd": sd,
        "cv": sd / mean if mean != 0 else float("nan"),
        "n": n,
    }


def rank_correlation(x, y, *, permutations: int = 9999, seed: int = 0) -> dict:
    """Spearman's rank correlation of ``x`` and ``y`` (pairs with a NaN dropped; ties get average
    ranks) with a two-sided permutation p-value: the share of ``permutations`` random re-pairings
    whose |ρ| is at least the observed one, counting the observed pairing itself
    (``(1 + hits) / (1 + permutations)``), so the test holds its level for any number of areas.

    Returns ``rho``, ``p`` and ``n``; ``rho`` and ``p`` are NaN with fewer than 4 pairs or when
    either variable is constant. The areas are all there are, so ``p`` answers whether the ranking
    could have come from pairing size and breadth at random, not a question about a population."""
    a = pd.Series(x, dtype=float).to_numpy()
    b = pd.Series(y, dtype=float).to_numpy()
    keep = ~(np.isnan(a) | np.isnan(b))
    a, b = a[keep], b[keep]
    n = int(a.size)
    nan = float("nan")
    if n < 4 or np.ptp(a) == 0 or np.ptp(b) == 0:
        return {"rho": nan, "p": nan, "n": n}
    ra = _st.rankdata(a) - (n + 1) / 2
    rb = _st.rankdata(b) - (n + 1) / 2
    scale = np.sqrt((ra**2).sum() * (rb**2).sum())
    rho = float((ra * rb).sum() / scale)
    rng = np.random.default_rng(seed)
    perm = rng.permuted(np.tile(rb, (permutations, 1)), axis=1)
    null = perm @ ra / scale
    hits = int((np.abs(null) >= abs(rho) - 1e-12).sum())
    return {"rho": rho, "p": (1 + hits) / (1 + permutations), "n": n}
