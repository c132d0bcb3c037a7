"""notebooks/utvardering.ipynb runs with papermill on a generated Sundbyberg study, on a copy
without ``bedomningar`` and on a copy without LOV providers; the exported HTML draws every chart in
headless Chromium with the network cut off."""

from __future__ import annotations

import shutil
from pathlib import Path

import nbformat
import pandas as pd
import pytest

from tests.support import ROOT, output_text, report_defects
from tests.support.axe import assert_accessible
from tests.support.browser import offline_page, wait_for_charts
from tests.support.pdf import missing_from_pdf, pdf_pages, squeeze

NOTEBOOK = ROOT / "notebooks" / "utvardering.ipynb"

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def studies(tmp_path_factory) -> dict[str, Path]:
    from insats.intake.synth import generate

    base = tmp_path_factory.mktemp("utv")
    full = generate("sundbyberg", base / "full", seed=2016)
    no_bed = base / "utan_bedomningar"
    shutil.copytree(full, no_bed)
    (no_bed / "bedomningar.csv").unlink()
    no_lov = base / "utan_lov"
    shutil.copytree(full, no_lov)
    ins = pd.read_csv(no_lov / "insatser.csv", dtype=str, keep_default_na=False)
    drop = (ins["regi"] == "lov") | (ins["lov"] == "Ja")
    assert drop.any()
    ins[~drop].to_csv(no_lov / "insatser.csv", index=False)
    dl = pd.read_csv(no_lov / "deltaganden.csv", dtype=str, keep_default_na=False)
    dl[~dl["insats_id"].isin(set(ins.loc[drop, "insats_id"]))].to_csv(no_lov / "deltaganden.csv", index=False)
    return {"full": full, "utan_bedomningar": no_bed, "utan_lov": no_lov}


def _run(data_dir: Path, out: Path, **extra) -> nbformat.NotebookNode:
    import papermill as pm

    pm.execute_notebook(
        str(NOTEBOOK),
        str(out),
        parameters={"data_dir": str(data_dir), **extra},
        cwd=str(NOTEBOOK.parent),
        kernel_name="python3",
        progress_bar=False,
    )
    return nbformat.read(str(out), as_version=4)


def _section_text(nb: nbformat.NotebookNode, heading: str) -> str:
    """All markdown outputs of the code cells after the markdown cell starting with ``heading``."""
    texts, inside = [], False
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            inside = cell.source.startswith(heading)
            continue
        if inside:
            texts.append(output_text(nb, [cell]))
    return "\n".join(texts)


@pytest.fixture(scope="module")
def executed(studies, tmp_path_factory) -> dict[str, Path]:
    """Each study's notebook executed once, with its workbook (``excel_fil``) beside it (``.xlsx``)."""
    out = tmp_path_factory.mktemp("utv_nb")
    paths = {}
    for name, data in studies.items():
        paths[name] = out / f"utvardering_{name}.ipynb"
        _run(data, paths[name], excel_fil=str(paths[name].with_suffix(".xlsx")))
    return paths


def _study_name(data_dir: Path) -> str:
    """The municipality the study's omraden.csv names: what the report's title adds."""
    (name,) = pd.read_csv(data_dir / "omraden.csv", dtype=str)["kommun"].dropna().unique()
    return name


def test_committed_without_outputs():
    nb = nbformat.read(str(NOTEBOOK), as_version=4)
    params = [c for c in nb.cells if "parameters" in c.metadata.get("tags", [])]
    assert len(params) == 1
    assert 'data_dir = "data/exempel/sundbyberg"' in params[0].source
    assert all(not c.get("outputs") for c in nb.cells if c.cell_type == "code")


def test_full_study_runs(executed):
    nb = nbformat.read(str(executed["full"]), as_version=4)
    summary = _section_text(nb, "## Slutsatser i korthet")
    assert "Syntetiska exempeldata" in summary
    assert "Erbjöds" not in summary and "erbjöds en insats" in summary
    assert "kan inte beräknas" not in _section_text(nb, "## 5. En väg in")
    lov = _section_text(nb, "## 3. Valfrihet och LOV")
    assert "LOV-utförare saknas" not in lov and "Frågor kommunen behöver besvara" in lov
    assert "Närvaron steg med" in _section_text(nb, "## Rekommendationer")


def test_without_bedomningar_says_what_is_missing(executed):
    nb = nbformat.read(str(executed["utan_bedomningar"]), as_version=4)
    text = _section_text(nb, "## 5. En väg in")
    assert "En väg in kan inte beräknas" in text and "bedomningar" in text
    assert "Slutsats" in _section_text(nb, "## 4. Dagens insatser")
    assert "Rekommendationer" not in text


def test_without_lov_says_what_is_missing(executed):
    nb = nbformat.read(str(executed["utan_lov"]), as_version=4)
    text = _section_text(nb, "## 3. Valfrihet och LOV")
    assert "LOV-utförare saknas" in text
    assert "Utförare och volym per kategori" in text or "Slutsats" in text
    assert _section_text(nb, "## Rekommendationer").strip()


@pytest.mark.browser
def test_html_report_draws_every_chart_offline(executed, studies, tmp_path):
    from insats.reports.export import export_report

    html = tmp_path / "utvardering.html"
    export_report(executed["full"], html)
    text = html.read_text(encoding="utf-8")
    # the title names the study: the notebook's h1 and the municipality of omraden.csv
    h1 = nbformat.read(str(NOTEBOOK), as_version=4).cells[0].source.splitlines()[0][2:]
    title = f"{h1}, {_study_name(studies['full'])}"
    assert title == "Utvärdering av arbetsmarknadsinsatserna – fem områden, Sundbyberg"
    assert f"<title>{title}</title>" in text
    n_charts = text.count('class="insats-chart"')
    assert n_charts >= 7
    with offline_page() as page:
        page.goto(html.as_uri())
        drawn = wait_for_charts(page, n_charts, timeout=60_000)
        assert drawn == n_charts
        assert page.blocked == []
        assert not [e for e in page.console_errors if "Diagrammet kunde inte ritas" in e]
        body = page.inner_text("body")
        assert "Rekommendationer" in body and "Närvarokrav" in body
        # WCAG 2.1 AA: nothing serious; every chart has its reading
        assert_accessible(page, "i utvärderingen")
        assert page.evaluate("document.querySelectorAll('figcaption.insats-lasning').length") == n_charts
    # the PDF holds every table column, the LOV verdict and outcome columns included
    from insats.reports.pdf import html_to_pdf

    pdf = html_to_pdf(html)
    assert missing_from_pdf(html, pdf) == []
    assert all(squeeze(title) in squeeze(p.extract_text() or "") for p in pdf_pages(pdf)), "every page's header"


@pytest.mark.parametrize("name", ["full", "utan_lov"])
def test_workbook_holds_the_report_tables(executed, name):
    """``excel_fil``: the workbook has the report's tables as the page shows them, in its order."""
    from openpyxl import load_workbook

    from tests.support.workbook import assert_report_workbook, report_tables

    nb = nbformat.read(str(executed[name]), as_version=4)
    wb = load_workbook(executed[name].with_suffix(".xlsx"))
    shown = report_tables(nb)
    assert len(shown) >= 5
    # the frame, and every header and cell as the page shows it: text as text, numbers as shown
    assert_report_workbook(wb, shown)
    # the sections in report order
    assert list(dict.fromkeys(section for section, _ in shown)) == [
        "Erbjudande",
        "Närvaro",
        "LOV",
        "Insatser",
        "En väg in",
    ]
    about = [row[0] for row in wb["Om filen"].iter_rows(values_only=True)]
    assert about[0].startswith("SYNTETISKA EXEMPELDATA") and about[1] == "Utvärdering av arbetsmarknadsinsatser"


def test_no_python_values_or_row_numbers(executed):
    for path in executed.values():
        assert report_defects(nbformat.read(str(path), as_version=4)) == []


def test_summary_first_and_method_last(executed):
    nb = nbformat.read(str(executed["full"]), as_version=4)
    cells = nb.cells

    def first(pred) -> int:
        return next(i for i, c in enumerate(cells) if pred(c))

    summary_at = first(lambda c: c.cell_type == "code" and "Nämndsammanfattning" in output_text(nb, [c]))
    offer_at = first(lambda c: c.cell_type == "markdown" and c.source.startswith("## 1. Alla erbjuds"))
    method_at = first(lambda c: c.cell_type == "markdown" and c.source.startswith("## Metod och förbehåll"))
    assert summary_at < offer_at < method_at
    summary = output_text(nb, [cells[summary_at]])
    assert "Hur säkert:" in summary and "Vad det betyder:" in summary
    main = output_text(nb, cells[:method_at]) + " ".join(
        c.source for c in cells[:method_at] if c.cell_type == "markdown"
    )
    for word in ("HAC", "Newey", "p-värde", "REML", "Kaplan", "DEFAULT_THRESHOLDS", "(mål", "parametern"):
        assert word not in main
    recs = _section_text(nb, "## Rekommendationer")
    assert "programmets standardgräns" in recs or "gräns vald i parameterfilen" in recs
    appendix = output_text(nb, cells[method_at:])
    assert "Nyckel i parameterfilen" in appendix and "p-värde" in appendix
