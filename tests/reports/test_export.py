"""The one offline exporter: report pages without code, CDN scripts or English chrome."""

from __future__ import annotations

from insats.reports.export import add_table_of_contents, external_references, notebook_html


def test_offline_exporter_drops_cdn_scripts():
    import nbformat
    from nbconvert import HTMLExporter

    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell("# Rubrik")])
    stock, _ = HTMLExporter(template_name="lab").from_notebook_node(nb)
    assert external_references(stock), "expected the stock lab template to reference CDNs"
    offline = notebook_html(nb)
    assert external_references(offline) == []
    assert "Rubrik" in offline


def test_external_references_finds_every_kind_of_fetch():
    page = (
        '<script src="https://cdn.x/require.js"></script><link rel=stylesheet href="//fonts.x/a.css">'
        '<img src="http://img.x/a.png"><script>var s = "<script src=https://nope>";</script>'
        '<script src="bundle.js"></script>'
    )
    assert external_references(page)[:3] == ["https://cdn.x/require.js", "//fonts.x/a.css", "http://img.x/a.png"]
    assert "bundle.js" not in " ".join(external_references(page))


def test_table_of_contents_links_every_section():
    page = '<html><body><main><h1>Titel</h1><div class="jp-Cell x"></div><h2>Första</h2><h2>Andra</h2></main></body></html>'
    out = add_table_of_contents(page)
    assert '<a href="#Forsta">Första</a>' in out and '<a href="#Andra">Andra</a>' in out
    assert '<h2 id="Forsta">Första</h2>' in out


def test_table_of_contents_skips_whole_scripts_and_only_them():
    script = (
        '<SCRIPT type="text/javascript">if (a<b && c </d) { s = "<h2>Inte</h2>"; } // </scripts '
        "<h2>Inte heller</h2></script\n>"
    )
    page = (
        f'<html><body><main><h1>Titel</h1>{script}<div class="jp-Cell x"></div><h2>Första</h2>'
        "<script>var t = '<h2>Nej</h2>';</script><h2>Andra</h2><script>ej avslutad <h2>Tredje</h2>"
        "</main></body></html>"
    )
    out = add_table_of_contents(page)
    toc = out[out.index('<nav class="insats-toc"') : out.index("</nav>")]
    # a heading inside a script is not one; an unended script hides nothing
    assert toc.count("<li>") == 3
    assert '<a href="#Forsta">Första</a>' in toc and '<a href="#Andra">Andra</a>' in toc and "Tredje</a>" in toc
    assert "Inte" not in toc and "Nej" not in toc
    assert script in out and "var t = '<h2>Nej</h2>'" in out  # the scripts themselves unchanged


def test_page_title_is_the_h1_and_the_study_name():
    from insats.reports.common import study_subtitle_html

    def page(h1: str, *extra: str) -> str:
        return (
            f"<html><head><title>notebook</title></head><body><main><h1>{h1}</h1>{''.join(extra)}"
            '<div class="jp-Cell x"></div><h2>Del</h2></main></body></html>'
        )

    sub = study_subtitle_html('Kommun "A" & <B>')
    out = add_table_of_contents(page("Rapport", sub))
    assert "<title>Rapport, Kommun &quot;A&quot; &amp; &lt;B&gt;</title>" in out
    # the first name counts; one inside a script (the chart library) is not a name
    script = "<script>var s = '<p data-insats-studie=\"Fel\">';</script>"
    out = add_table_of_contents(page("Rapport", script, study_subtitle_html("Solna"), study_subtitle_html("Täby")))
    assert "<title>Rapport, Solna</title>" in out
    # a title that already names the study does not name it twice; a page without a name keeps the h1
    assert "<title>Områdesprofil: Solna</title>" in add_table_of_contents(page("Områdesprofil: Solna"))
    assert "<title>Profil för solna</title>" in add_table_of_contents(
        page("Profil för solna", study_subtitle_html("Solna"))
    )
    # backslashes in a title are text, not a replacement pattern
    out = add_table_of_contents(page(r"A\1 \g&lt;0&gt;", study_subtitle_html("B")))
    assert r"<title>A\1 \g&lt;0&gt;, B</title>" in out
    # nbconvert writes the attribute in single quotes when the name holds a double quote
    requoted = page("Rapport", """<p class="insats-studie" data-insats-studie='Kommun "A" &amp; B'>x</p>""")
    assert "<title>Rapport, Kommun &quot;A&quot; &amp; B</title>" in add_table_of_contents(requoted)
    # a page without h2 sections still gets its title
    bare = '<html><head><title>nb</title></head><body><h1>Enda</h1><p data-insats-studie="S">x</p></body></html>'
    assert "<title>Enda, S</title>" in add_table_of_contents(bare)


def _nbconvert_and_ours(nb) -> tuple[str, str]:
    """The page nbconvert's own ``HTMLExporter`` makes with the report exporter's settings, and ours."""
    from nbconvert import HTMLExporter

    from insats.reports.export import report_exporter

    exporter = report_exporter()
    theirs, _ = HTMLExporter.from_notebook_node(exporter, nb)
    ours, _ = exporter.from_notebook_node(nb)
    return theirs, ours


def assert_same_tree(theirs: str, ours: str) -> None:
    from bs4 import BeautifulSoup

    a, b = BeautifulSoup(theirs, "html.parser"), BeautifulSoup(ours, "html.parser")
    assert a == b, "the page differs from nbconvert's"
    # and the tree is not trivially equal: the changes nbconvert makes are there
    assert len(b.select(".jp-Notebook div.jp-OutputArea-output[tabindex='0']")) >= 1


def _tricky_notebook(*extra_html: str):
    import nbformat
    from nbformat.v4 import new_code_cell, new_markdown_cell, new_output

    png = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg=="
    html_out = (
        '<img src="a.png"><img alt="" src="b.png"><img src=c.png alt>'
        "<script>var s = '<img src=no.png><div class=\"jp-OutputArea-output\">';</script>"
        "<style>/* <img src=no.png> */</style><!-- <img src=no.png> -->"
        '<div class="x jp-Cell-inputWrapper y">inne</div><p title="a > b">&lt;img src=text&gt; &amp; &nbsp;</p>'
    )
    outputs = [
        new_output("display_data", data={"text/html": html_out + "".join(extra_html), "text/plain": "x"}),
        new_output("display_data", data={"image/png": png, "text/plain": "bild"}),
        new_output("stream", name="stdout", text="rad <b>1</b>\n"),
    ]
    return nbformat.v4.new_notebook(
        cells=[
            new_markdown_cell("# Rubrik\n\n<img src='m.png'> text"),
            new_code_cell("x = 1", outputs=outputs, execution_count=1),
            new_markdown_cell("## Del\n\nSlut."),
        ]
    )


def test_report_page_has_nbconvert_s_elements_and_attributes():
    """The exporter does nbconvert's last step (alt text on images without one, focusable input and
    output areas) on the page's text instead of a BeautifulSoup tree: the page has the same tree as
    nbconvert's own, for tags in scripts, styles and comments, quoted '>' and entities too."""
    from insats.reports.export import NO_ALT, focusable_page

    theirs, ours = _nbconvert_and_ours(_tricky_notebook())
    assert_same_tree(theirs, ours)
    # a.png, the markdown's m.png and the PNG output; not the ones in a script, a style or a comment
    assert ours.count(f'alt="{NO_ALT}"') == 3
    assert focusable_page(ours.replace('class="jp-Notebook', 'class="annan', 1)) is None


def test_report_page_falls_back_to_nbconvert_where_unsure():
    """A page the text route is unsure of (an area that already has a tabindex) goes nbconvert's way."""
    from insats.reports.export import focusable_page

    odd = '<div class="jp-OutputArea-output" tabindex="3">egen</div>'
    theirs, ours = _nbconvert_and_ours(_tricky_notebook(odd))
    assert_same_tree(theirs, ours)
    from nbconvert.exporters.templateexporter import TemplateExporter

    from insats.reports.export import report_exporter

    page, _ = TemplateExporter.from_notebook_node(report_exporter(), _tricky_notebook(odd))
    assert focusable_page(page) is None
    assert focusable_page(TemplateExporter.from_notebook_node(report_exporter(), _tricky_notebook())[0]) is not None
