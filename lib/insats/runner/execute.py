"""One report: inject parameters as papermill does, execute on a warm kernel, export to HTML.

``run_report(task)`` never raises: it returns a ``ReportOutcome`` with the executed notebook, its
offline HTML (no code, a table of contents, no CDN) and, on failure, the cell and the error. The
same function runs in a local worker process and on a Dask worker; the coordinator
(:mod:`insats.runner.batch`) is the only one that writes files. Each cell has a timeout and each report a
wall-clock timeout; on either the kernel is killed and the report marked failed.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import os
import socket
import threading
import time
from typing import Any

from insats.reports.export import external_references, notebook_html, report_exporter
from insats.runner.kernels import KERNEL_START_TIMEOUT, _Kernel, kernel_pool
from insats.runner.tasks import FEL, OK, ReportOutcome, ReportTask, format_seconds, now_iso


# --------------------------------------------------------------------------- one report
def _prepare_notebook(task: ReportTask):
    # heavy imports, made in a thread while the kernel starts (see _warm_worker)
    from papermill.execute import prepare_notebook_metadata, remove_error_markers
    from papermill.iorw import load_notebook_node
    from papermill.parameterize import parameterize_notebook

    nb = load_notebook_node(task.notebook)
    language = (
        nb.metadata.get("language_info", {}).get("name")
        or nb.metadata.get("kernelspec", {}).get("language")
        or "python"
    )
    nb = parameterize_notebook(nb, dict(task.parameters), kernel_name=task.kernel_name, language=language)
    nb = prepare_notebook_metadata(nb, task.notebook, task.output_path)
    nb = remove_error_markers(nb)
    return nb


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


def run_report(task: ReportTask) -> ReportOutcome:
    """Run one report on this process's kernel pool. Never raises: failures are in the outcome."""
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
    except Exception as exc:  # noqa: BLE001
        error = {"cell": None, "exekvering": None, "typ": type(exc).__name__, "meddelande": str(exc), "kalla": None}
    finally:
        if error is not None and error.get("typ") == "DeadKernelError":
            tail = kernel.log_tail()
            if tail:
                error["kärnlogg"] = tail
        kernel_pool().release(kernel, healthy)

    _papermill_finish(nb, t0, state.get("failed") if error else None)
    # heavy imports, made in a thread while the kernel starts (see _warm_worker)
    import nbformat

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
    )
    mark = time.monotonic()
    try:
        outcome.notebook = nbformat.writes(nb)
        outcome.html = notebook_html(nb, task.name)
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
    phases["export"] = time.monotonic() - mark
    outcome.phases = {k: round(v, 3) for k, v in phases.items()}
    outcome.seconds = time.monotonic() - t0
    outcome.finished = now_iso()
    return outcome


def _execute(kernel: _Kernel, nb, task: ReportTask, state: dict[str, Any]) -> dict[str, Any] | None:
    """Execute ``nb`` on ``kernel``; None when every cell ran, else the error (kernel then unhealthy)."""
    # heavy imports, made in a thread while the kernel starts (see _warm_worker)
    from nbclient import NotebookClient

    cell_timeout = task.cell_timeout or task.timeout
    client = NotebookClient(
        nb,
        km=kernel.km,
        kernel_name=task.kernel_name,
        timeout=int(max(1, cell_timeout)),
        startup_timeout=int(KERNEL_START_TIMEOUT),
        record_timing=True,
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
    # heavy imports, made in a thread while the kernel starts (see _warm_worker)
    from nbclient.exceptions import (
        CellExecutionError,
        CellTimeoutError,
        DeadKernelError,
    )

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


def _warm_worker(kernel_name: str, preimports: tuple[str, ...], cwd: str) -> None:
    """ProcessPoolExecutor initializer: start this worker's kernel while the others start theirs.

    The worker's own heavy imports (papermill, nbclient, nbconvert) and the HTML exporter are
    prepared in a thread meanwhile: the kernel starts in its own process, so the two overlap.
    """

    def imports() -> None:
        with contextlib.suppress(Exception):
            # heavy imports, made in a thread while the kernel starts (see _warm_worker)
            import nbclient  # noqa: F401
            import papermill.parameterize  # noqa: F401

            report_exporter()

    thread = threading.Thread(target=imports, daemon=True)
    thread.start()
    with contextlib.suppress(Exception):
        kernel_pool().warm(kernel_name, preimports, cwd)
    thread.join()
