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
