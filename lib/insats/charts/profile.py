"""The district profile as a chart: the area's shares beside the rest of the study and the whole study."""

from __future__ import annotations

import altair as alt
import pandas as pd

from insats.analysis.privacy import SUPPRESSED, footnote
from insats.charts.accessible import accessible, profile_reading
from insats.charts.common import chart_data
from insats.charts.theme import FOCUS_COLOR, MUTED_COLOR, OTHER_COLOR, TOTAL_COLOR, ensure_theme, format_value

REST_LABEL = "Övriga områden"
TOTAL_LABEL = "Hela studien"


def profile_bars(figures: pd.DataFrame, name: str, *, min_cell: int = 5) -> alt.FacetChart:
    """Bars of the area's shares (``insats.reports.profil.key_figures`` rows with unit ``andel``)
    next to the rest of the study and the whole study; a suppressed value is drawn as ``..``.

    The comparison is the printed profile's: the rest of the study (the whole study minus the
    area), not a median of the other areas, so the screen and the papers show the same numbers.
    """
    ensure_theme()
    # aria=False on the marks: in a faceted chart Vega names no mark group, and an empty one (a row with
    # nothing to draw) is an unnamed image to a screen reader; the chart's description and table say it all
    shares = figures[figures["enhet"] == "andel"]
    series = [
        (name, "varde", "undertryckt"),
        (REST_LABEL, "ovriga_varde", "ovriga_undertryckt"),
        (TOTAL_LABEL, "alla_varde", "alla_undertryckt"),
    ]
    rows = []
    for _, r in shares.iterrows():
        for label, col, sup in series:
            value, hidden = r[col], bool(r[sup])
            rows.append(
                {
                    "matt": r["benamning"],
                    "serie": label,
                    "varde": None if hidden or pd.isna(value) else float(value),
                    "text": SUPPRESSED if hidden else format_value(value, "andel"),
                    "dold": hidden,
                }
            )
    frame = pd.DataFrame(rows, columns=["matt", "serie", "varde", "text", "dold"])
    domain = [s for s, _, _ in series]
    # the series are named on the axis too: colour is never the only way to tell them apart
    y = alt.Y("serie:N", sort=domain, title=None, axis=alt.Axis(labelFontSize=12, labelLimit=200, ticks=False))
    x_scale = alt.Scale(domain=[0, 1])
    base = alt.Chart()
    bars = (
        base.mark_bar(height={"band": 0.8}, aria=False)
        .transform_filter("!datum.dold && isValid(datum.varde)")
        .encode(
            x=alt.X("varde:Q", title="Andel", axis=alt.Axis(format=".0%"), scale=x_scale),
            y=y,
            color=alt.Color(
                "serie:N",
                title=None,
                sort=domain,
                scale=alt.Scale(domain=domain, range=[FOCUS_COLOR, OTHER_COLOR, TOTAL_COLOR]),
                legend=alt.Legend(orient="top"),
            ),
            tooltip=[
                alt.Tooltip("matt:N", title="Mått"),
                alt.Tooltip("serie:N", title="Jämförelse"),
                alt.Tooltip("text:N", title="Värde"),
            ],
        )
    )
    labels = (
        base.mark_text(align="left", dx=4, baseline="middle", fontSize=12, aria=False)
        .transform_filter("!datum.dold && isValid(datum.varde)")
        .encode(x=alt.X("varde:Q", scale=x_scale), y=y, text="text:N")
    )
    hidden = (
        base.mark_text(
            align="left", dx=4, baseline="middle", fontSize=14, fontWeight="bold", color=MUTED_COLOR, aria=False
        )
        .transform_filter("datum.dold")
        .encode(x=alt.value(0), y=y, text=alt.value(SUPPRESSED))
    )
    subtitle = [f"Per nyckeltal: {name}, övriga områden och hela studien (namnen står vid staplarna)."]
    if frame["dold"].any():
        subtitle.append(footnote(min_cell) + ".")
    row = alt.Row(
        "matt:N",
        title=None,
        sort=list(dict.fromkeys(frame["matt"])) or None,
        header=alt.Header(labelAngle=0, labelAlign="left", labelAnchor="start", labelFontSize=14, labelLimit=320),
    )
    chart = (
        alt.layer(bars, labels, hidden, data=chart_data(frame))
        .properties(width=440, height=alt.Step(14))
        .facet(row=row, spacing=6)
        .properties(title=alt.TitleParams(f"{name} jämfört med övriga områden", subtitle=subtitle, anchor="start"))
        .resolve_scale(y="independent")
    )
    wide = frame.pivot(index="matt", columns="serie", values="text").reindex(
        index=list(dict.fromkeys(frame["matt"])), columns=domain
    )
    table = wide.reset_index().rename(columns={"matt": "Nyckeltal"})
    table.columns.name = None
    numbers = frame.pivot(index="matt", columns="serie", values="varde")
    rows = (
        pd.DataFrame(
            {
                "matt": wide.index,
                "omrade": pd.to_numeric(numbers.reindex(wide.index)[name], errors="coerce").to_numpy(),
                "ovriga": pd.to_numeric(numbers.reindex(wide.index)[REST_LABEL], errors="coerce").to_numpy(),
                "omrade_text": wide[name].to_numpy(),
                "ovriga_text": wide[REST_LABEL].to_numpy(),
            }
        )
        if len(frame)
        else pd.DataFrame(columns=["matt", "omrade", "ovriga", "omrade_text", "ovriga_text"])
    )
    what = f"Staplar per nyckeltal: andelen i {name} bredvid övriga områden och hela studien."
    reading = profile_reading(rows, name, REST_LABEL)
    return accessible(chart, what=what, reading=reading, table=table, caption=f"{name}: nyckeltal")
