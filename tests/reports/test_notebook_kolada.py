"""The Kolada section renders from the cache with no network: fetch once from a local server
serving recorded responses, then run the notebook offline (once for the module) and check it used
no request, and that its report page passes axe-core's WCAG 2.1 A/AA rules in headless Chromium."""

import json
from pathlib import Path

import papermill as pm
import pytest

from insats.intake.kolada import KoladaClient
from tests.intake.test_kolada import serve_fake
from tests.support import ROOT

NOTEBOOK = ROOT / "notebooks" / "kolada.ipynb"


def _outputs(nb_path: Path) -> str:
    nb = json.loads(nb_path.read_text(encoding="utf-8"))
    texts = []
    for cell in nb["cells"]:
        for out in cell.get("outputs", []):
            for key in ("text/markdown", "text/plain", "text/html"):
                val = out.get("data", {}).get(key) or (out.get("text") if key == "text/plain" else None)
                if val:
                    texts.append("".join(val) if isinstance(val, list) else val)
    return "\n".join(texts)


KPIS, MUNIS, YEARS = ["N03702", "N03703"], ["0180", "1280", "1480"], "2012-2016"


@pytest.fixture(scope="module")
def rendered(tmp_path_factory) -> dict:
    """The notebook run once offline from a cache filled from the recorded-response server; the
    server's request count before and after the run, the values fetched, the executed notebook."""
    root = tmp_path_factory.mktemp("kolada")
    cache = root / "cache"
    with serve_fake() as server:
        fetched = KoladaClient(base_url=server.base, cache_dir=cache, min_interval=0).values(KPIS, MUNIS, YEARS)
        before = len(server.log)
        out = root / "kolada.ipynb"
        pm.execute_notebook(
            str(NOTEBOOK),
            str(out),
            cwd=str(NOTEBOOK.parent),
            kernel_name="python3",
            progress_bar=False,
            parameters={
                "kommun": "0180",
                "jamforelse": ["1280", "1480"],
                "nyckeltal": KPIS,
                "ar": YEARS,
                "offline": True,
                "cache_dir": str(cache),
                "base_url": server.base,
            },
        )
        after = len(server.log)
    return {"fetched": fetched, "before": before, "after": after, "notebook": out}


def test_notebook_shows_text_through_the_one_renderer():
    """Kolada's note (with text from the server and the cache) is shown by ``render.show``, which
    escapes it, never as raw Markdown (``IPython.display.Markdown`` passes HTML through); the
    notebook is stored without outputs."""
    nb = json.loads(NOTEBOOK.read_text(encoding="utf-8"))
    code = "\n".join("".join(c["source"]) for c in nb["cells"] if c["cell_type"] == "code")
    assert "Markdown" not in code and "HTML(" not in code
    assert "from insats.reports.render import show" in code and "show(notis)" in code
    assert all(
        not c.get("outputs") and c.get("execution_count") is None for c in nb["cells"] if c["cell_type"] == "code"
    )


@pytest.mark.slow
def test_notebook_renders_offline_from_cache(rendered):
    fetched = rendered["fetched"]
    assert len(fetched) > 0
    assert rendered["after"] == rendered["before"], "the notebook must not send a request in offline mode"
    text = _outputs(rendered["notebook"])
    assert "Källa: Kolada" in text and "hämtade" in text
    assert "Inga Koladavärden" not in text
    assert text.count('class="insats-chart"') == len(KPIS)  # one chart per KPI
    # the comparison table holds Stockholm's own value for a year, formatted the Swedish way
    stockholm_2012 = fetched[
        (fetched.kpi == "N03702") & (fetched.kommun_kod == "0180") & (fetched.ar == 2012) & (fetched.kon == "T")
    ]["varde"].iloc[0]
    assert f"{stockholm_2012:.1f}".replace(".", ",") in text


@pytest.mark.slow
@pytest.mark.browser
def test_report_page_is_accessible(rendered, tmp_path):
    """The Kolada page as a reader opens it: Swedish, one h1, every chart drawn with its reading, and
    axe-core (WCAG 2.1 A/AA) finds nothing serious or critical; nothing fetched from outside."""
    from insats.reports.export import export_report
    from tests.support.axe import assert_accessible
    from tests.support.browser import offline_page, wait_for_charts

    html = export_report(rendered["notebook"], tmp_path / "kolada.html")
    with offline_page() as page:
        page.goto(html.as_uri())
        assert wait_for_charts(page, len(KPIS), timeout=60_000) == len(KPIS)
        assert page.evaluate("document.documentElement.lang") == "sv"
        assert page.evaluate("document.querySelectorAll('h1').length") == 1
        assert_accessible(page, "i Kolada-jämförelsen")
        assert page.evaluate("document.querySelectorAll('figcaption.insats-lasning').length") == len(KPIS)
        assert page.blocked == []


@pytest.mark.slow
def test_notebook_explains_an_empty_cache(tmp_path):
    out = tmp_path / "kolada.ipynb"
    pm.execute_notebook(
        str(NOTEBOOK),
        str(out),
        cwd=str(NOTEBOOK.parent),
        kernel_name="python3",
        progress_bar=False,
        parameters={"offline": True, "cache_dir": str(tmp_path / "tom")},
    )
    text = _outputs(out)
    assert "Inga Koladavärden" in text and "insats kolada fetch" in text
