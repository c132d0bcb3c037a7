"""The utbud matrix: places per area and category as a heat map."""

from __future__ import annotations

from collections.abc import Mapping
from typing import cast

import altair as alt
import numpy as np
import pandas as pd

from insats import contract
from insats.charts.accessible import accessible, matrix_reading
from insats.charts.common import (
    area_name_map,
    bold_expr,
    chart_data,
    chart_title,
    names_of,
)
from insats.charts.theme import (
    FOCUS_COLOR,
    ensure_theme,
)
from insats.contract import CENTRAL
from insats.text import format_number

# --------------------------------------------------------------------------- utbud matrix


def utbud_matrix(
    insatser_or_places: pd.DataFrame,
    *,
    omraden: pd.DataFrame | Mapping | None = None,
    focus: str | None = None,
    value: str = "platser",
    title: str | None = None,
) -> alt.LayerChart:
    """Heat map of places: areas (rows) × intervention categories (columns).

    Accepts the ``insatser`` table (one row per intervention: summed per area and ``kategori``) or
    an already aggregated table with ``omrade_kod, kategori`` and ``value``. ``CENTRAL``
    interventions form their own row ("Centralt (hela kommunen)"). Categories appear in code-list
    order with their Swedish labels (``contract.label``); a cell without places shows ``–``.
    Places are not counts of persons, so nothing is suppressed.
    """
    ensure_theme()
    names = area_name_map(omraden)
    frame = insatser_or_places.copy()
    frame["omrade_kod"] = frame["omrade_kod"].astype(str)
    frame["kategori"] = frame["kategori"].astype(str)
    frame[value] = pd.to_numeric(frame[value], errors="coerce").fillna(0.0)
    agg = frame.groupby(["omrade_kod", "kategori"], sort=False)[value].sum()
    cat_order = [c for c in contract.codes("kategori_medel") if c in set(frame["kategori"])]
    cat_order += sorted(set(frame["kategori"]) - set(cat_order))
    area_codes = list(dict.fromkeys(frame["omrade_kod"]))
    if omraden is not None and not isinstance(omraden, Mapping):
        area_codes = list(dict.fromkeys(list(omraden["omrade_kod"].astype(str)) + area_codes))
    area_codes = [c for c in area_codes if c != CENTRAL] + ([CENTRAL] if CENTRAL in area_codes else [])
    grid = pd.MultiIndex.from_product([area_codes, cat_order], names=["omrade_kod", "kategori"])
    cells = agg.reindex(grid, fill_value=0.0).rename("varde").reset_index()
    area_names = dict(zip(area_codes, names_of(area_codes, names)))
    cells["omrade"] = cells["omrade_kod"].map(area_names)
    cells["kategori_namn"] = [contract.label("kategori_medel", c) for c in cells["kategori"]]
    totals = cells.groupby("omrade_kod")["varde"].transform("sum")
    cells["andel"] = np.where(totals > 0, cells["varde"] / totals.where(totals > 0, 1), np.nan)
    cells["text"] = [format_number(v) if v > 0 else "–" for v in cells["varde"]]

    y_order = [area_names[c] for c in area_codes if c != CENTRAL]
    y_order = sorted(y_order) + ([area_names[CENTRAL]] if CENTRAL in area_names else [])
    x_order = [contract.label("kategori_medel", c) for c in cat_order]
    focus_name = area_names.get(str(focus)) if focus is not None else None
    value_title = (
        contract.TABLES["insatser"][value].label if value in contract.TABLES["insatser"] else value.capitalize()
    )
    x = alt.X(
        "kategori_namn:N",
        sort=x_order,
        title="Kategori",
        axis=alt.Axis(orient="top", labelAngle=-35, labelAlign="left"),
    )
    y = alt.Y("omrade:N", sort=y_order, title=None, axis=alt.Axis(**bold_expr(focus_name)))
    tooltip = [
        alt.Tooltip("omrade:N", title="Område"),
        alt.Tooltip("kategori_namn:N", title="Kategori"),
        alt.Tooltip("varde:Q", title=value_title, format=",.0f"),
        alt.Tooltip("andel:Q", title="Andel av områdets " + value_title.lower(), format=".0%"),
    ]
    base = alt.Chart(chart_data(cells)).encode(x=x, y=y, tooltip=tooltip)
    rect = base.mark_rect(stroke="#ffffff", strokeWidth=1.5).encode(
        color=alt.condition(
            "datum.varde > 0",
            alt.Color(
                "varde:Q",
                title=value_title,
                # the light part of the scheme only, so the dark numbers in every cell keep 4,5:1
                scale=alt.Scale(scheme={"name": "blues", "extent": [0.0, 0.6]}, domainMin=0),
                legend=alt.Legend(format=",.0f", orient="right"),
            ),
            alt.value("#F4F4F4"),
        )
    )
    text = base.mark_text(fontSize=13, color="#111111").encode(text="text:N")
    layers = [rect, text]
    if focus_name:
        layers.append(
            alt.Chart(chart_data(cells[cells["omrade"] == focus_name]))
            .mark_rect(fill=None, stroke=FOCUS_COLOR, strokeWidth=2.5)
            .encode(x=x, y=y)
        )
    chart = alt.layer(*layers).properties(
        title=chart_title(
            title or f"{value_title} per område och kategori",
            "Centralt = insatser för hela kommunen." if CENTRAL in area_codes else None,
        ),
        width=alt.Step(64),
        height=alt.Step(28),
    )
    table = cells.pivot(index="omrade", columns="kategori_namn", values="text").reindex(index=y_order, columns=x_order)
    table = table.reset_index().rename(columns={"omrade": "Område"})
    table.columns.name = None
    what = f"Rutnät: {value_title.lower()} per område (rader) och kategori (kolumner); talet står i varje ruta."
    reading = matrix_reading(cells, unit_word=value_title.lower(), central=area_names.get(CENTRAL))
    chart = accessible(chart, what=what, reading=reading, table=table, caption=f"{value_title} per område och kategori")
    return cast(alt.LayerChart, chart)  # no facet encodings in the layers: alt.layer gives a LayerChart
