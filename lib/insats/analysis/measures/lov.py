"""LOV (valfrihet): the share who chose their provider themselves."""

from __future__ import annotations

import numpy as np
import pandas as pd

from insats.analysis.measures.context import Context, per_area
from insats.analysis.measures.registry import register

# --------------------------------------------------------------------------- LOV


@register(
    "lov_andel_valt",
    "Andel som själva valt utförare (LOV)",
    "andel",
    ["deltaganden", "insatser", "personer"],
    True,
    "Bland deltaganden som började under perioden hos LOV-utförare: andel där personen själv valt utföraren.",
)
def lov_andel_valt(ctx: Context) -> pd.DataFrame:
    """An intervention is at a LOV provider when ``lov`` is Ja or ``regi`` is lov; an empty
    ``vald_utforare`` counts as not chosen."""
    p = ctx.participations
    q = p[p["lov"] & ctx.in_period(p["start"]) & (p["pos"] >= 0)]
    chosen = np.array([v is True for v in q["vald"]], dtype=bool)
    return per_area(ctx, q["area"].to_numpy(), chosen, np.ones(len(q)))
