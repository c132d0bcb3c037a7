"""Disclosure control ("röjandekontroll") for everything published: reports, dashboards, exports.

Every published table goes through this module (``docs/design.md``, Privacy). ``min_cell`` (default 5)
is the smallest count shown; ``min_cell=1`` turns control off.

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
4. **Secondary suppression.** When a total — a row or column sum of a cross-table, or the
   whole-study ``ALLA`` row of a measure — would let a suppressed cell be recomputed by
   subtraction, a second cell in that line is suppressed too: the smallest remaining one (a
   non-zero one when there is one). This repeats until no line has exactly one suppressed cell
   that carries risk (a suppressed 0 carries none). Totals are assumed known whether or not they
   are shown. This is the usual line-by-line rule, not a full linear-programming audit.

Suppressed cells are shown as ``SUPPRESSED`` (``..``) with the footnote ``footnote(min_cell)``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from insats.contract import ALLA
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


def _small(values, min_cell: int) -> np.ndarray:
    """True where a count is 1 … min_cell − 1 (NaN and 0 are never small)."""
    v = np.asarray(values, dtype=float)
    with np.errstate(invalid="ignore"):
        return (v >= 1) & (v < min_cell)


# --------------------------------------------------------------------------- secondary suppression
def _needs_partner(vals: np.ndarray, sup: np.ndarray) -> bool:
    """A line leaks when exactly one of its cells is suppressed and that cell is not a 0."""
    idx = np.flatnonzero(sup)
    return idx.size == 1 and vals[idx[0]] != 0


def _pick_partner(vals: np.ndarray, sup: np.ndarray, bonus: np.ndarray) -> int | None:
    """Index of the cell to suppress next in a line: the smallest visible non-zero cell, else the
    smallest visible zero; ties go to cells whose crossing line already needs a partner (``bonus``),
    then to the first position."""
    visible = ~sup & ~np.isnan(vals)
    if not visible.any():
        return None
    cand = np.flatnonzero(visible)
    nonzero = cand[vals[cand] != 0]
    if nonzero.size:
        cand = nonzero
    order = sorted(cand, key=lambda i: (vals[i], not bonus[i], i))
    return int(order[0])


def _secondary(vals: np.ndarray, sup: np.ndarray) -> np.ndarray:
    """Extend a 2-D suppression mask until no row or column leaks a suppressed cell."""
    sup = sup.copy()
    nrow, ncol = vals.shape
    for _ in range(vals.size + 1):
        changed = False
        for i in range(nrow):
            if _needs_partner(vals[i], sup[i]):
                bonus = np.array([_needs_partner(vals[:, j], sup[:, j]) for j in range(ncol)])
                j = _pick_partner(vals[i], sup[i], bonus)
                if j is not None:
                    sup[i, j] = True
                    changed = True
        for j in range(ncol):
            if _needs_partner(vals[:, j], sup[:, j]):
                bonus = np.array([_needs_partner(vals[i], sup[i]) for i in range(nrow)])
                row = _pick_partner(vals[:, j], sup[:, j], bonus)
                if row is not None:
                    sup[row, j] = True
                    changed = True
        if not changed:
            break
    return sup


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
    """Disclosure control of a cross-table of counts (e.g. district × category of participants).

    Primary suppression of counts 1 … ``min_cell − 1`` (zeros stay visible), then secondary
    suppression within every row and column, since their totals — the row and column sums — are
    taken to be known whether or not they are shown: afterwards every row and column that holds a
    suppressed non-zero cell holds at least two suppressed cells.

    With ``margins=True`` a total column and a total row (``TOTAL``, "Totalt") are appended,
    computed from the unsuppressed counts, and protected too: a small total is suppressed, and
    in the table with its totals every row and column (cells plus their total, including the totals
    row with the grand total) also holds either no risky suppressed cell or at least two
    suppressed cells. With ``margins=False`` only the table itself is returned.

    Returns ``(values, mask)``: the counts with suppressed cells as missing (``pd.NA``), and a
    boolean DataFrame, True where suppressed. ``min_cell=1`` suppresses nothing.
    """
    vals = table.to_numpy(dtype=float)
    sup = _small(vals, min_cell)
    if not margins:
        if min_cell > 1 and vals.size:
            sup = _secondary(vals, sup)
        mask = pd.DataFrame(sup, index=table.index, columns=table.columns)
        return _as_counts(table).mask(mask), mask

    # the table with its totals: every row and column of it is an additive line
    nrow, ncol = vals.shape
    ext = np.full((nrow + 1, ncol + 1), np.nan)
    ext[:nrow, :ncol] = vals
    ext[:nrow, ncol] = np.nansum(vals, axis=1) if ncol else 0.0
    ext[nrow, :ncol] = np.nansum(vals, axis=0) if nrow else 0.0
    ext[nrow, ncol] = np.nansum(vals)
    ext_sup = _small(ext, min_cell)
    if min_cell > 1 and vals.size:
        # alternate until stable: inside the table (totals known) and with the totals as cells
        for _ in range(ext.size + 1):
            before = ext_sup.copy()
            ext_sup[:nrow, :ncol] = _secondary(vals, ext_sup[:nrow, :ncol])
            ext_sup = _secondary(ext, ext_sup)
            if (before == ext_sup).all():
                break
    values = table.copy()
    if isinstance(values.columns, pd.CategoricalIndex):
        values.columns = values.columns.astype(object)
    if isinstance(values.index, pd.CategoricalIndex):
        values.index = values.index.astype(object)
    values[TOTAL] = ext[:nrow, ncol]
    values.loc[TOTAL] = ext[nrow, :]
    mask = pd.DataFrame(ext_sup, index=values.index, columns=values.columns)
    return _as_counts(values).mask(mask), mask


# --------------------------------------------------------------------------- long measures
def protect_measures(
    long: pd.DataFrame,
    min_cell: int = 5,
    *,
    by: Sequence[str] = ("matt",),
    exempt: Sequence[str] = (),
) -> pd.DataFrame:
    """Disclosure control of measures in the long format (``docs/design.md``, Measures).

    Columns used: ``matt, omrade_kod, varde, taljare, namnare, undertryckt`` (``omrade_kod ==
    "ALLA"`` is the whole study); other columns are kept. ``taljare`` and ``namnare`` are counts
    of people (or of their participations, assessments …): for a share they are numerator and
    base; for a median or mean ``namnare`` is the number of observations; for a **count measure**
    ``namnare`` is NaN and ``taljare`` is the count itself. A measure that is not about people
    (places, SEK, number of interventions) should leave ``taljare``/``namnare`` empty or be listed
    in ``exempt`` (ids of ``matt``), and is then never suppressed.

    A row is suppressed (``undertryckt`` True, ``varde``/``taljare``/``namnare`` set to NaN) when
    its ``taljare`` or its ``namnare`` is 1 … ``min_cell − 1`` (a ``namnare`` of 0 leaves ``varde``
    empty but is no disclosure), or when ``undertryckt`` was already True. Then, per group of
    ``by`` (default: per measure), when the areas' ``taljare`` or ``namnare`` add up to the
    ``ALLA`` row, a lone suppressed area (or a lone suppressed ``ALLA``) could be recomputed by
    subtraction, so the visible area with the next smallest ``taljare`` (then ``namnare``) is
    suppressed too, non-zero ones first. ``min_cell=1`` suppresses nothing new.
    """
    out = long.copy()
    taljare = pd.to_numeric(out["taljare"], errors="coerce").astype(float)
    namnare = pd.to_numeric(out["namnare"], errors="coerce").astype(float)
    already = (
        out["undertryckt"].fillna(False).astype(bool).to_numpy() if "undertryckt" in out else np.zeros(len(out), bool)
    )
    exempt_rows = out["matt"].isin(list(exempt)).to_numpy()
    sup = already | (~exempt_rows & (_small(taljare, min_cell) | _small(namnare, min_cell)))

    if min_cell > 1 and len(out):
        pos = pd.RangeIndex(len(out))
        keys = [out[c].to_numpy() for c in by]
        is_alla = out["omrade_kod"].astype(str).to_numpy() == ALLA
        tal_arr, nam_arr = taljare.to_numpy(), namnare.to_numpy()
        groups = pd.Series(pos).groupby(keys, sort=False, dropna=False).indices if keys else {None: pos}
        for idx in groups.values():
            idx = np.asarray(idx)
            if exempt_rows[idx].all():
                continue
            _secondary_measure(is_alla[idx], idx, tal_arr, nam_arr, sup)

    for col in ("varde", "taljare", "namnare"):
        if col in out:
            out[col] = pd.to_numeric(out[col], errors="coerce").astype(float).mask(sup)
    out["undertryckt"] = sup
    return out


def _secondary_measure(is_alla: np.ndarray, idx: np.ndarray, tal: np.ndarray, nam: np.ndarray, sup: np.ndarray) -> None:
    """Secondary suppression of one measure (rows ``idx``): the areas plus the ALLA row form one line."""
    if is_alla.sum() != 1 or (~is_alla).sum() < 1:
        return
    alla = idx[is_alla][0]
    areas = idx[~is_alla]

    def adds_up(col: np.ndarray) -> bool:
        part = col[areas]
        # an empty (NaN) area counts as 0: erring towards suppressing more, never less
        return bool(np.isfinite(col[alla]) and np.isclose(np.nansum(part), col[alla]))

    if not (adds_up(tal) or adds_up(nam)):
        return
    t = np.nan_to_num(tal, nan=0.0)
    m = np.nan_to_num(nam, nan=0.0)
    line = np.concatenate([areas, [alla]])
    for _ in range(len(line)):
        hidden = line[sup[line]]
        # a lone suppressed row leaks unless it is all zeros (a 0 is no disclosure)
        if hidden.size != 1 or (t[hidden[0]] == 0 and m[hidden[0]] == 0):
            return
        cand = areas[~sup[areas]]
        if cand.size == 0:
            return
        nonzero = cand[(t[cand] != 0) | (m[cand] != 0)]
        pool = nonzero if nonzero.size else cand
        rank = lambda k: (np.nan_to_num(tal[k], nan=np.inf), np.nan_to_num(nam[k], nan=np.inf), k)  # noqa: E731  (a one-line local helper)
        sup[min(pool, key=rank)] = True


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
