"""Work done ahead on a free processor core, in a forked child, never needed for a right answer.

``ahead(compute)`` starts ``compute()`` in a child process made by ``os.fork`` (a copy of this
process: the study and everything else in memory are there without being sent) and returns at
once; ``.result(fallback)`` waits for the child's answer. The answer comes back as a pickle
through a private temporary file. Whatever goes wrong (no ``fork`` on this system, one processor
core only, ``INSATS_AHEAD=0``, the child failing, dying or not answering in time), ``result``
returns ``fallback()`` computed in this process instead, so the answer never depends on the child:
only how soon it comes.

Why: computing a study's publication (``insats.analysis.publication.publish``) takes seconds in
one process, and a report run on its own (papermill, JupyterLab) leaves the other core idle.
Parts of it that depend only on the study (the measures of the calendar years, the simulated
dispersion curves) are done there. (In a batch run the other kernel, waiting for the same
publication, also works out the utvärdering's last sections: ``insats.reports.sharing``.)

Rules for ``compute``: a pure function of what is in memory at the fork, returning a picklable
value; it must not write files or talk to other processes (the child shares the parent's open
files and sockets, e.g. a Jupyter kernel's). The child closes its copy of standard output and
error, so a stray print or warning cannot reach the parent's streams, and ends with ``os._exit``
(no exit handlers, no flushed buffers of the parent's). Its answer is read only from a folder
this process created (mode 0700), so the pickle is as trusted as the process itself.
"""

from __future__ import annotations

import contextlib
import os
import pickle
import shutil
import signal
import sys
import tempfile
import time
import warnings
from collections.abc import Callable
from typing import Any, Generic, TypeVar

__all__ = ["ENV_AHEAD", "Ahead", "ahead", "spare_cores"]

T = TypeVar("T")

ENV_AHEAD = "INSATS_AHEAD"
"""``0`` turns work done ahead off (everything is computed in the process that asks)."""

MIN_WAIT = 5.0
"""Seconds ``result`` waits for a child at least; longer when the parent itself took longer."""


def spare_cores() -> int:
    """Processor cores this process may use, beyond the one it runs on."""
    try:
        n = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):  # not Linux
        n = os.cpu_count() or 1
    return max(0, n - 1)


class Ahead(Generic[T]):
    """A computation started in a child process (or not started: then ``result`` computes)."""

    def __init__(self, pid: int | None, folder: str | None) -> None:
        self._pid = pid
        self._folder = folder
        self._started = time.monotonic()
        self.used = False
        """Whether ``result`` got the child's answer (for tests and benchmarks)."""

    def _wait(self, limit: float) -> int | None:
        """The child's exit status, or None when it did not end within ``limit`` seconds (killed)."""
        assert self._pid is not None
        deadline = time.monotonic() + limit
        pause = 0.001
        while True:
            pid, status = os.waitpid(self._pid, os.WNOHANG)
            if pid:
                return status
            if time.monotonic() >= deadline:
                with contextlib.suppress(OSError):
                    os.kill(self._pid, signal.SIGKILL)
                os.waitpid(self._pid, 0)
                return None
            time.sleep(pause)
            pause = min(pause * 2, 0.02)

    def result(self, fallback: Callable[[], T]) -> T:
        """The child's answer, or ``fallback()`` when there is none (see the module docstring)."""
        if self._pid is None:
            return fallback()
        try:
            status = self._wait(max(MIN_WAIT, 4 * (time.monotonic() - self._started)))
            if status is not None and os.waitstatus_to_exitcode(status) == 0:
                assert self._folder is not None
                with open(os.path.join(self._folder, "svar.pickle"), "rb") as fh:
                    value = pickle.load(fh)
                self.used = True
                return value
        except Exception:  # noqa: BLE001 — any trouble with the child: compute here instead
            pass
        finally:
            if self._folder is not None:
                shutil.rmtree(self._folder, ignore_errors=True)
            self._pid = self._folder = None
        return fallback()

    def __del__(self) -> None:  # a caller that never asked: do not leave a child or a folder behind
        pid, folder = getattr(self, "_pid", None), getattr(self, "_folder", None)
        if pid is not None:
            with contextlib.suppress(Exception):
                os.kill(pid, signal.SIGKILL)
                os.waitpid(pid, 0)
        if folder is not None:
            shutil.rmtree(folder, ignore_errors=True)


def _child(compute: Callable[[], Any], folder: str) -> None:
    code = 1
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, 1)
        os.dup2(devnull, 2)
        sys.stdout = sys.stderr = open(devnull, "w")  # noqa: SIM115 — the process ends below
        value = compute()
        path = os.path.join(folder, "svar.tmp")
        with open(path, "wb") as fh:
            pickle.dump(value, fh, protocol=pickle.HIGHEST_PROTOCOL)
        os.replace(path, os.path.join(folder, "svar.pickle"))
        code = 0
    finally:
        os._exit(code)


def ahead(compute: Callable[[], T], *, worth_it: bool = True) -> Ahead[T]:
    """Start ``compute()`` in a forked child when there is a core to spare (module docstring) and
    the caller says it is ``worth_it`` (else ``result`` computes it here)."""
    if not worth_it or not hasattr(os, "fork") or os.environ.get(ENV_AHEAD, "1").strip() == "0" or spare_cores() < 1:
        return Ahead(None, None)
    try:
        folder = tempfile.mkdtemp(prefix="insats-fore-")
    except OSError:
        return Ahead(None, None)
    try:
        with warnings.catch_warnings():  # Python 3.12 warns on fork with threads: the child runs no other thread's code
            warnings.simplefilter("ignore", DeprecationWarning)
            pid = os.fork()
    except OSError:
        shutil.rmtree(folder, ignore_errors=True)
        return Ahead(None, None)
    if pid == 0:  # pragma: no cover - the child; coverage does not follow it
        _child(compute, folder)
    return Ahead(pid, folder)
