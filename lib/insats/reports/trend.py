"""Trends: the main measures per calendar year and area, as the study's publication publishes them.

The years are the publication's own periods (``insats.analysis.publication.publication_periods``):
each whole calendar year of the data is published and protected together with the whole period, so
a year's values can be shown as they are — a suppressed value stays suppressed (``..``) and nothing
is computed around it. Half-years are not publication periods (two overlapping periods would give a
hidden count away), so the trend is by year (``docs/antaganden.md``, K12).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import numpy as np
import pandas as pd

from insats.analysis.measures import measure_label
from insats.analysis.publication import Publication, data_years
from insats.charts.trend import trend_wide
from insats.contract import ALLA, CENTRAL
from insats.reports.common import area_names

__all__ = ["TREND_MEASURES", "area_trend_table", "trend_display", "trend_table", "trend_years"]

TREND_MEASURES: tuple[str, ...] = (
    "utfall_arbete_studier_andel",
    "erbjudande_andel",
    "utbud_platser_per_100",
    "langvarigt_andel",
)
"""The main measures followed over time: outcome, offer, utbud and long-term assistance."""

COLUMNS = ["matt", "ar", "omrade_kod", "varde", "taljare", "namnare", "undertryckt"]


def trend_years(pub: Publication) -> list[int]:
    """The calendar years of the study's data: each is a publication period of its own."""
    first, last = data_years(pub.study)
    return list(range(first, last + 1))


def trend_table(pub: Publication, measures: Iterable[str] = TREND_MEASURES) -> pd.DataFrame:
    """The published values of ``measures`` per year and area (and ``ALLA``, the whole study): one row
    per measure, year and area (``CENTRAL`` left out), from ``pub.result`` of each year. A suppressed
    row keeps no number (``varde``, ``taljare``, ``namnare`` NaN, ``undertryckt`` True). Measures the
    study has no rows for are left out."""
    wanted = list(dict.fromkeys(measures))
    parts = []
    for year in trend_years(pub):
        table = pub.result(pd.Timestamp(year, 1, 1), pd.Timestamp(year, 12, 1)).table
        part = table[table["matt"].isin(wanted) & (table["omrade_kod"].astype(str) != CENTRAL)].copy()
        part["ar"] = year
        parts.append(part)
    if not parts:
        return pd.DataFrame(columns=COLUMNS)
    out = pd.concat(parts, ignore_index=True)
    out["omrade_kod"] = out["omrade_kod"].astype(str)
    out["undertryckt"] = out["undertryckt"].fillna(False).astype(bool)
    for col in ("varde", "taljare", "namnare"):
        out[col] = pd.to_numeric(out[col], errors="coerce").astype(float) if col in out else np.nan
    out.loc[out["undertryckt"], ["varde", "taljare", "namnare"]] = np.nan
    order = {m: i for i, m in enumerate(wanted)}
    out = out.sort_values(["matt", "ar"], key=lambda s: s.map(order) if s.name == "matt" else s, kind="stable")
    return out[COLUMNS].reset_index(drop=True)


def trend_display(trend: pd.DataFrame, matt: str, omraden: pd.DataFrame | None = None) -> pd.DataFrame:
    """One measure as a display table: areas (by name) and *Hela studien* as rows, a column per year,
    ``..`` where suppressed, and the change from the first year to the last where both are shown."""
    return trend_wide(trend, matt, area_names(omraden))


def area_trend_table(trend: pd.DataFrame, area: str, name: str, measures: Sequence[str] | None = None) -> pd.DataFrame:
    """The area's values per year beside the whole study's, for a profile: a row per measure and year
    (``Mått``, ``År``, the area's name, *Hela studien*), ``..`` where suppressed."""
    ids = [m for m in (measures or list(dict.fromkeys(trend["matt"]))) if m in set(trend["matt"])]
    rows = []
    own = trend[trend["omrade_kod"].isin([area, ALLA])]
    for m in ids:
        wide = trend_wide(own, m, {area: name, ALLA: "Hela studien"})
        years = [c for c in wide.columns if c.isdigit()]
        for y in years:
            rows.append(
                {
                    "Mått": measure_label(m),
                    "År": y,
                    name: wide.loc[name, y] if name in wide.index else "",
                    "Hela studien": wide.loc["Hela studien", y] if "Hela studien" in wide.index else "",
                }
            )
    return pd.DataFrame(rows, columns=["Mått", "År", name, "Hela studien"])
