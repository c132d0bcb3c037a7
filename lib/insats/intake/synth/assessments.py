"""En väg in in a generated study: the assessments of arbetsförmåga (``bedomningar``) with their
assessing unit (``enhet``), hand-overs (``overlamnad_till``) and second assessments.

Everything here is drawn from a random stream of its own (``numpy.random.default_rng([seed,
ASSESSMENT_STREAM])``) *after* the other tables are drawn, so adding it left every other table of a
seed as it was. Sundbyberg's first assessments (dates, method, result) come from the main stream
(they steer who starts an insats within 90 days, ``insats.intake.synth.tables``) and are kept; this
module adds their units, hand-overs and second assessments. Stockholm's assessments are all made
here, from the persons and participations already drawn. The planted effects are in
``insats.intake.synth.model`` (``HANDOVER``, ``REASSESSED``, ``STHLM_CAPABLE_WEIGHT``) and in
``planted_effects(kind)["vagin_organisation"]``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from insats.intake.synth.draws import choose, choose_rows
from insats.intake.synth.model import (
    ASSESSMENT_RESULT_P,
    ASSESSMENT_STREAM,
    ASSESSMENT_UNITS,
    HANDOVER,
    REASSESSED,
    STHLM_ASSESSMENT_DAYS,
    STHLM_CAPABLE_WEIGHT,
    STHLM_NEVER_ASSESSED,
)

RESULTS = np.array(["hel", "delvis", "ingen", "oklar"], dtype=object)
METHODS = (
    ["Kartläggningssamtal", "Arbetsförmågebedömning", "Läkarintyg", "Praktisk arbetsprövning"],
    [0.45, 0.30, 0.15, 0.10],
)
WINDOW_DAYS = 90
"""Days after the assessment within which a start counts as "an insats within 90 days" (as the measure)."""


def _result_p(grp: np.ndarray) -> np.ndarray:
    key = np.where(np.isin(grp, ["arbetsloshet", "ohalsa"]), grp, "ovriga")
    return np.array([ASSESSMENT_RESULT_P[k] for k in key], float).reshape(len(grp), 4)


def _starts_within(pos: np.ndarray, day: np.ndarray, part_pos: np.ndarray, part_start: np.ndarray) -> np.ndarray:
    """Whether person ``pos[i]`` starts a participation 0–90 days after ``day[i]`` (NaT: False)."""
    out = np.zeros(len(pos), bool)
    if not len(pos) or not len(part_pos):
        return out
    order = np.lexsort((part_start, part_pos))
    pp, ps = part_pos[order], part_start[order]
    # first start on or after the day, per row: search within the person's block
    lo = np.searchsorted(pp, pos, side="left")
    hi = np.searchsorted(pp, pos, side="right")
    key = pp.astype(np.int64) * 10**6 + (ps - np.datetime64("1900-01-01", "D")).astype(np.int64)
    ok = ~np.isnat(day)
    qkey = pos.astype(np.int64) * 10**6 + np.where(ok, (day - np.datetime64("1900-01-01", "D")).astype(np.int64), 0)
    first = np.searchsorted(key, qkey, side="left")
    has = ok & (first < hi) & (first >= lo)
    idx = np.minimum(first, len(ps) - 1)
    out[has] = (ps[idx[has]] - day[has]).astype(np.int64) <= WINDOW_DAYS
    return out


def _stockholm_first(rng, grp, entry, day0, data_end, part_pos, part_start) -> pd.DataFrame:
    """Stockholm's first assessments: one per person entering assistance in the data (as Sundbyberg's)."""
    newp = np.flatnonzero(entry > 0)
    m = len(newp)
    ans = day0[newp] - rng.integers(0, 21, m).astype("timedelta64[D]")
    shape, scale = STHLM_ASSESSMENT_DAYS
    bed = ans + np.ceil(rng.gamma(shape, scale, m)).astype(np.int64).astype("timedelta64[D]")
    never = (rng.random(m) < STHLM_NEVER_ASSESSED) | (bed > data_end)
    go = _starts_within(newp, np.where(never, np.datetime64("NaT"), bed), part_pos, part_start)
    p = _result_p(grp[newp])
    p[go, :2] *= STHLM_CAPABLE_WEIGHT
    res = RESULTS[choose_rows(rng, p)]
    metod = choose(rng, *METHODS, m)
    res[never] = None
    metod[never] = None
    bed_out = bed.astype("datetime64[ns]")
    bed_out[never] = np.datetime64("NaT")
    return pd.DataFrame(
        {
            "ansokan_datum": ans.astype("datetime64[ns]"),
            "bedomning_datum": bed_out,
            "metod": metod,
            "resultat": res,
            "_pos": newp,
        }
    )


def _unit_names(template: str, area_name: np.ndarray) -> np.ndarray:
    if "{omrade}" not in template:
        return np.full(len(area_name), template, dtype=object)
    return np.array([template.replace("{omrade}", str(a)) for a in area_name], dtype=object)


def assessment_table(
    kind: str,
    first: pd.DataFrame | None,
    *,
    seed: int,
    areas: pd.DataFrame,
    person_area: np.ndarray,
    grp: np.ndarray,
    entry: np.ndarray,
    day0: np.ndarray,
    spell_end: np.ndarray,
    mstart: np.ndarray,
    data_end: np.datetime64,
    part_pos: np.ndarray,
    part_start: np.ndarray,
) -> pd.DataFrame:
    """``bedomningar`` with ``enhet`` and ``overlamnad_till`` and the second assessments, rows by
    person (``_pos``) and application date. ``first``: the kind's first assessments when drawn
    elsewhere (Sundbyberg), else None (they are drawn here). ``part_pos``/``part_start``: every
    participation's person and start day (the finished ``deltaganden``)."""
    rng = np.random.default_rng([int(seed), ASSESSMENT_STREAM])
    part_start = np.asarray(part_start).astype("datetime64[D]")
    part_pos = np.asarray(part_pos, dtype=np.int64)
    if first is None:
        first = _stockholm_first(rng, grp, entry, day0, data_end, part_pos, part_start)
    b = first.reset_index(drop=True).copy()
    pos = b["_pos"].to_numpy(dtype=np.int64)
    m = len(b)
    bed = b["bedomning_datum"].to_numpy().astype("datetime64[D]")
    assessed = ~np.isnat(bed)
    area_name = areas["omrade"].to_numpy(dtype=object)[person_area[pos]]
    spec = ASSESSMENT_UNITS[kind]
    templates = list(spec["enheter"])
    which = rng.choice(len(templates), size=m, p=np.array(list(spec["enheter"].values())))
    enhet = np.empty(m, dtype=object)
    target = np.empty(m, dtype=object)
    capable = np.isin(b["resultat"].astype(object).to_numpy(), ["hel", "delvis"])
    for i, t in enumerate(templates):
        sel = which == i
        enhet[sel] = _unit_names(t, area_name[sel])
        to_capable, to_other = spec["overlamning"][t]
        target[sel] = np.where(
            capable[sel], _unit_names(to_capable, area_name[sel]), _unit_names(to_other, area_name[sel])
        )
    go = _starts_within(pos, bed, part_pos, part_start)
    p_hand = np.where(go, HANDOVER["insats_inom_90_dagar"], HANDOVER["ingen_insats_inom_90_dagar"])
    handed = assessed & (rng.random(m) < p_hand)
    b["enhet"] = enhet
    b["overlamnad_till"] = np.where(handed, target, np.array(None, dtype=object))

    # second assessments: a new application 30–150 days after the first assessment, while on assistance
    res = b["resultat"].astype(object).to_numpy()
    p_again = np.where(res == "oklar", REASSESSED["oklar"], REASSESSED["ovriga"])
    again = assessed & (rng.random(m) < p_again)
    ans2 = bed + rng.integers(30, 151, m).astype("timedelta64[D]")
    month2 = np.searchsorted(mstart, ans2, side="right") - 1
    again &= (ans2 <= data_end) & (month2 <= spell_end[pos])
    idx = np.flatnonzero(again)
    k = len(idx)
    bed2 = ans2[idx] + np.ceil(rng.gamma(2.0, 8.0, k)).astype(np.int64).astype("timedelta64[D]")
    late = bed2 > data_end
    p2 = _result_p(grp[pos[idx]])
    p2[res[idx] == "oklar"] = (0.35, 0.35, 0.20, 0.10)
    res2 = RESULTS[choose_rows(rng, p2)]
    metod2 = choose(rng, *METHODS, k)
    res2[late] = None
    metod2[late] = None
    bed2_out = bed2.astype("datetime64[ns]")
    bed2_out[late] = np.datetime64("NaT")
    second = pd.DataFrame(
        {
            "ansokan_datum": ans2[idx].astype("datetime64[ns]"),
            "bedomning_datum": bed2_out,
            "metod": metod2,
            "resultat": res2,
            "_pos": pos[idx],
            # the second assessment is made where the first one handed the person over
            "enhet": np.where(handed[idx], target[idx], enhet[idx]),
            "overlamnad_till": None,
        }
    )
    out = pd.concat([b, second], ignore_index=True)
    out = out.sort_values(["_pos", "ansokan_datum"], kind="stable", ignore_index=True)
    out["person_id"] = None
    cols = ["person_id", "ansokan_datum", "bedomning_datum", "metod", "resultat", "enhet", "overlamnad_till", "_pos"]
    return out[cols]
