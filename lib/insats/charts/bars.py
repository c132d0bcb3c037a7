"""Bar charts: areas ranked by a measure, and money per area by category."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import cast

import altair as alt
import numpy as np
import pandas as pd

from insats import contract
from insats.analysis.privacy import SUPPRESSED, footnote
from insats.analysis.stats import wilson_interval
from insats.charts.accessible import accessible, ranking_reading, spending_reading
from insats.charts.common import (
    area_name_map,
    bold_expr,
    chart_data,
    chart_title,
    label_of,
    measure_rows,
    names_of,
    unit_of,
)
from insats.charts.theme import (
    BASE_COLOR,
    CATEGORY_COLORS,
    FOCUS_COLOR,
    MUTED_COLOR,
    OTHER_COLOR,
    PALETTE,
    TOTAL_COLOR,
    UNIT_WORD,
    d3_format,
    ensure_theme,
    format_value,
)
from insats.contract import ALLA, CENTRAL

# --------------------------------------------------------------------------- ranked bars


def ranked_bars(
    long: pd.DataFrame,
    matt: str,
    *,
    focus: str | None = None,
    intervals: bool = True,
    omraden: pd.DataFrame | Mapping | None = None,
    min_cell: int = 5,
    title: str | None = None,
) -> alt.LayerChart:
    """Areas sorted by one measure of the long measures table (largest first).

    * bars per area; the ``focus`` area (an ``omrade_kod``) in vermillion and bold, the others grey;
    * error bars when ``intervals``: a Wilson 95 % interval for shares with ``taljare``/``namnare``
      (``insats.analysis.stats.wilson_interval``), the score interval of the case-mix model for
      ``justerat_utfall_oe`` (its ``_lo``/``_hi`` rows, ``insats.analysis.stats.observed_expected``: the
      binomial variance of O − E less what the model's fit absorbs, not a Poisson interval), or ``lo``/``hi``
      columns when the table has them;
    * a dashed rule at the whole study's value (``ALLA``);
    * suppressed areas (``undertryckt``) last, with ``..`` instead of a bar — never as zero — and
      the footnote that explains ``..`` in the subtitle.
    """
    ensure_theme()
    names = area_name_map(omraden)
    areas, alla = measure_rows(long, matt, names)
    unit = unit_of(matt)
    label = label_of(matt)

    areas["lo"], areas["hi"] = np.nan, np.nan
    interval_note = ""
    if intervals:
        if {"lo", "hi"} <= set(long.columns):
            src = long[(long["matt"] == matt) & (long["omrade_kod"].astype(str) != ALLA)]
            lookup = src.set_index(src["omrade_kod"].astype(str))
            areas["lo"] = areas["omrade_kod"].map(pd.to_numeric(lookup["lo"], errors="coerce"))
            areas["hi"] = areas["omrade_kod"].map(pd.to_numeric(lookup["hi"], errors="coerce"))
            interval_note = "Linjerna: 95 % konfidensintervall."
        elif matt == "justerat_utfall_oe" and {"justerat_utfall_oe_lo", "justerat_utfall_oe_hi"} <= set(long["matt"]):
            for col, mid in (("lo", "justerat_utfall_oe_lo"), ("hi", "justerat_utfall_oe_hi")):
                src = long[long["matt"] == mid]
                areas[col] = areas["omrade_kod"].map(
                    dict(zip(src["omrade_kod"].astype(str), pd.to_numeric(src["varde"], errors="coerce")))
                )
            interval_note = "Linjerna: 95 % konfidensintervall."
        elif unit == "andel" and areas["taljare"].notna().any():
            lo, hi = wilson_interval(areas["taljare"].to_numpy(), areas["namnare"].to_numpy())
            areas["lo"], areas["hi"] = lo, hi
            interval_note = "Linjerna: 95 % konfidensintervall."
        areas.loc[areas["undertryckt"], ["lo", "hi"]] = np.nan
        if not areas["lo"].notna().any():
            interval_note = ""

    areas["varde_text"] = [
        SUPPRESSED if s else format_value(v, unit) for v, s in zip(areas["varde"], areas["undertryckt"])
    ]
    areas["intervall_text"] = [
        f"{format_value(a, unit)} – {format_value(b, unit)}" if np.isfinite(a) and np.isfinite(b) else ""
        for a, b in zip(areas["lo"], areas["hi"])
    ]
    areas["fokus"] = areas["omrade_kod"] == str(focus) if focus is not None else False
    shown = areas[~areas["undertryckt"] & areas["varde"].notna()].sort_values("varde", ascending=False)
    rest = areas.drop(shown.index).sort_values("omrade")
    order = list(shown["omrade"]) + list(rest["omrade"])
    focus_name = names.get(str(focus), str(focus)) if focus is not None else None
    focus_name = next((n for n, c in zip(areas["omrade"], areas["omrade_kod"]) if c == str(focus)), focus_name)

    data = chart_data(areas)
    y = alt.Y("omrade:N", sort=order, title=None, axis=alt.Axis(**bold_expr(focus_name)))
    tooltip = [alt.Tooltip("omrade:N", title="Område"), alt.Tooltip("varde_text:N", title=label)]
    if interval_note:
        tooltip.append(alt.Tooltip("intervall_text:N", title="95 % konfidensintervall"))
    if areas["namnare"].notna().any():
        tooltip.append(alt.Tooltip("taljare:Q", title="Täljare", format=",.0f"))
        tooltip.append(alt.Tooltip("namnare:Q", title="Nämnare", format=",.0f"))
    color = (
        alt.condition("datum.fokus", alt.value(FOCUS_COLOR), alt.value(OTHER_COLOR))
        if focus is not None
        else alt.value(BASE_COLOR)
    )
    x_title = label + (f" ({UNIT_WORD[unit]})" if unit in UNIT_WORD and UNIT_WORD[unit] not in label else "")
    base = alt.Chart(data)
    bars = (
        base.mark_bar(height={"band": 0.75})
        .transform_filter("!datum.undertryckt && isValid(datum.varde)")
        .encode(
            x=alt.X(
                "varde:Q", title=x_title, axis=alt.Axis(format=d3_format(unit, axis=True)), scale=alt.Scale(zero=True)
            ),
            y=y,
            color=color,
            tooltip=tooltip,
        )
    )
    layers: list = [bars]
    if interval_note:
        layers.append(
            base.mark_rule(color="#222222", strokeWidth=1.5)
            .transform_filter("isValid(datum.lo) && isValid(datum.hi)")
            .encode(x="lo:Q", x2="hi:Q", y=y, tooltip=tooltip)
        )
    subtitle = []
    if alla is not None and np.isfinite(alla["varde"]):
        total_text = format_value(alla["varde"], unit)
        tot = chart_data(
            pd.DataFrame({"varde": [float(alla["varde"])], "varde_text": [total_text], "omrade": ["Alla områden"]})
        )
        layers.append(
            alt.Chart(tot)
            .mark_rule(color=TOTAL_COLOR, strokeDash=[6, 4], strokeWidth=2)
            .encode(
                x="varde:Q", tooltip=[alt.Tooltip("omrade:N", title="Område"), alt.Tooltip("varde_text:N", title=label)]
            )
        )
        subtitle.append(f"Streckad linje: alla områden, {total_text}.")
    if areas["undertryckt"].any():
        layers.append(
            base.mark_text(align="left", baseline="middle", dx=4, color=MUTED_COLOR, fontSize=15, fontWeight="bold")
            .transform_filter("datum.undertryckt")
            .encode(
                x=alt.value(0),
                y=y,
                text=alt.value(SUPPRESSED),
                tooltip=[alt.Tooltip("omrade:N", title="Område"), alt.Tooltip("varde_text:N", title=label)],
            )
        )
        subtitle.append(footnote(min_cell) + ".")
    if interval_note:
        subtitle.append(interval_note)
    chart = alt.layer(*layers).properties(title=chart_title(title or label, subtitle), height=alt.Step(26), width=460)
    ordered = pd.concat([shown, rest])
    table = pd.DataFrame({"Område": ordered["omrade"], label: ordered["varde_text"]})
    if interval_note:
        table["95 % konfidensintervall"] = ordered["intervall_text"]
    total_shown = format_value(alla["varde"], unit) if alla is not None and np.isfinite(alla["varde"]) else None
    if total_shown:
        table = pd.concat([table, pd.DataFrame({"Område": ["Alla områden"], label: [total_shown]})]).fillna("")
    reading = ranking_reading(
        shown.set_index("omrade")["varde"],
        shown.set_index("omrade")["varde_text"],
        label=label,
        total=total_shown,
        hidden=len(rest),
    )
    what = f"Stapeldiagram: {label.lower()} per område, från högst till lägst" + (
        ", med 95 % konfidensintervall." if interval_note else "."
    )
    chart = accessible(chart, what=what, reading=reading, table=table, caption=f"{label} per område")
    return cast(alt.LayerChart, chart)  # no facet encodings in the layers: alt.layer gives a LayerChart


# --------------------------------------------------------------------------- spending


def spending_bars(
    medel: pd.DataFrame,
    *,
    omraden: pd.DataFrame | Mapping | None = None,
    ar: int | Sequence[int] | None = None,
    normalize: bool = False,
    focus: str | None = None,
    title: str | None = None,
) -> alt.Chart:
    """Money per area stacked by category (``medel`` table: ``omrade_kod, ar, kategori, belopp,
    raknas_som_insats``).

    Feriejobb has the strong vermillion and is stacked first (next to the axis), so differences in
    whether districts count summer jobs are visible at a glance; lines not counted as intervention
    are drawn paler (legend "Räknas som insats"). ``ar`` picks one or several years (default: all,
    summed); ``normalize=True`` shows each area's shares instead of kronor.
    """
    ensure_theme()
    names = area_name_map(omraden)
    m = medel.copy()
    if ar is not None:
        years = [ar] if isinstance(ar, (int, np.integer)) else list(ar)
        m = m[m["ar"].isin(years)]
    m["omrade_kod"] = m["omrade_kod"].astype(str)
    m["kategori"] = m["kategori"].astype(str)
    m["belopp"] = pd.to_numeric(m["belopp"], errors="coerce").fillna(0.0)
    if "raknas_som_insats" in m:
        m["raknas"] = np.where(m["raknas_som_insats"].fillna(False).astype(bool), "Ja", "Nej")
    else:
        m["raknas"] = "Ja"
    agg = m.groupby(["omrade_kod", "kategori", "raknas"], sort=False, as_index=False)["belopp"].sum()
    cat_codes = contract.codes("kategori_medel")
    order = ["feriejobb"] + [c for c in cat_codes if c != "feriejobb"]
    extra = sorted(set(agg["kategori"]) - set(order))
    order += extra
    agg["ordning"] = agg["kategori"].map({c: i for i, c in enumerate(order)})
    agg["kategori_namn"] = [contract.label("kategori_medel", c) for c in agg["kategori"]]
    codes_present = list(dict.fromkeys(agg["omrade_kod"]))
    area_names = dict(zip(codes_present, names_of(codes_present, names)))
    agg["omrade"] = agg["omrade_kod"].map(area_names)
    totals = agg.groupby("omrade_kod")["belopp"].transform("sum")
    agg["andel"] = np.where(totals > 0, agg["belopp"] / totals.where(totals > 0, 1), np.nan)
    agg["belopp_text"] = [format_value(v, "kr") for v in agg["belopp"]]
    by_area = agg.groupby("omrade")["belopp"].sum()
    feri = agg[agg["kategori"] == "feriejobb"].groupby("omrade")["belopp"].sum().reindex(by_area.index, fill_value=0)
    if normalize:
        y_order = list((feri / by_area.where(by_area > 0, 1)).sort_values(ascending=False).index)
    else:
        y_order = list(by_area.sort_values(ascending=False).index)
    central = area_names.get(CENTRAL)
    if central in y_order:
        y_order = [n for n in y_order if n != central] + [central]
    present = [c for c in order if c in set(agg["kategori"])]
    domain = [contract.label("kategori_medel", c) for c in present]
    colors = [CATEGORY_COLORS.get(c, PALETTE[i % len(PALETTE)]) for i, c in enumerate(present)]
    focus_name = area_names.get(str(focus)) if focus is not None else None
    value_field = "andel" if normalize else "belopp"
    x = alt.X(
        f"{value_field}:Q",
        stack="zero",
        title="Andel av områdets medel" if normalize else "Belopp (kr)",
        axis=alt.Axis(format=".0%" if normalize else "$,.0f"),
    )
    years = sorted(pd.Series(m["ar"]).dropna().astype(int).unique()) if "ar" in m else []
    year_text = (str(years[0]) if len(years) == 1 else f"{years[0]}–{years[-1]}, summerat") if years else ""
    chart = (
        alt.Chart(chart_data(agg))
        .mark_bar(stroke="#ffffff", strokeWidth=0.5)
        .encode(
            x=x,
            y=alt.Y("omrade:N", sort=y_order, title=None, axis=alt.Axis(**bold_expr(focus_name))),
            color=alt.Color(
                "kategori_namn:N",
                title="Kategori",
                sort=domain,
                scale=alt.Scale(domain=domain, range=colors),
                legend=alt.Legend(orient="right"),
            ),
            order=alt.Order("ordning:Q", sort="ascending"),
            opacity=alt.Opacity(
                "raknas:N",
                title="Räknas som insats",
                sort=["Ja", "Nej"],
                scale=alt.Scale(domain=["Ja", "Nej"], range=[1.0, 0.4]),
            ),
            tooltip=[
                alt.Tooltip("omrade:N", title="Område"),
                alt.Tooltip("kategori_namn:N", title="Kategori"),
                alt.Tooltip("belopp_text:N", title="Belopp"),
                alt.Tooltip("andel:Q", title="Andel av områdets medel", format=".1%"),
                alt.Tooltip("raknas:N", title="Räknas som insats"),
            ],
        )
    )
    subtitle = [
        s
        for s in (year_text and f"År: {year_text}.", "Feriejobb närmast axeln; blekare färg = räknas inte som insats.")
        if s
    ]
    chart = chart.properties(
        title=chart_title(
            title or ("Fördelning av medel per område" if normalize else "Medel per område och kategori"), subtitle
        ),
        width=480,
        height=alt.Step(26),
    )
    wide = agg.pivot_table(index="omrade", columns="kategori_namn", values="belopp", aggfunc="sum", fill_value=0.0)
    wide = wide.reindex(index=y_order, columns=[d for d in domain if d in wide.columns])
    table = wide.map(lambda v: format_value(v, "kr") if v else "–")
    table["Totalt"] = [format_value(v, "kr") for v in by_area.reindex(wide.index)]
    table = table.reset_index().rename(columns={"omrade": "Område"})
    table.columns.name = None

    def amount_text(v, share: bool = False) -> str:
        return format_value(v, "andel") if share else format_value(v, "kr")

    reading = spending_reading(
        by_area.drop([central] if central in by_area.index else []),
        feri / by_area.where(by_area > 0, 1),
        amount_text=amount_text,
    )
    what = (
        "Liggande staplar: varje områdes "
        + ("fördelning av medel" if normalize else "medel i kronor")
        + " uppdelade på kategorier"
        + (f" ({year_text})." if year_text else ".")
    )
    return accessible(chart, what=what, reading=reading, table=table, caption="Medel per område och kategori")
