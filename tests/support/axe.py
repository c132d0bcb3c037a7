"""axe-core in the browser tests: the WCAG 2.1 A/AA rules run on a Playwright page, offline.

``axe-playwright-python`` carries ``axe.min.js`` in the package and injects it into the page, so a
scan fetches nothing. ``scan(page)`` returns the violations; ``serious(violations)`` keeps those of
impact serious or critical, and ``describe(violations)`` lists rule ids with their targets for an
assertion message.
"""

from __future__ import annotations

from collections import Counter

import pytest

WCAG_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
"""The rule sets checked: WCAG 2.0 and 2.1, levels A and AA (EN 301 549)."""

BLOCKING = ("serious", "critical")
"""Impacts a test does not accept."""


def scan(page, *, context: str | None = None) -> list[dict]:
    """axe-core's WCAG 2.1 A/AA violations on the page as it is now (``context`` a CSS selector)."""
    try:
        from axe_playwright_python.sync_playwright import Axe
    except ImportError:
        pytest.skip("Python-paketet axe-playwright-python saknas")
    options = {"runOnly": {"type": "tag", "values": WCAG_TAGS}, "resultTypes": ["violations"]}
    result = Axe().run(page, context=context, options=options)
    return list(result.response.get("violations", []))


def serious(violations: list[dict]) -> list[dict]:
    """The violations of impact serious or critical."""
    return [v for v in violations if v.get("impact") in BLOCKING]


def counts(violations: list[dict]) -> Counter:
    """Violating elements per rule id."""
    return Counter({v["id"]: len(v.get("nodes", [])) for v in violations})


def describe(violations: list[dict], limit: int = 5) -> str:
    """Rule id, impact, help and up to ``limit`` targets per violation, one rule a line."""
    lines = []
    for v in violations:
        targets = [" ".join(map(str, n.get("target", []))) for n in v.get("nodes", [])]
        more = f" (+{len(targets) - limit})" if len(targets) > limit else ""
        lines.append(f"{v['id']} [{v.get('impact')}] {v.get('help', '')}: {'; '.join(targets[:limit])}{more}")
    return "\n".join(lines)


def assert_accessible(page, where: str = "", *, context: str | None = None) -> list[dict]:
    """Scan the page; fail with the rule ids and targets when a violation is serious or critical.
    Returns every violation found (the minor and moderate ones too)."""
    found = scan(page, context=context)
    bad = serious(found)
    assert not bad, f"axe-core: {len(bad)} allvarliga brister {where}\n{describe(bad)}"
    return found
