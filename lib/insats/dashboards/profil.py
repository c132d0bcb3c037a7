"""*Områdesprofil*: one district against the rest, its interventions and its spending.

The dashboard is a view over ``insats.reports.profil``: the same measures
(``profil.PROFILE_MEASURES``, computed by ``profil.profile_result``), the same comparison (the rest
of the study, with its disclosure control), the same tables and sentences as the printed profile
that ``insats run`` writes. Only the layout differs: a nämnd sees one number on the screen and the
same number in its papers.
"""

from __future__ import annotations

import time

from insats import charts
from insats.analysis.measures import MeasureResult
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
)
from insats.reports import profil
from insats.reports.render import markdown_html


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
        self.period = _period_choice(data)
        self.start, self.end = data.periods[0][1]
        self.status = w.HTML()
        self.summary = w.HTML()
        self._results: dict[tuple[str, str], MeasureResult] = {}
        self.figures = ChartView("omradesprofil_nyckeltal")
        self.interventions = ChartView("omradesprofil_insatser", chart=False)
        self.spending = ChartView("omradesprofil_medel")
        self.redraw_soon = Debounced(self.redraw, on_error=self._redraw_failed)
        self.district.observe(self.redraw_soon, names="value")
        self.period.observe(self._on_period, names="value")
        lead = (
            "Välj ett område. Nyckeltalen jämförs med övriga områden och hela studien, som i den "
            "tryckta områdesprofilen; därefter områdets insatser och hur medlen används."
        )
        self.widget = _page(
            "Områdesprofil",
            lead,
            data,
            [
                heading("Val"),
                w.HBox([self.district]),
                self.period,
                self.status,
                self.summary,
                heading("Nyckeltal"),
                self.figures.widget,
                heading("Insatser"),
                self.interventions.widget,
                heading("Medel"),
                self.spending.widget,
            ],
        )
        self.timings: dict[str, float] = {}
        self.redraw()

    def _redraw_failed(self, exc: BaseException) -> None:
        self.status.value = error_note(exc)

    def _on_period(self, change) -> None:
        self.start, self.end = change["new"]
        self.status.value = '<span class="insats-note">Beräknar …</span>'
        self.redraw_soon()

    def profile(self) -> profil.Profile:
        """The printed profile of the chosen district and period (measures computed once per period)."""
        key = (self.start, self.end)
        if key not in self._results:
            self._results[key] = profil.profile_result(
                self.data.study, self.start, self.end, self.data.min_cell, self.data.protection
            )
        return profil.build_profile(
            self.data.study,
            self.district.value,
            result=self._results[key],
            min_cell=self.data.min_cell,
            protection=self.data.protection,
        )

    def redraw(self) -> None:
        t0 = time.perf_counter()
        if self.district.value is None:
            return
        p = self.profile()
        t1 = time.perf_counter()
        period = _period_text(self.start, self.end)
        self.status.value = f'<span class="insats-note">Period: {period}.</span>'
        self.summary.value = f'<div class="insats-lead">{markdown_html(p.summary())}</div>'
        self.figures.update(
            lambda: {
                "chart": charts.profile_bars(p.figures, p.namn, min_cell=p.min_cell),
                "table": p.key_table(),
                "note": p.key_notes(),
            }
        )
        if p.interventions is not None:
            self.interventions.update(lambda: {"table": p.interventions_display()})
        else:
            self.interventions.update(lambda: {"note": p.interventions_text()[0]})
        if p.spending is not None:
            self.spending.update(lambda: {"chart": p.spending_chart(), "table": p.spending_display()})
        else:
            self.spending.update(lambda: {"note": p.spending_text()[0]})
        self.timings = {"measures": t1 - t0, "draw": time.perf_counter() - t1}


def omradesprofil(data_dir=None, *, min_cell: int = 5, omrade: str | None = None):
    """The *Områdesprofil* dashboard (returns the object; display ``.widget``)."""
    charts.enable_offline()
    data = DashboardData.load(
        data_dir, min_cell=min_cell, default=DEFAULT_DATA["omradesprofil"], dashboard="omradesprofil"
    )
    panel = ProfileDashboard(data, omrade=omrade)
    _mark_ready("omradesprofil")
    return panel
