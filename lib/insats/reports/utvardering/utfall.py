"""Outcomes per group of participations (intervention, provider, regi): raw shares with Wilson intervals,
case-mix adjusted observed/expected with score intervals, and which groups differ on the adjusted,
calibrated test.

A group is flagged only on the adjusted comparison (``docs/antaganden.md``, U8): the score test of its
observed/expected ratio from the case-mix model (``stats.observed_expected``, the covariates of
``justerat_utfall_oe``; under no group effect its 95 % interval covers 1 in 95 % of groups), with the
p-values of all groups compared adjusted for their number by Benjamini–Hochberg
(``overdispersion.benjamini_hochberg``): a group differs when its q-value is at most 0.05. With many
interventions a few would otherwise be flagged by chance alone. The raw share's test (the plain z of
``overdispersion.funnel_table`` against the compared groups' overall share, with the same correction) is
kept beside it so that the text can say where the raw and the adjusted pictures point different ways.

Overdispersion-adjusted limits (as for areas, ``overdispersion.oe_funnel_table``) are not used here: they
ask whether a group differs more than groups usually differ from each other, and interventions do differ
in what they achieve — that difference is what the nämnd wants to see, not noise to be discounted.
Flags are computed over the published (not suppressed) groups only, so a suppressed group takes no
part in them.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from insats.analysis.disclosure import Disclosure
from insats.analysis.measures import (
    OE_CATEGORICAL,
    OE_NUMERIC,
    Context,
    ended_participations,
    outcome_frame,
)
from insats.analysis.overdispersion import benjamini_hochberg, expected_false_flags, funnel_table
from insats.analysis.publication import Publication, active_publication
from insats.analysis.stats import observed_expected, wilson_interval
from insats.contract import ALLA
from insats.reports.utvardering.common import _participations, _with_wilson, register_hierarchy
from insats.text import format_number

__all__ = [
    "FDR",
    "FLAG_WORDS",
    "OUTCOME_COUNTS",
    "OUTCOME_LEVELS",
    "adjusted_flags",
    "false_flags_sentence",
    "flag_text",
    "outcome_frame_ext",
    "outcome_hierarchy",
    "outcomes_by_group",
]

FDR = 0.05
"""A group differs when its Benjamini–Hochberg q-value is at most this (the expected share of false flags
among the flagged)."""

FLAG_WORDS = {1: "Högre än förväntat", -1: "Lägre än förväntat", 0: "Som förväntat"}
"""Swedish table text of a flag (+1 / −1 / 0)."""


def flag_text(flag, suppressed: bool = False) -> str:
    """The table text of a flag: empty for a suppressed row or a group that was not compared."""
    if suppressed or flag is None or (isinstance(flag, float) and np.isnan(flag)):
        return ""
    return FLAG_WORDS.get(int(flag), "")


def false_flags_sentence(tested: int, flagged: int, what: str) -> str:
    """Swedish sentence on how the flags were protected against chance when ``tested`` groups are compared."""
    expected = expected_false_flags(tested)
    return (
        f"{flagged} av {tested} {what} avviker. Med {tested} {what} skulle ungefär {format_number(expected, 1)} "
        "avvika på 5 %-nivån av en slump även om ingen verkligen skilde sig; därför räknas en avvikelse bara när den "
        "håller även med hänsyn till hur många som jämförs (Benjamini–Hochberg: högst 5 % av de utpekade väntas "
        "vara falska)."
    )


def outcome_frame_ext(ctx: Context) -> pd.DataFrame:
    """``measures.outcome_frame`` plus the intervention's id, provider, regi, name and LOV flag."""
    frame = outcome_frame(ctx)
    q = ended_participations(ctx)
    p = _participations(ctx)
    for col in ("insats_id", "utforare", "regi", "namn"):
        frame[col] = p.loc[q.index, col].astype(object).to_numpy() if col in p else None
    frame["lov"] = p.loc[q.index, "lov"].to_numpy(dtype=bool) if "lov" in p else False
    return frame


def outcomes_by_group(
    ctx: Context | None, group: str, *, frame: pd.DataFrame | None = None, level: float = 0.95, folds: int = 0
) -> pd.DataFrame:
    """Exits to work or studies per ``group`` (``utforare``, ``regi``, ``insats_id``, ``kategori`` or
    ``area``) among participations ended in the period (the measure utfall_arbete_studier_andel), with a
    Wilson interval, and case-mix adjusted observed/expected (``stats.observed_expected`` with the
    covariates of ``justerat_utfall_oe``, ``group`` as the group).

    Columns: ``group``, ``taljare`` (O), ``namnare`` (n), ``andel``, ``lo``, ``hi``, ``forvantat`` (E),
    ``oe``, ``oe_lo``, ``oe_hi`` (the score interval), ``varians`` (of O − E under no group effect) and
    ``p`` (the score test); a last row ``ALLA``. ``level`` is the O/E interval's (the raw share's Wilson
    interval stays at 95 %; ``insatser.cost_comparison`` asks for a Bonferroni level); ``folds`` ≥ 2 adds the
    model's cross-validated checks to ``attrs["model"]`` (the O/E do not depend on it). ``attrs["model"]``: the ``observed_expected`` result's
    attributes (model checks). Unprotected."""
    if frame is None:
        if ctx is None:
            raise ValueError("outcomes_by_group needs a context or a frame")
        frame = outcome_frame_ext(ctx)
    f = frame.assign(**{group: frame[group].astype(object).fillna("(okänd)")})
    g = f.groupby(group, sort=True)["arbete_studier"].agg(["sum", "size"])
    out = pd.DataFrame(
        {
            group: list(g.index),
            "taljare": g["sum"].astype(float).to_numpy(),
            "namnare": g["size"].astype(float).to_numpy(),
        }
    )
    out = _with_wilson(out)
    for col in ("forvantat", "oe", "oe_lo", "oe_hi", "varians", "p"):
        out[col] = np.nan
    attrs: dict = {}
    if len(f) and f["arbete_studier"].nunique() == 2:
        oe = observed_expected(
            f,
            outcome="arbete_studier",
            group=group,
            categorical=OE_CATEGORICAL,
            numeric=OE_NUMERIC,
            folds=folds,
            level=level,
        )
        attrs = dict(oe.attrs)
        for src, dst in (
            ("expected", "forvantat"),
            ("oe", "oe"),
            ("lo", "oe_lo"),
            ("hi", "oe_hi"),
            ("varians", "varians"),
            ("p", "p"),
        ):
            out[dst] = out[group].map(oe[src]).astype(float)
    k, n = float(f["arbete_studier"].sum()), float(len(f))
    lo, hi = wilson_interval(k, n)
    total = pd.DataFrame(
        [
            {
                group: ALLA,
                "taljare": k,
                "namnare": n,
                "andel": k / n if n else np.nan,
                "lo": float(lo),
                "hi": float(hi),
                "forvantat": k,
                "oe": 1.0 if n else np.nan,
                "oe_lo": np.nan,
                "oe_hi": np.nan,
                "varians": np.nan,
                "p": np.nan,
            }
        ]
    )
    result = pd.concat([out, total], ignore_index=True)
    result.attrs["model"] = attrs
    return result


OUTCOME_COUNTS = {"taljare": "utfall_arbete_studier", "namnare": "utfall_avslutade"}
"""The counts of the outcome tables per intervention, provider and regi in the disclosure model (column of
``outcomes_by_group`` -> count name): one cell per intervention, provider, regi and for all, wherever shown."""

OUTCOME_LEVELS = ("utforare", "regi")
"""The groups interventions add up to in the outcome tables (each intervention has one provider and one regi)."""


def _outcome_cells(d: Disclosure, atoms: pd.DataFrame, **where: Any) -> None:
    """Register the outcome hierarchy of ``atoms`` (``outcome_hierarchy``) in ``d``; ``where``: the
    period, origin or ``published`` of ``register_hierarchy``."""
    register_hierarchy(
        d,
        atoms,
        atom="insats_id",
        levels=OUTCOME_LEVELS,
        counts=OUTCOME_COUNTS,
        shares=(("taljare", "namnare"),),
        **where,
    )


def _register_outcomes(pub: Publication, atoms: pd.DataFrame) -> None:
    """``outcome_hierarchy``'s registration in a collecting publication (``Publication.register``)."""
    _outcome_cells(
        pub.disclosure, atoms, period=pub.table_period, origin="utvärdering: utfall per insats, utförare och regi"
    )


def outcome_hierarchy(frame: pd.DataFrame, min_cell: int) -> Disclosure | None:
    """Put the outcome counts of ``frame`` (``outcome_frame_ext``) in one disclosure model, as a hierarchy:
    ended participations and exits to work or studies per intervention (``insats_id``), per provider and per
    regi as the sum of their interventions, and all as the sum of every intervention (``register_hierarchy``,
    ``docs/antaganden.md`` R9). The tables of ``section_interventions`` and ``section_lov`` then name their
    counts ``OUTCOME_COUNTS`` and are the same cells.

    With a publication collecting, the hierarchy is registered in it (None is returned: the tables register
    and get the publication's decisions). With a decided publication, None. With none (a section run on its
    own), a model of the whole hierarchy, every level shown, decided here: both sections, run on their own,
    build the same model and hide the same rows."""
    f = frame.assign(
        **{c: frame[c].astype(object).fillna("(okänd)").astype(str) for c in ("insats_id", *OUTCOME_LEVELS)}
    )
    g = f.groupby("insats_id", sort=True)
    atoms = g[list(OUTCOME_LEVELS)].first()
    atoms["taljare"] = g["arbete_studier"].sum().astype(float)
    atoms["namnare"] = g.size().astype(float)
    atoms = atoms.reset_index()
    pub = active_publication()
    if pub is not None:
        if not pub.decided and len(atoms):
            pub.register(_register_outcomes, atoms)
        return None
    d = Disclosure(min_cell=min_cell)
    _outcome_cells(d, atoms, published=True)
    d.protect()
    return d


def _flag(p: np.ndarray, direction: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(flag +1 / −1 / 0, q-value) from two-sided p-values and the direction of each difference."""
    q = benjamini_hochberg(p)
    flag = np.where(np.isfinite(q), np.where(q <= FDR, np.sign(direction), 0.0), np.nan)
    return flag, q


def adjusted_flags(pub: pd.DataFrame, key: str) -> pd.DataFrame:
    """Which published groups of an ``outcomes_by_group`` table (after ``protect_shares``) differ.

    Over the rows that are not suppressed and not ``ALLA``: ``avviker_justerat`` (+1 higher than expected,
    −1 lower, 0 not shown to differ) from the O/E score test's p-value (``p``) with Benjamini–Hochberg
    q-values ``q_justerad`` (differs when q ≤ ``FDR``), and ``avviker_ratt`` / ``q_ratt`` likewise from the
    raw share's z-test against the compared groups' overall share (``overdispersion.funnel_table``, plain
    z). Other rows, and every row when fewer than three groups can be compared, get NaN. Returns a frame
    aligned with ``pub`` (same index); ``attrs``: ``"tested"`` (groups compared), ``"expected_false_flags"``
    (at 95 % without the correction, when no group really differs) and ``"note"`` (Swedish, when the
    groups cannot be compared)."""
    out = pd.DataFrame(
        {"avviker_justerat": np.nan, "q_justerad": np.nan, "avviker_ratt": np.nan, "q_ratt": np.nan}, index=pub.index
    )
    sup = pub["undertryckt"].fillna(False).astype(bool) if "undertryckt" in pub else pd.Series(False, index=pub.index)
    vis = pub[~sup & (pub[key].astype(str) != ALLA)]
    vis = vis[(vis["forvantat"] > 0) & vis["p"].notna() & (vis["namnare"] > 0)]
    out.attrs.update({"tested": 0, "expected_false_flags": 0.0, "note": ""})
    if len(vis) < 3:
        out.attrs["note"] = "För få grupper visas för att pröva om någon avviker (det behövs minst tre)."
        return out
    adj, q_adj = _flag(vis["p"].to_numpy(float), (vis["taljare"] - vis["forvantat"]).to_numpy(float))
    p0 = float(vis["taljare"].sum() / vis["namnare"].sum())
    raw = funnel_table(vis["taljare"].to_numpy(float), vis["namnare"].to_numpy(float), p0, index=vis.index)
    rflag, q_raw = _flag(raw["p"].to_numpy(float), (raw["andel"] - p0).to_numpy(float))
    out.loc[vis.index, "avviker_justerat"] = adj
    out.loc[vis.index, "q_justerad"] = q_adj
    out.loc[vis.index, "avviker_ratt"] = rflag
    out.loc[vis.index, "q_ratt"] = q_raw
    out.attrs.update({"tested": len(vis), "expected_false_flags": expected_false_flags(len(vis))})
    return out
