"""A real Dask cluster (issue 18): `dask scheduler` and two `dask worker` processes started as a
user would, a run over two studies with `insats run --scheduler tcp://…`, and a worker killed
while it runs a report: the report runs again on the other worker and the run says so."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from html.parser import HTMLParser
from pathlib import Path

import nbformat
import pytest

from tests.runner.test_batch import NOTEBOOKS, OMRADEN

pytestmark = pytest.mark.slow

BIN = Path(sys.executable).parent
START_TIMEOUT = 60.0

SLOW_ONCE = """import os, time
if omrade == sov_omrade:
    try:  # only the first attempt sleeps (the marker says which kernel runs it)
        fd = os.open(markor, os.O_CREAT | os.O_EXCL | os.O_WRONLY)
        os.write(fd, str(os.getpid()).encode())
        os.close(fd)
        time.sleep(60)
    except FileExistsError:
        pass
"""


def _profile(path: Path) -> None:
    """The test profile notebook with one more cell: a report that sleeps on its first attempt."""
    nb = nbformat.read(NOTEBOOKS / "profil.ipynb", as_version=4)
    params = next(c for c in nb.cells if "parameters" in c.metadata.get("tags", []))
    params.source += "\nmarkor = None"
    nb.cells.insert(2, nbformat.v4.new_code_cell(SLOW_ONCE))
    nbformat.write(nb, path)


def _start(args: list[str], log: Path) -> subprocess.Popen:
    with open(log, "wb") as fh:
        return subprocess.Popen(
            [str(BIN / "dask"), *args],
            stdout=fh,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            env=dict(os.environ),
        )


def _stop(proc: subprocess.Popen) -> None:
    with contextlib.suppress(OSError):
        os.killpg(proc.pid, signal.SIGKILL)
    with contextlib.suppress(Exception):
        proc.wait(10)


@contextlib.contextmanager
def cluster(tmp: Path) -> Iterator[tuple[str, list[subprocess.Popen]]]:
    """A scheduler and two single-threaded workers on 127.0.0.1, free ports, folders under
    ``tmp``; every process is killed at the end, also when the test fails."""
    from distributed import Client

    procs: list[subprocess.Popen] = []
    scheduler_file = tmp / "scheduler.json"
    try:
        procs.append(
            _start(
                ["scheduler", "--host", "127.0.0.1", "--port", "0", "--no-dashboard"]
                + ["--scheduler-file", str(scheduler_file)],
                tmp / "scheduler.log",
            )
        )
        deadline = time.monotonic() + START_TIMEOUT
        while not scheduler_file.exists() and time.monotonic() < deadline:
            time.sleep(0.2)
        assert scheduler_file.exists(), (tmp / "scheduler.log").read_text(errors="replace")
        for i in (1, 2):
            (tmp / f"w{i}").mkdir()
            procs.append(
                _start(
                    ["worker", "--scheduler-file", str(scheduler_file), "--host", "127.0.0.1", "--nthreads", "1"]
                    + ["--no-nanny", "--no-dashboard", "--name", f"w{i}", "--local-directory", str(tmp / f"w{i}")],
                    tmp / f"w{i}.log",
                )
            )
        with Client(scheduler_file=str(scheduler_file), timeout=START_TIMEOUT) as client:
            client.wait_for_workers(2, timeout=START_TIMEOUT)
            address = client.scheduler.address
        yield address, procs
    finally:
        for proc in reversed(procs):
            _stop(proc)


def _parent(pid: int) -> int:
    with open(f"/proc/{pid}/stat") as fh:
        return int(fh.read().rsplit(")", 1)[1].split()[1])


def test_two_studies_on_a_real_cluster_survive_a_killed_worker(tmp_path):
    root = tmp_path / "projekt"
    (root / "params").mkdir(parents=True)
    (root / "notebooks").mkdir()
    for name in ("alfa", "beta"):
        (root / "data" / name).mkdir(parents=True)
        (root / "data" / name / "omraden.csv").write_text(OMRADEN, encoding="utf-8")
    nbformat.write(nbformat.read(NOTEBOOKS / "studie.ipynb", as_version=4), root / "notebooks" / "studie.ipynb")
    _profile(root / "notebooks" / "profil.ipynb")
    marker = tmp_path / "markor.txt"
    params = root / "params" / "kluster.yaml"
    params.write_text(
        f'fran: "2012-01"\nsov_omrade: "02"\nmarkor: {str(marker)!r}\n'
        "korning:\n  namn: kluster\n  studier: [data/alfa, data/beta]\n  notebooks: [studie]\n  profil: profil\n"
        "  omraden: alla\n  timeout: 120\n  pdf: false\n  publicering: false\n",
        encoding="utf-8",
    )
    with cluster(tmp_path) as (address, procs):
        run = subprocess.Popen(
            [str(BIN / "insats"), "run", str(params), "--scheduler", address],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=dict(os.environ),
        )
        try:
            deadline = time.monotonic() + 90
            while not (marker.exists() and marker.read_text()) and time.monotonic() < deadline:
                time.sleep(0.2)
            assert marker.exists(), "no report started sleeping"
            kernel = int(marker.read_text())
            worker = _parent(kernel)
            assert worker in {p.pid for p in procs[1:]}
            os.kill(worker, signal.SIGKILL)  # the worker running the sleeping report
            _, err = run.communicate(timeout=90)
        finally:
            if run.poll() is None:
                run.kill()
    assert run.returncode == 0, err
    report_dir = root / "reports" / "kluster"
    korning = json.loads((report_dir / "korning.json").read_text(encoding="utf-8"))
    statuses = {r["namn"]: r["status"] for r in korning["rapporter"]}
    assert statuses == {
        f"{s}/{r}": "ok" for s in ("alfa", "beta") for r in ("studie", "profil_01", "profil_02", "profil_03")
    }
    assert korning["schemalaggare"] == address
    (lost,) = [e for e in korning["handelser"] if e["typ"] == "arbetare_forlorad"]
    # every report the lost worker held (running or queued there) ran again, the sleeping one included
    again = {r["namn"] for r in korning["rapporter"] if r["omkord_efter_forlorad_arbetare"]}
    assert again == set(lost["rapporter"]) and any(n.endswith("profil_02") for n in again)
    assert "försvann" in err and all(n in err for n in again)
    finished_on = {r["namn"]: int(r["arbetare"].split(":")[1]) for r in korning["rapporter"]}
    assert all(finished_on[n] != worker for n in again)  # finished on the other worker
    index = (report_dir / "korning.html").read_text(encoding="utf-8")  # the run log
    assert "försvann" in index and "Kördes om på en annan arbetare" in index
    for s in ("alfa", "beta"):
        assert "Spånga-Tensta 38000" in (report_dir / s / "profil_02.html").read_text(encoding="utf-8")
    # the front page links every report of both studies (and the run log), each to a page that is there
    front = report_dir / "index.html"
    assert front.is_file()
    links = _hrefs(front.read_text(encoding="utf-8"))
    reports = {f"{name}.html" for name in statuses}
    assert len(reports) == 8 and reports <= links, sorted(reports - links)
    assert all((report_dir / link).is_file() for link in reports)
    assert "korning.html" in links
    assert not _alive(kernel)


def _hrefs(page: str) -> set[str]:
    """Every link target of an HTML page (entities decoded)."""

    class Links(HTMLParser):
        def __init__(self) -> None:
            super().__init__()
            self.found: set[str] = set()

        def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
            self.found |= {v for k, v in attrs if tag == "a" and k == "href" and v}

    parser = Links()
    parser.feed(page)
    return parser.found


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as fh:
            return fh.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def test_a_worker_lost_while_the_reader_was_busy_is_still_recorded(monkeypatch):
    """The race a loaded machine gives: between two looks at the cluster a worker is lost and the
    report it held has already run again elsewhere. The loss is recorded (with that report) before
    the outcomes are handed on; a stand-in client plays the scheduler."""
    import threading

    import distributed

    from insats.runner import cluster as C
    from insats.runner.tasks import Job, ReportTask

    class Future:
        def __init__(self, key: str) -> None:
            self.key, self.finished = key, False

        def done(self) -> bool:
            return self.finished

        def result(self) -> str:
            return self.key

        def release(self) -> None:
            pass

        def cancel(self) -> None:
            pass

    class Client(distributed.Client):
        def __init__(self) -> None:  # no real scheduler
            self.futures: list[Future] = []
            self.looks = 0

        def register_plugin(self, *args, **kwargs) -> None:
            pass

        def submit(self, func, task, key, pure, workers=None, allow_other_workers=False):
            fut = Future(key)
            fut.workers, fut.loose = workers, allow_other_workers
            self.futures.append(fut)
            return fut

        def scheduler_info(self) -> dict:
            if self.looks < 2:  # the run starts; both reports running, one on each worker
                return {"workers": {"tcp://w0": {}, "tcp://w1": {}}}
            return {"workers": {"tcp://w1": {}}}

        def processing(self) -> dict:
            self.looks += 1
            if self.looks <= 2:
                return {"tcp://w0": [self.futures[0].key], "tcp://w1": [self.futures[1].key]}
            return {}

        def close(self) -> None:
            pass

    client = Client()

    class Clock:  # the pause between two looks, in which it all happens
        monotonic = staticmethod(time.monotonic)

        @staticmethod
        def sleep(seconds: float) -> None:
            if client.looks == 2:  # w0 lost, its report rerun on w1, everything done
                for fut in client.futures:
                    fut.finished = True

    monkeypatch.setattr(distributed, "Client", Client)
    monkeypatch.setattr(C, "time", Clock)
    jobs = []
    for name in ("a/profil_01", "a/profil_02"):
        ready = threading.Event()
        ready.set()
        jobs.append(Job(ReportTask(name=name, notebook="x.ipynb", cwd=".", parameters={}), ready, threading.Event()))
    events: list[dict] = []
    outcomes = list(C.run_dask(jobs, client, events.append))
    assert sorted(outcomes) == sorted(f.key for f in client.futures)
    (lost,) = [e for e in events if e["typ"] == "arbetare_forlorad"]
    assert lost["arbetare"] == "tcp://w0" and lost["rapporter"] == ["a/profil_01"]
    # two studies (one gate each): one given to each worker, loosely
    assert [(f.workers, f.loose) for f in client.futures] == [(["tcp://w0"], True), (["tcp://w1"], True)]


def test_a_studys_reports_go_to_one_worker_the_least_loaded_when_it_starts(monkeypatch):
    """Each worker keeps its own publications, so all reports of a study go to one worker (loosely:
    the scheduler may move them when it is lost), the one given the fewest reports so far; the
    placement is handed back for the publication records, and the records go to the same workers."""
    import threading

    import distributed

    from insats.runner import cluster as C
    from insats.runner.config import StudySpec
    from insats.runner.tasks import OK, Job, ReportOutcome, ReportTask, now_iso

    class Future:
        def __init__(self, key, value, workers, loose) -> None:
            self.key, self.value, self.workers, self.loose = key, value, workers, loose

        def done(self) -> bool:
            return True

        def result(self):
            return self.value

        def release(self) -> None:
            pass

    class Client(distributed.Client):
        def __init__(self) -> None:  # no real scheduler
            self.futures: list[Future] = []

        def register_plugin(self, *args, **kwargs) -> None:
            pass

        def submit(self, func, *args, key, pure, workers=None, allow_other_workers=False):
            if func is C.run_report:
                value = ReportOutcome(args[0].name, OK, 0.0, now_iso(), now_iso())
            else:  # a study's record: which study, and where it was asked to run
                value = {"studie": args[1], "arbetare": workers}
            fut = Future(key, value, workers, allow_other_workers)
            self.futures.append(fut)
            return fut

        def scheduler_info(self) -> dict:
            return {"workers": {"tcp://b": {}, "tcp://a": {}}}

        def processing(self) -> dict:
            return {}

        def close(self) -> None:
            pass

    client = Client()
    sizes = {"stor": 5, "mellan": 3, "liten": 2}
    gates = {name: threading.Event() for name in sizes}
    jobs = []
    for name, n in sizes.items():
        gates[name].set()
        for i in range(n):
            task = ReportTask(name=f"{name}/profil_{i}", notebook="x.ipynb", cwd=".", parameters={})
            jobs.append(Job(task, gates[name], threading.Event()))
    placement: dict = {}
    outcomes = list(C.run_dask(jobs, client, lambda e: None, placement))
    assert sorted(o.name for o in outcomes) == sorted(j.task.name for j in jobs)
    where = {f.value.name: (f.workers, f.loose) for f in client.futures}
    # the largest study first to a (the first by address), the next to b, the last to b (3 < 5)
    expected = {"stor": "tcp://a", "mellan": "tcp://b", "liten": "tcp://b"}
    assert where == {j.task.name: ([expected[j.task.name.split("/")[0]]], True) for j in jobs}
    assert {name: placement[gate] for name, gate in gates.items()} == expected

    studies = [StudySpec(name, Path(f"/data/{name}")) for name in sizes]
    config = type("Config", (), {"parameters": {"min_cell": 5}})()
    made = C.records_on_cluster(client, config, expected)(studies)
    assert made == {name: {"studie": f"/data/{name}", "arbetare": [expected[name]]} for name in sizes}


def test_worker_plugin_closes_the_workers_kernels_and_travels_by_reference(monkeypatch):
    import pickle

    from distributed.diagnostics.plugin import WorkerPlugin

    from insats.runner import kernels
    from insats.runner.worker_plugin import KernelPoolPlugin

    closed = []
    monkeypatch.setattr(kernels, "close_pool", lambda: closed.append(True))
    plugin = KernelPoolPlugin()
    assert isinstance(plugin, WorkerPlugin) and plugin.name == "insats-karnor"
    # Dask sends it to the workers pickled; the class is found by its module, as a worker imports it
    assert type(pickle.loads(pickle.dumps(plugin))) is KernelPoolPlugin
    plugin.teardown(worker=None)
    assert closed == [True]


def test_a_local_run_does_not_import_distributed():
    import subprocess
    import sys

    code = "import sys, insats.runner.batch; print('distributed' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "False"
