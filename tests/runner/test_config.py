"""Params files of batch runs (insats.runner.config): paths resolved, errors naming the key."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from insats.runner.config import ConfigError, load_params, resolve
from tests.runner.test_batch import make_project


def test_load_params_resolves_paths_and_areas(tmp_path):
    params = make_project(tmp_path)
    cfg = load_params(params)
    assert cfg.root == tmp_path.resolve()
    assert cfg.notebooks == [tmp_path.resolve() / "notebooks" / "studie.ipynb"]
    assert cfg.profile.name == "profil.ipynb"
    assert cfg.out_dir == tmp_path.resolve() / "reports" / "test"
    nb_params = cfg.notebook_parameters(omrade="01")
    assert nb_params["data_dir"] == str(tmp_path.resolve() / "data" / "s")
    assert Path(nb_params["data_dir"]).is_absolute()
    assert nb_params["omrade"] == "01" and "korning" not in nb_params
    assert resolve("/abs/x", tmp_path) == Path("/abs/x")


@pytest.mark.parametrize(
    "korning, extra, key",
    [
        ("  okand: 1", "", "korning.okand"),
        ("", 'fran: "2012-13"', "fran"),
        ("  cell_timeout: -1", "", "korning.cell_timeout"),
    ],
)
def test_load_params_errors_name_the_key(tmp_path, korning, extra, key):
    params = make_project(tmp_path, korning=korning)
    if extra:
        params.write_text(params.read_text().replace('fran: "2012-01"', extra))
    with pytest.raises(ConfigError, match=re.escape(key)):
        load_params(params)


def test_load_params_missing_notebook_and_section(tmp_path):
    params = make_project(tmp_path)
    params.write_text(params.read_text().replace("profil: profil", "profil: finnsinte"))
    with pytest.raises(ConfigError, match=r"finnsinte.*finns inte"):
        load_params(params)
    params.write_text("data_dir: data/s\n")
    with pytest.raises(ConfigError, match="korning"):
        load_params(params)


def _with_kolada(tmp_path, monkeypatch, *, cached: str | None, korning: str = ""):
    """A project with the real Kolada notebook, a study whose studie.json names municipality 0180,
    and a Kolada cache (INSATS_KOLADA_CACHE) holding an answer for ``cached`` (or none)."""
    import json
    import shutil

    from tests.support import ROOT

    params = make_project(tmp_path, korning=korning)
    shutil.copy(ROOT / "notebooks" / "kolada.ipynb", tmp_path / "notebooks" / "kolada.ipynb")
    (tmp_path / "data" / "s" / "studie.json").write_text(json.dumps({"kommun_kod": "0180"}), encoding="utf-8")
    cache = tmp_path / "kolada-cache"
    cache.mkdir()
    monkeypatch.setenv("INSATS_KOLADA_CACHE", str(cache))
    if cached is not None:
        url = f"https://api.kolada.se/v3/data/kpi/N31807/municipality/1280,{cached}/year/2013"
        (cache / "a.json").write_text(json.dumps({"url": url, "hamtad": "2026-01-01", "response": {}}))
    # an answer that is not values (metadata), naming the code only in its query, never counts
    (cache / "b.json").write_text(json.dumps({"url": "https://api.kolada.se/v3/municipality?id=0180", "response": {}}))
    return params


def test_kolada_joins_the_run_when_its_values_are_cached(tmp_path, monkeypatch):
    cfg = load_params(_with_kolada(tmp_path, monkeypatch, cached="0180"))
    assert [nb.stem for nb in cfg.notebooks] == ["studie", "kolada"] and cfg.kolada_note is None
    assert cfg.parameters["kommun"] == "0180" and cfg.parameters["offline"] is True
    assert {"kommun", "offline"} <= set(cfg.declared[cfg.notebooks[1]])


@pytest.mark.parametrize(
    "cached, korning, says",
    [
        (None, "", "inga sparade nyckeltal från Kolada för kommunen (kod 0180)"),
        ("1480", "", "inga sparade nyckeltal från Kolada för kommunen (kod 0180)"),
        ("0180", "  kolada: false", "avstängd i parameterfilen"),
    ],
)
def test_kolada_stays_out_and_the_run_says_why(tmp_path, monkeypatch, cached, korning, says):
    cfg = load_params(_with_kolada(tmp_path, monkeypatch, cached=cached, korning=korning))
    assert [nb.stem for nb in cfg.notebooks] == ["studie"]
    assert says in cfg.kolada_note and "kommun" not in cfg.parameters


@pytest.mark.parametrize(("value", "ok"), [("8", True), ("5", True), ("3", False), ("5.5", False), ("ja", False)])
def test_skyddsniva_is_a_whole_number_at_least_min_cell(tmp_path, value, ok):
    """The protection level is a parameter beside min_cell (antaganden R6): below min_cell an
    interval [0, min_cell − 1] would say that a hidden count is small."""
    params = make_project(tmp_path, extra=f"skyddsniva: {value}")
    nb = tmp_path / "notebooks" / "studie.ipynb"
    nb.write_text(
        nb.read_text(encoding="utf-8").replace('"min_cell = 5\\n",', '"min_cell = 5\\n",\n    "skyddsniva = None\\n",'),
        encoding="utf-8",
    )
    if ok:
        assert load_params(params).parameters["skyddsniva"] == int(value)
    else:
        with pytest.raises(ConfigError, match="skyddsniva") as err:
            load_params(params)
        assert "min_cell" in str(err.value)
