"""Närvaro: attended hours against planned hours."""

from __future__ import annotations

import numpy as np
import pandas as pd

from insats.analysis.measures.context import Context, per_area, stat_per_area
from insats.analysis.measures.registry import register

# --------------------------------------------------------------------------- närvaro


def _attendance(ctx: Context) -> pd.DataFrame:
    """Participations overlapping the period with planned hours > 0 and attended hours given:
    columns area, ratio = min(narvarotimmar / planerade_timmar, 1)."""
    p = ctx.participations
    overlaps = (p["start"] <= ctx.params.last_day) & (p["slut"].isna() | (p["slut"] >= ctx.params.first_day))
    ok = overlaps & (p["planerade"] > 0) & p["narvaro"].notna()
    q = p[ok]
    return pd.DataFrame(
        {"area": q["area"].to_numpy(dtype=object), "ratio": np.minimum(q["narvaro"] / q["planerade"], 1.0).to_numpy()}
    )


@register(
    "narvaro_median",
    "Närvaro, median",
    "andel",
    ["deltaganden", "personer"],
    True,
    "Median av närvarotimmar / planerade timmar (högst 1) för deltaganden med planerade timmar > 0 "
    "som pågår under perioden.",
)
def narvaro_median(ctx: Context) -> pd.DataFrame:
    """Participations that overlap the period; those with planned hours 0 or empty, or attended
    hours empty, are left out. namnare = number of participations."""
    a = _attendance(ctx)
    return stat_per_area(ctx, a["area"].to_numpy(), a["ratio"].to_numpy(), np.median)


@register(
    "narvaro_andel_80",
    "Andel deltaganden med minst 80 % närvaro",
    "andel",
    ["deltaganden", "personer"],
    True,
    "Andel av deltagandena i narvaro_median med närvaro minst 0,8.",
)
def narvaro_andel_80(ctx: Context) -> pd.DataFrame:
    a = _attendance(ctx)
    return per_area(ctx, a["area"].to_numpy(), (a["ratio"] >= 0.8).to_numpy(), np.ones(len(a)))
