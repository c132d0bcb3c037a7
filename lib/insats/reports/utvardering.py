"""Sundbyberg's evaluation (2016) in five areas, as pure functions over a loaded study.

The notebook ``notebooks/utvardering.ipynb`` is a thin report over this module. Each area has
analysis functions (tables with counts, shares and intervals, unprotected), and a ``section_*``
function that runs them, sends every published table through disclosure control
(``insats.analysis.privacy``), builds the charts and writes a short Swedish conclusion. ``recommendations``
turns the sections' key numbers (``Section.fynd``) into a list of recommendations, each naming the
number and the threshold that triggered it.

Areas (DESIGN.md, "Sundbyberg's utvärdering"):

1. *Alla erbjuds en insats* — ``offer_frame``, ``offer_rates``, ``capacity_gap``.
2. *Närvarokrav* — ``attendance_frame``, ``attendance_by``, ``monthly_attendance``,
   ``interrupted_time_series``.
3. *Valfrihet och LOV* — ``has_lov``, ``providers_per_category``, ``lov_volume``, ``chosen_by_provider``,
   ``outcomes_by_group``, ``lov_questions``.
4. *Dagens insatser* — ``intervention_outcomes``, ``cost_per_outcome``.
5. *En väg in* — ``path_table``.

Definitions reuse ``insats.analysis.measures`` (``Context``, ``ended_participations``, ``outcome_frame``
and the measures' definitions); choices this module makes are in the docstrings and in
``docs/antaganden.md`` (rows U1–U10).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import altair as alt
import numpy as np
import pandas as pd
import statsmodels.api as sm
from IPython.display import Markdown, display
from scipy import stats as st

from insats import contract
from insats.analysis.measures import (
    OE_CATEGORICAL,
    OE_NUMERIC,
    Context,
    Params,
    ended_participations,
    open_interventions,
    outcome_frame,
)
from insats.analysis.privacy import SUPPRESSED, footnote, format_number, protect_measures
from insats.analysis.stats import funnel_flags, observed_expected, wilson_interval
from insats.charts import flow_steps, funnel_plot, ranked_bars, time_series
from insats.charts.common import chart_data
from insats.charts.theme import ensure_theme
from insats.contract import ALLA
from insats.data.study import Study
from insats.errors import DataError, UsageError
from insats.reports.common import area_names, missing_note

__all__ = [
    "DAYS_PER_MONTH",
    "DEFAULT_THRESHOLDS",
    "Recommendation",
    "Section",
    "all_findings",
    "attendance_by",
    "attendance_frame",
    "capacity_gap",
    "chosen_by_provider",
    "cost_per_outcome",
    "format_shown",
    "has_lov",
    "intervention_labels",
    "intervention_outcomes",
    "interrupted_time_series",
    "its_chart",
    "lov_questions",
    "lov_volume",
    "make_context",
    "monthly_attendance",
    "offer_frame",
    "offer_rates",
    "outcomes_by_group",
    "path_table",
    "protect_shares",
    "providers_per_category",
    "recommendations",
    "section_attendance",
    "section_interventions",
    "section_lov",
    "section_offer",
    "section_path",
    "show",
    "show_recommendations",
    "summary",
]

DAYS_PER_MONTH = 365.25 / 12
"""Days in an average month: durations in days are turned into months by dividing by this."""

OMFATTNING = ("arbetsloshet", "alla")

AGE_GROUPS = {"18_24": "18–24 år", "25_plus": "25 år och äldre"}


# --------------------------------------------------------------------------- setup


def make_context(
    study: Study, fran: str, till: str, *, min_cell: int = 5, omfattning: str = "arbetsloshet", **options
) -> Context:
    """A measures ``Context`` for the evaluation period ``fran``–``till`` (``"YYYY-MM"``).

    ``omfattning`` is the scope of "every recipient": ``"arbetsloshet"`` (adult recipients in
    hinder group arbetslöshet, DESIGN.md's default for erbjudande_andel) or ``"alla"`` (every adult
    recipient). ``options`` set further ``Params`` fields.
    """
    if omfattning not in OMFATTNING:
        raise UsageError(f"Okänd omfattning {omfattning!r}: välj 'arbetsloshet' eller 'alla'.")
    start = pd.Timestamp(fran).to_period("M").to_timestamp()
    end = pd.Timestamp(till).to_period("M").to_timestamp()
    if end < start:
        raise UsageError(f"Perioden slutar ({till}) före sin början ({fran}).")
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
    den: str = "namnare",
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


def _pct(x: float, decimals: int = 0) -> str:
    return format_number(x, decimals, percent=True) if x is not None and pd.notna(x) else SUPPRESSED


def _num(x: float, decimals: int = 0) -> str:
    return format_number(x, decimals) if x is not None and pd.notna(x) else SUPPRESSED


def _with_wilson(table: pd.DataFrame, k: str = "taljare", n: str = "namnare") -> pd.DataFrame:
    out = table.copy()
    with np.errstate(invalid="ignore", divide="ignore"):
        out["andel"] = np.where(out[n] > 0, out[k] / out[n].where(out[n] > 0), np.nan)
    out["lo"], out["hi"] = wilson_interval(out[k].to_numpy(float), out[n].to_numpy(float))
    return out


# --------------------------------------------------------------------------- 1. erbjudande


def offer_frame(ctx: Context, *, all_groups: bool | None = None) -> pd.DataFrame:
    """One row per person in scope, with whether the person was offered an intervention in time.

    Scope and "offered" are exactly the measure ``erbjudande_andel`` (DESIGN.md): adult recipients
    in the period (in hinder group arbetslöshet unless ``erbjudande_alla_grupper``), offered when a
    participation's ``erbjuden_datum`` (else ``start_datum``) is on or before day0 +
    ``erbjudande_dagar`` and the participation had not ended before day0. Columns: ``pos``,
    ``omrade_kod``, ``aldersgrupp`` (``18_24`` when the person is at most 24 in m0's year, else
    ``25_plus``), ``hindergrupp``, ``erbjuden`` (bool). ``all_groups`` overrides the scope
    (True: every hinder group), e.g. to compare hinder groups when the scope is arbetslöshet.
    """
    scope = ctx.adult.copy()
    alla = ctx.params.erbjudande_alla_grupper if all_groups is None else all_groups
    if not alla:
        scope &= ctx.person_group[:-1] == "arbetsloshet"
    offered = ctx.offered  # the erbjudande_andel definition, computed in one place
    pos = np.flatnonzero(scope)
    year0 = pd.DatetimeIndex(ctx.day0[pos]).year.to_numpy()
    age = year0 - ctx.birth_year[pos]
    return pd.DataFrame(
        {
            "pos": pos,
            "omrade_kod": ctx.person_area[pos].astype(object),
            "aldersgrupp": np.where(age <= 24, "18_24", "25_plus").astype(object),
            "hindergrupp": ctx.person_group[pos],
            "erbjuden": offered[pos],
        }
    )


def offer_rates(frame: pd.DataFrame, by: str, *, order: list | None = None) -> pd.DataFrame:
    """Offer rate per value of ``by`` (a column of ``offer_frame``) and for all (``ALLA``).

    Columns: ``by``, ``taljare`` (offered), ``namnare`` (persons in scope), ``andel`` and the Wilson
    95 % interval ``lo``, ``hi`` (``insats.analysis.stats.wilson_interval``). Unprotected.
    """
    g = frame.groupby(by, sort=True, observed=True)["erbjuden"].agg(["sum", "size"])
    if order is not None:
        g = g.reindex([o for o in order if o in g.index] + [i for i in g.index if i not in order])
    out = pd.DataFrame(
        {
            by: list(g.index) + [ALLA],
            "taljare": list(g["sum"].astype(float)) + [float(frame["erbjuden"].sum())],
            "namnare": list(g["size"].astype(float)) + [float(len(frame))],
        }
    )
    return _with_wilson(out)


def capacity_gap(ctx: Context, offers: pd.DataFrame | None = None) -> pd.DataFrame:
    """The places each category would need if every person in scope were offered one intervention,
    against the places that exist.

    Per category ``c`` (only interventions counted as intervention, ``raknas_som_insats``)::

        N      = persons in scope (``offer_frame``: the denominator of erbjudande_andel)
        s_c    = participations started in the period in c / all participations started in the period
        d_c    = mean length in months of the participations in c started in the period that have an
                 end date: (slut_datum − start_datum) in days / (365,25 / 12)
        M      = months in the period
        behov_c  = N · s_c · d_c / M            (places needed, on average at any time)
        platser_c = Σ platser · (days the intervention is open in the period / days in the period)
        gap_c    = behov_c − platser_c          (> 0: places missing)

    i.e. N people each get one participation of the category mix and average length of today,
    spread evenly over the period. ``platser`` count whole-municipality capacity, open
    interventions only (``measures.open_interventions``), weighted by how much of the period they
    were open (procured contracts that ended and LOV providers that started during the period count
    for their part). A last row ``ALLA`` sums the categories. Columns: ``kategori``, ``personer``,
    ``deltaganden``, ``andel_deltaganden``, ``manader_medel``, ``behov``, ``platser``, ``gap``.
    """
    if offers is None:
        offers = offer_frame(ctx)
    n_scope = float(len(offers))
    months = _n_months(ctx)
    first, last = ctx.params.first_day, ctx.params.last_day
    ins = open_interventions(ctx)
    period_days = (last - first).days + 1
    fran = ins["giltig_fran"].fillna(first).clip(lower=first)
    till = ins["giltig_till"].fillna(last).clip(upper=last)
    open_days = ((till - fran).dt.days + 1).clip(lower=0)
    places = (
        (ins["platser"].astype("float64").fillna(0) * open_days / period_days)
        .groupby(ins["kategori"].astype(object))
        .sum()
    )

    p = _participations(ctx)
    counted = set(ins["insats_id"].astype(str))
    p = p[(p["pos"] >= 0) & ctx.in_period(p["start"]) & p["insats_id"].astype(str).isin(counted)]
    n_all = float(len(p))
    dur = (p["slut"] - p["start"]).dt.days / DAYS_PER_MONTH
    per = pd.DataFrame({"kategori": p["kategori"].astype(object), "dur": dur})
    cats = [c for c in contract.codes("kategori") if c in set(per["kategori"]) | set(places.index)]
    rows = []
    for c in cats:
        sel = per[per["kategori"] == c]
        n_c = float(len(sel))
        share = n_c / n_all if n_all > 0 else np.nan
        d_c = float(sel["dur"].mean()) if sel["dur"].notna().any() else np.nan
        need = n_scope * share * d_c / months if n_c > 0 else 0.0
        have = float(places.get(c, 0.0))
        rows.append((c, n_scope, n_c, share, d_c, need, have, need - have))
    out = pd.DataFrame(
        rows,
        columns=[
            "kategori",
            "personer",
            "deltaganden",
            "andel_deltaganden",
            "manader_medel",
            "behov",
            "platser",
            "gap",
        ],
    )
    total = pd.DataFrame(
        [
            (
                ALLA,
                n_scope,
                out["deltaganden"].sum(),
                1.0 if n_all > 0 else np.nan,
                float(dur.mean()) if len(dur) else np.nan,
                out["behov"].sum(),
                out["platser"].sum(),
                out["behov"].sum() - out["platser"].sum(),
            )
        ],
        columns=out.columns,
    )
    return pd.concat([out, total], ignore_index=True)


def capacity_chart(gap: pd.DataFrame):
    """Bars of places needed and places that exist per category (Swedish labels)."""

    ensure_theme()
    g = gap[gap["kategori"] != ALLA]
    rows = []
    for _, r in g.iterrows():
        name = contract.label("kategori", r["kategori"])
        rows.append(
            {
                "kategori": name,
                "slag": "Behövs om alla erbjuds",
                "platser": float(r["behov"]),
                "text": format_number(r["behov"], 0),
            }
        )
        rows.append(
            {
                "kategori": name,
                "slag": "Finns i dag",
                "platser": float(r["platser"]),
                "text": format_number(r["platser"], 0),
            }
        )
    frame = pd.DataFrame(rows)
    return (
        alt.Chart(chart_data(frame))
        .mark_bar()
        .encode(
            y=alt.Y("kategori:N", title=None, sort=list(dict.fromkeys(frame["kategori"]))),
            yOffset=alt.YOffset("slag:N", sort=["Behövs om alla erbjuds", "Finns i dag"]),
            x=alt.X("platser:Q", title="Platser (genomsnitt samtidigt)", axis=alt.Axis(format=",.0f")),
            color=alt.Color(
                "slag:N",
                title=None,
                sort=["Behövs om alla erbjuds", "Finns i dag"],
                scale=alt.Scale(range=["#D55E00", "#0072B2"]),
                legend=alt.Legend(orient="bottom"),
            ),
            tooltip=[
                alt.Tooltip("kategori:N", title="Kategori"),
                alt.Tooltip("slag:N", title="Platser"),
                alt.Tooltip("text:N", title="Antal"),
            ],
        )
        .properties(
            title=alt.TitleParams(
                "Platser som behövs om alla erbjuds en insats",
                subtitle=[
                    "Behov = personer × kategorins andel av deltagandena × "
                    "genomsnittlig längd i månader / periodens månader."
                ],
            ),
            width=460,
            height=alt.Step(16),
        )
    )


# --------------------------------------------------------------------------- 2. närvaro


def attendance_frame(ctx: Context) -> pd.DataFrame:
    """Participations with an attendance ratio, as the measures ``narvaro_*`` define it:
    participations overlapping the period with planned hours > 0 and attended hours given;
    ``ratio = min(narvarotimmar / planerade_timmar, 1)``. Columns: ``omrade_kod``, ``insats_id``,
    ``namn``, ``kategori``, ``regi``, ``utforare``, ``start``, ``ratio``."""
    p = _participations(ctx)
    overlaps = (p["start"] <= ctx.params.last_day) & (p["slut"].isna() | (p["slut"] >= ctx.params.first_day))
    ok = overlaps & (p["planerade"] > 0) & p["narvaro"].notna() & (p["pos"] >= 0)
    q = p[ok]
    out = pd.DataFrame(
        {
            "omrade_kod": q["area"].astype(object).to_numpy(),
            "insats_id": q["insats_id"].to_numpy(),
            "start": q["start"].to_numpy(),
            "ratio": np.minimum(q["narvaro"] / q["planerade"], 1.0).to_numpy(),
        }
    )
    for col in ("namn", "kategori", "regi", "utforare"):
        out[col] = q[col].astype(object).to_numpy() if col in q else None
    return out


def attendance_by(frame: pd.DataFrame, by: str) -> pd.DataFrame:
    """Attendance per value of ``by`` and for all (``ALLA``): ``namnare`` participations,
    ``median`` and ``medel`` of the ratio, ``taljare`` participations with ratio ≥ 0.8, ``andel``
    (= taljare / namnare, the measure narvaro_andel_80) with a Wilson 95 % interval. Unprotected."""
    f = frame.assign(_80=frame["ratio"] >= 0.8, _k=frame[by].astype(object).fillna("(saknas)"))
    g = f.groupby("_k", sort=True)
    out = pd.DataFrame(
        {
            by: list(g.size().index),
            "namnare": g.size().astype(float).to_numpy(),
            "taljare": g["_80"].sum().astype(float).to_numpy(),
            "median": g["ratio"].median().to_numpy(),
            "medel": g["ratio"].mean().to_numpy(),
        }
    )
    total = pd.DataFrame(
        {
            by: [ALLA],
            "namnare": [float(len(f))],
            "taljare": [float(f["_80"].sum())],
            "median": [float(f["ratio"].median()) if len(f) else np.nan],
            "medel": [float(f["ratio"].mean()) if len(f) else np.nan],
        }
    )
    return _with_wilson(pd.concat([out, total], ignore_index=True))


def monthly_attendance(frame: pd.DataFrame, fran, till) -> pd.DataFrame:
    """Mean attendance ratio per **start month** of the participations, ``fran`` to ``till``.

    The data hold one attendance figure per participation (not per month), so a participation is
    placed in the month it started; a reform that applies to participations started from a date
    shows as a jump at that month. Columns: ``manad`` (first day), ``narvaro`` (mean ratio), ``n``.
    Months without participations are left out.
    """
    start = pd.Timestamp(fran).to_period("M").to_timestamp()
    end = pd.Timestamp(till).to_period("M").to_timestamp()
    m = pd.DatetimeIndex(frame["start"]).to_period("M").to_timestamp()
    f = pd.DataFrame({"manad": m, "ratio": frame["ratio"].to_numpy()})
    f = f[(f["manad"] >= start) & (f["manad"] <= end)]
    g = f.groupby("manad")["ratio"].agg(["mean", "size"]).reset_index()
    return pd.DataFrame({"manad": g["manad"], "narvaro": g["mean"].astype(float), "n": g["size"].astype(int)})


@dataclass
class ItsResult:
    """Result of ``interrupted_time_series``."""

    coefficients: pd.DataFrame
    """Rows niva_fore (intercept), trend_fore, nivaforandring, trendforandring; columns skattning,
    se, lo, hi, p (HAC standard errors)."""
    level_change: float
    level_lo: float
    level_hi: float
    level_p: float
    trend_before: float
    trend_change: float
    fitted: pd.DataFrame
    """manad, observed, fitted, counterfactual (the pre-reform line continued), period."""
    n_before: int
    n_after: int
    maxlags: int
    level: float = 0.95


def interrupted_time_series(
    series: pd.DataFrame,
    break_date,
    *,
    x: str = "manad",
    y: str = "narvaro",
    maxlags: int | None = None,
    level: float = 0.95,
) -> ItsResult:
    """Segmented regression of a monthly series around a reform (interrupted time series).

    With ``t`` = months since the first month (0, 1, …), ``post`` = 1 from the month of
    ``break_date`` on, and ``t0`` = that month's ``t``::

        y_t = b0 + b1·t + b2·post_t + b3·(t − t0)·post_t + e_t

    fitted by OLS (statsmodels); ``b0``/``b1`` are the level and monthly trend before, ``b2`` the
    change in level at the reform and ``b3`` the change in trend. Standard errors are
    heteroskedasticity- and autocorrelation-consistent (HAC, Newey–West, Bartlett kernel, small-
    sample correction) with ``maxlags`` = ⌊4·(T/100)^(2/9)⌋ by default (T months); intervals are
    ``estimate ± z·se``. Needs at least 3 months on each side.
    """

    s = series[[x, y]].dropna().sort_values(x).reset_index(drop=True)
    months = pd.DatetimeIndex(pd.to_datetime(s[x])).to_period("M")
    brk = pd.Timestamp(break_date).to_period("M")
    first = months.min()
    t = np.asarray([(m - first).n for m in months], dtype=float)
    t0 = float((brk - first).n)
    post = (t >= t0).astype(float)
    n_before, n_after = int((post == 0).sum()), int((post == 1).sum())
    if n_before < 3 or n_after < 3:
        raise DataError(
            f"Tidsserien behöver minst tre månader före och tre efter reformen "
            f"({brk}); den har {n_before} före och {n_after} efter."
        )
    X = np.column_stack([np.ones_like(t), t, post, (t - t0) * post])
    T = len(t)
    if maxlags is None:
        maxlags = int(np.floor(4 * (T / 100) ** (2 / 9)))
    fit = sm.OLS(s[y].to_numpy(float), X).fit(cov_type="HAC", cov_kwds={"maxlags": maxlags, "use_correction": True})
    z = float(st.norm.ppf(0.5 + level / 2))
    params, se = np.asarray(fit.params), np.asarray(fit.bse)
    coef = pd.DataFrame(
        {"skattning": params, "se": se, "lo": params - z * se, "hi": params + z * se, "p": np.asarray(fit.pvalues)},
        index=["niva_fore", "trend_fore", "nivaforandring", "trendforandring"],
    )
    fitted = pd.DataFrame(
        {
            "manad": months.to_timestamp(),
            "observed": s[y].to_numpy(float),
            "fitted": X @ params,
            "counterfactual": params[0] + params[1] * t,
            "period": np.where(post == 1, "Efter", "Före"),
        }
    )
    r = coef.loc["nivaforandring"]
    return ItsResult(
        coefficients=coef,
        level_change=float(r["skattning"]),
        level_lo=float(r["lo"]),
        level_hi=float(r["hi"]),
        level_p=float(r["p"]),
        trend_before=float(params[1]),
        trend_change=float(params[3]),
        fitted=fitted,
        n_before=n_before,
        n_after=n_after,
        maxlags=int(maxlags),
        level=level,
    )


def its_chart(monthly: pd.DataFrame, its: ItsResult, break_date, *, title: str = "Närvaro per startmånad"):
    """``charts.time_series`` of the monthly series with the reform rule and the fitted segments
    (dotted), plus the pre-reform line continued after the reform (grey, dashed: what the model
    expects without the reform)."""

    chart = time_series(
        monthly,
        "manad",
        "narvaro",
        break_date=break_date,
        trend=True,
        unit="andel",
        title=title,
        y_title="Närvaro (medelvärde)",
        break_label="Närvarokrav",
    )
    cf = its.fitted[its.fitted["period"] == "Efter"][["manad", "counterfactual"]]
    extra = (
        alt.Chart(chart_data(cf))
        .mark_line(color="#888888", strokeDash=[8, 4], strokeWidth=2)
        .encode(
            x="manad:T",
            y="counterfactual:Q",
            tooltip=[
                alt.Tooltip("manad:T", title="Månad", format="%B %Y"),
                alt.Tooltip("counterfactual:Q", title="Utan reform (förlängd trend)", format=".1%"),
            ],
        )
    )
    chart.layer = list(chart.layer) + [extra]
    return chart


# --------------------------------------------------------------------------- 3. LOV


def has_lov(ctx: Context) -> bool:
    """True when the study has an intervention at a LOV provider (``lov`` Ja or ``regi`` lov)."""
    if "insatser" not in ctx.study:
        return False
    ins = ctx.study["insatser"]
    return bool((ins["lov"].astype("boolean").fillna(False).astype(bool) | (ins["regi"].astype(object) == "lov")).any())


def providers_per_category(ctx: Context) -> pd.DataFrame:
    """Per category: distinct providers (``utforare``; an empty provider counts as the
    intervention's own id) of interventions open in the period and counted as intervention, of
    which LOV providers, and the regi forms present. Counts of providers are not about persons."""
    ins = open_interventions(ctx).copy()
    ins["utf"] = ins["utforare"].astype(object).fillna(ins["insats_id"].astype(object))
    ins["is_lov"] = ins["lov"].astype("boolean").fillna(False).astype(bool) | (ins["regi"].astype(object) == "lov")
    rows = []
    for c in [c for c in contract.codes("kategori") if c in set(ins["kategori"].astype(object))]:
        sel = ins[ins["kategori"].astype(object) == c]
        rows.append(
            (
                c,
                sel["utf"].nunique(),
                sel.loc[sel["is_lov"], "utf"].nunique(),
                ", ".join(contract.label("regi", r) for r in sorted(set(sel["regi"].astype(object)))),
            )
        )
    return pd.DataFrame(rows, columns=["kategori", "utforare", "lov_utforare", "regi"])


def lov_volume(ctx: Context, min_deltagare: int = 20, providers: pd.DataFrame | None = None) -> pd.DataFrame:
    """Can the volume of each category sustain several providers?

    Per category: ``per_ar`` = participations started in the period / (months in the period / 12)
    (participations per year); ``utforare`` = providers today (``providers_per_category``);
    ``per_utforare`` = per_ar / utforare; ``max_utforare`` = ⌊per_ar / min_deltagare⌋, the number of
    providers that could each get the stated minimum; ``racker`` = max_utforare ≥ 2 (the volume can
    carry a choice between at least two providers). ``deltaganden`` is the count behind per_ar
    (a count of participations, protected when published).
    """
    if providers is None:
        providers = providers_per_category(ctx)
    years = _n_months(ctx) / 12
    p = _participations(ctx)
    p = p[(p["pos"] >= 0) & ctx.in_period(p["start"])]
    counts = p["kategori"].astype(object).value_counts()
    out = providers[["kategori", "utforare", "lov_utforare"]].copy()
    out["deltaganden"] = out["kategori"].map(counts).fillna(0).astype(float)
    out["per_ar"] = out["deltaganden"] / years
    out["per_utforare"] = np.where(
        out["utforare"] > 0, out["per_ar"] / out["utforare"].where(out["utforare"] > 0), np.nan
    )
    out["max_utforare"] = np.floor(out["per_ar"] / min_deltagare).astype(int)
    out["racker"] = out["max_utforare"] >= 2
    out["min_deltagare"] = min_deltagare
    return out


def chosen_by_provider(ctx: Context) -> pd.DataFrame:
    """Per LOV provider and for all (``ALLA``): participations started in the period (``namnare``)
    and those where the person chose the provider (``taljare``; empty counts as not chosen, as in
    the measure lov_andel_valt), share and Wilson interval. Unprotected."""
    p = _participations(ctx)
    q = p[p["lov"] & ctx.in_period(p["start"]) & (p["pos"] >= 0)]
    chosen = np.array([v is True for v in q["vald"]], dtype=bool)
    f = pd.DataFrame({"utforare": q["utforare"].astype(object).fillna("(okänd)").to_numpy(), "valt": chosen})
    g = f.groupby("utforare", sort=True)["valt"].agg(["sum", "size"])
    out = pd.DataFrame(
        {
            "utforare": list(g.index) + [ALLA],
            "taljare": list(g["sum"].astype(float)) + [float(chosen.sum())],
            "namnare": list(g["size"].astype(float)) + [float(len(f))],
        }
    )
    return _with_wilson(out)


def _outcome_frame_ext(ctx: Context) -> pd.DataFrame:
    """``measures.outcome_frame`` plus the intervention's id, provider, regi and LOV flag."""
    frame = outcome_frame(ctx)
    q = ended_participations(ctx)
    p = _participations(ctx)
    for col in ("insats_id", "utforare", "regi", "namn"):
        frame[col] = p.loc[q.index, col].astype(object).to_numpy() if col in p else None
    frame["lov"] = p.loc[q.index, "lov"].to_numpy(dtype=bool) if "lov" in p else False
    return frame


def outcomes_by_group(ctx: Context, group: str, *, frame: pd.DataFrame | None = None) -> pd.DataFrame:
    """Exits to work or studies per ``group`` (``utforare``, ``regi``, ``insats_id``,
    ``kategori`` or ``area``) among participations ended in the period (the measure
    utfall_arbete_studier_andel), with a Wilson interval, and case-mix adjusted observed/expected
    (``stats.observed_expected`` with the covariates of ``justerat_utfall_oe``, ``group`` as the
    group). Columns: ``group``, ``taljare`` (O), ``namnare`` (n), ``andel``, ``lo``, ``hi``,
    ``forvantat`` (E), ``oe``, ``oe_lo``, ``oe_hi``; a last row ``ALLA``. Unprotected."""
    if frame is None:
        frame = _outcome_frame_ext(ctx)
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
    out["forvantat"], out["oe"], out["oe_lo"], out["oe_hi"] = np.nan, np.nan, np.nan, np.nan
    if len(f) and f["arbete_studier"].nunique() == 2:
        oe = observed_expected(f, outcome="arbete_studier", group=group, categorical=OE_CATEGORICAL, numeric=OE_NUMERIC)
        for src, dst in (("expected", "forvantat"), ("oe", "oe"), ("lo", "oe_lo"), ("hi", "oe_hi")):
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
            }
        ]
    )
    return pd.concat([out, total], ignore_index=True)


def _leaky_parents(frame: pd.DataFrame, child_pub: pd.DataFrame, child: str, parent: str) -> set:
    """Parent groups (e.g. regi) whose row would reveal a suppressed child row (e.g. a provider) by
    subtraction: parents with exactly one suppressed child that has participations."""
    pairs = frame[[child, parent]].astype(object).fillna("(okänd)").drop_duplicates()
    hidden = set(child_pub.loc[child_pub["undertryckt"], child])
    out = set()
    for par, grp in pairs.groupby(parent):
        if sum(c in hidden for c in grp[child]) == 1:
            out.add(par)
    return out


def lov_questions(
    volume: pd.DataFrame,
    *,
    chosen_share: float | None,
    provider_outcomes: pd.DataFrame | None,
    min_deltagare: int,
    lov_present: bool,
) -> list[str]:
    """The questions the municipality must answer before choosing LOV, each with the numbers
    from this study that make it pressing (Swedish)."""
    qs = []
    ok = volume[volume["racker"]]
    not_ok = volume[~volume["racker"]]
    names = lambda t: ", ".join(contract.label("kategori", c).lower() for c in t["kategori"])  # noqa: E731
    if len(ok):
        qs.append(
            f"Vilka kategorier ska ingå i valfrihetssystemet? Volymen räcker för minst två utförare med "
            f"{min_deltagare} deltaganden per år i: {names(ok)}."
        )
    if len(not_ok):
        qs.append(
            f"Hur ska kategorier med liten volym ordnas? I {names(not_ok)} räcker volymen inte till två utförare "
            f"med minst {min_deltagare} deltaganden per år; där passar egen regi eller upphandling bättre än LOV."
        )
    if chosen_share is not None and pd.notna(chosen_share):
        qs.append(
            f"Hur ska ickevalsalternativet se ut? {_pct(1 - chosen_share)} av deltagandena hos LOV-utförare "
            "började utan att personen själv valt utförare."
        )
    elif not lov_present:
        qs.append(
            "Hur ska ickevalsalternativet se ut för dem som inte väljer? Studien har inga LOV-utförare, så det "
            "finns inga egna uppgifter om hur många som väljer själva."
        )
    if provider_outcomes is not None and len(provider_outcomes):
        po = provider_outcomes[(provider_outcomes["utforare"] != ALLA) & provider_outcomes["andel"].notna()]
        if len(po) >= 2:
            qs.append(
                f"Ska ersättningen vara resultatbaserad? Andelen avslut till arbete eller studier skiljer mellan "
                f"utförarna: {_pct(po['andel'].min())}–{_pct(po['andel'].max())}."
            )
    per = volume["per_utforare"].dropna()
    if len(per):
        qs.append(
            f"Hur ska utförarna följas upp? Med i median {_num(per.median())} deltaganden per utförare och år "
            "blir skillnader mellan utförare osäkra; bestäm mått, uppföljningstid och vad som händer vid "
            "svaga resultat innan systemet startar."
        )
    qs.append(
        "Vilka krav ställs för godkännande (närvarorapportering, uppgifter till kommunen, kvalitet), och "
        "hur ska den egna regin konkurrera på samma villkor?"
    )
    qs.append("Hur får de som står långt från arbetsmarknaden information och stöd för att kunna välja?")
    return qs


# --------------------------------------------------------------------------- 4. dagens insatser


def intervention_outcomes(ctx: Context) -> pd.DataFrame:
    """Outcomes per intervention, with the measures' definitions.

    * ``taljare``/``namnare``: ended participations in the period with avslut arbete or studier /
      all ended (utfall_arbete_studier_andel), share, Wilson interval, and the funnel flag
      (``stats.funnel_flags``) against the share over all interventions;
    * ``sf_taljare``/``sf_namnare``: of those whose ``uppfoljning_manader`` following months are in
      the data, the number without assistance in all of them (utfall_sjalvforsorjning_andel),
      ``sf_andel``.

    Rows per ``insats_id`` (with ``namn``, ``kategori``, ``regi``) and a last row ``ALLA``.
    """
    q = ended_participations(ctx)
    p = _participations(ctx)
    q = q.assign(insats_id=p.loc[q.index, "insats_id"].astype(object).to_numpy())
    k = ctx.params.uppfoljning_manader
    if "bistand" in ctx.study and len(q):
        t_end = np.asarray(ctx.month_index(q["slut"]))
        inside = (t_end + k <= ctx.n_months - 1) & (t_end + 1 >= 0)
        pos = q["pos"].to_numpy()
        any_aid = np.zeros(len(q), bool)
        for j in range(1, k + 1):
            idx = np.clip(t_end + j, 0, ctx.n_months - 1)
            any_aid |= np.where(inside, ctx.panel[pos, idx], False)
        q = q.assign(sf_in=inside, sf_ok=inside & ~any_aid)
    else:
        q = q.assign(sf_in=False, sf_ok=False)
    g = q.groupby("insats_id", sort=True)
    out = pd.DataFrame(
        {
            "insats_id": list(g.size().index),
            "taljare": g["arbete_studier"].sum().astype(float).to_numpy(),
            "namnare": g.size().astype(float).to_numpy(),
            "sf_taljare": g["sf_ok"].sum().astype(float).to_numpy(),
            "sf_namnare": g["sf_in"].sum().astype(float).to_numpy(),
        }
    )
    total = pd.DataFrame(
        [
            {
                "insats_id": ALLA,
                "taljare": float(q["arbete_studier"].sum()),
                "namnare": float(len(q)),
                "sf_taljare": float(q["sf_ok"].sum()),
                "sf_namnare": float(q["sf_in"].sum()),
            }
        ]
    )
    out = _with_wilson(pd.concat([out, total], ignore_index=True))
    with np.errstate(invalid="ignore", divide="ignore"):
        out["sf_andel"] = np.where(
            out["sf_namnare"] > 0, out["sf_taljare"] / out["sf_namnare"].where(out["sf_namnare"] > 0), np.nan
        )
    p0 = total["taljare"].iloc[0] / total["namnare"].iloc[0] if total["namnare"].iloc[0] > 0 else np.nan
    is_t = out["insats_id"] == ALLA
    out["flagga"] = None
    if np.isfinite(p0):
        out.loc[~is_t, "flagga"] = funnel_flags(
            out.loc[~is_t, "taljare"].to_numpy(), out.loc[~is_t, "namnare"].to_numpy(), p0
        ).to_numpy()
    if "insatser" in ctx.study:
        ins = ctx.study["insatser"].set_index(ctx.study["insatser"]["insats_id"].astype(str))
        labels = intervention_labels(ctx.study["insatser"])
        out["namn"] = out["insats_id"].map(labels).fillna(out["insats_id"])
        out["kategori"] = out["insats_id"].map(ins["kategori"].astype(object))
        out["regi"] = out["insats_id"].map(ins["regi"].astype(object))
    else:
        out["namn"], out["kategori"], out["regi"] = out["insats_id"], None, None
    out.loc[is_t, "namn"] = "Alla insatser"
    return out


def cost_per_outcome(ctx: Context) -> pd.DataFrame:
    """Cost per exit to work or studies, per intervention.

    ``manader`` = Σ over participations overlapping the period of the months they ran inside it:
    (min(slut_datum or the period's last day, last day) − max(start_datum, first day) + 1 day) in
    days / (365,25 / 12); ``kostnad`` = ``kostnad_per_plats_manad`` × ``manader`` (a place is paid
    for while someone uses it); ``utfall`` = participations ended in the period with avslut
    arbete or studier; ``kostnad_per_utfall`` = kostnad / utfall (empty when utfall is 0 or the
    cost is unknown). Rows per ``insats_id`` and ``ALLA``. ``utfall`` is a count of persons and is
    protected when published (with it the cost per outcome).
    """
    p = _participations(ctx)
    first, last = ctx.params.first_day, ctx.params.last_day
    p = p[(p["pos"] >= 0) & (p["start"] <= last) & (p["slut"].isna() | (p["slut"] >= first))]
    a = p["start"].clip(lower=first)
    b = p["slut"].fillna(last).clip(upper=last)
    months = ((b - a).dt.days + 1).clip(lower=0) / DAYS_PER_MONTH
    cost = months * p["kostnad"] if "kostnad" in p else months * np.nan
    f = pd.DataFrame({"insats_id": p["insats_id"].astype(object), "manader": months, "kostnad": cost})
    q = ended_participations(ctx)
    ids = _participations(ctx).loc[q.index, "insats_id"].astype(object)
    outcomes = q["arbete_studier"].groupby(ids.to_numpy()).sum()
    g = f.groupby("insats_id", sort=True).agg(
        manader=("manader", "sum"), kostnad=("kostnad", lambda s: s.sum(min_count=1))
    )
    out = g.reset_index()
    out["utfall"] = out["insats_id"].map(outcomes).fillna(0).astype(float)
    total = pd.DataFrame(
        [
            {
                "insats_id": ALLA,
                "manader": float(f["manader"].sum()),
                "kostnad": float(f["kostnad"].sum(min_count=1)),
                "utfall": float(q["arbete_studier"].sum()),
            }
        ]
    )
    out = pd.concat([out, total], ignore_index=True)
    with np.errstate(invalid="ignore", divide="ignore"):
        out["kostnad_per_utfall"] = np.where(
            out["utfall"] > 0, out["kostnad"] / out["utfall"].where(out["utfall"] > 0), np.nan
        )
    return out


# --------------------------------------------------------------------------- 5. en väg in

PATH_STEPS = ("ansokan", "bedomd", "arbetsformaga", "insats_90")


def path_table(raw_long: pd.DataFrame) -> pd.DataFrame:
    """ "En väg in" per area and for all, from the *unprotected* measures table
    (``compute_measures(...).raw``): ``ansokan`` (applications in the period), ``bedomd``
    (assessed), ``arbetsformaga`` (assessed hel or delvis), ``insats_90`` (of those, starting a
    participation within 90 days), ``dagar_median``, ``dagar_p90``, ``andel_30`` (assessed within 30
    days of all applications) — the measures vagin_*."""
    r = raw_long.set_index(["matt", "omrade_kod"])

    def get(matt: str, col: str) -> pd.Series:
        if matt not in r.index.get_level_values(0):
            return pd.Series(dtype=float)
        return r.loc[matt][col].astype(float)

    codes = list(dict.fromkeys(raw_long.loc[raw_long["matt"] == "vagin_andel_bedomda", "omrade_kod"]))
    out = pd.DataFrame({"omrade_kod": codes})
    out["ansokan"] = out["omrade_kod"].map(get("vagin_andel_bedomda", "namnare"))
    out["bedomd"] = out["omrade_kod"].map(get("vagin_andel_bedomda", "taljare"))
    out["arbetsformaga"] = out["omrade_kod"].map(get("vagin_andel_insats_90_dagar", "namnare"))
    out["insats_90"] = out["omrade_kod"].map(get("vagin_andel_insats_90_dagar", "taljare"))
    out["dagar_median"] = out["omrade_kod"].map(get("vagin_dagar_median", "varde"))
    out["dagar_p90"] = out["omrade_kod"].map(get("vagin_dagar_p90", "varde"))
    out["andel_30"] = out["omrade_kod"].map(get("vagin_andel_30_dagar", "varde"))
    with np.errstate(invalid="ignore", divide="ignore"):
        out["andel_bedomda"] = out["bedomd"] / out["ansokan"].where(out["ansokan"] > 0)
        out["andel_insats_90"] = out["insats_90"] / out["arbetsformaga"].where(out["arbetsformaga"] > 0)
    return out


# --------------------------------------------------------------------------- recommendations

DEFAULT_THRESHOLDS: dict[str, float] = {
    "erbjudande_mal": 1.0,
    "narvaro_andel_80_min": 0.6,
    "lov_andel_valt_min": 0.5,
    "kostnad_spridning_max": 2.0,
    "vagin_dagar_median_max": 30.0,
    "vagin_andel_bedomda_min": 0.9,
    "vagin_andel_insats_90_min": 0.7,
}
"""Thresholds that trigger a recommendation (targets of the municipality; edit in the notebook)."""


@dataclass
class Recommendation:
    omrade: str
    """Which of the five areas."""
    text: str
    """Swedish recommendation, naming the number that triggered it."""
    varde: float | None = None
    troskel: float | None = None


def recommendations(fynd: dict, thresholds: dict | None = None) -> list[Recommendation]:
    """Recommendations triggered by the key numbers of the sections (``Section.fynd``, merged).

    Keys read (each optional; absent or NaN means the rule is not evaluated): ``erbjudande_andel``;
    ``kapacitet_gap`` (places missing in total) and ``kapacitet_brist`` (categories short of
    places); ``narvaro_nivaforandring``/``_lo``/``_hi``; ``narvaro_andel_80``; ``lov_finns``;
    ``lov_racker``/``lov_racker_inte`` (category lists); ``lov_andel_valt``; ``insatser_under``/
    ``insatser_over`` (interventions outside the 95 % funnel limits); ``kostnad_min``/
    ``kostnad_max``; ``vagin_dagar_median``; ``vagin_andel_bedomda``; ``vagin_andel_insats_90``.
    """
    th = {**DEFAULT_THRESHOLDS, **(thresholds or {})}
    ok = lambda k: k in fynd and fynd[k] is not None and not (isinstance(fynd[k], float) and np.isnan(fynd[k]))  # noqa: E731
    out: list[Recommendation] = []
    if ok("erbjudande_andel") and fynd["erbjudande_andel"] < th["erbjudande_mal"]:
        v = fynd["erbjudande_andel"]
        out.append(
            Recommendation(
                "Alla erbjuds en insats",
                f"Erbjudandeandelen är {_pct(v)} (mål {_pct(th['erbjudande_mal'])}): inför en rutin "
                "där varje ny biståndsmottagare får ett erbjudande inom 90 dagar och följ upp den "
                "månadsvis per område.",
                v,
                th["erbjudande_mal"],
            )
        )
    if ok("kapacitet_gap") and fynd["kapacitet_gap"] > 0:
        cats = ", ".join(fynd.get("kapacitet_brist") or [])
        out.append(
            Recommendation(
                "Alla erbjuds en insats",
                f"Om alla erbjuds en insats saknas omkring {_num(fynd['kapacitet_gap'])} platser "
                f"(genomsnitt samtidigt){' främst i ' + cats if cats else ''}: planera platserna "
                "innan målet införs.",
                fynd["kapacitet_gap"],
                0.0,
            )
        )
    if ok("narvaro_nivaforandring") and ok("narvaro_lo") and ok("narvaro_hi"):
        v, lo, hi = fynd["narvaro_nivaforandring"], fynd["narvaro_lo"], fynd["narvaro_hi"]
        ci = f"95 % KI {_pp(lo)} till {_pp(hi)}"
        if lo > 0:
            text = (
                f"Närvaron steg med {_pp(v)} procentenheter när närvarokravet infördes ({ci}): behåll kravet "
                "och följ upp att det inte leder till fler avbrott."
            )
        elif hi < 0:
            text = (
                f"Närvaron sjönk med {_pp(-v)} procentenheter när närvarokravet infördes ({ci}): utred varför "
                "innan kravet behålls."
            )
        else:
            text = (
                f"Ingen säker förändring av närvaron vid närvarokravet ({_pp(v)} procentenheter, {ci}): "
                "följ upp med fler månader innan kravet bedöms."
            )
        out.append(Recommendation("Närvarokrav", text, v, 0.0))
    if ok("narvaro_andel_80") and fynd["narvaro_andel_80"] < th["narvaro_andel_80_min"]:
        v = fynd["narvaro_andel_80"]
        out.append(
            Recommendation(
                "Närvarokrav",
                f"Bara {_pct(v)} av deltagandena har minst 80 % närvaro (mål "
                f"{_pct(th['narvaro_andel_80_min'])}): följ upp frånvaro tidigt i varje insats.",
                v,
                th["narvaro_andel_80_min"],
            )
        )
    if fynd.get("lov_racker_inte"):
        cats = ", ".join(fynd["lov_racker_inte"])
        out.append(
            Recommendation(
                "Valfrihet och LOV",
                f"Volymen räcker inte till två utförare med minst "
                f"{_num(fynd.get('lov_min_deltagare'))} deltaganden per år i {cats}: inför inte LOV "
                "där; använd egen regi eller upphandling.",
                None,
                fynd.get("lov_min_deltagare"),
            )
        )
    if fynd.get("lov_racker"):
        cats = ", ".join(fynd["lov_racker"])
        out.append(
            Recommendation(
                "Valfrihet och LOV",
                f"Volymen räcker för flera utförare i {cats}: LOV är möjligt "
                "där om frågorna i avsnitt 3 besvaras först.",
                None,
                fynd.get("lov_min_deltagare"),
            )
        )
    if ok("lov_andel_valt") and fynd["lov_andel_valt"] < th["lov_andel_valt_min"]:
        v = fynd["lov_andel_valt"]
        out.append(
            Recommendation(
                "Valfrihet och LOV",
                f"Bara {_pct(v)} valde själva sin LOV-utförare (mål "
                f"{_pct(th['lov_andel_valt_min'])}): förbättra informationen om utförarna.",
                v,
                th["lov_andel_valt_min"],
            )
        )
    if fynd.get("insatser_under"):
        names = ", ".join(fynd["insatser_under"])
        out.append(
            Recommendation(
                "Dagens insatser",
                f"{len(fynd['insatser_under'])} insatser har färre avslut till "
                f"arbete eller studier än slumpen förklarar (under 95 %-gränsen i trattdiagrammet): "
                f"{names}. Se över innehåll och målgrupp.",
                float(len(fynd["insatser_under"])),
                None,
            )
        )
    if fynd.get("insatser_over"):
        names = ", ".join(fynd["insatser_over"])
        out.append(
            Recommendation(
                "Dagens insatser",
                f"{len(fynd['insatser_over'])} insatser har fler avslut till "
                f"arbete eller studier än slumpen förklarar: {names}. Överväg fler platser där.",
                float(len(fynd["insatser_over"])),
                None,
            )
        )
    if ok("kostnad_min") and ok("kostnad_max") and fynd["kostnad_min"] > 0:
        ratio = fynd["kostnad_max"] / fynd["kostnad_min"]
        if ratio > th["kostnad_spridning_max"]:
            out.append(
                Recommendation(
                    "Dagens insatser",
                    f"Kostnaden per avslut till arbete eller studier skiljer "
                    f"{_num(ratio, 1)} gånger mellan insatserna ({_num(fynd['kostnad_min'])}–"
                    f"{_num(fynd['kostnad_max'])} kr): pröva att flytta platser till de insatser "
                    "som ger mest per krona.",
                    ratio,
                    th["kostnad_spridning_max"],
                )
            )
    if ok("vagin_dagar_median") and fynd["vagin_dagar_median"] > th["vagin_dagar_median_max"]:
        v = fynd["vagin_dagar_median"]
        out.append(
            Recommendation(
                "En väg in",
                f"Det tar i median {_num(v)} dagar från ansökan till bedömning (mål "
                f"högst {_num(th['vagin_dagar_median_max'])}): korta väntan till bedömning.",
                v,
                th["vagin_dagar_median_max"],
            )
        )
    if ok("vagin_andel_bedomda") and fynd["vagin_andel_bedomda"] < th["vagin_andel_bedomda_min"]:
        v = fynd["vagin_andel_bedomda"]
        out.append(
            Recommendation(
                "En väg in",
                f"{_pct(v)} av ansökningarna fick en bedömning av arbetsförmågan (mål "
                f"{_pct(th['vagin_andel_bedomda_min'])}): se till att alla sökande bedöms.",
                v,
                th["vagin_andel_bedomda_min"],
            )
        )
    if ok("vagin_andel_insats_90") and fynd["vagin_andel_insats_90"] < th["vagin_andel_insats_90_min"]:
        v = fynd["vagin_andel_insats_90"]
        out.append(
            Recommendation(
                "En väg in",
                f"{_pct(v)} av dem med hel eller delvis arbetsförmåga började en insats "
                f"inom 90 dagar (mål {_pct(th['vagin_andel_insats_90_min'])}): koppla bedömningen "
                "direkt till ett erbjudande om insats.",
                v,
                th["vagin_andel_insats_90_min"],
            )
        )
    return out


def _pp(x: float) -> str:
    """A difference of shares in percentage points, one decimal (0.123 -> "12,3")."""
    return format_number(100 * x, 1)


# --------------------------------------------------------------------------- sections


@dataclass
class Section:
    """What the notebook shows for one area: notes, published tables, charts, a conclusion."""

    rubrik: str
    notes: list[str] = field(default_factory=list)
    """Markdown notes (missing tables, definitions) shown first."""
    tables: dict[str, pd.DataFrame] = field(default_factory=dict)
    """Caption -> display table (strings, ``..`` suppressed)."""
    charts: list = field(default_factory=list)
    conclusion: str = ""
    fynd: dict = field(default_factory=dict)
    """Key numbers for ``recommendations`` (from published values only)."""
    extra: dict = field(default_factory=dict)
    """Unpublished intermediate results (for tests and follow-up), never displayed."""


def _names(ctx: Context) -> dict[str, str]:

    return area_names(ctx.study["omraden"] if "omraden" in ctx.study else None)


def _missing(study: Study, needs, what: str) -> str | None:

    return missing_note(study, list(needs), what)


def section_offer(ctx: Context, measures, *, min_cell: int = 5) -> Section:
    """Area 1: offer rate by area, age group and hinder group; the capacity gap."""
    s = Section("Alla erbjuds en insats")
    note = _missing(ctx.study, ["personer", "bistand", "deltaganden"], "Erbjudandeandelen")
    if note:
        s.notes.append(note)
        s.conclusion = "Erbjudandeandelen kan inte beräknas med de tabeller som finns."
        return s

    frame = offer_frame(ctx)
    names = _names(ctx)
    by_area = offer_rates(frame, "omrade_kod", order=ctx.areas)
    by_area["grupp"] = by_area["omrade_kod"].map(names).fillna(by_area["omrade_kod"])
    by_age = offer_rates(frame, "aldersgrupp", order=list(AGE_GROUPS))
    by_age["grupp"] = by_age["aldersgrupp"].map({**AGE_GROUPS, ALLA: "Alla"})
    # hinder groups are compared over every adult recipient (in scope arbetslöshet there is only one)
    by_grp = offer_rates(offer_frame(ctx, all_groups=True), "hindergrupp", order=contract.codes("hindergrupp"))
    by_grp["grupp"] = by_grp["hindergrupp"].map(lambda c: "Alla" if c == ALLA else contract.label("hindergrupp", c))
    cols = {
        "grupp": ("Grupp", "text"),
        "namnare": ("Personer", "antal"),
        "taljare": ("Erbjudna", "antal"),
        "andel": ("Andel erbjudna", "andel"),
        "lo:hi": ("95 % konfidensintervall", "intervall"),
    }
    pub = {}
    for caption, t, key in (
        ("Per område", by_area, "omrade_kod"),
        ("Per åldersgrupp", by_age, "aldersgrupp"),
        ("Per försörjningshinder (alla vuxna biståndsmottagare)", by_grp, "hindergrupp"),
    ):
        pub[caption] = protect_shares(t, min_cell, key=key, values=("andel", "lo", "hi"))
        s.tables[f"Erbjudandeandel {caption.lower()}"] = format_shown(pub[caption], cols)
    scope = (
        "alla vuxna biståndsmottagare"
        if ctx.params.erbjudande_alla_grupper
        else "vuxna biståndsmottagare med försörjningshinder arbetslöshet"
    )
    s.notes.append(
        f"Omfattning: {scope}. Erbjuden = ett deltagande erbjudet (annars påbörjat) senast "
        f"{ctx.params.erbjudande_dagar} dagar efter första biståndsmånaden i perioden (måttet erbjudande_andel)."
    )
    if "erbjudande_andel" in set(measures["matt"]):
        s.charts.append(
            ranked_bars(
                measures,
                "erbjudande_andel",
                omraden=ctx.study["omraden"] if "omraden" in ctx.study else None,
                min_cell=min_cell,
                title="Andel erbjudna en insats inom 90 dagar, per område",
            )
        )
    total = pub["Per område"].iloc[-1]
    s.fynd["erbjudande_andel"] = float(total["andel"]) if pd.notna(total["andel"]) else None
    if "insatser" in ctx.study:
        gap = capacity_gap(ctx, frame)
        s.extra["kapacitet"] = gap
        shown = gap.copy()
        shown["namn"] = [("Alla kategorier" if c == ALLA else contract.label("kategori", c)) for c in shown["kategori"]]
        gp = protect_shares(
            shown,
            min_cell,
            key="kategori",
            num="deltaganden",
            den=None,
            values=("andel_deltaganden", "manader_medel", "behov", "gap"),
        )
        s.tables["Platser som behövs om alla i omfattningen erbjuds en insats"] = format_shown(
            gp,
            {
                "namn": ("Kategori", "text"),
                "deltaganden": ("Deltaganden i perioden", "antal"),
                "andel_deltaganden": ("Andel av deltagandena", "andel"),
                "manader_medel": ("Längd, månader", "tal1"),
                "behov": ("Platser som behövs", "antal"),
                "platser": ("Platser i dag", "antal"),
                "gap": ("Saknas (+) / överskott (−)", "antal"),
            },
        )
        visible = gp[~gp["undertryckt"] & (gp["kategori"] != ALLA)]
        if len(visible):
            s.charts.append(capacity_chart(visible))
        tot = gp.iloc[-1]
        s.fynd["kapacitet_gap"] = float(tot["gap"]) if pd.notna(tot["gap"]) else None
        short = gp[(gp["kategori"] != ALLA) & (gp["gap"] > 0.5)].sort_values("gap", ascending=False)
        s.fynd["kapacitet_brist"] = [contract.label("kategori", c).lower() for c in short["kategori"].head(3)]
        s.notes.append(
            f"Kapacitetsgapet: {format_number(len(frame))} personer i omfattningen, var och en med ett "
            f"deltagande av dagens kategorimix och längd, utspritt över periodens {_n_months(ctx)} månader "
            "(se `docs/antaganden.md`, U2)."
        )
    else:
        s.notes.append(_missing(ctx.study, ["insatser"], "Kapacitetsgapet") or "")
    s.conclusion = _conclusion_offer(pub, s.fynd)
    return s


def _conclusion_offer(pub: dict, fynd: dict) -> str:
    parts = []
    total = pub["Per område"].iloc[-1]
    if pd.notna(total["andel"]):
        parts.append(
            f"{_pct(total['andel'])} av personerna i omfattningen erbjöds en insats inom 90 dagar "
            f"(95 % KI {_pct(total['lo'])}–{_pct(total['hi'])}); målet är 100 %."
        )
    areas = pub["Per område"]
    areas = areas[(areas["omrade_kod"] != ALLA) & areas["andel"].notna()]
    if len(areas) >= 2:
        lo, hi = areas.loc[areas["andel"].idxmin()], areas.loc[areas["andel"].idxmax()]
        parts.append(f"Lägst i {lo['grupp']} ({_pct(lo['andel'])}), högst i {hi['grupp']} ({_pct(hi['andel'])}).")
    age = pub["Per åldersgrupp"]
    age = age[(age["aldersgrupp"] != ALLA) & age["andel"].notna()]
    if len(age) == 2:
        parts.append(f"Unga 18–24 år: {_pct(age['andel'].iloc[0])}, 25 år och äldre: {_pct(age['andel'].iloc[1])}.")
    if fynd.get("kapacitet_gap") is not None:
        g = fynd["kapacitet_gap"]
        parts.append(
            f"Om alla erbjöds en insats skulle omkring {_num(abs(g))} platser "
            f"{'saknas' if g > 0 else 'bli över'} (genomsnitt samtidigt)."
        )
    if not parts:
        parts.append("Antalen är för små för att visas utan att röja enskilda (se fotnoten om ..).")
    return " ".join(parts)


def section_attendance(ctx: Context, measures, reform_datum, *, min_cell: int = 5) -> Section:
    """Area 2: attendance by intervention, provider and area; interrupted time series at the reform."""
    s = Section("Närvarokrav")
    note = _missing(ctx.study, ["deltaganden", "personer"], "Närvaron")
    if note:
        s.notes.append(note)
        s.conclusion = "Närvaron kan inte beräknas med de tabeller som finns."
        return s
    frame = attendance_frame(ctx)
    if frame.empty:
        s.notes.append(
            "**Närvaron kan inte beräknas:** inga deltaganden i perioden har både planerade timmar och närvarotimmar."
        )
        s.conclusion = "Närvaron kan inte beräknas."
        return s
    names = _names(ctx)
    labels = intervention_labels(ctx.study["insatser"]) if "insatser" in ctx.study else {}
    cols = {
        "grupp": ("", "text"),
        "namnare": ("Deltaganden", "antal"),
        "median": ("Median närvaro", "andel0"),
        "andel": ("Minst 80 % närvaro", "andel"),
        "lo:hi": ("95 % konfidensintervall", "intervall"),
    }
    specs = (
        ("Per insats", "insats_id", lambda c: labels.get(c, c), "Insats"),
        ("Per utförare", "utforare", lambda c: c, "Utförare"),
        ("Per område", "omrade_kod", lambda c: names.get(c, c), "Område"),
    )
    for caption, by, name, head in specs:
        if by != "omrade_kod" and frame[by].isna().all():
            continue
        t = attendance_by(frame, by)
        t["grupp"] = [("Alla" if c == ALLA else name(c)) for c in t[by]]
        pub = protect_shares(t, min_cell, key=by, values=("andel", "lo", "hi", "median", "medel"))
        s.tables[f"Närvaro {caption.lower()}"] = format_shown(pub, {**cols, "grupp": (head, "text")})
        if by == "omrade_kod":
            tot = pub.iloc[-1]
            s.fynd["narvaro_andel_80"] = float(tot["andel"]) if pd.notna(tot["andel"]) else None
            s.fynd["narvaro_median"] = float(tot["median"]) if pd.notna(tot["median"]) else None
    monthly = monthly_attendance(frame, ctx.params.start, ctx.params.end)
    s.extra["monthly"] = monthly
    try:
        its = interrupted_time_series(monthly, reform_datum)
    except DataError as exc:
        s.notes.append(f"**Avbrutna tidsserien kan inte skattas:** {exc}")
        s.conclusion = _conclusion_attendance(s.fynd, None, reform_datum)
        return s
    s.extra["its"] = its
    coef = its.coefficients
    shown = pd.DataFrame(
        {
            "Parameter": [
                "Nivå före (vid periodens början)",
                "Trend före, per månad",
                "Nivåförändring vid reformen",
                "Trendförändring, per månad",
            ],
            "Skattning": [_pp(v) for v in coef["skattning"]],
            "95 % konfidensintervall": [f"{_pp(a)} till {_pp(b)}" for a, b in zip(coef["lo"], coef["hi"])],
            "p-värde": [format_number(v, 3) for v in coef["p"]],
        }
    )
    s.tables["Segmenterad regression (procent respektive procentenheter; HAC/Newey–West-standardfel)"] = shown
    published = monthly[monthly["n"] >= min_cell]
    if len(published) < len(monthly):
        s.notes.append(
            f"{len(monthly) - len(published)} månader med färre än {min_cell} deltaganden visas inte i "
            "diagrammet (de ingår i regressionen)."
        )
    s.charts.append(its_chart(published, its, reform_datum))
    s.fynd.update({"narvaro_nivaforandring": its.level_change, "narvaro_lo": its.level_lo, "narvaro_hi": its.level_hi})
    s.notes.append(
        f"Avbruten tidsserie: medelnärvaron per startmånad ({its.n_before} månader före och {its.n_after} "
        f"efter reformen), segmenterad regression med nivå och trend före samt förändring i nivå och trend "
        f"vid reformen; standardfel robusta för autokorrelation (Newey–West, {its.maxlags} laggar)."
    )
    s.conclusion = _conclusion_attendance(s.fynd, its, reform_datum)
    return s


def _conclusion_attendance(fynd: dict, its: ItsResult | None, reform_datum) -> str:
    parts = []
    if fynd.get("narvaro_median") is not None:
        parts.append(
            f"Mediannärvaron är {_pct(fynd['narvaro_median'])}, och {_pct(fynd.get('narvaro_andel_80'))} av "
            "deltagandena har minst 80 % närvaro."
        )
    if its is not None:
        when = pd.Timestamp(reform_datum).strftime("%Y-%m")
        sig = its.level_lo > 0 or its.level_hi < 0
        direction = "steg" if its.level_change > 0 else "sjönk"
        parts.append(
            f"När närvarokravet infördes ({when}) {direction} närvaron med {_pp(abs(its.level_change))} "
            f"procentenheter (95 % KI {_pp(its.level_lo)} till {_pp(its.level_hi)}), "
            + (
                "en förändring som inte kan förklaras av slumpen eller av trenden före."
                if sig
                else "men förändringen är inte säkerställd."
            )
        )
    return " ".join(parts)


def section_lov(ctx: Context, measures, *, min_cell: int = 5, lov_min_deltagare: int = 20) -> Section:
    """Area 3: providers per category, chosen share, outcomes per provider and regi, volume, questions."""
    s = Section("Valfrihet och LOV")
    note = _missing(ctx.study, ["insatser", "deltaganden", "personer"], "Valfrihet och LOV")
    if note:
        s.notes.append(note)
        s.conclusion = "Avsnittet kan inte beräknas med de tabeller som finns."
        return s
    lov = has_lov(ctx)
    s.fynd["lov_finns"] = lov
    s.fynd["lov_min_deltagare"] = lov_min_deltagare
    if not lov:
        s.notes.append(
            "**LOV-utförare saknas:** studien har inga insatser hos LOV-utförare (`regi` lov eller `lov` Ja "
            "i `insatser`). Andelen som själva valt utförare och jämförelsen mellan LOV-utförare kan därför "
            "inte beräknas; volymen per kategori och frågorna inför ett beslut om LOV visas ändå."
        )
    prov = providers_per_category(ctx)
    vol = lov_volume(ctx, lov_min_deltagare, prov)
    s.extra["volym"] = vol
    vol_pub = protect_shares(
        vol.assign(namn=[contract.label("kategori", c) for c in vol["kategori"]]),
        min_cell,
        key="kategori",
        num="deltaganden",
        den=None,
        values=("per_ar", "per_utforare"),
        total=None,
    )
    vol_pub["racker_text"] = np.where(vol_pub["racker"], "Ja", "Nej")
    s.tables["Utförare och volym per kategori"] = format_shown(
        vol_pub.assign(regi=prov["regi"].to_numpy()),
        {
            "namn": ("Kategori", "text"),
            "utforare": ("Utförare", "antal"),
            "lov_utforare": ("Varav LOV", "antal"),
            "regi": ("Regi", "text"),
            "per_ar": ("Deltaganden per år", "antal"),
            "per_utforare": ("Per utförare och år", "antal"),
            "max_utforare": (f"Utförare med minst {lov_min_deltagare}/år", "antal"),
            "racker_text": ("Räcker för flera", "text"),
        },
    )
    s.fynd["lov_racker"] = [contract.label("kategori", c).lower() for c in vol.loc[vol["racker"], "kategori"]]
    s.fynd["lov_racker_inte"] = [contract.label("kategori", c).lower() for c in vol.loc[~vol["racker"], "kategori"]]
    chosen_share = None
    if lov:
        ch = chosen_by_provider(ctx)
        ch["grupp"] = ch["utforare"].replace({ALLA: "Alla LOV-utförare"})
        chp = protect_shares(ch, min_cell, key="utforare", values=("andel", "lo", "hi"))
        s.tables["Andel som själva valt utförare (LOV)"] = format_shown(
            chp,
            {
                "grupp": ("Utförare", "text"),
                "namnare": ("Deltaganden", "antal"),
                "taljare": ("Valde själv", "antal"),
                "andel": ("Andel", "andel"),
                "lo:hi": ("95 % konfidensintervall", "intervall"),
            },
        )
        tot = chp.iloc[-1]
        chosen_share = float(tot["andel"]) if pd.notna(tot["andel"]) else None
        s.fynd["lov_andel_valt"] = chosen_share
    frame = _outcome_frame_ext(ctx)
    cols = {
        "grupp": ("", "text"),
        "namnare": ("Avslutade", "antal"),
        "taljare": ("Arbete/studier", "antal"),
        "andel": ("Andel", "andel"),
        "lo:hi": ("95 % KI", "intervall"),
        "oe": ("O/E justerat", "kvot"),
        "oe_lo:oe_hi": ("95 % KI för O/E", "intervall_kvot"),
    }
    po_pub = None
    if len(frame):
        po = outcomes_by_group(ctx, "utforare", frame=frame)
        po["grupp"] = po["utforare"].replace({ALLA: "Alla utförare"})
        po_pub = protect_shares(
            po, min_cell, key="utforare", values=("andel", "lo", "hi", "forvantat", "oe", "oe_lo", "oe_hi")
        )
        s.tables["Avslut till arbete eller studier per utförare"] = format_shown(
            po_pub, {**cols, "grupp": ("Utförare", "text")}
        )
        pr = outcomes_by_group(ctx, "regi", frame=frame)
        pr["grupp"] = [("Alla" if c == ALLA else contract.label("regi", c)) for c in pr["regi"]]
        pr["undertryckt"] = pr["regi"].isin(_leaky_parents(frame, po_pub, "utforare", "regi"))
        pr_pub = protect_shares(
            pr, min_cell, key="regi", values=("andel", "lo", "hi", "forvantat", "oe", "oe_lo", "oe_hi")
        )
        s.tables["Avslut till arbete eller studier per regi"] = format_shown(
            pr_pub, {**cols, "grupp": ("Regi", "text")}
        )
        s.extra["utfall_regi"] = pr

        long = po_pub.assign(
            matt="justerat_utfall_oe",
            omrade_kod=po_pub["utforare"],
            varde=po_pub["oe"],
            lo=po_pub["oe_lo"],
            hi=po_pub["oe_hi"],
        )
        s.charts.append(
            ranked_bars(
                long[["matt", "omrade_kod", "varde", "taljare", "namnare", "undertryckt", "lo", "hi"]],
                "justerat_utfall_oe",
                min_cell=min_cell,
                title="Avslut till arbete/studier per utförare, observerat/förväntat",
            )
        )
        s.notes.append(
            "O/E: observerade avslut till arbete eller studier delat med förväntade, med förväntat från "
            "samma modell av deltagarnas egenskaper som måttet justerat_utfall_oe (ålder, kön, utrikes född, "
            "utbildning, försörjningshinder, bistånd före start). Över 1 = bättre än deltagarna väntas klara sig."
        )
    lov_rows = None
    if po_pub is not None and lov:
        lov_prov = set(frame.loc[frame["lov"], "utforare"].dropna())
        lov_rows = po_pub[po_pub["utforare"].isin(lov_prov)]
    s.extra["fragor"] = lov_questions(
        vol, chosen_share=chosen_share, provider_outcomes=lov_rows, min_deltagare=lov_min_deltagare, lov_present=lov
    )
    s.notes.append(
        "**Frågor kommunen behöver besvara innan LOV väljs:**\n\n"
        + "\n".join(f"{i}. {q}" for i, q in enumerate(s.extra["fragor"], 1))
    )
    parts = [
        f"{len(vol)} kategorier har insatser i perioden; volymen räcker för minst två utförare med "
        f"{lov_min_deltagare} deltaganden per år i {len(s.fynd['lov_racker'])} av dem."
    ]
    if chosen_share is not None:
        parts.append(
            f"{_pct(chosen_share)} av deltagandena hos LOV-utförare började efter att personen själv valt utförare."
        )
    elif not lov:
        parts.append("Inga LOV-utförare finns i uppgifterna, så valfriheten kan inte utvärderas med egna data.")
    s.conclusion = " ".join(parts)
    return s


def section_interventions(ctx: Context, measures, *, min_cell: int = 5) -> Section:
    """Area 4: outcome and cost per outcome per intervention, ranked with intervals; funnel flags."""
    s = Section("Dagens insatser")
    note = _missing(ctx.study, ["deltaganden", "personer", "insatser"], "Utfallet per insats")
    if note:
        s.notes.append(note)
        s.conclusion = "Utfallet per insats kan inte beräknas med de tabeller som finns."
        return s
    out = intervention_outcomes(ctx)
    cost = cost_per_outcome(ctx)
    t = out.merge(cost[["insats_id", "manader", "kostnad", "utfall", "kostnad_per_utfall"]], on="insats_id", how="left")
    s.extra["utfall"] = t
    pub = protect_shares(t, min_cell, key="insats_id", values=("andel", "lo", "hi", "kostnad_per_utfall", "utfall"))
    sf = protect_shares(t, min_cell, key="insats_id", num="sf_taljare", den="sf_namnare", values=("sf_andel",))
    pub["sf_andel"] = sf["sf_andel"]
    pub["sf_sup"] = sf["undertryckt"]
    pub = pub.sort_values(["undertryckt", "andel"], ascending=[True, False], na_position="last")
    pub = pd.concat([pub[pub["insats_id"] != ALLA], pub[pub["insats_id"] == ALLA]], ignore_index=True)
    flag_text = {
        "over_998": "Över 99,8 %",
        "over_95": "Över 95 %",
        "inom": "Inom",
        "under_95": "Under 95 %",
        "under_998": "Under 99,8 %",
    }
    pub["flagga_text"] = [
        ("" if u else flag_text.get(f, "")) if isinstance(f, str) else ""
        for f, u in zip(pub["flagga"], pub["undertryckt"])
    ]
    shown = format_shown(
        pub,
        {
            "namn": ("Insats", "text"),
            "namnare": ("Avslutade", "antal"),
            "taljare": ("Arbete/studier", "antal"),
            "andel": ("Andel", "andel"),
            "lo:hi": ("95 % KI", "intervall"),
            "flagga_text": ("Trattdiagram", "text"),
            "kostnad_per_utfall": ("Kostnad per utfall", "kr"),
        },
    )
    shown["Utan bistånd 3 mån efter"] = [
        SUPPRESSED if u else _pct(v) if pd.notna(v) else "" for v, u in zip(pub["sf_andel"], pub["sf_sup"])
    ]
    s.tables["Utfall per insats, rangordnat efter andel avslut till arbete eller studier"] = shown

    long = pub.assign(matt="utfall_arbete_studier_andel", omrade_kod=pub["insats_id"], varde=pub["andel"])
    long = long[["matt", "omrade_kod", "varde", "taljare", "namnare", "undertryckt"]]
    labels = dict(zip(pub["insats_id"].astype(str), pub["namn"].astype(str)))
    s.charts.append(
        ranked_bars(
            long,
            "utfall_arbete_studier_andel",
            omraden=labels,
            min_cell=min_cell,
            title="Andel avslut till arbete eller studier per insats",
        )
    )
    if (~pub["undertryckt"] & (pub["insats_id"] != ALLA)).sum() >= 2:
        s.charts.append(
            funnel_plot(
                long,
                "utfall_arbete_studier_andel",
                omraden=labels,
                min_cell=min_cell,
                title="Avslut till arbete eller studier per insats: trattdiagram",
            )
        )
    vis = pub[(pub["insats_id"] != ALLA) & ~pub["undertryckt"]]
    s.fynd["insatser_under"] = list(vis.loc[vis["flagga"].isin(["under_95", "under_998"]), "namn"])
    s.fynd["insatser_over"] = list(vis.loc[vis["flagga"].isin(["over_95", "over_998"]), "namn"])
    c = vis["kostnad_per_utfall"].dropna()
    if len(c) >= 2:
        s.fynd["kostnad_min"], s.fynd["kostnad_max"] = float(c.min()), float(c.max())
    s.notes.append(
        "Kostnad per utfall = kostnad per plats och månad × månader som deltagandena pågick under perioden, "
        "delat med antal avslut till arbete eller studier under perioden (se `docs/antaganden.md`, U7). "
        "Trattdiagram: insatsens andel jämförs med alla insatsers andel; utanför 95 %-gränsen är skillnaden "
        "större än slumpen brukar ge."
    )
    parts = []
    if len(vis):
        best, worst = vis.iloc[0], vis.iloc[-1]
        parts.append(
            f"Andelen avslut till arbete eller studier varierar från {_pct(worst['andel'])} ({worst['namn']}) "
            f"till {_pct(best['andel'])} ({best['namn']})."
        )
    n_out = len(s.fynd["insatser_under"]) + len(s.fynd["insatser_over"])
    parts.append(
        f"{n_out} av {len(vis)} insatser skiljer sig från genomsnittet mer än slumpen förklarar."
        if len(vis)
        else "Inga insatser har tillräckligt många avslutade deltaganden för att visas."
    )
    if "kostnad_min" in s.fynd:
        parts.append(
            f"Kostnaden per utfall går från {_num(s.fynd['kostnad_min'])} till {_num(s.fynd['kostnad_max'])} kr."
        )
    s.conclusion = " ".join(parts)
    return s


def section_path(ctx: Context, measures_raw, *, min_cell: int = 5) -> Section:
    """Area 5: en väg in — application → assessment → capacity → intervention within 90 days."""
    s = Section("En väg in")
    note = _missing(ctx.study, ["bedomningar", "personer", "deltaganden"], "En väg in")
    if note:
        s.notes.append(note)
        s.conclusion = (
            "Organisationen kring bedömning av arbetsförmåga kan inte utvärderas utan uppgifter om bedömningar."
        )
        return s

    t = path_table(measures_raw)
    names = _names(ctx)
    s.extra["vag_in"] = t
    pub = t.copy()
    # every step is a count of persons whose areas add up to the total: protect each step as a line
    for step_num, step_den, share in (
        ("bedomd", "ansokan", "andel_bedomda"),
        ("insats_90", "arbetsformaga", "andel_insats_90"),
    ):
        p = protect_shares(t, min_cell, key="omrade_kod", num=step_num, den=step_den, values=(share,))
        pub[step_num], pub[step_den], pub[share] = p[step_num], p[step_den], p[share]
        pub[f"sup_{share}"] = p["undertryckt"]
    ans = protect_shares(
        t, min_cell, key="omrade_kod", num="ansokan", den=None, values=("dagar_median", "dagar_p90", "andel_30")
    )
    for c in ("dagar_median", "dagar_p90", "andel_30"):
        pub[c] = ans[c]
    pub["undertryckt"] = ans["undertryckt"]
    pub["grupp"] = pub["omrade_kod"].map(names).fillna(pub["omrade_kod"])
    shown = format_shown(
        pub,
        {
            "grupp": ("Område", "text"),
            "ansokan": ("Ansökningar", "antal"),
            "dagar_median": ("Dagar till bedömning, median", "dagar"),
            "dagar_p90": ("90:e percentilen", "dagar"),
            "andel_30": ("Bedömda inom 30 dagar", "andel"),
        },
    )
    shown["Andel bedömda"] = [
        SUPPRESSED if u else _pct(v, 1) if pd.notna(v) else ""
        for v, u in zip(pub["andel_bedomda"], pub["sup_andel_bedomda"])
    ]
    shown["Arbetsförmåga, börjar insats inom 90 dagar"] = [
        SUPPRESSED if u else _pct(v, 1) if pd.notna(v) else ""
        for v, u in zip(pub["andel_insats_90"], pub["sup_andel_insats_90"])
    ]
    s.tables["En väg in per område"] = shown
    tot = t[t["omrade_kod"] == ALLA].iloc[0]
    s.charts.append(flow_steps({k: tot[k] for k in PATH_STEPS}, min_cell=min_cell))
    totp = pub[pub["omrade_kod"] == ALLA].iloc[0]
    for key, col in (
        ("vagin_dagar_median", "dagar_median"),
        ("vagin_andel_bedomda", "andel_bedomda"),
        ("vagin_andel_insats_90", "andel_insats_90"),
    ):
        s.fynd[key] = float(totp[col]) if pd.notna(totp[col]) else None
    if "vagin_andel_insats_90_dagar" in set(measures_raw["matt"]):
        s.extra["ranked"] = True
    s.conclusion = (
        f"Av {_num(totp['ansokan'])} ansökningar bedömdes {_pct(totp['andel_bedomda'])}, i median efter "
        f"{_num(totp['dagar_median'])} dagar (90 % inom {_num(totp['dagar_p90'])} dagar). Av dem med hel "
        f"eller delvis arbetsförmåga började {_pct(totp['andel_insats_90'])} en insats inom 90 dagar."
    )
    return s


# --------------------------------------------------------------------------- summary and display


def all_findings(sections: list[Section]) -> dict:
    """The sections' key numbers merged into one dict (input of ``recommendations``)."""
    out: dict = {}
    for sec in sections:
        out.update(sec.fynd)
    return out


def summary(sections: list[Section], recs: list[Recommendation]) -> str:
    """The opening summary (Swedish markdown): each area's conclusion and the number of recommendations."""
    lines = ["**Sammanfattning.**", ""]
    for i, sec in enumerate(sections, 1):
        lines.append(f"{i}. **{sec.rubrik}.** {sec.conclusion}")
    lines += ["", f"Utvärderingen leder till {len(recs)} rekommendationer (sist i rapporten)."]
    return "\n".join(lines)


def show(section: Section, *, min_cell: int = 5) -> None:
    """Display a section in a notebook: notes, tables (no index), charts, conclusion."""

    for note in section.notes:
        if note:
            display(Markdown(note))
    for caption, table in section.tables.items():
        display(Markdown(f"**{caption}**"))
        display(table.style.hide(axis="index"))
    for chart in section.charts:
        display(chart)
    if section.tables:
        display(Markdown(f"<small>{footnote(min_cell)}.</small>"))
    display(Markdown(f"**Slutsats.** {section.conclusion}"))


def show_recommendations(recs: list[Recommendation]) -> None:
    """Display the recommendations as a numbered list, grouped by area."""

    if not recs:
        display(Markdown("Inga rekommendationer utlöstes av resultaten med de valda målen."))
        return
    display(Markdown("\n".join(f"{i}. *{r.omrade}:* {r.text}" for i, r in enumerate(recs, 1))))
