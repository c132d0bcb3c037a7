"""Reading PDFs back in tests: their text (pypdf) compared with the cells of the HTML they print.

The cells come from the HTML source with the standard library's parser — a route independent of
the browser that printed the PDF — and the comparison ignores white space (a printed cell wraps)
and compatibility forms (a font may set "ff" as one ligature glyph).
"""

from __future__ import annotations

import re
import unicodedata
from html.parser import HTMLParser
from pathlib import Path


def squeeze(text: str) -> str:
    """Text in compatibility form without white space or soft hyphens."""
    return re.sub(r"[\s\u00ad]+", "", unicodedata.normalize("NFKC", text))


def pdf_pages(path: str | Path):
    from pypdf import PdfReader

    return PdfReader(str(path)).pages


def pdf_text(path: str | Path) -> str:
    return "\n".join(page.extract_text() or "" for page in pdf_pages(path))


def pdf_outline(path: str | Path) -> list[str]:
    """Titles of every bookmark, depth first."""
    from pypdf import PdfReader

    reader = PdfReader(str(path))
    titles: list[str] = []

    def walk(items):
        for item in items:
            if isinstance(item, list):
                walk(item)
            else:
                titles.append(str(item.title))

    walk(reader.outline)
    return titles


class _Cells(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.cells: list[str] = []
        self.headers: list[str] = []
        self._depth_skip = 0
        self._cell: list[str] | None = None
        self._is_header = False

    def handle_starttag(self, tag, attrs):
        if tag in ("script", "style"):
            self._depth_skip += 1
        elif tag in ("td", "th") and not self._depth_skip:
            self._cell, self._is_header = [], tag == "th"

    def handle_endtag(self, tag):
        if tag in ("script", "style"):
            self._depth_skip -= 1
        elif tag in ("td", "th") and self._cell is not None:
            text = "".join(self._cell).strip()
            if text:
                (self.headers if self._is_header else self.cells).append(text)
            self._cell = None

    def handle_data(self, data):
        if self._cell is not None and not self._depth_skip:
            self._cell.append(data)


def table_texts(page: str) -> tuple[list[str], list[str]]:
    """(header texts, cell texts) of every table of an HTML page, outside scripts."""
    parser = _Cells()
    parser.feed(page)
    return parser.headers, parser.cells


def missing_from_pdf(html_path: str | Path, pdf_path: str | Path) -> list[str]:
    """Table headers and cells of the page that the PDF's text does not contain."""
    headers, cells = table_texts(Path(html_path).read_text(encoding="utf-8"))
    text = squeeze(pdf_text(pdf_path))
    return [t for t in dict.fromkeys(headers + cells) if squeeze(t) not in text]
