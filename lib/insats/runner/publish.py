"""After the reports of a run: the publication record and its audit, then the PDFs for the papers.

``after_reports`` is what ``run_batch`` calls once every report has run; it uses the two below.

``print_pdfs`` prints every report page of the run that has no PDF, or an older one, to a PDF
beside it (``insats.reports.pdf``: the Chromium the tests drive, A4, tables fitted). One browser
prints them all. A machine without Chromium still gets its HTML reports: the run notes why there
are no PDFs and the front page leaves the links out.

Each study of the run whose notebooks publish through disclosure control (they declare the
parameter ``min_cell``) gets a ``publicering.json``: every count of the study's publication, shown
or hidden (never a hidden value), with its relations. ``study_record`` works it out and audits it
the way ``insats audit`` does, from what it shows alone; a finding makes the run fail (exit 1) and
is listed in the run log. It runs where the study's reports ran (``RecordMaker``: in the
coordinator of a local run, ``records_here``; on the cluster's workers, in parallel,
``insats.runner.cluster.records_on_cluster``), and reads the publication their kernels stored:
the same one the notebooks drew from, not computed again. ``write_publication`` writes it; only
the coordinator writes files.
"""

from __future__ import annotations

import contextlib
import json
import logging
import multiprocessing
import os
import threading
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path
from typing import Any

from insats.atomic import atomic_write
from insats.errors import EnvironmentProblem, InsatsError
from insats.reports.pdf import PdfPrinter, pdf_path_for
from insats.runner.config import RunConfig, StudySpec
from insats.runner.tasks import FEL, error_record

__all__ = [
    "RecordMaker",
    "after_reports",
    "fail_study_reports",
    "print_pdfs",
    "publishes",
    "records_here",
    "study_record",
    "write_publication",
]

log = logging.getLogger("insats")

EVALUATION_KEYS = ("reform_datum", "omfattning", "lov_min_deltagare")
LOG_NAME = "undertryckningar.csv"
"""The suppression log of a study's publication, beside its ``publicering.json``."""
"""Parameters of the utvärdering that its publication depends on (``study_publication``)."""


PDF_PRINTERS = 2
"""Browsers printing a run's PDFs at once (at most one per core). Chromium already spreads one
page over more than a core, so two gain little on two cores (15 Stockholm pages: 18.3 s against
21.0 s, measured when each page had a tab of its own; a page now takes about 0.8 s in one browser)
and more where there are more."""


def print_pdfs(pages: list[Path], note: Callable[[str], None], printers: int | None = None) -> dict[Path, Path]:
    """Print each page whose PDF is missing or older than the page; returns page → PDF for every
    page that has an up-to-date PDF afterwards. ``printers`` browsers (default ``PDF_PRINTERS``,
    at most one per core) share the pages. Problems become notes, never a failed run."""
    done: dict[Path, Path] = {}
    todo = []
    for page in pages:
        pdf = pdf_path_for(page)
        if pdf.is_file() and pdf.stat().st_mtime >= page.stat().st_mtime:
            done[page] = pdf
        else:
            todo.append(page)
    if not todo:
        return done
    n = max(1, min(printers or PDF_PRINTERS, os.cpu_count() or 1, len(todo)))
    notes: list[list[str]] = [[] for _ in range(n)]

    def print_share(i: int) -> None:
        try:
            with PdfPrinter() as printer:
                for page in todo[i::n]:
                    try:
                        done[page] = printer.print(page)
                    except Exception as exc:  # noqa: BLE001 — one page's failure (its tab is replaced) is a note
                        notes[i].append(f"PDF för {page.name} kunde inte skapas: {exc}")
        except EnvironmentProblem as exc:
            notes[i].append(f"Inga PDF-filer i denna körning: {exc}")

    threads = [threading.Thread(target=print_share, args=(i,), name=f"insats-pdf-{i}") for i in range(n)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for text in dict.fromkeys(t for share in notes for t in share):  # each browser that failed says the same
        note(text)
    return done


def publishes(config: RunConfig) -> bool:
    """True when the run's notebooks publish through disclosure control (declare ``min_cell``) and
    the params file does not turn the record off (``korning.publicering: false``)."""
    return config.publication and any("min_cell" in declared for declared in config.declared.values())


def study_record(parameters: dict[str, Any], study_path: str, shared: str | None = None) -> dict[str, Any]:
    """A study's publication record, worked out but not written: the record (``publicering.json``)
    and its suppression log as text, the number of counts, the hidden counts by reason and the
    audit's findings (Swedish lines). Runs where the reports ran, so that it reads the publication
    they stored instead of computing it again: in the coordinator of a local run (``shared``: the
    kernels' sharing folder) or on the Dask worker whose kernels ran the study's reports (its
    pool's folder; ``shared`` None means this process's pool's folder, if it has one). Without a
    stored publication it is computed: the same function and parameters as the notebooks', so the
    same publication."""
    # imported here: the coordinator loads pandas and the measures only for this step
    from insats.analysis.disclosure import audit_manifest, log_summary
    from insats.analysis.measures.output import log_table
    from insats.data.cache import load_cached
    from insats.reports.publication import finding_line, manifest_text, study_publication
    from insats.reports.sharing import sharing_in_process
    from insats.runner.kernels import kernel_pool
    from insats.xlsx import csv_text

    evaluation = {k: parameters[k] for k in EVALUATION_KEYS if parameters.get(k) is not None}
    options = {"erbjudande_alla_grupper": True} if parameters.get("omfattning") == "alla" else {}
    with sharing_in_process(shared if shared is not None else kernel_pool().shared_folder):
        pub = study_publication(
            load_cached(study_path),
            min_cell=int(parameters.get("min_cell", 5)),
            protection=parameters.get("skyddsniva"),
            evaluation=evaluation or None,
            **options,
        )
    text = manifest_text(pub)
    record = json.loads(text)
    findings = [finding_line(f) for f in audit_manifest(record)]
    return {
        "publicering": text,
        "logg": csv_text(log_table(pub.log)),
        "antal": len(record.get("celler", [])),
        "undertryckta": log_summary(pub.log),
        "granskning": findings,
    }


def write_publication(worked_out: dict[str, Any], folder: Path) -> dict[str, Any]:
    """Write a study's ``publicering.json`` and its suppression log (``undertryckningar.csv``:
    which counts are hidden and why, never their values) in ``folder`` from ``study_record``;
    returns what the run log records: the files, the number of counts, the hidden counts by
    reason and the audit's findings."""
    from insats.reports.publication import manifest_path  # loads the measures: only for this step

    return {
        "fil": atomic_write(manifest_path(folder), worked_out["publicering"]),
        "antal": worked_out["antal"],
        "logg": atomic_write(Path(folder) / LOG_NAME, worked_out["logg"]),
        "undertryckta": worked_out["undertryckta"],
        "granskning": worked_out["granskning"],
    }


RecordMaker = Callable[[list[StudySpec]], dict[str | None, "dict[str, Any] | InsatsError"]]
"""Works out the publication records of studies (``study_record``), by study name; a study whose
record cannot be worked out gets the error."""


RECORD_PROCESSES = 2
"""Processes that work out the records of a local run over several studies at once (at most one
per core). Each starts Python and loads the measures (about 1.5 s) and then reads the stored
publications; one study's record is worked out in the coordinator itself."""


def _record_or_error(parameters: dict[str, Any], study_path: str, shared: str | None) -> dict[str, Any] | InsatsError:
    try:
        return study_record(parameters, study_path, shared)
    except InsatsError as exc:
        return exc


def records_here(config: RunConfig, shared: str | None, processes: int | None = None) -> RecordMaker:
    """The studies' records worked out on this machine (a local run): one study in this process;
    several in ``processes`` new processes at once (default ``RECORD_PROCESSES``, at most one per
    core), each reading the publications the run's kernels stored in ``shared``. Should the
    processes fail to start, this process works the records out one after the other."""

    def make(studies: list[StudySpec]) -> dict[str | None, dict[str, Any] | InsatsError]:
        paths = {study.name: str(study.path) for study in studies}
        n = max(1, min(processes or RECORD_PROCESSES, os.cpu_count() or 1, len(paths)))
        if n > 1:
            # new processes ("spawn"), never forks of this one: its threads may hold locks
            with (
                contextlib.suppress(BrokenProcessPool, OSError),
                ProcessPoolExecutor(n, mp_context=multiprocessing.get_context("spawn")) as pool,
            ):
                futures = {
                    name: pool.submit(_record_or_error, config.parameters, path, shared) for name, path in paths.items()
                }
                return {name: fut.result() for name, fut in futures.items()}
        return {name: _record_or_error(config.parameters, path, shared) for name, path in paths.items()}

    return make


def after_reports(
    config: RunConfig,
    records: list[dict[str, Any]],
    out_dir: Path,
    run_info: dict[str, Any],
    make_records: RecordMaker | None = None,
) -> list[str]:
    """Each study's publication record with its audit (worked out by ``make_records``, by default
    in this process), then the PDFs of the run's report pages (``runner.publish``); notes go into
    the run log. A study whose publication fails the audit has every report failed and its pages
    moved aside (``<namn>.fel.html``): nothing unsafe is left under a name that gets published.
    Returns the audit's findings."""
    notes: list[str] = run_info.setdefault("anmarkningar", [])

    def note(text: str) -> None:
        notes.append(text)
        log.warning("Obs: %s", text)

    findings: list[str] = []
    if publishes(config):
        published: dict[str, Any] = {}
        studies = [s for s in config.studies if s.path is not None]
        worked_out = (make_records or records_here(config, None))(studies)
        for study in studies:
            folder = out_dir / study.name if study.name is not None else out_dir
            got_or_error = worked_out.get(study.name)
            if not isinstance(got_or_error, dict):
                note(f"publiceringsposten för {study.name or 'studien'} kunde inte skrivas: {got_or_error}")
                continue
            got = write_publication(got_or_error, folder)
            for key in ("fil", "logg"):
                if got.get(key) is not None:
                    got[key] = Path(got[key]).relative_to(out_dir).as_posix()
            published[study.name or ""] = got
            if got["granskning"]:
                findings += [f"{got['fil']}: {line}" for line in got["granskning"]]
                fail_study_reports(records, study.name, out_dir, len(got["granskning"]))
        run_info["publicering"] = published
        if findings:
            note(f"granskningen av publiceringen fann {len(findings)} uppgifter som inte är tillräckligt skyddade")
    if config.pdf:
        pages = [out_dir / r["html"] for r in records if r.get("html") and (out_dir / r["html"]).is_file()]
        pdfs = print_pdfs(pages, note)
        for r in records:
            pdf = pdfs.get(out_dir / r["html"]) if r.get("html") else None
            r["pdf"] = pdf.relative_to(out_dir).as_posix() if pdf is not None else None
    return findings


def fail_study_reports(records: list[dict[str, Any]], study: str | None, out_dir: Path, n: int) -> None:
    """Fail every report of ``study`` that has a page, and move its files aside (``.fel``)."""
    for r in records:
        if r.get("studie") != study or not r.get("html"):
            continue
        name = r["namn"]
        for suffix in (".html", ".ipynb", ".pdf", ".xlsx"):
            src = out_dir / f"{name}{suffix}"
            if src.is_file():
                src.replace(out_dir / f"{name}.fel{suffix}")
        r.update(
            status=FEL,
            html=None,
            ipynb=None,
            fel_html=f"{name}.fel.html",
            fel=error_record(
                "Granskning",
                f"granskningen av röjandekontrollen fann {n} uppgifter i studiens publicering som kan räknas fram "
                "eller är för små; rapporten får inte publiceras (se Publicering i körningsloggen).",
            ),
        )
