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
