"""Shared test support: repository paths, recorded fixtures, browser helpers (``support.browser``)."""

from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
"""The repository root."""

FIXTURES = ROOT / "tests" / "fixtures"
"""Recorded responses and fixture notebooks."""

REFERENCE = ROOT.parent / "shared" / "reference"
"""Real published figures beside the repository (optional: tests that need them skip without)."""


def visible_text(html_or_markdown: str) -> str:
    """The text a reader sees in an HTML (or Markdown) output: tags dropped, entities decoded,
    white space folded."""
    import html
    import re

    text = re.sub(r"<(script|style)\b.*?</\1\s*>", " ", html_or_markdown, flags=re.S | re.I)
    text = re.sub(r"<[^>]+>", " ", text)
    return re.sub(r"\s+", " ", html.unescape(text)).strip()


def output_text(nb, cells=None) -> str:
    """The visible text of a notebook's outputs (Markdown, HTML and plain text; the inline chart
    library left out), one output per line. ``cells`` limits it to some cells."""
    parts = []
    for cell in cells if cells is not None else nb["cells"]:
        for out in cell.get("outputs", []):
            data = out.get("data", {})
            for mime in ("text/markdown", "text/html"):
                value = data.get(mime)
                if value:
                    value = "".join(value) if isinstance(value, list) else value
                    if len(value) < 200_000:
                        parts.append(visible_text(value))
                    break
            else:
                value = data.get("text/plain") or (out.get("text") if out.get("output_type") == "stream" else None)
                if value:
                    parts.append("".join(value) if isinstance(value, list) else value)
    return "\n".join(parts)


def output_headings(nb) -> list[str]:
    """The text of every heading (``<h1>``–``<h4>``) in a notebook's HTML outputs."""
    import html
    import re

    found = []
    for cell in nb["cells"]:
        for out in cell.get("outputs", []):
            value = out.get("data", {}).get("text/html")
            if value:
                value = "".join(value) if isinstance(value, list) else value
                found += [
                    html.unescape(re.sub(r"<[^>]+>", "", m))
                    for m in re.findall(r"<h[1-4][^>]*>(.*?)</h[1-4]>", value, re.S)
                ]
    return found


def report_defects(nb) -> list[str]:
    """What a reader must never see in a report's outputs: Python values shown as words (``None``,
    ``True``, ``False``, ``nan``, ``NaN``) and tables whose first column is a bare row number (an
    unnamed index column of 0, 1, 2 …, as pandas shows one). One line per defect."""
    import re

    defects = []
    text = output_text(nb)
    for m in re.finditer(r"(?<![\w-])(None|True|False|nan|NaN)(?![\w-])", text):
        defects.append(f"Python-värde {m.group(1)!r}: …{text[max(0, m.start() - 60) : m.end() + 20]}…")
    for cell in nb["cells"]:
        for out in cell.get("outputs", []):
            page = out.get("data", {}).get("text/html")
            if not page:
                continue
            page = "".join(page) if isinstance(page, list) else page
            page = re.sub(r"<script\b.*?</script\s*>", " ", page, flags=re.S | re.I)
            for table in re.findall(r"<table\b.*?</table\s*>", page, flags=re.S | re.I):
                head = re.search(r"<thead\b.*?<th\b[^>]*>(.*?)</th\s*>", table, flags=re.S | re.I)
                rows = re.findall(r"<tr\b[^>]*>\s*<th\b[^>]*>(.*?)</th\s*>", table.split("</thead>")[-1], re.S | re.I)
                if head and not visible_text(head.group(1)) and rows and all(r.strip().isdigit() for r in rows):
                    defects.append(f"radnummer som första kolumn: {visible_text(table)[:120]}")
    return defects
