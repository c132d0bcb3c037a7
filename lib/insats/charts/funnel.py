"""Funnel plots: a share against its base, with exact binomial control limits."""

from __future__ import annotations

from collections.abc import Mapping
from typing import cast

import altair as alt
import numpy as np
import pandas as pd

from insats.analysis.privacy import SUPPRESSED, footnote
from insats.analysis.stats import funnel_flags, funnel_limits
from insats.charts.common import (
    area_name_map,
    chart_data,
    chart_title,
    label_of,
    measure_rows,
)
from insats.charts.theme import (
    BASE_COLOR,
    FOCUS_COLOR,
    MUTED_COLOR,
    TOTAL_COLOR,
    ensure_theme,
    format_value,
)
from insats.contract import ALLA

# --------------------------------------------------------------------------- funnel plot

FUNNEL_FLAG_LABELS = {
    "over_998": "Över 99,8 %-gränsen",
    "over_95": "Över 95 %-gränsen",
    "inom": "Inom 95 %-gränserna",
    "under_95": "Under 95 %-gränsen",
    "under_998": "Under 99,8 %-gränsen",
}
"""Swedish labels of ``insats.analysis.stats.funnel_flags`` codes."""


def funnel_limit_lines(p0: float, n: np.ndarray) -> pd.DataFrame:
    return funnel_limits(p0, n)


def funnel_plot(
    long: pd.DataFrame,
    matt: str,
    *,
    focus: str | None = None,
    omraden: pd.DataFrame | Mapping | None = None,
    min_cell: int = 5,
    title: str | None = None,
) -> alt.LayerChart:
    """Funnel plot of a share: each area's ``varde`` against its base ``namnare``.

    The horizontal line is the whole study's share ``p0`` (``ALLA``: ``taljare / namnare``); the
    funnels are exact binomial 95 % (dashed) and 99,8 % (solid) limits from
    ``insats.analysis.stats.funnel_limits``. An area outside them differs from the whole study by more than
    chance would explain. Suppressed areas cannot be placed and are named in the subtitle.
    """
    ensure_theme()
    names = area_name_map(omraden)
    areas, alla = measure_rows(long, matt, names)
    label = label_of(matt)
    if alla is None:
        raise ValueError(f"Måttet {matt!r} saknar raden för alla områden ({ALLA}).")
    p0 = (
        float(alla["taljare"] / alla["namnare"])
        if np.isfinite(alla["taljare"]) and alla["namnare"] > 0
        else float(alla["varde"])
    )
    pts = areas[~areas["undertryckt"] & (areas["namnare"] > 0) & areas["varde"].notna()].copy()
    hidden = areas.drop(pts.index)
    n_max = float(pts["namnare"].max()) if len(pts) else float(alla["namnare"] or 100)
    n_min = float(pts["namnare"].min()) if len(pts) else 1.0
    grid = np.unique(np.round(np.geomspace(max(1.0, n_min * 0.5), max(n_max * 1.1, 2.0), 160)))
    lim = funnel_limit_lines(p0, grid)
    lines = []
    for _level, name, lab in ((0.95, "95", "95 %"), (0.998, "998", "99,8 %")):
        for side in ("lo", "hi"):
            lines.append(
                pd.DataFrame({"n": lim["n"], "grans": lab, "sida": f"{side}_{name}", "andel": lim[f"{side}_{name}"]})
            )
    limits = pd.concat(lines, ignore_index=True)

    pts["lage"] = [
        FUNNEL_FLAG_LABELS.get(f, "") if isinstance(f, str) else ""
        for f in funnel_flags(pts["taljare"].to_numpy(), pts["namnare"].to_numpy(), p0)
    ]
    pts["varde_text"] = [format_value(v, "andel") for v in pts["varde"]]
    pts["fokus"] = pts["omrade_kod"] == str(focus) if focus is not None else False

    x = alt.X("n:Q", title="Antal (nämnare)", axis=alt.Axis(format=",.0f"), scale=alt.Scale(zero=True))
    y_scale = alt.Scale(zero=False, clamp=True)
    funnel = (
        alt.Chart(chart_data(limits))
        .mark_line(color=MUTED_COLOR, strokeWidth=1.5, interpolate="monotone")
        .encode(
            x=x,
            y=alt.Y("andel:Q", title=label, axis=alt.Axis(format=".0%"), scale=y_scale),
            detail="sida:N",
            strokeDash=alt.StrokeDash(
                "grans:N",
                title="Kontrollgränser",
                sort=["95 %", "99,8 %"],
                scale=alt.Scale(domain=["95 %", "99,8 %"], range=[[6, 4], [1, 0]]),
            ),
            tooltip=[
                alt.Tooltip("grans:N", title="Kontrollgräns"),
                alt.Tooltip("n:Q", title="Antal", format=",.0f"),
                alt.Tooltip("andel:Q", title="Gräns", format=".1%"),
            ],
        )
    )
    center = (
        alt.Chart(chart_data(pd.DataFrame({"andel": [p0], "text": [format_value(p0, "andel")]})))
        .mark_rule(color=TOTAL_COLOR, strokeWidth=1.5)
        .encode(y="andel:Q", tooltip=[alt.Tooltip("text:N", title="Alla områden")])
    )
    color = (
        alt.condition("datum.fokus", alt.value(FOCUS_COLOR), alt.value(BASE_COLOR))
        if focus is not None
        else alt.value(BASE_COLOR)
    )
    tooltip = [
        alt.Tooltip("omrade:N", title="Område"),
        alt.Tooltip("varde_text:N", title=label),
        alt.Tooltip("taljare:Q", title="Täljare", format=",.0f"),
        alt.Tooltip("namnare:Q", title="Nämnare", format=",.0f"),
        alt.Tooltip("lage:N", title="Läge"),
    ]
    points = (
        alt.Chart(chart_data(pts))
        .mark_point(filled=True, size=110, opacity=0.9, stroke="#ffffff", strokeWidth=1)
        .encode(x="namnare:Q", y=alt.Y("varde:Q", scale=y_scale), color=color, tooltip=tooltip)
    )
    layers = [funnel, center, points]
    if focus is not None and pts["fokus"].any():
        layers.append(
            alt.Chart(chart_data(pts[pts["fokus"]]))
            .mark_text(align="left", dx=9, fontWeight="bold", color=FOCUS_COLOR)
            .encode(x="namnare:Q", y="varde:Q", text="omrade:N")
        )
    subtitle = [
        f"Linjen: alla områden, {format_value(p0, 'andel')}. Tratten: 95 % (streckad) och 99,8 % "
        "(heldragen) gränser för slumpmässig variation."
    ]
    if len(hidden):
        subtitle.append(f"Visas inte ({SUPPRESSED}): " + ", ".join(hidden["omrade"]) + ".")
        if hidden["undertryckt"].any():
            subtitle.append(footnote(min_cell) + ".")
    chart = alt.layer(*layers).properties(
        title=chart_title(title or f"{label}: trattdiagram", subtitle), width=520, height=340
    )
    return cast(alt.LayerChart, chart)  # no facet encodings in the layers: alt.layer gives a LayerChart
