"""The pages of a batch run, in Swedish, offline: ``reports/<namn>/index.html`` and ``korning.html``.

``index.html`` is the **front page** a reader starts from: the study's title, the synthetic-data
marker when the data is generated, each study report with its one-line summary (the first finding
of its summary) and links to the report, its PDF and its Excel workbook, the district profiles by
district name (Swedish alphabetical order), the Kolada comparison or why there is none, and a link
to the run log.

``korning.html`` is the **run log**: rendered from the same dictionary that is written to
``korning.json`` (see ``insats.runner.batch``): every report with status (ok / fel / överhoppad),
time, parameters and a link; for a failure the cell and the error.

Both are plain HTML with inline CSS, no scripts, nothing fetched from the network; every value
from the run (names, paths, messages) is escaped.
"""

from __future__ import annotations

import datetime as dt
import html
import json
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

from insats.atomic import atomic_write
from insats.reports.pdf import pdf_path_for
from insats.text import swedish_key

__all__ = ["LOG_PAGE", "read_report_page", "render_front_page", "render_index", "visible", "write_index"]

LOG_PAGE = "korning.html"
"""The run log's file name, beside the front page."""

STATUS_LABEL = {"ok": "ok", "fel": "fel", "överhoppad": "överhoppad", None: "väntar"}

_CSS = """
body { font-family: system-ui, -apple-system, "Segoe UI", Roboto, Arial, sans-serif; margin: 2rem;
       color: #1a1a1a; max-width: 80rem; }
h1 { font-size: 1.6rem; margin-bottom: .2rem; }
p.meta { color: #555; margin-top: 0; }
table { border-collapse: collapse; width: 100%; margin-top: 1rem; }
th, td { text-align: left; vertical-align: top; padding: .45rem .6rem; border-bottom: 1px solid #ddd; }
th { background: #f3f3f3; }
td.tid { white-space: nowrap; text-align: right; }
.status { font-weight: 600; padding: .1rem .5rem; border-radius: .6rem; white-space: nowrap; }
.s-ok { background: #e3f4e6; color: #1d6b2c; }
.s-fel { background: #fde6e4; color: #a1271b; }
.s-overhoppad { background: #eef0f3; color: #444; }
.s-vantar { background: #fff5d6; color: #7a5b00; }
.fel { color: #a1271b; }
.liten { color: #666; font-size: .9em; }
code { font-size: .9em; }
ul.summa { list-style: none; padding: 0; display: flex; gap: 1.5rem; }
"""


def visible(text: str) -> str:
    """Control characters (from a data or params file: a bell, a terminal escape code) shown as
    ``\\x07`` instead of passed on to a page or a terminal."""
    return "".join(c if c.isprintable() or c in "\n\t" else repr(c)[1:-1] for c in text)


def _e(value: Any) -> str:
    return html.escape(visible("" if value is None else str(value)), quote=True)


def _time(seconds: Any) -> str:
    if seconds is None:
        return "–"
    return f"{float(seconds):.1f}".replace(".", ",") + " s"


def _when(iso: Any) -> str:
    if not iso:
        return "–"
    try:
        return dt.datetime.fromisoformat(str(iso)).strftime("%Y-%m-%d %H:%M")
    except ValueError:
        return str(iso)


def _params(params: dict[str, Any] | None) -> str:
    items = []
    for key, value in (params or {}).items():
        shown = json.dumps(value, ensure_ascii=False, default=str) if not isinstance(value, str) else value
        items.append(f"<code>{_e(key)}</code>&nbsp;=&nbsp;{_e(shown)}")
    return "<br>".join(items) or "–"


def _row(r: dict[str, Any]) -> str:
    status: Any = r.get("status")
    label = STATUS_LABEL.get(status, str(status))
    css = {"ok": "s-ok", "fel": "s-fel", "överhoppad": "s-overhoppad"}.get(status, "s-vantar")
    title = _e(r.get("namn"))
    if r.get("omrade_namn"):
        title += f"<br><span class='liten'>{_e(r['omrade_namn'])}</span>"
    links = []
    if r.get("html"):
        text = "rapport" if status != "fel" else "senaste lyckade rapport"
        links.append(f"<a href='{_e(r['html'])}'>{text}</a>")
    if r.get("fel_html"):
        links.append(f"<a href='{_e(r['fel_html'])}'>körning med fel</a>")
    if r.get("ipynb") and status != "fel":
        links.append(f"<a href='{_e(r['ipynb'])}'>notebook</a>")
    notes = []
    err = r.get("fel")
    if status == "fel" and err:
        where = []
        if err.get("cell"):
            where.append(f"cell {err['cell']}")
        if err.get("exekvering"):
            where.append(f"In [{err['exekvering']}]")
        loc = f" i {', '.join(where)}" if where else ""
        notes.append(
            f"<div class='fel'><strong>{_e(err.get('typ'))}</strong>{_e(loc)}: {_e(err.get('meddelande'))}</div>"
        )
        if err.get("kalla"):
            notes.append(f"<div class='liten'>Cellen börjar: <code>{_e(err['kalla'])}</code></div>")
        if r.get("senast_ok"):
            notes.append(
                f"<div class='liten'>Senaste lyckade körning: {_e(_when(r['senast_ok'].get('slut')))}; "
                "den rapporten finns kvar.</div>"
            )
    if status == "överhoppad" and r.get("orsak"):
        notes.append(f"<div class='liten'>{_e(r['orsak'])}</div>")
    elif status in ("ok", "fel") and r.get("orsak"):
        notes.append(f"<div class='liten'>Kördes: {_e(r['orsak'])}</div>")
    if r.get("omkord_efter_forlorad_arbetare"):
        notes.append(
            "<div class='liten'>Kördes om på en annan arbetare efter att en arbetare försvann "
            f"({_e(r['omkord_efter_forlorad_arbetare'])} gång{'er' if r['omkord_efter_forlorad_arbetare'] > 1 else ''}).</div>"
        )
    if r.get("externa_resurser"):
        notes.append(
            "<div class='fel'>Varning: rapporten hämtar filer från internet: "
            + _e(", ".join(r["externa_resurser"]))
            + "</div>"
        )
    when = _when(r.get("slut") or (r.get("senast_ok") or {}).get("slut"))
    return (
        "<tr>"
        f"<td>{title}</td>"
        f"<td><span class='status {css}'>{_e(label)}</span>{''.join(notes)}</td>"
        f"<td class='tid'>{_e(_time(r.get('sekunder')))}<br><span class='liten'>{_e(when)}</span></td>"
        f"<td>{_params(r.get('parametrar'))}</td>"
        f"<td>{' · '.join(links) or '–'}</td>"
        "</tr>"
    )


def render_index(run: dict[str, Any]) -> str:
    """The run log page for a run dictionary (the content of ``korning.json``)."""
    reports = run.get("rapporter", [])
    counts = {s: sum(r.get("status") == s for r in reports) for s in ("ok", "fel", "överhoppad")}
    waiting = sum(r.get("status") is None for r in reports)
    state = "klar" if run.get("klar") else ("avbruten" if run.get("slut") else "pågår")
    data = run.get("data") or {}
    versions = run.get("paket") or {}
    meta = [
        f"Körning {state}. Start {_e(_when(run.get('start')))}",
        f"slut {_e(_when(run.get('slut')))}" if run.get("slut") else None,
        f"total tid {_e(_time(run.get('sekunder')))}" if run.get("sekunder") is not None else None,
        f"insats {_e(versions.get('insats', '?'))}",
    ]
    data_line = ""
    if data.get("mapp"):
        data_line = (
            f"<p class='meta'>Data: <code>{_e(data['mapp'])}</code> "
            f"(SHA-256 {_e((data.get('sha256') or '')[:16])}…, {len(data.get('filer') or {})} filer)</p>"
        )
    if run.get("studier"):
        data_line = (
            f"<p class='meta'>{len(run['studier'])} studier: "
            + ", ".join(f"<code>{_e(name)}</code>" for name in run["studier"])
            + "</p>"
        )
    note = "".join(
        f"<p class='meta fel'>{_e(_when(e.get('tid')))}: {_e(e.get('meddelande'))}</p>"
        for e in run.get("handelser") or []
    )
    summary = (
        f"<ul class='summa'><li><strong>{counts['ok']}</strong> ok</li>"
        f"<li><strong>{counts['fel']}</strong> fel</li>"
        f"<li><strong>{counts['överhoppad']}</strong> överhoppade</li>"
        + (f"<li><strong>{waiting}</strong> väntar</li>" if waiting else "")
        + "</ul>"
    )
    rows_html = []
    current = object()
    for r in reports:
        if r.get("studie") and r.get("studie") != current:
            current = r.get("studie")
            rows_html.append(f"<tr><th colspan='5'>Studie {_e(current)}</th></tr>")
        rows_html.append(_row(r))
    rows = "\n".join(rows_html)
    extra = _publication_block(run) + _notes_block(run)
    return f"""<!DOCTYPE html>
<html lang="sv">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Körningslogg – {_e(run.get("namn"))}</title>
<style>{_CSS}</style>
</head>
<body>
<p><a href="index.html">Till framsidan</a></p>
<h1>Körningslogg – {_e(run.get("namn"))}</h1>
<p class="meta">{", ".join(m for m in meta if m)}.</p>
<p class="meta">Parameterfil: <code>{_e(run.get("params_fil"))}</code></p>
{data_line}{note}{summary}{extra}
<table>
<thead><tr><th>Rapport</th><th>Status</th><th>Tid</th><th>Parametrar</th><th>Länkar</th></tr></thead>
<tbody>
{rows}
</tbody>
</table>
<p class="liten">Maskinläsbar förteckning med indatas kontrollsummor: <a href="korning.json">korning.json</a>.
En rapport hoppas över när notebook, parametrar och de tabeller den läste är oförändrade sedan den
senast lyckades (kör med <code>--force</code> för att köra om allt).</p>
</body>
</html>
"""


def _notes_block(run: dict[str, Any]) -> str:
    notes = run.get("anmarkningar") or []
    if not notes:
        return ""
    return "<h2>Anmärkningar</h2><ul>" + "".join(f"<li>{_e(visible(str(n)))}</li>" for n in notes) + "</ul>"


def _publication_block(run: dict[str, Any]) -> str:
    """The publication records of the run and their audit (``runner.publish``)."""
    published = run.get("publicering") or {}
    if not published:
        return ""
    items = []
    for study, rec in published.items():
        who = f"{_e(study)}: " if study else ""
        findings = rec.get("granskning") or []
        verdict = (
            "granskad: ingen dold uppgift kan räknas fram och inga små antal visas"
            if not findings
            else f"<strong class='fel'>granskningen fann {len(findings)} uppgifter som inte är tillräckligt "
            "skyddade</strong>"
        )
        lines = "".join(f"<li>{_e(visible(str(f)))}</li>" for f in findings[:50])
        items.append(
            f"<li>{who}<a href='{_e(rec.get('fil'))}'>{_e(rec.get('fil'))}</a> "
            f"({_e(rec.get('antal'))} antal), {verdict}. {_suppression_line(rec)}"
            f"{f'<ul>{lines}</ul>' if lines else ''}</li>"
        )
    return "<h2>Publicering</h2><ul>" + "".join(items) + "</ul>"


def _suppression_line(rec: dict[str, Any]) -> str:
    """How many counts the publication hides, by reason, and where the full suppression log is."""
    by_reason = rec.get("undertryckta")
    if by_reason is None:
        return ""
    total = sum(int(n) for n in by_reason.values())
    parts = ", ".join(f"{_e(reason)} {int(n)}" for reason, n in by_reason.items())
    where = (
        f" Hela loggen (vilka antal och varför, aldrig värdena): <a href='{_e(rec['logg'])}'>{_e(rec['logg'])}</a>."
        if rec.get("logg")
        else ""
    )
    return f"Undertryckta antal: {total}{f' ({parts})' if parts else ''}.{where}"


def write_index(path: Path | str, run: dict[str, Any]) -> None:
    """Write the front page to ``path`` and the run log beside it (``korning.html``), each atomically."""
    path = Path(path)
    atomic_write(path.with_name(LOG_PAGE), render_index(run))
    atomic_write(path, render_front_page(run, path.parent))


# ---------------------------------------------------------------- the front page

SUMMARY_HEADINGS = ("nämndsammanfattning", "sammanfattning")
"""Headings whose first list item is a report's one-line summary (the Nämndsammanfattning first)."""
SUMMARY_MAX = 280
"""A one-line summary longer than this is cut at a word and ends with an ellipsis."""

_FRONT_CSS = """
body { font-family: system-ui, -apple-system, "Segoe UI", Roboto, Arial, sans-serif; margin: 2rem;
       color: #1a1a1a; max-width: 60rem; line-height: 1.45; }
h1 { font-size: 1.7rem; margin-bottom: .3rem; }
h2 { font-size: 1.25rem; margin-top: 2rem; border-bottom: 1px solid #ccc; padding-bottom: .2rem; }
.notis { border-left: 4px solid #8a5a00; background: #fff5d6; padding: .5rem .8rem; }
.rapport { margin: 1rem 0 1.4rem; }
.rapport h3 { font-size: 1.1rem; margin: 0 0 .2rem; }
.rapport p { margin: .2rem 0; }
ul.omraden { columns: 2 18rem; padding-left: 1.2rem; }
.liten { color: #555; font-size: .92em; }
a:focus-visible { outline: 3px solid #1a55a8; outline-offset: 2px; }
"""


class _ReportPage(HTMLParser):
    """What the front page needs from a report page: its title (first ``h1``), the first finding
    under its summary heading, and whether it carries the synthetic-data notice."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.title = ""
        self.summary = ""
        self.synthetic = False
        self._stack: list[str] = []
        self._text: list[str] | None = None
        self._in_summary_level = 0
        self._notice: list[str] | None = None
        self._skip = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attr = dict(attrs)
        if tag in ("script", "style") or "anchor-link" in (attr.get("class") or ""):
            self._skip += 1
            self._stack.append(tag)
            return
        if tag in ("h1", "h2", "h3", "h4"):
            level = int(tag[1])
            if self._in_summary_level and level <= self._in_summary_level:
                self._in_summary_level = -1  # the summary section ended without a list item
            self._text = []
        elif tag == "li" and self._in_summary_level > 0 and not self.summary:
            self._text = []
        elif tag in ("p", "div", "br") and self._text is not None:
            self._text.append(" ")  # blocks inside a finding are words apart
        elif tag == "div" and "insats-notis" in (attr.get("class") or ""):
            self._notice = []
        self._stack.append(tag)

    def handle_endtag(self, tag: str) -> None:
        if tag not in self._stack:
            return
        while self._stack and self._stack[-1] != tag:
            self._stack.pop()
        self._stack.pop()
        if tag in ("script", "style") or (self._skip and tag == "a"):
            self._skip = max(0, self._skip - 1)
            return
        text = " ".join("".join(self._text or []).split())
        if tag in ("h1", "h2", "h3", "h4") and self._text is not None:
            if tag == "h1" and not self.title:
                self.title = text
            if self._in_summary_level == 0 and text.casefold().startswith(SUMMARY_HEADINGS):
                self._in_summary_level = int(tag[1])
            self._text = None
        elif tag == "li" and self._text is not None and self._in_summary_level > 0:
            self.summary = text
            self._in_summary_level = -1
            self._text = None
        elif tag == "div" and self._notice is not None:
            if " ".join("".join(self._notice).split()).startswith("Syntetiska exempeldata"):
                self.synthetic = True
            self._notice = None

    def handle_data(self, data: str) -> None:
        if self._skip:
            return
        if self._text is not None:
            self._text.append(data)
        if self._notice is not None:
            self._notice.append(data)


_PAGES: dict[tuple[str, int, int, int], dict[str, Any]] = {}
_PAGES_MAX = 4096
"""What ``read_report_page`` read, by page, file (inode: pages are replaced by renaming a new
file into place), modification time and size: the front page is written again as reports finish, and
parsing every page each time made a run quadratic in its reports."""


def read_report_page(path: Path) -> dict[str, Any]:
    """A report page's title, one-line summary and synthetic marker (empty when it cannot be read).
    A page unchanged since it was last read (the same file, modification time and size) is not
    parsed again."""
    try:
        st = path.stat()
        key = (str(path.resolve()), st.st_ino, st.st_mtime_ns, st.st_size)
        if key in _PAGES:
            return dict(_PAGES[key])
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return {"titel": "", "sammanfattning": "", "syntetisk": False}
    got = _parse_report_page(text)
    if len(_PAGES) >= _PAGES_MAX:
        _PAGES.clear()
    _PAGES[key] = got
    return dict(got)


def _parse_report_page(text: str) -> dict[str, Any]:
    page = _ReportPage()
    page.feed(text)
    page.close()
    summary = page.summary
    if "Hur säkert:" in summary:  # a Nämndsammanfattning finding: the finding and its uncertainty
        main, rest = summary.split("Hur säkert:", 1)
        summary = f"{main.strip()} Hur säkert: {rest.split('Vad det betyder:', 1)[0].strip()}"
    if len(summary) > SUMMARY_MAX:
        summary = summary[:SUMMARY_MAX].rsplit(" ", 1)[0] + " …"
    return {"titel": page.title, "sammanfattning": summary, "syntetisk": page.synthetic}


def _links(r: dict[str, Any], folder: Path) -> str:
    page = folder / str(r["html"])
    links = [f"<a href='{_e(r['html'])}'>Rapport (webbsida)</a>"]
    pdf = pdf_path_for(page)
    if pdf.is_file():
        links.append(f"<a href='{_e(_beside(r, pdf))}'>PDF för utskrift</a>")
    xlsx = page.with_suffix(".xlsx")
    if xlsx.is_file():
        links.append(f"<a href='{_e(_beside(r, xlsx))}'>Tabellerna i Excel</a>")
    return " · ".join(links)


def render_front_page(run: dict[str, Any], folder: Path | str) -> str:
    """The front page of a run whose files are in ``folder``: what a reader starts from."""
    folder = Path(folder)
    reports = [r for r in run.get("rapporter", []) if r.get("html") and (folder / str(r["html"])).is_file()]
    studies = [r for r in reports if r.get("typ") != "profil"]
    profiles = sorted(
        (r for r in reports if r.get("typ") == "profil"),
        key=lambda r: swedish_key(r.get("omrade_namn") or r.get("omrade") or r.get("namn")),
    )
    pages = {r["namn"]: read_report_page(folder / str(r["html"])) for r in studies}
    # a profile's page gives only the synthetic-data marker, so profiles are read until one has it:
    # a page takes 15 ms to parse, and the front page is written as reports finish (and at the start
    # of a rerun, with the previous run's pages)
    synthetic = any(p["syntetisk"] for p in pages.values()) or any(
        read_report_page(folder / str(r["html"]))["syntetisk"] for r in profiles
    )
    title = next((pages[r["namn"]]["titel"] for r in studies if pages[r["namn"]]["titel"]), "")
    title = title or f"Rapporter – {run.get('namn')}"
    parts = []
    if synthetic:
        parts.append(
            "<p class='notis' role='note'><strong>Syntetiska exempeldata.</strong> Siffrorna är "
            "framtagna av en slumpgenerator och beskriver inga verkliga personer.</p>"
        )
    when = _when(run.get("slut") or run.get("start"))
    parts.append(f"<p class='liten'>Körning {_e(run.get('namn'))}, {_e(when)}.</p>")
    exposed = sum(len(rec.get("granskning") or []) for rec in (run.get("publicering") or {}).values())
    if exposed:
        parts.append(
            f"<p class='notis' role='note'><strong>Får inte publiceras ännu:</strong> granskningen av "
            f"röjandekontrollen fann {exposed} uppgifter som inte är tillräckligt skyddade; se "
            f"<a href='{LOG_PAGE}'>körningsloggen</a>.</p>"
        )
    failed = [r for r in run.get("rapporter", []) if r.get("status") == "fel"]
    if failed:
        parts.append(
            f"<p class='notis' role='note'>{len(failed)} av rapporterna kunde inte skapas i denna körning; "
            f"se <a href='{LOG_PAGE}'>körningsloggen</a>. Där det finns en tidigare lyckad version visas den.</p>"
        )
    if studies:
        parts.append("<h2>Rapporter</h2>")
        for r in studies:
            page = pages[r["namn"]]
            name = page["titel"] or str(r["namn"])
            summary = f"<p>{_e(page['sammanfattning'])}</p>" if page["sammanfattning"] else ""
            parts.append(f"<div class='rapport'><h3>{_e(name)}</h3>{summary}<p>{_links(r, folder)}</p></div>")
    if profiles:
        parts.append("<h2>Områdesprofiler</h2>")
        parts.append("<p>En sida per område med nyckeltal, jämförelse med övriga områden, insatser och medel.</p>")
        items = []
        for r in profiles:
            area = r.get("omrade_namn") or r.get("omrade") or r.get("namn")
            items.append(f"<li><a href='{_e(r['html'])}'>{_e(area)}</a>{_profile_extra(r, folder)}</li>")
        parts.append(f"<ul class='omraden'>{''.join(items)}</ul>")
    parts.append("<h2>Nationell jämförelse (Kolada)</h2>")
    parts.append(f"<p>{_kolada_text(run, reports, folder)}</p>")
    parts.append("<h2>Om körningen</h2>")
    parts.append(
        f"<p><a href='{LOG_PAGE}'>Körningslogg</a>: status, tider, parametrar och kontrollsummor för varje "
        "rapport (maskinläsbart i <a href='korning.json'>korning.json</a>).</p>"
    )
    body = "\n".join(parts)
    return f"""<!DOCTYPE html>
<html lang="sv">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{_e(title)}</title>
<style>{_FRONT_CSS}</style>
</head>
<body>
<main>
<h1>{_e(title)}</h1>
{body}
</main>
</body>
</html>
"""


def _beside(r: dict[str, Any], path: Path) -> str:
    """The link to ``path``, a file beside the report page ``r["html"]`` (same folder)."""
    return str(Path(str(r["html"])).with_name(path.name).as_posix())


def _profile_extra(r: dict[str, Any], folder: Path) -> str:
    """The links beside a profile's name: its PDF and its Excel workbook, each where it exists."""
    page = folder / str(r["html"])
    links = [
        f"<a href='{_e(_beside(r, path))}'>{label}</a>"
        for path, label in ((pdf_path_for(page), "PDF"), (page.with_suffix(".xlsx"), "Excel"))
        if path.is_file()
    ]
    return f" <span class='liten'>({' · '.join(links)})</span>" if links else ""


def _kolada_text(run: dict[str, Any], reports: list[dict[str, Any]], folder: Path) -> str:
    kolada = [r for r in reports if Path(str(r.get("notebook") or "")).stem == "kolada"]
    if kolada:
        return f"Kommunen jämförd med andra kommuner: {_links(kolada[0], folder)}."
    reason = run.get("kolada_anmarkning") or (
        "Ingen Kolada-jämförelse i denna körning: det finns inga sparade nyckeltal från Kolada på den här "
        "datorn. Hämta dem med kommandot insats kolada fetch när datorn har internet och kör igen."
    )
    return _e(reason)
