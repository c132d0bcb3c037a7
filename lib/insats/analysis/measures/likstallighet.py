"""Likställighet: how much the area shares vary, and funnel-plot flags, computed from what is published."""

from __future__ import annotations

import numpy as np
import pandas as pd

from insats.analysis.measures.registry import FUNNEL_CODES, SHARE_MEASURES_FOR_EQUALITY
from insats.analysis.stats import funnel_flags, variation
from insats.contract import ALLA

# --------------------------------------------------------------------------- likställighet


def likstallighet(long: pd.DataFrame, min_cell: int) -> pd.DataFrame:
    """Variation across areas of each share in ``SHARE_MEASURES_FOR_EQUALITY``.

    Per measure: ``likstallighet_spannvidd__<m>`` (max − min), ``likstallighet_cv__<m>``
    (coefficient of variation) over the areas whose denominator is at least ``min_cell`` (smaller
    areas are left out so that a suppressed share cannot be read off the range), and per area
    ``likstallighet_tratt__<m>``: the funnel-plot flag against the whole-study share, coded
    -2 (under the 99.8 % limit), -1 (under 95 %), 0 (inside), 1 (over 95 %), 2 (over 99.8 %).
    """

    rows = []
    for m in SHARE_MEASURES_FOR_EQUALITY:
        part = long[long["matt"] == m]
        if part.empty:
            continue
        total = part[part["omrade_kod"] == ALLA]
        areas = part[(part["omrade_kod"] != ALLA) & (part["namnare"] >= min_cell)]
        if total.empty or areas.empty or not (total["namnare"].iloc[0] > 0):
            continue
        v = variation(areas["varde"])
        rows.append(
            {
                "matt": f"likstallighet_spannvidd__{m}",
                "omrade_kod": ALLA,
                "varde": v["range"],
                "taljare": np.nan,
                "namnare": float(v["n"]),
            }
        )
        rows.append(
            {
                "matt": f"likstallighet_cv__{m}",
                "omrade_kod": ALLA,
                "varde": v["cv"],
                "taljare": np.nan,
                "namnare": float(v["n"]),
            }
        )
        p0 = float(total["taljare"].iloc[0] / total["namnare"].iloc[0])
        flags = funnel_flags(areas["taljare"].to_numpy(), areas["namnare"].to_numpy(), p0)
        for code, n, flag in zip(areas["omrade_kod"], areas["namnare"], np.asarray(flags)):
            rows.append(
                {
                    "matt": f"likstallighet_tratt__{m}",
                    "omrade_kod": code,
                    "varde": float(FUNNEL_CODES[flag]),
                    "taljare": np.nan,
                    "namnare": float(n),
                }
            )
    return pd.DataFrame(rows, columns=["matt", "omrade_kod", "varde", "taljare", "namnare"])
