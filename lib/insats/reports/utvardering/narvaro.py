"""2. Närvarokrav: attendance by area and intervention, and the interrupted time series at the reform.

The time series is ``insats.analysis.its.interrupted_time_series`` (weighted by each month's number of
participations, AR(1) errors, critical values calibrated by simulation for the series' own design);
it is re-exported here under its public name.
"""

from __future__ import annotations

import altair as alt
import numpy as np
import pandas as pd

from insats.analysis.its import ItsResult, interrupted_time_series
from insats.analysis.measures import (
    Context,
)
from insats.charts import time_series
from insats.charts.common import chart_data, chart_title
from insats.charts.theme import TOTAL_COLOR
from insats.contract import ALLA
from insats.errors import DataError
from insats.reports.render import Section
from insats.reports.utvardering.avbrott import dropout_sentence, section_dropouts
from insats.reports.utvardering.common import (
    _missing,
    _names,
    _participations,
    _pct,
    _pp,
    _with_wilson,
    collecting,
    format_shown,
    intervention_labels,
    protect_shares,
    requirement_of,
)
from insats.reports.utvardering.delperioder import ATTENDANCE_COUNTS, protect_months, register_attendance_hierarchy
from insats.reports.utvardering.lov_regim import _regime_note, regime_change
from insats.text import format_number

# --------------------------------------------------------------------------- 2. närvaro


def attendance_frame(ctx: Context) -> pd.DataFrame:
    """Participations with an attendance ratio, as the measures ``narvaro_*`` define it:
    participations overlapping the period with planned hours > 0 and attended hours given;
    ``ratio = min(narvarotimmar / planerade_timmar, 1)``. Columns: ``omrade_kod``, ``insats_id``,
    ``namn``, ``kategori``, ``regi``, ``utforare``, ``start``, ``ratio``, ``narvarokrav`` (the
    intervention's ``narvarokrav`` in ``insatser``; None when unknown)."""
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
    out["narvarokrav"] = requirement_of(ctx, out["insats_id"])
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


def its_chart(monthly: pd.DataFrame, its: ItsResult, break_date, *, title: str = "Närvaro per startmånad"):
    """``charts.time_series`` of the monthly series with the reform rule, the model's fitted level and
    trend before and after the reform (dotted: the weighted fit of ``its``, not a line through the
    points shown), and the pre-reform line continued after the reform (grey, dashed: what the model
    expects without the reform). Only the months of ``monthly`` are drawn (the caller leaves out
    months with too few participations)."""

    chart = time_series(
        monthly,
        "manad",
        "narvaro",
        break_date=break_date,
        unit="andel",
        title=title,
        y_title="Närvaro (medelvärde)",
        break_label="Närvarokrav",
    )
    shown = its.fitted[its.fitted["manad"].isin(pd.to_datetime(monthly["manad"]))]
    fit = (
        alt.Chart(chart_data(shown[["manad", "fitted", "period"]]))
        .mark_line(strokeDash=[2, 2], strokeWidth=2, color=TOTAL_COLOR, opacity=0.8)
        .encode(
            x="manad:T",
            y="fitted:Q",
            detail="period:N",
            tooltip=[
                alt.Tooltip("manad:T", title="Månad", format="%B %Y"),
                alt.Tooltip("fitted:Q", title="Modellens nivå", format=".1%"),
            ],
        )
    )
    cf = shown[shown["period"] == "Efter"][["manad", "counterfactual"]]
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
    chart.layer = [*chart.layer, fit, extra]
    chart.title = chart_title(
        title,
        [
            *list(chart.title.subtitle),
            "Prickade linjer: modellens nivå och trend före och efter (vägd med antalet deltaganden per månad). "
            "Grå streckad linje: trenden före, förlängd.",
        ],
    )
    return chart


EFFECT_LABELS = {0: "Vid reformen", 6: "Efter 6 månader", 12: "Efter 12 månader"}
"""Swedish row labels of ``ItsResult.effects`` (months after the reform)."""


def _ci(lo: float, hi: float) -> str:
    return f"{_pp(lo)} till {_pp(hi)}"


def _excludes_zero(lo: float, hi: float) -> int:
    """+1 when the interval lies wholly above 0, −1 wholly below, 0 when it contains 0."""
    return 1 if lo > 0 else -1 if hi < 0 else 0


def _p_text(p: float, at_floor: bool) -> str:
    """A p-value for the method table: three decimals, or "< floor" at the simulation's resolution."""
    return f"< {format_number(p, 3)}" if at_floor else format_number(p, 3)


def effects_table(its: ItsResult) -> pd.DataFrame:
    """The effect of the reform at 0, 6 and 12 months (level and trend change together) for display."""
    rows = []
    for k, r in its.effects.iterrows():
        verdict = {
            1: "Säker ökning",
            -1: "Säker minskning",
            0: "Kan vara slumpen",
        }[_excludes_zero(r["lo"], r["hi"])]
        label = EFFECT_LABELS.get(int(k), f"Efter {int(k)} månader")
        if r["extrapolerad"]:
            label += " (bortom uppgifterna: trenden förlängd)"
        rows.append(
            {
                "Tid efter närvarokravet": label,
                "Förändring, procentenheter": _pp(r["skattning"]),
                "95 % konfidensintervall": _ci(r["lo"], r["hi"]),
                "Bedömning": verdict,
            }
        )
    return pd.DataFrame(rows)


def coefficients_table(its: ItsResult) -> pd.DataFrame:
    """The model's four coefficients with calibrated intervals and p-values (for the method note)."""
    coef = its.coefficients
    return pd.DataFrame(
        {
            "Parameter": [
                "Nivå före (vid seriens första månad), procent",
                "Trend före, procentenheter per månad",
                "Nivåförändring vid reformen, procentenheter",
                "Trendförändring, procentenheter per månad",
            ],
            "Skattning": [_pp(v) for v in coef["skattning"]],
            "95 % konfidensintervall": [_ci(a, b) for a, b in zip(coef["lo"], coef["hi"])],
            "p-värde": [_p_text(p, g) for p, g in zip(coef["p"], coef["p_golv"])],
        }
    )


def placebo_table(its: ItsResult) -> pd.DataFrame | None:
    """False reform dates in the pre-period: the change the model finds there (should be none)."""
    if its.placebo is None or its.placebo.empty:
        return None
    pl = its.placebo
    return pd.DataFrame(
        {
            "Falskt reformdatum": [pd.Timestamp(m).strftime("%Y-%m") for m in pl["manad"]],
            "Förändring, procentenheter": [_pp(v) for v in pl["skattning"]],
            "95 % konfidensintervall": [_ci(a, b) for a, b in zip(pl["lo"], pl["hi"])],
            "Bedömning": ["Förändring utöver slumpen" if u else "Ingen säker förändring" for u in pl["utanfor"]],
        }
    )


def _comparison(frame: pd.DataFrame, start, end, reform_datum) -> tuple[pd.DataFrame, ItsResult | None, str]:
    """The series the ITS is fitted to, and, where the data has one, a comparison series.

    Participations in interventions without the attendance requirement (``narvarokrav`` Nej) are a
    comparison series when they have enough months on both sides of the reform; the treated series is
    then the participations in interventions with the requirement, and the model is also fitted to the
    difference (``ItsResult.comparison``). Otherwise the series is every participation and there is no
    comparison. Returns (treated monthly series, result or None, a Swedish note)."""
    req = frame["narvarokrav"]
    without = frame[req.map(lambda v: v is False)]
    with_req = frame[req.map(lambda v: v is True)]
    if without.empty or with_req.empty:
        return monthly_attendance(frame, start, end), None, ""
    treated = monthly_attendance(with_req, start, end)
    control = monthly_attendance(without, start, end)
    try:
        res = interrupted_time_series(treated, reform_datum, comparison=control)
    except DataError as exc:
        note = (
            "Jämförelseserie saknas: insatserna utan närvarokrav har för få månader med deltaganden på "
            f"någon sida om reformen ({exc})"
        )
        return monthly_attendance(frame, start, end), None, note
    return treated, res, ""


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
        section_dropouts(s, ctx, reform_datum, min_cell=min_cell)
        s.conclusion = " ".join(p for p in ("Närvaron kan inte beräknas.", dropout_sentence(s.findings)) if p)
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
        if by == "insats_id":  # interventions add up to their providers: one model for both tables (R9, R10)
            register_attendance_hierarchy(frame)
        pub = protect_shares(
            t,
            min_cell,
            key=by,
            values=("andel", "lo", "hi", "median", "medel"),
            counts=None if by == "omrade_kod" else ATTENDANCE_COUNTS,
        )
        s.table(f"Närvaro {caption.lower()}", format_shown(pub, {**cols, "grupp": (head, "text")}))
        if by == "utforare":
            change = regime_change(ctx, reform_datum)
            if change is not None:  # the providers' table spans the day the LOV providers started
                s.note(
                    _regime_note(change)
                    + " Det gäller också närvaron per utförare ovan, som räknas över hela perioden; tabellen med "
                    "utförarnas tider och jämförelsen *samma månader* finns i avsnittet Valfrihet och LOV."
                )
        if by == "omrade_kod":
            tot = pub.iloc[-1]
            s.findings["narvaro_andel_80"] = float(tot["andel"]) if pd.notna(tot["andel"]) else None
            for end in ("lo", "hi"):  # the Wilson interval: threshold recommendations fire on it
                s.findings[f"narvaro_andel_80_{end}"] = float(tot[end]) if pd.notna(tot[end]) else None
            s.findings["narvaro_median"] = float(tot["median"]) if pd.notna(tot["median"]) else None
    monthly, its, comp_note = _comparison(frame, ctx.params.start, ctx.params.end, reform_datum)
    treated = its is not None  # the series is the interventions with the requirement, beside a comparison series
    s.extra["monthly"] = monthly
    try:
        if its is None:
            its = interrupted_time_series(monthly, reform_datum)
    except DataError as exc:
        s.note(f"**Avbrutna tidsserien kan inte skattas:** {exc}")
        section_dropouts(s, ctx, reform_datum, min_cell=min_cell)
        s.conclusion = _conclusion_attendance(s.findings, None, reform_datum)
        return s
    s.extra["its"] = its
    s.table("Närvarokravets effekt på närvaron (procentenheter, nivå och trend tillsammans)", effects_table(its))
    with_req = frame["narvarokrav"].map(lambda v: v is True).to_numpy(bool)
    hidden = protect_months(
        monthly,
        min_cell,
        total=float(with_req.sum() if treated else len(frame)),
        treated_ids=sorted(set(frame.loc[with_req, "insats_id"].astype(str))) if treated else None,
    )
    published = monthly[~hidden]
    if hidden.any():
        s.note(
            f"{int(hidden.sum())} av seriens månader visas inte i diagrammet (de ingår i beräkningen): månader med "
            f"färre än {min_cell} deltaganden, och månader som annars skulle göra det möjligt att räkna fram en sådan "
            "ur årens och periodens antal."
        )
    if not collecting():
        s.chart(its_chart(published, its, reform_datum))
    pl = placebo_table(its)
    if pl is not None:
        s.table("Kontroll: förändring vid falska reformdatum före närvarokravet", pl)
    elif its.placebo_note:
        s.note(its.placebo_note)
    if its.comparison is not None:
        c = its.comparison.effects
        s.table(
            "Jämfört med insatser utan närvarokrav (skillnad i förändring, procentenheter)",
            effects_table(its.comparison),
        )
        s.findings["narvaro_jamforelse_effekt"] = float(c.loc[0, "skattning"])
        s.findings["narvaro_jamforelse_lo"] = float(c.loc[0, "lo"])
        s.findings["narvaro_jamforelse_hi"] = float(c.loc[0, "hi"])
    elif comp_note:
        s.note(comp_note)
    s.findings.update(_its_findings(its))
    s.method_note(
        "**Närvarokravet: avbruten tidsserie.** "
        + its.method
        + (
            " Serien är deltaganden i insatser med närvarokrav; jämförelseserien är deltaganden i insatser utan "
            "närvarokrav, och modellen skattas också på skillnaden mellan serierna."
            if its.comparison is not None
            else ""
        )
        + " Effekten efter 6 och 12 månader är nivåförändringen plus trendförändringen under så många månader. "
        "Kontrollen med falska reformdatum lägger till ett påhittat reformdatum före det verkliga; där ska ingen "
        "förändring synas. Modellens skattningar står i tabellen nedan (se `docs/antaganden.md`, S1–S6)."
    )
    s.method_table("Närvarokravet: modellens skattningar", coefficients_table(its))
    section_dropouts(s, ctx, reform_datum, min_cell=min_cell)
    s.conclusion = _conclusion_attendance(s.findings, its, reform_datum)
    return s


def _its_findings(its: ItsResult) -> dict:
    """The key numbers of the time series for conclusions and recommendations."""
    eff = its.effects
    out: dict = {
        "narvaro_nivaforandring": its.level_change,
        "narvaro_lo": its.level_lo,
        "narvaro_hi": its.level_hi,
    }
    if 12 in eff.index:
        r = eff.loc[12]
        out.update(
            {
                "narvaro_effekt_12": float(r["skattning"]),
                "narvaro_effekt_12_lo": float(r["lo"]),
                "narvaro_effekt_12_hi": float(r["hi"]),
                "narvaro_effekt_12_extrapolerad": bool(r["extrapolerad"]),
            }
        )
    if its.placebo is not None and len(its.placebo):
        out["narvaro_placebo_antal"] = len(its.placebo)
        out["narvaro_placebo_utanfor"] = int(its.placebo["utanfor"].sum())
    return out


def attendance_verdict(findings: dict) -> dict | None:
    """What the calibrated time series says about the attendance requirement, from ``findings``.

    ``niva`` and ``tolv``: +1 / −1 / 0 when the 95 % interval of the effect at the reform / after 12
    months lies wholly above 0 / wholly below / contains 0 (``tolv`` None without the 12-month effect);
    ``placebo``: false reform dates with a change beyond chance (0 without the check); ``kind``:

    * ``"okning"`` / ``"minskning"``: both intervals on the same side of 0 (or only the reform's, when
      the 12-month effect is missing), and at most one false date with a change;
    * ``"osaker_varaktighet"``: a change at the reform, but the 12-month interval contains 0;
    * ``"gradvis"``: no change at the reform, a change after 12 months (a trend);
    * ``"motsagelse"``: the two point different ways;
    * ``"ingen"``: neither excludes 0;
    * ``"placebo"``: a change, but two or more false dates show changes too (the series moves by
      itself as much as at the reform);
    * ``"oenig"``: a change at the reform, but the comparison with interventions without the
      requirement (difference in differences, ``narvaro_jamforelse_lo``/``_hi``) does not show the same
      change: its interval contains 0 or lies on the other side. Something that moved every
      intervention at the same time can explain the series' change, so the two analyses disagree.

    ``jamforelse``: +1 / −1 / 0 for the comparison's interval at the reform, None without a comparison
    series. None when the level change is missing."""

    def num(k):
        v = findings.get(k)
        return None if v is None or (isinstance(v, float) and np.isnan(v)) else float(v)

    lo, hi = num("narvaro_lo"), num("narvaro_hi")
    if lo is None or hi is None:
        return None
    niva = _excludes_zero(lo, hi)
    lo12, hi12 = num("narvaro_effekt_12_lo"), num("narvaro_effekt_12_hi")
    tolv = _excludes_zero(lo12, hi12) if lo12 is not None and hi12 is not None else None
    placebo = int(findings.get("narvaro_placebo_utanfor") or 0)
    clo, chi = num("narvaro_jamforelse_lo"), num("narvaro_jamforelse_hi")
    jamforelse = _excludes_zero(clo, chi) if clo is not None and chi is not None else None
    if niva == 0 and not tolv:
        kind = "ingen"
    elif placebo >= 2:
        kind = "placebo"
    elif niva != 0 and jamforelse is not None and jamforelse != niva and (tolv is None or tolv * niva >= 0):
        kind = "oenig"
    elif tolv is None or niva == tolv:
        kind = "okning" if niva > 0 else "minskning"
    elif tolv == 0:
        kind = "osaker_varaktighet"
    elif niva == 0:
        kind = "gradvis"
    else:
        kind = "motsagelse"
    return {"kind": kind, "niva": niva, "tolv": tolv, "placebo": placebo, "jamforelse": jamforelse}


def comparison_sentence(findings: dict, verdict: dict) -> str:
    """One plain Swedish sentence on the comparison with interventions without the requirement (empty
    without a comparison series): the difference in the change at the reform with its interval, and what
    it means beside the series' own change."""
    if verdict.get("jamforelse") is None:
        return ""
    e = findings["narvaro_jamforelse_effekt"]
    ci = _ci(findings["narvaro_jamforelse_lo"], findings["narvaro_jamforelse_hi"])
    diff = (
        f"Jämfört med insatser utan närvarokrav, som ändrades samtidigt, var förändringen vid reformen {_pp(e)} "
        f"procentenheter {'större' if e >= 0 else 'mindre'} i insatser med krav ({ci})"
    )
    if verdict["kind"] == "oenig":
        return (
            f"{diff}. De två jämförelserna säger olika saker: närvaron ändrades, men lika mycket kan ha ändrats "
            "i insatser utan krav, så förändringen kan bero på något som hände alla insatser samtidigt och inte "
            "på kravet. Jämförelsen med insatser utan krav väger tyngst, eftersom den räknar bort det som hände "
            "alla samtidigt."
        )
    if verdict["jamforelse"] != 0 and verdict["jamforelse"] == verdict["niva"]:
        return f"{diff}: förändringen syns också när det som hände alla insatser samtidigt räknas bort."
    if verdict["jamforelse"] != 0:
        return (
            f"{diff}: när det som hände alla insatser samtidigt räknas bort syns en förändring som serien ensam "
            "inte visar säkert."
        )
    return f"{diff}."


def _conclusion_attendance(findings: dict, its: ItsResult | None, reform_datum) -> str:
    return " ".join(p for p in (_conclusion_its(findings, its, reform_datum), dropout_sentence(findings)) if p)


def _conclusion_its(findings: dict, its: ItsResult | None, reform_datum) -> str:
    parts = []
    if findings.get("narvaro_median") is not None:
        parts.append(
            f"Mediannärvaron är {_pct(findings['narvaro_median'])}, och {_pct(findings.get('narvaro_andel_80'))} av "
            "deltagandena har minst 80 % närvaro."
        )
    verdict = attendance_verdict(findings) if its is not None else None
    if its is not None and verdict is not None:
        when = pd.Timestamp(reform_datum).strftime("%Y-%m")
        v, lo, hi = findings["narvaro_nivaforandring"], findings["narvaro_lo"], findings["narvaro_hi"]
        direction = "steg" if v > 0 else "sjönk"
        at_reform = (
            f"När närvarokravet infördes ({when}) {direction} närvaron med {_pp(abs(v))} procentenheter "
            f"(95 % konfidensintervall {_ci(lo, hi)})"
        )
        twelve = ""
        if findings.get("narvaro_effekt_12") is not None:
            e = findings["narvaro_effekt_12"]
            twelve = (
                f"efter 12 månader är skillnaden mot trenden före {_pp(e)} procentenheter "
                f"({_ci(findings['narvaro_effekt_12_lo'], findings['narvaro_effekt_12_hi'])}"
                + ("; trenden förlängd bortom uppgifterna" if findings.get("narvaro_effekt_12_extrapolerad") else "")
                + ")"
            )
        kind = verdict["kind"]
        if kind in ("okning", "minskning"):
            parts.append(
                f"{at_reform}, {twelve + ', ' if twelve else ''}en förändring som är större än slumpen och "
                "trenden före kan förklara."
            )
        elif kind == "osaker_varaktighet":
            parts.append(
                f"{at_reform}, mer än slumpen kan förklara. Om förändringen håller i sig är däremot osäkert: "
                f"{twelve}, och det intervallet rymmer både ingen förändring och en större."
            )
        elif kind == "gradvis":
            parts.append(
                f"Vid reformen ({when}) syns ingen säker förändring ({_pp(v)} procentenheter, {_ci(lo, hi)}), "
                f"men närvaron ändrades gradvis: {twelve}."
            )
        elif kind == "motsagelse":
            parts.append(
                f"{at_reform}, men {twelve}: förändringen vid reformen och efter ett år pekar åt olika håll, så "
                "ingen slutsats om kravets effekt kan dras."
            )
        elif kind == "oenig":
            parts.append(f"{at_reform}" + (f", och {twelve}" if twelve else "") + ".")
        elif kind == "placebo":
            parts.append(
                f"{at_reform}, men lika stora förändringar syns vid {verdict['placebo']} påhittade reformdatum före "
                "kravet: serien rör sig av sig själv, och förändringen kan inte säkert tillskrivas kravet."
            )
        else:
            parts.append(
                f"När närvarokravet infördes ({when}) ändrades närvaron med {_pp(v)} procentenheter ({_ci(lo, hi)})"
                + (f" och {twelve}" if twelve else "")
                + ": ingen förändring som är större än slumpen kan förklara."
            )
        if verdict["placebo"] == 1 and kind != "placebo":
            parts.append(
                "Vid ett av de påhittade reformdatumen före kravet syns också en förändring; det kan vara slumpen, "
                "men resultatet bör läsas med försiktighet."
            )
        comp = comparison_sentence(findings, verdict)
        if comp:
            parts.append(comp)
    return " ".join(parts)
