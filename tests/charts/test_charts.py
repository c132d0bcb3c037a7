"""Tests of insats.charts: Swedish specs, suppression, files, and offline rendering in Chromium."""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

import altair as alt
import numpy as np
import pandas as pd
import pytest

from insats import charts as C
from insats.analysis.privacy import SUPPRESSED
from insats.charts import offline
from insats.errors import UsageError
from insats.reports.export import export_report, external_references
from tests.support.browser import DRAWN_JS, chart_texts, offline_page, wait_for_charts

NNBSP = "\u202f"
NBSP = "\u00a0"

# --------------------------------------------------------------------------- synthetic tables

OMRADEN = pd.DataFrame(
    {
        "omrade_kod": ["A", "B", "C", "D", "E"],
        "omrade": ["Norrby", "Söderby", "Västby", "Österby", "Mitten"],
        "kommun_kod": "0999",
        "ar": 2024,
        "folkmangd": [10_000, 20_000, 3_000, 15_000, 12_000],
    }
)


def measures_long() -> pd.DataFrame:
    """A published long table: C suppressed, ALLA the sum."""
    rows = [
        ("erbjudande_andel", "A", 0.50, 50, 100, False),
        ("erbjudande_andel", "B", 0.62, 62, 100, False),
        ("erbjudande_andel", "C", np.nan, np.nan, np.nan, True),
        ("erbjudande_andel", "D", 0.30, 30, 100, False),
        ("erbjudande_andel", "E", 0.45, 45, 100, False),
        ("erbjudande_andel", "ALLA", 0.4715, 190, 403, False),
        ("medel_totalt", "A", 1_234_567.0, np.nan, np.nan, False),
        ("medel_totalt", "B", 2_000_000.0, np.nan, np.nan, False),
        ("medel_totalt", "ALLA", 3_234_567.0, np.nan, np.nan, False),
        ("justerat_utfall_oe", "A", 1.2, 24, 80, False),
        ("justerat_utfall_oe", "B", 0.8, 16, 80, False),
        ("justerat_utfall_oe", "ALLA", 1.0, 40, 160, False),
        ("justerat_utfall_oe_lo", "A", 0.77, 24, 80, False),
        ("justerat_utfall_oe_lo", "B", 0.46, 16, 80, False),
        ("justerat_utfall_oe_hi", "A", 1.78, 24, 80, False),
        ("justerat_utfall_oe_hi", "B", 1.30, 16, 80, False),
    ]
    return pd.DataFrame(rows, columns=["matt", "omrade_kod", "varde", "taljare", "namnare", "undertryckt"])


INSATSER = pd.DataFrame(
    {
        "insats_id": [f"I{i}" for i in range(8)],
        "omrade_kod": ["A", "A", "B", "C", "CENTRAL", "D", "E", "B"],
        "kategori": ["kurs", "praktik_privat", "kurs", "feriejobb", "matchning", "arbetstraning", "vagledning", "kurs"],
        "platser": [10, 5, 20, 40, 100, 3, 8, 12],
    }
)

MEDEL = pd.DataFrame(
    {
        "omrade_kod": ["A", "A", "B", "B", "C", "CENTRAL", "A", "A"],
        "ar": [2024, 2024, 2024, 2024, 2024, 2024, 2024, 2023],
        "kategori": ["kurs", "feriejobb", "kurs", "administration", "feriejobb", "matchning", "praktik_privat", "kurs"],
        "belopp": [1.2e6, 3.4e6, 2e6, 5e5, 1e6, 4e6, 7e5, 9e5],
        "raknas_som_insats": [True, True, True, False, False, True, True, True],
    }
)


def layers(spec: dict) -> list[dict]:
    return spec.get("layer", [spec])


def values_of(spec: dict, layer: dict | None = None) -> list[dict]:
    """Inline data rows of a layer (resolving Altair's top-level ``datasets``)."""
    data = (layer or spec).get("data") or spec.get("data")
    if "values" in data:
        return data["values"]
    return spec["datasets"][data["name"]]


def all_titles(obj) -> list[str]:
    """Every ``title`` string anywhere in a spec."""
    found = []
    if isinstance(obj, dict):
        for k, v in obj.items():
            if k == "title" and isinstance(v, str):
                found.append(v)
            elif k == "title" and isinstance(v, dict):
                found.append(v.get("text", ""))
                found.extend(v.get("subtitle", []) if isinstance(v.get("subtitle"), list) else [])
            found.extend(all_titles(v))
    elif isinstance(obj, list):
        for v in obj:
            found.extend(all_titles(v))
    return found


ENGLISH = re.compile(r"\b(value|count|share|area|district|total|category|amount|date|the)\b", re.I)


def assert_swedish(spec: dict) -> None:
    titles = [t for t in all_titles(spec) if t]
    assert titles, "no titles at all"
    for t in titles:
        assert not ENGLISH.search(t), f"English in a title: {t!r}"


def assert_locale(spec: dict) -> None:
    number = spec["config"]["locale"]["number"]
    assert number["decimal"] == ","
    assert number["thousands"] == NNBSP
    assert number["percent"] == NBSP + "%"
    assert number["currency"] == ["", NBSP + "kr"]
    assert spec["config"]["locale"]["time"]["months"][0] == "januari"


# --------------------------------------------------------------------------- theme and formats


def test_theme_registered_and_enabled():
    assert C.use_theme() == "insats"
    assert alt.theme.active == "insats"
    config = C.theme_config()["config"]
    assert config["range"]["category"] == C.PALETTE
    assert config["axis"]["labelFontSize"] >= 14 and config["title"]["fontSize"] >= 18
    assert_locale({"config": config})


def test_format_value_swedish():
    assert C.format_value(0.125, "andel") == f"12,5{NBSP}%"
    assert C.format_value(1234567, "kr") == f"1{NNBSP}234{NNBSP}567{NBSP}kr"
    assert C.format_value(0.8123, "kvot") == "0,81"
    assert C.format_value(np.nan, "andel") == ""
    assert C.d3_format("andel") == ".1%" and C.d3_format("kr") == "$,.0f"


# --------------------------------------------------------------------------- builders


def test_ranked_bars_spec():
    chart = C.ranked_bars(measures_long(), "erbjudande_andel", focus="B", omraden=OMRADEN)
    assert isinstance(chart, alt.LayerChart)
    spec = chart.to_dict()
    assert_locale(spec)
    assert_swedish(spec)
    assert spec["title"]["text"] == "Andel som erbjudits insats inom 90 dagar"
    bars = layers(spec)[0]
    assert bars["mark"]["type"] == "bar"
    assert bars["encoding"]["x"]["field"] == "varde" and bars["encoding"]["x"]["axis"]["format"] == ".0%"
    # sorted by value, suppressed last; names from omraden
    assert bars["encoding"]["y"]["sort"] == ["Söderby", "Norrby", "Mitten", "Österby", "Västby"]
    assert bars["encoding"]["color"]["condition"]["value"] == C.FOCUS_COLOR
    tips = {t["title"] for t in bars["encoding"]["tooltip"]}
    assert {"Område", "Täljare", "Nämnare", "95 % konfidensintervall"} <= tips
    # the ALLA rule and the Wilson error bars
    marks = [(lay["mark"]["type"] if isinstance(lay["mark"], dict) else lay["mark"]) for lay in layers(spec)]
    assert marks.count("rule") == 2
    rule_rows = [values_of(spec, lay) for lay in layers(spec) if lay["mark"]["type"] == "rule"]
    assert any(r[0].get("varde") == pytest.approx(0.4715) for r in rule_rows)
    rows = {r["omrade_kod"]: r for r in values_of(spec, bars)}
    assert rows["A"]["lo"] == pytest.approx(0.4038, abs=1e-3) and rows["A"]["hi"] == pytest.approx(0.5962, abs=1e-3)
    assert rows["A"]["varde_text"] == f"50,0{NBSP}%"


def test_ranked_bars_suppressed_is_not_zero():
    spec = C.ranked_bars(measures_long(), "erbjudande_andel", omraden=OMRADEN).to_dict()
    bars = layers(spec)[0]
    row = next(r for r in values_of(spec, bars) if r["omrade_kod"] == "C")
    assert row["undertryckt"] is True and row["varde"] is None and row["lo"] is None
    assert row["varde_text"] == SUPPRESSED
    assert "!datum.undertryckt" in json.dumps(bars["transform"])
    text_layer = next(lay for lay in layers(spec) if lay["mark"]["type"] == "text")
    assert text_layer["encoding"]["text"] == {"value": SUPPRESSED}
    assert "datum.undertryckt" in json.dumps(text_layer["transform"])
    assert any(s.startswith(SUPPRESSED + " = ") for s in spec["title"]["subtitle"])


def test_ranked_bars_suppressed_flag_wins_over_leftover_value():
    long = measures_long()
    long.loc[(long["matt"] == "erbjudande_andel") & (long["omrade_kod"] == "C"), ["varde", "taljare", "namnare"]] = [
        0.0,
        0,
        3,
    ]
    spec = C.ranked_bars(long, "erbjudande_andel").to_dict()
    row = next(r for r in values_of(spec, layers(spec)[0]) if r["omrade_kod"] == "C")
    assert row["varde"] is None and row["namnare"] is None


def test_ranked_bars_oe_and_kronor():
    spec = C.ranked_bars(measures_long(), "justerat_utfall_oe", omraden=OMRADEN).to_dict()
    rows = {r["omrade_kod"]: r for r in values_of(spec, layers(spec)[0])}
    assert rows["A"]["lo"] == pytest.approx(0.77) and rows["B"]["hi"] == pytest.approx(1.30)
    subtitle = " ".join(spec["title"]["subtitle"])
    assert "95 % konfidensintervall" in subtitle and "Poisson" not in subtitle  # the method is in the appendix
    spec = C.ranked_bars(measures_long(), "medel_totalt", omraden=OMRADEN).to_dict()
    bars = layers(spec)[0]
    assert bars["encoding"]["x"]["axis"]["format"] == "$,.0f"
    assert {r["varde_text"] for r in values_of(spec, bars)} == {
        f"1{NNBSP}234{NNBSP}567{NBSP}kr",
        f"2{NNBSP}000{NNBSP}000{NBSP}kr",
    }
    assert not any(lay["mark"]["type"] == "rule" and lay["encoding"].get("x2") for lay in layers(spec))


def test_funnel_plot_spec():
    spec = C.funnel_plot(measures_long(), "erbjudande_andel", focus="B", omraden=OMRADEN).to_dict()
    assert_locale(spec)
    assert_swedish(spec)
    funnel, center, points = layers(spec)[:3]
    assert funnel["encoding"]["color"]["title"] == "Kontrollgränser"
    assert funnel["encoding"]["color"]["scale"]["domain"] == [C.PLAIN_LIMITS, C.ADJUSTED_LIMITS]
    assert funnel["encoding"]["strokeDash"]["scale"]["domain"] == ["95 %", "99,8 %"]
    lim = values_of(spec, funnel)
    assert {r["sida"] for r in lim} == {
        f"{side}_{level}_{kind}" for side in ("lo", "hi") for level in ("95", "998") for kind in ("vanlig", "justerad")
    }
    from insats.analysis.overdispersion import funnel_table
    from insats.analysis.stats import funnel_limits

    p0 = 190 / 403
    # the overdispersion of the four published areas (C is suppressed and takes no part)
    ft = funnel_table([50, 62, 30, 45], [100, 100, 100, 100], p0)
    tau2 = ft.attrs["overdispersion"].tau2
    assert tau2 > 0
    for kind, ref in (("vanlig", funnel_limits(p0, [100])), ("justerad", funnel_limits(p0, [100], tau2=tau2))):
        hi95 = next(r["andel"] for r in lim if r["sida"] == f"hi_95_{kind}" and r["n"] == 100)
        assert hi95 == pytest.approx(float(ref["hi_95"].iloc[0]))
    assert values_of(spec, center)[0]["andel"] == pytest.approx(p0)
    pts = values_of(spec, points)
    assert {p["omrade_kod"] for p in pts} == {"A", "B", "D", "E"}  # C suppressed: not a point
    d = next(p for p in pts if p["omrade_kod"] == "D")
    assert d["lage_vanlig"] == "Under 99,8 %-gränsen"
    assert d["lage"] == C.FUNNEL_FLAG_LABELS[ft["flagga_justerad"].iloc[2]] != d["lage_vanlig"]
    assert any("Västby" in s for s in spec["title"]["subtitle"])
    assert any("överspridning" in s for s in spec["title"]["subtitle"])
    assert points["encoding"]["x"]["field"] == "namnare" and funnel["encoding"]["y"]["axis"]["format"] == ".0%"
    # with fewer than three published areas only the plain limits are drawn
    two = measures_long()
    two = two[~((two["matt"] == "erbjudande_andel") & two["omrade_kod"].isin(["D", "E"]))]
    lim2 = values_of(spec2 := C.funnel_plot(two, "erbjudande_andel").to_dict(), layers(spec2)[0])
    assert {r["slag"] for r in lim2} == {C.PLAIN_LIMITS}


def test_utbud_matrix_spec():
    spec = C.utbud_matrix(INSATSER, omraden=OMRADEN, focus="A").to_dict()
    assert_locale(spec)
    assert_swedish(spec)
    rect = layers(spec)[0]
    assert rect["mark"]["type"] == "rect"
    assert rect["encoding"]["x"]["sort"] == [
        "Arbetsträning",
        "Kurs",
        "Matchning",
        "Praktik, privat sektor",
        "Vägledning",
        "Feriejobb",
    ]
    assert rect["encoding"]["y"]["sort"][-1] == "Centralt (hela kommunen)"
    cells = values_of(spec, rect)
    b_kurs = next(c for c in cells if c["omrade_kod"] == "B" and c["kategori"] == "kurs")
    assert b_kurs["varde"] == 32 and b_kurs["kategori_namn"] == "Kurs"
    assert len(cells) == 6 * 6  # every area × category, zeros included
    assert {t["title"] for t in rect["encoding"]["tooltip"]} >= {"Område", "Kategori", "Platser"}


def test_spending_bars_spec():
    spec = C.spending_bars(MEDEL, omraden=OMRADEN, ar=2024).to_dict()
    assert_locale(spec)
    assert_swedish(spec)
    enc = spec["encoding"]
    assert enc["x"]["axis"]["format"] == "$,.0f" and enc["x"]["stack"] == "zero"
    domain = enc["color"]["scale"]["domain"]
    assert domain[0] == "Feriejobb" and enc["color"]["scale"]["range"][0] == C.CATEGORY_COLORS["feriejobb"]
    assert "Administration" in domain
    rows = values_of(spec)
    assert {r["ordning"] for r in rows if r["kategori"] == "feriejobb"} == {0}
    assert sum(r["belopp"] for r in rows if r["omrade_kod"] == "A") == pytest.approx(5.3e6)  # 2023 left out
    assert enc["opacity"]["title"] == "Räknas som insats"
    norm = C.spending_bars(MEDEL, normalize=True).to_dict()
    assert norm["encoding"]["x"]["field"] == "andel" and norm["encoding"]["x"]["axis"]["format"] == ".0%"


def test_time_series_spec():
    frame = pd.DataFrame(
        {
            "manad": pd.date_range("2022-01-01", periods=24, freq="MS"),
            "omrade": ["Norrby"] * 12 + ["Söderby"] * 12,
            "andel": np.linspace(0.3, 0.5, 24),
        }
    )
    chart = C.time_series(
        frame,
        "manad",
        "andel",
        break_date="2022-07-01",
        color="omrade",
        focus="Söderby",
        unit="andel",
        y_title="Andel i arbete",
        trend=True,
    )
    spec = chart.to_dict()
    assert_locale(spec)
    assert_swedish(spec)
    rule = next(lay for lay in layers(spec) if lay["mark"]["type"] == "rule")
    assert values_of(spec, rule)[0]["manad"] == "2022-07-01" and rule["encoding"]["x"]["type"] == "temporal"
    line = layers(spec)[0]
    assert line["encoding"]["y"]["axis"]["format"] == ".0%" and line["encoding"]["x"]["axis"]["format"] == "%b %Y"
    assert "1 juli 2022" in spec["title"]["subtitle"][0]
    assert any("regression" in json.dumps(lay.get("transform", [])) for lay in layers(spec))


def test_flow_steps_suppresses_small_counts():
    spec = C.flow_steps({"ansokan": 1234, "bedomd": 1000, "arbetsformaga": 612, "insats_90": 3}).to_dict()
    assert_locale(spec)
    assert_swedish(spec)
    rows = values_of(spec, layers(spec)[0])
    assert [r["steg_namn"] for r in rows] == [
        "Ansökan",
        "Bedömd",
        "Hel eller delvis arbetsförmåga",
        "Insats inom 90 dagar",
    ]
    last = rows[-1]
    assert last["undertryckt"] is True and last["antal"] is None and last["text"] == SUPPRESSED
    assert rows[1]["text"] == f"1{NNBSP}000 (81,0{NBSP}%)"
    assert any(s.startswith(SUPPRESSED + " = ") for s in spec["title"]["subtitle"])


def test_builders_are_composable():
    a = C.ranked_bars(measures_long(), "erbjudande_andel")
    b = C.flow_steps({"ansokan": 100, "bedomd": 80})
    both = alt.vconcat(a, b).properties(title="Sammanställning")
    assert "vconcat" in both.to_dict()


# --------------------------------------------------------------------------- files


def test_save_png_svg_pdf_json(tmp_path):
    chart = C.ranked_bars(measures_long(), "erbjudande_andel", omraden=OMRADEN)
    png = C.save(chart, tmp_path / "a.png")
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    svg = C.save(chart, tmp_path / "a.svg").read_text(encoding="utf-8")
    assert svg.lstrip().startswith("<svg") and "Söderby" in svg
    assert f"20{NBSP}%" in svg  # axis label in Swedish format
    assert C.save(chart, tmp_path / "a.pdf").read_bytes()[:4] == b"%PDF"
    assert json.loads((C.save(chart, tmp_path / "a.json")).read_text(encoding="utf-8"))["config"]["locale"]
    with pytest.raises(UsageError):
        C.save(chart, tmp_path / "a.gif")


def test_save_uses_swedish_locale_even_under_another_theme(tmp_path):
    chart = C.ranked_bars(measures_long(), "medel_totalt")
    try:
        alt.theme.enable("default")
        svg = C.save(chart, tmp_path / "b.svg").read_text(encoding="utf-8")
    finally:
        C.use_theme()
    assert f"{NNBSP}000{NNBSP}000{NBSP}kr" in svg


def test_html_is_self_contained(tmp_path):
    page = C.save(C.flow_steps({"ansokan": 100, "bedomd": 80}), tmp_path / "c.html").read_text(encoding="utf-8")
    assert "window.insatsVega" in page and len(page) > 500_000  # the bundle is inline
    assert external_references(page) == []
    assert "cdn.jsdelivr" not in page and "unpkg" not in page


def test_renderer_output_carries_bundle_once():
    offline._STATE["bundle_shown"] = False
    try:
        C.enable_offline(display_bundle=False)
        first = alt.renderers.get()(C.ranked_bars(measures_long(), "erbjudande_andel").to_dict())
        second = alt.renderers.get()(C.ranked_bars(measures_long(), "erbjudande_andel").to_dict())
    finally:
        alt.renderers.enable("default")
    assert "window.insatsVega = " in first["text/html"] or "insatsVega={" in first["text/html"]
    assert len(second["text/html"]) < 100_000 < len(first["text/html"])
    assert external_references(first["text/html"]) == []


# --------------------------------------------------------------------------- browser


@pytest.mark.browser
def test_html_page_draws_offline(tmp_path):
    chart = C.ranked_bars(measures_long(), "erbjudande_andel", omraden=OMRADEN)
    path = C.save(chart, tmp_path / "d.html")
    with offline_page() as page:
        page.goto(path.as_uri())
        assert wait_for_charts(page) == 1
        texts = chart_texts(page)
        assert page.blocked == [], f"requests left the machine: {page.blocked}"
        assert page.console_errors == []
    assert "Söderby" in texts and SUPPRESSED in texts
    assert f"20{NBSP}%" in texts  # d3 locale applied in the browser too


@pytest.mark.browser
def test_chart_menu_saves_images_from_the_keyboard(tmp_path):
    """Tab to the chart's menu, Enter opens it, Tab to *Spara som SVG* / *Spara som PNG*, Enter saves the
    chart as that image (vega-embed alone makes the image on mousedown: Enter saved the page as .png)."""
    path = C.save(C.ranked_bars(measures_long(), "erbjudande_andel", omraden=OMRADEN), tmp_path / "d.html")
    with offline_page() as page:
        page.goto(path.as_uri())
        wait_for_charts(page)
        page.keyboard.press("Tab")
        assert page.evaluate("document.activeElement.getAttribute('aria-label')") == offline.MENU_LABEL
        page.keyboard.press("Enter")
        assert page.evaluate("document.activeElement.parentElement.open")
        saved = {}
        for _ in range(2):
            page.keyboard.press("Tab")
            with page.expect_download(timeout=10_000) as info:
                page.keyboard.press("Enter")
            saved[info.value.suggested_filename] = Path(info.value.path()).read_bytes()
        assert page.console_errors == []
    assert sorted(saved) == ["visualization.png", "visualization.svg"]
    assert saved["visualization.png"].startswith(b"\x89PNG\r\n\x1a\n")
    assert b"<svg" in saved["visualization.svg"][:300] and "Söderby".encode() in saved["visualization.svg"]


NOTEBOOK_SETUP = """\
import numpy as np, pandas as pd
from insats import charts
charts.enable_offline()
"""

NOTEBOOK_CHARTS = """\
long = pd.DataFrame({"matt": ["medel_totalt"] * 3, "omrade_kod": ["A", "B", "ALLA"],
                     "varde": [1234567.0, 2000000.0, 3234567.0], "taljare": np.nan, "namnare": np.nan,
                     "undertryckt": False})
charts.ranked_bars(long, "medel_totalt", omraden={"A": "Norrby", "B": "Söderby"})
"""

NOTEBOOK_SECOND = """\
charts.flow_steps({"ansokan": 1234, "bedomd": 1000, "arbetsformaga": 612, "insats_90": 3})
"""


@pytest.mark.browser
@pytest.mark.slow
def test_notebook_export_draws_offline(tmp_path):
    import nbformat
    from nbclient import NotebookClient

    from tests.support.browser import require_chromium

    require_chromium()
    nb = nbformat.v4.new_notebook(
        cells=[
            nbformat.v4.new_markdown_cell("# Rapport\n\nTvå diagram utan internet."),
            nbformat.v4.new_code_cell(NOTEBOOK_SETUP),
            nbformat.v4.new_code_cell(NOTEBOOK_CHARTS),
            nbformat.v4.new_code_cell(NOTEBOOK_SECOND),
        ]
    )
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    NotebookClient(nb, timeout=180, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}}).execute()
    outputs = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs]
    assert not [o for o in outputs if o.output_type == "error"]
    htmls = [o["data"]["text/html"] for o in outputs if "data" in o and "text/html" in o["data"]]
    assert len(htmls) == 3  # the bundle once, then two light chart outputs
    assert sum("insatsVega={" in h or "insatsVega = {" in h for h in htmls) == 1

    out = tmp_path / "rapport.html"
    body = export_report(nb_path(nb, tmp_path), out).read_text(encoding="utf-8")
    assert "import numpy as np" not in body  # no code in the report
    assert external_references(body) == []
    with offline_page() as page:
        page.goto(out.as_uri())
        assert wait_for_charts(page, 2) == 2
        texts = chart_texts(page)
        assert page.blocked == [], f"requests left the machine: {page.blocked}"
    assert any(t.endswith(f"000{NBSP}kr") for t in texts)  # axis in kronor, Swedish grouping
    assert SUPPRESSED in texts and "Norrby" in texts


VOILA_TEMPLATE_CDN = ("https://cdn.jsdelivr.net/npm/@fortawesome/",)
"""Voila's own lab template links Font Awesome CSS from a CDN (its JS bundles the font anyway);
that is Voila's page, not the charts, and is for the dashboard set-up to remove."""


@pytest.mark.browser
@pytest.mark.slow
def test_voila_draws_offline_also_inside_output_widget(tmp_path):
    import socket
    import subprocess
    import time

    import nbformat
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    from insats.dashboards.serve import free_port
    from tests.support.browser import require_chromium

    require_chromium()
    cells = [
        nbformat.v4.new_code_cell(
            "import ipywidgets as w\nfrom IPython.display import display\n"
            "from insats import charts\ncharts.enable_offline()"
        ),
        nbformat.v4.new_code_cell(
            "charts.flow_steps({'ansokan': 1234, 'bedomd': 1000, 'arbetsformaga': 612, 'insats_90': 3})"
        ),
        nbformat.v4.new_code_cell(
            "out = w.Output()\nwith out:\n"
            "    display(charts.flow_steps({'ansokan': 200, 'bedomd': 150}, title='I widget'))\n"
            "out"
        ),
    ]
    nb = nbformat.v4.new_notebook(cells=cells)
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(nb, tmp_path / "panel.ipynb")
    port = free_port()
    log = tmp_path / "voila.log"
    voila = Path(sys.executable).parent / "voila"
    with open(log, "wb") as fh:
        proc = subprocess.Popen(
            [
                *(str(voila), "panel.ipynb", "--no-browser", f"--port={port}", "--Voila.ip=127.0.0.1"),
                # the dashboard server's kernels: their clients do not hang on a lost wake-up
                # (insats.kernelclient; plain Voila stalled at "Executing 2 of 3" on a busy CI machine)
                "--VoilaConfiguration.multi_kernel_manager_class=insats.dashboards.server.ViewerKernelManager",
            ],
            cwd=tmp_path,
            stdout=fh,
            stderr=subprocess.STDOUT,
        )
    try:
        deadline = time.time() + 60
        while time.time() < deadline and proc.poll() is None:
            with socket.socket() as s:
                if s.connect_ex(("127.0.0.1", port)) == 0:
                    break
            time.sleep(0.3)
        assert proc.poll() is None, "Voila startade inte:\n" + log.read_text(errors="replace")[-3000:]
        with offline_page() as page:
            page.goto(f"http://127.0.0.1:{port}/", timeout=90_000, wait_until="commit")
            try:
                wait_for_charts(page, 2, timeout=90_000)
            except PlaywrightTimeout:
                shown = page.evaluate("() => document.body ? document.body.innerText.slice(0, 3000) : ''")
                raise AssertionError(
                    f"diagrammen ritades inte inom 90 s ({page.evaluate(DRAWN_JS)} av 2)\n"
                    f"sidan visar: {shown}\nkonsolfel: {page.console_errors}\n"
                    f"Voilas logg:\n{log.read_text(errors='replace')[-4000:]}"
                ) from None
            texts = chart_texts(page)
            blocked = list(page.blocked)
    finally:
        proc.terminate()
        proc.wait(timeout=30)
    assert "I widget" in texts and SUPPRESSED in texts
    from_charts = [u for u in blocked if not u.startswith(VOILA_TEMPLATE_CDN)]
    assert from_charts == [], f"requests left the machine: {from_charts}"


def nb_path(nb, folder):
    """Write an executed notebook node to a file (``export_report`` reads notebooks from disk)."""
    import nbformat

    path = folder / "rapport.ipynb"
    nbformat.write(nb, path)
    return path
