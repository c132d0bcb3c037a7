"""Samverkan och samordning: where the residents' interventions are run — by their own district,
centrally (jobbtorg) or by another district (measures ``samverkan_andel_*``, docs/antaganden.md K11)."""

from __future__ import annotations

from typing import Any

import pandas as pd

from insats.data.study import Study
from insats.reports.kartlaggning.common import (
    _alla,
    _has_values,
    _missing,
    _names,
    _omraden,
    _pct,
    _published_areas,
    interval_text,
    join_names,
    measure_table_with_intervals,
    present,
    published_interval,
    sectioned,
)
from insats.reports.render import Note, literal
from insats.text import format_number

SAMVERKAN_MEASURES: tuple[str, ...] = (
    "samverkan_andel_eget_omrade",
    "samverkan_andel_central",
    "samverkan_andel_annat_omrade",
)
"""The three parts of the residents' participations, by who runs the intervention."""


def samverkan_sentences(long: pd.DataFrame, study: Study) -> list[str]:
    """Plain-Swedish reading of the published shares: the whole study, then the districts whose
    residents rely most on central interventions and on other districts' (suppressed areas are
    never named)."""
    out = []
    parts = {m: _alla(long, m) for m in SAMVERKAN_MEASURES}
    if all(p is not None and pd.notna(p["varde"]) and not bool(p["undertryckt"]) for p in parts.values()):
        eget, central, annat = (float(parts[m]["varde"]) for m in SAMVERKAN_MEASURES)  # type: ignore[index]
        ci = published_interval(parts[SAMVERKAN_MEASURES[0]])
        out.append(
            f"I hela studien var {_pct(eget)} av deltagandena i insatser som den egna stadsdelen ansvarar för"
            + (f" (95 %-intervall {interval_text(*ci)})" if ci is not None else "")
            + f", {_pct(central)} i centrala insatser och {format_number(annat, 1, percent=True)} i andra "
            "stadsdelars insatser."
        )
    names = _names(study)
    central_rows = _published_areas(long, "samverkan_andel_central")
    if len(central_rows) >= 3:
        top = central_rows.nlargest(3, "varde")
        listed = join_names(
            [f"{literal(names.get(c, c))} ({_pct(v)})" for c, v in zip(top["omrade_kod"], top["varde"])]
        )
        out.append(
            f"De boende i {listed} deltar mest i centrala insatser; där hänger utbudet mest på samordningen "
            "med den centrala verksamheten."
        )
    other = _published_areas(long, "samverkan_andel_annat_omrade")
    other = other[other["varde"] > 0]
    if len(other):
        out.append(
            f"Deltagande i andra stadsdelars insatser förekommer i {len(other)} av de redovisade områdena "
            f"och är högst {format_number(float(other['varde'].max()), 1, percent=True)}: stadsdelarna delar sällan sina insatser med varandra."
        )
    elif len(_published_areas(long, "samverkan_andel_annat_omrade")):
        out.append("Ingen boende deltog i en annan stadsdels insatser i de redovisade områdena.")
    return out


@sectioned
def section_samverkan(study: Study, long: pd.DataFrame) -> list[Any]:
    """The residents' participations by who runs the intervention (table and sentences)."""
    missing = _missing(study, ["deltaganden", "insatser", "personer"], "Samverkan mellan stadsdelarna")
    if missing:
        return missing
    ids = present(long, SAMVERKAN_MEASURES)
    if not ids or not any(_has_values(long, m) for m in ids):
        return [Note("Inga deltaganden i perioden: samverkan mellan stadsdelarna kan inte beskrivas.")]
    items: list[Any] = [measure_table_with_intervals(long, ids, omraden=_omraden(study))]
    sentences = samverkan_sentences(long, study)
    if sentences:
        items.append(Note(" ".join(sentences)))
    return items
