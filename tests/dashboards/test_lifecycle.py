"""Kernels that last a meeting: viewers come and go, and the server ends up where it started.

``insats serve`` runs for real with a small cap and a short ``--left-timeout``; headless Chromium
plays the viewers. Checked: a full server answers HTTP 503 with a Swedish page; every viewer's
kernel ends when the viewer leaves — by navigating away (or closing the tab: the same unload
events), or silently (no leave beacon, as from a crashed browser or a lost network) — and the
kernel count returns to the pool size, counted both by the server and as kernel processes. The test checks counts with
a generous deadline, never a time.
"""

from __future__ import annotations

import contextlib
import stat
import urllib.error
import urllib.request
from pathlib import Path

import psutil
import pytest

from insats.reports.sharing import ENV_SHARED
from tests.support.browser import offline_browser, require_chromium, running_serve, wait_for_charts

pytestmark = [pytest.mark.browser, pytest.mark.slow]

# Utvärdering alone (the small Sundbyberg study): one pre-started kernel, two viewers at most.
ARGS = ("--params", "params/sundbyberg_2016.yaml", "--pool-size", "1", "--max-viewers", "2", "--left-timeout", "4")
POOL = 1


def _error_pages_are_swedish(server) -> None:
    """Any wrong address gets a Swedish page without technical detail: a dashboard that is not
    served, a path nobody serves, a file Voila will not give out."""
    for path, status in (
        ("/voila/render/jamfor_omraden.ipynb", 404),  # only Utvärdering is served here
        ("/finns/inte", 404),
        ("/voila/files/utvardering.ipynb", 403),
    ):
        with pytest.raises(urllib.error.HTTPError) as info:
            urllib.request.urlopen(server.base + path, timeout=30)
        assert info.value.code == status, path
        page = info.value.read().decode("utf-8")
        assert '<html lang="sv">' in page and "Till instrumentpanelerna" in page, path
        for english in ("Not Found", "Forbidden", "Traceback", "does not exist", "You are requesting"):
            assert english not in page, (path, english)


def _shared_folder(server) -> Path:
    """The kernels' sharing folder (``insats.reports.sharing``), as the server hands it to them."""
    for proc in psutil.Process(server.proc.pid).children(recursive=True):
        with contextlib.suppress(psutil.Error):
            folder = proc.environ().get(ENV_SHARED)
            if folder:
                return Path(folder)
    raise AssertionError("no process of the server has INSATS_SHARED_DIR")


def test_viewers_leave_and_kernels_return_to_the_pool(tmp_path):
    require_chromium()
    with running_serve(*ARGS, log_dir=tmp_path) as server, offline_browser() as browser:
        server.wait(lambda s: s["pooled"] == POOL and s["pool_rendered"] == POOL, timeout=120, sleep=browser.pause)
        assert len(server.kernel_processes()) == POOL
        # the pool kernel computed the study's publication once and left it for the others, in a
        # folder only this user can open
        shared = _shared_folder(server)
        assert stat.S_IMODE(shared.stat().st_mode) == 0o700
        (stored,) = shared.glob("publicering-*.pickle")
        first_write = stored.stat().st_ino
        _error_pages_are_swedish(server)

        viewers = [browser.new_page(), browser.new_page()]
        for page in viewers:  # both load at the same time
            page.goto(server.url("utvardering"), wait_until="commit", timeout=60_000)
        for page in viewers:
            wait_for_charts(page, 1, timeout=90_000)
        status = server.status()
        assert status["viewers"] == 2

        # a third viewer: full. HTTP 503 and a Swedish page, no English, no new kernel
        third = browser.new_page()
        response = third.goto(server.url("utvardering"), timeout=30_000)
        assert response.status == 503 and response.headers.get("retry-after") == "30"
        text = third.inner_text("body")
        assert "Fullt just nu – försök igen om en stund" in text and "2 samtidigt" in text
        for english in ("Service Unavailable", "error", "Error", "try again"):
            assert english not in text
        assert server.status()["viewers"] == 2
        third.context.close()

        # leaving: one navigates away (its leave beacon), one goes silently (no beacon, as from a
        # crashed browser or a lost network: the server sees the connection close and ends the
        # kernel after --left-timeout)
        viewers[1].evaluate("() => { navigator.sendBeacon = () => true; }")
        viewers[0].goto("about:blank")
        viewers[1].context.close()
        final = server.wait(lambda s: s["viewers"] == 0 and s["kernels"] == POOL, timeout=90, sleep=browser.pause)
        assert final["pooled"] == POOL
        server.wait(lambda s: len(server.kernel_processes()) == POOL, timeout=30, sleep=browser.pause)
        assert viewers[0].blocked == []

        # three kernels later (two viewers' replacements), still the one publication, never rewritten
        assert [p.stat().st_ino for p in shared.glob("publicering-*.pickle")] == [first_write]

        log = server.log_text()
        assert "Sidan lämnades; stänger kärnan" in log  # the beacon
        assert "ingen sida har varit ansluten" in log  # the silent one, culled
        assert "_xsrf' argument missing" not in log
    assert not shared.exists(), "the sharing folder outlives the server"
