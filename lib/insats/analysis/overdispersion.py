"""Funnel plots with overdispersion, shrunken estimates with rank intervals, and many tests at once.

Areas differ by more than chance: in the generated studies (and in real ones) the between-area
variation of outcomes, attendance, offers and long-term assistance is 5–34 times what the binomial
distribution allows. Exact binomial funnel limits (``stats.funnel_limits``) then put most areas
"outside" — they answer "is this area's share different from the overall share?", which is true of
nearly every area and tells the nämnd nothing. Following Spiegelhalter (2005, *Stat Med* 24:1185,
"Funnel plots for comparing institutional performance", sections 4–5), the limits are widened by the
overdispersion, so that an area is flagged only when it differs more than areas usually differ from
each other.

For area ``i`` with ``k_i`` of ``n_i`` and the overall share ``p0`` (default ``Σk / Σn``)::

    y_i = k_i / n_i,   s_i² = p0(1 − p0) / n_i,   z_i = (y_i − p0) / s_i

**Winsorised overdispersion** (Spiegelhalter's φ̂): the z-scores below their 10th percentile are set
to it, those above the 90th to it (percentiles by linear interpolation, ``numpy.quantile``), and
``φ̂_w = (1/I) Σ z_w²``.

**Consistency correction (our addition).** With 14 areas, winsorising 10 % at each end removes a
large part of the variation even when no area is an outlier: ``φ̂_w`` is then about 0.55–0.7 of the
real dispersion, and limits built on it flag 12–13 % of areas instead of 5 % (see
``tests/analysis/test_overdispersion.py``). The estimates are therefore corrected to be unbiased when
there is no outlier, by simulation for the areas' own sizes (``_dispersion_curve``: 2,000 draws, fixed
seed; the curve depends only on ``n`` and ``κ = τ² / (p0(1 − p0))``, so it is computed once per set of
sizes):

* *multiplicative*: ``φ = φ̂_w / c`` where ``c = E[φ̂_w]`` when the z-scores are N(0, 1) around the
  pooled share (φ = 1); the model is ``Var(y_i) = φ·s_i²``;
* *additive* (random effects): the model is ``y_i ~ N(p0, s_i² + τ²)``; ``τ²`` solves
  ``E_τ²[φ̂_w] = φ̂_w`` (indirect inference; 0 when ``φ̂_w`` is at most its value at τ² = 0).
  Spiegelhalter's own moment formula (DerSimonian–Laird on the z scale with the winsorised φ̂_w),
  ``τ²_DL = (I·φ̂_w − (I − 1)) / (Σ w_i − Σ w_i² / Σ w_i)`` with ``w_i = 1/s_i²``, is reported beside it
  (``tau2_dl``) for comparison.

The winsorising still protects against a real outlier inflating the limits for everyone else; the
correction only removes its bias when there is none.

**Adjusted limits and flags.** The exact binomial limits' distance from ``p0`` is multiplied by the
inflation factor ``sqrt(φ)`` (multiplicative; only when φ > 1) or ``sqrt(1 + τ²/s²(n))`` (additive), so
that the adjusted limits equal the plain ones when there is no overdispersion
(``stats.funnel_limits(..., phi=, tau2=)``). Adjusted z-scores: ``z_i / sqrt(φ)`` and
``(y_i − p0) / sqrt(s_i² + τ²)``; p-values two-sided normal. The flags use the **additive** limits by
default: with areas of very different size (150 to 4,000 participations) the real between-area
variation is the same for a small and a large area, which the additive model says and the
multiplicative does not (it widens the large areas' limits too little and the small areas' too much).
With 14 areas of the Stockholm example's sizes, 4.7–5.4 % of areas fall outside the adjusted 95 %
limits when no area is an outlier (φ from 3 to 28), against 25–65 % outside the plain limits (and
7 % outside the multiplicative ones).

**Shrunken estimates and rank intervals** replace league-table ranks: with the additive model, area
``i``'s true share has the posterior ``N(p0 + (1 − B_i)(y_i − p0), (1 − B_i)·s_i²)`` with
``B_i = s_i² / (s_i² + τ²)`` (empirical Bayes, p0 and τ² treated as known). Ranks are drawn from the
posteriors (4,000 draws, fixed seed), and each area gets its mean rank and the 2.5–97.5 % range of its
ranks: "plats 3–9 av 14" says how little a single rank means.

**Risk-adjusted ratios** (O/E) get the same treatment in ``oe_funnel_table``: z-scores from the score
test's variance, centre 1, weights E.

**Many tests at once.** With ``m`` areas × measures each tested at 5 %, about ``0.05·m`` flags are
expected by chance alone even when no area really differs (``expected_false_flags``); Benjamini–Hochberg
q-values (``benjamini_hochberg``) control the expected share of false flags among the flagged.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats as _st

from insats.analysis.stats import funnel_flags
from insats.data.cache import memoize_values
from insats.errors import DataError, UsageError

__all__ = [
    "METHODS",
    "WINSOR_FRACTION",
    "Overdispersion",
    "benjamini_hochberg",
    "estimate_overdispersion",
    "expected_false_flags",
    "funnel_table",
    "oe_funnel_table",
    "shrunken_ranks",
    "winsorised_phi",
    "z_scores",
]

WINSOR_FRACTION = 0.10
"""Share of z-scores winsorised at each end (Spiegelhalter 2005)."""
METHODS = ("additiv", "multiplikativ")
"""Overdispersion models: ``additiv`` (random effects, τ²; the default for flags) and ``multiplikativ`` (φ)."""
_DRAWS = 2000
_SEED = 20050401


def z_scores(k, n, p0) -> np.ndarray:
    """``z_i = (k_i/n_i − p0) / sqrt(p0(1 − p0)/n_i)`` (NaN where ``n_i`` is 0)."""
    k = np.asarray(k, dtype=float)
    n = np.asarray(n, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(n > 0, (k / n - p0) / np.sqrt(p0 * (1 - p0) / n), np.nan)


def winsorised_phi(z, fraction: float = WINSOR_FRACTION) -> float:
    """``(1/I) Σ z_w²`` with the z-scores clipped to their ``fraction`` and ``1 − fraction`` quantiles."""
    z = np.asarray(z, dtype=float)
    z = z[np.isfinite(z)]
    if z.size == 0:
        return float("nan")
    lo, hi = np.quantile(z, [fraction, 1 - fraction])
    return float(np.mean(np.clip(z, lo, hi) ** 2))


def _sorted_quantile(s: np.ndarray, q: float) -> np.ndarray:
    """``np.quantile(s, q, axis=-1, keepdims=True)`` (the default, linear method, same arithmetic and
    so the same values) for rows ``s`` already sorted along the last axis and free of NaN. One sort
    of short rows is several times faster than the partitions ``np.quantile`` makes per call, and
    the dispersion curve takes these quantiles for 2,000 draws at 122 values of κ."""
    n = s.shape[-1]
    index = (n - 1) * q
    if index >= n - 1:
        return s[..., -1:]
    below = int(np.floor(index))
    a, b = s[..., below : below + 1], s[..., below + 1 : below + 2]
    gamma = index - below
    diff = b - a
    # numpy's _lerp: from the nearer end, so that gamma 0 and 1 give the order statistics exactly
    return b - diff * (1 - gamma) if gamma >= 0.5 else a + diff * gamma


def _winsorised_phi_rows(z: np.ndarray, fraction: float) -> np.ndarray:
    s = np.sort(z, axis=-1)
    lo = _sorted_quantile(s, fraction)
    hi = _sorted_quantile(s, 1 - fraction)
    return np.mean(np.clip(z, lo, hi) ** 2, axis=-1)


_CURVES: OrderedDict[tuple, tuple[np.ndarray, np.ndarray]] = OrderedDict()
_CURVES_MAX = 64
_CURVES_LOCK = threading.Lock()


def _dispersion_curve(rel_var: tuple, weights: tuple, fraction: float) -> tuple[np.ndarray, np.ndarray]:
    """``_simulated_curve``, kept for the last ``_CURVES_MAX`` keys (a study's measures share few)."""
    key = (rel_var, weights, fraction)
    with _CURVES_LOCK:
        kept = _CURVES.get(key)
        if kept is not None:
            _CURVES.move_to_end(key)
            return kept
    curve = _simulated_curve(rel_var, weights, fraction)
    add_dispersion_curves({key: curve})
    return curve


def dispersion_curves() -> dict[tuple, tuple[np.ndarray, np.ndarray]]:
    """The simulated curves this process keeps, by key (for ``add_dispersion_curves`` elsewhere)."""
    with _CURVES_LOCK:
        return dict(_CURVES)


def add_dispersion_curves(curves: dict[tuple, tuple[np.ndarray, np.ndarray]]) -> None:
    """Keep curves simulated by another process of this program (``insats.ahead``): the same
    function of the same key, so the same values as simulating them here."""
    with _CURVES_LOCK:
        for key, curve in curves.items():
            _CURVES[key] = curve
            _CURVES.move_to_end(key)
        while len(_CURVES) > _CURVES_MAX:
            _CURVES.popitem(last=False)


def _simulated_curve(rel_var: tuple, weights: tuple, fraction: float) -> tuple[np.ndarray, np.ndarray]:
    """``E[φ̂_w]`` as a function of the between-area variance κ (simulated, ``_DRAWS`` draws, fixed seed).

    Area ``i`` has sampling variance ``rel_var_i``; per draw ``y_i = e_i·sqrt(rel_var_i + κ)``, the centre is
    the weighted mean ``Σ w_i y_i / Σ w_i`` (the overall share: weights n; O/E: weights E) and
    ``z_i = (y_i − centre) / sqrt(rel_var_i)``; then the winsorised mean square. Returns the κ grid (0 and
    ``median(rel_var) · 10^-3 … 10^4``) and the curve (made non-decreasing).
    """
    v = np.asarray(rel_var, dtype=float)
    w = np.asarray(weights, dtype=float)
    kappas = np.concatenate([[0.0], np.median(v) * np.geomspace(1e-3, 1e4, 121)])
    rng = np.random.default_rng(_SEED)
    e = rng.standard_normal((_DRAWS, v.size))
    out = np.empty(len(kappas))
    for j, kappa in enumerate(kappas):
        y = e * np.sqrt(v + kappa)
        centre = (y @ w) / w.sum()
        z = (y - centre[:, None]) / np.sqrt(v)
        out[j] = _winsorised_phi_rows(z, fraction).mean()
    return kappas, np.maximum.accumulate(out)


def _estimate(
    z: np.ndarray, rel_var: np.ndarray, weights: np.ndarray, winsor: float
) -> tuple[float, float, float, float]:
    """(φ̂_w, φ, κ, κ_DL) from z-scores with sampling variances ``rel_var`` (module docstring)."""
    phi_w = winsorised_phi(z, winsor)
    # the curve depends only on the relative variances and weights: scale both so that the cache serves
    # every study with the same relative sizes (κ is then in units of the median sampling variance)
    scale = float(np.median(rel_var))
    key_v = tuple(float(x) for x in np.round(rel_var / scale, 12))
    key_w = tuple(float(x) for x in np.round(weights / np.sum(weights), 12))
    kappas, curve = _dispersion_curve(key_v, key_w, winsor)
    kappas = kappas * scale
    phi = max(phi_w / curve[0], 0.0)
    if phi_w <= curve[0]:
        kappa = 0.0
    elif phi_w >= curve[-1]:
        kappa = float(kappas[-1])
    else:
        kappa = float(np.interp(phi_w, curve, kappas))
    w = 1.0 / rel_var
    kappa_dl = max(0.0, (z.size * phi_w - (z.size - 1)) / (w.sum() - (w**2).sum() / w.sum()))
    return float(phi_w), float(phi), kappa, float(kappa_dl)


@dataclass(frozen=True)
class Overdispersion:
    """Estimated overdispersion of a set of area shares (module docstring)."""

    p0: float
    phi_winsorised: float
    """Spiegelhalter's φ̂_w: the winsorised mean of z² (biased low with few areas)."""
    phi: float
    """Multiplicative φ, corrected for the winsorising (≥ 1 means overdispersed)."""
    tau2: float
    """Additive between-area variance of the share (random effects), corrected for the winsorising."""
    tau2_dl: float
    """Spiegelhalter's DerSimonian–Laird τ² from φ̂_w (for comparison)."""
    n_groups: int
    winsor: float

    @property
    def tau(self) -> float:
        """Between-area standard deviation of the share (percentage points / 100)."""
        return float(np.sqrt(self.tau2))

    @property
    def ratio(self) -> float:
        """Between-area variance as a multiple of the binomial: φ (the plain mean of z² estimates it too)."""
        return self.phi


def _clean(k, n) -> tuple[np.ndarray, np.ndarray]:
    k = np.atleast_1d(np.asarray(k, dtype=float))
    n = np.atleast_1d(np.asarray(n, dtype=float))
    if k.shape != n.shape:
        raise UsageError("Täljare och nämnare måste ha lika många värden.")
    if np.any(k < 0) or np.any(k > n):
        raise DataError("Täljaren måste ligga mellan 0 och nämnaren för varje område.")
    return k, n


def estimate_overdispersion(k, n, p0: float | None = None, *, winsor: float = WINSOR_FRACTION) -> Overdispersion:
    """φ and τ² of the shares ``k / n`` around ``p0`` (default ``Σk / Σn``); see the module docstring.

    Groups with ``n`` = 0 are left out. Needs at least 3 groups with ``n`` > 0 (``DataError`` otherwise).
    """
    k, n = _clean(k, n)
    use = n > 0
    k, n = k[use], n[use]
    if n.size < 3:
        raise DataError(f"Överspridning kan inte skattas med {n.size} område(n) med underlag; det behövs minst tre.")
    if p0 is None:
        p0 = float(k.sum() / n.sum())
    if not 0 < p0 < 1:
        return Overdispersion(float(p0), float("nan"), 1.0, 0.0, 0.0, int(n.size), winsor)
    c = p0 * (1 - p0)
    phi_w, phi, kappa, kappa_dl = _estimate(z_scores(k, n, p0), 1.0 / n, n, winsor)
    return Overdispersion(float(p0), phi_w, phi, kappa * c, kappa_dl * c, int(n.size), winsor)


def funnel_table(
    k,
    n,
    p0: float | None = None,
    *,
    method: str = "additiv",
    overdispersion: Overdispersion | None = None,
    index=None,
) -> pd.DataFrame:
    """Per group: plain and overdispersion-adjusted z-scores, p-values and funnel flags.

    Columns: ``taljare``, ``namnare``, ``andel``, ``z`` (plain), ``p`` (two-sided normal),
    ``flagga`` (plain exact binomial limits, ``stats.funnel_flags``), ``z_justerad``, ``p_justerad``,
    ``flagga_justerad`` (the adjusted limits of ``method``: ``additiv`` uses τ², ``multiplikativ`` φ),
    ``q_justerad`` (Benjamini–Hochberg q-values of ``p_justerad`` within this table). ``attrs``:
    ``"overdispersion"`` (``Overdispersion``), ``"method"``, ``"expected_false_flags"`` (at 95 %, when no
    group really differs). The index is ``index`` (or that of ``k`` when it is a Series).
    """
    if method not in METHODS:
        raise UsageError(f"Okänd metod {method!r} för överspridning: välj 'additiv' eller 'multiplikativ'.")
    if index is None and isinstance(k, pd.Series):
        index = k.index
    k, n = _clean(k, n)
    od = overdispersion or estimate_overdispersion(k, n, p0)
    p0 = od.p0
    with np.errstate(divide="ignore", invalid="ignore"):
        share = np.where(n > 0, k / n, np.nan)
        s2 = p0 * (1 - p0) / n
        z = z_scores(k, n, p0)
        if method == "additiv":
            z_adj = (share - p0) / np.sqrt(s2 + od.tau2)
            flags_adj = funnel_flags(k, n, p0, tau2=od.tau2)
        else:
            z_adj = z / np.sqrt(max(od.phi, 1.0))
            flags_adj = funnel_flags(k, n, p0, phi=od.phi)
    out = pd.DataFrame(
        {
            "taljare": k,
            "namnare": n,
            "andel": share,
            "z": z,
            "p": 2 * _st.norm.sf(np.abs(z)),
            "flagga": funnel_flags(k, n, p0).to_numpy(),
            "z_justerad": z_adj,
            "p_justerad": 2 * _st.norm.sf(np.abs(z_adj)),
            "flagga_justerad": flags_adj.to_numpy(),
        },
        index=index,
    )
    for col in ("flagga", "flagga_justerad"):  # the codes of stats.funnel_flags, as object like there
        out[col] = out[col].astype(object)
    out["q_justerad"] = benjamini_hochberg(out["p_justerad"].to_numpy())
    out.attrs["overdispersion"] = od
    out.attrs["method"] = method
    out.attrs["expected_false_flags"] = expected_false_flags(int(np.isfinite(z_adj).sum()))
    return out


def oe_funnel_table(oe: pd.DataFrame, *, winsor: float = WINSOR_FRACTION) -> pd.DataFrame:
    """Overdispersion-adjusted flags for risk-adjusted ratios (the output of ``stats.observed_expected``).

    With ``y_i = O_i/E_i``, sampling variance ``v_i = V_i / E_i²`` (``varians`` / ``expected``²) and centre 1
    (``Σ E_i y_i / Σ E_i = ΣO/ΣE = 1``): plain ``z_i = (y_i − 1)/sqrt(v_i)`` (the score test ``z``), φ and the
    additive ``τ²`` of the ratio as for shares (winsorised, corrected by simulation with weights ``E_i``),
    and ``z_justerad = (y_i − 1) / sqrt(v_i + τ²)``. Flags from ``z_justerad`` with the normal 95 % and
    99.8 % limits (``over_998`` … ``under_998``, as ``stats.funnel_flags``), ``p_justerad``, ``q_justerad``
    (Benjamini–Hochberg). ``attrs["overdispersion"]``: an ``Overdispersion`` with ``p0`` = 1 and ``tau2`` on the
    ratio scale. Groups without an expected value are left out of the estimate and get NaN.

    Use: the plain O/E interval says whether a group differs from the case-mix model at all; the adjusted
    flag whether it differs more than groups usually differ from each other (the funnel plot's question).
    """
    o = oe["observed"].to_numpy(float)
    e = oe["expected"].to_numpy(float)
    var = oe["varians"].to_numpy(float)
    use = (e > 0) & (var > 0)
    if use.sum() < 3:
        raise DataError(
            f"Överspridning kan inte skattas med {int(use.sum())} grupp(er) med förväntat värde; det behövs minst tre."
        )
    with np.errstate(divide="ignore", invalid="ignore"):
        y = o / e
        v = var / e**2
        z = (y - 1.0) / np.sqrt(v)
    phi_w, phi, tau2, tau2_dl = _estimate(z[use], v[use], e[use], winsor)
    with np.errstate(divide="ignore", invalid="ignore"):
        z_adj = np.where(use, (y - 1.0) / np.sqrt(v + tau2), np.nan)
    q95, q998 = _st.norm.ppf(0.975), _st.norm.ppf(0.999)
    flags = np.select(
        [z_adj > q998, z_adj > q95, z_adj < -q998, z_adj < -q95],
        ["over_998", "over_95", "under_998", "under_95"],
        "inom",
    ).astype(object)
    flags[~np.isfinite(z_adj)] = np.nan
    out = pd.DataFrame(
        {
            "oe": y,
            "z": np.where(use, z, np.nan),
            "z_justerad": z_adj,
            "p_justerad": 2 * _st.norm.sf(np.abs(z_adj)),
            "flagga_justerad": pd.Series(flags, dtype=object).to_numpy(),
        },
        index=oe.index,
    )
    out["flagga_justerad"] = out["flagga_justerad"].astype(object)
    out["q_justerad"] = benjamini_hochberg(out["p_justerad"].to_numpy())
    out.attrs["overdispersion"] = Overdispersion(1.0, phi_w, phi, tau2, tau2_dl, int(use.sum()), winsor)
    out.attrs["expected_false_flags"] = expected_false_flags(int(use.sum()))
    return out


@memoize_values  # the same published values in every district profile of a run: worked out once per kernel
def shrunken_ranks(
    k,
    n,
    p0: float | None = None,
    *,
    tau2: float | None = None,
    level: float = 0.95,
    descending: bool = True,
    draws: int = 4000,
    seed: int = _SEED,
    index=None,
) -> pd.DataFrame:
    """Empirical-Bayes shrunken shares and rank intervals (module docstring).

    ``tau2`` defaults to ``estimate_overdispersion(k, n, p0).tau2``. Rank 1 is the highest share
    (``descending=False``: the lowest). Columns: ``andel`` (raw), ``skattning`` (posterior mean),
    ``lo``/``hi`` (posterior ``level`` interval), ``krympning`` (B_i: 0 = own share kept, 1 = all the way
    to p0), ``rang`` (rank of the posterior mean), ``rang_medel``, ``rang_lo``/``rang_hi`` (the central
    ``level`` range of the drawn ranks). With τ² = 0 the model says the areas do not really differ: every
    rank interval is 1 … I. Groups with ``n`` = 0 get NaN.
    """
    if index is None and isinstance(k, pd.Series):
        index = k.index
    k, n = _clean(k, n)
    use = n > 0
    if p0 is None:
        p0 = float(k[use].sum() / n[use].sum())
    if tau2 is None:
        tau2 = estimate_overdispersion(k, n, p0).tau2
    with np.errstate(divide="ignore", invalid="ignore"):
        share = np.where(use, k / n, np.nan)
        s2 = p0 * (1 - p0) / n
        b = np.where(use, s2 / (s2 + tau2), np.nan) if tau2 > 0 else np.where(use, 1.0, np.nan)
    mean = p0 + (1 - b) * (share - p0)
    sd = np.sqrt((1 - b) * s2)
    zq = _st.norm.ppf(0.5 + level / 2)
    m = int(use.sum())
    rank_mean = np.full(len(n), np.nan)
    rank_lo = np.full(len(n), np.nan)
    rank_hi = np.full(len(n), np.nan)
    rank_point = np.full(len(n), np.nan)
    if m:
        sign = -1.0 if descending else 1.0
        rank_point[use] = _st.rankdata(sign * mean[use], method="min")
        if tau2 > 0:
            rng = np.random.default_rng(seed)
            theta = mean[use] + sd[use] * rng.standard_normal((draws, m))
            ranks = _st.rankdata(sign * theta, axis=1, method="ordinal")
            rank_mean[use] = ranks.mean(axis=0)
            rank_lo[use] = np.quantile(ranks, (1 - level) / 2, axis=0, method="inverted_cdf")
            rank_hi[use] = np.quantile(ranks, (1 + level) / 2, axis=0, method="inverted_cdf")
        else:
            rank_mean[use], rank_lo[use], rank_hi[use] = (m + 1) / 2, 1, m
    return pd.DataFrame(
        {
            "andel": share,
            "skattning": mean,
            "lo": mean - zq * sd,
            "hi": mean + zq * sd,
            "krympning": b,
            "rang": rank_point,
            "rang_medel": rank_mean,
            "rang_lo": rank_lo,
            "rang_hi": rank_hi,
        },
        index=index,
    )


def benjamini_hochberg(p) -> np.ndarray:
    """Benjamini–Hochberg q-values: with the ``m`` finite p-values sorted, ``p_(1) ≤ … ≤ p_(m)``,
    ``q_(i) = min_{j ≥ i} min(1, m·p_(j) / j)``. Flagging the tests with ``q ≤ 0.05`` keeps the expected
    share of false flags among the flagged at most 5 % (independent or positively dependent tests).
    NaN stays NaN and is not counted in ``m``."""
    p = np.asarray(p, dtype=float)
    q = np.full(p.shape, np.nan)
    ok = np.isfinite(p)
    m = int(ok.sum())
    if m == 0:
        return q
    pv = p[ok]
    order = np.argsort(pv, kind="stable")
    ranked = pv[order] * m / np.arange(1, m + 1)
    qs = np.minimum.accumulate(ranked[::-1])[::-1]
    out = np.empty(m)
    out[order] = np.minimum(qs, 1.0)
    q[ok] = out
    return q


def expected_false_flags(n_tests: int, level: float = 0.95) -> float:
    """Flags expected by chance alone when ``n_tests`` two-sided tests at ``level`` all have a true null:
    ``n_tests · (1 − level)`` (e.g. 14 areas × 8 measures at 95 % → 5.6)."""
    if n_tests < 0:
        raise UsageError("Antalet test kan inte vara negativt.")
    return float(n_tests) * (1.0 - level)
