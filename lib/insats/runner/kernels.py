"""Warm Jupyter kernels for batch runs: one per worker process, reused from report to report.

A ``KernelPool`` (one per process, ``kernel_pool()``) starts a kernel, imports the heavy modules
in it once (pandas, numpy, altair, insats and whatever the run's notebooks import) and hands it to
report after report. Between reports the kernel runs a cleanup (``insats.runner.kernel_side.cleanup``) that
resets the user namespace, output history and execution counter and restores the working
directory, ``sys.path``, ``os.environ``, warning filters, pandas options, altair's settings and
matplotlib's state; imported modules stay imported, which is the point. See :mod:`insats.runner.batch`
for why this is safe and when a kernel is replaced.

Papermill's traps in parallel use handled here: no ``os.chdir`` in our process (the kernel sets
its own working directory); kernel launches that fail or do not answer are retried
(``KERNEL_START_ATTEMPTS``, growing pause) so colliding ports heal; IPython history is kept in
memory so parallel kernels do not lock its SQLite file. The kernels' clients are
``insats.kernelclient.WakefulKernelClient``, so a wake-up pyzmq misses under load costs a quarter of
a second instead of a report waiting for its cell timeout.

The pool's kernels share one private folder (``insats.reports.sharing``): the first report that
needs a study's publication computes it there and every later report of the process, in any of
its kernels, reads it back instead of computing every measure and the disclosure model again.
The folder lives as long as the pool; a run with ``INSATS_CACHE=0`` gets none.
"""

from __future__ import annotations

import ast
import asyncio
import atexit
import contextlib
import json
import os
import shutil
import signal
import tempfile
import threading
import time
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING

from jupyter_client.asynchronous import AsyncKernelClient
from jupyter_client.manager import AsyncKernelManager

from insats.errors import KernelError
from insats.kernelclient import WakefulKernelClient
from insats.reports.sharing import ENV_SHARED, make_shared_dir
from insats.runner.tasks import DEFAULT_PREIMPORTS, ReportTask, kernel_env, kernel_name

if TYPE_CHECKING:  # a type only: the kernels need not load the params checks
    from insats.runner.config import RunConfig

KERNEL_START_ATTEMPTS = 4
KERNEL_START_TIMEOUT = 60.0
CLEANUP_TIMEOUT = 60.0
REAP_TIMEOUT = 5.0
"""Seconds ``KernelPool.close`` waits for a killed kernel's process to end before closing it anyway."""


def _kernel_bootstrap(preimports: Iterable[str]) -> str:
    """The code a new kernel runs once: import ``insats.runner.kernel_side`` and call its ``setup``."""
    return f"import insats.runner.kernel_side as _k\n_k.setup({list(preimports)!r})\ndel _k\n"


class _Kernel:
    """One Jupyter kernel with its own event loop, reused for report after report."""

    def __init__(
        self,
        kernel_name: str,
        preimports: tuple[str, ...],
        cwd: str,
        env: tuple[tuple[str, str], ...] = (),
        extra_env: tuple[tuple[str, str], ...] = (),
    ):
        self.kernel_name = kernel_name
        self.preimports = preimports
        self.cwd = cwd
        self.env = env  # the task's: the pool's key
        self.extra_env = extra_env  # the pool's own additions (its sharing folder)
        self.loop = asyncio.new_event_loop()
        self.km: AsyncKernelManager | None = None
        self.kc: AsyncKernelClient | None = None
        self.reports = 0
        self.log_path: str | None = None
        self.cancelled = False  # set by kill: a start in progress gives up instead of trying again

    # -- lifecycle
    def start(self) -> None:
        last: BaseException | None = None
        for attempt in range(KERNEL_START_ATTEMPTS):
            if self.cancelled:
                raise KernelError(f"kärnan {self.kernel_name} stoppades medan den startade.")
            try:
                self.loop.run_until_complete(self._start())
                return
            except Exception as exc:  # noqa: BLE001 — port collision, slow start, crash: retry
                last = exc
                self.loop.run_until_complete(self._kill())
                time.sleep(0.5 * 2**attempt)
        raise KernelError(
            f"kärnan {self.kernel_name} startade inte efter {KERNEL_START_ATTEMPTS} försök: "
            f"{type(last).__name__}: {last}"
        )

    async def _start(self) -> None:

        fd, self.log_path = tempfile.mkstemp(prefix="insats-karna-", suffix=".log")
        log = os.fdopen(fd, "wb")
        try:
            self.km = AsyncKernelManager(kernel_name=self.kernel_name, client_factory=WakefulKernelClient)
            await self.km.start_kernel(
                cwd=self.cwd,
                stdout=log,
                stderr=log,
                env={**os.environ, **dict(self.env), **dict(self.extra_env)},
                extra_arguments=["--HistoryManager.hist_file=:memory:"],
            )
        finally:
            log.close()
        self.kc = self.km.client()
        self.kc.start_channels()
        await self.kc.wait_for_ready(timeout=KERNEL_START_TIMEOUT)
        await self._bootstrap()

    async def _bootstrap(self) -> None:
        running = asyncio.ensure_future(self._run(_kernel_bootstrap(self.preimports), KERNEL_START_TIMEOUT * 3))
        while not running.done():  # a kernel killed meanwhile (kill, drop_early) answers nothing: stop waiting
            await asyncio.wait({running}, timeout=0.2)
            if self.cancelled and not running.done():
                running.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await running
                raise KernelError(f"kärnan {self.kernel_name} stoppades medan den startade.")
        self._check(running.result(), "förberedelsen")

    def finish_start(self, preimports: tuple[str, ...]) -> None:
        """Import ``preimports`` in this kernel, started early with fewer (``KernelPool.launch_early``),
        so that it is a kernel for them; when that fails, start it again from the beginning."""
        self.preimports = preimports
        try:
            self.loop.run_until_complete(self._bootstrap())
        except Exception:  # noqa: BLE001 — a kernel that died or broke while importing: a fresh start
            self.restart()

    def restart(self) -> None:
        """End this kernel's process (if any) and start it again."""
        self.loop.run_until_complete(self._kill())
        self.start()

    async def _run(self, code: str, timeout: float) -> dict:
        assert self.kc is not None  # _start sets the client before any code runs
        return await self.kc.execute_interactive(
            code, silent=False, store_history=False, timeout=timeout, output_hook=lambda msg: None
        )

    @staticmethod
    def _check(reply: dict, what: str) -> None:
        content = reply.get("content", {})
        if content.get("status") != "ok":
            raise KernelError(f"{what} i kärnan misslyckades: {content.get('ename')}: {content.get('evalue')}")

    def prepare(self, cwd: str) -> None:
        """The cleanup between reports: reset namespace and global state, chdir to ``cwd``."""

        async def go():
            reply = await self._run(f"import insats.runner.kernel_side as _k; _k.cleanup({cwd!r})", CLEANUP_TIMEOUT)
            self._check(reply, "städningen")

        self.loop.run_until_complete(go())

    def reads(self) -> list[dict] | None:
        """What the last report read (``kernel_side.reads_json``); None when it is not known."""

        async def go():
            return await self.kc.execute_interactive(
                "",
                silent=True,
                store_history=False,
                user_expressions={"lasta": "__import__('insats.runner.kernel_side', fromlist=['_']).reads_json()"},
                timeout=CLEANUP_TIMEOUT,
                output_hook=lambda msg: None,
            )

        try:
            reply = self.loop.run_until_complete(go())
            value = reply["content"]["user_expressions"]["lasta"]
            if value.get("status") != "ok":
                return None
            data = json.loads(ast.literal_eval(value["data"]["text/plain"]))
        except Exception:  # noqa: BLE001 — unknown reads only cost a rerun later
            return None
        return data if isinstance(data, list) else None

    def kill(self) -> None:
        """Kill the kernel process and its group at once (from any thread; ``close`` cleans up)."""
        self.cancelled = True
        pid = self.pid
        if pid is None:
            return
        with contextlib.suppress(OSError):
            os.killpg(pid, signal.SIGKILL)
        with contextlib.suppress(OSError):
            os.kill(pid, signal.SIGKILL)

    async def _kill(self) -> None:
        with contextlib.suppress(Exception):
            if self.kc is not None:
                self.kc.stop_channels()
        with contextlib.suppress(Exception):
            if self.km is not None and self.km.has_kernel:
                await asyncio.wait_for(self.km.shutdown_kernel(now=True), 15)
        with contextlib.suppress(Exception):
            if self.km is not None:
                await self.km.cleanup_resources()
        self.kc = None
        self.km = None
        if self.log_path:
            with contextlib.suppress(OSError):
                os.unlink(self.log_path)
            self.log_path = None

    def log_tail(self, limit: int = 1500) -> str:
        if not self.log_path:
            return ""
        try:
            return Path(self.log_path).read_text(encoding="utf-8", errors="replace")[-limit:]
        except OSError:
            return ""

    @property
    def pid(self) -> int | None:
        try:
            return self.km.provisioner.process.pid  # type: ignore[union-attr]  # no kernel or provisioner: AttributeError below
        except AttributeError:
            return None

    def close(self) -> None:
        if self.loop.is_closed():
            return
        if _in_event_loop():
            # called from inside a running event loop (a Dask worker's teardown), where this
            # kernel's own loop cannot run: close from a thread of its own
            closer = threading.Thread(target=self.close, name="insats-karna-stang", daemon=True)
            closer.start()
            closer.join(CLEANUP_TIMEOUT)
            if closer.is_alive():
                self.kill()
            return
        try:
            self.loop.run_until_complete(self._kill())
            pending = [t for t in asyncio.all_tasks(self.loop) if not t.done()]
            for t in pending:
                t.cancel()
            if pending:
                self.loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))
        finally:
            self.loop.close()


def _in_event_loop() -> bool:
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return False
    return True


def _key(of: ReportTask | _Kernel) -> tuple:
    """The kind of kernel a report needs (or a kernel is): kernels of one kind are interchangeable."""
    return (of.kernel_name, of.preimports, of.env)


class _Starting:
    """A kernel being started in the background by ``KernelPool.launch_early`` or
    ``KernelPool.prestart``; given the ``early`` start of ``kernel``, the start is finished with
    ``preimports`` once that one is done."""

    def __init__(self, kernel: _Kernel, early: _Starting | None = None, preimports: tuple[str, ...] = ()) -> None:
        self.kernel = kernel
        self.early = early
        self.preimports = preimports
        self.done = threading.Event()
        self.error: BaseException | None = None

    def run(self) -> None:
        try:
            if self.early is None:
                self.kernel.start()
                if self.kernel.cancelled:  # dropped (drop_early) or killed while it started: end it here
                    self.kernel.close()
                return
            self.early.done.wait()
            if self.early.error is None:
                self.kernel.finish_start(self.preimports)
            else:
                self.kernel.preimports = self.preimports
                self.kernel.restart()
        except BaseException as exc:  # noqa: BLE001 — handed to the report that takes this kernel
            self.error = exc
        finally:
            self.done.set()


class KernelPool:
    """Per-process kernels, reused across reports (thread-safe; Dask workers may use threads)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._idle: dict[tuple, list[_Kernel]] = {}
        self._starting: dict[tuple, list[_Starting]] = {}
        self._early: list[_Starting] = []  # launch_early's kernels, not yet taken by prestart
        self._all: set[_Kernel] = set()
        self._shared: str | None = None
        atexit.register(self.close)

    def _extra_env(self, env: tuple[tuple[str, str], ...]) -> tuple[tuple[str, str], ...]:
        """The pool's sharing folder for a kernel started with ``env`` (made on first use); none
        when the run turned reuse off or the process already names a folder."""
        if dict(env).get("INSATS_CACHE") == "0" or os.environ.get(ENV_SHARED):
            return ()
        with self._lock:
            if self._shared is None:
                self._shared = make_shared_dir()
            return ((ENV_SHARED, self._shared),)

    def acquire(self, task: ReportTask) -> tuple[_Kernel, bool]:
        """A started kernel for ``task`` and whether it was reused."""
        key = _key(task)
        with self._lock:
            idle = self._idle.get(key, [])
            kernel = idle.pop() if idle else None
            starting = self._starting.get(key)
            early = starting.pop(0) if kernel is None and starting else None
        if kernel is not None:
            if kernel.reports < task.restart_every:
                return kernel, True
            self.discard(kernel)
        if early is not None:
            early.done.wait()
            if early.error is not None:
                self.discard(early.kernel)
                raise early.error
            return early.kernel, False
        kernel = _Kernel(task.kernel_name, task.preimports, task.cwd, task.env, self._extra_env(task.env))
        with self._lock:
            self._all.add(kernel)
        try:
            kernel.start()
        except BaseException:
            self.discard(kernel)
            raise
        return kernel, False

    def release(self, kernel: _Kernel, healthy: bool) -> None:
        if not healthy:
            self.discard(kernel)
            return
        with self._lock:
            self._idle.setdefault(_key(kernel), []).append(kernel)

    def launch_early(self, kernel_name: str, env: tuple[tuple[str, str], ...] = ()) -> None:
        """Start a kernel now, before the run knows its reports: it starts and imports
        ``DEFAULT_PREIMPORTS`` (what every report kernel imports) while the coordinator loads its
        own modules and plans the run, on the core that is idle meanwhile. The next ``prestart``
        of a kernel of that name and environment takes it and adds the notebooks' own imports; a
        run with nothing to run ends it (``drop_early``)."""
        kernel = _Kernel(kernel_name, DEFAULT_PREIMPORTS, os.getcwd(), env, self._extra_env(env))
        early = _Starting(kernel)
        with self._lock:
            self._all.add(kernel)
            self._early.append(early)
        threading.Thread(target=early.run, name="insats-karna-tidig", daemon=True).start()

    def drop_early(self) -> None:
        """End the early kernels no report took (their process at once; nothing waits for them)."""
        with self._lock:
            dropped, self._early = self._early, []
            for early in dropped:
                self._all.discard(early.kernel)
        for early in dropped:
            early.kernel.kill()

    def prestart(self, task: ReportTask) -> None:
        """Start a kernel for ``task`` in the background and return at once: the next ``acquire``
        of that kind of kernel takes it (waiting for it to be ready) instead of starting another.
        A run calls this as soon as it knows it has a report to run, so the kernel's start and
        imports go on while the run is recorded and its study prepared. A kernel of the task's
        name and environment started by ``launch_early`` is taken and finished instead."""
        with self._lock:
            found = [e for e in self._early if (e.kernel.kernel_name, e.kernel.env) == (task.kernel_name, task.env)]
            if found:
                self._early.remove(found[0])
        if found:
            kernel = found[0].kernel
            starting = _Starting(kernel, found[0], task.preimports)  # its kind once finished
        else:
            kernel = _Kernel(task.kernel_name, task.preimports, task.cwd, task.env, self._extra_env(task.env))
            starting = _Starting(kernel)
        with self._lock:
            self._all.add(kernel)
            self._starting.setdefault(_key(task), []).append(starting)
        threading.Thread(target=starting.run, name="insats-karna-start", daemon=True).start()

    def discard(self, kernel: _Kernel) -> None:
        with self._lock:
            self._all.discard(kernel)
        kernel.close()

    def warm(self, task: ReportTask) -> None:
        """Make sure a started kernel for ``task`` is idle (start one when none is)."""
        kernel, _ = self.acquire(task)
        self.release(kernel, True)

    def kill_all(self) -> None:
        """Kill every kernel's process now, busy ones included (an interrupted run)."""
        with self._lock:
            kernels = list(self._all)
        for kernel in kernels:
            kernel.kill()

    @property
    def shared_folder(self) -> str | None:
        """The pool's sharing folder, if one was made (the publications its kernels stored)."""
        return self._shared

    def close(self, keep_shared: bool = False) -> None:
        """End every kernel; remove the sharing folder unless ``keep_shared`` (a later ``close``
        removes it: the coordinator reads the stored publications after the reports)."""
        self.drop_early()
        with self._lock:
            starting = [early for pending in self._starting.values() for early in pending]
            self._starting.clear()
        for early in starting:  # a kernel is closed only from its own thread's loop once started
            early.done.wait(KERNEL_START_TIMEOUT * KERNEL_START_ATTEMPTS)
        with self._lock:
            kernels = list(self._all)
            self._all.clear()
            self._idle.clear()
        # every kernel ended at once first: closing one then waits for no process (jupyter_client
        # polls a dying kernel every 0.1 s, so one at a time cost that for each kernel)
        for kernel in kernels:
            kernel.kill()
        for kernel in kernels:  # reaped here: jupyter_client would first sleep its 0.1 s poll
            with contextlib.suppress(Exception):
                kernel.km.provisioner.process.wait(REAP_TIMEOUT)  # type: ignore[union-attr]  # no process: nothing to wait for
        for kernel in kernels:
            with contextlib.suppress(Exception):
                kernel.close()
        if keep_shared:
            return
        with self._lock:
            shared, self._shared = self._shared, None
        if shared is not None:
            shutil.rmtree(shared, ignore_errors=True)


_POOL: KernelPool | None = None
_POOL_LOCK = threading.Lock()


def kernel_pool() -> KernelPool:
    """This process's kernel pool (created on first use)."""
    global _POOL
    with _POOL_LOCK:
        if _POOL is None:
            _POOL = KernelPool()
        return _POOL


def launch_for(config: RunConfig) -> None:
    """``launch_early`` the kernel a local run of ``config`` will most likely need first (its first
    notebook's kernel, with the run's environment): ``insats run`` calls this before it loads the
    rest of the runner."""
    first = config.notebooks[0] if config.notebooks else config.profile
    if first is None:
        return
    try:
        name = kernel_name(first)
    except (OSError, ValueError):  # the plan reports an unreadable notebook
        return
    kernel_pool().launch_early(name, kernel_env(config.cache))


def close_pool() -> None:
    """Close this process's kernels, if any were started (a Dask worker's teardown)."""
    if _POOL is not None:
        _POOL.close()
