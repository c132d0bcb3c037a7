"""After the reports of a run: the PDFs for the meeting papers and the publication record.

``print_pdfs`` prints every report page of the run that has no PDF, or an older one, to a PDF
beside it (``insats.reports.pdf``: the Chromium the tests drive, A4, tables fitted). One browser
prints them all. A machine without Chromium still gets its HTML reports: the run notes why there
are no PDFs and the front page leaves the links out.

``write_publication`` writes ``publicering.json`` for each study of the run whose notebooks publish
through disclosure control (they declare the parameter ``min_cell``): every count of the study's
publication, shown or hidden (never a hidden value), with its relations. It then audits the record
the way ``insats audit`` does, from what it shows alone; a finding makes the run fail (exit 1) and
is listed in the run log. The publication is the same one the notebooks drew from: the same
function and parameters, and in the same process it is computed once.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from insats.errors import EnvironmentProblem, InsatsError
from insats.reports.pdf import PdfPrinter, pdf_path_for
from insats.runner.config import RunConfig, StudySpec

__all__ = ["print_pdfs", "publishes", "write_publication"]

EVALUATION_KEYS = ("reform_datum", "omfattning", "lov_min_deltagare")
"""Parameters of the utvärdering that its publication depends on (``study_publication``)."""


def print_pdfs(pages: list[Path], note: Callable[[str], None]) -> dict[Path, Path]:
    """Print each page whose PDF is missing or older than the page; returns page → PDF for every
    page that has an up-to-date PDF afterwards. Problems become notes, never a failed run."""
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
    try:
        with PdfPrinter() as printer:
            for page in todo:
                try:
                    done[page] = printer.print(page)
                except InsatsError as exc:
                    note(f"PDF för {page.name} kunde inte skapas: {exc}")
    except EnvironmentProblem as exc:
        note(f"Inga PDF-filer i denna körning: {exc}")
    return done


def publishes(config: RunConfig) -> bool:
    """True when the run's notebooks publish through disclosure control (declare ``min_cell``)."""
    return any("min_cell" in declared for declared in config.declared.values())


def write_publication(config: RunConfig, study: StudySpec, folder: Path) -> dict[str, Any]:
    """Write the study's ``publicering.json`` in ``folder`` and audit it; returns what the run log
    records: the file, the number of counts and the audit's findings (Swedish lines)."""
    # imported here: the coordinator loads pandas and the measures only for this step
    from insats.analysis.disclosure import audit_manifest
    from insats.data.cache import load_cached
    from insats.reports.publication import study_publication, write_manifest

    params = config.parameters
    assert study.path is not None  # only studies with data publish
    data = load_cached(study.path)
    evaluation = {k: params[k] for k in EVALUATION_KEYS if params.get(k) is not None}
    options = {"erbjudande_alla_grupper": True} if params.get("omfattning") == "alla" else {}
    pub = study_publication(data, min_cell=int(params.get("min_cell", 5)), evaluation=evaluation or None, **options)
    path = write_manifest(pub, folder)
    record = json.loads(path.read_text(encoding="utf-8"))
    findings = []
    for f in audit_manifest(record):
        group = ", ".join(f"{k} {v}" for k, v in f.key.dims) or "hela studien"
        findings.append(f"tabell {f.where or 'okänd'}, rad {group}, kolumn {f.key.count} ({f.key.period}): {f.text}")
    return {"fil": path, "antal": len(record.get("celler", [])), "granskning": findings}
