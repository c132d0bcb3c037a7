"""Measures through the publication's disclosure model: counts registered once, hidden together.

``protect_periods`` takes the raw long tables of one or more periods (``compute_measures``'s
unprotected ``raw``), registers every count of people they publish in one
``insats.analysis.disclosure.Disclosure`` — with the relations between areas and the whole study,
between a share's numerator, complement and base, between measures that publish the same count
(``registry.MEASURE_COUNTS``) and between the calendar years of a period and the period — decides
the suppression once, and gives each period's published table.

A row is hidden (``..``) when its numerator or its denominator is a hidden count.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

import numpy as np
import pandas as pd

from insats.analysis.disclosure import CellKey, Disclosure, dims_of
from insats.analysis.measures.registry import MEASURES, PARTITIONS, SUBSETS, counts_of, over_time
from insats.contract import ALLA, CENTRAL

__all__ = ["period_label", "protect_periods", "register_measures"]


def period_label(start: pd.Timestamp, end: pd.Timestamp) -> str:
    """``"2015-01:2016-12"``: the period part of a cell's key."""
    return f"{pd.Timestamp(start):%Y-%m}:{pd.Timestamp(end):%Y-%m}"


def _dims(area: str) -> tuple[tuple[str, str], ...]:
    return dims_of(omrade=None if str(area) == ALLA else area)


def _same_counts(long: pd.DataFrame, a: str, b: str) -> bool:
    """Whether measure ``a`` publishes exactly the counts of measure ``b`` (area by area)."""
    x = long[long["matt"] == a].set_index("omrade_kod")[["taljare", "namnare"]]
    y = long[long["matt"] == b].set_index("omrade_kod")[["taljare", "namnare"]]
    if x.empty or y.empty or set(x.index) != set(y.index):
        return False
    y = y.reindex(x.index)
    return bool(np.allclose(x.to_numpy(float), y.to_numpy(float), equal_nan=True))


def register_measures(
    d: Disclosure,
    long: pd.DataFrame,
    period: str,
    *,
    all_groups: bool = False,
    origin: str = "mått",
    counts: Callable[[str], tuple[str | None, str | None]] | None = None,
) -> list[tuple[int | None, int | None]]:
    """Register the counts of one period's raw long table; returns per row its (numerator,
    denominator) cell (None where the column is not a count of people). ``counts`` names a
    measure's counts (default: the registry, ``counts_of``); a measure with both is a share."""
    registry = counts is None
    if counts is None:
        counts = lambda mid: counts_of(mid, all_groups=all_groups)  # noqa: E731
    justerat_is_utfall = registry and _same_counts(long, "justerat_utfall_oe", "utfall_arbete_studier_andel")
    cells: list[tuple[int | None, int | None]] = []
    lines: dict[str, dict[str, int]] = {}
    shares: set[tuple[int, int]] = set()
    for row in long.itertuples(index=False):
        t_count, n_count = counts(row.matt)
        if not np.isfinite(row.taljare):
            t_count = None
        if not np.isfinite(row.namnare):
            n_count = None
        if justerat_is_utfall and row.matt.startswith("justerat_"):
            t_count, n_count = "deltaganden_arbete_studier", "deltaganden_avslutade"
        area = str(row.omrade_kod)
        if area == CENTRAL or (t_count is None and n_count is None):
            cells.append((None, None))
            continue
        dims = _dims(area)
        k = d.cell(CellKey(t_count, dims, period), row.taljare, origin=f"{origin}: {row.matt}") if t_count else None
        n = d.cell(CellKey(n_count, dims, period), row.namnare, origin=f"{origin}: {row.matt}") if n_count else None
        for count, idx in ((t_count, k), (n_count, n)):
            if count and idx is not None:
                lines.setdefault(count, {})[area] = idx
        m = MEASURES.get(row.matt)
        if k is not None and n is not None and (not registry or (m is not None and m.unit == "andel")):
            shares.add((k, n))
        cells.append((k, n))
    for count, by_area in lines.items():
        if ALLA not in by_area:
            continue
        total = by_area[ALLA]
        parts = [i for a, i in by_area.items() if a != ALLA]
        values = [d.cells[i].value for i in parts]
        if np.isclose(np.nansum(values), d.cells[total].value):
            d.add_sum(total, parts, label=f"områdena summerar till hela studien ({count})")
        else:  # some people have no known area: the areas add up to at most the whole
            d.add_parts_within(total, parts, label=f"områdena ryms i hela studien ({count})")
    for whole, parts_of in PARTITIONS.items():
        for area, w in lines.get(whole, {}).items():
            got = [lines.get(p, {}).get(area) for p in parts_of]
            if any(g is None for g in got):
                continue
            parts = [g for g in got if g is not None]
            if np.isclose(np.nansum([d.cells[i].value for i in parts]), d.cells[w].value):
                d.add_sum(w, parts, label=f"delarna summerar till helheten ({whole})")
            else:
                d.add_parts_within(w, parts, label=f"delarna ryms i helheten ({whole})")
    for k, n in sorted(shares):
        d.add_share(k, n)
    for part, whole in SUBSETS.items():  # the rest of a whole is a count of its own, like a share's complement
        for area, p in sorted(lines.get(part, {}).items()):
            of = lines.get(whole, {}).get(area)
            if of is not None and (p, of) not in shares:
                d.add_share(p, of, label=f"delen och resten är helheten ({part} av {whole})")
    return cells


def _relate_periods(d: Disclosure, span: str, years: list[str]) -> None:
    """The years of a period against the period, count by count (``registry.Count.over_time``)."""
    by: dict[tuple[str, tuple], dict[str, int]] = {}
    for i, cell in enumerate(d.cells):
        if cell.key.count.endswith("|ej"):
            continue
        by.setdefault((cell.key.count, cell.key.dims), {})[cell.key.period] = i
    for (count, _), per in by.items():
        kind = over_time(count)
        if span not in per or kind == "ingen" or not all(y in per for y in years):
            continue
        parts = [per[y] for y in years]
        if kind == "additiv":
            d.add_sum(per[span], parts, label=f"åren summerar till perioden ({count})")
        else:
            d.add_sum(per[span], parts, exact=False, label=f"åren täcker perioden ({count})")


def apply(d: Disclosure, long: pd.DataFrame, cells: list[tuple[int | None, int | None]]) -> pd.DataFrame:
    """The published table: rows whose numerator or denominator is hidden become ``..``."""
    assert d.suppressed is not None
    hidden = np.array(
        [bool((k is not None and d.suppressed[k]) or (n is not None and d.suppressed[n])) for k, n in cells],
        dtype=bool,
    )
    out = long.copy()
    for col in ("varde", "taljare", "namnare"):
        out[col] = pd.to_numeric(out[col], errors="coerce").astype(float).mask(hidden)
    out["undertryckt"] = hidden
    return out


def protect_periods(
    raws: Mapping[str, pd.DataFrame],
    *,
    min_cell: int = 5,
    protection: float | None = None,
    span: str | None = None,
    all_groups: bool = False,
    disclosure: Disclosure | None = None,
) -> tuple[dict[str, pd.DataFrame], Disclosure]:
    """Protect the raw long tables of several periods together; ``span`` names the period whose
    calendar years are the other periods (their counts are related to the span's). Pass a
    ``disclosure`` to add further tables' counts before deciding (then call ``protect`` yourself
    and ``apply`` each period)."""
    d = disclosure if disclosure is not None else Disclosure(min_cell=min_cell, protection=protection)
    cells = {p: register_measures(d, long, p, all_groups=all_groups) for p, long in raws.items()}
    if span is not None:
        _relate_periods(d, span, [p for p in raws if p != span])
    if disclosure is not None:
        return {}, d
    d.protect()
    return {p: apply(d, raws[p], cells[p]) for p in raws}, d
