"""Widget dashboards for committee (nämnd) meetings, served by Voila (``insats serve``).

The notebooks under ``notebooks/dashboards/`` are a parameters cell and one call each:

* ``jamfor_omraden(data_dir)``  – *Jämför områden*: a measure and a period; ranked bars with
  intervals and the whole-study line, the funnel plot and the utbud matrix; a district in focus
  is highlighted in all three; rå/justerad for the outcome measure.
* ``omradesprofil(data_dir)``   – *Områdesprofil*: one district's key figures against the rest
  (table and bars), its interventions and its spending.
* ``utvardering(data_dir)``     – *Utvärdering* (Sundbyberg's five areas) as tabs.

How it stays fast: the study is loaded once per kernel, and the published measures are computed
once per period (``MeasureCache``); a change of district only rebuilds the Altair specs (a few
milliseconds) and replaces the content of the ``ipywidgets.Output`` that holds each chart. Charts
render offline through ``insats.charts.enable_offline`` (the Vega bundle is shown once on the
page; see that module's docstring).

Privacy: every table shown or downloaded goes through ``insats.reports.common.measure_table`` (or is
built from the published, disclosure-controlled measures with ``..`` for suppressed cells);
the comparison with "the rest" uses the median of the other areas' *published* values, never a
difference of totals, so no suppressed cell can be recovered.

Downloads: each view has buttons that turn its table into XLSX or CSV (semicolon, UTF-8 with BOM,
as Swedish Excel reads it) and its chart into PNG (``insats.charts.save``, vl-convert); the
result is offered as a ``data:`` link with a ``download`` attribute in an HTML widget, which
works in Voila with no network and no file written on the server.

``INSATS_DATA``: when set (``insats serve --data DIR``), it overrides every dashboard's
``data_dir`` parameter.
"""

from __future__ import annotations

import base64
import html as _html
import io
import os
import re
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import altair as alt
import ipywidgets
import numpy as np
import pandas as pd
from IPython.display import HTML, display

from insats import charts, contract
from insats.analysis.measures import (
    MEASURES,
    Context,
    Params,
    compute_measures,
    default_period,
    measure_label,
    open_interventions,
)
from insats.analysis.privacy import SUPPRESSED, footnote, format_number
from insats.contract import ALLA, CENTRAL
from insats.dashboards.serve import ENV_DATA
from insats.data.study import Study
from insats.reports import utvardering
from insats.reports.common import area_names, load_for_report, measure_table, synthetic_banner

__all__ = [
    "ENV_DATA",
    "ChartView",
    "DashboardData",
    "MeasureCache",
    "compare_table",
    "csv_bytes",
    "data_uri_link",
    "jamfor_omraden",
    "month_options",
    "omradesprofil",
    "profile_chart",
    "profile_table",
    "resolve_data_dir",
    "utvardering",
    "xlsx_bytes",
]

"""Environment variable that points every dashboard at another study (``insats serve --data``)."""

DEFAULT_DATA = {
    "jamfor_omraden": "data/exempel/stockholm",
    "omradesprofil": "data/exempel/stockholm",
    "utvardering": "data/exempel/sundbyberg",
}

OUTCOME_RAW = "utfall_arbete_studier_andel"
OUTCOME_ADJUSTED = "justerat_utfall_oe"

COMPARE_EXCLUDE_PREFIXES = ("likstallighet_", "justerat_utfall_")
"""Measures not offered in the measure dropdown (derived rows; the adjusted outcome is the
rå/justerad toggle of the outcome measure)."""

PROFILE_MEASURES = (
    "erbjudande_andel",
    "narvaro_andel_80",
    "utfall_arbete_studier_andel",
    "utfall_sjalvforsorjning_andel",
    "justerat_utfall_oe",
    "langvarigt_andel",
    "vagin_andel_30_dagar",
    "vagin_dagar_median",
    "lov_andel_valt",
    "utbud_insatser",
    "utbud_kategorier",
    "utbud_platser_per_100",
    "utbud_andel_narvarokrav",
    "medel_totalt",
    "medel_andel_feriejobb",
    "medel_per_deltagare",
)
"""Key figures of the Områdesprofil, in display order (those the study lacks are left out)."""

MONTHS_SV = ["jan", "feb", "mar", "apr", "maj", "jun", "jul", "aug", "sep", "okt", "nov", "dec"]

CSS = """
<style>
.insats-dash { font-family: 'Source Sans 3','Segoe UI',Arial,sans-serif; }
.insats-banner { background:#FFF4D6; border-left:6px solid #E69F00; padding:10px 14px; margin:4px 0 12px 0;
  font-size:15px; color:#222; }
.insats-h1 { font-size:26px; font-weight:600; margin:6px 0 2px 0; color:#111; }
.insats-lead { font-size:15px; color:#333; margin:0 0 10px 0; max-width:60em; }
.insats-note { font-size:13px; color:#555; }
.insats-links a { margin-right:16px; font-weight:600; }
.insats-table table { border-collapse:collapse; font-size:14px; }
.insats-table th, .insats-table td { padding:3px 10px; border-bottom:1px solid #ddd; text-align:right; }
.insats-table th:first-child, .insats-table td:first-child { text-align:left; }
.insats-table tr.insats-focus td { background:#FBE3D6; font-weight:600; }
.insats-dash .lm-TabBar-tab, .insats-dash .p-TabBar-tab { flex: 0 0 auto !important; min-width: fit-content !important;
  max-width: none !important; font-size: 14px; }
</style>
"""


READY_FILE_ENV = "INSATS_READY_FILE"
"""When set, every dashboard appends ``<name> <unix time>`` to this file once built — how
``benchmarks/dashboard.py`` knows that a pre-started Voila kernel has finished the notebook."""


def _mark_ready(name: str) -> None:
    path = os.environ.get(READY_FILE_ENV)
    if path:
        try:
            with open(path, "a", encoding="utf-8") as fh:
                fh.write(f"{name} {time.time():.3f}\n")
        except OSError:
            pass


# --------------------------------------------------------------------------- data


def resolve_data_dir(data_dir: str | os.PathLike | None, default: str = DEFAULT_DATA["jamfor_omraden"]) -> str:
    """The study folder to show: ``$INSATS_DATA`` when set, else the notebook's parameter."""
    env = os.environ.get(ENV_DATA, "").strip()
    if env:
        return env
    return str(data_dir) if data_dir else default


def month_options(study: Study) -> list[tuple[str, str]]:
    """(Swedish label, ``YYYY-MM``) for every month of the study's default period."""
    start, end = default_period(study)
    months = pd.period_range(start, end, freq="M")
    return [(f"{MONTHS_SV[p.month - 1]} {p.year}", p.strftime("%Y-%m")) for p in months]


class MeasureCache:
    """Published measures, computed once per (start, end) period."""

    def __init__(self, study: Study, *, min_cell: int = 5, maxsize: int = 16):
        self.study = study
        self.min_cell = min_cell
        self.maxsize = maxsize
        self._store: dict[tuple[str, str], object] = {}
        self.computations = 0
        """How many times measures were actually computed (for tests)."""

    def result(self, start: str, end: str):
        key = (str(start), str(end))
        if key not in self._store:
            if len(self._store) >= self.maxsize:
                self._store.pop(next(iter(self._store)))
            self._store[key] = compute_measures(self.study, start=start, end=end, min_cell=self.min_cell)
            self.computations += 1
        return self._store[key]

    def table(self, start: str, end: str) -> pd.DataFrame:
        """The published long table (disclosure control applied) for the period."""
        return self.result(start, end).table


@dataclass
class DashboardData:
    """A loaded study with its names, months and measure cache (one per kernel)."""

    study: Study
    path: str
    min_cell: int = 5
    cache: MeasureCache = field(init=False)

    def __post_init__(self):
        self.cache = MeasureCache(self.study, min_cell=self.min_cell)

    @classmethod
    def load(cls, data_dir, *, min_cell: int = 5, default: str = DEFAULT_DATA["jamfor_omraden"]) -> DashboardData:
        path = resolve_data_dir(data_dir, default)
        return cls(load_for_report(path), path, min_cell)

    @property
    def omraden(self) -> pd.DataFrame | None:
        if "omraden" not in self.study:
            return None
        om = self.study["omraden"]
        return om.sort_values("ar") if "ar" in om else om

    @property
    def names(self) -> dict[str, str]:
        return area_names(self.omraden)

    def areas(self) -> list[tuple[str, str]]:
        """(name, code) of the study's areas, sorted by name."""
        ctx = Context(self.study, Params(*default_period(self.study)))
        names = self.names
        return sorted(((names.get(c, c), c) for c in ctx.areas), key=lambda t: t[0])

    @property
    def months(self) -> list[tuple[str, str]]:
        return month_options(self.study)

    def open_interventions(self, start: str, end: str) -> pd.DataFrame:
        """Interventions counted as intervention and open in the period (``measures`` definition)."""
        if "insatser" not in self.study:
            return pd.DataFrame(columns=["omrade_kod", "kategori", "platser"])
        params = Params(pd.Timestamp(start + "-01"), pd.Timestamp(end + "-01"), min_cell=self.min_cell)
        return open_interventions(Context(self.study, params))


# --------------------------------------------------------------------------- files


def csv_bytes(table: pd.DataFrame) -> bytes:
    """CSV as Swedish Excel reads it: semicolon, UTF-8 with BOM, the index as first column."""
    return table.to_csv(
        sep=";", index=table.index.name is not None or not isinstance(table.index, pd.RangeIndex), encoding="utf-8-sig"
    ).encode("utf-8-sig")


def xlsx_bytes(table: pd.DataFrame, sheet: str = "Tabell") -> bytes:
    """An XLSX workbook with one sheet holding the table (as shown: ``..`` stays ``..``)."""
    buf = io.BytesIO()
    index = table.index.name is not None or not isinstance(table.index, pd.RangeIndex)
    with pd.ExcelWriter(buf, engine="openpyxl") as writer:
        table.to_excel(writer, sheet_name=sheet[:31], index=index)
        ws = writer.sheets[sheet[:31]]
        for col in ws.columns:
            width = max(len(str(c.value or "")) for c in col)
            ws.column_dimensions[col[0].column_letter].width = min(60, max(10, width + 2))
    return buf.getvalue()


def png_bytes(chart) -> bytes:
    """The chart as PNG via ``insats.charts.save`` (vl-convert, Swedish locale, no network)."""
    with tempfile.TemporaryDirectory(prefix="insats-png-") as tmp:
        path = charts.save(chart, Path(tmp) / "diagram.png")
        return path.read_bytes()


MIME = {
    "csv": "text/csv",
    "png": "image/png",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


def data_uri_link(data: bytes, filename: str, text: str | None = None) -> str:
    """An ``<a download>`` link carrying the file as a ``data:`` URI (works offline in Voila)."""
    ext = filename.rsplit(".", 1)[-1].lower()
    uri = f"data:{MIME.get(ext, 'application/octet-stream')};base64,{base64.b64encode(data).decode('ascii')}"
    label = _html.escape(text or f"Spara {filename}")
    return (
        f'<a class="insats-download" download="{_html.escape(filename)}" href="{uri}" '
        f'title="{_html.escape(filename)}">{label}</a>'
    )


def slug(text: str) -> str:
    """A file-name stem from Swedish text: ``Jämför områden`` → ``jamfor_omraden``."""
    folded = contract.fold(text) if hasattr(contract, "fold") else text.lower()
    return re.sub(r"[^a-z0-9]+", "_", str(folded).lower()).strip("_") or "tabell"


def table_html(table: pd.DataFrame, *, focus: str | None = None) -> str:
    """A display table as HTML; the row whose label is ``focus`` is highlighted."""
    index_name = table.index.name or ""
    head = "".join(f"<th>{_html.escape(str(c))}</th>" for c in [index_name, *table.columns])
    rows = []
    for label, row in table.iterrows():
        cls = ' class="insats-focus"' if focus is not None and str(label) == str(focus) else ""
        cells = "".join(f"<td>{_html.escape('' if pd.isna(v) else str(v))}</td>" for v in row.tolist())
        rows.append(f"<tr{cls}><td>{_html.escape(str(label))}</td>{cells}</tr>")
    return (
        f'<div class="insats-table"><table><thead><tr>{head}</tr></thead><tbody>{"".join(rows)}</tbody></table></div>'
    )


# --------------------------------------------------------------------------- widgets


def _w():

    return ipywidgets


def md_html(text: str) -> str:
    """Minimal Markdown (``**bold**``, ``*italic*``, `` `code` ``, paragraphs) as safe HTML."""
    out = []
    for para in re.split(r"\n\s*\n", str(text).strip()):
        t = _html.escape(para.strip().lstrip("> ").strip())
        t = re.sub(r"\*\*(.+?)\*\*", r"<strong>\1</strong>", t)
        t = re.sub(r"(?<![*\w])\*(?!\s)(.+?)(?<!\s)\*", r"<em>\1</em>", t)
        t = re.sub(r"`(.+?)`", r"<code>\1</code>", t)
        out.append(f"<p>{t}</p>")
    return "".join(out)


def banner_html(study: Study) -> str:
    """``report.synthetic_banner`` (Markdown) as HTML for an HTML widget ('' for real data)."""
    text = synthetic_banner(study)
    if not text:
        return ""
    text = _html.escape(text.lstrip("> ").strip())
    text = re.sub(r"\*\*(.+?)\*\*", r"<strong>\1</strong>", text)
    text = re.sub(r"`(.+?)`", r"<code>\1</code>", text)
    return f'<div class="insats-banner" role="note">{text}</div>'


class ChartView:
    """One chart (in an ``Output`` replaced in place), an optional table, and download buttons.

    ``show(chart, table)`` redraws; the buttons *Tabell (Excel)*, *Tabell (CSV)* and
    *Diagram (PNG)* put a download link for the current content in ``links``.
    """

    def __init__(self, stem: str, *, table: bool = True, chart: bool = True):
        w = _w()
        self.stem = stem
        self.chart = None
        self.table: pd.DataFrame | None = None
        self.focus_label: str | None = None
        self.out = w.Output(layout=w.Layout(min_height="120px"))
        self.table_out = w.HTML()
        self.links = w.HTML(value="")
        self.links.add_class("insats-links")
        buttons = []
        if table:
            buttons += [self._button("Tabell (Excel)", "xlsx"), self._button("Tabell (CSV)", "csv")]
        if chart:
            buttons.append(self._button("Diagram (PNG)", "png"))
        self.buttons = buttons
        self.toolbar = w.HBox(
            [w.HTML('<span class="insats-note">Ladda ner:</span>'), *buttons, self.links],
            layout=w.Layout(align_items="center", flex_flow="row wrap"),
        )
        parts = [self.out] if chart else []
        if table:
            parts.append(self.table_out)
        parts.append(self.toolbar)
        self.widget = w.VBox(parts, layout=w.Layout(margin="0 0 18px 0"))
        self.widget.add_class(f"insats-view-{stem}")
        self.draws = 0
        self.active = True
        self._build = None
        self._dirty = False

    def update(self, build) -> None:
        """Set what to show: ``build()`` returns ``show``'s keyword arguments. Drawn now when the
        view is visible, else when it becomes visible (``activate``) — a hidden tab costs nothing."""
        self._build, self._dirty = build, True
        if self.active:
            self.render()

    def render(self) -> None:
        if self._dirty and self._build is not None:
            self._dirty = False
            self.show(**self._build())

    def activate(self, active: bool = True) -> None:
        self.active = active
        if active:
            self.render()

    def _button(self, text: str, kind: str):
        w = _w()
        b = w.Button(
            description=text, tooltip=f"Skapa en fil att spara ({kind.upper()})", layout=w.Layout(width="auto")
        )
        b.add_class(f"insats-dl-{kind}")
        b.on_click(lambda _b, kind=kind: self.download(kind))
        return b

    def show(
        self, chart=None, table: pd.DataFrame | None = None, *, focus_label: str | None = None, note: str | None = None
    ) -> None:
        """Replace the chart and table in place (no page rebuild) and clear stale links."""

        self.chart, self.table, self.focus_label = chart, table, focus_label
        self.links.value = ""
        with self.out:
            self.out.clear_output(wait=True)
            if chart is not None:
                # the spec without schema validation (the builders are tested): 3–10 times faster
                spec = chart.to_dict(validate=False) if hasattr(chart, "to_dict") else chart
                display({"text/html": charts.chart_html(spec), "text/plain": "<Diagram>"}, raw=True)
            elif note:
                display(HTML(f'<p class="insats-note">{_html.escape(note)}</p>'))
        self.table_out.value = table_html(table, focus=focus_label) if table is not None else ""
        self.draws += 1

    def file(self, kind: str) -> tuple[bytes, str] | None:
        """The current content as (bytes, filename) for ``xlsx``/``csv``/``png``; None if empty."""
        self.render()
        if kind == "png":
            return (png_bytes(self.chart), f"{self.stem}.png") if self.chart is not None else None
        if self.table is None:
            return None
        if kind == "xlsx":
            return xlsx_bytes(self.table), f"{self.stem}.xlsx"
        return csv_bytes(self.table), f"{self.stem}.csv"

    def download(self, kind: str) -> str:
        """Make the download link for ``kind`` and show it; returns its HTML."""
        try:
            made = self.file(kind)
        except Exception as exc:  # shown to the user, in Swedish, instead of a traceback
            self.links.value = f'<span class="insats-note">Filen kunde inte skapas: {_html.escape(str(exc))}</span>'
            return self.links.value
        if made is None:
            self.links.value = '<span class="insats-note">Inget att spara.</span>'
        else:
            data, name = made
            self.links.value = data_uri_link(data, name, f"Spara {name}")
        return self.links.value


def link_tabs(tabs, groups: list[list[ChartView]]) -> None:
    """Only the selected tab's views draw; the others draw when their tab is opened."""

    def sync(_change=None):
        for i, views in enumerate(groups):
            for v in views:
                v.activate(i == tabs.selected_index)

    for i, views in enumerate(groups):
        for v in views:
            v.active = i == (tabs.selected_index or 0)
    tabs.observe(sync, names="selected_index")


def _page(title: str, lead: str, data: DashboardData, body: list):
    w = _w()
    head = w.HTML(
        CSS + banner_html(data.study) + f'<div class="insats-h1">{_html.escape(title)}</div>'
        f'<p class="insats-lead">{lead}</p>'
    )
    foot = w.HTML(
        f'<p class="insats-note">{_html.escape(footnote(data.min_cell))}. '
        f"Data: {_html.escape(Path(data.path).name)}.</p>"
    )
    page = w.VBox([head, *body, foot])
    page.add_class("insats-dash")
    return page


def _dropdown(description: str, options, value=None, width="320px", css: str | None = None):
    w = _w()
    dd = w.Dropdown(
        options=options,
        value=value,
        description=description,
        style={"description_width": "initial"},
        layout=w.Layout(width=width),
    )
    if css:
        dd.add_class(css)
    return dd


def _period_slider(data: DashboardData):
    w = _w()
    months = data.months
    return w.SelectionRangeSlider(
        options=months,
        index=(0, len(months) - 1),
        description="Period",
        continuous_update=False,
        style={"description_width": "initial"},
        layout=w.Layout(width="560px"),
    )


def _period_text(start: str, end: str) -> str:
    def one(m):
        y, mo = m.split("-")
        return f"{MONTHS_SV[int(mo) - 1]} {y}"

    return one(start) if start == end else f"{one(start)}–{one(end)}"


# --------------------------------------------------------------------------- Jämför områden


def compare_measures(long: pd.DataFrame) -> list[tuple[str, str]]:
    """(Swedish label, id) of the measures offered in *Jämför områden*, in registry order."""
    present = set(long["matt"])
    return [(measure_label(m), m) for m in MEASURES if m in present and not m.startswith(COMPARE_EXCLUDE_PREFIXES)]


def compare_table(long: pd.DataFrame, matt: str, omraden=None) -> pd.DataFrame:
    """The table under the ranked bars: the measure per area (``..`` where suppressed)."""
    table = measure_table(long, matt, omraden=omraden)
    if matt == OUTCOME_ADJUSTED and {"justerat_utfall_oe_lo", "justerat_utfall_oe_hi"} <= set(long["matt"]):
        ci = measure_table(long, ["justerat_utfall_oe_lo", "justerat_utfall_oe_hi"], omraden=omraden, decimals=2)
        ci.columns = ["95 % KI, nedre", "95 % KI, övre"]
        table = table.join(ci, how="left").fillna("")
        table.loc[table.iloc[:, 0] == SUPPRESSED, list(ci.columns)] = SUPPRESSED
    return table


class CompareDashboard:
    """*Jämför områden*: measure, period, district in focus, rå/justerad outcome."""

    def __init__(self, data: DashboardData, *, measure: str | None = None):
        self.data = data
        w = _w()
        months = data.months
        self.start, self.end = months[0][1], months[-1][1]
        long = data.cache.table(self.start, self.end)
        options = compare_measures(long)
        ids = [m for _, m in options]
        default = measure if measure in ids else (OUTCOME_RAW if OUTCOME_RAW in ids else (ids[0] if ids else None))
        self.measure = _dropdown("Mått", options, default, width="460px", css="insats-measure")
        self.period = _period_slider(data)
        self.district = _dropdown("Område i fokus", [("Inget valt", "")] + data.areas(), "", css="insats-district")
        self.adjust = w.ToggleButtons(
            options=[("Rå andel", "ra"), ("Justerad (observerat/förväntat)", "justerad")],
            value="ra",
            description="Utfall",
            style={"description_width": "initial", "button_width": "auto"},
        )
        self.status = w.HTML()
        self.bars = ChartView("jamfor_rangordning")
        self.funnel = ChartView("jamfor_tratt", table=False)
        self.matrix = ChartView("jamfor_utbud")
        self.timings: dict[str, float] = {}
        for widget in (self.measure, self.adjust):
            widget.observe(lambda _c: self.redraw(), names="value")
        self.district.observe(lambda _c: self.redraw(), names="value")
        self.period.observe(self._on_period, names="value")
        controls = w.VBox([w.HBox([self.measure, self.district]), self.period, self.adjust, self.status])
        tabs = w.Tab(children=[self.bars.widget, self.funnel.widget, self.matrix.widget])
        for i, t in enumerate(["Rangordning", "Trattdiagram", "Utbud"]):
            tabs.set_title(i, t)
        self.tabs = tabs
        link_tabs(tabs, [[self.bars], [self.funnel], [self.matrix]])
        lead = (
            "Välj ett mått och en period. Staplarna visar områdena i rangordning med 95 % "
            "konfidensintervall; den streckade linjen är hela studien. Välj ett område för att "
            "markera det i alla diagram."
        )
        self.widget = _page("Jämför områden", lead, data, [controls, tabs])
        self.redraw()

    @property
    def matt(self) -> str:
        m = self.measure.value
        if m == OUTCOME_RAW and self.adjust.value == "justerad":
            return OUTCOME_ADJUSTED
        return m

    def _on_period(self, change) -> None:
        start, end = change["new"]
        self.status.value = f'<span class="insats-note">Beräknar måtten för {_period_text(start, end)} …</span>'
        self.start, self.end = start, end
        self.redraw()

    def redraw(self) -> None:
        t0 = time.perf_counter()
        long = self.data.cache.table(self.start, self.end)
        t1 = time.perf_counter()
        matt, focus = self.matt, self.district.value or None
        self.adjust.layout.display = None if self.measure.value == OUTCOME_RAW else "none"
        names = self.data.names
        omraden = self.data.omraden
        focus_label = names.get(focus) if focus else None
        period = _period_text(self.start, self.end)
        self.status.value = f'<span class="insats-note">Period: {period}.</span>'
        min_cell = self.data.min_cell
        if matt not in set(long["matt"]):
            note = f"{measure_label(matt)} kan inte beräknas för perioden {period}."
            self.bars.update(lambda: {"note": note})
            self.funnel.update(lambda: {"note": note})
        else:
            title = f"{measure_label(matt)}, {period}"
            self.bars.update(
                lambda: {
                    "chart": charts.ranked_bars(
                        long, matt, focus=focus, omraden=omraden, min_cell=min_cell, title=title
                    ),
                    "table": compare_table(long, matt, omraden),
                    "focus_label": focus_label,
                }
            )
            unit = MEASURES[matt].unit if matt in MEASURES else None
            rows = long[(long["matt"] == matt) & (long["omrade_kod"] == ALLA)]
            if unit == "andel" and len(rows) and rows["namnare"].notna().all():
                self.funnel.update(
                    lambda: {"chart": charts.funnel_plot(long, matt, focus=focus, omraden=omraden, min_cell=min_cell)}
                )
            else:
                self.funnel.update(
                    lambda: {"note": "Trattdiagrammet visas för andelar (välj rå andel eller ett annat andelsmått)."}
                )
        start, end = self.start, self.end

        def matrix():
            ins = self.data.open_interventions(start, end)
            if not len(ins):
                return {"note": "Studien har inga insatser öppna under perioden."}
            cells = ins.assign(omrade_kod=ins["omrade_kod"].astype(str))
            table = cells.assign(
                kategori=[contract.label("kategori_medel", str(c)) for c in cells["kategori"]],
                omrade=[names.get(c, c) for c in cells["omrade_kod"]],
            ).pivot_table(index="omrade", columns="kategori", values="platser", aggfunc="sum", fill_value=0)
            table.index.name = "Område"
            table = table.map(lambda v: f"{int(round(v))}" if v else "–")
            return {
                "chart": charts.utbud_matrix(
                    ins, omraden=omraden, focus=focus, title=f"Platser per område och kategori, {period}"
                ),
                "table": table,
                "focus_label": focus_label,
            }

        self.matrix.update(matrix)
        self.timings = {"measures": t1 - t0, "draw": time.perf_counter() - t1}


def jamfor_omraden(data_dir=None, *, min_cell: int = 5, measure: str | None = None):
    """The *Jämför områden* dashboard (returns the object; display ``.widget``)."""
    charts.enable_offline()
    data = DashboardData.load(data_dir, min_cell=min_cell, default=DEFAULT_DATA["jamfor_omraden"])
    panel = CompareDashboard(data, measure=measure)
    _mark_ready("jamfor_omraden")
    return panel


# --------------------------------------------------------------------------- Områdesprofil


def _rank(values: pd.Series, code: str) -> str:
    """``"3 av 14"`` (largest first) among published values; ``..`` when the area has none."""
    if code not in values.index or pd.isna(values.get(code)):
        return SUPPRESSED
    ranked = values.dropna().rank(ascending=False, method="min")
    return f"{int(ranked[code])} av {len(ranked)}"


def profile_values(long: pd.DataFrame, code: str, measures=PROFILE_MEASURES) -> pd.DataFrame:
    """Numbers behind the profile: per measure the area's published value (NaN when suppressed),
    the whole study's, and the median of the *other* areas' published values."""
    rows = []
    for m in measures:
        part = long[long["matt"] == m]
        if part.empty:
            continue
        areas = part[part["omrade_kod"].astype(str) != ALLA].set_index(
            part["omrade_kod"].astype(str)[part["omrade_kod"].astype(str) != ALLA]
        )
        shown = areas["varde"].where(~areas["undertryckt"].astype(bool))
        alla = part[part["omrade_kod"] == ALLA]
        alla_v = float(alla["varde"].iloc[0]) if len(alla) and not bool(alla["undertryckt"].iloc[0]) else np.nan
        others = shown.drop(index=code, errors="ignore")
        rows.append(
            {
                "matt": m,
                "omrade": float(shown.get(code, np.nan)) if code in shown.index else np.nan,
                "undertryckt": bool(code in areas.index and areas.loc[code, "undertryckt"]),
                "alla": alla_v,
                "median_ovriga": float(others.median()) if others.notna().any() else np.nan,
                "plats": _rank(shown, code),
            }
        )
    return pd.DataFrame(rows, columns=["matt", "omrade", "undertryckt", "alla", "median_ovriga", "plats"])


def profile_table(long: pd.DataFrame, code: str, name: str) -> pd.DataFrame:
    """Display table of an area's key figures against the whole study and the other areas."""
    vals = profile_values(long, code)
    out = pd.DataFrame(index=pd.Index([measure_label(m) for m in vals["matt"]], name="Mått"))
    unit = [charts.common.unit_of(m) for m in vals["matt"]]
    out[name] = [
        SUPPRESSED if s else (charts.format_value(v, u) or "–")
        for v, s, u in zip(vals["omrade"], vals["undertryckt"], unit)
    ]
    out["Hela studien"] = [charts.format_value(v, u) or SUPPRESSED for v, u in zip(vals["alla"], unit)]
    out["Median, övriga områden"] = [charts.format_value(v, u) or "–" for v, u in zip(vals["median_ovriga"], unit)]
    out["Plats (störst först)"] = list(vals["plats"])
    return out


def profile_chart(long: pd.DataFrame, code: str, name: str, *, min_cell: int = 5):
    """Bars of the area's shares next to the whole study and the other areas' median."""

    vals = profile_values(long, code)
    vals = vals[[charts.common.unit_of(m) == "andel" for m in vals["matt"]]]
    series = [(name, "omrade"), ("Hela studien", "alla"), ("Median, övriga områden", "median_ovriga")]
    rows = []
    for _, r in vals.iterrows():
        for label, col in series:
            v = r[col]
            hidden = bool(col == "omrade" and (r["undertryckt"] or pd.isna(v)))
            rows.append(
                {
                    "matt": measure_label(r["matt"]),
                    "serie": label,
                    "varde": None if pd.isna(v) else float(v),
                    "text": SUPPRESSED if hidden else charts.format_value(v, "andel"),
                    "dold": hidden,
                }
            )
    frame = pd.DataFrame(rows)
    domain = [s for s, _ in series]
    colors = [charts.FOCUS_COLOR, charts.TOTAL_COLOR, charts.OTHER_COLOR]
    base = alt.Chart()
    y = alt.Y("serie:N", sort=domain, title=None, axis=None)
    row = alt.Row(
        "matt:N",
        title=None,
        sort=list(dict.fromkeys(frame["matt"])) if len(frame) else None,
        header=alt.Header(labelAngle=0, labelAlign="left", labelAnchor="start", labelFontSize=14, labelLimit=320),
    )
    x_scale = alt.Scale(domain=[0, 1])
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
                scale=alt.Scale(domain=domain, range=colors),
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
        base.mark_text(align="left", dx=4, baseline="middle", fontSize=14, fontWeight="bold", color=charts.MUTED_COLOR)
        .transform_filter("datum.dold")
        .encode(x=alt.value(0), y=y, text=alt.value(SUPPRESSED))
    )
    subtitle = [f"Vermiljon: {name}; svart: hela studien; grå: medianen av övriga områden."]
    if len(frame) and frame["dold"].any():
        subtitle.append(footnote(min_cell) + ".")
    return (
        alt.layer(bars, labels, hidden, data=alt.Data(values=charts.common.records(frame)))
        .properties(width=440, height=alt.Step(14))
        .facet(row=row, spacing=6)
        .properties(title=alt.TitleParams(f"{name} jämfört med övriga", subtitle=subtitle, anchor="start"))
        .resolve_scale(y="independent")
    )


INSATS_COLUMNS = {
    "namn": "Insats",
    "kategori": "Kategori",
    "regi": "Regi",
    "platser": "Platser",
    "narvarokrav": "Närvarokrav",
    "lov": "LOV",
    "raknas_som_insats": "Räknas som insats",
    "kostnad_per_plats_manad": "Kostnad per plats och månad",
}


def interventions_table(insatser: pd.DataFrame, code: str, names: dict[str, str]) -> pd.DataFrame:
    """The area's own and the city-wide (``CENTRAL``) interventions as a display table."""

    ins = insatser[insatser["omrade_kod"].astype(str).isin([code, CENTRAL])].copy()
    ins = ins.sort_values(["omrade_kod", "kategori", "namn"], key=lambda s: s.astype(str))
    out = pd.DataFrame(index=pd.Index(ins["namn"].astype(str), name="Insats"))
    out["Område"] = [names.get(str(c), str(c)) for c in ins["omrade_kod"]]
    out["Kategori"] = [contract.label("kategori", str(c)) for c in ins["kategori"]]
    out["Regi"] = [contract.label("regi", str(c)) for c in ins["regi"]]
    out["Platser"] = [format_number(v) for v in ins["platser"]]
    yn = lambda v: "" if pd.isna(v) else ("Ja" if bool(v) else "Nej")  # noqa: E731
    out["Närvarokrav"] = [yn(v) for v in ins["narvarokrav"]]
    out["Räknas som insats"] = [yn(v) for v in ins["raknas_som_insats"]]
    if "kostnad_per_plats_manad" in ins:
        out["Kostnad per plats och månad"] = [charts.format_value(v, "kr") for v in ins["kostnad_per_plats_manad"]]
    return out


def spending_table(medel: pd.DataFrame, code: str) -> pd.DataFrame:
    """The area's spending per year and category (kronor; money, not persons: nothing suppressed)."""
    m = medel[medel["omrade_kod"].astype(str) == code]
    if m.empty:
        return pd.DataFrame(index=pd.Index([], name="Kategori"))
    piv = m.assign(kategori=[contract.label("kategori_medel", str(c)) for c in m["kategori"]]).pivot_table(
        index="kategori", columns="ar", values="belopp", aggfunc="sum", fill_value=0
    )
    piv.index.name = "Kategori"
    piv.columns = [f"{int(c)}" for c in piv.columns]
    return piv.map(lambda v: charts.format_value(v, "kr"))


class ProfileDashboard:
    """*Områdesprofil*: one district against the rest, its interventions, its spending."""

    def __init__(self, data: DashboardData, *, omrade: str | None = None):
        self.data = data
        w = _w()
        areas = data.areas()
        codes = [c for _, c in areas]
        self.district = _dropdown(
            "Område", areas, omrade if omrade in codes else (codes[0] if codes else None), css="insats-district"
        )
        self.period = _period_slider(data)
        months = data.months
        self.start, self.end = months[0][1], months[-1][1]
        self.status = w.HTML()
        self.figures = ChartView("omradesprofil_nyckeltal")
        self.interventions = ChartView("omradesprofil_insatser", chart=False)
        self.spending = ChartView("omradesprofil_medel")
        self.district.observe(lambda _c: self.redraw(), names="value")
        self.period.observe(self._on_period, names="value")
        h = lambda t: w.HTML(f'<div class="insats-h1" style="font-size:20px">{t}</div>')  # noqa: E731
        lead = (
            "Välj ett område. Nyckeltalen jämförs med hela studien och med medianen av de "
            "övriga områdena; därefter områdets insatser och hur medlen används."
        )
        self.widget = _page(
            "Områdesprofil",
            lead,
            data,
            [
                w.HBox([self.district]),
                self.period,
                self.status,
                h("Nyckeltal"),
                self.figures.widget,
                h("Insatser"),
                self.interventions.widget,
                h("Medel"),
                self.spending.widget,
            ],
        )
        self.timings: dict[str, float] = {}
        self.redraw()

    def _on_period(self, change) -> None:
        self.start, self.end = change["new"]
        self.status.value = '<span class="insats-note">Beräknar …</span>'
        self.redraw()

    def redraw(self) -> None:
        t0 = time.perf_counter()
        long = self.data.cache.table(self.start, self.end)
        t1 = time.perf_counter()
        code = self.district.value
        if code is None:
            return
        name = self.data.names.get(code, code)
        period = _period_text(self.start, self.end)
        self.status.value = f'<span class="insats-note">Period: {period}.</span>'
        min_cell, names, omraden, study = self.data.min_cell, self.data.names, self.data.omraden, self.data.study
        self.figures.update(
            lambda: {
                "chart": profile_chart(long, code, name, min_cell=min_cell),
                "table": profile_table(long, code, name),
            }
        )
        if "insatser" in study:
            self.interventions.update(lambda: {"table": interventions_table(study["insatser"], code, names)})
        else:
            self.interventions.update(lambda: {"note": "Studien saknar tabellen insatser."})
        if "medel" in study:
            medel = study["medel"]
            self.spending.update(
                lambda: {
                    "chart": charts.spending_bars(
                        medel, omraden=omraden, focus=code, title=f"Medel per område och kategori ({name} i fetstil)"
                    ),
                    "table": spending_table(medel, code),
                }
            )
        else:
            self.spending.update(lambda: {"note": "Studien saknar tabellen medel."})
        self.timings = {"measures": t1 - t0, "draw": time.perf_counter() - t1}


def omradesprofil(data_dir=None, *, min_cell: int = 5, omrade: str | None = None):
    """The *Områdesprofil* dashboard (returns the object; display ``.widget``)."""
    charts.enable_offline()
    data = DashboardData.load(data_dir, min_cell=min_cell, default=DEFAULT_DATA["omradesprofil"])
    panel = ProfileDashboard(data, omrade=omrade)
    _mark_ready("omradesprofil")
    return panel


# --------------------------------------------------------------------------- Utvärdering


@dataclass
class Section:
    """One of Sundbyberg's five areas: a title, a lead text and its measures (first is charted)."""

    key: str
    title: str
    lead: str
    measures: tuple[str, ...]


SECTIONS = (
    Section(
        "erbjudande",
        "1. Erbjudande",
        "Får alla med ekonomiskt bistånd som är arbetslösa en insats? Andelen som erbjudits en insats "
        "inom 90 dagar från första biståndsmånaden.",
        ("erbjudande_andel",),
    ),
    Section(
        "narvarokrav",
        "2. Närvarokrav",
        "Hur stor del av de planerade timmarna deltar man, och hur stor del av platserna har närvarokrav?",
        ("narvaro_andel_80", "narvaro_median", "utbud_andel_narvarokrav"),
    ),
    Section(
        "valfrihet",
        "3. Valfrihet och LOV",
        "Väljer deltagarna själva sin utförare när det finns flera, och hur stor del av platserna finns hos "
        "utförare enligt LOV?",
        ("lov_andel_valt", "utbud_andel_regi_lov"),
    ),
    Section(
        "resultat",
        "4. Insatsernas resultat",
        "Hur många deltaganden slutar i arbete eller studier, och hur står sig områdena när man tar hänsyn "
        "till deltagarnas förutsättningar (observerat/förväntat)?",
        ("justerat_utfall_oe", "utfall_arbete_studier_andel", "utfall_sjalvforsorjning_andel"),
    ),
    Section(
        "en_vag_in",
        "5. En väg in",
        "Hur snabbt bedöms arbetsförmågan efter ansökan, och hur många med hel eller delvis arbetsförmåga "
        "börjar en insats inom 90 dagar?",
        ("vagin_andel_30_dagar", "vagin_dagar_median", "vagin_andel_insats_90_dagar"),
    ),
)


def flow_counts(long: pd.DataFrame) -> dict[str, float] | None:
    """Whole-study counts for ``charts.flow_steps`` from the published "en väg in" measures."""

    def alla(m):
        row = long[(long["matt"] == m) & (long["omrade_kod"] == ALLA)]
        return row.iloc[0] if len(row) else None

    bed, ins = alla("vagin_andel_bedomda"), alla("vagin_andel_insats_90_dagar")
    if bed is None or ins is None:
        return None
    return {
        "ansokan": bed["namnare"],
        "bedomd": bed["taljare"],
        "arbetsformaga": ins["namnare"],
        "insats_90": ins["taljare"],
    }


SECTION_CALLS = {
    "erbjudande": lambda U, ctx, res, reform, mc: U.section_offer(ctx, res.table, min_cell=mc),
    "narvarokrav": lambda U, ctx, res, reform, mc: U.section_attendance(ctx, res.table, reform, min_cell=mc),
    "valfrihet": lambda U, ctx, res, reform, mc: U.section_lov(ctx, res.table, min_cell=mc),
    "resultat": lambda U, ctx, res, reform, mc: U.section_interventions(ctx, res.table, min_cell=mc),
    "en_vag_in": lambda U, ctx, res, reform, mc: U.section_path(ctx, res.raw, min_cell=mc),
}
"""How each tab calls ``insats.reports.utvardering``'s section function (published tables only)."""


class EvaluationDashboard:
    """*Utvärdering*: Sundbyberg's five areas as tabs; a district in focus is marked everywhere."""

    def __init__(self, data: DashboardData, *, omrade: str | None = None):
        self.data = data
        w = _w()
        months = data.months
        self.start, self.end = months[0][1], months[-1][1]
        codes = [c for _, c in data.areas()]
        self.district = _dropdown(
            "Område i fokus",
            [("Inget valt", "")] + data.areas(),
            omrade if omrade in codes else "",
            css="insats-district",
        )
        self.period = _period_slider(data)
        self.status = w.HTML()
        self.views: dict[str, ChartView] = {}
        self.extra: dict[str, ChartView] = {}
        self.notes: dict[str, object] = {}
        children = []
        for s in SECTIONS:
            self.views[s.key] = ChartView(f"utvardering_{s.key}")
            parts = [w.HTML(f'<p class="insats-lead">{_html.escape(s.lead)}</p>'), self.views[s.key].widget]
            if s.key == "en_vag_in":
                self.extra[s.key] = ChartView("utvardering_en_vag_in_flode", table=False)
                parts.append(self.extra[s.key].widget)
            self.notes[s.key] = w.VBox()
            parts.append(self.notes[s.key])
            children.append(w.VBox(parts))
        self.tabs = w.Tab(children=children)
        for i, s in enumerate(SECTIONS):
            self.tabs.set_title(i, s.title)
        link_tabs(
            self.tabs, [[self.views[s.key]] + ([self.extra[s.key]] if s.key in self.extra else []) for s in SECTIONS]
        )
        self._sections: dict[tuple, object] = {}
        self._details_period: dict[str, tuple] = {}
        self.tabs.observe(lambda _c: self._draw_details(), names="selected_index")
        self.district.observe(lambda _c: self.redraw(), names="value")
        self.period.observe(self._on_period, names="value")
        lead = (
            "Sundbybergs utvärdering i fem delar. Välj ett område för att markera det; varje flik "
            "har sin tabell och sina diagram att ladda ner."
        )
        self.widget = _page("Utvärdering", lead, data, [w.HBox([self.district]), self.period, self.status, self.tabs])
        self.timings: dict[str, float] = {}
        self.redraw()

    def _on_period(self, change) -> None:
        self.start, self.end = change["new"]
        self.status.value = '<span class="insats-note">Beräknar …</span>'
        self.redraw()

    def redraw(self) -> None:
        t0 = time.perf_counter()
        long = self.data.cache.table(self.start, self.end)
        t1 = time.perf_counter()
        focus = self.district.value or None
        omraden = self.data.omraden
        period = _period_text(self.start, self.end)
        self.status.value = f'<span class="insats-note">Period: {period}.</span>'
        present = set(long["matt"])
        names = self.data.names
        focus_label = names.get(focus) if focus else None
        min_cell = self.data.min_cell
        for sec in SECTIONS:
            ids = [m for m in sec.measures if m in present]
            view = self.views[sec.key]
            if not ids:
                note = f"{sec.title}: måtten kan inte beräknas med studiens tabeller."
                view.update(lambda note=note: {"note": note})
            else:
                view.update(
                    lambda ids=ids, title=f"{measure_label(ids[0])}, {period}": {
                        "chart": charts.ranked_bars(
                            long, ids[0], focus=focus, omraden=omraden, min_cell=min_cell, title=title
                        ),
                        "table": measure_table(long, ids, omraden=omraden),
                        "focus_label": focus_label,
                    }
                )
            if sec.key in self.extra:
                counts = flow_counts(long)
                self.extra[sec.key].update(
                    lambda counts=counts: (
                        {"chart": charts.flow_steps(counts, min_cell=min_cell)}
                        if counts
                        else {"note": "Flödet kräver tabellen bedomningar."}
                    )
                )
        self._draw_details()
        self.timings = {"measures": t1 - t0, "draw": time.perf_counter() - t1}

    def section(self, key: str):
        """``insats.reports.utvardering``'s section for a tab and the current period (cached), or None."""
        if key not in SECTION_CALLS:
            return None
        cache_key = (key, self.start, self.end)
        if cache_key not in self._sections:
            U, mc = utvardering, self.data.min_cell
            ctx = U.make_context(self.data.study, self.start, self.end, min_cell=mc)
            res = self.data.cache.result(self.start, self.end)
            reform = self.data.study.meta.get("reform_datum")
            self._sections[cache_key] = SECTION_CALLS[key](U, ctx, res, reform, mc)
        return self._sections[cache_key]

    def _draw_details(self) -> None:
        """The open tab's in-depth part from ``insats.reports.utvardering`` (once per period: a change of
        district does not touch it)."""
        w = _w()
        key = SECTIONS[self.tabs.selected_index or 0].key
        period = (self.start, self.end)
        if self._details_period.get(key) == period:
            return
        self._details_period[key] = period
        box = self.notes[key]
        try:
            sec = self.section(key)
        except Exception as exc:  # the evaluation module is optional: say so, keep the page
            box.children = [
                w.HTML(f'<p class="insats-note">Fördjupningen kunde inte beräknas: {_html.escape(str(exc))}</p>')
            ]
            return
        if sec is None:
            box.children = []
            return
        children = [w.HTML('<div class="insats-h1" style="font-size:20px">Fördjupning</div>')]
        for note in getattr(sec, "notes", []) or []:
            children.append(w.HTML(f'<div class="insats-note">{md_html(note)}</div>'))
        if getattr(sec, "conclusion", ""):
            children.append(
                w.HTML(f'<div class="insats-lead"><strong>Slutsats.</strong> {md_html(sec.conclusion)}</div>')
            )
        for i, (caption, table) in enumerate((getattr(sec, "tables", {}) or {}).items()):
            view = ChartView(f"utvardering_{key}_tabell_{i + 1}", chart=False)
            view.show(None, table)
            children += [w.HTML(f"<strong>{_html.escape(str(caption))}</strong>"), view.widget]
        for i, chart in enumerate(getattr(sec, "charts", []) or []):
            view = ChartView(f"utvardering_{key}_diagram_{i + 1}", table=False)
            view.show(chart)
            children.append(view.widget)
        box.children = children


def utvardering(data_dir=None, *, min_cell: int = 5, omrade: str | None = None):
    """The *Utvärdering* dashboard (returns the object; display ``.widget``)."""
    charts.enable_offline()
    data = DashboardData.load(data_dir, min_cell=min_cell, default=DEFAULT_DATA["utvardering"])
    panel = EvaluationDashboard(data, omrade=omrade)
    _mark_ready("utvardering")
    return panel
