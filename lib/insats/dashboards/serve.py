"""``insats serve``: the dashboards (``notebooks/dashboards/``) in Voila, locked down and offline.

What the command sets up, and why:

* **127.0.0.1 only** (``--Voila.ip``), unless ``--ip`` says otherwise (``docs/design.md``, Privacy).
* **No code**: ``--strip_sources=True``; the ``insats`` template also hides input areas in CSS.
  **No tracebacks** to the browser (``show_tracebacks=False``).
* **No file browser, no terminal**: Voila's standalone server has neither; its start page is
  replaced by a Swedish list of the dashboards (template ``tree-lab.html``), and
  ``file_allowlist`` is empty, so ``/voila/files/`` serves nothing (Voila's contents API never
  returns a notebook's content).
* **Nothing from a CDN**: Voila 0.5's ``lab`` template links Font Awesome CSS from
  jsDelivr (``notebook_css`` block, and ``page.html`` for the start and error
  pages). The ``insats`` template (``lib/insats/dashboards/voila/voila/templates/insats``, found through
  ``JUPYTER_PATH``) extends ``lab`` with that block minus the links and its own ``page.html``;
  the dashboards use no icons, and the Vega bundle comes inline from ``insats.charts``.
* **Kernels pre-started**: ``--preheat_kernel=True`` with a pool of ``--pool_size`` kernels per
  notebook (default 1); a preheated kernel has already run the notebook, so the page arrives
  rendered and only the browser's drawing remains.
* **Another study**: ``--data DIR`` sets ``INSATS_DATA``, which every dashboard reads before its
  ``data_dir`` parameter.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
import webbrowser
from collections.abc import Callable
from pathlib import Path

from insats.errors import EnvironmentProblem, UsageError

TEMPLATE = "insats"
ENV_DATA = "INSATS_DATA"
"""Environment variable with a study folder that every dashboard reads before its ``data_dir``."""
DEFAULT_PORT = 8866
PACKAGE_DIR = Path(__file__).resolve().parent
TEMPLATE_ROOT = PACKAGE_DIR / "voila"
"""A Jupyter data directory holding ``voila/templates/insats`` (added to ``JUPYTER_PATH``)."""

DASHBOARDS = {
    "jamfor_omraden.ipynb": "Jämför områden",
    "omradesprofil.ipynb": "Områdesprofil",
    "utvardering.ipynb": "Utvärdering",
}


def find_dashboards(start: Path | None = None) -> Path:
    """``notebooks/dashboards`` of the repository (searched upwards from ``start``/cwd, then from
    the package's source tree)."""
    candidates = []
    for base in [Path(start or Path.cwd()).resolve(), PACKAGE_DIR]:
        candidates += [base, *base.parents]
    for parent in candidates:
        path = parent / "notebooks" / "dashboards"
        if (path / "jamfor_omraden.ipynb").exists():
            return path
    raise FileNotFoundError("Hittar inte mappen notebooks/dashboards; ange den med --dashboards.")


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket() as s:
        s.bind((host, 0))
        return s.getsockname()[1]


def voila_command(
    dashboards: Path, *, port: int = DEFAULT_PORT, ip: str = "127.0.0.1", pool_size: int = 1, preheat: bool = True
) -> list[str]:
    """The Voila command line (``voila`` next to this Python, else ``python -m voila``)."""
    exe = Path(sys.executable).parent / "voila"
    cmd = [str(exe)] if exe.exists() else [sys.executable, "-m", "voila"]
    cmd += [
        str(dashboards),
        "--no-browser",
        f"--port={port}",
        f"--Voila.ip={ip}",
        "--Voila.port_retries=0",
        f"--template={TEMPLATE}",
        "--strip_sources=True",
        "--show_tracebacks=False",
        "--VoilaConfiguration.file_allowlist=[]",
        "--VoilaConfiguration.allow_template_override=NO",
        "--VoilaConfiguration.allow_theme_override=NO",
        "--theme=light",
    ]
    if preheat and pool_size > 0:
        cmd += ["--preheat_kernel=True", f"--pool_size={pool_size}"]
    else:
        cmd += ["--preheat_kernel=False"]
    return cmd


def voila_env(data: Path | str | None = None) -> dict[str, str]:
    """The environment for Voila: the insats template on ``JUPYTER_PATH``, ``INSATS_DATA``."""

    env = dict(os.environ)
    env["JUPYTER_PATH"] = os.pathsep.join(p for p in [str(TEMPLATE_ROOT), env.get("JUPYTER_PATH", "")] if p)
    if data is not None:
        env[ENV_DATA] = str(Path(data).resolve())
    env.setdefault("PYTHONUNBUFFERED", "1")
    return env


def start(
    dashboards: Path | None = None,
    *,
    port: int = DEFAULT_PORT,
    ip: str = "127.0.0.1",
    data: Path | str | None = None,
    pool_size: int = 1,
    preheat: bool = True,
    stdout=None,
    stderr=None,
) -> subprocess.Popen:
    """Start Voila as a subprocess (returns at once; see ``wait_ready``)."""
    dashboards = Path(dashboards) if dashboards else find_dashboards()
    return subprocess.Popen(
        voila_command(dashboards, port=port, ip=ip, pool_size=pool_size, preheat=preheat),
        cwd=dashboards,
        env=voila_env(data),
        stdout=stdout,
        stderr=stderr,
    )


def wait_ready(
    port: int, host: str = "127.0.0.1", timeout: float = 120.0, proc: subprocess.Popen | None = None
) -> bool:
    """Wait until the server answers HTTP on ``port`` (False on timeout or if ``proc`` died)."""

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            return False
        try:
            with urllib.request.urlopen(f"http://{host}:{port}/", timeout=2) as resp:
                if resp.status == 200:
                    return True
        except OSError:
            pass
        time.sleep(0.25)
    return False


def url(port: int, host: str = "127.0.0.1", notebook: str | None = None) -> str:
    base = f"http://{host}:{port}/"
    return base + (f"voila/render/{notebook}" if notebook else "")


def port_free(port: int, host: str = "127.0.0.1") -> bool:
    """True when nothing listens on ``host:port`` (checked by binding it for a moment)."""
    with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_STREAM) as s:
        try:
            s.bind((host, port))
        except OSError:
            return False
    return True


def serve(
    *,
    port: int = DEFAULT_PORT,
    ip: str = "127.0.0.1",
    data: Path | str | None = None,
    pool_size: int = 1,
    preheat: bool = True,
    dashboards: Path | str | None = None,
    open_browser: bool = True,
    announce: Callable[[list[str]], None] = lambda lines: None,
) -> int:
    """Run Voila until it stops or the process is interrupted (Ctrl+C, SIGTERM); returns Voila's
    exit code (0 after an interruption). Every problem found before the server starts is an
    ``InsatsError``; ``announce`` gets the Swedish lines to show once the server answers."""
    if shutil.which("voila") is None and not (Path(sys.executable).parent / "voila").exists():
        try:
            import voila  # noqa: F401  (only to say clearly that it is missing)
        except ImportError:
            raise EnvironmentProblem("Voila är inte installerat; kör make setup (eller pip install voila).") from None
    if data is not None and not Path(data).is_dir():
        raise UsageError(f"studiemappen {data} finns inte; ange en mapp med studiens tabeller.")
    try:
        folder = Path(dashboards) if dashboards else find_dashboards()
    except FileNotFoundError as exc:
        raise UsageError(str(exc)) from None
    host = "127.0.0.1" if ip in ("0.0.0.0", "") else ip
    if not port_free(port, host):
        raise EnvironmentProblem(f"porten {port} är upptagen; välj en annan med --port, t.ex. --port {port + 1}.")

    def _stop(signum, frame):  # SIGTERM ends Voila too (the finally below), not only Ctrl+C
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, _stop)
    proc = start(folder, port=port, ip=ip, data=data, pool_size=pool_size, preheat=preheat)
    try:
        if not wait_ready(port, host, proc=proc):
            raise EnvironmentProblem("Voila startade inte; se meddelandena ovan.")
        home = url(port, ip)
        lines = [f"Instrumentpanelerna finns på {home}"]
        lines += [f"  {title}: {url(port, ip, name)}" for name, title in DASHBOARDS.items() if (folder / name).exists()]
        if data:
            lines.append(f"Data: {Path(data).resolve()}")
        if ip not in ("127.0.0.1", "localhost", "::1"):
            lines.append(f"Obs: servern lyssnar på {ip} och nås från andra datorer.")
        lines.append("Avsluta med Ctrl+C.")
        announce(lines)
        if open_browser:
            webbrowser.open(home)
        return proc.wait()
    except KeyboardInterrupt:
        announce(["Avslutar …"])
        return 0
    finally:
        if proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()
