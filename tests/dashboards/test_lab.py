"""JupyterLab as the utredare's workplace: ``make lab``'s configuration, for real.

A JupyterLab server (the configuration ``make lab`` uses; a free port, a token, temporary config,
runtime, data, settings and workspace folders) serves a copy of ``notebooks/kartlaggning.ipynb``;
headless Chromium opens it, runs all cells from the Run menu and waits for every chart to be
drawn. Nothing may be fetched from outside the machine: the browser aborts and records any such
request, and the server has its news feed, update check and extension listing switched off.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import shutil
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from insats.dashboards.serve import free_port
from tests.support import ROOT
from tests.support.browser import DRAWN_JS, offline_page, require_chromium

LAB_CONFIG = ROOT / "lib" / "insats" / "dashboards" / "lab" / "jupyter_lab_config.json"
NOTEBOOK = ROOT / "notebooks" / "kartlaggning.ipynb"
STOCKHOLM = ROOT / "data" / "exempel" / "stockholm"

PROMPTS_JS = """() => Array.from(document.querySelectorAll('.jp-Notebook .jp-CodeCell .jp-InputPrompt'))
    .map(p => p.textContent.trim())"""
OUTPUT_TEXT_JS = """() => { const out = [];
    document.querySelectorAll('.jp-Notebook .jp-OutputArea-output').forEach(o => {
        const w = document.createTreeWalker(o, NodeFilter.SHOW_TEXT, {acceptNode: n =>
            ['SCRIPT', 'STYLE'].includes(n.parentElement.tagName) ? NodeFilter.FILTER_REJECT : NodeFilter.FILTER_ACCEPT});
        while (w.nextNode()) { out.push(w.currentNode.textContent); } });
    return out.join('\\n'); }"""
"""The text of every output (not scripts: the chart bundle), drawn or not yet (cells out of view)."""


def test_make_lab_uses_the_tested_configuration():
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    recipe = re.search(r"^lab:.*\n\t(.*)$", makefile, re.MULTILINE)
    assert recipe, "make lab saknas"
    assert f"--config={LAB_CONFIG.relative_to(ROOT).as_posix()}" in recipe.group(1)
    assert "JUPYTER_PREFER_ENV_PATH=1" in recipe.group(1)
    config = json.loads(LAB_CONFIG.read_text(encoding="utf-8"))
    assert config["ServerApp"]["ip"] == "127.0.0.1" and config["ServerApp"]["allow_remote_access"] is False
    assert config["LabApp"]["news_url"] is None
    assert config["LabApp"]["check_for_updates_class"].endswith("NeverCheckForUpdate")
    assert config["LabApp"]["extension_manager"] == "readonly"


def _all_ran(prompts: list[str]) -> bool:
    """Every code cell has run: its prompt shows an execution count, ``[12]:``."""
    return bool(prompts) and all(re.fullmatch(r"\[\d+\]:", p) for p in prompts)


def _wait_kernel_connected(page, base: str, token: str, timeout: float = 90) -> None:
    """Until the notebook's session has a kernel that is idle and connected to the page (the
    toolbar's indicator says idle before JupyterLab has a kernel at all). Waits with the page's
    own timer: the page's requests pass through the offline route only while Playwright runs."""
    deadline = time.monotonic() + timeout
    sessions: list = []
    while time.monotonic() < deadline:
        with urllib.request.urlopen(f"{base}/api/sessions?token={token}", timeout=5) as resp:
            sessions = json.load(resp)
        kernels = [s["kernel"] for s in sessions if s.get("path", "").endswith(NOTEBOOK.name) and s.get("kernel")]
        if any(k.get("execution_state") == "idle" and k.get("connections", 0) >= 1 for k in kernels):
            return
        page.wait_for_timeout(500)
    pytest.fail(f"notebookens kärna blev aldrig ansluten: {sessions}")


def _run_all(page, log: Path, timeout: float = 150) -> None:
    """Run → Run All Cells, then wait (with the page's timer) until every code cell has run."""
    page.locator(".lm-MenuBar-itemLabel", has_text=re.compile(r"^Run$")).first.click()
    page.locator(".lm-Menu-itemLabel", has_text=re.compile(r"^Run All Cells$")).first.click()
    deadline = time.monotonic() + timeout
    while not _all_ran(prompts := page.evaluate(PROMPTS_JS)):
        if time.monotonic() > deadline:
            dialog = page.locator(".jp-Dialog")
            shown = dialog.first.inner_text() if dialog.count() else "ingen"
            pytest.fail(
                f"alla celler kördes inte: {prompts}; dialog: {shown!r}\n" + log.read_text(errors="replace")[-3000:]
            )
        page.wait_for_timeout(500)


@pytest.mark.browser
@pytest.mark.slow
@pytest.mark.skipif(not STOCKHOLM.is_dir(), reason="exempeldata saknas")
def test_kartlaggning_runs_and_draws_in_jupyterlab_offline(tmp_path):
    require_chromium()
    project = tmp_path / "projekt"
    (project / "notebooks").mkdir(parents=True)
    shutil.copy(NOTEBOOK, project / "notebooks" / NOTEBOOK.name)  # the repository's copy stays untouched
    (project / "data").symlink_to(ROOT / "data", target_is_directory=True)
    env = dict(os.environ)
    for var, sub in {
        "JUPYTER_CONFIG_DIR": "config",
        "JUPYTER_RUNTIME_DIR": "runtime",
        "JUPYTER_DATA_DIR": "data",
        "JUPYTERLAB_SETTINGS_DIR": "settings",
        "JUPYTERLAB_WORKSPACES_DIR": "workspaces",
    }.items():
        (tmp_path / sub).mkdir()
        env[var] = str(tmp_path / sub)
    env["JUPYTER_PREFER_ENV_PATH"] = "1"
    port, token = free_port(), secrets.token_hex(16)
    cmd = [
        str(Path(sys.executable).parent / "jupyter-lab"),
        f"--config={LAB_CONFIG}",
        "--no-browser",
        f"--port={port}",
        "--ServerApp.port_retries=0",
        f"--IdentityProvider.token={token}",
        f"--ServerApp.root_dir={project}",
    ]
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        cmd.append("--allow-root")  # CI containers run as root
    log = tmp_path / "lab.log"
    with open(log, "wb") as fh:
        proc = subprocess.Popen(cmd, cwd=project, env=env, stdout=fh, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(f"{base}/api/status?token={token}", timeout=2) as resp:
                    if resp.status == 200:
                        break
            except OSError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                pytest.fail("JupyterLab startade inte:\n" + log.read_text(errors="replace")[-3000:])
            time.sleep(0.25)

        with offline_page(viewport=(1400, 1000)) as page:
            page.goto(f"{base}/lab/tree/notebooks/{NOTEBOOK.name}?token={token}", timeout=60_000)
            page.locator(".jp-NotebookPanel .jp-Notebook .jp-Cell").first.wait_for(timeout=60_000)
            _wait_kernel_connected(page, base, token)
            _run_all(page, log)
            code_cells = len(page.evaluate(PROMPTS_JS))
            outputs = page.evaluate(OUTPUT_TEXT_JS)
            assert "Traceback" not in outputs, outputs[-3000:]
            expected = page.evaluate("() => document.querySelectorAll('.jp-Notebook .insats-chart').length")
            assert expected >= 5, "kartläggningen ritar flera diagram"
            page.wait_for_function(f"() => ({DRAWN_JS})() >= {expected}", timeout=60_000)
            assert page.evaluate(DRAWN_JS) == expected
            assert "Syntetiska exempeldata" in outputs
            assert page.blocked == [], f"förfrågningar utanför datorn: {page.blocked}"
            assert code_cells >= 10
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
    text = log.read_text(errors="replace")
    assert "Kernel started" in text
