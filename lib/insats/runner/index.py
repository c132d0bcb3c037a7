"""The index page of a batch run: ``reports/<namn>/index.html``, in Swedish, offline.

Rendered from the same dictionary that is written to ``korning.json`` (see ``insats.runner.batch``):
every report with status (ok / fel / överhoppad), time, parameters and a link; for a failure the
cell and the error. Plain HTML with inline CSS, no scripts, nothing fetched from the network.
"""

from __future__ import annotations

import datetime as dt
import html
import json
from pathlib import Path
from typing import Any

from insats.atomic import atomic_write

__all__ = ["render_index", "visible", "write_index"]

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
    """The index page for a run dictionary (the content of ``korning.json``)."""
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
    return f"""<!DOCTYPE html>
<html lang="sv">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Rapporter – {_e(run.get("namn"))}</title>
<style>{_CSS}</style>
</head>
<body>
<h1>Rapporter – {_e(run.get("namn"))}</h1>
<p class="meta">{", ".join(m for m in meta if m)}.</p>
<p class="meta">Parameterfil: <code>{_e(run.get("params_fil"))}</code></p>
{data_line}{note}{summary}
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


def write_index(path: Path | str, run: dict[str, Any]) -> None:
    """Write the index page atomically."""

    atomic_write(Path(path), render_index(run))
