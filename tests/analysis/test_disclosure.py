"""The publication's disclosure model: primary rule, relations, LP audit, secondary suppression.

Intervals are checked against brute force: every integer assignment of the hidden cells that
satisfies the relations, enumerated (an independent route to the LP's min and max)."""

from __future__ import annotations

import numpy as np
import pytest

from insats.analysis.disclosure import CellKey, Disclosure, dims_of


def key(count: str, area: str | None = None, period: str = "P") -> CellKey:
    return CellKey(count, dims_of(omrade=area), period)


def line(d: Disclosure, count: str, values: dict[str, float], total: float) -> tuple[int, list[int]]:
    t = d.cell(key(count), total)
    parts = [d.cell(key(count, a), v) for a, v in values.items()]
    d.add_sum(t, parts)
    return t, parts


def brute_interval(d: Disclosure, hidden: np.ndarray, target: int, top: int = 40) -> tuple[int, int]:
    """min and max of the target over all integer assignments 0..top of the hidden cells
    (vectorised enumeration; keep the hidden cells few)."""
    hid = [int(i) for i in np.flatnonzero(hidden)]
    vals = np.array([c.value for c in d.cells], dtype=float)
    grids = np.stack(np.meshgrid(*[np.arange(top + 1)] * len(hid), indexing="ij"), axis=-1).reshape(-1, len(hid))
    ok = np.ones(len(grids), dtype=bool)
    col = {i: k for k, i in enumerate(hid)}
    for rel in d.relations:
        s = np.zeros(len(grids))
        for i, c in rel.terms:
            s += c * (grids[:, col[i]] if i in col else vals[i])
        ok &= (np.abs(s) <= 1e-9) if rel.equality else (s <= 1e-9)
    values = grids[ok, col[target]]
    return int(values.min()), int(values.max())


def test_a_lone_small_cell_gets_a_partner_and_a_wide_interval():
    d = Disclosure(min_cell=5)
    t, (a, b, c) = line(d, "n", {"a": 3, "b": 10, "c": 12}, 25)
    hidden = d.protect()
    assert hidden[a] and hidden[b] and not hidden[c] and not hidden[t]
    lo, hi = d.intervals(hidden, [a])[a]
    assert (lo, hi) == (0, 13) == brute_interval(d, hidden, a)
    assert d.audit() == []
    assert any("primär" in r["skal"] for r in d.log()) and any("sekundär" in r["skal"] for r in d.log())


def test_two_small_cells_are_not_enough_for_each_other():
    """1 and 2 hidden together still say "both are small" (1 + 2 = 3): a third cell is hidden."""
    d = Disclosure(min_cell=5)
    _, (a, b, c) = line(d, "n", {"a": 1, "b": 2, "c": 20}, 23)
    hidden = d.protect()
    assert hidden[a] and hidden[b] and hidden[c]
    assert d.intervals(hidden, [a])[a] == (0, 23)
    assert d.audit() == []


def test_protection_level_is_a_parameter():
    d = Disclosure(min_cell=5, protection=2)
    line(d, "n", {"a": 1, "b": 2, "c": 20}, 23)
    hidden = d.protect()
    assert hidden.sum() == 2  # an interval of width 3 is enough at level 2


def test_complement_of_a_share_is_protected():
    """8 of 9: the 1 person without the outcome is a small count too."""
    d = Disclosure(min_cell=5)
    k_t, (k_a, k_b) = line(d, "k", {"a": 8, "b": 30}, 38)
    n_t, (n_a, n_b) = line(d, "n", {"a": 9, "b": 40}, 49)
    comps = [d.add_share(k, n) for k, n in ((k_a, n_a), (k_b, n_b), (k_t, n_t))]
    hidden = d.protect()
    assert hidden[comps[0]] and (hidden[k_a] or hidden[n_a])
    lo, hi = d.intervals(hidden, [comps[0]])[comps[0]]
    assert hi - lo >= 5
    assert d.audit() == []


def test_a_count_shared_by_two_measures_is_one_decision():
    d = Disclosure(min_cell=5)
    n_t, n_parts = line(d, "ansokningar", {"a": 20, "b": 3, "c": 30}, 53)
    again = [d.cell(key("ansokningar", a), v) for a, v in {"a": 20, "b": 3, "c": 30}.items()]
    assert again == n_parts and d.cell(key("ansokningar"), 53) == n_t
    with pytest.raises(ValueError, match="två olika värden"):
        d.cell(key("ansokningar", "a"), 21)


def test_years_add_up_to_the_period():
    """A small count in one year is protected against the period minus the other year."""
    d = Disclosure(min_cell=5)
    span = d.cell(CellKey("avslutade", dims_of(omrade="a"), "2015-01:2016-12"), 14)
    y1 = d.cell(CellKey("avslutade", dims_of(omrade="a"), "2015-01:2015-12"), 12)
    y2 = d.cell(CellKey("avslutade", dims_of(omrade="a"), "2016-01:2016-12"), 2)
    d.add_sum(span, [y1, y2])
    hidden = d.protect()
    assert hidden[y2] and (hidden[y1] or hidden[span])
    assert d.audit() == []


def test_union_counts_give_bounds_not_sums():
    """Distinct people over two years: period ≤ year1 + year2 and ≥ each year."""
    d = Disclosure(min_cell=5)
    span = d.cell(CellKey("personer", (), "S"), 30)
    y1 = d.cell(CellKey("personer", (), "Y1"), 28)
    y2 = d.cell(CellKey("personer", (), "Y2"), 3)
    d.add_sum(span, [y1, y2], exact=False)
    hidden = d.protect()
    assert hidden[y2]
    lo, hi = d.intervals(hidden, [y2])[y2]
    assert lo == 2 and hi == 30  # y2 ≥ span − y1 = 2 and y2 ≤ span: wide enough
    assert (lo, hi) == brute_interval(d, hidden, y2, top=35)
    assert d.audit() == []


def test_lp_intervals_match_brute_force_on_random_tables():
    rng = np.random.default_rng(7)
    checked = 0
    for _ in range(25):
        d = Disclosure(min_cell=5)
        rows, cols = 3, 3
        grid = rng.integers(0, 12, size=(rows, cols))
        cell = {(r, c): d.cell(CellKey("x", dims_of(r=r, c=c)), grid[r, c]) for r in range(rows) for c in range(cols)}
        for r in range(rows):
            d.add_sum(d.cell(CellKey("x", dims_of(r=r)), grid[r].sum()), [cell[r, c] for c in range(cols)])
        for c in range(cols):
            d.add_sum(d.cell(CellKey("x", dims_of(c=c)), grid[:, c].sum()), [cell[r, c] for r in range(rows)])
        hidden = d.protect()
        targets = [int(i) for i in np.flatnonzero(hidden)][:2]
        if hidden.sum() > 4:  # keep the enumeration small (37 ** 4 assignments)
            continue
        for t in targets:
            lo, hi = d.intervals(hidden, [t])[t]
            assert (round(lo), round(hi) if np.isfinite(hi) else hi) == brute_interval(d, hidden, t, top=36)
            checked += 1
        assert d.audit() == []
    assert checked >= 10


def test_warm_started_intervals_equal_independent_cold_solves():
    """The audit's solver keeps one HiGHS model per group of hidden cells and only changes the
    objective between targets. On random systems (equalities and inequalities, a cell twice in a
    relation, unbounded maxima) every interval equals two cold solves by ``scipy.optimize.linprog``
    of the same programme, in whatever order the targets come."""
    from scipy.optimize import linprog

    from insats.analysis.disclosure import _ComponentLP

    rng = np.random.default_rng(11)
    unbounded = compared = 0
    for _ in range(60):
        n = int(rng.integers(2, 9))
        truth = rng.integers(0, 15, size=n).astype(float)
        rows_eq, rows_ub, b_eq, b_ub = [], [], [], []
        for _ in range(int(rng.integers(1, 7))):
            members = rng.choice(n, size=int(rng.integers(1, min(n, 4) + 1)), replace=True)  # repeats allowed
            row = [(int(i), float(rng.choice([-1.0, 1.0, 2.0]))) for i in members]
            value = sum(c * truth[i] for i, c in row)
            if rng.random() < 0.5:
                rows_eq.append(row)
                b_eq.append(value)
            else:
                rows_ub.append(row)
                b_ub.append(value + float(rng.integers(0, 4)))
        pos = {i: i for i in range(n)}
        solver = _ComponentLP(rows_eq, b_eq, rows_ub, b_ub, pos)

        def dense(rows, n=n):
            a = np.zeros((len(rows), n))
            for r, row in enumerate(rows):
                for i, c in row:
                    a[r, i] += c
            return a if rows else None

        a_eq, a_ub = dense(rows_eq), dense(rows_ub)
        for j in rng.permutation(n):
            c = np.zeros(n)
            c[j] = 1.0
            kw = dict(A_eq=a_eq, b_eq=b_eq or None, A_ub=a_ub, b_ub=b_ub or None, bounds=(0, None), method="highs")
            lo, hi = linprog(c, **kw), linprog(-c, **kw)
            assert lo.status == 0
            expected = (lo.fun, np.inf if hi.status == 3 else -hi.fun)
            got = solver.interval(int(j))
            assert got[0] == pytest.approx(expected[0], abs=1e-7)
            assert got[1] == pytest.approx(expected[1], abs=1e-7) if np.isfinite(expected[1]) else got[1] == np.inf
            assert got[0] <= truth[j] + 1e-7 and truth[j] <= got[1] + 1e-7
            unbounded += not np.isfinite(expected[1])
            compared += 1
    assert compared > 200 and 10 < unbounded < compared - 50  # both kinds of maximum were met


def test_audit_finds_a_weak_pattern():
    d = Disclosure(min_cell=5)
    _, (a, b, c) = line(d, "n", {"a": 1, "b": 2, "c": 20}, 23)
    d.protect()
    weak = d.suppressed.copy()
    weak[c] = False  # only the two small ones hidden: 1 + 2 = 3 is known
    found = d.audit(weak)
    assert {v.key for v in found} == {d.cells[a].key, d.cells[b].key}
    assert all(v.hi - v.lo == 3 for v in found)


def test_min_cell_one_hides_nothing():
    d = Disclosure(min_cell=1)
    line(d, "n", {"a": 1, "b": 2}, 3)
    assert not d.protect().any()


class _CheckEveryRound(Disclosure):
    """``protect`` as it was before counts found wide enough were skipped in later rounds."""

    def _exposed(self, hidden, safe=None):
        return super()._exposed(hidden, None)


def _grid_model(cls, grid: np.ndarray, min_cell: int) -> Disclosure:
    d = cls(min_cell=min_cell)
    rows, cols = grid.shape
    cell = {(r, c): d.cell(CellKey("x", dims_of(r=r, c=c)), grid[r, c]) for r in range(rows) for c in range(cols)}
    for r in range(rows):
        d.add_sum(d.cell(CellKey("x", dims_of(r=r)), grid[r].sum()), [cell[r, c] for c in range(cols)])
    for c in range(cols):
        d.add_sum(d.cell(CellKey("x", dims_of(c=c)), grid[:, c].sum()), [cell[r, c] for r in range(rows)])
    return d


def test_skipping_counts_already_wide_enough_changes_no_decision():
    """Hiding more only widens an interval, so a count once wide enough is not checked again: the
    suppression is the same as checking every count in every round (random tables full of small
    counts, where the secondary suppression takes many rounds)."""
    rng = np.random.default_rng(11)
    rounds = 0
    for _ in range(30):
        grid = rng.integers(0, 9, size=(4, 5))
        fast, slow = _grid_model(Disclosure, grid, 5), _grid_model(_CheckEveryRound, grid, 5)
        assert (fast.protect() == slow.protect()).all()
        assert fast.reasons == slow.reasons
        assert fast.audit() == []
        rounds += sum(r.startswith("sekundär") for r in fast.reasons.values())
    assert rounds >= 30  # the tables did need secondary suppression


def _known_margins(grid: list[list[float]]) -> tuple[Disclosure, list[int]]:
    """A cross-table whose row and column totals everybody knows (``protect_counts(margins=False)``)."""
    vals = np.array(grid, dtype=float)
    d = Disclosure(min_cell=5)
    rows, cols = vals.shape
    cell = [[d.cell(CellKey("x", dims_of(r=r, c=c)), vals[r, c]) for c in range(cols)] for r in range(rows)]
    margins = [d.cell(CellKey("x", dims_of(r=r)), vals[r].sum()) for r in range(rows)]
    margins += [d.cell(CellKey("x", dims_of(c=c)), vals[:, c].sum()) for c in range(cols)]
    for r in range(rows):
        d.add_sum(margins[r], cell[r])
    for c in range(cols):
        d.add_sum(margins[rows + c], [cell[r][c] for r in range(rows)])
    d.known.update(margins)
    return d, margins


def test_a_known_count_is_never_chosen_as_a_partner():
    """Secondary suppression never hides a count everybody knows (``Disclosure.known``): hiding it protects
    nothing, and the audit would then count it as unknown. Before the fix the partner search hid known
    totals (row 1's total 15 here, the smallest count beside the 3) and called the pattern safe."""
    d, margins = _known_margins([[6, 20, 8], [6, 3, 6], [20, 1, 12]])
    hidden = d.protect()
    assert not hidden[margins].any()
    assert d.audit() == []  # protected by counts that are really hidden


def test_a_count_a_known_total_pins_is_reported_not_hidden_away():
    """Row 1 holds 3 and 0 and its total (3) is known: nothing hidden can protect the 3. The audit says so,
    instead of the model hiding the known total and calling the 3 protected."""
    d, margins = _known_margins([[2, 12], [3, 0], [8, 8]])
    hidden = d.protect()
    assert not hidden[margins].any()
    exposed = {v.key for v in d.audit()}
    assert CellKey("x", dims_of(r=1, c=0)) in exposed


def test_a_whole_study_count_is_a_partner_only_when_nothing_further_out_will_do():
    """The partner search goes past a count of the whole study (no dims) to a count further out in the
    relations: the whole study's figures are the most read and are often published elsewhere too (the
    measures file and a report's total row), where hiding them would protect nothing."""
    d = Disclosure(min_cell=5)
    t = d.cell(CellKey("n", dims_of(omrade="a")), 3)
    x = d.cell(CellKey("n", dims_of(omrade="b")), 10)
    whole = d.cell(CellKey("n"), 13)
    d.add_sum(whole, [t, x])
    y = d.cell(CellKey("m", dims_of(omrade="b")), 30)
    z = d.cell(CellKey("k", dims_of(omrade="b")), 20)
    d.add_sum(y, [x, z])
    hidden = np.zeros(len(d.cells), dtype=bool)
    hidden[[t, x]] = True
    assert d._partner(hidden, t)[0] == z  # not the whole study's 13, next to the target
    hidden[[y, z]] = True
    assert d._partner(hidden, t)[0] == whole  # nothing else is left


def test_a_count_no_table_shows_may_follow_from_an_equation():
    """A group no table lists (a cell with ``published=False``, e.g. the interventions with an attendance
    requirement) may be the sum of shown counts: that publishes nothing, so nothing is hidden for it."""
    d = Disclosure(min_cell=5)
    a, b = d.cell(CellKey("n", dims_of(i="a")), 12), d.cell(CellKey("n", dims_of(i="b")), 30)
    group = d.cell(CellKey("n", dims_of(krav="med")), 42, published=False)
    d.add_sum(group, [a, b])
    hidden = d.protect()
    assert not hidden[[a, b]].any()
    assert d.audit() == []


def test_a_hidden_count_known_to_be_zero_needs_no_protection():
    """An interval below 1 says "nobody", as a shown 0 does: no disclosure, and no reason to hide more. Here the
    whole study's ended participations can all be followed up, so each area's rest (ended − followable) is 0,
    also where the area's counts are hidden."""
    from insats.analysis.disclosure import too_narrow

    assert not too_narrow(0, 0, 5, 5) and too_narrow(0, 3, 5, 5) and not too_narrow(5, 6, 5, 5)
    d = Disclosure(min_cell=5)
    areas = {"a": 3, "b": 17, "c": 25}
    ended = {k: d.cell(CellKey("avslutade", dims_of(omrade=k)), v) for k, v in areas.items()}
    followed = {k: d.cell(CellKey("uppfoljda", dims_of(omrade=k)), v) for k, v in areas.items()}
    d.add_sum(d.cell(CellKey("avslutade"), 45), list(ended.values()))
    d.add_sum(d.cell(CellKey("uppfoljda"), 45), list(followed.values()))
    rests = {k: d.add_share(followed[k], ended[k]) for k in areas}
    hidden = d.protect()
    assert hidden[ended["a"]] and hidden[rests["a"]]
    assert d.intervals(hidden, [rests["a"]])[rests["a"]] == (0.0, 0.0)
    assert not hidden[ended["c"]]  # two areas hidden protect the 3; the rests of 0 ask for nothing more
    assert d.audit() == []
