"""Batch reruns: the study notebooks and one profile per area, in parallel, resumable.

``run_batch(config)`` (the ``insats run PARAMS.yaml`` command) turns a validated params file
(:mod:`insats.runner.config`) into *reports*: one per study notebook and one per area for the profile
notebook. For each it injects the parameters the way papermill does
(``papermill.parameterize.parameterize_notebook``: an ``injected-parameters`` cell after the
``parameters`` cell, papermill metadata on notebook and cells), executes the notebook, writes
``reports/<namn>/<rapport>.ipynb`` and an offline HTML file without code, and keeps
``reports/<namn>/korning.json`` (the audit trail: parameters, input hashes, package versions,
times, errors) and ``reports/<namn>/index.html`` (the same, in Swedish, for people) up to date
after every report.

Execution model
---------------
``run_report(task)`` runs one report and never raises: it returns a ``ReportOutcome`` holding
the executed notebook and its HTML. The coordinator (``run_batch``) is the only writer of files,
so ``reports/`` is consistent whatever runs the reports:

* locally, a ``ProcessPoolExecutor`` (spawned processes, ``--workers`` of them, default the
  number of cores) calls ``run_report``;
* with ``--scheduler ADDRESS``, the same function is submitted to a Dask distributed cluster
  (the workers need the package and the same paths to notebooks and data, i.e. a shared disk).

Each process keeps a module-level ``KernelPool``: a worker starts one Jupyter kernel, imports the
heavy modules in it once (pandas, numpy, altair, insats and whatever the run's notebooks
import), and then runs report after report on it. Kernel start and those imports take seconds;
paying them once per worker instead of once per report is where most of the speed comes from.

Papermill's traps in parallel use, and what is done about them:

* *process-global cwd*: nothing here calls ``os.chdir``; every path is absolute and the kernel's
  working directory (the notebook's folder, as in JupyterLab) is set inside the kernel.
* *port collisions* when kernels start at the same time: a kernel that fails to start or to answer
  is killed and started again, up to ``KERNEL_START_ATTEMPTS`` times with a growing pause.
* *IPython's history database* (SQLite) locked by parallel kernels: kernels keep history in memory.
* *a kernel that hangs* (in a cell, or after the last one): each cell has a timeout
  (``cell_timeout``) and each report a wall-clock timeout (``timeout``); on either, the kernel is
  killed and the report marked failed. A dead kernel fails only its own report.

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

What a cleanup cannot undo is a notebook changing a module's globals (monkeypatching, mutating a
module-level cache). To bound that risk the kernel is replaced after any failed report (error,
timeout, dead kernel, failed cleanup) and after ``restart_every`` reports (``kernel_omstart``,
default 20); ``kernel_omstart: 1`` gives every report a fresh kernel (papermill's isolation,
without its per-report start cost in the coordinator). Pre-importing a notebook's imports before
its first cell differs from a fresh run only for modules whose import depends on earlier cells.

Resuming
--------
A report's *key* is the hash of the notebook's cells (sources, not outputs), its parameters (as
written in the params file, plus ``omrade``), the input data files' SHA-256 and the package
version. A report whose key equals that of its last successful run, and whose HTML is still in
place, is skipped (``överhoppad``) unless ``force``. A failed report keeps the previous good
``<rapport>.html``; its own output goes to ``<rapport>.fel.ipynb`` / ``.fel.html``. Every file is
written to a temporary file and renamed into place.
"""

from __future__ import annotations

import ast
import contextlib
import hashlib
import json
import logging
import multiprocessing as mp
import os
import shutil
import socket
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from dataclasses import dataclass
from importlib.metadata import version
from pathlib import Path
from typing import Any

from insats import __version__
from insats.atomic import atomic_write, sha256_of
from insats.contract import fold
from insats.data.load import StudyError, load_study, read_table
from insats.reports.export import external_references
from insats.runner.config import ConfigError, RunConfig
from insats.runner.execute import _warm_worker, run_report
from insats.runner.index import write_index
from insats.runner.kernels import KernelPool, close_pool
from insats.runner.tasks import DEFAULT_PREIMPORTS, FEL, OK, SKIPPED, ReportOutcome, ReportTask, format_seconds, now_iso

log = logging.getLogger(__name__)

__all__ = [
    "KernelPool",
    "ReportOutcome",
    "ReportTask",
    "RunResult",
    "cached_study_dir",
    "external_references",
    "hash_folder",
    "run_batch",
    "run_report",
]

FORMAT_VERSION = 1


# --------------------------------------------------------------------------- run result
@dataclass
class RunResult:
    """The outcome of ``run_batch``: one record per report (as in ``korning.json``)."""

    name: str
    out_dir: Path
    records: list[dict[str, Any]]
    seconds: float

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


def slug(text: str) -> str:

    return fold(text) or "x"


def hash_folder(folder: Path | str) -> dict[str, str]:
    """SHA-256 of every data file directly in ``folder`` (hidden and ``~$`` files left out)."""

    folder = Path(folder)
    if folder.is_file():
        return {folder.name: sha256_of(folder)}
    return {
        p.name: sha256_of(p) for p in sorted(folder.iterdir()) if p.is_file() and not p.name.startswith((".", "~$"))
    }


def combined_hash(hashes: dict[str, str]) -> str:
    return _sha256_bytes("\n".join(f"{k}:{v}" for k, v in sorted(hashes.items())).encode())


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
    """Modules a notebook imports (``import a.b``, ``from a.b import c``), found without running it."""
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
    return list(dict.fromkeys(found))


def _kernel_name(path: Path | str) -> str:
    nb = json.loads(Path(path).read_text(encoding="utf-8"))
    return nb.get("metadata", {}).get("kernelspec", {}).get("name") or "python3"


# --------------------------------------------------------------------------- Parquet cache
def cached_study_dir(data_dir: Path | str, cache_root: Path | str) -> Path:
    """A Parquet copy of a study folder, made once per content: ``cache_root/<name>-<hash>/``.

    The study is loaded with ``insats.data.load.load_study`` (strict: a study with errors raises
    ``StudyError``) and each typed table is written as Parquet; loading the copy gives the same
    typed tables, without parsing CSV again. The key is the SHA-256 of the input files, so a
    changed file gives a new copy. ``studie.json`` is copied, with the source folder and file
    hashes added under ``"cache"``.
    """

    data_dir = Path(data_dir).resolve()
    cache_root = Path(cache_root)
    hashes = hash_folder(data_dir)
    key = combined_hash(hashes)[:16]
    target = cache_root / f"{slug(data_dir.name)}-{key}"
    if (target / ".klar").is_file():
        return target
    study = load_study(data_dir)
    cache_root.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}.", dir=cache_root))
    try:
        for name, df in study.tables.items():
            df.to_parquet(tmp / f"{name}.parquet", index=False)
        meta = dict(study.meta)
        meta["cache"] = {"kalla": str(data_dir), "filer": hashes}
        (tmp / "studie.json").write_text(json.dumps(meta, ensure_ascii=False, indent=2), encoding="utf-8")
        (tmp / ".klar").write_text(now_iso(), encoding="utf-8")
        try:
            os.replace(tmp, target)
        except OSError:
            if not (target / ".klar").is_file():  # neither a finished copy by someone else
                raise
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)
    return target


# --------------------------------------------------------------------------- Dask
try:  # the plugin class needs distributed; the rest of the module does not
    from distributed.diagnostics.plugin import WorkerPlugin as _WorkerPlugin
except Exception:  # noqa: BLE001
    _WorkerPlugin = object  # type: ignore[assignment,misc]


class KernelPoolPlugin(_WorkerPlugin):  # type: ignore[misc,valid-type]
    """Closes a Dask worker's kernels when the worker stops."""

    name = "insats-karnor"

    def teardown(self, worker) -> None:
        close_pool()


# --------------------------------------------------------------------------- the run
@dataclass
class _Planned:
    task: ReportTask
    record: dict[str, Any]
    skip_reason: str | None = None


def discover_areas(data_dir: Path) -> dict[str, str]:
    """``omrade_kod -> omrade`` from the study's ``omraden`` table (the latest year's name)."""

    df = read_table(data_dir, "omraden")
    if "ar" in df:
        df = df.sort_values("ar", kind="stable")
    out: dict[str, str] = {}
    for code, name in zip(df["omrade_kod"], df["omrade"]):
        out[str(code)] = str(name)
    return dict(sorted(out.items()))


def _read_previous(path: Path) -> dict[str, dict[str, Any]]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        return {r["namn"]: r for r in data.get("rapporter", []) if isinstance(r, dict) and "namn" in r}
    except (OSError, ValueError, TypeError, KeyError):
        return {}


def _versions() -> dict[str, str]:

    out = {"insats": __version__, "python": sys.version.split()[0]}
    for pkg in ("papermill", "nbclient", "nbconvert", "jupyter_client", "ipykernel", "pandas"):
        try:
            out[pkg] = version(pkg)
        except Exception:  # noqa: BLE001
            pass
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
                    raise ConfigError(f"en annan körning pågår redan i {self.path.parent} (låsfil {self.path}).")
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


def _plan(
    config: RunConfig,
    *,
    only: list[str] | None,
    force: bool,
    data_param: str | None,
    data_hash: str | None,
    previous: dict[str, dict[str, Any]],
    version: str,
    preimports: tuple[str, ...],
) -> tuple[list[_Planned], dict[str, str]]:
    out_dir = config.out_dir
    areas: dict[str, str] = {}
    if config.profile is not None:
        known: dict[str, str] | None = None
        if config.data_dir is not None:
            try:
                known = discover_areas(config.data_dir)
            except Exception as exc:  # noqa: BLE001
                if config.areas == "alla":
                    raise ConfigError(
                        f"{config.path}, nyckeln korning.omraden: områdena kunde inte läsas "
                        f"från tabellen omraden i {config.data_dir}: {exc}"
                    ) from None
        if config.areas == "alla":
            areas = dict(known or {})
            if not areas:
                raise ConfigError(f"{config.path}: tabellen omraden i {config.data_dir} har inga områden.")
        else:
            for code in config.areas:
                if known is not None and code not in known:
                    raise ConfigError(
                        f"{config.path}, nyckeln korning.omraden: området {code!r} finns inte i "
                        f"tabellen omraden ({', '.join(known)})."
                    )
                areas[code] = (known or {}).get(code, code)

    entries: list[tuple[str, Path, str | None]] = [(nb.stem, nb, None) for nb in config.notebooks]
    if config.profile is not None:
        names = {}
        for code in areas:
            name = f"{config.profile.stem}_{slug(code)}"
            if name in names:
                raise ConfigError(f"{config.path}: områdena {names[name]!r} och {code!r} ger samma rapportnamn {name}.")
            names[name] = code
            entries.append((name, config.profile, code))

    selected = None
    if only:
        wanted = {str(o) for o in only}
        valid = {e[0] for e in entries} | {e[2] for e in entries if e[2] is not None}
        unknown = sorted(wanted - valid)
        if unknown:
            raise ConfigError(
                f"--only: {', '.join(unknown)} finns inte i körningen; välj bland {', '.join(sorted(valid))}."
            )
        selected = {e[0] for e in entries if e[0] in wanted or (e[2] is not None and e[2] in wanted)}

    nb_hashes: dict[Path, str] = {}
    kernels: dict[Path, str] = {}
    planned = []
    for name, nb_path, code in entries:
        if nb_path not in nb_hashes:
            nb_hashes[nb_path] = notebook_hash(nb_path)
            kernels[nb_path] = _kernel_name(nb_path)
        user_params = dict(config.parameters)
        if code is not None:
            user_params["omrade"] = code
        extra = {"omrade": code} if code is not None else {}
        params = config.notebook_parameters(**extra)
        if data_param is not None:
            params["data_dir"] = data_param
        inputs = {
            "notebook_sha256": nb_hashes[nb_path],
            "parametrar_sha256": _sha256_bytes(_canonical(user_params).encode()),
            "data_sha256": data_hash,
            "insats_version": version,
        }
        key = _sha256_bytes(_canonical(inputs).encode())
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
            output_path=str(out_dir / f"{name}.ipynb"),
        )
        prev = previous.get(name) or {}
        last_ok = prev.get("senast_ok")
        record = {
            "namn": name,
            "notebook": _rel(nb_path, config.root),
            "typ": "profil" if code is not None else "studie",
            "omrade": code,
            "omrade_namn": areas.get(code) if code is not None else None,
            "parametrar": user_params,
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
            "senast_ok": last_ok,
            "arbetare": None,
            "karna_ateranvand": None,
            "externa_resurser": [],
            "faser": None,
        }
        html_ok = (out_dir / f"{name}.html").is_file()
        if html_ok and last_ok:
            record["html"] = f"{name}.html"
            record["ipynb"] = f"{name}.ipynb"
        skip = None
        if selected is not None and name not in selected:
            skip = "inte vald i denna körning (--only)"
            if prev.get("status") == FEL:
                skip += "; förra körningen misslyckades"
                record["fel"] = prev.get("fel")
                record["fel_html"] = prev.get("fel_html")
        elif not force and last_ok and last_ok.get("nyckel") == key and html_ok:
            skip = f"oförändrad sedan lyckad körning {last_ok.get('slut', '')}".strip()
        planned.append(_Planned(task, record, skip))
    return planned, areas


def _data_for_run(config: RunConfig) -> tuple[str | None, str | None, dict[str, str], str | None]:
    """(data_dir for notebooks, combined data hash, file hashes, cache note)."""
    data_dir = config.data_dir
    if data_dir is None:
        return None, None, {}, None
    hashes = hash_folder(data_dir)
    data_hash = combined_hash(hashes)
    if not config.cache:
        return None, data_hash, hashes, None

    try:
        cache = cached_study_dir(data_dir, config.out_dir.parent / ".cache")
    except StudyError as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
        return (
            None,
            data_hash,
            hashes,
            f"ingen Parquet-cache: studien har fel ({first}); notebooks läser originalfilerna.",
        )
    return str(cache), data_hash, hashes, None


def progress_line(i: int, n: int, record: dict[str, Any]) -> str:
    """One Swedish line per finished report: ``[3/15] omradesprofil 01  ok  4,2 s``."""
    name = record["namn"]
    label = f"{Path(record['notebook']).stem} {record['omrade']}" if record["omrade"] is not None else name
    status = record["status"]
    line = f"[{i}/{n}] {label}  {status}"
    if status == SKIPPED:
        line += f"  ({record['orsak']})"
    else:
        line += f"  {format_seconds(record['sekunder'])}"
    if status == FEL and record.get("fel"):
        err = record["fel"]
        where = f"cell {err['cell']}: " if err.get("cell") else ""
        msg = (err.get("meddelande") or "").strip().splitlines()
        line += f"  ({where}{err.get('typ')}: {msg[0][:120] if msg else ''})"
    return line


def _apply_outcome(record: dict[str, Any], outcome: ReportOutcome, out_dir: Path) -> None:
    name = record["namn"]
    record.update(
        status=outcome.status,
        orsak=None,
        sekunder=round(outcome.seconds, 3),
        start=outcome.started,
        slut=outcome.finished,
        fel=outcome.error,
        arbetare=outcome.worker,
        karna_ateranvand=outcome.kernel_reused,
        externa_resurser=outcome.external,
        faser=outcome.phases,
    )
    if outcome.status == OK:
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
            senast_ok={"nyckel": record["nyckel"], "slut": outcome.finished, "sekunder": record["sekunder"]},
        )
    else:
        if outcome.notebook is not None:
            atomic_write(out_dir / f"{name}.fel.ipynb", outcome.notebook)
        if outcome.html is not None:
            atomic_write(out_dir / f"{name}.fel.html", outcome.html)
            record["fel_html"] = f"{name}.fel.html"
        else:
            record["fel_html"] = None
        # the previous good report (if any) stays; the index says it is older
        if not (out_dir / f"{name}.html").is_file():
            record.update(html=None, ipynb=None)


def _outcome_from_exception(task: ReportTask, exc: BaseException) -> ReportOutcome:
    return ReportOutcome(
        task.name,
        FEL,
        0.0,
        now_iso(),
        now_iso(),
        error={
            "cell": None,
            "exekvering": None,
            "typ": type(exc).__name__,
            "meddelande": f"arbetaren misslyckades: {exc}",
            "kalla": None,
        },
    )


def _run_local(tasks: list[ReportTask], workers: int):
    """Yield outcomes as reports finish, from a pool of spawned worker processes."""

    first = tasks[0]
    executor = ProcessPoolExecutor(
        max_workers=workers,
        mp_context=mp.get_context("spawn"),
        initializer=_warm_worker,
        initargs=(first.kernel_name, first.preimports, first.cwd),
    )
    try:
        futures = {executor.submit(run_report, t): t for t in tasks}
        pending = set(futures)
        while pending:
            done, pending = wait(pending, return_when=FIRST_COMPLETED)
            for fut in done:
                try:
                    yield fut.result()
                except BaseException as exc:  # noqa: BLE001 — e.g. a worker process died
                    yield _outcome_from_exception(futures[fut], exc)
    finally:
        executor.shutdown(wait=True, cancel_futures=True)


def _run_dask(tasks: list[ReportTask], scheduler: Any):
    """Yield outcomes as reports finish on a Dask distributed cluster."""

    from distributed import Client, as_completed  # heavy (~1 s): only a run with --scheduler needs it

    own = not isinstance(scheduler, Client)
    client = Client(scheduler) if own else scheduler
    try:
        with contextlib.suppress(Exception):
            client.register_plugin(KernelPoolPlugin(), name=KernelPoolPlugin.name)
        token = uuid.uuid4().hex[:8]
        futures = {
            client.submit(run_report, t, key=f"insats-run-{t.name}-{token}", pure=False, retries=0): t for t in tasks
        }
        for fut in as_completed(list(futures)):
            try:
                yield fut.result()
            except BaseException as exc:  # noqa: BLE001
                yield _outcome_from_exception(futures[fut], exc)
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
    anything runs when the run cannot be planned (unknown area, unreadable ``omraden``, lock)."""

    t0 = time.monotonic()
    out_dir = config.out_dir
    out_dir.mkdir(parents=True, exist_ok=True)
    versions = _versions()
    with _RunLock(out_dir):
        previous = _read_previous(out_dir / "korning.json")
        data_param, data_hash, data_files, cache_note = _data_for_run(config)
        nb_paths = list(config.notebooks) + ([config.profile] if config.profile else [])
        preimports = tuple(dict.fromkeys(list(DEFAULT_PREIMPORTS) + [m for p in nb_paths for m in notebook_imports(p)]))
        planned, areas = _plan(
            config,
            only=only,
            force=force,
            data_param=data_param,
            data_hash=data_hash,
            previous=previous,
            version=versions["insats"],
            preimports=preimports,
        )
        records = [p.record for p in planned]
        n = len(planned)
        to_run = [p for p in planned if p.skip_reason is None]
        n_workers = max(1, min(workers or config.workers or os.cpu_count() or 1, max(1, len(to_run))))
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
            "cache": data_param,
            "cache_anmarkning": cache_note,
            "data": {
                "mapp": str(config.data_dir) if config.data_dir else None,
                "sha256": data_hash,
                "filer": data_files,
            },
            "omraden": areas,
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

        if cache_note:
            log.warning("Obs: %s", cache_note)
        for p in planned:
            if p.skip_reason is not None:
                p.record.update(status=SKIPPED, orsak=p.skip_reason, sekunder=None)
                report(p.record)
        save()
        by_name = {p.task.name: p.record for p in to_run}
        try:
            if to_run:
                tasks = [p.task for p in to_run]
                outcomes = _run_dask(tasks, scheduler) if scheduler is not None else _run_local(tasks, n_workers)
                for outcome in outcomes:
                    record = by_name[outcome.name]
                    _apply_outcome(record, outcome, out_dir)
                    report(record)
                    save()
            run_info["klar"] = True
        finally:
            for record in records:
                if record["status"] is None:
                    record.update(
                        status=FEL,
                        fel={
                            "cell": None,
                            "exekvering": None,
                            "typ": "Avbruten",
                            "meddelande": "körningen avbröts innan rapporten var klar.",
                            "kalla": None,
                        },
                    )
            run_info["slut"] = now_iso()
            run_info["sekunder"] = round(time.monotonic() - t0, 3)
            save()
    return RunResult(config.name, out_dir, records, time.monotonic() - t0)
