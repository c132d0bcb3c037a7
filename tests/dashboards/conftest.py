"""The one ``insats serve`` the dashboards' browser tests share (session-scoped: started once)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.support import ROOT
from tests.support.browser import require_chromium


def _serve_command(port: int) -> list[str]:
    """``insats serve`` when the CLI has it registered, else the same code as a module."""
    from insats.cli import build_parser

    exe = Path(sys.executable).parent / "insats"
    try:
        build_parser().parse_args(["serve", "--no-browser"])
        has_serve = exe.exists()
    except SystemExit:
        has_serve = False
    base = [str(exe), "serve"] if has_serve else [sys.executable, "-m", "insats.cli", "serve"]
    return base + ["--port", str(port), "--no-browser", "--pool-size", "1"]  # one pre-started kernel each: enough here


@pytest.fixture(scope="session")
def server(tmp_path_factory):
    require_chromium()
    from insats.dashboards.serve import free_port, wait_ready

    port = free_port()
    log = tmp_path_factory.mktemp("serve") / "serve.log"
    with open(log, "wb") as fh:
        proc = subprocess.Popen(_serve_command(port), cwd=ROOT, stdout=fh, stderr=subprocess.STDOUT)
    try:
        if not wait_ready(port, timeout=120, proc=proc):
            pytest.fail("insats serve startade inte:\n" + log.read_text(errors="replace")[-3000:])
        yield {"port": port, "log": log, "base": f"http://127.0.0.1:{port}"}
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
