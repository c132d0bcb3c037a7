"""Altair charts for the studies' notebooks, reports and Voila dashboards — in Swedish, offline.

Every builder returns a plain ``alt.Chart`` or ``alt.LayerChart`` (never a configured top-level
chart), so the caller can add ``.properties(...)``, layer, concatenate or facet it. Titles, axis
titles, legends and tooltips are Swedish; measure names come from ``insats.analysis.measures.measure_label``
and area names from the ``omraden`` table when it is passed (``omraden=``).

Builders
--------
``ranked_bars(long, matt)``     areas sorted by a measure, with 95 % intervals and the whole-study
                                (``ALLA``) value as a rule; suppressed areas are drawn as ``..``.
``funnel_plot(long, matt)``     share against its base with exact binomial 95 % / 99,8 % limits.
``utbud_matrix(insatser)``      area × category heat map of places.
``spending_bars(medel)``        money per area stacked by category, feriejobb at the base.
``time_series(frame, x, y)``    lines for an interrupted time series, a rule at the reform.
``flow_steps(counts)``          "en väg in": ansökan → bedömd → arbetsförmåga → insats inom 90 dagar.

Theme and Swedish numbers
-------------------------
``use_theme()`` registers and enables the Altair theme ``"insats"``: the colour-blind-safe
Okabe–Ito palette (a vermillion highlight for the focus area, grey for the others), font sizes
readable on a projector, and — most importantly — ``config.locale``, the d3 number and time
locale of Vega-Lite 5+/6: decimal comma, narrow no-break space between thousands (the same
characters as ``insats.analysis.privacy.format_number``), ``" %"`` after a share, ``" kr"`` as currency
and lower-case Swedish month names. Vega reads ``config.locale`` both in the browser
(vega-embed) and in vl-convert, so ``12,5 %`` and ``1 234 567 kr`` come out the same on screen
and in PNG/SVG files. As belt and braces, ``save`` also passes the locale to vl-convert
(``format_locale``/``time_format_locale``), the HTML embedding passes it to vega-embed
(``formatLocale``/``timeFormatLocale``), and both add ``config.locale`` to a spec that lacks it
(e.g. when another theme is active). Importing this module enables the theme unless another
non-default theme is already active.

Offline rendering (no internet anywhere)
----------------------------------------
Altair's default renderers load vega, vega-lite and vega-embed from a CDN
(jsDelivr) — a blank chart in a committee room without internet. The options were:

* ``alt.renderers.enable("jupyter", offline=True)`` (``JupyterChart``, an anywidget with the JS in
  the Python package). Works in a live JupyterLab and in Voila, but needs the ``anywidget``
  package, and a notebook exported by nbconvert keeps only the *widget state*: nbconvert's HTML
  template then loads ``@jupyter-widgets/html-manager`` from a CDN to show it — offline, nothing.
* ``vl_convert.javascript_bundle()``: vl-convert ships vega + vega-lite + vega-embed as one
  self-contained script (about 0,9 MB). Placed inline in an HTML output it needs no network.

``enable_offline()`` (``mode="auto"`` or ``"html"``) uses the second, which works in all three
places: it displays the bundle **once** (an invisible ``<script>`` output in the cell that calls
it; cached on disk, so a kernel pays the bundling only the first time) and enables the Altair
renderer ``"insats"``, whose output per chart is a small ``text/html`` block — a ``<div>`` and a
script that calls the bundle's ``vegaEmbed`` (kept under the private global
``window.insatsVega`` so that it never clashes with another copy of Vega on the page). Charts wait
for the bundle if it is not there yet, and a chart displayed before ``enable_offline`` was ever
called carries the bundle itself.

* **JupyterLab** runs scripts in ``text/html`` outputs of a trusted notebook (outputs made in the
  running session are trusted). A reopened, untrusted notebook shows a Swedish note asking to
  rerun the cell instead of a blank space (notebooks are committed without outputs anyway).
* **Voila** renders the same outputs, also inside ``ipywidgets.Output`` (redraws on a change of
  district); Voila serves its own JavaScript from the local server.
* **nbconvert** keeps ``text/html`` outputs verbatim, so an exported report contains the bundle
  once and every chart's script. nbconvert's stock ``lab`` template, however, itself puts CDN
  scripts in the page head (require.js, MathJax, mermaid, and the widget manager when a notebook
  has widget state). ``offline_html_exporter()`` / ``export_html()`` give an ``HTMLExporter`` whose
  template extends ``lab`` with those blocks emptied: the file opens from disk with the network off.

``mode="jupyter"`` enables Altair's ``JupyterChart`` renderer with ``offline=True`` for
interactive selections in a live session; it requires ``anywidget`` and is **not** suitable for
reports exported with nbconvert.

``save(chart, path)`` writes ``.png``, ``.svg``, ``.pdf`` (vl-convert, no browser, no network),
``.html`` (a self-contained page with the bundle inline) or ``.json`` (the Vega-Lite spec).
"""

from __future__ import annotations

import hashlib
import html as _html
import json
import os
import re
import tempfile
import uuid
from collections.abc import Mapping, Sequence
from functools import lru_cache
from pathlib import Path

import altair as alt
import jinja2
import nbformat
import numpy as np
import pandas as pd
import vl_convert as vlc
from IPython import get_ipython
from IPython.display import display
from nbconvert import HTMLExporter

from insats import contract
from insats.analysis.measures import MEASURES, measure_label
from insats.analysis.privacy import MINUS, PERCENT_SEP, SUPPRESSED, THOUSANDS_SEP, footnote, format_number
from insats.analysis.stats import funnel_flags, funnel_limits, wilson_interval
from insats.contract import ALLA, CENTRAL

__all__ = [
    "BASE_COLOR",
    "CATEGORY_COLORS",
    "FLOW_STEPS",
    "FOCUS_COLOR",
    "NUMBER_LOCALE",
    "OKABE_ITO",
    "OTHER_COLOR",
    "THEME",
    "TIME_LOCALE",
    "chart_html",
    "d3_format",
    "enable_offline",
    "export_html",
    "flow_steps",
    "format_value",
    "funnel_plot",
    "javascript_bundle",
    "offline_html_exporter",
    "ranked_bars",
    "save",
    "spending_bars",
    "time_series",
    "to_html",
    "use_theme",
    "utbud_matrix",
]

# --------------------------------------------------------------------------- theme

THEME = "insats"
"""Name of the Altair theme registered by this module."""

OKABE_ITO = ["#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442", "#000000"]
"""Okabe & Ito (2008) colour-blind-safe categorical palette (blue first)."""

BASE_COLOR = "#0072B2"
"""Bars and points when no area is in focus (Okabe–Ito blue)."""
FOCUS_COLOR = "#D55E00"
"""The focus area (Okabe–Ito vermillion)."""
OTHER_COLOR = "#B3B3B3"
"""The other areas when one is in focus."""
TOTAL_COLOR = "#000000"
"""The whole study (``ALLA``)."""
MUTED_COLOR = "#666666"
"""Secondary text, ``..`` and interval marks."""

CATEGORY_COLORS: dict[str, str] = {
    "arbetstraning": "#0072B2",
    "jobbsok_coachning": "#56B4E9",
    "kurs": "#009E73",
    "matchning": "#CC79A7",
    "praktik_offentlig": "#E69F00",
    "praktik_privat": "#F0E442",
    "vagledning": "#332288",
    "kommunal_anstallning": "#882255",
    "feriejobb": "#D55E00",
    "ovrigt": "#A6A6A6",
    "administration": "#4D4D4D",
}
"""A fixed colour per intervention category (``kategori_medel`` codes), the same in every chart;
feriejobb has the strong vermillion so that it stands out (the kartläggning's point)."""

NUMBER_LOCALE: dict = {
    "decimal": ",",
    "thousands": THOUSANDS_SEP,
    "grouping": [3],
    "currency": ["", "\u00a0kr"],
    "percent": PERCENT_SEP + "%",
    "minus": MINUS,
    "nan": SUPPRESSED,
}
"""d3-format locale: ``12,5 %``, ``1 234 567 kr``, ``−3`` (as ``insats.analysis.privacy.format_number``)."""

TIME_LOCALE: dict = {
    "dateTime": "%A den %e %B %Y %X",
    "date": "%Y-%m-%d",
    "time": "%H:%M:%S",
    "periods": ["fm", "em"],
    "days": ["söndag", "måndag", "tisdag", "onsdag", "torsdag", "fredag", "lördag"],
    "shortDays": ["sön", "mån", "tis", "ons", "tor", "fre", "lör"],
    "months": [
        "januari",
        "februari",
        "mars",
        "april",
        "maj",
        "juni",
        "juli",
        "augusti",
        "september",
        "oktober",
        "november",
        "december",
    ],
    "shortMonths": ["jan", "feb", "mar", "apr", "maj", "jun", "jul", "aug", "sep", "okt", "nov", "dec"],
}
"""d3-time-format locale (Swedish month and day names are written in lower case)."""

LOCALE = {"number": NUMBER_LOCALE, "time": TIME_LOCALE}

FONT = "'Source Sans 3', 'Source Sans Pro', 'Segoe UI', Arial, 'Liberation Sans', 'DejaVu Sans', sans-serif"


def theme_config() -> dict:
    """The theme as a Vega-Lite top-level dict (``config`` plus default size)."""
    label, title = 14, 15
    return {
        "config": {
            "locale": LOCALE,
            "font": FONT,
            "background": "#ffffff",
            "padding": 8,
            "title": {
                "fontSize": 20,
                "fontWeight": 600,
                "anchor": "start",
                "subtitleFontSize": 14,
                "subtitleColor": "#444444",
                "subtitlePadding": 6,
                "offset": 14,
                "color": "#111111",
            },
            "axis": {
                "labelFontSize": label,
                "titleFontSize": title,
                "titleFontWeight": 600,
                "labelColor": "#222222",
                "titleColor": "#222222",
                "gridColor": "#E6E6E6",
                "domainColor": "#888888",
                "tickColor": "#888888",
                "labelLimit": 280,
                "titlePadding": 10,
            },
            "legend": {
                "labelFontSize": label,
                "titleFontSize": title,
                "titleFontWeight": 600,
                "labelLimit": 280,
                "symbolSize": 160,
            },
            "header": {"labelFontSize": title, "titleFontSize": title},
            "text": {"fontSize": label, "color": "#222222"},
            "mark": {"color": BASE_COLOR},
            "bar": {"color": BASE_COLOR},
            "line": {"strokeWidth": 2.5},
            "point": {"size": 80, "filled": True},
            "rule": {"color": "#333333"},
            "range": {"category": OKABE_ITO, "heatmap": {"scheme": "blues"}, "ramp": {"scheme": "blues"}},
            "view": {"stroke": None, "continuousWidth": 520, "continuousHeight": 320},
            "timeFormat": "%Y-%m-%d",
        }
    }


def use_theme() -> str:
    """Register (once) and enable the ``"insats"`` Altair theme; returns its name."""
    if THEME not in alt.theme.names():
        alt.theme.register(THEME, enable=False)(theme_config)
    alt.theme.enable(THEME)
    return THEME


def _ensure_theme() -> None:
    """Register the theme; enable it unless the user chose another (non-default) one."""
    if THEME not in alt.theme.names():
        alt.theme.register(THEME, enable=False)(theme_config)
    if alt.theme.active == "default":
        alt.theme.enable(THEME)


# --------------------------------------------------------------------------- formatting

_D3 = {
    "andel": ".1%",
    "antal": ",.0f",
    "kr": "$,.0f",
    "dagar": ",.0f",
    "kvot": ",.2f",
    "index": ",.2f",
    "per_100": ",.1f",
}
_D3_AXIS = {"andel": ".0%", "kr": "$,.0f", "kvot": ",.1f", "index": ",.1f"}
_UNIT_WORD = {"dagar": "dagar", "per_100": "per 100"}


def d3_format(unit: str | None, *, axis: bool = False) -> str:
    """The d3 format string for a measure unit (``andel`` → ``.1%``, ``kr`` → ``$,.0f`` …)."""
    if axis and unit in _D3_AXIS:
        return _D3_AXIS[unit]
    return _D3.get(unit or "", ",.4~f")


def format_value(x, unit: str | None) -> str:
    """A value as Swedish text for a unit, via ``insats.analysis.privacy.format_number`` (``""`` if missing)."""
    if unit == "andel":
        return format_number(x, 1, percent=True)
    text = format_number(x, {"kvot": 2, "index": 2, "per_100": 1}.get(unit or "", 0 if unit else 2))
    if text and unit == "kr":
        return text + "\u00a0kr"
    if text and unit == "dagar":
        return text + "\u00a0dagar"
    return text


def _unit(matt: str) -> str | None:

    if matt in MEASURES:
        return MEASURES[matt].unit
    if matt.startswith("likstallighet_cv__"):
        return "kvot"
    if matt.startswith("likstallighet_spannvidd__"):
        return _unit(matt.split("__", 1)[1])
    return None


def _measure_label(matt: str) -> str:

    return measure_label(matt)


def _area_names(omraden: pd.DataFrame | Mapping | None) -> dict[str, str]:
    """omrade_kod -> Swedish name (latest year's name when the table has several years)."""
    names: dict[str, str] = {CENTRAL: "Centralt (hela kommunen)", ALLA: "Alla områden"}
    if omraden is None:
        return names
    if isinstance(omraden, Mapping):
        names.update({str(k): str(v) for k, v in omraden.items()})
        return names
    frame = omraden
    if "ar" in frame:
        frame = frame.sort_values("ar")
    for code, name in zip(frame["omrade_kod"].astype(str), frame["omrade"].astype(str)):
        names[code] = name
    return names


def _name_of(codes: Sequence[str], names: dict[str, str]) -> list[str]:
    """Display names for area codes; a name shared by two codes gets the code appended."""
    out = [names.get(str(c), str(c)) for c in codes]
    seen: dict[str, int] = {}
    for n in out:
        seen[n] = seen.get(n, 0) + 1
    return [f"{n} ({c})" if seen[n] > 1 else n for n, c in zip(out, codes)]


def _bold_expr(name: str | None) -> dict:
    """Axis label weight: bold for the focus area."""
    if not name:
        return {}
    return {"labelFontWeight": {"expr": f"datum.value === {json.dumps(name)} ? 'bold' : 'normal'"}}


def _records(frame: pd.DataFrame) -> list[dict]:
    """JSON-safe rows (NaN/NA -> None, numpy scalars -> Python) for inline chart data."""
    rows = []
    for rec in frame.to_dict(orient="records"):
        clean = {}
        for k, v in rec.items():
            if v is None or v is pd.NA or (isinstance(v, float) and np.isnan(v)):
                clean[k] = None
            elif isinstance(v, (np.bool_, bool)):
                clean[k] = bool(v)
            elif isinstance(v, np.integer):
                clean[k] = int(v)
            elif isinstance(v, np.floating):
                clean[k] = None if np.isnan(v) else float(v)
            elif isinstance(v, pd.Timestamp):
                clean[k] = v.strftime("%Y-%m-%d")
            else:
                clean[k] = v
        rows.append(clean)
    return rows


def _data(frame: pd.DataFrame) -> alt.Data:
    return alt.Data(values=_records(frame))


def _title(text: str, subtitle: Sequence[str] | str | None = None) -> alt.TitleParams:
    sub = [s for s in ([subtitle] if isinstance(subtitle, str) else list(subtitle or [])) if s]
    return alt.TitleParams(text=text, subtitle=sub) if sub else alt.TitleParams(text=text)


def _measure_rows(long: pd.DataFrame, matt: str, names: dict[str, str]) -> tuple[pd.DataFrame, pd.Series | None]:
    """The areas' rows of one measure (with display names) and the ALLA row (or None)."""
    part = long[long["matt"] == matt].copy()
    if part.empty:
        raise ValueError(f"Måttet {matt!r} finns inte i tabellen.")
    for col in ("varde", "taljare", "namnare"):
        part[col] = pd.to_numeric(part[col], errors="coerce").astype(float) if col in part else np.nan
    if "undertryckt" in part:
        sup = part["undertryckt"].fillna(False).astype(bool)
    else:
        sup = pd.Series(False, index=part.index)
    part["undertryckt"] = sup.to_numpy()
    # a suppressed row never shows a number, whatever was left in it
    part.loc[part["undertryckt"], ["varde", "taljare", "namnare"]] = np.nan
    part["omrade_kod"] = part["omrade_kod"].astype(str)
    alla = part[part["omrade_kod"] == ALLA]
    areas = part[part["omrade_kod"] != ALLA].reset_index(drop=True)
    areas["omrade"] = _name_of(list(areas["omrade_kod"]), names)
    return areas, (alla.iloc[0] if len(alla) else None)


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
      (``insats.analysis.stats.wilson_interval``), the exact Poisson interval for ``justerat_utfall_oe``
      (its ``_lo``/``_hi`` rows), or ``lo``/``hi`` columns when the table has them;
    * a dashed rule at the whole study's value (``ALLA``);
    * suppressed areas (``undertryckt``) last, with ``..`` instead of a bar — never as zero — and
      the footnote that explains ``..`` in the subtitle.
    """
    _ensure_theme()
    names = _area_names(omraden)
    areas, alla = _measure_rows(long, matt, names)
    unit = _unit(matt)
    label = _measure_label(matt)

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
            interval_note = "Linjerna: 95 % konfidensintervall (exakt Poisson)."
        elif unit == "andel" and areas["taljare"].notna().any():
            lo, hi = wilson_interval(areas["taljare"].to_numpy(), areas["namnare"].to_numpy())
            areas["lo"], areas["hi"] = lo, hi
            interval_note = "Linjerna: 95 % konfidensintervall (Wilson)."
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

    data = _data(areas)
    y = alt.Y("omrade:N", sort=order, title=None, axis=alt.Axis(**_bold_expr(focus_name)))
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
    x_title = label + (f" ({_UNIT_WORD[unit]})" if unit in _UNIT_WORD and _UNIT_WORD[unit] not in label else "")
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
        tot = _data(
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
    chart = alt.layer(*layers).properties(title=_title(title or label, subtitle), height=alt.Step(26), width=460)
    return chart


# --------------------------------------------------------------------------- funnel plot

FUNNEL_FLAG_LABELS = {
    "over_998": "Över 99,8 %-gränsen",
    "over_95": "Över 95 %-gränsen",
    "inom": "Inom 95 %-gränserna",
    "under_95": "Under 95 %-gränsen",
    "under_998": "Under 99,8 %-gränsen",
}
"""Swedish labels of ``insats.analysis.stats.funnel_flags`` codes."""


def _funnel_limits(p0: float, n: np.ndarray) -> pd.DataFrame:
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
    _ensure_theme()
    names = _area_names(omraden)
    areas, alla = _measure_rows(long, matt, names)
    label = _measure_label(matt)
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
    lim = _funnel_limits(p0, grid)
    lines = []
    for level, name, lab in ((0.95, "95", "95 %"), (0.998, "998", "99,8 %")):
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
        alt.Chart(_data(limits))
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
        alt.Chart(_data(pd.DataFrame({"andel": [p0], "text": [format_value(p0, "andel")]})))
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
        alt.Chart(_data(pts))
        .mark_point(filled=True, size=110, opacity=0.9, stroke="#ffffff", strokeWidth=1)
        .encode(x="namnare:Q", y=alt.Y("varde:Q", scale=y_scale), color=color, tooltip=tooltip)
    )
    layers = [funnel, center, points]
    if focus is not None and pts["fokus"].any():
        layers.append(
            alt.Chart(_data(pts[pts["fokus"]]))
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
    return alt.layer(*layers).properties(
        title=_title(title or f"{label}: trattdiagram", subtitle), width=520, height=340
    )


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
    _ensure_theme()
    names = _area_names(omraden)
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
    area_names = dict(zip(area_codes, _name_of(area_codes, names)))
    cells["omrade"] = cells["omrade_kod"].map(area_names)
    cells["kategori_namn"] = [contract.label("kategori_medel", c) for c in cells["kategori"]]
    totals = cells.groupby("omrade_kod")["varde"].transform("sum")
    cells["andel"] = np.where(totals > 0, cells["varde"] / totals.where(totals > 0, 1), np.nan)
    cells["text"] = [format_number(v) if v > 0 else "–" for v in cells["varde"]]
    vmax = float(cells["varde"].max() or 1.0)
    cells["mork"] = cells["varde"] > 0.55 * vmax

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
    y = alt.Y("omrade:N", sort=y_order, title=None, axis=alt.Axis(**_bold_expr(focus_name)))
    tooltip = [
        alt.Tooltip("omrade:N", title="Område"),
        alt.Tooltip("kategori_namn:N", title="Kategori"),
        alt.Tooltip("varde:Q", title=value_title, format=",.0f"),
        alt.Tooltip("andel:Q", title="Andel av områdets " + value_title.lower(), format=".0%"),
    ]
    base = alt.Chart(_data(cells)).encode(x=x, y=y, tooltip=tooltip)
    rect = base.mark_rect(stroke="#ffffff", strokeWidth=1.5).encode(
        color=alt.condition(
            "datum.varde > 0",
            alt.Color(
                "varde:Q",
                title=value_title,
                scale=alt.Scale(scheme="blues", domainMin=0),
                legend=alt.Legend(format=",.0f", orient="right"),
            ),
            alt.value("#F4F4F4"),
        )
    )
    text = base.mark_text(fontSize=13).encode(
        text="text:N", color=alt.condition("datum.mork", alt.value("#ffffff"), alt.value("#222222"))
    )
    layers = [rect, text]
    if focus_name:
        layers.append(
            alt.Chart(_data(cells[cells["omrade"] == focus_name]))
            .mark_rect(fill=None, stroke=FOCUS_COLOR, strokeWidth=2.5)
            .encode(x=x, y=y)
        )
    return alt.layer(*layers).properties(
        title=_title(
            title or f"{value_title} per område och kategori",
            "Centralt = insatser för hela kommunen." if CENTRAL in area_codes else None,
        ),
        width=alt.Step(64),
        height=alt.Step(28),
    )


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
    _ensure_theme()
    names = _area_names(omraden)
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
    area_names = dict(zip(codes_present, _name_of(codes_present, names)))
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
    colors = [CATEGORY_COLORS.get(c, OKABE_ITO[i % len(OKABE_ITO)]) for i, c in enumerate(present)]
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
        alt.Chart(_data(agg))
        .mark_bar(stroke="#ffffff", strokeWidth=0.5)
        .encode(
            x=x,
            y=alt.Y("omrade:N", sort=y_order, title=None, axis=alt.Axis(**_bold_expr(focus_name))),
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
    return chart.properties(
        title=_title(
            title or ("Fördelning av medel per område" if normalize else "Medel per område och kategori"), subtitle
        ),
        width=480,
        height=alt.Step(26),
    )


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
    _ensure_theme()
    data = frame.copy()
    temporal = pd.api.types.is_datetime64_any_dtype(data[x]) or isinstance(break_date, (str, pd.Timestamp))
    if temporal:
        data[x] = pd.to_datetime(data[x])
    if unit is None:
        unit = _unit(y)
    x_type = "T" if temporal else "Q"
    brk = pd.Timestamp(break_date) if (break_date is not None and temporal) else break_date
    if brk is not None:
        data["period"] = np.where(data[x] < brk, "Före", "Efter")
    ytitle = y_title or (_measure_label(y) if _unit(y) else y)
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
    base = alt.Chart(_data(data))
    lines = base.mark_line(point=alt.OverlayMarkDef(size=40, filled=True)).encode(tooltip=tooltip, **enc)
    layers: list = [lines]
    if focus is not None and color:
        layers = [
            lines.transform_filter(f"datum[{json.dumps(color)}] !== {json.dumps(focus)}"),
            lines.transform_filter(f"datum[{json.dumps(color)}] === {json.dumps(focus)}"),
        ]
    if trend and brk is not None:
        groups = ["period"] + ([color] if color else [])
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
            alt.Chart(_data(rule_frame))
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
            alt.Chart(_data(rule_frame))
            .mark_text(align="left", dx=5, dy=-4, baseline="bottom", fontWeight="bold")
            .encode(x=f"{x}:{x_type}", y=alt.value(0), text="etikett:N")
        )
        layers += [rule, label_mark]
        subtitle = f"Streckad linje: {break_label.lower()}" + (
            f" ({format_number(brk.day)} {TIME_LOCALE['months'][brk.month - 1]} {brk.year})." if temporal else "."
        )
        if trend:
            subtitle += " Prickade linjer: linjär trend före och efter."
    return alt.layer(*layers).properties(title=_title(title or ytitle, subtitle), width=560, height=300)


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
    _ensure_theme()
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
    base = alt.Chart(_data(frame))
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
    return alt.layer(bars, labels, hidden).properties(
        title=_title(title or "En väg in: från ansökan till insats", subtitle), width=460, height=alt.Step(40)
    )


# --------------------------------------------------------------------------- offline rendering

RENDERER = "insats"
"""Name of the Altair renderer registered by ``enable_offline``."""

_JS_GLOBAL = "insatsVega"
_STATE = {"bundle_shown": False}

EMBED_OPTIONS: dict = {
    "renderer": "svg",
    "actions": {"export": True, "source": False, "compiled": False, "editor": False},
    "formatLocale": NUMBER_LOCALE,
    "timeFormatLocale": TIME_LOCALE,
    "i18n": {
        "PNG_ACTION": "Spara som PNG",
        "SVG_ACTION": "Spara som SVG",
        "CLICK_TO_VIEW_ACTIONS": "Klicka för att visa åtgärder",
    },
}
"""Options for vega-embed: SVG output, only the export menu (no links to the online editor)."""


def _vl_version() -> str | None:

    major, minor = alt.SCHEMA_VERSION.lstrip("v").split(".")[:2]
    wanted = f"{major}.{minor}"
    return ("v" + wanted.replace(".", "_")) if wanted in vlc.get_vegalite_versions() else None


def _cache_dir() -> Path:
    root = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(root) / "insats"


@lru_cache(maxsize=1)
def javascript_bundle() -> str:
    """vega + vega-lite + vega-embed as one script with no external dependency (from vl-convert).

    Defines ``window.insatsVega = {embed, vega, vegaLite}``. Bundling takes a few seconds, so the
    result is cached in memory and on disk (``~/.cache/insats``, keyed by the vl-convert version).
    """

    vl_version = _vl_version()
    key = hashlib.sha256(f"{vlc.__version__}|{vl_version}|{_JS_GLOBAL}|1".encode()).hexdigest()[:16]
    path = _cache_dir() / f"vega-bundle-{key}.js"
    try:
        text = path.read_text(encoding="utf-8")
        if text.rstrip().endswith("};") and _JS_GLOBAL in text:
            return text
    except OSError:
        pass
    snippet = f"window.{_JS_GLOBAL} = {{embed: vegaEmbed, vega: vega, vegaLite: vegaLite}};"
    text = vlc.javascript_bundle(snippet=snippet, vl_version=vl_version)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".bundle.", suffix=".js")
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
        os.replace(tmp, path)
    except OSError:
        pass
    return text


def _json_script_safe(text: str) -> str:
    """JSON made safe inside an inline <script>: ``</`` and ``<!--`` only occur in its strings,
    where ``<\\/`` and ``\\u003c!--`` mean the same."""
    return text.replace("</", "<\\/").replace("<!--", "\\u003c!--")


def _js_script_safe(text: str) -> str:
    """JavaScript source made safe inside an inline <script> (the bundle has no ``</script``;
    this only guards against a future version that has)."""
    return re.sub(r"</(script)", r"<\\/\1", text, flags=re.I)


def bundle_html() -> str:
    """An invisible ``<script>`` that defines the Vega libraries once (no network)."""
    return (
        f'<script type="text/javascript" data-insats="vega-bundle">\n'
        f"if (!window.{_JS_GLOBAL}) {{ (function () {{\n{_js_script_safe(javascript_bundle())}\n}})(); }}\n</script>"
    )


def _with_locale(spec: dict) -> dict:
    """The spec with the Swedish ``config.locale`` added when it has none."""
    spec = dict(spec)
    config = dict(spec.get("config") or {})
    if "locale" not in config:
        config["locale"] = LOCALE
    spec["config"] = config
    return spec


def _spec(chart) -> dict:
    if isinstance(chart, dict):
        return _with_locale(chart)
    _ensure_theme()
    return _with_locale(chart.to_dict())


def chart_html(chart, *, include_bundle: bool = False, div_id: str | None = None) -> str:
    """HTML fragment that draws one chart with the inline bundle (``include_bundle``) or with the
    bundle already on the page (it waits up to 20 s for it)."""
    spec = _spec(chart)
    div_id = div_id or f"insats-chart-{uuid.uuid4().hex[:12]}"
    spec_json = _json_script_safe(json.dumps(spec, ensure_ascii=False, allow_nan=False, default=str))
    opts_json = _json_script_safe(json.dumps(EMBED_OPTIONS, ensure_ascii=False))
    note = "Diagrammet ritas med JavaScript. Syns det inte: kör cellen igen (eller välj ”Trust notebook”)."
    script = f"""
<div class="insats-chart" id="{div_id}"><span class="insats-chart-note" style="color:#666;font-size:13px">{_html.escape(note)}</span></div>
<script type="text/javascript">
(function () {{
  var el = document.getElementById({json.dumps(div_id)});
  var spec = {spec_json};
  var opt = {opts_json};
  function draw() {{
    var note = el.querySelector(".insats-chart-note");
    if (note) note.remove();
    window.{_JS_GLOBAL}.embed(el, spec, opt).catch(function (err) {{
      el.innerHTML = '<pre style="color:#b00020">Diagrammet kunde inte ritas: ' + String(err) + '</pre>';
      console.error(err);
    }});
  }}
  var tries = 0;
  (function wait() {{
    if (window.{_JS_GLOBAL}) {{ draw(); }}
    else if (tries++ < 400) {{ setTimeout(wait, 50); }}
    else {{ el.textContent = "Diagrambiblioteket saknas: anropa insats.charts.enable_offline() först."; }}
  }})();
}})();
</script>"""
    return (bundle_html() if include_bundle else "") + script


def _title_text(spec: dict) -> str:
    title = spec.get("title")
    if isinstance(title, dict):
        title = title.get("text")
    if isinstance(title, list):
        title = " ".join(map(str, title))
    return str(title) if title else "Diagram"


def _renderer(spec: dict, **metadata) -> dict:
    """Altair renderer: a text/html block per chart; the bundle rides along until it was shown."""
    include = not _STATE["bundle_shown"]
    _STATE["bundle_shown"] = True
    return {"text/html": chart_html(spec, include_bundle=include), "text/plain": f"<Diagram: {_title_text(spec)}>"}


def enable_offline(mode: str = "auto", *, display_bundle: bool = True) -> str:
    """Make Altair charts render with no internet; call once, near the top of a notebook.

    ``"auto"`` and ``"html"``: enable the renderer ``"insats"`` and display the Vega bundle once in
    this cell's output (see the module docstring: works in JupyterLab, Voila and nbconvert HTML).
    ``"jupyter"``: Altair's ``JupyterChart`` widget with its bundled JavaScript (needs
    ``anywidget``; live sessions only, not for nbconvert export). Also enables the theme.
    Returns the renderer name in use.
    """
    use_theme()
    if mode not in ("auto", "html", "jupyter"):
        raise ValueError(f"Okänt läge {mode!r}: välj 'auto', 'html' eller 'jupyter'.")
    if mode == "jupyter":
        try:
            import anywidget  # noqa: F401
        except ImportError as exc:
            raise ImportError("mode='jupyter' kräver paketet anywidget; använd mode='html'.") from exc
        alt.renderers.enable("jupyter", offline=True)
        return "jupyter"
    if RENDERER not in alt.renderers.names():
        alt.renderers.register(RENDERER, _renderer)
    alt.renderers.enable(RENDERER)
    if display_bundle:
        if get_ipython() is not None:
            display({"text/html": bundle_html(), "text/plain": ""}, raw=True)
            _STATE["bundle_shown"] = True
    return RENDERER


# --------------------------------------------------------------------------- files


def to_html(charts, *, title: str | None = None) -> str:
    """A self-contained HTML page (bundle inline, no network) with one or more charts."""
    items = list(charts) if isinstance(charts, (list, tuple)) else [charts]
    specs = [_spec(c) for c in items]
    page_title = title or _title_text(specs[0])
    body = "\n".join(chart_html(s) for s in specs)
    return f"""<!DOCTYPE html>
<html lang="sv">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{_html.escape(page_title)}</title>
<style>body {{ font-family: {FONT}; margin: 24px; }} .insats-chart {{ margin-bottom: 32px; }}</style>
{bundle_html()}
</head>
<body>
{body}
</body>
</html>
"""


def _write_atomic(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.stem}.", suffix=path.suffix)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def save(chart, path, *, scale: float = 2.0, ppi: float | None = None) -> Path:
    """Write a chart by the file's extension, with the Swedish locale, without a browser or network.

    ``.png`` (``scale`` 2 for sharp projector/report images; ``ppi`` sets print resolution),
    ``.svg``, ``.pdf`` via vl-convert; ``.html`` a self-contained page; ``.json`` the spec.
    """

    path = Path(path)
    ext = path.suffix.lower()
    spec = _spec(chart)
    common = {
        "vl_version": _vl_version(),
        "format_locale": NUMBER_LOCALE,
        "time_format_locale": TIME_LOCALE,
        "allowed_base_urls": [],
    }
    if ext == ".png":
        data = vlc.vegalite_to_png(spec, scale=scale, ppi=ppi, **common)
    elif ext == ".svg":
        data = vlc.vegalite_to_svg(spec, **common).encode("utf-8")
    elif ext == ".pdf":
        data = vlc.vegalite_to_pdf(spec, **common)
    elif ext in (".html", ".htm"):
        data = to_html(spec).encode("utf-8")
    elif ext == ".json":
        data = json.dumps(spec, ensure_ascii=False, indent=1).encode("utf-8")
    else:
        raise ValueError(f"Okänt filformat {path.suffix!r} för {path.name}: välj .png, .svg, .pdf, .html eller .json.")
    _write_atomic(path, data)
    return path


# --------------------------------------------------------------------------- nbconvert

_OFFLINE_TEMPLATE = "insats_offline.html.j2"
_OFFLINE_TEMPLATE_SOURCE = """\
{%- extends 'lab/index.html.j2' -%}
{#- insats: the lab template without CDN scripts, so that reports open with no internet -#}
{%- block html_head_js_requirejs -%}{%- endblock html_head_js_requirejs -%}
{%- block html_head_js_mathjax -%}{%- endblock html_head_js_mathjax -%}
{%- block html_head_js_mermaidjs -%}{%- endblock html_head_js_mermaidjs -%}
{%- block jupyter_widgets -%}{%- endblock jupyter_widgets -%}
"""


def offline_html_exporter(**traits):
    """An nbconvert ``HTMLExporter`` (lab look) whose page loads nothing from the internet.

    The stock template puts require.js, MathJax and mermaid (and, with widget state, the widget
    manager) in the page head from CDNs; this one leaves them out. Charts made with
    ``enable_offline()`` carry their own JavaScript. Keyword arguments set exporter traits, e.g.
    ``exclude_input=True`` for a report without code.
    """

    loader = jinja2.DictLoader({_OFFLINE_TEMPLATE: _OFFLINE_TEMPLATE_SOURCE})
    exporter = HTMLExporter(template_name="lab", extra_loaders=[loader], **traits)
    exporter.template_file = _OFFLINE_TEMPLATE
    return exporter


def export_html(notebook, path=None, *, exclude_input: bool = True, **traits) -> str:
    """Export an executed notebook (path or ``nbformat`` node) to self-contained offline HTML.

    Returns the HTML; writes it to ``path`` too when given.
    """

    nb = nbformat.read(str(notebook), as_version=4) if isinstance(notebook, (str, os.PathLike)) else notebook
    body, _ = offline_html_exporter(exclude_input=exclude_input, **traits).from_notebook_node(nb)
    if path is not None:
        _write_atomic(Path(path), body.encode("utf-8"))
    return body


_ensure_theme()

_URL = re.compile(r"""<(?:script|link)[^>]+(?:src|href)\s*=\s*["'](https?:)?//""", re.I)


def external_script_tags(html_text: str) -> list[str]:
    """``<script src>``/``<link href>`` tags that point to another host (for tests and checks)."""
    return [m.group(0) for m in _URL.finditer(html_text)]
