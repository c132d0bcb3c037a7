"""insats.ahead: work done in a forked child gives the same answer as doing it here, and any
trouble with the child (an error, a crash, a hang, no spare core, turned off) falls back to
computing here, leaving no child process and no folder behind."""

from __future__ import annotations

import os
import signal
import time

import numpy as np
import pytest

from insats import ahead as A

pytestmark = pytest.mark.skipif(not hasattr(os, "fork"), reason="fork only on POSIX")

REAL_SPARE_CORES = A.spare_cores


@pytest.fixture(autouse=True)
def _spare_core(monkeypatch):
    monkeypatch.delenv(A.ENV_AHEAD, raising=False)
    monkeypatch.setattr(A, "spare_cores", lambda: 1)  # the CI machine has two cores; tests should not depend on it


def _no_child_left(job: A.Ahead) -> None:
    assert job._pid is None
    assert job._folder is None or not os.path.exists(job._folder)


def test_the_childs_answer_is_the_answer_and_comes_from_the_child():
    parent = os.getpid()
    job = A.ahead(lambda: (os.getpid(), np.arange(5) ** 2, {"a": [1, 2]}))
    pid, squares, other = job.result(lambda: pytest.fail("the child answered; no fallback expected"))
    assert job.used and pid != parent  # computed in another process
    assert squares.tolist() == [0, 1, 4, 9, 16] and other == {"a": [1, 2]}
    _no_child_left(job)


def test_memory_at_the_fork_is_there_without_being_sent():
    big = np.random.default_rng(1).standard_normal(200_000)
    job = A.ahead(lambda: float(big.sum()))
    assert job.result(lambda: -1.0) == float(big.sum())


def test_a_child_that_raises_falls_back_to_computing_here():
    def fails():
        raise ValueError("nej")

    job = A.ahead(fails)
    assert job.result(lambda: "här") == "här" and not job.used
    _no_child_left(job)


def test_a_child_that_dies_falls_back():
    job = A.ahead(lambda: os.kill(os.getpid(), signal.SIGKILL))
    assert job.result(lambda: 7) == 7 and not job.used
    _no_child_left(job)


def test_a_child_that_hangs_is_killed_and_the_answer_computed_here(monkeypatch):
    monkeypatch.setattr(A, "MIN_WAIT", 0.3)
    job = A.ahead(lambda: time.sleep(60))
    pid = job._pid
    t = time.monotonic()
    assert job.result(lambda: "här") == "här"
    assert time.monotonic() - t < 10
    with pytest.raises(ChildProcessError):  # reaped: no zombie left
        os.waitpid(pid, os.WNOHANG)
    _no_child_left(job)


def test_the_childs_prints_do_not_reach_the_parents_output(capfd):
    def noisy():
        print("från barnet")
        os.write(2, b"fel fran barnet\n")
        return 1

    assert A.ahead(noisy).result(lambda: 0) == 1
    out, err = capfd.readouterr()
    assert "barnet" not in out and "barnet" not in err


def test_off_when_turned_off_not_worth_it_or_without_a_spare_core(monkeypatch):
    child_pid = lambda: os.getpid()  # noqa: E731
    assert A.ahead(child_pid, worth_it=False).result(child_pid) == os.getpid()
    monkeypatch.setenv(A.ENV_AHEAD, "0")
    job = A.ahead(child_pid)
    assert job._pid is None and job.result(child_pid) == os.getpid()
    monkeypatch.delenv(A.ENV_AHEAD)
    monkeypatch.setattr(A, "spare_cores", lambda: 0)
    job = A.ahead(child_pid)
    assert job._pid is None and job.result(child_pid) == os.getpid()


def test_spare_cores_counts_the_cores_this_process_may_use():
    expected = len(os.sched_getaffinity(0)) - 1 if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1) - 1
    assert REAL_SPARE_CORES() == max(0, expected)
