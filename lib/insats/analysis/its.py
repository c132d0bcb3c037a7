"""Interrupted time series (segmented regression) whose intervals hold their level on short monthly series.

A reform is evaluated on a monthly series — e.g. the mean attendance ratio of the participations that
started each month — with the segmented regression::

    y_t = b0 + b1·t + b2·post_t + b3·(t − t0)·post_t + e_t

where ``t`` counts months from the series' first month, ``t0`` is the month of the reform and
``post_t = 1`` from that month on. ``b0``/``b1`` are the level and monthly trend before the reform,
``b2`` the change in level at the reform and ``b3`` the change in trend. The effect ``k`` months after
the reform (level and trend together) is ``b2 + k·b3``.

Error model
-----------
A month's value is a mean of ``n_t`` participations, so its sampling variance is proportional to
``1 / n_t``; neighbouring months may also resemble each other (autocorrelation). The model is::

    e_t = u_t / sqrt(w_t),    w_t = n_t / mean(n),    u_t stationary AR(1): corr(u_s, u_t) = ρ^|t − s|

(months missing from the series are gaps: the correlation over a gap of ``d`` months is ``ρ^d``). For a
given ``ρ`` this is generalised least squares: with ``D = diag(sqrt(w))`` and ``P`` the Prais–Winsten
transform generalised to gaps (``ũ_1 = u_1``, ``ũ_i = (u_i − a_i·u_{i−1}) / sqrt(1 − a_i²)``,
``a_i = ρ^(t_i − t_{i−1})``), the transformed model ``P·D·y = P·D·X·b + ε`` has independent errors
with variance ``σ²``; ``b̂ = (X̃'X̃)⁻¹X̃'ỹ``, ``σ̂² = RSS / (T − 4)``, ``Var(b̂) = σ̂²(X̃'X̃)⁻¹``.

``ρ`` is estimated by restricted maximum likelihood (REML) over the grid ``RHO_GRID``::

    −2·l_R(ρ) = (T − k)·log RSS(ρ) + log|V(ρ)| + log|X'V(ρ)⁻¹X| + const,
    V(ρ) = D⁻¹ R(ρ) D⁻¹,  log|V| = −Σ log w_t + Σ_{i≥2} log(1 − a_i²)

Critical values (why not ``± 1.96·se`` or ``t(T − 4)``)
------------------------------------------------------
With 24 months, ``ρ̂`` is uncertain and the standard error depends strongly on it; plug-in intervals
with normal or t critical values cover the level change in only about 91–93 % of series (ρ = 0 to 0.6;
see ``tests/analysis/test_its.py``). The critical values are therefore **calibrated by simulation for the
series' own design** (its months, gaps and weights). The statistic ``|ĉ'b̂ − c'b| / se`` does not
depend on ``b`` or ``σ``, only on ``ρ``, so for each ``ρ_j`` in ``CALIBRATION_RHO``:

1. draw ``2·B`` AR(1) series with that ``ρ_j`` (common random numbers across ``ρ_j``, fixed seed), fit each
   with the same REML/GLS procedure and compute ``|t*|`` for every contrast;
2. from the first ``B`` draws, tabulate the quantiles ``q_γ(ρ_j)`` of ``|t*|`` for many ``γ``;
3. on the other ``B`` draws, measure the coverage ``C_γ(ρ_j)`` of the rule "``|t*| ≤ q_γ(ρ̂*)``" (``q_γ``
   interpolated linearly in ``ρ`` at each draw's own estimate ``ρ̂*``);
4. ``W(γ) = min_j C_γ(ρ_j)`` over the ρ_j in ``GUARANTEED_RHO`` (−0.3 to 0.8): the coverage the rule is
   guaranteed to have whatever the true autocorrelation in that range.

The interval at ``level`` is ``ĉ'b̂ ± q_γ*(ρ̂)·se`` with ``γ* = min{γ: W(γ) ≥ level}`` (an iterated
parametric bootstrap, calibrated to the worst case), and the p-value is ``1 − W(γ_obs)`` where
``q_γ_obs(ρ̂) = |t|``, so a p-value below 0.05 means exactly that the 95 % interval excludes 0 (p-values
below the simulation's resolution, about 0.003, are reported at that floor with ``p_golv``). For 12 + 12
months with monthly n from 25 to 219 the level change's 95 % interval covers in 95.9 % of simulated
series with ρ = 0 and 96.2 % with ρ = 0.6 (``tests/analysis/test_its.py``; 93.3 % when the errors are
instead a month-level AR(1) shock plus sampling noise, a model the fit does not assume). The result is
deterministic (fixed seed); a design takes about 0.2 s to calibrate and is cached.

Minimum length
--------------
At least ``MIN_MONTHS_BEFORE`` = 6 months before and ``MIN_MONTHS_AFTER`` = 6 from the reform on.
Four coefficients and the autocorrelation leave few degrees of freedom, and an interval that holds its
level must then be very wide: the calibrated critical value for the level change (at ρ̂ = 0.3) is about
15 with 3 + 3 months, 12 with 4 + 4, 5 with 5 + 5, 4.4 with 6 + 6 and 2.8 with 12 + 12 (t would say
the t distribution would give 4.3, 2.8, 2.4, 2.3 and 2.1). Below six months on a side the interval says nothing a nämnd can use, and a trend cannot be
told apart from a level change and one odd month.

Comparison series and placebo
-----------------------------
With a comparison series (e.g. interventions without the attendance requirement) the same model is
fitted to the **difference** ``y_t − y^c_t`` over the months both series have, with weights
``1 / (1/n_t + 1/n^c_t)``: its ``b2`` is the difference between the two series' level changes
(difference in differences), and changes common to both series (season, the labour market) cancel.
The placebo check adds a false reform date ``s`` in the pre-period to the model (its own level and
trend change from ``s`` to the real reform, see ``_placebo``), at every month that leaves at least
``MIN_PLACEBO_SEGMENT`` = 4 months before ``s`` and between ``s`` and the reform (at most six dates). The
real reform is still modelled, so the months after it help to estimate ρ and σ; a false date should
show no change beyond chance (with six dates, one in twenty intervals excludes 0 by chance alone).
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from insats.analysis.privacy import format_number
from insats.errors import DataError, UsageError

__all__ = [
    "CALIBRATION_RHO",
    "EFFECT_MONTHS",
    "GUARANTEED_RHO",
    "MIN_MONTHS_AFTER",
    "MIN_MONTHS_BEFORE",
    "MIN_PLACEBO_SEGMENT",
    "RHO_GRID",
    "ItsCalibration",
    "ItsResult",
    "calibrate",
    "fit_gls_ar1",
    "interrupted_time_series",
    "placebo_design",
    "segmented_design",
]

MIN_MONTHS_BEFORE = 6
"""Fewest months before the reform (see the module docstring, "Minimum length")."""
MIN_MONTHS_AFTER = 6
"""Fewest months from the reform month on."""
MIN_PLACEBO_SEGMENT = 4
"""Fewest months before a false reform date, and between it and the real reform (placebo check)."""
EFFECT_MONTHS = (0, 6, 12)
"""Months after the reform at which the effect b2 + k·b3 is reported."""

RHO_GRID = np.round(np.arange(-0.9, 0.9501, 0.05), 4)
"""Values of ρ over which the REML criterion is minimised (the estimate is the best grid value)."""
CALIBRATION_RHO = np.array([-0.3, 0.0, 0.2, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9])
"""True ρ at which the distribution of the t statistics is simulated."""
GUARANTEED_RHO = (-0.3, 0.8)
"""The calibrated intervals hold their level for every true ρ in this range (of CALIBRATION_RHO)."""
_GAMMAS = np.unique(np.concatenate([np.linspace(0.02, 0.9, 23), np.linspace(0.9, 0.999, 67)]))
_DRAWS = 1500  # B: draws per ρ for the quantile table, and as many again to check the rule's coverage
_SEED = 20160101

_COEF_NAMES = ("niva_fore", "trend_fore", "nivaforandring", "trendforandring")


# --------------------------------------------------------------------------- design and fit
def segmented_design(times: np.ndarray, t0: float) -> np.ndarray:
    """The design matrix ``[1, t, post, (t − t0)·post]`` for month numbers ``times`` and reform month ``t0``."""
    t = np.asarray(times, dtype=float)
    post = (t >= t0).astype(float)
    return np.column_stack([np.ones_like(t), t, post, (t - t0) * post])


def placebo_design(times: np.ndarray, t0: float, ts: float) -> np.ndarray:
    """``[1, t, pre_s, (t − ts)·pre_s, post, (t − t0)·post]`` with ``pre_s = 1`` for ``ts ≤ t < t0``: the real
    reform at ``t0`` and a false one at ``ts`` (its level change is column 2)."""
    t = np.asarray(times, dtype=float)
    pre_s = ((t >= ts) & (t < t0)).astype(float)
    post = (t >= t0).astype(float)
    return np.column_stack([np.ones_like(t), t, pre_s, (t - ts) * pre_s, post, (t - t0) * post])


def _contrasts(t0_effects: Sequence[int] = EFFECT_MONTHS) -> tuple[np.ndarray, list[str]]:
    """Rows: the four coefficients, then b2 + k·b3 for each k > 0 (k = 0 is b2 itself)."""
    rows = [np.eye(4)[i] for i in range(4)]
    names = list(_COEF_NAMES)
    for k in t0_effects:
        if k == 0:
            continue
        rows.append(np.array([0.0, 0.0, 1.0, float(k)]))
        names.append(f"effekt_{k}")
    return np.array(rows), names


def _whitening(times: np.ndarray, rho: float) -> tuple[np.ndarray, np.ndarray]:
    """``a_i = ρ^(t_i − t_{i−1})`` (0 for the first month) and ``s_i = sqrt(1 − a_i²)``."""
    gaps = np.diff(times)
    a = np.concatenate([[0.0], np.power(rho, gaps)]) if rho != 0 else np.zeros(len(times))
    return a, np.sqrt(1.0 - a**2)


def fit_gls_ar1(times, X, weights, Y, L) -> dict[str, np.ndarray]:
    """REML/GLS fit of ``Y = X·b + e`` (module docstring) for each column of ``Y`` at once.

    ``times`` (T,) month numbers (increasing; gaps allowed), ``X`` (T, k), ``weights`` (T,) > 0,
    ``Y`` (T, S), ``L`` (m, k) contrasts. Returns ``coef`` (k, S), ``est`` (m, S) = L·coef, ``se`` (m, S),
    ``rho`` (S,) — ρ̂ is the value of ``RHO_GRID`` with the smallest REML criterion.

    With ``B = D·Y`` and the bidiagonal whitening ``P`` the columns' transformed sums of squares are
    ``Σ_i (B_i² − 2 a_i B_i B_{i−1} + a_i² B_{i−1}²) / s_i²`` and ``Q'P·B = (P'Q)'·B`` (``Q`` from the QR
    decomposition of ``P·D·X``), so ``Y`` itself is never transformed.
    """
    times = np.asarray(times, dtype=float)
    X = np.asarray(X, dtype=float)
    Y = np.asarray(Y, dtype=float)
    if Y.ndim == 1:
        Y = Y[:, None]
    L = np.asarray(L, dtype=float)
    T, k = X.shape
    S = Y.shape[1]
    wn = np.asarray(weights, dtype=float) / np.mean(weights)
    sw = np.sqrt(wn)
    B = Y * sw[:, None]
    B2 = B**2
    BX = B[1:] * B[:-1]
    DX = X * sw[:, None]
    # an exactly fitting series would give log(0): floor the residual sum of squares
    floor = 1e-24 * (np.sum(B2, axis=0) + 1.0)
    best = np.full(S, np.inf)
    coef = np.zeros((k, S))
    se = np.zeros((L.shape[0], S))
    rho = np.zeros(S)
    for r in RHO_GRID:
        a, s = _whitening(times, r)
        Xt = DX.copy()
        Xt[1:] = (DX[1:] - a[1:, None] * DX[:-1]) / s[1:, None]
        Q, R = np.linalg.qr(Xt)
        # P'Q: row j = Q_j / s_j − a_{j+1} Q_{j+1} / s_{j+1}
        PtQ = Q / s[:, None]
        PtQ[:-1] -= (a[1:] / s[1:])[:, None] * Q[1:]
        QtY = PtQ.T @ B
        inv_s2 = 1.0 / s**2
        c_sq = inv_s2.copy()
        c_sq[:-1] += a[1:] ** 2 * inv_s2[1:]
        ssy = c_sq @ B2 - 2.0 * (a[1:] * inv_s2[1:]) @ BX
        rss = np.maximum(ssy - np.sum(QtY**2, axis=0), floor)
        logdet = -np.sum(np.log(wn)) + 2 * np.sum(np.log(s[1:])) + 2 * np.sum(np.log(np.abs(np.diag(R))))
        crit = (T - k) * np.log(rss) + logdet
        better = crit < best
        if better.any():
            Rinv = np.linalg.inv(R)
            coef[:, better] = Rinv @ QtY[:, better]
            v = np.sum((L @ Rinv) ** 2, axis=1)
            se[:, better] = np.sqrt(np.outer(v, rss[better] / (T - k)))
            rho[better] = r
            best[better] = crit[better]
    return {"coef": coef, "est": L @ coef, "se": se, "rho": rho}


# --------------------------------------------------------------------------- calibration
@dataclass(frozen=True)
class ItsCalibration:
    """Simulated distribution of the t statistics for one design (see the module docstring).

    ``quantiles`` (γ, ρ_j, m): q_γ(ρ_j) per contrast; ``worst_coverage`` (γ, m): W(γ), non-decreasing in γ.
    """

    gammas: np.ndarray
    rhos: np.ndarray
    quantiles: np.ndarray
    worst_coverage: np.ndarray

    def critical_value(self, rho_hat, level: float) -> np.ndarray:
        """Calibrated critical value per contrast at ``level`` for an estimate ``rho_hat``.

        ``rho_hat`` may be an array (shape (S,)): the result then has shape (m, S). Bilinear interpolation
        of q_γ(ρ) in γ (at γ* = min{γ: W(γ) ≥ level}) and in ρ (at ρ̂; constant beyond the simulated ρ).
        """
        rho_arr = np.asarray(rho_hat, dtype=float)
        n_contrasts = int(self.quantiles.shape[2])
        out = np.empty((n_contrasts, *rho_arr.shape))
        for m in range(n_contrasts):
            w = self.worst_coverage[:, m]
            if w[-1] < level:
                raise DataError(
                    "Tidsserien är för kort eller har för många luckor för ett pålitligt "
                    f"{format_number(level, 0, percent=True)}-intervall (simuleringen når inte den nivån). "
                    "Använd fler månader före och efter reformen."
                )
            gamma = float(np.interp(level, w, self.gammas)) if level > w[0] else float(self.gammas[0])
            q_by_rho = np.array([np.interp(gamma, self.gammas, self.quantiles[:, j, m]) for j in range(len(self.rhos))])
            out[m] = np.interp(rho_arr, self.rhos, q_by_rho)
        return out

    @property
    def p_floor(self) -> np.ndarray:
        """Smallest p-value the simulation can resolve, per contrast: ``1 − W(γ_max)``."""
        return 1.0 - self.worst_coverage[-1]

    def p_value(self, rho_hat: float, t_abs: np.ndarray) -> np.ndarray:
        """``1 − W(γ_obs)`` with ``q_γ_obs(ρ̂) = |t|``, per contrast.

        A ``|t|`` beyond the largest simulated quantile gets ``p_floor`` (the true p-value is smaller);
        an infinite ``|t|`` (an exactly fitting series) gets 0.
        """
        out = np.empty(len(t_abs))
        for m, t in enumerate(t_abs):
            if np.isinf(t):
                out[m] = 0.0
                continue
            q = np.maximum.accumulate(np.array([np.interp(rho_hat, self.rhos, row) for row in self.quantiles[:, :, m]]))
            gamma = float(np.interp(t, q, self.gammas))
            out[m] = 1.0 - float(np.interp(gamma, self.gammas, self.worst_coverage[:, m]))
        return np.clip(out, 0.0, 1.0)


def _ar1_draws(times: np.ndarray, rho: float, E: np.ndarray) -> np.ndarray:
    a, s = _whitening(times, rho)
    u = np.empty_like(E)
    u[0] = E[0]
    for i in range(1, len(times)):
        u[i] = a[i] * u[i - 1] + s[i] * E[i]
    return u


@functools.lru_cache(maxsize=32)
def _calibrate_cached(times: tuple, weights: tuple, x_bytes: bytes, x_shape: tuple, l_bytes: bytes, l_shape: tuple):
    t = np.array(times, dtype=float)
    w = np.array(weights, dtype=float)
    X = np.frombuffer(x_bytes, dtype=float).reshape(x_shape)
    L = np.frombuffer(l_bytes, dtype=float).reshape(l_shape)
    wn = w / w.mean()
    rng = np.random.default_rng(_SEED)
    E = rng.standard_normal((len(t), 2 * _DRAWS))
    stats = np.empty((len(CALIBRATION_RHO), L.shape[0], 2 * _DRAWS))
    rho_hat = np.empty((len(CALIBRATION_RHO), 2 * _DRAWS))
    for j, r in enumerate(CALIBRATION_RHO):
        Y = _ar1_draws(t, r, E) / np.sqrt(wn)[:, None]  # b = 0, σ = 1 without loss of generality
        fit = fit_gls_ar1(t, X, w, Y, L)
        with np.errstate(divide="ignore", invalid="ignore"):
            stats[j] = np.abs(fit["est"]) / fit["se"]
        rho_hat[j] = fit["rho"]
    table, check = slice(0, _DRAWS), slice(_DRAWS, 2 * _DRAWS)
    quantiles = np.quantile(stats[:, :, table], _GAMMAS, axis=2)  # (γ, ρ_j, m)
    quantiles = np.maximum.accumulate(quantiles, axis=0)
    lo_rho, hi_rho = GUARANTEED_RHO
    guaranteed = (lo_rho - 1e-9 <= CALIBRATION_RHO) & (hi_rho + 1e-9 >= CALIBRATION_RHO)
    worst = np.empty((len(_GAMMAS), L.shape[0]))
    rh = rho_hat[:, check]
    for m in range(L.shape[0]):
        t_abs = stats[:, m, check]
        for g in range(len(_GAMMAS)):
            crit = np.interp(rh, CALIBRATION_RHO, quantiles[g, :, m])
            worst[g, m] = np.mean(t_abs <= crit, axis=1)[guaranteed].min()
    worst = np.maximum.accumulate(worst, axis=0)
    return ItsCalibration(_GAMMAS, CALIBRATION_RHO.copy(), quantiles, worst)


def calibrate(times, weights, X, L) -> ItsCalibration:
    """The calibration of the critical values for one design: month numbers ``times``, ``weights``, design
    matrix ``X`` and contrasts ``L`` (module docstring, steps 1–4). Cached: a design is simulated once."""
    X = np.ascontiguousarray(X, dtype=float)
    L = np.ascontiguousarray(L, dtype=float)
    return _calibrate_cached(
        tuple(float(v) for v in np.asarray(times, float)),
        tuple(float(v) for v in np.asarray(weights, float)),
        X.tobytes(),
        X.shape,
        L.tobytes(),
        L.shape,
    )


# --------------------------------------------------------------------------- the public function
@dataclass
class ItsResult:
    """Result of ``interrupted_time_series``. Shares are on the scale of ``y`` (e.g. 0.12 = 12 percentage points)."""

    coefficients: pd.DataFrame
    """Rows niva_fore (level at the first month), trend_fore (per month), nivaforandring (b2),
    trendforandring (b3); columns skattning, se, lo, hi, p, p_golv (True: p is the simulation's floor,
    the true p-value is smaller; say "p < …"), kritiskt_varde (calibrated)."""
    effects: pd.DataFrame
    """Index manader_efter (0, 6, 12): the effect b2 + k·b3 with se, lo, hi, p, kritiskt_varde and
    ``extrapolerad`` (True when month t0 + k lies after the series' last month)."""
    level_change: float
    level_lo: float
    level_hi: float
    level_p: float
    trend_before: float
    trend_change: float
    rho: float
    """REML estimate of the AR(1) autocorrelation between neighbouring months (weighted scale)."""
    fitted: pd.DataFrame
    """manad, observed, n, fitted, counterfactual (the pre-reform line continued), period (Före/Efter)."""
    n_before: int
    n_after: int
    level: float = 0.95
    weighted: bool = True
    placebo: pd.DataFrame | None = None
    """Per false reform date in the pre-period: manad, skattning, lo, hi, p, utanfor (interval excludes 0).
    None when the pre-period is too short (``placebo_note`` says why)."""
    placebo_note: str = ""
    comparison: ItsResult | None = None
    """The model fitted to the difference treated − comparison (b2 = difference of the level changes)."""
    comparison_series: ItsResult | None = None
    """The comparison series' own fit."""
    method: str = field(default="", repr=False)
    """Swedish description for a report's method section."""


def _prepare(series: pd.DataFrame, x: str, y: str, n: str | None, what: str) -> pd.DataFrame:
    for col in [x, y] + ([n] if n is not None else []):
        if col not in series.columns:
            raise UsageError(f"{what} saknar kolumnen {col!r}.")
    cols = [x, y] + ([n] if n is not None else [])
    s = series[cols].dropna().copy()
    s["_m"] = pd.DatetimeIndex(pd.to_datetime(s[x])).to_period("M")
    if s["_m"].duplicated().any():
        dup = ", ".join(str(m) for m in s.loc[s["_m"].duplicated(), "_m"].unique()[:3])
        raise DataError(f"{what} har flera värden för samma månad ({dup}); ge ett värde per månad.")
    s = s.sort_values("_m").reset_index(drop=True)
    if n is not None:
        w = s[n].astype(float)
        if (w <= 0).any():
            raise DataError(f"{what} har månader med antal ({n}) 0 eller mindre; ta bort dem eller ange antalet.")
        s["_w"] = w
    else:
        s["_w"] = 1.0
    return s


def _month_numbers(months: pd.Series) -> np.ndarray:
    first = months.min()
    return np.array([(m - first).n for m in months], dtype=float)


def _fit_design(
    t: np.ndarray, X: np.ndarray, L: np.ndarray, names: list[str], w: np.ndarray, yv: np.ndarray, level: float
) -> tuple[pd.DataFrame, float, np.ndarray]:
    """Fit, calibrated critical values and p-values for the contrasts ``L``: (table, ρ̂, coefficients)."""
    fit = fit_gls_ar1(t, X, w, yv, L)
    cal = calibrate(t, w, X, L)
    rho = float(fit["rho"][0])
    est, se = fit["est"][:, 0], fit["se"][:, 0]
    crit = cal.critical_value(rho, level)
    with np.errstate(divide="ignore", invalid="ignore"):
        t_abs = np.where(se > 0, np.abs(est) / se, np.where(est == 0, 0.0, np.inf))
    p = cal.p_value(rho, t_abs)
    table = pd.DataFrame(
        {
            "skattning": est,
            "se": se,
            "lo": est - crit * se,
            "hi": est + crit * se,
            "p": p,
            "p_golv": np.isfinite(t_abs) & (p <= cal.p_floor + 1e-12),
            "kritiskt_varde": crit,
        },
        index=names,
    )
    return table, rho, fit["coef"][:, 0]


def _fit_one(
    s: pd.DataFrame, brk: pd.Period, y: str, level: float, effects: Sequence[int], what: str
) -> tuple[pd.DataFrame, pd.DataFrame, float, np.ndarray, np.ndarray, np.ndarray]:
    t = _month_numbers(s["_m"])
    t0 = float((brk - s["_m"].min()).n)
    post = t >= t0
    n_before, n_after = int((~post).sum()), int(post.sum())
    if n_before < MIN_MONTHS_BEFORE or n_after < MIN_MONTHS_AFTER:
        raise DataError(
            f"{what} behöver minst {MIN_MONTHS_BEFORE} månader före och {MIN_MONTHS_AFTER} månader från och med "
            f"reformen ({brk}); den har {n_before} före och {n_after} efter. Med färre månader går det inte att "
            "skilja en verklig förändring från trenden och slumpen; välj en längre period."
        )
    X = segmented_design(t, t0)
    L, names = _contrasts(effects)
    table, rho, b = _fit_design(t, X, L, names, s["_w"].to_numpy(float), s[y].to_numpy(float), level)
    coef = table.loc[list(_COEF_NAMES)]
    eff_rows = []
    for k in effects:
        r = table.loc["nivaforandring" if k == 0 else f"effekt_{k}"]
        eff_rows.append({"manader_efter": int(k), **r.to_dict(), "extrapolerad": bool(t0 + k > t.max())})
    eff = pd.DataFrame(eff_rows).set_index("manader_efter")
    return coef, eff, rho, t, X, b


def _method_text(result: ItsResult) -> str:
    vikt = "vägd med antalet deltaganden per månad" if result.weighted else "med lika vikt för alla månader"
    return (
        f"Avbruten tidsserie: segmenterad regression ({vikt}) med nivå och trend före reformen och förändring i "
        f"nivå och trend vid reformen, {result.n_before} månader före och {result.n_after} efter. Närliggande "
        f"månaders likhet (autokorrelation, skattad till {format_number(result.rho, 2)}) ingår i modellen (generaliserade minsta "
        "kvadrat med AR(1)-fel, REML). Konfidensintervallens gränser är simulerade för just den här serien, så "
        f"att ett {format_number(result.level, 0, percent=True)}-intervall täcker det sanna värdet minst så ofta även när serien är kort och "
        "autokorrelationen okänd (mellan −0,3 och 0,8)."
    )


def interrupted_time_series(
    series: pd.DataFrame,
    break_date,
    *,
    x: str = "manad",
    y: str = "narvaro",
    n: str | None = "n",
    comparison: pd.DataFrame | None = None,
    level: float = 0.95,
    effects: Sequence[int] = EFFECT_MONTHS,
    placebo: bool | Sequence = True,
) -> ItsResult:
    """Segmented regression of a monthly series around a reform, with intervals that hold their level.

    ``series`` has one row per month: ``x`` (any date in the month), ``y`` (the monthly value, e.g. a
    mean ratio) and ``n`` (the number of observations behind it, the weight; ``n=None`` weights all
    months equally). Months may be missing (gaps). ``break_date`` is the reform date; its month is
    the first month after the reform. The model, the REML/GLS fit and the calibrated critical values
    are described in the module docstring (``insats.analysis.its``).

    ``comparison`` (same columns) is a series without the reform (e.g. interventions without the
    attendance requirement): the model is also fitted to the difference ``y − y_comparison`` over the
    common months (``ItsResult.comparison``) and to the comparison alone (``comparison_series``).
    ``placebo`` True: false reform dates at every month of the pre-period that leaves at least
    ``MIN_PLACEBO_SEGMENT`` months before it and before the reform (at most six, evenly spread);
    a sequence: those dates; False: none (``ItsResult.placebo``).

    Raises ``DataError`` (Swedish) when a side has fewer than the minimum months, a month appears
    twice, or ``n`` is not positive; ``UsageError`` when a column is missing.
    """
    if not 0.5 <= level < 1.0:
        raise UsageError(f"Konfidensnivån måste ligga mellan 0,5 och 1 (fick {level}).")
    s = _prepare(series, x, y, n, "Tidsserien")
    brk = pd.Timestamp(break_date).to_period("M")
    coef, eff, rho, t, X, b = _fit_one(s, brk, y, level, effects, "Tidsserien")
    post = X[:, 2] == 1
    fitted = pd.DataFrame(
        {
            "manad": s["_m"].dt.to_timestamp(),
            "observed": s[y].to_numpy(float),
            "n": s["_w"].to_numpy(float) if n is not None else np.nan,
            "fitted": X @ b,
            "counterfactual": b[0] + b[1] * t,
            "period": np.where(post, "Efter", "Före"),
        }
    )
    lc = coef.loc["nivaforandring"]
    result = ItsResult(
        coefficients=coef,
        effects=eff,
        level_change=float(lc["skattning"]),
        level_lo=float(lc["lo"]),
        level_hi=float(lc["hi"]),
        level_p=float(lc["p"]),
        trend_before=float(b[1]),
        trend_change=float(b[3]),
        rho=rho,
        fitted=fitted,
        n_before=int((~post).sum()),
        n_after=int(post.sum()),
        level=level,
        weighted=n is not None,
    )
    if placebo is not False:
        result.placebo, result.placebo_note = _placebo(s, brk, y, level, placebo)
    if comparison is not None:
        c = _prepare(comparison, x, y, n, "Jämförelseserien")
        result.comparison_series = interrupted_time_series(
            comparison, break_date, x=x, y=y, n=n, level=level, effects=effects, placebo=False
        )
        both = s.merge(c, on="_m", suffixes=("", "_c"))
        diff = pd.DataFrame(
            {
                "manad": both["_m"].dt.to_timestamp(),
                "skillnad": both[y].to_numpy(float) - both[f"{y}_c"].to_numpy(float),
                "n": 1.0 / (1.0 / both["_w"].to_numpy(float) + 1.0 / both["_w_c"].to_numpy(float)),
            }
        )
        result.comparison = interrupted_time_series(
            diff, break_date, x="manad", y="skillnad", n="n", level=level, effects=effects, placebo=False
        )
    result.method = _method_text(result)
    return result


def _placebo(s: pd.DataFrame, brk: pd.Period, y: str, level: float, placebo) -> tuple[pd.DataFrame | None, str]:
    """False reform dates ``s`` in the pre-period. The whole series is fitted with the real reform *and* a
    false one (``placebo_design``); the false level change is the coefficient of ``pre_s``, with a
    calibrated interval like the others.
    A false date needs ``MIN_PLACEBO_SEGMENT`` months before it and as many between it and the reform."""
    t = _month_numbers(s["_m"])
    t0 = float((brk - s["_m"].min()).n)
    pre_months = list(s.loc[t < t0, "_m"])
    if placebo is True:
        k = MIN_PLACEBO_SEGMENT
        feasible = [m for i, m in enumerate(pre_months) if i >= k and len(pre_months) - i >= k]
        if not feasible:
            return None, (
                f"Placebotest saknas: det behövs minst {2 * k} månader före reformen för en falsk reformmånad "
                f"(serien har {len(pre_months)})."
            )
        if len(feasible) > 6:
            idx = np.unique(np.round(np.linspace(0, len(feasible) - 1, 6)).astype(int))
            feasible = [feasible[i] for i in idx]
    else:
        feasible = [pd.Timestamp(d).to_period("M") for d in placebo]
    rows = []
    w, yv = s["_w"].to_numpy(float), s[y].to_numpy(float)
    for m in feasible:
        ts = float((m - s["_m"].min()).n)
        if not (t.min() < ts < t0):
            raise UsageError(
                f"Den falska reformmånaden {m} ligger inte mellan seriens första månad och reformen ({brk})."
            )
        X = placebo_design(t, t0, ts)
        L = np.eye(6)[[2]]
        table, _, _ = _fit_design(t, X, L, ["placebo"], w, yv, level)
        r = table.loc["placebo"]
        rows.append(
            {
                "manad": m.to_timestamp(),
                "skattning": float(r["skattning"]),
                "lo": float(r["lo"]),
                "hi": float(r["hi"]),
                "p": float(r["p"]),
                "utanfor": bool(r["lo"] > 0 or r["hi"] < 0),
            }
        )
    return pd.DataFrame(rows), ""
