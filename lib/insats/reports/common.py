"""Building blocks every study notebook and dashboard shares: provenance, notices, tables.

A notebook cell is a call and a sentence of Swedish text; the call usually lands here or in
``insats.analysis.measures`` / ``insats.charts``. Nothing here computes a measure.
"""

from __future__ import annotations

import datetime as dt
import platform
from pathlib import Path

import pandas as pd

from insats import __version__
from insats.contract import TABLES
from insats.analysis.privacy import footnote, format_table
from insats.data.study import Study
from insats.data.load import load_cached
from insats.analysis.measures import MEASURES, measure_label
import html
import re
import unicodedata
from insats.charts import export_html
from insats.atomic import atomic_write

ANTAGANDEN = "docs/antaganden.md"
"""The assumptions-and-caveats log every report links to (path in the repository)."""

REPO_URL_HINT = "https://github.com/ (se docs/antaganden.md i paketets källkod)"


def load_for_report(data_dir: str | Path) -> Study:
    """Load a study for a notebook, resolving a relative path against the repository root
    when it is not found from the working directory (notebooks run from ``notebooks/``)."""

    path = Path(data_dir)
    if not path.is_absolute() and not path.exists():
        for parent in [Path.cwd(), *Path.cwd().parents]:
            if (parent / path).exists():
                path = parent / path
                break
    return load_cached(path)


def synthetic_banner(study: Study) -> str:
    """Markdown warning shown at the top of every page built on generated data ('' otherwise)."""
    if not study.synthetic:
        return ""
    seed = study.meta.get("seed")
    extra = f" (frö {seed})" if seed is not None else ""
    return (f"> **Syntetiska exempeldata{extra}.** Uppgifterna är skapade av `insats generate` och "
            "beskriver inga verkliga personer. Siffrorna visar metoden, inte verkligheten.")


def missing_note(study: Study, needs: list[str] | tuple[str, ...], what: str) -> str | None:
    """Swedish explanation when a section cannot be computed, else None.

    ``what`` names the section, e.g. ``"Utfall"``.
    """
    missing = [t for t in needs if t not in study]
    if not missing:
        return None
    names = ", ".join(f"`{t}` ({TABLES[t].label.lower()})" for t in missing)
    word = "tabellen" if len(missing) == 1 else "tabellerna"
    return (f"**{what} kan inte beräknas:** studien saknar {word} {names}. "
            "Se `data/README.md` för vad tabellerna ska innehålla; resten av rapporten påverkas inte.")


def provenance(study: Study, params: dict) -> pd.DataFrame:
    """The data's provenance: parameters, every input file with its SHA-256, package version,
    when the report was made. Shown in every report ("Data och metod")."""
    rows = [("Parameter", k, str(v)) for k, v in params.items()]
    for name, src in study.sources.items():
        rows.append(("Fil", f"{TABLES[name].label} ({src.display})", f"SHA-256 {src.sha256[:16]}…"))
    for name in study.missing:
        rows.append(("Fil", TABLES[name].label, "saknas"))
    rows.append(("Program", "insats", __version__))
    rows.append(("Program", "Python / pandas", f"{platform.python_version()} / {pd.__version__}"))
    rows.append(("Körning", "Skapad", dt.datetime.now().strftime("%Y-%m-%d %H:%M")))
    if study.synthetic:
        rows.append(("Data", "Typ", "syntetiska exempeldata"))
    return pd.DataFrame(rows, columns=["Slag", "Vad", "Värde"])


def measure_table(long: pd.DataFrame, matt: list[str] | str, *, omraden: pd.DataFrame | None = None,
                  percent: bool | None = None, decimals: int = 1) -> pd.DataFrame:
    """A display table of one or more measures per area (rows) with Swedish formatting and
    ``..`` for suppressed cells. Shares are shown as percent unless ``percent=False``."""

    ids = [matt] if isinstance(matt, str) else list(matt)
    part = long[long["matt"].isin(ids)]
    values = part.pivot(index="omrade_kod", columns="matt", values="varde").reindex(columns=ids)
    mask = part.pivot(index="omrade_kod", columns="matt", values="undertryckt").reindex(columns=ids)
    mask = mask.fillna(False).astype(bool)
    names = area_names(omraden)
    # districts by name (as the charts order them), then central lines, then the whole study
    areas = sorted((c for c in values.index if c not in ("ALLA", "CENTRAL")), key=lambda c: swedish_key(names.get(c, c)))
    order = areas + [c for c in ("CENTRAL", "ALLA") if c in values.index]
    values, mask = values.reindex(order), mask.reindex(order)
    pct = {m: (MEASURES[m].unit == "andel") if percent is None else percent for m in ids}
    dec = {m: (decimals if MEASURES.get(m) is None or MEASURES[m].unit in ("andel", "kvot", "index", "per_100")
               else 0) for m in ids}
    shown = format_table(values, mask, decimals=dec, percent=pct)
    shown.index = [names.get(c, "Hela studien" if c == "ALLA" else c) for c in shown.index]
    shown.index.name = "Område"
    shown.columns = [measure_label(m) for m in ids]
    return shown


def swedish_key(text: str) -> str:
    """Sort key in Swedish alphabetical order: å, ä, ö after z (in that order)."""
    return str(text).lower().translate(str.maketrans({"å": "{", "ä": "|", "ö": "}"}))


def area_names(omraden: pd.DataFrame | None) -> dict[str, str]:
    """omrade_kod -> omrade (name), plus ALLA and CENTRAL."""
    names = {"ALLA": "Hela studien", "CENTRAL": "Centralt (hela kommunen)"}
    if omraden is not None and len(omraden):
        names.update(dict(zip(omraden["omrade_kod"].astype(str), omraden["omrade"].astype(str))))
    return names


def privacy_note(min_cell: int) -> str:
    """The suppression footnote and the link to the assumptions log, for every report."""
    return (f"{footnote(min_cell)}. Definitioner och gränsfall: se `{ANTAGANDEN}` "
            "(antaganden och förbehåll), som den som granskar rapporten bör läsa först.")


# --------------------------------------------------------------------------- HTML report

def _toc_html(headings: list[tuple[str, str]]) -> str:

    items = "\n".join(f'<li><a href="#{html.escape(anchor, quote=True)}">{html.escape(text)}</a></li>'
                      for anchor, text in headings)
    nav = ('<nav class="insats-toc" aria-label="Innehåll" style="padding:0.4em 1.2em;'
           'border-left:4px solid #0072B2;background:#F5F8FB">\n'
           '<p><strong>Innehåll</strong></p>\n'
           f'<ol>\n{items}\n</ol>\n</nav>')
    # the same structure as nbconvert's markdown cells, so the list gets the report's typography
    return ('<div class="jp-Cell jp-MarkdownCell jp-Notebook-cell insats-toc-cell">\n'
            '<div class="jp-Cell-inputWrapper"><div class="jp-Collapser jp-InputCollapser jp-Cell-inputCollapser">'
            '</div>\n<div class="jp-InputArea jp-Cell-inputArea"><div class="jp-InputPrompt jp-InputArea-prompt">'
            '</div>\n<div class="jp-RenderedHTMLCommon jp-RenderedMarkdown jp-MarkdownOutput">\n'
            f'{nav}\n</div>\n</div>\n</div>\n</div>\n')


def add_table_of_contents(page: str) -> str:
    """An nbconvert HTML page with a linked list of its ``<h2>`` headings after the title cell.

    Headings inside ``<script>`` blocks (the inline chart library) are ignored; a heading without
    an ``id`` gets one. The list goes just before the cell that follows the first ``<h1>`` (at the
    top of ``<main>``, else of ``<body>``, when there is no title); the page ``<title>`` becomes
    the ``<h1>`` text.
    """

    pattern = re.compile(r"<script\b.*?</script\s*>|<h([12])\b([^>]*)>(.*?)</h\1\s*>", re.S | re.I)
    headings: list[tuple[str, str]] = []
    title = None
    pieces, last = [], 0
    used: set[str] = set()
    for m in pattern.finditer(page):
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
            base = re.sub(r"[^\w]+", "-", "".join(c for c in base if not unicodedata.combining(c))).strip("-") or "avsnitt"
            anchor, k = base, 2
            while anchor in used:
                anchor, k = f"{base}-{k}", k + 1
            pieces.append(page[last:m.start()])
            pieces.append(f'<h2 id="{anchor}"{m.group(2)}>{m.group(3)}</h2>')
            last = m.end()
        used.add(anchor)
        headings.append((anchor, text))
    pieces.append(page[last:])
    page = "".join(pieces)
    if not headings:
        return page
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
    if title:
        page = re.sub(r"<title>.*?</title>", f"<title>{html.escape(title)}</title>", page, count=1, flags=re.S)
    return page


def export_report(notebook_path: str | Path, html_path: str | Path) -> Path:
    """An executed notebook as an offline HTML report: no code, a table of contents of its
    ``##`` sections, charts drawn with the inline library (``insats.charts.export_html``), no
    request to the internet. Returns the HTML file's path."""

    page = add_table_of_contents(export_html(notebook_path, exclude_input=True))
    html_path = Path(html_path)
    atomic_write(html_path, page)
    return html_path
