"""Capacity from occupancy: the places in use today, and the places needed if everyone in scope were reached.

Inputs are plain frames (the contract's ``deltaganden`` columns plus a category), so the functions
do not depend on ``measures.Context``; the caller chooses which participations count (e.g. only
interventions counted as intervention) and who is in scope (e.g. the denominator of erbjudande_andel).

Definitions (period ``first`` … ``last``, ``P = last − first + 1`` days; dates inclusive)
------------------------------------------------------------------------------------------
*Occupancy* (beläggning), the average number of participations going on at the same time::

    days_j   = max(0, min(slut_j, end) − max(start_j, first) + 1),   end = last (ongoing: slut empty)
    beläggning = Σ_j days_j / P

i.e. person-days in the period divided by its days: exactly the mean over the period's days of the
number of participations going on that day (``tests/analysis/test_capacity.py`` counts it day by day).
Split by who uses the places: persons in scope and persons outside it. Per calendar month likewise
(``monthly``).

*Duration* of a participation, by Kaplan–Meier over the participations **started in the period**:
``T_j = slut_j − start_j + 1`` days when it has ended by ``data_end``, else censored at
``data_end − start_j + 1`` (ongoing participations are still running: dropping them, as a mean of the
finished ones does, makes long interventions look short). The mean is the KM restricted mean up to
``P`` days, ``D = ∫_0^P S(t) dt`` (the days of the period a participation can occupy at most; a plain
mean is not defined when the longest participations are still running).

*Participations per person*: ``pp = participations started in the period by persons in scope / R``,
where ``R`` = persons in scope with at least one participation overlapping the period (reached: they
use or used a place in the period). Per category ``pp_c`` likewise (``Σ_c pp_c = pp``).

*Places needed if everyone in scope were reached* (Little's law: places in use = participations
started per day × mean duration)::

    tillkommande_c = (N − R) · pp_c · D_c / P
    behov_c        = beläggning_c + tillkommande_c

with ``N`` persons in scope. Today's users — in scope or not — keep their places, and each person not
yet reached would start participations at the rate and of the length observed for the reached
(``pp_c / P`` per day, ``D_c`` days each). Starts, not participations overlapping the period, give the
rate: a participation that began before the period and one still running after it would otherwise be
counted as if all its days fell in the period. With ``platser`` (places per category, averaged over the
period) ``gap_c = behov_c − platser_c`` (> 0: places missing). The definition assumes that the persons not
reached would use interventions like those reached; it is an estimate of the need under full coverage,
not a forecast.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np
import pandas as pd

from insats.contract import ALLA
from insats.errors import DataError, UsageError

__all__ = [
    "DAYS_PER_MONTH",
    "CapacityResult",
    "capacity_from_occupancy",
    "kaplan_meier",
    "occupancy",
    "restricted_mean",
]

DAYS_PER_MONTH = 365.25 / 12
"""Days in an average month (durations in days / this = months)."""

_REQUIRED = ("person_id", "start_datum", "slut_datum")


def _day(value) -> pd.Timestamp:
    return pd.Timestamp(value).normalize()


def _period(fran, till) -> tuple[pd.Timestamp, pd.Timestamp]:
    """``fran``/``till`` as "YYYY-MM" (whole months) or dates: (first day, last day)."""
    first = pd.Timestamp(fran)
    last = pd.Timestamp(till)
    if isinstance(fran, str) and len(fran) == 7:
        first = first.to_period("M").to_timestamp()
    if isinstance(till, str) and len(till) == 7:
        last = last.to_period("M").to_timestamp() + pd.offsets.MonthEnd(0)
    first, last = first.normalize(), last.normalize()
    if last < first:
        raise UsageError(f"Perioden slutar ({till}) före sin början ({fran}).")
    return first, last


def _check(frame: pd.DataFrame, category: str | None) -> None:
    missing = [c for c in _REQUIRED + ((category,) if category else ()) if c not in frame.columns]
    if missing:
        raise UsageError(f"Deltagandena saknar kolumnerna {', '.join(missing)}.")
    bad = frame["slut_datum"].notna() & frame["start_datum"].notna() & (frame["slut_datum"] < frame["start_datum"])
    if bad.any():
        raise DataError(
            f"{int(bad.sum())} deltaganden slutar före sin start; rätta slut_datum eller start_datum i deltaganden."
        )


def _overlap_days(start: pd.Series, slut: pd.Series, first: pd.Timestamp, last: pd.Timestamp) -> np.ndarray:
    a = start.clip(lower=first)
    b = slut.fillna(last).clip(upper=last)
    return ((b - a).dt.days + 1).clip(lower=0).fillna(0).to_numpy(dtype=float)


def occupancy(
    deltaganden: pd.DataFrame, fran, till, *, by: str | None = None, freq: str | None = None
) -> pd.DataFrame | pd.Series:
    """Average number of participations going on at the same time (person-days / days; module docstring).

    ``by`` groups (a column of ``deltaganden``); ``freq="M"`` gives one value per calendar month of
    the period (columns: ``manad`` and one per group, or ``belaggning``). Without ``freq`` a Series per
    group (or a one-element Series ``belaggning``). Participations without a start date are ignored.
    """
    first, last = _period(fran, till)
    d = deltaganden[deltaganden["start_datum"].notna()]
    keys = d[by].astype(object).fillna("(okänd)") if by else pd.Series("belaggning", index=d.index)
    if freq is None:
        days = _overlap_days(d["start_datum"], d["slut_datum"], first, last)
        total = float((last - first).days + 1)
        return pd.Series(days, index=d.index).groupby(keys.to_numpy()).sum() / total
    if freq != "M":
        raise UsageError("Beläggning per period finns bara per månad (freq='M').")
    rows = []
    for m in pd.period_range(first, last, freq="M"):
        m_first = max(m.to_timestamp(), first)
        m_last = min(m.to_timestamp() + pd.offsets.MonthEnd(0), last)
        days = _overlap_days(d["start_datum"], d["slut_datum"], m_first, m_last)
        per = pd.Series(days, index=d.index).groupby(keys.to_numpy()).sum() / ((m_last - m_first).days + 1)
        rows.append(per.rename(m.to_timestamp()))
    out = pd.DataFrame(rows).fillna(0.0)
    out.index.name = "manad"
    return out.reset_index()


def kaplan_meier(durations, observed) -> pd.DataFrame:
    """Kaplan–Meier survival curve: ``S(t) = Π_{t_j ≤ t} (1 − d_j / n_j)`` over the distinct event times
    ``t_j`` (``d_j`` events at ``t_j``, ``n_j`` durations ≥ ``t_j``; a duration censored at ``t_j`` is
    still at risk at ``t_j``). Returns columns ``tid``, ``i_risk``, ``handelser``, ``overlevnad``."""
    t = np.asarray(durations, dtype=float)
    e = np.asarray(observed, dtype=bool)
    if t.shape != e.shape:
        raise UsageError("Tider och händelser måste ha lika många värden.")
    ok = np.isfinite(t)
    t, e = t[ok], e[ok]
    times = np.unique(t[e])
    at_risk = np.array([(t >= u).sum() for u in times], dtype=float)
    events = np.array([(e & (t == u)).sum() for u in times], dtype=float)
    surv = np.cumprod(1.0 - events / at_risk) if len(times) else np.array([])
    return pd.DataFrame({"tid": times, "i_risk": at_risk, "handelser": events, "overlevnad": surv})


def restricted_mean(curve: pd.DataFrame, horizon: float) -> float:
    """``∫_0^horizon S(t) dt`` for a ``kaplan_meier`` curve (S = 1 before the first event time)."""
    if horizon <= 0:
        return 0.0
    times = curve["tid"].to_numpy(float)
    surv = curve["overlevnad"].to_numpy(float)
    keep = times < horizon
    edges = np.concatenate([[0.0], times[keep], [horizon]])
    levels = np.concatenate([[1.0], surv[keep]])
    return float(np.sum(np.diff(edges) * levels))


@dataclass
class CapacityResult:
    """Result of ``capacity_from_occupancy``."""

    table: pd.DataFrame
    """One row per category and a last row ``ALLA`` (columns in ``capacity_from_occupancy``)."""
    monthly: pd.DataFrame
    """Occupancy per month: ``manad``, ``i_omfattning``, ``utanfor``, ``totalt``."""
    km: dict[str, pd.DataFrame]
    """Kaplan–Meier curve per category (and ``ALLA``)."""
    first: pd.Timestamp
    last: pd.Timestamp
    data_end: pd.Timestamp
    n_scope: int
    reached: int


def capacity_from_occupancy(
    deltaganden: pd.DataFrame,
    fran,
    till,
    *,
    in_scope: Iterable,
    category: str | None = "kategori",
    data_end=None,
    platser: pd.Series | dict | None = None,
) -> CapacityResult:
    """Occupancy today and places needed if every person in scope were reached (module docstring).

    ``deltaganden``: one row per participation with ``person_id``, ``start_datum``, ``slut_datum``
    (empty = ongoing) and ``category`` (``None``: one category ``ALLA`` only). ``fran``/``till``: the
    period ("YYYY-MM" for whole months, or dates). ``in_scope``: the person ids of the target group
    (``N`` = their number). ``data_end``: the last day the data describe (default: the period's last
    day); a participation that has not ended by then is censored in the durations. ``platser``: places
    per category (average over the period) for the gap.

    ``table`` columns: ``kategori``, ``belaggning`` (= ``belaggning_i_omfattning`` +
    ``belaggning_utanfor``), ``deltaganden`` (overlapping the period), ``deltaganden_startade``
    (started in the period: the Kaplan–Meier sample), ``pagaende`` (of those, censored), ``dagar_km`` and
    ``manader_km`` (restricted mean D), ``deltaganden_per_person`` (pp_c), ``personer_i_omfattning`` (N),
    ``nadda`` (R), ``ej_nadda`` (N − R), ``tillkommande``, ``behov``, ``platser``, ``gap``.
    """
    category = category or None
    _check(deltaganden, category)
    first, last = _period(fran, till)
    end = _day(data_end) if data_end is not None else last
    if end < first:
        raise UsageError(f"Uppgifternas slut ({end.date()}) ligger före periodens början ({first.date()}).")
    P = float((last - first).days + 1)
    scope = pd.Index(pd.unique(pd.Series(list(in_scope), dtype=object)))
    d = deltaganden[deltaganden["start_datum"].notna()].copy()
    d["_kat"] = d[category].astype(object).fillna("(okänd)") if category else ALLA
    d["_in"] = d["person_id"].astype(object).isin(scope)
    d["_days"] = _overlap_days(d["start_datum"], d["slut_datum"], first, last)
    overlaps = d["_days"] > 0
    ended = d["slut_datum"].notna() & (d["slut_datum"] <= end)
    t_obs = np.where(ended, (d["slut_datum"] - d["start_datum"]).dt.days + 1, (end - d["start_datum"]).dt.days + 1)
    d["_t"] = np.asarray(t_obs, dtype=float)
    d["_event"] = ended.to_numpy()

    n_scope = len(scope)
    reached = int(d.loc[overlaps & d["_in"], "person_id"].nunique())
    unreached = max(n_scope - reached, 0)

    cats = list(dict.fromkeys(sorted(d["_kat"].unique(), key=str)))
    places = pd.Series(platser, dtype=float) if platser is not None else None
    if places is not None:
        cats += [c for c in places.index if c not in cats and c != ALLA]
    rows = []
    curves: dict[str, pd.DataFrame] = {}
    for c in cats + [ALLA]:
        sel = d if c == ALLA else d[d["_kat"] == c]
        ov = sel["_days"] > 0
        sample = sel[(sel["start_datum"] >= first) & (sel["start_datum"] <= last) & (sel["_t"] > 0)]
        curve = kaplan_meier(sample["_t"], sample["_event"])
        curves[c] = curve
        dagar = restricted_mean(curve, P) if len(sample) else np.nan
        occ_in = float(sel.loc[sel["_in"], "_days"].sum() / P)
        occ_out = float(sel.loc[~sel["_in"], "_days"].sum() / P)
        n_in = float(sample["_in"].sum())
        pp = n_in / reached if reached else np.nan
        rows.append(
            {
                "kategori": c,
                "belaggning": occ_in + occ_out,
                "belaggning_i_omfattning": occ_in,
                "belaggning_utanfor": occ_out,
                "deltaganden": float(ov.sum()),
                "deltaganden_startade": float(len(sample)),
                "pagaende": float((~sample["_event"]).sum()),
                "dagar_km": dagar,
                "manader_km": dagar / DAYS_PER_MONTH,
                "deltaganden_per_person": pp,
                "personer_i_omfattning": float(n_scope),
                "nadda": float(reached),
                "ej_nadda": float(unreached),
            }
        )
    out = pd.DataFrame(rows)
    per_cat = out["kategori"] != ALLA
    extra = unreached * out["deltaganden_per_person"] * out["dagar_km"] / P
    out["tillkommande"] = np.where(out["deltaganden_per_person"].fillna(0) > 0, extra, 0.0)
    # ALLA: the sum over categories (each with its own duration), not the overall KM mean
    out.loc[~per_cat, "tillkommande"] = out.loc[per_cat, "tillkommande"].sum()
    out["behov"] = out["belaggning"] + out["tillkommande"]
    if places is not None:
        out["platser"] = out["kategori"].map(places).astype(float).fillna(0.0)
        out.loc[~per_cat, "platser"] = out.loc[per_cat, "platser"].sum()
    else:
        out["platser"] = np.nan
    out["gap"] = out["behov"] - out["platser"]

    monthly = occupancy(d.assign(_grp=np.where(d["_in"], "i_omfattning", "utanfor")), first, last, by="_grp", freq="M")
    for col in ("i_omfattning", "utanfor"):
        if col not in monthly:
            monthly[col] = 0.0
    monthly["totalt"] = monthly["i_omfattning"] + monthly["utanfor"]
    monthly = monthly[["manad", "i_omfattning", "utanfor", "totalt"]]
    return CapacityResult(out, monthly, curves, first, last, end, n_scope, reached)
