"""The measure registry: every measure's id, Swedish label, unit, needed tables and definition."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

import pandas as pd

if TYPE_CHECKING:  # the context module imports nothing from here at run time either way
    from insats.analysis.measures.context import Context

# --------------------------------------------------------------------------- registry


@dataclass(frozen=True)
class Measure:
    id: str
    label: str
    """Swedish label for tables and charts."""
    unit: str
    """andel (share 0–1) | antal | kr | dagar | kvot | index | per_100"""
    needs: tuple[str, ...]
    personal: bool
    """True when taljare/namnare count persons (or their participations): disclosure control applies."""
    definition: str
    """Swedish one-line definition for report footnotes."""
    func: Callable[[Context], pd.DataFrame] | None = None
    count_is_personal: bool = True
    """For personal measures: whether ``taljare`` is a count of persons (else only ``namnare`` is)."""


MEASURES: dict[str, Measure] = {}


def register(id, label, unit, needs, personal, definition, count_is_personal=True):
    def register(func):
        MEASURES[id] = Measure(id, label, unit, tuple(needs), personal, definition, func, count_is_personal)
        return func

    return register


SHARE_MEASURES_FOR_EQUALITY = (
    "erbjudande_andel",
    "narvaro_andel_80",
    "utfall_arbete_studier_andel",
    "utfall_sjalvforsorjning_andel",
    "langvarigt_andel",
    "vagin_andel_30_dagar",
    "vagin_andel_insats_90_dagar",
    "lov_andel_valt",
)
"""Area shares whose variation across areas the likställighet rows describe."""

FUNNEL_CODES = {"under_998": -2, "under_95": -1, "inom": 0, "over_95": 1, "over_998": 2}
"""How funnel-plot flags are stored in ``varde`` of ``likstallighet_tratt__<matt>`` rows."""


def measure_label(mid: str) -> str:
    """Swedish label of a measure id, including the derived likställighet ids."""
    if mid in MEASURES:
        return MEASURES[mid].label
    for prefix, text in (
        ("likstallighet_spannvidd__", "Spännvidd mellan områden: "),
        ("likstallighet_cv__", "Variationskoefficient mellan områden: "),
        ("likstallighet_tratt__", "Trattdiagram, avvikelse: "),
    ):
        if mid.startswith(prefix):
            return text + measure_label(mid[len(prefix) :]).lower()
    return mid


def labels_table() -> pd.DataFrame:
    """Measure ids with Swedish labels, units and definitions (the second sheet of the XLSX)."""
    return pd.DataFrame(
        [{"Mått": m.id, "Benämning": m.label, "Enhet": m.unit, "Definition": m.definition} for m in MEASURES.values()]
    )
