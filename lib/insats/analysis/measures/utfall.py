"""Utfall: how participations end (work or studies, no assistance afterwards), long-term
assistance (the case-mix adjusted outcome is in ``justerat``)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from insats.analysis.measures.context import Context, per_area, period_years
from insats.analysis.measures.registry import register

# --------------------------------------------------------------------------- utfall


def ended_participations(ctx: Context) -> pd.DataFrame:
    """Participations whose ``slut_datum`` is in the period, with ``arbete_studier`` (avslut is
    arbete or studier; an empty avslut counts as neither)."""
    p = ctx.participations
    q = p[p["slut"].notna() & ctx.in_period(p["slut"]) & (p["pos"] >= 0)].copy()
    q["arbete_studier"] = q["avslut"].isin(["arbete", "studier"]).to_numpy()
    return q


@register(
    "utfall_arbete_studier_andel",
    "Andel avslut till arbete eller studier",
    "andel",
    ["deltaganden", "personer"],
    True,
    "Bland deltaganden som avslutades under perioden: andel med avslut arbete eller studier.",
)
def utfall_arbete_studier_andel(ctx: Context) -> pd.DataFrame:
    q = ended_participations(ctx)
    return per_area(ctx, q["area"].to_numpy(), q["arbete_studier"].to_numpy(), np.ones(len(q)))


@register(
    "utfall_sjalvforsorjning_andel",
    "Andel utan bistånd efter avslutad insats",
    "andel",
    ["deltaganden", "personer", "bistand"],
    True,
    "Bland deltaganden som avslutades under perioden och vars tre följande månader finns i data: "
    "andel vars person saknar bistånd alla tre månaderna.",
)
def utfall_sjalvforsorjning_andel(ctx: Context) -> pd.DataFrame:
    """Follow-up months are the ``uppfoljning_manader`` calendar months after the end month;
    they must all be inside the data (on or before the last ``bistand`` month)."""
    q = ended_participations(ctx)
    inside, any_aid = aid_after_end(ctx, q)
    return per_area(ctx, q["area"].to_numpy()[inside], ~any_aid[inside], np.ones(int(inside.sum())))


def aid_after_end(ctx: Context, q: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """For ended participations ``q`` (rows of ``ctx.participations`` with ``slut``, ``pos`` ≥ 0): whether the
    ``uppfoljning_manader`` calendar months after the end month are all inside the data (``inside``), and
    whether the person has assistance in any of them (``any_aid``; False where not inside). The rule of
    utfall_sjalvforsorjning_andel (without assistance = not ``any_aid``)."""
    k = ctx.params.uppfoljning_manader
    t_end = np.asarray(ctx.month_index(q["slut"]), dtype=np.int64)
    inside = (t_end + k <= ctx.n_months - 1) & (t_end + 1 >= 0)
    pos = q["pos"].to_numpy()[inside]
    t = t_end[inside]
    hit = np.zeros(len(pos), bool)
    for j in range(1, k + 1):
        hit |= ctx.panel[pos, t + j]
    any_aid = np.zeros(len(q), bool)
    any_aid[inside] = hit
    return inside, any_aid


@register(
    "langvarigt_andel",
    "Andel långvarigt biståndsmottagande",
    "andel",
    ["personer", "bistand"],
    True,
    "Andel av årets vuxna biståndsmottagare med bistånd 10–12 av årets månader (som Koladas N31814), "
    "för periodens hela kalenderår, sammanvägt över åren.",
)
def langvarigt_andel(ctx: Context) -> pd.DataFrame:
    """Pooled over the calendar years that lie wholly inside the period and inside the data:
    taljare = person-years with 10–12 months, namnare = person-years with ≥ 1 month as an adult
    (turning 18 or more that year). With no whole year the measure is empty (NaN)."""
    years = [
        y
        for y in period_years(ctx)
        if pd.Timestamp(y, 1, 1) >= ctx.params.start and pd.Timestamp(y, 12, 1) <= ctx.params.end
    ]
    nums, dens, areas = [], [], []
    for y in years:
        a = ctx.month_index(pd.Timestamp(y, 1, 1))
        if a < 0 or a + 12 > ctx.n_months:
            continue
        months = ctx.panel[:, a : a + 12].sum(axis=1)
        adult = (y - ctx.birth_year[:-1]) >= 18
        sel = (months > 0) & adult
        nums.append(months[sel] >= 10)
        dens.append(np.ones(int(sel.sum())))
        areas.append(ctx.person_area[:-1][sel])
    if not nums:
        return per_area(ctx, np.array([], dtype=object), np.array([]), np.array([]))
    return per_area(ctx, np.concatenate(areas), np.concatenate(nums), np.concatenate(dens))
