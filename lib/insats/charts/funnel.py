"""Funnel plots: a share against its base, with exact binomial control limits and limits adjusted for
overdispersion."""

from __future__ import annotations

from collections.abc import Mapping
from typing import cast

import altair as alt
import numpy as np
import pandas as pd

from insats.analysis.overdispersion import funnel_table
from insats.analysis.privacy import SUPPRESSED, footnote
from insats.analysis.stats import funnel_flags, funnel_limits
from insats.charts.accessible import accessible, funnel_reading
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
    OTHER_COLOR,
    TOTAL_COLOR,
    ensure_theme,
    format_value,
)
from insats.contract import ALLA
from insats.errors import DataError
from insats.text import format_number

# --------------------------------------------------------------------------- funnel plot

FUNNEL_FLAG_LABELS = {
    "over_998": "Över 99,8 %-gränsen",
    "over_95": "Över 95 %-gränsen",
    "inom": "Inom 95 %-gränserna",
    "under_95": "Under 95 %-gränsen",
    "under_998": "Under 99,8 %-gränsen",
}
"""Swedish labels of ``insats.analysis.stats.funnel_flags`` codes."""

FUNNEL_FLAG_SHAPES = {
    "over_998": "triangle-up",
    "over_95": "diamond",
    "inom": "circle",
    "under_95": "square",
    "under_998": "triangle-down",
}
"""A shape per flag (named in the legend), so the position against the limits never rests on colour:
the chart reads the same in grey print and for colour-blind readers."""

PLAIN_LIMITS = "Vanliga gränser (slumpen)"
ADJUSTED_LIMITS = "Justerade för överspridning"
"""Legend labels of the two sets of limits."""


def funnel_limit_lines(p0: float, n: np.ndarray, tau2: float | None = None) -> pd.DataFrame:
    """Funnel limits at ``n``: the plain exact binomial ones, or with ``tau2`` those adjusted for overdispersion."""
    return funnel_limits(p0, n, tau2=tau2)


def _overdispersion(pts: pd.DataFrame, p0: float):
    """The overdispersion of the published points (``overdispersion.funnel_table``), or None with fewer than
    three points (or a share of 0 or 1): then only the plain limits can be drawn."""
    if len(pts) < 3 or not 0 < p0 < 1:
        return None
    try:
        ft = funnel_table(pts["taljare"].to_numpy(float), pts["namnare"].to_numpy(float), p0)
    except DataError:
        return None
    return ft


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

    The horizontal line is the whole study's share ``p0`` (``ALLA``: ``taljare / namnare``). Two funnels,
    each at 95 % (dashed) and 99,8 % (solid): the plain exact binomial limits
    (``insats.analysis.stats.funnel_limits``), which say whether an area differs from the whole study more
    than chance would explain, and the limits adjusted for overdispersion (Spiegelhalter 2005, additive τ²
    estimated from the published areas, ``insats.analysis.overdispersion.funnel_table``), which say whether
    it differs more than areas usually differ from each other. The points' ``lage`` uses the adjusted limits
    (as the reports' flags do), ``lage_vanlig`` the plain ones. With fewer than three published areas only
    the plain limits are drawn. Suppressed areas cannot be placed, take no part in the overdispersion and
    are named in the subtitle.
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
    ft = _overdispersion(pts, p0)
    sets = [(PLAIN_LIMITS, None)]
    if ft is not None:
        sets.append((ADJUSTED_LIMITS, ft.attrs["overdispersion"].tau2))
    lines = []
    for kind, tau2 in sets:
        lim = funnel_limit_lines(p0, grid, tau2)
        for name, lab in (("95", "95 %"), ("998", "99,8 %")):
            for side in ("lo", "hi"):
                lines.append(
                    pd.DataFrame(
                        {
                            "n": lim["n"],
                            "grans": lab,
                            "slag": kind,
                            "sida": f"{side}_{name}_{'justerad' if tau2 is not None else 'vanlig'}",
                            "andel": lim[f"{side}_{name}"],
                        }
                    )
                )
    limits = pd.concat(lines, ignore_index=True)

    plain_flags = funnel_flags(pts["taljare"].to_numpy(), pts["namnare"].to_numpy(), p0)
    adjusted = ft["flagga_justerad"].to_numpy(object) if ft is not None else plain_flags.to_numpy(object)
    pts["flagga"] = [f if isinstance(f, str) else "inom" for f in adjusted]
    pts["lage"] = [FUNNEL_FLAG_LABELS.get(f, "") for f in pts["flagga"]]
    pts["lage_vanlig"] = [FUNNEL_FLAG_LABELS.get(f, "") if isinstance(f, str) else "" for f in plain_flags]
    pts["varde_text"] = [format_value(v, "andel") for v in pts["varde"]]
    pts["fokus"] = (pts["omrade_kod"] == str(focus)) if focus is not None else False
    pts["fokus"] = pts["fokus"].astype(bool)

    x = alt.X("n:Q", title="Antal (nämnare)", axis=alt.Axis(format=",.0f"), scale=alt.Scale(zero=True))
    y_scale = alt.Scale(zero=False, clamp=True)
    kinds = [k for k, _ in sets]
    funnel = (
        alt.Chart(chart_data(limits))
        .mark_line(interpolate="monotone")
        .encode(
            x=x,
            y=alt.Y("andel:Q", title=label, axis=alt.Axis(format=".0%"), scale=y_scale),
            detail="sida:N",
            color=alt.Color(
                "slag:N",
                title="Kontrollgränser",
                sort=kinds,
                scale=alt.Scale(domain=kinds, range=[OTHER_COLOR, MUTED_COLOR][: len(kinds)]),
                legend=alt.Legend(orient="bottom", direction="vertical"),
            ),
            # thin and thick as well as light and dark: the two funnels are told apart without colour
            strokeWidth=alt.StrokeWidth(
                "slag:N",
                title="Kontrollgränser",
                sort=kinds,
                scale=alt.Scale(domain=kinds, range=[1.3, 2.8][: len(kinds)]),
                legend=alt.Legend(orient="bottom", direction="vertical"),
            ),
            strokeDash=alt.StrokeDash(
                "grans:N",
                title="Nivå",
                sort=["95 %", "99,8 %"],
                scale=alt.Scale(domain=["95 %", "99,8 %"], range=[[6, 4], [1, 0]]),
                legend=alt.Legend(orient="bottom", direction="vertical"),
            ),
            tooltip=[
                alt.Tooltip("slag:N", title="Gränser"),
                alt.Tooltip("grans:N", title="Nivå"),
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
        alt.Tooltip("lage:N", title="Läge, justerade gränser" if ft is not None else "Läge"),
    ]
    if ft is not None:
        tooltip.append(alt.Tooltip("lage_vanlig:N", title="Läge, vanliga gränser"))
    flag_order = [f for f in FUNNEL_FLAG_LABELS if f in set(pts["flagga"])]
    shape = alt.Shape(
        "lage:N",
        title="Läge" + (" (justerade gränser)" if ft is not None else ""),
        sort=[FUNNEL_FLAG_LABELS[f] for f in flag_order],
        scale=alt.Scale(
            domain=[FUNNEL_FLAG_LABELS[f] for f in flag_order], range=[FUNNEL_FLAG_SHAPES[f] for f in flag_order]
        ),
        legend=alt.Legend(orient="bottom", direction="vertical"),
    )
    points = (
        alt.Chart(chart_data(pts))
        .mark_point(filled=True, size=120, opacity=0.95, stroke="#ffffff", strokeWidth=1)
        .encode(x="namnare:Q", y=alt.Y("varde:Q", scale=y_scale), color=color, shape=shape, tooltip=tooltip)
    )
    # every point carries its district's name, so the chart reads on paper and in grey
    label_enc = {"x": "namnare:Q", "y": alt.Y("varde:Q", scale=y_scale), "text": "omrade:N"}
    layers = [funnel, center, points]
    others, focused = pts[~pts["fokus"]], pts[pts["fokus"]]
    if len(others):
        layers.append(
            alt.Chart(chart_data(others))
            .mark_text(align="left", dx=8, dy=-2, fontSize=11, color="#333333", fontWeight="normal")
            .encode(**label_enc)
        )
    if len(focused):
        layers.append(
            alt.Chart(chart_data(focused))
            .mark_text(align="left", dx=8, dy=-2, fontSize=11, color="#333333", fontWeight="bold")
            .encode(**label_enc)
        )
    subtitle = [f"Linjen: alla områden, {format_value(p0, 'andel')}. Streckat: 95 %, heldraget: 99,8 %."]
    if ft is not None:
        od = ft.attrs["overdispersion"]
        subtitle.append(
            "Tunn ljusgrå tratt: vanliga gränser för slumpen. Tjock mörkgrå tratt: gränser som också tar hänsyn till att områdena "
            f"skiljer sig {format_number(od.phi, 1)} gånger mer än slumpen ger (överspridning); "
            "avvikelser räknas mot den tjocka."
        )
    else:
        subtitle.append("Tratten: vanliga gränser för slumpen (för få områden visas för att skatta överspridning).")
    if len(hidden):
        subtitle.append(f"Visas inte ({SUPPRESSED}): " + ", ".join(hidden["omrade"]) + ".")
        if hidden["undertryckt"].any():
            subtitle.append(footnote(min_cell) + ".")
    chart = alt.layer(*layers).properties(
        title=chart_title(title or f"{label}: trattdiagram", subtitle), width=520, height=340
    )
    table = pd.DataFrame(
        {
            "Område": pts["omrade"],
            label: pts["varde_text"],
            "Täljare": [format_number(v) for v in pts["taljare"]],
            "Nämnare": [format_number(v) for v in pts["namnare"]],
            "Läge" + (", justerade gränser" if ft is not None else ""): pts["lage"],
        }
    )
    if len(hidden):
        table = pd.concat(
            [table, pd.DataFrame({"Område": hidden["omrade"], label: SUPPRESSED})], ignore_index=True
        ).fillna("")
    what = (
        f"Trattdiagram: {label.lower()} per område (punkter, med områdets namn) mot antalet det gäller, "
        f"med kontrollgränser kring alla områdens andel {format_value(p0, 'andel')}."
    )
    reading = funnel_reading(pts, adjusted=ft is not None, hidden=list(hidden["omrade"]))
    chart = accessible(chart, what=what, reading=reading, table=table, caption=f"{label}: trattdiagrammets värden")
    return cast(alt.LayerChart, chart)  # no facet encodings in the layers: alt.layer gives a LayerChart
