"""WCAG 2.1 AA in the dashboards, in the real browser: axe-core finds nothing serious or critical when a
dashboard opens and after every control has been operated from the keyboard; the keyboard alone
reaches and operates every control (``tests.support.keyboard.KeyboardWalk``: dropdowns, toggle
buttons, tabs, download buttons and their links, the charts' menus and tables, the wide tables' boxes),
each operation visibly changing the page, and the downloaded files hold the tables as shown.

One page per dashboard on the shared server (``conftest.server``); network cut off."""

from __future__ import annotations

import pytest

from tests.support.axe import assert_accessible
from tests.support.browser import offline_page, wait_for_charts
from tests.support.keyboard import KeyboardWalk

pytestmark = [pytest.mark.browser, pytest.mark.slow]

HEADINGS = """() => Array.from(document.querySelectorAll('.insats-dash h1, .insats-dash h2'))
    .map(h => h.tagName + ' ' + h.textContent.trim())"""

KINDS = {
    "jamfor_omraden": {
        "select",
        "toggle",
        "tab",
        "download",
        "link",
        "chart-menu",
        "chart-image",
        "chart-table",
        "table-box",
    },
    "omradesprofil": {"select", "download", "link", "chart-menu", "chart-image", "table-box"},
    "utvardering": {"select", "tab", "download", "link", "chart-menu", "chart-image", "chart-table", "table-box"},
}
"""The kinds of control each dashboard has (``KeyboardWalk`` keys): a kind that disappears, or a new
one, is noticed here."""


@pytest.mark.parametrize("name", ["jamfor_omraden", "omradesprofil", "utvardering"])
def test_dashboard_is_accessible_and_keyboard_operable(server, name, tmp_path):
    with offline_page() as page:
        page.goto(f"{server['base']}/voila/render/{name}.ipynb", wait_until="commit", timeout=120_000)
        wait_for_charts(page, 1, timeout=120_000)
        page.wait_for_timeout(500)

        # the page says it is Swedish (WCAG 3.1.1: a screen reader reads it with Swedish speech)
        assert page.evaluate("document.documentElement.lang") == "sv"

        # headings a screen reader can navigate by: one h1, a h2 per section
        headings = page.evaluate(HEADINGS)
        assert [h for h in headings if h.startswith("H1")] and len([h for h in headings if h.startswith("H2")]) >= 2

        assert_accessible(page, f"i {name} när sidan öppnas")
        # the chart says what it shows: a name for screen readers and a sentence under it
        assert page.evaluate("document.querySelectorAll('.insats-dash [role=graphics-document][aria-label]').length")
        assert page.evaluate("document.querySelectorAll('.insats-dash figcaption.insats-lasning').length")

        # every control that appears is reached with Tab (the tabs with the arrow keys) and operated
        walk = KeyboardWalk(page, tmp_path).run()
        assert walk.missing() == [], "inte manövrerade med tangentbordet: " + ", ".join(walk.missing())
        assert walk.operated == walk.found
        assert {k.split(":", 1)[0] for k in walk.found} == KINDS[name], "\n".join(walk.log)
        assert {p.suffix for p in walk.downloads.values()} == {".xlsx", ".csv", ".png"}

        page.wait_for_timeout(500)
        assert_accessible(page, f"i {name} efter att varje kontroll använts med tangentbordet")
        assert page.blocked == []
