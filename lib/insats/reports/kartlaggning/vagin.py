"""En väg in: the budget assignment the 2013 kartläggning was part of — how long the residents
wait for an assessment of arbetsförmåga, how often they are handed over between units or assessed
again (per assessment: ``vagin_andel_ombedomningar``), and how many with capacity start an insats within 90 days (measures ``vagin_*``,
docs/antaganden.md)."""

from __future__ import annotations

from typing import Any

import pandas as pd

from insats.data.study import Study
from insats.reports.kartlaggning.common import (
    _alla,
    _has_values,
    _missing,
    _omraden,
    _pct,
    interval_text,
    measure_table_with_intervals,
    present,
    published_interval,
    sectioned,
)
from insats.reports.render import Note
from insats.text import format_number

VAGIN_MEASURES: tuple[str, ...] = (
    "vagin_andel_bedomda",
    "vagin_dagar_median",
    "vagin_andel_30_dagar",
    "vagin_andel_insats_90_dagar",
    "vagin_andel_overlamnade",
    "vagin_andel_ombedomningar",
)
"""The en väg in measures the kartläggning shows per district, in display order."""


def _shown(long: pd.DataFrame, matt: str) -> float | None:
    row = _alla(long, matt)
    if row is None or bool(row["undertryckt"]) or pd.isna(row["varde"]):
        return None
    return float(row["varde"])


def _ci(long: pd.DataFrame, matt: str) -> str:
    """The text " (95 %-intervall 22,9 – 26,7 %)" for the whole study's published share, from its published counts."""
    ci = published_interval(_alla(long, matt))
    return f" (95 %-intervall {interval_text(*ci)})" if ci is not None else ""


def vagin_sentences(long: pd.DataFrame) -> list[str]:
    """Plain-Swedish reading of the whole study's published en väg in measures."""
    out = []
    days, within = _shown(long, "vagin_dagar_median"), _shown(long, "vagin_andel_30_dagar")
    if days is not None and within is not None:
        out.append(
            f"I hela studien tog det i median {format_number(days, 0)} dagar från ansökan till bedömning av "
            f"arbetsförmågan; {_pct(within)} av ansökningarna var bedömda inom 30 dagar."
        )
    go = _shown(long, "vagin_andel_insats_90_dagar")
    if go is not None:
        out.append(f"Av dem med hel eller delvis arbetsförmåga började {_pct(go)} en insats inom 90 dagar.")
    hand, again = _shown(long, "vagin_andel_overlamnade"), _shown(long, "vagin_andel_ombedomningar")
    if hand is not None:
        out.append(
            f"{_pct(hand)} av bedömningarna lämnades över till en annan enhet{_ci(long, 'vagin_andel_overlamnade')}."
        )
    if again is not None:
        out.append(
            f"{format_number(again, 1, percent=True)} av bedömningarna var en ny bedömning av en person som redan "
            f"hade bedömts{_ci(long, 'vagin_andel_ombedomningar')}."
        )
    return out


@sectioned
def section_vagin(study: Study, long: pd.DataFrame) -> list[Any]:
    """En väg in per district: the published ``vagin_*`` measures (table) and sentences; says what
    is missing when the study has no assessments or lacks the hand-over column."""
    missing = _missing(study, ["bedomningar", "personer"], "En väg in")
    if missing:
        return missing
    ids = [m for m in present(long, VAGIN_MEASURES) if _has_values(long, m)]
    if not ids:
        return [Note("Inga bedömningar av arbetsförmåga i perioden: en väg in kan inte beskrivas.")]
    items: list[Any] = [measure_table_with_intervals(long, ids, omraden=_omraden(study))]
    sentences = vagin_sentences(long)
    if "vagin_andel_overlamnade" not in ids:
        sentences.append(
            "Överlämningar mellan enheter kan inte redovisas: kolumnen `overlamnad_till` (överlämnad till) i "
            "`bedomningar` saknas eller är tom."
        )
    if sentences:
        items.append(Note(" ".join(sentences)))
    return items
