"""A keyboard user walking a dashboard: Tab from control to control and operate each one, with no mouse.

``KeyboardWalk(page, folder).run()`` presses Tab through the dashboard (``.insats-dash``) until every
control that has been on the screen has been operated and every tab of a tab list has been chosen.
Each time, it lists the controls shown (``found``: what a keyboard user can reach — form controls,
buttons, links, summaries, the focusable table boxes and the tabs) and operates the focused one,
asserting that the operation changed what is shown:

* a dropdown (``<select>``): Arrow Down (Arrow Up from the last option) chooses the next option, the
  district dropdown also by type-ahead (the first letters of another district), and Home plus
  Arrow Down back to the first choice; each change must redraw the first chart on the screen;
* toggle buttons (``ToggleButtons``): Space on the one not chosen, Enter on the first one again;
  the choice (``mod-active``) and the chart change each time;
* a tab list: Arrow Right and Enter choose the next tab, Home and Enter the first again; the chosen
  tab (``aria-selected``) and the panel shown change, and the walk goes on through each panel;
* a download button: Enter makes the file and shows its *Spara …* link; Tab to the link and Enter
  downloads it (Playwright's ``expect_download``), and the file is checked: an XLSX holds the
  view's table as shown with its numbers stored as numbers, a CSV the same table as text, a PNG
  is an image;
* a chart's menu (``<summary>``): Enter opens it, Tab and Enter on *Spara som SVG* and *Spara som
  PNG* download the images, Enter on the menu closes it; *Visa tabell* opens and closes its table;
* a focusable table box (``role=region``): on a narrow screen (480 px) the arrow keys scroll it.

``operated`` and ``found`` are sets of keys (kind, view and label): a control the walk has no
keyboard operation for stays unoperated, so ``found - operated`` names it.
"""

from __future__ import annotations

import csv
import io
import re
import struct
import time
from pathlib import Path

import openpyxl

from tests.support.workbook import _number, html_tables, sheet_mismatches

SETUP_JS = r"""() => {
  if (window.__kb) return;
  const viewOf = e => e.closest('[class*="insats-view-"]');
  const stemOf = v => v ? v.className.match(/insats-view-(\S+)/)[1] : '';
  const text = e => (e.textContent || '').replace(/\s+/g, ' ').trim();
  const nth = (e, sel) => { const v = viewOf(e); return v ? Array.from(v.querySelectorAll(sel)).indexOf(e) : -1; };
  function key(e) {
    if (!e || !e.closest('.insats-dash')) return null;
    const stem = stemOf(viewOf(e));
    if (e.matches('select')) {
      const label = e.closest('.widget-dropdown') && e.closest('.widget-dropdown').querySelector('label');
      return 'select:' + (label ? text(label) : e.id);
    }
    if (e.matches('.widget-toggle-button')) return 'toggle:' + text(e);
    if (e.getAttribute('role') === 'tab') return 'tab:' + text(e);
    const dl = e.matches('button') && e.className.match(/insats-dl-(\w+)/);
    if (dl) return 'download:' + stem + '.' + dl[1];
    if (e.matches('a.insats-download')) return 'link:' + e.getAttribute('download');
    if (e.matches('.vega-embed summary')) return 'chart-menu:' + stem + ':' + nth(e, '.vega-embed summary');
    if (e.matches('.vega-actions a')) {
      const chart = nth(e.closest('.vega-embed'), '.vega-embed');
      return 'chart-image:' + stem + ':' + chart + ':' + (e.getAttribute('download') || text(e));
    }
    if (e.matches('details.insats-diagramtabell > summary'))
      return 'chart-table:' + stem + ':' + nth(e, 'details.insats-diagramtabell > summary');
    if (e.getAttribute('role') === 'region') return 'table-box:' + stem + ':' + nth(e, '[role=region]');
    const what = e.getAttribute('role') || (e.matches('input') ? e.type : '');
    return 'other:' + e.tagName.toLowerCase() + ':' + what + ':' + (e.getAttribute('aria-label') || text(e)).slice(0, 40);
  }
  const CONTROLS = 'select, button, input, textarea, summary, a[href], [tabindex], [role=tab], [contenteditable]';
  const shown = e => e.getClientRects().length > 0 && getComputedStyle(e).visibility !== 'hidden';
  function found() {
    const out = [];
    document.querySelectorAll('.insats-dash').forEach(root => root.querySelectorAll(CONTROLS).forEach(e => {
      if (shown(e) && !e.disabled && (e.tabIndex >= 0 || e.getAttribute('role') === 'tab')) out.push(key(e));
    }));
    return out;
  }
  function chartSignature() {
    const svg = Array.from(document.querySelectorAll('.insats-dash .vega-embed svg.marks')).find(shown);
    return svg ? svg.outerHTML : '';
  }
  let lastChange = performance.now();
  new MutationObserver(() => { lastChange = performance.now(); }).observe(
    document.body, {childList: true, subtree: true, characterData: true});
  window.__kb = {key, found, chartSignature, view: e => viewOf(e), quietFor: () => performance.now() - lastChange};
}"""
ACTIVE = "() => window.__kb.key(document.activeElement)"
FOUND = "() => window.__kb.found()"
SIGNATURE = "() => window.__kb.chartSignature()"
REDRAWN = "(before) => { const now = window.__kb.chartSignature(); return now !== '' && now !== before; }"
SELECT_STATE = """() => { const s = document.activeElement;
    return {index: s.selectedIndex, labels: Array.from(s.options).map(o => o.textContent.replace(/\\s+/g, ' ').trim())}; }"""
TOGGLES = """() => Array.from(document.activeElement.parentElement.querySelectorAll('.widget-toggle-button'))
    .map(b => [b.textContent.trim(), b.classList.contains('mod-active')])"""
TABS = """() => Array.from(document.querySelectorAll('.insats-dash [role=tab]'))
    .map(t => [t.textContent.trim(), t.getAttribute('aria-selected') === 'true'])"""
PANEL_DRAWN = """() => Array.from(document.querySelectorAll('.insats-dash .widget-tab-contents > *'))
    .filter(p => p.getClientRects().length).some(p => p.querySelector('.vega-embed svg.marks, .insats-note'))"""
VIEW_TABLE = """() => { const v = window.__kb.view(document.activeElement);
    const t = Array.from(v.querySelectorAll('table')).filter(t => !t.closest('figure'));
    return t.length === 1 ? t[0].outerHTML : String(t.length); }"""
MENU_OPEN = "() => document.activeElement.parentElement.open"
LINK_STATE = """() => { const a = document.activeElement;
    return {href: (a.getAttribute('href') || '').slice(0, 40), download: a.getAttribute('download'),
            connected: a.isConnected, key: window.__kb.key(a)}; }"""
BOX_LEFT = "() => document.activeElement.querySelector('table').getBoundingClientRect().left"
SWEDISH_NUMBER = re.compile(r"^[−-]?\d{1,3}(?:[ \u00a0\u202f]?\d{3})*(?:,\d+)?(?: ?%| kr)?$")

DOWNLOAD_BURST, DOWNLOAD_WINDOW_S = 10, 1.5
"""Chromium drops a download beyond 10 in a second (``KeyboardWalk._press_for_download``); the walk
keeps 1.5 s between a download's key press and the tenth download before it (measured after that
download arrived, so the browser's own clock sees more than the second it counts)."""

DISTRICT_LABELS = ("Område", "Område i fokus")
"""Dropdowns also operated by type-ahead (their options are names a user types)."""


def _cells(text: str) -> str:
    return " ".join(text.split())


class KeyboardWalk:
    """Walk a dashboard page with the keyboard only (see the module docstring); ``folder`` receives
    the downloads. After ``run()``: ``found``, ``operated``, ``downloads`` (file name -> path) and
    ``log`` (what each operation did, for a failure message)."""

    def __init__(self, page, folder: Path, *, max_presses: int = 3000, narrow: int = 480):
        self.page, self.folder, self.max_presses, self.narrow = page, Path(folder), max_presses, narrow
        self.found: set[str] = set()
        self.operated: set[str] = set()
        self.downloads: dict[str, Path] = {}
        self.log: list[str] = []
        self._walked_tabs: set[str] = set()
        self._download_times: list[float] = []
        page.evaluate(SETUP_JS)

    # ------------------------------------------------------------------ the walk
    def run(self) -> KeyboardWalk:
        page = self.page
        page.evaluate("() => document.activeElement && document.activeElement.blur()")
        inside, progress = False, -1
        for _ in range(self.max_presses):
            page.keyboard.press("Tab")
            self.found.update(page.evaluate(FOUND))
            key = page.evaluate(ACTIVE)
            if key is None:  # past the last control: the walk starts over from the top
                if inside and self._done():
                    return self
                if inside and len(self.operated) == progress:
                    raise AssertionError(f"ett varv till med Tab använde inget nytt reglage; kvar: {self.missing()}")
                progress = len(self.operated) if inside else progress
                inside = False
                continue
            inside = True
            self._operate(key)
        raise AssertionError(f"tangentbordet nådde inte alla kontroller på {self.max_presses} tryck: {self.missing()}")

    def missing(self) -> list[str]:
        return sorted(self.found - self.operated)

    def _done(self) -> bool:
        self._settle()
        self.found.update(self.page.evaluate(FOUND))
        tabs = {f"tab:{t}" for t, _ in self.page.evaluate(TABS)}
        return not self.missing() and tabs <= self.operated

    def _operate(self, key: str) -> None:
        kind = key.split(":", 1)[0]
        if key in self.operated and kind != "tab":
            return
        op = {
            "select": self._select,
            "toggle": self._toggle,
            "tab": self._tab,
            "download": self._download,
            "chart-menu": self._chart_menu,
            "chart-table": self._chart_table,
            "table-box": self._table_box,
        }.get(kind)
        if op is not None:  # anything else stays in found - operated
            op(key)

    def _done_with(self, key: str, what: str) -> None:
        self.operated.add(key)
        self.log.append(f"{key}: {what}")

    def _settle(self, quiet_ms: int = 600, timeout_ms: int = 30_000) -> None:
        """Wait until the dashboard has stopped changing for ``quiet_ms`` (the kernel's answer drawn)."""
        self.page.wait_for_function(f"() => window.__kb.quietFor() >= {quiet_ms}", timeout=timeout_ms, polling=100)

    def _redraw(self, press: str, *, timeout: float = 60_000) -> None:
        """Press ``press`` and wait until the first chart on the screen is drawn anew."""
        before = self.page.evaluate(SIGNATURE)
        self.page.keyboard.press(press)
        self.page.wait_for_function(REDRAWN, arg=before, timeout=timeout)

    def _tab_to(self, key: str, *, back: bool = False, limit: int = 8) -> int:
        """Tab (Shift+Tab with ``back``) until ``key`` has the focus; returns the presses."""
        for n in range(1, limit + 1):
            self.page.keyboard.press("Shift+Tab" if back else "Tab")
            if self.page.evaluate(ACTIVE) == key:
                return n
        raise AssertionError(f"{key} nås inte med {'Shift+' if back else ''}Tab inom {limit} tryck")

    # ------------------------------------------------------------------ controls
    def _select(self, key: str) -> None:
        page = self.page
        state = page.evaluate(SELECT_STATE)
        start, labels = state["index"], state["labels"]
        assert len(labels) >= 2, f"{key}: {labels}"
        step = "ArrowUp" if start == len(labels) - 1 else "ArrowDown"
        self._redraw(step)
        moved = page.evaluate(SELECT_STATE)["index"]
        assert moved == start + (-1 if step == "ArrowUp" else 1), f"{key}: {step} gav alternativ {moved}"
        done = [f"{step} → {labels[moved]}"]
        if key.split(":", 1)[1] in DISTRICT_LABELS:
            typed, target = self._type_ahead_target(labels, {start, moved})
            before = page.evaluate(SIGNATURE)
            page.keyboard.type(typed)
            page.wait_for_function(REDRAWN, arg=before, timeout=60_000)
            got = page.evaluate(SELECT_STATE)["index"]
            assert got == target, f"{key}: '{typed}' valde {labels[got]}, inte {labels[target]}"
            done.append(f"skriver '{typed}' → {labels[target]}")
        before = page.evaluate(SIGNATURE)
        page.keyboard.press("Home")
        for _ in range(start):
            page.keyboard.press("ArrowDown")
        page.wait_for_function(REDRAWN, arg=before, timeout=60_000)
        assert page.evaluate(SELECT_STATE)["index"] == start, f"{key}: Home/ArrowDown återställde inte valet"
        done.append(f"Home{' + ArrowDown×' + str(start) if start else ''} → {labels[start]}")
        self._settle()
        self._done_with(key, ", ".join(done) + " (diagrammet ritas om varje gång)")

    @staticmethod
    def _type_ahead_target(labels: list[str], avoid: set[int]) -> tuple[str, int]:
        """Letters to type and the option they choose: the last option not in ``avoid`` whose first
        letters (ASCII, so that the keyboard can type them) no other option starts with."""
        for i in range(len(labels) - 1, -1, -1):
            if i in avoid:
                continue
            for n in range(2, len(labels[i]) + 1):
                typed = labels[i][:n]
                if not typed.isascii():
                    break
                if sum(lab.lower().startswith(typed.lower()) for lab in labels) == 1:
                    return typed, i
        raise AssertionError(f"inget alternativ att skriva fram: {labels}")

    def _toggle(self, key: str) -> None:
        page = self.page
        buttons = page.evaluate(TOGGLES)
        me = [f"toggle:{t}" for t, _ in buttons].index(key)
        if buttons[me][1]:
            return  # the chosen one: operated when another is chosen and this one again
        chosen = next(i for i, (_, on) in enumerate(buttons) if on)
        self._redraw("Space")
        assert page.evaluate(TOGGLES)[me][1], f"{key}: Space valde inte knappen"
        other = f"toggle:{buttons[chosen][0]}"
        n = self._tab_to(other, back=chosen < me)
        self._redraw("Enter")
        assert page.evaluate(TOGGLES)[chosen][1], f"{other}: Enter valde inte knappen"
        for _ in range(n):
            page.keyboard.press("Tab" if chosen < me else "Shift+Tab")
        assert page.evaluate(ACTIVE) == key
        self._settle()
        self._done_with(key, "Space väljer knappen, diagrammet ritas om")
        self._done_with(other, "Enter väljer knappen igen, diagrammet ritas om")

    def _tab(self, key: str) -> None:
        """On the tab list: the first visit walks the chosen tab's panel; later visits choose the next
        tab not yet walked (Arrow Right, Enter), at last the first tab again (Home, Enter) — once every
        control found so far is operated (none is left behind in a panel that is then hidden)."""
        page = self.page
        tabs = page.evaluate(TABS)
        current = next(i for i, (_, on) in enumerate(tabs) if on)
        if tabs[current][0] not in self._walked_tabs:
            self._walked_tabs.add(tabs[current][0])
            return
        self._settle()
        self.found.update(page.evaluate(FOUND))
        if [k for k in self.missing() if not k.startswith("tab:")]:  # a control came late: walk the panel again
            return
        todo = [i for i in range(len(tabs)) if tabs[i][0] not in self._walked_tabs]
        if todo:
            target = todo[0]
            if target > current:
                presses = ["ArrowRight"] * (target - current)
            else:
                presses = ["Home"] + ["ArrowRight"] * target
        elif f"tab:{tabs[0][0]}" not in self.operated:
            target, presses = 0, ["Home"]
        else:
            return
        for p in presses:
            page.keyboard.press(p)
        page.keyboard.press("Enter")
        title = tabs[target][0]
        page.wait_for_function(f"(t) => ({TABS})().some(([name, on]) => on && name === t)", arg=title, timeout=30_000)
        page.wait_for_function(PANEL_DRAWN, timeout=60_000)
        self._settle(quiet_ms=1000)
        self._walked_tabs.add(title)
        self._done_with(f"tab:{title}", f"{' '.join(presses)} Enter väljer fliken, dess panel visas")

    def _download(self, key: str) -> None:
        page = self.page
        name = key.split(":", 1)[1]
        page.keyboard.press("Enter")
        page.wait_for_function(
            """(name) => { const v = window.__kb.view(document.activeElement);
                return !!v.querySelector(`a.insats-download[download="${name}"]`) ||
                       /Inget att spara|kunde inte skapas/.test(v.textContent); }""",
            arg=name,
            timeout=60_000,
        )
        table = page.evaluate(VIEW_TABLE) if not name.endswith(".png") else None
        n = self._tab_to(f"link:{name}")
        download = self._press_for_download(f"link:{name}")
        assert download.suggested_filename == name
        path = self.folder / name
        download.save_as(path)
        what = self._check_file(path, table)
        self.downloads[name] = path
        for _ in range(n):
            page.keyboard.press("Shift+Tab")
        assert page.evaluate(ACTIVE) == key
        self._done_with(key, "Enter skapar länken till filen")
        self._done_with(f"link:{name}", f"Enter laddar ner {name}: {what}")

    def _press_for_download(self, key: str):
        """Enter on the focused link ``key``; returns Playwright's download.

        Chromium drops a page's download requests beyond 10 within a second (a guard against pages
        that flood the disk: blink's ``LocalFrame`` burst limit), silently. A person needs more than a
        second for ten downloads; the walk, pressing keys at machine speed through a tab of small
        tables, does not, and then a download never came (one in several runs). So the walk keeps at
        least ``DOWNLOAD_WINDOW_S`` between a download and the tenth before it, as a person would."""
        page = self.page
        if len(self._download_times) >= DOWNLOAD_BURST:
            wait = DOWNLOAD_WINDOW_S - (time.monotonic() - self._download_times[-DOWNLOAD_BURST])
            if wait > 0:
                page.wait_for_timeout(wait * 1000)
        try:
            with page.expect_download(timeout=30_000) as info:
                page.keyboard.press("Enter")
        except Exception as exc:  # say what the page knows: the link's target and its console errors
            state = page.evaluate(LINK_STATE)
            errors = getattr(page, "console_errors", [])
            raise AssertionError(f"{key}: ingen nedladdning ({exc}); länken {state}; konsolen {errors}") from exc
        self._download_times.append(time.monotonic())
        return info.value

    def _check_file(self, path: Path, table_html: str | None) -> str:
        data = path.read_bytes()
        if path.suffix == ".png":
            return _check_png(data)
        assert table_html and table_html.startswith("<table"), f"{path.name}: vyns tabell saknas ({table_html})"
        rows = html_tables(table_html)[0]
        if path.suffix == ".xlsx":
            wb = openpyxl.load_workbook(io.BytesIO(data))
            ws = wb.active
            problems = sheet_mismatches(ws, rows)
            assert problems == [], f"{path.name}: {problems[:5]}"
            as_text = [
                c.coordinate
                for row in ws.iter_rows(min_row=2, min_col=2)
                for c in row
                if isinstance(c.value, str) and _number(c.value) is not None
            ]
            assert as_text == [], f"{path.name}: tal sparade som text i {as_text[:5]}"
            numbers = sum(isinstance(c.value, (int, float)) for row in ws.iter_rows(min_row=2) for c in row)
            return f"XLSX, bladet {ws.title!r} = tabellen på sidan, {numbers} tal som tal"
        text = data.decode("utf-8-sig")
        got = [[_cells(c) for c in row] for row in csv.reader(io.StringIO(text), delimiter=";")]
        assert got == rows, f"{path.name}: CSV {got[:3]} ≠ sidan {rows[:3]}"
        numbers = sum(bool(SWEDISH_NUMBER.match(c)) for row in got[1:] for c in row)
        return f"CSV (semikolon, UTF-8) = tabellen på sidan, {numbers} tal"

    def _chart_menu(self, key: str) -> None:
        page = self.page
        page.keyboard.press("Enter")
        assert page.evaluate(MENU_OPEN), f"{key}: Enter öppnade inte menyn"
        links = [k for k in page.evaluate(FOUND) if k.startswith("chart-image:" + key.split(":", 1)[1] + ":")]
        assert links, f"{key}: menyn har inga länkar"
        self.found.update(links)
        presses, saved = 0, []
        for link in links:
            presses += self._tab_to(link)
            download = self._press_for_download(link)
            data = Path(download.path()).read_bytes()
            ext = download.suggested_filename.rsplit(".", 1)[-1]
            if ext == "png":
                what = _check_png(data)
            else:
                assert ext == "svg" and b"<svg" in data[:500] and b"<text" in data, f"{link}: {data[:80]!r}"
                what = "SVG med diagrammets text"
            saved.append(ext.upper())
            self._done_with(link, f"Tab och Enter sparar bilden: {what}")
        for _ in range(presses):
            page.keyboard.press("Shift+Tab")
        assert page.evaluate(ACTIVE) == key
        page.keyboard.press("Enter")
        assert not page.evaluate(MENU_OPEN), f"{key}: Enter stängde inte menyn"
        self._done_with(key, f"Enter öppnar menyn, {' och '.join(saved)} sparas, Enter stänger den")

    def _chart_table(self, key: str) -> None:
        page = self.page
        page.keyboard.press("Enter")
        rows = page.evaluate(
            """() => { const d = document.activeElement.parentElement; const t = d.querySelector('table');
                return d.open && t && t.getClientRects().length ? t.rows.length : 0; }"""
        )
        assert rows >= 2, f"{key}: Enter visade ingen tabell"
        page.keyboard.press("Enter")
        assert not page.evaluate(MENU_OPEN), f"{key}: Enter dolde inte tabellen"
        self._done_with(key, f"Enter visar diagrammets tabell ({rows} rader), Enter döljer den")

    def _table_box(self, key: str) -> None:
        """A wide table's box: on a narrow screen Arrow Right scrolls the table sideways."""
        page = self.page
        size = page.viewport_size
        page.set_viewport_size({"width": self.narrow, "height": size["height"]})
        try:
            page.wait_for_timeout(200)
            left = page.evaluate(BOX_LEFT)
            for _ in range(5):
                page.keyboard.press("ArrowRight")
            page.wait_for_function(f"() => ({BOX_LEFT})() < {left} - 20", timeout=5_000)
            moved = left - page.evaluate(BOX_LEFT)
            for _ in range(5):
                page.keyboard.press("ArrowLeft")
        finally:
            page.set_viewport_size(size)
        assert page.evaluate(ACTIVE) == key
        self._settle(quiet_ms=300)
        self._done_with(key, f"{self.narrow} px bred skärm: ArrowRight flyttar tabellen {moved:.0f} px åt sidan")


def _check_png(data: bytes) -> str:
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and data[12:16] == b"IHDR", f"ingen PNG: {data[:16]!r}"
    width, height = struct.unpack(">II", data[16:24])
    assert width > 100 and height > 50, (width, height)
    return f"PNG {width}×{height}"
