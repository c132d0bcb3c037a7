"""Altair charts for the studies' notebooks, reports and Voila dashboards — in Swedish, offline.

Every builder returns a plain ``alt.Chart`` or ``alt.LayerChart`` (never a configured top-level
chart), so the caller can add ``.properties(...)``, layer, concatenate or facet it. Titles, axis
titles, legends and tooltips are Swedish; measure names come from ``insats.analysis.measures.measure_label``
and area names from the ``omraden`` table when it is passed (``omraden=``).

Builders
--------
``ranked_bars(long, matt)``     areas sorted by a measure, with 95 % intervals and the whole-study
                                (``ALLA``) value as a rule; suppressed areas are drawn as ``..``.
``funnel_plot(long, matt)``     share against its base with exact binomial 95 % / 99,8 % limits and the
                                same limits adjusted for overdispersion.
``utbud_matrix(insatser)``      area × category heat map of places.
``spending_bars(medel)``        money per area stacked by category, feriejobb at the base.
``time_series(frame, x, y)``    lines for an interrupted time series, a rule at the reform.
``flow_steps(counts)``          "en väg in": ansökan → bedömd → arbetsförmåga → insats inom 90 dagar.
``trend_small_multiples(trend, matt)``  a panel per area with the measure per year, the whole study
                                dashed in every panel; suppressed years are not drawn.

Text alternatives (WCAG 2.1 AA)
-------------------------------
Every builder gives its chart a ``description`` (what it shows and a generated one-sentence reading, e.g.
which districts lie outside the funnel's limits; Vega puts it on the drawn chart as its ``aria-label``)
and keeps the reading and the chart's data table beside it (``insats.charts.accessible``);
``chart_html`` shows the reading under the chart and the table in a ``<details>`` ("Visa tabell").
Funnel points have a shape per position against the limits and their district's name; lines end in
their series' name; the theme's text colours reach 4,5:1 and its mark colours 3:1 against white.

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
  once and every chart's script (the CDN-free page template is ``insats.reports.export``).

``mode="jupyter"`` enables Altair's ``JupyterChart`` renderer with ``offline=True`` for
interactive selections in a live session; it requires ``anywidget`` and is **not** suitable for
reports exported with nbconvert.

``save(chart, path)`` writes ``.png``, ``.svg``, ``.pdf`` (vl-convert, no browser, no network),
``.html`` (a self-contained page with the bundle inline) or ``.json`` (the Vega-Lite spec).
"""

from __future__ import annotations

from insats.charts import common  # noqa: F401  (builders elsewhere in the package use its helpers)
from insats.charts.bars import ranked_bars, spending_bars
from insats.charts.flow import FLOW_STEPS, flow_steps
from insats.charts.funnel import ADJUSTED_LIMITS, FUNNEL_FLAG_LABELS, FUNNEL_FLAG_SHAPES, PLAIN_LIMITS, funnel_plot
from insats.charts.matrix import utbud_matrix
from insats.charts.offline import chart_html, enable_offline, javascript_bundle, save, to_html
from insats.charts.profile import profile_bars
from insats.charts.series import time_series
from insats.charts.theme import (
    BASE_COLOR,
    CATEGORY_COLORS,
    FOCUS_COLOR,
    MUTED_COLOR,
    NUMBER_LOCALE,
    OTHER_COLOR,
    PALETTE,
    THEME,
    TIME_LOCALE,
    TOTAL_COLOR,
    d3_format,
    ensure_theme,
    format_value,
    theme_config,
    use_theme,
)
from insats.charts.trend import trend_small_multiples

__all__ = [
    "ADJUSTED_LIMITS",
    "BASE_COLOR",
    "CATEGORY_COLORS",
    "FLOW_STEPS",
    "FOCUS_COLOR",
    "FUNNEL_FLAG_LABELS",
    "FUNNEL_FLAG_SHAPES",
    "MUTED_COLOR",
    "NUMBER_LOCALE",
    "OTHER_COLOR",
    "PALETTE",
    "PLAIN_LIMITS",
    "THEME",
    "TIME_LOCALE",
    "TOTAL_COLOR",
    "chart_html",
    "d3_format",
    "enable_offline",
    "flow_steps",
    "format_value",
    "funnel_plot",
    "javascript_bundle",
    "profile_bars",
    "ranked_bars",
    "save",
    "spending_bars",
    "theme_config",
    "time_series",
    "to_html",
    "trend_small_multiples",
    "use_theme",
    "utbud_matrix",
]

ensure_theme()  # the Swedish theme is active wherever the charts are imported (unless another was chosen)
