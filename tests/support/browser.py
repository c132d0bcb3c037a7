"""Shared helper for browser tests: headless Debian Chromium via Playwright, network cut off.

``offline_page()`` yields a Playwright page whose every request to anything but ``file://``,
``data:``/``blob:`` or the local machine (127.0.0.1, localhost, ::1) is aborted and recorded in
``page.blocked`` — so a test can assert that nothing tried to leave the machine. ``offline_browser()``
yields a browser whose ``new_page()`` gives such a page in a context of its own (a viewer with an
empty cache), for tests and benchmarks with several viewers. Tests using them are marked
``@pytest.mark.browser`` and skipped (with a reason) when ``/usr/bin/chromium`` or the Playwright
package is missing; CI installs both. Playwright's own browser download is not used.

``running_serve()`` starts ``insats serve`` for real on a free port and gives its status
(``/insats/status``), its kernel processes and the memory of its whole process tree.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from urllib.parse import urlparse

import psutil
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
        import playwright.sync_api  # noqa: F401
    except ImportError:
        pytest.skip("Python-paketet playwright saknas")


def is_local(url: str) -> bool:
    parsed = urlparse(url)
    if parsed.scheme in ("file", "data", "blob", "about"):
        return True
    return (parsed.hostname or "") in LOCAL_HOSTS


def _offline_context(browser, viewport=(1280, 900)):
    """A new context (empty cache) whose page records blocked requests and console errors."""
    context = browser.new_context(viewport={"width": viewport[0], "height": viewport[1]}, service_workers="block")
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
    page.blocked = blocked  # type: ignore[attr-defined]
    page.console_errors = errors  # type: ignore[attr-defined]
    return page


class OfflineBrowser:
    """One Chromium; ``new_page()`` opens a viewer in a context of its own.

    Playwright's synchronous API handles the pages' requests (the offline route) only while the
    test is inside a Playwright call: wait with ``pause()``, never ``time.sleep``, while pages live.
    """

    def __init__(self, browser):
        self.browser = browser
        self._idle = None

    def new_page(self, *, viewport=(1280, 900)):
        return _offline_context(self.browser, viewport)

    def pause(self, seconds: float) -> None:
        """Wait ``seconds`` while the pages keep loading and sending (their requests are served)."""
        if self._idle is None or self._idle.is_closed():
            self._idle = self.browser.new_page()
        self._idle.wait_for_timeout(seconds * 1000)


@contextlib.contextmanager
def offline_browser():
    """A headless Chromium for several offline viewers (see ``OfflineBrowser``)."""
    require_chromium()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        try:
            yield OfflineBrowser(browser)
        finally:
            browser.close()


@contextlib.contextmanager
def offline_page(*, viewport=(1280, 900)):
    """A Chromium page with all non-local requests aborted; ``page.blocked`` lists them,
    ``page.console_errors`` the console errors and page errors."""
    with offline_browser() as browser:
        yield browser.new_page(viewport=viewport)


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


# --------------------------------------------------------------------------- the server under test
class Serve:
    """A running ``insats serve``: its address, status, kernel processes and memory."""

    def __init__(self, proc: subprocess.Popen, port: int, log: Path):
        self.proc, self.port, self.log = proc, port, log
        self.base = f"http://127.0.0.1:{port}"

    def url(self, notebook: str) -> str:
        return f"{self.base}/voila/render/{notebook}.ipynb"

    def status(self) -> dict:
        """``/insats/status``: kernels, pooled, pool_rendered, viewers, max_viewers."""
        with urllib.request.urlopen(self.base + "/insats/status", timeout=10) as resp:
            return json.load(resp)

    def processes(self) -> list:
        """The server and every process below it (psutil)."""
        root = psutil.Process(self.proc.pid)
        return [root, *root.children(recursive=True)]

    def kernel_processes(self) -> list:
        """The kernel processes (``ipykernel_launcher``) running under the server."""
        return [p for p in self.processes()[1:] if _is_kernel(p)]

    def rss(self) -> int:
        """Bytes of resident memory of the whole process tree (server, kernels)."""
        total = 0
        for p in self.processes():
            with contextlib.suppress(psutil.Error):
                total += p.memory_info().rss
        return total

    def wait(self, predicate, timeout: float, interval: float = 0.5, sleep=time.sleep) -> dict:
        """Poll the status until ``predicate(status)`` holds; returns it (or fails with the last one).
        With pages open, pass ``sleep=browser.pause`` (see ``OfflineBrowser``)."""
        deadline = time.monotonic() + timeout
        status = self.status()
        while not predicate(status):
            if time.monotonic() > deadline:
                raise AssertionError(f"servern nådde inte målet inom {timeout:.0f} s; status: {status}")
            sleep(interval)
            status = self.status()
        return status

    def log_text(self) -> str:
        return self.log.read_text(encoding="utf-8", errors="replace")


def _is_kernel(p) -> bool:
    try:
        return "ipykernel_launcher" in " ".join(p.cmdline())
    except psutil.Error:  # the process ended meanwhile
        return False


@contextlib.contextmanager
def running_serve(*args: str, log_dir: Path, cwd: Path | None = None, timeout: float = 120):
    """``insats serve --no-browser --port <free> ARGS`` until the block ends (then terminated)."""
    from insats.dashboards.serve import free_port, wait_ready

    root = Path(__file__).resolve().parents[2]
    port = free_port()
    log = Path(log_dir) / f"serve-{port}.log"
    cmd = [sys.executable, "-m", "insats.cli", "serve", "--no-browser", "--port", str(port), *args]
    with open(log, "wb") as fh:
        proc = subprocess.Popen(cmd, cwd=cwd or root, stdout=fh, stderr=subprocess.STDOUT)
    server = Serve(proc, port, log)
    try:
        if not wait_ready(port, timeout=timeout, proc=proc):
            raise AssertionError("insats serve startade inte:\n" + server.log_text()[-3000:])
        yield server
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
