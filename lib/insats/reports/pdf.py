"""Report pages as PDF for the nämnd's papers: A4, every table whole, page numbers, bookmarks.

``PdfPrinter`` drives a headless Chromium (the one the browser tests use, through Playwright) over
a report page written by ``insats.reports.export``: it waits until every chart is drawn, lays the
page out at the width of an A4 page with the print style sheet (``export.REPORT_CSS``), fits each
table to the page — first as it is, then in a smaller type, and a table still too wide gets a
landscape page of its own — and prints with a header (the report's title, the synthetic-data
marker) and a footer (date, page *n* av *m*), PDF bookmarks from the headings and a tagged
(accessible) PDF. Nothing is fetched from outside the machine: every request that is not a local
file or data is aborted.

One printer can print many pages (``insats run`` prints a run's reports with one or two
browsers); ``html_to_pdf`` prints one. A printer keeps one browser tab and opens each page in it in
turn: the browser then compiles the chart bundle's JavaScript (0.9 MB, inline in every page) once,
not once per page, which makes a page about a quarter faster to print. Each page is a fresh
document (nothing of the last page's state remains); a tab that fails is closed and the next page
gets a new one. A missing Chromium is an ``EnvironmentProblem`` with what to install.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import html
import os
import shutil
from pathlib import Path
from types import TracebackType
from typing import Any
from urllib.parse import urlparse

from insats.atomic import atomic_write
from insats.errors import EnvironmentProblem

__all__ = ["CHROMIUM", "CHROMIUM_ARGS", "DRAWN_JS", "PdfPrinter", "chromium_path", "html_to_pdf", "pdf_path_for"]

CHROMIUM = "/usr/bin/chromium"
"""Where Debian's Chromium lives; ``INSATS_CHROMIUM`` names another."""

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
"""Chromium without its own network traffic (updates, sync) and without a sandbox (containers)."""

DRAWN_JS = """() => Array.from(document.querySelectorAll('.vega-embed')).filter(
    el => el.querySelector('svg.marks, canvas.marks')).length"""
"""JavaScript that counts vega-embed containers holding a drawn chart."""

_CHARTS_JS = "() => document.querySelectorAll('.vega-embed').length"

# A4 less the margins of export.REPORT_CSS's @page rules, in CSS pixels (96 per inch).
_MM = 96 / 25.4
PORTRAIT_WIDTH = round((210 - 28) * _MM)
LANDSCAPE_WIDTH = round((297 - 28) * _MM)

_FIT_JS = """([portrait, landscape]) => {
  const wide = [];
  for (const table of document.querySelectorAll('table')) {
    if (table.closest('.vega-embed')) continue;
    const width = () => table.getBoundingClientRect().width;
    if (width() <= portrait + 1) continue;
    table.classList.add('insats-smal');
    if (width() <= portrait + 1) continue;
    const cell = table.closest('.jp-Cell') || table;
    cell.classList.add('insats-liggande');
    wide.push((table.querySelector('caption') || {}).textContent || '');
  }
  return wide;
}"""
"""Fit each table to a portrait page: smaller type, else a landscape page for its cell."""

_SYNTHETIC_JS = """() => Array.from(document.querySelectorAll('.insats-notis, blockquote')).some(
    el => /^\\s*Syntetiska exempeldata/.test(el.textContent))"""


def chromium_path() -> str:
    """The Chromium to drive: ``INSATS_CHROMIUM`` or Debian's; ``EnvironmentProblem`` when missing."""
    path = os.environ.get("INSATS_CHROMIUM", CHROMIUM)
    found = path if os.path.exists(path) else shutil.which(path)
    if not found:
        raise EnvironmentProblem(
            f"Chromium saknas ({path}), och den behövs för att skriva PDF. Installera den med "
            "'apt-get install chromium' eller ange en annan med miljövariabeln INSATS_CHROMIUM."
        )
    return found


def pdf_path_for(html_path: str | Path) -> Path:
    """The PDF beside a report page: ``kartlaggning.html`` → ``kartlaggning.pdf``."""
    return Path(html_path).with_suffix(".pdf")


def _is_local(url: str) -> bool:
    parsed = urlparse(url)
    if parsed.scheme in ("file", "data", "blob", "about"):
        return True
    return (parsed.hostname or "") in {"127.0.0.1", "localhost", "::1", "[::1]"}


def _header(title: str, synthetic: bool) -> str:
    marker = (
        '<span style="font-weight:bold;color:#8A1C00;margin-left:8mm">SYNTETISKA EXEMPELDATA</span>'
        if synthetic
        else ""
    )
    return (
        '<div style="font-size:8pt;font-family:sans-serif;color:#333;width:100%;margin:0 14mm;'
        'display:flex;justify-content:space-between">'
        f"<span>{html.escape(title)}</span>{marker}</div>"
    )


def _footer(date: str) -> str:
    return (
        '<div style="font-size:8pt;font-family:sans-serif;color:#333;width:100%;margin:0 14mm;'
        'display:flex;justify-content:space-between">'
        f"<span>Skapad {html.escape(date)}</span>"
        '<span>Sida <span class="pageNumber"></span> av <span class="totalPages"></span></span></div>'
    )


class PdfPrinter:
    """A headless Chromium that prints report pages to PDF; use as a context manager.

    ``chart_timeout`` (seconds) bounds the wait for a page's charts; a chart not drawn by then is
    printed as it stands (an empty frame) rather than holding up the run.
    """

    def __init__(self, *, chart_timeout: float = 60.0) -> None:
        self.chart_timeout = chart_timeout
        self._pw: Any = None
        self._browser: Any = None
        self._tab: tuple[Any, Any] | None = None
        """The context and page every ``print`` reuses (``_page``)."""
        self.blocked: list[str] = []
        """Addresses a page tried to fetch from outside the machine (aborted)."""

    def __enter__(self) -> PdfPrinter:
        executable = chromium_path()
        try:
            from playwright.sync_api import sync_playwright  # a heavy import, only when printing
        except ImportError as exc:
            raise EnvironmentProblem(
                "Python-paketet playwright saknas, och det behövs för att skriva PDF. Kör 'make setup' igen."
            ) from exc
        self._pw = sync_playwright().start()
        try:
            self._browser = self._pw.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS, headless=True)
        except Exception as exc:  # noqa: BLE001  (Playwright raises its own Error for any launch failure)
            self._pw.stop()
            raise EnvironmentProblem(f"Chromium ({executable}) gick inte att starta: {exc}") from None
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        try:
            self._close_tab()
            if self._browser is not None:
                self._browser.close()
        finally:
            if self._pw is not None:
                self._pw.stop()
            self._browser = self._pw = None

    def print(
        self,
        html_path: str | Path,
        pdf_path: str | Path | None = None,
        *,
        synthetic: bool | None = None,
        date: dt.date | None = None,
    ) -> Path:
        """Print one report page to ``pdf_path`` (default: beside it, ``.pdf``); returns the path.

        ``synthetic`` marks every page *syntetiska exempeldata*; by default the page decides (its
        synthetic-data notice). ``date`` goes in the footer (default: the page file's date).
        """
        if self._browser is None:
            raise RuntimeError("PdfPrinter används utanför with-blocket")
        html_path = Path(html_path).resolve()
        if not html_path.is_file():
            raise EnvironmentProblem(f"{html_path}: filen finns inte.")
        target = Path(pdf_path) if pdf_path is not None else pdf_path_for(html_path)
        if date is None:
            date = dt.date.fromtimestamp(html_path.stat().st_mtime)
        page = self._page()
        failed = True
        try:
            page.emulate_media(media="no-override")  # the page loads as on screen, as in a new tab
            page.goto(html_path.as_uri(), wait_until="load")
            page.emulate_media(media="print")
            self._wait_for_charts(page)
            # on paper a chart's data table cannot be opened by the reader: print it open
            page.evaluate(
                "() => document.querySelectorAll('details.insats-diagramtabell').forEach(d => { d.open = true; })"
            )
            page.evaluate(_FIT_JS, [PORTRAIT_WIDTH, LANDSCAPE_WIDTH])
            title = page.title() or html_path.stem
            if synthetic is None:
                synthetic = bool(page.evaluate(_SYNTHETIC_JS))
            data = page.pdf(
                format="A4",
                print_background=True,
                prefer_css_page_size=True,
                display_header_footer=True,
                header_template=_header(title, synthetic),
                footer_template=_footer(date.isoformat()),
                margin={"top": "20mm", "bottom": "18mm", "left": "14mm", "right": "14mm"},
                outline=True,
                tagged=True,
            )
            failed = False
        finally:
            if failed:  # a tab in an unknown state is not used again
                self._close_tab()
        return atomic_write(target, data)

    def _page(self) -> Any:
        """The tab pages are printed in: the same one each time, or a new one after a failure."""
        if self._tab is None:
            context = self._browser.new_context(
                viewport={"width": PORTRAIT_WIDTH, "height": 1100}, service_workers="block", java_script_enabled=True
            )
            try:
                context.route("**/*", self._route)
                self._tab = (context, context.new_page())
            except Exception:
                context.close()
                raise
        return self._tab[1]

    def _close_tab(self) -> None:
        if self._tab is not None:
            context, self._tab = self._tab[0], None
            with contextlib.suppress(Exception):  # a crashed tab or browser: nothing left to close
                context.close()

    def _route(self, route: Any) -> None:
        url = route.request.url
        if _is_local(url):
            route.continue_()
        else:
            self.blocked.append(url)
            route.abort()

    def _wait_for_charts(self, page: Any) -> None:
        total = page.evaluate(_CHARTS_JS)
        if not total:
            return
        try:
            page.wait_for_function(f"() => ({DRAWN_JS})() >= {int(total)}", timeout=self.chart_timeout * 1000)
        except Exception:  # noqa: BLE001  (a timeout: print what is drawn rather than fail the run)
            return
        # Vega draws asynchronously after the marks exist; let one frame pass.
        page.evaluate("() => new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)))")


def html_to_pdf(html_path: str | Path, pdf_path: str | Path | None = None, **options: Any) -> Path:
    """Print one report page to PDF (``PdfPrinter.print``) with a browser of its own."""
    with PdfPrinter() as printer:
        return printer.print(html_path, pdf_path, **options)
