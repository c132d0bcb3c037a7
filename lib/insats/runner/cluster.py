"""Batch reports on a Dask distributed cluster (``insats run --scheduler tcp://HOST:8786``).

``run_dask`` submits each report (``insats.runner.execute.run_report``) as its study becomes
ready and yields the outcomes as they finish. The workers need the package and the same paths to
notebooks and data (a shared disk); each keeps its own warm kernels, closed by
``insats.runner.worker_plugin.KernelPoolPlugin`` when the worker stops. When a worker dies, the
scheduler runs its reports again on another worker (a report that kills its worker three times
fails with ``KilledWorker``); the run polls the cluster and reports which worker was lost and
which reports it held, so ``korning.json`` and the index can say what happened. A cluster without workers for
``DASK_NO_WORKERS_SECONDS`` fails the reports still waiting.

Each worker keeps the publications its kernels computed in a folder of its own (a worker's kernels
share them; workers do not). A study's reports therefore go to one worker, the one with the fewest
reports given so far when the study's first report is submitted (a loose restriction: when that
worker is lost, or another is idle at the end, the scheduler may run them elsewhere), so that its
publication is computed once on the cluster rather than once on every worker. The run's
publication records (``records_on_cluster``) are worked out on the same workers, from the
publications stored there, in parallel, instead of in the coordinator one study after another.
"""

from __future__ import annotations

import collections
import contextlib
import queue
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from typing import Any

from insats.errors import InsatsError
from insats.runner.config import RunConfig, StudySpec
from insats.runner.execute import run_report
from insats.runner.publish import RecordMaker, study_record
from insats.runner.tasks import FEL, Job, ReportOutcome, ReportTask, error_record, now_iso, outcome_from_exception
from insats.text import slug

__all__ = ["DASK_NO_WORKERS_SECONDS", "DASK_POLL_SECONDS", "records_on_cluster", "run_dask"]

DASK_POLL_SECONDS = 0.5
DASK_NO_WORKERS_SECONDS = 120.0
"""A Dask run gives up on its remaining reports when the cluster has had no worker this long."""


def _client(scheduler: Any) -> tuple[Any, bool]:
    """A client of the cluster (``scheduler``: an address or a client) and whether it is our own."""
    from distributed import Client  # heavy (~1 s): only a run with --scheduler needs it

    if isinstance(scheduler, Client):
        return scheduler, False
    return Client(scheduler), True


def run_dask(
    jobs: list[Job],
    scheduler: Any,
    on_event: Callable[[dict[str, Any]], None],
    placement: dict[threading.Event, str] | None = None,
) -> Iterator[ReportOutcome]:
    """Yield outcomes as reports finish on a Dask distributed cluster; note lost workers.
    ``placement`` receives, for each study (by its gate), the worker its reports were given to."""

    from insats.runner.worker_plugin import KernelPoolPlugin  # needs distributed too

    client, own = _client(scheduler)
    token = uuid.uuid4().hex[:8]
    submitted: queue.Queue = queue.Queue()
    by_key: dict[str, ReportTask] = {}
    placed = placement if placement is not None else {}
    left = collections.Counter(job.ready for job in jobs)  # a study is known by its gate
    given: collections.Counter[str] = collections.Counter()

    def worker_for(job: Job) -> str | None:
        """The worker for ``job``'s study: the one its first report went to."""
        if job.ready not in placed:
            try:
                workers = sorted(client.scheduler_info().get("workers", {}))
            except Exception:  # noqa: BLE001 — the scheduler is busy: the study goes where Dask puts it
                workers = []
            if not workers:
                return None
            placed[job.ready] = min(workers, key=lambda w: (given[w], workers.index(w)))
            given[placed[job.ready]] += left[job.ready]
        return placed[job.ready]

    def submit_all() -> None:
        for job in jobs:
            job.ready.wait()
            key = f"insats-{slug(job.task.name, max_length=80)}-{token}"
            worker = worker_for(job)
            fut = client.submit(
                run_report,
                job.task,
                key=key,
                pure=False,
                workers=[worker] if worker else None,
                allow_other_workers=bool(worker),
            )
            by_key[key] = job.task
            submitted.put(fut)
        submitted.put(None)

    try:
        with contextlib.suppress(Exception):
            client.register_plugin(KernelPoolPlugin(), name=KernelPoolPlugin.name)
        feeder = threading.Thread(target=submit_all, name="insats-dask-sandare", daemon=True)
        feeder.start()
        pending: set = set()
        all_submitted = False
        where: dict[str, str] = {}
        known: set[str] = set(client.scheduler_info().get("workers", {}))
        no_workers_since: float | None = None
        while pending or not all_submitted:
            while True:
                try:
                    fut = submitted.get(timeout=0 if pending else DASK_POLL_SECONDS)
                except queue.Empty:
                    break
                if fut is None:
                    all_submitted = True
                    break
                pending.add(fut)
            if not pending:
                continue
            # the cluster first, then the finished reports: a report rerun after its worker was
            # lost may already be done (while this generator's reader was busy), and the loss must
            # be recorded before its outcome is handed on and the run may end
            try:
                workers_now = set(client.scheduler_info().get("workers", {}))
                processing = client.processing()
            except Exception:  # noqa: BLE001 — the scheduler is busy; ask again next round
                workers_now, processing = None, None
            if workers_now is not None:
                open_keys = {f.key for f in pending}
                for lost in sorted(known - workers_now):
                    names = sorted(by_key[k].name for k, w in where.items() if w == lost and k in open_keys)
                    on_event(
                        {
                            "tid": now_iso(),
                            "typ": "arbetare_forlorad",
                            "arbetare": lost,
                            "rapporter": names,
                            "meddelande": f"arbetaren {lost} försvann under körningen"
                            + (f"; {', '.join(names)} körs om på en annan arbetare." if names else "."),
                        }
                    )
                known = workers_now
                for worker, keys in (processing or {}).items():
                    for k in keys:
                        where[str(k)] = worker
                if workers_now:
                    no_workers_since = None
                else:
                    no_workers_since = no_workers_since or time.monotonic()
                    if time.monotonic() - no_workers_since > DASK_NO_WORKERS_SECONDS:
                        for fut in list(pending):
                            pending.discard(fut)
                            fut.cancel()
                            yield ReportOutcome(
                                by_key[fut.key].name,
                                FEL,
                                0.0,
                                now_iso(),
                                now_iso(),
                                error=error_record(
                                    "IngenArbetare",
                                    f"klustret har inte haft någon arbetare på {DASK_NO_WORKERS_SECONDS:.0f} s; "
                                    "rapporten kördes inte.",
                                ),
                            )
                        break
            for fut in [f for f in pending if f.done()]:
                pending.discard(fut)
                try:
                    outcome = fut.result()
                except Exception as exc:  # noqa: BLE001
                    outcome = outcome_from_exception(by_key[fut.key], exc)
                fut.release()  # the cluster may forget the result once it is here
                yield outcome
            if pending:
                time.sleep(DASK_POLL_SECONDS)
    finally:
        if own:
            client.close()


def records_on_cluster(scheduler: Any, config: RunConfig, placement: dict[str | None, str]) -> RecordMaker:
    """Work out the studies' publication records (``study_record``) on the cluster, each on the
    worker its reports were given to (``placement``, by study name; loosely, as the reports), all
    at once."""

    def make(studies: list[StudySpec]) -> dict[str | None, dict[str, Any] | InsatsError]:
        client, own = _client(scheduler)
        token = uuid.uuid4().hex[:8]
        try:
            futures = {}
            for study in studies:
                worker = placement.get(study.name)
                futures[study.name] = client.submit(
                    study_record,
                    config.parameters,
                    str(study.path),
                    key=f"insats-publicering-{slug(study.name or 'studien', max_length=80)}-{token}",
                    pure=False,
                    workers=[worker] if worker else None,
                    allow_other_workers=bool(worker),
                )
            out: dict[str | None, dict[str, Any] | InsatsError] = {}
            for name, fut in futures.items():
                try:
                    out[name] = fut.result()
                except InsatsError as exc:
                    out[name] = exc
                except Exception as exc:  # noqa: BLE001 — a lost worker, say: the run notes it
                    out[name] = InsatsError(f"arbetaren misslyckades ({type(exc).__name__}: {exc})")
                fut.release()
            return out
        finally:
            if own:
                client.close()

    return make
