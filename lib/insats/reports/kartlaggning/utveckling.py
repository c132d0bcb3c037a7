"""Utveckling över tid: the main measures per calendar year and district (``insats.reports.trend``)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pandas as pd

from insats.analysis.measures import measure_label
from insats.analysis.publication import Publication
from insats.charts.common import unit_of
from insats.charts.theme import change_unit, format_change, format_value
from insats.charts.trend import trend_small_multiples
from insats.contract import ALLA
from insats.reports.kartlaggning.common import OUTCOME_TABLES, _missing, _omraden, present, sectioned
from insats.reports.render import Note, Table
from insats.reports.trend import TREND_MEASURES, trend_display, trend_table, trend_years


def trend_sentence(trend: pd.DataFrame, matt: str) -> str:
    """The whole study's change from the first year to the last in plain Swedish, and how many
    districts have both years shown (published values only)."""
    part = trend[trend["matt"] == matt]
    years = sorted(part["ar"].unique())
    a, b = years[0], years[-1]
    unit = unit_of(matt)
    label = measure_label(matt)
    total = part[part["omrade_kod"] == ALLA].set_index("ar")
    areas = part[part["omrade_kod"] != ALLA]
    shown = areas[~areas["undertryckt"] & areas["varde"].notna()]
    both = int((shown.groupby("omrade_kod")["ar"].apply(lambda s: {a, b} <= set(s))).sum())
    n_areas = areas["omrade_kod"].nunique()
    if a in total.index and b in total.index and not total.loc[[a, b], "undertryckt"].any():
        va, vb = float(total.loc[a, "varde"]), float(total.loc[b, "varde"])
        diff = vb - va
        word = change_unit(unit)
        if format_change(abs(diff), unit) == format_change(0.0, unit):
            how = "i stort sett oförändrad"
        else:
            how = f"{format_change(abs(diff), unit)} {word} {'högre' if diff > 0 else 'lägre'}".replace("  ", " ")
        sentence = (
            f"**{label}** i hela studien: {format_value(va, unit)} år {a} och {format_value(vb, unit)} år {b}, "
            f"alltså {how}."
        )
    else:
        sentence = f"**{label}**: hela studiens värde visas inte för både {a} och {b} (..)."
    if both == n_areas:
        sentence += f" Alla {n_areas} områden har värden som visas för båda åren."
    else:
        sentence += (
            f" {both} av {n_areas} områden har värden som visas för båda åren; för övriga är minst ett år dolt (..) "
            "eller saknas, och de punkterna ritas inte."
        )
    return sentence


@sectioned
def section_utveckling(
    pub: Publication,
    *,
    measures: Sequence[str] = TREND_MEASURES,
    focus: str | None = None,
    min_cell: int = 5,
) -> list[Any]:
    """The main measures per calendar year: for each, a sentence, the small multiples (one panel per
    district, the whole study dashed) and the table (a column per year and the change)."""
    missing = _missing(pub.study, OUTCOME_TABLES, "Utvecklingen över tid")
    if missing:
        return missing
    years = trend_years(pub)
    if len(years) < 2:
        return [
            Note(
                f"Studien omfattar bara ett kalenderår ({years[0]}), så utvecklingen över tid kan inte visas. "
                "Med data för flera år visar avsnittet huvudmåtten per år och område."
            )
        ]
    trend = trend_table(pub, measures)
    ids = [m for m in present(trend, measures) if trend.loc[trend["matt"] == m, "varde"].notna().any()]
    if not ids:
        return [Note("Inget av huvudmåtten har värden som kan visas per år.")]
    study = pub.study
    items: list[Any] = []
    for m in ids:
        items.append(Note(trend_sentence(trend, m)))
        items.append(trend_small_multiples(trend, m, focus=focus, omraden=_omraden(study), min_cell=min_cell))
        items.append(Table(f"{measure_label(m)} per år", trend_display(trend, m, _omraden(study))))
    return items
