"""*Jämför områden*: one measure over all areas, with the focus area highlighted."""

from __future__ import annotations

import time

import pandas as pd

from insats import charts, contract
from insats.analysis.measures import (
    MEASURES,
    measure_label,
)
from insats.analysis.privacy import SUPPRESSED
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
from insats.reports.common import measure_table
from insats.reports.trend import trend_display, trend_table, trend_years

OUTCOME_RAW = "utfall_arbete_studier_andel"
OUTCOME_ADJUSTED = "justerat_utfall_oe"

COMPARE_EXCLUDE_PREFIXES = ("likstallighet_", "justerat_utfall_")
"""Measures not offered in the measure dropdown (derived rows; the adjusted outcome is the
rå/justerad toggle of the outcome measure)."""

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
        ci.columns = ["95 % konfidensintervall, nedre", "95 % konfidensintervall, övre"]
        table = table.join(ci, how="left").fillna("")
        table.loc[table.iloc[:, 0] == SUPPRESSED, list(ci.columns)] = SUPPRESSED
    return table


class CompareDashboard:
    """*Jämför områden*: measure, period, district in focus, rå/justerad outcome."""

    def __init__(self, data: DashboardData, *, measure: str | None = None):
        self.data = data
        w = _w()
        self.start, self.end = data.periods[0][1]
        long = data.cache.table(self.start, self.end)
        options = compare_measures(long)
        ids = [m for _, m in options]
        default = measure if measure in ids else (OUTCOME_RAW if OUTCOME_RAW in ids else (ids[0] if ids else None))
        self.measure = _dropdown("Mått", options, default, width="460px", css="insats-measure")
        self.period = _period_choice(data)
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
        self.trend = ChartView("jamfor_over_tid")
        self.timings: dict[str, float] = {}
        self.redraw_soon = Debounced(self.redraw, on_error=self._redraw_failed)
        for widget in (self.measure, self.adjust):
            widget.observe(self.redraw_soon, names="value")
        self.district.observe(self.redraw_soon, names="value")
        self.period.observe(self._on_period, names="value")
        controls = w.VBox([w.HBox([self.measure, self.district]), self.period, self.adjust, self.status])
        titles = ["Rangordning", "Trattdiagram", "Utbud", "Över tid"]
        views = [self.bars, self.funnel, self.matrix, self.trend]
        tabs = w.Tab(children=[w.VBox([heading(t), v.widget]) for t, v in zip(titles, views)])
        for i, t in enumerate(titles):
            tabs.set_title(i, t)
        self.tabs = tabs
        link_tabs(tabs, [[self.bars], [self.funnel], [self.matrix], [self.trend]])
        lead = (
            "Välj ett mått och en period. Staplarna visar områdena i rangordning med 95 % "
            "konfidensintervall; den streckade linjen är hela studien. Välj ett område för att "
            "markera det i alla diagram. Fliken Över tid visar måttet för varje kalenderår, oavsett vald period."
        )
        self.widget = _page("Jämför områden", lead, data, [heading("Val"), controls, tabs])
        self.redraw()

    @property
    def matt(self) -> str:
        m = self.measure.value
        if m == OUTCOME_RAW and self.adjust.value == "justerad":
            return OUTCOME_ADJUSTED
        return m

    def _redraw_failed(self, exc: BaseException) -> None:
        self.status.value = error_note(exc)

    def _on_period(self, change) -> None:
        start, end = change["new"]
        self.status.value = f'<span class="insats-note">Beräknar måtten för {_period_text(start, end)} …</span>'
        self.start, self.end = start, end
        self.redraw_soon()

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
            table = table.map(lambda v: f"{round(v)}" if v else "–")
            return {
                "chart": charts.utbud_matrix(
                    ins, omraden=omraden, focus=focus, title=f"Platser per område och kategori, {period}"
                ),
                "table": table,
                "focus_label": focus_label,
            }

        self.matrix.update(matrix)
        self.trend.update(lambda: over_time(self.data, matt, focus=focus, focus_label=focus_label))
        self.timings = {"measures": t1 - t0, "draw": time.perf_counter() - t1}


def over_time(data: DashboardData, matt: str, *, focus: str | None = None, focus_label: str | None = None) -> dict:
    """The *Över tid* tab: the measure per calendar year, a small panel per area (``ChartView.show``
    arguments), or a note when the study has one year or no value of the measure."""
    pub = data.cache.publication
    years = trend_years(pub)
    label = measure_label(matt)
    if len(years) < 2:
        return {"note": f"Studien omfattar bara ett kalenderår ({years[0]}): utvecklingen över tid kan inte visas."}
    trend = trend_table(pub, [matt])
    if trend.empty or not trend["varde"].notna().any():
        return {"note": f"{label} kan inte visas per år."}
    chart = charts.trend_small_multiples(
        trend, matt, focus=focus, omraden=data.omraden, min_cell=data.min_cell, title=f"{label} per år"
    )
    return {"chart": chart, "table": trend_display(trend, matt, data.omraden), "focus_label": focus_label}


def jamfor_omraden(data_dir=None, *, min_cell: int = 5, measure: str | None = None):
    """The *Jämför områden* dashboard (returns the object; display ``.widget``)."""
    charts.enable_offline()
    data = DashboardData.load(
        data_dir, min_cell=min_cell, default=DEFAULT_DATA["jamfor_omraden"], dashboard="jamfor_omraden"
    )
    panel = CompareDashboard(data, measure=measure)
    _mark_ready("jamfor_omraden")
    return panel
