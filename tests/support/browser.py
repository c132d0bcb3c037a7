"""Shared helper for browser tests: headless Debian Chromium via Playwright, network cut off.

``offline_page()`` yields a Playwright page whose every request to anything but ``file://``,
``data:``/``blob:`` or the local machine (127.0.0.1, localhost, ::1) is aborted and recorded in
``page.blocked`` — so a test can assert that nothing tried to leave the machine. Tests using it
are marked ``@pytest.mark.browser`` and skipped (with a reason) when ``/usr/bin/chromium`` or the
Playwright package is missing; CI installs both. Playwright's own browser download is not used.
"""

from __future__ import annotations

import contextlib
import os
import shutil
from urllib.parse import urlparse

import pytest

CHROMIUM = os.environ.get("INSATS_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-dev-shm-usage",
]
LOCAL_HOSTS = {"127.0.0.1", "localhost", "::1", "[::1]"}


def require_chromium() -> None:
    """Skip the calling test cleanly when no browser is available."""
    if not (os.path.exists(CHROMIUM) or shutil.which(CHROMIUM)):
        pytest.skip(f"Chromium saknas ({CHROMIUM}); installera med apt-get install chromium")
    try:
        import playwright.sync_api  # noqa: F401  (only to learn whether it is installed)
    except ImportError:
        pytest.skip("Python-paketet playwright saknas")


def is_local(url: str) -> bool:
    parsed = urlparse(url)
    if parsed.scheme in ("file", "data", "blob", "about"):
        return True
    return (parsed.hostname or "") in LOCAL_HOSTS


@contextlib.contextmanager
def offline_page(*, viewport=(1280, 900)):
    """A Chromium page with all non-local requests aborted; ``page.blocked`` lists them,
    ``page.console_errors`` the console errors and page errors."""
    require_chromium()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        try:
            context = browser.new_context(
                viewport={"width": viewport[0], "height": viewport[1]}, service_workers="block"
            )
            blocked: list[str] = []
            errors: list[str] = []

            def route(r):
                url = r.request.url
                if is_local(url):
                    r.continue_()
                else:
                    blocked.append(url)
                    r.abort()

            context.route("**/*", route)
            # websockets do not go through route(): record any non-local one as well
            page = context.new_page()
            page.on("websocket", lambda ws: None if is_local(ws.url) else blocked.append(ws.url))
            page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
            page.on("pageerror", lambda e: errors.append(str(e)))
            page.blocked = blocked  # type: ignore[attr-defined]  # the findings travel with the page
            page.console_errors = errors  # type: ignore[attr-defined]  # (read by the tests)
            yield page
        finally:
            browser.close()


DRAWN_JS = """() => Array.from(document.querySelectorAll('.vega-embed')).filter(
    el => el.querySelector('svg.marks, canvas.marks')).length"""
"""JavaScript that counts vega-embed containers holding a drawn chart."""


def wait_for_charts(page, count: int = 1, timeout: float = 30_000) -> int:
    """Wait until at least ``count`` charts are drawn; returns how many are."""
    page.wait_for_function(f"() => ({DRAWN_JS})() >= {count}", timeout=timeout)
    return page.evaluate(DRAWN_JS)


def chart_texts(page) -> list[str]:
    """Every text drawn in the charts' SVG (axis labels, titles, text marks)."""
    return page.evaluate("""() => Array.from(document.querySelectorAll('.vega-embed svg text'))
        .map(t => t.textContent)""")
