"""The chart theme: Okabe–Ito colours, Swedish d3 number and time locale, fonts; value formats."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import cast

import altair as alt
from altair.theme import ThemeConfig

from insats.analysis.privacy import SUPPRESSED
from insats.charts import speedups
from insats.text import MINUS, PERCENT_SEP, THOUSANDS_SEP, format_number

# --------------------------------------------------------------------------- theme

THEME = "insats"
"""Name of the Altair theme registered by this module."""

PALETTE = ["#0072B2", "#C44E00", "#007F5F", "#AA3377", "#6B7A00", "#332288", "#882255", "#000000"]
"""Categorical palette (blue first): Okabe & Ito's (2008) colour-blind-safe hues, darkened where
needed so that every colour has at least 3:1 contrast against the white background (WCAG 2.1
1.4.11, non-text contrast; the light blue, orange and yellow of the original have 1.3–2.3:1)."""

BASE_COLOR = "#0072B2"
"""Bars and points when no area is in focus (Okabe–Ito blue)."""
FOCUS_COLOR = "#D55E00"
"""The focus area (Okabe–Ito vermillion)."""
OTHER_COLOR = "#8C8C8C"
"""The other areas when one is in focus (3,4:1 against white: a graphic must reach 3:1, WCAG 1.4.11)."""
TOTAL_COLOR = "#000000"
"""The whole study (``ALLA``)."""
MUTED_COLOR = "#666666"
"""Secondary text, ``..`` and interval marks."""

CATEGORY_COLORS: dict[str, str] = {
    "arbetstraning": "#0072B2",
    "jobbsok_coachning": "#1B7F9E",
    "kurs": "#009E73",
    "matchning": "#B8468F",
    "praktik_offentlig": "#A06000",
    "praktik_privat": "#6B7A00",
    "vagledning": "#332288",
    "kommunal_anstallning": "#882255",
    "feriejobb": "#D55E00",
    "ovrigt": "#767676",
    "administration": "#4D4D4D",
}
"""A fixed colour per intervention category (``kategori_medel`` codes), the same in every chart;
feriejobb has the strong vermillion so that it stands out (the kartläggning's point). Every colour
has at least 3:1 contrast against white (WCAG 2.1 1.4.11); neighbouring segments are also told apart
by a white edge, the legend's order and the table under each chart."""

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
            "range": {"category": PALETTE, "heatmap": {"scheme": "blues"}, "ramp": {"scheme": "blues"}},
            "view": {"stroke": None, "continuousWidth": 520, "continuousHeight": 320},
            "timeFormat": "%Y-%m-%d",
        }
    }


# Vega-Lite accepts the theme (scheme objects in ``range``, a full ``locale``); altair's ThemeConfig
# TypedDict is narrower, so the registered function is declared as one.
_theme_config_typed = cast(Callable[[], ThemeConfig], theme_config)


@functools.cache
def _register() -> None:
    """Register the theme with Altair once per process (``alt.theme.names()`` reads the installed
    packages' entry points, 5 ms a call: too slow for every chart of a dashboard redraw), and put
    the compiled whole-chart validator in front of Altair's, keeping its wrapper-class table
    (``insats.charts.speedups``)."""
    speedups.install()
    if THEME not in alt.theme.names():
        alt.theme.register(THEME, enable=False)(_theme_config_typed)


def use_theme() -> str:
    """Register (once) and enable the ``"insats"`` Altair theme; returns its name."""
    _register()
    alt.theme.enable(THEME)
    return THEME


def ensure_theme() -> None:
    """Register the theme; enable it unless the user chose another (non-default) one."""
    _register()
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
UNIT_WORD = {"dagar": "dagar", "per_100": "per 100"}


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


def change_unit(unit: str | None) -> str:
    """What a difference between two values of a unit is counted in (``andel`` → ``procentenheter``)."""
    return {"andel": "procentenheter", "per_100": "platser per 100", "kr": "kr", "dagar": "dagar"}.get(unit or "", "")


def format_change(diff, unit: str | None) -> str:
    """A difference between two values as Swedish text without its unit (``3,2``, ``−1,0``): shares in
    percentage points with one decimal, other units as ``format_value`` shows them (``""`` if missing)."""
    if unit == "andel":
        return format_number(None if diff is None else diff * 100, 1)
    return format_number(diff, {"kvot": 2, "index": 2, "per_100": 1}.get(unit or "", 0 if unit else 2))
