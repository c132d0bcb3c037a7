"""The profile of one area: everything the report and the dashboard show, built once."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from insats.analysis.measures import (
    MEASURES,
    MeasureResult,
)
from insats.analysis.privacy import SUPPRESSED
from insats.analysis.publication import Publication
from insats.charts import format_value, funnel_plot, ranked_bars, spending_bars
from insats.contract import ALLA, CENTRAL, TABLES
from insats.data.study import Study
from insats.reports.common import missing_note
from insats.reports.profil.figures import (
    CHART_MEASURES,
    FLAG_TEXT,
    NOT_APPLICABLE,
    OUTCOME_MEASURE,
    _lc,
    area_names,
    choose_area,
    key_figure_table,
    key_figures,
    missing_measures_text,
    standout_sentences,
)
from insats.reports.profil.interventions import area_interventions, interventions_sentences, interventions_table
from insats.reports.profil.spending import spending_comparison, spending_sentences, spending_table
from insats.reports.publication import study_publication
from insats.reports.render import literal
from insats.reports.trend import area_trend_table, trend_table, trend_years
from insats.text import format_number

# --------------------------------------------------------------------------- the profile

TITLE = "Områdesprofil"
"""The first words of every profile's title (``Profile.title``: ``Områdesprofil: Södermalm``)."""


@dataclass
class Profile:
    """Everything one area's profile shows; built by ``build_profile``."""

    omrade: str
    namn: str
    study: Study = field(repr=False)
    result: MeasureResult = field(repr=False)
    figures: pd.DataFrame = field(repr=False)
    interventions: pd.DataFrame | None = field(default=None, repr=False)
    spending: pd.DataFrame | None = field(default=None, repr=False)
    min_cell: int = 5
    protection: int | None = None
    """The protection level ``skyddsniva`` (None: ``min_cell``)."""
    _memo: dict[str, Any] = field(default_factory=dict, init=False, repr=False, compare=False)
    """What the profile's methods worked out once (the per-year table is asked for three times)."""

    @property
    def params(self) -> dict:
        """The run's parameters (for ``report.provenance``)."""
        return {"omrade": self.omrade, **self.result.params}

    @property
    def long(self) -> pd.DataFrame:
        """The published measures of the profile (``CENTRAL`` rows left out: it is not an area)."""
        if "long" not in self._memo:
            t = self.result.table
            self._memo["long"] = t[t["omrade_kod"].astype(str) != CENTRAL]
        return self._memo["long"]

    @property
    def period_text(self) -> str:
        p = self.result.params
        return f"{p['fran']} – {p['till']}"

    @property
    def title(self) -> str:
        """The profile's title, its page's one ``h1`` (and so the heading of every page of its PDF)."""
        return f"{TITLE}: {self.namn}"

    def heading(self) -> str:
        """The title as a level-1 heading, and the period."""
        return (
            f"# {TITLE}: {literal(self.namn)}\n\nPeriod: {self.period_text}. Minsta redovisade antal: {self.min_cell}."
        )

    def _empty(self) -> pd.Series:
        """Measures with no value at all in the study (nothing to compare, e.g. no LOV providers)."""
        f = self.figures
        return (
            f["varde"].isna()
            & ~f["undertryckt"]
            & f["alla_varde"].isna()
            & ~f["alla_undertryckt"]
            & (f["antal_rankade"] == 0)
        )

    def key_table(self) -> pd.DataFrame:
        """The key-figure table (measures with no value anywhere in the study left out)."""
        return key_figure_table(self.figures[~self._empty()], self.namn)

    def key_notes(self) -> str:
        text = (
            f"*Övriga områden* = hela studien utom {literal(self.namn)} (för medel ingår centrala medel). "
            f"{NOT_APPLICABLE} = kan inte beräknas eller gäller inte måttet. Konfidensintervall och "
            "trattdiagram gäller andelar av personer och deras deltaganden. För andelar är platsen ett intervall: "
            "den plats området har med 95 % säkerhet när slumpen räknas in, och *Justerad för litet underlag* är "
            "områdets andel dragen mot hela studiens, mer ju färre personer den bygger på. Trattdiagrammets gränser tar "
            "hänsyn till att områden alltid skiljer sig något åt (justerade för överspridning)."
        )
        empty = self.figures.loc[self._empty(), "benamning"]
        if len(empty):
            text += " Utan värden i studien under perioden (visas inte): " + ", ".join(_lc(m) for m in empty) + "."
        return text

    def standouts(self) -> list[str]:
        return standout_sentences(self.figures, self.namn)

    def missing(self) -> list[str]:
        return missing_measures_text(self.study)

    def interventions_text(self) -> list[str]:
        if self.interventions is None:
            return [
                f"Insatserna kan inte beskrivas: studien saknar tabellen `insatser` ({TABLES['insatser'].label.lower()})."
            ]
        return interventions_sentences(self.interventions, self.namn)

    def spending_text(self) -> list[str]:
        if self.spending is None:
            return [f"Medlen kan inte beskrivas: studien saknar tabellen `medel` ({TABLES['medel'].label.lower()})."]
        return spending_sentences(self.spending, self.namn)

    def summary(self) -> str:
        """The generated Swedish summary (Markdown): where the area stands out, its interventions,
        its spending."""
        parts = self.standouts()
        outcome_missing = [t for t in MEASURES[OUTCOME_MEASURE].needs if t not in self.study]
        if outcome_missing:
            parts = parts + [
                f"Utfall kan inte jämföras: studien saknar {', '.join(f'`{t}`' for t in outcome_missing)}."
            ]
        return "\n".join(f"- {s}" for s in parts + self.interventions_text() + self.spending_text())

    def chart_measures(self, n: int = 4) -> list[str]:
        """Up to ``n`` measures of ``CHART_MEASURES`` with at least one published area value."""
        long = self.long
        out = []
        for m in CHART_MEASURES:
            part = long[(long["matt"] == m) & (long["omrade_kod"] != ALLA)]
            if len(part) and part["varde"].notna().any():
                out.append(m)
            if len(out) == n:
                break
        return out

    def ranked_charts(self, n: int = 4) -> list:

        om = self.study.get("omraden")
        return [
            ranked_bars(self.long, m, focus=self.omrade, omraden=om, min_cell=self.min_cell)
            for m in self.chart_measures(n)
        ]

    def outcome_note(self) -> str | None:
        """Why the outcome's funnel plot cannot be drawn (Swedish), else None."""

        note = missing_note(self.study, MEASURES[OUTCOME_MEASURE].needs, "Utfallet")
        if note:
            return note
        part = self.long[(self.long["matt"] == OUTCOME_MEASURE) & (self.long["omrade_kod"] == ALLA)]
        if part.empty or not (part["namnare"].iloc[0] > 0):
            return "**Utfallet kan inte visas:** inga deltaganden avslutades under perioden."
        return None

    def funnel_chart(self):
        """The outcome's funnel plot with the area highlighted (None when it cannot be drawn)."""

        if self.outcome_note():
            return None
        om = self.study.get("omraden")
        return funnel_plot(self.long, OUTCOME_MEASURE, focus=self.omrade, omraden=om, min_cell=self.min_cell)

    def outcome_text(self) -> str:
        """One sentence on the area in the funnel plot (or why it is not there)."""
        note = self.outcome_note()
        if note:
            return note
        row = self.figures[self.figures["matt"] == OUTCOME_MEASURE]
        if row.empty:
            return f"{literal(self.namn)} har inga deltaganden som avslutades under perioden."
        r = row.iloc[0]
        if r["undertryckt"]:
            return (
                f"{literal(self.namn)} har för få avslutade deltaganden för att visas ({SUPPRESSED}) och "
                "finns därför inte i diagrammet."
            )
        if not np.isfinite(r["varde"]):
            return f"{literal(self.namn)} har inga deltaganden som avslutades under perioden."
        where = FLAG_TEXT.get(r["tratt"], "inom trattdiagrammets 95 %-gränser")
        return (
            f"{literal(self.namn)}: {format_value(r['varde'], 'andel')} av {format_number(r['namnare'])} avslutade "
            f"deltaganden ledde till arbete eller studier, mot {format_value(r['alla_varde'], 'andel')} i hela "
            f"studien – {where}."
        )

    def publication(self) -> Publication:
        """The study's one publication the profile is part of (``insats.reports.publication``)."""
        return study_publication(self.study, min_cell=self.min_cell, protection=self.protection)

    @property
    def log(self) -> list[dict[str, str]]:
        """The publication's suppression log (for the workbook's sheet *Undertryckningar*)."""
        return self.publication().log

    def trend_display(self) -> pd.DataFrame | None:
        """The area's main measures per calendar year beside the whole study's (``..`` where
        suppressed), from the study's one publication; None when the data cover one year only.
        Worked out once per profile; each caller gets its own copy."""
        if "trend" not in self._memo:
            pub = self.publication()
            table = area_trend_table(trend_table(pub), self.omrade, self.namn) if len(trend_years(pub)) >= 2 else None
            self._memo["trend"] = table if table is not None and len(table) else None
        kept = self._memo["trend"]
        return None if kept is None else kept.copy(deep=False)

    def trend_text(self) -> str:
        """What the per-year table shows, or why there is none (Swedish)."""
        years = trend_years(self.publication())
        if len(years) < 2:
            return f"Studien omfattar bara ett kalenderår ({years[0]}): utvecklingen över tid kan inte visas."
        if self.trend_display() is None:
            return "Inget av huvudmåtten kan visas per år: studien saknar uppgifter om personer och bistånd."
        return (
            f"Huvudmåtten för {literal(self.namn)} och hela studien per kalenderår, {years[0]}–{years[-1]}. "
            f"{SUPPRESSED} = dolt för att skydda enskilda; ett dolt år visas inte på annat sätt."
        )

    def interventions_display(self) -> pd.DataFrame | None:
        return None if self.interventions is None else interventions_table(self.interventions)

    def spending_display(self) -> pd.DataFrame | None:
        return None if self.spending is None else spending_table(self.spending, self.namn)

    def spending_chart(self):
        """Each area's spending shares by category, the area highlighted (None without ``medel``)."""

        if self.spending is None:
            return None
        om = self.study.get("omraden")
        return spending_bars(
            self.study["medel"], omraden=om, ar=self.spending.attrs["ar"], normalize=True, focus=self.omrade
        )


def profile_result(
    study: Study, start=None, end=None, min_cell: int = 5, protection: int | None = None
) -> MeasureResult:
    """The published measures a profile shows: the period's table of the study's one publication
    (``insats.reports.publication``), for the printed profile and the dashboard alike."""
    return study_publication(study, min_cell=min_cell, protection=protection).result(start, end)


def build_profile(
    study: Study,
    omrade: str | None = None,
    *,
    start=None,
    end=None,
    min_cell: int = 5,
    protection: int | None = None,
    result: MeasureResult | None = None,
) -> Profile:
    """One area's profile. ``omrade`` None: the study's first area. ``fran``/``till``: months
    (None: the whole study). ``result``: already computed measures (a dashboard computes them
    once for all areas); otherwise only ``PROFILE_MEASURES`` are computed."""
    code = choose_area(study, omrade)
    if result is None:
        result = profile_result(study, start, end, min_cell, protection)
    name = area_names(study).get(code, code)
    figures = key_figures(result.table, code, min_cell=min_cell)
    start, end = result.params["fran"], result.params["till"]
    interventions = area_interventions(study, code, start, end) if "insatser" in study else None
    spending = spending_comparison(study, code, start, end) if "medel" in study else None
    return Profile(
        omrade=code,
        namn=name,
        study=study,
        result=result,
        figures=figures,
        interventions=interventions,
        spending=spending,
        min_cell=min_cell,
        protection=protection,
    )
