"""2. Närvarokrav: attendance by area and intervention, and the interrupted time series at the reform."""

from __future__ import annotations

from dataclasses import dataclass

import altair as alt
import numpy as np
import pandas as pd
import statsmodels.api as sm
from scipy import stats as st

from insats.analysis.measures import (
    Context,
)
from insats.charts import time_series
from insats.charts.common import chart_data
from insats.contract import ALLA
from insats.errors import DataError
from insats.reports.render import Section
from insats.reports.utvardering.common import (
    _missing,
    _names,
    _participations,
    _pct,
    _pp,
    _with_wilson,
    format_shown,
    intervention_labels,
    protect_shares,
)
from insats.text import format_number

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


def monthly_attendance(frame: pd.DataFrame, start, end) -> pd.DataFrame:
    """Mean attendance ratio per **start month** of the participations, ``fran`` to ``till``.

    The data hold one attendance figure per participation (not per month), so a participation is
    placed in the month it started; a reform that applies to participations started from a date
    shows as a jump at that month. Columns: ``manad`` (first day), ``narvaro`` (mean ratio), ``n``.
    Months without participations are left out.
    """
    start = pd.Timestamp(start).to_period("M").to_timestamp()
    end = pd.Timestamp(end).to_period("M").to_timestamp()
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


def section_attendance(ctx: Context, measures, reform_datum, *, min_cell: int = 5) -> Section:
    """Area 2: attendance by intervention, provider and area; interrupted time series at the reform."""
    s = Section("Närvarokrav")
    note = _missing(ctx.study, ["deltaganden", "personer"], "Närvaron")
    if note:
        s.note(note)
        s.conclusion = "Närvaron kan inte beräknas med de tabeller som finns."
        return s
    frame = attendance_frame(ctx)
    if frame.empty:
        s.note(
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
        s.table(f"Närvaro {caption.lower()}", format_shown(pub, {**cols, "grupp": (head, "text")}))
        if by == "omrade_kod":
            tot = pub.iloc[-1]
            s.findings["narvaro_andel_80"] = float(tot["andel"]) if pd.notna(tot["andel"]) else None
            s.findings["narvaro_median"] = float(tot["median"]) if pd.notna(tot["median"]) else None
    monthly = monthly_attendance(frame, ctx.params.start, ctx.params.end)
    s.extra["monthly"] = monthly
    try:
        its = interrupted_time_series(monthly, reform_datum)
    except DataError as exc:
        s.note(f"**Avbrutna tidsserien kan inte skattas:** {exc}")
        s.conclusion = _conclusion_attendance(s.findings, None, reform_datum)
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
    s.table("Segmenterad regression (procent respektive procentenheter; HAC/Newey–West-standardfel)", shown)
    published = monthly[monthly["n"] >= min_cell]
    if len(published) < len(monthly):
        s.note(
            f"{len(monthly) - len(published)} månader med färre än {min_cell} deltaganden visas inte i "
            "diagrammet (de ingår i regressionen)."
        )
    s.chart(its_chart(published, its, reform_datum))
    s.findings.update(
        {"narvaro_nivaforandring": its.level_change, "narvaro_lo": its.level_lo, "narvaro_hi": its.level_hi}
    )
    s.note(
        f"Avbruten tidsserie: medelnärvaron per startmånad ({its.n_before} månader före och {its.n_after} "
        f"efter reformen), segmenterad regression med nivå och trend före samt förändring i nivå och trend "
        f"vid reformen; standardfel robusta för autokorrelation (Newey–West, {its.maxlags} laggar)."
    )
    s.conclusion = _conclusion_attendance(s.findings, its, reform_datum)
    return s


def _conclusion_attendance(findings: dict, its: ItsResult | None, reform_datum) -> str:
    parts = []
    if findings.get("narvaro_median") is not None:
        parts.append(
            f"Mediannärvaron är {_pct(findings['narvaro_median'])}, och {_pct(findings.get('narvaro_andel_80'))} av "
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
