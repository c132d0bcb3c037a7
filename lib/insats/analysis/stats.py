"""Comparison statistics: intervals, funnel limits, risk-adjusted O/E and variation.

Everything here is vectorised over numpy arrays or pandas Series and states its formula, so a
report footnote can quote it. Nothing here suppresses small numbers: results go through
``insats.analysis.privacy`` before they are published.

Functions
---------
``wilson_interval(k, n)``         Wilson score interval for a share k/n.
``funnel_limits(p0, n)``          exact binomial funnel-plot limits (Spiegelhalter 2005).
``funnel_flags(k, n, p0)``        where each group lies relative to those limits.
``observed_expected(frame, ...)`` risk-adjusted observed/expected ratio per group.
``variation(values)``             range, mean, SD and coefficient of variation (likställighet).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
import statsmodels.api as sm
from scipy import stats as _st

__all__ = [
    "FUNNEL_FLAGS",
    "funnel_flags",
    "funnel_limits",
    "garwood_interval",
    "observed_expected",
    "variation",
    "wilson_interval",
]

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


# --------------------------------------------------------------------------- funnel plot
def _binom_limit(prob: float, n: np.ndarray, p0: np.ndarray) -> np.ndarray:
    """Spiegelhalter's interpolated exact binomial limit (as a proportion) at ``prob``."""
    r = _st.binom.ppf(prob, n, p0)  # smallest r with P(R <= r) >= prob
    cdf_r = _st.binom.cdf(r, n, p0)
    cdf_r1 = _st.binom.cdf(r - 1, n, p0)
    with np.errstate(divide="ignore", invalid="ignore"):
        a = np.where(cdf_r > cdf_r1, (cdf_r - prob) / (cdf_r - cdf_r1), 0.0)
        return (r - a) / n


def funnel_limits(p0, n, levels: Sequence[float] = (0.95, 0.998)) -> pd.DataFrame:
    """Exact binomial funnel-plot control limits around the overall share ``p0``.

    For each ``n`` and two-sided ``level`` (probability ``q = (1 ± level) / 2`` for the
    upper/lower limit), following Spiegelhalter (2005, *Stat Med* 24:1185, appendix A.1.1):

        r_q = smallest r with  P(R ≤ r) ≥ q,   R ~ Bin(n, p0)        (``scipy.stats.binom.ppf``)
        a   = (P(R ≤ r_q) − q) / (P(R ≤ r_q) − P(R ≤ r_q − 1))
        limit_q = (r_q − a) / n

    The interpolation ``a`` smooths the steps of the discrete distribution. The limits are then
    clipped to [0, 1] and widened, where needed, to contain ``p0`` itself (for very small
    ``n · p0`` the interpolated upper limit can fall just below ``p0``). The exact computation is
    used for every ``n`` (scipy's binomial is fast and exact also for large ``n``; no normal
    approximation is used). ``n == 0`` gives NaN limits.

    Returns a DataFrame with columns ``n, lo_95, hi_95, lo_998, hi_998`` (names follow
    ``levels``), one row per element of ``n``.
    """
    n_arr = np.atleast_1d(np.asarray(n, dtype=float))
    p0_arr = np.broadcast_to(np.asarray(p0, dtype=float), n_arr.shape)
    out = {"n": n_arr}
    valid = n_arr > 0
    for level in levels:
        name = _level_name(level)
        lo = _binom_limit((1 - level) / 2, n_arr, p0_arr)
        hi = _binom_limit((1 + level) / 2, n_arr, p0_arr)
        lo = np.minimum(np.clip(lo, 0.0, 1.0), p0_arr)
        hi = np.maximum(np.clip(hi, 0.0, 1.0), p0_arr)
        out[f"lo_{name}"] = np.where(valid, lo, np.nan)
        out[f"hi_{name}"] = np.where(valid, hi, np.nan)
    index = n.index if isinstance(n, pd.Series) else None
    return pd.DataFrame(out, index=index)


def funnel_flags(k, n, p0) -> pd.Series:
    """Where each group's share ``k / n`` lies relative to the 95 % and 99.8 % funnel limits.

    Codes (strict inequalities, so a share exactly on a limit counts as inside):
    ``"over_998"`` above the 99.8 % upper limit, ``"over_95"`` above the 95 % upper limit only,
    ``"inom"`` within the 95 % limits, ``"under_95"`` and ``"under_998"`` likewise below. Groups
    with ``n == 0`` or missing values get NaN. The index is that of ``k`` when it is a Series.
    """
    index = k.index if isinstance(k, pd.Series) else (n.index if isinstance(n, pd.Series) else None)
    k_arr = np.atleast_1d(np.asarray(k, dtype=float))
    n_arr = np.atleast_1d(np.asarray(n, dtype=float))
    k_arr, n_arr = np.broadcast_arrays(k_arr, n_arr)
    lim = funnel_limits(p0, n_arr, levels=(0.95, 0.998))
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


def observed_expected(
    frame: pd.DataFrame,
    *,
    outcome: str,
    group: str,
    categorical: Sequence[str] = (),
    numeric: Sequence[str] = (),
    level: float = 0.95,
) -> pd.DataFrame:
    """Risk-adjusted comparison of groups: observed / expected outcomes (indirect standardisation).

    One logistic regression of ``outcome`` (0/1 or bool) on the covariates — ``categorical``
    columns as dummies (first level in sorted order is the reference), ``numeric`` columns as
    they are, plus an intercept — is fitted on all rows **without** the group (statsmodels GLM,
    binomial family, logit link). Per group::

        observed O = Σ outcome,   expected E = Σ p̂_i,   n = rows,   oe = O / E
        (lo, hi)   = Garwood exact Poisson interval of O (see ``garwood_interval``) / E

    so an ``oe`` above 1 means more outcomes than people with the same characteristics have on
    average in the whole study. Rows with a missing outcome, group or covariate are dropped
    before fitting. Because the model has an intercept, Σ O = Σ E over all groups.

    ``.attrs`` of the result: ``"coefficients"`` (Series, log-odds), ``"n_used"``,
    ``"n_dropped"`` (rows dropped for missing values) and ``"n_dropped_by_column"`` (dict).
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
    if len(cells):
        endog = np.column_stack([succ, trials - succ])
        fit = sm.GLM(endog, x, family=sm.families.Binomial()).fit()
        p_hat = np.asarray(fit.predict(x), dtype=float)
        coefficients = pd.Series(np.asarray(fit.params, dtype=float), index=x.columns, name="koefficient")
    else:
        p_hat = np.array([], dtype=float)
        coefficients = pd.Series(dtype=float, name="koefficient")

    work = pd.DataFrame(
        {"g": cells[group].to_numpy() if len(cells) else [], "y": succ, "p": p_hat * trials, "n": trials}
    )
    agg = work.groupby("g", sort=True, observed=True).agg(observed=("y", "sum"), expected=("p", "sum"), n=("n", "sum"))
    agg.index.name = group
    agg["n"] = agg["n"].astype("int64")
    with np.errstate(divide="ignore", invalid="ignore"):
        agg["oe"] = agg["observed"] / agg["expected"]
        lo, hi = garwood_interval(agg["observed"].to_numpy(), level)
        agg["lo"] = lo / agg["expected"].to_numpy()
        agg["hi"] = hi / agg["expected"].to_numpy()
    agg.attrs["coefficients"] = coefficients
    agg.attrs["n_used"] = len(data)
    agg.attrs["n_dropped"] = int((~complete).sum())
    agg.attrs["n_dropped_by_column"] = missing_by_col
    agg.attrs["level"] = level
    return agg[["observed", "expected", "n", "oe", "lo", "hi"]]


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
