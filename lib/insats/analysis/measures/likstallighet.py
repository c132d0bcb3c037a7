"""Likställighet: how much the area shares vary, and funnel-plot flags, computed from what is published."""

from __future__ import annotations

import numpy as np
import pandas as pd

from insats.analysis.measures.registry import FUNNEL_CODES, SHARE_MEASURES_FOR_EQUALITY
from insats.analysis.overdispersion import funnel_table, oe_funnel_table
from insats.analysis.stats import funnel_flags, variation
from insats.contract import ALLA
from insats.errors import DataError

# --------------------------------------------------------------------------- likställighet

OE_MEASURE = "justerat_utfall_oe"
"""The case-mix adjusted ratio; its flags come from ``overdispersion.oe_funnel_table``."""

_Z95, _Z998 = 1.959963984540054, 3.090232306167813


def _row(matt: str, code: str, value: float, n: float) -> dict:
    return {"matt": matt, "omrade_kod": code, "varde": float(value), "taljare": np.nan, "namnare": float(n)}


def _z_codes(z: np.ndarray) -> np.ndarray:
    """Funnel codes from z-scores with the normal 95 % and 99.8 % limits (NaN stays NaN)."""
    codes = np.select([z > _Z998, z > _Z95, z < -_Z998, z < -_Z95], [2.0, 1.0, -2.0, -1.0], 0.0)
    return np.where(np.isfinite(z), codes, np.nan)


def _dispersion_rows(m: str, od, n_areas: int) -> list[dict]:
    return [
        _row(f"likstallighet_phi__{m}", ALLA, od.phi, n_areas),
        _row(f"likstallighet_tau2__{m}", ALLA, od.tau2, n_areas),
    ]


def _oe_rows(long: pd.DataFrame, min_cell: int) -> list[dict]:
    """Flags of the published areas' O/E: plain (the score test's z against the normal limits) and adjusted
    for overdispersion (``oe_funnel_table``), from the published O, E and variance rows."""

    def values(mid: str) -> pd.Series:
        part = long[(long["matt"] == mid) & (long["omrade_kod"] != ALLA)]
        return part.set_index("omrade_kod")["varde"]

    part = long[(long["matt"] == OE_MEASURE) & (long["omrade_kod"] != ALLA) & (long["namnare"] >= min_cell)]
    frame = pd.DataFrame(
        {
            "observed": part.set_index("omrade_kod")["taljare"],
            "expected": values("justerat_utfall_forvantat"),
            "varians": values("justerat_utfall_oe_varians"),
            "namnare": part.set_index("omrade_kod")["namnare"],
        }
    ).dropna()
    frame = frame[(frame["expected"] > 0) & (frame["varians"] > 0)]
    if len(frame) < 3:
        return []
    try:
        ft = oe_funnel_table(frame)
    except DataError:
        return []
    rows = []
    for code, plain, adj, n in zip(
        ft.index, _z_codes(ft["z"].to_numpy(float)), ft["flagga_justerad"], frame["namnare"]
    ):
        if isinstance(adj, str):
            rows.append(_row(f"likstallighet_tratt__{OE_MEASURE}", code, FUNNEL_CODES[adj], n))
        if np.isfinite(plain):
            rows.append(_row(f"likstallighet_tratt_vanlig__{OE_MEASURE}", code, plain, n))
    return rows + _dispersion_rows(OE_MEASURE, ft.attrs["overdispersion"], len(frame))


def likstallighet(long: pd.DataFrame, min_cell: int) -> pd.DataFrame:
    """Variation across areas of each share in ``SHARE_MEASURES_FOR_EQUALITY``, and funnel-plot flags.

    Per measure, over the areas whose denominator is at least ``min_cell`` (smaller areas are left out
    so that a suppressed share cannot be read off the range, and take no part in the flags):

    * ``likstallighet_spannvidd__<m>`` (max − min) and ``likstallighet_cv__<m>`` (coefficient of variation);
    * per area ``likstallighet_tratt__<m>``: the funnel-plot flag against the whole-study share with limits
      **adjusted for overdispersion** (Spiegelhalter 2005, additive τ², ``overdispersion.funnel_table``),
      and ``likstallighet_tratt_vanlig__<m>``: the flag against the plain exact binomial limits; both coded
      -2 (under the 99.8 % limit), -1 (under 95 %), 0 (inside), 1 (over 95 %), 2 (over 99.8 %);
    * ``likstallighet_phi__<m>`` and ``likstallighet_tau2__<m>`` (``ALLA``): the estimated overdispersion φ
      (between-area variance as a multiple of the binomial) and the between-area variance τ² of the share.

    With fewer than three areas the overdispersion cannot be estimated: the adjusted flag is then the plain
    one and there are no φ/τ² rows. ``justerat_utfall_oe`` gets the same flag rows from its published
    observed, expected and variance rows (``overdispersion.oe_funnel_table``; the plain flag from the score
    test's z).
    """

    rows: list[dict] = []
    for m in SHARE_MEASURES_FOR_EQUALITY:
        part = long[long["matt"] == m]
        if part.empty:
            continue
        total = part[part["omrade_kod"] == ALLA]
        areas = part[(part["omrade_kod"] != ALLA) & (part["namnare"] >= min_cell)]
        if total.empty or areas.empty or not (total["namnare"].iloc[0] > 0):
            continue
        v = variation(areas["varde"])
        rows.append(_row(f"likstallighet_spannvidd__{m}", ALLA, v["range"], v["n"]))
        rows.append(_row(f"likstallighet_cv__{m}", ALLA, v["cv"], v["n"]))
        p0 = float(total["taljare"].iloc[0] / total["namnare"].iloc[0])
        k, n = areas["taljare"].to_numpy(float), areas["namnare"].to_numpy(float)
        try:
            ft = funnel_table(k, n, p0)
        except DataError:  # fewer than three areas: no overdispersion estimate
            ft = None
        if ft is not None:
            plain, adjusted = ft["flagga"].to_numpy(object), ft["flagga_justerad"].to_numpy(object)
            rows += _dispersion_rows(m, ft.attrs["overdispersion"], len(areas))
        else:
            plain = adjusted = funnel_flags(k, n, p0).to_numpy(object)
        for code, count, flag, flag_plain in zip(areas["omrade_kod"], n, adjusted, plain):
            if isinstance(flag, str):
                rows.append(_row(f"likstallighet_tratt__{m}", code, FUNNEL_CODES[flag], count))
            if isinstance(flag_plain, str):
                rows.append(_row(f"likstallighet_tratt_vanlig__{m}", code, FUNNEL_CODES[flag_plain], count))
    if (long["matt"] == OE_MEASURE).any():
        rows += _oe_rows(long, min_cell)
    return pd.DataFrame(rows, columns=["matt", "omrade_kod", "varde", "taljare", "namnare"])
