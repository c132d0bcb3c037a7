"""The kartläggning notebook end to end: papermill on a generated study and on a survey-only
study, the offline HTML report with a table of contents, drawn in headless Chromium with the
network cut off."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from tests.support import ROOT, output_text, report_defects
from tests.support.axe import assert_accessible
from tests.support.browser import DRAWN_JS, offline_page, wait_for_charts
from tests.support.pdf import missing_from_pdf, pdf_outline, pdf_pages, squeeze

NOTEBOOK = ROOT / "notebooks" / "kartlaggning.ipynb"
PARAMS = ROOT / "params" / "stockholm_2013.yaml"
SECTIONS = [
    "Nämndsammanfattning",
    "Resultat i korthet",
    "Organisation",
    "Utbud",
    "Samverkan och samordning",
    "En väg in",
    "Användning av medel",
    "Utfall",
    "Likställighet",
    "Utveckling över tid",
    "Vad ett gemensamt uppföljningssystem behöver",
    "Metod och förbehåll",
]
"""The report's ``##`` headings in order; the first is the summary block's own (an output, not markdown)."""

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def studies(tmp_path_factory):
    from insats.intake.synth import generate

    root = tmp_path_factory.mktemp("kartlaggning")
    full = root / "stockholm"
    generate("stockholm", full, seed=2013, persons=5000)
    survey = root / "enkat"
    survey.mkdir()
    for name in ("omraden.csv", "insatser.csv", "medel.csv", "studie.json"):
        shutil.copy(full / name, survey / name)
    return {"full": full, "survey": survey, "root": root}


def _params() -> dict:
    import yaml

    return yaml.safe_load(PARAMS.read_text(encoding="utf-8"))


def _execute(data_dir: Path, out: Path, **extra):
    import nbformat
    import papermill as pm

    params = {**_params(), "data_dir": str(data_dir), **extra}  # korning rides along, as with -f
    pm.execute_notebook(
        str(NOTEBOOK), str(out), parameters=params, cwd=str(NOTEBOOK.parent), kernel_name="python3", progress_bar=False
    )
    return nbformat.read(str(out), as_version=4)


@pytest.fixture(scope="module")
def executed(studies):
    """Each study's notebook executed once, with its workbook (``excel_fil``) beside it: ``<kind>.xlsx``."""
    root = studies["root"]
    return {
        "full": (
            _execute(studies["full"], root / "full.ipynb", excel_fil=str(root / "full.xlsx")),
            root / "full.ipynb",
        ),
        "survey": (
            _execute(
                studies["survey"], root / "survey.ipynb", fokus_omrade="bromma", excel_fil=str(root / "survey.xlsx")
            ),
            root / "survey.ipynb",
        ),
    }


def _study_name(data_dir: Path) -> str:
    """The municipality the study's omraden.csv names: what the report's title adds."""
    import pandas as pd

    (name,) = pd.read_csv(data_dir / "omraden.csv", dtype=str)["kommun"].dropna().unique()
    return name


def _outputs(nb):
    return [o for c in nb.cells if c.cell_type == "code" for o in c.outputs]


def _markdown(nb) -> str:
    """The text of the report's outputs as a reader sees it."""
    return output_text(nb)


def _chart_count(nb) -> int:
    return sum(
        'class="insats-chart"' in o["data"]["text/html"] for o in _outputs(nb) if "text/html" in o.get("data", {})
    )


def test_params_file():
    p = _params()
    assert {k: p[k] for k in ("data_dir", "fran", "till", "min_cell", "fokus_omrade")} == {
        "data_dir": "data/exempel/stockholm",
        "fran": "2012-01",
        "till": "2013-12",
        "min_cell": 5,
        "fokus_omrade": None,
    }
    assert p["korning"] == {
        "namn": "stockholm_2013",
        "notebooks": ["kartlaggning"],
        "profil": "omradesprofil",
        "omraden": "alla",
        "timeout": 900,
    }


def test_notebook_is_committed_clean():
    import nbformat

    nb = nbformat.read(str(NOTEBOOK), as_version=4)
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert nb.cells[0].cell_type == "markdown" and nb.cells[0].source.startswith("# ")
    assert code[0].metadata.get("tags") == ["parameters"]
    assert sum("parameters" in c.metadata.get("tags", []) for c in nb.cells) == 1
    assert all(not c.outputs and c.execution_count is None for c in code)
    headings = [
        line[3:].strip()
        for c in nb.cells
        if c.cell_type == "markdown"
        for line in c.source.splitlines()
        if line.startswith("## ")
    ]
    assert headings == SECTIONS[1:]


@pytest.mark.parametrize("kind", ["full", "survey"])
def test_notebook_runs_without_errors_or_warnings(executed, kind):
    nb, _ = executed[kind]
    outs = _outputs(nb)
    assert not [o for o in outs if o.output_type == "error"]
    assert not [o.text for o in outs if o.output_type == "stream" and o.name == "stderr"]
    md = _markdown(nb)
    assert "Syntetiska exempeldata" in md
    assert "Kartläggningen omfattar 14 områden och perioden 2012-01 till 2013-12." in md


def test_full_study_has_outcomes(executed):
    nb, _ = executed["full"]
    md = _markdown(nb)
    assert "Utfallen kan inte beräknas" not in md
    assert "I hela studien avslutades" in md
    # the generated Stockholm has assessments: en väg in runs (hand-overs, second assessments)
    assert "av bedömningarna lämnades över till en annan enhet" in md and "var en ny bedömning av en person" in md
    assert _chart_count(nb) == 12  # 8 and the four main measures over the years
    assert "i hela studien:" in md and "år 2012 och" in md  # Utveckling över tid, per year


def test_survey_only_says_what_is_missing(executed):
    nb, _ = executed["survey"]
    md = _markdown(nb)
    assert "Utfallen kan inte beräknas: studien saknar tabellerna personer" in md
    assert "Det justerade utfallet kan inte beräknas:" in md
    assert "Fokusområdet Bromma har" in md
    assert "Deltaganden ( deltaganden )" in md
    assert "Utvecklingen över tid kan inte beräknas" in md
    assert "En väg in kan inte beräknas" in md  # no bedomningar in a survey
    assert _chart_count(nb) == 4  # utbud matrix and bars, spending, feriejobb


@pytest.mark.browser
@pytest.mark.parametrize("kind", ["full", "survey"])
def test_html_report_offline(executed, studies, kind):
    from insats.reports.export import export_report, external_references

    nb, path = executed[kind]
    n_charts = _chart_count(nb)
    html_path = export_report(path, studies["root"] / f"{kind}.html")
    body = html_path.read_text(encoding="utf-8")
    # the title names the study: the notebook's h1 and the municipality of omraden.csv
    title = f"{nb.cells[0].source.splitlines()[0][2:]}, {_study_name(studies[kind])}"
    assert title == "Kartläggning av arbetsmarknadsinsatser per område, Stockholm"
    assert f"<title>{title}</title>" in body
    assert "K.show(" not in body and "compute_measures" not in body  # no code
    assert external_references(body) == []
    toc = body.split('<nav class="insats-toc"', 1)[1].split("</nav>", 1)[0]
    assert re.findall(r'<a href="#[^"]+">([^<]+)</a>', toc) == SECTIONS
    with offline_page() as page:
        page.goto(html_path.as_uri())
        assert wait_for_charts(page, n_charts, timeout=90_000) == n_charts
        page.wait_for_timeout(300)
        assert page.evaluate(DRAWN_JS) == n_charts
        assert page.evaluate("document.querySelectorAll('.vega-embed').length") == n_charts
        # every link of the table of contents leads to its heading
        assert page.evaluate("""() => Array.from(document.querySelectorAll('nav.insats-toc a')).every(
            a => document.getElementById(a.hash.slice(1)) !== null)""")
        assert page.blocked == [], f"requests left the machine: {page.blocked}"
        assert page.console_errors == []
        # WCAG 2.1 AA: nothing serious; every chart has its reading and table
        assert_accessible(page, f"i kartläggningen ({kind})")
        assert page.evaluate("document.querySelectorAll('figcaption.insats-lasning').length") == n_charts
        assert page.evaluate("document.querySelectorAll('[role=graphics-document][aria-label]').length") == n_charts
    # the PDF for the nämnd's papers holds every table header and cell of the page
    from insats.reports.pdf import html_to_pdf

    pdf = html_to_pdf(html_path)
    assert missing_from_pdf(html_path, pdf) == []
    assert set(SECTIONS) <= set(pdf_outline(pdf))
    pages = [squeeze(p.extract_text() or "") for p in pdf_pages(pdf)]
    assert all(squeeze(title) in p for p in pages), "every page's header names the report and the study"
    # the Nämndsammanfattning is one printed page of its own: nothing before or after it on that page
    on = [i for i, t in enumerate(pages) if squeeze("Hur säkert:") in t]
    assert len(on) == 1
    page = pages[on[0]]
    assert squeeze("Nämndsammanfattning") in page and squeeze("Metod och förbehåll") in page  # its closing line
    assert "Innehåll" not in page and squeeze("Resultat i korthet") not in page


@pytest.mark.parametrize("kind", ["full", "survey"])
def test_workbook_holds_the_report_tables(executed, studies, kind):
    """``excel_fil``: the workbook has the report's tables as the page shows them, in its order."""
    from openpyxl import load_workbook

    from tests.support.workbook import assert_report_workbook, report_tables

    nb, _ = executed[kind]
    wb = load_workbook(studies["root"] / f"{kind}.xlsx")
    shown = report_tables(nb)
    assert len(shown) >= (20 if kind == "full" else 5)
    # the frame, and every header and cell as the page shows it: text as text, numbers as shown
    assert_report_workbook(wb, shown)
    # the sections in report order
    order = list(dict.fromkeys(section for section, _ in shown))
    assert order[:2] == ["Organisation", "Utbud"] and "Uppföljning" in order
    assert order[-1] == ("Data och metod" if kind == "full" else "Uppföljning")  # a survey has no model tables
    if kind == "full":
        assert {"En väg in", "Utfall, justerat", "Likställighet", "Utveckling"} <= set(order)
    about = [row[0] for row in wb["Om filen"].iter_rows(values_only=True)]
    assert about[0].startswith("SYNTETISKA EXEMPELDATA") and about[1] == "Kartläggning av arbetsmarknadsinsatser"


@pytest.mark.parametrize("kind", ["full", "survey"])
def test_no_python_values_or_row_numbers(executed, kind):
    nb, _ = executed[kind]
    assert report_defects(nb) == []


def test_summary_first_and_method_last(executed):
    nb, _ = executed["full"]
    cells = nb.cells

    def first(pred) -> int:
        return next(i for i, c in enumerate(cells) if pred(c))

    summary_at = first(lambda c: c.cell_type == "code" and "Nämndsammanfattning" in output_text(nb, [c]))
    organisation_at = first(lambda c: c.cell_type == "markdown" and c.source.startswith("## Organisation"))
    method_at = first(lambda c: c.cell_type == "markdown" and c.source.startswith("## Metod och förbehåll"))
    assert summary_at < organisation_at < method_at
    summary = output_text(nb, [cells[summary_at]])
    assert "Hur säkert:" in summary and "Vad det betyder:" in summary
    main = output_text(nb, cells[:method_at]) + " ".join(
        c.source for c in cells[:method_at] if c.cell_type == "markdown"
    )
    for word in ("Shannon", "variationskoefficient", "c-statistik", "Hosmer", "rangkorrelation", "p = "):
        assert word not in main
    appendix = output_text(nb, cells[method_at:])
    assert "c-statistik" in appendix and "Rangkorrelation" in appendix  # the method is in the appendix
