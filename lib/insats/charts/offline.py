"""Offline rendering: the Vega bundle inline, the insats renderer, HTML pages and image files."""

from __future__ import annotations

import contextlib
import hashlib
import html as _html
import json
import os
import re
import uuid
from functools import lru_cache
from pathlib import Path
from typing import Any

import altair as alt
import vl_convert as vlc
from IPython import get_ipython
from IPython.display import display

from insats.atomic import atomic_write
from insats.charts.accessible import text_alternative
from insats.charts.theme import (
    FONT,
    LOCALE,
    NUMBER_LOCALE,
    TIME_LOCALE,
    ensure_theme,
    use_theme,
)
from insats.errors import UsageError

# --------------------------------------------------------------------------- offline rendering

RENDERER = "insats"
"""Name of the Altair renderer registered by ``enable_offline``."""

_JS_GLOBAL = "insatsVega"
_STATE = {"bundle_shown": False}

EMBED_OPTIONS: dict = {
    "renderer": "svg",
    "actions": {"export": True, "source": False, "compiled": False, "editor": False},
    "formatLocale": NUMBER_LOCALE,
    "timeFormatLocale": TIME_LOCALE,
    "i18n": {
        "PNG_ACTION": "Spara som PNG",
        "SVG_ACTION": "Spara som SVG",
        "CLICK_TO_VIEW_ACTIONS": "Klicka för att visa åtgärder",
    },
}
"""Options for vega-embed: SVG output, only the export menu (no links to the online editor)."""

MENU_LABEL = "Diagrammets meny: spara som bild"
"""Accessible name of vega-embed's menu button (its only content is an icon)."""


KEYBOARD_EXPORT_JS = """el.querySelectorAll(".vega-actions a[download]").forEach(function (a) {
        a.addEventListener("click", function (ev) {
          if (a.getAttribute("href") !== "#") return;
          ev.preventDefault();
          var ext = a.getAttribute("download").split(".").pop();
          result.view.toImageURL(ext, opt.scaleFactor || 1).then(function (url) {
            a.href = url;
            setTimeout(function () { a.click(); }, 0);
          });
        });
      });"""
"""Makes the menu's *Spara som PNG/SVG* work from the keyboard. vega-embed makes the image when the
mouse button goes down (``mousedown``), so Enter on the link (a ``click`` only) saved the page itself
as ``visualization.png``. A click on a link with no image yet makes the image and then clicks again
(after the first click has ended: a click inside a click on the same link is ignored)."""


def _vl_version() -> str | None:

    major, minor = alt.SCHEMA_VERSION.lstrip("v").split(".")[:2]
    wanted = f"{major}.{minor}"
    return ("v" + wanted.replace(".", "_")) if wanted in vlc.get_vegalite_versions() else None


def _cache_dir() -> Path:
    root = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(root) / "insats"


@lru_cache(maxsize=1)
def javascript_bundle() -> str:
    """vega + vega-lite + vega-embed as one script with no external dependency (from vl-convert).

    Defines ``window.insatsVega = {embed, vega, vegaLite}``. Bundling takes a few seconds, so the
    result is cached in memory and on disk (``~/.cache/insats``, keyed by the vl-convert version).
    """

    vl_version = _vl_version()
    version = vlc.__version__  # type: ignore[attr-defined]  # vl_convert's stub does not declare it
    key = hashlib.sha256(f"{version}|{vl_version}|{_JS_GLOBAL}|1".encode()).hexdigest()[:16]
    path = _cache_dir() / f"vega-bundle-{key}.js"
    with contextlib.suppress(OSError):  # no cache yet, or an unreadable one: build the bundle
        text = path.read_text(encoding="utf-8")
        if text.rstrip().endswith("};") and _JS_GLOBAL in text:
            return text
    snippet = f"window.{_JS_GLOBAL} = {{embed: vegaEmbed, vega: vega, vegaLite: vegaLite}};"
    text = vlc.javascript_bundle(snippet=snippet, vl_version=vl_version)
    with contextlib.suppress(OSError):  # a read-only cache folder only costs the next kernel the bundling
        atomic_write(path, text)
    return text


def _json_script_safe(text: str) -> str:
    """JSON made safe inside an inline <script>: ``</`` and ``<!--`` only occur in its strings,
    where ``<\\/`` and ``\\u003c!--`` mean the same."""
    return text.replace("</", "<\\/").replace("<!--", "\\u003c!--")


def _js_script_safe(text: str) -> str:
    """JavaScript source made safe inside an inline <script> (the bundle has no ``</script``;
    this only guards against a future version that has)."""
    return re.sub(r"</(script)", r"<\\/\1", text, flags=re.I)


def bundle_html() -> str:
    """An invisible ``<script>`` that defines the Vega libraries once (no network)."""
    return (
        f'<script type="text/javascript" data-insats="vega-bundle">\n'
        f"if (!window.{_JS_GLOBAL}) {{ (function () {{\n{_js_script_safe(javascript_bundle())}\n}})(); }}\n</script>"
    )


def _with_locale(spec: dict) -> dict:
    """The spec with the Swedish ``config.locale`` added when it has none."""
    spec = dict(spec)
    config = dict(spec.get("config") or {})
    if "locale" not in config:
        config["locale"] = LOCALE
    spec["config"] = config
    return spec


def _spec(chart) -> dict:
    if isinstance(chart, dict):
        return _with_locale(chart)
    ensure_theme()
    return _with_locale(chart.to_dict())


def chart_html(chart, *, include_bundle: bool = False, div_id: str | None = None, data_table: bool = True) -> str:
    """HTML fragment that draws one chart with the inline bundle (``include_bundle``) or with the
    bundle already on the page (it waits up to 20 s for it), followed by its text alternative
    (``insats.charts.accessible``): the reading, and the data table unless ``data_table=False`` (when
    the page shows the same table right after the chart)."""
    spec = _spec(chart)
    div_id = div_id or f"insats-chart-{uuid.uuid4().hex[:12]}"
    spec_json = _json_script_safe(json.dumps(spec, ensure_ascii=False, allow_nan=False, default=str))
    opts_json = _json_script_safe(json.dumps(EMBED_OPTIONS, ensure_ascii=False))
    note = "Diagrammet ritas med JavaScript. Syns det inte: kör cellen igen (eller välj ”Trust notebook”)."
    script = f"""
<div class="insats-chart" id="{div_id}"><span class="insats-chart-note" style="color:#666;font-size:13px">{_html.escape(note)}</span></div>
<script type="text/javascript">
(function () {{
  var el = document.getElementById({json.dumps(div_id)});
  var spec = {spec_json};
  var opt = {opts_json};
  function draw() {{
    var note = el.querySelector(".insats-chart-note");
    if (note) note.remove();
    window.{_JS_GLOBAL}.embed(el, spec, opt).then(function (result) {{
      var menu = el.querySelector("details > summary");
      if (menu) menu.setAttribute("aria-label", {json.dumps(MENU_LABEL)});
      {KEYBOARD_EXPORT_JS}
    }}).catch(function (err) {{
      el.innerHTML = '<pre style="color:#b00020">Diagrammet kunde inte ritas: ' + String(err) + '</pre>';
      console.error(err);
    }});
  }}
  var tries = 0;
  (function wait() {{
    if (window.{_JS_GLOBAL}) {{ draw(); }}
    else if (tries++ < 400) {{ setTimeout(wait, 50); }}
    else {{ el.textContent = "Diagrambiblioteket saknas: anropa insats.charts.enable_offline() först."; }}
  }})();
}})();
</script>"""
    return (bundle_html() if include_bundle else "") + _figure(spec, script, data_table=data_table)


def _table_markup(table: dict) -> str:
    """The chart's data table (``accessible.table_of``) as escaped HTML: column headers with
    ``scope``, the first column as row headers."""
    esc = _html.escape
    head = "".join(f'<th scope="col">{esc(str(c))}</th>' for c in table.get("kolumner", []))
    rows = []
    for row in table.get("rader", []):
        cells = [f'<th scope="row">{esc(str(row[0]))}</th>'] if row else []
        cells += [f"<td>{esc(str(v))}</td>" for v in row[1:]]
        rows.append(f"<tr>{''.join(cells)}</tr>")
    caption = f"<caption>{esc(str(table.get('rubrik', '')))}</caption>" if table.get("rubrik") else ""
    return (
        f'<div class="insats-tabell"><table class="insats-table">{caption}<thead><tr>{head}</tr></thead>'
        f"<tbody>{''.join(rows)}</tbody></table></div>"
    )


def _figure(spec: dict, script: str, *, data_table: bool = True) -> str:
    """The chart with its text alternative (``insats.charts.accessible``): the reading as visible text
    under it and its data table one keystroke away (``<details>``, opened for print by reports.pdf)."""
    alt_text = text_alternative(spec)
    if not alt_text:
        return script
    reading = alt_text.get("lasning", "")
    parts = [f'<figure class="insats-figur" style="margin:0 0 1.2em 0">{script}']
    if reading:
        parts.append(
            f'<figcaption class="insats-lasning" style="max-width:46em;margin:0.3em 0">'
            f"<strong>Diagrammet visar:</strong> {_html.escape(reading)}</figcaption>"
        )
    if data_table and alt_text.get("tabell"):
        parts.append(
            '<details class="insats-diagramtabell"><summary>Visa tabell</summary>'
            f"{_table_markup(alt_text['tabell'])}</details>"
        )
    parts.append("</figure>")
    return "".join(parts)


def _title_text(spec: dict) -> str:
    title = spec.get("title")
    if isinstance(title, dict):
        title = title.get("text")
    if isinstance(title, list):
        title = " ".join(map(str, title))
    return str(title) if title else "Diagram"


def _renderer(spec: dict, **metadata) -> dict:
    """Altair renderer: a text/html block per chart; the bundle rides along until it was shown."""
    include = not _STATE["bundle_shown"]
    _STATE["bundle_shown"] = True
    return {"text/html": chart_html(spec, include_bundle=include), "text/plain": f"<Diagram: {_title_text(spec)}>"}


def enable_offline(mode: str = "auto", *, display_bundle: bool = True) -> str:
    """Make Altair charts render with no internet; call once, near the top of a notebook.

    ``"auto"`` and ``"html"``: enable the renderer ``"insats"`` and display the Vega bundle once in
    this cell's output (see the module docstring: works in JupyterLab, Voila and nbconvert HTML).
    ``"jupyter"``: Altair's ``JupyterChart`` widget with its bundled JavaScript (needs
    ``anywidget``; live sessions only, not for nbconvert export). Also enables the theme.
    Returns the renderer name in use.
    """
    use_theme()
    if mode not in ("auto", "html", "jupyter"):
        raise UsageError(f"Okänt läge {mode!r}: välj 'auto', 'html' eller 'jupyter'.")
    if mode == "jupyter":
        try:
            import anywidget  # noqa: F401  (optional, not a dependency: only mode='jupyter' needs it)
        except ImportError as exc:
            raise ImportError("mode='jupyter' kräver paketet anywidget; använd mode='html'.") from exc
        alt.renderers.enable("jupyter", offline=True)
        return "jupyter"
    # registered again each time (a dict entry): asking ``alt.renderers.names()`` first read every
    # installed package's entry points, 25 ms a report in a batch kernel
    alt.renderers.register(RENDERER, _renderer)
    alt.renderers.enable(RENDERER)
    if display_bundle and get_ipython() is not None:
        display({"text/html": bundle_html(), "text/plain": ""}, raw=True)
        _STATE["bundle_shown"] = True
    return RENDERER


# --------------------------------------------------------------------------- files


def to_html(charts, *, title: str | None = None) -> str:
    """A self-contained HTML page (bundle inline, no network) with one or more charts."""
    items = list(charts) if isinstance(charts, (list, tuple)) else [charts]
    specs = [_spec(c) for c in items]
    page_title = title or _title_text(specs[0])
    body = "\n".join(chart_html(s) for s in specs)
    return f"""<!DOCTYPE html>
<html lang="sv">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{_html.escape(page_title)}</title>
<style>body {{ font-family: {FONT}; margin: 24px; }} .insats-chart {{ margin-bottom: 32px; }}</style>
{bundle_html()}
</head>
<body>
{body}
</body>
</html>
"""


def save(chart, path, *, scale: float = 2.0, ppi: float | None = None) -> Path:
    """Write a chart by the file's extension, with the Swedish locale, without a browser or network.

    ``.png`` (``scale`` 2 for sharp projector/report images; ``ppi`` sets print resolution),
    ``.svg``, ``.pdf`` via vl-convert; ``.html`` a self-contained page; ``.json`` the spec.
    """

    path = Path(path)
    ext = path.suffix.lower()
    spec = _spec(chart)
    common: dict[str, Any] = {
        "vl_version": _vl_version(),
        "format_locale": NUMBER_LOCALE,
        "time_format_locale": TIME_LOCALE,
        "allowed_base_urls": [],
    }
    if ext == ".png":
        data = vlc.vegalite_to_png(spec, scale=scale, ppi=ppi, **common)
    elif ext == ".svg":
        data = vlc.vegalite_to_svg(spec, **common).encode("utf-8")
    elif ext == ".pdf":
        data = vlc.vegalite_to_pdf(spec, **common)
    elif ext in (".html", ".htm"):
        data = to_html(spec).encode("utf-8")
    elif ext == ".json":
        data = json.dumps(spec, ensure_ascii=False, indent=1).encode("utf-8")
    else:
        raise UsageError(f"Okänt filformat {path.suffix!r} för {path.name}: välj .png, .svg, .pdf, .html eller .json.")
    atomic_write(path, data)
    return path
