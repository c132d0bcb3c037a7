"""Counts over parts of the study period in the publication's disclosure model: the months of the attendance
series, the endings before and after the reform date, the endings that can be followed up (``docs/antaganden.md``
R10).

The reform date (``reform_datum``) is a free parameter, so the tables around it cover periods that are not
calendar years, beside the measures of the calendar years and of the study period. Each such count is a cell of the
study's one model, related to the counts it is a part of, so that no hidden one follows from the calendar years,
the tables per intervention or the other parts:

* a month of the attendance series (participations with attendance that started that month) is a part of the
  participations with attendance of its calendar year and of every publication period that holds it
  (``deltaganden_narvaro``), and of the attendance tables' total (``ATTENDANCE_COUNTS``); an equality where the data
  begin with the period;
* the endings before + after the reform of a requirement group are a part of the group's ended participations: for
  all, of the outcome tables' total (``utfall_avslutade``); for a group, of the sum of its interventions' (a node of
  the outcome hierarchy per ``narvarokrav``). A participation that started on or after the reform ended in the
  calendar years from the reform's, so *after* is a part of the ended participations of those years;
* the endings that can be followed up (90 days, the months of assistance after) are a part of the endings of their
  group (drop-outs, other endings, all), and the rest (ended too late to be followed up) is a count of its own.

The attendance tables per intervention and per provider, which the series is a part of, are one hierarchy
(``register_attendance_hierarchy``, as the outcome tables, R9).

While a publication collects, the functions register; when it is decided, ``protect_months`` reads the decision;
without a publication the months are protected on their own, against the series' total.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from insats.analysis.disclosure import CellKey, Disclosure, dims_of
from insats.analysis.measures import Context
from insats.analysis.measures.publish import period_label
from insats.analysis.publication import active_publication
from insats.contract import ALLA
from insats.errors import DataError
from insats.reports.utvardering.common import register_hierarchy, register_split, relate_part, requirement_of
from insats.reports.utvardering.utfall import OUTCOME_COUNTS, outcome_frame_ext, outcome_hierarchy

__all__ = [
    "ATTENDANCE_COUNTS",
    "BEFORE_COUNTS",
    "ENDED_COUNT",
    "FOLLOWED_COUNTS",
    "MONTH_COUNT",
    "link_whole_study",
    "protect_months",
    "register_attendance_hierarchy",
    "register_before_after",
    "register_followed",
]

MONTH_COUNT = "narvaro_startmanad"
"""Participations with attendance that started in a month (the attendance series; period: the month)."""

ATTENDANCE_COUNTS = {"namnare": "narvaro_deltaganden", "taljare": "narvaro_deltaganden_80"}
"""The counts of the attendance tables per intervention and per provider (their total row is one cell)."""

BEFORE_COUNTS = {
    "fore": {"k_fore": "avbrott_fore", "n_fore": "avslutade_fore"},
    "efter": {"k_efter": "avbrott_efter", "n_efter": "avslutade_efter"},
}
"""The counts of the drop-out table per requirement group: drop-outs and ended (with an ``avslut``), among the
participations that started before / on or after the reform date."""

ENDED_COUNT = "avslutade_med_avslut"
"""Ended participations with an ``avslut`` (before + after), per ending group (``grupp`` avbrott/annat; all)."""

FOLLOWED_COUNTS = {
    "ny": {"taljare": "efter_avslut_ny_insats", "namnare": "avslutade_foljs_dagar"},
    "bistand": {"taljare": "efter_avslut_bistand", "namnare": "avslutade_foljs_manader"},
}
"""The counts of the table of what follows an ending, per ending group: the endings that can be followed up (90
days / the months of assistance after inside the data) and of them those with a new intervention / assistance."""

WHOLE_STUDY = (
    ("deltaganden_avslutade", OUTCOME_COUNTS["namnare"]),
    ("deltaganden_arbete_studier", OUTCOME_COUNTS["taljare"]),
    ("deltaganden_uppfoljda", "utfall_uppfoljda"),
    ("deltaganden_utan_bistand", "utfall_utan_bistand"),
    ("deltaganden_narvaro", ATTENDANCE_COUNTS["namnare"]),
    ("deltaganden_narvaro_80", ATTENDANCE_COUNTS["taljare"]),
    ("utfall_uppfoljda", FOLLOWED_COUNTS["bistand"]["namnare"]),
)
"""(whole, part) counts of the whole study over the study period that the measures and the utvärdering's tables
both publish: the same people (or a part of them, e.g. the endings with an ``avslut``)."""


def register_attendance_hierarchy(frame: pd.DataFrame) -> None:
    """While a publication collects: the attendance per intervention adds up to the attendance per provider
    (``register_hierarchy`` with ``ATTENDANCE_COUNTS``), so that no intervention hidden in one table follows from its
    provider's row in the other."""
    pub = active_publication()
    if pub is None or pub.decided or frame.empty:
        return
    f = frame.assign(
        _80=frame["ratio"] >= 0.8,
        insats_id=frame["insats_id"].astype(object).fillna("(saknas)").astype(str),
        utforare=frame["utforare"].astype(object).fillna("(saknas)").astype(str),
    )
    g = f.groupby("insats_id", sort=True)
    atoms = g[["utforare"]].first()
    if g["utforare"].nunique().max() > 1:  # an intervention with several providers: no hierarchy
        return
    atoms["namnare"] = g.size().astype(float)
    atoms["taljare"] = g["_80"].sum().astype(float)
    register_hierarchy(
        pub.disclosure,
        atoms.reset_index(),
        atom="insats_id",
        levels=("utforare",),
        counts=ATTENDANCE_COUNTS,
        shares=(("taljare", "namnare"),),
        period=pub.table_period,
        origin="utvärdering: närvaro per insats och utförare",
    )


def _month_key(month: pd.Timestamp, dims: tuple) -> CellKey:
    m = pd.Timestamp(month)
    return CellKey(MONTH_COUNT, dims, period_label(m, m))


def protect_months(monthly: pd.DataFrame, min_cell: int, *, total: float, treated_ids=None) -> np.ndarray:
    """Which months of the attendance series (``monthly_attendance``: ``manad``, ``n``) the chart leaves out (True).

    ``total``: the participations with attendance the series is a part of (the attendance tables' total, or the
    sum over the interventions with the requirement); ``treated_ids``: the interventions with the requirement when
    the series is theirs only (a comparison series beside it), else None."""
    dims = dims_of(narvarokrav="med") if treated_ids is not None else ()
    keys = [_month_key(m, dims) for m in monthly["manad"]]
    values = monthly["n"].astype(float).to_numpy()
    origin = "utvärdering: närvaro per startmånad"
    pub = active_publication()
    if pub is None:  # on its own: the months and their total, which the attendance table shows
        d = Disclosure(min_cell=min_cell)
        cells = [d.cell(k, v, origin=origin) for k, v in zip(keys, values)]
        known = d.cell(CellKey(ATTENDANCE_COUNTS["namnare"], dims), total)
        d.known.add(known)
        relate_part(d, known, cells, label="månaderna ryms i perioden")
        hidden = d.protect()
        return np.array([bool(hidden[c]) for c in cells], dtype=bool)
    d = pub.disclosure
    if pub.decided:
        missing = [k for k in keys if k not in d.index]
        if missing:
            raise DataError(
                f"närvaroserien fanns inte med när röjandekontrollen beslutades ({missing[0].describe()}); "
                "kör rapporten med samma data och parametrar som publiceringen."
            )
        assert d.suppressed is not None
        return np.array([bool(d.suppressed[d.index[k]]) for k in keys], dtype=bool)
    cells = [d.cell(k, v, origin=origin) for k, v in zip(keys, values)]
    months = pd.DatetimeIndex(monthly["manad"])
    for label in pub.raws:  # every publication period: its months are a part of its participations
        a, b = (pd.Timestamp(x) for x in label.split(":"))
        inside = [c for c, m in zip(cells, months) if a <= m <= b]
        if not inside:
            continue
        relate_part(d, d.index.get(CellKey("deltaganden_narvaro", (), label)), inside, label="månaderna ryms i året")
    span = pub.table_period
    whole = d.index.get(CellKey(ATTENDANCE_COUNTS["namnare"], (), span))
    if treated_ids is not None:
        keys_ids = [CellKey(ATTENDANCE_COUNTS["namnare"], dims_of(insats_id=i), span) for i in treated_ids]
        parts = [d.index[k] for k in keys_ids if k in d.index]
        whole = None
        if parts and len(parts) == len(keys_ids):
            whole = d.cell(
                CellKey(ATTENDANCE_COUNTS["namnare"], dims, span),
                float(np.nansum([d.cells[p].value for p in parts])),
                published=False,
            )
            d.add_sum(whole, parts, label="insatserna med närvarokrav")
    relate_part(d, whole, cells, label="månaderna ryms i perioden")
    return np.zeros(len(keys), dtype=bool)


def register_before_after(ctx: Context, t: pd.DataFrame, reform_datum, min_cell: int) -> None:
    """While a publication collects: relate the drop-out table (``dropout_by_period`` with ``krav``, registered with
    ``BEFORE_COUNTS``) to the ended participations it is a part of (module docstring), and register the endings
    with an ``avslut`` per ending group (``ENDED_COUNT``)."""
    pub = active_publication()
    if pub is None or pub.decided:
        return
    d, span = pub.disclosure, pub.table_period
    outcome_hierarchy(outcome_frame_ext(ctx), min_cell)  # the ended participations per intervention (registers)

    def cell(count: str, group: str) -> int | None:
        return d.index.get(CellKey(count, dims_of(krav=group), span))

    n_fore, n_efter = BEFORE_COUNTS["fore"]["n_fore"], BEFORE_COUNTS["efter"]["n_efter"]
    k_fore, k_efter = BEFORE_COUNTS["fore"]["k_fore"], BEFORE_COUNTS["efter"]["k_efter"]
    ended = OUTCOME_COUNTS["namnare"]
    atoms = {
        k.dims[0][1]: i
        for k, i in d.index.items()
        if k.count == ended and k.period == span and len(k.dims) == 1 and k.dims[0][0] == "insats_id"
    }
    ids = sorted(atoms)
    req = dict(zip(ids, requirement_of(ctx, ids)))
    for g in t["krav"].astype(str):
        sides = [cell(n_fore, g), cell(n_efter, g)]
        if g == ALLA:
            relate_part(d, d.index.get(CellKey(ended, (), span)), sides, label="före och efter reformen: avslutade")
            continue
        members = [atoms[i] for i in ids if {True: "med", False: "utan", None: "okand"}[req[i]] == g]
        if not members:
            continue
        node = d.cell(
            CellKey(ended, dims_of(narvarokrav=g), span),
            float(np.nansum([d.cells[i].value for i in members])),
            published=False,
        )
        d.add_sum(node, members, label=f"insatserna i gruppen summerar till gruppen ({ended})")
        relate_part(d, node, sides, label="före och efter reformen: gruppens avslutade")
    # a participation that started on or after the reform ended in the calendar years from the reform's
    year = pd.Timestamp(reform_datum).year
    first, last = (int(p[:4]) for p in (span[:7], span[8:]))
    after = d.index.get(CellKey("deltaganden_avslutade", (), f"{max(year, first)}-01:{last}-12"))
    if first <= year <= last and after is not None and cell(n_efter, ALLA) is not None:
        relate_part(d, after, [cell(n_efter, ALLA)], label="började efter reformen: avslutades efter den")
    # the endings with an avslut per ending group, for the table of what follows an ending
    found = {
        "ALLA": [cell(n_fore, ALLA), cell(n_efter, ALLA)],
        "avbrott": [cell(k_fore, ALLA), cell(k_efter, ALLA)],
    }
    sums = {g: [i for i in parts if i is not None] for g, parts in found.items()}
    if any(len(parts) != 2 for parts in sums.values()):
        return
    whole: dict[str, int] = {}
    for g, parts in sums.items():
        key = CellKey(ENDED_COUNT, dims_of(grupp=g), span)
        whole[g] = d.cell(key, float(sum(d.cells[i].value for i in parts)), origin="utvärdering: avbrott före + efter")
        d.add_sum(whole[g], parts, label="före och efter reformen är alla avslut")
    rest = d.cell(
        CellKey(ENDED_COUNT, dims_of(grupp="annat"), span),
        d.cells[whole["ALLA"]].value - d.cells[whole["avbrott"]].value,
        origin="utvärdering: avbrott före + efter",
    )
    d.add_sum(whole["ALLA"], [whole["avbrott"], rest], label="avbrott och andra avslut är alla avslut")


def register_followed(table: pd.DataFrame, which: str) -> None:
    """While a publication collects: the endings of a ``followup_table`` (``grupp``: avbrott/annat/``ALLA``,
    registered with ``FOLLOWED_COUNTS[which]``) that can be followed up are a part of the group's endings
    (``ENDED_COUNT``); the rest (ended too late) is a count of its own (``register_split``)."""
    pub = active_publication()
    if pub is None or pub.decided:
        return
    d, span = pub.disclosure, pub.table_period
    for g in table["grupp"].astype(str):
        whole = d.index.get(CellKey(ENDED_COUNT, dims_of(grupp=g), span))
        part = d.index.get(CellKey(FOLLOWED_COUNTS[which]["namnare"], dims_of(grupp=g), span))
        if whole is not None and part is not None:
            register_split(d, whole, part, label="avslut som kan följas upp och de som slutade för sent")


def link_whole_study(pub) -> None:
    """While a publication collects: the whole study's counts over the study period that both the measures and the
    utvärdering's tables publish are one count (or a part of it, ``WHOLE_STUDY``)."""
    if pub.decided:
        return
    d, span = pub.disclosure, pub.span
    for whole, part in WHOLE_STUDY:
        w, p = d.index.get(CellKey(whole, (), span)), d.index.get(CellKey(part, (), span))
        if w is not None and p is not None:
            relate_part(d, w, [p], label="samma personer i måtten och i utvärderingen")
