"""What the five areas share: the context, disclosure control of share tables, formatting."""

from __future__ import annotations

import sys
from collections.abc import Sequence

import numpy as np
import pandas as pd

from insats.analysis.disclosure import CellKey, Disclosure, dims_of
from insats.analysis.measures import (
    Context,
    Params,
)
from insats.analysis.privacy import SUPPRESSED
from insats.analysis.publication import Publication, active_publication
from insats.analysis.stats import wilson_interval
from insats.contract import ALLA
from insats.data.study import Study
from insats.errors import DataError, UsageError
from insats.reports.common import area_names, missing_note
from insats.text import format_number

DAYS_PER_MONTH = 365.25 / 12
"""Days in an average month: durations in days are turned into months by dividing by this."""

OMFATTNING = ("arbetsloshet", "alla")

AGE_GROUPS = {"18_24": "18–24 år", "25_plus": "25 år och äldre"}


# --------------------------------------------------------------------------- setup


def make_context(
    study: Study, start: str, end: str, *, min_cell: int = 5, omfattning: str = "arbetsloshet", **options
) -> Context:
    """A measures ``Context`` for the evaluation period ``fran``–``till`` (``"YYYY-MM"``).

    ``omfattning`` is the scope of "every recipient": ``"arbetsloshet"`` (adult recipients in
    hinder group arbetslöshet, the measure erbjudande_andel's default) or ``"alla"`` (every adult
    recipient). ``options`` set further ``Params`` fields.
    """
    if omfattning not in OMFATTNING:
        raise UsageError(f"Okänd omfattning {omfattning!r}: välj 'arbetsloshet' eller 'alla'.")
    start = pd.Timestamp(start).to_period("M").to_timestamp()
    end = pd.Timestamp(end).to_period("M").to_timestamp()
    if end < start:
        raise UsageError(f"Perioden slutar ({end}) före sin början ({start}).")
    params = Params(start=start, end=end, min_cell=min_cell, erbjudande_alla_grupper=omfattning == "alla", **options)
    return Context(study, params)


def _n_months(ctx: Context) -> int:
    p = ctx.params
    return (p.end.year - p.start.year) * 12 + p.end.month - p.start.month + 1


def _participations(ctx: Context) -> pd.DataFrame:
    """``ctx.participations`` with ``insats_id`` and the intervention's ``namn`` and cost."""
    p = ctx.participations.copy()
    d = ctx.study["deltaganden"]
    p["insats_id"] = d["insats_id"].astype(object).to_numpy()
    if "insatser" in ctx.study:
        ins = ctx.study["insatser"].set_index(ctx.study["insatser"]["insats_id"].astype(object))
        p["namn"] = p["insats_id"].map(ins["namn"].astype(object))
        p["kostnad"] = p["insats_id"].map(ins["kostnad_per_plats_manad"].astype("float64"))
    return p


def data_end(ctx: Context) -> pd.Timestamp:
    """The last day the data describe: the later of the period's last day and the end of the last ``bistand``
    month (what happens after a participation can be followed up to here)."""
    last = ctx.params.last_day
    if "bistand" in ctx.study and len(ctx.study["bistand"]):
        return max(last, ctx.month0 + pd.DateOffset(months=ctx.n_months - 1) + pd.offsets.MonthEnd(0))
    return last


def requirement_of(ctx: Context, insats_ids) -> list[bool | None]:
    """The intervention's ``narvarokrav`` in ``insatser`` per id (None when unknown)."""
    if "insatser" not in ctx.study or "narvarokrav" not in ctx.study["insatser"]:
        return [None] * len(insats_ids)
    ins = ctx.study["insatser"]
    req = dict(zip(ins["insats_id"].astype(str), ins["narvarokrav"].astype("boolean")))
    values = [req.get(str(i), pd.NA) for i in insats_ids]
    return [None if pd.isna(v) else bool(v) for v in values]


def intervention_labels(insatser: pd.DataFrame) -> dict[str, str]:
    """insats_id -> a unique Swedish display name: ``namn``, with ``– utförare`` when several
    interventions share a name, and the id when that is still not unique."""
    ins = insatser.copy()
    names = ins["namn"].astype(object).fillna(ins["insats_id"].astype(object)).astype(str)
    dup = names.duplicated(keep=False)
    utf = ins["utforare"].astype(object).fillna("").astype(str)
    names = np.where(dup & (utf != ""), names + " – " + utf, names)
    names = pd.Series(names, index=ins.index)
    dup = names.duplicated(keep=False)
    names = np.where(dup, names + " (" + ins["insats_id"].astype(str) + ")", names)
    return dict(zip(ins["insats_id"].astype(str), names))


# --------------------------------------------------------------------------- privacy helpers


def collecting() -> bool:
    """Whether a publication is collecting the report tables' counts (``protect_shares`` then
    registers instead of deciding). The sections' output is thrown away then, so their charts are
    not drawn: a chart only shows what a table of the section has registered."""
    pub = active_publication()
    return pub is not None and not pub.decided


def protect_shares(
    table: pd.DataFrame,
    min_cell: int = 5,
    *,
    key: str,
    num: str = "taljare",
    den: str | None = "namnare",
    values: tuple[str, ...] = (),
    total: str | None = ALLA,
    count: str | None = None,
    counts: dict[str, str] | None = None,
    model: Disclosure | None = None,
    link: bool = False,
) -> pd.DataFrame:
    """Disclosure control of a table of shares (one row per group, optionally a total row).

    ``num``/``den`` are counts of persons or participations. The table's counts are cells of the
    publication's disclosure model (``insats.analysis.disclosure``): one per row and column, the
    groups related to the ``total`` row (the row whose ``key`` equals ``total``), each share to its
    complement. A table keyed by area whose counts equal, area by area, counts the measures publish
    *is* those counts, and is decided with them.

    * With a publication active that is still collecting (``insats.reports.publication``), the
      table is registered and returned as it is (the run that collects is never shown).
    * With a decided publication active, the table gets the publication's decisions.
    * With none, the table is protected on its own (unit tests, a section run by hand).

    ``count`` names the table's counts (default: the calling function, the key and the column).
    ``counts`` names the counts of some columns outright (column -> count name): a row's cell is then
    ``CellKey(name, {key: value})`` and the total row's ``CellKey(name, ())``, so that tables showing the same
    persons share their cells (e.g. every adult recipient by hinder group in the offer table and in the
    composition of the participants) and a count hidden in one cannot be read from another.
    ``model``: a decided disclosure model the table's cells are already registered in, used when no
    publication is active (``register_hierarchy``: tables of one hierarchy, e.g. outcomes per intervention,
    provider and regi, then get one decision without a publication too). ``link``: relate each row's
    counts to equal counts of another table over the same groups (``_link_equal``).
    Hidden rows get NaN in ``num``, ``den`` and every column of ``values``, and ``undertryckt`` True.
    """
    out = table.copy().reset_index(drop=True)
    pub = active_publication()
    if pub is None and model is not None:
        d = model
        cells = _table_cells(d, out, key, num, den, total, count or _caller(), "", counts)
    elif pub is None:
        d = Disclosure(min_cell=min_cell)
        cells = _register_table(d, out, key, num, den, total, count or _caller(), "", counts)
        d.protect()
    elif not pub.decided:
        pub.register(_register_named, out.copy(), key, num, den, total, count or _caller(), counts, link)
        out["undertryckt"] = out.get("undertryckt", pd.Series(False, index=out.index)).fillna(False).astype(bool)
        return out
    else:
        d = pub.disclosure
        name = _table_name(pub, count or _caller(), key, num)
        cells = _table_cells(d, out, key, num, den, total, name, pub.table_period, counts)
    suppressed = d.suppressed
    assert suppressed is not None  # decided above
    hidden: np.ndarray = np.array([any(i is not None and suppressed[i] for i in pair) for pair in cells], dtype=bool)
    if "undertryckt" in out:  # rows hidden before (e.g. by another table) stay hidden
        hidden |= out["undertryckt"].fillna(False).astype(bool).to_numpy()
    for c in [c for c in (num, den, *values) if c and c in out]:
        out[c] = pd.to_numeric(out[c], errors="coerce").astype(float).mask(hidden)
    out["undertryckt"] = hidden
    return out


def _table_name(pub: Publication, base: str, key: str, num: str) -> str:
    """A table's name in the publication: ``base``, numbered from its second table within an
    activation (``Publication.table_state``), so registering and rendering name tables alike."""
    state = pub.table_state
    seen = state.setdefault(("n", base, key, num), 0)
    state[("n", base, key, num)] = seen + 1
    return f"{base}#{seen}" if seen else base


def _register_named(pub: Publication, out, key, num, den, total, base, counts, link) -> None:
    """``protect_shares``'s registration in a collecting publication (``Publication.register``)."""
    name = _table_name(pub, base, key, num)
    _register_table(pub.disclosure, out, key, num, den, total, name, pub.table_period, counts, link=link)


def _caller() -> str:
    """The section function that publishes a table (two levels up: past ``protect_shares``)."""
    return sys._getframe(2).f_code.co_name


def _keys(out: pd.DataFrame, key: str, total: str | None, name: str, col: str, period: str) -> list[CellKey]:
    is_total = out[key].astype(str) == str(total) if total is not None else pd.Series(False, index=out.index)
    return [
        CellKey(f"{name}:{key}.{col}", () if t else dims_of(**{key: v}), period)
        for v, t in zip(out[key].astype(str), is_total)
    ]


def _alias(d: Disclosure, out: pd.DataFrame, key: str, total: str | None, col: str, period: str) -> str | None:
    """A count the measures publish that this column of an area table equals, area by area."""
    if key != "omrade_kod" or not period:
        return None
    values = pd.to_numeric(out[col], errors="coerce").astype(float).to_numpy()
    areas = out[key].astype(str).to_numpy()
    if len(areas) < 3 or not np.nansum(values) > 0:
        return None
    by_count: dict[str, dict[str, float]] = {}
    for cell in d.cells:
        if cell.key.period == period and (not cell.key.dims or cell.key.dims[0][0] == "omrade"):
            area = ALLA if not cell.key.dims else cell.key.dims[0][1]
            by_count.setdefault(cell.key.count, {})[area] = cell.value
    for name, got in by_count.items():
        if all(a in got and np.isclose(got[a], v, equal_nan=True) for a, v in zip(areas, values)):
            return name
    return None


def _table_keys(d, out, key, num, den, total, name, period, counts=None) -> list[tuple[CellKey | None, CellKey | None]]:
    cols = [num, den]
    keys: list[list[CellKey | None]] = []
    for col in cols:
        if not col or col not in out:
            keys.append([None] * len(out))
            continue
        if counts and col in counts:
            keys.append(
                [
                    CellKey(counts[col], () if total is not None and v == str(total) else dims_of(**{key: v}), period)
                    for v in out[key].astype(str)
                ]
            )
            continue
        alias = _alias(d, out, key, total, col, period)
        if alias is not None:
            keys.append(
                [CellKey(alias, () if str(v) == ALLA else dims_of(omrade=v), period) for v in out[key].astype(str)]
            )
        else:
            keys.append(list(_keys(out, key, total, name, col, period)))
    return [(k, n) for k, n in zip(*keys)]


def _register_table(
    d, out, key, num, den, total, name, period, counts=None, *, link: bool = False
) -> list[tuple[int | None, int | None]]:
    """Register a table's counts and relations; returns each row's (numerator, base) cells."""
    cells: list[tuple[int | None, int | None]] = []
    origin = f"utvärdering: {name}"
    for (k_key, n_key), row in zip(
        _table_keys(d, out, key, num, den, total, name, period, counts), out.itertuples(index=False)
    ):
        k = d.cell(k_key, getattr(row, num), origin=origin) if k_key is not None else None
        n = d.cell(n_key, getattr(row, den), origin=origin) if n_key is not None else None
        cells.append((k, n))
    if "undertryckt" in out:
        for (k, n), was in zip(cells, out["undertryckt"].fillna(False).astype(bool)):
            if was:
                d.forced.update(i for i in (k, n) if i is not None)
    is_total = (out[key].astype(str) == str(total)).to_numpy() if total is not None else np.zeros(len(out), bool)
    for j in (0, 1):
        col = [c[j] for c in cells]
        if not col or col[0] is None or not is_total.any():
            continue
        whole = col[int(np.flatnonzero(is_total)[0])]
        parts = [c for c, t in zip(col, is_total) if not t and c is not None]
        s = np.nansum([d.cells[i].value for i in parts])
        w = d.cells[whole].value
        if np.isclose(s, w):
            d.add_sum(whole, parts, label=f"grupperna summerar till totalen ({name})")
        elif s < w:
            d.add_parts_within(whole, parts, label=f"grupperna ryms i totalen ({name})")
        else:  # groups that overlap (a person in two groups)
            d.add_sum(whole, parts, exact=False, label=f"grupperna täcker totalen ({name})")
    for k, n in cells:
        if k is not None and n is not None:
            d.add_share(k, n)
    if link:
        for j in (0, 1):
            _link_equal(d, [c[j] for c in cells], out[key].astype(str).tolist(), key, period)
    return cells


def _link_equal(d: Disclosure, cells: list[int | None], groups: list[str], key: str, period: str) -> None:
    """Relate a table's counts to another table's that are equal group by group (``x = y`` per row).

    Two tables can show counts that are defined apart but are the same numbers in the data (participations
    started in the period and participations going on in it, when the data begin with the period). Whoever
    knows that reads one table's hidden cell from the other's, so equal counts over the same groups (in the
    same period, at least two groups, not all zero) are related: a count hidden in one is hidden in the other,
    and the other table's total protects both. A relation between counts that only happen to be equal costs
    some extra suppression, never a disclosure."""
    rows = [(g, c) for g, c in zip(groups, cells) if c is not None and g != ALLA]
    if len(rows) < 2:
        return
    own = {c for _, c in rows}
    values = {g: d.cells[c].value for g, c in rows}
    if not np.nansum(list(values.values())) > 0:
        return
    found: dict[str, dict[str, int]] = {}
    for i, cell in enumerate(d.cells):
        dims = cell.key.dims
        if i in own or cell.key.period != period or len(dims) != 1 or dims[0][0] != key or dims[0][1] not in values:
            continue
        if cell.derived or not np.isclose(cell.value, values[dims[0][1]]):
            continue
        found.setdefault(cell.key.count, {})[dims[0][1]] = i
    for other in found.values():
        if len(other) == len(values):
            for g, c in rows:
                d.add_sum(other[g], [c], label="samma antal i två tabeller")


def register_hierarchy(
    d: Disclosure,
    atoms: pd.DataFrame,
    *,
    atom: str,
    levels: tuple[str, ...],
    counts: dict[str, str],
    shares: tuple[tuple[str, str], ...] = (),
    period: str = "",
    published: bool = False,
    origin: str = "",
) -> None:
    """Register counts over a hierarchy of groups, with the relations everybody knows.

    ``atoms`` has one row per smallest group (``atom``, e.g. ``insats_id``), the groups it belongs to
    (``levels``, e.g. ``utforare`` and ``regi``) and its counts (the columns of ``counts``: column -> count
    name). Each count gets one cell per atom (``CellKey(name, {atom: id})``), per group of every level
    (``{level: group}``) and for the whole (no dims), related as ``group = Σ its atoms`` and ``whole = Σ
    atoms`` — so that a table per atom, per group of a level and their total rows, wherever they are
    published, are the same cells and protected together: no hidden row follows from a parent row minus
    its shown children in another table. ``shares``: (numerator column, base column) pairs, registered with
    their complement (``Disclosure.add_share``) at every node. ``published``: False while collecting (a
    table that shows the counts publishes them, ``protect_shares`` with the same ``counts`` names); True
    for a model made for a section on its own, where every level counts as shown."""
    ids = atoms[atom].astype(str).tolist()
    if len(set(ids)) != len(ids):
        raise ValueError(f"hierarkin har flera rader för samma {atom}")
    nodes: list[tuple[tuple[tuple[str, str], ...], list[int]]] = [((), list(range(len(atoms))))]
    nodes += [(dims_of(**{atom: i}), [r]) for r, i in enumerate(ids)]
    for level in levels:
        groups = atoms[level].astype(object).fillna("(okänd)").astype(str).to_numpy()
        for g in sorted(set(groups)):
            nodes.append((dims_of(**{level: g}), [int(r) for r in np.flatnonzero(groups == g)]))
    for col, name in counts.items():
        values = atoms[col].astype(float).to_numpy()
        atom_cells = [
            d.cell(CellKey(name, dims, period), values[rows[0]], published=published, origin=origin)
            for dims, rows in nodes[1 : len(ids) + 1]
        ]
        for dims, rows in [nodes[0], *nodes[len(ids) + 1 :]]:
            parent = d.cell(CellKey(name, dims, period), float(values[rows].sum()), published=published, origin=origin)
            what = "alla" if not dims else f"{dims[0][0]} {dims[0][1]}"
            d.add_sum(parent, [atom_cells[r] for r in rows], label=f"delarna ({atom}) summerar till {what} ({name})")
    for num, den in shares:
        for dims, _rows in nodes:
            d.add_share(d.index[CellKey(counts[num], dims, period)], d.index[CellKey(counts[den], dims, period)])


def relate_part(d: Disclosure, whole: int | None, parts: Sequence[int | None], *, label: str) -> None:
    """``Σ parts ≤ whole`` (counts of some of the whole's people: ended participations with an ``avslut`` of all
    ended ones, the months of a year), and an equality where the values add up: whoever sees both would take it
    (a relation that only happens to hold costs some extra suppression, never a disclosure)."""
    found = [p for p in parts if p is not None]
    if whole is None or not found:
        return
    if np.isclose(np.nansum([d.cells[p].value for p in found]), d.cells[whole].value):
        d.add_sum(whole, found, label=label)
    else:
        d.add_parts_within(whole, found, label=label)


def register_split(d: Disclosure, whole: int, part: int, *, label: str) -> int:
    """``whole = part + rest``, where ``part`` is a count of a part of ``whole`` (e.g. the months since LOV
    started, of the whole period): whenever both are shown, the rest (the months before) is shown too, by
    subtraction. The rest is registered as a count derived from them, like a share's complement
    (``Disclosure.add_share``): hidden when either is, and when it is small one of them is hidden. Returns the
    rest's cell."""
    w, p = d.cells[whole], d.cells[part]
    key = CellKey(f"{w.key.count}|{p.key.count}|ej", w.key.dims, w.key.period)
    value = w.value - p.value if not (np.isnan(w.value) or np.isnan(p.value)) else np.nan
    rest = d.cell(key, value, published=w.published and p.published, origin=p.origin)
    d.cells[rest].derived = (part, whole)
    d.add_sum(whole, [part, rest], label=label)
    return rest


def register_parts(
    table: pd.DataFrame, key: str, parts: dict[str, str], wholes: dict[str, str], *, label: str | None = None
) -> None:
    """While a publication collects: relate the counts of a table that are a part of other counts (``parts``:
    column -> count name, as registered by ``protect_shares``) to those wholes (``wholes``: column -> count name),
    group by group (``register_split``): the rest is then protected as a count of their own. E.g. a table over the
    months since LOV started against the whole period (the months before are the rest), or the endings that can be
    followed up against all endings (the rest ended too late). ``label`` says what the rest is (Swedish; default:
    the months before a part of the period)."""
    pub = active_publication()
    if pub is None or pub.decided:
        return
    pub.register(_register_parts, list(table[key].astype(str)), key, dict(parts), dict(wholes), label)


def _register_parts(pub: Publication, groups: list[str], key: str, parts: dict, wholes: dict, label) -> None:
    """``register_parts``'s registration in a collecting publication (``Publication.register``)."""
    d, period = pub.disclosure, pub.table_period
    for col, name in parts.items():
        for g in groups:
            dims = dims_of(**{key: g})
            whole = d.index.get(CellKey(wholes[col], dims, period))
            part = d.index.get(CellKey(name, dims, period))
            if whole is not None and part is not None:
                what = label or "delperioden och tiden före är hela perioden"
                register_split(d, whole, part, label=f"{what} ({wholes[col]})")


def _table_cells(d, out, key, num, den, total, name, period, counts=None) -> list[tuple[int | None, int | None]]:
    """The cells a table was registered with (the run that renders must ask for the same ones)."""
    cells: list[tuple[int | None, int | None]] = []
    for k_key, n_key in _table_keys(d, out, key, num, den, total, name, period, counts):
        pair: list[int | None] = []
        for ck in (k_key, n_key):
            if ck is None:
                pair.append(None)
            elif ck in d.index:
                pair.append(d.index[ck])
            else:
                raise DataError(
                    f"tabellen {name} fanns inte med när röjandekontrollen beslutades ({ck.describe()}); "
                    "kör rapporten med samma data och parametrar som publiceringen."
                )
        cells.append((pair[0], pair[1]))
    return cells


_KIND_FORMAT = {
    "andel": lambda v: format_number(v, 1, percent=True),
    "andel0": lambda v: format_number(v, 0, percent=True),
    "antal": lambda v: format_number(v, 0),
    "tal1": lambda v: format_number(v, 1),
    "kvot": lambda v: format_number(v, 2),
    "kr": lambda v: (format_number(v, 0) + "\u00a0kr") if pd.notna(v) else "",
    "dagar": lambda v: format_number(v, 0),
}


def format_shown(table: pd.DataFrame, columns: dict[str, tuple[str, str]]) -> pd.DataFrame:
    """A display table: ``columns`` maps a column to (Swedish header, kind). Kinds: ``text``,
    ``andel`` (per cent, 1 decimal), ``andel0``, ``antal``, ``tal1``, ``kvot``, ``kr``, ``dagar``,
    and ``intervall`` (the column holds a pair of columns ``lo``/``hi`` written ``a–b %``; give
    the column name as ``"lo:hi"``). Numbers in suppressed rows (``undertryckt``) become ``..``;
    other missing numbers are empty."""
    sup = (
        table["undertryckt"].fillna(False).astype(bool).to_numpy()
        if "undertryckt" in table
        else np.zeros(len(table), bool)
    )
    out = {}
    for col, (header, kind) in columns.items():
        if kind == "text":
            out[header] = table[col].astype(object).fillna("").astype(str).to_numpy()
            continue
        if kind == "intervall":
            lo_c, hi_c = col.split(":")
            texts = [
                f"{format_number(a, 1, percent=True)} – {format_number(b, 1, percent=True)}"
                if pd.notna(a) and pd.notna(b)
                else ""
                for a, b in zip(table[lo_c], table[hi_c])
            ]
        elif kind == "intervall_kvot":
            lo_c, hi_c = col.split(":")
            texts = [
                f"{format_number(a, 2)} – {format_number(b, 2)}" if pd.notna(a) and pd.notna(b) else ""
                for a, b in zip(table[lo_c], table[hi_c])
            ]
        else:
            fmt = _KIND_FORMAT[kind]
            texts = [fmt(v) if pd.notna(v) else "" for v in table[col]]
        out[header] = np.where(sup, SUPPRESSED, np.array(texts, dtype=object))
    return pd.DataFrame(out)


def _pct(x: float | None, decimals: int = 0) -> str:
    return format_number(x, decimals, percent=True) if x is not None and pd.notna(x) else SUPPRESSED


def _num(x: float | None, decimals: int = 0) -> str:
    return format_number(x, decimals) if x is not None and pd.notna(x) else SUPPRESSED


def _with_wilson(table: pd.DataFrame, k: str = "taljare", n: str = "namnare") -> pd.DataFrame:
    out = table.copy()
    with np.errstate(invalid="ignore", divide="ignore"):
        out["andel"] = np.where(out[n] > 0, out[k] / out[n].where(out[n] > 0), np.nan)
    out["lo"], out["hi"] = wilson_interval(out[k].to_numpy(float), out[n].to_numpy(float))
    return out


def _pp(x: float) -> str:
    """A difference of shares in percentage points, one decimal (0.123 -> "12,3")."""
    return format_number(100 * x, 1)


def _names(ctx: Context) -> dict[str, str]:

    return area_names(ctx.study.get("omraden"))


def _missing(study: Study, needs, what: str) -> str | None:

    return missing_note(study, list(needs), what)
