"""The district profile as a chart: the area's shares beside the rest of the study and the whole study."""

from __future__ import annotations

import altair as alt
import pandas as pd

from insats.analysis.privacy import SUPPRESSED, footnote
from insats.charts.common import records
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
    y = alt.Y("serie:N", sort=domain, title=None, axis=None)
    x_scale = alt.Scale(domain=[0, 1])
    base = alt.Chart()
    bars = (
        base.mark_bar(height={"band": 0.8})
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
        base.mark_text(align="left", dx=4, baseline="middle", fontSize=12)
        .transform_filter("!datum.dold && isValid(datum.varde)")
        .encode(x=alt.X("varde:Q", scale=x_scale), y=y, text="text:N")
    )
    hidden = (
        base.mark_text(align="left", dx=4, baseline="middle", fontSize=14, fontWeight="bold", color=MUTED_COLOR)
        .transform_filter("datum.dold")
        .encode(x=alt.value(0), y=y, text=alt.value(SUPPRESSED))
    )
    subtitle = [f"Vermiljon: {name}; grå: övriga områden; svart: hela studien."]
    if frame["dold"].any():
        subtitle.append(footnote(min_cell) + ".")
    row = alt.Row(
        "matt:N",
        title=None,
        sort=list(dict.fromkeys(frame["matt"])) or None,
        header=alt.Header(labelAngle=0, labelAlign="left", labelAnchor="start", labelFontSize=14, labelLimit=320),
    )
    return (
        alt.layer(bars, labels, hidden, data=alt.Data(values=records(frame)))
        .properties(width=440, height=alt.Step(14))
        .facet(row=row, spacing=6)
        .properties(title=alt.TitleParams(f"{name} jämfört med övriga områden", subtitle=subtitle, anchor="start"))
        .resolve_scale(y="independent")
    )
