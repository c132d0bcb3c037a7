"""What the five areas share: the context, disclosure control of share tables, formatting."""

from __future__ import annotations

import numpy as np
import pandas as pd

from insats.analysis.measures import (
    Context,
    Params,
)
from insats.analysis.privacy import SUPPRESSED, protect_measures
from insats.analysis.stats import wilson_interval
from insats.contract import ALLA
from insats.data.study import Study
from insats.errors import UsageError
from insats.reports.common import area_names, missing_note
from insats.text import format_number

DAYS_PER_MONTH = 365.25 / 12
"""Days in an average month: durations in days are turned into months by dividing by this."""

OMFATTNING = ("arbetsloshet", "alla")

AGE_GROUPS = {"18_24": "18–24 år", "25_plus": "25 år och äldre"}


# --------------------------------------------------------------------------- setup


def make_context(
    study: Study, start: str, end: str, *, min_cell: int = 5, omfattning: str = "arbetsloshet", **options
) -> Context:
    """A measures ``Context`` for the evaluation period ``fran``–``till`` (``"YYYY-MM"``).

    ``omfattning`` is the scope of "every recipient": ``"arbetsloshet"`` (adult recipients in
    hinder group arbetslöshet, the measure erbjudande_andel's default) or ``"alla"`` (every adult
    recipient). ``options`` set further ``Params`` fields.
    """
    if omfattning not in OMFATTNING:
        raise UsageError(f"Okänd omfattning {omfattning!r}: välj 'arbetsloshet' eller 'alla'.")
    start = pd.Timestamp(start).to_period("M").to_timestamp()
    end = pd.Timestamp(end).to_period("M").to_timestamp()
    if end < start:
        raise UsageError(f"Perioden slutar ({end}) före sin början ({start}).")
    params = Params(start=start, end=end, min_cell=min_cell, erbjudande_alla_grupper=omfattning == "alla", **options)
    return Context(study, params)


def _n_months(ctx: Context) -> int:
    p = ctx.params
    return (p.end.year - p.start.year) * 12 + p.end.month - p.start.month + 1


def _participations(ctx: Context) -> pd.DataFrame:
    """``ctx.participations`` with ``insats_id`` and the intervention's ``namn`` and cost."""
    p = ctx.participations.copy()
    d = ctx.study["deltaganden"]
    p["insats_id"] = d["insats_id"].astype(object).to_numpy()
    if "insatser" in ctx.study:
        ins = ctx.study["insatser"].set_index(ctx.study["insatser"]["insats_id"].astype(object))
        p["namn"] = p["insats_id"].map(ins["namn"].astype(object))
        p["kostnad"] = p["insats_id"].map(ins["kostnad_per_plats_manad"].astype("float64"))
    return p


def intervention_labels(insatser: pd.DataFrame) -> dict[str, str]:
    """insats_id -> a unique Swedish display name: ``namn``, with ``– utförare`` when several
    interventions share a name, and the id when that is still not unique."""
    ins = insatser.copy()
    names = ins["namn"].astype(object).fillna(ins["insats_id"].astype(object)).astype(str)
    dup = names.duplicated(keep=False)
    utf = ins["utforare"].astype(object).fillna("").astype(str)
    names = np.where(dup & (utf != ""), names + " – " + utf, names)
    names = pd.Series(names, index=ins.index)
    dup = names.duplicated(keep=False)
    names = np.where(dup, names + " (" + ins["insats_id"].astype(str) + ")", names)
    return dict(zip(ins["insats_id"].astype(str), names))


# --------------------------------------------------------------------------- privacy helpers


def protect_shares(
    table: pd.DataFrame,
    min_cell: int = 5,
    *,
    key: str,
    num: str = "taljare",
    den: str | None = "namnare",
    values: tuple[str, ...] = (),
    total: str | None = ALLA,
) -> pd.DataFrame:
    """Disclosure control of a table of shares (one row per group, optionally a total row).

    ``num``/``den`` are counts of persons or participations; a row is suppressed when either is
    1 … ``min_cell − 1`` (``insats.analysis.privacy.protect_measures``), and, when the groups add up to the
    ``total`` row (the row whose ``key`` equals ``total``), a second row so that the first cannot
    be recomputed. Suppressed rows get NaN in ``num``, ``den`` and every column of ``values``, and
    ``undertryckt`` True.
    """
    out = table.copy().reset_index(drop=True)
    is_total = out[key].astype(str) == str(total) if total is not None else pd.Series(False, index=out.index)
    long = pd.DataFrame(
        {
            "matt": "x",
            "omrade_kod": np.where(is_total, ALLA, "g" + out.index.astype(str)),
            "varde": 0.0,
            "taljare": pd.to_numeric(out[num], errors="coerce").astype(float),
            "namnare": pd.to_numeric(out[den], errors="coerce").astype(float) if den else np.nan,
        }
    )
    if "undertryckt" in out:
        # rows already suppressed (e.g. by another table) take part in the secondary suppression
        long["undertryckt"] = out["undertryckt"].fillna(False).astype(bool).to_numpy()
    prot = protect_measures(long, min_cell=min_cell)
    sup = prot["undertryckt"].to_numpy(dtype=bool)
    cols = [c for c in (num, den, *values) if c and c in out]
    for c in cols:
        out[c] = pd.to_numeric(out[c], errors="coerce").astype(float).mask(sup)
    out["undertryckt"] = sup
    return out


_KIND_FORMAT = {
    "andel": lambda v: format_number(v, 1, percent=True),
    "andel0": lambda v: format_number(v, 0, percent=True),
    "antal": lambda v: format_number(v, 0),
    "tal1": lambda v: format_number(v, 1),
    "kvot": lambda v: format_number(v, 2),
    "kr": lambda v: (format_number(v, 0) + "\u00a0kr") if pd.notna(v) else "",
    "dagar": lambda v: format_number(v, 0),
}


def format_shown(table: pd.DataFrame, columns: dict[str, tuple[str, str]]) -> pd.DataFrame:
    """A display table: ``columns`` maps a column to (Swedish header, kind). Kinds: ``text``,
    ``andel`` (per cent, 1 decimal), ``andel0``, ``antal``, ``tal1``, ``kvot``, ``kr``, ``dagar``,
    and ``intervall`` (the column holds a pair of columns ``lo``/``hi`` written ``a–b %``; give
    the column name as ``"lo:hi"``). Numbers in suppressed rows (``undertryckt``) become ``..``;
    other missing numbers are empty."""
    sup = (
        table["undertryckt"].fillna(False).astype(bool).to_numpy()
        if "undertryckt" in table
        else np.zeros(len(table), bool)
    )
    out = {}
    for col, (header, kind) in columns.items():
        if kind == "text":
            out[header] = table[col].astype(object).fillna("").astype(str).to_numpy()
            continue
        if kind == "intervall":
            lo_c, hi_c = col.split(":")
            texts = [
                f"{format_number(a, 1, percent=True)} – {format_number(b, 1, percent=True)}"
                if pd.notna(a) and pd.notna(b)
                else ""
                for a, b in zip(table[lo_c], table[hi_c])
            ]
        elif kind == "intervall_kvot":
            lo_c, hi_c = col.split(":")
            texts = [
                f"{format_number(a, 2)} – {format_number(b, 2)}" if pd.notna(a) and pd.notna(b) else ""
                for a, b in zip(table[lo_c], table[hi_c])
            ]
        else:
            fmt = _KIND_FORMAT[kind]
            texts = [fmt(v) if pd.notna(v) else "" for v in table[col]]
        out[header] = np.where(sup, SUPPRESSED, np.array(texts, dtype=object))
    return pd.DataFrame(out)


def _pct(x: float | None, decimals: int = 0) -> str:
    return format_number(x, decimals, percent=True) if x is not None and pd.notna(x) else SUPPRESSED


def _num(x: float | None, decimals: int = 0) -> str:
    return format_number(x, decimals) if x is not None and pd.notna(x) else SUPPRESSED


def _with_wilson(table: pd.DataFrame, k: str = "taljare", n: str = "namnare") -> pd.DataFrame:
    out = table.copy()
    with np.errstate(invalid="ignore", divide="ignore"):
        out["andel"] = np.where(out[n] > 0, out[k] / out[n].where(out[n] > 0), np.nan)
    out["lo"], out["hi"] = wilson_interval(out[k].to_numpy(float), out[n].to_numpy(float))
    return out


def _pp(x: float) -> str:
    """A difference of shares in percentage points, one decimal (0.123 -> "12,3")."""
    return format_number(100 * x, 1)


def _names(ctx: Context) -> dict[str, str]:

    return area_names(ctx.study.get("omraden"))


def _missing(study: Study, needs, what: str) -> str | None:

    return missing_note(study, list(needs), what)
