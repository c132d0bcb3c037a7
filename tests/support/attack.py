"""The attacker's last step, shared by the disclosure attack tests: solving the published equations."""

from __future__ import annotations

from collections.abc import Callable, Hashable, Mapping, Sequence


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
