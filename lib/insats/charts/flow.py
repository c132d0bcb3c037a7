"""En väg in as a flow: ansökan → bedömd → arbetsförmåga → insats inom 90 dagar."""

from __future__ import annotations

from collections.abc import Mapping
from typing import cast

import altair as alt
import numpy as np
import pandas as pd

from insats.analysis.privacy import SUPPRESSED, footnote
from insats.charts.accessible import accessible, flow_reading
from insats.charts.common import (
    chart_data,
    chart_title,
)
from insats.charts.theme import (
    BASE_COLOR,
    MUTED_COLOR,
    ensure_theme,
    format_value,
)
from insats.text import format_number

# --------------------------------------------------------------------------- en väg in

FLOW_STEPS: dict[str, str] = {
    "ansokan": "Ansökan",
    "bedomd": "Bedömd",
    "arbetsformaga": "Hel eller delvis arbetsförmåga",
    "insats_90": "Insats inom 90 dagar",
}
"""Default steps of "en väg in" (code → Swedish label), in order."""


def flow_steps(
    counts,
    *,
    min_cell: int = 5,
    title: str | None = None,
    steps: Mapping[str, str] | None = None,
) -> alt.LayerChart:
    """Step chart of "en väg in": how many remain at each step, and the share of the first step.

    ``counts`` is a mapping step → count, a Series, or a DataFrame with ``steg`` and ``antal``
    (optional ``undertryckt``). Steps may be codes of ``FLOW_STEPS`` (or ``steps``) or labels; the
    given order is kept. Counts 1 … ``min_cell − 1`` and missing counts are shown as ``..``, never
    as zero (footnote in the subtitle).
    """
    ensure_theme()
    steps = dict(steps or FLOW_STEPS)
    if isinstance(counts, pd.DataFrame):
        frame = counts.rename(columns={"step": "steg", "count": "antal"}).copy()
    else:
        series = pd.Series(counts) if not isinstance(counts, pd.Series) else counts
        frame = pd.DataFrame({"steg": series.index.astype(str), "antal": series.to_numpy()})
    frame["antal"] = pd.to_numeric(frame["antal"], errors="coerce").astype(float)
    sup = frame["undertryckt"].fillna(False).astype(bool) if "undertryckt" in frame else False
    small = (frame["antal"] >= 1) & (frame["antal"] < min_cell)
    frame["undertryckt"] = (sup | small | frame["antal"].isna()).to_numpy()
    frame.loc[frame["undertryckt"], "antal"] = np.nan
    frame["steg_namn"] = [steps.get(str(s), str(s)) for s in frame["steg"]]
    frame["nr"] = np.arange(1, len(frame) + 1)
    first = frame["antal"].iloc[0] if len(frame) else np.nan
    prev = frame["antal"].shift(1)
    with np.errstate(invalid="ignore", divide="ignore"):
        frame["andel_forsta"] = np.where(first > 0, frame["antal"] / first, np.nan)
        frame["andel_foregaende"] = np.where(prev > 0, frame["antal"] / prev, np.nan)
    frame.loc[0, "andel_foregaende"] = np.nan
    frame["text"] = [
        SUPPRESSED if s else f"{format_number(a)} ({format_value(p, 'andel')})" if np.isfinite(p) else format_number(a)
        for a, p, s in zip(frame["antal"], frame["andel_forsta"], frame["undertryckt"])
    ]
    frame["antal_text"] = [SUPPRESSED if s else format_number(a) for a, s in zip(frame["antal"], frame["undertryckt"])]
    frame["andel_forsta_text"] = [format_value(p, "andel") if np.isfinite(p) else "" for p in frame["andel_forsta"]]
    frame["andel_foregaende_text"] = [
        format_value(p, "andel") if np.isfinite(p) else "" for p in frame["andel_foregaende"]
    ]
    order = list(frame["steg_namn"])
    y = alt.Y("steg_namn:N", sort=order, title=None)
    tooltip = [
        alt.Tooltip("steg_namn:N", title="Steg"),
        alt.Tooltip("antal_text:N", title="Antal"),
        alt.Tooltip("andel_forsta_text:N", title="Andel av första steget"),
        alt.Tooltip("andel_foregaende_text:N", title="Andel av föregående steg"),
    ]
    base = alt.Chart(chart_data(frame))
    bars = (
        base.mark_bar(color=BASE_COLOR, height={"band": 0.7})
        .transform_filter("!datum.undertryckt")
        .encode(
            x=alt.X("antal:Q", title="Antal personer", axis=alt.Axis(format=",.0f"), scale=alt.Scale(zero=True)),
            y=y,
            tooltip=tooltip,
        )
    )
    labels = (
        base.mark_text(align="left", dx=6, baseline="middle")
        .transform_filter("!datum.undertryckt")
        .encode(x="antal:Q", y=y, text="text:N")
    )
    hidden = (
        base.mark_text(align="left", dx=4, baseline="middle", color=MUTED_COLOR, fontWeight="bold", fontSize=15)
        .transform_filter("datum.undertryckt")
        .encode(x=alt.value(0), y=y, text=alt.value(SUPPRESSED), tooltip=tooltip)
    )
    subtitle = ["Procent: andel av dem som ansökte."]
    if frame["undertryckt"].any():
        subtitle.append(footnote(min_cell) + ".")
    chart = alt.layer(bars, labels, hidden).properties(
        title=chart_title(title or "En väg in: från ansökan till insats", subtitle), width=460, height=alt.Step(40)
    )
    table = pd.DataFrame(
        {
            "Steg": frame["steg_namn"],
            "Antal": frame["antal_text"],
            "Andel av första steget": frame["andel_forsta_text"],
            "Andel av föregående steg": frame["andel_foregaende_text"],
        }
    )
    what = "Liggande staplar: hur många som finns kvar vid varje steg, från ansökan till insats."
    chart = accessible(chart, what=what, reading=flow_reading(frame), table=table, caption="En väg in, steg för steg")
    return cast(alt.LayerChart, chart)  # no facet encodings in the layers: alt.layer gives a LayerChart
