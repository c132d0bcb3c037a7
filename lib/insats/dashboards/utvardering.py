"""*Utvärdering*: Sundbyberg's five areas as tabs."""

from __future__ import annotations

import html as _html
import time
from dataclasses import dataclass
from typing import Any

import pandas as pd

from insats import charts
from insats.analysis.measures import (
    measure_label,
)
from insats.contract import ALLA
from insats.dashboards.common import (
    DEFAULT_DATA,
    ChartView,
    DashboardData,
    Debounced,
    _dropdown,
    _mark_ready,
    _page,
    _period_choice,
    _period_text,
    _w,
    error_note,
    heading,
    link_tabs,
)
from insats.reports import utvardering as evaluation
from insats.reports.common import measure_table
from insats.reports.render import markdown_html

# --------------------------------------------------------------------------- Utvärdering


@dataclass
class Tab:
    """One of Sundbyberg's five areas: a title, a lead text and its measures (first is charted)."""

    key: str
    title: str
    lead: str
    measures: tuple[str, ...]


TABS = (
    Tab(
        "erbjudande",
        "1. Erbjudande",
        "Får alla med ekonomiskt bistånd en insats? Andelen som erbjudits en insats inom 90 dagar från första "
        "biståndsmånaden: diagrammet för de arbetslösa (kommunens egen målgrupp), fördjupningen för alla vuxna "
        "biståndsmottagare, per försörjningshinder och per avstånd till arbetsmarknaden.",
        ("erbjudande_andel",),
    ),
    Tab(
        "narvarokrav",
        "2. Närvarokrav",
        "Hur stor del av de planerade timmarna deltar man, och hur stor del av platserna har närvarokrav?",
        ("narvaro_andel_80", "narvaro_median", "utbud_andel_narvarokrav"),
    ),
    Tab(
        "valfrihet",
        "3. Valfrihet och LOV",
        "Väljer deltagarna själva sin utförare när det finns flera, och hur stor del av platserna finns hos "
        "utförare enligt LOV?",
        ("lov_andel_valt", "utbud_andel_regi_lov"),
    ),
    Tab(
        "resultat",
        "4. Insatsernas resultat",
        "Hur många deltaganden slutar i arbete eller studier, och hur står sig områdena när man tar hänsyn "
        "till deltagarnas förutsättningar (observerat/förväntat)?",
        ("justerat_utfall_oe", "utfall_arbete_studier_andel", "utfall_sjalvforsorjning_andel"),
    ),
    Tab(
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


TAB_CALLS = {
    "erbjudande": lambda U, ctx, res, reform, mc: U.section_offer(ctx, res.table, min_cell=mc),
    "narvarokrav": lambda U, ctx, res, reform, mc: U.section_attendance(ctx, res.table, reform, min_cell=mc),
    "valfrihet": lambda U, ctx, res, reform, mc: U.section_lov(ctx, res.table, min_cell=mc, reform_datum=reform),
    "resultat": lambda U, ctx, res, reform, mc: U.section_interventions(ctx, res.table, min_cell=mc),
    "en_vag_in": lambda U, ctx, res, reform, mc: U.section_path(ctx, res.raw, min_cell=mc),
}
"""How each tab calls ``insats.reports.utvardering``'s section function (published tables only)."""


class EvaluationDashboard:
    """*Utvärdering*: Sundbyberg's five areas as tabs; a district in focus is marked everywhere."""

    def __init__(self, data: DashboardData, *, omrade: str | None = None):
        self.data = data
        w = _w()
        self.start, self.end = data.periods[0][1]
        codes = [c for _, c in data.areas()]
        self.district = _dropdown(
            "Område i fokus",
            [("Inget valt", "")] + data.areas(),
            omrade if omrade in codes else "",
            css="insats-district",
        )
        self.period = _period_choice(data)
        self.status = w.HTML()
        self.views: dict[str, ChartView] = {}
        self.extra: dict[str, ChartView] = {}
        self.notes: dict[str, Any] = {}
        children = []
        for s in TABS:
            self.views[s.key] = ChartView(f"utvardering_{s.key}")
            parts = [
                heading(s.title),
                w.HTML(f'<p class="insats-lead">{_html.escape(s.lead)}</p>'),
                self.views[s.key].widget,
            ]
            if s.key == "en_vag_in":
                self.extra[s.key] = ChartView("utvardering_en_vag_in_flode", table=False)
                parts.append(self.extra[s.key].widget)
            self.notes[s.key] = w.VBox()
            parts.append(self.notes[s.key])
            children.append(w.VBox(parts))
        self.tabs = w.Tab(children=children)
        for i, s in enumerate(TABS):
            self.tabs.set_title(i, s.title)
        link_tabs(self.tabs, [[self.views[s.key]] + ([self.extra[s.key]] if s.key in self.extra else []) for s in TABS])
        self._sections: dict[tuple, object] = {}
        self._details_period: dict[str, tuple] = {}
        self.tabs.observe(lambda _c: self._draw_details(), names="selected_index")
        self.redraw_soon = Debounced(self.redraw, on_error=self._redraw_failed)
        self.district.observe(self.redraw_soon, names="value")
        self.period.observe(self._on_period, names="value")
        lead = (
            "Sundbybergs utvärdering i fem delar. Välj ett område för att markera det; varje flik "
            "har sin tabell och sina diagram att ladda ner."
        )
        self.widget = _page(
            "Utvärdering", lead, data, [heading("Val"), w.HBox([self.district]), self.period, self.status, self.tabs]
        )
        self.timings: dict[str, float] = {}
        self.redraw()

    def _redraw_failed(self, exc: BaseException) -> None:
        self.status.value = error_note(exc)

    def _on_period(self, change) -> None:
        self.start, self.end = change["new"]
        self.status.value = '<span class="insats-note">Beräknar …</span>'
        self.redraw_soon()

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
        for sec in TABS:
            ids = [m for m in sec.measures if m in present]
            view = self.views[sec.key]
            if not ids:
                note = f"{sec.title}: måtten kan inte beräknas med studiens tabeller."
                view.update(lambda note=note: {"note": note})
            else:
                title = f"{measure_label(ids[0])}, {period}"
                view.update(
                    lambda ids=ids, title=title: {
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
        if key not in TAB_CALLS:
            return None
        cache_key = (key, self.start, self.end)
        if cache_key not in self._sections:
            U, mc = evaluation, self.data.min_cell
            pub = self.data.cache.publication
            if pub.periods[0] != f"{self.start}:{self.end}":
                return None  # the in-depth tables are published for the whole period only
            ctx = U.make_context(self.data.study, self.start, self.end, min_cell=mc)
            res = self.data.cache.result(self.start, self.end)
            reform = self.data.study.meta.get("reform_datum")
            with pub.active(self.start, self.end):  # the tables get the study's one disclosure decision
                self._sections[cache_key] = TAB_CALLS[key](U, ctx, res, reform, mc)
        return self._sections[cache_key]

    def _draw_details(self) -> None:
        """The open tab's in-depth part from ``insats.reports.utvardering`` (once per period: a change of
        district does not touch it)."""
        w = _w()
        key = TABS[self.tabs.selected_index or 0].key
        period = (self.start, self.end)
        if self._details_period.get(key) == period:
            return
        self._details_period[key] = period
        box = self.notes[key]
        try:
            sec = self.section(key)
        except Exception as exc:  # noqa: BLE001  (a failing in-depth part becomes a note; the rest of the page stays)
            box.children = [
                w.HTML(f'<p class="insats-note">Fördjupningen kunde inte beräknas: {_html.escape(str(exc))}</p>')
            ]
            return
        if sec is None:
            box.children = [
                w.HTML(
                    '<p class="insats-note">Fördjupningen (tabeller per insats, utförare och månad) visas för hela '
                    "perioden; välj den för att se den.</p>"
                )
            ]
            return
        children = [heading("Fördjupning", 3)]
        for note in getattr(sec, "notes", []) or []:
            children.append(w.HTML(f'<div class="insats-note">{markdown_html(note)}</div>'))
        if getattr(sec, "conclusion", ""):
            children.append(
                w.HTML(f'<div class="insats-lead"><strong>Slutsats.</strong> {markdown_html(sec.conclusion)}</div>')
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
    data = DashboardData.load(data_dir, min_cell=min_cell, default=DEFAULT_DATA["utvardering"], dashboard="utvardering")
    panel = EvaluationDashboard(data, omrade=omrade)
    _mark_ready("utvardering")
    return panel
