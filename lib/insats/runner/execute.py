"""One report: inject parameters as papermill does, execute on a warm kernel, export to HTML.

``run_report(task)`` never raises: it returns a ``ReportOutcome`` with the executed notebook, its
offline HTML (no code, a table of contents, no CDN: ``insats.reports.export.notebook_html``), what
the report read (tables and their
files' SHA-256, asked from the kernel after the last cell) and, on failure, the cell and the
error. The same function runs in a thread of the coordinator and on a Dask worker; the
coordinator (:mod:`insats.runner.batch`) is the only one that writes files. Parameters are
injected as checked literals (:mod:`insats.runner.parameters`). Each cell has a timeout and each
report a wall-clock timeout; on either the kernel is killed and the report marked failed.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import os
import socket
import time
from typing import Any

import nbformat
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError, CellTimeoutError, DeadKernelError
from papermill.execute import remove_error_markers
from papermill.iorw import load_notebook_node

from insats.reports.export import external_references, notebook_html
from insats.runner.kernels import KERNEL_START_TIMEOUT, _Kernel, kernel_pool
from insats.runner.parameters import inject
from insats.runner.startup import fast_notebook_checks
from insats.runner.tasks import FEL, OK, ReportOutcome, ReportTask, format_seconds, now_iso

fast_notebook_checks()  # where reports run (a coordinator, a Dask worker): nbformat's checks, compiled

_NBCLIENT_LOG = logging.getLogger("insats.runner.nbclient")
_NBCLIENT_LOG.setLevel(logging.WARNING)  # not "Executing notebook with kernel" once per report


# --------------------------------------------------------------------------- one report
def _prepare_notebook(task: ReportTask):
    nb = load_notebook_node(task.notebook)
    nb = inject(nb, dict(task.parameters), input_path=task.notebook, output_path=task.output_path)
    return remove_error_markers(nb)


def _papermill_start(nb, start: str) -> None:
    meta = nb.metadata.papermill
    meta.update(start_time=start, end_time=None, duration=None, exception=None)
    for cell in nb.cells:
        if cell.get("cell_type") == "code":
            cell.execution_count = None
            cell.outputs = []
        cell.metadata["papermill"] = dict(
            exception=None, start_time=None, end_time=None, duration=None, status="pending"
        )


def _papermill_finish(nb, t0: float, failed_index: int | None) -> None:
    end = dt.datetime.now(dt.UTC)
    nb.metadata.papermill["end_time"] = end.isoformat()
    nb.metadata.papermill["duration"] = time.monotonic() - t0
    for i, cell in enumerate(nb.cells):
        pm = cell.metadata.get("papermill", {})
        if failed_index is not None and i == failed_index:
            pm.update(status="failed", exception=True)
            nb.metadata.papermill["exception"] = True
            if pm.get("start_time") and not pm.get("end_time"):
                pm["end_time"] = end.isoformat()
            break
        if pm.get("status") in ("running", "pending") and pm.get("start_time"):
            pm["status"] = "completed"
            if not pm.get("end_time"):
                pm["end_time"] = pm["start_time"]
                pm["duration"] = 0.0


def _hooks(state: dict[str, Any]) -> dict[str, Any]:
    def now() -> str:
        return dt.datetime.now(dt.UTC).isoformat()

    def on_cell_start(cell, cell_index, **_):
        cell.metadata.setdefault("papermill", {}).update(start_time=now(), status="running", exception=False)
        state["cell"] = cell_index
        state["t_cell"] = time.monotonic()

    def on_cell_executed(cell, cell_index, execute_reply=None, **_):
        pm = cell.metadata.setdefault("papermill", {})
        pm["end_time"] = now()
        pm["duration"] = time.monotonic() - state.get("t_cell", time.monotonic())
        if pm.get("status") != "failed":
            pm["status"] = "completed"

    def on_cell_error(cell, cell_index, execute_reply=None, **_):
        pm = cell.metadata.setdefault("papermill", {})
        pm.update(exception=True, status="failed")
        state["failed"] = cell_index

    return dict(on_cell_start=on_cell_start, on_cell_executed=on_cell_executed, on_cell_error=on_cell_error)


def merge_adjacent_streams(nb) -> None:
    """Join consecutive ``stdout`` (or ``stderr``) outputs of a cell into one, as Jupyter shows them.

    The kernel sends what a cell prints in pieces as its buffer is flushed, so one ``print`` can
    arrive as two outputs when the machine is busy; each becomes its own block in the report page,
    breaking a printed line in two. Only neighbours are joined: the order of text, tables and
    charts stays as the cell made it (``NotebookClient.coalesce_streams`` would move text past them)."""
    for cell in nb.cells:
        outputs = cell.get("outputs") if cell.get("cell_type") == "code" else None
        if not outputs:
            continue
        merged: list = []
        for out in outputs:
            last = merged[-1] if merged else None
            if (
                last is not None
                and out.get("output_type") == "stream"
                and last.get("output_type") == "stream"
                and last.get("name") == out.get("name")
            ):
                last["text"] = "".join(last["text"]) + "".join(out["text"])
            else:
                merged.append(out)
        cell["outputs"] = merged


def _error_info(nb, index: int | None, ename: str, evalue: str) -> dict[str, Any]:
    info: dict[str, Any] = {"cell": None, "exekvering": None, "typ": ename, "meddelande": evalue, "kalla": None}
    if index is not None and 0 <= index < len(nb.cells):
        cell = nb.cells[index]
        info["cell"] = index + 1
        info["exekvering"] = cell.get("execution_count")
        src = cell.get("source", "")
        first = next((line for line in src.splitlines() if line.strip()), "")
        info["kalla"] = first[:200]
    return info


def run_report(task: ReportTask, *, export: bool = True) -> ReportOutcome:
    """Run one report on this process's kernel pool. Never raises: failures are in the outcome.

    ``export=False`` leaves the HTML to the caller (``export_outcome``): the local runner exports
    in its main thread while the kernel already runs the next report."""
    started = now_iso()
    t0 = time.monotonic()
    worker = f"{socket.gethostname()}:{os.getpid()}"
    nb = None
    try:
        nb = _prepare_notebook(task)
    except Exception as exc:  # noqa: BLE001
        return ReportOutcome(
            task.name,
            FEL,
            time.monotonic() - t0,
            started,
            now_iso(),
            worker=worker,
            error={
                "cell": None,
                "exekvering": None,
                "typ": type(exc).__name__,
                "meddelande": f"notebooken kunde inte förberedas: {exc}",
                "kalla": None,
            },
        )
    phases = {"forbered": time.monotonic() - t0}
    mark = time.monotonic()
    try:
        kernel, reused = kernel_pool().acquire(task)
    except Exception as exc:  # noqa: BLE001
        return ReportOutcome(
            task.name,
            FEL,
            time.monotonic() - t0,
            started,
            now_iso(),
            worker=worker,
            error={"cell": None, "exekvering": None, "typ": "KernelStartFel", "meddelande": str(exc), "kalla": None},
        )
    healthy = False
    error: dict[str, Any] | None = None
    reads: list[dict] | None = None
    state: dict[str, Any] = {}
    phases["karna"] = time.monotonic() - mark
    mark = time.monotonic()
    try:
        try:
            kernel.prepare(task.cwd)
        except Exception:  # noqa: BLE001 — a kernel that cannot be cleaned is replaced
            kernel_pool().discard(kernel)
            kernel, reused = kernel_pool().acquire(task)
            kernel.prepare(task.cwd)
        kernel.reports += 1
        phases["stadning"] = time.monotonic() - mark
        mark = time.monotonic()
        _papermill_start(nb, dt.datetime.now(dt.UTC).isoformat())
        error = _execute(kernel, nb, task, state)
        phases["korning"] = time.monotonic() - mark
        healthy = error is None
        if healthy:
            reads = kernel.reads()
    except Exception as exc:  # noqa: BLE001
        error = {"cell": None, "exekvering": None, "typ": type(exc).__name__, "meddelande": str(exc), "kalla": None}
    finally:
        if error is not None and error.get("typ") == "DeadKernelError":
            tail = kernel.log_tail()
            if tail:
                error["kärnlogg"] = tail
        kernel_pool().release(kernel, healthy)

    _papermill_finish(nb, t0, state.get("failed") if error else None)
    outcome = ReportOutcome(
        task.name,
        OK if error is None else FEL,
        0.0,
        started,
        "",
        error=error,
        worker=worker,
        kernel_reused=reused,
        phases=phases,
        reads=reads,
    )
    outcome.phases = {k: round(v, 3) for k, v in phases.items()}
    merge_adjacent_streams(nb)
    outcome.notebook = nbformat.writes(nb)
    if export:
        export_outcome(outcome, nb)
    else:
        outcome.node = nb
    outcome.seconds = time.monotonic() - t0
    outcome.finished = now_iso()
    return outcome


def export_outcome(outcome: ReportOutcome, nb=None) -> ReportOutcome:
    """Add the offline HTML of an executed report to its outcome (``run_report(export=False)``);
    a failed export fails the report, with the reason."""
    mark = time.monotonic()
    try:
        if nb is None:
            nb = outcome.node
        outcome.node = None  # not kept once exported
        if nb is None:
            nb = nbformat.reads(outcome.notebook, as_version=4)
        outcome.html = notebook_html(nb, outcome.name)
        outcome.external = external_references(outcome.html)
    except Exception as exc:  # noqa: BLE001
        outcome.status = FEL
        outcome.html = None
        outcome.error = outcome.error or {
            "cell": None,
            "exekvering": None,
            "typ": type(exc).__name__,
            "meddelande": f"HTML-exporten misslyckades: {exc}",
            "kalla": None,
        }
    outcome.phases = {**outcome.phases, "export": round(time.monotonic() - mark, 3)}
    return outcome


def _execute(kernel: _Kernel, nb, task: ReportTask, state: dict[str, Any]) -> dict[str, Any] | None:
    """Execute ``nb`` on ``kernel``; None when every cell ran, else the error (kernel then unhealthy)."""

    cell_timeout = task.cell_timeout or task.timeout
    client = NotebookClient(
        nb,
        km=kernel.km,
        kernel_name=task.kernel_name,
        timeout=int(max(1, cell_timeout)),
        startup_timeout=int(KERNEL_START_TIMEOUT),
        record_timing=True,
        log=_NBCLIENT_LOG,
        resources={"metadata": {"path": task.cwd}},
        **_hooks(state),
    )
    client.kc = kernel.kc

    async def go():
        # not asyncio.wait_for: nbclient turns the cancellation into DeadKernelError
        running = asyncio.ensure_future(client.async_execute())

        def expire() -> None:
            state["expired"] = True
            running.cancel()

        handle = asyncio.get_running_loop().call_later(task.timeout, expire)
        try:
            return await running
        finally:
            handle.cancel()

    try:
        kernel.loop.run_until_complete(go())
        return None
    except BaseException as exc:
        if not state.get("expired") or isinstance(exc, (KeyboardInterrupt, SystemExit)):
            if isinstance(exc, Exception):
                return _classify(exc, nb, state, cell_timeout)
            raise
        return _error_info(
            nb,
            state.get("cell"),
            "Tidsgräns",
            f"rapporten blev inte klar inom {format_seconds(task.timeout)}; kärnan stoppades.",
        )


def _classify(exc: Exception, nb, state: dict[str, Any], cell_timeout: float) -> dict[str, Any]:
    """The error record for an exception from nbclient."""

    cell = state.get("cell")
    if isinstance(exc, CellTimeoutError):
        return _error_info(
            nb,
            cell,
            "CellTimeoutError",
            f"cellen blev inte klar inom {format_seconds(cell_timeout)}; kärnan stoppades.",
        )
    if isinstance(exc, CellExecutionError):
        return _error_info(nb, state.get("failed", cell), exc.ename, exc.evalue)
    if isinstance(exc, DeadKernelError):
        return _error_info(nb, cell, "DeadKernelError", "kärnan dog under körningen.")
    return _error_info(nb, cell, type(exc).__name__, str(exc))
