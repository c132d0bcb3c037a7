"""Erbjudande: the share of unemployed adult recipients offered an intervention within 90 days."""

from __future__ import annotations

import numpy as np
import pandas as pd

from insats.analysis.measures.context import Context, per_area
from insats.analysis.measures.registry import register

# --------------------------------------------------------------------------- erbjudande


@register(
    "erbjudande_andel",
    "Andel som erbjudits insats inom 90 dagar",
    "andel",
    ["personer", "bistand", "deltaganden"],
    True,
    "Vuxna biståndsmottagare med försörjningshinder arbetslöshet som erbjudits en insats senast "
    "90 dagar efter första biståndsmånaden under perioden.",
)
def erbjudande_andel(ctx: Context) -> pd.DataFrame:
    """Among adult recipients in hinder group arbetsloshet (all groups with
    ``erbjudande_alla_grupper``), the share with a participation whose ``erbjuden_datum`` (else
    ``start_datum``) is on or before day0 + ``erbjudande_dagar`` and that had not ended before
    day0 (``slut_datum`` empty or on/after day0).

    An offer made before day0 that is still running at day0 counts. Persons whose m0 lies near
    the data's end have less than 90 days observed; they stay in the denominator, as the
    definition says (logged in docs/antaganden.md).
    """
    scope = ctx.adult.copy()
    if not ctx.params.erbjudande_alla_grupper:
        scope &= ctx.person_group[:-1] == "arbetsloshet"
    offered = ctx.offered
    area = ctx.person_area[:-1][scope]
    return per_area(ctx, area, offered[scope], np.ones(int(scope.sum())))
