"""The disclosure model of a publication: counts, the relations between them, and which are hidden.

Everything one study publishes (the measures file, every report table and chart, each profile,
every dashboard view and download) is built from *counts of people* (or of their participations,
applications …). The same count often appears in several places: the base of two measures, the
total row of a report table and the whole-study row of a measure, a year and the two-year period
that contains it. And counts are related: areas add up to the whole study, interventions to their
provider, providers to their regi, years to the period, a share's numerator and its complement to
its base. A count hidden in one place must not be recoverable from all the rest, so suppression is
decided once for the whole publication, over all these relations together (the approach of
τ-Argus and sdcTable: a primary rule, then secondary suppression checked by linear programming).

Cells
    A ``Cell`` is one count, identified by ``CellKey(count, dims, period)``: ``count`` names what
    is counted (``"deltaganden_avslutade"``), ``dims`` the group (``(("omrade", "01"),)``; the
    empty tuple is the whole study) and ``period`` the months (``"2015-01:2016-12"``). Two tables
    that publish the same count register the same key, and then share one decision.

Relations
    Linear, between cells: ``total = Σ parts`` (areas of the study, interventions of a provider,
    additive counts of the years of a period), ``total ≤ Σ parts`` and ``total ≥ part`` (distinct
    people over overlapping groups, or over the years of a period), ``Σ parts ≤ total`` (some of
    the total's people), and ``base = numerator + complement`` for every share (so "8 of 9" cannot
    show that one person did not get there) and for every count that is a part of another (the
    ended participations that can be followed up, and the rest that ended too late).

Primary suppression
    A published count of 1 … ``min_cell − 1`` (a 0 is shown: "nobody" is no disclosure about a
    person). The complement of a share counts too.

Protection level
    For every primarily suppressed count, the values consistent with everything published — the
    interval [lo, hi] from minimising and maximising it by linear programming over the hidden
    cells, subject to the relations and to counts being ≥ 0 — must be at least ``protection``
    wide (default: ``min_cell``). An interval of width ≥ ``min_cell`` holds at least
    ``min_cell + 1`` whole numbers, so it always contains a value outside 1 … ``min_cell − 1``:
    nobody can tell from the publication that the count is small, let alone its value. A hidden
    count whose interval lies below 1 is known to be 0 — "nobody", no disclosure, as a shown 0 —
    and needs no more protection (``too_narrow``).

Secondary suppression
    First the line rule (no relation may hold exactly one hidden non-zero published cell); then,
    while the LP audit finds a primary cell with too narrow an interval, the smallest published
    non-zero count in a relation with it (or with a hidden cell connected to it) is hidden too —
    never a count everybody knows (``known``), and a count of the whole study only when nothing
    else will do: it is the figure most read, and often published in more than one place. The
    result is checked by the same audit that ``insats audit`` runs on a published folder.

One module because the rules (primary, line rule, secondary suppression, the LP audit and its
log) work on one shared model and must be read together to see that they agree.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import highspy
import numpy as np

__all__ = [
    "Cell",
    "CellKey",
    "Disclosure",
    "Finding",
    "Relation",
    "Violation",
    "audit_manifest",
    "dims_of",
    "log_summary",
    "protection_problem",
    "too_narrow",
]


def protection_problem(value: object, min_cell: int) -> str | None:
    """Why ``value`` cannot be the protection level (``skyddsniva``) beside ``min_cell``, in Swedish,
    or None when it can: None (the default, ``min_cell``) or a whole number ≥ ``min_cell``. A lower
    level breaks the promise of ``min_cell``: an interval [0, min_cell − 1] would say that the count
    is small (antaganden R6). No upper limit: a higher level only hides more counts (and the audit
    reports a count that cannot be protected that well)."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        return f"förväntade ett heltal (minst min_cell, {min_cell}), fick {value!r}"
    if value < min_cell:
        return (
            f"{value} är lägre än min_cell ({min_cell}); skyddsnivån måste vara minst min_cell, annars kan ett "
            "dolt antal ringas in till värden under min_cell (antaganden R6)"
        )
    return None


def too_narrow(lo: float, hi: float, min_cell: int, required: float) -> bool:
    """Whether a hidden count whose values consistent with the publication are ``lo`` … ``hi`` is too
    exposed: the interval reaches into 1 … ``min_cell − 1`` and is narrower than ``required``. An
    interval below 1 says "nobody" (the count is 0), which is no disclosure about a person, as a shown
    0 is not (e.g. the endings of a year that cannot be followed up, when every one of them can)."""
    return hi >= 1 - 1e-9 and lo < min_cell and hi - lo < required - 1e-9


@dataclass(frozen=True, order=True)
class CellKey:
    """What a count is: ``count`` (what is counted), ``dims`` (the group), ``period`` (months)."""

    count: str
    dims: tuple[tuple[str, str], ...] = ()
    period: str = ""

    def describe(self) -> str:
        """Swedish-readable description for the suppression log: ``antal (område 01, 2015-01:2016-12)``."""
        where = ", ".join(f"{k} {v}" for k, v in self.dims) or "hela studien"
        return f"{self.count} ({where}{', ' + self.period if self.period else ''})"


def dims_of(**dims: object) -> tuple[tuple[str, str], ...]:
    """A ``dims`` tuple from keyword arguments, sorted, values as text; ``ALLA`` means no dims."""
    return tuple(sorted((k, str(v)) for k, v in dims.items() if v is not None and str(v) != "ALLA"))


@dataclass
class Cell:
    key: CellKey
    value: float
    published: bool = True
    """False for a count no table shows (it still takes part in relations, as an unknown)."""
    origin: str = ""
    """Where the count is published first (for the suppression log)."""
    derived: tuple[int, ...] = ()
    """For a share's complement: the numerator and base it is computed from. It is shown exactly
    when they are, and is never hidden on its own (hiding it means hiding one of them)."""


@dataclass(frozen=True)
class Relation:
    """``Σ coef · x  (= 0 | ≤ 0)`` over cell indices; ``label`` says what it is, in Swedish."""

    terms: tuple[tuple[int, float], ...]
    equality: bool
    label: str


@dataclass(frozen=True)
class Violation:
    """A primarily suppressed count whose interval is narrower than the protection level."""

    key: CellKey
    lo: float
    hi: float
    required: float


@dataclass
class Disclosure:
    """The cells and relations of one publication, and the suppression decided over them."""

    min_cell: int = 5
    protection: float | None = None
    """Required interval width for a primarily suppressed count (None: ``min_cell``)."""
    cells: list[Cell] = field(default_factory=list)
    relations: list[Relation] = field(default_factory=list)
    index: dict[CellKey, int] = field(default_factory=dict)
    suppressed: np.ndarray | None = None
    reasons: dict[int, str] = field(default_factory=dict)
    """Cell index → why it is hidden (Swedish): the primary rule or the relation it protects."""
    forced: set[int] = field(default_factory=set)
    """Cells hidden whatever their value (e.g. hidden already in another table)."""
    known: set[int] = field(default_factory=set)
    """Cells everybody knows whatever is published (e.g. totals published elsewhere): never hidden."""
    _seen: set = field(default_factory=set, repr=False)
    _solved: dict = field(default_factory=dict, repr=False)
    """(hidden cells of a component, target) → interval: a component that did not change is not solved again."""

    # ------------------------------------------------------------------ building
    def cell(self, key: CellKey, value: float, *, published: bool = True, origin: str = "") -> int:
        """Register a count (once per key); a key registered again must carry the same value."""
        self._solved.clear()
        value = float(value) if value is not None and np.isfinite(float(value)) else np.nan
        if key in self.index:
            i = self.index[key]
            old = self.cells[i]
            if published and not old.published:
                old.published, old.origin = True, origin or old.origin
                if np.isnan(old.value):
                    old.value = value
            elif not (np.isnan(value) or np.isnan(old.value) or np.isclose(value, old.value, atol=1e-6)):
                raise ValueError(f"räkningen {key.describe()} har två olika värden: {old.value} och {value}")
            return i
        self.index[key] = len(self.cells)
        self.cells.append(Cell(key, value, published, origin))
        return len(self.cells) - 1

    def _relate(self, terms: tuple[tuple[int, float], ...], equality: bool, label: str) -> None:
        signature = (tuple(sorted(terms)), equality)
        if signature in self._seen:
            return
        self._seen.add(signature)
        self._solved.clear()
        self.relations.append(Relation(terms, equality, label))

    def add_sum(self, total: int, parts: Sequence[int], *, exact: bool = True, label: str = "") -> None:
        """``total = Σ parts`` (``exact``), else ``total ≤ Σ parts`` and ``total ≥`` each part
        (distinct people over groups or years that overlap)."""
        parts = [p for p in dict.fromkeys(parts) if p != total]
        if not parts:
            return
        terms = ((total, 1.0), *((p, -1.0) for p in parts))
        self._relate(tuple(terms), exact, label or "summa")
        if not exact:
            for p in parts:
                self._relate(((p, 1.0), (total, -1.0)), False, label or "del av helhet")

    def add_parts_within(self, total: int, parts: Sequence[int], *, label: str = "") -> None:
        """``Σ parts ≤ total`` (groups that leave some of the total out, e.g. people without a
        known area)."""
        parts = [p for p in dict.fromkeys(parts) if p != total]
        if parts:
            self._relate(((total, -1.0), *((p, 1.0) for p in parts)), False, label or "delar av helhet")

    def add_at_most(self, small: int, large: int, *, label: str = "") -> None:
        """``small ≤ large``."""
        if small != large:
            self._relate(((small, 1.0), (large, -1.0)), False, label or "högst")

    def add_share(self, numerator: int, base: int, *, label: str = "") -> int:
        """Register the complement of a share (``base − numerator``) as a count of its own, with
        ``base = numerator + complement``; returns the complement's index."""
        num, den = self.cells[numerator], self.cells[base]
        comp_key = CellKey(f"{num.key.count}|ej", num.key.dims, num.key.period)
        published = num.published and den.published
        value = den.value - num.value if not (np.isnan(den.value) or np.isnan(num.value)) else np.nan
        c = self.cell(comp_key, value, published=published, origin=den.origin)
        self.cells[c].derived = (numerator, base)
        self.add_sum(base, [numerator, c], exact=True, label=label or "andel: täljare + resten = nämnare")
        return c

    # ------------------------------------------------------------------ deciding
    def _small(self) -> np.ndarray:
        v = np.array([c.value for c in self.cells], dtype=float)
        pub = np.array([c.published and i not in self.known for i, c in enumerate(self.cells)], dtype=bool)
        with np.errstate(invalid="ignore"):
            return pub & (v >= 1) & (v < self.min_cell)

    @property
    def required(self) -> float:
        return float(self.min_cell if self.protection is None else self.protection)

    def protect(self) -> np.ndarray:
        """Decide the suppression (primary, line rule, then LP-checked secondary); returns the mask
        (True = hidden) over ``cells``. ``min_cell ≤ 1`` hides nothing."""
        n = len(self.cells)
        hidden = np.array([not c.published for c in self.cells], dtype=bool)
        if self.min_cell <= 1 or n == 0:
            self.suppressed = hidden
            return hidden
        primary = self._small()
        for p in np.flatnonzero(primary):
            self.reasons[int(p)] = "primär: färre än minsta antal"
        for i in self.forced:
            hidden[i] = True
            self.reasons.setdefault(i, "dold i en annan tabell")
        hidden |= primary
        self._derive(hidden)
        self._line_rule(hidden)
        # Every hidden count must end up as the audit requires (``audit_manifest``): certainly not
        # small, or in an interval at least ``required`` wide. Primary counts first, then the rest.
        given_up: set[int] = set()
        # Hiding more only widens an interval (a solution stays one when a fixed count becomes free),
        # so a count whose interval is wide enough stays so: only the others are checked again.
        safe: set[int] = set()
        for _ in range(4 * n + 10):
            exposed = [t for t in self._exposed(hidden, safe) if t not in given_up]
            if not exposed:
                break
            target = exposed[0]
            pick = self._partner(hidden, target)
            if pick is None:  # nothing left to hide around it: it is as protected as it can be
                given_up.add(target)
                continue
            hidden[pick[0]] = True
            self.reasons[pick[0]] = f"sekundär: skyddar {self.cells[target].key.describe()} ({pick[1]})"
            self._derive(hidden)
            self._line_rule(hidden)
        self.suppressed = hidden
        return hidden

    def _derive(self, hidden: np.ndarray) -> None:
        """A complement is hidden when its numerator or base is (it cannot be shown without both)."""
        for i, cell in enumerate(self.cells):
            if cell.derived and not hidden[i] and any(hidden[j] for j in cell.derived):
                hidden[i] = True
                self.reasons.setdefault(i, "följer: täljaren eller nämnaren är dold")

    def _siblings(self) -> dict[int, tuple[int, ...]]:
        """For a share's numerator or base: the other two cells of the share (numerator, base,
        complement), so that a partner is chosen as a whole group."""
        out: dict[int, tuple[int, ...]] = {}
        for i, cell in enumerate(self.cells):
            if cell.derived:
                k, n = cell.derived
                out.setdefault(k, ())
                out[k] += (n, i)
                out.setdefault(n, ())
                out[n] += (k, i)
        return out

    def _rank(self, j: int, hidden: np.ndarray, values: np.ndarray, siblings: dict[int, tuple[int, ...]]) -> tuple:
        """How good a partner ``j`` is (smaller is better): not a count of the whole study, then one whose
        share is already partly hidden
        (the pattern stays coherent), then one whose share has no zero count (a zero protects
        nothing: a complement of 0 would leave the hidden cell's complement known), then the
        smallest value, then a stable order."""
        sib = siblings.get(j, ())
        return (
            not self.cells[j].key.dims,
            not any(hidden[s] for s in sib),
            sum(values[s] == 0 for s in sib),
            values[j],
            self.cells[j].key,
        )

    def _hideable(self, i: int, hidden: np.ndarray, values: np.ndarray) -> bool:
        return not hidden[i] and np.isfinite(values[i]) and not self.cells[i].derived and i not in self.known

    def _line_rule(self, hidden: np.ndarray) -> None:
        """No equality may leave exactly one hidden, non-zero published cell: it would follow by subtraction.
        A count no table shows (``Cell.published`` False, an unknown of the model such as a group of
        interventions no table lists) may follow: that publishes nothing."""
        values = np.array([c.value for c in self.cells], dtype=float)
        siblings = self._siblings()
        changed = True
        while changed:
            changed = False
            for rel in self.relations:
                if not rel.equality:
                    continue
                members = [i for i, _ in rel.terms]
                lone = [i for i in members if hidden[i]]
                if len(lone) != 1 or values[lone[0]] == 0 or not self.cells[lone[0]].published:
                    continue
                cand = [i for i in members if self._hideable(i, hidden, values)]
                if not cand:  # only a complement is left: hide its numerator or base instead
                    cand = [
                        j
                        for i in members
                        if not hidden[i] and self.cells[i].derived
                        for j in self.cells[i].derived
                        if self._hideable(j, hidden, values)
                    ]
                if not cand:
                    continue
                nonzero = [i for i in cand if values[i] != 0]
                pool = nonzero or cand
                pick = min(pool, key=lambda i: self._rank(i, hidden, values, siblings))
                hidden[pick] = True
                self.reasons.setdefault(pick, f"sekundär: skyddar {self.cells[lone[0]].key.describe()} ({rel.label})")
                self._derive(hidden)
                changed = True

    def _partner(self, hidden: np.ndarray, target: int) -> tuple[int, str] | None:
        """The cell to hide next for ``target``: the smallest published non-zero count in a relation
        with the target or with a hidden cell connected to it (zeros only when nothing else is left),
        never one of the ``known`` (hiding a count everybody knows protects nothing, and would make the
        audit believe that it does), and a count of the whole study (no ``dims``: the figures most
        read, often published in several places) only when no other count, however far out, will do."""
        values = np.array([c.value for c in self.cells], dtype=float)
        seen, frontier = {target}, [target]
        by_cell: dict[int, list[Relation]] = {}
        for rel in self.relations:
            for i, _ in rel.terms:
                by_cell.setdefault(i, []).append(rel)
        fallback: tuple[int, str] | None = None
        while frontier:
            cands: dict[int, str] = {}
            nxt = []
            for i in frontier:
                for rel in by_cell.get(i, []):
                    for j, _ in rel.terms:
                        if j in seen:
                            continue
                        if hidden[j]:
                            seen.add(j)
                            nxt.append(j)
                        elif self.cells[j].derived:  # a shown complement: hide what it is computed from
                            for k in self.cells[j].derived:
                                if self._hideable(k, hidden, values):
                                    cands.setdefault(k, rel.label)
                        elif self._hideable(j, hidden, values):  # never a count everybody knows
                            cands.setdefault(j, rel.label)
            if cands:
                nonzero = [j for j in cands if values[j] != 0]
                pool = nonzero or list(cands)
                siblings = self._siblings()
                j = min(pool, key=lambda k: self._rank(k, hidden, values, siblings))
                if self.cells[j].key.dims:
                    return j, cands[j]
                fallback = fallback or (j, cands[j])  # a whole-study count: only if nothing further out will do
            frontier = nxt
        return fallback

    # ------------------------------------------------------------------ auditing
    def intervals(self, hidden: np.ndarray, targets: Iterable[int]) -> dict[int, tuple[float, float]]:
        """For each target (a hidden cell), the min and max of its value over everything consistent
        with the published cells, the relations and ``x ≥ 0``."""
        targets = [t for t in targets if hidden[t]]
        if not targets:
            return {}
        values = np.array([c.value for c in self.cells], dtype=float)
        comp = self._components(hidden)
        out: dict[int, tuple[float, float]] = {}
        by_comp: dict[int, list[int]] = {}
        for t in targets:
            by_comp.setdefault(comp[t], []).append(t)
        hidden_idx = np.flatnonzero(hidden)
        for root, group in by_comp.items():
            members = sorted(int(i) for i in hidden_idx if comp[i] == root)
            signature = tuple(members)
            todo = [t for t in group if (signature, t) not in self._solved]
            for t in group:
                if (signature, t) in self._solved:
                    out[t] = self._solved[(signature, t)]
            if not todo:
                continue
            pos = {i: k for k, i in enumerate(members)}
            rows_eq: list[list[tuple[int, float]]] = []
            rows_ub: list[list[tuple[int, float]]] = []
            b_eq: list[float] = []
            b_ub: list[float] = []
            for rel in self.relations:
                inner = [(i, c) for i, c in rel.terms if i in pos]
                if not inner:
                    continue
                known = sum(c * values[i] for i, c in rel.terms if i not in pos and not hidden[i])
                if any(i not in pos and hidden[i] for i, _ in rel.terms):
                    continue  # touches another component: cannot happen for a connected component
                (rows_eq if rel.equality else rows_ub).append(inner)
                (b_eq if rel.equality else b_ub).append(-known)
            solver = _ComponentLP(rows_eq, b_eq, rows_ub, b_ub, pos)
            for t in todo:
                out[t] = self._solved[(signature, t)] = solver.interval(pos[t])
        return out

    def _components(self, hidden: np.ndarray) -> np.ndarray:
        parent = np.arange(len(self.cells))

        def find(i: int) -> int:
            while parent[i] != i:
                parent[i] = parent[parent[i]]
                i = int(parent[i])
            return i

        for rel in self.relations:
            hid = [i for i, _ in rel.terms if hidden[i]]
            for a, b in itertools.pairwise(hid):
                ra, rb = find(a), find(b)
                if ra != rb:
                    parent[ra] = rb
        return np.array([find(i) for i in range(len(self.cells))])

    def _exposed(self, hidden: np.ndarray, safe: set[int] | None = None) -> list[int]:
        """Hidden published counts the audit would flag (``too_narrow``): their interval reaches into
        1 … ``min_cell − 1`` and is narrower than ``required``. Primary counts first, narrowest first. ``safe``: counts
        known to be safe for a subset of ``hidden`` (not checked again; the newly safe are added)."""
        small = self._small()
        skip = safe if safe is not None else set()
        targets = [int(i) for i in np.flatnonzero(hidden) if self.cells[int(i)].published and int(i) not in skip]
        iv = self.intervals(hidden, targets)
        bad = []
        for t, (lo, hi) in iv.items():
            if too_narrow(lo, hi, self.min_cell, self.required):
                bad.append((not small[t], hi - lo, self.cells[t].key, t))
            elif safe is not None and hi - lo >= self.required - 1e-9:
                safe.add(t)  # wide stays wide; "certainly not small" may not (its lower end can fall)
        return [t for *_, t in sorted(bad)]

    def _narrow(self, hidden: np.ndarray, targets: list[int]) -> list[int]:
        iv = self.intervals(hidden, targets)
        bad = [(hi - lo, t) for t, (lo, hi) in iv.items() if hi - lo < self.required - 1e-9]
        return [t for _, t in sorted(bad, key=lambda x: (x[0], self.cells[x[1]].key))]

    def audit(self, hidden: np.ndarray | None = None) -> list[Violation]:
        """Every count too exposed by the publication (the criterion of ``audit_manifest``): a shown
        count of 1 … ``min_cell − 1``, or a hidden one whose interval reaches into 1 … ``min_cell − 1``
        and is narrower than the protection level (``too_narrow``)."""
        hidden = self.suppressed if hidden is None else hidden
        if hidden is None or self.min_cell <= 1:
            return []
        values = np.array([c.value for c in self.cells], dtype=float)
        out = [
            Violation(self.cells[i].key, values[i], values[i], self.required)
            for i in range(len(self.cells))
            if self.cells[i].published and not hidden[i] and 1 <= values[i] < self.min_cell
        ]
        targets = [int(i) for i in np.flatnonzero(hidden) if self.cells[int(i)].published]
        for t, (lo, hi) in self.intervals(hidden, targets).items():
            if too_narrow(lo, hi, self.min_cell, self.required):
                out.append(Violation(self.cells[t].key, lo, hi, self.required))
        return out

    def is_hidden(self, key: CellKey) -> bool:
        assert self.suppressed is not None, "protect() first"
        i = self.index.get(key)
        return bool(self.suppressed[i]) if i is not None else False

    def log(self) -> list[dict[str, str]]:
        """The suppression log: every hidden published count and why (never its value)."""
        assert self.suppressed is not None, "protect() first"
        rows = []
        for i in np.flatnonzero(self.suppressed):
            cell = self.cells[int(i)]
            if not cell.published or cell.key.count.endswith("|ej"):
                continue
            rows.append(
                {
                    "rakning": cell.key.count,
                    "grupp": ", ".join(f"{k} {v}" for k, v in cell.key.dims) or "hela studien",
                    "period": cell.key.period,
                    "skal": self.reasons.get(int(i), "sekundär"),
                    "forst_publicerad_i": cell.origin,
                }
            )
        return rows


def log_summary(log: Iterable[dict[str, str]]) -> dict[str, int]:
    """How many hidden counts the suppression log holds by kind of reason (``primär``,
    ``sekundär``, ``följer``, ``dold i en annan tabell``), most first."""
    counts: dict[str, int] = {}
    for row in log:
        kind = str(row.get("skal", "")).split(":", 1)[0].strip() or "okänt"
        counts[kind] = counts.get(kind, 0) + 1
    return dict(sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])))


class _ComponentLP:
    """The attacker's linear programme over one connected group of hidden cells: the relations
    (equalities and inequalities, the shown cells' values moved to the right-hand side) and
    ``x ≥ 0``. ``interval(j)`` minimises and maximises variable ``j``. One HiGHS model serves
    every target of the group: only the objective changes between solves, so each solve starts
    from the last one's optimal basis (a few simplex steps) instead of from nothing. The audit
    of a small study solves thousands of these, and set-up, not solving, was most of their cost
    (through ``scipy.optimize.linprog``: about 3 ms each, against well under 1 ms here)."""

    def __init__(
        self,
        rows_eq: list[list[tuple[int, float]]],
        b_eq: list[float],
        rows_ub: list[list[tuple[int, float]]],
        b_ub: list[float],
        pos: dict[int, int],
    ) -> None:
        width = len(pos)
        lp = highspy.HighsLp()
        lp.num_col_ = width
        lp.num_row_ = len(rows_eq) + len(rows_ub)
        lp.col_cost_ = np.zeros(width)
        lp.col_lower_ = np.zeros(width)
        lp.col_upper_ = np.full(width, highspy.kHighsInf)
        lp.row_lower_ = np.array([*b_eq, *([-highspy.kHighsInf] * len(b_ub))], dtype=float)
        lp.row_upper_ = np.array([*b_eq, *b_ub], dtype=float)
        starts, index, value = [0], [], []
        for row in (*rows_eq, *rows_ub):
            merged: dict[int, float] = {}
            for i, c in row:  # a cell twice in one relation: one coefficient
                merged[pos[i]] = merged.get(pos[i], 0.0) + c
            for col, coef in sorted(merged.items()):
                if coef != 0.0:
                    index.append(col)
                    value.append(coef)
            starts.append(len(index))
        lp.a_matrix_.format_ = highspy.MatrixFormat.kRowwise
        lp.a_matrix_.num_col_ = width
        lp.a_matrix_.num_row_ = lp.num_row_
        lp.a_matrix_.start_ = np.array(starts, dtype=np.int32)
        lp.a_matrix_.index_ = np.array(index, dtype=np.int32)
        lp.a_matrix_.value_ = np.array(value, dtype=float)
        self._h = highspy.Highs()
        self._h.setOptionValue("output_flag", False)
        self._h.setOptionValue("presolve", "off")
        if self._h.passModel(lp) == highspy.HighsStatus.kError:
            raise ValueError("röjandekontrollens modell kunde inte ställas upp")

    def interval(self, j: int) -> tuple[float, float]:
        """The min and max of variable ``j`` (max +inf when unbounded)."""
        lo = self._optimum(j, 1.0)
        hi = self._optimum(j, -1.0)
        self._h.changeColCost(j, 0.0)
        return lo, (-hi if np.isfinite(hi) else np.inf)

    def _optimum(self, j: int, cost: float) -> float:
        """min ``cost``·x_j; -inf when unbounded."""
        h = self._h
        h.changeColCost(j, cost)
        status = self._run()
        if status not in _SETTLED:  # HiGHS could not finish from the last basis: once more from nothing
            h.clearSolver()
            status = self._run()
        if status == highspy.HighsModelStatus.kOptimal:
            return float(h.getInfo().objective_function_value)
        # min x_j ≥ 0 is always bounded: "unbounded or infeasible" then means infeasible
        if status == highspy.HighsModelStatus.kUnbounded or (
            cost < 0 and status == highspy.HighsModelStatus.kUnboundedOrInfeasible
        ):
            h.clearSolver()  # an unbounded ray is no basis to start the next solve from
            return -np.inf
        raise ValueError(f"röjandekontrollens modell saknar lösning ({h.modelStatusToString(status)})")

    def _run(self) -> highspy.HighsModelStatus:
        self._h.run()
        return self._h.getModelStatus()


_SETTLED = (
    highspy.HighsModelStatus.kOptimal,
    highspy.HighsModelStatus.kUnbounded,
    highspy.HighsModelStatus.kUnboundedOrInfeasible,
    highspy.HighsModelStatus.kInfeasible,
)


# --------------------------------------------------------------------------- the published record
MANIFEST_FORMAT = 1


def manifest(d: Disclosure) -> dict:
    """What a publication shows, for ``insats audit``: every count with its published value (None
    where hidden — a hidden value is never written), where it is published, and every relation."""
    assert d.suppressed is not None, "protect() first"
    cells = []
    for i, cell in enumerate(d.cells):
        shown = cell.published and not d.suppressed[i]
        cells.append(
            {
                "rakning": cell.key.count,
                "grupp": [list(p) for p in cell.key.dims],
                "period": cell.key.period,
                "varde": (None if not shown or not np.isfinite(cell.value) else float(cell.value)),
                "publicerad": bool(cell.published),
                "harledd": list(cell.derived),
                "publicerad_i": cell.origin,
            }
        )
    relations = [
        {"termer": [[i, c] for i, c in r.terms], "lika": r.equality, "beskrivning": r.label} for r in d.relations
    ]
    return {
        "format": MANIFEST_FORMAT,
        "min_cell": d.min_cell,
        "skyddsniva": d.required,
        "celler": cells,
        "relationer": relations,
    }


@dataclass(frozen=True)
class Finding:
    """A count the audit finds too exposed (Swedish ``text``), with where it is published."""

    key: CellKey
    where: str
    text: str


def audit_manifest(data: dict) -> list[Finding]:
    """Check a publication from what it shows alone (as an attacker would): no published count of
    1 … ``min_cell − 1`` (complements included), and every hidden count either certainly not small
    (its lowest possible value is at least ``min_cell``) or in an interval at least ``skyddsniva``
    wide."""
    min_cell = int(data["min_cell"])
    required = float(data["skyddsniva"])
    d = Disclosure(min_cell=min_cell, protection=required)
    for c in data["celler"]:
        key = CellKey(c["rakning"], tuple((k, v) for k, v in c["grupp"]), c["period"])
        value = c["varde"] if c["varde"] is not None else np.nan
        i = len(d.cells)
        d.index[key] = i
        d.cells.append(Cell(key, value, bool(c["publicerad"]), c.get("publicerad_i", ""), tuple(c.get("harledd", ()))))
    for r in data["relationer"]:
        d.relations.append(
            Relation(tuple((int(i), float(c)) for i, c in r["termer"]), bool(r["lika"]), r["beskrivning"])
        )
    hidden = np.array([c["varde"] is None for c in data["celler"]], dtype=bool)
    findings: list[Finding] = []
    for i, cell in enumerate(d.cells):
        if not hidden[i] and 1 <= cell.value < min_cell:
            what = "resten (nämnaren minus täljaren)" if cell.derived else "antalet"
            findings.append(
                Finding(cell.key, cell.origin, f"{what} {cell.key.describe()} visas och är mindre än {min_cell}")
            )
    targets = [int(i) for i in np.flatnonzero(hidden) if d.cells[int(i)].published]
    for t, (lo, hi) in d.intervals(hidden, targets).items():
        if too_narrow(lo, hi, min_cell, required):
            findings.append(
                Finding(
                    d.cells[t].key,
                    d.cells[t].origin,
                    f"det dolda antalet {d.cells[t].key.describe()} kan räknas ut till mellan {lo:.0f} och "
                    f"{hi:.0f} ur det som publiceras (skyddsnivån kräver ett spann på minst {required:.0f})",
                )
            )
    return findings
