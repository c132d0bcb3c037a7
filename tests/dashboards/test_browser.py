"""The dashboards as a committee member sees them: ``insats serve`` started for real, headless
Chromium with every request that would leave the machine aborted and recorded.

Per dashboard: the charts are drawn, a change of district redraws the chart (the SVG differs),
no code is visible, a download gives a file, and a screenshot goes to ``test-artifacts/``
(with ``INSATS_UPDATE_SCREENSHOTS=1`` also to ``docs/img/`` for the README).
"""

from __future__ import annotations

import os
import shutil
import time
from pathlib import Path

import pytest

from tests.support import ROOT
from tests.support.browser import offline_page, wait_for_charts

pytestmark = [pytest.mark.browser]

ARTIFACTS = ROOT / "test-artifacts"
DOCS_IMG = ROOT / "docs" / "img"

FIRST_SVG = """() => { const s = document.querySelector('.vega-embed svg.marks');
                       return s ? s.outerHTML : ''; }"""
SCROLL_TOP_JS = """() => { window.scrollTo(0, 0);
    document.querySelectorAll('*').forEach(e => { if (e.scrollTop) e.scrollTop = 0; }); }"""
NO_CODE_JS = """() => ({inputs: document.querySelectorAll('.jp-InputArea, .jp-CodeMirrorEditor, .cm-editor, .CodeMirror').length,
                        text: document.body.innerText})"""


def _screenshot(page, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / f"dashboard_{name}.png"
    page.screenshot(path=str(path), full_page=False)
    if os.environ.get("INSATS_UPDATE_SCREENSHOTS"):
        DOCS_IMG.mkdir(parents=True, exist_ok=True)
        shutil.copy(path, DOCS_IMG / path.name)


def _download(page, view: str, kind: str, tmp_path: Path) -> Path:
    """Click a view's download button, then the link it makes; returns the saved file."""
    page.locator(f".insats-view-{view} .insats-dl-{kind}").first.click()
    link = page.locator(f'.insats-view-{view} a.insats-download[download$=".{kind}"]').first
    link.wait_for(timeout=60_000)
    with page.expect_download(timeout=30_000) as info:
        link.click()
    target = tmp_path / info.value.suggested_filename
    info.value.save_as(target)
    return target


def _change_district(page, index: int = 3, timeout: float = 30_000) -> float:
    """Pick another district; wait until the first chart's SVG differs. Returns seconds."""
    before = page.evaluate(FIRST_SVG)
    start = time.perf_counter()
    page.locator(".insats-district select").first.select_option(index=index)
    page.wait_for_function(
        f"(before) => ({FIRST_SVG})() !== before && ({FIRST_SVG})() !== ''", arg=before, timeout=timeout
    )
    return time.perf_counter() - start


def _open(page, server, name: str, charts: int = 1):
    page.goto(f"{server['base']}/voila/render/{name}.ipynb", wait_until="commit", timeout=120_000)
    return wait_for_charts(page, charts, timeout=120_000)


def _assert_no_code(page) -> None:
    seen = page.evaluate(NO_CODE_JS)
    assert seen["inputs"] == 0
    for code in ("from insats import", "dashboard.", "data_dir =", "Traceback"):
        assert code not in seen["text"]
    assert "Syntetiska exempeldata" in seen["text"]


def test_start_page_lists_only_the_dashboards(server):
    import urllib.error
    import urllib.request

    with offline_page() as page:
        page.goto(server["base"] + "/", timeout=60_000)
        links = page.locator("ul.insats-dashboards a").all_inner_texts()
        assert [t.splitlines()[0] for t in links] == ["Jämför områden", "Områdesprofil", "Utvärdering"]
        assert page.blocked == []
    for path in (
        "/voila/files/jamfor_omraden.ipynb",
        "/voila/files/../../data/exempel/stockholm/personer.csv",
        "/terminals/1",
        "/lab",
        "/api/contents/jamfor_omraden.ipynb",
    ):
        with pytest.raises(urllib.error.HTTPError):
            urllib.request.urlopen(server["base"] + path, timeout=10)
    html = urllib.request.urlopen(server["base"] + "/voila/api/contents/jamfor_omraden.ipynb", timeout=10).read()
    assert b"from insats import" not in html


def test_jamfor_omraden(server, tmp_path):
    with offline_page(viewport=(1280, 1100)) as page:
        assert _open(page, server, "jamfor_omraden") >= 1
        _assert_no_code(page)
        _change_district(page, 3)
        # the focus area is highlighted in the funnel plot too
        page.locator(".lm-TabBar-tab, .p-TabBar-tab").filter(has_text="Trattdiagram").first.click()
        page.wait_for_function("() => document.querySelectorAll('.vega-embed svg.marks').length >= 2", timeout=60_000)
        page.locator(".lm-TabBar-tab, .p-TabBar-tab").filter(has_text="Rangordning").first.click()
        xlsx = _download(page, "jamfor_rangordning", "xlsx", tmp_path)
        assert xlsx.name == "jamfor_rangordning.xlsx" and xlsx.read_bytes()[:2] == b"PK"
        png = _download(page, "jamfor_rangordning", "png", tmp_path)
        assert png.read_bytes()[:4] == b"\x89PNG"
        page.evaluate(SCROLL_TOP_JS)
        _screenshot(page, "jamfor_omraden")
        assert page.blocked == [], f"förfrågningar utanför datorn: {page.blocked}"


def test_omradesprofil(server, tmp_path):
    with offline_page(viewport=(1280, 1100)) as page:
        assert _open(page, server, "omradesprofil", charts=2) >= 2
        _assert_no_code(page)
        _change_district(page, 4)
        csv = _download(page, "omradesprofil_nyckeltal", "csv", tmp_path)
        text = csv.read_bytes().decode("utf-8-sig")
        assert text.startswith("Mått;") and "Hela studien" in text
        xlsx = _download(page, "omradesprofil_insatser", "xlsx", tmp_path)
        assert xlsx.read_bytes()[:2] == b"PK"
        page.evaluate(SCROLL_TOP_JS)
        _screenshot(page, "omradesprofil")
        assert page.blocked == [], f"förfrågningar utanför datorn: {page.blocked}"


def test_utvardering(server, tmp_path):
    with offline_page(viewport=(1280, 1100)) as page:
        assert _open(page, server, "utvardering") >= 1
        _assert_no_code(page)
        tabs = page.locator(".lm-TabBar-tab, .p-TabBar-tab").all_inner_texts()
        assert len([t for t in tabs if t[:2] in {"1.", "2.", "3.", "4.", "5."}]) == 5
        _change_district(page, 2)
        csv = _download(page, "utvardering_erbjudande", "csv", tmp_path)
        assert "Hela studien" in csv.read_bytes().decode("utf-8-sig")
        page.locator(".lm-TabBar-tab, .p-TabBar-tab").filter(has_text="5. En väg in").first.click()
        page.wait_for_function(
            "() => Array.from(document.querySelectorAll('.vega-embed svg text'))"
            ".some(t => t.textContent.includes('En väg in'))",
            timeout=60_000,
        )
        page.locator(".lm-TabBar-tab, .p-TabBar-tab").filter(has_text="1. Erbjudande").first.click()
        page.evaluate(SCROLL_TOP_JS)
        _screenshot(page, "utvardering")
        assert page.blocked == [], f"förfrågningar utanför datorn: {page.blocked}"
