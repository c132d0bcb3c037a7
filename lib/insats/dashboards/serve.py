"""``insats serve``: the dashboards (``notebooks/dashboards/``) in Voila, locked down, offline, and
sized for a meeting room.

What the command sets up, and why:

* **127.0.0.1 only** (``--Voila.ip``), unless ``--ip`` says otherwise (``docs/design.md``, Privacy).
* **No code**: ``--strip_sources=True``; the ``insats`` template also hides input areas in CSS.
  **No tracebacks** to the browser (``show_tracebacks=False``); error pages are Swedish.
* **No file browser, no terminal**: the start page is a Swedish list of the dashboards that have a
  study, ``file_allowlist`` is empty, so ``/voila/files/`` serves nothing.
* **Nothing from a CDN**: the ``insats`` template (``voila/templates/insats`` here, found through
  ``JUPYTER_PATH``) extends Voila's ``lab`` template without its Font Awesome links.
* **Each dashboard its own study** (``plan_studies``): by default from the example params files
  (``DEFAULT_PARAMS``: Stockholm for *Jämför områden* and *Områdesprofil*, Sundbyberg for
  *Utvärdering*), or ``--params FILE ...``, or ``--data [NAME=]DIR``. Every folder is checked
  before anything is served (``check_studies``: a study that loads, with the tables the dashboard
  needs); a wrong one is a ``UsageError`` (exit 2). The folder reaches the dashboard's kernel as
  ``INSATS_DATA_<NAME>`` (``data_env_var``), ``min_cell`` as ``INSATS_MIN_CELL_<NAME>`` (``skyddsniva``: ``INSATS_SKYDDSNIVA_<NAME>``); a bare
  ``--data DIR`` also sets ``INSATS_DATA`` for all. ``study_from_env`` reads them kernel-side.
* **Kernels that last a meeting** (``insats.dashboards.server``, which this command runs): a kernel
  ends when its viewer leaves, or after ``left_timeout`` s without a connected page, or after
  ``idle_minutes`` unused; at most ``max_viewers`` pages at once (then a Swedish *fullt* page,
  HTTP 503); ``pool_size`` pre-started kernels per dashboard, refilled in the background (a
  pre-started kernel has already run the notebook, so the page arrives rendered).
* **Nothing left behind**: the server ends with this command, even when it is killed with
  ``kill -9`` (Linux), and the kernels' sharing folder is removed (or, after a kill, by the next start).

One module because the command's parts (the plan of studies, their checks, the server's command
line and environment, its start and end) are small, used only here, and read best together.
"""

from __future__ import annotations

import concurrent.futures
import contextlib
import ctypes
import importlib.util
import multiprocessing
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
import webbrowser
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import psutil

from insats.ahead import ENV_AHEAD
from insats.contract import fold
from insats.dashboards.defaults import (
    DEFAULT_IDLE_MINUTES,
    DEFAULT_LEFT_TIMEOUT,
    DEFAULT_MAX_VIEWERS,
    DEFAULT_POOL_SIZE,
)
from insats.errors import EnvironmentProblem, StudyError, UsageError
from insats.reports.sharing import ENV_SHARED, make_shared_dir

TEMPLATE = "insats"
ENV_DATA = "INSATS_DATA"
"""Environment variable with a study folder for every dashboard (a bare ``--data DIR``)."""
ENV_MIN_CELL = "INSATS_MIN_CELL"
ENV_PROTECTION = "INSATS_SKYDDSNIVA"
DEFAULT_PORT = 8866
PACKAGE_DIR = Path(__file__).resolve().parent
TEMPLATE_ROOT = PACKAGE_DIR / "voila"
"""A Jupyter data directory holding ``voila/templates/insats`` (added to ``JUPYTER_PATH``)."""

# Meeting-room defaults (README, "Instrumentpaneler"): DEFAULT_POOL_SIZE, DEFAULT_MAX_VIEWERS,
# DEFAULT_LEFT_TIMEOUT and DEFAULT_IDLE_MINUTES are in ``insats.dashboards.defaults``.
KERNEL_BYTES = 500 * 2**20
"""Memory of one dashboard kernel (measured: 0.45–0.5 GB resident, most of it the imports)."""
MEMORY_SHARE = 0.75
"""Share of the computer's memory the kernels may use (the rest: the system, the browser)."""
RETRY_AFTER_SECONDS = 30
"""The *fullt* page tries again after this many seconds (and says so)."""


@dataclass(frozen=True)
class Dashboard:
    """A dashboard notebook: its Swedish title and description, the study notebook whose params
    file describes its study, and the tables it cannot do without."""

    notebook: str
    title: str
    description: str
    study_notebook: str
    needs: tuple[str, ...] = ("omraden", "personer", "bistand")

    @property
    def name(self) -> str:
        """``jamfor_omraden``: the name in ``--data NAME=DIR`` and in ``INSATS_DATA_<NAME>``."""
        return self.notebook.removesuffix(".ipynb")


DASHBOARDS: dict[str, Dashboard] = {
    d.notebook: d
    for d in (
        Dashboard(
            "jamfor_omraden.ipynb",
            "Jämför områden",
            "Rangordning, trattdiagram och utbud för ett mått och en period.",
            "kartlaggning",
        ),
        Dashboard(
            "omradesprofil.ipynb",
            "Områdesprofil",
            "Ett områdes nyckeltal jämfört med övriga, dess insatser och medel.",
            "kartlaggning",
        ),
        Dashboard(
            "utvardering.ipynb",
            "Utvärdering",
            "Sundbybergs fem delar: erbjudande, närvarokrav, valfrihet, resultat, en väg in.",
            "utvardering",
            ("omraden", "personer", "bistand", "deltaganden"),
        ),
    )
}
"""The dashboards, in the order of the start page."""

DEFAULT_PARAMS = ("params/stockholm_2013.yaml", "params/sundbyberg_2016.yaml")
"""The example studies' params files, used when neither ``--params`` nor a bare ``--data`` is given."""


def default_max_viewers(prestarted: int, total_memory: int | None = None) -> int:
    """``DEFAULT_MAX_VIEWERS``, or fewer when ``MEMORY_SHARE`` of the computer's memory, less the
    ``prestarted`` kernels, holds fewer kernels of ``KERNEL_BYTES`` (at least 2): a laptop with
    8 GB and six pre-started kernels gets 6."""
    total = psutil.virtual_memory().total if total_memory is None else total_memory
    fits = int(total * MEMORY_SHARE // KERNEL_BYTES) - prestarted
    return max(2, min(DEFAULT_MAX_VIEWERS, fits))


# --------------------------------------------------------------------------- the kernel side
def data_env_var(dashboard: str) -> str:
    """``INSATS_DATA_UTVARDERING`` for ``utvardering`` (or ``utvardering.ipynb``)."""
    return f"{ENV_DATA}_{_env_suffix(dashboard)}"


def min_cell_env_var(dashboard: str) -> str:
    """``INSATS_MIN_CELL_UTVARDERING`` for ``utvardering``."""
    return f"{ENV_MIN_CELL}_{_env_suffix(dashboard)}"


def protection_env_var(dashboard: str) -> str:
    """``INSATS_SKYDDSNIVA_UTVARDERING`` for ``utvardering``."""
    return f"{ENV_PROTECTION}_{_env_suffix(dashboard)}"


def _env_suffix(dashboard: str) -> str:
    return fold(dashboard.removesuffix(".ipynb")).upper()


def study_from_env(dashboard: str, environ: Mapping[str, str] | None = None) -> str | None:
    """The study folder ``insats serve`` chose for ``dashboard``: ``INSATS_DATA_<NAME>``, else
    ``INSATS_DATA``, else None (then the notebook's ``data_dir`` parameter applies)."""
    env = os.environ if environ is None else environ
    for key in (data_env_var(dashboard), ENV_DATA):
        value = env.get(key, "").strip()
        if value:
            return value
    return None


def min_cell_from_env(dashboard: str, environ: Mapping[str, str] | None = None) -> int | None:
    """The ``min_cell`` of the dashboard's params file (``INSATS_MIN_CELL_<NAME>``), or None."""
    env = os.environ if environ is None else environ
    value = env.get(min_cell_env_var(dashboard), "").strip()
    return int(value) if value.isdigit() and int(value) >= 1 else None


def protection_from_env(dashboard: str, environ: Mapping[str, str] | None = None) -> int | None:
    """The ``skyddsniva`` of the dashboard's params file (``INSATS_SKYDDSNIVA_<NAME>``), or None."""
    env = os.environ if environ is None else environ
    value = env.get(protection_env_var(dashboard), "").strip()
    return int(value) if value.isdigit() and int(value) >= 1 else None


# --------------------------------------------------------------------------- which study each dashboard shows
@dataclass(frozen=True)
class StudySource:
    """A study named by a params file (built by the command line from ``load_params``)."""

    source: str
    """Where it came from, for messages: the params file."""
    notebooks: tuple[str, ...]
    """The study notebooks of its ``korning`` section (``kartlaggning``, ``utvardering``)."""
    data_dir: Path | None
    min_cell: int | None = None
    skyddsniva: int | None = None


@dataclass(frozen=True)
class DashboardStudy:
    """The study one dashboard shows."""

    dashboard: Dashboard
    data_dir: Path
    source: str
    """``params/sundbyberg_2016.yaml`` or ``--data utvardering=…``: named in messages."""
    min_cell: int | None = None
    skyddsniva: int | None = None


@dataclass
class ServePlan:
    """Every served dashboard with its study; ``shared`` when one bare ``--data`` serves all."""

    studies: dict[str, DashboardStudy] = field(default_factory=dict)
    shared: Path | None = None

    @property
    def notebooks(self) -> list[str]:
        return [nb for nb in DASHBOARDS if nb in self.studies]


def default_params_files(start: Path | None = None) -> list[Path]:
    """``DEFAULT_PARAMS`` in the repository (searched upwards from ``start``/cwd, then from the
    package's source tree); empty when they are not there (an installed package)."""
    for base in [Path(start or Path.cwd()).resolve(), PACKAGE_DIR]:
        for parent in [base, *base.parents]:
            files = [parent / p for p in DEFAULT_PARAMS]
            if all(f.is_file() for f in files):
                return files
    return []


def parse_data_option(text: str) -> tuple[Dashboard | None, Path]:
    """``--data`` as ``DIR`` (every dashboard) or ``NAME=DIR`` (``NAME``: ``utvardering``,
    ``jamfor_omraden``, ``omradesprofil``; the titles work too: ``Utvärdering=DIR``)."""
    m = re.fullmatch(r"\s*([^=/\\]+?)\s*=(.*)", text)
    if not m:
        if not text.strip():
            raise UsageError("--data behöver en mapp, t.ex. --data data/exempel/stockholm.")
        return None, Path(text.strip())
    dashboard, folder = _dashboard_named(m.group(1), f"--data {text}"), m.group(2).strip()
    if not folder:
        raise UsageError(f"--data {m.group(1)}= saknar mapp; skriv t.ex. --data {dashboard.name}=data/exempel/…")
    return dashboard, Path(folder)


def _dashboard_named(text: str, option: str) -> Dashboard:
    key = fold(text)
    for d in DASHBOARDS.values():
        if key in (d.name, fold(d.title)):
            return d
    names = ", ".join(d.name for d in DASHBOARDS.values())
    raise UsageError(f"{option}: okänd instrumentpanel {text!r}; välj bland {names}.")


def pool_sizes(options: Sequence[str], default: int = DEFAULT_POOL_SIZE) -> dict[str, int]:
    """``--pool-size`` as ``N`` (every dashboard) or ``NAME=N`` (one; e.g. ``jamfor_omraden=10``
    when everyone will open that one): the number of pre-started kernels per notebook file."""
    sizes = dict.fromkeys(DASHBOARDS, default)
    for text in sorted(options, key=lambda t: "=" in t):  # the bare number first, then per dashboard
        name, _, number = text.rpartition("=")
        if not number.strip().isdigit():
            raise UsageError(
                f"--pool-size {text}: ange ett antal, t.ex. --pool-size 2 eller --pool-size jamfor_omraden=6."
            )
        if name:
            sizes[_dashboard_named(name, f"--pool-size {text}").notebook] = int(number)
        else:
            sizes = dict.fromkeys(DASHBOARDS, int(number))
    return sizes


def plan_studies(sources: Sequence[StudySource], data: Sequence[str] = ()) -> ServePlan:
    """Which study each dashboard shows: first from the params files (a study whose notebooks
    include ``kartlaggning`` serves *Jämför områden* and *Områdesprofil*, ``utvardering`` serves
    *Utvärdering*), then ``--data`` on top (a bare ``DIR`` for all, ``NAME=DIR`` for one).
    Dashboards left without a study are not served. Folders are not checked here (``check_studies``)."""
    plan = ServePlan()
    for src in sources:
        claimed = [d for d in DASHBOARDS.values() if d.study_notebook in src.notebooks]
        if not claimed:
            raise UsageError(
                f"{src.source}: ingen instrumentpanel visar studien (korning.notebooks har varken kartlaggning "
                "eller utvardering); ange en annan parameterfil eller välj mapp med --data NAMN=MAPP."
            )
        if src.data_dir is None:
            raise UsageError(f"{src.source}: data_dir saknas; instrumentpanelerna behöver studiens mapp.")
        for d in claimed:
            if d.notebook in plan.studies:
                raise UsageError(
                    f"både {plan.studies[d.notebook].source} och {src.source} anger en studie för {d.title}; "
                    f"ange bara en av dem, eller välj med --data {d.name}=MAPP."
                )
            plan.studies[d.notebook] = DashboardStudy(d, Path(src.data_dir), src.source, src.min_cell, src.skyddsniva)
    parsed = [parse_data_option(text) for text in data]
    bare = [folder for dashboard, folder in parsed if dashboard is None]
    if len(bare) > 1:
        raise UsageError(
            f"--data utan instrumentpanel anges {len(bare)} gånger; ange en mapp för alla, eller en per "
            "instrumentpanel som NAMN=MAPP (t.ex. --data utvardering=MAPP)."
        )
    for dashboard, folder in sorted(parsed, key=lambda item: item[0] is not None):  # the bare one first
        targets = [dashboard] if dashboard else list(DASHBOARDS.values())
        if dashboard is None:
            plan.shared = folder
        for d in targets:
            old = plan.studies.get(d.notebook)
            source = f"--data {d.name + '=' if dashboard else ''}{folder}"
            plan.studies[d.notebook] = DashboardStudy(
                d, folder, source, old.min_cell if old else None, old.skyddsniva if old else None
            )
    if not plan.studies:
        raise UsageError("ingen instrumentpanel har någon studie; ange --params FIL eller --data MAPP.")
    return plan


def _study_subfolders(folder: Path) -> list[str]:
    """Sub-folders of ``folder`` that look like studies (``studie.json`` or a ``personer`` file)."""
    found = []
    for sub in sorted(p for p in folder.iterdir() if p.is_dir()):
        if (sub / "studie.json").is_file() or any(sub.glob("personer.*")) or any(sub.glob("omraden.*")):
            found.append(sub.name)
    return found


def check_study_folder(path: str) -> tuple[str | None, list[str]]:
    """Whether the folder ``path`` can be shown: ``(None, tables)`` when it holds one study that
    loads without errors (``load_study``), else ``(reason, [])`` with the reason in Swedish."""
    # Imported here: this runs in a short-lived child process (check_studies), so that the
    # long-lived ``insats serve`` process never holds pandas and a loaded study (~300 MB).
    from insats.data.load import load_study

    folder = Path(path)
    if not folder.exists():
        return f"mappen {folder} finns inte.", []
    if not folder.is_dir():
        return f"{folder} är ingen mapp; ange studiens mapp (den med omraden.csv, personer.csv …).", []
    try:
        study = load_study(folder)
    except StudyError as exc:
        subs = _study_subfolders(folder)
        if len(subs) > 1 and not any(folder.glob("personer.*")):
            return (
                f"{folder} innehåller flera studier ({', '.join(subs)}), inte en; välj en av dem, t.ex. "
                f"--data {folder / subs[0]}, eller en per instrumentpanel, t.ex. --data utvardering={folder / subs[-1]}."
            ), []
        if len(subs) == 1 and not any(folder.glob("personer.*")):
            return f"{folder} är ingen studie, men {folder / subs[0]} ser ut att vara en; ange den.", []
        return f"{folder} går inte att visa; rätta studien (se insats validate {folder}):\n{exc}", []
    return None, list(study.tables)


def check_studies(plan: ServePlan) -> None:
    """Check every chosen folder before anything is served; a ``UsageError`` (exit 2) names the
    dashboard, where the folder came from and what is wrong (a folder that is missing, is not one
    study, has errors, or lacks a table the dashboard needs). The studies are loaded in a child
    process (see ``check_study_folder``)."""
    folders: dict[Path, list[DashboardStudy]] = {}
    for study in plan.studies.values():
        folders.setdefault(study.data_dir.absolute(), []).append(study)
    context = multiprocessing.get_context("spawn")
    with concurrent.futures.ProcessPoolExecutor(max_workers=1, mp_context=context) as pool:
        answers = {folder: pool.submit(check_study_folder, str(folder)) for folder in folders}
        results = {folder: future.result() for folder, future in answers.items()}
    problems = []
    for folder, studies in folders.items():
        reason, tables = results[folder]
        if reason:
            who = ", ".join(f"{s.dashboard.title} ({s.source})" for s in studies)
            problems.append(f"{who}: {reason}")
            continue
        for s in studies:
            missing = [t for t in s.dashboard.needs if t not in tables]
            if missing:
                problems.append(
                    f"{s.dashboard.title} ({s.source}): {folder} saknar tabellen {', '.join(missing)}, som "
                    "instrumentpanelen behöver."
                )
    if problems:
        raise UsageError("studiemappen kan inte visas – inget har startats.\n" + "\n".join(problems))


# --------------------------------------------------------------------------- Voila
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
    dashboards: Path,
    *,
    port: int = DEFAULT_PORT,
    ip: str = "127.0.0.1",
    pool_size: int | Mapping[str, int] = DEFAULT_POOL_SIZE,
    preheat: bool = True,
    max_viewers: int = DEFAULT_MAX_VIEWERS,
    left_timeout: int = DEFAULT_LEFT_TIMEOUT,
    idle_minutes: int = DEFAULT_IDLE_MINUTES,
    notebooks: Sequence[str] | None = None,
) -> list[str]:
    """The command line of the dashboard server (``insats.dashboards.server``: Voila plus the
    kernel lifecycle). ``notebooks``: the dashboards served (default all); ``pool_size``: one
    number for all, or per notebook file (``pool_sizes``)."""
    served = list(DASHBOARDS) if notebooks is None else list(notebooks)
    cmd = [sys.executable, "-m", "insats.dashboards.server", str(dashboards)]
    cmd += [
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
        "--VoilaConfiguration.multi_kernel_manager_class=insats.dashboards.server.ViewerKernelManager",
        "--theme=light",
        # <html lang="sv"> on the dashboard pages (nbconvert's default is "en"; WCAG 3.1.1)
        "--VoilaExporter.language_code=sv",
        f"--DashboardServer.max_viewers={max_viewers}",
        f"--ViewerKernelManager.left_timeout={left_timeout}",
        f"--ViewerKernelManager.idle_timeout={idle_minutes * 60}",
        # A kernel may take longer than Voila's 60 s to start when many start at once on 2 cores;
        # waiting is better than a failed page.
        "--VoilaExecutor.startup_timeout=180",
    ]
    cmd += [f"--DashboardServer.dashboards={nb}" for nb in served]  # the others: no page, no pre-started kernel
    if isinstance(pool_size, int):
        sizes = dict.fromkeys(served, pool_size)
    else:
        sizes = {nb: pool_size.get(nb, DEFAULT_POOL_SIZE) for nb in served}
    if preheat and any(sizes.values()):
        cmd += ["--preheat_kernel=True", f"--pool_size={max(sizes.values())}"]
        cmd += [f"--DashboardServer.pool_sizes={nb}={n}" for nb, n in sizes.items()]
    else:
        cmd += ["--preheat_kernel=False"]
    return cmd


def voila_env(data: Path | str | None = None, plan: ServePlan | None = None, shared: str | None = None) -> dict:
    """The environment for the server and its kernels: the insats template on ``JUPYTER_PATH``;
    each dashboard's study as ``INSATS_DATA_<NAME>`` (and ``INSATS_MIN_CELL_<NAME>``) from
    ``plan``; ``INSATS_DATA`` for a folder shared by all (``data``, or the plan's bare ``--data``);
    ``INSATS_SHARED_DIR`` for the kernels' shared publications (``insats.reports.sharing``)."""
    env = {
        k: v for k, v in os.environ.items() if not k.startswith((ENV_DATA, ENV_MIN_CELL, ENV_PROTECTION, ENV_SHARED))
    }
    env.update({ENV_SHARED: shared} if shared else {})
    # No work done ahead in a forked child (insats.ahead): on a meeting's server the "spare" core
    # belongs to the other viewers' kernels.
    env[ENV_AHEAD] = "0"
    env["JUPYTER_PATH"] = os.pathsep.join(p for p in [str(TEMPLATE_ROOT), env.get("JUPYTER_PATH", "")] if p)
    one = data if data is not None else (plan.shared if plan else None)
    if one is not None:
        env[ENV_DATA] = str(Path(one).resolve())
    for study in plan.studies.values() if plan else ():
        env[data_env_var(study.dashboard.name)] = str(study.data_dir.absolute())
        if study.min_cell is not None:
            env[min_cell_env_var(study.dashboard.name)] = str(study.min_cell)
        if study.skyddsniva is not None:
            env[protection_env_var(study.dashboard.name)] = str(study.skyddsniva)
    env.setdefault("PYTHONUNBUFFERED", "1")
    return env


def start(
    dashboards: Path | None = None,
    *,
    port: int = DEFAULT_PORT,
    ip: str = "127.0.0.1",
    data: Path | str | None = None,
    plan: ServePlan | None = None,
    shared_dir: str | None = None,
    stdout=None,
    stderr=None,
    **options,
) -> subprocess.Popen:
    """Start the dashboard server as a subprocess (returns at once; see ``wait_ready``).
    ``options``: the lifecycle keywords of ``voila_command``; ``shared_dir``: ``voila_env``."""
    dashboards = Path(dashboards) if dashboards else find_dashboards()
    if plan is not None:
        options.setdefault("notebooks", plan.notebooks)
    return subprocess.Popen(
        voila_command(dashboards, port=port, ip=ip, **options),
        cwd=dashboards,
        env=voila_env(data, plan, shared_dir),
        stdout=stdout,
        stderr=stderr,
        preexec_fn=_end_with_parent if sys.platform == "linux" else None,
    )


def _end_with_parent() -> None:  # pragma: no cover - runs in the child, between fork and exec
    """Linux: the server gets SIGTERM (and stops its kernels) when ``insats serve`` ends, even by
    ``kill -9`` (``prctl(PR_SET_PDEATHSIG)``)."""
    with contextlib.suppress(Exception):
        ctypes.CDLL(None).prctl(1, signal.SIGTERM)


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
    plan: ServePlan,
    port: int = DEFAULT_PORT,
    ip: str = "127.0.0.1",
    pool_size: int | Mapping[str, int] = DEFAULT_POOL_SIZE,
    preheat: bool = True,
    max_viewers: int | None = None,
    left_timeout: int = DEFAULT_LEFT_TIMEOUT,
    idle_minutes: int = DEFAULT_IDLE_MINUTES,
    dashboards: Path | str | None = None,
    open_browser: bool = True,
    announce: Callable[[list[str]], None] = lambda lines: None,
) -> int:
    """Check the studies of ``plan``, then run the dashboard server until it stops or the process
    is interrupted (Ctrl+C, SIGTERM); returns the server's exit code (0 after an interruption).
    Every problem found before the server starts is an ``InsatsError``; ``announce`` gets the
    Swedish lines to show once the server answers. ``max_viewers`` None: ``default_max_viewers``."""
    if importlib.util.find_spec("voila") is None:
        raise EnvironmentProblem("Voila är inte installerat; kör make setup (eller pip install voila).")
    try:
        folder = Path(dashboards) if dashboards else find_dashboards()
    except FileNotFoundError as exc:
        raise UsageError(str(exc)) from None
    host = "127.0.0.1" if ip in ("0.0.0.0", "") else ip
    if not port_free(port, host):
        raise EnvironmentProblem(f"porten {port} är upptagen; välj en annan med --port, t.ex. --port {port + 1}.")
    check_studies(plan)
    sizes = {nb: pool_size if isinstance(pool_size, int) else pool_size[nb] for nb in plan.notebooks}
    prestarted = sum(sizes.values()) if preheat else 0
    if max_viewers is None:
        max_viewers = default_max_viewers(prestarted)

    def _stop(signum, frame):  # SIGTERM ends the server too (the finally below), not only Ctrl+C
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, _stop)
    # the kernels' shared publications (insats.reports.sharing): private to this user, gone at the end
    shared = make_shared_dir()
    proc = start(
        folder,
        port=port,
        ip=ip,
        plan=plan,
        shared_dir=shared,
        pool_size=sizes,
        preheat=preheat,
        max_viewers=max_viewers,
        left_timeout=left_timeout,
        idle_minutes=idle_minutes,
    )
    try:
        if not wait_ready(port, host, proc=proc):
            raise EnvironmentProblem("Voila startade inte; se meddelandena ovan.")
        home = url(port, ip)
        lines = [f"Instrumentpanelerna finns på {home}"]
        for nb, study in plan.studies.items():
            lines.append(f"  {study.dashboard.title}: {url(port, ip, nb)}")
            lines.append(f"    studie: {study.data_dir.absolute()} (från {study.source})")
        if not prestarted:
            pool = "inga förstartade kärnor"
        elif len(set(sizes.values())) == 1:
            pool = f"{next(iter(sizes.values()))} förstartade kärnor per instrumentpanel"
        else:
            pool = "förstartade kärnor: " + ", ".join(f"{DASHBOARDS[nb].title} {n}" for nb, n in sizes.items())
        lines.append(
            f"Högst {max_viewers} sidor samtidigt; {pool}. En kärna stängs när sidan lämnas "
            f"(senast efter {left_timeout} s) eller efter {idle_minutes} minuter utan användning."
        )
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
        shutil.rmtree(shared, ignore_errors=True)
