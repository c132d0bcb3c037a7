"""The attacker's tools, shared by the disclosure attack tests: reading a shown number, solving the published
equations one unknown at a time (``propagate``), and bounding a hidden count by linear programming over
everything published (``Attacker``)."""

from __future__ import annotations

import re
from collections.abc import Callable, Hashable, Mapping, Sequence

import numpy as np
from scipy.optimize import linprog
from scipy.sparse import lil_matrix

from insats.analysis.privacy import SUPPRESSED


def shown_number(text: object) -> float | None:
    """A number as a table shows it (``"1 234"``, ``"15,7 %"``), None for a hidden one (``..``) or an empty
    cell. Signs are dropped: the tables read this way show counts and shares."""
    text = str(text)
    if text in (SUPPRESSED, "", "nan"):
        return None
    return float(re.sub(r"[^\d,]", "", text).replace(",", "."))


def propagate(
    equations: Sequence[tuple[list, list]],
    known: Mapping[Hashable, float],
    value: Mapping[Hashable, float],
    min_cell: int,
    name: Callable[[Hashable], str] = str,
) -> list[str]:
    """Solve ``Σ plus = Σ minus`` equations one unknown at a time, starting from the ``known`` (shown)
    cells, until nothing more follows; every count of 1 … ``min_cell`` − 1 learned this way is a finding
    (``"<name> = <count> recovered by subtraction"``). ``value`` holds the true counts, for the check."""
    learned = dict(known)
    findings = []
    changed = True
    while changed:
        changed = False
        for plus, minus in equations:
            unknown = [e for e in plus + minus if e not in learned]
            if len(unknown) != 1:
                continue
            u = unknown[0]
            rest = sum(learned[e] for e in plus if e != u) - sum(learned[e] for e in minus if e != u)
            learned[u] = -rest if u in plus else rest
            changed = True
            if 1 <= value[u] < min_cell:
                findings.append(f"{name(u)} = {value[u]:.0f} recovered by subtraction")
    return findings


class Attacker:
    """Unknowns with bounds and linear equalities; ``interval`` minimises and maximises a linear form."""

    def __init__(self) -> None:
        self.vars: dict[Hashable, int] = {}
        self.eqs: list[tuple[dict[Hashable, float], float]] = []
        self.ubs: list[tuple[dict[Hashable, float], float]] = []
        self.shown: dict[Hashable, set[float]] = {}

    def var(self, name: Hashable) -> Hashable:
        self.vars.setdefault(name, len(self.vars))
        return name

    def show(self, name: Hashable, value: float | None, where: str) -> None:
        """A table shows ``name`` (``None``: as ``..``)."""
        self.var(name)
        self.shown.setdefault(name, set()).add(value if value is None else float(value))
        if value is not None:
            self.eqs.append(({name: 1.0}, float(value)))

    def equal(self, total: Hashable, parts: list[Hashable]) -> None:
        terms = {self.var(total): 1.0}
        for p in parts:
            terms[self.var(p)] = terms.get(p, 0.0) - 1.0
        self.eqs.append((terms, 0.0))

    def at_most(self, small: Hashable, large: Hashable) -> None:
        self.ubs.append(({self.var(small): 1.0, self.var(large): -1.0}, 0.0))

    def within(self, total: Hashable, parts: list[Hashable]) -> None:
        """``Σ parts ≤ total`` (parts that leave some of the total out)."""
        terms = {self.var(total): -1.0}
        for p in parts:
            terms[self.var(p)] = terms.get(p, 0.0) + 1.0
        self.ubs.append((terms, 0.0))

    def _matrix(self, rows):
        a = lil_matrix((len(rows), len(self.vars)))
        for r, (terms, _) in enumerate(rows):
            for name, c in terms.items():
                a[r, self.vars[name]] += c
        return a.tocsr(), np.array([b for _, b in rows])

    def interval(self, form: dict[Hashable, float]) -> tuple[float, float]:
        a_eq, b_eq = self._matrix(self.eqs)
        a_ub, b_ub = self._matrix(self.ubs) if self.ubs else (None, None)
        c = np.zeros(len(self.vars))
        for name, v in form.items():
            c[self.vars[name]] = v
        out = []
        for sign in (1.0, -1.0):
            res = linprog(sign * c, A_ub=a_ub, b_ub=b_ub, A_eq=a_eq, b_eq=b_eq, bounds=(0, None), method="highs")
            assert res.status in (0, 3), res.message  # the published tables are consistent
            out.append(sign * res.fun if res.status == 0 else sign * -np.inf)
        return out[0], out[1]
