"""Disclosure control ("röjandekontroll") for everything published: reports, dashboards, exports.

The rules of what is hidden, the ``..`` marker and its footnote, and Swedish formatting of published
tables. ``min_cell`` (default 5) is the smallest count shown; ``min_cell=1`` turns control off.

Rules
-----
1. **Small counts.** A count of 1 … ``min_cell − 1`` is suppressed. A count of **0 is shown**: in
   this convention "nobody" is not a disclosure about a person, and suppressing zeros would hide
   most of a sparse table for no gain.
2. **Small bases.** A share (or mean, median …) whose denominator (``namnare``) is
   1 … ``min_cell − 1`` is suppressed. A denominator of 0 gives no value at all, which is not a
   disclosure, so it is not marked as suppressed.
3. **Small numerators.** A share whose numerator (``taljare``) is 1 … ``min_cell − 1`` is also
   suppressed, even when its base is large: the numerator could be recovered as share × base
   (both are published), so showing "3 %" of 100 would show the count 3.
4. **Secondary suppression** is decided for the whole publication by ``insats.analysis.disclosure``
   (the line rule, then linear-programming checks against a protection level); ``protect_counts``
   applies it to one cross-table on its own. See ``docs/antaganden.md``, R1–R8.

Suppressed cells are shown as ``SUPPRESSED`` (``..``) with the footnote ``footnote(min_cell)``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from insats.analysis.disclosure import CellKey, Disclosure, dims_of
from insats.analysis.measures.publish import apply, register_measures
from insats.text import format_number

__all__ = [
    "FOOTNOTE",
    "SUPPRESSED",
    "TOTAL",
    "footnote",
    "format_table",
    "protect_counts",
    "protect_measures",
]

SUPPRESSED = ".."
"""How a suppressed cell is shown."""

TOTAL = "Totalt"
"""Label of the total row and column that ``protect_counts(..., margins=True)`` adds."""


def footnote(min_cell: int = 5) -> str:
    """The footnote that explains ``..`` for a given ``min_cell``."""
    return f"{SUPPRESSED} = uppgiften visas inte för att skydda enskildas integritet (färre än {min_cell} personer)"


FOOTNOTE = footnote(5)
"""The footnote for the default ``min_cell`` of 5."""


def _as_counts(frame: pd.DataFrame) -> pd.DataFrame:
    """Counts as Int64 when they are whole numbers (NA for missing), else float."""
    try:
        return frame.astype("Int64")
    except (TypeError, ValueError):
        return frame.astype(float)


# --------------------------------------------------------------------------- cross-tables
def protect_counts(
    table: pd.DataFrame, min_cell: int = 5, *, margins: bool = True
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Disclosure control of a cross-table of counts on its own (e.g. district × category of
    participants), by the publication model (``insats.analysis.disclosure``): every cell is a count,
    every row and column adds up to its total (taken to be known whether or not it is shown).

    With ``margins=True`` a total column and a total row (``TOTAL``, "Totalt") are appended and
    protected like any other cell. Returns ``(values, mask)``: the counts with hidden cells as
    missing (``pd.NA``) and a boolean DataFrame, True where hidden. ``min_cell=1`` hides nothing.
    A table published beside other tables of the same study belongs in the study's publication
    (``insats.reports.publication``) instead.
    """
    vals = table.to_numpy(dtype=float)
    nrow, ncol = vals.shape
    d = Disclosure(min_cell=min_cell)
    cell = [[d.cell(CellKey("x", dims_of(r=i, c=j)), vals[i, j]) for j in range(ncol)] for i in range(nrow)]
    row_tot = [d.cell(CellKey("x", dims_of(r=i)), np.nansum(vals[i])) for i in range(nrow)]
    col_tot = [d.cell(CellKey("x", dims_of(c=j)), np.nansum(vals[:, j])) for j in range(ncol)]
    grand = d.cell(CellKey("x"), np.nansum(vals))
    for i in range(nrow):
        d.add_sum(row_tot[i], cell[i], label="raden summerar till radsumman")
    for j in range(ncol):
        d.add_sum(col_tot[j], [cell[i][j] for i in range(nrow)], label="kolumnen summerar till kolumnsumman")
    d.add_sum(grand, row_tot, label="radsummorna summerar till totalen")
    d.add_sum(grand, col_tot, label="kolumnsummorna summerar till totalen")
    if not margins:  # the totals are known, not shown: never hidden, never a small count of their own
        d.known.update([*row_tot, *col_tot, grand])
    hidden = d.protect()
    inner = np.array([[hidden[cell[i][j]] for j in range(ncol)] for i in range(nrow)], dtype=bool)
    if not margins:
        mask = pd.DataFrame(inner, index=table.index, columns=table.columns)
        return _as_counts(table).mask(mask), mask
    values = table.copy()
    if isinstance(values.columns, pd.CategoricalIndex):
        values.columns = values.columns.astype(object)
    if isinstance(values.index, pd.CategoricalIndex):
        values.index = values.index.astype(object)
    values[TOTAL] = [d.cells[i].value for i in row_tot]
    values.loc[TOTAL] = [*(d.cells[j].value for j in col_tot), d.cells[grand].value]
    ext = np.zeros((nrow + 1, ncol + 1), dtype=bool)
    ext[:nrow, :ncol] = inner
    ext[:nrow, ncol] = [hidden[i] for i in row_tot]
    ext[nrow, :ncol] = [hidden[j] for j in col_tot]
    ext[nrow, ncol] = hidden[grand]
    mask = pd.DataFrame(ext, index=values.index, columns=values.columns)
    return _as_counts(values).mask(mask), mask


# --------------------------------------------------------------------------- long measures
def protect_measures(long: pd.DataFrame, min_cell: int = 5, *, exempt: Sequence[str] = ()) -> pd.DataFrame:
    """Disclosure control of a long table (``matt, omrade_kod, varde, taljare, namnare``) on its
    own, by the publication model: ``taljare``/``namnare`` of every measure not in ``exempt`` are
    counts of people (a measure with both is a share, and its complement is protected too), the
    areas add up to (or fit within) the ``ALLA`` row. A row is hidden when its numerator or base
    is. Rows already marked ``undertryckt`` stay hidden. The measures of a study go through
    ``insats.analysis.publication`` instead, with the registry's names for their counts."""
    out = long.copy().reset_index(drop=True)
    for col in ("varde", "taljare", "namnare"):
        out[col] = pd.to_numeric(out[col], errors="coerce").astype(float)
    d = Disclosure(min_cell=min_cell)
    skip = set(exempt)
    cells = register_measures(
        d, out, "", counts=lambda mid: (None, None) if mid in skip else (f"{mid}.taljare", f"{mid}.namnare")
    )
    if "undertryckt" in out:
        for (k, n), was in zip(cells, out["undertryckt"].fillna(False).astype(bool)):
            if was:
                d.forced.update(i for i in (k, n) if i is not None)
    d.protect()
    published = apply(d, out, cells)
    if "undertryckt" in out:
        published["undertryckt"] = published["undertryckt"] | out["undertryckt"].fillna(False).astype(bool)
        for col in ("varde", "taljare", "namnare"):
            published[col] = published[col].mask(published["undertryckt"])
    return published


# --------------------------------------------------------------------------- formatting
def format_table(
    values: pd.DataFrame,
    mask: pd.DataFrame | None = None,
    *,
    decimals: int | Mapping[str, int] = 0,
    percent: bool | Mapping[str, bool] = False,
    missing: str = "",
) -> pd.DataFrame:
    """A table of display strings: ``format_number`` per cell, ``..`` where ``mask`` is True.

    ``decimals`` and ``percent`` are one setting for all columns or a mapping column → setting
    (columns not in the mapping get 0 decimals / no per cent).
    """
    if mask is None:
        mask = pd.DataFrame(False, index=values.index, columns=values.columns)
    mask = mask.reindex(index=values.index, columns=values.columns, fill_value=False).fillna(False).astype(bool)
    out = pd.DataFrame(index=values.index, columns=values.columns, dtype=object)
    for col in values.columns:
        d = decimals.get(col, 0) if isinstance(decimals, Mapping) else decimals
        p = percent.get(col, False) if isinstance(percent, Mapping) else percent
        texts = [format_number(v, d, p, missing=missing) for v in values[col].tolist()]
        out[col] = np.where(mask[col].to_numpy(), SUPPRESSED, np.array(texts, dtype=object))
    return out
