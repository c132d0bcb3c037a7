"""PDF of report pages: printed by Chromium and read back with pypdf — every table header and cell
of the page is in the PDF's text, pages are A4 (landscape for a table too wide for portrait),
headers repeat on every page of a long table, bookmarks follow the headings, header and footer
carry title, study name, synthetic-data marker, date and page numbers, and nothing is fetched from outside."""

from __future__ import annotations

import datetime as dt
import re

import pandas as pd
import pytest

from tests.support.pdf import missing_from_pdf, pdf_outline, pdf_pages, squeeze

A4 = (595, 842)  # points
HOSTILE_TITLE = "Rapport <script>alert(1)</script> & 'titel'"
HOSTILE_STUDY = 'Kommun <b>"Å"</b> & co'


def _page(tmp_path, *, synthetic: bool, name: str = "rapport"):
    import altair as alt
    import nbformat

    from insats.charts.offline import chart_html
    from insats.reports.common import study_subtitle_html, synthetic_banner
    from insats.reports.export import export_report
    from insats.reports.render import markdown_html, table_html

    def html_output(text: str):
        return nbformat.v4.new_output("display_data", data={"text/html": text})

    wide = pd.DataFrame(
        {f"Utanför 99,8 % gränsen, kolumn {i}": [f"{i},{j} %" for j in range(3)] for i in range(28)},
        index=pd.Index(["Hässelby-Vällingby", "Rinkeby-Kista", "Spånga-Tensta"], name="Område"),
    ).reset_index()
    long = pd.DataFrame({"Långa tabellens rad": [f"rad-{k:03d}" for k in range(140)], "Antal": range(140)})
    chart = (
        alt.Chart(pd.DataFrame({"område": ["Bromma", "Farsta"], "andel": [0.3, 0.5]}))
        .mark_bar()
        .encode(x=alt.X("andel:Q", title="Andel i diagrammet"), y="område:N")
    )
    banner = (
        markdown_html(synthetic_banner(type("S", (), {"synthetic": True, "meta": {"seed": 1}})())) if synthetic else ""
    )
    cell = nbformat.v4.new_code_cell(
        "",
        outputs=[
            html_output(markdown_html(f"# {HOSTILE_TITLE}")),  # a title made from data, as profiles do
            html_output(study_subtitle_html(HOSTILE_STUDY)),  # the study's name (reports.common.study_name)
            html_output(banner),
            html_output(markdown_html("## Bred tabell")),
            html_output(table_html(wide)),
            html_output(markdown_html("## Lång tabell")),
            html_output(table_html(long)),
            html_output(markdown_html("## Diagram")),
            html_output(chart_html(chart, include_bundle=True)),
            html_output('<img alt="extern bild" src="https://example.org/spår.png">'),
        ],
    )
    nb = nbformat.v4.new_notebook(cells=[cell])
    executed = tmp_path / f"{name}.ipynb"
    nbformat.write(nb, str(executed))
    return export_report(executed, tmp_path / f"{name}.html")


@pytest.mark.browser
def test_report_page_prints_whole(tmp_path):
    from tests.support.browser import require_chromium

    require_chromium()
    from insats.reports.pdf import PdfPrinter

    page = _page(tmp_path, synthetic=True)
    with PdfPrinter() as printer:
        pdf = printer.print(page, date=dt.date(2026, 3, 9))
        plain = printer.print(_page(tmp_path, synthetic=False, name="verklig"), date=dt.date(2026, 3, 9))
    assert pdf == page.with_suffix(".pdf")
    assert missing_from_pdf(page, pdf) == []
    pages = pdf_pages(pdf)
    sizes = [tuple(round(float(v)) for v in (p.mediabox.width, p.mediabox.height)) for p in pages]
    assert set(sizes) <= {A4, A4[::-1]}, sizes
    assert A4[::-1] in sizes, "the 29-column table gets a landscape page"
    assert A4 in sizes
    texts = [p.extract_text() for p in pages]
    n = len(texts)
    for k, text in enumerate(texts, start=1):
        assert f"Sida {k} av {n}" in text
        assert "Skapad 2026-03-09" in text
        assert "SYNTETISKA EXEMPELDATA" in text
        # the title and the study's name printed as text, not markup
        assert squeeze(f"{HOSTILE_TITLE}, {HOSTILE_STUDY}") in squeeze(text)
    # the long table's header is repeated on every page the table reaches
    spans = [t for t in texts if re.search(r"rad-\d{3}", t)]
    assert len(spans) >= 2
    assert all("Långa tabellens rad" in t for t in spans)
    assert "Andel i diagrammet" in "".join(texts)  # the chart is drawn (its axis title is text)
    assert {"Bred tabell", "Lång tabell", "Diagram"} <= set(pdf_outline(pdf))
    assert set(printer.blocked) == {"https://example.org/sp%C3%A5r.png"}  # aborted, never fetched
    assert not any("SYNTETISKA EXEMPELDATA" in p.extract_text() for p in pdf_pages(plain))


@pytest.mark.browser
def test_one_tab_prints_each_page_as_a_fresh_one_and_a_failed_tab_is_replaced(tmp_path):
    """The printer reuses one browser tab: a page printed after another gives the same PDF as when
    printed first (nothing of the last page carries over: print media, fitted tables, opened
    chart tables), and after a tab breaks the next page still prints."""
    from tests.support.browser import require_chromium

    require_chromium()
    from insats.reports.pdf import PdfPrinter

    first = _page(tmp_path, synthetic=True)
    other = _page(tmp_path, synthetic=False, name="annan")
    day = dt.date(2026, 3, 9)

    def content(pdf):
        pages = pdf_pages(pdf)
        return [(round(float(p.mediabox.width)), p.extract_text()) for p in pages], pdf_outline(pdf)

    with PdfPrinter() as printer:
        alone = content(printer.print(first, tmp_path / "forst.pdf", date=day))
        printer.print(other, tmp_path / "annan.pdf", date=day)
        after = content(printer.print(first, tmp_path / "efter.pdf", date=day))
        assert printer._tab is not None  # one tab served all three pages
        printer._tab[1].close()  # the tab breaks (as when its renderer crashes)
        with pytest.raises(Exception, match="closed"):
            printer.print(first, tmp_path / "trasig.pdf", date=day)
        assert not (tmp_path / "trasig.pdf").exists()  # nothing half-written
        again = content(printer.print(first, tmp_path / "ny.pdf", date=day))
    assert alone == after == again
    assert 842 in {w for w, _ in alone[0]}, "the landscape page is there each time"


def test_pdf_command_messages(tmp_path, monkeypatch, capsys):
    from insats.cli import main
    from insats.errors import EXIT_ENVIRONMENT, EXIT_USAGE

    assert main(["pdf", str(tmp_path / "saknas.html")]) == EXIT_USAGE
    assert "filen finns inte" in capsys.readouterr().err
    assert main(["pdf", str(tmp_path)]) == EXIT_USAGE
    assert "inga rapportsidor" in capsys.readouterr().err
    (tmp_path / "a.html").write_text("<h1>a</h1>", encoding="utf-8")
    (tmp_path / "b.html").write_text("<h1>b</h1>", encoding="utf-8")
    assert main(["pdf", str(tmp_path), "--out", str(tmp_path / "x.pdf")]) == EXIT_USAGE
    monkeypatch.setenv("INSATS_CHROMIUM", str(tmp_path / "ingen-chromium"))
    assert main(["pdf", str(tmp_path / "a.html")]) == EXIT_ENVIRONMENT
    err = capsys.readouterr().err
    assert "Chromium saknas" in err and "apt-get install chromium" in err
    assert not list(tmp_path.glob("*.pdf"))
