"""Issue 18 item 1: a report run alone by hand gives the same output as inside ``insats run``.

The real ``notebooks/omradesprofil.ipynb`` runs for one district of a small generated Sundbyberg
study twice: with ``papermill.execute_notebook`` and the parameters the params file gives it (as a
user would), and through ``run_batch``. Every table and text the two notebooks display must be
the same, apart from run times, temporary paths and dates."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import nbformat
import pytest

from insats.intake.synth import generate
from insats.runner.batch import run_batch
from insats.runner.config import load_params

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parents[2]
PROFILE = REPO / "notebooks" / "omradesprofil.ipynb"
MIN_TABLES = 8
"""At least this many HTML tables must be compared (12 today: the key table, trends, insatser, medel…)."""

_DATE = re.compile(r"\b\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?([+-]\d{2}:?\d{2}|Z)?)?\b")
_SECONDS = re.compile(r"\b\d+([.,]\d+)?\s*(s|sekunder|ms)\b")
_IDS = re.compile(r"\b(id|for|aria-labelledby|aria-describedby|href)=\"[^\"]*\"")
_CHART = re.compile(r"\binsats-chart-[0-9a-f]{6,}\b")
_ALTAIR = re.compile(r"\b(param|view|selector)_\d+\b")


def _normal(text: str, paths: list[Path]) -> str:
    for p in paths:
        text = text.replace(str(p), "<TMP>")
    text = _DATE.sub("<DATUM>", text)
    text = _SECONDS.sub("<TID>", text)
    text = _CHART.sub("insats-chart-<ID>", text)  # a fresh element id per drawing
    text = _ALTAIR.sub(r"\1_<N>", text)  # Altair numbers its names per kernel
    return _IDS.sub(lambda m: f'{m.group(1)}="<ID>"', text)


def _displayed(path: Path, paths: list[Path]) -> list[tuple[str, str]]:
    """(mime type, normalised content) of every output of every code cell, in order."""
    nb = nbformat.read(path, as_version=4)
    out: list[tuple[str, str]] = []
    for cell in nb.cells:
        if cell.cell_type != "code" or "injected-parameters" in cell.metadata.get("tags", []):
            continue
        for o in cell.outputs:
            assert o.output_type != "error", "".join(o.get("traceback", []))
            if o.output_type == "stream":
                out.append((f"stream/{o.name}", _normal(o.text, paths)))
            else:
                data = o.get("data", {})
                for mime in ("text/html", "text/markdown", "text/plain"):
                    if mime in data:
                        out.append((mime, _normal(str(data[mime]), paths)))
                        break
    return out


def test_profile_by_hand_equals_the_run(tmp_path):
    import papermill

    root = tmp_path / "projekt"
    (root / "params").mkdir(parents=True)
    (root / "notebooks").mkdir()
    study = generate("sundbyberg", root / "data" / "s", seed=11, persons=700)
    shutil.copy(PROFILE, root / "notebooks" / "omradesprofil.ipynb")
    code = "hallonbergen"
    params = root / "params" / "hand.yaml"
    params.write_text(
        'data_dir: data/s\nfran: "2015-01"\ntill: "2016-12"\nmin_cell: 5\n'
        f'korning:\n  namn: hand\n  notebooks: []\n  profil: omradesprofil\n  omraden: ["{code}"]\n'
        "  timeout: 900\n  pdf: false\n  publicering: false\n",
        encoding="utf-8",
    )
    cfg = load_params(params)
    result = run_batch(cfg, workers=1)
    assert result.exit_code == 0, result.records
    (record,) = [r for r in result.records if r["status"] == "ok"]
    ran = cfg.out_dir / f"{record['namn']}.ipynb"

    # by hand: papermill with the parameters the params file gives the notebook, the workbook elsewhere
    by_hand = tmp_path / "hand" / "omradesprofil_hallonbergen.ipynb"
    by_hand.parent.mkdir()
    given = {
        "data_dir": str(study.resolve()),
        "omrade": code,
        "fran": "2015-01",
        "till": "2016-12",
        "min_cell": 5,
        "excel_fil": str(by_hand.with_suffix(".xlsx")),
    }
    injected = nbformat.read(ran, as_version=4).metadata.papermill["parameters"]
    assert {k: v for k, v in injected.items() if k != "excel_fil"} == {
        k: v for k, v in given.items() if k != "excel_fil"
    }
    assert Path(injected["excel_fil"]).suffix == ".xlsx"
    papermill.execute_notebook(
        str(root / "notebooks" / "omradesprofil.ipynb"),
        str(by_hand),
        parameters=given,
        cwd=str(root / "notebooks"),
        kernel_name="python3",
        progress_bar=False,
    )
    assert by_hand.with_suffix(".xlsx").is_file() and Path(injected["excel_fil"]).is_file()

    paths = [by_hand.parent, cfg.out_dir, study.resolve(), tmp_path.resolve(), tmp_path]
    a, b = _displayed(by_hand, paths), _displayed(ran, paths)
    tables = [t for m, t in a if m == "text/html" for _ in range(t.count("<table"))]
    assert len(tables) >= MIN_TABLES, f"only {len(tables)} tables displayed"
    assert "Sundbyberg" in "".join(t for _, t in a) or "sundbyberg" in "".join(t for _, t in a).lower()
    assert len(a) == len(b)
    for i, (x, y) in enumerate(zip(a, b)):
        assert x == y, f"output {i} differs ({x[0]})"
