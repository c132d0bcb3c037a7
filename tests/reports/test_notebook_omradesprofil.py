"""notebooks/omradesprofil.ipynb run by papermill, as the batch runner runs it (one area at a time).

A generated Stockholm study (5 000 persons) for its largest and smallest district, and a
survey-only study (omraden, insatser, medel) whose outcome parts must say what is missing.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
from openpyxl import load_workbook

from tests.support import ROOT, output_headings, output_text, report_defects

NOTEBOOK = ROOT / "notebooks" / "omradesprofil.ipynb"

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def stockholm(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("stockholm") / "studie"
    subprocess.run(
        [
            str(Path(sys.executable).parent / "insats"),
            "generate",
            "stockholm",
            "--out",
            str(out),
            "--seed",
            "2013",
            "--persons",
            "5000",
        ],
        check=True,
        capture_output=True,
    )
    return out


@pytest.fixture(scope="module")
def survey_only(stockholm, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("enkat") / "studie"
    out.mkdir()
    for name in ("omraden.csv", "insatser.csv", "medel.csv", "studie.json"):
        shutil.copy(stockholm / name, out / name)
    return out


def run(data_dir: Path, omrade: str | None, out: Path, **extra) -> dict:
    import papermill as pm

    pm.execute_notebook(
        str(NOTEBOOK),
        str(out),
        parameters={"data_dir": str(data_dir), "omrade": omrade, **extra},
        cwd=str(NOTEBOOK.parent),
        kernel_name="python3",
        progress_bar=False,
    )
    return json.loads(out.read_text(encoding="utf-8"))


def texts(nb: dict) -> str:
    """Every output's text as a reader sees it (the chart bundle left out), errors as "Traceback"."""
    errors = [
        "Traceback " + o.get("ename", "")
        for c in nb["cells"]
        for o in c.get("outputs", [])
        if o.get("output_type") == "error"
    ]
    return "\n".join([output_text(nb), *errors])


def names(data_dir: Path) -> dict[str, str]:
    om = pd.read_csv(data_dir / "omraden.csv", dtype=str)
    return dict(zip(om["omrade_kod"], om["omrade"]))


def municipality(data_dir: Path) -> str:
    """The one municipality omraden.csv names: what the page title adds after the district."""
    (name,) = pd.read_csv(data_dir / "omraden.csv", dtype=str)["kommun"].dropna().unique()
    return name


def h1s(nb: dict) -> list[str]:
    """The text of every level-1 heading in the notebook's HTML outputs."""
    import html
    import re

    pages = ["".join(o.get("data", {}).get("text/html", [])) for c in nb["cells"] for o in c.get("outputs", [])]
    return [
        html.unescape(re.sub(r"<[^>]+>", "", m)) for p in pages for m in re.findall(r"<h1\b[^>]*>(.*?)</h1>", p, re.S)
    ]


def test_parameters_cell():
    nb = json.loads(NOTEBOOK.read_text(encoding="utf-8"))
    tagged = [c for c in nb["cells"] if "parameters" in c["metadata"].get("tags", [])]
    assert len(tagged) == 1
    src = "".join(tagged[0]["source"])
    for line in (
        'data_dir = "data/exempel/stockholm"',
        "omrade = None",
        "fran = None",
        "till = None",
        "min_cell = 5",
        "skyddsniva = None",
    ):
        assert line in src
    assert all(c.get("outputs", []) == [] for c in nb["cells"] if c["cell_type"] == "code")  # committed stripped
    assert "docs/antaganden.md" in json.dumps(nb, ensure_ascii=False)


def test_largest_and_smallest_district(stockholm, tmp_path):
    persons = pd.read_csv(stockholm / "personer.csv", dtype=str)["omrade_kod"].value_counts()
    area_names = names(stockholm)
    for code in (persons.index[0], persons.index[-1]):
        workbook = tmp_path / f"{code}.xlsx"
        nb = run(stockholm, code, tmp_path / f"{code}.ipynb", excel_fil=str(workbook))
        text = texts(nb)
        assert "Traceback" not in text
        assert nb["metadata"]["papermill"]["exception"] in (None, False)
        name = area_names[code]
        assert h1s(nb) == [f"Områdesprofil: {name}"]  # the one title names the district
        assert f"Studie: {municipality(stockholm)}" in text
        assert f"{name} kan använda" in text
        assert "Syntetiska exempeldata" in text and "docs/antaganden.md" in text
        assert "Övriga områden" in text and "trattdiagram" in text
        assert "Utfallet kan inte beräknas" not in text
        assert "Nämndsammanfattning" in output_headings(nb) and "Hur säkert:" in text
        assert report_defects(nb) == []
        # the workbook beside it: the tables the page shows (reports.excel; checked in test_excel.py)
        wb = load_workbook(workbook)
        assert wb.sheetnames == [
            "Om filen",
            "Teckenförklaring",
            "Nyckeltal",
            "Över tid",
            "Insatser",
            "Medel",
            "Undertryckningar",  # the publication's suppression log: which counts are hidden and why
        ]
        assert wb["Nyckeltal"]["B1"].value == name and wb["Om filen"]["A2"].value == f"Områdesprofil: {name}"
        # charts are offline: the bundle once, each chart a small HTML block
        assert (
            sum(
                "insatsVega" in "".join(o.get("data", {}).get("text/html", []))
                for c in nb["cells"]
                for o in c.get("outputs", [])
            )
            >= 5
        )


@pytest.mark.browser
def test_html_profile_is_accessible(stockholm, tmp_path):
    """The profile page as a reader opens it: axe-core finds nothing serious, every chart has its reading
    and a table one keystroke away, the headings start at one h1; its PDF holds every table cell."""
    from insats.reports.export import export_report
    from tests.support.axe import assert_accessible
    from tests.support.browser import offline_page, wait_for_charts

    run(stockholm, None, tmp_path / "profil.ipynb")
    html = export_report(tmp_path / "profil.ipynb", tmp_path / "profil.html")
    # the page has the tree nbconvert's own exporter makes (the exporter's last step is its own)
    import nbformat

    from tests.reports.test_export import _nbconvert_and_ours, assert_same_tree

    assert_same_tree(*_nbconvert_and_ours(nbformat.read(str(tmp_path / "profil.ipynb"), as_version=4)))
    body = html.read_text(encoding="utf-8")
    n_charts = body.count('class="insats-chart"')
    assert n_charts >= 3
    # the page title (the PDF's header) names the district and the study: the first area of omraden.csv
    first = pd.read_csv(stockholm / "omraden.csv", dtype=str)["omrade"].iloc[0]
    title = f"Områdesprofil: {first}, {municipality(stockholm)}"
    assert f"<title>{title}</title>" in body
    with offline_page() as page:
        page.goto(html.as_uri())
        assert wait_for_charts(page, n_charts, timeout=90_000) == n_charts
        assert page.evaluate("document.documentElement.lang") == "sv"
        assert page.evaluate("document.querySelectorAll('h1').length") == 1
        assert_accessible(page, "i områdesprofilen")
        assert page.evaluate("document.querySelectorAll('figcaption.insats-lasning').length") == n_charts
        # the first chart's table opens with the keyboard
        summary = page.locator("details.insats-diagramtabell > summary").first
        summary.focus()
        page.keyboard.press("Enter")
        assert page.evaluate("document.querySelector('details.insats-diagramtabell').open")
        assert page.blocked == []
    # the PDF for the nämnd's papers: every table header and cell, every page headed by the title
    from insats.reports.pdf import html_to_pdf
    from tests.support.pdf import missing_from_pdf, pdf_outline, pdf_pages, squeeze

    pdf = html_to_pdf(html)
    assert missing_from_pdf(html, pdf) == []
    assert all(squeeze(title) in squeeze(p.extract_text() or "") for p in pdf_pages(pdf))
    assert {"Nämndsammanfattning", "Nyckeltal", "Metod och förbehåll"} <= set(pdf_outline(pdf))


def test_default_area_is_the_first(stockholm, tmp_path):
    nb = run(stockholm, None, tmp_path / "forsta.ipynb")
    first = pd.read_csv(stockholm / "omraden.csv", dtype=str)["omrade"].iloc[0]
    assert h1s(nb) == [f"Områdesprofil: {first}"]


def test_survey_only_study(survey_only, tmp_path):
    nb = run(survey_only, "sodermalm", tmp_path / "enkat.ipynb")
    text = texts(nb)
    assert "Traceback" not in text
    assert h1s(nb) == ["Områdesprofil: Södermalm"] and "Södermalm kan använda" in text and "Södermalm redovisar" in text
    assert "Utfallet kan inte beräknas: studien saknar tabellerna deltaganden" in text
    assert "Utfall kan inte jämföras" in text
    assert "Kan inte beräknas – studien saknar tabellerna personer" in text
