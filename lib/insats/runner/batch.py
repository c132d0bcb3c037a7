"""Batch reruns: the study notebooks and one profile per area, for one or many studies, in
parallel, rerunning only what changed.

``run_batch(config)`` (the ``insats run PARAMS.yaml`` command) turns a validated params file
(:mod:`insats.runner.config`) into *reports*: one per study notebook and one per area for the
profile notebook, for every study of the run (``data_dir``, or several with ``korning.studier``).
For each it injects the parameters the notebook declares, as checked literals under papermill's
convention (:mod:`insats.runner.parameters`: an ``injected-parameters`` cell after the
``parameters`` cell, papermill metadata on notebook and cells), executes the notebook, writes
``reports/<namn>/[<studie>/]<rapport>.ipynb`` and an offline HTML file without code, and keeps
``reports/<namn>/korning.json`` (the audit trail: parameters, what each report read, why it ran
or was skipped, package versions, times, errors, what happened to workers) and
``reports/<namn>/index.html`` (the same, in Swedish, for people) up to date after every report.

Execution model
---------------
``run_report(task)`` runs one report and never raises: it returns a ``ReportOutcome`` holding
the executed notebook, its HTML and what the report read. The coordinator (``run_batch``) is the
only writer of files, so ``reports/`` is consistent whatever runs the reports:

* locally, ``--workers`` threads of the coordinator (default the number of cores) each drive one
  Jupyter kernel (a separate process, where the work happens) through ``run_report``;
* with ``--scheduler ADDRESS``, the same function is submitted to a Dask distributed cluster
  (the workers need the package and the same paths to notebooks and data, i.e. a shared disk).
  When a worker dies, the scheduler runs its reports again on another worker; the run records
  which worker was lost and which reports were run again.

Kernels are reused from report to report (``insats.runner.kernels``): a kernel starts, imports
the heavy modules once (pandas, numpy, altair, insats and whatever the run's notebooks import)
and then runs report after report. Kernel start and those imports take seconds; paying them once
per worker instead of once per report is where most of the speed comes from. The coordinator's
main thread turns each finished report into HTML (``insats.reports.export``) while its kernel
already runs the next one.

Work done once per run
----------------------
Before a study's reports start, the coordinator makes sure the study has a validated copy
(``insats.data.cache``: typed Parquet beside a manifest of source hashes), so no kernel parses
and checks the sources again. In the kernels, ``insats.data.cache.load_cached`` keeps the loaded
study and ``memoize`` the computed measures (per period, ``min_cell`` and options), keyed by the
data's content hash and the arguments: the first report of a kernel loads and computes, the
others reuse, and a changed file or parameter gives a new key, never a stale result. Each report
gets its own copies (copy-on-write), and a notebook run alone by hand takes the same path, so its
output is the same.

Papermill's traps in parallel use, and what is done about them:

* *process-global cwd*: nothing here calls ``os.chdir``; every path is absolute and the kernel's
  working directory (the notebook's folder, as in JupyterLab) is set inside the kernel.
* *port collisions* when kernels start at the same time: a kernel that fails to start or to answer
  is killed and started again, up to ``KERNEL_START_ATTEMPTS`` times with a growing pause.
* *IPython's history database* (SQLite) locked by parallel kernels: kernels keep history in memory.
* *a kernel that hangs* (in a cell, or after the last one): each cell has a timeout
  (``cell_timeout``) and each report a wall-clock timeout (``timeout``); on either, the kernel is
  killed and the report marked failed. A dead kernel fails only its own report.
* *a coordinator killed with kill -9*: kernels watch their parent and end their process group
  when it is gone (``kernel_side.setup``), so nothing is left running.

Why reusing a kernel is safe
----------------------------
Before every report the kernel runs a cleanup (``insats.runner.kernel_side.cleanup``):

* ``InteractiveShell.reset(new_session=True)``: every variable, function and import name the
  previous report defined is deleted from the user namespace, with the output history (``Out``,
  ``_``) and the execution counter; a report cannot see a name another report defined (tested);
* the working directory, ``sys.path``, ``os.environ``, the warning filters, changed pandas options,
  altair's active renderer/data transformer/theme and matplotlib's rcParams are restored to their
  state just after kernel start, and open matplotlib figures are closed;
* imported modules stay imported (that is the point); they hold no report state as long as
  notebooks stay thin and call pure library functions, as the design requires (``docs/design.md``).
  The studies and results ``insats.data.cache`` keeps are keyed by content and handed out as copies.

What a cleanup cannot undo is a notebook changing a module's globals (monkeypatching, mutating a
module-level cache). To bound that risk the kernel is replaced after any failed report (error,
timeout, dead kernel, failed cleanup) and after ``restart_every`` reports (``kernel_omstart``,
default 20); ``kernel_omstart: 1`` gives every report a fresh kernel (papermill's isolation,
without its per-report start cost in the coordinator). Pre-importing a notebook's imports before
its first cell differs from a fresh run only for modules whose import depends on earlier cells.

Rerunning only what changed
---------------------------
After a report succeeds its kernel is asked what it read (``insats.data.study.READS``): which
tables of which study folders, with the SHA-256 of the file each came from. ``korning.json``
keeps that (``lasta``) with the report's *key*: the hash of the notebook's cells (sources, not
outputs), its parameters (those it declares, as given to it) and the package version. The next
run skips a report (``överhoppad``) when its key is unchanged, none of the files it read changed,
no file was added to or removed from the folders it read, and its HTML is in place; otherwise it
runs, and ``orsak`` says why (e.g. *tabellen medel har ändrats*). A study's ``studie.json`` counts
as read by every report that read the study. A report that read no study through the package
(e.g. read files with pandas directly) counts as having read every file of its ``data_dir``.
``--force`` reruns everything. A failed report keeps the previous good ``<rapport>.html``; its own
output goes to ``<rapport>.fel.ipynb`` / ``.fel.html``. Every file is written to a temporary file
and renamed into place; a report whose files cannot be written fails alone.
"""

from __future__ import annotations

import ast
import contextlib
import hashlib
import json
import logging
import os
import queue
import socket
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import FIRST_COMPLETED, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from importlib.metadata import version
from pathlib import Path
from typing import Any

from insats import __version__
from insats.atomic import atomic_write
from insats.contract import fold
from insats.data.validated import combined_hash, current_hashes, ensure_validated, source_files
from insats.data.files import CSV_SUFFIXES, EXCEL_SUFFIXES, META_FILE, OLD_EXCEL_SUFFIXES, PARQUET_SUFFIXES
from insats.data.load import read_table
from insats.errors import InsatsError
from insats.reports.export import external_references
from insats.runner.config import ConfigError, RunConfig, StudySpec, safe_name
from insats.runner.execute import export_outcome, run_report
from insats.runner.index import visible, write_index
from insats.runner.kernels import KernelPool, kernel_pool
from insats.runner.tasks import DEFAULT_PREIMPORTS, FEL, OK, SKIPPED, ReportOutcome, ReportTask, format_seconds, now_iso

log = logging.getLogger(__name__)

__all__ = [
    "KernelPool",
    "ReportOutcome",
    "ReportTask",
    "RunResult",
    "discover_areas",
    "external_references",
    "hash_folder",
    "run_batch",
    "run_report",
]

FORMAT_VERSION = 2
DASK_POLL_SECONDS = 0.5
DASK_NO_WORKERS_SECONDS = 120.0
"""A Dask run gives up on its remaining reports when the cluster has had no worker this long."""


# --------------------------------------------------------------------------- run result
@dataclass
class RunResult:
    """The outcome of ``run_batch``: one record per report (as in ``korning.json``)."""

    name: str
    out_dir: Path
    records: list[dict[str, Any]]
    seconds: float
    events: list[dict[str, Any]] = field(default_factory=list)
    """What happened to the run beyond the reports (e.g. a Dask worker lost)."""

    @property
    def index(self) -> Path:
        return self.out_dir / "index.html"

    @property
    def korning_json(self) -> Path:
        return self.out_dir / "korning.json"

    def count(self, status: str) -> int:
        return sum(r["status"] == status for r in self.records)

    @property
    def failed(self) -> list[str]:
        return [r["namn"] for r in self.records if r["status"] == FEL]

    @property
    def exit_code(self) -> int:
        return 1 if self.failed else 0

    def record(self, name: str) -> dict[str, Any]:
        for r in self.records:
            if r["namn"] == name:
                return r
        raise KeyError(name)


# --------------------------------------------------------------------------- small helpers
def _sha256_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _canonical(obj: Any) -> str:
    return json.dumps(obj, sort_keys=True, ensure_ascii=False, default=str, separators=(",", ":"))


def hash_folder(folder: Path | str) -> dict[str, str]:
    """SHA-256 of every file of a study (hidden and ``~$`` files left out), reading only files
    whose size or times changed since they were last hashed (``insats.data.cache.current_hashes``)."""
    return current_hashes(folder) if Path(folder).exists() else {}


def notebook_hash(path: Path | str) -> str:
    """Hash of a notebook's cells (type and source) and kernel; outputs and metadata do not count."""
    nb = json.loads(Path(path).read_text(encoding="utf-8"))
    cells = [
        (c.get("cell_type"), "".join(c.get("source", "")) if isinstance(c.get("source"), list) else c.get("source", ""))
        for c in nb.get("cells", [])
    ]
    kernel = nb.get("metadata", {}).get("kernelspec", {}).get("name")
    return _sha256_bytes(_canonical({"cells": cells, "kernel": kernel}).encode())


def notebook_imports(path: Path | str) -> list[str]:
    """Modules a notebook imports (``import a.b``, ``from a.b import c``), found without running it.

    For ``from a.b import c`` both ``a.b`` and ``a.b.c`` are listed: ``c`` may be a submodule
    (``from insats.reports import profil``); a name that is not a module is skipped by the kernel."""
    nb = json.loads(Path(path).read_text(encoding="utf-8"))
    found: list[str] = []
    for cell in nb.get("cells", []):
        if cell.get("cell_type") != "code":
            continue
        src = cell.get("source", "")
        src = "".join(src) if isinstance(src, list) else src
        src = "\n".join(line for line in src.splitlines() if not line.lstrip().startswith(("%", "!")))
        try:
            tree = ast.parse(src)
        except SyntaxError:
            continue
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                found += [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                found.append(node.module)
                found += [f"{node.module}.{a.name}" for a in node.names if a.name != "*"]
    return list(dict.fromkeys(found))


def _kernel_name(path: Path | str) -> str:
    nb = json.loads(Path(path).read_text(encoding="utf-8"))
    return nb.get("metadata", {}).get("kernelspec", {}).get("name") or "python3"


_READABLE = CSV_SUFFIXES + EXCEL_SUFFIXES + OLD_EXCEL_SUFFIXES + PARQUET_SUFFIXES


def discover_areas(data_dir: Path | str) -> dict[str, str]:
    """``omrade_kod -> omrade`` from the study's ``omraden`` table (the latest year's name).

    Reads only that table's file when the study is a folder with one (not the whole study)."""

    folder = Path(data_dir)
    files = [p for p in source_files(folder) if fold(p.stem) == "omraden" and p.suffix.lower() in _READABLE]
    df = read_table(files[0] if folder.is_dir() and len(files) == 1 else folder, "omraden")
    if "ar" in df:
        df = df.sort_values("ar", kind="stable")
    out: dict[str, str] = {}
    for code, name in zip(df["omrade_kod"], df["omrade"]):
        if code is None or code != code:  # a missing code is a validation error, not an area
            continue
        out[str(code)] = str(name)
    return dict(sorted(out.items()))


def _read_previous(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        return data if isinstance(data, dict) else {}
    except (OSError, ValueError):
        return {}


def _previous_records(run: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {r["namn"]: r for r in run.get("rapporter", []) if isinstance(r, dict) and "namn" in r}


def _versions() -> dict[str, str]:

    out = {"insats": __version__, "python": sys.version.split()[0]}
    for pkg in ("papermill", "nbclient", "nbconvert", "jupyter_client", "ipykernel", "pandas", "distributed"):
        with contextlib.suppress(Exception):  # a package that is not installed is left out
            out[pkg] = version(pkg)
    return out


class _RunLock:
    """``reports/<namn>/.korning.lock``: one run per report folder at a time."""

    def __init__(self, folder: Path):
        self.path = folder / ".korning.lock"
        self.held = False

    def __enter__(self):
        for _ in range(2):
            try:
                fd = os.open(self.path, os.O_CREAT | os.O_EXCL | os.O_WRONLY)
            except FileExistsError:
                try:
                    host, pid = self.path.read_text().split()[:2]
                    alive = host != socket.gethostname() or _pid_alive(int(pid))
                except (OSError, ValueError):
                    alive = False
                if alive:
                    raise ConfigError(
                        f"en annan körning pågår redan i {self.path.parent} (låsfil {self.path})."
                    ) from None
                with contextlib.suppress(OSError):
                    self.path.unlink()
                continue
            with os.fdopen(fd, "w") as fh:
                fh.write(f"{socket.gethostname()} {os.getpid()}\n")
            self.held = True
            return self
        raise ConfigError(f"kunde inte låsa {self.path.parent}.")

    def __exit__(self, *exc):
        if self.held:
            with contextlib.suppress(OSError):
                self.path.unlink()


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _rel(path: Path, root: Path) -> str:
    try:
        return str(Path(path).relative_to(root))
    except ValueError:
        return str(path)


def _error(kind: str, message: str) -> dict[str, Any]:
    return {"cell": None, "exekvering": None, "typ": kind, "meddelande": message, "kalla": None}


# --------------------------------------------------------------------------- what a report read
def _meta_files(names) -> list[str]:
    return [n for n in names if n.lower() == META_FILE]


class _Hashes:
    """Current file hashes per folder, computed once per run (on demand for folders outside it)."""

    def __init__(self) -> None:
        self._known: dict[str, dict[str, str]] = {}
        self._lock = threading.Lock()

    def of(self, folder: str | Path) -> dict[str, str]:
        key = str(folder)
        with self._lock:
            if key in self._known:
                return self._known[key]
        try:
            value = hash_folder(key)
        except OSError:
            value = {}
        with self._lock:
            self._known[key] = value
        return value


def inputs_read(reads: list[dict] | None, data_dir: Path | None, hashes: _Hashes) -> dict[str, dict[str, Any]]:
    """Per study folder a report read: the tables (``tabell -> fil``), the files it depends on
    (``fil -> SHA-256`` as read; ``studie.json`` included) and the folder's file names then."""
    out: dict[str, dict[str, Any]] = {}
    for entry in reads or []:
        folder = entry.get("mapp")
        if not folder:
            continue
        dep = out.setdefault(folder, {"tabeller": {}, "filer": {}, "hela_mappen": False})
        table, file, sha = entry.get("tabell"), entry.get("fil"), entry.get("sha256")
        if table and file:
            dep["tabeller"][table] = file
            if dep["filer"].get(file, sha) != sha:
                sha = ""  # read in two versions during the report: never counts as unchanged
            dep["filer"][file] = sha
    if data_dir is not None and str(data_dir) not in out:
        # nothing known about how the report read its data: every file counts
        now = hashes.of(data_dir)
        out[str(data_dir)] = {"tabeller": {}, "filer": dict(now), "hela_mappen": True}
    for folder, dep in out.items():
        now = hashes.of(folder)
        dep["filnamn"] = sorted(now)
        for name in _meta_files(now):
            dep["filer"].setdefault(name, now[name])
    return out


def _what_changed(last: dict[str, dict[str, Any]], hashes: _Hashes) -> list[str]:
    """Why the inputs a report read are not what they were (Swedish), or [] when unchanged."""
    reasons: list[str] = []
    for folder, dep in last.items():
        now = hashes.of(folder)
        if not now and not Path(folder).exists():
            reasons.append(f"mappen {folder} finns inte längre")
            continue
        if sorted(now) != dep.get("filnamn"):
            added = sorted(set(now) - set(dep.get("filnamn") or []))
            removed = sorted(set(dep.get("filnamn") or []) - set(now))
            what = ", ".join([f"ny fil {n}" for n in added] + [f"borttagen fil {n}" for n in removed])
            reasons.append(f"filerna i studien har ändrats ({what})")
        by_file: dict[str, list[str]] = {}
        for table, file in (dep.get("tabeller") or {}).items():
            by_file.setdefault(file, []).append(table)
        for file, sha in (dep.get("filer") or {}).items():
            if now.get(file) != sha:
                tables = by_file.get(file)
                if tables:
                    word = "tabellen" if len(tables) == 1 else "tabellerna"
                    reasons.append(f"{word} {', '.join(sorted(tables))} har ändrats")
                else:
                    reasons.append(f"filen {file} har ändrats")
    return list(dict.fromkeys(reasons))


def _tables_text(last: dict[str, dict[str, Any]]) -> str:
    tables = sorted({t for dep in last.values() for t in (dep.get("tabeller") or {})})
    if any(dep.get("hela_mappen") for dep in last.values()):
        return "alla filer i studien"
    return ("tabellerna " + ", ".join(tables)) if tables else "inga tabeller"


# --------------------------------------------------------------------------- planning
@dataclass
class _Planned:
    task: ReportTask | None
    record: dict[str, Any]
    study: StudySpec
    skip_reason: str | None = None


def _report_names(config: RunConfig, study: StudySpec, areas: dict[str, str]) -> list[tuple[str, Path, str | None]]:
    """(report name, notebook, omrade_kod) for a study: names are safe, bounded and unique."""
    prefix = f"{study.name}/" if study.name is not None else ""
    entries: list[tuple[str, Path, str | None]] = [(f"{prefix}{nb.stem}", nb, None) for nb in config.notebooks]
    if config.profile is not None:
        used = {e[0] for e in entries}
        for code in areas:
            name = f"{prefix}{config.profile.stem}_{safe_name(code)}"
            if name in used:  # two codes with the same folded spelling ("a/b" and "a_b")
                name = f"{name}_{hashlib.sha256(code.encode('utf-8', 'surrogatepass')).hexdigest()[:8]}"
            used.add(name)
            entries.append((name, config.profile, code))
    return entries


def _study_areas(config: RunConfig, study: StudySpec) -> tuple[dict[str, str], str | None]:
    """The areas of a study's profile reports, and an error text when they cannot be known."""
    if config.profile is None:
        return {}, None
    known: dict[str, str] | None = None
    problem = None
    if study.path is not None:
        try:
            known = discover_areas(study.path)
        except InsatsError as exc:
            first = next((line for line in str(exc).splitlines() if line.strip().startswith("FEL")), str(exc))
            problem = f"områdena kunde inte läsas från tabellen omraden i {study.path}: {first.strip()}"
        except Exception as exc:  # noqa: BLE001 — an unreadable study fails its own reports only
            problem = f"områdena kunde inte läsas från tabellen omraden i {study.path}: {exc}"
    if config.areas == "alla":
        if problem:
            return {}, problem
        if not known:
            return {}, f"tabellen omraden i {study.path} har inga områden."
        return dict(known), None
    areas = {}
    for code in config.areas:
        if known is not None and code not in known:
            return {}, f"området {code!r} finns inte i tabellen omraden ({', '.join(known)})."
        areas[code] = (known or {}).get(code, code)
    return areas, None


def _decide(
    record: dict[str, Any],
    prev: dict[str, Any],
    *,
    force: bool,
    html_ok: bool,
    hashes: _Hashes,
) -> tuple[str | None, str]:
    """(skip reason or None, run reason): whether a planned report can be skipped, and why."""
    last_ok = prev.get("senast_ok") or {}
    if force:
        return None, "körs om: --force"
    if not last_ok:
        return None, "ny rapport: ingen tidigare lyckad körning"
    if prev.get("status") == FEL:
        return None, "förra körningen misslyckades"
    if not html_ok:
        return None, "rapportfilen saknas"
    before, now = last_ok.get("indata") or {}, record["indata"]
    reasons = []
    if before.get("notebook_sha256") != now["notebook_sha256"]:
        reasons.append("notebooken har ändrats")
    if before.get("parametrar_sha256") != now["parametrar_sha256"]:
        old = last_ok.get("parametrar") or {}
        changed = sorted(k for k in set(old) | set(record["parametrar"]) if old.get(k) != record["parametrar"].get(k))
        reasons.append(
            ("parametrarna " + ", ".join(changed) + " har ändrats") if changed else "parametrarna har ändrats"
        )
    if before.get("insats_version") != now["insats_version"]:
        reasons.append(f"ny version av insats ({before.get('insats_version')} → {now['insats_version']})")
    last = last_ok.get("lasta")
    if last is None:
        reasons.append("okänt vad rapporten läste förra gången")
    else:
        reasons += _what_changed(last, hashes)
    if reasons:
        return None, "; ".join(reasons)
    when = str(last_ok.get("slut") or "")[:16].replace("T", " ")
    return f"oförändrad: läser {_tables_text(last)}; inget av det har ändrats sedan {when}".strip(), ""


def _plan(
    config: RunConfig,
    *,
    only: list[str] | None,
    force: bool,
    previous: dict[str, dict[str, Any]],
    version: str,
    preimports: tuple[str, ...],
    hashes: _Hashes,
) -> tuple[list[_Planned], dict[str | None, dict[str, Any]]]:
    """Every report of the run with its task, record and skip decision; and per study its areas."""
    out_dir = config.out_dir
    studies: dict[str | None, dict[str, Any]] = {}
    entries: list[tuple[StudySpec, str, Path, str | None, str | None]] = []
    for study in config.studies:
        areas, problem = _study_areas(config, study)
        if problem and not config.multi:
            raise ConfigError(f"{config.path}, nyckeln korning.omraden: {problem}")
        studies[study.name] = {"areas": areas, "problem": problem}
        for name, nb, code in _report_names(config, study, areas):
            entries.append((study, name, nb, code, None))
        if problem and config.profile is not None:
            prefix = f"{study.name}/" if study.name is not None else ""
            entries.append((study, f"{prefix}{config.profile.stem}", config.profile, None, problem))

    selected = None
    if only:
        wanted = {str(o) for o in only}
        valid = {e[1] for e in entries} | {e[3] for e in entries if e[3] is not None}
        valid |= {s.name for s in config.studies if s.name is not None}
        unknown = sorted(wanted - valid)
        if unknown:
            raise ConfigError(
                f"--only: {', '.join(unknown)} finns inte i körningen; välj bland {', '.join(sorted(valid))}."
            )
        selected = {e[1] for e in entries if e[1] in wanted or e[3] in wanted or e[0].name in wanted}

    nb_hashes: dict[Path, str] = {}
    kernels: dict[Path, str] = {}
    env = () if config.cache else (("INSATS_CACHE", "0"),)
    planned = []
    for study, name, nb_path, code, problem in entries:
        if nb_path not in nb_hashes:
            nb_hashes[nb_path] = notebook_hash(nb_path)
            kernels[nb_path] = _kernel_name(nb_path)
        extra = {"omrade": code} if code is not None else {}
        params = config.parameters_for(nb_path, study, **extra)
        inputs = {
            "notebook_sha256": nb_hashes[nb_path],
            "parametrar_sha256": _sha256_bytes(_canonical(params).encode()),
            "insats_version": version,
        }
        data_dir = study.path.resolve() if study.path is not None else None
        if data_dir is not None:
            inputs["data_sha256"] = combined_hash(hashes.of(data_dir))
        key = _sha256_bytes(_canonical(inputs).encode())
        out_file = out_dir / f"{name}.ipynb"
        task = ReportTask(
            name=name,
            notebook=str(nb_path),
            parameters=params,
            cwd=str(nb_path.parent),
            timeout=config.timeout,
            cell_timeout=config.cell_timeout,
            kernel_name=kernels[nb_path],
            preimports=preimports,
            restart_every=config.restart_every,
            output_path=str(out_file),
            env=env,
        )
        prev = previous.get(name) or {}
        last_ok = prev.get("senast_ok")
        record = {
            "namn": name,
            "studie": study.name,
            "notebook": _rel(nb_path, config.root),
            "typ": "profil" if nb_path == config.profile else "studie",
            "omrade": code,
            "omrade_namn": studies[study.name]["areas"].get(code) if code is not None else None,
            "parametrar": params,
            "status": None,
            "orsak": None,
            "sekunder": None,
            "start": None,
            "slut": None,
            "fel": None,
            "html": None,
            "ipynb": None,
            "fel_html": None,
            "indata": inputs,
            "nyckel": key,
            "lasta": None,
            "senast_ok": last_ok,
            "arbetare": None,
            "karna_ateranvand": None,
            "externa_resurser": [],
            "faser": None,
            "omkord_efter_forlorad_arbetare": 0,
        }
        html_ok = (out_dir / f"{name}.html").is_file()
        if html_ok and last_ok:
            record["html"] = f"{name}.html"
            record["ipynb"] = f"{name}.ipynb"
            record["lasta"] = last_ok.get("lasta")
        if problem is not None:
            record.update(fel=_error("Planering", problem))
            planned.append(_Planned(None, record, study, None))
            continue
        if selected is not None and name not in selected:
            skip = "inte vald i denna körning (--only)"
            if prev.get("status") == FEL:
                skip += "; förra körningen misslyckades"
                record["fel"] = prev.get("fel")
                record["fel_html"] = prev.get("fel_html")
            planned.append(_Planned(task, record, study, skip))
            continue
        skip, why = _decide(record, prev, force=force, html_ok=html_ok, hashes=hashes)
        if skip is None:
            record["orsak"] = why
        planned.append(_Planned(task, record, study, skip))
    return planned, studies


def progress_line(i: int, n: int, record: dict[str, Any]) -> str:
    """One Swedish line per finished report: ``[3/15] omradesprofil 01  ok  4,2 s``. Text from data
    (area codes, error messages) is shown without control characters and cut to a line."""
    name = record["namn"]
    label = name
    if record["omrade"] is not None:
        code = visible(str(record["omrade"]))
        label = f"{Path(record['notebook']).stem} {code[:60] + ('…' if len(code) > 60 else '')}"
        if record.get("studie"):
            label = f"{record['studie']}: {label}"
    status = record["status"]
    line = f"[{i}/{n}] {label}  {status}"
    if status == SKIPPED:
        line += f"  ({visible(str(record['orsak']))})"
    else:
        line += f"  {format_seconds(record['sekunder'])}"
    if status == FEL and record.get("fel"):
        err = record["fel"]
        where = f"cell {err['cell']}: " if err.get("cell") else ""
        msg = visible((err.get("meddelande") or "").strip()).splitlines()
        line += f"  ({where}{visible(str(err.get('typ')))}: {msg[0][:120] if msg else ''})"
    return line


# --------------------------------------------------------------------------- outcomes
def _apply_outcome(
    record: dict[str, Any], outcome: ReportOutcome, out_dir: Path, data_dir: Path | None, hashes: _Hashes
) -> None:
    name = record["namn"]
    record.update(
        status=outcome.status,
        sekunder=round(outcome.seconds, 3),
        start=outcome.started,
        slut=outcome.finished,
        fel=outcome.error,
        arbetare=outcome.worker,
        karna_ateranvand=outcome.kernel_reused,
        externa_resurser=outcome.external,
        faser=outcome.phases,
    )
    try:
        if outcome.status == OK:
            last = inputs_read(outcome.reads, data_dir, hashes)
            if outcome.notebook is not None:
                atomic_write(out_dir / f"{name}.ipynb", outcome.notebook)
            atomic_write(out_dir / f"{name}.html", outcome.html or "")
            for stale in (f"{name}.fel.ipynb", f"{name}.fel.html"):
                with contextlib.suppress(OSError):
                    (out_dir / stale).unlink()
            record.update(
                html=f"{name}.html",
                ipynb=f"{name}.ipynb",
                fel_html=None,
                lasta=last,
                senast_ok={
                    "nyckel": record["nyckel"],
                    "indata": record["indata"],
                    "parametrar": record["parametrar"],
                    "lasta": last,
                    "slut": outcome.finished,
                    "sekunder": record["sekunder"],
                },
            )
            return
        if outcome.notebook is not None:
            atomic_write(out_dir / f"{name}.fel.ipynb", outcome.notebook)
        if outcome.html is not None:
            atomic_write(out_dir / f"{name}.fel.html", outcome.html)
            record["fel_html"] = f"{name}.fel.html"
        else:
            record["fel_html"] = None
    except OSError as exc:
        record.update(
            status=FEL,
            fel=_error("Skrivfel", f"rapportens filer kunde inte skrivas i {out_dir} ({exc.strerror or exc})."),
            fel_html=None,
        )
    # the previous good report (if any) stays; the index says it is older
    if not (out_dir / f"{name}.html").is_file():
        record.update(html=None, ipynb=None)


def _outcome_from_exception(task: ReportTask, exc: BaseException) -> ReportOutcome:
    kind = type(exc).__name__
    if kind == "KilledWorker":
        message = (
            "rapporten avbröts för att arbetarna som körde den dog flera gånger (för lite minne, "
            f"eller ett fel som stoppar processen): {exc}"
        )
    else:
        message = f"arbetaren misslyckades: {exc}"
    return ReportOutcome(task.name, FEL, 0.0, now_iso(), now_iso(), error=_error(kind, message))


# --------------------------------------------------------------------------- running
@dataclass
class _Job:
    task: ReportTask
    ready: threading.Event
    """Set when the report's study is prepared."""
    stop: threading.Event
    """Set when the run is interrupted: a report not yet started is not started."""


def _prepare_studies(order: list[tuple[StudySpec, threading.Event]], cache: bool, note: Callable[[str], None]) -> None:
    """Give each study a validated copy before its reports start (so no kernel checks the
    sources again), in the order the reports run; open each study's gate when done."""
    try:
        for study, ready in order:
            if cache and study.path is not None:
                try:
                    ensure_validated(study.path)
                except Exception as exc:  # noqa: BLE001 — the reports then read the sources themselves
                    note(f"studien {study.path} kunde inte förberedas ({type(exc).__name__}: {exc}).")
            ready.set()
    finally:
        for _, ready in order:
            ready.set()


def _local_job(job: _Job) -> ReportOutcome:
    if not job.stop.is_set():
        with contextlib.suppress(Exception):  # start (or find) this thread's kernel while studies are prepared
            kernel_pool().warm(job.task)
    while not job.ready.wait(0.2) and not job.stop.is_set():
        pass
    if job.stop.is_set():
        return ReportOutcome(
            job.task.name, FEL, 0.0, now_iso(), now_iso(), error=_error("Avbruten", "körningen avbröts.")
        )
    return run_report(job.task, export=False)  # exported by the main thread, while this kernel goes on


def _run_local(jobs: list[_Job], workers: int) -> Iterator[ReportOutcome]:
    """Yield outcomes as reports finish, from ``workers`` threads each driving a kernel."""

    executor = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="insats-rapport")
    finished = False
    try:
        futures = {executor.submit(_local_job, job): job.task for job in jobs}
        pending = set(futures)
        while pending:
            done, pending = wait(pending, return_when=FIRST_COMPLETED)
            for fut in done:
                task = futures.pop(fut)  # a finished report's outputs are not kept after they are written
                try:
                    outcome = fut.result()
                except Exception as exc:  # noqa: BLE001
                    outcome = _outcome_from_exception(task, exc)
                if outcome.notebook is not None and outcome.html is None:
                    export_outcome(outcome)
                yield outcome
        finished = True
    finally:
        if not finished:  # interrupted: nothing new starts, and running kernels stop now
            for job in jobs:
                job.stop.set()
            kernel_pool().kill_all()
        executor.shutdown(wait=True, cancel_futures=True)
        kernel_pool().close()


try:  # the plugin class needs distributed; the rest of the module does not
    from distributed.diagnostics.plugin import WorkerPlugin as _WorkerPlugin
except Exception:  # noqa: BLE001
    _WorkerPlugin = object  # type: ignore[assignment,misc]


class KernelPoolPlugin(_WorkerPlugin):  # type: ignore[misc,valid-type]
    """Closes a Dask worker's kernels when the worker stops."""

    name = "insats-karnor"

    def teardown(self, worker) -> None:
        from insats.runner.kernels import close_pool  # in the worker process

        close_pool()


def _run_dask(
    jobs: list[_Job],
    scheduler: Any,
    on_event: Callable[[dict[str, Any]], None],
) -> Iterator[ReportOutcome]:
    """Yield outcomes as reports finish on a Dask distributed cluster; note lost workers."""

    from distributed import Client  # heavy (~1 s): only a run with --scheduler needs it

    own = not isinstance(scheduler, Client)
    client = Client(scheduler) if own else scheduler
    token = uuid.uuid4().hex[:8]
    submitted: queue.Queue = queue.Queue()
    by_key: dict[str, ReportTask] = {}

    def submit_all() -> None:
        for job in jobs:
            job.ready.wait()
            key = f"insats-{safe_name(job.task.name, 80)}-{token}"
            fut = client.submit(run_report, job.task, key=key, pure=False)
            by_key[key] = job.task
            submitted.put(fut)
        submitted.put(None)

    try:
        with contextlib.suppress(Exception):
            client.register_plugin(KernelPoolPlugin(), name=KernelPoolPlugin.name)
        feeder = threading.Thread(target=submit_all, name="insats-dask-sandare", daemon=True)
        feeder.start()
        pending: set = set()
        all_submitted = False
        where: dict[str, str] = {}
        known: set[str] = set(client.scheduler_info().get("workers", {}))
        no_workers_since: float | None = None
        while pending or not all_submitted:
            while True:
                try:
                    fut = submitted.get(timeout=0 if pending else DASK_POLL_SECONDS)
                except queue.Empty:
                    break
                if fut is None:
                    all_submitted = True
                    break
                pending.add(fut)
            for fut in [f for f in pending if f.done()]:
                pending.discard(fut)
                try:
                    outcome = fut.result()
                except Exception as exc:  # noqa: BLE001
                    outcome = _outcome_from_exception(by_key[fut.key], exc)
                fut.release()  # the cluster may forget the result once it is here
                yield outcome
            if not pending:
                continue
            try:
                workers_now = set(client.scheduler_info().get("workers", {}))
                processing = client.processing()
            except Exception:  # noqa: BLE001 — the scheduler is busy; ask again next round
                time.sleep(DASK_POLL_SECONDS)
                continue
            open_keys = {f.key for f in pending}
            for lost in sorted(known - workers_now):
                names = sorted(by_key[k].name for k, w in where.items() if w == lost and k in open_keys)
                on_event(
                    {
                        "tid": now_iso(),
                        "typ": "arbetare_forlorad",
                        "arbetare": lost,
                        "rapporter": names,
                        "meddelande": f"arbetaren {lost} försvann under körningen"
                        + (f"; {', '.join(names)} körs om på en annan arbetare." if names else "."),
                    }
                )
            known = workers_now
            for worker, keys in (processing or {}).items():
                for k in keys:
                    where[str(k)] = worker
            if workers_now:
                no_workers_since = None
            else:
                no_workers_since = no_workers_since or time.monotonic()
                if time.monotonic() - no_workers_since > DASK_NO_WORKERS_SECONDS:
                    for fut in list(pending):
                        pending.discard(fut)
                        fut.cancel()
                        yield ReportOutcome(
                            by_key[fut.key].name,
                            FEL,
                            0.0,
                            now_iso(),
                            now_iso(),
                            error=_error(
                                "IngenArbetare",
                                f"klustret har inte haft någon arbetare på {DASK_NO_WORKERS_SECONDS:.0f} s; "
                                "rapporten kördes inte.",
                            ),
                        )
                    break
            time.sleep(DASK_POLL_SECONDS)
    finally:
        if own:
            client.close()


def run_batch(
    config: RunConfig,
    *,
    workers: int | None = None,
    only: list[str] | None = None,
    force: bool = False,
    scheduler: Any = None,
    on_report: Callable[[int, int, dict[str, Any]], None] | None = None,
) -> RunResult:
    """Run every report of ``config``; see the module docstring. Raises ``ConfigError`` before
    anything runs when the run cannot be planned (unknown area, unreadable ``omraden`` in a run over
    one study, lock). In a run over several studies a study whose areas cannot be read fails its
    own profile and the others run."""

    t0 = time.monotonic()
    out_dir = config.out_dir
    out_dir.mkdir(parents=True, exist_ok=True)
    versions = _versions()
    with _RunLock(out_dir):
        previous_run = _read_previous(out_dir / "korning.json")
        previous = _previous_records(previous_run)
        hashes = _Hashes()
        nb_paths = list(config.notebooks) + ([config.profile] if config.profile else [])
        preimports = tuple(dict.fromkeys(list(DEFAULT_PREIMPORTS) + [m for p in nb_paths for m in notebook_imports(p)]))
        planned, studies = _plan(
            config,
            only=only,
            force=force,
            previous=previous,
            version=versions["insats"],
            preimports=preimports,
            hashes=hashes,
        )
        records = [p.record for p in planned]
        n = len(planned)
        to_run = [p for p in planned if p.skip_reason is None and p.task is not None]
        n_workers = max(1, min(workers or config.workers or os.cpu_count() or 1, max(1, len(to_run))))
        events: list[dict[str, Any]] = []
        study_info = {
            (s.name or ""): {
                "mapp": str(s.path) if s.path else None,
                "sha256": combined_hash(hashes.of(s.path.resolve())) if s.path else None,
                "filer": hashes.of(s.path.resolve()) if s.path else {},
                "omraden": studies[s.name]["areas"],
                "problem": studies[s.name]["problem"],
            }
            for s in config.studies
        }
        single = study_info.get("", {}) if not config.multi else {}
        run_info: dict[str, Any] = {
            "format": FORMAT_VERSION,
            "namn": config.name,
            "params_fil": str(config.path),
            "params_sha256": _sha256_bytes(config.path.read_bytes()),
            "rot": str(config.root),
            "paket": versions,
            "start": now_iso(),
            "slut": None,
            "sekunder": None,
            "klar": False,
            "arbetare": n_workers,
            "schemalaggare": None
            if scheduler is None
            else str((getattr(scheduler, "scheduler", None) and scheduler.scheduler.address) or scheduler),
            "tvingad": force,
            "endast": list(only) if only else None,
            "cache": config.cache,
            "data": {"mapp": single.get("mapp"), "sha256": single.get("sha256"), "filer": single.get("filer", {})},
            "studier": {k: v for k, v in study_info.items() if k} if config.multi else None,
            "omraden": single.get("omraden", {}) if not config.multi else None,
            "handelser": events,
            "sammanfattning": {},
            "rapporter": records,
        }

        def save() -> None:
            run_info["sammanfattning"] = {s: sum(r["status"] == s for r in records) for s in (OK, FEL, SKIPPED)}
            atomic_write(out_dir / "korning.json", json.dumps(run_info, ensure_ascii=False, indent=2, default=str))
            write_index(out_dir / "index.html", run_info)

        done = 0

        def report(record: dict[str, Any]) -> None:
            nonlocal done
            done += 1
            if on_report is not None:
                on_report(done, n, record)

        def event(item: dict[str, Any]) -> None:
            events.append(item)
            log.warning("Obs: %s", item["meddelande"])
            for name in item.get("rapporter", []):
                by_name[name]["omkord_efter_forlorad_arbetare"] += 1
            save()

        for p in planned:
            if p.task is None:
                p.record.update(status=FEL, orsak="kunde inte planeras")
                report(p.record)
            elif p.skip_reason is not None:
                p.record.update(status=SKIPPED, orsak=p.skip_reason, sekunder=None)
                report(p.record)
        save()
        by_name = {p.record["namn"]: p.record for p in to_run}
        study_dir = {p.record["namn"]: (p.study.path.resolve() if p.study.path else None) for p in to_run}
        try:
            if to_run:
                gates: dict[str | None, threading.Event] = {}
                order: list[tuple[StudySpec, threading.Event]] = []
                jobs = []
                stop = threading.Event()
                # the study notebooks first (they take longest), studies in the order given
                for p in sorted(to_run, key=lambda p: (config.studies.index(p.study), p.record["typ"] != "studie")):
                    if p.study.name not in gates:
                        gates[p.study.name] = threading.Event()
                        order.append((p.study, gates[p.study.name]))
                    jobs.append(_Job(p.task, gates[p.study.name], stop))
                preparer = threading.Thread(
                    target=_prepare_studies,
                    args=(order, config.cache, lambda text: log.warning("Obs: %s", text)),
                    name="insats-forbered",
                    daemon=True,
                )
                preparer.start()
                outcomes = _run_dask(jobs, scheduler, event) if scheduler is not None else _run_local(jobs, n_workers)
                for outcome in outcomes:
                    record = by_name[outcome.name]
                    _apply_outcome(record, outcome, out_dir, study_dir[outcome.name], hashes)
                    report(record)
                    save()
            run_info["klar"] = True
        finally:
            for record in records:
                if record["status"] is None:
                    record.update(status=FEL, fel=_error("Avbruten", "körningen avbröts innan rapporten var klar."))
            run_info["slut"] = now_iso()
            run_info["sekunder"] = round(time.monotonic() - t0, 3)
            save()
    return RunResult(config.name, out_dir, records, time.monotonic() - t0, events)
