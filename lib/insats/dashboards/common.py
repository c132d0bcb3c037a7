"""What every dashboard shares: the study and its measures per period, chart views with downloads, page layout."""

from __future__ import annotations

import base64
import html as _html
import os
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import ipywidgets
import pandas as pd
from IPython import get_ipython

from insats import charts, xlsx
from insats.analysis.measures import (
    Context,
    Params,
    default_period,
    open_interventions,
)
from insats.analysis.privacy import footnote
from insats.analysis.publication import data_years, publication_periods
from insats.dashboards.serve import ENV_DATA, min_cell_from_env, protection_from_env, study_from_env
from insats.data.study import Study
from insats.reports import excel
from insats.reports.common import area_names, load_for_report, provenance, synthetic_banner
from insats.reports.publication import study_publication
from insats.reports.render import markdown_html, table_html

DEFAULT_DATA = {
    "jamfor_omraden": "data/exempel/stockholm",
    "omradesprofil": "data/exempel/stockholm",
    "utvardering": "data/exempel/sundbyberg",
}

MONTHS_SV = ["jan", "feb", "mar", "apr", "maj", "jun", "jul", "aug", "sep", "okt", "nov", "dec"]

CSS = """
<style>
.insats-dash { font-family: 'Source Sans 3','Segoe UI',Arial,sans-serif; }
.insats-banner { background:#FFF4D6; border-left:6px solid #E69F00; padding:10px 14px; margin:4px 0 12px 0;
  font-size:15px; color:#222; }
.insats-dash h1.insats-h1 { font-size:26px; font-weight:600; margin:6px 0 2px 0; color:#111; line-height:1.25; }
.insats-dash h2.insats-h2 { font-size:20px; font-weight:600; margin:14px 0 4px 0; color:#111; line-height:1.25; }
.insats-dash h3.insats-h3 { font-size:17px; font-weight:600; margin:12px 0 4px 0; color:#111; }
/* WCAG 1.4.3: tab labels dark on light (Lumino's inactive tabs are grey on grey) */
.insats-dash .lm-TabBar-tab, .insats-dash .p-TabBar-tab { color:#1A1A1A !important; background:#ECECEC !important; }
.insats-dash .lm-TabBar-tab.lm-mod-current, .insats-dash .p-TabBar-tab.p-mod-current { background:#FFFFFF !important; }
.insats-dash .lm-TabBar-tabLabel, .insats-dash .p-TabBar-tabLabel { color:#1A1A1A !important; }
.insats-dash a { text-decoration: underline; }
.insats-lead { font-size:15px; color:#333; margin:0 0 10px 0; max-width:60em; }
.insats-note { font-size:13px; color:#4D4D4D; }
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


def period_options(study: Study) -> list[tuple[str, tuple[str, str]]]:
    """(Swedish label, (first month, last month)) of every publication period of the study: the
    whole period first, then shorter spans and single years. Only these are published, so that no
    two periods on the screen can be subtracted to show a hidden count (``docs/antaganden.md``, R5)."""
    periods = publication_periods(*data_years(study))
    out = []
    for i, (a, b) in enumerate(periods):
        name = str(a.year) if a.year == b.year else f"{a.year}–{b.year}"
        out.append((f"{name} (hela perioden)" if i == 0 and len(periods) > 1 else name, (f"{a:%Y-%m}", f"{b:%Y-%m}")))
    return out


class MeasureCache:
    """Published measures of the study's publication periods (one publication per kernel)."""

    def __init__(self, study: Study, *, min_cell: int = 5, protection: int | None = None, maxsize: int = 16):
        self.study = study
        self.min_cell = min_cell
        self.protection = protection
        self.maxsize = maxsize
        self._store: dict[tuple[str, str], object] = {}
        self.computations = 0
        """How many times measures were actually computed (for tests)."""

    @property
    def publication(self):
        """The study's one publication (``insats.reports.publication.study_publication``)."""
        return study_publication(self.study, min_cell=self.min_cell, protection=self.protection)

    def result(self, start: str, end: str):
        """The published measures of a publication period, from the study's one publication."""
        key = (str(start), str(end))
        if key not in self._store:
            if len(self._store) >= self.maxsize:
                self._store.pop(next(iter(self._store)))
            self._store[key] = self.publication.result(start, end)
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
    protection: int | None = None
    """The protection level (``skyddsniva``; None: ``min_cell``)."""
    cache: MeasureCache = field(init=False)

    def __post_init__(self):
        self.cache = MeasureCache(self.study, min_cell=self.min_cell, protection=self.protection)
        global _KERNEL_DATA
        _KERNEL_DATA = self

    def provenance(self) -> pd.DataFrame:
        """``insats.reports.common.provenance`` of the dashboard's study (full hashes), for downloads."""
        return provenance(self.study, {"data": Path(self.path).name, "min_cell": self.min_cell}, full_hashes=True)

    @classmethod
    def load(
        cls,
        data_dir,
        *,
        min_cell: int = 5,
        default: str = DEFAULT_DATA["jamfor_omraden"],
        dashboard: str | None = None,
    ) -> DashboardData:
        """The dashboard's study. Under ``insats serve`` (``dashboard`` named) the study, ``min_cell`` and
        ``skyddsniva`` that the server chose for this dashboard from its params file win over the
        notebook's parameters."""
        path = (study_from_env(dashboard) if dashboard else None) or resolve_data_dir(data_dir, default)
        chosen = min_cell_from_env(dashboard) if dashboard else None
        protection = protection_from_env(dashboard) if dashboard else None
        return cls(load_for_report(path), path, chosen if chosen is not None else min_cell, protection)

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
    def periods(self) -> list[tuple[str, tuple[str, str]]]:
        """The publication periods as (Swedish label, (first month, last month)), the whole first."""
        return period_options(self.study)

    def open_interventions(self, start: str, end: str) -> pd.DataFrame:
        """Interventions counted as intervention and open in the period (``measures`` definition)."""
        if "insatser" not in self.study:
            return pd.DataFrame(columns=["omrade_kod", "kategori", "platser"])
        params = Params(pd.Timestamp(start + "-01"), pd.Timestamp(end + "-01"), min_cell=self.min_cell)
        return open_interventions(Context(self.study, params))


_KERNEL_DATA: DashboardData | None = None
"""The study last loaded in this kernel (Voila runs one dashboard per kernel): the provenance of
a download from a view that was not given its ``DashboardData``."""


# --------------------------------------------------------------------------- files


def csv_bytes(table: pd.DataFrame) -> bytes:
    """CSV as Swedish Excel reads it: semicolon, UTF-8 with BOM, the index as first column
    (``insats.xlsx.csv_text``: no text cell can run as a formula)."""
    index = table.index.name is not None or not isinstance(table.index, pd.RangeIndex)
    return xlsx.csv_text(table, sep=";", index=index).encode("utf-8-sig")


def xlsx_bytes(table: pd.DataFrame, sheet: str = "Tabell", data: DashboardData | None = None) -> bytes:
    """The table as the reports' workbooks are written (``insats.reports.excel``): the table as
    shown (``..`` stays ``..``) with numbers as numbers in Swedish formats, frozen header, filter,
    the sheets *Om filen* (synthetic-data marker and the provenance of ``data``'s study) and
    *Teckenförklaring*; the workbook opens at the table."""
    return excel.workbook_bytes(
        [(sheet, table)],
        title=f"Tabell från instrumentpanelen: {sheet}",
        provenance=data.provenance() if data is not None else None,
        synthetic=bool(data is not None and data.study.synthetic),
        min_cell=data.min_cell if data is not None else 5,
        open_at_table=True,
    )


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


# --------------------------------------------------------------------------- widgets


def _w():

    return ipywidgets


def banner_html(study: Study) -> str:
    """``report.synthetic_banner`` as HTML for an HTML widget ('' for real data)."""
    text = synthetic_banner(study)
    return f'<div class="insats-banner" role="note">{markdown_html(text.lstrip("> "))}</div>' if text else ""


def _html_output(html: str, text: str) -> dict:
    """An output of an ``Output`` widget (nbformat display_data) showing ``html``."""
    return {"output_type": "display_data", "data": {"text/html": html, "text/plain": text}, "metadata": {}}


class ChartView:
    """One chart (in an ``Output`` replaced in place), an optional table, and download buttons.

    ``show(chart, table)`` redraws; the buttons *Tabell (Excel)*, *Tabell (CSV)* and
    *Diagram (PNG)* put a download link for the current content in ``links``.
    """

    def __init__(self, stem: str, *, table: bool = True, chart: bool = True):
        w = _w()
        self.stem = stem
        self.data: DashboardData | None = None
        """The study for a download's provenance (else the kernel's: ``_KERNEL_DATA``)."""
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
        outputs = []
        if chart is not None:
            # the spec without schema validation (the builders are tested): 3–10 times faster
            spec = chart.to_dict(validate=False) if hasattr(chart, "to_dict") else chart
            # the view's own table follows the chart: the chart's collapsed copy of it is left out
            html = charts.chart_html(spec, data_table=table is None)
            outputs.append(_html_output(html, "<Diagram>"))
        if note:
            outputs.append(_html_output(f'<div class="insats-note">{markdown_html(note)}</div>', note))
        # one swap: the previous chart stays until the new one replaces it (never an empty or half state)
        self.out.outputs = tuple(outputs)
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
            return xlsx_bytes(self.table, self.stem, self.data or _KERNEL_DATA), f"{self.stem}.xlsx"
        return csv_bytes(self.table), f"{self.stem}.csv"

    def download(self, kind: str) -> str:
        """Make the download link for ``kind`` and show it; returns its HTML."""
        try:
            made = self.file(kind)
        except Exception as exc:  # noqa: BLE001  (shown to the user, in Swedish, instead of a traceback)
            self.links.value = f'<span class="insats-note">Filen kunde inte skapas: {_html.escape(str(exc))}</span>'
            return self.links.value
        if made is None:
            self.links.value = '<span class="insats-note">Inget att spara.</span>'
        else:
            data, name = made
            self.links.value = data_uri_link(data, name, f"Spara {name}")
        return self.links.value


DEBOUNCE_SECONDS = 0.2
"""A change of a control redraws once the controls have been still this long: a held arrow key
(about 30 changes a second) through the districts draws the last one, not each on the way; a
deliberate change is drawn a fifth of a second later (0.3 s made every redraw feel slow)."""


def _io_loop():
    """The running kernel's event loop (tornado), or None outside a kernel (tests, scripts)."""
    shell = get_ipython()
    return getattr(getattr(shell, "kernel", None), "io_loop", None)


class Debounced:
    """Call ``func`` once a burst of calls has settled: ``delay`` seconds after the last call, on the
    kernel's event loop (the widgets' own thread). Outside a kernel, or with ``delay`` 0, at once.
    An error in ``func`` goes to ``on_error`` (the dashboard's status line) instead of the log."""

    def __init__(self, func, *, delay: float = DEBOUNCE_SECONDS, on_error=None, loop_of=_io_loop) -> None:
        self.func, self.delay, self.on_error, self._loop_of = func, delay, on_error, loop_of
        self._handle = None
        self._loop = None

    def __call__(self, *_args) -> None:
        loop = self._loop_of() if self.delay > 0 else None
        if loop is None:
            self._fire()
            return
        if self._handle is not None and self._loop is not None:
            self._loop.remove_timeout(self._handle)
        self._loop = loop
        self._handle = loop.call_later(self.delay, self._fire)

    def _fire(self) -> None:
        self._handle = None
        try:
            self.func()
        except Exception as exc:
            if self.on_error is None:
                raise
            self.on_error(exc)


def error_note(exc: BaseException) -> str:
    """The status line for a redraw that failed: what happened and what to do, in Swedish."""
    return (
        '<span class="insats-note" role="alert">Diagrammet kunde inte ritas om '
        f"({_html.escape(str(exc))[:300]}). Välj igen, eller ladda om sidan.</span>"
    )


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
        CSS + banner_html(data.study) + f'<h1 class="insats-h1">{_html.escape(title)}</h1>'
        f'<p class="insats-lead">{lead}</p>'
    )
    foot = w.HTML(
        f'<p class="insats-note">{_html.escape(footnote(data.min_cell))}. '
        f"Data: {_html.escape(Path(data.path).name)}.</p>"
    )
    page = w.VBox([head, *body, foot])
    page.add_class("insats-dash")
    return page


def heading(text: str, level: int = 2):
    """A real heading (``<h2>``/``<h3>``) as an HTML widget: the dashboards' sections are navigable
    by heading with a screen reader (WCAG 1.3.1, 2.4.6); the page title is the ``<h1>`` of ``_page``."""
    return _w().HTML(f'<h{level} class="insats-h{level}">{_html.escape(text)}</h{level}>')


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


def _period_choice(data: DashboardData):
    """The period as a choice among the publication periods (no free range: see ``period_options``)."""
    options = data.periods
    return _dropdown("Period", options, options[0][1], css="insats-period")


def _period_text(start: str, end: str) -> str:
    def one(m):
        y, mo = m.split("-")
        return f"{MONTHS_SV[int(mo) - 1]} {y}"

    if start.endswith("-01") and end.endswith("-12"):  # whole years, as the publication periods are
        return start[:4] if start[:4] == end[:4] else f"{start[:4]}–{end[:4]}"
    return one(start) if start == end else f"{one(start)}–{one(end)}"
