"""What the kartläggning's parts share: parameters, helpers for names and published values, sections."""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable, Sequence
from typing import Any, ParamSpec

import numpy as np
import pandas as pd

from insats import contract
from insats.analysis.measures import (
    MEASURES,
    SHARE_MEASURES_FOR_EQUALITY,
    Context,
    Params,
    measure_label,
)
from insats.analysis.privacy import SUPPRESSED
from insats.analysis.stats import wilson_interval
from insats.contract import ALLA, CENTRAL
from insats.data.study import Study
from insats.errors import UsageError
from insats.reports.common import area_names, measure_table, missing_note
from insats.reports.render import Section, section_of
from insats.text import format_number

SURVEY_TABLES = ("omraden", "insatser", "medel")
"""The survey level: what the kartläggning's organisation, utbud and medel sections need."""

OUTCOME_TABLES = ("personer", "bistand", "deltaganden")
"""What the outcome sections need (``docs/design.md``: the data contract)."""

GAP_CATEGORIES: tuple[str, ...] = tuple(c for c in contract.codes("kategori") if c not in ("feriejobb", "ovrigt"))
"""Categories whose absence counts as a gap in an area's utbud (typology without feriejobb and övrigt)."""

COMMON_DEFINITIONS: dict[str, str] = {
    "egen": "Områdets egen definition",
    "utan_feriejobb": "Gemensam definition utan feriejobb",
    "med_feriejobb": "Gemensam definition med feriejobb",
}
"""The three definitions of money spent on interventions in the feriejobb comparison."""

EQUALITY_MEASURES: tuple[str, ...] = (
    "utbud_kategorier",
    "utbud_platser_per_100",
    "utbud_diversitet",
    "utbud_andel_narvarokrav",
    "medel_andel_feriejobb",
    "medel_andel_raknas_som_insats",
    "medel_per_deltagare",
    *SHARE_MEASURES_FOR_EQUALITY,
    "justerat_utfall_oe",
)
"""Measures whose variation across areas the likställighet section describes, in display order."""

SUPPORTED_LANGUAGES = ("sv",)


# --------------------------------------------------------------------------- helpers


def period_years(start, end) -> list[int]:
    """Calendar years that the period touches (``medel`` is yearly: each counts whole)."""
    return list(range(_month(start).year, _month(end).year + 1))


def present(long: pd.DataFrame, ids: Iterable[str]) -> list[str]:
    """The measure ids of ``ids`` that have at least one row in the long table, in order."""
    have = set(long["matt"])
    return [m for m in ids if m in have]


def _has_values(long: pd.DataFrame, matt: str) -> bool:
    return not _published_areas(long, matt).empty


def _month(value) -> pd.Timestamp:
    return pd.Timestamp(str(value)).to_period("M").to_timestamp()


def _context(study: Study, start, end) -> Context:
    return Context(study, Params(start=_month(start), end=_month(end)))


def _areas(study: Study) -> list[str]:
    """The study's area codes (without CENTRAL), sorted, as ``insats.analysis.measures`` orders them."""
    return _context(study, "2000-01", "2000-01").areas


def _names(study: Study) -> dict[str, str]:
    return area_names(study.get("omraden"))


def join_names(names: Sequence[str]) -> str:
    """Swedish enumeration: ``"A"``, ``"A och B"``, ``"A, B och C"``."""
    names = [str(n) for n in names]
    if not names:
        return ""
    if len(names) == 1:
        return names[0]
    return ", ".join(names[:-1]) + " och " + names[-1]


def _areas_word(k: int) -> str:
    """``"1 område"``, ``"3 områden"``."""
    return f"{format_number(k)} {'område' if k == 1 else 'områden'}"


def _name_list(names: Sequence[str], limit: int = 3) -> str:
    """Names joined, or ``"7 områden"`` when there are more than ``limit``."""
    return join_names(names) if len(names) <= limit else _areas_word(len(names))


def _pct(x: float) -> str:
    return format_number(x, 0, percent=True)


def _published_areas(long: pd.DataFrame, matt: str) -> pd.DataFrame:
    """Published, non-suppressed area rows (not ALLA, not CENTRAL) of one measure with a value."""
    part = long[(long["matt"] == matt) & ~long["omrade_kod"].isin([ALLA, CENTRAL])]
    part = part[~part["undertryckt"].astype(bool) & part["varde"].notna()]
    return part


def _alla(long: pd.DataFrame, matt: str) -> pd.Series | None:
    part = long[(long["matt"] == matt) & (long["omrade_kod"] == ALLA)]
    return part.iloc[0] if len(part) else None


def check_parameters(
    study: Study, *, start: str, end: str, min_cell: int = 5, focus: str | None = None, language: str = "sv"
) -> dict:
    """Validate the notebook's parameters against the study; Swedish ``ValueError`` when wrong.

    Returns the parameters as a dict (for the provenance table).
    """
    if language not in SUPPORTED_LANGUAGES:
        raise UsageError(f'Språket {language!r} stöds inte ännu; välj sprak = "sv".')
    start, end = _month(start), _month(end)
    if end < start:
        raise UsageError(f"Perioden slutar ({end:%Y-%m}) före sin början ({start:%Y-%m}).")
    if int(min_cell) < 1:
        raise UsageError(f"min_cell måste vara minst 1, fick {min_cell!r}.")
    if focus is not None:
        areas = _areas(study)
        if str(focus) not in areas:
            raise UsageError(f"fokus_omrade {focus!r} finns inte i studien; områdena är: {', '.join(areas)}.")
    return {
        "fran": f"{start:%Y-%m}",
        "till": f"{end:%Y-%m}",
        "min_cell": int(min_cell),
        "fokus_omrade": focus,
        "sprak": language,
    }


# --------------------------------------------------------------------------- report sections
# Each returns the ``Section`` one part of the notebook shows (``show(section)``): Swedish notes,
# formatted tables and charts, in order. A part whose tables are missing holds the note that says so.

UTBUD_MEASURES = (
    "utbud_insatser",
    "utbud_kategorier",
    "utbud_platser_per_100",
    "utbud_diversitet",
    "utbud_andel_narvarokrav",
)
MEDEL_MEASURES = ("medel_totalt", "medel_andel_feriejobb", "medel_andel_raknas_som_insats", "medel_per_deltagare")


P = ParamSpec("P")


def sectioned(func: Callable[P, list[Any]]) -> Callable[P, Section]:
    """A section function written as a list of items, returned as a ``Section`` (``section_of``)."""

    @functools.wraps(func)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> Section:
        return section_of(func(*args, **kwargs))

    return wrapper


def _omraden(study: Study):
    return study.get("omraden")


def _missing(study: Study, needs: Sequence[str], what: str) -> list:

    note = missing_note(study, list(needs), what)
    return [note] if note else []


INTERVAL_HEADER = "95 %-intervall"
"""The header part of an interval column in ``measure_table_with_intervals``."""


def published_interval(row: pd.Series | None) -> tuple[float, float] | None:
    """The Wilson 95 % interval of one published share (a row of the long measures table) from its
    *published* counts; None when the row is suppressed or its counts are missing."""
    if row is None or bool(row["undertryckt"]) or pd.isna(row.get("taljare")) or pd.isna(row.get("namnare")):
        return None
    if float(row["namnare"]) <= 0:
        return None
    lo, hi = wilson_interval(float(row["taljare"]), float(row["namnare"]))
    return float(lo), float(hi)


def interval_text(lo: float, hi: float) -> str:
    """The text "40,1 – 52,3 %": an interval of shares, one decimal."""
    return f"{format_number(100 * lo, 1)} – {format_number(hi, 1, percent=True)}"


def measure_table_with_intervals(long: pd.DataFrame, ids: Sequence[str], *, omraden=None) -> pd.DataFrame:
    """``reports.common.measure_table`` with, after each share (unit ``andel``), a column with its Wilson
    95 % interval computed from the published ``taljare``/``namnare`` (suppressed cells stay ``..``, an area
    without counts gets an empty cell). The interval column's header is the measure's label followed by
    ``", 95 %-intervall"``."""
    ids = list(ids)
    shown = measure_table(long, ids, omraden=omraden)
    names = area_names(omraden)
    codes = {names.get(c, "Hela studien" if c == ALLA else c): c for c in long["omrade_kod"].astype(str).unique()}
    for m in reversed(ids):
        if MEASURES[m].unit != "andel":
            continue
        part = long[long["matt"] == m].set_index(long.loc[long["matt"] == m, "omrade_kod"].astype(str))
        cells = []
        for label in shown.index:
            code = codes.get(label, label)
            row = part.loc[code] if code in part.index else None
            if row is not None and bool(row["undertryckt"]):
                cells.append(SUPPRESSED)
                continue
            ci = published_interval(row)
            cells.append(interval_text(*ci) if ci is not None else "")
        header = f"{measure_label(m)}, {INTERVAL_HEADER}"
        shown.insert(shown.columns.get_loc(measure_label(m)) + 1, header, np.array(cells, dtype=object))
    return shown
