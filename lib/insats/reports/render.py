"""How report content becomes HTML: the one renderer of text, tables and sections.

Everything a report or dashboard shows passes through here, and every value is escaped on the way:
a name such as ``<script>…</script>`` or ``[klicka](http://…)`` in ``insatser.csv`` is shown as
text, never run or turned into a link. Text is written in a small, safe subset of Markdown
(``markdown_html``); tables are plain HTML (``table_html``); a report section (``Section``) is an
ordered list of blocks with a conclusion, shown by ``show``.

The subset of Markdown: paragraphs (blank line), ``**bold**``, ``*italic*``, `` `code` ``,
``- `` bullet lists, ``1. `` numbered lists, ``> `` notes, ``### `` headings, and links
``[text](target)`` whose target is inside the project (a relative path or ``#anchor``): a link to
another host is shown as its text, and a target with anything but letters, digits, ``_ . / - #``
(a quote that could end the attribute, an entity) is shown as written. Raw HTML in the text is
escaped (quotes too), never passed through. A backslash makes the punctuation after it plain
text (``\\*`` is a star).

Text from the data (an insats, area or unit name) is put into a generated sentence through
``literal``, which escapes what this subset would read as markup: ``**fet**``, `` `kod` `` or
``[länk](x.html)`` in a name is shown as written, never as bold, code or a link.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import pandas as pd
from IPython.display import HTML, display

from insats.analysis.privacy import footnote

__all__ = ["Note", "Section", "Table", "literal", "markdown_html", "method_appendix", "show", "table_html"]


# --------------------------------------------------------------------------- text
_LITERAL_ANYWHERE = re.compile(r"[\\`*\[]")
"""What starts inline markup anywhere in a line: code, bold and italic, a link (and the backslash)."""
_LITERAL_AT_START = re.compile(r"^(\s*)(#|-|>|\d+(?=\.))")
"""What starts a block at the beginning of a line: a heading, a list item, a note."""


def literal(value: object) -> str:
    """Text from the data as it goes into a generated sentence of the safe Markdown subset: shown as
    written, never as markup. Every character that could start inline markup (`` ` ``, ``*``,
    ``[``, ``\\``) gets a backslash; so does a beginning that could start a block if the sentence
    begins with it (``#``, ``-``, ``>``, ``1.``); a line break becomes a space (a name is one
    line). HTML is escaped later by ``markdown_html``, as all text is."""
    text = _LITERAL_ANYWHERE.sub(lambda m: "\\" + m.group(0), " ".join(str(value).splitlines()))

    def block(m: re.Match[str]) -> str:
        space, mark = m.groups()
        return space + (mark + "\\" if mark[0].isdigit() else "\\" + mark)  # 1\. or \# \- \>

    return _LITERAL_AT_START.sub(block, text)


_ESCAPED = re.compile(r"\\(&(?:amp|lt|gt|quot|#x27);|[!-/:-@\[-`{-~])|[\U000F0000-\U0010FFFF]")
"""A backslash and the ASCII punctuation it makes plain (after ``html.escape``: ``&gt;`` for ``>``),
or a character of the private use planes (``_inline`` marks escapes with them)."""


def _inline(text: str) -> str:
    """Inline Markdown of one escaped line."""
    kept: list[str] = []

    def keep(m: re.Match[str]) -> str:  # escapes (and any private-use character) wait outside
        kept.append(m.group(1) if m.group(1) is not None else m.group(0))
        return chr(0xF0000 + len(kept) - 1)

    t = _ESCAPED.sub(keep, text)
    t = _markup(t)
    return re.sub(r"[\U000F0000-\U0010FFFF]", lambda m: kept[ord(m.group(0)) - 0xF0000], t) if kept else t


def _markup(text: str) -> str:
    """Code, bold, italic and links of one escaped line (its escapes set aside)."""
    t = re.sub(r"`([^`]+)`", r"<code>\1</code>", text)
    t = re.sub(r"\*\*(.+?)\*\*", r"<strong>\1</strong>", t)
    t = re.sub(r"(?<![*\w])\*(?!\s)(.+?)(?<!\s)\*(?!\w)", r"<em>\1</em>", t)

    def link(m: re.Match[str]) -> str:
        label, target = m.group(1), m.group(2)
        if not _SAFE_TARGET.fullmatch(target):  # another host, a scheme, quotes, entities: the text only
            return m.group(0) if _UNSAFE_TEXT.search(target) else label
        return f'<a href="{html.escape(target, quote=True)}">{label}</a>'

    return re.sub(r"\[([^\]]+)\]\(([^)\s]+)\)", link, t)


_SAFE_TARGET = re.compile(r"(?!//)[\w./-]*(?:#[\w-]*)?", re.UNICODE)
"""A link target inside the project: a relative path and/or ``#anchor`` of letters, digits, ``_``,
``.``, ``/`` and ``-`` only (no scheme, no ``//host``, no quote, ``&`` or ``;`` that could end the
attribute or hide a scheme behind an entity)."""
_UNSAFE_TEXT = re.compile(r"&|<")
"""A refused target that holds escaped text (a quote, an entity, a tag): shown as it was written,
so the reader sees the whole text rather than half of it."""


_BULLET = re.compile(r"^\s*[-*] ")
_HEADING = re.compile(r"^(#{1,4}) (.*)$")
_QUOTE = re.compile(r"^\s*&gt; ?")
_NUMBERED = re.compile(r"^\s*\d+\. ")


def markdown_html(text: str | None) -> str:
    """The safe Markdown subset (see the module docstring) as HTML; every character of the text is
    escaped first, so nothing in it can become markup of its own."""
    if not text:
        return ""
    out: list[str] = []
    for block in re.split(r"\n\s*\n", str(text).strip()):
        lines = [html.escape(line.rstrip(), quote=True) for line in block.strip("\n").split("\n")]
        if lines[0].lstrip().startswith("&gt;"):
            body = " ".join(_QUOTE.sub("", ln) for ln in lines)
            out.append(f'<div class="insats-notis" role="note"><p>{_inline(body)}</p></div>')
            continue
        para: list[str] = []
        items: list[str] = []
        kind = ""

        def flush() -> None:
            nonlocal para, items, kind
            if para:
                out.append(f"<p>{_inline(' '.join(para))}</p>")
            if items:
                out.append(f"<{kind}>{''.join(f'<li>{_inline(i)}</li>' for i in items)}</{kind}>")
            para, items, kind = [], [], ""

        for line in lines:
            heading = _HEADING.match(line)
            if heading:
                flush()
                level = len(heading.group(1))
                out.append(f"<h{level}>{_inline(heading.group(2))}</h{level}>")
            elif _BULLET.match(line) or _NUMBERED.match(line):
                new_kind = "ul" if _BULLET.match(line) else "ol"
                if para or (kind and kind != new_kind):
                    flush()
                kind = new_kind
                items.append((_BULLET if new_kind == "ul" else _NUMBERED).sub("", line))
            elif items and line.startswith("  "):  # a continuation of the last item
                items[-1] += " " + line.strip()
            else:
                if items:
                    flush()
                para.append(line.strip())
        flush()
    return "\n".join(out)


# --------------------------------------------------------------------------- tables
WIDE_TABLE_COLUMNS = 8
"""Columns (row labels included) from which a table may scroll sideways and gets a focusable box."""


def table_html(frame: pd.DataFrame, *, focus: str | None = None, caption: str | None = None) -> str:
    """A display table as accessible HTML: header cells with ``scope``, the row labels as row
    headers (left out for a plain 0, 1, 2 … index), every value escaped, missing values empty, and
    the row whose label is ``focus`` marked (``class="insats-fokus"``, and ``aria-current``)."""
    show_index = not isinstance(frame.index, pd.RangeIndex)
    head_cells = ([str(frame.index.name or "")] if show_index else []) + [str(c) for c in frame.columns]
    head = "".join(f'<th scope="col">{html.escape(c)}</th>' for c in head_cells)
    rows = []
    for label, row in zip(frame.index, frame.itertuples(index=False)):
        marked = focus is not None and str(label) == str(focus)
        attrs = ' class="insats-fokus" aria-current="true"' if marked else ""
        label_cell = f'<th scope="row">{html.escape(str(label))}</th>' if show_index else ""
        cells = "".join(f"<td>{html.escape(_cell_text(v))}</td>" for v in row)
        rows.append(f"<tr{attrs}>{label_cell}{cells}</tr>")
    cap = f"<caption>{html.escape(caption)}</caption>" if caption else ""
    # a wide table may scroll sideways on a narrow screen: then its box must be reachable and
    # named for keyboard users (WCAG 2.1.1; axe's scrollable-region-focusable)
    wide = len(head_cells) >= WIDE_TABLE_COLUMNS
    name = html.escape(caption or "Tabell", quote=True)
    box = f' role="region" tabindex="0" aria-label="{name}"' if wide else ""
    return (
        f'<div class="insats-tabell"{box}><table class="insats-table">{cap}<thead><tr>{head}</tr></thead>'
        f"<tbody>{''.join(rows)}</tbody></table></div>"
    )


def _cell_text(value: Any) -> str:
    if value is None:
        return ""
    try:
        if pd.isna(value):
            return ""
    except (TypeError, ValueError):  # lists and other containers are not NA
        pass
    return str(value)


# --------------------------------------------------------------------------- sections
@dataclass(frozen=True)
class Note:
    """A paragraph (or list) of text in the safe Markdown subset."""

    text: str


@dataclass(frozen=True)
class Table:
    """A display table (strings, ``..`` where suppressed) with its caption."""

    caption: str
    frame: pd.DataFrame


@dataclass
class Section:
    """One part of a report: a title, its blocks in the order they are shown, a conclusion.

    Blocks are ``Note``, ``Table`` or a chart (any object IPython can display). ``findings`` holds
    the section's key numbers for conclusions and recommendations (from published values only);
    ``extra`` holds unpublished intermediate results for tests and follow-up, never displayed.
    """

    title: str = ""
    blocks: list[Any] = field(default_factory=list)
    conclusion: str = ""
    findings: dict[str, Any] = field(default_factory=dict)
    extra: dict[str, Any] = field(default_factory=dict)
    footnote: str | None = None
    """Shown under the section's tables (the ``..`` footnote when anything can be suppressed)."""
    method: list[Any] = field(default_factory=list)
    """Blocks for the report's appendix *Metod och förbehåll* (``method_appendix``), written for the
    utredare: models, tests, method tables. Not shown with the section itself."""

    def note(self, text: str | None) -> None:
        if text:
            self.blocks.append(Note(text))

    def table(self, caption: str, frame: pd.DataFrame) -> None:
        self.blocks.append(Table(caption, frame))

    def chart(self, chart: Any) -> None:
        if chart is not None:
            self.blocks.append(chart)

    def method_note(self, text: str | None) -> None:
        """A note for the appendix *Metod och förbehåll*."""
        if text:
            self.method.append(Note(text))

    def method_table(self, caption: str, frame: pd.DataFrame) -> None:
        """A table for the appendix *Metod och förbehåll*."""
        self.method.append(Table(caption, frame))

    @property
    def method_tables(self) -> dict[str, pd.DataFrame]:
        return {b.caption: b.frame for b in self.method if isinstance(b, Table)}

    @property
    def method_notes(self) -> list[str]:
        return [b.text for b in self.method if isinstance(b, Note)]

    @property
    def notes(self) -> list[str]:
        return [b.text for b in self.blocks if isinstance(b, Note)]

    @property
    def tables(self) -> dict[str, pd.DataFrame]:
        return {b.caption: b.frame for b in self.blocks if isinstance(b, Table)}

    @property
    def charts(self) -> list[Any]:
        return [b for b in self.blocks if not isinstance(b, (Note, Table))]


def method_appendix(sections: Iterable[Section]) -> list[Section]:
    """The sections' method blocks as the parts of the appendix *Metod och förbehåll*: one section per
    report section that has any, titled like it (shown as ``###`` under the appendix's heading)."""
    return [Section(title=sec.title, blocks=list(sec.method)) for sec in sections if sec.method]


def section_of(items: Iterable[Any], title: str = "") -> Section:
    """A ``Section`` from loose items: text becomes a ``Note``, a DataFrame a ``Table`` without a
    caption, anything else (charts) stays as it is; ``None`` and empty text are skipped."""
    sec = Section(title=title)
    for item in items:
        if item is None or (isinstance(item, str) and not item.strip()):
            continue
        if isinstance(item, str):
            sec.note(item)
        elif isinstance(item, (Note, Table)):
            sec.blocks.append(item)
        elif isinstance(item, pd.DataFrame):
            sec.table("", item)
        else:
            sec.chart(item)
    return sec


def block_html(block: Any) -> str | None:
    """HTML of a text or table block (None for a chart, which displays itself)."""
    if isinstance(block, Note):
        return markdown_html(block.text)
    if isinstance(block, Table):
        caption = (
            f'<p class="insats-tabellrubrik"><strong>{html.escape(block.caption)}</strong></p>' if block.caption else ""
        )
        return caption + table_html(block.frame)
    if isinstance(block, pd.DataFrame):
        return table_html(block)
    if isinstance(block, str):
        return markdown_html(block)
    return None


def show(*items: Any, min_cell: int | None = None) -> None:
    """Display sections or loose items in a notebook: text and tables as escaped HTML, charts as
    themselves. A ``Section`` shows its title (``###``), blocks, footnote and conclusion."""
    for item in items:
        if item is None or (isinstance(item, str) and not item.strip()):
            continue
        if isinstance(item, Section):
            _show_section(item, min_cell)
            continue
        piece = block_html(item)
        display(HTML(piece) if piece is not None else item)


def _show_section(sec: Section, min_cell: int | None) -> None:
    if sec.title:
        display(HTML(markdown_html(f"### {sec.title}")))
    for block in sec.blocks:
        piece = block_html(block)
        display(HTML(piece) if piece is not None else block)
    note = sec.footnote or (footnote(min_cell) + "." if min_cell and sec.tables else None)
    if note:
        display(HTML(f'<p class="insats-fotnot"><small>{html.escape(note)}</small></p>'))
    if sec.conclusion:
        display(HTML(markdown_html(f"**Slutsats.** {sec.conclusion}")))
