"""Benchmark: how fast the dashboards are in a real (headless) browser.

Measures, for a dashboard (default *Jämför områden* on the Stockholm example):

* **first chart**: from navigation to the first Vega chart drawn, with pre-started kernels
  (``insats serve`` default: ``preheat_kernel``, pool of 1), in a *cold* browser (new context,
  empty cache) and a *warm* one (same context, Voila's JavaScript cached);
* **baseline**: the same page from a server **without** pre-started kernels (the notebook runs
  when the page is requested) — the ratio shows what pre-heating buys;
* **district change**: from choosing another district to the redrawn chart (the SVG differs).

Medians of ``--runs`` runs. Between runs it waits until Voila's refilled pool kernel has
finished the notebook (the dashboards append to ``$INSATS_READY_FILE`` when built; Voila's own
"pool is filled" message comes when the kernel has *started*), so every preheated load really
gets a ready kernel.
Targets (DESIGN.md): first chart under 3 s, redraw under 0,5 s on a 2-core machine.

    .venv/bin/python benchmarks/dashboard.py [--runs 3] [--notebook jamfor_omraden] [--no-baseline]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # a script: the repository root makes the tests package importable

from insats.dashboards.common import READY_FILE_ENV  # noqa: E402  (after the sys.path line above)
from insats.dashboards.serve import free_port, start, wait_ready  # noqa: E402  (after the sys.path line above)
from tests.support.browser import CHROMIUM, CHROMIUM_ARGS, DRAWN_JS, is_local  # noqa: E402  (after the sys.path line above)

FIRST_SVG = """() => { const s = document.querySelector('.vega-embed svg.marks');
                       return s ? s.outerHTML : ''; }"""


class Server:
    def __init__(self, preheat: bool):
        self.port = free_port()
        self.log = Path(tempfile.mkstemp(prefix="insats-bench-", suffix=".log")[1])
        self.fh = open(self.log, "wb")  # noqa: SIM115  (open while the server runs; stop() closes it)
        self.ready = Path(tempfile.mkstemp(prefix="insats-ready-", suffix=".txt")[1])
        os.environ[READY_FILE_ENV] = str(self.ready)  # inherited by Voila and its kernels
        self.proc = start(port=self.port, preheat=preheat, stdout=self.fh, stderr=subprocess.STDOUT)
        if not wait_ready(self.port, timeout=120, proc=self.proc):
            raise SystemExit("Voila startade inte:\n" + self.log.read_text(errors="replace")[-2000:])

    def pools_filled(self, notebook: str) -> int:
        """How many kernels have finished building the dashboard (pre-heated or on request)."""
        lines = self.ready.read_text(encoding="utf-8").splitlines()
        return sum(1 for line in lines if line.split(" ")[0] == notebook)

    def wait_pool(self, notebook: str, count: int, timeout: float = 240) -> None:
        deadline = time.monotonic() + timeout
        while self.pools_filled(notebook) < count and time.monotonic() < deadline:
            time.sleep(0.5)

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
        self.fh.close()


def new_context(browser):
    ctx = browser.new_context(viewport={"width": 1280, "height": 1000}, service_workers="block")
    blocked: list[str] = []

    def route(r):
        if is_local(r.request.url):
            r.continue_()
        else:
            blocked.append(r.request.url)
            r.abort()

    ctx.route("**/*", route)
    ctx.blocked = blocked  # type: ignore[attr-defined]  # the blocked URLs travel with the context
    return ctx


def load(page, url: str) -> float:
    t0 = time.perf_counter()
    page.goto(url, wait_until="commit", timeout=180_000)
    page.wait_for_function(f"() => ({DRAWN_JS})() >= 1", timeout=180_000)
    return time.perf_counter() - t0


def district_change(page, index: int) -> float:
    before = page.evaluate(FIRST_SVG)
    t0 = time.perf_counter()
    page.locator(".insats-district select").first.select_option(index=index)
    page.wait_for_function(f"(b) => ({FIRST_SVG})() !== b && ({FIRST_SVG})() !== ''", arg=before, timeout=30_000)
    return time.perf_counter() - t0


def fmt(values: list[float]) -> str:
    return f"median {statistics.median(values):.2f} s  (" + ", ".join(f"{v:.2f}" for v in values) + ")"


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--notebook", default="jamfor_omraden")
    ap.add_argument("--changes", type=int, default=5, help="district changes per run")
    ap.add_argument("--no-baseline", action="store_true", help="skip the server without pre-started kernels")
    args = ap.parse_args(argv)
    from playwright.sync_api import sync_playwright

    nb = args.notebook
    cold, warm, changes, base = [], [], [], []
    blocked: list[str] = []
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        server = Server(preheat=True)
        try:
            url = f"http://127.0.0.1:{server.port}/voila/render/{nb}.ipynb"
            for run in range(args.runs):
                ctx = new_context(browser)
                page = ctx.new_page()
                server.wait_pool(nb, 2 * run + 1)
                cold.append(load(page, url))
                for i in range(args.changes):
                    changes.append(district_change(page, 2 + (i + run) % 8))
                server.wait_pool(nb, 2 * run + 2)
                warm.append(load(page, url))  # same context: Voila's JS from the browser cache
                blocked += ctx.blocked
                ctx.close()
        finally:
            server.stop()
        if not args.no_baseline:
            server = Server(preheat=False)
            try:
                url = f"http://127.0.0.1:{server.port}/voila/render/{nb}.ipynb"
                for _run in range(args.runs):
                    ctx = new_context(browser)
                    base.append(load(ctx.new_page(), url))
                    blocked += ctx.blocked
                    ctx.close()
            finally:
                server.stop()
        browser.close()

    print(f"Instrumentpanel: {nb}, {args.runs} körningar")
    print(f"första diagram, förstartad kärna, kall webbläsare : {fmt(cold)}")
    print(f"första diagram, förstartad kärna, varm webbläsare : {fmt(warm)}")
    if base:
        print(f"första diagram, utan förstartad kärna (baslinje)  : {fmt(base)}")
        print(
            f"kvot baslinje / förstartad (kall)                 : {statistics.median(base) / statistics.median(cold):.1f}×"
        )
    print(
        f"kvot kall / varm webbläsare                       : {statistics.median(cold) / statistics.median(warm):.1f}×"
    )
    print(f"byte av område till omritat diagram               : {fmt(changes)}")
    print(
        f"mål: första diagram < 3 s ({'uppfyllt' if statistics.median(warm) < 3 else 'ej uppfyllt'} varm, "
        f"{'uppfyllt' if statistics.median(cold) < 3 else 'ej uppfyllt'} kall); "
        f"omritning < 0,5 s ({'uppfyllt' if statistics.median(changes) < 0.5 else 'ej uppfyllt'})"
    )
    print(f"förfrågningar utanför datorn: {len(blocked)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
