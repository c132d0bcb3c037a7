"""WCAG 2.1 AA in the dashboards, in the real browser: axe-core finds nothing serious or critical when a
dashboard opens and after a change made from the keyboard; Tab reaches every control, and the
keyboard alone changes what is shown (arrow keys on a dropdown, arrow keys between tabs).

One page per dashboard on the shared server (``conftest.server``); network cut off."""

from __future__ import annotations

import pytest

from tests.support.axe import assert_accessible
from tests.support.browser import offline_page, wait_for_charts

pytestmark = [pytest.mark.browser, pytest.mark.slow]

CONTROLS = (
    ".insats-dash select, .insats-dash button, .insats-dash input, .insats-dash textarea, "
    ".insats-dash summary, .insats-dash a[href], .insats-dash [role=tab][tabindex='0']"
)
"""What a keyboard user must reach: form controls, buttons, links, the chart tables' "Visa tabell", and a
tab list (one stop: its tabs are chosen with the arrow keys, as WAI-ARIA's tabs pattern says)."""

MARK_JS = f"""() => {{
    const shown = Array.from(document.querySelectorAll("{CONTROLS}")).filter(
        e => e.offsetParent !== null && !e.disabled && e.getClientRects().length);
    shown.forEach((e, i) => e.setAttribute('data-kb', String(i)));
    return shown.map(e => e.tagName + ' ' + (e.textContent || '').trim().slice(0, 30));
}}"""
ACTIVE_JS = "() => { const e = document.activeElement; return e ? e.getAttribute('data-kb') : null; }"
IN_DISTRICT_JS = "() => !!(document.activeElement && document.activeElement.closest('.insats-district'))"
FIRST_SVG = """() => { const s = document.querySelector('.vega-embed svg.marks');
                       return s ? s.outerHTML : ''; }"""
SELECTED_TAB = """() => { const t = document.querySelector('.insats-dash [role=tab][aria-selected=true]');
                          return t ? t.textContent.trim() : null; }"""
HEADINGS = """() => Array.from(document.querySelectorAll('.insats-dash h1, .insats-dash h2'))
    .map(h => h.tagName + ' ' + h.textContent.trim())"""


def _tab_until(page, predicate_js: str, limit: int) -> bool:
    for _ in range(limit):
        page.keyboard.press("Tab")
        if page.evaluate(predicate_js):
            return True
    return False


@pytest.mark.parametrize("name", ["jamfor_omraden", "omradesprofil", "utvardering"])
def test_dashboard_is_accessible_and_keyboard_operable(server, name):
    with offline_page() as page:
        page.goto(f"{server['base']}/voila/render/{name}.ipynb", wait_until="commit", timeout=120_000)
        wait_for_charts(page, 1, timeout=120_000)
        page.wait_for_timeout(500)

        # headings a screen reader can navigate by: one h1, a h2 per section
        headings = page.evaluate(HEADINGS)
        assert [h for h in headings if h.startswith("H1")] and len([h for h in headings if h.startswith("H2")]) >= 2

        assert_accessible(page, f"i {name} när sidan öppnas")
        # the chart says what it shows: a name for screen readers and a sentence under it
        assert page.evaluate("document.querySelectorAll('.insats-dash [role=graphics-document][aria-label]').length")
        assert page.evaluate("document.querySelectorAll('.insats-dash figcaption.insats-lasning').length")

        # Tab alone reaches every control on the page
        controls = page.evaluate(MARK_JS)
        assert len(controls) >= 4, controls
        reached: set[str] = set()
        page.evaluate("() => document.activeElement && document.activeElement.blur()")
        for _ in range(len(controls) + 10):
            page.keyboard.press("Tab")
            k = page.evaluate(ACTIVE_JS)
            if k is not None:
                reached.add(k)
        missing = [controls[int(i)] for i in sorted(set(map(str, range(len(controls)))) - reached, key=int)]
        assert missing == [], f"Tab når inte: {missing}"

        # the district is changed from the keyboard: the chart is redrawn
        before = page.evaluate(FIRST_SVG)
        assert _tab_until(page, IN_DISTRICT_JS, len(controls) + 5)
        page.keyboard.press("ArrowDown")
        page.wait_for_function(
            f"(before) => ({FIRST_SVG})() !== before && ({FIRST_SVG})() !== ''", arg=before, timeout=60_000
        )

        # tabs (where the dashboard has them) are chosen with the arrow keys
        if page.evaluate(SELECTED_TAB) is not None:
            first = page.evaluate(SELECTED_TAB)
            assert _tab_until(page, "() => document.activeElement.getAttribute('role') === 'tab'", len(controls) + 5)
            page.keyboard.press("ArrowRight")
            page.keyboard.press("Enter")
            page.wait_for_function(f"(first) => ({SELECTED_TAB})() !== first", arg=first, timeout=30_000)

        page.wait_for_timeout(1500)  # the redraw and the new tab's charts settle
        assert_accessible(page, f"i {name} efter ändring med tangentbordet")
        assert page.blocked == []
