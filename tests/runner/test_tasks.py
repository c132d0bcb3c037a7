"""What a run's workers take next (insats.runner.tasks.JobQueue): with several studies a free
worker begins another study instead of waiting for the publication of one being computed."""

from __future__ import annotations

import threading

from insats.runner.tasks import Job, JobQueue, ReportTask


def jobs(plan: dict[str, list[str]]) -> list[Job]:
    """Jobs in the given order; the reports of a study share its gate, as in ``run_batch``."""
    stop = threading.Event()
    out = []
    for study, reports in plan.items():
        gate = threading.Event()
        out += [Job(ReportTask(f"{study}/{r}", "nb.ipynb", {}, "/tmp"), gate, stop) for r in reports]
    return out


def names(taken: list[Job | None]) -> list[str | None]:
    return [j.task.name if j is not None else None for j in taken]


def test_one_study_is_taken_in_the_order_given():
    q = JobQueue(jobs({"a": ["kart", "p1", "p2"]}))
    first, second = q.take(), q.take()
    assert names([first, second]) == ["a/kart", "a/p1"]  # nothing else to do: the second waits
    q.done(first)
    assert names([q.take(), q.take()]) == ["a/p2", None]


def test_a_free_worker_begins_another_study_instead_of_waiting():
    q = JobQueue(jobs({"a": ["kart", "p1", "p2"], "b": ["kart", "p1"], "c": ["kart", "p1"]}))
    a_first = q.take()
    b_first = q.take()
    assert names([a_first, b_first]) == ["a/kart", "b/kart"]
    q.done(b_first)  # b's publication is there to read: b's reports come before beginning c
    assert names([q.take()]) == ["b/p1"]
    c_first = q.take()
    assert names([c_first]) == ["c/kart"]
    q.done(a_first)
    assert names([q.take(), q.take()]) == ["a/p1", "a/p2"]
    assert names([q.take(), q.take()]) == ["c/p1", None]  # all begun: the next one waits


def test_every_report_is_taken_once_by_parallel_workers():
    all_jobs = jobs({s: [f"r{i}" for i in range(6)] for s in "abcd"})
    q = JobQueue(all_jobs)
    taken: list[str] = []
    lock = threading.Lock()

    def worker():
        while (job := q.take()) is not None:
            with lock:
                taken.append(job.task.name)
            q.done(job)

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(10)
    assert sorted(taken) == sorted(j.task.name for j in all_jobs)
