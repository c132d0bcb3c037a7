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

FUNNEL_LABELS: dict[int, str] = {
    -2: "under den nedre 99,8 %-gränsen (tydligt lägre än hela studien)",
    -1: "under den nedre 95 %-gränsen men inom 99,8 %-gränsen",
    0: "inom 95 %-gränserna (skillnaden kan vara slump)",
    1: "över den övre 95 %-gränsen men inom 99,8 %-gränsen",
    2: "över den övre 99,8 %-gränsen (tydligt högre än hela studien)",
}
"""Swedish meaning of each ``FUNNEL_CODES`` value (the legend of the XLSX files)."""


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


# --------------------------------------------------------------------------- counts
@dataclass(frozen=True)
class Count:
    """A count of people (or of their participations, applications …) that measures publish.

    Measures that publish the same count name it the same way, so the count is one cell of the
    publication's disclosure model (``insats.analysis.disclosure``) and is hidden or shown
    everywhere at once. ``over_time`` says how the count of a period relates to the counts of the
    calendar years in it: ``"additiv"`` (events dated in the period: the period's count is the
    years' sum), ``"union"`` (distinct people or participations that can fall in several years:
    the period's count is at least each year's and at most their sum) or ``"ingen"`` (no simple
    relation, e.g. "offered within 90 days of the first month of the period")."""

    id: str
    label: str
    over_time: str


COUNTS: dict[str, Count] = {
    c.id: c
    for c in (
        Count("vuxna_arbetslosa", "vuxna biståndsmottagare med försörjningshinder arbetslöshet", "union"),
        Count("vuxna_arbetslosa_erbjudna", "av dem erbjudna en insats inom 90 dagar", "ingen"),
        Count("manader_arbetslosa", "månader med bistånd för vuxna med försörjningshinder arbetslöshet", "additiv"),
        Count("vuxna_alla", "vuxna biståndsmottagare", "union"),
        Count("vuxna_alla_erbjudna", "av dem erbjudna en insats inom 90 dagar", "ingen"),
        Count("deltagarmanader", "månader i insats för biståndsmottagare", "additiv"),
        Count("deltaganden_narvaro", "deltaganden med registrerad närvaro", "union"),
        Count("deltaganden_narvaro_80", "av dem med minst 80 % närvaro", "union"),
        Count("deltaganden_avslutade", "avslutade deltaganden", "additiv"),
        Count("deltaganden_arbete_studier", "av dem avslutade till arbete eller studier", "additiv"),
        Count("deltaganden_uppfoljda", "avslutade deltaganden med tre månaders uppföljning", "additiv"),
        Count("deltaganden_utan_bistand", "av dem utan bistånd i tre månader", "additiv"),
        Count("justerat_avslutade", "avslutade deltaganden i den justerade modellen", "additiv"),
        Count("justerat_arbete_studier", "av dem avslutade till arbete eller studier", "additiv"),
        Count("personar", "personår med bistånd", "additiv"),
        Count("personar_langvariga", "av dem med bistånd 10–12 månader", "additiv"),
        Count("ansokningar", "ansökningar", "additiv"),
        Count("ansokningar_bedomda", "av dem bedömda", "additiv"),
        Count("ansokningar_bedomda_30", "av dem bedömda inom 30 dagar", "additiv"),
        Count("bedomda_arbetsformaga", "bedömda med hel eller delvis arbetsförmåga", "additiv"),
        Count("bedomda_arbetsformaga_insats_90", "av dem som började en insats inom 90 dagar", "additiv"),
        Count("bedomningar_overlamnade", "av dem överlämnade till en annan enhet", "additiv"),
        Count("bedomningar_nya", "av dem nya bedömningar av en person som redan bedömts", "additiv"),
        Count("deltaganden_startade", "deltaganden som började i perioden", "additiv"),
        Count("deltaganden_eget_omrade", "av dem i områdets egna insatser", "additiv"),
        Count("deltaganden_centrala", "av dem i centrala insatser", "additiv"),
        Count("deltaganden_annat_omrade", "av dem i andra områdens insatser", "additiv"),
        Count("lov_deltaganden", "deltaganden hos LOV-utförare", "additiv"),
        Count("lov_deltaganden_valda", "av dem där personen valde utförare", "additiv"),
    )
}
"""Every count of people the measures publish."""

MEASURE_COUNTS: dict[str, tuple[str | None, str | None]] = {
    "utbud_platser_per_100": (None, "manader_arbetslosa"),
    "medel_per_deltagare": (None, "deltagarmanader"),
    "erbjudande_andel": ("{omfattning}_erbjudna", "{omfattning}"),
    "narvaro_median": (None, "deltaganden_narvaro"),
    "narvaro_andel_80": ("deltaganden_narvaro_80", "deltaganden_narvaro"),
    "utfall_arbete_studier_andel": ("deltaganden_arbete_studier", "deltaganden_avslutade"),
    "utfall_sjalvforsorjning_andel": ("deltaganden_utan_bistand", "deltaganden_uppfoljda"),
    "langvarigt_andel": ("personar_langvariga", "personar"),
    "vagin_andel_bedomda": ("ansokningar_bedomda", "ansokningar"),
    "vagin_dagar_median": (None, "ansokningar_bedomda"),
    "vagin_dagar_p90": (None, "ansokningar_bedomda"),
    "vagin_andel_30_dagar": ("ansokningar_bedomda_30", "ansokningar"),
    "vagin_andel_insats_90_dagar": ("bedomda_arbetsformaga_insats_90", "bedomda_arbetsformaga"),
    "vagin_andel_overlamnade": ("bedomningar_overlamnade", "ansokningar_bedomda"),
    "vagin_andel_ombedomningar": ("bedomningar_nya", "ansokningar_bedomda"),
    "lov_andel_valt": ("lov_deltaganden_valda", "lov_deltaganden"),
    "samverkan_andel_eget_omrade": ("deltaganden_eget_omrade", "deltaganden_startade"),
    "samverkan_andel_central": ("deltaganden_centrala", "deltaganden_startade"),
    "samverkan_andel_annat_omrade": ("deltaganden_annat_omrade", "deltaganden_startade"),
    "justerat_utfall_oe": ("justerat_arbete_studier", "justerat_avslutade"),
    "justerat_utfall_oe_lo": ("justerat_arbete_studier", "justerat_avslutade"),
    "justerat_utfall_oe_hi": ("justerat_arbete_studier", "justerat_avslutade"),
    "justerat_utfall_forvantat": ("justerat_arbete_studier", "justerat_avslutade"),
}
"""The counts a measure's ``taljare`` and ``namnare`` are (None: not a count of people).
``{omfattning}`` is ``vuxna_arbetslosa`` or ``vuxna_alla`` (the parameter
``erbjudande_alla_grupper``). A measure about people that is missing here gets counts of its own
(``<id>.taljare``, ``<id>.namnare``), which is safe but shares nothing."""


PARTITIONS: dict[str, tuple[str, ...]] = {
    "deltaganden_startade": ("deltaganden_eget_omrade", "deltaganden_centrala", "deltaganden_annat_omrade"),
}
"""Counts that split a whole into parts with nothing left over (per area and period): the
disclosure model relates them, so a part hidden in one share cannot be recovered as the whole
minus the others."""

SUBSETS: dict[str, str] = {
    "deltaganden_uppfoljda": "deltaganden_avslutade",
}
"""Counts that are a part of another count (per area and period) without being the numerator of a
share of it: part -> whole. The rest (whole minus part) is shown whenever both are, so it is a count
of its own in the disclosure model, protected like a share's complement: the ended participations
that cannot be followed up yet (they ended in the last ``uppfoljning_manader`` months of the data)
are ``deltaganden_avslutade`` minus ``deltaganden_uppfoljda`` (antaganden R10)."""


def counts_of(mid: str, *, all_groups: bool = False) -> tuple[str | None, str | None]:
    """The counts of a measure's numerator and denominator (see ``MEASURE_COUNTS``)."""
    m = MEASURES.get(mid)
    if m is None or not m.personal:
        return None, None
    scope = "vuxna_alla" if all_groups else "vuxna_arbetslosa"
    t, n = MEASURE_COUNTS.get(mid, (f"{mid}.taljare", f"{mid}.namnare"))
    if not m.count_is_personal:
        t = None
    fill = lambda c: c.replace("{omfattning}", scope) if c else None  # noqa: E731
    return fill(t), fill(n)


def over_time(count: str) -> str:
    """How a count of a period relates to its years (``Count.over_time``; ``ingen`` if unknown)."""
    c = COUNTS.get(count)
    return c.over_time if c else "ingen"
