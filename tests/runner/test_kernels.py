"""The kernel pool (insats.runner.kernels): a kernel started ahead of its first report is handed
out once, its failure reaches the report that takes it, and nothing is left running."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import ClassVar

import pytest

from insats.errors import KernelError
from insats.runner import batch, kernels
from insats.runner.batch import run_batch
from insats.runner.config import load_params
from insats.runner.kernels import KernelPool
from insats.runner.tasks import ReportTask
from tests.runner.test_batch import make_project


class FakeKernel:
    """Stands in for ``kernels._Kernel``: records starts and closes; a start can be held back
    (``gate``) or made to fail (``fail``)."""

    made: ClassVar[list[FakeKernel]] = []
    gate: ClassVar[threading.Event | None] = None
    fail: ClassVar[BaseException | None] = None

    def __init__(self, kernel_name, preimports, cwd, env=(), extra_env=()):
        self.kernel_name, self.preimports, self.cwd, self.env = kernel_name, preimports, cwd, env
        self.reports = 0
        self.started = self.closed = self.killed = self.cancelled = False
        self.finished_with: tuple | None = None
        self.starts = 0
        FakeKernel.made.append(self)

    def start(self):
        self.starts += 1
        if FakeKernel.gate is not None:
            FakeKernel.gate.wait(10)
        if FakeKernel.fail is not None:
            raise FakeKernel.fail
        self.started = True

    def finish_start(self, preimports):
        self.preimports = self.finished_with = preimports

    def restart(self):
        self.start()

    def kill(self):
        self.killed = self.cancelled = True

    def close(self):
        self.closed = True


@pytest.fixture
def pool(monkeypatch):
    FakeKernel.made, FakeKernel.gate, FakeKernel.fail = [], None, None
    monkeypatch.setattr(kernels, "_Kernel", FakeKernel)
    pool = KernelPool()
    monkeypatch.setattr(pool, "_extra_env", lambda env: ())
    yield pool
    if FakeKernel.gate is not None:
        FakeKernel.gate.set()
    pool.close()


def task(name="r", kernel="python3") -> ReportTask:
    return ReportTask(name=name, notebook="nb.ipynb", parameters={}, cwd="/tmp", kernel_name=kernel)


def test_a_prestarted_kernel_goes_to_the_first_report_only(pool):
    pool.prestart(task())
    first, reused = pool.acquire(task("a"))
    assert (first.started, reused) == (True, False)
    assert len(FakeKernel.made) == 1  # the report waited for the early kernel instead of starting one
    second, _ = pool.acquire(task("b"))  # the early kernel is busy: another one starts
    assert second is not first and len(FakeKernel.made) == 2
    pool.release(first, True)
    again, reused = pool.acquire(task("c"))
    assert (again, reused) == (first, True)


def test_a_report_waits_for_the_early_kernel_to_be_ready(pool):
    FakeKernel.gate = threading.Event()
    pool.prestart(task())
    got: list = []
    waiter = threading.Thread(target=lambda: got.append(pool.acquire(task("a"))))
    waiter.start()
    waiter.join(0.3)
    assert waiter.is_alive() and not got  # still starting: the report waits
    FakeKernel.gate.set()
    waiter.join(10)
    assert got and got[0][0].started and len(FakeKernel.made) == 1


def test_a_kernel_of_another_kind_is_not_taken(pool):
    pool.prestart(task(kernel="python3"))
    other, _ = pool.acquire(task(kernel="ir"))
    assert other.kernel_name == "ir" and len(FakeKernel.made) == 2


def test_an_early_kernel_that_failed_fails_the_report_that_takes_it(pool):
    FakeKernel.fail = KernelError("kärnan startade inte")
    pool.prestart(task())
    with pytest.raises(KernelError, match="startade inte"):
        pool.acquire(task("a"))
    assert FakeKernel.made[0].closed  # discarded, not handed out later
    FakeKernel.fail = None
    kernel, _ = pool.acquire(task("b"))
    assert kernel is not FakeKernel.made[0] and kernel.started


def test_close_waits_for_a_kernel_still_starting_and_ends_it(pool):
    FakeKernel.gate = threading.Event()
    pool.prestart(task())
    threading.Timer(0.2, FakeKernel.gate.set).start()
    pool.close()
    early = FakeKernel.made[0]
    assert early.started and early.killed and early.closed


def test_an_early_kernel_is_taken_by_the_first_prestart_of_its_kind_and_gets_its_imports(pool):
    pool.launch_early("python3")
    early = FakeKernel.made[0]
    assert early.preimports == kernels.DEFAULT_PREIMPORTS
    wanted = task()
    wanted = ReportTask(**{**wanted.__dict__, "preimports": ("pandas", "insats.reports.profil")})
    pool.prestart(wanted)
    kernel, _ = pool.acquire(wanted)
    assert kernel is early and len(FakeKernel.made) == 1  # no second kernel was started
    assert early.finished_with == ("pandas", "insats.reports.profil") and early.starts == 1
    assert kernels._key(kernel) == kernels._key(wanted)  # now a kernel of the task's kind
    pool.release(kernel, True)
    assert pool.acquire(wanted) == (early, True)


def test_an_early_kernel_of_another_kind_is_dropped_not_taken(pool):
    pool.launch_early("ir")
    pool.launch_early("python3", (("INSATS_CACHE", "0"),))
    pool.prestart(task(kernel="python3"))  # another name than the first, another env than the second
    kernel, _ = pool.acquire(task("a"))
    assert kernel is FakeKernel.made[2] and len(FakeKernel.made) == 3
    pool.drop_early()
    assert FakeKernel.made[0].killed and FakeKernel.made[1].killed and not kernel.killed
    pool.prestart(task(kernel="ir"))  # dropped: never handed out
    assert pool.acquire(task("b", kernel="ir"))[0] is FakeKernel.made[3]


def test_an_early_kernel_that_failed_to_start_is_started_again_for_its_report(pool):
    FakeKernel.fail = KernelError("porten var upptagen")
    pool.launch_early("python3")
    early = FakeKernel.made[0]
    for _ in range(100):  # its own start fails first
        if early.starts:
            break
        threading.Event().wait(0.01)
    FakeKernel.fail = None
    pool.prestart(task())
    kernel, _ = pool.acquire(task("a"))
    assert kernel is early and kernel.started and early.starts == 2 and early.finished_with is None


def test_close_does_not_wait_for_an_early_kernel_nothing_took(pool):
    FakeKernel.gate = threading.Event()  # the early kernel never gets ready
    pool.launch_early("python3")
    closed = threading.Thread(target=pool.close)
    closed.start()
    closed.join(5)
    assert not closed.is_alive() and FakeKernel.made[0].killed


def test_a_kernel_killed_while_it_starts_does_not_try_again(monkeypatch):
    attempts: list[int] = []
    kernel = kernels._Kernel("python3", (), "/tmp")

    async def failing_start():
        attempts.append(1)
        kernel.kill()  # as kill_all does from another thread during an interrupted run
        raise RuntimeError("kärnan dog")

    monkeypatch.setattr(kernel, "_start", failing_start)
    monkeypatch.setattr(kernels.time, "sleep", lambda s: None)
    try:
        with pytest.raises(KernelError, match="stoppades"):
            kernel.start()
    finally:
        kernel.close()
    assert len(attempts) == 1  # not KERNEL_START_ATTEMPTS


@pytest.mark.slow
def test_a_run_starts_no_more_kernels_than_workers(tmp_path, monkeypatch):
    """The first report's kernel starts before the run's other preparations; the workers then
    take it rather than each starting one of their own."""
    monkeypatch.setattr(batch, "DEFAULT_PREIMPORTS", ("pandas", "insats.data.load"))
    starts: list[str] = []
    real_start = kernels._Kernel.start

    def counting_start(self):
        starts.append(threading.current_thread().name)
        real_start(self)

    monkeypatch.setattr(kernels._Kernel, "start", counting_start)
    result = run_batch(load_params(make_project(tmp_path)), workers=2)
    assert result.count("ok") == 4, result.records
    assert len(starts) == 2
    assert "insats-karna-start" in starts  # one of the two was the early start


@pytest.mark.slow
def test_insats_runs_first_report_on_the_kernel_launched_before_the_plan(tmp_path, monkeypatch):
    """``insats run`` launches a kernel before it loads the runner (``launch_for``); the first
    report runs on it, and a rerun with nothing to do ends it at once and leaves no kernel."""
    monkeypatch.setattr(kernels, "DEFAULT_PREIMPORTS", ("pandas",))
    config = load_params(make_project(tmp_path))
    pool = kernels.kernel_pool()
    kernels.launch_for(config)
    early = pool._early[0].kernel
    result = run_batch(config, workers=2)
    assert result.count("ok") == 4, result.records
    assert early.reports >= 1 and "insats.analysis.measures" in early.preimports
    kernels.launch_for(config)
    early = pool._early[0].kernel
    for _ in range(600):  # its process has started
        if early.pid is not None:
            break
        threading.Event().wait(0.05)
    pid = early.pid
    again = run_batch(config, workers=2)
    assert again.count("överhoppad") == 4 and not pool._early
    assert pid is not None and not _alive(pid)
    log = early.log_path
    for _ in range(200):  # its starting thread stops waiting for it and removes its files
        if early.log_path is None:
            break
        threading.Event().wait(0.05)
    assert early.log_path is None and (log is None or not Path(log).exists())


def _alive(pid: int) -> bool:
    import os

    for _ in range(100):
        try:
            os.kill(pid, 0)
            with open(f"/proc/{pid}/stat") as stat:
                if stat.read().rsplit(")", 1)[1].split()[0] == "Z":
                    return False
        except (ProcessLookupError, FileNotFoundError):
            return False
        threading.Event().wait(0.05)
    return True


@pytest.mark.slow
def test_cleanup_drops_the_publications_kept_for_the_last_report(tmp_path):
    """A kept publication belongs to the last report's study object, which the cleanup removes:
    it cannot be served again and only slowed every later garbage collection."""
    kernel = kernels._Kernel("python3", ("insats.reports.publication",), str(tmp_path))
    kernel.start()
    try:

        async def run(code: str) -> dict:
            return await kernel.kc.execute_interactive(
                code,
                store_history=False,
                user_expressions={"n": "len(__import__('insats.reports.publication', fromlist=['_'])._CACHE)"},
                timeout=60,
                output_hook=lambda msg: None,
            )

        kept = kernel.loop.run_until_complete(
            run("from insats.reports import publication as P\nP._CACHE.append((object(), (), object()))")
        )
        assert kept["content"]["user_expressions"]["n"]["data"]["text/plain"] == "1"
        kernel.prepare(str(tmp_path))
        after = kernel.loop.run_until_complete(run(""))
        assert after["content"]["user_expressions"]["n"]["data"]["text/plain"] == "0"
    finally:
        kernel.close()
