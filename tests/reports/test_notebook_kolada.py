"""The Kolada section renders from the cache with no network: fetch once from a local server
serving recorded responses, then run the notebook offline and check it used no request."""

import json
from pathlib import Path

import papermill as pm
import pytest

from insats.intake.kolada import KoladaClient
from tests.intake.test_kolada import server  # noqa: F401  (the recorded-response server fixture)
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


@pytest.mark.slow
def test_notebook_renders_offline_from_cache(server, tmp_path):  # noqa: F811  (the fixture imported above)
    cache = tmp_path / "cache"
    kpis, munis, years = ["N03702", "N03703"], ["0180", "1280", "1480"], "2012-2016"
    fetched = KoladaClient(base_url=server.base, cache_dir=cache, min_interval=0).values(kpis, munis, years)
    assert len(fetched) > 0
    before = len(server.log)
    out = tmp_path / "kolada.ipynb"
    pm.execute_notebook(
        str(NOTEBOOK),
        str(out),
        cwd=str(NOTEBOOK.parent),
        kernel_name="python3",
        progress_bar=False,
        parameters={
            "kommun": "0180",
            "jamforelse": ["1280", "1480"],
            "nyckeltal": kpis,
            "ar": years,
            "offline": True,
            "cache_dir": str(cache),
            "base_url": server.base,
        },
    )
    assert len(server.log) == before, "the notebook must not send a request in offline mode"
    text = _outputs(out)
    assert "Källa: Kolada" in text and "hämtade" in text
    assert "Inga Koladavärden" not in text
    assert text.count('class="insats-chart"') == len(kpis)  # one chart per KPI
    # the comparison table holds Stockholm's own value for a year, formatted the Swedish way
    stockholm_2012 = fetched[
        (fetched.kpi == "N03702") & (fetched.kommun_kod == "0180") & (fetched.ar == 2012) & (fetched.kon == "T")
    ]["varde"].iloc[0]
    assert f"{stockholm_2012:.1f}".replace(".", ",") in text


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
