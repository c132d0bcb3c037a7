"""What a report run is and what it gives back: ``ReportTask`` in, ``ReportOutcome`` out.

Both are plain, picklable data so that the same task runs in a local worker process or on a Dask
worker; the statuses are the words the index page and ``korning.json`` show.
"""

from __future__ import annotations

import datetime as dt
import json
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

DEFAULT_PREIMPORTS = ("pandas", "numpy", "altair", "insats", "insats.data.load", "insats.analysis.measures")
"""Modules every report kernel imports once, before its first report."""


def kernel_env(cache: bool) -> tuple[tuple[str, str], ...]:
    """The environment a run's report kernels get: reuse of work turned off when ``cache`` is False."""
    return () if cache else (("INSATS_CACHE", "0"),)


def kernel_name(path: Path | str) -> str:
    """The Jupyter kernel a notebook names (its ``kernelspec``), ``python3`` when it names none."""
    nb = json.loads(Path(path).read_text(encoding="utf-8"))
    return nb.get("metadata", {}).get("kernelspec", {}).get("name") or "python3"


OK, FEL, SKIPPED = "ok", "fel", "överhoppad"


def now_iso() -> str:
    """The local time now, ISO 8601 to the second, with its UTC offset."""
    return dt.datetime.now().astimezone().isoformat(timespec="seconds")


def format_seconds(seconds: float | None) -> str:
    """``4,2 s`` (Swedish decimal comma)."""
    if seconds is None:
        return "–"
    return f"{seconds:.1f}".replace(".", ",") + " s"


# --------------------------------------------------------------------------- data model
@dataclass(frozen=True)
class ReportTask:
    """Everything a worker needs to run one report (picklable; paths absolute)."""

    name: str
    notebook: str
    parameters: dict[str, Any]
    cwd: str
    timeout: float = 900.0
    cell_timeout: float | None = None
    kernel_name: str = "python3"
    preimports: tuple[str, ...] = DEFAULT_PREIMPORTS
    restart_every: int = 20
    output_path: str | None = None
    """Where the coordinator will write the notebook (recorded in the papermill metadata)."""
    env: tuple[tuple[str, str], ...] = ()
    """Environment variables the kernel gets on top of the worker's (e.g. ``INSATS_CACHE=0``)."""


@dataclass
class ReportOutcome:
    """What ``run_report`` gives back: status, timing, error, and the outputs as text."""

    name: str
    status: str
    seconds: float
    started: str
    finished: str
    error: dict[str, Any] | None = None
    notebook: str | None = None
    html: str | None = None
    worker: str = ""
    kernel_reused: bool = False
    external: list[str] = field(default_factory=list)
    phases: dict[str, float] = field(default_factory=dict)
    """Seconds spent preparing, getting a kernel, cleaning it, executing and exporting."""
    reads: list[dict] | None = None
    """What a successful report read (``insats.data.study.READS`` entries); None when unknown."""
    node: Any = field(default=None, repr=False, compare=False)
    """The executed notebook as an object, kept from ``run_report(export=False)`` until
    ``export_outcome`` in the same process, so the export does not parse ``notebook`` again."""


def error_record(kind: str, message: str, **where: Any) -> dict[str, Any]:
    """The error of a report as ``korning.json`` and the index show it (cell and source when known)."""
    return {"cell": None, "exekvering": None, "typ": kind, "meddelande": message, "kalla": None, **where}


def outcome_from_exception(task: ReportTask, exc: BaseException) -> ReportOutcome:
    """The outcome of a report whose worker failed (not the report itself): a lost Dask worker
    too often, a broken thread."""
    kind = type(exc).__name__
    if kind == "KilledWorker":
        message = (
            "rapporten avbröts för att arbetarna som körde den dog flera gånger (för lite minne, "
            f"eller ett fel som stoppar processen): {exc}"
        )
    else:
        message = f"arbetaren misslyckades: {exc}"
    return ReportOutcome(task.name, FEL, 0.0, now_iso(), now_iso(), error=error_record(kind, message))


@dataclass
class Job:
    """A report to run, with the gate of its study and the run's stop signal."""

    task: ReportTask
    ready: threading.Event
    """Set when the report's study is prepared (its validated copy made)."""
    stop: threading.Event
    """Set when the run is interrupted: a report not yet started is not started."""


class JobQueue:
    """The order in which the workers of a local run take reports (thread-safe).

    The reports of a study all read the study's publication, which the first of them computes
    while the others wait for it (``insats.reports.sharing``). In a run over several studies a
    free worker therefore takes, of the reports not yet taken and in the order given: a report of
    a study that has already had a report finish (its publication is there to read); else the
    first report of a study no worker has begun (the worker computes that study's publication
    instead of waiting for another's); else the next report, which waits. With one study this is
    the order given.
    """

    def __init__(self, jobs: list[Job]) -> None:
        self._pending = list(jobs)
        self._lock = threading.Lock()
        self._begun: set[threading.Event] = set()  # a study is known by its gate, one per study
        self._finished: set[threading.Event] = set()

    def take(self) -> Job | None:
        """The next report for a free worker; None when every report has been taken."""
        with self._lock:
            if not self._pending:
                return None
            pick = next((i for i, job in enumerate(self._pending) if job.ready in self._finished), None)
            if pick is None:
                pick = next((i for i, job in enumerate(self._pending) if job.ready not in self._begun), 0)
            job = self._pending.pop(pick)
            self._begun.add(job.ready)
            return job

    def done(self, job: Job) -> None:
        """``job`` has finished (however it ended)."""
        with self._lock:
            self._finished.add(job.ready)
