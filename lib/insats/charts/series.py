"""Time series: monthly lines with the reform marked (the interrupted time series)."""

from __future__ import annotations

import json
from typing import Any, cast

import altair as alt
import numpy as np
import pandas as pd

from insats.charts.accessible import accessible, series_reading
from insats.charts.common import (
    chart_data,
    chart_title,
    label_of,
    unit_of,
)
from insats.charts.theme import (
    FOCUS_COLOR,
    OTHER_COLOR,
    TIME_LOCALE,
    TOTAL_COLOR,
    d3_format,
    ensure_theme,
    format_value,
)
from insats.text import format_number

# --------------------------------------------------------------------------- time series


def time_series(
    frame: pd.DataFrame,
    x: str,
    y: str,
    *,
    break_date=None,
    color: str | None = None,
    focus: str | None = None,
    unit: str | None = None,
    title: str | None = None,
    x_title: str | None = None,
    y_title: str | None = None,
    color_title: str = "Område",
    break_label: str = "Reform",
    trend: bool = False,
) -> alt.LayerChart:
    """Lines of ``y`` over ``x`` for an interrupted time series.

    ``x`` may be dates (temporal axis, Swedish month names) or numbers (e.g. years). ``color``
    names a series column (e.g. area names); with ``focus`` one series is vermillion and the rest
    grey. ``break_date`` draws a dashed vertical rule labelled ``break_label``; ``trend=True`` adds
    a straight-line fit before and after the break (segmented regression, drawn per series).
    ``unit`` is a measure unit (``andel``, ``kr`` …) for the y format; ``y_title`` defaults to the
    measure label when ``y`` is a measure id.
    """
    ensure_theme()
    data = frame.copy()
    temporal = pd.api.types.is_datetime64_any_dtype(data[x]) or isinstance(break_date, (str, pd.Timestamp))
    if temporal:
        data[x] = pd.to_datetime(data[x])
    if unit is None:
        unit = unit_of(y)
    x_type = "T" if temporal else "Q"
    brk = pd.Timestamp(break_date) if (break_date is not None and temporal) else break_date
    if brk is not None:
        data["period"] = np.where(data[x] < brk, "Före", "Efter")
    ytitle = y_title or (label_of(y) if unit_of(y) else y)
    xtitle = x_title if x_title is not None else ("Månad" if temporal else x)
    x_enc = alt.X(
        f"{x}:{x_type}",
        title=xtitle,
        axis=alt.Axis(format="%b %Y" if temporal else "d", labelAngle=0 if not temporal else -30),
    )
    y_enc = alt.Y(f"{y}:Q", title=ytitle, axis=alt.Axis(format=d3_format(unit, axis=True)))
    tooltip = [
        alt.Tooltip(f"{x}:{x_type}", title=xtitle, format="%B %Y" if temporal else "d"),
        alt.Tooltip(f"{y}:Q", title=ytitle, format=d3_format(unit)),
    ]
    enc: dict = {"x": x_enc, "y": y_enc}
    if color:
        tooltip.insert(0, alt.Tooltip(f"{color}:N", title=color_title))
        if focus is not None:
            enc["color"] = alt.condition(
                f"datum[{json.dumps(color)}] === {json.dumps(focus)}", alt.value(FOCUS_COLOR), alt.value(OTHER_COLOR)
            )
            enc["detail"] = f"{color}:N"
        else:
            enc["color"] = alt.Color(f"{color}:N", title=color_title)
    base = alt.Chart(chart_data(data))
    lines = base.mark_line(point=alt.OverlayMarkDef(size=40, filled=True)).encode(tooltip=tooltip, **enc)
    layers: list = [lines]
    if focus is not None and color:
        layers = [
            lines.transform_filter(f"datum[{json.dumps(color)}] !== {json.dumps(focus)}"),
            lines.transform_filter(f"datum[{json.dumps(color)}] === {json.dumps(focus)}"),
        ]
    if color:
        # each line ends in its series' name, so no line is told apart by colour alone
        last = data.dropna(subset=[y]).sort_values(x).groupby(color, sort=False).tail(1)
        layers.append(
            alt.Chart(chart_data(last))
            .mark_text(align="left", dx=6, fontSize=12, color="#222222")
            .encode(x=f"{x}:{x_type}", y=f"{y}:Q", text=f"{color}:N")
        )
    if trend and brk is not None:
        groups: list[Any] = ["period"] + ([color] if color else [])
        fit = (
            base.transform_regression(x, y, groupby=groups)
            .mark_line(strokeDash=[2, 2], strokeWidth=2, color=TOTAL_COLOR, opacity=0.8)
            .encode(x=f"{x}:{x_type}", y=f"{y}:Q", detail=[alt.Detail(f"{g}:N") for g in groups])
        )  # one line per segment
        fit = fit.transform_filter("true")
        layers.append(fit)
    subtitle = None
    if brk is not None:
        when = brk.strftime("%Y-%m-%d") if isinstance(brk, pd.Timestamp) else str(brk)
        rule_frame = pd.DataFrame({x: [when if temporal else brk], "etikett": [break_label]})
        rule = (
            alt.Chart(chart_data(rule_frame))
            .mark_rule(strokeDash=[6, 4], color=TOTAL_COLOR, strokeWidth=2)
            .encode(
                x=f"{x}:{x_type}",
                tooltip=[
                    alt.Tooltip("etikett:N", title="Händelse"),
                    alt.Tooltip(
                        f"{x}:{x_type}", title="Datum" if temporal else xtitle, format="%-d %B %Y" if temporal else "d"
                    ),
                ],
            )
        )
        label_mark = (
            alt.Chart(chart_data(rule_frame))
            .mark_text(align="left", dx=5, dy=-4, baseline="bottom", fontWeight="bold")
            .encode(x=f"{x}:{x_type}", y=alt.value(0), text="etikett:N")
        )
        layers += [rule, label_mark]
        subtitle = f"Streckad linje: {break_label.lower()}" + (
            f" ({format_number(brk.day)} {TIME_LOCALE['months'][brk.month - 1]} {brk.year})." if temporal else "."
        )
        if trend:
            subtitle += " Prickade linjer: linjär trend före och efter."
    chart = alt.layer(*layers).properties(title=chart_title(title or ytitle, subtitle), width=560, height=300)

    def x_text(v) -> str:
        if temporal:
            v = pd.Timestamp(v)
            return f"{TIME_LOCALE['months'][v.month - 1]} {v.year}"
        return format_number(v)

    def y_text(v) -> str:
        return format_value(v, unit) if unit else format_number(v, 2)

    shown = data.sort_values(x)
    if color:
        table = shown.pivot_table(index=x, columns=color, values=y, aggfunc="first", sort=False)
        table = table.reindex(sorted(table.index))
    else:
        table = shown.set_index(x)[[y]].rename(columns={y: ytitle})
    table = table.map(lambda v: y_text(v) if pd.notna(v) else "")
    table.index = [x_text(v) for v in table.index]
    table = table.reset_index(names=xtitle)
    table.columns.name = None
    series_desc = f", en linje per {color_title.lower()}" if color else ""
    what = f"Linjediagram: {ytitle.lower()} över tid{series_desc}" + (
        f"; streckad linje vid {break_label.lower()}." if brk is not None else "."
    )
    data_for_reading = data
    if color and focus is not None:  # the focus series first
        data_for_reading = pd.concat([data[data[color] == focus], data[data[color] != focus]])
    reading = series_reading(data_for_reading, x, y, series=color, x_text=x_text, y_text=y_text)
    chart = accessible(chart, what=what, reading=reading, table=table, caption=ytitle)
    return cast(alt.LayerChart, chart)  # no facet encodings in the layers: alt.layer gives a LayerChart
