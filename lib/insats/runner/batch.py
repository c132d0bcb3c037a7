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
``reports/<namn>/index.html`` (the same, in Swedish, for people) up to date as reports finish:
written after a finished report once ``SAVE_EVERY`` seconds have passed since the last writing
(and at the start, after an event and at the end), so that a run over thousands of reports does
not spend its time rewriting the record of all of them after each one.

Execution model
---------------
``run_report(task)`` runs one report and never raises: it returns a ``ReportOutcome`` holding
the executed notebook, its HTML and what the report read. The coordinator (``run_batch``) is the
only writer of files, so ``reports/`` is consistent whatever runs the reports:

* locally, ``--workers`` threads of the coordinator (default the number of cores) each drive one
  Jupyter kernel (a separate process, where the work happens) through ``run_report``, taking
  reports in the order of a ``JobQueue`` (``insats.runner.tasks``): in a run over several
  studies a free worker begins another study rather than wait for the publication of one
  that another worker is computing;
* with ``--scheduler ADDRESS``, the same function is submitted to a Dask distributed cluster
  (the workers need the package and the same paths to notebooks and data, i.e. a shared disk).
  When a worker dies, the scheduler runs its reports again on another worker; the run records
  which worker was lost and which reports were run again.

Kernels are reused from report to report (``insats.runner.kernels``): a kernel starts, imports
the heavy modules once (pandas, numpy, altair, insats and whatever the run's notebooks import)
and then runs report after report. Kernel start and those imports take seconds; paying them once
per worker instead of once per report is where most of the speed comes from. The first report's
kernel starts as soon as the plan shows there is a report to run (``KernelPool.prestart``), before
the run is recorded, its study prepared and papermill, nbclient and nbconvert loaded in the
coordinator; a worker then takes that kernel rather than starting one of its own. The
coordinator's main thread turns each finished report into HTML (``insats.reports.export``) while
its kernel already runs the next one.

Work done once per run
----------------------
Before a study's reports start, the coordinator makes sure the study has a validated copy
(``insats.data.validated``: typed Parquet beside a manifest of source hashes), so no kernel parses
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

import contextlib
import json
import logging
import os
import queue
import socket
import sys
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from importlib.metadata import version
from pathlib import Path
from typing import Any

from insats import __version__
from insats.atomic import atomic_write, sha256_of
from insats.data.validated import combined_hash, ensure_validated
from insats.errors import os_reason
from insats.runner.config import ConfigError, RunConfig, StudySpec
from insats.runner.index import visible, write_index
from insats.runner.inputs import FolderHashes, inputs_read
from insats.runner.kernels import kernel_pool
from insats.runner.plan import notebook_imports, plan
from insats.runner.publish import after_reports, records_here
from insats.runner.startup import import_soon
from insats.runner.tasks import (
    DEFAULT_PREIMPORTS,
    FEL,
    OK,
    SKIPPED,
    Job,
    JobQueue,
    ReportOutcome,
    error_record,
    format_seconds,
    now_iso,
    outcome_from_exception,
)

log = logging.getLogger(__name__)

__all__ = ["RunResult", "progress_line", "run_batch"]

FORMAT_VERSION = 2

SAVE_EVERY = 2.0
"""Seconds between writings of ``korning.json`` and ``index.html`` while reports finish (longer
when a writing takes over ``SAVE_SHARE`` of that). A report whose record is not yet written when
the run is killed only runs again: a report without a record is never skipped."""

SAVE_SHARE = 0.05
"""At most this share of the coordinator's time goes to rewriting the run's record."""


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

    audit: list[str] = field(default_factory=list)
    """Findings of the audit of the run's publication records (``runner.publish``): counts too exposed."""

    @property
    def exit_code(self) -> int:
        return 1 if self.failed or self.audit else 0

    def record(self, name: str) -> dict[str, Any]:
        return {r["namn"]: r for r in self.records}[name]  # KeyError: no such report


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
    record: dict[str, Any], outcome: ReportOutcome, out_dir: Path, data_dir: Path | None, hashes: FolderHashes
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
            fel=error_record("Skrivfel", f"rapportens filer kunde inte skrivas i {out_dir} ({os_reason(exc)})."),
            fel_html=None,
        )
    # the previous good report (if any) stays; the index says it is older
    if not (out_dir / f"{name}.html").is_file():
        record.update(html=None, ipynb=None)


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


def _local_job(job: Job) -> ReportOutcome:
    if not job.stop.is_set():
        with contextlib.suppress(Exception):  # start (or find) this thread's kernel while studies are prepared
            kernel_pool().warm(job.task)
    while not job.ready.wait(0.2) and not job.stop.is_set():
        pass
    if job.stop.is_set():
        return ReportOutcome(
            job.task.name, FEL, 0.0, now_iso(), now_iso(), error=error_record("Avbruten", "körningen avbröts.")
        )
    from insats.runner.execute import run_report  # papermill, nbclient, nbconvert: loaded after the kernels start

    return run_report(job.task, export=False)  # exported by the main thread, while this kernel goes on


def _run_local(jobs: list[Job], workers: int) -> Iterator[ReportOutcome]:
    """Yield outcomes as reports finish, from ``workers`` threads each driving a kernel and taking
    reports from a ``JobQueue``."""

    order = JobQueue(jobs)
    finished_jobs: queue.Queue[ReportOutcome] = queue.Queue()

    def work() -> None:
        while (job := order.take()) is not None:
            try:
                outcome = _local_job(job)
            except BaseException as exc:  # noqa: BLE001 — every report taken gives one outcome
                outcome = outcome_from_exception(job.task, exc)
            order.done(job)
            finished_jobs.put(outcome)

    executor = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="insats-rapport")
    finished = False
    try:
        threads = [executor.submit(work) for _ in range(workers)]
        for _ in jobs:
            while True:
                try:
                    outcome = finished_jobs.get(timeout=1.0)
                    break
                except queue.Empty:
                    if all(t.done() for t in threads) and finished_jobs.empty():
                        raise RuntimeError("arbetarna avslutades innan alla rapporter var klara") from None
            if outcome.notebook is not None and outcome.html is None:
                from insats.runner.execute import export_outcome  # loaded after the kernels start

                export_outcome(outcome)  # a finished report's outputs are not kept after they are written
            yield outcome
        finished = True
    finally:
        if not finished:  # interrupted: nothing new starts, and running kernels stop now
            for job in jobs:
                job.stop.set()
            kernel_pool().kill_all()
        executor.shutdown(wait=True, cancel_futures=True)
        kernel_pool().close(keep_shared=True)  # the run's publication record reads what they stored


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
    audit: list[str] = []
    out_dir = config.out_dir
    out_dir.mkdir(parents=True, exist_ok=True)
    versions = _versions()
    with _RunLock(out_dir):
        previous_run = _read_previous(out_dir / "korning.json")
        previous = _previous_records(previous_run)
        hashes = FolderHashes()
        nb_paths = list(config.notebooks) + ([config.profile] if config.profile else [])
        preimports = tuple(dict.fromkeys(list(DEFAULT_PREIMPORTS) + [m for p in nb_paths for m in notebook_imports(p)]))
        planned, studies = plan(
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
        # the study notebooks first (they take longest), studies in the order given
        to_run.sort(key=lambda p: (config.studies.index(p.study), p.record["typ"] != "studie"))
        if to_run and scheduler is None:
            # while the study is prepared: the first kernel starts (or ends launch_early's) and the runner loads
            assert to_run[0].task is not None  # to_run holds only planned reports
            kernel_pool().prestart(to_run[0].task)
            import_soon("insats.runner.execute")
        kernel_pool().drop_early()  # not taken: nothing to run here, or a kernel of another kind
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
            "params_sha256": sha256_of(config.path),
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
            "kolada_anmarkning": config.kolada_note,
        }

        saved = {"at": float("-inf"), "cost": 0.0}

        def save(*, soon: bool = False) -> None:
            """Write the record and the front page; ``soon``: only if ``SAVE_EVERY`` has passed."""
            started = time.monotonic()
            if soon and started - saved["at"] < max(SAVE_EVERY, saved["cost"] / SAVE_SHARE):
                return
            run_info["sammanfattning"] = {s: sum(r["status"] == s for r in records) for s in (OK, FEL, SKIPPED)}
            atomic_write(out_dir / "korning.json", json.dumps(run_info, ensure_ascii=False, indent=2, default=str))
            write_index(out_dir / "index.html", run_info)
            saved.update(at=time.monotonic(), cost=time.monotonic() - started)

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
        placed: dict[threading.Event, str] = {}  # on a cluster: the worker each study's reports went to
        order: list[tuple[StudySpec, threading.Event]] = []  # the studies, with their gates
        try:
            if to_run:
                gates: dict[str | None, threading.Event] = {}
                jobs = []
                stop = threading.Event()
                for p in to_run:  # in the order sorted above
                    if p.study.name not in gates:
                        gates[p.study.name] = threading.Event()
                        order.append((p.study, gates[p.study.name]))
                    assert p.task is not None  # to_run holds only planned reports
                    jobs.append(Job(p.task, gates[p.study.name], stop))
                preparer = threading.Thread(
                    target=_prepare_studies,
                    args=(order, config.cache, lambda text: log.warning("Obs: %s", text)),
                    name="insats-forbered",
                    daemon=True,
                )
                preparer.start()
                if scheduler is not None:
                    from insats.runner.cluster import run_dask  # distributed: only a run with --scheduler

                    outcomes = run_dask(jobs, scheduler, event, placed)
                else:
                    outcomes = _run_local(jobs, n_workers)
                for outcome in outcomes:
                    record = by_name[outcome.name]
                    _apply_outcome(record, outcome, out_dir, study_dir[outcome.name], hashes)
                    report(record)
                    save(soon=True)
                save()  # every report's record, before the PDFs and the publication record
            # each study's record is worked out from the publication its reports' kernels stored
            if scheduler is None:
                make_records = records_here(config, kernel_pool().shared_folder)
            else:
                from insats.runner.cluster import records_on_cluster  # distributed: only with --scheduler

                where = {study.name: placed[gate] for study, gate in order if gate in placed}
                make_records = records_on_cluster(scheduler, config, where)
            audit = after_reports(config, records, out_dir, run_info, make_records)
            run_info["klar"] = True
        finally:
            if scheduler is None:
                kernel_pool().close()  # removes the sharing folder the reports left for the record
            for record in records:
                if record["status"] is None:
                    record.update(
                        status=FEL, fel=error_record("Avbruten", "körningen avbröts innan rapporten var klar.")
                    )
            run_info["slut"] = now_iso()
            run_info["sekunder"] = round(time.monotonic() - t0, 3)
            save()
    return RunResult(config.name, out_dir, records, time.monotonic() - t0, events, audit)
