"""After the reports (insats.runner.publish): PDFs beside the pages, the publication record and its audit."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import pytest

from insats.cli import main
from insats.intake.synth import generate
from insats.runner.config import RunConfig, StudySpec
from insats.runner.index import render_front_page, render_index
from insats.runner.publish import print_pdfs, publishes, study_record, write_publication
from tests.support.browser import require_chromium

PAGE = """<!DOCTYPE html><html lang="sv"><head><meta charset="utf-8"><title>{t}</title></head>
<body><h1>{t}</h1><table><thead><tr><th>Område</th><th>Andel</th></tr></thead>
<tbody><tr><td>Bromma</td><td>21,7 %</td></tr></tbody></table></body></html>"""


@pytest.mark.browser
def test_pdfs_are_printed_for_new_and_changed_pages_only(tmp_path):
    require_chromium()
    pages = []
    for name in ("a", "b"):
        page = tmp_path / f"{name}.html"
        page.write_text(PAGE.format(t=f"Rapport {name}"), encoding="utf-8")
        pages.append(page)
    notes: list[str] = []
    first = print_pdfs(pages, notes.append)
    assert notes == [] and set(first) == set(pages)
    assert all(p.read_bytes().startswith(b"%PDF") for p in first.values())
    before = {p: first[p].stat().st_mtime_ns for p in pages}
    # page b changes: only its PDF is printed again
    time.sleep(0.05)
    pages[1].write_text(PAGE.format(t="Rapport b, ny"), encoding="utf-8")
    os.utime(pages[1], None)
    second = print_pdfs(pages, notes.append)
    assert second[pages[0]].stat().st_mtime_ns == before[pages[0]]
    assert second[pages[1]].stat().st_mtime_ns > before[pages[1]]


@pytest.mark.browser
def test_two_browsers_print_every_page_once_and_each_to_its_own_pdf(tmp_path):
    from tests.support.pdf import pdf_text

    require_chromium()
    pages = []
    for name in ("a", "b", "c"):
        page = tmp_path / f"{name}.html"
        page.write_text(PAGE.format(t=f"Rapport {name}"), encoding="utf-8")
        pages.append(page)
    notes: list[str] = []
    done = print_pdfs(pages, notes.append, printers=2)
    assert notes == [] and set(done) == set(pages)
    for page in pages:
        assert f"Rapport {page.stem}" in pdf_text(done[page])


def test_without_chromium_the_run_notes_it_and_has_no_pdfs(tmp_path, monkeypatch):
    monkeypatch.setenv("INSATS_CHROMIUM", str(tmp_path / "ingen-chromium"))
    pages = [tmp_path / "a.html", tmp_path / "b.html"]
    for page in pages:
        page.write_text(PAGE.format(t=page.stem), encoding="utf-8")
    notes: list[str] = []
    assert print_pdfs(pages, notes.append, printers=2) == {}  # both browsers fail: one note
    assert len(notes) == 1 and notes[0].startswith("Inga PDF-filer i denna körning") and "Chromium" in notes[0]
    assert not (tmp_path / "a.pdf").exists()


@pytest.fixture(scope="module")
def small_sundbyberg(tmp_path_factory):
    return generate("sundbyberg", tmp_path_factory.mktemp("s") / "sundbyberg", seed=3, persons=1200)


def _config(root: Path, study: Path, **params) -> RunConfig:
    return RunConfig(
        path=root / "params.yaml",
        root=root,
        name="t",
        parameters={"data_dir": str(study), "min_cell": 5, **params},
        declared={root / "n.ipynb": {"min_cell": "5", **dict.fromkeys(params, "")}},
        studies=[StudySpec(None, study)],
    )


@pytest.mark.slow
def test_publication_record_is_written_and_passes_the_audit(tmp_path, small_sundbyberg):
    """The run writes publicering.json and audits it; the record passes ``insats audit`` (an
    independent reading of the same file) and shows no hidden value."""
    config = _config(tmp_path, small_sundbyberg, reform_datum="2016-01-01", omfattning="arbetsloshet")
    assert publishes(config)
    got = write_publication(study_record(config.parameters, str(config.studies[0].path)), tmp_path)
    assert got["granskning"] == [] and got["antal"] > 100
    record = json.loads(Path(got["fil"]).read_text(encoding="utf-8"))
    hidden = [c for c in record["celler"] if c["varde"] is None]
    assert hidden, "a small study hides some counts"
    assert main(["audit", str(tmp_path)]) == 0
    # the suppression log beside it: every hidden count and why, never a value
    log_text = Path(got["logg"]).read_text(encoding="utf-8")
    assert log_text.startswith("Räkning,Grupp,Period,Skäl,Publiceras i")
    assert len(log_text.strip().splitlines()) - 1 == sum(got["undertryckta"].values()) > 0
    assert got["undertryckta"].get("primär", 0) > 0
    # the run log and front page say it
    run = {"namn": "t", "rapporter": [], "publicering": {"": {**got, "fil": "publicering.json"}}}
    assert "granskad: ingen dold uppgift kan räknas fram" in render_index(run)
    run["publicering"][""]["granskning"] = ["tabell x, rad omrade a, kolumn k (2016): visas och är mindre än 5"]
    assert "granskningen fann 1 uppgifter" in render_index(run)
    assert "Får inte publiceras ännu" in render_front_page(run, tmp_path)


def test_a_run_without_min_cell_publishes_nothing(tmp_path):
    config = _config(tmp_path, tmp_path)
    config.declared = {tmp_path / "n.ipynb": {"fran": "x"}}
    assert not publishes(config)


@pytest.mark.slow
def test_a_run_whose_publication_fails_the_audit_fails_its_reports(tmp_path, monkeypatch):
    """insats run audits its own publication: on a finding every report of the study fails, its
    pages are moved aside (nothing unsafe under a published name) and the run exits 1."""
    from insats.runner import batch, publish
    from insats.runner.config import load_params
    from tests.runner.test_batch import make_project

    monkeypatch.setattr(batch, "DEFAULT_PREIMPORTS", ("pandas", "insats.data.load"))
    finding = "tabell utbud, rad omrade 02, kolumn k (2013-01:2013-12): antalet visas och är mindre än 5"

    def fake(parameters, study_path, shared=None):
        return {"publicering": "{}", "logg": "", "antal": 1, "undertryckta": {}, "granskning": [finding]}

    monkeypatch.setattr(publish, "study_record", fake)
    result = batch.run_batch(load_params(make_project(tmp_path, korning="  publicering: true")), workers=1)
    assert result.exit_code == 1 and result.audit == [f"publicering.json: {finding}"]
    assert {r["status"] for r in result.records} == {"fel"}
    out = result.out_dir
    assert sorted(p.name for p in out.glob("*.html")) == sorted(
        ["index.html", "korning.html", *(f"{r['namn']}.fel.html" for r in result.records)]
    )
    assert all(
        (out / f"{r['namn']}.fel.html").is_file() and not (out / f"{r['namn']}.html").exists() for r in result.records
    )
    log = (out / "korning.html").read_text(encoding="utf-8")
    assert "granskningen fann 1 uppgifter" in log and "Granskning" in log
    front = (out / "index.html").read_text(encoding="utf-8")
    assert "Får inte publiceras ännu" in front and "Rapport (webbsida)" not in front


@pytest.fixture
def publications_computed(monkeypatch) -> list[int]:
    """One entry for each publication computed in this process (``reports.publication.publish``)."""
    from insats.reports import publication as report_publication

    computed: list[int] = []
    real_publish = report_publication.publish

    def counting_publish(*args, **kwargs):
        computed.append(1)
        return real_publish(*args, **kwargs)

    monkeypatch.setattr(report_publication, "publish", counting_publish)
    return computed


def _profile_run(root: Path, name: str, *, areas: int) -> Path:
    """A params file for the real profile notebook over the first ``areas`` areas of a small
    generated Stockholm study (no PDFs)."""
    from insats.runner.plan import discover_areas
    from tests.support import ROOT

    study = generate("stockholm", root / "data" / "s", seed=5, persons=1500)
    chosen = sorted(discover_areas(study))[:areas]
    (root / "params").mkdir()
    path = root / "params" / "run.yaml"
    path.write_text(
        f"""data_dir: {study}
fran: "2012-01"
till: "2013-12"
min_cell: 5
korning:
  namn: {name}
  profil: {ROOT / "notebooks" / "omradesprofil.ipynb"}
  omraden: [{", ".join(chosen)}]
  pdf: false
""",
        encoding="utf-8",
    )
    return path


@pytest.mark.slow
def test_the_run_record_reads_the_publication_its_kernels_stored(tmp_path, publications_computed):
    """The coordinator's publication record reuses the publication the report kernels stored in
    the run's sharing folder instead of computing it again; the record is the one a fresh
    computation gives, and the folder is gone after the run."""
    import glob
    import tempfile

    from insats.reports import publication as report_publication
    from insats.runner.batch import run_batch
    from insats.runner.config import load_params
    from insats.runner.publish import study_record as fresh_record

    params = _profile_run(tmp_path, "delat", areas=1)
    computed = publications_computed
    result = run_batch(load_params(params), workers=1)
    assert result.exit_code == 0, result.records
    assert computed == []  # the coordinator read what the kernel stored
    assert not glob.glob(f"{tempfile.gettempdir()}/insats-delat-{os.getpid()}-*")  # removed after the run
    stored = json.loads((result.out_dir / "publicering.json").read_text(encoding="utf-8"))

    report_publication.forget_publications()
    config = load_params(params)
    got = fresh_record(config.parameters, str(config.studies[0].path))
    assert computed == [1]  # no sharing folder here: computed in this process
    fresh = json.loads(got["publicering"])
    assert stored["celler"] == fresh["celler"] and len(stored["celler"]) > 100


@pytest.mark.slow
def test_on_a_cluster_the_record_is_worked_out_where_the_reports_stored_their_publication(
    tmp_path, publications_computed
):
    """A run on a Dask cluster works out each study's publication record on a worker, from the
    publication the worker's kernels stored, not in the coordinator and not computed again; the
    record equals a fresh computation. (Workers in this process, so that a computation in any of
    them would be counted; the kernels are processes of their own either way.)"""
    distributed = pytest.importorskip("distributed")
    from insats.reports import publication as report_publication
    from insats.runner.batch import run_batch
    from insats.runner.config import load_params

    params = _profile_run(tmp_path, "kluster", areas=2)
    computed = publications_computed
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=False, dashboard_address=None) as c:
        result = run_batch(load_params(params), scheduler=c.scheduler_address)
    assert result.exit_code == 0, result.records
    assert computed == []  # read from what the worker's kernels stored
    run = json.loads(result.korning_json.read_text(encoding="utf-8"))
    assert run["publicering"][""]["granskning"] == [] and run["publicering"][""]["fil"] == "publicering.json"
    stored = json.loads((result.out_dir / "publicering.json").read_text(encoding="utf-8"))
    assert (result.out_dir / "undertryckningar.csv").is_file()

    report_publication.forget_publications()
    config = load_params(params)
    fresh = json.loads(study_record(config.parameters, str(config.studies[0].path))["publicering"])
    assert computed == [1]
    assert stored["celler"] == fresh["celler"] and len(stored["celler"]) > 100


@pytest.mark.slow
def test_a_local_run_over_several_studies_works_out_their_records_in_other_processes(tmp_path, publications_computed):
    """``records_here`` over two studies uses two new processes (nothing computed in this one) and
    gives the records a computation here gives; a study whose data cannot be read gets its error
    and the others their records."""
    from insats.errors import InsatsError
    from insats.runner.publish import records_here

    paths = {
        name: generate("stockholm", tmp_path / name, seed=seed, persons=1500) for name, seed in (("a", 5), ("b", 6))
    }
    (tmp_path / "trasig").mkdir()
    (tmp_path / "trasig" / "omraden.csv").write_text("inte,en,giltig\ntabell\n", encoding="utf-8")
    studies = [StudySpec(name, Path(path)) for name, path in {**paths, "trasig": tmp_path / "trasig"}.items()]
    config = RunConfig(
        path=tmp_path / "p.yaml",
        root=tmp_path,
        name="t",
        notebooks=[],
        profile=None,
        areas=[],
        parameters={"min_cell": 5, "fran": "2012-01", "till": "2013-12"},
        studies=studies,
    )
    computed = publications_computed
    elsewhere = records_here(config, None, processes=2)(studies)
    assert computed == []  # all of it in the two new processes
    assert isinstance(elsewhere["trasig"], InsatsError)
    here = records_here(config, None, processes=1)(studies[:2])
    assert len(computed) == 2
    for name in paths:
        assert elsewhere[name] == here[name]
        assert json.loads(elsewhere[name]["publicering"])["celler"]
