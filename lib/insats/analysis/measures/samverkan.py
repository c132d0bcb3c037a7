"""Samverkan: where the residents' interventions are run — by their own district, centrally, or
by another district (the 2013 kartläggning's question on cooperation and coordination)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from insats.analysis.measures.context import Context, per_area
from insats.analysis.measures.registry import register
from insats.contract import CENTRAL

_NEEDS = ["deltaganden", "insatser", "personer"]
_BASE = (
    "Bland deltaganden som började under perioden, för biståndsmottagare i området och i insatser som finns "
    "i insatsförteckningen: andel"
)


def _where(ctx: Context) -> tuple[np.ndarray, np.ndarray]:
    """Per participation that started in the period (of a person in the study, in a listed
    intervention): the person's area, and where the intervention is run (``eget``, ``central``,
    ``annat``)."""
    p = ctx.participations
    q = p[ctx.in_period(p["start"]) & (p["pos"] >= 0) & p["ins_area"].notna()]
    person = q["area"].astype(str).to_numpy()
    run = q["ins_area"].astype(str).to_numpy()
    where = np.where(run == person, "eget", np.where(run == CENTRAL, "central", "annat"))
    return person, where


def _share(ctx: Context, kind: str) -> pd.DataFrame:
    person, where = _where(ctx)
    return per_area(ctx, person, where == kind, np.ones(len(person)))


@register(
    "samverkan_andel_eget_omrade",
    "Andel deltaganden i områdets egna insatser",
    "andel",
    _NEEDS,
    True,
    f"{_BASE} i insatser som områdets egen förvaltning ansvarar för.",
)
def samverkan_andel_eget_omrade(ctx: Context) -> pd.DataFrame:
    return _share(ctx, "eget")


@register(
    "samverkan_andel_central",
    "Andel deltaganden i centrala insatser",
    "andel",
    _NEEDS,
    True,
    f"{_BASE} i centrala insatser (t.ex. jobbtorg).",
)
def samverkan_andel_central(ctx: Context) -> pd.DataFrame:
    return _share(ctx, "central")


@register(
    "samverkan_andel_annat_omrade",
    "Andel deltaganden i andra områdens insatser",
    "andel",
    _NEEDS,
    True,
    f"{_BASE} i insatser som ett annat område ansvarar för.",
)
def samverkan_andel_annat_omrade(ctx: Context) -> pd.DataFrame:
    return _share(ctx, "annat")
