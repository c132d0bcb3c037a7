"""Trends: one small panel per area with a measure's published value per calendar year, the whole
study as a dashed reference line in every panel.

Input is the long trend table (``insats.reports.trend.trend_table``: ``matt``, ``ar``, ``omrade_kod``,
``varde``, ``undertryckt`` …), one row per measure, year and area, as published for each year.
A suppressed value is never drawn and never put in the spec: its point is simply absent and the
line breaks there (a line is only drawn between consecutive years that are both shown); the table
shows ``..`` and the reading says which areas have hidden years.
"""

from __future__ import annotations

from collections.abc import Mapping

import altair as alt
import numpy as np
import pandas as pd

from insats.analysis.privacy import SUPPRESSED, footnote
from insats.charts.accessible import accessible, trend_reading
from insats.charts.common import area_name_map, chart_data, chart_title, label_of, names_of, unit_of
from insats.charts.theme import (
    BASE_COLOR,
    FOCUS_COLOR,
    TOTAL_COLOR,
    change_unit,
    d3_format,
    ensure_theme,
    format_change,
    format_value,
)
from insats.contract import ALLA, CENTRAL
from insats.text import swedish_key

AREA_SERIES = "Området"
TOTAL_SERIES = "Hela studien"


def _measure_part(long: pd.DataFrame, matt: str) -> pd.DataFrame:
    """One measure's rows (``CENTRAL`` left out: it is not an area); a suppressed row keeps no number."""
    part = long[(long["matt"] == matt) & (long["omrade_kod"].astype(str) != CENTRAL)].copy()
    if part.empty:
        raise ValueError(f"Måttet {matt!r} finns inte i tabellen.")
    part["omrade_kod"] = part["omrade_kod"].astype(str)
    part["ar"] = part["ar"].astype(int)
    part["varde"] = pd.to_numeric(part["varde"], errors="coerce").astype(float)
    part["undertryckt"] = part["undertryckt"].fillna(False).astype(bool).to_numpy()
    part.loc[part["undertryckt"], "varde"] = np.nan
    for col in ("taljare", "namnare"):
        if col in part:
            part.loc[part["undertryckt"], col] = np.nan
    return part


def trend_wide(
    long: pd.DataFrame, matt: str, names: Mapping[str, str], *, total_name: str | None = None
) -> pd.DataFrame:
    """The display table of one measure: areas (by name, Swedish order, the whole study last) as rows,
    one column per year with the value as shown (``..`` where suppressed, empty where there is none),
    and — with two years or more — the change from the first year to the last, only where both are
    shown (shares in percentage points)."""
    part = _measure_part(long, matt)
    unit = unit_of(matt)
    # per area and year: the first value that is a number, and whether any row is suppressed (read
    # from plain lists: a profile's rows are few, and two pivot tables cost more than the rest)
    values: dict[tuple[str, int], float] = {}
    hidden: dict[tuple[str, int], bool] = {}
    for code, year, v, h in zip(
        part["omrade_kod"].tolist(), part["ar"].tolist(), part["varde"].tolist(), part["undertryckt"].tolist()
    ):
        cell = (code, year)
        if cell not in values or (np.isnan(values[cell]) and not np.isnan(v)):
            values[cell] = v
        hidden[cell] = hidden.get(cell, False) or bool(h)
    years = sorted({y for _, y in values})
    present = {c for c, _ in values}
    codes = sorted((c for c in present if c != ALLA), key=lambda c: swedish_key(names.get(c, c)))
    order = codes + ([ALLA] if ALLA in present else [])

    def value(c: str, y: int) -> float:
        return values.get((c, y), np.nan)

    table = pd.DataFrame(index=order)
    for y in years:
        table[str(y)] = [SUPPRESSED if hidden.get((c, y), False) else format_value(value(c, y), unit) for c in order]
    if len(years) >= 2:
        a, b = years[0], years[-1]
        word = change_unit(unit)
        column = f"Förändring {a}–{b}" + (f" ({word})" if word else "")
        table[column] = [
            SUPPRESSED
            if (hidden.get((c, a), False) or hidden.get((c, b), False))
            else format_change(value(c, b) - value(c, a), unit)
            for c in order
        ]
    labels = names_of(codes, dict(names)) + ([total_name or names.get(ALLA, TOTAL_SERIES)] if ALLA in order else [])
    table.index = pd.Index(labels, name="Område")
    table.columns.name = None
    return table


def _segments(years: pd.Series, all_years: list[int]) -> pd.Series:
    """A run number per shown year: consecutive shown years share one, so a line never bridges a
    hidden or missing year."""
    shown = {int(y) for y in years}
    run, runs = 0, {}
    for y in all_years:
        if y in shown:
            runs[y] = run
        else:
            run += 1
    return years.map(runs)


def trend_small_multiples(
    long: pd.DataFrame,
    matt: str,
    *,
    focus: str | None = None,
    omraden: pd.DataFrame | Mapping | None = None,
    min_cell: int = 5,
    title: str | None = None,
    columns: int = 4,
) -> alt.FacetChart:
    """Small multiples of one measure over the years: a panel per area (the ``focus`` area first and
    in vermillion), the whole study (``ALLA``) dashed in every panel, a shared y axis. Suppressed
    values are not drawn (the line breaks there); the subtitle and the reading say so."""
    ensure_theme()
    names = area_name_map(omraden)
    part = _measure_part(long, matt)
    unit = unit_of(matt)
    label = label_of(matt)
    years = sorted(part["ar"].unique())
    codes = sorted((c for c in part["omrade_kod"].unique() if c != ALLA), key=lambda c: swedish_key(names.get(c, c)))
    if focus is not None and str(focus) in codes:
        codes = [str(focus)] + [c for c in codes if c != str(focus)]
    shown_names = dict(zip(codes, names_of(codes, names)))
    total = part[part["omrade_kod"] == ALLA].set_index("ar")["varde"].reindex(years)

    rows = []
    for code in codes:
        own = part[(part["omrade_kod"] == code) & part["varde"].notna()]
        tot = part[(part["omrade_kod"] == ALLA) & part["varde"].notna()]
        for series, frame in ((AREA_SERIES, own), (TOTAL_SERIES, tot)):
            if frame.empty:
                continue
            rows.append(
                pd.DataFrame(
                    {
                        "omrade": shown_names[code],
                        "serie": series,
                        "ar": frame["ar"].to_numpy(),
                        "varde": frame["varde"].to_numpy(),
                        "varde_text": [format_value(v, unit) for v in frame["varde"]],
                        "segment": _segments(frame["ar"], years).to_numpy(),
                        "fokus": series == AREA_SERIES and code == str(focus),
                    }
                )
            )
    fields = ["omrade", "serie", "ar", "varde", "varde_text", "segment", "fokus"]
    data = pd.concat(rows, ignore_index=True) if rows else pd.DataFrame(columns=fields)
    data["ar"] = data["ar"].astype(str)

    series_domain = [AREA_SERIES, TOTAL_SERIES]
    color = alt.Color(
        "serie:N",
        title=None,
        sort=series_domain,
        scale=alt.Scale(domain=series_domain, range=[BASE_COLOR, TOTAL_COLOR]),
        legend=alt.Legend(orient="top"),
    )
    color_enc = alt.condition("datum.fokus", alt.value(FOCUS_COLOR), color) if focus is not None else color
    x = alt.X("ar:O", title="År", sort=[str(y) for y in years], axis=alt.Axis(labelAngle=0))
    y = alt.Y("varde:Q", title=label, axis=alt.Axis(format=d3_format(unit, axis=True)), scale=alt.Scale(zero=True))
    tooltip = [
        alt.Tooltip("omrade:N", title="Område"),
        alt.Tooltip("serie:N", title="Linje"),
        alt.Tooltip("ar:O", title="År"),
        alt.Tooltip("varde_text:N", title=label),
    ]
    base = alt.Chart(chart_data(data))
    lines = base.mark_line(strokeWidth=2).encode(
        x=x,
        y=y,
        color=color_enc,
        strokeDash=alt.StrokeDash(
            "serie:N", sort=series_domain, scale=alt.Scale(domain=series_domain, range=[[1, 0], [5, 3]]), legend=None
        ),
        detail="segment:N",
        tooltip=tooltip,
    )
    points = base.mark_point(filled=True, size=45).encode(
        x=x,
        y=y,
        color=color_enc,
        shape=alt.Shape(
            "serie:N",
            sort=series_domain,
            scale=alt.Scale(domain=series_domain, range=["circle", "square"]),
            legend=None,
        ),
        tooltip=tooltip,
    )
    hidden_codes = [c for c in codes if part.loc[part["omrade_kod"] == c, "undertryckt"].any()]
    span = f"{years[0]}–{years[-1]}" if len(years) > 1 else f"{years[0]}"
    subtitle = [f"Heldragen linje och ringar: området; streckad linje och fyrkanter: hela studien. År {span}."]
    if part["undertryckt"].any():
        subtitle.append(footnote(min_cell) + "; dolda värden ritas inte.")
    chart = (
        alt.layer(lines, points)
        .properties(width=150, height=110)
        .facet(
            facet=alt.Facet(
                "omrade:N", title=None, sort=[shown_names[c] for c in codes], header=alt.Header(labelFontSize=13)
            ),
            columns=columns,
        )
        .properties(title=chart_title(title or f"{label} per år och område", subtitle))
    )

    table = trend_wide(long, matt, names, total_name=TOTAL_SERIES)
    wide_values = part[part["omrade_kod"] != ALLA].pivot_table(
        index="omrade_kod", columns="ar", values="varde", aggfunc="first", dropna=False
    )
    wide_values = wide_values.reindex(index=codes, columns=years)
    wide_values.index = [shown_names[c] for c in codes]
    word = change_unit(unit)

    def change_text(d) -> str:
        return format_change(d, unit) + (f" {word}" if word else "")

    reading = trend_reading(
        wide_values,
        label=label,
        value_text=lambda v: format_value(v, unit),
        change_text=change_text,
        total=total,
        hidden=[shown_names[c] for c in hidden_codes],
    )
    what = f"Små diagram, ett per område: {label.lower()} per år ({span}), med hela studien som streckad linje i varje diagram."
    return accessible(chart, what=what, reading=reading, table=table.reset_index(), caption=f"{label} per år")
