"""From an executed notebook to the report a reader opens: one offline HTML exporter for every report.

``notebook_html`` is the one way a notebook becomes a report page, used by ``insats run``
(``insats.runner.execute``) and by ``export_report`` for a notebook run by hand: nbconvert's
``lab`` look without code cells or prompts, a linked table of contents of the ``##`` sections, and
nothing fetched from the internet. nbconvert's stock ``lab`` template puts CDN scripts in the page
head (require.js, MathJax, mermaid, and the widget manager when a notebook has widget state); the
template here extends ``lab`` with those blocks emptied, and the charts carry their own JavaScript
(``insats.charts.enable_offline``). ``external_references`` is the one check that a page fetches
nothing from elsewhere.
"""

from __future__ import annotations

import html
import os
import re
import threading
import unicodedata
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import jinja2
import nbformat
from bs4 import BeautifulSoup
from nbconvert import HTMLExporter
from nbconvert.exporters.templateexporter import TemplateExporter
from nbconvert.filters.highlight import Highlight2HTML
from nbconvert.filters.widgetsdatatypefilter import WidgetsDataTypeFilter

from insats.atomic import atomic_write

__all__ = ["add_table_of_contents", "export_report", "external_references", "notebook_html", "offline_html_exporter"]

_OFFLINE_TEMPLATE = "insats_offline.html.j2"
_OFFLINE_TEMPLATE_SOURCE = """\
{%- extends 'lab/index.html.j2' -%}
{#- insats: the lab template without CDN scripts, so that reports open with no internet -#}
{%- block html_head_js_requirejs -%}{%- endblock html_head_js_requirejs -%}
{%- block html_head_js_mathjax -%}{%- endblock html_head_js_mathjax -%}
{%- block html_head_js_mermaidjs -%}{%- endblock html_head_js_mermaidjs -%}
{%- block jupyter_widgets -%}{%- endblock jupyter_widgets -%}
{%- block html_head_css -%}
<style type="text/css">
{{ resources.insats_css }}
</style>
{%- endblock html_head_css -%}
"""

REPORT_CSS = """\
/* insats: screen and paper. Focus visible (WCAG 2.4.7), tables that scroll on screen and fit on paper. */
:focus-visible { outline: 3px solid #0B3D91; outline-offset: 2px; }
a:focus-visible { background: #FFF3B0; }
/* links are told from text by more than colour (WCAG 1.4.1) */
a[href] { text-decoration: underline !important; }
/* a chart's reading and its data table (insats.charts.accessible) */
.insats-lasning { font-size: 0.95em; }
.insats-diagramtabell > summary { cursor: pointer; color: #0B3D91; text-decoration: underline; width: fit-content; }
.insats-diagramtabell[open] > summary { margin-bottom: 0.4em; }
.insats-tabell { overflow-x: auto; }
.insats-tabell table { table-layout: auto; }
.insats-table th { vertical-align: bottom; }
.insats-table caption { caption-side: top; text-align: left; font-weight: bold; padding-bottom: 0.3em; }
/* the Nämndsammanfattning: one block, one A4 page of its own on paper */
.insats-namndsammanfattning { border-top: 4px solid #0072B2; padding-top: 0.2em; }
.insats-namndsammanfattning ol > li { margin-bottom: 0.7em; }
.insats-namndsammanfattning li > p { margin: 0.1em 0; }

@page { size: A4 portrait; margin: 20mm 14mm 18mm 14mm; }
@page insats-liggande { size: A4 landscape; margin: 16mm 14mm 16mm 14mm; }

@media print {
  html, body { background: #fff !important; font-variant-ligatures: no-common-ligatures; }
  body, main, .jp-Notebook { padding: 0 !important; margin: 0 !important; width: auto !important; }
  .jp-Cell, .jp-Cell-outputWrapper, .jp-OutputArea, .jp-OutputArea-child { display: block !important;
    overflow: visible !important; break-inside: auto !important; page-break-inside: auto !important; }
  .jp-OutputArea-prompt, .jp-InputPrompt, .jp-OutputPrompt, .jp-Collapser { display: none !important; }
  .jp-OutputArea-output, .insats-tabell { display: block !important; overflow: visible !important; width: auto !important; }
  /* interactive chrome does not print */
  .vega-actions, .vega-embed > details, .vega-embed summary, .vega-bindings, .insats-ingen-utskrift,
  .jupyter-widgets, .widget-box, .jp-OutputArea-output[data-mime-type*="widget"] { display: none !important; }
  /* tables: the whole width of the page, columns wrapped, headers on every page, rows not split */
  table { width: 100% !important; table-layout: auto !important; font-size: 8.5pt !important; margin: 0 0 1em 0 !important; }
  thead { display: table-header-group; }
  tfoot { display: table-footer-group; }
  tr, td, th { break-inside: avoid; page-break-inside: avoid; }
  th, td { white-space: normal !important; overflow-wrap: break-word; word-break: normal; max-width: none !important;
           padding: 0.25em 0.35em !important; }
  table.insats-smal { font-size: 6.8pt !important; }
  .insats-liggande { page: insats-liggande; }
  /* charts scale to the page and are not split */
  .vega-embed { display: block !important; break-inside: avoid; page-break-inside: avoid; max-width: 100% !important; }
  .vega-embed svg, .vega-embed canvas, img, svg { max-width: 100% !important; height: auto !important; }
  h1, h2, h3, h4, .insats-tabellrubrik, caption { break-after: avoid; page-break-after: avoid; }
  /* a chart's data table prints open (reports.pdf opens it), without its "Visa tabell" button */
  .insats-diagramtabell > summary { display: none !important; }
  p, li { orphans: 3; widows: 3; }
  a { color: inherit; text-decoration: none; }
  .insats-toc { break-inside: avoid; }
  .insats-namndsammanfattning { break-before: page; page-break-before: always; break-after: page;
    page-break-after: always; font-size: 10pt; line-height: 1.3; }
  .insats-namndsammanfattning li { break-inside: avoid; }
}
"""


# --------------------------------------------------------------------------- nbconvert's last step
NO_ALT = "No description has been provided for this image"
"""The text nbconvert gives an image that has none (its own words, kept so pages stay as before)."""

_FOCUSABLE = ("jp-Cell-inputWrapper", "jp-OutputArea-output")


class _Edits(HTMLParser):
    """Finds the start tags that nbconvert's last step changes, with their places in the page."""

    def __init__(self, page: str):
        super().__init__(convert_charrefs=True)
        self.lines = [0]
        for line in page.splitlines(keepends=True):
            self.lines.append(self.lines[-1] + len(line))
        self.edits: list[tuple[int, str, str]] = []  # (offset, start tag as written, attribute to add)
        self.bodies: list[tuple[int, str]] = []
        self.unsure = False

    def _offset(self) -> int:
        line, col = self.getpos()
        return self.lines[line - 1] + col

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        names = [k for k, _ in attrs]
        if tag == "body":
            self.bodies.append((self._offset(), dict(attrs).get("class") or ""))
        elif tag == "img" and "alt" not in names:
            self.edits.append((self._offset(), self.get_starttag_text() or "", f' alt="{NO_ALT}"'))
        elif tag == "div":
            classes = " ".join(v or "" for k, v in attrs if k == "class").split()
            if any(c in classes for c in _FOCUSABLE):
                if "tabindex" in names or names.count("class") > 1:
                    self.unsure = True
                self.edits.append((self._offset(), self.get_starttag_text() or "", ' tabindex="0"'))

    def handle_endtag(self, tag: str) -> None:
        if tag == "body":
            self.bodies.append((self._offset(), "/"))


def focusable_page(page: str) -> str | None:
    """nbconvert's last step of an HTML export, done on the page's text: an image without ``alt``
    gets nbconvert's text, and every cell's input and output area in the notebook (the
    ``.jp-Notebook`` ``<body>`` of the lab template) gets ``tabindex="0"``. nbconvert does this by
    parsing the page into a BeautifulSoup tree and writing the tree out again, which took longer
    than the rest of the export (a report page has thousands of tags). Here the page is read by the
    same parser (``html.parser``) and only the changed start tags are rewritten, so the page has
    the same elements and attributes as nbconvert's (``tests/reports/test_export.py`` compares the
    two trees). None when the page is not laid out as the lab template lays it out (no single
    ``jp-Notebook`` body, a changed tag that already has ``tabindex`` or ends in ``/>``): the caller
    then takes nbconvert's own way."""
    parser = _Edits(page)
    parser.feed(page)
    parser.close()
    starts = [(at, cls) for at, cls in parser.bodies if cls != "/"]
    ends = [at for at, cls in parser.bodies if cls == "/"]
    if parser.unsure or len(starts) != 1 or len(ends) != 1 or "jp-Notebook" not in starts[0][1].split():
        return None
    body, end = starts[0][0], ends[0]
    if page[end:].replace("</body>", "", 1).replace("</html>", "", 1).strip():
        return None
    pieces, last = [], 0
    for at, tag, extra in parser.edits:
        if (
            not page.startswith(tag, at)
            or tag.endswith("/>")
            or (extra.startswith(" tabindex") and not body < at < end)
        ):
            return None
        cut = at + len(tag) - 1
        pieces += [page[last:cut], extra]
        last = cut
    pieces.append(page[last:])
    return "".join(pieces)


class _ReportExporter(HTMLExporter):
    """nbconvert's ``HTMLExporter`` with its last step done by ``focusable_page``."""

    def from_notebook_node(self, nb, resources=None, **kw):
        # as HTMLExporter.from_notebook_node (nbconvert 7.17), up to the BeautifulSoup pass
        langinfo = nb.metadata.get("language_info", {})
        lexer = langinfo.get("pygments_lexer", langinfo.get("name", None))
        highlight_code = self.filters.get("highlight_code", Highlight2HTML(pygments_lexer=lexer, parent=self))
        resources = self._init_resources(resources)
        filter_data_type = WidgetsDataTypeFilter(notebook_metadata=self._nb_metadata, parent=self, resources=resources)
        self.register_filter("highlight_code", highlight_code)
        self.register_filter("filter_data_type", filter_data_type)
        page, resources = TemplateExporter.from_notebook_node(self, nb, resources, **kw)
        fast = focusable_page(page)
        if fast is None:
            return _nbconvert_last_step(page, self.log), resources
        missing_alt = fast.count(f' alt="{NO_ALT}"') - page.count(f' alt="{NO_ALT}"')
        if missing_alt:
            self.log.warning("Alternative text is missing on %s image(s).", missing_alt)
        return fast, resources


def _nbconvert_last_step(page: str, log: Any) -> str:
    """nbconvert's own last step (``HTMLExporter.from_notebook_node``), for a page ``focusable_page`` declines."""
    soup = BeautifulSoup(page, features="html.parser")
    missing_alt = 0
    for elem in soup.select("img:not([alt])"):
        elem.attrs["alt"] = NO_ALT
        missing_alt += 1
    if missing_alt:
        log.warning("Alternative text is missing on %s image(s).", missing_alt)
    for elem in soup.select(".jp-Notebook div.jp-Cell-inputWrapper"):
        elem.attrs["tabindex"] = "0"
    for elem in soup.select(".jp-Notebook div.jp-OutputArea-output"):
        elem.attrs["tabindex"] = "0"
    return str(soup)


def offline_html_exporter(**traits) -> HTMLExporter:
    """An nbconvert ``HTMLExporter`` (lab look) whose page loads nothing from the internet.

    Keyword arguments set exporter traits, e.g. ``exclude_input=True`` for a report without code.
    """
    loader = jinja2.DictLoader({_OFFLINE_TEMPLATE: _OFFLINE_TEMPLATE_SOURCE})
    traits.setdefault("language_code", "sv")
    # the notebook is checked against its schema once, after the preprocessors, not after each of
    # the twelve (an invalid notebook still fails the export, with nbformat's error)
    traits.setdefault("optimistic_validation", True)
    exporter = _ReportExporter(template_name="lab", extra_loaders=[loader], **traits)
    exporter.template_file = _OFFLINE_TEMPLATE
    return exporter


_EXPORTER: HTMLExporter | None = None
_EXPORTER_LOCK = threading.Lock()


def report_exporter() -> HTMLExporter:
    """The exporter of report pages (no code, no prompts), made once per process: building it
    loads the templates, which takes longer than exporting one notebook."""
    global _EXPORTER
    with _EXPORTER_LOCK:
        if _EXPORTER is None:
            _EXPORTER = offline_html_exporter(exclude_input=True, exclude_input_prompt=True, exclude_output_prompt=True)
        return _EXPORTER


def notebook_html(notebook: nbformat.NotebookNode | str | os.PathLike, title: str | None = None) -> str:
    """An executed notebook (node or path) as one offline report page with a table of contents."""
    nb = nbformat.read(str(notebook), as_version=4) if isinstance(notebook, (str, os.PathLike)) else notebook
    resources: dict = {"insats_css": REPORT_CSS}
    if title:
        resources["metadata"] = {"name": title}
    exporter = report_exporter()
    with _EXPORTER_LOCK:  # an exporter is not safe to share between threads mid-export
        body, _ = exporter.from_notebook_node(nb, resources=resources)
    return add_table_of_contents(body)


def export_report(notebook_path: str | Path, html_path: str | Path) -> Path:
    """Write ``notebook_html`` of an executed notebook to ``html_path`` atomically; returns the path."""
    return atomic_write(Path(html_path), notebook_html(notebook_path))


_EXTERNAL_RE = re.compile(
    r"""<(?:script|link|img|iframe|source)\b[^>]*?\b(?:src|href)\s*=\s*["']?\s*((?:https?:)?//[^"'\s>]+)""",
    re.IGNORECASE,
)


def external_references(page: str) -> list[str]:
    """Addresses of scripts, style sheets, images and frames a page would fetch from the network."""
    return list(dict.fromkeys(m.group(1) for m in _EXTERNAL_RE.finditer(page)))


# --------------------------------------------------------------------------- table of contents
def _toc_html(headings: list[tuple[str, str]]) -> str:

    items = "\n".join(
        f'<li><a href="#{html.escape(anchor, quote=True)}">{html.escape(text)}</a></li>' for anchor, text in headings
    )
    nav = (
        '<nav class="insats-toc" aria-label="Innehåll" style="padding:0.4em 1.2em;'
        'border-left:4px solid #0072B2;background:#F5F8FB">\n'
        "<p><strong>Innehåll</strong></p>\n"
        f"<ol>\n{items}\n</ol>\n</nav>"
    )
    # the same structure as nbconvert's markdown cells, so the list gets the report's typography
    return (
        '<div class="jp-Cell jp-MarkdownCell jp-Notebook-cell insats-toc-cell">\n'
        '<div class="jp-Cell-inputWrapper"><div class="jp-Collapser jp-InputCollapser jp-Cell-inputCollapser">'
        '</div>\n<div class="jp-InputArea jp-Cell-inputArea"><div class="jp-InputPrompt jp-InputArea-prompt">'
        '</div>\n<div class="jp-RenderedHTMLCommon jp-RenderedMarkdown jp-MarkdownOutput">\n'
        f"{nav}\n</div>\n</div>\n</div>\n</div>\n"
    )


def add_table_of_contents(page: str) -> str:
    """An nbconvert HTML page with a linked list of its ``<h2>`` headings after the title cell.

    Headings inside ``<script>`` blocks (the inline chart library) are ignored; a heading without
    an ``id`` gets one. The list goes just before the cell that follows the first ``<h1>`` (at the
    top of ``<main>``, else of ``<body>``, when there is no title); the page ``<title>`` becomes
    the ``<h1>`` text, followed by the study's name when the page names one
    (``insats.reports.common.study_subtitle_html``) and the title does not already hold it.
    """

    # a script is skipped whole: runs of text without "<" at a time, then any "<" that does not
    # end the script (the same match as ``<script\b.*?</script\s*>``, without trying every
    # character of the 1 MB chart library in turn: 14 -> 1.6 ms a page)
    pattern = re.compile(
        r"<script\b[^<]*(?:<(?!/script\s*>)[^<]*)*</script\s*>|<h([12])\b([^>]*)>(.*?)</h\1\s*>"
        r"""|<p\b[^>]*\bdata-insats-studie\s*=\s*(?:"([^"]*)"|'([^']*)')""",  # nbconvert may requote it
        re.S | re.I,
    )
    headings: list[tuple[str, str]] = []
    title = None
    study = None
    pieces, last = [], 0
    used: set[str] = set()
    for m in pattern.finditer(page):
        named = m.group(4) if m.group(4) is not None else m.group(5)
        if named is not None:
            study = study or " ".join(html.unescape(named).split())
            continue
        if m.group(1) is None:
            continue
        text = html.unescape(re.sub(r"<[^>]+>", "", m.group(3))).replace("¶", "").strip()
        if m.group(1) == "1":
            if title is None:
                title = text
            continue
        ident = re.search(r"""\bid\s*=\s*["']([^"']+)["']""", m.group(2))
        if ident:
            anchor = ident.group(1)
        else:
            base = unicodedata.normalize("NFKD", text)
            base = (
                re.sub(r"[^\w]+", "-", "".join(c for c in base if not unicodedata.combining(c))).strip("-") or "avsnitt"
            )
            anchor, k = base, 2
            while anchor in used:
                anchor, k = f"{base}-{k}", k + 1
            pieces.append(page[last : m.start()])
            pieces.append(f'<h2 id="{anchor}"{m.group(2)}>{m.group(3)}</h2>')
            last = m.end()
        used.add(anchor)
        headings.append((anchor, text))
    pieces.append(page[last:])
    page = "".join(pieces)
    if title and study and study.casefold() not in title.casefold():
        title = f"{title}, {study}"
    if not headings:
        return _set_title(page, title)
    toc = _toc_html(headings)
    pos = None
    if title is not None:
        h1 = re.search(r"<h1\b", page)
        nxt = page.find('<div class="jp-Cell ', h1.end()) if h1 else -1
        pos = nxt if nxt >= 0 else None
    if pos is None:
        top = re.search(r"<main\b[^>]*>", page) or re.search(r"<body\b[^>]*>", page)
        pos = top.end() if top else 0
    page = page[:pos] + toc + page[pos:]
    return _set_title(page, title)


def _set_title(page: str, title: str | None) -> str:
    if not title:
        return page
    return re.sub(r"<title>.*?</title>", lambda _: f"<title>{html.escape(title)}</title>", page, count=1, flags=re.S)
